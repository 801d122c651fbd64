"""Long data frames in and out: from_frame, Panel.to_frame, Forecast.to_frame."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import seqforecast as sf

pd = pytest.importorskip("pandas")


def _frame(lengths: list[int], ids: list[str]) -> Any:
    parts = []
    for key, n in zip(ids, lengths, strict=True):
        days = pd.date_range("2024-01-01", periods=n, freq="D")
        parts.append(
            pd.DataFrame(
                {
                    "store": key,
                    "day": days,
                    "sales": np.arange(n, dtype=float) + len(key),
                    "temp": np.sin(np.arange(n)),
                    "price": np.cos(np.arange(n)),
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


@given(
    lengths=st.lists(st.integers(2, 12), min_size=1, max_size=5),
    names=st.lists(st.text("abcxyz", min_size=1, max_size=3), min_size=5, max_size=5, unique=True),
)
def test_round_trip_keeps_ids_stamps_and_order(lengths: list[int], names: list[str]) -> None:
    ids = names[: len(lengths)]
    df = _frame(lengths, ids)
    panel = sf.from_frame(df, id="store", time="day", target="sales", past=["temp"], future=["price"])
    assert panel.ids == tuple(ids)
    assert [len(t) for t in panel.targets] == lengths
    again = panel.to_frame(id="store", time="day")
    pd.testing.assert_frame_equal(again, df[["store", "day", "sales", "temp", "price"]], check_dtype=False)
    back = sf.from_frame(again, id="store", time="day", target="sales", past=["temp"], future=["price"])
    assert back.ids == panel.ids
    assert back.times is not None
    assert panel.times is not None
    for a, b in zip(back.times, panel.times, strict=True):
        np.testing.assert_array_equal(a, b)


@given(
    lengths=st.lists(st.integers(2, 6), min_size=1, max_size=4),
    numbers=st.lists(st.integers(-50, 50), min_size=4, max_size=4, unique=True),
)
def test_round_trip_keeps_numeric_ids(lengths: list[int], numbers: list[int]) -> None:
    df = _frame(lengths, ["x"] * len(lengths))
    df["store"] = np.repeat(numbers[: len(lengths)], lengths)  # integer ids
    panel = sf.from_frame(df, id="store", time="day", target="sales")
    assert panel.ids == tuple(str(n) for n in numbers[: len(lengths)])
    assert [len(t) for t in panel.targets] == lengths
    back = sf.from_frame(panel.to_frame(id="store", time="day"), id="store", time="day", target="sales")
    assert back.ids == panel.ids
    for a, b in zip(back.targets, panel.targets, strict=True):
        np.testing.assert_array_equal(a, b)


def _with_history(future_df: Any, df: Any) -> Any:
    """The future rows after the history's rows (a frame that runs on past the end of the history)."""
    return pd.concat([df[["store", "day", "price"]], future_df], ignore_index=True)


def test_forecast_panel_takes_the_future_rows_at_the_forecast_stamps() -> None:
    df = _frame([10, 8], ["a", "b"])
    panel = sf.from_frame(df, id="store", time="day", target="sales", future=["price"])
    model = sf.RecurrentForecaster(input_size=2, output_size=1, hidden_size=4, num_layers=1, seed=0)
    after = pd.DataFrame(
        {
            "store": ["a"] * 3 + ["b"] * 3,
            "day": list(pd.date_range("2024-01-11", periods=3)) + list(pd.date_range("2024-01-09", periods=3)),
            "price": [0.5, -1.0, 2.0, 1.5, 0.0, -2.0],
        }
    )
    only = sf.from_frame(after, id="store", time="day", target=None, future=["price"], min_length=1)
    whole = sf.from_frame(_with_history(after, df), id="store", time="day", target=None, future=["price"])
    expected = sf.forecast_panel(model, panel, 3, future=only).mean
    np.testing.assert_array_equal(sf.forecast_panel(model, panel, 3, future=whole).mean, expected)
    arrays = {"a": [0.5, -1.0, 2.0], "b": [1.5, 0.0, -2.0]}
    np.testing.assert_array_equal(sf.forecast_panel(model, panel, 3, future=arrays).mean, expected)
    late = after.assign(day=after["day"] + pd.Timedelta(days=1))
    shifted = sf.from_frame(late, id="store", time="day", target=None, future=["price"], min_length=1)
    with pytest.raises(
        ValueError,
        match=r"series 'a' must have rows at the 3 step\(s\).* from 2024-01-11T.* got 3 row\(s\) from 2024-01-12T",
    ):
        sf.forecast_panel(model, panel, 3, future=shifted)


def test_forecast_to_frame_is_the_long_format() -> None:
    df = _frame([10, 8], ["a", "b"])
    panel = sf.from_frame(df, id="store", time="day", target="sales", future=["price"])
    model = sf.RecurrentForecaster(input_size=2, output_size=1, hidden_size=4, num_layers=1, seed=0)
    future_df = pd.DataFrame(
        {
            "store": ["a"] * 3 + ["b"] * 3,
            "day": list(pd.date_range("2024-01-11", periods=3)) + list(pd.date_range("2024-01-09", periods=3)),
            "price": 0.5,
        }
    )
    future = sf.from_frame(future_df, id="store", time="day", target=None, future=["price"], min_length=1)
    result = sf.forecast_panel(model, panel, 3, future=future)
    frame = result.to_frame()
    assert frame.columns.tolist() == ["unique_id", "ds", "forecast"]
    assert frame["unique_id"].tolist() == ["a"] * 3 + ["b"] * 3
    assert [str(d.date()) for d in frame["ds"]][2:4] == ["2024-01-13", "2024-01-09"]
    np.testing.assert_allclose(frame["forecast"].to_numpy(), result.mean.reshape(-1))
    lower, upper = result.mean - 1.0, result.mean + 1.0
    ranged = sf.Forecast(result.mean, {80.0: (lower, upper)}, ids=result.ids, times=result.times)
    assert ranged.to_frame().columns.tolist() == ["unique_id", "ds", "forecast", "forecast-lo-80", "forecast-hi-80"]


def test_irregular_stamps_are_filled_on_request() -> None:
    df = _frame([6], ["a"]).drop(index=[2])
    with pytest.raises(ValueError, match=r"column 'day' of series 'a'.*regular"):
        sf.from_frame(df, id="store", time="day", target="sales")
    panel = sf.from_frame(df, id="store", time="day", target="sales", fill="interpolate")
    assert panel.targets[0][:, 0].tolist() == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]


@pytest.mark.parametrize(
    ("edit", "kwargs", "match"),
    [
        (lambda df: df, {"target": "units"}, "`target` names column 'units', which the frame lacks"),
        (lambda df: df, {"future": ["promo"]}, "`future` names column 'promo'"),
        (lambda df: df.iloc[[1, 0, *range(2, len(df))]], {}, r"column 'day' of series 'a'.*out of order"),
        (lambda df: pd.concat([df.iloc[:1], df]), {}, r"column 'day' of series 'a'.*repeated"),
        (
            lambda df: df.assign(price=df["price"].where(df.index != 12)),
            {"future": ["price"]},
            r"column 'price' of series 'b' must be finite",
        ),
        (lambda df: df, {"min_length": 9}, r"series` 'b' must have at least 9 points"),
        (lambda df: df.assign(day="x"), {}, r"column 'day' of series 'a' must hold dates"),
        (lambda df: df.assign(shop=1), {"id": ["store", "shop"]}, r"`id` must be the name of one column .*list"),
        (lambda df: df.assign(store=df["store"].where(df.index != 3)), {}, r"'store' .* missing id at row 3"),
        (lambda df: df.assign(store=[1] * 10 + ["1"] * 8), {}, r"'store' .* differ as strings, got 1 and '1'"),
    ],
)
def test_bad_frames_name_the_series_and_column(edit: Any, kwargs: dict[str, Any], match: str) -> None:
    df = edit(_frame([10, 8], ["a", "b"]))
    arguments: dict[str, Any] = {"id": "store", "time": "day", "target": "sales", **kwargs}
    with pytest.raises((TypeError, ValueError), match=match):
        sf.from_frame(df, **arguments)


def test_a_panel_from_a_frame_trains_a_global_model() -> None:
    panel = sf.from_frame(
        _frame([30, 25, 20], ["a", "b", "c"]), id="store", time="day", target="sales", future=["price"]
    )
    model = sf.RecurrentForecaster(input_size=panel.input_size, output_size=1, hidden_size=4, num_layers=1, seed=0)
    history = sf.Trainer(model, sf.TrainerConfig(device="cpu", seed=0)).fit(panel.stream(8, batch_size=3, num_epochs=2))
    assert len(history.losses) == 2 * panel.stream(8, batch_size=3).windows_per_epoch
    assert all(np.isfinite(history.losses))
    assert isinstance(model(torch.zeros(1, 3, 2))[0], torch.Tensor)


def test_results_and_panels_write_frames_without_the_frame_reader() -> None:
    """No import cycle: results and panels write frames through the pandas loader, not through frames.py."""
    code = (
        "import sys, numpy as np\n"
        "from seqforecast.results import Forecast\n"
        "from seqforecast.covariates import Panel\n"
        "Forecast(np.zeros((2, 1))).to_frame(); Panel.from_series([np.zeros(3)]).to_frame()\n"
        "assert 'seqforecast.frames' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_frame_of_future_covariates_needs_no_target_argument() -> None:
    future_df = pd.DataFrame(
        {"id": ["a", "a"], "ds": pd.to_datetime(["2024-01-03", "2024-01-04"]), "price": [1.0, 2.0]}
    )
    panel = sf.from_frame(future_df, id="id", time="ds", future=["price"])
    assert panel.ids == ("a",)
    assert panel.future_names == ("price",)
    assert panel.targets[0].shape == (2, 0)
    with pytest.raises(ValueError, match="`target` names column 'sales'"):
        sf.from_frame(future_df, id="id", time="ds", target="sales", future=["price"])
