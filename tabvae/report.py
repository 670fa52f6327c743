"""A fidelity, utility and privacy report for a synthetic table, as one HTML page and a JSON file.

The work is split in two so each half can be used and tested alone:

* :func:`compute_report` measures (with :mod:`tabvae.evaluation`) and returns a JSON-able dict,
  including the data the charts are drawn from;
* :func:`render_html` turns that dict into a self-contained page: inline CSS and hand-written
  inline SVG, no script and no reference to anything outside the file, so it opens offline, in a
  mail attachment or in a locked-down browser alike.

:func:`report` does both and writes ``report.html`` and ``report.json`` atomically.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import html
import itertools
import json
import math
import os
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tabvae import datetime_text, evaluation
from tabvae.errors import DataError, TabVAEError

__all__ = ["THRESHOLDS", "compute_report", "render_html", "report"]

REPORT_VERSION = 1

#: Verdict thresholds. They are written into every report so a reader can see the rule applied.
#: "good" / "fair" bounds are inclusive; anything beyond "fair" is "poor".
THRESHOLDS: dict[str, dict[str, float]] = {
    # SDMetrics quality scores, 0 (unlike) .. 1 (identical).
    "column_shapes": {"good": 0.90, "fair": 0.80},
    "pair_trends": {"good": 0.85, "fair": 0.70},
    # ROC AUC of a classifier telling real from synthetic: 0.5 means it cannot.
    "detection_auc": {"good": 0.60, "fair": 0.75},
    # Train-synthetic-test-real score divided by train-real-test-real score.
    "ml_efficacy_ratio": {"good": 0.90, "fair": 0.75},
    # Share of synthetic rows closer to a training row than to a holdout row; 0.5 is ideal.
    "dcr_share": {"good": 0.53, "fair": 0.60},
    # Synthetic exact-copy share minus the holdout's own exact-copy share (in share units).
    "exact_copy_excess": {"good": 0.001, "fair": 0.01},
    # Synthetic NNDR divided by the holdout's NNDR (lower means synthetic hugs training rows).
    "nndr_ratio": {"good": 0.95, "fair": 0.85},
    # Anonymeter risk (0 = no risk beyond what the holdout already allows, 1 = total).
    "anonymeter_risk": {"good": 0.05, "fair": 0.20},
}

#: Rows used by the anonymeter attacks (per data set). They search neighbours row by row, so
#: a larger sample buys little precision for a lot of time.
ANONYMETER_MAX_ROWS = 2000
ANONYMETER_ATTACKS = 300
#: Up to this many inference attacks (one per secret column) when no target is given.
ANONYMETER_SECRETS = 2

_LEVELS = ("good", "fair", "poor")
_LEVEL_RANK = {"good": 0, "fair": 1, "poor": 2}
_N_BINS = 30
_TOP_CATEGORIES = 15
_DISCRETE_MAX = 12


# --------------------------------------------------------------------------------------------
# Public entry points
# --------------------------------------------------------------------------------------------


def report(
    real: pd.DataFrame | str | os.PathLike[str],
    synthetic: pd.DataFrame | str | os.PathLike[str],
    holdout: pd.DataFrame | str | os.PathLike[str] | None = None,
    target: str | None = None,
    output: str | os.PathLike[str] = "report.html",
    seed: int = 0,
) -> dict[str, Any]:
    """Measure a synthetic table and write an HTML report and a JSON file beside it.

    Parameters
    ----------
    real : DataFrame or path
        The real rows the synthesizer was trained on: a frame, or a CSV / Parquet path (read
        with :func:`tabvae.io.read_table`).
    synthetic : DataFrame or path
        The synthetic rows. It must have every column of ``real``; extra columns are ignored.
    holdout : DataFrame or path, optional
        Real rows the synthesizer never saw. Needed for the privacy section and used as the test
        set of the utility section.
    target : str, optional
        Column to predict for the utility section (train on synthetic, test on real).
    output : str or path, default "report.html"
        Where the HTML page goes; the JSON goes beside it with a ``.json`` suffix.
    seed : int, default 0
        Seed for every sampled or randomised step, so a report can be reproduced.

    Returns
    -------
    dict
        The JSON-able results written to the ``.json`` file.

    Raises
    ------
    DataError
        If a table is empty, ``synthetic`` or ``holdout`` lacks columns of ``real``, or
        ``target`` is not a column.
    """
    html_path, json_path = _output_paths(output)
    results = compute_report(real, synthetic, holdout=holdout, target=target, seed=seed)
    results["inputs"]["output_html"] = str(html_path)
    results["inputs"]["output_json"] = str(json_path)
    page = render_html(results)
    _atomic_write(json_path, json.dumps(results, indent=2, allow_nan=False) + "\n")
    _atomic_write(html_path, page)
    return results


def compute_report(
    real: pd.DataFrame | str | os.PathLike[str],
    synthetic: pd.DataFrame | str | os.PathLike[str],
    holdout: pd.DataFrame | str | os.PathLike[str] | None = None,
    target: str | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Measure fidelity, utility and privacy; return a JSON-able dict (see :func:`report`).

    Parameters
    ----------
    real, synthetic, holdout, target, seed
        As in :func:`report`.

    Returns
    -------
    dict
        Keys ``inputs``, ``thresholds``, ``summary``, ``fidelity``, ``utility``, ``privacy``
        and ``timings`` (seconds per section). Every value is plain JSON (no NaN: missing
        numbers are ``None``).
    """
    real_df = _load(real, "real")
    synth_df = _load(synthetic, "synthetic")
    hold_df = None if holdout is None else _load(holdout, "holdout")
    notes: list[str] = []
    columns = [str(c) for c in real_df.columns]
    real_df, synth_df, hold_df = _align(real_df, synth_df, hold_df, notes)
    if target is not None and target not in real_df.columns:
        raise DataError(f"target column {target!r} is not a column of the real data")
    real_df, synth_df, hold_df = _as_measured(real_df, synth_df, hold_df, target, notes)

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    fidelity = _fidelity(real_df, synth_df, seed)
    timings["fidelity"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    utility = _utility(real_df, synth_df, hold_df, target, seed)
    timings["utility"] = time.perf_counter() - t0

    t0 = time.perf_counter()
    privacy = _privacy(real_df, synth_df, hold_df, target, seed)
    timings["privacy"] = time.perf_counter() - t0

    results: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "inputs": {
            "real_rows": len(real_df),
            "synthetic_rows": len(synth_df),
            "holdout_rows": None if hold_df is None else len(hold_df),
            "columns": columns,
            "target": target,
            "seed": seed,
            "notes": notes,
        },
        "thresholds": THRESHOLDS,
        "summary": {
            "fidelity": fidelity["verdict"],
            "utility": utility["verdict"],
            "privacy": privacy["verdict"],
        },
        "fidelity": fidelity,
        "utility": utility,
        "privacy": privacy,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
    return _jsonable(results)


# --------------------------------------------------------------------------------------------
# Input handling
# --------------------------------------------------------------------------------------------


def _load(data: Any, what: str) -> pd.DataFrame:
    """Return ``data`` as a DataFrame, reading it if it is a path."""
    if isinstance(data, pd.DataFrame):
        df = data
    elif isinstance(data, (str, os.PathLike)):
        from tabvae.io import read_table

        df = read_table(data)
    else:
        raise DataError(
            f"{what} data must be a DataFrame or a file path, not {type(data).__name__}"
        )
    if df.shape[0] == 0 or df.shape[1] == 0:
        raise DataError(f"{what} data is empty")
    if df.columns.duplicated().any():
        dup = sorted({str(c) for c in df.columns[df.columns.duplicated()]})
        raise DataError(f"{what} data has duplicate columns: {', '.join(dup)}")
    return df


def _align(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Put the other tables in the real table's column order, refusing missing columns."""
    real = real.rename(columns=str).reset_index(drop=True)
    cols = list(real.columns)
    out: list[pd.DataFrame | None] = []
    for name, df in (("synthetic", synthetic), ("holdout", holdout)):
        if df is None:
            out.append(None)
            continue
        df = df.rename(columns=str).reset_index(drop=True)
        missing = [c for c in cols if c not in df.columns]
        if missing:
            shown = ", ".join(missing[:10]) + (", ..." if len(missing) > 10 else "")
            raise DataError(f"{name} data lacks {len(missing)} column(s) of the real data: {shown}")
        extra = [c for c in df.columns if c not in cols]
        if extra:
            notes.append(f"{name} data has {len(extra)} column(s) the real data lacks; ignored.")
        out.append(df[cols])
    synth, hold = out
    assert synth is not None
    return real, synth, hold


def _as_measured(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    holdout: pd.DataFrame | None,
    target: str | None,
    notes: list[str],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """The tables as the measures should see them, by the kinds tabvae's schema reads.

    Text dates and times (a CSV holds no other) are parsed with the one format they are
    written in: as text, nearly every order time of gt/pizzaplace was a category of its own,
    and its column shape scored 0.09 where, parsed, it scores 0.98 (3,000 rows, 20 epochs).
    Keys are left out, as SDMetrics leaves out columns of sdtype id: new keys are no likeness
    to score, and copied ones no merit.
    """
    from tabvae.schema import guess_datetime_format, infer_kind

    frames = [real, synthetic, holdout]
    for name in real.columns:
        try:
            kind = infer_kind(real[name])
        except TabVAEError:
            continue  # the measures judge what tabvae cannot model by its dtype
        if kind == "id" and name != target:
            frames = [None if f is None else f.drop(columns=name) for f in frames]
            notes.append(
                f"Column {name!r} holds keys, which a synthesizer replaces: left out of the "
                "measures."
            )
        elif kind == "datetime" and not pd.api.types.is_datetime64_any_dtype(real[name].dtype):
            fmt = guess_datetime_format(real[name].dropna())
            frames = [None if f is None else _parsed(f, name, fmt) for f in frames]
    real, synthetic, holdout = frames
    assert real is not None and synthetic is not None
    return real, synthetic, holdout


def _parsed(df: pd.DataFrame, name: str, fmt: str | None) -> pd.DataFrame:
    """``df`` with its text column ``name`` as datetimes (values of another form missing)."""
    df = df.copy()
    df[name] = datetime_text.parse(df[name], fmt, errors="coerce")
    return df


def _output_paths(output: str | os.PathLike[str]) -> tuple[Path, Path]:
    path = Path(output)
    # "-o report.json" would otherwise write the page and the JSON to the same file.
    if path.suffix.lower() == ".json":
        return path.with_suffix(".html"), path
    return path, path.with_suffix(".json")


def _atomic_write(path: Path, text: str) -> None:
    """Write ``text`` so readers never see a half-written file (temp file + os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file 0600; give the report the mode any new file would get.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


# --------------------------------------------------------------------------------------------
# Verdicts
# --------------------------------------------------------------------------------------------


def _grade(value: float | None, key: str, higher_is_better: bool) -> str | None:
    if value is None or not math.isfinite(value):
        return None
    t = THRESHOLDS[key]
    if higher_is_better:
        return "good" if value >= t["good"] else "fair" if value >= t["fair"] else "poor"
    return "good" if value <= t["good"] else "fair" if value <= t["fair"] else "poor"


def _rule(key: str, higher_is_better: bool, fmt: str = "{:.2f}") -> str:
    t = THRESHOLDS[key]
    op = "≥" if higher_is_better else "≤"
    return (
        f"good if {op} {fmt.format(t['good'])}, fair if {op} {fmt.format(t['fair'])}, "
        "poor otherwise"
    )


def _verdict(level: str | None, text: str, rule: str = "") -> dict[str, Any]:
    return {"level": level if level in _LEVELS else "not measured", "text": text, "rule": rule}


def _worst(levels: Sequence[str | None]) -> str | None:
    graded = [lv for lv in levels if lv in _LEVEL_RANK]
    if not graded:
        return None
    return max(graded, key=lambda lv: _LEVEL_RANK[lv])


def _safe(fn: Callable[[], Any], errors: list[str], what: str) -> Any:
    """Run one measure; a failure is reported in the page rather than losing the whole report."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    except DataError:
        raise
    except Exception as exc:
        errors.append(f"{what} failed: {type(exc).__name__}: {exc}")
        return None


# --------------------------------------------------------------------------------------------
# Fidelity
# --------------------------------------------------------------------------------------------


def _fidelity(real: pd.DataFrame, synth: pd.DataFrame, seed: int) -> dict[str, Any]:
    errors: list[str] = []
    shapes = _safe(lambda: evaluation.column_shapes(real, synth), errors, "column shapes")
    pairs = _safe(lambda: evaluation.pair_trends(real, synth), errors, "column pair trends")
    auc = _safe(lambda: evaluation.detection_auc(real, synth, seed=seed), errors, "detection")
    logic = _safe(
        lambda: evaluation.logical_consistency(real, synth), errors, "logical consistency"
    )
    logic_score, logic_rules = logic if logic is not None else (None, [])
    order = _safe(lambda: evaluation.order_consistency(real, synth), errors, "order consistency")
    order_score, order_rules = order if order is not None else (None, [])

    shape_score, shape_cols = shapes if shapes is not None else (None, {})
    pair_score, pair_map = pairs if pairs is not None else (None, {})
    auc_value = _number(auc)

    shape_level = _grade(_number(shape_score), "column_shapes", True)
    pair_level = _grade(_number(pair_score), "pair_trends", True)
    auc_level = _grade(auc_value, "detection_auc", False)

    columns: dict[str, Any] = {}
    for col in real.columns:
        columns[col] = {
            "score": _number(shape_cols.get(col)),
            "missing_real": float(real[col].isna().mean()),
            "missing_synthetic": float(synth[col].isna().mean()),
            "chart": _chart_data(real[col], synth[col]),
        }

    level = _worst([shape_level, pair_level])
    text = _fidelity_text(level, shape_level, pair_level, shape_cols, pair_map)
    return {
        "verdict": _verdict(
            level,
            text,
            "worst of column shapes and column pair trends "
            "(detection is shown for information and does not change this verdict)",
        ),
        "column_shapes": {
            "score": _number(shape_score),
            "level": shape_level,
            "rule": _rule("column_shapes", True),
            "columns": {c: _number(v) for c, v in shape_cols.items()},
        },
        "pair_trends": {
            "score": _number(pair_score),
            "level": pair_level,
            "rule": _rule("pair_trends", True),
            "pairs": [
                {"columns": [str(a), str(b)], "score": _number(v)}
                for (a, b), v in dict(pair_map).items()
            ],
        },
        "detection": {
            "auc": auc_value,
            "level": auc_level,
            "rule": _rule("detection_auc", False),
        },
        "logical_consistency": {
            "score": _number(logic_score),
            "rules": len(logic_rules),
            # Lowest shares first (as returned); the page shows a few, the JSON keeps 50.
            "lowest": [
                {
                    "determinant": str(r["determinant"]),
                    "dependent": str(r["dependent"]),
                    "share": _number(r["share"]),
                }
                for r in list(logic_rules)[:50]
            ],
        },
        "order_consistency": {
            "score": _number(order_score),
            "rules": len(order_rules),
            "lowest": [
                {"lower": str(r["lower"]), "upper": str(r["upper"]), "share": _number(r["share"])}
                for r in list(order_rules)[:50]
            ],
        },
        "columns": columns,
        "errors": errors,
    }


def _fidelity_text(
    level: str | None,
    shape_level: str | None,
    pair_level: str | None,
    shape_cols: Mapping[str, Any],
    pair_map: Mapping[tuple[str, str], Any],
) -> str:
    """One plain sentence, naming the weakest columns or pairs when something is off."""
    if level is None:
        return "Fidelity could not be measured (see the errors below)."
    if level == "good":
        return (
            "The synthetic columns follow the real distributions, and columns relate to each "
            "other as they do in the real data."
        )
    parts = []
    if shape_level != "good":
        worst = _lowest({str(k): v for k, v in shape_cols.items()})
        parts.append(f"some columns are distributed differently (lowest: {worst})")
    if pair_level != "good":
        worst = _lowest({f"{a} × {b}": v for (a, b), v in pair_map.items()})
        parts.append(f"the relationships between some columns are not kept (lowest: {worst})")
    lead = (
        "The synthetic data broadly resembles the real data, but "
        if level == "fair"
        else "The synthetic data differs clearly from the real data: "
    )
    tail = (
        "; check these before relying on them."
        if level == "fair"
        else "; conclusions drawn from it may not hold for the real data."
    )
    return lead + " and ".join(parts) + tail


def _lowest(scores: Mapping[str, Any], k: int = 3) -> str:
    valid = [(name, v) for name, v in scores.items() if _number(v) is not None]
    valid.sort(key=lambda item: float(item[1]))
    return ", ".join(f"{name} {_fmt(v, '.2f')}" for name, v in valid[:k]) or "none scored"


def _kind(real: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(real):
        return "bars"
    if pd.api.types.is_datetime64_any_dtype(real):
        return "datetime"
    if pd.api.types.is_timedelta64_dtype(real):
        return "histogram"  # of seconds
    if pd.api.types.is_numeric_dtype(real) and not isinstance(real.dtype, pd.CategoricalDtype):
        values = real.dropna()
        # A numeric column with a handful of whole values (counts, ratings, flags) reads
        # better as bars than as a histogram of mostly empty bins.
        if values.nunique() <= _DISCRETE_MAX and np.all(np.mod(values.to_numpy(float), 1) == 0):
            return "discrete"
        return "histogram"
    return "bars"


def _datetime_seconds(s: pd.Series) -> pd.Series:
    """Seconds since the epoch (float), whatever the unit or time zone of the datetimes."""
    dt = pd.to_datetime(s, errors="coerce", utc=True)
    return (dt - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)


def _chart_data(real: pd.Series, synth: pd.Series) -> dict[str, Any]:
    """Real and synthetic distribution of one column, as shares of the non-missing rows."""
    kind = _kind(real)
    if kind in ("histogram", "datetime"):
        if kind == "datetime":
            r = _datetime_seconds(real).dropna().to_numpy(float)
            s = _datetime_seconds(synth).dropna().to_numpy(float)
        elif pd.api.types.is_timedelta64_dtype(real):
            r = real.dt.total_seconds().dropna().to_numpy(float)
            s = pd.to_timedelta(synth, errors="coerce").dt.total_seconds().dropna().to_numpy(float)
        else:
            r = pd.to_numeric(real, errors="coerce").dropna().to_numpy(float)
            s = pd.to_numeric(synth, errors="coerce").dropna().to_numpy(float)
        r = r[np.isfinite(r)]
        s = s[np.isfinite(s)]
        if r.size == 0:
            return {"type": "empty"}
        both = [x for x in (r, s) if x.size]
        lo = float(min(x.min() for x in both))
        hi = float(max(x.max() for x in both))
        q_lo = float(min(np.quantile(x, 0.005) for x in both))
        q_hi = float(max(np.quantile(x, 0.995) for x in both))
        # When a few wild values stretch the axis (heavy tails, a synthesizer's outliers) the
        # bulk would be squashed into one bar: chart the bulk and count what falls outside.
        if (q_hi - q_lo) * 3 < hi - lo:
            lo, hi = q_lo, q_hi
        if hi <= lo:
            lo, hi = lo - 0.5, hi + 0.5
        edges = np.linspace(lo, hi, _N_BINS + 1)
        rc, _ = np.histogram(r, bins=edges)
        sc, _ = np.histogram(s, bins=edges)
        out = {
            "type": kind,
            "n_real": int(r.size),
            "n_synthetic": int(s.size),
            "edges": edges.tolist(),
            "real": (rc / max(r.size, 1)).tolist(),
            "synthetic": (sc / max(s.size, 1)).tolist(),
            "outside_real": float(np.mean((r < lo) | (r > hi))) if r.size else 0.0,
            "outside_synthetic": float(np.mean((s < lo) | (s > hi))) if s.size else 0.0,
        }
        return out

    if kind == "discrete":
        r = pd.to_numeric(real, errors="coerce").dropna()
        s = pd.to_numeric(synth, errors="coerce").dropna()
        keys = sorted(r.unique().tolist())
        r_share = r.value_counts(normalize=True)
        s_share = s.value_counts(normalize=True) if len(s) else pd.Series(dtype=float)
        labels = [_fmt_num(k) for k in keys]
        real_vals = [float(r_share.get(k, 0.0)) for k in keys]
        syn_vals = [float(s_share.get(k, 0.0)) for k in keys]
        other_s = max(0.0, 1.0 - sum(syn_vals)) if len(s) else 0.0
        return _bars(labels, real_vals, syn_vals, 0.0, other_s, n_real_categories=len(keys))

    r = real.dropna()
    s = synth.dropna()
    r = r.astype(object).map(str)
    s = s.astype(object).map(str)
    r_share = r.value_counts(normalize=True)
    s_share = s.value_counts(normalize=True) if len(s) else pd.Series(dtype=float)
    top = [str(k) for k in r_share.index[:_TOP_CATEGORIES]]
    real_vals = [float(r_share.get(k, 0.0)) for k in top]
    syn_vals = [float(s_share.get(k, 0.0)) for k in top]
    other_r = max(0.0, 1.0 - sum(real_vals))
    other_s = max(0.0, 1.0 - sum(syn_vals)) if len(s) else 0.0
    unseen = int((~s_share.index.isin(r_share.index)).sum())
    out = _bars(top, real_vals, syn_vals, other_r, other_s, n_real_categories=len(r_share))
    out["synthetic_unseen_categories"] = unseen
    return out


def _bars(
    labels: list[str],
    real: list[float],
    synth: list[float],
    other_real: float,
    other_synth: float,
    n_real_categories: int,
) -> dict[str, Any]:
    if not labels:
        return {"type": "empty"}
    if other_real > 1e-9 or other_synth > 1e-9:
        labels = [*labels, "(other)"]
        real = [*real, other_real]
        synth = [*synth, other_synth]
    return {
        "type": "bars",
        "categories": labels,
        "real": real,
        "synthetic": synth,
        "n_real_categories": n_real_categories,
    }


# --------------------------------------------------------------------------------------------
# Utility
# --------------------------------------------------------------------------------------------


def _utility(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    holdout: pd.DataFrame | None,
    target: str | None,
    seed: int,
) -> dict[str, Any]:
    rule = _rule("ml_efficacy_ratio", True) + " (ratio of synthetic-trained to real-trained score)"
    if target is None:
        return {
            "verdict": _verdict(None, "Not measured: no target column was given (--target).", rule),
            "target": None,
            "errors": [],
        }
    notes: list[str] = []
    train_real = real
    if holdout is not None:
        test_real = holdout
        notes.append("Both models are tested on the holdout rows.")
    else:
        # Without a holdout the test rows were probably seen by the synthesizer, which flatters
        # the synthetic-trained model; say so rather than refuse.
        test_real = real.sample(frac=0.2, random_state=seed)
        train_real = real.drop(index=test_real.index)
        notes.append(
            "No holdout given: both models are tested on a random 20% of the real rows, which "
            "the synthesizer probably saw in training, so the synthetic score may be optimistic."
        )
    errors: list[str] = []
    raw = _safe(
        lambda: evaluation.ml_efficacy(train_real, synth, test_real, target, seed=seed),
        errors,
        "ML efficacy",
    )
    raw = dict(raw) if isinstance(raw, Mapping) else {}
    tstr, trtr, metric = _number(raw.get("synthetic")), _number(raw.get("real")), raw.get("metric")
    ratio = None
    if tstr is not None and trtr is not None and trtr > 0:
        ratio = tstr / trtr
    elif trtr is not None:
        # An R^2 at or below 0: the target cannot be predicted even from real data, so there
        # is nothing for the synthetic data to live up to.
        errors.append(
            f"the model trained on real data scores {trtr:.3f} ({metric}); "
            "no ratio can be formed, so utility is not graded"
        )
    level = _grade(ratio, "ml_efficacy_ratio", True)
    pct = "" if ratio is None else f" ({ratio:.0%} of the real-trained score)"
    text = {
        "good": f"A model trained on the synthetic data predicts {target!r} on real rows about "
        f"as well as one trained on real data{pct}.",
        "fair": f"A model trained on the synthetic data predicts {target!r} on real rows "
        f"somewhat worse than one trained on real data{pct}.",
        "poor": f"A model trained on the synthetic data predicts {target!r} on real rows much "
        f"worse than one trained on real data{pct}; do not train production models on it.",
    }.get(level or "", "Utility could not be measured (see the errors below).")
    return {
        "verdict": _verdict(level, text, rule),
        "target": target,
        "metric": None if metric is None else str(metric),
        "task": raw.get("task"),
        "synthetic_score": tstr,
        "real_score": trtr,
        "ratio": ratio,
        "details": raw,
        "notes": notes,
        "errors": errors,
    }


# --------------------------------------------------------------------------------------------
# Privacy
# --------------------------------------------------------------------------------------------


def _privacy(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    holdout: pd.DataFrame | None,
    target: str | None,
    seed: int,
) -> dict[str, Any]:
    errors: list[str] = []
    copy_synth = _number(
        _safe(lambda: evaluation.exact_copy_share(real, synth), errors, "exact copies")
    )
    if holdout is None:
        text = (
            "Not measured: privacy needs a holdout, real rows the synthesizer never saw "
            "(--holdout), to tell memorised rows from rows that are merely typical."
        )
        if copy_synth is not None:
            text += f" For information, {copy_synth:.2%} of synthetic rows copy a real row exactly."
        return {
            "verdict": _verdict(None, text),
            "exact_copies": {"synthetic": copy_synth, "holdout": None, "level": None},
            "errors": errors,
        }

    dcr = _number(
        _safe(lambda: evaluation.dcr_share(real, holdout, synth, seed=seed), errors, "DCR share")
    )
    dcr_level = _grade(dcr, "dcr_share", False)

    copy_hold = _number(
        _safe(lambda: evaluation.exact_copy_share(real, holdout), errors, "holdout exact copies")
    )
    copy_excess = None
    if copy_synth is not None and copy_hold is not None:
        copy_excess = copy_synth - copy_hold
    copy_level = _grade(copy_excess, "exact_copy_excess", False)

    nndr_synth = _nndr(real, synth, seed, errors, "NNDR")
    nndr_hold = _nndr(real, holdout, seed, errors, "holdout NNDR")
    nndr_ratio = None
    if nndr_synth is not None and nndr_hold is not None and nndr_hold > 0:
        nndr_ratio = nndr_synth / nndr_hold
    nndr_level = _grade(nndr_ratio, "nndr_ratio", True)

    attacks = _anonymeter(real, synth, holdout, target, seed)
    attack_level = _worst([a.get("level") for a in attacks.get("attacks", [])])

    level = _worst([dcr_level, copy_level, nndr_level, attack_level])
    text = {
        "good": "The synthetic rows are no closer to the training rows than to real rows the "
        "model never saw: no sign that it memorised individuals.",
        "fair": "The synthetic rows sit a little closer to the training rows than to unseen "
        "rows; there is some memorisation. Review the measures below before sharing.",
        "poor": "The synthetic data reveals training rows (copies, near-copies or successful "
        "attacks beyond what unseen rows allow). Do not share it as anonymous.",
    }.get(level or "", "Privacy could not be measured (see the errors below).")
    return {
        "verdict": _verdict(level, text, "worst of the measures below"),
        "dcr_share": {"value": dcr, "level": dcr_level, "rule": _rule("dcr_share", False)},
        "exact_copies": {
            "synthetic": copy_synth,
            "holdout": copy_hold,
            "excess": copy_excess,
            "level": copy_level,
            "rule": _rule("exact_copy_excess", False, "{:.1%}")
            + " (synthetic share minus the holdout's own share)",
        },
        "nndr": {
            "synthetic": nndr_synth,
            "holdout": nndr_hold,
            "ratio": nndr_ratio,
            "level": nndr_level,
            "rule": _rule("nndr_ratio", True) + " (synthetic NNDR / holdout NNDR)",
        },
        "anonymeter": attacks,
        "errors": errors,
    }


def _nndr(
    train: pd.DataFrame, other: pd.DataFrame, seed: int, errors: list[str], what: str
) -> float | None:
    return _number(_safe(lambda: evaluation.nndr(train, other, seed=seed), errors, what))


def _anonymeter(
    real: pd.DataFrame,
    synth: pd.DataFrame,
    holdout: pd.DataFrame,
    target: str | None,
    seed: int,
) -> dict[str, Any]:
    """Singling-out, linkability and inference attacks, when the ``anonymeter`` package imports."""
    try:
        from anonymeter.evaluators import (  # type: ignore[import-not-found]
            InferenceEvaluator,
            LinkabilityEvaluator,
            SinglingOutEvaluator,
        )
    except Exception as exc:  # ImportError, or a binary mismatch with the installed numpy
        return {
            "available": False,
            "note": (
                "The anonymeter attacks (singling out, linkability, inference) were not run: "
                f"the 'anonymeter' package could not be imported ({type(exc).__name__}). It "
                "requires numpy<1.27, which cannot be installed beside TensorFlow 2.21; run the "
                "report in an environment where 'import anonymeter' works to include them. The "
                "other privacy measures above do not depend on it."
            ),
            "attacks": [],
        }

    n = min(len(real), len(holdout), ANONYMETER_MAX_ROWS)
    n_attacks = max(1, min(ANONYMETER_ATTACKS, n // 2))
    # The same number of training and control rows, so the control attack is a fair baseline.
    ori = _anon_frame(real.sample(n=n, random_state=seed))
    control = _anon_frame(holdout.sample(n=n, random_state=seed + 1))
    syn = _anon_frame(synth.sample(n=min(len(synth), 4 * n), random_state=seed + 2))
    cols = list(ori.columns)
    rng = np.random.default_rng(seed)
    attacks: list[dict[str, Any]] = []

    def run(name: str, make: Callable[[], Any], detail: str) -> None:
        entry: dict[str, Any] = {"name": name, "detail": detail}
        caught: list[str] = []
        try:
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                evaluator = make()
                risk = evaluator.risk(confidence_level=0.95)
                res = evaluator.results(confidence_level=0.95)
            caught = sorted({str(x.message) for x in w})
            entry.update(
                risk=_number(risk.value),
                ci=[_number(risk.ci[0]), _number(risk.ci[1])],
                attack_rate=_number(res.attack_rate.value),
                baseline_rate=_number(res.baseline_rate.value),
                control_rate=None if res.control_rate is None else _number(res.control_rate.value),
            )
            entry["level"] = _grade(entry["risk"], "anonymeter_risk", False)
        except Exception as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            entry["level"] = None
        entry["warnings"] = caught
        attacks.append(entry)

    run(
        "singling out",
        lambda: SinglingOutEvaluator(
            ori=ori, syn=syn, control=control, n_attacks=n_attacks, seed=seed
        ).evaluate(mode="univariate"),
        "queries built from the synthetic data that single out one real person",
    )
    if len(cols) >= 2:
        order = list(rng.permutation(cols))
        half = len(order) // 2
        aux = (order[:half], order[half:])
        run(
            "linkability",
            lambda: LinkabilityEvaluator(
                ori=ori,
                syn=syn,
                control=control,
                aux_cols=aux,
                n_attacks=n_attacks,
                n_neighbors=10,
            ).evaluate(n_jobs=1),
            f"linking records split into {{{', '.join(aux[0])}}} and {{{', '.join(aux[1])}}}",
        )
        if target is not None:
            secrets = [target]
        else:
            secrets = [str(c) for c in rng.choice(cols, min(ANONYMETER_SECRETS, len(cols)), False)]
        for secret in secrets:
            aux_cols = [c for c in cols if c != secret]
            regression = bool(
                pd.api.types.is_numeric_dtype(ori[secret]) and ori[secret].nunique() > _DISCRETE_MAX
            )
            run(
                f"inference of {secret}",
                lambda secret=secret, aux_cols=aux_cols, regression=regression: InferenceEvaluator(
                    ori=ori,
                    syn=syn,
                    control=control,
                    aux_cols=aux_cols,
                    secret=secret,
                    regression=regression,
                    n_attacks=n_attacks,
                ).evaluate(n_jobs=1),
                f"guessing {secret!r} from the other columns",
            )
    return {
        "available": True,
        "rows": n,
        "n_attacks": n_attacks,
        "rule": _rule("anonymeter_risk", False) + " (risk beyond the holdout's, 95% interval)",
        "attacks": attacks,
    }


def _anon_frame(df: pd.DataFrame) -> pd.DataFrame:
    """Plain dtypes anonymeter copes with: datetimes as seconds, categories as strings."""
    out = df.reset_index(drop=True).copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_datetime64_any_dtype(s):
            out[col] = _datetime_seconds(s)
        elif pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
            out[col] = (
                s.astype(object).where(s.notna(), None).map(lambda v: None if v is None else str(v))
            )
        else:
            out[col] = pd.to_numeric(s, errors="coerce").astype(float)
    return out


# --------------------------------------------------------------------------------------------
# JSON helpers
# --------------------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A finite float, or None for missing / NaN / non-numeric values."""
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else float(value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _jsonable(obj: Any) -> Any:
    """Recursively turn numpy / pandas values into plain JSON (NaN and inf become None)."""
    if isinstance(obj, Mapping):
        return {
            str(k) if not isinstance(k, tuple) else " | ".join(map(str, k)): _jsonable(v)
            for k, v in obj.items()
        }
    if isinstance(obj, (list, tuple, set)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return [_jsonable(v) for v in obj.tolist()]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return _number(obj)
    if obj is None or isinstance(obj, str):
        return obj
    if isinstance(obj, (pd.Timestamp, _dt.datetime, _dt.date)):
        return obj.isoformat()
    return str(obj)


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------

_REAL_COLOUR = "#3b6fb6"
_SYNTH_COLOUR = "#e07b25"
_LEVEL_COLOUR = {"good": "#1e8a4c", "fair": "#c98a00", "poor": "#c0392b"}
_LEVEL_WORD = {"good": "Good", "fair": "Fair", "poor": "Poor"}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
margin:0;background:#f6f7f9;color:#1d2430;line-height:1.45}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{margin:0 0 4px;font-size:26px}h2{margin:32px 0 8px;font-size:21px;border-bottom:2px solid
#d8dde5;padding-bottom:4px}h3{font-size:16px;margin:18px 0 6px}
.muted{color:#5b6575;font-size:13px}
.badge{display:inline-block;padding:2px 10px;border-radius:11px;color:#fff;font-weight:600;
font-size:13px;vertical-align:middle}
.verdict{background:#fff;border-left:6px solid #999;padding:10px 14px;margin:10px 0;
border-radius:4px}
.summary{display:flex;gap:12px;flex-wrap:wrap}.summary .verdict{flex:1 1 300px}
table{border-collapse:collapse;background:#fff;margin:6px 0;font-size:14px}
td,th{border:1px solid #dfe3ea;padding:4px 10px;text-align:left}
th{background:#eef1f5}td.num{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #dfe3ea;border-radius:6px;padding:8px 10px}
.card h4{margin:0 0 2px;max-width:330px;font-size:14px;overflow:hidden;
text-overflow:ellipsis;white-space:nowrap}
.legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 10px;
vertical-align:middle}
.note{background:#fff8e1;border:1px solid #f0d98c;padding:8px 12px;border-radius:4px;
margin:8px 0;font-size:14px}
.error{background:#fdecea;border:1px solid #f5b7b1;padding:8px 12px;border-radius:4px;
margin:8px 0;font-size:14px}
svg text{font-family:inherit}
"""


def render_html(results: Mapping[str, Any]) -> str:
    """Render the results of :func:`compute_report` as one self-contained HTML page.

    Parameters
    ----------
    results : dict
        As returned by :func:`compute_report` (or read back from the report's JSON file).

    Returns
    -------
    str
        The page. It has no script and references nothing outside itself.
    """
    inp = results["inputs"]
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        # Belt and braces: even if a value in the data looked like a resource, the browser
        # is told to load nothing from anywhere.
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>tabvae synthetic data report</title>",
        f"<style>{_CSS}</style></head><body><main>",
        "<h1>Synthetic data report</h1>",
        '<p class="muted">'
        + _e(
            f"Real: {inp['real_rows']:,} rows × {len(inp['columns'])} columns · "
            f"synthetic: {inp['synthetic_rows']:,} rows · holdout: "
            + ("none" if inp.get("holdout_rows") is None else f"{inp['holdout_rows']:,} rows")
            + f" · target: {inp.get('target') or 'none'} · seed {inp.get('seed')}"
            f" · {results.get('created', '')}"
        )
        + "</p>",
    ]
    parts += [_note(n) for n in inp.get("notes", [])]

    parts.append('<h2>At a glance</h2><div class="summary">')
    for section in ("fidelity", "utility", "privacy"):
        parts.append(_verdict_box(section.capitalize(), results["summary"][section]))
    parts.append("</div>")
    parts.append(
        '<p class="muted">Each verdict is the worst of the measures in its section; the rule '
        "used is printed with every measure. Good / Fair / Poor is a guide for a first "
        "decision, not a guarantee.</p>"
    )

    parts += _render_fidelity(results["fidelity"])
    parts += _render_utility(results["utility"])
    parts += _render_privacy(results["privacy"])
    timings = results.get("timings", {})
    parts.append(
        '<p class="muted">Computed in '
        + _e(", ".join(f"{k} {v:.1f} s" for k, v in timings.items()))
        + f" · tabvae report format {results.get('report_version')}</p>"
    )
    parts.append("</main></body></html>\n")
    return "\n".join(parts)


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _note(text: str) -> str:
    return f'<div class="note">{_e(text)}</div>'


def _errors(errors: Sequence[str]) -> list[str]:
    return [f'<div class="error">{_e(err)}</div>' for err in errors]


def _badge(level: str | None) -> str:
    colour = _LEVEL_COLOUR.get(level or "", "#7f8894")
    word = _LEVEL_WORD.get(level or "", "Not measured")
    return f'<span class="badge" style="background:{colour}">{word}</span>'


def _verdict_box(title: str, verdict: Mapping[str, Any]) -> str:
    level = verdict.get("level")
    colour = _LEVEL_COLOUR.get(level or "", "#7f8894")
    rule = verdict.get("rule") or ""
    return (
        f'<div class="verdict" style="border-left-color:{colour}"><strong>{_e(title)}</strong> '
        f"{_badge(level)}<div>{_e(verdict.get('text', ''))}</div>"
        + (f'<div class="muted">Rule: {_e(rule)}</div>' if rule else "")
        + "</div>"
    )


def _fmt(value: Any, spec: str = ".3f") -> str:
    v = _number(value)
    # "+ 0.0" turns -0.0 into 0.0; tiny negative rounding noise would still print "-0.000".
    return "—" if v is None else format(0.0 if abs(v) < 1e-12 else v + 0.0, spec)


def _fmt_num(v: float) -> str:
    """Short tick label: 3 significant digits, k/M suffixes, no float noise."""
    v = float(v) + 0.0  # no "-0"
    a = abs(v)
    if a >= 1e9 or 0 < a < 1e-3:
        return f"{v:.2e}"
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.3g}k"
    if a >= 100 or v == int(v):
        # .3g would write 9572 as "9.57e+03".
        return f"{v:.0f}"
    return f"{v:.3g}"


def _rules_row(
    section: dict[str, Any],
    title: str,
    noun: str,
    name: Callable[[dict[str, Any]], str],
    explanation: str,
) -> list[str]:
    """The table row of a rule-keeping measure, with its least kept rules; none without rules."""
    if not section.get("rules"):
        return []
    worst = [r for r in section.get("lowest", []) if (r.get("share") or 0) < 1][:3]
    shown = "; ".join(f"{name(r)}: {_fmt(r['share'], '.1%')}" for r in worst)
    return [
        _measure_row(
            title,
            _fmt(section.get("score")),
            None,
            f"{section['rules']} {noun} found in the real data. For information."
            + (f" Least kept: {shown}." if shown else ""),
            explanation,
        )
    ]


def _measure_row(name: str, value: str, level: str | None, rule: str, explain: str) -> str:
    return (
        f'<tr><td>{_e(name)}</td><td class="num">{_e(value)}</td><td>{_badge(level)}</td>'
        f'<td>{_e(explain)}<div class="muted">{_e(rule)}</div></td></tr>'
    )


def _render_fidelity(fid: Mapping[str, Any]) -> list[str]:
    shapes, pairs, det = fid["column_shapes"], fid["pair_trends"], fid["detection"]
    out = ["<h2>Fidelity: does the synthetic data look like the real data?</h2>"]
    out.append(_verdict_box("Fidelity", fid["verdict"]))
    out += _errors(fid.get("errors", []))
    out.append("<table><tr><th>Measure</th><th>Score</th><th>Verdict</th><th>Meaning</th></tr>")
    out.append(
        _measure_row(
            "Column shapes",
            _fmt(shapes["score"]),
            shapes["level"],
            shapes["rule"],
            "How closely each column's distribution matches, averaged (SDMetrics: KS "
            "complement for numbers, total-variation complement for categories). 1 = identical.",
        )
    )
    out.append(
        _measure_row(
            "Column pair trends",
            _fmt(pairs["score"]),
            pairs["level"],
            pairs["rule"],
            "How closely each pair of columns moves together, averaged (SDMetrics: "
            "correlation similarity for number pairs, contingency similarity otherwise).",
        )
    )
    out.append(
        _measure_row(
            "Detection (ROC AUC)",
            _fmt(det["auc"]),
            det["level"],
            det["rule"],
            "How well a classifier tells synthetic rows from real ones. 0.5 = it cannot; "
            "1.0 = it always can. For information.",
        )
    )
    out.extend(
        _rules_row(
            fid.get("logical_consistency") or {},
            "Logical consistency",
            "rule(s)",
            lambda r: f"{r['determinant']} → {r['dependent']}",
            "Share of synthetic rows that keep the fixed relations of the real data "
            "(where one column's value always decides another's, e.g. city → country).",
        )
    )
    out.extend(
        _rules_row(
            fid.get("order_consistency") or {},
            "Order consistency",
            "order(s)",
            lambda r: f"{r['lower']} ≤ {r['upper']}",
            "Share of synthetic rows that keep the orders between numbers or dates of the "
            "real data (where one column is never below another, e.g. end ≥ start).",
        )
    )
    out.append("</table>")

    out.append("<h3>Columns</h3>")
    out.append(
        '<p class="legend muted">Share of non-missing rows per value range or category:'
        f'<span style="background:{_REAL_COLOUR};opacity:.55"></span>real'
        f'<span style="background:{_SYNTH_COLOUR}"></span>synthetic. '
        "The number after each name is its column shape score.</p>"
    )
    out.append('<div class="charts">')
    for col, info in fid["columns"].items():
        out.append(_column_card(col, info))
    out.append("</div>")

    out.append("<h3>Column pair trends</h3>")
    cols = list(fid["columns"].keys())
    scored = [p for p in pairs["pairs"] if p.get("score") is not None]
    if scored:
        out.append(
            '<p class="muted">Each cell is the pair-trend score of two columns: green = they '
            "relate as in the real data, red = they do not. Grey = not scored.</p>"
        )
        out.append(_svg_heatmap(cols, pairs["pairs"]))
        worst = sorted(scored, key=lambda p: p["score"])[:10]
        out.append("<table><tr><th>Lowest-scoring pairs</th><th>Score</th></tr>")
        for p in worst:
            out.append(
                f"<tr><td>{_e(' × '.join(p['columns']))}</td>"
                f'<td class="num">{_fmt(p["score"])}</td></tr>'
            )
        out.append("</table>")
    else:
        out.append(_note("No column pair could be scored."))
    return out


def _column_card(col: str, info: Mapping[str, Any]) -> str:
    chart = info.get("chart", {})
    score = info.get("score")
    level = _grade(score, "column_shapes", True)
    colour = _LEVEL_COLOUR.get(level or "", "#7f8894")
    head = (
        f'<h4 title="{_e(col)}">{_e(col)} '
        f'<span style="color:{colour}">{_fmt(score, ".2f")}</span></h4>'
    )
    extra: list[str] = []
    mr, ms = info.get("missing_real") or 0.0, info.get("missing_synthetic") or 0.0
    if mr or ms:
        extra.append(f"missing: real {mr:.1%}, synthetic {ms:.1%}")
    if chart.get("outside_real") or chart.get("outside_synthetic"):
        extra.append(
            f"outside the chart: real {chart.get('outside_real', 0):.1%}, "
            f"synthetic {chart.get('outside_synthetic', 0):.1%}"
        )
    if chart.get("n_synthetic") == 0:
        extra.append("the synthetic column has no usable values")
    if chart.get("synthetic_unseen_categories"):
        extra.append(f"{chart['synthetic_unseen_categories']} synthetic categories not in real")
    if chart.get("n_real_categories", 0) > _TOP_CATEGORIES:
        extra.append(f"top {_TOP_CATEGORIES} of {chart['n_real_categories']} real categories")
    kind = chart.get("type")
    if kind in ("histogram", "datetime"):
        svg = _svg_histogram(chart, col)
    elif kind == "bars":
        svg = _svg_bars(chart, col)
    else:
        svg = _svg_empty(col)
    foot = f'<div class="muted">{_e("; ".join(extra))}</div>' if extra else ""
    return f'<div class="card">{head}{svg}{foot}</div>'


_W, _H = 330, 210
_PAD_L, _PAD_R, _PAD_T, _PAD_B = 40, 8, 10, 28


def _svg_open(label: str, height: int = _H, width: int = _W) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{_e(label)}" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
    )


def _y_axis(ymax: float, height: int) -> list[str]:
    """Three horizontal grid lines with percentage labels."""
    out = []
    plot_h = height - _PAD_T - _PAD_B
    for frac in (0.0, 0.5, 1.0):
        y = _PAD_T + plot_h * (1 - frac)
        out.append(
            f'<line x1="{_PAD_L}" x2="{_W - _PAD_R}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#e3e6eb" stroke-width="1"/>'
        )
        out.append(
            f'<text x="{_PAD_L - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
            f'fill="#5b6575">{_e(_pct(ymax * frac))}</text>'
        )
    return out


def _pct(v: float) -> str:
    return f"{v * 100:.0f}%" if v >= 0.1 or v == 0 else f"{v * 100:.1f}%"


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


def _svg_histogram(chart: Mapping[str, Any], col: str) -> str:
    edges = chart["edges"]
    real, synth = chart["real"], chart["synthetic"]
    n = len(real)
    ymax = _nice_max(max([*real, *synth, 1e-9]))
    plot_w = _W - _PAD_L - _PAD_R
    plot_h = _H - _PAD_T - _PAD_B
    bw = plot_w / n
    out = [_svg_open(f"Histogram of {col}: real and synthetic")]
    out += _y_axis(ymax, _H)
    is_dt = chart.get("type") == "datetime"
    # Times of day alone (a CSV's "11:38:36") all fall on one day: their hours tell them apart.
    hours = is_dt and edges[-1] - edges[0] <= 2 * 86400
    for i, (r, s) in enumerate(zip(real, synth, strict=True)):
        x = _PAD_L + i * bw
        h = plot_h * r / ymax
        tip = (
            f"{_tick(edges[i], is_dt, hours)} to {_tick(edges[i + 1], is_dt, hours)}: "
            f"real {r:.1%}, synthetic {s:.1%}"
        )
        # Full-height transparent hit area so the tooltip works over empty bins too.
        out.append(
            f'<g><title>{_e(tip)}</title><rect x="{x:.1f}" y="{_PAD_T}" width="{bw:.1f}" '
            f'height="{plot_h}" fill="transparent"/>'
            f'<rect x="{x + 0.5:.1f}" y="{_PAD_T + plot_h - h:.1f}" width="{max(bw - 1, 0.5):.1f}" '
            f'height="{h:.1f}" fill="{_REAL_COLOUR}" fill-opacity="0.55"/></g>'
        )
    # Synthetic as a step outline on top, so both stay visible where they overlap.
    pts = []
    for i, s in enumerate(synth):
        y = _PAD_T + plot_h - plot_h * s / ymax
        pts.append(f"{_PAD_L + i * bw:.1f},{y:.1f}")
        pts.append(f"{_PAD_L + (i + 1) * bw:.1f},{y:.1f}")
    out.append(
        f'<polyline points="{" ".join(pts)}" fill="none" stroke="{_SYNTH_COLOUR}" '
        'stroke-width="2"/>'
    )
    base = _PAD_T + plot_h
    out.append(f'<line x1="{_PAD_L}" x2="{_W - _PAD_R}" y1="{base}" y2="{base}" stroke="#8a93a0"/>')
    for frac, anchor in ((0.0, "start"), (0.5, "middle"), (1.0, "end")):
        val = edges[0] + (edges[-1] - edges[0]) * frac
        x = _PAD_L + plot_w * frac
        out.append(
            f'<text x="{x:.1f}" y="{base + 14}" font-size="10" text-anchor="{anchor}" '
            f'fill="#5b6575">{_e(_tick(val, is_dt, hours))}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def _tick(v: float, is_datetime: bool, time_of_day: bool = False) -> str:
    """A number, or a datetime's day (its hour and minute with ``time_of_day``)."""
    if is_datetime:
        try:
            return pd.Timestamp(v, unit="s").strftime("%H:%M" if time_of_day else "%Y-%m-%d")
        except (ValueError, OverflowError):
            return _fmt_num(v)
    return _fmt_num(v)


def _svg_bars(chart: Mapping[str, Any], col: str) -> str:
    cats = chart["categories"]
    real, synth = chart["real"], chart["synthetic"]
    n = len(cats)
    height = _H + 40  # room for slanted category labels
    pad_b = _PAD_B + 40
    ymax = _nice_max(max([*real, *synth, 1e-9]))
    plot_w = _W - _PAD_L - _PAD_R
    plot_h = height - _PAD_T - pad_b
    slot = plot_w / n
    bw = max(slot * 0.4, 1.0)
    out = [_svg_open(f"Bar chart of {col}: real and synthetic", height)]
    for frac in (0.0, 0.5, 1.0):
        y = _PAD_T + plot_h * (1 - frac)
        out.append(
            f'<line x1="{_PAD_L}" x2="{_W - _PAD_R}" y1="{y:.1f}" y2="{y:.1f}" '
            'stroke="#e3e6eb" stroke-width="1"/>'
            f'<text x="{_PAD_L - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end" '
            f'fill="#5b6575">{_e(_pct(ymax * frac))}</text>'
        )
    base = _PAD_T + plot_h
    for i, (cat, r, s) in enumerate(zip(cats, real, synth, strict=True)):
        x0 = _PAD_L + i * slot + slot * 0.1
        hr = plot_h * r / ymax
        hs = plot_h * s / ymax
        tip = f"{cat}: real {r:.1%}, synthetic {s:.1%}"
        out.append(
            f"<g><title>{_e(tip)}</title>"
            f'<rect x="{x0:.1f}" y="{base - hr:.1f}" width="{bw:.1f}" height="{hr:.1f}" '
            f'fill="{_REAL_COLOUR}" fill-opacity="0.55"/>'
            f'<rect x="{x0 + bw:.1f}" y="{base - hs:.1f}" width="{bw:.1f}" height="{hs:.1f}" '
            f'fill="{_SYNTH_COLOUR}"/></g>'
        )
        label = cat if len(cat) <= 14 else cat[:13] + "…"
        lx = x0 + bw
        out.append(
            f'<text x="{lx:.1f}" y="{base + 10}" font-size="10" text-anchor="end" '
            f'fill="#3a4250" transform="rotate(-40 {lx:.1f} {base + 10})">{_e(label)}</text>'
        )
    out.append(f'<line x1="{_PAD_L}" x2="{_W - _PAD_R}" y1="{base}" y2="{base}" stroke="#8a93a0"/>')
    out.append("</svg>")
    return "".join(out)


def _svg_empty(col: str) -> str:
    return (
        _svg_open(f"No values to chart for {col}", 60)
        + '<text x="10" y="34" font-size="12" fill="#5b6575">no values to chart</text></svg>'
    )


def _score_colour(score: float | None) -> str:
    """Red (0.5 or less) through yellow (0.75) to green (1)."""
    if score is None:
        return "#d5d9df"
    t = min(max((score - 0.5) / 0.5, 0.0), 1.0)
    stops = [(0.0, (192, 57, 43)), (0.5, (241, 196, 15)), (1.0, (30, 138, 76))]
    for (t0, c0), (t1, c1) in itertools.pairwise(stops):
        if t <= t1:
            u = (t - t0) / (t1 - t0)
            rgb = [round(a + (b - a) * u) for a, b in zip(c0, c1, strict=True)]
            return "#{:02x}{:02x}{:02x}".format(*rgb)
    return "#1e8a4c"


def _svg_heatmap(columns: Sequence[str], pairs: Sequence[Mapping[str, Any]]) -> str:
    """Lower-triangle matrix of pair-trend scores, with a colour scale."""
    # The measure is symmetric and has no diagonal: rows are columns[1:], columns columns[:-1].
    index = {c: i for i, c in enumerate(columns)}
    n = max(len(columns) - 1, 1)
    cell = max(8, min(44, 640 // n))
    font = min(12, max(7, cell - 3))
    labels = {c: c if len(c) <= 22 else c[:21] + "…" for c in columns}
    label_w = min(170, int(font * 0.62 * max((len(v) for v in labels.values()), default=4)) + 12)
    show_text = cell >= 30
    top = 8
    width = label_w + n * cell + 80
    height = top + n * cell + label_w
    out = [
        f'<svg class="heatmap" role="img" aria-label="Column pair trend heatmap" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
    ]
    for p in pairs:
        a, b = p["columns"]
        if a not in index or b not in index or a == b:
            continue
        i, j = sorted((index[a], index[b]), reverse=True)
        x = label_w + j * cell
        y = top + (i - 1) * cell
        score = p.get("score")
        tip = f"{a} × {b}: " + ("not scored" if score is None else _fmt(score))
        out.append(
            f"<g><title>{_e(tip)}</title>"
            f'<rect x="{x}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
            f'fill="{_score_colour(score)}"/>'
        )
        if show_text and score is not None:
            out.append(
                f'<text x="{x + cell / 2:.1f}" y="{y + cell / 2 + 4:.1f}" font-size="10" '
                f'text-anchor="middle" fill="#fff">{_fmt(score, ".2f")}</text>'
            )
        out.append("</g>")
    for c, i in index.items():
        if i > 0:
            y = top + (i - 1) * cell + cell / 2 + font / 3
            out.append(
                f'<text x="{label_w - 4}" y="{y:.1f}" font-size="{font}" text-anchor="end" '
                f'fill="#3a4250">{_e(labels[c])}</text>'
            )
        if i < len(columns) - 1:
            x = label_w + i * cell + cell / 2
            ly = top + n * cell + 6
            out.append(
                f'<text x="{x:.1f}" y="{ly}" font-size="{font}" text-anchor="end" '
                f'fill="#3a4250" transform="rotate(-60 {x:.1f} {ly})">{_e(labels[c])}</text>'
            )
    # Colour scale.
    sx = label_w + n * cell + 24
    steps = 10
    sh = max(n * cell, 120) / steps
    for k in range(steps):
        score = 1.0 - k / steps * 0.5
        out.append(
            f'<rect x="{sx}" y="{top + k * sh:.1f}" width="14" height="{sh + 0.5:.1f}" '
            f'fill="{_score_colour(score)}"/>'
        )
    out.append(f'<text x="{sx + 18}" y="{top + 9}" font-size="10" fill="#3a4250">1.0</text>')
    out.append(
        f'<text x="{sx + 18}" y="{top + steps * sh / 2 + 4:.1f}" font-size="10" '
        'fill="#3a4250">0.75</text>'
    )
    out.append(
        f'<text x="{sx + 18}" y="{top + steps * sh:.1f}" font-size="10" fill="#3a4250">≤0.5</text>'
    )
    out.append("</svg>")
    return "".join(out)


def _render_utility(util: Mapping[str, Any]) -> list[str]:
    out = ["<h2>Utility: can the synthetic data replace the real data for modelling?</h2>"]
    out.append(_verdict_box("Utility", util["verdict"]))
    out += _errors(util.get("errors", []))
    if util.get("target") is None:
        return out
    out += [_note(n) for n in util.get("notes", [])]
    metric = util.get("metric") or "score"
    out.append(
        f"<table><tr><th>Model trained on</th><th>{_e(metric)} on real test rows</th></tr>"
        f'<tr><td>real rows (reference)</td><td class="num">{_fmt(util.get("real_score"))}'
        f'</td></tr><tr><td>synthetic rows</td><td class="num">'
        f"{_fmt(util.get('synthetic_score'))}</td></tr>"
        f'<tr><th>Ratio synthetic / real</th><th class="num">{_fmt(util.get("ratio"))}</th>'
        "</tr></table>"
    )
    details = {
        k: v
        for k, v in (util.get("details") or {}).items()
        if isinstance(v, (int, float, str)) and not isinstance(v, bool)
    }
    if details:
        out.append("<details><summary>All values returned by the measure</summary><table>")
        for k, v in details.items():
            shown = _fmt(v, ".4g") if isinstance(v, (int, float)) else str(v)
            out.append(f'<tr><td>{_e(k)}</td><td class="num">{_e(shown)}</td></tr>')
        out.append("</table></details>")
    return out


def _render_privacy(priv: Mapping[str, Any]) -> list[str]:
    out = ["<h2>Privacy: does the synthetic data give away the real rows?</h2>"]
    out.append(_verdict_box("Privacy", priv["verdict"]))
    out += _errors(priv.get("errors", []))
    if "dcr_share" not in priv:
        return out
    dcr, cp, nn = priv["dcr_share"], priv["exact_copies"], priv["nndr"]
    out.append("<table><tr><th>Measure</th><th>Value</th><th>Verdict</th><th>Meaning</th></tr>")
    out.append(
        _measure_row(
            "DCR share",
            _fmt(dcr["value"]),
            dcr["level"],
            dcr["rule"],
            "Share of synthetic rows whose nearest real row is a training row rather than a "
            "holdout row (distance to closest record). 0.5 is ideal: the model learned the "
            "population, not the individuals.",
        )
    )
    copy_txt = (
        f"{_fmt(cp.get('synthetic'), '.2%')} (holdout: {_fmt(cp.get('holdout'), '.2%')})"
        if cp.get("synthetic") is not None
        else "—"
    )
    out.append(
        _measure_row(
            "Exact copies",
            copy_txt,
            cp.get("level"),
            cp.get("rule", ""),
            "Share of synthetic rows identical to a training row, against the share of "
            "holdout rows that happen to be identical to one (common rows exist in any data).",
        )
    )
    out.append(
        _measure_row(
            "Nearest-neighbour distance ratio",
            f"{_fmt(nn.get('synthetic'))} (holdout: {_fmt(nn.get('holdout'))})",
            nn.get("level"),
            nn.get("rule", ""),
            "Distance to the nearest training row divided by the distance to the second "
            "nearest. Values well below the holdout's mean synthetic rows hug single "
            "training rows.",
        )
    )
    out.append("</table>")

    anon = priv.get("anonymeter", {})
    out.append("<h3>Attacks (anonymeter)</h3>")
    if not anon.get("available"):
        out.append(_note(anon.get("note", "anonymeter was not run.")))
        return out
    out.append(
        '<p class="muted">'
        + _e(
            f"Each attack is tried {anon.get('n_attacks')} times on samples of "
            f"{anon.get('rows')} training and {anon.get('rows')} holdout rows. Risk is the "
            "attack's success on training rows beyond its success on the holdout, "
            f"with its 95% interval; {anon.get('rule', '')}."
        )
        + "</p>"
    )
    out.append(
        "<table><tr><th>Attack</th><th>Risk</th><th>95% interval</th><th>Verdict</th>"
        "<th>Success: train / holdout / random</th><th>What it tries</th></tr>"
    )
    for a in anon.get("attacks", []):
        if a.get("error"):
            out.append(
                f'<tr><td>{_e(a["name"])}</td><td colspan="5">failed: {_e(a["error"])}</td></tr>'
            )
            continue
        ci = a.get("ci") or [None, None]
        rates = " / ".join(
            _fmt(a.get(k), ".1%") for k in ("attack_rate", "control_rate", "baseline_rate")
        )
        warn = "".join(f'<div class="muted">{_e(w)}</div>' for w in a.get("warnings", []))
        out.append(
            f'<tr><td>{_e(a["name"])}</td><td class="num">{_fmt(a.get("risk"))}</td>'
            f'<td class="num">{_fmt(ci[0])} – {_fmt(ci[1])}</td><td>{_badge(a.get("level"))}'
            f'</td><td class="num">{rates}</td><td>{_e(a.get("detail", ""))}{warn}</td></tr>'
        )
    out.append("</table>")
    return out
