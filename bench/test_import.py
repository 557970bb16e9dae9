"""Import time and resident memory after import, each measured in a fresh interpreter."""
import compileall
import os
import statistics
import subprocess
import sys

import pytest

from common import TAPEGRAD_AND_TORCH

# VmRSS rather than ru_maxrss: Linux carries ru_maxrss over from the forking parent, this pytest process.
CHILD = """
import time
start = time.perf_counter()
import {name}
seconds = time.perf_counter() - start
rss_kib = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmRSS:"))
print(seconds, int(rss_kib) * 1024)
"""


def import_in_child(lib):
    # The child finds the very package this process imported, whether installed or from a source tree.
    package_root = os.path.dirname(os.path.dirname(lib.__file__))
    # pip byte-compiles a package as it installs it; a source tree run with PYTHONDONTWRITEBYTECODE=1 (as
    # this environment sets) would compile every module on each import instead.
    compileall.compile_dir(os.path.dirname(lib.__file__), quiet=1)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    out = subprocess.run([sys.executable, "-c", CHILD.format(name=lib.__name__)], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), int(out[1])


@pytest.mark.parametrize("lib", TAPEGRAD_AND_TORCH)
@pytest.mark.benchmark(group="import (fresh interpreter)")
def test_import(benchmark, lib):
    samples = []
    benchmark.pedantic(lambda: samples.append(import_in_child(lib)), rounds=7, warmup_rounds=1)
    # report.py shows these as rows of their own: the benchmark's time includes interpreter start-up.
    benchmark.extra_info["rows"] = {
        "import time": [statistics.median(s[0] for s in samples), "s"],
        "RSS after import": [statistics.median(s[1] for s in samples), "B"],
    }
