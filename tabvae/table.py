"""The whole table: a DataFrame to per-head float32 blocks and back."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tabvae.errors import ModelFileError
from tabvae.heads import HeadSpec
from tabvae.schema import Schema
from tabvae.transformers import ColumnTransformer, transformer_class


class TableTransformer:
    """Applies one fitted column transformer per modeled column of a schema.

    Parameters
    ----------
    schema : Schema
        A resolved schema (see :meth:`Schema.resolve`).
    """

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.transformers_: list[ColumnTransformer] = []

    def fit(self, df: pd.DataFrame) -> TableTransformer:
        """Fit a transformer per modeled column on the training frame."""
        self.transformers_ = [
            transformer_class(column.kind)(column).fit(df[column.name])
            for column in self.schema.modeled
        ]
        return self

    @property
    def heads(self) -> list[HeadSpec]:
        """Head specs of every learned column, in schema order."""
        return [head for t in self.transformers_ for head in t.heads]

    def transform(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        """Return ``{head name: float32 array of shape (n, width)}``."""
        blocks: dict[str, np.ndarray] = {}
        for transformer in self.transformers_:
            blocks.update(transformer.transform(df[transformer.column.name]))
        return blocks

    def inverse_transform(
        self, values: dict[str, np.ndarray], n_rows: int, rng: np.random.Generator
    ) -> pd.DataFrame:
        """Build the DataFrame (modeled columns, schema order and dtypes) from head values."""
        columns = {
            t.column.name: t.inverse_transform(values, n_rows, rng).reset_index(drop=True)
            for t in self.transformers_
        }
        return pd.DataFrame(columns, index=pd.RangeIndex(n_rows))

    def get_state(self) -> dict[str, Any]:
        """Every transformer's state, keyed by column name."""
        return {t.column.name: t.get_state() for t in self.transformers_}

    @classmethod
    def from_state(cls, schema: Schema, state: dict[str, Any]) -> TableTransformer:
        """Rebuild a fitted table transformer from :meth:`get_state` output."""
        table = cls(schema)
        try:
            table.transformers_ = [
                transformer_class(c.kind).from_state(c, state[c.name]) for c in schema.modeled
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"the transformer state does not match the schema: {exc}") from exc
        return table
