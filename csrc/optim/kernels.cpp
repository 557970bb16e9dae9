// The loops behind tapegrad.optim. Each step is one pass over contiguous arrays that the
// compiler vectorises; an AVX2+FMA copy is chosen at run time so that the multiply-adds
// torch fuses are single FMA instructions here too. No other a*b+c may be fused (that
// would round differently from torch), hence the pragmas.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "optim/kernels.h"

#include <cmath>
#include <type_traits>

#if defined(__GNUC__) && defined(__x86_64__)
#define TG_TARGET_FMA __attribute__((target("avx2,fma")))
#else
#define TG_TARGET_FMA
#endif
#define TG_ALWAYS_INLINE inline __attribute__((always_inline))
#define TG_LAMBDA_INLINE __attribute__((always_inline))
// The arrays of one step never overlap (optim.cpp copies any operand that might).
#if defined(__clang__)
#define TG_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define TG_IVDEP _Pragma("GCC ivdep")
#else
#define TG_IVDEP
#endif

namespace tg::optim::kernels {

namespace {

bool cpu_has_fma() {
#if defined(__GNUC__) && defined(__x86_64__)
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#elif defined(__aarch64__)
  return true;
#else
  return false;
#endif
}

// a * b + c, rounded once where torch's kernel fuses it.
template <bool Fma, typename T>
TG_ALWAYS_INLINE T madd(T a, T b, T c) {
  if constexpr (!Fma) {
    return a * b + c;
  } else if constexpr (sizeof(T) == sizeof(float)) {
    return __builtin_fmaf(a, b, c);
  } else {
    return __builtin_fma(a, b, c);
  }
}

// torch.lerp(self, end, w) for a fixed w: self + w*(end-self) when |w| < 0.5, else
// end - (1-w)*(end-self), each as one multiply-add (coefficient and base chosen once).
template <typename T>
struct Lerp {
  T coeff;
  bool from_self;
  explicit Lerp(T w) : coeff(std::abs(w) < T(0.5) ? w : w - T(1)), from_self(std::abs(w) < T(0.5)) {}
  template <bool Fma>
  TG_ALWAYS_INLINE T apply(T self, T end) const {
    return madd<Fma>(coeff, end - self, from_self ? self : end);
  }
};

// torch.maximum: NaN in either operand wins.
template <typename T>
TG_ALWAYS_INLINE T maximum(T a, T b) {
  return (a != a || a > b) ? a : b;
}

// Calls f(std::true_type) or f(std::false_type). Options that decide whether an FMA is
// needed become template flags: a conditional FMA would leave a branch in the loop (GCC
// sinks the call into it), which stops vectorisation.
template <typename F>
TG_ALWAYS_INLINE void with_flag(bool flag, F&& f) {
  if (flag) f(std::true_type{});
  else f(std::false_type{});
}

template <bool Fma, MomentumInit Init, bool WeightDecay, bool Nesterov, typename T>
TG_ALWAYS_INLINE void sgd_loop(const SgdArgs<T>& a) {
  T* p = a.param;
  const T* g = a.grad;
  T* buf = a.momentum_buffer;
  const T neg_lr = a.neg_lr, wd = a.weight_decay, mom = a.momentum, damp = a.one_minus_dampening;
  const T sign = a.maximize ? T(-1) : T(1);
  const int64_t n = a.n;
  TG_IVDEP
  for (int64_t i = 0; i < n; ++i) {
    T pi = p[i];
    T d = g[i] * sign;
    if constexpr (WeightDecay) d = madd<Fma>(pi, wd, d);
    if constexpr (Init == MomentumInit::First) {
      buf[i] = d;
      if constexpr (Nesterov) d = madd<Fma>(d, mom, d);
    } else if constexpr (Init == MomentumInit::Update) {
      T b = madd<Fma>(d, damp, buf[i] * mom);
      buf[i] = b;
      if constexpr (Nesterov) d = madd<Fma>(b, mom, d);
      else d = b;
    }
    p[i] = madd<Fma>(d, neg_lr, pi);
  }
}

template <bool Fma, typename T>
TG_ALWAYS_INLINE void sgd_any(const SgdArgs<T>& a) {
  with_flag(a.has_weight_decay, [&](auto wd) TG_LAMBDA_INLINE {
    with_flag(a.nesterov, [&](auto nesterov) TG_LAMBDA_INLINE {
      switch (a.momentum_init) {
        case MomentumInit::None: return sgd_loop<Fma, MomentumInit::None, wd(), nesterov()>(a);
        case MomentumInit::First: return sgd_loop<Fma, MomentumInit::First, wd(), nesterov()>(a);
        case MomentumInit::Update: return sgd_loop<Fma, MomentumInit::Update, wd(), nesterov()>(a);
      }
    });
  });
}

template <bool Fma, bool L2, bool Amsgrad, typename T>
TG_ALWAYS_INLINE void adam_loop(const AdamArgs<T>& a) {
  T* p = a.param;
  const T* g = a.grad;
  T* m = a.exp_avg;
  T* v = a.exp_avg_sq;
  T* vmax = a.max_exp_avg_sq;
  const T wd = a.weight_decay, beta2 = a.beta2, one_minus_beta2 = a.one_minus_beta2;
  const T bc2_sqrt = a.bias_correction2_sqrt, eps = a.eps, neg_step = a.neg_step_size;
  const T sign = a.maximize ? T(-1) : T(1);
  // Scaling by exactly 1 changes nothing, so plain Adam shares AdamW's multiply.
  const T decay = a.has_weight_decay && a.decoupled ? a.decay_factor : T(1);
  const Lerp<T> lerp1(a.one_minus_beta1);
  const int64_t n = a.n;
  TG_IVDEP
  for (int64_t i = 0; i < n; ++i) {
    T gi = g[i] * sign;
    T pi = p[i];
    if constexpr (L2) gi = madd<Fma>(pi, wd, gi);
    pi = pi * decay;
    T mi = lerp1.template apply<Fma>(m[i], gi);
    m[i] = mi;
    T vi = madd<Fma>(one_minus_beta2 * gi, gi, v[i] * beta2);
    v[i] = vi;
    if constexpr (Amsgrad) {
      vi = maximum(vmax[i], vi);
      vmax[i] = vi;
    }
    T denom = std::sqrt(vi) / bc2_sqrt + eps;
    p[i] = pi + (neg_step * mi) / denom;
  }
}

template <bool Fma, typename T>
TG_ALWAYS_INLINE void adam_any(const AdamArgs<T>& a) {
  with_flag(a.has_weight_decay && !a.decoupled, [&](auto l2) TG_LAMBDA_INLINE {
    with_flag(a.max_exp_avg_sq != nullptr, [&](auto amsgrad) TG_LAMBDA_INLINE {
      adam_loop<Fma, l2(), amsgrad()>(a);
    });
  });
}

template <bool Fma, bool WeightDecay, bool Centered, bool Momentum, typename T>
TG_ALWAYS_INLINE void rmsprop_loop(const RmspropArgs<T>& a) {
  T* p = a.param;
  const T* g = a.grad;
  T* sq = a.square_avg;
  T* gavg = a.grad_avg;
  T* buf = a.momentum_buffer;
  const T wd = a.weight_decay, alpha = a.alpha, one_minus_alpha = a.one_minus_alpha;
  const T eps = a.eps, mom = a.momentum, neg_lr = a.neg_lr;
  const T sign = a.maximize ? T(-1) : T(1);
  const Lerp<T> lerp(one_minus_alpha);
  const int64_t n = a.n;
  TG_IVDEP
  for (int64_t i = 0; i < n; ++i) {
    T pi = p[i];
    T gi = g[i] * sign;
    if constexpr (WeightDecay) gi = madd<Fma>(pi, wd, gi);
    T s = madd<Fma>(one_minus_alpha * gi, gi, sq[i] * alpha);
    sq[i] = s;
    T avg;
    if constexpr (Centered) {
      T ga = lerp.template apply<Fma>(gavg[i], gi);
      gavg[i] = ga;
      avg = std::sqrt(madd<Fma>(-ga, ga, s));
    } else {
      avg = std::sqrt(s);
    }
    avg = avg + eps;
    if constexpr (Momentum) {
      T b = buf[i] * mom + gi / avg;
      buf[i] = b;
      p[i] = madd<Fma>(b, neg_lr, pi);
    } else {
      p[i] = pi + (neg_lr * gi) / avg;
    }
  }
}

template <bool Fma, typename T>
TG_ALWAYS_INLINE void rmsprop_any(const RmspropArgs<T>& a) {
  with_flag(a.has_weight_decay, [&](auto wd) TG_LAMBDA_INLINE {
    with_flag(a.grad_avg != nullptr, [&](auto centered) TG_LAMBDA_INLINE {
      with_flag(a.momentum_buffer != nullptr, [&](auto momentum) TG_LAMBDA_INLINE {
        rmsprop_loop<Fma, wd(), centered(), momentum()>(a);
      });
    });
  });
}

template <typename T> TG_TARGET_FMA void sgd_fma(const SgdArgs<T>& a) { sgd_any<true>(a); }
template <typename T> void sgd_plain(const SgdArgs<T>& a) { sgd_any<false>(a); }
template <typename T> TG_TARGET_FMA void adam_fma(const AdamArgs<T>& a) { adam_any<true>(a); }
template <typename T> void adam_plain(const AdamArgs<T>& a) { adam_any<false>(a); }
template <typename T> TG_TARGET_FMA void rmsprop_fma(const RmspropArgs<T>& a) { rmsprop_any<true>(a); }
template <typename T> void rmsprop_plain(const RmspropArgs<T>& a) { rmsprop_any<false>(a); }

}  // namespace

template <typename T>
void sgd(const SgdArgs<T>& a) {
  cpu_has_fma() ? sgd_fma(a) : sgd_plain(a);
}
template <typename T>
void adam(const AdamArgs<T>& a) {
  cpu_has_fma() ? adam_fma(a) : adam_plain(a);
}
template <typename T>
void rmsprop(const RmspropArgs<T>& a) {
  cpu_has_fma() ? rmsprop_fma(a) : rmsprop_plain(a);
}

template void sgd<float>(const SgdArgs<float>&);
template void sgd<double>(const SgdArgs<double>&);
template void adam<float>(const AdamArgs<float>&);
template void adam<double>(const AdamArgs<double>&);
template void rmsprop<float>(const RmspropArgs<float>&);
template void rmsprop<double>(const RmspropArgs<double>&);

}  // namespace tg::optim::kernels
