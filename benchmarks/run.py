"""Run every benchmark and write docs/benchmarks.md: ``python benchmarks/run.py [--quick]``.

Meant to run through ``python -m nox -s bench``, which installs the built wheel, scipy,
mpmath, threadpoolctl and the CPU build of PyTorch in a fresh environment and runs this
without ``OPENBLAS_CORETYPE`` and ``OPENBLAS_L2_SIZE``, as on a user's machine. Run
directly, it uses whatever the current interpreter and environment have, and says so.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import bench_distributions
import bench_footprint
import bench_gan
import bench_studio
import blas_peak
import machine
import report
from timing import format_seconds

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
COMMAND = "python -m nox -s bench"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="skip the full training run (minutes) and write nothing unless --out is given",
    )
    parser.add_argument("--out", type=Path, help=f"Markdown file to write (default: {DEFAULT_OUT})")
    parser.add_argument("--wheel", type=Path, help="the built wheel, for its size")
    parser.add_argument("--import-runs", type=int, default=21, help="interpreters per import")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks, print the tables, write the page; returns the exit status."""
    args = parse_args(argv)
    started = time.perf_counter()
    meter = machine.CpuMeter()
    facts = machine.describe()
    for key, value in facts:
        print(f"{key}: {value}")
    if "source tree" in dict(facts)["binomial-gan-music"]:
        print("warning: measuring the source tree, not an installed wheel", file=sys.stderr)
    forced = [f"{k}={v}" for k, v in machine.caller_variables().items() if k in os.environ]
    if forced:
        print(
            f"warning: measuring with {' '.join(forced)}, not as a user's machine would: "
            "run `python -m nox -s bench`, which removes them",
            file=sys.stderr,
        )
    threads = machine.blas_threads()
    print("\nsgemm peak", flush=True)
    peak_rows, peak = blas_peak.machine_rows()
    for key, value in peak_rows:
        print(f"{key}: {value}", flush=True)
    facts += peak_rows

    print("\nGAN", flush=True)
    gan, training = bench_gan.run(
        quick=args.quick, threads=threads, peak_gflops=peak.median, echo=True
    )
    print("\nDistributions", flush=True)
    distributions = bench_distributions.run(echo=True)
    print("\nFootprint", flush=True)
    footprint = bench_footprint.run(
        wheel=args.wheel,
        peak_bytes=training.peak_rss_bytes if training else None,
        import_runs=args.import_runs,
        echo=True,
    )
    facts.append(("load average at end", machine.load_average()))
    facts.append(("CPU used by other processes during the run", meter.others()))
    runtime = format_seconds(time.perf_counter() - started)
    command = COMMAND + (" -- --quick" if args.quick else "")
    page = report.page(
        machine=facts, command=command, tables=[gan, distributions, footprint], runtime=runtime
    )
    out = args.out if args.out is not None else (None if args.quick else DEFAULT_OUT)
    if out is not None:
        kept = bench_studio.kept_section(out)  # measured apart, in a browser: kept as it was
        out.write_text(page + (f"\n{kept}\n" if kept else ""), encoding="utf-8")
        print(f"\nwrote {out}")
    print(f"benchmarks took {runtime}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
