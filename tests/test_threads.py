"""Threads: the GIL is released where tapegrad computes for long (backward, large kernels, matmul), and
concurrent training and backward calls give exactly the results of running them one after another.
Grad mode being thread-local is tested in test_grad_mode.py."""
import sys
import threading
import time

import numpy as np
import pytest
import torch

import tapegrad

LIBS = [torch, tapegrad]
lib_param = pytest.mark.parametrize("lib", LIBS, ids=["torch", "tapegrad"])


def run_in_threads(target, args_list):
    """Runs target(*args) on one thread per args, all at once; re-raises the first failure."""
    errors = []

    def guarded(*args):
        try:
            target(*args)
        except Exception as e:  # re-raised on the main thread
            errors.append(e)

    threads = [threading.Thread(target=guarded, args=args) for args in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


# ---- the GIL is released ----

@pytest.fixture
def python_counter():
    """A Python thread counting while it holds the GIL. With a switch interval of minutes, the GIL
    changes hands only when its holder lets it go, so the count moves during a call exactly when that
    call releases the GIL (the count is read right before and right after the call)."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(300)
    state = {"count": 0, "stop": False}

    def count():
        while not state["stop"]:
            state["count"] += 1
            time.sleep(0)  # lets the GIL go, so the main thread can take it back

    thread = threading.Thread(target=count)
    thread.start()
    yield state
    state["stop"] = True
    thread.join()
    sys.setswitchinterval(interval)


def counted_during(state, call, repeats=20):
    """How far the counter moved during `repeats` calls of call()."""
    before = state["count"]
    for _ in range(repeats):
        call()
    return state["count"] - before


@lib_param
def test_backward_releases_the_gil(lib, python_counter):
    # Big enough that each backward lasts milliseconds: the counting thread must get a core meanwhile.
    w = lib.ones(256, 256, requires_grad=True)
    losses = []
    for _ in range(10):
        y = w
        for _ in range(10):
            y = (y @ w).tanh()
        losses.append(y.sum())
    assert counted_during(python_counter, lambda: losses.pop().backward(), repeats=10) > 0


@lib_param
@pytest.mark.parametrize("op", ["exp", "matmul"])
def test_large_kernels_release_the_gil(lib, op, python_counter):
    """A 4M-element elementwise kernel and a 1024x1024 matmul let other Python threads run."""
    if op == "exp":
        x = lib.rand(4 << 20)
        call = x.exp
    else:
        a = lib.rand(1024, 1024)
        call = lambda: a @ a  # noqa: E731
    assert counted_during(python_counter, call) > 0


# ---- concurrent results equal sequential results ----

def make_model(lib, seed):
    """A small MLP whose weights come from NumPy, so each thread's model starts the same whatever the
    interleaving of the threads' calls into the global generator."""
    rng = np.random.default_rng(seed)
    model = lib.nn.Sequential(lib.nn.Linear(12, 32), lib.nn.Tanh(), lib.nn.Linear(32, 4))
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.3))
    x = lib.tensor(rng.standard_normal((64, 12)).astype(np.float32))
    y = lib.tensor(rng.integers(0, 4, 64))
    return model, x, y


def train(lib, seed, out, steps=30):
    model, x, y = make_model(lib, seed)
    opt = lib.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    out[seed] = (losses, [p.detach().numpy().copy() for p in model.parameters()])


def test_threads_training_separate_models_match_sequential_runs():
    seeds = range(4)
    sequential, concurrent = {}, {}
    for seed in seeds:
        train(tapegrad, seed, sequential)
    run_in_threads(train, [(tapegrad, seed, concurrent) for seed in seeds])
    for seed in seeds:
        assert concurrent[seed][0] == sequential[seed][0]
        for a, b in zip(concurrent[seed][1], sequential[seed][1]):
            np.testing.assert_array_equal(a, b)
    assert sequential[0][0][-1] < sequential[0][0][0], "the models must train"


@pytest.mark.parametrize("shared", ["leaf", "leaf_through_view", "leaf_broadcast"])
def test_concurrent_backward_into_a_shared_leaf_accumulates_exactly(shared):
    """N threads x M backward calls into one leaf: every gradient lands once. Integers keep the sums
    exact, so any lost or doubled update shows."""
    n_threads, calls = 4, 50
    w = tapegrad.zeros(4096, requires_grad=True)
    use = {"leaf": lambda: w, "leaf_through_view": lambda: w.view(64, 64).t(),
           "leaf_broadcast": lambda: w.expand(2, 4096)}[shared]

    def worker(k):
        for _ in range(calls):
            (use() * float(k + 1)).sum().backward()

    run_in_threads(worker, [(k,) for k in range(n_threads)])
    expected = calls * sum(range(1, n_threads + 1)) * (2 if shared == "leaf_broadcast" else 1)
    assert w.grad.numpy().tolist() == [float(expected)] * 4096


def test_concurrent_backward_through_a_shared_graph_with_retain_graph():
    """Threads backpropagating one retained graph each add their gradient to the shared leaf."""
    n_threads, calls = 4, 25
    w = tapegrad.full((1024,), 2.0, requires_grad=True)
    loss = (w * w).sum()

    def worker():
        for _ in range(calls):
            loss.backward(retain_graph=True)

    run_in_threads(worker, [()] * n_threads)
    assert w.grad.numpy().tolist() == [4.0 * n_threads * calls] * 1024
