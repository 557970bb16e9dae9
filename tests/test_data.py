"""tapegrad.utils.data against torch.utils.data: the same batches, in the same order, from the
same seeds, with the same container types, and the same errors."""
import collections
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.utils.data as tdata

import tapegrad
import tapegrad.utils.data as data

Point = collections.namedtuple("Point", "x y")


def plain(obj):
    """A comparable picture of a batch: tensors become (dtype, shape, values), containers keep their type."""
    if isinstance(obj, (torch.Tensor, tapegrad.Tensor)):
        return ("tensor", str(obj.dtype), tuple(obj.shape), obj.tolist())
    if isinstance(obj, dict):
        return (type(obj).__name__, {k: plain(v) for k, v in obj.items()})
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return ("namedtuple", tuple(plain(v) for v in obj))
    if isinstance(obj, (list, tuple)):
        return (type(obj).__name__, [plain(v) for v in obj])
    return (type(obj).__name__, obj)


def same_batches(tg_loader, torch_loader):
    assert len(tg_loader) == len(torch_loader)
    got = [plain(b) for b in tg_loader]
    assert got == [plain(b) for b in torch_loader]
    return got


def pair(n=10, width=2):
    x = np.arange(n * width, dtype=np.float32).reshape(n, width)
    y = np.arange(n, dtype=np.int64)
    return (data.TensorDataset(tapegrad.from_numpy(x), tapegrad.from_numpy(y)),
            tdata.TensorDataset(torch.from_numpy(x), torch.from_numpy(y)))


def raises_like(tg_call, torch_call):
    with pytest.raises(Exception) as expected:
        torch_call()
    with pytest.raises(expected.type) as got:
        tg_call()
    assert str(got.value) == str(expected.value)


class ListDataset(data.Dataset):
    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


class TorchListDataset(tdata.Dataset):
    def __init__(self, items):
        self.items = items

    def __getitem__(self, i):
        return self.items[i]

    def __len__(self):
        return len(self.items)


class Stream(data.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


class TorchStream(tdata.IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


def test_reachable_from_the_top_level_and_loaded_on_first_use():
    code = ("import sys, tapegrad; assert 'tapegrad.utils' not in sys.modules; "
            "print(tapegrad.utils.data.DataLoader.__module__)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(pathlib.Path(tapegrad.__file__).parents[1]),
                                                       os.environ.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out == "tapegrad.utils.data.dataloader\n"


# ---- datasets ----

def test_tensor_dataset_items_and_length():
    tg_ds, torch_ds = pair()
    assert len(tg_ds) == len(torch_ds) == 10
    assert plain(tg_ds[3]) == plain(torch_ds[3])
    assert plain(tg_ds[-1]) == plain(torch_ds[-1])
    assert isinstance(tg_ds[0], tuple)


def test_tensor_dataset_size_mismatch():
    raises_like(lambda: data.TensorDataset(tapegrad.zeros(3), tapegrad.zeros(4)),
                lambda: tdata.TensorDataset(torch.zeros(3), torch.zeros(4)))


def test_dataset_base_class():
    raises_like(lambda: data.Dataset()[0], lambda: tdata.Dataset()[0])
    assert data.Dataset[int] is data.Dataset and data.Sampler[int] is data.Sampler
    both = ListDataset([1, 2]) + ListDataset([3])
    assert isinstance(both, data.ConcatDataset)
    assert [both[i] for i in range(len(both))] == [1, 2, 3] and both[-1] == 3


def test_subset_and_concat_dataset():
    tg_ds, torch_ds = pair()
    assert plain(data.Subset(tg_ds, [4, 1])[1]) == plain(tdata.Subset(torch_ds, [4, 1])[1])
    concat = data.ConcatDataset([ListDataset([1, 2, 3]), ListDataset([4, 5])])
    assert concat.cumulative_sizes == [3, 5] and [concat[i] for i in range(5)] == [1, 2, 3, 4, 5]
    raises_like(lambda: data.ConcatDataset([]), lambda: tdata.ConcatDataset([]))
    raises_like(lambda: data.ConcatDataset([Stream(2)]), lambda: tdata.ConcatDataset([TorchStream(2)]))
    raises_like(lambda: concat[-6], lambda: tdata.ConcatDataset([TorchListDataset([1, 2, 3]),
                                                                 TorchListDataset([4, 5])])[-6])


@pytest.mark.parametrize("lengths", [[3, 7], [0.3, 0.7], [0.5, 0.25, 0.25], [1, 1, 8]])
def test_random_split_matches_torch(lengths):
    tg_ds, torch_ds = pair()
    tg_parts = data.random_split(tg_ds, lengths, generator=tapegrad.Generator().manual_seed(7))
    torch_parts = tdata.random_split(torch_ds, lengths, generator=torch.Generator().manual_seed(7))
    assert [p.indices for p in tg_parts] == [p.indices for p in torch_parts]
    tapegrad.manual_seed(3)
    torch.manual_seed(3)
    assert ([p.indices for p in data.random_split(tg_ds, lengths)]
            == [p.indices for p in tdata.random_split(torch_ds, lengths)])


def test_random_split_errors():
    tg_ds, torch_ds = pair()
    raises_like(lambda: data.random_split(tg_ds, [3, 3]), lambda: tdata.random_split(torch_ds, [3, 3]))
    raises_like(lambda: data.random_split(tg_ds, [1.5, -0.5]), lambda: tdata.random_split(torch_ds, [1.5, -0.5]))


# ---- DataLoader: order and contents ----

@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 12])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_batches_match_torch(batch_size, drop_last):
    tg_ds, torch_ds = pair()
    batches = same_batches(data.DataLoader(tg_ds, batch_size=batch_size, drop_last=drop_last),
                           tdata.DataLoader(torch_ds, batch_size=batch_size, drop_last=drop_last))
    assert all(kind == "list" for kind, _ in batches)  # (x, y) samples collate to [xs, ys], as in torch


@pytest.mark.parametrize("seed", [0, 1, 12345])
def test_shuffle_after_manual_seed_matches_torch(seed):
    tg_ds, torch_ds = pair(23)
    tapegrad.manual_seed(seed)
    torch.manual_seed(seed)
    tg_loader = data.DataLoader(tg_ds, batch_size=5, shuffle=True)
    torch_loader = tdata.DataLoader(torch_ds, batch_size=5, shuffle=True)
    for _epoch in range(3):
        same_batches(tg_loader, torch_loader)
    # Each pass drew what torch's drew, so the global stream is still in step.
    assert tapegrad.rand(4).tolist() == torch.rand(4).tolist()


def test_shuffle_with_generator_matches_torch():
    tg_ds, torch_ds = pair(17)
    tg_loader = data.DataLoader(tg_ds, batch_size=4, shuffle=True, generator=tapegrad.Generator().manual_seed(5))
    torch_loader = tdata.DataLoader(torch_ds, batch_size=4, shuffle=True, generator=torch.Generator().manual_seed(5))
    tapegrad.manual_seed(0)
    torch.manual_seed(0)
    for _epoch in range(2):
        same_batches(tg_loader, torch_loader)
    assert tapegrad.rand(3).tolist() == torch.rand(3).tolist()  # the global stream was not touched


def test_split_tensor_dataset_batches_match_torch():
    tg_ds, torch_ds = pair(30)
    tg_train, _ = data.random_split(tg_ds, [0.7, 0.3], generator=tapegrad.Generator().manual_seed(1))
    torch_train, _ = tdata.random_split(torch_ds, [0.7, 0.3], generator=torch.Generator().manual_seed(1))
    tapegrad.manual_seed(2)
    torch.manual_seed(2)
    same_batches(data.DataLoader(data.Subset(tg_train, [5, 0, 3, 3, 20]), batch_size=2),
                 tdata.DataLoader(tdata.Subset(torch_train, [5, 0, 3, 3, 20]), batch_size=2))
    same_batches(data.DataLoader(tg_train, batch_size=8, shuffle=True),
                 tdata.DataLoader(torch_train, batch_size=8, shuffle=True))


def test_unshuffled_pass_draws_one_seed_like_torch():
    tg_ds, torch_ds = pair()
    tapegrad.manual_seed(9)
    torch.manual_seed(9)
    same_batches(data.DataLoader(tg_ds, batch_size=4), tdata.DataLoader(torch_ds, batch_size=4))
    assert tapegrad.randn(3).tolist() == torch.randn(3).tolist()


def test_iterator_protocol_and_length():
    tg_ds, _ = pair()
    loader = data.DataLoader(tg_ds, batch_size=4)
    it = iter(loader)
    assert iter(it) is it and len(it) == len(loader) == 3
    assert [len(b[1]) for b in it] == [4, 4, 2]
    with pytest.raises(StopIteration):
        next(it)


def test_batches_are_copies():
    x = tapegrad.zeros(4, 2)
    xb, = next(iter(data.DataLoader(data.TensorDataset(x), batch_size=2)))
    xb.fill_(1.0)
    assert x.sum().item() == 0.0


def test_tensor_dataset_with_grad_collates_by_stacking():
    x = tapegrad.ones(4, 2, requires_grad=True)
    xb, = next(iter(data.DataLoader(data.TensorDataset(x), batch_size=2)))
    assert xb.grad_fn.name() == "StackBackward0"


def test_num_workers_gives_the_same_batches():
    tg_ds, _ = pair()
    tapegrad.manual_seed(1)
    one = [plain(b) for b in data.DataLoader(tg_ds, batch_size=3, shuffle=True)]
    tapegrad.manual_seed(1)
    assert [plain(b) for b in data.DataLoader(tg_ds, batch_size=3, shuffle=True, num_workers=2)] == one
    assert data.get_worker_info() is None


# ---- collate ----

COLLATE_SAMPLES = {
    "ints": [1, 2, 3],
    "floats": [1.5, 2.0, -3.25],
    "bools": [True, False, True],
    "strings": ["a", "bc", "d"],
    "tuples": [(1, 2.0, "a"), (3, 4.0, "b")],
    "lists": [[1, 2], [3, 4]],
    "dicts": [{"x": 1, "y": [1.0, 2.0]}, {"x": 2, "y": [3.0, 4.0]}],
    "ordered_dicts": [collections.OrderedDict(a=1), collections.OrderedDict(a=2)],
    "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
    "numpy_arrays": [np.ones((2, 2), np.float32), np.zeros((2, 2), np.float32)],
    "numpy_scalars": [np.float64(1.5), np.float64(2.5)],
    "numpy_ints": [np.int64(1), np.int64(2)],
}


def as_torch(sample):
    if isinstance(sample, tapegrad.Tensor):
        return torch.from_numpy(sample.numpy())
    return sample


@pytest.mark.parametrize("name", sorted(COLLATE_SAMPLES))
def test_default_collate_matches_torch(name):
    batch = COLLATE_SAMPLES[name]
    assert plain(data.default_collate(batch)) == plain(tdata.default_collate(batch))


def test_default_collate_nested_tensors():
    samples = [{"image": tapegrad.full((2, 3), float(i)), "label": i, "meta": (i, [float(i)])} for i in range(3)]
    torch_samples = [{k: as_torch(v) for k, v in s.items()} for s in samples]
    assert plain(data.default_collate(samples)) == plain(tdata.default_collate(torch_samples))


def test_default_collate_errors():
    raises_like(lambda: data.default_collate([[1, 2], [3]]), lambda: tdata.default_collate([[1, 2], [3]]))
    raises_like(lambda: data.default_collate([object()]), lambda: tdata.default_collate([object()]))
    strings = [np.array(["a"]), np.array(["b"])]
    raises_like(lambda: data.default_collate(strings), lambda: tdata.default_collate(strings))
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        data.default_collate([tapegrad.zeros(2), tapegrad.zeros(3)])


@pytest.mark.parametrize("sample", [(1, 2.0), {"a": np.ones(2)}, [np.float32(1.0)], Point(np.ones(1), 2), "text"])
def test_default_convert_matches_torch(sample):
    assert plain(data.default_convert(sample)) == plain(tdata.default_convert(sample))


def test_map_dataset_of_python_samples_matches_torch():
    items = [{"x": [float(i), float(-i)], "y": i % 3} for i in range(7)]
    tapegrad.manual_seed(4)
    torch.manual_seed(4)
    same_batches(data.DataLoader(ListDataset(items), batch_size=3, shuffle=True),
                 tdata.DataLoader(TorchListDataset(items), batch_size=3, shuffle=True))


def test_batch_size_none_converts_each_sample():
    items = [(np.float32(i), i) for i in range(3)]
    same_batches(data.DataLoader(ListDataset(items), batch_size=None),
                 tdata.DataLoader(TorchListDataset(items), batch_size=None))


def test_custom_collate_fn_sampler_and_batch_sampler():
    items = list(range(10))
    first = data.DataLoader(ListDataset(items), batch_size=4, collate_fn=lambda batch: sum(batch))
    assert list(first) == [6, 22, 17]
    backwards = data.DataLoader(ListDataset(items), batch_size=3, sampler=list(reversed(range(10))))
    assert [b.tolist() for b in backwards] == [[9, 8, 7], [6, 5, 4], [3, 2, 1], [0]]
    pairs = data.DataLoader(ListDataset(items), batch_sampler=[[0, 1], [5, 6, 7]])
    assert [b.tolist() for b in pairs] == [[0, 1], [5, 6, 7]]
    assert len(pairs) == 2


@pytest.mark.parametrize("batch_size, drop_last", [(None, False), (3, False), (3, True), (5, False)])
def test_iterable_dataset_matches_torch(batch_size, drop_last):
    same_batches(data.DataLoader(Stream(10), batch_size=batch_size, drop_last=drop_last),
                 tdata.DataLoader(TorchStream(10), batch_size=batch_size, drop_last=drop_last))


# ---- samplers ----

def test_samplers_match_torch():
    items = list(range(11))
    assert list(data.SequentialSampler(items)) == list(tdata.SequentialSampler(items))
    cases = [dict(), dict(replacement=True), dict(replacement=True, num_samples=70), dict(num_samples=25)]
    for kwargs in cases:
        tg_sampler = data.RandomSampler(items, generator=tapegrad.Generator().manual_seed(2), **kwargs)
        torch_sampler = tdata.RandomSampler(items, generator=torch.Generator().manual_seed(2), **kwargs)
        assert len(tg_sampler) == len(torch_sampler)
        assert list(tg_sampler) == list(torch_sampler)
    subset = [3, 1, 4, 1, 5, 9]
    assert (list(data.SubsetRandomSampler(subset, generator=tapegrad.Generator().manual_seed(8)))
            == list(tdata.SubsetRandomSampler(subset, generator=torch.Generator().manual_seed(8))))
    for drop_last in (False, True):
        batches = data.BatchSampler(range(7), 3, drop_last)
        assert list(batches) == list(tdata.BatchSampler(range(7), 3, drop_last))
        assert len(batches) == len(tdata.BatchSampler(range(7), 3, drop_last))


def test_sampler_errors():
    raises_like(lambda: data.BatchSampler(range(3), 0, False), lambda: tdata.BatchSampler(range(3), 0, False))
    raises_like(lambda: data.BatchSampler(range(3), True, False), lambda: tdata.BatchSampler(range(3), True, False))
    raises_like(lambda: data.BatchSampler(range(3), 2, 1), lambda: tdata.BatchSampler(range(3), 2, 1))
    raises_like(lambda: data.RandomSampler([1], replacement=1), lambda: tdata.RandomSampler([1], replacement=1))
    raises_like(lambda: data.RandomSampler([1], num_samples=0), lambda: tdata.RandomSampler([1], num_samples=0))
    raises_like(lambda: data.RandomSampler([]), lambda: tdata.RandomSampler([]))


# ---- DataLoader argument errors ----

def test_loader_argument_errors():
    tg_ds, torch_ds = pair()
    cases = [
        dict(sampler=[0, 1], shuffle=True),
        dict(batch_sampler=[[0]], batch_size=2),
        dict(batch_sampler=[[0]], drop_last=True),
        dict(batch_size=None, drop_last=True),
        dict(num_workers=-1),
        dict(timeout=-1),
        dict(prefetch_factor=2),
        dict(persistent_workers=True),
        dict(multiprocessing_context="spawn"),
    ]
    for kwargs in cases:
        raises_like(lambda: data.DataLoader(tg_ds, **kwargs), lambda: tdata.DataLoader(torch_ds, **kwargs))
    for kwargs in [dict(shuffle=True), dict(sampler=[0]), dict(batch_sampler=[[0]])]:
        raises_like(lambda: data.DataLoader(Stream(3), **kwargs), lambda: tdata.DataLoader(TorchStream(3), **kwargs))


def test_loader_settings_are_fixed_after_init():
    tg_ds, torch_ds = pair()
    tg_loader, torch_loader = data.DataLoader(tg_ds), tdata.DataLoader(torch_ds)

    def set_batch_size(loader):
        loader.batch_size = 2

    raises_like(lambda: set_batch_size(tg_loader), lambda: set_batch_size(torch_loader))
    tg_loader.collate_fn = len  # other attributes stay settable, as in torch
    assert next(iter(tg_loader)) == 1


# ---- Generator ----

def test_generator_streams_match_torch():
    tg_gen, torch_gen = tapegrad.Generator(), torch.Generator()
    assert tg_gen.initial_seed() == torch_gen.initial_seed()
    assert tg_gen.manual_seed(42) is tg_gen
    torch_gen.manual_seed(42)
    assert tapegrad.randperm(30, generator=tg_gen).tolist() == torch.randperm(30, generator=torch_gen).tolist()
    assert (tapegrad.randint(3, 9, (12,), generator=tg_gen).tolist()
            == torch.randint(3, 9, (12,), generator=torch_gen).tolist())
    assert tg_gen.initial_seed() == 42 and str(tg_gen.device) == "cpu"


def test_generator_seeds_wrap_like_torch():
    for seed in (-1, 2**63, 2**64 - 1):
        expected = torch.Generator().manual_seed(seed).initial_seed()
        assert tapegrad.Generator().manual_seed(seed).initial_seed() == expected
    raises_like(lambda: tapegrad.Generator().manual_seed(2**64), lambda: torch.Generator().manual_seed(2**64))
    raises_like(lambda: tapegrad.Generator().manual_seed(1.5), lambda: torch.Generator().manual_seed(1.5))


def test_generator_state_and_default_generator():
    gen = tapegrad.Generator().manual_seed(3)
    state = gen.get_state()
    first = tapegrad.randperm(8, generator=gen).tolist()
    gen.set_state(state)
    assert tapegrad.randperm(8, generator=gen).tolist() == first
    seed = gen.seed()
    assert gen.initial_seed() == seed and 0 <= seed < 2**63
    tapegrad.default_generator.manual_seed(11)
    torch.manual_seed(11)
    assert tapegrad.initial_seed() == 11 and tapegrad.randn(3).tolist() == torch.randn(3).tolist()


def test_generator_argument_errors():
    with pytest.raises(TypeError, match="generator must be a tapegrad.Generator, not int"):
        tapegrad.randperm(3, generator=5)
    with pytest.raises(RuntimeError, match="supports only device='cpu'"):
        tapegrad.Generator("cuda")
