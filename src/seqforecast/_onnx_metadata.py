"""The ``seqforecast.*`` metadata of an exported ONNX file, checked against its graph (NumPy only, no torch).

:class:`seqforecast.runtime.OnnxStreamingForecaster` reads a file that may
come from anywhere: every field it relies on is checked here, and anything
wrong raises ``KeyError``, ``TypeError`` or ``ValueError`` with a message
naming the field, which the runtime turns into one ``OnnxModelError``.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np

from seqforecast._numpy_quantiles import HEAD_PARAMETERS, check_probabilities

__all__ = [
    "Head",
    "Layout",
    "check_state",
    "describe",
    "parse_version",
    "read_layout",
    "read_metadata",
    "real_array",
    "state_shape",
]

StateArrays = tuple[np.ndarray, ...]


def describe(value: object) -> str:
    """``value`` in a few words for an error message: an array's shape and dtype, else its (shortened) repr."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    return f"{text[:57] + '...' if len(text) > 60 else text} ({type(value).__name__})"


def real_array(name: str, value: object) -> np.ndarray:
    """``value`` as a float64 array of finite real numbers, or a clear error naming ``name``."""
    array = value if isinstance(value, np.ndarray) else np.asarray(value)
    if array.dtype.kind not in "fiu":
        msg = f"`{name}` must hold real numbers, got {describe(value)}"
        raise TypeError(msg)
    array = array.astype(np.float64, copy=False)
    if not np.isfinite(array).all():
        msg = f"`{name}` must be finite, got NaN or infinity in {describe(value)}"
        raise ValueError(msg)
    return array


def _integer(name: str, value: object, least: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < least:
        msg = f"{name} must be an integer >= {least}, got {describe(value)}"
        raise ValueError(msg)
    return value


def _flag(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        msg = f"{name} must be true or false, got {describe(value)}"
        raise TypeError(msg)
    return value


def parse_version(text: str) -> int:
    """The format version stored as ``text`` (JSON): an integer >= 1, not a bool nor a float."""
    return _integer("format_version", json.loads(text), 1)


_PREFIX = "seqforecast."
_KEYS = ("model", "io", "transform", "start")


def read_metadata(path: object, props: dict[str, str], newest: int, error: type[Exception]) -> dict[str, Any]:
    """The ``seqforecast.*`` entries of ``props`` (an ONNX file's metadata), parsed; ``error`` if unusable.

    ``head`` and ``intervals`` are absent from older files: null. A
    ``format_version`` above ``newest`` is refused.
    """
    version_text = props.get(_PREFIX + "format_version")
    if version_text is None:
        msg = (
            f"{path} is an ONNX model but not one written by seqforecast.export_onnx: "
            f"its metadata has no '{_PREFIX}format_version'"
        )
        raise error(msg)
    try:
        version = parse_version(version_text)
        metadata: dict[str, Any] = {"format_version": version}
        for key in _KEYS:
            metadata[key] = json.loads(props[_PREFIX + key])
        for key in ("head", "intervals"):  # older files have neither
            metadata[key] = json.loads(props.get(_PREFIX + key, "null"))
        metadata["library_version"] = json.loads(props.get(_PREFIX + "library_version", '"unknown"'))
    except (KeyError, TypeError, ValueError) as problem:
        msg = f"{path} is not a valid seqforecast ONNX model: its metadata is incomplete ({problem!s})"
        raise error(msg) from None
    if version > newest:
        msg = f"{path} has metadata format {version}, newer than this runtime reads ({newest}); upgrade seqforecast"
        raise error(msg)
    return metadata


def state_shape(spec: dict[str, Any], batch: int) -> tuple[int, ...]:
    """The shape of the state tensor ``spec`` describes, for ``batch`` series."""
    return tuple(batch if d == "batch" else int(d) for d in spec["shape"])


def check_state(specs: tuple[dict[str, Any], ...], state: object) -> StateArrays:
    """``state`` as float32 arrays of the state shapes in ``specs`` (one batch size for all), or raise.

    A model without state tensors accepts only torch's empty state (arrays of
    size 0) and gives ``()``.
    """
    shapes = [tuple(s["shape"]) for s in specs]
    want = shapes[0] if len(shapes) == 1 else shapes
    given = state if isinstance(state, (tuple, list)) else (state,)
    if not specs:  # no memory: only torch's empty state (the last 0 inputs) is accepted
        if all(np.size(s) == 0 for s in given):
            return ()
        msg = f"`state` must be None or empty: this model has no memory, got {describe(state)}"
        raise ValueError(msg)
    if len(given) != len(specs):
        names = ", ".join(str(s["input"]) for s in specs)
        msg = f"`state` must be {len(specs)} array(s) of shape {want} ({names}), got {describe(state)}"
        raise ValueError(msg)
    arrays = tuple(real_array("state", s).astype(np.float32) for s in given)
    batch = arrays[0].shape[specs[0]["batch_axis"]] if arrays[0].ndim == len(shapes[0]) else 0
    for array, spec in zip(arrays, specs, strict=True):
        if batch < 1 or array.shape != state_shape(spec, batch):
            got = tuple(a.shape for a in arrays)
            msg = f"`state` must have shape {want} ('batch' the same for all), got {got[0] if len(got) == 1 else got}; was it made by another model?"
            raise ValueError(msg)
    return arrays


@dataclasses.dataclass(frozen=True)
class Start:
    """Where the exported forecaster stood: its model state (batch 1), last levels and next model output."""

    state: StateArrays
    tail: np.ndarray  # (offset + 1, 1, input_size), float64
    next: np.ndarray  # (1, output_size), float32


@dataclasses.dataclass(frozen=True)
class Head:
    """A likelihood or quantile head: its kind, the levels of a quantile head, and its graph output's name."""

    kind: str  # "gaussian", "student_t", "negative_binomial" or "quantiles"
    levels: tuple[float, ...] | None
    output: str
    width: int


@dataclasses.dataclass(frozen=True)
class Layout:
    """The checked sizes, tensor names, transform and starting point of one exported graph."""

    input_size: int
    output_size: int
    batch_first: bool
    state: tuple[dict[str, Any], ...]
    difference: bool
    season: int
    mean: np.ndarray  # (input_size,)
    std: np.ndarray  # (input_size,), > 0
    scaled: bool
    start: Start | None
    head: Head | None = None

    @property
    def offset(self) -> int:
        """Levels the transform looks back on."""
        return self.season + int(self.difference)

    def transformed(self, tail: np.ndarray) -> np.ndarray:
        """The transformed value of the last level in ``tail`` ``(L, batch, F)``, ``(batch, F)``."""
        season = self.season
        z: np.ndarray = tail[-1] - tail[-1 - season] if season else tail[-1]
        if not self.difference:
            return z
        before: np.ndarray = tail[-2] - tail[-2 - season] if season else tail[-2]
        result: np.ndarray = z - before
        return result

    def anchor(self, levels: np.ndarray, s: int) -> np.ndarray:
        """The part of the level at index ``s`` known from ``levels[:s]``: level = transformed + anchor."""
        anchor = np.zeros(levels.shape[1:])
        if self.difference:
            anchor += levels[s - 1]
        if self.season:
            anchor += levels[s - self.season]
        if self.difference and self.season:
            anchor -= levels[s - 1 - self.season]
        return anchor

    @property
    def input_names(self) -> list[str]:
        return ["x", *(str(s["input"]) for s in self.state)]

    @property
    def output_names(self) -> list[str]:
        """``y``, the new state, then the head's parameters (if any)."""
        return ["y", *(str(s["output"]) for s in self.state), *([self.head.output] if self.head else [])]

    @property
    def covariates(self) -> int:
        """Inputs beyond the targets (the first ``output_size`` inputs) that closed loops need given."""
        return self.input_size - self.output_size


def _state_specs(io: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    specs = []
    for entry in io["state"]:
        spec = dict(entry)
        shape, axis = spec["shape"], spec["batch_axis"]
        if not (isinstance(spec["input"], str) and isinstance(spec["output"], str) and isinstance(shape, list)):
            msg = f"io.state entries need an input name, an output name and a shape, got {describe(spec)}"
            raise TypeError(msg)
        _integer("io.state[].batch_axis", axis, 0)
        dims_ok = all(d == "batch" if i == axis else isinstance(d, int) and d >= 0 for i, d in enumerate(shape))
        if axis >= len(shape) or not dims_ok:
            msg = f"io.state shape {shape} must be sizes with 'batch' at batch_axis {axis}"
            raise ValueError(msg)
        specs.append(spec)
    return tuple(specs)


def _scale(scale: object, features: int) -> tuple[np.ndarray, np.ndarray]:
    if scale is None:
        return np.zeros(features), np.ones(features)
    if not isinstance(scale, dict):
        msg = f"transform.scale must be null or an object with mean and std, got {describe(scale)}"
        raise TypeError(msg)
    mean = real_array("transform.scale.mean", scale["mean"])
    std = real_array("transform.scale.std", scale["std"])
    if mean.shape != (features,) or std.shape != (features,):
        msg = f"transform.scale.mean and .std must have {features} value(s) (input_size), got shapes {mean.shape} and {std.shape}"
        raise ValueError(msg)
    if not (std > 0).all():
        msg = f"transform.scale.std must be > 0, got {std.tolist()}"
        raise ValueError(msg)
    return mean, std


def _shape_text(names: list[str], shapes: list[list[Any]]) -> str:
    return ", ".join(f"{n} ({', '.join(str(d) for d in s)})" for n, s in zip(names, shapes, strict=True))


def _same_size(dim: object, want: object) -> bool:
    """A graph's axis against the metadata's: sizes must agree; an axis the graph leaves symbolic agrees with any."""
    return dim == want if isinstance(dim, int) and isinstance(want, int) else not isinstance(dim, int)


def _check_graph(layout: Layout, io: dict[str, Any], graph: dict[str, list[tuple[str, list[Any]]]]) -> None:
    """``io``'s and the graph's inputs and outputs must be those the metadata describes: names, and every size."""
    axes = ["batch", "time"] if layout.batch_first else ["time", "batch"]
    params = [[*axes, layout.head.width * layout.output_size]] if layout.head else []
    expected = {
        "inputs": (layout.input_names, [[*axes, layout.input_size], *(s["shape"] for s in layout.state)]),
        "outputs": (layout.output_names, [[*axes, layout.output_size], *(s["shape"] for s in layout.state), *params]),
    }
    for side, (names, shapes) in expected.items():
        have = graph[side]
        if [n for n, _ in have] != names or not all(
            len(s) == len(w) and all(_same_size(d, e) for d, e in zip(s, w, strict=True))
            for (_, s), w in zip(have, shapes, strict=True)
        ):
            msg = (
                f"its graph's {side} are {_shape_text([n for n, _ in have], [list(s) for _, s in have])}; "
                f"its metadata says {_shape_text(names, shapes)}"
            )
            raise ValueError(msg)
        listed = [(str(t["name"]), list(t["shape"])) for t in io[side]]
        if listed != list(zip(names, shapes, strict=True)):
            msg = (
                f"its metadata's io.{side} ({_shape_text([n for n, _ in listed], [s for _, s in listed])}) "
                f"disagree with its model and io.state ({_shape_text(names, shapes)})"
            )
            raise ValueError(msg)


def _start(start: object, layout: Layout) -> Start | None:
    if start is None:
        return None
    if not isinstance(start, dict):
        msg = f"start must be null or an object with state, tail and next, got {describe(start)}"
        raise TypeError(msg)
    tensors = start["state"] or ()
    if not isinstance(tensors, (list, tuple)):
        msg = f"start.state must be null or a list of tensors, got {describe(tensors)}"
        raise TypeError(msg)
    arrays = [real_array("start.state", t["values"]).reshape(t["shape"]) for t in tensors]
    state = check_state(layout.state, tuple(arrays)) if arrays or layout.state else ()
    if state and state[0].shape[layout.state[0]["batch_axis"]] != 1:
        msg = f"start.state must be for one series, got shapes {[a.shape for a in state]}"
        raise ValueError(msg)
    tail = real_array("start.tail", start["tail"])
    if tail.shape != (layout.offset + 1, layout.input_size):
        msg = f"start.tail must have shape ({layout.offset + 1}, {layout.input_size}) (offset + 1, input_size), got {tail.shape}"
        raise ValueError(msg)
    next_output = real_array("start.next", start["next"])
    if next_output.shape != (layout.output_size,):
        msg = f"start.next must have {layout.output_size} value(s) (output_size), got shape {next_output.shape}"
        raise ValueError(msg)
    return Start(state, tail.reshape(-1, 1, layout.input_size), next_output.astype(np.float32).reshape(1, -1))


def _head(head: object) -> Head | None:
    """``seqforecast.head``: null (a point forecaster, and every file written before heads were exported)."""
    if head is None:
        return None
    if not isinstance(head, dict):
        msg = f"head must be null or an object with kind, output, parameters and levels, got {describe(head)}"
        raise TypeError(msg)
    kind, output, parameters, levels = head["kind"], head["output"], head["parameters"], head["levels"]
    if kind not in (*HEAD_PARAMETERS, "quantiles"):
        msg = f"head.kind must be one of {[*HEAD_PARAMETERS, 'quantiles']}, got {describe(kind)}"
        raise ValueError(msg)
    if not isinstance(output, str) or not output or not isinstance(parameters, list):
        msg = (
            f"head.output must be a name and head.parameters a list, got {describe(output)} and {describe(parameters)}"
        )
        raise TypeError(msg)
    if kind == "quantiles":
        checked = check_probabilities("head.levels", levels)
        if len(parameters) != len(checked):
            msg = f"head.parameters must name one quantile per level ({len(checked)}), got {len(parameters)}"
            raise ValueError(msg)
        return Head(kind, checked, output, len(checked))
    if levels is not None or parameters != list(HEAD_PARAMETERS[kind]):
        msg = f"a {kind} head has parameters {list(HEAD_PARAMETERS[kind])} and no levels, got {parameters} and {describe(levels)}"
        raise ValueError(msg)
    return Head(kind, None, output, len(parameters))


def _check_targets(model: dict[str, Any], layout: Layout) -> None:
    """``model.targets`` and ``model.covariates`` (absent in older files) must agree with the sizes.

    Transforms need outputs that are the inputs (export refuses others).
    """
    if layout.output_size != layout.input_size and (layout.scaled or layout.offset):
        msg = f"transform must be empty (no scale, difference or season) when output_size {layout.output_size} != input_size {layout.input_size}"
        raise ValueError(msg)
    for key, want in (("targets", layout.output_size), ("covariates", layout.covariates)):
        if key in model and (isinstance(model[key], bool) or model[key] != want):
            msg = f"model.{key} must be {want} (input_size {layout.input_size}, output_size {layout.output_size}), got {describe(model[key])}"
            raise ValueError(msg)


def read_layout(metadata: dict[str, Any], graph: dict[str, list[tuple[str, list[Any]]]]) -> Layout:
    """Check ``metadata`` (the parsed ``seqforecast.*`` values) and the ``graph``'s inputs and outputs against it.

    Args:
        metadata: ``model``, ``io``, ``transform``, ``start`` and (optional) ``head``, parsed from JSON.
        graph: ``{"inputs": [(name, shape), ...], "outputs": [...]}`` as the
            ONNX session reports them (sizes, and names or None for dynamic axes).

    Returns:
        The checked layout.

    Raises:
        KeyError: A field is missing.
        TypeError: A field holds something other than numbers where numbers belong.
        ValueError: A field is out of range or disagrees with another or with the graph.
    """
    model, io, transform = metadata["model"], metadata["io"], metadata["transform"]
    features = _integer("model.input_size", model["input_size"], 1)
    scaled = transform["scale"] is not None
    mean, std = _scale(transform["scale"], features)
    layout = Layout(
        input_size=features,
        output_size=_integer("model.output_size", model["output_size"], 1),
        batch_first=_flag("model.batch_first", model["batch_first"]),
        state=_state_specs(io),
        difference=_flag("transform.difference", transform["difference"]),
        season=_integer("transform.season", transform["season"], 0),
        mean=mean,
        std=std,
        scaled=scaled,
        start=None,
        head=_head(metadata.get("head")),
    )
    _check_graph(layout, io, graph)
    _check_targets(model, layout)
    return dataclasses.replace(layout, start=_start(metadata["start"], layout))
