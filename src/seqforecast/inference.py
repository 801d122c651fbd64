"""Using a trained forecaster: priming, prediction, closed-loop forecasts, streaming.

All functions run without gradients and in evaluation mode (dropout off).
A model already in evaluation mode (as :func:`~seqforecast.load` returns
it) is not modified at all, so these functions may be called from many
threads at once on one model; a model in training mode is switched to
evaluation mode while any call is in flight and back after the last one.
A ``sequence`` may be:

* ``(batch, time, features)`` (``(time, batch, features)`` for a model with
  ``batch_first=False``) — the results keep that layout;
* ``(time, features)`` — one series; results have no batch dimension;
* ``(time,)`` — one series of a one-feature model.

NumPy arrays, lists and tensors are accepted; they are checked for NaN and
infinity and moved to the model's device and dtype.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from typing import cast

import torch
from torch import Tensor, nn

from seqforecast._checks import as_float_tensor, check_finite_tensor, check_int
from seqforecast._future import check_feeds_back, future_inputs
from seqforecast.base import Forecaster, State, check_forecaster

__all__ = ["StreamingForecaster", "forecast", "predict", "prime"]


_MODES = threading.Lock()  # guards _SWITCHED and the mode switches it records
_SWITCHED: dict[int, list[int]] = {}  # id(module) -> [calls in flight] of models switched to eval by us


def _enter_eval(module: nn.Module) -> None:
    """Put ``module`` in evaluation mode for one inference call, safely across threads.

    A model already in evaluation mode is not touched at all. A model in
    training mode is switched by the first of the calls in flight and
    switched back by the last one, so concurrent calls never see dropout.
    """
    with _MODES:
        calls = _SWITCHED.get(id(module))
        if calls is not None:
            calls[0] += 1
        elif module.training:
            _SWITCHED[id(module)] = [1]
            module.eval()


def _exit_eval(module: nn.Module) -> None:
    """Undo :func:`_enter_eval`: the last call in flight restores training mode."""
    with _MODES:
        calls = _SWITCHED.get(id(module))
        if calls is not None:
            calls[0] -= 1
            if calls[0] == 0:
                del _SWITCHED[id(module)]
                module.train()


@contextlib.contextmanager
def _inference(model: Forecaster) -> Iterator[None]:
    """No gradients, evaluation mode, and the model's mode restored after (thread-safe)."""
    module = cast("nn.Module", check_forecaster(model))
    _enter_eval(module)
    try:
        with torch.no_grad():
            yield
    finally:
        _exit_eval(module)


def _model_tensor(model: Forecaster) -> Tensor:
    return next(model.parameters())


def _as_batch(name: str, model: Forecaster, sequence: object) -> tuple[Tensor, bool]:
    """Return ``sequence`` as a 3-D tensor in the model's layout, and whether it was unbatched."""
    param = _model_tensor(model)
    tensor = as_float_tensor(name, sequence, dtype=param.dtype, device=param.device, integers=True)
    unbatched = tensor.dim() in (1, 2)
    if tensor.dim() == 1:
        tensor = tensor.unsqueeze(-1)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0 if model.batch_first else 1)
    layout = "(batch, time, features)" if model.batch_first else "(time, batch, features)"
    if tensor.dim() != 3:
        msg = f"`{name}` must have shape {layout}, (time, features) or (time,), got shape {tuple(tensor.shape)}"
        raise ValueError(msg)
    if tensor.shape[-1] != model.input_size:
        msg = (
            f"`{name}` must have {model.input_size} features (the model's input_size), got shape {tuple(tensor.shape)}"
        )
        raise ValueError(msg)
    time_dim = 1 if model.batch_first else 0
    if tensor.shape[time_dim] == 0:
        msg = f"`{name}` must have at least one time step, got shape {tuple(tensor.shape)}"
        raise ValueError(msg)
    return tensor, unbatched


def _unbatch(model: Forecaster, tensor: Tensor, unbatched: bool) -> Tensor:
    if not unbatched:
        return tensor
    return tensor.squeeze(0 if model.batch_first else 1)


def prime(model: Forecaster, sequence: object, state: State = None) -> State:
    """Run ``sequence`` through ``model`` to build its memory; return the state.

    Pass the result as ``state`` to the model, :func:`predict`,
    :func:`forecast` or :class:`StreamingForecaster`: the first predictions
    after it are as good as later ones, instead of starting from no memory.

    Args:
        model: A forecaster.
        sequence: Recent history: ``(batch, time, features)``
            (``(time, batch, features)`` for a time-first model),
            ``(time, features)`` for one series, or ``(time,)`` for one
            series of a one-feature model.
        state: A state to continue from (default: a fresh start).

    Returns:
        The state after the last step of ``sequence``, for a batch of one
        when ``sequence`` is unbatched: ``(num_layers, batch, hidden_size)``
        for a recurrent network (an ``(h, c)`` pair for an LSTM),
        ``(batch, context_length, input_size)`` for the others.

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.RecurrentForecaster()
        >>> h = sf.prime(model, torch.sin(torch.linspace(0, 3, 32)))
        >>> h.shape
        torch.Size([3, 1, 32])
    """
    with _inference(model):
        x, _ = _as_batch("sequence", model, sequence)
        _, new_state = model(x, state)
    return new_state


def predict(model: Forecaster, sequence: object, state: State = None) -> tuple[Tensor, State]:
    """One-step-ahead predictions along ``sequence`` (teacher forced).

    Args:
        model: A forecaster.
        sequence: Inputs: ``(batch, time, features)``
            (``(time, batch, features)`` for a time-first model),
            ``(time, features)`` for one series, or ``(time,)`` for one
            series of a one-feature model.
        state: The state to start from, e.g. from :func:`prime`.

    Returns:
        ``(predictions, state)``: predictions with the shape of ``sequence``
        but ``output_size`` features, ``predictions[..., t, :]`` forecasting
        ``sequence[..., t + 1, :]``; and the state after the last step.

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.FeedForwardForecaster(window=3)
        >>> y, state = sf.predict(model, torch.zeros(20))
        >>> y.shape, state.shape
        (torch.Size([20, 1]), torch.Size([1, 2, 1]))
    """
    with _inference(model):
        x, unbatched = _as_batch("sequence", model, sequence)
        y, new_state = model(x, state)
    return _unbatch(model, y, unbatched), new_state


def forecast(
    model: Forecaster,
    history: object,
    horizon: int,
    state: State = None,
    *,
    future: object = None,
    quantiles: Sequence[float] | None = None,
) -> Tensor:
    """Forecast ``horizon`` steps after ``history``, feeding forecasts back in.

    The model is primed on ``history`` (continuing from ``state``), then run
    closed loop one step at a time, carrying its state: the cost is
    ``O(len(history) + horizon)``.

    A model with covariates (``input_size > output_size``: the first
    ``output_size`` inputs are the targets, the others covariates it reads
    but does not forecast) feeds each forecast back together with the
    covariates of that step, given as ``future``.

    Args:
        model: A forecaster with ``output_size <= input_size``.
        history: Observed values: ``(batch, time, features)``
            (``(time, batch, features)`` for a time-first model),
            ``(time, features)`` for one series, or ``(time,)`` for one
            series of a one-feature model.
        horizon: Number of future steps, >= 1.
        state: State before ``history`` (e.g. from :func:`prime` on older data).
        future: For a model with covariates, their values in the
            ``horizon - 1`` inputs fed back after ``history``:
            ``(horizon - 1, covariates)`` (the same for every series) or
            ``(batch, horizon - 1, covariates)`` (``(horizon - 1, batch,
            covariates)`` for a time-first model). None otherwise.
            These are model inputs, already shifted: row ``h`` is fed back
            with forecast ``h`` and informs forecast ``h + 1``, so there is
            no row for the first step (its covariates end ``history``).
            :func:`~seqforecast.forecast_panel`'s ``future`` differs: the
            covariates of each of the ``horizon`` forecast steps, which it
            shifts itself.
        quantiles: For a model with a likelihood or quantile head: return
            these quantiles instead (increasing levels in ``(0, 1)``), from
            :func:`~seqforecast.forecast_quantiles` with its defaults.

    Returns:
        The forecasts of the targets, ``(batch, horizon, output_size)`` (``(horizon, batch,
        features)`` for a time-first model; ``(horizon, features)`` for
        unbatched ``history``). With ``quantiles``, that shape with
        ``len(quantiles)`` in front.

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.ConvForecaster(channels=8, head_hidden=8)
        >>> sf.forecast(model, torch.zeros(2, 10, 1), horizon=5).shape
        torch.Size([2, 5, 1])
        >>> with_price = sf.RecurrentForecaster(input_size=2, output_size=1)  # target + one covariate
        >>> sf.forecast(with_price, torch.zeros(10, 2), horizon=3, future=[[1.0], [2.0]]).shape
        torch.Size([3, 1])
    """
    if quantiles is not None:
        from seqforecast.sampling import forecast_quantiles  # sampling builds on this module

        return forecast_quantiles(model, history, horizon, quantiles, state=state, future=future)
    horizon = check_int("horizon", horizon)
    check_feeds_back(model)
    time_dim = 1 if model.batch_first else 0
    with _inference(model):
        x, unbatched = _as_batch("history", model, history)
        covariates = future_inputs(model, future, horizon, x.shape[1 - time_dim], x)  # (B, H - 1, C) or None
        y, state = model(x, state)
        step = y.narrow(time_dim, y.shape[time_dim] - 1, 1)  # forecast of the first future value
        outputs = [step]
        for h in range(horizon - 1):
            fed = step if covariates is None else torch.cat((step, covariates.narrow(time_dim, h, 1)), dim=-1)
            step, state = model(fed, state)
            outputs.append(step)
        result = torch.cat(outputs, dim=time_dim)
    return _unbatch(model, result, unbatched)


class StreamingForecaster:
    """Feed one observation at a time; get the forecast of the next one.

    Each :meth:`update` costs one step of the model whatever the length of
    the stream so far; its results equal :func:`predict` on the whole
    sequence (to float tolerance).

    Args:
        model: A forecaster.
        state: The state to start from, e.g. from :func:`prime`.

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.RecurrentForecaster(cell="gru")
        >>> stream = sf.StreamingForecaster(model)
        >>> stream.update(torch.tensor([0.5])).shape
        torch.Size([1])
        >>> stream.steps
        1
    """

    def __init__(self, model: Forecaster, state: State = None) -> None:
        self.model = check_forecaster(model)
        self._module = cast("nn.Module", model)
        self._initial = state
        self.state: State = state
        self.steps = 0
        self._param = _model_tensor(model)

    def update(self, x_t: object) -> Tensor:
        """Observe ``x_t`` and return the forecast of the next value.

        Args:
            x_t: ``(features,)`` for one series or ``(batch, features)``.

        Returns:
            The forecast, ``(output_size,)`` or ``(batch, output_size)``.

        Example:
            >>> import torch, seqforecast as sf
            >>> stream = sf.StreamingForecaster(sf.FeedForwardForecaster(window=3))
            >>> stream.update(torch.zeros(2, 1)).shape  # two series, one feature each
            torch.Size([2, 1])
            >>> stream.state.shape  # the last window - 1 = 2 inputs: (batch, 2, features)
            torch.Size([2, 2, 1])
        """
        param = self._param
        x = x_t
        if not (isinstance(x, Tensor) and x.dtype == param.dtype and x.device == param.device):
            x = as_float_tensor("x_t", x_t, dtype=param.dtype, device=param.device, check_finite=False, integers=True)
        one = x.dim() == 1
        if not (one or x.dim() == 2) or x.shape[-1] != self.model.input_size:
            msg = f"`x_t` must have shape ({self.model.input_size},) or (batch, {self.model.input_size}), got shape {tuple(x.shape)}"
            raise ValueError(msg)
        check_finite_tensor("x_t", x)
        batch, features = (1 if one else x.shape[0]), x.shape[-1]
        step = x.reshape((batch, 1, features) if self.model.batch_first else (1, batch, features))
        # The work of _inference without its per-call costs (this runs once per observation):
        # the model was checked in __init__.
        _enter_eval(self._module)
        try:
            with torch.no_grad():
                y, self.state = self.model(step, self.state)
        finally:
            _exit_eval(self._module)
        self.steps += 1
        return y.reshape(y.shape[-1]) if one else y.reshape(batch, y.shape[-1])  # drop the time axis

    def reset(self, state: State = None) -> None:
        """Forget everything seen; start again from ``state`` (default: the initial one).

        Example:
            >>> import torch, seqforecast as sf
            >>> stream = sf.StreamingForecaster(sf.RecurrentForecaster())
            >>> _ = stream.update(torch.tensor([0.5]))
            >>> stream.reset()
            >>> stream.steps, stream.state is None
            (0, True)
        """
        self.state = self._initial if state is None else state
        self.steps = 0
