"""Columns that are a part of a date in the same row: its year, month, weekday, day ...

Tables often carry a date next to pieces of it (a birth date and the birth year, a day and
its weekday, a month's first day and the month's name). Learned apart, each took its own
noise: in a synthetic row the year said 1846 and the date 1851. A column the schema marks
with ``date_part`` (``{"column": "date", "part": "year"}``) therefore agrees with its date in
every synthetic row, in one of two ways:

* The weekday and the hour, short cycles that other columns often follow (births and sales
  by weekday, traffic by hour), are learned as columns of their own, so that what goes with
  them is learned too; the date then moves to the nearest date that has them (by at most
  half a week or half a day, on the date's own grid and within its range). One part per
  cycle is learned; the others of the cycle are read off the moved date. A date that takes
  part in a ``relative_to`` or ``determined_by`` rule does not move, or the rule could break.
* Every other part (the year, the quarter, the month, the day of the month or of the year,
  the minute) is read off the row's date. A date moved to a learned month moved by up to
  half a year, which broke what the date itself goes with (a birth year next to the year of
  an award, openintro/oscars; temperatures by day, mosaicData/Weather): detection AUC 0.56
  and 0.85 read off, 0.92 and 0.95 moved.

Text parts (month and weekday names) are English, matched to a column's own spelling of
them without regard to case ("Jan", "jan" and "JAN" are each written back as the column
writes them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tabvae import datetime_text, dtypes
from tabvae.errors import SchemaError

if TYPE_CHECKING:
    from tabvae.schema import Column, Schema
    from tabvae.transformers.base import ColumnTransformer

_MONTHS = [
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
]  # fmt: skip
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _month_names(dt: Any, width: int | None = None) -> pd.Series:
    names = np.asarray([name[:width] for name in _MONTHS], dtype=object)
    return pd.Series(names[dt.month.to_numpy() - 1])


def _weekday_names(dt: Any, width: int | None = None) -> pd.Series:
    names = np.asarray([name[:width] for name in _WEEKDAYS], dtype=object)
    return pd.Series(names[dt.weekday.to_numpy()])


#: Each part, from datetimes (``Series.dt``) to its values. Where parts agree on every
#: training row (the day of the month and of the year in January), the first one listed wins.
PARTS: dict[str, Callable[[Any], pd.Series]] = {
    "year": lambda dt: dt.year,
    "quarter": lambda dt: dt.quarter,
    "month": lambda dt: dt.month,
    "month_name": _month_names,
    "month_abbr": lambda dt: _month_names(dt, 3),
    "day": lambda dt: dt.day,
    "day_of_year": lambda dt: dt.dayofyear,
    "weekday": lambda dt: dt.weekday,  # Monday 0 to Sunday 6, as Python counts
    "iso_weekday": lambda dt: dt.weekday + 1,  # Monday 1 to Sunday 7
    "us_weekday": lambda dt: (dt.weekday + 1) % 7 + 1,  # Sunday 1 to Saturday 7, as R counts
    "weekday_name": _weekday_names,
    "weekday_abbr": lambda dt: _weekday_names(dt, 3),
    "hour": lambda dt: dt.hour,
    "minute": lambda dt: dt.minute,
}
#: Parts on a short cycle, learned as columns of their own (see the module's docstring).
#: Within a cycle a category wins over a number, then the first column in the table.
CYCLES: dict[str, tuple[str, ...]] = {
    "weekday": ("weekday", "iso_weekday", "us_weekday", "weekday_name", "weekday_abbr"),
    "hour": ("hour",),
}
#: Most grid points (days, or hours where the hour is learned) a date's range may hold for
#: the dates to move to their learned parts: a century of days, a decade of hours.
_MAX_CANDIDATES = 100_000
#: The parts written as text.
TEXT_PARTS = frozenset({"month_name", "month_abbr", "weekday_name", "weekday_abbr"})
#: Kinds a date part may be.
PART_KINDS = ("numerical", "categorical")
#: Rows the search screens a pair on before it reads every row.
_SCREEN_ROWS = 1000


def stamps_of(series: pd.Series, datetime_format: str | None) -> pd.Series:
    """The datetimes of a datetime column (text read in its format; unreadable text missing)."""
    if dtypes.is_datetime(series):
        return series.reset_index(drop=True)
    stamps = datetime_text.parse(series.reset_index(drop=True), datetime_format, errors="coerce")
    return pd.Series(stamps)


def part_values(part: str, stamps: pd.Series) -> pd.Series:
    """The ``part`` of each of ``stamps`` (missing where a stamp is): numbers or text."""
    present = stamps.notna().to_numpy()
    values = pd.Series(np.full(len(stamps), None, dtype=object))
    if present.any():
        found = PARTS[part](stamps[present].reset_index(drop=True).dt)
        values[present] = pd.Series(found).to_numpy(dtype=object)
    return values


def _matches(part: str, target: pd.Series, values: pd.Series) -> bool:
    """True if ``target`` holds ``values`` (a part, no gaps) in every row."""
    if part in TEXT_PARTS:
        if not (dtypes.is_text(target) or isinstance(target.dtype, pd.CategoricalDtype)):
            return False
        written = target.astype(str).str.lower().to_numpy(dtype=object)
        return bool((written == values.str.lower().to_numpy(dtype=object)).all())
    numbers = dtypes.to_float(target)
    return bool((numbers == values.to_numpy(dtype=np.float64)).all())


def infer_date_parts(df: pd.DataFrame, columns: Iterable[Column]) -> dict[str, dict[str, str]]:
    """Numbers and categories that are a part of a datetime column in every row
    (``{name: {"column": date, "part": part}}``), with gaps exactly where the date has them.

    A part takes at least two values in the table, or it would be a constant. Columns
    inferred as keys are searched too: a day of the year, one row a day, runs like a counter.
    """
    columns = [c for c in columns if not c.exclude]
    dates = [c for c in columns if c.kind == "datetime" and c.date_part is None]
    # Whole numbers that run without a gap look like a key until they are days.
    kinds = (*PART_KINDS, "id")
    found: dict[str, dict[str, str]] = {}
    for date in dates:
        stamps = stamps_of(df[date.name], date.datetime_format)
        present = stamps.notna().to_numpy()
        if present.sum() < 2:
            continue
        every = stamps[present].reset_index(drop=True)
        screened = {part: part_values(part, every.iloc[:_SCREEN_ROWS]) for part in PARTS}
        read: dict[str, pd.Series] = {}
        for target in columns:
            if target.kind not in kinds or target.name in found or target.name == date.name:
                continue
            series = df[target.name].reset_index(drop=True)
            if not np.array_equal(series.notna().to_numpy(), present):
                continue
            rows = series[present].reset_index(drop=True)
            for part, values in screened.items():
                if not _matches(part, rows.iloc[:_SCREEN_ROWS], values):
                    continue  # most columns stop at their first rows
                if part not in read:
                    read[part] = part_values(part, every)
                if read[part].nunique() >= 2 and _matches(part, rows, read[part]):
                    found[target.name] = {"column": date.name, "part": part}
                    break
    return found


def check_date_parts(columns: Iterable[Column]) -> None:
    """Raise :class:`SchemaError` unless every ``date_part`` rule can be applied: the part
    of a learned datetime column, in a numerical or categorical column that takes part in
    no other rule and is no other rule's source."""
    modeled = {c.name: c for c in columns if not c.exclude}
    parts = {name: c.date_part for name, c in modeled.items() if c.date_part is not None}
    for name, rule in parts.items():
        column, where = modeled[name], f"column {name!r} is a date_part"
        date = modeled.get(rule.get("column"))
        if date is None or date.kind != "datetime" or date.name in parts:
            raise SchemaError(
                f"{where} of {rule.get('column')!r}, which is not a modeled datetime column "
                "of the table (nor a date part itself)"
            )
        if rule.get("part") not in PARTS:
            raise SchemaError(
                f"{where} with part {rule.get('part')!r}; choose one of {', '.join(PARTS)}"
            )
        if column.kind not in PART_KINDS:
            raise SchemaError(f"{where}; only {' or '.join(PART_KINDS)} columns can be one")
        names = column.dtype in (*dtypes.TEXT_DTYPE_NAMES, "category")
        if rule["part"] in TEXT_PARTS and not names:
            raise SchemaError(
                f"{where} with part {rule['part']!r}, a name, but holds {column.dtype} values; "
                "a name goes in a text or category column"
            )
        if column.determined_by or column.relative_to or column.computed_from:
            raise SchemaError(f"{where} and also has a rule of its own; keep one of the rules")
    for column in modeled.values():
        sources = {column.determined_by, column.relative_to, *_computed_sources(column)}
        used = sorted(sources & parts.keys())
        if used:
            raise SchemaError(
                f"column {column.name!r} has a rule on {used[0]!r}, which is a date_part: "
                "it is read off its date, so no other column can be learned from it"
            )


def _computed_sources(column: Column) -> set[str]:
    from tabvae.schema import computed_terms  # the schema module imports this one

    return set(computed_terms(column.computed_from)) if column.computed_from else set()


def learned_parts(columns: Iterable[Column]) -> set[str]:
    """Names of the part columns learned as columns of their own: one per cycle and date.

    A date that takes part in a ``relative_to`` or ``determined_by`` rule does not move, so
    that the rule still holds: its parts are all read off it.
    """
    columns = [c for c in columns if not c.exclude]
    bound = {name for c in columns for name in (c.relative_to, c.determined_by) if name}
    bound |= {c.name for c in columns if c.relative_to}
    chosen: dict[tuple[str, str], tuple[bool, int, str]] = {}
    for position, column in enumerate(columns):
        rule = column.date_part
        if rule is None or rule["column"] in bound:
            continue
        for cycle, parts in CYCLES.items():
            if rule["part"] in parts:
                rank = (column.kind != "categorical", position)
                best = chosen.get((rule["column"], cycle))
                if best is None or rank < best[:2]:
                    chosen[rule["column"], cycle] = (*rank, column.name)
    return {best[-1] for best in chosen.values()}


def fill_date_parts(
    frame: pd.DataFrame,
    schema: Schema,
    transformers: Mapping[str, ColumnTransformer],
    fixed: Mapping[str, np.ndarray] | None = None,
    known: pd.DataFrame | None = None,
) -> None:
    """Move each date of ``frame`` to the nearest one that has its learned parts, then write
    every ``date_part`` column from the row's date.

    ``transformers`` holds the transformer of every part column and of every date with
    parts: they write values in the column's dtype (and a part in its spelling). Rows of
    ``fixed[date]`` keep their date as it is (a known or asked date). The cells of
    ``known`` (rows being imputed, by position) hold parts a row's date must have too: a
    date filled in a row that knows its year lands in that year.
    """
    parts = [c for c in schema.modeled if c.date_part is not None]
    learned = learned_parts(schema.columns)
    for date in dict.fromkeys(c.date_part["column"] for c in parts):
        own = [c for c in parts if c.date_part["column"] == date]
        wanted = {}
        for column in own:
            if column.name in learned:
                wanted[column.name] = frame[column.name]
            elif (
                known is not None and column.name in known and column.date_part["part"] != "minute"
            ):
                # (A minute would need a grid of minutes; the time keeps its own.)
                wanted[column.name] = known[column.name].reset_index(drop=True)
        if wanted:
            keep = (fixed or {}).get(date, np.zeros(len(frame), dtype=bool))
            parts_of = {name: schema[name].date_part["part"] for name in wanted}
            _move_to_parts(frame, transformers[date], parts_of, wanted, keep)
        stamps = stamps_of(frame[date], schema[date].datetime_format)
        for column in own:
            values = part_values(column.date_part["part"], stamps)
            if column.date_part["part"] in TEXT_PARTS and column.categories:
                spelled = {str(c).lower(): c for c in column.categories}
                values = values.map(lambda v, s=spelled: v if v is None else s.get(v.lower(), v))
            frame[column.name] = transformers[column.name].from_values(
                values.to_numpy(dtype=object)
            )


def _move_to_parts(
    frame: pd.DataFrame,
    date: Any,
    parts_of: Mapping[str, str],
    wanted: Mapping[str, pd.Series],
    keep: np.ndarray,
) -> None:
    """Move each row's date (``date``: its DatetimeTransformer) to the nearest grid point
    that has the parts the row wants (``wanted``: by column, missing where the row wants
    none; ``parts_of``: each column's part), keeping its time within the day (the hour).

    A row whose wanted parts no date in the range has keeps its date, as do time-zone aware
    dates (their parts are the local clock's; left for now).
    """
    column = date.column
    series = frame[column.name]
    if dtypes.is_datetime(series) and series.dt.tz is not None:
        return
    seconds = date.to_numbers(series)
    bounds = [pd.Timestamp(b).value / 1e9 for b in (column.min, column.max) if b is not None]
    present = np.isfinite(seconds) & ~keep
    if len(bounds) < 2 or not present.any():
        return
    codes = pd.DataFrame({name: _codes(parts_of[name], wanted[name]) for name in wanted})
    moved = seconds.copy()
    # Rows by the parts they want: all learned ones, and known ones of their own.
    for pattern, rows in codes[present].notna().groupby(list(codes.columns)).groups.items():
        names = [name for name, on in zip(codes.columns, _as_tuple(pattern), strict=True) if on]
        if names:
            index = rows.to_numpy()
            moved[index] = _nearest_with(date, bounds, parts_of, codes.loc[index, names], seconds)
    if (moved != seconds).any():
        frame[column.name] = date.from_numbers(moved, ~np.isfinite(seconds))


def _nearest_with(
    date: Any,
    bounds: list[float],
    parts_of: Mapping[str, str],
    codes: pd.DataFrame,
    seconds: np.ndarray,
) -> np.ndarray:
    """The dates of the rows of ``codes`` moved to the nearest grid point with their parts
    (as they are where none has them)."""
    names = list(codes.columns)
    step = 3600.0 if any(parts_of[n] == "hour" for n in names) else 86400.0
    grid = np.arange(np.floor(bounds[0] / step) * step, bounds[1] + step, step)
    coarse = date.unit in ("week", *date.MONTH_UNITS)
    if coarse:  # weeks and months: their own grid points, which the dates are on
        grid = np.unique(date.rounded(grid))
    grid = grid[(grid >= bounds[0]) & (grid <= bounds[1])]
    index = codes.index.to_numpy()
    moved = seconds[index].copy()
    if not 0 < len(grid) <= _MAX_CANDIDATES:
        return moved
    base = moved if coarse else np.floor(moved / step) * step
    stamps = pd.Series(pd.to_datetime(grid * 1e9))
    keys = pd.DataFrame({n: _codes(parts_of[n], part_values(parts_of[n], stamps)) for n in names})
    points = {
        _as_tuple(key): group["at"].to_numpy()
        for key, group in keys.assign(at=grid).groupby(names, sort=False)
    }
    rows_by_key = codes.reset_index(drop=True).groupby(names, sort=False).groups
    for key, rows in rows_by_key.items():
        at = points.get(_as_tuple(key))
        if at is None:
            continue
        where = rows.to_numpy()
        after = np.clip(np.searchsorted(at, base[where]), 0, len(at) - 1)
        before = np.maximum(after - 1, 0)
        nearer = np.abs(at[before] - base[where]) <= np.abs(at[after] - base[where])
        moved[where] = np.where(nearer, at[before], at[after]) + (moved - base)[where]
    return moved


def _codes(part: str, values: pd.Series) -> pd.Series:
    """Comparable values of a part: lower-case names, numbers as floats (missing: NaN)."""
    if part in TEXT_PARTS:
        return values.astype(object).map(lambda v: v.lower() if isinstance(v, str) else np.nan)
    return pd.Series(dtypes.to_float(values.reset_index(drop=True)))


def _as_tuple(key: Any) -> tuple[Any, ...]:
    return key if isinstance(key, tuple) else (key,)
