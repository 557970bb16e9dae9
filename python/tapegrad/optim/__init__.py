"""tapegrad.optim: PyTorch's optimizers, with each step a fused C++ update per parameter group."""
from .adam import Adam, AdamW
from .adaptive import Adadelta, Adagrad, Adamax, NAdam, RAdam
from .asgd import ASGD
from .lbfgs import LBFGS
from .optimizer import Optimizer
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS",
           "Rprop", "ASGD", "lr_scheduler"]


def __getattr__(name):
    # lr_scheduler is imported on first use: it keeps `import tapegrad` fast.
    if name == "lr_scheduler":
        import importlib

        return importlib.import_module(".lr_scheduler", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
