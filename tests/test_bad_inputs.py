"""Every public entry point refuses bad input with one clear error.

Each row of ``CASES`` is one bad call: the exception it must raise and a
pattern its message must match (the message names the argument, what was
expected and what was received). To cover a new case, add a row.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch

import seqforecast as sf


@dataclass(frozen=True)
class Case:
    """One bad call: ``call()`` must raise ``error`` with a message matching ``match``."""

    id: str
    call: Callable[[], Any]
    error: type[Exception]
    match: str


SERIES = np.sin(np.arange(200.0) / 5)


def bad(value: object) -> Any:
    """``value``, typed ``Any``: a wrong type passed on purpose."""
    return value


CASES = [
    # -- devices: one validator for every ``device`` argument -------------------------------
    Case(
        "ArrayStream device banana",
        lambda: sf.ArrayStream(SERIES, 10, device="banana"),
        ValueError,
        "`device`.*'banana'",
    ),
    Case("SineStream device banana", lambda: sf.SineStream(device="banana"), ValueError, "`device`.*'banana'"),
    Case("ArrayStream device 3", lambda: sf.ArrayStream(SERIES, 10, device=bad(3)), TypeError, "`device`.*3 \\(int\\)"),
]
if not torch.cuda.is_available():
    CASES += [
        Case(
            "ArrayStream on missing CUDA",
            lambda: sf.ArrayStream(SERIES, 10, device="cuda"),
            ValueError,
            "CUDA is not available",
        ),
    ]
else:
    CASES += [
        Case(
            "ArrayStream on missing GPU",
            lambda: sf.ArrayStream(SERIES, 10, device="cuda:99"),
            ValueError,
            "CUDA device",
        ),
    ]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_bad_input_raises_one_clear_error(case: Case) -> None:
    with pytest.raises(case.error, match=case.match):
        case.call()


def test_a_list_of_numpy_scalars_is_one_series() -> None:
    values = SERIES.astype(np.float32)
    stream = sf.ArrayStream(list(values), 10)
    assert stream.windows_per_epoch == sf.ArrayStream(values, 10).windows_per_epoch == 20
