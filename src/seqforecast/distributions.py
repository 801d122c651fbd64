"""The one-step distributions the likelihood and quantile heads return.

Each has ``mean``, ``icdf(p)`` and ``sample(sample_shape)``, so quantiles and
sample paths work the same way for every head:

* :class:`torch.distributions.Normal` (the Gaussian head) as torch has it;
* :class:`StudentT`: torch's, with the ``cdf`` and ``icdf`` torch lacks;
* :class:`NegativeBinomial`: torch's, parametrised by its mean, with ``cdf``
  and ``icdf``;
* :class:`QuantileDistribution`: the piecewise-linear quantile function of a
  multi-quantile head.

The Student-t and negative-binomial distribution functions use the
regularised incomplete beta function, computed here by its continued fraction
in float64 (torch has no ``betainc``).
"""

from __future__ import annotations

import math
from typing import cast

import torch
from torch import Tensor, distributions

__all__ = ["NegativeBinomial", "QuantileDistribution", "StudentT", "betainc", "draw"]

_TINY = 1e-300


def betainc(a: Tensor, b: Tensor, x: Tensor, *, tolerance: float = 1e-12, max_iterations: int = 2000) -> Tensor:
    """The regularised incomplete beta function ``I_x(a, b)``, elementwise, in float64.

    Lentz's method on the continued fraction (Numerical Recipes ``betacf``),
    on the side of ``x`` where it converges fast; iterations run in blocks
    until every element has converged.

    Args:
        a: Positive, any shape broadcastable with ``b`` and ``x``.
        b: Positive.
        x: In ``[0, 1]``.
        tolerance: Relative change at which the fraction has converged.
        max_iterations: Upper bound on the iterations.

    Returns:
        ``I_x(a, b)`` with the broadcast shape, float64.

    Example:
        >>> import torch
        >>> float(betainc(torch.tensor(2.0), torch.tensor(3.0), torch.tensor(0.4)))  # 1 - 0.6**4 - 4*0.4*0.6**3
        0.5248
    """
    a, b, x = _broadcast(a.double(), b.double(), x.double().clamp(0.0, 1.0))
    swap = x > (a + 1.0) / (a + b + 2.0)
    a, b, x = torch.where(swap, b, a), torch.where(swap, a, b), torch.where(swap, 1.0 - x, x)
    log_front = a * torch.log(x) + b * torch.log1p(-x) - (torch.lgamma(a) + torch.lgamma(b) - torch.lgamma(a + b))
    front = torch.exp(log_front) / a
    fraction = _continued_fraction(a, b, x, tolerance, max_iterations)
    value = torch.where(x <= 0.0, torch.zeros_like(x), front * fraction)
    return torch.where(swap, 1.0 - value, value)


def _continued_fraction(a: Tensor, b: Tensor, x: Tensor, tolerance: float, max_iterations: int) -> Tensor:
    def guard(v: Tensor) -> Tensor:
        return torch.where(v.abs() < _TINY, torch.full_like(v, _TINY), v)

    c = torch.ones_like(x)
    d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0))
    h = d.clone()
    m = 1
    while m <= max_iterations:
        delta = torch.ones_like(x)
        for _ in range(16):  # a block of iterations between convergence checks
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
        if bool(((delta - 1.0).abs() < tolerance).all()):
            break
    return h


def _broadcast(*tensors: Tensor) -> tuple[Tensor, ...]:
    return cast("tuple[Tensor, ...]", torch.broadcast_tensors(*tensors))  # type: ignore[no-untyped-call]


def _hill_t_quantile(p: Tensor, df: Tensor) -> Tensor:
    """Hill's (1970, Algorithm 396) approximation to the Student-t quantile, float64."""
    two_sided = 2.0 * torch.minimum(p, 1.0 - p)
    a = 1.0 / (df - 0.5)
    b = 48.0 / (a * a)
    c = ((20700.0 * a / b - 98.0) * a - 16.0) * a + 96.36
    d = ((94.5 / (b + c) - 3.0) / b + 1.0) * torch.sqrt(a * math.pi / 2.0) * df
    y = (d * two_sided) ** (2.0 / df)
    # about the normal quantile (the usual case)
    x = torch.special.ndtri(0.5 * two_sided)
    c_normal = c + torch.where(df < 5.0, 0.3 * (df - 4.5) * (x + 0.6), torch.zeros_like(x))
    c_normal = (((0.05 * d * x - 5.0) * x - 7.0) * x - 2.0) * x + b + c_normal
    x2 = x * x
    y_normal = (((((0.4 * x2 + 6.3) * x2 + 36.0) * x2 + 94.5) / c_normal - x2 - 3.0) / b + 1.0) * x
    q_normal = torch.sqrt(df * torch.expm1(a * y_normal * y_normal))
    # far in the tails
    y_tail = ((1.0 / (((df + 6.0) / (df * y) - 0.089 * d - 0.822) * (df + 2.0) * 3.0) + 0.5 / (df + 4.0)) * y - 1.0) * (
        df + 1.0
    ) / (df + 2.0) + 1.0 / y
    q_tail = torch.sqrt(df * y_tail)
    q = torch.where(y > 0.05 + a, q_normal, q_tail)
    return torch.where(p < 0.5, -q, q)


class StudentT(distributions.StudentT):
    """torch's Student-t distribution with ``cdf`` and ``icdf``.

    ``icdf`` starts from Hill's approximation and refines it with Newton steps
    on ``cdf``; both are computed in float64 and returned in the dtype of
    ``loc``.

    Example:
        >>> import torch
        >>> t = StudentT(torch.tensor(3.0))
        >>> round(float(t.icdf(torch.tensor(0.975))), 4)  # the textbook 3.1824
        3.1824
        >>> round(float(t.cdf(t.icdf(torch.tensor(0.1)))), 6)
        0.1
    """

    def cdf(self, value: Tensor) -> Tensor:
        """``P(X <= value)``, shape: ``value`` broadcast with the batch shape."""
        z = ((value - self.loc) / self.scale).double()
        df = self.df.double()
        tail = 0.5 * betainc(df / 2.0, torch.full_like(df, 0.5), df / (df + z * z))
        return torch.where(z > 0, 1.0 - tail, tail).to(self.loc.dtype)

    def icdf(self, value: Tensor) -> Tensor:
        """The ``value``-quantile, ``value`` in ``(0, 1)`` broadcast with the batch shape."""
        p = value.double()
        df = self.df.double()
        p, df = _broadcast(p, df)
        z = _hill_t_quantile(p, df)
        log_norm = torch.lgamma((df + 1.0) / 2.0) - torch.lgamma(df / 2.0) - 0.5 * torch.log(df * math.pi)
        for _ in range(2):  # Newton steps on the standard Student-t's cdf
            tail = 0.5 * betainc(df / 2.0, torch.full_like(df, 0.5), df / (df + z * z))
            cdf = torch.where(z > 0, 1.0 - tail, tail)
            density = torch.exp(log_norm - (df + 1.0) / 2.0 * torch.log1p(z * z / df))
            z = z - (cdf - p) / density
        return (self.loc.double() + self.scale.double() * z).to(self.loc.dtype)


class NegativeBinomial(distributions.NegativeBinomial):
    """A negative binomial for counts, given its mean and dispersion, with ``cdf`` and ``icdf``.

    The variance is ``mean + dispersion * mean**2``; torch's parameters are
    ``total_count = 1 / dispersion`` and ``logits = log(mean * dispersion)``.

    Args:
        mean: Positive, any shape.
        dispersion: Positive, broadcastable with ``mean``.

    Example:
        >>> import torch
        >>> nb = NegativeBinomial(torch.tensor(4.0), torch.tensor(0.5))
        >>> float(nb.mean), float(nb.variance)
        (4.0, 12.0)
        >>> nb.icdf(torch.tensor([0.05, 0.5, 0.95]))
        tensor([ 0.,  3., 11.])
    """

    def __init__(self, mean: Tensor, dispersion: Tensor, *, validate_args: bool | None = False) -> None:
        self._given_mean = mean
        self._dispersion = dispersion
        super().__init__(
            total_count=1.0 / dispersion, logits=torch.log(mean) + torch.log(dispersion), validate_args=validate_args
        )

    @property
    def mean(self) -> Tensor:
        """The mean, exactly as given."""
        return torch.broadcast_to(self._given_mean, self.batch_shape)

    def log_prob(self, value: Tensor) -> Tensor:
        """The log-probability of the counts ``value``, computed in float64, returned in the mean's dtype.

        With a small dispersion ``lgamma(value + 1 / dispersion) - lgamma(1 / dispersion)``
        is a small difference of large numbers: in float32 it would be off by
        nats (torch's own ``log_prob``), so the training loss is computed in
        float64 from the mean and dispersion as given.
        """
        k, mean, alpha = value.double(), self._given_mean.double(), self._dispersion.double()
        r = 1.0 / alpha
        log1p_ma = torch.log1p(mean * alpha)  # log((r + mean) / r)
        log_norm = torch.lgamma(k + r) - torch.lgamma(r) - torch.lgamma(k + 1.0)
        return (log_norm - r * log1p_ma + k * (torch.log(mean * alpha) - log1p_ma)).to(self._given_mean.dtype)

    def cdf(self, value: Tensor) -> Tensor:
        """``P(X <= value)`` for counts ``value`` (0 below zero)."""
        k = torch.floor(value.double())
        inside = betainc(self.total_count.double(), (k + 1.0).clamp_min(1.0), 1.0 - self.probs.double())
        return torch.where(k < 0, torch.zeros_like(inside), inside).to(self.probs.dtype)

    def icdf(self, value: Tensor) -> Tensor:
        """The smallest count ``k`` with ``cdf(k) >= value``, ``value`` in ``(0, 1)``."""
        p = value.double()
        r, prob = self.total_count.double(), self.probs.double()
        p, r, prob = _broadcast(p, r, prob)
        mean = r * prob / (1.0 - prob)
        high = torch.ceil(mean + 10.0 * torch.sqrt(mean / (1.0 - prob)) + 10.0)
        for _ in range(64):  # make sure cdf(high) >= p
            short = betainc(r, high + 1.0, 1.0 - prob) < p
            if not bool(short.any()):
                break
            high = torch.where(short, high * 2.0, high)
        low = torch.full_like(high, -1.0)  # cdf(low) < p <= cdf(high)
        while bool((high - low > 1.0).any()):
            middle = torch.floor((low + high) / 2.0)
            enough = betainc(r, middle.clamp_min(0.0) + 1.0, 1.0 - prob) >= p
            enough = enough & (middle >= 0)
            high, low = torch.where(enough, middle, high), torch.where(enough, low, middle)
        return high.to(self.probs.dtype)


class QuantileDistribution:
    """The distribution a multi-quantile head describes: its quantiles at fixed levels.

    Between the levels the quantile function is linear; below the lowest
    and above the highest it stays at the outermost quantile (the head says
    nothing about the tails beyond them).

    Args:
        levels: The quantile levels, increasing, in ``(0, 1)``, shape ``(Q,)``.
        values: The quantiles, non-decreasing along the last dimension,
            shape ``(*batch_shape, Q)``.

    Example:
        >>> import torch
        >>> d = QuantileDistribution(torch.tensor([0.1, 0.5, 0.9]), torch.tensor([[-1.0, 0.0, 2.0]]))
        >>> d.icdf(torch.tensor([0.3, 0.7, 0.99]))
        tensor([-0.5000,  1.0000,  2.0000])
        >>> d.mean
        tensor([0.3000])
    """

    def __init__(self, levels: Tensor, values: Tensor) -> None:
        self.levels = levels
        self.values = values

    @property
    def batch_shape(self) -> torch.Size:
        """The shape of one draw, ``values.shape[:-1]``."""
        return self.values.shape[:-1]

    @property
    def mean(self) -> Tensor:
        """The mean of the piecewise-linear quantile function, shape ``batch_shape``."""
        levels, v = self.levels.to(self.values.dtype), self.values
        inner = ((v[..., 1:] + v[..., :-1]) / 2 * (levels[1:] - levels[:-1])).sum(-1)
        return v[..., 0] * levels[0] + inner + v[..., -1] * (1 - levels[-1])

    def icdf(self, value: Tensor) -> Tensor:
        """The ``value``-quantile, ``value`` in ``(0, 1)`` broadcast with :attr:`batch_shape`."""
        levels = self.levels.to(self.values.dtype)
        p = _broadcast(value.to(self.values.dtype), self.values[..., 0])[0].contiguous()
        shape = p.shape
        values = self.values.expand(*shape, levels.numel())
        if levels.numel() == 1:
            return values[..., 0].clone()
        right = torch.searchsorted(levels, p).clamp(1, levels.numel() - 1)  # levels[right - 1] <= p < levels[right]
        left = right - 1
        low, high = values.gather(-1, left.unsqueeze(-1)), values.gather(-1, right.unsqueeze(-1))
        weight = ((p - levels[left]) / (levels[right] - levels[left])).clamp(0.0, 1.0)
        return low.squeeze(-1) + weight * (high - low).squeeze(-1)

    def sample(self, sample_shape: torch.Size | tuple[int, ...] = ()) -> Tensor:
        """Draws, shape ``(*sample_shape, *batch_shape)``, with torch's generator."""
        shape = torch.Size(sample_shape) + self.batch_shape
        return self.icdf(torch.rand(shape, dtype=self.values.dtype, device=self.values.device))


Distribution = distributions.Normal | StudentT | NegativeBinomial | QuantileDistribution
"""What a head's ``distribution`` returns."""


def draw(distribution: Distribution, generator: torch.Generator | None = None) -> Tensor:
    """One draw of shape ``batch_shape`` by the inverse CDF, with ``generator`` (torch's own left alone).

    The uniform draws are float64 and kept inside ``[1e-15, 1 - 1e-15]``, so
    the tails are sampled out to the 1e-15 and 1 - 1e-15 quantiles.

    Example:
        >>> import torch
        >>> normal = torch.distributions.Normal(torch.zeros(3), torch.ones(3))
        >>> a = draw(normal, torch.Generator().manual_seed(0))
        >>> torch.equal(a, draw(normal, torch.Generator().manual_seed(0))), a.shape
        (True, torch.Size([3]))
    """
    mean = distribution.mean
    u = torch.rand(distribution.batch_shape, generator=generator, dtype=torch.float64, device=mean.device)
    u = u.clamp(1e-15, 1.0 - 1e-15)  # float64: tails out to the 1e-15 quantile (torch.rand may give 0)
    if isinstance(distribution, distributions.Normal):
        return cast("Tensor", distribution.loc + distribution.scale * torch.special.ndtri(u).to(mean.dtype))
    return distribution.icdf(u).to(mean.dtype)
