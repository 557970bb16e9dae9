// Bit-exact reproduction of PyTorch's CPU generator (CPUGeneratorImpl + the CPU
// distribution kernels). Every rounding step mirrors what torch's compiled kernels do
// on x86-64 with AVX2 (the kernels torch runs on AVX2 and AVX-512 machines); the
// multiply-adds that torch's compiler fused into FMA instructions are written as
// std::fma here, and no other a*b+c may be fused, hence the pragmas below.
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "core/rng.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

// The float Box-Muller loop gets an FMA (AVX) clone chosen at run time where GCC can
// build one; its helpers must be inlined into each clone for the loop to vectorise.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__ELF__)
#define TG_FMA_CLONES __attribute__((target_clones("fma", "default")))
#define TG_FORCE_INLINE inline __attribute__((always_inline))
#else
#define TG_FMA_CLONES
#define TG_FORCE_INLINE inline
#endif

namespace tg {

namespace {

constexpr double kPi = 3.14159265358979323846;

float bits_to_float(uint32_t b) {
  float f;
  std::memcpy(&f, &b, sizeof f);
  return f;
}

uint32_t float_to_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, sizeof b);
  return b;
}

// v where mask is all ones, +0 where it is zero: the SIMD select torch's kernel uses.
float masked(float v, uint32_t mask) { return bits_to_float(float_to_bits(v) & mask); }

// torch maps 24 (float) or 53 (double) low bits of a draw onto [0, 1) exactly.
float unit_float(uint32_t r) { return static_cast<float>(r & 0xFFFFFFu) * 0x1p-24f; }
double unit_double(uint64_t r) {
  return static_cast<double>(r & ((uint64_t{1} << 53) - 1)) * 0x1p-53;
}

// Cephes single-precision log as evaluated by torch's avx_mathfun.h log256_ps,
// including the FMAs GCC formed from its mul/add pairs. Valid for x in [2^-126, inf).
TG_FORCE_INLINE float cephes_logf(float x) {
  const uint32_t bits = float_to_bits(x);
  float e = static_cast<float>(static_cast<int32_t>(bits >> 23) - 127) + 1.0f;
  float m = bits_to_float((bits & 0x807FFFFFu) | 0x3F000000u);  // mantissa in [0.5, 1)
  const uint32_t small = 0u - static_cast<uint32_t>(m < 0x1.6a09e6p-1f);  // below sqrt(1/2)
  const float tmp = masked(m, small);
  e = e - masked(1.0f, small);
  m = m + -1.0f;
  m = m + tmp;
  const float z = m * m;
  float y = std::fma(0x1.204376p-4f, m, -0x1.d7a370p-4f);
  y = std::fma(y, m, 0x1.de4a34p-4f);
  y = std::fma(y, m, -0x1.fcba9ep-4f);
  y = std::fma(y, m, 0x1.23d37ep-3f);
  y = std::fma(y, m, -0x1.555ca0p-3f);
  y = std::fma(y, m, 0x1.999d58p-3f);
  y = std::fma(y, m, -0x1.fffff8p-3f);
  y = std::fma(y, m, 0x1.555554p-2f);
  y = y * m;
  y = std::fma(y, z, e * -0x1.bd0106p-13f);
  y = std::fma(-z, 0.5f, y);
  m = m + y;
  return std::fma(e, 0x1.63p-1f, m);
}

// Cephes single-precision sin and cos of x as evaluated by avx_mathfun.h sincos256_ps
// (with GCC's FMAs), including its select-by-add of the two polynomials.
TG_FORCE_INLINE void cephes_sincosf(float x, float* s, float* c) {
  const uint32_t sign_in = float_to_bits(x) & 0x80000000u;
  x = std::fabs(x);
  int32_t j = static_cast<int32_t>(x * 0x1.45f306p+0f);  // x * 4/pi, truncated
  j = (j + 1) & ~1;
  const float yj = static_cast<float>(j);
  const uint32_t sign_sin = sign_in ^ (static_cast<uint32_t>(j & 4) << 29);
  const uint32_t sign_cos = static_cast<uint32_t>(~(j - 2) & 4) << 29;
  const uint32_t sin_poly = 0u - static_cast<uint32_t>((j & 2) == 0);

  // Extended-precision reduction x - j*pi/4 with pi/4 split in three parts.
  x = std::fma(yj, -0x1.92p-1f, x);
  x = std::fma(-0x1.fb4p-13f, yj, x);
  x = std::fma(yj, -0x1.4442d2p-25f, x);

  const float z = x * x;
  const float half_z = z * 0.5f;
  float yc = std::fma(0x1.99eb9cp-16f, z, -0x1.6c0c34p-10f);
  yc = std::fma(yc, z, 0x1.55554ap-5f);
  yc = z * yc;
  yc = std::fma(z, yc, -half_z);
  yc = yc + 1.0f;
  float ys = std::fma(-0x1.9943f2p-13f, z, 0x1.11073cp-7f);
  ys = std::fma(ys, z, -0x1.555546p-3f);
  ys = z * ys;
  ys = std::fma(x, ys, x);

  const float ysin2 = masked(ys, sin_poly);
  const float ysin1 = masked(yc, ~sin_poly);
  const float rs = ysin1 + ysin2;
  const float rc = (ys - ysin2) + (yc - ysin1);
  *s = bits_to_float(float_to_bits(rs) ^ sign_sin);
  *c = bits_to_float(float_to_bits(rc) ^ sign_cos);
}

// Box-Muller in place over each block of 16 uniforms (pairs j, j+8), as torch's AVX2
// NormalFill16<float>. Both clones give the same bits.
TG_FMA_CLONES void normal_fill_blocks(float* d, int64_t blocks, float mean, float std) {
  constexpr float kTwoPi = 0x1.921fb6p+2f;
  for (int64_t b = 0; b < blocks; ++b, d += 16) {
    for (int j = 0; j < 8; ++j) {
      const float u1 = 1.0f - d[j];
      const float radius = std::sqrt(cephes_logf(u1) * -2.0f);
      float s, c;
      cephes_sincosf(kTwoPi * d[j + 8], &s, &c);
      d[j] = std::fma(radius * c, std, mean);
      d[j + 8] = std::fma(radius * s, std, mean);
    }
  }
}

// The same for double, as torch's scalar NormalFill16<double> (libm log/cos/sin).
void normal_fill_16(double* d, double mean, double std) {
  for (int j = 0; j < 8; ++j) {
    const double u1 = 1.0 - d[j];
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double theta = 2.0 * kPi * d[j + 8];
    d[j] = std::fma(radius * std::cos(theta), std, mean);
    d[j + 8] = std::fma(radius * std::sin(theta), std, mean);
  }
}

}  // namespace

Generator::Generator(uint64_t seed) { manual_seed(seed); }

void Generator::manual_seed(uint64_t seed) {
  // torch keeps the 64-bit seed for initial_seed() but seeds mt19937 with its low 32 bits.
  seed_ = seed;
  state_[0] = static_cast<uint32_t>(seed);
  for (int i = 1; i < kStateSize; ++i) {
    state_[i] = 1812433253u * (state_[i - 1] ^ (state_[i - 1] >> 30)) + static_cast<uint32_t>(i);
  }
  index_ = kStateSize;
  has_cached_normal_ = false;
}

uint64_t Generator::initial_seed() const { return seed_; }

void Generator::twist() {
  constexpr int kShift = 397;
  auto mix = [](uint32_t upper, uint32_t lower, uint32_t shifted) {
    const uint32_t y = (upper & 0x80000000u) | (lower & 0x7FFFFFFFu);
    return shifted ^ (y >> 1) ^ ((0u - (y & 1u)) & 0x9908B0DFu);
  };
  int i = 0;
  for (; i < kStateSize - kShift; ++i) state_[i] = mix(state_[i], state_[i + 1], state_[i + kShift]);
  for (; i < kStateSize - 1; ++i) {
    state_[i] = mix(state_[i], state_[i + 1], state_[i + kShift - kStateSize]);
  }
  state_[i] = mix(state_[i], state_[0], state_[kShift - 1]);
  index_ = 0;
}

uint32_t Generator::random() {
  if (index_ >= kStateSize) twist();
  uint32_t y = state_[index_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9D2C5680u;
  y ^= (y << 15) & 0xEFC60000u;
  y ^= y >> 18;
  return y;
}

uint64_t Generator::random64() {
  const uint64_t hi = random();
  const uint64_t lo = random();
  return (hi << 32) | lo;
}

// torch computes uniform in the output dtype as fma(x, to - from, from), and maps a
// value that rounds up to `to` back to `from`.
void Generator::uniform(float* out, int64_t n, double from, double to) {
  const float lo = static_cast<float>(from);
  const float hi = static_cast<float>(to);
  const float range = hi - lo;
  for (int64_t i = 0; i < n; ++i) {
    const float v = std::fma(unit_float(random()), range, lo);
    out[i] = v == hi ? lo : v;
  }
}

void Generator::uniform(double* out, int64_t n, double from, double to) {
  const double range = to - from;
  for (int64_t i = 0; i < n; ++i) {
    const double v = std::fma(unit_double(random64()), range, from);
    out[i] = v == to ? from : v;
  }
}

// torch's scalar normal (used for fewer than 16 elements): double-precision Box-Muller
// that returns the cosine sample and caches the sine sample for the next call.
double Generator::scalar_normal(double mean, double std) {
  if (has_cached_normal_) {
    has_cached_normal_ = false;
    return std::fma(cached_normal_, std, mean);
  }
  const double u1 = unit_double(random64());
  const double u2 = unit_double(random64());
  const double r = std::sqrt(-2.0 * std::log1p(-u2));
  const double theta = 2.0 * kPi * u1;
  cached_normal_ = r * std::sin(theta);
  has_cached_normal_ = true;
  return std::fma(r * std::cos(theta), std, mean);
}

// For n >= 16 torch draws n uniforms, transforms them in blocks of 16, and when n is not
// a multiple of 16 draws 16 fresh uniforms for the last 16 slots and transforms those.
void Generator::normal(float* out, int64_t n, double mean, double std) {
  if (n < 16) {
    for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(scalar_normal(mean, std));
    return;
  }
  const float m = static_cast<float>(mean);
  const float s = static_cast<float>(std);
  for (int64_t i = 0; i < n; ++i) out[i] = unit_float(random());
  normal_fill_blocks(out, n / 16, m, s);
  if (n % 16 != 0) {
    float* tail = out + n - 16;
    for (int i = 0; i < 16; ++i) tail[i] = unit_float(random());
    normal_fill_blocks(tail, 1, m, s);
  }
}

void Generator::normal(double* out, int64_t n, double mean, double std) {
  if (n < 16) {
    for (int64_t i = 0; i < n; ++i) out[i] = scalar_normal(mean, std);
    return;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = unit_double(random64());
  for (int64_t i = 0; i + 16 <= n; i += 16) normal_fill_16(out + i, mean, std);
  if (n % 16 != 0) {
    double* tail = out + n - 16;
    for (int i = 0; i < 16; ++i) tail[i] = unit_double(random64());
    normal_fill_16(tail, mean, std);
  }
}

// torch reduces one draw modulo the range: a 32-bit draw below 2^28, else a 64-bit one.
template <typename T>
void Generator::fill_from_to(T* out, int64_t n, int64_t low, int64_t high) {
  const uint64_t range = static_cast<uint64_t>(high) - static_cast<uint64_t>(low);
  const bool wide = range >= (uint64_t{1} << 28);
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t r = wide ? random64() : random();
    out[i] = static_cast<T>(static_cast<int64_t>(r % range + static_cast<uint64_t>(low)));
  }
}

void Generator::random_from_to(int64_t* out, int64_t n, int64_t low, int64_t high) {
  fill_from_to(out, n, low, high);
}
void Generator::random_from_to(float* out, int64_t n, int64_t low, int64_t high) {
  fill_from_to(out, n, low, high);
}
void Generator::random_from_to(double* out, int64_t n, int64_t low, int64_t high) {
  fill_from_to(out, n, low, high);
}

void Generator::randperm(int64_t* out, int64_t n) {
  if (n < static_cast<int64_t>(std::numeric_limits<uint32_t>::max() / 20)) {
    // torch's historical shuffle: swap slot i with a slot drawn from [i, n).
    for (int64_t i = 0; i < n; ++i) out[i] = i;
    for (int64_t i = 0; i + 1 < n; ++i) {
      const int64_t z = static_cast<int64_t>(random() % static_cast<uint64_t>(n - i));
      const int64_t save = out[i];
      out[i] = out[z + i];
      out[z + i] = save;
    }
    return;
  }
  // Large n: inside-out Fisher-Yates with 64-bit draws, as torch does.
  for (int64_t i = 0; i < n; ++i) {
    const int64_t z = static_cast<int64_t>(random64() % static_cast<uint64_t>(i + 1));
    out[i] = out[z];
    out[z] = i;
  }
}

// torch's generic bernoulli_(p): one 53-bit uniform per element, 1 where it is < p.
void Generator::bernoulli(float* out, int64_t n, double p) {
  for (int64_t i = 0; i < n; ++i) out[i] = unit_double(random64()) < p ? 1.0f : 0.0f;
}

void Generator::bernoulli(double* out, int64_t n, double p) {
  for (int64_t i = 0; i < n; ++i) out[i] = unit_double(random64()) < p ? 1.0 : 0.0;
}

namespace {

// Layout of get_state(): version, seed, mt19937 words, next word index, cached normal.
constexpr uint32_t kStateVersion = 1;
constexpr size_t kStateBytes = 4 + 8 + 624 * 4 + 4 + 1 + 8;

template <typename T>
void put(std::vector<uint8_t>& buf, const T& v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  buf.insert(buf.end(), p, p + sizeof v);
}

template <typename T>
T take(const uint8_t*& p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  p += sizeof v;
  return v;
}

}  // namespace

std::vector<uint8_t> Generator::get_state() const {
  std::vector<uint8_t> buf;
  buf.reserve(kStateBytes);
  put(buf, kStateVersion);
  put(buf, seed_);
  for (uint32_t w : state_) put(buf, w);
  put(buf, static_cast<int32_t>(index_));
  put(buf, static_cast<uint8_t>(has_cached_normal_));
  put(buf, cached_normal_);
  return buf;
}

void Generator::set_state(const std::vector<uint8_t>& state) {
  const uint8_t* p = state.data();
  if (state.size() != kStateBytes || take<uint32_t>(p) != kStateVersion) {
    throw std::invalid_argument("Generator::set_state: not a state produced by get_state()");
  }
  const auto seed = take<uint64_t>(p);
  uint32_t words[kStateSize];
  for (uint32_t& w : words) w = take<uint32_t>(p);
  const auto index = take<int32_t>(p);
  const auto has_cached = take<uint8_t>(p);
  const auto cached = take<double>(p);
  if (index < 0 || index > kStateSize || has_cached > 1) {
    throw std::invalid_argument("Generator::set_state: corrupt state");
  }
  seed_ = seed;
  std::memcpy(state_, words, sizeof state_);
  index_ = index;
  has_cached_normal_ = has_cached != 0;
  cached_normal_ = cached;
}

Generator& default_generator() {
  static Generator gen;
  return gen;
}

}  // namespace tg
