"""Many series of different lengths packed into the lanes of one stream.

A :class:`PanelStream` gives each lane of a batch a queue of series to walk
one after another. Whole series go to the least loaded lane, longest first;
then, so that every lane has exactly as many steps as the others (a batch
has one time length), the tails of the longest lanes move to the shortest
as separate *segments*. A lane starts afresh (a per-lane ``reset``) at the
start of every segment, so no window ever mixes two series, and the windows
are cut wherever a segment of any lane begins, so a lane never waits.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import Tensor

from seqforecast._checks import check_bool, check_int, resolve_device
from seqforecast._panel_rows import as_list
from seqforecast.data import Window, _check_dtype, _shard_bounds
from seqforecast.series import series_tensor

__all__ = ["PanelStream", "Segment"]


@dataclasses.dataclass(frozen=True)
class Segment:
    """A stretch of one series walked by one lane, from a fresh state.

    Attributes:
        series: Index of the series (in the order given).
        first: Index of the segment's first point (an input only).
        steps: Number of steps: inputs are points ``first .. first + steps - 1``,
            targets points ``first + 1 .. first + steps``.
        lane: The lane that walks it.
        offset: The step of the lane's timeline at which it starts.
    """

    series: int
    first: int
    steps: int
    lane: int
    offset: int


def _pack(steps: Sequence[int], batch_size: int) -> tuple[list[list[tuple[int, int, int]]], int]:
    """Segments ``(series, first, steps)`` of each lane, every lane with the same number of steps.

    Whole series go to the least loaded lane, longest first; the
    ``total % batch_size`` oldest steps are left out so that the steps
    divide evenly (taken from the longest series, and from the next longest
    when it has fewer: never more than a series has); then the tails of
    lanes above the share move to lanes below it.
    """
    total = sum(steps)
    share = total // batch_size
    drop = total - share * batch_size
    firsts = [0] * len(steps)
    counts = list(steps)
    for index in sorted(range(len(steps)), key=lambda i: (-steps[i], i)):  # longest first
        if drop == 0:
            break
        take = min(drop, counts[index])
        firsts[index] += take
        counts[index] -= take
        drop -= take
    order = sorted(range(len(steps)), key=lambda i: (-counts[i], i))
    lanes: list[list[tuple[int, int, int]]] = [[] for _ in range(batch_size)]
    loads = [0] * batch_size
    for index in order:
        if counts[index] == 0:
            continue
        lane = min(range(batch_size), key=lambda j: (loads[j], j))
        lanes[lane].append((index, firsts[index], counts[index]))
        loads[lane] += counts[index]
    spare: list[tuple[int, int, int]] = []  # tails cut from lanes above the share
    for lane, segments in enumerate(lanes):
        while loads[lane] > share:
            series, first, count = segments.pop()
            excess = loads[lane] - share
            if count > excess:
                segments.append((series, first, count - excess))
                spare.append((series, first + count - excess, excess))
                loads[lane] = share
            else:
                spare.append((series, first, count))
                loads[lane] -= count
    spare.reverse()  # oldest first, so that a tail cut in two keeps its order
    for lane, segments in enumerate(lanes):
        while loads[lane] < share:
            series, first, count = spare.pop()
            take = min(count, share - loads[lane])
            segments.append((series, first, take))
            loads[lane] += take
            if take < count:
                spare.append((series, first + take, count - take))
    return lanes, share


class PanelStream:
    """Windows over many series of different lengths, each lane walking series one after another.

    Each series (a list, or a dict keyed by id) is ``(time,)`` or ``(time,
    features)``; its steps (point ``t`` as input, point ``t + 1`` as target)
    are given to the ``batch_size`` lanes so that each lane has the same
    number: whole series to the least loaded lane, longest first, then the
    tails of the fullest lanes to the emptiest as separate segments (see
    ``segments``). Within an epoch every point of every series but its
    first is a target exactly once, except that when the total number of
    steps does not divide by ``batch_size`` the oldest ``total %
    batch_size`` steps are left out: those of the longest series (then of
    the next longest, when it has fewer steps than that). A window is
    never longer than ``seq_length``; it ends where a segment of any lane
    ends, so no window mixes two series. ``reset`` is a bool tensor of shape
    ``(batch,)``, True in the lanes whose segment starts with the window.
    Series of equal length in as many lanes line up: the windows are those
    of one :class:`~seqforecast.ArrayStream` lane per series. Series of
    equal length line up in fewer lanes too (1,000 series of 500 points in
    50 lanes: windows of 50 steps, as on one long series); series of mixed
    lengths end at different steps in different lanes and cut the windows
    shorter (lengths from 100 to 900 in 50 lanes: 19 steps on average for
    ``seq_length=50``), which costs speed, not correctness; ``align=True``
    keeps every window ``seq_length`` steps long by leaving out the oldest
    steps of each series that do not fill a whole window.

    With ``num_targets`` the targets are the first ``num_targets`` features
    only (the others are covariates: inputs the model does not forecast).

    Attributes:
        ids: The id of each series (dict keys, or ``"0"``, ``"1"``, ... for a list).
        segments: Every :class:`Segment` of every lane, in the order walked.

    Args:
        series: A list or dict of arrays ``(time,)`` or ``(time, features)``,
            all with the same number of features and at least two points.
        seq_length: Longest window, in time steps.
        batch_size: Number of lanes.
        num_targets: Leading features that are targets (default: all).
        batch_first: ``(batch, time, features)`` if True else ``(time, batch, features)``.
        num_epochs: Passes over the data (``None``: endless).
        align: Walk whole windows of ``seq_length`` steps only: the oldest
            ``(time - 1) % seq_length`` steps of each series are left out
            (a series shorter than a window entirely), so that every window
            is ``seq_length`` steps long whatever the lengths of the series.
        dtype: Floating dtype of the windows.
        device: Device the data is stored and windows are built on.

    Raises:
        TypeError: ``series`` is not a list or dict of arrays.
        ValueError: A series with fewer than two points, NaN or a different
            number of features, or fewer steps than lanes.

    Example:
        >>> import numpy as np, seqforecast as sf
        >>> stream = sf.PanelStream({"a": np.arange(9.0), "b": np.arange(5.0)}, seq_length=4, batch_size=2, num_epochs=1)
        >>> [(w.inputs.shape[1], w.reset.tolist()) for w in stream]  # series "b" ends after 4 steps
        [(4, [True, True]), (2, [False, True])]
        >>> [(s.series, s.first, s.steps, s.lane) for s in stream.segments]  # the last 2 steps of "a" go to lane 1
        [(0, 0, 6, 0), (1, 0, 4, 1), (0, 6, 2, 1)]
    """

    def __init__(
        self,
        series: object,
        seq_length: int,
        *,
        batch_size: int = 1,
        num_targets: int | None = None,
        batch_first: bool = True,
        num_epochs: int | None = None,
        align: bool = False,
        dtype: torch.dtype = torch.float32,
        device: torch.device | str = "cpu",
    ) -> None:
        self.seq_length = check_int("seq_length", seq_length)
        self.align = check_bool("align", align)
        self.batch_size = check_int("batch_size", batch_size)
        self.num_epochs = None if num_epochs is None else check_int("num_epochs", num_epochs)
        self.batch_first = check_bool("batch_first", batch_first)
        self.dtype = _check_dtype(dtype)
        self.device = resolve_device(device)
        self.ids, parts = as_list(series)
        tensors: list[Tensor] = []
        for key, part in zip(self.ids, parts, strict=True):
            name = f"series[{key!r}]"
            tensor = series_tensor(name, part, dtype=self.dtype, device=self.device)
            if tensors and tensor.shape[1] != tensors[0].shape[1]:
                msg = f"`{name}` must have {tensors[0].shape[1]} features like the first series, got shape {tuple(tensor.shape)}"
                raise ValueError(msg)
            if tensor.shape[0] < 2:
                msg = f"`{name}` must have at least 2 time steps (an input and its target), got {tensor.shape[0]}"
                raise ValueError(msg)
            tensors.append(tensor)
        self.num_features = int(tensors[0].shape[1])
        self.num_targets = self.num_features if num_targets is None else check_int("num_targets", num_targets)
        if self.num_targets > self.num_features:
            msg = f"`num_targets` must be at most the number of features ({self.num_features}), got {self.num_targets}"
            raise ValueError(msg)
        unit = self.seq_length if self.align else 1  # aligned: whole windows only
        units = [(int(t.shape[0]) - 1) // unit for t in tensors]
        skips = [int(t.shape[0]) - 1 - u * unit for t, u in zip(tensors, units, strict=True)]  # oldest steps left out
        if sum(units) < self.batch_size:
            what = f"whole windows of seq_length={unit} steps" if self.align else "steps"
            msg = f"`series` must have at least batch_size={self.batch_size} {what} in all, got {sum(units)}"
            raise ValueError(msg)
        packed, share = _pack(units, self.batch_size)
        lanes = [[(i, skips[i] + first * unit, count * unit) for i, first, count in lane] for lane in packed]
        share *= unit
        starts = np.cumsum([0, *(int(t.shape[0]) for t in tensors)])[:-1]  # first row of each series
        self._data = torch.cat(tensors)  # (sum of lengths, F)
        index = np.empty((self.batch_size, share), dtype=np.int64)  # row of each lane's input at each step
        cuts = {0, share}
        segments: list[Segment] = []
        for lane, parts_of_lane in enumerate(lanes):
            offset = 0
            for series_index, first, count in parts_of_lane:
                row = starts[series_index] + first
                index[lane, offset : offset + count] = np.arange(row, row + count)
                segments.append(Segment(series_index, first, count, lane, offset))
                cuts.add(offset)
                offset += count
        self.segments = tuple(sorted(segments, key=lambda s: (s.offset, s.lane)))
        bounds = sorted(cuts)
        windows = [
            (begin, min(begin + self.seq_length, stop))
            for start, stop in itertools.pairwise(bounds)
            for begin in range(start, stop, self.seq_length)
        ]
        self._spans = windows
        begins = {(s.lane, s.offset) for s in segments}
        self._resets = torch.tensor(
            [[(lane, begin) in begins for lane in range(self.batch_size)] for begin, _ in windows],
            dtype=torch.bool,
            device=self.device,
        )  # (windows, B)
        self._index = torch.from_numpy(index).to(self.device)  # (B, share)

    @property
    def windows_per_epoch(self) -> int:
        """Windows in one pass over all series."""
        return len(self._spans)

    @property
    def total_windows(self) -> int | None:
        """Windows the stream yields before it ends (``None`` when ``num_epochs`` is None)."""
        return None if self.num_epochs is None else self.num_epochs * self.windows_per_epoch

    def window(self, k: int) -> Window:
        """Window ``k`` of an epoch (``0 <= k < windows_per_epoch``).

        Example:
            >>> import numpy as np, seqforecast as sf
            >>> stream = sf.PanelStream([np.arange(6.0), 10 + np.arange(6.0)], seq_length=3, batch_size=2)
            >>> stream.window(1).inputs[:, :, 0]
            tensor([[ 3.,  4.],
                    [13., 14.]])
        """
        k = check_int("k", k, minimum=0)
        if k >= len(self._spans):
            msg = (
                f"`k` must be below windows_per_epoch={len(self._spans)}, got {k}; windows(start) counts across epochs"
            )
            raise ValueError(msg)
        begin, end = self._spans[k]
        rows = self._index[:, begin:end]  # (B, T)
        inputs = self._data[rows]  # (B, T, F)
        targets = self._data[rows + 1, : self.num_targets]  # (B, T, num_targets)
        if not self.batch_first:
            inputs, targets = inputs.transpose(0, 1), targets.transpose(0, 1)
        return Window(inputs.contiguous(), targets.contiguous(), reset=self._resets[k])

    def windows(self, start: int = 0) -> Iterator[Window]:
        """Iterate from global window ``start`` (counting across epochs), starting at once."""
        check_int("start", start, minimum=0)
        per_epoch = self.windows_per_epoch
        epoch, within = divmod(start, per_epoch)
        while self.num_epochs is None or epoch < self.num_epochs:
            for k in range(within, per_epoch):
                yield self.window(k)
            within, epoch = 0, epoch + 1

    def __iter__(self) -> Iterator[Window]:
        return self.windows()

    def shard(self, rank: int, world_size: int) -> PanelStream:
        """The lanes of process ``rank`` out of ``world_size``, for distributed training.

        Every shard has the same windows (the same time lengths), so the
        processes step together.

        Example:
            >>> import numpy as np, seqforecast as sf
            >>> stream = sf.PanelStream([np.arange(5.0)] * 4, seq_length=4, batch_size=4)
            >>> stream.shard(1, 2).window(0).inputs.shape
            torch.Size([2, 4, 1])
        """
        start, stop = _shard_bounds(self.batch_size, rank, world_size)
        part = copy.copy(self)
        part.batch_size = stop - start
        part._index = self._index[start:stop]
        part._resets = self._resets[:, start:stop]
        part.segments = tuple(
            dataclasses.replace(s, lane=s.lane - start) for s in self.segments if start <= s.lane < stop
        )
        return part

    def __repr__(self) -> str:
        return (
            f"PanelStream(series={len(self.ids)}, seq_length={self.seq_length}, "
            f"batch_size={self.batch_size}, num_epochs={self.num_epochs})"
        )
