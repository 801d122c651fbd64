"""What a forecaster carries from one call to the next, and the functions over it.

``State`` is ``None`` (a fresh start), a tensor (a recurrent network's hidden
state; the last ``context_length`` inputs of the feed-forward and convolutional
forecasters) or a tuple of tensors (an LSTM's ``(h, c)``). Here it is detached
at the edge of a training window, taken apart into its tensors and put back
together, reset lane by lane and checked against the shapes a model expects.
"""

from __future__ import annotations

from typing import TypeAlias

import torch
from torch import Tensor

from seqforecast._checks import describe

__all__ = ["State", "check_state", "detach_state", "reset_lanes", "state_like", "state_tensors"]

State: TypeAlias = Tensor | tuple[Tensor, ...] | None
"""What a forecaster carries from one call to the next (``None`` = fresh start)."""


def detach_state(state: State) -> State:
    """Detach every tensor of ``state`` from the autograd graph.

    This is the truncation of truncated back-propagation through time: the
    values are kept, gradients stop at the window edge. Works for every
    forecaster's state.

    Args:
        state: ``None``, a tensor, or a tuple of tensors (an LSTM's ``(h, c)``),
            of any shape: ``(num_layers, batch, hidden_size)`` for a recurrent
            network, ``(batch, context_length, input_size)`` for the others.

    Returns:
        The same structure and shapes with detached tensors (``None`` stays
        ``None``).

    Example:
        >>> import torch, seqforecast as sf
        >>> h = torch.zeros(3, 1, 32, requires_grad=True) * 2
        >>> sf.detach_state(h).requires_grad
        False
        >>> sf.detach_state(None) is None
        True
    """
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    return tuple(s.detach() for s in state)


def state_tensors(state: State) -> tuple[Tensor, ...]:
    """The tensors of ``state`` in order: none for ``None``, one for a tensor, each of a tuple.

    Example:
        >>> import torch
        >>> len(state_tensors(None)), len(state_tensors(torch.zeros(1))), len(state_tensors((torch.zeros(1),) * 2))
        (0, 1, 2)
    """
    if state is None:
        return ()
    return (state,) if isinstance(state, Tensor) else tuple(state)


def state_like(template: State, tensors: tuple[Tensor, ...]) -> State:
    """``tensors`` in the structure of ``template`` (the inverse of :func:`state_tensors`).

    Example:
        >>> import torch
        >>> state_like(torch.zeros(1), (torch.ones(1),))
        tensor([1.])
    """
    if template is None:
        return None
    return tensors[0] if isinstance(template, Tensor) else tensors


def reset_lanes(state: State, reset: Tensor, dim: int) -> State:
    """``state`` with the lanes marked in ``reset`` (bool, ``(batch,)``) set to zeros; ``dim`` indexes the lanes.

    The body of :meth:`~seqforecast.BaseForecaster.reset_state`, which documents it: a masked blend on the
    device, with no loop over lanes and no host synchronisation.

    Example:
        >>> import torch
        >>> reset_lanes(torch.ones(1, 3, 2), torch.tensor([True, False, False]), 1)[0, :, 0]
        tensor([0., 1., 1.])
    """
    given: object = reset
    if not isinstance(given, Tensor) or given.dtype != torch.bool:
        msg = f"`reset` must be a bool tensor of shape (batch,), got {describe(given)}"
        raise TypeError(msg)
    if state is None:
        return None
    tensors = state_tensors(state)
    batch = tensors[0].shape[dim]
    if reset.shape != (batch,):
        msg = f"`reset` must have shape ({batch},), one entry per lane of the state, got {tuple(reset.shape)}"
        raise ValueError(msg)
    shape = [1] * tensors[0].dim()
    shape[dim] = batch
    mask = reset.to(tensors[0].device).view(shape)
    return state_like(state, tuple(t.masked_fill(mask, 0) for t in tensors))


def check_state(
    state: State, expected: tuple[tuple[int, ...], ...], batch: int, device: torch.device, dtype: torch.dtype
) -> State:
    """Return ``state`` (a floating state of another dtype cast to ``dtype``), or raise.

    ``expected`` holds the shape of each tensor of the state for a batch of ``batch`` lanes; the tensors
    must be on ``device``.

    Example:
        >>> import torch
        >>> h = torch.zeros(2, 3, 4, dtype=torch.float64)  # (num_layers, batch, hidden_size)
        >>> check_state(h, ((2, 3, 4),), 3, torch.device("cpu"), torch.float32).dtype
        torch.float32
    """
    if state is None:
        return None
    given: object = state  # what the caller passed, whatever its annotation says
    if isinstance(given, Tensor):  # the common cases are accepted at once; anything else is diagnosed below
        if len(expected) == 1 and given.shape == expected[0] and given.device == device and given.dtype == dtype:
            return state
    elif (
        isinstance(given, tuple)
        and len(given) == len(expected)
        and all(
            isinstance(t, Tensor) and t.shape == e and t.device == device and t.dtype == dtype
            for t, e in zip(given, expected, strict=True)
        )
    ):
        return state
    tensors: object = (state,) if isinstance(state, Tensor) else state
    want = expected[0] if len(expected) == 1 else expected
    if not isinstance(tensors, tuple) or not all(isinstance(t, Tensor) for t in tensors):
        msg = f"`state` must be None or a tensor (tuple of {len(expected)} tensors) of shape {want}, got {describe(state)}"
        raise TypeError(msg)
    if len(tensors) != len(expected) or (len(expected) > 1 and isinstance(state, Tensor)):
        msg = f"`state` must be {'a tuple of ' + str(len(expected)) + ' tensors' if len(expected) > 1 else 'one tensor'} of shape {want}, got {len(tensors)} tensor(s)"
        raise TypeError(msg)
    got = tuple(tuple(t.shape) for t in tensors)
    if got != expected:
        got_text = got[0] if len(got) == 1 else got
        msg = f"`state` must have shape {want} for a batch of {batch}, got {got_text}; was it made by another model or batch size?"
        raise ValueError(msg)
    for t in tensors:
        if t.device != device:
            msg = f"`state` is on {t.device} but the input is on {device}"
            raise ValueError(msg)
        if not t.is_floating_point():
            msg = f"`state` must have a floating dtype like the model ({dtype}), got {t.dtype}"
            raise TypeError(msg)
    cast_tensors = tuple(t.to(dtype) for t in tensors)  # another floating dtype: cast, as inputs are
    return cast_tensors[0] if isinstance(state, Tensor) else cast_tensors
