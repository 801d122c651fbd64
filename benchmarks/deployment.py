"""Deploying without torch: the ONNX runtime's streaming update against torch's, and the install sizes.

Both sides stream one series from the same primed state through the same
weights: ``seqforecast.runtime.OnnxStreamingForecaster.update`` (NumPy and
onnxruntime, one thread) against ``sf.StreamingForecaster.update`` (torch,
the suite's thread count). The sizes are those of the installed
distributions (every file in their records), each with the packages it
requires, as installed here.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import math
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import seqforecast as sf
from benchmarks.report import Pending, Row
from benchmarks.timing import Stats, Timer, summarize

__all__ = [
    "MODELS",
    "installed_bytes",
    "onnx_available",
    "prepare_interval",
    "prepare_update",
    "size_row",
    "skipped_row",
]

UPDATE_TARGET = 0.33
"""The ONNX runtime's update takes at most a third of the time of torch's (batch 1, the default models)."""
SIZE_TARGET = 0.25

MODELS: dict[str, Callable[[], sf.BaseForecaster]] = {
    "notebook RNN": sf.RecurrentForecaster,
    "MLP": sf.FeedForwardForecaster,
    "causal CNN": sf.ConvForecaster,
    "notebook RNN, Gaussian head": functools.partial(sf.RecurrentForecaster, likelihood="gaussian"),
}
RUNTIME_PACKAGES = ("onnxruntime", "numpy")
TORCH_PACKAGES = ("torch", "numpy")  # seqforecast needs NumPy beside torch


def onnx_available() -> bool:
    """Whether the ``onnx`` extra (onnx and onnxruntime) is installed."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnx", "onnxruntime"))


def prepare_update(name: str, *, calls: int, folder: Path | None = None) -> Pending:
    """Seconds per ``update`` of one value: torch's ``StreamingForecaster`` (baseline) and the ONNX runtime."""
    from seqforecast.runtime import OnnxStreamingForecaster

    torch.manual_seed(0)
    model = MODELS[name]().eval()
    where = Path(tempfile.mkdtemp()) if folder is None else folder
    path = where / f"{name.replace(' ', '-')}.onnx"
    sf.export_onnx(model, path)
    primed = sf.prime(model, torch.sin(torch.linspace(0.0, 3.0, 32)))
    streaming = sf.StreamingForecaster(model, primed)
    onnx_stream = OnnxStreamingForecaster(path, state=None if primed is None else _numpy_state(primed))
    values = torch.sin(torch.linspace(3.0, 6.0, calls))
    points = [values[i : i + 1] for i in range(calls)]  # (1,): one series, one feature
    arrays = [p.numpy().copy() for p in points]
    cpu = torch.device("cpu")

    def torch_update() -> float:
        with Timer(cpu) as timer:
            for x in points:
                streaming.update(x)
        return timer.seconds / calls

    def onnx_update() -> float:
        with Timer(cpu) as timer:
            for x in arrays:
                onnx_stream.update(x)
        return timer.seconds / calls

    torch_update()  # warm-up, and a check that both give the same forecasts
    onnx_update()
    streaming.reset(primed)
    onnx_stream.reset()
    expected = torch.stack([streaming.update(x) for x in points[:20]]).numpy()
    got = np.stack([onnx_stream.update(x) for x in arrays[:20]])
    if not np.allclose(got, expected, rtol=1e-4, atol=1e-5):
        msg = f"{name}: the ONNX runtime's forecasts differ from torch's by {np.abs(got - expected).max():.3g}"
        raise RuntimeError(msg)
    to_row = functools.partial(
        Row.from_paired,
        group="deployment",
        name=f"{name}, ONNX runtime update",
        device="cpu",
        figure="t(ONNX update) / t(torch update)",
        limit=UPDATE_TARGET,
        unit=(1e6, "µs a step"),
        sides=("torch_seconds", "onnx_seconds"),
        details={"calls": calls, "onnxruntime": importlib.metadata.version("onnxruntime")},
    )
    return Pending(torch_update, onnx_update, to_row)


def prepare_interval(*, calls: int, folder: Path | None = None) -> Pending:
    """Seconds per step of a streaming 90 % interval from a Gaussian head: torch against the ONNX runtime.

    torch (baseline): ``head_parameters`` on the new value with the carried
    state, then the head's distribution and its ``icdf`` at 0.05 and 0.95;
    the ONNX runtime: ``update`` then ``interval(90)`` (NumPy quantiles).
    """
    from seqforecast.runtime import OnnxStreamingForecaster

    torch.manual_seed(0)
    model = sf.RecurrentForecaster(likelihood="gaussian").eval()
    head = model.output_head
    assert head is not None
    path = (Path(tempfile.mkdtemp()) if folder is None else folder) / "gaussian-interval.onnx"
    sf.export_onnx(model, path)
    primed = sf.prime(model, torch.sin(torch.linspace(0.0, 3.0, 32)))
    onnx_stream = OnnxStreamingForecaster(path, state=_numpy_state(primed))
    values = torch.sin(torch.linspace(3.0, 6.0, calls))
    points = [values[i : i + 1].reshape(1, 1, 1) for i in range(calls)]  # (batch, time, features)
    arrays = [p.numpy().reshape(1).copy() for p in points]
    levels = torch.tensor([0.05, 0.95])
    cpu = torch.device("cpu")

    def torch_intervals(steps: list[torch.Tensor]) -> list[torch.Tensor]:
        state, bounds = primed, []
        with torch.no_grad():
            for x in steps:
                raw, state = model.head_parameters(x, state)
                bounds.append(head.distribution(raw).icdf(levels.reshape(2, 1, 1, 1)))
        return bounds

    def torch_interval() -> float:
        with Timer(cpu) as timer:
            torch_intervals(points)
        return timer.seconds / calls

    def onnx_interval() -> float:
        with Timer(cpu) as timer:
            for x in arrays:
                onnx_stream.update(x)
                onnx_stream.interval(90)
        return timer.seconds / calls

    onnx_stream.reset()
    expected = torch.stack(torch_intervals(points[:20])).reshape(20, 2).numpy()
    got = []
    for x in arrays[:20]:
        onnx_stream.update(x)
        got.append(np.concatenate(onnx_stream.interval(90)))
    if not np.allclose(np.stack(got), expected, rtol=1e-4, atol=1e-5):
        msg = f"the ONNX runtime's intervals differ from torch's by {np.abs(np.stack(got) - expected).max():.3g}"
        raise RuntimeError(msg)
    torch_interval()  # warm-up
    onnx_interval()
    to_row = functools.partial(
        Row.from_paired,
        group="deployment",
        name="notebook RNN, Gaussian head, update and 90 % interval",
        device="cpu",
        figure="t(ONNX update + interval) / t(torch step + icdf)",
        limit=UPDATE_TARGET,
        unit=(1e6, "µs a step"),
        sides=("torch_seconds", "onnx_seconds"),
        details={"calls": calls, "onnxruntime": importlib.metadata.version("onnxruntime")},
    )
    return Pending(torch_interval, onnx_interval, to_row)


def _numpy_state(state: sf.State) -> tuple[np.ndarray, ...]:
    tensors = (state,) if isinstance(state, torch.Tensor) else tuple(state or ())
    return tuple(t.detach().numpy() for t in tensors)


def _requirement_names(distribution: importlib.metadata.Distribution) -> list[str]:
    """The distributions ``distribution`` requires unconditionally (no extras)."""
    names = []
    for requirement in distribution.requires or []:
        if "extra ==" in requirement.replace("extra==", "extra =="):
            continue
        found = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
        if found:
            names.append(found.group(0))
    return names


def installed_bytes(roots: tuple[str, ...]) -> tuple[int, list[str]]:
    """Bytes of the installed files of ``roots`` and everything they require; and the distributions counted."""
    seen: dict[str, importlib.metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue  # required only on other platforms (or not installed): nothing installed here
        seen[key] = distribution
        todo += _requirement_names(distribution)
    total = 0
    for distribution in seen.values():
        for file in distribution.files or []:
            path = Path(str(file.locate()))
            if path.is_file():
                total += path.stat().st_size
    return total, sorted(seen)


def size_row() -> Row:
    """Installed size of the runtime's dependencies (onnxruntime, NumPy, theirs) over torch's (with NumPy)."""
    runtime, runtime_names = installed_bytes(RUNTIME_PACKAGES)
    torch_bytes, torch_names = installed_bytes(TORCH_PACKAGES)
    ratio = runtime / torch_bytes if torch_bytes else math.nan
    stats: Stats = summarize([ratio])
    return Row(
        group="deployment",
        name="install size of the runtime's dependencies",
        device="cpu",
        figure="size(onnxruntime + numpy) / size(torch + numpy)",
        stats=stats,
        target=f"≤ {SIZE_TARGET:g}",
        passed=ratio <= SIZE_TARGET,
        context=f"{runtime / 2**20:.0f} MiB vs {torch_bytes / 2**20:.0f} MiB (torch {torch.__version__})",
        details={"runtime_bytes": runtime, "torch_bytes": torch_bytes, "runtime": runtime_names, "torch": torch_names},
    )


def skipped_row() -> Row:
    """The group's place in the table when the onnx extra is not installed."""
    nothing = Stats(median=math.nan, q1=math.nan, q3=math.nan, low=math.nan, high=math.nan, n=0)
    context = "skipped: onnx and onnxruntime not installed (pip install 'seqforecast[onnx]')"
    return Row("deployment", "ONNX runtime update", "cpu", "t(ONNX update) / t(torch update)", nothing, context=context)
