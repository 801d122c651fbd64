"""Doctests that show an optional extra skip cleanly on a machine without it.

An example that uses pandas (``to_frame``, ``from_frame``) needs the
``frames`` extra; one that exports or streams ONNX needs the ``onnx`` extra.
"""

from __future__ import annotations

import importlib.util

import pytest

# a word in an example -> the packages it needs
_EXTRAS = {
    "pandas": ("pandas",),
    "to_frame": ("pandas",),
    "from_frame": ("pandas",),
    "onnx": ("onnx", "onnxruntime"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if not isinstance(item, pytest.DoctestItem) or item.dtest is None:
            continue
        source = "".join(example.source for example in item.dtest.examples).lower()
        missing = sorted(
            {package for word, packages in _EXTRAS.items() if word in source for package in packages}
            - {package for package in ("pandas", "onnx", "onnxruntime") if importlib.util.find_spec(package)}
        )
        if missing:
            item.add_marker(pytest.mark.skip(reason=f"the example needs {', '.join(missing)} (an optional extra)"))
