"""Measure one tabvae setting on one benchmark table, quickly (tabvae only, no peer).

Usage::

    python benchmarks/lever.py ames                                # the defaults
    python benchmarks/lever.py ames '{"beta": 0.05, "prior_components": 30}'

Fits ``TabularVAE(random_state=0, **params)`` (a ``random_state`` in ``params`` wins) on the
80 % split of ``run.py`` and prints one JSON line: epochs run, fit seconds, sampling rows/s
(training-split size), column shapes and all-pairs trends (``tabvae.evaluation``, not
SDMetrics), detection AUC, ML efficacy (real, synthetic), DCR share, exact copies and logical
consistency. For trying a lever before a full ``run.py``; it is not a benchmark against the
peer.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import run as bench

from tabvae import TabularVAE
from tabvae import evaluation as ev


def main(argv: list[str]) -> None:
    spec, params = bench.setting_from_argv(argv, "lever.py")
    table = bench.load_table(spec, None)
    train, holdout = bench.split(table)
    kinds = bench.column_kinds(table)  # as run.py: the evaluation metadata of the whole table
    started = time.perf_counter()
    model = TabularVAE(**{"random_state": bench.SEED, **params}).fit(train)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    synthetic = model.sample(len(train), seed=bench.SEED)
    sample_seconds = time.perf_counter() - started
    ml = ev.ml_efficacy(train, synthetic, holdout, spec.target, seed=bench.SEED, columns=kinds)
    result = {
        "table": spec.key,
        "params": params,
        "epochs": model.epochs_run_,
        "fit_s": fit_seconds,
        "sample_rows_per_s": len(synthetic) / sample_seconds,
        "shapes": ev.column_shapes(train, synthetic, kinds)[0],
        "pairs_all": ev.pair_trends(train, synthetic, kinds)[0],
        "detection": ev.detection_auc(train, synthetic, seed=bench.SEED, columns=kinds),
        "ml_real": ml.get("real"),
        "ml_synthetic": ml.get("synthetic"),
        "dcr": ev.dcr_share(train, holdout, synthetic, seed=bench.SEED, columns=kinds),
        "exact_copies": ev.exact_copy_share(train, synthetic),
        "logical": ev.logical_consistency(train, synthetic, kinds)[0],
    }
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}))


if __name__ == "__main__":
    main(sys.argv[1:])
