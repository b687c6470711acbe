"""scripts/metre_generalisation.py: each chorale harmonised in its own metre, figures pooled right."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from tiny_project import SCRIPTS, require_scripts, run_script

from gan_music import metrics
from gan_music.dataset import Chorale, load_chorales, load_other_metre_chorales, split_chorales
from gan_music.pianoroll import REST, Score

require_scripts()
sys.path.insert(0, str(SCRIPTS))
import metre_generalisation as script  # a script module, found through the line above

CHOSEN = ("bwv11.6", "bwv123.6", "bwv362:1")  # 3/4, 3/2, and the 4/4 opening of a mixed one


@pytest.fixture(scope="module")
def chosen() -> list[Chorale]:
    by_name = {c.name: c for c in load_other_metre_chorales()}
    return [by_name[name] for name in CHOSEN]


class BachCopy:
    """Gives back Bach's own lower voices, and notes the metre each melody came with."""

    def __init__(self, chorales: list[Chorale]) -> None:
        self.scores = {c.score.pitch[:, 0].tobytes(): c.score for c in chorales}
        self.metres: list[tuple[int, int, int | None]] = []

    def harmonise(
        self,
        melody: Score,
        *,
        seed: int | None = None,  # noqa: ARG002
        steps_per_bar: int = 16,
        first_downbeat: int = 0,
        steps_per_beat: int | None = None,
    ) -> Score:
        self.metres.append((steps_per_bar, first_downbeat, steps_per_beat))
        return self.scores[melody.pitch[:, 0].tobytes()]


def test_a_copy_of_bach_scores_as_bach_in_every_metre(chosen: list[Chorale]) -> None:
    copier = BachCopy(chosen)
    tables = script.evaluate_metres({"copy": copier}, chosen, training=[])
    assert list(tables) == ["3/2", "3/4", "4/4", script.ALL, script.UNSEEN]
    for columns in tables.values():
        copy, real = columns["copy"], columns["real"]
        assert copy["melody kept"] == 1.0
        assert copy["diversity"] == 0.0
        for row, _ in script.METRE_ROWS:
            if row not in ("melody kept", "diversity"):
                assert copy[row] == real[row], row
    expected = [(c.steps_per_bar, c.first_downbeat, c.steps_per_beat) for c in chosen]
    assert copier.metres == [metre for metre in expected for _ in range(2)]  # two seeds each
    assert expected == [(12, 0, 4), (24, 0, 8), (16, 4, 4)]


def test_the_shipped_model_harmonises_them_whole(chosen: list[Chorale]) -> None:
    from gan_music.generate import load_model

    model = load_model()
    training = split_chorales(load_chorales())["train"]
    tables = script.evaluate_metres(
        {"model": model, "network": model.network_alone()}, chosen, seed=3, training=training
    )
    overall = tables[script.ALL]
    assert list(overall) == ["model", "network", "real"]
    assert overall["model"]["melody kept"] == 1.0
    assert 0.0 < overall["model"]["diversity"] <= 1.0
    assert all(overall["real"][f"lengths L1 {v}"] == 0.0 for v in "ATB")
    assert all(np.isfinite(overall[c]["PCS"]) for c in overall)
    assert not set(script.LEFT_OUT) & set(overall["model"])
    # bwv11.6 has the tune of bwv248.12-2, a training chorale: the unseen table leaves it out.
    alone = script.evaluate_metres({}, chosen[1:], training=training)[script.ALL]
    np.testing.assert_equal(tables[script.UNSEEN]["real"], alone["real"])  # NaN equals NaN
    assert tables[script.UNSEEN]["real"]["UPC S"] != overall["real"]["UPC S"]


def test_a_tune_heard_in_training_is_reported_apart() -> None:
    others = load_other_metre_chorales()
    training = split_chorales(load_chorales())["train"]
    groups = script.metre_groups(others, training)
    unseen = {others[i].name for i in groups[script.UNSEEN]}
    assert len(groups[script.ALL]) == 37
    assert len(unseen) == 29
    assert "bwv17.7" not in unseen  # the tune of bwv389, a training chorale, in 3/4
    assert "bwv123.6" in unseen


def windows(
    steps_per_bar: int, steps_per_beat: int, n: int, silent_bars: int
) -> script.MetreWindows:
    """``n`` two-bar windows of a C major chord; the alto rests in the first ``silent_bars``."""
    pitch = np.tile(np.array([72, 67, 64, 48]), (n, 2 * steps_per_bar, 1))
    pitch[:silent_bars, :steps_per_bar, 1] = REST
    onset = np.zeros(pitch.shape, bool)
    onset[:, 0] = True
    return script.MetreWindows(pitch, onset, steps_per_bar, steps_per_beat)


def test_bars_and_beats_of_different_metres_each_count_once() -> None:
    waltz = windows(12, 4, n=3, silent_bars=2)  # 6 bars, 2 with a silent alto; 18 beats
    march = windows(16, 4, n=1, silent_bars=0)  # 2 bars; 8 beats
    slow = windows(24, 8, n=2, silent_bars=1)  # 4 bars, 1 silent; 12 beats
    pooled, shares = script.pooled_metrics([waltz, march, slow])
    assert pooled["EB A"] == pytest.approx(3 / 12)
    assert pooled["EB S"] == 0.0
    assert pooled["UPC A"] == pytest.approx(9 / 12)  # one pitch class in every sounding bar
    every_beat = [
        metrics.tonal_distance(w.pitch, steps_per_beat=w.steps_per_beat)
        for w in (waltz, march, slow)
    ]
    beats = [18, 8, 12]
    assert pooled["TD"] == pytest.approx(np.dot(every_beat, beats) / sum(beats))
    assert pooled["QN A"] == 1.0
    assert shares.shape == (3, len(metrics.LENGTH_BINS))


def test_the_command_explains_itself_and_refuses_bad_input() -> None:
    shown = run_script("metre_generalisation.py", "--help")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("usage: metre_generalisation.py")
    assert "--model" in shown.stdout
    assert "--seed" in shown.stdout
    unknown = run_script("metre_generalisation.py", "--only", "bwv999")
    assert unknown.returncode == 2
    assert unknown.stderr.count("\n") == 1
    assert "bwv999" in unknown.stderr
    missing = run_script("metre_generalisation.py", "--model", "no-such-model.npz")
    assert missing.returncode == 2
    assert "Traceback" not in missing.stderr
    assert missing.stderr.startswith("error:")


def test_the_evaluations_column_metrics_take_the_metre() -> None:
    from gan_music.evaluate import column_metrics

    waltz = windows(12, 4, n=1, silent_bars=1)  # two 3/4 bars, the alto silent in the first
    train = np.zeros((1, 24, 4), np.int16)
    in_three = column_metrics(waltz.pitch, waltz.onset, train_pitch=train, steps_per_bar=12)
    assert in_three["EB A"] == 0.5
    read_as_common_time = column_metrics(waltz.pitch, waltz.onset, train_pitch=train)
    assert read_as_common_time["EB A"] == 0.0  # one 16-step "bar" that hears the alto at 12
