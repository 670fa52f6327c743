"""DP-SGD for the VAE: Poisson-sampled batches, per-example clipping, Gaussian noise.

The privacy budget these steps spend is computed in :mod:`tabvae.differential_privacy`; this
module makes every step the mechanism the accountant assumes: each row joins a step
independently with probability ``q``; each row's gradient is clipped to ``max_grad_norm``; the
clipped gradients are summed, Gaussian noise of standard deviation
``noise_multiplier * max_grad_norm`` is added, and the sum is divided by the expected batch
size ``q * n``.

Each row's gradient norm is computed in one of two ways, with the same result:

* ``"ghost"`` (the VAE's usual layers): every weight belongs to a dense layer, whose gradient
  for row ``i`` is the outer product of the layer's input ``x_i`` and the loss gradient at
  its pre-activation output ``d_i``. So ``|grad_i|^2`` follows from dot products of those
  vectors (``|x_i|^2 |d_i|^2`` for an untied kernel) and the clipped sum is
  ``x^T diag(c) d``: one forward and one backward pass, as in plain training, and no
  per-row gradient is ever stored (Goodfellow 2015, "Efficient per-example gradient
  computations"; Li et al. 2022, "ghost clipping").
* ``"vectorized"`` (any other model): ``tf.vectorized_map`` over the rows of a batch turns
  the per-row forward and backward passes into batched operations and materializes each
  row's gradient.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from tabvae import _backend  # selects the TensorFlow backend
from tabvae.layers import TiedDense
from tabvae.model import VAE

METHODS = ("ghost", "vectorized")


def clip_factors(per_example: list[Any], max_norm: float) -> tuple[Any, Any]:
    """Scale factors that bound each example's gradient norm by ``max_norm``.

    Parameters
    ----------
    per_example : list of tensors
        One tensor per weight, each of shape ``(batch, *weight.shape)``.
    max_norm : float
        Clipping norm ``C``.

    Returns
    -------
    factors, norms : tensors of shape ``(batch,)``
        ``min(1, C / norm)`` and each example's gradient norm over all weights together.
    """
    squares = [
        tf.reduce_sum(tf.reshape(tf.square(g), (tf.shape(g)[0], -1)), axis=1) for g in per_example
    ]
    norms = tf.sqrt(tf.add_n(squares))
    factors = tf.minimum(1.0, max_norm / tf.maximum(norms, 1e-12))
    return factors, norms


def clipped_sum(per_example: list[Any], factors: Any) -> list[Any]:
    """Sum over the batch of each example's gradient scaled by its factor."""
    return [tf.tensordot(factors, g, axes=1) for g in per_example]


def kl_per_example(z_mean: Any, z_log_var: Any) -> Any:
    """KL(q(z|x) || N(0, I)) of each row (the :class:`KLDivergence` layer adds its mean)."""
    return -0.5 * tf.reduce_sum(1.0 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var), axis=-1)


def _derivative_from_output(activation: Any) -> Any:
    """``f'(z)`` as a function of ``f(z)``, for the activations the ghost path knows."""
    if activation in (None, keras.activations.linear):
        return lambda output: None
    if activation is keras.activations.relu:
        return lambda output: tf.cast(output > 0, output.dtype)
    return None


class _TappedModel:
    """A functional model that also returns each dense layer's input and output.

    A plain object, not a Keras layer, so the tapped copy is never tracked or saved. It
    shares the original model's layers, hence its weights.
    """

    def __init__(self, model: keras.Model) -> None:
        self.layers = [
            layer for layer in model.layers if isinstance(layer, keras.layers.Dense | TiedDense)
        ]
        self.derivatives = []
        for layer in self.layers:
            if type(layer) not in (keras.layers.Dense, TiedDense) or len(layer.input.shape) != 2:
                raise ValueError(f"layer {layer.name} has no closed-form per-example gradient")
            if getattr(layer, "lora_enabled", False) or getattr(layer, "quantization_mode", None):
                raise ValueError(f"layer {layer.name} is LoRA-enabled or quantized")
            derivative = _derivative_from_output(layer.activation)
            if derivative is None:
                raise ValueError(f"layer {layer.name} has an activation the ghost path lacks")
            self.derivatives.append(derivative)
        self.model = keras.Model(
            model.input,
            [model.output, [x.input for x in self.layers], [x.output for x in self.layers]],
        )

    def __call__(self, inputs: Any) -> tuple[Any, list[Any], list[Any]]:
        outputs, layer_inputs, layer_outputs = self.model(inputs, training=True)
        return outputs, list(layer_inputs), list(layer_outputs)


class _GhostClipping:
    """Per-example gradient norms and clipped sums of a VAE built from dense layers.

    Raises ``ValueError`` at construction when some trainable weight is not a dense
    kernel or bias the closed form covers.
    """

    def __init__(self, vae: VAE) -> None:
        self.encoder = _TappedModel(vae.encoder)
        self.decoder = _TappedModel(vae.decoder)
        self.layers = self.encoder.layers + self.decoder.layers
        self.derivatives = self.encoder.derivatives + self.decoder.derivatives
        covered = set()
        for layer in self.layers:
            covered.add(id(self._kernel(layer)))
            if layer.bias is not None:
                covered.add(id(layer.bias))
        weights = {id(w) for w in vae.trainable_weights}
        if covered != weights:
            raise ValueError("some trainable weights are not dense kernels or biases")

    @staticmethod
    def _kernel(layer: Any) -> Any:
        return layer.tied_kernel if isinstance(layer, TiedDense) else layer.kernel

    def clipped_gradients(
        self, vae: VAE, data: dict[str, Any], latent_noise: Any, max_norm: float
    ) -> tuple[list[Any], Any, Any, Any]:
        """Summed clipped gradients, per-row norms, reconstruction and KL losses."""
        with tf.GradientTape() as tape:
            (z_mean, z_log_var), enc_in, enc_out = self.encoder(data)
            kl = kl_per_example(z_mean, z_log_var)
            z = z_mean + tf.exp(0.5 * z_log_var) * latent_noise
            outputs, dec_in, dec_out = self.decoder(vae.decoder_inputs(z, data))
            reconstruction = vae.reconstruction_loss(data, outputs)
            # Rows do not interact, so the gradient of the sum at a layer's output holds
            # each row's own gradient in that row.
            total = tf.reduce_sum(reconstruction + vae.kl.beta * kl)
        layer_in, layer_out = enc_in + dec_in, enc_out + dec_out
        upstream = tape.gradient(total, layer_out)
        deltas = []
        for grad, output, derivative in zip(upstream, layer_out, self.derivatives, strict=True):
            grad = tf.zeros_like(output) if grad is None else grad
            slope = derivative(output)
            deltas.append(grad if slope is None else grad * slope)
        # Each kernel's per-row gradient is a sum of outer products left_i (x) right_i: a
        # dense layer adds (input, delta), a tied layer reading the transpose (delta, input).
        kernels: dict[int, list[tuple[Any, Any]]] = {}
        biases: dict[int, list[Any]] = {}
        for layer, x, delta in zip(self.layers, layer_in, deltas, strict=True):
            pair = (delta, x) if isinstance(layer, TiedDense) else (x, delta)
            kernels.setdefault(id(self._kernel(layer)), []).append(pair)
            if layer.bias is not None:
                biases.setdefault(id(layer.bias), []).append(delta)
        squares = []
        for pairs in kernels.values():
            for a, (left_a, right_a) in enumerate(pairs):
                for b, (left_b, right_b) in enumerate(pairs):
                    if b < a:
                        continue
                    term = _row_dot(left_a, left_b) * _row_dot(right_a, right_b)
                    squares.append(term if a == b else 2.0 * term)
        for deltas_of_bias in biases.values():
            summed_delta = tf.add_n(deltas_of_bias)
            squares.append(_row_dot(summed_delta, summed_delta))
        norms = tf.sqrt(tf.maximum(tf.add_n(squares), 0.0))
        factors = tf.minimum(1.0, max_norm / tf.maximum(norms, 1e-12))
        scaled = factors[:, None]
        gradients = []
        for weight in vae.trainable_weights:
            if id(weight) in kernels:
                parts = [
                    tf.matmul(left * scaled, right, transpose_a=True)
                    for left, right in kernels[id(weight)]
                ]
            else:
                parts = [tf.reduce_sum(d * scaled, axis=0) for d in biases[id(weight)]]
            gradients.append(tf.add_n(parts))
        return gradients, norms, reconstruction, kl


def _row_dot(a: Any, b: Any) -> Any:
    return tf.reduce_sum(a * b, axis=1)


class DPVAE(VAE):
    """A :class:`VAE` whose ``train_step`` is a DP-SGD step.

    It has the same layers and weights as :class:`VAE`, so its weights load into one.

    Parameters
    ----------
    max_grad_norm : float
        Clipping norm of each row's gradient.
    noise_multiplier : float
        Noise standard deviation over ``max_grad_norm``.
    expected_batch_size : float
        ``q * n``: the noisy sum is divided by it, whatever the drawn batch's size.
    noise_seed : int, optional
        Seed of the privacy noise. Leave it out: a seed anyone knows lets them subtract the
        noise. Tests set it.
    method : {"auto", "ghost", "vectorized"}
        How per-example gradients are clipped (see the module docstring); ``"auto"`` takes
        ``"ghost"`` when the model allows it.
    **kwargs
        Passed to :class:`VAE`.
    """

    def __init__(
        self,
        *args: Any,
        max_grad_norm: float = 1.0,
        noise_multiplier: float = 1.0,
        expected_batch_size: float = 1.0,
        noise_seed: int | None = None,
        method: str = "auto",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_grad_norm = float(max_grad_norm)
        self.noise_multiplier = float(noise_multiplier)
        self.expected_batch_size = float(expected_batch_size)
        # Not a Keras variable, so the seed never reaches the saved weights.
        self._noise_seed = int(secrets.randbits(31) if noise_seed is None else noise_seed)
        if method not in ("auto", *METHODS):
            raise ValueError(f"method must be 'auto' or one of {METHODS}, got {method!r}")
        self._ghost: _GhostClipping | None = None
        if method != "vectorized":
            try:
                self._ghost = _GhostClipping(self)
            except ValueError:
                if method == "ghost":
                    raise
        self.method = "ghost" if self._ghost is not None else "vectorized"

    def example_losses(self, data: dict[str, Any], latent_noise: Any) -> tuple[Any, Any, Any]:
        """Total, reconstruction and KL loss of each row, shape ``(batch,)`` each.

        The encoder is called directly, not through the KL layer, whose ``add_loss`` holds
        the batch mean: DP-SGD needs each row's loss.
        """
        z_mean, z_log_var = self.encoder(data, training=True)
        kl = kl_per_example(z_mean, z_log_var)
        z = z_mean + tf.exp(0.5 * z_log_var) * latent_noise
        outputs = self.decoder(self.decoder_inputs(z, data), training=True)
        reconstruction = self.reconstruction_loss(data, outputs)
        return reconstruction + self.kl.beta * kl, reconstruction, kl

    def per_example_gradients(
        self, data: dict[str, Any], latent_noise: Any
    ) -> tuple[list[Any], Any, Any]:
        """Gradients of each row's loss, each of shape ``(batch, *weight.shape)``."""
        weights = self.trainable_weights

        def one_row(row: tuple[dict[str, Any], Any]) -> tuple[list[Any], Any, Any]:
            values, noise = row
            single = {k: v[None] for k, v in values.items()}
            with tf.GradientTape() as tape:
                total, reconstruction, kl = self.example_losses(single, noise[None])
                total = tf.reduce_sum(total)
            gradients = tape.gradient(total, weights)
            gradients = [
                tf.zeros_like(w) if g is None else g
                for g, w in zip(gradients, weights, strict=True)
            ]
            return gradients, reconstruction[0], kl[0]

        return tf.vectorized_map(one_row, (data, latent_noise))

    def clipped_gradients(
        self, data: dict[str, Any], latent_noise: Any
    ) -> tuple[list[Any], Any, Any, Any]:
        """Sum of the rows' clipped gradients (one tensor per weight), and per row the
        gradient norm before clipping, the reconstruction loss and the KL divergence."""
        if self._ghost is not None:
            return self._ghost.clipped_gradients(self, data, latent_noise, self.max_grad_norm)
        per_example, reconstruction, kl = self.per_example_gradients(data, latent_noise)
        factors, norms = clip_factors(per_example, self.max_grad_norm)
        return clipped_sum(per_example, factors), norms, reconstruction, kl

    def privacy_noise(self) -> list[Any]:
        """Gaussian noise for the summed gradients, one tensor per weight.

        A stateless draw keyed by the secret seed and the step counter: no generator state
        to save, and no step reuses another's noise.
        """
        weights = self.trainable_weights
        sizes = [int(np.prod(w.shape)) for w in weights]
        seed = tf.stack(
            [tf.constant(self._noise_seed, tf.int64), tf.cast(self.optimizer.iterations, tf.int64)]
        )
        flat = tf.random.stateless_normal(
            (sum(sizes),), seed=seed, stddev=self.noise_multiplier * self.max_grad_norm
        )
        parts = tf.split(flat, sizes)
        return [tf.reshape(p, w.shape) for p, w in zip(parts, weights, strict=True)]

    def train_step(self, data: dict[str, Any]) -> dict[str, Any]:
        rows = tf.shape(next(iter(data.values())))[0]
        latent_noise = keras.random.normal(
            (rows, self.latent_dim), seed=self.reparameterize.seed_generator
        )
        summed, _, reconstruction, kl = self.clipped_gradients(data, latent_noise)
        noisy = [
            (g + noise) / self.expected_batch_size
            for g, noise in zip(summed, self.privacy_noise(), strict=True)
        ]
        self.optimizer.apply(noisy, self.trainable_weights)
        # Batch means for the progress display only; they are not saved with the model.
        count = tf.maximum(tf.cast(rows, tf.float32), 1.0)
        mean_reconstruction = tf.reduce_sum(reconstruction) / count
        mean_kl = self.kl.beta * tf.reduce_sum(kl) / count
        return self._track(mean_reconstruction + mean_kl, mean_reconstruction, mean_kl)


def poisson_rows(n_rows: int, q: float, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Endless batches of row indices, each row in each independently with probability ``q``.

    Batch sizes vary (and may be 0): that is what the accountant's subsampling analysis
    assumes, unlike shuffled fixed-size batches.
    """
    while True:
        yield np.flatnonzero(rng.random(n_rows) < q)


def train_private(
    model: DPVAE,
    blocks: dict[str, np.ndarray],
    q: float,
    epochs: int,
    steps_per_epoch: int,
    callbacks: list[keras.callbacks.Callback],
    sampling_seed: int | None = None,
) -> dict[str, list[float]]:
    """Run ``epochs * steps_per_epoch`` DP-SGD steps; return the Keras history.

    ``sampling_seed`` should be left out: the analysis assumes nobody knows which rows each
    step drew. Tests set it.
    """
    rng = np.random.default_rng(secrets.randbits(128) if sampling_seed is None else sampling_seed)
    keys = list(blocks)
    widths = [blocks[k].shape[1] for k in keys]
    # One matrix gathered by row indices: tf.data moves one tensor per batch, not one per head.
    matrix = tf.constant(np.concatenate([blocks[k] for k in keys], axis=1), tf.float32)
    n_rows = int(matrix.shape[0])

    def gather(rows: tf.Tensor) -> dict[str, tf.Tensor]:
        parts = tf.split(tf.gather(matrix, rows), widths, axis=1)
        return dict(zip(keys, parts, strict=True))

    dataset = (
        tf.data.Dataset.from_generator(
            lambda: poisson_rows(n_rows, q, rng),
            output_signature=tf.TensorSpec((None,), tf.int64),
        )
        .map(gather)
        .prefetch(2)
    )
    with _backend.quiet_retracing():
        history = model.fit(
            dataset,
            epochs=int(epochs),
            steps_per_epoch=int(steps_per_epoch),
            callbacks=callbacks,
            shuffle=False,  # batches are drawn by Poisson sampling
            verbose=0,
        )
    return {k: [float(v) for v in values] for k, values in history.history.items()}
