"""Turning a list of samples into a batch, with torch's default_collate rules.

Tensors are stacked along a new first dimension; Python floats become a float64 tensor,
ints (and bools) an int64 (bool) tensor; NumPy arrays and scalars become tensors; strings stay
lists; dicts, named tuples and sequences are collated field by field (tuples and lists come
back as lists, as torch does).
"""
import collections.abc
import copy
import re

import tapegrad

_NUMPY_STRING_OR_OBJECT = re.compile(r"[SaUO]")
_COLLATE_ERROR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _is_numpy(obj):
    return type(obj).__module__ == "numpy" and type(obj).__name__ not in ("str_", "string_", "bytes_")


def _numpy_to_tensor(data):
    import numpy as np

    return tapegrad.from_numpy(np.array(data))


def default_collate(batch):
    elem = batch[0]
    elem_type = type(elem)
    if isinstance(elem, tapegrad.Tensor):
        return tapegrad.stack(batch, 0)
    if _is_numpy(elem):
        import numpy as np

        if isinstance(elem, np.ndarray):
            if _NUMPY_STRING_OR_OBJECT.search(elem.dtype.str) is not None:
                raise TypeError(_COLLATE_ERROR.format(elem.dtype))
            return default_collate([_numpy_to_tensor(b) for b in batch])
        return _numpy_to_tensor(batch)
    if isinstance(elem, float):
        return tapegrad.tensor(batch, dtype=tapegrad.float64)
    if isinstance(elem, int):
        return tapegrad.tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update(fields)
                return clone
            return elem_type(fields)
        except TypeError:
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(default_collate(samples) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(samples) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return fields
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, field in enumerate(fields):
                    clone[i] = field
                return clone
            return elem_type(fields)
        except TypeError:
            return fields
    raise TypeError(_COLLATE_ERROR.format(elem_type))


def default_convert(data):
    """What a DataLoader with batch_size=None applies to each sample: NumPy to tensors, recursively."""
    elem_type = type(data)
    if isinstance(data, tapegrad.Tensor):
        return data
    if _is_numpy(data):
        if elem_type.__name__ == "ndarray" and _NUMPY_STRING_OR_OBJECT.search(data.dtype.str) is not None:
            return data
        return _numpy_to_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        fields = {key: default_convert(data[key]) for key in data}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update(fields)
                return clone
            return elem_type(fields)
        except TypeError:
            return fields
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        fields = [default_convert(d) for d in data]
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, field in enumerate(fields):
                    clone[i] = field
                return clone
            return elem_type(fields)
        except TypeError:
            return fields
    return data
