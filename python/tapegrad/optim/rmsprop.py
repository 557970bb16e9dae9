"""RMSprop, as torch.optim.RMSprop."""
from .. import _C
from .optimizer import Optimizer, _check_flags, _check_lr


class RMSprop(Optimizer):
    """Implements the RMSprop algorithm.

    Each step, per parameter with a gradient g (negated when maximize, plus
    weight_decay * p): s = alpha * s + (1 - alpha) * g * g; the denominator is
    sqrt(s - a * a) + eps with a = lerp(a, g, 1 - alpha) when centered, else sqrt(s) + eps;
    then p -= lr * g / denominator, or with momentum b = momentum * b + g / denominator
    and p -= lr * b.
    """

    _step_kernel = staticmethod(_C._rmsprop_step)

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not 0.0 <= momentum:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= alpha:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _check_flags("RMSprop", foreach, False, differentiable, capturable)
        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("momentum", 0)
            group.setdefault("centered", False)
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("capturable", False)
        self._steps_as_tensors()
