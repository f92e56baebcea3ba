/*===- ukernel_avx512.h - AVX-512 helpers the CPU microkernels share ------===*
 *
 * Internal to the runtime: masks and strided row loads that the f32
 * (gemm.c), 8-bit (igemm.c) and pooling (pool.c) kernels all use. Each is
 * compiled for AVX-512 where it is inlined.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_CPU_UKERNEL_AVX512_H
#define KILN_RUNTIME_CPU_UKERNEL_AVX512_H

#include <immintrin.h>
#include <stdint.h>

/* The first n (<= 16, or none) lanes of an AVX-512 vector. */
__attribute__((target("avx512f"))) static inline __mmask16 lanes(int64_t n) {
  return n >= 16 ? (__mmask16)0xffff
         : n > 0 ? (__mmask16)((1u << n) - 1)
                 : (__mmask16)0;
}

/* Lanes j < n (n <= 16) of base[s * j] for s = 1 or 2, the others 0; stride
 * 2 loads the 2n - 1 inputs and keeps the even ones. */
__attribute__((target("avx512f"))) static inline __m512
load_strided_avx512(const float *base, int64_t n, int64_t s) {
  if (s == 1)
    return _mm512_maskz_loadu_ps(lanes(n), base);
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12,
                                        10, 8, 6, 4, 2, 0);
  int64_t need = n >= 16 ? 31 : n > 0 ? 2 * n - 1 : 0;
  return _mm512_permutex2var_ps(
      _mm512_maskz_loadu_ps(lanes(need), base), even,
      _mm512_maskz_loadu_ps(lanes(need - 16), base + 16));
}

#endif /* KILN_RUNTIME_CPU_UKERNEL_AVX512_H */
