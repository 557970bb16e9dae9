#include <cmath>
#include <limits>
#include <type_traits>
#include "cpu/cpu_backend.h"
#include "cpu/loops.h"

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

template <typename T>
void reduce_typed(ReduceOp op, const Tensor& out, const Tensor& in) {
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
  switch (op) {
    case ReduceOp::Sum: run([](auto a, auto x) { return a + x; }); break;
    case ReduceOp::Prod: run([](auto a, auto x) { return a * x; }); break;
    case ReduceOp::Any: run([](auto a, auto x) { return decltype(a)(a || x); }); break;
    case ReduceOp::All: run([](auto a, auto x) { return decltype(a)(a && x); }); break;
    case ReduceOp::Max:
      run([](auto a, auto x) {
        if constexpr (std::is_floating_point_v<decltype(a)>)
          if (std::isnan(a) || std::isnan(x)) return std::numeric_limits<decltype(a)>::quiet_NaN();
        return a > x ? a : x;
      });
      break;
    case ReduceOp::Min:
      run([](auto a, auto x) {
        if constexpr (std::is_floating_point_v<decltype(a)>)
          if (std::isnan(a) || std::isnan(x)) return std::numeric_limits<decltype(a)>::quiet_NaN();
        return a < x ? a : x;
      });
      break;
  }
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
      reduce_typed<int64_t>(op, out, as_int);
    } else {
      reduce_typed<T>(op, out, in);
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
    for_each_run<3>(rows.sizes(), operands_of<3>({&values, &indices, &rows}), [&](auto p, auto s, int64_t n) {
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
    for_each_run<2>(in_rows.sizes(), operands_of<2>({&out_rows, &in_rows}), [&](auto p, auto s, int64_t n) {
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
    for_each_run<3>(o_rows.sizes(), operands_of<3>({&gi_rows, &go_rows, &o_rows}), [&](auto p, auto s, int64_t n) {
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
