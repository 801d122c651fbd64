"""Where a run is in its stream: which stream, the next window, how many windows a ``fit`` takes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

from seqforecast._checks import check_int, describe
from seqforecast.base import Forecaster
from seqforecast.data import Stream, Window
from seqforecast.training.distributed import Distribution

__all__ = ["Plan", "StreamCursor", "check_stream", "stream_signature"]


def check_stream(name: str, stream: object, model: Forecaster) -> Stream:
    """Return ``stream`` if it is a :class:`~seqforecast.Stream` whose windows fit ``model``.

    Raises:
        TypeError: ``stream`` is not a stream of windows.
        ValueError: Its layout or feature count differs from the model's.
    """
    if not isinstance(stream, Stream):
        msg = (
            f"`{name}` must be a Stream of windows (SineStream, ArrayStream, or a class with batch_first, "
            f"batch_size, num_features, total_windows, windows_per_epoch, windows(start), shard), "
            f"got {describe(stream)}"
        )
        raise TypeError(msg)
    if stream.batch_first != model.batch_first:
        layout = "(batch, time, features)" if stream.batch_first else "(time, batch, features)"
        msg = (
            f"`{name}` has batch_first={stream.batch_first} (windows {layout}) but the model has "
            f"batch_first={model.batch_first}: build both with the same layout"
        )
        raise ValueError(msg)
    if stream.num_features != model.input_size:
        msg = (
            f"`{name}` has {stream.num_features} feature(s) per step but the model's input_size is "
            f"{model.input_size}: build the model with input_size={stream.num_features}"
        )
        raise ValueError(msg)
    return stream


class StreamCursor:
    """The stream a run trains on and the index of its next window.

    ``fit`` on the stream it used last continues at the next window (with
    the carried state); on another stream it starts at window 0. A
    finite stream that was used up starts a new pass. After a resume the
    next stream given is taken to be the saved run's, at the saved position.

    Args:
        distribution: Gives this process its lanes of each stream.
    """

    def __init__(self, distribution: Distribution) -> None:
        self.distribution = distribution
        self.position = 0
        self._resumed: dict[str, object] | None = None  # the saved run's stream, until a fit continues it
        self._stream: Stream | None = None
        self._lanes: Stream | None = None  # this process's lanes of _stream

    def plan(self, stream: Stream, steps: int | None, epochs: int | None) -> Plan:
        """Choose where a ``fit`` on ``stream`` starts and how many windows it takes; change nothing yet.

        Raises:
            ValueError: Bad ``steps``/``epochs``, an endless stream without
                either, more windows asked for than the stream has left, or
                (after a resume) a stream unlike the saved run's.
        """
        if self._resumed is not None:
            _check_same_stream(self._resumed, stream, self.position)
        continues = self._resumed is not None or stream is self._stream
        position = self.position if continues else 0
        total = stream.total_windows
        if total is not None and position >= total:
            position, continues = 0, False  # used up: a new pass
        count = _requested(stream, steps, epochs)
        left = None if total is None else total - position
        if left is not None and count is not None and count > left:
            asked = f"steps={steps}" if steps is not None else f"epochs={epochs} ({count} windows)"
            msg = (
                f"`stream` has {left} window(s) left (total_windows={total}, {position} used) but {asked}: "
                f"ask for fewer, or build the stream with more epochs (e.g. num_epochs=None for endless)"
            )
            raise ValueError(msg)
        if count is None:  # to the end of a finite stream (an endless one needs steps or epochs)
            count = left if left is not None else 0
        lanes = self._lanes if stream is self._stream and self._lanes is not None else self.distribution.shard(stream)
        return Plan(stream, lanes, position, count, continues)

    def begin(self, plan: Plan) -> Iterator[Window]:
        """Start ``plan`` (made by :meth:`plan`): its ``count`` windows of this process's lanes.

        A stream that ends before them, or yields something other than a
        :class:`~seqforecast.Window`, is an error.
        """
        self._stream, self._lanes, self.position, self._resumed = plan.stream, plan.lanes, plan.start, None
        return self._windows(plan.lanes, plan.start, plan.count)

    @staticmethod
    def _windows(lanes: Stream, start: int, count: int) -> Iterator[Window]:
        if count == 0:
            return
        given = 0
        for window in lanes.windows(start):
            item: object = window  # what the stream gave, whatever its annotation says
            if not isinstance(item, Window):
                msg = f"`stream` must yield seqforecast.Window objects, got {describe(item)} at window {start + given}"
                raise TypeError(msg)
            given += 1
            yield item
            if given == count:
                return
        msg = f"`stream` ended after {given} window(s) from window {start} although {count} were due"
        raise ValueError(msg)

    def advance(self) -> None:
        """One window was trained on."""
        self.position += 1

    def signature(self) -> dict[str, object]:
        """What a resumed run checks the stream it is given against (the stream in use, or the saved one)."""
        if self._resumed is not None:
            return dict(self._resumed)
        return {} if self._stream is None else stream_signature(self._stream)

    def restore(self, position: object, signature: object) -> None:
        """Continue a saved run: the next stream given, checked against ``signature``, starts at ``position``."""
        self.position = check_int("stream_position", position, minimum=0)
        if not isinstance(signature, dict):
            msg = f"`stream` must be a dict describing the saved run's stream, got {describe(signature)}"
            raise TypeError(msg)
        self._resumed = dict(signature)


@dataclasses.dataclass(frozen=True)
class Plan:
    """Where a ``fit`` starts: the stream, this process's lanes of it, the first window, how many, and
    whether the first continues the carried state."""

    stream: Stream
    lanes: Stream
    start: int
    count: int
    continues: bool


_SIGNATURE = ("batch_first", "batch_size", "num_features", "total_windows", "windows_per_epoch")


def stream_signature(stream: Stream) -> dict[str, object]:
    """The properties of ``stream`` a resumed run must find again."""
    return {
        "batch_first": stream.batch_first,
        "batch_size": stream.batch_size,
        "num_features": stream.num_features,
        "total_windows": stream.total_windows,
        "windows_per_epoch": stream.windows_per_epoch,
    }


def _check_same_stream(saved: dict[str, object], stream: Stream, position: int) -> None:
    """A resumed run's stream must be built like the saved one, and not end before the saved position."""
    given = stream_signature(stream)
    differences = [
        f"{name}={given[name]!r} (saved: {saved[name]!r})"
        for name in _SIGNATURE
        if name in saved and saved[name] != given[name]
    ]
    if differences:
        msg = f"`stream` is not built like the saved run's stream: {', '.join(differences)}; rebuild it the same way"
        raise ValueError(msg)
    total = stream.total_windows
    if total is not None and position > total:
        msg = f"the saved run stopped at window {position} but `stream` has total_windows={total}"
        raise ValueError(msg)


def _requested(stream: Stream, steps: int | None, epochs: int | None) -> int | None:
    """Windows asked for by ``steps`` or ``epochs``; None: to the end of a finite stream."""
    if steps is not None and epochs is not None:
        msg = f"pass `steps` or `epochs`, not both (got steps={steps}, epochs={epochs})"
        raise ValueError(msg)
    if steps is not None:
        return check_int("steps", steps)
    if epochs is not None:
        check_int("epochs", epochs)
        per_epoch = stream.windows_per_epoch
        if not isinstance(per_epoch, int):
            msg = f"`epochs` needs a stream with a finite `windows_per_epoch`, got {describe(stream)}"
            raise ValueError(msg)
        return epochs * per_epoch
    if stream.total_windows is None:
        msg = "`stream` is endless: pass `steps` or `epochs`"
        raise ValueError(msg)
    return None
