"""Loads OpenBLAS from the scipy-openblas32 wheel before the extension that links to it."""
import ctypes
import importlib.util
import os


def load_openblas():
    # find_spec locates the wheel without importing it (its __init__ reads package metadata, which is slow).
    spec = importlib.util.find_spec("scipy_openblas32")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("tapegrad needs the scipy-openblas32 package: pip install scipy-openblas32")
    lib_dir = os.path.join(list(spec.submodule_search_locations)[0], "lib")
    name = next(f for f in os.listdir(lib_dir) if f.startswith("libscipy_openblas") and ".so" in f)
    # OpenBLAS's idle threads spin for 2^28 cycles (~80 ms) by default, taking the cores from tapegrad's own
    # pool and GEMM (MLP steps ran 1.3-2x slower); 2^17 cycles is about the pool's own spin. OpenBLAS reads
    # the variable when it loads, so it is set only for the load and the user's value, if any, is kept.
    timeout_unset = "OPENBLAS_THREAD_TIMEOUT" not in os.environ
    if timeout_unset:
        os.environ["OPENBLAS_THREAD_TIMEOUT"] = "17"
    try:
        # RTLD_GLOBAL lets _C's dependency on libscipy_openblas.so resolve to this copy.
        return ctypes.CDLL(os.path.join(lib_dir, name), mode=ctypes.RTLD_GLOBAL)
    finally:
        if timeout_unset:
            del os.environ["OPENBLAS_THREAD_TIMEOUT"]
