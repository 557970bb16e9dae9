"""Reductions and softmax beyond the op table: named tuples, integer dtypes, ties, NaN, empty tensors,
errors, numerical stability and double backward, each against PyTorch."""
import warnings

import numpy as np
import pytest
import torch

import tapegrad

INF = float("inf")
NAN = float("nan")


def both(fn):
    """fn(lib) for tapegrad and torch."""
    return fn(tapegrad), fn(torch)


def assert_same(ours, ref):
    assert tuple(ours.shape) == tuple(ref.shape)
    assert str(ours.dtype) == str(ref.dtype)
    np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), rtol=1e-6, atol=1e-7)


def assert_same_error(fn, same_message=True):
    with pytest.raises(Exception) as ours:
        fn(tapegrad)
    with pytest.raises(Exception) as ref:
        fn(torch)
    assert type(ours.value) is type(ref.value), (ours.value, ref.value)
    if same_message:
        assert str(ours.value) == str(ref.value)


def grads(fn, data, dtype="float64"):
    """Gradient of fn(lib, x).sum() with respect to x, for both libraries."""
    out = []
    for lib in (tapegrad, torch):
        x = lib.tensor(data, dtype=getattr(lib, dtype), requires_grad=True)
        fn(lib, x).sum().backward()
        out.append(x.grad)
    return out


# ---- named tuples ----

@pytest.mark.parametrize("name", ["max", "min"])
def test_dim_results_are_named_tuples(name):
    data = [[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]]
    ours, ref = both(lambda L: getattr(L.tensor(data), name)(1))
    assert isinstance(ours, tuple) and len(ours) == 2
    values, indices = ours
    assert values is ours.values and indices is ours.indices
    assert ours[0] is ours.values
    assert_same(ours.values, ref.values)
    assert_same(ours.indices, ref.indices)
    assert repr(ours) == repr(ref)
    assert type(ours).__name__ == name
    assert getattr(tapegrad.return_types, name) is type(ours)


def test_named_tuple_repr_with_grad_fn_and_keepdim():
    ours, ref = both(lambda L: L.max(L.tensor([[1.0, 5.0], [7.0, 0.0]], requires_grad=True), dim=0, keepdim=True))
    assert repr(ours) == repr(ref)
    assert ours.values.grad_fn.name() == ref.values.grad_fn.name() == "MaxBackward0"
    assert not ours.indices.requires_grad


# ---- dtypes of integer and bool reductions ----

INT_DATA = [[3, -1, 4], [1, 5, -9]]
BOOL_DATA = [[True, False, True], [False, False, True]]


@pytest.mark.parametrize("data", [INT_DATA, BOOL_DATA], ids=["int64", "bool"])
@pytest.mark.parametrize("op", [
    lambda L, x: x.sum(),
    lambda L, x: x.sum(1),
    lambda L, x: x.sum(0, dtype=L.float32),
    lambda L, x: x.prod(),
    lambda L, x: x.prod(1, keepdim=True),
    lambda L, x: x.max(),
    lambda L, x: x.min(1).values,
    lambda L, x: x.max(1).indices,
    lambda L, x: x.amax(0),
    lambda L, x: x.amin(),
    lambda L, x: x.any(),
    lambda L, x: x.all(1),
    lambda L, x: x.logsumexp(1),
    lambda L, x: L.isclose(x, x),
    lambda L, x: x.mean(dtype=L.float64),
    lambda L, x: x.softmax(0, dtype=L.float32),
], ids=["sum", "sum_dim", "sum_dtype", "prod", "prod_dim", "max", "min_dim", "max_indices", "amax", "amin", "any",
        "all", "logsumexp", "isclose", "mean_dtype", "softmax_dtype"])
def test_integer_and_bool_reductions(op, data):
    ours, ref = both(lambda L: op(L, L.tensor(data)))
    assert_same(ours, ref)


def test_integer_argmax_and_isclose_tolerance():
    for op in (lambda L: L.tensor(INT_DATA).argmax(), lambda L: L.tensor(INT_DATA).argmin(1),
               lambda L: L.isclose(L.tensor([1, 2, 10]), L.tensor([1, 3, 12]), atol=1.5)):
        assert_same(*both(op))


def test_sum_with_integer_dtype_truncates_first():
    assert_same(*both(lambda L: L.tensor([0.5, 0.5, 1.7]).sum(dtype=L.int64)))


@pytest.mark.parametrize("op", [
    lambda L: L.tensor(INT_DATA).mean(),
    lambda L: L.tensor(BOOL_DATA).mean(1),
    lambda L: L.tensor(INT_DATA).mean(dtype=L.int64),
    lambda L: L.tensor(INT_DATA).var(),
    lambda L: L.tensor(INT_DATA).std(1),
    lambda L: L.tensor(BOOL_DATA).argmax(),
    lambda L: L.tensor(BOOL_DATA).argmin(0),
    lambda L: L.tensor(INT_DATA).softmax(1),
    lambda L: L.tensor(INT_DATA).log_softmax(0),
    lambda L: L.tensor(BOOL_DATA).softmax(-1),
    lambda L: L.tensor(INT_DATA).norm(),
    lambda L: L.isclose(L.tensor([1.0]), L.tensor([1.0], dtype=L.float64)),
    lambda L: L.allclose(L.tensor([1]), L.tensor([1.0])),
], ids=["mean_int", "mean_bool", "mean_int_dtype", "var_int", "std_int", "argmax_bool", "argmin_bool",
        "softmax_int", "log_softmax_int", "softmax_bool", "norm_int", "isclose_dtypes", "allclose_dtypes"])
def test_dtype_errors(op):
    assert_same_error(op)


def test_reduction_to_integer_dtype_cannot_record_gradients():
    assert_same_error(lambda L: L.ones(2, 3, requires_grad=True).sum(1, dtype=L.int64))


# ---- ties and NaN ----

TIES = [[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, -1.0, 2.0]]


@pytest.mark.parametrize("fn", [
    lambda L, x: x.max(),
    lambda L, x: x.min(),
    lambda L, x: x.max(1).values,
    lambda L, x: x.min(dim=0).values,
    lambda L, x: x.amax(1),
    lambda L, x: x.amin((0, 1)),
    lambda L, x: x.norm(INF, 1),
    lambda L, x: L.max(x, x.detach() * 0 + 2),
], ids=["max", "min", "max_dim", "min_dim", "amax", "amin", "norm_inf", "max_other"])
def test_gradient_at_ties(fn):
    ours, ref = grads(fn, TIES)
    assert_same(ours, ref)


def test_indices_at_ties_pick_the_first():
    for fn in (lambda L: L.tensor(TIES).max(1), lambda L: L.tensor(TIES).min(0), lambda L: L.tensor(TIES).argmax(1),
               lambda L: L.tensor(TIES).argmin(), lambda L: L.tensor(TIES).argmax()):
        ours, ref = both(fn)
        for o, r in zip(*(x if isinstance(x, tuple) else (x,) for x in (ours, ref))):
            assert_same(o, r)


NANS = [[1.0, NAN, 3.0], [2.0, 0.0, NAN]]


@pytest.mark.parametrize("fn", [
    lambda L, x: x.max(),
    lambda L, x: x.min(1).values,
    lambda L, x: x.amax(0),
    lambda L, x: x.logsumexp(1),
    lambda L, x: x.softmax(1),
    lambda L, x: x.sum(0),
], ids=["max", "min_dim", "amax", "logsumexp", "softmax", "sum"])
def test_nan_propagates_like_torch(fn):
    assert_same(*both(lambda L: fn(L, L.tensor(NANS))))
    assert_same(*grads(fn, NANS))


def test_nan_indices():
    for fn in (lambda L: L.tensor(NANS).max(1).indices, lambda L: L.tensor(NANS).argmin(1),
               lambda L: L.tensor(NANS).argmax()):
        assert_same(*both(fn))


@pytest.mark.parametrize("data", [[[2.0, 0.0, 3.0], [1.0, 2.0, 3.0]], [[2.0, 0.0, 3.0], [0.0, 0.0, 3.0]],
                                  [[0.0, 0.0, 0.0], [4.0, 0.0, 1.0]]], ids=["one_zero", "two_zeros", "zero_rows"])
@pytest.mark.parametrize("dim", [None, 0, 1])
def test_prod_gradient_with_zeros(data, dim):
    assert_same(*grads(lambda L, x: x.prod() if dim is None else x.prod(dim), data))


def test_norm_gradient_at_zero():
    assert_same(*grads(lambda L, x: x.norm(), [0.0, 0.0]))
    assert_same(*grads(lambda L, x: x.norm(dim=1), [[0.0, 0.0], [3.0, 4.0]]))
    assert_same(*grads(lambda L, x: x.norm(3, 1), [[0.0, 0.0], [3.0, 0.0]]))
    assert_same(*grads(lambda L, x: x.std(1), [[1.0, 1.0], [3.0, 4.0]]))


# ---- empty and 0-dim tensors ----

@pytest.mark.parametrize("op", [
    lambda L: L.zeros(0).sum(),
    lambda L: L.zeros(0, 3).sum(0),
    lambda L: L.zeros(0).prod(),
    lambda L: L.zeros(3, 0).prod(1),
    lambda L: L.zeros(0).mean(),
    lambda L: L.zeros(0, 3).max(1).values,
    lambda L: L.zeros(0, 3).amax(1),
    lambda L: L.zeros(3, 0).amin(0),
    lambda L: L.zeros(0, 3).argmax(1),
    lambda L: L.zeros(0).any(),
    lambda L: L.zeros(0).all(),
    lambda L: L.zeros(3, 0).logsumexp(1),
    lambda L: L.zeros(3, 0).softmax(1),
    lambda L: L.zeros(0, 3).log_softmax(1),
    lambda L: L.zeros(0).norm(),
], ids=["sum", "sum_dim", "prod", "prod_dim", "mean", "max_dim", "amax", "amin", "argmax", "any", "all",
        "logsumexp", "softmax", "log_softmax", "norm"])
def test_empty_tensors(op):
    assert_same(*both(op))


@pytest.mark.parametrize("op", [
    lambda L: L.zeros(0).max(),
    lambda L: L.zeros(0, 3).min(),
    lambda L: L.zeros(0, 3).max(0),
    lambda L: L.zeros(0, 3).min(-2),
    lambda L: L.zeros(0).amax(),
    lambda L: L.zeros(0, 3).amin(-2),
    lambda L: L.zeros(0, 3).amax((1, 0)),
    lambda L: L.zeros(0).argmax(),
    lambda L: L.zeros(0, 3).argmin(0),
], ids=["max", "min", "max_dim", "min_neg_dim", "amax", "amin_neg_dim", "amax_dims", "argmax", "argmin_dim"])
def test_empty_max_like_errors(op):
    assert_same_error(op)


@pytest.mark.parametrize("op", [
    lambda L: L.tensor(2.5).sum(0),
    lambda L: L.tensor(2.5).max(0).values,
    lambda L: L.tensor(2.5).max(-1, keepdim=True).indices,
    lambda L: L.tensor(2.5).amax(0, keepdim=True),
    lambda L: L.tensor(2.5).argmax(keepdim=True),
    lambda L: L.tensor(2.5).softmax(0),
    lambda L: L.tensor(2.5).log_softmax(-1),
    lambda L: L.tensor(2.5).logsumexp(0),
    lambda L: L.tensor(2.5).prod(0),
    lambda L: L.tensor(2.5).norm(dim=0),
], ids=["sum", "max", "max_keepdim", "amax", "argmax", "softmax", "log_softmax", "logsumexp", "prod", "norm"])
def test_zero_dim_inputs(op):
    assert_same(*both(op))


def test_zero_dim_gradients():
    for fn in (lambda L, x: x.max(0).values, lambda L, x: x.softmax(0), lambda L, x: x.logsumexp(0)):
        assert_same(*grads(fn, 2.5))


# ---- errors ----

@pytest.mark.parametrize("op", [
    lambda L: L.ones(2, 3).sum(2),
    lambda L: L.ones(2, 3).mean(-3),
    lambda L: L.ones(2, 3).prod(5),
    lambda L: L.ones(2, 3).max(2),
    lambda L: L.ones(2, 3).amin((0, 2)),
    lambda L: L.ones(2, 3).argmax(-3),
    lambda L: L.ones(2, 3).var(2),
    lambda L: L.ones(2, 3).logsumexp(2),
    lambda L: L.ones(2, 3).softmax(2),
    lambda L: L.ones(2, 3).log_softmax(-3),
    lambda L: L.ones(2, 3).any(2),
    lambda L: L.tensor(1.0).max(1),
    lambda L: L.tensor(1.0).sum(-2),
], ids=["sum", "mean", "prod", "max", "amin", "argmax", "var", "logsumexp", "softmax", "log_softmax", "any",
        "max_0dim", "sum_0dim"])
def test_dim_out_of_range(op):
    assert_same_error(op)


@pytest.mark.parametrize("op", [
    lambda L: L.ones(2, 3).sum((0, 0)),
    lambda L: L.ones(2, 3).mean((1, -1)),
    lambda L: L.ones(2, 3).amax([0, -2]),
    lambda L: L.tensor(1.0).sum((0, -1)),
    lambda L: L.ones(2, 3).logsumexp((0, 0)),
], ids=["sum", "mean", "amax", "sum_0dim", "logsumexp"])
def test_repeated_dims(op):
    assert_same_error(op)


@pytest.mark.parametrize("op", [
    lambda L: L.isclose(L.ones(2), L.ones(2), rtol=-1),
    lambda L: L.allclose(L.ones(2), L.ones(2), atol=-0.5),
    lambda L: L.isclose(L.ones(2, 3), L.ones(3, 2)),
    lambda L: L.ones(2, 3).norm(p="abc"),
    lambda L: L.ones(2, 3).sum_to_size(4),
], ids=["rtol", "atol", "shapes", "norm_order", "sum_to_size"])
def test_value_errors(op):
    assert_same_error(op)


@pytest.mark.parametrize("op", [
    lambda L: L.max(L.ones(2, 3), 1.0),
    lambda L: L.ones(2, 3).prod((0, 1)),
    lambda L: L.ones(2, 3).prod(keepdim=True),
    lambda L: L.ones(2, 3).var(0, True, correction=1),
    lambda L: L.ones(2, 3).std(unbiased=True, correction=0),
    lambda L: L.ones(2, 3).logsumexp(),
    lambda L: L.ones(2, 3).softmax(),
    lambda L: L.equal(L.ones(2), 1),
], ids=["max_number", "prod_tuple", "prod_keepdim_only", "var_both", "std_both", "logsumexp_no_dim",
        "softmax_no_dim", "equal_number"])
def test_bad_arguments_are_type_errors(op):
    assert_same_error(op, same_message=False)


# ---- numerical stability ----

LARGE = [[1000.0, 0.0, -1000.0], [-5000.0, -5001.0, -5002.0], [88.0, 89.0, 90.0], [-INF, 0.0, 1.0]]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("fn", [
    lambda L, x: x.softmax(1),
    lambda L, x: x.log_softmax(1),
    lambda L, x: x.logsumexp(1),
    lambda L, x: L.logsumexp(x, 1, keepdim=True),
], ids=["softmax", "log_softmax", "logsumexp", "logsumexp_keepdim"])
def test_large_logits_are_stable(fn, dtype):
    ours, ref = both(lambda L: fn(L, L.tensor(LARGE, dtype=getattr(L, dtype))))
    assert np.all(np.isfinite(ours.numpy()[:3]))
    assert_same(ours, ref)
    assert_same(*grads(fn, LARGE, dtype))


@pytest.mark.parametrize("fn", [
    lambda L, x: x.softmax(1),
    lambda L, x: x.log_softmax(1),
    lambda L, x: x.logsumexp(1),
], ids=["softmax", "log_softmax", "logsumexp"])
def test_infinite_rows_match_torch(fn):
    rows = [[-INF, -INF], [INF, 1.0], [INF, -INF]]
    assert_same(*both(lambda L: fn(L, L.tensor(rows))))


# ---- var/std warnings, equal/allclose, sum_to_size ----

def test_var_without_degrees_of_freedom_warns():
    for lib in (tapegrad, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = lib.tensor([[1.0], [2.0]]).var(1)
        assert np.all(np.isnan(out.numpy()))
        assert any("degrees of freedom is <= 0" in str(w.message) for w in caught)
        assert all(issubclass(w.category, UserWarning) for w in caught)
    for lib in (tapegrad, torch):
        with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
            out = lib.tensor([1.0, 2.0]).std(correction=3)
        assert out.item() == INF


def test_equal_and_allclose_return_python_bools():
    cases = [
        lambda L: L.equal(L.tensor([1.0, 2.0]), L.tensor([1.0, 2.0])),
        lambda L: L.equal(L.tensor([1.0, 2.0]), L.tensor([1, 2])),
        lambda L: L.equal(L.tensor([1.0, 2.0]), L.tensor([1.0])),
        lambda L: L.equal(L.tensor([NAN]), L.tensor([NAN])),
        lambda L: L.tensor([1.0, 2.0]).equal(L.tensor([1.0, 2.5])),
        lambda L: L.allclose(L.tensor([1.0, NAN]), L.tensor([1.0 + 1e-9, NAN]), equal_nan=True),
        lambda L: L.allclose(L.tensor([1.0, NAN]), L.tensor([1.0, NAN])),
        lambda L: L.tensor([1.0, 2.0]).allclose(L.tensor([1.1, 2.0]), rtol=0.2),
    ]
    for case in cases:
        ours, ref = both(case)
        assert type(ours) is bool and ours == ref


def test_isclose_special_values():
    a, b = [1.0, INF, -INF, NAN, 0.0], [1.0, INF, INF, NAN, 1e-9]
    for kw in ({}, {"equal_nan": True}, {"rtol": 0, "atol": 0}):
        assert_same(*both(lambda L: L.isclose(L.tensor(a), L.tensor(b), **kw)))


def test_sum_to_size():
    assert_same(*both(lambda L: L.arange(24.0).reshape(2, 3, 4).sum_to_size(3, 1)))
    assert_same(*both(lambda L: L.arange(6.0).reshape(2, 3).sum_to_size((1, 3))))


# ---- grad_fn names and double backward ----

@pytest.mark.parametrize("fn", [
    lambda L, x: x.sum(), lambda L, x: x.sum(1), lambda L, x: x.sum(dtype=L.float64), lambda L, x: x.mean(),
    lambda L, x: x.mean(0), lambda L, x: x.mean(dtype=L.float64), lambda L, x: x.prod(), lambda L, x: x.prod(1),
    lambda L, x: x.max(), lambda L, x: x.min(0).values, lambda L, x: x.amax(1), lambda L, x: x.amin(),
    lambda L, x: x.var(), lambda L, x: x.std(1), lambda L, x: x.logsumexp(1), lambda L, x: x.softmax(1),
    lambda L, x: x.log_softmax(0), lambda L, x: x.norm(), lambda L, x: x.norm(1, 1),
])
def test_grad_fn_names(fn):
    data = np.random.default_rng(0).standard_normal((2, 3)).astype(np.float32)
    ours = fn(tapegrad, tapegrad.tensor(data, requires_grad=True))
    ref = fn(torch, torch.tensor(data, requires_grad=True))
    assert ours.grad_fn.name() == ref.grad_fn.name()


@pytest.mark.parametrize("fn", [
    lambda L, x: x.softmax(1),
    lambda L, x: x.log_softmax(0),
    lambda L, x: x.logsumexp(1),
    lambda L, x: x.var(1),
    lambda L, x: x.std(),
    lambda L, x: x.prod(1),
    lambda L, x: x.norm(dim=1),
    lambda L, x: x.norm(3, 0),
], ids=["softmax", "log_softmax", "logsumexp", "var", "std", "prod", "norm", "norm_p3"])
def test_double_backward(fn):
    rng = np.random.default_rng(1)
    data = rng.standard_normal((3, 4))
    weights = rng.standard_normal((3, 4))
    second = []
    for lib in (tapegrad, torch):
        x = lib.tensor(data, requires_grad=True)
        (g,) = lib.autograd.grad(fn(lib, x).sum(), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * lib.tensor(weights)).sum(), x)
        second.append(gg)
    np.testing.assert_allclose(second[0].numpy(), second[1].numpy(), rtol=1e-7, atol=1e-9)
