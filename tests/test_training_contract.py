"""The training contract: streams, per-lane resets, TrainerConfig, clear errors, resume checks, threads."""

from __future__ import annotations

import ast
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch import Tensor

import seqforecast as sf
from tests.strategies import forecasters, make_input, time_slice

SRC = Path(__file__).parent.parent / "src" / "seqforecast"


# -- streams -----------------------------------------------------------------------------


def test_a_layout_mismatch_is_refused_not_trained_on() -> None:
    trainer = sf.Trainer(sf.RecurrentForecaster(), device="cpu")
    with pytest.raises(ValueError, match=r"batch_first=False .* batch_first=True"):
        trainer.fit(sf.SineStream(batch_size=4, batch_first=False), steps=5)
    assert trainer.history.steps == 0


def test_a_feature_count_mismatch_is_refused() -> None:
    stream = sf.ArrayStream(np.zeros((100, 2)), seq_length=5)
    with pytest.raises(ValueError, match=r"2 feature\(s\) .* input_size is 1"):
        sf.Trainer(sf.FeedForwardForecaster(), device="cpu").fit(stream, steps=2)


@pytest.mark.parametrize(
    "stream",
    [
        pytest.param([], id="empty-list"),
        pytest.param(iter(list(sf.SineStream(num_windows=5))), id="one-shot-iterator"),
        pytest.param((w for w in sf.SineStream(num_windows=5)), id="generator"),
        pytest.param([(torch.zeros(1, 4, 1), torch.zeros(1, 4, 1))], id="tuples"),
    ],
)
def test_anything_but_a_stream_is_refused(stream: Any) -> None:
    trainer = sf.Trainer(sf.FeedForwardForecaster(), device="cpu")
    with pytest.raises(TypeError, match="`stream` must be a Stream of windows"):
        trainer.fit(stream, steps=10)


class ListStream:
    """A minimal stream of your own: windows from a list, seekable; ``lie`` claims more than it has."""

    batch_first = True
    batch_size = 1
    num_features = 1

    def __init__(self, items: list[Any], lie: int = 0) -> None:
        self.items, self.lie = items, lie

    @property
    def total_windows(self) -> int:
        return len(self.items) + self.lie

    @property
    def windows_per_epoch(self) -> int:
        return self.total_windows

    def windows(self, start: int = 0) -> Iterator[Any]:
        return iter(self.items[start:])

    def shard(self, rank: int, world_size: int) -> ListStream:
        return self

    def __iter__(self) -> Iterator[Any]:
        return self.windows()


def test_a_stream_of_your_own_trains_and_is_checked() -> None:
    windows = list(sf.SineStream(seq_length=6, num_windows=4))
    assert isinstance(ListStream(windows), sf.Stream)
    trainer = sf.Trainer(sf.FeedForwardForecaster(), device="cpu")
    assert trainer.fit(ListStream(windows)).steps == 4
    with pytest.raises(TypeError, match=r"must yield seqforecast.Window objects, got \(tensor"):
        trainer.fit(ListStream([(w.inputs, w.targets) for w in windows]), steps=2)
    with pytest.raises(ValueError, match="ended after 4 window"):
        trainer.fit(ListStream(windows, lie=3), steps=6)


def test_running_out_before_steps_is_an_error_not_a_short_run() -> None:
    trainer = sf.Trainer(sf.FeedForwardForecaster(), device="cpu")
    stream = sf.SineStream(num_windows=5)
    with pytest.raises(ValueError, match=r"5 window\(s\) left .* steps=12"):
        trainer.fit(stream, steps=12)
    assert trainer.history.steps == 0
    trainer.fit(stream, steps=3)
    with pytest.raises(ValueError, match=r"2 window\(s\) left \(total_windows=5, 3 used\)"):
        trainer.fit(stream, steps=3)
    array = sf.ArrayStream(np.arange(50.0), seq_length=7, num_epochs=1)
    with pytest.raises(ValueError, match=r"epochs=2 \(14 windows\)"):
        trainer.fit(array, epochs=2)


def test_a_refused_fit_changes_nothing() -> None:
    stream = sf.SineStream(num_windows=20)
    trainer = sf.Trainer(sf.RecurrentForecaster(hidden_size=4, num_layers=1), device="cpu")
    trainer.fit(stream, steps=5)
    carried = trainer.state
    other = sf.SineStream(num_windows=3)
    with pytest.raises(ValueError, match="val_every"):
        trainer.fit(other, steps=2, val_stream=sf.SineStream(num_windows=1), val_every=0)
    with pytest.raises(ValueError, match="left"):
        trainer.fit(other, steps=4)
    with pytest.raises(ValueError, match="EarlyStopping needs validation"):
        sf.Trainer(trainer.model, device="cpu", callbacks=[sf.EarlyStopping()]).fit(other, steps=1)
    assert trainer.stream_position == 5
    assert trainer.state is carried
    trainer.fit(stream, steps=1)  # continues at window 5 with the carried state
    assert trainer.stream_position == 6


def test_window_checks_its_fields() -> None:
    x = torch.zeros(2, 3, 1)
    assert sf.Window(x, x, reset=np.bool_(True)).reset is True  # type: ignore[arg-type]
    sf.Window(x, x, reset=torch.tensor([True, False]))
    with pytest.raises(TypeError, match="reset"):
        sf.Window(x, x, reset=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="reset"):
        sf.Window(x, x, reset=torch.tensor([1, 0]))
    with pytest.raises(TypeError, match="inputs"):
        sf.Window(x.numpy(), x, reset=True)  # type: ignore[arg-type]


def test_array_stream_seeks_at_once() -> None:
    series = [np.arange(23.0), np.arange(100.0, 140.0)]
    stream = sf.ArrayStream(series, seq_length=4, batch_size=2)  # endless
    per_epoch = stream.windows_per_epoch
    walked = list(zip(range(3 * per_epoch), stream.windows(), strict=False))
    for start in range(3 * per_epoch):
        window = next(stream.windows(start))
        expected = walked[start][1]
        assert torch.equal(window.inputs, expected.inputs)
        assert window.reset == expected.reset
    far = 10**15 + 3  # a crafted stream position: seeking is arithmetic, not a walk
    assert torch.equal(next(stream.windows(far)).inputs, walked[far % per_epoch][1].inputs)


# -- per-lane resets -----------------------------------------------------------------------


@given(model=forecasters(), batch=st.integers(2, 4), data=st.data())
def test_a_lane_reset_runs_that_lane_as_if_alone_from_a_fresh_start(
    model: sf.BaseForecaster, batch: int, data: st.DataObject
) -> None:
    mask = torch.tensor(data.draw(st.lists(st.booleans(), min_size=batch, max_size=batch)))
    x = make_input(model, batch, 9)
    first, second = time_slice(model, x, 0, 5), time_slice(model, x, 5)
    with torch.no_grad():
        _, state = model(first)
        y, _ = model(second, model.reset_state(state, mask))
        lane_dim = 0 if model.batch_first else 1
        for lane in range(batch):
            alone = second.narrow(lane_dim, lane, 1)
            lane_state = None if mask[lane] else _lane(model, state, lane)
            expected, _ = model(alone, lane_state)
            torch.testing.assert_close(y.narrow(lane_dim, lane, 1), expected, atol=1e-6, rtol=1e-5)


def _lane(model: sf.BaseForecaster, state: sf.State, lane: int) -> sf.State:
    dim = 1 if isinstance(model, sf.RecurrentForecaster) or not model.batch_first else 0
    if isinstance(state, Tensor):
        return state.narrow(dim, lane, 1).contiguous()
    assert state is not None
    return tuple(t.narrow(dim, lane, 1).contiguous() for t in state)


def test_reset_state_checks_the_mask() -> None:
    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1)
    state = torch.ones(1, 3, 4)
    assert model.reset_state(None, torch.tensor([True, False, True])) is None
    with pytest.raises(ValueError, match=r"shape \(3,\)"):
        model.reset_state(state, torch.tensor([True, False]))
    with pytest.raises(TypeError, match="bool tensor"):
        model.reset_state(state, torch.tensor([1, 0, 1]))


class LaneResets(ListStream):
    batch_size = 3


def test_the_trainer_resets_only_the_marked_lanes() -> None:
    seen: list[sf.State] = []

    class Spy(sf.RecurrentForecaster):
        def forward(self, x: Tensor, state: sf.State = None) -> tuple[Tensor, sf.State]:
            seen.append(state)
            return super().forward(x, state)

    base = list(sf.SineStream(batch_size=3, num_windows=3))
    marks: list[bool | Tensor] = [True, torch.tensor([False, True, False]), False]
    windows = [sf.Window(w.inputs, w.targets, reset=m) for w, m in zip(base, marks, strict=True)]
    trainer = sf.Trainer(Spy(hidden_size=4, num_layers=2), device="cpu", lr=1e-9)
    trainer.fit(LaneResets(windows))
    assert seen[0] is None
    second = seen[1]
    assert isinstance(second, Tensor)
    assert torch.count_nonzero(second[:, 1]) == 0  # the reset lane starts from zeros
    assert torch.count_nonzero(second[:, 0]) > 0
    assert torch.count_nonzero(second[:, 2]) > 0


# -- TrainerConfig and the constructor -----------------------------------------------------


def test_trainer_config_is_the_one_place_for_settings() -> None:
    config = sf.TrainerConfig(lr=0.003, clip_grad_norm=2.0, log_every=7, seed=1, device="cpu", threads=1)
    assert sf.TrainerConfig.from_dict(config.to_dict()) == config
    trainer = sf.Trainer(sf.FeedForwardForecaster(), config, lr=0.004)
    assert trainer.config == config.replace(lr=0.004)
    assert trainer.optimizer.param_groups[0]["lr"] == 0.004
    with pytest.raises(TypeError, match=r"unknown TrainerConfig setting\(s\) \['learning_rate'\]"):
        sf.Trainer(sf.FeedForwardForecaster(), learning_rate=0.1)
    with pytest.raises(ValueError, match="unknown keys"):
        sf.TrainerConfig.from_dict({"lr": 0.1, "momentum": 0.9})


@pytest.mark.parametrize(
    ("settings", "error", "match"),
    [
        ({"lr": "fast"}, TypeError, "`lr` must be a real number, got 'fast'"),
        ({"lr": float("nan")}, ValueError, "`lr`"),
        ({"stateful": "yes"}, TypeError, "`stateful`"),
        ({"log_every": 2.5}, TypeError, "`log_every`"),
        ({"seed": -1}, ValueError, "`seed`"),
        ({"threads": 0}, ValueError, "`threads`"),
        ({"device": "banana"}, ValueError, "`device` must be"),
        ({"device": 3}, TypeError, "`device` must be"),
        ({"cuda_graphs": 1}, TypeError, "`cuda_graphs`"),
    ],
)
def test_trainer_config_names_the_bad_setting(settings: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        sf.TrainerConfig(**settings)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"callbacks": [1]}, TypeError, r"`callbacks\[0\]` must be a Callback"),
        ({"config": {"lr": 0.1}}, TypeError, "`config` must be a TrainerConfig"),
        ({"loss": 3}, TypeError, "`loss` must be a callable"),
        ({"callbacks": sf.ProgressBar()}, TypeError, "`callbacks` must be a list of Callback objects"),
        ({"callbacks": (c for c in [sf.ProgressBar()])}, TypeError, "`callbacks` must be a list"),
    ],
)
def test_trainer_refuses_objects_of_the_wrong_kind(kwargs: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        sf.Trainer(sf.FeedForwardForecaster(), **kwargs)


@pytest.mark.parametrize(
    ("loss", "error", "match"),
    [
        (lambda out, y: float(((out - y) ** 2).mean().detach()), TypeError, r"0-d tensor .* got 0\.\d+ \(float\)"),
        (lambda out, y: (out - y) ** 2, ValueError, r"0-d tensor .* got shape \(1, 18, 1\)"),
    ],
)
def test_a_loss_that_is_not_a_scalar_tensor_is_named(loss: Any, error: type[Exception], match: str) -> None:
    trainer = sf.Trainer(sf.FeedForwardForecaster(), loss=loss, device="cpu")
    with pytest.raises(error, match=match):
        trainer.fit(sf.SineStream(), steps=3)


def test_threads_apply_during_fit_only() -> None:
    before = torch.get_num_threads()
    seen: list[int] = []

    class Threads(sf.Callback):
        def on_step_end(self, trainer: sf.TrainerView, step: int, loss: Tensor) -> None:
            seen.append(torch.get_num_threads())

    sf.Trainer(sf.FeedForwardForecaster(), device="cpu", callbacks=[Threads()]).fit(sf.SineStream(), steps=2)
    sf.Trainer(sf.FeedForwardForecaster(), device="cpu", threads=1, callbacks=[Threads()]).fit(sf.SineStream(), steps=2)
    assert seen == [before, before, 1, 1]
    assert torch.get_num_threads() == before


def test_the_progress_bar_moves_every_step() -> None:
    counts: list[int] = []

    class Watched(sf.ProgressBar):
        def on_step_end(self, trainer: sf.TrainerView, step: int, loss: Tensor) -> None:
            super().on_step_end(trainer, step, loss)
            counts.append(self._bar.n)

    trainer = sf.Trainer(sf.FeedForwardForecaster(), device="cpu", log_every=50, callbacks=[Watched()])
    trainer.fit(sf.SineStream(), steps=6)
    assert counts == [1, 2, 3, 4, 5, 6]


def test_seeded_models_and_trainers_are_reproducible() -> None:
    def run() -> list[float]:
        model = sf.RecurrentForecaster(hidden_size=8, num_layers=2, dropout=0.3, seed=4)
        return sf.Trainer(model, device="cpu", seed=3).fit(sf.SineStream(batch_size=2), steps=15).losses

    first = run()
    torch.manual_seed(123)  # the caller's generator does not matter
    assert run() == first
    generator_state = torch.get_rng_state()
    sf.ConvForecaster(seed=1)
    assert torch.equal(torch.get_rng_state(), generator_state)  # seed= leaves torch's generator alone


# -- interrupts and the final checkpoint -----------------------------------------------------


def test_a_second_ctrl_c_during_the_final_checkpoint_is_held_back(tmp_path: Path) -> None:
    path = tmp_path / "run.safetensors"

    class CtrlC(sf.Callback):
        def on_step_end(self, trainer: sf.TrainerView, step: int, loss: Tensor) -> None:
            if step == 3:
                os.kill(os.getpid(), signal.SIGINT)

        def on_fit_end(self, trainer: sf.TrainerView, history: sf.History) -> None:
            os.kill(os.getpid(), signal.SIGINT)  # presses again while the checkpoints are written

    callbacks = [CtrlC(), sf.ModelCheckpoint(path, every=100)]
    history = sf.Trainer(sf.FeedForwardForecaster(), device="cpu", callbacks=callbacks).fit(sf.SineStream(), steps=50)
    assert history.interrupted
    assert history.steps == 3
    assert sf.load(path).trainer_state["history"]["steps"] == 3  # type: ignore[index]


def test_a_third_ctrl_c_still_interrupts_the_end_of_fit() -> None:
    class CtrlC(sf.Callback):
        def on_step_end(self, trainer: sf.TrainerView, step: int, loss: Tensor) -> None:
            if step == 2:
                os.kill(os.getpid(), signal.SIGINT)

        def on_fit_end(self, trainer: sf.TrainerView, history: sf.History) -> None:
            os.kill(os.getpid(), signal.SIGINT)  # held back
            os.kill(os.getpid(), signal.SIGINT)  # interrupts: the user insists

    trainer = sf.Trainer(sf.FeedForwardForecaster(), device="cpu", callbacks=[CtrlC()])
    with pytest.raises(KeyboardInterrupt):
        trainer.fit(sf.SineStream(), steps=50)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back


def test_model_checkpoint_checks_its_folder_at_once(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no folder"):
        sf.ModelCheckpoint(tmp_path / "missing" / "run.safetensors", every=5)
    with pytest.raises(ValueError, match="folder"):
        sf.ModelCheckpoint(tmp_path, every=5)


# -- resume errors ---------------------------------------------------------------------------


@pytest.fixture
def saved_run(tmp_path: Path) -> Path:
    path = tmp_path / "run.safetensors"
    trainer = sf.Trainer(sf.RecurrentForecaster(hidden_size=8, num_layers=2, seed=0), device="cpu")
    trainer.fit(sf.SineStream(), steps=3)
    trainer.save_checkpoint(path)
    return path


@pytest.mark.parametrize(
    ("model", "match"),
    [
        (sf.RecurrentForecaster(hidden_size=16, num_layers=2), r"hidden_size=16 \(saved: 8\)"),
        (sf.RecurrentForecaster(hidden_size=8, num_layers=2, cell="gru"), r"cell='gru' \(saved: 'rnn'\)"),
        (sf.ConvForecaster(), "is a ConvForecaster but the checkpoint holds a RecurrentForecaster"),
    ],
)
def test_resume_names_what_differs_in_the_model(saved_run: Path, model: sf.BaseForecaster, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        sf.Trainer.resume(saved_run, model)


def _crafted(tmp_path: Path, saved_run: Path, **state_changes: Any) -> Path:
    saved = sf.load(saved_run)
    state = dict(saved.trainer_state or {})
    for key, value in state_changes.items():
        if key in sf.TrainerConfig.__dataclass_fields__:
            state["config"] = {**state["config"], key: value}
        else:
            state[key] = value

    class Saved:
        def state_dict(self) -> dict[str, Any]:
            return state

    path = tmp_path / "crafted.safetensors"
    sf.save(path, saved.model, trainer=Saved())
    return path


@pytest.mark.parametrize(
    ("changes", "error", "match"),
    [
        ({"lr": "fast"}, sf.CheckpointError, "invalid trainer settings: `lr` must be a real number"),
        ({"log_every": -4}, sf.CheckpointError, "invalid trainer settings: `log_every`"),
        ({"optimizer_class": "LBFGS"}, ValueError, "needs a closure"),
        ({"optimizer_class": "Turbo"}, ValueError, "not in torch.optim"),
        ({"stream_position": -1}, ValueError, "stream_position"),
    ],
)
def test_resume_refuses_crafted_settings_clearly(
    tmp_path: Path, saved_run: Path, changes: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        sf.Trainer.resume(_crafted(tmp_path, saved_run, **changes), device="cpu")


@pytest.mark.parametrize(
    ("stream", "match"),
    [
        (sf.SineStream(batch_size=2), r"batch_size=2 \(saved: 1\)"),
        (sf.SineStream(num_windows=2), r"total_windows=2 \(saved: None\)"),
    ],
)
def test_resume_checks_the_stream_against_the_saved_one(saved_run: Path, stream: sf.SineStream, match: str) -> None:
    trainer = sf.Trainer.resume(saved_run, device="cpu")
    with pytest.raises(ValueError, match=match):
        trainer.fit(stream, steps=1)
    assert trainer.fit(sf.SineStream(), steps=1).steps == 4  # the right stream still continues the run


def test_resume_refuses_a_stream_that_ends_before_the_saved_position(tmp_path: Path) -> None:
    path = tmp_path / "run.safetensors"
    trainer = sf.Trainer(sf.FeedForwardForecaster(), device="cpu")
    trainer.fit(sf.ArrayStream(np.arange(100.0), seq_length=9, num_epochs=None), steps=25)
    trainer.save_checkpoint(path)
    resumed = sf.Trainer.resume(path, device="cpu")
    shorter = sf.ArrayStream(np.arange(100.0), seq_length=9, num_epochs=2)  # 22 windows
    with pytest.raises(ValueError, match=r"total_windows=22 \(saved: None\)"):
        resumed.fit(shorter, steps=1)


def test_resume_may_change_only_where_the_run_continues(saved_run: Path) -> None:
    assert sf.Trainer.resume(saved_run, device="cpu", threads=1).config.threads == 1
    with pytest.raises(TypeError, match=r"only \['cuda_graphs', 'device', 'distributed', 'threads'\] can change"):
        sf.Trainer.resume(saved_run, lr=0.5)


# -- module structure ------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: Path) -> set[str]:
    """Modules imported when ``path`` runs (imports under ``if TYPE_CHECKING:`` and in functions left out)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("seqforecast")}


def _root_imports(path: Path) -> list[str]:
    """What ``path`` takes from the package root at run time: ``import seqforecast`` or names of its ``__init__``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    taken: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            taken += [alias.name for alias in node.names if alias.name == "seqforecast"]
        elif isinstance(node, ast.ImportFrom) and node.module == "seqforecast" and node.level == 0:
            taken += [alias.name for alias in node.names if not (SRC / f"{alias.name}.py").exists()]
    return taken


def test_the_package_has_no_import_cycle_and_no_module_imports_the_root() -> None:
    modules = {_module_name(p): p for p in SRC.rglob("*.py")}
    graph = {name: {i for i in _runtime_imports(path) if i in modules and i != name} for name, path in modules.items()}
    for name, path in modules.items():
        if name != "seqforecast":  # the root re-exports; every other module imports from below itself
            assert not _root_imports(path), f"{name} imports {_root_imports(path)} from the package root"
    packages = {name for name, path in modules.items() if path.name == "__init__.py"}
    # a package's __init__ only re-exports from below it: leave it out, as importing a submodule runs it anyway
    edges = {name: deps - packages for name, deps in graph.items() if name not in packages}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        assert name not in visiting, f"import cycle: {' -> '.join([*visiting[visiting.index(name) :], name])}"
        if name in done:
            return
        visiting.append(name)
        for dep in edges.get(name, set()):
            visit(dep)
        visiting.pop()
        done.add(name)

    for name in edges:
        visit(name)


def test_callbacks_do_not_import_the_trainer() -> None:
    imports = _runtime_imports(SRC / "training" / "callbacks.py")
    assert not any(name.startswith("seqforecast.training.trainer") for name in imports)
    tree = ast.parse((SRC / "training" / "callbacks.py").read_text(encoding="utf-8"))
    assert "seqforecast.training.trainer" not in ast.dump(tree)


def test_the_trainer_class_stays_small() -> None:
    tree = ast.parse((SRC / "training" / "trainer.py").read_text(encoding="utf-8"))
    trainer = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Trainer")
    assert trainer.end_lineno is not None
    code_lines = _code_lines(trainer)
    assert code_lines <= 250, f"Trainer has {code_lines} lines of code (docstrings aside)"


def _code_lines(node: ast.ClassDef) -> int:
    """Lines of the class that are not docstrings or blank."""
    docstrings: set[int] = set()
    for child in ast.walk(node):
        body = getattr(child, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str) and body[0].end_lineno:
                docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
    assert node.end_lineno is not None
    lines = (
        (SRC / "training" / "trainer.py").read_text(encoding="utf-8").splitlines()[node.lineno - 1 : node.end_lineno]
    )
    return sum(1 for number, text in enumerate(lines, node.lineno) if text.strip() and number not in docstrings)


def test_modules_import_the_version_from_one_place() -> None:
    text = (SRC / "checkpoint.py").read_text(encoding="utf-8")
    assert "from seqforecast._version import __version__" in text
    assert sf.__version__ == __import__("seqforecast._version", fromlist=["x"]).__version__
