"""Measure tabvae's conditional generation (issue 4) on public tables with a binary label.

Usage::

    python benchmarks/conditional.py                          # wa_churn and credit_data
    python benchmarks/conditional.py --tables wa_churn --epochs 50

For every table: the split of benchmarks/run.py (``rownames`` dropped, 80/20, seed 0) and
``TabularVAE(condition_on=[label], random_state=0)`` fitted on the 80 %. Then:

1. exactness and speed: ``sample(n, conditions={label: v})`` for every value ``v`` -- share of
   rows carrying ``v`` and rows/s of a warm call next to a warm unconditional ``sample(n)``;
2. fidelity given the condition: SDMetrics QualityReport of the rows generated with ``v``
   against the training rows with ``v``, next to the unconditional score;
3. balanced resampling: gradient boosting trained on the training rows alone, and on the
   training rows plus generated minority rows (classes balanced), scored on the 20 %;
4. transfer: ``transfer(rows, set={})`` against ``reconstruct(rows)``, and the numeric
   columns' means after flipping the label, against the real per-label means.

Prints markdown tables and writes them, with the machine and the command, to
``benchmarks/results/<YYYY-MM-DD>-conditional.md``. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from benchmarks import run as harness  # noqa: E402  (data, split, metadata, QualityReport)

SEED = harness.SEED
#: Table key of benchmarks/run.py -> the column the model conditions on.
CONDITIONS = {"wa_churn": "churn", "credit_data": "Status"}
N_SAMPLE = 20_000
TIMING_REPEATS = 5
AUGMENT_SEEDS = (0, 1, 2)
#: A conditional overall score may be at most this much below the unconditional one.
FIDELITY_GOAL = 0.03
#: Categorical columns shown in the transfer table (those whose shares differ most by label).
TRANSFER_CATEGORICAL = 3


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def cells_equal(a: pd.DataFrame, b: pd.DataFrame) -> tuple[float, dict[str, float]]:
    """Share of equal cells (missing equals missing) and, per column, the share that differ."""
    differing: dict[str, float] = {}
    equal = 0
    for name in a.columns:
        x = a[name].reset_index(drop=True)
        y = b[name].reset_index(drop=True)
        same = (x == y).fillna(False).to_numpy(dtype=bool) | (x.isna() & y.isna()).to_numpy()
        equal += int(same.sum())
        if not same.all():
            differing[name] = float(1 - same.mean())
    return equal / (a.shape[0] * a.shape[1]), differing


def dtype_problems(frame: pd.DataFrame, train: pd.DataFrame, label: str) -> list[str]:
    problems: list[str] = []
    harness.check_frame(frame, train, problems)
    return [f"{label}: {p}" for p in problems]


def label_values(series: pd.Series) -> list[Any]:
    """The label's values, most frequent first."""
    return list(series.value_counts().index)


# --------------------------------------------------------------------------------------------
# Gradient boosting features: the encoding of tabvae.evaluation.ml_efficacy
# --------------------------------------------------------------------------------------------


def _key(value: Any) -> Any:
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return round(float(value), 10)
    return str(value)


def tree_features(
    kinds: dict[str, str], frames: list[pd.DataFrame]
) -> tuple[list[np.ndarray], np.ndarray]:
    """Floats for numbers; shared codes (first appearance over ``frames``) for the rest.

    Mirrors ``tabvae.evaluation.ml_efficacy``: missing values stay NaN, categories become
    codes shared by all frames, so a model trained on one frame can score another.
    """
    columns: list[list[np.ndarray]] = [[] for _ in frames]
    mask = []
    for name, kind in kinds.items():
        if kind in ("numerical", "datetime"):
            for i, frame in enumerate(frames):
                numbers = pd.to_numeric(frame[name], errors="coerce").astype("float64")
                columns[i].append(numbers.to_numpy(na_value=np.nan))
            mask.append(False)
            continue
        keys = [
            np.array([None if pd.isna(v) else _key(v) for v in f[name]], dtype=object)
            for f in frames
        ]
        codes, _ = pd.factorize(np.concatenate(keys), use_na_sentinel=True)
        start = 0
        for i, k in enumerate(keys):
            values = codes[start : start + len(k)].astype(np.float64)
            values[values < 0] = np.nan
            columns[i].append(values)
            start += len(k)
        mask.append(True)
    return [np.column_stack(c) for c in columns], np.array(mask, dtype=bool)


def classify(
    train: pd.DataFrame,
    test: pd.DataFrame,
    kinds: dict[str, str],
    target: str,
    positive: Any,
    class_weight: str | None = None,
) -> dict[str, float]:
    """ROC AUC (``positive`` = minority label) and balanced accuracy on ``test``."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score
    from threadpoolctl import threadpool_limits

    features = {k: v for k, v in kinds.items() if k != target}
    (x_train, x_test), categorical = tree_features(features, [train, test])
    y_train = (train[target] == positive).to_numpy(dtype=int)
    y_test = (test[target] == positive).to_numpy(dtype=int)
    model = HistGradientBoostingClassifier(
        categorical_features=categorical, random_state=SEED, class_weight=class_weight
    )
    with threadpool_limits(limits=1):
        model.fit(x_train, y_train)
        scores = model.predict_proba(x_test)[:, 1]
        predicted = model.predict(x_test)
    return {
        "auc": float(roc_auc_score(y_test, scores)),
        "balanced_accuracy": float(balanced_accuracy_score(y_test, predicted)),
        "predicted_positive": float(predicted.mean()),
    }


# --------------------------------------------------------------------------------------------
# One table
# --------------------------------------------------------------------------------------------


def run_table(key: str, epochs: int | None, n: int) -> dict[str, Any]:
    from tabvae import TabularVAE

    spec = harness.TABLES[key]
    label = CONDITIONS[key]
    df = harness.load_table(spec, None)
    train, holdout = harness.split(df)
    kinds = harness.column_kinds(df)
    values = label_values(train[label])
    print(
        f"\n## {key}: {len(df)} rows x {df.shape[1]} columns (train {len(train)}, holdout "
        f"{len(holdout)}), condition {label} {train[label].value_counts().to_dict()}",
        flush=True,
    )
    problems: list[str] = []
    result: dict[str, Any] = {
        "table": key,
        "source": f"{spec.package}/{spec.name}",
        "label": label,
        "values": values,
        "train_counts": {v: int((train[label] == v).sum()) for v in values},
        "problems": problems,
    }

    params: dict[str, Any] = {"condition_on": [label], "random_state": SEED}
    if epochs is not None:
        params["epochs"] = epochs
    started = time.perf_counter()
    model = TabularVAE(**params).fit(train)
    result["fit_seconds"] = time.perf_counter() - started
    result["epochs_run"] = model.epochs_run_
    result["params"] = {
        k: v for k, v in model.get_params().items() if k not in ("dp", "epsilon", "delta")
    }
    print(
        f"  fit {result['fit_seconds']:.1f} s, {result['epochs_run']} epochs (max {model.epochs})",
        flush=True,
    )

    # 1. Exactness and speed ------------------------------------------------------------------
    # A frame of conditions: one asked value per row, the values mixed.
    asked = pd.DataFrame({label: np.random.default_rng(SEED).choice(values, size=n)})
    asked[label] = asked[label].astype(train[label].dtype)
    calls: dict[str, Callable[..., pd.DataFrame]] = {
        "(none) sample(n)": lambda **kw: model.sample(n, **kw)
    }
    for value in values:
        calls[str(value)] = lambda v=value, **kw: model.sample(n, conditions={label: v}, **kw)
    calls["DataFrame, values mixed"] = lambda **kw: model.sample(conditions=asked, **kw)
    samples = {name: call(seed=SEED) for name, call in calls.items()}  # also the warm-up
    # Warm calls, interleaved so that the load of the shared machine hits every kind alike.
    seconds: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(TIMING_REPEATS):
        for name, call in calls.items():
            started = time.perf_counter()
            call()
            seconds[name].append(time.perf_counter() - started)
    speed = {name: n / float(np.median(s)) for name, s in seconds.items()}
    best = {name: n / float(np.min(s)) for name, s in seconds.items()}
    unconditional = samples["(none) sample(n)"]
    problems += dtype_problems(unconditional, train, "sample(n)")
    result["unconditional"] = {
        "rows_per_s": speed["(none) sample(n)"],
        "best_rows_per_s": best["(none) sample(n)"],
        "shares": {v: float((unconditional[label] == v).mean()) for v in values},
    }
    conditional: dict[Any, pd.DataFrame] = {}
    exactness = []
    for name, rows in samples.items():
        if name == "(none) sample(n)":
            continue
        problems += dtype_problems(rows, train, f"sample, conditions {name}")
        if name in map(str, values):
            value = values[[str(v) for v in values].index(name)]
            conditional[value] = rows
            wanted = np.full(n, value, dtype=object)
        else:
            value = None
            wanted = asked[label].to_numpy(dtype=object)
        matches = int((rows[label].to_numpy(dtype=object) == wanted).sum())
        if matches != n:
            problems.append(f"sample, conditions {name}: only {matches} of {n} rows match")
        exactness.append(
            {
                "value": name,
                "train_share": result["train_counts"][value] / len(train)
                if value is not None
                else float("nan"),
                "unconditional_share": result["unconditional"]["shares"][value]
                if value is not None
                else float("nan"),
                "matches": matches,
                "rows": n,
                "rows_per_s": speed[name],
                "best_rows_per_s": best[name],
            }
        )
    result["exactness"] = exactness
    print(f"  exactness and speed measured (n = {n})", flush=True)

    # 2. Fidelity given the condition --------------------------------------------------------
    metadata_all = harness.sdmetrics_metadata(kinds)
    names_all = list(kinds)
    overall = harness.quality_report(train[names_all], unconditional[names_all], metadata_all)
    ceiling = harness.quality_report(train[names_all], holdout[names_all], metadata_all)
    fidelity = [
        {
            "value": "(all rows) sample(n)",
            "real_rows": len(train),
            **overall,
            "holdout_overall": ceiling["sdm_overall"],
            "gap": float("nan"),
        }
    ]
    given = {k: v for k, v in kinds.items() if k != label}
    metadata_given = harness.sdmetrics_metadata(given)
    names_given = list(given)
    for value in values:
        real = train[train[label] == value][names_given]
        scores = harness.quality_report(real, conditional[value][names_given], metadata_given)
        reference = harness.quality_report(
            real, holdout[holdout[label] == value][names_given], metadata_given
        )
        fidelity.append(
            {
                "value": value,
                "real_rows": len(real),
                **scores,
                "holdout_overall": reference["sdm_overall"],
                "gap": scores["sdm_overall"] - overall["sdm_overall"],
            }
        )
    result["fidelity"] = fidelity
    print("  fidelity scored", flush=True)

    # 3. Balanced resampling -----------------------------------------------------------------
    minority = values[-1]
    n_extra = result["train_counts"][values[0]] - result["train_counts"][minority]
    augmentation: list[dict[str, Any]] = []
    real_only = classify(train, holdout, kinds, label, minority)
    augmentation.append({"training rows": "real", **real_only})
    weighted = classify(train, holdout, kinds, label, minority, class_weight="balanced")
    augmentation.append({"training rows": "real, class_weight='balanced'", **weighted})
    duplicated = pd.concat(
        [train, train[train[label] == minority].sample(n_extra, replace=True, random_state=SEED)],
        ignore_index=True,
    )
    augmentation.append(
        {
            "training rows": f"real + {n_extra} duplicated real {minority!r} rows "
            "(random oversampling)",
            **classify(duplicated, holdout, kinds, label, minority),
        }
    )
    runs = []
    for seed in AUGMENT_SEEDS:
        extra = model.sample(n_extra, conditions={label: minority}, seed=seed)
        augmented = pd.concat([train, extra], ignore_index=True)
        runs.append(classify(augmented, holdout, kinds, label, minority))
        if seed == AUGMENT_SEEDS[0]:
            check = harness.ev.ml_efficacy(
                train, augmented, holdout, label, seed=SEED, columns=kinds
            )
            result["ml_efficacy_check"] = {
                "real": check["real"],
                "augmented": check["synthetic"],
                "mine_real": real_only["auc"],
                "mine_augmented": runs[-1]["auc"],
            }
            if (
                max(
                    abs(check["real"] - real_only["auc"]), abs(check["synthetic"] - runs[-1]["auc"])
                )
                > 1e-9
            ):
                problems.append(f"AUC differs from evaluation.ml_efficacy: {check}")
    for metric in ("auc", "balanced_accuracy", "predicted_positive"):
        scores = np.array([r[metric] for r in runs])
        result.setdefault("augmented_runs", {})[metric] = scores.tolist()
    augmentation.append(
        {
            "training rows": f"real + {n_extra} generated {minority!r} rows "
            f"(mean of seeds {', '.join(map(str, AUGMENT_SEEDS))})",
            **{m: float(np.mean(v)) for m, v in result["augmented_runs"].items()},
            "spread": {m: float(np.ptp(v)) for m, v in result["augmented_runs"].items()},
        }
    )
    result["augmentation"] = augmentation
    result["minority"] = minority
    result["n_extra"] = n_extra
    print("  resampling scored", flush=True)

    # 4. Transfer ----------------------------------------------------------------------------
    transferred = model.transfer(holdout, set={})
    rebuilt = model.reconstruct(holdout)
    problems += dtype_problems(transferred, train, "transfer(holdout, set={})")
    share, differing = cells_equal(transferred, rebuilt)
    identity = [{"check": "transfer(holdout, set={}) vs reconstruct(holdout)", "equal": share}]
    if differing:
        problems.append(f"transfer(set={{}}) differs from reconstruct in {differing}")
    for value in values:
        rows = holdout[holdout[label] == value].reset_index(drop=True)
        same, differing = cells_equal(
            model.transfer(rows, set={label: value}), model.reconstruct(rows)
        )
        identity.append(
            {
                "check": f"transfer(rows {label}={value}, set={{{label}: {value}}}) "
                "vs reconstruct(rows)",
                "equal": same,
            }
        )
        if differing:
            problems.append(f"transfer(set={{{label}: {value}}}) differs on {differing}")
    result["identity"] = identity

    numbers = [name for name, kind in kinds.items() if kind == "numerical"]
    categories = [name for name, kind in kinds.items() if kind != "numerical" and name != label]
    moves = []
    category_moves = []
    for source in values:
        rows = holdout[holdout[label] == source].reset_index(drop=True)
        before = model.reconstruct(rows)
        for target in values:
            if target == source:
                continue
            after = model.transfer(rows, set={label: target})
            problems += dtype_problems(after, train, f"transfer(set={{{label}: {target}}})")
            share = float((after[label] == target).mean())
            if share != 1.0:
                problems.append(f"transfer to {target!r}: only {share:.4%} carry it")
            real_source = train[train[label] == source]
            real_target = train[train[label] == target]
            for name in numbers:
                real_gap = real_target[name].mean() - real_source[name].mean()
                spread = train[name].std()
                moved = after[name].mean() - before[name].mean()
                moves.append(
                    {
                        "column": name,
                        "flip": f"{source} → {target}",
                        "rows": len(rows),
                        "train_source": real_source[name].mean(),
                        "train_target": real_target[name].mean(),
                        "rows_real": rows[name].mean(),
                        "reconstructed": before[name].mean(),
                        "transferred": after[name].mean(),
                        "moved_share": moved / real_gap if real_gap else float("nan"),
                        "direction": bool(np.sign(moved) == np.sign(real_gap)),
                        "gap_in_sd": real_gap / spread if spread else float("nan"),
                    }
                )
            for name in categories:
                shares_source = real_source[name].value_counts(normalize=True, dropna=False)
                shares_target = real_target[name].value_counts(normalize=True, dropna=False)
                difference = shares_target.sub(shares_source, fill_value=0.0)
                level = difference.abs().idxmax()
                real_gap = float(difference[level])

                def share_of(frame: pd.DataFrame, name: str = name, level: Any = level) -> float:
                    column = frame[name]
                    if pd.isna(level):
                        return float(column.isna().mean())
                    return float((column == level).mean())

                moved = share_of(after) - share_of(before)
                category_moves.append(
                    {
                        "column": f"{name} = {level}",
                        "flip": f"{source} → {target}",
                        "rows": len(rows),
                        "train_source": share_of(real_source),
                        "train_target": share_of(real_target),
                        "rows_real": share_of(rows),
                        "reconstructed": share_of(before),
                        "transferred": share_of(after),
                        "moved_share": moved / real_gap if real_gap else float("nan"),
                        "direction": bool(np.sign(moved) == np.sign(real_gap)),
                        "gap_in_sd": float("nan"),
                        "strength": abs(real_gap),
                    }
                )
    category_moves.sort(key=lambda r: -r["strength"])
    per_flip = len(values) * (len(values) - 1)
    result["moves"] = moves
    result["category_moves"] = category_moves[: TRANSFER_CATEGORICAL * per_flip]
    print("  transfer measured", flush=True)
    return result


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------


def fmt(value: Any, digits: int = 3) -> str:
    return harness.fmt(float(value) if isinstance(value, np.floating) else value, digits)


def pct(value: float, digits: int = 2) -> str:
    return "—" if value is None or np.isnan(value) else f"{100 * value:.{digits}f} %"


def render(results: list[dict[str, Any]], n: int) -> str:
    table = harness.markdown_table
    setup = []
    exact = []
    fidelity = []
    augmentation = []
    identity = []
    moves = []
    category_moves = []
    for r in results:
        t = r["table"]
        counts = ", ".join(f"{v} {c}" for v, c in r["train_counts"].items())
        setup.append(
            [t, r["label"], counts, fmt(r["epochs_run"]), str(r["params"]["epochs"]),
             fmt(r["fit_seconds"], 1)]
        )  # fmt: skip
        base = r["unconditional"]["rows_per_s"]
        base_best = r["unconditional"]["best_rows_per_s"]
        exact.append(
            [t, "(none) sample(n)", "—", "—", "—", f"{base:,.0f}", f"{base_best:,.0f}", "1.00",
             "1.00"]
        )  # fmt: skip
        for e in r["exactness"]:
            exact.append(
                [
                    t,
                    str(e["value"]),
                    pct(e["train_share"], 1),
                    pct(e["unconditional_share"], 1),
                    f"{e['matches']:,} / {e['rows']:,}",
                    f"{e['rows_per_s']:,.0f}",
                    f"{e['best_rows_per_s']:,.0f}",
                    fmt(e["rows_per_s"] / base, 2),
                    fmt(e["best_rows_per_s"] / base_best, 2),
                ]
            )
        for f in r["fidelity"]:
            gap = f["gap"]
            goal = "—" if np.isnan(gap) else ("yes" if gap >= -FIDELITY_GOAL else "**no**")
            fidelity.append(
                [
                    t,
                    str(f["value"]),
                    str(f["real_rows"]),
                    fmt(f["sdm_shapes"]),
                    fmt(f["sdm_pairs"]),
                    fmt(f["sdm_overall"]),
                    fmt(f["holdout_overall"]),
                    f"{f['holdout_overall'] - f['sdm_overall']:+.3f}",
                    "—" if np.isnan(gap) else f"{gap:+.3f}",
                    goal,
                ]
            )
        for a in r["augmentation"]:
            spread = a.get("spread")
            augmentation.append(
                [
                    t,
                    a["training rows"],
                    fmt(a["auc"]) + (f" (±{spread['auc'] / 2:.3f})" if spread else ""),
                    fmt(a["balanced_accuracy"])
                    + (f" (±{spread['balanced_accuracy'] / 2:.3f})" if spread else ""),
                    pct(a["predicted_positive"], 1),
                ]
            )
        for i in r["identity"]:
            identity.append([t, i["check"], pct(i["equal"], 3)])
        for rows, out in ((r["moves"], moves), (r["category_moves"], category_moves)):
            digits = 1 if out is moves else 3
            for m in rows:
                out.append(
                    [
                        t,
                        m["column"],
                        m["flip"],
                        str(m["rows"]),
                        fmt(m["train_source"], digits),
                        fmt(m["train_target"], digits),
                        fmt(m["rows_real"], digits),
                        fmt(m["reconstructed"], digits),
                        fmt(m["transferred"], digits),
                        fmt(m["moved_share"], 2),
                        "yes" if m["direction"] else "**no**",
                    ]
                    + ([f"{m['gap_in_sd']:+.2f}"] if out is moves else [])
                )
    move_headers = [
        "table",
        "column",
        "flip (holdout rows)",
        "rows",
        "train mean, old label",
        "train mean, new label",
        "rows' real mean",
        "reconstructed (before)",
        "transferred (after)",
        "moved / real gap",
        "same direction",
    ]
    parts = [
        "### Fits\n",
        table(["table", "condition", "training rows", "epochs run", "max epochs", "fit s"], setup),
        f"\n### 1. Exactness and speed (n = {n:,} rows per call; rows/s: median and "
        f"best of {TIMING_REPEATS} warm calls, the kinds of call interleaved)\n",
        table(
            [
                "table",
                "asked value",
                "share in training",
                "share in unconditional sample",
                "rows carrying the asked value",
                "rows/s (median)",
                "rows/s (best)",
                "vs sample(n), median",
                "vs sample(n), best",
            ],
            exact,
        ),
        "\n### 2. Fidelity given the condition (SDMetrics QualityReport vs training rows with "
        "the value; the condition column left out of per-value reports)\n",
        table(
            [
                "table",
                "value",
                "real rows",
                "SDM shapes",
                "SDM pair trends",
                "SDM overall",
                "holdout overall (ceiling)",
                "ceiling − overall",
                "gap vs unconditional",
                f"within {FIDELITY_GOAL}",
            ],
            fidelity,
        ),
        "\n### 3. Balanced resampling (HistGradientBoosting, scored on the real 20 %; "
        "positive class = minority label; ± half the range over the generation seeds)\n",
        table(
            ["table", "training rows", "ROC AUC", "balanced accuracy", "predicted positive"],
            augmentation,
        ),
        "\n### 4a. transfer with no change vs reconstruct\n",
        table(["table", "check", "equal cells"], identity),
        "\n### 4b. Flipping the label with transfer: numeric columns (means)\n",
        table([*move_headers, "real gap / training SD"], moves),
        "\n### 4b. Flipping the label with transfer: categorical levels whose share differs "
        "most between labels (shares)\n",
        table(
            [h.replace("mean", "share") for h in move_headers],
            category_moves,
        ),
    ]
    return "\n".join(parts) + "\n"


def machine() -> dict[str, str]:
    """Like benchmarks/run.py's, without importing torch (not used here)."""
    return harness.machine(("tensorflow", "keras", "sdmetrics", "sklearn", "pandas"))


def document(
    results: list[dict[str, Any]], text: str, info: dict[str, str], command: str, total: float
) -> str:
    machine_lines = "\n".join(f"- {key}: {value}" for key, value in info.items())
    machine_lines += "\n- load_average_at_end: " + " ".join(
        f"{load:.2f}" for load in os.getloadavg()
    )
    models = "\n".join(
        f"- {r['table']} ({r['source']}): `TabularVAE("
        + ", ".join(f"{k}={v!r}" for k, v in r["params"].items())
        + ")`"
        for r in results
    )
    problems = "\n".join(f"- {r['table']}: {p}" for r in results for p in r["problems"])
    checks = "\n".join(
        f"- {r['table']}: real {r['ml_efficacy_check']['real']:.6f} / "
        f"{r['ml_efficacy_check']['mine_real']:.6f}, augmented (seed 0) "
        f"{r['ml_efficacy_check']['augmented']:.6f} / "
        f"{r['ml_efficacy_check']['mine_augmented']:.6f}"
        for r in results
        if "ml_efficacy_check" in r
    )
    return (
        f"# Conditional generation {dt.date.today().isoformat()}\n\n"
        f"Command: `{command}` ({total / 60:.0f} minutes)\n\n"
        f"## Machine\n\n{machine_lines}\n\n"
        f"## Models (every parameter)\n\n{models}\n\n"
        f"## Results\n\n{text}\n"
        "ROC AUC cross-check, `tabvae.evaluation.ml_efficacy` / this script's classifier:\n\n"
        f"{checks}\n\n"
        f"## Problems recorded during the run\n\n{problems or 'none'}\n"
    )


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tables",
        nargs="+",
        choices=list(CONDITIONS),
        default=list(CONDITIONS),
        help="tables to run (default: all)",
    )
    parser.add_argument("--epochs", type=int, help="most epochs per fit (default: tabvae's)")
    parser.add_argument(
        "-n", type=int, default=N_SAMPLE, help=f"rows per sampling call (default {N_SAMPLE})"
    )
    parser.add_argument(
        "--output", default=str(ROOT / "benchmarks" / "results"), help="results folder"
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    import tabvae.synthesizer  # noqa: F401  (TensorFlow loaded before anything is timed)

    info = machine()
    print("Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), flush=True)
    started = time.perf_counter()
    results = []
    failures = []
    for key in args.tables:
        try:
            results.append(run_table(key, args.epochs, args.n))
        except Exception as exc:
            failures.append(f"{key}: {type(exc).__name__}: {exc}")
            traceback.print_exc()
    total = time.perf_counter() - started
    text = render(results, args.n) if results else ""
    print("\n" + text)
    for r in results:
        for problem in r["problems"]:
            print(f"Problem: {r['table']}: {problem}")
    for failure in failures:
        print(f"FAILED: {failure}")
    print(f"Total {total:.0f} s")
    if not args.no_write and results:
        command = "python benchmarks/conditional.py" + "".join(
            f" {shlex.quote(a)}" for a in (argv if argv is not None else sys.argv[1:])
        )
        out_dir = Path(args.output)
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{dt.date.today().isoformat()}-conditional.md"
        body = document(results, text, info, command, total)
        if failures:
            body += "\n## Tables that failed\n\n" + "\n".join(f"- {f}" for f in failures) + "\n"
        path.write_text(body, encoding="utf-8")
        print(f"Wrote {path}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
