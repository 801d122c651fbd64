"""Shape laws, causality, carried state and input checks of the forecasters."""

from __future__ import annotations

import json
from typing import Any

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import Tensor, nn

import seqforecast as sf
from seqforecast.demo import NotebookConv  # the notebook's two-sided CNN, the counter-example
from tests.strategies import batches, forecasters, lengths, make_input, time_cat, time_slice


def expected_state_shapes(model: sf.BaseForecaster, batch: int) -> list[tuple[int, ...]]:
    if isinstance(model, sf.RecurrentForecaster):
        shape = (model.config.num_layers, batch, model.config.hidden_size)
        return [shape, shape] if model.config.cell == "lstm" else [shape]
    context = model.context_length
    assert context is not None
    layout = (batch, context, model.input_size) if model.batch_first else (context, batch, model.input_size)
    return [layout]


def state_shapes(state: sf.State) -> list[tuple[int, ...]]:
    assert state is not None
    return [tuple(state.shape)] if isinstance(state, Tensor) else [tuple(s.shape) for s in state]


@given(model=forecasters(), batch=batches, time=lengths)
def test_output_and_state_shapes(model: sf.BaseForecaster, batch: int, time: int) -> None:
    x = make_input(model, batch, time)
    y, state = model(x)
    expected = (batch, time, model.output_size) if model.batch_first else (time, batch, model.output_size)
    assert tuple(y.shape) == expected
    assert state_shapes(state) == expected_state_shapes(model, batch)
    assert state_shapes(model.init_state(batch)) == expected_state_shapes(model, batch)


@given(model=forecasters(), batch=batches, time=st.integers(2, 20), data=st.data())
def test_causal(model: sf.BaseForecaster, batch: int, time: int, data: st.DataObject) -> None:
    """Changing the inputs from t on leaves every output before t unchanged."""
    t = data.draw(st.integers(1, time - 1), label="t")
    x = make_input(model, batch, time)
    assert output_leak(model, x, t) < 1e-6


@given(model=forecasters(), batch=batches, time=st.integers(2, 24), data=st.data())
def test_split_equals_whole(model: sf.BaseForecaster, batch: int, time: int, data: st.DataObject) -> None:
    """Running in two pieces with the carried state equals one long run."""
    cut = data.draw(st.integers(1, time - 1), label="cut")
    x = make_input(model, batch, time)
    whole, whole_state = model(x)
    first, state = model(time_slice(model, x, 0, cut))
    second, split_state = model(time_slice(model, x, cut), state)
    torch.testing.assert_close(time_cat(model, [first, second]), whole, atol=1e-5, rtol=1e-5)
    for a, b in zip(state_shapes(whole_state), state_shapes(split_state), strict=False):
        assert a == b


@given(model=forecasters(), batch=batches, time=lengths)
def test_zero_state_equals_fresh_start(model: sf.BaseForecaster, batch: int, time: int) -> None:
    x = make_input(model, batch, time)
    fresh, _ = model(x)
    zero, _ = model(x, model.init_state(batch))
    torch.testing.assert_close(zero, fresh)


@given(model=forecasters())
def test_config_round_trips_through_json(model: sf.BaseForecaster) -> None:
    data = json.loads(json.dumps(model.config.to_dict()))
    rebuilt = sf.model_from_config(type(model).__name__, data)
    assert rebuilt.config == model.config
    assert type(rebuilt) is type(model)


def output_leak(model: nn.Module, x: Tensor, t: int) -> float:
    """Largest change of an output before t when the inputs from t on move by 1."""
    moved = x.clone()
    if getattr(model, "batch_first", True):
        moved[:, t:] += 1.0
    else:
        moved[t:] += 1.0
    with torch.no_grad():
        before, _ = model(x)
        after, _ = model(moved)
    if getattr(model, "batch_first", True):
        return float((before[:, :t] - after[:, :t]).abs().max())
    return float((before[:t] - after[:t]).abs().max())


def test_the_causality_check_catches_the_notebooks_two_sided_conv() -> None:
    x = torch.sin(torch.linspace(0, 3.14, 19)).reshape(1, 19, 1)
    assert output_leak(NotebookConv(), x, t=18) > 1e-6  # the bound test_causal enforces
    assert output_leak(sf.ConvForecaster(), x, t=18) == 0.0


def test_context_lengths() -> None:
    assert sf.RecurrentForecaster().context_length is None
    assert sf.FeedForwardForecaster().context_length == 0
    assert sf.FeedForwardForecaster(window=5).context_length == 4
    assert sf.ConvForecaster(kernel_size=3, num_layers=3, dilation_base=2).context_length == 2 * (1 + 2 + 4)


def test_defaults_are_the_notebooks_networks() -> None:
    rnn = sf.RecurrentForecaster()
    assert isinstance(rnn.rnn, nn.RNN)
    assert (rnn.rnn.input_size, rnn.rnn.hidden_size, rnn.rnn.num_layers) == (1, 32, 3)
    mlp = sf.FeedForwardForecaster()
    assert [m.weight.shape for m in mlp.modules() if isinstance(m, nn.Linear)] == [(128, 1), (1, 128)]
    conv = sf.ConvForecaster()
    assert [c.weight.shape for c in conv.convs] == [(100, 1, 3), (100, 100, 3)]


def test_forecasters_satisfy_the_protocol() -> None:
    for model in (sf.RecurrentForecaster(), sf.FeedForwardForecaster(), sf.ConvForecaster()):
        assert isinstance(model, sf.Forecaster)


def test_detach_state_handles_every_kind(device: torch.device) -> None:
    grad = torch.ones(2, 3, device=device, requires_grad=True) * 2
    assert sf.detach_state(None) is None
    assert not sf.detach_state(grad).requires_grad  # type: ignore[union-attr]
    pair = sf.detach_state((grad, grad))
    assert isinstance(pair, tuple)
    assert all(not t.requires_grad for t in pair)


def test_dropout_only_in_training_mode() -> None:
    model = sf.RecurrentForecaster(num_layers=2, dropout=0.5).eval()
    x = torch.randn(2, 10, 1)
    torch.testing.assert_close(model(x)[0], model(x)[0])


def test_models_run_on_the_device(device: torch.device) -> None:
    for model in (sf.RecurrentForecaster(cell="lstm"), sf.FeedForwardForecaster(window=3), sf.ConvForecaster()):
        model.to(device)
        y, state = model(torch.randn(2, 7, 1, device=device))
        assert y.device.type == device.type
        assert all(
            s.device.type == device.type for s in (state if isinstance(state, tuple) else (state,)) if s is not None
        )


def test_float64_input_is_cast() -> None:
    y, _ = sf.RecurrentForecaster()(torch.zeros(1, 4, 1, dtype=torch.float64))
    assert y.dtype == torch.float32


BAD_CONSTRUCTORS: list[tuple[Any, dict[str, Any], type[Exception], str]] = [
    (sf.RecurrentForecaster, {"hidden_size": 0}, ValueError, "hidden_size"),
    (sf.RecurrentForecaster, {"num_layers": -1}, ValueError, "num_layers"),
    (sf.RecurrentForecaster, {"hidden_size": 2.5}, TypeError, "hidden_size"),
    (sf.RecurrentForecaster, {"cell": "transformer"}, ValueError, "cell"),
    (sf.RecurrentForecaster, {"dropout": 1.0}, ValueError, "dropout"),
    (sf.RecurrentForecaster, {"dropout": -0.1}, ValueError, "dropout"),
    (sf.RecurrentForecaster, {"input_size": True}, TypeError, "input_size"),
    (sf.RecurrentForecaster, {"batch_first": 1}, TypeError, "batch_first"),
    (sf.FeedForwardForecaster, {"window": 0}, ValueError, "window"),
    (sf.FeedForwardForecaster, {"hidden_sizes": (8, 0)}, ValueError, r"hidden_sizes\[1\]"),
    (sf.FeedForwardForecaster, {"hidden_sizes": 8}, TypeError, "hidden_sizes"),
    (sf.ConvForecaster, {"kernel_size": 0}, ValueError, "kernel_size"),
    (sf.ConvForecaster, {"channels": 0}, ValueError, "channels"),
    (sf.ConvForecaster, {"negative_slope": float("nan")}, ValueError, "negative_slope"),
]


@pytest.mark.parametrize(
    ("factory", "kwargs", "error", "match"),
    BAD_CONSTRUCTORS,
    ids=[f"{f.__name__}-{next(iter(k))}={next(iter(k.values()))!r}" for f, k, _, _ in BAD_CONSTRUCTORS],
)
def test_bad_constructor_arguments(factory: Any, kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        factory(**kwargs)


@pytest.mark.parametrize(
    ("x", "error", "match"),
    [
        pytest.param(torch.zeros(18, 1), ValueError, "3 dimensions", id="2-d"),
        pytest.param(torch.zeros(1, 18, 2), ValueError, "1 features", id="features"),
        pytest.param(torch.zeros(1, 18, 1, dtype=torch.int64), TypeError, "floating dtype", id="int"),
        pytest.param(torch.zeros(1, 18, 1, dtype=torch.bool), TypeError, "floating dtype", id="bool"),
        pytest.param(torch.zeros(1, 18, 1, dtype=torch.complex64), TypeError, "floating dtype", id="complex"),
        pytest.param([[0.0]], TypeError, "torch.Tensor", id="list"),
        pytest.param(torch.zeros(1, 0, 1), ValueError, "at least one", id="empty"),
    ],
)
def test_bad_input(x: Any, error: type[Exception], match: str) -> None:
    for model in (sf.RecurrentForecaster(), sf.FeedForwardForecaster(), sf.ConvForecaster()):
        with pytest.raises(error, match=match):
            model(x)


def test_bad_state() -> None:
    x = torch.zeros(2, 5, 1)
    with pytest.raises(ValueError, match=r"`state` must have shape \(3, 2, 32\)"):
        sf.RecurrentForecaster()(x, torch.zeros(3, 1, 32))
    with pytest.raises(TypeError, match="tuple of 2 tensors"):
        sf.RecurrentForecaster(cell="lstm")(x, torch.zeros(3, 2, 32))
    with pytest.raises(TypeError, match="`state`"):
        sf.ConvForecaster()(x, "state")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"`state` must have shape \(2, 4, 1\)"):
        sf.ConvForecaster()(x, torch.zeros(2, 3, 1))
