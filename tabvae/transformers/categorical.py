"""Categories: one-hot, with the missing value as a level of its own."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tabvae import dtypes
from tabvae.errors import DataError, SchemaError
from tabvae.heads import HeadSpec
from tabvae.schema import Column
from tabvae.transformers.base import ColumnTransformer, register

#: Widest one-hot a column gets. Rarer categories share one "other" level and are drawn by
#: their training frequency when it comes up, so a column of 5,000 names stays cheap.
MAX_LEVELS = 150


def _lookup_index(values: list[Any], numeric: bool) -> pd.Index:
    # Codes read back from JSON may be ints where the data holds floats (or the reverse).
    if numeric:
        return pd.Index(np.asarray(values, dtype=np.float64))
    return pd.Index(np.asarray(values, dtype=object))


@register
class CategoricalTransformer(ColumnTransformer):
    """Text, pandas categories and integer codes with few levels."""

    kind = "categorical"

    def __init__(self, column: Column) -> None:
        super().__init__(column)
        self.kept: list[int] = []
        self.tail: list[int] = []
        self.tail_counts: list[int] = []
        self.kept_counts: list[int] = []

    @classmethod
    def describe(cls, series: pd.Series) -> dict[str, Any]:
        if isinstance(series.dtype, pd.CategoricalDtype):
            categories = list(series.dtype.categories)
        else:
            categories = list(series.dropna().unique())
            try:
                categories.sort()
            except TypeError:
                categories.sort(key=str)
        return {"categories": [dtypes.json_scalar(v) for v in categories]}

    @classmethod
    def check_column(cls, column: Column) -> None:
        if not column.categories:
            raise SchemaError(f"column {column.name!r} is categorical but lists no categories")

    @property
    def _numeric(self) -> bool:
        return all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in self.column.categories
        )

    @property
    def width(self) -> int:
        return len(self.kept) + bool(self.tail) + bool(self.column.nullable)

    @property
    def heads(self) -> list[HeadSpec]:
        return [HeadSpec(self.column.name, self.width, "categorical", self.column.loss_weight)]

    def _codes(self, series: pd.Series) -> np.ndarray:
        """Index of each value in the schema's category list; -1 for missing values."""
        values = dtypes.to_float(series) if self._numeric else series.to_numpy(dtype=object)
        codes = _lookup_index(self.column.categories, self._numeric).get_indexer(values)
        unknown = (codes < 0) & ~series.isna().to_numpy()
        if unknown.any():
            examples = pd.unique(series[unknown].astype(str))[:5].tolist()
            raise DataError(
                f"column {self.column.name!r} holds values the schema does not list: {examples}"
            )
        return codes

    def fit(self, series: pd.Series) -> CategoricalTransformer:
        codes = self._codes(series)
        counts = np.bincount(codes[codes >= 0], minlength=len(self.column.categories))
        # Categories the training rows never show get no level: they are never generated.
        order = [int(i) for i in np.argsort(-counts, kind="stable") if counts[i] > 0]
        if len(order) <= MAX_LEVELS:
            self.kept, self.tail = sorted(order), []
        else:
            self.kept = sorted(order[: MAX_LEVELS - 1])
            self.tail = sorted(order[MAX_LEVELS - 1 :])
        self.tail_counts = [int(counts[i]) for i in self.tail]
        self.kept_counts = [int(counts[i]) for i in self.kept]
        return self

    def transform(self, series: pd.Series) -> dict[str, np.ndarray]:
        codes = self._codes(series)
        level_of_code = np.full(len(self.column.categories), -1, dtype=np.int64)
        level_of_code[self.kept] = np.arange(len(self.kept))
        level_of_code[self.tail] = len(self.kept)
        missing_level = self.width - 1
        levels = np.where(codes >= 0, level_of_code[np.maximum(codes, 0)], missing_level)
        unseen = levels < 0
        if unseen.any():
            examples = pd.unique(series[unseen].astype(str))[:5].tolist()
            raise DataError(
                f"column {self.column.name!r} holds values the model never saw in training: "
                f"{examples}"
            )
        unknown = (codes < 0) & (not self.column.nullable)
        levels = np.where(unknown, 0, levels)
        one_hot = np.zeros((len(series), self.width), dtype=np.float32)
        one_hot[np.arange(len(series)), levels] = 1.0
        if unknown.any():
            # A gap in a column that had none in training (a cell to impute) enters as the
            # training frequencies: "unknown", not any one category.
            one_hot[unknown] = self.level_frequencies()
        return {self.column.name: one_hot}

    def seen_categories(self) -> list[Any]:
        """The categories the training rows hold, in the schema's order."""
        return [self.column.categories[i] for i in sorted([*self.kept, *self.tail])]

    def level_frequencies(self) -> np.ndarray:
        """Training share of each level (the missing level gets none)."""
        counts = np.zeros(self.width, dtype=np.float64)
        counts[: len(self.kept)] = self.kept_counts
        if self.tail:
            counts[len(self.kept)] = sum(self.tail_counts)
        return (counts / max(counts.sum(), 1.0)).astype(np.float32)

    def check_seen(self, values: pd.Series) -> None:
        self.check_known_missing(values)
        self.transform(values)  # unknown and never-seen values raise a clear error

    def exclude_missing(self, params: dict[str, np.ndarray]) -> None:
        if self.column.nullable:
            params[self.column.name][:, -1] = -1e9

    def inverse_transform(
        self, values: dict[str, np.ndarray], n_rows: int, rng: np.random.Generator
    ) -> pd.Series:
        levels = np.asarray(values[self.column.name]).argmax(axis=1)
        codes = np.full(n_rows, -1, dtype=np.int64)
        is_kept = levels < len(self.kept)
        codes[is_kept] = np.asarray(self.kept, dtype=np.int64)[levels[is_kept]]
        if self.tail:
            is_other = levels == len(self.kept)
            weights = np.asarray(self.tail_counts, dtype=np.float64) + 1e-12
            drawn = rng.choice(self.tail, size=int(is_other.sum()), p=weights / weights.sum())
            codes[is_other] = drawn
        return dtypes.restore_codes(codes, list(self.column.categories or []), self.column.dtype)

    def from_values(self, values: np.ndarray) -> pd.Series:
        if self.column.dtype == "category":
            return pd.Series(pd.Categorical(values, categories=self.column.categories))
        return super().from_values(values)

    def get_state(self) -> dict[str, Any]:
        return {
            "kept": self.kept,
            "kept_counts": self.kept_counts,
            "tail": self.tail,
            "tail_counts": self.tail_counts,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        self.kept = list(state["kept"])
        self.tail = list(state["tail"])
        self.tail_counts = list(state["tail_counts"])
        self.kept_counts = list(state["kept_counts"])
