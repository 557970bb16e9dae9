"""Recurrent layers (RNN, LSTM, GRU) and their cells, composed from linear, sigmoid and tanh as PyTorch's CPU
path does: each layer projects the whole input sequence once, then steps through time with the hidden state."""
import math
import numbers
import warnings

from ... import _C, autograd
from ...autograd.function import Function
from ...grad_mode import enable_grad
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


# ---- one time step of each cell, given the input's projection x_proj = x @ w_ih.T + b_ih ----

def _rnn_tanh_step(x_proj, hidden, w_hh, b_hh):
    return _C.tanh(x_proj + F.linear(hidden, w_hh, b_hh))


def _rnn_relu_step(x_proj, hidden, w_hh, b_hh):
    return (x_proj + F.linear(hidden, w_hh, b_hh)).relu()


def _gru_step(x_proj, hidden, w_hh, b_hh):
    x_r, x_z, x_n = x_proj.chunk(3, -1)
    h_r, h_z, h_n = F.linear(hidden, w_hh, b_hh).chunk(3, -1)
    reset = _C.sigmoid(x_r + h_r)
    update = _C.sigmoid(x_z + h_z)
    candidate = _C.tanh(x_n + reset * h_n)
    return candidate + update * (hidden - candidate)


def _lstm_step(x_proj, state, w_hh, b_hh, w_hr=None):
    hidden, cell = state
    in_gate, forget_gate, cell_gate, out_gate = (x_proj + F.linear(hidden, w_hh, b_hh)).chunk(4, -1)
    cell = _C.sigmoid(forget_gate) * cell + _C.sigmoid(in_gate) * _C.tanh(cell_gate)
    hidden = _C.sigmoid(out_gate) * _C.tanh(cell)
    if w_hr is not None:
        hidden = F.linear(hidden, w_hr)
    return hidden, cell


_STEPS = {"LSTM": _lstm_step, "GRU": _gru_step, "RNN_TANH": _rnn_tanh_step, "RNN_RELU": _rnn_relu_step}


def _lstm_steps(input_gates, h0, c0, w_hh, b_hh, reverse):
    """The LSTM layer's composite form over input_gates [T, B, 4H]: what _LSTMLayer computes in one kernel."""
    state, outputs = (h0, c0), [None] * input_gates.size(0)
    for t in (reversed if reverse else iter)(range(input_gates.size(0))):
        state = _lstm_step(input_gates[t], state, w_hh, b_hh)
        outputs[t] = state[0]
    return _C.stack(outputs), state[0], state[1]


class _LSTMLayer(Function):
    """One direction of an LSTM layer without projections over a padded batch, as one node (PyTorch's CPU
    LSTM is oneDNN's fused layer): the steps run in C++, and backward computes w_hh's gradient in one GEMM over
    all steps rather than one per step. Under create_graph, backward goes through the composite steps."""
    _node_name = "MkldnnRnnLayerBackward0"

    @staticmethod
    def forward(ctx, input_gates, h0, c0, w_hh, b_hh, reverse):
        output, h_n, c_n, gates, cells = _C._nn._lstm_layer_forward(input_gates, h0, c0, w_hh, b_hh, reverse)
        ctx.save_for_backward(input_gates, h0, c0, w_hh, b_hh, output, gates, cells)
        ctx.reverse = reverse
        ctx.set_materialize_grads(False)
        return output, h_n, c_n

    @staticmethod
    def backward(ctx, grad_output, grad_hn, grad_cn):
        input_gates, h0, c0, w_hh, b_hh, output, gates, cells = ctx.saved_tensors
        if _C.is_grad_enabled():  # create_graph: gradients that are themselves differentiable
            return _composite_lstm_layer_grads(ctx, (grad_output, grad_hn, grad_cn))
        grads = _C._nn._lstm_layer_backward(grad_output, grad_hn, grad_cn, gates, cells, output, h0, c0, w_hh,
                                            b_hh is not None, ctx.reverse)
        return (*grads, None)


def _composite_lstm_layer_grads(ctx, grads):
    """_LSTMLayer's gradients through the composite steps recomputed from its saved inputs, recorded."""
    if all(g is None for g in grads):
        return (None,) * 6
    input_gates, h0, c0, w_hh, b_hh = ctx.saved_tensors[:5]
    inputs = [(i, t) for i, t in enumerate((input_gates, h0, c0, w_hh, b_hh)) if ctx.needs_input_grad[i]]
    with enable_grad():
        outputs = _lstm_steps(input_gates, h0, c0, w_hh, b_hh, ctx.reverse)
    pairs = [(out, g) for out, g in zip(outputs, grads) if g is not None]
    found = autograd.grad([out for out, _ in pairs], [t for _, t in inputs], [g for _, g in pairs],
                          create_graph=True, allow_unused=True)
    result = [None] * 6
    for (i, _), g in zip(inputs, found):
        result[i] = g
    return tuple(result)


def _fused_lstm_direction(data, length, state, weights, reverse):
    """_run_direction for an LSTM layer without projections over `length` equal batches, through _LSTMLayer."""
    w_ih, w_hh, b_ih, b_hh = weights
    batch = data.size(0) // length
    input_gates = F.linear(data, w_ih, b_ih).view(length, batch, w_hh.size(0))
    output, h_n, c_n = _LSTMLayer.apply(input_gates, state[0], state[1], w_hh, b_hh, reverse)
    return output.view(length * batch, output.size(-1)), (h_n, c_n)


def _state_rows(state, start, end):
    return tuple(s[start:end] for s in state) if isinstance(state, tuple) else state[start:end]


def _cat_state_rows(states):
    if isinstance(states[0], tuple):
        return tuple(_C.cat(parts) for parts in zip(*states))
    return _C.cat(states)


def _run_direction(step, data, batch_sizes, state, weights, reverse):
    """Steps one layer in one direction over time-major packed rows (the first batch_sizes[t] sequences run at
    step t, as in a PackedSequence; a padded batch is the case of equal sizes); returns the output rows and the
    final state of every sequence, as torch's PackedLayer / ReversedPackedLayer compute them. weights =
    (w_ih, w_hh, b_ih, b_hh, extra...) with None for absent biases."""
    w_ih, w_hh, b_ih, b_hh, *extra = weights
    if step is _lstm_step and not extra and data.numel() > 0 and w_hh.numel() > 0 and \
            all(size == batch_sizes[0] for size in batch_sizes):
        return _fused_lstm_direction(data, len(batch_sizes), state, weights, reverse)
    x_proj = F.linear(data, w_ih, b_ih).split(batch_sizes)
    outputs = [None] * len(x_proj)
    if reverse:  # starts with the fewest sequences and takes on each longer one's initial state as it begins
        initial, running = state, batch_sizes[-1]
        state = _state_rows(initial, 0, running)
        for t in reversed(range(len(x_proj))):
            if batch_sizes[t] > running:
                state = _cat_state_rows([state, _state_rows(initial, running, batch_sizes[t])])
                running = batch_sizes[t]
            state = step(x_proj[t], state, w_hh, b_hh, *extra)
            outputs[t] = state[0] if isinstance(state, tuple) else state
        return _C.cat(outputs), state
    finished, running = [], batch_sizes[0]
    for t in range(len(x_proj)):
        if batch_sizes[t] < running:  # the sequences that just ended keep their state
            finished.append(_state_rows(state, batch_sizes[t], running))
            state = _state_rows(state, 0, batch_sizes[t])
            running = batch_sizes[t]
        state = step(x_proj[t], state, w_hh, b_hh, *extra)
        outputs[t] = state[0] if isinstance(state, tuple) else state
    return _C.cat(outputs), _cat_state_rows([state] + finished[::-1]) if finished else state


class RNNBase(Module):
    """The parameters, checks and layer/direction loop shared by RNN, LSTM and GRU."""

    __constants__ = ["mode", "input_size", "hidden_size", "num_layers", "bias", "batch_first", "dropout",
                     "bidirectional", "proj_size"]

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        _check_rnn_options(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size)
        gate_size = _GATES[mode] * hidden_size
        num_directions = 2 if bidirectional else 1
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names = []
        self._all_weights = []
        for layer in range(num_layers):
            for direction in range(num_directions):
                layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
                shapes = [("weight_ih_l{}{}", (gate_size, layer_input_size)),
                          ("weight_hh_l{}{}", (gate_size, real_hidden_size))]
                if bias:
                    shapes += [("bias_ih_l{}{}", (gate_size,)), ("bias_hh_l{}{}", (gate_size,))]
                if proj_size > 0:
                    shapes += [("weight_hr_l{}{}", (proj_size, hidden_size))]
                suffix = "_reverse" if direction == 1 else ""
                names = [name.format(layer, suffix) for name, _ in shapes]
                for name, (_, shape) in zip(names, shapes):
                    setattr(self, name, Parameter(_C.empty(shape, device=device, dtype=dtype)))
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self):
        """A no-op, as PyTorch's is off cuDNN: the weights are always used as they are."""

    @property
    def _flat_weights(self):
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self):
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_weights(self, names):
        """(w_ih, w_hh, b_ih, b_hh[, w_hr]) of one layer and direction, with None for absent biases."""
        weights = [getattr(self, name) for name in names]
        if not self.bias:
            weights[2:2] = [None, None]
        return weights

    def check_input(self, input, batch_sizes=None):
        weight_dtype = getattr(self, self._flat_weights_names[0]).dtype
        if input.dtype != weight_dtype:
            raise ValueError(
                f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                f"Convert input: input.to({weight_dtype}), or convert model: model.to({input.dtype})")
        expected_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_dim:
            raise RuntimeError(f"input must have {expected_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(
                f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got {input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes=None):
        mini_batch = _mini_batch(input, batch_sizes, self.batch_first)
        num_directions = 2 if self.bidirectional else 1
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return (self.num_layers * num_directions, mini_batch, size)

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        if tuple(hx.size()) != expected_hidden_size:
            raise RuntimeError(msg.format(expected_hidden_size, list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes=None):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def _zeros_state(self, input, size, batch=None):
        num_directions = 2 if self.bidirectional else 1
        if batch is None:
            batch = input.size(0) if self.batch_first else input.size(1)
        return _C.zeros(self.num_layers * num_directions, batch, size, dtype=input.dtype, device=input.device)

    def _run(self, input, hidden):
        """All layers and directions over a padded batch; hidden is a tensor (or an (h, c) pair for LSTM) of
        shape (layers * directions, N, H). Returns the last layer's output and the stacked final states."""
        steps = input.transpose(0, 1) if self.batch_first else input
        length, batch = steps.size(0), steps.size(1)
        output, hidden = self._run_packed(steps.reshape(length * batch, steps.size(2)), [batch] * length, hidden)
        output = output.reshape(length, batch, output.size(-1))
        return output.transpose(0, 1) if self.batch_first else output, hidden

    def _run_packed(self, data, batch_sizes, hidden):
        """All layers and directions over packed rows (see _run_direction)."""
        step = _STEPS[self.mode]
        is_lstm = self.mode == "LSTM"
        num_directions = 2 if self.bidirectional else 1
        layer_input = data
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(num_directions):
                index = layer * num_directions + direction
                state = (hidden[0][index], hidden[1][index]) if is_lstm else hidden[index]
                weights = self._layer_weights(self._all_weights[index])
                output, state = _run_direction(step, layer_input, batch_sizes, state, weights, direction == 1)
                outputs.append(output)
                finals.append(state)
            layer_input = outputs[0] if num_directions == 1 else _C.cat(outputs, -1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        if is_lstm:
            return layer_input, (_C.stack([h for h, _ in finals]), _C.stack([c for _, c in finals]))
        return layer_input, _C.stack(finals)

    def permute_hidden(self, hx, permutation):
        if permutation is None:
            return hx
        if isinstance(hx, tuple):
            return tuple(h.index_select(1, permutation) for h in hx)
        return hx.index_select(1, permutation)

    def _forward_packed(self, input, hx):
        """forward on a PackedSequence: the output is packed the same way, hx and the final state are in the
        caller's batch order (sorted_indices / unsorted_indices undo the packing's sort)."""
        data, batch_sizes, sorted_indices, unsorted_indices = input
        sizes = batch_sizes.tolist()
        if hx is None:
            size = self.proj_size if self.proj_size > 0 else self.hidden_size
            hx = self._zeros_state(data, size, sizes[0])
            if self.mode == "LSTM":
                hx = (hx, self._zeros_state(data, self.hidden_size, sizes[0]))
        else:
            hx = self.permute_hidden(hx, sorted_indices)
        self.check_forward_args(data, hx, batch_sizes)
        output, hidden = self._run_packed(data, sizes, hx)
        return PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices), \
            self.permute_hidden(hidden, unsorted_indices)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)


def _mini_batch(input, batch_sizes, batch_first):
    if batch_sizes is not None:
        return int(batch_sizes[0])
    return input.size(0) if batch_first else input.size(1)


def _check_rnn_options(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size):
    if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
        raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                         "being zeroed")
    if dropout > 0 and num_layers == 1:
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                      f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                      stacklevel=3)
    for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                              ("input_size", input_size, int), ("hidden_size", hidden_size, int)):
        if not isinstance(value, kind):
            raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")
        if kind is int and value <= 0:
            raise ValueError(f"{name} must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")
    if mode not in _GATES:
        raise ValueError("Unrecognized RNN mode: " + mode)


def _batch_unbatched(name, input, hx, batch_first):
    """Adds the batch dim to a 2-D input (and its 2-D hx) after the checks PyTorch makes; returns
    (input, hx, is_batched)."""
    if input.dim() not in (2, 3):
        noun = " tensor" if name == "RNN" else ""  # as PyTorch words each
        raise ValueError(f"{name}: Expected input to be 2D or 3D, got {input.dim()}D{noun} instead")
    is_batched = input.dim() == 3
    if not is_batched:
        input = input.unsqueeze(0 if batch_first else 1)
        if hx is not None:
            if hx.dim() != 2:
                raise RuntimeError(f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D tensor")
            hx = hx.unsqueeze(1)
    elif hx is not None and hx.dim() != 3:
        raise RuntimeError(f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
    return input, hx, is_batched


class _SingleStateRNN(RNNBase):
    """RNN and GRU: one hidden state tensor."""

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        name = "GRU" if self.mode == "GRU" else "RNN"
        input, hx, is_batched = _batch_unbatched(name, input, hx, self.batch_first)
        if hx is None:
            hx = self._zeros_state(input, self.hidden_size)
        self.check_forward_args(input, hx)
        output, hidden = self._run(input, hx)
        if not is_batched:
            output = output.squeeze(0 if self.batch_first else 1)
            hidden = hidden.squeeze(1)
        return output, hidden


class RNN(_SingleStateRNN):
    """Elman RNN: h_t = nonlinearity(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), nonlinearity 'tanh' or 'relu'."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if self.nonlinearity == "tanh":
            mode = "RNN_TANH"
        elif self.nonlinearity == "relu":
            mode = "RNN_RELU"
        else:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(mode, *args, **kwargs)


class GRU(_SingleStateRNN):
    """Gated recurrent unit with PyTorch's gate order (reset, update, new)."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory with PyTorch's gate order (input, forget, cell, output) and optional projection."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes=None):
        mini_batch = _mini_batch(input, batch_sizes, self.batch_first)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.hidden_size)

    def check_forward_args(self, input, hidden, batch_sizes=None):
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def forward(self, input, hx=None):
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        if input.dim() not in (2, 3):
            raise ValueError(f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead")
        is_batched = input.dim() == 3
        batch_dim = 0 if self.batch_first else 1
        if not is_batched:
            input = input.unsqueeze(batch_dim)
        if hx is None:
            hx = (self._zeros_state(input, self.proj_size if self.proj_size > 0 else self.hidden_size),
                  self._zeros_state(input, self.hidden_size))
        else:
            expected = 3 if is_batched else 2
            if hx[0].dim() != expected or hx[1].dim() != expected:
                kind = "batched 3-D" if is_batched else "unbatched 2-D"
                raise RuntimeError(f"For {kind} input, hx and cx should also be {expected}-D but got "
                                   f"({hx[0].dim()}-D, {hx[1].dim()}-D) tensors")
            if not is_batched:
                hx = (hx[0].unsqueeze(1), hx[1].unsqueeze(1))
        self.check_forward_args(input, hx)
        output, hidden = self._run(input, hx)
        if not is_batched:
            output = output.squeeze(batch_dim)
            hidden = (hidden[0].squeeze(1), hidden[1].squeeze(1))
        return output, hidden


# ---- cells ----

class RNNCellBase(Module):
    __constants__ = ["input_size", "hidden_size", "bias"]

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(_C.empty((num_chunks * hidden_size, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(_C.empty((num_chunks * hidden_size, hidden_size), device=device, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(_C.empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(_C.empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    reset_parameters = RNNBase.reset_parameters

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def _check_dims(self, name, input, states):
        """PyTorch's rank checks; states maps a label ("hidden", "hx[0]") to a state tensor or None."""
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for label, state in states:
            if state is not None and state.dim() not in (1, 2):
                raise ValueError(f"{name}: Expected {label} to be 1D or 2D, got {state.dim()}D instead")

    def _step(self, step, input, states, *extra):
        """Runs one step on a batched or unbatched input; states is the list of state tensors (None for
        zeros). Returns the step's result with the batch dim removed again for unbatched input."""
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
            states = [None if s is None else s.unsqueeze(0) for s in states]
        zeros = _C.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
        states = [zeros if s is None else s for s in states]
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")
        for i, state in enumerate(states):
            if input.size(0) != state.size(0):
                raise RuntimeError(
                    f"Input batch size {input.size(0)} doesn't match hidden{i} batch size {state.size(0)}")
            if state.size(1) != self.hidden_size:
                raise RuntimeError(
                    f"hidden{i} has inconsistent hidden_size: got {state.size(1)}, expected {self.hidden_size}")
        x_proj = F.linear(input, self.weight_ih, self.bias_ih)
        result = step(x_proj, states[0] if len(states) == 1 else tuple(states), self.weight_hh, self.bias_hh)
        if is_batched:
            return result
        return tuple(r.squeeze(0) for r in result) if isinstance(result, tuple) else result.squeeze(0)


class RNNCell(RNNCellBase):
    __constants__ = ["input_size", "hidden_size", "bias", "nonlinearity"]

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        self._check_dims("RNNCell", input, [("hidden", hx)])
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        step = _rnn_tanh_step if self.nonlinearity == "tanh" else _rnn_relu_step
        return self._step(step, input, [hx])


class LSTMCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        states = [None, None] if hx is None else list(hx)
        self._check_dims("LSTMCell", input, [(f"hx[{i}]", s) for i, s in enumerate(states)])
        return self._step(_lstm_step, input, states)


class GRUCell(RNNCellBase):
    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        self._check_dims("GRUCell", input, [("hidden", hx)])
        return self._step(_gru_step, input, [hx])
