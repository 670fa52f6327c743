"""Tests of tabvae.evaluation: each measure must separate a good synthetic table from a bad one."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from tabvae import evaluation as ev


def make_table(n: int, seed: int) -> pd.DataFrame:
    """A mixed table with correlated numbers, categories, a dependency, booleans, dates, NaN."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = 2.0 * x + rng.normal(scale=0.5, size=n)
    city = rng.choice(["paris", "lyon", "nice", "lille"], size=n, p=[0.4, 0.3, 0.2, 0.1])
    region = pd.Series(city).map(
        {"paris": "north", "lille": "north", "lyon": "south", "nice": "south"}
    )
    income = np.where(rng.random(n) < 0.1, np.nan, np.exp(rng.normal(3, 0.5, size=n)))
    level = np.where(x > 0.5, "high", np.where(x < -0.5, "low", "mid"))
    return pd.DataFrame(
        {
            "x": x,
            "y": y,
            "count": rng.poisson(3, size=n),
            "income": income,
            "city": pd.Categorical(city),
            "region": region.astype(object),
            "level": level.astype(object),
            "flag": (x + rng.normal(size=n)) > 0,
            "day": pd.Timestamp("2020-01-01")
            + pd.to_timedelta(rng.integers(0, 365, size=n), unit="D"),
        }
    )


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    train = make_table(2000, seed=0)
    return {
        "train": train,
        "holdout": make_table(2000, seed=1),
        "fresh": make_table(2000, seed=2),
        "test": make_table(1000, seed=3),
    }


def garbage_like(df: pd.DataFrame, seed: int = 5) -> pd.DataFrame:
    """Right columns and dtypes, wrong distributions and no relationships."""
    rng = np.random.default_rng(seed)
    n = len(df)
    return pd.DataFrame(
        {
            "x": rng.uniform(5, 10, size=n),
            "y": rng.uniform(-10, -5, size=n),
            "count": rng.integers(50, 60, size=n),
            "income": rng.uniform(1000, 2000, size=n),
            "city": pd.Categorical(rng.choice(["nice", "lille"], size=n)),
            "region": rng.choice(["north", "south"], size=n).astype(object),
            "level": rng.choice(["high", "low", "mid"], size=n).astype(object),
            "flag": np.ones(n, dtype=bool),
            "day": pd.Timestamp("2030-01-01")
            + pd.to_timedelta(rng.integers(0, 10, size=n), unit="D"),
        }
    )


def shuffled_columns(df: pd.DataFrame, seed: int = 7) -> pd.DataFrame:
    """Every column permuted on its own: same marginals, relationships destroyed."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {name: df[name].to_numpy()[rng.permutation(len(df))] for name in df.columns}
    ).astype(df.dtypes.to_dict())


def test_column_shapes_identical_fresh_and_garbage(frames):
    train = frames["train"]
    score, per_column = ev.column_shapes(train, train.copy())
    assert score == pytest.approx(1.0)
    assert set(per_column) == set(train.columns)
    fresh_score, _ = ev.column_shapes(train, frames["fresh"])
    assert fresh_score > 0.9
    garbage_score, garbage_columns = ev.column_shapes(train, garbage_like(train))
    assert garbage_score < 0.4
    assert garbage_columns["x"] == pytest.approx(0.0, abs=0.01)


def test_column_shapes_matches_known_values():
    real = pd.DataFrame({"n": [1.0, 2.0, 3.0, 4.0], "c": ["a", "a", "b", None]})
    synthetic = pd.DataFrame({"n": [3.0, 4.0, 5.0, np.nan], "c": ["a", "b", "b", "z"]})
    _, per_column = ev.column_shapes(real, synthetic)
    # KS: real CDF at 2 is 0.5, synthetic 0 -> D = 0.5 (NaN dropped).
    assert per_column["n"] == pytest.approx(0.5)
    # TV over non-missing: real a 2/3, b 1/3; synthetic a 1/4, b 1/2, z 1/4.
    expected = 1 - 0.5 * (abs(2 / 3 - 1 / 4) + abs(1 / 3 - 1 / 2) + 1 / 4)
    assert per_column["c"] == pytest.approx(expected)


def test_values_compare_across_dtypes():
    real = pd.DataFrame({"a": pd.Series([1, 2, 2, 3], dtype="int64"), "b": [True, False] * 2})
    synthetic = pd.DataFrame(
        {"a": pd.Series([1.0, 2.0, 2.0, 3.0]), "b": pd.array([True, False] * 2, dtype="boolean")}
    )
    kinds = {"a": "categorical", "b": "boolean"}
    assert ev.column_shapes(real, synthetic, kinds)[0] == pytest.approx(1.0)
    assert ev.exact_copy_share(real, synthetic) == pytest.approx(1.0)


def test_pair_trends_sees_broken_relationships(frames):
    train = frames["train"]
    score, per_pair = ev.pair_trends(train, train.copy())
    assert score == pytest.approx(1.0)
    n = train.shape[1]
    assert len(per_pair) == n * (n - 1) // 2
    fresh_score, _ = ev.pair_trends(train, frames["fresh"])
    assert fresh_score > 0.9
    shuffled_score, shuffled_pairs = ev.pair_trends(train, shuffled_columns(train))
    # x ~ y correlate at ~0.97; shuffled, the synthetic correlation is ~0.
    assert shuffled_pairs[("x", "y")] < 0.6
    assert shuffled_pairs[("city", "region")] < 0.7
    assert shuffled_score < fresh_score - 0.05
    assert ev.pair_trends(train, garbage_like(train))[0] < 0.5


def test_dcr_share_copies_versus_fresh_rows(frames):
    train, holdout = frames["train"], frames["holdout"]
    copies = train.sample(len(train), replace=True, random_state=0)
    assert ev.dcr_share(train, holdout, copies) > 0.95
    assert ev.dcr_share(train, holdout, frames["fresh"]) == pytest.approx(0.5, abs=0.05)


def test_dcr_share_subsamples_train_to_holdout_size(frames):
    # With train four times the holdout, only a quarter of copied rows stay in the
    # subsample: a full copy scores 0.5 + 0.5 / 4.
    train = pd.concat([frames["train"], frames["fresh"]], ignore_index=True)
    train = pd.concat([train, train], ignore_index=True)
    copies = train.drop_duplicates()
    share = ev.dcr_share(train, frames["holdout"].iloc[:1000], copies, max_rows=5000)
    assert share == pytest.approx(0.625, abs=0.04)


def test_exact_copy_share(frames):
    train = frames["train"]
    assert ev.exact_copy_share(train, train.iloc[::-1]) == 1.0
    assert ev.exact_copy_share(train, frames["fresh"]) == 0.0
    mixed = pd.concat([train.iloc[:300], frames["fresh"].iloc[:700]], ignore_index=True)
    assert ev.exact_copy_share(train, mixed) == pytest.approx(0.3)
    # A missing value equals a missing value.
    row = train[train["income"].isna()].iloc[:1]
    assert ev.exact_copy_share(train, row) == 1.0


def test_nndr_is_zero_for_copies_and_large_for_fresh_rows(frames):
    train = frames["train"]
    assert ev.nndr(train, train.iloc[:500]) == pytest.approx(0.0, abs=1e-6)
    assert ev.nndr(train, frames["fresh"]) > 0.5


def test_detection_auc(frames):
    train = frames["train"]
    same = ev.detection_auc(train, frames["fresh"])
    assert same == pytest.approx(0.5, abs=0.07)
    assert ev.detection_auc(train, garbage_like(train)) > 0.99
    assert ev.detection_auc(train, shuffled_columns(train)) > 0.7


def test_ml_efficacy_classification_and_regression(frames):
    train, test = frames["train"], frames["test"]
    good = ev.ml_efficacy(train, frames["fresh"], test, target="level")
    assert good["task"] == "multiclass"
    assert good["metric"] == "roc_auc"
    assert good["real"] > 0.95
    assert good["ratio"] == pytest.approx(1.0, abs=0.05)
    broken = ev.ml_efficacy(train, shuffled_columns(train), test, target="level")
    assert broken["synthetic"] < 0.65
    assert broken["ratio"] < 0.7

    binary = ev.ml_efficacy(train, frames["fresh"], test, target="flag")
    assert binary["task"] == "binary"
    assert binary["synthetic"] > 0.7

    regression = ev.ml_efficacy(train, frames["fresh"], test, target="y")
    assert regression["task"] == "regression"
    assert regression["metric"] == "r2"
    assert regression["real"] > 0.8
    assert ev.ml_efficacy(train, shuffled_columns(train), test, target="y")["synthetic"] < 0.1


def test_ml_efficacy_single_class_synthetic_scores_chance(frames):
    train, test = frames["train"], frames["test"]
    constant = frames["fresh"].assign(flag=True)
    assert ev.ml_efficacy(train, constant, test, target="flag")["synthetic"] == 0.5


def test_empty_columns_are_measured_not_refused(frames):
    """A column missing in every row (or left empty by a synthesizer) informs no classifier."""
    train, test = frames["train"], frames["test"]
    fresh = frames["fresh"]
    empty = {"never_asked": np.nan}
    same = ev.detection_auc(train.assign(**empty), fresh.assign(**empty))
    assert same == pytest.approx(ev.detection_auc(train, fresh))
    emptied = fresh.assign(y=np.nan)
    assert 0.5 < ev.ml_efficacy(train, emptied, test, target="level")["synthetic"] <= 1.0
    assert ev.ml_efficacy(
        train.assign(**empty), fresh.assign(**empty), test.assign(**empty), target="level"
    )["synthetic"] == pytest.approx(ev.ml_efficacy(train, fresh, test, target="level")["synthetic"])


def test_logical_consistency(frames):
    train = frames["train"]
    score, pairs = ev.logical_consistency(train, train.sample(frac=1.0, random_state=0))
    assert score == 1.0
    found = {(p["determinant"], p["dependent"]) for p in pairs}
    assert ("city", "region") in found
    assert ev.logical_consistency(train, frames["fresh"])[0] == 1.0
    broken = frames["fresh"].copy()
    broken["region"] = broken["region"].sample(frac=1.0, random_state=0).to_numpy()
    broken_score, broken_pairs = ev.logical_consistency(train, broken)
    assert broken_score < 0.9
    city_region = next(p for p in broken_pairs if p["determinant"] == "city")
    assert city_region["share"] == pytest.approx(0.5, abs=0.07)


def test_logical_consistency_without_dependencies():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.integers(0, 5, 500), "b": rng.integers(0, 5, 500)})
    score, pairs = ev.logical_consistency(df, df)
    assert np.isnan(score)
    assert pairs == []


def test_order_consistency():
    rng = np.random.default_rng(0)
    built = rng.integers(1900, 2000, 800)
    train = pd.DataFrame(
        {
            "built": built,
            "remodeled": built + np.where(rng.random(800) < 0.5, 0, rng.integers(1, 20, 800)),
            "start": pd.Timestamp("2024-01-01") + pd.to_timedelta(built - 1900, "D"),
            "price": rng.normal(5000, 10, 800),  # above every year, but only by its range
        }
    )
    score, pairs = ev.order_consistency(train, train.sample(frac=1.0, random_state=1))
    assert score == 1.0
    assert [(p["lower"], p["upper"]) for p in pairs] == [("built", "remodeled")]
    shuffled = train.assign(
        remodeled=train["remodeled"].sample(frac=1.0, random_state=0).to_numpy()
    )
    broken, pairs = ev.order_consistency(train, shuffled)
    assert broken == pairs[0]["share"] < 0.8


def test_columns_argument_forms(frames):
    train, fresh = frames["train"], frames["fresh"]
    _, by_list = ev.column_shapes(train, fresh, ["x", "city"])
    assert set(by_list) == {"x", "city"}
    kinds = {"x": "numerical", "count": "categorical", "day": "datetime", "region": "id"}
    _, by_map = ev.column_shapes(train, fresh, kinds)
    assert set(by_map) == {"x", "count", "day"}

    schema = SimpleNamespace(
        columns=[
            SimpleNamespace(name="x", kind="numerical"),
            SimpleNamespace(name="city", kind="categorical"),
        ]
    )
    assert set(ev.pair_trends(train, fresh, schema)[1]) == {("x", "city")}
    with pytest.raises(ValueError, match="missing"):
        ev.column_shapes(train, fresh.drop(columns=["x"]))
    with pytest.raises(ValueError, match="unknown column kinds"):
        ev.column_shapes(train, fresh, {"x": "numeric"})


def test_text_dates_tz_and_string_dtypes():
    n = 300
    rng = np.random.default_rng(0)
    days = pd.date_range("2021-01-01", periods=n, freq="D", tz="Europe/Paris")
    real = pd.DataFrame(
        {
            "when": days,
            "label": pd.array(rng.choice(["a", "b", None], size=n), dtype="string"),
            "amount": pd.array(rng.integers(0, 9, size=n), dtype="Int64"),
        }
    )
    synthetic = real.copy()
    synthetic["when"] = days.tz_convert("UTC").strftime("%Y-%m-%d %H:%M:%S%z")
    kinds = {"when": "datetime", "label": "categorical", "amount": "numerical"}
    assert ev.column_shapes(real, synthetic, kinds)[0] == pytest.approx(1.0)
    assert ev.pair_trends(real, synthetic, kinds)[0] == pytest.approx(1.0)
    assert ev.detection_auc(real, synthetic, columns=kinds) < 0.6


def test_durations_are_compared_as_lengths_of_time():
    rng = np.random.default_rng(1)
    real = pd.DataFrame({"wait": pd.to_timedelta(rng.gamma(2.0, 10.0, 300), unit="min")})
    longer = pd.DataFrame({"wait": real["wait"] * 3})
    assert ev.infer_kinds(real) == {"wait": "duration"}
    assert ev.column_shapes(real, real.copy())[0] == pytest.approx(1.0)
    assert ev.column_shapes(real, longer)[0] < 0.7
