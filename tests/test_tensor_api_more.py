"""The second tier of torch.* / Tensor.* names against PyTorch, for what the op table can not express: in-place
view ops (the tensor's own geometry, version counter, history and leaf errors), integer-only ops (gcd, lcm),
predicates, exact error types and messages, and the torch.* forms of in-place methods."""
import numpy as np
import pytest
import torch

import tapegrad
from fuzzkit import grad_fn_name


def both(fn):
    """fn run on torch and on tapegrad."""
    return fn(torch), fn(tapegrad)


def assert_same(ref, ours):
    assert type(ours).__name__ == type(ref).__name__ or isinstance(ref, torch.Tensor)
    if isinstance(ref, (tuple, list)):
        assert len(ref) == len(ours)
        for r, o in zip(ref, ours):
            assert_same(r, o)
        return
    if not isinstance(ref, torch.Tensor):
        assert ours == ref
        return
    assert tuple(ours.shape) == tuple(ref.shape)
    assert str(ours.dtype) == str(ref.dtype)
    np.testing.assert_array_equal(ours.detach().numpy(), ref.detach().numpy())


def raised(fn, lib):
    with pytest.raises(Exception) as info:
        fn(lib)
    return info.value


def assert_same_error(fn):
    ref, ours = raised(fn, torch), raised(fn, tapegrad)
    assert type(ours) is type(ref)
    assert str(ours).split("\n")[0] == str(ref).split("\n")[0]


# ---- in-place view ops ----

INPLACE_VIEWS = {
    "t_": lambda t: t.t_(),
    "transpose_": lambda t: t.transpose_(0, -1),
    "swapdims_": lambda t: t.swapdims_(1, 0),
    "swapaxes_": lambda t: t.swapaxes_(0, 1),
    "squeeze_": lambda t: t.squeeze_(),
    "squeeze_dim": lambda t: t.squeeze_(-1),
    "squeeze_dims": lambda t: t.squeeze_((0, 1)),
    "unsqueeze_": lambda t: t.unsqueeze_(1),
}


@pytest.mark.parametrize("name", INPLACE_VIEWS)
def test_inplace_view_changes_own_geometry_and_version(name):
    def run(lib):
        t = lib.arange(6.0).reshape(2, 3, 1)[:, :, :] if name != "t_" else lib.arange(6.0).reshape(2, 3)
        before = t._version
        out = INPLACE_VIEWS[name](t)
        assert out is t
        return tuple(t.shape), t.stride(), t.is_contiguous(), t._version - before, t._base is not None, t.tolist()

    ref, ours = both(run)
    assert ours == ref


@pytest.mark.parametrize("name", INPLACE_VIEWS)
def test_inplace_view_records_history(name):
    def run(lib):
        leaf = lib.arange(1.0, 7.0).reshape(2, 3, 1).requires_grad_() if name != "t_" else \
            lib.arange(1.0, 7.0).reshape(2, 3).requires_grad_()
        t = leaf * 2
        INPLACE_VIEWS[name](t)
        weights = lib.arange(t.numel(), dtype=t.dtype).reshape(t.shape)
        (t * weights).sum().backward()
        return grad_fn_name(t), leaf.grad

    (ref_name, ref_grad), (our_name, our_grad) = both(run)
    assert our_name == ref_name
    assert_same(ref_grad, our_grad)


def test_inplace_view_on_a_view_keeps_it_a_view_of_its_base():
    def run(lib):
        leaf = lib.arange(1.0, 7.0).reshape(2, 3).requires_grad_()
        base = leaf * 1
        row = base[1]
        row.unsqueeze_(0)
        (row * lib.arange(3.0)).sum().backward()
        return row._base is not None, row._base is base, tuple(row.shape), grad_fn_name(row), leaf.grad

    ref, ours = both(run)
    assert_same(ref[4], ours[4])
    assert ours[:4] == ref[:4]


@pytest.mark.parametrize("name", INPLACE_VIEWS)
def test_inplace_view_on_leaf_that_requires_grad_raises(name):
    def leaf(lib):
        return lib.ones(2, 3, 1, requires_grad=True) if name != "t_" else lib.ones(2, 3, requires_grad=True)

    assert_same_error(lambda lib: INPLACE_VIEWS[name](leaf(lib)))
    assert_same_error(lambda lib: INPLACE_VIEWS[name](leaf(lib)[:]))


def test_view_taken_before_an_inplace_view_op_still_reaches_the_base():
    def run(lib):
        leaf = lib.arange(1.0, 7.0).reshape(2, 3).requires_grad_()
        t = leaf * 2
        row = t[0]
        t.t_()
        (row * 10).sum().backward()
        return grad_fn_name(row), tuple(row.shape), leaf.grad

    ref, ours = both(run)
    assert ours[:2] == ref[:2]
    assert_same(ref[2], ours[2])


def test_inplace_view_on_leaf_is_allowed_under_no_grad():
    def run(lib):
        leaf = lib.ones(2, 3, requires_grad=True)
        with lib.no_grad():
            leaf.t_()
        return tuple(leaf.shape), leaf.requires_grad, leaf.is_leaf

    ref, ours = both(run)
    assert ours == ref


def test_inplace_view_invalidates_saved_tensors():
    def run(lib):
        x = lib.ones(2, 3, requires_grad=True) * 1
        y = x * x
        x.t_()
        y.sum().backward()

    assert_same_error(run)


@pytest.mark.parametrize("code", [
    lambda lib: lib.ones(2, 3, 4).t_(),
    lambda lib: lib.ones(2, 3).transpose_(0, 5),
    lambda lib: lib.ones(2, 3).unsqueeze_(3),
    lambda lib: lib.ones(2, 3).squeeze_(4),
    lambda lib: lib.ones(2, 1).squeeze_((1, 1)),
])
def test_inplace_view_errors(code):
    assert_same_error(code)


def test_inplace_view_of_expanded_tensor():
    ref, ours = both(lambda lib: lib.ones(3).expand(2, 3).t_())
    assert ours.stride() == ref.stride()
    assert_same(ref, ours)


# ---- integer-only ops ----

@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_gcd_lcm_values(name):
    a = [0, 3, -6, 7, 12, -15, 0, 2**40, 1]
    b = [0, 9, 4, -5, 18, 10, 5, 2**20, -1]

    def run(lib):
        x, y = lib.tensor(a), lib.tensor(b)
        return getattr(lib, name)(x, y), getattr(x, name)(y.reshape(1, -1).expand(2, -1)), \
            getattr(x.clone(), name + "_")(y)

    ref, ours = both(run)
    assert_same(ref, ours)


@pytest.mark.parametrize("code", [
    lambda lib: lib.gcd(lib.ones(2), lib.ones(2)),
    lambda lib: lib.lcm(lib.ones(2, dtype=lib.bool), lib.ones(2, dtype=lib.bool)),
    lambda lib: lib.gcd(lib.ones(2, dtype=lib.int64), 4),
])
def test_gcd_lcm_errors(code):
    assert_same_error(code)


# ---- values the op table does not reach: integer and bool inputs, special values ----

@pytest.mark.parametrize("code", [
    lambda lib: lib.signbit(lib.tensor([-0.0, 0.0, -1.0, float("nan"), -float("inf")])),
    lambda lib: lib.signbit(lib.tensor([3, -6, 0])),
    lambda lib: lib.signbit(lib.tensor([True, False])),
    lambda lib: (lib.isposinf(lib.tensor([1, 2])), lib.isneginf(lib.tensor([-float("inf"), 1.0]))),
    lambda lib: lib.copysign(lib.tensor([3, -6, 0]), -1),
    lambda lib: lib.copysign(lib.tensor([1.0, 2.0]), lib.tensor([-0.0, 0.0])),
    lambda lib: lib.deg2rad(lib.tensor([180, 90])),
    lambda lib: lib.rad2deg(lib.tensor([True, False])),
    lambda lib: lib.float_power(lib.tensor([3, -6]), 2),
    lambda lib: lib.float_power(lib.tensor([1.5], dtype=lib.float32), lib.tensor([2])),
    lambda lib: lib.heaviside(lib.tensor([-2, 0, 3]), lib.tensor([7])),
    lambda lib: lib.heaviside(lib.tensor([-1.0, 0.0, float("nan")]), lib.tensor([0.5])),
    lambda lib: lib.logaddexp2(lib.tensor([float("inf"), -float("inf"), 1.0]), lib.tensor([float("inf"), -float("inf"), 1.0])),
    lambda lib: lib.isin(lib.tensor([1, 2, 3]), 2),
    lambda lib: lib.isin(2, lib.tensor([1, 2, 3])),
    lambda lib: lib.isin(lib.tensor([1.0, 2.5]), lib.tensor([1, 2])),
    lambda lib: lib.isin(lib.tensor([1, 2]), lib.tensor([], dtype=lib.int64)),
    lambda lib: lib.diff(lib.tensor([True, False, False, True])),
    lambda lib: lib.diff(lib.tensor([3, -6, 0, 7]), n=2),
    lambda lib: lib.diff(lib.arange(3.0), prepend=lib.tensor([1])),
    lambda lib: lib.tensor_split(lib.arange(7), lib.tensor([1, 5])),
    lambda lib: lib.tensor_split(lib.arange(7), lib.tensor(3)),
    lambda lib: lib.arange(10).reshape(2, 5).tensor_split([-1, 2], dim=1),
    lambda lib: lib.tile(lib.arange(3), ()),
    lambda lib: lib.cov(lib.tensor([3, -6, 0, 7])),
    lambda lib: lib.cov(lib.arange(12.0).reshape(3, 4), fweights=lib.tensor([1, 0, 2, 1])),
    lambda lib: lib.corrcoef(lib.tensor([1.0, 2.0, 4.0])),
    lambda lib: lib.aminmax(lib.tensor([3, -6, 0, 7])),
    lambda lib: lib.aminmax(lib.tensor(2.5), dim=0),
    lambda lib: lib.addr(lib.zeros(3, 4, dtype=lib.int64), lib.arange(3), lib.arange(4), alpha=2),
    lambda lib: lib.msort(lib.tensor([[3, 1], [-2, 5]])),
    lambda lib: lib.inner(lib.tensor(2.0), lib.ones(2, 3)),
    lambda lib: lib.zeros(7, 3).fill_diagonal_(2.0, wrap=True),
    lambda lib: lib.zeros(7, 3).fill_diagonal_(1.0),
    lambda lib: lib.zeros(2, 5).fill_diagonal_(1, wrap=True),
    lambda lib: lib.zeros(3, 3, 3, dtype=lib.int64).fill_diagonal_(4),
    lambda lib: lib.zeros(4, 4)[:, ::2].fill_diagonal_(1.0),
    lambda lib: lib.tensor([3, -6, 0, 7]).clone().cumsum_(0),
    lambda lib: lib.tensor([3, -6, 0, 7]).eq_(3.0),
    lambda lib: lib.tensor([1.0, 0.0]).logical_or_(lib.tensor([0.0, 0.0])),
    lambda lib: lib.tensor([3, -6, 0, 7]).logical_not_(),
    lambda lib: lib.tensor([3, -6, 0, 7]).floor_divide_(4),
    lambda lib: lib.tensor([3, -6, 0, 7]).remainder_(4),
    lambda lib: lib.tensor([3.0, -6.0]).divide_(4, rounding_mode="floor"),
    lambda lib: lib.tensor([3.5, -6.5]).fix(),
    lambda lib: lib.fix_(lib.tensor([3.5, -6.5])),
    lambda lib: lib.tensor([1.0, 2.0], dtype=lib.float64).float_power_(2),
])
def test_values(code):
    ref, ours = both(code)
    assert_same(ref, ours)


def test_aminmax_return_type():
    ref, ours = both(lambda lib: lib.aminmax(lib.arange(6.0).reshape(2, 3), dim=1, keepdim=True))
    assert type(ours).__name__ == "aminmax"
    assert_same(ref.min, ours.min)
    assert_same(ref.max, ours.max)
    assert repr(ours).startswith("torch.return_types.aminmax(")


def test_aminmax_gradient_shares_ties():
    def run(lib):
        x = lib.tensor([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], requires_grad=True)
        low, high = lib.aminmax(x)
        (low * 2 + high * 3).backward()
        return x.grad

    ref, ours = both(run)
    assert_same(ref, ours)


def test_positive_returns_input_itself():
    t = tapegrad.ones(3)
    assert tapegrad.positive(t) is t and t.positive() is t


def test_new_empty_strided():
    ref, ours = both(lambda lib: lib.ones(2, dtype=lib.float64).new_empty_strided((2, 3), (1, 2)))
    assert ours.stride() == ref.stride() and tuple(ours.shape) == tuple(ref.shape) and ours.dtype == tapegrad.float64


def test_predicates():
    def run(lib):
        x = lib.ones(2, 3)
        return (lib.is_nonzero(lib.tensor([0.0])), lib.tensor([[2]]).is_nonzero(), lib.is_same_size(x, x.t()),
                x.is_same_size(lib.zeros(2, 3)), lib.is_floating_point(x), lib.is_floating_point(lib.ones(2, dtype=lib.int64)),
                lib.is_complex(x), x.is_complex())

    ref, ours = both(run)
    assert ours == ref


@pytest.mark.parametrize("name", ["abs_", "exp_", "sigmoid_", "tanh_", "relu_", "neg_", "negative_", "sqrt_",
                                  "deg2rad_", "rad2deg_", "zero_", "trunc_", "frac_"])
def test_torch_level_inplace_functions(name):
    def run(lib):
        t = lib.tensor([0.25, 1.5, 2.0])
        out = getattr(lib, name)(t)
        return out is t, t

    (ref_same, ref), (our_same, ours) = both(run)
    assert our_same == ref_same
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)


def test_torch_level_inplace_with_arguments():
    ref, ours = both(lambda lib: (lib.clamp_(lib.tensor([-2.0, 0.5, 3.0]), min=-1, max=1),
                                  lib.fill_(lib.zeros(2), 3.5), lib.nan_to_num_(lib.tensor([float("nan"), 1.0]), nan=2.0)))
    assert_same(ref, ours)


def test_inplace_ops_record_the_op_node():
    def run(lib):
        x = lib.tensor([0.2, 0.6], requires_grad=True)
        names = []
        for op in (lambda t: t.logit_(), lambda t: t.cumsum_(0), lambda t: t.copysign_(-1.0), lambda t: t.rad2deg_(),
                   lambda t: t.eq_(0.2), lambda t: t.greater_(x), lambda t: t.logical_not_()):
            t = x * 1
            op(t)
            names.append(grad_fn_name(t))
        return names

    ref, ours = both(run)
    assert ours == ref


@pytest.mark.parametrize("code", [
    lambda lib: lib.ones(3, 4).tile(-1, 2),
    lambda lib: lib.ones(3, 4).broadcast_to((2, 4)),
    lambda lib: lib.diff(lib.tensor(1.0)),
    lambda lib: lib.diff(lib.ones(3), n=-1),
    lambda lib: lib.diff(lib.ones(3, 4), dim=3),
    lambda lib: lib.diff(lib.ones(3, 4), prepend=lib.zeros(3)),
    lambda lib: lib.rot90(lib.ones(3)),
    lambda lib: lib.rot90(lib.ones(3, 4), 1, [0, 0]),
    lambda lib: lib.rot90(lib.ones(3, 4), 1, [0]),
    lambda lib: lib.rot90(lib.ones(3, 4), 1, [0, 2]),
    lambda lib: lib.fliplr(lib.ones(3)),
    lambda lib: lib.flipud(lib.tensor(1.0)),
    lambda lib: lib.ones(3).tensor_split(0),
    lambda lib: lib.tensor(1.0).tensor_split(2),
    lambda lib: lib.ones(3).tensor_split(lib.tensor([1.0])),
    lambda lib: lib.ones(3).tensor_split(lib.tensor([[1]])),
    lambda lib: lib.ones(3, 4).hsplit(3),
    lambda lib: lib.tensor(1.0).hsplit(1),
    lambda lib: lib.ones(4).vsplit(2),
    lambda lib: lib.ones(3, 4).dsplit(2),
    lambda lib: lib.cov(lib.ones(2, 2, 2)),
    lambda lib: lib.cov(lib.ones(2, 3), fweights=lib.ones(3)),
    lambda lib: lib.cov(lib.ones(2, 3), aweights=lib.ones(3, dtype=lib.int64)),
    lambda lib: lib.cov(lib.ones(2, 3), fweights=lib.tensor([1, 2])),
    lambda lib: lib.cov(lib.ones(2, 3), fweights=lib.tensor([1, -2, 1])),
    lambda lib: lib.corrcoef(lib.ones(2, 2, 2)),
    lambda lib: lib.inner(lib.ones(3, 4), lib.ones(3)),
    lambda lib: lib.positive(lib.ones(2, dtype=lib.bool)),
    lambda lib: lib.heaviside(lib.ones(2), lib.ones(2, dtype=lib.int64)),
    lambda lib: lib.heaviside(lib.ones(2), 1.0),
    lambda lib: lib.logaddexp2(lib.ones(2, dtype=lib.int64), lib.ones(2, dtype=lib.int64)),
    lambda lib: lib.ones(2).float_power_(2),
    lambda lib: lib.addr(lib.ones(3, 4), lib.ones(3, 1), lib.ones(4)),
    lambda lib: lib.addr(lib.ones(3, 4), lib.ones(3), lib.ones(4, 1)),
    lambda lib: lib.addbmm(lib.ones(5, 4), lib.ones(3, 5), lib.ones(2, 5, 4)),
    lambda lib: lib.aminmax(lib.zeros(0)),
    lambda lib: lib.aminmax(lib.zeros(2, 0), dim=1),
    lambda lib: lib.is_nonzero(lib.tensor([1.0, 2.0])),
    lambda lib: lib.is_nonzero(lib.tensor([])),
    lambda lib: lib.zeros(3).fill_diagonal_(1),
    lambda lib: lib.zeros(3, 3, 2).fill_diagonal_(1),
    lambda lib: lib.tensor([3, -6]).cumsum_(0, dtype=lib.float32),
    lambda lib: lib.tensor([3, -6]).true_divide_(2),
    lambda lib: lib.ones(2, requires_grad=True).multiply_(2),
    lambda lib: lib.abs_(3),
    lambda lib: lib.is_floating_point(3),
    lambda lib: lib.is_nonzero([1]),
    lambda lib: lib.ones(2, 1).squeeze_(None),
])
def test_errors(code):
    assert_same_error(code)
