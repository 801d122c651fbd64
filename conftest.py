"""The doctests of the ONNX modules need the ``onnx`` extra; without it they are not collected."""

from __future__ import annotations

import importlib.util

collect_ignore = (
    []
    if importlib.util.find_spec("onnx") and importlib.util.find_spec("onnxruntime")
    else ["src/seqforecast/export.py", "src/seqforecast/runtime.py"]
)
