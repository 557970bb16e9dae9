#include "cpu/cpu_backend.h"
#include "cpu/loops.h"

namespace tg::cpu {

namespace {
// The slice of `t` at position `i` along `dim`, keeping the dim with size 1.
Tensor slice_at(const Tensor& t, int64_t dim, int64_t i) {
  DimVec sizes = t.sizes();
  sizes[dim] = 1;
  return make_view(t, sizes, t.strides(), t.offset() + i * t.strides()[dim]);
}

void check_index(int64_t idx, int64_t size) {
  if (idx < -size || idx >= size)
    throw IndexError(str_cat("index ", idx, " is out of bounds for dimension with size ", size));
}
}  // namespace

void CpuBackend::index_select(const Tensor& out, const Tensor& in, int64_t dim, const Tensor& index) {
  const int64_t* idx = index.data<int64_t>();
  int64_t n = index.numel(), size = in.sizes()[dim], istride = index.dim() ? index.strides()[0] : 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t k = idx[i * istride];
    check_index(k, size);
    if (k < 0) k += size;
    copy(slice_at(out, dim, i), slice_at(in, dim, k));
  }
}

void CpuBackend::index_add(const Tensor& out, int64_t dim, const Tensor& index, const Tensor& src) {
  const int64_t* idx = index.data<int64_t>();
  int64_t n = index.numel(), size = out.sizes()[dim], istride = index.dim() ? index.strides()[0] : 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t k = idx[i * istride];
    check_index(k, size);
    if (k < 0) k += size;
    Tensor dst = slice_at(out, dim, k);
    binary(BinaryOp::Add, dst, dst, slice_at(src, dim, i));
  }
}

}  // namespace tg::cpu
