"""The commands that need no data file: ``seqforecast demo`` (the notebook's forecasters compared on a sine
wave) and ``seqforecast shapes`` (a forward pass, stage by stage)."""

from __future__ import annotations

import argparse
from pathlib import Path

from seqforecast._cli_files import UsageError, check_writable, need_matplotlib
from seqforecast._cli_heads import head_options
from seqforecast._cli_models import build_model, show_progress

__all__ = ["demo_command", "shapes_command"]


def demo_command(args: argparse.Namespace) -> int:
    """Run ``seqforecast demo``; return the exit status."""
    from seqforecast.demo import format_table, run_demo

    out = None
    if args.out is not None:
        need_matplotlib("--out")
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            msg = f"--out {str(out)!r} exists and is not a folder"
            raise UsageError(msg)
        check_writable(out, "the report folder")
    results = run_demo(
        args.steps,
        args.batch_size,
        device=args.device,
        seed=args.seed,
        threads=args.threads,
        progress=show_progress(args),
    )
    print(format_table(results))
    print(
        "\nMSE is next-step error on an unseen stretch (900-1260 degrees): cold starts with no memory,"
        "\nprimed first runs 720-894 degrees through the model. 'causal' checks that changing later"
        "\ninputs leaves earlier outputs unchanged; conv-2sided is the notebook's CNN, which does not."
    )
    if out is not None:
        from seqforecast.report import write_report

        print(f"\nreport: {write_report(results, out)}")
    return 0


def shapes_command(args: argparse.Namespace) -> int:
    """Run ``seqforecast shapes``; return the exit status."""
    import torch

    from seqforecast.tracing import format_stages, trace_shapes

    model = build_model(
        args.model,
        input_size=args.input_size,
        hidden_size=args.hidden_size,
        num_layers=args.num_layers,
        window=args.window,
        batch_first=not args.time_first,
        head=head_options(args),
    )
    shape = (args.seq_length, args.batch_size) if args.time_first else (args.batch_size, args.seq_length)
    print(format_stages(trace_shapes(model, torch.zeros(*shape, args.input_size))))
    return 0
