"""Every public entry point refuses bad input with one clear error.

Each row of ``CASES`` is one bad call: the exception it must raise and a
pattern its message must match (the message names the argument, what was
expected and what was received). To cover a new case, add a row.
"""

from __future__ import annotations

import struct
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import save as safetensors_bytes
from torch import Tensor

import seqforecast as sf
from seqforecast._checkpoint_file import read_file, write_file
from seqforecast.checkpoint import CheckpointError
from seqforecast.plotting import plot_history


@dataclass(frozen=True)
class Case:
    """One bad call: ``call(tmp_path)`` must raise ``error`` with a message matching ``match``."""

    id: str
    call: Callable[[Path], Any]
    error: type[Exception]
    match: str


SERIES = np.sin(np.arange(200.0) / 5)
MLP = sf.FeedForwardForecaster(hidden_sizes=(4,), window=2)


def bad(value: object) -> Any:
    """``value``, typed ``Any``: a wrong type passed on purpose."""
    return value


def streamed(folder: Path, model: sf.BaseForecaster, steps: int = 1) -> Any:
    """An ONNX runtime stream of ``model`` (exported to ``folder``) after ``steps`` updates of zeros."""
    pytest.importorskip("onnxruntime")
    from seqforecast.runtime import OnnxStreamingForecaster

    sf.export_onnx(model, folder / "model.onnx")
    stream = OnnxStreamingForecaster(folder / "model.onnx")
    for _ in range(steps):
        stream.update(np.zeros(model.input_size))
    return stream


def crafted(
    folder: Path,
    model: sf.BaseForecaster | None = None,
    *,
    content: Callable[[dict[str, Any]], object] = lambda c: None,
    tensors: Callable[[dict[str, Tensor]], dict[str, Tensor]] = lambda t: t,
) -> Path:
    """A checkpoint with a valid digest whose content or tensors were edited after saving."""
    original, crafted_path = folder / "original.safetensors", folder / "crafted.safetensors"
    sf.save(original, model if model is not None else sf.FeedForwardForecaster(hidden_sizes=(8,)))
    data, stored = read_file(original)
    content(data)
    write_file(crafted_path, data, tensors(stored))
    return crafted_path


def raw_file(folder: Path, data: bytes) -> Path:
    path = folder / "raw.safetensors"
    path.write_bytes(data)
    return path


def sparse_file(folder: Path, header_length: int, size: int) -> Path:
    """A file of ``size`` bytes (sparse: nothing stored) whose first 8 bytes declare ``header_length``."""
    path = folder / "sparse.safetensors"
    with path.open("wb") as handle:
        handle.write(struct.pack("<Q", header_length))
        handle.truncate(size)
    return path


def header_file(folder: Path, metadata: dict[str, str]) -> Path:
    return raw_file(folder, safetensors_bytes({}, metadata=metadata))


def set_config(key: str, value: object) -> Callable[[dict[str, Any]], None]:
    def edit(content: dict[str, Any]) -> None:
        content["model"]["config"][key] = value

    return edit


DEEP_JSON = b'{"__metadata__":' + b"[" * 100_000 + b"]" * 100_000 + b"}"


CASES = [
    # -- devices: one validator for every ``device`` argument -------------------------------
    Case(
        "ArrayStream device banana",
        lambda _: sf.ArrayStream(SERIES, 10, device="banana"),
        ValueError,
        "`device`.*'banana'",
    ),
    Case("SineStream device banana", lambda _: sf.SineStream(device="banana"), ValueError, "`device`.*'banana'"),
    Case(
        "ArrayStream device 3", lambda _: sf.ArrayStream(SERIES, 10, device=bad(3)), TypeError, "`device`.*3 \\(int\\)"
    ),
    Case("init_state device banana", lambda _: MLP.init_state(2, device="banana"), ValueError, "`device`.*'banana'"),
    Case("load device banana", lambda p: sf.load(p / "m", device="banana"), ValueError, "`device`.*'banana'"),
    # -- data that overflows the model's dtype ----------------------------------------------
    Case(
        "1e39 into a float32 model",
        lambda _: sf.predict(MLP, np.array([0.5, 1e39])),
        ValueError,
        r"`sequence` holds 1e\+39 at index \(1,\), which overflows torch.float32",
    ),
    Case(
        "1e39 into a float32 stream",
        lambda _: sf.ArrayStream(np.full(50, 1e39), 5),
        ValueError,
        "`series` holds 1e\\+39 at index \\(0,\\), which overflows torch.float32",
    ),
    # -- states -----------------------------------------------------------------------------
    Case(
        "integer state",
        lambda _: sf.RecurrentForecaster()(torch.zeros(1, 3, 1), torch.zeros(3, 1, 32, dtype=torch.int64)),
        TypeError,
        r"`state` must have a floating dtype like the model \(torch.float32\), got torch.int64",
    ),
    Case(
        "bool state to predict",
        lambda _: sf.predict(MLP, SERIES, state=torch.zeros(1, 1, 1, dtype=torch.bool)),
        TypeError,
        "`state` must have a floating dtype",
    ),
    # -- plots ------------------------------------------------------------------------------
    Case("plot_history('x')", lambda _: plot_history(bad("x")), TypeError, "`histories` must be a History.*'x'"),
    Case(
        "plot_history({'a': 1})",
        lambda _: plot_history(bad({"a": 1})),
        TypeError,
        "`histories` must be a History or a mapping",
    ),
    # -- transforms -------------------------------------------------------------------------
    Case("Scaler.fit([])", lambda _: sf.Scaler().fit([]), ValueError, r"`data` must have at least one point.*\(0,\)"),
    Case(
        "Scaler.transform overflow",
        lambda _: sf.Scaler().fit(np.array([0.0, 1.0])).transform(np.array([1e308])),
        ValueError,
        "standardising `data` overflows float64",
    ),
    Case(
        "Differencer NaN anchor",
        lambda _: sf.Differencer().fit(SERIES).inverse_transform(np.ones(3), anchor=float("nan")),
        ValueError,
        r"`anchor` must be 1 finite number\(s\), one per feature, got nan",
    ),
    Case(
        "Differencer anchor too wide",
        lambda _: sf.Differencer().fit(np.ones((5, 2))).inverse_transform(np.ones((3, 2)), anchor=[1.0, 2.0, 3.0]),
        ValueError,
        r"`anchor` must be 2 finite number\(s\).*\[1.0, 2.0, 3.0\]",
    ),
    Case(
        "Differencer start NaN",
        lambda _: sf.Differencer().fit(SERIES).integrate(np.ones(3), start=[float("nan")]),
        ValueError,
        "`start` must be 1 finite number",
    ),
    Case(
        "Differencer start not a number",
        lambda _: sf.Differencer().fit(SERIES).integrate(np.ones(3), start="x"),
        ValueError,
        "`start` must be 1 finite number.*'x'",
    ),
    # -- metrics and evaluation -------------------------------------------------------------
    Case(
        "mse of NaN",
        lambda _: sf.metrics.mse(torch.tensor([1.0, float("nan")]), torch.zeros(2)),
        ValueError,
        r"`predictions` must contain only finite values, got nan at index \(1,\)",
    ),
    Case(
        "smape of inf",
        lambda _: sf.metrics.smape(torch.zeros(2), torch.tensor([float("inf"), 1.0])),
        ValueError,
        r"`targets` must contain only finite values, got inf at index \(0,\)",
    ),
    Case(
        "mase on a constant series",
        lambda _: sf.metrics.mase(torch.ones(3), torch.zeros(3), torch.full((10,), 4.0)),
        ValueError,
        "`insample` must vary at lag period=1",
    ),
    Case(
        "mase insample NaN",
        lambda _: sf.metrics.mase(torch.ones(3), torch.zeros(3), torch.tensor([1.0, float("nan"), 2.0])),
        ValueError,
        "`insample` must contain only finite values",
    ),
    Case(
        "evaluate period=0",
        lambda _: sf.evaluate(MLP, SERIES, period=0),
        ValueError,
        "`period` must be an integer >= 1, got 0",
    ),
    Case(
        "evaluate period=-3",
        lambda _: sf.evaluate(MLP, SERIES, period=-3),
        ValueError,
        "`period` must be an integer >= 1, got -3",
    ),
    Case(
        "evaluate period=1.5",
        lambda _: sf.evaluate(MLP, SERIES, period=bad(1.5)),
        TypeError,
        "`period` must be an integer",
    ),
    # -- model constructors -------------------------------------------------------------------
    Case(
        "ConvForecaster context 2.2e12",
        lambda _: sf.ConvForecaster(num_layers=40, dilation_base=2),
        ValueError,
        r"`num_layers`=40, `kernel_size`=3 and `dilation_base`=2 give a context of 2.2e\+12",
    ),
    Case(
        "FeedForwardForecaster window 1e7",
        lambda _: sf.FeedForwardForecaster(window=10**7),
        ValueError,
        "`window`=10000000 give a context",
    ),
    # -- likelihood and quantile heads, sample paths, probabilistic scores ------------------
    Case(
        "unknown likelihood",
        lambda _: sf.RecurrentForecaster(likelihood=bad("poisson")),
        ValueError,
        "`likelihood`.*'poisson'",
    ),
    Case(
        "likelihood 3", lambda _: sf.ConvForecaster(likelihood=bad(3)), TypeError, "`likelihood` must be None or one of"
    ),
    Case(
        "likelihood and quantiles",
        lambda _: sf.FeedForwardForecaster(likelihood="gaussian", quantiles=(0.5,)),
        ValueError,
        "either `likelihood` or `quantiles`, not both",
    ),
    Case(
        "quantiles unsorted", lambda _: sf.FeedForwardForecaster(quantiles=(0.9, 0.1)), ValueError, "sorted increasing"
    ),
    Case("quantiles repeated", lambda _: sf.ConvForecaster(quantiles=(0.5, 0.5)), ValueError, "without repeats"),
    Case(
        "quantile 1.0",
        lambda _: sf.RecurrentForecaster(quantiles=(0.5, 1.0)),
        ValueError,
        r"strictly between 0 and 1, got \[0.5, 1.0\]",
    ),
    Case("quantiles empty", lambda _: sf.RecurrentForecaster(quantiles=()), ValueError, "at least one level"),
    Case(
        "quantiles a string",
        lambda _: sf.RecurrentForecaster(quantiles=bad("0.5")),
        TypeError,
        "`quantiles` must be a sequence",
    ),
    Case(
        "quantiles of strings",
        lambda _: sf.RecurrentForecaster(quantiles=bad(("a",))),
        TypeError,
        "`quantiles` must hold numbers",
    ),
    Case(
        "sample_paths num_samples 0",
        lambda _: sf.sample_paths(sf.FeedForwardForecaster(likelihood="gaussian"), SERIES, 3, 0),
        ValueError,
        "`num_samples` must be an integer >= 1, got 0",
    ),
    Case(
        "sample_paths of a point model",
        lambda _: sf.sample_paths(MLP, SERIES, 3, 10),
        ValueError,
        "`model` has a point head.*likelihood='gaussian'",
    ),
    Case("distribution of a point model", lambda _: MLP.distribution(torch.zeros(1, 3, 1)), ValueError, "point head"),
    Case(
        "sample_paths seed -1",
        lambda _: sf.sample_paths(sf.FeedForwardForecaster(likelihood="gaussian"), SERIES, 3, 5, seed=-1),
        ValueError,
        "`seed` must be an integer >= 0",
    ),
    Case(
        "forecast quantiles outside (0, 1)",
        lambda _: sf.forecast(sf.FeedForwardForecaster(quantiles=(0.5,)), SERIES, 2, quantiles=(0.0, 0.5)),
        ValueError,
        "`quantiles` must be levels strictly between 0 and 1",
    ),
    Case(
        "forecast quantiles beyond a quantile head's levels",
        lambda _: sf.forecast(sf.FeedForwardForecaster(quantiles=(0.1, 0.9)), SERIES, 2, quantiles=(0.025, 0.5)),
        ValueError,
        r"`quantiles` must lie between .* learned \[0.1, 0.9\], got \[0.025\]",
    ),
    Case(
        "negative binomial on negative data",
        lambda _: sf.Trainer(sf.FeedForwardForecaster(likelihood="negative_binomial"), device="cpu").fit(
            sf.ArrayStream(np.round(5 * SERIES) - 5, 10), steps=1
        ),
        ValueError,
        r"needs targets that are counts .*got negative values \(down to -4\)",
    ),
    Case(
        "negative binomial on fractions",
        lambda _: sf.Trainer(sf.FeedForwardForecaster(likelihood="negative_binomial"), device="cpu").fit(
            sf.ArrayStream(np.abs(SERIES), 10), steps=1
        ),
        ValueError,
        "non-negative integers.*got fractions such as 0.198669",
    ),
    Case(
        "crps samples without the sample dimension",
        lambda _: sf.metrics.crps(torch.zeros(3), torch.zeros(3)),
        ValueError,
        r"`samples` must have shape \(num_samples, \*targets.shape\) = \(num_samples, 3\), got \(3,\)",
    ),
    Case(
        "crps_gaussian std 0",
        lambda _: sf.metrics.crps_gaussian(torch.zeros(2), torch.zeros(2), torch.zeros(2)),
        ValueError,
        "`std` must be positive, got 0",
    ),
    Case(
        "pinball rows and levels disagree",
        lambda _: sf.metrics.pinball(torch.zeros(2, 4), torch.zeros(4), quantiles=(0.1, 0.5, 0.9)),
        ValueError,
        "one row per level: 3, got 2",
    ),
    # -- checkpoint paths -------------------------------------------------------------------
    Case("save path None", lambda _: sf.save(bad(None), sf.RecurrentForecaster()), TypeError, "`path`.*None"),
    Case("load path None", lambda _: sf.load(bad(None)), TypeError, "`path`.*None"),
    Case("load a folder", sf.load, CheckpointError, "is a folder"),
    Case("load /dev/zero", lambda _: sf.load("/dev/zero"), CheckpointError, "not a regular file"),
    Case("load a missing file", lambda p: sf.load(p / "missing"), FileNotFoundError, "no such file"),
    Case("save onto a folder", lambda p: sf.save(p, sf.RecurrentForecaster()), IsADirectoryError, "is a folder"),
    # -- checkpoint contents: refused before anything is built ------------------------------
    Case(
        "int32 weights",
        lambda p: sf.load(crafted(p, tensors=lambda t: {k: v.to(torch.int32) for k, v in t.items()})),
        CheckpointError,
        "dtype torch.int32; weights must be floating point",
    ),
    Case(
        "bool weights",
        lambda p: sf.load(crafted(p, tensors=lambda t: {k: v > 0 for k, v in t.items()})),
        CheckpointError,
        "dtype torch.bool; weights must be floating point",
    ),
    Case(
        "unknown model dtype",
        lambda p: sf.load(crafted(p, content=lambda c: c["model"].update(dtype="int8"))),
        CheckpointError,
        "dtype is 'int8'",
    ),
    Case(
        "config declares a huge model",
        lambda p: sf.load(crafted(p, content=set_config("hidden_sizes", [20000, 20000]))),
        CheckpointError,
        r"declares weight 'net.0.bias' of shape \(20000,\), but the file holds \(8,\)",
    ),
    Case(
        "config is not an object",
        lambda p: sf.load(crafted(p, content=lambda c: c["model"].update(config=[1, 2]))),
        CheckpointError,
        r"must have a class name and a configuration object, got \['FeedForwardForecaster', \[1, 2\]\]",
    ),
    Case(
        "config declares 10**8 layers",
        lambda p: sf.load(crafted(p, sf.RecurrentForecaster(hidden_size=2), content=set_config("num_layers", 10**8))),
        CheckpointError,
        "declares 100000000 layers, but the file holds only 14 weight tensors",
    ),
    Case(
        "config declares 10**6 hidden layers",
        lambda p: sf.load(crafted(p, content=set_config("hidden_sizes", [1] * 10**6))),
        CheckpointError,
        "declares 1000000 layers, but the file holds only 4 weight tensors",
    ),
    Case(
        "config declares a kernel of 10**7",
        lambda p: sf.load(
            crafted(p, sf.ConvForecaster(channels=2, head_hidden=2), content=set_config("kernel_size", 10**7))
        ),
        CheckpointError,
        "`kernel_size`=10000000 and `dilation_base`=1 give a context of 2e\\+07 past inputs",
    ),
    Case(
        "config declares 40 conv layers",
        lambda p: sf.load(
            crafted(
                p, sf.ConvForecaster(channels=2, head_hidden=2, dilation_base=2), content=set_config("num_layers", 40)
            )
        ),
        CheckpointError,
        "declares 40 layers, but the file holds only 8 weight tensors",
    ),
    Case(
        "negative format_version",
        lambda p: sf.load(header_file(p, {"format": "seqforecast", "format_version": "-1", "content": "{}"})),
        CheckpointError,
        "format_version is -1",
    ),
    Case(
        "100,000-deep JSON header",
        lambda p: sf.load(raw_file(p, struct.pack("<Q", len(DEEP_JSON)) + DEEP_JSON)),
        CheckpointError,
        "header is not seqforecast JSON",
    ),
    Case(
        "header over the cap",
        lambda p: sf.load(sparse_file(p, 100 * 2**20 + 1, 200 * 2**20)),
        CheckpointError,
        "its header is 104857601 bytes long, more than the 104857600 accepted",
    ),
    Case(
        "header larger than the file",
        lambda p: sf.load(raw_file(p, struct.pack("<Q", 2**40) + bytes(64))),
        CheckpointError,
        "declare a 1099511627776-byte header in a 72-byte file",
    ),
    Case(
        "export_onnx of a string",
        lambda p: sf.export_onnx(bad("banana"), p / "m.onnx"),
        TypeError,
        "`model` must be a seqforecast forecaster, a Checkpoint or a fitted AutoForecaster, got 'banana'",
    ),
    Case(
        "export_onnx of an unfitted AutoForecaster",
        lambda p: sf.export_onnx(sf.AutoForecaster(), p / "m.onnx"),
        ValueError,
        "`model` is an AutoForecaster that is not fitted yet",
    ),
    Case("export_onnx to path 3", lambda _: sf.export_onnx(MLP, bad(3)), TypeError, "`path` must be a file path.*3"),
    Case("export_onnx opset '17'", lambda p: sf.export_onnx(MLP, p / "m", opset=bad("17")), TypeError, "`opset`.*'17'"),
    Case(
        "export_onnx opset 9", lambda p: sf.export_onnx(MLP, p / "m", opset=9), ValueError, "`opset`.*14 to 20, got 9"
    ),
    Case(
        "export_onnx of a scaled model whose output is not its input",
        lambda p: sf.export_onnx(
            sf.Checkpoint(sf.FeedForwardForecaster(1, 2), sf.Scaler().fit(SERIES), None, None, {}, "0", 1), p / "m"
        ),
        ValueError,
        "output_size=2 differs from input_size=1",
    ),
    Case(
        "runtime quantiles of a point model",
        lambda p: streamed(p, MLP).quantiles([0.5]),
        ValueError,
        "this model has a point head",
    ),
    Case(
        "runtime quantiles before an update",
        lambda p: streamed(p, sf.FeedForwardForecaster(likelihood="gaussian"), steps=0).quantiles([0.5]),
        ValueError,
        r"no one-step distribution yet: update\(\) this stream with 1 more",
    ),
    Case(
        "runtime quantiles at level 1.5",
        lambda p: streamed(p, sf.FeedForwardForecaster(likelihood="gaussian")).quantiles([0.5, 1.5]),
        ValueError,
        r"`levels` must be levels strictly between 0 and 1, got \[0.5, 1.5\]",
    ),
    Case(
        "runtime quantiles of a string",
        lambda p: streamed(p, sf.FeedForwardForecaster(likelihood="gaussian")).quantiles(bad("0.5")),
        TypeError,
        "`levels` must be a sequence of levels in",
    ),
    Case(
        "runtime interval of 100",
        lambda p: streamed(p, sf.FeedForwardForecaster(likelihood="gaussian")).interval(100),
        ValueError,
        "`level` must be strictly between 0 and 100",
    ),
    Case(
        "runtime forecast of a covariate model without future",
        lambda p: streamed(p, sf.FeedForwardForecaster(2, 1)).forecast(3),
        ValueError,
        r"`future` is required: the model reads 1 covariate\(s\) .* shape \(2, 1\)",
    ),
    Case(
        "runtime forecast of a covariate model with a short future",
        lambda p: streamed(p, sf.FeedForwardForecaster(2, 1)).forecast(3, future=[[1.0]]),
        ValueError,
        r"`future` must hold the 1 covariate\(s\) of the 2 step\(s\) .* got shape \(1, 1\)",
    ),
    Case(
        "runtime forecast with NaN in future",
        lambda p: streamed(p, sf.FeedForwardForecaster(2, 1)).forecast(2, future=[[float("nan")]]),
        ValueError,
        "`future` must be finite",
    ),
    Case(
        "runtime intervals without a calibration",
        lambda p: streamed(p, MLP).forecast(2, level=80),
        ValueError,
        "this file holds no interval calibration",
    ),
    Case(
        "conformal: one calibration window",
        lambda p: sf.ConformalCalibration(np.ones((1, 3, 1))),
        ValueError,
        r"`errors` must hold at least 2 calibration windows .* got 1",
    ),
    Case(
        "conformal: too few windows for the level",
        lambda p: sf.ConformalCalibration(np.ones((10, 1, 1))).radius(95),
        ValueError,
        "`level` 95 needs at least 19 calibration windows .* got 10",
    ),
    Case(
        "conformal: level 100",
        lambda p: sf.conformal_forecast(MLP, SERIES, 3, start=100, level=100),
        ValueError,
        "`level` must hold numbers strictly between 0 and 100",
    ),
    Case(
        "conformal: calibration range of one cutoff",
        lambda p: sf.conformal_forecast(MLP, SERIES, 3, start=197),
        ValueError,
        "at least 2 calibration windows",
    ),
    Case(
        "adaptive conformal: gamma 0",
        lambda p: sf.AdaptiveConformal(MLP, gamma=0),
        ValueError,
        r"`gamma` must be a finite number in \(0.0, inf\], got 0",
    ),
    Case(
        "adaptive conformal: level as text",
        lambda p: sf.AdaptiveConformal(MLP, level=bad("90")),
        TypeError,
        "`level` must be a number or a sequence of numbers",
    ),
    Case(
        "auto: forecast level 0",
        lambda p: sf.AutoForecaster(models=("linear",)).fit(SERIES).forecast(3, level=0),
        ValueError,
        r"`level` must hold numbers strictly between 0 and 100 \(percent\), got 0",
    ),
    Case(
        "coverage: crossed bounds",
        lambda p: sf.metrics.coverage(torch.ones(2), torch.zeros(2), torch.zeros(2)),
        ValueError,
        "`lower` must not exceed `upper`",
    ),
    Case(
        "msis: level 0",
        lambda p: sf.metrics.msis(torch.zeros(1), torch.ones(1), torch.zeros(1), torch.arange(4.0), level=0),
        ValueError,
        "`level` must hold numbers strictly between 0 and 100",
    ),
    Case(
        "msis: bounds of other features than the in-sample series",
        lambda p: sf.metrics.msis(torch.zeros(3), torch.ones(3), torch.zeros(3), torch.ones(5, 2).cumsum(0), level=80),
        ValueError,
        r"must end in the 2 feature\(s\) of `insample`, got shape \(3,\)",
    ),
    Case(
        "auto: an empty list of levels",
        lambda p: sf.AutoForecaster(models=("linear",)).fit(SERIES).forecast(3, level=[]),
        ValueError,
        r"`level` must name at least one level in \(0, 100\), got \[\]",
    ),
    Case("PanelStream one-point series", lambda _: sf.PanelStream({"a": [1.0]}, 4), ValueError, r"series\['a'\]"),
    Case(
        "forecast without future covariates",
        lambda _: sf.forecast(sf.RecurrentForecaster(input_size=2, output_size=1), np.zeros((5, 2)), 3),
        ValueError,
        "`future` is required",
    ),
    Case(
        "Panel covariates of the wrong length",
        lambda _: sf.Panel.from_series({"a": SERIES}, future={"a": SERIES[:-1]}),
        ValueError,
        "`future` of series 'a' must have 200 rows",
    ),
    Case(
        "Panel repeated stamps",
        lambda _: sf.Panel.from_series({"a": [1.0, 2.0]}, times={"a": ["2024-01-01", "2024-01-01"]}),
        ValueError,
        "times of series 'a'.*repeated",
    ),
    Case(
        "calendar feature unknown", lambda _: sf.calendar_features(["2024-01-01"], ["week"]), ValueError, "`features`"
    ),
    Case(
        "backtest feeding back past covariates",
        lambda _: sf.backtest(
            sf.RecurrentForecaster(input_size=2, output_size=1), np.zeros((20, 2)), 3, start=10, past=1
        ),
        ValueError,
        r"`horizon` must be 1 with past=1",
    ),
    Case(
        "Panel built with a short covariate",
        lambda _: sf.Panel(("a",), (np.zeros((3, 1)),), (np.zeros((2, 0)),), (np.zeros((3, 0)),)),
        ValueError,
        r"`past` of series 'a' must have shape \(3, 0\)",
    ),
    Case("Panel.head of 0 points", lambda _: sf.Panel.from_series([SERIES]).head(0), ValueError, "`length`"),
    Case(
        "AutoForecaster on a panel without its future covariates",
        lambda _: (
            sf.AutoForecaster(models=("linear",))
            .fit(sf.Panel.from_series({"a": SERIES[:40]}, future={"a": SERIES[1:41]}, future_names=["price"]))
            .forecast(3)
        ),
        ValueError,
        r"`future` is required.*\['price'\]",
    ),
    Case(
        "AutoForecaster of one series given future covariates",
        lambda _: sf.AutoForecaster(models=("linear",)).fit(SERIES[:40]).forecast(3, future={"a": np.zeros((3, 1))}),
        ValueError,
        "`future` is for an AutoForecaster fitted on a Panel",
    ),
    Case(
        "backtest stamps of another length",
        lambda _: sf.backtest(MLP, SERIES, 2, start=150, times=np.arange(199).astype("datetime64[D]")),
        ValueError,
        r"`times` must have one stamp per time step of the series \(200\), got 199",
    ),
    Case(
        "sample_paths of a covariate model without future",
        lambda _: sf.sample_paths(
            sf.FeedForwardForecaster(input_size=2, output_size=1, likelihood="gaussian"), np.zeros((9, 2)), 3, 5
        ),
        ValueError,
        "`future` is required: the model reads 1 covariate",
    ),
]
if not torch.cuda.is_available():
    CASES += [
        Case("load onto missing CUDA", lambda p: sf.load(p / "m", device="cuda"), ValueError, "CUDA is not available"),
        Case(
            "ArrayStream on missing CUDA",
            lambda _: sf.ArrayStream(SERIES, 10, device="cuda"),
            ValueError,
            "CUDA is not available",
        ),
    ]
else:
    CASES += [
        Case(
            "ArrayStream on missing GPU",
            lambda _: sf.ArrayStream(SERIES, 10, device="cuda:99"),
            ValueError,
            "CUDA device",
        ),
    ]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_bad_input_raises_one_clear_error(case: Case, tmp_path: Path) -> None:
    with pytest.raises(case.error, match=case.match):
        case.call(tmp_path)


def test_a_list_of_numpy_scalars_is_one_series() -> None:
    values = SERIES.astype(np.float32)
    stream = sf.ArrayStream(list(values), 10)
    assert stream.windows_per_epoch == sf.ArrayStream(values, 10).windows_per_epoch == 20


def test_scaler_fits_values_whose_variance_overflows() -> None:
    data = np.array([1e200, -1e200, 3e200])  # the variance, ~2.7e400, overflows float64
    scaler = sf.Scaler().fit(data)
    assert scaler.mean is not None
    assert scaler.std is not None
    np.testing.assert_allclose(scaler.mean, [1e200])
    np.testing.assert_allclose(scaler.std, [np.sqrt(8 / 3) * 1e200])
    np.testing.assert_allclose(scaler.transform(data), (data - 1e200) / (np.sqrt(8 / 3) * 1e200))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_a_float64_state_is_cast_like_a_float64_input(cell: str) -> None:
    model = sf.RecurrentForecaster(hidden_size=4, num_layers=2, cell=bad(cell))
    x = torch.randn(2, 5, 1)
    _, state = model(x)
    y, _ = model(x, state)
    wide = tuple(s.double() for s in state) if isinstance(state, tuple) else bad(state).double()
    y64, _ = model(x.double(), wide)
    assert y64.dtype == torch.float32
    torch.testing.assert_close(y64, y)


def test_a_huge_file_with_a_bogus_prefix_is_refused_without_reading_it(tmp_path: Path) -> None:
    path = tmp_path / "huge.safetensors"
    with path.open("wb") as handle:
        handle.write(b"PK\x03\x04\x14\x00\x00\x00")  # a zip file's first bytes: a 5e15-byte "header"
        handle.truncate(2 * 2**30)  # 2 GB, sparse: nothing is stored on disk
    tracemalloc.start()
    try:
        with pytest.raises(CheckpointError, match="header in a 2147483648-byte file"):
            sf.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20
