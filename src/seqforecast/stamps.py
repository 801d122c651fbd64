"""Time stamps of a series: checked, continued past its end, turned into calendar features.

Stamps are NumPy ``datetime64`` arrays; anything ``np.asarray`` turns into
one (a pandas ``DatetimeIndex``, strings such as ``"2024-01-31"``) is
accepted. A series' stamps must increase by one regular step: a fixed
duration (hours, days, weeks), or whole calendar months or years (month
starts and month ends alike), so that forecasts can carry the stamps of the
steps after the end.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from seqforecast._checks import check_int, describe

__all__ = ["CALENDAR_FEATURES", "as_stamps", "calendar_features", "fill_gaps", "future_stamps", "infer_step", "rows_at"]

CALENDAR_FEATURES = ("hour", "dayofweek", "dayofmonth", "dayofyear", "month")
_PERIODS = {"hour": 24, "dayofweek": 7, "dayofmonth": 31, "dayofyear": 366, "month": 12}


def as_stamps(name: str, stamps: object) -> np.ndarray:
    """Return ``stamps`` as a 1-D ``datetime64`` array, strictly increasing.

    Raises:
        TypeError: The values are not dates or times.
        ValueError: Not 1-D, empty, NaT, or not strictly increasing (the
            message names the first stamps out of order or repeated).

    Example:
        >>> as_stamps("times", ["2024-01-01", "2024-01-02"]).dtype
        dtype('<M8[D]')
    """
    try:
        array = np.asarray(stamps)
        if array.dtype.kind != "M":
            array = np.asarray(stamps, dtype="datetime64")
    except (TypeError, ValueError):
        msg = f"`{name}` must be time stamps (datetime64 values, a DatetimeIndex, ISO date strings), got {describe(stamps)}"
        raise TypeError(msg) from None
    if array.ndim != 1 or array.size == 0:
        msg = f"`{name}` must be a non-empty 1-D array of time stamps, got shape {array.shape}"
        raise ValueError(msg)
    missing = np.isnat(array)
    if missing.any():
        msg = f"`{name}` must not hold missing stamps (NaT), got one at index {int(np.argmax(missing))}"
        raise ValueError(msg)
    steps = np.diff(array)
    bad = steps <= np.timedelta64(0)
    if bad.any():
        i = int(np.argmax(bad))
        what = "repeated" if array[i] == array[i + 1] else "out of order"
        msg = f"`{name}` must be strictly increasing, got {array[i]} then {array[i + 1]} ({what}) at index {i + 1}"
        raise ValueError(msg)
    return array


def _months(array: np.ndarray) -> np.ndarray | None:
    """The stamps as month numbers if they all fall on the same day of their month (start or end), else None."""
    months = array.astype("datetime64[M]")
    starts = months.astype(array.dtype)
    if np.array_equal(starts, array):
        return months.astype(np.int64)
    ends = ((months + 1).astype("datetime64[D]") - 1).astype(array.dtype)
    if np.array_equal(ends, array):
        return months.astype(np.int64)
    return None


def _duration(step: np.timedelta64) -> str:
    """``step`` in the largest unit that holds it exactly: ``1 days``, ``6 hours``."""
    for unit, label in (("W", "weeks"), ("D", "days"), ("h", "hours"), ("m", "minutes"), ("s", "seconds")):
        whole = step.astype(f"timedelta64[{unit}]")
        if whole == step:
            return f"{int(whole.astype(np.int64))} {label}"
    return str(step)


def infer_step(name: str, stamps: object) -> np.timedelta64:
    """The regular step between ``stamps``: a duration, or a number of calendar months (unit ``M``).

    Raises:
        ValueError: Fewer than two stamps, or steps that differ (the message
            names the first stamps that break the rhythm: a gap or an extra stamp).

    Example:
        >>> infer_step("times", ["2024-01-31", "2024-02-29", "2024-03-31"])
        np.timedelta64(1,'M')
        >>> infer_step("times", np.arange("2024-01-01", "2024-01-05", dtype="datetime64[D]"))
        np.timedelta64(1,'D')
    """
    array = as_stamps(name, stamps)
    if array.size < 2:
        msg = f"`{name}` must hold at least 2 stamps to show their step, got {array.size}"
        raise ValueError(msg)
    months = _months(array)
    steps = np.diff(months) if months is not None else np.diff(array)
    first = steps[0]
    odd = steps != first
    if odd.any():
        i = int(np.argmax(odd)) + 1
        shown = f"{first} months" if months is not None else _duration(first)
        msg = (
            f"`{name}` must be regular (one step between stamps), but the step from {array[i - 1]} to {array[i]} "
            f"differs from the first ({shown}): a missing or extra stamp; fill the gaps with fill_gaps()"
        )
        raise ValueError(msg)
    if months is not None:
        return np.timedelta64(int(first), "M")
    step: np.timedelta64 = np.timedelta64(first)
    return step


def future_stamps(stamps: object, horizon: int, step: np.timedelta64 | None = None) -> np.ndarray:
    """The ``horizon`` stamps after the last of ``stamps``, one ``step`` apart (default: :func:`infer_step`).

    Example:
        >>> future_stamps(["2024-01-31", "2024-02-29"], 2).tolist()
        [datetime.date(2024, 3, 31), datetime.date(2024, 4, 30)]
    """
    array = as_stamps("stamps", stamps)
    horizon = check_int("horizon", horizon)
    step = infer_step("stamps", array) if step is None else step
    ahead = np.arange(1, horizon + 1)
    if np.datetime_data(step)[0] in ("M", "Y"):
        months = int(step.astype("timedelta64[M]").astype(np.int64))
        last = array[-1]
        start = last.astype("datetime64[M]")
        target = start + ahead * months  # (horizon,) month numbers
        if _months(array) is not None and array[-1] != start.astype(array.dtype):  # month ends
            target = (target + 1).astype("datetime64[D]") - 1
        result: np.ndarray = target.astype(array.dtype)
        return result
    later: np.ndarray = array[-1] + ahead * step
    return later


def rows_at(name: str, stamps: np.ndarray, wanted: np.ndarray) -> slice:
    """The rows of ``stamps`` (increasing) whose stamps are ``wanted`` (consecutive ones), as a slice.

    ``name`` says whose stamps they are, in the message of the error.

    Raises:
        ValueError: ``stamps`` lacks one of them; the message names the
            first stamp expected and the stamps given.

    Example:
        >>> days = np.arange("2024-01-01", "2024-01-06", dtype="datetime64[D]")
        >>> rows_at("`future`", days, days[2:4])
        slice(2, 4, None)
    """
    start = np.flatnonzero(stamps == wanted[0])
    rows = slice(int(start[0]), int(start[0]) + wanted.size) if start.size else slice(0, 0)
    if not np.array_equal(stamps[rows], wanted):
        msg = (
            f"{name} must have rows at the {wanted.size} step(s) after the history, from {wanted[0]} to "
            f"{wanted[-1]}; got {stamps.size} row(s) from {stamps[0]} to {stamps[-1]}"
        )
        raise ValueError(msg)
    return rows


def fill_gaps(
    stamps: object, values: object, *, step: np.timedelta64 | None = None, how: str = "ffill"
) -> tuple[np.ndarray, np.ndarray]:
    """Put in the stamps missing from a regular rhythm and fill their values.

    Args:
        stamps: ``(time,)`` time stamps, strictly increasing.
        values: ``(time,)`` or ``(time, features)``, one row per stamp.
        step: The rhythm: a duration, or months (``np.timedelta64(1, "M")``).
            Default: the smallest gap between consecutive stamps (in months
            for stamps on month starts or ends).
        how: ``"ffill"`` (repeat the last value) or ``"interpolate"`` (linear in time).

    Returns:
        ``(stamps, values)`` with the missing rows added.

    Example:
        >>> days, values = fill_gaps(["2024-01-01", "2024-01-03", "2024-01-04"], [1.0, 3.0, 4.0], how="interpolate")
        >>> [str(d) for d in days], values.tolist()
        (['2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04'], [1.0, 2.0, 3.0, 4.0])
    """
    array = as_stamps("stamps", stamps)
    data = np.asarray(values, dtype=np.float64)
    if data.shape[:1] != array.shape:
        msg = f"`values` must have one row per stamp ({array.size}), got shape {data.shape}"
        raise ValueError(msg)
    if how not in ("ffill", "interpolate"):
        msg = f"`how` must be 'ffill' or 'interpolate', got {how!r}"
        raise ValueError(msg)
    months = _months(array)
    calendar = step is not None and np.datetime_data(step)[0] in ("M", "Y")
    if months is not None and (step is None or calendar):
        positions = months - months[0]
        every = int(step.astype("timedelta64[M]").astype(np.int64)) if step is not None else None
        every = every or (int(np.diff(positions).min()) if array.size > 1 else 1)
        full = np.arange(0, int(positions[-1]) + 1, every)
        later = future_stamps(array[:1], full.size - 1, np.timedelta64(every, "M")) if full.size > 1 else array[:0]
        new_stamps = np.concatenate([array[:1], later])
    else:
        unit = array.dtype.str.replace("M8", "m8")
        positions = (array - array[0]).astype(np.int64)
        every = int(step.astype(unit).astype(np.int64)) if step is not None else None
        every = every or (int(np.diff(positions).min()) if array.size > 1 else 1)
        full = np.arange(0, int(positions[-1]) + 1, every)
        new_stamps = array[0] + full.astype(unit)
    if not np.isin(positions, full).all():
        msg = f"`stamps` must fall on a regular grid of step {step if step is not None else every} from {array[0]}"
        raise ValueError(msg)
    flat = data.reshape(array.size, -1)
    if how == "interpolate":
        filled = np.stack([np.interp(full, positions, column) for column in flat.T], axis=1)
    else:
        where = np.searchsorted(positions, full, side="right") - 1
        filled = flat[where]
    return new_stamps, filled.reshape((full.size, *data.shape[1:]))


def calendar_features(stamps: object, features: Sequence[str] = ("hour", "dayofweek", "month")) -> np.ndarray:
    """Sine and cosine encodings of calendar positions: covariates known for any future time.

    Each feature ``f`` with period ``P`` (hour 24, dayofweek 7 with Monday
    0, dayofmonth 31, dayofyear 366, month 12) gives two columns,
    ``sin(2π f / P)`` and ``cos(2π f / P)``, so the end of a cycle lies next
    to its start.

    Args:
        stamps: ``(time,)`` time stamps (any ``datetime64`` unit, a pandas
            ``DatetimeIndex``, ISO strings).
        features: Names among ``hour``, ``dayofweek``, ``dayofmonth``, ``dayofyear``, ``month``.

    Returns:
        ``(time, 2 * len(features))`` float32: ``[sin f1, cos f1, sin f2, cos f2, ...]``.

    Raises:
        ValueError: An unknown feature name.

    Example:
        >>> import numpy as np
        >>> days = np.arange("2024-01-01", "2024-01-08", dtype="datetime64[D]")  # Monday to Sunday
        >>> calendar_features(days, ["dayofweek"]).shape
        (7, 2)
        >>> calendar_features(days, ["dayofweek"])[0].round(3).tolist()  # Monday: position 0
        [0.0, 1.0]
    """
    array = np.asarray(stamps)
    if array.dtype.kind != "M":
        array = as_stamps("stamps", stamps)
    columns = []
    for feature in features:
        if feature not in _PERIODS:
            msg = f"`features` must name calendar features among {', '.join(CALENDAR_FEATURES)}, got {feature!r}"
            raise ValueError(msg)
        days = array.astype("datetime64[D]")
        if feature == "hour":
            position = array.astype("datetime64[h]").astype(np.int64) % 24
        elif feature == "dayofweek":
            position = (days.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
        elif feature == "dayofmonth":
            position = (days - days.astype("datetime64[M]")).astype(np.int64)
        elif feature == "dayofyear":
            position = (days - days.astype("datetime64[Y]")).astype(np.int64)
        else:
            position = array.astype("datetime64[M]").astype(np.int64) % 12
        angle = 2 * np.pi * position / _PERIODS[feature]
        columns += [np.sin(angle), np.cos(angle)]
    return np.stack(columns, axis=-1).astype(np.float32) if columns else np.zeros((array.size, 0), np.float32)
