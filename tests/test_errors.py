"""The error contract (DESIGN.md): bad input raises PyTorch's exception type with PyTorch's
message, never a crash. Every case runs the same code on torch and on tapegrad."""
import pytest
import torch

import tapegrad


def run_both(code):
    """Runs `code` (an expression or statements over `lib`) on both libraries; returns the two exceptions."""
    caught = []
    for lib in (torch, tapegrad):
        env = {"lib": lib}
        with pytest.raises(Exception) as info:
            exec(compile(code, "<case>", "exec"), env)
        caught.append(info.value)
    return caught


def check_same_error(code, match=None):
    ref, ours = run_both(code)
    assert type(ours).__name__ == type(ref).__name__, f"{ours!r} vs torch's {ref!r}"
    if match is None:
        assert str(ours) == str(ref)
    else:
        assert match in str(ref), "the expected text is not in torch's message"
        assert match in str(ours), f"{str(ours)!r} lacks {match!r}"


# ---- the messages DESIGN.md names, each as torch spells it ----

CONTRACT = [
    pytest.param("lib.ones(2, 3) + lib.ones(2, 4)",
                 "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1",
                 id="broadcast"),
    pytest.param("lib.ones(2, 3) @ lib.ones(4, 5)", "mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)",
                 id="matmul"),
    pytest.param("(lib.ones(3, requires_grad=True) * 2).backward()",
                 "grad can be implicitly created only for scalar outputs", id="implicit_grad"),
    pytest.param("a = lib.ones(3, requires_grad=True)\ny = (a * a).sum()\ny.backward()\ny.backward()",
                 "Trying to backward through the graph a second time", id="second_backward"),
    pytest.param("a = lib.ones(3, requires_grad=True)\ny = (a * a).sum()\ny.backward()\ny.backward()",
                 "Specify retain_graph=True", id="second_backward_hint"),
    pytest.param("a = lib.ones(3, requires_grad=True)\nb = a.exp()\nb.add_(1)\nb.sum().backward()",
                 "one of the variables needed for gradient computation has been modified by an inplace operation",
                 id="modified_saved"),
    pytest.param("lib.ones(3, requires_grad=True).add_(1)",
                 "a leaf Variable that requires grad is being used in an in-place operation.", id="leaf_inplace"),
    pytest.param("lib.ones(3).sum().backward()",
                 "element 0 of tensors does not require grad and does not have a grad_fn", id="no_grad_fn"),
]


@pytest.mark.parametrize("code, phrase", CONTRACT)
def test_design_contract(code, phrase):
    check_same_error(code, match=phrase)
    check_same_error(code)


# ---- the same type and the same message as torch ----

SAME_MESSAGE = [
    # broadcasting
    "lib.ones(3) * lib.ones(4)",
    "lib.ones(2, 1, 3) - lib.ones(4, 2)",
    "lib.ones(5, 3) / lib.ones(2, 3)",
    "lib.ones(3) ** lib.ones(2)",
    "lib.maximum(lib.ones(3), lib.ones(2))",
    "lib.where(lib.ones(2, dtype=lib.bool), lib.ones(3), lib.ones(2))",
    "lib.ones(3).add_(lib.ones(2, 3))",
    "lib.ones(3).mul_(lib.ones(4))",
    "lib.ones(2).copy_(lib.ones(3))",
    "lib.ones(2, 3).expand(4, 3)",
    "lib.ones(2, 3).expand(3)",
    # matrix products
    "lib.mm(lib.ones(2, 3), lib.ones(4, 5))",
    "lib.matmul(lib.ones(3), lib.ones(4))",
    "lib.ones(2, 3) @ lib.ones(4)",
    "lib.ones(4) @ lib.ones(3, 2)",
    "lib.matmul(lib.tensor(1.0), lib.ones(3))",
    "lib.ones(2, 2, 3) @ lib.ones(3, 3, 4)",
    "lib.bmm(lib.ones(2, 2, 3), lib.ones(3, 3, 4))",
    "lib.bmm(lib.ones(2, 3), lib.ones(3, 4))",
    "lib.bmm(lib.ones(2, 2, 3), lib.ones(2, 4, 4))",
    "lib.mm(lib.ones(3), lib.ones(3, 2))",
    "lib.dot(lib.ones(2, 2), lib.ones(2))",
    "lib.dot(lib.ones(3), lib.ones(2))",
    "lib.mv(lib.ones(2, 3), lib.ones(4))",
    "lib.ones(2, 3) @ lib.ones(3, 2, dtype=lib.float64)",
    "lib.mm(lib.ones(2, 3, dtype=lib.int64), lib.ones(3, 2))",
    # shapes
    "lib.ones(2, 3).view(4)",
    "lib.ones(2, 3).view(-1, 4)",
    "lib.ones(2, 3).view(-1, -1)",
    "lib.ones(2, 3).view(-2, 3)",
    "lib.ones(2, 3).t().view(6)",
    "lib.ones(2, 3).reshape(4, 2)",
    "lib.ones(2, 3).reshape(-1, 5)",
    "lib.ones(3).expand(-1, 3)",
    "lib.ones(2, 3).permute(0)",
    "lib.ones(2, 3).permute(0, 0)",
    "lib.ones(2, 3, 4).flatten(2, 1)",
    "lib.ones(4, 3).narrow(1, 2, 2)",
    "lib.cat([lib.ones(2, 3), lib.ones(2, 4)])",
    "lib.cat([lib.ones(2, 3), lib.ones(3)])",
    "lib.cat([])",
    "lib.stack([lib.ones(2), lib.ones(3)])",
    "lib.stack([])",
    "lib.ones(4).split(0)",
    "lib.ones(4).chunk(0)",
    "lib.tensor(1.0).select(0, 0)",
    "lib.ones(4).as_strided((2, 2), (2, 2))",
    # dims out of range: IndexError
    "lib.ones(2, 3).sum(2)",
    "lib.ones(2, 3).sum(-3)",
    "lib.ones(2, 3).sum((0, 0))",
    "lib.ones(2, 3).mean(5)",
    "lib.ones(2, 3).transpose(0, 2)",
    "lib.ones(2, 3).permute(0, 2)",
    "lib.ones(2, 3).squeeze(3)",
    "lib.ones(2, 3).unsqueeze(4)",
    "lib.ones(2, 3).unsqueeze(-4)",
    "lib.ones(2, 3).select(2, 0)",
    "lib.ones(2, 3).narrow(2, 0, 1)",
    "lib.ones(2, 3).flatten(0, 2)",
    "lib.cat([lib.ones(2, 3), lib.ones(2, 3)], 2)",
    "lib.stack([lib.ones(2), lib.ones(2)], 2)",
    "lib.ones(2).unbind(1)",
    "lib.ones(2, 3).size(2)",
    "lib.ones(2, 3).stride(-3)",
    "lib.tensor(1.0).transpose(0, 1)",
    "lib.tensor(1.0).sum(1)",
    # values and dtypes
    "lib.ones(3).item()",
    "lib.ones(0).item()",
    "float(lib.ones(3))",
    "int(lib.ones(2))",
    "bool(lib.ones(2))",
    "bool(lib.ones(0))",
    "[1, 2, 3][lib.tensor(1.0)]",
    "len(lib.tensor(1.0))",
    "iter(lib.tensor(1.0))",
    "lib.ones(2, dtype=lib.bool) - lib.ones(2, dtype=lib.bool)",
    "-lib.ones(2, dtype=lib.bool)",
    "lib.ones(2, dtype=lib.int64).add_(1.5)",
    "lib.ones(2, dtype=lib.int64).div_(2)",
    "lib.ones(2, dtype=lib.int64).sqrt_()",
    "lib.ones(2).div(2, rounding_mode='round')",
    "lib.ones(2).clamp()",
    "lib.ones(2).fill_(lib.ones(2))",
    "lib.ones(2, requires_grad=True).numpy()",
    "lib.where(lib.ones(2), lib.ones(2), lib.ones(2))",
    # creation
    "lib.ones(-1)",
    "lib.randn(2, -3)",
    "lib.ones(2, -1)",
    "lib.arange(0, 5, 0)",
    "lib.arange(0, 5, -1)",
    "lib.linspace(0, 1, -1)",
    "lib.randint(5, 2, (3,))",
    "lib.eye(-1)",
    "lib.tensor([[1.0, 2.0], [3.0]])",
    "lib.tensor([[1.0, 2.0], 3.0])",
    "lib.tensor([1.0, [2.0]])",
    "lib.tensor([[1.0], [2.0, 3.0]])",
    "lib.tensor([lib.tensor(1.0), [2.0]])",
    "lib.tensor('abc')",
    "lib.tensor(['a'])",
    "lib.tensor([1.0, None])",
    "lib.tensor({})",
    "lib.tensor([1, 2], requires_grad=True)",
    "lib.ones(2, dtype=lib.int64, requires_grad=True)",
    "lib.ones(2).to('tpu')",
    # Python operators with unsupported operands: Python's own TypeError, naming 'Tensor'
    "lib.ones(3) + 'a'",
    "'a' + lib.ones(3)",
    "lib.ones(3) * None",
    "lib.ones(3) @ [1.0, 2.0, 3.0]",
    "pow(lib.ones(2), 2, 3)",
    "lib.ones(2) < 'a'",
    # autograd
    "(lib.ones(3, requires_grad=True) * 2).backward(lib.ones(4))",
    "lib.autograd.backward([lib.ones(3, requires_grad=True).sum()] * 2, [lib.ones(())])",
    "lib.autograd.grad((lib.ones(2, requires_grad=True) * 2).sum(), [lib.ones(2)])",
    "lib.autograd.grad(lib.ones(2).sum(), [lib.ones(2, requires_grad=True)])",
    "a = lib.ones(2, requires_grad=True)\nlib.autograd.grad((a * 2).sum(), [a, lib.ones(2, requires_grad=True)])",
    "lib.autograd.grad((lib.ones(2, requires_grad=True) * 2).sum(), [])",
    "a = lib.ones(2, requires_grad=True)\ny = (a * a).sum()\nlib.autograd.grad(y, a)\nlib.autograd.grad(y, a)",
    "a = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)\nb = a * 1\nc = b * b\nb.add_(1)\nc.sum().backward()",
    "a = lib.ones(2, 3, dtype=lib.float64)\nb = lib.ones(3, dtype=lib.float64, requires_grad=True)\n"
    "c = a * b\na.mul_(2)\nc.sum().backward()",
    "a = lib.ones(3, requires_grad=True)\nb = a.exp()\nb.view(3, 1).mul_(2)\nb.sum().backward()",
    "a = lib.ones(3, requires_grad=True)\nb = a.exp()\nb.detach().zero_()\nb.sum().backward()",
    "a = lib.ones(3, requires_grad=True)\nb = a * 1\nv = b.view(3)\nc = v * v\nb.add_(1)\nc.sum().backward()",
    "lib.ones(3, requires_grad=True).zero_()",
    "w = lib.ones(3, requires_grad=True)\nw += 1",
    "lib.ones(2, 3, requires_grad=True).transpose(0, 1).mul_(2)",
    "lib.ones(4, requires_grad=True).narrow(0, 1, 2).zero_()",
    "lib.ones(3).retain_grad()",
    "(lib.ones(2, requires_grad=True) * 2).requires_grad_(False)",
    "b = lib.ones(2, requires_grad=True) * 2\nb.requires_grad = False",
    "b = lib.ones(2, requires_grad=True) * 2\nb.requires_grad = True",
    "lib.ones(2, dtype=lib.int64).requires_grad_()",
    "b = lib.ones(2, dtype=lib.int64)\nb.requires_grad = True",
    "b = lib.ones(2)\nb.requires_grad = 'yes'",
    "a = lib.ones(2, requires_grad=True)\na.grad = lib.ones(3)",
    "a = lib.ones(2, requires_grad=True)\na.grad = lib.ones(2, dtype=lib.float64)",
    "a = lib.ones(2, requires_grad=True)\na.grad = lib.ones(2, dtype=lib.int64)",
    "a = lib.ones(2, requires_grad=True)\na.grad = [1.0, 2.0]",
    "a = lib.ones(2)\na.data = [1.0]",
    "a = lib.ones(2)\ndel a.data",
    "a = lib.ones(2, requires_grad=True)\na.data = lib.ones(2, dtype=lib.int64)",
    "lib.set_grad_enabled('yes')",
    # ---- rearranging, scanning and sorting ----
    "lib.tril(lib.ones(3))",
    "lib.ones(3).triu_()",
    "lib.ones(3, 4).cumsum(2)",
    "lib.ones(3, 4).flip(2)",
    "lib.ones(3, 4).flip(0, -2)",
    "lib.ones(3, 4).roll((1, 2), (0,))",
    "lib.ones(3, 4).roll((1, 2))",
    "lib.ones(3, 4).roll(1, 5)",
    "lib.ones(3, 4).repeat(2)",
    "lib.ones(3, 4).repeat(-1, 1)",
    "lib.ones(3, 4).repeat_interleave(-1)",
    "lib.ones(3, 4).topk(5)",
    "lib.ones(3, 4).topk(-1)",
    "lib.ones(3, 4).topk(1, dim=3)",
    "lib.ones(3, 4).sort(dim=2)",
    "lib.outer(lib.ones(2, 2), lib.ones(2))",
    "lib.outer(lib.ones(2), lib.ones(2, 2))",
    "lib.diag(lib.ones(2, 2, 2))",
    "lib.nn.functional.pad(lib.ones(2, 3), (1,))",
    "lib.nn.functional.pad(lib.ones(2, 3), (1, 1, 1, 1, 1, 1))",
    "lib.nn.functional.pad(lib.ones(2, 3), (-4, 0))",
    "lib.nn.functional.pad(lib.ones(2, 3), (1, 1), mode='foo')",
    "lib.ones(2).register_hook(lambda g: g)",
    "a = lib.ones(2, requires_grad=True)\na.register_hook(lambda g: 1.0)\n(a * 2).sum().backward()",
]


@pytest.mark.parametrize("code", SAME_MESSAGE, ids=[c.replace("\n", "; ") for c in SAME_MESSAGE])
def test_same_error_as_torch(code):
    check_same_error(code)


@pytest.mark.parametrize("attribute", ["grad_fn", "is_leaf", "shape", "dtype", "_version"])
def test_read_only_attributes(attribute):
    check_same_error(f"setattr(lib.ones(2), {attribute!r}, None)", match=f"attribute '{attribute}' of ")
    check_same_error(f"setattr(lib.ones(2), {attribute!r}, None)", match="objects is not writable")


# ---- argument parsing: torch's TypeError, its message naming the function ----

WRONG_ARGUMENT_TYPES = [
    ("lib.exp([1.0, 2.0])", "exp()"),
    ("lib.add(lib.ones(3), None)", "add()"),
    ("lib.add(lib.ones(2))", "add()"),
    ("lib.ones(3).sum('a')", None),
    ("lib.ones(2).sum(dims=0)", "sum()"),
    ("lib.ones(4).view(2.0, 2)", "view()"),
    ("lib.ones(4).reshape('a')", None),
    ("lib.ones(2, 3).transpose(0.0, 1)", "transpose()"),
    ("lib.zeros(2.5)", "zeros(): argument 'size'"),
    ("lib.zeros('a')", None),
    ("lib.tensor([1.0], dtype='float32')", "tensor()"),
    ("lib.ones(2, dtype='float32')", "ones()"),
    ("lib.full((2,), 'a')", "full()"),
    ("lib.ones(2).exp(1)", "exp()"),
    ("lib.ones(2).mul_('a')", "mul_()"),
    ("lib.ones(2).clamp('a')", "clamp()"),
]


@pytest.mark.parametrize("code, phrase", WRONG_ARGUMENT_TYPES, ids=[c for c, _ in WRONG_ARGUMENT_TYPES])
def test_wrong_argument_types_raise_type_error(code, phrase):
    ref, ours = run_both(code)
    assert isinstance(ref, TypeError)
    assert isinstance(ours, TypeError), repr(ours)
    if phrase is not None:
        assert phrase in str(ref) and phrase in str(ours), f"{ours!r} vs torch's {ref!r}"


# ---- errors leave tensors usable ----

def test_failed_inplace_op_leaves_tensor_unchanged():
    a = tapegrad.ones(3)
    with pytest.raises(RuntimeError):
        a.add_(tapegrad.ones(2, 3))
    assert a.tolist() == [1.0, 1.0, 1.0] and a._version == 0


def test_failed_backward_keeps_graph_for_retry():
    a = tapegrad.ones(3, requires_grad=True)
    y = (a * a).sum()
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        y.backward(tapegrad.ones(2))
    y.backward()
    assert a.grad.tolist() == [2.0, 2.0, 2.0]


# ---- activations ----

ACTIVATION_ERRORS = [
    "lib.nn.functional.silu(lib.ones(2, dtype=lib.int64))",
    "lib.nn.functional.elu(lib.ones(2, dtype=lib.int64))",
    "lib.nn.functional.softplus(lib.ones(2, dtype=lib.int64))",
    "lib.nn.functional.logsigmoid(lib.ones(2, dtype=lib.int64))",
    "lib.nn.functional.mish(lib.ones(2, dtype=lib.int64))",
    "lib.nn.functional.hardtanh(lib.ones(2), 2.0, 1.0)",
    "lib.nn.Hardtanh(1.0, 1.0)",
    "lib.nn.functional.elu(lib.ones(2, requires_grad=True), inplace=True)",
]


@pytest.mark.parametrize("code", ACTIVATION_ERRORS)
def test_activation_errors(code):
    check_same_error(code)
