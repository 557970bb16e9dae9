"""Per-op overhead: what one tiny op costs, where Python-to-C++ dispatch dominates."""
import pytest


@pytest.mark.benchmark(group="add 1-element, requires_grad")
def test_add_requires_grad(benchmark, lib):
    a = lib.randn(1, requires_grad=True)
    b = lib.randn(1)
    benchmark(lambda: a + b)


@pytest.mark.benchmark(group="add 1-element")
def test_add(benchmark, lib):
    a = lib.randn(1)
    b = lib.randn(1)
    benchmark(lambda: a + b)


@pytest.mark.benchmark(group="chain of 10 small ops + backward")
def test_chain_backward(benchmark, lib):
    x = lib.randn(8, requires_grad=True)
    w = lib.randn(8)

    def step():
        y = x * w
        y = y + 1.0
        y = lib.tanh(y)
        y = y * y
        y = y - w
        y = lib.sigmoid(y)
        y = y / 2.0
        y = lib.exp(y)
        y = y * x
        loss = y.sum()
        loss.backward()

    benchmark(step)
