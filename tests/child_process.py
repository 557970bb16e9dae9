"""Runs Python code in a child process, for what could take pytest down (a stack overflow) or needs a
process of its own (resident memory)."""
import json
import os
import subprocess
import sys


def run_python(code, timeout=600, env=None):
    """Runs `code` with this process's import path (and `env` added to the environment) and returns its
    stdout; a failed run fails the test."""
    env = dict(os.environ, **(env or {}), PYTHONPATH=os.pathsep.join(sys.path))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def run_python_json(code, timeout=600):
    """Runs `code`, whose last line of output is JSON, and returns that line's value."""
    return json.loads(run_python(code, timeout).splitlines()[-1])
