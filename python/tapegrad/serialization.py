"""tapegrad.save / tapegrad.load: tensors, state dicts and plain values in a file that loading
cannot turn into code execution (no pickle anywhere).

File format, version 1: a ZIP archive (entries stored uncompressed) holding

    tapegrad/manifest.json   UTF-8 JSON, described below
    tapegrad/tensors/<i>     the elements of tensor i: C order, little-endian, no header
                             (float32 4 bytes, float64 8, int64 8, bool 1 byte of 0 or 1)

The manifest is {"format": "tapegrad", "version": 1, "tensors": [...], "object": ...}.
"tensors" lists one record per tensor, {"dtype": "float32" | "float64" | "int64" | "bool",
"shape": [...], "device": "cpu" | "cuda:N", "requires_grad": bool, "parameter": bool}.
"object" is the saved object as JSON: null, true/false, numbers and strings stand for
themselves, and every other value is a one-key object naming its type:

    {"tensor": i}             tensor i of "tensors"   {"float": "nan" | "inf" | "-inf"}
    {"list": [...]}           {"tuple": [...]}        {"size": [...]} (tapegrad.Size)
    {"dict": [[k, v], ...]}   {"ordered_dict": [[k, v], ...]} (keys are encoded values too)
    {"dtype": "float32"}      {"device": "cpu"}

A tensor saved twice in one object is stored once and loads as one tensor. A view saves
only its own elements. `.grad` is not saved (as in torch).
"""
import collections
import contextlib
import math
import os

import tapegrad

FORMAT_VERSION = 1
_MANIFEST = "tapegrad/manifest.json"
_TENSOR_ENTRY = "tapegrad/tensors/{}"
_DTYPES = {"float32": "<f4", "float64": "<f8", "int64": "<i8", "bool": "|u1"}
_SUPPORTED = "tensors, None, bool, int, float, str, dtypes, devices, and lists, tuples and dicts of these"


def save(obj, f):
    """Saves `obj` (tensors, numbers, strings and nested lists/tuples/dicts of them, such as
    the state dicts of modules and optimizers) to a path or a writable binary file."""
    import json
    import zipfile

    encoder = _Encoder()
    encoded = encoder.encode(obj)
    manifest = {"format": "tapegrad", "version": FORMAT_VERSION,
                "tensors": [record for record, _ in encoder.tensors], "object": encoded}
    with _open(f, "wb") as stream, zipfile.ZipFile(stream, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(_MANIFEST, json.dumps(manifest, allow_nan=False))
        for i, (_, array) in enumerate(encoder.tensors):
            with archive.open(_TENSOR_ENTRY.format(i), "w", force_zip64=array.nbytes >= 2**31) as out:
                out.write(_bytes_of(array))


def load(f, map_location=None, *, weights_only=None):
    """Loads what `save` wrote, from a path or a readable, seekable binary file.

    map_location moves tensors as torch.load's does: a device or device string, a dict from
    saved locations to devices ({"cuda:0": "cpu"}), or a callable(tensor, location) that returns
    the tensor to use (or None to keep the saved location). weights_only is accepted for
    torch compatibility; a tapegrad file only ever holds data, so every value loads the same way.
    """
    import zipfile

    with _open(f, "rb") as stream:
        name = getattr(stream, "name", "this file")
        try:
            archive = zipfile.ZipFile(stream)
        except (zipfile.BadZipFile, EOFError, OSError) as e:
            raise RuntimeError(f"{name} is not a tapegrad file, or it is truncated: tapegrad.load reads the ZIP "
                               f"archives written by tapegrad.save ({e})") from None
        with archive:
            names = archive.namelist()
            if _MANIFEST not in names:
                if any(n.endswith("data.pkl") for n in names):
                    raise RuntimeError(
                        f"{name} was written by torch.save (a pickle, which can run code when loaded), so "
                        "tapegrad.load will not read it. Load it with PyTorch and write it again with "
                        "tapegrad.save, e.g. converting each tensor through numpy.")
                raise RuntimeError(f"{name} is not a tapegrad file: it has no {_MANIFEST}")
            with _corruption_reported_as(name):
                manifest = _read_manifest(archive)
                records = manifest["tensors"]
                tensors = [_read_tensor(archive, i, record) for i, record in enumerate(records)]
    # map_location may be user code: its errors are its own, not signs of a corrupt file.
    tensors = [_place(tensor, record, map_location) for tensor, record in zip(tensors, records)]
    with _corruption_reported_as(name):
        return _decode(manifest["object"], tensors)


@contextlib.contextmanager
def _corruption_reported_as(name):
    """Turns what a damaged or forged file makes the reader raise into one RuntimeError."""
    import zipfile
    import zlib

    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError, RecursionError, KeyError, TypeError, ValueError,
            RuntimeError) as e:
        raise RuntimeError(f"{name} is a corrupt tapegrad file: {type(e).__name__}: {e}") from None


@contextlib.contextmanager
def _open(f, mode):
    """A path opened for the duration of a with-block, or a file object used as is."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, mode) as stream:
            yield stream
    elif hasattr(f, "write" if "w" in mode else "read"):
        yield f
    elif "w" in mode:
        raise TypeError(f"expected 'f' to be string, path, or a file-like object with a 'write' attribute, got "
                        f"{type(f).__name__}")
    else:  # torch.load's error and words, for a non-file
        raise AttributeError(f"'{type(f).__name__}' object has no attribute 'seek'. You can only tapegrad.load from "
                             "a path or a file that is seekable.")


def _bytes_of(array):
    """A writable byte view of a C-contiguous array (of any shape, empty included)."""
    import numpy as np

    return memoryview(array.reshape(-1).view(np.uint8))


class _Encoder:
    def __init__(self):
        self.tensors = []  # (record, little-endian C-order numpy array)
        self._tensor_index = {}  # id(tensor) -> index, so a shared tensor is stored once
        self._keep_alive = []  # ids stay unique while the tensors they name are alive
        self._open_containers = set()

    def encode(self, obj):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, int):
            return int(obj)
        if isinstance(obj, float):
            return float(obj) if math.isfinite(obj) else {"float": repr(float(obj))}
        if isinstance(obj, tapegrad.Tensor):
            return {"tensor": self._tensor(obj)}
        if isinstance(obj, tapegrad.dtype):
            return {"dtype": str(obj).replace("torch.", "")}
        if isinstance(obj, tapegrad.device):
            return {"device": str(obj)}
        kind = {list: "list", tuple: "tuple", tapegrad.Size: "size", dict: "dict",
                collections.OrderedDict: "ordered_dict"}.get(type(obj))
        if kind is None:
            raise TypeError(
                f"tapegrad.save cannot store an object of type {type(obj).__name__}; it stores {_SUPPORTED}")
        if id(obj) in self._open_containers:
            raise ValueError("tapegrad.save cannot store a container that contains itself")
        self._open_containers.add(id(obj))
        if kind in ("dict", "ordered_dict"):
            encoded = [[self.encode(k), self.encode(v)] for k, v in obj.items()]
        else:
            encoded = [self.encode(item) for item in obj]
        self._open_containers.discard(id(obj))
        return {kind: encoded}

    def _tensor(self, t):
        if id(t) not in self._tensor_index:
            import numpy as np

            dtype = str(t.dtype).replace("torch.", "")
            array = np.ascontiguousarray(t.detach().cpu().numpy())
            array = array.view(np.uint8) if dtype == "bool" else array.astype(_DTYPES[dtype], copy=False)
            record = {"dtype": dtype, "shape": list(t.shape), "device": str(t.device),
                      "requires_grad": t.requires_grad, "parameter": bool(getattr(t, "_is_param", False))}
            self._tensor_index[id(t)] = len(self.tensors)
            self._keep_alive.append(t)
            self.tensors.append((record, array))
        return self._tensor_index[id(t)]


def _read_manifest(archive):
    import json

    manifest = json.loads(archive.read(_MANIFEST).decode("utf-8"), parse_constant=_reject_constant)
    if not isinstance(manifest, dict) or manifest.get("format") != "tapegrad":
        raise ValueError("the manifest does not describe a tapegrad file")
    if manifest.get("version") != FORMAT_VERSION:
        raise ValueError(f"format version {manifest.get('version')!r} is not supported (this tapegrad reads "
                         f"version {FORMAT_VERSION}); upgrade tapegrad")
    if not isinstance(manifest.get("tensors"), list) or "object" not in manifest:
        raise ValueError("the manifest lacks 'tensors' or 'object'")
    return manifest


def _reject_constant(name):
    raise ValueError(f"the manifest contains {name}, which is not JSON")


def _read_tensor(archive, index, record):
    """Tensor `index` on the CPU, checked against its record before any byte is read."""
    import numpy as np

    if not isinstance(record, dict):
        raise ValueError(f"tensor {index} has no record")
    dtype, shape = record.get("dtype"), record.get("shape")
    if dtype not in _DTYPES:
        raise ValueError(f"tensor {index} has unsupported dtype {dtype!r}")
    if not (isinstance(shape, list) and all(type(s) is int and s >= 0 for s in shape)):
        raise ValueError(f"tensor {index} has an invalid shape {shape!r}")
    if not isinstance(record.get("device"), str) or not all(
            isinstance(record.get(flag), bool) for flag in ("requires_grad", "parameter")):
        raise ValueError(f"tensor {index} has an invalid record {record!r}")
    tapegrad.device(record["device"])  # a malformed location fails here, inside the corruption check
    entry = _TENSOR_ENTRY.format(index)
    nbytes = math.prod(shape) * np.dtype(_DTYPES[dtype]).itemsize
    stored = archive.getinfo(entry).file_size
    if stored != nbytes:
        raise ValueError(f"tensor {index} of shape {shape} should hold {nbytes} bytes but its entry holds {stored}")
    array = np.empty(shape, dtype=_DTYPES[dtype])
    with archive.open(entry) as src:
        if src.readinto(_bytes_of(array)) != nbytes or src.read(1):
            raise ValueError(f"tensor {index} is truncated")
    array = array != 0 if dtype == "bool" else array.astype(array.dtype.newbyteorder("="), copy=False)
    return tapegrad.from_numpy(array)


def _place(tensor, record, map_location):
    """The loaded tensor on the device map_location picks, with its requires_grad and Parameter type."""
    location = record["device"]
    if not (map_location is None or callable(map_location) or isinstance(map_location, (str, dict, tapegrad.device))):
        raise TypeError(f"'{type(map_location).__name__}' object is not callable")  # torch calls what it cannot read
    if callable(map_location):
        moved = map_location(tensor, location)
        tensor = tensor if moved is None else moved
    else:
        target = map_location.get(location, location) if isinstance(map_location, dict) else map_location
        device = tapegrad.device(location if target is None else target)
        if device.type == "cuda" and not tapegrad.cuda.is_available():
            raise RuntimeError("Attempting to deserialize object on a CUDA device but tapegrad.cuda.is_available() "
                               "is False. If you are running on a CPU-only machine, please use tapegrad.load with "
                               "map_location=tapegrad.device('cpu') to map your tensors to the CPU.")
        if device.type != "cpu":
            tensor = tensor.to(device)
    if record["parameter"]:
        from tapegrad.nn import Parameter

        return Parameter(tensor, requires_grad=record["requires_grad"])
    return tensor.requires_grad_(record["requires_grad"])


_CONTAINERS = {"list": list, "tuple": tuple, "size": tapegrad.Size}


def _decode(value, tensors):
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if not (isinstance(value, dict) and len(value) == 1):
        raise ValueError(f"unexpected value in the manifest: {str(value)[:80]}")
    (kind, payload), = value.items()
    if kind in _CONTAINERS and isinstance(payload, list):
        return _CONTAINERS[kind](_decode(item, tensors) for item in payload)
    if kind in ("dict", "ordered_dict") and isinstance(payload, list):
        if not all(isinstance(pair, list) and len(pair) == 2 for pair in payload):
            raise ValueError(f"a {kind} entry is not a [key, value] pair")
        items = ((_decode(k, tensors), _decode(v, tensors)) for k, v in payload)
        return dict(items) if kind == "dict" else collections.OrderedDict(items)
    if kind == "tensor" and type(payload) is int and 0 <= payload < len(tensors):
        return tensors[payload]
    if kind == "float" and payload in ("nan", "inf", "-inf"):
        return float(payload)
    if kind == "dtype" and payload in _DTYPES:
        return getattr(tapegrad, payload)
    if kind == "device" and isinstance(payload, str):
        return tapegrad.device(payload)
    raise ValueError(f"unexpected value in the manifest: {str(value)[:80]}")
