"""Conditional generation, transfer and imputation (a conditional VAE)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from conftest import make_daily_prices

from tabvae import DataError, SchemaError, TabularVAE
from tabvae.cli import main

FAST = {"epochs": 5, "batch_size": 64, "hidden": (32,), "latent_dim": 4, "random_state": 0}


@pytest.fixture(scope="module")
def conditional(mixed_frame):
    # "rare" holds a value seen only three times: it must be generated just as reliably.
    frame = mixed_frame.copy()
    frame["tier"] = np.where(np.arange(len(frame)) < 3, "rare", "common")
    return frame, TabularVAE(**FAST, condition_on=["city", "tier", "age"]).fit(frame)


def test_every_row_carries_the_asked_values(conditional):
    frame, model = conditional
    rows = model.sample(300, conditions={"city": "Oslo", "tier": "rare"}, seed=0)
    assert (rows["city"] == "Oslo").all() and (rows["tier"] == "rare").all()
    assert rows.dtypes.to_dict() == frame.dtypes.to_dict()
    numbers = model.sample(50, conditions={"age": 44}, seed=0)
    assert (numbers["age"] == 44).all()


def test_a_frame_of_conditions_gives_one_row_each(conditional):
    _, model = conditional
    wanted = pd.DataFrame({"city": ["Lima", None, "Kyiv"], "tier": ["common", "rare", "rare"]})
    rows = model.sample(conditions=wanted, seed=1)
    assert rows["city"].tolist()[0::2] == ["Lima", "Kyiv"] and pd.isna(rows["city"][1])
    assert rows["tier"].tolist() == ["common", "rare", "rare"]


def test_unconditional_sampling_keeps_condition_marginals(conditional):
    frame, model = conditional
    rows = model.sample(4000, seed=2)
    real = frame["city"].value_counts(normalize=True, dropna=False)
    fake = rows["city"].value_counts(normalize=True, dropna=False)
    assert (real - fake).abs().max() < 0.05
    assert abs((rows["tier"] == "rare").mean() - 3 / len(frame)) < 0.01


@pytest.mark.parametrize(
    ("conditions", "message"),
    [
        ({"city": "Atlantis"}, "Atlantis"),
        ({"plan": "pro"}, "conditions on"),
        ({"age": 500}, "outside the training range"),
    ],
)
def test_impossible_conditions_are_clear_errors(conditional, conditions, message):
    _, model = conditional
    with pytest.raises(DataError, match=message):
        model.sample(5, conditions=conditions)


def test_conditions_need_a_conditional_model(fitted):
    with pytest.raises(DataError, match="condition_on"):
        fitted.sample(5, conditions={"city": "Oslo"})


def test_only_learnable_columns_can_be_conditions(mixed_frame):
    with pytest.raises(SchemaError, match="id column"):
        TabularVAE(**FAST, condition_on=["customer_id"]).fit(mixed_frame)
    with pytest.raises(SchemaError, match="no such column"):
        TabularVAE(**FAST, condition_on=["nope"]).fit(mixed_frame)


def test_transfer(conditional):
    frame, model = conditional
    rows = frame.head(20)
    unchanged = model.transfer(rows, set={})
    pd.testing.assert_frame_equal(unchanged, model.reconstruct(rows))
    moved = model.transfer(rows, set={"city": "Pune"})
    assert (moved["city"] == "Pune").all()
    assert moved["customer_id"].tolist() == rows["customer_id"].tolist()


def test_impute_fills_only_the_gaps(conditional):
    frame, model = conditional
    holes = frame.head(30).copy()
    holes.loc[0:4, "income"] = np.nan
    holes.loc[5:9, "plan"] = np.nan
    holes.loc[10:12, "city"] = None
    filled = model.impute(holes, seed=0)
    assert filled[["income", "plan", "city"]].notna().all().all()
    known = holes.notna()
    for name in holes.columns:
        assert filled[name][known[name]].tolist() == holes[name][known[name]].tolist(), name
    assert filled.dtypes.to_dict() == holes.dtypes.to_dict()


def test_conditional_model_round_trips_through_a_file(conditional, tmp_path):
    _, model = conditional
    loaded = TabularVAE.load(model.save(tmp_path / "cvae.zip"))
    assert loaded.condition_priors_.keys() == model.condition_priors_.keys()
    asked = {"city": "Lima", "tier": "rare"}
    pd.testing.assert_frame_equal(
        loaded.sample(40, conditions=asked, seed=3), model.sample(40, conditions=asked, seed=3)
    )


def test_cli_where_transfer_and_impute(conditional, tmp_path):
    frame, model = conditional
    model.save(tmp_path / "model")
    frame.head(12).to_csv(tmp_path / "rows.csv", index=False)
    runner = CliRunner()
    result = runner.invoke(
        main,
        [
            "sample",
            str(tmp_path / "model"),
            "-n",
            "25",
            "--where",
            "city=Kyiv",
            "--where",
            "age=30",
            "-o",
            str(tmp_path / "out.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    out = pd.read_csv(tmp_path / "out.csv")
    assert (out["city"] == "Kyiv").all() and (out["age"] == 30).all()
    result = runner.invoke(
        main,
        [
            "transfer",
            str(tmp_path / "model"),
            str(tmp_path / "rows.csv"),
            "--set",
            "tier=rare",
            "-o",
            str(tmp_path / "t.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (pd.read_csv(tmp_path / "t.csv")["tier"] == "rare").all()
    result = runner.invoke(
        main,
        [
            "impute",
            str(tmp_path / "model"),
            str(tmp_path / "rows.csv"),
            "-o",
            str(tmp_path / "i.csv"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert pd.read_csv(tmp_path / "i.csv")["income"].notna().all()
    bad = runner.invoke(
        main,
        [
            "sample",
            str(tmp_path / "model"),
            "-n",
            "5",
            "--where",
            "city",
            "-o",
            str(tmp_path / "x.csv"),
        ],
    )
    assert bad.exit_code == 1 and "COLUMN=VALUE" in bad.output


def test_common_condition_values_get_their_own_latent_prior(mixed_frame, tmp_path):
    model = TabularVAE(**FAST, condition_on=["is_member"]).fit(mixed_frame)
    assert set(model.condition_priors_) == {(True,), (False,)}
    loaded = TabularVAE.load(model.save(tmp_path / "m"))
    assert set(loaded.condition_priors_) == {(True,), (False,)}
    rows = loaded.sample(100, conditions={"is_member": True}, seed=0)
    assert rows["is_member"].all()


def test_an_asked_date_stays_when_it_fixes_a_number():
    # The date fixes a daily average; moving a row's date to fit its drawn average must
    # never move a date the user asked for.
    frame = make_daily_prices(n_days=90, n_rows=900, seed=0)
    asked = frame["date"].iloc[0]
    average = frame.loc[frame["date"] == asked, "daily_average"].iloc[0]
    model = TabularVAE(**FAST | {"condition_on": ["date"]}, extreme_value_k=0).fit(frame)
    assert model.schema_["daily_average"].determined_by == "date"
    rows = model.sample(300, conditions={"date": asked}, seed=0)
    assert (rows["date"] == asked).all()
    assert (rows["daily_average"] == average).all()


def test_a_given_column_computed_from_another_becomes_its_source():
    rng = np.random.default_rng(0)
    yes = rng.integers(0, 101, 300)
    minutes = rng.uniform(0, 300, 300).round(1)
    frame = pd.DataFrame(
        {
            "yes_pct": yes,
            "no_pct": 100 - yes,  # turns around exactly
            "yes_share": yes / 100,
            "minutes": minutes,
            "charge": (minutes * 0.17).round(1),  # a dime spans several tenths of a minute
        }
    )
    settings = {"epochs": 3, "batch_size": 64, "hidden": (32,), "latent_dim": 4}
    model = TabularVAE(**settings, condition_on=["no_pct", "charge"], random_state=0)
    model.fit(frame)
    computed = {c.name: c.computed_from for c in model.schema_.columns if c.computed_from}
    # The charge cannot give back the minutes: the two are learned apart.
    assert computed == {
        "yes_pct": {"column": "no_pct", "scale": -1.0, "offset": 100.0},
        "yes_share": {"column": "no_pct", "scale": -0.01, "offset": 1.0},
    }
    rows = model.sample(40, seed=0, conditions={"no_pct": 30, "charge": 17.0})
    assert (rows["yes_pct"] == 70).all() and np.allclose(rows["yes_share"], 0.7)
    assert (rows["charge"] == 17.0).all()


def test_an_asked_number_without_fixed_decimals_comes_back_exactly():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"score": rng.normal(size=200), "group": rng.choice(["a", "b"], 200)})
    model = TabularVAE(**FAST, condition_on=["score"]).fit(frame)
    asked = 0.123456789123
    assert (model.sample(20, seed=0, conditions={"score": asked})["score"] == asked).all()
    moved = model.transfer(frame.head(5), {"score": asked})
    assert (moved["score"] == asked).all()
    assert model.reconstruct(frame.head(5))["score"].tolist() == frame["score"][:5].tolist()


def test_a_given_log_gives_its_number_back():
    rng = np.random.default_rng(2)
    wage = np.exp(rng.normal(2.0, 0.5, 300)).round(2)
    frame = pd.DataFrame(
        {"wage": wage, "lwage": np.log(wage).round(6), "hours": rng.integers(10, 60, 300)}
    )
    settings = {"epochs": 3, "batch_size": 64, "hidden": (32,), "latent_dim": 4}
    model = TabularVAE(**settings, condition_on=["lwage"], random_state=0).fit(frame)
    assert model.schema_["wage"].computed_from == {
        "column": "lwage",
        "function": "exp",
        "scale": 1.0,
        "offset": 0.0,
    }
    asked = float(frame["lwage"][7])
    rows = model.sample(40, seed=0, conditions={"lwage": asked})
    assert (rows["lwage"] == asked).all() and (rows["wage"] == frame["wage"][7]).all()


def test_a_given_total_has_its_last_open_term_computed_from_it():
    rng = np.random.default_rng(1)
    principal = rng.uniform(100, 5000, 300).round(2)
    interest = (principal * rng.uniform(0.05, 0.3, 300)).round(2)
    frame = pd.DataFrame(
        {"principal": principal, "interest": interest, "paid": (principal + interest).round(2)}
    )
    settings = {"epochs": 3, "batch_size": 64, "hidden": (32,), "latent_dim": 4}
    model = TabularVAE(**settings, condition_on=["paid"], random_state=0).fit(frame)
    assert model.schema_["paid"].computed_from is None
    assert model.schema_["interest"].computed_from == {
        "columns": {"paid": 1.0, "principal": -1.0},
        "offset": 0.0,
    }
    rows = model.sample(40, seed=0, conditions={"paid": float(frame["paid"][5])})
    assert (rows["paid"] == frame["paid"][5]).all()
    assert np.allclose(rows["principal"] + rows["interest"], rows["paid"], rtol=0, atol=1e-6)
