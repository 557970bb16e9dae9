"""torch.distributions: Normal and Categorical, drawing the same samples as torch for the same seed."""
import math

import tapegrad as _tg
from tapegrad._size import Size

# The smallest positive normal number and machine epsilon of each float dtype (torch.finfo(dtype).tiny / .eps).
_EPS = {"torch.float32": 2.0 ** -23, "torch.float64": 2.0 ** -52}
_LOWEST = {"torch.float32": -3.4028234663852886e38, "torch.float64": -1.7976931348623157e308}


def _as_tensor(value):
    return value if isinstance(value, _tg.Tensor) else _tg.tensor(float(value))


class Distribution:
    """batch_shape and event_shape, and sample() as rsample() without a graph."""

    has_rsample = False

    def __init__(self, batch_shape=Size(), event_shape=Size(), validate_args=None):
        self._batch_shape = Size(batch_shape)
        self._event_shape = Size(event_shape)

    @property
    def batch_shape(self):
        return self._batch_shape

    @property
    def event_shape(self):
        return self._event_shape

    def _extended_shape(self, sample_shape=Size()):
        return Size(tuple(sample_shape) + tuple(self._batch_shape) + tuple(self._event_shape))

    def sample(self, sample_shape=Size()):
        with _tg.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=Size()):
        raise NotImplementedError(f"{type(self).__name__} does not implement rsample")

    @property
    def stddev(self):
        return self.variance.sqrt()

    def __repr__(self):
        params = ", ".join(f"{name}: {getattr(self, name).shape if getattr(self, name).dim() else getattr(self, name)}"
                           for name in self._shown_params)
        return f"{type(self).__name__}({params})"


def _invalid(name, value, dist, constraint):
    shapes = ", ".join(f"{p}: {getattr(dist, p).shape}" for p in dist._shown_params)
    raise ValueError(f"Expected parameter {name} ({type(value).__name__} of shape {tuple(value.shape)}) of "
                     f"distribution {type(dist).__name__}({shapes}) to satisfy the constraint {constraint}, but found "
                     f"invalid values:\n{value}")


class Normal(Distribution):
    has_rsample = True
    _shown_params = ("loc", "scale")

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _tg.broadcast_tensors(_as_tensor(loc), _as_tensor(scale))
        if validate_args is not False and not bool((self.scale > 0).all()):
            _invalid("scale", self.scale, self, "GreaterThan(lower_bound=0.0)")
        super().__init__(self.loc.shape, validate_args=validate_args)

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def stddev(self):
        return self.scale

    @property
    def variance(self):
        return self.stddev.pow(2)

    def sample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        with _tg.no_grad():
            return _tg.normal(self.loc.expand(*shape), self.scale.expand(*shape))

    def rsample(self, sample_shape=Size()):
        shape = self._extended_shape(sample_shape)
        eps = _tg.empty(*shape, dtype=self.loc.dtype).normal_()
        return self.loc + eps * self.scale

    def log_prob(self, value):
        var = self.scale ** 2
        return -((value - self.loc) ** 2) / (2 * var) - self.scale.log() - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value):
        return 0.5 * (1 + _tg.erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value):
        return self.loc + self.scale * _tg.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self):
        return 0.5 + 0.5 * math.log(2 * math.pi) + _tg.log(self.scale)


class Categorical(Distribution):
    _shown_params = ("probs",)

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
            eps = _EPS[str(self.probs.dtype)]
            self.logits = self.probs.clamp(min=eps, max=1 - eps).log()
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
            self.probs = _tg.softmax(self.logits, -1)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.shape[-1]
        super().__init__(self._param.shape[:-1], validate_args=validate_args)

    @property
    def param_shape(self):
        return self._param.shape

    @property
    def mean(self):
        return _tg.full(self._extended_shape(), math.nan, dtype=self.probs.dtype)

    @property
    def mode(self):
        return self.probs.argmax(-1)

    @property
    def variance(self):
        return _tg.full(self._extended_shape(), math.nan, dtype=self.probs.dtype)

    def sample(self, sample_shape=Size()):
        sample_shape = Size(sample_shape)
        probs_2d = self.probs.reshape(-1, self._num_events)
        samples_2d = _tg.multinomial(probs_2d, max(math.prod(sample_shape), 1), True).T
        return samples_2d.reshape(self._extended_shape(sample_shape))

    def log_prob(self, value):
        value = value.long().unsqueeze(-1)
        value, log_pmf = _tg.broadcast_tensors(value, self.logits)
        return log_pmf.gather(-1, value[..., :1]).squeeze(-1)

    def entropy(self):
        logits = self.logits.clamp(min=_LOWEST[str(self.logits.dtype)])
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand=True):
        values = _tg.arange(self._num_events).view((-1,) + (1,) * len(self._batch_shape))
        return values.expand(-1, *self._batch_shape) if expand else values


__all__ = ["Categorical", "Distribution", "Normal"]
