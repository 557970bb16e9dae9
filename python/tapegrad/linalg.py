"""torch.linalg: the linear-algebra namespace."""
from ._contractions import linalg_cross as cross  # noqa: F401
