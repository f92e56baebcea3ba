/*===- decode_attention.c - a decode step's attention products, alone -----===*
 *
 * decode_attention [avx512|avx2|generic] [--past P] [--threads T]
 *
 * The two products per (layer, head, chunk of 256 keys) that a compiled
 * decoder's flash-decoding step hands to the runtime's microkernels, called
 * the way the compiled code calls them: scores [1 x tk] = q k^T with K read
 * in place, then acc [1 x 64] = p V. GPT-2-small's shape: 12 layers of 12
 * heads of 64, caches with room for 1024 rows (75 MiB in all, so every step
 * reads K and V from memory, as a real step does). Prints the best of 30
 * steps and the bytes of K and V read per second. Build against the
 * runtime library:
 *
 *   clang-22 -O2 -fopenmp -Iruntime -Iinclude bench/probe/decode_attention.c \
 *     build/lib/libkiln_runtime.a -lm -o decode_attention
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

typedef void (*sgemm_fn)(KILN_SGEMM_ARGS);

enum { kLayers = 12, kHeads = 12, kCapacity = 1024, kDim = 64, kChunk = 256 };

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
  sgemm_fn sgemm = kiln_ukernel_sgemm_avx512;
  kiln_isa isa = KILN_ISA_AVX512;
  const char *name = "avx512";
  int64_t past = 513;
  int threads = 2;
  for (int a = 1; a < argc; ++a) {
    if (!strcmp(argv[a], "avx2")) {
      sgemm = kiln_ukernel_sgemm_avx2, isa = KILN_ISA_AVX2, name = argv[a];
    } else if (!strcmp(argv[a], "generic")) {
      sgemm = kiln_ukernel_sgemm_generic, isa = KILN_ISA_GENERIC;
      name = argv[a];
    } else if (!strcmp(argv[a], "--past") && a + 1 < argc) {
      past = atoll(argv[++a]);
    } else if (!strcmp(argv[a], "--threads") && a + 1 < argc) {
      threads = atoi(argv[++a]);
    } else if (strcmp(argv[a], "avx512")) {
      fprintf(stderr, "usage: decode_attention [avx512|avx2|generic] "
                      "[--past P] [--threads T]\n");
      return 2;
    }
  }
  if (past < 1 || past > kCapacity || threads < 1) {
    fprintf(stderr, "decode_attention: need 1 <= past <= %d, threads >= 1\n",
            kCapacity);
    return 2;
  }
  if (kiln_ukernel_resolve_isa(isa) != isa) {
    fprintf(stderr, "decode_attention: this processor lacks %s\n", name);
    return 1;
  }
  size_t per_layer = (size_t)kHeads * kCapacity * kDim;
  float *keys = malloc(sizeof(float) * per_layer * kLayers);
  float *values = malloc(sizeof(float) * per_layer * kLayers);
  if (!keys || !values)
    return 1;
  for (size_t i = 0; i < per_layer * kLayers; ++i) {
    keys[i] = (float)(i % 97) / 97.0f - 0.5f;
    values[i] = (float)(i % 89) / 89.0f - 0.5f;
  }
  float q[kDim];
  for (int i = 0; i < kDim; ++i)
    q[i] = (float)i / kDim;
  int64_t chunks = (past + kChunk - 1) / kChunk;
  double best = INFINITY;
  for (int rep = 0; rep < 30; ++rep) {
    double start = now();
    for (int l = 0; l < kLayers; ++l) {
#pragma omp parallel for num_threads(threads) schedule(static)
      for (int64_t item = 0; item < kHeads * chunks; ++item) {
        int64_t h = item / chunks, j0 = item % chunks * kChunk;
        int64_t tk = past - j0 < kChunk ? past - j0 : kChunk;
        size_t at = l * per_layer + (size_t)h * kCapacity * kDim + j0 * kDim;
        float *k = keys + at, *v = values + at;
        float scores[kChunk], acc[kDim];
        /* scores = q k^T: A [1 x 64], B [64 x tk] stored as K's rows. */
        sgemm(1, 1, 1, tk, kDim, q, q, 0, 0, 0, 0, kDim, 1, k, k, 0, 0, 0, 0, 1,
              kDim, scores, scores, 0, 0, 0, 0, tk, 1, 0, NULL, NULL, 0, 0, 0,
              0, 0, 0, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, -INFINITY, INFINITY);
        for (int64_t j = 0; j < tk; ++j)
          scores[j] *= 0.01f;
        /* acc = p V: A [1 x tk], B [tk x 64]. */
        sgemm(1, 1, 1, kDim, tk, scores, scores, 0, 0, 0, 0, tk, 1, v, v, 0, 0,
              0, 0, kDim, 1, acc, acc, 0, 0, 0, 0, kDim, 1, 0, NULL, NULL, 0, 0,
              0, 0, 0, 0, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, -INFINITY, INFINITY);
      }
    }
    double t = now() - start;
    if (t < best)
      best = t;
  }
  double bytes = 2.0 * kLayers * kHeads * (double)past * kDim * sizeof(float);
  printf("{\"isa\": \"%s\", \"past\": %lld, \"threads\": %d, \"ms\": %.3f, "
         "\"gbps\": %.1f}\n",
         name, (long long)past, threads, best * 1e3, bytes / best / 1e9);
  free(keys);
  free(values);
  return 0;
}
