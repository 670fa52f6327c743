"""Condition columns of a conditional model: their training distribution and user values.

A conditional model feeds the condition columns to both encoder and decoder, so the decoder
generates rows *given* a condition: every asked value comes back exactly, with no rejection
loop. When no value is asked for, condition values are drawn from the joint frequencies of
the training rows, so unconditional marginals stay right. Numbers and datetimes enter that
table by quantile bins and are drawn uniformly in probability within their bin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtr, ndtri

from tabvae.errors import DataError, SchemaError
from tabvae.schema import Column, Schema
from tabvae.transformers import ColumnTransformer
from tabvae.transformers.numerical import ContinuousTransformer

#: Kinds a model can condition on.
CONDITION_KINDS = ("categorical", "boolean", "numerical", "datetime")
#: Quantile bins of a number in the joint condition table.
N_BINS = 10
_TRUE = {"true", "yes", "1", "t", "y"}
_FALSE = {"false", "no", "0", "f", "n"}


def check_condition_columns(names: list[str], columns: list[Column]) -> None:
    """Raise :class:`SchemaError` unless every name is a modeled column of a usable kind."""
    by_name = {c.name: c for c in columns}
    for name in names:
        if name not in by_name:
            raise SchemaError(f"cannot condition on {name!r}: the table has no such column")
        if by_name[name].kind not in CONDITION_KINDS:
            raise SchemaError(
                f"cannot condition on {name!r}: it is a {by_name[name].kind} column; "
                f"condition columns must be {', '.join(CONDITION_KINDS)}"
            )
    if len(set(names)) != len(names):
        raise SchemaError(f"condition_on names a column twice: {names}")


def coerce_text(column: Column, text: str) -> Any:
    """Turn a value typed on the command line into the column's value type."""
    if column.kind == "categorical":
        for category in column.categories or []:
            if str(category) == text:
                return category
            if isinstance(category, int | float) and not isinstance(category, bool):
                try:
                    if float(text) == category:
                        return category
                except ValueError:
                    pass
        return text
    if column.kind == "boolean":
        lowered = text.strip().lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise DataError(f"{column.name}={text!r}: expected true or false")
    if column.kind == "numerical":
        try:
            return float(text)
        except ValueError:
            raise DataError(f"{column.name}={text!r}: expected a number") from None
    return text


class ConditionTable:
    """Joint frequencies of the condition columns' keys in the training rows.

    A key is the value itself for categories and booleans, the quantile bin for numbers and
    datetimes, and ``None`` for a missing value. Counts are aggregates, not rows.
    """

    def __init__(
        self,
        transformers: list[ColumnTransformer],
        keys: list[list[Any]],
        counts: list[int],
    ) -> None:
        self.transformers = transformers
        self.keys = keys
        self.counts = np.asarray(counts, dtype=np.float64)

    @property
    def names(self) -> list[str]:
        """The condition columns, in order."""
        return [t.column.name for t in self.transformers]

    @classmethod
    def fit(cls, df: pd.DataFrame, transformers: list[ColumnTransformer]) -> ConditionTable:
        """Count the key combinations of the training rows."""
        table = cls(transformers, [], [])
        keys = table.keys_of(df)
        grouped = keys.astype(object).where(keys.notna(), None)
        combos = grouped.value_counts(dropna=False, sort=False)
        table.keys = [[_plain(v) for v in index] for index in combos.index]
        table.counts = combos.to_numpy(dtype=np.float64)
        return table

    def keys_of(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The key of every value of ``frame``'s condition columns."""
        keys = {}
        for transformer in self.transformers:
            values = frame[transformer.column.name]
            if isinstance(transformer, ContinuousTransformer):
                scores = transformer.quantiles.forward(
                    np.nan_to_num(transformer.to_numbers(values))
                )
                bins = np.minimum((ndtr(scores) * N_BINS).astype(int), N_BINS - 1)
                keys[transformer.column.name] = pd.Series(bins, dtype=object).where(
                    values.notna().to_numpy(), None
                )
            else:
                keys[transformer.column.name] = pd.Series(values.to_numpy(dtype=object))
        return pd.DataFrame(keys)

    def values_of(self, keys: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """Condition values for keys: numbers drawn inside their bin."""
        out = {}
        for transformer in self.transformers:
            column_keys = keys[transformer.column.name]
            if not isinstance(transformer, ContinuousTransformer):
                out[transformer.column.name] = column_keys.to_numpy(dtype=object)
                continue
            missing = column_keys.isna().to_numpy()
            bins = pd.to_numeric(column_keys, errors="coerce").fillna(0).to_numpy()
            probabilities = (bins + rng.random(len(bins))) / N_BINS
            numbers = transformer.quantiles.inverse(ndtri(np.clip(probabilities, 1e-9, 1 - 1e-9)))
            out[transformer.column.name] = transformer.from_numbers(numbers, missing).to_numpy(
                dtype=object
            )
        return pd.DataFrame(out)

    def draw(
        self, n_rows: int, rng: np.random.Generator, given: pd.DataFrame | None = None
    ) -> pd.DataFrame:
        """Condition values for ``n_rows`` rows, keeping the columns ``given`` fixes.

        Columns that ``given`` leaves out are drawn from the training rows that share the
        given keys, or, for a combination the training rows never show, each from its own
        training frequencies.
        """
        if given is None or given.shape[1] == 0:
            picked = rng.choice(len(self.keys), size=n_rows, p=self.counts / self.counts.sum())
            keys = pd.DataFrame([self.keys[i] for i in picked], columns=self.names, dtype=object)
            return self.values_of(keys, rng)
        given = given.reset_index(drop=True)
        free = [n for n in self.names if n not in given.columns]
        result = given.astype(object).copy()
        if not free:
            return result[self.names]
        table = pd.DataFrame(self.keys, columns=self.names, dtype=object)
        given_keys = self._subset(list(given.columns)).keys_of(given)
        free_table = self._subset(free)
        groups = given_keys.groupby(list(given.columns), dropna=False, sort=False).indices
        for rows in groups.values():
            first = given_keys.iloc[rows[0]]
            match = np.ones(len(table), dtype=bool)
            for name in given.columns:
                match &= np.array([_same(k, first[name]) for k in table[name]], dtype=bool)
            if match.any():
                weights = self.counts * match
                picked = rng.choice(len(table), size=len(rows), p=weights / weights.sum())
                drawn = {name: table[name].to_numpy()[picked] for name in free}
            else:
                # A combination never seen in training: draw the free columns one by one.
                weights = self.counts / self.counts.sum()
                drawn = {
                    name: table[name].to_numpy()[rng.choice(len(table), size=len(rows), p=weights)]
                    for name in free
                }
            values = free_table.values_of(pd.DataFrame(drawn, dtype=object), rng)
            for name in free:
                result.loc[rows, name] = values[name].to_numpy()
        return result[self.names]

    def _subset(self, names: list[str]) -> ConditionTable:
        return ConditionTable([t for t in self.transformers if t.column.name in names], [], [])

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the transformers are saved with the table transformer)."""
        return {"columns": self.names, "keys": self.keys, "counts": self.counts.tolist()}

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], transformers: dict[str, ColumnTransformer]
    ) -> ConditionTable:
        """Rebuild from the JSON form and the fitted column transformers."""
        return cls([transformers[n] for n in data["columns"]], data["keys"], data["counts"])


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _same(key: Any, value: Any) -> bool:
    if key is None or value is None:
        return key is None and value is None
    return bool(key == value)


def conditions_frame(
    conditions: Mapping[str, Any] | pd.DataFrame, n_rows: int | None
) -> pd.DataFrame:
    """A frame of asked condition values: a mapping repeats its values on ``n_rows`` rows."""
    if isinstance(conditions, pd.DataFrame):
        if n_rows is not None and n_rows != len(conditions):
            raise DataError(
                f"asked for {n_rows} rows but the conditions frame has {len(conditions)}; "
                "leave n out to get one row per condition row"
            )
        if len(conditions) == 0:
            raise DataError("the conditions frame has no rows")
        return conditions.reset_index(drop=True)
    if not isinstance(conditions, Mapping):
        raise DataError("conditions must be a mapping of column to value, or a DataFrame")
    if n_rows is None:
        raise DataError("give the number of rows to sample with a mapping of conditions")
    return pd.DataFrame({name: [value] * n_rows for name, value in conditions.items()})


def parse_assignments(schema: Schema, assignments: list[str]) -> dict[str, Any]:
    """Turn ``["churn=Yes", "tenure=12"]`` into values of the columns' types."""
    parsed: dict[str, Any] = {}
    for assignment in assignments:
        name, sep, text = assignment.partition("=")
        if not sep or not name:
            raise DataError(f"expected COLUMN=VALUE, got {assignment!r}")
        if name not in schema.names:
            raise DataError(f"unknown column {name!r} in {assignment!r}")
        parsed[name] = coerce_text(schema[name], text)
    return parsed
