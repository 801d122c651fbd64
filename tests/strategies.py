"""Hypothesis strategies for forecaster configurations and inputs."""

from __future__ import annotations

from typing import Any, Literal, cast

import torch
from hypothesis import strategies as st

import seqforecast as sf


@st.composite
def forecasters(
    draw: st.DrawFn, *, batch_first: bool | None = None, same_io: bool = False, head: bool = False
) -> sf.BaseForecaster:
    """Small forecasters of every family, cell, layer count and layout (with ``head``: a likelihood or quantile head)."""
    family = draw(st.sampled_from(["rnn", "lstm", "gru", "mlp", "conv"]))
    layout = draw(st.booleans()) if batch_first is None else batch_first
    input_size = draw(st.integers(1, 3))
    output_size = input_size if same_io else draw(st.integers(1, 3))
    kwargs: dict[str, Any] = {"input_size": input_size, "output_size": output_size, "batch_first": layout}
    if head:
        kwargs.update(draw(heads))
    if family in ("rnn", "lstm", "gru"):
        return sf.RecurrentForecaster(
            hidden_size=draw(st.integers(1, 8)),
            num_layers=draw(st.integers(1, 3)),
            cell=cast("Literal['rnn', 'lstm', 'gru']", family),
            **kwargs,
        )
    if family == "mlp":
        sizes = tuple(draw(st.lists(st.integers(1, 8), max_size=2)))
        return sf.FeedForwardForecaster(hidden_sizes=sizes, window=draw(st.integers(1, 5)), **kwargs)
    return sf.ConvForecaster(
        channels=draw(st.integers(1, 6)),
        num_layers=draw(st.integers(1, 3)),
        kernel_size=draw(st.integers(1, 4)),
        dilation_base=draw(st.integers(1, 3)),
        head_hidden=draw(st.integers(1, 6)),
        **kwargs,
    )


def make_input(model: sf.BaseForecaster, batch: int, time: int, seed: int = 0) -> torch.Tensor:
    """A random input in the model's layout: ``(batch, time, F)`` or ``(time, batch, F)``."""
    generator = torch.Generator().manual_seed(seed)
    shape = (batch, time, model.input_size) if model.batch_first else (time, batch, model.input_size)
    return torch.randn(shape, generator=generator, dtype=torch.float64).to(torch.float32)


def time_slice(model: sf.BaseForecaster, x: torch.Tensor, start: int, stop: int | None = None) -> torch.Tensor:
    """``x[:, start:stop]`` along the model's time dimension."""
    return x[:, start:stop] if model.batch_first else x[start:stop]


def time_cat(model: sf.BaseForecaster, parts: list[torch.Tensor]) -> torch.Tensor:
    """Concatenate along the model's time dimension."""
    return torch.cat(parts, dim=1 if model.batch_first else 0)


heads = st.one_of(
    st.sampled_from([{"likelihood": "gaussian"}, {"likelihood": "student_t"}, {"likelihood": "negative_binomial"}]),
    st.lists(st.floats(0.01, 0.99), min_size=1, max_size=5, unique=True).map(lambda q: {"quantiles": tuple(sorted(q))}),
)
"""Keyword arguments of a likelihood or quantile head."""

batches = st.integers(1, 4)
lengths = st.integers(1, 20)
