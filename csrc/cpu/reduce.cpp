#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>
#include "cpu/cpu_backend.h"
#include "cpu/loops.h"
#include "cpu/simd.h"

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

// Row kernels split by rows: enough rows per piece to make kElementwiseGrain elements.
int64_t row_grain(int64_t row_length) { return std::max<int64_t>(1, kElementwiseGrain / std::max<int64_t>(row_length, 1)); }

template <typename T> using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;

// The combining step of each reduction, in the accumulator type A.
template <typename A>
A combine(ReduceOp op, A a, A x) {
  switch (op) {
    case ReduceOp::Sum: return a + x;
    case ReduceOp::Prod: return a * x;
    case ReduceOp::Any: return A(a || x);
    case ReduceOp::All: return A(a && x);
    case ReduceOp::Max: case ReduceOp::Min:
      if constexpr (std::is_floating_point_v<A>)
        if (std::isnan(a) || std::isnan(x)) return std::numeric_limits<A>::quiet_NaN();
      return (op == ReduceOp::Max) == (a > x) ? a : x;
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

// Reduces a contiguous run with independent lanes, so the loop vectorises despite FP ordering.
template <typename A, ReduceOp Op, typename T>
TG_SIMD_CLONES A reduce_run(const T* x, int64_t n) {
  constexpr int64_t kLanes = 16;
  A acc = static_cast<A>(x[0]);
  int64_t i = 1;
  if (n >= 2 * kLanes) {
    A lanes[kLanes];
    for (int64_t j = 0; j < kLanes; ++j) lanes[j] = static_cast<A>(x[j]);
    for (i = kLanes; i + kLanes <= n; i += kLanes)
      for (int64_t j = 0; j < kLanes; ++j) lanes[j] = combine<A>(Op, lanes[j], static_cast<A>(x[i + j]));
    acc = lanes[0];
    for (int64_t j = 1; j < kLanes; ++j) acc = combine<A>(Op, acc, lanes[j]);
  }
  for (; i < n; ++i) acc = combine<A>(Op, acc, static_cast<A>(x[i]));
  return acc;
}

// acc[j] = x[0, j] (op) x[1, j] (op) ... over `len` rows `inner` apart.
template <typename A, ReduceOp Op, typename T>
TG_SIMD_CLONES void reduce_columns(A* acc, const T* x, int64_t len, int64_t inner, int64_t width) {
  for (int64_t j = 0; j < width; ++j) acc[j] = static_cast<A>(x[j]);
  for (int64_t r = 1; r < len; ++r) {
    const T* xr = x + r * inner;
    for (int64_t j = 0; j < width; ++j) acc[j] = combine<A>(Op, acc[j], static_cast<A>(xr[j]));
  }
}

// Work is cut into pieces whose bounds do not depend on the thread count, so results are the same
// bit for bit whatever set_num_threads says.
constexpr int64_t kReduceChunk = 16384;
constexpr int64_t kColumnBlock = 512;

template <typename T, ReduceOp Op>
void reduce_outer_len_inner(T* out, const T* in, int64_t outer, int64_t len, int64_t inner) {
  using A = FastAcc<T, Op>;
  if (inner == 1 && outer < num_threads() && len >= 2 * kReduceChunk) {
    // Few long rows: partial results per chunk, combined in chunk order.
    int64_t chunks = (len + kReduceChunk - 1) / kReduceChunk;
    std::vector<A> partial(chunks);
    for (int64_t o = 0; o < outer; ++o) {
      const T* row = in + o * len;
      parallel_for(chunks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t c = begin; c < end; ++c)
          partial[c] = reduce_run<A, Op>(row + c * kReduceChunk, std::min(kReduceChunk, len - c * kReduceChunk));
      });
      A acc = partial[0];
      for (int64_t c = 1; c < chunks; ++c) acc = combine<A>(Op, acc, partial[c]);
      out[o] = static_cast<T>(acc);
    }
  } else if (inner == 1) {
    parallel_for(outer, std::max<int64_t>(1, kElementwiseGrain / len), [&](int64_t begin, int64_t end) {
      for (int64_t o = begin; o < end; ++o) out[o] = static_cast<T>(reduce_run<A, Op>(in + o * len, len));
    });
  } else {
    // Column sums: a block of accumulators walks down the reduced dim, reading rows contiguously.
    int64_t blocks = (inner + kColumnBlock - 1) / kColumnBlock;
    int64_t grain = std::max<int64_t>(1, kElementwiseGrain / (len * std::min(inner, kColumnBlock)));
    parallel_for(outer * blocks, grain, [&](int64_t begin, int64_t end) {
      A acc[kColumnBlock];
      for (int64_t unit = begin; unit < end; ++unit) {
        int64_t o = unit / blocks, j0 = (unit % blocks) * kColumnBlock;
        int64_t width = std::min(kColumnBlock, inner - j0);
        const T* x = in + o * len * inner + j0;
        reduce_columns<A, Op>(acc, x, len, inner, width);
        T* dst = out + o * inner + j0;
        for (int64_t j = 0; j < width; ++j) dst[j] = static_cast<T>(acc[j]);
      }
    });
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
    parallel_for_each_run<3>(rows.sizes(), operands_of<3>({&values, &indices, &rows}), row_grain(len), [&](auto p, auto s, int64_t n) {
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

void CpuBackend::softmax(const Tensor& out, const Tensor& in, int64_t dim, bool log) {
  int64_t len = in.sizes()[dim];
  int64_t in_stride = in.strides()[dim];
  int64_t out_stride = out.strides()[dim];
  Tensor in_rows = row_starts(in, dim);
  Tensor out_rows = row_starts(out, dim);
  dispatch_floating(in.dtype(), "softmax", [&](auto tag) {
    using T = typename decltype(tag)::type;
    parallel_for_each_run<2>(in_rows.sizes(), operands_of<2>({&out_rows, &in_rows}), row_grain(len), [&](auto p, auto s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        T* o = reinterpret_cast<T*>(p[0]) + i * s[0];
        const T* x = reinterpret_cast<const T*>(p[1]) + i * s[1];
        T max_v = -std::numeric_limits<T>::infinity();
        for (int64_t k = 0; k < len; ++k) max_v = std::max(max_v, x[k * in_stride]);
        // An infinite maximum is subtracted as is: the row becomes nan, as in PyTorch.
        double total = 0;
        for (int64_t k = 0; k < len; ++k) total += std::exp(double(x[k * in_stride] - max_v));
        if (log) {
          T log_total = static_cast<T>(std::log(total));
          for (int64_t k = 0; k < len; ++k) o[k * out_stride] = x[k * in_stride] - max_v - log_total;
        } else {
          for (int64_t k = 0; k < len; ++k)
            o[k * out_stride] = static_cast<T>(std::exp(double(x[k * in_stride] - max_v)) / total);
        }
      }
    });
  });
}

void CpuBackend::softmax_backward(const Tensor& grad_in, const Tensor& grad_out, const Tensor& out,
                                  int64_t dim, bool log) {
  int64_t len = out.sizes()[dim];
  int64_t gi_s = grad_in.strides()[dim], go_s = grad_out.strides()[dim], o_s = out.strides()[dim];
  Tensor gi_rows = row_starts(grad_in, dim), go_rows = row_starts(grad_out, dim), o_rows = row_starts(out, dim);
  dispatch_floating(out.dtype(), "softmax_backward", [&](auto tag) {
    using T = typename decltype(tag)::type;
    parallel_for_each_run<3>(o_rows.sizes(), operands_of<3>({&gi_rows, &go_rows, &o_rows}), row_grain(len), [&](auto p, auto s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        T* gi = reinterpret_cast<T*>(p[0]) + i * s[0];
        const T* go = reinterpret_cast<const T*>(p[1]) + i * s[1];
        const T* y = reinterpret_cast<const T*>(p[2]) + i * s[2];
        double dot = 0;
        if (log) {
          // d/dx log_softmax: g - exp(y) * sum(g)
          for (int64_t k = 0; k < len; ++k) dot += go[k * go_s];
          for (int64_t k = 0; k < len; ++k)
            gi[k * gi_s] = static_cast<T>(go[k * go_s] - std::exp(double(y[k * o_s])) * dot);
        } else {
          // d/dx softmax: y * (g - sum(g * y))
          for (int64_t k = 0; k < len; ++k) dot += double(go[k * go_s]) * y[k * o_s];
          for (int64_t k = 0; k < len; ++k) gi[k * gi_s] = static_cast<T>(y[k * o_s] * (go[k * go_s] - dot));
        }
      }
    });
  });
}

}  // namespace tg::cpu
