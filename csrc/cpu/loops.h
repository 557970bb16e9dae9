#pragma once
// Strided iteration shared by every CPU kernel. Operands arrive with the output's shape
// (broadcast inputs have stride 0); dims are coalesced so that contiguous data is walked
// as one flat run, and the kernel body sees the innermost run with its element strides.
#include <array>
#include <cstdint>
#include <algorithm>
#include "core/tensor.h"
#include "cpu/parallel.h"
#include "cpu/simd.h"
#include <type_traits>

namespace tg::cpu {

template <size_t N>
struct Operands {
  std::array<char*, N> ptrs;
  std::array<size_t, N> itemsizes;
  std::array<const int64_t*, N> strides;
};

// Operands with their dims coalesced: size-1 dims dropped and neighbours that walk memory as one
// run merged, innermost last, so contiguous data is one flat run.
template <size_t N>
struct Coalesced {
  int nd = 0;
  int64_t numel = 1;
  int64_t shape[64];
  int64_t strides[N][64];  // in elements
};

template <size_t N>
Coalesced<N> coalesce(const DimVec& sizes, const Operands<N>& ops) {
  Coalesced<N> c;
  for (size_t d = 0; d < sizes.size(); ++d) {
    c.numel *= sizes[d];
    if (sizes[d] == 1) continue;
    bool merge = c.nd > 0;
    for (size_t k = 0; k < N && merge; ++k)
      merge = c.strides[k][c.nd - 1] == ops.strides[k][d] * sizes[d];
    if (merge) {
      c.shape[c.nd - 1] *= sizes[d];
      for (size_t k = 0; k < N; ++k) c.strides[k][c.nd - 1] = ops.strides[k][d];
    } else {
      c.shape[c.nd] = sizes[d];
      for (size_t k = 0; k < N; ++k) c.strides[k][c.nd] = ops.strides[k][d];
      ++c.nd;
    }
  }
  return c;
}

// Walks elements [begin, end) of the coalesced iteration space in runs along the innermost dim.
// body(std::array<char*, N> ptrs, std::array<int64_t, N> strides_in_elements, int64_t n)
template <size_t N, typename Body>
void walk_range(const Coalesced<N>& c, const Operands<N>& ops, int64_t begin, int64_t end, Body& body) {
  std::array<int64_t, N> inner_strides;
  std::array<char*, N> ptrs = ops.ptrs;
  if (c.nd == 0) {
    inner_strides.fill(0);
    body(ptrs, inner_strides, int64_t(1));
    return;
  }
  const int outer_dims = c.nd - 1;
  const int64_t inner = c.shape[outer_dims];
  int64_t counter[64];
  int64_t row = begin / inner, pos = begin % inner;
  for (int d = outer_dims - 1; d >= 0; --d) {
    counter[d] = row % c.shape[d];
    row /= c.shape[d];
  }
  for (size_t k = 0; k < N; ++k) {
    inner_strides[k] = c.strides[k][outer_dims];
    int64_t offset = pos * inner_strides[k];
    for (int d = 0; d < outer_dims; ++d) offset += counter[d] * c.strides[k][d];
    ptrs[k] += offset * static_cast<int64_t>(ops.itemsizes[k]);
  }
  while (true) {
    int64_t n = std::min(inner - pos, end - begin);
    body(ptrs, inner_strides, n);
    begin += n;
    if (begin >= end) return;
    // Back to the start of this row, then one step along the outer dims.
    for (size_t k = 0; k < N; ++k) ptrs[k] -= pos * inner_strides[k] * static_cast<int64_t>(ops.itemsizes[k]);
    pos = 0;
    for (int d = outer_dims - 1; d >= 0; --d) {
      for (size_t k = 0; k < N; ++k) ptrs[k] += c.strides[k][d] * static_cast<int64_t>(ops.itemsizes[k]);
      if (++counter[d] < c.shape[d]) break;
      for (size_t k = 0; k < N; ++k) ptrs[k] -= c.strides[k][d] * c.shape[d] * static_cast<int64_t>(ops.itemsizes[k]);
      counter[d] = 0;
    }
  }
}

// Serial walk over every element: for bodies that accumulate into shared outputs (reductions).
template <size_t N, typename Body>
void for_each_run(const DimVec& sizes, const Operands<N>& ops, Body&& body) {
  Coalesced<N> c = coalesce(sizes, ops);
  if (c.numel > 0) walk_range(c, ops, 0, c.numel, body);
}

// The same walk split across the thread pool: only for bodies whose outputs never overlap.
template <size_t N, typename Body>
void parallel_for_each_run(const DimVec& sizes, const Operands<N>& ops, int64_t grain, Body&& body) {
  Coalesced<N> c = coalesce(sizes, ops);
  parallel_for(c.numel, grain, [&](int64_t begin, int64_t end) { walk_range(c, ops, begin, end, body); });
}

template <size_t N, typename Body>
void parallel_for_each_run(const DimVec& sizes, const Operands<N>& ops, Body&& body) {
  parallel_for_each_run<N>(sizes, ops, kElementwiseGrain, body);
}

template <size_t N>
Operands<N> operands_of(const std::array<const Tensor*, N>& ts) {
  Operands<N> o;
  for (size_t k = 0; k < N; ++k) {
    o.ptrs[k] = static_cast<char*>(ts[k]->data_ptr());
    o.itemsizes[k] = itemsize(ts[k]->dtype());
    o.strides[k] = ts[k]->strides().data();
  }
  return o;
}

// out[i] = f(a[i]) over any strides; every run goes through the SIMD dispatch, so f (a vec_math
// function, say) is inlined into a loop compiled for this CPU.
template <typename To, typename Ti, typename F>
void unary_loop(const Tensor& out, const Tensor& a, F f) {
  parallel_for_each_run<2>(out.sizes(), operands_of<2>({&out, &a}), [&](auto p, auto s, int64_t n) {
    To* o = reinterpret_cast<To*>(p[0]);
    const Ti* x = reinterpret_cast<const Ti*>(p[1]);
    if constexpr (std::is_same_v<To, Ti>) {
      if (s[0] == 1 && s[1] == 1) return vec::map(x, o, n, f);
    }
    int64_t so = s[0], sx = s[1];
    vec::simd_for(n, [=](int64_t i) TG_INLINE_LAMBDA { o[i * so] = f(x[i * sx]); });
  });
}

template <typename To, typename Ti, typename F>
void binary_loop(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  parallel_for_each_run<3>(out.sizes(), operands_of<3>({&out, &a, &b}), [&](auto p, auto s, int64_t n) {
    To* o = reinterpret_cast<To*>(p[0]);
    const Ti* x = reinterpret_cast<const Ti*>(p[1]);
    const Ti* y = reinterpret_cast<const Ti*>(p[2]);
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
      vec::simd_for(n, [=](int64_t i) TG_INLINE_LAMBDA { o[i] = f(x[i], y[i]); });
    } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
      const Ti yv = *y;
      vec::simd_for(n, [=](int64_t i) TG_INLINE_LAMBDA { o[i] = f(x[i], yv); });
    } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
      const Ti xv = *x;
      vec::simd_for(n, [=](int64_t i) TG_INLINE_LAMBDA { o[i] = f(xv, y[i]); });
    } else {
      int64_t so = s[0], sx = s[1], sy = s[2];
      vec::simd_for(n, [=](int64_t i) TG_INLINE_LAMBDA { o[i * so] = f(x[i * sx], y[i * sy]); });
    }
  });
}

}  // namespace tg::cpu
