"""Run the benchmark suite: ``python -m benchmarks [--quick] [--device ...] [--only ...]``."""

from __future__ import annotations

from benchmarks.suite import main

raise SystemExit(main())
