"""Custom autograd.Function and autograd.functional (jacobian, hessian) against PyTorch."""
import numpy as np
import pytest
import torch

import tapegrad

LIBS = [torch, tapegrad]


def define(lib):
    """The same custom Functions, written against torch or tapegrad."""

    class Cube(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x  # differentiable: supports double backward

    class ScaledMul(lib.autograd.Function):
        @staticmethod
        def forward(ctx, a, b, scale):
            ctx.scale = scale
            ctx.save_for_backward(a, b)
            return a * b * scale

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            ga = g * b * ctx.scale if ctx.needs_input_grad[0] else None
            gb = g * a * ctx.scale if ctx.needs_input_grad[1] else None
            return ga, gb, None

    class SortWithIndex(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            values, indices = x.sort()
            ctx.mark_non_differentiable(indices)
            ctx.save_for_backward(indices)
            return values, indices

        @staticmethod
        def backward(ctx, g_values, g_indices):
            (indices,) = ctx.saved_tensors
            return lib.zeros_like(g_values).scatter(0, indices, g_values)

    class Exp(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            y = x.exp()
            ctx.save_for_backward(y)  # an output: unpacked with this node as its grad_fn
            return y

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    class SplitTwo(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            total = None
            for g, k in ((g1, 2), (g2, 3)):
                if g is not None:
                    total = g * k if total is None else total + g * k
            return total

    class MaterializedTwo(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, g1, g2):
            return g1 * 2 + g2 * 3

    class SetupStyle(lib.autograd.Function):
        @staticmethod
        def forward(x, k):
            return x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.k = inputs[1]

        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, None

    class Identity(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x

        @staticmethod
        def backward(ctx, g):
            return g * 2

    class BroadcastGrad(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, y):
            return x + y

        @staticmethod
        def backward(ctx, g):
            return g, g  # y's gradient arrives with x's shape and is summed down

    return dict(Cube=Cube, ScaledMul=ScaledMul, SortWithIndex=SortWithIndex, Exp=Exp, SplitTwo=SplitTwo,
                MaterializedTwo=MaterializedTwo, SetupStyle=SetupStyle, Identity=Identity,
                BroadcastGrad=BroadcastGrad)


FNS = {lib: define(lib) for lib in LIBS}


def leaf(lib, arr):
    return lib.tensor(arr).requires_grad_(True)


def both(fn, *arrays):
    """fn(lib, fns, *leaves) for each library: its result and the leaves."""
    out = {}
    for lib in LIBS:
        leaves = [leaf(lib, a) for a in arrays]
        out[lib] = (fn(lib, FNS[lib], *leaves), leaves)
    return out


def close(a, b, **tol):
    np.testing.assert_allclose(np.asarray(a.detach()), b.detach().numpy(), **(tol or dict(rtol=1e-6, atol=1e-7)))


ARR = np.array([[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_for_backward_and_gradients(dtype):
    def run(lib, F, x):
        y = F["Cube"].apply(x)
        y.sum().backward()
        return y

    res = both(run, ARR.astype(dtype))
    (ours, [x]), (ref, [rx]) = res[tapegrad], res[torch]
    close(ours, ref)
    close(x.grad, rx.grad)
    assert type(ours.grad_fn).__name__ == type(ref.grad_fn).__name__ == "CubeBackward"
    assert str(ours.dtype) == str(ref.dtype)


def test_needs_input_grad_non_tensor_argument_and_none_gradient():
    seen = {}
    for lib in LIBS:
        a = leaf(lib, ARR)
        b = lib.tensor(ARR * 2)

        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, a, b, scale):
                seen["needs"] = ctx.needs_input_grad
                return FNS[lib]["ScaledMul"].forward(ctx, a, b, scale)

            backward = FNS[lib]["ScaledMul"].backward

        Probe.apply(a, b, 1.5).sum().backward()
        seen[lib] = (seen["needs"], a.grad.numpy().copy(), b.grad)
    assert seen[torch][0] == seen[tapegrad][0] == (True, False, False)
    np.testing.assert_allclose(seen[tapegrad][1], seen[torch][1])
    assert seen[tapegrad][2] is None and seen[torch][2] is None


def test_double_backward_create_graph():
    grads = {}
    for lib in LIBS:
        x = leaf(lib, ARR)
        y = FNS[lib]["Cube"].apply(x).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), x)
        grads[lib] = (g, gg)
    close(grads[tapegrad][0], grads[torch][0])
    close(grads[tapegrad][1], grads[torch][1])


def test_saved_output_double_backward():
    grads = {}
    for lib in LIBS:
        x = leaf(lib, ARR)
        y = FNS[lib]["Exp"].apply(x)
        (g,) = lib.autograd.grad(y.sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        grads[lib] = gg
    close(grads[tapegrad], grads[torch])


def test_multiple_outputs_and_mark_non_differentiable():
    def run(lib, F, x):
        values, indices = F["SortWithIndex"].apply(x)
        (values * lib.arange(3.0)).sum().backward()
        return values, indices

    res = both(run, np.array([0.3, -2.0, 1.0]))
    (ours, [x]), (ref, [rx]) = res[tapegrad], res[torch]
    close(ours[0], ref[0])
    assert ours[1].tolist() == ref[1].tolist()
    assert ours[1].requires_grad is False and ref[1].requires_grad is False
    assert ours[0].requires_grad and ours[0].grad_fn.name() == "SortWithIndexBackward"
    close(x.grad, rx.grad)


@pytest.mark.parametrize("name", ["SplitTwo", "MaterializedTwo"])
def test_unused_output_gradient_materialized_or_none(name):
    def run(lib, F, x):
        first, _ = F[name].apply(x)
        first.sum().backward()
        return first

    res = both(run, ARR)
    close(res[tapegrad][1][0].grad, res[torch][1][0].grad)


def test_setup_context_style():
    res = both(lambda lib, F, x: F["SetupStyle"].apply(x, 4.0).sum().backward(), ARR)
    close(res[tapegrad][1][0].grad, res[torch][1][0].grad)


def test_input_returned_unchanged_is_a_new_tensor():
    for lib in LIBS:
        x = leaf(lib, ARR)
        y = FNS[lib]["Identity"].apply(x)
        assert y is not x and y.grad_fn is not None
        y.sum().backward()
        assert x.grad.tolist() == (lib.ones(2, 3) * 2).tolist()


def test_gradient_summed_to_broadcast_input():
    res = both(lambda lib, F, x, y: F["BroadcastGrad"].apply(x, y).sum().backward(), ARR, ARR[0])
    for i in range(2):
        close(res[tapegrad][1][i].grad, res[torch][1][i].grad)


def test_no_history_without_grad():
    for lib in LIBS:
        x = leaf(lib, ARR)
        with lib.no_grad():
            y = FNS[lib]["Cube"].apply(x)
        assert y.grad_fn is None and not y.requires_grad
        assert FNS[lib]["Cube"].apply(lib.tensor(ARR)).grad_fn is None


def test_once_differentiable_runs_backward_without_graph():
    for lib in LIBS:
        from_lib = lib.autograd.function.once_differentiable

        class Square(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * x

            @staticmethod
            @from_lib
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * 2 * x

        x = leaf(lib, ARR)
        (g,) = lib.autograd.grad(Square.apply(x).sum(), x, create_graph=True)
        assert g.requires_grad is False


def error_of(fn):
    try:
        fn()
    except Exception as exc:  # noqa: BLE001  (the exception is what is compared)
        return type(exc), str(exc)
    raise AssertionError("no exception")


def bad_functions(lib):
    class Scale(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x, k):
            return x * k

    class TooFew(Scale):
        @staticmethod
        def backward(ctx, g):
            return g

    class GradForNumber(Scale):
        @staticmethod
        def backward(ctx, g):
            return g, g

    class NoBackward(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

    class WrongShape(NoBackward):
        @staticmethod
        def backward(ctx, g):
            return g[:1]

    return TooFew, GradForNumber, WrongShape, NoBackward


@pytest.mark.parametrize("which", range(4))
def test_backward_errors_match_torch(which):
    errors = []
    for lib in LIBS:
        fn = bad_functions(lib)[which]
        x = leaf(lib, ARR)
        args = (x, 2.0) if which < 2 else (x,)
        errors.append(error_of(lambda: fn.apply(*args).sum().backward()))
    assert errors[0] == errors[1]


def test_saved_tensor_errors_match_torch():
    errors = []
    for lib in LIBS:
        x = leaf(lib, ARR)
        y = FNS[lib]["Cube"].apply(x)
        y.sum().backward()
        second = error_of(lambda: y.sum().backward())
        z = x * 1
        w = FNS[lib]["Cube"].apply(z)
        z.mul_(2)
        modified = error_of(lambda: w.sum().backward())
        errors.append((second, modified))
    assert errors[0] == errors[1]


def test_legacy_call_is_refused():
    errors = []
    for lib in LIBS:
        with pytest.warns(DeprecationWarning):
            instance = FNS[lib]["Cube"]()
        errors.append(error_of(lambda: instance(lib.tensor(ARR))))
    assert errors[0] == errors[1]


# ---- autograd.functional ----

def f_vector(x):
    return (x.exp() * x.sum()).tanh()


def f_two(x, y):
    return x * y.sum(), (x * x).sum() + y


def f_scalar(x):
    return (x.sin() * x.sum()).sum()


def f_scalar_two(x, y):
    return (x.exp() * y).sum() + (y * y * y).sum()


@pytest.mark.parametrize("create_graph", [False, True])
def test_jacobian_single(create_graph):
    x = np.array([0.3, -0.5, 0.8])
    ours = tapegrad.autograd.functional.jacobian(f_vector, tapegrad.tensor(x), create_graph=create_graph)
    ref = torch.autograd.functional.jacobian(f_vector, torch.tensor(x), create_graph=create_graph)
    close(ours, ref, rtol=1e-12)
    assert ours.requires_grad == ref.requires_grad


def test_jacobian_tuples():
    x, y = np.array([0.3, -0.5]), np.array([1.0, 2.0, 0.5])
    ours = tapegrad.autograd.functional.jacobian(f_two, (tapegrad.tensor(x), tapegrad.tensor(y)))
    ref = torch.autograd.functional.jacobian(f_two, (torch.tensor(x), torch.tensor(y)))
    for o_row, r_row in zip(ours, ref):
        for o, r in zip(o_row, r_row):
            assert tuple(o.shape) == tuple(r.shape)
            close(o, r, rtol=1e-12)


def test_hessian():
    x = np.array([0.3, -0.5, 0.8])
    close(tapegrad.autograd.functional.hessian(f_scalar, tapegrad.tensor(x)),
          torch.autograd.functional.hessian(f_scalar, torch.tensor(x)), rtol=1e-12)
    y = np.array([1.0, -2.0, 0.5])
    ours = tapegrad.autograd.functional.hessian(f_scalar_two, (tapegrad.tensor(x), tapegrad.tensor(y)))
    ref = torch.autograd.functional.hessian(f_scalar_two, (torch.tensor(x), torch.tensor(y)))
    for o_row, r_row in zip(ours, ref):
        for o, r in zip(o_row, r_row):
            close(o, r, rtol=1e-12, atol=1e-14)


def test_hessian_of_non_scalar_is_refused():
    errors = [error_of(lambda: lib.autograd.functional.hessian(lambda x: x * 2, lib.tensor([1.0, 2.0])))
              for lib in LIBS]
    assert errors[0] == errors[1]


def test_gradcheck_through_custom_function():
    F = FNS[tapegrad]
    x = leaf(tapegrad, ARR)
    assert tapegrad.autograd.gradcheck(lambda t: F["Cube"].apply(t), (x,))
    assert tapegrad.autograd.gradcheck(lambda t: F["Exp"].apply(t), (x,))
