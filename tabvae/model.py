"""The multi-input VAE, built from head specs only (it never sees column kinds)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from tabvae import _backend  # noqa: F401  (selects the TensorFlow backend)
from tabvae.heads import HeadLayout, HeadSpec
from tabvae.layers import KLDivergence, Reparameterize, TiedDense


def input_key(index: int) -> str:
    """Keras name of head ``index``; column names may hold characters Keras rejects."""
    return f"h{index}"


def condition_key(index: int) -> str:
    """Keras name of condition input ``index``."""
    return f"c{index}"


LATENT_KEY = "z"


def _dense(
    units: int, activation: str | None, seed: int, name: str, use_bias: bool = True
) -> keras.layers.Dense:
    return keras.layers.Dense(
        units,
        activation=activation,
        use_bias=use_bias,
        kernel_initializer=keras.initializers.GlorotUniform(seed=seed),
        name=name,
    )


def _inputs(specs: list[HeadSpec], key: Callable[[int], str]) -> dict[str, Any]:
    return {key(i): keras.Input((s.width,), name=key(i)) for i, s in enumerate(specs)}


def _joined(tensors: list[Any]) -> Any:
    return tensors[0] if len(tensors) == 1 else keras.layers.Concatenate()(tensors)


def build_encoder(
    heads: list[HeadSpec],
    hidden: tuple[int, ...],
    latent_dim: int,
    seed: int,
    conditions: list[HeadSpec] | None = None,
) -> keras.Model:
    """Encoder: one input per head (and condition), concatenated, an MLP, then the code."""
    inputs = _inputs(heads, input_key) | _inputs(conditions or [], condition_key)
    x = _joined(list(inputs.values()))
    for depth, units in enumerate(hidden):
        x = _dense(units, "relu", seed + depth, f"encoder_{depth}")(x)
    z_mean = _dense(latent_dim, None, seed + 100, "z_mean")(x)
    z_log_var = _dense(latent_dim, None, seed + 101, "z_log_var")(x)
    return keras.Model(inputs, [z_mean, z_log_var], name="encoder")


def build_decoder(
    heads: list[HeadSpec],
    hidden: tuple[int, ...],
    latent_dim: int,
    seed: int,
    tied_to: keras.Model | None = None,
    conditions: list[HeadSpec] | None = None,
) -> keras.Model:
    """Decoder: the code (and conditions), the encoder's widths in reverse, then the heads.

    Every head's parameters come out of one dense layer as one flat tensor, laid out as
    :class:`~tabvae.heads.HeadLayout` says: the same as one dense layer per head, in one
    matrix product.

    With ``tied_to`` (an encoder), each hidden layer uses the transpose of the encoder layer
    it mirrors: the first reuses ``z_mean``'s kernel, the next the last encoder layer's, ...
    Conditions enter the first layer through a kernel of their own.
    """
    z = keras.Input((latent_dim,), name=LATENT_KEY)
    condition_inputs = _inputs(conditions or [], condition_key)
    condition = _joined(list(condition_inputs.values())) if condition_inputs else None
    mirrored = ["z_mean", *[f"encoder_{d}" for d in range(len(hidden) - 1, 0, -1)]]
    x = z
    for depth, units in enumerate(reversed(hidden)):
        name = f"decoder_{depth}"
        if tied_to is None:
            if depth == 0 and condition is not None:
                x = keras.layers.Concatenate()([x, condition])
            x = _dense(units, "relu", seed + 200 + depth, name)(x)
            continue
        tied = TiedDense(tied_to.get_layer(mirrored[depth]), None, name=name)(x)
        if depth == 0 and condition is not None:
            own = _dense(units, None, seed + 250, f"{name}_condition", use_bias=False)
            tied = keras.layers.Add()([tied, own(condition)])
        x = keras.layers.Activation("relu")(tied)
    params = _dense(HeadLayout(heads).param_width, None, seed + 300, "heads")(x)
    return keras.Model({LATENT_KEY: z} | condition_inputs, params, name="decoder")


class VAE(keras.Model):
    """Encoder -> KL identity layer -> reparameterization -> decoder -> head parameters.

    Training reconstructs each head with its own loss and weight; rows whose value is
    missing do not count for that value's head (the head's ``mask``). ``beta * KL`` comes
    from the :class:`KLDivergence` layer's ``add_loss``. The model's output is the flat
    tensor of every head's parameters; ``layout.split`` cuts it into heads.
    """

    def __init__(
        self,
        heads: list[HeadSpec],
        latent_dim: int = 16,
        hidden: tuple[int, ...] = (256, 256),
        beta: float = 1.0,
        tie_weights: bool = False,
        seed: int = 0,
        conditions: list[HeadSpec] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.heads = list(heads)
        self.conditions = list(conditions or [])
        self.latent_dim = latent_dim
        hidden = tuple(hidden)
        self.encoder = build_encoder(self.heads, hidden, latent_dim, seed, self.conditions)
        self.decoder = build_decoder(
            self.heads,
            hidden,
            latent_dim,
            seed,
            self.encoder if tie_weights else None,
            self.conditions,
        )
        self.kl = KLDivergence(beta, name="kl_divergence")
        self.reparameterize = Reparameterize(seed + 1000, name="reparameterize")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        self.layout = HeadLayout(self.heads)
        self._target_keys = [input_key(i) for i in range(len(self.heads))]
        #: Gradient steps each batch trains (see :meth:`train_step`).
        self.steps_per_batch = 1

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return [self.loss_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, inputs: dict[str, Any], training: bool | None = None) -> Any:
        z_mean, z_log_var = self.kl(self.encoder(inputs, training=training))
        z = self.reparameterize([z_mean, z_log_var], training=training)
        return self.decoder(self.decoder_inputs(z, inputs), training=training)

    def decoder_inputs(self, z: Any, inputs: dict[str, Any]) -> dict[str, Any]:
        """The decoder's inputs: the code and the condition blocks of ``inputs``."""
        keys = [condition_key(i) for i in range(len(self.conditions))]
        return {LATENT_KEY: z} | {key: inputs[key] for key in keys}

    def reconstruction_loss(self, targets: dict[str, Any], params: Any) -> Any:
        """Weighted sum of the heads' losses, per example (shape ``(batch,)``)."""
        blocks = [targets[key] for key in self._target_keys]
        joined = blocks[0] if len(blocks) == 1 else ops.concatenate(blocks, axis=1)
        return self.layout.loss(joined, params)

    def _step_losses(self, data: dict[str, Any], training: bool) -> tuple[Any, Any, Any]:
        outputs = self(data, training=training)
        reconstruction = ops.mean(self.reconstruction_loss(data, outputs))
        kl = ops.sum(self.losses) if self.losses else ops.convert_to_tensor(0.0)
        return reconstruction + kl, reconstruction, kl

    def _track(self, total: Any, reconstruction: Any, kl: Any) -> dict[str, Any]:
        self.loss_tracker.update_state(total)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data: dict[str, Any]) -> dict[str, Any]:
        """``steps_per_batch`` gradient steps on one batch.

        A table that fits in one batch trains many steps on that same batch. Looping here,
        rather than feeding the batch again through Keras's ``steps_per_execution`` loop
        over the data iterator, gives the same weights and cut a small table's fit by about
        a second (palmerpenguins, ISLR/Carseats, MASS/Boston, three seeds each: 7.4 / 6.2 /
        6.2 s -> 6.4 / 5.2 / 5.5 s), most of it in building the graphs. Read when the
        training step is traced: set it before ``fit``.
        """
        if self.steps_per_batch == 1:
            return self._gradient_step(data)

        def step(index: Any) -> tuple[Any]:
            self._gradient_step(data)
            return (index + 1,)

        tf.while_loop(lambda index: index < self.steps_per_batch, step, (tf.constant(0),))
        return {m.name: m.result() for m in self.metrics}

    def _gradient_step(self, data: dict[str, Any]) -> dict[str, Any]:
        with tf.GradientTape() as tape:
            total, reconstruction, kl = self._step_losses(data, training=True)
        gradients = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply(gradients, self.trainable_weights)
        return self._track(total, reconstruction, kl)

    def test_step(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._track(*self._step_losses(data, training=False))

    def build_for(self) -> None:
        """Create every variable by running one dummy row (needed before loading weights)."""
        dummy = {
            input_key(i): np.zeros((1, h.width), dtype=np.float32) for i, h in enumerate(self.heads)
        } | {
            condition_key(i): np.zeros((1, c.width), dtype=np.float32)
            for i, c in enumerate(self.conditions)
        }
        self(dummy, training=False)
