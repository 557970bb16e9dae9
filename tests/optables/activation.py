"""Activations beyond relu/gelu: silu, elu, softplus, hardtanh, relu6, logsigmoid and mish, as functions (with
their options and in-place forms) and as modules."""
from optables import OpCase


def F(L):
    return L.nn.functional


CASES = [
    OpCase("silu", lambda L, a: F(L).silu(a), [(3, 4)]),
    OpCase("silu_inplace", lambda L, a: F(L).silu(a * 1, inplace=True), [(3, 4)]),
    OpCase("silu_module", lambda L, a: L.nn.SiLU()(a), [(2, 3, 4)]),
    OpCase("elu", lambda L, a: F(L).elu(a), [(3, 4)]),
    OpCase("elu_alpha", lambda L, a: F(L).elu(a, alpha=0.5), [(3, 4)]),
    OpCase("elu_module", lambda L, a: L.nn.ELU(2.0)(a), [(3, 4)]),
    OpCase("softplus", lambda L, a: F(L).softplus(a), [(3, 4)]),
    # beta * x crosses the threshold for some elements: the linear branch and the log1p branch both run.
    OpCase("softplus_beta_threshold", lambda L, a: F(L).softplus(a, beta=2.0, threshold=1.0), [(4, 5)]),
    OpCase("softplus_module", lambda L, a: L.nn.Softplus(beta=0.5)(a), [(3, 4)]),
    OpCase("hardtanh", lambda L, a: F(L).hardtanh(a * 2), [(3, 4)]),
    OpCase("hardtanh_bounds", lambda L, a: F(L).hardtanh(a, -0.5, 0.25), [(3, 4)]),
    OpCase("hardtanh_module", lambda L, a: L.nn.Hardtanh(-2.0, 0.5)(a), [(3, 4)]),
    OpCase("hardtanh_int", lambda L, a: F(L).hardtanh(a, -1.0, 2.0), [(6,)], index_inputs=(0,), index_high=5,
           grad=False),
    OpCase("relu6", lambda L, a: F(L).relu6(a * 5), [(3, 4)]),
    OpCase("relu6_inplace", lambda L, a: F(L).relu6(a * 5, inplace=True), [(3, 4)]),
    OpCase("relu6_module", lambda L, a: L.nn.ReLU6()(a * 5), [(3, 4)]),
    OpCase("logsigmoid", lambda L, a: F(L).logsigmoid(a * 10), [(3, 4)]),
    OpCase("logsigmoid_module", lambda L, a: L.nn.LogSigmoid()(a), [(3, 4)]),
    OpCase("mish", lambda L, a: F(L).mish(a * 3), [(3, 4)]),
    OpCase("mish_module", lambda L, a: L.nn.Mish()(a), [(2, 3, 4)]),
]
