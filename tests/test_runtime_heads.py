"""Exported likelihood and quantile heads, and covariate models: the runtime's quantiles and closed loops equal torch's."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import seqforecast as sf
from seqforecast._numpy_quantiles import betainc, ndtri
from tests.strategies import forecasters, make_input

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

from seqforecast.runtime import OnnxModelError, OnnxStreamingForecaster

LIKELIHOOD_LEVELS = (0.01, 0.1, 0.5, 0.8, 0.99)


def close(got: np.ndarray, want: np.ndarray) -> None:
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def levels_for(model: sf.BaseForecaster) -> tuple[float, ...]:
    """Levels to ask for: a likelihood's tails and middle; a quantile head's own levels and the midpoints between."""
    head = model.output_head
    assert head is not None
    if head.quantiles is None:
        return LIKELIHOOD_LEVELS
    own = head.quantiles
    between = [(a + b) / 2 for a, b in itertools.pairwise(own)]
    return tuple(sorted({*own, *between}))


def torch_quantiles(model: sf.BaseForecaster, x: torch.Tensor, levels: tuple[float, ...]) -> np.ndarray:
    """``model.distribution(x).icdf(levels)`` as ``(Q, batch, time, F)``."""
    with torch.no_grad():
        dist = model.eval().distribution(x)
        q = dist.icdf(torch.tensor(levels).reshape(-1, 1, 1, 1)).double().numpy()
    return q if model.batch_first else q.transpose(0, 2, 1, 3)


@given(model=forecasters(head=True), batch=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_the_runtimes_quantiles_equal_the_heads_icdf_at_every_step(
    tmp_path_factory: pytest.TempPathFactory, model: sf.BaseForecaster, batch: int, seed: int
) -> None:
    path = tmp_path_factory.mktemp("heads") / "model.onnx"
    info = sf.export_onnx(model, path)
    head = info["head"]
    assert head["output"] == "params"
    assert [o["name"] for o in info["io"]["outputs"]][-1] == "params"
    x = make_input(model, batch, 8, seed)
    levels = levels_for(model)
    want = torch_quantiles(model, x, levels)  # (Q, batch, time, F)
    with torch.no_grad():
        point = model(x)[0].numpy()
    point = point if model.batch_first else point.transpose(1, 0, 2)
    steps = x.numpy() if model.batch_first else x.numpy().transpose(1, 0, 2)  # (batch, time, F)
    stream = OnnxStreamingForecaster(path)
    for t in range(steps.shape[1]):
        close(stream.update(steps[:, t]), point[:, t])
        close(stream.quantiles(levels), want[:, :, t])


@pytest.mark.parametrize(
    "head",
    [{"likelihood": "gaussian"}, {"likelihood": "student_t"}, {"quantiles": (0.1, 0.5, 0.9)}],
    ids=["gaussian", "student_t", "quantiles"],
)
def test_quantiles_and_intervals_are_in_the_datas_units_through_a_scaler(tmp_path: Path, head: dict[str, Any]) -> None:
    series = 100.0 + 20.0 * np.sin(np.arange(60.0) / 4)[:, None]
    scaler = sf.Scaler().fit(series)
    model = sf.RecurrentForecaster(hidden_size=6, num_layers=1, seed=0, **head).eval()
    sf.save(tmp_path / "model.safetensors", model, scaler=scaler)
    sf.export_onnx(sf.load(tmp_path / "model.safetensors"), tmp_path / "model.onnx")
    stream = OnnxStreamingForecaster(tmp_path / "model.onnx")
    for value in series[:30]:
        forecast = stream.update(value)
    scaled = torch.as_tensor(np.asarray(scaler.transform(series[:30])), dtype=torch.float32)[None]
    levels = (0.1, 0.5, 0.9)
    want = torch_quantiles(model, scaled, levels)[:, 0, -1] * scaler.std + scaler.mean  # (Q, F), affine
    close(stream.quantiles(levels), want)
    lower, upper = stream.interval(80)
    close(lower, want[0])
    close(upper, want[2])
    assert lower.shape == forecast.shape == (1,)
    assert (lower < forecast).all()
    assert (forecast < upper).all()


def test_a_negative_binomial_head_gives_torchs_count_quantiles(tmp_path: Path) -> None:
    model = sf.FeedForwardForecaster(window=3, likelihood="negative_binomial", seed=0).eval()
    sf.export_onnx(model, tmp_path / "nb.onnx")
    counts = np.array([3.0, 0.0, 7.0, 12.0, 5.0, 2.0, 9.0])[:, None]
    stream = OnnxStreamingForecaster(tmp_path / "nb.onnx")
    for value in counts:
        stream.update(value)
    want = torch_quantiles(model, torch.as_tensor(counts, dtype=torch.float32)[None], LIKELIHOOD_LEVELS)[:, 0, -1]
    got = stream.quantiles(LIKELIHOOD_LEVELS)
    np.testing.assert_array_equal(got, want)
    assert (got == np.round(got)).all()


def test_a_quantile_head_refuses_levels_outside_those_it_learned_as_torch_does(tmp_path: Path) -> None:
    model = sf.ConvForecaster(channels=4, head_hidden=4, quantiles=(0.1, 0.5, 0.9), seed=0)
    sf.export_onnx(model, tmp_path / "q.onnx")
    stream = OnnxStreamingForecaster(tmp_path / "q.onnx")
    stream.update([0.5])
    with pytest.raises(ValueError, match=r"levels the model's quantile head learned \[0.1, 0.5, 0.9\], got \[0.95\]"):
        stream.quantiles([0.5, 0.95])
    with pytest.raises(ValueError, match=r"got \[0.025, 0.975\] outside \[0.1, 0.9\]"):
        stream.interval(95)
    with pytest.raises(ValueError, match="quantile head learned"):
        sf.forecast(model, torch.zeros(5, 1), 1, quantiles=[0.5, 0.95])


def test_the_numpy_inverse_normal_and_incomplete_beta_match_torch() -> None:
    p = np.array([1e-12, 1e-6, 0.02, 0.3, 0.5, 0.7, 0.98, 1 - 1e-9])
    np.testing.assert_allclose(ndtri(p), torch.special.ndtri(torch.from_numpy(p)).numpy(), rtol=1e-12, atol=1e-12)
    from seqforecast.distributions import betainc as torch_betainc

    a, b, x = np.array([0.5, 2.0, 30.0]), np.array([0.5, 3.0, 0.5]), np.array([0.3, 0.4, 0.99])
    want = torch_betainc(torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(betainc(a, b, x), want, rtol=1e-12)


COVARIATE_MODELS = [
    pytest.param(sf.RecurrentForecaster(3, 1, 5, 2, cell="lstm", seed=0), id="lstm"),
    pytest.param(sf.RecurrentForecaster(3, 2, 5, 1, cell="gru", batch_first=False, seed=0), id="gru-time-first"),
    pytest.param(sf.FeedForwardForecaster(2, 1, (6,), window=3, seed=0), id="mlp"),
    pytest.param(sf.ConvForecaster(3, 1, 4, 2, 3, head_hidden=4, batch_first=False, seed=0), id="conv-time-first"),
]


@pytest.mark.parametrize("model", COVARIATE_MODELS)
def test_a_covariate_models_closed_loop_equals_sf_forecast_with_future(
    tmp_path: Path, model: sf.BaseForecaster
) -> None:
    info = sf.export_onnx(model, tmp_path / "cov.onnx")
    covariates = model.input_size - model.output_size
    assert (info["model"]["targets"], info["model"]["covariates"]) == (model.output_size, covariates)
    rng = np.random.default_rng(0)
    history = rng.normal(size=(2, 12, model.input_size)).astype(np.float32)  # (batch, time, F)
    future = rng.normal(size=(2, 5, covariates)).astype(np.float32)  # (batch, horizon - 1, C)
    stream = OnnxStreamingForecaster(tmp_path / "cov.onnx")
    for t in range(history.shape[1]):
        stream.update(history[:, t])
    got = stream.forecast(6, future=future)  # (batch, horizon, targets)
    if model.batch_first:
        want = sf.forecast(model, torch.from_numpy(history), 6, future=future).numpy()
    else:
        x = torch.from_numpy(history.transpose(1, 0, 2))
        want = sf.forecast(model, x, 6, future=future.transpose(1, 0, 2)).numpy().transpose(1, 0, 2)
    close(got, want)
    shared = stream.forecast(6, future=future[0])  # (horizon - 1, C): the same covariates for every series
    close(shared[1], sf.forecast(model, torch.from_numpy(history[1]), 6, future=future[0]).numpy())
    assert stream.forecast(1).shape == (2, 1, model.output_size)  # nothing is fed back: no future needed


def test_a_missing_or_short_future_gets_sf_forecasts_error(tmp_path: Path) -> None:
    model = sf.RecurrentForecaster(3, 1, 4, 1, seed=0)
    sf.export_onnx(model, tmp_path / "cov.onnx")
    stream = OnnxStreamingForecaster(tmp_path / "cov.onnx")
    history = np.zeros((4, 3), np.float32)
    for x_t in history:
        stream.update(x_t)
    for future in (None, np.zeros((2, 2))):
        with pytest.raises(ValueError, match="`future`") as ours:
            stream.forecast(4, future=future)
        with pytest.raises(ValueError, match="`future`") as theirs:
            sf.forecast(model, torch.from_numpy(history), 4, future=future)
        assert str(ours.value) == str(theirs.value)
    plain = sf.RecurrentForecaster(hidden_size=4, num_layers=1, seed=0)
    sf.export_onnx(plain, tmp_path / "plain.onnx")
    stream = OnnxStreamingForecaster(tmp_path / "plain.onnx")
    stream.update([0.0])
    with pytest.raises(ValueError, match="drop `future`") as ours:
        stream.forecast(3, future=np.zeros((2, 1)))
    with pytest.raises(ValueError, match="drop `future`") as theirs:
        sf.forecast(plain, torch.zeros(1, 1), 3, future=np.zeros((2, 1)))
    assert str(ours.value) == str(theirs.value)


def test_heads_and_covariates_run_where_torch_cannot_be_imported(tmp_path: Path) -> None:
    for name, model in {
        "t": sf.RecurrentForecaster(2, 1, 4, 1, likelihood="student_t", seed=0),
        "nb": sf.FeedForwardForecaster(2, 1, window=2, likelihood="negative_binomial", seed=0),
    }.items():
        sf.export_onnx(model, tmp_path / f"{name}.onnx")
    code = textwrap.dedent(
        """
        import sys
        sys.modules["torch"] = None  # any `import torch` now raises ImportError
        from seqforecast.runtime import OnnxStreamingForecaster
        for name in ("t", "nb"):
            stream = OnnxStreamingForecaster(name + ".onnx")
            for t in range(5):
                stream.update([float(t), 1.0])
            print(stream.quantiles([0.1, 0.9]).shape, stream.forecast(3, future=[[1.0], [2.0]]).shape)
        """
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["(2,", "1)", "(3,", "1)"] * 2


def rewritten(source: Path, target: Path, key: str, value: object, *, drop: bool = False) -> Path:
    """``source`` with the metadata ``seqforecast.<key>`` set to ``value`` (JSON), or removed."""
    model = onnx.load(str(source))
    kept = [e for e in model.metadata_props if not (drop and e.key == f"seqforecast.{key}")]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    for entry in model.metadata_props:
        if entry.key == f"seqforecast.{key}":
            entry.value = json.dumps(value)
    target.write_bytes(model.SerializeToString())
    return target


@pytest.fixture(scope="module")
def gaussian_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gaussian") / "gaussian.onnx"
    sf.export_onnx(sf.RecurrentForecaster(3, 1, 4, 1, likelihood="gaussian", seed=0), path)
    return path


def head(**fields: object) -> dict[str, object]:
    return {"kind": "gaussian", "output": "params", "parameters": ["loc", "scale"], "levels": None, **fields}


def model_info(**fields: object) -> dict[str, object]:
    info: dict[str, object] = {
        "class": "RecurrentForecaster",
        "config": {},
        "input_size": 3,
        "output_size": 1,
        "batch_first": True,
        "context_length": None,
        "targets": 1,
        "covariates": 2,
    }
    return {**info, **fields}


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        (
            "head",
            head(kind="laplace"),
            r"head.kind must be one of \['gaussian', 'student_t', 'negative_binomial', 'quantiles'\]",
        ),
        ("head", head(parameters=["loc"]), r"a gaussian head has parameters \['loc', 'scale'\] and no levels"),
        ("head", head(levels=[0.5]), "a gaussian head has parameters .* and no levels, got .* and \\[0.5\\]"),
        ("head", head(output="scale"), r"graph's outputs are y .*, params .*; its metadata says y .*, scale"),
        ("head", head(kind="quantiles", levels=[0.9, 0.1]), "head.levels` must be sorted increasing"),
        (
            "head",
            head(kind="student_t", parameters=["loc", "scale", "df"]),
            r"params \(batch, time, 2\).*params \(batch, time, 3\)",
        ),
        ("head", [1], "head must be null or an object"),
        ("head", None, r"its graph's outputs are y .*, params .*; its metadata says y .*, h_next \(1, batch, 4\)$"),
        ("model", model_info(targets=2), r"model.targets must be 1 \(input_size 3, output_size 1\), got 2"),
        ("model", model_info(covariates=True), "model.covariates must be 2 .* got True"),
        (
            "transform",
            {"difference": True, "season": 0, "scale": None},
            "transform must be empty .* output_size 1 != input_size 3",
        ),
    ],
    ids=[
        "kind",
        "parameters",
        "levels",
        "output",
        "unsorted",
        "width",
        "list",
        "null",
        "targets",
        "covariates",
        "transform",
    ],
)
def test_tampered_head_and_covariate_metadata_is_refused(
    gaussian_path: Path, tmp_path: Path, key: str, value: object, match: str
) -> None:
    with pytest.raises(OnnxModelError, match=match):
        OnnxStreamingForecaster(rewritten(gaussian_path, tmp_path / "bad.onnx", key, value))


def test_files_without_head_and_covariate_fields_still_load(tmp_path: Path) -> None:
    model = sf.RecurrentForecaster(3, 1, 4, 1, seed=0)
    info = sf.export_onnx(model, tmp_path / "new.onnx")
    assert info["format_version"] == 1
    assert info["head"] is None
    older = {k: v for k, v in info["model"].items() if k not in ("targets", "covariates")}
    old = rewritten(tmp_path / "new.onnx", tmp_path / "mid.onnx", "model", older)
    old = rewritten(old, tmp_path / "old.onnx", "head", None, drop=True)
    assert "seqforecast.head" not in {e.key for e in onnx.load(str(old)).metadata_props}
    stream = OnnxStreamingForecaster(old)
    assert stream.metadata["head"] is None
    stream.update([0.1, 0.2, 0.3])
    assert stream.forecast(3, future=np.zeros((2, 2))).shape == (3, 1)
    with pytest.raises(ValueError, match="this model has a point head"):
        stream.quantiles([0.5])


def trending(length: int = 300) -> np.ndarray:
    t = np.arange(length)
    noise = np.random.default_rng(0).normal(0, 0.5, length)
    series: np.ndarray = 50 + 0.5 * t + 10 * np.sin(2 * np.pi * t / 12) + noise
    return series


def assert_same_forecast(got: sf.Forecast, want: sf.Forecast) -> None:
    np.testing.assert_allclose(got.mean, want.mean, rtol=1e-6, atol=1e-5)
    assert got.levels == want.levels
    for level in want.levels:
        for have, expected in zip(got.interval(level), want.interval(level), strict=True):
            np.testing.assert_allclose(have, expected, rtol=1e-6, atol=1e-5)


@pytest.mark.parametrize("source", ["estimator", "checkpoint"])
def test_an_exported_auto_forecaster_gives_its_intervals(tmp_path: Path, source: str) -> None:
    y = trending()
    est = sf.AutoForecaster(seed=0, models=("linear",)).fit(y[:240])
    if source == "checkpoint":
        est.save(tmp_path / "auto.safetensors")
        info = sf.export_onnx(sf.load(tmp_path / "auto.safetensors"), tmp_path / "auto.onnx")
    else:
        info = sf.export_onnx(est, tmp_path / "auto.onnx")
    assert info["intervals"]["method"] == est.interval_method
    stream = OnnxStreamingForecaster(tmp_path / "auto.onnx")
    for horizon in (1, 6, 20):  # 20: beyond the calibrated steps, the last step's errors grow like sqrt(h / H)
        assert_same_forecast(stream.forecast(horizon, level=(80, 95)), est.forecast(horizon, level=(80, 95)))
    for value in y[240:]:
        stream.update([value])
    est.update(y[240:])
    assert_same_forecast(stream.forecast(12, level=50), est.forecast(12, level=50))
    assert isinstance(stream.forecast(3), np.ndarray)


def test_intervals_need_an_exported_calibration(gaussian_path: Path) -> None:
    stream = OnnxStreamingForecaster(gaussian_path)
    stream.update([0.0, 1.0, 2.0])
    with pytest.raises(ValueError, match="this file holds no interval calibration"):
        stream.forecast(1, level=80)
    with pytest.raises(ValueError, match="`level` must hold numbers strictly between 0 and 100"):
        stream.forecast(1, level=120)


CALIBRATION = {"method": "conformal", "first": 10, "shape": [20, 2, 1], "errors": [0.5] * 40}


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"method": "bootstrap"}, "intervals.method must be 'conformal' or 'gaussian'"),
        ({"first": 0}, "intervals.first must be an integer >= 1, got 0"),
        ({"shape": [20, 2, 3]}, r"intervals.shape must be \[count, horizon, 1\]"),
        ({"shape": [20, 2]}, r"intervals.shape must be \[count, horizon, 1\]"),
        (
            {"errors": [0.5] * 39},
            r"intervals.errors must be a list of 40 numbers \(shape \[20, 2, 1\]\), got shape \(39,\)",
        ),
        ({"errors": [float("nan")] * 40}, "intervals.errors` must be finite"),
        ({"errors": "abc"}, "intervals.errors` must hold real numbers"),
    ],
    ids=["method", "first", "features", "rank", "count", "nan", "text"],
)
def test_a_tampered_interval_calibration_is_refused(tmp_path: Path, change: dict[str, object], match: str) -> None:
    est = sf.AutoForecaster(seed=0, models=("linear",)).fit(trending(120))
    sf.export_onnx(est, tmp_path / "auto.onnx")
    valid = rewritten(tmp_path / "auto.onnx", tmp_path / "valid.onnx", "intervals", CALIBRATION)
    assert OnnxStreamingForecaster(valid).forecast(3, level=80).interval(80)[0].shape == (3, 1)
    with pytest.raises(OnnxModelError, match=match):
        OnnxStreamingForecaster(rewritten(valid, tmp_path / "bad.onnx", "intervals", {**CALIBRATION, **change}))


def test_quantiles_after_first_differences_are_anchored_on_the_last_value(tmp_path: Path) -> None:
    y = trending(80)[:, None]
    differencer = sf.Differencer().fit(y)
    scaler = sf.Scaler().fit(differencer.transform(y))
    model = sf.RecurrentForecaster(hidden_size=6, num_layers=1, likelihood="student_t", seed=0).eval()
    sf.save(tmp_path / "m.safetensors", model, scaler=scaler, differencer=differencer)
    sf.export_onnx(sf.load(tmp_path / "m.safetensors"), tmp_path / "m.onnx")
    stream = OnnxStreamingForecaster(tmp_path / "m.onnx")
    stream.update(y[0])
    with pytest.raises(ValueError, match=r"no one-step distribution yet: update\(\) this stream with 1 more"):
        stream.quantiles([0.5])  # the first value only fills the difference's look-back
    for value in y[1:]:
        stream.update(value)
    u = torch.as_tensor(np.asarray(scaler.transform(differencer.transform(y))), dtype=torch.float32)[None]
    levels = (0.05, 0.5, 0.95)
    want = y[-1] + torch_quantiles(model, u, levels)[:, 0, -1] * scaler.std + scaler.mean  # (Q, F)
    close(stream.quantiles(levels), want)
