"""Smoke-test an installed copy of the distribution: run by ``scripts/publish.py`` after install.

Usage: ``python scripts/smoke_test.py OUTPUT_FOLDER`` with the interpreter of the environment
under test, from a folder that holds no source code. It checks that both packages come from
that environment, that a binomial pmf has its known value, and that the ``gan-music`` command
writes a MIDI file. It prints one line per check and exits non-zero at the first failure.
"""

from __future__ import annotations

import math
import subprocess
import sys
import sysconfig
from pathlib import Path

# Binomial(p=0.4, n=20): P(X = 5) = C(20, 5) 0.4^5 0.6^15, the course's known answer 0.07465.
KNOWN_PMF = math.comb(20, 5) * 0.4**5 * 0.6**15


def check_installed_copy() -> str:
    """Both packages must come from this environment's site-packages."""
    import binomial_package
    import gan_music

    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    for module in (binomial_package, gan_music):
        location = Path(str(module.__file__)).resolve()
        if site not in location.parents:
            msg = f"{module.__name__} was imported from {location}, not from {site}"
            raise SystemExit(msg)
    return f"binomial_package and gan_music {gan_music.__version__} from {site}"


def check_binomial_pmf() -> str:
    """A binomial pmf against its known value."""
    from binomial_package import Binomial

    value = float(Binomial(0.4, 20).pdf(5))
    if not math.isclose(value, KNOWN_PMF, rel_tol=1e-9):
        msg = f"Binomial(0.4, 20).pdf(5) is {value}, expected {KNOWN_PMF}"
        raise SystemExit(msg)
    return f"Binomial(0.4, 20).pdf(5) = {value:.5f}"


def check_generate(out_dir: Path) -> str:
    """``gan-music generate --out song.mid`` writes a standard MIDI file."""
    command = Path(sysconfig.get_path("scripts")) / "gan-music"
    song = out_dir / "song.mid"
    run = subprocess.run(
        [str(command), "generate", "--out", str(song)], capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        msg = f"gan-music generate failed (exit {run.returncode}): {run.stderr.strip()}"
        raise SystemExit(msg)
    header = song.read_bytes()[:4] if song.is_file() else b""
    if header != b"MThd":
        msg = f"gan-music generate did not write a MIDI file at {song}"
        raise SystemExit(msg)
    return f"gan-music generate wrote {song.name} ({song.stat().st_size} bytes)"


def main() -> int:
    """Run the checks in order and print what each proved."""
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd()
    results = [check_installed_copy(), check_binomial_pmf(), check_generate(out_dir)]
    for line in results:
        print(line)
    print("smoke test passed: " + "; ".join(results[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
