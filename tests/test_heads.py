"""Likelihood and quantile heads: shapes, causality, monotone quantiles, training, checkpoints, distributions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import seqforecast as sf
from seqforecast.distributions import NegativeBinomial, QuantileDistribution, StudentT
from seqforecast.heads import HeadLoss, OutputHead
from tests.strategies import batches, forecasters, lengths, make_input, time_slice

HEADS = [
    pytest.param({"likelihood": "gaussian"}, id="gaussian"),
    pytest.param({"likelihood": "student_t"}, id="student_t"),
    pytest.param({"likelihood": "negative_binomial"}, id="negative_binomial"),
    pytest.param({"quantiles": (0.1, 0.5, 0.9)}, id="quantiles"),
]


def _head(model: sf.BaseForecaster) -> OutputHead:
    assert model.output_head is not None
    return model.output_head


@given(model=forecasters(head=True), batch=batches, time=lengths)
def test_every_head_keeps_the_point_contract_and_adds_a_distribution(
    model: sf.BaseForecaster, batch: int, time: int
) -> None:
    x = make_input(model, batch, time)
    y, _ = model(x)
    out_shape = (batch, time, model.output_size) if model.batch_first else (time, batch, model.output_size)
    assert y.shape == out_shape
    raw, _ = model.head_parameters(x)
    assert raw.shape == (*out_shape[:2], model.raw_output_size)
    assert model.raw_output_size == model.output_size * _head(model).width
    dist = model.distribution(x)
    assert dist.batch_shape == out_shape
    for p in (0.05, 0.5, 0.95):
        assert dist.icdf(torch.tensor(p)).shape == out_shape
    if isinstance(dist, QuantileDistribution):  # the point forecast is the median
        torch.testing.assert_close(y, dist.icdf(torch.tensor(0.5)))
    else:  # the mean
        torch.testing.assert_close(y, dist.mean)


@given(model=forecasters(head=True), batch=batches, time=st.integers(2, 16), data=st.data())
def test_heads_stay_causal(model: sf.BaseForecaster, batch: int, time: int, data: st.DataObject) -> None:
    t = data.draw(st.integers(1, time - 1), label="perturbed step")
    x = make_input(model, batch, time)
    changed = x.clone()
    time_slice(model, changed, t, t + 1).add_(1.0)
    raw, _ = model.head_parameters(x)
    raw_changed, _ = model.head_parameters(changed)
    torch.testing.assert_close(time_slice(model, raw, 0, t), time_slice(model, raw_changed, 0, t))


@given(model=forecasters(head=True), batch=batches, time=st.integers(2, 16), data=st.data())
def test_carrying_the_state_equals_one_long_run_with_a_head(
    model: sf.BaseForecaster, batch: int, time: int, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(1, time - 1), label="cut")
    x = make_input(model, batch, time)
    whole = model.distribution(x).icdf(torch.tensor(0.9))
    _, state = model(time_slice(model, x, 0, cut))
    second = model.distribution(time_slice(model, x, cut), state).icdf(torch.tensor(0.9))
    torch.testing.assert_close(time_slice(model, whole, cut), second, atol=1e-5, rtol=1e-4)


@given(
    levels=st.lists(st.floats(0.01, 0.99), min_size=2, max_size=6, unique=True).map(sorted),
    seed=st.integers(0, 2**16),
)
def test_quantile_heads_never_cross(levels: list[float], seed: int) -> None:
    head = OutputHead(2, quantiles=levels)
    raw = 5 * torch.randn(3, 7, len(levels) * 2, generator=torch.Generator().manual_seed(seed))
    dist = head.distribution(raw)
    assert isinstance(dist, QuantileDistribution)
    assert bool((dist.values.diff(dim=-1) >= 0).all())
    grid = torch.linspace(0.001, 0.999, 50).view(-1, 1, 1, 1)
    assert bool((dist.icdf(grid).diff(dim=0) >= 0).all())


def test_quantile_distribution_interpolates_between_levels_and_is_flat_beyond() -> None:
    dist = QuantileDistribution(torch.tensor([0.25, 0.75]), torch.tensor([1.0, 3.0]))
    torch.testing.assert_close(dist.icdf(torch.tensor([0.1, 0.25, 0.5, 0.75, 0.9])), torch.tensor([1, 1, 2, 3, 3.0]))
    torch.testing.assert_close(dist.mean, torch.tensor(2.0))
    assert dist.sample((5,)).shape == (5,)


@pytest.mark.parametrize(
    ("df", "p", "expected"), [(3.0, 0.975, 3.182446), (5.0, 0.95, 2.015048), (10.0, 0.01, -2.763769)]
)
def test_student_t_quantiles_match_the_tables(df: float, p: float, expected: float) -> None:
    t = StudentT(torch.tensor(df, dtype=torch.float64))
    assert float(t.icdf(torch.tensor(p, dtype=torch.float64))) == pytest.approx(expected, abs=1e-5)


@given(df=st.floats(2.01, 200.0), p=st.floats(1e-5, 1 - 1e-5), loc=st.floats(-5, 5), scale=st.floats(0.1, 10))
def test_student_t_icdf_inverts_cdf(df: float, p: float, loc: float, scale: float) -> None:
    df_t, loc_t, scale_t = (torch.tensor(v, dtype=torch.float64) for v in (df, loc, scale))
    t = StudentT(df_t, loc_t, scale_t)
    assert float(t.cdf(t.icdf(torch.tensor(p, dtype=torch.float64)))) == pytest.approx(p, rel=1e-6, abs=1e-10)


@given(mean=st.floats(0.05, 200.0), dispersion=st.floats(0.01, 5.0), p=st.floats(0.001, 0.999))
def test_negative_binomial_icdf_is_the_smallest_count_reaching_p(mean: float, dispersion: float, p: float) -> None:
    nb = NegativeBinomial(torch.tensor(mean, dtype=torch.float64), torch.tensor(dispersion, dtype=torch.float64))
    k = float(nb.icdf(torch.tensor(p, dtype=torch.float64)))
    counts = torch.arange(0.0, k + 1, dtype=torch.float64)
    log_pmf = nb.log_prob(counts)
    cumulative = log_pmf.exp().cumsum(0)  # the cdf summed from the probability mass function
    assert float(cumulative[-1]) >= p - 1e-9
    assert k == 0 or float(cumulative[-2]) < p + 1e-9
    assert float(nb.cdf(torch.tensor(k, dtype=torch.float64))) == pytest.approx(float(cumulative[-1]), rel=1e-7)


@pytest.mark.parametrize("dispersion", [1.0, 0.1, 1e-4, 1e-5, 1e-6])
def test_the_negative_binomial_loss_is_accurate_in_float32_down_to_the_smallest_dispersion(dispersion: float) -> None:
    counts = torch.arange(0.0, 30.0)
    mean, alpha = torch.tensor(5.0), torch.tensor(dispersion)
    exact = torch.distributions.NegativeBinomial(
        total_count=1.0 / alpha.double(), logits=torch.log(mean.double() * alpha.double())
    ).log_prob(counts.double())  # type: ignore[no-untyped-call]
    log_prob = NegativeBinomial(mean, alpha).log_prob(counts)
    assert log_prob.dtype == torch.float32
    torch.testing.assert_close(log_prob.double(), exact, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("head", HEADS)
def test_the_trainer_trains_on_the_heads_own_loss(head: dict[str, object]) -> None:
    series = np.round(5 + 3 * np.sin(np.arange(400) / 4)) if "likelihood" in head else np.sin(np.arange(400) / 4)
    model = sf.FeedForwardForecaster(hidden_sizes=(8,), window=3, seed=0, **head)  # type: ignore[arg-type]
    trainer = sf.Trainer(model, device="cpu", seed=0, lr=0.02)
    assert isinstance(trainer.loss_fn, HeadLoss)
    history = trainer.fit(sf.ArrayStream(series, seq_length=20, batch_size=4), steps=60)
    assert history.losses[-1] < history.losses[0]


@pytest.mark.parametrize("where", ["stream on the host", "stream on the device", "validation stream"])
def test_a_negative_binomial_head_refuses_targets_that_are_not_counts_on_every_device(
    device: torch.device, where: str
) -> None:
    counts = torch.round(5 + 3 * torch.sin(torch.arange(200.0) / 4))
    fractions = counts + 0.5
    model = sf.FeedForwardForecaster(hidden_sizes=(4,), window=2, likelihood="negative_binomial", seed=0)
    trainer = sf.Trainer(model, device=device, seed=0, log_every=4)
    stream_device = torch.device("cpu") if where == "stream on the host" else device
    train = sf.ArrayStream(counts if where == "validation stream" else fractions, 10, device=stream_device)
    val = sf.ArrayStream(fractions, 10, num_epochs=1, device=device) if where == "validation stream" else None
    with pytest.raises(ValueError, match="needs targets that are counts"):
        trainer.fit(train, steps=6, val_stream=val, val_every=2 if val is not None else None)


def test_a_given_loss_still_trains_the_point_forecast() -> None:
    model = sf.FeedForwardForecaster(hidden_sizes=(8,), window=3, likelihood="gaussian", seed=0)
    trainer = sf.Trainer(model, device="cpu", loss=torch.nn.L1Loss(), seed=0)
    history = trainer.fit(sf.SineStream(batch_size=2), steps=5)
    assert isinstance(trainer.loss_fn, torch.nn.L1Loss)
    assert len(history.losses) == 5


def test_validation_uses_the_heads_loss() -> None:
    model = sf.FeedForwardForecaster(hidden_sizes=(4,), window=2, quantiles=(0.2, 0.8), seed=0)
    stream = sf.ArrayStream(np.sin(np.arange(300) / 3), seq_length=10)
    trainer = sf.Trainer(model, device="cpu", seed=0)
    trainer.fit(stream, steps=4, val_stream=sf.ArrayStream(np.sin(np.arange(60) / 3), 10, num_epochs=1), val_every=2)
    assert len(trainer.history.val_losses) == 2
    # the last pass ran on the final weights: the pinball loss of the head's quantiles, window by window
    loss, losses, state = HeadLoss(_head(model)), [], None
    with torch.no_grad():
        for window in sf.ArrayStream(np.sin(np.arange(60) / 3), 10, num_epochs=1):
            if isinstance(window.reset, torch.Tensor):
                state = model.reset_state(state, window.reset)
            elif window.reset:
                state = None
            raw, state = model.head_parameters(window.inputs, state)
            losses.append(float(loss(raw, window.targets)))
    assert trainer.history.val_losses[-1] == pytest.approx(np.mean(losses), rel=1e-6)


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("family", ["rnn", "mlp", "conv"])
def test_checkpoints_round_trip_the_head(head: dict[str, object], family: str, tmp_path: Path) -> None:
    build = {"rnn": sf.RecurrentForecaster, "mlp": sf.FeedForwardForecaster, "conv": sf.ConvForecaster}[family]
    model = build(seed=0, **head)
    sf.save(tmp_path / "m.safetensors", model)
    loaded = sf.load(tmp_path / "m.safetensors").model
    assert loaded.config == model.config
    x = torch.randn(2, 9, 1)
    torch.testing.assert_close(
        loaded.distribution(x).icdf(torch.tensor(0.8)), model.distribution(x).icdf(torch.tensor(0.8))
    )


def test_a_trainer_with_a_head_resumes_without_naming_the_loss(tmp_path: Path) -> None:
    def trainer() -> sf.Trainer:
        return sf.Trainer(sf.FeedForwardForecaster(window=2, likelihood="student_t", seed=0), device="cpu", seed=0)

    whole = trainer()
    whole.fit(sf.SineStream(batch_size=2), steps=5)
    first = trainer()
    first.fit(sf.SineStream(batch_size=2), steps=3)
    first.save_checkpoint(tmp_path / "run.safetensors")
    saved = sf.load(tmp_path / "run.safetensors").trainer_state
    assert saved is not None
    assert saved["loss"] == "default"  # the head's own loss, no longer labelled "mse"
    resumed = sf.Trainer.resume(tmp_path / "run.safetensors")
    assert isinstance(resumed.loss_fn, HeadLoss)
    resumed.fit(sf.SineStream(batch_size=2), steps=2)
    assert resumed.history.losses == whole.history.losses  # the head's loss, continued bit for bit
    for a, b in zip(resumed.model.parameters(), whole.model.parameters(), strict=True):
        assert torch.equal(a, b)


def test_a_run_saved_with_the_old_mse_label_for_the_default_loss_still_resumes(tmp_path: Path) -> None:
    trainer = sf.Trainer(sf.FeedForwardForecaster(window=2, likelihood="gaussian", seed=0), device="cpu", seed=0)
    trainer.fit(sf.SineStream(), steps=2)
    state = {**trainer.state_dict(), "loss": "mse"}  # what files written before the "default" label hold

    class Saved:
        def state_dict(self) -> dict[str, Any]:
            return state

    sf.save(tmp_path / "old.safetensors", trainer.model, trainer=Saved())  # type: ignore[arg-type]
    assert isinstance(sf.Trainer.resume(tmp_path / "old.safetensors").loss_fn, HeadLoss)


def test_trace_shapes_reports_the_head() -> None:
    model = sf.RecurrentForecaster(hidden_size=8, likelihood="student_t")
    stages = {stage.name: stage for stage in sf.trace_shapes(model, torch.zeros(2, 5, 1))}
    assert stages["head output"].shape == (2, 5, 3)
    assert "student_t" in stages["head output"].meaning
    assert stages["output"].shape == (2, 5, 1)


def test_a_head_trained_on_a_given_mse_resumes_only_with_that_loss(tmp_path: Path) -> None:
    model = sf.FeedForwardForecaster(window=2, likelihood="gaussian", seed=0)
    trainer = sf.Trainer(model, device="cpu", loss=torch.nn.MSELoss(), seed=0)
    trainer.fit(sf.SineStream(), steps=2)
    trainer.save_checkpoint(tmp_path / "run.safetensors")
    with pytest.raises(ValueError, match="custom loss function: pass the same `loss=`"):
        sf.Trainer.resume(tmp_path / "run.safetensors")
    resumed = sf.Trainer.resume(tmp_path / "run.safetensors", loss=torch.nn.MSELoss())
    assert isinstance(resumed.loss_fn, torch.nn.MSELoss)


def _head_run(
    device: torch.device, head: dict[str, object], cuda_graphs: bool
) -> tuple[list[float], list[torch.Tensor]]:
    model = sf.RecurrentForecaster(hidden_size=8, num_layers=2, cell="gru", seed=0, **head)  # type: ignore[arg-type]
    stream = sf.ArrayStream(torch.sin(torch.arange(300.0) / 5), seq_length=9, batch_size=4, device=device)
    trainer = sf.Trainer(model, device=device, cuda_graphs=cuda_graphs, clip_grad_norm=1.0, log_every=7, seed=0)
    trainer.fit(stream, steps=20)
    return trainer.history.losses, [p.detach().cpu() for p in model.parameters()]


@pytest.mark.parametrize("head", [h for h in HEADS if h.id != "negative_binomial"])
def test_heads_train_alike_with_and_without_cuda_graphs(device: torch.device, head: dict[str, object]) -> None:
    plain_losses, plain_weights = _head_run(device, head, cuda_graphs=False)
    graph_losses, graph_weights = _head_run(device, head, cuda_graphs=True)
    np.testing.assert_allclose(graph_losses, plain_losses, rtol=1e-4, atol=1e-6)
    for a, b in zip(graph_weights, plain_weights, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("head", HEADS)
def test_sample_paths_run_on_the_models_device(device: torch.device, head: dict[str, object]) -> None:
    model = sf.ConvForecaster(channels=4, head_hidden=4, seed=0, **head).to(device)  # type: ignore[arg-type]
    history = torch.arange(12.0, device=device) % 5
    paths = sf.sample_paths(model, history, 4, 8, seed=0)
    assert paths.device.type == device.type
    assert paths.shape == (8, 4, 1)
    quantiles = sf.forecast_quantiles(model, history, 4, (0.1, 0.9), num_samples=16)
    assert bool((quantiles[0] <= quantiles[1]).all())


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("family", ["lstm", "mlp", "conv"])
def test_backtest_evaluate_and_streaming_use_the_point_forecast_of_a_head(head: dict[str, Any], family: str) -> None:
    model: sf.BaseForecaster
    if family == "lstm":
        model = sf.RecurrentForecaster(hidden_size=8, num_layers=2, cell="lstm", seed=0, **head)
    elif family == "mlp":
        model = sf.FeedForwardForecaster(hidden_sizes=(8,), window=3, seed=0, **head)
    else:
        model = sf.ConvForecaster(channels=4, head_hidden=4, seed=0, **head)
    series = torch.sin(torch.arange(60.0) / 5) + 1.5
    result = sf.backtest(model, series, 4, start=50)
    for k, cutoff in enumerate(result.cutoffs.tolist()):
        torch.testing.assert_close(result.forecasts[k], sf.forecast(model, series[:cutoff], 4), rtol=1e-4, atol=1e-5)
    assert set(sf.evaluate(model, series)) >= {"mse", "naive_mse"}
    stream = sf.StreamingForecaster(model)
    streamed = torch.stack([stream.update(v.view(1)) for v in series[:10]])
    torch.testing.assert_close(streamed, sf.predict(model, series[:10])[0], rtol=1e-4, atol=1e-5)
