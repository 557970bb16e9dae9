#include "core/tensor.h"

#include <atomic>
#include "autograd/node.h"
#include "core/dispatch.h"
#include "core/grad_mode.h"

namespace tg {

namespace {
thread_local bool t_grad_enabled = true;
std::atomic<ScalarType> g_default_dtype{ScalarType::Float32};
Backend* g_backends[kNumDeviceTypes] = {nullptr, nullptr};
}  // namespace

bool GradMode::is_enabled() { return t_grad_enabled; }
void GradMode::set_enabled(bool enabled) { t_grad_enabled = enabled; }

ScalarType default_dtype() { return g_default_dtype.load(std::memory_order_relaxed); }
void set_default_dtype(ScalarType t) {
  TG_CHECK_TYPE(is_floating(t), "only floating-point types are supported as the default type");
  g_default_dtype.store(t);
}

void register_backend(DeviceType type, Backend* backend) { g_backends[static_cast<int>(type)] = backend; }
Backend& backend_for(Device device) {
  Backend* b = g_backends[static_cast<int>(device.type)];
  if (!b) throw Error(str_cat("tapegrad was not compiled with support for device '", device.str(), "'"));
  return *b;
}

TensorImpl::~TensorImpl() {
  if (retains_grad && grad_fn) grad_fn->forget_retained(this);
  if (grad_accumulator) static_cast<AccumulateGrad*>(grad_accumulator.get())->forget_variable();
  if (grad_fn) release_node(std::move(grad_fn));
}

// A 0-dim tensor has no size to read (wrap_dim would accept dims 0 and -1 for it).
static void check_has_dims(int64_t d, int64_t ndim) {
  if (ndim == 0) throw IndexError(str_cat("Dimension specified as ", d, " but tensor has no dimensions"));
}
int64_t Tensor::size(int64_t d) const {
  check_has_dims(d, dim());
  return impl_->sizes[wrap_dim(d, dim())];
}
int64_t Tensor::stride(int64_t d) const {
  check_has_dims(d, dim());
  return impl_->strides[wrap_dim(d, dim())];
}

bool Tensor::is_contiguous() const {
  if (numel() == 0) return true;
  int64_t expected = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    int64_t size = impl_->sizes[d];
    if (size == 1) continue;
    if (size == 0) return true;
    if (impl_->strides[d] != expected) return false;
    expected *= size;
  }
  return true;
}

Scalar Tensor::item() const {
  if (numel() != 1)
    throw Error(str_cat("a Tensor with ", numel(), " elements cannot be converted to Scalar"));
  TG_CHECK(device().is_cpu(), "item() on a ", device().str(), " tensor needs a copy to the CPU first");
  return dispatch_all(dtype(), [&](auto tag) -> Scalar {
    using T = typename decltype(tag)::type;
    T v = *data<T>();
    if constexpr (std::is_same_v<T, bool>) return Scalar(v);
    else if constexpr (std::is_same_v<T, int64_t>) return Scalar(v);
    else return Scalar(static_cast<double>(v));
  });
}

DimVec contiguous_strides(const DimVec& sizes) {
  DimVec strides(sizes.size());
  int64_t s = 1;
  for (int64_t d = static_cast<int64_t>(sizes.size()) - 1; d >= 0; --d) {
    strides[d] = s;
    s *= sizes[d] > 1 ? sizes[d] : 1;
  }
  return strides;
}

// Overflow is sticky, as in PyTorch's safe_compute_numel: sizes whose product wraps around would
// describe a tensor larger than its storage.
int64_t numel_of(const DimVec& sizes) {
  int64_t n = 1;
  bool overflowed = false;
  for (int64_t s : sizes) overflowed |= __builtin_mul_overflow(n, s, &n);
  if (overflowed) throw Error("numel: integer multiplication overflow");
  return n;
}

int64_t wrap_dim(int64_t dim, int64_t ndim) {
  int64_t rank = ndim > 0 ? ndim : 1;  // a 0-dim tensor accepts dims -1 and 0
  if (dim < -rank || dim >= rank)
    throw IndexError(str_cat("Dimension out of range (expected to be in range of [", -rank, ", ",
                             rank - 1, "], but got ", dim, ")"));
  return dim < 0 ? dim + rank : dim;
}

std::string shape_str(const DimVec& sizes) {
  std::string s = "[";
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(sizes[i]);
  }
  return s + "]";
}

DimVec broadcast_shapes(const DimVec& a, const DimVec& b) {
  size_t n = std::max(a.size(), b.size());
  DimVec out(n);
  // From the last dim, so a mismatch is reported at the same dim as PyTorch reports it.
  for (size_t i = n; i-- > 0;) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      throw Error(str_cat("The size of tensor a (", da, ") must match the size of tensor b (", db,
                          ") at non-singleton dimension ", i));
    out[i] = da == 1 ? db : da;
  }
  return out;
}

void check_size_nonnegative(const DimVec& sizes) {
  for (int64_t s : sizes)
    if (s < 0)
      throw Error(str_cat("Trying to create tensor with negative dimension ", s, ": ", shape_str(sizes)));
}

Tensor empty(const DimVec& sizes, ScalarType dtype, Device device) {
  check_size_nonnegative(sizes);
  // As ATen's computeStorageNbytesContiguous: the sizes' product (overflow is sticky), then the bytes.
  int64_t count = 1, nbytes = 0;
  bool overflowed = false;
  for (int64_t s : sizes) overflowed |= __builtin_mul_overflow(count, s, &count);
  overflowed |= __builtin_mul_overflow(count, int64_t(itemsize(dtype)), &nbytes);
  if (overflowed) throw Error(str_cat("Storage size calculation overflowed with sizes=", shape_str(sizes)));
  auto impl = make_ref<TensorImpl>();
  impl->numel = numel_of(sizes);
  impl->storage = Storage::allocate(static_cast<size_t>(nbytes), device);
  impl->sizes = sizes;
  impl->strides = contiguous_strides(sizes);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor make_view(const Tensor& base, DimVec sizes, DimVec strides, int64_t offset) {
  auto impl = make_ref<TensorImpl>();
  impl->storage = base.storage();
  impl->numel = numel_of(sizes);
  impl->sizes = std::move(sizes);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = base.dtype();
  return Tensor(std::move(impl));
}

Tensor scalar_tensor(Scalar value, ScalarType dtype, Device device) {
  Tensor t = empty(DimVec(), dtype, Device());
  dispatch_all(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    *t.data<T>() = value.to<T>();
  });
  if (!device.is_cpu()) {
    Tensor d = empty(DimVec(), dtype, device);
    backend_for(device).copy(d, t);
    return d;
  }
  return t;
}

Tensor wrapped_scalar(Scalar value) {
  Tensor t = scalar_tensor(value, value.kind());
  t.impl()->is_wrapped_number = true;
  return t;
}

}  // namespace tg
