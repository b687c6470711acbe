"""The benchmarks' operation counter (benchmarks/flops.py) against counts made by hand."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from gan_music import nn
from gan_music.models import ModelConfig
from gan_music.train import TrainConfig, Trainer, TrainingData

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
        noise_dim=2, g_channels=4, g_dilations=(1,), d_channels=3, d_dilations=(1, 2)
    ),
)


@pytest.mark.slow
def test_one_training_step_of_a_tiny_config_matches_the_hand_count() -> None:
    """Recount by hand when the networks or the step change: this pins today's structure.

    Batch B = 2 windows of T = 32 steps: convolutions see B * T = 64 rows.
    Generator (lift 1x56x4 = 224, one block 3x4x4 = 48, head 1x4x150 = 600 weights; 56 input
    channels = 49 soprano classes + onset + 4 bar flags + 2 noise): every layer runs forward,
    input gradient and weight gradient once: 3 * 2 * 64 * (224 + 48 + 600) = 334,848.
    Discriminator (272 = 4 * 50 class one-hots and onset flags + 72 interval channels in; conv0 3x272x3 = 2448,
    conv1 3x3x3 = 27, out 3x1 = 3 weights):
    - its own update sees real and fake, 2B = 4 windows (128 rows, 4 for ``out``): forward
      2 * (128 * 2475 + 4 * 3) = 633,624; weight gradients the same; input gradients of
      every layer but conv0, 2 * (128 * 27 + 4 * 3) = 6,936;
    - the generator's update runs it frozen on the B fakes (64 rows, 2 for ``out``): forward
      2 * (64 * 2475 + 2 * 3) = 316,812 and input gradients of every layer, the same.
    Discriminator: 2 * 633,624 + 6,936 + 2 * 316,812 = 1,907,808.
    """
    data = TrainingData.cached(TINY.model.window_steps, TINY.window_hop)
    count = flops.train_step_flops(Trainer(TINY, seed=0), data)
    assert count.network("generator") == 334_848
    assert count.network("discriminator") == 1_907_808
    assert count.total == 2_242_656
    assert count.by_layer["discriminator.convs.0"]["input gradient"] == 2 * 64 * 2448
