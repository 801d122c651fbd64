"""What an exported likelihood or quantile head adds to the ONNX graph: a ``params`` output and its description.

The graph of a forecaster with a head returns its point forecast as ``y``,
as :meth:`~seqforecast.BaseForecaster.forward` does, and the parameters of
each step's one-step distribution as a last output, ``params``, in the
layout of ``y`` with ``width * output_size`` features: block ``i`` (features
``i * output_size`` to ``(i + 1) * output_size``) holds parameter ``i`` of
every output feature, already transformed as :mod:`seqforecast.heads` does:

* ``"gaussian"``: ``loc``, ``scale``;
* ``"student_t"``: ``loc``, ``scale``, ``df``;
* ``"negative_binomial"``: ``mean``, ``dispersion``;
* ``"quantiles"``: the quantile at each level of the head (non-crossing).

The metadata's ``seqforecast.head`` names the kind, the parameters, the
levels of a quantile head and the output; the runtime turns them into
quantiles and intervals in NumPy (:mod:`seqforecast._numpy_quantiles`).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.nn import functional as F

from seqforecast._numpy_quantiles import HEAD_PARAMETERS
from seqforecast.heads import OutputHead

__all__ = ["PARAMS", "head_metadata", "head_outputs"]

PARAMS = "params"
"""The name of the graph output that holds the head's parameters."""


def head_outputs(head: OutputHead, raw: Tensor) -> tuple[Tensor, Tensor]:
    """``(point, params)`` from the raw outputs ``(..., width * output_size)``, as the head computes them.

    The point forecast of a quantile head (its median) interpolates between
    two of its quantiles with weights fixed at export, in the arithmetic
    :class:`~seqforecast.distributions.QuantileDistribution` uses (ONNX has
    no ``searchsorted``).
    """
    if head.likelihood is not None:
        blocks = head._split(raw)
        if head.likelihood == "negative_binomial":
            parts = [F.softplus(b) + 1e-6 for b in blocks]
        else:
            parts = [blocks[0], F.softplus(blocks[1]) + 1e-6]
            if head.likelihood == "student_t":
                parts.append(2.0 + F.softplus(blocks[2]))
        return head.point(raw), torch.cat(parts, dim=-1)
    values = head._quantile_values(raw)  # (..., F, Q)
    params = values.transpose(-1, -2).reshape(raw.shape)
    levels = head.levels.to(torch.float32)
    if levels.numel() == 1:
        return values[..., 0], params
    half = torch.tensor(0.5, dtype=torch.float32)
    right = int(torch.searchsorted(levels, half).clamp(1, levels.numel() - 1))
    weight = ((half - levels[right - 1]) / (levels[right] - levels[right - 1])).clamp(0.0, 1.0)
    low, high = values[..., right - 1], values[..., right]
    return low + float(weight) * (high - low), params


def head_metadata(head: OutputHead | None) -> dict[str, Any] | None:
    """``seqforecast.head``: null for a point forecaster."""
    if head is None:
        return None
    if head.likelihood is None:
        levels = list(head.quantiles or ())
        return {"kind": "quantiles", "output": PARAMS, "parameters": [f"q{q:g}" for q in levels], "levels": levels}
    return {
        "kind": head.likelihood,
        "output": PARAMS,
        "parameters": list(HEAD_PARAMETERS[head.likelihood]),
        "levels": None,
    }
