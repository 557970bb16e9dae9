"""Rprop, as torch.optim.Rprop's single-tensor (CPU default) implementation, written with tapegrad's tensor ops."""
from .. import _C
from .adaptive import _PerParameterOptimizer, _step_tensor
from .optimizer import _check_flags, _check_lr


class Rprop(_PerParameterOptimizer):
    """Implements the resilient backpropagation algorithm.

    Each element keeps its own step size: multiplied by etaplus while its gradient keeps
    its sign, by etaminus when the sign flips (and that element skips the step), clamped
    to step_sizes; then p -= sign(g) * step_size.
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_flags("Rprop", foreach, False, differentiable, capturable)
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def init_state(self, p, state, group):
        state["step"] = _step_tensor()
        state["prev"] = _C.zeros_like(p)
        state["step_size"] = _C.full_like(p, float(group["lr"]))

    def update(self, p, grad, state, group):
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        prev, step_size = state["prev"], state["step_size"]
        state["step"] += 1
        sign = grad.mul(prev).sign()
        sign[sign.gt(0)] = etaplus
        sign[sign.lt(0)] = etaminus
        sign[sign.eq(0)] = 1
        step_size.mul_(sign).clamp_(step_size_min, step_size_max)
        grad = grad.clone()
        grad[sign.eq(etaminus)] = 0  # after a sign flip: no step now, and no flip detected next time
        p.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)
