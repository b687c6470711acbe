"""Training runs: outputs, reproducibility, exact resume and Ctrl-C."""

from __future__ import annotations

import csv
import os
import signal
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from gan_music.checkpoint import load_checkpoint
from gan_music.errors import GanMusicError
from gan_music.models import ModelConfig
from gan_music.train import LOSS_COLUMNS, StepInfo, TrainConfig, train

TINY = TrainConfig(
    batch_size=4,
    adv_fraction=0.5,  # half the steps play the game
    checkpoint_every=5,
    model=ModelConfig(
        g_channels=8,
        g_dilations=(1, 2),
        h_dilations=(1, 2),
        head_channels=8,
        d_channels=8,
        d_dilations=(1,),
        window_steps=16,
    ),
)


def read_losses(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def loss_columns(rows: list[dict[str, str]]) -> list[list[str]]:
    """Every column but the elapsed time, which differs between runs."""
    return [[row[c] for c in LOSS_COLUMNS if c != "elapsed_s"] for row in rows]


@pytest.mark.slow
def test_a_short_default_run_writes_every_output(tmp_path: Path) -> None:
    seen: list[StepInfo] = []
    result = train(tmp_path, steps=20, seed=3, on_step=seen.append)
    assert result.steps == 20
    assert [info.step for info in seen] == list(range(1, 21))
    assert all(info.total_steps == 20 and np.isfinite(info.g_loss) for info in seen)
    rows = read_losses(result.losses_path)
    assert list(rows[0]) == list(LOSS_COLUMNS)
    assert [int(row["step"]) for row in rows] == list(range(1, 21))
    elapsed = [float(row["elapsed_s"]) for row in rows]
    assert elapsed == sorted(elapsed)
    assert float(rows[-1]["g_ce"]) < float(rows[0]["g_ce"])  # it learns
    model = load_checkpoint(result.model_path)
    assert model.kind == "model"
    assert {name.split("/")[0] for name in model.arrays} == {"g", "d"}  # the critic played
    assert load_checkpoint(result.checkpoint_path).kind == "training"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "checkpoint.npz",
        "losses.csv",
        "model.npz",
        "run.lock",  # stays: it is locked only while a run holds it (gan_music/_lock.py)
    ]
    assert ", ended " in (tmp_path / "run.lock").read_text()  # it says the run is over


def test_same_seed_same_losses_other_seed_other_losses(tmp_path: Path) -> None:
    runs = [
        train(tmp_path / name, steps=6, seed=seed, config=TINY)
        for name, seed in [("a", 1), ("b", 1), ("c", 2)]
    ]
    a, b, c = (loss_columns(read_losses(r.losses_path)) for r in runs)
    assert a == b
    assert a != c


def test_resume_continues_with_identical_history(tmp_path: Path) -> None:
    """A run stopped at a checkpoint and resumed ends exactly as one never stopped."""

    def stop_at_5(info: StepInfo) -> None:
        if info.step == 5:
            raise KeyboardInterrupt

    straight = train(tmp_path / "straight", steps=12, seed=5, config=TINY)
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "split", steps=12, seed=5, config=TINY, on_step=stop_at_5)
    resumed = train(tmp_path / "split", resume=True)
    assert loss_columns(read_losses(resumed.losses_path)) == loss_columns(
        read_losses(straight.losses_path)
    )
    first = load_checkpoint(straight.model_path).arrays
    second = load_checkpoint(resumed.model_path).arrays
    assert all(np.array_equal(first[name], second[name]) for name in first)


def test_resume_with_more_steps_extends_the_schedule(tmp_path: Path) -> None:
    short = train(tmp_path / "a", steps=6, seed=5, config=TINY)
    rows = loss_columns(read_losses(short.losses_path))
    longer = train(tmp_path / "a", steps=10, resume=True)
    assert longer.steps == 10
    assert loss_columns(read_losses(longer.losses_path))[:6] == rows
    schedule = load_checkpoint(longer.checkpoint_path).arrays["train_config"]
    assert '"steps": 10' in str(schedule)


def test_resume_truncates_the_log_to_the_checkpoint(tmp_path: Path) -> None:
    """Steps logged after the last checkpoint are dropped on resume and done again, identically."""

    def stop_at_8(info: StepInfo) -> None:
        if info.step == 8:
            raise KeyboardInterrupt

    reference = train(tmp_path / "ref", steps=10, seed=4, config=TINY)
    with pytest.raises(KeyboardInterrupt):
        train(tmp_path / "run", steps=10, seed=4, config=TINY, on_step=stop_at_8)
    # Ctrl-C saved a checkpoint at step 8 and the CSV with it
    assert int(load_checkpoint(tmp_path / "run" / "checkpoint.npz").arrays["step"]) == 8
    assert len(read_losses(tmp_path / "run" / "losses.csv")) == 8
    assert not (tmp_path / "run" / "model.npz").exists()
    resumed = train(tmp_path / "run", resume=True)
    assert resumed.steps == 10
    assert loss_columns(read_losses(resumed.losses_path)) == loss_columns(
        read_losses(reference.losses_path)
    )


def test_resume_without_a_checkpoint_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(GanMusicError, match="nothing to resume"):
        train(tmp_path, steps=3, resume=True)


def test_non_positive_steps_are_refused(tmp_path: Path) -> None:
    with pytest.raises(GanMusicError, match="positive"):
        train(tmp_path, steps=0, config=TINY)


def test_ctrl_c_finishes_the_step_and_saves_a_checkpoint(tmp_path: Path) -> None:
    """A real SIGINT is deferred to the end of the step, then checkpointed and re-raised."""

    def press_ctrl_c(info: StepInfo) -> None:
        if info.step == 3:
            os.kill(os.getpid(), signal.SIGINT)

    with pytest.raises(KeyboardInterrupt):
        train(tmp_path, steps=10, seed=4, config=TINY, on_step=press_ctrl_c)
    assert int(load_checkpoint(tmp_path / "checkpoint.npz").arrays["step"]) == 3
    assert [int(row["step"]) for row in read_losses(tmp_path / "losses.csv")] == [1, 2, 3]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


@pytest.mark.parametrize(("floor", "updated"), [(0.0, True), (1e6, False)])
def test_a_discriminator_below_the_loss_floor_rests(floor: float, updated: bool) -> None:
    """The critic updates only while its loss is at least d_loss_floor; the generator always."""
    from gan_music.train import Trainer, TrainingData

    trainer = Trainer(replace(TINY, d_loss_floor=floor, adv_fraction=1.0), seed=0)
    data = TrainingData.cached(TINY.model.window_steps, TINY.window_hop)
    before_d = {n: p.data.copy() for n, p in trainer.discriminator.named_parameters().items()}
    before_g = {n: p.data.copy() for n, p in trainer.generator.named_parameters().items()}
    trainer.train_step(data)
    d_changed = any(
        not np.array_equal(p.data, before_d[n])
        for n, p in trainer.discriminator.named_parameters().items()
    )
    g_changed = all(
        not np.array_equal(p.data, before_g[n])
        for n, p in trainer.generator.named_parameters().items()
    )
    assert d_changed is updated
    assert g_changed


def test_the_game_starts_for_the_last_share_of_the_steps(tmp_path: Path) -> None:
    """Cross-entropy alone first (no critic columns), then both networks play."""
    result = train(tmp_path, steps=8, seed=2, config=TINY)
    rows = read_losses(result.losses_path)
    assert [row["d_loss"] == "nan" for row in rows] == [True] * 4 + [False] * 4
    assert all(float(row["g_ce"]) > 0 for row in rows)
    plain = train(tmp_path / "ce", steps=8, seed=2, config=replace(TINY, adv_weight=0.0))
    assert all(row["d_loss"] == "nan" for row in read_losses(plain.losses_path))
    assert all(name.startswith("g/") for name in load_checkpoint(plain.model_path).arrays)


def test_the_learning_rate_falls_to_nearly_zero() -> None:
    config = TrainConfig(steps=100, decay_fraction=0.3)
    scales = [config.learning_rate_scale(step) for step in range(100)]
    assert scales[:70] == [1.0] * 70
    assert scales[70:] == sorted(scales[70:], reverse=True)
    assert 0 < scales[-1] <= 1 / 30 + 1e-12


def test_rule_weights_add_each_rule_s_moves_at_its_weight() -> None:
    from gan_music.dataset import pitch_to_class
    from gan_music.decode import crossing_moves, parallel_moves_by_step
    from gan_music.train import TrainingData, rule_weights

    data = TrainingData.cached(TINY.model.window_steps, TINY.window_hop)
    soprano, lower = data.soprano[:16], data.lower[:16]
    melody, voices = pitch_to_class(soprano), pitch_to_class(lower)
    crossing, parallel = crossing_moves(melody, voices), parallel_moves_by_step(melody, voices)
    assert crossing.any()
    assert parallel.any()
    assert (crossing & parallel).any()
    config = replace(TINY, crossing_weight=2.0, parallel_weight=0.5)
    np.testing.assert_array_equal(
        rule_weights(config, soprano, lower), 2.0 * crossing + 0.5 * parallel
    )
    off = replace(TINY, crossing_weight=0.0, parallel_weight=0.0)
    assert not off.learns_rules
    assert not rule_weights(off, soprano, lower).any()


@pytest.mark.parametrize("rule", ["crossing", "parallel"])
def test_a_rule_term_teaches_the_network_to_avoid_the_moves_that_break_it(rule: str) -> None:
    """The same short run with and without the term: the network it trains gives far less
    probability to moves that break the rule (cross a known voice, or make parallel fifths or
    octaves with one), in Bach's contexts it never trained on."""
    from gan_music import nn
    from gan_music.dataset import pitch_to_class
    from gan_music.decode import crossing_moves, parallel_moves_by_step
    from gan_music.models import teacher_inputs
    from gan_music.train import Trainer, TrainingData

    data = TrainingData.cached(TINY.model.window_steps, TINY.window_hop)
    rows = np.arange(len(data) - 64, len(data))
    real = teacher_inputs(
        data.soprano[rows],
        data.onset[rows],
        data.lower[rows],
        data.lower_onset[rows],
        data.bar_offset[rows],
    )
    find = crossing_moves if rule == "crossing" else parallel_moves_by_step
    moves = find(pitch_to_class(data.soprano[rows]), pitch_to_class(data.lower[rows]))
    shares = {}
    for weight in (0.0, 200.0):
        config = replace(
            TINY,
            steps=40,
            lr_g=1e-2,
            adv_weight=0.0,
            crossing_weight=weight if rule == "crossing" else 0.0,
            parallel_weight=weight if rule == "parallel" else 0.0,
        )
        trainer = Trainer(config, seed=5)
        for _ in range(config.steps):
            trainer.train_step(data)
        with nn.frozen(trainer.generator):
            shares[weight] = nn.mean_probability(trainer.generator(real), moves)[0]
    assert shares[200.0] < 0.5 * shares[0.0], shares
