"""Graph nodes, as torch.autograd.graph: every grad_fn is an instance of a Node subclass."""
from .._C import Node  # noqa: F401
