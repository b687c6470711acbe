"""Every layer's and loss's backward pass against central finite differences, in float64."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from gan_music import nn
from gan_music.nn.module import Array

RNG_SEED = 1234


def numeric_gradient(
    f: Callable[[Array], float], x: Array, n_entries: int = 25
) -> tuple[Array, Array]:
    """Central differences of ``f`` at a random sample of the entries of ``x``."""
    rng = np.random.default_rng(RNG_SEED)
    flat_indices = rng.choice(x.size, size=min(n_entries, x.size), replace=False)
    grads = np.empty(len(flat_indices))
    eps = 1e-6
    for i, flat in enumerate(flat_indices):
        index = np.unravel_index(flat, x.shape)
        saved = x[index]
        x[index] = saved + eps
        up = f(x)
        x[index] = saved - eps
        down = f(x)
        x[index] = saved
        grads[i] = (up - down) / (2 * eps)
    return flat_indices, grads


def check_module(module: nn.Module, x: Array) -> None:
    """The input and every parameter gradient of ``sum(g * module(x))`` match finite differences."""
    rng = np.random.default_rng(RNG_SEED)
    out = module(x.copy())
    upstream = rng.standard_normal(out.shape)
    grad_x = np.array(module.backward(upstream.copy()))
    param_grads = {name: p.grad.copy() for name, p in module.named_parameters().items()}

    def objective(_: Array) -> float:
        return float((module(x.copy()) * upstream).sum())

    indices, expected = numeric_gradient(objective, x)
    np.testing.assert_allclose(grad_x.reshape(-1)[indices], expected, rtol=1e-5, atol=1e-7)
    for name, parameter in module.named_parameters().items():
        indices, expected = numeric_gradient(objective, parameter.data)
        np.testing.assert_allclose(
            param_grads[name].reshape(-1)[indices], expected, rtol=1e-5, atol=1e-7, err_msg=name
        )


def random_input(*shape: int) -> Array:
    return np.random.default_rng(7).standard_normal(shape)


@pytest.mark.parametrize(("kernel", "dilation"), [(1, 1), (3, 1), (3, 4), (2, 3), (5, 2)])
def test_conv1d_gradients(kernel: int, dilation: int) -> None:
    conv = nn.Conv1d(
        3, 4, kernel, dilation=dilation, rng=np.random.default_rng(0), dtype=np.float64
    )
    conv.bias.data[...] = np.random.default_rng(1).standard_normal(4)
    check_module(conv, random_input(2, 9, 3))


def test_conv1d_matches_direct_sum() -> None:
    """The im2col product equals the textbook definition, zero padding included."""
    rng = np.random.default_rng(3)
    conv = nn.Conv1d(2, 3, 3, dilation=2, rng=rng, dtype=np.float64)
    x = rng.standard_normal((1, 6, 2))
    expected = np.tile(conv.bias.data, (6, 1))
    for t in range(6):
        for k in range(3):
            source = t + 2 * (k - 1)
            if 0 <= source < 6:
                expected[t] += x[0, source] @ conv.weight.data[k]
    np.testing.assert_allclose(conv(x)[0], expected, rtol=1e-12)


def test_conv1d_frozen_skips_parameter_gradients_only() -> None:
    conv = nn.Conv1d(2, 2, 3, rng=np.random.default_rng(0), dtype=np.float64)
    x = random_input(1, 5, 2)
    conv(x)
    free = conv.backward(np.ones((1, 5, 2))).copy()
    conv.zero_grad()
    with nn.frozen(conv):
        conv(x)
        np.testing.assert_array_equal(conv.backward(np.ones((1, 5, 2))), free)
    assert not conv.weight.grad.any()
    assert not conv.frozen


def test_linear_gradients() -> None:
    layer = nn.Linear(5, 3, rng=np.random.default_rng(0), dtype=np.float64)
    check_module(layer, random_input(4, 5))


def test_leaky_relu_gradients() -> None:
    x = random_input(3, 4, 5)
    x[np.abs(x) < 1e-3] = 0.5  # keep finite differences away from the kink
    check_module(nn.LeakyReLU(0.2), x)


def test_mean_over_time_gradients() -> None:
    check_module(nn.MeanOverTime(), random_input(2, 7, 3))


@pytest.mark.parametrize(("kernel", "dilation"), [(2, 1), (2, 3), (3, 2)])
def test_causal_conv1d_gradients(kernel: int, dilation: int) -> None:
    conv = nn.Conv1d(
        3, 4, kernel, dilation=dilation, causal=True, rng=np.random.default_rng(0), dtype=np.float64
    )
    conv.bias.data[...] = np.random.default_rng(1).standard_normal(4)
    check_module(conv, random_input(2, 9, 3))


def test_a_causal_conv1d_never_sees_later_steps() -> None:
    """Changing step 5 changes outputs 5 and 5 + dilation * (k - 1) onwards only, never before."""
    conv = nn.Conv1d(2, 2, 3, dilation=2, causal=True, rng=np.random.default_rng(0))
    x = random_input(1, 12, 2).astype(np.float32)
    before = conv(x.copy()).copy()
    x[0, 5] += 1.0
    changed = np.flatnonzero(np.any(conv(x) != before, axis=(0, 2)))
    assert changed.tolist() == [5, 7, 9]


def test_table_sum_gradients() -> None:
    """The table's gradient against finite differences; keys repeat and the zero entry is fixed."""
    table = nn.TableSum(6, dtype=np.float64)
    table.table.data[:6] = random_input(6)
    keys = np.random.default_rng(3).integers(0, 7, (4, 5, 3, 2))  # 7: some keys are the zero
    out = table(keys)
    upstream = np.random.default_rng(4).standard_normal(out.shape)
    table.backward(upstream)

    def objective(values: Array) -> float:
        return float((values[keys].sum(axis=-2) * upstream).sum())

    indices, expected = numeric_gradient(objective, table.table.data.copy(), n_entries=7)
    expected[indices == table.zero] = 0.0
    np.testing.assert_allclose(table.table.grad[indices], expected, rtol=1e-6, atol=1e-9)
    assert table.table.data[table.zero] == 0.0


def test_gumbel_noise_samples_the_softmax() -> None:
    rng = np.random.default_rng(0)
    logits = np.log(np.array([0.5, 0.3, 0.2]))
    picks = (logits + nn.gumbel_noise(rng, (20000, 3), np.float64)).argmax(axis=-1)
    np.testing.assert_allclose(np.bincount(picks) / 20000, [0.5, 0.3, 0.2], atol=0.015)


def test_softmax_cross_entropy_gradient() -> None:
    logits = random_input(2, 3, 6)
    targets = np.random.default_rng(1).integers(0, 6, (2, 3))
    _, grad = nn.softmax_cross_entropy(logits, targets)
    indices, expected = numeric_gradient(lambda z: nn.softmax_cross_entropy(z, targets)[0], logits)
    np.testing.assert_allclose(grad.reshape(-1)[indices], expected, rtol=1e-5, atol=1e-8)


def test_mean_probability_gradient() -> None:
    logits = random_input(2, 3, 6)
    chosen = np.random.default_rng(2).random((2, 3, 6)) < 0.4
    value, grad = nn.mean_probability(logits, chosen)
    p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    assert value == pytest.approx((p * chosen).sum(axis=-1).mean())
    indices, expected = numeric_gradient(lambda z: nn.mean_probability(z, chosen)[0], logits)
    np.testing.assert_allclose(grad.reshape(-1)[indices], expected, rtol=1e-5, atol=1e-8)


def test_mean_probability_is_linear_in_its_weights() -> None:
    logits = random_input(2, 3, 6)
    first, second = (np.random.default_rng(seed).random((2, 3, 6)) < 0.4 for seed in (3, 4))
    value, grad = nn.mean_probability(logits, 2.0 * first + 0.5 * second)
    (v1, g1), (v2, g2) = nn.mean_probability(logits, first), nn.mean_probability(logits, second)
    assert value == pytest.approx(2.0 * v1 + 0.5 * v2)
    np.testing.assert_allclose(grad, 2.0 * g1 + 0.5 * g2, rtol=1e-6, atol=1e-12)


def test_softmax_cross_entropy_is_stable_for_huge_logits() -> None:
    loss, grad = nn.softmax_cross_entropy(np.array([[1000.0, 0.0]]), np.array([1]))
    assert loss == pytest.approx(1000.0)
    assert np.isfinite(grad).all()


@pytest.mark.parametrize("target", [0.0, 1.0])
def test_binary_cross_entropy_gradient(target: float) -> None:
    logits = random_input(6) * 3
    value, grad = nn.binary_cross_entropy_with_logits(logits, target)
    probability = 1 / (1 + np.exp(-logits))
    reference = -np.mean(target * np.log(probability) + (1 - target) * np.log(1 - probability))
    assert value == pytest.approx(reference, rel=1e-12)
    indices, expected = numeric_gradient(
        lambda z: nn.binary_cross_entropy_with_logits(z, target)[0], logits
    )
    np.testing.assert_allclose(grad.reshape(-1)[indices], expected, rtol=1e-5, atol=1e-8)


def test_voice_pair_intervals_backward_is_the_bilinear_gradient() -> None:
    """At one-hot inputs the features equal the bilinear form, and backward is its gradient."""
    from gan_music.nn.intervals import VoicePairIntervals

    rng = np.random.default_rng(5)
    classes = rng.integers(0, 25, (2, 3, 3))  # class 24 is the rest of a 24-pitch axis
    x = np.zeros((2, 3, 3, 25))
    np.put_along_axis(x, classes[..., None], 1.0, axis=-1)
    layer = VoicePairIntervals(3, n_pitches=24)
    upstream = rng.standard_normal((2, 3, 3 * 12))

    def bilinear(z: Array) -> Array:
        chroma = z[..., :24].reshape(2, 3, 3, 2, 12).sum(axis=3)
        k, a = np.meshgrid(np.arange(12), np.arange(12), indexing="ij")
        pairs = [(0, 1), (0, 2), (1, 2)]
        feats = [
            np.einsum("bta,btka->btk", chroma[:, :, u], chroma[:, :, v][..., (a - k) % 12])
            for u, v in pairs
        ]
        return np.concatenate(feats, axis=-1)

    np.testing.assert_allclose(layer(x), bilinear(x))
    grad = layer.backward(upstream)
    indices, expected = numeric_gradient(lambda z: float((bilinear(z) * upstream).sum()), x, 60)
    np.testing.assert_allclose(grad.reshape(-1)[indices], expected, rtol=1e-5, atol=1e-8)


def test_voice_pair_intervals_of_one_hots() -> None:
    from gan_music.nn.intervals import VoicePairIntervals

    x = np.zeros((1, 1, 3, 49))
    x[0, 0, 0, 40] = 1  # E5
    x[0, 0, 1, 48] = 1  # rest
    x[0, 0, 2, 12] = 1  # C3
    features = VoicePairIntervals(3)(x).reshape(3, 12)
    assert features[0].sum() == 0  # against a rest
    assert features[1].nonzero()[0].tolist() == [4]  # a major third (tenth) above
    assert features[2].sum() == 0


@pytest.mark.parametrize("rows", [1, 7, 32, 2000])
def test_blocked_small_products_equal_plain_matmul(rows: int) -> None:
    from gan_music.nn.conv1d import matmul_small_aware

    rng = np.random.default_rng(rows)
    a, b = rng.standard_normal((rows, 288)), rng.standard_normal((288, 96))
    out = np.empty((rows, 96))
    matmul_small_aware(a, b, out)
    np.testing.assert_allclose(out, a @ b, rtol=1e-10, atol=1e-10)
