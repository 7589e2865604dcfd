"""The C callbacks nutpie calls: the connected part's log density and each draw.

nutpie calls them from its own threads, with no Python in between. They
reach the kernel's packed arrays (``forecast.density.Layout.data``) through
``user_data``, an array of addresses and sizes that :func:`user_data` makes;
numba compiles them once into its cache, as it does the kernel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

from forecast.density import _jit, _sampler_logp_grad

if TYPE_CHECKING:
    from forecast.density import Layout


@intrinsic
def _pointer(typingctx, address):
    """An integer address as a ``void*`` (to view memory the caller owns)."""
    from numba.core import cgutils

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], cgutils.voidptr_t)

    return types.voidptr(address), codegen


@_jit
def _blocks(user_data):
    """The packed arrays behind ``user_data`` (see :func:`user_data`), and the draw counter."""
    u = numba.carray(user_data, 8, np.int64)
    ints = numba.carray(_pointer(u[0]), u[1], np.int64)
    floats = numba.carray(_pointer(u[2]), u[3], np.float64)
    bounds = numba.carray(_pointer(u[4]), u[5], np.int64)
    counter = numba.carray(_pointer(u[6]), u[7], np.int64)
    return ints, floats, bounds, counter


_C_LOGP = types.int64(
    types.uint64, types.CPointer(types.double), types.CPointer(types.double),
    types.CPointer(types.double), types.voidptr,
)  # fmt: skip
_C_EXPAND = types.int64(
    types.uint64, types.uint64, types.CPointer(types.double), types.CPointer(types.double),
    types.voidptr,
)  # fmt: skip


@numba.cfunc(_C_LOGP, cache=True, nogil=True, error_model="numpy")
def c_logp(dim, x_, grad_, logp_, user_data):
    """nutpie's log-density callback: 0, or 3 (gradient) / 4 (density) not finite."""
    ints, floats, bounds, _ = _blocks(user_data)
    x = numba.carray(x_, dim)
    grad = numba.carray(grad_, dim)
    lp = _sampler_logp_grad(x, grad, ints, floats, bounds)
    logp_[0] = lp
    for i in range(dim):
        if not np.isfinite(grad[i]):
            return 3
    return 0 if np.isfinite(lp) else 4


@numba.cfunc(_C_EXPAND, cache=True, nogil=True)
def c_expand(dim, expanded, x_, out_, user_data):
    """nutpie's draw callback: the draw as it is (transformed later, in bulk); counts draws."""
    _, _, _, counter = _blocks(user_data)
    for i in range(dim):
        out_[i] = x_[i]
    counter[0] += 1  # read for progress only: a lost update between threads is harmless
    return 0


def user_data(lay: Layout, counter: np.ndarray) -> np.ndarray:
    """The addresses and sizes the C callbacks read; keep ``lay`` and ``counter`` alive."""
    arrays = (*lay.data(), counter)
    return np.array([v for a in arrays for v in (a.ctypes.data, a.size)], dtype=np.int64)
