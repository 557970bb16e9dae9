from optables import OpCase

INF = float("inf")


def _expanded(a):
    """A stride-0 input: the kernels must not assume every element is stored once."""
    return a.unsqueeze(1).expand(3, 4, 5)


CASES = [
    # sum / mean
    OpCase("sum", lambda L, a: a.sum(), [(3, 4)]),
    OpCase("sum_fn", lambda L, a: L.sum(a), [(2, 3, 4)]),
    OpCase("sum_dim0", lambda L, a: a.sum(0), [(3, 4)]),
    OpCase("sum_dim_neg_keepdim", lambda L, a: a.sum(-1, keepdim=True), [(2, 3, 4)]),
    OpCase("sum_dims_tuple", lambda L, a: L.sum(a, (0, 2)), [(2, 3, 4)]),
    OpCase("sum_dims_list_keepdim", lambda L, a: a.sum(dim=[2, 0], keepdim=True), [(2, 3, 4)]),
    OpCase("sum_dim_none_keepdim", lambda L, a: a.sum(dim=None, keepdim=True), [(3, 4)]),
    OpCase("sum_dtype", lambda L, a: a.sum(1, dtype=L.float64), [(3, 4)]),
    OpCase("sum_expanded", lambda L, a: _expanded(a).sum(1), [(3, 5)]),
    OpCase("sum_0dim", lambda L, a: a.sum(0), [()], noncontig=False),
    OpCase("mean", lambda L, a: a.mean(), [(3, 4)]),
    OpCase("mean_dim", lambda L, a: L.mean(a, 1), [(2, 3, 4)]),
    OpCase("mean_dims_keepdim", lambda L, a: a.mean((0, 2), keepdim=True), [(2, 3, 4)]),
    OpCase("mean_dtype", lambda L, a: a.mean(-1, dtype=L.float64), [(3, 4)]),
    OpCase("mean_expanded", lambda L, a: _expanded(a).mean((0, 2)), [(3, 5)]),
    # prod
    OpCase("prod", lambda L, a: a.prod(), [(3, 4)]),
    OpCase("prod_dim", lambda L, a: L.prod(a, 1), [(2, 3, 4)]),
    OpCase("prod_dim_keepdim", lambda L, a: a.prod(0, keepdim=True), [(3, 4)]),
    OpCase("prod_dtype", lambda L, a: a.prod(-1, dtype=L.float64), [(3, 4)]),
    # max / min
    OpCase("max", lambda L, a: a.max(), [(3, 4)]),
    OpCase("min_fn", lambda L, a: L.min(a), [(2, 3, 4)]),
    OpCase("max_dim", lambda L, a: a.max(1), [(3, 4)], gradcheck=False),
    OpCase("max_dim_values", lambda L, a: L.max(a, dim=0).values, [(3, 4)]),
    OpCase("max_dim_keepdim", lambda L, a: a.max(-1, keepdim=True), [(2, 3, 4)], gradcheck=False),
    OpCase("min_dim", lambda L, a: L.min(a, 2), [(2, 3, 4)], gradcheck=False),
    OpCase("min_dim_values_keepdim", lambda L, a: a.min(1, True)[0], [(2, 3, 4)]),
    OpCase("max_other", lambda L, a, b: L.max(a, b), [(2, 3, 4), (3, 1)]),
    OpCase("min_other_method", lambda L, a, b: a.min(b), [(3, 1), (3, 4)]),
    OpCase("max_expanded", lambda L, a: _expanded(a).max(2).values, [(3, 5)]),
    # amax / amin
    OpCase("amax", lambda L, a: a.amax(), [(3, 4)]),
    OpCase("amax_dims", lambda L, a: L.amax(a, (0, 2)), [(2, 3, 4)]),
    OpCase("amin_dim_keepdim", lambda L, a: a.amin(1, keepdim=True), [(2, 3, 4)]),
    OpCase("amin_fn", lambda L, a: L.amin(a, dim=-1), [(3, 4)]),
    # argmax / argmin (integer results, no gradient)
    OpCase("argmax", lambda L, a: a.argmax(), [(3, 4)], grad=False),
    OpCase("argmax_dim", lambda L, a: L.argmax(a, 1), [(2, 3, 4)], grad=False),
    OpCase("argmax_keepdim", lambda L, a: a.argmax(dim=-1, keepdim=True), [(2, 3, 4)], grad=False),
    OpCase("argmax_none_keepdim", lambda L, a: a.argmax(keepdim=True), [(3, 4)], grad=False),
    OpCase("argmin_dim", lambda L, a: L.argmin(a, dim=0), [(3, 4)], grad=False),
    OpCase("argmin", lambda L, a: a.argmin(), [(2, 3, 4)], grad=False),
    # var / std
    OpCase("var", lambda L, a: a.var(), [(3, 4)]),
    OpCase("var_dim", lambda L, a: L.var(a, 1), [(2, 3, 4)]),
    OpCase("var_unbiased_false", lambda L, a: a.var(unbiased=False), [(3, 4)]),
    OpCase("var_dim_unbiased_keepdim", lambda L, a: L.var(a, 0, False, True), [(3, 4)]),
    OpCase("var_correction", lambda L, a: a.var((0, 2), correction=2), [(2, 3, 4)]),
    OpCase("std", lambda L, a: a.std(), [(3, 4)]),
    OpCase("std_dim_keepdim", lambda L, a: L.std(a, -1, keepdim=True), [(2, 3, 4)]),
    OpCase("std_correction0", lambda L, a: a.std(dim=(0, 1), correction=0), [(2, 3, 4)]),
    OpCase("std_unbiased_positional", lambda L, a: L.std(a, False), [(3, 4)]),
    # logsumexp
    OpCase("logsumexp", lambda L, a: a.logsumexp(1), [(3, 4)]),
    OpCase("logsumexp_dims_keepdim", lambda L, a: L.logsumexp(a, (0, 2), keepdim=True), [(2, 3, 4)]),
    OpCase("logsumexp_neg_dim", lambda L, a: L.logsumexp(a, dim=-1), [(2, 3, 4)]),
    OpCase("logsumexp_expanded", lambda L, a: _expanded(a).logsumexp(1), [(3, 5)]),
    # softmax / log_softmax
    OpCase("softmax", lambda L, a: a.softmax(1), [(3, 4)]),
    OpCase("softmax_dim0", lambda L, a: L.softmax(a, 0), [(2, 3, 4)]),
    OpCase("softmax_mid_dim", lambda L, a: L.softmax(a, dim=1), [(2, 3, 4)]),
    OpCase("softmax_dtype", lambda L, a: a.softmax(-1, dtype=L.float64), [(3, 4)]),
    OpCase("softmax_expanded", lambda L, a: _expanded(a).softmax(1), [(3, 5)]),
    OpCase("log_softmax", lambda L, a: a.log_softmax(-1), [(3, 4)]),
    OpCase("log_softmax_dim0", lambda L, a: L.log_softmax(a, 0), [(2, 3, 4)]),
    OpCase("log_softmax_dtype", lambda L, a: L.log_softmax(a, 1, dtype=L.float64), [(2, 3, 4)]),
    OpCase("log_softmax_expanded", lambda L, a: _expanded(a).log_softmax(-1), [(3, 5)]),
    # norm
    OpCase("norm", lambda L, a: a.norm(), [(3, 4)]),
    OpCase("norm_fn_dim", lambda L, a: L.norm(a, dim=1), [(2, 3, 4)]),
    OpCase("norm_fro_keepdim", lambda L, a: L.norm(a, p="fro", dim=(0, 1), keepdim=True), [(2, 3, 4)]),
    OpCase("norm_p1", lambda L, a: a.norm(1, 1), [(3, 4)]),
    OpCase("norm_p3", lambda L, a: a.norm(p=3, dim=-1), [(3, 4)]),
    OpCase("norm_p0", lambda L, a: a.norm(0), [(3, 4)]),
    OpCase("norm_inf", lambda L, a: a.norm(INF, dim=0), [(3, 4)]),
    OpCase("norm_neg_inf", lambda L, a: L.norm(a, -INF), [(3, 4)]),
    OpCase("norm_dtype", lambda L, a: a.norm(dtype=L.float64), [(3, 4)]),
    # any / all / isclose (bool results)
    OpCase("any", lambda L, a: (a > 1).any(), [(3, 4)], grad=False),
    OpCase("any_dim", lambda L, a: L.any(a > 0.5, 1), [(2, 3, 4)], grad=False),
    OpCase("all_dims_keepdim", lambda L, a: (a > -1).all((0, 2), keepdim=True), [(2, 3, 4)], grad=False),
    OpCase("all_float", lambda L, a: L.all(a, dim=-1), [(3, 4)], grad=False),
    OpCase("isclose", lambda L, a, b: L.isclose(a, a + b * 1e-5), [(2, 3, 4), (1, 4)], grad=False),
    OpCase("isclose_tol", lambda L, a, b: a.isclose(b, rtol=0.5, atol=0.5), [(3, 4), (3, 4)], grad=False),
]
