"""seqforecast.runtime: streaming from an exported graph without torch, and one clear error for bad input."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import seqforecast as sf
from seqforecast.base import state_tensors

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from seqforecast.runtime import OnnxModelError, OnnxStreamingForecaster

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def lstm_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("runtime") / "lstm.onnx"
    sf.export_onnx(lstm(path), path)
    return path


def lstm(path: Path) -> sf.RecurrentForecaster:
    """The model exported to ``path``: two features in and out, two layers (its weights seeded)."""
    return sf.RecurrentForecaster(2, 2, 6, 2, cell="lstm", seed=0).eval()


def test_updates_equal_torchs_streaming_forecaster_for_a_batch(lstm_path: Path) -> None:
    model = lstm(lstm_path)
    x = np.random.default_rng(0).normal(size=(40, 3, 2)).astype(np.float32)  # (time, batch, F)
    ours, theirs = OnnxStreamingForecaster(lstm_path), sf.StreamingForecaster(model)
    for x_t in x:
        np.testing.assert_allclose(ours.update(x_t), theirs.update(torch.from_numpy(x_t)).numpy(), atol=1e-5)
    assert ours.steps == 40
    for have, want in zip(ours.state or (), state_tensors(theirs.state), strict=True):
        np.testing.assert_allclose(have, want.numpy(), atol=1e-5)


def test_a_primed_state_from_torch_continues_in_the_runtime(lstm_path: Path) -> None:
    model = lstm(lstm_path)
    history = torch.randn(30, 2, generator=torch.Generator().manual_seed(0))
    state = sf.prime(model, history)
    stream = OnnxStreamingForecaster(lstm_path, state=tuple(t.numpy() for t in state_tensors(state)))
    x_t = np.array([0.3, -0.2], dtype=np.float32)
    expected = sf.StreamingForecaster(model, state).update(torch.from_numpy(x_t))
    np.testing.assert_allclose(stream.update(x_t), expected.numpy(), atol=1e-5)


def test_forecast_is_closed_loop_like_sf_forecast_and_leaves_the_stream_as_it_was(lstm_path: Path) -> None:
    model = lstm(lstm_path)
    history = np.random.default_rng(1).normal(size=(25, 2)).astype(np.float32)
    stream = OnnxStreamingForecaster(lstm_path)
    for x_t in history[:-1]:
        stream.update(x_t)
    before = stream.state
    last = stream.update(history[-1])
    expected = sf.forecast(model, history, 8).numpy()  # (8, 2)
    np.testing.assert_allclose(stream.forecast(8), expected, atol=1e-5)
    np.testing.assert_allclose(stream.forecast(8)[0], last, atol=0)
    np.testing.assert_array_equal(stream.forecast(8), stream.forecast(8))  # no change in between
    stream.reset(state=before)
    np.testing.assert_allclose(stream.update(history[-1]), last, atol=0)


def test_reset_starts_again_and_a_new_batch_size_needs_it(lstm_path: Path) -> None:
    stream = OnnxStreamingForecaster(lstm_path)
    first = stream.update(np.ones((2, 2)))
    stream.update(np.zeros((2, 2)))
    with pytest.raises(ValueError, match=r"`x_t` has 3 series but this stream carries 2; call reset\(fresh=True\)"):
        stream.update(np.zeros((3, 2)))
    stream.reset()
    assert stream.steps == 0
    assert stream.state is None
    np.testing.assert_array_equal(stream.update(np.ones((2, 2))), first)
    stream.reset()
    assert stream.update(np.zeros((3, 2))).shape == (3, 2)


def test_the_runtime_runs_where_torch_cannot_be_imported(lstm_path: Path, tmp_path: Path) -> None:
    """A deployment without torch: the module and a streaming loop run with torch made unimportable."""
    code = textwrap.dedent(
        f"""
        import sys
        sys.modules["torch"] = None  # any `import torch` now raises ImportError
        import numpy as np
        from seqforecast.runtime import OnnxStreamingForecaster
        stream = OnnxStreamingForecaster({str(lstm_path)!r})
        for t in range(20):
            y = stream.update(np.array([np.sin(t / 3), np.cos(t / 3)]))
        print(y.shape, stream.forecast(4).shape, sorted(m for m in sys.modules if m.startswith("seqforecast")))
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert run.returncode == 0, run.stderr
    assert (
        run.stdout.strip() == "(2,) (4, 2) ['seqforecast', 'seqforecast._numpy_quantiles', 'seqforecast._onnx_future', "
        "'seqforecast._onnx_intervals', 'seqforecast._onnx_metadata', 'seqforecast._onnx_quantiles', "
        "'seqforecast._pandas', 'seqforecast._version', 'seqforecast.results', 'seqforecast.runtime']"
    )


def test_importing_the_runtime_imports_no_torch() -> None:
    code = "import sys, seqforecast.runtime; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def plain_onnx(path: Path, metadata: dict[str, str] | None = None) -> Path:
    """A valid ONNX model (y = x) that seqforecast did not write, with ``metadata``."""
    build = onnx.helper
    x = build.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["batch", "time", 1])
    y = build.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["batch", "time", 1])
    graph = build.make_graph([build.make_node("Identity", ["x"], ["y"])], "identity", [x], [y])
    model = build.make_model(graph, opset_imports=[build.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in (metadata or {}).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    path.write_bytes(model.SerializeToString())
    return path


def retagged(source: Path, target: Path, key: str, value: str) -> Path:
    model = onnx.load(str(source))
    for entry in model.metadata_props:
        if entry.key == key:
            entry.value = value
    target.write_bytes(model.SerializeToString())
    return target


def test_files_that_are_not_seqforecast_models_are_refused_with_one_clear_error(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a protobuf at all \x00\xff" * 10)
    with pytest.raises(OnnxModelError, match=r"garbage\.onnx is not a readable ONNX model"):
        OnnxStreamingForecaster(garbage)
    with pytest.raises(OnnxModelError, match=r"not one written by seqforecast\.export_onnx"):
        OnnxStreamingForecaster(plain_onnx(tmp_path / "plain.onnx"))
    with pytest.raises(OnnxModelError, match="its metadata is incomplete"):
        OnnxStreamingForecaster(plain_onnx(tmp_path / "half.onnx", {"seqforecast.format_version": "1"}))
    with pytest.raises(FileNotFoundError, match="no such file"):
        OnnxStreamingForecaster(tmp_path / "missing.onnx")
    with pytest.raises(FileNotFoundError, match="it is a folder"):
        OnnxStreamingForecaster(tmp_path)


def test_a_newer_format_is_refused(lstm_path: Path, tmp_path: Path) -> None:
    newer = retagged(lstm_path, tmp_path / "newer.onnx", "seqforecast.format_version", json.dumps(99))
    with pytest.raises(OnnxModelError, match="metadata format 99, newer than this runtime reads"):
        OnnxStreamingForecaster(newer)


@pytest.mark.parametrize(
    ("x_t", "error", "match"),
    [
        (np.zeros(3), ValueError, r"`x_t` must have shape \(2,\) or \(batch, 2\), got shape \(3,\)"),
        (np.zeros((4, 1)), ValueError, r"`x_t` must have shape \(2,\) or \(batch, 2\), got shape \(4, 1\)"),
        (np.zeros((1, 1, 2)), ValueError, r"got shape \(1, 1, 2\)"),
        (np.array([1.0, np.nan]), ValueError, "`x_t` must be finite, got NaN or infinity"),
        (np.array([np.inf, 0.0]), ValueError, "`x_t` must be finite"),
        ([np.nan, 1.0], ValueError, "`x_t` must be finite"),
        (np.array([True, False]), TypeError, "`x_t` must hold real numbers"),
        (["a", "b"], TypeError, "`x_t` must hold real numbers"),
    ],
)
def test_bad_observations_get_one_clear_error(lstm_path: Path, x_t: object, error: type[Exception], match: str) -> None:
    stream = OnnxStreamingForecaster(lstm_path)
    with pytest.raises(error, match=match):
        stream.update(x_t)
    assert stream.steps == 0


@pytest.mark.parametrize(
    ("state", "match"),
    [
        (np.zeros((2, 1, 6)), r"`state` must be 2 array\(s\) of shape"),
        ((np.zeros((2, 1, 6)), np.zeros((2, 1, 5))), r"`state` must have shape .*got \(\(2, 1, 6\), \(2, 1, 5\)\)"),
        ((np.zeros((3, 1, 6)), np.zeros((3, 1, 6))), "was it made by another model"),
        ((np.zeros((2, 1, 6)), np.zeros((2, 2, 6))), "'batch' the same for all"),
        ((np.zeros((2, 1, 6)), np.full((2, 1, 6), np.nan)), "`state` must be finite"),
    ],
)
def test_a_state_of_the_wrong_shape_gets_one_clear_error(lstm_path: Path, state: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        OnnxStreamingForecaster(lstm_path, state=state)
    stream = OnnxStreamingForecaster(lstm_path)
    with pytest.raises(ValueError, match=match):
        stream.reset(state=state)


def test_bad_arguments_get_one_clear_error(lstm_path: Path, tmp_path: Path) -> None:
    stream = OnnxStreamingForecaster(lstm_path)
    with pytest.raises(ValueError, match=r"has seen 0 observation\(s\) since its start.*with 1 more first"):
        stream.forecast(3)
    stream.update(np.zeros(2))
    with pytest.raises(ValueError, match="`horizon` must be an integer >= 1, got 0"):
        stream.forecast(0)
    with pytest.raises(TypeError, match=r"`horizon` must be an integer >= 1, got 2\.5"):
        stream.forecast(2.5)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="`path` must be a file path"):
        OnnxStreamingForecaster(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="`threads` must be an integer >= 0"):
        OnnxStreamingForecaster(lstm_path, threads=-1)
    with pytest.raises(TypeError, match=r"`threads` must be an integer >= 0 .*got True \(bool\)"):
        OnnxStreamingForecaster(lstm_path, threads=True)
    assert OnnxStreamingForecaster(lstm_path, threads=np.int64(1)).update(np.zeros(2)).shape == (2,)
    sf.export_onnx(sf.FeedForwardForecaster(1, 2, seed=0), tmp_path / "wide.onnx")
    wide = OnnxStreamingForecaster(tmp_path / "wide.onnx")
    assert wide.update([0.5]).shape == (2,)
    with pytest.raises(ValueError, match="cannot feed its forecasts back: output_size=2, input_size=1"):
        wide.forecast(2)


def test_a_seasonal_transform_gives_the_naive_forecast_until_a_season_is_seen(tmp_path: Path) -> None:
    t = np.arange(160.0)
    y = 20 + 0.3 * t + 5 * np.sin(2 * np.pi * t / 8)
    est = sf.AutoForecaster(seed=0, season=8, models=("linear",)).fit(y[:120])
    sf.export_onnx(est, tmp_path / "auto.onnx")
    stream = OnnxStreamingForecaster(tmp_path / "auto.onnx")
    stream.reset(fresh=True)
    transform = stream.metadata["transform"]
    offset = transform["season"] + int(transform["difference"])
    assert transform["season"] == 8
    with pytest.raises(ValueError, match=rf"update\(\) it with {offset + 1} more first"):
        stream.forecast(2)
    stream.update(y[:1])
    with pytest.raises(
        ValueError, match=rf"seen 1 observation\(s\) .*looks back {offset}\): update\(\) it with {offset} more"
    ):
        stream.forecast(2)
    stream.reset(fresh=True)
    got = np.stack([stream.update(y[i : i + 1]) for i in range(len(y))])
    np.testing.assert_allclose(got, est.predict(y), rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(stream.forecast(10), est.forecast(10), rtol=1e-6, atol=1e-5)


def test_a_memoryless_model_takes_torchs_empty_state_and_refuses_any_other(tmp_path: Path) -> None:
    model = sf.FeedForwardForecaster(hidden_sizes=(4,), seed=0)
    sf.export_onnx(model, tmp_path / "mlp.onnx")
    empty = model.init_state(1)
    assert isinstance(empty, torch.Tensor)
    stream = OnnxStreamingForecaster(tmp_path / "mlp.onnx", state=empty.numpy())
    assert stream.state is None
    expected = sf.StreamingForecaster(model).update(torch.tensor([0.25]))
    np.testing.assert_allclose(stream.update(np.array([0.25])), expected.numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="`state` must be None or empty: this model has no memory"):
        OnnxStreamingForecaster(tmp_path / "mlp.onnx", state=np.zeros((1, 3, 1)))


def test_a_file_whose_metadata_was_tampered_with_is_refused(lstm_path: Path, tmp_path: Path) -> None:
    broken = retagged(lstm_path, tmp_path / "broken.onnx", "seqforecast.model", json.dumps({"class": "?"}))
    with pytest.raises(OnnxModelError, match="its metadata is incomplete"):
        OnnxStreamingForecaster(broken)
    renamed = retagged(lstm_path, tmp_path / "renamed.onnx", "seqforecast.io", json.dumps({"state": []}))
    with pytest.raises(
        OnnxModelError,
        match=r"its graph's inputs are x \(batch, time, 2\), h \(2, batch, 6\), c .*; its metadata says x \(batch, time, 2\)$",
    ):
        OnnxStreamingForecaster(renamed)


def rewritten(source: Path, target: Path, changes: dict[str, Any]) -> Path:
    """``source`` with some ``seqforecast.*`` metadata changed: ``changes[key](value) -> new value`` (JSON)."""
    model = onnx.load(str(source))
    for entry in model.metadata_props:
        key = entry.key.removeprefix("seqforecast.")
        if key in changes:
            entry.value = json.dumps(changes[key](json.loads(entry.value)))
    target.write_bytes(model.SerializeToString())
    return target


def setting(path: str, value: object) -> Callable[[Any], Any]:
    """A change that sets ``path`` (keys separated by dots, list indices as numbers) to ``value``."""

    def change(data: Any) -> Any:
        data = copy.deepcopy(data)
        *parents, last = [int(k) if k.isdigit() else k for k in path.split(".")]
        node = data
        for key in parents:
            node = node[key]
        node[last] = value
        return data

    return change


def lstm_start(**fields: object) -> Callable[[Any], Any]:
    """A starting point for the LSTM file (batch 1, no transform), with ``fields`` replaced."""
    state = [{"shape": [2, 1, 6], "values": [0.1] * 12}, {"shape": [2, 1, 6], "values": [0.2] * 12}]
    start = {"state": state, "tail": [[0.5, 0.5]], "next": [0.0, 1.0]}
    return lambda _: {**start, **fields}


TAMPERED = [
    pytest.param(
        "model",
        setting("input_size", 3),
        r"graph's inputs are x \(batch, time, 2\).*says x \(batch, time, 3\)",
        id="input_size",
    ),
    pytest.param(
        "model",
        setting("output_size", 1),
        r"graph's outputs are y \(batch, time, 2\).*says y \(batch, time, 1\)",
        id="output_size",
    ),
    pytest.param(
        "model", setting("input_size", True), r"model.input_size must be an integer >= 1, got True", id="bool-size"
    ),
    pytest.param("model", setting("batch_first", "yes"), "model.batch_first must be true or false", id="batch_first"),
    pytest.param(
        "io",
        setting("state.1.shape", [2, "batch", 5]),
        r"inputs are .*c \(2, batch, 6\).*says .*c \(2, batch, 5\)",
        id="state-shape",
    ),
    pytest.param(
        "io",
        setting("state.0.shape", [2, 6, 6]),
        r"io.state shape \[2, 6, 6\] must be sizes with 'batch'",
        id="no-batch-axis",
    ),
    pytest.param("io", setting("state.0.input", "hidden"), r"inputs are x .*, h .*says x .*, hidden", id="state-name"),
    pytest.param(
        "io",
        setting("outputs.0.shape", ["batch", "time", 3]),
        r"io.outputs \(y \(batch, time, 3\), .*\) disagree with its model and io.state \(y \(batch, time, 2\)",
        id="io-outputs",
    ),
    pytest.param("io", setting("inputs", []), r"io.inputs \(\) disagree", id="io-inputs"),
    pytest.param("transform", setting("season", -3), "transform.season must be an integer >= 0, got -3", id="season"),
    pytest.param(
        "transform",
        setting("scale", {"mean": [0, 0], "std": [0, 0]}),
        r"transform.scale.std must be > 0, got \[0.0, 0.0\]",
        id="std-zero",
    ),
    pytest.param(
        "transform",
        setting("scale", {"mean": [0, 0], "std": [1, -1]}),
        "transform.scale.std must be > 0",
        id="std-negative",
    ),
    pytest.param(
        "transform",
        setting("scale", {"mean": [float("nan"), 0], "std": [1, 1]}),
        "transform.scale.mean` must be finite",
        id="mean-nan",
    ),
    pytest.param(
        "transform",
        setting("scale", {"mean": [0], "std": [1]}),
        r"must have 2 value\(s\) \(input_size\), got shapes \(1,\)",
        id="scale-length",
    ),
    pytest.param(
        "transform",
        setting("scale", {"mean": "a", "std": [1, 1]}),
        "transform.scale.mean` must hold real numbers",
        id="scale-text",
    ),
    pytest.param("start", lstm_start(), None, id="valid-start"),
    pytest.param(
        "start",
        lstm_start(state=lstm_start()(None)["state"][:1]),
        r"`state` must be 2 array\(s\)",
        id="one-state-tensor",
    ),
    pytest.param(
        "start",
        lstm_start(state=[{"shape": [2, 2, 6], "values": [0.0] * 24}] * 2),
        "start.state must be for one series",
        id="start-batch",
    ),
    pytest.param(
        "start",
        lstm_start(state=[{"shape": [2, 1, 5], "values": [0.0] * 10}] * 2),
        "was it made by another model",
        id="start-shape",
    ),
    pytest.param("start", lstm_start(tail="abc"), "start.tail` must hold real numbers", id="tail-text"),
    pytest.param(
        "start", lstm_start(tail=[[0.5, 0.5], [1.0, 1.0]]), r"start.tail must have shape \(1, 2\)", id="tail-shape"
    ),
    pytest.param(
        "start",
        lstm_start(next=[0.0]),
        r"start.next must have 2 value\(s\) \(output_size\), got shape \(1,\)",
        id="next-length",
    ),
    pytest.param("start", lstm_start(next=[0.0, None]), "start.next` must hold real numbers", id="next-null"),
    pytest.param("start", lambda _: [1, 2], "start must be null or an object", id="start-list"),
    pytest.param(
        "format_version", lambda _: 1.9, r"format_version must be an integer >= 1, got 1.9", id="version-float"
    ),
    pytest.param(
        "format_version", lambda _: True, r"format_version must be an integer >= 1, got True", id="version-bool"
    ),
    pytest.param("format_version", lambda _: 0, r"format_version must be an integer >= 1, got 0", id="version-0"),
    pytest.param(
        "format_version", lambda _: -2, r"format_version must be an integer >= 1, got -2", id="version-negative"
    ),
]


@pytest.mark.parametrize(("key", "change", "match"), TAMPERED)
def test_every_field_of_tampered_metadata_is_checked_with_one_clear_error(
    lstm_path: Path, tmp_path: Path, key: str, change: Callable[[Any], Any], match: str | None
) -> None:
    path = rewritten(lstm_path, tmp_path / "tampered.onnx", {key: change})
    if match is None:  # the unchanged parts of a tampered file are valid: it streams from its start
        stream = OnnxStreamingForecaster(path)
        np.testing.assert_array_equal(stream.forecast(1), [[0.0, 1.0]])
        assert [float(s[0, 0, 0]) for s in stream.state or ()] == pytest.approx([0.1, 0.2])
        return
    with pytest.raises(OnnxModelError, match=rf"tampered\.onnx is not a valid seqforecast ONNX model: .*{match}"):
        OnnxStreamingForecaster(path)


def test_state_returns_copies_before_and_after_the_first_update(lstm_path: Path, tmp_path: Path) -> None:
    given = (np.full((2, 1, 6), 0.5, np.float32), np.full((2, 1, 6), -0.5, np.float32))
    stream = OnnxStreamingForecaster(lstm_path, state=given)
    for array in stream.state or ():
        array[...] = 99.0
    np.testing.assert_array_equal((stream.state or ())[0], given[0])
    started = OnnxStreamingForecaster(rewritten(lstm_path, tmp_path / "started.onnx", {"start": lstm_start()}))
    (started.state or ())[0][...] = 99.0
    started.reset()
    np.testing.assert_allclose((started.state or ())[0], 0.1)
    first = stream.update(np.zeros(2))
    (stream.state or ())[1][...] = 99.0
    stream.reset(state=given)
    np.testing.assert_array_equal(stream.update(np.zeros(2)), first)


def test_a_scaled_model_without_memory_takes_a_new_batch_size_at_any_step(tmp_path: Path) -> None:
    y = np.random.default_rng(0).normal(5.0, 2.0, size=(50, 1))
    model = sf.FeedForwardForecaster(hidden_sizes=(4,), window=1, seed=0)
    sf.save(tmp_path / "m.safetensors", model, scaler=sf.Scaler().fit(y))
    sf.export_onnx(sf.load(tmp_path / "m.safetensors"), tmp_path / "m.onnx")
    stream = OnnxStreamingForecaster(tmp_path / "m.onnx")
    three = np.array([[1.0], [2.0], [3.0]])
    stream.update(three[:2])
    got = stream.update(three)
    np.testing.assert_allclose(got, OnnxStreamingForecaster(tmp_path / "m.onnx").update(three), atol=0)
    assert stream.update(three[0]).shape == (1,)
    np.testing.assert_allclose(stream.forecast(2)[0], got[0], atol=1e-12)


@pytest.mark.parametrize("season", [0, 3])
@pytest.mark.parametrize("difference", [False, True])
def test_the_runtimes_transforms_are_the_auto_forecasters(tmp_path: Path, difference: bool, season: int) -> None:
    """Updates and forecasts of a graph under each transform equal the AutoForecaster's apply, anchors and integrate."""
    from seqforecast._auto_transforms import Transform

    transform = Transform(difference, season)
    model = sf.FeedForwardForecaster(hidden_sizes=(4,), window=2, seed=0)
    sf.export_onnx(model, tmp_path / "plain.onnx")
    path = rewritten(
        tmp_path / "plain.onnx",
        tmp_path / "transformed.onnx",
        {"transform": lambda _: {"difference": difference, "season": season, "scale": None}},
    )
    y = np.cumsum(np.random.default_rng(2).normal(size=(30, 1)), axis=0) + np.sin(np.arange(30) * 2.1)[:, None]
    stream = OnnxStreamingForecaster(path)
    got = np.stack([stream.update(value) for value in y])
    offset = transform.offset
    np.testing.assert_array_equal(got[:offset], y[:offset])  # the naive forecast until the look-back is full
    out, _ = sf.predict(model, transform.apply(y).astype(np.float32))
    times = np.arange(offset + 1, len(y) + 1)
    np.testing.assert_allclose(got[offset:], out.double().numpy() + transform.anchors(y, times), atol=1e-5)
    w_hat = sf.forecast(model, transform.apply(y).astype(np.float32), 7).double().numpy()
    expected = transform.integrate(y[-(offset + 1) :][None], w_hat[None])[0]
    np.testing.assert_allclose(stream.forecast(7), expected, atol=1e-5)
