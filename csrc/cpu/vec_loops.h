#pragma once
// unary_loop / binary_loop (same thread split) for element functions built on vec_math.h: every run goes
// through vec::simd_for, so contiguous runs are vectorised for this CPU and strided runs use the same code.
#include "cpu/loops.h"
#include "cpu/vec_math.h"

namespace tg::cpu {

template <typename T, typename F>
void vec_unary_loop(const Tensor& out, const Tensor& a, F f) {
  parallel_for_each_run<2>(out.sizes(), operands_of<2>({&out, &a}), [&](auto p, auto s, int64_t n) {
    T* o = reinterpret_cast<T*>(p[0]);
    const T* x = reinterpret_cast<const T*>(p[1]);
    if (s[0] == 1 && s[1] == 1) {
      vec::map(x, o, n, f);
    } else {
      int64_t so = s[0], sx = s[1];
      vec::simd_for(n, [=](int64_t i) TG_INLINE_LAMBDA { o[i * so] = f(x[i * sx]); });
    }
  });
}

template <typename T, typename F>
void vec_binary_loop(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  parallel_for_each_run<3>(out.sizes(), operands_of<3>({&out, &a, &b}), [&](auto p, auto s, int64_t n) {
    T* o = reinterpret_cast<T*>(p[0]);
    const T* x = reinterpret_cast<const T*>(p[1]);
    const T* y = reinterpret_cast<const T*>(p[2]);
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
      vec::map(x, y, o, n, f);
    } else {
      int64_t so = s[0], sx = s[1], sy = s[2];
      vec::simd_for(n, [=](int64_t i) TG_INLINE_LAMBDA { o[i * so] = f(x[i * sx], y[i * sy]); });
    }
  });
}

// Sums of f(i) over a row with 32 independent double accumulators: a single running sum would stall
// on the latency of each add, and this order is still deterministic.
template <typename F>
TG_ALWAYS_INLINE double row_sum(int64_t n, F f) {
  constexpr int kLanes = 32;
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) acc[k] += f(i + k);
  for (; i < n; ++i) acc[0] += f(i);
  for (int width = kLanes / 2; width > 0; width /= 2)
    for (int k = 0; k < width; ++k) acc[k] += acc[k + width];
  return acc[0];
}

}  // namespace tg::cpu
