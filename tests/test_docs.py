"""The documentation covers the public API, and its link checker finds broken links.

Building the site itself (HTML with warnings as errors, the example gallery,
the pages' doctests and the link check on the result) is ``nox -s docs``,
also run by ``.ci/run``.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

import seqforecast

DOCS = Path(__file__).parent.parent / "docs"
DIRECTIVE = re.compile(r"^\.\. auto(?:class|function|data|exception|module):: +([\w.]+)", re.MULTILINE)


def documented_names() -> set[str]:
    """Names the API reference documents, relative to the ``seqforecast`` package."""
    text = (DOCS / "api.md").read_text(encoding="utf-8")
    return {name.removeprefix("seqforecast.") for name in DIRECTIVE.findall(text)}


def test_the_api_reference_documents_every_public_name() -> None:
    missing = sorted(set(seqforecast.__all__) - documented_names())
    assert not missing, f"add these to docs/api.md: {missing}"


def _link_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_links", DOCS / "check_links.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_link_checker_reports_missing_files_and_anchors(tmp_path: Path) -> None:
    (tmp_path / "api").mkdir()
    (tmp_path / "api" / "index.html").write_text('<h1 id="top">API</h1><a name="old">old</a>')
    (tmp_path / "logo.png").write_bytes(b"")
    (tmp_path / "index.html").write_text(
        '<a href="api/index.html#top">ok</a> <a href="api/#old">ok</a> <img src="logo.png">'
        ' <a href="https://example.org/missing.html">other site</a> <a href="#">top</a>'
        ' <a href="api/index.html#gone">bad anchor</a> <a href="tutorial.html">bad file</a>'
        ' <img src="images/plot.png"> <a href="../outside.html">outside</a>'
    )
    problems = _link_checker().broken_links(tmp_path)
    assert problems == [
        "index.html: api/index.html#gone (no anchor #gone in api/index.html)",
        "index.html: tutorial.html (no such file)",
        "index.html: images/plot.png (no such file)",
        "index.html: ../outside.html (points outside the site)",
    ]


def test_the_link_checker_passes_a_sound_site(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "index.html").write_text('<p id="intro"><a href="#intro">here</a> <a href="index.html">home</a></p>')
    assert _link_checker().main([str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith("0 broken local links in 1 pages")
