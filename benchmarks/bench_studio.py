"""The studio in a real browser: Harmonise click to a new, playable piano roll, and page load.

Run from the repository root, in an environment with the package, its ``studio`` extra and
playwright installed, and Debian's Chromium at /usr/bin/chromium::

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_studio.py

It serves the studio on 127.0.0.1 (port 0) in this process, drives headless Chromium with
Playwright, prints the table and writes it into docs/benchmarks.md between the
``studio-benchmark`` markers (``benchmarks/run.py`` keeps that section when it rewrites the
page). ``--out FILE`` writes elsewhere, ``--no-write`` nowhere.

What is measured:

- **Harmonise**: the page itself times each run, from the start of the click handler to the
  second animation frame after the four-voice roll is drawn and Play is enabled (the frame
  after the one that paints it), for an 8-bar melody (Ode to Joy, 4/4, 128 sixteenths). Two
  warm-up clicks, then 20 measured ones, each with another seed; the median is reported.
- **Server share**: the same harmonise call straight in Python (melody check, model,
  decoder, JSON), median of 20, to show how much of the click is the model.
- **Page load**: 20 fresh browser contexts (no cache, no cookie), each from ``goto`` of the
  address with the token to the page ready: the HTML, CSS and script loaded, the model's
  settings and the example list fetched, the first example drawn.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from pathlib import Path

import machine
from report import Goal, Table, _row
from timing import format_seconds

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the browser set-up the studio's tests use
from chromium import CHROMIUM, MISSING, launch

DEFAULT_OUT = ROOT / "docs" / "benchmarks.md"
COMMAND = "env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_studio.py"
START = "<!-- studio-benchmark:start -->"
END = "<!-- studio-benchmark:end -->"
HARMONISE_GOAL_MS = 300.0
LOAD_GOAL_MS = 1000.0
MELODY = "ode-to-joy"  #: 8 bars of 4/4


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="measured runs of each (default 20)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="Markdown page to update")
    parser.add_argument("--no-write", action="store_true", help="print only")
    return parser.parse_args(argv)


def measure(runs: int) -> dict[str, list[float]]:
    """Milliseconds per run: harmonise in the page, harmonise in Python, page load."""
    from playwright.sync_api import sync_playwright

    from gan_music.generate import load_model
    from gan_music.studio import api
    from gan_music.studio.examples import example_melody
    from gan_music.studio.server import Studio, running

    model = load_model()
    melody = example_melody(MELODY)
    server_ms = []
    for seed in range(runs + 2):
        started = time.perf_counter()
        json.dumps(api.harmony_to_json(api.harmonise(model, melody, seed), melody, seed, None))
        server_ms.append((time.perf_counter() - started) * 1000)
    studio = Studio(model=model)
    with running(studio), sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            load_ms = []
            for _ in range(runs + 1):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                page = context.new_page()
                page.set_default_timeout(300_000)  # a busy machine: report, never give up
                started = time.perf_counter()
                page.goto(studio.url)
                page.wait_for_selector("body[data-ready=true]", timeout=300_000)
                load_ms.append((time.perf_counter() - started) * 1000)
                print(f"  page load {len(load_ms)}: {load_ms[-1]:.0f} ms", flush=True)
                context.close()
            context = browser.new_context(viewport={"width": 1280, "height": 800})
            page = context.new_page()
            page.set_default_timeout(300_000)
            page.goto(studio.url)
            page.wait_for_selector("body[data-ready=true]", timeout=300_000)
            page.select_option("#example", MELODY)
            page.click("#load-example")
            page.wait_for_selector("#melody-name:has-text('Ode to Joy')")
            click_ms = []
            for run in range(runs + 2):
                page.fill("#seed", str(run))
                page.click("#harmonise")
                page.wait_for_selector(f"body[data-harmony-count='{run + 1}']", timeout=300_000)
                assert not page.is_disabled("#play")
                click_ms.append(float(page.get_attribute("body", "data-harmony-ms") or "nan"))
                print(f"  harmonise {run + 1}: {click_ms[-1]:.0f} ms", flush=True)
            context.close()
        finally:
            browser.close()
    return {
        "click": click_ms[2:],
        "server": server_ms[2:],
        "load": load_ms[1:],
    }


def table(results: dict[str, list[float]]) -> Table:
    """The results as a report table with the issue's goals."""
    rows = Table("Studio: in headless Chromium", ["measure", "median", "range", "runs"])

    def cells(name: str, values: list[float]) -> list[str]:
        return [
            name,
            f"{statistics.median(values):.0f} ms",
            f"{min(values):.0f}-{max(values):.0f} ms",
            str(len(values)),
        ]

    click = statistics.median(results["click"])
    load = statistics.median(results["load"])
    rows.add(
        cells("Harmonise click to the new roll drawn and playable, 8 bars", results["click"]),
        Goal(f"at most {HARMONISE_GOAL_MS:.0f} ms", met=click <= HARMONISE_GOAL_MS),
    )
    rows.add(
        cells("of which the harmonise call in Python (model, decoder, JSON)", results["server"])
    )
    rows.add(
        cells("page load to ready (fresh context, first example drawn)", results["load"]),
        Goal(f"< {LOAD_GOAL_MS:.0f} ms", met=load < LOAD_GOAL_MS),
    )
    rows.notes.append(
        "The click is timed by the page (`performance.now()` from the click handler to the "
        "second animation frame after drawing); the melody is Ode to Joy, 8 bars of 4/4, "
        "after two warm-up clicks, each run with another seed. Page load is timed from "
        "Playwright's `goto` to the page's ready mark."
    )
    return rows


def section(rows: Table, facts: list[tuple[str, str]], runtime: str) -> str:
    """The Markdown section for docs/benchmarks.md, between its markers."""
    lines = [
        START,
        "",
        "## Studio",
        "",
        (
            "Measured by `benchmarks/bench_studio.py` (not part of `nox -s bench`: it needs "
            "Chromium and Playwright). Regenerate with:"
        ),
        "",
        "```console",
        f"$ {COMMAND}",
        "```",
        "",
        "| what | value |",
        "| -- | -- |",
    ]
    lines += [_row([key, value]) for key, value in facts]
    lines += ["", rows.markdown(), "", f"The run took {runtime}.", ""]
    lines.append(END)
    return "\n".join(lines)


def replace_section(page: str, new: str) -> str:
    """``page`` with its studio section replaced by ``new``, or ``new`` appended."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    if pattern.search(page):
        return pattern.sub(lambda _: new, page)
    return page.rstrip("\n") + "\n\n" + new + "\n"


def kept_section(path: Path) -> str:
    """The studio section of the page at ``path``, or "" (for benchmarks/run.py)."""
    if not path.is_file():
        return ""
    found = re.search(
        re.escape(START) + ".*?" + re.escape(END), path.read_text(encoding="utf-8"), re.DOTALL
    )
    return found.group(0) if found else ""


def main(argv: list[str] | None = None) -> int:
    """Measure, print, write; returns the exit status."""
    args = parse_args(argv)
    if not CHROMIUM.exists():
        print(MISSING, file=sys.stderr)
        return 2
    started = time.perf_counter()
    meter = machine.CpuMeter()
    load_before = machine.load_average()
    results = measure(args.runs)
    runtime = format_seconds(time.perf_counter() - started)
    facts = [
        ("CPU", machine.cpu_model()),
        ("cores", f"{os.cpu_count()} logical"),
        ("browser", _chromium_version()),
        ("load average at start / end", f"{load_before}; {machine.load_average()}"),
        ("CPU used by other processes during the run", meter.others()),
        *((name, os.environ.get(name, "not set")) for name in machine.BLAS_VARIABLES),
    ]
    rows = table(results)
    text = section(rows, facts, runtime)
    print(text)
    if not args.no_write:
        page = args.out.read_text(encoding="utf-8") if args.out.is_file() else ""
        args.out.write_text(replace_section(page, text), encoding="utf-8")
        print(f"\nwrote {args.out}")
    return 0


def _chromium_version() -> str:
    import subprocess

    try:
        out = subprocess.run(
            [CHROMIUM, "--version"], capture_output=True, text=True, timeout=30, check=False
        ).stdout
    except OSError:
        return "unknown"
    return out.strip().splitlines()[-1] if out.strip() else "unknown"


if __name__ == "__main__":
    sys.exit(main())
