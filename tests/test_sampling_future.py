"""Sample paths and quantiles of models with covariates: each path feeds its draws back beside the given future."""

from __future__ import annotations

import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import seqforecast as sf
from tests.strategies import batches, forecasters, make_input


def _future(model: sf.BaseForecaster, batch: int, horizon: int, seed: int = 1) -> torch.Tensor:
    """Random covariates of the ``horizon - 1`` steps fed back, in the model's layout."""
    count = model.input_size - model.output_size
    shape = (batch, horizon - 1, count) if model.batch_first else (horizon - 1, batch, count)
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def _with_price() -> sf.RecurrentForecaster:
    return sf.RecurrentForecaster(
        input_size=2, output_size=1, hidden_size=8, num_layers=1, likelihood="gaussian", seed=0
    )


@given(model=forecasters(head=True), batch=batches, time=st.integers(1, 6), horizon=st.integers(1, 4))
def test_paths_and_quantiles_with_covariates_have_the_forecast_shape_with_one_dimension_in_front(
    model: sf.BaseForecaster, batch: int, time: int, horizon: int
) -> None:
    assume(model.output_size < model.input_size)
    history = make_input(model, batch, time)
    future = _future(model, batch, horizon)
    expected = sf.forecast(model, history, horizon, future=future).shape
    assert sf.sample_paths(model, history, horizon, 4, seed=0, future=future).shape == (4, *expected)
    learned = model.output_head.quantiles if model.output_head is not None else None
    levels = (0.2, 0.8) if learned is None else tuple(sorted({learned[0], learned[-1]}))
    quantiles = sf.forecast_quantiles(model, history, horizon, levels, num_samples=10, future=future)
    assert quantiles.shape == (len(levels), *expected)
    assert bool((quantiles.diff(dim=0) >= 0).all())


@given(model=forecasters(), time=st.integers(1, 6), horizon=st.integers(1, 4))
def test_a_median_only_head_with_covariates_samples_exactly_the_closed_loop_forecast(
    model: sf.BaseForecaster, time: int, horizon: int
) -> None:
    # a one-level quantile head is a point mass: every path is the forecast fed with the same covariates
    assume(model.output_size < model.input_size)
    median = type(model)(**{**model.config.to_dict(), "quantiles": (0.5,)})
    history = make_input(median, 2, time)
    future = _future(median, 2, horizon)
    paths = sf.sample_paths(median, history, horizon, 3, seed=0, future=future)
    expected = sf.forecast(median, history, horizon, future=future)
    for path in paths:
        torch.testing.assert_close(path, expected, rtol=1e-5, atol=1e-5)


def test_the_same_seed_gives_the_same_paths_and_other_covariates_other_paths() -> None:
    model = _with_price()
    history = torch.randn(20, 2, generator=torch.Generator().manual_seed(0))
    future = torch.linspace(0, 1, 5).reshape(5, 1)
    paths = sf.sample_paths(model, history, 6, 50, seed=3, future=future)
    assert torch.equal(paths, sf.sample_paths(model, history, 6, 50, seed=3, future=future))
    perturbed = sf.sample_paths(model, history, 6, 50, seed=3, future=future + 5.0)
    assert torch.equal(paths[:, 0], perturbed[:, 0])  # the first step reads the history only
    assert not torch.allclose(paths[:, 1:], perturbed[:, 1:])
    quantiles = sf.forecast_quantiles(model, history, 6, (0.1, 0.9), num_samples=50, future=future)
    assert not torch.allclose(
        quantiles, sf.forecast_quantiles(model, history, 6, (0.1, 0.9), num_samples=50, future=-future)
    )


def test_forecast_passes_future_on_to_the_quantiles() -> None:
    model = _with_price()
    history = torch.randn(20, 2, generator=torch.Generator().manual_seed(0))
    future = torch.ones(3, 1)
    torch.testing.assert_close(
        sf.forecast(model, history, 4, future=future, quantiles=(0.2, 0.8)),
        sf.forecast_quantiles(model, history, 4, (0.2, 0.8), future=future),
    )


def test_paths_of_a_covariate_model_need_the_future_covariates() -> None:
    with pytest.raises(ValueError, match=r"`future` is required: the model reads 1 covariate"):
        sf.sample_paths(_with_price(), torch.zeros(10, 2), 3, 5, seed=0)
    with pytest.raises(ValueError, match=r"`future` must hold the 1 covariate\(s\) of the 2 step\(s\)"):
        sf.forecast_quantiles(_with_price(), torch.zeros(10, 2), 3, future=torch.zeros(1, 1))
