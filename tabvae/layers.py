"""Custom Keras layers of the VAE, registered so Keras can serialize them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import keras
from keras import ops

from tabvae import _backend  # noqa: F401  (selects the TensorFlow backend)

PACKAGE = "tabvae"


@keras.saving.register_keras_serializable(package=PACKAGE)
class KLDivergence(keras.layers.Layer):
    """Identity on ``[z_mean, z_log_var]`` that adds ``beta * KL(q(z|x) || N(0, I))`` as a loss.

    ``beta`` lives in a non-trainable variable so a schedule can change it during training.
    """

    def __init__(self, beta: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.initial_beta = float(beta)
        self.beta = self.add_weight(
            shape=(),
            initializer=keras.initializers.Constant(self.initial_beta),
            trainable=False,
            name="beta",
        )

    def call(self, inputs: list[Any]) -> list[Any]:
        z_mean, z_log_var = inputs
        per_example = -0.5 * ops.sum(
            1.0 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var), axis=-1
        )
        self.add_loss(self.beta * ops.mean(per_example))
        return [z_mean, z_log_var]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "beta": self.initial_beta}


@keras.saving.register_keras_serializable(package=PACKAGE)
class Reparameterize(keras.layers.Layer):
    """Draw ``z = mean + exp(log_var / 2) * eps`` while training; return the mean otherwise."""

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs: list[Any], training: bool | None = None) -> Any:
        z_mean, z_log_var = inputs
        if not training:
            return z_mean
        noise = keras.random.normal(ops.shape(z_mean), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * noise

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package=PACKAGE)
class TiedDense(keras.layers.Layer):
    """A dense layer whose kernel is the transpose of another dense layer's kernel.

    Only the bias is its own. The tied layer is reached through a callable rather than an
    attribute so Keras does not track (and save) the other layer's weights a second time.
    """

    def __init__(
        self,
        tied_to: keras.layers.Dense | None = None,
        activation: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._tied_kernel: Callable[[], Any] | None = (
            (lambda: tied_to.kernel) if tied_to is not None else None
        )
        self.activation = keras.activations.get(activation)

    @property
    def tied_kernel(self) -> Any:
        """The other layer's kernel variable (this layer uses its transpose)."""
        if self._tied_kernel is None:
            raise ValueError("TiedDense was built without the layer it is tied to")
        return self._tied_kernel()

    def build(self, input_shape: Any) -> None:
        units = self.tied_kernel.shape[0]
        self.bias = self.add_weight(shape=(units,), initializer="zeros", name="bias")

    def compute_output_shape(self, input_shape: Any) -> tuple[Any, ...]:
        return (*input_shape[:-1], self.tied_kernel.shape[0])

    def call(self, inputs: Any) -> Any:
        return self.activation(ops.matmul(inputs, ops.transpose(self.tied_kernel)) + self.bias)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["activation"] = keras.activations.serialize(self.activation)
        return config
