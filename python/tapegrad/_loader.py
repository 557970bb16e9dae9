"""Loads OpenBLAS from the scipy-openblas32 wheel before the extension that links to it."""
import ctypes
import os

import scipy_openblas32


def load_openblas():
    lib_dir = scipy_openblas32.get_lib_dir()
    name = next(f for f in os.listdir(lib_dir) if f.startswith("libscipy_openblas") and ".so" in f)
    # RTLD_GLOBAL lets _C's dependency on libscipy_openblas.so resolve to this copy.
    return ctypes.CDLL(os.path.join(lib_dir, name), mode=ctypes.RTLD_GLOBAL)
