#pragma once
// Fused optimizer steps over lists of parameters: each call updates every parameter and
// its state tensors in place, with no autograd recording, following PyTorch's
// single-tensor (foreach=False) algorithms. Lists are parallel: entry i of every list
// belongs to params[i]. Writes bump version counters like torch's in-place ops.
#include "core/tensor.h"

namespace tg::optim {

struct SgdOptions {
  double lr = 1e-3, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false, maximize = false;
};
// With momentum != 0, an undefined momentum_buffers[i] is created from the first
// (weight-decayed) gradient, as torch does; otherwise the list is ignored.
void sgd_step(const TensorList& params, const TensorList& grads, TensorList& momentum_buffers,
              const SgdOptions& options);

struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0;
  bool amsgrad = false, maximize = false, decoupled_weight_decay = false;  // decoupled: AdamW
};
// steps[i] is the 0-dim step count, incremented before the update.
void adam_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
               const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, const TensorList& steps,
               const AdamOptions& options);

struct RmspropOptions {
  double lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0, momentum = 0;
  bool centered = false, maximize = false;
};
// grad_avgs is used when centered, momentum_buffers when momentum > 0.
void rmsprop_step(const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
                  const TensorList& grad_avgs, const TensorList& momentum_buffers, const TensorList& steps,
                  const RmspropOptions& options);

}  // namespace tg::optim
