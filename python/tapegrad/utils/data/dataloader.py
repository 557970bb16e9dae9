"""DataLoader: batches from a dataset, in torch.utils.data.DataLoader's order.

Each `iter(loader)` draws one seed from `generator` (or the default generator), as torch does
for its workers, so the random numbers that follow match torch's run for run. Loading always
happens in the calling process: `num_workers > 0` is accepted and gives the same batches, but
no worker processes are started (so `worker_init_fn` is not called and `get_worker_info()`
returns None).
"""
import tapegrad
from tapegrad import _C

from .collate import default_collate, default_convert
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler


def get_worker_info():
    """None: tapegrad loads data in the calling process."""
    return None


class DataLoader:
    """Iterates over `dataset` in batches of `batch_size` samples, collated by `collate_fn`,
    in order or (shuffle=True) in a random order drawn from `generator`."""

    _FIXED_AFTER_INIT = ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset", "persistent_workers")

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None, persistent_workers=False,
                 pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if multiprocessing_context is not None and num_workers == 0:
            raise ValueError("multiprocessing_context can only be used with multi-process loading (num_workers > 0), "
                             f"but got num_workers={num_workers}")

        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle not in {False, None}:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified shuffle option, but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(
                    f"DataLoader with IterableDataset: expected unspecified sampler option, but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError("DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        shuffle = bool(shuffle)
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, and "
                                 "drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order
        self.persistent_workers = persistent_workers
        self._auto_collation = batch_size is not None or batch_sampler is not None
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._initialized = True

    def __setattr__(self, attr, value):
        if getattr(self, "_initialized", False) and attr in self._FIXED_AFTER_INIT:
            raise ValueError(f"{attr} attribute should not be set after {type(self).__name__} is initialized")
        super().__setattr__(attr, value)

    def __iter__(self):
        return _DataLoaderIter(self)

    def __len__(self):
        if self._iterable:
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else -(-length // self.batch_size)
            return length
        return len(self.batch_sampler if self._auto_collation else self.sampler)


def _tensor_gather(dataset):
    """For a TensorDataset, or Subsets of one, the default collate of a batch is each tensor
    indexed by the batch: one gather per tensor instead of a stack of single samples. Returns
    that gather, or None when the shortcut does not apply."""
    index_maps = []
    while type(dataset) is Subset:
        index_maps.append(dataset.indices)
        dataset = dataset.dataset
    if type(dataset) is not TensorDataset or any(t.requires_grad for t in dataset.tensors):
        return None  # a stack records StackBackward0; keep torch's graph for tensors that need grad

    def gather(indices):
        for index_map in index_maps:
            indices = [index_map[i] for i in indices]
        index = tapegrad.tensor(indices, dtype=tapegrad.int64)
        return [tensor[index] for tensor in dataset.tensors]

    return gather


class _DataLoaderIter:
    """One pass over a DataLoader."""

    def __init__(self, loader):
        if loader.timeout != 0:  # torch's single-process iterator, which this is, asserts the same
            raise AssertionError("_SingleProcessDataLoaderIter requires timeout == 0")
        self._loader = loader
        self._collate_fn = loader.collate_fn
        self._batches = None if loader._iterable else iter(
            loader.batch_sampler if loader._auto_collation else loader.sampler)
        self._base_seed = _C._draw_seed(loader.generator)
        self._dataset_iter = iter(loader.dataset) if loader._iterable else None
        self._dataset_ended = False
        self._gather = _tensor_gather(loader.dataset) if (
            loader._auto_collation and self._collate_fn is default_collate) else None

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def __next__(self):
        if self._dataset_iter is not None:
            return self._collate_fn(self._next_from_iterable())
        indices = next(self._batches)
        dataset = self._loader.dataset
        if not self._loader._auto_collation:  # batch_size=None: the sampler yields one index at a time
            return self._collate_fn(dataset[indices])
        if self._gather is not None:
            return self._gather(indices)
        if getattr(dataset, "__getitems__", None):
            return self._collate_fn(dataset.__getitems__(indices))
        return self._collate_fn([dataset[i] for i in indices])

    def _next_from_iterable(self):
        loader = self._loader
        if loader.batch_size is None:
            return next(self._dataset_iter)
        batch = []
        if not self._dataset_ended:
            for sample in self._dataset_iter:
                batch.append(sample)
                if len(batch) == loader.batch_size:
                    return batch
            self._dataset_ended = True
        if not batch or loader.drop_last:
            raise StopIteration
        return batch
