"""SineStream reproduces the notebook; ArrayStream tiles a series in order."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import seqforecast as sf


def notebook_window(k: int) -> np.ndarray:
    return np.sin(np.linspace(k * 180, (k + 1) * 180, 19) * np.pi / 180)


@pytest.mark.parametrize("k", [0, 1, 2, 7, 150])
def test_sine_stream_defaults_reproduce_the_notebook(k: int) -> None:
    window = sf.SineStream().window(k)
    expected = notebook_window(k)
    assert window.inputs.shape == (1, 18, 1)
    assert window.inputs.dtype == torch.float32
    np.testing.assert_allclose(window.inputs[0, :, 0].numpy(), expected[:18], atol=1e-6)
    np.testing.assert_allclose(window.targets[0, :, 0].numpy(), expected[1:], atol=1e-6)
    assert window.reset == (k == 0)


def test_iteration_matches_window_and_tiles() -> None:
    stream = sf.SineStream(num_windows=300, batch_size=3, noise_std=0.1, seed=4)
    windows = list(stream)
    assert len(windows) == 300
    for k in (0, 1, 255, 256, 299):
        torch.testing.assert_close(windows[k].inputs, stream.window(k).inputs)
    for a, b in itertools.pairwise(windows):
        # consecutive windows continue each other: the last target is the next first input
        torch.testing.assert_close(a.targets[:, -1], b.inputs[:, 0])
        torch.testing.assert_close(a.targets[:, :-1], a.inputs[:, 1:])


def test_lanes_are_phase_shifted_and_layouts_agree() -> None:
    first = sf.SineStream(batch_size=4).window(3)
    second = sf.SineStream(batch_size=4, batch_first=False).window(3)
    assert second.inputs.shape == (18, 4, 1)
    torch.testing.assert_close(first.inputs, second.inputs.transpose(0, 1))
    for lane in range(4):
        shifted = sf.SineStream(start_degrees=lane * 90.0).window(3)
        torch.testing.assert_close(first.inputs[lane], shifted.inputs[0])


def test_noise_is_reproducible_with_seed() -> None:
    a = sf.SineStream(noise_std=0.1, seed=1).window(5).inputs
    b = sf.SineStream(noise_std=0.1, seed=1).window(5).inputs
    c = sf.SineStream(noise_std=0.1, seed=2).window(5).inputs
    torch.testing.assert_close(a, b)
    assert not torch.equal(a, c)


def test_stream_is_built_on_the_device(device: torch.device) -> None:
    window = sf.SineStream(device=device, dtype=torch.float64).window(0)
    assert window.inputs.device.type == device.type
    assert window.inputs.dtype == torch.float64


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"seq_length": 0}, ValueError, "seq_length"),
        ({"seq_length": 1.5}, TypeError, "seq_length"),
        ({"batch_size": 0}, ValueError, "batch_size"),
        ({"step_degrees": 0.0}, ValueError, "step_degrees"),
        ({"step_degrees": float("inf")}, ValueError, "step_degrees"),
        ({"noise_std": -1.0}, ValueError, "noise_std"),
        ({"phase_degrees": [0.0, 1.0]}, ValueError, "phase_degrees"),
        ({"dtype": torch.int32}, TypeError, "dtype"),
        ({"num_windows": 0}, ValueError, "num_windows"),
    ],
)
def test_sine_stream_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        sf.SineStream(**kwargs)


@given(
    length=st.integers(2, 120),
    seq_length=st.integers(1, 12),
    batch_size=st.integers(1, 4),
    batch_first=st.booleans(),
)
def test_array_stream_tiles_each_lane_in_order(
    length: int, seq_length: int, batch_size: int, batch_first: bool
) -> None:
    if length // batch_size < seq_length + 1:
        with pytest.raises(ValueError, match="series"):
            sf.ArrayStream(np.arange(length, dtype=float), seq_length, batch_size=batch_size)
        return
    stream = sf.ArrayStream(
        np.arange(length, dtype=float), seq_length, batch_size=batch_size, batch_first=batch_first, num_epochs=2
    )
    windows = list(stream)
    assert len(windows) == 2 * stream.windows_per_epoch
    lane = length // batch_size
    epoch = windows[: stream.windows_per_epoch]
    assert [w.reset for w in windows].count(True) == 2
    targets = torch.cat([w.targets if batch_first else w.targets.transpose(0, 1) for w in epoch], dim=1)
    inputs = torch.cat([w.inputs if batch_first else w.inputs.transpose(0, 1) for w in epoch], dim=1)
    for b in range(batch_size):
        # every point of a lane but its first is a target exactly once, in order
        expected = torch.arange(b * lane + 1, (b + 1) * lane, dtype=torch.float32)
        torch.testing.assert_close(targets[b, :, 0], expected)
        torch.testing.assert_close(inputs[b, :, 0], expected - 1)
    torch.testing.assert_close(windows[stream.windows_per_epoch].inputs, windows[0].inputs)


def test_array_stream_several_series_and_resume() -> None:
    stream = sf.ArrayStream([np.zeros(30), np.ones(50)], seq_length=10, num_epochs=1)
    windows = list(stream)
    assert [w.reset for w in windows] == [True, False, False, True, False, False, False, False]
    tail = list(stream.windows(5))
    assert len(tail) == 3
    torch.testing.assert_close(tail[0].inputs, windows[5].inputs)


class ArrayLike:
    def __init__(self, values: list[float]) -> None:
        self.values = values

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.asarray(self.values, dtype=dtype)


def test_array_stream_accepts_array_likes() -> None:
    values = [float(i) for i in range(20)]
    for series in (values, torch.tensor(values), np.array(values), ArrayLike(values)):
        window = next(iter(sf.ArrayStream(series, seq_length=5)))
        torch.testing.assert_close(window.inputs[0, :, 0], torch.arange(5.0))


@pytest.mark.parametrize(
    ("series", "error", "match"),
    [
        ([1.0, float("nan"), 2.0] * 10, ValueError, r"finite.*nan at index \(1,\)"),
        ([1.0, 2.0], ValueError, "at least"),
        ([[1.0, 2.0], [3.0]], ValueError, "rectangular"),
        (np.zeros((10, 2, 2)), ValueError, "shape"),
        (np.arange(30) % 2 == 0, TypeError, "floating or integer"),
        (["a", "b"] * 20, TypeError, "numbers"),
    ],
)
def test_array_stream_bad_series(series: Any, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        sf.ArrayStream(series, seq_length=5)


def test_read_only_arrays_are_accepted_without_a_warning() -> None:
    values = np.sin(np.arange(60.0) / 4)
    values.flags.writeable = False  # as pandas hands out under copy-on-write
    stream = sf.ArrayStream(values, seq_length=5, num_epochs=1)
    assert next(iter(stream)).inputs.shape == (1, 5, 1)
    predictions, _ = sf.predict(sf.RecurrentForecaster(hidden_size=4, num_layers=1), values)
    assert predictions.shape == (60, 1)
