"""Debian's Chromium under Playwright, for the studio's browser tests and its benchmark.

Playwright cannot download a browser here, so it drives the one apt-get installs, headless,
with the flags a root user and a machine without a network need.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
MISSING = (
    f"no browser at {CHROMIUM}: install Debian's with `apt-get install chromium` "
    "(CI's .ci/run does) to run the studio's browser tests"
)
LAUNCH_ARGS = [
    "--no-sandbox",  # needed as root
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",  # no connections to a closed network
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
]


def launch(playwright: Any) -> Any:
    """A headless Chromium browser from ``sync_playwright()``."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
