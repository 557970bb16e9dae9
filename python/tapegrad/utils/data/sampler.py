"""Samplers: the order in which a DataLoader visits a map-style dataset.

RandomSampler draws exactly what torch's does (a seed from the default generator, then
`randperm` from a generator seeded with it), so `manual_seed(s)` gives torch's order.
"""
import bisect
import contextlib
import itertools
import math

import tapegrad
from tapegrad import _C

class Sampler:
    """Base class: subclasses define `__iter__` over dataset indices and, usually, `__len__`."""

    def __class_getitem__(cls, item):  # Sampler[int] in annotations and base-class lists, as in torch
        return cls

    def __init__(self, data_source=None):
        pass

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A random permutation of the indices, or `num_samples` draws with replacement."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        generator = self.generator
        if generator is None:
            generator = tapegrad.Generator().manual_seed(_C._draw_seed())
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from tapegrad.randint(0, n, (32,), generator=generator).tolist()
            yield from tapegrad.randint(0, n, (self.num_samples % 32,), generator=generator).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from tapegrad.randperm(n, generator=generator).tolist()
            yield from tapegrad.randperm(n, generator=generator).tolist()[: self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        for i in tapegrad.randperm(len(self.indices), generator=self.generator).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
    """`num_samples` indices drawn with probabilities proportional to `weights`, as torch.multinomial draws them."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        weights_tensor = tapegrad.tensor(weights.tolist() if isinstance(weights, tapegrad.Tensor) else weights,
                                         dtype=tapegrad.float64)
        if len(weights_tensor.shape) != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape "
                             f"{tuple(weights_tensor.shape)}")
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        yield from _multinomial(self.weights.tolist(), self.num_samples, self.replacement, self.generator)

    def __len__(self):
        return self.num_samples


@contextlib.contextmanager
def _drawing_from(generator):
    """Makes `generator` the source of tapegrad.rand for a while (rand takes no generator argument)."""
    if generator is None:
        yield
        return
    default_state = tapegrad.get_rng_state()
    tapegrad.set_rng_state(generator.get_state())
    try:
        yield
    finally:
        generator.set_state(tapegrad.get_rng_state())
        tapegrad.set_rng_state(default_state)


def _multinomial(weights, num_samples, replacement, generator):
    """torch.multinomial of one row of float64 weights, with the draws of torch's CPU kernel: with replacement,
    one uniform per sample looked up in the normalised cumulative sum; otherwise (or for a single sample) the
    largest weight / Exp(1) per category, the exponentials being -log1p(-uniform)."""
    n = len(weights)
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > n:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if replacement and num_samples > 1:
        total, cumulative = 0.0, []
        for w in weights:
            if not w >= 0:
                raise RuntimeError("invalid multinomial distribution (encountering probability entry < 0)")
            if not math.isfinite(w):
                raise RuntimeError("invalid multinomial distribution (encountering probability entry = infinity or "
                                   "NaN)")
            total += w
            cumulative.append(total)
        if not total > 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        cumulative = [c / total for c in cumulative]
        with _drawing_from(generator):
            uniforms = tapegrad.rand(num_samples, dtype=tapegrad.float64).tolist()
        return [bisect.bisect_left(cumulative, u) for u in uniforms]
    if not (max(weights) < math.inf and min(weights) >= 0):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if sum(weights) == 0:
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    with _drawing_from(generator):
        uniforms = tapegrad.rand(n, dtype=tapegrad.float64).tolist()
    keys = [w / -math.log1p(-u) for w, u in zip(weights, uniforms)]
    return sorted(range(n), key=lambda i: -keys[i])[:num_samples]


class BatchSampler(Sampler):
    """Groups the indices of `sampler` into lists of `batch_size` (the last one may be short)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        indices = iter(self.sampler)
        batch = list(itertools.islice(indices, self.batch_size))
        while batch:
            if self.drop_last and len(batch) < self.batch_size:
                return
            yield batch
            batch = list(itertools.islice(indices, self.batch_size))

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
