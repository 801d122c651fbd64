"""Seeing inside a forecaster: the shape of every stage of a forward pass."""

from __future__ import annotations

import dataclasses
from typing import Any, cast

from torch import Tensor, nn

from seqforecast.base import BaseForecaster, State, check_forecaster
from seqforecast.inference import _as_batch, _inference
from seqforecast.models import ConvForecaster, FeedForwardForecaster, RecurrentForecaster

__all__ = ["Stage", "format_stages", "trace_shapes"]


@dataclasses.dataclass(frozen=True)
class Stage:
    """One stage of a forward pass.

    Attributes:
        name: Short name of the stage.
        shape: Shape of the tensor(s) at that stage.
        meaning: What the tensor holds, in one line.
    """

    name: str
    shape: tuple[int, ...] | tuple[tuple[int, ...], ...]
    meaning: str


def _shape(value: State) -> tuple[int, ...] | tuple[tuple[int, ...], ...]:
    if isinstance(value, Tensor):
        return tuple(value.shape)
    if value is None:
        return ()
    return tuple(tuple(t.shape) for t in value)


def _capture(modules: list[tuple[str, nn.Module, str]]) -> tuple[list[Stage], list[Any]]:
    """Register hooks that record each module's output shape, in call order."""
    stages: list[Stage] = []

    def hook(name: str, meaning: str) -> Any:
        def record(module: nn.Module, inputs: Any, output: Any) -> None:
            tensor = output[0] if isinstance(output, tuple) else output
            stages.append(Stage(name, tuple(tensor.shape), meaning))

        return record

    handles = [module.register_forward_hook(hook(name, meaning)) for name, module, meaning in modules]
    return stages, handles


def trace_shapes(model: BaseForecaster, x: object, state: State = None) -> list[Stage]:
    """Run one forward pass of ``model`` and report every stage's shape.

    The model is not changed: hooks are added for the pass and removed after,
    no gradients are recorded and the training mode is restored.

    Args:
        model: One of the library's forecasters.
        x: Input in the model's layout, ``(batch, time, features)`` or
            ``(time, batch, features)``.
        state: The state to start from (None: a fresh start).

    Returns:
        The stages in order: input, state in, the model's internal stages,
        output and state out.

    Example:
        >>> import torch, seqforecast as sf
        >>> stages = sf.trace_shapes(sf.RecurrentForecaster(), torch.zeros(1, 8, 1))
        >>> [(s.name, s.shape) for s in stages][:3]
        [('input', (1, 8, 1)), ('state in', (3, 1, 32)), ('rnn output', (1, 8, 32))]
    """
    check_forecaster(model)
    if not isinstance(model, (RecurrentForecaster, FeedForwardForecaster, ConvForecaster)):
        msg = f"`model` must be one of the library's forecasters, got {type(model).__name__}"
        raise TypeError(msg)
    with _inference(model):
        inputs, _ = _as_batch("x", model, x)
        batch = inputs.shape[0] if model.batch_first else inputs.shape[1]
        steps = inputs.shape[1] if model.batch_first else inputs.shape[0]
        start = model.init_state(batch) if state is None else state
        layout = "(batch, time, features)" if model.batch_first else "(time, batch, features)"
        stages = [Stage("input", tuple(inputs.shape), f"the input sequence, {layout}")]
        stages.append(Stage("state in", _shape(start), _state_meaning(model, "before the first step")))
        if isinstance(model, RecurrentForecaster):
            inner = [
                ("rnn output", model.rnn, "top layer's hidden state at every step"),
                ("head output", model.head, "forecast of the next value at every step"),
            ]
        else:
            context = model.context_length
            with_context = (batch, context + steps, model.input_size)
            stages.append(
                Stage(
                    "with context", with_context, f"the last {context} remembered inputs, then the input (batch first)"
                )
            )
            if isinstance(model, FeedForwardForecaster):
                window = model.config.window
                lags = (batch, steps, window * model.input_size)
                stages.append(Stage("lags", lags, f"the last {window} inputs at every step, side by side"))
            inner = _context_stages(model)
        recorded, handles = _capture(inner)
        try:
            output, new_state = model(inputs, state)
        finally:
            for handle in handles:
                handle.remove()
    if isinstance(model, RecurrentForecaster):
        recorded = recorded[:1]  # the head is reported as the output below
    stages += recorded
    if model.output_head is not None:  # the last layer's raw outputs, before the head makes them a forecast
        raw_shape = (*output.shape[:-1], model.raw_output_size)
        stages.append(Stage("head output", raw_shape, model.output_head.describe()))
    stages.append(Stage("output", tuple(output.shape), f"forecast of input t + 1 at every step t, {layout}"))
    stages.append(Stage("state out", _shape(new_state), _state_meaning(model, "after the last step")))
    return stages


def _state_meaning(model: BaseForecaster, when: str) -> str:
    if isinstance(model, RecurrentForecaster):
        kind = "(h, c) of every layer" if model.config.cell == "lstm" else "hidden state of every layer"
        return f"{kind} {when}"
    return f"the last {model.context_length} inputs {when}"


def _context_stages(model: BaseForecaster) -> list[tuple[str, nn.Module, str]]:
    if isinstance(model, FeedForwardForecaster):
        linears = [m for m in model.net if isinstance(m, nn.Linear)]
        return [
            (
                f"hidden {i + 1}",
                layer,
                "ReLU(Linear) of the lagged inputs" if i == 0 else "ReLU(Linear) of the layer below",
            )
            for i, layer in enumerate(linears[:-1])
        ]
    conv = cast("ConvForecaster", model)
    stages = [
        (
            f"conv {i + 1}",
            layer,
            f"channels over time, dilation {d}: {(conv.config.kernel_size - 1) * d} steps shorter than its input",
        )
        for i, (layer, d) in enumerate(zip(conv.convs, conv.dilations, strict=True))
    ]
    stages.append(("head hidden", conv.head[0], "per-step hidden layer of the head"))
    return stages


def format_stages(stages: list[Stage]) -> str:
    """Render :func:`trace_shapes` output as an aligned text table.

    Example:
        >>> import torch, seqforecast as sf
        >>> from seqforecast.tracing import format_stages
        >>> print(format_stages(sf.trace_shapes(sf.FeedForwardForecaster(window=2), torch.zeros(1, 4, 1))))
        ... # doctest: +ELLIPSIS
        stage         shape      meaning
        ...
        input         (1, 4, 1)  the input sequence, (batch, time, features)
        ...
    """
    rows = [("stage", "shape", "meaning")] + [(s.name, str(s.shape), s.meaning) for s in stages]
    widths = [max(len(r[i]) for r in rows) for i in range(2)]
    lines = [f"{r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2]}" for r in rows]
    lines.insert(1, f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * 7}")
    return "\n".join(line.rstrip() for line in lines)
