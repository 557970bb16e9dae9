"""More of torch.utils.data against torch: WeightedRandomSampler (torch.multinomial's draws), and DataLoaders built
the ways training scripts build them (samplers, batch samplers, shuffling over several epochs, composite datasets,
numpy and dict samples), run as the same script in both libraries."""
import numpy as np
import pytest
import torch

import tapegrad
from test_data import plain
from test_errors import check_same_error

WEIGHTS = [0.1, 2.0, 0.0, 3.0, 0.5, 1.0, 0.0, 4.0]


def _generator(L, seed):
    return None if seed is None else L.Generator().manual_seed(seed)


@pytest.mark.parametrize("num_samples, replacement", [(20, True), (1, True), (5, False), (1, False), (6, False)])
@pytest.mark.parametrize("seed", [None, 3])
def test_weighted_random_sampler_matches_torch(num_samples, replacement, seed):
    drawn = []
    for L in (tapegrad, torch):
        L.manual_seed(11)
        sampler = L.utils.data.WeightedRandomSampler(WEIGHTS, num_samples, replacement, _generator(L, seed))
        # two passes, then a draw from the default generator: each pass must use as many numbers as torch's
        drawn.append([list(sampler), list(sampler), len(sampler), L.rand(2).tolist(), sampler.weights.tolist()])
    assert drawn[0] == drawn[1]


@pytest.mark.parametrize("weights", [np.array([1.0, 2.0, 3.0]), "tensor", (0.5, 0.5)])
def test_weighted_random_sampler_weight_types(weights):
    drawn = []
    for L in (tapegrad, torch):
        w = L.tensor([1, 2, 3]) if isinstance(weights, str) else weights
        sampler = L.utils.data.WeightedRandomSampler(w, 7, generator=L.Generator().manual_seed(0))
        drawn.append((list(sampler), str(sampler.weights.dtype)))
    assert drawn[0] == drawn[1]


def _epochs(L, make_loader, epochs=2):
    """Every batch of a few epochs, then the next default-generator draw."""
    L.manual_seed(5)
    loader = make_loader(L)
    batches = [[plain(b) for b in loader] for _ in range(epochs)]
    return [len(loader), batches, L.rand(2).tolist()]


def _features(L, n=10):
    return L.utils.data.TensorDataset(L.arange(n * 2, dtype=L.float32).reshape(n, 2), L.arange(n))


class _Samples:
    """A map-style dataset of dicts of NumPy arrays, numbers and strings."""

    def __init__(self, L, n=7):
        self.L, self.n = L, n

    def __getitem__(self, i):
        return {"x": np.full((2,), i, dtype=np.float64), "label": i % 3, "weight": i / 2, "name": f"s{i}",
                "pair": (np.int64(i), [i, -i])}

    def __len__(self):
        return self.n


def _samples(L, n=7):
    return type("Samples", (_Samples, L.utils.data.Dataset), {})(L, n)


class _CountStream:
    def __init__(self, L, n):
        self.L, self.n = L, n

    def __iter__(self):
        info = self.L.utils.data.get_worker_info()
        return iter([{"i": i, "worker": info is None} for i in range(self.n)])


LOADERS = {
    "shuffle_drop_last": lambda L: L.utils.data.DataLoader(_features(L), batch_size=3, shuffle=True,
                                                           drop_last=True),
    "shuffle_generator": lambda L: L.utils.data.DataLoader(_features(L), batch_size=4, shuffle=True,
                                                           generator=L.Generator().manual_seed(9)),
    "shuffle_no_batching": lambda L: L.utils.data.DataLoader(_features(L, 5), batch_size=None, shuffle=True),
    "random_sampler_replacement": lambda L: L.utils.data.DataLoader(
        _features(L), batch_size=4, sampler=L.utils.data.RandomSampler(range(10), True, 13)),
    "weighted_sampler": lambda L: L.utils.data.DataLoader(
        _features(L, 8), batch_size=3, sampler=L.utils.data.WeightedRandomSampler(WEIGHTS, 9)),
    "subset_random_sampler": lambda L: L.utils.data.DataLoader(
        _features(L), batch_size=2, sampler=L.utils.data.SubsetRandomSampler([1, 4, 6, 9, 2])),
    "batch_sampler": lambda L: L.utils.data.DataLoader(
        _features(L), batch_sampler=L.utils.data.BatchSampler(L.utils.data.RandomSampler(range(10)), 4, True)),
    "dict_samples": lambda L: L.utils.data.DataLoader(_samples(L), batch_size=3, shuffle=True),
    "dict_samples_unbatched": lambda L: L.utils.data.DataLoader(_samples(L, 3), batch_size=None),
    "collate_fn": lambda L: L.utils.data.DataLoader(_samples(L), batch_size=4,
                                                    collate_fn=lambda b: [s["name"] for s in b]),
    "concat_and_subset": lambda L: L.utils.data.DataLoader(
        L.utils.data.ConcatDataset([_features(L, 4), L.utils.data.Subset(_features(L), [9, 0, 3])]) + _features(L, 2),
        batch_size=4, shuffle=True),
    "random_split_fractions": lambda L: L.utils.data.DataLoader(
        L.utils.data.random_split(_features(L, 11), [0.5, 0.3, 0.2])[1], batch_size=2, shuffle=True),
    "iterable_workers": lambda L: L.utils.data.DataLoader(
        type("Stream", (_CountStream, L.utils.data.IterableDataset), {})(L, 5), batch_size=2),
    "num_workers": lambda L: L.utils.data.DataLoader(_features(L), batch_size=3, shuffle=True, num_workers=2),
}


@pytest.mark.parametrize("name", sorted(LOADERS))
def test_loader_matches_torch(name):
    if name == "iterable_workers":  # len() of an IterableDataset without __len__ fails in both
        for L in (tapegrad, torch):
            L.manual_seed(5)
            with pytest.raises(TypeError):
                len(LOADERS[name](L))
        got = [[plain(b) for b in LOADERS[name](L)] for L in (tapegrad, torch)]
        assert got[0] == got[1]
        return
    assert _epochs(tapegrad, LOADERS[name]) == _epochs(torch, LOADERS[name])


def test_default_collate_of_numpy_numbers_and_nested_containers():
    batch = [(np.float32(1.5), np.array([1, 2]), 3, 0.5, True, {"a": [np.int64(4), 1.0]}),
             (np.float32(2.5), np.array([3, 4]), 4, 1.5, False, {"a": [np.int64(5), 2.0]})]
    assert (plain(tapegrad.utils.data.default_collate(batch))
            == plain(torch.utils.data.default_collate(batch)))


ERRORS = [
    "lib.utils.data.WeightedRandomSampler([1.0, 2.0], 0)",
    "lib.utils.data.WeightedRandomSampler([1.0, 2.0], True)",
    "lib.utils.data.WeightedRandomSampler([1.0, 2.0], 2.0)",
    "lib.utils.data.WeightedRandomSampler([1.0, 2.0], 2, replacement=1)",
    "lib.utils.data.WeightedRandomSampler([[1.0, 2.0]], 2)",
    "lib.utils.data.WeightedRandomSampler(5.0, 2)",
    "list(lib.utils.data.WeightedRandomSampler([1.0, 2.0], 3, replacement=False))",
    "list(lib.utils.data.WeightedRandomSampler([1.0, -2.0], 3))",
    "list(lib.utils.data.WeightedRandomSampler([1.0, float('nan')], 3))",
    "list(lib.utils.data.WeightedRandomSampler([1.0, float('inf')], 3))",
    "list(lib.utils.data.WeightedRandomSampler([0.0, 0.0], 3))",
    "list(lib.utils.data.WeightedRandomSampler([0.0, 0.0], 1))",
    "list(lib.utils.data.WeightedRandomSampler([0.0, 0.0], 2, replacement=False))",
    "list(lib.utils.data.WeightedRandomSampler([1.0, -1.0], 1, replacement=False))",
    "list(lib.utils.data.WeightedRandomSampler([1.0, float('inf')], 1, replacement=False))",
]


@pytest.mark.parametrize("code", ERRORS)
def test_error_matches_torch(code):
    check_same_error(code)
