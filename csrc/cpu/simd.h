#pragma once
// Hot contiguous loops are compiled three times (AVX-512, AVX2, baseline x86-64) and the widest one the
// CPU supports is picked when the library loads, so a portable wheel still uses full-width vectors.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define TG_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define TG_SIMD_CLONES
#endif
