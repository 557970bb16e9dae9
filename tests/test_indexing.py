"""Indexing against PyTorch: views and copies, assignment, gradients, error types and messages,
and int/bool tensors. Each snippet runs once with tapegrad and once with torch bound to `L`."""
import warnings

import numpy as np
import pytest
import torch

import tapegrad

SETUP = """
x = L.tensor(np.arange(12.).reshape(3, 4) / 7 - 0.5, requires_grad=True)
w = x * 1
v = L.tensor([10., 20., 30., 40.], dtype=L.float64, requires_grad=True)
s = L.tensor(np.arange(6.).reshape(3, 2) + 1, requires_grad=True)
c = L.tensor(2.5, dtype=L.float64, requires_grad=True)
i = L.tensor([[0, 2], [1, 0], [2, 2]])
m = L.tensor([[True, False, True, False]] * 3)
n = L.arange(12).view(3, 4)
b = n % 3 == 0
"""
LEAVES = ("x", "v", "s", "c")


def describe(lib, r):
    if isinstance(r, (tuple, list)):
        return [describe(lib, t) for t in r]
    if not isinstance(r, lib.Tensor):
        return r
    fn = r.grad_fn.name().replace("torch::autograd::", "") if r.grad_fn is not None else None
    return (tuple(r.shape), str(r.dtype).replace("torch.", ""), fn, r.detach().numpy().round(6).tolist())


def outcome(lib, code, result="r"):
    """What `code` leaves in `result`, the gradients a weighted sum of it gives the leaves, or the error."""
    ns = {"L": lib, "np": np}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(SETUP + code, ns)
        r = ns[result]
        out = [describe(lib, r)]
        tensors = [t for t in (r if isinstance(r, tuple) else (r,)) if isinstance(t, lib.Tensor) and t.requires_grad]
        if tensors:
            weights = [lib.tensor(np.arange(t.numel(), dtype=np.float64).reshape(tuple(t.shape)) + 1) for t in tensors]
            sum((t * wt).sum() for t, wt in zip(tensors, weights)).backward()
            out += [None if ns[k].grad is None else ns[k].grad.numpy().round(6).tolist() for k in LEAVES]
        return out
    except Exception as e:  # the error itself is the outcome to compare
        return (type(e).__name__, str(e))


def assert_same(code, result="r"):
    ours, ref = outcome(tapegrad, code, result), outcome(torch, code, result)
    assert ours == ref, f"\n tapegrad: {ours}\n    torch: {ref}"


GETITEM = [
    "x[0]", "x[-1]", "x[:]", "x[:, :]", "x[...]", "x[..., ...]", "x[None]", "x[:, 0]", "x[0:3]", "x[0:3, 1]",
    "x[0:100, 0]", "x[-100:100]", "x[2:1]", "x[1:-1]", "x[::2, ::3]", "x[0][0]", "x[None, 1]", "x[:, None]",
    "x[..., 1:3]", "x[0, ..., 3]", "x[None, ..., None]", "x[True]", "x[False]", "x[True, 1]", "x[False, 1]",
    "x[1, True]", "x[L.tensor(1)]", "x[L.tensor(True)]", "x[L.tensor(False)]", "x[np.int64(1)]", "x[(0,)]",
    "x[[0, 1]]", "x[[0]]", "x[[0, 1, 2]]", "x[[]]", "x[:, []]", "x[[1.5]]", "x[L.tensor([1])]",
    "x[L.tensor([-3])]", "x[L.tensor([[0, 1], [2, 2]])]", "x[L.tensor([[0, 1], [2, 2]]), L.tensor([1, 3])]",
    "x[[0, 1], [1]]", "x[[0, 1], 0]", "x[0, [0, 1]]", "x[L.tensor(1), [0, 2]]", "x[:, [0, 1]]", "x[1:, [0, 2]]",
    "x[[0, 2], :, None]", "x[[0, 1], None, [1, 2]]", "x[L.tensor([0, 1]), 1:3]", "x[np.array([0, 2])]",
    "x[L.tensor([0, 1]).view(2, 1), L.tensor([1, 2, 3])]", "x[[[0, 1], [1, 2]]]", "x[[0, slice(None)]]",
    "x[x > 0]", "x[x > 100]", "x[m]", "x[m[0]]", "x[:, m[0]]", "x[L.tensor([True, False, True])]",
    "x[[True, False, True]]", "L.tensor(1.)[None]", "L.tensor(1.)[...]", "L.tensor(1.)[L.tensor(True)]",
    "L.zeros(3, 0)[[2]]", "n[1]", "n[n > 4]", "n[[0, 0], 1:]", "b[[2, 0]]", "b[b]", "n[b]", "n[:, L.tensor([3])]",
    "w[[0, 0, 1]]", "w[m]", "x.t()[[0, 3]]", "x[:, ::2][[2, 0]]",
]


@pytest.mark.parametrize("expr", GETITEM)
def test_getitem(expr):
    assert_same(f"r = {expr}")


GETITEM_ERRORS = [
    "x[5]", "x[-4]", "x[:, 7]", "x[0, 0, 0]", "x[::-1]", "x[::0]", "x[1.5]", "x['a']", "x[L.tensor([1.])]",
    "x[L.tensor([5])]", "x[L.tensor([-4])]", "x[:, L.tensor([5])]", "x[[0, 1], [1, 2, 3]]",
    "x[L.tensor([True, False, True, True])]", "x[:, L.tensor([True, False, True])]", "x[[0, 1], [0, 1], [0]]",
    "x[None, 5]", "x[0, ..., 9]", "L.tensor(1.)[0]", "L.tensor(1.)[1]", "L.tensor(1.)[:]", "L.zeros(0)[[0]]",
    "L.zeros(0, 3)[[0], 1:]", "n[[[0, 1]], [0, 1, 2]]", "x[2 ** 70]", "x[[0, 1], [1, 9]]", "x[[0, -9], [1, 2]]", "x[{}]", "x[object()]", "x[0, L.tensor(9)]",
]


@pytest.mark.parametrize("expr", GETITEM_ERRORS)
def test_getitem_errors(expr):
    ours = outcome(tapegrad, f"r = {expr}")
    assert isinstance(ours, tuple), ours
    assert_same(f"r = {expr}")


SETITEM = [
    "w[0] = 1", "w[0] = v", "w[:, 1] = 2.5", "w[[0, 1]] = 0.", "w[w > 0.1] = 0.", "w[w > 0.1] = L.tensor(1.)",
    "w[w > 0.1] = L.zeros(1)", "w[L.tensor([True, False, True])] = v", "w[[0, 2]] = v", "w[[0, 0]] = v",
    "w[[0, 0], [1, 1]] = v[:2]", "w[0, [1, 2]] = 5.", "w[0, [1, 2]] = v[1:3]", "w[[0, 1], [1, 2]] = v[2:]",
    "w[...] = v", "w[None] = 2", "w[True] = 3", "w[False] = 3", "w[L.tensor(1)] = 1",
    "w[L.tensor(True)] = 1", "w[[True, False, True]] = 1", "w[[0, 1]] = L.ones(1, 1, 2, 4, dtype=L.float64)",
    "w[0] = L.ones(1, 1, 4)", "w[1:, ::2] = v[:2]", "w[:, [0, 2]] = v[:3].view(3, 1)", "w[[0, 2], 1:3] = 7",
    "w[[0, 1], None, [1, 2]] = v[:2].view(2, 1)", "w[:, None, [1, 2]] = v[:2]", "w[0][1] = 5", "w[w > 0.1] *= 2",
    "w[[0, 0]] += 1", "w[1] += v", "w[1:, 1:] -= 1", "w[v > 15] = c", "w[:, v > 15] = 0", "w[1, v > 15] = v[2:]",
    "w[np.int64(1)] = np.float64(3.)", "w[0] = np.int64(2)", "w[0] = True", "w[:, 1] = c", "w[w > 0] = c",
    "w = w.t(); w[[0, 1]] = v[:3]",
    # A value that requires grad written into a plain tensor makes it part of the graph.
    "w = L.zeros(3, 4, dtype=L.float64); w[0] = v", "w = L.zeros(3, 4, dtype=L.float64); w[[0, 1]] = v",
    "w = L.zeros(3, 4, dtype=L.float64); w[1:] = x[:2]", "w = L.zeros(3, 4, dtype=L.float64); w[w == 0] = c",
    # Python numbers take the tensor's dtype; tensors are cast by copy_ (basic) but not by index_put_.
    "w = L.zeros(3, dtype=L.int64); w[0] = 2.7", "w = L.zeros(3, dtype=L.int64); w[[0]] = 2.7",
    "w = L.zeros(3, dtype=L.int64); w[0] = L.tensor([2.7])", "w = L.zeros(3, dtype=L.bool); w[[0]] = 2.5",
    "w = L.zeros(3, dtype=L.bool); w[0] = 2", "w = L.arange(5); w[w > 0] = L.tensor(2.7)",
    "w = n.clone(); w[0, [0, 0]] = L.tensor([5, 6])", "w = n.clone(); w[w > 2] = -1", "w = n.clone(); w[b] = n[b] * 10",
    "w = n.clone().double(); w[1] = L.tensor([1.5, 2.5, 3.5, 4.5])", "w = b.clone(); w[:, 1] = True",
    "w = b.clone(); w[~b] = True", "w = L.arange(5.); w[w > 2] = w[0]",
]


@pytest.mark.parametrize("code", SETITEM)
def test_setitem(code):
    assert_same(code, result="w")


SETITEM_ERRORS = [
    "w[0] = L.ones(5)", "w[0] = L.ones(2, 4)", "w[[0, 1]] = L.ones(3)", "w[[0, 1]] = L.ones(2, 4, 1)",
    "w[[0, 1]] = L.ones(2, 4)", "w[0] = 'a'", "w[0] = [1, 2, 3, 4]", "w[0] = np.float32(2.)", "del w[0]",
    "w[L.tensor([5])] = 1.", "w[L.tensor([5])] = L.ones(1, 4, dtype=L.float64)", "w[5] = 1",
    "w = L.zeros(3); w[L.tensor([True, False])] = 1", "w = L.zeros(3, dtype=L.int64); w[[0]] = L.tensor(2.7)",
    "w = L.zeros(3); w[[[0]], [0, 1]] = 1.",
    "x[0] = 1", "x[[0]] = 1", "x[x > 0] = 1", "x[...] = 1", "u = x[1:]; u[[0]] = 1",
    "w = L.arange(5.); w[[0, 1]] = w[1:3]", "w = L.arange(5.); w[[0, 1]] = w[3]", "w = L.arange(5.); w[[0, 1]] = w[3:]",
]


@pytest.mark.parametrize("code", SETITEM_ERRORS)
def test_setitem_errors(code):
    ours = outcome(tapegrad, code, result="w")
    assert isinstance(ours, tuple), ours
    assert_same(code, result="w")


FUNCTIONS = [
    "x.index_select(1, L.tensor([0, 0, 3]))", "L.index_select(x, 0, L.tensor(1))", "x.t().index_select(0, L.tensor([1, 1, 0]))",
    "L.index_select(c, 0, L.tensor([0]))", "L.index_select(c, 0, L.tensor(0))", "n.index_select(1, L.tensor([2, 1]))",
    "L.gather(x, 1, i)", "L.gather(x, 1, i[:, :1])", "L.gather(x, 0, i)", "x.gather(-1, i)", "L.gather(c, 0, L.tensor(0))",
    "L.gather(x, 1, L.zeros(3, 5, dtype=L.int64))", "L.gather(x, 1, i, sparse_grad=False)", "b.gather(1, i)",
    "x.scatter(1, i, 5.0)", "x.scatter(1, i, s)", "x.scatter(0, i, s)", "x.scatter(1, i, s[:, :1])", "L.scatter(x, 1, i, s)",
    "x.scatter(1, i, 1)", "x.scatter(1, L.zeros(1, 5, dtype=L.int64), 1.)", "L.arange(2).scatter(0, L.tensor([0]), 2.7)",
    "x.scatter_add(1, i, s)", "L.scatter_add(x, 0, i, s)", "n.scatter_add(1, i, n)", "(x * 1).scatter_(1, i, s)",
    "(x * 1).scatter_(1, i, -2.)", "(x * 1).scatter_add_(1, i, s)",
    "x.masked_fill(m, 0.)", "x.masked_fill(m[0], 0.)", "x.masked_fill(m, L.tensor(2.))", "x.masked_fill(m, c)",
    "x.masked_fill(L.ones(2, 3, 4, dtype=L.bool), 0.)", "L.masked_fill(x, m, 1)", "L.masked_fill(x, m[:, :1], c)",
    "L.arange(3).masked_fill(L.tensor([True, False, True]), 2.7)", "L.arange(3).masked_fill(L.tensor([True, False, True]), L.tensor(2.7))",
    "L.tensor([True, False]).masked_fill(L.tensor([True, True]), 0.5)", "(x * 1).masked_fill_(m, -1.)", "(x * 1).masked_fill_(m[0], c)",
    "x.masked_select(m)", "x.masked_select(m[0])", "L.masked_select(x, L.ones(2, 3, 4, dtype=L.bool))", "L.masked_select(c, L.tensor([True, False, True]))",
    "n.masked_select(b)",
    "L.nonzero(x)", "L.nonzero(x, as_tuple=True)", "x.nonzero()", "L.nonzero(L.tensor(1.))", "L.nonzero(L.tensor(1.), as_tuple=True)",
    "L.nonzero(L.tensor(0.), as_tuple=True)", "L.nonzero(L.zeros(2, 0))", "L.nonzero(m.t())", "L.argwhere(m)", "m.nonzero(as_tuple=True)",
    "n.nonzero()", "L.nonzero(n[:, ::2] % 2)",
    "L.take(x, L.tensor([[0, 11]]))", "L.take(x, L.tensor([-12]))", "x.take(L.tensor(3))", "L.take(x.t(), L.tensor([1, 2, 1]))", "n.take(L.tensor([4, 4]))",
    "x.index_put((L.tensor([0, 0]),), v, accumulate=True)", "x.index_put((L.tensor([0, 0]),), v)",
    "x.index_put([L.tensor([0, 0]), L.tensor([1, 1])], c)", "x.index_put((m,), c, accumulate=True)", "x.index_put((m,), c)",
    "x.detach().index_put_((L.tensor([0, 0]),), v, accumulate=True)", "(x * 1).index_put_((L.tensor([2]), L.tensor([1])), c)",
    "n.index_put((L.tensor([0, 0]),), L.tensor([1, 2, 3, 4]), accumulate=True)",
]


@pytest.mark.parametrize("expr", FUNCTIONS)
def test_functions(expr):
    assert_same(f"r = {expr}")


FUNCTION_ERRORS = [
    "x.index_select(1, L.tensor([[0]]))", "x.index_select(0, L.tensor([4]))", "x.index_select(0, L.tensor([-1]))",
    "x.index_select(1, L.tensor([0.]))", "x.index_select(2, L.tensor([0]))", "L.index_select(c, 0, L.tensor([0, 0]))",
    "L.gather(x, 0, L.tensor([[0, 1, 2, 0, 1]]))", "L.gather(x, 1, L.tensor([[5]]))", "L.gather(x, 1, L.tensor([[-1]]))",
    "L.gather(x, 1, L.tensor([0]))", "L.gather(x, 1, i.float())", "L.gather(x, 1, L.zeros(4, 1, dtype=L.int64))",
    "x.scatter(1, i, L.ones(1, 2, dtype=L.float64))", "x.scatter(1, L.tensor([[9]]), 1.)", "x.scatter(1, i, L.ones(3, 2))",
    "x.scatter(1, i.float(), 1.)", "x.scatter(1, L.tensor([0]), 1.)", "x.scatter(1, L.zeros(4, 1, dtype=L.int64), 1.)",
    "x.scatter(1, L.tensor([[-1]]), 1.)", "x.scatter(2, i, 1.)", "x.scatter_add(1, i, L.ones(2, 2, dtype=L.float64))",
    "x.scatter_(1, i, s)", "x.masked_fill(m, L.tensor([2.]))", "x.masked_fill(m.long(), 0.)",
    "x.masked_fill(L.ones(2, dtype=L.bool), 0.)", "(x * 1).masked_fill_(L.ones(2, 3, 4, dtype=L.bool), 0.)", "x.masked_fill_(m, 0.)",
    "x.masked_select(m.long())", "x.masked_select(L.ones(2, dtype=L.bool))", "L.take(x, L.tensor([12]))",
    "L.take(x, L.tensor([[5, -13]]))", "L.take(x, L.tensor([1.]))", "x.index_put((L.tensor([0, 1]),), L.ones(3, dtype=L.float64))",
    "x.index_put((L.tensor([0, 1]), L.tensor([0, 1]), L.tensor([0])), v[:1])", "x.index_put((L.tensor([0]),), L.tensor(1.))",
    "x.index_put((L.tensor([0.]),), c)", "x.index_put_((L.tensor([0]),), c)", "n.index_put_((L.tensor([0]),), n[0, :1])",
    "x.index_put(L.tensor([1]), c)", "x.index_put((None, L.tensor([0])), c)",
]


@pytest.mark.parametrize("expr", FUNCTION_ERRORS)
def test_function_errors(expr):
    ours = outcome(tapegrad, f"r = {expr}")
    assert isinstance(ours, tuple), ours
    assert_same(f"r = {expr}")


def test_number_where_a_tensor_is_required():
    with pytest.raises(TypeError):
        tapegrad.zeros(3, 4).scatter_add(1, tapegrad.tensor([[0, 1]]), 1.0)


def test_basic_indexing_shares_storage():
    x = tapegrad.arange(12.0).view(3, 4)
    x[1][2] = 100.0
    assert x[1, 2].item() == 100.0
    row, col, tail = x[2], x[:, 1], x[1:, ::2]
    assert row.data_ptr() == x.data_ptr() + 8 * 4
    assert col.stride() == (4,) and col.data_ptr() == x.data_ptr() + 4
    assert tail.stride() == (4, 2) and tail.storage_offset() == 4
    for view, offset in ((x[...], 0), (x[None], 0), (x[:, None], 0), (x[..., 3], 3), (x[0, ..., 3], 3), (x[2:, 1:], 9)):
        assert view.data_ptr() == x.data_ptr() + 4 * offset
    x[..., 0].fill_(-1.0)
    x[None][0, 0].fill_(-2.0)
    col.zero_()
    assert x.tolist() == [[-2.0, 0.0, -2.0, -2.0], [-1.0, 0.0, 100.0, 7.0], [-1.0, 0.0, 10.0, 11.0]]


def test_advanced_indexing_copies():
    x = tapegrad.arange(6.0).view(2, 3)
    for copy in (x[[0, 1]], x[x > 2], x[:, [2]], x[tapegrad.tensor([True, False])]):
        copy.fill_(-5.0)
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]


def test_setitem_ellipsis_number_fills_in_place():
    assert_same("w[...] = 1", "w")


def test_setitem_bumps_version():
    x = tapegrad.zeros(3, 4)
    versions = [x._version]
    for index, value in ((0, 1.0), (slice(1, 2), tapegrad.ones(4)), ([0, 2], 2.0), (x > 1, 3.0)):
        x[index] = value
        versions.append(x._version)
    assert versions == sorted(set(versions))


def test_repeated_indices_accumulate_gradient():
    x = tapegrad.zeros(3, 2, requires_grad=True)
    x[tapegrad.tensor([0, 0, 2, 0])].sum().backward()
    assert x.grad.tolist() == [[3.0, 3.0], [0.0, 0.0], [1.0, 1.0]]


def test_setitem_on_non_leaf_gradients():
    for lib in (tapegrad, torch):
        x = lib.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        v = lib.tensor([7.0, 8.0], requires_grad=True)
        y = x * 2
        y[:, 1] = v
        y[[1], [2]] = 0.0
        (y * y).sum().backward()
        if lib is torch:
            ref = (x.grad.tolist(), v.grad.tolist())
        else:
            ours = (x.grad.tolist(), v.grad.tolist())
    assert ours == ref == ([[8.0, 0.0, 24.0], [32.0, 0.0, 0.0]], [14.0, 16.0])


def test_setitem_value_requiring_grad_into_plain_tensor():
    v = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    y = tapegrad.zeros(3, 2)
    y[[2, 0]] = v
    assert y.requires_grad and y.grad_fn.name() == "IndexPutBackward0" and y.is_leaf is False
    (y * tapegrad.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])).sum().backward()
    assert v.grad.tolist() == [6.0, 8.0]


def test_saved_index_modified_in_place_is_detected():
    for lib in (tapegrad, torch):
        x = lib.ones(3, requires_grad=True)
        idx = lib.tensor([0, 1])
        y = x[idx]
        idx[0] = 2
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()


@pytest.mark.parametrize("expr", ["(x[i[:, 0]] ** 2).sum()", "(L.gather(x, 1, i) ** 2).sum()",
                                  "(x.masked_fill(m, 0.) ** 3).sum()", "(x[m] ** 2).sum()",
                                  "(x.index_select(1, i[0]) ** 2).sum()", "(x.scatter(1, i, s) ** 2).sum()"])
def test_double_backward(expr):
    def second(lib):
        ns = {"L": lib, "np": np}
        exec(SETUP, ns)
        loss = eval(expr, ns)
        (g,) = lib.autograd.grad(loss, ns["x"], create_graph=True)
        (g * g).sum().backward()
        return ns["x"].grad.detach().numpy()

    np.testing.assert_allclose(second(tapegrad), second(torch), rtol=1e-12)


def test_list_of_sequences_is_a_tuple_with_a_warning():
    x = tapegrad.arange(12).view(3, 4)
    with pytest.warns(UserWarning, match="non-tuple sequence for multidimensional indexing"):
        r = x[[[0, 1], [1, 2]]]
    assert r.tolist() == [1, 6]


def test_writes_into_a_leaf_under_no_grad():
    def run(lib):
        p = lib.ones(3, 4, requires_grad=True)
        with lib.no_grad():
            p[0] = 5
            p[[1, 2]] += 1
            p[p > 4] = 7
            p.masked_fill_(p > 6, 0.5)
            p.scatter_(1, lib.tensor([[0], [1], [2]]), 9.0)
        return p.tolist(), p.grad_fn is None, p.is_leaf

    assert run(tapegrad) == run(torch)


def test_no_grad_index_records_nothing():
    x = tapegrad.ones(3, 2, requires_grad=True)
    with tapegrad.no_grad():
        y = x[[0, 1]]
        z = x[0]
    assert y.grad_fn is None and not y.requires_grad and z.grad_fn is None
