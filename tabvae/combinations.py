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
its few rows show it with few levels of anything, by chance. Which pairs: those whose such cells
would hold at least ``STRUCTURAL_ZERO_SHARE`` of the rows more than chance leaves empty, and
clearly more. The rule works on heads, so it also covers a number's point mass (no garage: the
area is 0) and any categorical head.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tabvae.errors import ModelFileError
from tabvae.heads import HeadSpec

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
    """

    def __init__(self, seen: dict[str, list[tuple[str, np.ndarray]]] | None = None) -> None:
        self.seen = seen or {}
        # The same rules read the other way, for a head whose later head is already known
        # (imputing a row that has it). A last row allows everything: a later level of -1
        # (not known) picks it.
        self._seen_later: dict[str, list[tuple[str, np.ndarray]]] = {}
        for head, pairs in self.seen.items():
            for name, allowed in pairs:
                either_way = np.vstack([allowed.T, np.ones(allowed.shape[0], dtype=bool)])
                self._seen_later.setdefault(name, []).append((head, either_way))
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
        for position, head in enumerate(drawn):
            found = []
            for earlier in drawn[:position]:
                rule = _structural_zeros(
                    levels[earlier.name], levels[head.name], earlier.width, head.width
                )
                if rule is not None:
                    found.append((rule[0], earlier.name, rule[1]))
            found.sort(key=lambda rule: -rule[0])
            if found:
                seen[head.name] = [(name, allowed) for _, name, allowed in found[:MAX_GIVEN]]
        return cls(seen)

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
        allowed gives exactly the draw among the allowed levels, and touches few rows. Rows
        where nothing would be allowed keep their draw.
        """
        later = known_later or {}
        pairs = [
            (name, allowed, levels[name])
            for name, allowed in self.seen.get(head, [])
            if name in levels
        ]
        pairs += [
            (name, allowed, later[name])
            for name, allowed in self._seen_later.get(head, [])
            if name in later
        ]
        if not pairs:
            return picked
        width = logits.shape[1]
        if width <= _MAX_BITS:
            combined = np.full(len(picked), _all_bits(width), dtype=np.uint64)
            for name, _, level in pairs:
                combined &= self._bits[(head, name)][level]
            combined[combined == 0] = _all_bits(width)
            again = ((combined >> picked.astype(np.uint64)) & np.uint64(1)) == 0
            if not again.any():
                return picked
            shifts = np.arange(width, dtype=np.uint64)
            possible = ((combined[again, None] >> shifts) & np.uint64(1)).astype(bool)
        else:
            possible = np.ones(logits.shape, dtype=bool)
            for _, allowed, level in pairs:
                possible &= allowed[level]
            possible[~possible.any(axis=1)] = True
            again = ~possible[np.arange(len(picked)), picked]
            if not again.any():
                return picked
            possible = possible[again]
        picked = picked.copy()
        picked[again] = redraw(np.where(possible, logits[again], np.float32(-1e9)))
        return picked

    def to_dict(self) -> dict[str, Any]:
        """JSON form: per head, each earlier head and the allowed levels per level."""
        return {
            head: [
                {"given": name, "levels": [np.flatnonzero(row).tolist() for row in allowed]}
                for name, allowed in pairs
            ]
            for head, pairs in self.seen.items()
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], heads: Sequence[HeadSpec]) -> SeenCombinations:
        """Rebuild from :meth:`to_dict` output and the model's heads (for the widths)."""
        width = {h.name: h.width for h in heads}
        seen: dict[str, list[tuple[str, np.ndarray]]] = {}
        try:
            for head, pairs in data.items():
                for pair in pairs:
                    allowed = np.zeros((width[pair["given"]], width[head]), dtype=bool)
                    for level, columns in enumerate(pair["levels"]):
                        allowed[level, columns] = True
                    seen.setdefault(head, []).append((pair["given"], allowed))
        except (KeyError, TypeError, IndexError) as exc:
            raise ModelFileError(f"the seen combinations are not valid: {exc}") from exc
        return cls(seen)


_MAX_BITS = 64


def _level_bits(allowed: np.ndarray) -> np.ndarray:
    """Each row of ``allowed`` as the bits of one unsigned integer."""
    weights = np.left_shift(np.uint64(1), np.arange(allowed.shape[1], dtype=np.uint64))
    return (allowed.astype(np.uint64) * weights).sum(axis=1, dtype=np.uint64)


def _all_bits(width: int) -> np.uint64:
    return np.uint64((1 << width) - 1)


def _structural_zeros(
    first: np.ndarray, second: np.ndarray, first_width: int, second_width: int
) -> tuple[float, np.ndarray] | None:
    """The share of rows the cells of two level columns that should hold rows but hold none
    would hold beyond chance, and the allowed cells; None when the pair has no such rule."""
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
    return excess, ~never
