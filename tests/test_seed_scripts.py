"""The seed scripts, written for PyTorch, run on tapegrad (imported as `torch`) and print
exactly the output PyTorch printed, recorded in <repo>/../shared/seed-scripts/*.expected.txt."""
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
# shared/ sits beside the clone (<repo>/../shared); a git worktree may be nested one level deeper.
SEED_DIR = next((p / "shared" / "seed-scripts" for p in REPO.parents if (p / "shared" / "seed-scripts").is_dir()),
                REPO.parent / "shared" / "seed-scripts")

# Runs a script with `import torch` (and `import torch.x.y`) resolving to tapegrad's modules,
# without touching site-packages.
DRIVER = """
import importlib, importlib.abc, importlib.util, runpy, sys

class TorchIsTapegrad(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name == "torch" or name.startswith("torch."):
            return importlib.util.spec_from_loader(name, self)

    def create_module(self, spec):
        return importlib.import_module("tapegrad" + spec.name[len("torch"):])

    def exec_module(self, module):
        pass

sys.meta_path.insert(0, TorchIsTapegrad())
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""

# The scripts with a recorded output whose PyTorch features tapegrad has.
SCRIPTS = ["seed004_tensor_data_update"]


def run_on_tapegrad(script):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO / "python"), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-c", DRIVER, str(script)], capture_output=True, text=True, env=env,
                          cwd=script.parent, timeout=300)


@pytest.mark.skipif(not SEED_DIR.is_dir(), reason=f"the seed scripts are not checked out beside the repo ({SEED_DIR})")
@pytest.mark.parametrize("name", SCRIPTS)
def test_seed_script_prints_what_pytorch_printed(name):
    script = SEED_DIR / f"{name}.py"
    expected = (SEED_DIR / f"{name}.expected.txt").read_text()
    result = run_on_tapegrad(script)
    assert result.returncode == 0, result.stderr
    assert result.stdout == expected
