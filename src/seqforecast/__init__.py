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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqforecast._version import __version__

if TYPE_CHECKING:  # what loads on first use; __getattr__ reads this block (as lazy_loader reads a stub)
    from seqforecast import metrics, plotting, runtime
    from seqforecast._refit import Refit
    from seqforecast.auto import AutoForecaster
    from seqforecast.backtesting import Backtest, backtest
    from seqforecast.base import BaseForecaster, Forecaster, State, detach_state
    from seqforecast.checkpoint import Checkpoint, CheckpointError, load, save
    from seqforecast.conformal import AdaptiveConformal, ConformalCalibration, conformal_forecast
    from seqforecast.covariates import Panel, forecast_panel
    from seqforecast.data import ArrayStream, SineStream, Stream, Window
    from seqforecast.export import export_onnx
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
    from seqforecast.sampling import forecast_quantiles, sample_paths
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
    "AdaptiveConformal",
    "ArrayStream",
    "AutoForecaster",
    "Backtest",
    "BaseForecaster",
    "Callback",
    "Checkpoint",
    "CheckpointError",
    "ConformalCalibration",
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
    "conformal_forecast",
    "detach_state",
    "evaluate",
    "export_onnx",
    "fill_gaps",
    "forecast",
    "forecast_panel",
    "forecast_quantiles",
    "from_frame",
    "load",
    "load_series",
    "metrics",
    "model_from_config",
    "plotting",
    "predict",
    "prime",
    "runtime",
    "sample_paths",
    "save",
    "trace_shapes",
]


@functools.cache
def _exports() -> dict[str, tuple[str, str | None]]:
    """Map each public name to its module and attribute (None for a module), from the ``TYPE_CHECKING`` block."""
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    return {
        alias.name: (f"seqforecast.{alias.name}", None)
        if node.module == "seqforecast"
        else (str(node.module), alias.name)
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use and keep the name here."""
    if name not in _exports():
        msg = f"module 'seqforecast' has no attribute {name!r}"
        raise AttributeError(msg)
    module_name, attribute = _exports()[name]
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
