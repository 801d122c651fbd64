"""pandas, imported only when a data frame is asked for (the ``frames`` extra)."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["pandas"]


def pandas() -> Any:
    """The pandas module.

    Raises:
        ImportError: pandas is not installed; the message says how to install it.
    """
    try:
        return importlib.import_module("pandas")
    except ImportError:  # pragma: no cover - the extra is installed in the tests
        msg = "data frames need pandas: pip install 'seqforecast[frames]'"
        raise ImportError(msg) from None
