"""A 1-D convolution over time, channels last: ``(batch, steps, channels_in) -> (batch, steps, channels_out)``.

Output step ``t`` sees input steps ``t + dilation * (k - left)`` for each tap ``k``, where
``left`` is the zero padding on the left; the padding keeps the number of steps unchanged
("same" convolution), so the layer runs on pieces of any length. A **causal** convolution
pads on the left only, so output step ``t`` sees input steps ``t`` and before, never after:
what a network that writes music step by step may look at.

The forward pass is one matrix product. The input is copied into a zero-padded buffer;
a strided view of that buffer shows, for every output step, its ``kernel_size`` input rows
side by side (im2col) without copying; that view is copied once into a preallocated
``(batch * steps, kernel_size * channels_in)`` buffer and multiplied by the weight matrix
with ``np.matmul(out=)``. The backward pass is two more products and ``kernel_size``
shifted additions (col2im). No array is allocated after the first call of a given shape.

>>> import numpy as np
>>> conv = Conv1d(1, 1, kernel_size=3, dilation=2, rng=np.random.default_rng(0))
>>> conv.weight.data[...] = [[[1.0]], [[10.0]], [[100.0]]]
>>> conv.bias.data[...] = 0.0
>>> x = np.zeros((1, 5, 1), np.float32); x[0, 2, 0] = 1.0
>>> conv(x)[0, :, 0].tolist()
[100.0, 0.0, 10.0, 0.0, 1.0]
>>> causal = Conv1d(1, 1, kernel_size=2, dilation=2, causal=True, rng=np.random.default_rng(0))
>>> causal.weight.data[...] = [[[10.0]], [[1.0]]]  # tap 0 sees step t - 2, tap 1 step t
>>> causal.bias.data[...] = 0.0
>>> causal(x)[0, :, 0].tolist()
[0.0, 0.0, 1.0, 0.0, 10.0]
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided
from numpy.typing import DTypeLike

from gan_music.nn.module import Array, Module, Parameter, Workspace

SMALL_PRODUCT = 1 << 22  #: multiply-adds below which threads cost more than they save
ONE_THREAD_PRODUCT = 1 << 18  #: OpenBLAS runs a product this small on a single thread


def matmul_small_aware(a: Array, b: Array, out: Array) -> None:
    """``np.matmul(a, b, out=out)``, cut into row blocks when the product is small.

    Multi-threaded BLAS gains nothing on a product as small as one two-bar window's, and on
    a machine whose cores are busy its threads wait for each other: a 32-row product was
    measured at 25 ms instead of 0.1 ms. Row blocks small enough for OpenBLAS to run on one
    thread avoid that; large products (every training step, long pieces) are left whole.
    """
    rows, inner = a.shape
    width = b.shape[1]
    if rows * inner * width >= SMALL_PRODUCT:
        np.matmul(a, b, out=out)
        return
    block = max(1, ONE_THREAD_PRODUCT // (inner * width + 1))
    for start in range(0, rows, block):
        np.matmul(a[start : start + block], b, out=out[start : start + block])


class Conv1d(Module):
    """Dilated "same" (or ``causal``) convolution over the steps axis; weight (kernel, in, out)."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int = 3,
        *,
        dilation: int = 1,
        causal: bool = False,
        rng: np.random.Generator,
        gain: float = 2.0**0.5,
        dtype: DTypeLike = np.float32,
    ) -> None:
        fan_in = kernel_size * in_channels
        bound = gain * (3.0 / fan_in) ** 0.5  # uniform with std gain / sqrt(fan_in)
        weight = rng.uniform(-bound, bound, (kernel_size, in_channels, out_channels))
        self.weight = Parameter(weight.astype(dtype))
        self.bias = Parameter(np.zeros(out_channels, dtype))
        self.kernel_size = kernel_size
        self.dilation = dilation
        self.causal = causal
        span = dilation * (kernel_size - 1)
        self.pad_left = span if causal else span // 2
        self.pad_right = span - self.pad_left
        self.workspace = Workspace()
        self._cols: Array | None = None

    def extra_repr(self) -> str:
        k, c_in, c_out = self.weight.shape
        causal = ", causal=True" if self.causal else ""
        return f"{c_in}, {c_out}, kernel_size={k}, dilation={self.dilation}{causal}"

    def forward(self, x: Array) -> Array:
        batch, steps, c_in = x.shape
        k, c_out = self.kernel_size, self.weight.shape[2]
        space, dtype = self.workspace, self.weight.data.dtype
        padded = space.get(
            "padded", (batch, steps + self.pad_left + self.pad_right, c_in), dtype, zeros=True
        )
        padded[:, self.pad_left : self.pad_left + steps] = x  # the pad rows stay zero
        s_batch, s_step, s_channel = padded.strides
        taps = as_strided(
            padded,
            shape=(batch, steps, k, c_in),
            strides=(s_batch, s_step, self.dilation * s_step, s_channel),
            writeable=False,
        )
        cols = space.get("cols", (batch * steps, k * c_in), dtype)
        np.copyto(cols.reshape(batch, steps, k, c_in), taps)
        out = space.get("out", (batch * steps, c_out), dtype)
        matmul_small_aware(cols, self.weight.data.reshape(k * c_in, c_out), out)
        out += self.bias.data
        self._cols = cols
        return out.reshape(batch, steps, c_out)

    def backward(self, grad_out: Array) -> Array:
        if self._cols is None:
            msg = "backward called before forward"
            raise RuntimeError(msg)
        batch, steps, c_out = grad_out.shape
        k, c_in = self.kernel_size, self.weight.shape[1]
        space, dtype = self.workspace, self.weight.data.dtype
        grad2d = np.ascontiguousarray(grad_out).reshape(batch * steps, c_out)
        if not self.frozen:
            self._parameter_grads(grad2d)
        grad_cols = space.get("grad_cols", (batch * steps, k * c_in), dtype)
        np.matmul(grad2d, self.weight.data.reshape(k * c_in, c_out).T, out=grad_cols)
        grad_taps = grad_cols.reshape(batch, steps, k, c_in)
        if k == 1:
            return grad_taps[:, :, 0]
        grad_padded = space.get(
            "grad_padded", (batch, steps + self.pad_left + self.pad_right, c_in), dtype
        )
        grad_padded[:, steps:] = 0.0
        grad_padded[:, :steps] = grad_taps[:, :, 0]
        for tap in range(1, k):
            start = tap * self.dilation
            grad_padded[:, start : start + steps] += grad_taps[:, :, tap]
        grad_x = space.get("grad_x", (batch, steps, c_in), dtype)
        np.copyto(grad_x, grad_padded[:, self.pad_left : self.pad_left + steps])
        return grad_x

    def backward_parameters_only(self, grad_out: Array) -> None:
        """Write the weight and bias gradients but skip the input gradient (a first layer's)."""
        grad2d = np.ascontiguousarray(grad_out).reshape(-1, grad_out.shape[-1])
        self._parameter_grads(grad2d)

    def _parameter_grads(self, grad2d: Array) -> None:
        if self._cols is None:
            msg = "backward called before forward"
            raise RuntimeError(msg)
        k, c_in, c_out = self.weight.shape
        np.matmul(self._cols.T, grad2d, out=self.weight.grad.reshape(k * c_in, c_out))
        grad2d.sum(axis=0, out=self.bias.grad)
