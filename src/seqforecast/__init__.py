"""seqforecast: stateful forecasting of time series with PyTorch.

Recurrent, feed-forward and causal convolutional forecasters that share one
interface, ``forward(x, state) -> (y, state)``; a trainer that carries the
state across windows (truncated back-propagation through time); and
:func:`prime`, which builds a model's memory before it forecasts.
"""

from seqforecast import metrics, plotting
from seqforecast._version import __version__
from seqforecast.auto import AutoForecaster
from seqforecast.backtest import Backtest, Refit, backtest
from seqforecast.base import BaseForecaster, Forecaster, State, detach_state
from seqforecast.checkpoint import Checkpoint, CheckpointError, load, save
from seqforecast.data import ArrayStream, SineStream, Stream, Window
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
from seqforecast.series import load_series
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
    "Forecaster",
    "History",
    "ModelCheckpoint",
    "ProgressBar",
    "RecurrentConfig",
    "RecurrentForecaster",
    "Refit",
    "Scaler",
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
    "detach_state",
    "evaluate",
    "forecast",
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
