"""Random op graphs (hypothesis) over random broadcastable shapes, run in tapegrad and in torch on the same
data: every intermediate value, and then the gradient of every leaf, must match torch's. Where torch raises
(a view of a non-viewable layout, an empty reduction), tapegrad must raise the same kind of exception.

Each graph is a straight-line program over nodes n0, n1, ...; a failure prints it, ready to replay."""
import warnings

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

import tapegrad
from fuzzkit import (CALLS, Draw, assert_same_outcome_kind, assert_tensors_match, attempt, fuzz_settings,
                     grad_fn_name)

MAX_NUMEL = 512  # larger intermediate results are dropped, which keeps expand chains small


class Graph:
    """The nodes of one program in both libraries, and in torch in float64 (`truth`, which judges
    float32 results: see fuzzkit.assert_tensors_match); `lines` is the program as text."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.ours, self.ref, self.truth, self.leaves, self.lines = [], [], [], [], []
        # A std or norm of (numerically) zero: its gradient is the direction of rounding noise, which
        # differs between any two implementations (torch's own std(dim) and std() disagree there).
        self.degenerate = False

    def shape(self, i):
        return tuple(self.ref[i].shape)

    def float_nodes(self):
        return [i for i, t in enumerate(self.ref) if t.dtype.is_floating_point]

    def program(self):
        return "\n".join(self.lines)

    def add_leaf(self, shape, dtype, requires_grad, strided):
        arr = self.rng.standard_normal(shape).astype(dtype)
        for lib, nodes in ((tapegrad, self.ours), (torch, self.ref)):
            if strided and len(shape) >= 2:
                t = lib.tensor(np.ascontiguousarray(arr.swapaxes(-1, -2))).transpose(-1, -2)
            else:
                t = lib.tensor(arr)
            nodes.append(t.requires_grad_(requires_grad))
        self.truth.append(torch.tensor(arr, dtype=torch.float64).requires_grad_(requires_grad))
        self.leaves.append(len(self.ref) - 1)
        layout = ", strided" if strided and len(shape) >= 2 else ""
        self.lines.append(f"n{len(self.ref) - 1} = leaf({shape}, {dtype}, requires_grad={requires_grad}{layout})")
        return len(self.ref) - 1

    def leaf_like(self, d, shape, dtype=None):
        """A fresh leaf for an op that needs a partner of a given shape (a matmul operand, a weight)."""
        dtype = dtype or str(self.ref[self.float_nodes()[-1]].dtype).replace("torch.", "")
        return self.add_leaf(tuple(shape), dtype, d.chance(85), d.chance(20))

    def apply(self, expr, args):
        """Runs `expr` over nodes `args` (named a, b, c) in both libraries and compares the outcomes."""
        names = "abc"[: len(args)]
        fn = eval(f"lambda L, F, {', '.join(names)}: {expr}")  # noqa: S307  (expressions from this file)
        line = f"n{len(self.ref)} = {expr}" + "".join(f"  # {n}=n{i}" for n, i in zip(names, args))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref, ref_exc = attempt(fn, torch, torch.nn.functional, *[self.ref[i] for i in args])
            ours, ours_exc = attempt(fn, tapegrad, tapegrad.nn.functional, *[self.ours[i] for i in args])
            truth = attempt(fn, torch, torch.nn.functional, *[self.truth[i] for i in args])[0]
        CALLS["graphs"] += 1
        # torch's elementwise results keep their inputs' strides, tapegrad's are contiguous; where the
        # layouts differ, torch's view() may refuse what tapegrad's accepts, and linear/reshape pick
        # other (equivalent) graphs.
        same_layout = all(self.ours[i].stride() == self.ref[i].stride() for i in args)
        if not same_layout and ref_exc is not None and ours_exc is None and ".view(" in expr:
            ref_exc = None
        else:
            assert_same_outcome_kind(ours_exc, ref_exc, f"{self.program()}\n{line}")
        if ref_exc is not None:
            self.lines.append(f"{line}  # raises {type(ref_exc).__name__}")
            return None
        self.lines.append(line)
        if ref is None:
            self.lines[-1] += "  # torch refuses this layout"
            return None
        assert_tensors_match(ours, ref, self.program(), truth)
        if ("std(" in expr or "norm(" in expr) and ref.numel():
            scale = max(float(self.ref[i].detach().abs().max()) if self.ref[i].numel() else 0.0 for i in args)
            self.degenerate |= bool(ref.detach().abs().min() <= 1e-9 * scale)
        assert not same_layout or grad_fn_name(ours) == grad_fn_name(ref), (
            f"{self.program()}\ngrad_fn {ours.grad_fn} vs {ref.grad_fn}")
        if ref.numel() > MAX_NUMEL:
            return None
        self.ours.append(ours)
        self.ref.append(ref)
        self.truth.append(truth if truth is not None else ref.detach().double())
        return len(self.ref) - 1


# ---- shapes ----

def draw_shape(d, max_rank=3):
    return tuple(d.int(1, 4) for _ in range(d.int(0, max_rank)))


def broadcast_partner(d, shape):
    """A shape that broadcasts with `shape`: a suffix of it, some dims set to 1, maybe a new leading dim."""
    out = [1 if d.chance(30) else s for s in shape[d.int(0, len(shape)):]]
    if d.chance(20) and len(shape) < 4:
        out = [d.int(1, 3)] + out
    return tuple(out)


def broadcastable(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def draw_dim(d, ndim):
    return d.int(-max(ndim, 1), max(ndim, 1) - 1)


def draw_dims(d, ndim, allow_empty=True):
    """A dim, a tuple of distinct dims, or (rarely) an empty tuple: all dims, for the ops that allow it.

    torch's var/std backward reads dim=() as one element while their forward reduces all of them, and its
    logsumexp(dim=()) fails on expanded inputs: those ops get no empty tuple."""
    if ndim == 0 or d.chance(50):
        return draw_dim(d, ndim)
    dims = d.subset(list(range(ndim)))
    if not dims and not allow_empty:
        return draw_dim(d, ndim)
    return tuple(x - ndim if d.chance(30) else x for x in dims)


def nonempty_nodes(g, accept):
    return [i for i in g.float_nodes() if accept(g.shape(i)) and 0 not in g.shape(i)]


def pick(d, g, nodes=None):
    nodes = g.float_nodes() if nodes is None else nodes
    return d.choice(nodes[-6:]) if d.chance(70) else d.choice(nodes)


# ---- ops: each returns (expression, argument nodes) or None when it does not apply ----

UNARY = ["-a", "a.abs()", "L.exp(a)", "a.log()", "a.sqrt()", "L.rsqrt(a)", "a.sin()", "L.cos(a)", "a.tanh()",
         "L.sigmoid(a)", "a.relu()", "a.square()", "a.reciprocal()", "L.log1p(a)", "a.expm1()", "a.sign()",
         "a.floor()", "L.ceil(a)", "a.round()", "a.trunc()", "F.gelu(a)", "F.gelu(a, approximate='tanh')",
         "F.leaky_relu(a, 0.2)", "F.relu(a)", "a.clone()", "a.contiguous()", "a.neg()", "L.tanh(a)",
         "a.sigmoid()", "L.abs(a)"]
SCALARS = [2, 3, 0.5, -1, -2, 1.5, 0, 2.5, -0.5]


def op_unary(d, g):
    return d.choice(UNARY), [pick(d, g)]


def op_scalar(d, g):
    c, lo, hi = d.choice(SCALARS), d.choice([-1.0, -0.5, 0.0]), d.choice([0.25, 1.0, 2.0])
    expr = d.choice([f"a ** {c}", f"L.pow(a, {c})", f"a.pow({c})", f"{abs(c) + 0.5} ** a", f"a + {c}",
                     f"{c} - a", f"a * {c}", f"{c} / a", f"a / {c or 1}", f"L.remainder(a, {c or 1.5})",
                     f"a.clamp(min={lo})", f"a.clamp(max={hi})", f"a.clamp({lo}, {hi})",
                     f"L.clamp(a, min={lo}, max={hi})", f"a.clip({lo}, {hi})", f"a.add({c}, alpha=2)",
                     f"L.sub(a, {c}, alpha=-1.5)", f"a.masked_fill(a > {lo}, {c})", f"L.where(a > {lo}, a, {c})"])
    return expr, [pick(d, g)]


BINARY = ["a + b", "a - b", "a * b", "a / b", "a ** b", "L.maximum(a, b)", "L.minimum(a, b)",
          "L.add(a, b, alpha=-0.5)", "L.sub(a, b, alpha=2)", "L.where(a > b, a, b)", "L.where(b > 0, a, b)",
          "L.remainder(a, b)", "a.pow(b)", "L.div(a, b)", "L.mul(b, a)", "a.masked_fill(b < 0, 1.5)",
          "F.mse_loss(a, b)", "F.l1_loss(a, b, reduction='sum')", "F.smooth_l1_loss(a, b, beta=0.5)",
          "F.mse_loss(a, b, reduction='none')", "F.binary_cross_entropy_with_logits(a, b.sigmoid())",
          "F.binary_cross_entropy(a.sigmoid(), b.sigmoid())", "L.where(a > 0, a, b.detach())"]


def op_binary(d, g):
    a = pick(d, g)
    partners = [i for i in g.float_nodes() if broadcastable(g.shape(a), g.shape(i))]
    if partners and d.chance(60):
        b = d.choice(partners)
    elif d.chance(5) and len(g.float_nodes()) > 1:
        b = d.choice(g.float_nodes())  # possibly not broadcastable: both libraries must raise alike
    else:
        b = g.leaf_like(d, broadcast_partner(d, g.shape(a)))
    return d.choice(BINARY), ([b, a] if d.chance(50) else [a, b])


def op_where3(d, g):
    a = pick(d, g)
    b = g.leaf_like(d, broadcast_partner(d, g.shape(a)))
    c = g.leaf_like(d, broadcast_partner(d, g.shape(a)))
    return d.choice(["L.where(a > 0, b, c)", "L.where(c < b, a, c)", "b.where(a < 0.5, c)"]), [a, b, c]


def op_matmul(d, g):
    a = pick(d, g, [i for i in g.float_nodes() if len(g.shape(i)) >= 1])
    shape = g.shape(a)
    k, m = shape[-1], d.int(1, 4)
    if len(shape) == 1:
        b_shape = d.choice([(k,), (k, m), (d.int(1, 3), k, m)])
        exprs = ["a @ b", "L.matmul(a, b)"] + (["L.dot(a, b)", "a.dot(b)"] if len(b_shape) == 1 else [])
        return d.choice(exprs), [a, g.leaf_like(d, b_shape)]
    batch = shape[:-2]
    options = [("a @ b", (k, m)), ("L.matmul(a, b)", (k,)), ("a @ b", broadcast_partner(d, batch) + (k, m)),
               ("F.linear(a, b)", (m, k)), ("F.linear(a, b, c)", (m, k))]
    if len(shape) == 2:
        options += [("a.mm(b)", (k, m)), ("L.mm(a, b)", (k, m)), ("a.mv(b)", (k,)), ("L.mv(a, b)", (k,))]
    if len(shape) == 3:
        options += [("L.bmm(a, b)", (shape[0], k, m)), ("a.bmm(b)", (shape[0], k, m))]
    expr, b_shape = d.choice(options)
    args = [a, g.leaf_like(d, b_shape)]
    if expr.endswith("c)"):
        args.append(g.leaf_like(d, d.choice([(m,), (1,), ()])))
    return expr, args


def op_reduce(d, g):
    a = pick(d, g)
    nd = len(g.shape(a))
    dim, dims, keep = draw_dim(d, nd), draw_dims(d, nd), d.choice([False, True])
    some_dims = draw_dims(d, nd, allow_empty=False)
    expr = d.choice([
        "a.sum()", f"a.sum(dim={dims}, keepdim={keep})", f"a.sum({dims})", f"L.sum(a, {dims}, {keep})",
        "a.mean()", f"a.mean(dim={dims}, keepdim={keep})", f"L.mean(a, {dims})",
        "a.prod()", f"a.prod({dim}, keepdim={keep})", f"L.prod(a, dim={dim})",
        f"a.amax({dims}, keepdim={keep})", f"a.amin(dim={dims})", f"L.amax(a, {dims})",
        "a.max()", "a.min()", f"a.max(dim={dim}, keepdim={keep}).values", f"a.min({dim})[0]",
        f"L.max(a, {dim}).values", f"L.min(a, dim={dim}, keepdim={keep}).values",
        "a.std()", f"a.std(dim={some_dims}, keepdim={keep})", f"a.var({some_dims}, correction={d.int(0, 2)})",
        f"a.var(dim={dim}, unbiased=False)", "L.var(a)", f"L.std(a, {dim})",
        "a.norm()", f"a.norm(p={d.choice([1, 2, 3])}, dim={dims}, keepdim={keep})", f"L.norm(a, dim={dim})",
        f"L.logsumexp(a, dim={some_dims}, keepdim={keep})", f"a.logsumexp({dim})",
        f"a.softmax(dim={dim})", f"a.log_softmax({dim})", f"F.softmax(a, dim={dim})",
        f"F.log_softmax(a, dim={dim})", f"L.softmax(a, {dim})", f"L.log_softmax(a, dim={dim})",
        f"F.softmin(a, dim={dim})", f"a.sum_to_size({', '.join('1' for _ in range(nd)) or '()'})",
    ])
    return expr, [a]


def op_layer_norm(d, g):
    a = pick(d, g, [i for i in g.float_nodes() if g.shape(i)])
    shape = g.shape(a)
    normalized = shape[len(shape) - d.int(1, len(shape)):]
    if d.chance(50):
        return f"F.layer_norm(a, {normalized})", [a]
    w, b = g.leaf_like(d, normalized), g.leaf_like(d, normalized)
    return f"F.layer_norm(a, {normalized}, b, c, eps=1e-3)", [a, w, b]


def op_view(d, g):
    a = pick(d, g)
    shape = g.shape(a)
    nd = len(shape)
    options = [f"a.unsqueeze({d.int(-nd - 1, nd)})", "a.squeeze()", f"a.squeeze({draw_dim(d, nd)})",
               f"a.reshape({reshape_target(d, shape)})", f"a.view({reshape_target(d, shape)})",
               f"L.reshape(a, {reshape_target(d, shape)})", "a.reshape(-1)", f"a[{draw_index(d, shape)}]",
               f"a.expand({expand_target(d, shape)})", f"a.flatten({draw_dim(d, nd)})"]
    if nd >= 1:
        d0, d1, dim = draw_dim(d, nd), draw_dim(d, nd), draw_dim(d, nd)
        options += [f"a.transpose({d0}, {d1})", f"L.transpose(a, {d0}, {d1})", f"a.swapaxes({d0}, {d1})",
                    f"a.permute({d.permutation(nd)})"]
    if nd >= 1 and shape[dim] > 0:
        size = shape[dim]
        start = d.int(0, size - 1)
        options += [f"a.narrow({dim}, {start}, {d.int(0, size - start)})", f"a.select({dim}, {d.int(-size, size - 1)})",
                    f"a.unbind({dim})[{d.int(0, size - 1)}]", f"a.split({d.int(1, 3)}, dim={dim})[0]",
                    f"a.chunk({d.int(1, 3)}, {dim})[-1]", f"L.split(a, [{start}, {size - start}], {dim})[1]",
                    f"a.flatten({d.int(0, nd - 1)}, {draw_dim(d, nd)})", f"a.unbind({dim})[-1]"]
    if nd <= 2:
        options += ["a.t()", "L.t(a)"]
    if nd >= 2:
        options += ["a.mT", "a.T" if nd == 2 else "a.mT"]
    return d.choice(options), [a]


def reshape_target(d, shape):
    numel = int(np.prod(shape))
    dims = []
    rest = numel
    while rest > 1 and len(dims) < 3:
        factors = [f for f in range(1, rest + 1) if rest % f == 0]
        f = d.choice(factors)
        dims.append(f)
        rest //= f
    if rest > 1 or not dims:
        dims.append(rest)
    if d.chance(40):
        dims[d.int(0, len(dims) - 1)] = -1
    if d.chance(20):
        dims.insert(d.int(0, len(dims)), 1)
    return tuple(dims)


def expand_target(d, shape):
    out = [d.int(1, 3) if s == 1 and d.chance(60) else (-1 if d.chance(30) else s) for s in shape]
    return tuple([d.int(1, 3) for _ in range(d.int(0, 1))] + out)


def draw_index(d, shape):
    """A basic index: ints (maybe negative), slices with positive steps, None and Ellipsis."""
    parts, ellipsis = [], False
    for size in shape[: d.int(0, len(shape))]:
        kind = d.int(3 if size == 0 else 0, 9)
        if kind < 3:
            parts.append(str(d.int(-size, size - 1)))
        elif kind < 8:
            start, stop, step = d.int(-size - 1, size), d.int(-size - 1, size + 1), d.int(1, 3)
            parts.append(f"{start}:{stop}:{step}")
        elif kind == 8:
            parts.append("None")
        elif not ellipsis:
            parts.append("...")
            ellipsis = True
    return ", ".join(parts) + "," if parts else "..."


def op_gather(d, g):
    a = pick(d, g, nonempty_nodes(g, lambda shape: len(shape) >= 1))
    shape = g.shape(a)
    dim = draw_dim(d, len(shape))
    size = shape[dim]
    idx = [d.int(-size, size - 1) for _ in range(d.int(1, 5))]
    pos = [abs(i) % size for i in idx]
    exprs = [f"a[L.tensor({idx})]", f"a.index_select({dim}, L.tensor({pos}))",
             f"L.index_select(a, {dim}, L.tensor({pos}))", f"a.take(L.tensor({pos}))", "a[a > 0]",
             "a.masked_select(a < 0.5)", f"a[..., L.tensor({pos})]" if dim == len(shape) - 1 else "a[a < 0]"]
    if len(shape) == 1:
        exprs.append(f"a.gather(0, L.tensor({[d.int(0, size - 1) for _ in range(3)]}))")
    if len(shape) == 2:
        rows = [[d.int(0, shape[1] - 1) for _ in range(d.int(1, 3))] for _ in range(shape[0])]
        exprs.append(f"a.gather(1, L.tensor({rows}))")
    return d.choice(exprs), [a]


def op_join(d, g):
    a = pick(d, g)
    same = [i for i in g.float_nodes() if g.shape(i) == g.shape(a)]
    b = d.choice(same) if d.chance(70) else g.leaf_like(d, g.shape(a))
    nd = len(g.shape(a))
    return d.choice([f"L.cat([a, b], dim={draw_dim(d, nd)})", f"L.stack([a, b], {d.int(-nd - 1, nd)})",
                     f"L.cat([a, b, a], {draw_dim(d, nd)})", "L.stack((b, a))", "L.concat([a, b * 2], 0)"]), [a, b]


def op_classification(d, g):
    a = pick(d, g, nonempty_nodes(g, lambda shape: len(shape) == 2))
    n, c = g.shape(a)
    target = [d.int(0, c - 1) for _ in range(n)]
    smoothing = d.choice([0.0, 0.1])
    return d.choice([f"F.cross_entropy(a, L.tensor({target}))",
                     f"F.cross_entropy(a, L.tensor({target}), label_smoothing={smoothing}, reduction='sum')",
                     f"F.nll_loss(a.log_softmax(1), L.tensor({target}), reduction='none')",
                     f"F.cross_entropy(a, L.tensor({target}), ignore_index={target[0]})",
                     "F.cross_entropy(a, a.detach().softmax(1))"]), [a]


OPS = [(op_unary, 3), (op_scalar, 2), (op_binary, 4), (op_where3, 1), (op_matmul, 2), (op_reduce, 3),
       (op_layer_norm, 1), (op_view, 4), (op_gather, 1), (op_join, 1), (op_classification, 1)]
WEIGHTED_OPS = [op for op, weight in OPS for _ in range(weight)]


def needs(op, g):
    """Ops whose inputs may not exist yet in this graph."""
    if op is op_matmul or op is op_layer_norm:
        return any(g.shape(i) for i in g.float_nodes())
    if op is op_gather:
        return bool(nonempty_nodes(g, lambda shape: len(shape) >= 1))
    if op is op_classification:
        return bool(nonempty_nodes(g, lambda shape: len(shape) == 2))
    return True


def build_leaves(d, g):
    base = draw_shape(d)
    if d.chance(3):
        base = base + (0,)  # empty tensors: reductions and views must agree on those too
    kind = d.int(0, 19)
    dtypes = ["float64"] * 3 if kind < 15 else ["float32"] * 3 if kind < 19 else ["float32", "float64", "float32"]
    for k in range(d.int(1, 3)):
        shape = base if k == 0 else broadcast_partner(d, base)
        g.add_leaf(shape, dtypes[k], d.chance(85), d.chance(25))


def run_graph(d):
    g = Graph(d.int(0, 2**32 - 1))
    build_leaves(d, g)
    for _ in range(d.int(1, 8)):
        op = d.choice(WEIGHTED_OPS)
        if needs(op, g):
            expr, args = op(d, g)
            g.apply(expr, args)
    check_gradients(d, g)


def check_gradients(d, g):
    """Backward from the last node and a random subset of the others, with random upstream gradients."""
    roots = [i for i in g.float_nodes() if g.ref[i].requires_grad and i not in g.leaves]
    if not roots or g.degenerate:
        return
    roots = sorted(set([roots[-1]] + d.subset(roots)))
    seeds = [g.rng.standard_normal(g.shape(i)) for i in roots]
    outcomes = []
    for lib, nodes in ((torch, g.ref), (tapegrad, g.ours)):
        grads = [lib.tensor(s, dtype=nodes[i].dtype) for s, i in zip(seeds, roots)]
        outcomes.append(attempt(lib.autograd.backward, [nodes[i] for i in roots], grads))
    truth_roots = [i for i in roots if g.truth[i].requires_grad]
    if truth_roots:
        attempt(torch.autograd.backward, [g.truth[i] for i in truth_roots],
                [torch.tensor(seeds[roots.index(i)]) for i in truth_roots])
    CALLS["graphs"] += 1
    what = f"{g.program()}\nbackward from {', '.join(f'n{i}' for i in roots)}"
    assert_same_outcome_kind(outcomes[1][1], outcomes[0][1], what)
    for i in g.leaves:
        ref_grad, our_grad = g.ref[i].grad, g.ours[i].grad
        if ref_grad is None:
            assert our_grad is None, f"{what}\nn{i}.grad should be None"
        else:
            assert our_grad is not None, f"{what}\nn{i}.grad is None"
            assert_tensors_match(our_grad, ref_grad, f"{what}\nn{i}.grad", g.truth[i].grad)


@fuzz_settings(300)
@given(data=st.data())
def test_random_graphs_match_torch(data):
    run_graph(Draw(data))

