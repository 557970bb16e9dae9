#pragma once
// Fused optimizer updates over one contiguous parameter and its state: a single pass
// reads each element once and writes it once. The arithmetic repeats PyTorch's
// single-tensor (foreach=False) CPU steps operation by operation, with FMA exactly where
// torch's kernels fuse (add with alpha, lerp, addcmul), so that results agree to the last
// bit except where torch's sqrt (MKL) rounds differently.
#include <cstdint>

namespace tg::optim::kernels {

enum class MomentumInit : uint8_t { None, First, Update };

template <typename T>
struct SgdArgs {
  T* param;
  const T* grad;
  T* momentum_buffer;  // null when momentum == 0
  int64_t n;
  T neg_lr, weight_decay, momentum, one_minus_dampening;
  bool maximize, nesterov, has_weight_decay;
  MomentumInit momentum_init;  // First: the buffer is written with the gradient
};

template <typename T>
struct AdamArgs {
  T* param;
  const T* grad;
  T* exp_avg;
  T* exp_avg_sq;
  T* max_exp_avg_sq;  // null unless amsgrad
  int64_t n;
  T weight_decay;       // L2 term added to the gradient (Adam); 0 for AdamW
  T decay_factor;       // 1 - lr * weight_decay (AdamW), applied to the parameter first
  T one_minus_beta1, beta2, one_minus_beta2;
  T bias_correction2_sqrt, eps, neg_step_size;
  bool maximize, has_weight_decay, decoupled;
};

template <typename T>
struct RmspropArgs {
  T* param;
  const T* grad;
  T* square_avg;
  T* grad_avg;         // null unless centered
  T* momentum_buffer;  // null unless momentum > 0
  int64_t n;
  T weight_decay, alpha, one_minus_alpha, eps, momentum, neg_lr;
  bool maximize, has_weight_decay;
};

template <typename T> void sgd(const SgdArgs<T>& a);
template <typename T> void adam(const AdamArgs<T>& a);
template <typename T> void rmsprop(const RmspropArgs<T>& a);

}  // namespace tg::optim::kernels
