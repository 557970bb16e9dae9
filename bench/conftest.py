"""Benchmarks run every workload with tapegrad and with torch, in the same pytest-benchmark group."""
import pytest

import tapegrad

try:
    import torch
except ImportError:  # torch is the comparison, not a requirement
    torch = None

# tapegrad's kernels are single-threaded today; torch gets the same thread count.
THREADS = 1
if torch is not None:
    torch.set_num_threads(THREADS)

LIBS = [pytest.param(tapegrad, id="tapegrad"),
        pytest.param(torch, id="torch", marks=pytest.mark.skipif(torch is None, reason="torch is not installed"))]


@pytest.fixture(params=LIBS)
def lib(request):
    return request.param
