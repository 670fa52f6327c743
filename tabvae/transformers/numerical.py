"""Numbers and datetimes: a quantile map to a standard normal, plus a missing indicator."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from tabvae import datetime_text, dtypes
from tabvae.errors import DataError, SchemaError
from tabvae.heads import HeadSpec
from tabvae.schema import CLOCK_DURATION, Column, guess_datetime_format
from tabvae.transformers.base import ColumnTransformer, register

#: Most knots a quantile map keeps; enough to follow a heavy tail, small in the model file.
MAX_KNOTS = 1000
# Probabilities are squeezed this far away from 0 and 1 so normal scores stay finite (about
# +-4.9); the inverse undoes the squeeze, so the extremes come back exactly.
_EDGE = 5e-7
_MAX_DECIMALS = 6
#: A value at least this share of a column's rows hold exactly is modeled as a point mass ...
POINT_MASS_SHARE = 0.05
#: ... provided that at least this many rows hold it.
POINT_MASS_MIN_ROWS = 10
MODE_SUFFIX = "::mode"


class QuantileMap:
    """Monotone map of a sample onto a standard normal, and back.

    Skewed, heavy-tailed and zero-inflated numbers all become roughly standard normal, which
    suits a Gaussian head; the inverse sends any normal score back into the observed range,
    and a point mass (many zeros) comes back as exactly that value.
    """

    def __init__(self, knots: np.ndarray | None = None) -> None:
        self.knots = knots

    def fit(self, values: np.ndarray) -> QuantileMap:
        """Learn the knots from the finite values of ``values``.

        Interior knots are means of two neighbouring order statistics, never a single row's
        value, so the saved map does not list the training values (only the range ends).
        """
        ordered = np.sort(values)
        if len(ordered) < 2:
            self.knots = np.repeat(ordered, 2)
            return self
        n_knots = int(min(MAX_KNOTS, max(2, len(ordered) // 2)))
        below = np.minimum(
            np.floor(np.linspace(0, len(ordered) - 1, n_knots)).astype(int), len(ordered) - 2
        )
        knots = 0.5 * (ordered[below] + ordered[below + 1])
        knots[0], knots[-1] = ordered[0], ordered[-1]
        self.knots = knots
        return self

    @property
    def levels(self) -> np.ndarray:
        """Cumulative probabilities of the knots."""
        return np.linspace(0.0, 1.0, len(self.knots))

    def below(self, values: np.ndarray) -> np.ndarray:
        """Share of the sample below each value (strictly)."""
        return 1.0 - np.interp(-values, -self.knots[::-1], 1.0 - self.levels[::-1])

    def at_most(self, values: np.ndarray) -> np.ndarray:
        """Share of the sample at or below each value."""
        return np.interp(values, self.knots, self.levels)

    def value_at(self, probabilities: np.ndarray) -> np.ndarray:
        """The value with ``probabilities`` of the sample below it (the quantile function)."""
        return np.interp(probabilities, self.levels, self.knots)

    def forward(self, values: np.ndarray) -> np.ndarray:
        """Normal scores of ``values`` (ties share the middle of their probability range)."""
        middle = 0.5 * (self.at_most(values) + self.below(values))
        return ndtri(_EDGE + middle * (1.0 - 2.0 * _EDGE))

    def inverse(self, scores: np.ndarray) -> np.ndarray:
        """Values of normal ``scores``, inside the fitted range."""
        probabilities = np.clip((ndtr(scores) - _EDGE) / (1.0 - 2.0 * _EDGE), 0.0, 1.0)
        return self.value_at(probabilities)


class ContinuousTransformer(ColumnTransformer):
    """Shared layout of number-like columns: a Gaussian value head and a mode head.

    A value that many rows share exactly (the zero of a zero-inflated amount, the 40 of
    weekly hours, a default date) is a *point mass*. The mode head is a one-hot over
    ``[a value, each point mass, missing]``: which of them a row holds. The value head
    models, through a quantile map fitted on the other values only, the rows that hold "a
    value", and does not count for the rest. A point mass then comes back exactly and only
    when the model chose it, so "no veneer" and "veneer area 0" stay together. A column with
    neither point masses nor gaps has the value head alone.

    Subclasses convert the column to float64 (``to_numbers``) and back (``from_numbers``).
    """

    def __init__(self, column: Column) -> None:
        super().__init__(column)
        #: Map of every value, for ranges and condition bins.
        self.quantiles = QuantileMap()
        #: Map of the values that are not point masses: the value head's scale.
        self.value_quantiles = self.quantiles
        self.point_masses: list[float] = []

    def to_numbers(self, series: pd.Series) -> np.ndarray:
        """Float64 values of the column, NaN where missing."""
        raise NotImplementedError

    def from_numbers(self, numbers: np.ndarray, missing: np.ndarray) -> pd.Series:
        """The column in its original dtype from float64 values and a missing mask."""
        raise NotImplementedError

    @property
    def mode_head(self) -> str:
        """Name of the head that says whether a row holds a value, a point mass or a gap."""
        return self.column.name + MODE_SUFFIX

    @property
    def _mode_width(self) -> int:
        return 1 + len(self.point_masses) + bool(self.column.nullable)

    @property
    def heads(self) -> list[HeadSpec]:
        weight = self.column.loss_weight
        if self._mode_width == 1:
            return [HeadSpec(self.column.name, 1, "gaussian", weight)]
        value = HeadSpec(self.column.name, 1, "gaussian", weight, self.mode_head, mask_level=0)
        return [value, HeadSpec(self.mode_head, self._mode_width, "categorical", weight)]

    def fit(self, series: pd.Series) -> ContinuousTransformer:
        numbers = self.to_numbers(series)
        present = numbers[~np.isnan(numbers)]
        if present.size == 0:
            raise DataError(f"column {self.column.name!r} has no values to learn from")
        self._fit_values(present)
        return self

    def _fit_values(self, present: np.ndarray) -> None:
        """Fit the maps and point masses to the column's values (no gaps)."""
        self.quantiles.fit(present)
        self.point_masses = find_point_masses(present)
        rest = present[~np.isin(present, self.point_masses)]
        # With (almost) every row on a point mass the value head is never used; any map does.
        self.value_quantiles = QuantileMap().fit(rest) if rest.size >= 2 else self.quantiles

    def _mode_levels(self, numbers: np.ndarray) -> np.ndarray:
        """Mode level of each number: 0 a value, 1.. a point mass, last missing."""
        levels = np.zeros(len(numbers), dtype=np.int64)
        for level, mass in enumerate(self.point_masses, start=1):
            levels[numbers == mass] = level
        if self.column.nullable:
            levels[np.isnan(numbers)] = self._mode_width - 1
        return levels

    def transform(self, series: pd.Series) -> dict[str, np.ndarray]:
        numbers = self.to_numbers(series)
        missing = np.isnan(numbers)
        # Rows without a value get the median score; their value loss is masked out anyway.
        scores = self.value_quantiles.forward(np.nan_to_num(numbers))
        levels = self._mode_levels(numbers)
        scores = np.where((levels == 0) & ~missing, scores, 0.0)
        blocks = {self.column.name: scores.astype(np.float32)[:, None]}
        if self._mode_width == 1:
            return blocks
        one_hot = np.zeros((len(numbers), self._mode_width), dtype=np.float32)
        one_hot[np.arange(len(numbers)), levels] = 1.0
        if not self.column.nullable and missing.any():
            # A gap the training rows never had (a cell to impute) enters as "unknown": the
            # value level and every point mass equally likely.
            one_hot[missing] = 1.0 / self._mode_width
        blocks[self.mode_head] = one_hot
        return blocks

    def inverse_transform(
        self, values: dict[str, np.ndarray], n_rows: int, rng: np.random.Generator
    ) -> pd.Series:
        numbers = self.value_quantiles.inverse(np.asarray(values[self.column.name])[:, 0])
        missing = np.zeros(n_rows, dtype=bool)
        if self._mode_width > 1:
            levels = np.asarray(values[self.mode_head]).argmax(axis=1)
            on_mass = (levels >= 1) & (levels <= len(self.point_masses))
            numbers[on_mass] = np.asarray(self.point_masses)[levels[on_mass] - 1]
            missing = self.column.nullable & (levels == self._mode_width - 1)
        return self.from_numbers(numbers, missing)

    def exclude_missing(self, params: dict[str, np.ndarray]) -> None:
        if self.column.nullable and self.mode_head in params:
            params[self.mode_head][:, -1] = -1e9

    def check_seen(self, values: pd.Series) -> None:
        self.check_known_missing(values)
        numbers = self.to_numbers(values)
        knots = self.quantiles.knots
        outside = (numbers < knots[0]) | (numbers > knots[-1])
        if outside.any():
            raise DataError(
                f"column {self.column.name!r}: {values[outside].iloc[0]} lies outside the "
                f"training range the model saw"
            )

    def get_state(self) -> dict[str, Any]:
        state: dict[str, Any] = {"knots": self.quantiles.knots.tolist()}
        if self.point_masses:
            state["point_masses"] = list(self.point_masses)
            state["value_knots"] = self.value_quantiles.knots.tolist()
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        self.quantiles = QuantileMap(np.asarray(state["knots"], dtype=np.float64))
        self.point_masses = [float(v) for v in state.get("point_masses", [])]
        self.value_quantiles = self.quantiles
        if "value_knots" in state:
            self.value_quantiles = QuantileMap(np.asarray(state["value_knots"], np.float64))


def find_point_masses(values: np.ndarray) -> list[float]:
    """Values held by at least ``POINT_MASS_SHARE`` of the rows and ``POINT_MASS_MIN_ROWS``.

    The floor on rows keeps a value that only a handful of people share (in a small table)
    out of the model file.
    """
    uniques, counts = np.unique(values, return_counts=True)
    floor = max(POINT_MASS_SHARE * len(values), POINT_MASS_MIN_ROWS)
    return [float(v) for v in uniques[counts >= floor]]


def count_decimals(values: np.ndarray) -> int | None:
    """Fewest decimals that represent every value, or None beyond six."""
    values = values[np.isfinite(values)]
    for decimals in range(_MAX_DECIMALS + 1):
        scale = np.maximum(1.0, np.abs(values))
        if np.all(np.abs(values - np.round(values, decimals)) <= 1e-9 * scale):
            return decimals
    return None


@register
class NumericalTransformer(ContinuousTransformer):
    """Integers and floats, restored with their range, rounding and dtype."""

    kind = "numerical"

    @classmethod
    def describe(cls, series: pd.Series) -> dict[str, Any]:
        numbers = dtypes.to_float(series)
        present = numbers[~np.isnan(numbers)]
        if present.size == 0:
            return {}
        decimals = count_decimals(present)
        as_int = decimals == 0

        def scalar(value: float) -> float | int:
            return int(value) if as_int else float(value)

        return {"min": scalar(present.min()), "max": scalar(present.max()), "decimals": decimals}

    @classmethod
    def check_column(cls, column: Column) -> None:
        for bound in (column.min, column.max):
            if bound is not None and not isinstance(bound, int | float):
                raise SchemaError(f"column {column.name!r}: min and max must be numbers")

    @classmethod
    def check_values(cls, column: Column, series: pd.Series) -> None:
        if dtypes.is_numeric(series) or series.isna().all():
            return
        stray = pd.to_numeric(series, errors="coerce").isna() & series.notna()
        stray &= series != column.missing_text
        if stray.any():
            raise DataError(
                f"column {column.name!r} is numerical in the schema but holds values that "
                f"are not numbers, such as {series[stray].iloc[0]!r}; a text that stands for "
                'a missing value can be named as its "missing_text"'
            )

    def to_numbers(self, series: pd.Series) -> np.ndarray:
        self.check_values(self.column, series)
        return dtypes.to_float(series)

    def from_numbers(self, numbers: np.ndarray, missing: np.ndarray) -> pd.Series:
        column = self.column
        low = -np.inf if column.min is None else column.min
        high = np.inf if column.max is None else column.max
        numbers = np.clip(numbers, low, high)
        if column.decimals is not None:
            numbers = np.round(numbers, column.decimals)
        if self._stored_as_text:
            text = [_number_text(v, column.decimals) for v in numbers.tolist()]
            gaps = np.asarray(missing, dtype=bool)
            values = np.where(gaps, column.missing_text, np.asarray(text, dtype=object))
            return dtypes.restore(values, column.dtype)
        return dtypes.restore(np.where(missing, np.nan, numbers), column.dtype)

    def from_values(self, values: np.ndarray) -> pd.Series:
        if not self._stored_as_text:
            return super().from_values(values)
        numbers = dtypes.to_float(pd.Series(values, dtype=object))
        return self.from_numbers(np.nan_to_num(numbers), np.isnan(numbers))

    @property
    def _stored_as_text(self) -> bool:
        return self.column.missing_text is not None or self.column.dtype in dtypes.TEXT_DTYPE_NAMES


def _number_text(value: float, decimals: int | None) -> str:
    """A number as text, without trailing zeros: 16.17 for 16.170, 12 for 12.0."""
    if decimals is None:
        return np.format_float_positional(value, trim="-")
    return np.format_float_positional(value, precision=decimals, unique=True, trim="-")


class _SecondsTransformer(ContinuousTransformer):
    """Values learned as seconds and rounded back to the coarsest of ``UNITS`` (seconds each)
    that every training value sits on, so whole days and whole minutes stay whole.

    A unit's grid may be shifted (``unit_offset`` seconds): weekly dates that all fall on a
    Monday sit on a grid of weeks that starts on one, daily readings all taken at 9:00 on a
    grid of days shifted by nine hours.
    """

    UNITS: ClassVar[dict[str, float]] = {}

    def __init__(self, column: Column) -> None:
        super().__init__(column)
        self.unit: str | None = None
        self.unit_offset = 0.0

    def _fit_values(self, present: np.ndarray) -> None:
        super()._fit_values(present)
        self.unit, self.unit_offset = None, 0.0
        for name, size in self.UNITS.items():
            offset = float(np.mod(present[0], size))
            if np.all(np.mod(present - offset, size) == 0):
                self.unit, self.unit_offset = name, offset
                return

    def rounded(self, seconds: np.ndarray) -> np.ndarray:
        """``seconds`` moved to the nearest point of the unit's grid (as they are without)."""
        if self.unit is None:
            return seconds
        size, offset = self.UNITS[self.unit], self.unit_offset
        return np.round((seconds - offset) / size) * size + offset

    def get_state(self) -> dict[str, Any]:
        state = {**super().get_state(), "unit": self.unit}
        if self.unit_offset:
            state["unit_offset"] = self.unit_offset
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.unit = state.get("unit")
        self.unit_offset = float(state.get("unit_offset", 0.0))


@register
class DatetimeTransformer(_SecondsTransformer):
    """datetime64 columns (naive or with a time zone) and text columns of dates.

    Learned as seconds since the epoch and rounded back to the calendar's coarsest grid that
    every training value sits on: the first of a year, a quarter or a month (monthly series
    come back on the first, not on any day), then weeks, days, hours, minutes or seconds, so
    dates stay dates and hourly readings stay on the hour.
    """

    kind = "datetime"
    #: Calendar units, in months; their steps are not a fixed number of seconds.
    MONTH_UNITS: ClassVar[dict[str, int]] = {"year": 12, "quarter": 3, "month": 1}
    UNITS: ClassVar[dict[str, float]] = {
        "week": 7 * 86400.0,
        "day": 86400.0,
        "hour": 3600.0,
        "minute": 60.0,
        "second": 1.0,
    }

    def _fit_values(self, present: np.ndarray) -> None:
        super()._fit_values(present)
        if self.unit in (None, "second", "minute", "hour"):
            return  # months start at midnight
        months = _months_since_epoch(present)
        starts = np.isclose(months, np.round(months), rtol=0.0, atol=1e-9)
        for name, size in self.MONTH_UNITS.items():
            if starts.all() and np.all(np.mod(np.round(months), size) == 0):
                self.unit, self.unit_offset = name, 0.0
                return

    def rounded(self, seconds: np.ndarray) -> np.ndarray:
        if self.unit not in self.MONTH_UNITS:
            return super().rounded(seconds)
        size = self.MONTH_UNITS[self.unit]
        finite = np.isfinite(seconds)
        rounded = seconds.copy()
        months = np.round(_months_since_epoch(seconds[finite]) / size) * size
        rounded[finite] = months.astype("int64").astype("datetime64[M]").astype("datetime64[s]")
        return rounded

    @classmethod
    def describe(cls, series: pd.Series) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        present = series.dropna()
        if dtypes.is_text(series):
            fmt = guess_datetime_format(present)
            fields["datetime_format"] = fmt and datetime_text.with_padding_of(present, fmt)
        stamps = cls._parse(series, fields.get("datetime_format")).dropna()
        if len(stamps):
            fields["min"] = stamps.min().isoformat()
            fields["max"] = stamps.max().isoformat()
        return fields

    @staticmethod
    def _parse(series: pd.Series, fmt: str | None) -> pd.Series:
        if dtypes.is_datetime(series):
            return series
        try:
            return datetime_text.parse(series, fmt)
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"column {series.name!r} is a datetime column but holds values that do "
                f"not parse as dates ({exc})"
            ) from None

    def _seconds(self, stamps: pd.Series) -> np.ndarray:
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        nanos = stamps.astype("datetime64[ns]").to_numpy().astype("int64").astype(np.float64)
        return np.where(stamps.isna().to_numpy(), np.nan, nanos / 1e9)

    def to_numbers(self, series: pd.Series) -> np.ndarray:
        return self._seconds(self._parse(series, self.column.datetime_format))

    def from_numbers(self, numbers: np.ndarray, missing: np.ndarray) -> pd.Series:
        column = self.column
        numbers = self.rounded(numbers)
        bounds = [pd.Timestamp(b) for b in (column.min, column.max) if b is not None]
        bounds = [b.tz_convert("UTC").tz_localize(None) if b.tzinfo else b for b in bounds]
        if len(bounds) == 2:
            numbers = np.clip(numbers, bounds[0].value / 1e9, bounds[1].value / 1e9)
        nanos = np.where(missing, 0, np.round(numbers * 1e9)).astype("int64")
        stamps = pd.Series(pd.to_datetime(nanos, unit="ns")).where(~missing)
        if column.datetime_format is not None:
            text = datetime_text.render(stamps, column.datetime_format)
            return dtypes.restore(text.where(~missing, None).to_numpy(object), column.dtype)
        tz = getattr(pd.api.types.pandas_dtype(column.dtype), "tz", None)
        if tz is not None:
            stamps = stamps.dt.tz_localize("UTC").dt.tz_convert(tz)
        try:
            return stamps.astype(column.dtype)
        except (TypeError, ValueError):
            return stamps


def _months_since_epoch(seconds: np.ndarray) -> np.ndarray:
    """Months since January 1970 of moments in seconds since the epoch, with the fraction of
    the month gone by: a whole number for the first of a month at midnight."""
    stamps = np.floor(seconds).astype("int64").astype("datetime64[s]")
    month = stamps.astype("datetime64[M]")
    start = month.astype("datetime64[s]").astype("int64")
    length = (month + 1).astype("datetime64[s]").astype("int64") - start
    return month.astype("int64") + (seconds - start) / length


@register
class DurationTransformer(_SecondsTransformer):
    """timedelta64 columns (a call's length, time to an event), learned as seconds.

    ``min`` and ``max`` are written as pandas writes a timedelta (``"0 days 01:30:00"``).
    A text column the schema calls a duration is read with :func:`pandas.to_timedelta` and
    written back in that same form, or on a clock (``duration_format``, "38:31:00").
    """

    kind = "duration"
    UNITS: ClassVar[dict[str, float]] = {
        "day": 86400.0,
        "hour": 3600.0,
        "minute": 60.0,
        "second": 1.0,
    }

    @classmethod
    def describe(cls, series: pd.Series) -> dict[str, Any]:
        present = cls._parse(series).dropna()
        if present.empty:
            return {}
        fields = {"min": str(present.min()), "max": str(present.max())}
        text = series.dropna().astype(str)
        if dtypes.is_text(series) and text.str.fullmatch(CLOCK_DURATION).all():
            fields["duration_format"] = datetime_text.clock_format(text)
        return fields

    @classmethod
    def check_column(cls, column: Column) -> None:
        if column.duration_format not in (None, *datetime_text.CLOCK_FORMATS):
            raise SchemaError(
                f"column {column.name!r}: duration_format must be one of "
                f"{', '.join(datetime_text.CLOCK_FORMATS)} or null, not {column.duration_format!r}"
            )
        for bound in (column.min, column.max):
            if bound is None:
                continue
            try:
                # A bare number would be read as nanoseconds.
                if not isinstance(bound, str):
                    raise TypeError(bound)
                pd.Timedelta(bound)
            except (ValueError, TypeError):
                raise SchemaError(
                    f"column {column.name!r}: min and max of a duration must read as one, "
                    f'such as "0 days 01:30:00" or "90 minutes", not {bound!r}'
                ) from None

    @classmethod
    def check_values(cls, column: Column, series: pd.Series) -> None:
        cls._parse(series)

    @staticmethod
    def _parse(series: pd.Series) -> pd.Series:
        if dtypes.is_timedelta(series):
            return series
        try:
            return pd.Series(pd.to_timedelta(series.to_numpy(object)), index=series.index)
        except (ValueError, TypeError) as exc:
            raise DataError(
                f"column {series.name!r} is a duration column but holds values that are not "
                f"durations ({exc})"
            ) from None

    def to_numbers(self, series: pd.Series) -> np.ndarray:
        seconds = self._parse(series).dt.total_seconds()
        return seconds.to_numpy(dtype=np.float64, na_value=np.nan)

    def from_numbers(self, numbers: np.ndarray, missing: np.ndarray) -> pd.Series:
        column = self.column
        numbers = self.rounded(numbers)
        low = -np.inf if column.min is None else pd.Timedelta(column.min).total_seconds()
        high = np.inf if column.max is None else pd.Timedelta(column.max).total_seconds()
        numbers = np.clip(numbers, low, high)
        nanos = np.where(missing, 0, np.round(numbers * 1e9)).astype("int64")
        durations = pd.Series(pd.to_timedelta(nanos, unit="ns")).where(~np.asarray(missing))
        if column.dtype in dtypes.TEXT_DTYPE_NAMES:
            if column.duration_format is not None:
                text = datetime_text.render_clock(numbers, column.duration_format)
            else:
                text = durations.astype(str)
            text = text.where(~np.asarray(missing), None)
            return dtypes.restore(text.to_numpy(object), column.dtype)
        try:
            return durations.astype(column.dtype)
        except (TypeError, ValueError):
            return durations
