/*===- int8_peak.c - this machine's int8 multiply-add peak -----------------===*
 *
 * Prints the int8 multiply-add throughput (GOP/s, 2 ops per multiply-add) of
 * the instruction sequences the int8 GEMM kernels (runtime/cpu/igemm.c) are
 * built on, on 1 and on N threads, as JSON for bench/run_bench.py:
 *   vnni:    AVX-512 VPDPBUSD, 64 u8 x s8 products summed into 16 int32
 *            lanes per instruction (the AVX-512 kernel);
 *   madd:    AVX2 VPMADDWD + VPADDD, 16 int16 products per pair (the AVX2
 *            kernel's exact route);
 *   maddubs: AVX2 VPMADDUBSW + VPMADDWD + VPADDD, 32 u8 x s8 products per
 *            triple (the usual route, which saturates at 16 bits: what the
 *            AVX2 kernel gives up for exactness).
 * Each thread runs independent dependency chains, enough to cover the
 * instructions' latency. Build: clang-22 -O2 -fopenmp.
 *
 *===----------------------------------------------------------------------===*/

#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

enum { CHAINS = 12, ITERATIONS = 20000000 };

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static int
vnni_chains(long iterations) {
  __m512i acc[CHAINS];
  __m512i x = _mm512_set1_epi8(3), y = _mm512_set1_epi8(-5);
  for (int i = 0; i < CHAINS; ++i)
    acc[i] = _mm512_set1_epi32(i);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < CHAINS; ++i)
      acc[i] = _mm512_dpbusd_epi32(acc[i], x, y);
  __m512i sum = acc[0];
  for (int i = 1; i < CHAINS; ++i)
    sum = _mm512_add_epi32(sum, acc[i]);
  return _mm512_reduce_add_epi32(sum);
}

/* The sum of an AVX2 vector's int32 lanes. */
__attribute__((target("avx2"))) static int sum_lanes(__m256i v) {
  int out[8], total = 0;
  _mm256_storeu_si256((__m256i *)out, v);
  for (int i = 0; i < 8; ++i)
    total += out[i];
  return total;
}

__attribute__((target("avx2"))) static int madd_chains(long iterations) {
  __m256i acc[CHAINS];
  __m256i x = _mm256_set1_epi16(3), y = _mm256_set1_epi16(-5);
  for (int i = 0; i < CHAINS; ++i)
    acc[i] = _mm256_set1_epi32(i);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < CHAINS; ++i) {
      /* x changes as far as the compiler knows (no instruction): the
       * products are neither hoisted nor shared between chains. */
      __asm__("" : "+x"(x));
      acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(x, y));
    }
  __m256i sum = acc[0];
  for (int i = 1; i < CHAINS; ++i)
    sum = _mm256_add_epi32(sum, acc[i]);
  return sum_lanes(sum);
}

__attribute__((target("avx2"))) static int maddubs_chains(long iterations) {
  __m256i acc[CHAINS];
  __m256i x = _mm256_set1_epi8(3), y = _mm256_set1_epi8(-5);
  const __m256i ones = _mm256_set1_epi16(1);
  for (int i = 0; i < CHAINS; ++i)
    acc[i] = _mm256_set1_epi32(i);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < CHAINS; ++i) {
      __asm__("" : "+x"(x));
      __m256i pairs = _mm256_maddubs_epi16(x, y);
      acc[i] = _mm256_add_epi32(acc[i], _mm256_madd_epi16(pairs, ones));
    }
  __m256i sum = acc[0];
  for (int i = 1; i < CHAINS; ++i)
    sum = _mm256_add_epi32(sum, acc[i]);
  return sum_lanes(sum);
}

typedef enum probe { PROBE_VNNI, PROBE_MADD, PROBE_MADDUBS } probe;

/* GOP/s of `threads` threads each running the probe's loop, best of 3. */
static double int8_peak(probe kind, int threads, volatile int *sink) {
  /* Multiply-adds per instruction sequence. */
  static const double products[] = {64, 16, 32};
  long iterations = ITERATIONS;
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    double start = omp_get_wtime();
#pragma omp parallel num_threads(threads)
    {
      int r = kind == PROBE_VNNI   ? vnni_chains(iterations)
              : kind == PROBE_MADD ? madd_chains(iterations)
                                   : maddubs_chains(iterations);
      sink[omp_get_thread_num()] = r;
    }
    double seconds = omp_get_wtime() - start;
    double ops = 2.0 * products[kind] * CHAINS * (double)iterations * threads;
    if (ops / seconds > best)
      best = ops / seconds;
  }
  return best / 1e9;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : omp_get_num_procs();
  int vnni = __builtin_cpu_supports("avx512vnni") &&
             __builtin_cpu_supports("avx512bw");
  int avx2 = __builtin_cpu_supports("avx2");
  if (!avx2) {
    fprintf(stderr, "int8_peak: needs AVX2\n");
    return 1;
  }
  volatile int sink[256];
  char vnni_one[32] = "null", vnni_all[32] = "null";
  if (vnni) {
    snprintf(vnni_one, sizeof(vnni_one), "%.1f",
             int8_peak(PROBE_VNNI, 1, sink));
    snprintf(vnni_all, sizeof(vnni_all), "%.1f",
             int8_peak(PROBE_VNNI, threads, sink));
  }
  double madd_one = int8_peak(PROBE_MADD, 1, sink);
  double madd_all = int8_peak(PROBE_MADD, threads, sink);
  double maddubs_one = int8_peak(PROBE_MADDUBS, 1, sink);
  double maddubs_all = int8_peak(PROBE_MADDUBS, threads, sink);
  printf("{\"isa\": \"%s\", \"threads\": %d, "
         "\"vnni_gops_1thread\": %s, \"vnni_gops\": %s, "
         "\"avx2_madd_gops_1thread\": %.1f, \"avx2_madd_gops\": %.1f, "
         "\"avx2_maddubs_gops_1thread\": %.1f, \"avx2_maddubs_gops\": %.1f}\n",
         vnni ? "avx512vnni" : "avx2", threads, vnni_one, vnni_all, madd_one,
         madd_all, maddubs_one, maddubs_all);
  return 0;
}
