"""Reading and writing tables (CSV, Parquet) with clear errors and atomic writes."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd

from tabvae.errors import DataError

CSV_SUFFIXES = (".csv", ".csv.gz", ".csv.zip", ".csv.bz2", ".csv.xz", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")


def table_format(path: str | Path) -> str:
    """Return ``"csv"`` or ``"parquet"`` from a file name, or raise :class:`DataError`."""
    name = str(path).lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    raise DataError(
        f"cannot tell the format of {path!s} from its extension; use one of "
        f"{', '.join(CSV_SUFFIXES + PARQUET_SUFFIXES)}"
    )


def read_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or Parquet file into a DataFrame.

    Raises
    ------
    DataError
        If the file is missing, empty, unreadable or of an unknown format.
    """
    path = Path(path)
    fmt = table_format(path)
    if not path.exists():
        raise DataError(f"no such file: {path}")
    if path.is_dir():
        raise DataError(f"{path} is a folder, not a table file")
    if path.stat().st_size == 0:
        raise DataError(f"{path} is empty")
    try:
        if fmt == "csv":
            sep = _separator(path)
            # pandas silently renames a repeated header to "name.1"; a user should know.
            header = pd.read_csv(path, sep=sep, header=None, nrows=1).iloc[0].astype(str)
            repeated = sorted(set(header[header.duplicated()]))
            if repeated:
                raise DataError(f"{path} has duplicate column names: {repeated}")
            return pd.read_csv(path, sep=sep, decimal=_decimal_mark(path, sep))
        return pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} holds no table") from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise DataError(f"cannot read {path}: {first_line}") from None


#: Separators tried when a CSV file's header holds a single column.
_OTHER_SEPARATORS = (";", "\t", "|")


def _separator(path: Path) -> str:
    """The CSV separator: a tab for .tsv files, else a comma, unless the header then holds a
    single column and a semicolon, tab or bar splits it (CSV files written where the decimal
    mark is a comma use semicolons)."""
    if str(path).lower().endswith(".tsv"):
        return "\t"

    def width(sep: str) -> int:
        return pd.read_csv(path, sep=sep, header=None, nrows=1).shape[1]

    if width(",") > 1:
        return ","
    widths = {sep: width(sep) for sep in _OTHER_SEPARATORS}
    best = max(widths, key=lambda sep: widths[sep])
    return best if widths[best] > 1 else ","


def _decimal_mark(path: Path, sep: str) -> str:
    """ "," for a semicolon-separated file whose numbers read as numbers only with a decimal
    comma (1,5), else "."."""
    if sep != ";":
        return "."

    def numeric_columns(decimal: str) -> int:
        head = pd.read_csv(path, sep=sep, decimal=decimal, nrows=1000)
        return sum(pd.api.types.is_numeric_dtype(dtype) for dtype in head.dtypes)

    return "," if numeric_columns(",") > numeric_columns(".") else "."


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; it replaces ``path`` only if the block succeeds.

    An interrupted or failed write never leaves a half-written file under the final name.
    """
    path = Path(path)
    if path.parent and not path.parent.exists():
        raise DataError(f"the folder {path.parent} does not exist")
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def write_table(df: pd.DataFrame, path: str | Path) -> Path:
    """Write ``df`` as CSV or Parquet (by extension), atomically."""
    path = Path(path)
    writers: dict[str, Callable[[Path], None]] = {
        "csv": lambda p: df.to_csv(p, index=False, compression=_compression(path)),
        "parquet": lambda p: df.to_parquet(p, index=False),
    }
    writer = writers[table_format(path)]
    with atomic_path(path) as temporary:
        writer(temporary)
    return path


def _compression(path: Path) -> str | None:
    suffix = path.suffix.lower()
    return {".gz": "gzip", ".zip": "zip", ".bz2": "bz2", ".xz": "xz"}.get(suffix)


def write_text_atomic(path: Path, text: str) -> None:
    """Write text to ``path`` atomically."""
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def split_holdout(
    df: pd.DataFrame, fraction: float, seed: int | None = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split rows at random into (training rows, holdout rows) with ``fraction`` held out."""
    if not 0.0 < fraction < 1.0:
        raise DataError(f"the holdout fraction must be between 0 and 1, got {fraction}")
    n_holdout = round(len(df) * fraction)
    if n_holdout < 1 or len(df) - n_holdout < 2:
        raise DataError(f"a holdout of {fraction:.0%} leaves too few rows of {len(df)}")
    order = np.random.default_rng(seed).permutation(len(df))
    return (
        df.iloc[order[n_holdout:]].reset_index(drop=True),
        df.iloc[order[:n_holdout]].reset_index(drop=True),
    )
