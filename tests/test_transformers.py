"""Per-kind transformers: blocks have the advertised shape and invert back to the data."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tabvae import TabularVAE, dtypes, infer_schema
from tabvae.heads import decode_heads
from tabvae.table import TableTransformer
from tabvae.transformers import transformer_class

RNG = np.random.default_rng(0)


def round_trip(frame: pd.DataFrame) -> tuple[TableTransformer, pd.DataFrame]:
    """Transform, take each head's most likely value, invert; through a JSON state."""
    schema = infer_schema(frame).resolve(frame)
    table = TableTransformer(schema).fit(frame)
    blocks = table.transform(frame)
    for head in table.heads:
        assert blocks[head.name].shape == (len(frame), head.width)
        assert blocks[head.name].dtype == np.float32
    state = json.loads(json.dumps(table.get_state()))
    restored = TableTransformer.from_state(schema, state)
    # Feed the blocks back as if the model had predicted them exactly.
    params = {}
    for head in table.heads:
        block = blocks[head.name].astype(np.float64)
        if head.loss == "gaussian":
            block = np.concatenate([block, np.full_like(block, -5.0)], axis=1)
        elif head.loss in ("categorical", "binary"):
            block = np.where(block > 0.5, 10.0, -10.0)
        params[head.name] = block
    values = decode_heads(table.heads, params, rng=None)
    return table, restored.inverse_transform(values, len(frame), RNG)


def test_mixed_round_trip_is_exact(mixed_frame):
    learned = mixed_frame.drop(columns=["customer_id", "country"])
    _, back = round_trip(learned)
    for name in learned.columns:
        assert back[name].dtype == learned[name].dtype, name
        assert back[name].isna().tolist() == learned[name].isna().tolist(), name
        present = learned[name].notna().to_numpy()
        if learned[name].dtype.kind == "f":
            np.testing.assert_allclose(back[name][present], learned[name][present], rtol=1e-3)
        else:
            assert back[name][present].tolist() == learned[name][present].tolist(), name


def test_ids_are_unique_and_of_the_same_form():
    frame = pd.DataFrame(
        {
            "n": np.arange(5, 45),
            "code": [f"AB-{i:05d}" for i in range(40)],
            "uuid": [f"123e4567-e89b-42d3-a456-4266141740{i:02d}" for i in range(40)],
            "token": [f"x{i}q{i * 7}z" for i in range(40)],
        }
    )
    table, back = round_trip(frame)
    assert back["n"].tolist() == list(range(5, 45))
    assert back["code"].str.fullmatch(r"AB-\d{5}").all()
    assert (
        back["uuid"]
        .str.fullmatch(
            r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-"
            r"[0-9a-f]{12}"
        )
        .all()
    )
    for name in frame.columns:
        assert back[name].is_unique
    assert table.heads == []


def test_high_cardinality_categories_keep_their_values():
    names = [f"name{i}" for i in range(400)]
    frame = pd.DataFrame({"name": RNG.choice(names, 3000), "x": RNG.normal(size=3000)})
    table = TableTransformer(infer_schema(frame).resolve(frame)).fit(frame)
    width = next(h.width for h in table.heads if h.name == "name")
    assert width == 150  # 149 frequent names and one shared "other" level
    _, back = round_trip(frame)
    assert set(back["name"]) <= set(names)


def test_unknown_category_is_a_clear_error(mixed_frame):
    from tabvae import DataError

    table = TableTransformer(infer_schema(mixed_frame).resolve(mixed_frame)).fit(mixed_frame)
    odd = mixed_frame.copy()
    odd["city"] = odd["city"].where(odd.index > 0, "Atlantis")
    with pytest.raises(DataError, match="Atlantis"):
        table.transform(odd)


def test_numbers_are_clipped_and_rounded():
    frame = pd.DataFrame({"price": [1.25, 2.5, 3.75, 10.0]})
    schema = infer_schema(frame).resolve(frame)
    transformer = transformer_class("numerical")(schema["price"]).fit(frame["price"])
    far = {"price": np.array([[-40.0], [40.0], [0.1]])}
    out = transformer.inverse_transform(far, 3, RNG)
    assert out.iloc[0] == 1.25 and out.iloc[1] == 10.0
    assert out.iloc[2] == round(out.iloc[2], 2)


finite = st.floats(-1e9, 1e9, allow_nan=False, width=64)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hnp.arrays(np.float64, st.integers(2, 60), elements=finite | st.just(np.nan)))
def test_numeric_round_trip_keeps_values_and_gaps(values):
    assert_numbers_round_trip(values)


def assert_numbers_round_trip(values: np.ndarray) -> None:
    frame = pd.DataFrame({"x": values, "anchor": np.arange(len(values)) % 2 == 0})
    if frame["x"].isna().all():
        return
    table, back = round_trip(frame)
    assert back["x"].isna().tolist() == frame["x"].isna().tolist()
    present = frame["x"].notna()
    support = table.stored_.get("x", {}).get("values")
    if support:
        # A column that takes a set of values gives back only values two rows share.
        assert back["x"][present].isin(support).all()
        present &= frame["x"].duplicated(keep=False)
    # Blocks are float32: allow its resolution over the column's range.
    atol = 1e-5 * np.ptp(frame["x"][present]) + 1e-3 if present.any() else 0.0
    np.testing.assert_allclose(back["x"][present], frame["x"][present], rtol=1e-4, atol=atol)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a", "b", "ç", "", " ", None, "long text value"]), min_size=2, max_size=40
    )
)
def test_text_round_trip(values):
    frame = pd.DataFrame({"t": pd.Series(values, dtype=object), "n": range(len(values))})
    if frame["t"].isna().all():
        return
    _, back = round_trip(frame)
    kind = infer_schema(frame)["t"].kind
    if kind == "categorical":
        assert back["t"].tolist() == frame["t"].tolist() or (
            back["t"].isna().tolist() == frame["t"].isna().tolist()
        )


def test_point_masses_are_their_own_levels_and_come_back_exactly():
    rng = np.random.default_rng(1)
    hours = rng.normal(35, 8, 300).round(1)
    hours[rng.random(300) < 0.3] = 40.0
    hours[rng.random(300) < 0.2] = 0.0
    hours[rng.random(300) < 0.1] = np.nan
    frame = pd.DataFrame({"hours": hours})
    table, back = round_trip(frame)
    transformer = table.transformers_[0]
    assert transformer.point_masses == [0.0, 40.0]
    value, mode = table.heads
    assert (mode.name, mode.width, mode.loss) == ("hours::mode", 4, "categorical")
    assert (value.mask, value.mask_level) == ("hours::mode", 0)
    assert back["hours"].isna().tolist() == frame["hours"].isna().tolist()
    present = frame["hours"].notna()
    np.testing.assert_allclose(back["hours"][present], frame["hours"][present], atol=1e-3)
    assert set(back["hours"][frame["hours"].isin([0.0, 40.0])]) == {0.0, 40.0}


def test_a_value_few_rows_share_is_not_a_point_mass():
    # 4 of 40 rows is 10 %, but too few people to keep their value in the model.
    values = np.r_[np.full(4, 7.0), np.linspace(0, 1, 36)]
    transformer = transformer_class("numerical")(
        infer_schema(pd.DataFrame({"x": values})).resolve(pd.DataFrame({"x": values}))["x"]
    ).fit(pd.Series(values))
    assert transformer.point_masses == []
    assert [h.name for h in transformer.heads] == ["x"]


def test_a_number_that_takes_a_set_of_values_keeps_to_the_values_rows_share(tmp_path):
    rng = np.random.default_rng(3)
    rates = np.log(np.arange(2.0, 42.0))  # no fixed decimals
    rate = np.r_[rng.choice(rates, 300), 17.123456789, np.nan]
    frame = pd.DataFrame({"rate": rate, "log_rate": np.log(rate)})
    model = TabularVAE(epochs=2, hidden=(8,), latent_dim=2, random_state=0).fit(frame)
    assert model.schema_["log_rate"].computed_from["column"] == "rate"
    shared = frame["rate"][frame["rate"].duplicated(keep=False)].dropna().unique()
    kept = model.transformer_.stored_["rate"]["values"]
    # Between the ends, which the extreme-value protection pulls in, all of them.
    inner = (shared > min(kept)) & (shared < max(kept))
    assert set(kept[1:-1]) == set(shared[inner])
    loaded = TabularVAE.load(model.save(tmp_path / "model"))
    synthetic = loaded.sample(500, seed=0)
    # Every value is one two training rows share (not the one row's 17.12...), so the
    # value and its log form a pair seen in training.
    assert synthetic["rate"].dropna().isin(kept).all() and synthetic["rate"].notna().any()
    inside = synthetic["rate"].isin(shared[inner])
    seen = set(zip(frame["rate"], frame["log_rate"], strict=True))
    pairs = zip(synthetic["rate"][inside], synthetic["log_rate"][inside], strict=True)
    assert inside.any() and all(pair in seen for pair in pairs)
    # Unique values, also beside a point mass, or a grid of decimals keep no values.
    inflated = np.where(rng.random(300) < 0.6, 0.0, rng.normal(size=300))
    for other in (rng.normal(size=300), inflated, rng.choice(rates, 300).round(2)):
        table = TableTransformer(infer_schema(pd.DataFrame({"v": other}))).fit(
            pd.DataFrame({"v": other})
        )
        assert table.stored_ == {}


ties = st.sampled_from([0.0, -3.0, 1.5]) | finite


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hnp.arrays(np.float64, st.integers(10, 200), elements=ties | st.just(np.nan)))
def test_numeric_round_trip_with_heavy_ties(values):
    # Values many rows share become point masses; the rest go through the value head.
    assert_numbers_round_trip(values)


@pytest.mark.parametrize(
    ("categories", "dtype"),
    [
        (["a", "b", "c"], "object"),
        (["a", "b", "c"], "str"),
        (["x", "y"], "category"),
        ([1, 2, 3], "category"),
        ([1, 2, 3], "int64"),
        ([True, False], "bool"),
        (["a", 1], "object"),
        (["a", "a"], "object"),
    ],
)
def test_categories_from_codes_match_categories_from_values(categories, dtype):
    codes = np.random.default_rng(1).integers(-1, len(categories), 60)
    values = np.asarray([*categories, None], dtype=object)[codes]
    expected = dtypes.restore(values, dtype)
    pd.testing.assert_series_equal(dtypes.restore_codes(codes, categories, dtype), expected)


@pytest.mark.parametrize(
    ("stamps", "on_grid"),
    [
        (pd.date_range("1812-01-01", periods=60, freq="MS"), lambda s: s.dt.day == 1),
        (pd.date_range("1990-04-01", periods=30, freq="QS"), lambda s: s.dt.month % 3 == 1),
        (pd.date_range("1900-01-01", periods=30, freq="YS"), lambda s: s.dt.dayofyear == 1),
        (pd.date_range("2021-01-04", periods=50, freq="W-MON"), lambda s: s.dt.weekday == 0),
        (pd.date_range("2021-01-04 09:30", periods=50, freq="D"), lambda s: s.dt.hour == 9),
        (pd.date_range("2013-01-01 05:00", periods=80, freq="h"), lambda s: s.dt.minute == 0),
    ],
    ids=["month starts", "quarters", "years", "mondays", "daily at 9:30", "hourly"],
)
@pytest.mark.parametrize("as_text", [False, True])
def test_dates_come_back_on_the_calendar_grid_of_the_training_dates(stamps, on_grid, as_text):
    # A monthly series came back on any day of the month, hourly readings at any second.
    column = pd.Series(stamps).sample(frac=1.0, random_state=0).reset_index(drop=True)
    if as_text:
        column = column.dt.strftime("%Y-%m-%d %H:%M:%S")
    frame = pd.DataFrame({"when": column})
    schema = infer_schema(frame).resolve(frame)
    fitted = TableTransformer(schema).fit(frame).transformers_[0]
    state = json.loads(json.dumps(fitted.get_state()))
    transformer = transformer_class("datetime").from_state(schema["when"], state)
    seconds = transformer.to_numbers(frame["when"])
    drawn = RNG.uniform(seconds.min() - 1e6, seconds.max() + 1e6, 2000)
    back = transformer.from_numbers(drawn, np.zeros(len(drawn), dtype=bool))
    parsed = pd.to_datetime(back) if as_text else back
    assert on_grid(parsed).all()
    assert (parsed.dt.second == 0).all() and parsed.between(stamps.min(), stamps.max()).all()
    # Each moment goes to a grid point next to it, so the spread of the draws is kept.
    moved = np.abs(transformer.to_numbers(back) - np.clip(drawn, seconds.min(), seconds.max()))
    assert moved.max() <= np.diff(np.sort(seconds)).max()
