"""The table of ops checked against PyTorch.

Each module in this package defines CASES, a list of OpCase. test_op_parity.py runs every
case for float32 and float64 on contiguous, broadcast and non-contiguous inputs, comparing
values and gradients with torch, and runs a float64 finite-difference gradcheck.
"""
import dataclasses
from typing import Callable, Optional, Sequence, Tuple


@dataclasses.dataclass
class OpCase:
    name: str
    # fn(lib, *inputs) -> tensor or tuple of tensors; lib is the torch or tapegrad module.
    fn: Callable
    # Shapes of the tensor inputs. Broadcasting cases simply list broadcastable shapes.
    shapes: Sequence[Tuple[int, ...]]
    # "any", "positive" (log, sqrt), "unit" (values in (-1, 1)), "nonzero" (divisors)
    domain: str = "any"
    grad: bool = True
    gradcheck: bool = True
    # Makes a non-contiguous variant of each input (a transposed/strided view with the same shape).
    noncontig: bool = True
    # Inputs at these positions are integer index tensors in [0, index_high), not differentiated.
    index_inputs: Sequence[int] = ()
    index_high: int = 1
    # Inputs at these positions are bool masks.
    mask_inputs: Sequence[int] = ()
    rtol: Optional[float] = None
    atol: Optional[float] = None
    dtypes: Sequence[str] = ("float32", "float64")


def collect():
    import importlib
    import pkgutil

    cases = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        cases.extend(getattr(module, "CASES", []))
    return cases
