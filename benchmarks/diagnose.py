"""Where a table's detection AUC and ML efficacy are lost: in the latent prior, or the decoder.

Usage::

    python benchmarks/diagnose.py ames
    python benchmarks/diagnose.py ames '{"beta": 0.05}'

Fits ``TabularVAE(random_state=0, **params)`` on the 80 % split of ``run.py`` and prints one
JSON line with the detection AUC (``tabvae.evaluation.detection_auc`` against the training
split) and the ML efficacy (``tabvae.evaluation.ml_efficacy``, scored on the 20 % holdout) of
three sets of rows, each as many as the training split:

* ``prior``: ``sample()``, latent codes from the fitted prior (what users get);
* ``posterior_draw``: one code drawn from the encoder's posterior of each training row, then
  decoded with the usual sampling noise: what a perfect prior (one that matched the aggregate
  posterior exactly) would give;
* ``posterior_mean``: the posterior mean of each training row, decoded the same way.

It also prints ``reconstruction``: per column, how well the most likely values decoded from
each training row's posterior mean match the row (Spearman correlation for numbers, share
decoded to their own value for categories and booleans). A column scoring near its base rate
is left out of the latent code, so no prior can bring its links to other columns back.

When ``posterior_draw`` is close to ``prior``, a better prior cannot help much: the rows are
told apart (or the target is lost) by what the decoder does given a code. It reads private
helpers of ``TabularVAE`` on purpose; it is a diagnostic, not an API.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import run as bench

from tabvae import TabularVAE
from tabvae import evaluation as ev


def main(argv: list[str]) -> None:
    spec, params = bench.setting_from_argv(argv, "diagnose.py")
    table = bench.load_table(spec, None)
    train, holdout = bench.split(table)
    kinds = bench.column_kinds(table)
    model = TabularVAE(random_state=bench.SEED, **params).fit(train)
    rng = np.random.default_rng(bench.SEED)
    blocks = model._model_inputs(model.transformer_.transform(train))
    z_mean, z_log_var = model._encode_blocks(blocks)
    z_sd = np.exp(0.5 * z_log_var)
    draws = z_mean + z_sd * rng.standard_normal(z_mean.shape)
    rows = {
        "prior": model.sample(len(train), seed=bench.SEED),
        "posterior_draw": model._decode(draws, rng),
        "posterior_mean": model._decode(z_mean, rng),
    }
    result = {"table": spec.key, "params": params, "epochs": model.epochs_run_}
    for name, synthetic in rows.items():
        result[name] = ev.detection_auc(train, synthetic, seed=bench.SEED, columns=kinds)
        ml = ev.ml_efficacy(train, synthetic, holdout, spec.target, seed=bench.SEED, columns=kinds)
        result[f"{name}_ml"] = ml.get("synthetic")
    result["real_ml"] = ml.get("real")
    result["reconstruction"] = reconstruction(train, model._decode(z_mean, None), kinds)
    # How much of the latent space each row's posterior covers, against the spread of means.
    result["posterior_sd"] = float(z_sd.mean())
    result["sd_of_means"] = float(z_mean.std(axis=0).mean())
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in result.items()}))


def reconstruction(
    train: pd.DataFrame, decoded: pd.DataFrame, kinds: dict[str, str]
) -> dict[str, float]:
    """Score how well each column survives encoding: a column the code leaves out scores low.

    ``decoded`` holds the most likely values decoded from each training row's posterior mean.
    Numbers score the Spearman correlation with the real values; categories and booleans the
    share of rows decoded to their own value.
    """
    scores = {}
    for column in train.columns:
        kind = kinds.get(column)
        if kind == "numerical":
            real = pd.to_numeric(train[column], errors="coerce")
            scores[column] = real.corr(
                pd.to_numeric(decoded[column], errors="coerce"), method="spearman"
            )
        elif kind in ("categorical", "boolean"):
            same = train[column].astype(str).to_numpy() == decoded[column].astype(str).to_numpy()
            scores[column] = same.mean()
    return {column: round(float(score), 3) for column, score in scores.items()}


if __name__ == "__main__":
    main(sys.argv[1:])
