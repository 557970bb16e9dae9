#pragma once
// simd_call() / simd_for() / map(): loops compiled for AVX-512, AVX2+FMA and baseline x86-64, the best one
// picked at run time, so a portable wheel (no -march=native) still uses the CPU's full vector width.
#include <cstdint>

#define TG_ALWAYS_INLINE __attribute__((always_inline)) inline
// For the element lambdas passed to simd_for: each ISA's loop must inline them to use that ISA.
#define TG_INLINE_LAMBDA __attribute__((always_inline))

namespace tg::cpu::vec {

enum class SimdLevel { Baseline, Avx2, Avx512 };

// What this CPU runs (Baseline off x86-64), lowered by TAPEGRAD_CPU_CAPABILITY=default|avx2|avx512 (for
// tests, as ATen's ATEN_CPU_CAPABILITY). Decided once per process.
SimdLevel simd_level();

#if defined(__x86_64__)
// f() compiled for each ISA level: the loops of an inlined f are vectorised with that level's registers.
template <typename F>
__attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma"))) auto call_avx512(const F& f) {
  return f();
}
template <typename F>
__attribute__((target("avx2,fma"))) auto call_avx2(const F& f) {
  return f();
}
#endif

// f() in the version compiled for this CPU. f must be TG_INLINE_LAMBDA, as must every function it calls
// whose code should use that ISA (the vec_math functions are).
template <typename F>
auto simd_call(const F& f) {
#if defined(__x86_64__)
  switch (simd_level()) {
    case SimdLevel::Avx512: return call_avx512(f);
    case SimdLevel::Avx2: return call_avx2(f);
    case SimdLevel::Baseline: break;
  }
#endif
  return f();
}

// body(i) for i in [0, n), vectorised for this CPU: body must be safe to run for all i in any order.
template <typename Body>
void simd_for(int64_t n, const Body& body) {
  simd_call([&]() TG_INLINE_LAMBDA {
    for (int64_t i = 0; i < n; ++i) body(i);
  });
}

// y[i] = f(x[i]) over contiguous arrays, y may be x, in the caller's ISA (inside simd_call; map() dispatches
// itself). In place gets its own loop, as the compiler's overlap check would send x == y to the scalar loop.
template <typename T, typename F>
TG_ALWAYS_INLINE void map_inline(const T* x, T* y, int64_t n, F f) {
  if (x == y) {
    for (int64_t i = 0; i < n; ++i) y[i] = f(y[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
  }
}

template <typename T, typename F>
void map(const T* x, T* y, int64_t n, F f) {
  simd_call([=]() TG_INLINE_LAMBDA { map_inline(x, y, n, f); });
}

// y[i] = f(a[i], b[i]) over contiguous arrays.
template <typename T, typename F>
void map(const T* a, const T* b, T* y, int64_t n, F f) {
  simd_for(n, [=](int64_t i) TG_INLINE_LAMBDA { y[i] = f(a[i], b[i]); });
}

// Sums of f(i) over a row with 32 independent double accumulators: a single running sum would stall
// on the latency of each add, and this order is still deterministic. A row's tail is its last 32
// elements again with those already added masked out, rather than a serial loop.
template <typename F>
TG_ALWAYS_INLINE double row_sum(int64_t n, F f) {
  constexpr int kLanes = 32;
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int k = 0; k < kLanes; ++k) acc[k] += f(i + k);
  if (i < n && n >= kLanes) {
    const int64_t start = n - kLanes, skip = i - start;
    for (int k = 0; k < kLanes; ++k) acc[k] += k >= skip ? f(start + k) : 0.0;
    i = n;
  }
  for (; i < n; ++i) acc[0] += f(i);
  for (int width = kLanes / 2; width > 0; width /= 2)
    for (int k = 0; k < width; ++k) acc[k] += acc[k + width];
  return acc[0];
}

}  // namespace tg::cpu::vec
