#pragma once
// Ops computed with other ops but recorded as the single node PyTorch records for them.
#include "autograd/node.h"
#include "core/grad_mode.h"

namespace tg::ops {

// `t`'s data as a tensor of its own: a view of a temporary made without history is no view for autograd.
inline Tensor own_result(const Tensor& t) {
  return t.is_view() ? make_view(t, t.sizes(), t.strides(), t.offset()) : t;
}

// Runs `forward` without history, then makes node N (with an edge to x, filled in by `setup`) the result's
// grad_fn. `forward` must return a new tensor (or a view of one), never x itself or a view of it.
template <typename N, typename Forward, typename Setup>
Tensor record_as(const Tensor& x, Forward&& forward, Setup&& setup) {
  bool record = compute_requires_grad(x);
  Tensor out;
  {
    AutoGradMode no_grad(false);
    out = own_result(forward());
  }
  if (record) {
    auto node = make_node<N>(x);
    setup(*node);
    set_history(out, node);
  }
  return out;
}

}  // namespace tg::ops
