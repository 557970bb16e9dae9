#include "cpu/simd.h"
#include <cstdlib>
#include <cstring>

namespace tg::cpu::vec {

namespace {

SimdLevel detect() {
  SimdLevel level = SimdLevel::Baseline;
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = SimdLevel::Avx2;
  if (level == SimdLevel::Avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
    level = SimdLevel::Avx512;
#endif
  const char* cap = std::getenv("TAPEGRAD_CPU_CAPABILITY");
  if (cap && std::strcmp(cap, "default") == 0) level = SimdLevel::Baseline;
  if (cap && std::strcmp(cap, "avx2") == 0 && level == SimdLevel::Avx512) level = SimdLevel::Avx2;
  return level;
}

}  // namespace

SimdLevel simd_level() {
  static const SimdLevel level = detect();
  return level;
}

}  // namespace tg::cpu::vec
