"""The contract every forecaster keeps: ``forward(x, state) -> (y, state)``.

The state is what a forecaster remembers of the past:

* a recurrent network's hidden state, ``(num_layers, batch, hidden_size)``,
  or the ``(h, c)`` pair of an LSTM;
* for the feed-forward and convolutional forecasters, the last
  ``context_length`` inputs, ``(batch, context_length, input_size)`` in the
  model's layout.

``None`` is a fresh start (zeros). Running a sequence in two pieces, passing
the state from the first to the second, gives the same output as running it
whole.

``State`` and the functions over it (detach, reset of lanes, checks) live in
``seqforecast._state``; this module re-exports them.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Protocol, TypeVar, cast, runtime_checkable

import torch
from torch import Tensor, nn

from seqforecast._checks import check_int, describe, resolve_device
from seqforecast._state import State, check_state, detach_state, reset_lanes, state_like, state_tensors
from seqforecast.distributions import Distribution
from seqforecast.heads import LIKELIHOODS, OutputHead

__all__ = [
    "BaseForecaster",
    "Forecaster",
    "State",
    "check_forecaster",
    "detach_state",
    "point_head_message",
    "seeded",
    "state_like",
    "state_tensors",
]

_ConfigT = TypeVar("_ConfigT", bound="ForecasterConfig")


def seeded(seed: int | None) -> contextlib.AbstractContextManager[object]:
    """A context in which torch's CPU generator is seeded with ``seed``, restored afterwards.

    The forecasters build their layers inside it, so ``seed=`` fixes their
    initial weights without touching the caller's generator. ``None`` leaves
    the generator as it is (the weights follow ``torch.manual_seed``).

    Example:
        >>> import torch
        >>> with seeded(0):
        ...     a = torch.rand(2)
        >>> with seeded(0):
        ...     b = torch.rand(2)
        >>> torch.equal(a, b)
        True
    """
    if seed is None:
        return contextlib.nullcontext()
    seed = check_int("seed", seed, minimum=0)
    forked = torch.random.fork_rng(devices=[])

    @contextlib.contextmanager
    def scope() -> Iterator[None]:
        with forked:
            torch.manual_seed(seed)
            yield

    return scope()


@dataclasses.dataclass(frozen=True)
class ForecasterConfig:
    """Base of the model configurations: frozen and JSON-serialisable."""

    def to_dict(self) -> dict[str, Any]:
        """Return the configuration as a JSON-serialisable ``dict``."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v for f in dataclasses.fields(self)
        }

    @classmethod
    def from_dict(cls: type[_ConfigT], data: Mapping[str, Any]) -> _ConfigT:
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


@runtime_checkable
class Forecaster(Protocol):
    """What :class:`~seqforecast.Trainer` and the inference helpers rely on.

    The three forecasters of this library satisfy it; so does any
    :class:`torch.nn.Module` that provides these members.

    Example:
        >>> import seqforecast as sf
        >>> isinstance(sf.RecurrentForecaster(), sf.Forecaster)
        True
    """

    input_size: int
    output_size: int
    batch_first: bool

    @property
    def context_length(self) -> int | None:
        """How many past inputs the model remembers, or ``None`` for unbounded memory (an RNN)."""
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

    def reset_state(self, state: State, reset: Tensor) -> State:
        """``state`` with the lanes marked in ``reset`` (bool, ``(batch,)``) back at a fresh start."""
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

    Subclasses implement ``_forward`` on input that has already been
    validated. :class:`RecurrentForecaster`, :class:`FeedForwardForecaster`
    and :class:`ConvForecaster` are its subclasses.
    """

    config_class: ClassVar[type[ForecasterConfig]]
    input_size: int
    output_size: int
    batch_first: bool

    def __init__(self, config: ForecasterConfig) -> None:
        super().__init__()
        self._config = config
        likelihood, quantiles = getattr(config, "likelihood", None), getattr(config, "quantiles", None)
        self.output_head: OutputHead | None = None
        if likelihood is not None or quantiles is not None:
            self.output_head = OutputHead(getattr(config, "output_size", 1), likelihood=likelihood, quantiles=quantiles)

    @property
    def raw_output_size(self) -> int:
        """The width of the last layer, ``output_size`` times the parameters per feature of the head."""
        return self.output_size * (1 if self.output_head is None else self.output_head.width)

    @property
    def config(self) -> Any:
        """The frozen, JSON-serialisable configuration of this model."""
        return self._config

    @property
    def context_length(self) -> int | None:
        """How many past inputs the model remembers; ``None`` for unbounded."""
        raise NotImplementedError

    def _param(self) -> Tensor:
        """The first parameter, whose device and dtype are the model's.

        The same as ``next(self.parameters())``, found without its chain of
        generators: every forward pass asks for it, so its cost is per step.
        """
        found = _first_parameter(self)
        return found if found is not None else next(self.parameters())

    def init_state(
        self, batch_size: int, device: torch.device | str | None = None, dtype: torch.dtype | None = None
    ) -> State:
        """Return the state of a fresh start: zeros.

        Args:
            batch_size: Number of series in the batch.
            device: Device of the state (default: the model's).
            dtype: Dtype of the state (default: the model's).

        Returns:
            The zero state: ``(num_layers, batch_size, hidden_size)`` for a
            recurrent network (a pair for an LSTM), ``(batch_size,
            context_length, input_size)`` for the others (time first when
            ``batch_first`` is False).

        Example:
            >>> import seqforecast as sf
            >>> sf.RecurrentForecaster(num_layers=2, hidden_size=8).init_state(5).shape
            torch.Size([2, 5, 8])
            >>> sf.ConvForecaster(kernel_size=3, num_layers=2).init_state(5).shape
            torch.Size([5, 4, 1])
        """
        check_int("batch_size", batch_size)
        param = self._param()
        return self._zero_state(
            batch_size, param.device if device is None else resolve_device(device), dtype or param.dtype
        )

    def _zero_state(self, batch_size: int, device: torch.device, dtype: torch.dtype) -> State:
        raise NotImplementedError

    def _lane_dim(self) -> int:
        """The dimension of each state tensor that indexes the lanes (series) of a batch."""
        return 1

    def reset_state(self, state: State, reset: Tensor) -> State:
        """Return ``state`` with the lanes marked in ``reset`` back at a fresh start.

        The marked lanes get zeros, the fresh state of every forecaster here
        (:meth:`init_state`); the others keep theirs. This is a masked blend on the device: no loop over
        lanes and no host synchronisation. A lane reset this way gives
        exactly the outputs of running that lane alone from ``None``.

        Args:
            state: A state for a batch of ``batch`` lanes, or ``None`` (every
                lane fresh already: returned as is).
            reset: Bool tensor of shape ``(batch,)``, True where a lane
                starts afresh (moved to the state's device if needed).

        Returns:
            The state, same structure and shapes.

        Raises:
            TypeError: ``reset`` is not a bool tensor.
            ValueError: ``reset`` does not have one entry per lane.

        Example:
            >>> import torch, seqforecast as sf
            >>> model = sf.RecurrentForecaster(hidden_size=4, num_layers=2)
            >>> h = torch.ones(2, 3, 4)  # (num_layers, batch, hidden_size)
            >>> model.reset_state(h, torch.tensor([False, True, False]))[:, :, 0]
            tensor([[1., 0., 1.],
                    [1., 0., 1.]])
        """
        return reset_lanes(state, reset, self._lane_dim())

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

        Example:
            >>> import torch, seqforecast as sf
            >>> model = sf.RecurrentForecaster(hidden_size=8, num_layers=2)
            >>> x = torch.randn(4, 10, 1)  # (batch, time, features)
            >>> y, h = model(x)
            >>> y.shape, h.shape
            (torch.Size([4, 10, 1]), torch.Size([2, 4, 8]))
            >>> y1, h1 = model(x[:, :6])  # the same sequence in two pieces
            >>> y2, _ = model(x[:, 6:], h1)
            >>> torch.allclose(torch.cat((y1, y2), dim=1), y, atol=1e-6)
            True
        """
        raw, new_state = self.head_parameters(x, state)
        return (raw if self.output_head is None else self.output_head.point(raw)), new_state

    def head_parameters(self, x: Tensor, state: State = None) -> tuple[Tensor, State]:
        """The last layer's raw outputs and the new state: ``forward`` before the head.

        The raw outputs have the layout of ``x`` and :attr:`raw_output_size`
        features (:mod:`seqforecast.heads` says what they mean); for a point
        model they are the forecasts themselves.
        """
        x = self._check_input(x)
        batch = x.shape[0] if self.batch_first else x.shape[1]
        state = self._check_state(state, batch, x.device, x.dtype)
        return self._forward(x, state)

    def distribution(self, x: Tensor, state: State = None) -> Distribution:
        """The one-step distribution of the next value at every step of ``x``.

        Args:
            x: Input, ``(batch, time, input_size)`` (``(time, batch,
                input_size)`` when ``batch_first`` is False).
            state: The state to start from, or ``None``.

        Returns:
            A distribution whose ``batch_shape`` is the forward output's shape
            (``(batch, time, output_size)`` in the model's layout): a
            :class:`torch.distributions.Normal`, a
            :class:`~seqforecast.distributions.StudentT`, a
            :class:`~seqforecast.distributions.NegativeBinomial` or a
            :class:`~seqforecast.distributions.QuantileDistribution`; each has
            ``mean``, ``icdf`` and ``sample``.

        Raises:
            ValueError: The model has a point head (no ``likelihood`` or ``quantiles``).

        Example:
            >>> import torch, seqforecast as sf
            >>> model = sf.FeedForwardForecaster(window=3, likelihood="gaussian", seed=0)
            >>> dist = model.distribution(torch.zeros(2, 10, 1))
            >>> dist.batch_shape, dist.icdf(torch.tensor(0.9)).shape
            (torch.Size([2, 10, 1]), torch.Size([2, 10, 1]))
        """
        if self.output_head is None:
            raise ValueError(point_head_message())
        raw, _ = self.head_parameters(x, state)
        return self.output_head.distribution(raw)

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

    def _check_state(self, state: State, batch: int, device: torch.device, dtype: torch.dtype) -> State:
        """Return ``state`` (a floating state of another dtype cast to ``dtype``), or raise."""
        if state is None:
            return None
        return check_state(state, self._expected_state_shapes(batch), batch, device, dtype)


def _first_parameter(module: nn.Module) -> Tensor | None:
    """The first parameter in ``module.parameters()`` order (depth first), or None."""
    for param in module._parameters.values():
        if param is not None:
            return param
    for child in module._modules.values():
        if child is not None:
            found = _first_parameter(child)
            if found is not None:
                return found
    return None


_FORECASTER_MEMBERS = (
    "input_size",
    "output_size",
    "batch_first",
    "context_length",
    "config",
    "init_state",
    "reset_state",
)


def point_head_message() -> str:
    """The error for a point model asked for a distribution (its quantiles, sample paths)."""
    return (
        f"`model` has a point head and no distribution: build it with likelihood={LIKELIHOODS[0]!r} "
        f"(or {', '.join(map(repr, LIKELIHOODS[1:]))}) or quantiles=(...)"
    )


def check_forecaster(value: object) -> Forecaster:
    """Return ``value`` if it is a forecaster module, else raise :class:`TypeError`."""
    if not isinstance(value, nn.Module) or not isinstance(value, Forecaster):
        missing = [name for name in _FORECASTER_MEMBERS if not hasattr(value, name)]
        lacks = f"; it lacks {', '.join(missing)}" if isinstance(value, nn.Module) and missing else ""
        msg = (
            "`model` must be a forecaster (an nn.Module with forward(x, state) -> (y, state), see "
            f"seqforecast.Forecaster), got {describe(value)}{lacks}"
        )
        raise TypeError(msg)
    return value
