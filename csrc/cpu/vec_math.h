#pragma once
// exp, log, log1p, expm1, tanh, sigmoid and erf for float and double, branch-free so that GCC
// vectorises a plain loop over them inside simd_call() (simd.h).
// The polynomials are weighted minimax fits on the reduced ranges given beside them, with each
// coefficient rounded to the working precision and the rest refitted; the errors quoted are the fits'.
#include <cstdint>
#include <limits>
#include <type_traits>

#include "cpu/simd.h"

namespace tg::cpu::vec {

// ---- bit-level helpers ----

template <typename T> struct Format;
template <> struct Format<float> {
  using Bits = uint32_t;
  static constexpr int kMantissa = 23;
};
template <> struct Format<double> {
  using Bits = uint64_t;
  static constexpr int kMantissa = 52;
};
template <typename T> using Bits = typename Format<T>::Bits;
template <typename T> constexpr int kMantissa = Format<T>::kMantissa;
template <typename T> constexpr Bits<T> kExponentBias = (Bits<T>(1) << (sizeof(T) * 8 - kMantissa<T> - 2)) - 1;
template <typename T> constexpr Bits<T> kSignBit = Bits<T>(1) << (sizeof(T) * 8 - 1);
template <typename T> constexpr T kInf = std::numeric_limits<T>::infinity();
template <typename T> constexpr T kNaN = std::numeric_limits<T>::quiet_NaN();

template <typename T> TG_ALWAYS_INLINE Bits<T> to_bits(T x) { return __builtin_bit_cast(Bits<T>, x); }
template <typename T> TG_ALWAYS_INLINE T from_bits(Bits<T> b) { return __builtin_bit_cast(T, b); }

// cond ? a : b as a bit blend: a plain ?: lets GCC specialise the arms (a clamp that makes the result a
// constant becomes a branch) and then the loop no longer vectorises.
template <typename T>
TG_ALWAYS_INLINE T select(bool cond, T a, T b) {
  Bits<T> mask = Bits<T>(0) - Bits<T>(cond);
  return from_bits<T>((to_bits(a) & mask) | (to_bits(b) & ~mask));
}

// min(max(x, lo), hi) that keeps NaN.
template <typename T>
TG_ALWAYS_INLINE T clamp(T x, T lo, T hi) {
  return select(x > hi, hi, select(x < lo, lo, x));
}

template <typename T> TG_ALWAYS_INLINE T abs(T x) { return from_bits<T>(to_bits(x) & ~kSignBit<T>); }

// |magnitude| with the sign bit of sign_of.
template <typename T>
TG_ALWAYS_INLINE T copysign(T magnitude, T sign_of) {
  return from_bits<T>((to_bits(magnitude) & ~kSignBit<T>) | (to_bits(sign_of) & kSignBit<T>));
}

// c0 + x * (c1 + x * (c2 + ...)), fully unrolled.
template <typename T> TG_ALWAYS_INLINE T poly(T, T c) { return c; }
template <typename T, typename... Cs>
TG_ALWAYS_INLINE T poly(T x, T c0, Cs... cs) {
  return c0 + x * poly(x, T(cs)...);
}

// ---- exp family ----

// e^x = (1 + em) * 2^n with em = expm1(r), r = x - n ln2, |r| <= ln2/2.
template <typename T>
struct ExpParts {
  T em, n;
  Bits<T> k;  // bits(1.5 * 2^M) + n: n sits in the low mantissa bits
};

// x within [kExpLow, kExpHigh]: below it e^x rounds to 0, above it to inf.
template <typename T> constexpr T kExpLow = std::is_same_v<T, float> ? T(-104) : T(-746);
template <typename T> constexpr T kExpHigh = std::is_same_v<T, float> ? T(89) : T(710);

// ln 2 as hi + lo (Cody-Waite): hi has enough trailing zero bits that n * hi is exact for any exponent n.
template <typename T>
constexpr T kLn2Hi = std::is_same_v<T, float> ? T(0.693145751953125) : T(6.93147180369123816490e-01);
template <typename T>
constexpr T kLn2Lo = std::is_same_v<T, float> ? T(1.428606765330187045e-06) : T(1.90821492927058770002e-10);

template <typename T>
TG_ALWAYS_INLINE ExpParts<T> exp_parts(T x) {
  constexpr int M = kMantissa<T>;
  // Adding 1.5 * 2^M rounds to an integer, which then sits in the low mantissa bits.
  const T shifter = T(1.5) * T(Bits<T>(1) << M);
  T k = x * T(1.44269504088896340736) + shifter;
  T n = k - shifter;
  T r = (x - n * kLn2Hi<T>) - n * kLn2Lo<T>;
  T q;
  // q = (expm1(r) - r) / r^2 on |r| <= ln2/2; expm1 relative error 2^-26.1 (float), 2^-61.6 (double).
  if constexpr (std::is_same_v<T, float>) {
    q = poly(r, 0.49999997f, 0.16666546f, 0.04166744f, 0.008366257f, 0.0013870293f);
  } else {
    q = poly(r, 0.5, 0.16666666666666677, 0.041666666666666685, 0.008333333333321756, 0.0013888888888891038,
             0.0001984126988547199, 2.480158728791364e-05, 2.7557245017828587e-06, 2.7557319810125287e-07,
             2.5108731845319718e-08, 2.089735271629077e-09);
  }
  return {r + (r * r) * q, n, to_bits(k)};
}

// 2^(n + offset), for n + offset in the normal exponent range: shifting k left by M leaves n in the exponent
// field and drops the shifter's bits.
template <typename T>
TG_ALWAYS_INLINE T pow2(const ExpParts<T>& p, int offset = 0) {
  return from_bits<T>((p.k << kMantissa<T>) + ((kExponentBias<T> + offset) << kMantissa<T>));
}

// 2^n as two normal factors for n up to twice past either end of the normal range, so that a result
// that rounds to a denormal (or overflows) is rounded once. The shifter's bits are even, so k / 2
// holds floor(n / 2) the same way.
template <typename T>
struct Pow2Halves {
  T low, high;
};
template <typename T>
TG_ALWAYS_INLINE Pow2Halves<T> pow2_halves(const ExpParts<T>& p) {
  constexpr int M = kMantissa<T>;
  Bits<T> half = (p.k >> 1) << M, whole = p.k << M, bias = kExponentBias<T> << M;
  return {from_bits<T>(half + bias), from_bits<T>(whole - half + bias)};
}

template <typename T>
TG_ALWAYS_INLINE T exp(T x) {
  ExpParts<T> p = exp_parts(clamp(x, kExpLow<T>, kExpHigh<T>));
  Pow2Halves<T> s = pow2_halves(p);
  return (T(1) + p.em) * s.low * s.high;
}

// e^x for x whose result is a normal number (no clamping, one scale factor).
template <typename T>
TG_ALWAYS_INLINE T exp_normal(T x) {
  ExpParts<T> p = exp_parts(x);
  return (T(1) + p.em) * pow2(p);
}

template <typename T>
TG_ALWAYS_INLINE T expm1(T x) {
  // Below this expm1 rounds to -1; clamping there keeps 2^n a normal number.
  const T low = std::is_same_v<T, float> ? T(-32) : T(-64);
  ExpParts<T> p = exp_parts(clamp(x, low, kExpHigh<T>));
  Pow2Halves<T> s = pow2_halves(p);
  T scale = s.low * s.high;
  // 2^n * (em + 1) - 1 with one rounding while 2^n is finite, then e^x (the -1 is far below an ulp).
  T result = select(p.n > T(kExponentBias<T>), (T(1) + p.em) * s.low * s.high, p.em * scale + (scale - T(1)));
  return select(x == T(0), x, result);  // keeps -0
}

template <typename T>
TG_ALWAYS_INLINE T sigmoid(T x) {
  // With e = e^-|x| = 2^n * (1 + em): 1 / (1 + e) for x >= 0, e / (1 + e) below (no overflow, accurate
  // down to the denormals). Numerator and denominator are each rounded once, from em itself.
  T minus_abs = -abs(x);
  ExpParts<T> p = exp_parts(select(minus_abs < kExpLow<T>, kExpLow<T>, minus_abs));
  // n <= 0 reaches below the normal range: 2^n is 2^(n + offset), a normal number, times 2^-offset, so that
  // a denormal numerator is rounded once.
  constexpr bool is_float = std::is_same_v<T, float>;
  const T raised = pow2(p, is_float ? 64 : 600), lower = is_float ? T(0x1p-64) : T(0x1p-600);
  T s = raised * lower;
  T denominator = (T(1) + s) + s * p.em;
  T numerator = select(x < T(0), (raised + raised * p.em) * lower, T(1));
  return numerator / denominator;
}

template <typename T>
TG_ALWAYS_INLINE T tanh(T x) {
  T a = abs(x);
  // Near 0: a + a^3 * p(a^2), p fitted on a <= 0.625; relative error 2^-27.7 (float), 2^-56.4 (double).
  T z = a * a, p;
  if constexpr (std::is_same_v<T, float>) {
    p = poly(z, -0.3333328f, 0.1333141f, -0.053737257f, 0.020631619f, -0.005697144f);
  } else {
    p = poly(z, -0.33333333333332854, 0.13333333333261932, -0.053968253931195344, 0.021869487574482035,
             -0.008863220982126538, 0.0035919890135089347, -0.001454958080511107, 0.0005863140083165059,
             -0.0002285592424839255, 7.713887576022799e-05, -1.6069956166440033e-05);
  }
  T small = a + (a * z) * p;
  // Elsewhere 1 - 2 / (e^2a + 1): the quotient is below 0.45, so its rounding error shrinks in the result.
  // e^2a + 1 = (1 + s) + s * em is rounded once; beyond the clamp tanh rounds to 1 and s stays finite.
  const T saturation = std::is_same_v<T, float> ? T(10) : T(20);
  ExpParts<T> e = exp_parts(T(2) * select(a > saturation, saturation, a));
  T s = pow2(e);
  T large = T(1) - T(2) / ((T(1) + s) + s * e.em);
  return copysign(select(a < T(0.625), small, large), x);
}

// ---- log family ----

// log(u) + c, for u > 0 and |c| small relative to log(u)'s ulp scale; other u are fixed by the caller.
// u = 2^e * m with m in [sqrt(1/2), sqrt(2)); log(m) = 2s + s * R(s^2), s = (m - 1) / (m + 1).
template <typename T>
TG_ALWAYS_INLINE T log_kernel(T u, T c, T e_offset) {
  constexpr int M = kMantissa<T>;
  const Bits<T> one = to_bits(T(1));
  const Bits<T> sqrt_half = std::is_same_v<T, float> ? Bits<T>(0x3f3504f3) : Bits<T>(0x3fe6a09e667f3bcdULL);
  const Bits<T> mantissa_mask = (Bits<T>(1) << M) - 1;
  // Offsetting the bits moves m in [sqrt(1/2), 1) to the next binade down, so e rounds to nearest.
  Bits<T> b = to_bits(u) + (one - sqrt_half);
  // The exponent field as a float, through the mantissa of 2^M (no int-to-float conversion needed).
  const T two_m = T(Bits<T>(1) << M);
  T e = from_bits<T>((b >> M) | to_bits(two_m)) - (two_m + T(kExponentBias<T>)) + e_offset;
  T f = from_bits<T>((b & mantissa_mask) + sqrt_half) - T(1);
  T s = f / (T(2) + f);
  T z = s * s, q;
  // R(z) = z * q(z) on s^2 <= ((sqrt2 - 1) / (sqrt2 + 1))^2; error of R 2^-29.2 (float), 2^-58.5 (double).
  if constexpr (std::is_same_v<T, float>) {
    q = poly(z, 0.66666776f, 0.3997758f, 0.2987094f);
  } else {
    q = poly(z, 0.6666666666666734, 0.3999999999941643, 0.2857142874210986, 0.22222198593769527,
             0.18183563567488883, 0.1531406356428161, 0.14795873159093023);
  }
  T hfsq = T(0.5) * f * f;
  // log(m) = f - hfsq + s * (hfsq + R), the small terms summed first.
  return e * kLn2Hi<T> - ((hfsq - (s * (hfsq + z * q) + (e * kLn2Lo<T> + c))) - f);
}

// log's answer where the kernel does not apply: -inf at 0, inf at inf, NaN below 0 and at NaN.
template <typename T>
TG_ALWAYS_INLINE T log_special(T u, T kernel) {
  T special = select(u == T(0), -kInf<T>, select(u == kInf<T>, u, kNaN<T>));
  return select((u > T(0)) & (u < kInf<T>), kernel, special);
}

template <typename T>
TG_ALWAYS_INLINE T log(T x) {
  // Denormals are scaled into the normal range first.
  bool denormal = x < std::numeric_limits<T>::min();
  T u = select(denormal, x * T(Bits<T>(1) << kMantissa<T>), x);
  T e_offset = select(denormal, T(-kMantissa<T>), T(0));
  return log_special(x, log_kernel(u, T(0), e_offset));
}

template <typename T>
TG_ALWAYS_INLINE T log1p(T x) {
  // log(1 + x) = log(u) + log(1 + c / u) with u = 1 + x rounded and c its exact rounding error.
  T u = T(1) + x;
  T c = (x - (u - T(1))) / u;
  T result = log_special(u, log_kernel(u, c, T(0)));
  return select(x == T(0), x, result);  // keeps -0
}

// ---- erf ----

template <typename T>
TG_ALWAYS_INLINE T erf(T x) {
  // Near 0, erf(a) = a + a * p(a^2); elsewhere 1 - e^(-a^2) * g(a) with g(a) = erfc(a) e^(a^2), smooth and
  // between 0.1 and 0.6. Beyond `saturation` erf rounds to 1.
  constexpr bool is_float = std::is_same_v<T, float>;
  const T saturation = is_float ? T(4) : T(6), near_zero_limit = is_float ? T(0.8) : T(0.6);
  T a = select(abs(x) > saturation, saturation, abs(x));
  T z = a * a, p, g;
  if constexpr (is_float) {
    // p on a < 0.8: relative error of erf 2^-28.1; g in 1 / (1 + a) on [0.8, 4]: 2^-27.5.
    p = poly(z, 0.12837917f, -0.37612608f, 0.11283162f, -0.026822243f, 0.0050868657f, -0.0006542251f);
    g = poly(T(1) / (T(1) + a), 0.001911447f, 0.5429279f, 0.64113975f, 0.25954133f, -0.79455453f, 0.35648736f);
  } else {
    // p on a < 0.6: 2^-56.3. g in a - 1 on [0.6, 1.4]: 2^-55.9, in a - 2 on [1.4, 2.6]: 2^-54.3, and
    // a * g in 1 / a on [2.6, 6]: 2^-60.9.
    p = poly(z, 0.1283791670955126, -0.3761263890318392, 0.11283791670961048, -0.02686617064581016,
             0.005223977623524224, -0.0008548325894575218, 0.0001205522101515353, -1.4920089598279045e-05,
             1.6308211750130693e-06, -1.4080260128296015e-07);
    T g1 = poly(a - T(1), 0.427583576155807, -0.27321201478389895, 0.15437156137192246, -0.07922696894119156,
                0.03757229621355894, -0.01666186910171663, 0.00697014244817417, -0.0027690643889158955,
                0.0010502679584088372, -0.00038196106259555835, 0.00013367761411335936, -4.508632752722467e-05,
                1.4676484286886558e-05, -4.928627108044173e-06, 1.6234271148590584e-06);
    T g2 = poly(a - T(2), 0.25539567631050364, -0.10679646185353017, 0.04180275260398034, -0.015460637759319842,
                0.0054407385247533585, -0.0018316644257351012, 0.0005924700670084136, -0.0001847765718831144,
                5.5728889636892914e-05, -1.630374925182757e-05, 4.6213065481971805e-06, -1.2528410860627877e-06,
                3.6723521328140917e-07, -1.1998870384930666e-07);
    T inv = T(1) / a;
    T g3 = inv * poly(inv, 0.5642296298756179, -0.0011366619858379995, -0.26781517511041575, -0.10354540223876954,
                      0.8933726710859672, -1.3302472430171723, 0.9711095816765594, -0.31525298926709944,
                      0.012994188194406677);
    g = select(a < T(1.4), g1, select(a < T(2.6), g2, g3));
  }
  T result = select(a < near_zero_limit, a + a * p, T(1) - exp_normal(-z) * g);
  return copysign(result, x);
}

}  // namespace tg::cpu::vec
