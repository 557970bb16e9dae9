#pragma once
// Strided iteration shared by every CPU kernel. Operands arrive with the output's shape
// (broadcast inputs have stride 0); dims are coalesced so that contiguous data is walked
// as one flat run, and the kernel body sees the innermost run with its element strides.
#include <array>
#include <cstdint>
#include "core/tensor.h"

namespace tg::cpu {

template <size_t N>
struct Operands {
  std::array<char*, N> ptrs;
  std::array<size_t, N> itemsizes;
  std::array<const int64_t*, N> strides;
};

// body(std::array<char*, N> ptrs, std::array<int64_t, N> strides_in_elements, int64_t n)
template <size_t N, typename Body>
void for_each_run(const DimVec& sizes, const Operands<N>& ops, Body&& body) {
  // Coalesce into at most sizes.size() dims, innermost last, dropping size-1 dims.
  int64_t shape[64];
  int64_t strides[N][64];
  int nd = 0;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d] == 1) continue;
    if (sizes[d] == 0) return;
    bool merge = nd > 0;
    for (size_t k = 0; k < N && merge; ++k)
      merge = strides[k][nd - 1] == ops.strides[k][d] * sizes[d];
    if (merge) {
      shape[nd - 1] *= sizes[d];
      for (size_t k = 0; k < N; ++k) strides[k][nd - 1] = ops.strides[k][d];
    } else {
      shape[nd] = sizes[d];
      for (size_t k = 0; k < N; ++k) strides[k][nd] = ops.strides[k][d];
      ++nd;
    }
  }
  std::array<int64_t, N> inner_strides;
  std::array<char*, N> ptrs = ops.ptrs;
  if (nd == 0) {
    inner_strides.fill(0);
    body(ptrs, inner_strides, int64_t(1));
    return;
  }
  for (size_t k = 0; k < N; ++k) inner_strides[k] = strides[k][nd - 1];
  int64_t inner = shape[nd - 1];
  int64_t counter[64] = {0};
  int outer_dims = nd - 1;
  while (true) {
    body(ptrs, inner_strides, inner);
    int d = outer_dims - 1;
    for (; d >= 0; --d) {
      for (size_t k = 0; k < N; ++k) ptrs[k] += strides[k][d] * static_cast<int64_t>(ops.itemsizes[k]);
      if (++counter[d] < shape[d]) break;
      for (size_t k = 0; k < N; ++k) ptrs[k] -= strides[k][d] * shape[d] * static_cast<int64_t>(ops.itemsizes[k]);
      counter[d] = 0;
    }
    if (d < 0) return;
  }
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

// out[i] = f(a[i]) over any strides; the all-contiguous case is a plain loop the compiler vectorises.
template <typename To, typename Ti, typename F>
void unary_loop(const Tensor& out, const Tensor& a, F f) {
  for_each_run<2>(out.sizes(), operands_of<2>({&out, &a}), [&](auto p, auto s, int64_t n) {
    To* o = reinterpret_cast<To*>(p[0]);
    const Ti* x = reinterpret_cast<const Ti*>(p[1]);
    if (s[0] == 1 && s[1] == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * s[0]] = f(x[i * s[1]]);
    }
  });
}

template <typename To, typename Ti, typename F>
void binary_loop(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  for_each_run<3>(out.sizes(), operands_of<3>({&out, &a, &b}), [&](auto p, auto s, int64_t n) {
    To* o = reinterpret_cast<To*>(p[0]);
    const Ti* x = reinterpret_cast<const Ti*>(p[1]);
    const Ti* y = reinterpret_cast<const Ti*>(p[2]);
    if (s[0] == 1 && s[1] == 1 && s[2] == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
    } else if (s[0] == 1 && s[1] == 1 && s[2] == 0) {
      const Ti yv = *y;
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
    } else if (s[0] == 1 && s[1] == 0 && s[2] == 1) {
      const Ti xv = *x;
      for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * s[0]] = f(x[i * s[1]], y[i * s[2]]);
    }
  });
}

}  // namespace tg::cpu
