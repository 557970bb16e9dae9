"""tapegrad.cuda: whether the CUDA backend was compiled in and a GPU can be used."""
from . import _C


def is_available():
    return bool(_C._cuda_compiled) and device_count() > 0


def device_count():
    return _C._cuda_device_count() if _C._cuda_compiled else 0
