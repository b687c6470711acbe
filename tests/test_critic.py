"""The fresh critic of the classifier two-sample test: features, fitting, and its verdicts."""

from __future__ import annotations

import numpy as np
import pytest

from gan_music.baselines import NoiseBaseline
from gan_music.critic import (
    CHORD_TYPES,
    Passages,
    auc,
    feature_names,
    harmony_features,
    segments,
    two_sample_test,
)
from gan_music.dataset import Chorale, load_chorales, split_chorales
from gan_music.evaluate import critic_results
from gan_music.pianoroll import Score


@pytest.fixture(scope="module")
def split() -> dict[str, list[Chorale]]:
    return split_chorales(load_chorales())


def _passages(chorales: list[Chorale]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return segments([c.score for c in chorales], [c.first_downbeat for c in chorales])


def test_segments_start_on_bar_lines_and_keep_their_chorale(
    split: dict[str, list[Chorale]],
) -> None:
    chorales = split["test"]
    pitch, _onset, group = _passages(chorales)
    assert pitch.shape[1:] == (64, 4)
    first = chorales[int(group[0])]
    assert (pitch[0] == first.score.pitch[first.first_downbeat : first.first_downbeat + 64]).all()
    assert set(group.tolist()) <= set(range(len(chorales)))


def test_features_see_repeated_notes_and_chords() -> None:
    held = np.array([[72, 64, 55, 48]] * 64)[None]  # a C major triad, held
    struck = np.zeros(held.shape, bool)
    struck[0, ::4, 1] = True  # the alto strikes its E every beat
    plain = harmony_features(held, np.zeros(held.shape, bool))
    again = harmony_features(held, struck)
    assert plain.shape == again.shape
    assert not np.allclose(plain, again)  # a re-struck note is a different passage
    assert np.isfinite(plain).all()
    assert len(CHORD_TYPES) == 12


def test_auc_counts_ties_half() -> None:
    assert auc(np.array([1.0, 1.0]), np.array([1, 0])) == 0.5
    assert auc(np.array([0.0, 1.0]), np.array([0, 1])) == 1.0


def test_bach_against_bach_is_near_chance_and_noise_is_caught(
    split: dict[str, list[Chorale]],
) -> None:
    real_train, real_test = _passages(split["train"]), _passages(split["test"])
    halves = {
        name: (group % 2 == 0)
        for name, (_, _, group) in (("train", real_train), ("test", real_test))
    }

    def part(passages: Passages, mask: np.ndarray) -> Passages:
        pitch, onset, group = passages
        return pitch[mask], onset[mask], group[mask]

    bach = two_sample_test(
        part(real_train, halves["train"]),
        part(real_train, ~halves["train"]),
        part(real_test, halves["test"]),
        part(real_test, ~halves["test"]),
    )
    assert 0.35 < bach.accuracy < 0.65
    assert 0.3 < bach.auc < 0.7

    def noise(chorales: list[Chorale]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scores = [
            NoiseBaseline().harmonise(Score(c.score.pitch[:, :1], c.score.onset[:, :1]), seed=i)
            for i, c in enumerate(chorales)
        ]
        return segments(scores, [c.first_downbeat for c in chorales])

    caught = two_sample_test(real_train, noise(split["train"]), real_test, noise(split["test"]))
    assert caught.accuracy > 0.95
    assert caught.auc > 0.99
    assert caught.n_test == 2 * len(real_test[0])


def test_critic_results_have_the_real_sanity_row() -> None:
    results = critic_results({"noise": NoiseBaseline()}, seed=0)
    assert set(results) == {"noise", "real"}
    assert results["noise"].accuracy > 0.95
    assert abs(results["real"].accuracy - 0.5) < 0.15


def test_every_feature_has_its_name(split: dict[str, list[Chorale]]) -> None:
    pitch, onset, _ = _passages(split["valid"][:3])
    features = harmony_features(pitch, onset)
    names = feature_names()
    assert features.shape[1] == len(names) == len(set(names))
    # spot checks that the names sit on their own columns
    fifths = np.stack([np.full((1, 64), midi) for midi in (79, 72, 60, 48)], axis=-1)
    one = harmony_features(fifths, np.zeros(fifths.shape, bool))[0]  # G C C C, held throughout
    assert one[names.index("SA interval 7")] == 1.0
    assert one[names.index("chord two pitch classes")] == 1.0
    assert one[names.index("B resting")] == 0.0
