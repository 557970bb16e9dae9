// Ops that move or select elements without arithmetic: triangles (tril, triu), flip, roll, repeat,
// repeat_interleave, diag and constant padding. Forwards reuse the indexing and copy kernels; each records
// PyTorch's node.
#include <algorithm>
#include "ops/elementwise_util.h"
#include "ops/ops.h"
#include "ops/record.h"

namespace tg::ops {

// ---- tril / triu ----

namespace {

// Keeps the elements on and below (lower) or on and above the `diagonal`-th diagonal of the last two dims.
Tensor keep_triangle(const Tensor& x, int64_t diagonal, bool lower) {
  int64_t rows = x.sizes()[x.dim() - 2], cols = x.sizes()[x.dim() - 1];
  Tensor row = view(arange(int64_t(0), rows, int64_t(1), ScalarType::Int64, x.device()), DimVec{rows, 1});
  Tensor col = arange(int64_t(0), cols, int64_t(1), ScalarType::Int64, x.device());
  Tensor offset = sub(col, row);
  Tensor keep = lower ? le(offset, wrapped_scalar(diagonal)) : ge(offset, wrapped_scalar(diagonal));
  return where(keep, x, scalar_tensor(Scalar(int64_t(0)), x.dtype(), x.device()));
}

struct TriangleBackward : Node {
  int64_t diagonal = 0;
  bool lower = true;
  std::string name() const override { return lower ? "TrilBackward0" : "TriuBackward0"; }
  TensorList apply(TensorList&& grads) override {
    return {lower ? tril(grads[0], diagonal) : triu(grads[0], diagonal)};
  }
};

Tensor triangle(const Tensor& x, int64_t diagonal, bool lower) {
  TG_CHECK(x.dim() >= 2, lower ? "tril" : "triu", ": input tensor must have at least 2 dimensions");
  return record_as<TriangleBackward>(x, [&] { return keep_triangle(x, diagonal, lower); },
                                     [&](TriangleBackward& node) {
                                       node.diagonal = diagonal;
                                       node.lower = lower;
                                     });
}

}  // namespace

Tensor tril(const Tensor& x, int64_t diagonal) { return triangle(x, diagonal, true); }
Tensor triu(const Tensor& x, int64_t diagonal) { return triangle(x, diagonal, false); }

// ---- flip ----

struct FlipBackward0 : Node {
  DimVec dims;
  std::string name() const override { return "FlipBackward0"; }
  TensorList apply(TensorList&& grads) override { return {flip(grads[0], dims)}; }
};

Tensor flip(const Tensor& x, const DimVec& dims) {
  DimVec wrapped;
  for (int64_t d : dims) {
    int64_t w = wrap_dim(d, x.dim());
    TG_CHECK(std::find(wrapped.begin(), wrapped.end(), w) == wrapped.end(), "dim ", w,
             " appears multiple times in the list of dims");
    wrapped.push_back(w);
  }
  return record_as<FlipBackward0>(x, [&] {
    Tensor out = x;
    for (int64_t d : wrapped) {
      int64_t n = x.dim() == 0 ? 1 : x.sizes()[d];
      if (n > 1) out = index_select(out, d, arange(n - 1, int64_t(-1), int64_t(-1), ScalarType::Int64, x.device()));
    }
    return out.is_same(x) ? clone(x) : out;
  }, [&](FlipBackward0& node) { node.dims = wrapped; });
}

// ---- roll ----

struct RollBackward0 : Node {
  DimVec shifts, dims;
  std::string name() const override { return "RollBackward0"; }
  TensorList apply(TensorList&& grads) override {
    DimVec back;
    for (int64_t s : shifts) back.push_back(-s);
    return {roll(grads[0], back, dims)};
  }
};

namespace {

// x with each dims[i] rotated by shifts[i]: two slices swapped.
Tensor roll_dims(const Tensor& x, const DimVec& shifts, const DimVec& dims) {
  Tensor out = x;
  for (size_t i = 0; i < dims.size(); ++i) {
    int64_t d = wrap_dim(dims[i], x.dim());
    int64_t n = x.dim() == 0 ? 1 : x.sizes()[d];
    int64_t s = n ? ((shifts[i] % n) + n) % n : 0;
    if (s) out = cat(TensorList{narrow(out, d, n - s, s), narrow(out, d, 0, n - s)}, d);
  }
  return out.is_same(x) ? clone(x) : out;
}

}  // namespace

Tensor roll(const Tensor& x, const DimVec& shifts, const DimVec& dims) {
  TG_CHECK(!shifts.empty(), "`shifts` required");
  // Without dims, one shift rotates the flattened tensor.
  TG_CHECK(shifts.size() == dims.size() || (dims.empty() && shifts.size() == 1),
           "shifts and dimensions must align. shifts: ", shifts.size(), ", dims:", dims.size());
  return record_as<RollBackward0>(x, [&] {
    if (!dims.empty()) return roll_dims(x, shifts, dims);
    return reshape(roll_dims(reshape(x, DimVec{-1}), shifts, DimVec{0}), x.sizes());
  }, [&](RollBackward0& node) {
    node.shifts = shifts;
    node.dims = dims;
  });
}

// ---- repeat / repeat_interleave ----

struct RepeatBackward0 : Node {
  DimVec input_sizes, interleaved, repeat_dims;  // see repeat()
  std::string name() const override { return "RepeatBackward0"; }
  TensorList apply(TensorList&& grads) override {
    return {reshape(sum(reshape(grads[0], interleaved), repeat_dims, false), input_sizes)};
  }
};

Tensor repeat(const Tensor& x, const DimVec& repeats) {
  int64_t n = static_cast<int64_t>(repeats.size());
  TG_CHECK(n >= x.dim(),
           "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor");
  // The result seen as [r0, s0, r1, s1, ...]: x (padded with leading 1s) broadcast along each r_i.
  DimVec out_sizes(n), interleaved, source_strides, repeat_dims;
  int64_t pad = n - x.dim();
  for (int64_t i = 0; i < n; ++i) {
    int64_t size = i < pad ? 1 : x.sizes()[i - pad];
    out_sizes[i] = repeats[i] * size;
    interleaved.push_back(repeats[i]);
    interleaved.push_back(size);
    source_strides.push_back(0);
    source_strides.push_back(i < pad ? 0 : x.strides()[i - pad]);
    repeat_dims.push_back(2 * i);
  }
  check_size_nonnegative(out_sizes);
  return record_as<RepeatBackward0>(x, [&] {
    Tensor out = empty(out_sizes, x.dtype(), x.device());
    backend_for(x.device()).copy(make_view(out, interleaved, contiguous_strides(interleaved), out.offset()),
                                 make_view(x, interleaved, source_strides, x.offset()));
    return out;
  }, [&](RepeatBackward0& node) {
    node.input_sizes = x.sizes();
    node.interleaved = interleaved;
    node.repeat_dims = repeat_dims;
  });
}

Tensor repeat_interleave(const Tensor& x, int64_t repeats, std::optional<int64_t> dim) {
  TG_CHECK(repeats >= 0, "Repeats must be non-negative");
  // As ATen: each element gets a new dim of `repeats` copies, merged back into its own dim.
  Tensor input = dim ? x : flatten(x, 0, -1);
  int64_t d = dim ? wrap_dim(*dim, x.dim()) : 0;
  if (input.dim() == 0) input = reshape(input, DimVec{1});
  DimVec expanded = input.sizes(), merged = input.sizes();
  expanded.insert(static_cast<size_t>(d + 1), repeats);
  merged[d] *= repeats;
  return view(clone(expand(unsqueeze(input, d + 1), expanded)), merged);
}

// ---- diag ----

namespace {

// The `diagonal`-th diagonal of the [rows, cols] matrix m as a 1-D strided view (no history).
Tensor diagonal_view(const Tensor& m, int64_t diagonal) {
  int64_t rows = m.sizes()[0], cols = m.sizes()[1];
  int64_t length = std::max<int64_t>(0, diagonal >= 0 ? std::min(rows, cols - diagonal)
                                                      : std::min(rows + diagonal, cols));
  int64_t start = length == 0 ? 0 : (diagonal >= 0 ? diagonal * m.strides()[1] : -diagonal * m.strides()[0]);
  return make_view(m, DimVec{length}, DimVec{m.strides()[0] + m.strides()[1]}, m.offset() + start);
}

Tensor diagonal_copy(const Tensor& m, int64_t diagonal);

// A [rows, cols] matrix of zeros with v on its `diagonal`-th diagonal.
Tensor diag_embed(const Tensor& v, int64_t diagonal, int64_t rows, int64_t cols);

struct DiagEmbedBackward0 : Node {
  int64_t diagonal = 0;
  std::string name() const override { return "DiagEmbedBackward0"; }
  TensorList apply(TensorList&& grads) override { return {diagonal_copy(grads[0], diagonal)}; }
};

struct DiagonalBackward0 : Node {
  int64_t diagonal = 0, rows = 0, cols = 0;
  std::string name() const override { return "DiagonalBackward0_copy"; }
  TensorList apply(TensorList&& grads) override { return {diag_embed(grads[0], diagonal, rows, cols)}; }
};

Tensor diagonal_copy(const Tensor& m, int64_t diagonal) {
  return record_as<DiagonalBackward0>(m, [&] { return clone(diagonal_view(m, diagonal)); },
                                      [&](DiagonalBackward0& node) {
                                        node.diagonal = diagonal;
                                        node.rows = m.sizes()[0];
                                        node.cols = m.sizes()[1];
                                      });
}

Tensor diag_embed(const Tensor& v, int64_t diagonal, int64_t rows, int64_t cols) {
  return record_as<DiagEmbedBackward0>(v, [&] {
    Tensor out = zeros(DimVec{rows, cols}, v.dtype(), v.device());
    backend_for(v.device()).copy(diagonal_view(out, diagonal), v);
    return out;
  }, [&](DiagEmbedBackward0& node) { node.diagonal = diagonal; });
}

}  // namespace

Tensor diag(const Tensor& x, int64_t diagonal) {
  TG_CHECK(x.dim() == 1 || x.dim() == 2, "diag(): Supports 1D or 2D tensors. Got ", x.dim(), "D");
  if (x.dim() == 2) return diagonal_copy(x, diagonal);
  int64_t n = x.sizes()[0] + (diagonal >= 0 ? diagonal : -diagonal);
  return diag_embed(x, diagonal, n, n);
}

// ---- constant padding ----

struct ConstantPadNdBackward0 : Node {
  DimVec pads;
  std::string name() const override { return "ConstantPadNdBackward0"; }
  // Padding by the opposite amounts crops the padding off again (and restores cropped elements as zeros).
  TensorList apply(TensorList&& grads) override {
    DimVec negated;
    for (int64_t p : pads) negated.push_back(-p);
    return {constant_pad_nd(grads[0], negated, Scalar(0.0))};
  }
};

Tensor constant_pad_nd(const Tensor& x, const DimVec& pads, Scalar value) {
  TG_CHECK(pads.size() % 2 == 0, "Padding length must be divisible by 2");
  int64_t padded_dims = static_cast<int64_t>(pads.size()) / 2;
  TG_CHECK(padded_dims <= x.dim(), "Padding length should be less than or equal to two times the input dimension but "
           "got padding length ", pads.size(), " and input of dimension ", x.dim());
  // pads lists (before, after) pairs from the last dim backwards; the elements kept are copied in one strided copy.
  DimVec out_sizes = x.sizes(), kept = x.sizes();
  DimVec dst_skip(static_cast<size_t>(x.dim()), 0);
  int64_t src_offset = x.offset();
  for (int64_t i = 0; i < padded_dims; ++i) {
    int64_t d = x.dim() - 1 - i, before = pads[2 * i], after = pads[2 * i + 1];
    kept[d] = x.sizes()[d] + std::min<int64_t>(before, 0) + std::min<int64_t>(after, 0);
    TG_CHECK(kept[d] >= 0, "narrow(): length must be non-negative.");
    out_sizes[d] = x.sizes()[d] + before + after;
    src_offset += std::max<int64_t>(-before, 0) * x.strides()[d];
    dst_skip[d] = std::max<int64_t>(before, 0);
  }
  return record_as<ConstantPadNdBackward0>(x, [&] {
    Tensor out = full(out_sizes, value, x.dtype(), x.device());
    int64_t dst_offset = out.offset();
    for (int64_t d = 0; d < x.dim(); ++d) dst_offset += dst_skip[d] * out.strides()[d];
    backend_for(x.device()).copy(make_view(out, kept, out.strides(), dst_offset),
                                 make_view(x, kept, x.strides(), src_offset));
    return out;
  }, [&](ConstantPadNdBackward0& node) { node.pads = pads; });
}

}  // namespace tg::ops
