"""nn.utils.rnn against PyTorch: pad_sequence (batch_first, padding_value, padding_side), pack_padded_sequence /
pad_packed_sequence (sorted and unsorted, total_length), pack_sequence / unpack_sequence / unpad_sequence; values,
gradients back to the sequences in float32 and float64, and errors."""
import numpy as np
import pytest
import torch

import tapegrad
from test_nn_modules import assert_close, assert_same_error


def _sequences(lib, dtype, lengths=(3, 5, 2), features=(2,)):
    rng = np.random.default_rng(sum(lengths))
    return [lib.tensor(rng.standard_normal((n,) + features).astype(dtype), requires_grad=True) for n in lengths]


def _weighted_sum(lib, out):
    return (out * lib.tensor(np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape)).astype(str(out.dtype)[6:]))).sum()


def _check_both(run, dtype):
    """run(lib, dtype) -> (outputs, leaves); outputs and the leaves' gradients agree with torch."""
    results = []
    for lib in (tapegrad, torch):
        outputs, leaves = run(lib, dtype)
        sum(_weighted_sum(lib, o) for o in outputs if o.is_floating_point()).backward()
        results.append(outputs + [leaf.grad for leaf in leaves])
    for ours, ref in zip(*results):
        assert_close(ours, ref, dtype)


CASES = {
    "pad_sequence": lambda lib, seqs: [lib.nn.utils.rnn.pad_sequence(seqs)],
    "pad_sequence_batch_first_value_left": lambda lib, seqs: [
        lib.nn.utils.rnn.pad_sequence(seqs, batch_first=True, padding_value=-2.5, padding_side="left")],
    "pack_sorted_roundtrip": lambda lib, seqs: list(lib.nn.utils.rnn.pad_packed_sequence(
        lib.nn.utils.rnn.pack_padded_sequence(lib.nn.utils.rnn.pad_sequence(sorted(seqs, key=len, reverse=True)),
                                              sorted([len(s) for s in seqs], reverse=True)))),
    "pack_unsorted_batch_first_total_length": lambda lib, seqs: list(lib.nn.utils.rnn.pad_packed_sequence(
        lib.nn.utils.rnn.pack_padded_sequence(lib.nn.utils.rnn.pad_sequence(seqs, batch_first=True),
                                              lib.tensor([len(s) for s in seqs]), batch_first=True,
                                              enforce_sorted=False),
        batch_first=True, padding_value=1.5, total_length=7)),
    "packed_fields": lambda lib, seqs: [
        f for f in lib.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)],
    "unpack_sequence": lambda lib, seqs: lib.nn.utils.rnn.unpack_sequence(
        lib.nn.utils.rnn.pack_sequence(seqs, enforce_sorted=False)),
    "unpad_sequence": lambda lib, seqs: lib.nn.utils.rnn.unpad_sequence(
        lib.nn.utils.rnn.pad_sequence(seqs), lib.tensor([len(s) for s in seqs])),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(CASES))
def test_matches_torch(name, dtype):
    def run(lib, dtype):
        seqs = _sequences(lib, dtype)
        return CASES[name](lib, seqs), seqs

    _check_both(run, dtype)


def test_packed_sequence_is_a_named_tuple_like_torch():
    packs = [lib.nn.utils.rnn.pack_sequence([lib.ones(3), lib.ones(2)]) for lib in (tapegrad, torch)]
    for ours, ref in zip(*packs):
        assert (ours is None) == (ref is None)
        if ours is not None:
            assert ours.tolist() == ref.tolist()
    assert packs[0]._fields == packs[1]._fields
    assert packs[0].double().data.dtype == tapegrad.float64


def test_invert_permutation_matches_torch():
    perm = [2, 0, 3, 1]
    ours = tapegrad.nn.utils.rnn.invert_permutation(tapegrad.tensor(perm))
    assert ours.tolist() == torch.nn.utils.rnn.invert_permutation(torch.tensor(perm)).tolist()


ERRORS = {
    "unsorted_lengths": lambda L: L.nn.utils.rnn.pack_padded_sequence(L.zeros(4, 3, 2), [2, 3, 1]),
    "zero_length": lambda L: L.nn.utils.rnn.pack_padded_sequence(L.zeros(4, 3, 2), [3, 2, 0]),
    "lengths_count": lambda L: L.nn.utils.rnn.pack_padded_sequence(L.zeros(4, 3, 2), [3, 2]),
    "empty_list": lambda L: L.nn.utils.rnn.pad_sequence([]),
    "padding_side": lambda L: L.nn.utils.rnn.pad_sequence([L.ones(2)], padding_side="mid"),
    "not_iterable": lambda L: L.nn.utils.rnn.pad_sequence(3),
    "trailing_mismatch": lambda L: L.nn.utils.rnn.pad_sequence([L.ones(2, 3), L.ones(1, 2)]),
    "total_length": lambda L: L.nn.utils.rnn.pad_packed_sequence(
        L.nn.utils.rnn.pack_sequence([L.ones(4), L.ones(2)]), total_length=2),
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_bad_input_raises_like_torch(name):
    assert_same_error(ERRORS[name])
