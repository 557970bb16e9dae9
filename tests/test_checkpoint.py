"""torch.utils.checkpoint against PyTorch: checkpoint (reentrant or not, with and without the RNG state) and
checkpoint_sequential give torch's outputs, input and parameter gradients and RNG stream, warn and fail as torch."""
import warnings

import numpy as np
import pytest
import torch

import tapegrad
from test_errors import check_same_error
from test_nn_modules import assert_close, copy_weights

pytestmark = pytest.mark.filterwarnings("ignore:None of the inputs have requires_grad")


def _block(L, dtype):
    L.manual_seed(0)
    nn = L.nn
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Dropout(0.3), nn.Linear(4, 4), nn.Sigmoid(),
                         nn.Linear(4, 2)).to(getattr(L, dtype))


def _inputs(L, dtype, requires_grad=True):
    x = np.random.default_rng(1).standard_normal((5, 3)).astype(dtype)
    return L.tensor(x, requires_grad=requires_grad)


def _run_and_record(L, model, run, dtype, requires_grad=True):
    """Runs the model through `run` after manual_seed, backpropagates a weighted sum, and records the output,
    the gradients and the next random draw (which shows how much of the RNG stream the checkpoint used)."""
    x = _inputs(L, dtype, requires_grad)
    L.manual_seed(7)
    out = run(model, x)
    weights = L.tensor(np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape)).astype(dtype))
    (out * weights).sum().backward()
    return [out, x.grad] + [p.grad for p in model.parameters()] + [L.rand(3, dtype=getattr(L, dtype))]


def _check_both(run, dtype, requires_grad=True):
    ref_model = _block(torch, dtype)
    ours_model = _block(tapegrad, dtype)
    copy_weights(ours_model, ref_model)
    ours = _run_and_record(tapegrad, ours_model, run, dtype, requires_grad)
    ref = _run_and_record(torch, ref_model, run, dtype, requires_grad)
    for o, r in zip(ours, ref):
        if r is None:
            assert o is None
        else:
            assert_close(o, r, dtype)


RUNS = {
    "reentrant": lambda m, x: _checkpoint_lib(x).checkpoint(m, x, use_reentrant=True),
    "reentrant_no_rng_state": lambda m, x: _checkpoint_lib(x).checkpoint(m, x, use_reentrant=True,
                                                                         preserve_rng_state=False),
    "non_reentrant": lambda m, x: _checkpoint_lib(x).checkpoint(m, x, use_reentrant=False),
    "non_reentrant_kwargs": lambda m, x: _checkpoint_lib(x).checkpoint(lambda a, scale: m(a) * scale, x,
                                                                       scale=1.5, use_reentrant=False),
    "two_inputs_tuple_output": lambda m, x: _checkpoint_lib(x).checkpoint(
        lambda a, b, k: (m(a) * k, b.exp()), x, x * 2, 3, use_reentrant=True)[0],
    "nested": lambda m, x: _checkpoint_lib(x).checkpoint(
        lambda a: _checkpoint_lib(x).checkpoint(m[:3], a, use_reentrant=True).sin(), x, use_reentrant=True),
    "sequential_reentrant": lambda m, x: _checkpoint_lib(x).checkpoint_sequential(m, 3, x, use_reentrant=True),
    "sequential_list_of_modules": lambda m, x: _checkpoint_lib(x).checkpoint_sequential(
        list(m.children()), 2, x, use_reentrant=False),
    "sequential_more_segments_than_layers": lambda m, x: _checkpoint_lib(x).checkpoint_sequential(
        m, 4, x, use_reentrant=True, preserve_rng_state=False),
}


def _checkpoint_lib(x):
    return (torch if isinstance(x, torch.Tensor) else tapegrad).utils.checkpoint


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(RUNS))
def test_matches_torch(name, dtype):
    _check_both(RUNS[name], dtype)


@pytest.mark.parametrize("use_reentrant", [True, False])
def test_inputs_without_grad(use_reentrant):
    # Reentrant: the output needs no grad, so parameters get none; non-reentrant: they do.
    def run(m, x):
        out = _checkpoint_lib(x).checkpoint(m, x, use_reentrant=use_reentrant)
        return out if out.requires_grad else out.requires_grad_()

    _check_both(run, "float64", requires_grad=False)


def test_reentrant_recomputes_once_in_backward_like_torch():
    counts = []
    for L in (tapegrad, torch):
        calls = []
        x = L.ones(2, requires_grad=True)
        y = L.utils.checkpoint.checkpoint(lambda a: calls.append(L.is_grad_enabled()) or a * 3, x,
                                          use_reentrant=True)
        forward_calls = list(calls)
        y.sum().backward()
        counts.append((forward_calls, calls, y.requires_grad, x.grad.tolist()))
    assert counts[0] == counts[1]


def test_warnings_match_torch():
    for L in (tapegrad, torch):
        with pytest.warns(UserWarning, match="the use_reentrant parameter should be passed explicitly"):
            L.utils.checkpoint.checkpoint(lambda a: a, L.ones(1, requires_grad=True))
        with pytest.warns(UserWarning, match="checkpoint_sequential: the use_reentrant parameter should be passed"):
            L.utils.checkpoint.checkpoint_sequential([L.nn.Identity()], 1, L.ones(1))
        with pytest.warns(UserWarning, match="None of the inputs have requires_grad=True. Gradients will be None"):
            L.utils.checkpoint.checkpoint(lambda a: a, L.ones(1), use_reentrant=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            L.utils.checkpoint.checkpoint(lambda a: a, L.ones(1), use_reentrant=False)


def test_non_reentrant_runs_the_forward_context():
    for L in (tapegrad, torch):
        entered = []

        class Mark:
            def __enter__(self):
                entered.append("forward")

            def __exit__(self, *exc):
                return False

        out = L.utils.checkpoint.checkpoint(lambda a: a * 2, L.ones(2, requires_grad=True), use_reentrant=False,
                                            context_fn=lambda: (Mark(), Mark()))
        out.sum().backward()
        assert entered[0] == "forward"


def test_non_reentrant_works_with_autograd_grad():
    results = []
    for L in (tapegrad, torch):
        x = L.tensor([0.5, -1.0, 2.0], dtype=L.float64, requires_grad=True)
        y = L.utils.checkpoint.checkpoint(lambda a: (a * a).sin(), x, use_reentrant=False)
        results.append(L.autograd.grad(y.sum(), x)[0].tolist())
    assert results[0] == pytest.approx(results[1])


ERRORS = [
    "lib.utils.checkpoint.checkpoint(lambda a: a, lib.ones(1), use_reentrant=True, scale=2)",
    "lib.utils.checkpoint.checkpoint(lambda a: a, lib.ones(1), use_reentrant=True, debug=True)",
    "lib.utils.checkpoint.checkpoint(lambda a: a, lib.ones(1), use_reentrant=True,\n"
    "                                context_fn=lambda: (None, None))",
    "lib.utils.checkpoint.checkpoint(lambda a: a, lib.ones(1), use_reentrant=False, determinism_check='all')",
    "lib.utils.checkpoint.checkpoint_sequential([lib.nn.Identity()], 1, lib.ones(1), use_reentrant=True, x=1)",
    "x = lib.ones(2, requires_grad=True)\n"
    "y = lib.utils.checkpoint.checkpoint(lambda a: a * 2, x, use_reentrant=True)\n"
    "lib.autograd.grad(y.sum(), x)",
    "x = lib.ones(2, requires_grad=True)\n"
    "y = lib.utils.checkpoint.checkpoint(lambda a: a * 2, x, use_reentrant=True)\n"
    "y.sum().backward(inputs=[x])",
    "x = lib.ones(2, requires_grad=True)\n"
    "y = lib.utils.checkpoint.checkpoint(lambda a: a.detach() * 2, x, use_reentrant=True)\n"
    "y.sum().backward()",
    "lib.utils.checkpoint.detach_variable([lib.ones(1)])",
]


@pytest.mark.parametrize("code", ERRORS)
def test_error_matches_torch(code):
    check_same_error(code)
