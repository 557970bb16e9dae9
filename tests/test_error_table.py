"""The error contract over the whole public API, as a table: each row is code over `lib` that must raise in
torch and in tapegrad. torch is the oracle for the exception type and for the message's key words: the
shapes, sizes, numbers and quoted names in torch's message (or the words a row lists) must appear in
tapegrad's message too. tests/test_errors.py pins exact messages for the core tensor ops; this table spans
every family (creation, elementwise, reductions, shapes, indexing, linear algebra, autograd, nn.functional,
layers, losses, optimizers and schedulers, data loading, serialization)."""
import re
import warnings

import pytest
import torch

import tapegrad
from fuzzkit import same_error_kind

# Key words torch's message must share with tapegrad's: [shapes], (sizes), 'names' and numbers.
KEY_WORD = re.compile(r"\[[^\]]*\]|\(\d[^)]*\)|'[^']*'|(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")


def key_words(message):
    return [w for w in KEY_WORD.findall(message.split("\n")[0]) if len(w) < 60]


def raised(code, lib):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the broadcasting warnings some rows give on their way to the error
        try:
            exec(compile(code, "<row>", "exec"), {"lib": lib})
        except Exception as exc:  # noqa: BLE001  (the outcome under test)
            return exc
    return None


ROWS = [
    # ---- creation ----
    "lib.zeros(2, -3)", "lib.full((2, -1), 1.0)", "lib.eye(3, -2)", "lib.arange(1, 0, 1)",
    "lib.arange(0, 1, 0.5, dtype=lib.int64)", "lib.linspace(0, 1, -2)", "lib.randint(3, 3, (2,))",
    "lib.randperm(-1)", "lib.ones(2**62)", "lib.ones(3).expand(2**62, 2**62, 3)", "lib.full((2,), float('nan'), dtype=lib.int64)",
    "lib.tensor([1, 2], dtype=lib.float32, requires_grad=True).long().requires_grad_()",
    "lib.zeros(2, dtype=lib.int64, requires_grad=True)", "lib.tensor([[1], [2, 3]])",
    "lib.tensor(b'ab')", "lib.empty(2, 3).uniform_(2.0, 1.0)", "lib.empty(3).normal_(0.0, -1.0)",
    "lib.ones(2, device='tpu')", "lib.ones(2, device='cpu:-1')", "lib.ones(2, device=-1)",
    "lib.zeros_like(lib.ones(2), dtype=lib.int64, requires_grad=True)",
    # ---- elementwise ----
    "lib.ones(2, 3) + lib.ones(3, 2)", "lib.ones(2, dtype=lib.int64) // 0",
    "lib.ones(2, dtype=lib.int64).add_(lib.ones(2))", "lib.ones(2, dtype=lib.bool).neg()",
    "lib.where(lib.ones(2), lib.ones(2), lib.ones(2))", "lib.ones(2).pow_(lib.ones(3))",
    "(lambda t: t[1:].add_(t[:3]))(lib.ones(4))", "lib.ones(3).expand(2, 3).mul_(2)",
    ("lib.logical_and(lib.ones(2), 1)", ["logical_and()"]), "lib.pow(2, 3)", "lib.remainder(2, 3)",
    "lib.ones(2, dtype=lib.int64).fill_(float('inf'))",
    # ---- reductions ----
    "lib.ones(2, 3).sum(dim=5)", "lib.ones(2, 3).mean(dim=(0, 0))", "lib.ones(2, dtype=lib.int64).mean()",
    "lib.ones(2, 3).sum(keepdim=True)", "lib.ones(0).amax()", "lib.ones(2, 0).max(dim=1)",
    "lib.ones(2, 3).std(dim=3)", "lib.ones(3).var(correction=1, unbiased=True)",
    "lib.ones(2, 3).logsumexp(dim=2)", "lib.ones(2, 3).argmax(dim=2)",
    "lib.ones(2, 3).softmax(dim=2)", "lib.ones(2, 3).sum_to_size(4)", "lib.ones(2, 3).norm(p='fro', dim=5)",
    # ---- shapes and views ----
    "lib.ones(2, 3).view(5)", "lib.ones(2, 3).t().view(6)", "lib.ones(2, 3).reshape(4, -1)",
    "lib.ones(2, 3).permute(0, 0)", "lib.ones(2, 3).transpose(0, 5)", "lib.ones(2, 3).expand(3, 3)",
    "lib.ones(2, 3).squeeze((0, 0))", "lib.ones(2, 3).narrow(1, 2, 5)", "lib.ones(2, 3).split(-1)",
    "lib.ones(2, 3).chunk(0)", "lib.ones(2, 3).flatten(1, 0)",
    "lib.cat([lib.ones(2), lib.ones(2, 2)])", "lib.stack([lib.ones(2), lib.ones(3)], 1)",
    "lib.ones(4).as_strided((2, 2), (1, 1), -1)", "lib.ones(4).as_strided((3, 3), (3, 1))",
    "lib.ones(2, 3).unbind(2)", "lib.tensor(1.0).narrow(0, 0, 1)", "lib.tensor(1.0).size(0)",
    # ---- indexing ----
    "lib.ones(3)[5]", "lib.ones(3)[lib.tensor([0, 5])]", "lib.ones(2, 3)[:, :, 0]", "lib.ones(3)[1.5]",
    "lib.ones(3)[lib.ones(2, dtype=lib.bool)]", "lib.ones(3).index_select(0, lib.tensor([3]))",
    "lib.ones(3).index_select(0, lib.ones(1))", "lib.ones(2, 3).gather(1, lib.tensor([[0, 3]]))",
    "lib.ones(2, 3).gather(1, lib.tensor([0, 1]))", "lib.zeros(3).scatter_(0, lib.tensor([4]), 1.0)",
    "lib.ones(3).take(lib.tensor([10]))", "lib.ones(3).masked_fill(lib.ones(3), 0.0)",
    "lib.ones(3).masked_select(lib.ones(2, dtype=lib.bool))",
    "t = lib.ones(3)\nt[lib.tensor([0, 1])] = lib.ones(3)", "t = lib.ones(3)\nt[0] = 'a'",
    "lib.ones(3, dtype=lib.int64).index_put_((lib.tensor([0]),), lib.ones(1))",
    # ---- linear algebra ----
    "lib.ones(2, 3) @ lib.ones(2, 3)", "lib.mm(lib.ones(2), lib.ones(2, 2))", "lib.bmm(lib.ones(2, 2, 3), lib.ones(3, 2, 2))",
    "lib.mv(lib.ones(2, 3), lib.ones(2))", "lib.dot(lib.ones(2), lib.ones(2, dtype=lib.float64))",
    "lib.matmul(lib.ones(2, 2, 3), lib.ones(4, 3, 2))", "lib.mv(lib.tensor(1.0), lib.ones(3))",
    # ---- autograd ----
    "x = lib.ones(2, requires_grad=True)\n(x * 2).backward()",
    "x = lib.ones(2, requires_grad=True)\ny = (x * x).sum()\ny.backward()\ny.backward()",
    "x = lib.ones(2, requires_grad=True)\nx.add_(1)",
    "x = lib.ones(2, requires_grad=True)\ny = x.exp()\ny.mul_(2)\ny.sum().backward()",
    "x = lib.ones(3, 2, requires_grad=True) * 1\nv = x.unbind(0)[0]\nv.mul_(2)",
    "x = lib.ones(3, 2, requires_grad=True) * 1\nwith lib.no_grad():\n    v = x[0]\nv.mul_(2)",
    "x = lib.ones(3, requires_grad=True) * 1\nx[1:].detach_()",
    "x = lib.ones(2, requires_grad=True)\nlib.autograd.grad((x * 2).sum(), [x, lib.ones(2, requires_grad=True)])",
    "x = lib.ones(2, requires_grad=True)\nlib.autograd.backward([(x * 2).sum(), x.sum()], [lib.ones(())])",
    "x = lib.ones(2, requires_grad=True)\nlib.autograd.backward((x * 2).sum(), 'a')",
    "x = lib.ones(2, requires_grad=True)\n(x * 2).sum().backward(retain_graph='a')",
    "x = lib.ones(2, requires_grad=True)\n(x * 2).backward(lib.ones(3))",
    "x = lib.ones(2, requires_grad=True)\nx.grad = lib.ones(3)",
    "x = lib.ones(2, requires_grad=True)\ny = (x * 2)\ny.requires_grad = False",
    "x = lib.ones(2, requires_grad=True)\ny = x.sin()\nz = x * y\ny.detach_()\nz.sum().backward()",
    "x = lib.ones(2, requires_grad=True)\n(x // 1).sum().backward()",
    "lib.ones(2).retain_grad()",
    # ---- nn.functional ----
    "lib.nn.functional.linear(lib.ones(2, 3), lib.ones(4, 2))",
    "lib.nn.functional.linear(lib.ones(2, 3), lib.ones(3), lib.ones(()))",
    "lib.nn.functional.relu([1.0])", "lib.nn.functional.gelu(lib.ones(2), approximate='fast')",
    "lib.nn.functional.softmax(lib.ones(2, 3), dim=3)", "lib.nn.functional.dropout(lib.ones(2), p=1.5)",
    "lib.nn.functional.dropout(lib.ones(2, dtype=lib.int64), p=0.5)",
    "lib.nn.functional.one_hot(lib.tensor([1, 5]), num_classes=3)", "lib.nn.functional.one_hot(lib.ones(2))",
    "lib.nn.functional.embedding(lib.tensor([5]), lib.ones(3, 2))",
    "lib.nn.functional.embedding(lib.tensor([1]), lib.ones(3, 2), padding_idx=5)",
    "lib.nn.functional.layer_norm(lib.ones(2, 3), (4,))", "lib.nn.functional.layer_norm(lib.ones(2, 3), 3)",
    "lib.nn.functional.layer_norm(lib.ones(2, 3), (3,), lib.ones(3, dtype=lib.float64))",
    "lib.nn.functional.batch_norm(lib.ones(2, 3), lib.ones(4), lib.ones(4))",
    "lib.nn.functional.batch_norm(lib.ones(2, 3), None, None)",
    "lib.nn.functional.batch_norm(lib.ones(2, 3), lib.ones(3), None, training=True)",
    "lib.nn.functional.batch_norm(lib.ones(1, 3), None, None, training=True)",
    "lib.nn.functional.batch_norm(lib.ones(2, 3), lib.zeros(3), lib.ones(3), training=True, eps=0.0)",
    # ---- losses ----
    "lib.nn.functional.mse_loss(lib.ones(2, 3), lib.ones(3, 2))", "lib.nn.functional.mse_loss(lib.ones(2), lib.ones(2), reduction='avg')",
    "lib.nn.functional.l1_loss(lib.ones(2), lib.ones(2, dtype=lib.bool))",
    "lib.nn.functional.smooth_l1_loss(lib.ones(2), lib.ones(2), beta=-1.0)",
    "lib.nn.functional.cross_entropy(lib.ones(2, 3), lib.tensor([0, 3]))",
    "lib.nn.functional.cross_entropy(lib.ones(2, 3), lib.tensor([0]))",
    "lib.nn.functional.cross_entropy(lib.ones(2, 3), lib.ones(2))",
    "lib.nn.functional.cross_entropy(lib.ones(3), lib.tensor([0, 1]))",
    "lib.nn.functional.cross_entropy(lib.ones(2, 3), lib.tensor([0, 1]), label_smoothing=1.5)",
    "lib.nn.functional.cross_entropy(lib.ones(2, 3), lib.tensor([0, 1]), weight=lib.ones(2))",
    "lib.nn.functional.nll_loss(lib.tensor(1.0), lib.tensor([0]))",
    "lib.nn.functional.binary_cross_entropy(lib.ones(2) * 2, lib.ones(2))",
    "lib.nn.functional.binary_cross_entropy(lib.ones(2) / 2, lib.ones(2) * 2)",
    "lib.nn.functional.binary_cross_entropy(lib.ones(2) / 2, lib.ones(3) / 2)",
    "lib.nn.functional.binary_cross_entropy_with_logits(lib.ones(2), lib.ones(3))",
    "lib.nn.functional.binary_cross_entropy_with_logits(lib.ones(2, dtype=lib.int64), lib.ones(2))",
    # ---- layers ----
    "lib.nn.Linear(3, 2)(lib.ones(2, 4))", "lib.nn.Linear(-1, 2)", "lib.nn.Embedding(3, 2, padding_idx=4)",
    "lib.nn.Embedding(3, 2)(lib.tensor([3]))", "lib.nn.LayerNorm(3)(lib.ones(2, 4))",
    "lib.nn.BatchNorm1d(3)(lib.ones(2, 4))", "lib.nn.BatchNorm1d(3)(lib.ones(1, 3))",
    "lib.nn.Dropout(p=-0.1)", "lib.nn.Softmax(dim=2)(lib.ones(2, 3))", "lib.nn.Flatten(2)(lib.ones(2, 3))",
    "lib.nn.Sequential(lib.nn.Linear(3, 2))(lib.ones(2, 2))", "lib.nn.ModuleList([1])",
    "lib.nn.Linear(3, 2).load_state_dict({'weight': lib.ones(3, 3), 'bias': lib.ones(2)})",
    "lib.nn.Linear(3, 2).load_state_dict({'weight': lib.ones(2, 3)})",
    "m = lib.nn.Linear(3, 2)\nm.register_buffer('weight', lib.ones(2))",
    "m = lib.nn.Linear(3, 2)\nm.register_parameter('w', lib.ones(2))",
    "m = lib.nn.Module()\nm.add_module('a.b', lib.nn.Linear(1, 1))",
    "lib.nn.Linear(3, 2).get_parameter('missing')",
    "lib.nn.CrossEntropyLoss(reduction='avg')(lib.ones(2, 3), lib.tensor([0, 1]))",
    "lib.nn.MSELoss()(lib.ones(2, 3), lib.ones(3, 2))",
    # ---- optimizers and schedulers ----
    "lib.optim.SGD([], lr=0.1)", "lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=-0.1)",
    "lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.1, momentum=-1.0)",
    "lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.1, nesterov=True)",
    "lib.optim.SGD(lib.ones(2, requires_grad=True), lr=0.1)",
    "lib.optim.SGD([lib.ones(2, requires_grad=True) * 2], lr=0.1)",
    "lib.optim.Adam([lib.ones(2, requires_grad=True)], betas=(1.0, 0.9))",
    "lib.optim.Adam([lib.ones(2, requires_grad=True)], eps=-1.0)",
    "lib.optim.AdamW([lib.ones(2, requires_grad=True)], weight_decay=-0.1)",
    "lib.optim.RMSprop([lib.ones(2, requires_grad=True)], alpha=-1.0)",
    "p = lib.ones(2, requires_grad=True)\nlib.optim.SGD([{'params': [p]}, {'params': [p]}], lr=0.1)",
    "o = lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.1)\no.load_state_dict({'state': {}})",
    "o = lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.1)\n"
    "o.load_state_dict({'state': {}, 'param_groups': [{'params': [0, 1], 'lr': 0.1}]})",
    "lib.optim.lr_scheduler.StepLR(object(), step_size=1)",
    "o = lib.optim.SGD([lib.ones(2, requires_grad=True)], lr=0.1)\nlib.optim.lr_scheduler.LambdaLR(o, [len, len])",
    # ---- data ----
    "lib.utils.data.TensorDataset(lib.ones(3), lib.ones(4))", "lib.utils.data.DataLoader([1, 2], batch_size=0)",
    "lib.utils.data.DataLoader([1, 2], batch_size=-1)", "lib.utils.data.DataLoader([1, 2], shuffle=True, sampler=[0])",
    "lib.utils.data.DataLoader([1, 2], batch_sampler=[[0]], batch_size=2)",
    "lib.utils.data.DataLoader([1, 2], num_workers=-1)", "lib.utils.data.DataLoader([1, 2], timeout=-1)",
    "list(lib.utils.data.DataLoader([1, 2], timeout=1))",
    "lib.utils.data.random_split([1, 2, 3], [2, 2])", "lib.utils.data.random_split([1, 2, 3], [0.5, 0.6])",
    "lib.utils.data.BatchSampler(range(3), 0, False)", "lib.utils.data.RandomSampler([1], num_samples=0)",
    "lib.utils.data.default_collate([lib.ones(2), lib.ones(3)])", "lib.utils.data.default_collate([[1, 2], [3]])",
    "lib.utils.data.ConcatDataset([])", "lib.utils.data.Subset([1, 2], [5])[0]",
    # ---- serialization and generators ----
    "lib.save(lib.ones(2), 42)", "lib.load('no/such/file.pt')", "lib.load(42)",
    "import io\nf = io.BytesIO()\nlib.save(lib.ones(2), f)\nf.seek(0)\nlib.load(f, map_location=5)",
    "lib.manual_seed('x')", "lib.manual_seed(2**64)", "lib.Generator().manual_seed(1.5)",
    "lib.randperm(3, generator=5)",
]


# A row is code, or (code, words) where torch's message is its argument parser's and the words to share
# are given instead (tapegrad's parser, pybind11, words its messages differently).
CASES = [row if isinstance(row, tuple) else (row, None) for row in ROWS]


@pytest.mark.parametrize("code, words", CASES, ids=[c.replace("\n", "; ")[:90] for c, _ in CASES])
def test_error_matches_torch(code, words):
    ref = raised(code, torch)
    assert ref is not None, "torch does not raise: the row is not an error case"
    ours = raised(code, tapegrad)
    assert ours is not None, f"tapegrad does not raise; torch raises {ref!r}"
    assert same_error_kind(ours, ref), f"tapegrad raises {ours!r}, torch {ref!r}"
    if words is not None:
        assert all(w in str(ref) for w in words), "the row's words are not in torch's message"
    missing = [w for w in (key_words(str(ref)) if words is None else words) if w not in str(ours)]
    assert not missing, f"tapegrad's message lacks {missing}:\n  tapegrad: {ours}\n  torch:    {ref}"


def test_key_words_are_shapes_sizes_names_and_numbers():
    message = "The size of tensor a (3) must match the size of tensor b (4) at non-singleton dimension 1"
    assert key_words(message) == ["(3)", "(4)", "1"]
    assert key_words("mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)") == ["(2x3 and 4x5)"]
    assert key_words("shape '[2, -1]' is invalid for input of size 6") == ["'[2, -1]'", "6"]
