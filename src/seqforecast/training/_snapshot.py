"""Copies of a model's weights and its optimizer's state, to roll back a diverged step."""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["Snapshot", "restore", "take"]


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """The weights and per-parameter optimizer state after ``step`` steps.

    Attributes:
        step: Steps trained when it was taken.
        weights: Copies of ``module.parameters()`` then ``module.buffers()``.
        optimizer_state: Copies of ``optimizer.state``, keyed by parameter.
    """

    step: int
    weights: list[Tensor]
    optimizer_state: dict[Tensor, Any]


def _copy_into(value: Any, previous: Any) -> Any:
    """A copy of nested dicts, lists and tuples of tensors, reusing ``previous``'s tensors.

    Where ``previous`` (an earlier copy of the same structure) has a tensor of
    the same shape, dtype and device in the same place, the value is copied
    into it; otherwise the tensor is cloned.
    """
    if isinstance(value, Tensor):
        if (
            isinstance(previous, Tensor)
            and previous.shape == value.shape
            and previous.dtype == value.dtype
            and previous.device == value.device
        ):
            return previous.copy_(value.detach())
        return value.detach().clone()
    if isinstance(value, dict):
        before = previous if isinstance(previous, dict) else {}
        return {k: _copy_into(v, before.get(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        same = isinstance(previous, (list, tuple)) and len(previous) == len(value)
        olds = previous if same else (None,) * len(value)
        return type(value)(_copy_into(v, b) for v, b in zip(value, olds, strict=True))
    return value


def _live(module: nn.Module) -> list[Tensor]:
    return [*module.parameters(), *module.buffers()]


def take(module: nn.Module, optimizer: torch.optim.Optimizer, step: int, previous: Snapshot | None) -> Snapshot:
    """Copy the weights and optimizer state now, into ``previous``'s memory where it fits.

    This walks the tensors directly instead of calling ``state_dict()``, whose
    Python work costs more than the copying itself for small models, and
    reuses memory instead of allocating afresh: a few times cheaper.
    """
    live = _live(module)
    old_weights: list[Any] = previous.weights if previous is not None else []
    if len(old_weights) != len(live):
        old_weights = [None] * len(live)
    old_state = previous.optimizer_state if previous is not None else {}
    return Snapshot(
        step=step,
        weights=[_copy_into(t, old) for t, old in zip(live, old_weights, strict=True)],
        optimizer_state={p: _copy_into(s, old_state.get(p)) for p, s in optimizer.state.items()},
    )


def restore(snapshot: Snapshot, module: nn.Module, optimizer: torch.optim.Optimizer) -> None:
    """Put the snapshot's weights (in place) and optimizer state (fresh copies) back.

    The optimizer gets copies, so the snapshot stays valid and is never
    written to by later steps.
    """
    with torch.no_grad():
        for tensor, saved in zip(_live(module), snapshot.weights, strict=True):
            tensor.copy_(saved)
    optimizer.state.clear()
    for param, state in snapshot.optimizer_state.items():
        optimizer.state[param] = _copy_into(state, None)
