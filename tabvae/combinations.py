"""Combinations of categories the training rows never hold, kept out of the synthetic rows.

The decoder gives each categorical head its own probabilities, and the heads are drawn apart
from one another given the latent code. Two categories that go closely together (a building
class "one story, 1946 and newer" and a house style "one story") then meet now and then in a
combination no training row holds: a giveaway for anyone who knows the data, and a large share
of what tells synthetic rows from real ones on wide tables.

Where such combinations would be common, :class:`SeenCombinations` draws the later of two
heads only among the levels the training rows show together with the level drawn for the
earlier one. Which combinations: only those the two heads' frequencies would give at least
``MIN_EXPECTED_ROWS`` training rows, and none hold. A rare level's empty cells are left open:
its few rows show it with few levels of anything, by chance. A row drawn again goes only to
cells the frequencies expect rows in (and that hold them), not to such open cells: spreading
the forbidden level's probability over them as well would multiply a rare level's frequency.
Which pairs: those whose such cells would hold at least ``STRUCTURAL_ZERO_SHARE`` of the rows
more than chance leaves empty, and clearly more. The rule works on heads, so it also covers a
number's point mass (no garage: the area is 0) and any categorical head.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tabvae.errors import ModelFileError
from tabvae.heads import HeadSpec
from tabvae.schema import MIN_ROWS_PER_DETERMINANT_VALUE, is_function

#: Share of the rows that the empty cells of two heads would hold if the heads were drawn
#: apart, beyond what chance leaves empty, for the pair to be drawn together.
STRUCTURAL_ZERO_SHARE = 0.01
#: ... and by this many standard deviations of what chance leaves empty (small samples with
#: many rare levels leave a share of rows' worth of cells empty that varies a lot).
_CHANCE_SPREADS = 3.0
#: Rows the two heads' frequencies must give a cell before its being empty is a rule: a cell
#: expected to hold 3 rows is empty by chance 5 % of the time. Forbidding every empty cell
#: instead kept rare levels (4 houses with four full baths) out of the synthetic rows. Measured
#: on ames, the same three fits (two samples each; one for the middle figures) without the rule
#: / forbidding every empty cell / this: detection 0.835 / 0.817 / 0.802, SDMetrics pair trends
#: 0.870 / 0.819 / 0.874 (its per-table bins shift when a sample lacks a column's rarest top
#: value), DCR share 0.507 / 0.522 / 0.523.
MIN_EXPECTED_ROWS = 3.0
#: Earlier heads a head is kept to, those with the most rows in never-seen cells first. Each
#: rule moves some rows off the levels it forbids; many rules at once push a head toward the
#: few levels every one of them allows (hotel bookings' agent, held to eight columns, drifted
#: in its own frequencies). Measured, the same fits (two seeds) with every rule / 1 / 2: ames
#: detection 0.825, 0.775 / 0.819, 0.795 / 0.820, 0.787 and DCR share 0.541, 0.516 / 0.527,
#: 0.515 / 0.525, 0.504; hotel_rates SDMetrics pair trends 0.849, 0.851 / 0.857, 0.858 / 0.857,
#: 0.858 (0.859 without the rule) and detection 0.773, 0.782 / 0.767, 0.763 / 0.769, 0.761.
MAX_GIVEN = 2


class SeenCombinations:
    """Which levels of a head the training rows show with each level of an earlier head.

    Parameters
    ----------
    seen : dict
        ``{head: [(earlier head, allowed), ...]}`` where ``allowed[i, j]`` says whether level
        ``j`` of the head was seen with level ``i`` of the earlier head.
    supported : dict, optional
        ``{(head, earlier head): supported}``, the allowed cells that the two heads'
        frequencies expect rows in: a row drawn again is drawn among these where it can be.
        A rule without an entry draws again among all its allowed cells.
    """

    def __init__(
        self,
        seen: dict[str, list[tuple[str, np.ndarray]]] | None = None,
        supported: dict[tuple[str, str], np.ndarray] | None = None,
    ) -> None:
        self.seen = seen or {}
        self.supported = {
            (head, name): supported.get((head, name), allowed) if supported else allowed
            for head, pairs in self.seen.items()
            for name, allowed in pairs
        }
        # The same rules read the other way, for a head whose later head is already known
        # (imputing a row that has it). A last row allows everything: a later level of -1
        # (not known) picks it.
        self._seen_later: dict[str, list[tuple[str, np.ndarray]]] = {}
        self._supported_later: dict[tuple[str, str], np.ndarray] = {}
        for head, pairs in self.seen.items():
            for name, allowed in pairs:
                either_way = np.vstack([allowed.T, np.ones(allowed.shape[0], dtype=bool)])
                self._seen_later.setdefault(name, []).append((head, either_way))
                supported_here = self.supported[(head, name)]
                self._supported_later[(name, head)] = np.vstack(
                    [supported_here.T, np.ones(allowed.shape[0], dtype=bool)]
                )
        # Sampling many rows with many pairs spends its time combining the allowed levels;
        # as bits of one integer per row that is one operation per pair.
        self._bits = {
            (head, name): _level_bits(allowed)
            for rules in (self.seen, self._seen_later)
            for head, pairs in rules.items()
            for name, allowed in pairs
            if allowed.shape[1] <= _MAX_BITS
        }

    @classmethod
    def fit(cls, heads: Sequence[HeadSpec], blocks: dict[str, np.ndarray]) -> SeenCombinations:
        """Find the pairs of categorical heads with structural zeros in the training blocks."""
        drawn = [h for h in heads if h.loss == "categorical" and h.width > 1]
        levels = {h.name: np.asarray(blocks[h.name]).argmax(axis=1) for h in drawn}
        seen: dict[str, list[tuple[str, np.ndarray]]] = {}
        supported: dict[tuple[str, str], np.ndarray] = {}
        # A head that is a function of an earlier one (a code's label) says nothing more
        # about the rows, and it is drawn on its own where its cells are too small for a rule
        # of its own: held to it as well, a later head was held to two levels that did not go
        # together, where only a rare level's open cells were left (stevedata/PPGE, 20
        # countries and their codes: a level of 4 rows in 3.6 % of the synthetic rows).
        functions = {
            head.name
            for position, head in enumerate(drawn)
            if any(_is_function(levels[e.name], levels[head.name]) for e in drawn[:position])
        }
        for position, head in enumerate(drawn):
            found = []
            for earlier in drawn[:position]:
                if earlier.name in functions:
                    continue
                rule = _structural_zeros(
                    levels[earlier.name], levels[head.name], earlier.width, head.width
                )
                if rule is not None:
                    found.append((rule[0], earlier.name, rule[1], rule[2]))
            found.sort(key=lambda rule: -rule[0])
            if found:
                kept = found[:MAX_GIVEN]
                seen[head.name] = [(name, allowed) for _, name, allowed, _ in kept]
                supported |= {(head.name, name): cells for _, name, _, cells in kept}
        return cls(seen, supported)

    def keep_seen(
        self,
        head: str,
        logits: np.ndarray,
        picked: np.ndarray,
        levels: dict[str, np.ndarray],
        redraw: Callable[[np.ndarray], np.ndarray],
        known_later: dict[str, np.ndarray] | None = None,
    ) -> np.ndarray:
        """The levels ``picked`` for ``head`` (an index per row), with each row whose level
        was never seen with the row's levels of earlier heads (``levels``) drawn again by
        ``redraw`` from its ``logits`` among the seen levels only.

        ``known_later`` holds levels of later heads that rows already have (imputation),
        -1 where a row's level is not known. Drawing again only where the first draw is not
        allowed touches few rows. A row drawn again is drawn among the supported levels where
        any is allowed (a rare level keeps the probability its first draw gave it), among the
        allowed ones otherwise. Rows where nothing would be allowed keep their draw.
        """
        later = known_later or {}
        pairs = [
            (name, allowed, levels[name], self.supported[(head, name)])
            for name, allowed in self.seen.get(head, [])
            if name in levels
        ]
        pairs += [
            (name, allowed, later[name], self._supported_later[(head, name)])
            for name, allowed in self._seen_later.get(head, [])
            if name in later
        ]
        if not pairs:
            return picked
        width = logits.shape[1]
        if width <= _MAX_BITS:
            combined = np.full(len(picked), _all_bits(width), dtype=np.uint64)
            for name, _, level, _ in pairs:
                combined &= self._bits[(head, name)][level]
            combined[combined == 0] = _all_bits(width)
            again = ((combined >> picked.astype(np.uint64)) & np.uint64(1)) == 0
            if not again.any():
                return picked
            shifts = np.arange(width, dtype=np.uint64)
            possible = ((combined[again, None] >> shifts) & np.uint64(1)).astype(bool)
        else:
            possible = np.ones(logits.shape, dtype=bool)
            for _, allowed, level, _ in pairs:
                possible &= allowed[level]
            possible[~possible.any(axis=1)] = True
            again = ~possible[np.arange(len(picked)), picked]
            if not again.any():
                return picked
            possible = possible[again]
        preferred = possible.copy()
        for _, _, level, supported in pairs:
            preferred &= supported[level[again]]
        backed = preferred.any(axis=1)
        possible[backed] = preferred[backed]
        picked = picked.copy()
        picked[again] = redraw(np.where(possible, logits[again], np.float32(-1e9)))
        return picked

    def to_dict(self) -> dict[str, Any]:
        """JSON form: per head, each earlier head and the allowed and supported levels per
        level."""
        return {
            head: [
                {
                    "given": name,
                    "levels": [np.flatnonzero(row).tolist() for row in allowed],
                    "supported": [
                        np.flatnonzero(row).tolist() for row in self.supported[(head, name)]
                    ],
                }
                for name, allowed in pairs
            ]
            for head, pairs in self.seen.items()
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], heads: Sequence[HeadSpec]) -> SeenCombinations:
        """Rebuild from :meth:`to_dict` output and the model's heads (for the widths)."""
        width = {h.name: h.width for h in heads}
        seen: dict[str, list[tuple[str, np.ndarray]]] = {}
        supported: dict[tuple[str, str], np.ndarray] = {}
        try:
            for head, pairs in data.items():
                for pair in pairs:
                    shape = (width[pair["given"]], width[head])
                    allowed = _cells(shape, pair["levels"])
                    seen.setdefault(head, []).append((pair["given"], allowed))
                    # Files written before the supported cells draw again among all allowed.
                    if "supported" in pair:
                        supported[(head, pair["given"])] = _cells(shape, pair["supported"])
        except (KeyError, TypeError, IndexError, ValueError) as exc:
            raise ModelFileError(f"the seen combinations are not valid: {exc}") from exc
        return cls(seen, supported)


def _cells(shape: tuple[int, int], levels: list[list[int]]) -> np.ndarray:
    """A boolean matrix with, in row ``i``, the columns ``levels[i]`` set."""
    cells = np.zeros(shape, dtype=bool)
    for level, columns in enumerate(levels):
        cells[level, columns] = True
    return cells


_MAX_BITS = 64


def _level_bits(allowed: np.ndarray) -> np.ndarray:
    """Each row of ``allowed`` as the bits of one unsigned integer."""
    weights = np.left_shift(np.uint64(1), np.arange(allowed.shape[1], dtype=np.uint64))
    return (allowed.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)


def _all_bits(width: int) -> np.uint64:
    return np.uint64((1 << width) - 1)


def _is_function(first: np.ndarray, second: np.ndarray) -> bool:
    """Whether ``second`` is a function of ``first``, ``first`` having rows enough per level
    for that not to be chance (as a ``determined_by`` rule)."""
    if not is_function(first, second):
        return False
    return np.count_nonzero(np.bincount(first)) * MIN_ROWS_PER_DETERMINANT_VALUE <= len(first)


def _structural_zeros(
    first: np.ndarray, second: np.ndarray, first_width: int, second_width: int
) -> tuple[float, np.ndarray, np.ndarray] | None:
    """The share of rows the cells of two level columns that should hold rows but hold none
    would hold beyond chance, the allowed cells, and the supported ones (expected to hold
    rows, and holding them); None when the pair has no such rule."""
    n = len(first)
    if n == 0:
        return None
    counts = np.bincount(first * second_width + second, minlength=first_width * second_width)
    counts = counts.reshape(first_width, second_width)
    expected = (
        np.outer(
            np.bincount(first, minlength=first_width), np.bincount(second, minlength=second_width)
        )
        / float(n) ** 2
    )
    considered = n * expected >= MIN_EXPECTED_ROWS
    never = considered & (counts == 0)
    # A cell expected to hold m rows stays empty by chance with probability about exp(-m):
    # the share of rows chance alone leaves in such cells, and how much that share varies.
    chance = np.where(considered, np.exp(-n * expected), 0.0)
    by_chance = float((expected * chance).sum())
    spread = float(np.sqrt((expected**2 * chance * (1.0 - chance)).sum()))
    excess = float(expected[never].sum()) - by_chance
    if excess < max(STRUCTURAL_ZERO_SHARE, _CHANCE_SPREADS * spread):
        return None
    return excess, ~never, considered & ~never
