"""Output heads: what a forecaster's last layer means.

A forecaster built with ``likelihood=`` or ``quantiles=`` emits, per output
feature, the parameters of a one-step distribution instead of one number.
Its :class:`OutputHead` turns those raw outputs into

* the point forecast ``forward`` returns
  (the mean of a likelihood, the median of the quantiles), so every function
  that takes a point forecaster keeps working;
* the distribution :meth:`~seqforecast.BaseForecaster.distribution` returns
  (see :mod:`seqforecast.distributions`);
* the training loss the :class:`~seqforecast.Trainer` uses by default
  (negative log-likelihood, or the pinball loss averaged over the levels).

The raw outputs along the last dimension are ``width`` blocks of
``output_size`` features: block ``i`` holds parameter ``i`` of every feature.

What each head's raw outputs become:

* ``"gaussian"``: loc, and scale = softplus + 1e-6; the point forecast is
  the mean (loc).
* ``"student_t"``: loc, scale = softplus + 1e-6 and df = 2 + softplus (so
  the mean and variance exist); the point forecast is the mean (loc).
* ``"negative_binomial"``: mean = softplus + 1e-6 and dispersion =
  softplus + 1e-6 (variance ``mean + dispersion * mean**2``); the point
  forecast is the mean.
* ``quantiles=(...)``: the lowest quantile, then softplus increments (so
  quantiles never cross); the point forecast is the median.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal, cast

import torch
from torch import Tensor, distributions, nn
from torch.nn import functional as F

from seqforecast._checks import check_choice, check_quantiles, describe
from seqforecast.distributions import Distribution, NegativeBinomial, QuantileDistribution, StudentT

if TYPE_CHECKING:
    from seqforecast.base import BaseForecaster, Forecaster, State

__all__ = [
    "LIKELIHOODS",
    "HeadLoss",
    "HeadParameters",
    "Likelihood",
    "OutputHead",
    "check_counts",
    "check_head",
    "check_quantiles",
    "pinball_loss",
    "training_objective",
]

Likelihood = Literal["gaussian", "student_t", "negative_binomial"]
LIKELIHOODS: tuple[Likelihood, ...] = ("gaussian", "student_t", "negative_binomial")
_WIDTHS = {"gaussian": 2, "student_t": 3, "negative_binomial": 2}
_MIN_SCALE = 1e-6


def check_head(likelihood: object, quantiles: object) -> tuple[Likelihood | None, tuple[float, ...] | None]:
    """The checked ``(likelihood, quantiles)`` of a forecaster (at most one of them not None).

    Example:
        >>> check_head("gaussian", None)
        ('gaussian', None)
    """
    if likelihood is not None and quantiles is not None:
        msg = f"give either `likelihood` or `quantiles`, not both; got likelihood={likelihood!r} and quantiles={quantiles!r}"
        raise ValueError(msg)
    if likelihood is not None:
        if not isinstance(likelihood, str):
            msg = f"`likelihood` must be None or one of {list(LIKELIHOODS)}, got {describe(likelihood)}"
            raise TypeError(msg)
        return cast("Likelihood", check_choice("likelihood", likelihood, LIKELIHOODS)), None
    return None, None if quantiles is None else check_quantiles("quantiles", quantiles)


def head_width(likelihood: str | None, quantiles: Sequence[float] | None) -> int:
    """Raw outputs per output feature: 1 for a point head."""
    if likelihood is not None:
        return _WIDTHS[likelihood]
    return 1 if quantiles is None else len(quantiles)


def _positive(raw: Tensor) -> Tensor:
    return F.softplus(raw) + _MIN_SCALE


class OutputHead(nn.Module):
    """Maps raw outputs ``(..., width * output_size)`` to a point forecast, a distribution and a loss.

    It has no parameters of its own (the forecaster's last layer emits the
    raw outputs), so it adds nothing to a checkpoint.

    Args:
        output_size: Features per time step.
        likelihood: ``"gaussian"``, ``"student_t"`` or ``"negative_binomial"``.
        quantiles: Levels of a multi-quantile head (when ``likelihood`` is None).

    Example:
        >>> import torch
        >>> head = OutputHead(1, likelihood="gaussian")
        >>> raw = torch.zeros(4, 18, 2)  # (batch, time, width * output_size)
        >>> head.point(raw).shape, head.distribution(raw).scale.shape
        (torch.Size([4, 18, 1]), torch.Size([4, 18, 1]))
    """

    levels: Tensor

    def __init__(
        self, output_size: int, *, likelihood: Likelihood | None = None, quantiles: Sequence[float] | None = None
    ) -> None:
        super().__init__()
        self.likelihood = likelihood
        self.quantiles = None if quantiles is None else tuple(quantiles)
        self.output_size = output_size
        self.width = head_width(likelihood, quantiles)
        self.register_buffer("levels", torch.tensor(self.quantiles or (0.5,)), persistent=False)

    def extra_repr(self) -> str:
        kind = f"likelihood={self.likelihood!r}" if self.likelihood else f"quantiles={self.quantiles}"
        return f"{kind}, output_size={self.output_size}, width={self.width}"

    def describe(self) -> str:
        """What the raw outputs hold, in words (for :func:`~seqforecast.trace_shapes`)."""
        if self.likelihood is None:
            what = f"quantile head: {self.width} quantiles per feature, at levels {list(self.quantiles or ())}"
        else:
            names = {"gaussian": "loc, scale", "student_t": "loc, scale, df", "negative_binomial": "mean, dispersion"}
            what = f"{self.likelihood} head: {self.width} parameters per feature ({names[self.likelihood]})"
        return f"{what}, at every step"

    def _split(self, raw: Tensor) -> list[Tensor]:
        """The parameter blocks, each ``(..., output_size)``."""
        return list(raw.reshape(*raw.shape[:-1], self.width, self.output_size).unbind(-2))

    def _quantile_values(self, raw: Tensor) -> Tensor:
        """Non-crossing quantiles, ``(..., output_size, Q)``."""
        blocks = raw.reshape(*raw.shape[:-1], self.width, self.output_size).transpose(-1, -2)  # (..., F, Q)
        if self.width == 1:
            return blocks
        steps = F.softplus(blocks[..., 1:])
        return torch.cat((blocks[..., :1], blocks[..., :1] + steps.cumsum(-1)), dim=-1)

    def distribution(self, raw: Tensor) -> Distribution:
        """The one-step distribution at every position: ``batch_shape`` is ``raw.shape[:-1] + (output_size,)``."""
        if self.likelihood is None:
            return QuantileDistribution(self.levels, self._quantile_values(raw))
        p = self._split(raw)
        if self.likelihood == "gaussian":
            return distributions.Normal(p[0], _positive(p[1]), validate_args=False)
        if self.likelihood == "student_t":
            return StudentT(2.0 + F.softplus(p[2]), p[0], _positive(p[1]), validate_args=False)
        return NegativeBinomial(_positive(p[0]), _positive(p[1]))

    def point(self, raw: Tensor) -> Tensor:
        """The point forecast, ``raw.shape[:-1] + (output_size,)``: the mean, or the median of quantiles."""
        if self.likelihood in ("gaussian", "student_t"):
            return self._split(raw)[0]
        if self.likelihood == "negative_binomial":
            return _positive(self._split(raw)[0])
        return QuantileDistribution(self.levels, self._quantile_values(raw)).icdf(raw.new_tensor(0.5))

    def loss(self, raw: Tensor, targets: Tensor) -> Tensor:
        """Mean negative log-likelihood (pinball loss for quantiles) of ``targets`` ``raw.shape[:-1] + (output_size,)``.

        The targets are not checked here (that would wait for the device at
        every step): the Trainer checks that a negative binomial head's
        targets are counts as windows arrive (``check_counts``).
        """
        if self.likelihood is None:
            return pinball_loss(self._quantile_values(raw), targets.unsqueeze(-1), self.levels)
        dist = cast("distributions.Distribution", self.distribution(raw))
        return -dist.log_prob(targets).mean()


def check_counts(targets: Tensor) -> None:
    """Raise a ValueError unless ``targets`` (any shape) are non-negative integers, for a negative binomial head.

    It reads the values on the host: the Trainer calls it on the windows a
    stream yields on the CPU, before they move to the device.
    """
    low = float(targets.min())
    fractions = targets != torch.round(targets)
    if low < 0 or bool(fractions.any()):
        got = f"negative values (down to {low:g})" if low < 0 else f"fractions such as {float(targets[fractions][0]):g}"
        msg = (
            "likelihood='negative_binomial' needs targets that are counts (non-negative integers), "
            f"got {got}; train on the raw counts (no Scaler) or use likelihood='gaussian'"
        )
        raise ValueError(msg)


def pinball_loss(quantiles: Tensor, targets: Tensor, levels: Tensor) -> Tensor:
    """Mean pinball (quantile) loss: ``quantiles`` ``(..., Q)``, ``targets`` broadcastable, ``levels`` ``(Q,)``.

    Example:
        >>> import torch
        >>> pinball_loss(torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0]]), torch.tensor([0.1, 0.9]))
        tensor(0.0500)
    """
    error = targets - quantiles
    return torch.maximum(levels * error, (levels - 1) * error).mean()


class HeadLoss:
    """The default training loss of a forecaster with a head: ``loss(raw, targets) -> 0-d tensor``.

    Example:
        >>> import torch
        >>> loss = HeadLoss(OutputHead(1, likelihood="gaussian"))
        >>> round(float(loss(torch.zeros(2, 5, 2), torch.zeros(2, 5, 1))), 4)  # -log N(0 | 0, softplus(0))
        0.5524
    """

    def __init__(self, head: OutputHead) -> None:
        self.head = head

    def __call__(self, raw: Tensor, targets: Tensor) -> Tensor:
        return self.head.loss(raw, targets)


class HeadParameters(nn.Module):
    """A forecaster seen through its head: ``forward(x, state) -> (raw, state)``.

    What the Trainer calls when it trains on the head's own loss (the same
    parameters as the model, so optimizers and DDP see the model's weights).
    """

    def __init__(self, model: BaseForecaster) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: Tensor, state: State = None) -> tuple[Tensor, State]:
        return self.model.head_parameters(x, state)


def training_objective(
    model: Forecaster, loss: Callable[[Tensor, Tensor], Tensor] | None
) -> tuple[nn.Module, Callable[[Tensor, Tensor], Tensor]]:
    """``(module to call, loss function)`` for training ``model``.

    A user's ``loss`` is applied to the point forecasts, as always; without
    one, a model with a head trains on the head's loss and a point model on
    the mean squared error.
    """
    head = getattr(model, "output_head", None)
    if loss is not None or not isinstance(head, OutputHead):
        return cast("nn.Module", model), (nn.MSELoss() if loss is None else loss)
    return HeadParameters(cast("BaseForecaster", model)), HeadLoss(head)
