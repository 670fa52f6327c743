from __future__ import annotations

import numpy as np
import pandas as pd
from conftest import make_houses

from tabvae import TabularVAE
from tabvae.combinations import SeenCombinations
from tabvae.heads import CategoricalLoss, HeadSpec

STYLES = {
    "one_story_new": ["one_story"],
    "one_story_old": ["one_story", "one_and_half"],
    "two_story": ["two_story", "one_and_half"],
    "split": ["split_level"],
}


def make_buildings(n_rows: int, seed: int) -> pd.DataFrame:
    """A building class and a house style that go together, neither a function of the other."""
    rng = np.random.default_rng(seed)
    building = rng.choice(list(STYLES), n_rows, p=[0.4, 0.2, 0.3, 0.1])
    style = [rng.choice(STYLES[b]) for b in building]
    frame = make_houses(n_rows, seed)
    return frame.assign(building=building, style=style)


def test_synthetic_rows_keep_to_combinations_the_training_rows_hold(tmp_path):
    frame = make_buildings(800, seed=0)
    model = TabularVAE(epochs=5, batch_size=64, hidden=(32,), latent_dim=4, random_state=0)
    model.fit(frame)
    assert model.schema_["style"].determined_by is None
    assert "style" in model.combinations_.seen
    seen = set(zip(frame["building"], frame["style"], strict=True))
    synthetic = model.sample(3000, seed=0)
    assert set(zip(synthetic["building"], synthetic["style"], strict=True)) <= seen
    # Every seen combination can still come out, about as often as in training.
    counts = synthetic.groupby(["building", "style"]).size() / len(synthetic)
    assert set(counts.index) == seen
    loaded = TabularVAE.load(model.save(tmp_path / "model"))
    pd.testing.assert_frame_equal(loaded.sample(500, seed=1), model.sample(500, seed=1))


def test_cells_left_empty_by_chance_are_not_rules():
    # Two independent columns with many rare levels leave many cells empty.
    rng = np.random.default_rng(0)
    weights = 1.0 / np.arange(1, 31)
    first, second = (rng.choice(30, 2000, p=weights / weights.sum()) for _ in range(2))
    heads = [HeadSpec("a", 30, "categorical"), HeadSpec("b", 30, "categorical")]
    blocks = {"a": np.eye(30)[first], "b": np.eye(30)[second]}
    assert SeenCombinations.fit(heads, blocks).seen == {}
    # A rule among the frequent levels is found: level 0 of b never comes with level 0 of a.
    second = np.where((first == 0) & (second == 0), 1, second)
    blocks["b"] = np.eye(30)[second]
    ((given, allowed),) = SeenCombinations.fit(heads, blocks).seen["b"]
    assert given == "a" and not allowed[0, 0] and allowed[1:, 0].any()


def test_a_rare_level_may_come_with_any_level():
    # Level 3 of b has 4 rows, all with level 0 of a: chance, not a rule, since a's other
    # levels would give it well under 3 rows each.
    rng = np.random.default_rng(1)
    first = rng.choice(4, 1000, p=[0.4, 0.3, 0.2, 0.1])
    second = np.where(first == 0, 0, 1)  # a rule: level 0 of a comes with level 0 of b only
    second[np.flatnonzero(first == 0)[:4]] = 3
    heads = [HeadSpec("a", 4, "categorical"), HeadSpec("b", 4, "categorical")]
    blocks = {"a": np.eye(4)[first], "b": np.eye(4)[second]}
    ((_, allowed),) = SeenCombinations.fit(heads, blocks).seen["b"]
    assert not allowed[1:, 0].any() and not allowed[0, 1]
    assert allowed[:, 3].all()


def test_a_row_drawn_again_does_not_inflate_a_rare_level():
    # b follows a (level 0 of a with level 0 of b, the others with 1); level 3 of b has 4
    # rows and level 2 none, so neither is forbidden anywhere. A row whose first draw is
    # forbidden is drawn again among the levels seen often enough, not spread over those two.
    rng = np.random.default_rng(1)
    first = rng.choice(4, 1000, p=[0.4, 0.3, 0.2, 0.1])
    second = np.where(first == 0, 0, 1)
    second[np.flatnonzero(first == 0)[:4]] = 3
    heads = [HeadSpec("a", 4, "categorical"), HeadSpec("b", 4, "categorical")]
    combos = SeenCombinations.fit(heads, {"a": np.eye(4)[first], "b": np.eye(4)[second]})
    n_rows = 3000
    levels = {"a": np.full(n_rows, 1)}
    # The decoder favours level 0, which a's level 1 never comes with.
    logits = np.tile(np.array([[3.0, 0.0, 0.0, 0.0]], np.float32), (n_rows, 1))
    draw = CategoricalLoss().draw_levels
    picked = draw(logits, rng)
    kept = combos.keep_seen("b", logits, picked, levels, lambda lg: draw(lg, rng))
    again = picked == 0
    assert again.any() and (kept[again] == 1).all()
    # Rows whose first draw was allowed keep it: the rare level comes out as often as drawn.
    assert np.array_equal(kept[~again], picked[~again])
    # A model file written before the supported cells draws again among all allowed ones.
    old_form = combos.to_dict()
    for pair in old_form["b"]:
        del pair["supported"]
    old = SeenCombinations.from_dict(old_form, heads)
    kept_old = old.keep_seen("b", logits, picked, levels, lambda lg: draw(lg, rng))
    assert set(np.unique(kept_old[again])) == {1, 2, 3}
    assert SeenCombinations.from_dict(combos.to_dict(), heads).to_dict() == combos.to_dict()


def test_a_label_of_an_earlier_code_does_not_hold_later_heads():
    # 20 countries of 50 rows, their codes (a function of the country, cells too small for a
    # rule of their own, so drawn apart from it) and a level set by the country, 4 rows rare.
    rng = np.random.default_rng(2)
    country = np.repeat(np.arange(20), 50)
    code = (country * 7) % 20
    level = country % 3
    level[:4] = 3
    heads = [HeadSpec(n, w, "categorical") for n, w in (("country", 20), ("code", 20), ("c", 4))]
    blocks = {"country": np.eye(20)[country], "code": np.eye(20)[code], "c": np.eye(4)[level]}
    combos = SeenCombinations.fit(heads, blocks)
    assert [given for given, _ in combos.seen["c"]] == ["country"]
    n_rows = 4000
    levels = {"country": rng.integers(0, 20, n_rows), "code": rng.integers(0, 20, n_rows)}
    logits = np.tile(np.array([[2.0, 2.0, 2.0, -3.0]], np.float32), (n_rows, 1))
    draw = CategoricalLoss().draw_levels
    kept = combos.keep_seen("c", logits, draw(logits, rng), levels, lambda lg: draw(lg, rng))
    assert (kept == levels["country"] % 3).mean() > 0.99
    assert (kept == 3).mean() < 0.01


def test_a_row_whose_earlier_levels_allow_nothing_is_left_as_drawn():
    allowed_by_a = np.array([[True, False], [False, True]])
    allowed_by_b = np.array([[False, True], [True, False]])
    combos = SeenCombinations({"c": [("a", allowed_by_a), ("b", allowed_by_b)]})
    levels = {"a": np.array([0, 0]), "b": np.array([1, 0])}
    kept = combos.keep_seen("c", np.zeros((2, 2), np.float32), np.array([1, 1]), levels, _mode)
    assert kept[0] == 0  # a and b both allow level 0 only: drawn again
    assert kept[1] == 1  # a allows 0, b allows 1: nothing is left


def _mode(logits: np.ndarray) -> np.ndarray:
    return logits.argmax(axis=1)


def test_narrow_and_wide_heads_are_restricted_alike():
    # Heads up to 64 levels combine the allowed levels as bits; wider ones as booleans.
    rng = np.random.default_rng(0)
    for width in (5, 64, 70):
        seen = {"c": [(g, rng.random((4, width)) < 0.5) for g in ("a", "b")]}
        levels = {"a": rng.integers(0, 4, 300), "b": rng.integers(0, 4, 300)}
        logits = rng.normal(size=(300, width)).astype(np.float32)
        drawn = rng.integers(0, width, 300)
        picked = SeenCombinations(seen).keep_seen("c", logits, drawn, levels, _mode)
        possible = seen["c"][0][1][levels["a"]] & seen["c"][1][1][levels["b"]]
        nothing = ~possible.any(axis=1)
        possible[nothing] = True
        assert possible[np.arange(300), picked].all(), width
        # Rows drawn among allowed levels keep their draw; the others take the best allowed.
        first_ok = possible[np.arange(300), drawn]
        assert np.array_equal(picked[first_ok], drawn[first_ok])
        best = np.where(possible, logits, -np.inf).argmax(axis=1)
        assert np.array_equal(picked[~first_ok], best[~first_ok])


def test_imputed_cells_keep_to_combinations_seen_with_the_known_cells():
    frame = make_buildings(800, seed=0)
    model = TabularVAE(epochs=5, batch_size=64, hidden=(32,), latent_dim=4, random_state=0)
    model.fit(frame)
    seen = set(zip(frame["building"], frame["style"], strict=True))
    holes = make_buildings(400, seed=1)[frame.columns]
    # Known building, missing style, in the first half; the other way round in the second.
    holes.loc[:199, "style"] = None
    holes.loc[200:, "building"] = None
    filled = model.impute(holes, seed=0)
    assert set(zip(filled["building"], filled["style"], strict=True)) <= seen
    known = holes.loc[:199, "building"].to_numpy()
    assert (filled.loc[:199, "building"].to_numpy() == known).all()
