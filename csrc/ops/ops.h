#pragma once
// Every differentiable op tapegrad offers, by family. Each family file in this folder
// holds the forwards (checks, allocation, dispatch) and the backward nodes side by side.
#include <optional>
#include "core/scalar.h"
#include "core/tensor.h"

namespace tg {
class Generator;
}

namespace tg::ops {

// ---- elementwise: binary.cpp ----
Tensor add(const Tensor& a, const Tensor& b, Scalar alpha = Scalar(int64_t(1)));
Tensor sub(const Tensor& a, const Tensor& b, Scalar alpha = Scalar(int64_t(1)));
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
// rounding_mode "floor" or "trunc".
Tensor div(const Tensor& a, const Tensor& b, const std::string& rounding_mode);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor remainder(const Tensor& a, const Tensor& b);
Tensor floor_divide(const Tensor& a, const Tensor& b);
// Comparisons and logical ops return bool tensors and have no gradient.
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_xor(const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// In place: self is written and its version bumped.
Tensor& add_(Tensor& self, const Tensor& other, Scalar alpha = Scalar(int64_t(1)));
Tensor& sub_(Tensor& self, const Tensor& other, Scalar alpha = Scalar(int64_t(1)));
Tensor& mul_(Tensor& self, const Tensor& other);
Tensor& div_(Tensor& self, const Tensor& other);
Tensor& pow_(Tensor& self, const Tensor& other);
// The dtype binary ops compute in, with PyTorch's rules for numbers and 0-dim tensors.
ScalarType result_type(const Tensor& a, const Tensor& b);
Tensor atan2(const Tensor& a, const Tensor& b);
Tensor hypot(const Tensor& a, const Tensor& b);
Tensor& atan2_(Tensor& self, const Tensor& other);
Tensor& hypot_(Tensor& self, const Tensor& other);
// The Hurwitz zeta function of x and q (torch.special.zeta).
Tensor special_zeta(const Tensor& x, const Tensor& q);

// ---- elementwise: unary.cpp ----
Tensor neg(const Tensor& a);
Tensor abs(const Tensor& a);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor rsqrt(const Tensor& a);
Tensor sin(const Tensor& a);
Tensor cos(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor relu(const Tensor& a);
Tensor sign(const Tensor& a);
Tensor square(const Tensor& a);
Tensor reciprocal(const Tensor& a);
Tensor log1p(const Tensor& a);
Tensor expm1(const Tensor& a);
Tensor floor(const Tensor& a);
Tensor ceil(const Tensor& a);
Tensor round(const Tensor& a);
Tensor trunc(const Tensor& a);
Tensor logical_not(const Tensor& a);
Tensor tan(const Tensor& a);
Tensor asin(const Tensor& a);
Tensor acos(const Tensor& a);
Tensor atan(const Tensor& a);
Tensor sinh(const Tensor& a);
Tensor cosh(const Tensor& a);
Tensor asinh(const Tensor& a);
Tensor acosh(const Tensor& a);
Tensor atanh(const Tensor& a);
Tensor log2(const Tensor& a);
Tensor log10(const Tensor& a);
Tensor exp2(const Tensor& a);
Tensor erfc(const Tensor& a);
Tensor erfinv(const Tensor& a);
Tensor lgamma(const Tensor& a);
Tensor digamma(const Tensor& a);
// The n-th derivative of digamma; n >= 0.
Tensor polygamma(int64_t n, const Tensor& x);
Tensor clamp(const Tensor& a, std::optional<Scalar> min, std::optional<Scalar> max);
Tensor& clamp_(Tensor& self, std::optional<Scalar> min, std::optional<Scalar> max);
Tensor& neg_(Tensor& self);
// Bool masks; integer and bool inputs are never NaN or infinite.
Tensor isnan(const Tensor& a);
Tensor isinf(const Tensor& a);
Tensor isfinite(const Tensor& a);
Tensor& relu_(Tensor& self);

// ---- creation and copies: factory.cpp ----
Tensor zeros(const DimVec& sizes, ScalarType dtype, Device device = Device());
// A floating value written to an int64 tensor must fit (NaN, inf and 1e30 do not), as in PyTorch.
void check_fill_value(Scalar value, ScalarType dtype);
Tensor ones(const DimVec& sizes, ScalarType dtype, Device device = Device());
Tensor full(const DimVec& sizes, Scalar value, ScalarType dtype, Device device = Device());
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
// Uninitialised, with t's sizes and, when t is a permuted dense layout, its strides (PyTorch's
// preserve_format, as in torch.empty_like and Tensor.clone()); contiguous otherwise.
Tensor empty_like(const Tensor& t, ScalarType dtype, Device device);
Tensor arange(Scalar start, Scalar end, Scalar step, ScalarType dtype, Device device = Device());
Tensor linspace(double start, double end, int64_t steps, ScalarType dtype, Device device = Device());
Tensor eye(int64_t n, int64_t m, ScalarType dtype, Device device = Device());
Tensor rand(const DimVec& sizes, ScalarType dtype, Device device = Device(), Generator* generator = nullptr);
Tensor randn(const DimVec& sizes, ScalarType dtype, Device device = Device(), Generator* generator = nullptr);
// randint and randperm draw from `generator`, or from the default generator when it is null.
Tensor randint(int64_t low, int64_t high, const DimVec& sizes, ScalarType dtype, Device device = Device(),
               Generator* generator = nullptr);
Tensor randperm(int64_t n, ScalarType dtype, Device device = Device(), Generator* generator = nullptr);
Tensor& uniform_(Tensor& self, double from, double to, Generator* generator = nullptr);
Tensor& normal_(Tensor& self, double mean, double std, Generator* generator = nullptr);
Tensor& fill_(Tensor& self, Scalar value);
// fill_ with a 0-dim tensor: the value gets the summed gradient (FillBackward3).
Tensor& fill_(Tensor& self, const Tensor& value);
Tensor& zero_(Tensor& self);
// self.copy_(src): src is broadcast to self's shape and converted to its dtype.
Tensor& copy_(Tensor& self, const Tensor& src);
// A copy with history; contiguous, or laid out like t with preserve_layout (Python's clone()).
Tensor clone(const Tensor& t, bool preserve_layout = false);
Tensor contiguous(const Tensor& t);
Tensor to_dtype(const Tensor& t, ScalarType dtype);
Tensor to_device(const Tensor& t, Device device);
// Same data, no history, shared version counter (Tensor.detach()).
Tensor detach(const Tensor& t);

// ---- reductions: reduction.cpp ----
// `dims` are wrapped and checked; an empty list reduces over every dim. dtype= converts the input first.
Tensor sum(const Tensor& a, std::optional<ScalarType> dtype = std::nullopt);
Tensor sum(const Tensor& a, const DimVec& dims, bool keepdim, std::optional<ScalarType> dtype = std::nullopt);
Tensor mean(const Tensor& a, std::optional<ScalarType> dtype = std::nullopt);
Tensor mean(const Tensor& a, const DimVec& dims, bool keepdim, std::optional<ScalarType> dtype = std::nullopt);
Tensor prod(const Tensor& a, std::optional<ScalarType> dtype = std::nullopt);
Tensor prod(const Tensor& a, int64_t dim, bool keepdim, std::optional<ScalarType> dtype = std::nullopt);
Tensor max(const Tensor& a);
Tensor min(const Tensor& a);
std::pair<Tensor, Tensor> max(const Tensor& a, int64_t dim, bool keepdim);  // values, indices
std::pair<Tensor, Tensor> min(const Tensor& a, int64_t dim, bool keepdim);
Tensor amax(const Tensor& a, const DimVec& dims, bool keepdim);
Tensor amin(const Tensor& a, const DimVec& dims, bool keepdim);
Tensor argmax(const Tensor& a, std::optional<int64_t> dim, bool keepdim);
Tensor argmin(const Tensor& a, std::optional<int64_t> dim, bool keepdim);
Tensor var(const Tensor& a, const std::optional<DimVec>& dims, double correction, bool keepdim);
Tensor std(const Tensor& a, const std::optional<DimVec>& dims, double correction, bool keepdim);
Tensor logsumexp(const Tensor& a, const DimVec& dims, bool keepdim);
Tensor softmax(const Tensor& a, int64_t dim, std::optional<ScalarType> dtype = std::nullopt);
Tensor log_softmax(const Tensor& a, int64_t dim, std::optional<ScalarType> dtype = std::nullopt);
// Vector p-norm (torch.norm / linalg.vector_norm); p may be +-inf.
Tensor norm(const Tensor& a, double p, const std::optional<DimVec>& dims, bool keepdim,
            std::optional<ScalarType> dtype = std::nullopt);
// Bool results, no gradient.
Tensor any(const Tensor& a);
Tensor all(const Tensor& a);
Tensor any(const Tensor& a, const DimVec& dims, bool keepdim);
Tensor all(const Tensor& a, const DimVec& dims, bool keepdim);
Tensor isclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan);
bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan);
bool equal(const Tensor& a, const Tensor& b);
// Sums a broadcast gradient back down to `sizes` (the inverse of expand).
Tensor sum_to_size(const Tensor& a, const DimVec& sizes);

// ---- matrix products: linalg.cpp ----
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
Tensor mv(const Tensor& a, const Tensor& vec);
Tensor dot(const Tensor& a, const Tensor& b);
Tensor outer(const Tensor& a, const Tensor& b);

// ---- views and shapes: shape.cpp ----
Tensor view(const Tensor& a, const DimVec& sizes);
Tensor reshape(const Tensor& a, const DimVec& sizes);
// A new shape for a contiguous result that is not a view of it (PyTorch's _unsafe_view); the
// backward node is named `grad_name`.
Tensor unsafe_view(const Tensor& a, const DimVec& sizes, const char* grad_name = "UnsafeViewBackward0");
Tensor transpose(const Tensor& a, int64_t dim0, int64_t dim1);
Tensor t(const Tensor& a);
Tensor permute(const Tensor& a, const DimVec& dims);
Tensor expand(const Tensor& a, const DimVec& sizes);
Tensor squeeze(const Tensor& a);
Tensor squeeze(const Tensor& a, int64_t dim);
Tensor squeeze(const Tensor& a, const DimVec& dims);
Tensor unsqueeze(const Tensor& a, int64_t dim);
// In-place view ops: self's own sizes and strides change, as PyTorch's t_, transpose_, squeeze_, unsqueeze_.
void t_(Tensor& self);
void transpose_(Tensor& self, int64_t dim0, int64_t dim1);
void squeeze_(Tensor& self);
void squeeze_(Tensor& self, int64_t dim);
void squeeze_(Tensor& self, const DimVec& dims);
void unsqueeze_(Tensor& self, int64_t dim);
Tensor flatten(const Tensor& a, int64_t start_dim, int64_t end_dim);
Tensor select(const Tensor& a, int64_t dim, int64_t index);
Tensor slice(const Tensor& a, int64_t dim, std::optional<int64_t> start, std::optional<int64_t> end, int64_t step);
Tensor narrow(const Tensor& a, int64_t dim, int64_t start, int64_t length);
Tensor as_strided(const Tensor& a, const DimVec& sizes, const DimVec& strides, int64_t offset);
// A view of the offset-th diagonal of dims dim1 and dim2, appended as the last dim.
Tensor diagonal(const Tensor& a, int64_t offset, int64_t dim1, int64_t dim2);
Tensor cat(const TensorList& tensors, int64_t dim);
Tensor stack(const TensorList& tensors, int64_t dim);
// Views of consecutive pieces along dim, sharing one backward node.
TensorList split(const Tensor& a, int64_t split_size, int64_t dim);
TensorList split_with_sizes(const Tensor& a, const DimVec& split_sizes, int64_t dim);
TensorList chunk(const Tensor& a, int64_t chunks, int64_t dim);
TensorList unbind(const Tensor& a, int64_t dim);

// ---- moving elements: rearrange.cpp ----
// Zeroes the elements above (tril) or below (triu) the `diagonal`-th diagonal of the last two dims.
Tensor tril(const Tensor& a, int64_t diagonal = 0);
Tensor triu(const Tensor& a, int64_t diagonal = 0);
Tensor flip(const Tensor& a, const DimVec& dims);
// Without dims, one shift rotates the flattened tensor.
Tensor roll(const Tensor& a, const DimVec& shifts, const DimVec& dims);
Tensor repeat(const Tensor& a, const DimVec& repeats);
// Without dim, of the flattened tensor.
Tensor repeat_interleave(const Tensor& a, int64_t repeats, std::optional<int64_t> dim);
// 1-D: the matrix with a on its `diagonal`-th diagonal; 2-D: that diagonal.
Tensor diag(const Tensor& a, int64_t diagonal = 0);
// pads: (before, after) pairs from the last dim backwards; negative amounts crop. value is written as x's dtype.
Tensor constant_pad_nd(const Tensor& a, const DimVec& pads, Scalar value);

// ---- along one dim: sorting.cpp ----
// Integer and bool inputs sum in int64 unless dtype says otherwise.
Tensor cumsum(const Tensor& a, int64_t dim, std::optional<ScalarType> dtype = std::nullopt);
// (values, int64 indices); NaN sorts above every number and equal values keep their order. stable_overload:
// called with stable= (PyTorch's sort.stable, whose node is SortBackward1); the result is stable either way.
std::pair<Tensor, Tensor> sort(const Tensor& a, int64_t dim, bool descending, bool stable_overload = false);
Tensor argsort(const Tensor& a, int64_t dim, bool descending);
// The k largest (or smallest) along dim, in sorted order.
std::pair<Tensor, Tensor> topk(const Tensor& a, int64_t k, int64_t dim, bool largest);

// ---- advanced indexing: indexing.cpp ----
// a[indices] with NumPy's rules: indices[i] (int64 or a bool mask) indexes dim i; an undefined entry
// keeps that dim whole. Masks stand for their nonzero coordinates. Always a copy.
Tensor index(const Tensor& a, const TensorList& indices);
// a[indices] = values (+= with accumulate, where repeated indices add up); values broadcast to a[indices].
Tensor index_put(const Tensor& a, const TensorList& indices, const Tensor& values, bool accumulate);
Tensor& index_put_(Tensor& self, const TensorList& indices, const Tensor& values, bool accumulate);
// A new view of the whole of `a` (x[...]).
Tensor alias(const Tensor& a);
Tensor index_select(const Tensor& a, int64_t dim, const Tensor& index);
Tensor gather(const Tensor& a, int64_t dim, const Tensor& index);
// src is a tensor shaped like (or larger than) index, or a wrapped number written everywhere index points.
Tensor scatter(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src);
Tensor scatter_add(const Tensor& a, int64_t dim, const Tensor& index, const Tensor& src);
Tensor& scatter_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor& scatter_add_(Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
// reduce: sum, prod, mean, amax or amin; no autograd.
Tensor scatter_reduce_values(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src,
                             const std::string& reduce, bool include_self);
// value is a 0-dim tensor or a wrapped number.
Tensor masked_fill(const Tensor& a, const Tensor& mask, const Tensor& value);
Tensor& masked_fill_(Tensor& self, const Tensor& mask, const Tensor& value);
Tensor masked_select(const Tensor& a, const Tensor& mask);
// Elements of `a` at flat (row-major) positions, negatives counting from the end.
Tensor take(const Tensor& a, const Tensor& index);
Tensor nonzero(const Tensor& a);

}  // namespace tg::ops
