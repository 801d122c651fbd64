"""Development sessions: ``nox -s lint typecheck tests build`` and ``nox -s bench`` (see README)."""

from __future__ import annotations

import os

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.reuse_existing_virtualenvs = True

# Which torch to put in each session's environment: set TORCH_SPEC=torch==2.13.0
# (or a local CPU wheel) to save downloading a CUDA build on a CPU-only machine.
TORCH_SPEC = os.environ.get("TORCH_SPEC", "torch")


def _install(session: nox.Session, extras: str = "") -> None:
    session.install(TORCH_SPEC)
    session.install("-e", f".[{extras}]" if extras else ".")


@nox.session
def tests(session: nox.Session) -> None:
    """Run the test suite and doctests on the CPU (and CUDA devices when present)."""
    _install(session, "test")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session
def tests_cuda(session: nox.Session) -> None:
    """Run the device-parametrised tests on CUDA; skips when there is no GPU."""
    _install(session, "test")
    available = session.run("python", "-c", "import torch; print(torch.cuda.is_available())", silent=True)
    if "True" not in str(available):
        session.skip("CUDA is not available on this machine")
    session.run("python", "-m", "pytest", "-m", "cuda", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """The benchmark suite (python -m benchmarks); ``nox -s bench -- --quick`` for a short run.

    Arguments after ``--`` go to ``python -m benchmarks`` (``--help`` lists them).
    Results land in benchmarks/results/ as Markdown and JSON.
    """
    _install(session)
    session.run("python", "-m", "benchmarks", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and ruff format --check."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict over src and tests, with torch installed so its types are seen."""
    _install(session, "dev")
    session.run("mypy", *session.posargs)


@nox.session
def docs(session: nox.Session) -> None:
    """Build the HTML documentation, run its doctests and check its local links.

    Warnings are errors and references are checked (nitpicky); the example
    gallery runs. SEQFORECAST_DOCS_INTERSPHINX=1 also links to the Python,
    NumPy, PyTorch and Matplotlib documentation (needs the network). Extra
    arguments go to the HTML build.
    """
    _install(session, "docs")
    common = ["-n", "-W", "--keep-going", "-d", "docs/_build/doctrees", "docs"]
    session.run("sphinx-build", "-b", "html", *common, "docs/_build/html", *session.posargs)
    session.run("sphinx-build", "-b", "doctest", *common, "docs/_build/doctest")
    session.run("python", "docs/check_links.py", "docs/_build/html")


@nox.session
def build(session: nox.Session) -> None:
    """Build the sdist and wheel into dist/."""
    session.install("build")
    session.run("python", "-m", "build", "--outdir", "dist")
