"""Streaming forecasts from an exported ONNX graph, with NumPy and onnxruntime only.

This module never imports torch (nor the rest of this library): a
deployment installs ``numpy`` and ``onnxruntime`` and reads the file that
:func:`seqforecast.export_onnx` wrote. The file's metadata gives the names
and shapes of the state tensors and the transforms (scaling, first and
seasonal differences), so :class:`OnnxStreamingForecaster` takes and returns
values in the data's own units, as :class:`~seqforecast.AutoForecaster` does.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from seqforecast._onnx_future import future_covariates
from seqforecast._onnx_intervals import read_calibration
from seqforecast._onnx_metadata import (
    Head,
    StateArrays,
    check_state,
    read_layout,
    read_metadata,
    real_array,
    state_shape,
)
from seqforecast._onnx_metadata import describe as _describe
from seqforecast._onnx_quantiles import OneStepQuantiles
from seqforecast.results import Forecast, check_levels

__all__ = ["FORMAT_VERSION", "OnnxModelError", "OnnxStreamingForecaster"]

FORMAT_VERSION = 1
"""The newest metadata format this runtime reads (``seqforecast.format_version``)."""


class OnnxModelError(ValueError):
    """A file is not an ONNX model written by :func:`seqforecast.export_onnx` (or is of a newer format)."""


class OnnxStreamingForecaster(OneStepQuantiles):
    """Feed one observation at a time to an exported forecaster; get the forecast of the next.

    The ONNX counterpart of :class:`~seqforecast.StreamingForecaster`, with
    the transforms of :class:`~seqforecast.AutoForecaster`: each
    :meth:`update` costs one run of the graph, carries its state, and
    returns the forecast in the data's units. With differences in the
    transform, the first observations only fill the values it looks back on
    (one for first differences, a season for seasonal ones) and their
    forecast is the naive one (the last value), as ``AutoForecaster.predict``
    gives. A file exported from a fitted ``AutoForecaster`` or its checkpoint
    starts where it stood: its first update continues after the data it saw,
    and :meth:`forecast` gives its intervals (``level=``). For a model with a
    likelihood or quantile head, :meth:`update` returns the point forecast
    and :meth:`quantiles` and :meth:`interval` the next value's one-step
    distribution; a model with covariates takes their future values in
    :meth:`forecast` (``future=``).

    Args:
        path: The ``.onnx`` file written by :func:`seqforecast.export_onnx`.
        state: The model's state to start from: one array per state input
            of the graph (``metadata["io"]["state"]``), in model space;
            default: the exported starting point, or zeros.
        threads: Threads onnxruntime may use per update (1: lowest latency
            for one series).

    Attributes:
        metadata: The file's ``seqforecast.*`` metadata (``model``, ``io``,
            ``transform``, ``start``, ...), parsed.
        input_size: Features per observation.
        output_size: Features per forecast.
        steps: Updates since the start or the last :meth:`reset`.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        OnnxModelError: The file is not an ONNX model, was not written by
            :func:`seqforecast.export_onnx`, or has a newer format.

    Example:
        >>> import pathlib, tempfile, numpy as np, seqforecast as sf
        >>> from seqforecast.runtime import OnnxStreamingForecaster
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "gru.onnx"
        >>> _ = sf.export_onnx(sf.RecurrentForecaster(cell="gru", hidden_size=8), path)
        >>> stream = OnnxStreamingForecaster(path)
        >>> stream.update(np.array([0.5])).shape  # (features,) in, the next value's forecast out
        (1,)
        >>> stream.forecast(3).shape  # closed loop from here: (horizon, features)
        (3, 1)
    """

    def __init__(self, path: str | os.PathLike[str], state: object = None, *, threads: int = 1) -> None:
        given: dict[str, object] = {"path": path, "threads": threads}
        if not isinstance(given["path"], (str, os.PathLike)) or path == "":
            msg = f"`path` must be a file path (str or os.PathLike), got {_describe(path)}"
            raise TypeError(msg)
        if isinstance(threads, bool) or not isinstance(given["threads"], (int, np.integer)):
            msg = f"`threads` must be an integer >= 0 (0: onnxruntime's default), got {_describe(threads)}"
            raise TypeError(msg)
        if threads < 0:
            msg = f"`threads` must be an integer >= 0 (0: onnxruntime's default), got {threads}"
            raise ValueError(msg)
        file = Path(path)
        if not file.is_file():
            msg = f"cannot read the ONNX model {str(path)!r}: " + (
                "it is a folder" if file.is_dir() else "no such file"
            )
            raise FileNotFoundError(msg)
        import onnxruntime

        self._ort = onnxruntime
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = int(threads)
        options.inter_op_num_threads = 1
        options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3  # errors only
        try:
            self.session = onnxruntime.InferenceSession(str(file), options, providers=["CPUExecutionProvider"])
        except Exception as error:  # noqa: BLE001 (onnxruntime raises classes of its own, not exported, for bad files)
            first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            msg = f"{path} is not a readable ONNX model: {first}"
            raise OnnxModelError(msg) from None
        props = self.session.get_modelmeta().custom_metadata_map
        self.metadata = read_metadata(path, props, FORMAT_VERSION, OnnxModelError)
        graph = {
            "inputs": [(i.name, list(i.shape)) for i in self.session.get_inputs()],
            "outputs": [(o.name, list(o.shape)) for o in self.session.get_outputs()],
        }
        try:
            self._read_fields(read_layout(self.metadata, graph))
            self._calibration = read_calibration(self.metadata["intervals"], self.input_size)
        except KeyError as error:
            msg = f"{path} is not a valid seqforecast ONNX model: its metadata is incomplete (no {error})"
            raise OnnxModelError(msg) from None
        except (TypeError, ValueError, IndexError) as error:
            msg = f"{path} is not a valid seqforecast ONNX model: {error}"
            raise OnnxModelError(msg) from None
        self._initial = None if state is None else self._check_state(state)
        self.reset()

    # -- reading the file --------------------------------------------------------------------
    def _read_fields(self, layout: Any) -> None:
        """The sizes, layout, state names and transform of the checked metadata."""
        self._layout = layout
        self.input_size: int = layout.input_size
        self.output_size: int = layout.output_size
        self.batch_first: bool = layout.batch_first
        self._state_spec: tuple[dict[str, Any], ...] = layout.state
        self._output_names: list[str] = layout.output_names
        self._input_names: list[str] = layout.input_names
        self._offset: int = layout.offset
        self._mean: np.ndarray = layout.mean
        self._std: np.ndarray = layout.std
        self._plain = not layout.scaled and self._offset == 0  # no transform at all: the fast path
        self._head: Head | None = layout.head

    def _check_state(self, state: object) -> StateArrays:
        """``state`` as float32 arrays of the graph's state shapes (one batch size for all), or raise."""
        return check_state(self._state_spec, state)

    # -- streaming ---------------------------------------------------------------------------
    def reset(self, state: object = None, *, fresh: bool = False) -> None:
        """Start again from ``state``, or from the starting point of the file (or the constructor's state).

        Args:
            state: The model's state to start from (see the class); the
                transform's look-back starts empty.
            fresh: Start from zeros with nothing seen, ignoring the exported
                starting point (for a new series).

        Example:
            >>> import pathlib, tempfile, numpy as np, seqforecast as sf
            >>> from seqforecast.runtime import OnnxStreamingForecaster
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "mlp.onnx"
            >>> _ = sf.export_onnx(sf.FeedForwardForecaster(window=3), path)
            >>> stream = OnnxStreamingForecaster(path)
            >>> first = stream.update([0.5])
            >>> stream.reset()
            >>> bool((stream.update([0.5]) == first).all()), stream.steps
            (True, 1)
        """
        start = self._layout.start
        self.steps = 0
        self._next: np.ndarray | None = None  # the model's last output (model space, float32), (batch, F)
        self._params: np.ndarray | None = None  # the head's parameters at the last update, (batch, width * F)
        self._tail = np.zeros((0, 1, self.input_size))  # the last offset + 1 levels, (L, batch, F)
        self._seen = 0  # levels seen since the state started (the look-back fills first)
        self._unbatched = True
        self._start_state: StateArrays | None = None
        if state is not None:
            self._start_state = self._check_state(state) or None
        elif self._initial is not None and not fresh:
            self._start_state = self._initial or None
        elif start is not None and not fresh:
            self._start_state = start.state or None
            self._tail = start.tail.copy()
            self._seen = len(self._tail)
            self._next = start.next.copy()
        self._lanes: int | None = None  # the batch size the buffers below are for
        if self._start_state is not None and self._state_spec:
            self._lanes = int(self._start_state[0].shape[self._state_spec[0]["batch_axis"]])
        elif len(self._tail):
            self._lanes = int(self._tail.shape[1])
        self._bindings: list[Any] = []

    @property
    def state(self) -> StateArrays | None:
        """The model's current state (copies), one float32 array per state input; None before a fresh start."""
        if self._bindings:
            return tuple(b.copy() for b in self._buffers[self._flip]) or None
        return None if self._start_state is None else tuple(a.copy() for a in self._start_state)

    def _prepare(self, batch: int) -> None:
        """Buffers and two IO bindings for ``batch`` series: the state ping-pongs between two sets of arrays.

        Each update then copies ``x`` into a preallocated array and runs the
        graph on arrays bound once: the graph's inputs, outputs and state are
        neither allocated nor converted (only the returned forecast and the
        transforms' small arrays are new).
        """
        current = self.state
        self._x = np.zeros((batch, 1, self.input_size) if self.batch_first else (1, batch, self.input_size), np.float32)
        self._y = np.zeros(
            (batch, 1, self.output_size) if self.batch_first else (1, batch, self.output_size), np.float32
        )
        self._y_rows = self._y.reshape(batch, self.output_size)  # a view: (batch, output_size)
        first = [
            np.array(current[i], dtype=np.float32) if current else np.zeros(state_shape(spec, batch), np.float32)
            for i, spec in enumerate(self._state_spec)
        ]
        self._buffers = (first, [np.zeros_like(b) for b in first])
        values = [[self._ort.OrtValue.ortvalue_from_numpy(b) for b in group] for group in self._buffers]
        x_value = self._ort.OrtValue.ortvalue_from_numpy(self._x)
        y_value = self._ort.OrtValue.ortvalue_from_numpy(self._y)
        width = self._head.width * self.output_size if self._head else 0
        self._p = np.zeros((batch, 1, width) if self.batch_first else (1, batch, width), np.float32)
        self._p_rows = self._p.reshape(batch, width)
        p_value = self._ort.OrtValue.ortvalue_from_numpy(self._p)
        self._bindings = []
        for source, target in ((0, 1), (1, 0)):
            binding = self.session.io_binding()
            binding.bind_ortvalue_input("x", x_value)
            binding.bind_ortvalue_output("y", y_value)
            if self._head:
                binding.bind_ortvalue_output(self._head.output, p_value)
            for spec, given, made in zip(self._state_spec, values[source], values[target], strict=True):
                binding.bind_ortvalue_input(spec["input"], given)
                binding.bind_ortvalue_output(spec["output"], made)
            self._bindings.append(binding)
        self._flip = 0
        self._lanes = batch

    def _run(self, u: np.ndarray) -> np.ndarray:
        """One step of the graph on ``u`` ``(batch, F)``, carrying the state; the output ``(batch, O)`` (a view)."""
        if not self._bindings or self._y_rows.shape[0] != u.shape[0]:  # none yet, or for another batch size
            self._prepare(u.shape[0])
        np.copyto(self._x, u.reshape(self._x.shape))
        self.session.run_with_iobinding(self._bindings[self._flip])
        self._flip ^= 1
        self._next = self._y_rows
        self._params = self._p_rows
        return self._y_rows

    def update(self, x_t: object) -> np.ndarray:
        """Observe ``x_t`` and return the forecast of the next value, in the data's units.

        Args:
            x_t: ``(features,)`` for one series or ``(batch, features)``:
                a NumPy array, list or number sequence of finite reals.

        Returns:
            Float64 ``(output_size,)`` or ``(batch, output_size)``.

        Raises:
            TypeError: ``x_t`` does not hold real numbers.
            ValueError: ``x_t`` has the wrong shape, another batch size than
                the stream so far, or holds NaN or infinity.
        """
        if type(x_t) is np.ndarray and x_t.dtype.kind == "f" and np.isfinite(x_t.sum()):
            x = x_t  # the common case, checked in one step (a sum is finite only if every term is)
        else:
            x = real_array("x_t", x_t)
        one = x.ndim == 1
        if not (one or x.ndim == 2) or x.shape[-1] != self.input_size:
            msg = f"`x_t` must have shape ({self.input_size},) or (batch, {self.input_size}), got shape {x.shape}"
            raise ValueError(msg)
        batch = 1 if one else x.shape[0]
        if batch != self._lanes and self._lanes is not None and (self._state_spec or self._offset):
            msg = f"`x_t` has {batch} series but this stream carries {self._lanes}; call reset(fresh=True) to start another batch"
            raise ValueError(msg)
        self._unbatched = one
        self.steps += 1
        if self._plain:
            y = self._run(x.reshape(batch, self.input_size))
            return y.reshape(-1).astype(np.float64) if one else y.astype(np.float64)
        levels = x.reshape(batch, self.input_size).astype(np.float64)
        same = len(self._tail) and self._tail.shape[1] == batch  # a memoryless model may change its batch
        tail = self._tail if same else np.zeros((0, batch, self.input_size))
        self._tail = np.concatenate((tail[max(0, len(tail) - self._offset) :], levels[None]))  # keep offset + 1
        self._lanes = batch
        self._seen += 1
        if self._seen <= self._offset:  # the transform has not enough history yet: the naive forecast
            return levels.reshape(-1) if one else levels
        w = self._layout.transformed(self._tail)
        y = self._run((w - self._mean) / self._std)
        forecast: np.ndarray = y * self._std + self._mean + self._layout.anchor(self._tail, len(self._tail))
        return forecast.reshape(-1) if one else forecast

    # The one-step quantiles of a head (NumPy code in their own module), documented as this class's own.
    quantiles = OneStepQuantiles.quantiles
    interval = OneStepQuantiles.interval

    def _step(self, u: np.ndarray, feed: dict[str, np.ndarray]) -> np.ndarray:
        """One run of the graph on ``u`` ``(batch, F)`` with the state in ``feed`` (updated); the output."""
        batch = u.shape[0]
        feed["x"] = u.astype(np.float32).reshape((batch, 1, -1) if self.batch_first else (1, batch, -1))
        outputs = self.session.run(self._output_names[: 1 + len(self._state_spec)], feed)
        feed.update(zip(self._input_names[1:], outputs[1:], strict=True))
        result: np.ndarray = outputs[0].reshape(batch, -1)
        return result

    @overload
    def forecast(self, horizon: int, *, future: object = None, level: None = None) -> np.ndarray: ...
    @overload
    def forecast(self, horizon: int, *, future: object = None, level: float | Sequence[float]) -> Forecast: ...
    def forecast(self, horizon: int, *, future: object = None, level: object = None) -> np.ndarray | Forecast:
        """Forecast ``horizon`` steps after the last observation, feeding forecasts back (closed loop).

        The stream itself is left as it was: the next :meth:`update` continues after the last observation.

        A model with covariates (``input_size > output_size``) feeds each
        forecast back with the covariates of that step, given as ``future``,
        as :func:`seqforecast.forecast` does.

        Args:
            horizon: Steps ahead, >= 1.
            future: For a model with covariates, their values at the
                ``horizon - 1`` steps fed back: ``(horizon - 1, covariates)``
                (the same for every series) or ``(batch, horizon - 1,
                covariates)`` (batch first, as :meth:`update` takes
                observations, whatever the model's layout). None otherwise.
            level: Interval levels in percent, for a file exported from a
                fitted :class:`~seqforecast.AutoForecaster` (or its
                checkpoint): the intervals its ``forecast(horizon, level=...)``
                gives, from the calibration stored in the file.

        Returns:
            Float64 ``(horizon, output_size)`` after observations of shape
            ``(features,)``, ``(batch, horizon, output_size)`` after batched
            ones; with ``level``, a :class:`~seqforecast.Forecast` whose
            ``mean`` is that array and ``interval(level)`` its bounds.

        Raises:
            ValueError: Nothing observed yet (or too little for the
                transform), a model with more outputs than inputs,
                ``future`` missing, not needed or of the wrong shape, or
                ``level`` for a file without an interval calibration.
        """
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)):
            msg = f"`horizon` must be an integer >= 1, got {_describe(horizon)}"
            raise TypeError(msg)
        if horizon < 1:
            msg = f"`horizon` must be an integer >= 1, got {horizon}"
            raise ValueError(msg)
        if self.output_size > self.input_size:
            msg = f"this model cannot feed its forecasts back: output_size={self.output_size}, input_size={self.input_size} (more outputs than inputs)"
            raise ValueError(msg)
        wanted = () if level is None else check_levels("level", level)
        if wanted and self._calibration is None:
            msg = (
                "this file holds no interval calibration (only an exported AutoForecaster has one); "
                "a model with a likelihood or quantile head gives one-step intervals with interval(level)"
            )
            raise ValueError(msg)
        if self._next is None:
            more = self._offset + 1 - self._seen
            msg = (
                f"this stream has seen {self._seen} observation(s) since its start, too few to forecast from "
                f"(its transform looks back {self._offset}): update() it with {more} more first"
            )
            raise ValueError(msg)
        batch = self._next.shape[0]
        covariates = future_covariates(future, int(horizon), batch, self._layout.covariates, self.output_size)
        state = self.state or tuple(np.zeros(state_shape(s, batch), np.float32) for s in self._state_spec)
        feed = dict(zip(self._input_names[1:], state, strict=True))
        outputs = [self._next.copy()]
        for h in range(int(horizon) - 1):
            fed = outputs[-1] if covariates is None else np.concatenate((outputs[-1], covariates[h]), axis=-1)
            outputs.append(self._step(fed, feed))
        targets = self.output_size  # a model with covariates has no transform: their mean is 0 and std 1
        w_hat = np.stack(outputs, axis=0) * self._std[:targets] + self._mean[:targets]  # (H, batch, F)
        if self._offset:
            levels = np.concatenate((self._tail, np.zeros_like(w_hat)))  # each level anchors the next
            known = len(self._tail)
            for h in range(len(w_hat)):
                levels[known + h] = w_hat[h] + self._layout.anchor(levels, known + h)
            w_hat = levels[known:]
        result: np.ndarray = w_hat.transpose(1, 0, 2)  # (batch, H, F)
        mean = result[0] if self._unbatched else result
        if self._calibration is None or level is None:
            return mean
        radii = {lvl: self._calibration.radius(lvl, int(horizon)) for lvl in wanted}  # each (H, F)
        return Forecast(mean, {lvl: (mean - r, mean + r) for lvl, r in radii.items()})
