"""The command line on a panel: ``train`` with ``--id-column`` and covariates, ``forecast --future``.

A panel CSV is a long table (one row per series and time step; pandas reads
it, the ``frames`` extra). One global model is trained over all series;
the checkpoint remembers the columns, so ``forecast`` reads the same table
and, with known-future covariates, a table of their values over the horizon.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import sys
from pathlib import Path
from typing import Any

import numpy as np

from seqforecast.checkpoint import Checkpoint
from seqforecast.checkpoint import load as load_checkpoint
from seqforecast.covariates import Panel, forecast_panel
from seqforecast.frames import from_frame
from seqforecast.transforms import Scaler

__all__ = ["add_future_option", "add_panel_options", "forecast_panel_file", "is_panel", "train_panel"]


class PanelUsageError(ValueError):
    """Bad command-line input for a panel (printed as one line, exit status 2)."""


def _names(text: str | None) -> list[str]:
    return [] if not text else [name.strip() for name in text.split(",") if name.strip()]


def add_panel_options(parser: argparse.ArgumentParser) -> None:
    """``train``'s options for a panel: the id column and the covariate columns."""
    parser.add_argument("--id-column", help="column of series ids: the file is a long table of many series")
    parser.add_argument("--past-covariates", metavar="A,B", help="columns observed up to each step (inputs only)")
    parser.add_argument("--future-covariates", metavar="C,D", help="columns known in advance (inputs only)")


def add_future_option(parser: argparse.ArgumentParser) -> None:
    """``forecast``'s option for the known-future covariates over the horizon."""
    parser.add_argument(
        "--future",
        metavar="CSV",
        help="for a model with covariates: the future covariates over the horizon, per series, and the past ones "
        "as a scenario (needed beyond one step)",
    )


def is_panel(args: argparse.Namespace) -> bool:
    """Whether ``train`` was asked for a panel or covariates."""
    return bool(args.id_column or args.past_covariates or args.future_covariates)


def _read(path: str, what: str) -> Any:
    try:
        pd: Any = importlib.import_module("pandas")
    except ImportError:
        msg = f"{what} is a long table read with pandas: pip install 'seqforecast[frames]'"
        raise PanelUsageError(msg) from None
    return pd.read_csv(path, sep=None, engine="python")


def _time(df: Any, column: str | None) -> None:
    if column is not None and column in df.columns:
        pd: Any = importlib.import_module("pandas")
        try:
            df[column] = pd.to_datetime(df[column])
        except (ValueError, TypeError):
            msg = f"column {column!r} (--time-column) must hold dates or times"
            raise PanelUsageError(msg) from None


def _panel(df: Any, spec: dict[str, Any], *, future_only: bool = False) -> Panel:
    _time(df, spec["time"])
    return from_frame(
        df,
        id=spec["id"],
        time=spec["time"],
        target=None if future_only else spec["target"],
        past=[c for c in spec["past"] if c in df.columns] if future_only else spec["past"],
        future=spec["future"],
        min_length=1 if future_only else 2,
    )


def _scaled(panel: Panel, scaler: Scaler) -> Panel:
    """The panel with every column standardised by ``scaler`` (fitted on the targets, past, future columns)."""
    n, p = panel.num_targets, len(panel.past_names)
    parts = [
        scaler.transform(np.concatenate([t, c, f], axis=1))
        for t, c, f in zip(panel.targets, panel.past, panel.future, strict=True)
    ]
    return dataclasses.replace(
        panel,
        targets=tuple(a[:, :n] for a in parts),
        past=tuple(a[:, n : n + p] for a in parts),
        future=tuple(a[:, n + p :] for a in parts),
    )


def _moments(scaler: Scaler) -> tuple[np.ndarray, np.ndarray]:
    """The scaler's per-column mean and standard deviation (it was fitted before it was saved)."""
    if scaler.mean is None or scaler.std is None:
        msg = "the checkpoint's scaler was never fitted"
        raise PanelUsageError(msg)
    return scaler.mean, scaler.std


def train_panel(args: argparse.Namespace, out: Path, build: Any) -> int:
    """``train`` on a long table of many series: one global model, targets and covariates standardised."""
    from seqforecast.training import Trainer

    if args.model == "auto":
        msg = "--model auto trains on one series; for a panel or covariates pick --model lstm, gru, rnn, mlp or conv"
        raise PanelUsageError(msg)
    if not isinstance(args.column, str):
        msg = "--column must name the target column of a panel (the file needs a header)"
        raise PanelUsageError(msg)
    time = args.time_column if isinstance(args.time_column, str) else None
    spec = {
        "id": args.id_column,
        "time": time,
        "target": args.column,
        "past": _names(args.past_covariates),
        "future": _names(args.future_covariates),
    }
    panel = _panel(_read(args.data, args.data), spec)
    rows = [np.concatenate([t, c, f], axis=1) for t, c, f in zip(panel.targets, panel.past, panel.future, strict=True)]
    scaler = Scaler().fit(np.concatenate(rows)) if args.scale else None
    scaled = panel if scaler is None else _scaled(panel, scaler)
    shortest = min(len(t) for t in panel.targets)
    seq_length = args.seq_length or max(2, min(64, shortest - 1))
    batch_size = args.batch_size or min(len(panel), 32)
    stream = scaled.stream(seq_length, batch_size=batch_size)
    import torch

    torch.manual_seed(args.seed)
    model = build(args.model, input_size=panel.input_size, output_size=panel.num_targets)
    trainer = Trainer(model, lr=args.lr, device=args.device, clip_grad_norm=args.clip, seed=args.seed)
    epochs = None if args.steps is not None else (args.epochs or 20)
    history = trainer.fit(stream, steps=args.steps, epochs=epochs)
    metadata = {"panel": spec, "columns": [args.column], "source": Path(args.data).name, "model": args.model}
    trainer.save_checkpoint(out, scaler=scaler, metadata=metadata)
    print(
        f"trained one model on {len(panel)} series ({panel.num_targets} target, {panel.input_size - panel.num_targets} "
        f"covariate column(s)) in {history.steps} steps, {history.seconds:.1f} s; final training loss {history.losses[-1]:.4g}"
    )
    print(f"saved {out}")
    return 0


def is_panel_checkpoint(path: str) -> Checkpoint | None:
    """The checkpoint at ``path`` if ``train`` wrote it for a panel, else None."""
    checkpoint = load_checkpoint(path)
    return checkpoint if "panel" in checkpoint.metadata else None


def _future_file(path: str, spec: dict[str, Any], panel: Panel, scaler: Scaler | None) -> Panel:
    """The covariates over the horizon from ``path``: the future columns, and the past ones it has (a scenario)."""
    given = _panel(_read(path, path), spec, future_only=True)
    if scaler is None:
        return given
    mean, std = _moments(scaler)
    names = [*panel.target_names, *panel.past_names, *panel.future_names]

    def scale(arrays: tuple[np.ndarray, ...], columns: tuple[str, ...]) -> tuple[np.ndarray, ...]:
        index = [names.index(c) for c in columns]
        return tuple((a - mean[index]) / std[index] for a in arrays)

    return dataclasses.replace(
        given, past=scale(given.past, given.past_names), future=scale(given.future, given.future_names)
    )


def forecast_panel_file(args: argparse.Namespace, checkpoint: Checkpoint, out: Path | None) -> int:
    """``forecast`` with a panel model: every series of the table, in the long format."""
    spec = dict(checkpoint.metadata["panel"])
    panel = _panel(_read(args.data, args.data), spec)
    scaler = checkpoint.scaler
    scaled = panel if scaler is None else _scaled(panel, scaler)
    future: object = None
    if spec["future"] and args.future is None:
        msg = f"the model reads the known-future covariates {spec['future']}: give their values over the horizon with --future FILE"
        raise PanelUsageError(msg)
    if args.future is not None:
        if not (spec["future"] or spec["past"]):
            msg = "--future is for a model trained with --future-covariates or --past-covariates"
            raise PanelUsageError(msg)
        future = _future_file(args.future, spec, panel, scaler)
    if spec["past"] and args.horizon > 1 and not (isinstance(future, Panel) and future.past_names):
        msg = (
            f"the model reads the past covariates {spec['past']}, which are not known after the last observation: "
            f"forecasting --horizon {args.horizon} needs their values over the horizon as a scenario, "
            "as columns of the --future FILE (or use --horizon 1)"
        )
        raise PanelUsageError(msg)
    result = forecast_panel(checkpoint.model, scaled, args.horizon, future=future)
    mean = result.mean
    if scaler is not None:
        n = panel.num_targets
        centre, spread = _moments(scaler)
        mean = mean * spread[:n] + centre[:n]
    frame = type(result)(mean, ids=result.ids, times=result.times, names=result.names).to_frame(name=spec["target"])
    text = frame.to_csv(index=False)
    if out is not None:
        out.write_text(text)
        print(f"wrote {args.horizon} forecast steps of {len(panel)} series to {out}")
    else:
        sys.stdout.write(text)
    return 0
