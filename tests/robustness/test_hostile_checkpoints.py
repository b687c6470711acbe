"""Small checkpoints that ask for huge work, bad numbers or a hang: one line, exit 2, little memory.

Each case runs ``gan-music generate --checkpoint FILE``: in this process where only the output
matters, in a subprocess where memory or a hang is the point.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import hostile_files as hostile
import numpy as np
import pytest

from gan_music.cli import main

pytest.importorskip("mido")

MEMORY_BOUND_MB = 400  #: generous: the command needs about 50 MB; the bomb inflates to 512 MB


def run_generate(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "gan_music", "generate", "--out", str(tmp_path / "out.mid")]
    return subprocess.run(
        [*command, "--seed", "0", *options],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_refused(result: subprocess.CompletedProcess[str], tmp_path: Path, *words: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("gan-music: error: ")
    assert result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr
    for word in words:
        assert word in result.stderr
    assert not (tmp_path / "out.mid").exists()


def unclosed_header() -> bytes:
    """A ``.npy`` member whose header dict stops inside ``(`` (numpy's reader: tokenize.TokenError)."""
    good = hostile.npy_header("<f4", (147,))
    text = b"{'descr': '<f4', 'fortran_order': False, 'shape': (147,"
    header = good[:8] + (len(good) - 10).to_bytes(2, "little") + text.ljust(len(good) - 11) + b"\n"
    return header + bytes(147 * 4)


HOSTILE: dict[str, tuple[Callable[[Path], Path], tuple[str, ...]]] = {
    "dilations-200000": (
        lambda p: hostile.config_file(p, g_dilations=[1] * 200_000),
        ("'config' is a text of", "characters"),
    ),
    "channels-30000": (
        lambda p: hostile.config_file(p, g_channels=30_000),
        ("g_channels is 30000, outside the accepted 1 to 512",),
    ),
    "dilation-1e9": (
        lambda p: hostile.config_file(p, g_dilations=[10**9]),
        ("g_dilations [0] is 1000000000",),
    ),
    "negative-head": (lambda p: hostile.config_file(p, head_channels=-1), ("head_channels is -1",)),
    "negative-dilation": (
        lambda p: hostile.config_file(p, g_dilations=[-2]),
        ("g_dilations [0] is -2",),
    ),
    "nan-slope": (lambda p: hostile.config_file(p, slope=float("nan")), ("slope is nan",)),
    "header-1e12": (
        lambda p: hostile.model_file(p, {"g/lift.bias": hostile.npy_header("<f4", (10**12,))}),
        ("claims 1,000,000,000,000 values",),
    ),
    "header-truncated": (
        lambda p: hostile.model_file(p, {"g/lift.bias": hostile.npy_header("<f4", (147,))[:30]}),
        ("damaged or truncated .npy header",),
    ),
    "header-unclosed": (
        lambda p: hostile.model_file(p, {"g/lift.bias": unclosed_header()}),
        ("damaged or truncated .npy header",),
    ),
    "nan-weight": (
        lambda p: hostile.weights_file(p, lambda w: np.full_like(w, np.nan)),
        ("NaN or infinite",),
    ),
    "inf-weight": (
        lambda p: hostile.weights_file(p, lambda w: np.full_like(w, np.inf)),
        ("NaN or infinite",),
    ),
    "complex-weight": (
        lambda p: hostile.weights_file(p, lambda w: w.astype(np.complex64)),
        ("complex numbers",),
    ),
    "string-weight": (
        lambda p: hostile.weights_file(p, lambda w: w.astype(str)),
        ("holds text, not real numbers",),
    ),
    "unknown-member": (
        lambda p: hostile.model_file(p, {"g/extra": hostile.npy_bytes(np.zeros(3, np.float32))}),
        ("'g/extra', which this model has no use for",),
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_checkpoint_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    build, words = HOSTILE[case]
    path = build(tmp_path / f"{case}.npz")
    assert path.stat().st_size < 2**20  # small files, every one
    out = tmp_path / "out.mid"
    status = main(["generate", "--checkpoint", str(path), "--out", str(out), "--seed", "0"])
    result = subprocess.CompletedProcess([], status, "", capsys.readouterr().err)
    assert_refused(result, tmp_path, path.name, *words)


def test_the_small_model_file_itself_is_accepted(tmp_path: Path) -> None:
    """The hostile files are this file with one change: without the change it harmonises."""
    path = hostile.model_file(tmp_path / "model.npz")
    result = run_generate(tmp_path, "--checkpoint", str(path))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out.mid").exists()


def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    bomb = hostile.zip_bomb(tmp_path / "bomb.npz", inflated_mib=512)
    assert bomb.stat().st_size < 2 * 2**20
    script = textwrap.dedent(
        f"""
        import resource, subprocess, sys
        result = subprocess.run(
            [sys.executable, "-m", "gan_music", "generate", "--checkpoint", {str(bomb)!r},
             "--out", {str(tmp_path / "out.mid")!r}, "--seed", "0"],
            capture_output=True, text=True,
        )
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        print(result.returncode, peak)
        sys.stderr.write(result.stderr)
        """
    )
    measured = subprocess.run(
        [sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=300
    )
    status, peak_kib = (int(word) for word in measured.stdout.split())
    assert status == 2, measured.stderr
    assert measured.stderr.count("\n") == 1
    assert "would inflate to 512 MB, more than the 256 MB" in measured.stderr
    scale = 1 if sys.platform.startswith("linux") else 1024  # macOS reports bytes
    assert peak_kib / scale / 1024 < MEMORY_BOUND_MB


def test_the_bomb_is_real(tmp_path: Path) -> None:
    """The bomb inflates to its full size with numpy's reader: it would cost the memory."""
    bomb = hostile.zip_bomb(tmp_path / "bomb.npz", inflated_mib=300)
    with np.load(bomb) as archive:
        assert archive["padding"].nbytes > 299 * 2**20


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
@pytest.mark.parametrize("option", ["--checkpoint", "--melody"])
def test_a_fifo_is_refused_at_once(tmp_path: Path, option: str) -> None:
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    result = run_generate(tmp_path, option, str(fifo))  # timeout=300 guards the hang
    assert_refused(result, tmp_path, "is not a regular file")


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
@pytest.mark.parametrize("option", ["--checkpoint", "--melody"])
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_at_once(tmp_path: Path, option: str, device: str) -> None:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = run_generate(tmp_path, option, device)
    assert_refused(result, tmp_path, device, "is not a regular file")
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss <= max(before, 400 * 1024)
