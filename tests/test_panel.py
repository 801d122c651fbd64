"""PanelStream: many series packed into lanes, every point a target once, no window mixing series."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

import seqforecast as sf

panels = st.lists(st.integers(2, 30), min_size=1, max_size=8)


def _series(lengths: list[int]) -> list[np.ndarray]:
    """Series whose values encode (series, point): value = 1000 * series + point."""
    return [1000.0 * i + np.arange(n, dtype=np.float64) for i, n in enumerate(lengths)]


def _dropped(steps: list[int], batch_size: int) -> list[int]:
    """The oldest steps of each series left out: total % batch_size, from the longest series first."""
    drop, result = sum(steps) % batch_size, [0] * len(steps)
    for i in sorted(range(len(steps)), key=lambda i: (-steps[i], i)):
        result[i] = min(drop, steps[i])
        drop -= result[i]
    return result


@given(lengths=panels, batch_size=st.integers(1, 5), seq_length=st.integers(1, 7), batch_first=st.booleans())
@example(lengths=[2] * 15, batch_size=10, seq_length=2, batch_first=True)  # drops more steps than a series has
@example(lengths=[30] * 1000, batch_size=128, seq_length=7, batch_first=True)  # 29,000 % 128 = 72 > 29 steps
def test_every_point_is_a_target_once_and_no_window_mixes_series(
    lengths: list[int], batch_size: int, seq_length: int, batch_first: bool
) -> None:
    total = sum(n - 1 for n in lengths)
    if total < batch_size:
        return
    stream = sf.PanelStream(
        _series(lengths), seq_length, batch_size=batch_size, batch_first=batch_first, num_epochs=1, dtype=torch.float64
    )
    seen: Counter[float] = Counter()
    starts = {(s.lane, s.offset) for s in stream.segments}
    offset = 0
    for window in stream:
        x, y = window.inputs[..., 0], window.targets[..., 0]
        if not batch_first:
            x, y = x.T, y.T  # (B, T)
        assert 1 <= x.shape[1] <= seq_length
        assert torch.equal(y - x, torch.ones_like(x))  # one step ahead, within one series
        assert torch.equal(torch.div(x, 1000, rounding_mode="floor"), torch.div(y, 1000, rounding_mode="floor"))
        assert isinstance(window.reset, torch.Tensor)
        assert window.reset.tolist() == [(lane, offset) in starts for lane in range(batch_size)]
        for lane in range(batch_size):  # a segment starts only at a window start: inside, the series continues
            assert len(set(torch.div(x[lane], 1000, rounding_mode="floor").tolist())) == 1
        seen.update(y.reshape(-1).tolist())
        offset += x.shape[1]
    dropped = _dropped([n - 1 for n in lengths], batch_size)
    assert all(s.steps >= 1 for s in stream.segments)
    expected = Counter(1000.0 * i + t for i, n in enumerate(lengths) for t in range(1 + dropped[i], n))
    assert seen == expected  # every point but each series' first (and the few dropped) exactly once
    assert all(seen[value] == 1 for value in seen)


@given(lengths=panels, batch_size=st.integers(1, 4))
@example(lengths=[2] * 15, batch_size=4)
def test_segments_start_fresh_and_cover_each_lane(lengths: list[int], batch_size: int) -> None:
    if sum(n - 1 for n in lengths) < batch_size:
        return
    stream = sf.PanelStream(_series(lengths), 4, batch_size=batch_size)
    per_lane = Counter[int]()
    for segment in stream.segments:
        assert segment.steps >= 1
        assert segment.first + segment.steps < lengths[segment.series]
        per_lane[segment.lane] += segment.steps
    assert len(set(per_lane.values())) == 1  # every lane has the same number of steps
    whole = [s for s in stream.segments if s.first == 0]
    assert {s.series for s in whole} <= set(range(len(lengths)))
    assert len(stream.segments) <= len(lengths) + 2 * batch_size  # at most a few tails are moved


@given(start=st.integers(0, 40))
def test_seeking_equals_walking(start: int) -> None:
    stream = sf.PanelStream(_series([9, 17, 5, 12]), 4, batch_size=3, num_epochs=3)
    walked = list(stream)[start:]
    sought = list(stream.windows(start))
    assert len(walked) == len(sought)
    for a, b in zip(walked, sought, strict=True):
        assert torch.equal(a.inputs, b.inputs)
        assert isinstance(a.reset, torch.Tensor)
        assert isinstance(b.reset, torch.Tensor)
        assert torch.equal(a.reset, b.reset)


def test_shards_together_are_the_stream() -> None:
    stream = sf.PanelStream(_series([9, 17, 5, 12, 8, 8]), 4, batch_size=4, num_epochs=1)
    halves = [stream.shard(rank, 2) for rank in range(2)]
    for k in range(stream.windows_per_epoch):
        whole = stream.window(k)
        parts = [h.window(k) for h in halves]
        assert torch.equal(whole.inputs, torch.cat([p.inputs for p in parts]))
        assert isinstance(whole.reset, torch.Tensor)
        assert torch.equal(whole.reset, torch.cat([p.reset for p in parts]))  # type: ignore[misc]


def test_equal_series_in_as_many_lanes_are_array_stream_lanes() -> None:
    series = _series([21, 21, 21])
    panel = sf.PanelStream(series, 6, batch_size=3, num_epochs=1)
    lanes = sf.ArrayStream(np.concatenate(series), 6, batch_size=3, num_epochs=1)
    for a, b in zip(panel, lanes, strict=True):
        assert torch.equal(a.inputs, b.inputs)
        assert torch.equal(a.targets, b.targets)


@pytest.mark.parametrize("cell", ["gru", "conv"])
def test_training_on_a_panel_equals_training_each_series_in_its_own_lane(cell: str) -> None:
    rng = np.random.default_rng(0)
    series = [np.sin(np.arange(25) / 3 + phase) + 0.1 * rng.standard_normal(25) for phase in (0.0, 1.0, 2.0)]

    def trained(stream: sf.Stream) -> list[torch.Tensor]:
        model: sf.BaseForecaster = (
            sf.RecurrentForecaster(hidden_size=6, num_layers=1, cell="gru", seed=0)
            if cell == "gru"
            else sf.ConvForecaster(channels=4, head_hidden=4, seed=0)
        )
        sf.Trainer(model, sf.TrainerConfig(device="cpu", seed=0, log_every=1)).fit(stream, epochs=2)
        return [p.detach().clone() for p in model.parameters()]

    panel = trained(sf.PanelStream(series, 5, batch_size=3, num_epochs=2))
    lanes = trained(sf.ArrayStream(np.concatenate(series), 5, batch_size=3, num_epochs=2))
    for a, b in zip(panel, lanes, strict=True):
        torch.testing.assert_close(a, b)


def test_covariates_are_inputs_not_targets() -> None:
    series = {"a": np.stack([np.arange(10.0), -np.arange(10.0)], axis=1)}
    window = sf.PanelStream(series, 4, num_targets=1).window(0)
    assert window.inputs.shape == (1, 4, 2)
    assert window.targets.shape == (1, 4, 1)
    assert window.targets[0, :, 0].tolist() == [1.0, 2.0, 3.0, 4.0]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"series": []}, "non-empty dict keyed by id or list"),
        ({"series": {"a": np.arange(5.0), "b": np.zeros(1)}}, r"series\['b'\].*at least 2 time steps"),
        ({"series": {"a": np.arange(5.0), "b": np.zeros((5, 2))}}, r"series\['b'\].*1 features"),
        ({"series": {"a": np.array([1.0, np.nan, 2.0])}}, "finite"),
        ({"series": [np.arange(3.0)], "batch_size": 4}, "at least batch_size=4 steps"),
        ({"series": [np.arange(3.0)], "num_targets": 2}, "num_targets"),
    ],
)
def test_bad_panels_are_refused(kwargs: dict[str, object], match: str) -> None:
    arguments: dict[str, object] = {"seq_length": 4, **kwargs}
    with pytest.raises((TypeError, ValueError), match=match):
        sf.PanelStream(**arguments)  # type: ignore[arg-type]


def test_a_window_past_the_epoch_is_refused() -> None:
    stream = sf.PanelStream([np.arange(9.0)], 4)
    with pytest.raises(ValueError, match="`k` must be below windows_per_epoch=2, got 2"):
        stream.window(2)


def test_resuming_on_a_panel_continues_exactly(tmp_path: Path) -> None:
    series = [np.sin(np.arange(n) / 3.0) for n in (30, 17, 24, 9)]

    def stream() -> sf.PanelStream:
        return sf.PanelStream(series, 6, batch_size=2, num_epochs=3)

    def trainer() -> sf.Trainer:
        model = sf.RecurrentForecaster(hidden_size=4, num_layers=1, cell="gru", seed=0)
        return sf.Trainer(model, sf.TrainerConfig(device="cpu", seed=0, log_every=1))

    whole = trainer()
    whole.fit(stream(), steps=12)
    first = trainer()
    first.fit(stream(), steps=5)
    first.save_checkpoint(tmp_path / "half.safetensors")
    resumed = sf.Trainer.resume(tmp_path / "half.safetensors", device="cpu")
    resumed.fit(stream(), steps=7)
    assert resumed.history.losses == whole.history.losses


@given(
    lengths=st.lists(st.integers(2, 40), min_size=1, max_size=8),
    batch_size=st.integers(1, 4),
    seq_length=st.integers(1, 6),
)
@example(lengths=[8] * 7, batch_size=4, seq_length=6)  # 3 whole windows left out, one per series
def test_aligned_windows_are_whole_and_keep_the_newest_points(
    lengths: list[int], batch_size: int, seq_length: int
) -> None:
    whole = [(n - 1) // seq_length for n in lengths]
    if sum(whole) < batch_size:
        return
    stream = sf.PanelStream(
        _series(lengths), seq_length, batch_size=batch_size, align=True, num_epochs=1, dtype=torch.float64
    )
    seen: Counter[float] = Counter()
    for window in stream:
        assert window.inputs.shape[1] == seq_length
        x, y = window.inputs[..., 0], window.targets[..., 0]
        assert torch.equal(y - x, torch.ones_like(x))
        seen.update(y.reshape(-1).tolist())
    assert all(count == 1 for count in seen.values())
    dropped = sum(whole) % batch_size  # whole windows of the longest series left out to share evenly
    assert sum(seen.values()) == (sum(whole) - dropped) * seq_length
    for i, n in enumerate(lengths):  # what is kept of a series is its newest points
        kept = sorted(v - 1000.0 * i for v in seen if 1000.0 * i <= v < 1000.0 * (i + 1))
        assert kept == list(range(n - len(kept), n))
