"""Privacy protections: extreme values, rare categories, the DCR guard."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tabvae import DataError, TabularVAE, infer_schema
from tabvae.protections import (
    RARE_PLACEHOLDER,
    clip_extremes,
    guarded_sample,
    merge_rare_categories,
)


def test_extremes_are_clipped_to_the_kth_value():
    income = np.arange(100.0)
    income[-1] = 1e9  # one person's outlier
    frame = pd.DataFrame({"income": income, "n": np.arange(100)})
    schema = infer_schema(frame).resolve(frame)
    clipped, narrowed = clip_extremes(frame, schema, k=5)
    assert clipped["income"].max() == 94.0 and clipped["income"].min() == 4.0
    assert narrowed["income"].max == 94.0
    assert frame["income"].max() == 1e9  # the caller's frame is untouched
    assert clipped["n"].dtype == frame["n"].dtype


def test_rare_categories_become_a_placeholder():
    frame = pd.DataFrame({"city": ["Oslo"] * 20 + ["Lima"] * 10 + ["Tiny"] * 2})
    schema = infer_schema(frame).resolve(frame)
    merged, changed = merge_rare_categories(frame, schema, k=5)
    assert set(merged["city"]) == {"Oslo", "Lima", RARE_PLACEHOLDER}
    assert "Tiny" not in changed["city"].categories


def test_fit_applies_protections_and_never_emits_the_outlier():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {"income": rng.lognormal(10, 1, 300).round(), "city": rng.choice(["a", "b", "c"], 300)}
    )
    frame.loc[0, "income"] = 9_999_999.0
    frame.loc[1, "city"] = "unique-person-town"
    model = TabularVAE(epochs=3, hidden=(16,), latent_dim=4, random_state=0, rare_category_k=5).fit(
        frame
    )
    rows = model.sample(2000, seed=0)
    assert rows["income"].max() < 9_999_999.0
    assert "unique-person-town" not in set(rows["city"])
    assert model.schema_["income"].max < 9_999_999.0


def test_dcr_guard_drops_rows_that_are_too_close():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=400), "g": rng.choice(["u", "v"], 400)})
    train, holdout = frame.iloc[:300], frame.iloc[300:]
    model = TabularVAE(epochs=3, hidden=(16,), latent_dim=4, random_state=0).fit(train)
    result = guarded_sample(model, 200, train, holdout, quantile=0.2, seed=0)
    assert len(result.rows) == 200 and result.dropped > 0
    from tabvae.evaluation import distances_to_closest

    kinds = {"x": "numerical", "g": "categorical"}
    assert (distances_to_closest(train, result.rows, kinds) >= result.threshold).all()
    with pytest.raises(DataError, match="quantile"):
        guarded_sample(model, 10, train, quantile=0.9)


def test_cli_guard(tmp_path):
    from click.testing import CliRunner

    from tabvae.cli import main

    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"x": rng.normal(size=200), "g": rng.choice(["u", "v"], 200)})
    frame.to_csv(tmp_path / "train.csv", index=False)
    model = TabularVAE(epochs=2, hidden=(8,), latent_dim=2, random_state=0).fit(frame)
    model.save(tmp_path / "model")
    result = CliRunner().invoke(
        main,
        [
            "sample",
            str(tmp_path / "model"),
            "-n",
            "50",
            "-o",
            str(tmp_path / "out.csv"),
            "--guard",
            str(tmp_path / "train.csv"),
            "--seed",
            "0",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "DCR guard" in result.output and len(pd.read_csv(tmp_path / "out.csv")) == 50


def test_a_computed_log_follows_its_clipped_source_when_it_has_no_range():
    # The log of an amount that can be 0 has no range to clip to; it must still be computed
    # again from the clipped amount, or its rule's tolerance grows and synthetic logs drift.
    rng = np.random.default_rng(3)
    amount = rng.lognormal(8, 1, 300).round()
    amount[:20] = 0.0
    with np.errstate(divide="ignore"):
        log_amount = np.where(amount > 0, np.log(amount), np.nan)
    frame = pd.DataFrame({"amount": amount, "log_amount": log_amount, "x": rng.normal(size=300)})
    schema = infer_schema(frame).resolve(frame)
    assert schema["log_amount"].computed_from == {
        "column": "amount",
        "function": "log",
        "scale": 1.0,
        "offset": 0.0,
    }
    clipped, _ = clip_extremes(frame, schema, k=5)
    assert clipped["amount"].max() < frame["amount"].max()
    positive = clipped["amount"] > 0
    np.testing.assert_allclose(
        clipped.loc[positive, "log_amount"], np.log(clipped.loc[positive, "amount"]), atol=1e-9
    )
    model = TabularVAE(epochs=2, hidden=(16,), latent_dim=4, random_state=0).fit(frame)
    rows = model.sample(300, seed=0)
    positive = rows["amount"] > 0
    np.testing.assert_allclose(
        rows.loc[positive, "log_amount"], np.log(rows.loc[positive, "amount"]), atol=1e-9
    )
