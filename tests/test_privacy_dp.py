"""Differential privacy: the budget is met and checkable, clipping bounds every row's gradient,
and nothing but noisy statistics and the schema the user gave shapes a dp=True model."""

from __future__ import annotations

import json

import dp_accounting
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from click.testing import CliRunner
from conftest import make_mixed_frame

from tabvae import DataError, SchemaError, TabularVAE, infer_schema
from tabvae import differential_privacy as dp
from tabvae.cli import main
from tabvae.dp_training import DPVAE, clip_factors, clipped_sum, poisson_rows
from tabvae.heads import HeadSpec
from tabvae.model import condition_key, input_key

SMALL = {"epochs": 2, "batch_size": 64, "hidden": (16,), "latent_dim": 4}


@pytest.fixture(scope="module")
def public_schema():
    # The schema comes from other ("public") rows of the same form, never from the rows fitted.
    return infer_schema(make_mixed_frame(seed=1))


@pytest.fixture(scope="module")
def private_model(mixed_frame, public_schema):
    model = TabularVAE(**SMALL, dp=True, epsilon=2.0, random_state=0)
    return model.fit(mixed_frame, schema=public_schema)


# --- accounting ---------------------------------------------------------------------------
@pytest.mark.parametrize("statistics", [True, False])
def test_calibrated_noise_spends_the_budget_and_no_more(statistics):
    plan = dp.plan_privacy(1.0, 1e-3, q=0.1, steps=60, statistics=statistics)
    assert 0.97 <= plan.epsilon() <= 1.0
    # Bisection finds the smallest such noise: a little less overshoots the target.
    less = dp.dp_event(0.99 * plan.noise_multiplier, 0.1, 60, plan.statistics_noise_multiplier)
    assert dp.rdp_epsilon(less, 1e-3) > 1.0
    assert (plan.statistics_noise_multiplier is not None) is statistics


def test_more_steps_or_a_smaller_budget_need_more_noise():
    base = dp.plan_privacy(1.0, 1e-4, q=0.05, steps=100).noise_multiplier
    assert dp.plan_privacy(1.0, 1e-4, q=0.05, steps=400).noise_multiplier > base
    assert dp.plan_privacy(0.5, 1e-4, q=0.05, steps=100).noise_multiplier > base


def test_bad_budgets_are_refused():
    with pytest.raises(DataError, match="epsilon"):
        dp.plan_privacy(0.0, 1e-4, q=0.1, steps=10)
    with pytest.raises(DataError, match="delta"):
        dp.plan_privacy(1.0, 1.5, q=0.1, steps=10)


def test_stored_epsilon_agrees_with_an_independent_pld_accountant(private_model, mixed_frame):
    report = private_model.dp_report_
    assert report["epsilon"] <= report["target_epsilon"]
    assert report["delta"] == pytest.approx(1 / len(mixed_frame))
    assert report["q"] == pytest.approx(64 / len(mixed_frame))
    assert report["steps"] == report["planned_steps"] == 2 * int(np.ceil(len(mixed_frame) / 64))
    # Rebuilt from the stored numbers only, with dp_accounting's own classes.
    step = dp_accounting.PoissonSampledDpEvent(
        report["q"], dp_accounting.GaussianDpEvent(report["noise_multiplier"])
    )
    event = dp_accounting.ComposedDpEvent(
        [
            dp_accounting.GaussianDpEvent(report["statistics_noise_multiplier"]),
            dp_accounting.SelfComposedDpEvent(step, report["steps"]),
        ]
    )
    accountant = dp_accounting.pld.PLDAccountant()
    accountant.compose(event)
    pld_epsilon = accountant.get_epsilon(report["delta"])
    # PLD accounting is tighter than RDP: never above it, and not far below.
    assert 0.6 * report["epsilon"] <= pld_epsilon <= report["epsilon"] + 1e-6


# --- clipping -----------------------------------------------------------------------------
def test_clip_factors_bound_every_example_and_leave_small_ones_alone():
    rng = np.random.default_rng(0)
    scales = np.array([0.01, 0.5, 3.0, 40.0, 1e4], dtype=np.float32)
    kernel = rng.normal(size=(5, 3, 4)).astype(np.float32) * scales[:, None, None]
    bias = rng.normal(size=(5, 4)).astype(np.float32) * scales[:, None]
    factors, norms = clip_factors([tf.constant(kernel), tf.constant(bias)], max_norm=1.0)
    factors = factors.numpy()
    flat = np.concatenate([kernel.reshape(5, -1), bias], axis=1)
    np.testing.assert_allclose(norms.numpy(), np.linalg.norm(flat, axis=1), rtol=1e-5)
    clipped = np.linalg.norm(flat * factors[:, None], axis=1)
    assert (clipped <= 1.0 + 1e-5).all()
    small = np.linalg.norm(flat, axis=1) <= 1.0
    np.testing.assert_allclose(factors[small], 1.0)
    np.testing.assert_allclose(clipped[~small], 1.0, rtol=1e-5)
    summed = clipped_sum([tf.constant(kernel), tf.constant(bias)], tf.constant(factors))
    np.testing.assert_allclose(
        summed[0].numpy(), np.einsum("i,ijk->jk", factors, kernel), rtol=1e-5
    )
    np.testing.assert_allclose(summed[1].numpy(), factors @ bias, rtol=1e-5)


def _tiny_batch(rng: np.random.Generator, rows: int, conditions: bool) -> dict[str, tf.Tensor]:
    data = {
        input_key(0): rng.normal(size=(rows, 1)),
        input_key(1): rng.random((rows, 1)) < 0.3,
        input_key(2): np.eye(3)[rng.integers(0, 3, rows)],
        input_key(3): rng.random((rows, 1)) < 0.5,
    }
    if conditions:
        data[condition_key(0)] = np.eye(2)[rng.integers(0, 2, rows)]
    return {k: tf.constant(np.asarray(v, dtype=np.float32)) for k, v in data.items()}


TINY_HEADS = [
    HeadSpec("a", 1, "gaussian", 1.0, "a::missing"),
    HeadSpec("a::missing", 1, "binary", 1.0),
    HeadSpec("c", 3, "categorical", 2.0),
    HeadSpec("b", 1, "binary", 1.0),
]


@pytest.mark.parametrize("tie_weights", [False, True])
@pytest.mark.parametrize("conditions", [False, True])
def test_ghost_clipping_matches_materialized_per_example_gradients(tie_weights, conditions):
    settings = {
        "latent_dim": 3,
        "hidden": (8, 5),
        "tie_weights": tie_weights,
        "seed": 1,
        "conditions": [HeadSpec("k", 2, "categorical", 1.0)] if conditions else None,
        "max_grad_norm": 0.5,
    }
    ghost = DPVAE(TINY_HEADS, method="ghost", **settings)
    vectorized = DPVAE(TINY_HEADS, method="vectorized", **settings)
    vectorized.set_weights(ghost.get_weights())
    rng = np.random.default_rng(1)
    data = _tiny_batch(rng, 9, conditions)
    noise = tf.constant(rng.normal(size=(9, 3)).astype(np.float32))
    ghost_sum, ghost_norms, _, _ = ghost.clipped_gradients(data, noise)
    vector_sum, vector_norms, _, _ = vectorized.clipped_gradients(data, noise)
    np.testing.assert_allclose(ghost_norms.numpy(), vector_norms.numpy(), rtol=1e-4)
    for a, b in zip(ghost_sum, vector_sum, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6)
    # Each row alone contributes a gradient of norm at most max_grad_norm.
    for row in range(9):
        one = {k: v[row : row + 1] for k, v in data.items()}
        gradient, _, _, _ = ghost.clipped_gradients(one, noise[row : row + 1])
        norm = np.sqrt(sum(float(tf.reduce_sum(g**2)) for g in gradient))
        assert norm <= 0.5 + 1e-5


def test_poisson_batches_include_each_row_with_probability_q():
    batches = poisson_rows(1000, 0.05, np.random.default_rng(0))
    drawn = [next(batches) for _ in range(400)]
    sizes = [len(rows) for rows in drawn]
    assert 45 <= np.mean(sizes) <= 55 and len(set(sizes)) > 5
    counts = np.bincount(np.concatenate(drawn), minlength=1000)
    assert 15 <= counts.mean() <= 25 and (counts > 0).mean() > 0.99


# --- what a private fit may read ----------------------------------------------------------
def test_private_fit_keeps_columns_and_dtypes(private_model, mixed_frame):
    synthetic = private_model.sample(300, seed=1)
    assert list(synthetic.columns) == list(mixed_frame.columns)
    assert synthetic.dtypes.to_dict() == mixed_frame.dtypes.to_dict()
    assert private_model.prior_.weights.shape == (1,)  # N(0, I), not a mixture of rows
    assert private_model.model_.method == "ghost"


def test_private_transformers_come_from_the_schema_and_noisy_counts(private_model, public_schema):
    by_name = {t.column.name: t for t in private_model.transformer_.transformers_}
    income = by_name["income"].quantiles.knots
    assert income[0] == public_schema["income"].min and income[-1] == public_schema["income"].max
    assert len(income) == dp.N_KNOTS
    # "legacy" never occurs in the rows; a private model cannot know that, so it keeps it.
    plan = by_name["plan"]
    assert len(plan.kept) == len(public_schema["plan"].categories) == 4
    assert private_model.transformer_.dependencies_ == {}


def test_a_computed_number_in_the_users_schema_is_kept_and_spends_no_histogram(mixed_frame):
    # The rule is the user's (public) schema, not read from the rows: income in thousands.
    frame = mixed_frame.assign(income_k=(mixed_frame["income"] / 1000).round(5))
    public = infer_schema(make_mixed_frame(seed=1).assign(income_k=0.0)).replace(
        "income_k",
        kind="numerical",
        min=0.0,
        max=1000.0,
        decimals=5,
        nullable=True,
        computed_from={"column": "income", "scale": 0.001},
    )
    model = TabularVAE(**SMALL, dp=True, epsilon=2.0, random_state=0).fit(frame, schema=public)
    assert "income_k" not in [t.column.name for t in model.transformer_.transformers_]
    synthetic = model.sample(200, seed=0)
    expected = (synthetic["income"] / 1000).round(5)
    assert np.allclose(synthetic["income_k"], expected, equal_nan=True, rtol=0, atol=1e-12)


def test_noise_free_histograms_give_the_true_counts(mixed_frame, public_schema):
    schema = dp.resolve_private_schema(public_schema, mixed_frame)
    table = dp.fit_private_table(schema, mixed_frame, 1e-9, np.random.default_rng(0))
    city = next(t for t in table.transformers_ if t.column.name == "city")
    counts = mixed_frame["city"].value_counts()
    assert city.kept_counts == [int(counts.get(c, 0)) for c in schema["city"].categories]
    score = next(t for t in table.transformers_ if t.column.name == "score")
    median = score.quantiles.inverse(np.array([0.0]))[0]
    assert abs(median - mixed_frame["score"].median()) < 0.2


def test_noise_free_knots_keep_point_masses(mixed_frame, public_schema):
    schema = dp.resolve_private_schema(public_schema, mixed_frame)
    table = dp.fit_private_table(schema, mixed_frame, 1e-9, np.random.default_rng(0))
    by_name = {t.column.name: t for t in table.transformers_}
    scores = np.random.default_rng(0).standard_normal(5000)
    # capital_gain is 80 % zeros: its lower bound has a bin of its own.
    gain = by_name["capital_gain"].quantiles.inverse(scores)
    assert abs((gain == 0).mean() - (mixed_frame["capital_gain"] == 0).mean()) < 0.03
    # age is a whole number with few values: one bin per value, each a point mass.
    age = np.round(by_name["age"].quantiles.inverse(scores))
    shares = pd.Series(age).value_counts(normalize=True)
    real = mixed_frame["age"].value_counts(normalize=True)
    assert (shares.reindex(real.index, fill_value=0) - real).abs().sum() < 0.15


def test_private_fit_needs_a_schema(mixed_frame):
    with pytest.raises(SchemaError, match="needs a schema"):
        TabularVAE(**SMALL, dp=True).fit(mixed_frame)


def test_private_fit_names_every_missing_field(mixed_frame, public_schema):
    schema = public_schema.replace("income", min=None, max=None).replace("city", categories=None)
    with pytest.raises(SchemaError) as error:
        TabularVAE(**SMALL, dp=True).fit(mixed_frame, schema=schema)
    message = str(error.value)
    assert "'income' (numerical) lacks min, max" in message
    assert "'city' (categorical) lacks categories" in message


def test_private_fit_takes_nullability_and_conditions_from_the_user(mixed_frame, public_schema):
    with pytest.raises(DataError, match="nullable"):
        TabularVAE(**SMALL, dp=True).fit(
            mixed_frame, schema=public_schema.replace("income", nullable=False)
        )
    with pytest.raises(SchemaError, match="condition_on"):
        TabularVAE(**SMALL, dp=True, condition_on=["city"]).fit(mixed_frame, schema=public_schema)


def test_save_load_keeps_the_privacy_report(private_model, tmp_path):
    path = private_model.save(tmp_path / "model.zip")
    loaded = TabularVAE.load(path)
    assert loaded.dp_report_ == private_model.dp_report_
    assert loaded.get_params()["dp"] is True
    pd.testing.assert_frame_equal(private_model.sample(50, seed=4), loaded.sample(50, seed=4))
    folder = private_model.save(tmp_path / "model")
    config = json.loads((folder / "config.json").read_text())
    assert config["dp"]["epsilon"] == private_model.dp_report_["epsilon"]
    assert config["history"] == {}  # the losses were computed on the rows without noise


def test_models_without_privacy_have_no_report(fitted, tmp_path):
    assert fitted.dp_report_ is None
    folder = fitted.save(tmp_path / "plain")
    assert "dp" not in json.loads((folder / "config.json").read_text())
    assert TabularVAE.load(folder).dp_report_ is None


def test_cli_fit_with_dp_prints_the_reached_epsilon(tmp_path, mixed_frame, public_schema):
    mixed_frame.to_parquet(tmp_path / "people.parquet", index=False)
    public_schema.to_json(tmp_path / "schema.json")
    args = ["fit", tmp_path / "people.parquet", "-o", tmp_path / "model", "--epochs", "1"]
    args += ["--latent-dim", "4", "--batch-size", "64"]
    result = CliRunner().invoke(main, [str(a) for a in [*args, "--dp", "--epsilon", "3"]])
    assert result.exit_code == 1 and "needs a schema" in result.output
    args += ["--schema", tmp_path / "schema.json", "--dp", "--epsilon", "3", "--delta", "1e-4"]
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    assert "differentially private: epsilon = " in result.output
    assert "(target 3), delta = 0.0001" in result.output


def test_a_private_fit_refuses_a_kind_it_cannot_count():
    frame = pd.DataFrame(
        {"wait": pd.to_timedelta(np.arange(40), unit="min"), "n": np.arange(40) % 3}
    )
    schema = infer_schema(frame)
    with pytest.raises(SchemaError, match="duration columns cannot be fitted with dp=True"):
        dp.resolve_private_schema(schema, frame)
