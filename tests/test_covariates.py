"""Covariates: models read them, closed loops feed the given future ones back; panels, stamps, calendar."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import seqforecast as sf
from seqforecast.backtesting import backtest
from seqforecast.stamps import future_stamps, infer_step

from .strategies import forecasters, make_input


@st.composite
def with_covariates(draw: st.DrawFn) -> sf.BaseForecaster:
    """Small forecasters whose inputs are their targets plus at least one covariate."""
    return draw(forecasters().filter(lambda m: m.input_size > m.output_size))


@given(model=with_covariates(), horizon=st.integers(2, 5), seed=st.integers(0, 100))
def test_forecasts_use_the_given_future_covariates(model: sf.BaseForecaster, horizon: int, seed: int) -> None:
    history = make_input(model, 2, 12, seed)
    covariates = model.input_size - model.output_size
    generator = torch.Generator().manual_seed(seed)
    shape = (2, horizon - 1, covariates) if model.batch_first else (horizon - 1, 2, covariates)
    future = torch.randn(shape, generator=generator)
    base = sf.forecast(model, history, horizon, future=future)
    assert base.shape == ((2, horizon, model.output_size) if model.batch_first else (horizon, 2, model.output_size))
    changed = future.clone()
    changed[..., 0] += 10.0
    moved = sf.forecast(model, history, horizon, future=changed)
    time_dim = 1 if model.batch_first else 0
    # the first forecast comes from the history alone, before any covariate is fed back
    torch.testing.assert_close(base.narrow(time_dim, 0, 1), moved.narrow(time_dim, 0, 1))
    # and the steps after it read them
    assert not torch.equal(base.narrow(time_dim, 1, horizon - 1), moved.narrow(time_dim, 1, horizon - 1))
    # one forecast with the covariates of one series equals that series' part of the batch
    alone = sf.forecast(model, history.narrow(1 - time_dim, 1, 1), horizon, future=future.narrow(1 - time_dim, 1, 1))
    torch.testing.assert_close(alone, base.narrow(1 - time_dim, 1, 1), atol=1e-5, rtol=1e-5)


@given(model=with_covariates(), horizon=st.integers(1, 4), seed=st.integers(0, 100))
def test_backtest_equals_forecast_with_the_series_own_covariates(
    model: sf.BaseForecaster, horizon: int, seed: int
) -> None:
    series = make_input(model, 1, 20, seed)
    values = series if model.batch_first else series.transpose(0, 1)  # (1, T, F)
    result = backtest(model, values[0], horizon, start=14)
    for i, cutoff in enumerate(result.cutoffs.tolist()):
        future = values[0, cutoff : cutoff + horizon - 1, model.output_size :]
        one = sf.forecast(model, values[0, :cutoff], horizon, future=future if horizon > 1 else None)
        torch.testing.assert_close(result.forecasts[i], one, atol=1e-4, rtol=1e-4)
    # the targets after a cutoff play no part in its forecasts
    perturbed = values[0].clone()
    perturbed[17:, : model.output_size] += 5.0
    again = backtest(model, perturbed, horizon, start=14)
    index = [i for i, c in enumerate(result.cutoffs.tolist()) if c <= 17]
    torch.testing.assert_close(result.forecasts[index], again.forecasts[index])
    assert result.targets.shape[-1] == model.output_size


def test_perturbing_the_future_covariates_changes_the_forecast() -> None:
    model = sf.RecurrentForecaster(input_size=2, output_size=1, hidden_size=8, num_layers=1, seed=0)
    history = torch.randn(20, 2, generator=torch.Generator().manual_seed(0))
    future = torch.zeros(4, 1)
    base = sf.forecast(model, history, 5, future=future)
    moved = sf.forecast(model, history, 5, future=future + 1.0)
    assert torch.equal(base[0], moved[0])  # the first step is forecast from the history alone
    assert not torch.allclose(base[1:], moved[1:])


def test_streaming_takes_covariates_as_inputs() -> None:
    model = sf.RecurrentForecaster(input_size=3, output_size=1, hidden_size=4, num_layers=1, seed=0)
    x = torch.randn(10, 3)
    stream = sf.StreamingForecaster(model)
    streamed = torch.stack([stream.update(row) for row in x])
    predicted, _ = sf.predict(model, x)
    torch.testing.assert_close(streamed, predicted)


@pytest.mark.parametrize(
    ("future", "match"),
    [
        (None, "`future` is required"),
        (torch.zeros(4, 1), r"`future` must hold the 1 covariate\(s\) of the 2 step"),
        (torch.tensor([[0.0], [float("nan")]]), "`future` must contain only finite"),
    ],
)
def test_bad_future_covariates_are_refused(future: torch.Tensor | None, match: str) -> None:
    model = sf.RecurrentForecaster(input_size=2, output_size=1, hidden_size=4, num_layers=1)
    with pytest.raises(ValueError, match=match):
        sf.forecast(model, torch.zeros(5, 2), 3, future=future)


def test_future_covariates_for_a_model_without_them_are_refused() -> None:
    with pytest.raises(ValueError, match="drop `future`"):
        sf.forecast(sf.RecurrentForecaster(), torch.zeros(5), 3, future=torch.zeros(2, 1))


def _panel(past: bool = False) -> sf.Panel:
    days = {
        key: np.arange("2024-01-01", f"2024-01-{n + 1:02d}", dtype="datetime64[D]") for key, n in (("a", 20), ("b", 15))
    }
    series = {key: np.sin(np.arange(len(d)) / 3.0) for key, d in days.items()}
    price = {key: np.cos(np.arange(len(d)) / 5.0) for key, d in days.items()}
    return sf.Panel.from_series(
        series,
        times=days,
        future=price,
        future_names=["price"],
        past=price if past else None,
        past_names=["temp"] if past else None,
    )


def test_panel_inputs_align_known_future_covariates_with_the_step_they_forecast() -> None:
    panel = _panel(past=True)
    rows = panel.inputs(0, next_future=np.array([7.0]))
    assert rows.shape == (20, 3)
    np.testing.assert_array_equal(rows[:, 0], panel.targets[0][:, 0])
    np.testing.assert_array_equal(rows[:, 1], panel.past[0][:, 0])  # past: its own step
    np.testing.assert_array_equal(rows[:-1, 2], panel.future[0][1:, 0])  # future: the next step
    assert rows[-1, 2] == 7.0


def test_forecast_panel_carries_ids_and_future_stamps() -> None:
    panel = _panel()
    model = sf.RecurrentForecaster(input_size=2, output_size=1, hidden_size=4, num_layers=1, seed=0)
    future = {"a": np.zeros(3), "b": np.ones(3)}
    result = sf.forecast_panel(model, panel, 3, future=future)
    assert result.ids == ("a", "b")
    assert result.mean.shape == (2, 3, 1)
    assert result.times is not None
    assert [str(t) for t in result.times[1]] == ["2024-01-16", "2024-01-17", "2024-01-18"]
    moved = sf.forecast_panel(model, panel, 3, future={"a": np.zeros(3), "b": np.ones(3) + 1.0})
    np.testing.assert_array_equal(result.mean[0], moved.mean[0])  # series "a" kept its covariates
    assert not np.allclose(result.mean[1], moved.mean[1])


@pytest.mark.parametrize("n", [2, 9, 14])
def test_forecast_panel_one_step_is_the_prediction_at_that_step(n: int) -> None:
    panel = _panel(past=True)
    model = sf.RecurrentForecaster(input_size=3, output_size=1, hidden_size=4, num_layers=1, seed=0)
    price = panel.future[1][:, 0]
    one = sf.forecast_panel(model, panel.head(n), 1, future={"a": [0.0], "b": [price[n]]})
    predictions, _ = sf.predict(model, torch.as_tensor(panel.inputs(1), dtype=torch.float32))  # row t: price[t + 1]
    np.testing.assert_allclose(one.mean[1, 0], predictions[n - 1].numpy(), rtol=1e-5, atol=1e-6)


def test_forecast_panel_reads_future_row_h_at_step_h_and_after() -> None:
    panel = _panel(past=True)
    model = sf.RecurrentForecaster(input_size=3, output_size=1, hidden_size=4, num_layers=1, seed=0)
    rows = np.zeros((4, 2))  # future "price", then past "temp"
    base = sf.forecast_panel(model, panel, 4, future={"a": rows, "b": rows}).mean[0, :, 0]
    for h in range(3):
        changed = rows.copy()
        changed[h, 0] += 1.0  # the price of forecast step h
        moved = sf.forecast_panel(model, panel, 4, future={"a": changed, "b": rows}).mean[0, :, 0]
        np.testing.assert_array_equal(moved[:h], base[:h])
        assert moved[h] != base[h]
    changed = rows.copy()
    changed[0, 1] += 1.0  # the temperature observed at forecast step 0 is read from step 1 on
    moved = sf.forecast_panel(model, panel, 4, future={"a": changed, "b": rows}).mean[0, :, 0]
    assert moved[0] == base[0]
    assert moved[1] != base[1]


def test_a_future_panel_with_some_past_columns_names_the_missing_ones() -> None:
    panel = sf.Panel.from_series({"a": np.zeros(9)}, past={"a": np.zeros((9, 2))}, past_names=["temp", "wind"])
    model = sf.RecurrentForecaster(input_size=3, output_size=1, hidden_size=4, num_layers=1, seed=0)
    future = sf.Panel.from_series({"a": np.zeros(3)}, target_names=["temp"])
    with pytest.raises(ValueError, match=r"must have the columns \['wind'\]"):
        sf.forecast_panel(model, panel, 3, future=future)


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"past": (np.zeros((20, 1)), np.zeros((15, 1)))}, r"`past` of series 'a' must have shape \(20, 0\)"),
        ({"future": (np.zeros((20, 1)), np.zeros((14, 1)))}, r"`future` of series 'b' must have shape \(15, 1\)"),
        ({"times": None, "ids": ("a",)}, r"`targets` must have one entry per series \(1\), got 2"),
        ({"target_names": ("y", "z")}, r"`targets` of series 'a' must have shape \(20, 2\)"),
    ],
)
def test_a_panel_built_directly_is_checked(change: dict[str, object], match: str) -> None:
    panel = _panel()
    fields = {f.name: getattr(panel, f.name) for f in dataclasses.fields(panel)} | change
    with pytest.raises(ValueError, match=match):
        sf.Panel(**fields)


def test_panel_head_and_identity() -> None:
    panel = _panel(past=True)
    head = panel.head(12)
    assert [len(t) for t in head.targets] == [12, 12]
    assert head.times is not None
    assert str(head.times[1][-1]) == "2024-01-12"
    np.testing.assert_array_equal(head.inputs(0)[:-1], panel.inputs(0)[:11])
    assert head != panel.head(12)  # panels compare by identity, not by their arrays
    assert head in [head]


def test_a_backtest_refuses_to_feed_back_past_covariates() -> None:
    model = sf.RecurrentForecaster(input_size=3, output_size=1, hidden_size=4, num_layers=1, seed=0)
    series = torch.randn(40, 3, generator=torch.Generator().manual_seed(0))
    assert backtest(model, series, 1, start=30, past=1).forecasts.shape == (10, 1, 1)
    assert backtest(model, series, 3, start=30).forecasts.shape == (8, 3, 1)  # both covariates known in advance
    with pytest.raises(ValueError, match=r"`horizon` must be 1 with past=1 past covariate"):
        backtest(model, series, 3, start=30, past=1)
    with pytest.raises(ValueError, match=r"`past` must be at most the model's 2 covariate"):
        backtest(model, series, 1, start=30, past=3)


def test_forecast_panel_needs_covariates_over_the_horizon() -> None:
    panel = _panel()
    model = sf.RecurrentForecaster(input_size=2, output_size=1, hidden_size=4, num_layers=1)
    with pytest.raises(ValueError, match=r"`future` is required.*price"):
        sf.forecast_panel(model, panel, 3)
    with pytest.raises(ValueError, match="series 'b' must have at least horizon=3 rows"):
        sf.forecast_panel(model, panel, 3, future={"a": np.zeros(3), "b": np.zeros(2)})
    with pytest.raises(ValueError, match=r"series 'a' must be finite, got nan in column '0' at row 1"):
        sf.forecast_panel(model, panel, 3, future={"a": [0.0, np.nan, 0.0], "b": np.zeros(3)})


def test_past_covariates_need_a_scenario_beyond_one_step() -> None:
    panel = _panel(past=True)
    model = sf.RecurrentForecaster(input_size=3, output_size=1, hidden_size=4, num_layers=1)
    assert sf.forecast_panel(model, panel, 1, future={"a": [0.0], "b": [0.0]}).mean.shape == (2, 1, 1)
    with pytest.raises(ValueError, match=r"past covariates \['temp'\] over the horizon"):
        sf.forecast_panel(model, panel, 3, future={"a": np.zeros(3), "b": np.zeros(3)})
    scenario = {"a": np.zeros((3, 2)), "b": np.zeros((3, 2))}  # future "price", then past "temp"
    assert sf.forecast_panel(model, panel, 3, future=scenario).mean.shape == (2, 3, 1)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"future": {"a": np.zeros(19), "b": np.zeros(15)}}, "`future` of series 'a' must have 20 rows"),
        (
            {"past": {"a": np.zeros(20), "b": [0.0] * 14 + [np.nan]}, "past_names": ["t"]},
            r"series 'b'.*column 't' at row 14",
        ),
        ({"future": {"a": np.zeros(20)}}, r"every series, missing \['b'\]"),
        (
            {"times": {"a": np.arange(20).astype("datetime64[D]"), "b": np.arange(15)[::-1].astype("datetime64[D]")}},
            "times of series 'b'.*out of order",
        ),
        (
            {"times": {"a": np.arange(20).astype("datetime64[D]"), "b": np.r_[0, 2:16].astype("datetime64[D]")}},
            "times of series 'b'.*regular",
        ),
        ({"min_length": 16}, "series` 'b' must have at least 16 points"),
    ],
)
def test_bad_panels_name_the_series_and_column(kwargs: dict[str, object], match: str) -> None:
    series = {"a": np.zeros(20), "b": np.zeros(15)}
    with pytest.raises(ValueError, match=match):
        sf.Panel.from_series(series, **kwargs)  # type: ignore[arg-type]


def test_calendar_features_are_sine_and_cosine_of_calendar_positions() -> None:
    hours = np.arange("2024-03-04T00", "2024-03-05T00", dtype="datetime64[h]")
    features = sf.calendar_features(hours, ["hour", "dayofweek", "month"])
    assert features.shape == (24, 6)
    np.testing.assert_allclose(features[6, :2], [1.0, 0.0], atol=1e-6)  # 06:00: a quarter of the day
    np.testing.assert_allclose(features[:, 2:4], [[0.0, 1.0]] * 24, atol=1e-6)  # a Monday
    np.testing.assert_allclose(features[0, 4:], [np.sin(np.pi / 3), np.cos(np.pi / 3)], atol=1e-6)  # March
    with pytest.raises(ValueError, match="calendar features among"):
        sf.calendar_features(hours, ["weekday"])


def test_panel_with_calendar_adds_known_future_columns() -> None:
    panel = _panel().with_calendar(["dayofweek"])
    assert panel.future_names == ("price", "dayofweek_sin", "dayofweek_cos")
    assert panel.input_size == 4


def test_stamps_continue_by_calendar_months_and_refuse_gaps() -> None:
    ends = np.array(["2023-11-30", "2023-12-31", "2024-01-31"], dtype="datetime64[D]")
    assert [str(d) for d in future_stamps(ends, 2)] == ["2024-02-29", "2024-03-31"]
    years = np.array(["1950", "1951"], dtype="datetime64[Y]")
    assert str(future_stamps(years, 1)[0]) == "1952"
    with pytest.raises(ValueError, match="from 2024-01-02 to 2024-01-05 differs"):
        infer_step("times", np.array(["2024-01-01", "2024-01-02", "2024-01-05"], dtype="datetime64[D]"))
    stamps, values = sf.fill_gaps(
        np.array(["2024-01-01", "2024-01-02", "2024-01-05"], dtype="datetime64[D]"), [1.0, 2.0, 5.0]
    )
    assert len(stamps) == 5
    assert values.tolist() == [1.0, 2.0, 2.0, 2.0, 5.0]


def test_a_refitting_backtest_trains_a_model_with_covariates_on_its_targets() -> None:
    model = sf.RecurrentForecaster(input_size=2, output_size=1, hidden_size=4, num_layers=1, seed=0)
    series = torch.randn(60, 2, generator=torch.Generator().manual_seed(0))
    refit = sf.Refit(every=5, steps=2, seq_length=8, config=sf.TrainerConfig(device="cpu", seed=0))
    result = backtest(model, series, 3, start=50, refit=refit)
    assert result.forecasts.shape == (8, 3, 1)
    assert torch.isfinite(result.forecasts).all()
