"""The Trainer: truncated BPTT, resets, divergence, interrupts and learning."""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pytest
import torch
from torch import Tensor, nn

import seqforecast as sf
from seqforecast.demo import next_step_mse, sine_test_data
from seqforecast.training import cuda_graphs


def hand_written_loop(model: nn.Module, stream: sf.SineStream, steps: int, lr: float = 0.01) -> list[float]:
    """Truncated BPTT written out: what Trainer must reproduce exactly."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    state: sf.State = None
    losses = []
    for window in list(stream.windows())[:steps]:
        output, state = model(window.inputs, None if window.reset else state)
        loss = nn.functional.mse_loss(output, window.targets)
        optimizer.zero_grad()
        torch.autograd.backward(loss)
        optimizer.step()
        state = sf.detach_state(state)
        losses.append(loss.item())
    return losses


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_trainer_is_truncated_bptt(cell: str) -> None:
    torch.manual_seed(1)
    model = sf.RecurrentForecaster(hidden_size=8, num_layers=2, cell=cell)  # type: ignore[arg-type]
    reference = copy.deepcopy(model)
    stream = sf.SineStream(batch_size=3, num_windows=40)
    history = sf.Trainer(model, device="cpu", log_every=7).fit(stream)
    assert history.losses == hand_written_loop(reference, stream, 40)
    assert history.steps == 40
    for a, b in zip(model.parameters(), reference.parameters(), strict=False):
        torch.testing.assert_close(a, b, atol=0, rtol=0)


def test_state_is_carried_detached_and_reset() -> None:
    seen: list[sf.State] = []

    class Spy(sf.FeedForwardForecaster):
        def forward(self, x: Tensor, state: sf.State = None) -> tuple[Tensor, sf.State]:
            seen.append(state)
            return super().forward(x, state)

    stream = sf.ArrayStream(torch.arange(60.0), seq_length=5, num_epochs=2)
    trainer = sf.Trainer(Spy(window=3), device="cpu", lr=1e-4)
    trainer.fit(stream)
    per_epoch = stream.windows_per_epoch
    assert len(seen) == 2 * per_epoch
    assert seen[0] is None
    assert seen[per_epoch] is None  # reset at the start of the second epoch
    carried = seen[1]
    assert isinstance(carried, Tensor)
    assert not carried.requires_grad
    torch.testing.assert_close(carried[0, :, 0], torch.tensor([3.0, 4.0]))
    assert isinstance(trainer.state, Tensor)


def test_stateless_training_never_carries_state() -> None:
    seen: list[sf.State] = []

    class Spy(sf.RecurrentForecaster):
        def forward(self, x: Tensor, state: sf.State = None) -> tuple[Tensor, sf.State]:
            seen.append(state)
            return super().forward(x, state)

    trainer = sf.Trainer(Spy(hidden_size=4, num_layers=1), device="cpu", stateful=False)
    trainer.fit(sf.SineStream(), steps=5)
    assert seen == [None] * 5
    assert trainer.state is None


def test_fit_continues_the_same_stream() -> None:
    stream = sf.SineStream(num_windows=10)
    trainer = sf.Trainer(sf.FeedForwardForecaster(), device="cpu")
    trainer.fit(stream, steps=4)
    trainer.fit(stream, steps=4)
    assert trainer.stream_position == 8
    trainer.fit(stream)  # to the end of the finite stream
    assert trainer.history.steps == 10
    trainer.fit(stream, steps=2)  # the stream was used up: a new pass from window 0
    assert trainer.stream_position == 2
    trainer.fit(sf.ArrayStream(torch.arange(31.0), seq_length=10, num_epochs=2), epochs=2)
    assert trainer.history.steps == 18


def test_seed_makes_training_reproducible() -> None:
    def run() -> list[float]:
        torch.manual_seed(5)
        model = sf.RecurrentForecaster(hidden_size=8, num_layers=2, dropout=0.3)
        return sf.Trainer(model, device="cpu", seed=3).fit(sf.SineStream(batch_size=2), steps=20).losses

    assert run() == run()


def test_custom_optimizer_loss_and_clipping() -> None:
    model = sf.ConvForecaster(channels=4, head_hidden=4)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    trainer = sf.Trainer(model, optimizer=optimizer, loss=nn.L1Loss(), clip_grad_norm=0.5, device="cpu")
    history = trainer.fit(sf.SineStream(batch_size=4), steps=30)
    assert len(history.losses) == 30
    assert trainer.optimizer is optimizer


class NanAt:
    """An MSE loss that turns NaN at one step."""

    def __init__(self, step: int) -> None:
        self.step, self.calls = step, 0

    def __call__(self, output: Tensor, target: Tensor) -> Tensor:
        self.calls += 1
        loss = nn.functional.mse_loss(output, target)
        return loss * float("nan") if self.calls - 1 == self.step else loss


class Recorder(sf.Callback):
    def __init__(self) -> None:
        self.weights: list[dict[str, Tensor]] = []

    def on_step_end(self, trainer: sf.TrainerView, step: int, loss: Tensor) -> None:
        self.weights.append(copy.deepcopy(trainer.module.state_dict()))


def test_divergence_restores_the_last_good_weights() -> None:
    recorder = Recorder()
    model = sf.RecurrentForecaster(hidden_size=8, num_layers=1)
    trainer = sf.Trainer(model, loss=NanAt(12), callbacks=[recorder], device="cpu", log_every=5)
    with pytest.raises(sf.TrainingDivergedError, match="step 12") as raised:
        trainer.fit(sf.SineStream(), steps=50)
    assert raised.value.step == 12
    assert len(trainer.history.losses) == 12
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, recorder.weights[-1][name], atol=0, rtol=0)


def test_huge_learning_rate_diverges_cleanly() -> None:
    model = sf.FeedForwardForecaster(hidden_sizes=(64, 64))
    with pytest.raises(sf.TrainingDivergedError):
        sf.Trainer(model, lr=1e12, device="cpu").fit(sf.SineStream(batch_size=4), steps=200)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_interrupt_returns_the_history_so_far() -> None:
    class Interrupt(sf.Callback):
        def on_step_end(self, trainer: sf.TrainerView, step: int, loss: Tensor) -> None:
            if step == 7:
                raise KeyboardInterrupt

    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1)
    trainer = sf.Trainer(model, callbacks=[Interrupt()], device="cpu")
    history = trainer.fit(sf.SineStream(), steps=20)
    assert history.interrupted
    assert len(history.losses) == 7
    assert history.steps == 7
    y, _ = model(torch.zeros(1, 3, 1))
    assert torch.isfinite(y).all()


def test_validation_and_early_stopping() -> None:
    model = sf.FeedForwardForecaster(window=2)
    stop = sf.EarlyStopping(patience=2, min_delta=1.0)  # nothing improves by 1.0: stops after 3 passes
    trainer = sf.Trainer(model, callbacks=[stop], device="cpu")
    history = trainer.fit(
        sf.SineStream(batch_size=2), steps=100, val_stream=sf.SineStream(num_windows=2, start_degrees=45.0), val_every=5
    )
    assert history.val_steps == [5, 10, 15]
    assert len(history.val_losses) == 3
    assert history.steps == 15


def test_trains_on_the_device(device: torch.device) -> None:
    model = sf.RecurrentForecaster(hidden_size=8, num_layers=2, cell="lstm")
    trainer = sf.Trainer(model, device=device)
    history = trainer.fit(sf.SineStream(batch_size=4, device=device), steps=10)
    assert len(history.losses) == 10
    assert next(model.parameters()).device.type == device.type


def graph_run(device: torch.device, family: str, cuda_graphs: bool) -> tuple[list[float], list[Tensor]]:
    torch.manual_seed(0)
    model: sf.BaseForecaster = (
        sf.ConvForecaster(channels=8, head_hidden=8)
        if family == "conv"
        else sf.RecurrentForecaster(hidden_size=8, num_layers=2, cell=family)  # type: ignore[arg-type]
    )
    series = torch.sin(torch.arange(400.0) / 5)
    stream = sf.ArrayStream(series, seq_length=9, batch_size=4, device=device)  # short last windows, resets
    trainer = sf.Trainer(model, device=device, cuda_graphs=cuda_graphs, clip_grad_norm=1.0, log_every=7)
    trainer.fit(stream, steps=40)
    return trainer.history.losses, [p.detach().cpu() for p in model.parameters()]


@pytest.mark.parametrize("family", ["rnn", "lstm", "conv"])
def test_cuda_graphs_give_the_plain_losses(device: torch.device, family: str) -> None:
    """On CUDA the captured step replays the plain one; on the CPU the option changes nothing."""
    plain_losses, plain_weights = graph_run(device, family, cuda_graphs=False)
    graph_losses, graph_weights = graph_run(device, family, cuda_graphs=True)
    if device.type == "cpu":
        assert graph_losses == plain_losses
    np.testing.assert_allclose(graph_losses, plain_losses, rtol=1e-4, atol=1e-6)
    for a, b in zip(graph_weights, plain_weights, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)


def test_cuda_graphs_need_a_capturable_optimizer(device: torch.device) -> None:
    model = sf.RecurrentForecaster().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    if device.type == "cuda":
        with pytest.raises(ValueError, match="capturable"):
            sf.Trainer(model, optimizer=optimizer, device=device, cuda_graphs=True)
    else:
        sf.Trainer(model, optimizer=optimizer, device=device, cuda_graphs=True)  # ignored on the CPU


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"lr": 0.0}, ValueError, "lr"),
        ({"lr": -1.0}, ValueError, "lr"),
        ({"log_every": 0}, ValueError, "log_every"),
        ({"clip_grad_norm": -1.0}, ValueError, "clip_grad_norm"),
        ({"device": "tpu9"}, ValueError, "device"),
        ({"optimizer": "adam"}, TypeError, "optimizer"),
    ],
)
def test_trainer_bad_arguments(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        sf.Trainer(sf.RecurrentForecaster(), **kwargs)


def test_fit_bad_arguments() -> None:
    trainer = sf.Trainer(sf.RecurrentForecaster(), device="cpu")
    with pytest.raises(ValueError, match="steps"):
        trainer.fit(sf.SineStream(), steps=0)
    with pytest.raises(ValueError, match="endless"):
        trainer.fit(sf.SineStream())
    with pytest.raises(ValueError, match="windows_per_epoch"):
        trainer.fit(sf.SineStream(), epochs=1)
    with pytest.raises(TypeError, match="model"):
        sf.Trainer(nn.Linear(1, 1))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="targets"):
        sf.Trainer(sf.RecurrentForecaster(output_size=2), device="cpu").fit(sf.SineStream(), steps=1)


# -- learning: the notebook's lesson, with fixed seeds on the CPU ---------------------------


def train(model: sf.BaseForecaster, steps: int = 300) -> sf.BaseForecaster:
    sf.Trainer(model, device="cpu", seed=0).fit(sf.SineStream(batch_size=16, seed=0), steps=steps)
    return model


@pytest.fixture(scope="module")
def trained() -> dict[str, sf.BaseForecaster]:
    torch.manual_seed(0)
    return {
        "rnn": train(sf.RecurrentForecaster()),
        "mlp": train(sf.FeedForwardForecaster()),
        "conv": train(sf.ConvForecaster()),
    }


def test_priming_makes_the_rnn_accurate(trained: dict[str, sf.BaseForecaster]) -> None:
    priming, test = sine_test_data()
    cold = next_step_mse(trained["rnn"], test)
    primed = next_step_mse(trained["rnn"], test, sf.prime(trained["rnn"], priming))
    assert primed < 1e-3
    assert primed * 3 <= cold


def test_the_memoryless_mlp_only_averages(trained: dict[str, sf.BaseForecaster]) -> None:
    priming, test = sine_test_data()
    rnn = next_step_mse(trained["rnn"], test, sf.prime(trained["rnn"], priming))
    mlp = next_step_mse(trained["mlp"], test, sf.prime(trained["mlp"], priming))
    assert mlp >= 3 * rnn


def test_the_causal_conv_learns_the_wave(trained: dict[str, sf.BaseForecaster]) -> None:
    """On an unseen stretch sampled like the training data (the conv does not
    generalise to the notebook's 5.625-degree test spacing; the RNN does)."""
    stream = sf.SineStream(start_degrees=100_000.0)
    history, unseen = stream.window(0), stream.window(1)
    state = sf.prime(trained["conv"], history.inputs)
    sequence = torch.cat((unseen.inputs, unseen.targets[:, -1:]), dim=1)
    assert next_step_mse(trained["conv"], sequence, state) < 1e-3


def test_graphed_step_plumbing_with_a_simulated_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    """Static buffers, state copy-in, resets and other shapes, checked on the CPU.

    A stand-in for CUDA graph capture records the step without keeping its
    effect (as capture does) and re-runs it on replay, writing into the
    captured output tensors (as replay does).
    """

    def make() -> tuple[sf.RecurrentForecaster, torch.optim.Optimizer, Any]:
        torch.manual_seed(0)
        model = sf.RecurrentForecaster(hidden_size=6, num_layers=2, cell="lstm")
        optimizer = torch.optim.Adam(model.parameters(), lr=0.01)

        def step(x: Tensor, y: Tensor, state: sf.State) -> tuple[Tensor, sf.State]:
            out, new_state = model(x, state)
            loss = nn.functional.mse_loss(out, y)
            optimizer.zero_grad(set_to_none=True)
            torch.autograd.backward(loss)
            optimizer.step()
            return loss.detach(), new_state

        return model, optimizer, step

    class Replay:
        def __init__(self, body: Any, outputs: tuple[Tensor, sf.State]) -> None:
            self.body, self.outputs = body, outputs

        def replay(self) -> None:
            loss, state = self.body()
            with torch.no_grad():
                self.outputs[0].copy_(loss)
                for kept, new in zip(self.outputs[1], state, strict=True):  # type: ignore[arg-type]
                    kept.copy_(new)

    model, optimizer, graphed_step = make()

    def capture(body: Any) -> tuple[Replay, tuple[Tensor, sf.State]]:
        saved = copy.deepcopy(model.state_dict()), copy.deepcopy(optimizer.state_dict())
        outputs = body()  # capture records; it does not train
        model.load_state_dict(saved[0])
        optimizer.load_state_dict(saved[1])
        return Replay(body, outputs), outputs

    monkeypatch.setattr(cuda_graphs, "capture", capture)
    monkeypatch.setattr(cuda_graphs.GraphedStep, "_on_side_stream", lambda self, x, y, s: self.step(x, y, s))
    graphed = cuda_graphs.GraphedStep(graphed_step, model.init_state, batch_dim=0)
    reference_model, _, reference_step = make()

    stream = sf.ArrayStream(torch.sin(torch.arange(200.0) / 4), seq_length=7, batch_size=3, num_epochs=3)
    states: dict[str, sf.State] = {"plain": None, "graphed": None}
    for window in stream:
        for name, run in (("plain", reference_step), ("graphed", graphed)):
            carried = None if window.reset else states[name]
            loss, new_state = run(window.inputs, window.targets, carried)
            states[name] = sf.detach_state(new_state)
            if name == "plain":
                expected = loss
            else:
                assert torch.equal(loss, expected)
    assert graphed.graph is not None  # the main shape was captured; the short last windows ran as plain steps
    for a, b in zip(model.parameters(), reference_model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_endless_streams_need_steps_and_validation_must_end() -> None:
    trainer = sf.Trainer(sf.FeedForwardForecaster(), device="cpu")
    series = torch.sin(torch.arange(100.0))
    with pytest.raises(ValueError, match="endless"):
        trainer.fit(sf.ArrayStream(series, seq_length=10))  # num_epochs=None never ends
    with pytest.raises(ValueError, match="val_stream"):
        trainer.fit(sf.SineStream(), steps=3, val_stream=sf.ArrayStream(series, seq_length=10))
    assert len(trainer.fit(sf.ArrayStream(series, seq_length=10, num_epochs=1)).losses) == 10


def test_non_finite_gradients_restore_the_last_log_points_weights() -> None:
    """A finite loss can have NaN gradients: the step corrupts the weights, the next loss is NaN."""
    recorder = Recorder()

    def finite_loss_nan_gradient(output: Tensor, target: Tensor) -> Tensor:
        loss = nn.functional.mse_loss(output, target)
        if len(recorder.weights) == 4:
            loss = loss + 0.0 * torch.sqrt(output.sum() * 0.0)  # d/dx sqrt(0) is inf: the value stays finite
        return loss

    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1)
    trainer = sf.Trainer(model, loss=finite_loss_nan_gradient, callbacks=[recorder], device="cpu", log_every=2)
    with pytest.raises(sf.TrainingDivergedError, match="step 5 is nan; the weights of step 4 were restored") as raised:
        trainer.fit(sf.SineStream(), steps=10)
    assert raised.value.restored_step == 4
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, recorder.weights[3][name], atol=0, rtol=0)


class WeightsByStep(sf.Callback):
    def __init__(self) -> None:
        self.weights: dict[int, dict[str, Tensor]] = {}

    def on_step_end(self, trainer: sf.TrainerView, step: int, loss: Tensor) -> None:
        self.weights[step] = copy.deepcopy(trainer.module.state_dict())


def test_training_goes_on_after_a_restore_and_restores_again() -> None:
    """Snapshots reuse their memory; after a restore they must not share it with the optimizer."""
    recorder = WeightsByStep()
    poisoned = {5, 19}  # steps whose finite loss has NaN gradients

    def loss_fn(output: Tensor, target: Tensor) -> Tensor:
        loss = nn.functional.mse_loss(output, target)
        if len(recorder.weights) + 1 in poisoned:
            poisoned.discard(len(recorder.weights) + 1)
            loss = loss + 0.0 * torch.sqrt(output.sum() * 0.0)
        return loss

    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1)
    trainer = sf.Trainer(model, loss=loss_fn, callbacks=[recorder], device="cpu", log_every=3)
    stream = sf.SineStream()
    for _ in range(2):
        with pytest.raises(sf.TrainingDivergedError) as raised:
            trainer.fit(stream, steps=30)
        restored = raised.value.restored_step
        for name, value in model.state_dict().items():
            torch.testing.assert_close(value, recorder.weights[restored][name], atol=0, rtol=0)
        states = [t for s in trainer.optimizer.state.values() for t in s.values() if isinstance(t, Tensor)]
        assert states
        assert all(bool(torch.isfinite(t).all()) for t in states)
    assert all(math.isfinite(v) for v in trainer.fit(stream, steps=10).losses)


def test_a_stream_without_seed_leaves_torchs_generator_alone() -> None:
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    first = sf.SineStream(noise_std=0.1)
    assert torch.equal(torch.rand(3), expected)
    torch.manual_seed(3)
    assert sf.SineStream(noise_std=0.1).seed == first.seed
