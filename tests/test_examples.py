"""The examples run and print the numbers PyTorch printed for the seed scripts they rewrite."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seed-scripts"


def run_example(name):
    result = subprocess.run([sys.executable, str(ROOT / "examples" / name)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout


def numbers(text):
    return re.findall(r"-?\d+\.\d+", text)


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seed-scripts is not beside this checkout")
def test_linear_regression_prints_seed004_output():
    expected = (SEEDS / "seed004_tensor_data_update.expected.txt").read_text()
    assert run_example("linear_regression.py") == expected


@pytest.mark.skipif(not SEEDS.is_dir(), reason="shared/seed-scripts is not beside this checkout")
def test_manual_update_prints_seed000_numbers():
    expected = (SEEDS / "seed000_manual_update.expected.txt").read_text()
    assert numbers(run_example("manual_update.py")) == numbers(expected)
