/*===- wq_gemv.c - a decode step's one-row product, alone ------------------===*
 *
 * wq_gemv N K [THREADS] [BITS] [avx512|avx2|generic] [ROWS]
 *
 * One row (or ROWS rows: a prefill's product) times an N x K weight-only
 *quantized B (BITS 4: group 32 with offsets, as --quantize=int4-weight stores
 *it; 8: group 64, symmetric) through the runtime's kiln_ukernel_sgemm_wq_*
 *entry, or (BITS 32) times an f32 B packed as the compiler packs constant
 *weights, through kiln_ukernel_sgemm_packed_*, over 48 copies of B taken in
 *turn so that every call reads its weights from memory, as a decode step does.
 *Prints the best of 20 rounds per call: microseconds, multiply-adds and weight
 *bytes per second. Build against the runtime library:
 *
 *   clang-22 -O2 -fopenmp -Iruntime -Iinclude bench/probe/wq_gemv.c \
 *     build/lib/libkiln_runtime.a -lm -o wq_gemv
 *
 *===----------------------------------------------------------------------===*/

#define _POSIX_C_SOURCE 200809L
#include "cpu/kiln_ukernels.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef void (*wq_fn)(KILN_SGEMM_WQ_ARGS);
typedef void (*packed_fn)(KILN_SGEMM_PACKED_ARGS);

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: wq_gemv N K [THREADS] [BITS] "
                    "[avx512|avx2|generic] [ROWS]\n");
    return 2;
  }
  int64_t n = atoll(argv[1]), k = atoll(argv[2]);
  int threads = argc > 3 ? atoi(argv[3]) : 2;
  int bits = argc > 4 ? atoi(argv[4]) : 4;
  const char *name = argc > 5 ? argv[5] : "avx512";
  int64_t rows = argc > 6 ? atoll(argv[6]) : 1;
  int64_t group = bits == 8 ? 64 : 32;
  wq_fn product = kiln_ukernel_sgemm_wq_avx512;
  packed_fn f32_product = kiln_ukernel_sgemm_packed_avx512;
  kiln_isa isa = KILN_ISA_AVX512;
  int64_t width = 32; /* the f32 panels' width: 16 below AVX-512 */
  if (!strcmp(name, "avx2")) {
    product = kiln_ukernel_sgemm_wq_avx2, isa = KILN_ISA_AVX2;
    f32_product = kiln_ukernel_sgemm_packed_avx2, width = 16;
  } else if (!strcmp(name, "generic")) {
    product = kiln_ukernel_sgemm_wq_generic, isa = KILN_ISA_GENERIC;
    f32_product = kiln_ukernel_sgemm_packed_generic, width = 16;
  }
  if (bits == 32)
    group = 1;
  if (n < 1 || k < group || k % group || threads < 1 || rows < 1 ||
      (bits != 4 && bits != 8 && bits != 32)) {
    fprintf(stderr,
            "wq_gemv: need N >= 1, K a multiple of %lld, "
            "THREADS >= 1, BITS 4, 8 or 32, ROWS >= 1\n",
            (long long)group);
    return 2;
  }
  if (kiln_ukernel_resolve_isa(isa) != isa) {
    fprintf(stderr, "wq_gemv: this processor lacks %s\n", name);
    return 1;
  }
  omp_set_num_threads(threads);
  enum { kCopies = 48 };
  int64_t panel = bits == 32 ? width : 16, panels = (n + panel - 1) / panel;
  size_t weight_bytes = (size_t)(panels * panel * k * bits / 8);
  size_t scales = bits == 32 ? 0 : (size_t)(panels * 16 * (k / group));
  int8_t *b = malloc(weight_bytes * kCopies);
  float *s = malloc(sizeof(float) * (scales ? scales : 1) * kCopies);
  float *a = malloc(sizeof(float) * k * rows);
  float *c = malloc(sizeof(float) * n * rows);
  if (!b || !s || !a || !c)
    return 1;
  if (bits == 32)
    for (size_t i = 0; i < weight_bytes / sizeof(float) * kCopies; ++i)
      ((float *)b)[i] = (float)(i % 13) * 0.01f;
  else
    for (size_t i = 0; i < weight_bytes * kCopies; ++i)
      b[i] = (int8_t)(i * 37);
  for (size_t i = 0; i < scales * kCopies; ++i)
    s[i] = 0.01f;
  for (int64_t i = 0; i < k * rows; ++i)
    a[i] = 1.0f / (float)(i % k + 1);
  double best = INFINITY;
  for (int round = 0; round < 20; ++round) {
    double start = now();
    for (int copy = 0; copy < kCopies; ++copy) {
      int8_t *bc = b + weight_bytes * copy;
      float *sc = s + scales * copy;
      if (bits == 32) {
        float *bf = (float *)bc;
        f32_product(1, 1, rows, n, k, a, a, 0, 0, 0, 0, k, 1, bf, bf, 0, 0,
                    width, c, c, 0, 0, 0, 0, n, 1, 0, NULL, NULL, 0, 0, 0, 0, 0,
                    0, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, -INFINITY, INFINITY);
      } else {
        product(1, 1, rows, n, k, a, a, 0, 0, 0, 0, k, 1, bc, bc, 0, 0, bits,
                group, sc, sc, 0, 0, bits == 4, c, c, 0, 0, 0, 0, n, 1, 0);
      }
    }
    double t = (now() - start) / kCopies;
    if (t < best)
      best = t;
  }
  printf("{\"isa\": \"%s\", \"bits\": %d, \"n\": %lld, \"k\": %lld, "
         "\"rows\": %lld, \"threads\": %d, \"us\": %.1f, \"gmacs\": %.1f, "
         "\"gbps\": %.1f}\n",
         name, bits, (long long)n, (long long)k, (long long)rows, threads,
         best * 1e6, (double)rows * (double)n * (double)k / best / 1e9,
         (double)(weight_bytes + scales * sizeof(float)) / best / 1e9);
  free(b);
  free(s);
  free(a);
  free(c);
  return 0;
}
