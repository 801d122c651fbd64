"""seqforecast: stateful forecasting of time series with PyTorch.

Recurrent, feed-forward and causal convolutional forecasters that share one
interface, ``forward(x, state) -> (y, state)``; a trainer that carries the
state across windows (truncated back-propagation through time); and
:func:`prime`, which builds a model's memory before it forecasts.

The names below load on first use: ``import seqforecast`` itself imports
neither torch nor NumPy, so a torch-free module such as the ONNX runtime can
live in this package.
"""

from __future__ import annotations

import ast
import functools
import importlib
import sys
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqforecast._version import __version__

if TYPE_CHECKING:  # what loads on first use; __getattr__ reads this block (as lazy_loader reads a stub)
    from seqforecast import metrics, plotting
    from seqforecast.auto import AutoForecaster
    from seqforecast.backtest import Backtest, Refit, backtest
    from seqforecast.base import BaseForecaster, Forecaster, State, detach_state
    from seqforecast.checkpoint import Checkpoint, CheckpointError, load, save
    from seqforecast.covariates import Panel, forecast_panel
    from seqforecast.data import ArrayStream, SineStream, Stream, Window
    from seqforecast.frames import from_frame
    from seqforecast.inference import StreamingForecaster, forecast, predict, prime
    from seqforecast.metrics import evaluate
    from seqforecast.models import (
        ConvConfig,
        ConvForecaster,
        FeedForwardConfig,
        FeedForwardForecaster,
        RecurrentConfig,
        RecurrentForecaster,
        model_from_config,
    )
    from seqforecast.panel import PanelStream, Segment
    from seqforecast.results import Forecast
    from seqforecast.series import load_series
    from seqforecast.stamps import calendar_features, fill_gaps
    from seqforecast.tracing import Stage, trace_shapes
    from seqforecast.training import (
        Callback,
        EarlyStopping,
        History,
        ModelCheckpoint,
        ProgressBar,
        Trainer,
        TrainerConfig,
        TrainerView,
        TrainingDivergedError,
    )
    from seqforecast.transforms import Differencer, Scaler

__all__ = [
    "ArrayStream",
    "AutoForecaster",
    "Backtest",
    "BaseForecaster",
    "Callback",
    "Checkpoint",
    "CheckpointError",
    "ConvConfig",
    "ConvForecaster",
    "Differencer",
    "EarlyStopping",
    "FeedForwardConfig",
    "FeedForwardForecaster",
    "Forecast",
    "Forecaster",
    "History",
    "ModelCheckpoint",
    "Panel",
    "PanelStream",
    "ProgressBar",
    "RecurrentConfig",
    "RecurrentForecaster",
    "Refit",
    "Scaler",
    "Segment",
    "SineStream",
    "Stage",
    "State",
    "Stream",
    "StreamingForecaster",
    "Trainer",
    "TrainerConfig",
    "TrainerView",
    "TrainingDivergedError",
    "Window",
    "__version__",
    "backtest",
    "calendar_features",
    "detach_state",
    "evaluate",
    "fill_gaps",
    "forecast",
    "forecast_panel",
    "from_frame",
    "load",
    "load_series",
    "metrics",
    "model_from_config",
    "plotting",
    "predict",
    "prime",
    "save",
    "trace_shapes",
]


@functools.cache
def _exports() -> dict[str, tuple[str, bool]]:
    """Map each public name to its module and whether it is that module, read from the ``TYPE_CHECKING`` block."""
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    return {
        alias.name: (f"{node.module}.{alias.name}", True) if node.module == "seqforecast" else (str(node.module), False)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here."""
    export = _exports().get(name)
    if export is None:
        msg = f"module 'seqforecast' has no attribute {name!r}"
        raise AttributeError(msg)
    module_name, is_module = export
    module = importlib.import_module(module_name)
    value = module if is_module else getattr(module, name)
    globals()[name] = value
    return value


class _Package(types.ModuleType):
    """The package: importing a submodule named like a function it exports (``backtest``) keeps the function."""

    def __setattr__(self, name: str, value: Any) -> None:
        export = _exports().get(name)
        if isinstance(value, types.ModuleType) and export is not None and not export[1] and hasattr(value, name):
            value = getattr(value, name)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
