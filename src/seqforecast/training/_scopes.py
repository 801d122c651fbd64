"""Contexts around a ``fit`` call: Ctrl-C between steps, and torch's thread count."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

import torch

__all__ = ["DeferredInterrupt", "torch_threads"]


class DeferredInterrupt:
    """Turn Ctrl-C into a flag checked between steps (main thread only).

    While training, a second Ctrl-C interrupts at once. Once :meth:`finishing`
    is called (the callbacks' ``on_fit_end``: the final checkpoint is being
    written), the next Ctrl-C is only recorded, so a press that follows the
    first one closely cannot break that checkpoint; one more still interrupts
    (saving is atomic: the previous file stays whole).
    """

    def __init__(self) -> None:
        self.requested = False
        self._held_back = 0  # presses allowed to pass unraised: 0 while training, 1 once finishing
        self._installed = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            if self._held_back == 0:
                raise KeyboardInterrupt
            self._held_back -= 1
        self.requested = True

    def finishing(self) -> None:
        """From now on, the next Ctrl-C is only recorded in :attr:`requested`."""
        self._held_back = 1

    def __enter__(self) -> DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:  # the previous handler may be None (installed from C): restore it all the same
            signal.signal(signal.SIGINT, self._previous if self._previous is not None else signal.SIG_DFL)
            self._installed = False


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run with torch's intra-op thread count at ``count``, restored afterwards (None: unchanged)."""
    if count is None:
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
