/*===- ukernel_common.h - small helpers the CPU microkernels share --------===*
 *
 * Internal to the runtime: integer helpers that the f32 (gemm.c) and int8
 * (igemm.c) drivers both use to block a product and split it over threads.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_CPU_UKERNEL_COMMON_H
#define KILN_RUNTIME_CPU_UKERNEL_COMMON_H

#include <stdint.h>

static inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
static inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
static inline int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

/* The range of part `r` when `units` are split into `parts` nearly equal
 * contiguous parts. */
static inline void split_range(int64_t units, int64_t parts, int64_t r,
                               int64_t *begin, int64_t *end) {
  int64_t base = units / parts, extra = units % parts;
  *begin = r * base + min64(r, extra);
  *end = *begin + base + (r < extra);
}

#endif /* KILN_RUNTIME_CPU_UKERNEL_COMMON_H */
