"""Flattening parameters into one vector and back, as torch.nn.utils.parameters_to_vector / vector_to_parameters."""
from ... import _C
from ..._tensor import typename


def _check_param_device(param, old_param_device):
    """The device index the parameters share (-1 for the CPU); TypeError when they do not share one."""
    device = param.device.index if param.device.type == "cuda" else -1
    if old_param_device is not None and device != old_param_device:
        raise TypeError("Found two parameters on different devices, this is currently not supported.")
    return device


def parameters_to_vector(parameters):
    param_device = None
    vec = []
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        vec.append(param.view(-1))
    return _C.cat(vec)


def vector_to_parameters(vec, parameters):
    """Points each parameter's data at its slice of vec (no copy)."""
    if not isinstance(vec, _C.Tensor):
        raise TypeError(f"expected torch.Tensor, but got: {typename(vec)}")
    param_device = None
    pointer = 0
    for param in parameters:
        param_device = _check_param_device(param, param_device)
        num_param = param.numel()
        param.data = vec[pointer:pointer + num_param].view_as(param).data
        pointer += num_param
