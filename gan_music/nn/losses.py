"""Losses as plain functions returning ``(value, gradient with respect to the logits)``.

* :func:`softmax_cross_entropy`: how far predicted pitch distributions are from the real
  pitches, the generator's "deviation from the data" term.
* :func:`binary_cross_entropy_with_logits`: the non-saturating GAN losses. The
  discriminator minimises it with target 1 on real and 0 on generated pieces; the generator
  minimises it with target 1 on its own pieces (it wants them taken for real).

>>> import numpy as np
>>> loss, grad = softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
>>> round(loss, 4), grad[0].tolist()
(1.3863, [-0.375, 0.125, 0.125, 0.125])
>>> loss, grad = binary_cross_entropy_with_logits(np.array([0.0]), 1.0)
>>> round(loss, 4), grad.tolist()
(0.6931, [-0.5])
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gan_music.nn.module import Array


def log_softmax(logits: Array, axis: int = -1) -> Array:
    """``log(softmax(logits))``, computed without overflow."""
    shifted = logits - logits.max(axis=axis, keepdims=True)
    shifted -= np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
    result: Array = shifted
    return result


def softmax_cross_entropy(logits: Array, targets: NDArray[np.integer]) -> tuple[float, Array]:
    """Mean of ``-log softmax(logits)[target]`` over all positions; logits ``(..., classes)``."""
    log_p = log_softmax(logits)
    flat = log_p.reshape(-1, log_p.shape[-1])
    rows = np.arange(flat.shape[0])
    picked = flat[rows, targets.reshape(-1)]
    loss = -float(picked.mean(dtype=np.float64))
    grad = np.exp(log_p)  # softmax
    grad.reshape(flat.shape)[rows, targets.reshape(-1)] -= 1.0
    grad /= flat.shape[0]
    return loss, grad


def mean_probability(logits: Array, weights: NDArray[np.bool_] | Array) -> tuple[float, Array]:
    """Mean over positions of the softmax probability of the weighted classes, and its gradient.

    ``weights`` has the shape of ``logits`` ``(..., classes)``: a mask of the classes to count,
    or one weight per class (the value is linear in them, so two masks with their weights
    summed cost one softmax). Minimised, it teaches a network to avoid those classes (an
    "unlikelihood" term): with ``share`` the weighted probability at a position, the
    gradient for logit ``k`` is ``p_k * (weights_k - share)``, divided by the number of
    positions.

    >>> value, grad = mean_probability(np.zeros((1, 4), np.float32), np.array([[1, 0, 0, 0]], bool))
    >>> value, grad.round(4).tolist()
    (0.25, [[0.1875, -0.0625, -0.0625, -0.0625]])
    """
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    p /= p.sum(axis=-1, keepdims=True)
    weighted = p * weights
    share = weighted.sum(axis=-1, keepdims=True)
    grad = weighted - p * share
    grad /= p.size // p.shape[-1]
    return float(share.mean(dtype=np.float64)), grad.astype(logits.dtype, copy=False)


def binary_cross_entropy_with_logits(logits: Array, target: float | Array) -> tuple[float, Array]:
    """Mean of ``-[t log sigmoid(x) + (1-t) log(1 - sigmoid(x))]`` with ``t = target``.

    ``target`` is one number for every logit, or an array of 0/1 targets of their shape.
    """
    softplus_neg = np.logaddexp(0.0, -logits)  # -log sigmoid(x)
    loss = target * softplus_neg + (1.0 - target) * (softplus_neg + logits)
    sigmoid = np.exp(-softplus_neg)
    grad = (sigmoid - target) / logits.size
    return float(loss.mean(dtype=np.float64)), grad.astype(logits.dtype, copy=False)
