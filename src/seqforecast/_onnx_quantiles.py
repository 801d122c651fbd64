"""The runtime's one-step quantiles and intervals of a likelihood or quantile head, in the data's units (NumPy only).

:class:`~seqforecast.runtime.OnnxStreamingForecaster` keeps the head's
parameters from each update (the graph's ``params`` output, see
:mod:`seqforecast._export_heads`); this base class turns them into
quantiles with :mod:`seqforecast._numpy_quantiles` and maps them through the
transform: a level is ``quantile * std + mean + anchor``, the same affine map
as the point forecast's, so quantiles of the transformed value are quantiles
of the level.
"""

from __future__ import annotations

import numpy as np

from seqforecast._numpy_quantiles import check_probabilities, head_quantiles
from seqforecast._onnx_metadata import Head, Layout, describe

__all__ = ["OneStepQuantiles"]


class OneStepQuantiles:
    """What the streaming runtime needs for one-step quantiles (its state lives in the subclass)."""

    output_size: int
    _layout: Layout
    _head: Head | None
    _params: np.ndarray | None  # (batch, width * output_size), model space
    _offset: int
    _seen: int
    _plain: bool
    _std: np.ndarray
    _mean: np.ndarray
    _tail: np.ndarray
    _unbatched: bool

    def quantiles(self, levels: object) -> np.ndarray:
        """The quantiles at ``levels`` of the next value's one-step distribution, in the data's units.

        For a model with a likelihood or quantile head: the distribution the
        head gave at the last :meth:`update`, as
        ``model.distribution(...).icdf(levels)`` gives it in torch, mapped
        through the transform (quantiles scale and shift with it).

        Args:
            levels: Increasing probabilities in ``(0, 1)``; for a quantile
                head, within its outermost levels.

        Returns:
            Float64 ``(len(levels), output_size)``, or ``(len(levels),
            batch, output_size)`` after batched observations.

        Raises:
            ValueError: A point model, no update since the start (or too few
                for the transform), or levels outside a quantile head's range.

        Example:
            >>> import pathlib, tempfile, numpy as np, seqforecast as sf
            >>> from seqforecast.runtime import OnnxStreamingForecaster
            >>> path = pathlib.Path(tempfile.mkdtemp()) / "gauss.onnx"
            >>> _ = sf.export_onnx(sf.RecurrentForecaster(hidden_size=8, likelihood="gaussian"), path)
            >>> stream = OnnxStreamingForecaster(path)
            >>> point = stream.update(np.array([0.5]))
            >>> stream.quantiles([0.1, 0.5, 0.9]).shape
            (3, 1)
            >>> bool(np.allclose(stream.quantiles([0.5])[0], point))  # the median of a Gaussian is its mean
            True
        """
        return self._one_step(check_probabilities("levels", levels))

    def _one_step(self, probabilities: tuple[float, ...]) -> np.ndarray:
        """:meth:`quantiles` at checked ``probabilities``."""
        if self._head is None:
            msg = "this model has a point head: export a model built with likelihood=... or quantiles=... for quantiles"
            raise ValueError(msg)
        if self._params is None:
            msg = f"no one-step distribution yet: update() this stream with {self._offset + 1 - self._seen} more observation(s) first"
            raise ValueError(msg)
        params = self._params.reshape(self._params.shape[0], self._head.width, self.output_size)
        q = head_quantiles(self._head.kind, self._head.levels, params, probabilities)  # (Q, batch, F)
        if not self._plain:
            q = q * self._std + self._mean + self._layout.anchor(self._tail, len(self._tail))
        return q[:, 0] if self._unbatched else q

    def interval(self, level: float) -> tuple[np.ndarray, np.ndarray]:
        """The central ``level`` % interval of the next value: its ``(1 ± level / 100) / 2`` quantiles.

        Args:
            level: Percent, strictly between 0 and 100.

        Returns:
            ``(lower, upper)``, each shaped like :meth:`update`'s forecast.

        Raises:
            TypeError, ValueError: As :meth:`quantiles`, or ``level`` outside ``(0, 100)``.
        """
        if isinstance(level, bool) or not isinstance(level, (int, float, np.integer, np.floating)):
            msg = f"`level` must be a number strictly between 0 and 100 (percent), got {describe(level)}"
            raise TypeError(msg)
        if not 0.0 < float(level) < 100.0:
            msg = f"`level` must be strictly between 0 and 100 (percent), got {level!r}"
            raise ValueError(msg)
        lower, upper = self._one_step(((100.0 - float(level)) / 200.0, (100.0 + float(level)) / 200.0))
        return lower, upper
