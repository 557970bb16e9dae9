"""ASGD, as torch.optim.ASGD's single-tensor (CPU default) implementation, written with tapegrad's tensor ops."""
from .. import _C
from .adaptive import _apply_weight_decay, _check_non_negative, _PerParameterOptimizer
from .optimizer import _check_flags, _check_lr


class ASGD(_PerParameterOptimizer):
    """Implements averaged stochastic gradient descent.

    Each step: p = p * (1 - lambd * eta) - eta * g; the average ax follows p (ax += mu * (p - ax),
    or ax = p while mu is 1); then eta = lr / (1 + lambd * lr * t)^alpha and mu = 1 / max(1, t - t0).
    eta and mu are float32 tensors, as in torch, so their rounding matches.
    """

    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        _check_lr(lr)
        _check_non_negative(weight_decay=weight_decay)
        _check_flags("ASGD", foreach, False, differentiable, capturable)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def init_state(self, p, state, group):
        # Unlike the other optimizers' steps, torch keeps ASGD's step, eta and mu on the parameter's device.
        state["step"] = _C.zeros((), device=p.device)
        state["eta"] = _C.tensor(float(group["lr"]), device=p.device)
        state["mu"] = _C.ones((), device=p.device)
        state["ax"] = _C.zeros_like(p)

    def update(self, p, grad, state, group):
        lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
        lr = float(group["lr"])
        step_t, eta, mu, ax = state["step"], state["eta"], state["mu"], state["ax"]
        step_t += 1
        grad = _apply_weight_decay(p, grad, group)
        eta_value = eta.item()
        p.mul_(1 - lambd * eta_value)
        p.add_(grad, alpha=-eta_value)
        if mu.item() != 1:
            ax.add_(p.sub(ax).mul_(mu))
        else:
            ax.copy_(p)
        step = step_t.item()
        # Through float32 tensors (torch.as_tensor of a float), so a float64 eta or mu loaded from a state dict
        # holds the same float32-rounded values as torch's.
        eta.copy_(_C.tensor(lr / ((1 + lambd * lr * step) ** alpha), device=p.device))
        mu.copy_(_C.tensor(1 / max(1, step - t0), device=p.device))
