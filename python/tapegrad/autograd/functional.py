"""Higher-level differentiation, as torch.autograd.functional: jacobian and hessian, one backward per output
element (PyTorch's vectorize=False strategy)."""
from .. import _C
from ..grad_mode import enable_grad


def _as_tuple(x, arg_name, fn_name):
    if isinstance(x, tuple):
        items = x
    elif isinstance(x, list):
        items = tuple(x)
    else:
        items = (x,)
    for i, item in enumerate(items):
        if not isinstance(item, _C.Tensor):
            if isinstance(x, (tuple, list)):
                raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but "
                                f"the value at index {i} has type {type(item)}.")
            raise TypeError(f"The {arg_name} given to {fn_name} must be either a Tensor or a tuple of Tensors but the"
                            f" given {arg_name} has type {type(x)}.")
    return isinstance(x, (tuple, list)), items


def _tuple_postprocess(res, to_unpack):
    outputs_tuple, inputs_tuple = to_unpack
    if not inputs_tuple:
        res = tuple(r[0] for r in res)
    if not outputs_tuple:
        res = res[0]
    return res


def _prepare_inputs(inputs, create_graph):
    # With create_graph, inputs that carry a graph keep it (so the result can be differentiated again).
    return tuple(x.view_as(x) if create_graph and x.requires_grad else x.detach().requires_grad_(True)
                 for x in inputs)


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    if strategy not in ("forward-mode", "reverse-mode"):
        raise AssertionError('Expected strategy to be either "forward-mode" or "reverse-mode". Hint: If your '
                             'function has more outputs than inputs, "forward-mode" tends to be more performant. '
                             'Otherwise, prefer to use "reverse-mode".')
    with enable_grad():
        is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "jacobian")
        inputs = _prepare_inputs(inputs, create_graph)
        outputs = func(*inputs)
        is_outputs_tuple, outputs = _as_tuple(outputs, "outputs of the user-provided function", "jacobian")
        result = []
        for i, out in enumerate(outputs):
            rows = [[] for _ in inputs]
            flat = out.reshape(-1)
            for j in range(flat.numel()):
                element = flat[j]
                if element.requires_grad:
                    grads = _C._grad((element,), inputs, None, True, create_graph, True)
                else:
                    grads = (None,) * len(inputs)
                for k, (g, x) in enumerate(zip(grads, inputs)):
                    if g is None and strict:
                        raise RuntimeError(f"Output {i} of the user-provided function is independent of input {k}. "
                                           "This is not allowed in strict mode.")
                    rows[k].append(g if g is not None else _C.zeros_like(x))
            per_input = []
            for row, x in zip(rows, inputs):
                shape = tuple(out.shape) + tuple(x.shape)
                block = _C.stack(row).view(shape) if row else _C.zeros(shape, dtype=x.dtype)
                per_input.append(block if create_graph else block.detach())
            result.append(tuple(per_input))
    return _tuple_postprocess(tuple(result), (is_outputs_tuple, is_inputs_tuple))


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False, outer_jacobian_strategy="reverse-mode"):
    is_inputs_tuple, inputs = _as_tuple(inputs, "inputs", "hessian")

    def scalar_output(*xs):
        out = func(*xs)
        is_out_tuple, outs = _as_tuple(out, "outputs of the user-provided function", "hessian")
        if is_out_tuple:
            raise RuntimeError("The function given to hessian should return a single Tensor")
        if out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        return out.squeeze()

    def gradient(*xs):
        return jacobian(scalar_output, xs, create_graph=True, strict=strict)

    result = jacobian(gradient, inputs, create_graph=create_graph, strict=strict, strategy=outer_jacobian_strategy)
    return _tuple_postprocess(result, (is_inputs_tuple, is_inputs_tuple))
