"""Grad-mode switches, as torch.no_grad / enable_grad / set_grad_enabled. The flag itself is
thread-local and lives in C++."""
import functools
import sys

from . import _C


# inspect.CO_GENERATOR: importing inspect takes milliseconds, and `@no_grad()` runs at import time.
_CO_GENERATOR = 0x20


def _is_generator_function(fn):
    fn = getattr(fn, "__func__", fn)
    code = getattr(fn, "__code__", None)
    return code is not None and bool(code.co_flags & _CO_GENERATOR)


def _decorate(make_context, fn):
    """Runs fn (or each step of a generator fn) inside a fresh context from make_context()."""
    if _is_generator_function(fn):
        @functools.wraps(fn)
        def generator_wrapper(*args, **kwargs):
            gen = fn(*args, **kwargs)
            try:
                with make_context():
                    response = gen.send(None)
                while True:
                    try:
                        request = yield response
                    except GeneratorExit:
                        with make_context():
                            gen.close()
                        raise
                    except BaseException:
                        with make_context():
                            response = gen.throw(*sys.exc_info())
                    else:
                        with make_context():
                            response = gen.send(request)
            except StopIteration as stop:
                return stop.value

        return generator_wrapper

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with make_context():
            return fn(*args, **kwargs)

    return wrapper


class _GradModeContext:
    """Context manager and decorator (with or without parentheses) that sets grad mode and
    restores the previous mode on exit."""

    _enabled = True

    def __new__(cls, orig_func=None):
        if orig_func is None:
            return super().__new__(cls)
        return cls()(orig_func)

    def __enter__(self):
        self._prev = _C.is_grad_enabled()
        _C._set_grad_enabled(self._enabled)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self._prev)

    def __call__(self, fn):
        return _decorate(self.clone, fn)

    def clone(self):
        return self.__class__()


class no_grad(_GradModeContext):
    """Disables gradient recording: results of ops have no grad_fn and requires_grad=False."""

    _enabled = False


class enable_grad(_GradModeContext):
    """Enables gradient recording inside a no_grad block."""

    _enabled = True


class set_grad_enabled(_GradModeContext):
    """Sets grad mode on construction (so it works as a plain call too) and restores it on exit."""

    def __new__(cls, mode):
        return object.__new__(cls)

    def __init__(self, mode):
        if not isinstance(mode, bool):
            raise TypeError(
                f"set_grad_enabled(): argument 'enabled' (position 1) must be bool, not {type(mode).__name__}")
        self._prev = _C.is_grad_enabled()
        self._enabled = mode
        _C._set_grad_enabled(mode)

    def __enter__(self):
        pass

    def __call__(self, fn):
        # Used as a decorator: undo the switch made at construction; it applies per call.
        _C._set_grad_enabled(self._prev)
        return _decorate(self.clone, fn)

    def clone(self):
        return self.__class__(self._enabled)


def is_grad_enabled():
    return _C.is_grad_enabled()


class inference_mode(_GradModeContext):
    """torch.inference_mode, as no_grad: tapegrad has no separate inference tensors. mode=False changes nothing."""

    def __new__(cls, mode=True):
        if isinstance(mode, bool):
            return object.__new__(cls)
        return cls()(mode)  # used as a bare decorator

    def __init__(self, mode=True):
        self._mode = mode

    def __enter__(self):
        self._prev = _C.is_grad_enabled()
        if self._mode:
            _C._set_grad_enabled(False)

    def clone(self):
        return self.__class__(self._mode)
