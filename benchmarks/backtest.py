"""Backtesting: ``sf.backtest``'s one pass against a loop of ``sf.forecast``, how it scales, and darts.

A rolling-origin backtest forecasts ``horizon`` points from every cutoff of
a series. Without :func:`seqforecast.backtest` a user writes the loop
``[sf.forecast(model, y[:c], horizon) for c in cutoffs]``, which re-reads
the history at every cutoff: quadratic in the series' length. The one pass
keeps the state at each cutoff and runs all the closed loops as one batch.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import logging
import math
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
from torch import Tensor

import seqforecast as sf
from benchmarks.report import Pending, Row
from benchmarks.timing import Paired, Stats, Timer, interleaved, summarize

__all__ = [
    "HORIZON",
    "LENGTH",
    "MODELS",
    "darts_row",
    "make_series",
    "one_pass",
    "per_cutoff_loop",
    "prepare_scaling",
    "prepare_speedup",
]

SPEEDUP_TARGET = 30.0  # t(loop) / t(backtest), at least
SCALING_TARGET = 1.2  # time per cutoff at the larger count over the smaller, at most
DARTS_TARGET = 1.0  # t(darts) / t(backtest), at least
HORIZON = 12
LENGTH = 2284  # points in the series of the speed-up rows
CUTOFFS = 446  # the speed-up targets are for this many cutoffs (a quick run takes fewer: context only)
SCALING = (1_000, 10_000)  # the scaling target is for these counts
SCALING_PREFIX = 100  # points before the first cutoff in the scaling rows, the same for both counts
DARTS_INPUT_CHUNK = 24
DARTS_TRAINING_LENGTH = 36

MODELS: dict[str, Callable[[], sf.BaseForecaster]] = {
    "LSTM 2x32": lambda: sf.RecurrentForecaster(hidden_size=32, num_layers=2, cell="lstm", seed=0),
    "causal CNN": lambda: sf.ConvForecaster(seed=0),
    "MLP, window 8": lambda: sf.FeedForwardForecaster(window=8, seed=0),
}
LSTM = "LSTM 2x32"


def make_series(length: int, device: torch.device, *, seed: int = 0) -> Tensor:
    """A daily-like series of ``length`` points: a sine of period 24 plus Gaussian noise, from ``seed``."""
    generator = torch.Generator().manual_seed(seed)
    t = torch.arange(length, dtype=torch.float32)
    values = torch.sin(2 * math.pi * t / 24) + 0.1 * torch.randn(length, generator=generator)
    return values.to(device)


def one_pass(model: sf.BaseForecaster, series: Tensor, horizon: int, start: int) -> Tensor:
    """``sf.backtest``'s forecasts from every cutoff ``start, start + 1, ...``: ``(cutoffs, horizon, 1)``."""
    return sf.backtest(model, series, horizon, start=start).forecasts


def per_cutoff_loop(model: sf.BaseForecaster, series: Tensor, horizon: int, start: int) -> Tensor:
    """The same forecasts as users write them without ``backtest``: one ``sf.forecast`` per cutoff."""
    cutoffs = range(start, series.shape[0] - horizon + 1)
    return torch.stack([sf.forecast(model, series[:c], horizon) for c in cutoffs])


def _model(name: str, device: torch.device) -> sf.BaseForecaster:
    model = MODELS[name]().to(device)
    model.eval()
    return model


def _timed(device: torch.device, run: Callable[[], object]) -> Callable[[], float]:
    def timed() -> float:
        with Timer(device) as timer:
            run()
        return timer.seconds

    return timed


def _at_least_row(
    paired: Paired,
    *,
    name: str,
    device: str,
    figure: str,
    limit: float | None,
    context: str,
    sides: tuple[str, str],
    details: dict[str, Any],
) -> Row:
    """A row whose figure is candidate over baseline and should be at least ``limit`` (None: context only)."""
    stats = summarize(paired.ratios)
    base, cand = summarize(paired.baseline).median, summarize(paired.candidate).median
    return Row(
        group="backtest",
        name=name,
        device=device,
        figure=figure,
        stats=stats,
        target=None if limit is None else f"≥ {limit:g}",
        passed=None if limit is None else stats.median >= limit,
        context=f"{cand:.3g} s vs {base:.3g} s{context}",
        details={**details, sides[0]: paired.baseline, sides[1]: paired.candidate},
    )


def prepare_speedup(name: str, device: torch.device, *, cutoffs: int) -> Pending:
    """The per-cutoff loop's time over ``sf.backtest``'s, for the last ``cutoffs`` cutoffs of the series."""
    model = _model(name, device)
    series = make_series(LENGTH, device)
    start = LENGTH - HORIZON + 1 - cutoffs
    one_pass(model, series, HORIZON, start)  # warm-up
    per_cutoff_loop(model, series[-(HORIZON + 64) :], HORIZON, 64)
    to_row = functools.partial(
        _at_least_row,
        name=f"{name}, {cutoffs} cutoffs of {LENGTH} points, H = {HORIZON}",
        device=device.type,
        figure="t(loop of forecast) / t(backtest)",
        limit=SPEEDUP_TARGET if cutoffs == CUTOFFS else None,  # the loop's cost grows with the cutoffs
        context="",
        sides=("backtest_seconds", "loop_seconds"),
        details={"cutoffs": cutoffs, "length": LENGTH, "horizon": HORIZON, "start": start},
    )
    return Pending(
        _timed(device, lambda: one_pass(model, series, HORIZON, start)),
        _timed(device, lambda: per_cutoff_loop(model, series, HORIZON, start)),
        to_row,
    )


def prepare_scaling(device: torch.device, *, counts: tuple[int, int]) -> Pending:
    """``sf.backtest``'s time per cutoff at ``counts[1]`` cutoffs over that at ``counts[0]`` (the LSTM, stride 1).

    Both series have :data:`SCALING_PREFIX` points before the first cutoff
    and ``HORIZON - 1`` after the last, so the counts differ and nothing else.
    """
    model = _model(LSTM, device)
    small, large = counts
    series = {k: make_series(SCALING_PREFIX + k + HORIZON - 1, device, seed=k) for k in counts}
    for k in counts:
        one_pass(model, series[k], HORIZON, SCALING_PREFIX)  # warm-up

    def per_cutoff(k: int) -> Callable[[], float]:
        timed = _timed(device, lambda: one_pass(model, series[k], HORIZON, SCALING_PREFIX))
        return lambda: timed() / k

    to_row = functools.partial(
        Row.from_paired,
        group="backtest",
        name=f"{LSTM}, {large:,} cutoffs / {small:,}, H = {HORIZON}",
        device=device.type,
        figure="time per cutoff, ratio",
        limit=SCALING_TARGET if counts == SCALING else None,
        unit=(1e6, "µs a cutoff"),
        sides=(f"seconds_per_cutoff_{small}", f"seconds_per_cutoff_{large}"),
        details={"counts": list(counts), "prefix": SCALING_PREFIX, "horizon": HORIZON},
    )
    return Pending(per_cutoff(small), per_cutoff(large), to_row)


def darts_available() -> bool:
    """Whether darts and its torch models can be imported here."""
    return importlib.util.find_spec("darts") is not None and importlib.util.find_spec("pytorch_lightning") is not None


def darts_row(device: torch.device, *, cutoffs: int, repeats: int) -> Row:
    """darts' ``RNNModel.historical_forecasts`` (LSTM 2x32, no retraining) over ``sf.backtest``, same cutoffs.

    The darts model is trained for one epoch first (untimed; it cannot
    predict untrained); both sides are timed on inference only. Without
    darts the row is there with no figure, saying so.
    """
    name = f"darts RNNModel LSTM 2x32, {cutoffs} cutoffs of {LENGTH} points, H = {HORIZON}"
    figure = "t(darts) / t(backtest)"
    if not darts_available():
        nothing = Stats(median=math.nan, q1=math.nan, q3=math.nan, low=math.nan, high=math.nan, n=0)
        return Row("backtest", name, device.type, figure, nothing, context="skipped: darts not installed")
    historical, darts_version = _darts_side(device, cutoffs)
    model = _model(LSTM, device)
    series = make_series(LENGTH, device)
    start = LENGTH - HORIZON + 1 - cutoffs
    one_pass(model, series, HORIZON, start)  # warm-up
    paired = interleaved(
        _timed(device, lambda: one_pass(model, series, HORIZON, start)), _timed(device, historical), repeats
    )
    return _at_least_row(
        paired,
        name=name,
        device=device.type,
        figure=figure,
        limit=DARTS_TARGET if cutoffs == CUTOFFS else None,
        context=f"; darts {darts_version}, input_chunk_length={DARTS_INPUT_CHUNK}",
        sides=("backtest_seconds", "darts_seconds"),
        details={"cutoffs": cutoffs, "darts": darts_version, "input_chunk_length": DARTS_INPUT_CHUNK},
    )


def _darts_side(device: torch.device, cutoffs: int) -> tuple[Callable[[], object], str]:
    """A trained darts ``RNNModel`` and a call of its ``historical_forecasts`` from the last ``cutoffs`` cutoffs."""
    darts: Any = importlib.import_module("darts")  # optional: only when installed (and untyped)
    time_series: Any = darts.TimeSeries
    rnn_model: Any = importlib.import_module("darts.models").RNNModel

    for logger in ("pytorch_lightning", "lightning.pytorch", "lightning", "darts"):
        logging.getLogger(logger).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="pytorch_lightning|lightning|darts")
    warnings.filterwarnings("ignore", message=".*pin_memory.*")  # darts asks for it on the CPU too
    threads = torch.get_num_threads()
    values = make_series(LENGTH, torch.device("cpu")).numpy().astype(np.float32)
    series = time_series.from_values(values)
    trainer: dict[str, object] = {
        "accelerator": "gpu" if device.type == "cuda" else "cpu",
        "devices": 1,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "enable_checkpointing": False,
        "logger": False,
    }
    model = rnn_model(
        model="LSTM",
        hidden_dim=32,
        n_rnn_layers=2,
        input_chunk_length=DARTS_INPUT_CHUNK,
        training_length=DARTS_TRAINING_LENGTH,
        n_epochs=1,
        random_state=0,
        pl_trainer_kwargs=trainer,
    )
    model.fit(series, verbose=False)
    torch.set_num_threads(threads)  # in case the trainer changed it
    start = LENGTH - HORIZON + 1 - cutoffs

    def historical() -> object:
        forecasts = model.historical_forecasts(
            series,
            start=start,
            start_format="position",
            forecast_horizon=HORIZON,
            stride=1,
            retrain=False,
            last_points_only=False,
            verbose=False,
        )
        if len(forecasts) != cutoffs:
            msg = f"darts made {len(forecasts)} forecasts, expected {cutoffs}"
            raise RuntimeError(msg)
        return forecasts

    historical()  # warm-up, and the check
    return historical, str(darts.__version__)
