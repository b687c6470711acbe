"""Peak memory and time of ``gan-music generate`` on the hostile files of docs/robustness.md.

Builds the files with ``tests/robustness/hostile_files.py`` (the 4 GiB zip bomb, the huge
configurations, the 200,000-tempo-event MIDI file) in a temporary folder, runs the installed
command on each in a fresh interpreter and prints a Markdown table: exit status, wall time, peak
resident memory (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` of a small wrapper, so the
figure is the command's own) and the last line of stderr. Each run has a time limit, because the
point is to show what a version without the checks does too::

    python benchmarks/hostile_inputs.py             # every case, 600 s limit each
    python benchmarks/hostile_inputs.py --timeout 120 bomb channels-30000

Run it on a quiet machine: it uses up to one core and, against an unprotected version, many GB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CASES = {  # case -> (option, file name) as hostile_files.main writes them
    "bomb": ("--checkpoint", "bomb.npz"),
    "dilations-200000": ("--checkpoint", "dilations-200000.npz"),
    "channels-30000": ("--checkpoint", "channels-30000.npz"),
    "dilation-1e9": ("--checkpoint", "dilation-1e9.npz"),
    "header-1e12": ("--checkpoint", "header-1e12.npz"),
    "nan-weight": ("--checkpoint", "nan-weight.npz"),
    "tempo-40000": ("--melody", "tempo-40000.mid"),
    "tempo-200000": ("--melody", "tempo-200000.mid"),
}
WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
try:
    done = subprocess.run(sys.argv[2:], capture_output=True, text=True, timeout=float(sys.argv[1]))
    status, err = str(done.returncode), done.stderr
except subprocess.TimeoutExpired:
    status, err = "killed at the time limit", ""
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
lines = err.strip().splitlines()
print(json.dumps([status, time.perf_counter() - start, peak / 1024, lines[-1] if lines else ""]))
"""


def measure(option: str, path: Path, out: Path, timeout: float) -> list[object]:
    """``[exit status, wall s, peak MB, last stderr line]`` of one ``gan-music generate``."""
    command = [sys.executable, "-m", "gan_music", "generate", option, str(path)]
    command += ["--out", str(out), "--seed", "0", "--force"]
    done = subprocess.run(
        [sys.executable, "-c", WRAPPER, str(timeout), *command],
        check=True,
        capture_output=True,
        text=True,
    )
    result: list[object] = json.loads(done.stdout)
    return result


def main() -> None:
    """Build the files, run the chosen cases, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help=f"some of {', '.join(CASES)} (default: all)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per run")
    args = parser.parse_args()
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        parser.error(f"unknown cases {unknown}: choose from {list(CASES)}")
    sys.path.insert(0, str(ROOT / "tests" / "robustness"))
    import hostile_files  # type: ignore[import-not-found]

    with tempfile.TemporaryDirectory() as folder:
        hostile_files.main(folder)
        print("| case | exit | wall (s) | peak RSS (MB) | last line of stderr |")
        print("| -- | -- | --: | --: | -- |")
        for case in args.cases or CASES:
            option, name = CASES[case]
            status, wall, peak, line = measure(
                option, Path(folder) / name, Path(folder) / "out.mid", args.timeout
            )
            shown = str(line).replace(folder + "/", "").replace("|", "/")[:140]
            print(f"| {case} | {status} | {wall:.1f} | {peak:.0f} | {shown} |", flush=True)


if __name__ == "__main__":
    main()
