"""The batched head losses score every head exactly as it would be scored on its own."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tabvae.heads import CATEGORICAL_SCALE_CAP, HeadLayout, HeadSpec


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
