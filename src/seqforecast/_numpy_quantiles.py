"""The one-step quantiles of a likelihood or quantile head in NumPy (no torch), for the ONNX runtime.

An exported head's graph gives, per output feature, the parameters of its
one-step distribution (already transformed: positive scales, non-crossing
quantiles); :func:`head_quantiles` turns them into quantiles the way
:mod:`seqforecast.distributions` does in torch:

* Gaussian: ``loc + scale * Φ⁻¹(p)``, with the standard library's inverse
  normal CDF (:class:`statistics.NormalDist`, accurate to double precision);
* Student-t: Hill's approximation refined by two Newton steps on the CDF,
  the regularised incomplete beta function by its continued fraction, in
  float64 (a port of :class:`~seqforecast.distributions.StudentT`);
* negative binomial: the smallest count whose CDF reaches ``p``, by
  bisection (a port of :class:`~seqforecast.distributions.NegativeBinomial`);
* quantile head: linear between its levels, flat beyond them; levels outside
  the head's outermost ones are refused, as ``sf.forecast(quantiles=...)`` does.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence
from statistics import NormalDist

import numpy as np

__all__ = ["HEAD_PARAMETERS", "check_probabilities", "head_quantiles", "ndtri"]

HEAD_PARAMETERS = {
    "gaussian": ("loc", "scale"),
    "student_t": ("loc", "scale", "df"),
    "negative_binomial": ("mean", "dispersion"),
}
"""The parameters each likelihood head's graph output holds, in the order of its blocks."""

_TINY = 1e-300
_inv_cdf = np.frompyfunc(NormalDist().inv_cdf, 1, 1)
_lgamma_each = np.frompyfunc(math.lgamma, 1, 1)


def ndtri(p: np.ndarray) -> np.ndarray:
    """The standard normal quantile of each ``p`` in ``(0, 1)``, float64, ``p``'s shape.

    Example:
        >>> round(float(ndtri(np.array(0.975))), 9)
        1.959963985
    """
    return np.asarray(_inv_cdf(np.asarray(p, dtype=np.float64)), dtype=np.float64)


@functools.lru_cache(maxsize=64)
def _normal_quantiles(levels: tuple[float, ...]) -> np.ndarray:
    """``ndtri(levels)`` as ``(Q, 1, 1)``, computed once per set of levels (read-only)."""
    z = ndtri(np.asarray(levels, dtype=np.float64)).reshape(-1, 1, 1)
    z.flags.writeable = False
    return z


def _lgamma(x: np.ndarray) -> np.ndarray:
    return np.asarray(_lgamma_each(x), dtype=np.float64)


def check_probabilities(name: str, levels: object) -> tuple[float, ...]:
    """``levels`` as increasing floats in ``(0, 1)``, or a TypeError/ValueError naming ``name``.

    Example:
        >>> check_probabilities("levels", [0.1, 0.9])
        (0.1, 0.9)
    """
    given = levels.tolist() if isinstance(levels, np.ndarray) and levels.ndim == 1 else levels
    if isinstance(given, (str, bytes)) or not isinstance(given, Sequence):
        msg = f"`{name}` must be a sequence of levels in (0, 1), such as (0.1, 0.5, 0.9), got {levels!r}"
        raise TypeError(msg)
    if any(isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, float, np.integer, np.floating)) for q in given):
        msg = f"`{name}` must hold numbers in (0, 1), got {levels!r}"
        raise TypeError(msg)
    result = tuple(float(q) for q in given)
    if not result:
        msg = f"`{name}` must hold at least one level in (0, 1), got none"
        raise ValueError(msg)
    if not all(0.0 < q < 1.0 for q in result):
        msg = f"`{name}` must be levels strictly between 0 and 1, got {list(result)}"
        raise ValueError(msg)
    if any(b <= a for a, b in itertools.pairwise(result)):
        msg = f"`{name}` must be sorted increasing without repeats, got {list(result)}"
        raise ValueError(msg)
    return result


def betainc(a: np.ndarray, b: np.ndarray, x: np.ndarray, tolerance: float = 1e-12) -> np.ndarray:
    """The regularised incomplete beta function ``I_x(a, b)``, elementwise, float64 (as the torch version).

    Example:
        >>> round(float(betainc(np.array(2.0), np.array(3.0), np.array(0.4))), 12)
        0.5248
    """
    a, b, x = np.broadcast_arrays(
        np.asarray(a, np.float64), np.asarray(b, np.float64), np.clip(np.asarray(x, np.float64), 0.0, 1.0)
    )
    swap = x > (a + 1.0) / (a + b + 2.0)
    a, b, x = np.where(swap, b, a), np.where(swap, a, b), np.where(swap, 1.0 - x, x)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_front = a * np.log(x) + b * np.log1p(-x) - (_lgamma(a) + _lgamma(b) - _lgamma(a + b))
    front = np.exp(log_front) / a
    value = np.where(x <= 0.0, 0.0, front * _continued_fraction(a, b, x, tolerance))
    result: np.ndarray = np.where(swap, 1.0 - value, value)
    return result


def _continued_fraction(a: np.ndarray, b: np.ndarray, x: np.ndarray, tolerance: float) -> np.ndarray:
    def guard(v: np.ndarray) -> np.ndarray:
        return np.where(np.abs(v) < _TINY, _TINY, v)

    c = np.ones_like(x)
    d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0))
    h = d.copy()
    m = 1
    while m <= 2000:
        delta = np.ones_like(x)
        for _ in range(16):  # a block of iterations between convergence checks, as in torch
            even = m * (b - m) * x / ((a - 1.0 + 2 * m) * (a + 2 * m))
            d = 1.0 / guard(1.0 + even * d)
            c = guard(1.0 + even / c)
            h = h * d * c
            odd = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 1.0 + 2 * m))
            d = 1.0 / guard(1.0 + odd * d)
            c = guard(1.0 + odd / c)
            delta = d * c
            h = h * delta
            m += 1
        if (np.abs(delta - 1.0) < tolerance).all():
            break
    result: np.ndarray = h
    return result


def _hill_t_quantile(p: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Hill's (1970, Algorithm 396) approximation to the Student-t quantile, float64."""
    with np.errstate(all="ignore"):  # both branches are computed; each element keeps the one that is finite
        return _hill(p, df)


def _hill(p: np.ndarray, df: np.ndarray) -> np.ndarray:
    two_sided = 2.0 * np.minimum(p, 1.0 - p)
    a = 1.0 / (df - 0.5)
    b = 48.0 / (a * a)
    c = ((20700.0 * a / b - 98.0) * a - 16.0) * a + 96.36
    d = ((94.5 / (b + c) - 3.0) / b + 1.0) * np.sqrt(a * math.pi / 2.0) * df
    y = (d * two_sided) ** (2.0 / df)
    x = ndtri(0.5 * two_sided)
    c_normal = c + np.where(df < 5.0, 0.3 * (df - 4.5) * (x + 0.6), 0.0)
    c_normal = (((0.05 * d * x - 5.0) * x - 7.0) * x - 2.0) * x + b + c_normal
    x2 = x * x
    y_normal = (((((0.4 * x2 + 6.3) * x2 + 36.0) * x2 + 94.5) / c_normal - x2 - 3.0) / b + 1.0) * x
    q_normal = np.sqrt(df * np.expm1(a * y_normal * y_normal))
    y_tail = ((1.0 / (((df + 6.0) / (df * y) - 0.089 * d - 0.822) * (df + 2.0) * 3.0) + 0.5 / (df + 4.0)) * y - 1.0) * (
        df + 1.0
    ) / (df + 2.0) + 1.0 / y
    q = np.where(y > 0.05 + a, q_normal, np.sqrt(df * y_tail))
    result: np.ndarray = np.where(p < 0.5, -q, q)
    return result


def _student_t(p: np.ndarray, loc: np.ndarray, scale: np.ndarray, df: np.ndarray) -> np.ndarray:
    p, df = np.broadcast_arrays(p, df)
    z = _hill_t_quantile(p, df)
    log_norm = _lgamma((df + 1.0) / 2.0) - _lgamma(df / 2.0) - 0.5 * np.log(df * math.pi)
    for _ in range(2):  # Newton steps on the standard Student-t's cdf
        tail = 0.5 * betainc(df / 2.0, np.full_like(df, 0.5), df / (df + z * z))
        cdf = np.where(z > 0, 1.0 - tail, tail)
        density = np.exp(log_norm - (df + 1.0) / 2.0 * np.log1p(z * z / df))
        z = z - (cdf - p) / density
    result: np.ndarray = loc + scale * z
    return result


def _negative_binomial(p: np.ndarray, mean: np.ndarray, dispersion: np.ndarray) -> np.ndarray:
    """The smallest count ``k`` with ``cdf(k) >= p``; the parameters as torch derives them, in float32."""
    mean32, dispersion32 = mean.astype(np.float32), dispersion.astype(np.float32)
    logits = np.log(mean32) + np.log(dispersion32)  # float32, as torch's NegativeBinomial(logits=...)
    r = (np.float32(1.0) / dispersion32).astype(np.float64)
    prob = (np.float32(1.0) / (np.float32(1.0) + np.exp(-logits))).astype(np.float64)
    p, r, prob = np.broadcast_arrays(p, r, prob)
    expected = r * prob / (1.0 - prob)
    high = np.ceil(expected + 10.0 * np.sqrt(expected / (1.0 - prob)) + 10.0)
    for _ in range(64):  # make sure cdf(high) >= p
        short = betainc(r, high + 1.0, 1.0 - prob) < p
        if not short.any():
            break
        high = np.where(short, high * 2.0, high)
    low = np.full_like(high, -1.0)  # cdf(low) < p <= cdf(high)
    while (high - low > 1.0).any():
        middle = np.floor((low + high) / 2.0)
        enough = (betainc(r, np.maximum(middle, 0.0) + 1.0, 1.0 - prob) >= p) & (middle >= 0)
        high, low = np.where(enough, middle, high), np.where(enough, low, middle)
    result: np.ndarray = high
    return result


def _check_learned(head_levels: tuple[float, ...], levels: tuple[float, ...]) -> None:
    low, high = head_levels[0], head_levels[-1]
    outside = [q for q in levels if not low - 1e-7 <= q <= high + 1e-7]
    if outside:
        msg = (
            f"`levels` must lie between the lowest and highest levels the model's quantile head learned "
            f"{list(head_levels)}, got {outside} outside [{low:g}, {high:g}]; build the model with "
            f"quantiles that cover them"
        )
        raise ValueError(msg)


def _piecewise_linear(head_levels: tuple[float, ...], values: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Quantiles of a quantile head: ``values`` ``(..., F, L)`` at ``head_levels``; ``p`` ``(Q, 1.., 1)``."""
    levels = np.asarray(head_levels, dtype=np.float64)
    if len(levels) == 1:
        return np.broadcast_to(values[..., 0], np.broadcast_shapes(p.shape, values.shape[:-1])).astype(np.float64)
    right = np.clip(np.searchsorted(levels, p, side="left"), 1, len(levels) - 1)
    left = right - 1
    shape = np.broadcast_shapes(p.shape, values.shape[:-1])
    v = np.broadcast_to(values.astype(np.float64), (*shape, len(levels)))
    low = np.take_along_axis(v, np.broadcast_to(left, shape)[..., None], -1)[..., 0]
    high = np.take_along_axis(v, np.broadcast_to(right, shape)[..., None], -1)[..., 0]
    weight = np.clip((p - levels[left]) / (levels[right] - levels[left]), 0.0, 1.0)
    result: np.ndarray = low + weight * (high - low)
    return result


def head_quantiles(
    kind: str, head_levels: tuple[float, ...] | None, params: np.ndarray, levels: tuple[float, ...]
) -> np.ndarray:
    """The ``levels``-quantiles of the one-step distributions ``params`` describe, in model space.

    Args:
        kind: ``"gaussian"``, ``"student_t"``, ``"negative_binomial"`` or ``"quantiles"``.
        head_levels: The quantile head's levels (``kind == "quantiles"``), else None.
        params: The graph's ``params`` at one step, ``(batch, width, F)``:
            block ``i`` is parameter ``i`` (or the quantile at level ``i``) of every feature.
        levels: Checked probabilities in ``(0, 1)``.

    Returns:
        Float64 ``(len(levels), batch, F)``.

    Raises:
        ValueError: A level outside a quantile head's outermost levels.

    Example:
        >>> params = np.array([[[1.0], [2.0]]])  # one series, loc 1 and scale 2 of one feature
        >>> head_quantiles("gaussian", None, params, (0.5, 0.975)).round(4).tolist()
        [[[1.0]], [[4.9199]]]
    """
    if kind == "gaussian":  # the common case, kept short: it runs after every update of a stream
        result: np.ndarray = params[:, 0].astype(np.float64) + params[:, 1] * _normal_quantiles(levels)
        return result
    p = np.asarray(levels, dtype=np.float64).reshape(-1, 1, 1)
    blocks = [params[:, i].astype(np.float64) for i in range(params.shape[1])]  # each (batch, F)
    if kind == "quantiles":
        learned = tuple(head_levels or ())
        _check_learned(learned, levels)
        return _piecewise_linear(learned, params.transpose(0, 2, 1), p)
    if kind == "student_t":
        return _student_t(np.broadcast_to(p, (len(levels), *blocks[0].shape)), blocks[0], blocks[1], blocks[2])
    return _negative_binomial(np.broadcast_to(p, (len(levels), *blocks[0].shape)), params[:, 0], params[:, 1])
