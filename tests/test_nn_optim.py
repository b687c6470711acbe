"""Adam, the weight average and the Module bookkeeping (state dicts, parameter discovery)."""

from __future__ import annotations

import numpy as np
import pytest

from gan_music import nn


def test_adam_fits_a_small_linear_regression() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3))
    true_w = np.array([[1.5], [-2.0], [0.5]])
    y = x @ true_w + 0.25
    layer = nn.Linear(3, 1, rng=rng, dtype=np.float64)
    opt = nn.Adam(layer.parameters(), lr=0.05, betas=(0.9, 0.999))
    for _ in range(600):
        error = layer(x) - y
        layer.backward(2 * error / len(x))
        opt.step()
    np.testing.assert_allclose(layer.weight.data, true_w, atol=1e-3)
    np.testing.assert_allclose(layer.bias.data, [0.25], atol=1e-3)


def test_adam_matches_the_textbook_update() -> None:
    w = nn.Parameter(np.array([1.0, -2.0]))
    opt = nn.Adam([w], lr=0.1, betas=(0.5, 0.9), eps=1e-8)
    m = v = np.zeros(2)
    expected = w.data.copy()
    for t, g in enumerate([np.array([0.3, -1.0]), np.array([0.1, 2.0]), np.array([-0.5, 0.0])], 1):
        w.grad[...] = g
        opt.step()
        m = 0.5 * m + 0.5 * g
        v = 0.9 * v + 0.1 * g * g
        expected = expected - 0.1 * (m / (1 - 0.5**t)) / (np.sqrt(v / (1 - 0.9**t)) + 1e-8)
        np.testing.assert_allclose(w.data, expected, rtol=1e-12)


def test_adam_state_round_trip_continues_identically() -> None:
    def run(split: bool) -> np.ndarray:
        w = nn.Parameter(np.array([1.0, -2.0], dtype=np.float32))
        opt = nn.Adam([w], lr=0.1)
        for step in range(6):
            if split and step == 3:
                state = opt.state_dict()
                opt = nn.Adam([w], lr=0.1)
                opt.load_state_dict(state)
            w.grad[...] = w.data * w.data - 1
            opt.step()
        return w.data

    np.testing.assert_array_equal(run(split=False), run(split=True))


def test_adam_state_with_the_wrong_shape_is_refused() -> None:
    opt = nn.Adam([nn.Parameter(np.zeros(3))])
    state = opt.state_dict()
    state["m.0"] = np.zeros(4)
    with pytest.raises(ValueError, match=r"m\.0 has shape \(4,\)"):
        opt.load_state_dict(state)


def test_moving_average_follows_the_weights() -> None:
    layer = nn.Linear(2, 2, rng=np.random.default_rng(0))
    ema = nn.ExponentialMovingAverage(layer, decay=0.9)
    ema.updates = 1000  # past the warm-up
    start = ema.shadow["weight"].copy()
    layer.weight.data[...] = start + 1.0
    for _ in range(10):
        ema.update()
    np.testing.assert_allclose(ema.shadow["weight"], start + 1.0 - 0.9**10, rtol=1e-5)


def test_moving_average_warm_up_forgets_the_start_quickly() -> None:
    layer = nn.Linear(2, 2, rng=np.random.default_rng(0))
    ema = nn.ExponentialMovingAverage(layer, decay=0.999)
    start = ema.shadow["weight"].copy()
    layer.weight.data[...] = start + 1.0
    for _ in range(300):
        ema.update()
    # with a plain 0.999 decay 74% of the start would remain; the warm-up leaves under 4%
    assert np.all(ema.shadow["weight"] - start > 0.96)


def test_state_dict_round_trip_and_mismatches() -> None:
    rng = np.random.default_rng(0)
    a, b = nn.Conv1d(2, 3, 3, rng=rng), nn.Conv1d(2, 3, 3, rng=rng)
    assert not np.array_equal(a.weight.data, b.weight.data)
    b.load_state_dict(a.state_dict())
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    with pytest.raises(KeyError, match="missing"):
        b.load_state_dict({"weight": a.weight.data})
    with pytest.raises(ValueError, match="shape"):
        b.load_state_dict({"weight": np.zeros((1, 2, 3)), "bias": np.zeros(3)})


def test_named_parameters_walk_lists_of_modules() -> None:
    class Stack(nn.Module):
        def __init__(self) -> None:
            rng = np.random.default_rng(0)
            self.layers = [nn.Linear(2, 2, rng=rng), nn.LeakyReLU(), nn.Linear(2, 1, rng=rng)]

    stack = Stack()
    assert list(stack.named_parameters()) == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.2.weight",
        "layers.2.bias",
    ]
    assert stack.n_parameters() == 6 + 3
    assert "Linear(2, 1)" in repr(stack)
