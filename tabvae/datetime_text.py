"""Datetimes and durations written as text: read them in their form, write them back in it.

Dates exported from spreadsheets often drop leading zeros ("1/5/2002", "9:05"). Python's
``strptime`` reads them with ``%m/%d/%Y``, but ``strftime`` writes "01/05/2002" back, so a
synthetic file would not look like the one it was learned from. A format here may therefore
say ``%-d`` (as glibc's ``strftime`` does, on every platform): a field without its leading zero.
Durations on a clock whose hours run past 24 ("38:31:00") are written ``%H:%M:%S`` or, hours
without a leading zero, ``%-H:%M:%S``.
"""

from __future__ import annotations

import itertools
import re

import numpy as np
import pandas as pd

#: Numeric fields whose leading zero a format may drop: ``%-d`` and so on.
UNPADDABLE = "dmHIMS"
_UNPADDED = re.compile(rf"%-([{UNPADDABLE}])")
# Marks the start of an unpadded field while formatting; no date format holds it.
_MARK = "\x02"


def padded(fmt: str) -> str:
    """``fmt`` with every field at its full width: the form ``strptime`` reads."""
    return _UNPADDED.sub(r"%\1", fmt)


def parse(values: pd.Series, fmt: str | None, *, errors: str = "raise") -> pd.Series:
    """Datetimes of text ``values`` written in ``fmt`` (``None``: let pandas guess)."""
    return pd.to_datetime(values, format=None if fmt is None else padded(fmt), errors=errors)


def render(stamps: pd.Series, fmt: str) -> pd.Series:
    """Text of ``stamps`` in ``fmt``; missing stamps stay missing."""
    text = stamps.dt.strftime(_UNPADDED.sub(_MARK + r"%\1", fmt))
    if _MARK not in fmt and not _UNPADDED.search(fmt):
        return text
    return text.str.replace(_MARK + "0(?=\\d)", "", regex=True).str.replace(_MARK, "")


def with_padding_of(text: pd.Series, fmt: str) -> str:
    """``fmt``, with the fields that ``text`` writes without a leading zero marked ``%-``.

    ``text`` parses with ``fmt``. The first variant that writes every value back exactly wins,
    the fewest unpadded fields first; when none does (padding mixed within a column), ``fmt``.
    """
    text = text.astype(str)
    # Most columns are settled by their first values; a column is written out whole once.
    for sample in (text.iloc[:_SAMPLE], text):
        candidate = _first_writing_back(sample, fmt)
        if candidate is not None and (len(sample) == len(text) or _writes(text, candidate)):
            return candidate
    return fmt


#: Values the search for a column's padding tries first.
_SAMPLE = 200


def _first_writing_back(text: pd.Series, fmt: str) -> str | None:
    fields = [field for field in UNPADDABLE if f"%{field}" in fmt]
    for count in range(len(fields) + 1):
        for unpadded in itertools.combinations(fields, count):
            candidate = fmt
            for field in unpadded:
                candidate = candidate.replace(f"%{field}", f"%-{field}")
            if _writes(text, candidate):
                return candidate
    return None


def _writes(text: pd.Series, fmt: str) -> bool:
    """True if ``fmt`` writes every value of ``text`` back as it is."""
    written = render(parse(text, fmt), fmt)
    return bool((written.to_numpy(object) == text.to_numpy(object)).all())


#: The forms a duration on a clock is written in.
CLOCK_FORMATS = ("%H:%M:%S", "%-H:%M:%S")


def clock_format(text: pd.Series) -> str:
    """The clock form of durations ``text``: hours padded to two digits where one is."""
    return "%H:%M:%S" if text.str.match(r"-?0\d").any() else "%-H:%M:%S"


def render_clock(seconds: np.ndarray, fmt: str) -> pd.Series:
    """Durations of ``seconds`` on a clock ("38:31:00"); fractions of a second as needed."""
    total = np.round(np.abs(seconds), 6)
    whole = np.floor(total)
    fraction = np.round(total - whole, 6)
    parts = [whole // 3600, whole % 3600 // 60, whole % 60]
    hours, minutes, secs = (pd.Series(p.astype(np.int64)).astype(str) for p in parts)
    if fmt == "%H:%M:%S":
        hours = hours.str.zfill(2)
    fractions = pd.Series([f"{f:.6f}"[1:].rstrip("0") if f > 0 else "" for f in fraction])
    sign = pd.Series(np.where(seconds < 0, "-", ""))
    return sign + hours + ":" + minutes.str.zfill(2) + ":" + secs.str.zfill(2) + fractions
