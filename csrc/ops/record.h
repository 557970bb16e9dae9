#pragma once
// Ops computed with other ops but recorded as the single node PyTorch records for them.
#include "autograd/node.h"
#include "core/grad_mode.h"

namespace tg::ops {

// Runs `forward` without history, then makes node N (with an edge to x, filled in by `setup`) the result's
// grad_fn. `forward` must return a new tensor, never x itself or a view of it.
template <typename N, typename Forward, typename Setup>
Tensor record_as(const Tensor& x, Forward&& forward, Setup&& setup) {
  bool record = compute_requires_grad(x);
  Tensor out;
  {
    AutoGradMode no_grad(false);
    out = forward();
  }
  if (record) {
    auto node = make_node<N>(x);
    setup(*node);
    set_history(out, node);
  }
  return out;
}

}  // namespace tg::ops
