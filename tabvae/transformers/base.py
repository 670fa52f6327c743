"""The template every column transformer follows, and the registry of kinds."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from tabvae import dtypes
from tabvae.errors import DataError, SchemaError
from tabvae.heads import HeadSpec
from tabvae.schema import Column

MISSING_SUFFIX = "::missing"

_REGISTRY: dict[str, type[ColumnTransformer]] = {}


def register(cls: type[ColumnTransformer]) -> type[ColumnTransformer]:
    """Class decorator: make ``cls`` the transformer of its ``kind``."""
    if cls.kind in _REGISTRY:
        raise ValueError(f"kind {cls.kind!r} is registered twice")
    _REGISTRY[cls.kind] = cls
    return cls


def transformer_class(kind: str) -> type[ColumnTransformer]:
    """Return the transformer class of ``kind``."""
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise SchemaError(f"unknown kind {kind!r}; choose one of {sorted(_REGISTRY)}") from None


def registered_kinds() -> tuple[str, ...]:
    """Every registered kind, in registration order."""
    return tuple(_REGISTRY)


class ColumnTransformer:
    """Turns one column into model blocks and back.

    Subclasses set :attr:`kind`, describe the schema fields of that kind, and implement
    ``fit`` / ``transform`` / ``inverse_transform``. Their fitted state is a JSON-able dict
    (:meth:`get_state`), so a saved model needs no pickle.
    """

    kind: ClassVar[str]

    def __init__(self, column: Column) -> None:
        self.column = column

    # --- schema ------------------------------------------------------------------------------
    @classmethod
    def describe(cls, series: pd.Series) -> dict[str, Any]:
        """Schema fields of a column of this kind with the values of ``series``."""
        return {}

    @classmethod
    def check_column(cls, column: Column) -> None:
        """Raise :class:`SchemaError` if a resolved column lacks what this kind needs."""

    @classmethod
    def check_values(cls, column: Column, series: pd.Series) -> None:
        """Raise :class:`DataError` if ``series`` holds values a column of this kind cannot."""

    # --- learning ----------------------------------------------------------------------------
    @property
    def heads(self) -> list[HeadSpec]:
        """The model heads of this column (none for columns that are not learned)."""
        return []

    def fit(self, series: pd.Series) -> ColumnTransformer:
        """Learn what the transform needs from the training values."""
        return self

    def transform(self, series: pd.Series) -> dict[str, np.ndarray]:
        """Return one float32 array of shape ``(n, head.width)`` per head."""
        return {}

    def inverse_transform(
        self, values: dict[str, np.ndarray], n_rows: int, rng: np.random.Generator
    ) -> pd.Series:
        """Return the column, in its original dtype, from decoded head values."""
        raise NotImplementedError

    def check_seen(self, values: pd.Series) -> None:
        """Raise :class:`DataError` for condition values the training rows never showed."""

    def exclude_missing(self, params: dict[str, np.ndarray]) -> None:
        """Make predicted head parameters rule out a missing value (used to impute)."""
        if self.missing_head in params:
            params[self.missing_head][:] = -1e9

    def from_values(self, values: np.ndarray) -> pd.Series:
        """The column in its original dtype from plain values (``None`` for missing)."""
        return dtypes.restore(values, self.column.dtype)

    # --- state -------------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """The fitted state as a JSON-able dict."""
        return {}

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`get_state` returned."""

    @classmethod
    def from_state(cls, column: Column, state: dict[str, Any]) -> ColumnTransformer:
        """Rebuild a fitted transformer."""
        transformer = cls(column)
        transformer.set_state(state)
        return transformer

    # --- helpers -----------------------------------------------------------------------------
    @property
    def missing_head(self) -> str:
        """Name of the missing-value indicator head of this column."""
        return self.column.name + MISSING_SUFFIX

    def missing_heads(self) -> list[HeadSpec]:
        """The missing-indicator head, if the column has gaps to reproduce."""
        if not self.column.nullable:
            return []
        return [HeadSpec(self.missing_head, 1, "binary", self.column.loss_weight)]

    def missing_block(self, series: pd.Series) -> dict[str, np.ndarray]:
        """The missing-indicator block, if the column has one."""
        if not self.column.nullable:
            return {}
        return {self.missing_head: series.isna().to_numpy().astype(np.float32)[:, None]}

    def check_known_missing(self, series: pd.Series) -> None:
        """Refuse missing condition values in a column whose training rows had none."""
        if not self.column.nullable and series.isna().any():
            raise DataError(
                f"column {self.column.name!r} had no missing values in training; a missing "
                "condition value cannot be generated"
            )

    def missing_mask(self, values: dict[str, np.ndarray], n_rows: int) -> np.ndarray:
        """Boolean mask of the rows the decoded missing head marks as missing."""
        if self.missing_head not in values:
            return np.zeros(n_rows, dtype=bool)
        return np.asarray(values[self.missing_head])[:, 0] > 0.5
