"""TabularVAE: fit a table, sample synthetic rows, save and load the model."""

from __future__ import annotations

import json
import math
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from sklearn.base import BaseEstimator

from tabvae import (
    __version__,
    _backend,  # selects the TensorFlow backend
)
from tabvae.combinations import SeenCombinations
from tabvae.conditions import ConditionTable, check_condition_columns, conditions_frame
from tabvae.errors import DataError, ModelFileError, NotFittedError, SchemaError
from tabvae.heads import HeadSpec, balanced_to_marginals, decode_heads
from tabvae.model import LATENT_KEY, VAE, condition_key, input_key
from tabvae.prior import PRIORS, LatentPrior
from tabvae.protections import clip_extremes, merge_rare_categories
from tabvae.schema import Schema, as_given, check_frame, infer_schema
from tabvae.table import TableTransformer
from tabvae.transformers import ColumnTransformer

MODEL_FORMAT = "tabvae-model"
# 2: one dense layer predicts every head's parameters (1 had a layer per head).
MODEL_FORMAT_VERSION = 2
_FILES = ("config.json", "schema.json", "transformers.json", "model.weights.h5")
_PREDICT_BATCH = 65536
_STEPS_PER_EXECUTION = 16
#: Training steps a Keras epoch should hold, about: a small table's epoch is a few steps,
#: and Keras's per-epoch work (validation pass, callbacks, iterator setup) then cost as much
#: as the training itself, so such tables train several passes per Keras epoch.
_STEPS_PER_ROUND = 64
#: Most passes when ``epochs`` is left out, unless a pass is so short that fewer than
#: ``_MIN_STEPS`` gradient steps would run: measured on a table of 1,470 rows (3 steps per
#: pass), 300 passes ended before early stopping and left the rows easy to tell from real.
_DEFAULT_EPOCHS = 300
_MIN_STEPS = 2000
#: Codes the latent mixture is fitted to, at least: several draws from each row's posterior on
#: tables of few rows. One draw per row (2,000 codes at least, as before) gave the mixture a
#: cloud of points instead of the posteriors' spread. Measured with the same fits: detection AUC
#: ames 0.790 -> 0.770 over five seeds (lower in each), attrition 0.668 -> 0.643 (two),
#: credit_data 0.627 -> 0.606, wa_churn 0.690 -> 0.673, HMDA 0.501 -> 0.508; DCR share ames
#: 0.528 -> 0.525, attrition 0.548 -> 0.529, credit_data 0.516 -> 0.504, wa_churn
#: 0.509 -> 0.497, HMDA 0.532 -> 0.537.
_PRIOR_CODES = 8000
_CONDITION_PRIOR_CODES = 2000
#: Condition values with fewer training rows share the pooled latent prior.
MIN_ROWS_PER_CONDITION_PRIOR = 50

#: ``progress(epoch, epochs, logs)`` is called after every epoch while fitting.
ProgressCallback = Callable[[int, int, dict[str, float]], None]


class TabularVAE(BaseEstimator):
    """A variational autoencoder for mixed-type tables.

    Parameters
    ----------
    latent_dim : int
        Size of the latent code.
    hidden : tuple of int
        Widths of the encoder's hidden layers; the decoder mirrors them.
    beta : float
        Weight of the KL divergence against the reconstruction loss. 0.35 by default: on
        13 benchmark tables (two seeds each) it gave synthetic-trained models 0.014 more
        ML efficacy than 0.5 on average, a lower DCR share on average and the same
        detection AUC (see benchmarks/README.md); at 0.25 detection on ames neared 0.80.
    epochs : int, optional
        Most passes over the training rows; training stops earlier when the validation
        loss has not improved for ``patience`` epochs. Left out: 300 passes, or as many as
        make 2,000 gradient steps when a pass holds fewer than 7 batches (a table of a few
        thousand rows learns too little in 300 short passes); a ``dp`` fit runs 300. A
        table of few batches trains several passes per Keras epoch (a round of about 64
        steps), and the validation loss and patience are checked once per round, so both
        count in whole rounds.
    batch_size : int
        Rows per gradient step.
    learning_rate : float
        Adam learning rate.
    prior : {"gmm", "standard"}
        Distribution latent codes are drawn from when sampling: a Gaussian mixture fitted to
        the encoded training rows, or the N(0, I) of the VAE objective.
    prior_components : int
        Components of the ``gmm`` prior.
    tie_weights : bool
        Let the decoder's hidden layers reuse the transposed encoder kernels.
    validation_split : float
        Share of rows held out to decide early stopping (0 trains on all rows for ``epochs``).
    patience : int
        Epochs without improvement before training stops.
    condition_on : list of str, optional
        Columns (categorical, boolean, numerical or datetime) fed to both encoder and
        decoder, so rows can be generated given their values (a conditional VAE).
    extreme_value_k : int
        Clip numbers to their k-th smallest and largest training value, so no outlier (one
        person's income) is learned, reproduced or stored as the range; 0 switches it off.
    rare_category_k : int
        Merge text categories seen fewer than k times into ``"<rare>"`` so they are never
        emitted as themselves; 0 (the default) keeps every category.
    random_state : int, optional
        Seed of weights, shuffling and sampling: the same seed and data give the same rows
        (except with ``dp=True``, whose privacy noise never comes from a public seed).
    dp : bool
        Train with differential privacy (see :mod:`tabvae.differential_privacy`). Then
        ``fit`` needs a schema that gives every bound and category list, since none may be
        read from the rows; quantile knots and category frequencies come from noisy histograms;
        early stopping is off (every row trains for ``epochs`` epochs, ``validation_split``
        and ``patience`` are ignored); the latent prior is N(0, I) whatever ``prior`` says
        (a mixture fitted to encoded rows would spend privacy); ``condition_on`` is refused
        and the schema's ``determined_by`` and ``relative_to`` rules are dropped, and
        categories are not kept to the combinations the rows hold (all three tabulate the
        rows), and
        ``extreme_value_k`` and ``rare_category_k`` do nothing (they read the rows; values
        are clamped to the schema's bounds instead). Fewer epochs mean less noise per step
        for the same budget. ``dp_report_`` holds the reached epsilon.
    epsilon : float
        Privacy budget of a ``dp`` fit, for the whole fit (network and histograms).
    delta : float, optional
        Delta of a ``dp`` fit; ``1 / n`` for ``n`` training rows when left out.
    max_grad_norm : float
        Norm each row's gradient is clipped to in a ``dp`` fit.
    """

    def __init__(
        self,
        latent_dim: int = 32,
        hidden: tuple[int, ...] = (128, 128),
        beta: float = 0.35,
        epochs: int | None = None,
        batch_size: int = 500,
        learning_rate: float = 1e-3,
        prior: str = "gmm",
        prior_components: int = 10,
        tie_weights: bool = False,
        validation_split: float = 0.1,
        patience: int = 20,
        condition_on: list[str] | tuple[str, ...] | None = None,
        random_state: int | None = None,
        dp: bool = False,
        epsilon: float = 1.0,
        delta: float | None = None,
        max_grad_norm: float = 1.0,
        extreme_value_k: int = 5,
        rare_category_k: int = 0,
    ) -> None:
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.beta = beta
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.prior = prior
        self.prior_components = prior_components
        self.tie_weights = tie_weights
        self.validation_split = validation_split
        self.patience = patience
        self.condition_on = condition_on
        self.random_state = random_state
        self.dp = dp
        self.epsilon = epsilon
        self.delta = delta
        self.max_grad_norm = max_grad_norm
        self.extreme_value_k = extreme_value_k
        self.rare_category_k = rare_category_k

    # --- fitting -----------------------------------------------------------------------------
    def fit(
        self,
        df: pd.DataFrame,
        schema: Schema | str | Path | None = None,
        *,
        progress: ProgressCallback | None = None,
    ) -> TabularVAE:
        """Learn the table.

        Parameters
        ----------
        df : pandas.DataFrame
            Training rows.
        schema : Schema, path or JSON text, optional
            What each column is; inferred from ``df`` when omitted. Fields an edited schema
            leaves out are filled from the data. Required with ``dp=True``, complete (see
            :func:`tabvae.differential_privacy.resolve_private_schema`).
        progress : callable, optional
            Called as ``progress(epoch, epochs, logs)`` after every epoch.

        Returns
        -------
        TabularVAE
            ``self``, fitted.
        """
        self._check_params()
        check_frame(df)
        if self.dp:
            return self._fit_private(df, schema, progress)
        if schema is None:
            schema = infer_schema(df)
        elif not isinstance(schema, Schema):
            schema = Schema.from_json(schema)
        self.schema_ = schema.resolve(df)
        df, self.schema_ = clip_extremes(df, self.schema_, int(self.extreme_value_k))
        df, self.schema_ = merge_rare_categories(df, self.schema_, int(self.rare_category_k))
        condition_names = list(self.condition_on or [])
        check_condition_columns(condition_names, self.schema_.modeled)
        self.schema_ = as_given(self.schema_, df, condition_names)
        self.transformer_ = TableTransformer(self.schema_, int(self.extreme_value_k)).fit(df)
        self._split_heads(condition_names)
        self.conditions_: ConditionTable | None = None
        if condition_names:
            self.conditions_ = ConditionTable.fit(df, self._condition_transformers())
        seed = self._seed()
        self.model_: VAE | None = None
        self.history_: dict[str, list[float]] = {}
        self.epochs_run_ = 0
        self.prior_ = LatentPrior.standard(self.latent_dim)
        self.condition_priors_: dict[tuple[Any, ...], LatentPrior] = {}
        self.combinations_ = SeenCombinations()
        if self.heads_:
            transformed = self.transformer_.transform(df)
            self.heads_ = balanced_to_marginals(self.heads_, transformed)
            self.combinations_ = SeenCombinations.fit(self.heads_, transformed)
            blocks = self._model_inputs(transformed)
            self.history_ = self._train(blocks, seed, progress)
            if self.prior == "gmm":
                codes = self._posterior_codes(blocks, seed)
                self.prior_ = LatentPrior.fit_mixture(codes, self.prior_components, seed)
                self._fit_condition_priors(df, blocks, seed)
        self.n_training_rows_ = len(df)
        self.dp_report_: dict[str, Any] | None = None
        self._rng = np.random.default_rng(self.random_state)
        return self

    def _fit_private(
        self,
        df: pd.DataFrame,
        schema: Schema | str | Path | None,
        progress: ProgressCallback | None,
    ) -> TabularVAE:
        """``fit`` with differential privacy: plan the noise, then noisy statistics and DP-SGD."""
        import secrets

        from tabvae import differential_privacy as privacy

        if self.condition_on:
            raise SchemaError(
                "condition_on cannot be combined with dp=True: the condition table counts the "
                "training rows' value combinations"
            )
        if schema is not None and not isinstance(schema, Schema):
            schema = Schema.from_json(schema)
        self.schema_ = privacy.resolve_private_schema(schema, df)
        n_rows = len(df)
        batch_size = min(int(self.batch_size), n_rows)
        q = batch_size / n_rows
        steps_per_epoch = math.ceil(n_rows / batch_size)
        delta = float(self.delta) if self.delta is not None else 1.0 / n_rows
        epochs = _DEFAULT_EPOCHS if self.epochs is None else int(self.epochs)
        plan = privacy.plan_privacy(
            float(self.epsilon),
            delta,
            q,
            epochs * steps_per_epoch,
            statistics=any(c.kind in privacy.COUNTED_KINDS for c in self.schema_.modeled),
        )
        statistics_rng = np.random.default_rng(secrets.randbits(128))
        self.transformer_ = privacy.fit_private_table(
            self.schema_, df, plan.statistics_noise_multiplier, statistics_rng
        )
        self._split_heads([])
        self.conditions_ = None
        seed = self._seed()
        self.model_ = None
        self.history_ = {}
        self.epochs_run_ = 0
        self.prior_ = LatentPrior.standard(self.latent_dim)
        # Which combinations the rows hold is read from the rows: not in a private fit.
        self.combinations_ = SeenCombinations()
        steps = 0
        if self.heads_:
            from tabvae.dp_training import train_private

            blocks = self._model_inputs(self.transformer_.transform(df))
            private = {
                "max_grad_norm": float(self.max_grad_norm),
                "noise_multiplier": plan.noise_multiplier,
                "expected_batch_size": q * n_rows,
            }
            self.model_ = self._build_model(seed, private)
            callbacks = [_ProgressCallback(progress, epochs)] if progress else []
            self.history_ = train_private(
                self.model_, blocks, q, epochs, steps_per_epoch, callbacks
            )
            # The steps actually run, read from the optimizer, are what the report accounts.
            steps = int(self.model_.optimizer.iterations.numpy())
            self.epochs_run_ = len(next(iter(self.history_.values()), []))
        self.dp_report_ = {
            "epsilon": plan.epsilon(steps),
            "target_epsilon": plan.target_epsilon,
            "delta": plan.delta,
            "noise_multiplier": plan.noise_multiplier,
            "statistics_noise_multiplier": plan.statistics_noise_multiplier,
            "max_grad_norm": float(self.max_grad_norm),
            "q": plan.q,
            "steps": steps,
            "planned_steps": plan.steps,
            "accountant": "rdp",
            "neighbouring": "add_or_remove_one",
        }
        self.n_training_rows_ = n_rows
        self._rng = np.random.default_rng(self.random_state)
        return self

    def _max_passes(self, steps_per_pass: int) -> int:
        """Most passes over the training rows: ``epochs``, or the default for this table."""
        if self.epochs is not None:
            return int(self.epochs)
        return _default_passes(steps_per_pass)

    def _check_params(self) -> None:
        if self.prior not in PRIORS:
            raise SchemaError(f"prior must be one of {PRIORS}, got {self.prior!r}")
        positive = {"latent_dim": self.latent_dim, "batch_size": self.batch_size}
        if self.epochs is not None:
            positive["epochs"] = self.epochs
        for name, value in positive.items():
            if not isinstance(value, int | np.integer) or value < 1:
                raise DataError(f"{name} must be a positive integer, got {value!r}")
        if not 0.0 <= self.validation_split < 0.5:
            raise DataError(f"validation_split must be in [0, 0.5), got {self.validation_split}")
        if self.dp:
            if not (isinstance(self.max_grad_norm, int | float) and self.max_grad_norm > 0):
                raise DataError(f"max_grad_norm must be positive, got {self.max_grad_norm!r}")
            if not (isinstance(self.epsilon, int | float) and self.epsilon > 0):
                raise DataError(f"epsilon must be positive, got {self.epsilon!r}")

    def _seed(self) -> int:
        if self.random_state is None:
            return int(np.random.default_rng().integers(0, 2**31 - 1))
        return int(self.random_state)

    def _build_model(
        self,
        seed: int,
        private: dict[str, float] | None = None,
        steps_per_execution: int = _STEPS_PER_EXECUTION,
    ) -> VAE:
        """The VAE; with ``private`` (DP-SGD settings) one whose training steps are DP-SGD."""
        model_class: type[VAE] = VAE
        if private:
            from tabvae.dp_training import DPVAE

            model_class = partial(DPVAE, **private)  # type: ignore[assignment]
        model = model_class(
            self.heads_,
            latent_dim=int(self.latent_dim),
            hidden=tuple(int(h) for h in self.hidden),
            beta=float(self.beta),
            tie_weights=bool(self.tie_weights),
            seed=seed,
            conditions=self.condition_heads_,
        )
        # Measured on 2 CPU cores, XLA made training about twice as slow (and DP-SGD's
        # vectorized per-example gradients far slower still). Several steps per graph call
        # save Python overhead that costs as much as a small table's step itself.
        model.compile(
            optimizer=keras.optimizers.Adam(self.learning_rate),
            jit_compile=False,
            steps_per_execution=1 if private else steps_per_execution,
        )
        # Variables made while the training step is traced (the optimizer's, built lazily
        # by its first update) make TensorFlow trace the step a second time.
        model.build_for()
        model.optimizer.build(model.trainable_variables)
        return model

    def _split_heads(self, condition_names: list[str]) -> None:
        """Output heads of the generated columns; condition inputs of the condition columns."""
        self.heads_ = []
        self.condition_heads_ = []
        for transformer in self.transformer_.transformers_:
            is_condition = transformer.column.name in condition_names
            (self.condition_heads_ if is_condition else self.heads_).extend(transformer.heads)

    def _condition_transformers(self) -> list[ColumnTransformer]:
        names = set(self.condition_on or [])
        return [t for t in self.transformer_.transformers_ if t.column.name in names]

    def _model_inputs(self, blocks: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        inputs = {input_key(i): blocks[h.name] for i, h in enumerate(self.heads_)}
        conditions = {condition_key(i): blocks[c.name] for i, c in enumerate(self.condition_heads_)}
        return inputs | conditions

    def _train(
        self,
        blocks: dict[str, np.ndarray],
        seed: int,
        progress: ProgressCallback | None,
    ) -> dict[str, list[float]]:
        """Build ``model_`` and train it, with early stopping on a validation split."""
        n_rows = len(next(iter(blocks.values())))
        order = np.random.default_rng(seed).permutation(n_rows)
        n_validation = round(n_rows * self.validation_split)
        if n_validation < 1 or n_rows - n_validation < 2:
            n_validation = 0
        training, validation = order[n_validation:], order[:n_validation]
        batch_size = int(min(self.batch_size, len(training)))
        # Epochs and patience count passes over the rows; Keras sees rounds of several passes.
        steps_per_pass = math.ceil(len(training) / batch_size)
        epochs = self._max_passes(steps_per_pass)
        passes = _passes_per_round(steps_per_pass, epochs)
        one_batch = len(training) <= batch_size
        # Rows that fit in one batch: every step of a round trains on that batch, repeated
        # inside the model's step (``steps_per_batch``) instead of fed again by Keras.
        self.model_ = self._build_model(
            seed, steps_per_execution=1 if one_batch else _STEPS_PER_EXECUTION
        )
        self.model_.steps_per_batch = passes if one_batch else 1

        keys = list(blocks)
        widths = [blocks[k].shape[1] for k in keys]

        def dataset(rows: np.ndarray, shuffle: bool) -> tf.data.Dataset:
            # One matrix and shuffled row indices: tf.data handles a single tensor per batch
            # instead of one per head per row, which made input the bottleneck on wide tables.
            matrix = tf.constant(np.concatenate([blocks[k][rows] for k in keys], axis=1))
            if len(rows) <= batch_size:
                # One batch holds every row, and their order within it does not matter: the
                # batch is cut once, and the model repeats its step on it.
                whole = dict(zip(keys, tf.split(matrix, widths, axis=1), strict=True))
                return tf.data.Dataset.from_tensors(whole)
            data = tf.data.Dataset.range(len(rows))
            if shuffle:
                data = data.shuffle(len(rows), seed=seed, reshuffle_each_iteration=True)

            def split(index: tf.Tensor) -> dict[str, tf.Tensor]:
                return dict(
                    zip(keys, tf.split(tf.gather(matrix, index), widths, axis=1), strict=True)
                )

            data = data.batch(batch_size).map(split)
            # Shuffling comes first, so every pass of a round is in a new order.
            return (data.repeat(passes) if shuffle else data).prefetch(tf.data.AUTOTUNE)

        callbacks: list[keras.callbacks.Callback] = []
        validation_data = None
        if n_validation:
            validation_data = dataset(validation, shuffle=False)
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss",
                    patience=max(1, math.ceil(self.patience / passes)),
                    restore_best_weights=True,
                )
            )
        if progress is not None:
            callbacks.append(_ProgressCallback(progress, epochs, passes))
        with _backend.quiet_retracing():
            history = self.model_.fit(
                dataset(training, shuffle=True),
                validation_data=validation_data,
                epochs=epochs // passes,
                callbacks=callbacks,
                shuffle=False,  # the dataset shuffles itself, with the seed
                verbose=0,
            )
        self.epochs_run_ = len(history.epoch) * passes
        return {k: [float(v) for v in values] for k, values in history.history.items()}

    def _fit_condition_priors(
        self, df: pd.DataFrame, blocks: dict[str, np.ndarray], seed: int
    ) -> None:
        """One latent mixture per condition value (combination) with enough training rows.

        Rows of one condition value fill their own region of the latent space; drawing their
        codes from the pooled mixture gave measurably worse rows for a minority value.
        """
        if self.conditions_ is None:
            return
        keys = [_condition_key(row) for row in self.conditions_.keys_of(df).itertuples(False)]
        groups: dict[tuple[Any, ...], list[int]] = {}
        for row, key in enumerate(keys):
            groups.setdefault(key, []).append(row)
        for key, rows in groups.items():
            if len(rows) >= MIN_ROWS_PER_CONDITION_PRIOR:
                subset = {name: block[rows] for name, block in blocks.items()}
                # Fewer codes than the pooled mixture's: a mixture per value, many values.
                codes = self._posterior_codes(subset, seed, _CONDITION_PRIOR_CODES)
                self.condition_priors_[key] = LatentPrior.fit_mixture(
                    codes, self.prior_components, seed
                )

    def _sample_codes(
        self, n: int, rng: np.random.Generator, condition_values: pd.DataFrame | None
    ) -> np.ndarray:
        """Latent codes: from the condition value's own mixture where there is one."""
        codes = self.prior_.sample(n, rng)
        priors = getattr(self, "condition_priors_", {})  # private fits have none
        if condition_values is None or not priors:
            return codes
        keys = [
            _condition_key(row)
            for row in self.conditions_.keys_of(condition_values).itertuples(False)
        ]
        rows_of: dict[tuple[Any, ...], list[int]] = {}
        for row, key in enumerate(keys):
            if key in priors:
                rows_of.setdefault(key, []).append(row)
        for key, rows in rows_of.items():
            codes[rows] = priors[key].sample(len(rows), rng)
        return codes

    def _posterior_codes(
        self, blocks: dict[str, np.ndarray], seed: int, at_least: int = _PRIOR_CODES
    ) -> np.ndarray:
        """Codes drawn from the encoder over the training rows (the aggregate posterior): as
        many draws per row as make ``at_least`` codes."""
        z_mean, z_log_var = self._encode_blocks(blocks)
        rng = np.random.default_rng(seed)
        draws = max(1, math.ceil(at_least / len(z_mean)))
        z_mean, z_log_var = np.tile(z_mean, (draws, 1)), np.tile(z_log_var, (draws, 1))
        return z_mean + np.exp(0.5 * z_log_var) * rng.standard_normal(z_mean.shape)

    def _encode_blocks(self, blocks: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        n_rows = len(next(iter(blocks.values())))
        means, log_vars = [], []
        for start in range(0, n_rows, _PREDICT_BATCH):
            batch = {k: v[start : start + _PREDICT_BATCH] for k, v in blocks.items()}
            z_mean, z_log_var = self.model_.encoder(batch, training=False)
            means.append(np.asarray(z_mean))
            log_vars.append(np.asarray(z_log_var))
        return np.concatenate(means), np.concatenate(log_vars)

    # --- using the model ---------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "transformer_"):
            raise NotFittedError(
                "this TabularVAE is not fitted yet; call fit(df) or TabularVAE.load(path) first"
            )

    def _decoder_params(
        self, codes: np.ndarray, conditions: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Predicted parameters of every output head for latent codes and condition blocks."""
        parts = []
        for start in range(0, len(codes), _PREDICT_BATCH):
            window = slice(start, start + _PREDICT_BATCH)
            inputs = {LATENT_KEY: codes[window].astype(np.float32)} | {
                condition_key(i): conditions[c.name][window]
                for i, c in enumerate(self.condition_heads_)
            }
            # predict_on_batch runs a traced graph: on 2 cores about twice as fast as an eager
            # call for 100,000 rows, and faster for a handful too.
            with _backend.quiet_retracing():
                parts.append(np.asarray(self.model_.decoder.predict_on_batch(inputs)))
        return self.model_.layout.split(np.concatenate(parts))

    def _rows(
        self,
        params: dict[str, np.ndarray],
        conditions: dict[str, np.ndarray],
        n_rows: int,
        rng: np.random.Generator | None,
        known: pd.DataFrame | None = None,
        known_levels: dict[str, np.ndarray] | None = None,
    ) -> pd.DataFrame:
        """Decode head parameters (draws, or modes without ``rng``) into a DataFrame.

        ``known`` holds cells the rows already have (imputation), and ``known_levels`` their
        categorical heads' levels (-1 where not known); the rest is derived from them.
        """
        values = {}
        if params:
            values = decode_heads(self.heads_, params, rng, self.combinations_, known_levels)
        rows = self.transformer_.inverse_transform(
            values | conditions,
            n_rows,
            rng if rng is not None else np.random.default_rng(0),
            given=self.conditions_.names if self.conditions_ is not None else (),
            known=known,
        )
        return rows[[c.name for c in self.schema_.modeled]]

    def _decode(
        self,
        codes: np.ndarray,
        rng: np.random.Generator | None,
        conditions: dict[str, np.ndarray] | None = None,
        condition_values: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Rows of latent codes; ``condition_values`` come back exactly as given (through
        the float32 blocks, an asked 2.5 came back as 2.5000000056)."""
        conditions = conditions or {}
        params = self._decoder_params(codes, conditions) if self.model_ is not None else {}
        return self._rows(params, conditions, len(codes), rng, condition_values)

    def sample(
        self,
        n: int | None = None,
        seed: int | None = None,
        conditions: Mapping[str, Any] | pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Generate synthetic rows.

        Parameters
        ----------
        n : int
            Number of rows, at least 1. May be left out when ``conditions`` is a DataFrame.
        seed : int, optional
            Seed of this draw. Without it, draws follow the model's ``random_state``: a model
            fitted with the same seed on the same data yields the same sequence of samples.
        conditions : mapping or DataFrame, optional
            For a model fitted with ``condition_on``: values every row must carry
            (``{"churn": "Yes"}``), or one row of values per wanted row. Condition columns
            left out are drawn from their training frequencies given the asked ones.

        Returns
        -------
        pandas.DataFrame
            The training columns (excluded ones left out), in order and with their dtypes.
        """
        self._check_fitted()
        rng = np.random.default_rng(seed) if seed is not None else self._rng
        asked = None
        if conditions is not None:
            asked = conditions_frame(conditions, n)
            self._check_asked(asked)
            n = len(asked)
        if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
            raise DataError(f"the number of rows to sample must be a positive integer, got {n!r}")
        condition_blocks, condition_values = {}, None
        if self.conditions_ is not None:
            condition_values = self.conditions_.draw(int(n), rng, asked)
            condition_blocks = self._condition_blocks(condition_values)
        codes = self._sample_codes(int(n), rng, condition_values)
        return self._decode(codes, rng, condition_blocks, condition_values)

    def _check_condition_names(self, names: list[str]) -> None:
        if self.conditions_ is None:
            raise DataError(
                "this model was fitted without condition_on; refit it with "
                "TabularVAE(condition_on=[...]) to sample given column values"
            )
        unknown = [n for n in names if n not in self.conditions_.names]
        if unknown:
            raise DataError(
                f"cannot condition on {unknown}: the model conditions on {self.conditions_.names}"
            )

    def _check_asked(self, asked: pd.DataFrame) -> None:
        """Refuse asked condition values the model never saw (or that lie outside its range)."""
        self._check_condition_names(list(asked.columns))
        for transformer in self._condition_transformers():
            if transformer.column.name in asked.columns:
                values = asked[transformer.column.name].to_numpy(dtype=object)
                transformer.check_seen(pd.Series(values))

    def _condition_blocks(self, frame: pd.DataFrame) -> dict[str, np.ndarray]:
        """Blocks of the condition columns' values in ``frame``."""
        blocks: dict[str, np.ndarray] = {}
        for transformer in self._condition_transformers():
            values = pd.Series(frame[transformer.column.name].to_numpy(dtype=object))
            blocks.update(transformer.transform(values))
        return blocks

    def _blocks_of(self, df: pd.DataFrame) -> dict[str, np.ndarray]:
        if not isinstance(df, pd.DataFrame) or len(df) == 0:
            raise DataError("expected a pandas DataFrame with at least one row")
        missing = [c.name for c in self.schema_.modeled if c.name not in df.columns]
        if missing:
            raise SchemaError(f"the data lacks columns the model was fitted on: {missing}")
        return self._model_inputs(self.transformer_.transform(df))

    def transfer(self, df: pd.DataFrame, set: Mapping[str, Any]) -> pd.DataFrame:
        """Rewrite rows under new condition values, keeping what the condition does not explain.

        Each row is encoded to its latent mean with its own condition values, then decoded
        (most likely values) with the values in ``set``: "this customer, on a two-year
        contract". With an empty ``set`` this equals :meth:`reconstruct`.
        """
        self._check_fitted()
        self._check_asked(pd.DataFrame({name: [value] for name, value in set.items()}))
        codes = self.encode(df)
        changed = df[self.conditions_.names].reset_index(drop=True).astype(object).copy()
        for name, value in set.items():
            changed[name] = [value] * len(changed)
        rows = self._decode(codes, None, self._condition_blocks(changed), changed)
        return self._keep_identity(rows, df)

    def impute(self, df: pd.DataFrame, seed: int | None = None, rounds: int = 3) -> pd.DataFrame:
        """Fill the missing cells of ``df`` from the model; known cells are kept as they are.

        Each row is encoded with its known cells (a missing cell enters as "unknown"), the
        decoder draws values for the missing cells, and the filled rows are encoded again,
        ``rounds`` times: the known cells condition every fill through the encoder. Missing
        cells of condition columns are drawn from their training frequencies.
        """
        self._check_fitted()
        self._blocks_of(df)  # fail early on a frame that does not fit the model
        rng = np.random.default_rng(seed) if seed is not None else self._rng
        holes = df.reset_index(drop=True)
        filled = holes.copy()
        gaps = {c.name: filled[c.name].isna().to_numpy() for c in self.schema_.modeled}
        gaps = {name: mask for name, mask in gaps.items() if mask.any()}
        if not gaps:
            return df.copy()
        if self.conditions_ is not None:
            for name in self.conditions_.names:
                if name not in gaps:
                    continue
                # Draw from the training frequencies until every gap has a value (a missing
                # value is itself one of the frequencies of a column that had gaps).
                for _ in range(100):
                    still = filled[name].isna().to_numpy() & gaps[name]
                    if not still.any():
                        break
                    drawn = self.conditions_.draw(int(still.sum()), rng)[name].to_numpy()
                    filled.loc[still, name] = drawn
        known_levels: dict[str, np.ndarray] | None = None
        for _ in range(max(1, int(rounds))):
            transformed = self.transformer_.transform(filled)
            blocks = self._model_inputs(transformed)
            conditions = {
                c.name: blocks[condition_key(i)] for i, c in enumerate(self.condition_heads_)
            }
            params = self._decoder_params(self._encode_blocks(blocks)[0], conditions)
            for transformer in self.transformer_.transformers_:
                heads = transformer.heads  # none for an id or a constant column
                if transformer.column.name in gaps and heads and heads[0].name in params:
                    transformer.exclude_missing(params)
            if known_levels is None:  # the known cells stay as they are in every round
                known_levels = self._known_levels(transformed, gaps)
            decoded = self._rows(params, conditions, len(filled), rng, holes, known_levels)
            for name, mask in gaps.items():
                if name in decoded.columns and name not in (self.condition_on or []):
                    filled.loc[mask, name] = decoded.loc[mask, name].to_numpy()
        filled.index = df.index
        return filled

    def _known_levels(
        self, transformed: dict[str, np.ndarray], gaps: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Each categorical head's level per row where the row's column is known, else -1."""
        known = {}
        for transformer in self.transformer_.transformers_:
            missing = gaps.get(transformer.column.name)
            for head in transformer.heads:
                if head.loss != "categorical" or head.name not in transformed:
                    continue
                level = np.asarray(transformed[head.name]).argmax(axis=1)
                known[head.name] = level if missing is None else np.where(missing, -1, level)
        return known

    def encode(self, df: pd.DataFrame) -> np.ndarray:
        """Latent means of the rows of ``df``, shape ``(n, latent_dim)``."""
        self._check_fitted()
        if self.model_ is None:
            return np.zeros((len(df), int(self.latent_dim)), dtype=np.float32)
        return self._encode_blocks(self._blocks_of(df))[0]

    def reconstruct(self, df: pd.DataFrame) -> pd.DataFrame:
        """Encode rows to their latent means and decode the most likely values.

        Id and constant columns keep the input's values: the rows are the same rows.
        """
        self._check_fitted()
        conditions, condition_values = {}, None
        if self.conditions_ is not None:
            condition_values = df[self.conditions_.names]
            conditions = self._condition_blocks(condition_values)
        rows = self._decode(self.encode(df), None, conditions, condition_values)
        return self._keep_identity(rows, df)

    def _keep_identity(self, rows: pd.DataFrame, df: pd.DataFrame) -> pd.DataFrame:
        """Id and constant columns keep the input's values: the rows are the same rows."""
        for column in self.schema_.modeled:
            if column.kind in ("id", "constant"):
                rows[column.name] = df[column.name].to_numpy()
        return rows

    # --- persistence -------------------------------------------------------------------------
    def save(self, path: str | Path) -> Path:
        """Save to a folder, or to a zip file when ``path`` ends in ``.zip``.

        The model holds Keras weights and JSON (configuration, schema, transformer state,
        latent prior): no pickle and no training row.
        """
        self._check_fitted()
        path = Path(path)
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch) / "model"
            folder.mkdir()
            config = {
                "format": MODEL_FORMAT,
                "format_version": MODEL_FORMAT_VERSION,
                "tabvae_version": __version__,
                "params": _json_params(self.get_params()),
                "heads": [h.to_dict() for h in self.heads_],
                "condition_heads": [h.to_dict() for h in self.condition_heads_],
                "conditions": self.conditions_.to_dict() if self.conditions_ else None,
                "prior": self.prior_.to_dict(),
                "seen_combinations": self.combinations_.to_dict(),
                "condition_priors": [
                    {"key": list(key), "prior": prior.to_dict()}
                    for key, prior in getattr(self, "condition_priors_", {}).items()
                ],
                # The losses of a private fit are computed on the rows without noise.
                "history": self.history_ if self.dp_report_ is None else {},
                "epochs_run": self.epochs_run_,
                "n_training_rows": self.n_training_rows_,
            }
            if self.dp_report_ is not None:
                config["dp"] = self.dp_report_
            _write_json(folder / "config.json", config)
            self.schema_.to_json(folder / "schema.json")
            _write_json(folder / "transformers.json", self.transformer_.get_state())
            if self.model_ is not None:
                self.model_.save_weights(folder / "model.weights.h5")
            if path.suffix.lower() == ".zip":
                _zip_folder(folder, path)
            else:
                _replace_folder(folder, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> TabularVAE:
        """Load a model written by :meth:`save`."""
        path = Path(path)
        if not path.exists():
            raise ModelFileError(f"no such model: {path}")
        with tempfile.TemporaryDirectory() as scratch:
            folder = _unzip(path, Path(scratch)) if path.is_file() else path
            config = _read_json(folder / "config.json", path)
            if config.get("format") != MODEL_FORMAT:
                raise ModelFileError(f"{path} is not a tabvae model")
            if config.get("format_version") != MODEL_FORMAT_VERSION:
                raise ModelFileError(
                    f"{path} has model format {config.get('format_version')}; this tabvae "
                    f"reads format {MODEL_FORMAT_VERSION}"
                )
            try:
                model = cls(**{k: _param_from_json(k, v) for k, v in config["params"].items()})
                model.schema_ = Schema.from_dict(_read_json(folder / "schema.json", path))
                state = _read_json(folder / "transformers.json", path)
                model.transformer_ = TableTransformer.from_state(model.schema_, state)
                model.heads_ = [HeadSpec.from_dict(h) for h in config["heads"]]
                model.condition_heads_ = [
                    HeadSpec.from_dict(h) for h in config.get("condition_heads", [])
                ]
                model.conditions_ = None
                if config.get("conditions"):
                    by_name = {t.column.name: t for t in model.transformer_.transformers_}
                    model.conditions_ = ConditionTable.from_dict(config["conditions"], by_name)
                model.prior_ = LatentPrior.from_dict(config["prior"])
                model.combinations_ = SeenCombinations.from_dict(
                    config.get("seen_combinations", {}), model.heads_
                )
                model.condition_priors_ = {
                    tuple(item["key"]): LatentPrior.from_dict(item["prior"])
                    for item in config.get("condition_priors", [])
                }
                model.history_ = config.get("history", {})
                model.epochs_run_ = int(config.get("epochs_run", 0))
                model.n_training_rows_ = int(config.get("n_training_rows", 0))
                model.dp_report_ = config.get("dp")
            except (KeyError, TypeError, ValueError, SchemaError) as exc:
                raise ModelFileError(f"{path} is not a valid tabvae model: {exc}") from None
            model.model_ = None
            if model.heads_:
                model.model_ = model._build_model(seed=0)  # built, ready for its weights
                weights = folder / "model.weights.h5"
                if not weights.is_file():
                    raise ModelFileError(f"{path} lacks model.weights.h5")
                try:
                    with warnings.catch_warnings():
                        # Sampling needs no optimizer state; Keras warns it skips it.
                        warnings.filterwarnings("ignore", message="Skipping variable loading")
                        model.model_.load_weights(weights)
                except Exception as exc:  # h5py and Keras raise many types for a bad file
                    raise ModelFileError(f"cannot read the weights in {path}: {exc}") from None
        model._rng = np.random.default_rng(model.random_state)
        return model


def _default_passes(steps_per_pass: int) -> int:
    """Most passes when ``epochs`` is left out: 300, or enough for ``_MIN_STEPS`` steps."""
    return max(_DEFAULT_EPOCHS, math.ceil(_MIN_STEPS / steps_per_pass))


def _passes_per_round(steps_per_pass: int, epochs: int) -> int:
    """Passes over the training rows per Keras epoch: about ``_STEPS_PER_ROUND`` steps.

    Rounded down so that whole rounds never exceed ``epochs`` passes.
    """
    wanted = min(epochs, math.ceil(_STEPS_PER_ROUND / steps_per_pass))
    return epochs // math.ceil(epochs / wanted)


class _ProgressCallback(keras.callbacks.Callback):
    """Reports passes over the rows; a Keras epoch may hold several (``passes``)."""

    def __init__(self, progress: ProgressCallback, epochs: int, passes: int = 1) -> None:
        super().__init__()
        self.progress = progress
        self.epochs = epochs
        self.passes = passes

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        done = min(self.epochs, (epoch + 1) * self.passes)
        self.progress(done, self.epochs, {k: float(v) for k, v in (logs or {}).items()})


def _condition_key(values: Any) -> tuple[Any, ...]:
    """A hashable condition key; missing values are None, numpy scalars plain Python."""
    return tuple(
        None if pd.isna(v) else (v.item() if isinstance(v, np.generic) else v) for v in values
    )


def _json_params(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def _param_from_json(name: str, value: Any) -> Any:
    return tuple(value) if name == "hidden" else value


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False), encoding="utf-8")


def _read_json(path: Path, model_path: Path) -> Any:
    if not path.is_file():
        raise ModelFileError(f"{model_path} is not a tabvae model (no {path.name})")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelFileError(f"{model_path} is corrupt: {path.name}: {exc}") from None


def _zip_folder(folder: Path, path: Path) -> None:
    from tabvae.io import atomic_path

    with atomic_path(path) as temporary, zipfile.ZipFile(temporary, "w") as archive:
        for name in _FILES:
            if (folder / name).exists():
                archive.write(folder / name, name)


def _replace_folder(folder: Path, path: Path) -> None:
    """Move a finished model folder to ``path``, never over a folder that is not a model."""
    if path.is_file() or (
        path.is_dir() and any(path.iterdir()) and not (path / "config.json").exists()
    ):
        raise ModelFileError(f"{path} exists and is not a tabvae model; not overwriting it")
    staging = path.with_name(f".{path.name}.saving")
    shutil.rmtree(staging, ignore_errors=True)
    shutil.copytree(folder, staging)
    shutil.rmtree(path, ignore_errors=True)
    staging.rename(path)


def _unzip(path: Path, scratch: Path) -> Path:
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if n in _FILES]
            archive.extractall(scratch, members=names)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelFileError(f"{path} is not a tabvae model: {exc}") from None
    return scratch
