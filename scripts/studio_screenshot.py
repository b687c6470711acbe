"""Redraw docs/assets/studio.png: the studio in headless Chromium, Ode to Joy harmonised.

Needs the package with its ``studio`` extra, playwright, pillow (matplotlib brings it) and
Debian's Chromium: ``python scripts/studio_screenshot.py [--out FILE] [--width 1280]``.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # the browser set-up of the studio's tests
from chromium import CHROMIUM, MISSING, launch


def main(argv: list[str] | None = None) -> int:
    """Take the screenshot and write it as a small palette PNG."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "assets" / "studio.png")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args(argv)
    if not CHROMIUM.exists():
        print(MISSING, file=sys.stderr)
        return 2
    from PIL import Image
    from playwright.sync_api import sync_playwright

    from gan_music.generate import load_model
    from gan_music.studio.server import Studio, running

    studio = Studio(model=load_model())
    with running(studio), sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page(viewport={"width": args.width, "height": args.height})
            page.set_default_timeout(120_000)
            page.goto(studio.url)
            page.wait_for_selector("body[data-ready=true]", timeout=60_000)
            page.select_option("#example", "ode-to-joy")
            page.click("#load-example")
            page.wait_for_selector("#melody-name:has-text('Ode to Joy')")
            page.fill("#seed", "3")
            page.click("#harmonise")
            page.wait_for_selector("body[data-harmony-count='1']", timeout=60_000)
            png = page.screenshot(full_page=True)
        finally:
            browser.close()
    picture = Image.open(io.BytesIO(png)).convert("RGB").quantize(colors=64)
    picture.save(args.out, optimize=True)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
