/*===- nchwc_pointwise.c - a pointwise convolution in channel blocks ------===*
 *
 * nchwc_pointwise C M H [ROUNDS]
 *
 * How fast a 1x1 convolution (C -> M channels on an H x H plane, bias and
 * ReLU) runs when its tensors are laid out in blocks of 16 channels
 * ([C/16][H*H][16], the NCHWc layout ONNX Runtime converts CNNs to) against
 * the runtime's NCHW kernel (kiln_ukernel_sconv2d_packed_avx512, weights
 * packed as the compiler packs them), same data, the two alternated in one
 * process, best of ROUNDS (400) each; threads from OMP_NUM_THREADS. In
 * channel blocks the vector lanes run along the output channels and each
 * step broadcasts one input element: a tile of P pixels reads P * 64
 * contiguous bytes per block of input channels, where the NCHW kernel
 * reads one row of 32 pixels from each of the C input planes (kilobytes
 * apart, more streams than the hardware prefetchers follow). The blocked
 * kernel here is a plain register tile (12 pixels x 2 blocks of output
 * channels), no prefetching or K blocking: what the layout alone is worth.
 * Prints both times, GFLOP/s and the largest difference of the outputs.
 * AVX-512 only. Build against the runtime library:
 *
 *   clang-22 -O2 -fopenmp -Iruntime -Iinclude bench/probe/nchwc_pointwise.c \
 *     build/lib/libkiln_runtime.a -lm -o nchwc_pointwise
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "cpu/kiln_ukernels.h"

#include <immintrin.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* y[b][p][16] = max(0, bias[b] + sum over c of x[c/16][p][c%16] *
 * w[b][c/16][c%16][16]) for NB output blocks b and np <= P pixels: P x NB
 * accumulators. */
#define DEFINE_TILE(P, NB)                                                     \
  __attribute__((target("avx512f"))) static void tile_##P##_##NB(              \
      int64_t cblocks, int64_t plane, const float *x, const float *w,          \
      const float *bias, float *y, int64_t np) {                               \
    __m512 acc[P][NB];                                                         \
    for (int b = 0; b < NB; ++b) {                                             \
      __m512 start = _mm512_loadu_ps(bias + 16 * b);                           \
      for (int p = 0; p < P; ++p)                                              \
        acc[p][b] = start;                                                     \
    }                                                                          \
    for (int64_t cb = 0; cb < cblocks; ++cb) {                                 \
      const float *xc = x + cb * plane * 16;                                   \
      for (int i = 0; i < 16; ++i) {                                           \
        __m512 wv[NB];                                                         \
        for (int b = 0; b < NB; ++b)                                           \
          wv[b] = _mm512_load_ps(w + (b * cblocks + cb) * 256 + i * 16);       \
        for (int p = 0; p < P; ++p) {                                          \
          __m512 s = _mm512_set1_ps(xc[p * 16 + i]);                           \
          for (int b = 0; b < NB; ++b)                                         \
            acc[p][b] = _mm512_fmadd_ps(s, wv[b], acc[p][b]);                  \
        }                                                                      \
      }                                                                        \
    }                                                                          \
    for (int b = 0; b < NB; ++b)                                               \
      for (int64_t p = 0; p < np; ++p)                                         \
        _mm512_store_ps(y + b * plane * 16 + p * 16,                           \
                        _mm512_max_ps(_mm512_setzero_ps(), acc[p][b]));        \
  }
DEFINE_TILE(12, 2)

/* The whole convolution: (pixel tile, pair of output blocks) items over
 * the threads, a pixel tile's pairs on one thread (they share its input).
 * (A 6-pixel, 4-block tile for 7x7 planes ran at 0.64x the NCHW kernel:
 * with so few pixels a tile is bound by streaming its weights.) */
static void conv_blocked(int64_t c, int64_t m, int64_t plane, const float *x,
                         const float *w, const float *bias, float *y) {
  int64_t cblocks = c / 16, pairs = m / 32, tiles = (plane + 11) / 12;
#pragma omp parallel for schedule(static)
  for (int64_t item = 0; item < tiles * pairs; ++item) {
    int64_t p0 = item / pairs * 12, ob = item % pairs * 2;
    int64_t np = plane - p0 < 12 ? plane - p0 : 12;
    tile_12_2(cblocks, plane, x + p0 * 16, w + ob * cblocks * 256,
              bias + ob * 16, y + ob * plane * 16 + p0 * 16, np);
  }
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: nchwc_pointwise C M H [ROUNDS]\n");
    return 2;
  }
  int64_t c = atoll(argv[1]), m = atoll(argv[2]), h = atoll(argv[3]);
  int rounds = argc > 4 ? atoi(argv[4]) : 400;
  if (c < 16 || m < 32 || c % 16 || m % 32 || h < 1 || rounds < 1) {
    fprintf(stderr, "nchwc_pointwise: C a multiple of 16, M of 32, H >= 1\n");
    return 2;
  }
  if (kiln_ukernel_resolve_isa(KILN_ISA_AVX512) != KILN_ISA_AVX512) {
    fprintf(stderr, "nchwc_pointwise: this processor lacks AVX-512\n");
    return 1;
  }
  int64_t plane = h * h, pad = 12;
  size_t fc = sizeof(float);
  float *x = aligned_alloc(64, c * plane * fc);
  float *xb = aligned_alloc(64, c * (plane + pad) * fc);
  float *w = aligned_alloc(64, m * c * fc);
  float *wk = aligned_alloc(64, (m + 8) * c * fc);
  float *wb = aligned_alloc(64, m * c * fc);
  float *bias = aligned_alloc(64, m * fc);
  float *y = aligned_alloc(64, m * plane * fc);
  float *yb = aligned_alloc(64, m * (plane + pad) * fc);
  if (!x || !xb || !w || !wk || !wb || !bias || !y || !yb)
    return 1;
  for (int64_t i = 0; i < c * plane; ++i)
    x[i] = (float)((i * 7) % 13) * 0.01f - 0.05f;
  for (int64_t i = 0; i < m * c; ++i)
    w[i] = (float)((i * 5) % 11) * 0.01f - 0.05f;
  for (int64_t i = 0; i < m; ++i)
    bias[i] = 0.01f * (float)(i % 5);
  /* The runtime's packing: panels of 8 output channels, [m/8][c][8]. */
  for (int64_t o = 0; o < m; ++o)
    for (int64_t i = 0; i < c; ++i)
      wk[(o / 8) * c * 8 + i * 8 + o % 8] = w[o * c + i];
  /* Blocks of 16: x [c/16][p][16], w [m/16][c/16][16 in][16 out]. */
  for (int64_t i = 0; i < c; ++i)
    for (int64_t q = 0; q < plane; ++q)
      xb[(i / 16) * plane * 16 + q * 16 + i % 16] = x[i * plane + q];
  for (int64_t o = 0; o < m; ++o)
    for (int64_t i = 0; i < c; ++i)
      wb[(o / 16) * c * 16 + (i / 16) * 256 + (i % 16) * 16 + o % 16] =
          w[o * c + i];
  double nchw = INFINITY, blocked = INFINITY;
  for (int r = 0; r < 2 * rounds; ++r) {
    double start = now();
    if (r % 2) {
      conv_blocked(c, m, plane, xb, wb, bias, yb);
      blocked = fmin(blocked, now() - start);
    } else {
      kiln_ukernel_sconv2d_packed_avx512(
          1, 1, m, c, h, h, 1, 1, 1, 1, 1, 1, x, x, 0, 0, c * plane, c * plane,
          plane, h, 1, wk, wk, 0, 0, 8, y, y, 0, 0, m * plane, m * plane, plane,
          h, 1, 0, bias, bias, 0, 0, 0, 0, 1, 0, 0, bias, bias, 0, 0, 0, 0, 0,
          0, 0, 1, 0.0f, INFINITY);
      nchw = fmin(nchw, now() - start);
    }
  }
  double worst = 0;
  for (int64_t o = 0; o < m; ++o)
    for (int64_t q = 0; q < plane; ++q)
      worst = fmax(worst, fabs(y[o * plane + q] -
                               yb[(o / 16) * plane * 16 + q * 16 + o % 16]));
  double flops = 2.0 * (double)(m * c * plane);
  printf("{\"c\": %lld, \"m\": %lld, \"h\": %lld, \"threads\": %d, "
         "\"nchw_us\": %.1f, \"nchw_gflops\": %.1f, \"nchwc_us\": %.1f, "
         "\"nchwc_gflops\": %.1f, \"speedup\": %.2f, \"max_diff\": %.1e}\n",
         (long long)c, (long long)m, (long long)h, omp_get_max_threads(),
         nchw * 1e6, flops / nchw / 1e9, blocked * 1e6, flops / blocked / 1e9,
         nchw / blocked, worst);
  return 0;
}
