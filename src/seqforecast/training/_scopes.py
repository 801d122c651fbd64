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
    written) every Ctrl-C is only recorded, so nothing half-written is left.
    """

    def __init__(self) -> None:
        self.requested = False
        self._finishing = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.requested and not self._finishing:
            raise KeyboardInterrupt
        self.requested = True

    def finishing(self) -> None:
        """From now on, Ctrl-C never raises: it is recorded in :attr:`requested`."""
        self._finishing = True

    def __enter__(self) -> DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


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
