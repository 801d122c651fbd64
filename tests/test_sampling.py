"""Sample paths and quantile forecasts: shapes, seeds, independence, feedback through the state."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import seqforecast as sf
from tests.strategies import batches, forecasters, make_input


@given(model=forecasters(same_io=True, head=True), batch=batches, time=st.integers(1, 8), horizon=st.integers(1, 4))
def test_paths_and_quantiles_have_the_forecast_shape_with_one_dimension_in_front(
    model: sf.BaseForecaster, batch: int, time: int, horizon: int
) -> None:
    history = make_input(model, batch, time)
    expected = sf.forecast(model, history, horizon).shape
    assert sf.sample_paths(model, history, horizon, 5, seed=0).shape == (5, *expected)
    learned = model.output_head.quantiles if model.output_head is not None else None
    levels = (0.2, 0.5, 0.8) if learned is None else tuple(sorted({learned[0], learned[-1]}))  # what a head knows
    quantiles = sf.forecast_quantiles(model, history, horizon, levels, num_samples=20)
    assert quantiles.shape == (len(levels), *expected)
    assert bool((quantiles.diff(dim=0) >= 0).all())


@given(model=forecasters(same_io=True), time=st.integers(1, 8), horizon=st.integers(1, 5))
def test_a_median_only_head_samples_exactly_the_closed_loop_forecast(
    model: sf.BaseForecaster, time: int, horizon: int
) -> None:
    # a one-level quantile head is a point mass: every path must be the forecast, which checks that each
    # path feeds its own draws back and carries its own (repeated) state, and, in both layouts, that the
    # paths come out in the documented order: (sample, batch, horizon, ...) or (sample, horizon, batch, ...)
    median = type(model)(**{**model.config.to_dict(), "quantiles": (0.5,)})
    history = make_input(median, 2, time)
    paths = sf.sample_paths(median, history, horizon, 3, seed=0)
    expected = sf.forecast(median, history, horizon)
    for path in paths:
        torch.testing.assert_close(path, expected)


def _ar_model() -> sf.FeedForwardForecaster:
    """A fixed Gaussian AR(1): next ~ N(0.9 x, softplus(-1.5) + 1e-6)."""
    model = sf.FeedForwardForecaster(hidden_sizes=(), window=1, likelihood="gaussian", seed=0)
    layer = model.net[0]
    assert isinstance(layer, torch.nn.Linear)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.9], [0.0]]))
        layer.bias.copy_(torch.tensor([0.0, -1.5]))
    return model


def test_the_same_seed_gives_the_same_paths_and_leaves_torchs_generator_alone() -> None:
    model, history = _ar_model(), torch.zeros(5)
    before = torch.get_rng_state()
    a = sf.sample_paths(model, history, 6, 50, seed=3)
    assert torch.equal(torch.get_rng_state(), before)
    assert torch.equal(a, sf.sample_paths(model, history, 6, 50, seed=3))
    assert not torch.equal(a, sf.sample_paths(model, history, 6, 50, seed=4))
    assert not torch.equal(sf.sample_paths(model, history, 6, 50), sf.sample_paths(model, history, 6, 50))


def test_paths_are_independent_and_follow_the_model() -> None:
    model, samples = _ar_model(), 4000
    sigma = float(torch.nn.functional.softplus(torch.tensor(-1.5))) + 1e-6
    paths = sf.sample_paths(model, torch.tensor([1.0]), 2, samples, seed=0).squeeze(-1).double()  # (S, 2)
    first, second = paths[:, 0], paths[:, 1]
    tolerance = 4 * sigma / np.sqrt(samples)
    assert float(first.mean()) == pytest.approx(0.9, abs=tolerance)
    assert float(first.std()) == pytest.approx(sigma, rel=0.05)
    # each path feeds its own draw back: step 2 ~ N(0.9 * step 1, sigma), so the two steps correlate
    residual = second - 0.9 * first
    assert float(residual.std()) == pytest.approx(sigma, rel=0.05)
    assert float(torch.corrcoef(torch.stack((first, residual)))[0, 1]) == pytest.approx(0, abs=0.07)
    # and paths do not share draws: neighbouring paths are uncorrelated
    assert float(torch.corrcoef(torch.stack((first[:-1], first[1:])))[0, 1]) == pytest.approx(0, abs=0.07)


def test_closed_loop_quantiles_widen_as_the_ar1_variance_says() -> None:
    model = _ar_model()
    sigma = float(torch.nn.functional.softplus(torch.tensor(-1.5))) + 1e-6
    q = sf.forecast_quantiles(model, torch.tensor([0.0]), 4, (0.1, 0.9), num_samples=20000).squeeze(-1)  # (2, 4)
    z = 1.2815515655446004
    for h in range(4):
        std = sigma * np.sqrt(sum(0.81**i for i in range(h + 1)))
        assert float(q[1, h]) == pytest.approx(z * std, rel=0.05)
        assert float(q[0, h]) == pytest.approx(-z * std, rel=0.05)


def test_one_step_quantiles_come_from_the_head_and_forecast_returns_them() -> None:
    model = _ar_model()
    history = torch.tensor([0.5, 1.0])
    dist = model.distribution(history.view(1, -1, 1))
    direct = torch.stack([dist.icdf(torch.tensor(p))[0, -1] for p in (0.1, 0.5, 0.9)])  # (3, 1)
    quantiles = sf.forecast(model, history, 1, quantiles=(0.1, 0.5, 0.9))
    assert quantiles.shape == (3, 1, 1)
    torch.testing.assert_close(quantiles[:, 0], direct)
    torch.testing.assert_close(quantiles, sf.forecast_quantiles(model, history, 1, (0.1, 0.5, 0.9)))


def test_forecast_without_quantiles_is_unchanged_for_a_head() -> None:
    model = _ar_model()
    torch.testing.assert_close(sf.forecast(model, torch.tensor([1.0]), 3).squeeze(), torch.tensor([0.9, 0.81, 0.729]))


def test_negative_binomial_paths_are_counts() -> None:
    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1, likelihood="negative_binomial", seed=0)
    paths = sf.sample_paths(model, torch.tensor([3.0, 1.0, 4.0]), 5, 20, seed=0)
    assert bool((paths >= 0).all())
    assert torch.equal(paths, paths.round())


def test_negative_binomial_quantiles_are_counts_at_every_step() -> None:
    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1, likelihood="negative_binomial", seed=0)
    levels = (0.15, 0.33, 0.5, 0.77, 0.95)
    q = sf.forecast_quantiles(model, torch.tensor([3.0, 1.0, 4.0]), 6, levels, num_samples=100, seed=0)
    assert torch.equal(q, q.round())
    paths = sf.sample_paths(model, torch.tensor([3.0, 1.0, 4.0]), 6, 100, seed=0)
    for i, p in enumerate(levels):  # the smallest draw whose empirical cdf reaches p, as the first step's icdf
        below = (paths[:, 1:] <= q[i, 1:]).double().mean(0)
        strictly = (paths[:, 1:] < q[i, 1:]).double().mean(0)
        assert bool((below >= p).all())
        assert bool((strictly < p).all())


def test_a_quantile_head_refuses_levels_beyond_the_ones_it_learned() -> None:
    model = sf.FeedForwardForecaster(window=2, quantiles=(0.1, 0.5, 0.9), seed=0)
    with pytest.raises(ValueError, match=r"learned \[0.1, 0.5, 0.9\], got \[0.01, 0.99\] outside \[0.1, 0.9\]"):
        sf.forecast_quantiles(model, torch.zeros(10), 3, (0.01, 0.1, 0.9, 0.99))
    with pytest.raises(ValueError, match="outside"):
        sf.forecast(model, torch.zeros(10), 1, quantiles=(0.05, 0.5))
    # the outermost levels themselves are fine, also as float32 (0.9 rounds to 0.89999998)
    assert sf.forecast_quantiles(model, torch.zeros(10), 3, (0.1, 0.3, 0.9)).shape == (3, 3, 1)
    float32 = [np.float32(0.1), np.float32(0.9)]
    assert sf.forecast_quantiles(model, torch.zeros(10), 3, float32).shape == (2, 3, 1)
    with_float32 = sf.FeedForwardForecaster(window=2, quantiles=(0.5, np.float32(0.9)), seed=0)
    assert sf.forecast_quantiles(with_float32, torch.zeros(10), 3, (0.5, 0.9)).shape == (2, 3, 1)


def test_draws_reach_far_into_the_tails(monkeypatch: pytest.MonkeyPatch) -> None:
    from seqforecast.distributions import StudentT, draw

    u = torch.tensor([0.0, 1e-12, 0.5, 1 - 1e-12], dtype=torch.float64)
    monkeypatch.setattr(torch, "rand", lambda *_, **__: u.clone())
    normal = draw(torch.distributions.Normal(torch.zeros(4, dtype=torch.float64), torch.ones(4, dtype=torch.float64)))
    expected = torch.special.ndtri(u.clamp(1e-15, 1 - 1e-15))
    torch.testing.assert_close(normal, expected)
    assert float(normal[1]) < -7.0  # the 1e-12 quantile, not the 1e-7 one (-5.2)
    t = draw(StudentT(torch.full((4,), 5.0, dtype=torch.float64)))
    assert float(t[1]) < -100.0  # Student-t(5): -394 at 1e-12, -39 at 1e-7
