#include <cmath>
#include <limits>
#include <type_traits>
#include "cpu/cpu_backend.h"
#include "cpu/loops.h"
#include "cpu/special_math.h"
#include "cpu/vec_math.h"

namespace tg::cpu {

namespace {

template <typename T>
T floor_mod(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    T r = std::fmod(a, b);
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
  } else {
    if (b == 0) throw Error("ZeroDivisionError");
    if (b == -1) return 0;  // a % -1 overflows for the lowest a
    T r = a % b;
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
  }
}

template <typename T>
T floor_div(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    // ATen's div_floor_floating: from fmod, so that -1.7 // inf is -1 and inf // 2 is nan, as in Python.
    if (b == 0) return a / b;
    T mod = std::fmod(a, b);
    T div = (a - mod) / b;
    if (mod != 0 && (b < 0) != (mod < 0)) div -= T(1);
    if (div == 0) return std::copysign(T(0), a / b);
    T floored = std::floor(div);
    return div - floored > T(0.5) ? floored + T(1) : floored;
  } else {
    if (b == 0) throw Error("ZeroDivisionError");
    if (b == -1) return static_cast<T>(0 - static_cast<std::make_unsigned_t<T>>(a));  // wraps for the lowest a
    T q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
  }
}

// Negative exponents truncate to 0 unless |base| is 1, as in PyTorch (number exponents are refused earlier).
template <typename T>
T int_pow(T base, T exp) {
  if (exp < 0) {
    if (base == 1) return 1;
    if (base == -1) return (exp % 2 == 0) ? 1 : -1;
    return 0;
  }
  T result = 1;
  while (exp) {
    if (exp & 1) result *= base;
    base *= base;
    exp >>= 1;
  }
  return result;
}

template <typename T>
void arithmetic(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  switch (op) {
    case BinaryOp::Add: return binary_loop<T, T>(out, a, b, [](T x, T y) { return T(x + y); });
    case BinaryOp::Sub: return binary_loop<T, T>(out, a, b, [](T x, T y) { return T(x - y); });
    case BinaryOp::Mul: return binary_loop<T, T>(out, a, b, [](T x, T y) { return T(x * y); });
    case BinaryOp::Div:
      if constexpr (std::is_floating_point_v<T>)
        return binary_loop<T, T>(out, a, b, [](T x, T y) { return x / y; });
      break;
    case BinaryOp::Pow:
      if constexpr (std::is_floating_point_v<T>)
        return binary_loop<T, T>(out, a, b, [](T x, T y) { return std::pow(x, y); });
      else if constexpr (std::is_same_v<T, int64_t>)
        return binary_loop<T, T>(out, a, b, [](T x, T y) { return int_pow(x, y); });
      break;
    case BinaryOp::Maximum:
      return binary_loop<T, T>(out, a, b, [](T x, T y) {
        if constexpr (std::is_floating_point_v<T>)
          if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<T>::quiet_NaN();
        return x > y ? x : y;
      });
    case BinaryOp::Minimum:
      return binary_loop<T, T>(out, a, b, [](T x, T y) {
        if constexpr (std::is_floating_point_v<T>)
          if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<T>::quiet_NaN();
        return x < y ? x : y;
      });
    case BinaryOp::Remainder:
      if constexpr (!std::is_same_v<T, bool>)
        return binary_loop<T, T>(out, a, b, [](T x, T y) { return floor_mod(x, y); });
      break;
    case BinaryOp::FloorDivide:
      if constexpr (!std::is_same_v<T, bool>)
        return binary_loop<T, T>(out, a, b, [](T x, T y) { return floor_div(x, y); });
      break;
    case BinaryOp::Atan2:
      if constexpr (std::is_floating_point_v<T>)
        return binary_loop<T, T>(out, a, b, [](T x, T y) { return std::atan2(x, y); });
      break;
    case BinaryOp::Hypot:
      if constexpr (std::is_floating_point_v<T>)
        return binary_loop<T, T>(out, a, b, [](T x, T y) { return std::hypot(x, y); });
      break;
    case BinaryOp::Zeta:
      if constexpr (std::is_floating_point_v<T>)
        return binary_loop<T, T>(out, a, b, [](T x, T q) { return special::zeta(x, q); });
      break;
    default: break;
  }
  throw NotImplementedError(str_cat("binary op not implemented for '", dtype_name(out.dtype()), "'"));
}

template <typename T>
void comparison(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  switch (op) {
    case BinaryOp::Eq: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x == y; });
    case BinaryOp::Ne: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x != y; });
    case BinaryOp::Lt: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x < y; });
    case BinaryOp::Le: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x <= y; });
    case BinaryOp::Gt: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x > y; });
    case BinaryOp::Ge: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x >= y; });
    case BinaryOp::LogicalAnd: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x && y; });
    case BinaryOp::LogicalOr: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return x || y; });
    case BinaryOp::LogicalXor: return binary_loop<bool, T>(out, a, b, [](T x, T y) { return bool(x) != bool(y); });
    default: throw Error("not a comparison");
  }
}

bool is_comparison(BinaryOp op) { return op >= BinaryOp::Eq; }

// The transcendental ops use vec_math.h, inlined into unary_loop's SIMD-dispatched loops.
template <typename T>
void floating_unary(UnaryOp op, const Tensor& out, const Tensor& a) {
  auto run = [&](auto f) { unary_loop<T, T>(out, a, f); };
  switch (op) {
    case UnaryOp::Exp: return run([](T x) TG_INLINE_LAMBDA { return vec::exp(x); });
    case UnaryOp::Log: return run([](T x) TG_INLINE_LAMBDA { return vec::log(x); });
    case UnaryOp::Sqrt: return run([](T x) TG_INLINE_LAMBDA { return std::sqrt(x); });
    case UnaryOp::Rsqrt: return run([](T x) TG_INLINE_LAMBDA { return T(1) / std::sqrt(x); });
    case UnaryOp::Sin: return run([](T x) TG_INLINE_LAMBDA { return std::sin(x); });
    case UnaryOp::Cos: return run([](T x) TG_INLINE_LAMBDA { return std::cos(x); });
    case UnaryOp::Tanh: return run([](T x) TG_INLINE_LAMBDA { return vec::tanh(x); });
    case UnaryOp::Sigmoid: return run([](T x) TG_INLINE_LAMBDA { return vec::sigmoid(x); });
    case UnaryOp::Reciprocal: return run([](T x) TG_INLINE_LAMBDA { return T(1) / x; });
    case UnaryOp::Log1p: return run([](T x) TG_INLINE_LAMBDA { return vec::log1p(x); });
    case UnaryOp::Expm1: return run([](T x) TG_INLINE_LAMBDA { return vec::expm1(x); });
    case UnaryOp::Floor: return run([](T x) TG_INLINE_LAMBDA { return std::floor(x); });
    case UnaryOp::Ceil: return run([](T x) TG_INLINE_LAMBDA { return std::ceil(x); });
    case UnaryOp::Round: return run([](T x) TG_INLINE_LAMBDA { return std::nearbyint(x); });
    case UnaryOp::Trunc: return run([](T x) TG_INLINE_LAMBDA { return std::trunc(x); });
    case UnaryOp::Tan: return run([](T x) { return std::tan(x); });
    case UnaryOp::Asin: return run([](T x) { return std::asin(x); });
    case UnaryOp::Acos: return run([](T x) { return std::acos(x); });
    case UnaryOp::Atan: return run([](T x) { return std::atan(x); });
    case UnaryOp::Sinh: return run([](T x) { return std::sinh(x); });
    case UnaryOp::Cosh: return run([](T x) { return std::cosh(x); });
    case UnaryOp::Asinh: return run([](T x) { return std::asinh(x); });
    case UnaryOp::Acosh: return run([](T x) { return std::acosh(x); });
    case UnaryOp::Atanh: return run([](T x) { return std::atanh(x); });
    case UnaryOp::Log2: return run([](T x) { return std::log2(x); });
    case UnaryOp::Log10: return run([](T x) { return std::log10(x); });
    case UnaryOp::Exp2: return run([](T x) { return std::exp2(x); });
    case UnaryOp::Erfc: return run([](T x) { return std::erfc(x); });
    case UnaryOp::Erfinv: return run([](T x) { return special::erfinv(x); });
    case UnaryOp::Lgamma: return run([](T x) { return special::lgamma(x); });
    case UnaryOp::Digamma: return run([](T x) { return special::digamma(x); });
    case UnaryOp::Trigamma: return run([](T x) { return special::trigamma(x); });
    default: break;
  }
  throw Error("not a floating unary op");
}

template <typename T>
void any_unary(UnaryOp op, const Tensor& out, const Tensor& a) {
  switch (op) {
    case UnaryOp::Neg: return unary_loop<T, T>(out, a, [](T x) { return T(-x); });
    case UnaryOp::Abs: return unary_loop<T, T>(out, a, [](T x) { return x < 0 ? T(-x) : x; });
    case UnaryOp::Relu: return unary_loop<T, T>(out, a, [](T x) { return x < 0 ? T(0) : x; });  // nan stays nan
    case UnaryOp::Sign: return unary_loop<T, T>(out, a, [](T x) { return T((T(0) < x) - (x < T(0))); });
    case UnaryOp::Square: return unary_loop<T, T>(out, a, [](T x) { return T(x * x); });
    default: break;
  }
  if constexpr (std::is_floating_point_v<T>) {
    return floating_unary<T>(op, out, a);
  } else {
    switch (op) {
      case UnaryOp::Floor: case UnaryOp::Ceil: case UnaryOp::Round: case UnaryOp::Trunc:
        return unary_loop<T, T>(out, a, [](T x) { return x; });
      default: break;
    }
  }
  throw NotImplementedError(str_cat("unary op not implemented for '", dtype_name(out.dtype()), "'"));
}

// The names PyTorch's CPU kernels report when a bool tensor reaches them.
const char* bool_kernel_name(UnaryOp op) {
  switch (op) {
    case UnaryOp::Abs: return "abs_cpu";
    case UnaryOp::Floor: return "floor_vml_cpu";
    case UnaryOp::Ceil: return "ceil_vml_cpu";
    case UnaryOp::Round: return "round_vml_cpu";
    case UnaryOp::Trunc: return "trunc_vml_cpu";
    default: return "unary op";
  }
}
const char* bool_kernel_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Remainder: return "remainder_cpu";
    case BinaryOp::FloorDivide: return "div_floor_cpu";
    default: return "binary op";
  }
}

}  // namespace

void CpuBackend::binary(BinaryOp op, const Tensor& out, const Tensor& a, const Tensor& b) {
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (is_comparison(op)) comparison<T>(op, out, a, b);
    else if constexpr (std::is_same_v<T, bool>) {
      // bool arithmetic (True + True) runs in int64 and is written back as bool by PyTorch's rules.
      switch (op) {
        case BinaryOp::Add: return binary_loop<bool, bool>(out, a, b, [](bool x, bool y) { return x || y; });
        case BinaryOp::Mul: return binary_loop<bool, bool>(out, a, b, [](bool x, bool y) { return x && y; });
        case BinaryOp::Maximum: return binary_loop<bool, bool>(out, a, b, [](bool x, bool y) { return x || y; });
        case BinaryOp::Minimum: return binary_loop<bool, bool>(out, a, b, [](bool x, bool y) { return x && y; });
        case BinaryOp::Pow: return binary_loop<bool, bool>(out, a, b, [](bool x, bool y) { return x || !y; });
        default: throw NotImplementedError(str_cat("\"", bool_kernel_name(op), "\" not implemented for 'Bool'"));
      }
    } else {
      arithmetic<T>(op, out, a, b);
    }
  });
}

void CpuBackend::unary(UnaryOp op, const Tensor& out, const Tensor& a) {
  if (op == UnaryOp::LogicalNot) {
    dispatch_all(a.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      unary_loop<bool, T>(out, a, [](T x) { return !x; });
    });
    return;
  }
  dispatch_all(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool>) {
      if (op != UnaryOp::Sign)
        throw NotImplementedError(str_cat("\"", bool_kernel_name(op), "\" not implemented for 'Bool'"));
      unary_loop<bool, bool>(out, a, [](bool x) { return x; });
    } else {
      any_unary<T>(op, out, a);
    }
  });
}

void CpuBackend::output_grad(OutputGradOp op, const Tensor& grad_in, const Tensor& grad_out, const Tensor& out) {
  dispatch_floating(out.dtype(), "output_grad", [&](auto tag) {
    using T = typename decltype(tag)::type;
    switch (op) {
      case OutputGradOp::Relu:  // a selection, as PyTorch's threshold_backward: a NaN output passes g through
        return binary_loop<T, T>(grad_in, grad_out, out, [](T g, T y) TG_INLINE_LAMBDA { return y <= T(0) ? T(0) : g; });
      case OutputGradOp::Tanh:
        return binary_loop<T, T>(grad_in, grad_out, out, [](T g, T y) TG_INLINE_LAMBDA { return g * (T(1) - y * y); });
      case OutputGradOp::Sigmoid:
        return binary_loop<T, T>(grad_in, grad_out, out, [](T g, T y) TG_INLINE_LAMBDA { return g * (T(1) - y) * y; });
    }
  });
}

void CpuBackend::clamp(const Tensor& out, const Tensor& a, const Scalar* lo, const Scalar* hi) {
  dispatch_numeric(a.dtype(), "clamp", [&](auto tag) {
    using T = typename decltype(tag)::type;
    // A missing bound is no bound: infinities pass through.
    using Limits = std::numeric_limits<T>;
    T low = lo ? lo->to<T>() : (Limits::has_infinity ? -Limits::infinity() : Limits::lowest());
    T high = hi ? hi->to<T>() : (Limits::has_infinity ? Limits::infinity() : Limits::max());
    bool nan_bound = false;  // a NaN bound makes every element NaN, as in PyTorch
    if constexpr (std::is_floating_point_v<T>) nan_bound = std::isnan(low) || std::isnan(high);
    // PyTorch applies min first, then max: with min > max every element becomes max.
    unary_loop<T, T>(out, a, [=](T x) {
      if constexpr (std::is_floating_point_v<T>)
        if (std::isnan(x) || nan_bound) return nan_bound ? std::numeric_limits<T>::quiet_NaN() : x;
      T y = x < low ? low : x;
      return y > high ? high : y;
    });
  });
}

void CpuBackend::where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  dispatch_all(out.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    parallel_for_each_run<4>(out.sizes(), operands_of<4>({&out, &cond, &a, &b}), [&](auto p, auto s, int64_t n) {
      T* o = reinterpret_cast<T*>(p[0]);
      const uint8_t* c = reinterpret_cast<const uint8_t*>(p[1]);  // GCC does not vectorise a bool condition
      const T* x = reinterpret_cast<const T*>(p[2]);
      const T* y = reinterpret_cast<const T*>(p[3]);
      // Contiguous output and condition with contiguous or broadcast values: steps known at compile time.
      // Vectorised, the choice is a blend: a branch costs 4 ns an element on a random mask.
      auto select = [&](auto x_step, auto y_step) {
        vec::simd_call([=]() TG_INLINE_LAMBDA {
          T* __restrict out = o;  // else a store through o might change the captured pointers
          for (int64_t i = 0; i < n; ++i) {
            const T if_true = x[i * x_step], if_false = y[i * y_step];  // both loaded: no conditional load
            out[i] = c[i] ? if_true : if_false;
          }
        });
      };
      using Zero = std::integral_constant<int64_t, 0>;
      using One = std::integral_constant<int64_t, 1>;
      if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 1) return select(One(), One());
      if (s[0] == 1 && s[1] == 1 && s[2] == 0 && s[3] == 1) return select(Zero(), One());
      if (s[0] == 1 && s[1] == 1 && s[2] == 1 && s[3] == 0) return select(One(), Zero());
      for (int64_t i = 0; i < n; ++i) o[i * s[0]] = c[i * s[1]] ? x[i * s[2]] : y[i * s[3]];
    });
  });
}

void CpuBackend::copy(const Tensor& dst, const Tensor& src) {
  TG_CHECK(src.device().is_cpu() && dst.device().is_cpu(), "copy between devices needs the CUDA backend");
  dispatch_all(dst.dtype(), [&](auto dtag) {
    using To = typename decltype(dtag)::type;
    dispatch_all(src.dtype(), [&](auto stag) {
      using Ti = typename decltype(stag)::type;
      unary_loop<To, Ti>(dst, src, [](Ti x) { return static_cast<To>(x); });
    });
  });
}

void CpuBackend::fill(const Tensor& dst, Scalar value) {
  dispatch_all(dst.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T v = value.to<T>();
    parallel_for_each_run<1>(dst.sizes(), operands_of<1>({&dst}), [&](auto p, auto s, int64_t n) {
      T* o = reinterpret_cast<T*>(p[0]);
      if (s[0] == 1) {
        vec::simd_for(n, [=](int64_t i) TG_INLINE_LAMBDA { o[i] = v; });
      } else {
        for (int64_t i = 0; i < n; ++i) o[i * s[0]] = v;
      }
    });
  });
}

}  // namespace tg::cpu
