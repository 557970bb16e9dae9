"""Convolution and pooling layers, forward and forward+backward, on the small CNN step's shapes (batch 32)."""
import pytest

from common import make, random_float32

# (in channels, out channels, side): the two convolutions of the small CNN step in test_training_steps.py.
CONV_LAYERS = [(3, 16, 32), (16, 32, 16)]


def conv_layer(lib, in_channels, out_channels, side):
    lib.manual_seed(0)
    layer = lib.nn.Conv2d(in_channels, out_channels, 3, padding=1)
    x = make(lib, random_float32(32, in_channels, side, side)).requires_grad_()
    grad = make(lib, random_float32(32, out_channels, side, side, seed=1))
    return layer, x, grad


@pytest.mark.parametrize("shape", CONV_LAYERS, ids=lambda s: f"{s[0]}to{s[1]}")
def test_conv2d_forward(benchmark, lib, shape):
    benchmark.group = f"Conv2d 3x3 forward {shape[0]}->{shape[1]}, 32x{shape[0]}x{shape[2]}x{shape[2]}"
    layer, x, _ = conv_layer(lib, *shape)

    def forward():
        with lib.no_grad():
            layer(x)

    benchmark(forward)


@pytest.mark.parametrize("shape", CONV_LAYERS, ids=lambda s: f"{s[0]}to{s[1]}")
def test_conv2d_forward_backward(benchmark, lib, shape):
    benchmark.group = f"Conv2d 3x3 fwd+bwd {shape[0]}->{shape[1]}, 32x{shape[0]}x{shape[2]}x{shape[2]}"
    layer, x, grad = conv_layer(lib, *shape)
    benchmark(lambda: lib.autograd.grad(layer(x), [x, layer.weight, layer.bias], grad))


@pytest.mark.benchmark(group="ConvTranspose2d(32, 16, 4, stride=2, padding=1) fwd+bwd 32x32x8x8")
def test_conv_transpose2d_forward_backward(benchmark, lib):
    # A DCGAN generator's upsampling step: 8x8 -> 16x16.
    lib.manual_seed(0)
    layer = lib.nn.ConvTranspose2d(32, 16, 4, stride=2, padding=1)
    x = make(lib, random_float32(32, 32, 8, 8)).requires_grad_()
    grad = make(lib, random_float32(32, 16, 16, 16, seed=1))
    benchmark(lambda: lib.autograd.grad(layer(x), [x, layer.weight, layer.bias], grad))


@pytest.mark.benchmark(group="MaxPool2d(2) fwd+bwd 32x16x32x32")
def test_max_pool_2d(benchmark, lib):
    layer = lib.nn.MaxPool2d(2)
    x = make(lib, random_float32(32, 16, 32, 32)).requires_grad_()
    grad = make(lib, random_float32(32, 16, 16, 16, seed=1))
    benchmark(lambda: lib.autograd.grad(layer(x), [x], grad))
