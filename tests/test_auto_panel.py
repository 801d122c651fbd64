"""AutoForecaster on a panel: one global model over many series with known-future covariates."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest

import seqforecast as sf

IDS = ("a", "b", "c", "d")
LENGTH = 60


def _truth(seed: int = 0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Series of different levels, each 3 x its known-future covariate plus noise, LENGTH + 3 points."""
    rng = np.random.default_rng(seed)
    price = {key: rng.normal(size=LENGTH + 3) for key in IDS}
    y = {key: 10.0 * (k + 1) + 3.0 * price[key] + rng.normal(0, 0.1, LENGTH + 3) for k, key in enumerate(IDS)}
    return y, price


def _panel(seed: int = 0) -> sf.Panel:
    y, price = _truth(seed)
    months = np.arange("2020-01", "2026-01", dtype="datetime64[M]")[:LENGTH]
    return sf.Panel.from_series(
        {k: v[:LENGTH] for k, v in y.items()},
        future={k: v[:LENGTH] for k, v in price.items()},
        times=dict.fromkeys(IDS, months),
        future_names=["price"],
    )


@pytest.fixture(scope="module")
def fitted() -> sf.AutoForecaster:
    return sf.AutoForecaster(seed=0, models=("linear",)).fit(_panel())


def _future(scale: float = 1.0) -> dict[str, np.ndarray]:
    _, price = _truth()
    return {key: scale * price[key][LENGTH:, None] for key in IDS}


def test_a_global_model_with_the_covariate_beats_naive_on_validation_and_after_the_data(
    fitted: sf.AutoForecaster,
) -> None:
    assert fitted.choice_ is not None
    assert fitted.choice_ != "naive"
    assert fitted.validation_mse < 0.1 * fitted.naive_mse_
    y, _ = _truth()
    result = fitted.forecast(3, future=_future())
    assert result.mean.shape == (4, 3, 1)
    assert result.ids == IDS
    actual = np.stack([y[key][LENGTH:, None] for key in IDS])
    naive = np.stack([np.repeat(y[key][LENGTH - 1], 3)[:, None] for key in IDS])
    assert np.mean((result.mean - actual) ** 2) < 0.1 * np.mean((naive - actual) ** 2)


def test_the_forecast_reads_the_given_future_covariates(fitted: sf.AutoForecaster) -> None:
    base = fitted.forecast(3, future=_future()).mean
    perturbed = fitted.forecast(3, future=_future(-1.0)).mean
    assert not np.allclose(base[:, 0], perturbed[:, 0])  # even the first step reads the price of its own step
    assert np.all(np.abs(base - perturbed) > 0.1)


def test_intervals_and_stamps_of_the_forecast_steps(fitted: sf.AutoForecaster) -> None:
    result = fitted.forecast(3, level=(80, 95), future=_future())
    lower, upper = result.interval(95)
    assert lower.shape == upper.shape == (4, 3, 1)
    assert bool((lower < result.mean).all() and (result.mean < upper).all())
    assert result.times is not None
    assert [str(s) for s in result.times[0]] == ["2025-01", "2025-02", "2025-03"]


def test_missing_or_short_future_covariates_name_the_series_and_the_column(fitted: sf.AutoForecaster) -> None:
    with pytest.raises(ValueError, match=r"`future` is required.*\['price'\]"):
        fitted.forecast(3)
    short = _future() | {"c": np.zeros((2, 1))}
    with pytest.raises(ValueError, match=r"`future` of series 'c' must have at least horizon=3 rows.*\['price'\]"):
        fitted.forecast(3, future=short)
    other = sf.Panel.from_series({key: np.zeros(3) for key in IDS if key != "b"}, target_names=["price"])
    with pytest.raises(ValueError, match=r"series 'b' is missing \(columns needed: \['price'\]\)"):
        fitted.forecast(3, future=other)
    nameless = sf.Panel.from_series({key: np.zeros(3) for key in IDS}, target_names=["cost"])
    with pytest.raises(ValueError, match=r"`future` must have the (future covariate )?columns \['price'\]"):
        fitted.forecast(3, future=nameless)


def test_a_panel_model_forecasts_a_panel_only(fitted: sf.AutoForecaster) -> None:
    with pytest.raises(ValueError, match=r"`y` must be a series like the one fitted, but .* fitted on a panel"):
        fitted.predict(np.zeros(20))
    single = sf.AutoForecaster(models=("linear",)).fit(np.sin(np.arange(40) / 3))
    with pytest.raises(ValueError, match=r"`future` is for an AutoForecaster fitted on a Panel"):
        single.forecast(3, future={"a": np.zeros((3, 1))})


def test_saved_and_loaded_it_forecasts_the_same(fitted: sf.AutoForecaster, tmp_path: pathlib.Path) -> None:
    path = tmp_path / "panel.safetensors"
    fitted.save(path, metadata={"source": "synthetic"})
    loaded = sf.AutoForecaster.load(path)
    before = fitted.forecast(4, level=80, future={k: np.vstack([v, v[-1:]]) for k, v in _future().items()})
    after = loaded.forecast(4, level=80, future={k: np.vstack([v, v[-1:]]) for k, v in _future().items()})
    np.testing.assert_array_equal(before.mean, after.mean)
    np.testing.assert_array_equal(before.interval(80)[0], after.interval(80)[0])
    assert after.ids == IDS
    assert after.times is not None
    assert before.times is not None
    np.testing.assert_array_equal(before.times, after.times)
    assert loaded.metadata == {"source": "synthetic"}
    assert loaded.choice_ == fitted.choice_


def test_data_frames_in_and_out_keep_ids_and_stamps(fitted: sf.AutoForecaster) -> None:
    pd = pytest.importorskip("pandas")
    frame = _panel().to_frame()
    est = sf.AutoForecaster(seed=0, models=("linear",)).fit(
        sf.from_frame(frame, id="unique_id", time="ds", future=["price"])
    )
    _, price = _truth()
    future_frame = pd.DataFrame(
        {
            "unique_id": np.repeat(IDS, 3),
            "ds": np.tile(pd.to_datetime(["2025-01-01", "2025-02-01", "2025-03-01"]), len(IDS)),
            "price": np.concatenate([price[key][LENGTH:] for key in IDS]),
        }
    )
    future = sf.from_frame(future_frame, id="unique_id", time="ds", target=None, future=["price"])
    result = est.forecast(3, level=80, future=future)
    out = result.to_frame()
    assert out.columns.tolist() == ["unique_id", "ds", "forecast", "forecast-lo-80", "forecast-hi-80"]
    assert out["unique_id"].tolist() == list(np.repeat(IDS, 3))
    assert (pd.to_datetime(out["ds"]).to_numpy() == future_frame["ds"].to_numpy()).all()
    np.testing.assert_allclose(out["forecast"].to_numpy(), result.mean.reshape(-1))
    np.testing.assert_allclose(out["forecast"].to_numpy(), fitted.forecast(3, future=_future()).mean.reshape(-1))


def test_past_covariates_and_a_network_candidate() -> None:
    rng = np.random.default_rng(1)
    series = {key: np.cumsum(rng.normal(size=40)) for key in IDS}
    past = {key: rng.normal(size=40) for key in IDS}
    panel = sf.Panel.from_series(series, past=past)
    est = sf.AutoForecaster(seed=0, models=("linear", "gru"), steps=20).fit(panel)
    assert any(s.name.startswith("GRU") for s in est.scores_)
    assert est.forecast(1).mean.shape == (4, 1, 1)  # one step needs no scenario of the past covariates
    with pytest.raises(ValueError, match=r"past covariates \['past0'\] over the horizon"):
        est.forecast(2)
    assert est.forecast(2, future={key: np.zeros((2, 1)) for key in IDS}).mean.shape == (4, 2, 1)


def test_series_too_short_to_fit_are_named() -> None:
    panel = sf.Panel.from_series({"long": np.arange(30.0), "tiny": np.arange(5.0)})
    with pytest.raises(ValueError, match=r"`y` series 'tiny' must have at least 8 time steps to fit, got 5"):
        sf.AutoForecaster(models=("linear",)).fit(panel)


def test_every_series_counts_alike_and_its_intervals_are_on_its_own_scale() -> None:
    y, price = _truth()
    big = {key: (100.0 if key == "a" else 1.0) * y[key][:LENGTH] for key in IDS}
    panel = sf.Panel.from_series(big, future={k: v[:LENGTH] for k, v in price.items()})
    result = sf.AutoForecaster(seed=0, models=("linear",)).fit(panel).forecast(2, level=80, future=_future())
    lower, upper = result.interval(80)
    width = (upper - lower)[:, 0, 0]
    assert 30 < width[0] / width[1] < 300  # series "a" is 100 times larger


def test_short_series_keep_a_validation_tail_and_fit() -> None:
    rng = np.random.default_rng(1)
    series = {f"s{k}": np.cumsum(rng.normal(size=9)) for k in range(4)}  # 5 % of 9 points rounds to no tail
    est = sf.AutoForecaster(seed=0, models=("linear",), val_fraction=0.05).fit(sf.Panel.from_series(series))
    assert est.forecast(2).mean.shape == (4, 2, 1)


def test_interval_errors_come_in_time_order_across_series(fitted: sf.AutoForecaster) -> None:
    from seqforecast._auto_panel import PanelRecipe

    recipe = fitted._panel
    assert isinstance(recipe, PanelRecipe)
    panel, firsts, spread = recipe.history, [LENGTH - 6, LENGTH - 4, LENGTH - 5, LENGTH - 3], np.ones((4, 1))
    alone = [
        recipe.backtest_errors(panel, [f if j == i else LENGTH for j, f in enumerate(firsts)], 1, spread)
        for i in range(4)
    ]
    # at each position after its first cutoff, the series in turn: 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 0, 2, 0
    order = sorted((p, i) for i, errs in enumerate(alone) for p in range(len(errs)))
    expected = np.stack([alone[i][p] for p, i in order])
    np.testing.assert_array_equal(recipe.backtest_errors(panel, firsts, 1, spread), expected)
