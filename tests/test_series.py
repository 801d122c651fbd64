"""Reading series: CSV files as they come, and integer series wherever a series is accepted."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import seqforecast as sf
from seqforecast.series import read_csv


def _write(tmp_path: Path, text: str, name: str = "data.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "sep"),
    [
        pytest.param("date,y\n2026-01-01,1.5\n2026-01-02,2.5\n", None, id="comma"),
        pytest.param("date;y\n2026-01-01;1.5\n2026-01-02;2.5\n", None, id="semicolon"),
        pytest.param("date\ty\n2026-01-01\t1.5\n2026-01-02\t2.5\n", None, id="tab"),
        pytest.param("date|y\n2026-01-01|1.5\n2026-01-02|2.5\n", "|", id="given"),
        pytest.param('"date","y"\n"2026-01-01","1.5"\n"2026-01-02",2.5\n', None, id="quoted"),
    ],
)
def test_the_delimiter_is_detected_or_given(tmp_path: Path, text: str, sep: str | None) -> None:
    table = read_csv(_write(tmp_path, text), "y", sep=sep, time_column="date")
    np.testing.assert_array_equal(table.values, [[1.5], [2.5]])
    assert table.columns == ("y",)
    assert table.time == ("2026-01-01", "2026-01-02")
    assert table.time_column == "date"


def test_text_columns_are_not_values_and_the_time_column_is_left_out(tmp_path: Path) -> None:
    path = _write(tmp_path, "date,year,y\n2026-01-01,2026,1\n2026-01-02,2026,2\n")
    assert read_csv(path).columns == ("year", "y")  # the dates are text, not a value column
    assert read_csv(path, time_column="year").columns == ("y",)


@pytest.mark.parametrize(
    ("fill", "expected"),
    [
        pytest.param("interpolate", [1.0, 1.0, 2.0, 3.0, 4.0, 4.0], id="interpolate"),
        pytest.param("ffill", [1.0, 1.0, 2.0, 2.0, 4.0, 4.0], id="ffill"),
    ],
)
def test_missing_values_are_filled_only_when_asked(tmp_path: Path, fill: str, expected: list[float]) -> None:
    path = _write(tmp_path, "y\nNA\n1\n2\n\n4\n.\n\n\n")  # blank line 5 is a gap; trailing blank lines are not rows
    with pytest.raises(ValueError, match=r"3 missing value\(s\) at line\(s\) 2, 5, 7.*fill='interpolate'"):
        read_csv(path)
    table = read_csv(path, fill=fill)
    np.testing.assert_array_equal(table.values.ravel(), expected)
    assert table.filled == (2, 5, 7)


def test_many_missing_lines_are_summarised(tmp_path: Path) -> None:
    path = _write(tmp_path, "y\n1\n" + "\n" * 30 + "2\n")
    with pytest.raises(ValueError, match=r"30 missing value\(s\) at line\(s\) 3, 4, .*12, \.\.\. \(30 in all\)"):
        read_csv(path)


@pytest.mark.parametrize(
    ("text", "kwargs", "error", "match"),
    [
        pytest.param("y,y\n1,2\n", {}, ValueError, r"names column 'y' twice \(columns 0 and 1\)", id="duplicate"),
        pytest.param("date;y\n1;2\n", {"sep": ","}, ValueError, "another character.*`sep`", id="wrong-sep"),
        pytest.param("y\n1\n", {"sep": ";;"}, ValueError, "`sep` must be one character", id="long-sep"),
        pytest.param("y\n1\n", {"fill": "mean"}, ValueError, "`fill` must be one of", id="fill"),
        pytest.param("y\n1\n", {"time_column": 1.5}, TypeError, "`time_column`", id="time-type"),
        pytest.param("t,y\n1,2\n", {"column": "t", "time_column": "t"}, ValueError, "both", id="same"),
        pytest.param("t,y\n1,2\n", {"time_column": "x"}, ValueError, "for `time_column`", id="time-missing"),
        pytest.param("t,y\na,b\n", {}, ValueError, "no numeric column", id="no-numbers"),
        pytest.param("y\n1\ninf\n", {}, ValueError, "line 3, column 'y'", id="inf"),
        pytest.param("y\n\n\n", {}, ValueError, "no data rows", id="header-only"),
        pytest.param("y\nNA\n\n2\n", {"fill": "ffill", "column": "y"}, None, "", id="leading-gap-filled"),
        pytest.param("y\nNA\nNA\n", {"fill": "ffill"}, ValueError, "no values to fill from", id="all-missing"),
    ],
)
def test_bad_files_are_refused(
    tmp_path: Path, text: str, kwargs: dict[str, object], error: type[Exception] | None, match: str
) -> None:
    path = _write(tmp_path, text)
    if error is None:
        assert read_csv(path, **kwargs).values.ravel().tolist() == [2.0, 2.0, 2.0]  # type: ignore[arg-type]
        return
    with pytest.raises(error, match=match):
        read_csv(path, **kwargs)  # type: ignore[arg-type]


def test_integer_series_are_accepted_everywhere_a_series_is() -> None:
    counts = np.arange(40) % 7  # int64
    stream = sf.ArrayStream(counts, seq_length=5, num_epochs=1)
    window = next(iter(stream))
    assert window.inputs.dtype == torch.float32
    np.testing.assert_array_equal(window.inputs.ravel().numpy(), counts[:5])
    torch.manual_seed(0)
    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1)
    as_float = counts.astype(np.float32)
    for call in (sf.prime, lambda m, s: sf.predict(m, s)[0], lambda m, s: sf.forecast(m, s, 3)):
        by_list, by_ints = call(model, counts.tolist()), call(model, torch.as_tensor(counts))
        expected = call(model, as_float)
        for got in (by_list, by_ints):
            torch.testing.assert_close(got, expected)
    assert sf.StreamingForecaster(model).update([3]).dtype == torch.float32
    assert sf.evaluate(model, counts.tolist()) == sf.evaluate(model, as_float)
    scaled = sf.Scaler().fit(counts).transform(torch.as_tensor(counts))
    assert scaled.dtype == torch.get_default_dtype()
    assert sf.Differencer().fit_transform(counts).dtype == np.float64


def test_bool_series_get_a_clear_message() -> None:
    model = sf.RecurrentForecaster(hidden_size=4, num_layers=1)
    with pytest.raises(TypeError, match=r"`sequence` must have a floating or integer dtype, got \[True, False\]"):
        sf.predict(model, [True, False])
