"""Measures of how good, how useful and how private a synthetic table is.

Every function compares pandas DataFrames and uses only numpy, pandas and scikit-learn, so it
runs wherever tabvae runs (pandas 2 and 3). Frames may mix numbers, text (``object``, ``str``,
``string``, ``category``), booleans, datetimes (naive or timezone-aware) and missing values.

Column kinds
------------
Most functions take ``columns``: ``None`` (every column of the real frame, kinds inferred from
the dtypes by :func:`infer_kinds`), a list of names (kinds inferred) or a mapping
``{name: kind}``. A tabvae :class:`~tabvae.schema.Schema` (anything with ``.columns`` whose
items have ``.name`` and ``.kind``) is accepted too. Kinds are those of tabvae: ``numerical``
and ``datetime`` are *continuous*; ``categorical``, ``boolean`` and ``constant`` are
*discrete*; ``id`` columns are left out of every measure.

Values are compared by a canonical key: every number (and boolean) by its float value, so an
integer ``3`` equals a float ``3.0`` and ``True`` equals ``1``; timestamps by nanoseconds since
the epoch (UTC); anything else by its text.

The measures
------------
* :func:`column_shapes` -- per-column KSComplement / TVComplement (SDMetrics' definitions).
* :func:`pair_trends` -- CorrelationSimilarity / ContingencySimilarity over *all* column pairs.
* :func:`dcr_share`, :func:`exact_copy_share`, :func:`nndr` -- closeness to the training rows.
* :func:`detection_auc` -- how well a classifier tells real from synthetic rows.
* :func:`ml_efficacy` -- train on synthetic, test on real, compared with train on real.
* :func:`logical_consistency` -- functional dependencies of the training data kept.
* :func:`order_consistency` -- orders between numbers (and dates) of the training data kept.
"""

from __future__ import annotations

import itertools
import numbers
import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "column_shapes",
    "dcr_share",
    "detection_auc",
    "exact_copy_share",
    "infer_kinds",
    "logical_consistency",
    "ml_efficacy",
    "nndr",
    "order_consistency",
    "pair_trends",
]

#: Kinds compared as ordered numbers (KS statistic, Pearson correlation, quantile bins).
CONTINUOUS_KINDS = frozenset({"numerical", "datetime", "duration"})
#: Kinds compared as unordered values (total variation, contingency tables).
DISCRETE_KINDS = frozenset({"categorical", "boolean", "constant"})
#: Kinds left out of every measure.
SKIPPED_KINDS = frozenset({"id"})

# SDMetrics rounds numbers to this many decimals before the KS test.
_KS_DECIMALS = 14
# Numbers are rounded to this many decimals before they are compared for equality.
_EQUALITY_DECIMALS = 10
# A distance smaller than this counts as zero; two distances this close count as a tie.
_DISTANCE_TOL = 1e-5
# Histogram gradient boosting takes at most 255 bins; one is for missing values.
_MAX_TREE_LEVELS = 254

ColumnsArg = Sequence[str] | Mapping[str, str] | Any | None


# --------------------------------------------------------------------------------------------
# Column kinds and value encodings
# --------------------------------------------------------------------------------------------


def infer_kinds(df: pd.DataFrame) -> dict[str, str]:
    """Guess each column's kind from its dtype.

    Parameters
    ----------
    df : pandas.DataFrame
        The (real) table.

    Returns
    -------
    dict of str to str
        ``numerical`` for int / float columns, ``boolean`` for bool columns, ``datetime`` for
        datetime64 columns, ``duration`` for timedelta64 columns and ``categorical`` for
        everything else (text, category, objects).
        Integer columns are *not* turned into categories: pass a mapping to say otherwise.
    """
    kinds: dict[str, str] = {}
    for name in df.columns:
        dtype = df[name].dtype
        if pd.api.types.is_bool_dtype(dtype):
            kinds[name] = "boolean"
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            kinds[name] = "datetime"
        elif pd.api.types.is_timedelta64_dtype(dtype):
            kinds[name] = "duration"
        elif pd.api.types.is_numeric_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
            kinds[name] = "numerical"
        else:
            kinds[name] = "categorical"
    return kinds


def _resolve_kinds(
    columns: ColumnsArg, real: pd.DataFrame, *others: pd.DataFrame
) -> dict[str, str]:
    """Return ``{name: kind}`` for the measured columns, checking every frame has them."""
    if (
        columns is not None
        and not isinstance(columns, Mapping | str)
        and hasattr(columns, "columns")
    ):
        columns = {column.name: column.kind for column in columns.columns}
    if columns is None:
        kinds = infer_kinds(real)
    elif isinstance(columns, Mapping):
        kinds = {name: str(kind) for name, kind in columns.items()}
    elif isinstance(columns, str):
        raise TypeError("columns must be a list of names or a mapping, not a string")
    else:
        names = list(columns)
        missing_real = [name for name in names if name not in real.columns]
        if missing_real:
            raise ValueError(f"columns not in the real frame: {missing_real}")
        inferred = infer_kinds(real[names])
        kinds = {name: inferred[name] for name in names}
    known = CONTINUOUS_KINDS | DISCRETE_KINDS | SKIPPED_KINDS
    unknown = {name: kind for name, kind in kinds.items() if kind not in known}
    if unknown:
        raise ValueError(f"unknown column kinds {unknown}; use one of {sorted(known)}")
    kinds = {name: kind for name, kind in kinds.items() if kind not in SKIPPED_KINDS}
    for frame in (real, *others):
        missing = [name for name in kinds if name not in frame.columns]
        if missing:
            raise ValueError(f"columns missing from a compared frame: {missing}")
    return kinds


def _canonical(value: Any) -> Hashable:
    """The comparison key of one (non-missing) value."""
    if isinstance(value, bool | np.bool_):
        return float(value)
    if isinstance(value, pd.Timestamp | np.datetime64):
        return int(pd.Timestamp(value).value)
    if isinstance(value, numbers.Number):
        number = float(value)  # type: ignore[arg-type]
        return round(number, _EQUALITY_DECIMALS) if np.isfinite(number) else number
    return str(value)


def _keys(series: pd.Series) -> np.ndarray:
    """Object array of comparison keys, ``None`` where a value is missing."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    table = np.empty(len(uniques) + 1, dtype=object)
    table[:-1] = [_canonical(value) for value in uniques]
    table[-1] = None
    return table[codes]


def _joint_codes(*key_arrays: np.ndarray) -> tuple[list[np.ndarray], int]:
    """Integer codes shared by several key arrays; missing values get code -1."""
    lengths = [len(keys) for keys in key_arrays]
    codes, uniques = pd.factorize(np.concatenate(key_arrays), use_na_sentinel=True)
    return list(np.split(codes.astype(np.int64), np.cumsum(lengths)[:-1])), len(uniques)


def _codes_with_missing(*series: pd.Series) -> tuple[list[np.ndarray], int]:
    """Shared codes where a missing value is a level of its own (the last one)."""
    codes, n_levels = _joint_codes(*(_keys(s) for s in series))
    out = []
    for code in codes:
        code = code.copy()
        code[code < 0] = n_levels
        out.append(code)
    return out, n_levels + 1


def _datetime_ns(series: pd.Series) -> np.ndarray:
    """Float nanoseconds since the epoch (UTC), NaN where missing or unparsable."""
    if not pd.api.types.is_datetime64_any_dtype(series.dtype):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            series = pd.to_datetime(series, errors="coerce", utc=True)
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    stamps = series.to_numpy(dtype="datetime64[ns]")
    out = stamps.astype(np.int64).astype(np.float64)
    out[np.isnat(stamps)] = np.nan
    return out


def _numeric(series: pd.Series, kind: str = "numerical") -> np.ndarray:
    """Float64 values of a continuous column, NaN where missing or not a number."""
    if kind == "datetime" or pd.api.types.is_datetime64_any_dtype(series.dtype):
        return _datetime_ns(series)
    if kind == "duration" or pd.api.types.is_timedelta64_dtype(series.dtype):
        seconds = pd.to_timedelta(series, errors="coerce").dt.total_seconds()
        return seconds.to_numpy(dtype=np.float64, na_value=np.nan)
    if pd.api.types.is_bool_dtype(series.dtype):
        series = series.astype("float64")
    values = pd.to_numeric(series, errors="coerce")
    return np.asarray(values.astype("float64").to_numpy(na_value=np.nan), dtype=np.float64)


def _subsample(df: pd.DataFrame, n: int, rng: np.random.Generator) -> pd.DataFrame:
    """At most ``n`` rows of ``df``, drawn without replacement."""
    if len(df) <= n:
        return df
    return df.iloc[np.sort(rng.choice(len(df), size=n, replace=False))]


def _nanmean(values: Sequence[float]) -> float:
    array = np.asarray(list(values), dtype=np.float64)
    if not np.any(~np.isnan(array)):
        return float("nan")
    return float(np.nanmean(array))


# --------------------------------------------------------------------------------------------
# Fidelity: column shapes and column pair trends
# --------------------------------------------------------------------------------------------


def _ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov D statistic (same as ``scipy.stats.ks_2samp``)."""
    a = np.sort(a)
    b = np.sort(b)
    points = np.concatenate([a, b])
    cdf_a = np.searchsorted(a, points, side="right") / len(a)
    cdf_b = np.searchsorted(b, points, side="right") / len(b)
    return float(np.max(np.abs(cdf_a - cdf_b)))


def _ks_complement(real: pd.Series, synthetic: pd.Series, kind: str) -> float:
    a = _numeric(real, kind)
    b = _numeric(synthetic, kind)
    a = np.round(a[~np.isnan(a)], _KS_DECIMALS)
    b = np.round(b[~np.isnan(b)], _KS_DECIMALS)
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    return 1.0 - _ks_statistic(a, b)


def _tv_complement(real: pd.Series, synthetic: pd.Series) -> float:
    (a, b), n_levels = _joint_codes(_keys(real), _keys(synthetic))
    a = a[a >= 0]
    b = b[b >= 0]
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    p = np.bincount(a, minlength=n_levels) / len(a)
    q = np.bincount(b, minlength=n_levels) / len(b)
    return float(1.0 - 0.5 * np.abs(p - q).sum())


def column_shapes(
    real: pd.DataFrame, synthetic: pd.DataFrame, columns: ColumnsArg = None
) -> tuple[float, dict[str, float]]:
    """Similarity of each column's marginal distribution.

    Continuous columns (numbers, datetimes) score the KS complement ``1 - D`` where ``D`` is
    the two-sample Kolmogorov-Smirnov statistic; discrete columns score the TV complement
    ``1 - 0.5 * sum(|p_real - p_synthetic|)`` over the values. Missing values are dropped first,
    as SDMetrics' ``KSComplement`` / ``TVComplement`` do.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        The frames to compare.
    columns : None, list of str, mapping of str to str, or Schema
        The columns and their kinds (see the module docstring).

    Returns
    -------
    score : float
        Mean over the columns that could be scored (NaN if none).
    per_column : dict of str to float
        The score of every column; NaN when one side has no values.
    """
    kinds = _resolve_kinds(columns, real, synthetic)
    per_column: dict[str, float] = {}
    for name, kind in kinds.items():
        if kind in CONTINUOUS_KINDS:
            per_column[name] = _ks_complement(real[name], synthetic[name], kind)
        else:
            per_column[name] = _tv_complement(real[name], synthetic[name])
    return _nanmean(per_column.values()), per_column


def _quantile_codes(
    real: np.ndarray, synthetic: np.ndarray, bins: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Bin numbers by the real data's quantiles; NaN gets a bin of its own (the last)."""
    finite = real[~np.isnan(real)]
    if len(finite):
        inner = np.unique(np.quantile(finite, np.linspace(0, 1, bins + 1)[1:-1]))
    else:
        inner = np.empty(0)
    n_levels = len(inner) + 2
    out = []
    for values in (real, synthetic):
        codes = np.searchsorted(inner, values, side="right").astype(np.int64)
        codes[np.isnan(values)] = n_levels - 1
        out.append(codes)
    return out[0], out[1], n_levels


def _pearson(x: np.ndarray, y: np.ndarray) -> float:
    """Pearson correlation of the rows where both are present; NaN if undefined."""
    mask = ~(np.isnan(x) | np.isnan(y))
    x = x[mask]
    y = y[mask]
    if len(x) < 2:
        return float("nan")
    x = x - x.mean()
    y = y - y.mean()
    denominator = np.sqrt((x * x).sum() * (y * y).sum())
    if not np.isfinite(denominator) or denominator <= 0:
        return float("nan")
    return float(np.clip((x * y).sum() / denominator, -1.0, 1.0))


def pair_trends(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    columns: ColumnsArg = None,
    bins: int = 10,
) -> tuple[float, dict[tuple[str, str], float]]:
    """Similarity of the relationship of every pair of columns.

    Two continuous columns score SDMetrics' CorrelationSimilarity,
    ``1 - |r_real - r_synthetic| / 2`` with Pearson's ``r`` over the rows where both values are
    present. Any other pair scores ContingencySimilarity, ``1 - 0.5 * sum(|P_real - P_synth|)``
    over the cells of the two-way frequency table; for it, continuous columns are cut into
    ``bins`` quantile bins of the *real* data, and a missing value is a level of its own.

    Unlike SDMetrics' QualityReport (whose version 0.32 scores only the pairs whose real
    correlation exceeds 0.5 or whose Cramér's V exceeds 0.3, and bins each table by its own
    equal-width histogram) every pair counts, and the bins are the real data's quantiles, so a
    skewed column is not squeezed into one bin.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        The frames to compare; bins and categories come from ``real``.
    columns : None, list of str, mapping of str to str, or Schema
        The columns and their kinds (see the module docstring).
    bins : int, default 10
        Number of quantile bins for continuous columns in contingency tables.

    Returns
    -------
    score : float
        Mean over the pairs that could be scored (NaN if none).
    per_pair : dict of (str, str) to float
        The score of every pair, keyed in column order. A pair of continuous columns is NaN
        when the real correlation is undefined (a constant column); an undefined synthetic
        correlation (a constant synthetic column) counts as 0.
    """
    if bins < 1:
        raise ValueError("bins must be at least 1")
    kinds = _resolve_kinds(columns, real, synthetic)
    numbers_: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    codes: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
    for name, kind in kinds.items():
        if kind in CONTINUOUS_KINDS:
            r = _numeric(real[name], kind)
            s = _numeric(synthetic[name], kind)
            numbers_[name] = (r, s)
            codes[name] = _quantile_codes(r, s, bins)
        else:
            (r_codes, s_codes), n_levels = _codes_with_missing(real[name], synthetic[name])
            codes[name] = (r_codes, s_codes, n_levels)

    n_real = max(len(real), 1)
    n_synthetic = max(len(synthetic), 1)
    per_pair: dict[tuple[str, str], float] = {}
    for a, b in itertools.combinations(kinds, 2):
        if a in numbers_ and b in numbers_:
            r_real = _pearson(*(values[0] for values in (numbers_[a], numbers_[b])))
            if np.isnan(r_real):
                per_pair[(a, b)] = float("nan")
                continue
            r_synthetic = _pearson(numbers_[a][1], numbers_[b][1])
            if np.isnan(r_synthetic):
                r_synthetic = 0.0
            per_pair[(a, b)] = 1.0 - abs(r_real - r_synthetic) / 2.0
            continue
        a_real, a_synthetic, a_levels = codes[a]
        b_real, b_synthetic, b_levels = codes[b]
        size = a_levels * b_levels
        p = np.bincount(a_real * b_levels + b_real, minlength=size) / n_real
        q = np.bincount(a_synthetic * b_levels + b_synthetic, minlength=size) / n_synthetic
        per_pair[(a, b)] = float(1.0 - 0.5 * np.abs(p - q).sum())
    return _nanmean(per_pair.values()), per_pair


# --------------------------------------------------------------------------------------------
# Privacy: distances to the training rows
# --------------------------------------------------------------------------------------------


class _DistanceEmbedding:
    """Numeric embedding whose Euclidean distance is a mixed-type row distance.

    A continuous value is scaled by the training data's 1 %-99 % quantile range (the full
    range, or 1, when that is empty), so a difference across that range costs 1; a missing
    value is replaced by the training median and flagged in an indicator column (a missing /
    present mismatch costs 1 more). A discrete value is one-hot encoded with weight
    ``1/sqrt(2)``, so a mismatch costs 1 in squared distance; the ``max_levels`` most frequent
    training values get their own column, other values share an "other" column, and missing
    has a column of its own.
    """

    def __init__(self, kinds: Mapping[str, str], max_levels: int = 1000) -> None:
        self.kinds = dict(kinds)
        self.max_levels = max_levels
        self._numeric: dict[str, tuple[float, float]] = {}
        self._levels: dict[str, dict[Hashable, int]] = {}

    def fit(self, train: pd.DataFrame) -> _DistanceEmbedding:
        for name, kind in self.kinds.items():
            if kind in CONTINUOUS_KINDS:
                values = _numeric(train[name], kind)
                values = values[np.isfinite(values)]
                if len(values) == 0:
                    self._numeric[name] = (0.0, 1.0)
                    continue
                low, high = np.quantile(values, [0.01, 0.99])
                scale = float(high - low)
                if not scale > 0:
                    scale = float(values.max() - values.min())
                if not scale > 0:
                    scale = 1.0
                self._numeric[name] = (float(np.median(values)), scale)
            else:
                counts = pd.Series(_keys(train[name])).value_counts(dropna=True)
                levels = counts.index[: self.max_levels]
                self._levels[name] = {key: i for i, key in enumerate(levels)}
        return self

    def transform(self, df: pd.DataFrame) -> np.ndarray:
        blocks: list[np.ndarray] = []
        n = len(df)
        for name, kind in self.kinds.items():
            if kind in CONTINUOUS_KINDS:
                median, scale = self._numeric[name]
                values = _numeric(df[name], kind)
                missing = ~np.isfinite(values)
                values = np.where(missing, median, values)
                blocks.append(((values - median) / scale)[:, None])
                blocks.append(missing.astype(np.float64)[:, None])
            else:
                levels = self._levels[name]
                other, missing_level = len(levels), len(levels) + 1
                keys = _keys(df[name])
                index = np.array(
                    [missing_level if key is None else levels.get(key, other) for key in keys],
                    dtype=np.int64,
                )
                block = np.zeros((n, len(levels) + 2), dtype=np.float64)
                block[np.arange(n), index] = np.sqrt(0.5)
                blocks.append(block)
        if not blocks:
            return np.zeros((n, 1), dtype=np.float64)
        return np.hstack(blocks)


def _nearest(reference: np.ndarray, query: np.ndarray, k: int = 1) -> np.ndarray:
    """Distances from every query row to its ``k`` nearest reference rows, ascending."""
    from sklearn.neighbors import NearestNeighbors

    model = NearestNeighbors(n_neighbors=min(k, len(reference)))
    model.fit(reference)
    distances, _ = model.kneighbors(query)
    return distances


def dcr_share(
    train: pd.DataFrame,
    holdout: pd.DataFrame,
    synthetic: pd.DataFrame,
    seed: int = 0,
    max_rows: int = 10_000,
    columns: ColumnsArg = None,
) -> float:
    """Share of synthetic rows closer to a training row than to any holdout row.

    The training rows are subsampled to as many rows as the holdout (both at most
    ``max_rows``), so a synthesizer that learned only the distribution, not the rows, scores
    0.5; one that copies training rows scores 1. Distance to the closest record (DCR) is the
    mixed-type distance of :class:`_DistanceEmbedding` (numbers scaled by the training
    quantile range, categories 0/1 mismatch, missing values compared as values). Ties (for
    instance a synthetic row equal to a row present in both sets) count half.

    Parameters
    ----------
    train : pandas.DataFrame
        The rows the synthesizer was fitted on.
    holdout : pandas.DataFrame
        Rows of the same distribution the synthesizer never saw.
    synthetic : pandas.DataFrame
        The rows to judge (at most ``max_rows`` of them, drawn with ``seed``, are used).
    seed : int, default 0
        Seed of the subsampling.
    max_rows : int, default 10000
        Cap on the rows of each of the three sets.
    columns : None, list of str, mapping of str to str, or Schema
        The columns and their kinds (see the module docstring).

    Returns
    -------
    float
        Between 0 and 1; 0.5 is ideal, values above 0.5 mean the synthetic rows are closer to
        the training data than fresh real data is.
    """
    kinds = _resolve_kinds(columns, train, holdout, synthetic)
    if min(len(train), len(holdout), len(synthetic)) == 0:
        raise ValueError("dcr_share needs non-empty train, holdout and synthetic frames")
    rng = np.random.default_rng(seed)
    n_reference = min(len(train), len(holdout), max_rows)
    embedding = _DistanceEmbedding(kinds).fit(train)
    train_part = embedding.transform(_subsample(train, n_reference, rng))
    holdout_part = embedding.transform(_subsample(holdout, n_reference, rng))
    query = embedding.transform(_subsample(synthetic, max_rows, rng))
    to_train = _nearest(train_part, query)[:, 0]
    to_holdout = _nearest(holdout_part, query)[:, 0]
    tie = np.abs(to_train - to_holdout) <= _DISTANCE_TOL
    closer = (to_train < to_holdout) & ~tie
    return float(closer.mean() + 0.5 * tie.mean())


def nndr(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    seed: int = 0,
    max_rows: int = 10_000,
    columns: ColumnsArg = None,
) -> float:
    """Median nearest-neighbour distance ratio of synthetic rows to the training rows.

    For each synthetic row, the distance to its nearest training row divided by the distance
    to its second nearest (mixed-type distance as in :func:`dcr_share`). A ratio near 0 means
    the row sits right on one training record (a near copy); near 1, it is as close to one
    record as to the next. When both distances are 0 (a copy of a duplicated training row)
    the ratio is 0.

    Parameters
    ----------
    train : pandas.DataFrame
        The rows the synthesizer was fitted on (at most ``max_rows`` are used).
    synthetic : pandas.DataFrame
        The rows to judge (at most ``max_rows`` are used).
    seed : int, default 0
        Seed of the subsampling.
    max_rows : int, default 10000
        Cap on the rows of each set.
    columns : None, list of str, mapping of str to str, or Schema
        The columns and their kinds (see the module docstring).

    Returns
    -------
    float
        The median ratio (compare it with the same measure for real holdout rows).
    """
    kinds = _resolve_kinds(columns, train, synthetic)
    if len(train) < 2 or len(synthetic) == 0:
        raise ValueError("nndr needs at least two training rows and one synthetic row")
    rng = np.random.default_rng(seed)
    embedding = _DistanceEmbedding(kinds).fit(train)
    reference = embedding.transform(_subsample(train, max_rows, rng))
    query = embedding.transform(_subsample(synthetic, max_rows, rng))
    distances = _nearest(reference, query, k=2)
    first = distances[:, 0]
    second = distances[:, 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(second > _DISTANCE_TOL, first / second, 0.0)
    return float(np.median(np.clip(ratio, 0.0, 1.0)))


def exact_copy_share(
    train: pd.DataFrame, other: pd.DataFrame, columns: Sequence[str] | None = None
) -> float:
    """Share of the rows of ``other`` that equal some training row in every column.

    Values are compared by their canonical keys (numbers as floats rounded to 10 decimals,
    timestamps as nanoseconds, the rest as text); two missing values are equal.

    Parameters
    ----------
    train : pandas.DataFrame
        The training rows.
    other : pandas.DataFrame
        Synthetic (or holdout) rows.
    columns : list of str, optional
        Columns to compare; default: the training columns (all must be in ``other``).

    Returns
    -------
    float
        Between 0 and 1 (NaN when ``other`` is empty).
    """
    names = list(train.columns) if columns is None else list(columns)
    missing = [name for name in names if name not in other.columns or name not in train.columns]
    if missing:
        raise ValueError(f"columns missing from a compared frame: {missing}")
    if len(other) == 0:
        return float("nan")
    if len(train) == 0 or not names:
        return 0.0 if len(train) == 0 else 1.0
    train_codes = {}
    other_codes = {}
    for i, name in enumerate(names):
        (a, b), _ = _codes_with_missing(train[name], other[name])
        train_codes[i] = a
        other_codes[i] = b
    train_hash = pd.util.hash_pandas_object(pd.DataFrame(train_codes), index=False).to_numpy()
    other_hash = pd.util.hash_pandas_object(pd.DataFrame(other_codes), index=False).to_numpy()
    return float(np.isin(other_hash, train_hash).mean())


# --------------------------------------------------------------------------------------------
# Detection and machine-learning efficacy
# --------------------------------------------------------------------------------------------


def _tree_features(
    kinds: Mapping[str, str], frames: Sequence[pd.DataFrame]
) -> tuple[list[np.ndarray], np.ndarray]:
    """Feature matrices for histogram gradient boosting, with shared category codes.

    Continuous columns become floats (NaN for missing); discrete ones become codes of their
    254 most frequent values over all frames (rarer values share one code, missing is NaN).
    Returns the matrices and the boolean mask of categorical features.
    """
    columns: list[list[np.ndarray]] = [[] for _ in frames]
    mask: list[bool] = []
    for name, kind in kinds.items():
        if kind in CONTINUOUS_KINDS:
            for i, frame in enumerate(frames):
                columns[i].append(_numeric(frame[name], kind))
            mask.append(False)
            continue
        codes, n_levels = _joint_codes(*(_keys(frame[name]) for frame in frames))
        if n_levels > _MAX_TREE_LEVELS:
            counts = np.bincount(np.concatenate([c[c >= 0] for c in codes]), minlength=n_levels)
            rank = np.empty(n_levels, dtype=np.int64)
            rank[np.argsort(-counts, kind="stable")] = np.arange(n_levels)
            rank = np.minimum(rank, _MAX_TREE_LEVELS - 1)
            codes = [np.where(c >= 0, rank[np.maximum(c, 0)], -1) for c in codes]
        for i, code in enumerate(codes):
            values = code.astype(np.float64)
            values[code < 0] = np.nan
            columns[i].append(values)
        mask.append(True)
    matrices = [
        np.column_stack(cols) if cols else np.zeros((len(frame), 1))
        for cols, frame in zip(columns, frames, strict=True)
    ]
    return matrices, np.array(mask if mask else [False], dtype=bool)


def _without_empty_features(x: np.ndarray) -> np.ndarray:
    """``x`` with every feature missing in all its rows set to 0.

    Such a feature tells a learner nothing, and scikit-learn's histogram binning fails on it
    (an entirely missing column, or one a synthesizer left empty); a constant is never split on.
    """
    empty = np.isnan(x).all(axis=0)
    if not empty.any():
        return x
    x = x.copy()
    x[:, empty] = 0.0
    return x


def detection_auc(
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    seed: int = 0,
    max_rows: int = 5_000,
    columns: ColumnsArg = None,
    folds: int = 3,
    n_jobs: int | None = 1,
) -> float:
    """ROC AUC of a classifier that tells real rows from synthetic ones.

    Equal numbers of real and synthetic rows (at most ``max_rows`` each, drawn with ``seed``)
    are labelled 0 / 1; scikit-learn's ``HistGradientBoostingClassifier`` (native categorical
    support, missing values as such) is scored by ``folds``-fold stratified cross-validation.

    Parameters
    ----------
    real, synthetic : pandas.DataFrame
        The frames to tell apart.
    seed : int, default 0
        Seed of the subsampling, the folds and the classifier.
    max_rows : int, default 5000
        Cap on the rows taken from each frame.
    columns : None, list of str, mapping of str to str, or Schema
        The columns and their kinds (see the module docstring).
    folds : int, default 3
        Number of cross-validation folds.
    n_jobs : int or None, default 1
        OpenMP threads of the classifier (``None``: scikit-learn's default, all cores). One
        thread is usually faster for these sizes and does not fight other processes.

    Returns
    -------
    float
        Mean ROC AUC over the folds: 0.5 when the two cannot be told apart, 1 when they
        always can.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    kinds = _resolve_kinds(columns, real, synthetic)
    rng = np.random.default_rng(seed)
    n = min(len(real), len(synthetic), max_rows)
    if n < folds:
        raise ValueError(f"detection_auc needs at least {folds} rows in each frame")
    (x_real, x_synthetic), categorical = _tree_features(
        kinds, [_subsample(real, n, rng), _subsample(synthetic, n, rng)]
    )
    x = _without_empty_features(np.vstack([x_real, x_synthetic]))
    y = np.concatenate([np.zeros(len(x_real)), np.ones(len(x_synthetic))])
    model = HistGradientBoostingClassifier(categorical_features=categorical, random_state=seed)
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    with _threads(n_jobs):
        scores = cross_val_score(model, x, y, scoring="roc_auc", cv=cv)
    return float(np.mean(scores))


def _threads(n_jobs: int | None) -> Any:
    """Context manager limiting OpenMP / BLAS threads (no limit for ``None``)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=n_jobs)


def _class_scores(model: Any, x_test: np.ndarray, n_classes: int) -> np.ndarray:
    """Predicted probabilities with one column per class of the real training data."""
    probabilities = np.zeros((len(x_test), n_classes))
    probabilities[:, model.classes_.astype(np.int64)] = model.predict_proba(x_test)
    return probabilities


def _macro_auc(y_test: np.ndarray, probabilities: np.ndarray) -> float:
    """ROC AUC (binary) or macro one-vs-rest ROC AUC (multi-class)."""
    from sklearn.metrics import roc_auc_score

    n_classes = probabilities.shape[1]
    classes = [1] if n_classes == 2 else range(n_classes)
    scores = []
    for c in classes:
        positive = y_test == c
        if positive.all() or not positive.any():
            continue
        scores.append(roc_auc_score(positive, probabilities[:, c]))
    return float(np.mean(scores)) if scores else float("nan")


def ml_efficacy(
    train_real: pd.DataFrame,
    synthetic: pd.DataFrame,
    test_real: pd.DataFrame,
    target: str,
    seed: int = 0,
    task: str | None = None,
    columns: ColumnsArg = None,
    n_jobs: int | None = 1,
) -> dict[str, Any]:
    """Predictive usefulness: train on synthetic, test on real, next to train on real.

    Two ``HistGradientBoosting`` models (same settings, native categorical features) learn
    ``target`` from the other columns, one on ``train_real`` and one on ``synthetic``; both are
    scored on ``test_real``. Classification targets are scored by ROC AUC (binary) or macro
    one-vs-rest ROC AUC (multi-class), numeric targets by R^2. Rows with a missing target are
    dropped; synthetic rows whose label never occurs in ``train_real`` are dropped too.

    Parameters
    ----------
    train_real : pandas.DataFrame
        Real training rows (the synthesizer's training data).
    synthetic : pandas.DataFrame
        Synthetic rows.
    test_real : pandas.DataFrame
        Real rows neither model saw.
    target : str
        The column to predict.
    seed : int, default 0
        Seed of the models.
    task : {"binary", "multiclass", "regression"}, optional
        Default: regression for a continuous target with more than 10 distinct values,
        classification otherwise.
    columns : None, list of str, mapping of str to str, or Schema
        The columns and their kinds (see the module docstring); must include ``target``.
    n_jobs : int or None, default 1
        OpenMP threads of the models (``None``: scikit-learn's default, all cores).

    Returns
    -------
    dict
        ``task``, ``metric`` (``"roc_auc"`` or ``"r2"``), ``real`` (score of the model
        trained on real data), ``synthetic`` (score of the model trained on synthetic data)
        and ``ratio`` (``synthetic / real``).
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.metrics import r2_score

    kinds = _resolve_kinds(columns, train_real, synthetic, test_real)
    if target not in kinds:
        raise ValueError(f"target {target!r} is not among the measured columns")
    target_kind = kinds.pop(target)
    if task is None:
        if target_kind in CONTINUOUS_KINDS:
            n_distinct = pd.Series(_numeric(train_real[target], target_kind)).nunique()
            task = "regression" if n_distinct > 10 else "classification"
        else:
            task = "classification"
    frames = [train_real, synthetic, test_real]

    if task == "regression":
        targets = [_numeric(frame[target], target_kind) for frame in frames]
        keep = [~np.isnan(t) for t in targets]
    else:
        (tr, sy, te), _ = _joint_codes(*(_keys(frame[target]) for frame in frames))
        labels = np.unique(tr[tr >= 0])
        if len(labels) < 2:
            raise ValueError(f"target {target!r} has fewer than two classes in train_real")
        index = {label: i for i, label in enumerate(labels)}
        targets = [
            np.array([index.get(code, -1) for code in codes], dtype=np.int64)
            for codes in (tr, sy, te)
        ]
        keep = [t >= 0 for t in targets]
        task = "binary" if len(labels) == 2 else "multiclass"
    frames = [frame[k] for frame, k in zip(frames, keep, strict=True)]
    targets = [t[k] for t, k in zip(targets, keep, strict=True)]
    (x_train, x_synthetic, x_test), categorical = _tree_features(kinds, frames)
    y_train, y_synthetic, y_test = targets

    def score(x: np.ndarray, y: np.ndarray) -> float:
        x = _without_empty_features(x)
        if task == "regression":
            if len(y) == 0:
                return float("nan")
            model = HistGradientBoostingRegressor(
                categorical_features=categorical, random_state=seed
            )
            return float(r2_score(y_test, model.fit(x, y).predict(x_test)))
        n_classes = len(labels)
        if len(np.unique(y)) < 2:
            # One class only: every test row gets the same score, an AUC of 0.5.
            return 0.5
        model = HistGradientBoostingClassifier(categorical_features=categorical, random_state=seed)
        return _macro_auc(y_test, _class_scores(model.fit(x, y), x_test, n_classes))

    with _threads(n_jobs):
        real_score = score(x_train, y_train)
        synthetic_score = score(x_synthetic, y_synthetic)
    ratio = synthetic_score / real_score if real_score else float("nan")
    return {
        "task": task,
        "metric": "r2" if task == "regression" else "roc_auc",
        "real": real_score,
        "synthetic": synthetic_score,
        "ratio": float(ratio),
    }


# --------------------------------------------------------------------------------------------
# Logical consistency
# --------------------------------------------------------------------------------------------


def logical_consistency(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    columns: ColumnsArg = None,
) -> tuple[float, list[dict[str, Any]]]:
    """How well the synthetic rows keep the functional dependencies of the training data.

    A column ``A`` determines a column ``B`` when every value of ``A`` occurs with exactly one
    value of ``B`` in ``train`` (missing counts as a value), ``A`` has more than one and fewer
    than ``n / 2`` distinct values and ``B`` is not constant. For each such pair the score is
    the share of synthetic rows whose ``(A, B)`` combination occurs in ``train``.

    Parameters
    ----------
    train : pandas.DataFrame
        The training rows, where dependencies are found.
    synthetic : pandas.DataFrame
        The rows to check.
    columns : None, list of str, mapping of str to str, or Schema
        The columns to consider (see the module docstring).

    Returns
    -------
    score : float
        Mean share over the dependencies (NaN when the training data has none).
    per_pair : list of dict
        One ``{"determinant": A, "dependent": B, "share": s}`` per dependency, lowest share
        first.
    """
    kinds = _resolve_kinds(columns, train, synthetic)
    n = len(train)
    codes: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
    distinct: dict[str, int] = {}
    for name in kinds:
        (a, b), n_levels = _codes_with_missing(train[name], synthetic[name])
        codes[name] = (a, b, n_levels)
        distinct[name] = len(np.unique(a))
    results: list[dict[str, Any]] = []
    for a_name, b_name in itertools.permutations(kinds, 2):
        if not 1 < distinct[a_name] < n / 2 or distinct[b_name] < 2:
            continue
        a_train, a_synthetic, _ = codes[a_name]
        b_train, b_synthetic, b_levels = codes[b_name]
        seen = np.unique(a_train * b_levels + b_train)
        if len(seen) != distinct[a_name]:
            continue
        pairs = a_synthetic * b_levels + b_synthetic
        share = float(np.isin(pairs, seen).mean()) if len(pairs) else float("nan")
        results.append({"determinant": a_name, "dependent": b_name, "share": share})
    results.sort(key=lambda item: (item["share"], item["determinant"], item["dependent"]))
    return _nanmean(item["share"] for item in results), results


#: An order holds in the training rows when at least this share of them keep it ...
ORDER_SHARE = 0.999
#: ... while random pairs of the two columns' values would keep it in at most this share
#: (so two ranges that barely overlap are not an order).
ORDER_CHANCE_SHARE = 0.9


def order_consistency(
    train: pd.DataFrame,
    synthetic: pd.DataFrame,
    columns: ColumnsArg = None,
    max_rows: int = 20_000,
) -> tuple[float, list[dict[str, Any]]]:
    """How well the synthetic rows keep the orders between numbers and dates of the training data.

    Column ``B`` is at least column ``A`` when ``B >= A`` in at least ``ORDER_SHARE`` of the
    training rows where both are known (a remodel year and the build year; a departure and
    the arrival), while values of the two paired at random would be so in at most
    ``ORDER_CHANCE_SHARE``. Both columns must be of the same kind (two numbers or two dates).
    For each such pair the score is the share of synthetic rows (both known) that keep it.

    Parameters
    ----------
    train : pandas.DataFrame
        The training rows, where orders are found.
    synthetic : pandas.DataFrame
        The rows to check.
    columns : None, list of str, mapping of str to str, or Schema
        The columns to consider (see the module docstring).
    max_rows : int, default 20000
        Cap on the training rows read to find the orders (drawn with a fixed seed).

    Returns
    -------
    score : float
        Mean share over the orders (NaN when the training data has none).
    per_pair : list of dict
        One ``{"lower": A, "upper": B, "share": s}`` per order, lowest share first.
    """
    kinds = _resolve_kinds(columns, train, synthetic)
    names = [name for name, kind in kinds.items() if kind in CONTINUOUS_KINDS]
    rows = _subsample(train, max_rows, np.random.default_rng(0))
    real = {name: _numeric(rows[name], kinds[name]) for name in names}
    drawn = {name: _numeric(synthetic[name], kinds[name]) for name in names}
    results: list[dict[str, Any]] = []
    for lower, upper in itertools.permutations(names, 2):
        if kinds[lower] != kinds[upper]:
            continue
        a, b = real[lower], real[upper]
        known = ~(np.isnan(a) | np.isnan(b))
        if known.sum() < 2 or (b[known] >= a[known]).mean() < ORDER_SHARE:
            continue
        if (b[known] == a[known]).all() and lower > upper:
            continue  # two equal columns: one pair, not two
        ordered_a = np.sort(a[~np.isnan(a)])
        present_b = b[~np.isnan(b)]
        chance = np.searchsorted(ordered_a, present_b, side="right").mean() / len(ordered_a)
        if chance > ORDER_CHANCE_SHARE:
            continue
        x, y = drawn[lower], drawn[upper]
        both = ~(np.isnan(x) | np.isnan(y))
        share = float((y[both] >= x[both]).mean()) if both.any() else float("nan")
        results.append({"lower": lower, "upper": upper, "share": share})
    results.sort(key=lambda item: (item["share"], item["lower"], item["upper"]))
    return _nanmean(item["share"] for item in results), results


def distances_to_closest(
    reference: pd.DataFrame,
    query: pd.DataFrame,
    columns: ColumnsArg = None,
    exclude_self: bool = False,
) -> np.ndarray:
    """Mixed-type distance from every query row to its closest reference row.

    The distance is the one :func:`dcr_share` uses. With ``exclude_self`` (``query`` is
    ``reference``), each row's own zero distance is skipped: the distance to its closest other
    row.
    """
    kinds = _resolve_kinds(columns, reference, query)
    embedding = _DistanceEmbedding(kinds).fit(reference)
    distances = _nearest(embedding.transform(reference), embedding.transform(query), k=2)
    return distances[:, 1] if exclude_self and distances.shape[1] > 1 else distances[:, 0]
