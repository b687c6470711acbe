"""Adam: per-parameter step sizes from running means of the gradient and its square.

Defaults follow the GAN habit ``betas = (0.5, 0.9)``. Updates happen in place with two
scratch arrays per parameter, allocated once.

>>> import numpy as np
>>> from gan_music.nn.module import Parameter
>>> w = Parameter(np.array([3.0]))
>>> opt = Adam([w], lr=0.1)
>>> for _ in range(100):
...     w.grad[...] = 2 * w.data  # gradient of w**2
...     opt.step()
>>> abs(float(w.data[0])) < 0.1
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from gan_music.nn.module import Array, Parameter


class Adam:
    """``w -= lr * m_hat / (sqrt(v_hat) + eps)`` with bias-corrected moment estimates."""

    def __init__(
        self,
        parameters: Sequence[Parameter],
        *,
        lr: float = 2e-4,
        betas: tuple[float, float] = (0.5, 0.9),
        eps: float = 1e-8,
    ) -> None:
        self.parameters = list(parameters)
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.t = 0
        self.m = [np.zeros_like(p.data) for p in self.parameters]
        self.v = [np.zeros_like(p.data) for p in self.parameters]
        self._scratch = [np.empty_like(p.data) for p in self.parameters]

    def step(self) -> None:
        """Apply one update from the gradients currently stored in the parameters."""
        self.t += 1
        correction1 = 1.0 - self.beta1**self.t
        correction2 = 1.0 - self.beta2**self.t
        step_size = self.lr * (correction2**0.5) / correction1
        eps = self.eps * correction2**0.5
        for p, m, v, tmp in zip(self.parameters, self.m, self.v, self._scratch, strict=True):
            _adam_update(p, m, v, tmp, (self.beta1, self.beta2), step_size, eps)

    def state_dict(self) -> dict[str, Array]:
        """The moment estimates and step count, as arrays for a checkpoint."""
        state: dict[str, Array] = {"t": np.array(self.t, dtype=np.int64)}
        for index, (m, v) in enumerate(zip(self.m, self.v, strict=True)):
            state[f"m.{index}"] = m.copy()
            state[f"v.{index}"] = v.copy()
        return state

    def load_state_dict(self, state: Mapping[str, Array]) -> None:
        """Restore what :meth:`state_dict` returned; shapes must match the parameters."""
        self.t = int(state["t"])
        for index, (m, v) in enumerate(zip(self.m, self.v, strict=True)):
            for name, target in ((f"m.{index}", m), (f"v.{index}", v)):
                value = np.asarray(state[name])
                if value.shape != target.shape:
                    msg = f"optimiser state {name} has shape {value.shape}, expected {target.shape}"
                    raise ValueError(msg)
                target[...] = value


def _adam_update(
    p: Parameter,
    m: Array,
    v: Array,
    tmp: Array,
    betas: tuple[float, float],
    step_size: float,
    eps: float,
) -> None:
    """One in-place Adam update of ``p`` with moments ``m``, ``v`` and scratch space ``tmp``."""
    beta1, beta2 = betas
    np.multiply(m, beta1, out=m)
    np.multiply(p.grad, 1.0 - beta1, out=tmp)
    np.add(m, tmp, out=m)
    np.multiply(v, beta2, out=v)
    np.multiply(p.grad, p.grad, out=tmp)
    np.multiply(tmp, 1.0 - beta2, out=tmp)
    np.add(v, tmp, out=v)
    np.sqrt(v, out=tmp)
    np.add(tmp, eps, out=tmp)
    np.divide(m, tmp, out=tmp)
    np.multiply(tmp, step_size, out=tmp)
    np.subtract(p.data, tmp, out=p.data)
