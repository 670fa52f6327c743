"""Parts of a date (year, month, weekday ...) agree with it in every synthetic row."""

from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import make_dated
from hypothesis import given, settings
from hypothesis import strategies as st

from tabvae import infer_schema
from tabvae.date_parts import fill_date_parts, learned_parts
from tabvae.table import TableTransformer


def _filled(frame: pd.DataFrame, drawn: pd.DataFrame) -> pd.DataFrame:
    """``drawn`` (rows as a model might decode them) after the date parts are filled in."""
    schema = infer_schema(frame).resolve(frame)
    table = TableTransformer(schema).fit(frame)
    parts = [c for c in schema.columns if c.date_part]
    names = {c.name for c in parts} | {c.date_part["column"] for c in parts}
    rows = drawn.reset_index(drop=True).copy()
    fill_date_parts(rows, schema, {name: table.original(name) for name in names})
    return rows


def test_a_date_moves_to_the_nearest_day_of_its_learned_weekday():
    frame = make_dated(400)
    schema = infer_schema(frame)
    # The weekday is learned; the year and the month are read off the date.
    assert learned_parts(schema.columns) == {"wday"}
    drawn = frame.dropna().head(200).copy()
    drawn["wday"] = np.random.default_rng(1).integers(1, 8, len(drawn))
    drawn["month"], drawn["year"] = "mar", 1900  # drawn apart from the date
    rows = _filled(frame, drawn)
    before = pd.to_datetime(drawn["day"]).reset_index(drop=True)
    after = pd.to_datetime(rows["day"])
    assert (rows["wday"] == drawn["wday"].to_numpy()).all()
    assert ((after.dt.weekday + 1) % 7 + 1 == rows["wday"]).all()
    assert (rows["year"] == after.dt.year).all()
    assert (rows["month"] == after.dt.strftime("%b").str.lower()).all()
    # The nearest such day within the training dates' range: at most three days away, but
    # at the range's ends.
    seen = pd.to_datetime(frame["day"])
    assert after.between(seen.min(), seen.max()).all()
    inside = before.between(seen.min() + pd.Timedelta(days=3), seen.max() - pd.Timedelta(days=3))
    moved = (after - before).abs()
    assert (moved[inside] <= pd.Timedelta(days=3)).all() and (moved <= pd.Timedelta(days=6)).all()
    assert (moved > pd.Timedelta(0)).any()


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 1460),
            st.one_of(st.none(), st.integers(-5, 12)),
            st.sampled_from(["jan", "feb", "dec", "xyz", None]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_every_part_agrees_with_its_date_whatever_was_drawn(rows):
    # Odd draws: a weekday that does not exist, a month the column never had, gaps.
    frame = make_dated(200, seed=3)
    days, weekdays, months = zip(*rows, strict=True)
    stamps = pd.Timestamp("2001-01-01") + pd.to_timedelta(np.asarray(days), "D")
    drawn = pd.DataFrame(
        {
            "day": pd.Series(stamps.strftime("%Y-%m-%d")).where(np.asarray(days) % 9 != 0),
            "year": pd.array([1] * len(rows), dtype="Int64"),
            "month": pd.Series(months, dtype=object),
            "wday": pd.Series(weekdays, dtype="float64"),
            "births": 30,
        }
    )
    filled = _filled(frame, drawn)
    dates = pd.to_datetime(filled["day"])
    present = dates.notna()
    assert present.equals(drawn["day"].notna())
    assert (filled["year"][present] == dates.dt.year[present]).all()
    assert (filled["month"][present] == dates.dt.strftime("%b").str.lower()[present]).all()
    assert (filled["wday"][present] == ((dates.dt.weekday + 1) % 7 + 1)[present]).all()
    assert filled[["year", "month", "wday"]][~present].isna().all().all()
    assert dates[present].between("2001-01-01", "2004-12-31").all()


def test_a_time_moves_to_the_nearest_hour_drawn_and_keeps_its_minutes():
    rng = np.random.default_rng(2)
    stamps = pd.Timestamp("2013-01-01") + pd.to_timedelta(rng.integers(0, 60 * 24 * 90, 300), "min")
    frame = pd.DataFrame({"at": stamps, "hour": stamps.hour, "load": rng.normal(size=300)})
    assert learned_parts(infer_schema(frame).columns) == {"hour"}
    drawn = frame.copy()
    drawn["hour"] = rng.integers(0, 24, len(frame))
    rows = _filled(frame, drawn)
    assert (rows["hour"] == drawn["hour"]).all() and (rows["at"].dt.hour == rows["hour"]).all()
    assert (rows["at"].dt.minute == frame["at"].dt.minute).all()
    inside = frame["at"].between(stamps.min() + pd.Timedelta(hours=12), stamps.max())
    assert ((rows["at"] - frame["at"]).abs()[inside] <= pd.Timedelta(hours=12)).all()


def test_a_date_in_a_rule_keeps_its_place_and_its_weekday_is_read_off_it():
    # Moved to a learned weekday, an arrival could pass the departure learned after it.
    frame = make_dated(200)
    frame["left"] = (pd.to_datetime(frame["day"]) + pd.Timedelta(days=2)).dt.strftime("%Y-%m-%d")
    schema = infer_schema(frame)
    assert schema["left"].relative_to == "day"
    assert learned_parts(schema.columns) == set()


def test_a_date_filled_in_a_row_that_knows_its_year_and_month_lands_in_them():
    frame = make_dated(300)
    schema = infer_schema(frame).resolve(frame)
    table = TableTransformer(schema).fit(frame)
    drawn = frame.dropna().head(120).reset_index(drop=True)
    known = pd.DataFrame({"year": [2002, None, 2004] * 40, "month": ["feb", "oct", None] * 40})
    names = ["day", "year", "month", "wday"]
    fill_date_parts(drawn, schema, {n: table.original(n) for n in names}, known=known)
    dates = pd.to_datetime(drawn["day"])
    assert (dates.dt.year[known["year"].notna()] == known["year"].dropna()).all()
    asked = known["month"].notna()
    assert (dates.dt.strftime("%b").str.lower()[asked] == known["month"][asked]).all()
    assert ((dates.dt.weekday + 1) % 7 + 1 == drawn["wday"]).all()
