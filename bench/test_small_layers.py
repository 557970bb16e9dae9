"""Small layers and ops that training scripts call every step, forward and backward: the losses, powers,
sequence-shaped cross-entropy, layer norm and sort whose fast paths this suite measures."""
import numpy as np
import pytest

from common import make, random_float32


def grad_of(lib, fn, *inputs):
    """Runs fn(*inputs) and the gradient of its sum with respect to every input."""
    return lambda: lib.autograd.grad(fn(*inputs).sum(), list(inputs))


@pytest.mark.parametrize("loss", ["mse_loss", "binary_cross_entropy_with_logits"])
def test_pointwise_loss(benchmark, lib, loss):
    benchmark.group = f"{loss} fwd+bwd 64x100"
    x = make(lib, random_float32(64, 100)).requires_grad_()
    target = make(lib, np.random.default_rng(1).random((64, 100), dtype=np.float32))
    benchmark(grad_of(lib, lambda x: getattr(lib.nn.functional, loss)(x, target), x))


@pytest.mark.benchmark(group="x ** 2 fwd+bwd 64x100")
def test_square(benchmark, lib):
    benchmark(grad_of(lib, lambda x: x ** 2, make(lib, random_float32(64, 100)).requires_grad_()))


@pytest.mark.benchmark(group="cross_entropy over dim 1 of [N, C, L] fwd+bwd 16x10x32")
def test_sequence_cross_entropy(benchmark, lib):
    logits = make(lib, random_float32(16, 10, 32)).requires_grad_()
    targets = lib.tensor(np.random.default_rng(0).integers(0, 10, size=(16, 32)))
    benchmark(grad_of(lib, lambda x: lib.nn.functional.cross_entropy(x, targets), logits))


@pytest.mark.benchmark(group="LayerNorm(128) fwd+bwd 32x64x128")
def test_layer_norm(benchmark, lib):
    layer = lib.nn.LayerNorm(128)
    benchmark(grad_of(lib, layer, make(lib, random_float32(32, 64, 128)).requires_grad_()))


@pytest.mark.benchmark(group="sort along rows 64x100")
def test_sort(benchmark, lib):
    x = make(lib, random_float32(64, 100))
    benchmark(lambda: x.sort(1))
