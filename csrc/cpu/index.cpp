// Advanced-indexing kernels. One strided loop reads (index) or writes (index_put) through a single
// int64 operand of element offsets; several indices are first folded into one such operand.
#include <algorithm>
#include "cpu/cpu_backend.h"
#include "cpu/loops.h"

namespace tg::cpu {

namespace {

// Turns index values into element offsets along one dim, checking the bounds.
struct CheckedOffset {
  int64_t size, stride;
  bool wrap;
  size_t position;
  int64_t operator()(int64_t v) const {
    if (v < -size || v >= size || (v < 0 && !wrap)) throw IndexOutOfRange(v, size, position);
    return (v < 0 ? v + size : v) * stride;
  }
};

// Offsets already checked and scaled (the fold of several indices).
struct RawOffset {
  int64_t operator()(int64_t v) const { return v; }
};

// The sum of every index's checked offset, computed over the indices' own extent (the dims where some
// index moves) and seen back in the iteration shape with stride 0 elsewhere.
Tensor fold_offsets(const IndexSpec& spec, const DimVec& shape) {
  DimVec compact = shape;
  for (size_t d = 0; d < shape.size(); ++d) {
    bool moves = false;
    for (const Tensor& idx : spec.indices) moves |= idx.strides()[d] != 0;
    if (!moves) compact[d] = 1;
  }
  Tensor offsets = empty(compact, ScalarType::Int64);
  std::fill_n(offsets.data<int64_t>(), offsets.numel(), int64_t(0));
  for (size_t k = 0; k < spec.indices.size(); ++k) {
    const Tensor& idx = spec.indices[k];
    Tensor view = make_view(idx, compact, idx.strides(), idx.offset());
    CheckedOffset check{spec.sizes[k], spec.strides[k], spec.wrap_negative, k};
    for_each_run<2>(compact, operands_of<2>({&offsets, &view}), [&](auto p, auto s, int64_t n) {
      int64_t* o = reinterpret_cast<int64_t*>(p[0]);
      const int64_t* x = reinterpret_cast<const int64_t*>(p[1]);
      for (int64_t i = 0; i < n; ++i) o[i * s[0]] += check(x[i * s[1]]);
    });
  }
  DimVec strides = offsets.strides();
  for (size_t d = 0; d < shape.size(); ++d)
    if (compact[d] != shape[d]) strides[d] = 0;
  return make_view(offsets, shape, strides, 0);
}

// Calls body(offset_operand, to_offset) with the index operand and the functor that makes offsets of it.
template <typename Body>
void with_offsets(const IndexSpec& spec, const DimVec& shape, Body&& body) {
  if (spec.indices.size() == 1)
    body(spec.indices[0], CheckedOffset{spec.sizes[0], spec.strides[0], spec.wrap_negative, 0});
  else
    body(fold_offsets(spec, shape), RawOffset{});
}

}  // namespace

void CpuBackend::index(const Tensor& out, const Tensor& src, const IndexSpec& spec) {
  with_offsets(spec, out.sizes(), [&](const Tensor& idx, auto to_offset) {
    dispatch_all(out.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      for_each_run<3>(out.sizes(), operands_of<3>({&out, &src, &idx}), [&](auto p, auto s, int64_t n) {
        T* o = reinterpret_cast<T*>(p[0]);
        const T* x = reinterpret_cast<const T*>(p[1]);
        const int64_t* ix = reinterpret_cast<const int64_t*>(p[2]);
        if (s[2] == 0) {  // a run inside one indexed slice (x[idx] copying rows): one lookup
          const T* row = x + to_offset(*ix);
          for (int64_t i = 0; i < n; ++i) o[i * s[0]] = row[i * s[1]];
        } else {
          for (int64_t i = 0; i < n; ++i) o[i * s[0]] = x[i * s[1] + to_offset(ix[i * s[2]])];
        }
      });
    });
  });
}

namespace {

// dst[i + offset(i)] = put(dst[...], values[i]) for every i, sequentially on purpose: with repeated indices
// the last write wins, or every value joins the reduction.
template <typename T, typename Put>
void put_each(const Tensor& dst, const Tensor& values, const IndexSpec& spec, Put put) {
  with_offsets(spec, values.sizes(), [&](const Tensor& idx, auto to_offset) {
    for_each_run<3>(values.sizes(), operands_of<3>({&dst, &values, &idx}), [&](auto p, auto s, int64_t n) {
      T* o = reinterpret_cast<T*>(p[0]);
      const T* v = reinterpret_cast<const T*>(p[1]);
      const int64_t* ix = reinterpret_cast<const int64_t*>(p[2]);
      if (s[2] == 0) {
        T* row = o + to_offset(*ix);
        for (int64_t i = 0; i < n; ++i) put(row[i * s[0]], v[i * s[1]]);
      } else {
        for (int64_t i = 0; i < n; ++i) put(o[i * s[0] + to_offset(ix[i * s[2]])], v[i * s[1]]);
      }
    });
  });
}

}  // namespace

void CpuBackend::index_put(const Tensor& dst, const Tensor& values, const IndexSpec& spec, bool accumulate) {
  dispatch_all(dst.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    put_each<T>(dst, values, spec, [accumulate](T& slot, T v) {
      if (!accumulate) slot = v;
      else if constexpr (std::is_same_v<T, bool>) slot = slot || v;
      else slot += v;
    });
  });
}

void CpuBackend::index_reduce(const Tensor& dst, const Tensor& values, const IndexSpec& spec, ReduceOp op) {
  dispatch_all(dst.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    // As ATen's scatter_reduce: a NaN value wins amax and amin (v != v only for NaN).
    auto is_nan = [](T v) { return v != v; };
    switch (op) {
      case ReduceOp::Prod:
        return put_each<T>(dst, values, spec, [](T& slot, T v) {
          if constexpr (std::is_same_v<T, int64_t>)  // wraps on overflow, as torch's, without signed overflow
            slot = static_cast<T>(static_cast<uint64_t>(slot) * static_cast<uint64_t>(v));
          else
            slot = static_cast<T>(slot * v);
        });
      case ReduceOp::Max:
        return put_each<T>(dst, values, spec, [is_nan](T& slot, T v) { slot = is_nan(v) || v > slot ? v : slot; });
      case ReduceOp::Min:
        return put_each<T>(dst, values, spec, [is_nan](T& slot, T v) { slot = is_nan(v) || v < slot ? v : slot; });
      default: throw Error("index_reduce: not a product, max or min");
    }
  });
}

Tensor CpuBackend::nonzero(const Tensor& in) {
  const int64_t nd = in.dim(), numel = in.numel();
  const DimVec& sizes = in.sizes();
  const DimVec& strides = in.strides();
  // Walks the elements in C order, calling visit(is_nonzero, coordinates).
  auto walk = [&](auto visit) {
    dispatch_all(in.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* base = in.data<T>();
      DimVec coord(nd, 0);
      int64_t off = 0;
      for (int64_t i = 0; i < numel; ++i) {
        visit(base[off] != T(0), coord);
        for (int64_t d = nd - 1; d >= 0; --d) {
          off += strides[d];
          if (++coord[d] < sizes[d]) break;
          off -= strides[d] * sizes[d];
          coord[d] = 0;
        }
      }
    });
  };
  int64_t count = 0;
  walk([&](bool nz, const DimVec&) { count += nz; });
  Tensor out = empty(DimVec{count, nd}, ScalarType::Int64);
  int64_t* o = out.data<int64_t>();
  walk([&](bool nz, const DimVec& coord) {
    if (nz)
      for (int64_t d = 0; d < nd; ++d) *o++ = coord[d];
  });
  return out;
}

}  // namespace tg::cpu
