"""Convolution and pooling: conv2d (stride, padding incl. 'same'/'valid', dilation, groups, bias, unbatched),
conv_transpose1d/2d, max_pool2d, avg_pool2d and adaptive_avg_pool2d."""
import warnings

from optables import OpCase


def F(L):
    return L.nn.functional


def _same_even_kernel(L, x, w):
    # Both libraries warn that an even kernel needs a padded copy; the warning is tested in test_nn_conv.py.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return F(L).conv2d(x, w, padding="same", dilation=(1, 3))


CASES = [
    OpCase("conv2d", lambda L, x, w, b: F(L).conv2d(x, w, b), [(2, 3, 6, 5), (4, 3, 3, 3), (4,)]),
    OpCase("conv2d_no_bias", lambda L, x, w: F(L).conv2d(x, w), [(2, 3, 5, 5), (4, 3, 2, 2)]),
    OpCase("conv2d_stride_padding", lambda L, x, w, b: F(L).conv2d(x, w, b, stride=2, padding=1),
           [(2, 3, 7, 6), (4, 3, 3, 3), (4,)]),
    OpCase("conv2d_rect_params", lambda L, x, w: F(L).conv2d(x, w, stride=(2, 1), padding=(0, 2), dilation=(1, 2)),
           [(1, 2, 7, 6), (3, 2, 3, 2)]),
    OpCase("conv2d_groups", lambda L, x, w, b: F(L).conv2d(x, w, b, groups=2), [(2, 4, 5, 5), (6, 2, 3, 3), (6,)]),
    OpCase("conv2d_depthwise", lambda L, x, w: F(L).conv2d(x, w, padding=1, groups=3), [(2, 3, 4, 4), (3, 1, 3, 3)]),
    OpCase("conv2d_same", lambda L, x, w: F(L).conv2d(x, w, padding="same"), [(2, 3, 5, 5), (2, 3, 3, 3)]),
    # An even kernel pads one more element after than before.
    OpCase("conv2d_same_even_kernel", _same_even_kernel, [(1, 2, 5, 6), (2, 2, 2, 2)]),
    OpCase("conv2d_valid", lambda L, x, w: F(L).conv2d(x, w, padding="valid"), [(2, 3, 5, 5), (2, 3, 3, 3)]),
    OpCase("conv2d_unbatched", lambda L, x, w, b: F(L).conv2d(x, w, b, padding=1), [(3, 4, 4), (2, 3, 3, 3), (2,)]),
    OpCase("conv2d_1x1", lambda L, x, w: F(L).conv2d(x, w), [(2, 4, 3, 3), (5, 4, 1, 1)]),
    OpCase("conv_transpose2d", lambda L, x, w, b: F(L).conv_transpose2d(x, w, b), [(2, 3, 4, 5), (3, 2, 3, 3), (2,)]),
    OpCase("conv_transpose2d_options",
           lambda L, x, w, b: F(L).conv_transpose2d(x, w, b, stride=(2, 3), padding=1, output_padding=(1, 2), groups=2,
                                                    dilation=(1, 2)), [(2, 4, 3, 4), (4, 1, 3, 2), (2,)]),
    OpCase("conv_transpose2d_unbatched", lambda L, x, w: F(L).conv_transpose2d(x, w, stride=2),
           [(3, 4, 4), (3, 2, 2, 2)]),
    OpCase("conv_transpose1d", lambda L, x, w, b: F(L).conv_transpose1d(x, w, b, stride=2, output_padding=1),
           [(2, 3, 5), (3, 4, 3), (4,)]),
    OpCase("max_pool2d", lambda L, x: F(L).max_pool2d(x, 2), [(2, 3, 6, 6)]),
    OpCase("max_pool2d_stride_padding", lambda L, x: F(L).max_pool2d(x, 3, stride=2, padding=1), [(2, 2, 7, 5)]),
    OpCase("max_pool2d_ceil", lambda L, x: F(L).max_pool2d(x, 2, ceil_mode=True), [(1, 2, 5, 7)]),
    OpCase("max_pool2d_dilation", lambda L, x: F(L).max_pool2d(x, (2, 3), stride=1, dilation=2), [(1, 2, 6, 7)]),
    OpCase("max_pool2d_indices", lambda L, x: F(L).max_pool2d(x, 2, 1, return_indices=True), [(2, 2, 4, 5)]),
    OpCase("max_pool2d_unbatched", lambda L, x: F(L).max_pool2d(x, 2), [(3, 4, 4)]),
    OpCase("avg_pool2d", lambda L, x: F(L).avg_pool2d(x, 2), [(2, 3, 6, 6)]),
    OpCase("avg_pool2d_padding", lambda L, x: F(L).avg_pool2d(x, 3, 2, 1), [(2, 2, 7, 6)]),
    OpCase("avg_pool2d_exclude_pad_ceil",
           lambda L, x: F(L).avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), [(1, 2, 6, 7)]),
    OpCase("avg_pool2d_ceil_include_pad", lambda L, x: F(L).avg_pool2d(x, 2, ceil_mode=True), [(1, 2, 5, 5)]),
    OpCase("avg_pool2d_divisor", lambda L, x: F(L).avg_pool2d(x, 2, divisor_override=3), [(2, 2, 4, 4)]),
    OpCase("avg_pool2d_unbatched", lambda L, x: F(L).avg_pool2d(x, (2, 1)), [(3, 4, 4)]),
    OpCase("adaptive_avg_pool2d", lambda L, x: F(L).adaptive_avg_pool2d(x, (3, 2)), [(2, 3, 7, 5)]),
    OpCase("adaptive_avg_pool2d_global", lambda L, x: F(L).adaptive_avg_pool2d(x, 1), [(2, 3, 4, 5)]),
    OpCase("adaptive_avg_pool2d_none", lambda L, x: F(L).adaptive_avg_pool2d(x, (None, 2)), [(2, 3, 4, 5)]),
    OpCase("adaptive_avg_pool2d_upsample", lambda L, x: F(L).adaptive_avg_pool2d(x, 5), [(3, 3, 4)]),
]
