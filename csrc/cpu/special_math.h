#pragma once
// Special functions with the algorithms PyTorch's CPU kernels use (ATen's native/Math.h), so that values
// agree to the last bits: erfinv, digamma, trigamma and the Hurwitz zeta function.
#include <cmath>
#include <limits>

namespace tg::cpu::special {

constexpr double kPi = 3.14159265358979323846;

// c[0] * x^n + c[1] * x^(n-1) + ... + c[n] (Cephes' polevl).
template <typename T>
T polevl(T x, const T* c, int n) {
  T result = c[0];
  for (int i = 1; i <= n; ++i) result = result * x + c[i];
  return result;
}

// PyTorch's CPU build computes erfinv with MKL to within an ulp or so. Here: G. L. Pavlis' rational first guess
// (ATen's calc_erfinv) refined by two Newton steps in long double, where erf(x) - y does not cancel away the
// last bits; float goes through double.
inline double erfinv(double y) {
  const double a[4] = {0.886226899, -1.645349621, 0.914624893, -0.140543331};
  const double b[4] = {-2.118377725, 1.442710462, -0.329097515, 0.012229801};
  const double c[4] = {-1.970840454, -1.624906493, 3.429567803, 1.641345311};
  const double d[2] = {3.543889200, 1.637067800};
  double y_abs = std::abs(y);
  if (!(y_abs <= 1)) return std::numeric_limits<double>::quiet_NaN();
  if (y_abs == 1) return std::copysign(std::numeric_limits<double>::infinity(), y);
  double guess;
  if (y_abs <= 0.7) {
    double z = y * y;
    double num = ((a[3] * z + a[2]) * z + a[1]) * z + a[0];
    double dem = (((b[3] * z + b[2]) * z + b[1]) * z + b[0]) * z + 1;
    guess = y * num / dem;
  } else {
    double z = std::sqrt(-std::log((1 - y_abs) / 2));
    double num = ((c[3] * z + c[2]) * z + c[1]) * z + c[0];
    double dem = (d[1] * z + d[0]) * z + 1;
    guess = std::copysign(num, y) / dem;
  }
  const long double two_over_sqrt_pi = 1.128379167095512573896158903121545172L;
  long double x = guess, target = y;
  for (int step = 0; step < 2; ++step) x -= (std::erf(x) - target) / (two_over_sqrt_pi * std::exp(-x * x));
  return static_cast<double>(x);
}
inline float erfinv(float y) { return static_cast<float>(erfinv(static_cast<double>(y))); }

// MKL's float lgamma, which PyTorch's CPU build uses, is within rounding of the double result.
inline double lgamma(double x) { return std::lgamma(x); }
inline float lgamma(float x) { return static_cast<float>(std::lgamma(static_cast<double>(x))); }

// Recurrence up to x >= 10, then the asymptotic series; reflection for negative x (ATen's calc_digamma).
template <typename T>
T digamma(T x) {
  const T psi_10 = T(2.25175258906672110764);
  if (x == 0) return std::copysign(std::numeric_limits<T>::infinity(), -x);
  if (x < 0) {
    if (x == std::trunc(x)) return std::numeric_limits<T>::quiet_NaN();
    // tan(pi * frac(x)) is more accurate than tan(pi * x) for |x| > 1.
    double whole;
    double frac = std::modf(static_cast<double>(x), &whole);
    return digamma(T(1) - x) - static_cast<T>(kPi / std::tan(kPi * frac));
  }
  T result = 0;
  while (x < 10) {
    result -= T(1) / x;
    x += 1;
  }
  if (x == 10) return result + psi_10;
  static const T A[] = {8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
                        -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
                        8.33333333333333333333E-2};
  T y = 0;
  if (x < T(1.0e17)) {
    T z = T(1) / (x * x);
    y = z * polevl(z, A, 6);
  }
  return result + std::log(x) - (T(0.5) / x) - y;
}

// polygamma(1, x) in T's own precision, as ATen's CPU trigamma.
template <typename T>
T trigamma(T x) {
  const T pi = static_cast<T>(kPi);
  T sign = 1, result = 0;
  if (x < T(0.5)) {
    sign = -1;
    const T sin_pi_x = std::sin(pi * x);
    result -= (pi * pi) / (sin_pi_x * sin_pi_x);
    x = 1 - x;
  }
  for (int i = 0; i < 6; ++i) {
    result += 1 / (x * x);
    x += 1;
  }
  const T ixx = 1 / (x * x);
  result += (1 + 1 / (2 * x) + ixx * (T(1) / 6 - ixx * (T(1) / 30 - ixx * (T(1) / 42)))) / x;
  return sign * result;
}

// The Hurwitz zeta function sum_k (k + q)^-x by Euler-Maclaurin summation (Cephes' zeta, as ATen's), in double.
template <typename T>
T zeta(T x_in, T q_in) {
  const double machep = 1.11022302462515654042E-16;
  static const double A[] = {12.0, -720.0, 30240.0, -1209600.0, 47900160.0, -1.8924375803183791606e9,
                             7.47242496e10, -2.950130727918164224e12, 1.1646782814350067249e14,
                             -4.5979787224074726105e15, 1.8152105401943546773e17, -7.1661652561756670113e18};
  double x = x_in, q = q_in;
  if (x == 1) return std::numeric_limits<T>::infinity();
  if (x < 1) return std::numeric_limits<T>::quiet_NaN();
  if (q <= 0) {
    if (q == std::floor(q)) return std::numeric_limits<T>::infinity();
    if (x != std::floor(x)) return std::numeric_limits<T>::quiet_NaN();
  }
  double s = std::pow(q, -x), a = q, b = 0;
  int i = 0;
  while (i < 9 || a <= 9.0) {
    i += 1;
    a += 1;
    b = std::pow(a, -x);
    s += b;
    if (-machep * s < b && b < machep * s) return static_cast<T>(s);
  }
  double w = a;
  s += b * w / (x - 1);
  s -= 0.5 * b;
  a = 1;
  double k = 0;
  for (int j = 0; j < 12; ++j) {
    a *= x + k;
    b /= w;
    double t = a * b / A[j];
    s = s + t;
    if (std::fabs(t / s) < machep) return static_cast<T>(s);
    k += 1;
    a *= x + k;
    b /= w;
    k += 1;
  }
  return static_cast<T>(s);
}

}  // namespace tg::cpu::special
