"""Benchmarks run every workload with tapegrad and with torch, in the same pytest-benchmark group."""
import os

import pytest

from common import NUMPY, TAPEGRAD_AND_TORCH, THREADS, openblas_cores


def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["bench_threads"] = THREADS
    machine_info["openblas_coretype"] = os.environ.get("OPENBLAS_CORETYPE")
    machine_info["openblas_cores"] = openblas_cores()


def pytest_collection_modifyitems(items):
    """Runs each workload's participants back to back: this machine's memory bandwidth drifts over minutes,
    and pytest's own order (every tapegrad case, then every torch case) would let that drift into the ratio."""
    def workload(item):
        params = getattr(item, "callspec", None)
        rest = {k: v for k, v in params.params.items() if k not in ("lib", "blas_lib")} if params else {}
        return item.module.__name__, item.originalname, repr(sorted(rest.items(), key=lambda kv: kv[0]))

    first_seen = {}
    for index, item in enumerate(items):
        first_seen.setdefault(workload(item), index)
    items.sort(key=lambda item: first_seen[workload(item)])


@pytest.fixture(params=TAPEGRAD_AND_TORCH)
def lib(request):
    return request.param


@pytest.fixture(params=TAPEGRAD_AND_TORCH + [NUMPY])
def blas_lib(request):
    """tapegrad, torch and numpy: numpy's OpenBLAS is the GEMM reference."""
    return request.param
