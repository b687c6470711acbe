"""Training killed without warning (SIGKILL) resumes exactly where its last checkpoint left it."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gan_music.checkpoint import load_checkpoint

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

# A tiny network that checkpoints every 5 steps, so the test takes seconds. Both runs have
# the same total, so the same schedule (learning-rate decay, start of the game); the run to
# be killed slows down after step 10, so it is still training when the test kills it.
STEPS = 40
TRAIN = """
import sys, time
from gan_music.models import ModelConfig
from gan_music.train import TrainConfig, train
model = ModelConfig(
    g_channels=8, g_dilations=(1, 2), h_dilations=(1, 2), head_channels=8,
    d_channels=8, d_dilations=(1,), window_steps=16,
)
config = TrainConfig(steps=int(sys.argv[2]), batch_size=4, checkpoint_every=5, model=model)
slow = sys.argv[3] == "slow"
def crawl(info):
    if slow and info.step >= 10:
        time.sleep(1.0)
train(sys.argv[1], config=config, seed=11, on_step=crawl)
"""


def start_training(run_dir: Path, *, slow: bool) -> subprocess.Popen[bytes]:
    pace = "slow" if slow else "fast"
    return subprocess.Popen([sys.executable, "-c", TRAIN, str(run_dir), str(STEPS), pace])


def loss_rows(path: Path) -> list[list[str]]:
    """The CSV rows without the elapsed-time column, which differs between runs."""
    with path.open(newline="") as handle:
        return [row[:-1] for row in csv.reader(handle)]


def test_sigkill_then_resume_gives_the_uninterrupted_history(tmp_path: Path) -> None:
    killed = tmp_path / "killed"
    process = start_training(killed, slow=True)
    checkpoint = killed / "checkpoint.npz"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if checkpoint.exists() and int(load_checkpoint(checkpoint).arrays["step"]) >= 10:
                break
            time.sleep(0.05)
        else:
            pytest.fail("training wrote no checkpoint at step 10 within two minutes")
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL

    # What SIGKILL left behind is whole: the checkpoint loads, the CSV parses.
    step_at_kill = int(load_checkpoint(checkpoint).arrays["step"])
    assert step_at_kill >= 10
    assert step_at_kill % 5 == 0
    assert len(loss_rows(killed / "losses.csv")) >= 1

    # A kill in the middle of a write leaves its temporary file; plant one to be sure.
    (killed / ".gm-killed00.tmp").write_bytes(b"half a checkpoint")  # atomic_path's naming
    resumed = subprocess.run(
        [sys.executable, "-m", "gan_music", "train", "--out", killed, "--resume"],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert not [p.name for p in killed.iterdir() if p.name.endswith(".tmp")]

    reference = tmp_path / "reference"
    straight = start_training(reference, slow=False)
    assert straight.wait(timeout=300) == 0
    assert loss_rows(killed / "losses.csv") == loss_rows(reference / "losses.csv")
    assert len(loss_rows(reference / "losses.csv")) == 1 + STEPS
    # The game (critic columns filled in) is part of what resumed exactly.
    assert loss_rows(reference / "losses.csv")[-1][2] != "nan"
