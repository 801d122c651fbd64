"""Invertible transforms for series: standardisation and differencing.

Both take and return arrays of the same kind: NumPy in, NumPy out; a torch
tensor in, a tensor of the same dtype and device out. The time axis is the
first and features the last: ``(time,)`` or ``(time, features)``
(:class:`Scaler` also accepts ``(batch, time, features)``). Their state is
plain JSON (:meth:`state_dict` / :meth:`from_state_dict`), so checkpoints
store it without pickling. Compose them by hand: difference first, then
scale; undo in the reverse order.

Example:
    >>> import numpy as np, seqforecast as sf
    >>> trend = np.arange(10.0) ** 2
    >>> differencer, scaler = sf.Differencer(), sf.Scaler()
    >>> model_space = scaler.fit_transform(differencer.fit_transform(trend))
    >>> restored = differencer.inverse_transform(scaler.inverse_transform(model_space))
    >>> bool(np.allclose(restored, trend))
    True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any, TypeVar

import numpy as np
import torch
from torch import Tensor

from seqforecast._checks import as_float_tensor, describe

__all__ = ["Differencer", "Scaler"]

ArrayT = TypeVar("ArrayT", np.ndarray, Tensor)


def _to_numpy(name: str, data: object, *, min_dim: int = 1, max_dim: int = 2) -> np.ndarray:
    """Validate ``data`` (finite numbers, integers included) and return it as float64 NumPy."""
    tensor = as_float_tensor(name, data, dtype=torch.float64, device="cpu", integers=True)
    if not min_dim <= tensor.dim() <= max_dim:
        shapes = "(time,) or (time, features)" + (" or (batch, time, features)" if max_dim == 3 else "")
        msg = f"`{name}` must have shape {shapes}, got shape {tuple(tensor.shape)}"
        raise ValueError(msg)
    return tensor.numpy()


def _like(result: np.ndarray, original: object) -> Any:
    """Return ``result`` as the kind of array ``original`` was."""
    if isinstance(original, Tensor):
        dtype = original.dtype if original.is_floating_point() else torch.get_default_dtype()  # counts become floats
        return torch.from_numpy(result).to(dtype=dtype, device=original.device)
    if isinstance(original, np.ndarray) and original.dtype.kind == "f":
        return result.astype(original.dtype, copy=False)
    return result


def _features(array: np.ndarray) -> int:
    return 1 if array.ndim == 1 else int(array.shape[-1])


def _vector(name: str, values: object, features: int) -> np.ndarray:
    """``values`` as ``features`` finite float64 numbers, shape ``(features,)``."""
    try:
        array: np.ndarray | None = np.asarray(values, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        array = None
    if array is None or array.shape != (features,) or not np.all(np.isfinite(array)):
        msg = f"`{name}` must be {features} finite number(s), one per feature, got {describe(values)}"
        raise ValueError(msg)
    return array


def _anchor_for(name: str, value: object, array: np.ndarray) -> np.ndarray:
    """A level given for ``array`` of differences: one finite number per feature."""
    vector = _vector(name, value, _features(array))
    return vector if array.ndim == 2 else vector[:1].reshape(())


@contextlib.contextmanager
def _no_overflow(what: str) -> Iterator[None]:
    """Turn a float64 overflow inside the block into a :class:`ValueError` about ``what``."""
    try:
        with np.errstate(over="raise", invalid="raise"):
            yield
    except FloatingPointError:
        msg = f"{what} overflows float64 (values beyond {np.finfo(np.float64).max:.3g}); rescale the data first"
        raise ValueError(msg) from None


def _check_keys(state: object, keys: tuple[str, str]) -> None:
    if not isinstance(state, dict) or set(state) != set(keys):
        msg = f"`state` must be a dict with keys {keys[0]!r} and {keys[1]!r}, got {describe(state)}"
        raise ValueError(msg)


class Scaler:
    """Per-feature standardisation: ``(x - mean) / std``, fit on training data only.

    A feature with zero variance (a constant) is only centred: its ``std``
    is stored as 1, so the transform stays finite and exactly invertible.

    Attributes:
        mean: Per-feature means, shape ``(features,)`` (None before :meth:`fit`).
        std: Per-feature standard deviations, shape ``(features,)``.

    Example:
        >>> import numpy as np, seqforecast as sf
        >>> scaler = sf.Scaler().fit(np.array([1.0, 2.0, 3.0]))
        >>> scaler.transform(np.array([2.0, 4.0]))
        array([0.    , 2.4495])
    """

    def __init__(self) -> None:
        self.mean: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def fit(self, data: object) -> Scaler:
        """Learn the per-feature mean and standard deviation of ``data``.

        Args:
            data: ``(time,)``, ``(time, features)`` or ``(batch, time, features)``.

        Returns:
            ``self``.
        """
        array = _to_numpy("data", data, max_dim=3)
        flat = array.reshape(-1, _features(array))  # (points, features)
        if flat.shape[0] == 0:
            msg = f"`data` must have at least one point to fit a Scaler, got shape {array.shape}"
            raise ValueError(msg)
        with np.errstate(over="ignore", invalid="ignore"):
            mean, std = flat.mean(axis=0), flat.std(axis=0)
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):  # the sums overflowed float64
            scale = np.abs(flat).max(axis=0)  # > 0 here; statistics of flat / scale are at most 1
            unit = flat / scale
            mean, std = unit.mean(axis=0) * scale, unit.std(axis=0) * scale
        self.mean = mean
        self.std = np.where(std > 0, std, 1.0)
        return self

    def _fitted(self, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.mean is None or self.std is None:
            msg = "this Scaler is not fitted yet: call fit(training_data) first"
            raise ValueError(msg)
        if _features(data) != self.mean.shape[0]:
            msg = f"`data` must have {self.mean.shape[0]} features like the data the Scaler was fitted on, got shape {data.shape}"
            raise ValueError(msg)
        return self.mean, self.std

    def transform(self, data: ArrayT) -> ArrayT:
        """Standardise ``data`` (any shape the scaler accepts); same kind and shape out."""
        array = _to_numpy("data", data, max_dim=3)
        mean, std = self._fitted(array)
        with _no_overflow("standardising `data`"):
            standard = ((array.reshape(-1, mean.shape[0]) - mean) / std).reshape(array.shape)
        result: ArrayT = _like(standard, data)
        return result

    def inverse_transform(self, data: ArrayT) -> ArrayT:
        """Undo :meth:`transform`; same kind and shape out.

        Example:
            >>> import torch, seqforecast as sf
            >>> series = torch.tensor([[1.0, 10.0], [3.0, 30.0]])  # (time, features)
            >>> scaler = sf.Scaler().fit(series)
            >>> scaler.transform(series)
            tensor([[-1., -1.],
                    [ 1.,  1.]])
            >>> torch.equal(scaler.inverse_transform(scaler.transform(series)), series)
            True
        """
        array = _to_numpy("data", data, max_dim=3)
        mean, std = self._fitted(array)
        with _no_overflow("undoing the standardisation of `data`"):
            original = (array.reshape(-1, mean.shape[0]) * std + mean).reshape(array.shape)
        result: ArrayT = _like(original, data)
        return result

    def fit_transform(self, data: ArrayT) -> ArrayT:
        """:meth:`fit` then :meth:`transform` the same data."""
        return self.fit(data).transform(data)

    def state_dict(self) -> dict[str, Any]:
        """The fitted statistics as JSON-serialisable lists."""
        return {
            "mean": None if self.mean is None else self.mean.tolist(),
            "std": None if self.std is None else self.std.tolist(),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Scaler:
        """Rebuild a scaler from :meth:`state_dict` output."""
        scaler = cls()
        _check_keys(state, ("mean", "std"))
        if state["mean"] is not None:
            scaler.mean = _vector("state['mean']", state["mean"], len(state["mean"]))
            scaler.std = _vector("state['std']", state["std"], len(state["mean"]))
            if np.any(scaler.std <= 0):
                msg = f"`state['std']` must be positive, got {state['std']}"
                raise ValueError(msg)
        return scaler

    def __repr__(self) -> str:
        return "Scaler()" if self.mean is None else f"Scaler(mean={self.mean.tolist()}, std={self.std})"


class Differencer:
    """First differences ``x[t] - x[t-1]``, for series with a trend.

    :meth:`fit` remembers the first value (the anchor that
    :meth:`inverse_transform` starts from) and the last value (where
    :meth:`integrate` continues from, to turn forecast differences back into
    levels).

    Example:
        >>> import numpy as np, seqforecast as sf
        >>> d = sf.Differencer()
        >>> d.fit_transform(np.array([1.0, 3.0, 6.0]))
        array([2., 3.])
        >>> d.integrate(np.array([4.0, 5.0]))  # continue after the last value, 6
        array([10., 15.])
    """

    def __init__(self) -> None:
        self.first: np.ndarray | None = None
        self.last: np.ndarray | None = None

    def fit(self, data: object) -> Differencer:
        """Remember the first and last value of ``data`` ``(time,)`` or ``(time, features)``."""
        array = _to_numpy("data", data)
        if array.shape[0] < 2:
            msg = f"`data` must have at least 2 time steps to difference, got shape {array.shape}"
            raise ValueError(msg)
        self.first, self.last = array[0].reshape(-1).copy(), array[-1].reshape(-1).copy()
        return self

    def _anchor(self, which: np.ndarray | None, array: np.ndarray) -> np.ndarray:
        if which is None:
            msg = "this Differencer is not fitted yet: call fit(data) first"
            raise ValueError(msg)
        if _features(array) != which.shape[0]:
            msg = f"`data` must have {which.shape[0]} features like the fitted data, got shape {array.shape}"
            raise ValueError(msg)
        return which if array.ndim == 2 else which[0]

    def transform(self, data: ArrayT) -> ArrayT:
        """Differences of ``data``: one time step shorter, same kind out."""
        array = _to_numpy("data", data)
        if array.shape[0] < 2:
            msg = f"`data` must have at least 2 time steps to difference, got shape {array.shape}"
            raise ValueError(msg)
        with _no_overflow("differencing `data`"):
            differences = np.diff(array, axis=0)
        result: ArrayT = _like(differences, data)
        return result

    def inverse_transform(self, diffs: ArrayT, anchor: object = None) -> ArrayT:
        """Rebuild the levels from differences: one time step longer.

        Args:
            diffs: ``(time,)`` or ``(time, features)`` differences.
            anchor: The first level, one finite number per feature
                (default: the first fitted value).

        Returns:
            ``[anchor, anchor + cumsum(diffs)]``, the same kind as ``diffs``.

        Example:
            >>> import numpy as np, seqforecast as sf
            >>> d = sf.Differencer()
            >>> diffs = d.fit_transform(np.array([1.0, 3.0, 6.0]))  # (3,) -> (2,)
            >>> d.inverse_transform(diffs)
            array([1., 3., 6.])
        """
        array = _to_numpy("diffs", diffs)
        start = self._anchor(self.first, array) if anchor is None else _anchor_for("anchor", anchor, array)
        with _no_overflow("integrating `diffs`"):
            levels = np.concatenate(
                [np.expand_dims(start, 0) * np.ones_like(array[:1]), start + np.cumsum(array, axis=0)]
            )
        result: ArrayT = _like(levels, diffs)
        return result

    def integrate(self, diffs: ArrayT, start: object = None) -> ArrayT:
        """Levels that follow ``start`` (default: the last fitted value): ``start + cumsum(diffs)``.

        ``start`` is one finite number per feature of ``diffs``.
        """
        array = _to_numpy("diffs", diffs)
        origin = self._anchor(self.last, array) if start is None else _anchor_for("start", start, array)
        with _no_overflow("integrating `diffs`"):
            levels = origin + np.cumsum(array, axis=0)
        result: ArrayT = _like(levels, diffs)
        return result

    def fit_transform(self, data: ArrayT) -> ArrayT:
        """:meth:`fit` then :meth:`transform` the same data."""
        return self.fit(data).transform(data)

    def state_dict(self) -> dict[str, Any]:
        """The anchors as JSON-serialisable lists."""
        return {
            "first": None if self.first is None else self.first.tolist(),
            "last": None if self.last is None else self.last.tolist(),
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Differencer:
        """Rebuild a differencer from :meth:`state_dict` output."""
        _check_keys(state, ("first", "last"))
        differencer = cls()
        if state["first"] is not None:
            differencer.first = _vector("state['first']", state["first"], len(state["first"]))
            differencer.last = _vector("state['last']", state["last"], len(state["first"]))
        return differencer

    def __repr__(self) -> str:
        return "Differencer()" if self.first is None else f"Differencer(first={self.first.tolist()})"
