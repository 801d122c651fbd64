"""Probabilistic forecasts from a likelihood or quantile head: sample paths and quantiles.

A stateful model makes sampling cheap: the model is primed on the history
once, then its state is repeated ``num_samples`` times as lanes of one batch.
Every path draws its next value from its own one-step distribution, feeds
that draw back as its next input and carries its own state, so a whole fan
of futures costs one batched closed-loop run of ``horizon`` steps.

Draws use a :class:`torch.Generator` of their own (``seed``), never torch's
global one.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from seqforecast._checks import check_int, check_quantiles, describe
from seqforecast._future import check_feeds_back, future_inputs
from seqforecast.base import BaseForecaster, Forecaster, State, point_head_message, state_like, state_tensors
from seqforecast.distributions import Distribution, draw
from seqforecast.heads import OutputHead
from seqforecast.inference import _as_batch, _inference

__all__ = ["forecast_quantiles", "sample_paths"]


def _head(model: object) -> tuple[BaseForecaster, OutputHead]:
    """The model and its head, or a clear error for a point model or another kind of module."""
    if not isinstance(model, BaseForecaster):
        msg = f"`model` must be a seqforecast forecaster with a likelihood or quantile head, got {describe(model)}"
        raise TypeError(msg)
    if model.output_head is None:
        raise ValueError(point_head_message())
    return model, model.output_head


def _check_learned(head: OutputHead, levels: tuple[float, ...]) -> None:
    """A quantile head knows nothing beyond its outermost levels: refuse levels outside them."""
    if head.quantiles is None:
        return
    low, high = head.quantiles[0], head.quantiles[-1]
    outside = [q for q in levels if not low - 1e-7 <= q <= high + 1e-7]  # a level given in float32 is the same level
    if outside:
        msg = (
            f"`quantiles` must lie between the lowest and highest levels the model's quantile head learned "
            f"{list(head.quantiles)}, got {outside} outside [{low:g}, {high:g}]; build the model with "
            f"quantiles that cover them"
        )
        raise ValueError(msg)


def _sample_quantiles(samples: Tensor, probabilities: Tensor, *, counts: bool) -> Tensor:
    """Quantiles of ``samples`` along dimension 0, float64, ``(Q, *samples.shape[1:])``.

    Linear interpolation between draws; for counts the smallest draw whose
    empirical CDF reaches the level, as :meth:`NegativeBinomial.icdf
    <seqforecast.distributions.NegativeBinomial.icdf>` defines the first step's.
    """
    if not counts:
        return torch.quantile(samples.double(), probabilities, dim=0)
    n = samples.shape[0]
    index = (torch.ceil(probabilities * n - 1e-9).long().clamp(1, n) - 1).to(samples.device)
    return samples.sort(dim=0).values.double().index_select(0, index)


def _generator(seed: int | None, device: torch.device) -> torch.Generator:
    generator = torch.Generator(device=device)
    if seed is None:
        generator.seed()  # fresh entropy, as torch's own generator would give
    else:
        generator.manual_seed(check_int("seed", seed, minimum=0))
    return generator


def _repeat_state(model: BaseForecaster, state: State, times: int) -> State:
    """Each state tensor tiled ``times`` times along its lane dimension (lane ``s * batch + b``)."""
    lane = model._lane_dim()
    tensors = state_tensors(state)
    repeated = tuple(t.repeat(*[times if d == lane else 1 for d in range(t.dim())]) for t in tensors)
    return state_like(state, repeated)


def _run_paths(
    model: BaseForecaster,
    head: OutputHead,
    x: Tensor,
    horizon: int,
    *,
    num_samples: int,
    state: State,
    seed: int | None,
    future: object = None,
) -> tuple[Tensor, Distribution]:
    """Paths in the model's layout with ``num_samples * batch`` lanes, and the first step's distribution.

    A model with covariates feeds each path's draw back beside the covariates
    of that step (``future``, checked as :func:`~seqforecast.forecast` checks it).
    """
    time_dim = 1 if model.batch_first else 0
    lane_dim = 1 - time_dim
    covariates = future_inputs(model, future, horizon, x.shape[lane_dim], x)  # (B, H - 1, C) or None
    if covariates is not None:  # lane s * batch + b reads the covariates of series b
        covariates = covariates.repeat(*[num_samples if d == lane_dim else 1 for d in range(3)])
    generator = _generator(seed, x.device)
    raw, state = model.head_parameters(x, state)
    raw = raw.narrow(time_dim, raw.shape[time_dim] - 1, 1)  # the parameters of the first future value
    first = head.distribution(raw)
    raw = raw.repeat(*[num_samples if d == lane_dim else 1 for d in range(3)])
    state = _repeat_state(model, state, num_samples)
    step = draw(head.distribution(raw), generator)
    outputs = [step]
    for h in range(horizon - 1):
        fed = step if covariates is None else torch.cat((step, covariates.narrow(time_dim, h, 1)), dim=-1)
        raw, state = model.head_parameters(fed, state)
        step = draw(head.distribution(raw), generator)
        outputs.append(step)
    return torch.cat(outputs, dim=time_dim), first


def _split_samples(model: BaseForecaster, paths: Tensor, num_samples: int, unbatched: bool) -> Tensor:
    """``(S * B, H, F)`` (or ``(H, S * B, F)``) to ``(S, B, H, F)`` (``(S, H, B, F)``), batch dropped if unbatched."""
    if model.batch_first:
        paths = paths.reshape(num_samples, -1, *paths.shape[1:])  # (S, B, H, F)
    else:
        paths = paths.reshape(paths.shape[0], num_samples, -1, paths.shape[-1]).transpose(0, 1)  # (S, H, B, F)
    if unbatched:
        paths = paths.squeeze(1 if model.batch_first else 2)
    return paths


def sample_paths(
    model: Forecaster,
    history: object,
    horizon: int,
    num_samples: int,
    *,
    state: State = None,
    seed: int | None = None,
    future: object = None,
) -> Tensor:
    """Draw ``num_samples`` future paths of ``horizon`` steps after ``history``.

    The model is primed on ``history`` once; then every path draws its next
    value from its own one-step distribution, feeds the draw back (with the
    covariates of that step, for a model with covariates) and carries its
    own state. All paths run as lanes of one batch.

    Args:
        model: A forecaster with a likelihood or quantile head and
            ``output_size <= input_size`` (the inputs beyond the outputs are
            covariates).
        history: Observed values: ``(batch, time, features)``
            (``(time, batch, features)`` for a time-first model),
            ``(time, features)`` for one series, or ``(time,)`` for one
            series of a one-feature model.
        horizon: Number of future steps, >= 1.
        num_samples: Number of paths, >= 1.
        state: State before ``history`` (e.g. from :func:`~seqforecast.prime`).
        seed: Seed of the draws (the same seed gives the same paths); ``None``
            draws fresh randomness. torch's global generator is not used.
        future: For a model with covariates, their values in the ``horizon
            - 1`` inputs fed back after ``history``, as
            :func:`~seqforecast.forecast` takes them: ``(horizon - 1,
            covariates)`` (the same for every series) or ``(batch, horizon -
            1, covariates)`` (``(horizon - 1, batch, covariates)`` for a
            time-first model); every path of a series reads the same ones.
            None otherwise.

    Returns:
        The paths, ``(num_samples, horizon, features)`` for unbatched
        ``history``; ``(num_samples, batch, horizon, features)`` for batched
        history (``(num_samples, horizon, batch, features)`` for a time-first
        model).

    Raises:
        TypeError: ``model`` is not a seqforecast forecaster.
        ValueError: ``model`` has a point head, cannot feed its forecasts
            back, ``horizon``/``num_samples`` is not positive, or ``future``
            is missing, of the wrong shape or not finite for a model with
            covariates (or given for one without).

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.RecurrentForecaster(hidden_size=8, likelihood="gaussian", seed=0)
        >>> paths = sf.sample_paths(model, torch.zeros(20), horizon=6, num_samples=100, seed=0)
        >>> paths.shape
        torch.Size([100, 6, 1])
        >>> torch.equal(paths, sf.sample_paths(model, torch.zeros(20), 6, 100, seed=0))
        True
        >>> with_price = sf.RecurrentForecaster(input_size=2, output_size=1, hidden_size=8, likelihood="gaussian")
        >>> sf.sample_paths(with_price, torch.zeros(20, 2), 3, 50, seed=0, future=[[1.0], [2.0]]).shape
        torch.Size([50, 3, 1])
    """
    horizon = check_int("horizon", horizon)
    num_samples = check_int("num_samples", num_samples)
    model, head = _head(model)
    check_feeds_back(model)
    with _inference(model):
        x, unbatched = _as_batch("history", model, history)
        paths, _ = _run_paths(model, head, x, horizon, num_samples=num_samples, state=state, seed=seed, future=future)
    return _split_samples(model, paths, num_samples, unbatched)


def forecast_quantiles(
    model: Forecaster,
    history: object,
    horizon: int,
    quantiles: Sequence[float] = (0.1, 0.5, 0.9),
    *,
    state: State = None,
    num_samples: int = 1000,
    seed: int | None = 0,
    future: object = None,
) -> Tensor:
    """Quantiles of the next ``horizon`` values after ``history``.

    The first step's quantiles come from the head directly (the inverse CDF
    of its one-step distribution); later steps, whose distribution depends
    on the values fed back, from the quantiles of :func:`sample_paths`.

    Args:
        model: A forecaster with a likelihood or quantile head and
            ``output_size <= input_size``.
        history: Observed values, as for :func:`sample_paths`.
        horizon: Number of future steps, >= 1.
        quantiles: Increasing levels in ``(0, 1)``.
        state: State before ``history``.
        num_samples: Paths drawn for the steps after the first.
        seed: Seed of those draws (default 0: the same call gives the same
            quantiles); ``None`` draws fresh randomness.
        future: For a model with covariates, their values over the steps
            fed back, as for :func:`sample_paths`.

    For a negative binomial head every quantile is a count (the smallest
    count whose CDF reaches the level, at every step); a quantile head
    answers only for levels between its lowest and highest.

    Returns:
        ``(len(quantiles), horizon, features)`` for unbatched ``history``;
        otherwise the quantile level first, then the shape
        :func:`~seqforecast.forecast` returns (``(len(quantiles), batch,
        horizon, features)``, or ``(len(quantiles), horizon, batch,
        features)`` for a time-first model). Along the first dimension the
        values never decrease.

    Raises:
        ValueError: As :func:`sample_paths`, or ``quantiles`` unsorted,
            repeated, outside ``(0, 1)`` or, for a quantile head, outside
            the levels it learned.

    Example:
        >>> import torch, seqforecast as sf
        >>> model = sf.FeedForwardForecaster(window=4, quantiles=(0.1, 0.5, 0.9), seed=0)
        >>> q = sf.forecast_quantiles(model, torch.zeros(30), horizon=12, quantiles=(0.1, 0.5, 0.9))
        >>> q.shape, bool((q[0] <= q[1]).all() and (q[1] <= q[2]).all())
        (torch.Size([3, 12, 1]), True)
    """
    horizon = check_int("horizon", horizon)
    levels = check_quantiles("quantiles", quantiles)
    num_samples = check_int("num_samples", num_samples)
    model, head = _head(model)
    _check_learned(head, levels)
    check_feeds_back(model)
    time_dim = 1 if model.batch_first else 0
    with _inference(model):
        x, unbatched = _as_batch("history", model, history)
        paths, first = _run_paths(
            model,
            head,
            x,
            horizon,
            num_samples=num_samples if horizon > 1 else 1,
            state=state,
            seed=seed,
            future=future,
        )
        probabilities = torch.tensor(levels, dtype=torch.float64, device=x.device)
        exact = torch.stack([first.icdf(p).to(x.dtype) for p in probabilities])  # (Q, *first step)
        if horizon == 1:
            result = exact
        else:
            samples = _split_samples(model, paths, num_samples, unbatched=False)  # (S, *forecast shape)
            counts = head.likelihood == "negative_binomial"
            result = _sample_quantiles(samples, probabilities, counts=counts).to(x.dtype)  # (Q, *forecast shape)
            result = torch.cat((exact, result.narrow(1 + time_dim, 1, horizon - 1)), dim=1 + time_dim)
    if unbatched:
        result = result.squeeze(1 if model.batch_first else 2)
    return result
