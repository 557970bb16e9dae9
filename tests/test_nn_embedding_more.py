"""Embedding's options (padding_idx, max_norm, scale_grad_by_freq, from_pretrained) and EmbeddingBag /
F.embedding_bag against PyTorch: outputs, weights after max_norm's in-place renormalisation, and the gradients
of the weight and the per-sample weights, in float32 and float64, plus the errors torch raises."""

import numpy as np
import pytest
import torch

import tapegrad
from test_errors import check_same_error
from test_nn_modules import assert_close

WEIGHT = np.random.default_rng(0).standard_normal((7, 3)) * 1.5
INDICES = [[1, 2, 4, 5], [4, 3, 2, 0], [6, 6, 6, 1]]


def _check(run, dtype):
    """run(L, weight) -> list of tensors or None; the weight starts as WEIGHT and requires grad. Compares every
    result, the weight after the run (max_norm rescales rows in place) and the weight's gradient."""
    results = []
    for L in (tapegrad, torch):
        weight = L.tensor(WEIGHT.astype(dtype), requires_grad=True)
        outs, extra = run(L, weight)
        sum(((o * L.tensor(np.linspace(-1, 2, o.numel()).reshape(tuple(o.shape)).astype(dtype))).sum()
             for o in outs)).backward()
        results.append(outs + [weight.detach(), weight.grad] + [t.grad for t in extra])
    for o, r in zip(*results):
        if r is None:
            assert o is None
        else:
            assert_close(o, r, dtype)


EMBEDDINGS = {
    "plain": lambda L, w: L.nn.functional.embedding(L.tensor(INDICES), w),
    "padding_idx": lambda L, w: L.nn.functional.embedding(L.tensor(INDICES), w, padding_idx=4),
    "negative_padding_idx": lambda L, w: L.nn.functional.embedding(L.tensor(INDICES), w, padding_idx=-1),
    "max_norm": lambda L, w: L.nn.functional.embedding(L.tensor(INDICES), w, max_norm=1.0),
    "max_norm_l1": lambda L, w: L.nn.functional.embedding(L.tensor(INDICES), w, max_norm=1.5, norm_type=1.0),
    "scale_grad_by_freq": lambda L, w: L.nn.functional.embedding(L.tensor(INDICES), w, scale_grad_by_freq=True),
    "all_options": lambda L, w: L.nn.functional.embedding(L.tensor(INDICES), w, padding_idx=6, max_norm=2.0,
                                                          scale_grad_by_freq=True),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(EMBEDDINGS))
def test_embedding_options_match_torch(name, dtype):
    _check(lambda L, w: ([EMBEDDINGS[name](L, w)], []), dtype)


@pytest.mark.parametrize("freeze", [True, False])
def test_embedding_from_pretrained_matches_torch(freeze):
    def run(L, w):
        emb = L.nn.Embedding.from_pretrained(w.detach() * 1, freeze=freeze, padding_idx=2, max_norm=2.5)
        out = emb(L.tensor(INDICES)) * w[0]
        return [out, emb.weight.detach()], [] if freeze else [emb.weight]

    _check(run, "float64")


def _psw(L, dtype, shape, name="psw"):
    values = np.random.default_rng(len(name)).standard_normal(shape).astype(dtype)
    return L.tensor(values, requires_grad=True)


FLAT = [1, 2, 4, 5, 4, 3, 2, 0, 6, 6, 6, 1]
BAGS = {
    "2d": lambda L, w, mode, dtype: ([L.nn.functional.embedding_bag(L.tensor(INDICES), w, mode=mode)], []),
    "offsets": lambda L, w, mode, dtype: ([L.nn.functional.embedding_bag(L.tensor(FLAT), w, L.tensor([0, 3, 3, 7]),
                                                                         mode=mode)], []),
    "include_last_offset": lambda L, w, mode, dtype: ([L.nn.functional.embedding_bag(
        L.tensor(FLAT), w, L.tensor([0, 2, 2, 12]), mode=mode, include_last_offset=True)], []),
    "padding_idx": lambda L, w, mode, dtype: ([L.nn.functional.embedding_bag(
        L.tensor(FLAT), w, L.tensor([0, 4, 8, 10]), mode=mode, padding_idx=6)], []),
    "padding_only_bag_2d": lambda L, w, mode, dtype: ([L.nn.functional.embedding_bag(
        L.tensor([[3, 3], [1, 3]]), w, mode=mode, padding_idx=-4)], []),
    "max_norm": lambda L, w, mode, dtype: ([L.nn.functional.embedding_bag(L.tensor(INDICES), w, mode=mode,
                                                                          max_norm=1.2)], []),
    # every index twice: torch's embedding_bag backward divides the k-th distinct index's gradient by the count
    # of the k-th smallest entry of the sorted input, which is its own count only when counts agree
    "scale_grad_by_freq": lambda L, w, mode, dtype: ([L.nn.functional.embedding_bag(
        L.tensor([5, 1, 5, 0, 1, 0]), w, L.tensor([0, 3]), mode=mode, scale_grad_by_freq=mode != "max")], []),
}


def _per_sample_weighted(L, w, dtype, shape, **kwargs):
    psw = _psw(L, dtype, shape)
    return [L.nn.functional.embedding_bag(per_sample_weights=psw, weight=w, mode="sum", **kwargs)], [psw]


PER_SAMPLE = {
    "2d": lambda L, w, dtype: _per_sample_weighted(L, w, dtype, (3, 4), input=L.tensor(INDICES)),
    "offsets_padding": lambda L, w, dtype: _per_sample_weighted(
        L, w, dtype, (12,), input=L.tensor(FLAT), offsets=L.tensor([0, 1, 6]), padding_idx=4),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
@pytest.mark.parametrize("name", sorted(BAGS))
def test_embedding_bag_matches_torch(name, mode, dtype):
    _check(lambda L, w: BAGS[name](L, w, mode, dtype), dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(PER_SAMPLE))
def test_embedding_bag_per_sample_weights_match_torch(name, dtype):
    _check(lambda L, w: PER_SAMPLE[name](L, w, dtype), dtype)


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_module_matches_torch(mode):
    def run(L, w):
        L.manual_seed(0)
        bag = L.nn.EmbeddingBag(7, 3, mode=mode, padding_idx=2).double()
        init = bag.weight.detach() * 1
        with L.no_grad():
            bag.weight.copy_(w)
        out = bag(L.tensor(FLAT), L.tensor([0, 2, 5]))
        return [out * 1, init], [bag.weight]

    _check(run, "float64")


def test_embedding_bag_module_repr_and_from_pretrained_match_torch():
    reprs = []
    for L in (tapegrad, torch):
        frozen = L.nn.EmbeddingBag.from_pretrained(L.tensor(WEIGHT), mode="max", padding_idx=-2)
        trained = L.nn.EmbeddingBag.from_pretrained(L.tensor(WEIGHT), freeze=False, include_last_offset=True)
        reprs.append([repr(frozen), repr(trained), frozen.weight.requires_grad, trained.weight.requires_grad,
                      frozen.padding_idx, repr(L.nn.EmbeddingBag(5, 2, max_norm=1.0, norm_type=1.0,
                                                                 scale_grad_by_freq=True, mode="sum")),
                      frozen(L.tensor([[0, 5], [5, 1]])).tolist()])
    assert reprs[0] == reprs[1]


ERRORS = [
    "F = lib.nn.functional\nF.embedding_bag(lib.tensor([1, 2]), lib.ones(5, 2))",
    "F = lib.nn.functional\nF.embedding_bag(lib.tensor([1, 2]), lib.ones(5, 2), lib.tensor([[0]]))",
    "F = lib.nn.functional\nF.embedding_bag(lib.tensor([[[1]]]), lib.ones(5, 2))",
    "F = lib.nn.functional\nF.embedding_bag(lib.tensor([1, 2]), lib.ones(5), lib.tensor([0]))",
    "F = lib.nn.functional\nF.embedding_bag(lib.tensor([1, 2]), lib.ones(5, 2), lib.tensor([0]), mode='min')",
    "F = lib.nn.functional\nF.embedding_bag(lib.tensor([1, 2]), lib.ones(5, 2), lib.tensor([0]), mode='max',\n"
    "                scale_grad_by_freq=True)",
    "F = lib.nn.functional\nF.embedding_bag(lib.tensor([1, 2]), lib.ones(5, 2), lib.tensor([0]), mode='mean',\n"
    "                per_sample_weights=lib.ones(2))",
    "F = lib.nn.functional\nF.embedding_bag(lib.tensor([1, 2]), lib.ones(5, 2), lib.tensor([0]), mode='sum',\n"
    "                per_sample_weights=lib.ones(3))",
    "F = lib.nn.functional\nF.embedding_bag(lib.tensor([1, 2]), lib.ones(5, 2), lib.tensor([0]), mode='sum',\n"
    "                per_sample_weights=lib.ones(2, dtype=lib.float64))",
    "F = lib.nn.functional\nF.embedding_bag(lib.tensor([1, 2]), lib.ones(5, 2), lib.tensor([0, 3]))",
    "F = lib.nn.functional\nF.embedding_bag(lib.tensor([1, 7]), lib.ones(5, 2), lib.tensor([0]))",
    "F = lib.nn.functional\nF.embedding_bag(lib.tensor([1, -1]), lib.ones(5, 2), lib.tensor([0]))",
    "F = lib.nn.functional\nF.embedding_bag(lib.tensor([1., 2.]), lib.ones(5, 2), lib.tensor([0]))",
    "F = lib.nn.functional\nF.embedding_bag(lib.tensor([1, 2]), lib.ones(5, 2), lib.tensor([0]), padding_idx=5)",
    "lib.nn.EmbeddingBag(4, 2, padding_idx=4)",
    "lib.nn.EmbeddingBag(4, 2, padding_idx=-5)",
    "lib.nn.EmbeddingBag(4, 2, _weight=lib.ones(3, 2))",
    "lib.nn.EmbeddingBag.from_pretrained(lib.ones(3))",
    "lib.nn.Embedding(4, 2, padding_idx=4)",
    "lib.nn.Embedding.from_pretrained(lib.ones(3))",
]


@pytest.mark.parametrize("code", ERRORS)
@pytest.mark.filterwarnings("ignore")
def test_error_matches_torch(code):
    check_same_error(code)


# torch's message names the offsets' Python type, or ends with a dump of a tensor: compared up to there
PARTIAL_ERRORS = [
    ("F = lib.nn.functional\nF.embedding_bag(lib.tensor([[1, 2]]), lib.ones(5, 2), lib.tensor([0]))",
     "if input is 2D, then offsets has to be None, as input is treated is a mini-batch of fixed length sequences. "
     "However, found offsets of type <class '"),
    ("F = lib.nn.functional\nF.embedding_bag(lib.tensor([1, 2]), lib.ones(5, 2), lib.tensor([1]))",
     "offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from position 0. However, "
     "got 1"),
]


@pytest.mark.parametrize("code, match", PARTIAL_ERRORS)
def test_error_start_matches_torch(code, match):
    check_same_error(code, match)
