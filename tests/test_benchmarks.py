"""The benchmark suite measures what it says: its baselines compute what the library computes."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

import seqforecast as sf
from benchmarks import backtest, deployment, startup, suite
from benchmarks.baselines import NotebookLoop, hand_network, hand_train, notebook_primed_mse, prebuilt_windows
from benchmarks.report import Pending, Row, environment, write
from benchmarks.timing import Paired, interleaved, round_robin, summarize
from seqforecast.demo import next_step_mse, sine_test_data

MODELS: dict[str, Callable[[], sf.BaseForecaster]] = {
    "rnn": sf.RecurrentForecaster,
    "lstm": lambda: sf.RecurrentForecaster(cell="lstm", hidden_size=8, num_layers=2),
    "conv": lambda: sf.ConvForecaster(channels=8, head_hidden=8, dilation_base=2),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_hand_written_loop_trains_the_same_network_as_the_trainer(name: str) -> None:
    model = MODELS[name]()
    net = hand_network(model)
    windows = prebuilt_windows(batch_size=3, count=4, device=torch.device("cpu"))
    hand_train(net, torch.optim.Adam(net.parameters(), lr=0.01), windows, None)
    stream = sf.SineStream(batch_size=3, seed=0, num_windows=4)  # the same windows, as a stream
    sf.Trainer(model, lr=0.01, device="cpu").fit(stream)
    for mine, theirs in zip(model.parameters(), net.parameters(), strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)


def test_notebook_loop_trains_on_the_library_sine_windows() -> None:
    loop = NotebookLoop(torch.device("cpu"), seed=0)
    inputs: list[torch.Tensor] = []
    original = loop.net.forward

    def spy(x: torch.Tensor, hidden: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        inputs.append(x.clone())
        return original(x, hidden)

    loop.net.forward = spy  # type: ignore[method-assign]
    loop.train(3)
    stream = sf.SineStream()
    for k, x in enumerate(inputs):
        torch.testing.assert_close(x, stream.window(k).inputs)
    assert len(loop.losses) == 3


def test_notebook_score_is_the_library_score() -> None:
    loop = NotebookLoop(torch.device("cpu"), seed=0)
    loop.train(20)
    model = sf.RecurrentForecaster()
    state = {k.replace("fc.", "head."): v for k, v in loop.net.state_dict().items()}
    model.load_state_dict(state)
    priming, test = sine_test_data()
    expected = next_step_mse(model, test, sf.prime(model, priming))
    assert notebook_primed_mse(loop.net, torch.device("cpu")) == pytest.approx(expected, rel=1e-5)


def test_summaries_and_interleaving() -> None:
    stats = summarize([3.0, 1.0, 2.0, 10.0])
    assert (stats.median, stats.low, stats.high, stats.n) == (2.5, 1.0, 10.0, 4)
    assert stats.q1 == pytest.approx(1.75)
    calls: list[str] = []

    def baseline() -> float:
        calls.append("b")
        return 1.0

    def candidate() -> float:
        calls.append("c")
        return 2.0

    paired = interleaved(baseline, candidate, repeats=3)
    assert calls == ["b", "c", "c", "b", "b", "c"]
    assert paired.ratios == [2.0, 2.0, 2.0]
    with pytest.raises(ValueError, match="at least one"):
        summarize([])


def test_a_tiny_run_writes_a_table_and_strict_json(tmp_path: Path) -> None:
    tiny = suite.Settings(
        step_repeats=1,
        step_budget=1e-6,
        seeds=1,
        library_max_steps=2,
        notebook_max_steps=2,
        forecast_repeats=1,
        horizons=(3,),
        streaming_repeats=1,
        streaming_calls=3,
        backtest_repeats=1,
        backtest_cutoffs=3,
        backtest_scaling=(2, 4),
        calibration_seeds=1,
        calibration_steps=2,
        calibration_cutoffs=10,
        interval_seeds=1,
        interval_drift_length=2200,
        interval_models=("linear",),
        panel_seeds=1,
        panel_steps=6,
        panel_throughput=(6, 60, 3, 1),
        panel_repeats=1,
    )
    groups = [g for g in suite.GROUPS if g != "import"]  # import time needs fresh interpreters: slow
    rows = suite.run(tiny, [torch.device("cpu")], groups, verbose=False)
    assert {row.group for row in rows} == {
        "training step",
        "time to accuracy",
        "forecast",
        "streaming",
        "backtest",
        "deployment",
        "calibration",
        "intervals",
        "panel",
    }
    timed = [
        row
        for row in rows
        if row.group != "time to accuracy" and not row.name.startswith("darts") and "skipped" not in row.context
        if row.group != "time to accuracy" and not row.name.startswith("darts") and "AutoETS" not in row.name
    ]
    assert all(math.isfinite(row.stats.median) for row in timed)
    json_path, md_path = write(rows, environment("test"), {}, tmp_path / "out")
    data = json.loads(json_path.read_text(encoding="utf-8"), parse_constant=pytest.fail)
    assert len(data["rows"]) == len(rows)
    table = md_path.read_text(encoding="utf-8")
    assert table.count("\n| ") == len(rows) + 1  # header and one line a row


def test_a_failing_benchmark_is_reported_and_the_others_still_run(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> Row:
        msg = "no such kernel"
        raise RuntimeError(msg)

    def fine() -> Row:
        return Row("g", "fine", "cpu", "a / b", summarize([1.0]))

    monkeypatch.setattr(suite, "_jobs", lambda settings, device, groups: [broken, fine])
    failures: list[str] = []
    rows = suite.run(suite.QUICK, [torch.device("cpu")], [], verbose=False, failures=failures)
    assert [row.name for row in rows] == ["fine"]
    assert failures == ["cpu: broken: RuntimeError: no such kernel"]


def test_round_robin_takes_turns_and_keeps_going_past_a_failure() -> None:
    calls: list[str] = []

    def timed(label: str, value: float) -> Callable[[], float]:
        def run() -> float:
            calls.append(label)
            return value

        return run

    def broken() -> float:
        calls.append("x")
        msg = "out of memory"
        raise RuntimeError(msg)

    first, failed, second = round_robin(
        [(timed("a", 1.0), timed("A", 3.0)), (broken, timed("X", 1.0)), (timed("b", 2.0), timed("B", 2.0))], 2
    )
    assert calls == ["a", "A", "x", "b", "B", "A", "a", "B", "b"]
    assert isinstance(first, Paired)
    assert first.ratios == [3.0, 3.0]
    assert isinstance(failed, RuntimeError)
    assert isinstance(second, Paired)
    assert second.ratios == [1.0, 1.0]


def test_a_comparison_that_fails_to_set_up_or_to_run_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    def row(paired: Paired) -> Row:
        return Row("g", "fine", "cpu", "a / b", summarize(paired.ratios))

    def fine() -> Pending:
        return Pending(lambda: 1.0, lambda: 2.0, row)

    def no_setup() -> Pending:
        msg = "no such kernel"
        raise RuntimeError(msg)

    def crashes() -> float:
        msg = "device lost"
        raise RuntimeError(msg)

    def no_run() -> Pending:
        return Pending(lambda: 1.0, crashes, row)

    rounds = suite.Rounds([no_setup, fine, no_run], repeats=3)
    monkeypatch.setattr(suite, "_jobs", lambda settings, device, groups: [rounds])
    failures: list[str] = []
    rows = suite.run(suite.QUICK, [torch.device("cpu")], [], verbose=False, failures=failures)
    assert [(r.name, r.stats.median, r.stats.n) for r in rows] == [("fine", 2.0, 3)]
    assert failures == ["cpu: no_setup: RuntimeError: no such kernel", "cpu: no_run: RuntimeError: device lost"]


@pytest.mark.parametrize("name", sorted(backtest.MODELS))
def test_backtest_rows_compare_two_ways_of_making_the_same_forecasts(name: str) -> None:
    model = backtest.MODELS[name]().eval()
    series = backtest.make_series(60, torch.device("cpu"))
    one_pass = backtest.one_pass(model, series, 5, 40)
    loop = backtest.per_cutoff_loop(model, series, 5, 40)
    assert one_pass.shape == (60 - 5 + 1 - 40, 5, 1)
    torch.testing.assert_close(one_pass, loop, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(backtest.make_series(60, torch.device("cpu")), series)  # seeded: the same every run


def test_the_backtest_group_runs_quick_with_targets_only_at_full_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(backtest, "darts_available", lambda: False)
    assert suite.main(["--only", "backtest", "--quick", "--out", str(tmp_path / "quick")]) == 0
    data = json.loads((tmp_path / "quick.json").read_text(encoding="utf-8"), parse_constant=pytest.fail)
    rows = {row["name"]: row for row in data["rows"]}
    assert len(rows) == len(backtest.MODELS) + 2  # a speed-up row a model, scaling, darts
    assert all(row["group"] == "backtest" for row in rows.values())
    (darts,) = (row for name, row in rows.items() if name.startswith("darts"))
    assert (darts["context"], darts["stats"]["n"], darts["stats"]["median"]) == (
        "skipped: darts not installed",
        0,
        None,
    )
    timed = [row for row in rows.values() if row is not darts]
    assert all(row["stats"]["median"] > 0 and row["stats"]["n"] == suite.QUICK.backtest_repeats for row in timed)
    assert all(row["target"] is None for row in rows.values())  # fewer cutoffs than the targets are for
    assert "| — |" in capsys.readouterr().out
    assert suite.FULL.backtest_cutoffs == backtest.CUTOFFS == 446
    assert suite.FULL.backtest_scaling == backtest.SCALING


def test_install_sizes_count_each_distribution_and_what_it_requires_once() -> None:
    numpy_bytes, names = deployment.installed_bytes(("numpy",))
    assert names == ["numpy"]
    assert numpy_bytes > 1_000_000
    both, names = deployment.installed_bytes(("torch", "numpy", "torch"))
    assert {"torch", "numpy", "sympy"} <= set(names)
    assert both > numpy_bytes


def test_the_import_probe_reports_whether_torch_was_imported() -> None:
    seen: list[bool] = []
    assert startup._seconds("import seqforecast", seen) >= 0
    assert startup._seconds("sys.modules['torch'] = sys", seen) >= 0  # as if imported, without the cost
    assert seen == [False, True]


def test_the_deployment_group_times_updates_and_a_heads_intervals_side_by_side(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    assert suite.main(["--only", "deployment", "--quick", "--out", str(tmp_path / "quick")]) == 0
    data = json.loads((tmp_path / "quick.json").read_text(encoding="utf-8"), parse_constant=pytest.fail)
    names = [row["name"] for row in data["rows"]]
    assert names[:-1] == [f"{name}, ONNX runtime update" for name in deployment.MODELS] + [
        "notebook RNN, Gaussian head, update and 90 % interval"
    ]
    timed = [row for row in data["rows"] if "update" in row["name"]]
    assert all(row["stats"]["median"] > 0 for row in timed)  # each checked equal to torch's before it is timed
