"""Elementwise ops: arithmetic with tensors and numbers on either side, unary math, clamp, maximum/minimum,
where, comparisons and in-place ops on non-leaf tensors (checked through their gradients)."""
import operator

from optables import OpCase

# Broadcast patterns: equal, leading dims, both sides expanding, middle 1s, scalar-like and 0-dim.
BROADCAST = {
    "same": [(3, 4), (3, 4)],
    "leading": [(3, 4), (4,)],
    "leading_rhs": [(4,), (2, 3, 4)],
    "outer": [(3, 1), (1, 4)],
    "middle1": [(2, 1, 4), (3, 1)],
    "middle1_rhs": [(2, 3, 4), (1, 3, 1)],
    "scalar_like": [(1,), (3, 4)],
    "zero_dim_rhs": [(3, 4), ()],
    "zero_dim_lhs": [(), (2, 3)],
    "zero_dim_both": [(), ()],
    "empty": [(0, 3), (3,)],
}

ARITHMETIC = {
    "add": (operator.add, "any"),
    "sub": (operator.sub, "any"),
    "mul": (operator.mul, "any"),
    "div": (operator.truediv, "nonzero"),
    "pow": (operator.pow, "positive"),
}

CASES = []

for op_name, (op, domain) in ARITHMETIC.items():
    for pattern, shapes in BROADCAST.items():
        CASES.append(OpCase(f"{op_name}_{pattern}", lambda L, a, b, op=op: op(a, b), shapes, domain=domain))

# Functional and method spellings, alpha, and the operators' reflected forms with Python numbers.
CASES += [
    OpCase("add_fn", lambda L, a, b: L.add(a, b), [(3, 4), (4,)]),
    OpCase("add_alpha", lambda L, a, b: L.add(a, b, alpha=2.5), [(3, 4), (3, 1)]),
    OpCase("add_alpha_int", lambda L, a, b: a.add(b, alpha=-2), [(3, 4), (4,)]),
    OpCase("sub_fn_alpha", lambda L, a, b: L.sub(a, b, alpha=0.5), [(2, 3), (2, 3)]),
    OpCase("subtract", lambda L, a, b: L.subtract(a, b), [(2, 3), (3,)]),
    OpCase("mul_method", lambda L, a, b: a.mul(b), [(2, 3), (2, 1)]),
    OpCase("multiply", lambda L, a, b: L.multiply(a, b), [(2, 3), ()]),
    OpCase("div_method", lambda L, a, b: a.div(b), [(2, 3), (3,)], domain="nonzero"),
    OpCase("divide", lambda L, a, b: L.divide(a, b), [(2, 3), (2, 3)], domain="nonzero"),
    OpCase("true_divide", lambda L, a, b: L.true_divide(a, b), [(4,), (4,)], domain="nonzero"),
    OpCase("pow_fn", lambda L, a, b: L.pow(a, b), [(2, 3), (3,)], domain="positive"),
    OpCase("pow_method", lambda L, a, b: a.pow(b), [(2, 3), (2, 1)], domain="positive"),
]

NUMBER_FORMS = {
    "add_number": lambda L, a: a + 2.5,
    "radd_number": lambda L, a: 2.5 + a,
    "add_int": lambda L, a: a + 3,
    "radd_int": lambda L, a: 3 + a,
    "add_bool": lambda L, a: a + True,
    "sub_number": lambda L, a: a - 1.5,
    "rsub_number": lambda L, a: 1.5 - a,
    "rsub_int": lambda L, a: 2 - a,
    "mul_number": lambda L, a: a * -0.5,
    "rmul_number": lambda L, a: -0.5 * a,
    "rmul_int": lambda L, a: 3 * a,
    "mul_bool": lambda L, a: a * False,
    "div_number": lambda L, a: a / 4.0,
    "div_int": lambda L, a: a / 3,
    "add_fn_number": lambda L, a: L.add(a, 1.5, alpha=2),
    "sub_method_number": lambda L, a: a.sub(2),
    "mul_fn_number": lambda L, a: L.mul(a, 1.25),
    "div_method_number": lambda L, a: a.div(-2),
}
for name, fn in NUMBER_FORMS.items():
    for shape in [(3, 4), ()]:
        CASES.append(OpCase(f"{name}_{len(shape)}d", fn, [shape]))

DIVIDED_BY = {
    "rdiv_number": lambda L, a: 2.5 / a,
    "rdiv_int": lambda L, a: 3 / a,
    "rdiv_negative": lambda L, a: -1 / a,
}
for name, fn in DIVIDED_BY.items():
    for shape in [(3, 4), ()]:
        CASES.append(OpCase(f"{name}_{len(shape)}d", fn, [shape], domain="nonzero"))

POWERS = {
    "pow_square": (lambda L, a: a**2, "any"),
    "pow_cube": (lambda L, a: a**3, "any"),
    "pow_zero": (lambda L, a: a**0, "any"),
    "pow_one": (lambda L, a: a**1, "any"),
    "pow_negative_int": (lambda L, a: a**-2, "nonzero"),
    "pow_half": (lambda L, a: a**0.5, "positive"),
    "pow_negative_float": (lambda L, a: a**-1.5, "positive"),
    "pow_float_exponent": (lambda L, a: a**2.5, "positive"),
    "pow_method_number": (lambda L, a: a.pow(3), "any"),
    "rpow_number": (lambda L, a: 2.0**a, "any"),
    "rpow_int": (lambda L, a: 3**a, "any"),
    "rpow_fraction": (lambda L, a: 0.5**a, "any"),
    "pow_number_base_fn": (lambda L, a: L.pow(2.5, a), "any"),
    "pow_int_base_fn": (lambda L, a: L.pow(2, a), "any"),
}
for name, (fn, domain) in POWERS.items():
    for shape in [(3, 4), ()]:
        CASES.append(OpCase(f"{name}_{len(shape)}d", fn, [shape], domain=domain))

# Tensor exponents and a tensor base with a broadcast exponent.
CASES += [
    OpCase("pow_tensor_exponent_broadcast", lambda L, a, b: a**b, [(3, 1), (4,)], domain="positive"),
    OpCase("pow_tensor_exponent_0dim", lambda L, a, b: a**b, [(3, 4), ()], domain="positive"),
    OpCase("pow_0dim_base", lambda L, a, b: a**b, [(), (3, 4)], domain="positive"),
]

# ---- unary ----

UNARY = {
    "neg": (lambda L, a: -a, "any"),
    "neg_fn": (lambda L, a: L.neg(a), "any"),
    "negative": (lambda L, a: L.negative(a), "any"),
    "pos": (lambda L, a: +a, "any"),
    "abs": (lambda L, a: L.abs(a), "nonzero"),
    "abs_builtin": (lambda L, a: abs(a), "nonzero"),
    "exp": (lambda L, a: L.exp(a), "any"),
    "log": (lambda L, a: a.log(), "positive"),
    "sqrt": (lambda L, a: L.sqrt(a), "positive"),
    "rsqrt": (lambda L, a: a.rsqrt(), "positive"),
    "sin": (lambda L, a: L.sin(a), "any"),
    "cos": (lambda L, a: a.cos(), "any"),
    "tanh": (lambda L, a: L.tanh(a), "any"),
    "sigmoid": (lambda L, a: a.sigmoid(), "any"),
    "relu": (lambda L, a: L.relu(a), "nonzero"),
    "square": (lambda L, a: a.square(), "any"),
    "reciprocal": (lambda L, a: L.reciprocal(a), "nonzero"),
    "log1p": (lambda L, a: a.log1p(), "unit"),
    "expm1": (lambda L, a: L.expm1(a), "any"),
    "erf": (lambda L, a: L.erf(a), "any"),
    "erf_method": (lambda L, a: a.erf(), "any"),
    "sign": (lambda L, a: a.sign(), "nonzero"),
    "floor": (lambda L, a: L.floor(a * 3), "any"),
    "ceil": (lambda L, a: (a * 3).ceil(), "any"),
    "round": (lambda L, a: L.round(a * 3), "any"),
    "trunc": (lambda L, a: (a * 3).trunc(), "any"),
}
for name, (fn, domain) in UNARY.items():
    for shape in [(3, 4), (5,), ()]:
        CASES.append(OpCase(f"{name}_{len(shape)}d", fn, [shape], domain=domain))

# Compositions whose backward formulas feed each other (and exercise saved outputs).
CASES += [
    OpCase("exp_of_tanh", lambda L, a: (a.tanh() * 2).exp(), [(3, 4)]),
    OpCase("sigmoid_times_input", lambda L, a: a * a.sigmoid(), [(3, 4)]),
    OpCase("sqrt_of_square_plus_one", lambda L, a: (a.square() + 1).sqrt(), [(3, 4)]),
    OpCase("log_softplus", lambda L, a: (a.exp() + 1).log(), [(3, 4)]),
]

# ---- clamp ----

CLAMPS = {
    "clamp_min": lambda L, a: L.clamp(a, min=-0.3),
    "clamp_max": lambda L, a: a.clamp(max=0.4),
    "clamp_both": lambda L, a: L.clamp(a, -0.5, 0.5),
    "clamp_int_bounds": lambda L, a: a.clamp(-1, 1),
    "clamp_min_above_max": lambda L, a: L.clamp(a, min=0.5, max=-0.5),
    "clip": lambda L, a: L.clip(a, -0.2, 0.7),
    "clip_method": lambda L, a: a.clip(min=0.1),
}
for name, fn in CLAMPS.items():
    for shape in [(4, 5), ()]:
        CASES.append(OpCase(f"{name}_{len(shape)}d", fn, [shape]))


def first_value(t):
    return t.reshape(-1).select(0, 0).item()


# Elements exactly at a bound: PyTorch passes the gradient through at the bound (not differentiable there,
# so no finite-difference check).
CASES += [
    OpCase("clamp_min_tie", lambda L, a: a.clamp(min=first_value(a)), [(3, 4)], gradcheck=False),
    OpCase("clamp_max_tie", lambda L, a: a.clamp(max=first_value(a)), [(3, 4)], gradcheck=False),
    OpCase("clamp_both_ties", lambda L, a: L.clamp(a, first_value(a), first_value(a) + 0.5), [(3, 4)],
           gradcheck=False),
]

# ---- maximum / minimum ----

for name in ("maximum", "minimum"):
    for pattern in ("same", "outer", "middle1", "zero_dim_rhs", "zero_dim_both"):
        CASES.append(OpCase(f"{name}_{pattern}", lambda L, a, b, name=name: getattr(L, name)(a, b),
                            BROADCAST[pattern]))
    CASES.append(OpCase(f"{name}_method", lambda L, a, b, name=name: getattr(a, name)(b), [(3, 4), (4,)]))
    # The first row of the second operand is the first operand's own row: the gradient of a tie is split
    # evenly between both sides, and both halves reach `a`.
    CASES.append(OpCase(
        f"{name}_ties",
        lambda L, a, b, name=name: getattr(L, name)(a, L.cat([a.narrow(0, 0, 1), b.narrow(0, 1, 2)])),
        [(3, 4), (3, 4)],
    ))

# ---- remainder ----

CASES += [
    OpCase("remainder", lambda L, a, b: a % b, [(3, 4), (3, 4)], domain="nonzero"),
    OpCase("remainder_broadcast", lambda L, a, b: L.remainder(a, b), [(3, 1), (4,)], domain="nonzero"),
    OpCase("remainder_number", lambda L, a: a % 0.3, [(3, 4)]),
]

# ---- where ----

CASES += [
    OpCase("where", lambda L, m, a, b: L.where(m, a, b), [(3, 4), (3, 4), (3, 4)], mask_inputs=(0,)),
    OpCase("where_broadcast", lambda L, m, a, b: L.where(m, a, b), [(3, 1), (1, 4), (4,)], mask_inputs=(0,)),
    OpCase("where_mask_broadcast", lambda L, m, a, b: L.where(m, a, b), [(2, 3, 4), (3, 4), ()],
           mask_inputs=(0,)),
    OpCase("where_number_other", lambda L, m, a: L.where(m, a, 0.0), [(3, 4), (3, 4)], mask_inputs=(0,)),
    OpCase("where_number_input", lambda L, m, a: L.where(m, -1.5, a), [(3, 4), (4,)], mask_inputs=(0,)),
    OpCase("where_method", lambda L, m, a, b: a.where(m, b), [(3, 4), (3, 4), (3, 4)], mask_inputs=(0,)),
    OpCase("where_from_comparison", lambda L, a, b: L.where(a > b, a, b * 2), [(3, 4), (3, 4)]),
    OpCase("where_0dim", lambda L, m, a, b: L.where(m, a, b), [(), (), ()], mask_inputs=(0,)),
]

# ---- comparisons: bool results, no gradient ----

COMPARISONS = {
    "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le, "gt": operator.gt,
    "ge": operator.ge,
}
for name, op in COMPARISONS.items():
    CASES += [
        OpCase(f"{name}_operator", lambda L, a, b, op=op: op(a, b), [(3, 4), (4,)], grad=False),
        OpCase(f"{name}_fn", lambda L, a, b, name=name: getattr(L, name)(a, b), [(3, 1), (1, 4)], grad=False),
        OpCase(f"{name}_method_number", lambda L, a, name=name: getattr(a, name)(0.25), [(3, 4)], grad=False),
        OpCase(f"{name}_number", lambda L, a, op=op: op(a, 0), [(3, 4)], grad=False),
        OpCase(f"{name}_reflected_number", lambda L, a, op=op: op(0.5, a), [(5,)], grad=False),
        # Half the elements tie: a against a copy of itself with its second row replaced.
        OpCase(f"{name}_ties", lambda L, a, b, op=op: op(a, L.cat([a.narrow(0, 0, 1), b.narrow(0, 1, 1)])),
               [(2, 3), (2, 3)], grad=False),
        OpCase(f"{name}_0dim", lambda L, a, b, op=op: op(a, b), [(), (3,)], grad=False),
    ]
# A comparison of differentiable inputs has no grad_fn and does not require grad.
CASES.append(OpCase("comparison_of_grad_inputs", lambda L, a, b: (a < b, a * 2), [(3, 4), (3, 4)],
                    gradcheck=False))

# ---- in place on non-leaf tensors: the gradient must see the op ----


def inplace(method, *args, **kwargs):
    def fn(L, a, *others):
        x = a * 1.5
        getattr(x, method)(*(others or args), **kwargs)
        return x

    return fn


def augmented(op):
    def fn(L, a, b):
        x = a * 1
        x = op(x, b)
        return x

    return fn


CASES += [
    OpCase("add_inplace", inplace("add_"), [(3, 4), (3, 4)]),
    OpCase("add_inplace_broadcast", inplace("add_"), [(3, 4), (4,)]),
    OpCase("add_inplace_alpha", inplace("add_", alpha=-2.0), [(3, 4), (3, 1)]),
    OpCase("add_inplace_number", inplace("add_", 2.5), [(3, 4)]),
    OpCase("sub_inplace", inplace("sub_"), [(3, 4), (1, 4)]),
    OpCase("sub_inplace_alpha", inplace("sub_", alpha=3), [(3, 4), ()]),
    OpCase("mul_inplace", inplace("mul_"), [(3, 4), (3, 4)]),
    OpCase("mul_inplace_number", inplace("mul_", -3.0), [(2, 5)]),
    OpCase("div_inplace", inplace("div_"), [(3, 4), (4,)], domain="nonzero"),
    OpCase("div_inplace_number", inplace("div_", 4), [(3, 4)]),
    OpCase("pow_inplace", inplace("pow_", 2), [(3, 4)]),
    OpCase("pow_inplace_tensor", inplace("pow_"), [(3, 4), (4,)], domain="positive"),
    OpCase("clamp_inplace_min", inplace("clamp_", min=-0.2), [(3, 4)]),
    OpCase("clamp_inplace_max", inplace("clamp_", max=0.3), [(3, 4)]),
    OpCase("clamp_inplace_both", inplace("clamp_", -0.4, 0.4), [(3, 4)]),
    OpCase("relu_inplace", inplace("relu_"), [(3, 4)], domain="nonzero"),
    OpCase("neg_inplace", inplace("neg_"), [(3, 4)]),
    OpCase("exp_inplace", inplace("exp_"), [(3, 4)]),
    OpCase("sigmoid_inplace", inplace("sigmoid_"), [(3, 4)]),
    OpCase("tanh_inplace", inplace("tanh_"), [(3, 4)]),
    OpCase("sqrt_inplace", inplace("sqrt_"), [(3, 4)], domain="positive"),
    OpCase("iadd", augmented(operator.iadd), [(3, 4), (4,)]),
    OpCase("isub", augmented(operator.isub), [(3, 4), (3, 4)]),
    OpCase("imul", augmented(operator.imul), [(3, 4), (3, 1)]),
    OpCase("itruediv", augmented(operator.itruediv), [(3, 4), (3, 4)], domain="nonzero"),
    OpCase("ipow", augmented(operator.ipow), [(3, 4), ()], domain="positive"),
    OpCase("iadd_number", lambda L, a: augmented(operator.iadd)(L, a, 2), [(3, 4)]),
    OpCase("imul_number", lambda L, a: augmented(operator.imul)(L, a, 0.5), [(3, 4)]),
    # Chains: the in-place result feeds further ops, and the other operand requires grad.
    OpCase("inplace_chain", lambda L, a, b: (a * 2).add_(b).mul_(b).sub_(a).exp(), [(3, 4), (3, 4)]),
    # In place on a view of a non-leaf: the base's gradient goes through the op on that region.
    OpCase("inplace_on_narrow_view", lambda L, a, b: _on_view(a, lambda x: x.narrow(0, 1, 2).mul_(b)),
           [(4, 3), (2, 3)]),
    OpCase("inplace_on_select_view", lambda L, a, b: _on_view(a, lambda x: x.select(1, 0).add_(b)),
           [(4, 3), (4,)]),
    OpCase("inplace_on_transposed_view", lambda L, a: _on_view(a, lambda x: x.t().clamp_(min=0.0)), [(3, 4)]),
]


def _on_view(a, modify):
    x = a * 1
    modify(x)
    return x
