"""Fit the example table, sample, save and reload the model, and write a report.

Run: ``python examples/fit_and_sample.py [--epochs N] [--out DIR]``. With the defaults it takes
about half a minute on 2 cores. The table is the one shipped with tabvae (modeldata's
``credit_data``: 4,454 credit applications).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from tabvae import TabularVAE
from tabvae.demo import demo_table
from tabvae.io import split_holdout
from tabvae.report import report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, help="most passes over the rows (default: tabvae's)")
    parser.add_argument("--out", type=Path, default=Path("example-output"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    # Keep a fifth of the rows aside: the report's privacy section compares against them.
    train, holdout = split_holdout(demo_table(), 0.2, seed=0)
    params = {"epochs": args.epochs} if args.epochs else {}
    model = TabularVAE(random_state=0, **params).fit(train)
    print(f"fitted {len(train)} rows in {model.epochs_run_} passes")

    synthetic = model.sample(len(train), seed=1)
    assert list(synthetic.columns) == list(train.columns)
    assert synthetic.dtypes.equals(train.dtypes)
    print(synthetic.head())

    # A saved model is Keras weights plus JSON: no pickle, no training row.
    path = model.save(args.out / "credit_model")
    again = TabularVAE.load(path).sample(len(train), seed=1)
    assert again.equals(synthetic), "a reloaded model draws the same rows for the same seed"

    results = report(
        train, synthetic, holdout=holdout, target="Status", output=args.out / "report.html"
    )
    for section, verdict in results["summary"].items():
        print(f"{section:>9}: {verdict['level']}")
    print(f"wrote {args.out / 'report.html'}")


if __name__ == "__main__":
    main()
