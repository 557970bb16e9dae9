#pragma once
// tapegrad's own float32 GEMM for AVX-512 CPUs: OpenBLAS obeys OPENBLAS_CORETYPE (often pinned to Haswell,
// i.e. AVX2 kernels), which halves the GEMM throughput of a CPU with 512-bit FMA units.
#include <cstdint>

namespace tg::cpu {

// A read-only strided matrix: element (i, j) is data[i * row_stride + j * col_stride]; in a batch, matrix t
// starts at data + t * batch_stride.
struct StridedMatrix {
  const float* data;
  int64_t row_stride;
  int64_t col_stride;
  int64_t batch_stride = 0;
};

// Whether sgemm should compute an m x n x k product on this CPU: it needs AVX-512 (as lowered by
// TAPEGRAD_CPU_CAPABILITY), and OpenBLAS is faster where a side is short. Depends on the shape only, so
// a product's result never depends on the thread count.
bool sgemm_preferred(int64_t m, int64_t n, int64_t k);

// For each t < batch: c[t] (at c + t * m * n, row stride n) = a[t] @ b[t], or += with `accumulate`, with a[t]
// m x k and b[t] k x n, over tapegrad's thread pool. m, n, k >= 1. Each element's sum runs over k in order, so
// results are the same for every thread count.
void sgemm(int64_t batch, int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c,
           bool accumulate);

// c[m, n] (row stride n) (+)= a @ b on the calling thread alone, for callers that share their work out among
// threads themselves; the same results as sgemm.
void sgemm_serial(int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c, bool accumulate);

}  // namespace tg::cpu
