"""Stateful training with truncated back-propagation through time.

:class:`Trainer` runs one optimizer step per window of a stream. With
``stateful=True`` (the default) the state a window ends with is detached and
carried into the next window, so the model learns to use memory longer than
a window while gradients stop at the window edge; a window with ``reset``
starts from a fresh state.
"""

from __future__ import annotations

import itertools
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import FrameType
from typing import Any, cast

import torch
from torch import Tensor, nn

from seqforecast import checkpoint
from seqforecast._checks import check_float, check_int, describe, resolve_device
from seqforecast.base import Forecaster, State, check_forecaster, detach_state
from seqforecast.data import Window
from seqforecast.training import _snapshot
from seqforecast.training.callbacks import Callback
from seqforecast.training.cuda_graphs import GraphedStep
from seqforecast.training.distributed import setup
from seqforecast.training.history import History, TrainingDivergedError

__all__ = ["LossFunction", "Trainer"]

LossFunction = Callable[[Tensor, Tensor], Tensor]


def _mean_loss(loss_fn: LossFunction, model: Forecaster, stream: Iterable[Window], device: torch.device) -> float:
    """Mean loss over a finite stream, with its own state, without gradients."""
    total: Tensor | None = None
    count = 0
    state: State = None
    with torch.no_grad():
        for window in stream:
            x = window.inputs.to(device, non_blocking=True)
            y = window.targets.to(device, non_blocking=True)
            out, state = model(x, None if window.reset else state)
            loss = loss_fn(out, y).detach()
            total = loss if total is None else total + loss
            count += 1
    if total is None:
        msg = "`val_stream` yielded no windows"
        raise ValueError(msg)
    return float(total) / count


class _DeferredInterrupt:
    """Turn Ctrl-C into a flag checked between steps (main thread only)."""

    def __init__(self) -> None:
        self.requested = False
        self._previous: Any = None

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:  # a second Ctrl-C interrupts at once
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> _DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


_RESUMED = object()  # the next stream given to fit continues a resumed run


class _SavedState:
    """A trainer state already taken, handed to :func:`seqforecast.save`."""

    def __init__(self, state: dict[str, Any]) -> None:
        self._state = state

    def state_dict(self) -> dict[str, Any]:
        return self._state


def _to_cpu(state: State) -> State:
    if isinstance(state, Tensor):
        return state.cpu()
    return None if state is None else tuple(t.cpu() for t in state)


class Trainer:
    """Train a forecaster on a stream of windows, carrying its state.

    Each step: start from a fresh state if the window has ``reset`` (or
    always, with ``stateful=False``); forward; loss; backward; clip;
    optimizer step; detach the state (truncated BPTT) and carry it on.
    Losses stay on the device and are read back every ``log_every`` steps,
    so a CUDA step needs no host synchronisation.

    A non-finite loss raises :class:`TrainingDivergedError` after restoring
    the last good weights. On the CPU the loss is checked before each
    optimizer step (free there), so the weights are those of the last step
    with a finite loss (or, if that step's gradients were not finite, those
    of the last log point). On CUDA the losses are checked at log points and
    the weights of the previous log point are restored.

    Args:
        model: The forecaster (an :class:`torch.nn.Module`); moved to ``device``.
        optimizer: Any optimizer over the model's parameters (default:
            ``torch.optim.Adam(model.parameters(), lr, foreach=True)``, the
            multi-tensor Adam, which is also the faster one on the CPU).
        lr: Learning rate of the default optimizer, > 0.
        loss: ``loss(outputs, targets) -> 0-d tensor`` (default: MSE).
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``...
        stateful: Carry the state across windows (True) or restart it at
            every window (False).
        clip_grad_norm: Clip the gradient norm to this value, or None.
        log_every: Steps between read-backs of the loss (and progress updates).
        progress: Show a tqdm progress bar.
        callbacks: :class:`Callback` objects.
        seed: Seeds torch's generator here, for reproducible dropout.
        distributed: Train with DistributedDataParallel, each rank on its own
            lanes of the stream (see :mod:`seqforecast.training.distributed`). ``None``
            (the default) does so when a process group is initialised;
            ``True`` initialises one from the ``torchrun`` environment.
        cuda_graphs: On CUDA, capture the training step as a CUDA graph and
            replay it for every window of the same shape (see
            :mod:`seqforecast.training.cuda_graphs`); ignored on the CPU and when
            distributed. Needs a capturable optimizer (the default Adam is
            made capturable).

    Attributes:
        model: The forecaster being trained.
        optimizer: The optimizer.
        device: The device the model and windows are on.
        state: The state carried out of the last window (detached; ``None``
            before the first step and with ``stateful=False``). Its shape is
            the model's state shape for the stream's batch size.
        history: The cumulative :class:`History` of every ``fit`` call.
        stream_position: Windows of the current stream consumed so far.
        should_stop: Set it to True (from a callback) to end ``fit`` after
            the current step.

    Example:
        >>> import torch, seqforecast as sf
        >>> _ = torch.manual_seed(0)
        >>> model = sf.RecurrentForecaster(hidden_size=16, num_layers=2)
        >>> trainer = sf.Trainer(model, device="cpu")
        >>> history = trainer.fit(sf.SineStream(batch_size=8), steps=50)
        >>> len(history.losses), history.losses[-1] < history.losses[0]
        (50, True)
    """

    def __init__(
        self,
        model: Forecaster,
        *,
        optimizer: torch.optim.Optimizer | None = None,
        lr: float = 0.01,
        loss: LossFunction | None = None,
        device: torch.device | str = "auto",
        stateful: bool = True,
        clip_grad_norm: float | None = None,
        log_every: int = 25,
        progress: bool = False,
        callbacks: Sequence[Callback] = (),
        seed: int | None = None,
        distributed: bool | None = None,
        cuda_graphs: bool = False,
    ) -> None:
        check_forecaster(model)
        given: dict[str, object] = {"optimizer": optimizer, "loss": loss}
        if given["optimizer"] is not None and not isinstance(given["optimizer"], torch.optim.Optimizer):
            msg = f"`optimizer` must be a torch.optim.Optimizer, got {describe(optimizer)}"
            raise TypeError(msg)
        if given["loss"] is not None and not callable(given["loss"]):
            msg = f"`loss` must be a callable loss(outputs, targets), got {describe(loss)}"
            raise TypeError(msg)
        self.lr = check_float("lr", lr, low=0.0, low_inclusive=False)
        self.clip_grad_norm = (
            None
            if clip_grad_norm is None
            else check_float("clip_grad_norm", clip_grad_norm, low=0.0, low_inclusive=False)
        )
        self.log_every = check_int("log_every", log_every)
        self.seed = None if seed is None else check_int("seed", seed, minimum=0)
        if self.seed is not None:
            torch.manual_seed(self.seed)
        self.distribution, device = setup(distributed, device)
        self.device = resolve_device(device)
        self.model = model
        self.module = cast("nn.Module", model)
        self.module.to(self.device)
        self._train_step_module: Any = self.module  # DDP-wrapped during a distributed fit
        graphs = bool(cuda_graphs) and self.device.type == "cuda" and not self.distribution.enabled
        if graphs and optimizer is not None and not optimizer.defaults.get("capturable", False):
            msg = "`cuda_graphs=True` needs a capturable optimizer, e.g. torch.optim.Adam(params, capturable=True)"
            raise ValueError(msg)
        self.optimizer = (
            optimizer
            if optimizer is not None
            # foreach: one multi-tensor update, also on the CPU (torch's default there is a loop per tensor)
            else torch.optim.Adam(self.module.parameters(), lr=self.lr, capturable=graphs, foreach=True)
        )
        self._graphed = (
            GraphedStep(self._step, self.model.init_state, batch_dim=0 if self.model.batch_first else 1)
            if graphs
            else None
        )
        self.loss_fn: LossFunction = loss if loss is not None else nn.MSELoss()
        self.stateful = bool(stateful)
        self.progress = bool(progress)
        self.callbacks = list(callbacks)
        self.state: State = None
        self.history = History()
        self.stream_position = 0
        self.should_stop = False
        self.val_every: int | None = None
        self._stream: object | None = None
        self._pending: list[Tensor] = []  # losses not yet read back from the device
        self._snapshot: _snapshot.Snapshot | None = None  # weights and optimizer state at the last log point
        self._bar: Any = None
        self._shard: tuple[object, object] | None = None  # (stream given, this rank's lanes of it)

    # -- the loop ---------------------------------------------------------------
    def fit(
        self,
        stream: Iterable[Window],
        steps: int | None = None,
        *,
        epochs: int | None = None,
        val_stream: Iterable[Window] | None = None,
        val_every: int | None = None,
    ) -> History:
        """Train for ``steps`` windows (or ``epochs`` passes) of ``stream``.

        Calling ``fit`` again with the same stream object continues where the
        previous call stopped, with the carried :attr:`state`; another
        stream starts at its first window. A finite stream that runs out
        before ``steps`` (or ``epochs``) are done starts again from its first
        window (which resets the state).

        Args:
            stream: An iterable of :class:`~seqforecast.Window`, such as
                :class:`~seqforecast.SineStream` or :class:`~seqforecast.ArrayStream`.
            steps: Number of windows (optimizer steps); None with ``epochs``,
                or to run until a finite stream ends.
            epochs: Passes over the stream (needs ``stream.windows_per_epoch``).
            val_stream: A finite stream for validation, run with its own
                state and no gradients.
            val_every: Steps between validation passes (default: ``log_every``).

        Returns:
            The trainer's cumulative :class:`History`.

        Raises:
            TrainingDivergedError: A loss was NaN or infinite.
            ValueError: Bad ``steps``, ``epochs`` or ``val_every``, or a window
                whose targets do not match the model's output.

        Example:
            >>> import seqforecast as sf
            >>> trainer = sf.Trainer(sf.RecurrentForecaster(hidden_size=8), device="cpu")
            >>> stream = sf.SineStream(batch_size=4)  # windows (4, 18, 1)
            >>> trainer.fit(stream, steps=10).steps
            10
            >>> trainer.state.shape  # carried out of window 9: (num_layers, batch, hidden_size)
            torch.Size([3, 4, 8])
            >>> trainer.fit(stream, steps=5).steps  # the same stream: continues at window 10
            15
        """
        total = self._resolve_steps(stream, steps, epochs)
        self.val_every = None
        if val_stream is not None and getattr(val_stream, "total_windows", 0) is None:
            msg = "`val_stream` must end, e.g. ArrayStream(..., num_epochs=1) or SineStream(num_windows=...)"
            raise ValueError(msg)
        if val_stream is not None:
            self.val_every = self.log_every if val_every is None else check_int("val_every", val_every)
        elif val_every is not None:
            msg = "`val_every` needs `val_stream`"
            raise ValueError(msg)
        windows = self._windows(stream, total)
        if total is not None:
            windows = itertools.islice(windows, total)
        self.should_stop = False
        self.history.interrupted = False
        for callback in self.callbacks:
            callback.on_fit_start(self)
        self._bar = self._progress_bar(total)
        started = time.perf_counter()
        # DDP lives for one fit: released while the process group is alive, its
        # teardown cannot meet the group's own at interpreter exit
        self._train_step_module = self.distribution.wrap(self.module, self.device)
        try:
            with _DeferredInterrupt() as interrupt:
                self._loop(windows, val_stream, interrupt)
                self.history.interrupted = interrupt.requested
        except KeyboardInterrupt:
            self.history.interrupted = True
        finally:
            self._train_step_module = self.module
            self.history.seconds += time.perf_counter() - started
            if self._bar is not None:
                self._bar.close()
                self._bar = None
        for callback in self.callbacks:
            callback.on_fit_end(self, self.history)
        return self.history

    def _loop(
        self, windows: Iterator[Window], val_stream: Iterable[Window] | None, interrupt: _DeferredInterrupt
    ) -> None:
        device, distribution = self.device, self.distribution
        # checking each loss is free on the CPU; on CUDA (and across ranks) check at log points
        check_each_step = device.type == "cpu" and not distribution.enabled
        step = self._checked_step if check_each_step else (self._graphed or self._step)
        self._snapshot = self._take_snapshot()
        self.module.train()
        try:
            for window in windows:
                x = window.inputs.to(device, non_blocking=True)
                y = window.targets.to(device, non_blocking=True)
                state = None if (window.reset or not self.stateful) else self.state
                if x.shape[:-1] != y.shape[:-1] or y.shape[-1] != self.model.output_size:
                    msg = (
                        f"window targets must have the model's output shape {(*x.shape[:-1], self.model.output_size)}, "
                        f"got {tuple(y.shape)}"
                    )
                    raise ValueError(msg)
                loss, new_state = step(x, y, state)
                self.state = detach_state(new_state) if self.stateful else None
                self.stream_position += 1
                self.history.steps += 1
                self._pending.append(loss)
                count = self.history.steps
                if count % self.log_every == 0:
                    self._flush()
                    self._snapshot = self._take_snapshot()
                for callback in self.callbacks:
                    callback.on_step_end(self, count, loss)
                if self.val_every is not None and val_stream is not None and count % self.val_every == 0:
                    self._validate(val_stream)
                stop = self.should_stop or interrupt.requested
                if distribution.enabled:  # ranks agree at log points, so all stop at the same step
                    stop = count % self.log_every == 0 and distribution.any(stop, device)
                if stop:
                    break
        except BaseException:
            if distribution.enabled:
                self._pending.clear()  # the other ranks may be inside a collective: no more of them here
            else:
                self._flush()  # keep the losses of the steps that were done
            raise
        self._flush()

    def _step(self, x: Tensor, y: Tensor, state: State) -> tuple[Tensor, State]:
        """One optimizer step on a window; no host synchronisation."""
        out, new_state = self._train_step_module(x, state)
        loss = self.loss_fn(out, y)
        self._backward_and_step(loss)
        return loss.detach(), new_state

    def _checked_step(self, x: Tensor, y: Tensor, state: State) -> tuple[Tensor, State]:
        """:meth:`_step`, refusing a non-finite loss or gradient before any weight changes (CPU)."""
        out, new_state = self._train_step_module(x, state)
        loss = self.loss_fn(out, y)
        if not math.isfinite(loss.item()):  # a read on the CPU, no kernel
            self._diverged(loss)
        self._backward_and_step(loss)
        return loss.detach(), new_state

    def _backward_and_step(self, loss: Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)
        if self.clip_grad_norm is not None:
            nn.utils.clip_grad_norm_(self.module.parameters(), self.clip_grad_norm)
        self.optimizer.step()

    def _flush(self) -> None:
        """Read the pending losses back to the host (one sync); check them on CUDA."""
        if not self._pending:
            return
        values = self.distribution.mean(torch.stack(self._pending)).tolist()
        first = len(self.history.losses)
        self._pending.clear()
        for offset, value in enumerate(values):
            if not math.isfinite(value):
                snapshot = self._snapshot
                if snapshot is not None:
                    self._restore(snapshot)
                self.history.losses.extend(values[:offset])
                restored = snapshot.step if snapshot is not None else first + offset
                raise TrainingDivergedError(first + offset, value, restored)
        self.history.losses.extend(values)
        if self._bar is not None:
            self._bar.update(len(values))
            self._bar.set_postfix(loss=f"{values[-1]:.3g}")

    def _diverged(self, loss: Tensor) -> None:
        """CPU path: the loss of this step is not finite and nothing was stepped yet.

        The weights are the last step's, unless that step's gradients were not
        finite (a finite loss can have them): then they are restored from the
        snapshot of the last log point.
        """
        self._flush()
        step = len(self.history.losses)
        restored = step
        snapshot = self._snapshot
        if not all(bool(torch.isfinite(p).all()) for p in self.module.parameters()) and snapshot is not None:
            self._restore(snapshot)
            restored = snapshot.step
        raise TrainingDivergedError(step, float(loss.detach()), restored)

    def _take_snapshot(self) -> _snapshot.Snapshot:
        return _snapshot.take(self.module, self.optimizer, self.history.steps, self._snapshot)

    def _restore(self, snapshot: _snapshot.Snapshot) -> None:
        _snapshot.restore(snapshot, self.module, self.optimizer)
        if self._graphed is not None:
            self._graphed.invalidate()  # the optimizer's state tensors were replaced

    def _validate(self, val_stream: Iterable[Window]) -> None:
        self.module.eval()
        try:
            value = _mean_loss(self.loss_fn, self.model, val_stream, self.device)
        finally:
            self.module.train()
        self.history.val_steps.append(self.history.steps)
        self.history.val_losses.append(value)
        for callback in self.callbacks:
            callback.on_validation_end(self, self.history.steps, value)

    # -- checkpoints ------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume, as plain data (tensors, numbers, lists, dicts).

        Reads back any losses still on the device first.
        """
        self._flush()
        default_loss = isinstance(self.loss_fn, nn.MSELoss) and self.loss_fn.reduction == "mean"
        rng: dict[str, Any] = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        ranks = self.distribution.gather({"state": _to_cpu(self.state), "rng": rng})
        return {
            "world_size": self.distribution.world_size,
            "ranks": ranks,
            "config": {
                "lr": self.lr,
                "stateful": self.stateful,
                "clip_grad_norm": self.clip_grad_norm,
                "log_every": self.log_every,
                "seed": self.seed,
                "optimizer": type(self.optimizer).__name__,
                "loss": "mse" if default_loss else None,
            },
            "optimizer": self.optimizer.state_dict(),
            "stream_position": self.stream_position,
            "history": self.history.to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output; the next ``fit`` continues the saved run.

        The next stream passed to :meth:`fit` is taken to be the saved run's
        stream (rebuilt the same way) and is continued at the saved position.
        """
        try:
            self.optimizer.load_state_dict(state["optimizer"])
            saved_world = int(state.get("world_size", 1))
            if saved_world != self.distribution.world_size:
                msg = (
                    f"the run was saved by {saved_world} process(es) and is resumed by "
                    f"{self.distribution.world_size}: resume it with the same number of processes"
                )
                raise ValueError(msg)
            mine = state["ranks"][self.distribution.rank]
            carried = mine["state"]
            if isinstance(carried, Tensor):
                carried = carried.to(self.device)
            elif isinstance(carried, tuple):
                carried = tuple(t.to(self.device) for t in carried)
            self.state = carried
            self.stream_position = int(state["stream_position"])
            self.history = History.from_dict(state["history"])
            torch.set_rng_state(mine["rng"]["cpu"].cpu())
            if "cuda" in mine["rng"] and torch.cuda.is_available():
                torch.cuda.set_rng_state_all([t.cpu() for t in mine["rng"]["cuda"]])
        except (KeyError, TypeError, ValueError, RuntimeError) as error:
            msg = f"`state` is not a Trainer state dict: {error}"
            raise ValueError(msg) from None
        self._stream = _RESUMED
        if self._graphed is not None:
            self._graphed.invalidate()

    def save_checkpoint(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        """Save the model and this trainer's state to ``path`` (see :func:`seqforecast.save`).

        Keyword arguments (``scaler``, ``differencer``, ``metadata``) go to
        :func:`seqforecast.save`.

        Example:
            >>> import pathlib, tempfile, seqforecast as sf
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.safetensors"
            >>> trainer = sf.Trainer(sf.FeedForwardForecaster(), device="cpu", seed=0)
            >>> _ = trainer.fit(sf.SineStream(), steps=5)
            >>> trainer.save_checkpoint(path, metadata={"data": "sine"})
            >>> sf.load(path).metadata
            {'data': 'sine'}
        """
        state = self.state_dict()  # collective: every rank takes part
        if self.distribution.is_main:
            checkpoint.save(path, cast("Any", self.model), trainer=_SavedState(state), **kwargs)

    @classmethod
    def resume(
        cls,
        path: str | os.PathLike[str],
        model: Forecaster | None = None,
        *,
        device: torch.device | str = "auto",
        optimizer: torch.optim.Optimizer | None = None,
        loss: LossFunction | None = None,
        progress: bool = False,
        callbacks: Sequence[Callback] = (),
        distributed: bool | None = None,
        cuda_graphs: bool = False,
    ) -> Trainer:
        """Rebuild a trainer from :meth:`save_checkpoint` output, ready to continue.

        Training N steps, saving, resuming (in any process) and training M
        more gives the same losses and weights, bit for bit on the CPU, as
        training N + M steps at once, provided the stream is rebuilt the same
        way and passed to :meth:`fit`.

        Args:
            path: The checkpoint.
            model: A model to load the weights into (default: the one the
                checkpoint describes).
            device: Where to continue.
            optimizer: Needed only if the run used an optimizer that is not in
                ``torch.optim``; its state is loaded from the checkpoint.
            loss: Needed only if the run used a loss other than the default MSE.
            progress: Show a progress bar.
            callbacks: Callbacks for the continued run.
            distributed: As for :class:`Trainer`; a distributed run resumes
                with the same number of processes.
            cuda_graphs: As for :class:`Trainer`.

        Raises:
            CheckpointError: The file is invalid or holds no trainer state.
            ValueError: The loss or optimizer cannot be rebuilt without help.

        Example:
            >>> import pathlib, tempfile, torch, seqforecast as sf
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.safetensors"
            >>> _ = torch.manual_seed(0)
            >>> whole = sf.Trainer(sf.FeedForwardForecaster(), device="cpu", seed=0)
            >>> _ = whole.fit(sf.SineStream(), steps=10)
            >>> _ = torch.manual_seed(0)
            >>> first = sf.Trainer(sf.FeedForwardForecaster(), device="cpu", seed=0)
            >>> _ = first.fit(sf.SineStream(), steps=6)
            >>> first.save_checkpoint(path)
            >>> resumed = sf.Trainer.resume(path, device="cpu")
            >>> resumed.fit(sf.SineStream(), steps=4).losses == whole.history.losses
            True
        """
        saved = checkpoint.load(path, device="cpu")  # the trainer moves it to its device
        if saved.trainer_state is None:
            msg = f"{path} holds a model but no trainer state: save it with trainer.save_checkpoint(path)"
            raise checkpoint.CheckpointError(msg)
        state = saved.trainer_state
        config = state["config"]
        if model is None:
            model = cast("Forecaster", saved.model)
        else:
            cast("nn.Module", model).load_state_dict(saved.model.state_dict())
        module = cast("nn.Module", model)
        if optimizer is None:
            optimizer_class = getattr(torch.optim, str(config["optimizer"]), None)
            if not (isinstance(optimizer_class, type) and issubclass(optimizer_class, torch.optim.Optimizer)):
                msg = f"the run used optimizer {config['optimizer']!r}, which is not in torch.optim: pass `optimizer=`"
                raise ValueError(msg)
            optimizer = cast("Any", optimizer_class)(module.parameters(), lr=config["lr"])
        if loss is None and config["loss"] != "mse":
            msg = "the run used a custom loss function: pass the same `loss=` to resume"
            raise ValueError(msg)
        trainer = cls(
            model,
            optimizer=optimizer,
            lr=config["lr"],
            loss=loss,
            device=device,
            stateful=config["stateful"],
            clip_grad_norm=config["clip_grad_norm"],
            log_every=config["log_every"],
            progress=progress,
            callbacks=callbacks,
            distributed=distributed,
            cuda_graphs=cuda_graphs,
        )
        trainer.seed = config["seed"]
        trainer.load_state_dict(state)
        return trainer

    # -- helpers ----------------------------------------------------------------
    def _resolve_steps(self, stream: object, steps: int | None, epochs: int | None) -> int | None:
        if steps is not None and epochs is not None:
            msg = f"pass `steps` or `epochs`, not both (got steps={steps}, epochs={epochs})"
            raise ValueError(msg)
        if steps is not None:
            return check_int("steps", steps)
        if epochs is not None:
            check_int("epochs", epochs)
            per_epoch = getattr(stream, "windows_per_epoch", None)
            if not isinstance(per_epoch, int):
                msg = f"`epochs` needs a stream with a finite `windows_per_epoch`, got {describe(stream)}"
                raise ValueError(msg)
            return epochs * per_epoch
        if getattr(stream, "total_windows", 0) is None:
            msg = "`stream` is endless: pass `steps` or `epochs`"
            raise ValueError(msg)
        return None

    def _windows(self, stream: Iterable[Window], total: int | None) -> Iterator[Window]:
        """Continue the same stream where the last ``fit`` stopped, cycling a finite one."""
        if self._stream is _RESUMED:
            self._stream = stream  # continue at the saved position with the saved state
        elif stream is not self._stream:
            self._stream = stream
            self.stream_position = 0
            self.state = None
        if self._shard is None or self._shard[0] is not stream:
            self._shard = (stream, self.distribution.shard(stream))
        lanes = cast("Iterable[Window]", self._shard[1])
        windows_from = getattr(lanes, "windows", None)
        while True:
            fresh = self.stream_position == 0
            yielded = False
            if callable(windows_from):
                source = cast("Iterator[Window]", windows_from(self.stream_position))
            else:
                iterator = iter(lanes)
                # a one-shot iterator already gave up the windows that were trained on
                source = iterator if iterator is lanes else itertools.islice(iterator, self.stream_position, None)
            for window in source:
                yielded = True
                yield window
            self.stream_position = 0  # the stream ran out: the next pass starts at its first window
            if (total is None and yielded) or (fresh and not yielded):
                return

    def _progress_bar(self, total: int | None) -> Any:
        if not self.progress or not self.distribution.is_main:
            return None
        try:
            from tqdm.auto import tqdm
        except ImportError:
            msg = "`progress=True` needs tqdm: pip install tqdm"
            raise ImportError(msg) from None
        return tqdm(total=total, unit="step", leave=False)
