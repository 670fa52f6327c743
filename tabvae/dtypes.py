"""Small dtype helpers that behave the same on pandas 2 and pandas 3.

pandas 3 reads text as the ``str`` dtype (missing values are NaN), pandas 2 as ``object``;
nullable extension dtypes (``Int64``, ``boolean``, ``string``) use ``pd.NA``. Transformers go
through these helpers so that none of them branches on the pandas version.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

PANDAS_MAJOR = int(pd.__version__.split(".")[0])


#: Dtype names of text columns, as a schema records them (pandas 2 and 3).
TEXT_DTYPE_NAMES = frozenset({"object", "str", "string", "string[python]", "string[pyarrow]"})


def dtype_name(series: pd.Series) -> str:
    """Return the dtype of ``series`` as the string pandas accepts back."""
    name = str(series.dtype)
    if name == "string" and pd.api.types.pandas_dtype(name) != series.dtype:
        # "string" means the default storage, which is not this column's (a Parquet file
        # read with pyarrow-backed strings under pandas 2).
        return f"string[{series.dtype.storage}]"
    return name


def is_bool(series: pd.Series) -> bool:
    """True for bool / boolean dtypes and for object columns holding only booleans."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return True
    if series.dtype == object:
        values = series.dropna()
        return bool(len(values)) and all(isinstance(v, bool | np.bool_) for v in values)
    return False


def is_datetime(series: pd.Series) -> bool:
    """True for datetime64 columns, timezone-aware or not."""
    return pd.api.types.is_datetime64_any_dtype(series.dtype)


def is_timedelta(series: pd.Series) -> bool:
    """True for timedelta64 columns (durations)."""
    return pd.api.types.is_timedelta64_dtype(series.dtype)


def is_numeric(series: pd.Series) -> bool:
    """True for int / float columns (numpy or nullable), never for booleans."""
    dtype = series.dtype
    return (
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not pd.api.types.is_complex_dtype(dtype)
    )


def is_text(series: pd.Series) -> bool:
    """True for object / str / string columns."""
    return series.dtype == object or pd.api.types.is_string_dtype(series.dtype)


def to_float(series: pd.Series) -> np.ndarray:
    """Return a float64 array with NaN for missing values, the caller's to change."""
    numbers = pd.to_numeric(series, errors="coerce").astype("float64").to_numpy(na_value=np.nan)
    # pandas 3 (copy on write) hands out a float64 column's own values, read-only.
    return numbers if numbers.flags.writeable else numbers.copy()


def is_integral(values: pd.Series) -> bool:
    """True when every (non-missing) value is a whole number."""
    if pd.api.types.is_integer_dtype(values.dtype):
        return True
    floats = to_float(values)
    floats = floats[~np.isnan(floats)]
    return (
        bool(len(floats))
        and bool(np.all(np.isfinite(floats)))
        and bool(np.all(floats == np.round(floats)))
    )


def json_scalar(value: Any) -> Any:
    """Return a plain Python scalar that ``json`` can write (numpy scalars unwrapped)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value


def _pandas_dtype(name: str) -> Any:
    # A schema written under pandas 3 says "str"; pandas 2 would read that as numpy unicode,
    # which turns missing values into the text "nan". Object is the pandas 2 equivalent.
    if name == "str" and PANDAS_MAJOR < 3:
        return object
    return pd.api.types.pandas_dtype(name)


def restore(values: np.ndarray | list[Any], name: str) -> pd.Series:
    """Build a Series of dtype ``name`` from values where ``None`` marks a missing value.

    Falls back to the closest dtype that can hold the values (for example ``float64`` for an
    ``int64`` column that must carry missing values) rather than failing.
    """
    try:
        dtype = _pandas_dtype(name)
    except TypeError:
        dtype = object
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        # Numbers (NaN for missing) into a numpy number dtype: no detour through objects,
        # which cost more than the rest of sampling a wide numeric table.
        gaps = np.isnan(values)
        if isinstance(dtype, np.dtype) and (
            dtype.kind == "f" or (dtype.kind in "iu" and not gaps.any())
        ):
            return pd.Series(values.astype(dtype))
        values = np.where(gaps, None, values)
    array = np.asarray(values, dtype=object)
    missing = pd.isna(array)
    if dtype is object or dtype == np.dtype(object):
        array = array.copy()
        array[missing] = np.nan
        return pd.Series(array, dtype=object)
    if isinstance(dtype, np.dtype) and dtype.kind in "iub" and missing.any():
        fallback = "float64" if dtype.kind in "iu" else "boolean"
        return restore(values, fallback)
    try:
        if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
            floats = np.where(missing, np.nan, array).astype("float64")
            return pd.Series(floats.astype(dtype))
        return pd.Series(list(np.where(missing, None, array)), dtype=dtype)
    except (TypeError, ValueError):
        array = array.copy()
        array[missing] = np.nan
        return pd.Series(array, dtype=object)


def restore_codes(codes: np.ndarray, categories: list[Any], name: str) -> pd.Series:
    """Build a Series of dtype ``name`` from indices into ``categories`` (-1 for missing).

    Text goes through a pandas categorical, which is several times as fast as building the
    values one object at a time; anything else goes through :func:`restore`.
    """
    is_text = all(isinstance(c, str) for c in categories)
    if name == "category" or (is_text and name in TEXT_DTYPE_NAMES):
        try:
            values = pd.Categorical.from_codes(codes, categories=categories)
        except ValueError:  # categories read back from an edited schema may repeat
            pass
        else:
            series = pd.Series(values)
            return series if name == "category" else series.astype(_pandas_dtype(name))
    return restore(np.asarray([*categories, None], dtype=object)[codes], name)
