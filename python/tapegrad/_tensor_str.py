"""Tensor printing that matches PyTorch's ``repr`` character for character.

Everything works on numpy arrays, so the C++ core only has to hand over its data,
dtype name and autograd facts; layout decisions all live here.
"""

import dataclasses
import math
from typing import Optional

import numpy as np


@dataclasses.dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: Optional[bool] = None


_OPTIONS = _PrintOptions()

_PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": math.inf, "edgeitems": 3, "linewidth": 80},
}

_NUMPY_DTYPES = {
    "float32": np.float32,
    "float64": np.float64,
    "int64": np.int64,
    "bool": np.bool_,
}
_FLOATING_DTYPES = ("float32", "float64")
_DEFAULT_DTYPE = "float32"
# Non-empty tensors of these dtypes show no dtype= suffix: their values reveal it.
_INFERABLE_DTYPES = (_DEFAULT_DTYPE, "int64", "bool")


def set_printoptions(
    precision=None,
    threshold=None,
    edgeitems=None,
    linewidth=None,
    profile=None,
    sci_mode=None,
):
    """Set printing options, as ``torch.set_printoptions``.

    ``profile`` ("default", "short" or "full") is applied first, then any explicit
    option overrides it. ``sci_mode`` is always assigned, so leaving it out restores
    automatic choice of scientific notation.
    """
    # Like torch, an unknown profile name is ignored rather than rejected.
    for name, value in _PROFILES.get(profile, {}).items():
        setattr(_OPTIONS, name, value)
    explicit = {
        "precision": precision,
        "threshold": threshold,
        "edgeitems": edgeitems,
        "linewidth": linewidth,
    }
    for name, value in explicit.items():
        if value is not None:
            setattr(_OPTIONS, name, value)
    _OPTIONS.sci_mode = sci_mode


def get_printoptions():
    """The current options, as a dict that can be passed back to set_printoptions."""
    return dataclasses.asdict(_OPTIONS)


def format_size(dims):
    """``repr(torch.Size(dims))``, e.g. ``torch.Size([2, 3])``."""
    return "torch.Size([" + ", ".join(str(int(d)) for d in dims) + "])"


def format_tensor(
    values,
    *,
    dtype,
    requires_grad=False,
    grad_fn_name=None,
    device="cpu",
    is_param=False,
):
    """``repr`` of a tensor holding ``values`` (a numpy array) of tapegrad ``dtype``.

    ``grad_fn_name`` is the backward node's class name (``"MulBackward0"``); when
    given, it replaces the ``requires_grad=True`` suffix, as in torch.
    """
    if dtype not in _NUMPY_DTYPES:
        raise ValueError(f"format_tensor: unsupported dtype {dtype!r}")
    values = np.asarray(values, dtype=_NUMPY_DTYPES[dtype])
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if device != "cpu":
        suffixes.append(f"device='{device}'")
    if values.size == 0:
        # Shapes other than (0,) are spelled out, as numpy does.
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        # No values to infer int64 or bool from, so only float32 goes unnamed.
        if dtype != _DEFAULT_DTYPE:
            suffixes.append(f"dtype=torch.{dtype}")
        body = "[]"
    else:
        # With edgeitems=0 no value is shown, so the shape is the only content.
        if not _OPTIONS.edgeitems:
            suffixes.append(f"size={tuple(values.shape)}")
        if dtype not in _INFERABLE_DTYPES:
            suffixes.append(f"dtype=torch.{dtype}")
        body = _format_values(values, indent, dtype in _FLOATING_DTYPES)
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif requires_grad:
        suffixes.append("requires_grad=True")
    text = _add_suffixes(prefix + body, suffixes, indent)
    if is_param:
        return "Parameter containing:\n" + text
    return text


def _format_values(values, indent, floating):
    summarize = values.size > _OPTIONS.threshold
    shown = _shown_elements(values) if summarize else values.reshape(-1)
    formatter = _ElementFormatter(shown, floating)
    return _format_nested(values, indent, summarize, formatter)


def _shown_elements(values):
    """The elements a summarised print shows, flattened; only they size the columns."""
    edge = _OPTIONS.edgeitems
    if values.ndim == 0:
        return values.reshape(-1)
    if not edge:
        # Only '...' is printed, so no element needs a column.
        return values.reshape(-1)[:0]
    if len(values) > 2 * edge:
        values = np.concatenate((values[:edge], values[-edge:]))
    if values.ndim == 1:
        return values
    return np.concatenate([_shown_elements(row) for row in values])


class _ElementFormatter:
    """Picks one notation and one width for every element of a tensor.

    Floats print fixed-point (``1.2500``), integer-valued (``3.``) or scientific
    (``1.2500e+08``), chosen from the nonzero finite values, as torch does.
    """

    def __init__(self, shown, floating):
        self.floating = floating
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        if not floating:
            self.width = max([1, *(len(str(v)) for v in shown.tolist())])
            return
        finite = shown[np.isfinite(shown) & (shown != 0)]
        if finite.size == 0:
            # Torch stops here before reading the sci_mode option, so tensors of only
            # zeros, nan and inf always print as '0.', 'nan', 'inf'.
            return
        magnitudes = np.abs(finite).astype(np.float64)
        smallest = float(magnitudes.min())
        largest = float(magnitudes.max())
        self.int_mode = bool(np.all(finite == np.ceil(finite)))
        if _OPTIONS.sci_mode is None:
            self.sci_mode = (
                largest / smallest > 1000.0 or largest > 1.0e8 or smallest < 1.0e-4
            )
        else:
            self.sci_mode = _OPTIONS.sci_mode
        precision = _OPTIONS.precision
        finite_values = finite.tolist()
        if self.sci_mode:
            self.width = max(len(f"{v:.{precision}e}") for v in finite_values)
        elif self.int_mode:
            # One more column for the '.' that marks an integer-valued float.
            self.width = max(len(f"{v:.0f}") + 1 for v in finite_values)
        else:
            self.width = max(len(f"{v:.{precision}f}") for v in finite_values)

    def format(self, value):
        precision = _OPTIONS.precision
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:.{precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}"
            if math.isfinite(value):
                text += "."
        else:
            text = f"{value:.{precision}f}"
        return text.rjust(self.width)


def _format_nested(values, indent, summarize, formatter):
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _format_row(values, indent, summarize, formatter)
    edge = _OPTIONS.edgeitems
    count = len(values)
    if summarize and count > 2 * edge:
        kept = list(range(edge)) + [None] + list(range(count - edge, count))
    else:
        kept = list(range(count))
    parts = [
        "..." if i is None
        else _format_nested(values[i], indent + 1, summarize, formatter)
        for i in kept
    ]
    # Rows of a matrix sit on consecutive lines; each further dim adds a blank line.
    separator = "," + "\n" * (values.ndim - 1) + " " * (indent + 1)
    return "[" + separator.join(parts) + "]"


def _format_row(row, indent, summarize, formatter):
    edge = _OPTIONS.edgeitems
    # Each element takes its width plus the ", " after it.
    per_line = max(1, math.floor((_OPTIONS.linewidth - indent) / (formatter.width + 2)))
    if summarize and not edge:
        items = ["..."]
    elif summarize and len(row) > 2 * edge:
        items = (
            [formatter.format(v) for v in row[:edge].tolist()]
            + [" ..."]
            + [formatter.format(v) for v in row[-edge:].tolist()]
        )
    else:
        items = [formatter.format(v) for v in row.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _add_suffixes(text, suffixes, indent):
    # Torch measures the last line as two columns longer than it is; kept so that
    # suffixes wrap at the same places.
    line_length = len(text) - text.rfind("\n") + 1
    pieces = [text]
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > _OPTIONS.linewidth:
            pieces.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            pieces.append(", " + suffix)
            line_length += len(suffix) + 2
    pieces.append(")")
    return "".join(pieces)
