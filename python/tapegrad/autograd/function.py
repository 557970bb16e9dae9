"""Custom differentiable ops, as torch.autograd.Function: a forward and a backward written with tensor ops.

Function.apply runs forward without recording history, then records one graph node (a C++ node whose
backward calls the class's backward) with edges to the tensor arguments and the outputs as its outputs.
"""
import functools

from .. import _C
from ..grad_mode import no_grad

_NO_BACKWARD = ("You must implement either the backward or vjp method for your custom autograd.Function to use it "
                "with backward mode AD.")


class FunctionCtx:
    """What forward hands to backward: saved tensors, flags and any attribute set on it."""

    def save_for_backward(self, *tensors):
        for t in tensors:
            if t is not None and not isinstance(t, _C.Tensor):
                raise TypeError("save_for_backward can only save variables, but argument "
                                f"{tensors.index(t)} is of type {type(t).__name__}")
        self.to_save = tensors

    def save_for_forward(self, *tensors):
        self.saved_for_forward = tensors

    def mark_dirty(self, *tensors):
        self.dirty_tensors = tensors

    def mark_non_differentiable(self, *tensors):
        self.non_differentiable = tensors

    def set_materialize_grads(self, value):
        self.materialize_grads = value

    @property
    def saved_tensors(self):
        if hasattr(self, "_saved"):
            return self._saved
        return tuple(getattr(self, "to_save", ()))


class _FunctionMeta(type):
    def __call__(cls, *args, **kwargs):
        import warnings

        warnings.warn(f"{cls} should not be instantiated. Methods on autograd functions are all static, so you "
                      "should invoke them on the class itself. Instantiating an autograd function will raise an error "
                      "in a future version of PyTorch.", DeprecationWarning, stacklevel=2)
        return super().__call__(*args, **kwargs)


class Function(metaclass=_FunctionMeta):
    """Subclass with staticmethods forward(ctx, *args) and backward(ctx, *grads), then call Cls.apply(*args).
    forward may instead take only the arguments, with setup_context(ctx, inputs, output) filling ctx."""

    def __call__(self, *args, **kwargs):
        raise RuntimeError(
            "Legacy autograd function with non-static forward method is deprecated. Please use new-style autograd "
            "function with static forward method. (Example: https://pytorch.org/docs/stable/autograd.html#torch."
            "autograd.Function)")

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise NotImplementedError("setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError(_NO_BACKWARD)

    vjp = backward

    @staticmethod
    def jvp(ctx, *grad_inputs):
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it with "
                                  "forward mode AD.")

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = FunctionCtx()
        records = _C.is_grad_enabled() and any(isinstance(a, _C.Tensor) and a.requires_grad for a in args)
        ctx.needs_input_grad = tuple(records and isinstance(a, _C.Tensor) and a.requires_grad for a in args)
        ctx.materialize_grads = True
        with no_grad():
            if cls.setup_context is Function.setup_context:
                output = cls.forward(ctx, *args, **kwargs)
            else:
                output = cls.forward(*args, **kwargs)
                cls.setup_context(ctx, args, output)
        if not records:
            return output
        is_tuple = isinstance(output, tuple)
        outputs = list(output) if is_tuple else [output]
        non_differentiable = {id(t) for t in getattr(ctx, "non_differentiable", ())}
        inputs = {id(a) for a in args if isinstance(a, _C.Tensor)}
        recorded = []
        for i, out in enumerate(outputs):
            if not isinstance(out, _C.Tensor):
                recorded.append(None)
                continue
            if id(out) in inputs:  # an input returned as is: the output is a new tensor on the same data
                outputs[i] = out = out.detach()
            differentiable = id(out) not in non_differentiable and out.dtype.is_floating_point
            recorded.append(out if differentiable else None)
        to_save = list(getattr(ctx, "to_save", ()))
        if hasattr(ctx, "to_save"):
            del ctx.to_save  # saved_tensors now come from the node, with their version checks
        # The node keeps shapes, not tensors: an output holding its own node would never be freed.
        input_meta = [(tuple(a.shape), a.requires_grad) if isinstance(a, _C.Tensor) else None for a in args]
        output_meta = [(tuple(o.shape), o.dtype) if isinstance(o, _C.Tensor) else None for o in outputs]
        _C._record_function(_node_name(cls),
                            functools.partial(_run_backward, cls, ctx, input_meta, output_meta),
                            [a if isinstance(a, _C.Tensor) else None for a in args], recorded, to_save)
        return tuple(outputs) if is_tuple else outputs[0]


def _node_name(cls):
    # tapegrad's own ops written as Functions carry the node name PyTorch gives them (AddcmulBackward0).
    return cls.__dict__.get("_node_name", cls.__name__ + "Backward")


def _run_backward(cls, ctx, input_meta, output_meta, saved, grads):
    """Called by the node with its saved tensors and one gradient (or None) per forward output."""
    name = _node_name(cls)
    if cls.backward is Function.backward and cls.vjp is Function.vjp:
        raise NotImplementedError(_NO_BACKWARD)
    if ctx.materialize_grads:
        grads = tuple(_C.zeros(meta[0], dtype=meta[1]) if g is None and meta is not None else g
                      for g, meta in zip(grads, output_meta))
    ctx._saved = saved
    try:
        backward = cls.backward if cls.backward is not Function.backward else cls.vjp
        result = backward(ctx, *grads)
    finally:
        del ctx._saved
    if not isinstance(result, tuple):
        result = (result,)
    n = len(input_meta)
    if len(result) != n:
        if len(result) < n or any(g is not None for g in result[n:]):
            raise RuntimeError(f"function {name} returned an incorrect number of gradients (expected {n}, "
                               f"got {len(result)})")
        result = result[:n]
    checked = []
    for i, (g, meta) in enumerate(zip(result, input_meta)):
        if meta is None:
            if g is not None:
                raise RuntimeError(f"function {name} returned a gradient different than None at position {i + 1}, "
                                   "but the corresponding forward input was not a Variable")
            checked.append(None)
            continue
        shape, requires_grad = meta
        if g is not None and not requires_grad:
            g = None  # gradients for inputs that need none are dropped, as in PyTorch
        if g is not None and tuple(g.shape) != shape and not _expandable(shape, g.shape):
            raise RuntimeError(f"Function {name} returned an invalid gradient at index {i} - got {list(g.shape)} "
                               f"but expected shape compatible with {list(shape)}")
        checked.append(g)
    return checked


def _expandable(shape, target):
    """Whether `shape` broadcasts to `target` (the gradient is then summed back down)."""
    if len(shape) > len(target):
        return False
    return all(s == t or s == 1 for s, t in zip(reversed(tuple(shape)), reversed(tuple(target))))


def once_differentiable(fn):
    """Runs backward without recording a graph, as torch.autograd.function.once_differentiable."""

    @functools.wraps(fn)
    def wrapper(ctx, *args):
        with no_grad():
            return fn(ctx, *args)

    return wrapper
