"""The benchmarks' operation counter (benchmarks/flops.py) against counts made by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from gan_music import decode, nn
from gan_music.models import ModelConfig
from gan_music.train import TrainConfig, TrainingData

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
if not (BENCHMARKS / "flops.py").is_file():
    pytest.skip(f"{BENCHMARKS} is missing: these tests need a checkout", allow_module_level=True)
sys.path.insert(0, str(BENCHMARKS))
import flops  # type: ignore[import-not-found]  # benchmarks/ is outside mypy's files


def test_each_kind_of_product_is_counted_once_with_the_rows_the_layer_saw() -> None:
    rng = np.random.default_rng(0)
    conv = nn.Conv1d(5, 4, 3, dilation=2, rng=rng)  # 3 * 5 * 4 = 60 weights
    head = nn.Linear(4, 2, rng=rng)  # 8 weights
    x = np.ones((2, 7, 5), np.float32)  # 14 rows for the convolution
    with flops.counting({"conv": conv, "head": head}) as count:
        h = conv(x)
        out = head(h.mean(axis=1))  # 2 rows for the linear layer
        conv.backward_parameters_only(np.ones_like(h))
        with nn.frozen(head):
            head.backward(np.ones_like(out))
    assert count.by_layer == {
        "conv": {"forward": 2 * 14 * 60, "input gradient": 0, "weight gradient": 2 * 14 * 60},
        "head": {"forward": 2 * 2 * 8, "input gradient": 2 * 2 * 8, "weight gradient": 0},
    }
    assert count.total == 3360 + 64
    # Afterwards the layers are as they were: no counting methods left behind.
    assert not {"forward", "backward", "backward_parameters_only"} & set(vars(conv))
    conv(x)
    assert count.total == 3424


def test_a_layer_with_parameters_of_an_unknown_kind_is_refused() -> None:
    class Scale(nn.Module):
        def __init__(self) -> None:
            self.gain = nn.Parameter(np.ones(1, np.float32))

    first = nn.Linear(2, 2, rng=np.random.default_rng(0))
    refused = pytest.raises(ValueError, match=r"net\.layers\.1 \(Scale\) has parameters")
    with refused, flops.counting({"net": Stack([first, Scale()])}):
        pass
    assert "forward" not in vars(first)  # the layer counted before the refusal is restored


class Stack(nn.Module):
    def __init__(self, layers: list[nn.Module]) -> None:
        self.layers = layers


TINY = TrainConfig(
    batch_size=2,
    model=ModelConfig(
        g_channels=4,
        g_dilations=(1,),
        h_dilations=(1,),
        head_channels=3,
        d_channels=3,
        d_dilations=(1, 2),
        window_steps=16,
    ),
)


def test_the_relation_table_is_listed_with_no_products() -> None:
    """A TableSum has a parameter but multiplies nothing: allowed, and counted as 0."""
    table = nn.TableSum(5)
    with flops.counting({"net": Stack([table])}) as count:
        table(np.zeros((2, 3, 4), np.intp))
    assert count.by_layer == {"net.layers.0": dict.fromkeys(flops.KINDS, 0)}


def test_the_schedule_has_both_kinds_of_step_in_its_shares() -> None:
    config = TrainConfig(steps=10, adv_fraction=0.3)
    assert flops.first_step(config, "cross-entropy") == 0
    assert flops.first_step(config, "adversarial") == 7
    assert flops.schedule_shares(config) == pytest.approx(
        {"cross-entropy": 0.7, "adversarial": 0.3}
    )
    with pytest.raises(ValueError, match="no adversarial step"):
        flops.first_step(TrainConfig(steps=10, adv_weight=0.0), "adversarial")


@pytest.mark.slow
def test_one_step_of_each_kind_of_a_tiny_config_matches_the_hand_count() -> None:
    """Recount by hand when the networks or the step change: this pins today's structure.

    Batch B = 2 windows of T = 16 steps: convolutions see B * T = 32 rows.
    Generator weights: lift 1x54x4 = 216 (54 melody channels: 49 soprano classes, onset,
    4 bar flags), one block 3x4x4 = 48, history lift 1x150x4 = 600 (the three voices' views
    at the step before), one causal block 2x4x4 = 32; heads: alto (4 + 2 * 50)x3 = 312,
    tenor (4 + 50)x3 = 162, bass 4x3 = 12, each out 3x50 = 150; W = 1,832 in all. The
    relation table multiplies nothing (0).

    Cross-entropy step: every layer forward, input gradient and weight gradient on the 32
    rows, but for the history lift's input gradient (its input is the voices):
    2 * 32 * (3 * 1,832 - 600) = 313,344; the discriminator does nothing.

    Adversarial step:
    - the sampler writes B = 2 fakes: melody features (lift and block, 32 rows)
      2 * 32 * (216 + 48) = 16,896; each of the 16 steps runs the heads on 2 rows,
      2 * 2 * 16 * (312 + 162 + 12 + 3 * 150) = 59,904, the history lift on 2 rows,
      2 * 2 * 16 * 600 = 38,400, and the causal block's taps on 2 rows, the newest on all 16
      steps and the one a step back on 15: 2 * 2 * (16 + 15) * 16 = 1,984. Sampler: 117,184;
    - the generator's teacher-forced update on Bach's windows and the fakes, 2B = 4 windows
      (64 rows): 2 * 64 * (3 * 1,832 - 600) = 626,688. Generator: 743,872;
    - the discriminator (272 = 4 * 50 class one-hots and onset flags + 72 interval channels
      in; conv0 3x272x3 = 2,448, conv1 3x3x3 = 27, out 3x1 = 3 weights; 2,475 in the
      convolutions) updates on real and fake, 2B = 4 windows (64 rows, 4 for ``out``):
      forward 2 * (64 * 2,475 + 4 * 3) = 316,824, weight gradients the same, input gradients
      of every layer but conv0, 2 * (64 * 27 + 4 * 3) = 3,480 (its fresh loss, about 1.39,
      is above the floor); then its frozen pass scores the B fakes (32 rows, 2 for ``out``):
      2 * (32 * 2,475 + 2 * 3) = 158,412, no backward (the generator learns by REINFORCE).
      Discriminator: 795,540.
    """
    data = TrainingData.cached(TINY.model.window_steps, TINY.window_hop)
    counts = flops.step_flops(TINY, 0, data)
    ce, adversarial = counts["cross-entropy"], counts["adversarial"]
    assert ce.network("generator") == 313_344
    assert ce.network("discriminator") == 0
    assert (ce.samples, ce.sampler) == (0, 0)
    assert ce.by_layer["generator.history_lift"]["input gradient"] == 0
    assert ce.by_layer["generator.tables"] == dict.fromkeys(flops.KINDS, 0)

    assert (adversarial.samples, adversarial.sampler) == (1, 117_184)
    assert adversarial.network("generator") == 117_184 + 626_688
    assert adversarial.network("discriminator") == 795_540
    assert adversarial.total == 1_539_412
    assert adversarial.by_layer["generator.history.0.conv"]["forward"] == 1_984 + 2 * 64 * 32
    assert adversarial.by_layer["discriminator.convs.0"]["input gradient"] == 0
    assert flops.TRAINING.sample_voices is decode.sample_voices  # the wrapper is gone
