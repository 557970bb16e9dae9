// CPU kernels for tapegrad.nn: pointwise losses, negative log likelihood, activations and the LSTM step.
// Formulas follow ATen's CPU kernels operation for operation, so float32 results round alike.
#include <algorithm>
#include <cmath>
#include <vector>
#include "cpu/cpu_backend.h"
#include "cpu/loops.h"
#include "cpu/parallel.h"
#include "cpu/simd.h"
#include "cpu/vec_math.h"

namespace tg::cpu {

namespace {

const int64_t kZeroStrides[64] = {};

// Operands for for_each_run where some tensors are absent (null pointer, stride 0 everywhere).
template <size_t N>
Operands<N> optional_operands(const std::array<const Tensor*, N>& ts) {
  Operands<N> o;
  for (size_t k = 0; k < N; ++k) {
    bool present = ts[k] && ts[k]->defined();
    o.ptrs[k] = present ? static_cast<char*>(ts[k]->data_ptr()) : nullptr;
    o.itemsizes[k] = present ? itemsize(ts[k]->dtype()) : 0;
    o.strides[k] = present && ts[k]->dim() > 0 ? ts[k]->strides().data() : kZeroStrides;
  }
  return o;
}

template <typename T>
T log_sigmoid(T x) {
  return std::min(x, T(0)) - std::log1p(std::exp(-std::abs(x)));
}

// One element's loss; `pw` is bce_with_logits' pos_weight (1 when absent).
template <typename T>
T loss_value(PointwiseLoss op, T x, T t, T pw, bool has_pw, T beta) {
  switch (op) {
    case PointwiseLoss::Mse: {
      T d = x - t;
      return d * d;
    }
    case PointwiseLoss::SmoothL1: {
      T z = std::abs(x - t);
      return z < beta ? T(0.5) * z * z / beta : z - T(0.5) * beta;
    }
    case PointwiseLoss::Bce:
      if (!(x >= T(0) && x <= T(1))) throw Error("all elements of input should be between 0 and 1");
      if (!(t >= T(0) && t <= T(1))) throw Error("all elements of target should be between 0 and 1");
      return (t - T(1)) * std::max(T(std::log1p(-x)), T(-100)) - t * std::max(T(std::log(x)), T(-100));
    case PointwiseLoss::BceWithLogits: {
      T ls = log_sigmoid(x);
      if (has_pw) ls *= (pw - T(1)) * t + T(1);
      return (T(1) - t) * x - ls;
    }
  }
  return T(0);
}

// d(loss)/d(input) or, with `wrt_target`, d(loss)/d(target), times g.
template <typename T>
T loss_grad(PointwiseLoss op, bool wrt_target, T x, T t, T g, T pw, bool has_pw, T beta, T scale) {
  switch (op) {
    case PointwiseLoss::Mse: {
      T norm = T(2) * scale;
      return wrt_target ? norm * (t - x) * g : norm * (x - t) * g;
    }
    case PointwiseLoss::SmoothL1: {
      T d = wrt_target ? t - x : x - t;
      if (d <= -beta) return -scale * g;
      if (d >= beta) return scale * g;
      return scale * d * g / beta;
    }
    case PointwiseLoss::Bce:
      if (wrt_target) return -std::log(x / (T(1) - x)) * g * scale;
      return g * (x - t) / std::max((T(1) - x) * x, T(kBceGradEpsilon)) * scale;
    case PointwiseLoss::BceWithLogits:
      if (wrt_target) return (has_pw ? log_sigmoid(-x) - log_sigmoid(x) * pw : -x) * g * scale;
      if (has_pw) {
        T pt = pw * t;
        return ((pt + T(1) - t) * (T(1) / (T(1) + std::exp(-x))) - pt) * g * scale;
      }
      return (T(1) / (T(1) + std::exp(-x)) - t) * g * scale;
  }
  return T(0);
}

// The common case as vector loops: contiguous input and target of one shape, no weight or pos_weight, and a
// loss whose formula cannot throw (not bce, which checks its input's range). The elementwise formulas are
// loss_value's and loss_grad's, with vec::exp and vec::log1p.
bool flat_loss_case(PointwiseLoss op, const Tensor& input, const Tensor& target, const PointwiseLossArgs& args) {
  return op != PointwiseLoss::Bce && !args.weight.defined() && !args.pos_weight.defined() && input.is_contiguous() &&
         target.is_contiguous();
}

template <PointwiseLoss Op, typename T>
TG_ALWAYS_INLINE T flat_loss(T x, T t, T beta) {
  if constexpr (Op == PointwiseLoss::Mse) {
    T d = x - t;
    return d * d;
  } else if constexpr (Op == PointwiseLoss::SmoothL1) {
    T z = std::abs(x - t);
    return z < beta ? T(0.5) * z * z / beta : z - T(0.5) * beta;
  } else {
    T log_sigmoid = std::min(x, T(0)) - vec::log1p(vec::exp(-std::abs(x)));
    return (T(1) - t) * x - log_sigmoid;
  }
}

template <PointwiseLoss Op, bool WrtTarget, typename T>
TG_ALWAYS_INLINE T flat_loss_grad(T x, T t, T g, T beta, T scale) {
  if constexpr (Op == PointwiseLoss::Mse) {
    return T(2) * scale * (WrtTarget ? t - x : x - t) * g;
  } else if constexpr (Op == PointwiseLoss::SmoothL1) {
    T d = WrtTarget ? t - x : x - t;
    return d <= -beta ? -scale * g : d >= beta ? scale * g : scale * d * g / beta;
  } else {
    return WrtTarget ? -x * g * scale : (T(1) / (T(1) + vec::exp(-x)) - t) * g * scale;
  }
}

// Reduced losses sum fixed chunks, each with row_sum's lanes, and then the chunks in order: the same bits on
// any thread count.
constexpr int64_t kLossChunk = 16384;

template <PointwiseLoss Op, typename T>
void flat_loss_forward(T* out, const T* x, const T* t, int64_t n, T beta, bool reduce, bool mean) {
  if (!reduce) {
    parallel_for(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
      vec::simd_for(end - begin, [&](int64_t i) TG_INLINE_LAMBDA {
        out[begin + i] = flat_loss<Op>(x[begin + i], t[begin + i], beta);
      });
    });
    return;
  }
  const int64_t chunks = (n + kLossChunk - 1) / kLossChunk;
  std::vector<double> partial(chunks);
  parallel_for(chunks, std::max<int64_t>(1, kElementwiseGrain / kLossChunk), [&](int64_t first, int64_t last) {
    vec::simd_call([&]() TG_INLINE_LAMBDA {
      for (int64_t c = first; c < last; ++c) {
        const int64_t start = c * kLossChunk;
        partial[c] = vec::row_sum(std::min(kLossChunk, n - start), [&](int64_t i) TG_INLINE_LAMBDA {
          return double(flat_loss<Op>(x[start + i], t[start + i], beta));
        });
      }
    });
  });
  double total = 0;
  for (double p : partial) total += p;
  *out = T(mean ? total / double(n) : total);
}

template <PointwiseLoss Op, bool WrtTarget, typename T>
void flat_loss_backward(T* grad, const T* x, const T* t, const T* g, bool scalar_grad, int64_t n, T beta, T scale) {
  parallel_for(n, kElementwiseGrain, [&](int64_t begin, int64_t end) {
    if (scalar_grad) {
      const T g0 = *g;
      vec::simd_for(end - begin, [&](int64_t i) TG_INLINE_LAMBDA {
        grad[begin + i] = flat_loss_grad<Op, WrtTarget>(x[begin + i], t[begin + i], g0, beta, scale);
      });
    } else {
      vec::simd_for(end - begin, [&](int64_t i) TG_INLINE_LAMBDA {
        grad[begin + i] = flat_loss_grad<Op, WrtTarget>(x[begin + i], t[begin + i], g[begin + i], beta, scale);
      });
    }
  });
}

// Calls f(std::integral_constant<PointwiseLoss, op>) for the ops flat_loss_case admits.
template <typename F>
void with_flat_loss(PointwiseLoss op, F&& f) {
  switch (op) {
    case PointwiseLoss::Mse: return f(std::integral_constant<PointwiseLoss, PointwiseLoss::Mse>());
    case PointwiseLoss::SmoothL1: return f(std::integral_constant<PointwiseLoss, PointwiseLoss::SmoothL1>());
    case PointwiseLoss::BceWithLogits:
      return f(std::integral_constant<PointwiseLoss, PointwiseLoss::BceWithLogits>());
    case PointwiseLoss::Bce: break;
  }
}

}  // namespace

void CpuBackend::pointwise_loss(PointwiseLoss op, const Tensor& out, const Tensor& input, const Tensor& target,
                                const PointwiseLossArgs& args, bool mean) {
  bool reduce = out.dim() == 0;
  bool has_w = args.weight.defined(), has_pw = args.pos_weight.defined();
  dispatch_floating(input.dtype(), "pointwise_loss", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T beta = T(args.beta);
    if (flat_loss_case(op, input, target, args) && (reduce || out.is_contiguous())) {
      return with_flat_loss(op, [&](auto kind) {
        flat_loss_forward<decltype(kind)::value>(out.data<T>(), input.data<T>(), target.data<T>(), input.numel(),
                                                 beta, reduce, mean);
      });
    }
    double total = 0;
    auto operands = optional_operands<5>({reduce ? nullptr : &out, &input, &target, &args.weight, &args.pos_weight});
    for_each_run<5>(input.sizes(), operands, [&](auto p, auto s, int64_t n) {
      T* o = reinterpret_cast<T*>(p[0]);
      const T* x = reinterpret_cast<const T*>(p[1]);
      const T* t = reinterpret_cast<const T*>(p[2]);
      const T* w = reinterpret_cast<const T*>(p[3]);
      const T* pw = reinterpret_cast<const T*>(p[4]);
      for (int64_t i = 0; i < n; ++i) {
        T v = loss_value<T>(op, x[i * s[1]], t[i * s[2]], has_pw ? pw[i * s[4]] : T(1), has_pw, beta);
        if (has_w) v *= w[i * s[3]];
        if (reduce) total += v;
        else o[i * s[0]] = v;
      }
    });
    if (reduce) *out.data<T>() = T(mean ? total / double(input.numel()) : total);
  });
}

void CpuBackend::pointwise_loss_backward(PointwiseLoss op, const Tensor& grad_input, const Tensor& grad_target,
                                         const Tensor& grad_out, const Tensor& input, const Tensor& target,
                                         const PointwiseLossArgs& args, double scale) {
  bool has_gi = grad_input.defined(), has_gt = grad_target.defined();
  bool has_w = args.weight.defined(), has_pw = args.pos_weight.defined();
  dispatch_floating(input.dtype(), "pointwise_loss_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T beta = T(args.beta), sc = T(scale);
    const bool scalar_grad = grad_out.numel() > 0 && std::all_of(grad_out.strides().begin(), grad_out.strides().end(),
                                                                 [](int64_t stride) { return stride == 0; });
    if (flat_loss_case(op, input, target, args) && (scalar_grad || grad_out.is_contiguous())) {
      return with_flat_loss(op, [&](auto kind) {
        constexpr PointwiseLoss kOp = decltype(kind)::value;
        const int64_t n = input.numel();
        if (has_gi)
          flat_loss_backward<kOp, false>(grad_input.data<T>(), input.data<T>(), target.data<T>(), grad_out.data<T>(),
                                         scalar_grad, n, beta, sc);
        if (has_gt)
          flat_loss_backward<kOp, true>(grad_target.data<T>(), input.data<T>(), target.data<T>(), grad_out.data<T>(),
                                        scalar_grad, n, beta, sc);
      });
    }
    auto operands = optional_operands<7>(
        {&grad_input, &grad_target, &grad_out, &input, &target, &args.weight, &args.pos_weight});
    parallel_for_each_run<7>(input.sizes(), operands, [&](auto p, auto s, int64_t n) {
      T* gi = reinterpret_cast<T*>(p[0]);
      T* gt = reinterpret_cast<T*>(p[1]);
      const T* g = reinterpret_cast<const T*>(p[2]);
      const T* x = reinterpret_cast<const T*>(p[3]);
      const T* t = reinterpret_cast<const T*>(p[4]);
      const T* w = reinterpret_cast<const T*>(p[5]);
      const T* pw = reinterpret_cast<const T*>(p[6]);
      for (int64_t i = 0; i < n; ++i) {
        T xv = x[i * s[3]], tv = t[i * s[4]], gv = g[i * s[2]];
        T pwv = has_pw ? pw[i * s[6]] : T(1);
        // A weight multiplies the incoming gradient, as ATen does after its kernel.
        if (has_w) gv *= w[i * s[5]];
        if (has_gi) gi[i * s[0]] = loss_grad<T>(op, false, xv, tv, gv, pwv, has_pw, beta, sc);
        if (has_gt) gt[i * s[1]] = loss_grad<T>(op, true, xv, tv, gv, pwv, has_pw, beta, sc);
      }
    });
  });
}

void CpuBackend::nll_loss(const Tensor& out, const Tensor& total_weight, const Tensor& input, const Tensor& target,
                          const Tensor& weight, int64_t ignore_index) {
  int64_t N = input.sizes()[0], C = input.sizes()[1], D = input.sizes()[2];
  bool reduce = out.dim() == 0;
  dispatch_floating(input.dtype(), "nll_loss", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = input.data<T>();
    const int64_t* tg = target.data<int64_t>();
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    T* o = out.data<T>();
    int64_t xs0 = input.strides()[0], xs1 = input.strides()[1], xs2 = input.strides()[2];
    int64_t ts0 = target.strides()[0], ts1 = target.strides()[1];
    int64_t ws = w ? weight.strides()[0] : 0;
    int64_t os0 = reduce ? 0 : out.strides()[0], os1 = reduce ? 0 : out.strides()[1];
    double total = 0, weight_sum = 0;
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t d = 0; d < D; ++d) {
        int64_t t = tg[n * ts0 + d * ts1];
        T v = T(0);
        if (t != ignore_index) {
          if (t < 0 || t >= C) throw IndexError(str_cat("Target ", t, " is out of bounds."));
          T wt = w ? w[t * ws] : T(1);
          v = -x[n * xs0 + t * xs1 + d * xs2] * wt;
          weight_sum += wt;
        }
        if (reduce) total += v;
        else o[n * os0 + d * os1] = v;
      }
    }
    *total_weight.data<T>() = T(weight_sum);
    if (reduce) *o = T(total);
  });
}

void CpuBackend::nll_loss_backward(const Tensor& grad_input, const Tensor& grad_out, const Tensor& target,
                                   const Tensor& weight, const Tensor& total_weight, int64_t ignore_index, bool mean) {
  fill(grad_input, Scalar(0.0));
  int64_t N = grad_input.sizes()[0], C = grad_input.sizes()[1], D = grad_input.sizes()[2];
  dispatch_floating(grad_input.dtype(), "nll_loss_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* gi = grad_input.data<T>();
    const T* g = grad_out.data<T>();
    const int64_t* tg = target.data<int64_t>();
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    T tw = *total_weight.data<T>();
    int64_t gs0 = grad_input.strides()[0], gs1 = grad_input.strides()[1], gs2 = grad_input.strides()[2];
    int64_t os0 = grad_out.strides()[0], os1 = grad_out.strides()[1];
    int64_t ts0 = target.strides()[0], ts1 = target.strides()[1];
    int64_t ws = w ? weight.strides()[0] : 0;
    for (int64_t n = 0; n < N; ++n) {
      for (int64_t d = 0; d < D; ++d) {
        int64_t t = tg[n * ts0 + d * ts1];
        if (t == ignore_index || t < 0 || t >= C) continue;
        T gv = g[n * os0 + d * os1];
        T grad = -(mean ? gv / tw : gv);
        gi[n * gs0 + t * gs1 + d * gs2] = w ? w[t * ws] * grad : grad;
      }
    }
  });
}

void CpuBackend::layer_norm(const Tensor& out, const Tensor& mean, const Tensor& rstd, const Tensor& in,
                            const Tensor& weight, const Tensor& bias, double eps) {
  int64_t rows = mean.numel(), n = rows ? in.numel() / rows : 0;
  dispatch_floating(in.dtype(), "LayerNormKernelImpl", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    const T* b = bias.defined() ? bias.data<T>() : nullptr;
    parallel_for(rows, rows_per_grain(n), [&](int64_t begin, int64_t end) {
      vec::simd_call([&]() TG_INLINE_LAMBDA {
        for (int64_t r = begin; r < end; ++r) {
          const T* x = in.data<T>() + r * n;
          T* y = out.data<T>() + r * n;
          // Two passes in double: the mean, then the biased variance around it.
          double mu = vec::row_sum(n, [&](int64_t i) TG_INLINE_LAMBDA { return double(x[i]); }) / double(n);
          double sq = vec::row_sum(n, [&](int64_t i) TG_INLINE_LAMBDA { return (x[i] - mu) * (x[i] - mu); });
          T inv = T(1.0 / std::sqrt(sq / double(n) + eps));
          mean.data<T>()[r] = T(mu);
          rstd.data<T>()[r] = inv;
          // ATen's form: x * rstd - mean * rstd, then the affine.
          T shift = -T(mu) * inv;
          for (int64_t i = 0; i < n; ++i) {
            T v = x[i] * inv + shift;
            if (w) v *= w[i];
            if (b) v += b[i];
            y[i] = v;
          }
        }
      });
    });
  });
}

void CpuBackend::layer_norm_backward(const Tensor& grad_in, const Tensor& grad_weight, const Tensor& grad_bias,
                                     const Tensor& grad_out, const Tensor& in, const Tensor& mean, const Tensor& rstd,
                                     const Tensor& weight) {
  int64_t rows = mean.numel(), n = rows ? in.numel() / rows : 0;
  if (rows == 0) return;
  // The weight and bias gradients sum over rows in fixed blocks (at most 64, whatever the thread count),
  // each block in its own double accumulators, then the blocks in order: the same bits on any thread count.
  const int64_t block_rows = std::max<int64_t>(64, (rows + 63) / 64), blocks = (rows + block_rows - 1) / block_rows;
  const bool affine_grads = grad_weight.defined() || grad_bias.defined();
  std::vector<double> partial_w(grad_weight.defined() ? blocks * n : 0), partial_b(grad_bias.defined() ? blocks * n : 0);
  dispatch_floating(in.dtype(), "LayerNormBackwardKernelImpl", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    parallel_for(blocks, std::max<int64_t>(1, rows_per_grain(n) / block_rows), [&](int64_t first, int64_t last) {
      std::vector<double> g(n);
      vec::simd_call([&]() TG_INLINE_LAMBDA {
        for (int64_t block = first; block < last; ++block) {
          double* acc_w = partial_w.empty() ? nullptr : partial_w.data() + block * n;
          double* acc_b = partial_b.empty() ? nullptr : partial_b.data() + block * n;
          for (int64_t r = block * block_rows; r < std::min(rows, (block + 1) * block_rows); ++r) {
            const T* x = in.data<T>() + r * n;
            const T* dy = grad_out.data<T>() + r * n;
            double mu = mean.data<T>()[r], inv = rstd.data<T>()[r];
            if (grad_in.defined()) {
              // dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dy * weight, in ATen's a/b/c form.
              for (int64_t i = 0; i < n; ++i) g[i] = w ? double(dy[i]) * w[i] : double(dy[i]);
              double ds = vec::row_sum(n, [&](int64_t i) TG_INLINE_LAMBDA { return g[i] * x[i]; });
              double db = vec::row_sum(n, [&](int64_t i) TG_INLINE_LAMBDA { return g[i]; });
              double b = (db * mu - ds) * inv * inv * inv / double(n);
              double c = -b * mu - db * inv / double(n);
              T* dx = grad_in.data<T>() + r * n;
              for (int64_t i = 0; i < n; ++i) dx[i] = T(inv * g[i] + b * x[i] + c);
            }
            if (acc_w)
              for (int64_t i = 0; i < n; ++i) acc_w[i] += double(dy[i]) * ((x[i] - mu) * inv);
            if (acc_b)
              for (int64_t i = 0; i < n; ++i) acc_b[i] += dy[i];
          }
        }
      });
    });
    if (!affine_grads) return;
    for (int64_t i = 0; i < n; ++i) {
      double total_w = 0, total_b = 0;
      for (int64_t block = 0; block < blocks; ++block) {
        if (!partial_w.empty()) total_w += partial_w[block * n + i];
        if (!partial_b.empty()) total_b += partial_b[block * n + i];
      }
      if (grad_weight.defined()) grad_weight.data<T>()[i] = T(total_w);
      if (grad_bias.defined()) grad_bias.data<T>()[i] = T(total_b);
    }
  });
}

namespace {

// A contiguous [N, C, ...] tensor seen as N planes per channel; channels are split across the pool.
struct ChannelPlanes {
  int64_t batch, channels, plane;
  explicit ChannelPlanes(const Tensor& t)
      : batch(t.sizes()[0]), channels(t.sizes()[1]), plane(t.numel() / std::max<int64_t>(t.sizes()[0] * t.sizes()[1], 1)) {}
  int64_t offset(int64_t n, int64_t c) const { return (n * channels + c) * plane; }
  // sum over the channel's planes of row_sum(f(plane pointer offset)).
  template <typename F>
  double sum(int64_t c, F f) const {
    double total = 0;
    for (int64_t n = 0; n < batch; ++n) total += f(offset(n, c));
    return total;
  }
  template <typename F>
  void for_channels(F f) const {
    parallel_for(channels, rows_per_grain(batch * plane), [&](int64_t begin, int64_t end) {
      for (int64_t c = begin; c < end; ++c) f(c);
    });
  }
};

// BatchNorm of an [N, C] input (BatchNorm1d on features): with one value per sample and channel the
// per-channel loops would make calls per value, so here channels are the vector lanes, each summed over the
// samples in the same order, in double, as those loops do. Channels split across the pool.
template <typename T>
void batch_norm_columns(T* y, T* mean, T* var, T* rstd, const T* x, const T* w, const T* b, int64_t batch,
                        int64_t channels, double eps) {
  parallel_for(channels, rows_per_grain(batch), [&](int64_t c0, int64_t c1) {
    const int64_t width = c1 - c0;
    std::vector<double> mu(width), sq(width);
    std::vector<T> alpha(width), beta(width);
    vec::simd_call([&]() TG_INLINE_LAMBDA {
      for (int64_t n = 0; n < batch; ++n)
        for (int64_t j = 0; j < width; ++j) mu[j] += double(x[n * channels + c0 + j]);
      for (int64_t j = 0; j < width; ++j) mu[j] /= double(batch);
      for (int64_t n = 0; n < batch; ++n)
        for (int64_t j = 0; j < width; ++j) {
          const double d = x[n * channels + c0 + j] - mu[j];
          sq[j] += d * d;
        }
      for (int64_t j = 0; j < width; ++j) {
        const int64_t c = c0 + j;
        const double v = sq[j] / double(batch);
        const T inv = T(1.0 / std::sqrt(v + eps));
        mean[c] = T(mu[j]);
        var[c] = T(v);
        rstd[c] = inv;
        alpha[j] = w ? inv * w[c] : inv;
        beta[j] = (b ? b[c] : T(0)) - T(mu[j]) * alpha[j];
      }
      for (int64_t n = 0; n < batch; ++n)
        for (int64_t j = 0; j < width; ++j) y[n * channels + c0 + j] = x[n * channels + c0 + j] * alpha[j] + beta[j];
    });
  });
}

// Its backward, in the same layout: the per-channel sums of dy and (x - mean) * dy, then the input gradient.
template <typename T>
void batch_norm_columns_backward(T* dx, T* grad_weight, T* grad_bias, const T* dy, const T* x, const T* mean,
                                 const T* rstd, const T* w, int64_t batch, int64_t channels) {
  parallel_for(channels, rows_per_grain(batch), [&](int64_t c0, int64_t c1) {
    const int64_t width = c1 - c0;
    std::vector<double> sum_dy(width), dot(width);
    std::vector<T> k(width), dy_mean(width), scale(width);
    vec::simd_call([&]() TG_INLINE_LAMBDA {
      for (int64_t n = 0; n < batch; ++n)
        for (int64_t j = 0; j < width; ++j) {
          const int64_t at = n * channels + c0 + j;
          sum_dy[j] += double(dy[at]);
          dot[j] += double(x[at] - mean[c0 + j]) * dy[at];
        }
      for (int64_t j = 0; j < width; ++j) {
        const int64_t c = c0 + j;
        const T inv = rstd[c];
        if (grad_weight) grad_weight[c] = T(dot[j] * inv);
        if (grad_bias) grad_bias[c] = T(sum_dy[j]);
        k[j] = T(dot[j] * inv * inv / double(batch));
        dy_mean[j] = T(sum_dy[j] / double(batch));
        scale[j] = w ? inv * w[c] : inv;
      }
      if (!dx) return;
      for (int64_t n = 0; n < batch; ++n)
        for (int64_t j = 0; j < width; ++j) {
          const int64_t at = n * channels + c0 + j;
          dx[at] = (dy[at] - dy_mean[j] - (x[at] - mean[c0 + j]) * k[j]) * scale[j];
        }
    });
  });
}

}  // namespace

void CpuBackend::batch_norm(const Tensor& out, const Tensor& mean, const Tensor& var, const Tensor& rstd,
                            const Tensor& in, const Tensor& weight, const Tensor& bias, double eps) {
  ChannelPlanes planes(in);
  const double count = double(planes.batch * planes.plane);
  dispatch_floating(in.dtype(), "batch_norm_cpu", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in.data<T>();
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    const T* b = bias.defined() ? bias.data<T>() : nullptr;
    if (planes.plane == 1)
      return batch_norm_columns(out.data<T>(), mean.data<T>(), var.data<T>(), rstd.data<T>(), x, w, b, planes.batch,
                                planes.channels, eps);
    planes.for_channels([&](int64_t c) {
      // Two passes in double: the mean, then the biased variance around it.
      double mu = planes.sum(c, [&](int64_t at) {
        return vec::row_sum(planes.plane, [&](int64_t i) { return double(x[at + i]); });
      }) / count;
      double v = planes.sum(c, [&](int64_t at) {
        return vec::row_sum(planes.plane, [&](int64_t i) { return (x[at + i] - mu) * (x[at + i] - mu); });
      }) / count;
      T inv = T(1.0 / std::sqrt(v + eps));
      mean.data<T>()[c] = T(mu);
      var.data<T>()[c] = T(v);
      rstd.data<T>()[c] = inv;
      T alpha = w ? inv * w[c] : inv;
      T beta = (b ? b[c] : T(0)) - T(mu) * alpha;
      for (int64_t n = 0; n < planes.batch; ++n) {
        int64_t at = planes.offset(n, c);
        vec::map(x + at, out.data<T>() + at, planes.plane, [=](T value) TG_INLINE_LAMBDA { return value * alpha + beta; });
      }
    });
  });
}

void CpuBackend::batch_norm_backward(const Tensor& grad_in, const Tensor& grad_weight, const Tensor& grad_bias,
                                     const Tensor& grad_out, const Tensor& in, const Tensor& mean, const Tensor& rstd,
                                     const Tensor& weight) {
  ChannelPlanes planes(in);
  const double count = double(planes.batch * planes.plane);
  dispatch_floating(in.dtype(), "batch_norm_backward_cpu", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* x = in.data<T>();
    const T* dy = grad_out.data<T>();
    const T* w = weight.defined() ? weight.data<T>() : nullptr;
    if (planes.plane == 1)
      return batch_norm_columns_backward(grad_in.defined() ? grad_in.data<T>() : nullptr,
                                         grad_weight.defined() ? grad_weight.data<T>() : nullptr,
                                         grad_bias.defined() ? grad_bias.data<T>() : nullptr, dy, x,
                                         mean.data<T>(), rstd.data<T>(), w, planes.batch, planes.channels);
    planes.for_channels([&](int64_t c) {
      const T mu = mean.data<T>()[c], inv = rstd.data<T>()[c];
      double sum_dy = planes.sum(c, [&](int64_t at) {
        return vec::row_sum(planes.plane, [&](int64_t i) { return double(dy[at + i]); });
      });
      double dot = planes.sum(c, [&](int64_t at) {
        return vec::row_sum(planes.plane, [&](int64_t i) { return double(x[at + i] - mu) * dy[at + i]; });
      });
      if (grad_weight.defined()) grad_weight.data<T>()[c] = T(dot * inv);
      if (grad_bias.defined()) grad_bias.data<T>()[c] = T(sum_dy);
      if (!grad_in.defined()) return;
      // ATen's form: dx = (x - mean) * k, grad_input = (dy - mean(dy) - dx) * rstd * weight.
      const T k = T(dot * inv * inv / count), dy_mean = T(sum_dy / count), scale = w ? inv * w[c] : inv;
      for (int64_t n = 0; n < planes.batch; ++n) {
        int64_t at = planes.offset(n, c);
        const T* xs = x + at;
        const T* dys = dy + at;
        T* dx = grad_in.data<T>() + at;
        vec::simd_for(planes.plane, [=](int64_t i) TG_INLINE_LAMBDA {
          dx[i] = (dys[i] - dy_mean - (xs[i] - mu) * k) * scale;
        });
      }
    });
  });
}

namespace {

// sqrt(2/pi) and 2/sqrt(pi), as ATen spells them.
constexpr double kGeluTanhBeta = M_SQRT2 * M_2_SQRTPI * 0.5;
constexpr double kGeluKappa = 0.044715;

// softplus with PyTorch's defaults (beta 1, threshold 20), as mish uses it.
template <typename T>
TG_ALWAYS_INLINE T softplus_default(T x) {
  return x > T(20) ? x : vec::log1p(vec::exp(x));
}

// Calls use(f) with op's element function, one loop per op so that each is vectorised whole.
template <typename T, typename Use>
void with_activation(ActivationOp op, T slope, T param2, Use use) {
  switch (op) {
    case ActivationOp::Gelu:
      return use([](T x) TG_INLINE_LAMBDA { return x * T(0.5) * (T(1) + vec::erf(x * T(M_SQRT1_2))); });
    case ActivationOp::GeluTanh:
      return use([](T x) TG_INLINE_LAMBDA {
        T inner = T(kGeluTanhBeta) * (x + T(kGeluKappa) * x * x * x);
        return T(0.5) * x * (T(1) + vec::tanh(inner));
      });
    case ActivationOp::LeakyRelu: return use([slope](T x) TG_INLINE_LAMBDA { return x > T(0) ? x : x * slope; });
    case ActivationOp::Erf: return use([](T x) TG_INLINE_LAMBDA { return vec::erf(x); });
    case ActivationOp::Silu: return use([](T x) TG_INLINE_LAMBDA { return x * vec::sigmoid(x); });
    case ActivationOp::Elu:
      return use([alpha = slope](T x) TG_INLINE_LAMBDA { return x > T(0) ? x : alpha * vec::expm1(x); });
    case ActivationOp::Softplus:
      return use([beta = slope, threshold = param2](T x) TG_INLINE_LAMBDA {
        return x * beta > threshold ? x : vec::log1p(vec::exp(x * beta)) / beta;
      });
    case ActivationOp::Hardtanh:
      return use([lo = slope, hi = param2](T x) TG_INLINE_LAMBDA { return x < lo ? lo : (x > hi ? hi : x); });
    case ActivationOp::LogSigmoid:  // min(x, 0) - log1p(exp(-|x|)), which never overflows
      return use([](T x) TG_INLINE_LAMBDA { return (x < T(0) ? x : T(0)) - vec::log1p(vec::exp(-vec::abs(x))); });
    case ActivationOp::Mish:
      return use([](T x) TG_INLINE_LAMBDA { return x * vec::tanh(softplus_default(x)); });
  }
}

// The same for d(op)/d(input) times the incoming gradient g: f(g, x).
template <typename T, typename Use>
void with_activation_grad(ActivationOp op, T slope, T param2, Use use) {
  switch (op) {
    case ActivationOp::Gelu:
      return use([](T g, T x) TG_INLINE_LAMBDA {
        T cdf = T(0.5) * (T(1) + vec::erf(x * T(M_SQRT1_2)));
        T pdf = T(M_2_SQRTPI * M_SQRT1_2 * 0.5) * vec::exp(x * x * T(-0.5));
        return g * (cdf + x * pdf);
      });
    case ActivationOp::GeluTanh:
      return use([](T g, T x) TG_INLINE_LAMBDA {
        T x_sq = x * x;
        T inner = T(kGeluTanhBeta) * (x + T(kGeluKappa) * x_sq * x);
        T tanh_inner = vec::tanh(inner);
        T left = T(0.5) * x, right = T(1) + tanh_inner;
        T right_derivative =
            left * (T(1) - tanh_inner * tanh_inner) * T(kGeluTanhBeta) * (T(1) + T(3 * kGeluKappa) * x_sq);
        return g * (T(0.5) * right + right_derivative);
      });
    case ActivationOp::LeakyRelu:
      return use([slope](T g, T x) TG_INLINE_LAMBDA { return x > T(0) ? g : g * slope; });
    case ActivationOp::Erf:
      return use([](T g, T x) TG_INLINE_LAMBDA { return g * T(M_2_SQRTPI) * vec::exp(-x * x); });
    case ActivationOp::Silu:
      return use([](T g, T x) TG_INLINE_LAMBDA {
        T s = vec::sigmoid(x);
        return g * s * (T(1) + x * (T(1) - s));
      });
    case ActivationOp::Elu:
      return use([alpha = slope](T g, T x) TG_INLINE_LAMBDA { return x > T(0) ? g : g * alpha * vec::exp(x); });
    case ActivationOp::Softplus:
      return use([beta = slope, threshold = param2](T g, T x) TG_INLINE_LAMBDA {
        return x * beta > threshold ? g : g * vec::sigmoid(x * beta);
      });
    case ActivationOp::Hardtanh:  // no gradient at the bounds, as in PyTorch
      return use([lo = slope, hi = param2](T g, T x) TG_INLINE_LAMBDA { return x <= lo || x >= hi ? T(0) : g; });
    case ActivationOp::LogSigmoid: return use([](T g, T x) TG_INLINE_LAMBDA { return g * vec::sigmoid(-x); });
    case ActivationOp::Mish:
      return use([](T g, T x) TG_INLINE_LAMBDA {
        T t = vec::tanh(softplus_default(x));
        return g * (t + x * vec::sigmoid(x) * (T(1) - t * t));
      });
  }
}

}  // namespace

void CpuBackend::activation(ActivationOp op, const Tensor& out, const Tensor& in, double param, double param2) {
  dispatch_floating(in.dtype(), "activation", [&](auto tag) {
    using T = typename decltype(tag)::type;
    with_activation<T>(op, T(param), T(param2), [&](auto f) { unary_loop<T, T>(out, in, f); });
  });
}

void CpuBackend::activation_backward(ActivationOp op, const Tensor& grad_in, const Tensor& grad_out, const Tensor& in,
                                     double param, double param2) {
  dispatch_floating(in.dtype(), "activation_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    with_activation_grad<T>(op, T(param), T(param2), [&](auto f) { binary_loop<T, T>(grad_in, grad_out, in, f); });
  });
}

namespace {

// One row of lstm_cell_backward. The arrays are distinct (restrict): with this many, GCC would not check them
// for overlap at run time and would leave the loop scalar. dout is used when WithOutputGrad.
template <bool WithOutputGrad, typename T>
TG_ALWAYS_INLINE void lstm_cell_backward_row(T* __restrict dg, T* __restrict dc_prev, const T* __restrict dh,
                                             const T* __restrict dout, const T* __restrict dc_next,
                                             const T* __restrict g, const T* __restrict c_prev,
                                             const T* __restrict c, int64_t size) {
  for (int64_t j = 0; j < size; ++j) {
    const T in_gate = g[j], forget_gate = g[size + j], cell_gate = g[2 * size + j], out_gate = g[3 * size + j];
    const T tanh_cell = vec::tanh(c[j]);
    const T d_hidden = WithOutputGrad ? dh[j] + dout[j] : dh[j];
    const T d_cell = dc_next[j] + d_hidden * out_gate * (T(1) - tanh_cell * tanh_cell);
    dg[j] = d_cell * cell_gate * (T(1) - in_gate) * in_gate;
    dg[size + j] = d_cell * c_prev[j] * (T(1) - forget_gate) * forget_gate;
    dg[2 * size + j] = d_cell * in_gate * (T(1) - cell_gate * cell_gate);
    dg[3 * size + j] = d_hidden * tanh_cell * (T(1) - out_gate) * out_gate;
    dc_prev[j] = d_cell * forget_gate;
  }
}

}  // namespace

// The LSTM step kernels: rows of the batch split across the pool. Every tensor is contiguous, rows of H
// values (4H for the gates).
void CpuBackend::lstm_cell(const Tensor& hidden, const Tensor& cell, const Tensor& gates, const Tensor& input_gates,
                           const Tensor& bias, const Tensor& prev_cell) {
  const int64_t rows = hidden.sizes()[0], size = hidden.sizes()[1];
  dispatch_floating(gates.dtype(), "lstm_cell", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T *g = gates.data<T>(), *c = cell.data<T>(), *h = hidden.data<T>();
    const T *x = input_gates.data<T>(), *c_prev = prev_cell.data<T>();
    const T* b = bias.defined() ? bias.data<T>() : nullptr;
    parallel_for(rows, rows_per_grain(4 * size), [&](int64_t begin, int64_t end) {
      vec::simd_call([&]() TG_INLINE_LAMBDA {
        for (int64_t r = begin; r < end; ++r) {
          T* gr = g + r * 4 * size;
          const T* xr = x + r * 4 * size;
          // In the order of the composite x_proj + (h @ w_hh.T + b_hh).
          if (b) {
            for (int64_t j = 0; j < 4 * size; ++j) gr[j] = xr[j] + (gr[j] + b[j]);
          } else {
            for (int64_t j = 0; j < 4 * size; ++j) gr[j] = xr[j] + gr[j];
          }
          for (int64_t j = 0; j < 2 * size; ++j) gr[j] = vec::sigmoid(gr[j]);
          for (int64_t j = 2 * size; j < 3 * size; ++j) gr[j] = vec::tanh(gr[j]);
          for (int64_t j = 3 * size; j < 4 * size; ++j) gr[j] = vec::sigmoid(gr[j]);
          const T *in_gate = gr, *forget_gate = gr + size, *cell_gate = gr + 2 * size, *out_gate = gr + 3 * size;
          T *cr = c + r * size, *hr = h + r * size;
          const T* pr = c_prev + r * size;
          // Two loops: with every array in one, GCC gives up checking them for overlap and leaves it scalar.
          for (int64_t j = 0; j < size; ++j) cr[j] = forget_gate[j] * pr[j] + in_gate[j] * cell_gate[j];
          for (int64_t j = 0; j < size; ++j) hr[j] = out_gate[j] * vec::tanh(cr[j]);
        }
      });
    });
  });
}

void CpuBackend::lstm_cell_backward(const Tensor& grad_gates, const Tensor& grad_prev_cell, const Tensor& grad_hidden,
                                    const Tensor& grad_output, const Tensor& grad_cell, const Tensor& gates,
                                    const Tensor& prev_cell, const Tensor& cell) {
  const int64_t rows = cell.sizes()[0], size = cell.sizes()[1];
  dispatch_floating(gates.dtype(), "lstm_cell_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T *dg = grad_gates.data<T>(), *dc_prev = grad_prev_cell.data<T>();
    const T *dh = grad_hidden.data<T>(), *dc_next = grad_cell.data<T>(), *g = gates.data<T>();
    const T *c_prev = prev_cell.data<T>(), *c = cell.data<T>();
    const T* dout = grad_output.defined() ? grad_output.data<T>() : nullptr;
    parallel_for(rows, rows_per_grain(4 * size), [&](int64_t begin, int64_t end) {
      vec::simd_call([&]() TG_INLINE_LAMBDA {
        for (int64_t r = begin; r < end; ++r) {
          const int64_t o = r * size;
          if (dout)
            lstm_cell_backward_row<true>(dg + 4 * o, dc_prev + o, dh + o, dout + o, dc_next + o, g + 4 * o,
                                         c_prev + o, c + o, size);
          else
            lstm_cell_backward_row<false>(dg + 4 * o, dc_prev + o, dh + o, dout, dc_next + o, g + 4 * o,
                                          c_prev + o, c + o, size);
        }
      });
    });
  });
}

}  // namespace tg::cpu
