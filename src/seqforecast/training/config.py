"""The settings of a training run: one frozen object, stored in checkpoints and read by resume."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import torch

from seqforecast._checks import check_bool, check_float, check_int, describe

__all__ = ["TrainerConfig"]


@dataclasses.dataclass(frozen=True)
class TrainerConfig:
    """Everything about a training run that is data, validated when built.

    :class:`~seqforecast.Trainer` takes it (or its fields as keywords); a
    checkpoint stores :meth:`to_dict` and :meth:`Trainer.resume
    <seqforecast.Trainer.resume>` rebuilds the run from it. The objects that
    are not data (optimizer, loss, callbacks) are passed to the Trainer
    beside it.

    Attributes:
        lr: Learning rate of the default optimizer, > 0.
        stateful: Carry the state across windows (truncated BPTT) or
            restart it at every window.
        clip_grad_norm: Clip the gradient norm to this value (> 0), or None.
        log_every: Steps between read-backs of the loss from the device
            (and divergence snapshots), >= 1.
        seed: Seeds torch's generator when the Trainer is built (for
            dropout and anything else drawn during training), or None.
        device: ``"auto"`` (CUDA when available), ``"cpu"``, ``"cuda"``,
            ``"cuda:1"``...
        threads: Torch's intra-op thread count during ``fit`` (restored
            afterwards), or None to leave it as it is. Small models train
            fastest on one thread on the CPU.
        distributed: DistributedDataParallel over ``torchrun`` processes:
            None uses it when a process group is initialised, True starts
            one from the environment, False never.
        cuda_graphs: On CUDA, capture the training step as a CUDA graph and
            replay it (ignored on the CPU and when distributed).

    Example:
        >>> import seqforecast as sf
        >>> config = sf.TrainerConfig(lr=0.005, clip_grad_norm=1.0)
        >>> sf.TrainerConfig.from_dict(config.to_dict()) == config
        True
        >>> sf.TrainerConfig(lr=-1.0)
        Traceback (most recent call last):
        ...
        ValueError: `lr` must be a finite number in (0.0, inf], got -1.0
    """

    lr: float = 0.01
    stateful: bool = True
    clip_grad_norm: float | None = None
    log_every: int = 25
    seed: int | None = None
    device: str | torch.device = "auto"  # kept as a string: "auto", "cpu", "cuda:1"...
    threads: int | None = None
    distributed: bool | None = None
    cuda_graphs: bool = False

    def __post_init__(self) -> None:
        checked: dict[str, object] = {
            "lr": check_float("lr", self.lr, low=0.0, low_inclusive=False),
            "stateful": check_bool("stateful", self.stateful),
            "clip_grad_norm": None
            if self.clip_grad_norm is None
            else check_float("clip_grad_norm", self.clip_grad_norm, low=0.0, low_inclusive=False),
            "log_every": check_int("log_every", self.log_every),
            "seed": None if self.seed is None else check_int("seed", self.seed, minimum=0),
            "device": _check_device(self.device),
            "threads": None if self.threads is None else check_int("threads", self.threads),
            "distributed": None if self.distributed is None else check_bool("distributed", self.distributed),
            "cuda_graphs": check_bool("cuda_graphs", self.cuda_graphs),
        }
        for name, value in checked.items():  # normalised (numpy ints, torch.device) and frozen
            object.__setattr__(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-serialisable ``dict``."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainerConfig:
        """Build a configuration from :meth:`to_dict` output (missing keys take their defaults).

        Raises:
            TypeError: ``data`` is not a mapping, or a value has the wrong type.
            ValueError: ``data`` has unknown keys, or a value is out of range.
        """
        given: object = data
        if not isinstance(given, Mapping):
            msg = f"`data` must be a mapping of TrainerConfig fields, got {describe(data)}"
            raise TypeError(msg)
        unknown = _unknown(data)
        if unknown:
            msg = f"`data` has unknown keys for TrainerConfig: {unknown}; expected a subset of {_names()}"
            raise ValueError(msg)
        return cls(**data)

    def replace(self, **changes: Any) -> TrainerConfig:
        """A copy with ``changes`` applied (and validated).

        Raises:
            TypeError: A name in ``changes`` is not a field.

        Example:
            >>> import seqforecast as sf
            >>> sf.TrainerConfig().replace(device="cpu").device
            'cpu'
        """
        unknown = _unknown(changes)
        if unknown:
            msg = f"unknown TrainerConfig setting(s) {unknown}; the settings are {_names()}"
            raise TypeError(msg)
        return dataclasses.replace(self, **changes)


def _names() -> list[str]:
    return sorted(f.name for f in dataclasses.fields(TrainerConfig))


def _unknown(keys: Mapping[str, Any]) -> list[str]:
    return sorted(set(keys) - set(_names()))


def _check_device(device: object) -> str:
    """``device`` as a string torch understands (or ``"auto"``); availability is checked when used."""
    if isinstance(device, torch.device):
        return str(device)
    if not isinstance(device, str):
        msg = f"`device` must be 'auto', 'cpu', 'cuda' or a torch.device, got {describe(device)}"
        raise TypeError(msg)
    if device != "auto":
        try:
            torch.device(device)
        except (RuntimeError, TypeError):
            msg = f"`device` must be 'auto', 'cpu', 'cuda', 'cuda:N' or a torch.device, got {device!r}"
            raise ValueError(msg) from None
    return device
