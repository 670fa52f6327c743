"""Id columns: unique keys are not learned; synthetic rows get new keys of the same form."""

from __future__ import annotations

import re
import string
from typing import Any

import numpy as np
import pandas as pd

from tabvae import dtypes
from tabvae.transformers.base import ColumnTransformer, register

#: A key that ends in a number: "AB-00017", "2015-000001" (a prefix with digits of its own).
_PREFIXED = re.compile(r"^(|.*\D)(\d+)$")
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_ALPHABETS = (string.digits, string.ascii_lowercase, string.ascii_uppercase)


def _id_format(series: pd.Series) -> dict[str, Any]:
    values = series.dropna()
    if dtypes.is_numeric(series):
        return {"type": "integer", "start": int(dtypes.to_float(values).min())}
    text = values.astype(str)
    if text.str.match(_UUID).all():
        return {"type": "uuid"}
    parts = text.str.extract(_PREFIXED)
    if parts.notna().all().all() and parts[0].nunique() == 1:
        digits = parts[1].str.len()
        return {
            "type": "pattern",
            "prefix": str(parts[0].iloc[0]),
            "digits": int(digits.max()) if digits.nunique() == 1 else 0,
            "start": int(parts[1].astype("int64").min()),
        }
    used = set("".join(text.head(1000)))
    alphabet = "".join(a for a in _ALPHABETS if used & set(a)) or string.ascii_lowercase
    return {"type": "text", "length": int(text.str.len().max()), "alphabet": alphabet}


@register
class IdTransformer(ColumnTransformer):
    """Surrogate keys: counters for integer and prefixed keys, random ones otherwise."""

    kind = "id"

    @classmethod
    def describe(cls, series: pd.Series) -> dict[str, Any]:
        return {"id_format": _id_format(series)}

    def inverse_transform(
        self, values: dict[str, np.ndarray], n_rows: int, rng: np.random.Generator
    ) -> pd.Series:
        fmt = self.column.id_format or {"type": "integer", "start": 0}
        kind = fmt["type"]
        counter = np.arange(n_rows, dtype=np.int64) + int(fmt.get("start", 0))
        if kind == "integer":
            keys: Any = counter
        elif kind == "pattern":
            width = int(fmt.get("digits", 0))
            keys = [f"{fmt['prefix']}{i:0{width}d}" for i in counter]
        elif kind == "uuid":
            raw = rng.integers(0, 256, size=(n_rows, 16), dtype=np.uint8)
            raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
            raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
            hexes = [row.tobytes().hex() for row in raw]
            keys = [f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" for h in hexes]
        else:
            keys = _random_unique_text(n_rows, int(fmt["length"]), fmt["alphabet"], rng)
        return dtypes.restore(np.asarray(keys, dtype=object), self.column.dtype)


def _random_unique_text(
    n_rows: int, length: int, alphabet: str, rng: np.random.Generator
) -> list[str]:
    symbols = np.asarray(list(alphabet))
    # Lengthen the keys when the requested form cannot hold n distinct values.
    while len(symbols) ** length < 4 * n_rows:
        length += 1
    keys: list[str] = []
    seen: set[str] = set()
    while len(keys) < n_rows:
        batch = rng.choice(symbols, size=(n_rows - len(keys), length))
        for key in ("".join(row) for row in batch):
            if key not in seen:
                seen.add(key)
                keys.append(key)
    return keys
