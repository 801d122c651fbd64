"""Inference: how ``forecast`` scales with the horizon, and the cost of a streaming update."""

from __future__ import annotations

import functools
from collections.abc import Callable

import torch

import seqforecast as sf
from benchmarks.baselines import HandState, bare_network
from benchmarks.report import Pending, Row
from benchmarks.timing import Timer

__all__ = ["MODELS", "prepare_forecast", "prepare_streaming"]

FORECAST_TARGET = 2.2
STREAMING_TARGET = 1.5

MODELS: dict[str, Callable[[], sf.BaseForecaster]] = {
    "notebook RNN": sf.RecurrentForecaster,
    "LSTM": lambda: sf.RecurrentForecaster(cell="lstm"),
    "causal CNN": sf.ConvForecaster,
}


def _model(name: str, device: torch.device) -> sf.BaseForecaster:
    torch.manual_seed(0)
    model = MODELS[name]().to(device)
    model.eval()
    return model


def prepare_forecast(name: str, horizon: int, device: torch.device) -> Pending:
    """``forecast`` time for ``2 * horizon`` steps over ``horizon`` steps (linear cost gives 2)."""
    model = _model(name, device)
    history = torch.sin(torch.linspace(0.0, 12.0, 32, device=device))
    sf.forecast(model, history, horizon)  # warm-up

    def run(steps: int) -> Callable[[], float]:
        def timed() -> float:
            with Timer(device) as timer:
                sf.forecast(model, history, steps)
            return timer.seconds

        return timed

    to_row = functools.partial(
        Row.from_paired,
        group="forecast",
        name=f"{name}, H = {horizon}",
        device=device.type,
        figure="t(2H) / t(H)",
        limit=FORECAST_TARGET,
        unit=(1e3, "ms"),
        sides=("seconds_h", "seconds_2h"),
        details={"horizon": horizon},
    )
    return Pending(run(horizon), run(2 * horizon), to_row)


def prepare_streaming(name: str, device: torch.device, *, calls: int) -> Pending:
    """``StreamingForecaster.update`` on one value over a bare call of the model's modules on ``(1, 1, 1)``."""
    model = _model(name, device)
    bare = bare_network(model)
    priming = torch.sin(torch.linspace(0.0, 3.0, 32, device=device))
    primed = sf.prime(model, priming)
    streaming = sf.StreamingForecaster(model, primed)
    values = torch.sin(torch.linspace(3.0, 6.0, calls, device=device))
    points = [values[i : i + 1] for i in range(calls)]  # (1,): one series, one feature
    steps = [p.reshape(1, 1, 1) for p in points]
    state: list[HandState] = [primed]

    def by_hand() -> float:
        carried = state[0]
        with Timer(device) as timer, torch.no_grad():
            for x in steps:
                _, carried = bare(x, carried)
        state[0] = carried
        return timer.seconds / calls

    def update() -> float:
        with Timer(device) as timer:
            for x in points:
                streaming.update(x)
        return timer.seconds / calls

    by_hand()
    update()
    to_row = functools.partial(
        Row.from_paired,
        group="streaming",
        name=f"{name}, one step",
        device=device.type,
        figure="update / bare module call",
        limit=STREAMING_TARGET,
        unit=(1e6, "µs a step"),
        sides=("bare_seconds", "update_seconds"),
        details={"calls": calls},
    )
    return Pending(by_hand, update, to_row)
