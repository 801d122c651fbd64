"""Where a run is in its stream: which stream, the next window, how many windows a ``fit`` takes."""

from __future__ import annotations

from collections.abc import Iterator

from seqforecast._checks import check_int, describe
from seqforecast.base import Forecaster
from seqforecast.data import Stream, Window
from seqforecast.training.distributed import Distribution

__all__ = ["StreamCursor", "check_stream"]


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
        self.resumed = False
        self._stream: Stream | None = None
        self._lanes: Stream | None = None  # this process's lanes of _stream

    def plan(self, stream: Stream, steps: int | None, epochs: int | None) -> tuple[int, bool]:
        """Choose where this ``fit`` starts and how many windows it takes.

        Returns:
            ``(count, continues)``: the number of windows, and whether the
            first one continues the previous ``fit`` (so the carried state
            is kept).

        Raises:
            ValueError: Bad ``steps``/``epochs``, an endless stream without
                either, or more windows asked for than the stream has left.
        """
        continues = self.resumed or stream is self._stream
        if not continues:
            self.position = 0
        if stream is not self._stream or self._lanes is None:
            self._stream, self._lanes = stream, self.distribution.shard(stream)
        self.resumed = False
        total = stream.total_windows
        if total is not None and self.position >= total:
            self.position, continues = 0, False  # used up: a new pass
        count = _requested(stream, steps, epochs)
        left = None if total is None else total - self.position
        if left is not None and count is not None and count > left:
            asked = f"steps={steps}" if steps is not None else f"epochs={epochs} ({count} windows)"
            msg = (
                f"`stream` has {left} window(s) left (total_windows={total}, {self.position} used) but {asked}: "
                f"ask for fewer, or build the stream with more epochs (e.g. num_epochs=None for endless)"
            )
            raise ValueError(msg)
        if count is None:  # to the end of a finite stream (an endless one needs steps or epochs)
            count = left if left is not None else 0
        return count, continues

    def windows(self, count: int) -> Iterator[Window]:
        """The next ``count`` windows of this process's lanes; a stream that ends early is an error."""
        assert self._lanes is not None, "plan() comes first"
        given = 0
        for window in self._lanes.windows(self.position):
            if given == count:
                return
            item: object = window  # what the stream gave, whatever its annotation says
            if not isinstance(item, Window):
                msg = f"`stream` must yield seqforecast.Window objects, got {describe(item)}"
                raise TypeError(msg)
            given += 1
            yield item
        if given < count:
            msg = f"`stream` ended after {given} window(s) from position {self.position - given} although {count} were due"
            raise ValueError(msg)

    def advance(self) -> None:
        """One window was trained on."""
        self.position += 1

    def restore(self, position: object) -> None:
        """Continue a saved run: the next stream given starts at ``position``."""
        self.position = check_int("stream_position", position, minimum=0)
        self.resumed = True


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
