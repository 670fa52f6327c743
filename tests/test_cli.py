"""The command line, driven as a user would: files in, files out, one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner

from tabvae.cli import main

FAST = ["--epochs", "2", "--latent-dim", "4", "--seed", "0"]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, mixed_frame):
    folder = tmp_path_factory.mktemp("cli")
    mixed_frame.to_csv(folder / "people.csv", index=False)
    mixed_frame.to_parquet(folder / "people.parquet", index=False)
    return folder


@pytest.fixture(scope="module")
def model_path(workspace):
    result = CliRunner().invoke(
        main, ["fit", str(workspace / "people.parquet"), "-o", str(workspace / "model"), *FAST]
    )
    assert result.exit_code == 0, result.output
    return workspace / "model"


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def test_every_command_has_help_with_an_example():
    for command in [
        [],
        ["schema", "infer"],
        ["fit"],
        ["sample"],
        ["demo"],
        ["report"],
        ["transfer"],
        ["impute"],
    ]:
        result = run(*command, "--help")
        assert result.exit_code == 0
        assert "Example" in result.output


def test_schema_infer(workspace):
    result = run("schema", "infer", workspace / "people.csv", "-o", workspace / "schema.json")
    assert result.exit_code == 0, result.output
    schema = json.loads((workspace / "schema.json").read_text())
    assert [c["name"] for c in schema["columns"]][:3] == ["customer_id", "age", "income"]
    printed = run("schema", "infer", workspace / "people.parquet")
    assert json.loads(printed.stdout)["columns"][0]["kind"] == "id"


def test_fit_and_sample_csv_and_parquet(workspace, model_path):
    for name in ["out.csv", "out.parquet"]:
        result = run("sample", model_path, "-n", 50, "-o", workspace / name, "--seed", 1)
        assert result.exit_code == 0, result.output
    from_csv = pd.read_csv(workspace / "out.csv")
    from_parquet = pd.read_parquet(workspace / "out.parquet")
    assert len(from_csv) == 50 and list(from_parquet.columns) == list(from_csv.columns)
    assert from_parquet["plan"].dtype == "category"


def test_fit_with_an_edited_schema(workspace):
    schema = json.loads(run("schema", "infer", workspace / "people.csv").stdout)
    for column in schema["columns"]:
        if column["name"] == "score":
            column["exclude"] = True
    (workspace / "edited.json").write_text(json.dumps(schema))
    result = run(
        "fit",
        workspace / "people.csv",
        "--schema",
        workspace / "edited.json",
        "-o",
        workspace / "edited.zip",
        *FAST,
    )
    assert result.exit_code == 0, result.output
    run("sample", workspace / "edited.zip", "-n", 5, "-o", workspace / "edited.csv")
    assert "score" not in pd.read_csv(workspace / "edited.csv").columns


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (None, "missing.csv", "no such file"),
        ("", "empty.csv", "empty"),
        ("a,b\n", "header_only.csv", "no rows"),
        ("a,b\n1,2\n", "one_row.csv", "one row"),
        ("a,a\n1,2\n3,4\n", "dupes.csv", "duplicate column"),
        ("a,b\n1,inf\n2,3\n3,4\n", "inf.csv", "infinite"),
        ("a,b\n1,2\n", "table.xlsx", "extension"),
    ],
)
def test_bad_data_gets_a_one_line_error(tmp_path, content, name, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
    for command in (["fit", path, "-o", tmp_path / "m", *FAST], ["schema", "infer", path]):
        result = run(*command)
        assert result.exit_code == 1
        assert message in result.output
        assert "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1


def test_a_semicolon_csv_with_decimal_commas_reads_as_numbers(tmp_path):
    # As spreadsheet programs write CSV where the decimal mark is a comma.
    lines = ["height;weight;city"] + [f"1,{i % 9 + 1};{60 + i % 17};c{i % 3}" for i in range(30)]
    path = tmp_path / "people.csv"
    path.write_text("\n".join(lines) + "\n")
    schema = json.loads(run("schema", "infer", path).stdout)
    kinds = {c["name"]: c["kind"] for c in schema["columns"]}
    assert kinds == {"height": "numerical", "weight": "numerical", "city": "categorical"}
    height = next(c for c in schema["columns"] if c["name"] == "height")
    assert (height["min"], height["max"]) == (1.1, 1.9)


def test_nested_values_get_a_one_line_error(tmp_path):
    path = tmp_path / "nested.parquet"
    pd.DataFrame({"tags": [["a", "b"], ["c"], []], "n": [1, 2, 3]}).to_parquet(path)
    result = run("fit", path, "-o", tmp_path / "m", *FAST)
    assert result.exit_code == 1
    assert "nested values" in result.output and "Traceback" not in result.output


def test_schema_naming_a_column_the_data_lacks(workspace, tmp_path):
    schema = json.loads(run("schema", "infer", workspace / "people.csv").stdout)
    schema["columns"].append({"name": "ghost", "kind": "numerical"})
    (tmp_path / "s.json").write_text(json.dumps(schema))
    result = run(
        "fit",
        workspace / "people.csv",
        "--schema",
        tmp_path / "s.json",
        "-o",
        tmp_path / "m",
        *FAST,
    )
    assert result.exit_code == 1 and "ghost" in result.output


@pytest.mark.parametrize("rows", ["0", "-5"])
def test_sample_needs_a_positive_count(model_path, tmp_path, rows):
    result = run("sample", model_path, "-n", rows, "-o", tmp_path / "x.csv")
    assert result.exit_code == 1 and "positive integer" in result.output
    assert not (tmp_path / "x.csv").exists()


def test_sample_from_something_that_is_not_a_model(tmp_path, model_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "folder").mkdir()
    for bad in (tmp_path / "nothing", tmp_path / "notes.txt", tmp_path / "folder"):
        result = run("sample", bad, "-n", 5, "-o", tmp_path / "x.csv")
        assert result.exit_code == 1, result.output
        assert "model" in result.output and "Traceback" not in result.output
    result = run("sample", model_path, "-n", 5, "-o", tmp_path / "x.json")
    assert result.exit_code == 1 and "extension" in result.output


def test_demo_writes_rows_and_a_summary(tmp_path):
    result = run("demo", "-o", tmp_path / "demo", "--epochs", "2")
    assert result.exit_code == 0, result.output
    assert "column shapes" in result.output
    assert (tmp_path / "demo" / "report.html").exists()
    synthetic = pd.read_csv(tmp_path / "demo" / "synthetic.csv")
    assert len(synthetic) == 3563 and "Status" in synthetic.columns


def test_fit_with_holdout_then_report(workspace, tmp_path):
    model = tmp_path / "m"
    result = run("fit", workspace / "people.csv", "-o", model, "--holdout", "0.25", *FAST)
    assert result.exit_code == 0, result.output
    train = pd.read_csv(f"{model}-train.csv")
    holdout = pd.read_csv(f"{model}-holdout.csv")
    assert len(train) + len(holdout) == 240 and len(holdout) == 60
    run("sample", model, "-n", 180, "-o", tmp_path / "syn.csv")
    result = run(
        "report",
        f"{model}-train.csv",
        tmp_path / "syn.csv",
        "--holdout",
        f"{model}-holdout.csv",
        "-o",
        tmp_path / "r.html",
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r.html").exists() and (tmp_path / "r.json").exists()
    bad = run("report", tmp_path / "missing.csv", tmp_path / "syn.csv")
    assert bad.exit_code == 1 and "Traceback" not in bad.output
