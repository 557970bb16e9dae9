#pragma once
#include "core/tensor.h"

namespace tg {

// loss.backward(): accumulates gradients of `roots` into the .grad of every leaf, or only
// into the .grad of `inputs` when given.
void backward(const TensorList& roots, const TensorList& grad_roots, bool retain_graph,
              bool create_graph, const TensorList& inputs = {});

// autograd.grad(): gradients of `roots` with respect to `inputs`, returned rather than
// accumulated; an undefined entry means unused (allowed only with allow_unused).
TensorList grad(const TensorList& roots, const TensorList& grad_roots, const TensorList& inputs,
                bool retain_graph, bool create_graph, bool allow_unused);

}  // namespace tg
