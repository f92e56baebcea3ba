/*===- transpose.c - swapping a tensor's last two dims
 * ----------------------===*
 *
 * dst[b0][b1][j][i] = src[b0][b1][i][j] for f32 tensors, each element at
 * its view's offset plus index times stride (in elements), given per source
 * index for both: element (b0, b1, i, j) of src lies at s_b0 * b0 + s_b1 *
 * b1 + s_i * i + s_j * j and goes to d_b0 * b0 + d_b1 * b1 + d_i * i + d_j *
 * j. The attention kernel's K^T of a decoder's key cache is the case that
 * needed it: LLVM's code for a linalg.transpose gathered K's columns one
 * element at a time (0.6 ms for 12 x 513 x 64 keys, more than the rest of
 * the attention).
 *
 * When both sides run contiguously along their last dim (s_j = d_i = 1),
 * 16 x 16 blocks (AVX-512) or 8 x 8 blocks (AVX2) are transposed in
 * registers; otherwise, and for the generic kernel, 16 x 16 blocks are
 * copied element by element (each block's lines stay in L1). Threads split
 * the (batch, row block) pairs.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln_ukernels.h"
#include "ukernel_common.h"

#include <immintrin.h>
#include <omp.h>

#define KILN_EXPORT __attribute__((visibility("default")))

typedef struct transpose_problem {
  int64_t batch0, batch1, rows, cols;
  const float *src;
  int64_t s_b0, s_b1, s_i, s_j;
  float *dst;
  int64_t d_b0, d_b1, d_i, d_j;
} transpose_problem;

/* Rows [i0, i0 + ni) and columns [j0, j0 + nj) of one matrix, element by
 * element. */
static void block_scalar(const float *src, float *dst,
                         const transpose_problem *p, int64_t i0, int64_t ni,
                         int64_t j0, int64_t nj) {
  for (int64_t i = i0; i < i0 + ni; ++i)
    for (int64_t j = j0; j < j0 + nj; ++j)
      dst[i * p->d_i + j * p->d_j] = src[i * p->s_i + j * p->s_j];
}

__attribute__((target("avx512f"))) static void
block16_avx512(const float *src, int64_t ld_src, float *dst, int64_t ld_dst) {
  __m512 r[16], t[16];
  for (int k = 0; k < 16; ++k)
    r[k] = _mm512_loadu_ps(src + k * ld_src);
  /* Interleave pairs of rows, then pairs of pairs, then 128-bit lanes. */
  for (int k = 0; k < 16; k += 2) {
    t[k] = _mm512_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm512_unpackhi_ps(r[k], r[k + 1]);
  }
  for (int k = 0; k < 16; k += 4) {
    r[k] = _mm512_castpd_ps(
        _mm512_unpacklo_pd(_mm512_castps_pd(t[k]), _mm512_castps_pd(t[k + 2])));
    r[k + 1] = _mm512_castpd_ps(
        _mm512_unpackhi_pd(_mm512_castps_pd(t[k]), _mm512_castps_pd(t[k + 2])));
    r[k + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(t[k + 1]),
                                                   _mm512_castps_pd(t[k + 3])));
    r[k + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(t[k + 1]),
                                                   _mm512_castps_pd(t[k + 3])));
  }
  /* r[4q + c] holds, in 128-bit lane l, column 4l + c of rows 4q..4q+3. */
  for (int q = 0; q < 4; q += 2)
    for (int c = 0; c < 4; ++c) {
      __m512 a = r[4 * q + c], b = r[4 * (q + 1) + c];
      t[4 * q + c] = _mm512_shuffle_f32x4(a, b, 0x88);       /* lanes 0, 2 */
      t[4 * (q + 1) + c] = _mm512_shuffle_f32x4(a, b, 0xdd); /* lanes 1, 3 */
    }
  /* t[4q + c] (q even) holds rows 4q..4q+7 of columns c and 8 + c lane
   * pairs; one more lane shuffle across the two halves gives full columns. */
  for (int c = 0; c < 4; ++c) {
    __m512 a0 = t[c], a1 = t[8 + c], b0 = t[4 + c], b1 = t[12 + c];
    /* Column c: lanes (a0.0, a0.2, a1.0, a1.2) -> rows 0-3, 4-7, 8-11, 12-15.
     */
    _mm512_storeu_ps(dst + (c)*ld_dst, _mm512_shuffle_f32x4(a0, a1, 0x88));
    _mm512_storeu_ps(dst + (8 + c) * ld_dst,
                     _mm512_shuffle_f32x4(a0, a1, 0xdd));
    _mm512_storeu_ps(dst + (4 + c) * ld_dst,
                     _mm512_shuffle_f32x4(b0, b1, 0x88));
    _mm512_storeu_ps(dst + (12 + c) * ld_dst,
                     _mm512_shuffle_f32x4(b0, b1, 0xdd));
  }
}

__attribute__((target("avx2"))) static void
block8_avx2(const float *src, int64_t ld_src, float *dst, int64_t ld_dst) {
  __m256 r[8], t[8];
  for (int k = 0; k < 8; ++k)
    r[k] = _mm256_loadu_ps(src + k * ld_src);
  for (int k = 0; k < 8; k += 2) {
    t[k] = _mm256_unpacklo_ps(r[k], r[k + 1]);
    t[k + 1] = _mm256_unpackhi_ps(r[k], r[k + 1]);
  }
  for (int k = 0; k < 8; k += 4) {
    r[k] = _mm256_shuffle_ps(t[k], t[k + 2], 0x44);
    r[k + 1] = _mm256_shuffle_ps(t[k], t[k + 2], 0xee);
    r[k + 2] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0x44);
    r[k + 3] = _mm256_shuffle_ps(t[k + 1], t[k + 3], 0xee);
  }
  for (int c = 0; c < 4; ++c) {
    _mm256_storeu_ps(dst + c * ld_dst,
                     _mm256_permute2f128_ps(r[c], r[4 + c], 0x20));
    _mm256_storeu_ps(dst + (4 + c) * ld_dst,
                     _mm256_permute2f128_ps(r[c], r[4 + c], 0x31));
  }
}

/* Row blocks [rb0, rb1) of matrix (b0, b1). */
static void transpose_rows(kiln_isa isa, const transpose_problem *p, int64_t b0,
                           int64_t b1, int64_t rb0, int64_t rb1) {
  const float *src = p->src + b0 * p->s_b0 + b1 * p->s_b1;
  float *dst = p->dst + b0 * p->d_b0 + b1 * p->d_b1;
  int contiguous = p->s_j == 1 && p->d_i == 1;
  int64_t tile = isa == KILN_ISA_AVX512 ? 16 : isa == KILN_ISA_AVX2 ? 8 : 16;
  for (int64_t i0 = rb0 * 16; i0 < min64(rb1 * 16, p->rows); i0 += 16) {
    int64_t ni = min64(16, p->rows - i0);
    for (int64_t j0 = 0; j0 < p->cols; j0 += 16) {
      int64_t nj = min64(16, p->cols - j0);
      if (!contiguous || isa == KILN_ISA_GENERIC || ni < 16 || nj < 16) {
        block_scalar(src, dst, p, i0, ni, j0, nj);
        continue;
      }
      for (int64_t i = i0; i < i0 + 16; i += tile)
        for (int64_t j = j0; j < j0 + 16; j += tile) {
          const float *from = src + i * p->s_i + j;
          float *to = dst + j * p->d_j + i;
          if (tile == 16)
            block16_avx512(from, p->s_i, to, p->d_j);
          else
            block8_avx2(from, p->s_i, to, p->d_j);
        }
    }
  }
}

static void run_transpose(kiln_isa requested, const transpose_problem *p) {
  kiln_isa isa = kiln_ukernel_resolve_isa(requested);
  int64_t row_blocks = ceil_div(p->rows, 16);
  int64_t items = p->batch0 * p->batch1 * row_blocks;
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  /* Below some 64 Ki elements the fork costs more than the copy. */
  if (p->batch0 * p->batch1 * p->rows * p->cols < 65536)
    threads = 1;
  threads = (int)max64(1, min64(threads, items));
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    int64_t begin, end;
    split_range(items, omp_get_num_threads(), omp_get_thread_num(), &begin,
                &end);
    for (int64_t item = begin; item < end;) {
      int64_t matrix = item / row_blocks, first = item % row_blocks;
      int64_t last = min64(row_blocks, first + (end - item));
      transpose_rows(isa, p, matrix / p->batch1, matrix % p->batch1, first,
                     last);
      item += last - first;
    }
  }
}

#define DEFINE_TRANSPOSE_ENTRY(isa, ISA)                                       \
  KILN_EXPORT void kiln_ukernel_transpose_##isa(KILN_TRANSPOSE_ARGS) {         \
    (void)src_allocated;                                                       \
    (void)src_zero;                                                            \
    (void)dst_allocated;                                                       \
    (void)dst_zero;                                                            \
    if (batch0 <= 0 || batch1 <= 0 || rows <= 0 || cols <= 0)                  \
      return;                                                                  \
    transpose_problem p = {                                                    \
        batch0, batch1, rows, cols, src_aligned + src_offset,                  \
        s_b0,   s_b1,   s_i,  s_j,  dst_aligned + dst_offset,                  \
        d_b0,   d_b1,   d_i,  d_j};                                            \
    run_transpose(ISA, &p);                                                    \
  }

DEFINE_TRANSPOSE_ENTRY(avx512, KILN_ISA_AVX512)
DEFINE_TRANSPOSE_ENTRY(avx2, KILN_ISA_AVX2)
DEFINE_TRANSPOSE_ENTRY(generic, KILN_ISA_GENERIC)
