"""prime, predict, forecast and StreamingForecaster."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import seqforecast as sf
from tests.strategies import batches, forecasters, make_input, time_cat, time_slice


@given(model=forecasters(), batch=batches, time=st.integers(2, 16), data=st.data())
def test_prime_then_predict_equals_predict_on_the_whole(
    model: sf.BaseForecaster, batch: int, time: int, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(1, time - 1), label="cut")
    x = make_input(model, batch, time)
    whole, _ = sf.predict(model, x)
    state = sf.prime(model, time_slice(model, x, 0, cut))
    rest, _ = sf.predict(model, time_slice(model, x, cut), state)
    torch.testing.assert_close(rest, time_slice(model, whole, cut), atol=1e-5, rtol=1e-5)


@given(model=forecasters(), batch=batches, time=st.integers(1, 12))
def test_streaming_equals_predict(model: sf.BaseForecaster, batch: int, time: int) -> None:
    x = make_input(model, batch, time)
    expected, _ = sf.predict(model, x)
    stream = sf.StreamingForecaster(model)
    steps = [stream.update(time_slice(model, x, t, t + 1).squeeze(1 if model.batch_first else 0)) for t in range(time)]
    got = torch.stack(steps, dim=1 if model.batch_first else 0)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


@given(model=forecasters(same_io=True), batch=batches, time=st.integers(1, 10), horizon=st.integers(1, 8))
def test_forecast_is_a_prefix_of_a_longer_forecast(
    model: sf.BaseForecaster, batch: int, time: int, horizon: int
) -> None:
    x = make_input(model, batch, time)
    short = sf.forecast(model, x, horizon)
    long = sf.forecast(model, x, 2 * horizon)
    expected = (batch, horizon, model.input_size) if model.batch_first else (horizon, batch, model.input_size)
    assert tuple(short.shape) == expected
    torch.testing.assert_close(time_slice(model, long, 0, horizon), short, atol=1e-5, rtol=1e-5)


@given(model=forecasters(same_io=True), time=st.integers(2, 10), horizon=st.integers(1, 5), data=st.data())
def test_forecast_from_a_primed_state_equals_forecast_with_the_history(
    model: sf.BaseForecaster, time: int, horizon: int, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(1, time - 1), label="cut")
    x = make_input(model, 2, time)
    state = sf.prime(model, time_slice(model, x, 0, cut))
    torch.testing.assert_close(
        sf.forecast(model, time_slice(model, x, cut), horizon, state),
        sf.forecast(model, x, horizon),
        atol=1e-5,
        rtol=1e-5,
    )


def test_forecast_feeds_predictions_back() -> None:
    model = sf.FeedForwardForecaster(window=2)
    history = torch.randn(1, 6, 1)
    out = sf.forecast(model, history, 3)
    y1, _ = model(history)
    step1 = y1[:, -1:]
    y2, _ = model(time_cat(model, [history, step1]))
    torch.testing.assert_close(out[:, :1], step1)
    torch.testing.assert_close(out[:, 1:2], y2[:, -1:])


def test_unbatched_and_numpy_inputs() -> None:
    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1)
    series = np.sin(np.arange(20) / 3.0)
    predictions, state = sf.predict(model, series)
    assert predictions.shape == (20, 1)
    assert sf.forecast(model, series.reshape(20, 1), 4).shape == (4, 1)
    assert isinstance(state, torch.Tensor)
    assert state.shape == (1, 1, 4)


def test_inference_keeps_the_training_mode_and_needs_no_grad() -> None:
    model = sf.RecurrentForecaster(num_layers=2, dropout=0.5).train()
    y, _ = sf.predict(model, torch.zeros(1, 5, 1))
    assert model.training
    assert not y.requires_grad
    stream = sf.StreamingForecaster(model)
    first = stream.update([0.5])  # dropout is off while it runs (evaluation mode), and back on after
    assert model.training
    assert not first.requires_grad
    model.eval()
    torch.testing.assert_close(sf.StreamingForecaster(model).update([0.5]), first)
    assert not model.training


def test_streaming_reset() -> None:
    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1)
    stream = sf.StreamingForecaster(model)
    first = stream.update([0.3])
    stream.update([0.5])
    stream.reset()
    torch.testing.assert_close(stream.update([0.3]), first)
    assert stream.steps == 1


def test_inference_on_the_device(device: torch.device) -> None:
    model = sf.RecurrentForecaster(cell="gru").to(device)
    x = torch.randn(2, 6, 1, device=device)
    assert sf.forecast(model, x, 3, sf.prime(model, x)).device.type == device.type


NOT_A_MODEL: Any = "model"


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        pytest.param(lambda m: sf.prime(m, torch.zeros(1, 4, 2)), ValueError, "1 features", id="features"),
        pytest.param(lambda m: sf.prime(m, [[[float("nan")]]]), ValueError, "finite", id="nan"),
        pytest.param(lambda m: sf.predict(m, torch.zeros(1, 4, 1, dtype=torch.bool)), TypeError, "floating", id="bool"),
        pytest.param(lambda m: sf.predict(m, np.zeros((1, 1, 4, 1))), ValueError, "shape", id="ndim"),
        pytest.param(lambda m: sf.forecast(m, torch.zeros(4), 0), ValueError, "horizon", id="horizon"),
        pytest.param(lambda m: sf.forecast(m, torch.zeros(1, 0, 1), 2), ValueError, "time step", id="empty"),
        pytest.param(
            lambda m: sf.predict(m, torch.zeros(2, 4, 1), torch.zeros(3, 1, 32)), ValueError, "state", id="state"
        ),
        pytest.param(lambda m: sf.StreamingForecaster(m).update([1.0, 2.0]), ValueError, "x_t", id="stream"),
        pytest.param(
            lambda m: sf.StreamingForecaster(m).update(torch.tensor([float("nan")])),
            ValueError,
            r"`x_t` must contain only finite values, got nan at index \(0,\)",
            id="stream-nan",
        ),
        pytest.param(
            lambda m: sf.StreamingForecaster(m).update(torch.tensor([[1.0], [float("inf")]], dtype=torch.float64)),
            ValueError,
            r"`x_t` must contain only finite values, got inf at index \(1, 0\)",
            id="stream-inf-float64",
        ),
        pytest.param(
            lambda m: sf.StreamingForecaster(m).update(torch.tensor([True])),
            TypeError,
            "`x_t`.*floating",
            id="stream-bool",
        ),
        pytest.param(
            lambda m: sf.StreamingForecaster(m).update(torch.zeros(1, 1, 1)), ValueError, "`x_t`.*shape", id="stream-3d"
        ),
        pytest.param(lambda m: sf.prime(NOT_A_MODEL, [1.0]), TypeError, "model", id="model"),
    ],
)
def test_bad_inference_input(call: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call(sf.RecurrentForecaster())


def test_forecast_needs_matching_sizes() -> None:
    with pytest.raises(ValueError, match="output_size <= input_size"):
        sf.forecast(sf.RecurrentForecaster(input_size=1, output_size=2), torch.zeros(1, 3, 1), 2)
    with pytest.raises(ValueError, match="`future` is required"):  # the extra input is a covariate
        sf.forecast(sf.RecurrentForecaster(input_size=2, output_size=1), torch.zeros(1, 3, 2), 2)


def test_streaming_accepts_other_float_dtypes_and_lists() -> None:
    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1)
    expected = sf.StreamingForecaster(model).update(torch.tensor([0.25]))
    for value in (torch.tensor([0.25], dtype=torch.float64), [0.25], np.array([0.25])):
        torch.testing.assert_close(sf.StreamingForecaster(model).update(value), expected)
