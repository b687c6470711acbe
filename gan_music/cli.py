"""The ``gan-music`` command: generate, train and evaluate from the shell.

Every command has ``--help``. Bad input (a missing or unreadable MIDI file, an empty melody,
a damaged checkpoint, an output path that exists) ends with one line on stderr and exit
status 2, never a traceback, and never leaves a partial output file behind.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from gan_music._io import atomic_group, check_output_paths
from gan_music.errors import GanMusicError

if TYPE_CHECKING:
    from gan_music.train import StepInfo

EXIT_USAGE = 2
FORCE_HINT = "pass --force"  # how to overwrite an output file from the command line
EXIT_INTERRUPTED = 130


def _generate(args: argparse.Namespace) -> int:
    from gan_music import midi
    from gan_music.generate import load_model
    from gan_music.train import check_seed

    if args.seed is not None:
        check_seed(args.seed)
    # Check every output path before any work, so a mistake costs nothing.
    out, *others = check_output_paths(
        [args.out, *([args.plot] if args.plot else [])],
        force=args.force,
        overwrite_hint=FORCE_HINT,
    )
    plot_path = others[0] if others else None
    _require("mido", "midi", "to read and write MIDI files")
    if plot_path is not None:
        _require("matplotlib", "plot", "for --plot")
        from gan_music import plot

        plot.check_picture_path(plot_path)

    melody = midi.read_melody(args.melody) if args.melody else midi.example_melody()
    if melody.was_polyphonic:
        _say(f"{args.melody} has several notes at once: harmonising its top line")
    if plot_path is not None:
        plot.check_plot_length(melody.to_score().n_steps, melody.steps_per_bar)
    model = load_model(args.checkpoint)
    harmony = model.harmonise(
        melody.to_score(),
        seed=args.seed,
        steps_per_bar=melody.steps_per_bar,
        first_downbeat=melody.first_downbeat,
        steps_per_beat=melody.steps_per_beat,
        temperature=args.temperature,
    )
    figure = None
    if plot_path is not None:
        figure = plot.plot_pianoroll(
            harmony,
            title=out.stem,
            steps_per_bar=melody.steps_per_bar,
            first_downbeat=melody.first_downbeat,
            steps_per_beat=melody.steps_per_beat,
        )
    with atomic_group() as outputs:  # both files or neither
        with outputs.path(out, force=args.force) as tmp:
            midi.write_harmony(tmp, melody, harmony.voices(1, 2, 3), force=True)
        if figure is not None and plot_path is not None:
            with outputs.path(plot_path, force=args.force) as tmp:
                plot.write_png(figure, tmp)
    _say(f"wrote {out} ({harmony.n_steps} sixteenths, 4 voices)")
    if plot_path is not None:
        _say(f"wrote {plot_path}")
    return 0


def _loss(value: float) -> str:
    """A loss for the progress line; ``-`` where there is none (the critic before the game).

    >>> _loss(1.38629), _loss(float("nan"))
    (' 1.3863', '      -')
    """
    return f"{'-':>7}" if math.isnan(value) else f"{value:7.4f}"


class ProgressBar:
    """A one-line progress bar on a terminal; a line every ``every`` steps elsewhere (logs, CI)."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 24, every: int = 100) -> None:
        self.stream = stream
        self.width = width
        self.every = every
        self.interactive = stream.isatty()

    def __call__(self, info: StepInfo) -> None:
        done = info.step / max(info.total_steps, 1)
        left = info.elapsed_s / max(done, 1e-9) - info.elapsed_s if info.step else 0.0
        filled = round(self.width * done)
        line = (
            f"step {info.step:>{len(str(info.total_steps))}}/{info.total_steps} "
            f"[{'#' * filled}{'.' * (self.width - filled)}] "
            f"G {info.g_loss:7.4f}  D {_loss(info.d_loss)}  "
            f"{_minutes(info.elapsed_s)} elapsed, {_minutes(left)} left"
        )
        last = info.step == info.total_steps
        if self.interactive:
            self.stream.write("\r" + line + ("\n" if last else ""))
            self.stream.flush()
        elif last or info.step % self.every == 0 or info.step == 1:
            self.stream.write(line + "\n")


def _minutes(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes}m{secs:02d}s"


def _train(args: argparse.Namespace) -> int:
    from gan_music._lock import check_unlocked
    from gan_music.train import LOCK_NAME, LOSS_PICTURE_NAME, train

    out_dir = Path(args.out)
    if out_dir.exists() and not out_dir.is_dir():
        msg = f"{out_dir} is a file: --out takes a folder for the run"
        raise GanMusicError(msg)
    if out_dir.is_dir():
        check_unlocked(out_dir, LOCK_NAME)  # "in use by pid ..." before "already holds a run"
    held = out_dir.is_dir() and any(entry.name != LOCK_NAME for entry in out_dir.iterdir())
    if held and not args.resume and not args.force:
        msg = (
            f"{out_dir} already holds a run: pass --resume to continue it or --force to start over"
        )
        raise GanMusicError(msg)
    if not out_dir.parent.is_dir():
        msg = f"folder {out_dir.parent} does not exist: create it first"
        raise GanMusicError(msg)
    started = time.perf_counter()
    result = train(
        out_dir,
        steps=args.steps,
        seed=args.seed,
        resume=args.resume,
        force=args.force,
        on_step=ProgressBar(),
    )
    in_all = f" ({result.steps} in all)" if result.steps != result.steps_this_call else ""
    took = _minutes(time.perf_counter() - started)
    _say(f"trained {result.steps_this_call} steps{in_all} in {took}")
    _say(f"model: {result.model_path}")
    _say(f"losses: {result.losses_path}")
    if importlib.util.find_spec("matplotlib") is None:
        _say('no loss picture: install the plot extra: pip install "binomial-gan-music[plot]"')
        return 0
    from gan_music import plot

    picture = out_dir / LOSS_PICTURE_NAME
    plot.save_figure(plot.plot_losses(result.losses_path), picture, force=True)
    _say(f"loss curves: {picture}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from gan_music.evaluate import evaluate
    from gan_music.generate import load_model
    from gan_music.train import check_seed

    check_seed(args.seed)
    table = evaluate(load_model(args.checkpoint), split=args.split, seed=args.seed)
    print(table)
    failed = [target for target in table.check_targets() if not target.passed]
    print()
    for target in table.check_targets():
        print(f"{'pass' if target.passed else 'FAIL'}  {target.description}")
    return 1 if failed and args.strict else 0


def _require(module: str, extra: str, purpose: str) -> None:
    """Fail before any work if an optional dependency is missing, naming the extra to install."""
    if importlib.util.find_spec(module) is None:
        msg = f'{module} is needed {purpose}: pip install "binomial-gan-music[{extra}]"'
        raise GanMusicError(msg)


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``gan-music`` (exposed for documentation and tests)."""
    parser = argparse.ArgumentParser(
        prog="gan-music",
        description="Write alto, tenor and bass parts for a melody with a small numpy GAN.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = commands.add_parser(
        "generate",
        help="harmonise a melody and write a MIDI file of the four voices",
        description="Harmonise a melody (or a built-in example) and write a type-1 MIDI file "
        "with a conductor track, then your melody, unchanged, then alto, tenor and bass.",
    )
    gen.add_argument("--melody", metavar="IN.mid", help="monophonic melody (default: an example)")
    gen.add_argument("--out", metavar="OUT.mid", required=True, help="MIDI file to write")
    gen.add_argument(
        "--seed", type=int, default=None, help="seed of the random draws (default: random)"
    )
    gen.add_argument("--checkpoint", metavar="PATH", help="model file (default: the shipped one)")
    gen.add_argument(
        "--temperature",
        type=float,
        default=None,
        help="sampling temperature, 0 to 10 (default: 1, the model's own distribution; "
        "0 = its most likely move at every step)",
    )
    gen.add_argument("--plot", metavar="OUT.png", help="also draw the four voices as a picture")
    gen.add_argument("--force", action="store_true", help="overwrite output files that exist")
    gen.set_defaults(run=_generate)

    trn = commands.add_parser(
        "train",
        help="train a model on the shipped Bach chorales",
        description="Train the GAN on the shipped chorales. Writes checkpoints, losses.csv, "
        "model.npz and losses.png into the run folder. Ctrl-C saves a checkpoint and stops.",
    )
    trn.add_argument("--out", metavar="RUN_DIR", required=True, help="folder for the run")
    trn.add_argument("--steps", type=_positive_int, default=None, help="steps (default: full)")
    trn.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    trn.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    trn.add_argument("--force", action="store_true", help="start over in a folder that has a run")
    trn.set_defaults(run=_train)

    evl = commands.add_parser(
        "evaluate",
        help="compare the model with Bach and three baselines",
        description="Harmonise every melody of the held-out test split and print the model, "
        "real Bach and the shuffled, rule and noise baselines side by side.",
    )
    evl.add_argument("--checkpoint", metavar="PATH", help="model file (default: the shipped one)")
    evl.add_argument("--split", choices=["test", "valid"], default="test", help="data split")
    evl.add_argument("--seed", type=int, default=0, help="seed of the random draws (default: 0)")
    evl.add_argument("--strict", action="store_true", help="exit 1 if a quality target fails")
    evl.set_defaults(run=_evaluate)

    from gan_music.studio.command import add_parser as add_studio_parser

    add_studio_parser(commands)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        msg = f"must be at least 1, got {value}"
        raise argparse.ArgumentTypeError(msg)
    return value


def _version() -> str:
    import gan_music

    return str(gan_music.__version__)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``gan-music`` with ``argv`` (default: the process arguments); return the exit status."""
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except (GanMusicError, ImportError, OSError) as error:
        print(f"gan-music: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("gan-music: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
