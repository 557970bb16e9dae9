"""The Tensor's Python surface against torch: queries, conversions, copies and reprs (with grad_fn suffixes),
and the reprs of dtypes, devices and Size."""
import numpy as np
import pytest
import torch

import tapegrad
from optables import collect

CASES = collect()


def outcome(fn, lib):
    try:
        return ("ok", fn(lib))
    except Exception as e:  # noqa: BLE001  (the oracle decides which errors are right)
        return ("error", type(e).__name__, str(e).split("\n")[0])


def as_plain(value):
    """Tensors, dtypes, devices and Sizes as strings, so that tapegrad's and torch's compare equal."""
    if isinstance(value, (tapegrad.Tensor, torch.Tensor, tapegrad.dtype, torch.dtype, tapegrad.device, torch.device)):
        return repr(value)
    if isinstance(value, (tapegrad.Size, torch.Size)):
        return repr(value)
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [as_plain(v) for v in value]
    return type(value).__name__, value


def assert_same(fn):
    ours, ref = outcome(fn, tapegrad), outcome(fn, torch)
    assert ours[0] == ref[0], f"tapegrad gave {ours}, torch gave {ref}"
    if ref[0] == "error":
        assert ours[1:] == ref[1:]
    else:
        assert as_plain(ours[1]) == as_plain(ref[1])


# ---- queries ----

QUERIES = {
    "item_int": lambda L: L.tensor(3).item(),
    "item_bool": lambda L: L.tensor(True).item(),
    "item_float": lambda L: L.tensor(2.5).item(),
    "item_float32_rounding": lambda L: L.tensor(0.1).item(),
    "item_one_element": lambda L: L.tensor([[7]]).item(),
    "item_many": lambda L: L.ones(2).item(),
    "item_empty": lambda L: L.ones(0).item(),
    "tolist_2d": lambda L: L.arange(6).reshape(2, 3).tolist(),
    "tolist_transposed": lambda L: L.arange(6.0).reshape(2, 3).t().tolist(),
    "tolist_expanded": lambda L: L.tensor([1, 2]).expand(2, 2).tolist(),
    "tolist_bool": lambda L: L.tensor([[True], [False]]).tolist(),
    "tolist_0d": lambda L: L.tensor(5).tolist(),
    "tolist_empty": lambda L: L.ones(2, 0).tolist(),
    "shape": lambda L: L.ones(2, 3).shape,
    "shape_0d": lambda L: L.ones(()).shape,
    "size": lambda L: L.ones(2, 3).size(),
    "size_dim": lambda L: L.ones(2, 3).size(1),
    "size_negative_dim": lambda L: L.ones(2, 3).size(-2),
    "size_keyword": lambda L: L.ones(2, 3).size(dim=0),
    "size_out_of_range": lambda L: L.ones(2, 3).size(2),
    "dim": lambda L: L.ones(2, 3, 4).dim(),
    "dim_0d": lambda L: L.tensor(1.0).dim(),
    "ndim": lambda L: L.ones(2, 3).ndim,
    "ndimension": lambda L: L.ones(2).ndimension(),
    "numel": lambda L: L.ones(2, 3).numel(),
    "numel_0d": lambda L: L.tensor(1.0).numel(),
    "numel_empty": lambda L: L.ones(0, 3).numel(),
    "numel_fn": lambda L: L.numel(L.ones(4, 5)),
    "nelement": lambda L: L.ones(2, 3).nelement(),
    "len": lambda L: len(L.ones(3, 2)),
    "len_0d": lambda L: len(L.tensor(1.0)),
    "dtype": lambda L: L.ones(2).dtype,
    "dtype_int": lambda L: L.tensor([1]).dtype,
    "dtype_bool": lambda L: L.tensor([True]).dtype,
    "device": lambda L: L.ones(2).device,
    "device_type": lambda L: L.ones(2).device.type,
    "device_str": lambda L: str(L.ones(2).device),
    "is_cuda": lambda L: L.ones(2).is_cuda,
    "stride": lambda L: L.ones(2, 3).stride(),
    "stride_dim": lambda L: L.ones(2, 3).stride(0),
    "stride_transposed": lambda L: L.ones(2, 3).t().stride(),
    "stride_expanded": lambda L: L.ones(3, 1).expand(3, 4).stride(),
    "storage_offset": lambda L: L.ones(4, 3).narrow(0, 1, 2).storage_offset(),
    "element_size": lambda L: [L.ones(1, dtype=d).element_size() for d in (L.bool, L.int64, L.float32, L.float64)],
    "is_floating_point": lambda L: [L.ones(1, dtype=d).is_floating_point() for d in (L.bool, L.int64, L.float32)],
    "is_leaf": lambda L: [L.ones(1).is_leaf, L.ones(1, requires_grad=True).is_leaf,
                          (L.ones(1, requires_grad=True) * 2).is_leaf],
    "requires_grad": lambda L: [L.ones(1).requires_grad, (L.ones(1, requires_grad=True) * 2).requires_grad],
    "is_tensor": lambda L: [L.is_tensor(L.ones(1)), L.is_tensor([1])],
    "type": lambda L: [L.ones(1, dtype=d).type() for d in (L.bool, L.int64, L.float32, L.float64)],
    "float_of_tensor": lambda L: float(L.tensor([2.5])),
    "int_of_tensor": lambda L: int(L.tensor(-2.5)),
    "bool_of_tensor": lambda L: [bool(L.tensor([0.0])), bool(L.tensor(3))],
    "float_of_many": lambda L: float(L.ones(2)),
    "bool_of_many": lambda L: bool(L.ones(2)),
    "index_of_int_tensor": lambda L: [10, 20, 30][L.tensor(1)],
    "format": lambda L: f"{L.tensor(2.5):.3f}",
}


@pytest.mark.parametrize("name", list(QUERIES))
def test_queries(name):
    assert_same(QUERIES[name])


PYTHON_PROTOCOLS = {
    "iterate": lambda L: list(L.arange(6.0).reshape(3, 2)),
    "iterate_grad": lambda L: list(L.ones(2, 2, requires_grad=True) * 2),
    "iterate_0d": lambda L: list(L.tensor(1.0)),
    "reversed": lambda L: reversed(L.arange(6.0).reshape(3, 2)),
    "reversed_0d": lambda L: reversed(L.tensor(2.0)),
    "type_by_name": lambda L: L.ones(2).type("torch.DoubleTensor"),
    "type_bad_name": lambda L: L.ones(2).type("torch.Nope"),
    "format_0d": lambda L: "{:.2f}|{:>8}".format(L.tensor(3.14159), L.tensor(7)),
    "format_many": lambda L: "{:.2f}".format(L.ones(2)),
    "deepcopy": lambda L: _deepcopied(L),
}


def _deepcopied(L):
    import copy

    a = L.tensor([1.0, 2.0], requires_grad=True)
    (a * 3).backward(L.ones(2))
    b = copy.deepcopy(a)
    b.detach().add_(1)
    return a, b, b.grad, b.requires_grad, b.is_leaf


@pytest.mark.parametrize("name", list(PYTHON_PROTOCOLS))
def test_python_protocols(name):
    assert_same(PYTHON_PROTOCOLS[name])


# ---- contiguity ----

LAYOUTS = {
    "contiguous": lambda L: L.ones(2, 3),
    "transposed": lambda L: L.ones(2, 3).t(),
    "row": lambda L: L.ones(2, 3).select(0, 1),
    "column": lambda L: L.ones(2, 3).select(1, 1),
    "expanded_column": lambda L: L.ones(3, 1).expand(3, 4),
    "expanded_row": lambda L: L.ones(1, 3).expand(4, 3),
    "size_one_dims": lambda L: L.ones(3, 1).t(),
    "empty": lambda L: L.ones(3, 0, 2).transpose(0, 2),
    "narrowed": lambda L: L.ones(4, 6).narrow(1, 0, 3),
    "permuted": lambda L: L.ones(2, 3, 4).permute(2, 0, 1),
}


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_contiguity(layout):
    assert_same(lambda L: LAYOUTS[layout](L).is_contiguous())
    assert_same(lambda L: LAYOUTS[layout](L).contiguous().is_contiguous())
    assert_same(lambda L: LAYOUTS[layout](L).contiguous().stride())
    assert_same(lambda L: LAYOUTS[layout](L).clone().stride())


def test_contiguous_and_clone_identity():
    for lib in (tapegrad, torch):
        t = lib.arange(6.0).reshape(2, 3)
        assert t.contiguous() is t
        assert t.clone() is not t
        copy = t.t().contiguous()
        copy.add_(1)
        assert t.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_clone_and_contiguous_keep_history():
    assert_same(lambda L: L.ones(2, requires_grad=True).clone())
    assert_same(lambda L: L.ones(2, 2, requires_grad=True).t().contiguous())
    assert_same(lambda L: L.ones(2, 2, requires_grad=True).contiguous())
    a = tapegrad.tensor([[1.0, 2.0]], requires_grad=True)
    (a.clone().t().contiguous() * 3).backward(tapegrad.ones(2, 1))
    assert a.grad.tolist() == [[3.0, 3.0]]


# ---- conversions ----

CONVERSIONS = {
    "to_dtype": lambda L: L.ones(2).to(L.float64),
    "to_dtype_keyword": lambda L: L.ones(2).to(dtype=L.int64),
    "to_device": lambda L: L.ones(2).to("cpu"),
    "to_device_object": lambda L: L.ones(2).to(L.device("cpu")),
    "to_device_and_dtype": lambda L: L.ones(2).to("cpu", L.float64),
    "to_keywords": lambda L: L.ones(2).to(device="cpu", dtype=L.int64),
    "to_other": lambda L: L.ones(2).to(L.zeros(1, dtype=L.int64)),
    "to_non_blocking": lambda L: L.ones(2).to(L.float64, non_blocking=True),
    "to_bool": lambda L: L.tensor([0.0, 0.5, -2.0]).to(L.bool),
    "to_int_truncates": lambda L: L.tensor([1.7, -1.7, 0.5]).to(L.int64),
    "float": lambda L: L.tensor([1, 2]).float(),
    "double": lambda L: L.tensor([True, False]).double(),
    "long": lambda L: L.tensor([1.9, -1.9]).long(),
    "bool": lambda L: L.tensor([2, 0]).bool(),
    "type_dtype": lambda L: L.ones(2).type(L.float64),
    "type_as": lambda L: L.ones(2).type_as(L.tensor([1])),
    "double_with_grad": lambda L: L.ones(2, requires_grad=True).double(),
    "to_with_grad": lambda L: L.ones(2, requires_grad=True).to(L.float64),
    "long_with_grad": lambda L: L.ones(2, requires_grad=True).long(),
    "float_with_grad_same": lambda L: L.ones(2, requires_grad=True).float(),
    "to_bad_device": lambda L: L.ones(2).to("bad"),
}


@pytest.mark.parametrize("name", list(CONVERSIONS))
def test_conversions(name):
    if name == "to_bad_device":
        for lib in (tapegrad, torch):
            with pytest.raises(RuntimeError, match="device type at start of device string: bad"):
                CONVERSIONS[name](lib)
        return
    assert_same(CONVERSIONS[name])


def test_conversions_return_self_when_nothing_changes():
    for lib in (tapegrad, torch):
        t = lib.ones(2)
        assert t.to(lib.float32) is t and t.float() is t and t.to("cpu") is t and t.type(lib.float32) is t
        assert t.to(lib.float32, copy=True) is not t


def test_conversion_gradient_returns_in_source_dtype():
    for lib in (tapegrad, torch):
        a = lib.tensor([1.0, 2.0], requires_grad=True)
        b = a.double() * 3
        b.backward(lib.ones(2, dtype=lib.float64))
        assert str(a.grad.dtype) == "torch.float32" and a.grad.tolist() == [3.0, 3.0]


def test_new_factories():
    assert_same(lambda L: L.ones(2, dtype=L.float64).new_zeros(3))
    assert_same(lambda L: L.ones(2, dtype=L.int64).new_ones((2, 2)))
    assert_same(lambda L: L.ones(2).new_full((2,), 7))
    assert_same(lambda L: L.ones(2, dtype=L.float64).new_tensor([1, 2]))
    assert_same(lambda L: L.ones(2).new_zeros(2, dtype=L.int64))


# ---- reprs ----

REPRS = {
    "float": lambda L: L.tensor([1.0, 2.5, -3.25]),
    "int": lambda L: L.tensor([[1, -2], [300, 4]]),
    "bool": lambda L: L.tensor([True, False]),
    "double": lambda L: L.tensor([1.5, 2.0], dtype=L.float64),
    "scalar": lambda L: L.tensor(3.14159),
    "int_scalar": lambda L: L.tensor(7),
    "empty": lambda L: L.ones(0),
    "empty_2d": lambda L: L.ones(2, 0),
    "empty_int": lambda L: L.ones(0, dtype=L.int64),
    "leaf_requires_grad": lambda L: L.tensor([1.0, 2.0], requires_grad=True),
    "scalar_requires_grad": lambda L: L.tensor(1.5, requires_grad=True),
    "double_requires_grad": lambda L: L.ones(2, dtype=L.float64, requires_grad=True),
    "large": lambda L: L.arange(2000.0).reshape(40, 50),
    "big_values": lambda L: L.tensor([1e10, 1.0]),
    "small_values": lambda L: L.tensor([1e-6, 1.0]),
    "nan_inf": lambda L: L.tensor([float("nan"), float("inf"), 1.0]),
    "transposed": lambda L: L.arange(6.0).reshape(2, 3).t(),
    "detached": lambda L: (L.ones(2, requires_grad=True) * 2).detach(),
    "no_grad_result": lambda L: _under_no_grad(L, lambda: L.ones(2, requires_grad=True) * 2),
    "in_place_on_view": lambda L: _modified_view(L),
    "rand": lambda L: (L.manual_seed(0), L.rand(3, 3))[1],
    "randn_double": lambda L: (L.manual_seed(1), L.randn(2, 4, dtype=L.float64))[1],
}


def _under_no_grad(L, fn):
    with L.no_grad():
        return fn()


def _modified_view(L):
    x = L.ones(2, 3, requires_grad=True) * 1
    x.narrow(0, 0, 1).mul_(2)
    return x


@pytest.mark.parametrize("name", list(REPRS))
def test_repr(name):
    ours, ref = REPRS[name](tapegrad), REPRS[name](torch)
    assert repr(ours) == repr(ref)
    assert str(ours) == str(ref)


def _case_inputs(case, lib):
    rng = np.random.default_rng(3)
    out = []
    for i, shape in enumerate(case.shapes):
        if i in case.index_inputs:
            arr = rng.integers(0, case.index_high, size=shape)
        elif i in case.mask_inputs:
            arr = rng.random(shape) > 0.5
        else:
            arr = np.abs(rng.standard_normal(shape)) + 0.5 if case.domain != "unit" else rng.random(shape) * 0.5
        t = lib.tensor(arr)
        if case.grad and arr.dtype.kind == "f":
            t.requires_grad_(True)
        out.append(t)
    return out


def _outputs(out):
    return list(out) if isinstance(out, (tuple, list)) else [out]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_repr_of_every_table_op(case):
    """The repr of each op's result in the parity tables, grad_fn suffix included."""
    ours = _outputs(case.fn(tapegrad, *_case_inputs(case, tapegrad)))
    ref = _outputs(case.fn(torch, *_case_inputs(case, torch)))
    assert [repr(o) for o in ours] == [repr(r) for r in ref]


def test_grad_fn_repr_names():
    for lib in (tapegrad, torch):
        y = lib.ones(2, requires_grad=True) * 2
        assert repr(y.grad_fn).startswith("<MulBackward0 object at 0x")


# ---- dtype, device and Size ----


def test_dtype_reprs():
    for name in ("float32", "float64", "int64", "bool"):
        assert repr(getattr(tapegrad, name)) == repr(getattr(torch, name))
        assert str(getattr(tapegrad, name)) == str(getattr(torch, name))
    for alias, name in (("float", "float32"), ("double", "float64"), ("long", "int64")):
        assert getattr(tapegrad, alias) is getattr(tapegrad, name)
    assert [d.is_floating_point for d in (tapegrad.bool, tapegrad.int64, tapegrad.float32, tapegrad.float64)] == [
        False, False, True, True]
    assert [d.itemsize for d in (tapegrad.bool, tapegrad.int64, tapegrad.float32, tapegrad.float64)] == [1, 8, 4, 8]
    assert {tapegrad.float32: "x"}[tapegrad.float] == "x"


def test_device_reprs():
    for lib in (tapegrad, torch):
        assert repr(lib.device("cpu")) == "device(type='cpu')"
        assert str(lib.ones(1).device) == "cpu"
        assert lib.ones(1).device == lib.device("cpu")
        assert lib.ones(1).device.index is None


SIZES = {
    "2d": lambda L: L.ones(2, 3).shape,
    "0d": lambda L: L.tensor(1.0).shape,
    "size_call": lambda L: L.ones(4, 1, 2).size(),
    "constructed": lambda L: L.Size([2, 3]),
    "empty_constructed": lambda L: L.Size([]),
    "slice": lambda L: L.ones(2, 3, 4).shape[1:],
    "plus_tuple": lambda L: L.ones(2, 3).shape + (5,),
    "tuple_plus": lambda L: (5,) + L.ones(2, 3).shape,
    "index": lambda L: L.ones(2, 3).shape[-1],
    "numel": lambda L: L.ones(2, 3, 4).shape.numel(),
    "equals_tuple": lambda L: L.ones(2, 3).shape == (2, 3),
    "equals_list": lambda L: L.ones(2, 3).shape == [2, 3],
    "as_list": lambda L: list(L.ones(2, 3).shape),
    "unpack": lambda L: tuple(reversed(L.ones(2, 3).shape)),
}


@pytest.mark.parametrize("name", list(SIZES))
def test_size(name):
    ours, ref = SIZES[name](tapegrad), SIZES[name](torch)
    assert repr(ours) == repr(ref) and str(ours) == str(ref)
    assert type(ours).__name__ == type(ref).__name__
    assert isinstance(tapegrad.ones(2).shape, tuple)
