"""Creation and conversion against torch: tensor(), the legacy Tensor constructor, factories, ranges,
the bit-exact random generator and NumPy interop."""
import numpy as np
import pytest
import torch

import tapegrad


def outcome(fn, lib):
    try:
        out = fn(lib)
    except Exception as e:  # noqa: BLE001  (the oracle decides which errors are right)
        return ("error", type(e).__name__, str(e).split("\n")[0])
    return ("ok", str(out.dtype), tuple(out.shape), out.requires_grad, np.asarray(out.detach()).tolist())


def assert_same(fn):
    """fn(tapegrad) and fn(torch) agree exactly: dtype, shape, requires_grad and values, or error and message."""
    ours, ref = outcome(fn, tapegrad), outcome(fn, torch)
    assert ours[:3] == ref[:3], f"tapegrad gave {ours}, torch gave {ref}"
    if ref[0] == "ok":
        assert ours[3] == ref[3]
        np.testing.assert_array_equal(np.array(ours[4]), np.array(ref[4]))


# ---- torch.tensor(data) ----

DATA = {
    "int": 3,
    "float": 2.5,
    "bool": True,
    "negative_int": -7,
    "list_int": [1, 2, 3],
    "list_float": [1.0, -2.5],
    "list_bool": [True, False],
    "mixed_int_float": [1, 2.5],
    "mixed_bool_int": [True, 2],
    "mixed_bool_float": [True, 1.5, 2],
    "tuple": (1, 2),
    "nested": [[1, 2, 3], [4, 5, 6]],
    "nested_tuples": ((1.0, 2.0), (3.0, 4.0)),
    "deep": [[[1], [2]], [[3], [4]]],
    "empty": [],
    "empty_nested": [[], []],
    "empty_then_ragged": [[], [1]],
    "big_int": [2**62, -(2**62)],
    "nan_inf": [float("nan"), float("inf"), -float("inf")],
    "zero_dim_tensors": [tapegrad.tensor(1.0), tapegrad.tensor(2.0)],
    "one_element_tensor": [tapegrad.tensor([1.5])],
    "tensor_and_number": [tapegrad.tensor(1), 2.5],
    "double_tensor_in_list": [tapegrad.tensor(1.5, dtype=tapegrad.float64), 2],
    "numpy_float64_scalars": [np.float64(1.5), 2],
    "numpy_float32_scalars": [np.float32(1.5), np.float32(2)],
    "numpy_int_scalars": [np.int64(1), 2],
    "numpy_bool_scalars": [np.bool_(True), False],
    "numpy_rows": [np.array([1.0, 2.0]), np.array([3.0, 4.0])],
    "range": range(4),
}


def with_lib(data, lib):
    """The same data for either library: tapegrad tensors inside become torch tensors."""
    if isinstance(data, tapegrad.Tensor):
        return lib.tensor(np.asarray(data), dtype=getattr(lib, str(data.dtype).replace("torch.", "")))
    if isinstance(data, list):
        return [with_lib(d, lib) for d in data]
    if isinstance(data, tuple):
        return tuple(with_lib(d, lib) for d in data)
    return data


@pytest.mark.filterwarnings("ignore:Creating a tensor from a list of numpy.ndarrays:UserWarning")
@pytest.mark.parametrize("name", list(DATA))
def test_tensor_from_data(name):
    assert_same(lambda L: L.tensor(with_lib(DATA[name], L)))


@pytest.mark.parametrize("dtype", ["bool", "int64", "float32", "float64"])
@pytest.mark.parametrize("data", [[1.7, -2.2, 0.0], [[1, 0], [3, 4]], True, 2.5, -3])
def test_tensor_with_dtype(dtype, data):
    assert_same(lambda L: L.tensor(data, dtype=getattr(L, dtype)))


def test_tensor_requires_grad():
    assert_same(lambda L: L.tensor([1.0, 2.0], requires_grad=True))
    assert_same(lambda L: L.tensor([1, 2], dtype=L.float64, requires_grad=True))
    assert_same(lambda L: L.tensor([1, 2], requires_grad=True))
    t = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    assert t.is_leaf and t.grad_fn is None


@pytest.mark.filterwarnings("ignore:To copy construct from a tensor:UserWarning")
def test_tensor_copies_a_tensor_without_history():
    source = tapegrad.ones(2, requires_grad=True) * 2
    copy = tapegrad.tensor(source)
    assert not copy.requires_grad and copy.grad_fn is None
    copy.add_(1)
    assert source.tolist() == [2.0, 2.0]
    assert_same(lambda L: L.tensor(L.tensor([1, 2]), dtype=L.float32))


@pytest.mark.parametrize(
    "data",
    [
        [[1, 2], [3]],
        [[1, 2], [3, 4, 5]],
        [[1, 2], 3],
        [[[1, 2]], [[3]]],
        [[1, 2], [3, [4]]],
        [1, None],
        None,
        "abc",
        ["a"],
        [1, "a"],
        {1: 2},
        [tapegrad.tensor([1.0, 2.0]), tapegrad.tensor([3.0, 4.0])],
        2**63,
    ],
    ids=["short_row", "long_row", "number_for_row", "deep_ragged", "list_for_number", "none_inside", "none", "str",
         "str_inside", "str_among_numbers", "dict", "multi_element_tensors", "overflow"],
)
def test_tensor_bad_data(data):
    assert_same(lambda L: L.tensor(with_lib(data, L)))


def test_ragged_list_message():
    with pytest.raises(ValueError, match=r"expected sequence of length 2 at dim 1 \(got 1\)"):
        tapegrad.tensor([[1, 2], [3]])


def test_list_where_a_number_belongs_float_target():
    assert_same(lambda L: L.tensor([[1, 2], [3, [4]]], dtype=L.float32))


NUMPY_DTYPES = ["float32", "float64", "int64", "bool"]


@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_tensor_from_numpy_array(dtype):
    arr = (np.arange(6).reshape(2, 3) - 2).astype(dtype)
    assert_same(lambda L: L.tensor(arr))
    assert_same(lambda L: L.tensor(arr[:, ::2]))
    assert_same(lambda L: L.tensor(arr.T))
    assert_same(lambda L: L.tensor(arr[::-1]))
    assert_same(lambda L: L.tensor(arr, dtype=L.float64))
    assert_same(lambda L: L.tensor(arr[0, 0]))
    assert_same(lambda L: L.tensor(np.array(arr[0, 1])))


@pytest.mark.parametrize("dtype", ["int32", "int16", "int8", "uint8"])
def test_tensor_from_narrow_integer_arrays_is_int64(dtype):
    """tapegrad has one integer dtype: narrower NumPy integers arrive as int64 with the same values."""
    arr = np.array([[1, 2], [3, 100]], dtype=dtype)
    t = tapegrad.tensor(arr)
    assert t.dtype == tapegrad.int64
    assert t.tolist() == torch.tensor(arr).tolist()


def test_tensor_from_float16_array_is_float32():
    arr = np.array([0.5, 1.25, -3.0], dtype=np.float16)
    t = tapegrad.tensor(arr)
    assert t.dtype == tapegrad.float32
    assert t.tolist() == torch.tensor(arr).float().tolist()


def test_tensor_from_unsupported_array():
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.str_"):
        tapegrad.tensor(np.array(["a"]))
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.complex128"):
        tapegrad.tensor(np.array([1 + 2j]))


def test_as_tensor():
    assert_same(lambda L: L.as_tensor([1, 2]))
    assert_same(lambda L: L.as_tensor(np.array([1.0, 2.0])))
    assert_same(lambda L: L.as_tensor(L.ones(2), dtype=L.int64))
    arr = np.array([1.0, 2.0])
    t = tapegrad.as_tensor(arr)
    arr[0] = 5.0
    assert t.tolist() == [5.0, 2.0]
    t = tapegrad.ones(2)
    assert tapegrad.as_tensor(t) is t


# ---- legacy constructor ----


@pytest.mark.parametrize(
    "args",
    [([1, 2],), ([[1, 2], [3, 4]],), ([True, False],), ((2, 3),), ([],), (np.array([1, 2]),), (np.array([1.5]),)],
    ids=["list_int", "nested", "bools", "tuple_data", "empty_list", "numpy_int", "numpy_float"],
)
def test_legacy_tensor_from_data(args):
    assert_same(lambda L: L.Tensor(*args))


def test_legacy_tensor_from_sizes():
    for args in [(2, 3), (0,), (4,), (2, 0, 3)]:
        t, ref = tapegrad.Tensor(*args), torch.Tensor(*args)
        assert (t.shape, t.dtype, t.requires_grad) == (tuple(ref.shape), tapegrad.float32, False)
    assert tuple(tapegrad.Tensor().shape) == (0,)
    assert tapegrad.Tensor().dtype == tapegrad.float32


def test_legacy_tensor_errors():
    assert_same(lambda L: L.Tensor([[1], [2, 3]]))
    assert_same(lambda L: L.Tensor(-1))
    with pytest.raises(TypeError):
        tapegrad.Tensor(2.5)


def test_legacy_tensor_shares_a_tensor():
    source = tapegrad.tensor([1.0, 2.0])
    alias = tapegrad.Tensor(source)
    alias.add_(1)
    assert source.tolist() == [2.0, 3.0]


# ---- factories ----


@pytest.mark.parametrize(
    "make",
    [
        lambda L: L.zeros(2, 3),
        lambda L: L.zeros((2, 3)),
        lambda L: L.zeros([4]),
        lambda L: L.zeros(()),
        lambda L: L.zeros(0, 3),
        lambda L: L.zeros(2, dtype=L.int64),
        lambda L: L.zeros(2, 2, dtype=L.bool),
        lambda L: L.ones(3),
        lambda L: L.ones(2, 3, dtype=L.float64),
        lambda L: L.ones((), dtype=L.int64),
        lambda L: L.ones(2, requires_grad=True),
        lambda L: L.ones(2, dtype=L.int64, requires_grad=True),
        lambda L: L.full((2, 2), 3),
        lambda L: L.full((2, 2), 3.5),
        lambda L: L.full((2,), True),
        lambda L: L.full((2, 2), 3, dtype=L.float32),
        lambda L: L.full((), 2.0),
        lambda L: L.full([3], -1.5, dtype=L.float64, requires_grad=True),
        lambda L: L.full(2, 2.0),
        lambda L: L.zeros(-1),
        lambda L: L.ones(2, -1),
        lambda L: L.full((-1,), 1),
    ],
)
def test_filled_factories(make):
    assert_same(make)


def test_empty_has_shape_and_dtype():
    for lib in (tapegrad, torch):
        t = lib.empty(2, 3, dtype=lib.float64)
        assert tuple(t.shape) == (2, 3) and str(t.dtype) == "torch.float64"


LIKE_SOURCES = {
    "float": lambda L: L.ones(2, 3),
    "int": lambda L: L.ones(2, 3, dtype=L.int64),
    "transposed": lambda L: L.ones(2, 3).t(),
    "permuted": lambda L: L.ones(2, 3, 4).permute(2, 0, 1),
    "sliced": lambda L: L.ones(4, 6).narrow(1, 0, 3),
    "zero_dim": lambda L: L.tensor(2.5),
}


@pytest.mark.parametrize("source", list(LIKE_SOURCES))
@pytest.mark.parametrize(
    "like",
    [
        lambda L, x: L.zeros_like(x),
        lambda L, x: L.ones_like(x),
        lambda L, x: L.full_like(x, 7),
        lambda L, x: L.full_like(x, 2.5),
        lambda L, x: L.zeros_like(x, dtype=L.float64),
        lambda L, x: L.ones_like(x, dtype=L.bool),
        lambda L, x: L.ones_like(x, dtype=L.float32, requires_grad=True),
    ],
    ids=["zeros", "ones", "full_int", "full_float", "zeros_double", "ones_bool", "requires_grad"],
)
def test_like_factories(source, like):
    assert_same(lambda L: like(L, LIKE_SOURCES[source](L)))
    ours, ref = like(tapegrad, LIKE_SOURCES[source](tapegrad)), like(torch, LIKE_SOURCES[source](torch))
    assert ours.stride() == ref.stride()


def test_like_factories_do_not_copy_history():
    x = tapegrad.ones(2, requires_grad=True) * 2
    for t in (tapegrad.zeros_like(x), tapegrad.ones_like(x), tapegrad.empty_like(x), tapegrad.full_like(x, 3.0)):
        assert not t.requires_grad and t.grad_fn is None


@pytest.mark.parametrize(
    "args,kwargs",
    [
        ((5,), {}),
        ((1, 5), {}),
        ((1, 10, 3), {}),
        ((5, 1, -1), {}),
        ((5, 1, -2), {}),
        ((10, -10, -3), {}),
        ((-3, 3, 2), {}),
        ((1, 1), {}),
        ((0, 1, 0.1), {}),
        ((1, 0, -0.1), {}),
        ((0, 1, 0.3), {}),
        ((0, -1, -0.25), {}),
        ((5.0,), {}),
        ((1, 2.5, 0.5), {}),
        ((2.5,), {}),
        ((-1.5, 2),  {}),
        ((5,), {"dtype": "float64"}),
        ((0.5, 3), {"dtype": "int64"}),
        ((0, 5), {"dtype": "float32", "requires_grad": True}),
        ((1, 5, 0), {}),
        ((5, 1), {}),
        ((0, -1, 0.25), {}),
    ],
)
def test_arange(args, kwargs):
    def make(L):
        kw = {k: getattr(L, v) if k == "dtype" else v for k, v in kwargs.items()}
        return L.arange(*args, **kw)

    assert_same(make)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("start", [0, -2.5, 0.5, 3.3, -100])
def test_float_arange_is_bit_exact(dtype, start):
    """Every value, to the last bit, over ranges long enough to use torch's vectorised blocks and its tail.
    (Beyond 32768 elements torch splits the range over its threads, which moves the blocks.)"""
    for end in (1, 7.25, 100.5, -5, 1000):
        for step in (0.1, 0.3, 1.1, 3, -0.1, -0.37):
            if (end - start) / step > 0:
                assert_same(lambda L: L.arange(start, end, step, dtype=getattr(L, dtype)))


@pytest.mark.parametrize(
    "args,kwargs",
    [
        ((0, 1, 5), {}),
        ((0, 1, 7), {}),
        ((-1, 1, 1), {}),
        ((-1, 1, 0), {}),
        ((3, -3, 7), {}),
        ((0, 10, 11), {"dtype": "int64"}),
        ((0, 1, 6), {"dtype": "float64"}),
        ((0, 1, 100), {}),
        ((-2.5, 7.25, 13), {"dtype": "float64"}),
        ((0.1, 0.9, 57), {}),
        ((0, 1, 100000), {}),
        ((-3, 17, 9), {"dtype": "int64"}),
        ((0.5, 7.7, 10), {"dtype": "int64"}),
        ((0, 1, 3), {"dtype": "bool"}),
        ((0, 1, -1), {}),
    ],
)
def test_linspace(args, kwargs):
    def make(L):
        kw = {k: getattr(L, v) for k, v in kwargs.items()}
        return L.linspace(*args, **kw)

    assert_same(make)


@pytest.mark.parametrize(
    "args,kwargs",
    [((3,), {}), ((2, 3), {}), ((3, 2), {}), ((0,), {}), ((3,), {"dtype": "int64"}), ((2,), {"dtype": "bool"}),
     ((-1,), {}), ((2, -1), {})],
)
def test_eye(args, kwargs):
    def make(L):
        kw = {k: getattr(L, v) for k, v in kwargs.items()}
        return L.eye(*args, **kw)

    assert_same(make)
    assert_same(lambda L: L.eye(2, requires_grad=True))


# ---- the random generator: the same seed gives torch's numbers, bit for bit ----

RANDOM = {
    "rand": lambda L: L.rand(3, 4),
    "rand_double": lambda L: L.rand(5, dtype=L.float64),
    "rand_large": lambda L: L.rand(1000),
    "randn": lambda L: L.randn(5),
    "randn_17": lambda L: L.randn(17),
    "randn_large": lambda L: L.randn(33, 7),
    "randn_double": lambda L: L.randn(16, dtype=L.float64),
    "randn_double_odd": lambda L: L.randn(3, dtype=L.float64),
    "randint": lambda L: L.randint(0, 10, (5,)),
    "randint_high_only": lambda L: L.randint(10, (2, 3)),
    "randint_negative": lambda L: L.randint(-5, 5, (7,)),
    "randint_large_range": lambda L: L.randint(0, 2**40, (6,)),
    "randint_float": lambda L: L.randint(0, 10, (5,), dtype=L.float32),
    "randperm": lambda L: L.randperm(10),
    "randperm_large": lambda L: L.randperm(500),
    "randperm_float": lambda L: L.randperm(5, dtype=L.float32),
    "rand_like": lambda L: L.rand_like(L.ones(2, 2)),
    "rand_like_transposed": lambda L: L.rand_like(L.ones(2, 3).t()),
    "randn_like": lambda L: L.randn_like(L.ones(2, 2, dtype=L.float64)),
    "uniform_": lambda L: L.ones(4).uniform_(-1, 1),
    "uniform_transposed": lambda L: L.empty(3, 2).t().uniform_(),
    "normal_": lambda L: L.ones(4).normal_(2, 3),
    "normal_strided": lambda L: L.zeros(4, 4).narrow(1, 0, 2).normal_(),
    "rand_requires_grad": lambda L: L.rand(2, 3, requires_grad=True),
    "sequence": lambda L: L.stack([L.rand(2), L.randn(2), L.rand(2), L.randint(0, 100, (2,)).float()]),
}


@pytest.mark.parametrize("name", list(RANDOM))
@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_random_matches_torch_bit_for_bit(name, seed):
    def run(L):
        L.manual_seed(seed)
        return RANDOM[name](L)

    assert_same(run)


def test_random_state_round_trip():
    tapegrad.manual_seed(3)
    state = tapegrad.get_rng_state()
    first = tapegrad.randn(5).tolist()
    tapegrad.set_rng_state(state)
    assert tapegrad.randn(5).tolist() == first
    tapegrad.manual_seed(7)
    assert tapegrad.initial_seed() == 7


@pytest.mark.parametrize(
    "make",
    [
        lambda L: L.randint(5, 3, (2,)),
        lambda L: L.rand(2, dtype=L.int64),
        lambda L: L.randn(2, dtype=L.int64),
        lambda L: L.ones(2, dtype=L.int64).uniform_(),
        lambda L: L.ones(2).uniform_(1, 0),
        lambda L: L.ones(2).normal_(0, -1),
    ],
)
def test_random_errors(make):
    assert_same(make)


# ---- NumPy interop ----


@pytest.mark.parametrize("dtype", NUMPY_DTYPES)
def test_from_numpy_shares_memory_both_ways(dtype):
    arr = np.zeros((2, 3), dtype=dtype)
    t = tapegrad.from_numpy(arr)
    assert str(t.dtype) == str(torch.from_numpy(arr).dtype)
    arr[0, 1] = 1
    assert t.tolist() == arr.tolist()
    t.fill_(True if dtype == "bool" else 3)
    assert arr.tolist() == t.tolist()


def test_from_numpy_keeps_strides():
    arr = np.arange(12.0).reshape(3, 4)[:, ::2]
    t, ref = tapegrad.from_numpy(arr), torch.from_numpy(arr)
    assert t.stride() == ref.stride() and t.tolist() == ref.tolist()
    assert tapegrad.from_numpy(arr.T).stride() == torch.from_numpy(arr.T).stride()


def test_from_numpy_errors():
    with pytest.raises(TypeError, match="expected np.ndarray"):
        tapegrad.from_numpy([1, 2])
    with pytest.raises(ValueError, match="negative"):
        tapegrad.from_numpy(np.arange(3.0)[::-1])
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.int32"):
        tapegrad.from_numpy(np.arange(3, dtype=np.int32))


def test_from_numpy_keeps_the_array_alive():
    t = tapegrad.from_numpy(np.arange(4.0))
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0]


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_numpy_is_zero_copy(dtype):
    t = tapegrad.ones(2, 3, dtype=getattr(tapegrad, dtype))
    arr = t.numpy()
    assert arr.dtype == torch.ones(1, dtype=getattr(torch, dtype)).numpy().dtype
    arr[1, 2] = 0
    assert t.tolist()[1][2] == arr[1, 2]
    t.zero_()
    assert not arr.any()


VIEWS = {
    "transposed": lambda x: x.t(),
    "narrowed": lambda x: x.narrow(1, 1, 2),
    "selected": lambda x: x.select(0, 2),
    "expanded": lambda x: x.expand(2, 3, 4),
}


@pytest.mark.parametrize("view", list(VIEWS))
def test_numpy_of_views(view):
    base = tapegrad.arange(12.0).reshape(3, 4)
    arr, ref = VIEWS[view](base).numpy(), VIEWS[view](torch.arange(12.0).reshape(3, 4)).numpy()
    assert arr.tolist() == ref.tolist() and arr.strides == ref.strides
    assert np.shares_memory(arr, base.numpy())


def test_numpy_requires_grad_error():
    assert_same(lambda L: L.tensor(L.ones(2, requires_grad=True).numpy()))
    assert tapegrad.ones(2, requires_grad=True).detach().numpy().tolist() == [1.0, 1.0]
    assert tapegrad.ones(2, requires_grad=True).numpy(force=True).tolist() == [1.0, 1.0]


def test_numpy_of_0dim():
    arr = tapegrad.tensor(1.5).numpy()
    assert arr.shape == () and arr.dtype == np.float32 and float(arr) == 1.5
