"""Metrics, evaluate against the naive forecast, and forecast quality."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import seqforecast as sf
from seqforecast import metrics

values = st.lists(st.floats(-100, 100, allow_nan=False), min_size=1, max_size=20)


@given(a=values, data=st.data())
def test_metric_laws(a: list[float], data: st.DataObject) -> None:
    b = data.draw(st.lists(st.floats(-100, 100, allow_nan=False), min_size=len(a), max_size=len(a)))
    p, t = torch.tensor(a, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)
    assert float(metrics.mse(p, p)) == 0.0
    assert float(metrics.mse(p, t)) >= 0.0
    assert math.isclose(float(metrics.rmse(p, t)) ** 2, float(metrics.mse(p, t)), rel_tol=1e-9, abs_tol=1e-9)
    assert float(metrics.mae(p, t)) <= float(metrics.rmse(p, t)) + 1e-9
    assert 0.0 <= float(metrics.smape(p, t)) <= 200.0 + 1e-9


def test_metric_errors() -> None:
    with pytest.raises(ValueError, match="same shape"):
        metrics.mse(torch.zeros(3), torch.zeros(4))
    with pytest.raises(TypeError, match="predictions"):
        metrics.mae(np.zeros(3), torch.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="insample"):
        metrics.mase(torch.zeros(3), torch.zeros(3), torch.zeros(1))


def test_evaluate_counts_and_naive_baseline() -> None:
    model = sf.FeedForwardForecaster(window=2)
    series = torch.arange(20.0)
    scores = sf.evaluate(model, series, prime_steps=5, horizon=3)
    # origins 5..18, up to 3 steps each, only targets inside the series
    assert scores["points"] == sum(min(3, 19 - o) for o in range(5, 19))
    # the naive forecast of a ramp is off by the number of steps ahead
    expected = np.mean([a**2 for o in range(5, 19) for a in range(1, min(3, 19 - o) + 1)])
    assert math.isclose(scores["naive_mse"], expected, rel_tol=1e-6)


def test_evaluate_gives_ratios_in_percent_and_points_as_a_count() -> None:
    model = sf.FeedForwardForecaster(window=2)
    series = torch.sin(torch.arange(30.0) / 3) + 2
    scores = sf.evaluate(model, series, prime_steps=4)
    assert type(scores["points"]) is int
    assert scores["points"] == 25
    assert math.isclose(scores["skill"], 100 * (1 - scores["mse"] / scores["naive_mse"]))
    predictions, _ = sf.predict(model, series[:-1])
    targets = series[1:].reshape(-1, 1)
    assert math.isclose(scores["smape"], float(metrics.smape(predictions[4:], targets[4:])), rel_tol=1e-6)


def test_seasonal_naive_is_perfect_on_a_periodic_series() -> None:
    series = torch.tensor([0.0, 1.0, 0.0, -1.0] * 10)
    scores = sf.evaluate(sf.FeedForwardForecaster(), series, prime_steps=4, period=4)
    assert scores["naive_mse"] == 0.0


def test_evaluate_errors() -> None:
    model = sf.RecurrentForecaster()
    with pytest.raises(ValueError, match="prime_steps"):
        sf.evaluate(model, torch.zeros(5), prime_steps=4)
    with pytest.raises(ValueError, match="horizon"):
        sf.evaluate(model, torch.zeros(5), horizon=0)
    with pytest.raises(ValueError, match="one series"):
        sf.evaluate(model, torch.zeros(2, 5, 1))


# -- forecast quality (fixed seeds, CPU) -----------------------------------------------


def test_closed_loop_forecast_of_a_clean_sine() -> None:
    model = sf.RecurrentForecaster(cell="lstm")
    sf.Trainer(model, device="cpu", seed=0).fit(sf.SineStream(batch_size=16, seed=0), steps=300)
    angles = torch.arange(0, 72, dtype=torch.float64) * 10 + 3600  # unseen stretch, the training spacing
    wave = torch.sin(angles * math.pi / 180).float()
    predicted = sf.forecast(model, wave[:36], horizon=36)
    assert float(metrics.mse(predicted[:, 0], wave[36:])) < 0.05


def test_rnn_beats_the_naive_forecast_on_a_noisy_sine() -> None:
    generator = torch.Generator().manual_seed(0)
    t = torch.arange(3000, dtype=torch.float64)
    series = (
        torch.sin(t * 2 * math.pi / 25) + 0.1 * torch.randn(3000, generator=generator, dtype=torch.float64)
    ).float()
    train, test = series[:2500], series[2500:]
    model = sf.RecurrentForecaster(hidden_size=32, num_layers=2, cell="gru")
    trainer = sf.Trainer(model, device="cpu", seed=0)
    trainer.fit(sf.ArrayStream(train, seq_length=25, batch_size=10), steps=400)
    scores = sf.evaluate(model, test, prime_steps=100)
    assert scores["mse"] * 2 <= scores["naive_mse"]
