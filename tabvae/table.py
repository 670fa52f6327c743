"""The whole table: a DataFrame to per-head float32 blocks and back."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

import numpy as np
import pandas as pd

from tabvae import dtypes
from tabvae.date_parts import check_date_parts, fill_date_parts
from tabvae.dtypes import json_scalar
from tabvae.errors import ModelFileError, SchemaError
from tabvae.heads import HeadSpec
from tabvae.protections import computed_bounds
from tabvae.relations import Relation, relation_order
from tabvae.schema import (
    Schema,
    check_computed,
    computed_source,
    computed_terms,
    computed_values,
    learned,
    snap_to_stored,
    stored_form,
    value_set_form,
)
from tabvae.transformers import ColumnTransformer, transformer_class
from tabvae.transformers.numerical import ContinuousTransformer

#: How much more a step of the determinant counts than a step of a dependent number when a
#: row's determinant moves to the seen value nearest its numbers (both in units of their
#: spread): a row moves to a nearby value, a date by a week or two rather than a season.
#: Measured on hotel_rates (one fit, two draws): weights of 1 and 4 bent the date's marginal
#: (column shapes 0.977 and 0.980 against 0.985 without the move); 16 kept it (0.983) and
#: kept most of the gain in ML efficacy (R^2 0.852-0.855 against 0.837-0.844).
_DETERMINANT_WEIGHT = 16.0


class Dependency:
    """The value of one column as a function of another's, learned from the training rows.

    Parameters
    ----------
    pairs : list of [determinant value, dependent value]
        JSON scalars; ``None`` stands for a missing value.
    """

    def __init__(self, pairs: list[list[Any]]) -> None:
        self.pairs = pairs
        self._lookup = {_key(a): b for a, b in pairs}

    @classmethod
    def fit(cls, determinant: pd.Series, dependent: pd.Series) -> Dependency:
        """Map each determinant value to the dependent value it occurs with most."""
        frame = pd.DataFrame({"a": determinant.astype(object), "b": dependent.astype(object)})
        frame = frame.where(frame.notna(), None)
        counts = frame.value_counts(dropna=False, sort=True)
        pairs: dict[Any, list[Any]] = {}
        for a, b in counts.index:
            pairs.setdefault(_key(a), [json_scalar(_none(a)), json_scalar(_none(b))])
        return cls(list(pairs.values()))

    def value_of(self, determinant: Any) -> Any:
        """The dependent value paired with one determinant value; None when unseen."""
        return self._lookup.get(_key(determinant))

    def apply(self, determinant: pd.Series, dependent: pd.Series) -> np.ndarray:
        """Dependent values with every row whose determinant value is known made to agree."""
        # Look up each distinct determinant value once, not each row.
        codes, uniques = pd.factorize(determinant.to_numpy(object), use_na_sentinel=False)
        missing = object()
        looked_up = np.empty(len(uniques), dtype=object)
        looked_up[:] = [self._lookup.get(_key(a), missing) for a in uniques]
        found = np.asarray([b is not missing for b in looked_up], dtype=bool)
        result = dependent.to_numpy(dtype=object).copy()
        rows = found[codes]
        result[rows] = looked_up[codes[rows]]
        return result


def _none(value: Any) -> Any:
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def _key(value: Any) -> Any:
    value = _none(value)
    if isinstance(value, pd.Timestamp | np.datetime64):
        # The saved value map holds dates as ISO text (see ``json_scalar``).
        return pd.Timestamp(value).isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


class TableTransformer:
    """Applies one fitted column transformer per modeled column of a schema.

    A column learned relative to another (``relative_to``) is learned in its encoded form: its
    entry in ``transformers_`` transforms the share, the difference or "the same or a value"
    (see :mod:`tabvae.relations`), and ``originals_`` keeps the transformer of the column
    itself, which restores it.

    A column computed from another (``computed_from``) has no transformer in
    ``transformers_`` and no head: it is computed from its source when rows are decoded.
    Nor has a part of a date (``date_part``): it is read off the decoded date.

    Parameters
    ----------
    schema : Schema
        A resolved schema (see :meth:`Schema.resolve`).
    extreme_value_k : int, default 0
        The extreme-value protection's k, applied to the differences of relative numbers.
    """

    def __init__(self, schema: Schema, extreme_value_k: int = 0) -> None:
        self.schema = schema
        self.extreme_value_k = extreme_value_k
        self.transformers_: list[ColumnTransformer] = []
        self.dependencies_: dict[str, Dependency] = {}
        self.relations_: dict[str, Relation] = {}
        self.originals_: dict[str, ColumnTransformer] = {}
        self.stored_: dict[str, dict[str, Any]] = {}
        self.computed_ = self._computed(schema)
        # Unfitted, as computed columns': they only write the parts in the column's dtype.
        own_heads = {c.name for c in learned(schema.modeled)}
        self.date_parts_ = {
            c.name: transformer_class(c.kind)(c)
            for c in schema.modeled
            if c.date_part is not None and c.name not in own_heads
        }

    @staticmethod
    def _computed(schema: Schema) -> dict[str, ColumnTransformer]:
        """Computed columns' transformers: unfitted, they only restore values. Their range is
        what their rule makes of their sources' ranges: a sum clipped to the training range
        of the total would no longer be the sum."""
        computed = {}
        for column in schema.modeled:
            if column.computed_from is not None:
                low, high = computed_bounds(schema, column) or (None, None)
                bounded = dataclasses.replace(column, min=low, max=high)
                computed[column.name] = transformer_class(column.kind)(bounded)
        return computed

    def fit(self, df: pd.DataFrame) -> TableTransformer:
        """Fit a transformer per modeled column, the value map of each dependency and the
        encoded form of each relative column."""
        check_computed(self.schema)
        check_date_parts(self.schema.columns)
        own = {
            column.name: transformer_class(column.kind)(column).fit(df[column.name])
            for column in learned(self.schema.modeled)
        }
        modeled = {c.name for c in self.schema.modeled}
        self.dependencies_ = {}
        for column in self.schema.modeled:
            determinant = column.determined_by
            if determinant is None:
                continue
            if determinant not in modeled or determinant == column.name:
                raise SchemaError(
                    f"column {column.name!r} is determined_by {determinant!r}, which is not a "
                    "modeled column of the table"
                )
            self.dependencies_[column.name] = Dependency.fit(df[determinant], df[column.name])
        self.relations_, self.originals_ = {}, {}
        learned_as = dict(own)
        for name in relation_order(self.schema):
            reference = str(self.schema[name].relative_to)
            relation = Relation.fit(own[name], own[reference], df, self.extreme_value_k)
            self.relations_[name] = relation
            self.originals_[name] = own[name]
            encoded = relation.encode(df, own[name], own[reference])
            encoded_kind = transformer_class(relation.encoded.kind)
            learned_as[name] = encoded_kind(relation.encoded).fit(encoded)
        self.transformers_ = [learned_as[name] for name in own]
        # Rounding to its decimals gives a number as stored; without decimals, its stored
        # values do: a computed number's, and a learned one's that takes a set of values.
        self.stored_ = {
            name: stored_form(df, transformer.column)
            for name, transformer in self.computed_.items()
            if transformer.column.decimals is None
        }
        for transformer in self.transformers_:
            column = transformer.column
            # A column relative to another is learned in an encoded form: not its values.
            if column.kind == "numerical" and column.decimals is None:
                if column.name in self.relations_:
                    continue
                assert isinstance(transformer, ContinuousTransformer)
                form = value_set_form(df[column.name], transformer.point_masses)
                if form:
                    self.stored_[column.name] = form
        return self

    def original(self, name: str) -> ColumnTransformer:
        """The transformer of the column itself (not of its encoded form)."""
        if name in self.originals_:
            return self.originals_[name]
        if name in self.computed_:
            return self.computed_[name]
        if name in self.date_parts_:
            return self.date_parts_[name]
        return next(t for t in self.transformers_ if t.column.name == name)

    @property
    def heads(self) -> list[HeadSpec]:
        """Head specs of every learned column, in schema order."""
        return [head for t in self.transformers_ for head in t.heads]

    def transform(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        """Return ``{head name: float32 array of shape (n, width)}``."""
        blocks: dict[str, np.ndarray] = {}
        for transformer in self.transformers_:
            name = transformer.column.name
            relation = self.relations_.get(name)
            if relation is None:
                blocks.update(transformer.transform(df[name]))
                continue
            encoded = relation.encode(
                df, self.original(name), self.original(relation.reference), transformer
            )
            blocks.update(transformer.transform(encoded))
        return blocks

    def inverse_transform(
        self,
        values: dict[str, np.ndarray],
        n_rows: int,
        rng: np.random.Generator,
        given: Collection[str] = (),
        known: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Build the DataFrame (modeled columns, schema order and dtypes) from head values.

        Columns in ``given`` (asked condition values) keep their values as they are. The
        non-missing cells of ``known`` (rows being imputed, by position) are kept too, so a
        filled cell is derived from the row's known values: a departure filled after its known
        arrival, a label from its known code.
        """
        columns = {
            t.column.name: t.inverse_transform(values, n_rows, rng).reset_index(drop=True)
            for t in self.transformers_
        }
        frame = pd.DataFrame(columns, index=pd.RangeIndex(n_rows))
        for name in frame.columns:
            if name in self.stored_ and name not in given:
                transformer = self.original(name)
                assert isinstance(transformer, ContinuousTransformer)
                numbers = snap_to_stored(transformer.to_numbers(frame[name]), self.stored_[name])
                frame[name] = transformer.from_numbers(numbers, np.isnan(numbers))
            if name not in self.relations_:
                self._keep_known(frame, name, known)
        for name, relation in self.relations_.items():
            # In fit order, so every reference is decoded before the columns relative to it.
            frame[name] = relation.decode(
                frame[name],
                frame[relation.reference],
                self.original(name),
                self.original(relation.reference),
            )
            self._keep_known(frame, name, known)
        by_name = {t.column.name: t for t in self.transformers_}
        for determinant, names in self._groups().items():
            if determinant in given:
                continue
            snapped = self._nearest_seen(determinant, names, frame, by_name)
            if snapped is not None:
                frame[determinant] = by_name[determinant].from_values(snapped)
                self._keep_known(frame, determinant, known)
        for name, dependency in self.dependencies_.items():
            determinant = self.schema[name].determined_by
            fixed = dependency.apply(frame[determinant], frame[name])
            frame[name] = by_name[name].from_values(fixed)
        self._fill_date_parts(frame, given, known)
        for name, transformer in self.computed_.items():
            # Last: a source may have been moved by a determined_by rule above.
            rule = transformer.column.computed_from or {}
            terms = computed_terms(rule)
            assert isinstance(transformer, ContinuousTransformer)
            sources = {term: self.original(term) for term in terms}
            if known is not None and name in known.columns and len(terms) == 1:
                # A row being imputed that knows this column but not its source: the source
                # follows from it. (A known sum leaves its terms open: it fixes no one of them.)
                [term] = terms
                source = sources[term]
                assert isinstance(source, ContinuousTransformer)
                given_here = transformer.to_numbers(known[name].reset_index(drop=True))
                filled = source.to_numbers(frame[term])
                lacking = ~np.isnan(given_here)
                if term in known.columns:
                    lacking &= known[term].reset_index(drop=True).isna().to_numpy()
                filled[lacking] = computed_source(rule, given_here[lacking], source.column)
                frame[term] = source.from_numbers(filled, np.isnan(filled))
            numbers = computed_values(
                rule, {t: _source_numbers(s, frame[t]) for t, s in sources.items()}
            )
            numbers = snap_to_stored(numbers, self.stored_.get(name, {}))
            frame[name] = transformer.from_numbers(numbers, np.isnan(numbers))
            self._keep_known(frame, name, known)
        return frame

    def _fill_date_parts(
        self, frame: pd.DataFrame, given: Collection[str], known: pd.DataFrame | None
    ) -> None:
        """Dates moved to their learned parts and the other parts read off them; after the
        rules above, which may move a date (a determinant, a date relative to another)."""
        parts = [c for c in self.schema.modeled if c.date_part is not None]
        if not parts:
            return
        dates = {c.date_part["column"] for c in parts}
        names = {c.name for c in parts} | dates
        # A date asked or known stays where it is.
        fixed = {}
        for date in dates:
            fixed[date] = np.full(len(frame), date in given)
            if known is not None and date in known.columns:
                fixed[date] |= known[date].notna().to_numpy()
        transformers = {n: self.original(n) for n in names}
        fill_date_parts(frame, self.schema, transformers, fixed, known)
        for name in names:
            self._keep_known(frame, name, known)

    def _keep_known(self, frame: pd.DataFrame, name: str, known: pd.DataFrame | None) -> None:
        """Put the known cells of column ``name`` back into ``frame``."""
        if known is None or name not in known.columns:
            return
        cells = known[name].reset_index(drop=True)
        mask = cells.notna().to_numpy()
        if not mask.any():
            return
        values = frame[name].to_numpy(dtype=object).copy()
        values[mask] = cells.to_numpy(dtype=object)[mask]
        frame[name] = self.original(name).from_values(values)

    def _groups(self) -> dict[str, list[str]]:
        """Dependent columns by the column that determines them."""
        groups: dict[str, list[str]] = {}
        for name in self.dependencies_:
            groups.setdefault(str(self.schema[name].determined_by), []).append(name)
        return groups

    def _nearest_seen(
        self,
        determinant: str,
        names: list[str],
        frame: pd.DataFrame,
        by_name: dict[str, ColumnTransformer],
    ) -> np.ndarray | None:
        """Each row's number or date determinant moved to the seen value closest to the row.

        When a date fixes a number (a day's average price), looking the number up from the
        drawn date would drop what the model learned between that number and the rest of the
        row (the row's own price). Each row takes the seen determinant value nearest to its
        drawn determinant and drawn dependent numbers together (each scaled by its spread over
        the seen values), so the looked-up numbers stay close to the drawn ones; the
        determinant is weighted by ``_DETERMINANT_WEIGHT``. A row whose drawn value no training
        row has takes, where there is one, a seen value that fixes its drawn dependent
        categories: a genotype number between two codes (lme4/Arabidopsis) looked up no
        region and kept a pair no training row shows. None when there is nothing to move.
        """
        if not isinstance(by_name[determinant], ContinuousTransformer):
            return None
        numbers = {
            name: by_name[name]
            for name in [determinant, *names]
            if isinstance(by_name[name], ContinuousTransformer)
        }
        dependents = [name for name in names if name in numbers]
        labels = [name for name in names if name not in numbers]
        seen = [a for a, _ in self.dependencies_[names[0]].pairs if a is not None]
        if not seen:
            return None
        grid = [numbers[determinant].to_numbers(pd.Series(seen, dtype=object))]
        for name in dependents:
            looked_up = [self.dependencies_[name].value_of(a) for a in seen]
            grid.append(np.array([np.nan if b is None else b for b in looked_up], dtype=float))
        grid_matrix = np.column_stack(grid)
        columns = [determinant, *dependents]
        rows = np.column_stack([numbers[name].to_numbers(frame[name]) for name in columns])
        usable = np.isfinite(grid_matrix).all(axis=1)
        complete = np.isfinite(rows).all(axis=1)
        if not usable.any() or not complete.any():
            return None
        spread = grid_matrix[usable].std(axis=0)
        spread[spread == 0] = 1.0
        spread[0] /= _DETERMINANT_WEIGHT
        seen_labels = [
            tuple(_key(self.dependencies_[name].value_of(a)) for name in labels) for a in seen
        ]
        # Rows grouped by the categories they must fit: none for a row whose drawn value is
        # a seen one (it looks up categories seen with it), its drawn ones otherwise.
        unseen = complete & ~np.isin(rows[:, 0], grid_matrix[usable, 0]) & bool(labels)
        rows_of: dict[tuple[Any, ...] | None, list[int]] = {
            None: np.flatnonzero(complete & ~unseen).tolist()
        }
        unseen_rows = np.flatnonzero(unseen)
        drawn = [
            [_key(None if pd.isna(v) else v) for v in frame[name].to_numpy(object)[unseen_rows]]
            for name in labels
        ]
        for position, row in enumerate(unseen_rows.tolist()):
            rows_of.setdefault(tuple(values[position] for values in drawn), []).append(row)
        from sklearn.neighbors import NearestNeighbors

        snapped = frame[determinant].to_numpy(dtype=object).copy()
        for must_fit, members in rows_of.items():
            if not members:
                continue
            candidates = usable
            if must_fit is not None:
                fitting = usable & np.array([found == must_fit for found in seen_labels])
                candidates = fitting if fitting.any() else usable
            index = NearestNeighbors(n_neighbors=1).fit(grid_matrix[candidates] / spread)
            nearest = index.kneighbors(rows[members] / spread, return_distance=False)[:, 0]
            snapped[members] = np.asarray(seen, dtype=object)[candidates][nearest]
        return snapped

    def get_state(self) -> dict[str, Any]:
        """Every transformer's state by column name, and the dependencies' value maps."""
        return {
            "columns": {t.column.name: t.get_state() for t in self.transformers_},
            "dependencies": {n: d.pairs for n, d in self.dependencies_.items()},
            "stored": self.stored_,
            "relations": {
                name: relation.to_dict() | {"original": self.originals_[name].get_state()}
                for name, relation in self.relations_.items()
            },
        }

    @classmethod
    def from_state(cls, schema: Schema, state: dict[str, Any]) -> TableTransformer:
        """Rebuild a fitted table transformer from :meth:`get_state` output."""
        table = cls(schema)
        try:
            relations = state.get("relations", {})
            table.relations_ = {
                name: Relation.from_dict(name, data) for name, data in relations.items()
            }
            table.originals_ = {
                name: transformer_class(schema[name].kind).from_state(
                    schema[name], data["original"]
                )
                for name, data in relations.items()
            }
            learned_as = {
                c.name: table.relations_[c.name].encoded if c.name in table.relations_ else c
                for c in learned(schema.modeled)
            }
            table.transformers_ = [
                transformer_class(learned_as[c.name].kind).from_state(
                    learned_as[c.name], state["columns"][c.name]
                )
                for c in learned(schema.modeled)
            ]
            table.dependencies_ = {
                name: Dependency(pairs) for name, pairs in state["dependencies"].items()
            }
            # Models saved before computed numbers kept their stored values have none.
            table.stored_ = {
                name: {
                    "values": [float(v) for v in form["values"]],
                    "tolerance": None if form["tolerance"] is None else float(form["tolerance"]),
                }
                for name, form in state.get("stored", {}).items()
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelFileError(f"the transformer state does not match the schema: {exc}") from exc
        return table


def _source_numbers(source: ColumnTransformer, values: pd.Series) -> np.ndarray:
    """The numbers a computed column is computed from: a 0/1 factor of a product is read as
    the number it holds."""
    if isinstance(source, ContinuousTransformer):
        return source.to_numbers(values)
    return dtypes.to_float(values)
