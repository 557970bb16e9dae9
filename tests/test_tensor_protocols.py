"""Python protocols on tensors: deepcopy, pickle, len, bool, iteration, hashing, numbers."""
import copy
import pickle

import numpy as np
import pytest
import torch

import tapegrad


class Sub(tapegrad.Tensor):
    def __new__(cls, data, requires_grad=True):
        return tapegrad.Tensor._make_subclass(cls, data, requires_grad)


def test_deepcopy_copies_values_grad_and_subclass():
    p = Sub(tapegrad.tensor([1.0, 2.0]))
    p.grad = tapegrad.tensor([0.5, 0.5])
    p.tag = "weight"
    q = copy.deepcopy(p)
    assert type(q) is Sub and q.requires_grad and q.tag == "weight"
    assert q.tolist() == [1.0, 2.0] and q.grad.tolist() == [0.5, 0.5]
    assert q.data_ptr() != p.data_ptr() and q.grad.data_ptr() != p.grad.data_ptr()


def test_deepcopy_keeps_shared_references_shared():
    t = tapegrad.tensor([1.0])
    a, b = copy.deepcopy([t, t])
    assert a is b


def test_deepcopy_of_non_leaf_raises_like_torch():
    x = tapegrad.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(x)
    with pytest.raises(RuntimeError, match="Only Tensors created explicitly by the user"):
        copy.deepcopy(torch.tensor([1.0], requires_grad=True) * 2)


@pytest.mark.parametrize("value", [[[1.5, -2.0], [3.0, 4.0]], [1, 2, 3], [True, False], 2.5])
def test_pickle_round_trip(value):
    t = tapegrad.tensor(value)
    u = pickle.loads(pickle.dumps(t))
    assert u.dtype == t.dtype and u.shape == t.shape and u.tolist() == t.tolist()


def test_pickle_non_contiguous_and_requires_grad():
    t = tapegrad.arange(6.0).reshape(2, 3).t().requires_grad_()
    u = pickle.loads(pickle.dumps(t))
    assert u.requires_grad and u.is_leaf and u.tolist() == t.tolist()


def test_scalar_protocols_match_torch():
    for lib in (tapegrad, torch):
        t = lib.tensor([3.7])
        assert float(t) == pytest.approx(3.7) and int(t) == 3 and bool(t)
        assert int(lib.tensor(5)) == 5 and [0, 1, 2, 3, 4, 5][lib.tensor(5)] == 5
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(tapegrad.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="only integer tensors of a single element can be converted to an index"):
        [1, 2][tapegrad.tensor(1.0)]
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(tapegrad.tensor(1.0))


def test_len_iteration_and_hash():
    t = tapegrad.tensor([[1, 2], [3, 4], [5, 6]])
    assert len(t) == 3
    assert [row.tolist() for row in t] == [[1, 2], [3, 4], [5, 6]]
    assert {t: 1}[t] == 1
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        iter(tapegrad.tensor(1.0))


def test_numpy_interop_is_zero_copy():
    a = np.arange(4.0)
    t = tapegrad.from_numpy(a)
    t += 1
    assert a.tolist() == [1.0, 2.0, 3.0, 4.0]
    view = t.numpy()
    view[0] = 10
    assert t.tolist()[0] == 10.0
    assert np.asarray(tapegrad.tensor([1, 2])).dtype == np.int64


@pytest.mark.parametrize("make", [lambda L: L.zeros(2), lambda L: L.zeros(2, dtype=L.float64),
                                  lambda L: L.tensor([1]), lambda L: 3, lambda L: "x", lambda L: [1]])
def test_typename_matches_torch(make):
    assert tapegrad.typename(make(tapegrad)) == torch.typename(make(torch))
