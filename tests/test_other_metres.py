"""The chorales in other metres: what the loader gives, and that training never sees them."""

from __future__ import annotations

import hashlib
import importlib.resources
from collections import Counter
from typing import Any

import numpy as np
import pytest

from gan_music import dataset
from gan_music.dataset import (
    Chorale,
    load_chorales,
    load_other_metre_chorales,
    make_windows,
    pitch_to_class,
    split_chorales,
)

# sha256 of the shipped 4/4 file, on which the shipped model was trained: it must not change.
COMMON_TIME_SHA256 = "99188e11be060531c9f5194d04edd049ee15c58a0b2d4e21b24a92bbea43a979"
# sha256 of what load_chorales() returned before the other metres were added (names, pickups,
# every pitch and onset): the 4/4 loader gives exactly the same chorales.
COMMON_TIME_CONTENT = "a9d0c288a7d3d73e86d352d668667cf27f5cb20e74ba8717ac94504350125377"
BAR_STEPS = {"3/4": 12, "3/2": 24, "4/4": 16}
BEAT_STEPS = {"3/4": 4, "3/2": 8, "4/4": 4}


@pytest.fixture(scope="module")
def others() -> list[Chorale]:
    return load_other_metre_chorales()


def content_digest(chorales: list[Chorale]) -> str:
    digest = hashlib.sha256()
    for chorale in chorales:
        digest.update(f"{chorale.name}:{chorale.first_downbeat}:{chorale.score.n_steps};".encode())
        digest.update(chorale.score.pitch.tobytes())
        digest.update(chorale.score.onset.tobytes())
    return digest.hexdigest()


def chorale_hash(chorale: Chorale) -> str:
    """The music alone (four voices' pitches and onsets), not the name."""
    score = chorale.score
    return hashlib.sha256(score.pitch.tobytes() + score.onset.tobytes()).hexdigest()


def base_name(chorale: Chorale) -> str:
    return chorale.name.split(":", 1)[0]


def test_the_file_is_small_and_holds_no_pickled_objects() -> None:
    resource = importlib.resources.files("gan_music") / "data" / dataset.OTHER_METRES_FILE
    assert len(resource.read_bytes()) < 100_000
    with resource.open("rb") as stream, np.load(stream, allow_pickle=False) as npz:
        assert all(npz[key].dtype != object for key in npz.files)
        assert len(npz["names"]) == 35


def test_every_metre_is_there_with_its_bars_and_beats(others: list[Chorale]) -> None:
    assert Counter(c.time_signature for c in others) == {"3/4": 34, "3/2": 1, "4/4": 2}
    assert [c.name for c in others if ":" in c.name] == [
        "bwv304:1",
        "bwv304:2",
        "bwv362:1",
        "bwv362:2",
    ]
    for chorale in others:
        assert chorale.steps_per_bar == BAR_STEPS[chorale.time_signature]
        assert chorale.steps_per_beat == BEAT_STEPS[chorale.time_signature]
        assert 0 <= chorale.first_downbeat < chorale.steps_per_bar
        assert chorale.score.n_voices == 4
        assert (chorale.score.n_steps - chorale.first_downbeat) // chorale.steps_per_bar >= 8
        assert not chorale.score.pitch.flags.writeable


def test_a_change_of_metre_falls_on_a_bar_line(others: list[Chorale]) -> None:
    by_name = {c.name: c for c in others}
    opening, rest = by_name["bwv362:1"], by_name["bwv362:2"]
    assert (opening.time_signature, rest.time_signature) == ("4/4", "3/4")
    assert opening.first_downbeat == 4  # a quarter-note pickup, then 15 bars of 4/4
    assert (opening.score.n_steps - 4) % 16 == 0
    assert rest.first_downbeat == 0
    assert opening.score.n_steps + rest.score.n_steps == 424


def test_pickups_are_whole_beats(others: list[Chorale]) -> None:
    pickups = Counter(c.first_downbeat for c in others)
    assert pickups == {0: 24, 4: 13}


def test_the_common_time_loader_is_unchanged() -> None:
    resource = importlib.resources.files("gan_music") / "data" / dataset.DATA_FILE
    assert hashlib.sha256(resource.read_bytes()).hexdigest() == COMMON_TIME_SHA256
    chorales = load_chorales()
    assert len(chorales) == 295
    assert content_digest(chorales) == COMMON_TIME_CONTENT
    assert {(c.steps_per_bar, c.steps_per_beat, c.time_signature) for c in chorales} == {
        (16, 4, "4/4")
    }


def test_no_chorale_of_another_metre_is_in_the_split(others: list[Chorale]) -> None:
    split = split_chorales(load_chorales())
    everywhere = [c for part in split.values() for c in part]
    assert {base_name(c) for c in others}.isdisjoint(c.name for c in everywhere)
    assert {chorale_hash(c) for c in others}.isdisjoint(chorale_hash(c) for c in everywhere)
    assert all(c.time_signature == "4/4" for c in everywhere)


def test_building_the_training_data_never_reads_the_other_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gan_music.train import TrainingData

    read = dataset._read

    def guarded(file_name: str) -> dict[str, Any]:
        assert file_name != dataset.OTHER_METRES_FILE, "training read the other metres"
        return read(file_name)

    dataset._decoded_chorales.cache_clear()
    monkeypatch.setattr(dataset, "_read", guarded)
    monkeypatch.setattr(
        dataset, "load_other_metre_chorales", lambda: pytest.fail("training asked for them")
    )
    try:
        assert len(TrainingData(32, 16)) > 0
    finally:
        dataset._decoded_chorales.cache_clear()


def test_no_training_window_holds_music_of_another_metre(others: list[Chorale]) -> None:
    from gan_music.train import TrainConfig, TrainingData

    config = TrainConfig()
    data = TrainingData(config.model.window_steps, config.window_hop)
    length = data.soprano.shape[1]
    training = np.concatenate(
        [pitch_to_class(data.soprano)[..., None], pitch_to_class(data.lower).astype(np.intp)],
        axis=2,
    )
    known = {row.tobytes() for row in training.astype(np.int16)}
    # Every window of every other-metre chorale, at every step and in every key.
    windows = make_windows(others, length=length, hop=1, align_to_bars=False)
    assert len(windows) > len(others) * 100
    theirs = pitch_to_class(windows.pitch).astype(np.int16)
    assert not any(row.tobytes() in known for row in theirs)
    # The same encoding finds the windows of a training chorale, cut the same way.
    trained = split_chorales(load_chorales())["train"][:1]
    own = make_windows(trained, length=length, hop=config.window_hop)
    assert all(row.tobytes() in known for row in pitch_to_class(own.pitch).astype(np.int16))
