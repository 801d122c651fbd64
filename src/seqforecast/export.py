"""ONNX export: one graph per forecaster, its state as explicit inputs and outputs.

The graph computes one call of the forecaster, ``forward(x, state) -> (y,
state)``, with the state tensors as named inputs and outputs, so a runtime
carries the state from one call to the next exactly as PyTorch does:

=========================  ======================================  ======================================
Forecaster                 state inputs                            state outputs
=========================  ======================================  ======================================
RNN, GRU                   ``h`` ``(num_layers, batch, hidden)``   ``h_next``, same shape
LSTM                       ``h``, ``c`` (each as ``h`` above)      ``h_next``, ``c_next``
feed-forward, causal conv  ``context`` ``(batch, context, F)``     ``context_next``, same shape
=========================  ======================================  ======================================

``x`` is ``(batch, time, input_size)`` and ``y`` ``(batch, time,
output_size)`` (time first for a model with ``batch_first=False``, and the
``context`` tensors too); the batch and time axes are dynamic. A forecaster
with no memory (a feed-forward net with ``window=1``) has no state tensors.
A forecaster with a likelihood or quantile head has one more output, last:
``params`` ``(batch, time, width * output_size)``, the parameters of each
step's one-step distribution (``y`` is its point forecast, as ``forward``
gives). A model with covariates (``input_size > output_size``) reads them as
its last inputs, as in torch.

The ONNX model's metadata (``metadata_props``, JSON values) describes all of
it, so that a deployment needs neither this library nor torch:

* ``seqforecast.format_version``: ``"1"``; readers refuse newer versions;
* ``seqforecast.model``: class, configuration, sizes, ``batch_first``,
  ``context_length``, and the number of ``targets`` (``output_size``) and
  ``covariates`` (``input_size - output_size``);
* ``seqforecast.io``: the names and shapes of the inputs, outputs and state pairs;
* ``seqforecast.transform``: ``difference`` (first differences), ``season``
  (seasonal differences, 0: none) and ``scale`` (per-feature ``mean`` and
  ``std``, or null): levels ``y`` become model inputs
  ``(transformed(y) - mean) / std``, and outputs ``o`` become levels
  ``o * std + mean + anchor`` with the anchor of :class:`~seqforecast.AutoForecaster`;
* ``seqforecast.start``: null, or where the exported forecaster stands: its
  model ``state``, the last levels (``tail``) the transform needs and the
  model's ``next`` output, so the deployment continues where it left off;
* ``seqforecast.head``: null for a point forecaster, else the head's
  ``kind`` (``"gaussian"``, ``"student_t"``, ``"negative_binomial"`` or
  ``"quantiles"``), the ``parameters`` in the blocks of ``params`` (``loc``,
  ``scale``, ``df``; ``mean``, ``dispersion``; one quantile per level), the
  ``levels`` of a quantile head and the ``output``'s name;
* ``seqforecast.intervals``: null, or an AutoForecaster's interval
  calibration (``method``, ``first``, ``shape`` ``[count, horizon,
  features]`` and the signed forecast ``errors``), from which the runtime
  gives the intervals ``AutoForecaster.forecast(horizon, level=...)`` gives.

Files written before ``head``, ``intervals``, ``model.targets`` and
``model.covariates`` existed lack them and read as a point forecaster
without intervals (the format version is still 1).

:class:`seqforecast.runtime.OnnxStreamingForecaster` reads all of this.
Export needs torch and ``onnx``; running the graph needs only onnxruntime
(``pip install 'seqforecast[onnx]'`` installs both).
"""

from __future__ import annotations

import copy
import dataclasses
import importlib.util
import inspect
import io
import json
import os
import warnings
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from torch import Tensor, nn

from seqforecast._checkpoint_file import _write_atomic
from seqforecast._checks import check_path, describe
from seqforecast._export_heads import PARAMS, head_metadata, head_outputs
from seqforecast._version import __version__
from seqforecast.base import BaseForecaster, State, state_tensors
from seqforecast.checkpoint import Checkpoint
from seqforecast.models import ConvForecaster, FeedForwardForecaster, RecurrentForecaster
from seqforecast.runtime import FORMAT_VERSION
from seqforecast.transforms import Scaler

__all__ = ["FORMAT_VERSION", "METADATA_PREFIX", "export_onnx"]

METADATA_PREFIX = "seqforecast."
DEFAULT_OPSET = 17
OPSETS = range(14, 21)
_INSTALL = "pip install 'seqforecast[onnx]'"


@dataclasses.dataclass(frozen=True)
class _Source:
    """What is exported: the model, its transforms and where it stands."""

    model: BaseForecaster
    difference: bool = False
    season: int = 0
    scaler: Scaler | None = None
    start: dict[str, Any] | None = None
    intervals: dict[str, Any] | None = None  # an AutoForecaster's interval calibration (its to_json())


def _state_json(state: State) -> list[dict[str, Any]] | None:
    if state is None:
        return None
    return [
        {"shape": list(t.shape), "values": t.detach().to("cpu", torch.float32).reshape(-1).tolist()}
        for t in state_tensors(state)
    ]


def _start(tail: Any, state: list[dict[str, Any]] | None, next_output: Any) -> dict[str, Any] | None:
    if next_output is None:
        return None  # nothing seen yet: a fresh start
    kept = [t for t in state or () if all(int(d) for d in t["shape"])]  # a memoryless model's state is empty
    return {"tail": np.asarray(tail, dtype=np.float64).tolist(), "state": kept or None, "next": list(next_output)}


_PANEL = (
    "`model` is an AutoForecaster fitted on a Panel of many series, which the ONNX runtime does not stream "
    "(each series has its own scaling and history): export its `model_` and scale each series yourself"
)


def _source(model: object) -> _Source:
    """The forecaster, :class:`Checkpoint` or AutoForecaster ``model`` as what to export."""
    if isinstance(model, BaseForecaster):
        return _Source(model)
    if isinstance(model, Checkpoint):
        info = model.metadata.get("auto")
        if isinstance(info, dict):  # written by AutoForecaster.save
            if info.get("panel"):
                raise ValueError(_PANEL)
            state = None if info["state"] is None else info["state"]["tensors"]
            return _Source(
                model.model,
                bool(info["difference"]),
                int(info["transform_season"]),
                model.scaler,
                _start(info["tail"], state, info["next"]),
                info.get("intervals"),
            )
        return _Source(model.model, model.differencer is not None, 0, model.scaler)
    from seqforecast.auto import AutoForecaster  # auto imports the training loop: only when needed

    if isinstance(model, AutoForecaster):
        auto = cast("Any", model)
        if auto.model_ is None:
            msg = "`model` is an AutoForecaster that is not fitted yet: call fit(y) before exporting it"
            raise ValueError(msg)
        if auto._panel is not None:
            raise ValueError(_PANEL)
        next_output = None if auto._next is None else auto._next.tolist()
        return _Source(
            auto.model_,
            bool(auto._transform.difference),
            int(auto._transform.season),
            auto._scaler,
            _start(auto._tail, _state_json(auto._state), next_output),
            None if auto._intervals is None else auto._intervals.to_json(),
        )
    msg = f"`model` must be a seqforecast forecaster, a Checkpoint or a fitted AutoForecaster, got {describe(model)}"
    raise TypeError(msg)


class _Graph(nn.Module):
    """One call of ``model`` with the state as separate tensors, in a form the exporter traces exactly."""

    def __init__(self, model: BaseForecaster) -> None:
        super().__init__()
        self.model = model
        self.recurrent = isinstance(model, RecurrentForecaster)
        self.context = 0 if self.recurrent else cast("int", model.context_length)

    def forward(self, x: Tensor, *state: Tensor) -> tuple[Tensor, ...]:
        outputs = self._raw(x, *state)
        if self.model.output_head is None:
            return outputs
        point, params = head_outputs(self.model.output_head, outputs[0])
        return (point, *outputs[1:], params)

    def _raw(self, x: Tensor, *state: Tensor) -> tuple[Tensor, ...]:
        """The last layer's raw outputs and the new state tensors."""
        model = self.model
        if self.recurrent:
            y, new_state = model._forward(x, state[0] if len(state) == 1 else tuple(state))
            return (y, *state_tensors(new_state))
        if not self.context:
            return (model._forward(x, None)[0],)
        past = state[0]
        if not model.batch_first:
            x, past = x.transpose(0, 1), past.transpose(0, 1)  # (B, T, F)
        full = torch.cat((past, x), dim=1)  # (B, context + T, F)
        y = (
            self._lags(full)
            if isinstance(model, FeedForwardForecaster)
            else cast("ConvForecaster", model)._forward_full(full)
        )
        new_past = full[:, full.shape[1] - self.context :]
        if not model.batch_first:
            y, new_past = y.transpose(0, 1), new_past.transpose(0, 1)
        return y, new_past

    def _lags(self, full: Tensor) -> Tensor:
        """The feed-forward net on windows of ``full``: slices instead of ``unfold`` (which ONNX lacks)."""
        model = cast("FeedForwardForecaster", self.model)
        window = model.config.window
        length = full.shape[1]
        lags = torch.cat([full[:, i : length - (window - 1 - i)] for i in range(window)], dim=2)  # oldest first
        net: nn.Module = model.net
        return cast("Tensor", net(lags))


def _io(model: BaseForecaster) -> dict[str, Any]:
    """Names and shapes (``"batch"``, ``"time"`` for the dynamic axes) of the graph's tensors."""
    config = model.config
    layout = ["batch", "time"] if model.batch_first else ["time", "batch"]
    if isinstance(model, RecurrentForecaster):
        shape: list[Any] = [config.num_layers, "batch", config.hidden_size]
        names = ["h", "c"] if config.cell == "lstm" else ["h"]
        batch_axis = 1
    else:
        context = cast("int", model.context_length)
        shape = ["batch", context, model.input_size] if model.batch_first else [context, "batch", model.input_size]
        names = ["context"] if context else []
        batch_axis = 0 if model.batch_first else 1
    state = [{"input": n, "output": f"{n}_next", "shape": shape, "batch_axis": batch_axis} for n in names]
    head = [] if model.output_head is None else [{"name": PARAMS, "shape": [*layout, model.raw_output_size]}]
    return {
        "dtype": "float32",
        "inputs": [{"name": "x", "shape": [*layout, model.input_size]}]
        + [{"name": s["input"], "shape": shape} for s in state],
        "outputs": [{"name": "y", "shape": [*layout, model.output_size]}]
        + [{"name": s["output"], "shape": shape} for s in state]
        + head,
        "state": state,
    }


def _metadata(source: _Source, spec: dict[str, Any]) -> dict[str, Any]:
    model = source.model
    scaler = source.scaler
    scale = None
    if scaler is not None and scaler.mean is not None and scaler.std is not None:
        scale = {"mean": scaler.mean.tolist(), "std": scaler.std.tolist()}
    return {
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "model": {
            "class": type(model).__name__,
            "config": model.config.to_dict(),
            "input_size": model.input_size,
            "output_size": model.output_size,
            "batch_first": model.batch_first,
            "context_length": model.context_length,
            "targets": model.output_size,
            "covariates": model.input_size - model.output_size,
        },
        "io": spec,
        "transform": {"difference": source.difference, "season": source.season, "scale": scale},
        "start": source.start,
        "head": head_metadata(model.output_head),
        "intervals": source.intervals,
    }


def _onnx_bytes(graph: _Graph, spec: dict[str, Any], opset: int) -> bytes:
    """The traced graph as ONNX bytes, with dynamic batch and time axes."""
    model = graph.model
    batch, time = 2, 3  # not 1: an axis of size 1 may be folded into a constant
    x = torch.zeros((batch, time, model.input_size) if model.batch_first else (time, batch, model.input_size))
    state = tuple(torch.zeros([batch if d == "batch" else d for d in s["shape"]]) for s in spec["state"])
    time_axis = 1 if model.batch_first else 0
    dynamic: dict[str, dict[int, str]] = {
        "x": {1 - time_axis: "batch", time_axis: "time"},
        "y": {1 - time_axis: "batch", time_axis: "time"},
    }
    for s in spec["state"]:
        dynamic[s["input"]] = dynamic[s["output"]] = {s["batch_axis"]: "batch"}
    if model.output_head is not None:
        dynamic[PARAMS] = dynamic["y"]
    buffer = io.BytesIO()
    # torch >= 2.5 has two exporters, chosen by `dynamo` (True by default from torch 2.9); older ones only this one.
    legacy: dict[str, Any] = {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}
    # The TorchScript exporter: it keeps nn.RNN/LSTM/GRU as ONNX RNN/LSTM/GRU nodes with every axis
    # dynamic, in a fraction of a second (torch.export fixes the output's time axis, and takes seconds).
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            (x, *state),
            cast("Any", buffer),  # the TorchScript exporter writes to a file object too
            input_names=[i["name"] for i in spec["inputs"]],
            output_names=[o["name"] for o in spec["outputs"]],
            dynamic_axes=dynamic,
            opset_version=opset,
            **legacy,
        )
    return buffer.getvalue()


def _verify(graph: _Graph, spec: dict[str, Any], data: bytes) -> None:
    """Run the graph in onnxruntime on random data (batch 3, time 5) and compare with torch."""
    import onnxruntime

    model = graph.model
    generator = torch.Generator().manual_seed(0)
    x = torch.randn((3, 5, model.input_size) if model.batch_first else (5, 3, model.input_size), generator=generator)
    state = tuple(
        torch.randn([3 if d == "batch" else d for d in s["shape"]], generator=generator) for s in spec["state"]
    )
    with torch.no_grad():
        expected = graph(x, *state)
    session = onnxruntime.InferenceSession(data, providers=["CPUExecutionProvider"])
    got = session.run(None, {i["name"]: t.numpy() for i, t in zip(spec["inputs"], (x, *state), strict=True)})
    error = max(float(np.abs(g - e.numpy()).max()) for g, e in zip(got, expected, strict=True))
    if not error <= 1e-4:
        msg = f"the exported graph disagrees with the model by {error:.3g} in onnxruntime; please report this"
        raise RuntimeError(msg)


def export_onnx(
    model: object, path: str | os.PathLike[str], *, opset: int | None = None, verify: bool = True
) -> dict[str, Any]:
    """Write ``model`` as one ONNX graph with its state as inputs and outputs.

    The graph runs one call of the forecaster on float32 data: inputs ``x``
    and the state tensors, outputs ``y`` and the new state (see
    :mod:`seqforecast.export` for the names and shapes). Feeding the state
    outputs back as the next call's inputs continues the series, so a
    stream split into pieces gives the outputs of one long run, as in torch.
    :class:`seqforecast.runtime.OnnxStreamingForecaster` runs it without torch.

    Args:
        model: A forecaster; a :class:`~seqforecast.Checkpoint` (its scaler
            and differencer go into the metadata); or a fitted
            :class:`~seqforecast.AutoForecaster` (its model, transforms, and
            its state and last values, so the runtime continues after the
            data it saw last). The model is copied to float32 on the CPU.
        path: The ONNX file to write (atomically), conventionally ``*.onnx``.
        opset: The ONNX opset, 14 to 20 (default 17).
        verify: Run the written graph in onnxruntime (when installed) on
            random data and compare it with the model.

    Returns:
        The metadata stored in the file, without the ``seqforecast.``
        prefix: ``format_version``, ``library_version``, ``model``, ``io``,
        ``transform``, ``start``, ``head`` and ``intervals``.

    Raises:
        TypeError: ``model`` is none of the above, or ``opset`` is not an integer.
        ValueError: An unfitted AutoForecaster, transforms on a model whose
            output is not its input, or an ``opset`` out of range.
        ImportError: ``onnx`` is not installed.

    Example:
        >>> import pathlib, tempfile, seqforecast as sf
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "lstm.onnx"
        >>> info = sf.export_onnx(sf.RecurrentForecaster(cell="lstm", num_layers=2, hidden_size=8), path)
        >>> [(i["name"], i["shape"]) for i in info["io"]["inputs"]]
        [('x', ['batch', 'time', 1]), ('h', [2, 'batch', 8]), ('c', [2, 'batch', 8])]
        >>> [o["name"] for o in info["io"]["outputs"]]
        ['y', 'h_next', 'c_next']
        >>> info = sf.export_onnx(sf.ConvForecaster(channels=8, likelihood="student_t"), path)
        >>> [o["name"] for o in info["io"]["outputs"]], info["head"]["parameters"]
        (['y', 'context_next', 'params'], ['loc', 'scale', 'df'])
    """
    source = _source(model)
    check_path("path", path)
    if opset is None:
        opset = DEFAULT_OPSET
    if isinstance(opset, bool) or not isinstance(opset, int):
        msg = f"`opset` must be an integer from {OPSETS[0]} to {OPSETS[-1]} or None, got {describe(opset)}"
        raise TypeError(msg)
    if opset not in OPSETS:
        msg = f"`opset` must be from {OPSETS[0]} to {OPSETS[-1]}, got {opset}"
        raise ValueError(msg)
    transformed = source.difference or source.season or source.scaler is not None
    if transformed and source.model.output_size != source.model.input_size:
        msg = (
            f"`model` has transforms but output_size={source.model.output_size} differs from "
            f"input_size={source.model.input_size}: its outputs cannot be turned back into the series' units"
        )
        raise ValueError(msg)
    if importlib.util.find_spec("onnx") is None:
        msg = f"export_onnx needs the onnx package: {_INSTALL}"
        raise ImportError(msg)
    import onnx

    exported = copy.deepcopy(source.model).to("cpu", torch.float32).eval()
    graph = _Graph(exported)
    spec = _io(exported)
    data = _onnx_bytes(graph, spec, opset)
    if verify and importlib.util.find_spec("onnxruntime") is not None:
        _verify(graph, spec, data)
    metadata = _metadata(source, spec)
    proto = onnx.load_from_string(data)
    proto.producer_name, proto.producer_version = "seqforecast", __version__
    proto.doc_string = f"seqforecast {type(exported).__name__}: forward(x, state) -> (y, state); see metadata_props"
    for key, value in metadata.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = METADATA_PREFIX + key, json.dumps(value)
    _write_atomic(Path(path), proto.SerializeToString())
    return metadata
