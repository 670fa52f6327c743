"""Differential privacy for ``TabularVAE(dp=True)``: the budget, and what a fit may read.

A differentially private fit releases what it learns from the rows only through Gaussian
mechanisms that one Rényi-DP accountant (Google's ``dp-accounting``) composes:

* **The network weights**, trained with DP-SGD (:mod:`tabvae.dp_training`): batches drawn by
  Poisson sampling (each row joins a step with probability ``q``), each row's gradient clipped
  to ``max_grad_norm``, Gaussian noise of standard deviation
  ``noise_multiplier * max_grad_norm`` added to their sum.
* **Per-column histograms** (:func:`fit_private_table`), one Gaussian mechanism over all
  columns at once: the quantile knots of numbers and datetimes and the category frequencies
  come from noisy counts, never from the rows themselves.

Nothing else is read from the rows. Bounds, category lists, rounding, nullability, id formats
and constant values must be given in the schema (:func:`resolve_private_schema`); the latent
prior is N(0, I); early stopping, which reads the data every epoch, is off; ``determined_by``
and ``relative_to`` rules are dropped and condition columns refused, since they tabulate the
rows. A ``computed_from`` rule is kept: its scale and offset are the schema's.

The number of rows, the column names and their pandas dtypes are treated as public, as in
DP-SGD practice (``q`` and the default ``delta = 1 / n`` use the row count). Neighbouring
tables differ by adding or removing one row.

This module needs no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tabvae import dtypes
from tabvae.errors import DataError, SchemaError
from tabvae.schema import Column, Schema

if TYPE_CHECKING:
    from tabvae.table import TableTransformer

#: Share of the target epsilon the column histograms would spend on their own. The rest goes
#: to DP-SGD; one accountant composes both, so the total never exceeds the target.
STATISTICS_SHARE = 0.15
#: Equal-width bins of a number's (or a datetime's) histogram between its schema bounds.
N_BINS = 32
#: Integer columns with at most this many possible values get one bin per value, so their
#: point masses (a term of 12, 24 or 36 months) come back as such.
MAX_VALUE_BINS = 128
#: Knots of the quantile map read off a noisy histogram (as many as a non-private map keeps).
N_KNOTS = 1001
#: Kinds whose transformers are fitted from a noisy histogram.
COUNTED_KINDS = ("numerical", "datetime", "categorical")
#: Kinds a private fit can learn: the counted ones and those that need no statistics.
PRIVATE_KINDS = (*COUNTED_KINDS, "boolean", "id", "constant")
#: Largest noise multiplier the calibration tries before giving up.
_MAX_NOISE = 1e4
_TIME_DIRECTIVES = re.compile(r"%-?[HIMSfpXcTRrs]")


# --- accounting ---------------------------------------------------------------------------
@contextmanager
def _quiet_absl() -> Iterator[None]:
    # The RDP accountant logs a warning for every fractional order whose series does not
    # converge; it then drops that order, which only loosens the bound, never breaks it.
    logger = logging.getLogger("absl")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def dp_event(
    noise_multiplier: float,
    q: float,
    steps: int,
    statistics_noise_multiplier: float | None = None,
) -> Any:
    """The ``dp_accounting`` event of a private fit.

    Parameters
    ----------
    noise_multiplier : float
        DP-SGD noise standard deviation over the clipping norm.
    q : float
        Poisson sampling probability of a row in one step.
    steps : int
        Number of DP-SGD steps.
    statistics_noise_multiplier : float, optional
        Noise multiplier of the one Gaussian release of all column histograms (noise
        standard deviation over the histograms' L2 sensitivity); ``None`` when there is none.

    Returns
    -------
    dp_accounting.DpEvent
    """
    import dp_accounting

    # A fit with no column to model runs no step.
    sgd: Any = dp_accounting.NoOpDpEvent()
    if steps > 0:
        gaussian = dp_accounting.GaussianDpEvent(noise_multiplier)
        step = dp_accounting.PoissonSampledDpEvent(q, gaussian)
        sgd = dp_accounting.SelfComposedDpEvent(step, int(steps))
    if statistics_noise_multiplier is None:
        return sgd
    histograms = dp_accounting.GaussianDpEvent(statistics_noise_multiplier)
    return dp_accounting.ComposedDpEvent([histograms, sgd])


def rdp_epsilon(event: Any, delta: float) -> float:
    """Epsilon of ``event`` at ``delta`` by the RDP accountant (add-or-remove-one neighbours)."""
    from dp_accounting import rdp

    accountant = rdp.RdpAccountant()
    with _quiet_absl():
        accountant.compose(event)
        return float(accountant.get_epsilon(delta))


def smallest_noise(
    epsilon_of: Callable[[float], float], target: float, tolerance: float = 1e-3
) -> float:
    """Smallest noise multiplier whose epsilon is at most ``target``, by bisection.

    ``epsilon_of`` must fall as the noise grows. The result is the upper end of the final
    bracket, so its epsilon never exceeds ``target``, and it is within ``tolerance``
    (relative) of the exact answer.
    """
    high = 1.0
    while epsilon_of(high) > target:
        high *= 2.0
        if high > _MAX_NOISE:
            raise DataError(
                f"epsilon={target:g} cannot be reached with this many steps; train for fewer "
                "epochs or accept a larger epsilon"
            )
    low = 0.0
    while high - low > tolerance * high:
        middle = 0.5 * (low + high)
        if epsilon_of(middle) <= target:
            high = middle
        else:
            low = middle
    return high


@dataclasses.dataclass(frozen=True)
class PrivacyPlan:
    """Noise levels that make a fit of ``steps`` DP-SGD steps ``(target_epsilon, delta)``-DP.

    Attributes
    ----------
    target_epsilon, delta : float
        The asked budget.
    q : float
        Poisson sampling probability of a row in one step (expected batch size over rows).
    steps : int
        Planned DP-SGD steps (epochs times steps per epoch).
    noise_multiplier : float
        DP-SGD noise standard deviation over ``max_grad_norm``.
    statistics_noise_multiplier : float or None
        Noise multiplier of the column histograms; ``None`` when no column needs one.
    """

    target_epsilon: float
    delta: float
    q: float
    steps: int
    noise_multiplier: float
    statistics_noise_multiplier: float | None

    def epsilon(self, steps: int | None = None) -> float:
        """Epsilon spent after ``steps`` DP-SGD steps (the planned ones by default)."""
        event = dp_event(
            self.noise_multiplier,
            self.q,
            self.steps if steps is None else steps,
            self.statistics_noise_multiplier,
        )
        return rdp_epsilon(event, self.delta)


def plan_privacy(
    epsilon: float,
    delta: float,
    q: float,
    steps: int,
    statistics: bool = True,
    statistics_share: float = STATISTICS_SHARE,
) -> PrivacyPlan:
    """Calibrate the noise of a private fit to a target budget, before any training.

    The histograms' noise multiplier is the smallest whose release alone spends
    ``statistics_share * epsilon``; then the DP-SGD noise multiplier is the smallest for
    which the composition of both (by the RDP accountant) spends at most ``epsilon``.

    Parameters
    ----------
    epsilon : float
        Target epsilon, positive.
    delta : float
        Target delta, in (0, 1).
    q : float
        Poisson sampling probability of a row in one step, in (0, 1].
    steps : int
        Planned DP-SGD steps.
    statistics : bool
        Whether column histograms are released too.
    statistics_share : float
        Share of ``epsilon`` the histograms would spend on their own.

    Returns
    -------
    PrivacyPlan
    """
    if isinstance(epsilon, bool) or not isinstance(epsilon, int | float) or not epsilon > 0:
        raise DataError(f"epsilon must be a positive number, got {epsilon!r}")
    if not math.isfinite(epsilon):
        raise DataError("epsilon must be finite")
    if isinstance(delta, bool) or not isinstance(delta, int | float) or not 0 < delta < 1:
        raise DataError(f"delta must be in (0, 1), got {delta!r}")
    statistics_noise = None
    if statistics:
        statistics_noise = smallest_noise(
            lambda sigma: rdp_epsilon(_gaussian(sigma), delta), statistics_share * epsilon
        )
    noise = smallest_noise(
        lambda sigma: rdp_epsilon(dp_event(sigma, q, steps, statistics_noise), delta), epsilon
    )
    return PrivacyPlan(float(epsilon), float(delta), float(q), int(steps), noise, statistics_noise)


def _gaussian(sigma: float) -> Any:
    import dp_accounting

    return dp_accounting.GaussianDpEvent(sigma)


# --- the schema a private fit may use -----------------------------------------------------
def _lacking_fields(column: Column, series: pd.Series) -> list[str]:
    """Fields a private fit needs from the user for ``column`` and did not get."""
    lacking = []
    if column.kind in ("numerical", "datetime"):
        lacking += [f for f in ("min", "max") if getattr(column, f) is None]
        text_dates = column.kind == "datetime" and not dtypes.is_datetime(series)
        if text_dates and column.datetime_format is None:
            lacking.append("datetime_format")
    elif column.kind == "categorical" and not column.categories:
        lacking.append("categories")
    elif column.kind == "id" and column.id_format is None:
        lacking.append("id_format")
    elif column.kind == "constant" and column.value is None:
        lacking.append("value")
    return lacking


def resolve_private_schema(schema: Schema | None, df: pd.DataFrame) -> Schema:
    """The schema of a private fit: every field from the user, none read from the rows.

    Only structure comes from ``df``: that the columns exist, and their pandas dtypes.
    Numbers and datetimes need ``min`` and ``max`` (values outside are clamped to them),
    categories their list (a value the list lacks is an error), text datetimes their
    ``datetime_format``, ids their ``id_format`` and constants their ``value``. ``nullable``
    is taken as given: a gap in a column the schema calls not nullable is an error. Integer
    columns without ``decimals`` are rounded to whole numbers, other numbers not at all.
    ``determined_by`` and ``relative_to`` rules are dropped, since their value maps and
    difference ranges would be read from the rows.

    Raises
    ------
    SchemaError
        Without a schema, or when columns lack fields (all of them are named).
    DataError
        When a column the schema calls not nullable has missing values.
    """
    if schema is None:
        raise SchemaError(
            "dp=True needs a schema from you (fit(df, schema=...), or --schema): with "
            "differential privacy, bounds and category lists cannot be read from the rows. "
            "Write one (or run `tabvae schema infer` on public data of the same form) that "
            "gives every numerical and datetime column min and max and every categorical "
            "column its categories"
        )
    from tabvae.transformers import transformer_class

    schema.validate_frame(df)
    lacking = []
    columns = []
    for column in schema.columns:
        if column.exclude:
            columns.append(column)
            continue
        if column.kind not in PRIVATE_KINDS:
            raise SchemaError(
                f"column {column.name!r}: {column.kind} columns cannot be fitted with dp=True; "
                'exclude it ("exclude": true) or give it as a number of seconds'
            )
        series = df[column.name]
        missing_fields = _lacking_fields(column, series)
        if missing_fields:
            lacking.append(f"{column.name!r} ({column.kind}) lacks {', '.join(missing_fields)}")
            continue
        decimals = column.decimals
        if decimals is None and pd.api.types.is_integer_dtype(series.dtype):
            decimals = 0
        resolved = dataclasses.replace(
            column,
            dtype=dtypes.dtype_name(series),
            decimals=decimals,
            determined_by=None,
            relative_to=None,
        )
        transformer_class(resolved.kind).check_column(resolved)
        if resolved.kind in ("numerical", "datetime"):
            low, high = bounds(resolved)
            if not (math.isfinite(low) and math.isfinite(high) and low < high):
                raise SchemaError(
                    f"column {column.name!r}: min ({column.min}) must be below max ({column.max})"
                )
        columns.append(resolved)
    if lacking:
        raise SchemaError(
            "with dp=True the schema must give what would otherwise be read from the rows: "
            + "; ".join(lacking)
        )
    gaps = [c.name for c in columns if not c.exclude and not c.nullable and df[c.name].isna().any()]
    if gaps:
        raise DataError(
            f"columns {gaps} have missing values but the schema says nullable: false; with "
            "dp=True nullability comes from the schema, so set it to true there"
        )
    return Schema(tuple(columns))


def bounds(column: Column) -> tuple[float, float]:
    """Schema bounds as the numbers the column's transformer works with (seconds for dates)."""
    if column.kind == "numerical":
        return float(column.min), float(column.max)
    seconds = []
    for bound in (column.min, column.max):
        try:
            stamp = pd.Timestamp(bound)
        except (TypeError, ValueError):
            raise SchemaError(
                f"column {column.name!r}: {bound!r} is not a date; give min and max as ISO dates"
            ) from None
        if stamp.tzinfo is not None:
            stamp = stamp.tz_convert("UTC").tz_localize(None)
        seconds.append(stamp.value / 1e9)
    return seconds[0], seconds[1]


# --- private column statistics ------------------------------------------------------------
def _datetime_unit(column: Column) -> str | None:
    """Rounding unit of a datetime column, from its schema rather than its values."""
    if column.datetime_format is not None:
        return None if _TIME_DIRECTIVES.search(column.datetime_format) else "day"
    stamps = [pd.Timestamp(b) for b in (column.min, column.max)]
    if all(s == s.normalize() for s in stamps):
        return "day"
    if all(s.microsecond == 0 and s.nanosecond == 0 for s in stamps):
        return "second"
    return None


def bins_of(column: Column) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper ends of the value bins of a number or datetime column.

    A bin whose ends are equal holds one value. Integer columns with few possible values get
    one bin per value; other columns a bin for exactly their lower bound (so zero-inflated
    amounts keep their point mass at zero), then :data:`N_BINS` equal bins up to the upper
    bound. Only the schema decides the bins.
    """
    low, high = bounds(column)
    if (
        column.kind == "numerical"
        and column.decimals == 0
        and math.floor(high) - math.ceil(low) + 1 <= MAX_VALUE_BINS
    ):
        values = np.arange(math.ceil(low), math.floor(high) + 1, dtype=np.float64)
        return values, values
    edges = np.linspace(low, high, N_BINS + 1)
    return np.concatenate([[low], edges[:-1]]), np.concatenate([[low], edges[1:]])


def histogram(transformer: Any, series: pd.Series) -> np.ndarray:
    """Exact counts of one column: value bins, then a missing bin for nullable columns.

    Categories count once each, in the schema's order; numbers and datetimes in the bins of
    :func:`bins_of` (values outside the schema bounds count in the end bins). Every row adds
    one to exactly one bin.
    """
    column = transformer.column
    if column.kind == "categorical":
        # A transformer that keeps every listed category counts them through its one-hot
        # (and rejects values the schema does not list).
        transformer.set_state(
            {
                "kept": list(range(len(column.categories))),
                "kept_counts": [0] * len(column.categories),
                "tail": [],
                "tail_counts": [],
            }
        )
        return transformer.transform(series)[column.name].sum(axis=0).astype(np.float64)
    numbers = transformer.to_numbers(series)
    missing = np.isnan(numbers)
    left, right = bins_of(column)
    present = np.clip(numbers[~missing], left[0], right[-1])
    if np.array_equal(left, right):
        index = np.clip(np.round(present - left[0]).astype(np.int64), 0, len(left) - 1)
    else:
        # Bin 0 holds the lower bound itself; bin k > 0 the values in (left[k], right[k]].
        index = np.searchsorted(right, present, side="left")
    counts = np.bincount(index, minlength=len(left)).astype(np.float64)
    return np.append(counts, missing.sum()) if column.nullable else counts


def knots_from_histogram(
    noisy: np.ndarray, left: np.ndarray, right: np.ndarray, threshold: float
) -> np.ndarray:
    """Quantile knots of a noisy histogram with bins from ``left`` to ``right``.

    Bins whose noisy count is below ``threshold`` count as empty, so the noise on the many
    empty bins of a skewed column does not add up to spurious mass in its tail. Within a
    bin, values are taken as spread evenly; a one-value bin is a point mass, which comes back
    as repeated knots.
    """
    weights = np.where(noisy > threshold, noisy, 0.0)
    # A trace of mass in every bin keeps the CDF increasing across each bin.
    weights = weights + 1e-6 * max(weights.sum(), 1.0) / len(weights)
    above = np.cumsum(weights) / weights.sum()
    below = np.concatenate([[0.0], above[:-1]])
    cdf = np.column_stack([below, above]).ravel()
    ends = np.column_stack([left, right]).ravel()
    knots = np.interp(np.linspace(0.0, 1.0, N_KNOTS), cdf, ends)
    knots[0], knots[-1] = left[0], right[-1]
    return knots


def fit_private_table(
    schema: Schema,
    df: pd.DataFrame,
    noise_multiplier: float | None,
    rng: np.random.Generator,
) -> TableTransformer:
    """Fit a :class:`~tabvae.table.TableTransformer` from noisy column histograms.

    Every number, datetime and categorical column gets a histogram (:func:`histogram`).
    Adding or removing a row changes one count of each histogram by one, so the L2
    sensitivity of all ``d`` of them together is ``sqrt(d)`` and the Gaussian noise has
    standard deviation ``noise_multiplier * sqrt(d)``. Quantile knots and category counts
    are read off the noisy counts (post-processing). Every listed category gets a level,
    whether or not the rows show it: that a category occurs is itself private.

    Parameters
    ----------
    schema : Schema
        A schema from :func:`resolve_private_schema`.
    df : pandas.DataFrame
        The training rows.
    noise_multiplier : float or None
        :attr:`PrivacyPlan.statistics_noise_multiplier`; ``None`` only when no column needs
        a histogram.
    rng : numpy.random.Generator
        Source of the noise: seed it from fresh entropy, never from a public seed.

    Returns
    -------
    TableTransformer
    """
    from tabvae.schema import check_computed, learned
    from tabvae.table import TableTransformer
    from tabvae.transformers import transformer_class
    from tabvae.transformers.categorical import MAX_LEVELS

    check_computed(schema)
    transformers = [transformer_class(c.kind)(c) for c in learned(schema.modeled)]
    counted = [t for t in transformers if t.column.kind in COUNTED_KINDS]
    if counted and noise_multiplier is None:
        raise ValueError("column histograms need a noise multiplier")
    std = (noise_multiplier or 0.0) * math.sqrt(len(counted))
    for transformer in counted:
        column = transformer.column
        counts = histogram(transformer, df[column.name])
        noisy = counts + rng.normal(0.0, std, counts.shape)
        values = noisy[:-1] if column.nullable else noisy
        if column.kind == "categorical":
            clipped = np.maximum(np.round(values), 0).astype(int)
            order = [int(i) for i in np.argsort(-values, kind="stable")]
            split = len(order) if len(order) <= MAX_LEVELS else MAX_LEVELS - 1
            kept, tail = sorted(order[:split]), sorted(order[split:])
            transformer.set_state(
                {
                    "kept": kept,
                    "kept_counts": [int(clipped[i]) for i in kept],
                    "tail": tail,
                    "tail_counts": [int(clipped[i]) for i in tail],
                }
            )
            continue
        left, right = bins_of(column)
        # A threshold of one noise standard deviation served the tables we tried best: it
        # removes most of the spurious mass and few of the real bins.
        knots = knots_from_histogram(values, left, right, std)
        state: dict[str, Any] = {"knots": knots.tolist()}
        if column.kind == "datetime":
            state["unit"] = _datetime_unit(column)
        transformer.set_state(state)
    table = TableTransformer(schema)
    table.transformers_ = transformers
    table.dependencies_ = {}
    return table
