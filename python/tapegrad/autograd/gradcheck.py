"""Finite-difference gradient checking, as torch.autograd.gradcheck."""
from .. import _C


class GradcheckError(RuntimeError):
    pass


def _flat_inputs(inputs):
    return (inputs,) if isinstance(inputs, _C.Tensor) else tuple(inputs)


def _numerical_jacobian(fn, inputs, target, eps):
    """Central differences of every output element with respect to every element of `target`."""
    import numpy as np

    flat = np.asarray(target.detach())
    columns = []
    with _no_grad():
        for idx in np.ndindex(flat.shape):
            orig = float(flat[idx])
            flat[idx] = orig + eps
            plus = _outputs_as_array(fn(*inputs))
            flat[idx] = orig - eps
            minus = _outputs_as_array(fn(*inputs))
            flat[idx] = orig
            columns.append((plus - minus) / (2 * eps))
    return np.stack(columns, axis=0) if columns else np.zeros((0, 0))


def _outputs_as_array(out):
    import numpy as np

    outs = (out,) if isinstance(out, _C.Tensor) else tuple(out)
    return np.concatenate([np.asarray(o.detach(), dtype=np.float64).reshape(-1) for o in outs])


class _no_grad:
    def __enter__(self):
        self.prev = _C.is_grad_enabled()
        _C._set_grad_enabled(False)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)


def _analytical_jacobian(fn, inputs, targets):
    import numpy as np

    out = fn(*inputs)
    outs = (out,) if isinstance(out, _C.Tensor) else tuple(out)
    n_out = sum(o.numel() for o in outs)
    rows = {id(t): np.zeros((t.numel(), n_out)) for t in targets}
    col = 0
    for o in outs:
        for k in range(o.numel()):
            seed = np.zeros(o.numel())
            seed[k] = 1.0
            grad_out = _C.tensor(seed.reshape(tuple(o.shape)), dtype=o.dtype)
            grads = _C._grad((o,), tuple(targets), (grad_out,), True, False, True)
            for t, g in zip(targets, grads):
                if g is not None:
                    rows[id(t)][:, col] = np.asarray(g.detach(), dtype=np.float64).reshape(-1)
            col += 1
    return rows


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, **_ignored):
    """Compares autograd's gradients with central finite differences; inputs should be float64."""
    import numpy as np

    inputs = _flat_inputs(inputs)
    targets = [t for t in inputs if isinstance(t, _C.Tensor) and t.requires_grad]
    if not targets:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the them have "
                         "requires_grad=True.")
    analytical = _analytical_jacobian(func, inputs, targets)
    for i, t in enumerate(targets):
        numerical = _numerical_jacobian(func, inputs, t, eps)
        got = analytical[id(t)]
        if numerical.size and not np.allclose(got, numerical, rtol=rtol, atol=atol):
            if raise_exception:
                raise GradcheckError(
                    f"Jacobian mismatch for output 0 with respect to input {i},\nnumerical:{numerical}\nanalytical:{got}\n")
            return False
    return True
