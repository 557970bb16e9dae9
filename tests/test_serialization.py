"""tapegrad.save / tapegrad.load: round trips, the documented format, and files that must not load."""
import collections
import io
import json
import math
import pickle
import zipfile

import numpy as np
import pytest
import torch

import tapegrad

DTYPES = [tapegrad.float32, tapegrad.float64, tapegrad.int64, tapegrad.bool]


def round_trip(obj, **load_kwargs):
    buffer = io.BytesIO()
    tapegrad.save(obj, buffer)
    buffer.seek(0)
    return tapegrad.load(buffer, **load_kwargs)


def assert_same_tensor(got, expected):
    assert isinstance(got, tapegrad.Tensor)
    assert got.dtype == expected.dtype and got.shape == expected.shape
    assert got.requires_grad == expected.requires_grad and got.is_leaf
    assert np.array_equal(got.detach().numpy(), expected.detach().numpy(), equal_nan=True)


def sample(dtype, shape):
    values = np.random.default_rng(0).standard_normal(shape) * 100
    values[..., :1] = np.nan if dtype.is_floating_point else values[..., :1]
    return tapegrad.from_numpy(values).to(dtype)


@pytest.mark.parametrize("dtype", DTYPES, ids=str)
@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (5,), (2, 3, 4)], ids=str)
def test_tensor_round_trip(dtype, shape):
    t = sample(dtype, shape) if shape and 0 not in shape else tapegrad.zeros(shape, dtype=dtype)
    assert_same_tensor(round_trip(t), t)


def test_extreme_values_round_trip_bit_exact():
    for dtype in (tapegrad.float32, tapegrad.float64):
        t = tapegrad.tensor([math.inf, -math.inf, -0.0, 1e-45, 3.4e38, math.pi], dtype=dtype)
        assert round_trip(t).numpy().tobytes() == t.numpy().tobytes()
    big = tapegrad.tensor([2**63 - 1, -2**63, 0], dtype=tapegrad.int64)
    assert round_trip(big).tolist() == big.tolist()


def test_views_save_their_own_elements():
    base = tapegrad.arange(24.0, dtype=tapegrad.float64).reshape(4, 6)
    for view in (base.t(), base[1:3, ::2], base.select(1, 2), base.expand(2, 4, 6), base.reshape(-1)[5:9]):
        assert_same_tensor(round_trip(view), view)
    buffer = io.BytesIO()
    tapegrad.save(base[0, :2], buffer)
    assert zipfile.ZipFile(buffer).getinfo("tapegrad/tensors/0").file_size == 2 * 8


def test_requires_grad_and_detached_history():
    leaf = tapegrad.tensor([1.0, 2.0], requires_grad=True)
    loaded = round_trip(leaf * 2)
    assert loaded.requires_grad and loaded.is_leaf and loaded.grad_fn is None
    assert loaded.tolist() == [2.0, 4.0]
    assert not round_trip(leaf.detach()).requires_grad


def test_nested_containers_and_plain_values():
    weight = tapegrad.ones(2, 3)
    obj = {
        "state": {0: {"momentum_buffer": weight, "step": 3}, 1: {"momentum_buffer": None}},
        "param_groups": [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False, "name": "g"}],
        "model": collections.OrderedDict([("fc.weight", weight), ("fc.bias", tapegrad.zeros(3))]),
        "shape": weight.shape,
        "dtype": tapegrad.float64,
        "device": tapegrad.device("cpu"),
        "floats": [math.nan, math.inf, -math.inf, 1e-300, -0.0],
        (1, "two"): "tuple keys",
        "big": 2**100,
        "empty": [(), [], {}],
    }
    got = round_trip(obj)
    assert list(got) == list(obj)
    assert type(got["model"]) is collections.OrderedDict and list(got["model"]) == ["fc.weight", "fc.bias"]
    assert got["state"][0]["step"] == 3 and got["state"][1] == {"momentum_buffer": None}
    assert got["param_groups"] == [{"lr": 0.1, "betas": (0.9, 0.999), "params": [0, 1], "nesterov": False,
                                    "name": "g"}]
    assert got["shape"] == (2, 3) and type(got["shape"]) is tapegrad.Size
    assert got["dtype"] is tapegrad.float64 and got["device"] == tapegrad.device("cpu")
    assert str(got["floats"]) == str(obj["floats"])
    assert got[(1, "two")] == "tuple keys" and got["big"] == 2**100 and got["empty"] == [(), [], {}]
    assert_same_tensor(got["model"]["fc.weight"], weight)
    # One tensor saved under two names is stored once and loads as one tensor, as in torch.
    assert got["model"]["fc.weight"] is got["state"][0]["momentum_buffer"]


def test_paths_and_file_objects(tmp_path):
    t = tapegrad.arange(5)
    tapegrad.save(t, tmp_path / "t.pt")
    tapegrad.save(t, str(tmp_path / "s.pt"))
    assert tapegrad.load(tmp_path / "t.pt").tolist() == tapegrad.load(str(tmp_path / "s.pt")).tolist() == t.tolist()
    with open(tmp_path / "f.pt", "wb") as f:
        tapegrad.save({"t": t}, f)
    with open(tmp_path / "f.pt", "rb") as f:
        assert tapegrad.load(f, weights_only=True)["t"].tolist() == [0, 1, 2, 3, 4]
    with pytest.raises(FileNotFoundError):
        tapegrad.load(tmp_path / "missing.pt")
    with pytest.raises(TypeError, match="expected 'f' to be string, path, or a file-like object"):
        tapegrad.save(t, 42)


def test_documented_format(tmp_path):
    tapegrad.save({"w": tapegrad.tensor([[1.5, -2.0]]), "n": 3}, tmp_path / "m.pt")
    archive = zipfile.ZipFile(tmp_path / "m.pt")
    assert sorted(archive.namelist()) == ["tapegrad/manifest.json", "tapegrad/tensors/0"]
    manifest = json.loads(archive.read("tapegrad/manifest.json"))
    assert manifest == {
        "format": "tapegrad", "version": 1,
        "tensors": [{"dtype": "float32", "shape": [1, 2], "device": "cpu", "requires_grad": False,
                     "parameter": False}],
        "object": {"dict": [["w", {"tensor": 0}], ["n", 3]]},
    }
    assert archive.read("tapegrad/tensors/0") == np.array([1.5, -2.0], dtype="<f4").tobytes()


def test_map_location():
    t = tapegrad.ones(2)
    assert round_trip(t, map_location="cpu").device == tapegrad.device("cpu")
    assert round_trip(t, map_location=tapegrad.device("cpu")).device.type == "cpu"
    assert round_trip(t, map_location={"cuda:0": "cpu"}).device.type == "cpu"
    seen = []
    assert round_trip(t, map_location=lambda tensor, location: seen.append(location)).tolist() == [1.0, 1.0]
    assert seen == ["cpu"]


def test_cuda_location_without_cuda():
    if tapegrad.cuda.is_available():
        pytest.skip("this machine has CUDA; the error is for CPU-only machines")
    buffer = io.BytesIO()
    tapegrad.save(tapegrad.ones(2), buffer)
    forged = rewrite_manifest(buffer.getvalue(), lambda m: m["tensors"][0].update(device="cuda:0"))
    with pytest.raises(RuntimeError, match="map_location=tapegrad.device\\('cpu'\\)"):
        tapegrad.load(io.BytesIO(forged))
    assert tapegrad.load(io.BytesIO(forged), map_location="cpu").tolist() == [1.0, 1.0]


def test_parameters_load_as_parameters():
    from tapegrad import nn

    p = nn.Parameter(tapegrad.ones(2))
    got = round_trip({"p": p})["p"]
    assert isinstance(got, nn.Parameter) and got.requires_grad


def test_unsupported_objects():
    for obj in (object(), {1, 2}, b"bytes", np.ones(2), collections.namedtuple("P", "x")(1), 1 + 2j):
        with pytest.raises(TypeError, match="tapegrad.save cannot store an object of type"):
            round_trip(obj)
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        round_trip(loop)


# ---- files that must not load ----

def saved_bytes(obj):
    buffer = io.BytesIO()
    tapegrad.save(obj, buffer)
    return buffer.getvalue()


def rewrite_manifest(raw, edit=None, text=None, extra=None):
    """A copy of the archive `raw` with its manifest edited (or replaced by `text`) and extra entries."""
    source = zipfile.ZipFile(io.BytesIO(raw))
    manifest = json.loads(source.read("tapegrad/manifest.json"))
    if edit is not None:
        edit(manifest)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in source.namelist():
            if name == "tapegrad/manifest.json":
                archive.writestr(name, text if text is not None else json.dumps(manifest))
            else:
                archive.writestr(name, source.read(name))
        for name, payload in (extra or {}).items():
            archive.writestr(name, payload)
    return out.getvalue()


def load_error(raw):
    with pytest.raises(RuntimeError) as info:
        tapegrad.load(io.BytesIO(raw))
    return str(info.value)


def test_corrupt_and_truncated_files():
    raw = saved_bytes({"w": tapegrad.arange(100.0), "b": tapegrad.ones(3)})
    for cut in (0, 10, len(raw) // 2, len(raw) - 1):
        assert "not a tapegrad file" in load_error(raw[:cut])
    flipped = bytearray(raw)
    flipped[raw.index(np.float32(50.0).tobytes())] ^= 0xFF  # one byte of tensor data
    assert "corrupt tapegrad file" in load_error(bytes(flipped))  # the ZIP checksum catches it
    assert "not a tapegrad file" in load_error(b"just some text\n" * 10)


@pytest.mark.parametrize("name, edit", [
    ("wrong format", lambda m: m.update(format="other")),
    ("future version", lambda m: m.update(version=2)),
    ("missing object", lambda m: m.pop("object")),
    ("bad dtype", lambda m: m["tensors"][0].update(dtype="complex64")),
    ("bad shape", lambda m: m["tensors"][0].update(shape=[-1])),
    ("shape too big", lambda m: m["tensors"][0].update(shape=[10**12])),
    ("size mismatch", lambda m: m["tensors"][0].update(shape=[4])),
    ("bad device", lambda m: m["tensors"][0].update(device="tpu")),
    ("bad flag", lambda m: m["tensors"][0].update(requires_grad="yes")),
    ("tensor index", lambda m: m.update(object={"tensor": 5})),
    ("unknown tag", lambda m: m.update(object={"pickle": "cos\nsystem\n"})),
    ("two tags", lambda m: m.update(object={"list": [], "tuple": []})),
    ("bad pair", lambda m: m.update(object={"dict": [[1, 2, 3]]})),
    ("missing entry", lambda m: m["tensors"].append(dict(m["tensors"][0]))),
])
def test_forged_manifests_are_rejected(name, edit):
    raw = rewrite_manifest(saved_bytes([tapegrad.ones(3)]), edit)
    assert "corrupt tapegrad file" in load_error(raw) or "version 2 is not supported" in load_error(raw)


def test_manifest_that_is_not_json():
    raw = saved_bytes(tapegrad.ones(1))
    header = '{"format": "tapegrad", "version": 1, "tensors": [], "object": '
    for text in ("{", "\xff", header + "NaN}", header + '{"list": [' * 5000 + "]}" * 5000 + "}"):
        assert "corrupt tapegrad file" in load_error(rewrite_manifest(raw, text=text))


def test_zip_without_manifest():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "has no tapegrad/manifest.json" in load_error(out.getvalue())


def test_torch_file_is_refused_with_a_pointer(tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "model.pt")
    with pytest.raises(RuntimeError, match="written by torch.save"):
        tapegrad.load(tmp_path / "model.pt")
    with open(tmp_path / "legacy.pt", "wb") as f:
        torch.save(torch.ones(2), f, _use_new_zipfile_serialization=False)
    with pytest.raises(RuntimeError, match="not a tapegrad file"):
        tapegrad.load(tmp_path / "legacy.pt")


class Exploit:
    """A pickle that, if ever unpickled, creates the marker file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_crafted_files_cannot_run_code(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps(Exploit(marker))
    raw = saved_bytes({"w": tapegrad.ones(2)})
    attempts = [
        rewrite_manifest(raw, extra={"archive/data.pkl": payload, "tapegrad/data.pkl": payload}),
        rewrite_manifest(raw, lambda m: m.update(object={"pickle": payload.hex()})),
        rewrite_manifest(raw, text=payload.decode("latin-1")),
        payload,
    ]
    torch.save({"w": torch.ones(2), "x": Exploit(marker)}, tmp_path / "evil.pt")
    assert not marker.exists()  # pickling does not run the payload; unpickling would
    for forged in attempts:
        try:
            loaded = tapegrad.load(io.BytesIO(forged))
            assert loaded["w"].tolist() == [1.0, 1.0]  # extra entries are ignored
        except RuntimeError:
            pass
    with pytest.raises(RuntimeError, match="written by torch.save"):
        tapegrad.load(tmp_path / "evil.pt", weights_only=False)
    assert not marker.exists()
