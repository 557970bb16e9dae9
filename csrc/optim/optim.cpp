#include "optim/optim.h"

#include <cmath>
#include <initializer_list>

#include "core/dispatch.h"
#include "core/error.h"
#include "optim/kernels.h"

namespace tg::optim {

namespace {

using kernels::MomentumInit;

void check_like_param(const Tensor& param, const Tensor& t, const char* what) {
  TG_CHECK(t.defined(), "optimizer step: missing ", what, " for a parameter of shape ", shape_str(param.sizes()));
  TG_CHECK(t.sizes() == param.sizes(), "optimizer step: ", what, " has shape ", shape_str(t.sizes()),
           " but the parameter has shape ", shape_str(param.sizes()));
  TG_CHECK(t.dtype() == param.dtype(), "optimizer step: ", what, " has dtype ", dtype_name(t.dtype()),
           " but the parameter has dtype ", dtype_name(param.dtype()));
  TG_CHECK(t.device().is_cpu(), "optimizer step: ", what, " is on ", t.device().str(),
           "; tapegrad's fused optimizer steps run on the CPU");
}

void check_param(const Tensor& param, const Tensor& grad) {
  TG_CHECK(is_floating(param.dtype()), "optimizer step: parameters must be float32 or float64, got ",
           dtype_name(param.dtype()));
  TG_CHECK(param.device().is_cpu(), "optimizer step: a parameter is on ", param.device().str(),
           "; tapegrad's fused optimizer steps run on the CPU");
  check_like_param(param, grad, "the gradient");
}

// The kernels want contiguous operands that do not overlap. Anything else is worked on
// as a contiguous copy, written back to the original afterwards if the step changes it.
class Operand {
 public:
  Operand(const Tensor& t, bool written, const Tensor& alias_of = Tensor())
      : original_(t), dense_(t), written_(written) {
    if (!t.defined()) return;
    bool aliased = alias_of.defined() && t.storage() == alias_of.storage();
    if (!t.is_contiguous() || aliased) {
      dense_ = empty(t.sizes(), t.dtype(), t.device());
      backend_for(t.device()).copy(dense_, t);
    }
  }
  template <typename T>
  T* data() const { return original_.defined() ? dense_.data<T>() : nullptr; }
  void finish() const {
    if (!original_.defined() || !written_) return;
    if (!dense_.is_same(original_)) backend_for(original_.device()).copy(original_, dense_);
    original_.bump_version();
  }

 private:
  Tensor original_, dense_;
  bool written_ = false;
};

void check_step(const Tensor& step) {
  TG_CHECK(step.defined() && step.numel() == 1, "optimizer step: the 'step' state must be a one-element tensor");
  TG_CHECK(step.device().is_cpu(), "optimizer step: the 'step' state must be on the CPU");
  TG_CHECK(step.dtype() != ScalarType::Bool, "optimizer step: the 'step' state must be a number, not bool");
}

// step += 1 in the step tensor's own dtype (torch keeps it as a float32 tensor, so a
// step count past 2**24 stops growing there as well); returns the new count.
double increment_step(const Tensor& step) {
  double value = dispatch_numeric(step.dtype(), "optimizer step", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* s = step.data<T>();
    *s = static_cast<T>(*s + T(1));
    return static_cast<double>(*s);
  });
  step.bump_version();
  return value;
}

void check_lists(size_t n, std::initializer_list<size_t> sizes) {
  for (size_t s : sizes) TG_CHECK(s == n, "optimizer step: expected ", n, " state tensors per list, got ", s);
}

}  // namespace

void sgd_step(const TensorList& params, const TensorList& grads, TensorList& momentum_buffers,
              const SgdOptions& o) {
  const bool use_momentum = o.momentum != 0;
  check_lists(params.size(), {grads.size()});
  if (use_momentum) check_lists(params.size(), {momentum_buffers.size()});
  for (size_t i = 0; i < params.size(); ++i) {
    check_param(params[i], grads[i]);
    if (use_momentum && momentum_buffers[i].defined())
      check_like_param(params[i], momentum_buffers[i], "momentum_buffer");
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& param = params[i];
    MomentumInit init = MomentumInit::None;
    if (use_momentum) {
      init = momentum_buffers[i].defined() ? MomentumInit::Update : MomentumInit::First;
      if (init == MomentumInit::First) momentum_buffers[i] = empty(param.sizes(), param.dtype(), param.device());
    }
    Operand p(param, true), g(grads[i], false, param), buf(use_momentum ? momentum_buffers[i] : Tensor(), true);
    dispatch_floating(param.dtype(), "sgd", [&](auto tag) {
      using T = typename decltype(tag)::type;
      kernels::SgdArgs<T> a;
      a.param = p.data<T>();
      a.grad = g.data<T>();
      a.momentum_buffer = buf.data<T>();
      a.n = param.numel();
      a.neg_lr = static_cast<T>(-o.lr);
      a.weight_decay = static_cast<T>(o.weight_decay);
      a.momentum = static_cast<T>(o.momentum);
      a.one_minus_dampening = static_cast<T>(1 - o.dampening);
      a.maximize = o.maximize;
      a.nesterov = o.nesterov;
      a.has_weight_decay = o.weight_decay != 0;
      a.momentum_init = init;
      kernels::sgd(a);
    });
    p.finish();
    buf.finish();
  }
}

void adam_step(const TensorList& params, const TensorList& grads, const TensorList& exp_avgs,
               const TensorList& exp_avg_sqs, const TensorList& max_exp_avg_sqs, const TensorList& steps,
               const AdamOptions& o) {
  check_lists(params.size(), {grads.size(), exp_avgs.size(), exp_avg_sqs.size(), steps.size()});
  if (o.amsgrad) check_lists(params.size(), {max_exp_avg_sqs.size()});
  for (size_t i = 0; i < params.size(); ++i) {
    check_param(params[i], grads[i]);
    check_like_param(params[i], exp_avgs[i], "exp_avg");
    check_like_param(params[i], exp_avg_sqs[i], "exp_avg_sq");
    if (o.amsgrad) check_like_param(params[i], max_exp_avg_sqs[i], "max_exp_avg_sq");
    check_step(steps[i]);
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& param = params[i];
    // The per-parameter scalars, in double precision as torch computes them in Python.
    const double step = increment_step(steps[i]);
    const double bias_correction1 = 1 - std::pow(o.beta1, step);
    const double bias_correction2 = 1 - std::pow(o.beta2, step);
    const double step_size = o.lr / bias_correction1;
    const double bias_correction2_sqrt = std::pow(bias_correction2, 0.5);

    Operand p(param, true), g(grads[i], false, param), m(exp_avgs[i], true), v(exp_avg_sqs[i], true),
        vmax(o.amsgrad ? max_exp_avg_sqs[i] : Tensor(), true);
    dispatch_floating(param.dtype(), "adam", [&](auto tag) {
      using T = typename decltype(tag)::type;
      kernels::AdamArgs<T> a;
      a.param = p.data<T>();
      a.grad = g.data<T>();
      a.exp_avg = m.data<T>();
      a.exp_avg_sq = v.data<T>();
      a.max_exp_avg_sq = vmax.data<T>();
      a.n = param.numel();
      a.weight_decay = static_cast<T>(o.weight_decay);
      a.decay_factor = static_cast<T>(1 - o.lr * o.weight_decay);
      a.one_minus_beta1 = static_cast<T>(1 - o.beta1);
      a.beta2 = static_cast<T>(o.beta2);
      a.one_minus_beta2 = static_cast<T>(1 - o.beta2);
      a.bias_correction2_sqrt = static_cast<T>(bias_correction2_sqrt);
      a.eps = static_cast<T>(o.eps);
      a.neg_step_size = static_cast<T>(-step_size);
      a.maximize = o.maximize;
      a.has_weight_decay = o.weight_decay != 0;
      a.decoupled = o.decoupled_weight_decay;
      kernels::adam(a);
    });
    p.finish();
    m.finish();
    v.finish();
    vmax.finish();
  }
}

void rmsprop_step(const TensorList& params, const TensorList& grads, const TensorList& square_avgs,
                  const TensorList& grad_avgs, const TensorList& momentum_buffers, const TensorList& steps,
                  const RmspropOptions& o) {
  const bool use_momentum = o.momentum > 0;
  check_lists(params.size(), {grads.size(), square_avgs.size(), steps.size()});
  if (o.centered) check_lists(params.size(), {grad_avgs.size()});
  if (use_momentum) check_lists(params.size(), {momentum_buffers.size()});
  for (size_t i = 0; i < params.size(); ++i) {
    check_param(params[i], grads[i]);
    check_like_param(params[i], square_avgs[i], "square_avg");
    if (o.centered) check_like_param(params[i], grad_avgs[i], "grad_avg");
    if (use_momentum) check_like_param(params[i], momentum_buffers[i], "momentum_buffer");
    check_step(steps[i]);
  }
  for (size_t i = 0; i < params.size(); ++i) {
    const Tensor& param = params[i];
    increment_step(steps[i]);

    Operand p(param, true), g(grads[i], false, param), sq(square_avgs[i], true),
        gavg(o.centered ? grad_avgs[i] : Tensor(), true), buf(use_momentum ? momentum_buffers[i] : Tensor(), true);
    dispatch_floating(param.dtype(), "rmsprop", [&](auto tag) {
      using T = typename decltype(tag)::type;
      kernels::RmspropArgs<T> a;
      a.param = p.data<T>();
      a.grad = g.data<T>();
      a.square_avg = sq.data<T>();
      a.grad_avg = gavg.data<T>();
      a.momentum_buffer = buf.data<T>();
      a.n = param.numel();
      a.weight_decay = static_cast<T>(o.weight_decay);
      a.alpha = static_cast<T>(o.alpha);
      a.one_minus_alpha = static_cast<T>(1 - o.alpha);
      a.eps = static_cast<T>(o.eps);
      a.momentum = static_cast<T>(o.momentum);
      a.neg_lr = static_cast<T>(-o.lr);
      a.maximize = o.maximize;
      a.has_weight_decay = o.weight_decay != 0;
      kernels::rmsprop(a);
    });
    p.finish();
    sq.finish();
    gavg.finish();
    buf.finish();
  }
}

}  // namespace tg::optim
