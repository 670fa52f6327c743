#!/usr/bin/env bash
# The command line from start to end on the example table. Run: bash examples/cli.sh [EPOCHS]
# Writes to ./example-cli/. Every command has --help.
set -euo pipefail
epochs=${1:-}
out=example-cli
mkdir -p "$out"
python -c "from tabvae.demo import demo_table; demo_table().to_csv('$out/credit.csv', index=False)"

tabvae schema infer "$out/credit.csv" -o "$out/schema.json"
tabvae fit "$out/credit.csv" --schema "$out/schema.json" --holdout 0.2 -o "$out/model" \
  --seed 0 ${epochs:+--epochs "$epochs"}
tabvae sample "$out/model" -n 5000 -o "$out/synthetic.parquet" --seed 1
tabvae report "$out/model-train.csv" "$out/synthetic.parquet" \
  --holdout "$out/model-holdout.csv" --target Status -o "$out/report.html"
ls "$out"
