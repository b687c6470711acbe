"""The evaluation table: sane figures on the real test split, targets, formatting, errors."""

from __future__ import annotations

import math
import sys
from types import ModuleType, SimpleNamespace

import numpy as np
import pytest

from gan_music.baselines import Accompanist, NoiseBaseline, RuleBaseline
from gan_music.errors import GanMusicError
from gan_music.evaluate import ROWS, EvaluationTable, evaluate
from gan_music.pianoroll import Score

COLUMNS = ("model", "real", "shuffled", "rule", "noise")


@pytest.fixture(scope="module")
def table() -> EvaluationTable:
    """The test split with the rule baseline standing in for the model."""
    return evaluate(RuleBaseline(), split="test", seed=0)


def test_every_column_has_every_row(table: EvaluationTable) -> None:
    assert tuple(table.columns) == COLUMNS
    for column in table.columns.values():
        assert set(column) == {row for row, _ in ROWS}
    assert abs(table.columns["real"]["critic accuracy"] - 0.5) < 0.15  # Bach against Bach
    assert table.columns["noise"]["critic accuracy"] > 0.95
    assert table.columns["rule"]["critic AUC"] > 0.95
    real, rule = table.columns["real"], table.columns["rule"]
    assert real["lengths L1 A"] == 0.0  # Bach against himself
    assert 0.1 < real["repeats A"] < 0.3  # Bach re-strikes about a fifth of alto notes
    assert rule["repeats B"] == pytest.approx(rule["repeats A"])  # onsets follow the melody
    assert table.n_windows > 100  # 30 test chorales give well over a hundred two-bar windows


def test_real_bach_is_consonant_but_not_trivially(table: EvaluationTable) -> None:
    assert 0.5 < table.columns["real"]["PCS"] < 0.8
    assert table.columns["shuffled"]["PCS"] < table.columns["real"]["PCS"] - 0.3


def test_tonal_distance_orders_rule_real_shuffled(table: EvaluationTable) -> None:
    td = {name: table.columns[name]["TD"] for name in COLUMNS}
    assert td["rule"] < td["real"] < td["shuffled"]
    assert 1.2 < td["real"] < 1.6


def test_only_parallels_expose_the_rule_baseline(table: EvaluationTable) -> None:
    real, rule = table.columns["real"], table.columns["rule"]
    assert rule["PCS"] >= real["PCS"] - 0.05
    assert rule["parallels"] > 0.5
    assert real["parallels"] < 0.01


def test_voice_crossing_real_below_shuffled_below_noise(table: EvaluationTable) -> None:
    crossing = {name: table.columns[name]["crossing"] for name in COLUMNS}
    assert crossing["rule"] == 0.0
    assert crossing["real"] < crossing["shuffled"] < crossing["noise"]


def test_noise_notes_are_short_and_spread_over_the_scale(table: EvaluationTable) -> None:
    noise = table.columns["noise"]
    for voice in "ATB":
        assert noise[f"QN {voice}"] < 0.2
        assert noise[f"UPC {voice}"] > 7
    assert noise["scale"] < table.columns["real"]["scale"] - 0.2


def test_real_bach_fills_every_bar_with_long_notes(table: EvaluationTable) -> None:
    real = table.columns["real"]
    for voice in "SATB":
        assert real[f"EB {voice}"] == 0.0
        assert real[f"QN {voice}"] > 0.9


def test_melody_kept_and_diversity_per_column(table: EvaluationTable) -> None:
    assert math.isnan(table.columns["real"]["melody kept"])
    assert math.isnan(table.columns["real"]["diversity"])
    for name in ("model", "shuffled", "rule", "noise"):
        assert table.columns[name]["melody kept"] == 1.0
    assert table.columns["rule"]["diversity"] == 0.0
    assert table.columns["noise"]["diversity"] > 0.9
    assert table.columns["shuffled"]["diversity"] > 0.5


def test_copying_figures(table: EvaluationTable) -> None:
    assert table.columns["noise"]["copies"] == 0.0
    assert table.columns["noise"]["NN distance"] > 0.7
    assert table.columns["real"]["copies"] < 0.05  # the split keeps a tune out of training
    assert 0.2 < table.columns["real"]["NN distance"] < table.columns["noise"]["NN distance"]


def _chord_windows() -> SimpleNamespace:
    chords = [[72, 67, 64, 48], [74, 65, 62, 50], [71, 67, 62, 43], [72, 64, 60, 48]]
    bars = np.repeat(np.array(chords), 8, axis=0)
    pitch = np.stack([np.roll(bars, 8 * i, axis=0) for i in range(4)]).astype(np.int16)
    return SimpleNamespace(pitch=pitch, onset=np.zeros(pitch.shape, dtype=bool))


def _small_table(accompanist: Accompanist, seed: int = 0) -> EvaluationTable:
    windows = _chord_windows()
    return evaluate(accompanist, windows=windows, train_windows=windows, seed=seed)


def test_same_seed_same_table_other_seed_other_noise() -> None:
    first, again, other = (_small_table(NoiseBaseline(), seed) for seed in (1, 1, 2))
    assert first.columns == again.columns
    assert first.columns["noise"]["PCS"] != other.columns["noise"]["PCS"]


class _LoudMelody:
    """Changes the melody it was given: the evaluation must notice."""

    def harmonise(
        self, melody: Score, *, seed: int, steps_per_bar: int = 16, first_downbeat: int = 0
    ) -> Score:
        harmony = RuleBaseline().harmonise(
            melody, seed=seed, steps_per_bar=steps_per_bar, first_downbeat=first_downbeat
        )
        pitch = harmony.pitch.copy()
        pitch[0, 0] += 1
        return Score(pitch, harmony.onset)


class _ThreeVoices:
    def harmonise(
        self, melody: Score, *, seed: int, steps_per_bar: int = 16, first_downbeat: int = 0
    ) -> Score:
        harmony = RuleBaseline().harmonise(
            melody, seed=seed, steps_per_bar=steps_per_bar, first_downbeat=first_downbeat
        )
        return Score(harmony.pitch[:, :3], harmony.onset[:, :3])


def test_a_changed_melody_is_reported() -> None:
    table = _small_table(_LoudMelody())
    assert table.columns["model"]["melody kept"] == 0.0
    kept = table.check_targets()[0]
    assert not kept.passed
    assert kept.description.startswith("melody kept exactly")


def test_a_wrong_shape_is_an_error() -> None:
    with pytest.raises(GanMusicError, match="must return 4 voices"):
        _small_table(_ThreeVoices())


def test_unknown_split_is_an_error() -> None:
    with pytest.raises(GanMusicError, match="unknown split 'dev'"):
        evaluate(RuleBaseline(), split="dev")


def test_default_accompanist_is_the_shipped_model(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = ModuleType("gan_music.generate")
    fake.load_model = lambda _path=None: NoiseBaseline()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "gan_music.generate", fake)
    windows = _chord_windows()
    table = evaluate(windows=windows, train_windows=windows)
    assert table.columns["model"] == table.columns["noise"]


def _passing_columns() -> dict[str, dict[str, float]]:
    model = {row: 0.0 for row, _ in ROWS}
    model.update({f"QN {v}": 0.95 for v in "SATB"})
    model.update({"melody kept": 1.0, "PCS": 0.6, "TD": 1.5, "parallels": 0.005, "crossing": 0.05})
    model.update({"diversity": 0.1, "copies": 0.05, "critic accuracy": math.nan})
    real = dict(model, TD=1.3)
    return {"model": model, "real": real}


def test_a_trained_model_gets_the_network_column_and_its_nll() -> None:
    from gan_music.generate import load_model

    windows = _chord_windows()
    table = evaluate(load_model(), windows=windows, train_windows=windows)
    assert list(table.columns)[:3] == ["model", "network", "real"]
    nll = table.columns["model"]["NLL"]
    assert nll == table.columns["network"]["NLL"]
    assert 0.0 < nll < np.log(49)  # better than uniform over the 49 classes
    assert math.isnan(table.columns["rule"]["NLL"])
    assert math.isnan(table.columns["model"]["critic accuracy"])  # no chorales, no critic
    descriptions = [target.description for target in table.check_targets()]
    assert any(text.startswith("network alone: parallels") for text in descriptions)


def test_the_critic_row_becomes_a_target() -> None:
    columns = _passing_columns()
    columns["model"]["critic accuracy"] = 0.66
    targets = EvaluationTable(columns, "test", 1, 0).check_targets()
    assert [t.description for t in targets if not t.passed] == ["critic accuracy <= 0.65: 0.6600"]


def test_targets_pass_at_their_limits() -> None:
    table = EvaluationTable(_passing_columns(), split="test", n_windows=1, seed=0)
    results = table.check_targets()
    assert len(results) == 10
    assert all(target.passed for target in results), [t for t in results if not t.passed]


@pytest.mark.parametrize(
    ("row", "value", "failing"),
    [
        ("EB T", 0.01, "EB 0"),
        ("QN B", 0.89, "QN >= 0.9"),
        ("PCS", 0.549, "PCS >= 0.55"),
        ("TD", 1.56, "TD within 0.25"),
        ("TD", 1.04, "TD within 0.25"),
        ("parallels", 0.0101, "parallel fifths"),
        ("crossing", 0.061, "voice crossing"),
        ("diversity", 0.0, "diversity"),
        ("copies", 0.051, "copies"),
        ("lengths L1 B", 0.151, "note lengths"),
        ("PCS", math.nan, "PCS >= 0.55"),
        ("QN A", math.nan, "QN >= 0.9"),
    ],
)
def test_each_target_fails_just_past_its_limit(row: str, value: float, failing: str) -> None:
    columns = _passing_columns()
    columns["model"][row] = value
    table = EvaluationTable(columns, split="test", n_windows=1, seed=0)
    failed = [target.description for target in table.check_targets() if not target.passed]
    assert len(failed) == 1
    assert failed[0].startswith(failing)


def test_markdown_has_one_line_per_row_and_dashes_for_nan(table: EvaluationTable) -> None:
    lines = table.to_markdown().splitlines()
    assert lines[0] == "| metric | model | real | shuffled | rule | noise |"
    assert lines[1] == "|---|---|---|---|---|---|"
    body = lines[2 : 2 + len(ROWS)]
    assert [line.split(" | ")[0].lstrip("| ") for line in body] == [row for row, _ in ROWS]
    assert all(line.count("|") == 7 for line in body)
    assert body[0].split(" | ")[2] == "-"  # the real column's melody-kept cell
    assert lines[-1] == f"test split: {table.n_windows} windows of 32 sixteenths, seed 0"


def test_text_table_is_aligned(table: EvaluationTable) -> None:
    lines = str(table).splitlines()
    assert lines[0].startswith("test split:")
    grid = lines[2:]
    assert len(grid) == len(ROWS) + 2  # header, rule, rows
    assert len({len(line) for line in grid}) == 1  # right-aligned numbers: one width
    parallels = next(line for line in grid if line.startswith("parallels"))
    assert f"{table.columns['rule']['parallels']:.4f}" in parallels
