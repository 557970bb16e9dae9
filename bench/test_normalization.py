"""Normalisation layers, forward and backward: BatchNorm2d in training mode on a small CNN's activations."""
import pytest

from common import make, random_float32


@pytest.mark.benchmark(group="BatchNorm2d fwd+bwd 32x16x32x32")
def test_batch_norm_2d(benchmark, lib):
    layer = lib.nn.BatchNorm2d(16)
    x = make(lib, random_float32(32, 16, 32, 32)).requires_grad_()
    grad = make(lib, random_float32(32, 16, 32, 32, seed=1))
    benchmark(lambda: lib.autograd.grad(layer(x), [x, layer.weight, layer.bias], grad))
