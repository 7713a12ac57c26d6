"""Run the benchmarks: `python -m bench` (or `make bench`), or some of them by name:
`python -m bench sweep fanout`; `python -m bench inbound --profile` adds a cProfile of the pipeline.

Sizes and scales (environment): BENCH_INBOUND_N (300), BENCH_BURST_N (500), BENCH_SWEEP_BIG (1_000_000),
BENCH_FANOUT_N (1000), BENCH_FANOUT_SCALE (20), BENCH_MEMORY_TASKS (100_000).
"""
from __future__ import annotations

import os
import platform
import sys
import time

from bench import burst, fanout, inbound, inbound_slack, memory, pages, statements, sweep, workers

BENCHMARKS = {"inbound": inbound, "inbound_slack": inbound_slack, "burst": burst, "sweep": sweep, "fanout": fanout,
              "memory": memory, "workers": workers, "statements": statements, "pages": pages}


def summary(results, elapsed: float) -> None:
    rows = [("benchmark", "figure", "baseline (same run)", "goal", "", "note")]
    rows += [(r.name, r.figure, r.baseline, r.goal, r.verdict, r.note) for r in results]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    print(f"\n== summary ({os.cpu_count()} cores, Python {platform.python_version()}, {elapsed:.0f} s) ==")
    for n, row in enumerate(rows):
        print("  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[5])
        if n == 0:
            print("  " + "  ".join("-" * width for width in widths) + "  " + "-" * 4)


def main(argv: list[str]) -> None:
    names = [a for a in argv if not a.startswith("-")] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark {unknown}; choose from {list(BENCHMARKS)}")
    start = time.monotonic()
    results = []
    for name in names:
        if name == "inbound":
            results += inbound.main(profile="--profile" in argv)
        else:
            results += BENCHMARKS[name].main()
        print()
    summary(results, time.monotonic() - start)


if __name__ == "__main__":
    main(sys.argv[1:])
