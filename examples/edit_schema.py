"""Infer a schema, edit it as a user would, and fit with the edited schema.

Run: ``python examples/edit_schema.py [--epochs N] [--out DIR]``. The schema is a JSON file
(validated by ``schemas/table-schema.v1.json``): here ``Time`` (a loan's term in months, one
of a few values) becomes a category and ``Records`` is left out of the synthetic rows.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tabvae import Schema, TabularVAE, infer_schema
from tabvae.demo import demo_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, help="most passes over the rows (default: tabvae's)")
    parser.add_argument("--out", type=Path, default=Path("example-output"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    df = demo_table()
    path = args.out / "schema.json"
    infer_schema(df).to_json(path)
    document = json.loads(path.read_text())
    for column in document["columns"]:
        print(f"{column['name']:>10}: {column['kind']}")

    # The edits a user makes in the JSON file; fields left out are filled from the data.
    for column in document["columns"]:
        if column["name"] == "Time":
            column["kind"] = "categorical"
            for numeric_field in ("min", "max", "decimals"):
                column.pop(numeric_field, None)
        if column["name"] == "Records":
            column["exclude"] = True
    path.write_text(json.dumps(document, indent=2))

    params = {"epochs": args.epochs} if args.epochs else {}
    model = TabularVAE(random_state=0, **params).fit(df, schema=Schema.from_json(path))
    synthetic = model.sample(1000, seed=0)
    print(model.schema_["Time"].kind, sorted(synthetic["Time"].unique().tolist()))
    print("Records in the synthetic rows:", "Records" in synthetic.columns)


if __name__ == "__main__":
    main()
