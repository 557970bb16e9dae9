"""Autograd semantics against PyTorch: each scenario runs on both libraries, side by side."""
import textwrap
import threading

import numpy as np
import pytest
import torch

import tapegrad
from child_process import run_python


def same(ours, ref):
    """Recursively compares results: tensors by shape, dtype and values; the rest by ==."""
    if isinstance(ref, torch.dtype):
        assert str(ours) == str(ref)
    elif isinstance(ref, torch.Tensor):
        assert isinstance(ours, tapegrad.Tensor), f"expected a Tensor, got {ours!r}"
        assert tuple(ours.shape) == tuple(ref.shape)
        assert str(ours.dtype) == str(ref.dtype)
        np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=1e-6, atol=1e-7)
    elif isinstance(ref, (list, tuple)):
        assert isinstance(ours, (list, tuple)) and len(ours) == len(ref), f"{ours!r} vs {ref!r}"
        for o, r in zip(ours, ref):
            same(o, r)
    elif isinstance(ref, float):
        assert ours == pytest.approx(ref, rel=1e-6)
    else:
        assert ours == ref


def both(fn):
    """Runs fn(lib) for torch and tapegrad and checks that they return the same thing."""
    same(fn(tapegrad), fn(torch))


def raises_like(fn, match=None):
    """fn(lib) raises in both libraries with the same type and message (or the same `match` part)."""
    with pytest.raises(Exception) as ref:
        fn(torch)
    with pytest.raises(Exception) as ours:
        fn(tapegrad)
    assert ours.type.__name__ == ref.type.__name__, f"{ours.value!r} vs {ref.value!r}"
    if match is None:
        assert str(ours.value) == str(ref.value)
    else:
        assert match in str(ref.value), "the expected text is not torch's"
        assert match in str(ours.value)


def names(fn):
    return fn.name() if fn is not None else None


# ---- requires_grad, is_leaf, grad_fn ----

def test_requires_grad_propagation():
    def run(lib):
        a = lib.ones(3, requires_grad=True)
        b = lib.ones(3)
        c = a * b
        d = b * 2
        e = c.detach()
        return [a.requires_grad, b.requires_grad, c.requires_grad, d.requires_grad, e.requires_grad,
                a.is_leaf, b.is_leaf, c.is_leaf, d.is_leaf, e.is_leaf]

    both(run)


def test_no_grad_outputs_do_not_require_grad():
    def run(lib):
        a = lib.ones(3, requires_grad=True)
        with lib.no_grad():
            b = a * 2
        return [b.requires_grad, b.is_leaf, b.grad_fn is None]

    both(run)


def test_grad_fn_names_and_next_functions():
    def run(lib):
        a = lib.ones(2, 3, requires_grad=True)
        b = lib.ones(2, 3)
        c = (a * b + a.exp()).sum()
        add = c.grad_fn.next_functions[0][0]
        mul, exp = add.next_functions[0][0], add.next_functions[1][0]
        acc = mul.next_functions[0][0]
        return [names(c.grad_fn), names(add), names(mul), names(exp),
                [n for _, n in mul.next_functions], mul.next_functions[1][0] is None,
                names(acc), acc.variable is a, exp.next_functions[0][0] is acc,
                acc.next_functions == ()]

    both(run)


def test_next_functions_of_repeated_input():
    def run(lib):
        a = lib.ones(4, requires_grad=True)
        z = a * a
        (f, i), (g, j) = z.grad_fn.next_functions
        return [names(f), i, j, f is g]

    both(run)


def test_accumulate_grad_is_shared_by_uses_of_a_leaf():
    def run(lib):
        a = lib.ones(3, requires_grad=True)
        f = (a * 2).grad_fn.next_functions[0][0]
        g = (a + 1).grad_fn.next_functions[0][0]
        return f is g

    both(run)


# ---- backward and .grad ----

def test_backward_with_gradient_for_non_scalar():
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (a * a).backward(lib.tensor([1.0, 0.5, -1.0]))
        return a.grad

    both(run)


def test_implicit_grad_only_for_scalars():
    raises_like(lambda lib: (lib.ones(3, requires_grad=True) * 2).backward())


def test_one_element_non_scalar_backward_is_allowed():
    def run(lib):
        a = lib.ones(1, 1, requires_grad=True)
        (a * 3).backward()
        return a.grad

    both(run)


def test_gradient_shape_mismatch():
    raises_like(lambda lib: (lib.ones(3, requires_grad=True) * 2).backward(lib.ones(4)))


def test_grad_is_none_until_backward_then_accumulates():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        before = a.grad is None
        (a * 3).sum().backward()
        first = a.grad.clone()
        (a * a).sum().backward()
        return [before, first, a.grad]

    both(run)


def test_grad_keeps_identity_across_accumulation():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        (a * 3).sum().backward()
        g = a.grad
        (a * 3).sum().backward()
        return [a.grad is g, g]

    both(run)


def test_grad_zero_and_set_to_none():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        (a * 3).sum().backward()
        g = a.grad
        a.grad.zero_()
        (a * 2).sum().backward()
        after_zero = [a.grad is g, a.grad.clone()]
        a.grad = None
        (a * 5).sum().backward()
        return after_zero + [a.grad is g, a.grad]

    both(run)


def test_grad_can_be_assigned():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        g = lib.tensor([10.0, 20.0])
        a.grad = g
        (a * 2).sum().backward()
        return [a.grad is g, a.grad]

    both(run)


@pytest.mark.parametrize("value", [
    lambda lib: lib.ones(3),
    lambda lib: lib.ones(2, dtype=lib.float64),
    lambda lib: [1.0, 2.0],
], ids=["shape", "dtype", "list"])
def test_grad_assignment_checks(value):
    def run(lib):
        a = lib.ones(2, requires_grad=True)
        a.grad = value(lib)

    if value(torch).__class__ is list:
        raises_like(run, match="assigned grad expected to be a Tensor or None")
    elif value(torch).dtype == torch.float64:
        raises_like(run, match="attempting to assign a gradient with dtype 'double' to a tensor with grad_dtype "
                               "'Float'")
    else:
        raises_like(run)


def test_grad_cannot_be_the_tensor_itself():
    def run(lib):
        a = lib.ones(2, requires_grad=True)
        a.grad = a

    raises_like(run)


def test_grad_of_a_non_leaf_is_none_without_retain_grad():
    def run(lib):
        a = lib.ones(3, requires_grad=True)
        b = a * 2
        b.sum().backward()
        with pytest.warns(UserWarning, match="is not a leaf Tensor is being accessed"):
            grad = b.grad
        return [grad is None, b.retains_grad]

    both(run)


def test_retain_grad_on_non_leaf():
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a * a
        b.retain_grad()
        c = b * lib.tensor([1.0, -1.0, 2.0])
        c.sum().backward(retain_graph=True)
        first = b.grad.clone()
        c.sum().backward()
        return [b.retains_grad, first, b.grad, a.grad, a.retains_grad]

    both(run)


def test_retain_grad_on_leaf_is_a_no_op():
    def run(lib):
        a = lib.ones(2, requires_grad=True)
        a.retain_grad()
        (a * 2).sum().backward()
        return [a.retains_grad, a.grad]

    both(run)


def test_retain_graph_allows_second_backward():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (a * a).sum()
        y.backward(retain_graph=True)
        y.backward()
        return a.grad

    both(run)


def test_second_backward_without_retain_graph():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (a * a).sum()
        y.backward()
        y.backward()

    raises_like(run)


def test_graph_without_saved_tensors_can_be_rerun():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        y = (a + 1).sum()
        y.backward()
        y.backward()
        return a.grad

    both(run)


def test_backward_through_shared_subgraph():
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a.exp()
        c = b * a + b.sin()
        d = (c * b).sum()
        d.backward()
        return a.grad

    both(run)


def test_backward_broadcast_and_dtype_promotion():
    def run(lib):
        a = lib.tensor([[1.0], [2.0]], requires_grad=True)
        b = lib.tensor([1.0, 2.0, 3.0], dtype=lib.float64, requires_grad=True)
        (a * b).sum().backward()
        return [a.grad, b.grad]

    both(run)


def test_backward_on_leaf_itself():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        a.backward(lib.tensor([3.0, 4.0]))
        return a.grad

    both(run)


def test_backward_of_tensor_without_grad():
    raises_like(lambda lib: lib.ones(3).sum().backward())


def test_autograd_backward_multiple_roots():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        lib.autograd.backward([(a * a).sum(), a * 3], [None, lib.tensor([1.0, 2.0])])
        return a.grad

    both(run)


def test_autograd_backward_single_tensor():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        lib.autograd.backward((a * a).sum())
        return a.grad

    both(run)


def test_backward_create_graph_leaves_grad_with_history():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        with pytest.warns(UserWarning, match="create a reference cycle"):
            (a * a * a).sum().backward(create_graph=True)
        g = a.grad
        return [g.requires_grad, names(g.grad_fn) is not None, g]

    both(run)


# ---- detach, .data, requires_grad_ ----

def test_detach_shares_storage_and_version():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a * 1
        d = b.detach()
        d.add_(1)
        return [d.requires_grad, d.is_leaf, b._version, d._version, b]

    both(run)


def test_detach_modification_detected_at_backward():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a.exp()
        b.detach().zero_()
        b.sum().backward()

    raises_like(run)


def test_data_shares_storage_but_not_version():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a.exp()
        b.data.mul_(2)  # untracked: backward uses the modified values silently
        b.sum().backward()
        return [b._version, a.grad, a.data.requires_grad, a.data.is_leaf]

    both(run)


def test_data_assignment():
    def run(lib):
        w = lib.tensor([1.0], requires_grad=True)
        (w * 3).sum().backward()
        grad_before = w.grad.clone()
        w.data = w.data - 0.5 * w.grad.data
        w.grad.data.zero_()
        (w * w).sum().backward()
        return [grad_before, w, w.grad, w.requires_grad, w.is_leaf]

    both(run)


def test_data_assignment_changes_shape_and_dtype():
    def run(lib):
        w = lib.ones(2, requires_grad=True)
        w.data = lib.zeros(3, 2, dtype=lib.float64)
        return [w.shape, w.dtype, w.requires_grad, w]

    both(run)


def test_requires_grad_underscore():
    def run(lib):
        a = lib.ones(2)
        r = a.requires_grad_()
        b = lib.ones(2).requires_grad_(False)
        return [r is a, a.requires_grad, b.requires_grad]

    both(run)


@pytest.mark.parametrize("flag", [False, True])
def test_requires_grad_setter_on_non_leaf(flag):
    def run(lib):
        b = lib.ones(2, requires_grad=True) * 2
        b.requires_grad = flag

    raises_like(run)


def test_requires_grad_underscore_on_non_leaf():
    def run(lib):
        b = lib.ones(2, requires_grad=True) * 2
        return [b.requires_grad_() is b, b.requires_grad, names(b.grad_fn)]

    both(run)
    raises_like(lambda lib: (lib.ones(2, requires_grad=True) * 2).requires_grad_(False))


def test_requires_grad_on_integer_tensor():
    def run(lib):
        lib.ones(2, dtype=lib.int64).requires_grad = True

    raises_like(run)
    raises_like(lambda lib: lib.tensor([1, 2]).requires_grad_())
    raises_like(lambda lib: lib.tensor([1, 2], requires_grad=True))


# ---- autograd.grad ----

def test_autograd_grad_returns_without_accumulating():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = lib.tensor([3.0, 4.0], requires_grad=True)
        out = (a * b * b).sum()
        ga, gb = lib.autograd.grad(out, [a, b])
        return [ga, gb, a.grad is None, b.grad is None]

    both(run)


def test_autograd_grad_with_grad_outputs_and_retain_graph():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        y = a.sin() * a
        g1, = lib.autograd.grad(y, a, grad_outputs=lib.tensor([1.0, -2.0]), retain_graph=True)
        g2, = lib.autograd.grad(y, (a,), lib.ones(2))
        return [g1, g2]

    both(run)


def test_autograd_grad_of_intermediate():
    def run(lib):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a * 3
        c = (b * b).sum()
        return list(lib.autograd.grad(c, [b]))

    both(run)


def test_autograd_grad_unused_input():
    def run(lib):
        a = lib.ones(2, requires_grad=True)
        b = lib.ones(2, requires_grad=True)
        lib.autograd.grad((a * 2).sum(), [a, b])

    raises_like(run)

    def allowed(lib):
        a = lib.ones(2, requires_grad=True)
        b = lib.ones(2, requires_grad=True)
        return list(lib.autograd.grad((a * 2).sum(), [a, b], allow_unused=True))

    both(allowed)


def test_autograd_grad_input_not_requiring_grad():
    raises_like(lambda lib: lib.autograd.grad((lib.ones(2, requires_grad=True) * 2).sum(), [lib.ones(2)]))


def test_autograd_grad_output_not_requiring_grad():
    raises_like(lambda lib: lib.autograd.grad(lib.ones(2).sum(), [lib.ones(2, requires_grad=True)]))


def test_autograd_grad_frees_graph_by_default():
    def run(lib):
        a = lib.ones(2, requires_grad=True)
        y = (a * a).sum()
        lib.autograd.grad(y, a)
        lib.autograd.grad(y, a)

    raises_like(run)


@pytest.mark.parametrize("fn", [
    lambda lib, x: x ** 3,
    lambda lib, x: x.sin(),
    lambda lib, x: x * x.exp(),
    lambda lib, x: x / (x * x + 1),
    lambda lib, x: (x * 2).tanh(),
    lambda lib, x: x.sqrt() * x.log(),
    lambda lib, x: x.sigmoid(),
], ids=["cube", "sin", "x_exp", "div", "tanh", "sqrt_log", "sigmoid"])
def test_double_backward(fn):
    def run(lib):
        x = lib.tensor([0.5, 1.5, 2.0], dtype=lib.float64, requires_grad=True)
        y = fn(lib, x).sum()
        (d1,) = lib.autograd.grad(y, x, create_graph=True)
        (d2,) = lib.autograd.grad(d1.sum(), x, create_graph=True)
        (d3,) = lib.autograd.grad(d2.sum(), x)
        return [d1.requires_grad, d1, d2, d3]

    both(run)


def test_double_backward_mixed_partials():
    def run(lib):
        x = lib.tensor([1.0, 2.0], dtype=lib.float64, requires_grad=True)
        y = lib.tensor([3.0, -1.0], dtype=lib.float64, requires_grad=True)
        z = (x * x * y + y / x).sum()
        gx, = lib.autograd.grad(z, x, create_graph=True)
        gxy, = lib.autograd.grad(gx.sum(), y)
        return [gx, gxy]

    both(run)


def test_backward_of_grad_accumulates_into_leaf():
    def run(lib):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        g, = lib.autograd.grad((x ** 3).sum(), x, create_graph=True)
        g.sum().backward()
        return x.grad

    both(run)


# ---- gradcheck ----

def test_gradcheck_passes_on_correct_gradients():
    a = tapegrad.tensor([[0.3, -1.2], [2.0, 0.7]], dtype=tapegrad.float64, requires_grad=True)
    b = tapegrad.tensor([0.5, -0.25], dtype=tapegrad.float64, requires_grad=True)
    assert tapegrad.autograd.gradcheck(lambda x, y: (x * y).sin() / (y * y + 1), (a, b))
    assert tapegrad.autograd.gradcheck(lambda x: x @ x, (a,))


def test_gradcheck_fails_on_wrong_gradients():
    """A function whose forward and backward disagree: the value uses x, the gradient flows as for 2x."""
    def wrong(x):
        return x * 2 - x.detach()

    x = tapegrad.tensor([0.5, 1.0], dtype=tapegrad.float64, requires_grad=True)
    assert tapegrad.autograd.gradcheck(wrong, (x,), raise_exception=False) is False
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        tapegrad.autograd.gradcheck(wrong, (x,))
    tx = torch.tensor([0.5, 1.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: t * 2 - t.detach(), (tx,), raise_exception=False) is False


def test_gradcheck_needs_an_input_requiring_grad():
    with pytest.raises(ValueError, match="at least one input tensor to require gradient"):
        tapegrad.autograd.gradcheck(lambda x: x * 2, (tapegrad.ones(2, dtype=tapegrad.float64),))


# ---- in-place ops and the version counter ----

def test_version_counter_shared_by_views():
    def run(lib):
        a = lib.zeros(2, 3)
        v = a.transpose(0, 1)
        w = a.view(6)
        v.add_(1)
        w.mul_(2)
        return [a._version, v._version, w._version, a]

    both(run)


def test_modified_saved_input():
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a * 1
        c = b * b
        b.add_(1)
        c.sum().backward()

    raises_like(run)


def test_modified_saved_output():
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a.exp()
        b.add_(1)
        b.sum().backward()

    raises_like(run)


def test_modified_saved_leaf_without_grad():
    def run(lib):
        a = lib.ones(2, 3, dtype=lib.float64)
        b = lib.ones(3, dtype=lib.float64, requires_grad=True)
        c = a * b
        a.mul_(2)
        c.sum().backward()

    raises_like(run)


def test_modified_through_a_view():
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a.exp()
        b.view(3, 1).mul_(2)
        b.sum().backward()

    raises_like(run)


def test_inplace_not_touching_saved_tensors_is_fine():
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a * 2  # MulBackward0 saves only the constant
        b.add_(1)
        b.mul_(lib.tensor([1.0, -1.0, 3.0]))
        b.sum().backward()
        return [a.grad, names(b.grad_fn), b._version]

    both(run)


def test_inplace_on_leaf_requiring_grad():
    raises_like(lambda lib: lib.ones(3, requires_grad=True).add_(1))
    raises_like(lambda lib: lib.ones(3, requires_grad=True).zero_())

    def iadd(lib):
        w = lib.ones(3, requires_grad=True)
        w += 1

    raises_like(iadd)


def test_inplace_on_view_of_leaf_requiring_grad():
    raises_like(lambda lib: lib.ones(2, 3, requires_grad=True).transpose(0, 1).mul_(2))
    raises_like(lambda lib: lib.ones(4, requires_grad=True).narrow(0, 1, 2).zero_())


def test_inplace_on_leaf_under_no_grad():
    def run(lib):
        w = lib.tensor([1.0, 2.0], requires_grad=True)
        (w * w).sum().backward()
        with lib.no_grad():
            w -= 0.1 * w.grad
            w.narrow(0, 0, 1).mul_(2)
        return [w, w.requires_grad, w.is_leaf, w.grad_fn is None, w._version]

    both(run)


def test_inplace_on_non_leaf_grad_fn_and_gradient():
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a * a
        b.mul_(3)
        b.sin_()
        b.sum().backward()
        return [names(b.grad_fn), b.is_leaf, a.grad]

    both(run)


@pytest.mark.parametrize("make_view", [
    lambda t: t.narrow(1, 1, 2),
    lambda t: t.transpose(0, 1),
    lambda t: t.select(0, 1),
    lambda t: t.view(6),
    lambda t: t.view(3, 2).narrow(0, 1, 2),
], ids=["narrow", "transpose", "select", "view", "view_of_view"])
def test_inplace_on_view_of_non_leaf(make_view):
    def run(lib):
        a = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        w = lib.tensor([[0.5, -1.0, 2.0], [1.5, 3.0, -2.0]])
        b = a * w
        v = make_view(b)
        v.mul_(v.detach() + 1)
        (b * w).sum().backward()
        return [names(b.grad_fn), b, a.grad, b._version, v._version]

    both(run)


def test_inplace_on_view_then_use_the_view():
    def run(lib):
        a = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        b = a * lib.tensor([2.0, 3.0])
        v = b.select(1, 0)
        v.mul_(2)
        (v * lib.tensor([1.0, 10.0])).sum().backward()
        return [names(v.grad_fn), a.grad]

    both(run)


def test_inplace_on_view_with_other_requiring_grad():
    def run(lib):
        a = lib.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
        c = lib.tensor([5.0, 7.0], requires_grad=True)
        b = a * 1
        b.select(0, 1).add_(c * c)
        (b * b).sum().backward()
        return [b, a.grad, c.grad]

    both(run)


def test_inplace_on_base_invalidates_view_saved_tensor():
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a * 1
        v = b.view(3)
        c = v * v
        b.add_(1)
        c.sum().backward()

    raises_like(run, match="is at version 1; expected version 0 instead")


# ---- big graphs and threads ----

LONG_CHAINS = {
    "constant_factor": "y = y * 1.0",
    "saved_inputs": "y = y * y / y",
    "views": "y = y.view(1, 1).view(1)",
    "inplace_on_views": "y = y * 1.0\ny.view(1).add_(0.0)",
}


@pytest.mark.parametrize("step", LONG_CHAINS.values(), ids=LONG_CHAINS.keys())
def test_long_chain_backward_and_free(step):
    """100,000 ops: neither the engine nor freeing the graph may recurse once per node. The chain
    runs on a thread with a 2 MiB stack, which per-node recursion overflows, in a child process,
    since a stack overflow would take pytest down."""
    code = f"""
import threading
import tapegrad

def chains():
    x = tapegrad.tensor([2.0], requires_grad=True)
    y = x
    for _ in range(100_000):
{textwrap.indent(step, " " * 8)}
    y.sum().backward(retain_graph=True)
    assert x.grad.tolist() == [1.0], x.grad
    del y  # frees the retained graph
    y = x
    for _ in range(100_000):
{textwrap.indent(step, " " * 8)}
    del y  # frees a graph that never ran
    print("ok")

threading.stack_size(2 << 20)
worker = threading.Thread(target=chains)
worker.start()
worker.join()
"""
    assert run_python(code) == "ok\n"


def test_backward_in_parallel_threads():
    """The GIL is released during backward, so two graphs can run at the same time."""
    errors = []
    results = {}

    def worker(k):
        try:
            x = tapegrad.full((64,), float(k), requires_grad=True)
            y = x
            for _ in range(2000):
                y = y * 1.0 + 0.0
            y.sum().backward()
            results[k] = x.grad.tolist()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert all(results[k] == [1.0] * 64 for k in range(4))



# ---- node classes, views and in-place records ----

def test_node_classes_and_repr():
    def run(lib):
        a = lib.ones(2, requires_grad=True)
        y = (a * 2).sum()
        mul = y.grad_fn.next_functions[0][0]
        acc = mul.next_functions[0][0]
        return [type(y.grad_fn).__name__, type(mul).__name__, type(acc).__name__, acc.name(),
                repr(mul).startswith("<MulBackward0 object at 0x"), repr(acc).startswith("<AccumulateGrad object at"),
                isinstance(mul, lib.autograd.graph.Node), type(mul) is type((a * 3).grad_fn)]

    both(run)


def test_view_base():
    def run(lib):
        a = lib.ones(2, 3)
        v = a.transpose(0, 1)
        return [a._base is None, v._base is a, v.narrow(0, 0, 1)._base is a, a.detach()._base is None]

    both(run)


@pytest.mark.parametrize("op", [
    "fill_(2.0)", "zero_()", "sin_()", "exp_()", "clamp_(0, 1)", "neg_()", "relu_()", "pow_(lib.tensor(2.0))", "abs_()",
    "sqrt_()", "sigmoid_()", "tanh_()", "add_(1)", "mul_(2.0)", "copy_(lib.ones(3))",
    "copy_(lib.ones(3, requires_grad=True))", "div_(lib.tensor([1.0, 2.0, 4.0], requires_grad=True))",
    "fill_(lib.tensor(2.0, requires_grad=True))", "fill_(lib.tensor(2.0))",
])
def test_inplace_op_records_torch_node(op):
    def run(lib):
        a = lib.tensor([0.5, 0.7, 0.9], requires_grad=True)
        x = a * 1
        eval("x." + op, {"x": x, "lib": lib})
        x.retain_grad()
        (x * lib.tensor([1.0, 2.0, 3.0])).sum().backward()
        return [names(x.grad_fn), [(names(n), i) for n, i in x.grad_fn.next_functions], a.grad, x.grad, x._version]

    both(run)


def test_inplace_op_on_view_records_copy_slices():
    def run(lib):
        a = lib.tensor([0.5, 0.7, 0.9], requires_grad=True)
        x = a * 1
        v = x.narrow(0, 1, 2)
        v.sin_()
        return [names(x.grad_fn), names(v.grad_fn), names(x.grad_fn.next_functions[0][0]),
                names(v.grad_fn.next_functions[0][0])]

    both(run)


def test_inplace_op_on_integer_tensor():
    raises_like(lambda lib: lib.tensor([1, 4]).sqrt_())
    raises_like(lambda lib: lib.tensor([1, 4]).div_(2))


def test_view_taken_before_inplace_on_base():
    """A view made before its base changed in place follows the base's new history."""
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a * 1
        v = b.narrow(0, 0, 2)
        b.mul_(2)
        (v * v).sum().backward()
        return [names(v.grad_fn), a.grad]

    both(run)


def test_view_taken_before_inplace_on_sibling_view():
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a * 1
        v = b.narrow(0, 0, 2)
        w = b.narrow(0, 1, 2)
        w.mul_(3)
        (v * v).sum().backward()
        return [names(v.grad_fn), names(b.grad_fn), names(w.grad_fn), a.grad]

    both(run)


def test_view_of_leaf_after_no_grad_update():
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        v = a.narrow(0, 0, 2)
        with lib.no_grad():
            a.mul_(2)
        (v * v).sum().backward()
        return [names(v.grad_fn), v.requires_grad, a.grad]

    both(run)


def test_view_of_plain_tensor_gains_history():
    def run(lib):
        b = lib.zeros(3)
        v = b.narrow(0, 0, 2)
        c = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b.add_(c)
        (v * v).sum().backward()
        return [names(b.grad_fn), names(v.grad_fn), v.requires_grad, v.is_leaf, c.grad]

    both(run)


def test_retained_grad_of_view_follows_refresh():
    def run(lib):
        a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        b = a * 1
        v = b.narrow(0, 1, 2)
        v.retain_grad()
        b.mul_(2)
        (v * lib.tensor([5.0, 7.0])).sum().backward()
        return [v.grad, a.grad]

    both(run)


def test_backward_with_inputs_accumulates_only_there():
    def run(lib):
        x = lib.ones(3, requires_grad=True)
        y = lib.ones(3, requires_grad=True)
        w = lib.ones(3, requires_grad=True)
        m = x * 2
        z = (m * y * 3).sum()
        z.backward(inputs=[x], retain_graph=True)
        z.backward(inputs=x, retain_graph=True)
        z.backward(inputs=[w], retain_graph=True)
        lib.autograd.backward(z, inputs=[m, y])
        return [x.grad, y.grad, w.grad is None, m.grad, m.retains_grad]

    both(run)


def test_backward_with_bad_inputs():
    raises_like(lambda lib: (lib.ones(3, requires_grad=True) * 2).sum().backward(inputs=[]))
    raises_like(lambda lib: (lib.ones(3, requires_grad=True) * 2).sum().backward(inputs=[lib.ones(3)]))


def test_gradcheck_multiple_outputs_and_mismatch_report():
    def two(x, y):
        return x * y, (x - y.detach()).sum()

    x = tapegrad.tensor([0.5, 1.0], dtype=tapegrad.float64, requires_grad=True)
    y = tapegrad.tensor([2.0, -1.0], dtype=tapegrad.float64, requires_grad=True)
    assert tapegrad.autograd.gradcheck(lambda a, b: (a * b, (a - b).sum()), (x, y))
    with pytest.raises(RuntimeError, match="Jacobian mismatch for output 1 with respect to input 1"):
        tapegrad.autograd.gradcheck(two, (x, y))


def test_gradcheck_warns_on_single_precision():
    x = tapegrad.tensor([0.5, 1.0], requires_grad=True)
    with pytest.warns(UserWarning, match="Input #0 requires gradient and is not a double precision"):
        tapegrad.autograd.gradcheck(lambda t: t * 2, (x,), eps=1e-3, atol=1e-2)


def test_gradcheck_on_a_view_of_the_input():
    x = tapegrad.tensor([[0.5, 1.0], [2.0, 3.0]], dtype=tapegrad.float64, requires_grad=True)
    assert tapegrad.autograd.gradcheck(lambda t: t.transpose(0, 1), (x,))


# ---- Tensor.register_hook ----

def hooked_graph(lib):
    """A graph with hooks on a leaf and a non-leaf; returns the leaf's grad, what the hooks saw, and d(out)/d(w)."""
    seen = []
    x = lib.tensor([1.0, -2.0, 3.0], requires_grad=True)
    w = lib.tensor([0.5, 0.25, 2.0], requires_grad=True)
    h = x * w
    h.register_hook(lambda g: seen.append(g.clone()) or g * 10)  # replaces the gradient flowing on
    x.register_hook(lambda g: seen.append(g.clone()))  # observes only
    removed = w.register_hook(lambda g: g * 0)
    removed.remove()
    (h.exp() * h).sum().backward()
    return x.grad, w.grad, seen


def test_register_hook_matches_torch():
    ours, ref = hooked_graph(tapegrad), hooked_graph(torch)
    for o, r in zip(ours[:2], ref[:2]):
        np.testing.assert_allclose(o.numpy(), r.numpy(), rtol=1e-6)
    assert len(ours[2]) == len(ref[2]) == 2
    for o, r in zip(ours[2], ref[2]):
        np.testing.assert_allclose(o.numpy(), r.numpy(), rtol=1e-6)


def test_register_hook_applies_to_autograd_grad_and_retain_grad():
    results = []
    for lib in (tapegrad, torch):
        x = lib.tensor([1.0, 2.0], requires_grad=True)
        y = x * x
        y.retain_grad()
        y.register_hook(lambda g: g + 1)
        x.register_hook(lambda g: g * 3)
        (gx,) = lib.autograd.grad((y * y).sum(), x, retain_graph=True)
        (y * y).sum().backward()
        results.append((gx.numpy(), x.grad.numpy(), y.grad.numpy()))
    for o, r in zip(*results):
        np.testing.assert_allclose(o, r)


# ---- inference_mode ----

@pytest.mark.parametrize("lib", [tapegrad, torch], ids=["tapegrad", "torch"])
def test_inference_mode_records_nothing(lib):
    x = lib.ones(2, requires_grad=True)
    with lib.inference_mode():
        assert not (x * 2).requires_grad
    with lib.inference_mode(False):
        assert (x * 2).requires_grad

    @lib.inference_mode()
    def called():
        return x * 2

    @lib.inference_mode
    def bare():
        return x * 2

    assert not called().requires_grad and not bare().requires_grad
    assert (x * 2).requires_grad


@pytest.mark.parametrize("view", [
    lambda x: x[1],
    lambda x: x[:, ::2],
    lambda x: x[1:, :2],
    lambda x: x.as_strided((2, 2), (1, 3), 1),
], ids=["select", "strided_slice", "slice", "as_strided"])
def test_double_backward_through_views_matches_torch(view):
    def run(lib):
        x = lib.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], dtype=lib.float64, requires_grad=True)
        (g,) = lib.autograd.grad((view(x) ** 3).sum(), x, create_graph=True)
        (h,) = lib.autograd.grad((g * g).sum(), x)
        return [g.grad_fn.name(), g.detach(), h]

    ours, ref = run(tapegrad), run(torch)
    assert ours[0] == ref[0]
    for o, r in zip(ours[1:], ref[1:]):
        np.testing.assert_allclose(o.numpy(), r.numpy(), rtol=1e-12)
