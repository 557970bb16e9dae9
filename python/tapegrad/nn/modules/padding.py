from .. import functional as F
from .module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "ReflectionPad1d",
           "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d", "ReplicationPad3d",
           "CircularPad1d", "CircularPad2d", "CircularPad3d"]


def _padding_tuple(padding, dims):
    """A padding tuple as given, or an int repeated on both sides of each of the last dims."""
    return tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * (2 * dims)


class _ConstantPadNd(Module):
    """Pads the last _dims dims with value; an int padding pads every side by it."""

    __constants__ = ["padding", "value"]

    def __init__(self, padding, value):
        super().__init__()
        self.padding = _padding_tuple(padding, self._dims)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    _dims = 1


class ConstantPad2d(_ConstantPadNd):
    _dims = 2


class ConstantPad3d(_ConstantPadNd):
    _dims = 3


class ZeroPad1d(ConstantPad1d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad3d(ConstantPad3d):
    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class _NonConstantPadNd(Module):
    """Pads the last _dims dims with F.pad's _mode ('reflect', 'replicate' or 'circular')."""

    __constants__ = ["padding"]

    def __init__(self, padding):
        super().__init__()
        self.padding = _padding_tuple(padding, self._dims)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self):
        return f"{self.padding}"


class ReflectionPad1d(_NonConstantPadNd):
    _dims, _mode = 1, "reflect"


class ReflectionPad2d(_NonConstantPadNd):
    _dims, _mode = 2, "reflect"


class ReflectionPad3d(_NonConstantPadNd):
    _dims, _mode = 3, "reflect"


class ReplicationPad1d(_NonConstantPadNd):
    _dims, _mode = 1, "replicate"


class ReplicationPad2d(_NonConstantPadNd):
    _dims, _mode = 2, "replicate"


class ReplicationPad3d(_NonConstantPadNd):
    _dims, _mode = 3, "replicate"


class _CircularPadNd(_NonConstantPadNd):
    _mode = "circular"

    def forward(self, input):
        if input.dim() not in (self._dims + 1, self._dims + 2):
            raise ValueError(f"expected {self._dims + 1}D or {self._dims + 2}D input (got {input.dim()}D input)")
        return super().forward(input)


class CircularPad1d(_CircularPadNd):
    _dims = 1


class CircularPad2d(_CircularPadNd):
    _dims = 2


class CircularPad3d(_CircularPadNd):
    _dims = 3
