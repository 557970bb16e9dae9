#include "cpu/sgemm.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include "cpu/parallel.h"
#include "cpu/simd.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tg::cpu {

#if defined(__x86_64__)

namespace {

#define TG_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))

// Micro-tile: kMr rows of C by kNr columns (two zmm), 2 * kMr accumulators of the 32 registers.
constexpr int kMr = 12;
constexpr int kNr = 32;
// Cache blocking (BLIS): a kKc x kNr sliver of B stays in L1 while the kMc x kKc block of A streams
// from L2, and the kKc x kNc panel of B sits in L3.
constexpr int64_t kKc = 256;
constexpr int64_t kMc = kMr * 24;
constexpr int64_t kNc = kNr * 128;
// Products of about this many flops (a microsecond) stay on the calling thread: the pool's hand-off
// would cost more than the second thread saves.
constexpr int64_t kMinFlopsPerThread = int64_t(1) << 18;

// A grow-only 64-byte aligned scratch buffer per thread, kept between calls.
class PackBuffer {
 public:
  ~PackBuffer() { std::free(data_); }
  float* get(int64_t floats) {
    if (floats > capacity_) {
      std::free(data_);
      size_t bytes = (static_cast<size_t>(floats) * sizeof(float) + 63) / 64 * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data_) throw std::bad_alloc();
      capacity_ = floats;
    }
    return data_;
  }

 private:
  float* data_ = nullptr;
  int64_t capacity_ = 0;
};

thread_local PackBuffer packed_a_buffer, packed_b_buffer;

// Lanes [0, count) set, for count in [0, 16].
TG_AVX512 inline __mmask16 first_lanes(int64_t count) {
  return _cvtu32_mask16(count >= 16 ? 0xffffu : (1u << std::max<int64_t>(count, 0)) - 1);
}

// rows[i] lane j <-> rows[j] lane i: 32-bit, then 64-bit interleaves within 128-bit lanes, then 128-bit
// lane shuffles.
TG_AVX512 inline void transpose16x16(__m512 rows[16]) {
  __m512 pairs[16], quads[16];
  for (int i = 0; i < 16; i += 2) {
    pairs[i] = _mm512_unpacklo_ps(rows[i], rows[i + 1]);
    pairs[i + 1] = _mm512_unpackhi_ps(rows[i], rows[i + 1]);
  }
  for (int i = 0; i < 16; i += 4) {
    __m512d lo = _mm512_castps_pd(pairs[i]), hi = _mm512_castps_pd(pairs[i + 1]);
    __m512d lo2 = _mm512_castps_pd(pairs[i + 2]), hi2 = _mm512_castps_pd(pairs[i + 3]);
    quads[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(lo, lo2));
    quads[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(lo, lo2));
    quads[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(hi, hi2));
    quads[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(hi, hi2));
  }
  // quads[4 * g + q] holds columns q, q + 4, q + 8, q + 12 (one per 128-bit lane) of rows 4g..4g+3.
  for (int q = 0; q < 4; ++q) {
    __m512 even01 = _mm512_shuffle_f32x4(quads[q], quads[4 + q], 0x88);
    __m512 even23 = _mm512_shuffle_f32x4(quads[8 + q], quads[12 + q], 0x88);
    __m512 odd01 = _mm512_shuffle_f32x4(quads[q], quads[4 + q], 0xdd);
    __m512 odd23 = _mm512_shuffle_f32x4(quads[8 + q], quads[12 + q], 0xdd);
    rows[q] = _mm512_shuffle_f32x4(even01, even23, 0x88);
    rows[q + 8] = _mm512_shuffle_f32x4(even01, even23, 0xdd);
    rows[q + 4] = _mm512_shuffle_f32x4(odd01, odd23, 0x88);
    rows[q + 12] = _mm512_shuffle_f32x4(odd01, odd23, 0xdd);
  }
}

// dst[p * width + j] = src[j * stride + p] for j < count (zero for count <= j < 16), p < kc, and the
// `lanes` first values of each dst row: 16 x 16 blocks transposed in registers.
TG_AVX512 void pack_transposed(const float* src, int64_t stride, int64_t count, int64_t kc, float* dst, int64_t width,
                               __mmask16 lanes) {
  for (int64_t p0 = 0; p0 < kc; p0 += 16) {
    __mmask16 valid = first_lanes(kc - p0);
    __m512 block[16];
    for (int j = 0; j < 16; ++j)
      block[j] = j < count ? _mm512_maskz_loadu_ps(valid, src + j * stride + p0) : _mm512_setzero_ps();
    transpose16x16(block);
    for (int64_t q = 0; q < std::min<int64_t>(16, kc - p0); ++q)
      _mm512_mask_storeu_ps(dst + (p0 + q) * width, lanes, block[q]);
  }
}

// A's rows [0, mc) x columns [0, kc) as slivers of kMr rows, each k-major (kMr values per k), zero-padded.
TG_AVX512 void pack_a(const StridedMatrix& a, int64_t mc, int64_t kc, float* dst) {
  const __mmask16 sliver = first_lanes(kMr);
  for (int64_t i0 = 0; i0 < mc; i0 += kMr, dst += kMr * kc) {
    int64_t rows = std::min<int64_t>(kMr, mc - i0);
    const float* src = a.data + i0 * a.row_stride;
    if (a.col_stride == 1) {
      pack_transposed(src, a.row_stride, rows, kc, dst, kMr, sliver);
    } else if (a.row_stride == 1) {
      for (int64_t p = 0; p < kc; ++p)
        _mm512_mask_storeu_ps(dst + p * kMr, sliver, _mm512_maskz_loadu_ps(first_lanes(rows), src + p * a.col_stride));
    } else {
      for (int64_t p = 0; p < kc; ++p)
        for (int64_t r = 0; r < kMr; ++r) dst[p * kMr + r] = r < rows ? src[r * a.row_stride + p * a.col_stride] : 0.0f;
    }
  }
}

// B's rows [0, kc) x columns [0, nc) as slivers of kNr columns, each k-major (kNr values per k), zero-padded.
TG_AVX512 void pack_b(const StridedMatrix& b, int64_t kc, int64_t nc, float* dst) {
  for (int64_t j0 = 0; j0 < nc; j0 += kNr, dst += kNr * kc) {
    int64_t cols = std::min<int64_t>(kNr, nc - j0);
    const float* src = b.data + j0 * b.col_stride;
    if (b.col_stride == 1) {
      __mmask16 lo = first_lanes(cols), hi = first_lanes(cols - 16);
      for (int64_t p = 0; p < kc; ++p) {
        const float* row = src + p * b.row_stride;
        _mm512_store_ps(dst + p * kNr, _mm512_maskz_loadu_ps(lo, row));
        _mm512_store_ps(dst + p * kNr + 16, _mm512_maskz_loadu_ps(hi, row + 16));
      }
    } else if (b.row_stride == 1) {
      for (int64_t half = 0; half < kNr; half += 16)
        pack_transposed(src + half * b.col_stride, b.col_stride, cols - half, kc, dst + half, kNr, first_lanes(16));
    } else {
      for (int64_t p = 0; p < kc; ++p)
        for (int64_t j = 0; j < kNr; ++j) dst[p * kNr + j] = j < cols ? src[p * b.row_stride + j * b.col_stride] : 0.0f;
    }
  }
}

// c[mr, nr] (+)= a_sliver @ b_sliver over kc: the first k block writes C, later ones add to it. Rows run
// to Rows >= mr: a short last sliver of A (C with 16 or 32 rows) takes a narrower kernel, not all 12 rows.
template <int Rows>
TG_AVX512 void micro_kernel(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int mr, int nr,
                            bool accumulate) {
  __m512 acc[Rows][2];
#pragma GCC unroll 12
  for (int r = 0; r < Rows; ++r) {
    acc[r][0] = _mm512_setzero_ps();
    acc[r][1] = _mm512_setzero_ps();
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + r * ldc + 16), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int64_t p = 0; p < kc; ++p) {
    __m512 b0 = _mm512_load_ps(b + p * kNr);
    __m512 b1 = _mm512_load_ps(b + p * kNr + 16);
#pragma GCC unroll 12
    for (int r = 0; r < Rows; ++r) {
      __m512 av = _mm512_set1_ps(a[p * kMr + r]);
      acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
    }
  }
  __mmask16 lo = first_lanes(nr), hi = first_lanes(nr - 16);
#pragma GCC unroll 12
  for (int r = 0; r < Rows; ++r) {
    if (r >= mr) break;
    float* row = c + r * ldc;
    __m512 v0 = acc[r][0], v1 = acc[r][1];
    if (accumulate) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(lo, row));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(hi, row + 16));
    }
    _mm512_mask_storeu_ps(row, lo, v0);
    _mm512_mask_storeu_ps(row + 16, hi, v1);
  }
}

// C's rows [0, m) and columns [0, n) of a @ b, added to C with `accumulate`, on this thread.
TG_AVX512 void sgemm_block(int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c, int64_t ldc,
                           bool accumulate) {
  int64_t kc_max = std::min(k, kKc);
  float* packed_a = packed_a_buffer.get((std::min(m, kMc) + kMr) * kc_max);
  float* packed_b = packed_b_buffer.get((std::min(n, kNc) + kNr) * kc_max);
  for (int64_t jc = 0; jc < n; jc += kNc) {
    int64_t nc = std::min(kNc, n - jc);
    for (int64_t pc = 0; pc < k; pc += kKc) {
      int64_t kc = std::min(kKc, k - pc);
      pack_b({b.data + pc * b.row_stride + jc * b.col_stride, b.row_stride, b.col_stride}, kc, nc, packed_b);
      for (int64_t ic = 0; ic < m; ic += kMc) {
        int64_t mc = std::min(kMc, m - ic);
        pack_a({a.data + ic * a.row_stride + pc * a.col_stride, a.row_stride, a.col_stride}, mc, kc, packed_a);
        for (int64_t jr = 0; jr < nc; jr += kNr) {
          const float* b_sliver = packed_b + jr * kc;
          for (int64_t ir = 0; ir < mc; ir += kMr) {
            const int mr = static_cast<int>(std::min<int64_t>(kMr, mc - ir));
            const auto kernel = mr > 8 ? micro_kernel<kMr> : mr > 4 ? micro_kernel<8> : micro_kernel<4>;
            kernel(kc, packed_a + ir * kc, b_sliver, c + (ic + ir) * ldc + jc + jr, ldc, mr,
                   static_cast<int>(std::min<int64_t>(kNr, nc - jr)), accumulate || pc > 0);
          }
        }
      }
    }
  }
}

}  // namespace

// Measured against OpenBLAS's AVX2 kernels: this GEMM wins from 4 rows and 16 columns of C, at any k;
// below, most lanes of its 12 x 32 tiles would go unused (OpenBLAS does 1 x n and m x 10 better).
bool sgemm_preferred(int64_t m, int64_t n, int64_t k) {
  return vec::simd_level() == vec::SimdLevel::Avx512 && m >= 4 && n >= 16;
}

void sgemm(int64_t batch, int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c,
           bool accumulate) {
  // Threads take whole micro-tiles of the longer side of C, each packing its own share of that operand. The
  // batch's tiles form one range, so many small products share the threads as well as one large one.
  bool split_rows = m >= n;
  int64_t unit = split_rows ? kMr : kNr;
  int64_t units = ((split_rows ? m : n) + unit - 1) / unit;
  int64_t flops_per_unit = 2 * unit * (split_rows ? n : m) * k;
  parallel_for(batch * units, (kMinFlopsPerThread + flops_per_unit - 1) / flops_per_unit,
               [&](int64_t begin, int64_t end) {
    for (int64_t t = begin / units; t * units < end; ++t) {
      int64_t first = t * units;
      int64_t lo = (std::max(begin, first) - first) * unit, hi = std::min((std::min(end, first + units) - first) * unit,
                                                                           split_rows ? m : n);
      const float* a_t = a.data + t * a.batch_stride;
      const float* b_t = b.data + t * b.batch_stride;
      float* c_t = c + t * m * n;
      if (split_rows)
        sgemm_block(hi - lo, n, k, {a_t + lo * a.row_stride, a.row_stride, a.col_stride}, {b_t, b.row_stride, b.col_stride},
                    c_t + lo * n, n, accumulate);
      else
        sgemm_block(m, hi - lo, k, {a_t, a.row_stride, a.col_stride}, {b_t + lo * b.col_stride, b.row_stride, b.col_stride},
                    c_t + lo, n, accumulate);
    }
  });
}

void sgemm_serial(int64_t m, int64_t n, int64_t k, StridedMatrix a, StridedMatrix b, float* c, bool accumulate) {
  sgemm_block(m, n, k, a, b, c, n, accumulate);
}

#else

bool sgemm_preferred(int64_t, int64_t, int64_t) { return false; }
void sgemm(int64_t, int64_t, int64_t, int64_t, StridedMatrix, StridedMatrix, float*, bool) {}
void sgemm_serial(int64_t, int64_t, int64_t, StridedMatrix, StridedMatrix, float*, bool) {}

#endif

}  // namespace tg::cpu
