"""A History prints as one short line and keeps every loss in its fields."""

from __future__ import annotations

import seqforecast as sf


def test_history_repr_is_a_short_summary() -> None:
    losses = [1.0 / (step + 1) for step in range(300)]
    losses[150] = 1e-5
    history = sf.History(losses=losses, steps=300, seconds=2.345)
    text = repr(history)
    assert text == "History(steps=300, loss 1 -> 0.00333 (best 1e-05 at step 151), 2.3 s)"
    assert str(history) == text
    assert history.losses == losses  # the data are all still there


def test_history_repr_of_an_interrupted_run_without_finite_losses() -> None:
    history = sf.History(losses=[float("nan")], steps=1, interrupted=True)
    assert repr(history) == "History(steps=1, loss nan -> nan, 0.0 s, interrupted)"
