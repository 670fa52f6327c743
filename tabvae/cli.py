"""The ``tabvae`` command line: a thin layer over the library.

Each command parses its options, calls one library function, and turns a
:class:`~tabvae.errors.TabVAEError` into a one-line message and exit code 1.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from tabvae import __version__
from tabvae.errors import TabVAEError

# TensorFlow prints a oneDNN notice to stderr at import, before its log level applies; on the
# command line that is noise around the one line a user should read.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(command: F) -> F:
    """Report tabvae errors as ``Error: <message>`` with exit code 1, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except TabVAEError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("Interrupted; nothing was written.", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tabvae")
def main() -> None:
    """Synthetic tables from a variational autoencoder.

    \b
    Example:
      tabvae schema infer people.csv -o schema.json
      tabvae fit people.csv --schema schema.json -o model
      tabvae sample model -n 1000 -o synthetic.csv
    """


@main.group()
def schema() -> None:
    """Inspect and write table schemas."""


@schema.command("infer")
@click.argument("data", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Write the schema here.")
@user_errors
def schema_infer(data: Path, output: Path | None) -> None:
    """Infer the schema of a CSV or Parquet file and print or write it as JSON.

    Edit the JSON to change a column's kind, exclude it, or set its loss weight, then pass
    it to `tabvae fit --schema`.

    \b
    Example:
      tabvae schema infer people.csv -o schema.json
    """
    from tabvae.io import read_table
    from tabvae.schema import infer_schema

    text = infer_schema(read_table(data)).to_json(output)
    if output is None:
        click.echo(text, nl=False)
    else:
        click.echo(f"Wrote the schema of {data} to {output}", err=True)


@main.command()
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="Model folder, or a .zip file.",
)
@click.option(
    "--schema",
    "schema_path",
    type=click.Path(path_type=Path),
    help="Schema JSON (default: inferred from the data).",
)
@click.option("--epochs", type=click.IntRange(min=1), help="Most training epochs.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Rows per gradient step.")
@click.option("--latent-dim", type=click.IntRange(min=1), help="Size of the latent code.")
@click.option("--beta", type=click.FloatRange(min=0), help="Weight of the KL term.")
@click.option(
    "--condition-on",
    multiple=True,
    metavar="COLUMN",
    help="Condition column (repeatable): lets sample, transfer and impute fix its values.",
)
@click.option(
    "--dp",
    is_flag=True,
    help="Train with differential privacy (DP-SGD); needs a --schema with every range and "
    "category list.",
)
@click.option(
    "--epsilon",
    type=click.FloatRange(min=0, min_open=True),
    help="Privacy budget of a --dp fit (default 1).",
)
@click.option(
    "--delta",
    type=click.FloatRange(min=0, max=1, min_open=True, max_open=True),
    help="Delta of a --dp fit (default 1 / number of rows).",
)
@click.option(
    "--holdout",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="Keep this share of rows aside (written to MODEL-holdout.csv, the rest to "
    "MODEL-train.csv) for `tabvae report`.",
)
@click.option("--seed", type=int, help="Random seed, for reproducible models.")
@user_errors
def fit(
    data: Path,
    output: Path,
    schema_path: Path | None,
    epochs: int | None,
    batch_size: int | None,
    latent_dim: int | None,
    beta: float | None,
    condition_on: tuple[str, ...],
    dp: bool,
    epsilon: float | None,
    delta: float | None,
    holdout: float | None,
    seed: int | None,
) -> None:
    """Fit a model to a CSV or Parquet table and save it.

    \b
    Example:
      tabvae fit people.csv -o model --epochs 200 --seed 0
      tabvae fit churn.csv -o model --condition-on churn --condition-on contract
      tabvae fit people.csv --schema schema.json -o model --dp --epsilon 1 --epochs 30
      tabvae fit people.csv -o model --holdout 0.2
    """
    if not dp and (epsilon is not None or delta is not None):
        raise click.UsageError("--epsilon and --delta need --dp")
    from tabvae.io import read_table, split_holdout, write_table
    from tabvae.synthesizer import TabularVAE

    options = {
        "epochs": epochs,
        "batch_size": batch_size,
        "latent_dim": latent_dim,
        "beta": beta,
        "random_state": seed,
        "condition_on": list(condition_on) or None,
        "dp": dp or None,
        "epsilon": epsilon,
        "delta": delta,
    }
    table = read_table(data)
    if holdout is not None:
        table, kept_aside = split_holdout(table, holdout, seed)
        stem = str(output).removesuffix(".zip")
        write_table(table, f"{stem}-train.csv")
        write_table(kept_aside, f"{stem}-holdout.csv")
        click.echo(
            f"Kept {len(kept_aside)} rows aside in {stem}-holdout.csv "
            f"(training rows: {stem}-train.csv)",
            err=True,
        )
    model = TabularVAE(**{k: v for k, v in options.items() if v is not None})
    with _epoch_bar() as progress:
        model.fit(table, schema=schema_path, progress=progress)
    model.save(output)
    click.echo(
        f"Fitted {len(table)} rows x {table.shape[1]} columns in "
        f"{model.epochs_run_} epochs; saved the model to {output}"
        + _privacy_note(getattr(model, "dp_report_", None)),
        err=True,
    )


def _privacy_note(report: dict[str, Any] | None) -> str:
    """How private a fit is, for the line that reports it."""
    if not report:
        return ""
    return (
        f"; differentially private: epsilon = {report['epsilon']:.3f} "
        f"(target {report['target_epsilon']:g}), delta = {report['delta']:.3g}"
    )


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(path_type=Path))
@click.option("-n", "--rows", "n_rows", required=True, type=int, help="Number of rows.")
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="Output .csv or .parquet file (written atomically).",
)
@click.option(
    "--where",
    multiple=True,
    metavar="COLUMN=VALUE",
    help="Give every row this value (repeatable; needs a model fitted with --condition-on).",
)
@click.option(
    "--guard",
    "guard_path",
    type=click.Path(path_type=Path),
    help="Training table: drop and redraw rows closer to a training row than real rows are.",
)
@click.option(
    "--guard-holdout",
    type=click.Path(path_type=Path),
    help="Real rows the model never saw, to set the guard's distance threshold.",
)
@click.option("--seed", type=int, help="Random seed of this draw.")
@user_errors
def sample(
    model_path: Path,
    n_rows: int,
    output: Path,
    where: tuple[str, ...],
    guard_path: Path | None,
    guard_holdout: Path | None,
    seed: int | None,
) -> None:
    """Write synthetic rows from a saved model.

    \b
    Example:
      tabvae sample model -n 1000 -o synthetic.parquet --seed 1
      tabvae sample model -n 5000 -o churned.csv --where churn=Yes --where contract="Two year"
      tabvae sample model -n 1000 -o safe.csv --guard train.csv --guard-holdout holdout.csv
    """
    from tabvae.conditions import parse_assignments
    from tabvae.io import read_table, table_format, write_table
    from tabvae.synthesizer import TabularVAE

    table_format(output)  # a bad extension fails before the model loads
    model = TabularVAE.load(model_path)
    conditions = parse_assignments(model.schema_, list(where)) if where else None
    if guard_path is None:
        rows = model.sample(n_rows, seed=seed, conditions=conditions)
        note = ""
    else:
        from tabvae.protections import guarded_sample

        holdout = read_table(guard_holdout) if guard_holdout is not None else None
        guarded = guarded_sample(
            model, n_rows, read_table(guard_path), holdout, seed=seed, conditions=conditions
        )
        rows = guarded.rows
        note = f" (the DCR guard dropped and redrew {guarded.dropped} rows)"
    write_table(rows, output)
    click.echo(f"Wrote {len(rows)} synthetic rows to {output}{note}", err=True)


OUTPUT_TABLE = click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    help="Output .csv or .parquet file (written atomically).",
)


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(path_type=Path))
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--set",
    "assignments",
    multiple=True,
    required=True,
    metavar="COLUMN=VALUE",
    help="New value of a condition column (repeatable).",
)
@OUTPUT_TABLE
@user_errors
def transfer(model_path: Path, data: Path, assignments: tuple[str, ...], output: Path) -> None:
    """Rewrite the rows of DATA under new condition values ("this row, but ...").

    \b
    Example:
      tabvae transfer model customers.csv --set contract="Two year" -o what_if.csv
    """
    from tabvae.conditions import parse_assignments
    from tabvae.io import read_table, table_format, write_table
    from tabvae.synthesizer import TabularVAE

    table_format(output)
    model = TabularVAE.load(model_path)
    changes = parse_assignments(model.schema_, list(assignments))
    rows = model.transfer(read_table(data), set=changes)
    write_table(rows, output)
    click.echo(f"Wrote {len(rows)} transferred rows to {output}", err=True)


@main.command()
@click.argument("model_path", metavar="MODEL", type=click.Path(path_type=Path))
@click.argument("data", type=click.Path(path_type=Path))
@OUTPUT_TABLE
@click.option("--seed", type=int, help="Random seed of the fills.")
@user_errors
def impute(model_path: Path, data: Path, output: Path, seed: int | None) -> None:
    """Fill the missing cells of DATA from the model; known cells stay as they are.

    \b
    Example:
      tabvae impute model survey_with_gaps.csv -o survey_filled.csv --seed 0
    """
    from tabvae.io import read_table, table_format, write_table
    from tabvae.synthesizer import TabularVAE

    table_format(output)
    table = read_table(data)
    rows = TabularVAE.load(model_path).impute(table, seed=seed)
    write_table(rows, output)
    gaps = int(table.isna().sum().sum())
    click.echo(f"Filled {gaps} missing cells; wrote {len(rows)} rows to {output}", err=True)


@main.command()
@click.argument("real", type=click.Path(path_type=Path))
@click.argument("synthetic", type=click.Path(path_type=Path))
@click.option(
    "--holdout",
    type=click.Path(path_type=Path),
    help="Real rows the model never saw (for the privacy section).",
)
@click.option("--target", help="Column to predict for the utility section.")
@click.option(
    "-o",
    "--output",
    default="report.html",
    show_default=True,
    type=click.Path(path_type=Path),
    help="HTML page; the JSON goes beside it.",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@user_errors
def report(
    real: Path, synthetic: Path, holdout: Path | None, target: str | None, output: Path, seed: int
) -> None:
    """Write a fidelity, utility and privacy report on a synthetic table.

    \b
    Example:
      tabvae fit people.csv --holdout 0.2 -o model
      tabvae sample model -n 5000 -o synthetic.csv
      tabvae report model-train.csv synthetic.csv --holdout model-holdout.csv -o report.html
    """
    from tabvae.report import report as write_report

    write_report(real, synthetic, holdout=holdout, target=target, output=output, seed=seed)
    click.echo(f"Wrote {output} and {Path(output).with_suffix('.json')}", err=True)


@main.command()
@click.option(
    "-o",
    "--output-dir",
    default="tabvae-demo",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder for the demo's files.",
)
@click.option("--epochs", type=click.IntRange(min=1), help="Most training epochs.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@user_errors
def demo(output_dir: Path, epochs: int | None, seed: int) -> None:
    """Fit the example table shipped with tabvae and score the synthetic rows.

    The table is `credit_data` (4,454 credit applications, from the R package modeldata).
    Fits 80 % of it, keeps 20 % aside, and writes the model, the schema, the synthetic rows
    and a fidelity / utility / privacy report (report.html and report.json) to OUTPUT_DIR.

    \b
    Example:
      tabvae demo -o demo-output
    """
    from tabvae.demo import run_demo

    with _epoch_bar() as progress:
        result = run_demo(output_dir, epochs=epochs, seed=seed, progress=progress)
    click.echo(
        f"Fitted in {result.fit_seconds:.1f} s ({result.epochs_run} epochs); sampled "
        f"{result.n_rows} rows in {result.sample_seconds:.2f} s."
    )
    click.echo(f"Synthetic rows: {result.synthetic_path}")
    click.echo(f"Model:          {result.model_path}")
    click.echo(f"Report:         {result.report_path}")
    click.echo("")
    click.echo("Fidelity (1.0 = same as the real table):")
    click.echo(f"  column shapes  {result.column_shapes:.3f}")
    click.echo(f"  pair trends    {result.pair_trends:.3f}")
    for name, score in result.per_column.items():
        click.echo(f"    {name:<20} {score:.3f}")


class _epoch_bar:
    """A click progress bar over epochs, usable as a ``progress`` callback.

    The bar appears with the first finished epoch, so an error in the data is the only
    thing a user sees when fitting cannot start.
    """

    def __init__(self) -> None:
        self.bar: Any = None
        self.done = 0

    def __enter__(self) -> _epoch_bar:
        return self

    def __call__(self, epoch: int, epochs: int, logs: dict[str, float]) -> None:
        if self.bar is None:
            self.bar = click.progressbar(
                length=epochs,
                label="Training",
                file=sys.stderr,
                item_show_func=lambda text: text,
            )
            self.bar.__enter__()
        loss = logs.get("val_loss", logs.get("loss"))
        self.bar.update(epoch - self.done, f"loss {loss:.3f}" if loss is not None else None)
        self.done = epoch

    def __exit__(self, *exc: object) -> None:
        if self.bar is None:
            return
        if exc[0] is None:
            self.bar.update(self.bar.length - self.done)
        self.bar.__exit__(*exc)
