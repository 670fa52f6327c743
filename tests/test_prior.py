"""The latent prior's draws: the mixture exactly, spread evenly, repeatable by seed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tabvae.prior import LatentPrior


@pytest.fixture(scope="module")
def mixture() -> LatentPrior:
    rng = np.random.default_rng(0)
    factors = rng.normal(size=(3, 5, 5))
    covariances = factors @ factors.transpose(0, 2, 1) / 5 + 0.1 * np.eye(5)
    return LatentPrior(np.array([0.6, 0.3, 0.1]), 4 * rng.normal(size=(3, 5)), covariances)


@pytest.mark.parametrize("n", [1, 2, 7, 999, 20_000])
def test_draws_have_the_asked_shape_and_are_finite(mixture, n):
    codes = mixture.sample(n, np.random.default_rng(n))
    assert codes.shape == (n, 5)
    assert codes.dtype == np.float32
    assert np.isfinite(codes).all()


def test_draws_follow_the_mixture(mixture):
    codes = mixture.sample(300_000, np.random.default_rng(1)).astype(np.float64)
    mean = mixture.weights @ mixture.means
    spread = sum(
        w * (c + np.outer(m - mean, m - mean))
        for w, m, c in zip(mixture.weights, mixture.means, mixture.covariances, strict=True)
    )
    np.testing.assert_allclose(codes.mean(axis=0), mean, atol=0.02)
    np.testing.assert_allclose(np.cov(codes.T), spread, atol=0.05)
    # One draw at a time (a new seed each) is a draw from the mixture too.
    singles = np.concatenate([mixture.sample(1, np.random.default_rng(s)) for s in range(4000)])
    np.testing.assert_allclose(singles.mean(axis=0), mean, atol=0.25)


def test_draws_spread_more_evenly_than_independent_ones():
    standard = LatentPrior.standard(4)
    for seed in range(3):
        codes = standard.sample(2000, np.random.default_rng(seed))
        for column in codes.T:
            # Independent normals give a KS distance near 0.02 at this size; these stay far below.
            assert stats.kstest(column, "norm").statistic < 0.01


def test_components_are_dealt_in_proportion(mixture):
    codes = mixture.sample(1000, np.random.default_rng(5)).astype(np.float64)
    nearest = np.argmin(((codes[:, None, :] - mixture.means[None]) ** 2).sum(axis=2), axis=1)
    counts = np.bincount(nearest, minlength=3) / 1000
    np.testing.assert_allclose(counts, mixture.weights, atol=0.03)


def test_the_same_seed_gives_the_same_draws(mixture):
    first = mixture.sample(500, np.random.default_rng(9))
    np.testing.assert_array_equal(first, mixture.sample(500, np.random.default_rng(9)))
    assert not np.array_equal(first, mixture.sample(500, np.random.default_rng(10)))
