"""Scaler, Differencer and load_series."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import seqforecast as sf

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
series_2d = hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, min_side=2, max_side=30), elements=finite)


@given(data=series_2d)
def test_scaler_round_trips(data: np.ndarray) -> None:
    scaler = sf.Scaler().fit(data)
    restored = scaler.inverse_transform(scaler.transform(data))
    np.testing.assert_allclose(restored, data, rtol=1e-9, atol=1e-9 * (1 + np.abs(data).max()))
    again = sf.Scaler.from_state_dict(json.loads(json.dumps(scaler.state_dict())))
    np.testing.assert_array_equal(again.transform(data), scaler.transform(data))


@given(data=series_2d)
def test_differencer_round_trips(data: np.ndarray) -> None:
    differencer = sf.Differencer().fit(data)
    diffs = differencer.transform(data)
    assert diffs.shape == (data.shape[0] - 1, data.shape[1])
    np.testing.assert_allclose(differencer.inverse_transform(diffs), data, rtol=1e-9, atol=1e-6)
    again = sf.Differencer.from_state_dict(json.loads(json.dumps(differencer.state_dict())))
    np.testing.assert_array_equal(again.inverse_transform(diffs), differencer.inverse_transform(diffs))


def test_differencer_integrates_forecasts_after_the_last_value() -> None:
    series = np.array([1.0, 2.0, 4.0, 7.0])
    differencer = sf.Differencer().fit(series)
    np.testing.assert_array_equal(differencer.integrate(np.array([4.0, 5.0])), [11.0, 16.0])


def test_transforms_keep_the_kind_of_array() -> None:
    tensor = torch.arange(12.0, dtype=torch.float64).reshape(6, 2)
    scaled = sf.Scaler().fit_transform(tensor)
    assert isinstance(scaled, torch.Tensor)
    assert scaled.dtype == torch.float64
    torch.testing.assert_close(scaled.mean(0), torch.zeros(2, dtype=torch.float64))
    single = sf.Scaler().fit_transform(np.arange(5.0, dtype=np.float32))
    assert single.shape == (5,)
    assert single.dtype == np.float32


def test_constant_features_are_only_centred() -> None:
    data = np.column_stack([np.full(5, 3.0), np.arange(5.0)])
    scaler = sf.Scaler().fit(data)
    assert scaler.std is not None
    assert scaler.std[0] == 1.0
    np.testing.assert_array_equal(scaler.transform(data)[:, 0], np.zeros(5))


def test_transform_errors() -> None:
    with pytest.raises(ValueError, match="not fitted"):
        sf.Scaler().transform(np.zeros(3))
    with pytest.raises(ValueError, match="not fitted"):
        sf.Differencer().inverse_transform(np.zeros(3))
    with pytest.raises(ValueError, match="2 features"):
        sf.Scaler().fit(np.zeros((4, 2))).transform(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="finite"):
        sf.Scaler().fit([1.0, float("inf")])
    with pytest.raises(ValueError, match="at least 2"):
        sf.Differencer().fit([1.0])


def write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_load_series_with_and_without_header(tmp_path: Path) -> None:
    with_header = write(tmp_path, '"t","y","z"\n1,2.5,3\n2,3.5,4\n\n3,4.5,5\n')
    np.testing.assert_array_equal(sf.load_series(with_header, column="y"), [[2.5], [3.5], [4.5]])
    np.testing.assert_array_equal(sf.load_series(with_header, column=-1), [[3.0], [4.0], [5.0]])
    assert sf.load_series(with_header).shape == (3, 3)
    plain = write(tmp_path, "1\n2\n3\n", "plain.csv")
    np.testing.assert_array_equal(sf.load_series(plain, column=0), [[1.0], [2.0], [3.0]])


def test_the_shipped_sunspots_file_loads() -> None:
    path = Path(__file__).parent.parent / "examples" / "data" / "sunspots.csv"
    values = sf.load_series(path, column="SUNACTIVITY")
    assert values.shape == (309, 1)
    assert values[0, 0] == 5.0


@pytest.mark.parametrize(
    ("text", "column", "error", "match"),
    [
        ("y\n1\nabc\n3\n", "y", ValueError, r"line 3, column 'y': expected a finite number, got 'abc'"),
        ("y\n1\n\n3\nnan\n", "y", ValueError, r"2 missing value\(s\) at line\(s\) 3, 5; rows are never dropped"),
        ("a,b\n1,2\n3,\n", "b", ValueError, r"1 missing value\(s\) at line\(s\) 3"),
        ("a,b\n1,2\n", "c", ValueError, r"no column named 'c'; columns: 'a', 'b'"),
        ("1,2\n3,4\n", "c", ValueError, "no header"),
        ("a,b\n1,2\n", 5, ValueError, "out of range"),
        ("a,b\n1,2\n3\n", None, ValueError, "line 3: expected 2 cells"),
        ("a,b\n", None, ValueError, "no data rows"),
        ("", None, ValueError, "no rows"),
        ("a\n1\n", 1.5, TypeError, "column"),
    ],
)
def test_load_series_errors_name_the_place(
    tmp_path: Path, text: str, column: Any, error: type[Exception], match: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(error, match=match):
        sf.load_series(path, column=column)


def test_load_series_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.csv"):
        sf.load_series(tmp_path / "nope.csv")
    binary = tmp_path / "model.bin"
    binary.write_bytes(bytes(range(256)))
    with pytest.raises(ValueError, match=r"model\.bin"):
        sf.load_series(binary)
