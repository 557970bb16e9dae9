"""Samplers composed from tapegrad's generator: bernoulli, exponential_, random_, poisson, multinomial, normal and
randint_like. Each draws the same raw numbers, in the same order, as PyTorch's CPU kernels (on CPUs where those do
not use MKL's streams), so a seed gives torch's samples."""
import math

from . import _C
from ._C import Tensor
from ._ops import _TYPE_WORD, _recorded
from .grad_mode import no_grad


def _uniform(shape, generator, dtype=_C.float64):
    """torch's standard uniforms: a 53-bit double per element, or a 24-bit float for dtype float32."""
    return _C.rand(*shape, generator=generator, dtype=dtype) if shape else _C.rand((), generator=generator,
                                                                                   dtype=dtype)


def _check_float(t, kernel):
    if not t.is_floating_point():
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_TYPE_WORD[str(t.dtype)]}'")


def _write(self, values):
    with no_grad():
        self.copy_(values)
    return self


# ---- bernoulli ----

def _bernoulli_draws(shape, p, generator, dtype):
    if isinstance(p, Tensor):
        if p.numel() and not bool(((p >= 0) & (p <= 1)).all()):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.  (Could this error "
                               "message be improved?  If so, please report an enhancement request to PyTorch.)")
        # A uniform of the output's precision (double for float64, else float) against p in that precision.
        precision = _C.float64 if str(dtype) == "torch.float64" else _C.float32
        return _uniform(shape, generator, precision) < p.to(precision).expand(*shape)
    if not 0 <= p <= 1:
        raise RuntimeError(f"bernoulli_ expects p to be in [0, 1], but got p={p:g}")
    return _uniform(shape, generator) < p


def bernoulli(input, p=None, *, generator=None):
    """torch.bernoulli(input): 1 with probability input; with p, every element with probability p."""
    probs = input if p is None else p
    return _bernoulli_draws(tuple(input.shape), probs, generator, input.dtype).to(input.dtype)


def bernoulli_(self, p=0.5, *, generator=None):
    return _write(self, _bernoulli_draws(tuple(self.shape), p, generator, self.dtype))


# ---- exponential_, random_ ----

def exponential_(self, lambd=1.0, *, generator=None):
    _check_float(self, "exponential_cpu")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    u = _uniform(tuple(self.shape), generator)
    return _write(self, u.neg().log1p() * (-1.0 / lambd))


_MANTISSA_RANGE = {"torch.float32": 2 ** 24 + 1, "torch.float64": 2 ** 53 + 1}


def random_(self, from_=None, to=None, *, generator=None, **kwargs):
    """random_(to), random_(from, to) or random_(): integers in [from, to); without bounds, every integer the
    dtype holds exactly (floats) or [0, 2**63) (int64)."""
    if "from" in kwargs:
        from_ = kwargs.pop("from")
    if kwargs:
        raise TypeError(f"random_() got an unexpected keyword argument '{next(iter(kwargs))}'")
    if from_ is not None and to is None:
        from_, to = 0, from_
    if to is None:
        if str(self.dtype) == "torch.int64":
            draws = [_C._draw_seed(generator) for _ in range(self.numel())]
            return _write(self, _C.tensor(draws, dtype=_C.int64).reshape(self.shape))
        if str(self.dtype) == "torch.bool":
            from_, to = 0, 2
        else:
            from_, to = 0, _MANTISSA_RANGE[str(self.dtype)]
    if from_ >= to:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={from_} >= to={to}")
    return _write(self, _C.randint(from_, to, tuple(self.shape), generator=generator, dtype=self.dtype))


def randint_like(input, low=0, high=None, *, generator=None, dtype=None, device=None, requires_grad=False, **kwargs):
    if high is None:
        low, high = 0, low
    out = _C.randint(low, high, tuple(input.shape), generator=generator, dtype=dtype or input.dtype)
    return out.requires_grad_(requires_grad) if requires_grad else out


# ---- poisson ----

class _UniformStream:
    """torch's standard uniforms one at a time for samplers that use a varying number of them: fetched in blocks,
    and on close the generator is left exactly as many draws ahead as were used."""

    def __init__(self, generator):
        self.generator = generator if generator is not None else _C.default_generator
        self.start = self.generator.get_state()
        self.used = 0
        self.block = []

    def __call__(self):
        if self.used % 256 == 0:
            self.block = _uniform((256,), self.generator).tolist()
        value = self.block[self.used % 256]
        self.used += 1
        return value

    def close(self):
        self.generator.set_state(self.start)
        if self.used:
            _uniform((self.used,), self.generator)


def _poisson_sample(rate, uniform):
    """ATen's sample_poisson: Hoermann's transformed rejection from rate 10 up, Knuth's product of uniforms below."""
    if rate >= 10:
        slam, loglam = math.sqrt(rate), math.log(rate)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        while True:
            u = uniform() - 0.5
            v = uniform()
            us = 0.5 - abs(u)
            k = math.floor((2 * a / us + b) * u + rate + 0.43)
            if us >= 0.07 and v <= vr:
                return k
            if k < 0 or (us < 0.013 and v > us):
                continue
            if math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b) <= -rate + k * loglam - math.lgamma(k + 1):
                return k
    if rate == 0:
        return 0
    limit, count, product = math.exp(-rate), 0, 1.0
    while True:
        product *= uniform()
        if product <= limit:
            return count
        count += 1


def poisson(input, generator=None):
    _check_float(input, "poisson_cpu")
    rates = input.detach().reshape(-1).tolist()
    if any(not r >= 0 for r in rates):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    stream = _UniformStream(generator)
    try:
        samples = [_poisson_sample(r, stream) for r in rates]
    finally:
        stream.close()
    return _C.tensor(samples, dtype=input.dtype).reshape(input.shape)


# ---- multinomial ----

def _check_multinomial(input, num_samples, replacement):
    if not input.is_floating_point():
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{_TYPE_WORD[str(input.dtype)]}")
    if input.dim() not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > input.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    if input.numel() and not bool((input.isfinite() & (input >= 0)).all()):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if input.numel() and not bool((input.sum(-1) > 0).all()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    if not replacement and not bool(((input > 0).sum(-1) >= num_samples).all()):
        raise RuntimeError("invalid multinomial distribution (with replacement=False, not enough non-negative "
                           "category to sample)")


def multinomial(input, num_samples, replacement=False, *, generator=None):
    _check_multinomial(input, num_samples, replacement)
    probs = input.detach()
    rows = probs.reshape(-1, probs.shape[-1])
    if replacement and num_samples > 1:
        import numpy as np

        # ATen's kernel: a running sum in the input's dtype, divided by the total, the last bucket set to 1, then
        # the first bucket whose cumulative value reaches each double uniform.
        cumulative = np.cumsum(np.asarray(rows), axis=1, dtype=np.asarray(rows).dtype)
        cumulative /= cumulative[:, -1:]
        cumulative[:, -1] = 1
        draws = np.asarray(_uniform((rows.shape[0], num_samples), generator))
        picks = np.stack([np.searchsorted(c, d, side="left") for c, d in zip(cumulative, draws)])
        result = _C.from_numpy(np.ascontiguousarray(picks.astype(np.int64)))
    else:
        # ATen's exponential race (its path for one sample too): the largest p / q with q ~ Exp(1) win.
        q = _C.empty_like(rows)
        exponential_(q, 1.0, generator=generator)
        keys = rows / q
        result = keys.argmax(-1, keepdim=True) if num_samples == 1 else keys.topk(num_samples, -1).indices
    return result.reshape(num_samples) if input.dim() == 1 else result


# ---- normal ----

def _normal_tensor_tensor(mean, std, generator):
    out = _C.empty(*_broadcast(mean, std), dtype=mean.dtype).normal_(0, 1, generator=generator)
    return out * std + mean


def _broadcast(a, b):
    return tuple((_C.empty_like(a) + _C.empty_like(b)).shape) if a.shape != b.shape else tuple(a.shape)


def _normal_nodes():
    zeros = lambda g, mean, std, generator: tuple(  # noqa: E731  (normal has no gradient in torch)
        _C.zeros_like(t) if isinstance(t, Tensor) else None for t in (mean, std)) + (None,)

    def tensor_number(mean, std, generator):
        return _C.empty_like(mean).normal_(0, std, generator=generator) + mean

    def number_tensor(mean, std, generator):
        return _C.empty_like(std).normal_(0, 1, generator=generator) * std + mean

    return {1: _recorded("NormalBackward1", tensor_number, zeros),
            2: _recorded("NormalBackward2", number_tensor, zeros),
            3: _recorded("NormalBackward3", _normal_tensor_tensor, zeros)}


_NORMAL = _normal_nodes()


def normal(mean, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False, out=None):
    if isinstance(std, Tensor) and std.numel() and not bool((std >= 0).all()):
        raise RuntimeError("normal expects all elements of std >= 0.0")
    if not isinstance(std, Tensor) and std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std:g}")
    if isinstance(mean, Tensor):
        return _NORMAL[3 if isinstance(std, Tensor) else 1](mean, std, generator)
    if isinstance(std, Tensor):
        return _NORMAL[2](mean, std, generator)
    if size is None:
        raise TypeError("normal() received an invalid combination of arguments - got (float, float), but expected "
                        "(float mean, float std, tuple of ints size, *, torch.Generator generator)")
    result = _C.empty(*size, dtype=dtype or _C.get_default_dtype()).normal_(mean, std, generator=generator)
    return result.requires_grad_(requires_grad) if requires_grad else result


FUNCTIONS = {"bernoulli": bernoulli, "poisson": poisson, "multinomial": multinomial, "normal": normal,
             "randint_like": randint_like}
METHODS = ["bernoulli", "multinomial"]
INPLACE = []
TENSOR_ONLY = {"bernoulli_": bernoulli_, "exponential_": exponential_, "random_": random_}
