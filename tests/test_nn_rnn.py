"""RNN, LSTM, GRU and their cells against PyTorch: outputs, final states and every gradient from torch's weights,
default init after manual_seed, parameter names, reprs and the errors PyTorch raises for bad input."""
import zlib

import numpy as np
import pytest
import torch

import tapegrad
from test_errors import check_same_error
from test_nn_modules import assert_close, check_same_repr, copy_weights

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")

# Recurrences and attention chain many float32 roundings, so their float32 results are compared a bit looser.
CHAIN_TOL = {"float32": dict(rtol=1e-4, atol=1e-5), "float64": dict(rtol=1e-7, atol=1e-10)}


def assert_chain_close(ours, ref, dtype):
    if ref is None:  # a gradient torch leaves unset
        assert ours is None
        return
    assert tuple(ours.shape) == tuple(ref.shape)
    assert str(ours.dtype) == str(ref.dtype)
    np.testing.assert_allclose(ours.detach().numpy(), ref.detach().numpy(), **CHAIN_TOL[dtype])


def _flatten(value):
    if isinstance(value, (tuple, list)):
        return [t for v in value for t in _flatten(v)]
    return [] if value is None else [value]


def _to_lib(lib, value):
    """NumPy arrays (nested in tuples, or None) as lib tensors; floating ones require grad."""
    if isinstance(value, tuple):
        return tuple(_to_lib(lib, v) for v in value)
    if isinstance(value, np.ndarray):
        return lib.tensor(value, requires_grad=value.dtype.kind == "f")
    return value


def check_module_against_torch(name, make, inputs, dtype, randomize=True, kwargs=None):
    """make(lib) built in both libraries with torch's (randomised) weights: every output, input gradient and
    parameter gradient agree. inputs: NumPy arrays, tuples of them or None, passed positionally; kwargs:
    keyword arguments, NumPy arrays among them passed as tensors."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    ref = make(torch).to(getattr(torch, dtype))
    ours = make(tapegrad).to(getattr(tapegrad, dtype))
    if randomize:
        with torch.no_grad():
            for p in ref.parameters():
                p.copy_(torch.tensor(rng.uniform(-0.8, 0.8, tuple(p.shape)).astype(dtype)))
    copy_weights(ours, ref)
    results = []
    for model, lib in ((ours, tapegrad), (ref, torch)):
        args = [_to_lib(lib, x) for x in inputs]
        named = {k: _to_lib(lib, v) for k, v in (kwargs or {}).items()}
        outs = _flatten(model(*args, **named))
        loss = sum((o * lib.tensor(np.linspace(-1, 2, o.numel()).reshape(tuple(o.shape)).astype(dtype))).sum()
                   for o in outs if o.is_floating_point())
        loss.backward()
        grads = [t.grad for t in _flatten(args) + _flatten(list(named.values()))
                 if isinstance(t, lib.Tensor) and t.requires_grad]
        results.append(outs + grads + [p.grad for p in model.parameters()])
    assert len(results[0]) == len(results[1])
    for o, r in zip(*results):
        assert_chain_close(o, r, dtype)


def _randn(name, *shape, dtype="float64"):
    return np.random.default_rng(zlib.crc32(name.encode())).standard_normal(shape).astype(dtype)


# (module factory, input shape (seq first unless batch_first), hidden state shapes or None)
RNNS = {
    "rnn_tanh": (lambda L: L.nn.RNN(4, 5), (6, 3, 4), None),
    "rnn_relu_2layer_h0": (lambda L: L.nn.RNN(4, 5, 2, "relu"), (6, 3, 4), (2, 3, 5)),
    "rnn_bidirectional_batch_first": (lambda L: L.nn.RNN(4, 5, 2, batch_first=True, bidirectional=True),
                                      (3, 6, 4), (4, 3, 5)),
    "rnn_no_bias": (lambda L: L.nn.RNN(4, 5, bias=False), (6, 3, 4), (1, 3, 5)),
    "rnn_unbatched": (lambda L: L.nn.RNN(4, 5, nonlinearity="relu"), (6, 4), (1, 5)),
    "gru": (lambda L: L.nn.GRU(4, 5), (6, 3, 4), None),
    "gru_2layer_bidirectional_h0": (lambda L: L.nn.GRU(4, 5, num_layers=2, bidirectional=True), (6, 3, 4),
                                    (4, 3, 5)),
    "gru_batch_first_no_bias": (lambda L: L.nn.GRU(4, 5, batch_first=True, bias=False), (3, 6, 4), (1, 3, 5)),
    "gru_unbatched_batch_first": (lambda L: L.nn.GRU(4, 5, batch_first=True), (6, 4), (1, 5)),
    "lstm": (lambda L: L.nn.LSTM(4, 5), (6, 3, 4), None),
    "lstm_2layer_h0_c0": (lambda L: L.nn.LSTM(4, 5, 2), (6, 3, 4), ((2, 3, 5), (2, 3, 5))),
    "lstm_bidirectional_batch_first": (lambda L: L.nn.LSTM(4, 5, 3, batch_first=True, bidirectional=True),
                                       (3, 6, 4), ((6, 3, 5), (6, 3, 5))),
    "lstm_proj_no_bias": (lambda L: L.nn.LSTM(4, 5, 2, bias=False, proj_size=3, bidirectional=True), (6, 3, 4),
                          ((4, 3, 3), (4, 3, 5))),
    "lstm_unbatched": (lambda L: L.nn.LSTM(4, 5), (6, 4), ((1, 5), (1, 5))),
    "lstm_dropout_eval": (lambda L: L.nn.LSTM(4, 5, 2, dropout=0.5).eval(), (6, 3, 4), None),
}


def _inputs(name, shape, hidden, dtype):
    inputs = [_randn(name, *shape, dtype=dtype)]
    if hidden is not None:
        if isinstance(hidden[0], tuple):
            inputs.append(tuple(_randn(name + str(i), *s, dtype=dtype) for i, s in enumerate(hidden)))
        else:
            inputs.append(_randn(name + "h", *hidden, dtype=dtype))
    return inputs


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(RNNS))
def test_recurrent_layer_matches_torch(name, dtype):
    make, shape, hidden = RNNS[name]
    check_module_against_torch(name, make, _inputs(name, shape, hidden, dtype), dtype)


CELLS = {
    "rnn_cell": (lambda L: L.nn.RNNCell(4, 5), (3, 4), None),
    "rnn_cell_relu_h": (lambda L: L.nn.RNNCell(4, 5, nonlinearity="relu"), (3, 4), (3, 5)),
    "rnn_cell_unbatched_no_bias": (lambda L: L.nn.RNNCell(4, 5, bias=False), (4,), (5,)),
    "gru_cell": (lambda L: L.nn.GRUCell(4, 5), (3, 4), (3, 5)),
    "gru_cell_zero_state": (lambda L: L.nn.GRUCell(4, 5), (3, 4), None),
    "gru_cell_unbatched": (lambda L: L.nn.GRUCell(4, 5), (4,), (5,)),
    "lstm_cell": (lambda L: L.nn.LSTMCell(4, 5), (3, 4), ((3, 5), (3, 5))),
    "lstm_cell_zero_state_no_bias": (lambda L: L.nn.LSTMCell(4, 5, bias=False), (3, 4), None),
    "lstm_cell_unbatched": (lambda L: L.nn.LSTMCell(4, 5), (4,), ((5,), (5,))),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(CELLS))
def test_cell_matches_torch(name, dtype):
    make, shape, hidden = CELLS[name]
    check_module_against_torch(name, make, _inputs(name, shape, hidden, dtype), dtype)


def test_cell_unrolled_over_a_sequence_matches_torch():
    def unroll(L):
        class Unrolled(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.cell = L.nn.LSTMCell(3, 4)

            def forward(self, xs):
                state = None
                outs = []
                for x in xs.unbind(0):
                    state = self.cell(x, state)
                    outs.append(state[0])
                return L.stack(outs)
        return Unrolled()
    check_module_against_torch("unrolled", unroll, [_randn("unrolled", 5, 2, 3)], "float64")


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU"])
def test_gradcheck(name):
    tapegrad.manual_seed(0)
    layer = getattr(tapegrad.nn, name)(2, 3, 2, bidirectional=True).double()
    x = tapegrad.randn(4, 2, 2, dtype=tapegrad.float64, requires_grad=True)
    h = tapegrad.randn(4, 2, 3, dtype=tapegrad.float64, requires_grad=True)
    if name == "LSTM":
        c = h.detach().clone().requires_grad_()
        assert tapegrad.autograd.gradcheck(lambda x, h, c: layer(x, (h, c))[0], (x, h, c))
    else:
        assert tapegrad.autograd.gradcheck(lambda x, h: layer(x, h)[0], (x, h))


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"])
def test_default_init_and_names_match_torch(name):
    args = (3, 4, 2) if "Cell" not in name else (3, 4)
    kwargs = {} if "Cell" in name else {"bidirectional": True}
    layers = []
    for lib in (tapegrad, torch):
        lib.manual_seed(11)
        layers.append(getattr(lib.nn, name)(*args, **kwargs))
    ours, ref = (dict(m.named_parameters()) for m in layers)
    assert list(ours) == list(ref)
    assert list(layers[0].state_dict()) == list(layers[1].state_dict())
    for key in ref:
        assert_close(ours[key], ref[key], "float32")


def test_all_weights_match_torch():
    ours, ref = tapegrad.nn.GRU(2, 3, 2, bias=False), torch.nn.GRU(2, 3, 2, bias=False)
    assert [[tuple(w.shape) for w in ws] for ws in ours.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in ref.all_weights]
    ours.flatten_parameters()


def test_dropout_between_layers_only_while_training():
    lstm = tapegrad.nn.LSTM(3, 4, 2, dropout=0.5)
    x = tapegrad.randn(5, 2, 3)
    out_a = lstm(x)[0]
    out_b = lstm(x)[0]
    assert not tapegrad.equal(out_a, out_b)
    lstm.eval()
    assert tapegrad.equal(lstm(x)[0], lstm(x)[0])


# ---- the fused LSTM layer: LSTMs without projections over padded batches run each layer and direction as
# one node (MkldnnRnnLayerBackward0, as PyTorch's oneDNN layer), with a C++ step kernel ----

@pytest.mark.parametrize("batch, hidden", [(3, 5), (130, 37)], ids=["small", "rows_across_threads"])
def test_fused_lstm_layer_sizes_match_torch(threads, batch, hidden):
    """130 rows of 4 * 37 gates split across the pool's threads and leave vector tails."""
    make = lambda L: L.nn.LSTM(6, hidden, 2, bidirectional=True)
    check_module_against_torch(f"fused{batch}", make, [_randn("fused", 4, batch, 6, dtype="float32")], "float32")


@pytest.mark.parametrize("used", ["output", "h_n", "c_n"])
def test_fused_lstm_layer_with_one_output_used(used):
    """The layer's other outputs get no gradient (None reaches its backward)."""
    grads = []
    for lib in (tapegrad, torch):
        lib.manual_seed(0)
        layer = lib.nn.LSTM(3, 4, batch_first=True)
        with lib.no_grad():
            for p, value in zip(layer.parameters(), [_randn(f"one{i}", *p.shape) for i, p in
                                                       enumerate(layer.parameters())]):
                p.copy_(lib.tensor(value))
        x = lib.tensor(_randn("one_x", 2, 5, 3), requires_grad=True)
        h0 = lib.tensor(_randn("one_h", 1, 2, 4), requires_grad=True)
        c0 = lib.tensor(_randn("one_c", 1, 2, 4), requires_grad=True)
        layer = layer.double()
        output, (h_n, c_n) = layer(x, (h0, c0))
        chosen = {"output": output, "h_n": h_n, "c_n": c_n}[used]
        (chosen * chosen).sum().backward()
        grads.append([x.grad, h0.grad, c0.grad] + [p.grad for p in layer.parameters()])
    for ours, ref in zip(*grads):
        assert_chain_close(ours, ref, "float64")


def test_fused_lstm_layer_double_backward_matches_torch():
    """Under create_graph the layer's backward goes through the composite steps, so gradients of gradients
    (here of the input gradient's norm) reach the input, the initial state and every weight."""
    results = []
    for lib in (tapegrad, torch):
        lib.manual_seed(0)
        layer = lib.nn.LSTM(3, 4, 2, bidirectional=True).double()
        with lib.no_grad():
            for i, p in enumerate(layer.parameters()):
                p.copy_(lib.tensor(_randn(f"dd{i}", *p.shape)) * 0.5)
        x = lib.tensor(_randn("dd_x", 5, 2, 3), requires_grad=True)
        h0 = lib.tensor(_randn("dd_h", 4, 2, 4), requires_grad=True)
        c0 = lib.tensor(_randn("dd_c", 4, 2, 4), requires_grad=True)
        output, (h_n, c_n) = layer(x, (h0, c0))
        loss = (output ** 2).sum() + h_n.sum() + (c_n * c_n).sum()
        (grad_x,) = lib.autograd.grad(loss, [x], create_graph=True)
        (grad_x ** 2).sum().backward()
        results.append([grad_x, x.grad, h0.grad, c0.grad] + [p.grad for p in layer.parameters()])
    for ours, ref in zip(*results):
        assert_chain_close(ours, ref, "float64")


def test_fused_lstm_layer_node_name_and_inplace_check():
    layer = tapegrad.nn.LSTM(3, 4)
    output, (h_n, c_n) = layer(tapegrad.randn(5, 2, 3))
    names, node = [], output.grad_fn
    while node is not None:
        names.append(node.name())
        node = node.next_functions[0][0] if node.next_functions else None
    assert "MkldnnRnnLayerBackward0" in names
    output.mul_(2)  # the layer saved its output for backward, as torch does
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        h_n.sum().backward()


@pytest.mark.parametrize("case", ["gates_not_3d", "gates_not_4h", "state_shape", "w_hh_shape", "b_hh_shape",
                                  "dtype", "integer"])
def test_fused_lstm_layer_rejects_inconsistent_arguments(case):
    f32 = tapegrad.float32
    gates, h, c = tapegrad.zeros(2, 3, 8), tapegrad.zeros(3, 2), tapegrad.zeros(3, 2)
    w, b = tapegrad.zeros(8, 2), tapegrad.zeros(8)
    args = {"gates_not_3d": (tapegrad.zeros(6, 8), h, c, w, b), "gates_not_4h": (tapegrad.zeros(2, 3, 6), h, c, w, b),
            "state_shape": (gates, tapegrad.zeros(2, 2), c, w, b), "w_hh_shape": (gates, h, c, tapegrad.zeros(2, 8), b),
            "b_hh_shape": (gates, h, c, w, tapegrad.zeros(4)), "dtype": (gates, h.double(), c, w, b),
            "integer": (gates.long(), h.long(), c.long(), w.long(), b.long())}[case]
    assert gates.dtype == f32
    with pytest.raises(RuntimeError, match="LSTM layer"):
        tapegrad._C._nn._lstm_layer_forward(*args, False)


def test_training_step_through_lstm_converges_like_torch():
    losses = []
    for lib in (tapegrad, torch):
        lib.manual_seed(3)
        model = lib.nn.LSTM(2, 6, batch_first=True)
        head = lib.nn.Linear(6, 1)
        params = list(model.parameters()) + list(head.parameters())
        opt = lib.optim.Adam(params, lr=0.05)
        x = lib.tensor(_randn("train", 4, 7, 2, dtype="float32"))
        y = x.sum(1)[:, :1]
        run = []
        for _ in range(5):
            opt.zero_grad()
            out, _ = model(x)
            loss = ((head(out[:, -1]) - y) ** 2).mean()
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)


REPRS = [
    "lib.nn.RNN(3, 4)",
    "lib.nn.RNN(3, 4, 2, 'relu', bidirectional=True, dropout=0.1)",
    "lib.nn.LSTM(3, 4, proj_size=2, batch_first=True, bias=False)",
    "lib.nn.GRU(3, 4, num_layers=3)",
    "lib.nn.RNNCell(3, 4, nonlinearity='relu')",
    "lib.nn.LSTMCell(3, 4, bias=False)",
    "lib.nn.GRUCell(3, 4)",
]


@pytest.mark.parametrize("code", REPRS)
@pytest.mark.filterwarnings("ignore")
def test_repr_matches_torch(code):
    check_same_repr(code)


def test_dropout_with_one_layer_warns_like_torch():
    for lib in (tapegrad, torch):
        with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1, but got "
                                             "dropout=0.2 and num_layers=1"):
            lib.nn.GRU(2, 3, dropout=0.2)


ERRORS = [
    "lib.nn.LSTM(3, 4, dropout=1.5)",
    "lib.nn.LSTM(3, 4, dropout=True)",
    "lib.nn.LSTM(3, 4.0)",
    "lib.nn.LSTM(0, 4)",
    "lib.nn.LSTM(3, 4, num_layers=0)",
    "lib.nn.LSTM(3, 4, bias=1)",
    "lib.nn.LSTM(3, 4, proj_size=4)",
    "lib.nn.LSTM(3, 4, proj_size=-1)",
    "lib.nn.GRU(3, 4, proj_size=2)",
    "lib.nn.RNN(3, 4, nonlinearity='sigmoid')",
    "lib.nn.RNN(3, 4)(lib.zeros(2, 3, 4))",
    "lib.nn.LSTM(3, 4)(lib.zeros(5, 2, 3, 1))",
    "lib.nn.GRU(3, 4)(lib.zeros(5))",
    "lib.nn.LSTM(3, 4)(lib.zeros(5, 2, 3, dtype=lib.float64))",
    "lib.nn.GRU(3, 4)(lib.zeros(5, 2, 3), lib.zeros(1, 3, 4))",
    "lib.nn.GRU(3, 4)(lib.zeros(5, 2, 3), lib.zeros(3, 4))",
    "lib.nn.RNN(3, 4)(lib.zeros(5, 3), lib.zeros(1, 1, 4))",
    "lib.nn.LSTM(3, 4)(lib.zeros(5, 2, 3), (lib.zeros(1, 2, 4), lib.zeros(1, 3, 4)))",
    "lib.nn.LSTM(3, 4)(lib.zeros(5, 2, 3), (lib.zeros(1, 2, 5), lib.zeros(1, 2, 4)))",
    "lib.nn.LSTM(3, 4)(lib.zeros(5, 2, 3), (lib.zeros(2, 4), lib.zeros(2, 4)))",
    "lib.nn.LSTM(3, 4)(lib.zeros(5, 3), (lib.zeros(1, 1, 4), lib.zeros(1, 4)))",
    "lib.nn.LSTMCell(4, 3)(lib.zeros(2, 5))",
    "lib.nn.LSTMCell(4, 3)(lib.zeros(2, 4), (lib.zeros(3, 3), lib.zeros(3, 3)))",
    "lib.nn.LSTMCell(4, 3)(lib.zeros(2, 4), (lib.zeros(2, 4), lib.zeros(2, 3)))",
    "lib.nn.LSTMCell(4, 3)(lib.zeros(2, 2, 4))",
    "lib.nn.LSTMCell(4, 3)(lib.zeros(2, 4), (lib.zeros(2, 3), lib.zeros(1, 2, 3)))",
    "lib.nn.GRUCell(4, 3)(lib.zeros(2, 4), lib.zeros(2, 5))",
    "lib.nn.GRUCell(4, 3)(lib.zeros(2, 4), lib.zeros(1, 2, 3))",
    "lib.nn.RNNCell(4, 3)(lib.zeros(1, 2, 4))",
]


@pytest.mark.parametrize("code", ERRORS)
@pytest.mark.filterwarnings("ignore")
def test_error_matches_torch(code):
    check_same_error(code)
