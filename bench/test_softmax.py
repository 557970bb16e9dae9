"""Softmax and cross-entropy, forward and backward, on a batch of 256 logits over 1000 classes."""
import numpy as np
import pytest

from common import make, random_float32

BATCH, CLASSES = 256, 1000


def logits_and_targets(lib):
    logits = make(lib, random_float32(BATCH, CLASSES)).requires_grad_()
    targets = lib.tensor(np.random.default_rng(0).integers(0, CLASSES, size=BATCH))
    return logits, targets


@pytest.mark.benchmark(group=f"softmax fwd+bwd {BATCH}x{CLASSES}")
def test_softmax(benchmark, lib):
    logits, _ = logits_and_targets(lib)
    grad_out = make(lib, random_float32(BATCH, CLASSES, seed=1))
    benchmark(lambda: lib.autograd.grad(lib.softmax(logits, 1), logits, grad_out))


@pytest.mark.benchmark(group=f"log_softmax + nll_loss fwd+bwd {BATCH}x{CLASSES}")
def test_log_softmax_nll(benchmark, lib):
    F = lib.nn.functional
    logits, targets = logits_and_targets(lib)
    benchmark(lambda: lib.autograd.grad(F.nll_loss(F.log_softmax(logits, 1), targets), logits))


@pytest.mark.benchmark(group=f"cross_entropy fwd+bwd {BATCH}x{CLASSES}")
def test_cross_entropy(benchmark, lib):
    logits, targets = logits_and_targets(lib)
    benchmark(lambda: lib.autograd.grad(lib.nn.functional.cross_entropy(logits, targets), logits))
