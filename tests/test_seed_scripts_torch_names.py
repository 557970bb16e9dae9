"""Every seed script runs unchanged with PyTorch's module names pointed at tapegrad's.

A driver fills sys.modules (`torch` -> `tapegrad`, `torch.nn` -> `tapegrad.nn`, ...) and runs
the script with runpy in a fresh interpreter. Scripts with a recorded output must print it
exactly; the seed002 scripts start from random weights, so they run under fixed seeds and must
converge and print what PyTorch prints from the same seed.
"""
import contextlib
import importlib.util
import io
import os
import pathlib
import re
import runpy
import subprocess
import sys

import pytest
import torch

import tapegrad

ROOT = pathlib.Path(__file__).resolve().parents[1]
SEEDS = pathlib.Path(os.environ.get("TAPEGRAD_SEED_SCRIPTS", ROOT.parent / "shared" / "seed-scripts"))
SCRIPTS = sorted(p.name for p in SEEDS.glob("*.py")) if SEEDS.is_dir() else []
pytestmark = pytest.mark.skipif(not SCRIPTS, reason=f"no seed scripts at {SEEDS} (set TAPEGRAD_SEED_SCRIPTS)")

DRIVER = """
import os, runpy, sys
import tapegrad
import tapegrad.autograd, tapegrad.nn, tapegrad.nn.functional, tapegrad.optim, tapegrad.utils.data
for name in list(sys.modules):
    if name == "tapegrad" or name.startswith("tapegrad."):
        sys.modules["torch" + name[len("tapegrad"):]] = sys.modules[name]
if os.environ.get("SEED"):
    tapegrad.manual_seed(int(os.environ["SEED"]))
script = sys.argv[1]
sys.argv = [script]
runpy.run_path(script, run_name="__main__")
"""


def run_with_torch_names(script, tmp_path, seed=None):
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pathlib.Path(tapegrad.__file__).parents[1]),
                                                      env.get("PYTHONPATH")]))
    env.pop("SEED", None)
    if seed is not None:
        env["SEED"] = str(seed)
    result = subprocess.run([sys.executable, "-c", DRIVER, str(SEEDS / script)], capture_output=True, text=True,
                            cwd=tmp_path, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_with_real_torch(script, seed):
    torch.manual_seed(seed)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(str(SEEDS / script), run_name="__main__")
    return out.getvalue()


def numbers(text):
    return [float(x) for x in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)]


def torch_initial_line(seed):
    torch.manual_seed(seed)
    linear = torch.nn.Linear(1, 1)
    return linear.weight.item(), linear.bias.item()


def distance(point, line):
    return ((point[0] - line[0]) ** 2 + (point[1] - line[1]) ** 2) ** 0.5


def test_every_script_is_covered():
    covered = {s for s in SCRIPTS if (SEEDS / s).with_suffix(".expected.txt").exists()} | set(CONVERGING) | {
        "seed003_manual_gradient.py"}
    assert set(SCRIPTS) <= covered, f"seed scripts without a test: {set(SCRIPTS) - covered}"


@pytest.mark.parametrize("script", [s for s in SCRIPTS if (SEEDS / s).with_suffix(".expected.txt").exists()])
def test_prints_recorded_output(script, tmp_path):
    assert run_with_torch_names(script, tmp_path) == (SEEDS / script).with_suffix(".expected.txt").read_text()


def grad_accumulation_trace(out):
    losses = [float(x) for x in re.findall(r"Loss: (\S+)", out)]
    final = tuple(map(float, re.search(r"Final Parameters: W: (\S+), b: (\S+)", out).groups()))
    return losses, final


def per_sample_trace(out):
    losses = [float(x) for x in re.findall(r"Loss: ([^,]+),", out)]
    epoch_losses = [sum(losses[i:i + 3]) for i in range(0, len(losses), 3)]
    final = tuple(map(float, re.findall(r"W: tensor\(\[\[(\S+)\]\]\), b: tensor\(\[(\S+)\]\)", out)[-1]))
    return epoch_losses, final


# script -> (how to read its output, the line y = w x + b its data lie on)
CONVERGING = {
    "seed002_grad_accumulation.py": (grad_accumulation_trace, (2.0, 0.0)),
    "seed002_per_sample_sgd.py": (per_sample_trace, (1.0, 1.0)),
}


@pytest.mark.parametrize("seed", [0, 7, 2024])
@pytest.mark.parametrize("script", sorted(CONVERGING))
def test_random_start_converges_like_torch(script, seed, tmp_path):
    out = run_with_torch_names(script, tmp_path, seed=seed)
    read, true_line = CONVERGING[script]
    losses, final = read(out)
    assert len(losses) == 5
    assert all(later < earlier for earlier, later in zip(losses, losses[1:])), losses
    assert distance(final, true_line) < distance(torch_initial_line(seed), true_line)
    expected = run_with_real_torch(script, seed)
    assert len(out.splitlines()) == len(expected.splitlines())
    assert numbers(out) == pytest.approx(numbers(expected), rel=1e-4, abs=2e-4)


def test_manual_gradient_with_matplotlib(tmp_path):
    if importlib.util.find_spec("matplotlib") is None:
        pytest.skip("matplotlib is not installed (pip install matplotlib); seed003 only plots with it")
    out = run_with_torch_names("seed003_manual_gradient.py", tmp_path)
    costs = [float(x) for x in re.findall(r"loss= (\S+)", out)]
    assert len(costs) == 100 and all(b < a for a, b in zip(costs, costs[1:]))
    assert out.startswith("Predict (before training) 4 4.0\n")
    assert float(re.search(r"Predict \(after training\) 4 (\S+)", out).group(1)) == pytest.approx(8.0, abs=1e-3)
