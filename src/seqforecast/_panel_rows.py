"""Checks shared by the panel's constructors: rows of values per series, entries per id, column names."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from seqforecast._checks import describe

__all__ = ["as_list", "by_id", "column_names", "rows"]


def as_list(series: object) -> tuple[list[str], list[object]]:
    """Ids and values of a dict keyed by id, or of a list (ids ``"0"``, ``"1"``, ...).

    Raises:
        TypeError: ``series`` is neither a dict nor a non-empty list or tuple.
        ValueError: Two keys of a dict have the same string form (``1`` and ``"1"``).
    """
    if isinstance(series, Mapping):
        ids = [str(key) for key in series]
        if len(set(ids)) < len(ids):
            twice = next(key for key in ids if ids.count(key) > 1)
            msg = f"`series` must have distinct ids, got two keys that both read {twice!r}"
            raise ValueError(msg)
        return ids, list(series.values())
    if isinstance(series, (list, tuple)) and series:
        return [str(i) for i in range(len(series))], list(series)
    msg = f"`series` must be a non-empty dict keyed by id or list of arrays (time,) or (time, features), got {describe(series)}"
    raise TypeError(msg)


def rows(name: str, key: str, value: object, length: int | None, names: Sequence[str]) -> np.ndarray:
    """``value`` as a finite ``(time, columns)`` float array, checked against ``length`` rows."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        msg = f"`{name}` of series {key!r} must be numbers, got {describe(value)}"
        raise TypeError(msg) from None
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or (names and array.shape[1] != len(names)):
        msg = f"`{name}` of series {key!r} must have shape (time, {len(names) or 'columns'}), got {array.shape}"
        raise ValueError(msg)
    if length is not None and array.shape[0] != length:
        msg = f"`{name}` of series {key!r} must have {length} rows like its target, got {array.shape[0]}"
        raise ValueError(msg)
    bad = ~np.isfinite(array)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        label = names[column] if names else str(column)
        msg = f"`{name}` of series {key!r} must be finite, got {array[row, column]} in column {label!r} at row {row}"
        raise ValueError(msg)
    return array


def by_id(name: str, value: object, ids: Sequence[str]) -> list[object]:
    """One entry per id from a dict keyed by id or a list in the order of the series."""
    if isinstance(value, Mapping):
        missing = [key for key in ids if key not in value and _key(value, key) is None]
        if missing:
            msg = f"`{name}` must have an entry for every series, missing {missing[:5]}"
            raise ValueError(msg)
        return [value[key] if key in value else value[_key(value, key)] for key in ids]
    if isinstance(value, (list, tuple)) and len(value) == len(ids):
        return list(value)
    msg = f"`{name}` must be a dict keyed by series id or a list of {len(ids)} arrays, got {describe(value)}"
    raise TypeError(msg)


def _key(mapping: Mapping[Any, Any], key: str) -> Any:
    """The key of ``mapping`` whose string form is ``key`` (ids are compared as strings)."""
    return next((k for k in mapping if str(k) == key), None)


def column_names(name: str, given: Sequence[str] | None, count: int, prefix: str) -> tuple[str, ...]:
    names = tuple(given) if given is not None else tuple(f"{prefix}{i}" for i in range(count))
    if len(names) != count:
        msg = f"`{name}` must name {count} column(s), got {len(names)}: {names}"
        raise ValueError(msg)
    return names
