"""One-pass backtests: equal to a forecast from every cutoff, causal, chunking-free, and checked."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import seqforecast as sf
from tests.strategies import forecasters, make_input, time_slice


def per_cutoff(
    model: sf.BaseForecaster, x: torch.Tensor, cutoffs: list[int], horizon: int, state: sf.State
) -> torch.Tensor:
    """What a user writes: ``forecast`` from every cutoff, ``(B, K, H, F)``."""
    runs = [sf.forecast(model, time_slice(model, x, 0, c), horizon, state) for c in cutoffs]
    stacked = torch.stack(runs)  # (K, B, H, F) or (K, H, B, F)
    return stacked.permute(1, 0, 2, 3) if model.batch_first else stacked.permute(2, 0, 1, 3)


@given(
    model=forecasters(same_io=True),
    batch=st.integers(1, 3),
    length=st.integers(8, 30),
    horizon=st.integers(1, 5),
    stride=st.integers(1, 4),
    data=st.data(),
)
def test_backtest_equals_a_forecast_from_every_cutoff(
    *, model: sf.BaseForecaster, batch: int, length: int, horizon: int, stride: int, data: st.DataObject
) -> None:
    x = make_input(model, batch, length + 4)
    with torch.no_grad():
        _, state = (
            model(time_slice(model, x, 0, 4)) if data.draw(st.booleans(), label="initial state") else (None, None)
        )
    x = time_slice(model, x, 4)
    start = data.draw(st.integers(1, length - horizon), label="start")
    result = sf.backtest(model, x, horizon, start=start, stride=stride, state=state)
    cutoffs = list(range(start, length - horizon + 1, stride))
    assert result.cutoffs.tolist() == cutoffs
    expected = per_cutoff(model, x, cutoffs, horizon, state)
    torch.testing.assert_close(result.forecasts, expected, atol=1e-5, rtol=1e-4)
    values = x if model.batch_first else x.transpose(0, 1)
    for i, c in enumerate(cutoffs):
        torch.testing.assert_close(result.targets[:, i], values[:, c : c + horizon])
        torch.testing.assert_close(result.last[:, i], values[:, c - 1])


@given(model=forecasters(same_io=True, batch_first=True), data=st.data())
def test_a_cutoff_never_sees_its_future(model: sf.BaseForecaster, data: st.DataObject) -> None:
    x = make_input(model, 1, 24)
    result = sf.backtest(model, x, 4, start=6)
    changed_at = data.draw(st.integers(6, 23), label="first changed point")
    perturbed = x.clone()
    perturbed[:, changed_at:] += 10.0
    again = sf.backtest(model, perturbed, 4, start=6)
    seen = result.cutoffs <= changed_at  # cutoffs whose history ends before the change
    torch.testing.assert_close(again.forecasts[:, seen], result.forecasts[:, seen], atol=0, rtol=0)


@pytest.mark.parametrize("chunk_size", [1, 3, 1000])
def test_chunking_does_not_change_the_results(chunk_size: int) -> None:
    model = sf.RecurrentForecaster(hidden_size=6, num_layers=2, cell="lstm", seed=0)
    series = torch.sin(torch.arange(60.0) / 5)
    whole = sf.backtest(model, series, 5, start=20)
    chunked = sf.backtest(model, series, 5, start=20, chunk_size=chunk_size)
    torch.testing.assert_close(chunked.forecasts, whole.forecasts, atol=1e-6, rtol=1e-5)


def test_unbatched_series_give_unbatched_results_and_metrics() -> None:
    model = sf.FeedForwardForecaster(window=3, seed=0)
    series = torch.sin(torch.arange(100.0) / 4) * 3
    result = sf.backtest(model, series, 6, start=0.8, stride=2)
    assert result.forecasts.shape == (8, 6, 1)
    assert result.cutoffs.tolist() == list(range(80, 95, 2))
    metrics = result.metrics()
    assert {k: tuple(v.shape) for k, v in metrics.items()} == dict.fromkeys(metrics, (6,))
    naive = (series[result.cutoffs - 1, None] - series[result.cutoffs[:, None] + torch.arange(6)]).square().mean(0)
    torch.testing.assert_close(metrics["naive_mse"], naive)
    torch.testing.assert_close(metrics["relative_mse"], metrics["mse"] / metrics["naive_mse"])
    scale = (series[1:80] - series[:79]).abs().mean()
    torch.testing.assert_close(metrics["mase"], metrics["mae"] / scale)


def test_integer_series_are_accepted() -> None:
    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1, seed=0)
    counts = torch.arange(40) % 7
    assert sf.backtest(model, counts, 3, start=30).forecasts.shape == (8, 3, 1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"horizon": 0, "start": 5}, ValueError, "`horizon`"),
        ({"horizon": 3, "start": 5, "stride": 0}, ValueError, "`stride`"),
        ({"horizon": 3, "start": 0}, ValueError, r"`start` .* \[1, 17\] for 20 time steps, got 0"),
        ({"horizon": 3, "start": 18}, ValueError, r"`start` .* got 18"),
        ({"horizon": 3, "start": 1.5}, ValueError, "`start`"),
        ({"horizon": 3, "start": "end"}, TypeError, "`start` must be an index"),
        ({"horizon": 20, "start": 1}, ValueError, r"more than horizon=20 time steps .* got 20"),
        ({"horizon": 3, "start": 5, "chunk_size": 0}, ValueError, "`chunk_size`"),
    ],
)
def test_bad_arguments_get_one_clear_error(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1)
    with pytest.raises(error, match=match):
        sf.backtest(model, torch.zeros(20), **kwargs)


def test_a_model_that_cannot_feed_back_is_refused() -> None:
    with pytest.raises(ValueError, match="output_size <= input_size"):
        sf.backtest(sf.RecurrentForecaster(output_size=2), torch.zeros(20), 3, start=5)


def test_a_refitting_backtest_trains_a_copy_at_every_kth_cutoff() -> None:
    model = sf.RecurrentForecaster(hidden_size=6, num_layers=1, cell="gru", seed=0)
    before = [p.clone() for p in model.parameters()]
    series = torch.sin(torch.arange(140.0) / 6) + torch.arange(140.0) / 100
    refit = sf.Refit(every=4, steps=5, seq_length=10, batch_size=2, config=sf.TrainerConfig(device="cpu", seed=3))
    result = sf.backtest(model, series, 5, start=120, stride=2, refit=refit)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))  # the caller's model
    by_hand = copy.deepcopy(model)  # what it stands for: train on the data before each group's first cutoff
    cutoffs = result.cutoffs.tolist()
    for group in range(0, len(cutoffs), 4):
        first = cutoffs[group]
        stream = sf.ArrayStream([series[:first, None]], 10, batch_size=2)
        sf.Trainer(by_hand, sf.TrainerConfig(device="cpu", seed=3)).fit(stream, steps=5)
        for i in range(group, min(group + 4, len(cutoffs))):
            expected = sf.forecast(by_hand, series[: cutoffs[i]], 5)
            torch.testing.assert_close(result.forecasts[i], expected, atol=1e-5, rtol=1e-4)
    plain = sf.backtest(model, series, 5, start=120, stride=2)
    assert not torch.allclose(plain.forecasts, result.forecasts)  # the refits changed the forecasts


def test_refit_checks_its_settings() -> None:
    with pytest.raises(ValueError, match="`every`"):
        sf.Refit(every=0)
    with pytest.raises(TypeError, match="`config` must be a TrainerConfig"):
        sf.Refit(every=2, config={"lr": 0.1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"`refit` must be a seqforecast\.Refit"):
        sf.backtest(sf.FeedForwardForecaster(), torch.zeros(30), 3, start=10, refit=5)  # type: ignore[arg-type]
