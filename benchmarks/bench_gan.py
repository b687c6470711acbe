"""The numpy GAN against its PyTorch twin: the training steps, generation, and a full training run.

* **Training steps**: ``Trainer.train_step`` against the same step of the twin
  (:mod:`torch_twin`), both at the default batch size, after :func:`torch_twin.check_twin`
  has shown they compute the same thing, for each kind of step of the schedule: the
  cross-entropy step (a teacher-forced generator update) and the adversarial step (writing
  the fakes step by step, the discriminator's update, the generator's update by
  cross-entropy and REINFORCE); then both weighted by their shares of the default schedule,
  the figure the goal is about. And what each achieves in GFLOP/s, from the operations
  :mod:`flops` counts in one step of each kind, against the machine's sgemm peak
  (:mod:`blas_peak`).
* **Generation**: writing the voices step by step (the sampler, one draft) in each, and the
  whole ``harmonise`` call with the shipped decoder (:data:`gan_music.generate.SHIPPED_DECODER`:
  melody features, the drafts, the critic's choice among them, which have no PyTorch
  counterpart) for a 2-bar window, 8 bars (what an interactive front end sends per edit) and
  a 64-bar melody.
* **Full training**: ``gan-music train --out DIR`` with the default schedule, run once as a
  subprocess of a small wrapper interpreter; wall time and peak resident memory
  (``resource.getrusage(RUSAGE_CHILDREN)`` in the wrapper, see :data:`PEAK_RSS_WRAPPER`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.resources
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import flops
import numpy as np
import torch
import torch_twin
from numpy.typing import NDArray
from report import NO_GOAL, Goal, Table
from timing import format_seconds, measure

from gan_music.dataset import load_chorales, pitch_to_class, split_chorales
from gan_music.decode import sample_voices
from gan_music.errors import CheckpointError
from gan_music.generate import SHIPPED_DECODER, Harmoniser, load_model
from gan_music.models import Discriminator, Generator
from gan_music.pianoroll import STEPS_PER_BAR, Score
from gan_music.train import TrainConfig, TrainingData

HEADERS = ["benchmark", "numpy", "PyTorch", "ratio (PyTorch / numpy)"]
SEED = 0
#: Goals from issue 10: the numpy step this much faster than the twin's, ...
STEP_RATIO_GOAL = 1.2
#: ... the default training run within this many seconds on 2 cores, ...
TRAINING_SECONDS_GOAL = 600.0
#: ... and harmonising this many bars within this median time (an interactive front end).
HARMONISE_GOAL_BARS, HARMONISE_GOAL_SECONDS = 8, 0.050
GENERATION_BARS = (2, HARMONISE_GOAL_BARS, 64)


@dataclass(frozen=True)
class TrainingRun:
    """What one ``gan-music train`` subprocess cost."""

    seconds: float
    peak_rss_bytes: int
    steps: int
    model_path: Path | None
    exit_code: int
    log_tail: str


def _gan_music_command() -> list[str]:
    script = Path(sys.executable).with_name("gan-music")
    return [str(script)] if script.exists() else [sys.executable, "-m", "gan_music"]


#: Runs a command and writes "exit-code seconds peak-RSS-kB" of it to the file in argv[1]. A
#: child started straight from the benchmark process would inherit that process's resident
#: size (hundreds of MB, with PyTorch and scipy loaded) into its peak, because Linux counts
#: the memory of the parent it was forked from until it runs the new program; started from
#: this small interpreter, the training's peak is its own.
PEAK_RSS_WRAPPER = """
import resource, subprocess, sys, time
started = time.perf_counter()
code = subprocess.run(sys.argv[2:]).returncode
seconds = time.perf_counter() - started
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write(f"{code} {seconds} {peak}")
"""


def full_training(work_dir: Path) -> TrainingRun:
    """Run ``gan-music train --out work_dir/run`` with the default schedule; time and measure it."""
    run_dir = work_dir / "run"
    log_path = work_dir / "train.log"
    result_path = work_dir / "train.result"
    command = [*_gan_music_command(), "train", "--out", str(run_dir)]
    print(f"  running {' '.join(command)}", flush=True)
    with log_path.open("wb") as log:
        subprocess.run(
            [sys.executable, "-c", PEAK_RSS_WRAPPER, str(result_path), *command],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=work_dir,
            check=True,
        )
    exit_code, seconds, peak_kb = result_path.read_text(encoding="utf-8").split()
    losses = run_dir / "losses.csv"
    steps = len(losses.read_text(encoding="utf-8").splitlines()) - 1 if losses.exists() else 0
    model = run_dir / "model.npz"
    tail = "\n".join(log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-3:])
    return TrainingRun(
        seconds=float(seconds),
        peak_rss_bytes=int(peak_kb) * 1024,  # Linux reports kilobytes
        steps=steps,
        model_path=model if model.exists() else None,
        exit_code=int(exit_code),
        log_tail=tail,
    )


def generation_model(trained: Path | None) -> tuple[Harmoniser, str]:
    """The shipped model if the wheel has a readable one, else the one just trained, else
    untrained weights (with an untrained critic, so the drafts are written and judged as the
    shipped model's are)."""
    shipped = importlib.resources.files("gan_music") / "data" / "model.npz"
    problem = ""
    if shipped.is_file():
        try:
            return load_model(), "the shipped model"
        except CheckpointError as error:  # e.g. a model file older than the code
            problem = f" (the shipped model could not be read: {error})"
    if trained is not None:
        return load_model(trained), f"the model trained by the full-training row{problem}"
    config = TrainConfig().model
    rng = np.random.default_rng(SEED)
    untrained = Generator(config, rng=rng)
    critic = Discriminator(config, rng=rng)
    return (
        Harmoniser(untrained, critic=critic),
        f"untrained weights and critic{problem or ' (this build ships no model)'}",
    )


def test_melody(bars: int) -> Score:
    """``bars`` bars of soprano from the test split's chorales, joined end to end."""
    steps = bars * STEPS_PER_BAR
    pitch: list[np.ndarray] = []
    onset: list[np.ndarray] = []
    for chorale in split_chorales(load_chorales())["test"]:
        pitch.append(chorale.score.pitch[:, :1])
        onset.append(chorale.score.onset[:, :1])
        if sum(len(p) for p in pitch) >= steps:
            break
    return Score(np.concatenate(pitch)[:steps].copy(), np.concatenate(onset)[:steps].copy())


def generation_rows(table: Table, harmoniser: Harmoniser) -> str:
    """The sampler (numpy and PyTorch) and the whole harmonise call, for 2, 8 and 64 bars.

    The generator has no forward pass of its own in generation any more: ``harmonise``
    computes the melody features once (a batched pass, a small part of its time) and
    then writes the voices one step and one voice at a time. So the numpy-against-PyTorch
    row times that sampler, where the generator's work is: numpy's ``sample_voices`` against
    :func:`torch_twin.sample_voices` (melody features included), one draft with the shipped
    decoder's temperature and penalty, from the same seed. The harmonise rows run
    ``harmoniser``'s generator and critic with the shipped decoder
    (:data:`gan_music.generate.SHIPPED_DECODER`), its drafts included. Returns a note saying
    whether the two samplers drew the same notes.
    """
    harmoniser = Harmoniser(harmoniser.generator, SHIPPED_DECODER, harmoniser.critic)
    twin = torch_twin.TwinGenerator(harmoniser.generator)
    torch_twin.copy_weights(harmoniser.generator, twin)
    decoder = dataclasses.replace(SHIPPED_DECODER, drafts=1)
    differing, moves = 0, 0
    bar_offset = np.zeros(1, np.intp)
    for bars in GENERATION_BARS:
        melody = test_melody(bars)
        soprano = pitch_to_class(melody.pitch[:, 0])[None]
        onset = melody.onset[:, 0][None]

        def write_numpy(
            soprano: NDArray[np.integer] = soprano, onset: NDArray[np.bool_] = onset
        ) -> Any:
            rng = np.random.default_rng(SEED)
            return sample_voices(harmoniser.generator, soprano, onset, bar_offset, rng, decoder)

        def write_torch(
            soprano: NDArray[np.integer] = soprano, onset: NDArray[np.bool_] = onset
        ) -> Any:
            rng = np.random.default_rng(SEED)
            return torch_twin.sample_voices(twin, soprano, onset, bar_offset, rng, decoder)

        def harmonise(melody: Score = melody) -> Score:
            return harmoniser.harmonise(melody, seed=SEED)

        times = measure(
            {"numpy": write_numpy, "torch": write_torch},
            rounds=7 if bars > 8 else 15,
            min_seconds=0.05,
            warmup=1,
        )
        ours, theirs = times["numpy"].result, times["torch"].result
        differing += int((ours[0] != theirs[0]).sum())
        moves += ours[0].size
        ratio = times["torch"].median_s / times["numpy"].median_s
        label = f"{bars} bars ({bars * STEPS_PER_BAR} steps)"
        table.add(
            [
                f"writing the voices (sampler, one draft), {label}",
                times["numpy"].ms(),
                times["torch"].ms(),
                f"{ratio:.2f}",
            ]
        )
        whole = measure({"numpy": harmonise}, rounds=7 if bars > 8 else 15, min_seconds=0.05)
        goal = NO_GOAL
        if bars == HARMONISE_GOAL_BARS:
            median = whole["numpy"].median_s
            goal = Goal(
                f"median at most {format_seconds(HARMONISE_GOAL_SECONDS)}",
                median <= HARMONISE_GOAL_SECONDS,
                f"Harmonising {bars} bars takes {format_seconds(median)} (median).",
            )
        drafts = SHIPPED_DECODER.drafts if harmoniser.critic is not None else 1
        table.add(
            [
                f"harmonise ({drafts} draft{'s' * (drafts > 1)}), {label}",
                whole["numpy"].ms(),
                "-",
                "-",
            ],
            goal,
        )
    same = (
        "drew the same notes as numpy's"
        if not differing
        else f"drew {differing} of {moves:,} notes differently from numpy's (float32 near-ties)"
    )
    return f"On these melodies the twin's sampler {same}."


def step_rows(table: Table, data: TrainingData, peak_gflops: float | None) -> str:
    """The training steps, numpy against the twin, and their GFLOP/s; returns the twin check."""
    config = TrainConfig()
    check = torch_twin.check_twin(config, SEED, data)
    counts = flops.step_flops(config, SEED, data)
    shares = flops.schedule_shares(config)
    medians: dict[str, dict[str, float]] = {}
    spreads = []
    for kind in flops.STEP_KINDS:
        numpy_trainer = torch_twin.trainer_at(config, SEED, kind)
        twin = torch_twin.TwinTrainer(numpy_trainer)
        times = measure(
            {
                "numpy": functools.partial(numpy_trainer.train_step, data),
                "torch": functools.partial(twin.train_step, data),
            },
            rounds=STEP_ROUNDS[kind],
            min_seconds=0.0,
            warmup=3,
        )
        medians[kind] = {name: t.median_s for name, t in times.items()}
        ratio = times["torch"].median_s / times["numpy"].median_s
        table.add(
            [
                f"training step, {kind} ({STEP_CONTENTS[kind]}), batch {config.batch_size}",
                times["numpy"].ms(),
                times["torch"].ms(),
                f"{ratio:.2f}",
            ]
        )
        spread = ", ".join(
            f"{name} {format_seconds(t.low_s)}-{format_seconds(t.high_s)}"
            for name, t in times.items()
        )
        spreads.append(f"{kind} over {times['numpy'].rounds} rounds: {spread}")

    weighted = {
        name: sum(shares[kind] * medians[kind][name] for kind in flops.STEP_KINDS)
        for name in ("numpy", "torch")
    }
    ratio = weighted["torch"] / weighted["numpy"]
    mix = " and ".join(f"{100 * shares[kind]:.0f}% {kind}" for kind in flops.STEP_KINDS)
    table.add(
        [
            f"training step, default schedule ({config.steps} steps: {mix})",
            format_seconds(weighted["numpy"]),
            format_seconds(weighted["torch"]),
            f"{ratio:.2f}",
        ],
        Goal(
            f"ratio >= {STEP_RATIO_GOAL}",
            ratio >= STEP_RATIO_GOAL,
            (
                f"Over the default schedule PyTorch takes {ratio:.2f} times numpy's time per "
                "step ("
                + ", ".join(
                    f"{kind} {medians[kind]['torch'] / medians[kind]['numpy']:.2f}"
                    for kind in flops.STEP_KINDS
                )
                + f"). {STEP_FINDINGS}"
            ),
        ),
    )

    def achieved(gflop: float, seconds: float) -> str:
        rate = gflop / seconds
        share = f" ({100 * rate / peak_gflops:.0f}% of the sgemm peak)" if peak_gflops else ""
        return f"{rate:.1f} GFLOP/s{share}"

    gflops = {kind: counts[kind].total / 1e9 for kind in flops.STEP_KINDS}
    for kind in flops.STEP_KINDS:
        table.add(
            [
                f"{kind} step, achieved ({gflops[kind]:.2f} GFLOP of matrix products per step)",
                achieved(gflops[kind], medians[kind]["numpy"]),
                achieved(gflops[kind], medians[kind]["torch"]),
                "-",
            ]
        )
    schedule_gflop = sum(shares[kind] * gflops[kind] for kind in flops.STEP_KINDS)
    table.add(
        [
            f"default schedule, achieved ({schedule_gflop:.2f} GFLOP per step on average)",
            achieved(schedule_gflop, weighted["numpy"]),
            achieved(schedule_gflop, weighted["torch"]),
            "-",
        ]
    )
    table.notes.append(f"Training steps, {'; '.join(spreads)}.")
    ce, adversarial = counts["cross-entropy"], counts["adversarial"]
    peak = f"{peak_gflops:.0f} GFLOP/s" if peak_gflops else "not measured"
    table.notes.append(
        "Operations per step, counted by `benchmarks/flops.py` while one step of each kind "
        f"ran: cross-entropy step {ce.network('generator') / 1e9:.2f} GFLOP, all in the "
        f"generator; adversarial step: generator {adversarial.network('generator') / 1e9:.2f} "
        f"GFLOP, of which {adversarial.sampler / 1e9:.2f} writing the fakes step by step "
        "(its causal layers' products computed from their shapes and the steps, the rest "
        "counted as the layers ran), then its update on Bach's windows and the fakes, twice "
        f"the batch; discriminator {adversarial.network('discriminator') / 1e9:.2f} GFLOP (its "
        "update on real and fake windows, twice the batch, and the frozen pass that scores "
        "the fakes, forward only: the generator learns from the scores by REINFORCE). "
        "Forward pass, input gradient and weight gradient of every convolution and linear "
        "layer, 2 operations per multiply-add; elementwise and index work (the relation "
        "tables, the keys, sampling) left out. The default schedule's figure weights the two "
        "kinds by their shares of the steps. Both columns divide numpy's count by the median "
        "step time; the twin does the same products, except the gradient with respect to the "
        "generator's melody input, which numpy computes and autograd skips. The sgemm peak "
        f"({peak}) is the machine table's."
    )
    return check.summary()


#: What profiling the steps showed; said in the closing notes when the goal is not met.
STEP_FINDINGS = (
    "Besides the generator's forward and backward passes, the cross-entropy step computes "
    "the batch's relation keys and the relation table's gradient; the adversarial step also "
    "writes the fakes step by step (with their relation keys and the parallel-fifths rule), "
    "passes the generator over Bach's windows and the fakes, updates the discriminator and "
    "computes the relation keys of the real and fake windows. The keys, the Gumbel noise "
    "and the sampler's rules are the same numpy code on both sides, so they pull the ratio "
    "toward 1 whatever the network code does; most of the rest is the same matrix products "
    "on both sides, so the ratio also moves with machine load: two BLAS or OpenMP threads "
    "stall when another process takes one of the two cores."
)


#: Rounds per kind of step: the adversarial step takes several times as long.
STEP_ROUNDS = {"cross-entropy": 15, "adversarial": 9}
#: What each kind of step does, for its row.
STEP_CONTENTS = {
    "cross-entropy": "teacher-forced G update",
    "adversarial": "fakes written step by step, D update, G update by cross-entropy and REINFORCE",
}


def training_row(table: Table, run: TrainingRun | None) -> None:
    """The full default-schedule run (or why it was skipped)."""
    steps = TrainConfig().steps
    if run is None:
        table.add(
            [f"full training, default schedule ({steps} steps)", "skipped (--quick)", "-", "-"]
        )
        return
    if run.exit_code != 0:
        msg = f"gan-music train failed with exit code {run.exit_code}:\n{run.log_tail}"
        raise RuntimeError(msg)
    per_step = format_seconds(run.seconds / max(run.steps, 1))
    table.add(
        [
            f"full training, default schedule ({run.steps} steps, `gan-music train`)",
            f"{format_seconds(run.seconds)} ({per_step} per step)",
            "-",
            "-",
        ],
        Goal(
            f"within {TRAINING_SECONDS_GOAL:.0f} s",
            run.seconds <= TRAINING_SECONDS_GOAL,
            f"The default schedule took {format_seconds(run.seconds)}, {per_step} per step.",
        ),
    )


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="gan-bench-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run(
    *, quick: bool, threads: int, peak_gflops: float | None = None, echo: bool = False
) -> tuple[Table, TrainingRun | None]:
    """Every GAN row; also returns the training run for the footprint table.

    ``peak_gflops`` is the machine's sgemm peak, for the training step's share of it.
    """
    torch.set_num_threads(threads)
    table = Table("GAN: numpy against the same network in PyTorch", HEADERS, echo=echo)
    config = TrainConfig()
    data = TrainingData.cached(config.model.window_steps, config.window_hop)
    with scratch() as work_dir:
        training = None if quick else full_training(work_dir)
        twin_summary = step_rows(table, data, peak_gflops)
        harmoniser, which = generation_model(training.model_path if training else None)
        sampled = generation_rows(table, harmoniser)
        training_row(table, training)
    table.notes[:0] = [
        twin_summary,
        (
            f"Both sides run {threads} thread{'s' * (threads != 1)}: numpy's BLAS (read with "
            "threadpoolctl) and "
            f"`torch.set_num_threads({threads})`; float32 throughout; PyTorch "
            f"{torch.__version__}, Adam in its fused CPU form. A step includes drawing the "
            "batch, its relation keys, the sampler's Gumbel noise and its rules (the same "
            "numpy calls on both sides) and the weight average's update. "
            f"Generation uses {which}, batch 1, on sopranos from the test split. The sampler "
            "rows write one draft with the shipped decoder's temperature and penalty, melody "
            f"features included. {sampled} The `harmonise` rows use the shipped decoder "
            f"({SHIPPED_DECODER.drafts} drafts, the critic keeping the best every "
            f"{SHIPPED_DECODER.select_every} steps and at the end): `harmonise` adds the "
            "octave folding and, with a critic, the drafts and the critic's choice among them, "
            "which have no PyTorch counterpart."
        ),
    ]
    return table, training
