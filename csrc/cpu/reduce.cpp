#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>
#include "cpu/cpu_backend.h"
#include "cpu/loops.h"
#include "cpu/simd.h"
#include "cpu/vec_math.h"

namespace tg::cpu {

namespace {

// `t` viewed with `dim` shrunk to one element: walking it visits the start of every row along dim.
Tensor row_starts(const Tensor& t, int64_t dim) {
  DimVec sizes = t.sizes();
  sizes[dim] = 1;
  return make_view(t, sizes, t.strides(), t.offset());
}

// `out` (keepdim shape) seen with the input's shape: reduced dims get stride 0.
Tensor broadcast_view(const Tensor& out, const Tensor& in) {
  DimVec strides = out.strides();
  for (size_t d = 0; d < strides.size(); ++d)
    if (out.sizes()[d] == 1 && in.sizes()[d] != 1) strides[d] = 0;
  return make_view(out, in.sizes(), strides, out.offset());
}

template <typename T> using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

// The combining step of each reduction, in the accumulator type A.
template <typename A>
TG_ALWAYS_INLINE A combine(ReduceOp op, A a, A x) {
  switch (op) {
    case ReduceOp::Sum: return a + x;
    case ReduceOp::Prod: return a * x;
    case ReduceOp::Any: return A(a || x);
    case ReduceOp::All: return A(a && x);
    case ReduceOp::Max: case ReduceOp::Min: {
      // A NaN on either side wins; written as one compare and a blend so the loops vectorise.
      bool keep_a = op == ReduceOp::Max ? a > x : a < x;
      if constexpr (std::is_floating_point_v<A>) keep_a = keep_a || std::isnan(a);
      return keep_a ? a : x;
    }
  }
  return a;
}

// Sums and products accumulate in a wider type; max and min stay in the input's type.
template <typename T, ReduceOp Op>
using FastAcc = std::conditional_t<Op == ReduceOp::Max || Op == ReduceOp::Min, T, Acc<T>>;

// A contiguous input seen as [outer, len, inner] with the middle reduced: every single-dim reduction
// and any reduction of adjacent dims. Returns false for other layouts.
bool as_outer_len_inner(const Tensor& out, const Tensor& in, int64_t& outer, int64_t& len, int64_t& inner) {
  if (!in.is_contiguous() || !out.is_contiguous() || in.dtype() != out.dtype()) return false;
  const DimVec& sizes = in.sizes();
  auto reduced = [&](int64_t d) { return out.sizes()[d] == 1 && sizes[d] != 1; };
  int64_t first = -1, last = -1;
  for (int64_t d = 0; d < in.dim(); ++d)
    if (reduced(d)) {
      if (first < 0) first = d;
      last = d;
    }
  for (int64_t d = first + 1; d < last; ++d)
    if (!reduced(d) && sizes[d] != 1) return false;
  if (first < 0) return false;
  outer = len = inner = 1;
  for (int64_t d = 0; d < in.dim(); ++d) (d < first ? outer : d <= last ? len : inner) *= sizes[d];
  return true;
}

// Max and min over GCC vector types: the scalar NaN-propagating form does not vectorise, so each step
// is a compare and a blend, with NaNs tracked in a separate mask and put back at the end.
template <ReduceOp Op, typename V, typename Mask>
TG_ALWAYS_INLINE V max_min_step(V m, V v, Mask& nan) {
  nan |= v != v;
  return Op == ReduceOp::Max ? (v > m ? v : m) : (v < m ? v : m);
}

template <typename T, typename V, typename Mask>
TG_ALWAYS_INLINE void store_with_nans(T* dst, V m, Mask nan, int64_t lanes) {
  for (int64_t j = 0; j < lanes; ++j) dst[j] = nan[j] ? std::numeric_limits<T>::quiet_NaN() : m[j];
}

template <typename T>
constexpr bool kVectorMaxMin = std::is_arithmetic_v<T> && !std::is_same_v<T, bool>;

// Row reductions of inputs above a last-level cache's size read memory: a software prefetch kPrefetchBytes
// ahead keeps more lines in flight than the hardware prefetcher alone (amax(1) of a 4096x4096 float32 on
// one thread: 2.4 to 1.6 ms). On cache-resident input the prefetches only cost, so smaller inputs go without.
constexpr int64_t kStreamBytes = int64_t(32) << 20;
constexpr int64_t kPrefetchBytes = 8192;

template <bool Stream, typename T>
TG_ALWAYS_INLINE void prefetch_ahead(const T* p) {
  if constexpr (Stream) __builtin_prefetch(reinterpret_cast<const char*>(p) + kPrefetchBytes);
}

// Floating sums of a contiguous run in double. Four vector accumulators hide the add latency; float lanes
// add at most 30 steps and the four are then combined pairwise before widening, so a float partial goes
// through at most 31 roundings.
template <bool Stream, typename T>
TG_ALWAYS_INLINE double sum_run_floating(const T* x, int64_t n) {
  constexpr int64_t kLanes = 64 / sizeof(T), kStep = 4 * kLanes;
  typedef T V __attribute__((vector_size(64)));
  typedef double D __attribute__((vector_size(64)));
  // Vectors go through memory-typed locals: no function here takes or returns one (their ABI differs
  // between the ISA levels this is compiled for).
  V acc[4], v;
  D wide = {};
  int64_t i = 0;
  if constexpr (std::is_same_v<T, float>) {
    while (n - i >= kStep) {
      const int64_t steps = std::min<int64_t>(30, (n - i) / kStep);
      __builtin_memcpy(acc, x + i, sizeof(acc));
      for (int64_t s = 1; s < steps; ++s)
        for (int k = 0; k < 4; ++k) {
          prefetch_ahead<Stream>(x + i + s * kStep + k * kLanes);
          __builtin_memcpy(&v, x + i + s * kStep + k * kLanes, sizeof(V));
          acc[k] += v;
        }
      i += steps * kStep;
      v = (acc[0] + acc[1]) + (acc[2] + acc[3]);
      wide += __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7), D) +
              __builtin_convertvector(__builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15), D);
    }
    for (; i + kLanes <= n; i += kLanes) {
      __builtin_memcpy(&v, x + i, sizeof(V));
      wide += __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3, 4, 5, 6, 7), D) +
              __builtin_convertvector(__builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15), D);
    }
  } else {
    if (n >= kStep) {
      __builtin_memcpy(acc, x, sizeof(acc));
      for (i = kStep; i + kStep <= n; i += kStep)
        for (int k = 0; k < 4; ++k) {
          prefetch_ahead<Stream>(x + i + k * kLanes);
          __builtin_memcpy(&v, x + i + k * kLanes, sizeof(V));
          acc[k] += v;
        }
      wide = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    }
    for (; i + kLanes <= n; i += kLanes) {
      __builtin_memcpy(&v, x + i, sizeof(V));
      wide += v;
    }
  }
  double total = ((wide[0] + wide[4]) + (wide[2] + wide[6])) + ((wide[1] + wide[5]) + (wide[3] + wide[7]));
  for (; i < n; ++i) total += x[i];
  return total;
}

// Reduces a contiguous run with independent lanes, so the loop vectorises despite FP ordering.
template <typename A, ReduceOp Op, bool Stream, typename T>
TG_ALWAYS_INLINE A reduce_run_inline(const T* x, int64_t n) {
  if constexpr (Op == ReduceOp::Sum && std::is_floating_point_v<T>) {
    return sum_run_floating<Stream>(x, n);
  } else {
    constexpr int64_t kLanes = 16;
    A acc = static_cast<A>(x[0]);
    int64_t i = 1;
    if (n >= 2 * kLanes) {
      A lanes[kLanes];
      for (int64_t j = 0; j < kLanes; ++j) lanes[j] = static_cast<A>(x[j]);
      i = kLanes;
      if constexpr ((Op == ReduceOp::Max || Op == ReduceOp::Min) && kVectorMaxMin<T>) {
        // Four independent accumulators: one would wait on each compare and blend before the next.
        typedef T V __attribute__((vector_size(kLanes * sizeof(T))));
        V m[4], v;
        __builtin_memcpy(&m[0], x, sizeof(V));
        m[1] = m[2] = m[3] = m[0];
        auto nan = m[0] != m[0];
        decltype(nan) nans[4] = {nan, nan, nan, nan};
        for (; i + 4 * kLanes <= n; i += 4 * kLanes)
          for (int k = 0; k < 4; ++k) {
            prefetch_ahead<Stream>(x + i + k * kLanes);
            __builtin_memcpy(&v, x + i + k * kLanes, sizeof(V));
            m[k] = max_min_step<Op>(m[k], v, nans[k]);
          }
        for (; i + kLanes <= n; i += kLanes) {
          __builtin_memcpy(&v, x + i, sizeof(V));
          m[0] = max_min_step<Op>(m[0], v, nans[0]);
        }
        for (int k = 1; k < 4; ++k) {
          m[0] = max_min_step<Op>(m[0], m[k], nans[0]);
          nans[0] |= nans[k];
        }
        store_with_nans(lanes, m[0], nans[0], kLanes);
      }
      for (; i + kLanes <= n; i += kLanes)
        for (int64_t j = 0; j < kLanes; ++j) lanes[j] = combine<A>(Op, lanes[j], static_cast<A>(x[i + j]));
      acc = lanes[0];
      for (int64_t j = 1; j < kLanes; ++j) acc = combine<A>(Op, acc, lanes[j]);
    }
    for (; i < n; ++i) acc = combine<A>(Op, acc, static_cast<A>(x[i]));
    return acc;
  }
}

// Column reductions work on units of up to kColumnWidth columns by kColumnRows rows: a unit of full
// rows reads memory as one stream, and its accumulators stay in L1.
constexpr int64_t kColumnWidth = 4096;
constexpr int64_t kColumnRows = 256;

// acc[j] = x[0, j] (op) x[1, j] (op) ... over `rows` rows `inner` apart. Sums and max/min take rows four at
// a time, so that each pass over the accumulators consumes four rows; float sums add in double.
template <typename A, ReduceOp Op, typename T>
TG_ALWAYS_INLINE void reduce_columns_inline(A* acc, const T* x, int64_t rows, int64_t inner, int64_t width) {
  for (int64_t j = 0; j < width; ++j) acc[j] = static_cast<A>(x[j]);
  int64_t r = 1;
  for (; r + 4 <= rows; r += 4) {
    const T *a = x + r * inner, *b = a + inner, *c = b + inner, *d = c + inner;
    if constexpr (Op == ReduceOp::Sum && std::is_floating_point_v<T>) {
      for (int64_t j = 0; j < width; ++j) acc[j] += (A(a[j]) + A(b[j])) + (A(c[j]) + A(d[j]));
    } else if constexpr ((Op == ReduceOp::Max || Op == ReduceOp::Min) && kVectorMaxMin<T>) {
      constexpr int64_t kLanes = 64 / sizeof(T);
      typedef T V __attribute__((vector_size(64)));
      int64_t j = 0;
      for (; j + kLanes <= width; j += kLanes) {
        V m;
        __builtin_memcpy(&m, acc + j, sizeof(V));
        auto nan = m != m;
        for (const T* row : {a, b, c, d}) {
          V v;
          __builtin_memcpy(&v, row + j, sizeof(V));
          m = max_min_step<Op>(m, v, nan);
        }
        m = nan ? m + std::numeric_limits<T>::quiet_NaN() : m;  // a NaN lane stays NaN
        __builtin_memcpy(acc + j, &m, sizeof(V));
      }
      for (; j < width; ++j)
        acc[j] = combine<A>(Op, combine<A>(Op, combine<A>(Op, combine<A>(Op, acc[j], a[j]), b[j]), c[j]), d[j]);
    } else {
      break;
    }
  }
  for (; r < rows; ++r) {
    const T* xr = x + r * inner;
    for (int64_t j = 0; j < width; ++j) acc[j] = combine<A>(Op, acc[j], static_cast<A>(xr[j]));
  }
}

// The two loops above in the version compiled for this CPU; `stream` asks for prefetching where the loop
// has it (floating sums, max and min).
template <typename A, ReduceOp Op, typename T>
A reduce_run(const T* x, int64_t n, bool stream) {
  constexpr bool kPrefetches = (Op == ReduceOp::Sum && std::is_floating_point_v<T>) ||
                               ((Op == ReduceOp::Max || Op == ReduceOp::Min) && kVectorMaxMin<T>);
  if constexpr (kPrefetches)
    if (stream) return vec::simd_call([&]() TG_INLINE_LAMBDA { return reduce_run_inline<A, Op, true>(x, n); });
  return vec::simd_call([&]() TG_INLINE_LAMBDA { return reduce_run_inline<A, Op, false>(x, n); });
}

template <typename A, ReduceOp Op, typename T>
void reduce_columns(A* acc, const T* x, int64_t rows, int64_t inner, int64_t width) {
  vec::simd_call([&]() TG_INLINE_LAMBDA { reduce_columns_inline<A, Op>(acc, x, rows, inner, width); });
}

// Work is cut into pieces whose bounds do not depend on the thread count, so results are the same
// bit for bit whatever set_num_threads says.
constexpr int64_t kReduceChunk = 16384;

// Reductions split across the pool above this many elements: PyTorch's grain. A reduction's pieces
// are much longer than the pool's hand-off, which the back-to-back kernels of a step find spinning.
constexpr int64_t kReduceGrain = 32768;

// A row reduced in kReduceChunk pieces combined in order, as the few-long-rows path below computes it.
template <typename A, ReduceOp Op, typename T>
A reduce_row(const T* row, int64_t len, bool stream) {
  if (len < 2 * kReduceChunk) return reduce_run<A, Op>(row, len, stream);
  A acc = reduce_run<A, Op>(row, kReduceChunk, stream);
  for (int64_t start = kReduceChunk; start < len; start += kReduceChunk)
    acc = combine<A>(Op, acc, reduce_run<A, Op>(row + start, std::min(kReduceChunk, len - start), stream));
  return acc;
}

template <typename T, ReduceOp Op>
void reduce_outer_len_inner(T* out, const T* in, int64_t outer, int64_t len, int64_t inner) {
  using A = FastAcc<T, Op>;
  const bool stream = outer * len * inner * static_cast<int64_t>(sizeof(T)) > kStreamBytes;
  if (inner == 1 && outer < num_threads() && len >= 2 * kReduceChunk) {
    // Few long rows: the chunks of each row split across the pool.
    int64_t chunks = (len + kReduceChunk - 1) / kReduceChunk;
    std::vector<A> partial(chunks);
    for (int64_t o = 0; o < outer; ++o) {
      const T* row = in + o * len;
      parallel_for(chunks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c) {
          const int64_t start = c * kReduceChunk;
          partial[c] = reduce_run<A, Op>(row + start, std::min(kReduceChunk, len - start), stream);
        }
      });
      A acc = partial[0];
      for (int64_t c = 1; c < chunks; ++c) acc = combine<A>(Op, acc, partial[c]);
      out[o] = static_cast<T>(acc);
    }
  } else if (inner == 1) {
    parallel_for(outer, std::max<int64_t>(1, kReduceGrain / len), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) out[o] = static_cast<T>(reduce_row<A, Op>(in + o * len, len, stream));
    });
  } else {
    // Columns: units of rows by columns, each reduced on its own; with several row chunks the units'
    // results are combined in chunk order.
    const int64_t blocks = (inner + kColumnWidth - 1) / kColumnWidth;
    const int64_t chunks = (len + kColumnRows - 1) / kColumnRows;
    const int64_t width = std::min(inner, kColumnWidth), rows = std::min(len, kColumnRows);
    std::vector<A> partial(chunks > 1 ? outer * chunks * inner : 0);
    parallel_for(outer * chunks * blocks, std::max<int64_t>(1, kReduceGrain / (rows * width)),
                 [&](int64_t begin, int64_t end) {
      A acc[kColumnWidth];
      for (int64_t unit = begin; unit < end; ++unit) {
        const int64_t o = unit / (chunks * blocks), c = unit / blocks % chunks, j0 = unit % blocks * kColumnWidth;
        const int64_t w = std::min(kColumnWidth, inner - j0), r0 = c * kColumnRows;
        reduce_columns<A, Op>(acc, in + (o * len + r0) * inner + j0, std::min(kColumnRows, len - r0), inner, w);
        if (chunks > 1) {
          std::copy(acc, acc + w, partial.begin() + (o * chunks + c) * inner + j0);
        } else {
          T* dst = out + o * inner + j0;
          for (int64_t j = 0; j < w; ++j) dst[j] = static_cast<T>(acc[j]);
        }
      }
    });
    if (chunks > 1) {
      for (int64_t o = 0; o < outer; ++o) {
        const A* first = partial.data() + o * chunks * inner;
        vec::simd_for(inner, [&](int64_t j) TG_INLINE_LAMBDA {
          A total = first[j];
          for (int64_t c = 1; c < chunks; ++c) total = combine<A>(Op, total, first[c * inner + j]);
          out[o * inner + j] = static_cast<T>(total);
        });
      }
    }
  }
}

template <typename T>
bool reduce_fast(ReduceOp op, const Tensor& out, const Tensor& in) {
  int64_t outer, len, inner;
  if (!as_outer_len_inner(out, in, outer, len, inner)) return false;
  T* o = out.data<T>();
  const T* x = in.data<T>();
  switch (op) {
    case ReduceOp::Sum: reduce_outer_len_inner<T, ReduceOp::Sum>(o, x, outer, len, inner); break;
    case ReduceOp::Prod: reduce_outer_len_inner<T, ReduceOp::Prod>(o, x, outer, len, inner); break;
    case ReduceOp::Max: reduce_outer_len_inner<T, ReduceOp::Max>(o, x, outer, len, inner); break;
    case ReduceOp::Min: reduce_outer_len_inner<T, ReduceOp::Min>(o, x, outer, len, inner); break;
    case ReduceOp::Any: reduce_outer_len_inner<T, ReduceOp::Any>(o, x, outer, len, inner); break;
    case ReduceOp::All: reduce_outer_len_inner<T, ReduceOp::All>(o, x, outer, len, inner); break;
  }
  return true;
}

// Any layout: a serial walk accumulating into a wider-typed copy of out seen with in's shape.
template <typename T>
void reduce_strided(ReduceOp op, const Tensor& out, const Tensor& in) {
  using A = Acc<T>;
  // Accumulate in a wider type, then write back in out's dtype.
  ScalarType acc_type = std::is_floating_point_v<T> ? ScalarType::Float64 : ScalarType::Int64;
  bool is_min_max = op == ReduceOp::Max || op == ReduceOp::Min;
  Tensor acc = empty(out.sizes(), is_min_max ? in.dtype() : acc_type);
  CpuBackend backend;
  switch (op) {
    case ReduceOp::Sum: case ReduceOp::Any: backend.fill(acc, Scalar(int64_t(0))); break;
    case ReduceOp::Prod: case ReduceOp::All: backend.fill(acc, Scalar(int64_t(1))); break;
    case ReduceOp::Max: case ReduceOp::Min: {
      // Seed with the first element along the reduced dims.
      Tensor first = in;
      for (int64_t d = 0; d < in.dim(); ++d)
        if (out.sizes()[d] == 1 && in.sizes()[d] != 1) first = make_view(first, [&] {
            DimVec s = first.sizes(); s[d] = 1; return s; }(), first.strides(), first.offset());
      backend.copy(acc, first);
      break;
    }
  }
  Tensor accv = broadcast_view(acc, in);
  auto run = [&](auto f) {
    for_each_run<2>(in.sizes(), operands_of<2>({&accv, &in}), [&](auto p, auto s, int64_t n) {
      if (is_min_max) {
        T* a = reinterpret_cast<T*>(p[0]);
        const T* x = reinterpret_cast<const T*>(p[1]);
        for (int64_t i = 0; i < n; ++i) a[i * s[0]] = f(a[i * s[0]], x[i * s[1]]);
      } else {
        A* a = reinterpret_cast<A*>(p[0]);
        const T* x = reinterpret_cast<const T*>(p[1]);
        if (s[0] == 0) {
          A total = *a;
          for (int64_t i = 0; i < n; ++i) total = f(total, static_cast<A>(x[i * s[1]]));
          *a = total;
        } else {
          for (int64_t i = 0; i < n; ++i) a[i * s[0]] = f(a[i * s[0]], static_cast<A>(x[i * s[1]]));
        }
      }
    });
  };
  run([op](auto a, auto x) { return combine<decltype(a)>(op, a, x); });
  backend.copy(out, acc);
}

}  // namespace

void CpuBackend::reduce(ReduceOp op, const Tensor& out, const Tensor& in, const DimVec& dims) {
  (void)dims;  // out's keepdim shape already says which dims are reduced; ops never send an empty max/min
  dispatch_all(in.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool>) {
      Tensor as_int = empty(in.sizes(), ScalarType::Int64);
      copy(as_int, in);
      reduce_strided<int64_t>(op, out, as_int);
    } else if (!reduce_fast<T>(op, out, in)) {
      reduce_strided<T>(op, out, in);
    }
  });
}

void CpuBackend::arg_reduce(ArgReduceOp op, const Tensor& values, const Tensor& indices, const Tensor& in,
                            int64_t dim) {
  int64_t len = in.sizes()[dim];
  int64_t stride = in.strides()[dim];
  Tensor rows = row_starts(in, dim);
  dispatch_all(in.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    parallel_for_each_run<3>(rows.sizes(), operands_of<3>({&values, &indices, &rows}), rows_per_grain(len), [&](auto p, auto s, int64_t n) {
      T* v = reinterpret_cast<T*>(p[0]);
      int64_t* idx = reinterpret_cast<int64_t*>(p[1]);
      const T* x = reinterpret_cast<const T*>(p[2]);
      for (int64_t i = 0; i < n; ++i) {
        const T* row = x + i * s[2];
        T best = row[0];
        int64_t best_k = 0;
        for (int64_t k = 1; k < len; ++k) {
          T cur = row[k * stride];
          bool take;
          if constexpr (std::is_floating_point_v<T>) {
            if (std::isnan(best)) break;  // the first NaN wins
            take = std::isnan(cur) || (op == ArgReduceOp::Max ? cur > best : cur < best);
          } else {
            take = op == ArgReduceOp::Max ? cur > best : cur < best;
          }
          if (take) { best = cur; best_k = k; }
        }
        v[i * s[0]] = best;
        idx[i * s[1]] = best_k;
      }
    });
  });
}

namespace {

// max over a row (NaN ignored, as std::max does) with four vectors of lanes, so that the comparisons do
// not wait on each other; the last vector is read again for the row's tail, which max does not mind.
template <typename T>
TG_ALWAYS_INLINE T row_max(const T* x, int64_t n) {
  constexpr int64_t kLanes = 64 / sizeof(T);
  typedef T V __attribute__((vector_size(64)));
  T m = -std::numeric_limits<T>::infinity();
  if (n < kLanes) {
    for (int64_t i = 0; i < n; ++i) m = std::max(m, x[i]);
    return m;
  }
  V acc[4], v;
  __builtin_memcpy(&acc[0], x, sizeof(V));
  acc[1] = acc[2] = acc[3] = acc[0];
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes)
    for (int k = 0; k < 4; ++k) {
      __builtin_memcpy(&v, x + i + k * kLanes, sizeof(V));
      acc[k] = acc[k] < v ? v : acc[k];
    }
  for (; i + kLanes <= n; i += kLanes) {
    __builtin_memcpy(&v, x + i, sizeof(V));
    acc[0] = acc[0] < v ? v : acc[0];
  }
  __builtin_memcpy(&v, x + n - kLanes, sizeof(V));
  acc[1] = acc[1] < v ? v : acc[1];
  acc[0] = acc[0] < acc[1] ? acc[1] : acc[0];
  acc[2] = acc[2] < acc[3] ? acc[3] : acc[2];
  acc[0] = acc[0] < acc[2] ? acc[2] : acc[0];
  for (int64_t j = 0; j < kLanes; ++j) m = std::max(m, acc[0][j]);
  return m;
}

// softmax or log_softmax of one contiguous row, y may be x, in the caller's ISA (inside vec::simd_call).
// The exponentials are summed in double.
template <typename T>
TG_ALWAYS_INLINE void softmax_row(const T* x, T* y, int64_t len, bool log) {
  // An infinite maximum is subtracted as is: the row becomes nan, as in PyTorch.
  const T max_v = row_max(x, len);
  auto shifted_exp = [max_v](T v) TG_INLINE_LAMBDA { return vec::exp(v - max_v); };
  auto sum = [](const T* e, int64_t n) TG_INLINE_LAMBDA {
    return vec::row_sum(n, [e](int64_t k) TG_INLINE_LAMBDA { return double(e[k]); });
  };
  if (log) {
    // y may be x, which the last pass still needs, so the exponentials go through a small buffer.
    constexpr int64_t kChunk = 256;
    T chunk[kChunk];
    double total = 0;
    for (int64_t start = 0; start < len; start += kChunk) {
      int64_t n = std::min(kChunk, len - start);
      vec::map_inline(x + start, chunk, n, shifted_exp);
      total += sum(chunk, n);
    }
    const T log_total = static_cast<T>(std::log(total));
    vec::map_inline(x, y, len, [=](T v) TG_INLINE_LAMBDA { return v - max_v - log_total; });
  } else {
    vec::map_inline(x, y, len, shifted_exp);
    const double inv_total = 1.0 / sum(y, len);
    vec::map_inline(y, y, len, [=](T v) TG_INLINE_LAMBDA { return static_cast<T>(v * inv_total); });
  }
}

// One row of softmax's (or log_softmax's) backward in double; kUnit: every stride is 1, so the loops
// vectorise.
template <bool kUnit, typename T>
TG_ALWAYS_INLINE void softmax_backward_row(T* gi, const T* go, const T* y, int64_t len, int64_t gi_s, int64_t go_s,
                                           int64_t o_s, bool log) {
  if constexpr (kUnit) gi_s = go_s = o_s = 1;
  if (log) {
    // d/dx log_softmax: g - exp(y) * sum(g)
    const double total = vec::row_sum(len, [=](int64_t k) TG_INLINE_LAMBDA { return double(go[k * go_s]); });
    // The exponentials go through a small buffer: a loop mixing exp in T with the double update does not
    // vectorise.
    constexpr int64_t kChunk = 256;
    T e[kChunk];
    for (int64_t start = 0; start < len; start += kChunk) {
      const int64_t n = std::min(kChunk, len - start);
      for (int64_t k = 0; k < n; ++k) e[k] = vec::exp(y[(start + k) * o_s]);
      for (int64_t k = 0; k < n; ++k)
        gi[(start + k) * gi_s] = static_cast<T>(go[(start + k) * go_s] - double(e[k]) * total);
    }
  } else {
    // d/dx softmax: y * (g - sum(g * y))
    const double dot =
        vec::row_sum(len, [=](int64_t k) TG_INLINE_LAMBDA { return double(go[k * go_s]) * y[k * o_s]; });
    for (int64_t k = 0; k < len; ++k) gi[k * gi_s] = static_cast<T>(y[k * o_s] * (go[k * go_s] - dot));
  }
}

// Softmax rows split by rows from 16K elements: an exponential and a few passes make an element several
// times an elementwise op's work.
constexpr int64_t kSoftmaxGrain = 16384;
int64_t softmax_grain(int64_t row_length) { return std::max<int64_t>(1, kSoftmaxGrain / std::max<int64_t>(row_length, 1)); }

// Softmax along a middle dim of contiguous [outer, len, inner] tensors (log_softmax over classes at dim 1 of
// [N, C, L] logits): the inner positions are the vector lanes, each reduced over len in order (as
// softmax_row does rows shorter than row_sum's lanes), in blocks of up to kSoftmaxWidth positions.
constexpr int64_t kSoftmaxWidth = 256;

struct SoftmaxColumns {
  int64_t outer, len, inner, blocks;
  SoftmaxColumns(const Tensor& t, int64_t dim) : outer(1), len(t.sizes()[dim]), inner(1) {
    for (int64_t d = 0; d < dim; ++d) outer *= t.sizes()[d];
    for (int64_t d = dim + 1; d < t.dim(); ++d) inner *= t.sizes()[d];
    blocks = (inner + kSoftmaxWidth - 1) / kSoftmaxWidth;
  }
  // Whether dim is not the last that counts and the outputs are contiguous (the inputs are made so).
  static bool applies(std::initializer_list<const Tensor*> outputs, int64_t dim) {
    int64_t inner = 1;
    for (int64_t d = dim + 1; d < outputs.begin()[0]->dim(); ++d) inner *= outputs.begin()[0]->sizes()[d];
    for (const Tensor* t : outputs)
      if (!t->is_contiguous()) return false;
    return inner > 1;
  }
  // f(offset of the block's first element, its width) for each block, across the pool.
  template <typename F>
  void for_each_block(F f) const {
    const int64_t block_size = len * std::min(inner, kSoftmaxWidth);
    parallel_for(outer * blocks, std::max<int64_t>(1, kSoftmaxGrain / std::max<int64_t>(block_size, 1)),
                 [&](int64_t begin, int64_t end) {
      vec::simd_call([&]() TG_INLINE_LAMBDA {
        for (int64_t unit = begin; unit < end; ++unit) {
          const int64_t j0 = unit % blocks * kSoftmaxWidth;
          f(unit / blocks * len * inner + j0, std::min(kSoftmaxWidth, inner - j0));
        }
      });
    });
  }
};

template <typename T>
void softmax_columns(T* y, const T* x, const SoftmaxColumns& c, bool log) {
  c.for_each_block([&](int64_t at, int64_t width) TG_INLINE_LAMBDA {
    T max_v[kSoftmaxWidth];
    double total[kSoftmaxWidth];
    const T* xs = x + at;
    T* ys = y + at;
    for (int64_t j = 0; j < width; ++j) {
      max_v[j] = -std::numeric_limits<T>::infinity();
      total[j] = 0;
    }
    for (int64_t k = 0; k < c.len; ++k)
      for (int64_t j = 0; j < width; ++j) max_v[j] = max_v[j] < xs[k * c.inner + j] ? xs[k * c.inner + j] : max_v[j];
    if (log) {
      for (int64_t k = 0; k < c.len; ++k)
        for (int64_t j = 0; j < width; ++j) total[j] += double(vec::exp(xs[k * c.inner + j] - max_v[j]));
      T log_total[kSoftmaxWidth];
      for (int64_t j = 0; j < width; ++j) log_total[j] = static_cast<T>(std::log(total[j]));
      for (int64_t k = 0; k < c.len; ++k)
        for (int64_t j = 0; j < width; ++j) ys[k * c.inner + j] = xs[k * c.inner + j] - max_v[j] - log_total[j];
    } else {
      for (int64_t k = 0; k < c.len; ++k)
        for (int64_t j = 0; j < width; ++j) {
          const T e = vec::exp(xs[k * c.inner + j] - max_v[j]);
          ys[k * c.inner + j] = e;
          total[j] += double(e);
        }
      for (int64_t j = 0; j < width; ++j) total[j] = 1.0 / total[j];
      for (int64_t k = 0; k < c.len; ++k)
        for (int64_t j = 0; j < width; ++j) ys[k * c.inner + j] = static_cast<T>(ys[k * c.inner + j] * total[j]);
    }
  });
}

// softmax_backward_row's formulas in the same layout.
template <typename T>
void softmax_backward_columns(T* gi, const T* go, const T* y, const SoftmaxColumns& c, bool log) {
  c.for_each_block([&](int64_t at, int64_t width) TG_INLINE_LAMBDA {
    double total[kSoftmaxWidth];
    for (int64_t j = 0; j < width; ++j) total[j] = 0;
    for (int64_t k = 0; k < c.len; ++k) {
      const int64_t row = at + k * c.inner;
      for (int64_t j = 0; j < width; ++j) total[j] += log ? double(go[row + j]) : double(go[row + j]) * y[row + j];
    }
    for (int64_t k = 0; k < c.len; ++k) {
      const int64_t row = at + k * c.inner;
      if (log) {
        for (int64_t j = 0; j < width; ++j)
          gi[row + j] = static_cast<T>(go[row + j] - double(vec::exp(y[row + j])) * total[j]);
      } else {
        for (int64_t j = 0; j < width; ++j) gi[row + j] = static_cast<T>(y[row + j] * (go[row + j] - total[j]));
      }
    }
  });
}

}  // namespace

// t itself when contiguous, else a contiguous copy.
Tensor CpuBackend::contiguous_copy(const Tensor& t) {
  if (t.is_contiguous()) return t;
  Tensor c = empty(t.sizes(), t.dtype(), t.device());
  copy(c, t);
  return c;
}

void CpuBackend::softmax(const Tensor& out, const Tensor& in, int64_t dim, bool log) {
  if (SoftmaxColumns::applies({&out}, dim)) {
    const Tensor x = contiguous_copy(in);
    dispatch_floating(in.dtype(), "softmax", [&](auto tag) {
      using T = typename decltype(tag)::type;
      softmax_columns(out.data<T>(), x.data<T>(), SoftmaxColumns(in, dim), log);
    });
    return;
  }
  int64_t len = in.sizes()[dim];
  int64_t in_stride = in.strides()[dim];
  int64_t out_stride = out.strides()[dim];
  Tensor in_rows = row_starts(in, dim);
  Tensor out_rows = row_starts(out, dim);
  dispatch_floating(in.dtype(), "softmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    parallel_for_each_run<2>(in_rows.sizes(), operands_of<2>({&out_rows, &in_rows}), softmax_grain(len),
                             [&](auto p, auto s, int64_t n) {
      // Rows along a strided dim are gathered into a contiguous buffer and scattered back.
      const bool contiguous = in_stride == 1 && out_stride == 1;
      std::vector<T> buffer(contiguous ? 0 : len);
      vec::simd_call([&]() TG_INLINE_LAMBDA {
        for (int64_t i = 0; i < n; ++i) {
          T* o = reinterpret_cast<T*>(p[0]) + i * s[0];
          const T* x = reinterpret_cast<const T*>(p[1]) + i * s[1];
          if (contiguous) {
            softmax_row(x, o, len, log);
            continue;
          }
          for (int64_t k = 0; k < len; ++k) buffer[k] = x[k * in_stride];
          softmax_row(buffer.data(), buffer.data(), len, log);
          for (int64_t k = 0; k < len; ++k) o[k * out_stride] = buffer[k];
        }
      });
    });
  });
}

void CpuBackend::softmax_backward(const Tensor& grad_in, const Tensor& grad_out, const Tensor& out,
                                  int64_t dim, bool log) {
  if (SoftmaxColumns::applies({&grad_in}, dim)) {
    const Tensor go = contiguous_copy(grad_out), y = contiguous_copy(out);
    dispatch_floating(out.dtype(), "softmax_backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      softmax_backward_columns(grad_in.data<T>(), go.data<T>(), y.data<T>(), SoftmaxColumns(out, dim), log);
    });
    return;
  }
  int64_t len = out.sizes()[dim];
  int64_t gi_s = grad_in.strides()[dim], go_s = grad_out.strides()[dim], o_s = out.strides()[dim];
  Tensor gi_rows = row_starts(grad_in, dim), go_rows = row_starts(grad_out, dim), o_rows = row_starts(out, dim);
  dispatch_floating(out.dtype(), "softmax_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    parallel_for_each_run<3>(o_rows.sizes(), operands_of<3>({&gi_rows, &go_rows, &o_rows}), softmax_grain(len),
                             [&](auto p, auto s, int64_t n) {
      vec::simd_call([&]() TG_INLINE_LAMBDA {
        for (int64_t i = 0; i < n; ++i) {
          T* gi = reinterpret_cast<T*>(p[0]) + i * s[0];
          const T* go = reinterpret_cast<const T*>(p[1]) + i * s[1];
          const T* y = reinterpret_cast<const T*>(p[2]) + i * s[2];
          if (gi_s == 1 && go_s == 1 && o_s == 1) softmax_backward_row<true>(gi, go, y, len, 1, 1, 1, log);
          else softmax_backward_row<false>(gi, go, y, len, gi_s, go_s, o_s, log);
        }
      });
    });
  });
}

}  // namespace tg::cpu
