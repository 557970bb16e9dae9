"""RNN, LSTM and GRU on a PackedSequence against PyTorch: the packed output, the final states in the caller's
batch order, and the gradients of the padded input, the initial state and every weight, from torch's weights."""
import zlib

import numpy as np
import pytest
import torch

import tapegrad
from test_errors import check_same_error
from test_nn_modules import copy_weights
from test_nn_rnn import _flatten, assert_chain_close

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")

# (module factory, hidden state shapes or None)
MODELS = {
    "rnn_tanh": (lambda L: L.nn.RNN(3, 4), None),
    "rnn_relu_2layer_h0": (lambda L: L.nn.RNN(3, 4, 2, "relu"), [(2, 4, 4)]),
    "gru_bidirectional_h0": (lambda L: L.nn.GRU(3, 4, bidirectional=True), [(2, 4, 4)]),
    "gru_2layer_bidirectional": (lambda L: L.nn.GRU(3, 4, 2, bidirectional=True, bias=False), None),
    "lstm": (lambda L: L.nn.LSTM(3, 4), None),
    "lstm_2layer_bidirectional_hc": (lambda L: L.nn.LSTM(3, 4, 2, bidirectional=True), [(4, 4, 4), (4, 4, 4)]),
    "lstm_proj_batch_first_hc": (lambda L: L.nn.LSTM(3, 5, batch_first=True, proj_size=2), [(1, 4, 2), (1, 4, 5)]),
}


def _run(L, model, name, dtype, lengths, enforce_sorted, hidden_shapes):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    x = L.tensor(rng.standard_normal((4, max(lengths), 3)).astype(dtype), requires_grad=True)
    hx = [L.tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in hidden_shapes or ()]
    packed = L.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=enforce_sorted)
    state = None if not hx else (tuple(hx) if len(hx) == 2 else hx[0])
    out, final = model(packed, state)
    padded, out_lengths = L.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
    results = [out.data, padded] + _flatten(final)
    loss = sum((r * L.tensor(np.linspace(-1, 2, r.numel()).reshape(tuple(r.shape)).astype(dtype))).sum()
               for r in results)
    loss.backward()
    checks = [type(out).__name__, out.batch_sizes.tolist(), out_lengths.tolist(),
              None if out.sorted_indices is None else out.sorted_indices.tolist()]
    return checks, results + [x.grad] + [h.grad for h in hx] + [p.grad for p in model.parameters()]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("enforce_sorted", [True, False])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_packed_input_matches_torch(name, enforce_sorted, dtype):
    make, hidden_shapes = MODELS[name]
    lengths = [5, 3, 3, 1] if enforce_sorted else [3, 5, 1, 3]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    ref = make(torch).to(getattr(torch, dtype))
    ours = make(tapegrad).to(getattr(tapegrad, dtype))
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.tensor(rng.uniform(-0.8, 0.8, tuple(p.shape)).astype(dtype)))
    copy_weights(ours, ref)
    our_checks, our_values = _run(tapegrad, ours, name, dtype, lengths, enforce_sorted, hidden_shapes)
    ref_checks, ref_values = _run(torch, ref, name, dtype, lengths, enforce_sorted, hidden_shapes)
    assert our_checks == ref_checks
    assert len(our_values) == len(ref_values)
    for o, r in zip(our_values, ref_values):
        assert_chain_close(o, r, dtype)


def test_packed_sequence_of_a_module_in_training_with_dropout_matches_torch():
    outs = []
    for L in (tapegrad, torch):
        L.manual_seed(0)
        model = L.nn.GRU(2, 3, 2, dropout=0.5)
        seqs = [L.arange(n * 2, dtype=L.float32).reshape(n, 2) / 5 for n in (4, 2, 1)]
        out, h = model(L.nn.utils.rnn.pack_sequence(seqs))
        outs.append((out.data.detach().numpy(), h.detach().numpy()))
    for o, r in zip(*outs):
        np.testing.assert_allclose(o, r, rtol=1e-5, atol=1e-6)


ERRORS = [
    "seq = lib.nn.utils.rnn.pack_sequence([lib.zeros(3, 2), lib.zeros(2, 2)])\nlib.nn.GRU(3, 4)(seq)",
    "seq = lib.nn.utils.rnn.pack_sequence([lib.zeros(3, 2), lib.zeros(2, 2)])\n"
    "lib.nn.RNN(2, 4)(seq, lib.zeros(1, 3, 4))",
    "seq = lib.nn.utils.rnn.pack_sequence([lib.zeros(3, 2), lib.zeros(2, 2)])\n"
    "lib.nn.GRU(2, 4)(seq.to(lib.float64))",
]


@pytest.mark.parametrize("code", ERRORS)
@pytest.mark.filterwarnings("ignore")
def test_error_matches_torch(code):
    check_same_error(code)
