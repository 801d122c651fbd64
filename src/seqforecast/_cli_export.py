"""``seqforecast export``: a checkpoint as an ONNX graph for the torch-free runtime."""

from __future__ import annotations

import argparse
import importlib.util
from typing import Any

from seqforecast._cli_files import UsageError, check_readable, output_file
from seqforecast.checkpoint import load as load_checkpoint
from seqforecast.export import export_onnx

__all__ = ["add_export_command"]


def add_export_command(commands: argparse._SubParsersAction[Any]) -> None:
    """Register ``export`` on the ``seqforecast`` command's subparsers."""
    export = commands.add_parser(
        "export",
        help="write a checkpoint as an ONNX graph for the torch-free runtime",
        description="Write a checkpoint (explicit or --model auto) as one ONNX graph with the model's state as "
        "inputs and outputs and its transforms in the metadata; seqforecast.runtime streams from it with NumPy "
        "and onnxruntime only. Needs the onnx extra: pip install 'seqforecast[onnx]'.",
    )
    export.add_argument("model", help="checkpoint written by 'seqforecast train'")
    export.add_argument("out", help="the ONNX file to write (*.onnx)")
    export.add_argument("--opset", type=int, help="ONNX opset, 14 to 20 (default 17)")
    export.set_defaults(run=_export)


def _shape(shape: list[Any]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _export(args: argparse.Namespace) -> int:
    check_readable(args.model, "the model")
    out = output_file(args.out, "the ONNX model", inputs=[args.model], formats=("onnx",))
    if importlib.util.find_spec("onnx") is None:
        msg = "exporting needs the onnx package: pip install 'seqforecast[onnx]'"
        raise UsageError(msg)
    info = export_onnx(load_checkpoint(args.model), out, opset=args.opset)
    model, io, transform = info["model"], info["io"], info["transform"]
    steps = [
        *([f"seasonal differences (period {transform['season']})"] if transform["season"] else []),
        *(["first differences"] if transform["difference"] else []),
        *(["scaling"] if transform["scale"] is not None else []),
    ]
    print(f"wrote {out}: {model['class']}")
    print("  inputs:  " + ", ".join(f"{i['name']} {_shape(i['shape'])}" for i in io["inputs"]))
    print("  outputs: " + ", ".join(f"{o['name']} {_shape(o['shape'])}" for o in io["outputs"]))
    print(f"  transforms: {', '.join(steps) or 'none'}")
    if info["start"] is not None:
        print("  starts after the data the forecaster saw last")
    return 0
