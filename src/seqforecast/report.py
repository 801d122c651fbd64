"""The demo's pictures and its self-contained HTML report."""

from __future__ import annotations

import base64
import html
import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from seqforecast.demo import LEAK_STEP, TABLE_HEADER, DemoResult, leak_profile, leak_text, sine_test_data, table_row
from seqforecast.inference import predict, prime
from seqforecast.plotting import _figure, _finish, plot_history, plot_predictions

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["leak_in_figure", "write_report"]

_TEST_DEGREES = np.linspace(900.0, 1260.0, 65)


def _by_name(results: list[DemoResult]) -> dict[str, DemoResult]:
    return {r.name: r for r in results}


def _next_step(result: DemoResult, primed: bool) -> np.ndarray:
    priming, test = sine_test_data(next(result.model.parameters()).device)
    state = prime(result.model, priming) if primed else None
    predictions, _ = predict(result.model, test[:, :-1], state)
    return predictions.reshape(-1).cpu().numpy()


def _figure_loss(results: list[DemoResult]) -> Figure:
    return plot_history({r.name: r.history for r in results}, title="Training loss per window (log scale)")


def _figure_priming(result: DemoResult) -> Figure:
    _, test = sine_test_data()
    return plot_predictions(
        test.reshape(-1),
        {"cold (no memory)": _next_step(result, primed=False), "primed on 720-894°": _next_step(result, primed=True)},
        x=_TEST_DEGREES,
        title=f"{result.name}: next-step predictions on an unseen stretch",
        xlabel="angle (degrees)",
    )


def _figure_averaging(results: dict[str, DemoResult]) -> Figure:
    """Next value against current value: the truth is a loop, the MLP a single curve."""
    _, test = sine_test_data()
    values = test.reshape(-1).numpy()
    figure = _figure(6.0, 5.0)
    axes = figure.add_subplot()
    # the truth for every angle of a period, a closed loop (the test stretch is one period, 5.625 degrees apart)
    angles = np.radians(np.linspace(0.0, 360.0, 361))
    step = np.radians(_TEST_DEGREES[1] - _TEST_DEGREES[0])
    axes.plot(np.sin(angles), np.sin(angles + step), color="black", linewidth=2, label="truth: next value")
    for name in ("mlp", "rnn"):
        if name in results:
            label = "memory-less MLP" if name == "mlp" else "RNN (primed)"
            axes.plot(values[:-1], _next_step(results[name], primed=True), "o", markersize=3, label=label)
    return _finish(
        figure,
        axes,
        xlabel="current value",
        ylabel="predicted next value",
        title="Same current value, two possible futures",
    )


def _figure_leak(results: dict[str, DemoResult]) -> Figure:
    """How much each output moves when input ``LEAK_STEP`` of the test stretch alone changes by +1.

    The same measurement as the table's ``causal`` column (:func:`~seqforecast.demo.causal_leak`).
    """
    _, test = sine_test_data()
    figure = _figure(8.0, 4.0)
    axes = figure.add_subplot()
    steps = np.arange(LEAK_STEP - 10, LEAK_STEP + 11)
    for name, label in (("conv-2sided", "notebook CNN (two-sided padding)"), ("conv", "causal CNN (left padding)")):
        if name not in results:
            continue
        model = results[name].model
        profile = leak_profile(model, test.to(next(model.parameters()).device), LEAK_STEP).numpy()
        axes.plot(steps, profile[steps], "o-", markersize=4, label=label, gid=name)
    axes.axvspan(steps[0] - 0.5, LEAK_STEP - 0.5, color="tab:red", alpha=0.08, label="outputs before it: must not move")
    axes.axvline(LEAK_STEP, color="grey", linewidth=0.8, linestyle=":")
    return _finish(
        figure,
        axes,
        xlabel=f"output time step (output t forecasts input t + 1; input {LEAK_STEP} changed)",
        ylabel="|change of output|",
        title=f"Change only input {LEAK_STEP}: outputs before it must not move",
    )


def leak_in_figure(figure: Figure, name: str) -> float:
    """The largest change of an output before :data:`~seqforecast.demo.LEAK_STEP` drawn for ``name``."""
    (line,) = (line for line in figure.axes[0].lines if line.get_gid() == name)
    steps, changes = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
    return float(changes[steps < LEAK_STEP].max())


def _png(figure: Figure, path: Path) -> str:
    figure.savefig(path, dpi=110)
    return base64.b64encode(path.read_bytes()).decode("ascii")


def _html_table(results: list[DemoResult]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in TABLE_HEADER)
    rows = ("".join(f"<td>{html.escape(c)}</td>" for c in table_row(r)) for r in results)
    body = "".join(f"<tr>{row}</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
img { max-width: 100%; border: 1px solid #ddd; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 2rem 0; }
figcaption { margin-top: 0.5rem; line-height: 1.4; }
"""


def write_report(results: list[DemoResult], out: str | Path) -> Path:
    """Write the demo's PNG figures and a self-contained ``report.html`` to ``out``.

    Args:
        results: What :func:`seqforecast.demo.run_demo` returned.
        out: The folder (created if missing).

    Returns:
        The path of ``report.html``. The images are embedded in it, so the
        page needs no other file and fetches nothing from the network.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    named = _by_name(results)
    figures: list[tuple[str, str, Figure]] = [
        (
            "loss.png",
            (
                "Training loss of each model, one window per step. Adam's learning rate falls from 0.01 to "
                "0.0001 along half a cosine: at a constant 0.01 the RNN's loss, once near 3e-5, jumps a "
                "thousand-fold within ten steps and recovers, because Adam's steps stay the same size however "
                "small the gradients become. The memory-less MLP plateaus: from the current value alone it "
                "cannot tell a rising wave from a falling one. A low training loss proves little by itself: the "
                "two-sided CNN's is low partly because it sees the next input, its target."
            ),
            _figure_loss(results),
        ),
    ]
    if "rnn" in named:
        figures.append(
            (
                "rnn_priming.png",
                (
                    "The RNN's next-step predictions on a stretch it never saw, sampled every 5.625° instead of "
                    "the 10° it was trained on. Cold, its memory starts empty and the first predictions are poor; "
                    "primed on the preceding 32 points, it is accurate from the first step."
                ),
                _figure_priming(named["rnn"]),
            )
        )
    if "mlp" in named:
        figures.append(
            (
                "mlp_averaging.png",
                (
                    "Each point is a prediction of the next value from the current one. On a sine wave the same "
                    "current value has two futures, rising or falling: the truth traces a loop. The memory-less MLP "
                    "sees only the current value, so it can only predict one curve through the middle of the loop. "
                    "The RNN remembers where the wave came from and follows the loop."
                ),
                _figure_averaging(named),
            )
        )
    if "conv" in named and "conv-2sided" in named:
        leak_figure = _figure_leak(named)
        peak = leak_text(leak_in_figure(leak_figure, "conv-2sided"))
        figures.append(
            (
                "conv_leak.png",
                (
                    f"Change only input {LEAK_STEP} of the test stretch by +1 and measure how much each output "
                    f"moves. Output t forecasts input t + 1, so outputs before {LEAK_STEP} must not move. The "
                    f"notebook's CNN pads both sides, so outputs {LEAK_STEP - 2} and {LEAK_STEP - 1} move, by up "
                    f"to {peak}: the leak in the table. Its output at t has seen inputs t + 1 and t + 2, and input "
                    "t + 1 is the very value it is meant to forecast. The causal CNN pads on the left only: no "
                    "earlier output moves, not by the smallest amount."
                ),
                leak_figure,
            )
        )
    sections = []
    for name, caption, figure in figures:
        encoded = _png(figure, folder / name)
        sections.append(
            f'<figure><img src="data:image/png;base64,{encoded}" alt="{html.escape(name)}">'
            f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        )
    steps = max(r.history.steps for r in results)
    page = f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>seqforecast demo</title><style>{_STYLE}</style></head>
<body>
<h1>Why a forecaster needs memory</h1>
<p>Four networks learned to predict the next point of a sine wave, {steps} windows each. The table scores
their next-step mean squared error on an unseen stretch of the wave, <em>cold</em> (starting with no memory)
and <em>primed</em> (after first running the preceding stretch through the model), and checks that no output
depends on a later input.</p>
{_html_table(results)}
{"".join(sections)}
<p><small>Written by seqforecast. MSE values are on the wave's own scale (amplitude 1); lower is better.
{"" if all(math.isfinite(r.mse_primed) for r in results) else "Some values are not finite."}</small></p>
</body>
</html>
"""
    report = folder / "report.html"
    report.write_text(page, encoding="utf-8")
    return report
