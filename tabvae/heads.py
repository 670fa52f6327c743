"""Output heads: what the model knows about a column, and nothing more.

A :class:`HeadSpec` names a block of the transformed table, its width and its loss. The model
builds one input and one output head per spec and never sees column kinds. Each loss knows how
many parameters its head predicts, how to score a batch, and how to turn predicted parameters
back into values: a random draw when sampling, the most likely value when reconstructing.

The decoder predicts every head's parameters in one flat vector; :class:`HeadLayout` knows
where each head's parameters sit and scores all heads of one loss at once, so a table of 80
columns costs a handful of operations per step rather than hundreds (which made tracing and
every training step of wide tables slow).

Every loss is scaled so that a head which has learned nothing (predicting the marginal of a
standardized number, or a uniform distribution over k categories) scores about 1. That makes
the default loss weight of 1 per column fair between a lone number and a 40-level one-hot.
:func:`balanced_to_marginals` then raises the weight of a category or flag whose marginal is
far from uniform, so that a head which has learned only its marginal scores about 1 too.
"""

from __future__ import annotations

import dataclasses
import math
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from tabvae.errors import SchemaError

if TYPE_CHECKING:
    from tabvae.combinations import SeenCombinations

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
        Name of another head that says which rows count for this one: without
        ``mask_level``, a 0/1 head whose rows at 1 (a missing value) do not count; with it,
        a one-hot head whose rows count only where level ``mask_level`` is on.
    mask_level : int, optional
        See ``mask``.
    """

    name: str
    width: int
    loss: str
    weight: float = 1.0
    mask: str | None = None
    mask_level: int | None = None

    @property
    def mask_unit(self) -> int:
        """The unit of the ``mask`` head that says whether a row counts."""
        return self.mask_level or 0

    @property
    def mask_keep(self) -> tuple[float, float]:
        """``(base, slope)``: a row counts with weight ``base + slope * u``, ``u`` its
        ``mask_unit``: ``1 - u`` for a missing indicator, ``u`` for a level that must be on,
        ``1`` without a mask."""
        if self.mask is None:
            return 1.0, 0.0
        return (1.0, -1.0) if self.mask_level is None else (0.0, 1.0)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HeadSpec:
        """Build from the JSON form."""
        return cls(**data)


class HeadLoss:
    """A head's loss, parameter layout and decoding rules.

    A head of ``width`` units predicts ``params_per_unit`` parameters per unit, laid out as
    ``params_per_unit`` consecutive blocks of ``width`` (all means, then all log sigmas).
    """

    name: ClassVar[str]
    params_per_unit: ClassVar[int] = 1

    def output_width(self, width: int) -> int:
        """Number of parameters the head predicts for a block of ``width``."""
        return self.params_per_unit * width

    def batched_loss(self, y_true: Any, params: Any, valid: Any, width: Any) -> Any:
        """Loss of several heads at once.

        Parameters
        ----------
        y_true : tensor of shape ``(batch, heads, units)``
            Targets, zero-padded to the widest head of the group.
        params : tensor of shape ``(batch, heads, units, params_per_unit)``
            Predicted parameters, zero-padded the same way.
        valid : array of shape ``(heads, units)``
            1 where a unit belongs to its head, 0 for padding.
        width : array of shape ``(heads,)``
            Each head's true width.

        Returns
        -------
        tensor of shape ``(batch, heads)``
        """
        raise NotImplementedError

    def draw(self, params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A random value of the block per row, drawn from the predicted distribution."""
        raise NotImplementedError

    def mode(self, params: np.ndarray) -> np.ndarray:
        """The most likely value of the block per row."""
        raise NotImplementedError

    def marginal_score(self, block: np.ndarray) -> float | None:
        """What predicting the block's marginal for every row scores, or None where the
        loss's own scaling already makes that about 1 (a standardized number's)."""
        return None


def _unit_mean(values: Any, valid: Any, width: Any) -> Any:
    """Mean over each head's own units of a ``(batch, heads, units)`` tensor."""
    ops = _ops()
    return ops.sum(values * valid, axis=-1) / width


class GaussianLoss(HeadLoss):
    """Normal likelihood with a predicted mean and a predicted standard deviation per row.

    Sampling adds the predicted noise, so synthetic marginals are not shrunk toward the mean.
    """

    name = "gaussian"
    params_per_unit = 2

    def batched_loss(self, y_true: Any, params: Any, valid: Any, width: Any) -> Any:
        ops = _ops()
        mean = params[..., 0]
        log_sigma = ops.clip(params[..., 1], _LOG_SIGMA_MIN, _LOG_SIGMA_MAX)
        z = (y_true - mean) * ops.exp(-log_sigma)
        # The constant makes a standard normal guess score about 1 on standardized data.
        return _unit_mean(0.5 * ops.square(z) + log_sigma, valid, width) + 0.5

    def draw(self, params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        params = params.astype(np.float64)  # normal scores go through a quantile map
        width = params.shape[-1] // 2
        mean = params[:, :width]
        log_sigma = np.clip(params[:, width:], _LOG_SIGMA_MIN, _LOG_SIGMA_MAX)
        return mean + np.exp(log_sigma) * rng.standard_normal(mean.shape, dtype=np.float32)

    def mode(self, params: np.ndarray) -> np.ndarray:
        return params[:, : params.shape[-1] // 2]


class MeanSquaredLoss(HeadLoss):
    """Squared error; the head predicts the value itself."""

    name = "mse"

    def batched_loss(self, y_true: Any, params: Any, valid: Any, width: Any) -> Any:
        return _unit_mean(_ops().square(y_true - params[..., 0]), valid, width)

    def draw(self, params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return params

    def mode(self, params: np.ndarray) -> np.ndarray:
        return params


#: A categorical head's cross-entropy is divided by ``log(width)``, what a uniform guess scores,
#: so that a wide one-hot does not drown a number; but by no more than this. Divided by the
#: full log, a column of many levels gained less from being encoded than the KL term (beta per
#: nat, 0.5 by default then) charged for it, and the model learned little more than its marginal:
#: on openintro/ucla_f18 (173 subjects) the subject came back right in 13 % of reconstructed
#: rows and detection AUC was 0.980. With this cap: 76 % and 0.847. Measured on the benchmark
#: tables, within the seed-to-seed spread: ames (seeds 0-2) detection 0.764 -> 0.771, ML R²
#: 0.870 -> 0.876, DCR share 0.528 -> 0.521; credit_data and attrition (seeds 0, 1) detection
#: 0.622 -> 0.618 and 0.643 -> 0.647, DCR 0.507 -> 0.517 and 0.529 -> 0.536; HMDA (seed 0)
#: 0.508 -> 0.502, DCR 0.537 -> 0.518; hotel_rates (seed 0) 0.769 -> 0.722, though its wide
#: columns (company, agent, country) then kept the validation loss improving for all 300
#: passes, not 108 (once the losses were grouped by width, the same seed stopped at 123: its
#: validation loss is spiky). Without a cap at all (nats), ucla_f18 reached 0.789 but the DCR
#: share rose (ames 0.523 -> 0.535, credit_data 0.504 -> 0.531).
CATEGORICAL_SCALE_CAP = 1.5


class CategoricalLoss(HeadLoss):
    """Cross-entropy over a one-hot block; the head predicts logits.

    Divided by ``log(width)``, what a uniform guess scores, up to ``CATEGORICAL_SCALE_CAP``;
    a one-level head scores 0.
    """

    name = "categorical"

    def batched_loss(self, y_true: Any, params: Any, valid: Any, width: Any) -> Any:
        ops = _ops()
        # Padding units get a logit so low that they carry no probability.
        logits = ops.where(valid > 0, params[..., 0], -1e9)
        cross_entropy = ops.logsumexp(logits, axis=-1) - ops.sum(y_true * logits, axis=-1)
        scale = np.where(width > 1, 1.0 / _uniform_score(width), 0.0)
        return cross_entropy * scale.astype(np.float32)

    def draw(self, params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return _one_hot(self.draw_levels(params, rng), params.shape[1])

    def mode(self, params: np.ndarray) -> np.ndarray:
        return _one_hot(self.mode_levels(params), params.shape[1])

    def marginal_score(self, block: np.ndarray) -> float | None:
        width = block.shape[1]
        if width < 2 or len(block) == 0:
            return None
        shares = block.mean(axis=0, dtype=np.float64)
        shares = shares[shares > 0]
        entropy = float(-(shares * np.log(shares)).sum())
        return entropy / float(_uniform_score(width))

    def draw_levels(self, params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """The index of the level drawn for each row."""
        # Sampling many rows spends most of its time here. Levels-by-rows layout turns every
        # step into a vectorised operation over rows (numpy is slow at reducing many short
        # rows), and the inverse CDF over unnormalised weights needs no softmax division.
        weights = np.array(params.T, dtype=np.float32, order="C")
        weights -= weights.max(axis=0)
        np.exp(weights, out=weights)
        cumulative = np.cumsum(weights, axis=0, out=weights)
        threshold = rng.random(len(params), dtype=np.float32) * cumulative[-1]
        pick = (cumulative < threshold).sum(axis=0)
        return np.minimum(pick, params.shape[1] - 1)

    def mode_levels(self, params: np.ndarray) -> np.ndarray:
        """The index of the most likely level of each row."""
        return params.argmax(axis=1)


def _uniform_score(width: Any) -> Any:
    """What a categorical head's cross-entropy is divided by, per width (scalar or array)."""
    return np.minimum(np.log(np.maximum(width, 2)), CATEGORICAL_SCALE_CAP)


class BinaryLoss(HeadLoss):
    """Binary cross-entropy per unit of the block; the head predicts logits."""

    name = "binary"

    def batched_loss(self, y_true: Any, params: Any, valid: Any, width: Any) -> Any:
        ops = _ops()
        logits = params[..., 0]
        # log(1 + e^x) - y x, the stable form of the cross-entropy of a logit.
        cross_entropy = ops.softplus(logits) - y_true * logits
        return _unit_mean(cross_entropy, valid, width) / math.log(2.0)

    def draw(self, params: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return (rng.random(params.shape) < _sigmoid(params)).astype(np.float32)

    def mode(self, params: np.ndarray) -> np.ndarray:
        return (params > 0).astype(np.float32)

    def marginal_score(self, block: np.ndarray) -> float | None:
        if len(block) == 0:
            return None
        share = np.clip(block.mean(axis=0, dtype=np.float64), 1e-12, 1.0 - 1e-12)
        entropy = -(share * np.log(share) + (1.0 - share) * np.log1p(-share))
        return float(entropy.mean()) / math.log(2.0)


LOSSES: dict[str, HeadLoss] = {
    loss.name: loss for loss in (GaussianLoss(), MeanSquaredLoss(), CategoricalLoss(), BinaryLoss())
}


def head_loss(name: str) -> HeadLoss:
    """Return the loss registered under ``name``."""
    try:
        return LOSSES[name]
    except KeyError:
        raise SchemaError(f"unknown head loss {name!r}; choose one of {sorted(LOSSES)}") from None


def _width_class(width: int) -> int:
    """Heads of one class are at most twice as wide as each other: 1, 2, 3-4, 5-8, ..."""
    return max(width - 1, 0).bit_length()


class _LossGroup:
    """Gather indices of every head of one loss into padded ``(heads, units)`` grids."""

    def __init__(self, loss: HeadLoss, members: list[int], layout: HeadLayout) -> None:
        heads = layout.heads
        self.loss = loss
        units = max(heads[i].width for i in members)
        per_unit = loss.params_per_unit
        # Index -1 stands for the zero column appended to targets and parameters.
        self.target_index = np.full((len(members), units), -1, dtype=np.int32)
        self.param_index = np.full((len(members), units, per_unit), -1, dtype=np.int32)
        self.valid = np.zeros((len(members), units), dtype=np.float32)
        self.width = np.array([heads[i].width for i in members], dtype=np.float32)
        self.weight = np.array([heads[i].weight for i in members], dtype=np.float32)
        self.mask_index = np.full(len(members), -1, dtype=np.int32)
        # A row counts with weight keep_base + keep_slope * (its mask unit): HeadSpec.mask_keep.
        self.keep_base = np.ones(len(members), dtype=np.float32)
        self.keep_slope = np.zeros(len(members), dtype=np.float32)
        for row, i in enumerate(members):
            width = heads[i].width
            target_start = layout.target_offsets[i]
            param_start = layout.param_offsets[i]
            self.target_index[row, :width] = np.arange(target_start, target_start + width)
            for p in range(per_unit):
                start = param_start + p * width
                self.param_index[row, :width, p] = np.arange(start, start + width)
            self.valid[row, :width] = 1.0
            head = heads[i]
            self.keep_base[row], self.keep_slope[row] = head.mask_keep
            if head.mask is not None:
                mask_start = layout.target_offsets[layout.index[head.mask]]
                self.mask_index[row] = mask_start + head.mask_unit
        n_targets, n_params = layout.target_width, layout.param_width
        self.target_index[self.target_index < 0] = n_targets
        self.param_index[self.param_index < 0] = n_params
        self.mask_index[self.mask_index < 0] = n_targets


class HeadLayout:
    """Where every head's targets and predicted parameters sit in the flat model tensors.

    Targets are the heads' blocks side by side in head order (``target_width`` columns);
    the decoder's output is every head's parameters side by side (``param_width``).

    Parameters
    ----------
    heads : list of HeadSpec
        The output heads, in model order.
    """

    def __init__(self, heads: list[HeadSpec]) -> None:
        self.heads = list(heads)
        self.index = {h.name: i for i, h in enumerate(self.heads)}
        widths = [h.width for h in self.heads]
        param_widths = [head_loss(h.loss).output_width(h.width) for h in self.heads]
        self.target_offsets = np.concatenate([[0], np.cumsum(widths)]).astype(int)
        self.param_offsets = np.concatenate([[0], np.cumsum(param_widths)]).astype(int)
        self.target_width = int(self.target_offsets[-1])
        self.param_width = int(self.param_offsets[-1])
        for head in self.heads:
            if head.mask is None:
                continue
            if head.mask not in self.index:
                raise SchemaError(f"head {head.name!r} is masked by unknown head {head.mask!r}")
            if not 0 <= head.mask_unit < self.heads[self.index[head.mask]].width:
                raise SchemaError(
                    f"head {head.name!r}: mask level {head.mask_level} is out of range"
                )
        # One group per loss and width class, since a group pads every head to its widest:
        # one group of all categoricals padded hotel_rates' 25 heads of 2 to 10 levels to
        # its 150-level head, and a pass took 1.19 s instead of 0.59 s (ames: 0.15 s, 0.10 s).
        by_loss: dict[tuple[str, int], list[int]] = {}
        for i, head in enumerate(self.heads):
            by_loss.setdefault((head.loss, _width_class(head.width)), []).append(i)
        self.groups = [
            _LossGroup(head_loss(loss), members, self) for (loss, _), members in by_loss.items()
        ]

    def split(self, params: np.ndarray) -> dict[str, np.ndarray]:
        """Each head's parameters from the decoder's flat output."""
        return {
            head.name: params[:, self.param_offsets[i] : self.param_offsets[i + 1]]
            for i, head in enumerate(self.heads)
        }

    def loss(self, targets: Any, params: Any) -> Any:
        """Weighted sum of every head's loss, per example (shape ``(batch,)``).

        Rows the head's ``mask`` rules out (a missing value) do not count for it.
        """
        ops = _ops()
        pad = ops.zeros_like(targets[:, :1])
        targets = ops.concatenate([targets, pad], axis=1)
        params = ops.concatenate([params, pad], axis=1)
        total = 0.0
        for group in self.groups:
            y_true = ops.take(targets, group.target_index, axis=1)
            predicted = ops.take(params, group.param_index, axis=1)
            per_head = group.loss.batched_loss(y_true, predicted, group.valid, group.width)
            kept = group.keep_base + group.keep_slope * ops.take(targets, group.mask_index, axis=1)
            total = total + ops.sum(per_head * kept * group.weight, axis=1)
        return total


#: Most a head's weight is raised by :func:`balanced_to_marginals`: a nearly constant flag
#: (a value missing in 1 % of rows) carries little to learn, and weighed by the inverse of its
#: marginal's entropy it would count like dozens of columns.
MARGINAL_BALANCE_CAP = 3.0


def balanced_to_marginals(heads: list[HeadSpec], blocks: dict[str, np.ndarray]) -> list[HeadSpec]:
    """``heads`` with each weight raised so that predicting the head's marginal scores 1.

    A head scaled by what a uniform guess scores gains little from the latent code when its
    marginal is far from uniform: a churn flag true in 14 % of rows scores 0.58 from its
    marginal alone, a number's head 1. The KL term then priced such columns out of the code,
    and they were drawn from their marginals, cut off from the columns they depend on; a
    classifier trained on the synthetic rows lost what predicts them. Raised by the inverse of
    the marginal's score (at most ``MARGINAL_BALANCE_CAP`` times, never lowered), every head
    stands to gain about as much as a number's. Rows a head's mask rules out do not count.
    Measured with ``benchmarks/lever.py`` (see benchmarks/README.md). A ``dp`` fit keeps the
    weights as they are: the marginals are read from the rows.

    Parameters
    ----------
    heads : list of HeadSpec
        The output heads.
    blocks : dict of str to numpy.ndarray
        The transformed training rows, a block per head name.

    Returns
    -------
    list of HeadSpec
    """
    balanced = []
    for head in heads:
        block = np.asarray(blocks[head.name])
        if head.mask is not None:
            base, slope = head.mask_keep
            block = block[base + slope * np.asarray(blocks[head.mask])[:, head.mask_unit] > 0.5]
        score = head_loss(head.loss).marginal_score(block)
        if score is None or score <= 0:
            balanced.append(head)
            continue
        factor = min(max(1.0 / score, 1.0), MARGINAL_BALANCE_CAP)
        balanced.append(dataclasses.replace(head, weight=head.weight * factor))
    return balanced


def decode_heads(
    heads: list[HeadSpec],
    params: dict[str, np.ndarray],
    rng: np.random.Generator | None,
    combinations: SeenCombinations | None = None,
    known_levels: dict[str, np.ndarray] | None = None,
) -> dict[str, np.ndarray]:
    """Turn predicted parameters into values: random draws, or the mode when ``rng`` is None.

    Heads are decoded in order; with ``combinations``, a categorical head only takes levels
    the training rows show with the levels already decoded for earlier heads, and with the
    ``known_levels`` rows already have (imputation: a level per row, -1 where not known).
    Known levels restrict the other heads only; each head's own values are still drawn.
    """
    values: dict[str, np.ndarray] = {}
    levels: dict[str, np.ndarray] = {}
    known = known_levels or {}
    for head in heads:
        loss = head_loss(head.loss)
        block = np.asarray(params[head.name])
        if combinations is None or not isinstance(loss, CategoricalLoss):
            values[head.name] = loss.mode(block) if rng is None else loss.draw(block, rng)
            continue
        decode = loss.mode_levels if rng is None else partial(loss.draw_levels, rng=rng)
        drawn = combinations.keep_seen(head.name, block, decode(block), levels, decode, known)
        values[head.name] = _one_hot(drawn, block.shape[1])
        if head.name in known:
            drawn = np.where(known[head.name] >= 0, known[head.name], drawn)
        levels[head.name] = drawn
    return values


def _ops() -> Any:
    # Keras (and TensorFlow) load only when a model trains: the schema layer and the CLI's
    # --help import this module and should stay fast.
    from keras import ops

    from tabvae import _backend  # noqa: F401  (selects the TensorFlow backend)

    return ops


def _sigmoid(logits: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(0.5 * logits))


def _one_hot(index: np.ndarray, width: int) -> np.ndarray:
    out = np.zeros((len(index), width), dtype=np.float32)
    out[np.arange(len(index)), index] = 1.0
    return out
