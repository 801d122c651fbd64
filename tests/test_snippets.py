"""The README's and the docs' Python code blocks run, each on its own, as a reader would paste it.

Each ``python`` block runs in a fresh namespace (it must import what it
uses) in an empty folder that holds the repository's ``examples/`` (for the
data files the blocks read). The docs' ``testcode``/``doctest`` blocks are
run by Sphinx's doctest builder (``nox -s docs``); the blocks checked here
are the ones that builder does not see. A block that needs a ``torchrun``
launch is the one kind left out, as a test cannot launch it in-process;
``tests/test_distributed.py`` runs the same code under ``torchrun``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import seqforecast as sf

ROOT = Path(__file__).parent.parent
BLOCK = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), *sorted((ROOT / "docs" / "tutorials").glob("*.md"))]


def blocks() -> list[object]:
    found: list[object] = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            code = match.group(1)
            marks = [pytest.mark.skip(reason="needs a torchrun launch")] if "distributed=True" in code else []
            found.append(pytest.param(code, id=f"{page.relative_to(ROOT)}:{line}", marks=marks))
    return found


# what the extras install (frames: pandas; onnx: onnx, onnxruntime); the core needs none of them
OPTIONAL = {"pandas", "onnx", "onnxruntime"}


def run_block(code: str) -> dict[str, object]:
    namespace: dict[str, object] = {"__name__": "__snippet__"}
    exec(compile(code, "<snippet>", "exec"), namespace)  # noqa: S102 - the project's own documentation
    return namespace


@pytest.fixture
def reader_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty folder with the examples' data; torch on one thread (these small models train fastest so)."""
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    monkeypatch.chdir(tmp_path)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield tmp_path
    torch.set_num_threads(threads)


@pytest.mark.slow
@pytest.mark.parametrize("code", blocks())
def test_the_block_runs_on_its_own(code: str, reader_folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        run_block(code)
    except ImportError as error:  # a block about an optional extra, on a machine without it
        optional = error.name in OPTIONAL or "pip install 'seqforecast[" in str(error)
        if not optional:
            raise
        pytest.skip(f"needs an optional extra: {error}")


@pytest.mark.slow
def test_the_readmes_ten_lines_are_deterministic(reader_folder: Path) -> None:
    """The README says a fixed seed makes training deterministic on the CPU: it holds for its own snippet."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    code = text.split("## Ten lines", 1)[1]
    found = BLOCK.search(code)
    assert found is not None
    code = found.group(1).replace('device="auto"', 'device="cpu"')
    torch.manual_seed(11)
    first = run_block(code)
    torch.manual_seed(22)  # whatever the caller's generator did before
    second = run_block(code)
    histories = [run["history"] for run in (first, second)]
    assert all(isinstance(h, sf.History) for h in histories)
    assert histories[0].losses == histories[1].losses  # type: ignore[attr-defined]
    torch.testing.assert_close(first["future"], second["future"], atol=0, rtol=0)
