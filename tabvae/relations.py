"""Columns learned relative to another column: a share of what lies past it, "the same", or
a place among the rows of the same category.

A remodel year is never before the build year, an end date never before its start, a second
exterior is mostly the first one again, and a house's latitude is set by its neighborhood.
Learned on its own, each column gets its marginal right and breaks the rule in a share of the
synthetic rows. Learned as where it lies in what the other column leaves room for (numbers,
dates), the order holds in every row; learned as "the same as the other, or this value"
(categories), equality becomes one level the model can draw; learned as where it lies among
the rows of its category (a number relative to a category), each drawn value stays in its
category's own distribution.

The schema names the relation (``relative_to``); :class:`Relation` turns the column into its
encoded form and back. The encoded form is an ordinary column (numerical for shares and
differences, categorical for "same or a value"), so the model and its heads need nothing new.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd

from tabvae.dtypes import json_scalar
from tabvae.errors import ModelFileError, SchemaError
from tabvae.protections import extreme_bounds
from tabvae.schema import (
    GROUP_KINDS,
    RELATIVE_KINDS,
    WITHIN_MIN_LEVEL_ROWS,
    Column,
    Schema,
    describe_column,
    moved_by_dependencies,
    order_of,
    tight_sum,
    weak_order,
)
from tabvae.transformers import ColumnTransformer
from tabvae.transformers.categorical import CategoricalTransformer
from tabvae.transformers.numerical import ContinuousTransformer, QuantileMap, count_decimals

_SAME = "<same as {}>"


class Relation:
    """One column as its difference from, or its sameness to, its reference column.

    Numbers and dates on one side of their reference in (almost) every training row are
    learned as a *share*: 1 where the two are equal, otherwise where the column's value lies
    within the part of its own distribution on the far side of the reference (0 the far end).
    The share is taken on the column's probability scale, not its value scale, so the drawn
    values come back through the column's own quantiles: its range and its spikes (many people
    two years in a role) stay, and so does the order. A share carries the reference's own
    sampling noise into the column, so where the reference says little of the column (a
    basement's total area and its unfinished part) the column is learned as its own value
    and moved onto the reference where it falls on the wrong side. Other numbers and dates
    are learned as their difference from the reference, and a number whose sum with its
    reference barely varies (an age and the birth year) as that sum.

    Parameters
    ----------
    name, reference : str
        The column and the column it is learned relative to.
    encoded : Column
        The column of encoded values the model learns (same name, numerical or categorical).
    form : str
        How the column is encoded: its difference from the reference ("difference"); its sum
        with the reference ("sum"); its share of what lies above (or below) the reference
        ("above", "below"); its distance above (below) the reference, for an order whose gaps
        are small against the column's spread ("gap_above", "gap_below"); its own value, kept
        above (below) the reference, for an order whose ranks barely correlate ("kept_above",
        "kept_below"); "the same or a value" ("same"); or its place within the reference's
        category ("within").
    same : str, optional
        The category that stands for "the same as the reference" (form "same").
    fallback : scalar, optional
        The value written when "the same" is drawn for a reference value the column never
        takes (form "same"): the column's most frequent value of its own.
    levels : list, optional
        The reference's categories with a scale of their own (form "within"; ``None`` stands
        for missing).
    knots : list of lists of float, optional
        Quantile-map knots of each of ``levels``, then of the other rows together (form
        "within").
    own_gaps : bool
        Form "same": the category is not missing in exactly the reference's rows (a class
        type in two school years a pupil did not both attend). A gap is then a value of its
        own, and "the same" as a missing reference is a gap; otherwise every gap is the
        reference's.
    """

    def __init__(
        self,
        name: str,
        reference: str,
        encoded: Column,
        form: str = "difference",
        same: str | None = None,
        fallback: Any = None,
        levels: list[Any] | None = None,
        knots: list[list[float]] | None = None,
        own_gaps: bool = False,
    ) -> None:
        self.name = name
        self.reference = reference
        self.encoded = encoded
        self.form = form
        self.same = same
        self.fallback = fallback
        self.levels = levels
        self.knots = knots
        self.own_gaps = own_gaps

    @classmethod
    def fit(
        cls,
        column: ColumnTransformer,
        reference: ColumnTransformer,
        df: pd.DataFrame,
        extreme_value_k: int = 0,
    ) -> Relation:
        """Describe the encoded column from the training rows.

        A numerical difference's range, and each category's scale of a number relative to a
        category, are narrowed like any number's range by the extreme-value protection
        (``extreme_value_k``): one row's outlying value is not stored.
        """
        name, kind = column.column.name, column.column.kind
        own, other = df[name], df[reference.column.name]
        if reference.column.kind in GROUP_KINDS and kind != "categorical":
            return cls._fit_within(column, reference, df, extreme_value_k)
        own_gaps = bool((own.isna() != other.isna()).any())
        if kind == "categorical":
            categories = list(column.column.categories or [])
            same = _SAME.format(reference.column.name)
            while same in categories:
                same += "*"
            values = own.astype(object)
            different = values[~_equal(values, other)].dropna()
            fallback = different.mode().iloc[0] if len(different) else values.dropna().iloc[0]
            # Gaps the reference shares are "the same" (see encode); the encoded column has
            # only the column's own ones.
            own_missing = (own.isna() & other.notna()).to_numpy()
            encoded = dataclasses.replace(
                column.column,
                dtype="object",
                categories=[*categories, same],
                relative_to=None,
                nullable=bool(own_missing.any()),
                missing_rate=float(own_missing.mean()),
            )
            return cls(
                name,
                reference.column.name,
                encoded,
                "same",
                same,
                json_scalar(fallback),
                own_gaps=own_gaps,
            )
        if own_gaps:
            raise SchemaError(
                f"column {name!r} is relative_to {reference.column.name!r}, but the two are "
                "not missing in the same rows; remove relative_to from the schema"
            )
        own_numbers, reference_numbers = _numbers(column, own), _numbers(reference, other)
        present = ~np.isnan(own_numbers) & ~np.isnan(reference_numbers)
        form = {1: "above", -1: "below"}.get(
            order_of(reference_numbers[present], own_numbers[present]), "difference"
        )
        if kind == "numerical" and tight_sum(reference_numbers[present], own_numbers[present]):
            form = "sum"
        elif form != "difference" and _small_gaps(own_numbers[present], reference_numbers[present]):
            form = f"gap_{form}"
        elif form != "difference" and weak_order(reference_numbers[present], own_numbers[present]):
            form = f"kept_{form}"
        relation = cls(name, reference.column.name, column.column, form)
        values = relation._values(column, reference, df)
        fields = describe_column(pd.Series(values, name=name), "numerical")
        fields |= {"dtype": "float64", "loss_weight": column.column.loss_weight}
        relation.encoded = Column.from_dict(fields)
        if form in _NUMBER_FORMS and kind == "numerical":
            # A share lies in [0, 1] and tells nothing of one row; a difference is a number.
            bounds = extreme_bounds(values, extreme_value_k, relation.encoded)
            if bounds is not None:
                relation.encoded = dataclasses.replace(
                    relation.encoded, min=bounds[0], max=bounds[1]
                )
        return relation

    @classmethod
    def _fit_within(
        cls,
        column: ColumnTransformer,
        reference: ColumnTransformer,
        df: pd.DataFrame,
        extreme_value_k: int,
    ) -> Relation:
        """A scale per category with enough rows, and one for the rest together."""
        assert isinstance(column, ContinuousTransformer)
        numbers = _numbers(column, df[column.column.name])
        codes, uniques = pd.factorize(df[reference.column.name], use_na_sentinel=False)
        present = ~np.isnan(numbers)
        least = max(WITHIN_MIN_LEVEL_ROWS, 4 * extreme_value_k)
        counts = np.bincount(codes[present], minlength=len(uniques))
        own_scale = np.flatnonzero(counts >= least)
        levels = [_level_key(uniques[code]) for code in own_scale]
        knots = [
            _protected_knots(numbers[present & (codes == c)], extreme_value_k, column)
            for c in own_scale
        ]
        rest = numbers[present & ~np.isin(codes, own_scale)]
        knots.append(
            _protected_knots(rest, extreme_value_k, column)
            if rest.size >= least
            else [float(k) for k in column.quantiles.knots]
        )
        relation = cls(
            column.column.name,
            reference.column.name,
            column.column,
            "within",
            levels=levels,
            knots=knots,
        )
        values = relation._values(column, reference, df)
        fields = describe_column(pd.Series(values, name=column.column.name), "numerical")
        fields |= {"dtype": "float64", "loss_weight": column.column.loss_weight}
        relation.encoded = Column.from_dict(fields)
        return relation

    def _scales(self, reference_values: pd.Series) -> tuple[list[QuantileMap], np.ndarray]:
        """The category scales, and the index of each row's scale (form "within")."""
        assert self.levels is not None and self.knots is not None
        scales = [QuantileMap(np.asarray(k, dtype=np.float64)) for k in self.knots]
        position = {level: i for i, level in enumerate(self.levels)}
        codes, uniques = pd.factorize(reference_values, use_na_sentinel=False)
        # Unseen and small categories take the shared scale, the last one.
        index = np.array(
            [position.get(_level_key(u), len(self.levels)) for u in uniques], dtype=np.int64
        )
        return scales, index[codes] if len(codes) else np.zeros(0, dtype=np.int64)

    def _values(
        self, column: ColumnTransformer, reference: ColumnTransformer, df: pd.DataFrame
    ) -> np.ndarray:
        """Encoded numbers of a number or date column of ``df``."""
        numbers = _numbers(column, df[self.name])
        if self.form == "within":
            scales, rows = self._scales(df[self.reference])
            place = np.full(len(numbers), np.nan)
            for i, scale in enumerate(scales):
                on = rows == i
                place[on] = 0.5 * (scale.below(numbers[on]) + scale.at_most(numbers[on]))
            return np.where(np.isnan(numbers), np.nan, place)
        reference_numbers = _numbers(reference, df[self.reference])
        difference = _difference(numbers, reference_numbers, column.column, reference.column)
        # Missing with its reference counts as equal to it: the column's gaps then come from
        # the reference's alone, in the same rows, as in training.
        both_missing = np.isnan(numbers) & np.isnan(reference_numbers)
        if self.form == "difference":
            return np.where(both_missing, 0.0, difference)
        if self.form == "sum":
            total = _difference(numbers, -reference_numbers, column.column, reference.column)
            return np.where(both_missing, 0.0, total)
        if self.form in _GAP_FORMS:
            # A slip to the wrong side comes back equal to the reference, as in a share.
            return np.where(both_missing, 0.0, _keep_side(self.form)(difference, 0.0))
        if self.form in _KEPT_FORMS:
            return numbers
        assert isinstance(column, ContinuousTransformer)
        scale = _FarSide(column.quantiles, self.form)
        room = scale.beyond(reference_numbers)
        position = 0.5 * (scale.beyond(numbers) + scale.beyond_or_at(numbers))
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(room > 0, np.clip(position / room, 0.0, 1.0), 0.0)
        # Equal to the reference (or, a slip, on its wrong side): the share's top, 1.
        at_reference = (difference == 0) | (
            np.sign(difference) == (-1 if self.form == "above" else 1)
        )
        share = np.where(at_reference | both_missing, 1.0, share)
        return np.where(np.isnan(difference) & ~both_missing, np.nan, share)

    def encode(
        self,
        df: pd.DataFrame,
        column: ColumnTransformer,
        reference: Any,
        learned: ColumnTransformer | None = None,
    ) -> pd.Series:
        """The encoded values of the column in ``df`` (``reference``: its own transformer).

        ``learned`` is the fitted transformer of the encoded values, left out while fitting it.
        """
        if self.form == "same":
            values = df[self.name].astype(object)
            same = (
                _equal(values, df[self.reference])
                | (values.isna() & df[self.reference].isna()).to_numpy()
            )
            if isinstance(learned, CategoricalTransformer):
                # A value the training rows held only where it equalled the reference enters
                # as "the same" in rows where it does not (the reference is a gap to impute,
                # was drawn in an earlier round, or differs in a row given to encode): the
                # model never saw it on its own. Unlisted values stay, to be refused by name.
                own = set(learned.seen_categories())
                never_own = [c for c in column.column.categories or [] if c not in own]
                if never_own:
                    same |= values.isin(never_own).to_numpy()
            encoded = values.where(~same, self.same)
            return pd.Series(encoded.to_numpy(dtype=object), name=self.name)
        values = self._values(column, reference, df)
        # Rows outside the stored range (clipped extremes, new rows) take its nearest end.
        low = -np.inf if self.encoded.min is None else self.encoded.min
        high = np.inf if self.encoded.max is None else self.encoded.max
        return pd.Series(np.clip(values, low, high), name=self.name)

    def decode(
        self,
        encoded: pd.Series,
        reference_values: pd.Series,
        column: ColumnTransformer,
        reference: ColumnTransformer,
    ) -> pd.Series:
        """The column, in its dtype, from encoded values and the reference's values."""
        if self.form == "same":
            values = encoded.to_numpy(dtype=object).copy()
            same = values == self.same
            known = set(column.column.categories or [])
            taken = reference_values.to_numpy(dtype=object)
            values[same] = [v if (v in known or pd.isna(v)) else self.fallback for v in taken[same]]
            if not self.own_gaps:
                values[pd.isna(taken)] = None  # the two were missing in the same rows
            return column.from_values(np.where(pd.isna(values), None, values))
        values = encoded.to_numpy(dtype=np.float64)
        assert isinstance(column, ContinuousTransformer)
        if self.form == "within":
            scales, rows = self._scales(reference_values.reset_index(drop=True))
            numbers = np.full(len(values), np.nan)
            place = np.clip(np.nan_to_num(values), 0.0, 1.0)
            for i, scale in enumerate(scales):
                on = rows == i
                numbers[on] = scale.value_at(place[on])
            numbers = np.where(np.isnan(values), np.nan, numbers)
            return column.from_numbers(np.nan_to_num(numbers), np.isnan(numbers))
        reference_numbers = _numbers(reference, reference_values)
        if self.form == "sum":
            # Within the column's own range, as a drawn age stays among the ages seen.
            knots = column.quantiles.knots
            numbers = np.clip(values - reference_numbers, knots[0], knots[-1])
        elif self.form in _DIFFERENCE_FORMS:
            numbers = reference_numbers + values
            if self.form in _GAP_FORMS:
                # Within the column's own range (a departure after the last one seen moves
                # back to it), which keeps the order: the reference lies within its own.
                knots = column.quantiles.knots
                numbers = np.clip(numbers, knots[0], knots[-1])
                numbers = _keep_side(self.form)(numbers, reference_numbers)
        elif self.form in _KEPT_FORMS:
            knots = column.quantiles.knots
            numbers = np.clip(values, knots[0], knots[-1])
            # A gap where the reference has a value takes the reference's: the column's gaps
            # stay the reference's, as in training.
            numbers = np.where(np.isnan(numbers), reference_numbers, numbers)
            numbers = _keep_side(self.form)(numbers, reference_numbers)
        else:
            scale = _FarSide(column.quantiles, self.form)
            share = np.clip(np.nan_to_num(values), 0.0, 1.0)
            drawn = scale.value_at(share * scale.beyond(reference_numbers))
            # Never past the reference, whatever the knots' interpolation gives.
            drawn = _keep_side(self.form)(drawn, reference_numbers)
            numbers = np.where(share >= 1.0, reference_numbers, drawn)
            numbers = np.where(np.isnan(values), np.nan, numbers)
        missing = np.isnan(numbers)
        return column.from_numbers(np.nan_to_num(numbers), missing)

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "reference": self.reference,
            "encoded": self.encoded.to_dict(),
            "form": self.form,
            "same": self.same,
            "fallback": self.fallback,
            "levels": self.levels,
            "knots": self.knots,
            "own_gaps": self.own_gaps,
        }

    @classmethod
    def from_dict(cls, name: str, data: dict[str, Any]) -> Relation:
        """Rebuild from :meth:`to_dict` output."""
        try:
            return cls(
                name,
                data["reference"],
                Column.from_dict(data["encoded"]),
                data["form"],
                data.get("same"),
                data.get("fallback"),
                data.get("levels"),
                data.get("knots"),
                bool(data.get("own_gaps", False)),
            )
        except (KeyError, TypeError) as exc:
            raise ModelFileError(f"the relation of column {name!r} is not valid: {exc}") from exc


#: An order is learned as the distance past the reference, not as a share of what lies past
#: it, when 90 % of its gaps are within this share of the column's own spread (its 10-90 %
#: range): an interview's end an hour after its start, in a survey fielded over months. A
#: share there is a number near 0 that must be exact to the thousandth, and the model's
#: noise on it made interviews last days (stevedata/ESS10NO: 90 % of real interviews under
#: 1.8 hours, 90 % of synthetic ones under 12.9).
SMALL_GAP_SHARE = 0.05
_GAP_FORMS = ("gap_above", "gap_below")
_DIFFERENCE_FORMS = ("difference", *_GAP_FORMS)
#: A weak order (``tabvae.schema.RELATION_MIN_RANK_CORRELATION``): the column's own value is
#: learned, and moved onto the reference where it falls on the wrong side.
_KEPT_FORMS = ("kept_above", "kept_below")
#: Forms whose encoded values are numbers of their own (not shares of one column's scale).
_NUMBER_FORMS = ("sum", *_DIFFERENCE_FORMS, *_KEPT_FORMS)


def _keep_side(form: str) -> Any:
    """``np.maximum`` for a column kept above its reference, ``np.minimum`` below it: applied
    with the reference, it moves a value on the wrong side onto the reference (NaN stays)."""
    return np.minimum if form.endswith("below") else np.maximum


def _small_gaps(numbers: np.ndarray, reference_numbers: np.ndarray) -> bool:
    """Whether the gaps between ordered numbers are small against the numbers' spread."""
    if numbers.size == 0:
        return False
    low, high = np.quantile(numbers, [0.1, 0.9])
    gaps = np.abs(numbers - reference_numbers)
    return bool(np.quantile(gaps, 0.9) < SMALL_GAP_SHARE * (high - low))


class _FarSide:
    """A column's distribution seen from a point towards its far end (down for "below")."""

    def __init__(self, quantiles: QuantileMap, form: str) -> None:
        self.quantiles = quantiles
        self.down = form == "below"

    def beyond(self, values: np.ndarray) -> np.ndarray:
        """Share of the column strictly past each value."""
        q = self.quantiles
        return q.below(values) if self.down else 1.0 - q.at_most(values)

    def beyond_or_at(self, values: np.ndarray) -> np.ndarray:
        """Share of the column past or at each value."""
        q = self.quantiles
        return q.at_most(values) if self.down else 1.0 - q.below(values)

    def value_at(self, shares: np.ndarray) -> np.ndarray:
        """The value with ``shares`` of the column past it."""
        return self.quantiles.value_at(shares if self.down else 1.0 - shares)


def relation_order(schema: Schema) -> list[str]:
    """Relative columns in an order where every reference comes before its dependents.

    Raises :class:`SchemaError` for a reference that is not a modeled column of the same
    kind, for a column whose value a ``determined_by`` rule sets, and for cycles.
    """
    modeled = {c.name: c for c in schema.modeled}
    bound = moved_by_dependencies(modeled.values())
    pending = {}
    for column in modeled.values():
        reference = column.relative_to
        if reference is None:
            continue
        if reference not in modeled or reference == column.name:
            raise SchemaError(
                f"column {column.name!r} is relative_to {reference!r}, which is not another "
                "modeled column of the table"
            )
        reference_kind = modeled[reference].kind
        same_kind = column.kind == reference_kind and column.kind in RELATIVE_KINDS
        within = column.kind in ("numerical", "datetime") and reference_kind in GROUP_KINDS
        if not (same_kind or within):
            raise SchemaError(
                f"column {column.name!r} ({column.kind}) cannot be relative_to "
                f"{reference!r} ({reference_kind}): both must be numerical, both datetime or "
                "both categorical, or a number or date relative to a categorical or boolean"
            )
        if {column.name, reference} & bound:
            raise SchemaError(
                f"column {column.name!r} is relative_to {reference!r}, and a determined_by "
                "rule sets one of them; keep one of the two rules"
            )
        pending[column.name] = reference
    order: list[str] = []
    while pending:
        ready = [n for n, ref in pending.items() if ref not in pending]
        if not ready:
            raise SchemaError(f"relative_to forms a cycle among columns {sorted(pending)}")
        for name in ready:
            order.append(name)
            del pending[name]
    return order


def _numbers(transformer: ColumnTransformer, values: pd.Series) -> np.ndarray:
    if not isinstance(transformer, ContinuousTransformer):
        raise SchemaError(f"column {transformer.column.name!r} is not a number or a date")
    return transformer.to_numbers(values)


def _difference(
    numbers: np.ndarray, reference_numbers: np.ndarray, column: Column, reference: Column
) -> np.ndarray:
    """The column minus its reference, rounded to the decimals both are written with."""
    difference = numbers - reference_numbers
    decimals = [column.decimals, reference.decimals]
    if column.kind == "numerical" and None not in decimals:
        # 0.3 - 0.1 is not 0.2 in floats; a point mass at a difference must stay one value.
        difference = np.round(difference, max(d for d in decimals if d is not None))
    elif column.kind == "datetime":
        places = count_decimals(difference)
        difference = np.round(difference, 6 if places is None else places)
    return difference


def _level_key(value: Any) -> Any:
    """A category as stored in JSON (``None`` for missing)."""
    return None if pd.isna(value) else json_scalar(value)


def _protected_knots(
    values: np.ndarray, extreme_value_k: int, column: ContinuousTransformer
) -> list[float]:
    """Quantile-map knots of ``values``, inside their extreme-value bounds (numbers only,
    like the protection of whole columns)."""
    knots = QuantileMap().fit(values).knots
    if column.column.kind != "numerical":
        return [float(k) for k in knots]
    bounds = extreme_bounds(values, extreme_value_k, column.column)
    if bounds is not None:
        knots = np.clip(knots, bounds[0], bounds[1])
    return [float(k) for k in knots]


def _equal(values: pd.Series, other: pd.Series) -> np.ndarray:
    """Row-wise equality of two category columns (missing equals nothing)."""
    a = values.to_numpy(dtype=object)
    b = other.to_numpy(dtype=object)
    present = ~(pd.isna(a) | pd.isna(b))
    result = np.zeros(len(a), dtype=bool)
    result[present] = [x == y for x, y in zip(a[present], b[present], strict=True)]
    return result
