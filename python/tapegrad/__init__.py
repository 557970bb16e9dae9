"""tapegrad: a small, fast autograd engine with a C++ core and PyTorch's API."""
from ._loader import load_openblas as _load_openblas

_openblas = _load_openblas()

from . import _C  # noqa: E402
from ._C import *  # noqa: E402,F401,F403
from ._C import Tensor, device, dtype  # noqa: E402
from ._size import Size  # noqa: E402
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: E402
from . import _tensor  # noqa: E402
from ._tensor import typename  # noqa: E402,F401

_C._set_size_type(Size)
_tensor.install()

float = float32  # noqa: A001  (torch.float is float32)
double = float64
long = int64
int = int64  # noqa: A001  (tapegrad has one integer dtype: int64)

from . import autograd, cuda, optim  # noqa: E402
from .serialization import load, save  # noqa: E402
from . import _ops  # noqa: E402

_ops.install(globals())
from . import _contractions  # noqa: E402

_ops.install(globals(), _contractions)
from . import _statistics  # noqa: E402

_ops.install(globals(), _statistics)
from . import _counting  # noqa: E402

_ops.install(globals(), _counting)
from . import _special  # noqa: E402

_ops.install(globals(), _special)
from . import _indexing  # noqa: E402

_ops.install(globals(), _indexing)
from . import _random  # noqa: E402

_ops.install(globals(), _random)
for _name, _method in _random.TENSOR_ONLY.items():
    setattr(Tensor, _name, _method)
from . import _views  # noqa: E402

_ops.install(globals(), _views)
_views.install_tensor_members()
from . import _pointwise, _rearrange  # noqa: E402

_ops.install(globals(), _pointwise)
_ops.install(globals(), _rearrange)
for _name, _method in _pointwise.TENSOR_ONLY.items():
    setattr(Tensor, _name, _method)
from . import _aliases  # noqa: E402

_ops.install(globals(), _aliases)
_aliases.install_tensor_members()
from . import linalg, special  # noqa: E402

_ops.install(globals(), linalg)

__version__ = "0.1.0"


# torch.conv2d and kin are torch.nn.functional's; they load with tapegrad.nn.
_FUNCTIONAL_ALIASES = ("conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d")


def __getattr__(name):
    # tapegrad.nn, tapegrad.utils and tapegrad.distributions load on first use, so that `import tapegrad` stays fast.
    if name in ("nn", "utils", "distributions"):
        import importlib

        return importlib.import_module("." + name, __name__)
    if name in _FUNCTIONAL_ALIASES:
        from .nn import functional

        return getattr(functional, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def set_printoptions(*args, **kwargs):
    from ._tensor_str import set_printoptions as _set

    _set(*args, **kwargs)


def get_printoptions():
    from ._tensor_str import get_printoptions as _get

    return _get()


def is_tensor(obj):
    return isinstance(obj, Tensor)


def numel(input):
    if not isinstance(input, Tensor):
        raise TypeError(f"numel(): argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input.numel()


def manual_seed(seed):
    """Seeds the default generator and returns it, as torch.manual_seed (which reads the seed with int())."""
    import builtins  # this module's `int` is the dtype

    return default_generator.manual_seed(builtins.int(seed))
