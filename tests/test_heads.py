"""The batched head losses score every head exactly as it would be scored on its own."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tabvae.heads import (
    CATEGORICAL_SCALE_CAP,
    MARGINAL_BALANCE_CAP,
    HeadLayout,
    HeadSpec,
    balanced_to_marginals,
)


def _reference_loss(head: HeadSpec, y: np.ndarray, params: np.ndarray) -> np.ndarray:
    """One head's per-row loss, written out plainly."""
    if head.loss == "gaussian":
        mean, log_sigma = params[:, : head.width], np.clip(params[:, head.width :], -5.0, 2.0)
        z = (y - mean) * np.exp(-log_sigma)
        return (0.5 * z**2 + log_sigma).mean(axis=1) + 0.5
    if head.loss == "mse":
        return ((y - params) ** 2).mean(axis=1)
    if head.loss == "binary":
        cross_entropy = np.logaddexp(0.0, params) - y * params
        return cross_entropy.mean(axis=1) / math.log(2.0)
    shifted = params - params.max(axis=1, keepdims=True)
    log_softmax = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    cross_entropy = -(y * log_softmax).sum(axis=1)
    divisor = min(math.log(head.width), CATEGORICAL_SCALE_CAP) if head.width > 1 else math.inf
    return cross_entropy / divisor


HEADS = [
    HeadSpec("income", 1, "gaussian", 2.0, mask="income::missing"),
    HeadSpec("income::missing", 1, "binary"),
    HeadSpec("city", 4, "categorical", 0.5),
    HeadSpec("plan", 2, "categorical"),
    HeadSpec("country", 40, "categorical"),
    HeadSpec("single", 1, "categorical"),
    HeadSpec("pair", 2, "gaussian"),
    HeadSpec("flags", 3, "binary"),
    HeadSpec("score", 1, "mse"),
]


def _targets(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    blocks = {}
    for head in HEADS:
        if head.loss == "categorical":
            blocks[head.name] = np.eye(head.width)[rng.integers(0, head.width, n)]
        elif head.loss == "binary":
            blocks[head.name] = (rng.random((n, head.width)) < 0.4).astype(float)
        else:
            blocks[head.name] = rng.normal(size=(n, head.width))
    return blocks


def test_batched_loss_equals_the_sum_of_single_head_losses():
    rng = np.random.default_rng(0)
    layout = HeadLayout(HEADS)
    n = 64
    targets = _targets(rng, n)
    params = rng.normal(scale=2.0, size=(n, layout.param_width))
    joined = np.concatenate([targets[h.name] for h in HEADS], axis=1)
    got = np.asarray(layout.loss(joined.astype(np.float32), params.astype(np.float32)))

    expected = np.zeros(n)
    for head, block in zip(HEADS, layout.split(params).values(), strict=True):
        loss = _reference_loss(head, targets[head.name], block)
        if head.mask is not None:
            loss = loss * (1.0 - targets[head.mask][:, 0])
        expected += head.weight * loss
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_layout_split_gives_each_head_its_own_parameters():
    layout = HeadLayout(HEADS)
    params = np.arange(layout.param_width, dtype=float)[None, :]
    blocks = layout.split(params)
    assert [b.shape[1] for b in blocks.values()] == [2, 1, 4, 2, 40, 1, 4, 3, 1]
    assert np.concatenate(list(blocks.values()), axis=1).tolist() == params.tolist()


def test_unknown_mask_is_refused():
    from tabvae.errors import SchemaError

    with pytest.raises(SchemaError, match="masked by unknown head"):
        HeadLayout([HeadSpec("a", 1, "gaussian", mask="nope")])


def _weights_after_balancing(heads: list[HeadSpec], blocks: dict[str, np.ndarray]) -> dict:
    return {h.name: h.weight for h in balanced_to_marginals(heads, blocks)}


def test_a_lopsided_flag_weighs_so_that_its_marginal_scores_one():
    churn = np.zeros((100, 1))
    churn[:14] = 1.0
    weights = _weights_after_balancing([HeadSpec("churn", 1, "binary", 2.0)], {"churn": churn})
    entropy = -(0.14 * math.log(0.14) + 0.86 * math.log(0.86))
    assert weights["churn"] == pytest.approx(2.0 * math.log(2.0) / entropy)
    # The balanced weight makes guessing the marginal score the head's own weight.
    layout = HeadLayout([HeadSpec("churn", 1, "binary", weights["churn"])])
    marginal_logit = np.full((100, 1), math.log(0.14 / 0.86), dtype=np.float32)
    scores = np.asarray(layout.loss(churn.astype(np.float32), marginal_logit))
    assert scores.mean() == pytest.approx(weights["churn"] * entropy / math.log(2.0), rel=1e-4)
    assert scores.mean() == pytest.approx(2.0, rel=1e-4)


def test_balancing_never_lowers_and_caps_and_leaves_numbers_alone():
    rng = np.random.default_rng(0)
    wide = np.eye(40)[rng.integers(0, 40, 400)]  # near uniform: scores above 1, kept at 1
    rare = np.zeros((400, 3))
    rare[:, 0] = 1.0
    rare[:2] = [0.0, 1.0, 0.0]  # almost constant: would need far more than the cap
    constant = np.eye(3)[np.zeros(400, dtype=int)]
    heads = [
        HeadSpec("wide", 40, "categorical"),
        HeadSpec("rare", 3, "categorical"),
        HeadSpec("constant", 3, "categorical"),
        HeadSpec("income", 1, "gaussian"),
    ]
    blocks = {"wide": wide, "rare": rare, "constant": constant, "income": rng.normal(size=(400, 1))}
    weights = _weights_after_balancing(heads, blocks)
    assert weights == {"wide": 1.0, "rare": MARGINAL_BALANCE_CAP, "constant": 1.0, "income": 1.0}


def test_balancing_counts_only_the_rows_a_mask_keeps():
    # The flag is set in half of the rows it is known for, and missing in the rest: balanced.
    missing = np.zeros((200, 1))
    missing[100:] = 1.0
    flag = np.zeros((200, 1))
    flag[:50] = 1.0
    heads = [
        HeadSpec("flag", 1, "binary", mask="flag::missing"),
        HeadSpec("flag::missing", 1, "binary"),
    ]
    weights = _weights_after_balancing(heads, {"flag": flag, "flag::missing": missing})
    assert weights["flag"] == pytest.approx(1.0)
    assert weights["flag::missing"] == pytest.approx(1.0)
