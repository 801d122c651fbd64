"""Stateful training with truncated back-propagation through time.

:class:`Trainer` runs one optimizer step per window of a stream. With
``stateful=True`` (the default) the state a window ends with is detached and
carried into the next window, so the model learns to use memory longer than
a window while gradients stop at the window edge; a window with ``reset``
starts from a fresh state (all lanes, or the lanes it marks).

The loop itself is short; what it calls lives beside it: the divergence
guard (:mod:`~seqforecast.training.guard`), the stream cursor
(:mod:`~seqforecast.training.cursor`), distribution
(:mod:`~seqforecast.training.distributed`) and CUDA graphs
(:mod:`~seqforecast.training.cuda_graphs`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any, cast

import torch
from torch import Tensor, nn

from seqforecast import checkpoint
from seqforecast._checks import check_int, describe, resolve_device
from seqforecast.base import Forecaster, State, check_forecaster, detach_state
from seqforecast.data import Stream, Window
from seqforecast.heads import HeadLoss, training_objective
from seqforecast.training import _resume
from seqforecast.training._scopes import DeferredInterrupt, torch_threads
from seqforecast.training._targets import TargetCheck
from seqforecast.training.callbacks import Callback
from seqforecast.training.config import TrainerConfig
from seqforecast.training.cuda_graphs import GraphedStep
from seqforecast.training.cursor import StreamCursor, check_stream
from seqforecast.training.distributed import setup
from seqforecast.training.guard import DivergenceGuard
from seqforecast.training.history import History
from seqforecast.training.progress import ProgressBar

__all__ = ["LossFunction", "Trainer"]

LossFunction = Callable[[Tensor, Tensor], Tensor]


class _SavedState:
    """A trainer state already taken, handed to :func:`seqforecast.save`."""

    def __init__(self, state: dict[str, Any]) -> None:
        self._state = state

    def state_dict(self) -> dict[str, Any]:
        return self._state


def _check_objects(**given: object) -> list[Callback]:
    """The Trainer's non-data arguments are of the right kind, or a TypeError names the one that is not."""
    kinds = {"config": (TrainerConfig, "TrainerConfig"), "optimizer": (torch.optim.Optimizer, "torch.optim.Optimizer")}
    for name, (kind, kind_name) in kinds.items():
        if given[name] is not None and not isinstance(given[name], kind):
            msg = f"`{name}` must be a {kind_name}, got {describe(given[name])}"
            raise TypeError(msg)
    if given["loss"] is not None and not callable(given["loss"]):
        msg = f"`loss` must be a callable loss(outputs, targets), got {describe(given['loss'])}"
        raise TypeError(msg)
    if isinstance(given["callbacks"], Callback) or not isinstance(given["callbacks"], (list, tuple)):
        msg = f"`callbacks` must be a list of Callback objects, got {describe(given['callbacks'])}"
        raise TypeError(msg)
    for index, callback in enumerate(given["callbacks"]):
        if not isinstance(callback, Callback):
            msg = f"`callbacks[{index}]` must be a Callback (subclass sf.Callback), got {describe(callback)}"
            raise TypeError(msg)
    return list(given["callbacks"])


def _validation_every(
    model: Forecaster, log_every: int, val_stream: Stream | None, val_every: int | None
) -> int | None:
    """Steps between validation passes, with ``val_stream`` checked against the model."""
    if val_stream is None:
        if val_every is not None:
            msg = "`val_every` needs `val_stream`"
            raise ValueError(msg)
        return None
    check_stream("val_stream", val_stream, model)
    if val_stream.total_windows is None:
        msg = "`val_stream` must end, e.g. ArrayStream(..., num_epochs=1) or SineStream(num_windows=...)"
        raise ValueError(msg)
    return log_every if val_every is None else check_int("val_every", val_every)


def _is_default_loss(model: Forecaster, loss_fn: LossFunction) -> bool:
    """Whether ``loss_fn`` is the model's own (MSE, or its head's loss): a resumed run then needs no ``loss``."""
    point_model = getattr(model, "output_head", None) is None
    return isinstance(loss_fn, HeadLoss) or (
        point_model and isinstance(loss_fn, nn.MSELoss) and loss_fn.reduction == "mean"
    )


def _mean_loss(model: Forecaster, loss_fn: LossFunction, stream: Stream, device: torch.device, call: Any) -> float:
    """Mean loss over a finite stream, with its own state (reset as the windows say), without gradients.

    ``call(x, state)`` is the model, or the model seen through its head (:mod:`seqforecast.heads`).
    """
    total, count, state = torch.zeros((), device=device), 0, cast("State", None)
    check_targets = TargetCheck(loss_fn)
    with torch.no_grad():
        for window in stream:
            check_targets(window.targets)
            x, y = window.inputs.to(device), window.targets.to(device)
            out, state = call(x, _start_state(model, window.reset, state, device))
            total, count = total + loss_fn(out, y), count + 1
    if count == 0:
        msg = "`val_stream` yielded no windows"
        raise ValueError(msg)
    check_targets.flush()
    return float(total) / count


def _start_state(model: Forecaster, reset: bool | Tensor, carried: State, device: torch.device) -> State:
    """The state a window starts from: fresh (``reset`` True), carried (False), or reset in the marked lanes."""
    if isinstance(reset, Tensor):
        return model.reset_state(carried, reset.to(device, non_blocking=True))
    return None if reset else carried


def _to_device(state: State, device: torch.device) -> State:
    if isinstance(state, Tensor):
        return state.to(device)
    return None if state is None else tuple(t.to(device) for t in state)


class Trainer:
    """Train a forecaster on a stream of windows, carrying its state.

    Each step: take the next window; start from a fresh state where it has
    ``reset`` (or always, with ``stateful=False``), else carry the state;
    forward, loss, backward, clip, optimizer step; detach the state
    (truncated BPTT); record the loss; call the callbacks. Losses stay on
    the device and are read back every ``log_every`` steps.

    A non-finite loss raises :class:`TrainingDivergedError` after restoring
    the last good weights: on the CPU in one process those of the last
    finite step (the loss is checked before each optimizer step, free
    there), elsewhere (CUDA, distributed) those of the last log point.

    Args:
        model: The forecaster (an :class:`torch.nn.Module`); moved to the device.
        config: The run's settings (default: ``TrainerConfig()``).
        optimizer: Any optimizer over the model's parameters (default: the
            multi-tensor ``torch.optim.Adam(params, lr, foreach=True)``).
        loss: ``loss(outputs, targets) -> 0-d tensor`` on the point forecasts
            (default: MSE; for a model with a likelihood or quantile head,
            its negative log-likelihood or pinball loss).
        callbacks: :class:`Callback` objects, called in order.
        progress: Add a :class:`ProgressBar` to the callbacks.
        **settings: :class:`TrainerConfig` fields, overriding ``config``'s
            (``lr``, ``stateful``, ``clip_grad_norm``, ``log_every``,
            ``seed``, ``device``, ``threads``, ``distributed``, ``cuda_graphs``).

    Attributes:
        model: The forecaster being trained.
        config: The :class:`TrainerConfig` in force.
        optimizer: The optimizer.
        device: The device the model and windows are on.
        state: The state carried out of the last window (detached; ``None``
            before the first step and with ``stateful=False``).
        should_stop: Set it to True (from a callback) to end ``fit`` after
            the current step.
        planned_steps: Steps the current (or last) ``fit`` call takes unless stopped.
        val_every: Steps between validation passes in the current ``fit``
            (None without ``val_stream``).

    Example:
        >>> import seqforecast as sf
        >>> model = sf.RecurrentForecaster(hidden_size=16, num_layers=2, seed=0)
        >>> trainer = sf.Trainer(model, device="cpu", seed=0)
        >>> history = trainer.fit(sf.SineStream(batch_size=8), steps=50)
        >>> len(history.losses), history.losses[-1] < history.losses[0]
        (50, True)
    """

    def __init__(
        self,
        model: Forecaster,
        config: TrainerConfig | None = None,
        *,
        optimizer: torch.optim.Optimizer | None = None,
        loss: LossFunction | None = None,
        callbacks: Sequence[Callback] = (),
        progress: bool = False,
        **settings: Any,
    ) -> None:
        check_forecaster(model)
        callbacks = _check_objects(config=config, optimizer=optimizer, loss=loss, callbacks=callbacks)
        self.config = (config or TrainerConfig()).replace(**settings)
        if self.config.seed is not None:
            torch.manual_seed(self.config.seed)
        self.distribution, device = setup(self.config.distributed, self.config.device)
        self.device = resolve_device(device)
        self.model = model
        self.module = cast("nn.Module", model)
        self.module.to(self.device)
        graphs = self.config.cuda_graphs and self.device.type == "cuda" and not self.distribution.enabled
        if graphs and optimizer is not None and not optimizer.defaults.get("capturable", False):
            msg = "`cuda_graphs=True` needs a capturable optimizer, e.g. torch.optim.Adam(params, capturable=True)"
            raise ValueError(msg)
        # foreach: one multi-tensor update, also on the CPU (torch's default there is a loop per tensor)
        self.optimizer = optimizer or torch.optim.Adam(
            self.module.parameters(), lr=self.config.lr, capturable=graphs, foreach=True
        )
        # without a loss, a model with a likelihood or quantile head trains on its own loss (seqforecast.heads)
        self._objective, self.loss_fn = training_objective(model, loss)
        self._check_targets = TargetCheck(self.loss_fn)  # a negative binomial head's targets must be counts
        self.callbacks: list[Callback] = [*callbacks, *([ProgressBar()] if progress else [])]
        self.state: State = None
        self.should_stop = False
        self.val_every: int | None = None
        self.planned_steps = 0
        self._train_module: Any = self._objective  # DDP-wrapped during a distributed fit
        self._cursor = StreamCursor(self.distribution)
        self._graphed = (
            GraphedStep(self._step, model.init_state, batch_dim=0 if model.batch_first else 1) if graphs else None
        )
        self._guard = DivergenceGuard(
            self.module,
            self.optimizer,
            History(),
            self.distribution,
            check_each_step=self.device.type == "cpu" and not self.distribution.enabled,
            on_restore=self._forget_graph,
        )

    @property
    def is_main(self) -> bool:
        """True in the process that logs and writes checkpoints (always, in one process)."""
        return self.distribution.is_main

    @property
    def history(self) -> History:
        """The cumulative :class:`History` of every ``fit`` call (kept by the divergence guard)."""
        return self._guard.history

    @property
    def stream_position(self) -> int:
        """Windows of the current stream consumed so far (the index of the next one)."""
        return self._cursor.position

    # -- the loop ---------------------------------------------------------------
    def fit(
        self,
        stream: Stream,
        steps: int | None = None,
        *,
        epochs: int | None = None,
        val_stream: Stream | None = None,
        val_every: int | None = None,
    ) -> History:
        """Train for ``steps`` windows (or ``epochs`` passes) of ``stream``.

        Calling ``fit`` again with the same stream object continues where the
        previous call stopped, with the carried :attr:`state`; another
        stream starts at its first window, as does a finite stream that was
        used up. Ctrl-C finishes the current step and returns the history so
        far (``history.interrupted``), the model intact.

        Args:
            stream: A :class:`~seqforecast.Stream` whose layout and feature
                count match the model, such as :class:`~seqforecast.SineStream`
                or :class:`~seqforecast.ArrayStream`.
            steps: Number of windows (optimizer steps); None with ``epochs``,
                or to run a finite stream to its end.
            epochs: ``epochs * stream.windows_per_epoch`` windows, counted
                from where the stream stands (a pass over a stream that was
                partly used crosses into the next epoch).
            val_stream: A finite stream for validation, run with its own
                state and no gradients.
            val_every: Steps between validation passes (default: ``log_every``).

        Returns:
            The trainer's cumulative :class:`History`.

        Raises:
            TypeError: ``stream`` is not a stream of windows.
            ValueError: Bad ``steps``/``epochs``/``val_every``, more windows
                asked for than a finite stream has left, or windows that do
                not fit the model (layout, features, targets).
            TrainingDivergedError: A loss was NaN or infinite.

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
        check_stream("stream", stream, self.model)
        plan = self._cursor.plan(stream, steps, epochs)  # every check first: a refused fit changes nothing
        self.val_every = _validation_every(self.model, self.config.log_every, val_stream, val_every)
        self.planned_steps, self.should_stop, self.history.interrupted = plan.count, False, False
        for callback in self.callbacks:
            callback.on_fit_start(self)
        windows = self._cursor.begin(plan)
        if not plan.continues:
            self.state = None
        started = time.perf_counter()
        with torch_threads(self.config.threads), DeferredInterrupt() as interrupt:
            # DDP lives for one fit: released while the process group is alive, its
            # teardown cannot meet the group's own at interpreter exit
            self._train_module = self.distribution.wrap(self._objective, self.device)
            try:
                self._loop(windows, val_stream, interrupt)
            except KeyboardInterrupt:
                interrupt.requested = True
            except BaseException:  # the hooks run, then the error goes on (other ranks may wait in a collective)
                self._finish(interrupt, started, hooks=not self.distribution.enabled)
                raise
            self._finish(interrupt, started, hooks=True)
        return self.history

    def _finish(self, interrupt: DeferredInterrupt, started: float, *, hooks: bool) -> None:
        """End a ``fit``: time, interrupt flag, and the ``on_fit_end`` hooks (a Ctrl-C cannot break them)."""
        self._train_module = self._objective
        self.history.seconds += time.perf_counter() - started
        interrupt.finishing()
        self.history.interrupted = interrupt.requested
        for callback in self.callbacks if hooks else ():
            callback.on_fit_end(self, self.history)
        self.history.interrupted = interrupt.requested  # also a Ctrl-C during on_fit_end

    def _loop(self, windows: Iterator[Window], val_stream: Stream | None, interrupt: DeferredInterrupt) -> None:
        step = self._graphed or self._step
        log_every, distribution = self.config.log_every, self.distribution
        self._guard.begin()
        self.module.train()
        try:
            for window in windows:
                x, y, state = self._inputs(window)
                loss, new_state = step(x, y, state)
                self.state = detach_state(new_state) if self.config.stateful else None
                self._cursor.advance()
                self.history.steps += 1
                count = self.history.steps
                if count % log_every == 0:
                    self._check_targets.flush()  # windows built on the device: read back with the losses
                self._guard.record(loss, log_point=count % log_every == 0)
                for callback in self.callbacks:
                    callback.on_step_end(self, count, loss)
                if val_stream is not None and self.val_every is not None and count % self.val_every == 0:
                    self._validate(val_stream)
                stop = self.should_stop or interrupt.requested
                if distribution.enabled:  # ranks agree at log points, so all stop at the same step
                    stop = count % log_every == 0 and distribution.any(stop, self.device)
                if stop:
                    break
        except BaseException:
            if distribution.enabled:
                self._guard.discard()  # the other ranks may be inside a collective: no more of them here
            else:
                self._guard.flush()  # keep the losses of the steps that were done
            raise
        self._check_targets.flush()
        self._guard.flush()

    def _inputs(self, window: Window) -> tuple[Tensor, Tensor, State]:
        """The window on the device and the state it starts from (fresh, carried, or reset by lane)."""
        self._check_targets(window.targets)  # on the host if the stream built it there: no device sync
        x = window.inputs.to(self.device, non_blocking=True)
        y = window.targets.to(self.device, non_blocking=True)
        if x.shape[:-1] != y.shape[:-1] or y.shape[-1] != self.model.output_size:
            expected = (*x.shape[:-1], self.model.output_size)
            msg = f"window {self.stream_position} of `stream` has targets of shape {tuple(y.shape)}; the model's output is {expected}"
            raise ValueError(msg)
        state = _start_state(self.model, window.reset, self.state, self.device) if self.config.stateful else None
        return x, y, state

    def _step(self, x: Tensor, y: Tensor, state: State) -> tuple[Tensor, State]:
        """One optimizer step on a window; no host synchronisation except the CPU's loss check."""
        out, new_state = self._train_module(x, state)
        loss: object = self.loss_fn(out, y)  # checked: a user's loss may return anything
        if not isinstance(loss, Tensor) or loss.dim() != 0:
            what = f"shape {tuple(loss.shape)}" if isinstance(loss, Tensor) else describe(loss)
            msg = f"`loss` must return a 0-d tensor (a scalar loss with gradients), got {what}"
            raise (ValueError if isinstance(loss, Tensor) else TypeError)(msg)
        if self._guard.check_each_step:
            self._guard.check(loss)
        self.optimizer.zero_grad(set_to_none=True)
        torch.autograd.backward(loss)
        if self.config.clip_grad_norm is not None:
            nn.utils.clip_grad_norm_(self.module.parameters(), self.config.clip_grad_norm)
        self.optimizer.step()
        return loss.detach(), new_state

    def _validate(self, val_stream: Stream) -> None:
        self.module.eval()
        try:
            value = _mean_loss(self.model, self.loss_fn, val_stream, self.device, self._objective)
        finally:
            self.module.train()
        self.history.val_steps.append(self.history.steps)
        self.history.val_losses.append(value)
        for callback in self.callbacks:
            callback.on_validation_end(self, self.history.steps, value)

    def _forget_graph(self) -> None:
        if self._graphed is not None:
            self._graphed.invalidate()  # weights or optimizer state tensors were replaced

    # -- checkpoints ------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume, as plain data (tensors, numbers, lists, dicts).

        Reads back any losses still on the device first. In a distributed
        run every rank must call it (it gathers each rank's carried state).
        """
        self._guard.flush()
        rng: dict[str, Any] = {"cpu": torch.get_rng_state()}
        if torch.cuda.is_available():
            rng["cuda"] = torch.cuda.get_rng_state_all()
        ranks = self.distribution.gather({"state": _to_device(self.state, torch.device("cpu")), "rng": rng})
        return {
            "config": self.config.to_dict(),
            "optimizer_class": type(self.optimizer).__name__,
            "loss": "default" if _is_default_loss(self.model, self.loss_fn) else None,
            "world_size": self.distribution.world_size,
            "ranks": ranks,
            "optimizer": self.optimizer.state_dict(),
            "stream_position": self.stream_position,
            "stream": self._cursor.signature(),
            "history": self.history.to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output; the next ``fit`` continues the saved run.

        The next stream passed to :meth:`fit` is taken to be the saved run's
        stream (rebuilt the same way) and is continued at the saved position.

        Raises:
            ValueError: ``state`` is not a trainer state of this run's shape.
        """
        try:
            saved_world = int(state["world_size"])
            if saved_world != self.distribution.world_size:
                msg = (
                    f"the run was saved by {saved_world} process(es) and is resumed by "
                    f"{self.distribution.world_size}: resume it with the same number of processes"
                )
                raise ValueError(msg)
            mine = state["ranks"][self.distribution.rank]
            carried, rng = _to_device(mine["state"], self.device), mine["rng"]
            history = History.from_dict(state["history"])
            cursor = StreamCursor(self.distribution)
            cursor.restore(state["stream_position"], state["stream"])
            self.optimizer.load_state_dict(state["optimizer"])  # last of the checks: nothing else is changed before
            torch.set_rng_state(rng["cpu"].cpu())
            if "cuda" in rng and torch.cuda.is_available():
                torch.cuda.set_rng_state_all([t.cpu() for t in rng["cuda"]])
        except (KeyError, IndexError, TypeError, ValueError, RuntimeError, AttributeError) as error:
            msg = f"`state` is not a Trainer state dict of this run: {error}"
            raise ValueError(msg) from None
        for group in self.optimizer.param_groups:  # the saved run may have captured CUDA graphs, this one not
            if "capturable" in group:
                group["capturable"] = self._graphed is not None
        self.state, self._guard.history, self._cursor = carried, history, cursor
        self._forget_graph()

    def save_checkpoint(self, path: str | os.PathLike[str], **kwargs: Any) -> None:
        """Save the model and this trainer's state to ``path`` (see :func:`seqforecast.save`).

        Keyword arguments (``scaler``, ``differencer``, ``metadata``) go to
        :func:`seqforecast.save`. In a distributed run every rank calls it
        and the main process writes the file.

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
        optimizer: torch.optim.Optimizer | None = None,
        loss: LossFunction | None = None,
        callbacks: Sequence[Callback] = (),
        progress: bool = False,
        **changes: Any,
    ) -> Trainer:
        """Rebuild a trainer from :meth:`save_checkpoint` output, ready to continue.

        Training N steps, saving, resuming (in any process) and training M
        more gives the same losses and weights, bit for bit on the CPU, as
        training N + M steps at once, provided the stream is rebuilt the same
        way and passed to :meth:`fit`. The settings are the saved
        :class:`TrainerConfig`'s.

        Args:
            path: The checkpoint.
            model: A model to load the weights into (default: the one the
                checkpoint describes); it must have the saved class and sizes.
            optimizer: Needed only if the run used an optimizer that is not in
                ``torch.optim``; its state is loaded from the checkpoint.
            loss: Needed only if the run used a loss other than the model's
                default (MSE, or for a model with a likelihood or quantile
                head, the head's own loss).
            callbacks: Callbacks for the continued run.
            progress: Show a progress bar.
            **changes: Where the run continues: ``device``, ``threads``,
                ``distributed`` (with as many processes as before), ``cuda_graphs``.

        Raises:
            CheckpointError: The file is invalid or holds no (valid) trainer state.
            TypeError: ``changes`` names a setting a resumed run keeps.
            ValueError: ``model`` does not match the checkpoint, or the loss or
                optimizer cannot be rebuilt without help.

        Example:
            >>> import pathlib, tempfile, seqforecast as sf
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "run.safetensors"
            >>> whole = sf.Trainer(sf.FeedForwardForecaster(seed=0), device="cpu", seed=0)
            >>> _ = whole.fit(sf.SineStream(), steps=10)
            >>> first = sf.Trainer(sf.FeedForwardForecaster(seed=0), device="cpu", seed=0)
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
        config = _resume.saved_config(path, state, changes)
        if model is None:
            model = cast("Forecaster", saved.model)
        else:
            _resume.load_weights(saved, check_forecaster(model))
        if optimizer is None and state.get("optimizer_class") != "Adam":  # Adam: the Trainer's own, as it builds it
            optimizer = _resume.rebuild_optimizer(state.get("optimizer_class"), cast("nn.Module", model), config.lr)
        if loss is None and state.get("loss") not in ("default", "mse"):  # "mse": files saved before heads
            msg = "the run used a custom loss function: pass the same `loss=` to resume"
            raise ValueError(msg)
        trainer = cls(model, config, optimizer=optimizer, loss=loss, callbacks=callbacks, progress=progress)
        trainer.load_state_dict(state)
        return trainer
