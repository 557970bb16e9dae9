"""Elementwise math with native kernels (trigonometric and hyperbolic, log2/log10/exp2, erfc, erfinv, lgamma,
digamma, polygamma, zeta) and the torch.special namespace."""
from optables import OpCase

UNARY = {
    "tan": ("any", lambda L, a: L.tan(a * 0.5)),
    "asin": ("unit", lambda L, a: L.asin(a)),
    "arcsin": ("unit", lambda L, a: a.arcsin()),
    "acos": ("unit", lambda L, a: L.acos(a)),
    "atan": ("any", lambda L, a: L.arctan(a)),
    "sinh": ("any", lambda L, a: L.sinh(a)),
    "cosh": ("any", lambda L, a: a.cosh()),
    "asinh": ("any", lambda L, a: L.asinh(a)),
    "acosh": ("positive", lambda L, a: L.acosh(a + 1)),
    "atanh": ("unit", lambda L, a: L.atanh(a)),
    # NumPy-style aliases.
    "arccos": ("unit", lambda L, a: L.arccos(a)),
    "arcsinh": ("any", lambda L, a: L.arcsinh(a)),
    "arccosh": ("positive", lambda L, a: L.arccosh(a + 1)),
    "arctanh": ("unit", lambda L, a: a.arctanh()),
    "log2": ("positive", lambda L, a: L.log2(a)),
    "log10": ("positive", lambda L, a: a.log10()),
    "exp2": ("any", lambda L, a: L.exp2(a)),
    "erfc": ("any", lambda L, a: L.erfc(a)),
    "erfinv": ("unit", lambda L, a: L.erfinv(a)),
    "lgamma": ("positive", lambda L, a: L.lgamma(a)),
    "lgamma_negative": ("nonzero", lambda L, a: L.lgamma(a - 0.25)),
    "digamma": ("positive", lambda L, a: L.digamma(a)),
    "digamma_negative": ("nonzero", lambda L, a: a.sub(0.25).digamma()),
    "polygamma_1": ("positive", lambda L, a: L.polygamma(1, a)),
    "polygamma_2": ("positive", lambda L, a: a.polygamma(2)),
    "polygamma_3": ("positive", lambda L, a: L.polygamma(3, a)),
    "sinc": ("any", lambda L, a: L.sinc(a)),
    "special_entr": ("positive", lambda L, a: L.special.entr(a)),
    "special_ndtr": ("any", lambda L, a: L.special.ndtr(a)),
    "special_erfinv": ("unit", lambda L, a: L.special.erfinv(a)),
    "special_gammaln": ("positive", lambda L, a: L.special.gammaln(a)),
    "special_psi": ("positive", lambda L, a: L.special.psi(a)),
    "special_expit": ("any", lambda L, a: L.special.expit(a)),
    "special_exp2": ("any", lambda L, a: L.special.exp2(a)),
    "special_logit": ("unit", lambda L, a: L.special.logit(a * 0.5 + 0.5)),
    "mvlgamma": ("positive", lambda L, a: L.mvlgamma(a + 1, 3)),
    "special_multigammaln": ("positive", lambda L, a: L.special.multigammaln(a, 1)),
    "special_zeta_number_x": ("positive", lambda L, q: L.special.zeta(3.0, q)),
}
BINARY_SHAPES = {"same": [(3, 4), (3, 4)], "broadcast": [(3, 1), (4,)], "zero_dim": [(3, 4), ()]}

CASES = [OpCase(name, fn, [(3, 4)], domain=domain) for name, (domain, fn) in UNARY.items()]
for pattern, shapes in BINARY_SHAPES.items():
    CASES += [
        OpCase(f"special_xlog1py_{pattern}", lambda L, a, b: L.special.xlog1py(a, b), shapes, domain="positive"),
        # No derivative in x, as in PyTorch: values only.
        OpCase(f"special_zeta_{pattern}", lambda L, x, q: L.special.zeta(x + 1, q), shapes, domain="positive",
               grad=False),
    ]
CASES += [
    OpCase("special_xlog1py_number", lambda L, a: L.special.xlog1py(a, 2.5), [(3, 4)]),
    OpCase("special_xlogy", lambda L, a, b: L.special.xlogy(a, b), [(3, 4), (4,)], domain="positive"),
    OpCase("round_decimals", lambda L, a: L.round(a * 100, decimals=1), [(3, 4)], gradcheck=False),
    OpCase("round_negative_decimals", lambda L, a: (a * 1000).round(decimals=-2), [(3, 4)], gradcheck=False),
    OpCase("special_round", lambda L, a: L.special.round(a * 3), [(3, 4)], gradcheck=False),
    OpCase("special_softmax", lambda L, a: L.special.softmax(a, 1), [(3, 4)]),
    OpCase("special_log_softmax_dtype", lambda L, a: L.special.log_softmax(a, 0, dtype=L.float64), [(3, 4)]),
    OpCase("special_logsumexp", lambda L, a: L.special.logsumexp(a, 1), [(3, 4)]),
    OpCase("special_erf_erfc", lambda L, a: (L.special.erf(a), L.special.erfc(a)), [(3, 4)]),
    OpCase("special_log1p_expm1", lambda L, a: (L.special.log1p(a), L.special.expm1(a)), [(3, 4)], domain="positive"),
    OpCase("special_digamma_polygamma", lambda L, a: (L.special.digamma(a), L.special.polygamma(2, a)), [(3, 4)],
           domain="positive"),
]
