"""tapegrad.nn: modules, parameters, functional ops, initialisers and losses, as in torch.nn."""
from . import functional, init, utils
from .modules import *  # noqa: F401,F403
from .modules import __all__ as _modules_all
from .parameter import Buffer, Parameter, UninitializedParameter

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "functional", "init", "utils"] + _modules_all
