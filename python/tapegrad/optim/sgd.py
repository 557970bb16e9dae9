"""Stochastic gradient descent, optionally with (Nesterov) momentum, as torch.optim.SGD."""
from .. import _C
from .optimizer import Optimizer, _check_flags, _check_lr


class SGD(Optimizer):
    """Implements stochastic gradient descent (optionally with momentum).

    Each step, per parameter with a gradient g (negated when maximize):
    g += weight_decay * p; with momentum, b = momentum * b + (1 - dampening) * g (b = g
    on the first step) and g = g + momentum * b (nesterov) or g = b; then p -= lr * g.
    """

    _step_kernel = staticmethod(_C._sgd_step)

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _check_lr(lr, nan_ok=True)
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_flags("SGD", foreach, fused, differentiable)
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("nesterov", False)
            group.setdefault("maximize", False)
            group.setdefault("foreach", None)
            group.setdefault("differentiable", False)
            group.setdefault("fused", False)
