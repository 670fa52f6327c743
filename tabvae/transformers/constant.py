"""Constant columns: one value everywhere, nothing to learn."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tabvae import dtypes
from tabvae.transformers.base import ColumnTransformer, register


@register
class ConstantTransformer(ColumnTransformer):
    """A column with a single value and no gaps is written back as that value."""

    kind = "constant"

    @classmethod
    def describe(cls, series: pd.Series) -> dict[str, Any]:
        present = series.dropna()
        if dtypes.is_datetime(series) and len(present):
            return {"value": present.iloc[0].isoformat()}
        return {"value": dtypes.json_scalar(present.iloc[0]) if len(present) else None}

    def inverse_transform(
        self, values: dict[str, np.ndarray], n_rows: int, rng: np.random.Generator
    ) -> pd.Series:
        if self.column.dtype.startswith("datetime64"):
            stamp = pd.Timestamp(self.column.value)
            return pd.Series([stamp] * n_rows).astype(self.column.dtype)
        return dtypes.restore(np.full(n_rows, self.column.value, dtype=object), self.column.dtype)
