from .. import functional as F
from .. import init
from .._spatial import _single
from .linear import _add_weight_and_bias
from .module import Module

__all__ = ["Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"]

# The valid choices, printed as sets in error messages as torch does.
_PADDING_MODES = {"zeros", "reflect", "replicate", "circular"}
_PADDING_STRINGS = {"same", "valid"}


class _ConvNd(Module):
    """The options, checks, parameters and repr shared by the convolutions; _ntuple makes each size option a
    tuple of the layer's spatial rank. Only padding_mode='zeros' is implemented."""

    _transposed = False  # a transposed layer's weight is [in, out / groups, *kernel]

    __constants__ = ["stride", "padding", "dilation", "groups", "padding_mode", "output_padding", "in_channels",
                     "out_channels", "kernel_size"]

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        ntuple = type(self)._ntuple
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        if isinstance(padding, str):
            if padding not in _PADDING_STRINGS:
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {_PADDING_STRINGS}")
            if padding == "same" and any(s != 1 for s in ntuple(stride)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, but got padding_mode='{padding_mode}'")
        if padding_mode != "zeros":
            raise NotImplementedError(
                f"tapegrad's {type(self).__name__} supports padding_mode='zeros' only, not {padding_mode!r}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = ntuple(kernel_size)
        self.stride = ntuple(stride)
        self.padding = padding if isinstance(padding, str) else ntuple(padding)
        self.dilation = ntuple(dilation)
        self.transposed = self._transposed
        self.output_padding = ntuple(0)
        self.groups = groups
        self.padding_mode = padding_mode
        channels = (in_channels, out_channels // groups) if self.transposed else (out_channels, in_channels // groups)
        _add_weight_and_bias(self, (*channels, *self.kernel_size), bias, device, dtype, out_channels)

    def reset_parameters(self):
        init._reset_layer_(self.weight, self.bias)

    def extra_repr(self):
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != type(self)._ntuple(0):
            s += f", padding={self.padding}"
        if self.dilation != type(self)._ntuple(1):
            s += f", dilation={self.dilation}"
        if self.output_padding != type(self)._ntuple(0):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) or (C, L) inputs."""

    _ntuple = staticmethod(_single)

    def forward(self, input):
        return F.conv1d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) or (C, H, W) inputs."""

    _ntuple = staticmethod(F._pair)
    _spatial_dims = 2
    _function = staticmethod(F.conv_transpose2d)

    def forward(self, input):
        return F.conv2d(input, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)


class _ConvTransposeNd(_ConvNd):
    """The transposed convolutions: their arguments in PyTorch's order, and output_size in forward."""

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        ntuple = type(self)._ntuple
        super().__init__(in_channels, out_channels, kernel_size, stride, ntuple(padding), dilation, groups, bias,
                         padding_mode, device, dtype)
        self.output_padding = ntuple(output_padding)

    def _output_padding(self, input, output_size):
        """The output_padding that gives output_size (its spatial sizes, or all its sizes), as PyTorch's."""
        if output_size is None:
            return self.output_padding
        dims = self._spatial_dims
        leading = 2 if input.dim() == dims + 2 else 1
        if len(output_size) == leading + dims:
            output_size = output_size[leading:]
        if len(output_size) != dims:
            raise ValueError(f"ConvTranspose{dims}D: for {input.dim()}D input, output_size must have {dims} "
                             f"or {leading + dims} elements (got {len(output_size)})")
        min_sizes = [(input.size(d + leading) - 1) * self.stride[d] - 2 * self.padding[d]
                     + self.dilation[d] * (self.kernel_size[d] - 1) + 1 for d in range(dims)]
        max_sizes = [size + stride - 1 for size, stride in zip(min_sizes, self.stride)]
        for size, low, high in zip(output_size, min_sizes, max_sizes):
            if size < low or size > high:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from {min_sizes} "
                                 f"to {max_sizes} (for an input of {input.size()[2:]})")
        return tuple(size - low for size, low in zip(output_size, min_sizes))

    def forward(self, input, output_size=None):
        return self._function(input, self.weight, self.bias, self.stride, self.padding,
                              self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution (the gradient of Conv1d with respect to its input) over (N, C, L) or (C, L)."""

    _ntuple = staticmethod(_single)
    _spatial_dims = 1
    _function = staticmethod(F.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution (the gradient of Conv2d with respect to its input) over (N, C, H, W) or
    (C, H, W)."""

    _ntuple = staticmethod(F._pair)
    _spatial_dims = 2
    _function = staticmethod(F.conv_transpose2d)
