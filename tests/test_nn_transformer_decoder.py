"""TransformerDecoderLayer, TransformerDecoder and Transformer against PyTorch: outputs and every gradient (the
target's, the memory's and the weights') from torch's weights in eval mode or with dropout 0, with causal and
padding masks; the square subsequent mask, default init, reprs and errors."""

import numpy as np
import pytest
import torch

import tapegrad
from test_errors import check_same_error
from test_nn_attention import _mask
from test_nn_modules import assert_close, check_default_init, check_same_repr
from test_nn_rnn import _randn, check_module_against_torch


def _causal(d, n=4):
    return np.triu(np.full((n, n), -np.inf, dtype=d), 1)


def _check_two_inputs(cases, name, dtype, labels):
    """Runs cases[name] = (module factory, first input's shape, second's, keyword arguments given the dtype) in
    both libraries on random inputs seeded by name and labels."""
    make, first_shape, second_shape, kwargs = cases[name]
    inputs = [_randn(name + label, *shape, dtype=dtype) for label, shape in zip(labels, (first_shape, second_shape))]
    check_module_against_torch(name, make, inputs, dtype, kwargs=kwargs(dtype))


# (module factory, target shape, memory shape, keyword arguments given the dtype)
DECODERS = {
    "layer_post_norm": (lambda L: L.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), (4, 3, 8), (5, 3, 8),
                        lambda d: {}),
    "layer_pre_norm_gelu_batch_first_eval": (
        lambda L: L.nn.TransformerDecoderLayer(8, 4, 12, 0.1, "gelu", batch_first=True, norm_first=True).eval(),
        (3, 4, 8), (3, 5, 8), lambda d: {"tgt_mask": _causal(d), "tgt_is_causal": True}),
    "layer_masks_no_bias": (
        lambda L: L.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, bias=False), (4, 3, 8), (5, 3, 8),
        lambda d: {"tgt_key_padding_mask": _mask("tpm", 3, 4), "memory_key_padding_mask": _mask("mpm", 3, 5),
                   "memory_mask": _mask("mm", 4, 5, kind=d)}),
    "decoder_with_norm_causal": (
        lambda L: L.nn.TransformerDecoder(L.nn.TransformerDecoderLayer(8, 2, 16, 0.0), 2, norm=L.nn.LayerNorm(8)),
        (4, 3, 8), (5, 3, 8), lambda d: {"tgt_mask": _causal(d)}),
    "decoder_unbatched": (lambda L: L.nn.TransformerDecoder(L.nn.TransformerDecoderLayer(8, 2, 16, 0.0), 2),
                          (4, 8), (5, 8), lambda d: {}),
}


@pytest.mark.filterwarnings("ignore:Support for mismatched key_padding_mask and attn_mask is deprecated")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(DECODERS))
def test_transformer_decoder_matches_torch(name, dtype):
    _check_two_inputs(DECODERS, name, dtype, ("tgt", "mem"))


TRANSFORMERS = {
    "seq_first_eval": (lambda L: L.nn.Transformer(8, 2, 2, 2, 16).eval(), (5, 3, 8), (4, 3, 8),
                       lambda d: {"tgt_mask": _causal(d), "src_key_padding_mask": _mask("spm", 3, 5),
                                  "memory_key_padding_mask": _mask("spm", 3, 5)}),
    "batch_first_norm_first": (
        lambda L: L.nn.Transformer(8, 4, 1, 2, 12, dropout=0.0, batch_first=True, norm_first=True,
                                   activation="gelu"),
        (3, 5, 8), (3, 4, 8), lambda d: {"src_mask": _mask("sm", 5, 5), "tgt_mask": _causal(d)}),
}


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", list(TRANSFORMERS))
def test_transformer_matches_torch(name, dtype):
    _check_two_inputs(TRANSFORMERS, name, dtype, ("src", "tgt"))


@pytest.mark.parametrize("dtype", [None, "float64"])
def test_generate_square_subsequent_mask_matches_torch(dtype):
    masks = [L.nn.Transformer.generate_square_subsequent_mask(4, dtype=dtype and getattr(L, dtype))
             for L in (tapegrad, torch)]
    assert_close(masks[0], masks[1], dtype or "float32")


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("make", [
    lambda L: L.nn.TransformerDecoderLayer(8, 2, 16),
    lambda L: L.nn.Transformer(8, 2, 1, 1, 16),
])
def test_default_init_matches_torch(make):
    check_default_init(make, 3)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("code", [
    "lib.nn.TransformerDecoderLayer(8, 2, 16, activation='gelu')",
    "lib.nn.TransformerDecoder(lib.nn.TransformerDecoderLayer(8, 2, 16), 2, norm=lib.nn.LayerNorm(8))",
    "lib.nn.Transformer(8, 2, 1, 1, 16)",
])
def test_repr_matches_torch(code):
    check_same_repr(code)


ERRORS = [
    "lib.nn.Transformer(8, 2, 1, 1, 16)(lib.zeros(5, 3, 8), lib.zeros(4, 2, 8))",
    "lib.nn.Transformer(8, 2, 1, 1, 16, batch_first=True)(lib.zeros(3, 5, 8), lib.zeros(2, 4, 8))",
    "lib.nn.Transformer(8, 2, 1, 1, 16)(lib.zeros(5, 3, 8), lib.zeros(4, 3, 6))",
    "lib.nn.TransformerDecoderLayer(8, 2, 16, activation='tanh')",
]


@pytest.mark.parametrize("code", ERRORS)
@pytest.mark.filterwarnings("ignore")
def test_error_matches_torch(code):
    check_same_error(code)
