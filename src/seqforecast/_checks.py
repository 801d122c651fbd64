"""Validators shared by the public entry points.

Every function here raises :class:`TypeError` or :class:`ValueError` with a
message that names the argument, what was expected and what was received.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

__all__ = [
    "as_float_tensor",
    "check_bool",
    "check_choice",
    "check_finite_tensor",
    "check_float",
    "check_floating_tensor",
    "check_int",
    "check_path",
    "check_quantiles",
    "describe",
    "resolve_device",
]


def describe(value: Any) -> str:
    """Return a short description of ``value`` for error messages."""
    if isinstance(value, Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{text} ({type(value).__name__})"


def check_int(name: str, value: object, *, minimum: int = 1) -> int:
    """Return ``value`` if it is an ``int`` of at least ``minimum``.

    Raises:
        TypeError: ``value`` is not an integer (``bool`` is refused too).
        ValueError: ``value`` is smaller than ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        msg = f"`{name}` must be an integer >= {minimum}, got {describe(value)}"
        raise TypeError(msg)
    if value < minimum:
        msg = f"`{name}` must be an integer >= {minimum}, got {value}"
        raise ValueError(msg)
    return int(value)


def check_float(
    name: str,
    value: object,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """Return ``value`` as a finite ``float`` inside the given bounds.

    Raises:
        TypeError: ``value`` is not a real number.
        ValueError: ``value`` is NaN, infinite or outside the bounds.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        msg = f"`{name}` must be a real number, got {describe(value)}"
        raise TypeError(msg)
    result = float(value)
    left = "[" if low_inclusive else "("
    right = "]" if high_inclusive else ")"
    bounds = f"in {left}{'-inf' if low is None else low}, {'inf' if high is None else high}{right}"
    out_of_range = (
        not math.isfinite(result)
        or (low is not None and (result < low if low_inclusive else result <= low))
        or (high is not None and (result > high if high_inclusive else result >= high))
    )
    if out_of_range:
        msg = f"`{name}` must be a finite number {bounds}, got {value!r}"
        raise ValueError(msg)
    return result


def check_bool(name: str, value: object) -> bool:
    """Return ``value`` if it is ``True`` or ``False``."""
    if not isinstance(value, bool):
        msg = f"`{name}` must be True or False, got {describe(value)}"
        raise TypeError(msg)
    return value


def check_floating_tensor(name: str, value: object) -> Tensor:
    """Return ``value`` if it is a tensor with a floating dtype."""
    if not isinstance(value, Tensor) or not value.is_floating_point():
        msg = f"`{name}` must be a floating torch.Tensor, got {describe(value)}"
        raise TypeError(msg)
    return value


def check_choice(name: str, value: object, choices: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    if not isinstance(value, str) or value not in choices:
        options = ", ".join(repr(c) for c in choices)
        msg = f"`{name}` must be one of {options}, got {value!r}"
        raise ValueError(msg)
    return value


_SMALL = 64  # up to this many values, checking them in Python beats launching kernels


def check_finite_tensor(name: str, tensor: Tensor) -> None:
    """Raise :class:`ValueError` naming the first NaN or infinite element.

    This reads the tensor back to the host: call it on user input at API
    boundaries, never inside a training step.
    """
    if tensor.device.type == "cpu" and tensor.numel() <= _SMALL:
        values = tensor.tolist() if tensor.dim() == 1 else tensor.reshape(-1).tolist()
        if all(map(math.isfinite, values)):  # a few values: no kernels
            return
    elif bool(torch.isfinite(tensor).all()):
        return
    bad = ~torch.isfinite(tensor)
    if bool(bad.any()):
        index = tuple(int(i) for i in bad.nonzero()[0].tolist())
        value = tensor[index].item()
        msg = f"`{name}` must contain only finite values, got {value} at index {index}"
        raise ValueError(msg)


def check_quantiles(name: str, quantiles: object) -> tuple[float, ...]:
    """Return quantile levels ``quantiles`` as a tuple of floats if they are increasing and inside ``(0, 1)``.

    The order is kept, not imposed: the levels say what each entry along a
    dimension of a quantile forecast means. (Interval levels in percent are
    checked by ``seqforecast.results.check_levels``.)

    Raises:
        TypeError: Not a sequence (or 1-D array or tensor) of real numbers.
        ValueError: Empty, unsorted, repeated or outside ``(0, 1)``.

    Example:
        >>> check_quantiles("quantiles", [0.1, 0.5, 0.9])
        (0.1, 0.5, 0.9)
        >>> check_quantiles("quantiles", np.array([0.25, 0.75], dtype=np.float32))
        (0.25, 0.75)
        >>> check_quantiles("quantiles", [np.float32(0.5)])
        (0.5,)
    """
    given: Any = quantiles
    if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
        if isinstance(given, (Tensor, np.ndarray)) and given.ndim == 1:
            given = given.tolist()
        else:
            msg = f"`{name}` must be a sequence of levels in (0, 1), such as (0.1, 0.5, 0.9), got {describe(quantiles)}"
            raise TypeError(msg)
    if any(isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, float, np.integer, np.floating)) for q in given):
        msg = f"`{name}` must hold numbers in (0, 1), got {describe(quantiles)}"
        raise TypeError(msg)
    levels = tuple(float(q) for q in given)
    if not levels:
        msg = f"`{name}` must hold at least one level in (0, 1), got none"
        raise ValueError(msg)
    if not all(0.0 < q < 1.0 for q in levels):
        msg = f"`{name}` must be levels strictly between 0 and 1, got {list(levels)}"
        raise ValueError(msg)
    if any(b <= a for a, b in itertools.pairwise(levels)):
        msg = f"`{name}` must be sorted increasing without repeats, got {list(levels)}"
        raise ValueError(msg)
    return levels


def as_float_tensor(
    name: str,
    value: object,
    *,
    dtype: torch.dtype | None = None,
    device: torch.device | str | None = None,
    check_finite: bool = True,
    integers: bool = False,
) -> Tensor:
    """Convert array-like ``value`` to a floating tensor, refusing bad data.

    Tensors keep their device unless ``device`` is given; floating inputs are
    cast to ``dtype`` (default: keep a floating dtype, ``float32`` otherwise).
    With ``integers=True`` (a series of counts), integer inputs are converted
    to ``dtype`` (default ``float32``) too.

    Raises:
        TypeError: ``value`` is not array-like, or has a bool or complex
            dtype, or an integer dtype without ``integers=True``.
        ValueError: ``value`` is ragged or contains NaN or infinity.
    """
    if isinstance(value, Tensor):
        tensor = value
    else:
        try:
            array = np.asarray(value)
        except (ValueError, TypeError) as error:
            msg = f"`{name}` must be a rectangular array of numbers, got {describe(value)}: {error}"
            raise ValueError(msg) from None
        if array.dtype == object or array.dtype.kind in "USV":
            msg = f"`{name}` must be an array of numbers, got {describe(value)} of dtype {array.dtype}"
            raise TypeError(msg)
        array = np.ascontiguousarray(array, dtype=None if array.dtype.kind in "biuc" else np.float64)
        if not array.flags.writeable:  # a read-only view (pandas' copy-on-write): torch needs memory it may own
            array = array.copy()
        tensor = torch.from_numpy(array)
    integer = integers and tensor.dtype != torch.bool and not tensor.is_complex()
    if not tensor.is_floating_point() and not integer:
        accepted = "a floating or integer dtype" if integers else "a floating dtype (float16/32/64 or bfloat16)"
        got = describe(tensor) if isinstance(value, Tensor) else f"{describe(value)} holding {tensor.dtype} values"
        msg = f"`{name}` must have {accepted}, got {got}; convert it to floating point if the values are numbers"
        raise TypeError(msg)
    keep = isinstance(value, Tensor) and tensor.is_floating_point()
    target_dtype = dtype if dtype is not None else (tensor.dtype if keep else torch.float32)
    source = tensor
    tensor = tensor.to(device=device if device is not None else tensor.device, dtype=target_dtype)
    if check_finite:
        try:
            check_finite_tensor(name, tensor)
        except ValueError:
            _check_cast(name, source, tensor)
            raise
    return tensor


def _check_cast(name: str, source: Tensor, cast: Tensor) -> None:
    """Raise a :class:`ValueError` if a finite value of ``source`` became infinite in ``cast``."""
    overflowed = torch.isfinite(source.to(cast.device)) & ~torch.isfinite(cast)
    if bool(overflowed.any()):
        index = tuple(int(i) for i in overflowed.nonzero()[0].tolist())
        limit = torch.finfo(cast.dtype).max
        msg = (
            f"`{name}` holds {source[index].item():g} at index {index}, which overflows {cast.dtype} "
            f"(largest finite value {limit:.4g}); rescale the data or use a wider dtype"
        )
        raise ValueError(msg)


def check_path(name: str, value: object) -> str | os.PathLike[str]:
    """Return ``value`` if it is a file path: a non-empty ``str`` or an ``os.PathLike``.

    Raises:
        TypeError: ``value`` is not a ``str`` or path-like object (``None``, bytes, a number...).
        ValueError: ``value`` is the empty string.
    """
    if not isinstance(value, (str, os.PathLike)):
        msg = f"`{name}` must be a file path (str or os.PathLike), got {describe(value)}"
        raise TypeError(msg)
    if isinstance(value, str) and not value:
        msg = f"`{name}` must be a file path, got the empty string"
        raise ValueError(msg)
    return value


def resolve_device(device: object, name: str = "device") -> torch.device:
    """Resolve ``"auto"`` to CUDA when available, else CPU; validate the rest.

    A CUDA device must exist on this machine (``"cuda:3"`` needs four GPUs).

    Raises:
        TypeError: ``device`` is not a ``str`` or :class:`torch.device`.
        ValueError: ``device`` names no device type, or one this machine lacks.
    """
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if not isinstance(device, (str, torch.device)):
        msg = f"`{name}` must be 'auto', 'cpu', 'cuda' or a torch.device, got {describe(device)}"
        raise TypeError(msg)
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        msg = f"`{name}` must be 'auto', 'cpu', 'cuda' or a torch.device, got {device!r}"
        raise ValueError(msg) from None
    if resolved.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            msg = f"`{name}` is {device!r} but CUDA is not available on this machine"
            raise ValueError(msg)
        if (resolved.index or 0) >= count:
            msg = f"`{name}` is {device!r} but this machine has {count} CUDA device(s)"
            raise ValueError(msg)
    elif resolved.type == "mps" and not torch.backends.mps.is_available():
        msg = f"`{name}` is {device!r} but MPS is not available on this machine"
        raise ValueError(msg)
    elif resolved.type not in ("cpu", "cuda", "mps", "meta"):
        msg = f"`{name}` must be a CPU, CUDA or MPS device, got {device!r}"
        raise ValueError(msg)
    return resolved
