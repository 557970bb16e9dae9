#include <optional>
#include "cpu/blas.h"
#include "cpu/cpu_backend.h"
#include "cpu/loops.h"
#include "cpu/sgemm.h"

namespace tg::cpu {

namespace {

// A matrix BLAS can read in place: rows or columns contiguous, the other stride a valid ld.
bool blas_layout(int64_t rows, int64_t cols, int64_t rs, int64_t cs, bool& transposed, int64_t& ld) {
  if (cs == 1 && (rs >= std::max<int64_t>(cols, 1) || rows == 1)) {
    transposed = false;
    ld = std::max<int64_t>(rows == 1 ? cols : rs, 1);
    return true;
  }
  if (rs == 1 && (cs >= std::max<int64_t>(rows, 1) || cols == 1)) {
    transposed = true;
    ld = std::max<int64_t>(cols == 1 ? rows : cs, 1);
    return true;
  }
  return false;
}

template <typename T>
void naive_matmul(const Tensor& out, const Tensor& a, const Tensor& b) {
  int64_t B = a.sizes()[0], M = a.sizes()[1], K = a.sizes()[2], N = b.sizes()[2];
  const T* pa = a.data<T>();
  const T* pb = b.data<T>();
  T* pc = out.data<T>();
  auto as = a.strides(), bs = b.strides();
  for (int64_t bi = 0; bi < B; ++bi)
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        T acc = 0;
        for (int64_t kk = 0; kk < K; ++kk)
          acc += pa[bi * as[0] + i * as[1] + kk * as[2]] * pb[bi * bs[0] + kk * bs[1] + j * bs[2]];
        pc[(bi * M + i) * N + j] = acc;
      }
}

}  // namespace

void CpuBackend::bmm(const Tensor& out, const Tensor& a, const Tensor& b) {
  int64_t B = a.sizes()[0], M = a.sizes()[1], K = a.sizes()[2], N = b.sizes()[2];
  if (out.numel() == 0) return;
  if (K == 0) {
    fill(out, Scalar(int64_t(0)));
    return;
  }
  if (!is_floating(a.dtype())) {
    dispatch_all(a.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, bool>) throw NotImplementedError("\"addmm\" not implemented for 'Bool'");
      else naive_matmul<T>(out, a, b);
    });
    return;
  }
  // Beyond tiny products, other Python threads run while the GEMM works.
  std::optional<CallerLockRelease> unlocked;
  if (B * M * N * K >= kGilFreeGemmWork) unlocked.emplace();
  if (a.dtype() == ScalarType::Float32 && sgemm_preferred(M, N, K)) {
    // The packing routines read any strides, so no operand needs a copy.
    auto as = a.strides(), bs = b.strides();
    StridedMatrix sa{a.data<float>(), as[1], as[2], as[0]}, sb{b.data<float>(), bs[1], bs[2], bs[0]};
    sgemm(B, M, N, K, sa, sb, out.data<float>(), false);
    return;
  }
  dispatch_floating(a.dtype(), "bmm", [&](auto tag) {
    using T = typename decltype(tag)::type;
    // Operands BLAS cannot read in place (e.g. expanded) are made contiguous once.
    Tensor ca = a, cb = b;
    bool ta, tb;
    int64_t lda, ldb;
    if (!blas_layout(M, K, a.strides()[1], a.strides()[2], ta, lda)) {
      ca = empty(a.sizes(), a.dtype());
      copy(ca, a);
      blas_layout(M, K, ca.strides()[1], ca.strides()[2], ta, lda);
    }
    if (!blas_layout(K, N, b.strides()[1], b.strides()[2], tb, ldb)) {
      cb = empty(b.sizes(), b.dtype());
      copy(cb, b);
      blas_layout(K, N, cb.strides()[1], cb.strides()[2], tb, ldb);
    }
    for (int64_t i = 0; i < B; ++i) {
      blas_gemm<T>(ta, tb, M, N, K, ca.data<T>() + i * ca.strides()[0], lda, cb.data<T>() + i * cb.strides()[0], ldb,
              out.data<T>() + i * M * N, N, false);
    }
  });
}

}  // namespace tg::cpu
