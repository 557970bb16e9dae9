"""Memory: graphs and their saved tensors are freed as soon as nothing needs them, by reference counting
alone (no cycles for the garbage collector), and training holds resident memory flat and no higher
than PyTorch's. Resident memory is measured in child processes, each with an interpreter of its own.
A 100,000-op graph freed without deep recursion is test_autograd.py::test_long_chain_backward_and_free."""
import gc
import textwrap
import weakref

import numpy as np
import pytest

import tapegrad
from child_process import run_python_json

F = tapegrad.nn.functional


@pytest.fixture(autouse=True)
def no_cycle_collector():
    """Everything here must be freed by reference counts: the cycle collector stays off, so all that a
    test allocates stays in generation 0 (cleared first), where gc.collect(0) counts it quickly."""
    gc.collect(0)
    gc.disable()
    yield
    gc.enable()


def numpy_backed(*shape):
    """A float32 tensor sharing a NumPy array's memory, and a weak reference to that array: the array
    lives exactly as long as the tensor's storage, so the reference says when the storage was freed."""
    array = np.linspace(-1.0, 1.0, int(np.prod(shape)), dtype=np.float32).reshape(shape)
    return tapegrad.from_numpy(array), weakref.ref(array)


# ---- saved tensors and whole graphs ----

def test_saved_tensors_are_freed_by_backward():
    w = tapegrad.ones(3, requires_grad=True)
    x, x_alive = numpy_backed(3)
    y = (w * x).sum()  # MulBackward0 saves x for w's gradient
    del x
    assert x_alive() is not None, "the graph must keep what it saved"
    y.backward()
    assert x_alive() is None
    assert y.grad_fn is not None, "the graph itself stays with y; only its saved tensors go"


def test_retain_graph_keeps_saved_tensors_until_the_graph_goes():
    w = tapegrad.ones(3, requires_grad=True)
    x, x_alive = numpy_backed(3)
    y = (w * x).sum()
    del x
    y.backward(retain_graph=True)
    assert x_alive() is not None
    y.backward()
    assert x_alive() is None
    assert w.grad.tolist() == pytest.approx([-2.0, 0.0, 2.0])


def test_autograd_grad_frees_saved_tensors_unless_retained():
    w = tapegrad.ones(3, requires_grad=True)
    x, x_alive = numpy_backed(3)
    y = (w * x).sum()
    del x
    tapegrad.autograd.grad(y, w, retain_graph=True)
    assert x_alive() is not None
    tapegrad.autograd.grad(y, w)
    assert x_alive() is None


def mlp_graph(x, params):
    h = F.relu(x @ params[0] + params[1])
    return F.cross_entropy(h @ params[2], tapegrad.tensor([0, 1, 2, 0]))


def mlp_params():
    tapegrad.manual_seed(0)
    return [tapegrad.randn(5, 8, requires_grad=True), tapegrad.zeros(8, requires_grad=True),
            tapegrad.randn(8, 3, requires_grad=True)]


@pytest.mark.parametrize("backward", ["never", "retain_graph"])
def test_whole_graph_freed_when_its_last_reference_goes(backward):
    """A forward pass that is never backpropagated (validation without no_grad), or one run with
    retain_graph, is freed the moment the last tensor holding it goes."""
    params = mlp_params()
    x, x_alive = numpy_backed(4, 5)
    loss = mlp_graph(x, params)
    del x
    if backward == "retain_graph":
        loss.backward(retain_graph=True)
    assert x_alive() is not None
    del loss
    assert x_alive() is None


def test_graph_held_only_by_an_intermediate_is_freed_with_it():
    params = mlp_params()
    x, x_alive = numpy_backed(4, 5)
    hidden = F.relu(x @ params[0] + params[1])
    del x
    logits = hidden @ params[2]
    del hidden
    assert x_alive() is not None
    del logits
    assert x_alive() is None


# Ops that save their own output: the output is kept without its grad_fn, or the node would hold
# itself alive through it.
OUTPUT_SAVING = {
    "exp": lambda h: h.exp(), "sigmoid": lambda h: h.sigmoid(), "tanh": lambda h: h.tanh(),
    "relu": lambda h: h.relu(), "sqrt": lambda h: h.abs().sqrt(), "softmax": lambda h: tapegrad.softmax(h, 0),
    "log_softmax": lambda h: tapegrad.log_softmax(h, 0), "pow": lambda h: 2.0 ** h,
    "exp_": lambda h: h.exp_(), "sigmoid_": lambda h: h.sigmoid_(), "tanh_": lambda h: h.tanh_(),
    "clone_then_exp": lambda h: h.clone().exp(), "view_then_exp_": lambda h: h.view(3).exp_(),
}


@pytest.mark.parametrize("op", OUTPUT_SAVING.values(), ids=OUTPUT_SAVING.keys())
def test_grad_fn_makes_no_reference_cycle(op):
    """The graph below an output-saving op is freed by reference counts alone: nothing in it (the
    saved input x of the first node here) may outlive the output, with the cycle collector off."""
    w = tapegrad.ones(3, requires_grad=True)
    x, x_alive = numpy_backed(3)
    y = op(w * x)
    del x
    assert y.grad_fn is not None and x_alive() is not None
    del y
    assert x_alive() is None


def test_training_steps_leave_no_garbage_for_the_cycle_collector():
    """Forward, backward, optimizer step and zero_grad create no reference cycles: with the collector
    off, nothing is left for it to find."""
    tapegrad.manual_seed(0)
    model = tapegrad.nn.Sequential(tapegrad.nn.Linear(5, 8), tapegrad.nn.Tanh(), tapegrad.nn.Linear(8, 3))
    opt = tapegrad.optim.Adam(model.parameters(), lr=1e-3)
    x, target = tapegrad.randn(4, 5), tapegrad.tensor([0, 1, 2, 0])
    for _ in range(20):
        opt.zero_grad()
        F.cross_entropy(model(x), target).backward()
        opt.step()
    assert gc.collect(0) == 0


# ---- resident memory of long runs, in child processes ----

RSS = """
import json, os, resource
import numpy as np
import {lib} as torch
F = torch.nn.functional

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
"""

MLP_STEP = """
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x, y = torch.randn(32, 64), torch.randint(0, 10, (32,))

def step(backward=True):
    loss = F.cross_entropy(model(x), y)
    if backward:
        opt.zero_grad()
        loss.backward()
        opt.step()
    return loss.item()
"""

MIB = 1 << 20
# Room for the interpreter's own pages (a new pymalloc arena, say); a tensor leaked per step, or a node
# per graph, would pass it within the run.
SLACK = 256 << 10


def child(lib, body):
    return run_python_json(RSS.format(lib=lib) + textwrap.dedent(body))


def test_resident_memory_flat_over_2000_training_steps():
    growth = child("tapegrad", MLP_STEP + """
for _ in range(300):
    step()
before = rss()
for _ in range(2000):
    step()
print(json.dumps(rss() - before))
""")
    print(f"resident memory growth over 2,000 steps: {growth} bytes")  # shown by pytest -rP
    assert growth < SLACK, f"resident memory grew by {growth / MIB:.2f} MiB over 2,000 steps"


def test_resident_memory_flat_over_20000_graphs_half_never_backpropagated():
    growth = child("tapegrad", MLP_STEP + """
for i in range(1000):
    step(backward=i % 2 == 0)
before = rss()
for i in range(20000):
    step(backward=i % 2 == 0)
print(json.dumps(rss() - before))
""")
    print(f"resident memory growth over 20,000 graphs: {growth} bytes")
    assert growth < SLACK, f"resident memory grew by {growth / MIB:.2f} MiB over 20,000 graphs"


PEAK_RUN = """
def peak_rss():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))

getattr(torch, "set_num_threads", lambda n: None)(1)  # equal thread counts where both can be set
rng = np.random.default_rng(0)
x = torch.tensor(rng.standard_normal((512, 784), dtype=np.float32))
y = torch.tensor(rng.integers(0, 10, 512))
baseline = rss()
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # the peak so far (imports) is forgotten: VmHWM restarts from the current size
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256), torch.nn.ReLU(),
                            torch.nn.Linear(256, 10))
opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
for batch in range(8):
    rows = slice(batch % 4 * 128, batch % 4 * 128 + 128)
    opt.zero_grad()
    F.cross_entropy(model(x[rows]), y[rows]).backward()
    opt.step()
print(json.dumps(peak_rss() - baseline))
"""


def test_training_peak_memory_no_higher_than_torch():
    """The same MLP training run, each library in its own process: the peak resident memory above
    what the process held before the run."""
    ours, ref = child("tapegrad", PEAK_RUN), child("torch", PEAK_RUN)
    print(f"peak above the baseline: tapegrad {ours / MIB:.1f} MiB, torch {ref / MIB:.1f} MiB")
    assert ours <= ref, f"peak {ours / MIB:.1f} MiB, torch {ref / MIB:.1f} MiB"
