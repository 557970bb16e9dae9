#pragma once
// OpenBLAS's GEMM for row-major matrices, shared by the matrix products and the convolutions.
#include <cblas.h>
#include <cstdint>
#include <type_traits>

namespace tg::cpu {

// Products of at least this many multiply-adds let other Python threads run while they work.
constexpr int64_t kGilFreeGemmWork = 64 * 64 * 64;

// c = op(a) @ op(b), or c += op(a) @ op(b) with `accumulate`; op transposes where the flag says.
template <typename T>
void blas_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b, int64_t ldb,
               T* c, int64_t ldc, bool accumulate) {
  auto transa = ta ? CblasTrans : CblasNoTrans;
  auto transb = tb ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>)
    scipy_cblas_sgemm(CblasRowMajor, transa, transb, m, n, k, 1.0f, a, lda, b, ldb, accumulate ? 1.0f : 0.0f, c, ldc);
  else
    scipy_cblas_dgemm(CblasRowMajor, transa, transb, m, n, k, 1.0, a, lda, b, ldb, accumulate ? 1.0 : 0.0, c, ldc);
}

}  // namespace tg::cpu
