"""Finite-difference gradient checking, as torch.autograd.gradcheck.

NumPy is imported on first use, so that `import tapegrad` stays fast.
"""
import warnings

from .. import _C
from ..grad_mode import no_grad


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    return (x,) if isinstance(x, _C.Tensor) else tuple(x)


def _flat_outputs(out):
    import numpy as np

    # Copies: an output may be a view of the input that is about to be nudged again.
    return [np.array(o.detach(), dtype=np.float64).reshape(-1) for o in _as_tuple(out)]


def _numerical_jacobians(fn, inputs, target, eps):
    """Central differences: one (target.numel(), output.numel()) array per output."""
    import numpy as np

    values = np.asarray(target.detach())  # shares target's memory, so fn sees each nudge
    rows = []
    with no_grad():
        outs = _as_tuple(fn(*inputs))
        n_out = len(outs)
        for idx in np.ndindex(values.shape):
            orig = values[idx].item()
            values[idx] = orig + eps
            plus = _flat_outputs(fn(*inputs))
            values[idx] = orig - eps
            minus = _flat_outputs(fn(*inputs))
            values[idx] = orig
            rows.append([(p - m) / (2 * eps) for p, m in zip(plus, minus)])
    if not rows:  # an empty target: nothing to nudge
        return [np.zeros((0, out.numel())) for out in outs]
    return [np.array([row[k] for row in rows]).reshape(target.numel(), -1) for k in range(n_out)]


def _analytical_jacobians(fn, inputs, targets):
    """Backward of each output element: jacobians[k][t] is (targets[t].numel(), outputs[k].numel())."""
    import numpy as np

    outs = _as_tuple(fn(*inputs))
    jacobians = []
    for out in outs:
        blocks = [np.zeros((t.numel(), out.numel())) for t in targets]
        if out.requires_grad:
            for col in range(out.numel()):
                seed = np.zeros(out.numel())
                seed[col] = 1.0
                grad_out = _C.tensor(seed.reshape(tuple(out.shape)), dtype=out.dtype)
                grads = _C._grad((out,), tuple(targets), (grad_out,), True, False, True)
                for block, g in zip(blocks, grads):
                    if g is not None:
                        block[:, col] = np.asarray(g.detach(), dtype=np.float64).reshape(-1)
        jacobians.append(blocks)
    return jacobians


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """True when autograd's gradients of func at inputs match central finite differences.
    On a mismatch, raises GradcheckError (or returns False with raise_exception=False)."""
    import numpy as np

    inputs = _as_tuple(inputs)
    targets = [t for t in inputs if isinstance(t, _C.Tensor) and t.requires_grad]
    if not targets:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them have "
                         "requires_grad=True.")
    for i, t in enumerate(inputs):
        if isinstance(t, _C.Tensor) and t.requires_grad and str(t.dtype) != "torch.float64":
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. This check "
                          "will likely fail if all the inputs are not of double precision floating point. ")
    analytical = _analytical_jacobians(func, inputs, targets)
    for i, target in enumerate(targets):
        numerical = _numerical_jacobians(func, inputs, target, eps)
        for k, (num, blocks) in enumerate(zip(numerical, analytical)):
            if not np.allclose(blocks[i], num, rtol=rtol, atol=atol):
                if raise_exception:
                    raise GradcheckError(f"Jacobian mismatch for output {k} with respect to input {i},\n"
                                         f"numerical:{num}\nanalytical:{blocks[i]}\n")
                return False
    return True
