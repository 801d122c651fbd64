"""The three families of forecaster: recurrent, feed-forward and causal convolutional.

All keep the contract of :mod:`seqforecast.base`: ``forward(x, state=None) ->
(y, state)``, ``y[..., t, :]`` forecasting ``x[..., t + 1, :]``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Literal, cast

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from seqforecast._checks import check_bool, check_choice, check_float, check_int, describe
from seqforecast.base import BaseForecaster, ForecasterConfig, State, seeded
from seqforecast.heads import Likelihood, check_head

__all__ = [
    "ConvConfig",
    "ConvForecaster",
    "FeedForwardConfig",
    "FeedForwardForecaster",
    "RecurrentConfig",
    "RecurrentForecaster",
    "model_from_config",
]

Cell = Literal["rnn", "lstm", "gru"]
CELLS: tuple[Cell, ...] = ("rnn", "lstm", "gru")


@dataclasses.dataclass(frozen=True)
class RecurrentConfig(ForecasterConfig):
    """Configuration of a :class:`RecurrentForecaster`."""

    input_size: int = 1
    output_size: int = 1
    hidden_size: int = 32
    num_layers: int = 3
    cell: Cell = "rnn"
    batch_first: bool = True
    dropout: float = 0.0
    likelihood: Likelihood | None = None
    quantiles: tuple[float, ...] | None = None


@dataclasses.dataclass(frozen=True)
class FeedForwardConfig(ForecasterConfig):
    """Configuration of a :class:`FeedForwardForecaster`."""

    input_size: int = 1
    output_size: int = 1
    hidden_sizes: tuple[int, ...] = (128,)
    window: int = 1
    batch_first: bool = True
    likelihood: Likelihood | None = None
    quantiles: tuple[float, ...] | None = None


@dataclasses.dataclass(frozen=True)
class ConvConfig(ForecasterConfig):
    """Configuration of a :class:`ConvForecaster`."""

    input_size: int = 1
    output_size: int = 1
    channels: int = 100
    num_layers: int = 2
    kernel_size: int = 3
    dilation_base: int = 1
    head_hidden: int = 100
    negative_slope: float = 0.03
    batch_first: bool = True
    likelihood: Likelihood | None = None
    quantiles: tuple[float, ...] | None = None


class RecurrentForecaster(BaseForecaster):
    """A stacked RNN, LSTM or GRU with a linear head applied at every step.

    With the defaults this is the notebook's network: ``nn.RNN(1, 32,
    num_layers=3)`` followed by ``nn.Linear(32, 1)``. Its memory is unbounded
    (:attr:`context_length` is ``None``).

    Args:
        input_size: Features per time step of the input.
        output_size: Features per time step of the output.
        hidden_size: Width of each recurrent layer.
        num_layers: Number of stacked recurrent layers.
        cell: ``"rnn"`` (tanh), ``"lstm"`` or ``"gru"``.
        batch_first: Layout of input and output, see :meth:`forward`.
        dropout: Dropout between recurrent layers, in ``[0, 1)``.
        likelihood: ``None`` (a point forecast), or ``"gaussian"``,
            ``"student_t"`` or ``"negative_binomial"``: the last layer emits
            that distribution's parameters (:mod:`seqforecast.heads`),
            :meth:`forward` returns its mean and
            :meth:`~seqforecast.BaseForecaster.distribution` the distribution
            itself.
        quantiles: Instead of a likelihood, increasing levels in ``(0, 1)``
            of a multi-quantile head (non-crossing; :meth:`forward` returns
            the median).
        seed: Seed of the initial weights (torch's own generator is left
            alone); ``None`` draws them from torch's generator.

    State:
        ``h`` of shape ``(num_layers, batch, hidden_size)``; for an LSTM the
        pair ``(h, c)`` of that shape.

    Example:
        >>> import torch, seqforecast as sf
        >>> _ = torch.manual_seed(0)
        >>> model = sf.RecurrentForecaster(cell="lstm")
        >>> y, (h, c) = model(torch.zeros(4, 18, 1))
        >>> y.shape, h.shape
        (torch.Size([4, 18, 1]), torch.Size([3, 4, 32]))
    """

    config_class = RecurrentConfig

    def __init__(
        self,
        input_size: int = 1,
        output_size: int = 1,
        hidden_size: int = 32,
        num_layers: int = 3,
        *,
        cell: Cell = "rnn",
        batch_first: bool = True,
        dropout: float = 0.0,
        likelihood: Likelihood | None = None,
        quantiles: Sequence[float] | None = None,
        seed: int | None = None,
    ) -> None:
        head = check_head(likelihood, quantiles)
        config = RecurrentConfig(
            input_size=check_int("input_size", input_size),
            output_size=check_int("output_size", output_size),
            hidden_size=check_int("hidden_size", hidden_size),
            num_layers=check_int("num_layers", num_layers),
            cell=cast("Cell", check_choice("cell", cell, CELLS)),
            batch_first=check_bool("batch_first", batch_first),
            dropout=check_float("dropout", dropout, low=0.0, high=1.0, high_inclusive=False),
            likelihood=head[0],
            quantiles=head[1],
        )
        super().__init__(config)
        self.input_size = config.input_size
        self.output_size = config.output_size
        self.batch_first = config.batch_first
        rnn_class = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[config.cell]
        with seeded(seed):
            self.rnn = rnn_class(
                config.input_size,
                config.hidden_size,
                num_layers=config.num_layers,
                batch_first=config.batch_first,
                dropout=config.dropout if config.num_layers > 1 else 0.0,
            )
            self.head = nn.Linear(config.hidden_size, self.raw_output_size)

    @property
    def context_length(self) -> int | None:
        """Always ``None``, as a recurrent network's memory is unbounded."""
        return None

    def _expected_state_shapes(self, batch: int) -> tuple[tuple[int, ...], ...]:
        shape = (self.config.num_layers, batch, self.config.hidden_size)
        return (shape, shape) if self.config.cell == "lstm" else (shape,)

    def _zero_state(self, batch_size: int, device: torch.device, dtype: torch.dtype) -> State:
        shape = (self.config.num_layers, batch_size, self.config.hidden_size)
        if self.config.cell == "lstm":
            return (torch.zeros(shape, device=device, dtype=dtype), torch.zeros(shape, device=device, dtype=dtype))
        return torch.zeros(shape, device=device, dtype=dtype)

    def _forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        features, new_state = self.rnn(x, state)  # (B, T, H) or (T, B, H)
        return self.head(features), new_state


MAX_CONTEXT = 2**20
"""The longest context (inputs remembered) a feed-forward or conv forecaster may have."""


def _check_context(context: int, settings: str) -> int:
    """Return ``context`` if it is at most :data:`MAX_CONTEXT`, before any layer is built."""
    if context > MAX_CONTEXT:
        msg = (
            f"{settings} give a context of {context:.3g} past inputs; at most {MAX_CONTEXT} are supported "
            f"(the state holds that many inputs per series)"
        )
        raise ValueError(msg)
    return context


class _ContextForecaster(BaseForecaster):
    """A forecaster whose state is its last ``context_length`` inputs."""

    def _lane_dim(self) -> int:
        return 0 if self.batch_first else 1  # (B, context, F) or (context, B, F)

    def _expected_state_shapes(self, batch: int) -> tuple[tuple[int, ...], ...]:
        context = cast("int", self.context_length)
        shape = (batch, context, self.input_size) if self.batch_first else (context, batch, self.input_size)
        return (shape,)

    def _zero_state(self, batch_size: int, device: torch.device, dtype: torch.dtype) -> State:
        return torch.zeros(self._expected_state_shapes(batch_size)[0], device=device, dtype=dtype)

    def _forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        context = cast("int", self.context_length)
        if not self.batch_first:
            x = x.transpose(0, 1)  # (B, T, F)
        if state is None:
            past = x.new_zeros(x.shape[0], context, x.shape[2])
        else:
            past = cast("Tensor", state)
            past = past if self.batch_first else past.transpose(0, 1)
            if past.dtype != x.dtype:
                past = past.to(x.dtype)
        full = torch.cat((past, x), dim=1) if context else x  # (B, context + T, F)
        y = self._forward_full(full)  # (B, T, output_size)
        new_state = full[:, full.shape[1] - context :]  # (B, context, F)
        if not self.batch_first:
            y, new_state = y.transpose(0, 1), new_state.transpose(0, 1)
        return y, new_state

    def _forward_full(self, full: Tensor) -> Tensor:
        """Map ``(B, context + T, F)`` to the ``(B, T, output_size)`` forecasts."""
        raise NotImplementedError


class FeedForwardForecaster(_ContextForecaster):
    """A multilayer perceptron on the last ``window`` inputs.

    ``window=1`` is the notebook's memory-less net (``Linear(1, 128) → ReLU →
    Linear(128, 1)`` on each point alone): it cannot tell a rising zero
    crossing from a falling one. ``window=k`` feeds the last ``k`` inputs
    (lags), so it remembers ``k - 1`` of them.

    Args:
        input_size: Features per time step of the input.
        output_size: Features per time step of the output.
        hidden_sizes: Widths of the hidden layers (ReLU); ``()`` for a linear model.
        window: Number of most recent inputs each output sees.
        batch_first: Layout of input and output, see :meth:`forward`.
        likelihood: The head, as for :class:`RecurrentForecaster`.
        quantiles: The levels of a quantile head, as for :class:`RecurrentForecaster`.
        seed: Seed of the initial weights, as for :class:`RecurrentForecaster`.

    State:
        The last ``window - 1`` inputs, ``(batch, window - 1, input_size)``
        in the model's layout.

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.FeedForwardForecaster(window=4)
        >>> y, state = model(torch.zeros(2, 18, 1))
        >>> y.shape, state.shape, model.context_length
        (torch.Size([2, 18, 1]), torch.Size([2, 3, 1]), 3)
    """

    config_class = FeedForwardConfig

    def __init__(
        self,
        input_size: int = 1,
        output_size: int = 1,
        hidden_sizes: tuple[int, ...] = (128,),
        *,
        window: int = 1,
        batch_first: bool = True,
        likelihood: Likelihood | None = None,
        quantiles: Sequence[float] | None = None,
        seed: int | None = None,
    ) -> None:
        sizes_given: object = hidden_sizes
        if isinstance(sizes_given, (str, bytes)) or not hasattr(sizes_given, "__iter__"):
            msg = f"`hidden_sizes` must be a sequence of positive integers, got {describe(hidden_sizes)}"
            raise TypeError(msg)
        sizes = tuple(check_int(f"hidden_sizes[{i}]", h) for i, h in enumerate(hidden_sizes))
        head = check_head(likelihood, quantiles)
        config = FeedForwardConfig(
            input_size=check_int("input_size", input_size),
            output_size=check_int("output_size", output_size),
            hidden_sizes=sizes,
            window=check_int("window", window),
            batch_first=check_bool("batch_first", batch_first),
            likelihood=head[0],
            quantiles=head[1],
        )
        super().__init__(config)
        self.input_size = config.input_size
        self.output_size = config.output_size
        self.batch_first = config.batch_first
        self._context = _check_context(config.window - 1, f"`window`={config.window}")  # read on every forward pass
        layers: list[nn.Module] = []
        width = config.window * config.input_size
        with seeded(seed):
            for size in sizes:
                layers += [nn.Linear(width, size), nn.ReLU()]
                width = size
            layers.append(nn.Linear(width, self.raw_output_size))
        self.net = nn.Sequential(*layers)

    @property
    def context_length(self) -> int:
        """The inputs remembered besides the current one, ``window - 1``."""
        return self._context

    def _forward_full(self, full: Tensor) -> Tensor:
        window = self.config.window
        if window == 1:
            return cast("Tensor", self.net(full))
        lags = full.unfold(1, window, 1)  # (B, T, F, window), oldest lag first
        lags = lags.transpose(2, 3).flatten(2)  # (B, T, window * F)
        return cast("Tensor", self.net(lags))


class ConvForecaster(_ContextForecaster):
    """The notebook's 1-D convolutional stack, made causal.

    ``num_layers`` convolutions (``kernel_size``, dilation
    ``dilation_base ** i`` for layer ``i``) with LeakyReLU, then per time step
    ``Linear(channels, head_hidden) → LeakyReLU → Linear(head_hidden,
    output_size)`` (a linear output). Padding is on the left only, taken from
    the state, so the output at ``t`` never sees an input after ``t``.

    Args:
        input_size: Features per time step of the input.
        output_size: Features per time step of the output.
        channels: Channels of every convolution.
        num_layers: Number of convolutions.
        kernel_size: Kernel width of every convolution.
        dilation_base: Dilation grows as ``dilation_base ** layer`` (1: none).
        head_hidden: Width of the per-step hidden layer of the head.
        negative_slope: Slope of the LeakyReLU activations.
        batch_first: Layout of input and output, see :meth:`forward`.
        likelihood: The head, as for :class:`RecurrentForecaster`.
        quantiles: The levels of a quantile head, as for :class:`RecurrentForecaster`.
        seed: Seed of the initial weights, as for :class:`RecurrentForecaster`.

    State:
        The last ``(kernel_size - 1) * sum(dilations)`` inputs,
        ``(batch, context_length, input_size)`` in the model's layout.

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.ConvForecaster(channels=8, head_hidden=8, dilation_base=2)
        >>> y, state = model(torch.zeros(1, 18, 1))
        >>> y.shape, model.context_length
        (torch.Size([1, 18, 1]), 6)
    """

    config_class = ConvConfig

    def __init__(
        self,
        input_size: int = 1,
        output_size: int = 1,
        channels: int = 100,
        num_layers: int = 2,
        kernel_size: int = 3,
        *,
        dilation_base: int = 1,
        head_hidden: int = 100,
        negative_slope: float = 0.03,
        batch_first: bool = True,
        likelihood: Likelihood | None = None,
        quantiles: Sequence[float] | None = None,
        seed: int | None = None,
    ) -> None:
        head = check_head(likelihood, quantiles)
        config = ConvConfig(
            input_size=check_int("input_size", input_size),
            output_size=check_int("output_size", output_size),
            channels=check_int("channels", channels),
            num_layers=check_int("num_layers", num_layers),
            kernel_size=check_int("kernel_size", kernel_size),
            dilation_base=check_int("dilation_base", dilation_base),
            head_hidden=check_int("head_hidden", head_hidden),
            negative_slope=check_float("negative_slope", negative_slope, low=0.0),
            batch_first=check_bool("batch_first", batch_first),
            likelihood=head[0],
            quantiles=head[1],
        )
        super().__init__(config)
        self.input_size = config.input_size
        self.output_size = config.output_size
        self.batch_first = config.batch_first
        self.dilations: tuple[int, ...] = tuple(int(config.dilation_base**i) for i in range(config.num_layers))
        self._context = _check_context(  # read on every forward pass
            (config.kernel_size - 1) * sum(self.dilations),
            f"`num_layers`={config.num_layers}, `kernel_size`={config.kernel_size} and "
            f"`dilation_base`={config.dilation_base}",
        )
        with seeded(seed):
            self.convs = nn.ModuleList(
                nn.Conv1d(
                    config.input_size if i == 0 else config.channels, config.channels, config.kernel_size, dilation=d
                )
                for i, d in enumerate(self.dilations)
            )
            self.head = nn.Sequential(
                nn.Linear(config.channels, config.head_hidden),
                nn.LeakyReLU(config.negative_slope),
                nn.Linear(config.head_hidden, self.raw_output_size),
            )

    @property
    def context_length(self) -> int:
        """The receptive field minus one, ``(kernel_size - 1) * sum(dilations)``."""
        return self._context

    def _forward_full(self, full: Tensor) -> Tensor:
        h = full.transpose(1, 2)  # (B, F, context + T)
        for conv in self.convs:
            h = F.leaky_relu(conv(h), self.config.negative_slope)  # shrinks by (k - 1) * d
        return cast("Tensor", self.head(h.transpose(1, 2)))  # (B, T, output_size)


_MODEL_CLASSES: dict[str, type[BaseForecaster]] = {
    "RecurrentForecaster": RecurrentForecaster,
    "FeedForwardForecaster": FeedForwardForecaster,
    "ConvForecaster": ConvForecaster,
}


def model_from_config(class_name: str, config: Mapping[str, Any]) -> BaseForecaster:
    """Build a forecaster from its class name and ``model.config.to_dict()``.

    Args:
        class_name: ``"RecurrentForecaster"``, ``"FeedForwardForecaster"`` or
            ``"ConvForecaster"``.
        config: The configuration as a mapping (JSON-ready).

    Returns:
        A new forecaster with freshly initialised weights.

    Raises:
        ValueError: Unknown class name or configuration keys.

    Example:
        >>> import seqforecast as sf
        >>> m = sf.RecurrentForecaster(cell="gru", num_layers=2)
        >>> sf.model_from_config("RecurrentForecaster", m.config.to_dict()).config == m.config
        True
    """
    if class_name not in _MODEL_CLASSES:
        msg = f"`class_name` must be one of {sorted(_MODEL_CLASSES)}, got {class_name!r}"
        raise ValueError(msg)
    model_class = _MODEL_CLASSES[class_name]
    parsed = model_class.config_class.from_dict(config)
    return model_class(**dataclasses.asdict(parsed))
