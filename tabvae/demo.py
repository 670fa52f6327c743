"""``tabvae demo``: fit the table shipped with the package and show what comes out."""

from __future__ import annotations

import dataclasses
import time
from importlib import resources
from pathlib import Path

import pandas as pd

from tabvae.io import split_holdout, write_table

DEMO_TABLE = "credit_data.csv"


def demo_table() -> pd.DataFrame:
    """The embedded example: 4,454 credit applications (modeldata ``credit_data``, MIT)."""
    with resources.files("tabvae").joinpath(f"data/{DEMO_TABLE}").open("rb") as handle:
        return pd.read_csv(handle)


@dataclasses.dataclass
class DemoResult:
    """What the demo wrote and measured."""

    output_dir: Path
    synthetic_path: Path
    model_path: Path
    fit_seconds: float
    epochs_run: int
    sample_seconds: float
    n_rows: int
    column_shapes: float
    pair_trends: float
    per_column: dict[str, float]
    report_path: Path


def run_demo(
    output_dir: str | Path = "tabvae-demo",
    epochs: int | None = None,
    seed: int = 0,
    progress=None,
) -> DemoResult:
    """Fit 80 % of the demo table, write synthetic rows, and report on them.

    The other 20 % is the holdout the report's privacy and utility sections need.
    """
    from tabvae.evaluation import column_shapes, pair_trends
    from tabvae.report import report
    from tabvae.synthesizer import TabularVAE

    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    real, holdout = split_holdout(demo_table(), 0.2, seed)
    params = {"random_state": seed} | ({"epochs": epochs} if epochs else {})
    started = time.perf_counter()
    model = TabularVAE(**params).fit(real, progress=progress)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = model.sample(len(real), seed=seed)
    sample_seconds = time.perf_counter() - started
    synthetic_path = write_table(synthetic, output_dir / "synthetic.csv")
    model_path = model.save(output_dir / "model")
    model.schema_.to_json(output_dir / "schema.json")
    shapes, per_column = column_shapes(real, synthetic)
    trends, _ = pair_trends(real, synthetic)
    report_path = output_dir / "report.html"
    report(real, synthetic, holdout=holdout, target="Status", output=report_path, seed=seed)
    return DemoResult(
        report_path=report_path,
        output_dir=output_dir,
        synthetic_path=synthetic_path,
        model_path=model_path,
        fit_seconds=fit_seconds,
        epochs_run=model.epochs_run_,
        sample_seconds=sample_seconds,
        n_rows=len(synthetic),
        column_shapes=shapes,
        pair_trends=trends,
        per_column=per_column,
    )
