// Kernels that run along one dim of a contiguous tensor: running sums and sorting. Each row (the
// elements along that dim at one position of the other dims) is independent, so rows run in parallel.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>
#include <vector>
#include "cpu/cpu_backend.h"
#include "cpu/parallel.h"

namespace tg::cpu {

namespace {

// A contiguous tensor seen as [outer, n, inner] around `dim`: row r starts at (r / inner) * n * inner + r % inner
// and steps by inner.
struct Rows {
  int64_t outer = 1, n = 1, inner = 1;
  Rows(const DimVec& sizes, int64_t dim) {
    for (int64_t d = 0; d < static_cast<int64_t>(sizes.size()); ++d) {
      if (d < dim) outer *= sizes[d];
      else if (d == dim) n = sizes[d];
      else inner *= sizes[d];
    }
  }
  int64_t count() const { return outer * inner; }
  int64_t start(int64_t r) const { return (r / inner) * n * inner + r % inner; }
};

// NaN sorts above every number, as in PyTorch; ties keep their original order.
template <typename T>
bool sorts_before(T a, T b, bool descending) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) || std::isnan(b)) return descending ? !std::isnan(b) : !std::isnan(a);
  }
  return descending ? a > b : a < b;
}

// An unsigned key in a floating value's sort order: every NaN above +inf (torch sorts NaN last, or first
// when descending), -0.0 equal to 0.0 (a tie, as torch compares them).
template <typename T, typename Key>
Key order_key(T value) {
  if (std::isnan(value)) return ~Key(0);
  if (value == T(0)) value = T(0);
  const Key bits = __builtin_bit_cast(Key, value), sign = Key(1) << (8 * sizeof(Key) - 1);
  return bits & sign ? ~bits : bits | sign;
}

// Sorts one row of floats as torch: by key (inverted when descending), then by index; the first k are
// written out. float32 packs key and index into one integer, so the sort compares integers.
template <typename T>
void sort_floating_row(const T* row, int64_t n, int64_t stride, int64_t k, bool descending, T* out_values,
                       int64_t* out_indices, int64_t out_stride, std::vector<uint64_t>& packed,
                       std::vector<std::pair<uint64_t, int64_t>>& pairs) {
  auto finish = [&](auto first, auto last, auto index_of) {
    if (k == n) std::sort(first, last);
    else std::partial_sort(first, first + k, last);
    for (int64_t i = 0; i < k; ++i) {
      const int64_t index = index_of(first[i]);
      out_values[i * out_stride] = row[index * stride];
      out_indices[i * out_stride] = index;
    }
  };
  if constexpr (sizeof(T) == 4) {
    if (n <= int64_t(UINT32_MAX)) {
      packed.resize(n);
      for (int64_t i = 0; i < n; ++i) {
        uint32_t key = order_key<T, uint32_t>(row[i * stride]);
        packed[i] = uint64_t(descending ? ~key : key) << 32 | uint64_t(i);
      }
      return finish(packed.begin(), packed.end(), [](uint64_t item) { return int64_t(item & UINT32_MAX); });
    }
  }
  pairs.resize(n);
  for (int64_t i = 0; i < n; ++i) {
    uint64_t key = order_key<double, uint64_t>(double(row[i * stride]));
    pairs[i] = {descending ? ~key : key, i};
  }
  finish(pairs.begin(), pairs.end(), [](const std::pair<uint64_t, int64_t>& item) { return item.second; });
}

}  // namespace

void CpuBackend::cumsum(const Tensor& out, const Tensor& in, int64_t dim) {
  Rows rows(in.sizes(), in.dim() == 0 ? 0 : dim);
  dispatch_numeric(out.dtype(), "cumsum", [&](auto tag) {
    using T = typename decltype(tag)::type;
    // ATen's CPU scan accumulates floats in double.
    using Acc = std::conditional_t<std::is_floating_point_v<T>, double, T>;
    const T* src = in.data<T>();
    T* dst = out.data<T>();
    parallel_for(rows.count(), rows_per_grain(rows.n), [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r) {
        int64_t base = rows.start(r);
        Acc acc = 0;
        for (int64_t i = 0; i < rows.n; ++i) {
          acc += src[base + i * rows.inner];
          dst[base + i * rows.inner] = T(acc);
        }
      }
    });
  });
}

void CpuBackend::sort(const Tensor& values, const Tensor& indices, const Tensor& in, int64_t dim, int64_t k,
                      bool descending) {
  Rows rows(in.sizes(), in.dim() == 0 ? 0 : dim);
  dispatch_all(in.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = in.data<T>();
    T* out_values = values.data<T>();
    int64_t* out_indices = indices.data<int64_t>();
    if constexpr (std::is_floating_point_v<T>) {
      parallel_for(rows.count(), rows_per_grain(rows.n), [&](int64_t begin, int64_t end) {
        std::vector<uint64_t> packed;
        std::vector<std::pair<uint64_t, int64_t>> pairs;
        for (int64_t r = begin; r < end; ++r) {
          int64_t out_base = (r / rows.inner) * k * rows.inner + r % rows.inner;
          sort_floating_row(src + rows.start(r), rows.n, rows.inner, k, descending, out_values + out_base,
                            out_indices + out_base, rows.inner, packed, pairs);
        }
      });
      return;
    }
    parallel_for(rows.count(), rows_per_grain(rows.n), [&](int64_t begin, int64_t end) {
      // (value, index) pairs side by side: the comparisons read no second array. The index breaks ties, so
      // the order is total and a full sort is stable, as torch's.
      std::vector<std::pair<T, int64_t>> items(static_cast<size_t>(rows.n));
      auto before = [&](const std::pair<T, int64_t>& a, const std::pair<T, int64_t>& b) {
        return sorts_before(a.first, b.first, descending) ||
               (!sorts_before(b.first, a.first, descending) && a.second < b.second);
      };
      for (int64_t r = begin; r < end; ++r) {
        const T* row = src + rows.start(r);
        for (int64_t i = 0; i < rows.n; ++i) items[i] = {row[i * rows.inner], i};
        if (k == rows.n) std::sort(items.begin(), items.end(), before);
        else std::partial_sort(items.begin(), items.begin() + k, items.end(), before);
        int64_t out_base = (r / rows.inner) * k * rows.inner + r % rows.inner;
        for (int64_t i = 0; i < k; ++i) {
          out_values[out_base + i * rows.inner] = items[i].first;
          out_indices[out_base + i * rows.inner] = items[i].second;
        }
      }
    });
  });
}

}  // namespace tg::cpu
