"""nn.functional ops: layers, activations and losses (values, gradients, gradcheck)."""
import warnings

from optables import OpCase


def F(L):
    return L.nn.functional


def _w(L, values):
    """A constant (non-differentiable) weight tensor in the dtype of the inputs it meets."""
    return L.tensor(values)


def _broadcast_mse(L, a, b):
    # Broadcasting input against target warns (in both libraries); the warning is tested elsewhere.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return F(L).mse_loss(a, b)


def _dropout(L, a, p, **kw):
    # The same seed in both libraries gives the same mask.
    L.manual_seed(123)
    return F(L).dropout(a, p, **kw)


CASES = [
    # linear: fused addmm, 1-D and N-D inputs, broadcast bias, no bias
    OpCase("linear", lambda L, x, w, b: F(L).linear(x, w, b), [(5, 3), (4, 3), (4,)]),
    OpCase("linear_no_bias", lambda L, x, w: F(L).linear(x, w), [(5, 3), (4, 3)]),
    OpCase("linear_1d_input", lambda L, x, w, b: F(L).linear(x, w, b), [(3,), (4, 3), (4,)]),
    OpCase("linear_3d_input", lambda L, x, w, b: F(L).linear(x, w, b), [(2, 5, 3), (4, 3), (4,)]),
    OpCase("linear_3d_no_bias", lambda L, x, w: F(L).linear(x, w), [(2, 5, 3), (4, 3)]),
    OpCase("linear_scalar_bias", lambda L, x, w, b: F(L).linear(x, w, b), [(5, 3), (4, 3), (1,)]),
    OpCase("linear_transposed_weight", lambda L, x, w: F(L).linear(x, w.t()), [(5, 3), (3, 4)]),
    # activations
    OpCase("relu", lambda L, a: F(L).relu(a), [(3, 4)]),
    OpCase("leaky_relu", lambda L, a: F(L).leaky_relu(a), [(3, 4)]),
    OpCase("leaky_relu_slope", lambda L, a: F(L).leaky_relu(a, 0.2), [(2, 3, 4)]),
    OpCase("leaky_relu_inplace", lambda L, a: F(L).leaky_relu(a * 1, 0.3, inplace=True), [(3, 4)]),
    OpCase("gelu", lambda L, a: F(L).gelu(a), [(3, 4)]),
    OpCase("gelu_tanh", lambda L, a: F(L).gelu(a, approximate="tanh"), [(2, 3, 4)]),
    OpCase("sigmoid", lambda L, a: F(L).sigmoid(a), [(3, 4)]),
    OpCase("tanh", lambda L, a: F(L).tanh(a), [(3, 4)]),
    OpCase("softmax", lambda L, a: F(L).softmax(a, dim=1), [(3, 4)]),
    OpCase("softmax_dtype", lambda L, a: F(L).softmax(a, -1, dtype=L.float64), [(3, 4)]),
    OpCase("log_softmax", lambda L, a: F(L).log_softmax(a, dim=0), [(3, 4)]),
    OpCase("softmin", lambda L, a: F(L).softmin(a, dim=1), [(3, 4)]),
    # dropout: same seed, same mask
    OpCase("dropout", lambda L, a: _dropout(L, a, 0.3), [(4, 5)]),
    OpCase("dropout_half", lambda L, a: _dropout(L, a, 0.5), [(2, 3, 4)]),
    OpCase("dropout_eval", lambda L, a: _dropout(L, a, 0.5, training=False), [(3, 4)]),
    OpCase("dropout_p1", lambda L, a: _dropout(L, a, 1.0), [(3, 4)]),
    # The mask follows the memory order of the tensor it fills, and tapegrad's `a * 1` is contiguous
    # where torch's keeps a's strides, so only the contiguous variant compares masks.
    OpCase("dropout_inplace", lambda L, a: _dropout(L, a * 1, 0.4, inplace=True), [(3, 4)], noncontig=False),
    # embedding and one_hot
    OpCase("embedding", lambda L, w, i: F(L).embedding(i, w), [(6, 3), (4,)], index_inputs=(1,), index_high=6),
    OpCase("embedding_2d_indices", lambda L, w, i: F(L).embedding(i, w), [(5, 3), (2, 7)], index_inputs=(1,),
           index_high=5),
    # padding_idx and scale_grad_by_freq change the gradient on purpose: no finite-difference check.
    OpCase("embedding_padding_idx", lambda L, w, i: F(L).embedding(i, w, padding_idx=1), [(4, 3), (10,)],
           index_inputs=(1,), index_high=4, gradcheck=False),
    OpCase("embedding_negative_padding_idx", lambda L, w, i: F(L).embedding(i, w, padding_idx=-1), [(4, 3), (10,)],
           index_inputs=(1,), index_high=4, gradcheck=False),
    OpCase("embedding_scale_grad_by_freq", lambda L, w, i: F(L).embedding(i, w, scale_grad_by_freq=True),
           [(4, 3), (12,)], index_inputs=(1,), index_high=4, gradcheck=False),
    OpCase("one_hot", lambda L, i: F(L).one_hot(i), [(3, 4)], index_inputs=(0,), index_high=5, grad=False),
    OpCase("one_hot_num_classes", lambda L, i: F(L).one_hot(i, 7), [(6,)], index_inputs=(0,), index_high=5,
           grad=False),
    # normalisation
    OpCase("layer_norm", lambda L, x, w, b: F(L).layer_norm(x, (4,), w, b), [(3, 4), (4,), (4,)]),
    OpCase("layer_norm_no_affine", lambda L, x: F(L).layer_norm(x, [4]), [(2, 3, 4)]),
    OpCase("layer_norm_2d_shape", lambda L, x, w, b: F(L).layer_norm(x, (3, 4), w, b, eps=1e-3),
           [(2, 3, 4), (3, 4), (3, 4)]),
    OpCase("batch_norm_train", lambda L, x, w, b: F(L).batch_norm(x, None, None, w, b, training=True),
           [(5, 3), (3,), (3,)]),
    OpCase("batch_norm_train_3d", lambda L, x, w, b: F(L).batch_norm(x, None, None, w, b, training=True),
           [(4, 3, 5), (3,), (3,)]),
    OpCase("batch_norm_train_no_affine", lambda L, x: F(L).batch_norm(x, None, None, training=True), [(6, 4)]),
    OpCase("batch_norm_eval",
           lambda L, x, w, b: F(L).batch_norm(x, _w(L, [0.1, -0.2, 0.3]).to(x.dtype),
                                               _w(L, [1.5, 0.5, 2.0]).to(x.dtype), w, b, training=False),
           [(5, 3), (3,), (3,)]),
    OpCase("batch_norm_eval_3d",
           lambda L, x: F(L).batch_norm(x, _w(L, [0.1, -0.2, 0.3]).to(x.dtype), _w(L, [1.5, 0.5, 2.0]).to(x.dtype)),
           [(2, 3, 4)]),
    # mse / l1 / smooth_l1
    OpCase("mse_loss", lambda L, a, b: F(L).mse_loss(a, b), [(3, 4), (3, 4)]),
    OpCase("mse_loss_sum", lambda L, a, b: F(L).mse_loss(a, b, reduction="sum"), [(3, 4), (3, 4)]),
    OpCase("mse_loss_none", lambda L, a, b: F(L).mse_loss(a, b, reduction="none"), [(3, 4), (3, 4)]),
    OpCase("mse_loss_broadcast", _broadcast_mse, [(3, 4), (4,)]),
    OpCase("mse_loss_scalar", lambda L, a, b: F(L).mse_loss(a, b), [(), ()], noncontig=False),
    OpCase("mse_loss_weight", lambda L, a, b, w: F(L).mse_loss(a, b, weight=w.abs()), [(3, 4), (3, 4), (3, 4)]),
    OpCase("l1_loss", lambda L, a, b: F(L).l1_loss(a, b), [(3, 4), (3, 4)]),
    OpCase("l1_loss_sum", lambda L, a, b: F(L).l1_loss(a, b, reduction="sum"), [(3, 4), (3, 4)]),
    OpCase("l1_loss_none", lambda L, a, b: F(L).l1_loss(a, b, reduction="none"), [(2, 3, 4), (2, 3, 4)]),
    OpCase("smooth_l1_loss", lambda L, a, b: F(L).smooth_l1_loss(a, b), [(3, 4), (3, 4)]),
    OpCase("smooth_l1_loss_beta", lambda L, a, b: F(L).smooth_l1_loss(a, b, beta=0.5, reduction="sum"),
           [(3, 4), (3, 4)]),
    OpCase("smooth_l1_loss_none", lambda L, a, b: F(L).smooth_l1_loss(a, b, reduction="none", beta=2.0),
           [(3, 4), (3, 4)]),
    OpCase("smooth_l1_loss_beta0", lambda L, a, b: F(L).smooth_l1_loss(a, b, beta=0.0), [(3, 4), (3, 4)]),
    # binary cross entropy
    OpCase("binary_cross_entropy", lambda L, a, b: F(L).binary_cross_entropy(a.sigmoid(), b.sigmoid()),
           [(3, 4), (3, 4)]),
    OpCase("binary_cross_entropy_sum",
           lambda L, a, b: F(L).binary_cross_entropy(a.sigmoid(), b.sigmoid(), reduction="sum"), [(3, 4), (3, 4)]),
    OpCase("binary_cross_entropy_none_weight",
           lambda L, a, b: F(L).binary_cross_entropy(a.sigmoid(), b.sigmoid(), weight=_w(L, [1.0, 2.0, 0.5, 3.0]).to(
               a.dtype), reduction="none"), [(3, 4), (3, 4)]),
    OpCase("bce_with_logits", lambda L, a, b: F(L).binary_cross_entropy_with_logits(a, b.sigmoid()),
           [(3, 4), (3, 4)]),
    OpCase("bce_with_logits_large", lambda L, a, b: F(L).binary_cross_entropy_with_logits(a * 40, b.sigmoid()),
           [(3, 4), (3, 4)]),
    OpCase("bce_with_logits_pos_weight",
           lambda L, a, b: F(L).binary_cross_entropy_with_logits(a, b.sigmoid(), pos_weight=_w(
               L, [1.0, 2.0, 0.5, 3.0]).to(a.dtype)), [(3, 4), (3, 4)]),
    OpCase("bce_with_logits_weights_none",
           lambda L, a, b: F(L).binary_cross_entropy_with_logits(
               a, b.sigmoid(), weight=_w(L, [[2.0], [1.0], [0.5]]).to(a.dtype),
               pos_weight=_w(L, [1.0, 2.0, 0.5, 3.0]).to(a.dtype), reduction="none"), [(3, 4), (3, 4)]),
    OpCase("bce_with_logits_sum", lambda L, a, b: F(L).binary_cross_entropy_with_logits(a, b.sigmoid(),
                                                                                         reduction="sum"),
           [(2, 3, 4), (2, 3, 4)]),
    # nll / cross entropy with class indices
    OpCase("nll_loss", lambda L, a, t: F(L).nll_loss(a.log_softmax(1), t), [(5, 4), (5,)], index_inputs=(1,),
           index_high=4),
    OpCase("nll_loss_sum_weight", lambda L, a, t: F(L).nll_loss(a, t, weight=_w(L, [1.0, 2.0, 0.5, 3.0]).to(
        a.dtype), reduction="sum"), [(5, 4), (5,)], index_inputs=(1,), index_high=4),
    OpCase("nll_loss_none_ignore", lambda L, a, t: F(L).nll_loss(a, t, ignore_index=2, reduction="none"),
           [(6, 4), (6,)], index_inputs=(1,), index_high=4),
    OpCase("nll_loss_unbatched", lambda L, a, t: F(L).nll_loss(a, t), [(4,), ()], index_inputs=(1,), index_high=4,
           noncontig=False),
    OpCase("nll_loss_3d", lambda L, a, t: F(L).nll_loss(a, t, reduction="none"), [(2, 3, 4), (2, 4)],
           index_inputs=(1,), index_high=3),
    # torch's nll_loss2d backward rejects a strided input ("grad_input must be contiguous").
    OpCase("nll_loss_4d", lambda L, a, t: F(L).nll_loss(a, t), [(2, 3, 2, 2), (2, 2, 2)], index_inputs=(1,),
           index_high=3, noncontig=False),
    OpCase("cross_entropy", lambda L, a, t: F(L).cross_entropy(a, t), [(5, 4), (5,)], index_inputs=(1,),
           index_high=4),
    OpCase("cross_entropy_sum", lambda L, a, t: F(L).cross_entropy(a, t, reduction="sum"), [(5, 4), (5,)],
           index_inputs=(1,), index_high=4),
    OpCase("cross_entropy_none", lambda L, a, t: F(L).cross_entropy(a, t, reduction="none"), [(5, 4), (5,)],
           index_inputs=(1,), index_high=4),
    OpCase("cross_entropy_large_logits", lambda L, a, t: F(L).cross_entropy(a * 100, t), [(5, 4), (5,)],
           index_inputs=(1,), index_high=4),
    OpCase("cross_entropy_weight", lambda L, a, t: F(L).cross_entropy(a, t, weight=_w(L, [1.0, 2.0, 0.5, 3.0]).to(
        a.dtype)), [(6, 4), (6,)], index_inputs=(1,), index_high=4),
    OpCase("cross_entropy_ignore_index", lambda L, a, t: F(L).cross_entropy(a, t, ignore_index=1), [(8, 4), (8,)],
           index_inputs=(1,), index_high=4),
    OpCase("cross_entropy_label_smoothing", lambda L, a, t: F(L).cross_entropy(a, t, label_smoothing=0.1),
           [(6, 4), (6,)], index_inputs=(1,), index_high=4),
    OpCase("cross_entropy_smoothing_weight_ignore",
           lambda L, a, t: F(L).cross_entropy(a, t, weight=_w(L, [1.0, 2.0, 0.5, 3.0]).to(a.dtype), ignore_index=0,
                                              label_smoothing=0.2), [(8, 4), (8,)], index_inputs=(1,), index_high=4),
    OpCase("cross_entropy_smoothing_none",
           lambda L, a, t: F(L).cross_entropy(a, t, ignore_index=3, label_smoothing=0.3, reduction="none"),
           [(8, 4), (8,)], index_inputs=(1,), index_high=4),
    OpCase("cross_entropy_smoothing_sum", lambda L, a, t: F(L).cross_entropy(a, t, label_smoothing=0.3,
                                                                             reduction="sum"),
           [(2, 3, 4), (2, 4)], index_inputs=(1,), index_high=3),
    OpCase("cross_entropy_kdim", lambda L, a, t: F(L).cross_entropy(a, t), [(2, 3, 4), (2, 4)], index_inputs=(1,),
           index_high=3),
    OpCase("cross_entropy_kdim_none", lambda L, a, t: F(L).cross_entropy(a, t, reduction="none"),
           [(2, 3, 4, 2), (2, 4, 2)], index_inputs=(1,), index_high=3),
    OpCase("cross_entropy_5d_weight", lambda L, a, t: F(L).cross_entropy(a, t, weight=_w(L, [1.0, 2.0, 0.5]).to(
        a.dtype)), [(2, 3, 2, 2, 2), (2, 2, 2, 2)], index_inputs=(1,), index_high=3),
    OpCase("cross_entropy_unbatched", lambda L, a, t: F(L).cross_entropy(a, t), [(4,), ()], index_inputs=(1,),
           index_high=4, noncontig=False),
    # cross entropy with class probabilities
    OpCase("cross_entropy_probs", lambda L, a, b: F(L).cross_entropy(a, b.softmax(1)), [(5, 4), (5, 4)]),
    OpCase("cross_entropy_probs_smoothing_weight",
           lambda L, a, b: F(L).cross_entropy(a, b.softmax(1), weight=_w(L, [1.0, 2.0, 0.5, 3.0]).to(a.dtype),
                                              label_smoothing=0.2), [(5, 4), (5, 4)]),
    OpCase("cross_entropy_probs_none", lambda L, a, b: F(L).cross_entropy(a, b.softmax(1), reduction="none"),
           [(2, 3, 4), (2, 3, 4)]),
    OpCase("cross_entropy_probs_unbatched", lambda L, a, b: F(L).cross_entropy(a, b.softmax(0)), [(4,), (4,)]),
]
