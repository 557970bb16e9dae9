"""scaled_dot_product_attention, MultiheadAttention and the Transformer encoder against PyTorch: outputs and all
gradients from torch's weights (eval mode or dropout 0), masks of both kinds, default init, reprs and errors."""
import warnings

import numpy as np
import pytest
import torch

import tapegrad
from test_errors import check_same_error
from test_nn_modules import check_default_init, check_same_repr
from test_nn_rnn import _randn, assert_chain_close, check_module_against_torch


def _sdpa_case(lib, arrays, mask_is_constant=False, **kwargs):
    tensors = [lib.tensor(a, requires_grad=a.dtype.kind == "f" and not (i == 3 and mask_is_constant))
               for i, a in enumerate(arrays)]
    q, k, v = tensors[:3]
    if len(tensors) > 3:
        kwargs["attn_mask"] = tensors[3]
    out = lib.nn.functional.scaled_dot_product_attention(q, k, v, **kwargs)
    (out * lib.tensor(np.linspace(-1, 2, out.numel()).reshape(tuple(out.shape)).astype(arrays[0].dtype))).sum() \
        .backward()
    return [out] + [t.grad for t in tensors if t.requires_grad]


def _causal_bool(length, source_length):
    return np.tril(np.ones((length, source_length), dtype=bool))


SDPA = {
    "plain": (((2, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)), None, {}),
    "three_dims": (((3, 4, 5), (3, 6, 5), (3, 6, 5)), None, {}),
    "broadcast_batch": (((2, 3, 4, 5), (1, 3, 6, 5), (1, 3, 6, 5)), None, {}),
    "causal": (((2, 2, 5, 4), (2, 2, 5, 4), (2, 2, 5, 4)), None, {"is_causal": True}),
    "causal_rectangular": (((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4)), None, {"is_causal": True}),
    "bool_mask": (((2, 2, 4, 5), (2, 2, 6, 5), (2, 2, 6, 5)), "bool", {}),
    "float_mask": (((2, 2, 4, 5), (2, 2, 6, 5), (2, 2, 6, 5)), "float", {}),
    "fully_masked_row": (((1, 2, 4, 5), (1, 2, 6, 5), (1, 2, 6, 5)), "dead_row", {}),
    "scale": (((2, 4, 5), (2, 6, 5), (2, 6, 3)), None, {"scale": 0.3}),
    "gqa": (((2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 5)), None, {"enable_gqa": True}),
    "causal_and_float_mask": (((2, 2, 4, 5), (2, 2, 6, 5), (2, 2, 6, 5)), "float",
                              {"is_causal": True, "mask_is_constant": True}),
}


def _sdpa_arrays(name, dtype):
    shapes, mask, _ = SDPA[name]
    arrays = [_randn(name + str(i), *s, dtype=dtype) for i, s in enumerate(shapes)]
    length, source_length = shapes[0][-2], shapes[1][-2]
    if mask == "bool":
        arrays.append(_randn(name + "m", length, source_length) > -0.5)
        arrays[-1][:, 0] = True  # every query keeps a key
    elif mask == "float":
        arrays.append(_randn(name + "m", length, source_length, dtype=dtype))
    elif mask == "dead_row":
        keep = _causal_bool(length, source_length)
        keep[2] = False
        arrays.append(keep)
    return arrays


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(SDPA))
def test_scaled_dot_product_attention_matches_torch(name, dtype):
    arrays = _sdpa_arrays(name, dtype)
    kwargs = SDPA[name][2]
    for o, r in zip(_sdpa_case(tapegrad, arrays, **kwargs), _sdpa_case(torch, arrays, **kwargs)):
        assert_chain_close(o, r, dtype)


def test_scaled_dot_product_attention_gradcheck():
    q, k, v, mask = (tapegrad.tensor(a, requires_grad=True) for a in _sdpa_arrays("float_mask", "float64"))
    sdpa = tapegrad.nn.functional.scaled_dot_product_attention
    assert tapegrad.autograd.gradcheck(lambda q, k, v, m: sdpa(q, k, v, attn_mask=m), (q, k, v, mask))
    assert tapegrad.autograd.gradcheck(lambda q, k, v: sdpa(q, k, v, is_causal=True), (q, k, v))


def test_scaled_dot_product_attention_dropout():
    q, k, v = (tapegrad.tensor(a) for a in _sdpa_arrays("plain", "float32"))
    sdpa = tapegrad.nn.functional.scaled_dot_product_attention
    tapegrad.manual_seed(0)
    first = sdpa(q, k, v, dropout_p=0.5)
    tapegrad.manual_seed(0)
    assert tapegrad.equal(first, sdpa(q, k, v, dropout_p=0.5))
    assert not tapegrad.allclose(first, sdpa(q, k, v))
    assert tapegrad.equal(sdpa(q, k, v, dropout_p=1.0), tapegrad.zeros(2, 3, 4, 7))


SDPA_ERRORS = [
    "k = lib.ones(2, 3, 6, 5)\nlib.nn.functional.scaled_dot_product_attention(lib.ones(2, 3, 4, 5), k, "
    "lib.ones(2, 3, 6, 7), attn_mask=lib.ones(4, 6).tril() > 0, is_causal=True)",
    "k = lib.ones(3, 6, 5)\nlib.nn.functional.scaled_dot_product_attention(lib.ones(3, 4, 5), k, k, "
    "attn_mask=lib.zeros(4, 6), is_causal=True)",
    "q = lib.ones(2, 3, 4, 5)\nlib.nn.functional.scaled_dot_product_attention(q, lib.ones(2, 3, 6, 4), q)",
    "q = lib.ones(2, 3, 4, 5)\nlib.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=lib.ones(4, 4, "
    "dtype=lib.int64))",
    "q = lib.ones(2, 3, 4, 5)\nlib.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=lib.ones(4, 4, "
    "dtype=lib.float64))",
    "q = lib.ones(2, 3, 4, 5)\nlib.nn.functional.scaled_dot_product_attention(q, q, q.double())",
    "q = lib.ones(5)\nlib.nn.functional.scaled_dot_product_attention(q, q, q)",
    "q = lib.ones(2, 3, 4, 5)\nlib.nn.functional.scaled_dot_product_attention(q, q, q, dropout_p=1.5)",
    "q = lib.ones(2, 3, 4, 5)\nlib.nn.functional.scaled_dot_product_attention(q, q, q, attn_mask=lib.ones(4, 5))",
]


@pytest.mark.parametrize("code", SDPA_ERRORS)
def test_scaled_dot_product_attention_error_matches_torch(code):
    check_same_error(code)


# ---- MultiheadAttention ----

def _self_attention(**options):
    """MultiheadAttention called as self-attention (query, key and value the same tensor)."""
    def make(L):
        class SelfAttention(L.nn.Module):
            def __init__(self):
                super().__init__()
                self.attn = L.nn.MultiheadAttention(**options)

            def forward(self, x, **kwargs):
                return self.attn(x, x, x, **kwargs)
        return SelfAttention()
    return make


def _mask(name, *shape, kind="bool"):
    if kind == "bool":
        mask = _randn(name, *shape) > 0.6
        mask[..., 0] = False  # every query keeps a key
        return mask
    return _randn(name, *shape, dtype=kind)


# name: (factory, input shapes, forward kwargs built per dtype)
MHA = {
    "self_seq_first": (_self_attention(embed_dim=8, num_heads=2), [(5, 3, 8)], lambda d: {}),
    "self_batch_first_no_weights": (_self_attention(embed_dim=8, num_heads=4, batch_first=True), [(3, 5, 8)],
                                    lambda d: {"need_weights": False}),
    "self_per_head_weights": (_self_attention(embed_dim=8, num_heads=2), [(5, 3, 8)],
                              lambda d: {"average_attn_weights": False}),
    "self_key_padding_bool": (_self_attention(embed_dim=8, num_heads=2, batch_first=True), [(3, 5, 8)],
                              lambda d: {"key_padding_mask": _mask("kpm", 3, 5)}),
    "self_key_padding_float_no_weights": (_self_attention(embed_dim=8, num_heads=2), [(5, 3, 8)],
                                          lambda d: {"key_padding_mask": _mask("kpmf", 3, 5, kind=d),
                                                     "need_weights": False}),
    "self_attn_mask_2d_bool": (_self_attention(embed_dim=8, num_heads=2), [(5, 3, 8)],
                               lambda d: {"attn_mask": _mask("am", 5, 5)}),
    "self_attn_mask_3d_float_and_padding": (
        _self_attention(embed_dim=8, num_heads=2), [(5, 3, 8)],
        lambda d: {"attn_mask": _mask("am3", 6, 5, 5, kind=d), "key_padding_mask": _mask("kp3", 3, 5, kind=d)}),
    "self_causal_hint_no_weights": (
        _self_attention(embed_dim=8, num_heads=2, batch_first=True), [(3, 5, 8)],
        lambda d: {"attn_mask": ~_causal_bool(5, 5), "is_causal": True, "need_weights": False}),
    "self_no_bias": (_self_attention(embed_dim=8, num_heads=2, bias=False), [(5, 3, 8)], lambda d: {}),
    "self_unbatched": (_self_attention(embed_dim=8, num_heads=2), [(5, 8)],
                       lambda d: {"key_padding_mask": _mask("kpu", 5)}),
    "cross_kdim_vdim": (lambda L: L.nn.MultiheadAttention(8, 2, kdim=3, vdim=5), [(4, 2, 8), (6, 2, 3), (6, 2, 5)],
                        lambda d: {}),
    "cross_batch_first_no_weights": (lambda L: L.nn.MultiheadAttention(8, 2, batch_first=True),
                                     [(2, 4, 8), (2, 6, 8), (2, 6, 8)], lambda d: {"need_weights": False}),
    "bias_kv_zero_attn": (lambda L: L.nn.MultiheadAttention(8, 2, add_bias_kv=True, add_zero_attn=True),
                          [(4, 2, 8), (6, 2, 8), (6, 2, 8)],
                          lambda d: {"key_padding_mask": _mask("kbz", 2, 6), "attn_mask": _mask("abz", 4, 6)}),
    "dropout_eval": (lambda L: L.nn.MultiheadAttention(8, 2, dropout=0.5).eval(), [(4, 2, 8), (6, 2, 8), (6, 2, 8)],
                     lambda d: {}),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(MHA))
def test_multihead_attention_matches_torch(name, dtype):
    make, shapes, kwargs = MHA[name]
    inputs = [_randn(name + str(i), *s, dtype=dtype) for i, s in enumerate(shapes)]
    check_module_against_torch(name, make, inputs, dtype, kwargs=kwargs(dtype))


def test_multihead_attention_returns_none_weights_without_need_weights():
    attn = tapegrad.nn.MultiheadAttention(4, 2)
    x = tapegrad.randn(3, 2, 4)
    assert attn(x, x, x, need_weights=False)[1] is None


# ---- Transformer encoder ----

ENCODERS = {
    "post_norm_relu": (lambda L: L.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), (5, 3, 8), lambda d: {}),
    "pre_norm_gelu_batch_first": (
        lambda L: L.nn.TransformerEncoderLayer(8, 4, 12, 0.0, "gelu", batch_first=True, norm_first=True),
        (3, 5, 8), lambda d: {}),
    "eval_causal_mask": (lambda L: L.nn.TransformerEncoderLayer(8, 2, 16).eval(), (5, 3, 8),
                         lambda d: {"src_mask": np.triu(np.full((5, 5), -np.inf, dtype=d), 1), "is_causal": True}),
    "padding_mask_no_bias": (lambda L: L.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, bias=False), (5, 3, 8),
                             lambda d: {"src_key_padding_mask": _mask("epm", 3, 5)}),
    "module_activation_eps": (lambda L: L.nn.TransformerEncoderLayer(8, 2, 16, 0.0, L.nn.GELU(), 1e-3), (5, 3, 8),
                              lambda d: {}),
    "encoder_with_norm": (
        lambda L: L.nn.TransformerEncoder(L.nn.TransformerEncoderLayer(8, 2, 16, 0.0, batch_first=True), 2,
                                          norm=L.nn.LayerNorm(8)),
        (3, 5, 8), lambda d: {"mask": np.triu(np.full((5, 5), -np.inf, dtype=d), 1)}),
    "encoder_padding_eval": (
        lambda L: L.nn.TransformerEncoder(L.nn.TransformerEncoderLayer(8, 2, 16, norm_first=True), 3).eval(),
        (5, 3, 8), lambda d: {"src_key_padding_mask": _mask("epe", 3, 5)}),
    "encoder_unbatched": (lambda L: L.nn.TransformerEncoder(L.nn.TransformerEncoderLayer(8, 2, 16, 0.0), 2),
                          (5, 8), lambda d: {}),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(ENCODERS))
def test_transformer_encoder_matches_torch(name, dtype):
    make, shape, kwargs = ENCODERS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        check_module_against_torch(name, make, [_randn(name, *shape, dtype=dtype)], dtype, kwargs=kwargs(dtype))


@pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors is in prototype stage")
def test_encoder_inference_zeroes_padded_positions_like_torch():
    """PyTorch runs batch_first inference with a right-aligned padding mask on nested tensors, which leaves
    zeros at the padded positions."""
    x = _randn("nested", 2, 4, 8, dtype="float32")
    padding = np.array([[False, False, True, True], [False, False, False, False]])
    outs = []
    for lib in (tapegrad, torch):
        lib.manual_seed(0)
        encoder = lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2).eval()
        with lib.no_grad():
            outs.append(encoder(lib.tensor(x), src_key_padding_mask=lib.tensor(padding)))
    assert_chain_close(outs[0], outs[1], "float32")
    assert float(outs[0][0, 2:].abs().sum()) == 0.0


@pytest.mark.parametrize("make", [
    lambda L: L.nn.MultiheadAttention(8, 2),
    lambda L: L.nn.MultiheadAttention(8, 4, bias=False, add_bias_kv=True, kdim=3, vdim=5),
    lambda L: L.nn.TransformerEncoderLayer(8, 2, 16),
])
def test_default_init_matches_torch(make):
    check_default_init(make, 7)


REPRS = [
    "lib.nn.MultiheadAttention(8, 2)",
    "lib.nn.TransformerEncoderLayer(8, 2, 16, activation='gelu')",
    "lib.nn.TransformerEncoder(lib.nn.TransformerEncoderLayer(8, 2, 16), 2, norm=lib.nn.LayerNorm(8))",
]


@pytest.mark.parametrize("code", REPRS)
@pytest.mark.filterwarnings("ignore")
def test_repr_matches_torch(code):
    check_same_repr(code)


@pytest.mark.parametrize("layer, reason", [
    ("lib.nn.TransformerEncoderLayer(8, 2, 16)", "batch_first was not True"),
    ("lib.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, norm_first=True)", "norm_first was True"),
    ("lib.nn.TransformerEncoderLayer(9, 3, 15, batch_first=True)", "num_heads is odd"),
])
def test_encoder_nested_tensor_warning_matches_torch(layer, reason):
    messages = []
    for lib in (tapegrad, torch):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.nn.TransformerEncoder(eval(layer, {"lib": lib}), 2)
        messages.append([str(w.message) for w in caught])
    assert messages[0] == messages[1]
    assert reason in messages[0][0]


MHA_ERRORS = [
    "lib.nn.MultiheadAttention(8, 3)",
    "lib.nn.MultiheadAttention(0, 2)",
    "lib.nn.TransformerEncoderLayer(8, 2, activation='tanh')",
    "m = lib.nn.MultiheadAttention(8, 2)\nx = lib.ones(2, 3, 4, 8)\nm(x, x, x)",
    "m = lib.nn.MultiheadAttention(8, 2)\nm(lib.ones(4, 2, 8), lib.ones(4, 8), lib.ones(4, 8))",
    "m = lib.nn.MultiheadAttention(8, 2)\nx = lib.ones(4, 2, 6)\nm(x, x, x)",
    "m = lib.nn.MultiheadAttention(8, 2)\nx = lib.ones(4, 2, 8)\nm(x, x, x, attn_mask=lib.ones(4, 5, dtype=lib.bool))",
    "m = lib.nn.MultiheadAttention(8, 2)\nx = lib.ones(4, 2, 8)\nm(x, x, x, attn_mask=lib.ones(3, 4, 4))",
    "m = lib.nn.MultiheadAttention(8, 2)\nx = lib.ones(4, 2, 8)\nm(x, x, x, key_padding_mask=lib.ones(3, 4) > 0)",
    "m = lib.nn.MultiheadAttention(8, 2)\nx = lib.ones(4, 2, 8)\nm(x, x, x, key_padding_mask=lib.ones(2, 4).long())",
    "m = lib.nn.MultiheadAttention(8, 2)\nx = lib.ones(4, 2, 8)\nm(x, x, x, key_padding_mask=lib.ones(2, 4, 1) > 0)",
    "m = lib.nn.MultiheadAttention(8, 2)\nx = lib.ones(4, 2, 8)\nm(x, x, x, is_causal=True)",
    "m = lib.nn.MultiheadAttention(8, 2)\nm(lib.ones(4, 2, 8), lib.ones(5, 2, 8), lib.ones(6, 2, 8))",
]


@pytest.mark.parametrize("code", MHA_ERRORS)
def test_attention_module_error_matches_torch(code):
    check_same_error(code)


def test_mismatched_mask_types_warn_like_torch():
    for lib in (tapegrad, torch):
        m = lib.nn.MultiheadAttention(8, 2)
        x = lib.ones(4, 2, 8)
        with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
            m(x, x, x, key_padding_mask=lib.zeros(2, 4, dtype=lib.bool), attn_mask=lib.zeros(4, 4))
