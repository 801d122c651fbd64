"""The demo runs the same way on any number of cores and leaves torch's settings as it found them."""

from __future__ import annotations

import pytest
import torch

import seqforecast as sf
from seqforecast.base import Forecaster, State
from seqforecast.demo import _CosineDecay, leak_profile, run_demo


def test_run_demo_sets_its_threads_and_restores_threads_and_generator(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []

    def recording_prime(model: Forecaster, sequence: torch.Tensor, state: State = None) -> State:
        seen.append(torch.get_num_threads())
        return sf.prime(model, sequence, state)

    monkeypatch.setattr("seqforecast.demo.prime", recording_prime)
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        torch.manual_seed(123)
        expected = torch.rand(3)
        torch.manual_seed(123)
        run_demo(steps=2, batch_size=2, device="cpu", notebook_conv=False)
        assert torch.equal(torch.rand(3), expected)  # the caller's generator is untouched
        assert torch.get_num_threads() == 2
        run_demo(steps=2, batch_size=2, device="cpu", notebook_conv=False, threads=None)
    finally:
        torch.set_num_threads(threads)
    assert seen == [1, 1, 1, 2, 2, 2]


def test_run_demo_is_reproducible() -> None:
    first, second = (run_demo(steps=4, batch_size=2, device="cpu", seed=3) for _ in range(2))
    for a, b in zip(first, second, strict=True):
        assert (a.history.losses, a.mse_cold, a.mse_primed, a.leak) == (
            b.history.losses,
            b.mse_cold,
            b.mse_primed,
            b.leak,
        )


def test_the_learning_rate_decays_along_half_a_cosine() -> None:
    trainer = sf.Trainer(sf.FeedForwardForecaster(), lr=0.01, device="cpu", callbacks=[_CosineDecay(0.01, 10)])
    trainer.fit(sf.SineStream(), steps=5)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(0.01 * (0.01 + 0.99 * 0.5))
    trainer.fit(sf.SineStream(), steps=5)
    assert trainer.optimizer.param_groups[0]["lr"] == pytest.approx(1e-4)


def test_leak_profile_checks_t() -> None:
    with pytest.raises(ValueError, match="time step"):
        leak_profile(sf.ConvForecaster(channels=2, head_hidden=2), torch.zeros(1, 5, 1), t=5)
