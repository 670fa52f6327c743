"""Booleans: one binary head, plus a missing indicator when the column has gaps."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tabvae import dtypes
from tabvae.heads import HeadSpec
from tabvae.transformers.base import ColumnTransformer, register


@register
class BooleanTransformer(ColumnTransformer):
    """bool and boolean columns, and object columns of True/False."""

    kind = "boolean"

    @property
    def heads(self) -> list[HeadSpec]:
        mask = self.missing_head if self.column.nullable else None
        value = HeadSpec(self.column.name, 1, "binary", self.column.loss_weight, mask)
        return [value, *self.missing_heads()]

    def transform(self, series: pd.Series) -> dict[str, np.ndarray]:
        missing = series.isna().to_numpy()
        truth = np.where(missing, False, series.to_numpy(dtype=object)).astype(np.float32)
        if not self.column.nullable:
            # A gap the training rows never had (a cell to impute) enters as "either".
            truth[missing] = 0.5
        blocks = {self.column.name: truth[:, None]}
        blocks.update(self.missing_block(series))
        return blocks

    def check_seen(self, values: pd.Series) -> None:
        self.check_known_missing(values)

    def inverse_transform(
        self, values: dict[str, np.ndarray], n_rows: int, rng: np.random.Generator
    ) -> pd.Series:
        truth = np.asarray(values[self.column.name])[:, 0] > 0.5
        result = np.where(self.missing_mask(values, n_rows), None, truth)
        return dtypes.restore(result, self.column.dtype)
