"""The three families of forecaster and the state they carry.

Every forecaster maps an input sequence and a state to an output sequence and
a new state, ``forward(x, state=None) -> (y, state)``, where ``y[..., t, :]``
is the forecast of ``x[..., t + 1, :]``. The state is what the model remembers
of the past:

* :class:`RecurrentForecaster` — the hidden state of its RNN/GRU, shape
  ``(num_layers, batch, hidden_size)``, or the ``(h, c)`` pair of its LSTM;
* :class:`FeedForwardForecaster` and :class:`ConvForecaster` — the last
  :attr:`~BaseForecaster.context_length` inputs, shape
  ``(batch, context_length, input_size)`` in the model's layout.

``None`` is a fresh start (zeros). Running a sequence in two pieces, passing
the state from the first to the second, gives the same output as running it
whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Literal, Protocol, TypeAlias, cast, runtime_checkable

import torch
from torch import Tensor, nn
from torch.nn import functional as F
from typing_extensions import Self

from seqforecast._checks import check_bool, check_choice, check_float, check_int, describe

__all__ = [
    "BaseForecaster",
    "ConvConfig",
    "ConvForecaster",
    "FeedForwardConfig",
    "FeedForwardForecaster",
    "Forecaster",
    "RecurrentConfig",
    "RecurrentForecaster",
    "State",
    "detach_state",
    "model_from_config",
]

State: TypeAlias = Tensor | tuple[Tensor, ...] | None
"""What a forecaster carries from one call to the next (``None`` = fresh start)."""

Cell = Literal["rnn", "lstm", "gru"]
CELLS: tuple[Cell, ...] = ("rnn", "lstm", "gru")


def detach_state(state: State) -> State:
    """Detach every tensor of ``state`` from the autograd graph.

    This is the truncation of truncated back-propagation through time: the
    values are kept, gradients stop at the window edge. Works for every
    forecaster's state.

    Args:
        state: ``None``, a tensor, or a tuple of tensors (an LSTM's ``(h, c)``).

    Returns:
        The same structure with detached tensors (``None`` stays ``None``).

    Example:
        >>> import torch, seqforecast as sf
        >>> h = torch.zeros(3, 1, 32, requires_grad=True) * 2
        >>> sf.detach_state(h).requires_grad
        False
        >>> sf.detach_state(None) is None
        True
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    return tuple(s.detach() for s in state)


@dataclasses.dataclass(frozen=True)
class _Config:
    """Base of the model configurations: frozen and JSON-serialisable."""

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as a JSON-serialisable ``dict``."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in dataclasses.fields(self)
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build a configuration from :meth:`to_dict` output.

        Raises:
            ValueError: ``data`` has unknown or missing keys.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            msg = f"`data` has unknown keys for {cls.__name__}: {unknown}; expected a subset of {sorted(names)}"
            raise ValueError(msg)
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)


@dataclasses.dataclass(frozen=True)
class RecurrentConfig(_Config):
    """Configuration of a :class:`RecurrentForecaster`."""

    input_size: int = 1
    output_size: int = 1
    hidden_size: int = 32
    num_layers: int = 3
    cell: Cell = "rnn"
    batch_first: bool = True
    dropout: float = 0.0


@dataclasses.dataclass(frozen=True)
class FeedForwardConfig(_Config):
    """Configuration of a :class:`FeedForwardForecaster`."""

    input_size: int = 1
    output_size: int = 1
    hidden_sizes: tuple[int, ...] = (128,)
    window: int = 1
    batch_first: bool = True


@dataclasses.dataclass(frozen=True)
class ConvConfig(_Config):
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


@runtime_checkable
class Forecaster(Protocol):
    """What :class:`~seqforecast.Trainer` and the inference helpers rely on.

    The three forecasters of this library satisfy it; so does any
    :class:`torch.nn.Module` that provides these members.
    """

    input_size: int
    output_size: int
    batch_first: bool

    @property
    def context_length(self) -> int | None:
        """Inputs the model remembers (``None``: unbounded, as in an RNN)."""
        ...

    @property
    def config(self) -> Any:
        """The frozen configuration the model was built from."""
        ...

    def init_state(
        self, batch_size: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> State:
        """The state of a fresh start for ``batch_size`` series."""
        ...

    def __call__(self, x: Tensor, state: State = None) -> tuple[Tensor, State]:
        """Forecast every next step of ``x``; return the outputs and new state."""
        ...

    def parameters(self, recurse: bool = True) -> Iterator[nn.Parameter]:
        """The trainable parameters."""
        ...

    def train(self, mode: bool = True) -> Any:
        """Switch training mode (dropout) on or off."""
        ...


class BaseForecaster(nn.Module):
    """Shared behaviour of the forecasters: input and state checks, layouts.

    Subclasses implement :meth:`_forward` on batch-first input that has
    already been validated.
    """

    config_class: ClassVar[type[_Config]]
    input_size: int
    output_size: int
    batch_first: bool

    def __init__(self, config: _Config) -> None:
        super().__init__()
        self._config = config

    @property
    def config(self) -> Any:
        """The frozen, JSON-serialisable configuration of this model."""
        return self._config

    @property
    def context_length(self) -> int | None:
        """How many past inputs the model remembers; ``None`` for unbounded."""
        raise NotImplementedError

    def _param(self) -> Tensor:
        return next(self.parameters())

    def init_state(
        self, batch_size: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> State:
        """Return the state of a fresh start: zeros.

        Args:
            batch_size: Number of series in the batch.
            device: Device of the state (default: the model's).
            dtype: Dtype of the state (default: the model's).

        Returns:
            The zero state; see the class docstring for its shape.
        """
        check_int("batch_size", batch_size)
        param = self._param()
        return self._zero_state(
            batch_size, param.device if device is None else torch.device(device), dtype or param.dtype
        )

    def _zero_state(self, batch_size: int, device: torch.device, dtype: torch.dtype) -> State:
        raise NotImplementedError

    def __call__(self, x: Tensor, state: State = None) -> tuple[Tensor, State]:
        return cast("tuple[Tensor, State]", super().__call__(x, state))

    def forward(self, x: Tensor, state: State = None) -> tuple[Tensor, State]:
        """Forecast the next step at every time step of ``x``.

        Args:
            x: Input of shape ``(batch, time, input_size)`` if
                ``batch_first`` else ``(time, batch, input_size)``. Floating
                dtypes are cast to the model's dtype.
            state: The state returned by a previous call, or ``None``.

        Returns:
            ``(y, state)``: ``y`` in the layout of ``x`` with ``output_size``
            features, ``y[..., t, :]`` forecasting ``x[..., t + 1, :]``; and
            the state after the last step.

        Raises:
            TypeError: ``x`` is not a floating tensor, or ``state`` has the
                wrong type.
            ValueError: ``x`` or ``state`` has the wrong shape or device.
        """
        x = self._check_input(x)
        batch = x.shape[0] if self.batch_first else x.shape[1]
        self._check_state(state, batch, x.device)
        return self._forward(x, state)

    def _forward(self, x: Tensor, state: State) -> tuple[Tensor, State]:
        raise NotImplementedError

    def _check_input(self, x: object) -> Tensor:
        layout = "(batch, time, features)" if self.batch_first else "(time, batch, features)"
        if not isinstance(x, Tensor):
            msg = f"`x` must be a torch.Tensor of shape {layout}, got {describe(x)}"
            raise TypeError(msg)
        if x.dim() != 3:
            msg = f"`x` must have 3 dimensions {layout}, got shape {tuple(x.shape)}"
            raise ValueError(msg)
        if x.shape[-1] != self.input_size:
            msg = f"`x` must have {self.input_size} features (input_size) in its last dimension, got shape {tuple(x.shape)}"
            raise ValueError(msg)
        if x.shape[0] == 0 or x.shape[1] == 0:
            msg = f"`x` must have at least one series and one time step {layout}, got shape {tuple(x.shape)}"
            raise ValueError(msg)
        param = self._param()
        if not x.is_floating_point():
            msg = f"`x` must have a floating dtype, got {x.dtype}"
            raise TypeError(msg)
        if x.device != param.device:
            msg = f"`x` is on {x.device} but the model is on {param.device}; move one of them"
            raise ValueError(msg)
        return x if x.dtype == param.dtype else x.to(param.dtype)

    def _expected_state_shapes(self, batch: int) -> tuple[tuple[int, ...], ...]:
        raise NotImplementedError

    def _check_state(self, state: State, batch: int, device: torch.device) -> None:
        if state is None:
            return
        expected = self._expected_state_shapes(batch)
        tensors: object = (state,) if isinstance(state, Tensor) else state
        want = expected[0] if len(expected) == 1 else expected
        if not isinstance(tensors, tuple) or not all(isinstance(t, Tensor) for t in tensors):
            msg = f"`state` must be None or a tensor (tuple of {len(expected)} tensors) of shape {want}, got {describe(state)}"
            raise TypeError(msg)
        if len(tensors) != len(expected) or (len(expected) > 1 and isinstance(state, Tensor)):
            msg = f"`state` must be {'a tuple of ' + str(len(expected)) + ' tensors' if len(expected) > 1 else 'one tensor'} of shape {want}, got {len(tensors)} tensor(s)"
            raise TypeError(msg)
        got = tuple(tuple(t.shape) for t in tensors)
        if got != expected:
            got_text = got[0] if len(got) == 1 else got
            msg = f"`state` must have shape {want} for a batch of {batch}, got {got_text}; was it made by another model or batch size?"
            raise ValueError(msg)
        for t in tensors:
            if t.device != device:
                msg = f"`state` is on {t.device} but the input is on {device}"
                raise ValueError(msg)


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
    ) -> None:
        config = RecurrentConfig(
            input_size=check_int("input_size", input_size),
            output_size=check_int("output_size", output_size),
            hidden_size=check_int("hidden_size", hidden_size),
            num_layers=check_int("num_layers", num_layers),
            cell=cast("Cell", check_choice("cell", cell, CELLS)),
            batch_first=check_bool("batch_first", batch_first),
            dropout=check_float("dropout", dropout, low=0.0, high=1.0, high_inclusive=False),
        )
        super().__init__(config)
        self.input_size = config.input_size
        self.output_size = config.output_size
        self.batch_first = config.batch_first
        rnn_class = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[config.cell]
        self.rnn = rnn_class(
            config.input_size,
            config.hidden_size,
            num_layers=config.num_layers,
            batch_first=config.batch_first,
            dropout=config.dropout if config.num_layers > 1 else 0.0,
        )
        self.head = nn.Linear(config.hidden_size, config.output_size)

    @property
    def context_length(self) -> int | None:
        """``None``: a recurrent network's memory is unbounded."""
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


class _ContextForecaster(BaseForecaster):
    """A forecaster whose state is its last ``context_length`` inputs."""

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
    ) -> None:
        sizes_given: object = hidden_sizes
        if isinstance(sizes_given, (str, bytes)) or not hasattr(sizes_given, "__iter__"):
            msg = f"`hidden_sizes` must be a sequence of positive integers, got {describe(hidden_sizes)}"
            raise TypeError(msg)
        sizes = tuple(check_int(f"hidden_sizes[{i}]", h) for i, h in enumerate(hidden_sizes))
        config = FeedForwardConfig(
            input_size=check_int("input_size", input_size),
            output_size=check_int("output_size", output_size),
            hidden_sizes=sizes,
            window=check_int("window", window),
            batch_first=check_bool("batch_first", batch_first),
        )
        super().__init__(config)
        self.input_size = config.input_size
        self.output_size = config.output_size
        self.batch_first = config.batch_first
        layers: list[nn.Module] = []
        width = config.window * config.input_size
        for size in sizes:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, config.output_size))
        self.net = nn.Sequential(*layers)

    @property
    def context_length(self) -> int:
        """``window - 1``: the inputs remembered besides the current one."""
        return int(self.config.window) - 1

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
    ) -> None:
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
        )
        super().__init__(config)
        self.input_size = config.input_size
        self.output_size = config.output_size
        self.batch_first = config.batch_first
        self.dilations: tuple[int, ...] = tuple(int(config.dilation_base**i) for i in range(config.num_layers))
        self.convs = nn.ModuleList(
            nn.Conv1d(config.input_size if i == 0 else config.channels, config.channels, config.kernel_size, dilation=d)
            for i, d in enumerate(self.dilations)
        )
        self.head = nn.Sequential(
            nn.Linear(config.channels, config.head_hidden),
            nn.LeakyReLU(config.negative_slope),
            nn.Linear(config.head_hidden, config.output_size),
        )

    @property
    def context_length(self) -> int:
        """``(kernel_size - 1) * sum(dilations)``: the receptive field minus one."""
        return (int(self.config.kernel_size) - 1) * sum(self.dilations)

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


def check_forecaster(value: object) -> Forecaster:
    """Return ``value`` if it is a forecaster module, else raise :class:`TypeError`."""
    if not isinstance(value, nn.Module) or not isinstance(value, Forecaster):
        msg = f"`model` must be a forecaster (an nn.Module with forward(x, state) -> (y, state)), got {describe(value)}"
        raise TypeError(msg)
    return value


def model_from_config(class_name: str, config: Mapping[str, Any]) -> BaseForecaster:
    """Build a forecaster from its class name and :meth:`config.to_dict()`.

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
