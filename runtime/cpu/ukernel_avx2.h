/*===- ukernel_avx2.h - AVX2 helpers the CPU microkernels share -----------===*
 *
 * Internal to the runtime: register transposes that the f32 packing
 * (gemm.c) and the attention kernel's masks (attention.c) use. Each is
 * compiled for AVX where it is inlined.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_CPU_UKERNEL_AVX2_H
#define KILN_RUNTIME_CPU_UKERNEL_AVX2_H

#include <immintrin.h>

/* Transposes 8 x 8 floats in registers: r[k] becomes column k of the rows
 * r[0..7]. */
__attribute__((target("avx"))) static inline void transpose8_avx(__m256 r[8]) {
  __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]),
         t1 = _mm256_unpackhi_ps(r[0], r[1]);
  __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]),
         t3 = _mm256_unpackhi_ps(r[2], r[3]);
  __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]),
         t5 = _mm256_unpackhi_ps(r[4], r[5]);
  __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]),
         t7 = _mm256_unpackhi_ps(r[6], r[7]);
  __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44),
         u1 = _mm256_shuffle_ps(t0, t2, 0xee);
  __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44),
         u3 = _mm256_shuffle_ps(t1, t3, 0xee);
  __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44),
         u5 = _mm256_shuffle_ps(t4, t6, 0xee);
  __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44),
         u7 = _mm256_shuffle_ps(t5, t7, 0xee);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

#endif /* KILN_RUNTIME_CPU_UKERNEL_AVX2_H */
