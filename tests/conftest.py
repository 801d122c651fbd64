"""Shared fixtures: Hypothesis profiles, seeding and the device fixture."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import torch
from hypothesis import HealthCheck, settings

settings.register_profile(
    "fast", max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "fast"))

DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param(
        "cuda",
        id="cuda",
        marks=[pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA is not available")],
    ),
]


@pytest.fixture(params=DEVICES)
def device(request: pytest.FixtureRequest) -> torch.device:
    """Every test that takes ``device`` runs on the CPU, and on CUDA when present."""
    return torch.device(request.param)


@pytest.fixture(autouse=True)
def _seed() -> None:
    """Make every test deterministic, whatever ran before it."""
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _threads_unchanged() -> Iterator[None]:
    """No test (and nothing it calls) leaves torch's thread count changed: results depend on it."""
    before = torch.get_num_threads()
    yield
    after = torch.get_num_threads()
    torch.set_num_threads(before)
    assert after == before, f"torch's thread count changed from {before} to {after}"
