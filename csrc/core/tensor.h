#pragma once
#include <memory>
#include <string>
#include <vector>
#include "core/device.h"
#include "core/dtype.h"
#include "core/ref.h"
#include "core/scalar.h"
#include "core/small_vector.h"
#include "core/storage.h"

namespace tg {

struct Node;
struct TensorImpl;
class Tensor;
// Defined with the autograd nodes (autograd/node.cpp).
void refresh_view_grad_fn(TensorImpl* view);
using TensorList = std::vector<Tensor>;

// How a view was made, which decides whether an in-place op on it may rewrite its base's history
// (PyTorch's CreationMeta): not when it was made in no_grad mode or as one of several outputs.
enum class ViewCreation : uint8_t { InGradMode, InNoGradMode, MultiOutput };

// Strided view of a storage plus the autograd state PyTorch keeps on a Variable.
struct TensorImpl : RefCounted {
  Ref<Storage> storage;
  DimVec sizes;
  DimVec strides;          // in elements
  int64_t offset = 0;      // in elements
  int64_t numel = 1;
  ScalarType dtype = ScalarType::Float32;

  bool requires_grad = false;      // set on leaves; a non-leaf requires grad through grad_fn
  bool retains_grad = false;
  bool is_wrapped_number = false;  // a Python number turned into a 0-dim tensor
  Ref<TensorImpl> grad;
  std::shared_ptr<Node> grad_fn;
  uint32_t output_nr = 0;
  std::shared_ptr<Node> grad_accumulator;  // a leaf's AccumulateGrad (it points back, not owning)
  Ref<TensorImpl> view_base;             // set on views: the tensor that owns the data
  uint32_t view_version = 0;             // views: the data's version when grad_fn was last set
  bool grad_view = false;                // a view made in grad mode: grad_fn follows the base's history
  ViewCreation view_creation = ViewCreation::InGradMode;  // views: inherited from a view's view unless set
  void* pyobj = nullptr;                 // the Python object wrapping this impl, not owned

  ~TensorImpl() override;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(Ref<TensorImpl> impl) : impl_(std::move(impl)) {}
  static Tensor adopt(TensorImpl* impl) { return Tensor(Ref<TensorImpl>::adopt(impl)); }

  bool defined() const { return static_cast<bool>(impl_); }
  TensorImpl* impl() const { return impl_.get(); }
  const Ref<TensorImpl>& ref() const { return impl_; }
  bool is_same(const Tensor& o) const { return impl_ == o.impl_; }

  const DimVec& sizes() const { return impl_->sizes; }
  const DimVec& strides() const { return impl_->strides; }
  int64_t dim() const { return static_cast<int64_t>(impl_->sizes.size()); }
  int64_t numel() const { return impl_->numel; }
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t offset() const { return impl_->offset; }
  ScalarType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device; }
  const Ref<Storage>& storage() const { return impl_->storage; }
  void* data_ptr() const {
    return static_cast<char*>(impl_->storage->data) + impl_->offset * itemsize(impl_->dtype);
  }
  template <typename T> T* data() const { return static_cast<T*>(data_ptr()); }
  bool is_contiguous() const;
  bool is_wrapped_number() const { return impl_->is_wrapped_number; }

  // Autograd state.
  // As PyTorch, a view requires grad when its base does: even one made in no_grad mode (though no gradient
  // reaches it), and one whose data changed under it (its grad_fn, refreshed when used, may then fail).
  bool requires_grad() const {
    if (impl_->requires_grad || impl_->grad_fn) return true;
    return impl_->view_base && Tensor(impl_->view_base).requires_grad();
  }
  bool is_leaf() const { return !grad_fn(); }
  const std::shared_ptr<Node>& grad_fn() const {
    if (impl_->view_base && impl_->view_version != impl_->storage->version) refresh_view_grad_fn(impl_.get());
    return impl_->grad_fn;
  }
  uint32_t output_nr() const { return impl_->output_nr; }
  Tensor grad() const { return Tensor(impl_->grad); }
  void set_grad(const Tensor& g) { impl_->grad = g.impl_; }
  uint32_t version() const { return impl_->storage->version; }
  void bump_version() const { ++impl_->storage->version; }
  bool is_view() const { return static_cast<bool>(impl_->view_base); }

  // Scalar read of a one-element tensor.
  Scalar item() const;

 private:
  Ref<TensorImpl> impl_;
};

DimVec contiguous_strides(const DimVec& sizes);
int64_t numel_of(const DimVec& sizes);
int64_t wrap_dim(int64_t dim, int64_t ndim);
std::string shape_str(const DimVec& sizes);   // [2, 3]
DimVec broadcast_shapes(const DimVec& a, const DimVec& b);
void check_size_nonnegative(const DimVec& sizes);

// A fresh contiguous tensor; its contents are uninitialised.
Tensor empty(const DimVec& sizes, ScalarType dtype, Device device = Device());
// A tensor sharing `base`'s storage with the given geometry; no autograd history.
Tensor make_view(const Tensor& base, DimVec sizes, DimVec strides, int64_t offset);
Tensor scalar_tensor(Scalar value, ScalarType dtype, Device device = Device());
// A Python number as a 0-dim tensor that promotes like PyTorch's wrapped numbers.
Tensor wrapped_scalar(Scalar value);

}  // namespace tg
