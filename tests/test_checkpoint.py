"""Checkpoint files: round trips, and a clear CheckpointError for every kind of bad file."""

from __future__ import annotations

import json
import os
import pickle
import re
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from gan_music.checkpoint import FORMAT_VERSION, MAX_MEMBERS, load_checkpoint, save_checkpoint
from gan_music.errors import CheckpointError
from gan_music.generate import load_model
from gan_music.limits import (
    MODEL_LIMITS,
    TRAIN_LIMITS,
    model_config_from_json,
    parameter_counts,
    train_values_from_json,
    unlimited_fields,
)
from gan_music.models import Discriminator, Generator, ModelConfig
from gan_music.train import (
    TrainConfig,
    Trainer,
    _resume,
    export_model,
    save_training_checkpoint,
)

SMALL = ModelConfig(
    g_channels=4,
    g_dilations=(1,),
    h_dilations=(1,),
    head_channels=4,
    relations=False,
    d_channels=4,
    d_dilations=(1,),
)


class CreatesMarker:
    """Unpickling this object creates a file: the proof that a loader executed it."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.marker),))


def small_model_file(path: Path) -> Path:
    generator = Generator(SMALL, rng=np.random.default_rng(0))
    export_model(path, SMALL, generator.state_dict())
    return path


def test_round_trip_keeps_arrays_and_metadata(tmp_path: Path) -> None:
    arrays = {"a/b": np.arange(6, dtype=np.float32).reshape(2, 3), "step": np.array(7)}
    save_checkpoint(tmp_path / "c.npz", kind="training", config="{}", arrays=arrays)
    loaded = load_checkpoint(tmp_path / "c.npz")
    assert (loaded.kind, loaded.config) == ("training", "{}")
    np.testing.assert_array_equal(loaded.arrays["a/b"], arrays["a/b"])
    assert loaded.arrays["a/b"].dtype == np.float32


def test_a_model_file_and_a_training_checkpoint_both_load(tmp_path: Path) -> None:
    harmoniser = load_model(small_model_file(tmp_path / "model.npz"))
    assert harmoniser.config == SMALL
    generator = Generator(SMALL, rng=np.random.default_rng(1))
    arrays = {f"ema/{n}": v for n, v in generator.state_dict().items()}
    save_checkpoint(tmp_path / "train.npz", kind="training", config=SMALL.to_json(), arrays=arrays)
    loaded = load_model(tmp_path / "train.npz")
    np.testing.assert_array_equal(loaded.generator.lift.weight.data, generator.lift.weight.data)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="does not exist"):
        load_checkpoint(tmp_path / "nope.npz")
    with pytest.raises(CheckpointError, match="is a folder"):
        load_checkpoint(tmp_path)


def test_a_file_that_is_not_an_npz(tmp_path: Path) -> None:
    path = tmp_path / "notes.npz"
    path.write_text("just some text\n")
    with pytest.raises(CheckpointError, match=r"not a checkpoint \(\.npz\) file"):
        load_checkpoint(path)


def test_a_truncated_file(tmp_path: Path) -> None:
    path = small_model_file(tmp_path / "model.npz")
    data = path.read_bytes()
    for cut in (len(data) // 2, len(data) - 30):
        path.write_bytes(data[:cut])
        with pytest.raises(CheckpointError, match=r"truncated|damaged"):
            load_model(path)


def test_a_pickled_object_inside_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    payload = np.array([CreatesMarker(marker)], dtype=object)
    path = tmp_path / "evil.npz"
    entries = {"format_version": np.array(FORMAT_VERSION), "kind": np.array("model")}
    entries |= {"config": np.array("{}"), "g/w": payload}
    np.savez(path, **entries)  # type: ignore[arg-type]
    with pytest.raises(CheckpointError, match="pickled Python object; refusing"):
        load_model(path)
    assert not marker.exists()
    # the payload is live: a loader that allowed pickles would have run it
    with np.load(path, allow_pickle=True) as archive:
        archive["g/w"]
    assert marker.exists()


def test_a_bare_pickle_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "executed"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps(CreatesMarker(marker)))
    with pytest.raises(CheckpointError, match="not a checkpoint"):
        load_model(path)
    assert not marker.exists()


def test_wrong_format_version(tmp_path: Path) -> None:
    path = tmp_path / "old.npz"
    np.savez(
        path,
        format_version=np.array(FORMAT_VERSION + 1),
        kind=np.array("model"),
        config=np.array("{}"),
    )
    with pytest.raises(CheckpointError, match=f"checkpoint format {FORMAT_VERSION + 1}"):
        load_checkpoint(path)


def test_missing_metadata_and_missing_weights(tmp_path: Path) -> None:
    path = tmp_path / "bare.npz"
    np.savez(path, weights=np.zeros(3))
    with pytest.raises(CheckpointError, match="not a gan-music checkpoint"):
        load_checkpoint(path)
    save_checkpoint(tmp_path / "empty.npz", kind="model", config=SMALL.to_json(), arrays={})
    with pytest.raises(CheckpointError, match=r"missing g/lift\.weight"):
        load_model(tmp_path / "empty.npz")


def test_wrong_shapes_name_the_array(tmp_path: Path) -> None:
    generator = Generator(SMALL, rng=np.random.default_rng(0))
    arrays = {f"g/{n}": v for n, v in generator.state_dict().items()}
    arrays["g/lift.bias"] = np.zeros(5, np.float32)
    save_checkpoint(tmp_path / "bad.npz", kind="model", config=SMALL.to_json(), arrays=arrays)
    with pytest.raises(CheckpointError, match=r"g/lift\.bias has shape \(5,\)"):
        load_model(tmp_path / "bad.npz")


def test_unreadable_config_and_wrong_kind(tmp_path: Path) -> None:
    save_checkpoint(tmp_path / "c.npz", kind="model", config="{not json", arrays={})
    with pytest.raises(CheckpointError, match="unreadable model configuration"):
        load_model(tmp_path / "c.npz")
    save_checkpoint(tmp_path / "k.npz", kind="picture", config="{}", arrays={})
    with pytest.raises(CheckpointError, match="'picture' checkpoint"):
        load_model(tmp_path / "k.npz")


def test_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = small_model_file(tmp_path / "model.npz")
    before = path.read_bytes()
    with pytest.raises(ValueError, match="reserved"):
        save_checkpoint(path, kind="model", config="{}", arrays={"kind": np.zeros(1)})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


# Limits on what a checkpoint's configuration may ask for (gan_music.limits) -----------------


def test_every_config_field_has_a_limit() -> None:
    """A field added to ModelConfig or TrainConfig without an entry in the limits fails here."""
    assert unlimited_fields(ModelConfig, MODEL_LIMITS) == set()
    assert unlimited_fields(TrainConfig, TRAIN_LIMITS, skip=("model",)) == set()
    assert set(MODEL_LIMITS) <= {f.name for f in fields(ModelConfig)}
    assert set(TRAIN_LIMITS) <= {f.name for f in fields(TrainConfig)}


def test_the_defaults_are_inside_every_limit() -> None:
    assert model_config_from_json(ModelConfig().to_json(), where="m") == ModelConfig()
    assert train_values_from_json(TrainConfig().to_json(), where="m") == json.loads(
        TrainConfig().to_json()
    )


@pytest.mark.parametrize(
    "config",
    [
        ModelConfig(),
        SMALL,
        ModelConfig(
            g_channels=7, g_dilations=(3, 1), h_dilations=(2,), head_channels=3, d_channels=5
        ),
    ],
)
def test_parameter_counts_match_the_networks(config: ModelConfig) -> None:
    counts = parameter_counts(config)
    assert counts["generator"] == Generator(config, rng=np.random.default_rng(0)).n_parameters()
    critic = Discriminator(config, rng=np.random.default_rng(0))
    assert counts["discriminator"] == critic.n_parameters()


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"g_dilations": [1] * 200_000}, "g_dilations has 200000 entries"),
        ({"g_channels": 30_000}, "g_channels is 30000"),
        ({"d_channels": 0}, "d_channels is 0"),
        ({"g_dilations": [10**9]}, "g_dilations [0] is 1000000000"),
        ({"d_dilations": []}, "d_dilations has 0 entries"),
        ({"head_channels": -1}, "head_channels is -1"),
        ({"head_channels": True}, "head_channels is True, not a whole number"),
        ({"head_channels": 2.5}, "head_channels is 2.5, not a whole number"),
        ({"relations": 1}, "relations is 1, not true or false"),
        ({"h_dilations": [1024] * 5}, "dilations add up to 5120"),
        ({"noise_dim": 16}, "unknown field 'noise_dim'"),
        ({"slope": float("nan")}, "slope is nan"),
        ({"slope": "0.2"}, "slope is '0.2', not a number"),
        ({"extra": {"k": [1] * 10}}, "extra ['k'] is"),
        ({"surprise": 1}, "unknown field 'surprise'"),
        ({"g_channels": 512, "g_dilations": [1] * 32}, "a generator of 28,"),
        ({"g_dilations": [1024] * 5}, "dilations add up to 5120"),
    ],
)
def test_configs_outside_the_limits_are_refused(change: dict[str, object], words: str) -> None:
    values = json.loads(ModelConfig().to_json()) | change
    with pytest.raises(CheckpointError, match=re.escape(words)):
        model_config_from_json(json.dumps(values), where="m.npz")


@pytest.mark.parametrize("text", ["[1, 2]", "{not json", "[" * 100_000 + "]" * 100_000])
def test_configs_that_are_not_objects_are_refused(text: str) -> None:
    with pytest.raises(CheckpointError, match=r"m\.npz: "):
        model_config_from_json(text, where="m.npz")


def test_a_training_schedule_outside_the_limits_is_refused() -> None:
    values = json.loads(TrainConfig().to_json()) | {"batch_size": 10**9}
    with pytest.raises(CheckpointError, match="batch_size is 1000000000"):
        train_values_from_json(json.dumps(values), where="c.npz")


def test_a_training_checkpoint_round_trips_through_the_checks(tmp_path: Path) -> None:
    trainer = Trainer(TrainConfig(model=SMALL), seed=3)
    save_training_checkpoint(tmp_path, trainer)
    loaded = _resume(tmp_path)
    assert loaded.config == trainer.config
    np.testing.assert_array_equal(
        loaded.generator.lift.weight.data, trainer.generator.lift.weight.data
    )


def test_an_unknown_member_of_a_training_checkpoint_is_refused(tmp_path: Path) -> None:
    trainer = Trainer(TrainConfig(model=SMALL), seed=3)
    arrays = trainer.state_arrays() | {"d/extra": np.zeros(2, np.float32)}
    path = tmp_path / "checkpoint.npz"
    save_checkpoint(path, kind="training", config=SMALL.to_json(), arrays=arrays)
    with pytest.raises(CheckpointError, match="'d/extra', which this model has no use for"):
        _resume(tmp_path)


def test_many_members_are_refused_before_the_directory_is_read(tmp_path: Path) -> None:
    path = tmp_path / "many.npz"
    arrays = {f"a{index}": np.zeros(1) for index in range(MAX_MEMBERS + 1)}
    save_checkpoint(path, kind="model", config="{}", arrays=arrays)
    with pytest.raises(CheckpointError, match=f"lists {MAX_MEMBERS + 4} members"):
        load_checkpoint(path)


def test_an_end_record_that_understates_the_members_is_caught(tmp_path: Path) -> None:
    path = tmp_path / "many.npz"
    arrays = {f"a{index}": np.zeros(1) for index in range(MAX_MEMBERS + 1)}
    save_checkpoint(path, kind="model", config="{}", arrays=arrays)
    data = bytearray(path.read_bytes())
    end = data.rindex(b"PK\x05\x06")
    data[end + 8 : end + 12] = (3).to_bytes(2, "little") * 2  # claims 3 members
    path.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match=f"holds {MAX_MEMBERS + 4} members"):
        load_checkpoint(path)
