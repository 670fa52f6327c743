"""Output heads: what the model knows about a column, and nothing more.

A :class:`HeadSpec` names a block of the transformed table, its width and its loss. The model
builds one input and one output head per spec and never sees column kinds. Each loss knows how
many parameters its head predicts, how to score a batch, and how to turn predicted parameters
back into values: a random draw when sampling, the most likely value when reconstructing.

Every loss is scaled so that a head which has learned nothing (predicting the marginal of a
standardized number, or a uniform distribution over k categories) scores about 1. That makes
the default loss weight of 1 per column fair between a lone number and a 40-level one-hot.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

import numpy as np

from tabvae.errors import SchemaError

# Bounds of the predicted log standard deviation of a Gaussian head: tight enough to keep the
# likelihood finite, wide enough for a number that is almost determined by the others.
_LOG_SIGMA_MIN, _LOG_SIGMA_MAX = -5.0, 2.0


@dataclasses.dataclass(frozen=True)
class HeadSpec:
    """One output head of the model.

    Parameters
    ----------
    name : str
        Unique name, derived from the column name.
    width : int
        Width of the transformed block (the model input and the training target).
    loss : str
        Key of :data:`LOSSES`.
    weight : float
        Weight of this head in the reconstruction loss.
    mask : str, optional
        Name of a 0/1 head; rows where it is 1 (a missing value) do not count for this head.
    """

    name: str
    width: int
    loss: str
    weight: float = 1.0
    mask: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeadSpec:
        """Build from the JSON form."""
        return cls(**data)


class HeadLoss:
    """A head's loss, parameter layout and decoding rules."""

    name: ClassVar[str]

    def output_width(self, width: int) -> int:
        """Number of parameters the head predicts for a block of ``width``."""
        return width

    def loss(self, y_true: Any, params: Any) -> Any:
        """Per-example loss, a tensor of shape ``(batch,)``."""
        raise NotImplementedError

    def draw(self, params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A random value of the block per row, drawn from the predicted distribution."""
        raise NotImplementedError

    def mode(self, params: np.ndarray) -> np.ndarray:
        """The most likely value of the block per row."""
        raise NotImplementedError


class GaussianLoss(HeadLoss):
    """Normal likelihood with a predicted mean and a predicted standard deviation per row.

    Sampling adds the predicted noise, so synthetic marginals are not shrunk toward the mean.
    """

    name = "gaussian"

    def output_width(self, width: int) -> int:
        return 2 * width

    @staticmethod
    def _split(params: Any) -> tuple[Any, Any]:
        width = params.shape[-1] // 2
        log_sigma = _ops().clip(params[:, width:], _LOG_SIGMA_MIN, _LOG_SIGMA_MAX)
        return params[:, :width], log_sigma

    def loss(self, y_true: Any, params: Any) -> Any:
        ops = _ops()
        mean, log_sigma = self._split(params)
        z = (y_true - mean) * ops.exp(-log_sigma)
        # The constant makes a standard normal guess score about 1 on standardized data.
        return ops.mean(0.5 * ops.square(z) + log_sigma, axis=-1) + 0.5

    def draw(self, params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        width = params.shape[-1] // 2
        mean = params[:, :width]
        log_sigma = np.clip(params[:, width:], _LOG_SIGMA_MIN, _LOG_SIGMA_MAX)
        return mean + np.exp(log_sigma) * rng.standard_normal(mean.shape)

    def mode(self, params: np.ndarray) -> np.ndarray:
        return params[:, : params.shape[-1] // 2]


class MeanSquaredLoss(HeadLoss):
    """Squared error; the head predicts the value itself."""

    name = "mse"

    def loss(self, y_true: Any, params: Any) -> Any:
        ops = _ops()
        return ops.mean(ops.square(y_true - params), axis=-1)

    def draw(self, params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return params

    def mode(self, params: np.ndarray) -> np.ndarray:
        return params


class CategoricalLoss(HeadLoss):
    """Cross-entropy over a one-hot block; the head predicts logits."""

    name = "categorical"

    def loss(self, y_true: Any, params: Any) -> Any:
        width = params.shape[-1]
        cross_entropy = _ops().categorical_crossentropy(y_true, params, from_logits=True)
        return cross_entropy / math.log(width) if width > 1 else cross_entropy * 0.0

    def draw(self, params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        probabilities = _softmax(params)
        cumulative = np.cumsum(probabilities, axis=1)
        pick = (cumulative < rng.random((len(params), 1)) * cumulative[:, -1:]).sum(axis=1)
        return _one_hot(np.minimum(pick, params.shape[1] - 1), params.shape[1])

    def mode(self, params: np.ndarray) -> np.ndarray:
        return _one_hot(params.argmax(axis=1), params.shape[1])


class BinaryLoss(HeadLoss):
    """Binary cross-entropy per unit of the block; the head predicts logits."""

    name = "binary"

    def loss(self, y_true: Any, params: Any) -> Any:
        ops = _ops()
        cross_entropy = ops.binary_crossentropy(y_true, params, from_logits=True)
        return ops.mean(cross_entropy, axis=-1) / math.log(2.0)

    def draw(self, params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return (rng.random(params.shape) < _sigmoid(params)).astype(np.float32)

    def mode(self, params: np.ndarray) -> np.ndarray:
        return (params > 0).astype(np.float32)


LOSSES: dict[str, HeadLoss] = {
    loss.name: loss for loss in (GaussianLoss(), MeanSquaredLoss(), CategoricalLoss(), BinaryLoss())
}


def head_loss(name: str) -> HeadLoss:
    """Return the loss registered under ``name``."""
    try:
        return LOSSES[name]
    except KeyError:
        raise SchemaError(f"unknown head loss {name!r}; choose one of {sorted(LOSSES)}") from None


def decode_heads(
    heads: list[HeadSpec],
    params: dict[str, np.ndarray],
    rng: np.random.Generator | None,
) -> dict[str, np.ndarray]:
    """Turn predicted parameters into values: random draws, or the mode when ``rng`` is None."""
    values = {}
    for head in heads:
        loss = head_loss(head.loss)
        block = np.asarray(params[head.name], dtype=np.float64)
        values[head.name] = loss.mode(block) if rng is None else loss.draw(block, rng)
    return values


def _ops() -> Any:
    # Keras (and TensorFlow) load only when a model trains: the schema layer and the CLI's
    # --help import this module and should stay fast.
    from keras import ops

    from tabvae import _backend  # noqa: F401  (selects the TensorFlow backend)

    return ops


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * logits))


def _one_hot(index: np.ndarray, width: int) -> np.ndarray:
    out = np.zeros((len(index), width), dtype=np.float32)
    out[np.arange(len(index)), index] = 1.0
    return out
