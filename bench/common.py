"""What the benchmarks share: the thread count every library runs with, the participants, input helpers.

Both libraries get the same thread count: os.cpu_count() unless TAPEGRAD_BENCH_THREADS says otherwise.
"""
import ctypes
import glob
import os

import numpy as np
import pytest

import tapegrad

try:
    import torch
except ImportError:  # torch is the comparison, not a requirement
    torch = None

THREADS = int(os.environ.get("TAPEGRAD_BENCH_THREADS") or os.cpu_count())
tapegrad.set_num_threads(THREADS)
if torch is not None:
    torch.set_num_threads(THREADS)


def numpy_openblas():
    """NumPy's bundled OpenBLAS (the scipy-openblas64 copy in numpy.libs), or None for any other BLAS."""
    found = glob.glob(os.path.join(os.path.dirname(np.__path__[0]), "numpy.libs", "libscipy_openblas64_*.so"))
    # numpy has loaded it already, so CDLL hands back that same copy rather than a second one.
    return ctypes.CDLL(found[0]) if found else None


NUMPY_BLAS = numpy_openblas()
if NUMPY_BLAS is not None:
    NUMPY_BLAS.scipy_openblas_set_num_threads64_(THREADS)


def openblas_core(blas, suffix):
    corename = getattr(blas, f"scipy_openblas_get_corename{suffix}")
    corename.restype = ctypes.c_char_p
    return corename().decode()


def openblas_cores():
    """The kernel family each OpenBLAS picked at load time, which OPENBLAS_CORETYPE overrides."""
    cores = {"tapegrad": openblas_core(tapegrad._openblas, "")}
    if NUMPY_BLAS is not None:
        cores["numpy"] = openblas_core(NUMPY_BLAS, "64_")
    return cores


TORCH = pytest.param(torch, id="torch", marks=pytest.mark.skipif(torch is None, reason="torch is not installed"))
NUMPY = pytest.param(np, id="numpy", marks=pytest.mark.skipif(
    NUMPY_BLAS is None, reason="numpy does not use the scipy-openblas64 it bundles, so its thread count is unknown"))
TAPEGRAD_AND_TORCH = [pytest.param(tapegrad, id="tapegrad"), TORCH]


def make(lib, array):
    """The library's own tensor holding a copy of a NumPy array."""
    return array.copy() if lib is np else lib.tensor(array)


def random_float32(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
