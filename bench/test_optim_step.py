"""One optimizer step over 1M float32 parameters held in 100 tensors, gradients set.

tapegrad makes one C++ call that updates every parameter and its state in a single pass;
torch (foreach=False on the CPU) runs a few tensor ops per parameter.
"""
import numpy as np
import pytest

N_TENSORS = 100
NUMEL = 10_000


def params_with_grads(lib):
    rng = np.random.default_rng(0)
    params = []
    for _ in range(N_TENSORS):
        p = lib.tensor(rng.standard_normal(NUMEL).astype(np.float32), requires_grad=True)
        p.grad = lib.tensor(rng.standard_normal(NUMEL).astype(np.float32))
        params.append(p)
    return params


@pytest.mark.benchmark(group="optimizer step: SGD momentum, 1M params in 100 tensors")
def test_sgd_momentum_step(benchmark, lib):
    opt = lib.optim.SGD(params_with_grads(lib), lr=1e-3, momentum=0.9)
    opt.step()  # the first step creates the momentum buffers
    benchmark(opt.step)


@pytest.mark.benchmark(group="optimizer step: Adam, 1M params in 100 tensors")
def test_adam_step(benchmark, lib):
    opt = lib.optim.Adam(params_with_grads(lib), lr=1e-3)
    opt.step()  # the first step creates the state
    benchmark(opt.step)
