"""export_onnx: onnxruntime gives torch's outputs and states, split == whole, and the metadata carries the transforms."""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import seqforecast as sf
from seqforecast.base import state_tensors
from tests.strategies import forecasters, make_input

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

STEPS = 1000


def close(got: np.ndarray, expected: np.ndarray) -> None:
    """Equal within the float32 tolerance of the targets: 1e-5."""
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def session(path: Path) -> Any:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def kept(state: sf.State) -> list[torch.Tensor]:
    """The state tensors a graph carries: a forecaster without memory has an empty one in torch, none in ONNX."""
    return [t for t in state_tensors(state) if t.numel()]


def run_in_pieces(
    path: Path, model: sf.BaseForecaster, x: np.ndarray, cuts: list[int]
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Run ``x`` through the exported graph in pieces cut at ``cuts`` (time indices), carrying the state."""
    runner = session(path)
    names = [i.name for i in runner.get_inputs()]
    outputs = [o.name for o in runner.get_outputs()]
    time_axis = 1 if model.batch_first else 0
    batch = x.shape[1 - time_axis]
    state = [t.float().numpy() for t in state_tensors(model.init_state(batch))] if len(names) > 1 else []
    pieces = []
    for start, stop in zip([0, *cuts], [*cuts, x.shape[time_axis]], strict=True):
        piece = x[:, start:stop] if model.batch_first else x[start:stop]
        result = runner.run(outputs, dict(zip(names, [piece, *state], strict=True)))
        pieces.append(result[0])
        state = result[1:]
    return np.concatenate(pieces, axis=time_axis), state


@settings(max_examples=10)
@given(
    model=forecasters(),
    batch=st.integers(1, 3),
    cuts=st.lists(st.integers(1, STEPS - 1), max_size=6, unique=True).map(sorted),
    seed=st.integers(0, 2**16),
)
def test_onnxruntime_gives_torchs_outputs_and_states_over_a_long_stream_in_pieces(
    tmp_path_factory: pytest.TempPathFactory, model: sf.BaseForecaster, batch: int, cuts: list[int], seed: int
) -> None:
    path = tmp_path_factory.mktemp("export") / "model.onnx"
    sf.export_onnx(model, path)
    x = make_input(model, batch, STEPS, seed)
    with torch.no_grad():
        expected, expected_state = model.eval()(x)
    got, got_state = run_in_pieces(path, model, x.numpy(), cuts)
    close(got, expected.numpy())
    for have, want in zip(got_state, kept(expected_state), strict=True):
        close(have, want.numpy())


GRID = [
    *[
        pytest.param(
            sf.RecurrentForecaster(2, 2, 5, layers, cell=cell, batch_first=first, seed=0), id=f"{cell}-{layers}-{first}"
        )
        for cell in ("rnn", "lstm", "gru")
        for layers in (1, 2)
        for first in (True, False)
    ],
    *[
        pytest.param(
            sf.FeedForwardForecaster(2, 2, (6,), window=window, batch_first=first, seed=0), id=f"mlp-{window}-{first}"
        )
        for window in (1, 4)
        for first in (True, False)
    ],
    *[
        pytest.param(
            sf.ConvForecaster(2, 2, 4, layers, 3, dilation_base=2, head_hidden=4, batch_first=first, seed=0),
            id=f"conv-{layers}-{first}",
        )
        for layers in (1, 2)
        for first in (True, False)
    ],
]


@pytest.mark.parametrize("model", GRID)
def test_every_family_cell_layer_count_and_layout_streams_step_by_step_like_torch(
    model: sf.BaseForecaster, tmp_path: Path
) -> None:
    from seqforecast.runtime import OnnxStreamingForecaster

    path = tmp_path / "model.onnx"
    sf.export_onnx(model, path)
    x = make_input(model, 3, STEPS, seed=1)
    with torch.no_grad():
        expected, expected_state = model.eval()(x)
    whole, _ = run_in_pieces(path, model, x.numpy(), [])
    close(whole, expected.numpy())
    stream = OnnxStreamingForecaster(path)
    steps = x.numpy() if model.batch_first else x.numpy().transpose(1, 0, 2)  # (batch, time, F)
    got = np.stack([stream.update(steps[:, t]) for t in range(STEPS)], axis=1)  # (batch, time, F)
    want = expected.numpy() if model.batch_first else expected.numpy().transpose(1, 0, 2)
    close(got, want)
    for have, state in zip(stream.state or (), kept(expected_state), strict=True):
        close(have, state.numpy())


def test_the_metadata_names_the_graphs_inputs_outputs_and_their_shapes(tmp_path: Path) -> None:
    import onnx

    model = sf.RecurrentForecaster(2, 1, 8, 2, cell="lstm", batch_first=False, seed=0)
    info = sf.export_onnx(model, tmp_path / "lstm.onnx", opset=18)
    proto = onnx.load(str(tmp_path / "lstm.onnx"))
    props = {p.key: json.loads(p.value) for p in proto.metadata_props}
    assert props["seqforecast.format_version"] == 1
    assert {k.removeprefix("seqforecast.") for k in props} == set(info)
    assert props["seqforecast.model"]["config"] == model.config.to_dict()
    assert props["seqforecast.transform"] == {"difference": False, "season": 0, "scale": None}
    assert props["seqforecast.start"] is None
    assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [18]
    runner = session(tmp_path / "lstm.onnx")
    shapes = {i.name: i.shape for i in [*runner.get_inputs(), *runner.get_outputs()]}
    assert shapes == {
        "x": ["time", "batch", 2],
        "h": [2, "batch", 8],
        "c": [2, "batch", 8],
        "y": ["time", "batch", 1],
        "h_next": [2, "batch", 8],
        "c_next": [2, "batch", 8],
    }
    assert [(i["name"], i["shape"]) for i in info["io"]["inputs"]] == [(name, shapes[name]) for name in ("x", "h", "c")]


def test_a_memoryless_forecaster_has_no_state_tensors(tmp_path: Path) -> None:
    info = sf.export_onnx(sf.FeedForwardForecaster(window=1, seed=0), tmp_path / "mlp.onnx")
    assert [i["name"] for i in info["io"]["inputs"]] == ["x"]
    assert [o["name"] for o in info["io"]["outputs"]] == ["y"]
    assert info["io"]["state"] == []


def test_a_float64_model_is_exported_in_float32_and_left_as_it_was(tmp_path: Path) -> None:
    model = sf.ConvForecaster(channels=4, head_hidden=4, seed=0).double()
    sf.export_onnx(model, tmp_path / "conv.onnx")
    assert next(model.parameters()).dtype == torch.float64
    x = np.random.default_rng(0).normal(size=(2, 30, 1)).astype(np.float32)
    got, _ = run_in_pieces(tmp_path / "conv.onnx", model, x, [7])
    with torch.no_grad():
        expected, _ = model(torch.from_numpy(x).double())
    close(got, expected.numpy())


def trending(length: int = 300) -> np.ndarray:
    t = np.arange(length)
    noise = np.random.default_rng(0).normal(0, 0.5, length)
    series: np.ndarray = 50 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + noise  # trend, a yearly cycle, noise
    return series


@pytest.mark.parametrize("models", [("linear",), ("gru",)])
def test_the_runtime_forecasts_in_the_data_units_as_the_auto_forecaster_does(
    models: tuple[str, ...], tmp_path: Path
) -> None:
    from seqforecast.runtime import OnnxStreamingForecaster

    y = trending()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a candidate that does not beat naive is not the point here
        est = sf.AutoForecaster(seed=0, models=models, steps=40).fit(y[:200])
    info = sf.export_onnx(est, tmp_path / "auto.onnx")
    assert info["transform"]["scale"] is not None
    assert info["transform"]["difference"] or info["transform"]["season"]
    stream = OnnxStreamingForecaster(tmp_path / "auto.onnx")
    np.testing.assert_allclose(stream.forecast(12), est.forecast(12), rtol=1e-6, atol=1e-5)  # where fit left it
    updates = np.stack([stream.update(y[t : t + 1]) for t in range(200, 300)])
    np.testing.assert_allclose(updates, est.update(y[200:]), rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(stream.forecast(12), est.forecast(12), rtol=1e-6, atol=1e-5)
    stream.reset(fresh=True)  # a new series from its first value: AutoForecaster.predict along it
    fresh = np.stack([stream.update(y[t : t + 1]) for t in range(300)])
    np.testing.assert_allclose(fresh, est.predict(y), rtol=1e-6, atol=1e-5)


def test_an_auto_checkpoint_exports_like_the_auto_forecaster(tmp_path: Path) -> None:
    from seqforecast.runtime import OnnxStreamingForecaster

    y = trending()
    est = sf.AutoForecaster(seed=0, models=("linear",)).fit(y[:250])
    est.save(tmp_path / "auto.safetensors")
    from_checkpoint = sf.export_onnx(sf.load(tmp_path / "auto.safetensors"), tmp_path / "a.onnx")
    from_estimator = sf.export_onnx(est, tmp_path / "b.onnx")
    assert from_checkpoint == from_estimator
    stream = OnnxStreamingForecaster(tmp_path / "a.onnx")
    np.testing.assert_allclose(stream.forecast(6), est.forecast(6), rtol=1e-6, atol=1e-5)


def test_a_checkpoint_with_a_scaler_and_differencer_forecasts_in_the_data_units(tmp_path: Path) -> None:
    from seqforecast.runtime import OnnxStreamingForecaster

    y = trending(120)[:, None]
    differencer = sf.Differencer().fit(y)
    scaler = sf.Scaler().fit(differencer.transform(y))
    model = sf.RecurrentForecaster(hidden_size=6, num_layers=1, cell="gru", seed=0)
    sf.save(tmp_path / "m.safetensors", model, scaler=scaler, differencer=differencer)
    sf.export_onnx(sf.load(tmp_path / "m.safetensors"), tmp_path / "m.onnx")
    stream = OnnxStreamingForecaster(tmp_path / "m.onnx")
    first = stream.update(y[0])
    np.testing.assert_array_equal(first, y[0])  # no difference yet: the naive forecast
    for value in y[1:]:
        last = stream.update(value)
    u = scaler.transform(differencer.transform(y))
    out, _ = sf.predict(model, u.astype(np.float32))
    expected_last = y[-1] + scaler.inverse_transform(out[-1:].double().numpy())[0]
    np.testing.assert_allclose(last, expected_last, rtol=1e-6, atol=1e-5)
    future = scaler.inverse_transform(sf.forecast(model, u.astype(np.float32), 5).double().numpy())
    np.testing.assert_allclose(stream.forecast(5), y[-1] + np.cumsum(future, axis=0), rtol=1e-6, atol=1e-5)


def test_export_refuses_a_missing_folder_and_a_failed_export_leaves_an_existing_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        sf.export_onnx(sf.FeedForwardForecaster(seed=0), tmp_path / "no" / "m.onnx")
    assert list(tmp_path.iterdir()) == []
    existing = tmp_path / "m.onnx"
    existing.write_bytes(b"the previous model")

    def fail(*args: object) -> None:
        msg = "verification failed"
        raise RuntimeError(msg)

    monkeypatch.setattr("seqforecast.export._verify", fail)
    with pytest.raises(RuntimeError, match="verification failed"):
        sf.export_onnx(sf.FeedForwardForecaster(seed=0), existing)
    assert existing.read_bytes() == b"the previous model"
    assert list(tmp_path.iterdir()) == [existing]  # no temporary file left behind


def test_export_runs_on_a_torch_whose_exporter_has_no_dynamo_argument(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """torch before 2.5 has only the TorchScript exporter, and no `dynamo` argument."""
    real = torch.onnx.export
    calls: list[dict[str, Any]] = []

    def old_export(  # the signature of torch < 2.5, in part
        model: Any,
        args: Any,
        f: Any,
        *,
        input_names: Any = None,
        output_names: Any = None,
        dynamic_axes: Any = None,
        opset_version: Any = None,
    ) -> None:
        calls.append({"opset_version": opset_version})
        real(
            model,
            args,
            f,
            input_names=input_names,
            output_names=output_names,
            dynamic_axes=dynamic_axes,
            opset_version=opset_version,
            dynamo=False,
        )

    monkeypatch.setattr(torch.onnx, "export", old_export)
    sf.export_onnx(sf.RecurrentForecaster(hidden_size=4, seed=0), tmp_path / "gru.onnx")
    assert calls == [{"opset_version": 17}]


def random_walk_auto() -> tuple[sf.AutoForecaster, np.ndarray]:
    """An AutoForecaster that chose the naive forecast (no model beats it on this random walk), and the walk."""
    y = np.cumsum(np.random.default_rng(5).normal(size=80))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "no model beat the naive forecast": the point here
        est = sf.AutoForecaster(seed=0, models=("linear",)).fit(y[:60])
    assert est.choice_ == "naive"
    return est, y


def test_an_auto_forecaster_that_chose_the_naive_forecast_exports_and_forecasts(tmp_path: Path) -> None:
    from seqforecast.runtime import OnnxStreamingForecaster

    est, y = random_walk_auto()
    info = sf.export_onnx(est, tmp_path / "naive.onnx")
    assert info["io"]["state"] == []
    assert info["start"]["state"] is None  # torch's empty state of a memoryless model is not written
    stream = OnnxStreamingForecaster(tmp_path / "naive.onnx")
    assert stream.state is None
    np.testing.assert_allclose(stream.forecast(3), est.forecast(3), atol=1e-9)
    updates = np.stack([stream.update(y[t : t + 1]) for t in range(60, 80)])
    np.testing.assert_allclose(updates, est.update(y[60:]), atol=1e-9)
    np.testing.assert_allclose(stream.forecast(3), np.repeat(y[-1:, None], 3, axis=0), atol=1e-9)


def test_a_file_with_torchs_empty_state_in_its_start_still_reads(tmp_path: Path) -> None:
    """Files written before the empty state was dropped hold a (1, 0, 1) tensor: the runtime ignores it."""
    import onnx

    from seqforecast.runtime import OnnxStreamingForecaster

    est, _ = random_walk_auto()
    sf.export_onnx(est, tmp_path / "naive.onnx")
    proto = onnx.load(str(tmp_path / "naive.onnx"))
    for entry in proto.metadata_props:
        if entry.key == "seqforecast.start":
            start = json.loads(entry.value)
            start["state"] = [{"shape": [1, 0, 1], "values": []}]
            entry.value = json.dumps(start)
    (tmp_path / "old.onnx").write_bytes(proto.SerializeToString())
    stream = OnnxStreamingForecaster(tmp_path / "old.onnx")
    assert stream.state is None
    np.testing.assert_allclose(stream.forecast(3), est.forecast(3), atol=1e-9)


@pytest.mark.filterwarnings("ignore:AutoForecaster. no model beat the naive forecast")
def test_an_auto_forecaster_fitted_on_a_panel_is_refused_with_its_checkpoint(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    panel = sf.Panel.from_series({key: np.cumsum(rng.normal(size=40)) for key in ("a", "b")})
    est = sf.AutoForecaster(seed=0, models=("linear",)).fit(panel)
    est.save(tmp_path / "panel.safetensors")
    for model in (est, sf.load(tmp_path / "panel.safetensors")):
        with pytest.raises(ValueError, match="fitted on a Panel of many series"):
            sf.export_onnx(model, tmp_path / "panel.onnx")
    assert not (tmp_path / "panel.onnx").exists()
