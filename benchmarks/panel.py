"""Many series and covariates: accuracy of one global model, and its training speed on a panel.

* **Covariates carry signal** — a synthetic panel where each series is
  driven by a known-future input (``y[t] = 0.6 y[t-1] + x[t] + noise``, ``x``
  random): the same global model with the input as a covariate against
  without, MASE of 4-step backtests; target: at most 0.8 of it.
* **A real panel** — Grunfeld's investment data (11 US firms, 1935-1954,
  public domain, shipped in ``examples/data``): one global model with the
  firms' market value and capital as past covariates, the same without, one
  model per firm, statsforecast's ``AutoETS`` per firm (the ``bench`` extra;
  skipped without it) and the naive forecast; one-year-ahead MASE over
  1951-1954, per seed. Context only: twenty points a firm are few.
* **Throughput** — training one global model on a panel of many series of
  500 points against one long series of the same total length (windows per
  second, side by side); target: within 1.2x.
"""

from __future__ import annotations

import csv
import functools
import importlib.util
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

import seqforecast as sf
from benchmarks.report import Pending, Row
from benchmarks.timing import Stats, Timer, summarize
from seqforecast.backtesting import backtest

__all__ = [
    "COVARIATE_TARGET",
    "THROUGHPUT_TARGET",
    "covariate_row",
    "grunfeld_rows",
    "load_grunfeld",
    "prepare_throughput",
    "synthetic_panel",
]

COVARIATE_TARGET = 0.8
THROUGHPUT_TARGET = 1.2
GRUNFELD = Path(__file__).resolve().parent.parent / "examples" / "data" / "grunfeld.csv"
SEQ_LENGTH = 50


def synthetic_panel(series: int, length: int, seed: int = 0) -> sf.Panel:
    """``y[t] = 0.6 y[t-1] + x[t] + 0.1 noise`` with ``x`` a known-future standard normal input, per series."""
    rng = np.random.default_rng(seed)
    targets, inputs = {}, {}
    for i in range(series):
        x = rng.standard_normal(length)
        y = np.zeros(length)
        for t in range(1, length):
            y[t] = 0.6 * y[t - 1] + x[t] + 0.1 * rng.standard_normal()
        targets[f"s{i}"], inputs[f"s{i}"] = y, x
    return sf.Panel.from_series(targets, future=inputs, future_names=["x"])


def _train(panel: sf.Panel, covariates: bool, steps: int, seed: int, *, hidden: int = 16) -> sf.BaseForecaster:
    size = panel.input_size if covariates else panel.num_targets
    model = sf.RecurrentForecaster(size, 1, hidden_size=hidden, num_layers=1, cell="gru", seed=seed)
    if covariates:
        stream: sf.Stream = panel.stream(SEQ_LENGTH, batch_size=len(panel))
    else:
        stream = sf.PanelStream(list(panel.targets), SEQ_LENGTH, batch_size=len(panel))
    sf.Trainer(model, sf.TrainerConfig(device="cpu", seed=seed, lr=0.01)).fit(stream, steps=steps)
    return model


def _mase(model: sf.BaseForecaster, panel: sf.Panel, covariates: bool, start: int, horizon: int) -> float:
    """Mean over the series of the backtest MASE (from ``start``, ``horizon`` steps)."""
    scores = []
    for i in range(len(panel)):
        values = panel.inputs(i) if covariates else panel.targets[i]
        result = backtest(model, torch.as_tensor(values, dtype=torch.float32), horizon, start=start)
        scores.append(float(result.metrics()["mase"].mean()))
    return float(np.mean(scores))


def covariate_row(*, seeds: int, steps: int, series: int = 16, length: int = 240) -> Row:
    """MASE with the known-future input as a covariate over MASE without, per seed."""
    panel = synthetic_panel(series, length)
    train = panel.head(length - 40)
    ratios, with_cov, without = [], [], []
    for seed in range(seeds):
        a = _mase(_train(train, True, steps, seed), panel, True, length - 40, 4)
        b = _mase(_train(train, False, steps, seed), panel, False, length - 40, 4)
        ratios.append(a / b)
        with_cov.append(a)
        without.append(b)
    stats = summarize(ratios)
    return Row(
        group="panel",
        name=f"covariates vs none, synthetic panel {series}x{length}, H = 4",
        device="cpu",
        figure="MASE with / without",
        stats=stats,
        target=f"≤ {COVARIATE_TARGET:g}",
        passed=stats.median <= COVARIATE_TARGET,
        context=f"MASE {np.median(with_cov):.3g} vs {np.median(without):.3g}, {seeds} seeds x {steps} steps",
        details={"with": with_cov, "without": without, "steps": steps},
    )


def load_grunfeld() -> sf.Panel:
    """Grunfeld's data as a panel of yearly log-growth rates: invest (target), value and capital (past covariates).

    Each firm's columns are divided by their standard deviation over
    1936-1950, so one model can serve firms of any size (MASE does not
    change under such scaling).
    """
    with GRUNFELD.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    firms: dict[str, list[list[float]]] = {}
    for row in rows:
        firms.setdefault(row["firm"], []).append([float(row[c]) for c in ("invest", "value", "capital")])
    targets, past = {}, {}
    for firm, values in firms.items():
        growth = np.diff(np.log(np.asarray(values)), axis=0)  # (19, 3): 1936-1954
        growth /= growth[:15].std(axis=0)
        targets[firm], past[firm] = growth[:, :1], growth[:, 1:]
    return sf.Panel.from_series(targets, past=past, past_names=["value", "capital"], target_names=["invest"])


GRUNFELD_SPLIT = 15  # growth rates 1936-1950 to train on; 1951-1954 to score


def _growth_mase(forecasts: np.ndarray, panel: sf.Panel) -> float:
    """MASE of one-year-ahead growth forecasts ``(series, 4)``: level errors over the naive level error in training."""
    scores = []
    for i, target in enumerate(panel.targets):
        actual = target[GRUNFELD_SPLIT:, 0]
        scores.append(np.abs(forecasts[i] - actual).mean() / np.abs(target[:GRUNFELD_SPLIT, 0]).mean())
    return float(np.mean(scores))


def _one_step(model: sf.BaseForecaster, panel: sf.Panel, covariates: bool) -> np.ndarray:
    out = []
    for i in range(len(panel)):
        values = panel.inputs(i) if covariates else panel.targets[i]
        past = len(panel.past_names) if covariates else 0  # value and capital: observed, not known in advance
        result = backtest(model, torch.as_tensor(values, dtype=torch.float32), 1, start=GRUNFELD_SPLIT, past=past)
        out.append(result.forecasts[:, 0, 0].numpy())
    return np.stack(out)


def grunfeld_rows(*, seeds: int, steps: int) -> list[Row]:
    """MASE on Grunfeld's panel, one row per method (context only)."""
    panel = load_grunfeld()
    train = panel.head(GRUNFELD_SPLIT)
    results: dict[str, list[float]] = {
        "global GRU, with covariates": [],
        "global GRU, no covariates": [],
        "GRU per firm": [],
    }
    for seed in range(seeds):
        for covariates in (True, False):
            name = "global GRU, with covariates" if covariates else "global GRU, no covariates"
            model = _train(train, covariates, steps, seed, hidden=8)
            results[name].append(_growth_mase(_one_step(model, panel, covariates), panel))
        per_firm = []
        for i in range(len(panel)):
            model = sf.RecurrentForecaster(1, 1, hidden_size=8, num_layers=1, cell="gru", seed=seed)
            stream = sf.PanelStream([train.targets[i]], SEQ_LENGTH)
            sf.Trainer(model, sf.TrainerConfig(device="cpu", seed=seed, lr=0.01)).fit(stream, steps=steps)
            result = backtest(model, torch.as_tensor(panel.targets[i], dtype=torch.float32), 1, start=GRUNFELD_SPLIT)
            per_firm.append(result.forecasts[:, 0, 0].numpy())
        results["GRU per firm"].append(_growth_mase(np.stack(per_firm), panel))
    results["naive (no change)"] = [_growth_mase(np.zeros((len(panel), 4)), panel)]
    ets = _auto_ets(panel)
    rows = [
        Row(
            "panel",
            f"Grunfeld 11 firms, 1951-1954 one year ahead: {name}",
            "cpu",
            "MASE",
            summarize(values),
            context=f"{len(values)} seed(s) x {steps} steps" if len(values) > 1 else "",
        )
        for name, values in results.items()
    ]
    if ets is None:
        nothing = Stats(median=math.nan, q1=math.nan, q3=math.nan, low=math.nan, high=math.nan, n=0)
        rows.append(
            Row(
                "panel",
                "Grunfeld 11 firms: statsforecast AutoETS per firm",
                "cpu",
                "MASE",
                nothing,
                context="skipped: statsforecast not installed",
            )
        )
    else:
        rows.append(Row("panel", "Grunfeld 11 firms: statsforecast AutoETS per firm", "cpu", "MASE", summarize([ets])))
    return rows


def _auto_ets(panel: sf.Panel) -> float | None:
    """statsforecast's AutoETS per firm on the log levels, refitted at each year (None when not installed)."""
    if importlib.util.find_spec("statsforecast") is None:
        return None
    models = importlib.import_module("statsforecast.models")
    forecasts = []
    for target in panel.targets:
        level = np.concatenate([[0.0], np.cumsum(target[:, 0])])  # log level, up to a constant per firm
        row = []
        for cutoff in range(GRUNFELD_SPLIT, len(target)):
            fitted = models.AutoETS(season_length=1).fit(level[: cutoff + 1])
            row.append(float(fitted.predict(1)["mean"][0]) - level[cutoff])
        forecasts.append(row)
    return _growth_mase(np.asarray(forecasts), panel)


def prepare_throughput(device: torch.device, *, series: int, length: int, lanes: int, steps: int) -> Pending:
    """Training windows per second on ``series`` series of ``length`` points over one long series, same total."""
    panel = [np.sin(np.arange(length) / 7.0 + i) for i in range(series)]
    panel_stream = sf.PanelStream(panel, SEQ_LENGTH, batch_size=lanes, device=device)
    long_stream = sf.ArrayStream(np.concatenate(panel), SEQ_LENGTH, batch_size=lanes, device=device)

    def side(stream: sf.Stream) -> Callable[[], float]:
        model = sf.RecurrentForecaster(hidden_size=32, num_layers=2, cell="lstm", seed=0).to(device)
        trainer = sf.Trainer(model, sf.TrainerConfig(device=device, seed=0, log_every=10_000))
        trainer.fit(stream, steps=2)  # warm-up

        def run() -> float:
            with Timer(device) as timer:
                trainer.fit(stream, steps=steps)
            return timer.seconds / steps

        return run

    to_row = functools.partial(
        Row.from_paired,
        group="panel",
        name=f"train on {series:,} series x {length} / one series of {series * length:,}, {lanes} lanes",
        device=device.type,
        figure="time per window, ratio",
        limit=THROUGHPUT_TARGET,
        unit=(1e3, "ms a window"),
        sides=("seconds_per_window_long", "seconds_per_window_panel"),
        details={"series": series, "length": length, "lanes": lanes, "steps": steps},
    )
    return Pending(side(long_stream), side(panel_stream), to_row)
