"""The training examples run and print what they promise: the seed000 numbers, converging seed002
fits (the same numbers PyTorch prints when it runs the example), the seed003 descent, and a
spiral classifier above 95% accuracy, with plots when matplotlib is there and a hint when not."""
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

import tapegrad

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SEEDS = pathlib.Path(os.environ.get("TAPEGRAD_SEED_SCRIPTS", ROOT.parent / "shared" / "seed-scripts"))
HAS_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None

# Runs an example as if matplotlib were not installed.
WITHOUT_MATPLOTLIB = """
import runpy, sys
sys.modules["matplotlib"] = None
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def run(name, *args, prelude=None, cwd=None):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pathlib.Path(tapegrad.__file__).parents[1]),
                                                      env.get("PYTHONPATH")]))
    command = [sys.executable] + (["-c", prelude] if prelude else []) + [str(EXAMPLES / name), *map(str, args)]
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_with_torch(name):
    """The example's output with `tapegrad` and its submodules pointed at PyTorch's: the oracle."""
    import torch.nn.functional
    import torch.optim
    import torch.utils.data

    ours = {n: m for n, m in sys.modules.items() if n == "tapegrad" or n.startswith("tapegrad.")}
    theirs = {"tapegrad" + n[len("torch"):]: m for n, m in sys.modules.items()
              if n == "torch" or n.startswith("torch.")}
    out = io.StringIO()
    try:
        sys.modules.update(theirs)
        with contextlib.redirect_stdout(out):
            runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    finally:
        for n in theirs:
            sys.modules.pop(n, None)
        sys.modules.update(ours)
    return out.getvalue()


def numbers(text):
    return [float(x) for x in re.findall(r"-?\d+\.\d+(?:e-?\d+)?", text)]


@pytest.mark.skipif(not SEEDS.is_dir(), reason=f"no seed scripts at {SEEDS} (set TAPEGRAD_SEED_SCRIPTS)")
def test_seed000_optimizer_prints_the_recorded_numbers():
    expected = (SEEDS / "seed000_optimizer.expected.txt").read_text()
    assert numbers(run("seed000_optimizer.py")) == numbers(expected)


def test_seed002_grad_accumulation_converges_like_torch():
    out = run("seed002_grad_accumulation.py")
    losses = [float(x) for x in re.findall(r"loss: (\S+)", out)]
    assert len(losses) == 5 and all(b < a for a, b in zip(losses, losses[1:]))
    start, end = [tuple(map(float, re.search(rf"{when} parameters: w: (\S+), b: (\S+)", out).groups()))
                  for when in ("initial", "final")]
    assert (end[0] - 2.0) ** 2 + end[1] ** 2 < (start[0] - 2.0) ** 2 + start[1] ** 2  # closer to y = 2x
    assert numbers(out) == pytest.approx(numbers(run_with_torch("seed002_grad_accumulation.py")), abs=2e-4)


def test_seed002_per_sample_sgd_converges_like_torch():
    out = run("seed002_per_sample_sgd.py")
    steps = re.findall(r"loss (\S+), w (\S+), b (\S+)", out)
    assert len(steps) == 15
    epoch_losses = [sum(float(s[0]) for s in steps[i:i + 3]) for i in range(0, 15, 3)]
    assert all(b < a for a, b in zip(epoch_losses, epoch_losses[1:]))
    start = tuple(map(float, re.search(r"initial parameters: w (\S+), b (\S+)", out).groups()))
    end = (float(steps[-1][1]), float(steps[-1][2]))
    assert (end[0] - 1.0) ** 2 + (end[1] - 1.0) ** 2 < (start[0] - 1.0) ** 2 + (start[1] - 1.0) ** 2  # y = x + 1
    assert numbers(out) == pytest.approx(numbers(run_with_torch("seed002_per_sample_sgd.py")), abs=2e-4)


def test_seed003_manual_gradient_without_matplotlib(tmp_path):
    out = run("seed003_manual_gradient.py", "--out", tmp_path, prelude=WITHOUT_MATPLOTLIB)
    costs = [float(x) for x in re.findall(r"cost = (\S+)", out)]
    assert len(costs) == 100 and costs[0] == pytest.approx(14 / 3) and costs[-1] < 1e-6
    assert re.search(r"predict \(after training\) 4 7\.999", out)
    assert "pip install matplotlib" in out and not list(tmp_path.iterdir())


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="matplotlib is not installed (pip install matplotlib)")
def test_seed003_manual_gradient_plots(tmp_path):
    out = run("seed003_manual_gradient.py", "--out", tmp_path)
    assert f"wrote {tmp_path / 'seed003_cost.png'}" in out
    assert (tmp_path / "seed003_cost.png").read_bytes().startswith(b"\x89PNG")


def spirals_accuracy(out):
    return [float(x) for x in re.findall(r"(?:train|test) accuracy: (\S+)%", out)]


def test_spirals_mlp_trains_without_matplotlib(tmp_path):
    out = run("spirals_mlp.py", "--out", tmp_path, prelude=WITHOUT_MATPLOTLIB)
    train_accuracy, test_accuracy = spirals_accuracy(out)
    assert train_accuracy > 95 and test_accuracy > 95
    losses = [float(x) for x in re.findall(r"epoch +\d+: loss (\S+)", out)]
    assert losses[-1] < losses[0] / 10
    assert "pip install matplotlib" in out and not list(tmp_path.iterdir())


@pytest.mark.skipif(not HAS_MATPLOTLIB, reason="matplotlib is not installed (pip install matplotlib)")
def test_spirals_mlp_plots(tmp_path):
    out = run("spirals_mlp.py", "--epochs", 3, "--out", tmp_path)
    assert len(spirals_accuracy(out)) == 2
    for png in ("spirals_loss.png", "spirals_boundary.png"):
        assert (tmp_path / png).read_bytes().startswith(b"\x89PNG")
