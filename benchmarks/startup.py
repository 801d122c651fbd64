"""Start-up time, each measurement in a fresh interpreter (its own start-up excluded).

``import seqforecast`` alone imports neither torch nor NumPy (its names load
on first use), so timing it says nothing. What a user waits for is:

* the first use of the training API, ``import seqforecast;
  seqforecast.Trainer``, which imports torch: its cost over ``import torch``
  is the library's own;
* a torch-free deployment, ``import seqforecast.runtime, onnxruntime`` (all
  that :class:`~seqforecast.runtime.OnnxStreamingForecaster` needs), against
  ``import torch``.
"""

from __future__ import annotations

import importlib.util
import math
import os
import subprocess
import sys
from pathlib import Path

import seqforecast
from benchmarks.report import Row
from benchmarks.timing import Stats, interleaved, summarize

__all__ = ["import_row", "runtime_import_row"]

TARGET_EXTRA_SECONDS = 0.15
RUNTIME_TARGET = 0.5
"""Importing the ONNX runtime and onnxruntime takes at most half as long as importing torch."""

_PROBE = "import sys, time; t = time.perf_counter(); {code}; print(time.perf_counter() - t, 'torch' in sys.modules)"
TORCH = "import torch"
TRAINER = "import seqforecast; seqforecast.Trainer"
RUNTIME = "import seqforecast.runtime, onnxruntime"


def _seconds(code: str, torch_seen: list[bool] | None = None) -> float:
    """Seconds ``code`` takes in a new Python process (interpreter start-up excluded).

    Whether the process had imported torch by the end is appended to ``torch_seen``, if given.
    """
    env = dict(os.environ)
    source = str(Path(seqforecast.__file__).resolve().parents[1])  # the copy this process uses
    env["PYTHONPATH"] = os.pathsep.join(p for p in (source, env.get("PYTHONPATH", "")) if p)
    env.pop("PYTHONSTARTUP", None)
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(code=code)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    seconds, loaded = out.stdout.strip().splitlines()[-1].split()
    if torch_seen is not None:
        torch_seen.append(loaded == "True")
    return float(seconds)


def import_row(*, repeats: int) -> Row:
    """The first use of ``seqforecast.Trainer`` over ``import torch``, interleaved; the target is on the difference."""
    _seconds(TORCH)  # warm the file cache for both
    _seconds(TRAINER)
    paired = interleaved(lambda: _seconds(TORCH), lambda: _seconds(TRAINER), repeats)
    extra = summarize([c - b for b, c in zip(paired.baseline, paired.candidate, strict=True)])
    torch_seconds = summarize(paired.baseline).median
    return Row(
        group="import",
        name="first use of seqforecast.Trainer",
        device="cpu",
        figure="t(seqforecast.Trainer) / t(torch)",
        stats=summarize(paired.ratios),
        target=f"extra ≤ {TARGET_EXTRA_SECONDS:.2f} s",
        passed=extra.median <= TARGET_EXTRA_SECONDS,
        context=f"extra {extra.median * 1e3:+.0f} ms (IQR {extra.q1 * 1e3:+.0f} to {extra.q3 * 1e3:+.0f}) "
        f"over torch's {torch_seconds:.2f} s",
        details={"torch_seconds": paired.baseline, "seqforecast_seconds": paired.candidate},
    )


def runtime_import_row(*, repeats: int) -> Row:
    """``import seqforecast.runtime, onnxruntime`` over ``import torch``, interleaved fresh processes."""
    name = "import seqforecast.runtime + onnxruntime"
    figure = "t(runtime) / t(torch)"
    if importlib.util.find_spec("onnxruntime") is None:
        nothing = Stats(median=math.nan, q1=math.nan, q3=math.nan, low=math.nan, high=math.nan, n=0)
        return Row("import", name, "cpu", figure, nothing, context="skipped: onnxruntime not installed")
    _seconds(TORCH)
    _seconds(RUNTIME)
    torch_seen: list[bool] = []
    paired = interleaved(lambda: _seconds(TORCH), lambda: _seconds(RUNTIME, torch_seen), repeats)
    stats = summarize(paired.ratios)
    loaded = sum(torch_seen)
    torch_note = "torch never imported" if not loaded else f"torch imported in {loaded} of {len(torch_seen)} runs"
    runtime_seconds, torch_seconds = summarize(paired.candidate).median, summarize(paired.baseline).median
    return Row(
        group="import",
        name=name,
        device="cpu",
        figure=figure,
        stats=stats,
        target=f"≤ {RUNTIME_TARGET:g}",
        passed=stats.median <= RUNTIME_TARGET,
        context=f"{runtime_seconds * 1e3:.0f} ms vs torch's {torch_seconds * 1e3:.0f} ms; {torch_note}",
        details={"torch_seconds": paired.baseline, "runtime_seconds": paired.candidate},
    )
