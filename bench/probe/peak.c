/*===- peak.c - this machine's fp32 FMA peak and memory bandwidth ---------===*
 *
 * Prints the fp32 multiply-add throughput (GFLOP/s, 2 flops per lane) of the
 * widest vector unit this processor has (AVX-512 or AVX2+FMA), on 1 and on N
 * threads, and the read bandwidth of a buffer far larger than the caches
 * (GB/s) of 512 MiB and of 64 MiB, as JSON for bench/run_bench.py. Build:
 * clang-22 -O2 -fopenmp.
 *
 *===----------------------------------------------------------------------===*/

#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CHAINS = 12, ITERATIONS = 20000000 };

__attribute__((target("avx512f"))) static float fma_avx512(long iterations) {
  __m512 acc[CHAINS];
  __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < CHAINS; ++i)
    acc[i] = _mm512_set1_ps((float)i);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < CHAINS; ++i)
      acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  __m512 sum = acc[0];
  for (int i = 1; i < CHAINS; ++i)
    sum = _mm512_add_ps(sum, acc[i]);
  return _mm512_reduce_add_ps(sum);
}

__attribute__((target("avx2,fma"))) static float fma_avx2(long iterations) {
  __m256 acc[CHAINS];
  __m256 x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < CHAINS; ++i)
    acc[i] = _mm256_set1_ps((float)i);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < CHAINS; ++i)
      acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  float out[8];
  __m256 sum = acc[0];
  for (int i = 1; i < CHAINS; ++i)
    sum = _mm256_add_ps(sum, acc[i]);
  _mm256_storeu_ps(out, sum);
  return out[0];
}

/* GFLOP/s of `threads` threads each running the FMA loop. */
static double fma_peak(int threads, int avx512, volatile float *sink) {
  double best = 0;
  for (int rep = 0; rep < 3; ++rep) {
    double start = omp_get_wtime();
#pragma omp parallel num_threads(threads)
    {
      float r = avx512 ? fma_avx512(ITERATIONS) : fma_avx2(ITERATIONS);
      sink[omp_get_thread_num()] = r;
    }
    double seconds = omp_get_wtime() - start;
    double flops =
        2.0 * (avx512 ? 16 : 8) * CHAINS * (double)ITERATIONS * threads;
    if (flops / seconds > best)
      best = flops / seconds;
  }
  return best / 1e9;
}

/* GB/s reading a buffer of `mib` MiB on `threads` threads, best of 5 reads
 * after the first touch. */
static double read_bandwidth(int threads, size_t mib) {
  size_t count = mib << 20 >> 2;
  /* Integers: their sum vectorizes without reassociating float adds. */
  unsigned *buffer = aligned_alloc(64, count * sizeof(unsigned));
#pragma omp parallel for num_threads(threads)
  for (size_t i = 0; i < count; ++i)
    buffer[i] = (unsigned)(i & 7);
  double best = 0;
  volatile unsigned sink = 0;
  for (int rep = 0; rep < 5; ++rep) {
    double start = omp_get_wtime();
    unsigned total = 0;
#pragma omp parallel for num_threads(threads) reduction(+ : total)
    for (size_t i = 0; i < count; ++i)
      total += buffer[i];
    double seconds = omp_get_wtime() - start;
    sink += total;
    double rate = count * sizeof(unsigned) / seconds / 1e9;
    if (rate > best)
      best = rate;
  }
  free(buffer);
  return best;
}

int main(int argc, char **argv) {
  int threads = argc > 1 ? atoi(argv[1]) : omp_get_num_procs();
  int avx512 = __builtin_cpu_supports("avx512f");
  int avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (!avx512 && !avx2) {
    fprintf(stderr, "peak: needs AVX2+FMA or AVX-512\n");
    return 1;
  }
  volatile float sink[256];
  double one = fma_peak(1, avx512, sink);
  double all = fma_peak(threads, avx512, sink);
  /* 512 MiB comes from memory; 64 MiB (the 4096 x 4096 GEMV's weight) may
   * stay in a large last-level cache. */
  double bandwidth = read_bandwidth(threads, 512);
  double bandwidth64 = read_bandwidth(threads, 64);
  printf("{\"isa\": \"%s\", \"vnni\": %s, \"threads\": %d, "
         "\"fp32_gflops_1thread\": %.1f, \"fp32_gflops\": %.1f, "
         "\"read_gbps\": %.1f, \"read_gbps_64mib\": %.1f}\n",
         avx512 ? "avx512" : "avx2",
         __builtin_cpu_supports("avx512vnni") ? "true" : "false", threads, one,
         all, bandwidth, bandwidth64);
  return 0;
}
