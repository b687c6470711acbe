"""Training: cross-entropy toward Bach, then alternating discriminator and generator updates.

Each step draws a batch of training windows (all twelve transpositions of the training
chorales, a window every beat) and updates the generator (:mod:`gan_music.models`) toward
``g_loss = ce_weight * g_ce + adv_weight * g_adv``, plus a rule term:

- ``g_ce`` is the cross-entropy between the generator's 50-way distributions (strike one of
  48 pitches, rest, or hold) and what Bach's own alto, tenor and bass do at each step, each
  step scored knowing Bach's notes before it ("teacher forcing"): how far the output deviates
  from the real data. With the rule term it is the whole loss until the last
  ``adv_fraction`` of the steps.
- The rule term (``crossing_weight``, ``parallel_weight``) is the probability the generator
  gives, in the same contexts, to moves that would cross a voice or make parallel fifths or
  octaves (:func:`rule_weights`); ``g_loss`` as logged leaves it out.
- Then the game starts. The generator writes the batch's
  accompaniments exactly as the package ships them (:func:`gan_music.decode.sample_voices`
  with the decoder's temperature and penalty); the **discriminator** sees those and Bach's,
  soprano included, and minimises ``d_loss = BCE(D(real), 1) + BCE(D(fake), 0)``, but only
  while ``d_loss`` is at least ``d_loss_floor`` (a critic that tells every fake from Bach
  teaches the generator nothing, so it waits for it). Then, with the discriminator frozen,
  ``g_adv = BCE(D(fake), 1)`` rewards fooling it. The notes were drawn, not computed, so
  ``g_adv`` reaches the generator by the policy gradient (REINFORCE, as in SeqGAN): each
  fake's reward ``log D(fake)``, less the batch's mean and divided by its spread, scales the
  gradient of the log-probability the generator gave its own moves.

The learning rate falls linearly to zero over the last ``decay_fraction`` of the run. An
exponential moving average of the generator's weights is what gets exported. Every step is
logged to ``losses.csv`` (the discriminator's columns are empty, NaN, before the game starts);
a checkpoint (all weights, both optimisers, the average, the random generator's state and the
loss history) is written every ``checkpoint_every`` steps, on Ctrl-C, and at the end, always
atomically. ``model.npz`` (averaged generator weights and config) is written when training
finishes.

>>> import tempfile
>>> result = train(tempfile.mkdtemp(), steps=2, seed=1)
>>> result.steps, result.model_path.name, result.losses_path.name
(2, 'model.npz', 'losses.csv')
"""

from __future__ import annotations

import contextlib
import functools
import json
import math
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gan_music import nn
from gan_music._io import atomic_path, remove_stale_temporaries
from gan_music._lock import folder_lock
from gan_music.checkpoint import (
    Checkpoint,
    Members,
    check_shapes,
    load_checkpoint,
    save_checkpoint,
)
from gan_music.dataset import class_to_pitch, pitch_to_class
from gan_music.decode import (
    DecoderConfig,
    crossing_moves,
    parallel_moves_by_step,
    policy_gradient,
    sample_voices,
)
from gan_music.errors import CheckpointError, GanMusicError
from gan_music.limits import model_config_from_json, train_values_from_json
from gan_music.models import (
    Discriminator,
    Generator,
    GeneratorInputs,
    ModelConfig,
    output_classes,
    teacher_inputs,
    voice_inputs,
)
from gan_music.relations import N_OUTPUTS

CHECKPOINT_NAME = "checkpoint.npz"
MODEL_NAME = "model.npz"
LOSSES_NAME = "losses.csv"
LOCK_NAME = "run.lock"  #: held (flock) by the process training in the folder
LOSS_PICTURE_NAME = "losses.png"  #: drawn by the command line after training
LOSS_COLUMNS = ("step", "g_loss", "d_loss", "g_adv", "g_ce", "d_real", "d_fake", "elapsed_s")
DEFAULT_SEED = 0  #: the seed the shipped model was trained with


@dataclass(frozen=True)
class TrainConfig:
    """The training schedule; the defaults train the shipped model."""

    steps: int = 5000
    adv_fraction: float = 0.16  #: the share of the steps, at the end, in which the critic plays
    batch_size: int = 32
    lr_g: float = 1e-3
    lr_d: float = 2e-4
    betas_g: tuple[float, float] = (0.9, 0.99)
    betas_d: tuple[float, float] = (0.5, 0.9)
    decay_fraction: float = 0.3  #: the learning rates fall to zero over this share of the run
    ce_weight: float = 1.0
    adv_weight: float = 1.0
    sample_temperature: float = 1.0  #: the fakes are drawn as the shipped decoder draws
    parallel_penalty: float = 10.0
    d_loss_floor: float = 0.8
    crossing_weight: float = 1.0  #: weight of the probability the network gives crossing moves
    parallel_weight: float = 1.0  #: the same for moves that make parallel fifths or octaves
    ema_decay: float = 0.999
    window_hop: int = 4
    checkpoint_every: int = 250
    model: ModelConfig = field(default_factory=ModelConfig)

    @property
    def decoder(self) -> DecoderConfig:
        """How the discriminator's fakes are drawn."""
        return DecoderConfig(self.sample_temperature, self.parallel_penalty)

    @property
    def learns_rules(self) -> bool:
        """Whether the generator's loss has a rule term (crossing or parallels)."""
        return bool(self.crossing_weight or self.parallel_weight)

    def adversarial(self, step: int) -> bool:
        """Whether step ``step`` (counted from 0) plays the game."""
        return self.adv_weight > 0 and step >= round(self.steps * (1.0 - self.adv_fraction))

    def learning_rate_scale(self, step: int) -> float:
        """1 until the decay starts, then falling linearly to nearly 0 at the last step."""
        decay = max(1.0, self.decay_fraction * self.steps)
        return min(1.0, (self.steps - step) / decay)

    def to_json(self) -> str:
        """The schedule as JSON text (the model config is stored separately)."""
        values = asdict(self)
        del values["model"]
        return json.dumps(values, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, model: ModelConfig) -> TrainConfig:
        """Read :meth:`to_json`'s output."""
        values = json.loads(text)
        for key in ("betas_g", "betas_d"):
            values[key] = tuple(values[key])
        return cls(model=model, **values)


@dataclass(frozen=True)
class StepInfo:
    """What a progress display needs after each step."""

    step: int
    total_steps: int
    g_loss: float
    d_loss: float
    elapsed_s: float


@dataclass(frozen=True)
class TrainResult:
    """Where the run's outputs are and how long it took.

    ``steps`` is the run's step count in all; ``steps_this_call`` those this call trained
    (fewer after ``resume``).
    """

    steps: int
    model_path: Path
    losses_path: Path
    checkpoint_path: Path
    elapsed_s: float
    g_loss: float
    d_loss: float
    steps_this_call: int = 0


class TrainingData:
    """Soprano and alto/tenor/bass of every training window, ready to batch.

    Kept compact (int16 pitches, bool onsets, int8 targets); the networks' inputs are made
    per batch. Built once per process for each window length and hop.
    """

    def __init__(self, window_steps: int, hop: int) -> None:
        from gan_music.dataset import load_chorales, make_windows, split_chorales

        train_split = split_chorales(load_chorales())["train"]
        windows = make_windows(
            train_split, length=window_steps, hop=hop, transpose=True, align_to_bars=True
        )
        self.soprano = np.ascontiguousarray(windows.pitch[:, :, 0])
        self.onset = np.ascontiguousarray(windows.onset[:, :, 0])
        self.bar_offset = np.asarray(windows.bar_offset)
        self.lower = np.ascontiguousarray(windows.pitch[:, :, 1:])
        self.lower_onset = np.ascontiguousarray(windows.onset[:, :, 1:])
        self.outputs = output_classes(self.lower, self.lower_onset)

    def __len__(self) -> int:
        return len(self.soprano)

    @staticmethod
    @functools.cache
    def cached(window_steps: int, hop: int) -> TrainingData:
        """The windows for this length and hop, built on first use."""
        return TrainingData(window_steps, hop)


class Trainer:
    """The networks, optimisers, average and random state of one run, and one training step."""

    def __init__(self, config: TrainConfig, seed: int) -> None:
        self.config = config
        init_seed, run_seed = np.random.SeedSequence(seed).spawn(2)
        init_rng = np.random.default_rng(init_seed)
        self.generator = Generator(config.model, rng=init_rng)
        self.discriminator = Discriminator(config.model, rng=init_rng)
        self.opt_g = nn.Adam(self.generator.parameters(), lr=config.lr_g, betas=config.betas_g)
        self.opt_d = nn.Adam(self.discriminator.parameters(), lr=config.lr_d, betas=config.betas_d)
        self.ema = nn.ExponentialMovingAverage(self.generator, decay=config.ema_decay)
        self.rng = np.random.default_rng(run_seed)
        self.step = 0
        self.history: list[tuple[float, ...]] = []

    def train_step(self, data: TrainingData) -> tuple[float, ...]:
        """One step (a discriminator and a generator update once the game is on); its losses."""
        cfg, rng = self.config, self.rng
        scale = cfg.learning_rate_scale(self.step)
        self.opt_g.lr, self.opt_d.lr = cfg.lr_g * scale, cfg.lr_d * scale
        batch = rng.integers(0, len(data), cfg.batch_size)
        soprano, onset, offset = data.soprano[batch], data.onset[batch], data.bar_offset[batch]
        lower = data.lower[batch]
        real = teacher_inputs(soprano, onset, lower, data.lower_onset[batch], offset)
        targets = data.outputs[batch].astype(np.intp)
        if not cfg.adversarial(self.step):
            logits = self.generator(real)
            g_ce, grad = nn.softmax_cross_entropy(logits, targets)
            grad *= cfg.ce_weight
            if cfg.learns_rules:
                grad += self._rule_gradient(logits, soprano, lower)
            self.generator.backward(grad)
            nan = math.nan
            losses: tuple[float, ...] = (cfg.ce_weight * g_ce, nan, nan, g_ce, nan, nan)
        else:
            losses = self._adversarial_step(real, targets, soprano, onset, offset, lower)
        self.opt_g.step()
        self.ema.update()
        self.step += 1
        return losses

    def _adversarial_step(
        self,
        real: GeneratorInputs,
        targets: NDArray[np.intp],
        soprano: NDArray[np.int16],
        onset: NDArray[np.bool_],
        offset: NDArray[np.intp],
        lower: NDArray[np.int16],
    ) -> tuple[float, ...]:
        cfg, size = self.config, self.config.batch_size
        melody = pitch_to_class(soprano)
        classes, struck = sample_voices(
            self.generator, melody, onset, offset, self.rng, cfg.decoder
        )
        fake = teacher_inputs(soprano, onset, class_to_pitch(classes), struck, offset)
        melody_view = voice_inputs(soprano, onset)[:, :, None]
        four = [np.concatenate([melody_view, inputs.voices], axis=2) for inputs in (real, fake)]

        scores = self.discriminator(np.concatenate(four))
        d_real, grad_real = nn.binary_cross_entropy_with_logits(scores[:size], 1.0)
        d_fake, grad_fake = nn.binary_cross_entropy_with_logits(scores[size:], 0.0)
        if d_real + d_fake >= cfg.d_loss_floor:  # a critic that wins outright teaches nothing
            self.discriminator.backward_parameters_only(np.concatenate([grad_real, grad_fake]))
            self.opt_d.step()
        with nn.frozen(self.discriminator):
            fooled = self.discriminator(four[1])
        reward = -np.logaddexp(0.0, -fooled.astype(np.float64))  # log D(fake)
        g_adv = float(-reward.mean())

        both = GeneratorInputs(*(np.concatenate(pair) for pair in zip(real, fake, strict=True)))
        logits = self.generator(both)
        g_ce, grad_ce = nn.softmax_cross_entropy(logits[:size], targets)
        grad = np.empty_like(logits)
        grad[:size] = cfg.ce_weight * grad_ce  # a mean over the real half, as in the first phase
        if cfg.learns_rules:
            grad[:size] += self._rule_gradient(logits[:size], soprano, lower)
        grad[size:] = cfg.adv_weight * policy_gradient(
            logits[size:], melody, classes, struck, reward, cfg.decoder
        )
        self.generator.backward(grad)
        g_loss = cfg.ce_weight * g_ce + cfg.adv_weight * g_adv
        return (g_loss, d_real + d_fake, g_adv, g_ce, d_real, d_fake)

    def _rule_gradient(
        self, logits: nn.Array, soprano: NDArray[np.int16], lower: NDArray[np.int16]
    ) -> nn.Array:
        """The gradient of the weighted mean probability the network gives rule-breaking moves.

        Read in Bach's contexts, as the cross-entropy is: the rules (no voice crossing, no
        parallel fifths or octaves) are then learned by the network, not only imposed by
        the decoder (which still penalises parallels). Called only when :attr:`TrainConfig.learns_rules`.
        """
        weights = rule_weights(self.config, soprano, lower, logits.dtype)
        return nn.mean_probability(logits, weights)[1]

    def state_arrays(self) -> dict[str, NDArray[Any]]:
        """Everything needed to continue the run exactly, as named arrays."""
        arrays: dict[str, NDArray[Any]] = {
            "train_config": np.array(self.config.to_json()),
            "step": np.array(self.step, dtype=np.int64),
            "rng_state": np.array(json.dumps(self.rng.bit_generator.state)),
            "history": np.array(self.history, dtype=np.float64).reshape(-1, len(LOSS_COLUMNS)),
        }
        for prefix, state in (
            ("g", self.generator.state_dict()),
            ("d", self.discriminator.state_dict()),
            ("ema", self.ema.shadow),
            ("opt_g", self.opt_g.state_dict()),
            ("opt_d", self.opt_d.state_dict()),
        ):
            arrays.update({f"{prefix}/{name}": value for name, value in state.items()})
        return arrays

    def load_state(self, checkpoint: Checkpoint) -> None:
        """Restore :meth:`state_arrays` from a training checkpoint, checking every shape."""
        arrays, where = checkpoint.arrays, checkpoint.path
        checkpoint.require(["train_config", "step", "rng_state", "history"])
        expected: dict[str, tuple[int, ...]] = {}
        for prefix, module in (
            ("g", self.generator),
            ("d", self.discriminator),
            ("ema", self.generator),
        ):
            expected.update(
                {f"{prefix}/{n}": p.shape for n, p in module.named_parameters().items()}
            )
        for prefix, opt in (("opt_g", self.opt_g), ("opt_d", self.opt_d)):
            expected.update({f"{prefix}/{n}": v.shape for n, v in opt.state_dict().items()})
        check_shapes(where, arrays, expected)
        history = arrays["history"]
        if history.ndim != 2 or history.shape[1] != len(LOSS_COLUMNS):
            msg = f"{where}: the loss history has shape {history.shape}: the checkpoint is damaged"
            raise CheckpointError(msg)
        self.generator.load_state_dict(_strip(arrays, "g/"))
        self.discriminator.load_state_dict(_strip(arrays, "d/"))
        self.ema.shadow = {name: value.copy() for name, value in _strip(arrays, "ema/").items()}
        self.opt_g.load_state_dict(_strip(arrays, "opt_g/"))
        self.opt_d.load_state_dict(_strip(arrays, "opt_d/"))
        try:
            self.rng.bit_generator.state = json.loads(str(arrays["rng_state"]))
        except (ValueError, TypeError, KeyError) as error:
            msg = f"{where}: the random generator state is unreadable ({error}): the checkpoint is damaged"
            raise CheckpointError(msg) from None
        self.step = int(arrays["step"])
        self.ema.updates = self.step  # one average update per step
        self.history = [tuple(row) for row in history.tolist()]
        if len(self.history) != self.step:
            msg = f"{where}: {len(self.history)} logged steps for step {self.step}: the checkpoint is damaged"
            raise CheckpointError(msg)


def rule_weights(
    config: TrainConfig,
    soprano: NDArray[np.int16],
    lower: NDArray[np.int16],
    dtype: np.dtype[Any] | type[np.floating[Any]] = np.float32,
) -> NDArray[np.floating[Any]]:
    """``(batch, steps, 3, 50)``: each move's weight in the rule term, from Bach's voices.

    A move that would cross a voice weighs ``config.crossing_weight``, one that would make
    parallel fifths or octaves ``config.parallel_weight``, one that does both the sum.
    ``soprano`` ``(batch, steps)`` and ``lower`` ``(batch, steps, 3)`` are MIDI pitches.
    """
    melody, voices = pitch_to_class(soprano), pitch_to_class(lower)
    weights = np.zeros((*voices.shape, N_OUTPUTS), dtype=dtype)
    for weight, moves in (
        (config.crossing_weight, crossing_moves),
        (config.parallel_weight, parallel_moves_by_step),
    ):
        if weight:
            weights[moves(melody, voices)] += weight
    return weights


def checkpoint_members(where: Path, kind: str, config: str) -> Members:
    """Every array a ``kind`` checkpoint of ``config`` holds: the ``expect`` of load_checkpoint.

    The configuration is checked against :mod:`gan_music.limits` before any network is built.
    """
    model = model_config_from_json(config, where=where)
    if kind == "model":  # the generator's weights, and the critic's if it played
        members: dict[str, tuple[tuple[int, ...] | None, bool]] = {}
        for prefix, network in (
            ("g", Generator(model, rng=np.random.default_rng(0))),
            ("d", Discriminator(model, rng=np.random.default_rng(0))),
        ):
            members |= {
                f"{prefix}/{n}": (p.shape, False) for n, p in network.named_parameters().items()
            }
        return members
    arrays = Trainer(TrainConfig(model=model), seed=0).state_arrays()
    return {  # the loss history grows with the run
        name: (None if name == "history" else value.shape, value.dtype.kind == "U")
        for name, value in arrays.items()
    }


def _strip(arrays: dict[str, NDArray[Any]], prefix: str) -> dict[str, NDArray[Any]]:
    return {name[len(prefix) :]: value for name, value in arrays.items() if name.startswith(prefix)}


def write_losses(path: Path, history: list[tuple[float, ...]]) -> None:
    """Write the loss history as CSV, atomically (one row per step)."""
    lines = [",".join(LOSS_COLUMNS)]
    for row in history:
        step, *values, elapsed = row
        lines.append(",".join([str(int(step)), *(f"{v:.6f}" for v in values), f"{elapsed:.3f}"]))
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")


def export_model(
    path: Path,
    config: ModelConfig,
    generator_weights: dict[str, NDArray[Any]],
    critic_weights: dict[str, NDArray[Any]] | None = None,
) -> None:
    """Write a model file: the (averaged) generator's weights, the critic's if it played, and
    the model config; nothing of the optimisers.

    The weights are stored as float16, half the size of float32 (the shipped model would
    otherwise be 2.7 MB), and computed with in float32 after loading; the rounding moves a
    score by about a thousandth of itself.
    """
    arrays = {f"g/{name}": value.astype(np.float16) for name, value in generator_weights.items()}
    for name, value in (critic_weights or {}).items():
        arrays[f"d/{name}"] = value.astype(np.float16)
    save_checkpoint(path, kind="model", config=config.to_json(), arrays=arrays)


def critic_played(history: NDArray[np.float64] | list[tuple[float, ...]]) -> bool:
    """Whether a run's discriminator was ever trained: some step has a critic loss."""
    table = np.asarray(history, np.float64).reshape(-1, len(LOSS_COLUMNS))
    return bool(np.isfinite(table[:, LOSS_COLUMNS.index("d_loss")]).any())


def save_training_checkpoint(run_dir: Path, trainer: Trainer) -> None:
    """Write the checkpoint, then the CSV that matches it."""
    save_checkpoint(
        run_dir / CHECKPOINT_NAME,
        kind="training",
        config=trainer.config.model.to_json(),
        arrays=trainer.state_arrays(),
    )
    write_losses(run_dir / LOSSES_NAME, trainer.history)


def _resume(run_dir: Path) -> Trainer:
    path = run_dir / CHECKPOINT_NAME
    if not path.exists():
        msg = f"nothing to resume: {path} does not exist; start without --resume"
        raise GanMusicError(msg)
    checkpoint = load_checkpoint(path, kinds=("training",), expect=checkpoint_members)
    checkpoint.require(["train_config"])
    model = model_config_from_json(checkpoint.config, where=path)
    schedule = str(checkpoint.arrays["train_config"])
    train_values_from_json(schedule, where=path)
    try:
        config = TrainConfig.from_json(schedule, model)
    except (ValueError, TypeError, KeyError) as error:
        msg = f"{path}: unreadable configuration ({error}): the checkpoint is damaged"
        raise CheckpointError(msg) from None
    trainer = Trainer(config, seed=0)
    trainer.load_state(checkpoint)
    return trainer


class _DeferredInterrupt:
    """Turn Ctrl-C into a flag checked between steps, so a checkpoint never holds half a step."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, _signum: int, _frame: object) -> None:
        if self.requested:  # a second Ctrl-C: stop at once
            raise KeyboardInterrupt
        self.requested = True

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        """Handle SIGINT in the block (only possible in the main thread)."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = signal.signal(signal.SIGINT, self)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)


def train(
    out_dir: str | os.PathLike[str],
    *,
    steps: int | None = None,
    seed: int = DEFAULT_SEED,
    resume: bool = False,
    force: bool = False,
    on_step: Callable[[StepInfo], None] | None = None,
    config: TrainConfig | None = None,
) -> TrainResult:
    """Train (or with ``resume`` continue) a run in ``out_dir``; returns where the outputs are.

    ``steps`` is the total number of steps (default: the schedule's, 5,000); the learning
    rate's decay and the start of the game are shares of it. The same seed gives the same
    losses bit for bit on the same machine, and a resumed run continues exactly as if it had
    never stopped (``seed`` and ``config`` are then read from the checkpoint); resumed with
    another ``steps``, the schedule follows the new total from the step it resumes at. On Ctrl-C the run finishes its step, writes a checkpoint and the CSV,
    and raises :class:`KeyboardInterrupt`. ``force`` first deletes a previous run's state
    (checkpoint, losses, model, loss picture), so that nothing of it can be resumed.

    The folder is locked while the run works in it (:func:`gan_music._lock.folder_lock` on
    ``run.lock``): a second run there is refused with a :class:`GanMusicError` naming the
    process that holds it.
    """
    check_seed(seed)
    if steps is not None and steps <= 0:
        msg = f"steps must be a positive number, got {steps}"
        raise GanMusicError(msg)
    if resume and force:
        msg = "--resume continues a run and --force starts it over: pass only one of them"
        raise GanMusicError(msg)
    run_dir = Path(out_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    with folder_lock(run_dir, LOCK_NAME):
        return _train_locked(run_dir, steps, seed, resume, force, on_step, config)


def check_seed(seed: object) -> None:
    """Refuse a seed numpy cannot take (negative, not a whole number) with one clear line.

    >>> check_seed(-1)
    Traceback (most recent call last):
    ...
    gan_music.errors.GanMusicError: seed must be a whole number 0 or more, got -1
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        msg = f"seed must be a whole number 0 or more, got {seed!r}"
        raise GanMusicError(msg)


def clear_run(run_dir: Path) -> list[Path]:
    """Delete a run's state (checkpoint, losses, model, loss picture); return what was removed."""
    removed = []
    for name in (CHECKPOINT_NAME, LOSSES_NAME, MODEL_NAME, LOSS_PICTURE_NAME):
        path = run_dir / name
        if path.is_file():
            path.unlink()
            removed.append(path)
    return removed


def _train_locked(
    run_dir: Path,
    steps: int | None,
    seed: int,
    resume: bool,
    force: bool,
    on_step: Callable[[StepInfo], None] | None,
    config: TrainConfig | None,
) -> TrainResult:
    remove_stale_temporaries(run_dir)
    if force:
        clear_run(run_dir)  # before any work: a kill from here on cannot resume the old run
    if resume:
        trainer = _resume(run_dir)
        total = steps if steps is not None else trainer.config.steps
        if total != trainer.config.steps:  # a new total: the schedule follows it from here on
            trainer.config = replace(trainer.config, steps=total)
    else:
        schedule = config if config is not None else TrainConfig()
        if steps is not None:
            schedule = replace(schedule, steps=steps)
        trainer = Trainer(schedule, seed)
        total = schedule.steps
    if total <= 0:
        msg = f"steps must be a positive number, got {total}"
        raise GanMusicError(msg)
    data = TrainingData.cached(trainer.config.model.window_steps, trainer.config.window_hop)
    first_step = trainer.step
    elapsed_before = trainer.history[-1][-1] if trainer.history else 0.0
    started = time.perf_counter()
    interrupt = _DeferredInterrupt()
    with interrupt.installed():
        whole = True  # False while a step is half done
        try:
            while trainer.step < total:
                whole = False
                losses = trainer.train_step(data)
                elapsed = elapsed_before + time.perf_counter() - started
                trainer.history.append((float(trainer.step), *losses, elapsed))
                whole = True
                if trainer.step % trainer.config.checkpoint_every == 0:
                    save_training_checkpoint(run_dir, trainer)
                if on_step is not None:
                    on_step(StepInfo(trainer.step, total, losses[0], losses[1], elapsed))
                if interrupt.requested:
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            if whole:  # a second Ctrl-C mid-step keeps the last periodic checkpoint instead
                save_training_checkpoint(run_dir, trainer)
            raise
    save_training_checkpoint(run_dir, trainer)
    critic = trainer.discriminator.state_dict() if critic_played(trainer.history) else None
    export_model(run_dir / MODEL_NAME, trainer.config.model, trainer.ema.shadow, critic)
    last = trainer.history[-1] if trainer.history else (0.0,) * len(LOSS_COLUMNS)
    return TrainResult(
        steps=trainer.step,
        model_path=run_dir / MODEL_NAME,
        losses_path=run_dir / LOSSES_NAME,
        checkpoint_path=run_dir / CHECKPOINT_NAME,
        elapsed_s=float(last[-1]),
        g_loss=float(last[1]),
        d_loss=float(last[2]),
        steps_this_call=trainer.step - first_step,
    )
