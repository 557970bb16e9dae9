"""Benchmarks run every workload with tapegrad and with torch, in the same pytest-benchmark group."""
import os

import pytest

from common import NUMPY, TAPEGRAD_AND_TORCH, THREADS, openblas_cores


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["bench_threads"] = THREADS
    machine_info["openblas_coretype"] = os.environ.get("OPENBLAS_CORETYPE")
    machine_info["openblas_cores"] = openblas_cores()


@pytest.fixture(params=TAPEGRAD_AND_TORCH)
def lib(request):
    return request.param


@pytest.fixture(params=TAPEGRAD_AND_TORCH + [NUMPY])
def blas_lib(request):
    """tapegrad, torch and numpy: numpy's OpenBLAS is the GEMM reference."""
    return request.param
