// Creation ops, copies and dtype conversion.
#include <algorithm>
#include <cmath>
#include <mutex>
#include "autograd/node.h"
#include "core/rng.h"
#include "ops/elementwise_util.h"
#include "ops/ops.h"

namespace tg::ops {

void check_fill_value(Scalar value, ScalarType dtype) {
  double v = value.is_floating() ? value.to_double() : 0;
  TG_CHECK(dtype != ScalarType::Int64 || (v >= -0x1p63 && v < 0x1p63),
           "value cannot be converted to type int64_t without overflow");
}

Tensor full(const DimVec& sizes, Scalar value, ScalarType dtype, Device device) {
  check_fill_value(value, dtype);
  Tensor t = empty(sizes, dtype, device);
  backend_for(device).fill(t, value);
  return t;
}
Tensor zeros(const DimVec& sizes, ScalarType dtype, Device device) { return full(sizes, Scalar(int64_t(0)), dtype, device); }
Tensor ones(const DimVec& sizes, ScalarType dtype, Device device) { return full(sizes, Scalar(int64_t(1)), dtype, device); }
Tensor zeros_like(const Tensor& t) { return zeros(t.sizes(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.sizes(), t.dtype(), t.device()); }

// True when t's elements fill numel consecutive slots in some order of its dims (no gaps, no overlap).
static bool is_dense(const Tensor& t) {
  std::vector<std::pair<int64_t, int64_t>> dims;  // (stride, size) of the dims that matter
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.sizes()[d] != 1) dims.emplace_back(t.strides()[d], t.sizes()[d]);
  std::sort(dims.begin(), dims.end());
  int64_t expected = 1;
  for (auto [stride, size] : dims) {
    if (stride != expected) return false;
    expected *= size;
  }
  return true;
}

Tensor empty_like(const Tensor& t, ScalarType dtype, Device device) {
  bool keep_strides = (t.is_contiguous() || is_dense(t)) && t.strides() != contiguous_strides(t.sizes());
  if (!keep_strides) return empty(t.sizes(), dtype, device);
  return make_view(empty(DimVec{t.numel()}, dtype, device), t.sizes(), t.strides(), 0);
}

// Values are computed on the CPU, then moved; creation is never the hot path on a GPU.
static Tensor on_device(Tensor cpu, Device device) { return device.is_cpu() ? cpu : to_device(cpu, device); }

Tensor arange(Scalar start, Scalar end, Scalar step, ScalarType dtype, Device device) {
  if (dtype == ScalarType::Bool) throw NotImplementedError("\"arange_cpu\" not implemented for 'Bool'");
  double s = start.to_double(), e = end.to_double(), st = step.to_double();
  TG_CHECK(st != 0, "step must be nonzero");
  // An integer dtype takes the step as an integer, which may be 0 (arange(0, 1, 0.5, dtype=int64)).
  TG_CHECK_VALUE(is_floating(dtype) || static_cast<int64_t>(st) != 0, "step must be nonzero");
  TG_CHECK(std::isfinite(s) && std::isfinite(e), "unsupported range: ", s, " -> ", e);
  TG_CHECK((st > 0 && e >= s) || (st < 0 && e <= s), "upper bound and lower bound inconsistent with step sign");
  int64_t n;
  if (is_floating(dtype) || start.is_floating() || end.is_floating() || step.is_floating()) {
    double size = std::ceil((e - s) / st);
    TG_CHECK(size <= double(std::numeric_limits<int64_t>::max()), "invalid size, possible overflow?");
    n = static_cast<int64_t>(size);
  } else {
    // In 128 bits: the span of two int64 bounds does not fit in 64.
    __int128 step_i = step.to_int();
    __int128 size = (__int128(end.to_int()) - start.to_int() + step_i - (step_i > 0 ? 1 : -1)) / step_i;
    TG_CHECK(size <= std::numeric_limits<int64_t>::max(), "invalid size, possible overflow?");
    n = static_cast<int64_t>(size);
  }
  Tensor t = empty(DimVec{std::max<int64_t>(n, 0)}, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t.data<T>();
    if constexpr (std::is_same_v<T, int64_t>) {
      if (!start.is_floating() && !step.is_floating()) {
        // Unsigned, so that i * step may wrap on its way to a value in range.
        uint64_t first = uint64_t(start.to_int()), stride = uint64_t(step.to_int());
        for (int64_t i = 0; i < n; ++i) p[i] = static_cast<int64_t>(first + uint64_t(i) * stride);
        return;
      }
    }
    if constexpr (std::is_floating_point_v<T>) {
      // PyTorch's CPU kernel, rounding included: pairs of 256-bit vectors start at start + step * i
      // (in double) and step lane by lane from there; the tail is element by element.
      constexpr int64_t lanes = 32 / sizeof(T);
      int64_t vectorised = n / (2 * lanes) * (2 * lanes);
      for (int64_t v = 0; v < vectorised; v += lanes) {
        T base = static_cast<T>(std::fma(st, double(v), s));
        for (int64_t lane = 0; lane < lanes; ++lane)
          p[v + lane] = static_cast<T>(std::fma(double(lane), st, double(base)));
      }
      for (int64_t i = vectorised; i < n; ++i) p[i] = static_cast<T>(std::fma(st, double(i), s));
    } else {
      for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(s + i * st);
    }
  });
  return on_device(t, device);
}

Tensor linspace(double start, double end, int64_t steps, ScalarType dtype, Device device) {
  TG_CHECK(steps >= 0, "number of steps must be non-negative");
  if (steps >= 1) check_fill_value(Scalar(start), dtype);  // one step fills start alone
  if (steps >= 2) check_fill_value(Scalar(end), dtype);
  Tensor t = empty(DimVec{steps}, dtype);
  // PyTorch fills the first half from start and the second half back from end, each value one fused
  // multiply-add in the output type (in double for integers), so that the values agree bit for bit.
  int64_t half = steps == 1 ? 1 : steps / 2;
  dispatch_all(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool>) {
      // One step is a fill with start, and none is nothing: only more need the kernel, which has no bool.
      if (steps > 1) throw NotImplementedError("\"linspace_cpu\" not implemented for 'Bool'");
      if (steps == 1) *t.data<bool>() = start != 0;
    } else {
      using Step = std::conditional_t<std::is_integral_v<T>, double, T>;
      const T lo = static_cast<T>(start), hi = static_cast<T>(end);
      const Step step = steps > 1 ? (Step(hi) - Step(lo)) / Step(steps - 1) : Step(0);
      T* p = t.data<T>();
      for (int64_t i = 0; i < steps; ++i)
        p[i] = static_cast<T>(i < half ? std::fma(step, Step(i), Step(lo))
                                       : std::fma(-step, Step(steps - i - 1), Step(hi)));
    }
  });
  return on_device(t, device);
}

Tensor eye(int64_t n, int64_t m, ScalarType dtype, Device device) {
  TG_CHECK(n >= 0, "n must be greater or equal to 0, got ", n);
  TG_CHECK(m >= 0, "m must be greater or equal to 0, got ", m);
  Tensor t = zeros(DimVec{n, m}, dtype);
  dispatch_all(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    for (int64_t i = 0; i < std::min(n, m); ++i) t.data<T>()[i * m + i] = T(1);
  });
  return on_device(t, device);
}

// Random fills draw from the given generator (the default one when null) in memory order, as
// PyTorch's CPU generator does, so that the same seed gives the same numbers; a dense CPU tensor
// is filled in place.
template <typename Fill>
static Tensor& random_fill(Tensor& self, const char* op, Fill fill, Generator* generator = nullptr) {
  check_inplace(self);
  if (self.numel() == 0) return self;  // nothing to draw, and no kernel to find for the dtype
  Tensor buf = self.device().is_cpu() && is_dense(self)
                   ? make_view(self, DimVec{self.numel()}, DimVec{1}, self.offset())
                   : empty(self.sizes(), self.dtype());
  Generator& gen = generator ? *generator : default_generator();
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    fill(gen, buf);
  }
  if (buf.storage() != self.storage()) backend_for(self.device()).copy(self, buf);
  self.bump_version();
  return self;
}

// The names PyTorch's CPU kernels report for integer and bool tensors.
static void check_random_floating(const Tensor& t, const char* kernel) {
  if (!is_floating(t.dtype()))
    throw NotImplementedError(str_cat("\"", kernel, "\" not implemented for '", scalar_type_word(t.dtype()), "'"));
}

Tensor& uniform_(Tensor& self, double from, double to, Generator* generator) {
  check_random_floating(self, "check_uniform_bounds");
  // ATen's check_uniform_bounds: both ends finite in the tensor's dtype (NaN is out of bounds too).
  double limit = self.dtype() == ScalarType::Float32 ? double(std::numeric_limits<float>::max())
                                                    : std::numeric_limits<double>::max();
  const char* type = self.dtype() == ScalarType::Float32 ? "float" : "double";
  TG_CHECK(from >= -limit && from <= limit, "from is out of bounds for ", type);
  TG_CHECK(to >= -limit && to <= limit, "to is out of bounds for ", type);
  TG_CHECK(from <= to, "uniform_ expects to return a [from, to) range, but found from=", from, " > to=", to);
  return random_fill(self, "uniform_", [&](Generator& g, const Tensor& buf) {
    dispatch_floating(buf.dtype(), "uniform_", [&](auto tag) {
      g.uniform(buf.data<typename decltype(tag)::type>(), buf.numel(), from, to);
    });
  }, generator);
}

Tensor& normal_(Tensor& self, double mean, double std, Generator* generator) {
  TG_CHECK(std >= 0.0, "normal expects std >= 0.0, but found std ", std);
  if (self.numel() == 0) return self;  // as ATen, whose normal_ dispatches no kernel for an empty tensor
  check_random_floating(self, "normal_kernel_cpu");
  return random_fill(self, "normal_", [&](Generator& g, const Tensor& buf) {
    dispatch_floating(buf.dtype(), "normal_", [&](auto tag) {
      g.normal(buf.data<typename decltype(tag)::type>(), buf.numel(), mean, std);
    });
  }, generator);
}

Tensor rand(const DimVec& sizes, ScalarType dtype, Device device, Generator* generator) {
  Tensor t = empty(sizes, dtype, device);
  return uniform_(t, 0.0, 1.0, generator);
}

Tensor randn(const DimVec& sizes, ScalarType dtype, Device device, Generator* generator) {
  Tensor t = empty(sizes, dtype, device);
  return normal_(t, 0.0, 1.0, generator);
}

Tensor randint(int64_t low, int64_t high, const DimVec& sizes, ScalarType dtype, Device device,
               Generator* generator) {
  TG_CHECK(low < high, "random_ expects 'from' to be less than 'to', but got from=", low, " >= to=", high);
  Tensor t = empty(sizes, dtype, device);
  random_fill(t, "randint", [&](Generator& g, const Tensor& buf) {
    dispatch_all(buf.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, bool>) {
        // As PyTorch: bounds a bool can hold; the draws are the integer ones, 0 or 1.
        TG_CHECK(low >= 0 && low <= 1, "from is out of bounds for bool");
        TG_CHECK(high - 1 >= 0 && high - 1 <= 1, "to - 1 is out of bounds for bool");
        Tensor draws = empty(buf.sizes(), ScalarType::Int64);
        g.random_from_to(draws.data<int64_t>(), draws.numel(), low, high);
        backend_for(buf.device()).copy(buf, draws);
      } else {
        g.random_from_to(buf.data<T>(), buf.numel(), low, high);
      }
    });
  }, generator);
  return t;
}

Tensor randperm(int64_t n, ScalarType dtype, Device device, Generator* generator) {
  check_size_nonnegative(DimVec{n});
  Tensor idx = empty(DimVec{n}, ScalarType::Int64);
  if (dtype == ScalarType::Bool) throw NotImplementedError("\"randperm\" not implemented for 'Bool'");
  random_fill(idx, "randperm", [&](Generator& g, const Tensor& buf) { g.randperm(buf.data<int64_t>(), n); },
              generator);
  return on_device(to_dtype(idx, dtype), device);
}

// FillBackward2 (fill_ with a number) and ZeroBackward0: the old values get no gradient.
struct FillBackward : Node {
  const char* op_name = "FillBackward2";
  std::string name() const override { return op_name; }
  TensorList apply(TensorList&& grads) override { return {zeros_like(grads[0])}; }
};

static Tensor& fill_impl(Tensor& self, Scalar value, const char* node_name) {
  check_inplace_may_overlap(self);
  check_fill_value(value, self.dtype());
  if (compute_requires_grad(self)) {
    return compute_inplace(self, [&](const Tensor& t) {
      Tensor out = full(t.sizes(), value, t.dtype(), t.device());
      auto node = make_node<FillBackward>(t);
      node->op_name = node_name;
      set_history(out, node);
      return out;
    });
  }
  backend_for(self.device()).fill(self, value);
  self.bump_version();
  return self;
}

Tensor& fill_(Tensor& self, Scalar value) { return fill_impl(self, value, "FillBackward2"); }

struct FillBackward3 : Node {
  std::string name() const override { return "FillBackward3"; }
  TensorList apply(TensorList&& grads) override {
    return {needs_input_grad(0) ? zeros_like(grads[0]) : Tensor(), needs_input_grad(1) ? sum(grads[0]) : Tensor()};
  }
};

Tensor& fill_(Tensor& self, const Tensor& value) {
  TG_CHECK(value.dim() == 0, "fill_ only supports 0-dimension value tensor but got tensor with ", value.dim(),
           " dimensions.");
  check_inplace(self, value);  // unlike fill_ with a number, PyTorch refuses an expanded self here
  if (!compute_requires_grad(self, value)) return fill_impl(self, value.item(), "FillBackward3");
  return compute_inplace(self, [&](const Tensor& t) {
    Tensor out = full(t.sizes(), value.item(), t.dtype(), t.device());
    set_history(out, make_node<FillBackward3>(t, value));
    return out;
  });
}
Tensor& zero_(Tensor& self) { return fill_impl(self, Scalar(int64_t(0)), "ZeroBackward0"); }

// ---- copies ----

struct CopyBackwards : Node {
  std::string name() const override { return "torch::autograd::CopyBackwards"; }
  TensorList apply(TensorList&& grads) override {
    return {needs_input_grad(0) ? zeros_like(grads[0]) : Tensor(), grads[0]};
  }
};

Tensor& copy_(Tensor& self, const Tensor& src) {
  // x.copy_(x) writes nothing: PyTorch lets it through even for an expanded x.
  if (self.is_same(src)) check_inplace_may_overlap(self, src);
  else check_inplace(self, src);
  if (self.sizes() != src.sizes()) {
    DimVec shape = broadcast_shapes(self.sizes(), src.sizes());
    if (shape != self.sizes())
      throw Error(str_cat("output with shape ", shape_str(self.sizes()), " doesn't match the broadcast shape ",
                          shape_str(shape)));
  }
  bool grad = compute_requires_grad(self, src);
  std::shared_ptr<Node> node = grad ? make_node<CopyBackwards>(self, src) : nullptr;
  Tensor source = expand_view(src, self.sizes());
  // An overlapping source (x.copy_(x.t())) is read in full before self is written.
  if (source.storage()->data == self.storage()->data) source = cast_for_compute(clone(detach(source)), source.dtype());
  if (self.device() == src.device() || src.device().is_cpu()) backend_for(self.device()).copy(self, source);
  else backend_for(src.device()).copy(self, source);
  self.bump_version();
  if (grad) rebase_history(self, node);
  return self;
}

struct CloneBackward0 : Node {
  std::string name() const override { return "CloneBackward0"; }
  TensorList apply(TensorList&& grads) override { return {grads[0]}; }
};

Tensor clone(const Tensor& t, bool preserve_layout) {
  Tensor out = preserve_layout ? empty_like(t, t.dtype(), t.device()) : empty(t.sizes(), t.dtype(), t.device());
  backend_for(t.device()).copy(out, t);
  if (compute_requires_grad(t)) set_history(out, make_node<CloneBackward0>(t));
  return out;
}

Tensor contiguous(const Tensor& t) { return t.is_contiguous() ? t : clone(t); }

struct ToCopyBackward0 : Node {
  std::string name() const override { return "ToCopyBackward0"; }
  TensorList apply(TensorList&& grads) override { return {grads[0]}; }  // the engine casts back
};

Tensor to_dtype(const Tensor& t, ScalarType dtype) {
  if (t.dtype() == dtype) return t;
  Tensor out = empty(t.sizes(), dtype, t.device());
  backend_for(t.device()).copy(out, t);
  if (is_floating(dtype) && compute_requires_grad(t)) set_history(out, make_node<ToCopyBackward0>(t));
  return out;
}

Tensor to_device(const Tensor& t, Device device) {
  if (t.device() == device) return t;
  Tensor out = empty(t.sizes(), t.dtype(), device);
  Tensor src = t.is_contiguous() ? t : clone(detach(t));
  backend_for(device.is_cpu() ? t.device() : device).copy(out, src);
  if (compute_requires_grad(t)) set_history(out, make_node<ToCopyBackward0>(t));
  return out;
}

Tensor detach(const Tensor& t) { return make_view(t, t.sizes(), t.strides(), t.offset()); }

}  // namespace tg::ops
