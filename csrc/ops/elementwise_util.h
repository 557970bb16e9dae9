#pragma once
// Shared plumbing for elementwise ops: promotion, broadcasting and output allocation.
#include "core/dispatch.h"
#include "ops/ops.h"

namespace tg::ops {

// `t` seen with `sizes` (which it broadcasts to), stride 0 on broadcast dims. No history.
Tensor expand_view(const Tensor& t, const DimVec& sizes);
// A view of `a` for a view op: shares its storage and version counter and remembers its base and how
// it was made, for in-place ops on it later. The caller records its history.
Tensor view_of(const Tensor& a, DimVec sizes, DimVec strides, int64_t offset);
// `t` converted to dtype, or `t` itself if it already has it. No history.
Tensor cast_for_compute(const Tensor& t, ScalarType dtype);
// The device both operands run on; a 0-dim CPU tensor may join a tensor on any device.
Device common_device(const Tensor& a, const Tensor& b);
// out = op(a, b) computed in `compute` dtype, written as `out_dtype`, with broadcasting.
Tensor binary_kernel(BinaryOp op, const Tensor& a, const Tensor& b, ScalarType compute, ScalarType out_dtype);
// Writes op(self, other) into self; checks the shape and dtype rules of in-place ops.
void binary_kernel_inplace(BinaryOp op, const Tensor& self, const Tensor& other, const char* name);
// PyTorch's dtype for math functions: integers and bools compute in the default float dtype.
ScalarType float_result_type(ScalarType t);
Tensor unary_kernel(UnaryOp op, const Tensor& a, ScalarType dtype);
// PyTorch's name for a dtype in messages: Bool, Long, Float, Double.

// PyTorch's casting rule for in-place results: never floating to integral, never to bool from
// anything else. Throws "result type Float can't be cast to the desired output type Long".
void check_can_cast(ScalarType result, ScalarType self);

}  // namespace tg::ops
