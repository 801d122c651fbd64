"""Streams of consecutive training windows.

A stream (:class:`Stream`) yields :class:`Window` objects from any window
on: ``inputs`` and ``targets`` of the same shape, targets one step ahead of
inputs, consecutive windows continuing each other so that a model's state
can be carried from one to the next. ``reset`` marks a window (or, as a
bool tensor, the lanes of one) that does not continue the previous one (the
first of a stream, an epoch or a series): the trainer starts it from a
fresh state.
"""

from __future__ import annotations

import bisect
import copy
import dataclasses
import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import torch
from torch import Tensor

from seqforecast._checks import check_bool, check_float, check_int, describe, resolve_device
from seqforecast.series import series_tensor

__all__ = ["ArrayStream", "SineStream", "Stream", "Window"]

_FIRST_CHUNK = 8  # windows SineStream generates at once at first; doubling up to _CHUNK
_CHUNK = 256


@dataclasses.dataclass(frozen=True)
class Window:
    """One training window.

    Attributes:
        inputs: Shape ``(batch, time, features)`` (``(time, batch,
            features)`` when the stream is not batch-first).
        targets: Same shape; ``targets[..., t, :]`` is the value after
            ``inputs[..., t, :]``.
        reset: ``True`` when this window does not continue the previous one,
            so the carried state must start afresh; or a bool tensor of
            shape ``(batch,)`` marking the lanes that start afresh while the
            others carry their state on (a new series begins in those lanes).

    Example:
        >>> import torch, seqforecast as sf
        >>> window = sf.SineStream(seq_length=4).window(0)
        >>> window.inputs.shape, window.targets.shape, window.reset
        (torch.Size([1, 4, 1]), torch.Size([1, 4, 1]), True)
        >>> torch.equal(window.inputs[:, 1:], window.targets[:, :-1])  # targets: one step ahead
        True
    """

    inputs: Tensor
    targets: Tensor
    reset: bool | Tensor

    def __post_init__(self) -> None:
        inputs: object = self.inputs
        targets: object = self.targets
        if not isinstance(inputs, Tensor) or not isinstance(targets, Tensor):
            msg = f"`inputs` and `targets` must be tensors, got {describe(inputs)} and {describe(targets)}"
            raise TypeError(msg)
        reset: object = self.reset
        if isinstance(reset, Tensor):
            if reset.dtype != torch.bool or reset.dim() != 1:
                msg = f"`reset` must be a bool or a bool tensor of shape (batch,), got {describe(reset)}"
                raise TypeError(msg)
        elif isinstance(reset, (bool, np.bool_)):
            object.__setattr__(self, "reset", bool(reset))
        else:
            msg = f"`reset` must be a bool or a bool tensor of shape (batch,), got {describe(reset)}"
            raise TypeError(msg)


@runtime_checkable
class Stream(Protocol):
    """What :meth:`Trainer.fit <seqforecast.Trainer.fit>` relies on: consecutive windows, seekable.

    :class:`SineStream` and :class:`ArrayStream` are streams; so is any class
    with these members. Windows are numbered from 0 across epochs;
    :meth:`windows` starts at any of them at once (no walk over the earlier
    ones), which is how a resumed run continues exactly where it stopped.

    Attributes:
        batch_first: Layout of the windows: ``(batch, time, features)`` if
            True, ``(time, batch, features)`` if False.
        batch_size: Lanes (series walked side by side) in each window.
        num_features: Features of each time step.

    Example:
        >>> import seqforecast as sf
        >>> isinstance(sf.SineStream(), sf.Stream)
        True
        >>> isinstance([sf.SineStream().window(0)], sf.Stream)  # a list of windows is not seekable
        False
    """

    batch_first: bool
    batch_size: int
    num_features: int

    @property
    def total_windows(self) -> int | None:
        """Windows the stream yields before it ends (``None``: it never ends)."""
        ...

    @property
    def windows_per_epoch(self) -> int | None:
        """Windows in one pass over the data (``None``: no epochs)."""
        ...

    def windows(self, start: int = 0) -> Iterator[Window]:
        """Iterate over windows ``start, start + 1, ...``, starting at once."""
        ...

    def shard(self, rank: int, world_size: int) -> Stream:
        """The lanes of process ``rank`` out of ``world_size`` (for distributed training)."""
        ...

    def __iter__(self) -> Iterator[Window]:
        """Iterate over all windows from the first."""
        ...


def _check_dtype(dtype: object) -> torch.dtype:
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        msg = f"`dtype` must be a floating torch.dtype such as torch.float32, got {describe(dtype)}"
        raise TypeError(msg)
    return dtype


class SineStream:
    """Consecutive windows of a sine wave, as in the teaching notebook.

    Window ``k`` covers the angles ``start + k*seq_length*step`` to ``start +
    (k+1)*seq_length*step`` degrees as ``seq_length + 1`` points; its inputs
    are the first ``seq_length`` values, its targets the last ``seq_length``.
    The defaults reproduce the notebook: window ``k`` is ``sin`` of 19 points
    evenly spaced over ``[k*180, (k+1)*180]`` degrees, shape ``(1, 18, 1)``.
    Lane ``i`` of a batch is the same wave shifted by ``phase_degrees[i]``
    (default ``i * 360 / batch_size``). Values are ``amplitude *
    sin(2π * angle / period_degrees)`` plus, with ``noise_std``, Gaussian
    noise that is a fixed function of ``seed`` and the point's position, so
    :meth:`window` is deterministic and consecutive windows agree on the
    point they share.

    Args:
        seq_length: Time steps per window.
        step_degrees: Spacing of consecutive points, in degrees.
        batch_size: Number of phase-shifted lanes.
        phase_degrees: Phase of each lane (``batch_size`` numbers), or None.
        amplitude: Amplitude of the wave.
        period_degrees: Period of the wave, in degrees.
        noise_std: Standard deviation of additive Gaussian noise.
        start_degrees: Angle of the first point of window 0.
        num_windows: Windows per pass (``None``: endless).
        batch_first: ``(batch, time, 1)`` if True else ``(time, batch, 1)``.
        dtype: Floating dtype of the windows.
        device: Device the windows are built on.
        seed: Seed of the noise. When None, it follows ``torch.manual_seed``
            (``torch.initial_seed()``); pass it to rebuild the same noisy
            stream in another process (for an exact resume).

    Example:
        >>> import seqforecast as sf
        >>> stream = sf.SineStream(num_windows=3)
        >>> [tuple(w.inputs.shape) for w in stream]
        [(1, 18, 1), (1, 18, 1), (1, 18, 1)]
        >>> round(stream.window(0).targets[0, -1, 0].item(), 6)  # sin(180°)
        -0.0
    """

    def __init__(
        self,
        seq_length: int = 18,
        *,
        step_degrees: float = 10.0,
        batch_size: int = 1,
        phase_degrees: Sequence[float] | None = None,
        amplitude: float = 1.0,
        period_degrees: float = 360.0,
        noise_std: float = 0.0,
        start_degrees: float = 0.0,
        num_windows: int | None = None,
        batch_first: bool = True,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
        seed: int | None = None,
    ) -> None:
        self.seq_length = check_int("seq_length", seq_length)
        self.step_degrees = check_float("step_degrees", step_degrees, low=0.0, low_inclusive=False)
        self.batch_size = check_int("batch_size", batch_size)
        self.amplitude = check_float("amplitude", amplitude)
        self.period_degrees = check_float("period_degrees", period_degrees, low=0.0, low_inclusive=False)
        self.noise_std = check_float("noise_std", noise_std, low=0.0)
        self.start_degrees = check_float("start_degrees", start_degrees)
        self.num_windows = None if num_windows is None else check_int("num_windows", num_windows)
        self.batch_first = check_bool("batch_first", batch_first)
        self.dtype = _check_dtype(dtype)
        self.device = resolve_device(device)
        if phase_degrees is None:
            phases = [i * 360.0 / self.batch_size for i in range(self.batch_size)]
        else:
            phases = [check_float(f"phase_degrees[{i}]", p) for i, p in enumerate(phase_degrees)]
            if len(phases) != self.batch_size:
                msg = f"`phase_degrees` must have batch_size={self.batch_size} entries, got {len(phases)}"
                raise ValueError(msg)
        self.phase_degrees = tuple(phases)
        if seed is None:  # follow torch.manual_seed without drawing from (and shifting) torch's generator
            seed = torch.initial_seed() % (2**31 - 1)
        self.seed = check_int("seed", seed, minimum=0)
        self.num_features = 1
        self._phases = torch.tensor(phases, dtype=torch.float64, device=self.device)
        self._noise_lanes = slice(0, self.batch_size)  # which lanes of the seeded noise this stream uses
        self._noise_total = self.batch_size  # lanes the seeded noise is drawn for

    @property
    def windows_per_epoch(self) -> int | None:
        """Windows in one pass over the stream (``None`` when endless)."""
        return self.num_windows

    @property
    def total_windows(self) -> int | None:
        """Windows the stream yields before it ends (``None``: it never ends)."""
        return self.num_windows

    def _block_noise(self, block: int) -> Tensor:
        """Noise of points ``block*L .. block*L + L - 1`` of every lane, ``(B, L)``."""
        state = np.random.SeedSequence([self.seed, block]).generate_state(1)[0]
        generator = torch.Generator().manual_seed(int(state))
        noise = torch.randn(self._noise_total, self.seq_length, generator=generator, dtype=torch.float64)
        return noise[self._noise_lanes]

    def _chunk(self, first: int, count: int) -> Tensor:
        """Values of windows ``first .. first + count - 1``: ``(count, B, L + 1)``."""
        length = self.seq_length
        offsets = torch.arange(length + 1, dtype=torch.float64, device=self.device)
        starts = torch.arange(first, first + count, dtype=torch.float64, device=self.device) * length
        points = starts[:, None, None] + offsets  # (count, 1, L + 1), point index along a lane
        angles = self.start_degrees + self._phases[:, None] + points * self.step_degrees  # (count, B, L + 1)
        values = self.amplitude * torch.sin(angles * (2 * math.pi / self.period_degrees))
        if self.noise_std:
            blocks = torch.cat([self._block_noise(b) for b in range(first, first + count + 1)], dim=1)
            index = torch.arange(count)[:, None] * length + torch.arange(length + 1)  # (count, L + 1)
            noise = blocks[:, index].transpose(0, 1)  # (count, B, L + 1)
            values = values + self.noise_std * noise.to(self.device)
        return values.to(self.dtype)

    def _windows_of(self, first: int, count: int) -> tuple[Tensor, Tensor]:
        """Inputs and targets of windows ``first ..``: ``(count, B, L, 1)`` (or ``(count, L, B, 1)``).

        Each window's slice is contiguous: recurrent kernels run markedly
        slower on strided input (about 14% per training step at batch 64).
        """
        values = self._chunk(first, count).unsqueeze(-1)  # (count, B, L + 1, 1)
        if not self.batch_first:
            values = values.transpose(1, 2)  # (count, L + 1, B, 1)
            return values[:, :-1].contiguous(), values[:, 1:].contiguous()
        return values[:, :, :-1].contiguous(), values[:, :, 1:].contiguous()

    def window(self, k: int) -> Window:
        """Return window ``k`` directly (``reset`` is True only for ``k == 0``).

        Example:
            >>> import seqforecast as sf
            >>> sf.SineStream(batch_first=False, batch_size=4).window(7).inputs.shape
            torch.Size([18, 4, 1])
        """
        check_int("k", k, minimum=0)
        inputs, targets = self._windows_of(k, 1)
        return Window(inputs[0], targets[0], reset=k == 0)

    def windows(self, start: int = 0) -> Iterator[Window]:
        """Iterate over windows ``start, start + 1, ...`` (up to ``num_windows``)."""
        check_int("start", start, minimum=0)
        stop = self.num_windows
        k = start
        size = _FIRST_CHUNK  # small at first, so that a short fit() does not build windows it never uses
        while stop is None or k < stop:
            count = size if stop is None else min(size, stop - k)
            inputs, targets = self._windows_of(k, count)
            for i, (x, y) in enumerate(zip(inputs.unbind(0), targets.unbind(0), strict=True)):
                yield Window(x, y, reset=k + i == 0)
            k += count
            size = min(2 * size, _CHUNK)

    def __iter__(self) -> Iterator[Window]:
        return self.windows()

    def shard(self, rank: int, world_size: int) -> SineStream:
        """The lanes of process ``rank`` out of ``world_size``, for distributed training.

        Lane ``i`` of a shard is lane ``rank * batch_size // world_size + i``
        of this stream, noise included, so the shards together are exactly
        this stream.

        Example:
            >>> import seqforecast as sf
            >>> stream = sf.SineStream(batch_size=4)
            >>> stream.shard(1, 2).phase_degrees
            (180.0, 270.0)
        """
        start, stop = _shard_bounds(self.batch_size, rank, world_size)
        part = copy.copy(self)
        part.batch_size = stop - start
        part.phase_degrees = self.phase_degrees[start:stop]
        part._phases = self._phases[start:stop]
        offset = self._noise_lanes.start
        part._noise_lanes = slice(offset + start, offset + stop)
        return part

    def __repr__(self) -> str:
        return (
            f"SineStream(seq_length={self.seq_length}, step_degrees={self.step_degrees}, "
            f"batch_size={self.batch_size}, num_windows={self.num_windows})"
        )


def _shard_bounds(batch_size: int, rank: int, world_size: int) -> tuple[int, int]:
    """Lanes ``[start, stop)`` of ``rank``: an equal share of ``batch_size``."""
    world_size = check_int("world_size", world_size)
    rank = check_int("rank", rank, minimum=0)
    if rank >= world_size:
        msg = f"`rank` must be below world_size={world_size}, got {rank}"
        raise ValueError(msg)
    if batch_size % world_size:
        msg = f"`batch_size` ({batch_size}) must be divisible by the number of processes ({world_size}) to share lanes"
        raise ValueError(msg)
    share = batch_size // world_size
    return rank * share, (rank + 1) * share


def _split_series(series: object) -> list[object]:
    """A sequence of arrays is several series; anything else (NumPy scalars included) is one."""
    if (
        isinstance(series, (list, tuple))
        and series
        and all((isinstance(s, (Tensor, np.ndarray)) or hasattr(s, "__array__")) and np.ndim(s) >= 1 for s in series)
    ):
        return list(series)
    return [series]


class ArrayStream:
    """Consecutive windows over your own series, for stateful training.

    Each series of shape ``(time,)`` or ``(time, features)`` is cut into
    ``batch_size`` contiguous lanes of ``time // batch_size`` points (the last
    ``time % batch_size`` points, fewer than ``batch_size``, are not used), as
    in language-model batching; the lanes are walked together in windows of
    ``seq_length`` steps whose targets are the inputs shifted by one. The
    last window of a lane is shorter when the lane does not divide evenly,
    so every point of a lane but its first is a target exactly once per
    epoch. ``reset`` is True on the first window of each series in each
    epoch. Several series (a list of arrays) are visited one after the other.

    Accepts NumPy arrays, torch tensors, nested lists and anything with
    ``__array__`` (a pandas column) without importing pandas. A list of
    arrays is several series; a nested list of numbers is one.

    Args:
        series: The data, see above; floating or integer values (converted to ``dtype``), no NaN or inf.
        seq_length: Time steps per window.
        batch_size: Number of lanes each series is cut into.
        batch_first: ``(batch, time, features)`` if True else
            ``(time, batch, features)``.
        num_epochs: Passes over the data (``None``: endless).
        dtype: Floating dtype of the windows.
        device: Device the data is stored and windows are built on.

    Example:
        >>> import numpy as np, seqforecast as sf
        >>> stream = sf.ArrayStream(np.arange(101.0), seq_length=10, batch_size=2, num_epochs=1)
        >>> [(tuple(w.inputs.shape), w.reset) for w in stream][:2]
        [((2, 10, 1), True), ((2, 10, 1), False)]
        >>> stream.windows_per_epoch
        5
    """

    def __init__(
        self,
        series: object,
        seq_length: int,
        *,
        batch_size: int = 1,
        batch_first: bool = True,
        num_epochs: int | None = None,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ) -> None:
        self.seq_length = check_int("seq_length", seq_length)
        self.batch_size = check_int("batch_size", batch_size)
        self.num_epochs = None if num_epochs is None else check_int("num_epochs", num_epochs)
        self.batch_first = check_bool("batch_first", batch_first)
        self.dtype = _check_dtype(dtype)
        self.device = resolve_device(device)
        parts = _split_series(series)
        self._lanes: list[Tensor] = []
        features: int | None = None
        for i, part in enumerate(parts):
            name = "series" if len(parts) == 1 else f"series[{i}]"
            tensor = series_tensor(name, part, dtype=self.dtype, device=self.device)
            if features is not None and tensor.shape[1] != features:
                msg = f"`{name}` must have {features} features like series[0], got shape {tuple(tensor.shape)}"
                raise ValueError(msg)
            features = tensor.shape[1]
            lane_length = tensor.shape[0] // self.batch_size
            if lane_length < self.seq_length + 1:
                msg = (
                    f"`{name}` must have at least batch_size * (seq_length + 1) = "
                    f"{self.batch_size * (self.seq_length + 1)} time steps, got {tensor.shape[0]}"
                )
                raise ValueError(msg)
            used = tensor[: lane_length * self.batch_size]
            self._lanes.append(used.reshape(self.batch_size, lane_length, features))  # (B, lane, F)
        self.num_features = int(features or 1)
        self._per_series = [math.ceil((lanes.shape[1] - 1) / self.seq_length) for lanes in self._lanes]
        self._series_starts = [0, *itertools.accumulate(self._per_series)][:-1]  # first window of each series

    @property
    def windows_per_epoch(self) -> int:
        """Windows in one pass over all series."""
        return sum(self._per_series)

    @property
    def total_windows(self) -> int | None:
        """Windows the stream yields before it ends (``None`` when ``num_epochs`` is None)."""
        return None if self.num_epochs is None else self.num_epochs * self.windows_per_epoch

    def _window(self, series_index: int, window_index: int) -> Window:
        lanes = self._lanes[series_index]
        begin = window_index * self.seq_length
        end = min(begin + self.seq_length, lanes.shape[1] - 1)
        inputs, targets = lanes[:, begin:end], lanes[:, begin + 1 : end + 1]  # (B, T, F)
        if not self.batch_first:
            inputs, targets = inputs.transpose(0, 1), targets.transpose(0, 1)
        # contiguous copies: recurrent kernels run markedly slower on strided input
        return Window(inputs.contiguous(), targets.contiguous(), reset=window_index == 0)

    def windows(self, start: int = 0) -> Iterator[Window]:
        """Iterate from global window ``start`` (counting across epochs)."""
        check_int("start", start, minimum=0)
        per_epoch = self.windows_per_epoch
        epoch, within = divmod(start, per_epoch)  # seek at once: no walk over the earlier windows
        series_index = bisect.bisect_right(self._series_starts, within) - 1
        window_index = within - self._series_starts[series_index]
        while self.num_epochs is None or epoch < self.num_epochs:
            for index in range(series_index, len(self._per_series)):
                for k in range(window_index, self._per_series[index]):
                    yield self._window(index, k)
                window_index = 0
            series_index, epoch = 0, epoch + 1

    def __iter__(self) -> Iterator[Window]:
        return self.windows()

    def shard(self, rank: int, world_size: int) -> ArrayStream:
        """The lanes of process ``rank`` out of ``world_size``, for distributed training.

        Example:
            >>> import numpy as np, seqforecast as sf
            >>> stream = sf.ArrayStream(np.arange(40.0), seq_length=4, batch_size=4)
            >>> next(iter(stream.shard(1, 2))).inputs[:, 0, 0]
            tensor([20., 30.])
        """
        start, stop = _shard_bounds(self.batch_size, rank, world_size)
        part = copy.copy(self)
        part.batch_size = stop - start
        part._lanes = [lanes[start:stop] for lanes in self._lanes]
        return part

    def __repr__(self) -> str:
        return (
            f"ArrayStream(series={len(self._lanes)}, seq_length={self.seq_length}, "
            f"batch_size={self.batch_size}, num_epochs={self.num_epochs})"
        )
