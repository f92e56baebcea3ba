/*===- ukernel_avx512.h - AVX-512 helpers the CPU microkernels share ------===*
 *
 * Internal to the runtime: masks, strided row loads and register
 * transposes that the f32 (gemm.c), 8-bit (igemm.c), pooling (pool.c) and
 * attention (attention.c) kernels use. Each is compiled for AVX-512 where
 * it is inlined.
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

/* Transposes 16 x 16 floats in registers: r[k] becomes column
 * kTransposeColumn[k] of the rows r[0..15] (the unpack stages leave the
 * columns of each group of four in the order 0, 2, 1, 3). */
__attribute__((unused)) static const int kTransposeColumn[16] = {
    0, 2, 1, 3, 4, 6, 5, 7, 8, 10, 9, 11, 12, 14, 13, 15};
__attribute__((target("avx512f"))) static inline void
transpose16_avx512(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 2; ++j) {
      __m512d a = _mm512_castps_pd(t[4 * i + j]);
      __m512d b = _mm512_castps_pd(t[4 * i + j + 2]);
      r[4 * i + j] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
      r[4 * i + j + 2] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
    }
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 4; ++j) {
      t[8 * i + j] = _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + j + 4], 0x88);
      t[8 * i + j + 4] =
          _mm512_shuffle_f32x4(r[8 * i + j], r[8 * i + j + 4], 0xdd);
    }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xdd);
  }
}

#endif /* KILN_RUNTIME_CPU_UKERNEL_AVX512_H */
