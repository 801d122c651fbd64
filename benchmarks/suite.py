"""The suite: which benchmarks run, how long, on which devices; the command line."""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import torch

from benchmarks import accuracy, backtest, calibration, deployment, inference, intervals, panel, startup, step_time
from benchmarks.report import Pending, Row, environment, to_markdown, write
from benchmarks.timing import round_robin

__all__ = ["GROUPS", "Rounds", "Settings", "main", "run"]

GROUPS = (
    "step",
    "accuracy",
    "import",
    "forecast",
    "streaming",
    "backtest",
    "deployment",
    "calibration",
    "intervals",
    "panel",
)
RESULTS = Path(__file__).resolve().parent / "results"
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Settings:
    """How much of each benchmark to run."""

    step_repeats: int = 25  # many short pairs: the machine's speed drifts over seconds
    step_budget: float = 0.1  # seconds of training a repeat, each side
    seeds: int = 5
    score_every: int = 1
    library_max_steps: int = 400
    notebook_max_steps: int = 3000
    import_repeats: int = 15
    forecast_repeats: int = 15
    horizons: tuple[int, ...] = (256, 1024)
    streaming_repeats: int = 15
    streaming_calls: int = 400
    backtest_repeats: int = 5  # the loop side takes about 10 s a repeat
    backtest_cutoffs: int = backtest.CUTOFFS
    backtest_scaling: tuple[int, int] = backtest.SCALING
    calibration_seeds: int = 3  # fits per case of the likelihood and quantile heads
    calibration_steps: int = 400  # training steps of each fit
    calibration_cutoffs: int = 2000  # closed-loop forecasts scored per step ahead
    interval_seeds: int = 3  # series per conformal case
    interval_drift_length: int = 6000  # steps of the series whose noise doubles halfway
    interval_models: tuple[str, ...] = ("linear", "gru", "mlp")  # AutoForecaster's candidates on sunspots
    panel_seeds: int = 3
    panel_steps: int = 300  # training windows of each model (Grunfeld: a sixth of them)
    panel_throughput: tuple[int, int, int, int] = (1_000, 500, 50, 40)  # series, length, lanes, windows a repeat
    panel_repeats: int = 9


FULL = Settings()
QUICK = Settings(
    step_repeats=3,
    step_budget=0.05,
    seeds=2,
    notebook_max_steps=1500,
    import_repeats=3,
    forecast_repeats=3,
    streaming_repeats=3,
    streaming_calls=100,
    backtest_repeats=2,
    backtest_cutoffs=48,
    backtest_scaling=(100, 1_000),
    calibration_seeds=1,
    interval_seeds=1,
    panel_seeds=1,
    panel_steps=30,
    panel_throughput=(40, 500, 20, 5),
    panel_repeats=2,
)


@dataclasses.dataclass(frozen=True)
class Rounds:
    """Comparisons that take turns: all are set up first, then timed round robin."""

    prepare: list[Callable[[], Pending]]
    repeats: int


Job = Callable[[], Row | list[Row]]  # a benchmark that does its own timing


def _jobs(settings: Settings, device: torch.device, groups: Sequence[str]) -> list[Job | Rounds]:
    """The benchmarks to run on ``device``, in order."""
    s = settings
    jobs: list[Job | Rounds] = []
    if "step" in groups:
        cases = step_time.CASES + step_time.LIKE_FOR_LIKE + (step_time.CUDA_CASES if device.type == "cuda" else ())
        prepare: list[Callable[[], Pending]] = [
            functools.partial(step_time.prepare_step, case, device, budget=s.step_budget) for case in cases
        ]
        prepare.append(functools.partial(step_time.prepare_notebook_step, device, budget=s.step_budget))
        jobs.append(Rounds(prepare, s.step_repeats))
    if "accuracy" in groups:
        jobs.append(
            lambda: accuracy.accuracy_row(
                accuracy.RECOMMENDED,
                device,
                seeds=s.seeds,
                every=s.score_every,
                library_max_steps=s.library_max_steps,
                notebook_max_steps=s.notebook_max_steps,
            )
        )
    if "import" in groups and device.type == "cpu":  # once, whatever the devices
        jobs.append(lambda: startup.import_row(repeats=s.import_repeats))
        jobs.append(lambda: startup.runtime_import_row(repeats=s.import_repeats))
    if "forecast" in groups:
        forecasts: list[Callable[[], Pending]] = [
            functools.partial(inference.prepare_forecast, name, horizon, device)
            for name in inference.MODELS
            for horizon in s.horizons
        ]
        jobs.append(Rounds(forecasts, s.forecast_repeats))
    if "streaming" in groups:
        streams: list[Callable[[], Pending]] = [
            functools.partial(inference.prepare_streaming, name, device, calls=s.streaming_calls)
            for name in inference.MODELS
        ]
        jobs.append(Rounds(streams, s.streaming_repeats))
    if "backtest" in groups:
        backtests: list[Callable[[], Pending]] = [
            functools.partial(backtest.prepare_speedup, name, device, cutoffs=s.backtest_cutoffs)
            for name in backtest.MODELS
        ]
        backtests.append(functools.partial(backtest.prepare_scaling, device, counts=s.backtest_scaling))
        jobs.append(Rounds(backtests, s.backtest_repeats))
        if device.type == "cpu":  # darts, when installed: the peer, on the CPU
            jobs.append(lambda: backtest.darts_row(device, cutoffs=s.backtest_cutoffs, repeats=s.backtest_repeats))
    if "deployment" in groups and device.type == "cpu":  # the ONNX runtime runs on the CPU
        if deployment.onnx_available():
            updates: list[Callable[[], Pending]] = [
                functools.partial(deployment.prepare_update, name, calls=s.streaming_calls)
                for name in deployment.MODELS
            ]
            updates.append(functools.partial(deployment.prepare_interval, calls=s.streaming_calls))
            jobs += [Rounds(updates, s.streaming_repeats), deployment.size_row]
        else:
            jobs.append(deployment.skipped_row)
    if "calibration" in groups:
        cal = (s.calibration_seeds, s.calibration_steps)
        jobs.extend(
            functools.partial(calibration.calibration_row, case, device, seeds=cal[0], steps=cal[1])
            for case in calibration.CASES
        )
        jobs.append(
            functools.partial(
                calibration.closed_loop_row, device, seeds=cal[0], steps=cal[1], cutoffs=s.calibration_cutoffs
            )
        )
    if "intervals" in groups and device.type == "cpu":  # NumPy-side statistics: once, whatever the devices
        jobs.extend(functools.partial(intervals.split_row, df, seeds=s.interval_seeds) for df in (None, 3.0))
        jobs.append(lambda: intervals.drift_row(seeds=s.interval_seeds, length=s.interval_drift_length))
        jobs.append(lambda: intervals.auto_row(models=s.interval_models))
    if "panel" in groups:
        series, length, lanes, steps = s.panel_throughput
        throughput = functools.partial(
            panel.prepare_throughput, device, series=series, length=length, lanes=lanes, steps=steps
        )
        jobs.append(Rounds([throughput], s.panel_repeats))
        if device.type == "cpu":  # accuracy: once, whatever the devices
            jobs.append(lambda: panel.covariate_row(seeds=s.panel_seeds, steps=s.panel_steps))
            jobs.append(lambda: panel.grunfeld_rows(seeds=s.panel_seeds, steps=max(s.panel_steps // 6, 5)))
    return jobs


def run(
    settings: Settings,
    devices: Sequence[torch.device],
    groups: Sequence[str],
    *,
    verbose: bool = True,
    failures: list[str] | None = None,
) -> list[Row]:
    """Run the selected benchmarks on each device; return their rows.

    A benchmark that raises is reported (in ``failures`` when given) and the
    others still run.
    """
    rows: list[Row] = []
    failed = failures if failures is not None else []
    for device in devices:
        for job in _jobs(settings, device, groups):
            started = time.perf_counter()
            if isinstance(job, Rounds):
                done = _run_rounds(job, device, failed)
            else:
                row = _attempt(failed, device, job, job)
                done = [] if row is None else row if isinstance(row, list) else [row]
            rows += done
            if verbose:
                seconds = (time.perf_counter() - started) / max(len(done), 1)
                for row in done:
                    _print_row(row, seconds)
    return rows


def _run_rounds(rounds: Rounds, device: torch.device, failed: list[str]) -> list[Row]:
    """Set up every comparison of ``rounds``, time them in turns, and make their rows."""
    ready: list[tuple[Callable[[], Pending], Pending]] = []
    for prepare in rounds.prepare:
        pending = _attempt(failed, device, prepare, prepare)
        if pending is not None:
            ready.append((prepare, pending))
    results = round_robin([(p.baseline, p.candidate) for _, p in ready], rounds.repeats)
    rows: list[Row] = []
    for (prepare, pending), result in zip(ready, results, strict=True):
        if isinstance(result, Exception):
            _failed(failed, device, prepare, result)
            continue
        row = _attempt(failed, device, prepare, functools.partial(pending.to_row, result))
        if row is not None:
            rows.append(row)
    return rows


def _attempt(failed: list[str], device: torch.device, job: Callable[..., object], call: Callable[[], T]) -> T | None:
    """``call()``, or None after reporting its exception as a failure of ``job``."""
    try:
        return call()
    except Exception as error:  # noqa: BLE001 - one broken benchmark must not lose the others
        _failed(failed, device, job, error)
        return None


def _failed(failed: list[str], device: torch.device, job: Callable[..., object], error: Exception) -> None:
    what = f"{device.type}: {_describe(job)}: {type(error).__name__}: {error}"
    print(f"FAILED {what}", file=sys.stderr, flush=True)
    failed.append(what)


def _print_row(row: Row, seconds: float) -> None:
    met = "" if row.passed is None else ("  ok" if row.passed else "  MISSED")
    print(
        f"[{seconds:5.1f} s] {row.device:4} {row.group}: {row.name}: {row.figure} "
        f"{row.stats.median:.3g} (IQR {row.stats.q1:.3g}-{row.stats.q3:.3g}){met}",
        file=sys.stderr,
        flush=True,
    )


def _describe(job: Callable[..., object]) -> str:
    if isinstance(job, functools.partial):
        names = [getattr(a, "name", a) for a in job.args if not isinstance(a, torch.device)]
        return f"{job.func.__name__}({', '.join(map(str, names))})"
    return getattr(job, "__name__", "benchmark")


def _devices(choice: str, parser: argparse.ArgumentParser) -> list[torch.device]:
    cuda = torch.cuda.is_available()
    if choice == "cpu":
        return [torch.device("cpu")]
    if choice == "cuda":
        if not cuda:
            parser.error("--device cuda: CUDA is not available on this machine")
        return [torch.device("cuda")]
    return [torch.device("cpu")] + ([torch.device("cuda")] if cuda else [])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Time seqforecast against hand-written PyTorch and the teaching notebook. "
        "Every figure is a ratio of two timings taken side by side in this run.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="a short run with few repeats (about half a minute on 2 cores)"
    )
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default="auto",
        help="auto (default): the CPU, and CUDA too when it is available",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        choices=GROUPS,
        default=list(GROUPS),
        metavar="GROUP",
        help=f"run only these groups: {', '.join(GROUPS)}",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch CPU threads (default 1: these small models run faster and steadier on one; 0: torch's choice)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where to write STEM.json and STEM.md (default: benchmarks/results/full or .../quick)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite; print the Markdown table; write JSON and Markdown.

    Returns 0, or 1 when a benchmark failed (the others are still reported).
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.threads < 0:
        parser.error(f"--threads must be 0 (torch's choice) or more, got {args.threads}")
    previous = torch.get_num_threads()
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    try:
        return _run_and_report(args, parser)
    finally:
        torch.set_num_threads(previous)  # called as a function (tests), the caller's setting comes back


def _run_and_report(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    mode = "quick" if args.quick else "full"
    settings = QUICK if args.quick else FULL
    devices = _devices(args.device, parser)
    started = time.perf_counter()
    failures: list[str] = []
    rows = run(settings, devices, args.only, failures=failures)
    env = environment(mode)
    env["seconds"] = round(time.perf_counter() - started, 1)
    env["devices"] = [d.type for d in devices]
    extra = {
        "settings": dataclasses.asdict(settings),
        "recommended": accuracy.RECOMMENDED.describe(),
        "failures": failures,
    }
    stem = args.out if args.out is not None else RESULTS / mode
    json_path, md_path = write(rows, env, extra, stem, failures=failures)
    print(to_markdown(rows, env, failures=failures))
    print(f"wrote {json_path} and {md_path} in {env['seconds']:.0f} s", file=sys.stderr)
    return 1 if failures else 0
