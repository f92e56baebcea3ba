/*===- gemm.c - packed f32 GEMM and convolution microkernels ---------------===*
 *
 * One blocked GEMM driver for every contraction the compiler hands over:
 * C (+)= A * B, where each operand's element (i, j) lies at its base plus
 * row_offset[i] + col_offset[j]. The offset tables make plain, transposed,
 * broadcast and strided matrices and the implicit im2col matrix of a
 * convolution look the same to the driver.
 *
 * Per thread tile: for each K block, the tile's B columns are packed into
 * NR-wide panels ([k][NR], zero-padded) and its A rows into MR-wide panels
 * ([k][MR]); the register-tiled microkernel then multiplies an A panel by a
 * B panel with MR x NR accumulators. Register tiles: AVX-512 8 x 32 (16 zmm
 * accumulators), AVX2+FMA 6 x 16 (12 ymm), generic 4 x 16.
 *
 * Threads (OpenMP) take tiles of the (batch, M, N) space; the tile grid is
 * chosen so the threads finish together. Inside an enclosing parallel region
 * (the attention kernel's tile loop) a call runs on its own thread only.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln_ukernels.h"
#include "ukernel_avx2.h"
#include "ukernel_avx512.h"
#include "ukernel_common.h"

#include <cpuid.h>
#include <immintrin.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#define KILN_EXPORT __attribute__((visibility("default")))

/* The epilogue's argument names, for forwarding them. */
#define GEMM_EPILOGUE_NAMES                                                    \
  accumulate, d_allocated, d_aligned, d_zero, d_offset, d_batch0, d_batch1,    \
      d_m, d_n, e_allocated, e_aligned, e_zero, e_offset, e_batch0, e_batch1,  \
      e_m, e_n, addends, lo, hi
#define CONV_EPILOGUE_NAMES                                                    \
  accumulate, d_allocated, d_aligned, d_zero, d_offset, d_n, d_g, d_m, d_oh,   \
      d_ow, e_allocated, e_aligned, e_zero, e_offset, e_n, e_g, e_m, e_oh,     \
      e_ow, addends, lo, hi

/* Where the columns of a register tile go when they cross the rows of a
 * padded image (a pointwise convolution writing the interior of the next
 * convolution's padded input): segment g holds the lanes `mask[g][h]` of
 * vector h, and lane l of the tile goes to the row's element off[g] + l. */
typedef struct tile_cols {
  int count;
  int64_t off[32];
  uint16_t mask[32][2];
} tile_cols;

/* The epilogue of one register tile, applied before its store: row i gets
 * the scalar s[i] plus the contiguous rows d[i] + dcol and e[i] + ecol
 * (where d[i], e[i] are not NULL), then the clamp to [lo, hi]. d and e point
 * into the row tables of a whole macro block, so a tile's epilogue is set
 * up in constant time. */
typedef struct tile_epilogue {
  const float *s;
  /* Whether any d[i] or e[i] is set (else they are not read). */
  int rows;
  const float *const *d, *const *e;
  int64_t dcol, ecol;
  float lo, hi;
  /* The tile's column segments, or NULL when its columns are contiguous
   * (then the only kind with row addends, `rows`). */
  const tile_cols *cols;
} tile_epilogue;

typedef void (*microkernel_fn)(int64_t kc, const float *a, const float *b,
                               int64_t ldb, float *c, int64_t rs,
                               int accumulate, const tile_epilogue *ep);

/* The clamp as the compiler's ops compute it: a NaN stays NaN. */
static inline float clamp_value(float x, float lo, float hi) {
  x = x < lo ? lo : x;
  return x > hi ? hi : x;
}

/* Element (i, j) of a register tile after the epilogue `ep`, x being the
 * product (plus the old output when accumulating). */
static inline float tile_element(const tile_epilogue *ep, int64_t i, int64_t j,
                                 float x) {
  x += ep->s[i];
  if (ep->rows && ep->d[i])
    x += ep->d[i][ep->dcol + j];
  if (ep->rows && ep->e[i])
    x += ep->e[i][ep->ecol + j];
  return clamp_value(x, ep->lo, ep->hi);
}

/* Depths up to which a row tile sweeps all of a block's panels (see
 * macro_kernel). */
static const int64_t kShallowDepth = 64;

/* Products whose A the compiler packed (a convolution's or a matmul's
 * weights) and whose columns are few (a pointwise convolution on a 7x7 or
 * 14x14 plane) stream A from memory: each weight is used for only N
 * columns. Their K blocks are as deep as this many bytes of the thread's B
 * columns allow, and each row tile sweeps all its panels (so A is read once,
 * in long runs, and reused from L1). Small enough for a 512 KiB L2 to hold
 * the B block besides the rest. */
static const int64_t kDeepBlockBytes = 256 * 1024;

/* How far ahead (in k steps) the AVX-512 and AVX2 kernels prefetch their A
 * panel: a compiler-packed A comes from memory once per product (above),
 * and the hardware prefetchers alone left ResNet-50's 2048 -> 512 channel
 * pointwise convolutions at 7x7 waiting on it (103 -> 122 GFLOP/s on one
 * AMD EPYC core from this prefetch, 150 with the deep blocks). */
enum { kAPrefetchSteps = 128 };

/* A one-row tile runs the two halves of k side by side from this many k
 * steps per half (DEFINE_MICRO_AVX512). */
enum { kSplitGemvSteps = 32 };

/* Rows of A up to which a row-major B is read in place, however large
 * (see run_problem). */
static const int64_t kInPlaceRows = 128;

/* A microkernel and the cache blocks that suit it. */
typedef struct kernel {
  int64_t mr, nr;
  microkernel_fn micro;
  int64_t kc, mc, nc;
  /* f32 lanes of one vector register: the cost model's FMA width. */
  int64_t lanes;
  /* Kernels for the first r < mr rows of a panel (index r), or none. */
  microkernel_fn partial[8];
  /* Kernels for r <= mr rows over the first nr / 2 columns (index r), for
   * a product's last columns when at most half a panel is left, or none. */
  microkernel_fn narrow[9];
  /* Whether a product's last few columns (at most kColumnTail) go to
   * columns_avx2, which vectorizes along the rows of the A panel. */
  int column_tail;
} kernel;

/*===----------------------------------------------------------------------===*
 * Microkernels: C[MR][NR] (+)= sum over kc of a[k][MR] (outer) b[k][NR],
 * the rows of b `ldb` floats apart (NR when packed).
 *===----------------------------------------------------------------------===*/

/* The AVX-512 kernel for the first ROWS rows of an 8-row A panel: all 8 for
 * full tiles, fewer for the last rows of a product (a GEMV's single row
 * then costs 2 multiply-adds a k step, not 16), over HALVES x 16 columns:
 * 32, or 16 for a product's last columns when at most 16 are left. */
#define DEFINE_MICRO_AVX512(name, ROWS, HALVES)                                \
  __attribute__((target("avx512f"))) static void name(                         \
      int64_t kc, const float *restrict a, const float *restrict b,            \
      int64_t ldb, float *restrict c, int64_t rs, int accumulate,              \
      const tile_epilogue *ep) {                                               \
    __m512 acc[ROWS][HALVES];                                                  \
    for (int i = 0; i < ROWS; ++i)                                             \
      for (int h = 0; h < HALVES; ++h)                                         \
        acc[i][h] = _mm512_setzero_ps();                                       \
    int64_t k = 0;                                                             \
    if (ROWS == 1 && kc >= 2 * kSplitGemvSteps) {                              \
      /* One row (a GEMV): B's stream alone bounds it, and one stream with     \
       * one chain per vector keeps too few loads in flight. The two halves    \
       * of k go side by side: two streams, twice the chains. */               \
      int64_t half = kc / 2;                                                   \
      const float *a2 = a + 8 * half, *b2 = b + ldb * half;                    \
      __m512 acc2[HALVES];                                                     \
      for (int h = 0; h < HALVES; ++h)                                         \
        acc2[h] = _mm512_setzero_ps();                                         \
      for (; k < half; ++k) {                                                  \
        __m512 x = _mm512_set1_ps(a[0]), x2 = _mm512_set1_ps(a2[0]);           \
        for (int h = 0; h < HALVES; ++h) {                                     \
          acc[0][h] =                                                          \
              _mm512_fmadd_ps(x, _mm512_loadu_ps(b + 16 * h), acc[0][h]);      \
          acc2[h] =                                                            \
              _mm512_fmadd_ps(x2, _mm512_loadu_ps(b2 + 16 * h), acc2[h]);      \
        }                                                                      \
        a += 8;                                                                \
        a2 += 8;                                                               \
        b += ldb;                                                              \
        b2 += ldb;                                                             \
      }                                                                        \
      for (int h = 0; h < HALVES; ++h)                                         \
        acc[0][h] = _mm512_add_ps(acc[0][h], acc2[h]);                         \
      /* An odd kc's last step. */                                             \
      a = a2;                                                                  \
      b = b2;                                                                  \
      k = 2 * half;                                                            \
    }                                                                          \
    for (; k < kc; ++k) {                                                      \
      __m512 bv[HALVES];                                                       \
      for (int h = 0; h < HALVES; ++h)                                         \
        bv[h] = _mm512_loadu_ps(b + 16 * h);                                   \
      /* A advances half a cache line a step. */                               \
      if ((k & 1) == 0)                                                        \
        _mm_prefetch((const char *)(a + 8 * kAPrefetchSteps), _MM_HINT_T0);    \
      for (int i = 0; i < ROWS; ++i) {                                         \
        __m512 ai = _mm512_set1_ps(a[i]);                                      \
        for (int h = 0; h < HALVES; ++h)                                       \
          acc[i][h] = _mm512_fmadd_ps(ai, bv[h], acc[i][h]);                   \
      }                                                                        \
      a += 8;                                                                  \
      b += ldb;                                                                \
    }                                                                          \
    const tile_cols *tc = ep ? ep->cols : NULL;                                \
    for (int i = 0; i < ROWS; ++i) {                                           \
      float *row = c + i * rs;                                                 \
      if (accumulate && tc)                                                    \
        for (int h = 0; h < HALVES; ++h) {                                     \
          __m512 old = _mm512_setzero_ps();                                    \
          for (int g = 0; g < tc->count; ++g)                                  \
            old = _mm512_mask_loadu_ps(old, tc->mask[g][h],                    \
                                       row + tc->off[g] + 16 * h);             \
          acc[i][h] = _mm512_add_ps(acc[i][h], old);                           \
        }                                                                      \
      else if (accumulate)                                                     \
        for (int h = 0; h < HALVES; ++h)                                       \
          acc[i][h] = _mm512_add_ps(acc[i][h], _mm512_loadu_ps(row + 16 * h)); \
      if (ep) {                                                                \
        /* max(lo, x) and min(hi, x) return x when it is a NaN. */             \
        __m512 s = _mm512_set1_ps(ep->s[i]);                                   \
        __m512 lo = _mm512_set1_ps(ep->lo), hi = _mm512_set1_ps(ep->hi);       \
        for (int h = 0; h < HALVES; ++h) {                                     \
          __m512 x = _mm512_add_ps(acc[i][h], s);                              \
          if (ep->rows && ep->d[i])                                            \
            x = _mm512_add_ps(x,                                               \
                              _mm512_loadu_ps(ep->d[i] + ep->dcol + 16 * h));  \
          if (ep->rows && ep->e[i])                                            \
            x = _mm512_add_ps(x,                                               \
                              _mm512_loadu_ps(ep->e[i] + ep->ecol + 16 * h));  \
          acc[i][h] = _mm512_min_ps(hi, _mm512_max_ps(lo, x));                 \
        }                                                                      \
      }                                                                        \
      if (tc)                                                                  \
        for (int g = 0; g < tc->count; ++g)                                    \
          for (int h = 0; h < HALVES; ++h)                                     \
            _mm512_mask_storeu_ps(row + tc->off[g] + 16 * h, tc->mask[g][h],   \
                                  acc[i][h]);                                  \
      else                                                                     \
        for (int h = 0; h < HALVES; ++h)                                       \
          _mm512_storeu_ps(row + 16 * h, acc[i][h]);                           \
    }                                                                          \
  }

DEFINE_MICRO_AVX512(micro_avx512, 8, 2)
DEFINE_MICRO_AVX512(micro_avx512_1, 1, 2)
DEFINE_MICRO_AVX512(micro_avx512_2, 2, 2)
DEFINE_MICRO_AVX512(micro_avx512_3, 3, 2)
DEFINE_MICRO_AVX512(micro_avx512_4, 4, 2)
DEFINE_MICRO_AVX512(micro_avx512_5, 5, 2)
DEFINE_MICRO_AVX512(micro_avx512_6, 6, 2)
DEFINE_MICRO_AVX512(micro_avx512_7, 7, 2)
DEFINE_MICRO_AVX512(micro_avx512_n1, 1, 1)
DEFINE_MICRO_AVX512(micro_avx512_n2, 2, 1)
DEFINE_MICRO_AVX512(micro_avx512_n3, 3, 1)
DEFINE_MICRO_AVX512(micro_avx512_n4, 4, 1)
DEFINE_MICRO_AVX512(micro_avx512_n5, 5, 1)
DEFINE_MICRO_AVX512(micro_avx512_n6, 6, 1)
DEFINE_MICRO_AVX512(micro_avx512_n7, 7, 1)
DEFINE_MICRO_AVX512(micro_avx512_n8, 8, 1)

/* Stores row i of an AVX2 tile (16 columns as two vectors): the old
 * output added when accumulating, then the fused epilogue, if any. */
__attribute__((target("avx2,fma"))) static inline void
store_row_avx2(float *row, __m256 acc[2], int i, int accumulate,
               const tile_epilogue *ep) {
  if (accumulate) {
    acc[0] = _mm256_add_ps(acc[0], _mm256_loadu_ps(row));
    acc[1] = _mm256_add_ps(acc[1], _mm256_loadu_ps(row + 8));
  }
  if (ep) {
    __m256 s = _mm256_set1_ps(ep->s[i]);
    __m256 lo = _mm256_set1_ps(ep->lo), hi = _mm256_set1_ps(ep->hi);
    for (int h = 0; h < 2; ++h) {
      __m256 x = _mm256_add_ps(acc[h], s);
      if (ep->rows && ep->d[i])
        x = _mm256_add_ps(x, _mm256_loadu_ps(ep->d[i] + ep->dcol + 8 * h));
      if (ep->rows && ep->e[i])
        x = _mm256_add_ps(x, _mm256_loadu_ps(ep->e[i] + ep->ecol + 8 * h));
      acc[h] = _mm256_min_ps(hi, _mm256_max_ps(lo, x));
    }
  }
  _mm256_storeu_ps(row, acc[0]);
  _mm256_storeu_ps(row + 8, acc[1]);
}

__attribute__((target("avx2,fma"))) static void
micro_avx2(int64_t kc, const float *restrict a, const float *restrict b,
           int64_t ldb, float *restrict c, int64_t rs, int accumulate,
           const tile_epilogue *ep) {
  enum { MR = 6 };
  __m256 acc[MR][2];
  for (int i = 0; i < MR; ++i)
    acc[i][0] = acc[i][1] = _mm256_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    /* A advances 24 bytes a step. */
    if ((k & 1) == 0)
      _mm_prefetch((const char *)(a + MR * kAPrefetchSteps), _MM_HINT_T0);
    for (int i = 0; i < MR; ++i) {
      __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += MR;
    b += ldb;
  }
  for (int i = 0; i < MR; ++i)
    store_row_avx2(c + i * rs, acc[i], i, accumulate, ep);
}

/* The last nv <= kColumnTail columns of a product: a register tile along
 * the rows of the A panel (mr <= 8 lanes, one vector per column and per
 * k phase), where the row kernels would multiply a whole panel width of
 * padding. B[k][j] is b[k * ldb + j]; C row i is c + i * rs. */
enum { kColumnTail = 4 };

/* sums[j] = the A panel's rows (mr <= 8 lanes, a[k * mr + i]) times
 * B's column j < NV, over kc. Inlined with constant NV, PHASES and FULL
 * (a panel of 8 rows: plain loads, no mask register), so that the
 * accumulators, one per column and k phase, stay in registers: four
 * phases of four columns (16 of AVX2's 16) spilled inside the loop. */
__attribute__((target("avx2,fma"), always_inline)) static inline void
columns_avx2_sums(int64_t kc, const float *restrict a, int64_t mr,
                  const float *restrict b, int64_t ldb, __m256 *sums,
                  const int NV, const int PHASES, const int FULL) {
  __m256i lanes = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)mr),
                                     _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  __m256 acc[4][kColumnTail];
  for (int q = 0; q < PHASES; ++q)
    for (int j = 0; j < NV; ++j)
      acc[q][j] = _mm256_setzero_ps();
  int64_t k = 0;
  for (; k + PHASES <= kc; k += PHASES)
    for (int q = 0; q < PHASES; ++q) {
      __m256 av = FULL ? _mm256_loadu_ps(a + (k + q) * 8)
                       : _mm256_maskload_ps(a + (k + q) * mr, lanes);
      for (int j = 0; j < NV; ++j)
        acc[q][j] = _mm256_fmadd_ps(
            av, _mm256_broadcast_ss(b + (k + q) * ldb + j), acc[q][j]);
    }
  for (; k < kc; ++k) {
    __m256 av = FULL ? _mm256_loadu_ps(a + k * 8)
                     : _mm256_maskload_ps(a + k * mr, lanes);
    for (int j = 0; j < NV; ++j)
      acc[0][j] =
          _mm256_fmadd_ps(av, _mm256_broadcast_ss(b + k * ldb + j), acc[0][j]);
  }
  for (int j = 0; j < NV; ++j) {
    sums[j] = acc[0][j];
    for (int q = 1; q < PHASES; ++q)
      sums[j] = _mm256_add_ps(sums[j], acc[q][j]);
  }
}

/* One column count: at most 8 accumulators for four columns. */
#define DEFINE_COLUMNS_AVX2(NV, PHASES)                                        \
  __attribute__((target("avx2,fma"))) static void columns_avx2_##NV(           \
      int64_t kc, const float *restrict a, int64_t mr,                         \
      const float *restrict b, int64_t ldb, __m256 sums[NV]) {                 \
    if (mr == 8)                                                               \
      columns_avx2_sums(kc, a, mr, b, ldb, sums, NV, PHASES, 1);               \
    else                                                                       \
      columns_avx2_sums(kc, a, mr, b, ldb, sums, NV, PHASES, 0);               \
  }

DEFINE_COLUMNS_AVX2(1, 4)
DEFINE_COLUMNS_AVX2(2, 4)
DEFINE_COLUMNS_AVX2(3, 3)
DEFINE_COLUMNS_AVX2(4, 2)

/* C[i][j] (+)= A panel (mr rows) times B columns [0, nv), nv <= kColumnTail,
 * for rows i < mv, then the epilogue `ep` (or none). */
__attribute__((target("avx2,fma"))) static void
columns_avx2(int64_t kc, const float *restrict a, int64_t mr,
             const float *restrict b, int64_t ldb, int64_t nv, float *c,
             int64_t rs, int64_t mv, int accumulate, const tile_epilogue *ep) {
  __m256 sums[kColumnTail];
  switch (nv) {
  case 1:
    columns_avx2_1(kc, a, mr, b, ldb, sums);
    break;
  case 2:
    columns_avx2_2(kc, a, mr, b, ldb, sums);
    break;
  case 3:
    columns_avx2_3(kc, a, mr, b, ldb, sums);
    break;
  default:
    columns_avx2_4(kc, a, mr, b, ldb, sums);
    break;
  }
  float v[kColumnTail][8];
  for (int64_t j = 0; j < nv; ++j)
    _mm256_storeu_ps(v[j], sums[j]);
  for (int64_t i = 0; i < mv; ++i)
    for (int64_t j = 0; j < nv; ++j) {
      float x = (accumulate ? c[i * rs + j] : 0.0f) + v[j][i];
      c[i * rs + j] = ep ? tile_element(ep, i, j, x) : x;
    }
}

/* AVX2's kernel for a single row (a GEMV): the 6-row kernel would multiply
 * five rows of zeros, and one stream of B keeps too few loads in flight, so
 * the two halves of k go side by side as in DEFINE_MICRO_AVX512. */
__attribute__((target("avx2,fma"))) static void
micro_avx2_1(int64_t kc, const float *restrict a, const float *restrict b,
             int64_t ldb, float *restrict c, int64_t rs, int accumulate,
             const tile_epilogue *ep) {
  enum { MR = 6 };
  (void)rs;
  __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(),
                   _mm256_setzero_ps(), _mm256_setzero_ps()};
  int64_t k = 0;
  if (kc >= 2 * kSplitGemvSteps) {
    int64_t half = kc / 2;
    const float *a2 = a + MR * half, *b2 = b + ldb * half;
    for (; k < half; ++k) {
      __m256 x = _mm256_broadcast_ss(a), x2 = _mm256_broadcast_ss(a2);
      acc[0] = _mm256_fmadd_ps(x, _mm256_loadu_ps(b), acc[0]);
      acc[1] = _mm256_fmadd_ps(x, _mm256_loadu_ps(b + 8), acc[1]);
      acc[2] = _mm256_fmadd_ps(x2, _mm256_loadu_ps(b2), acc[2]);
      acc[3] = _mm256_fmadd_ps(x2, _mm256_loadu_ps(b2 + 8), acc[3]);
      a += MR;
      a2 += MR;
      b += ldb;
      b2 += ldb;
    }
    /* An odd kc's last step. */
    a = a2;
    b = b2;
    k = 2 * half;
  }
  for (; k < kc; ++k) {
    __m256 x = _mm256_broadcast_ss(a);
    acc[0] = _mm256_fmadd_ps(x, _mm256_loadu_ps(b), acc[0]);
    acc[1] = _mm256_fmadd_ps(x, _mm256_loadu_ps(b + 8), acc[1]);
    a += MR;
    b += ldb;
  }
  acc[0] = _mm256_add_ps(acc[0], acc[2]);
  acc[1] = _mm256_add_ps(acc[1], acc[3]);
  store_row_avx2(c, acc, 0, accumulate, ep);
}

static void micro_generic(int64_t kc, const float *restrict a,
                          const float *restrict b, int64_t ldb,
                          float *restrict c, int64_t rs, int accumulate,
                          const tile_epilogue *ep) {
  enum { MR = 4, NR = 16 };
  float acc[MR][NR] = {{0}};
  for (int64_t k = 0; k < kc; ++k) {
    for (int i = 0; i < MR; ++i)
      for (int j = 0; j < NR; ++j)
        acc[i][j] += a[i] * b[j];
    a += MR;
    b += ldb;
  }
  for (int i = 0; i < MR; ++i)
    for (int j = 0; j < NR; ++j) {
      float x = (accumulate ? c[i * rs + j] : 0.0f) + acc[i][j];
      c[i * rs + j] = ep ? tile_element(ep, i, j, x) : x;
    }
}

static const kernel kernels[] = {
    [KILN_ISA_AVX512] = {8,
                         32,
                         micro_avx512,
                         384,
                         128,
                         1536,
                         16,
                         {NULL, micro_avx512_1, micro_avx512_2, micro_avx512_3,
                          micro_avx512_4, micro_avx512_5, micro_avx512_6,
                          micro_avx512_7},
                         {NULL, micro_avx512_n1, micro_avx512_n2,
                          micro_avx512_n3, micro_avx512_n4, micro_avx512_n5,
                          micro_avx512_n6, micro_avx512_n7, micro_avx512_n8},
                         1},
    [KILN_ISA_AVX2] =
        {6, 16, micro_avx2, 256, 192, 1024, 8, {NULL, micro_avx2_1}, {NULL}, 1},
    [KILN_ISA_GENERIC] =
        {4, 16, micro_generic, 256, 64, 512, 4, {NULL}, {NULL}, 0},
};

/* The widest instruction set of this processor, from CPUID and the register
 * state the OS saves (XGETBV); no compiler runtime needed, since models link
 * without libgcc. */
static kiln_isa detect_isa(void) {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
    return KILN_ISA_GENERIC;
  int fma = (ecx >> 12) & 1, osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1;
  if (!osxsave || !avx || !fma)
    return KILN_ISA_GENERIC;
  unsigned xcr0_low, xcr0_high;
  __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
  if ((xcr0_low & 0x6) != 0x6 ||
      !__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
    return KILN_ISA_GENERIC;
  int avx2 = (ebx >> 5) & 1, avx512f = (ebx >> 16) & 1;
  if (avx512f && (xcr0_low & 0xe0) == 0xe0)
    return KILN_ISA_AVX512;
  return avx2 ? KILN_ISA_AVX2 : KILN_ISA_GENERIC;
}

KILN_EXPORT kiln_isa kiln_ukernel_resolve_isa(kiln_isa requested) {
  static int host = -1;
  if (host < 0)
    host = (int)detect_isa();
  return requested > (kiln_isa)host ? requested : (kiln_isa)host;
}

/*===----------------------------------------------------------------------===*
 * Row updates for few-row products: c[j] += sum_q a[q] * b_q[j], reading
 * B in place (no packing: each element is used at most a few times).
 * Up to kRowStep rows a call. A decode step's P V (one query row against a
 * chunk of values 64 wide) is a short c and many rows, so the wide kernels
 * keep four vectors of c and even and odd rows in separate accumulators:
 * eight independent multiply-add chains instead of one per vector.
 *===----------------------------------------------------------------------===*/

enum { kRowStep = 16 };

typedef void (*rows_fn)(int64_t len, float *c, const float *a,
                        const float *const *b, int64_t count);

__attribute__((target("avx512f"))) static void
rows_avx512(int64_t len, float *restrict c, const float *a,
            const float *const *b, int64_t count) {
  int64_t j = 0;
  for (; j + 64 <= len; j += 64) {
    __m512 even[4], odd[4];
    for (int v = 0; v < 4; ++v) {
      even[v] = _mm512_loadu_ps(c + j + 16 * v);
      odd[v] = _mm512_setzero_ps();
    }
    int64_t q = 0;
    for (; q + 2 <= count; q += 2) {
      __m512 x0 = _mm512_set1_ps(a[q]), x1 = _mm512_set1_ps(a[q + 1]);
      for (int v = 0; v < 4; ++v) {
        even[v] =
            _mm512_fmadd_ps(x0, _mm512_loadu_ps(b[q] + j + 16 * v), even[v]);
        odd[v] =
            _mm512_fmadd_ps(x1, _mm512_loadu_ps(b[q + 1] + j + 16 * v), odd[v]);
      }
    }
    if (q < count) {
      __m512 x0 = _mm512_set1_ps(a[q]);
      for (int v = 0; v < 4; ++v)
        even[v] =
            _mm512_fmadd_ps(x0, _mm512_loadu_ps(b[q] + j + 16 * v), even[v]);
    }
    for (int v = 0; v < 4; ++v)
      _mm512_storeu_ps(c + j + 16 * v, _mm512_add_ps(even[v], odd[v]));
  }
  for (; j < len; j += 16) {
    __mmask16 mask =
        len - j >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (len - j)) - 1);
    __m512 even = _mm512_maskz_loadu_ps(mask, c + j), odd = _mm512_setzero_ps();
    int64_t q = 0;
    for (; q + 2 <= count; q += 2) {
      even = _mm512_fmadd_ps(_mm512_set1_ps(a[q]),
                             _mm512_maskz_loadu_ps(mask, b[q] + j), even);
      odd = _mm512_fmadd_ps(_mm512_set1_ps(a[q + 1]),
                            _mm512_maskz_loadu_ps(mask, b[q + 1] + j), odd);
    }
    if (q < count)
      even = _mm512_fmadd_ps(_mm512_set1_ps(a[q]),
                             _mm512_maskz_loadu_ps(mask, b[q] + j), even);
    _mm512_mask_storeu_ps(c + j, mask, _mm512_add_ps(even, odd));
  }
}

__attribute__((target("avx2,fma"))) static void
rows_avx2(int64_t len, float *restrict c, const float *a, const float *const *b,
          int64_t count) {
  int64_t j = 0;
  for (; j + 32 <= len; j += 32) {
    __m256 even[4], odd[4];
    for (int v = 0; v < 4; ++v) {
      even[v] = _mm256_loadu_ps(c + j + 8 * v);
      odd[v] = _mm256_setzero_ps();
    }
    int64_t q = 0;
    for (; q + 2 <= count; q += 2) {
      __m256 x0 = _mm256_set1_ps(a[q]), x1 = _mm256_set1_ps(a[q + 1]);
      for (int v = 0; v < 4; ++v) {
        even[v] =
            _mm256_fmadd_ps(x0, _mm256_loadu_ps(b[q] + j + 8 * v), even[v]);
        odd[v] =
            _mm256_fmadd_ps(x1, _mm256_loadu_ps(b[q + 1] + j + 8 * v), odd[v]);
      }
    }
    if (q < count) {
      __m256 x0 = _mm256_set1_ps(a[q]);
      for (int v = 0; v < 4; ++v)
        even[v] =
            _mm256_fmadd_ps(x0, _mm256_loadu_ps(b[q] + j + 8 * v), even[v]);
    }
    for (int v = 0; v < 4; ++v)
      _mm256_storeu_ps(c + j + 8 * v, _mm256_add_ps(even[v], odd[v]));
  }
  for (; j + 8 <= len; j += 8) {
    __m256 s = _mm256_loadu_ps(c + j);
    for (int64_t q = 0; q < count; ++q)
      s = _mm256_fmadd_ps(_mm256_set1_ps(a[q]), _mm256_loadu_ps(b[q] + j), s);
    _mm256_storeu_ps(c + j, s);
  }
  for (; j < len; ++j)
    for (int64_t q = 0; q < count; ++q)
      c[j] += a[q] * b[q][j];
}

static void rows_generic(int64_t len, float *restrict c, const float *a,
                         const float *const *b, int64_t count) {
  for (int64_t q = 0; q < count; ++q)
    for (int64_t j = 0; j < len; ++j)
      c[j] += a[q] * b[q][j];
}

static const rows_fn row_kernels[] = {
    [KILN_ISA_AVX512] = rows_avx512,
    [KILN_ISA_AVX2] = rows_avx2,
    [KILN_ISA_GENERIC] = rows_generic,
};

/*===----------------------------------------------------------------------===*
 * Dot products for few-row products whose B is stored transposed, each
 * column's k elements contiguous (attention's q k^T reading K in place):
 * out[j] = sum_q a[q] * b_j[q] for up to kDotColumns columns a call, B read
 * once and never packed. With a short k (a head's 64) the horizontal sums
 * cost as much as the multiply-adds, so the eight columns' vectors are
 * reduced together, halving all eight at each shuffle.
 *===----------------------------------------------------------------------===*/

enum { kDotColumns = 8 };

/* How far ahead the few-row drivers prefetch B: a decode step's keys and
 * values stream from memory once per step (the whole cache does not stay
 * in cache), and the kernels' short rows, 64 floats walked kDotColumns or
 * kRowStep at a time, are not a stream the hardware prefetchers follow
 * early enough. Rows of up to kPrefetchRowBytes are prefetched whole. */
enum {
  kDotsAhead = 4 * kDotColumns,
  kRowsAhead = kRowStep,
  kPrefetchRowBytes = 1024
};

static inline void prefetch_row(const float *row, int64_t floats) {
  int64_t bytes = floats * (int64_t)sizeof(float);
  if (bytes > kPrefetchRowBytes)
    bytes = kPrefetchRowBytes;
  for (int64_t at = 0; at < bytes; at += 64)
    __builtin_prefetch((const char *)row + at, 0, 3);
}

typedef void (*dots_fn)(int64_t k, const float *a, const float *const *b,
                        int64_t count, float *out);

__attribute__((target("avx512f"))) static void
dots_avx512(int64_t k, const float *a, const float *const *b, int64_t count,
            float *out) {
  /* Always eight columns, the missing ones repeating the last, so that the
   * accumulators stay in registers. */
  const float *col[kDotColumns];
  for (int j = 0; j < kDotColumns; ++j)
    col[j] = b[j < count ? j : count - 1];
  __m512 s[kDotColumns];
  for (int j = 0; j < kDotColumns; ++j)
    s[j] = _mm512_setzero_ps();
  /* k in blocks of four vectors, each column's block read in order (the
   * cache lines of a key one after the other). */
  for (int64_t q0 = 0; q0 < k; q0 += 64) {
    __m512 x[4];
    __mmask16 mask[4];
    for (int u = 0; u < 4; ++u) {
      int64_t left = k - q0 - 16 * u;
      mask[u] = left >= 16  ? (__mmask16)0xffff
                : left <= 0 ? (__mmask16)0
                            : (__mmask16)((1u << left) - 1);
      x[u] = _mm512_maskz_loadu_ps(mask[u], a + q0 + 16 * u);
    }
    for (int j = 0; j < kDotColumns; ++j)
      for (int u = 0; u < 4; ++u)
        s[j] = _mm512_fmadd_ps(
            x[u], _mm512_maskz_loadu_ps(mask[u], col[j] + q0 + 16 * u), s[j]);
  }
  /* Pairs (2i, 2i + 1) to one vector: column 2i's 256-bit halves summed in
   * the low half, 2i + 1's in the high. */
  __m512 pairs[4];
  for (int i = 0; i < 4; ++i)
    pairs[i] = _mm512_add_ps(
        _mm512_shuffle_f32x4(s[2 * i], s[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
        _mm512_shuffle_f32x4(s[2 * i], s[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
  /* Quads: 128-bit lane c holds column 4h + c's four partial sums. */
  __m512 quads[2];
  for (int h = 0; h < 2; ++h)
    quads[h] =
        _mm512_add_ps(_mm512_shuffle_f32x4(pairs[2 * h], pairs[2 * h + 1],
                                           _MM_SHUFFLE(2, 0, 2, 0)),
                      _mm512_shuffle_f32x4(pairs[2 * h], pairs[2 * h + 1],
                                           _MM_SHUFFLE(3, 1, 3, 1)));
  /* Lane c: [c0 + c2, d0 + d2, c1 + c3, d1 + d3] for columns c and 4 + c,
   * then elements 0 and 1 get the full sums. */
  __m512 mixed = _mm512_add_ps(_mm512_unpacklo_ps(quads[0], quads[1]),
                               _mm512_unpackhi_ps(quads[0], quads[1]));
  __m512 sums =
      _mm512_add_ps(mixed, _mm512_permute_ps(mixed, _MM_SHUFFLE(1, 0, 3, 2)));
  float lanes[16];
  _mm512_storeu_ps(lanes, sums);
  for (int64_t j = 0; j < count; ++j)
    out[j] = lanes[(j % 4) * 4 + j / 4];
}

__attribute__((target("avx2,fma"))) static void
dots_avx2(int64_t k, const float *a, const float *const *b, int64_t count,
          float *out) {
  const float *col[kDotColumns];
  for (int j = 0; j < kDotColumns; ++j)
    col[j] = b[j < count ? j : count - 1];
  __m256 s[kDotColumns];
  for (int j = 0; j < kDotColumns; ++j)
    s[j] = _mm256_setzero_ps();
  int64_t q = 0;
  /* Four vectors of k at a time, each column's read in order. */
  for (; q + 32 <= k; q += 32) {
    __m256 x[4];
    for (int u = 0; u < 4; ++u)
      x[u] = _mm256_loadu_ps(a + q + 8 * u);
    for (int j = 0; j < kDotColumns; ++j)
      for (int u = 0; u < 4; ++u)
        s[j] = _mm256_fmadd_ps(x[u], _mm256_loadu_ps(col[j] + q + 8 * u), s[j]);
  }
  for (; q + 8 <= k; q += 8) {
    __m256 x = _mm256_loadu_ps(a + q);
    for (int j = 0; j < kDotColumns; ++j)
      s[j] = _mm256_fmadd_ps(x, _mm256_loadu_ps(col[j] + q), s[j]);
  }
  /* Pairs: column 2i's 128-bit halves summed in the low lane, 2i + 1's in
   * the high; two horizontal adds then leave [0, 2, 4, 6 | 1, 3, 5, 7]. */
  __m256 pairs[4];
  for (int i = 0; i < 4; ++i)
    pairs[i] =
        _mm256_add_ps(_mm256_permute2f128_ps(s[2 * i], s[2 * i + 1], 0x20),
                      _mm256_permute2f128_ps(s[2 * i], s[2 * i + 1], 0x31));
  __m256 sums = _mm256_hadd_ps(_mm256_hadd_ps(pairs[0], pairs[1]),
                               _mm256_hadd_ps(pairs[2], pairs[3]));
  float lanes[8];
  _mm256_storeu_ps(lanes, sums);
  for (int64_t j = 0; j < count; ++j) {
    float t = lanes[(j % 2) * 4 + j / 2];
    for (int64_t r = q; r < k; ++r)
      t += a[r] * b[j][r];
    out[j] = t;
  }
}

static void dots_generic(int64_t k, const float *a, const float *const *b,
                         int64_t count, float *out) {
  for (int64_t j = 0; j < count; ++j) {
    float t = 0.0f;
    for (int64_t q = 0; q < k; ++q)
      t += a[q] * b[j][q];
    out[j] = t;
  }
}

static const dots_fn dot_kernels[] = {
    [KILN_ISA_AVX512] = dots_avx512,
    [KILN_ISA_AVX2] = dots_avx2,
    [KILN_ISA_GENERIC] = dots_generic,
};

/*===----------------------------------------------------------------------===*
 * The problem: offset tables per operand, batches as two strided dims.
 *===----------------------------------------------------------------------===*/

static int is_unit_run(const int64_t *offsets, int64_t count) {
  for (int64_t i = 1; i < count; ++i)
    if (offsets[i] != offsets[0] + i)
      return 0;
  return 1;
}

typedef struct problem {
  int64_t batch0, batch1, m, n, k;
  const float *a, *b;
  float *c;
  /* Element (i, j) of an operand: base + row[i] + col[j]. */
  int64_t *am, *ak, *bk, *bn, *cm, *cn;
  int64_t a_batch[2], b_batch[2], c_batch[2];
  int accumulate;
  /* B arrives packed by the compiler as [n / NR][k][NR] panels (no batch
   * dims) for a kernel with this NR; 0 when B is an ordinary matrix. */
  int64_t b_prepacked_nr;
  /* A arrives packed by the compiler as [m / MR][k][MR] panels for a kernel
   * with this MR (per batch); 0 when A is an ordinary matrix. */
  int64_t a_prepacked_mr;
  /* B is small, row-major with contiguous rows b_ld floats apart: the
   * microkernel reads its full panels in place (only a last, partial panel
   * is packed). */
  int b_in_place;
  int64_t b_ld;
  /* cm[i] == i * c_rs and cn[j] == j: tiles store straight into C. */
  int c_direct;
  int64_t c_rs;
  /* cm[i] == cm[0] + i * c_rs; cn_run[j]: how many columns from j on lie
   * at consecutive addresses. A tile inside such a run stores straight into
   * C too (a convolution writing the interior of a padded buffer). */
  int c_rows_linear;
  int64_t *cn_run;
  /* bn[j] == bn[0] + j: B rows are contiguous (the few-row path). */
  int b_rows_contiguous;
  /* Set by a caller that filled cn_run and b_rows_contiguous itself. */
  int cn_runs_ready, b_rows_ready;
  /* Set by a caller that set d_cols and e_cols itself. */
  int addend_cols_ready;
  /* The epilogue: addends d and e (NULL when absent) at base + row[i] +
   * col[j] of their own tables, then the clamp to [lo, hi]. */
  const float *d, *e;
  int64_t *dm, *dn, *em, *en;
  int64_t d_batch[2], e_batch[2];
  float lo, hi;
  /* Whether there is any epilogue, and how the columns of C, d and e run
   * (derived): cn a unit run; dn, en constant (0), a unit run (1) or other
   * (2). */
  int epilogue, c_cols_unit, d_cols, e_cols;
} problem;

/* How a column table runs: 0 all equal, 1 a unit run, 2 anything else. */
static int column_kind(const int64_t *offsets, int64_t count) {
  int constant = 1, unit = 1;
  for (int64_t j = 1; j < count && (constant || unit); ++j) {
    constant &= offsets[j] == offsets[0];
    unit &= offsets[j] == offsets[0] + j;
  }
  return constant ? 0 : unit ? 1 : 2;
}

/* column_kind of the table j * stride over `count` columns. */
static int stride_kind(int64_t stride, int64_t count) {
  return count <= 1 || stride == 0 ? 0 : stride == 1 ? 1 : 2;
}

/* table[i] = first + i * stride for i < count (a running sum: the
 * runtime's portable code has no 64-bit vector multiply). */
static inline void fill_row(int64_t *restrict table, int64_t count,
                            int64_t first, int64_t stride) {
  for (int64_t i = 0; i < count; ++i, first += stride)
    table[i] = first;
}

static void fill_linear(int64_t *table, int64_t count, int64_t stride) {
  fill_row(table, count, 0, stride);
}

/* Sets the derived flags once the tables are filled. */
static void finish_problem(problem *p) {
  /* m, n >= 1 here. */
  p->c_rs = p->m > 1 ? p->cm[1] - p->cm[0] : 0;
  p->c_rows_linear = 1;
  for (int64_t i = 0; i < p->m && p->c_rows_linear; ++i)
    p->c_rows_linear = p->cm[i] == p->cm[0] + i * p->c_rs;
  if (!p->cn_runs_ready)
    for (int64_t j = p->n - 1; j >= 0; --j)
      p->cn_run[j] = j + 1 < p->n && p->cn[j + 1] == p->cn[j] + 1
                         ? p->cn_run[j + 1] + 1
                         : 1;
  p->c_cols_unit = p->cn_run[0] == p->n;
  p->c_direct =
      p->c_rows_linear && p->cm[0] == 0 && p->cn[0] == 0 && p->c_cols_unit;
  if (!p->b_rows_ready)
    p->b_rows_contiguous = is_unit_run(p->bn, p->n);
  p->b_rows_contiguous &= !p->b_prepacked_nr;
  p->epilogue =
      p->d || p->e || p->lo > -__builtin_inff() || p->hi < __builtin_inff();
  if (!p->addend_cols_ready) {
    p->d_cols = p->d ? column_kind(p->dn, p->n) : 0;
    p->e_cols = p->e ? column_kind(p->en, p->n) : 0;
  }
}

/*===----------------------------------------------------------------------===*
 * The epilogue: c = min(hi, max(lo, c + d + e)) on finished elements.
 *===----------------------------------------------------------------------===*/

/* A span of `len` contiguous outputs: s (the constant addends) plus d[j]
 * and e[j] where those are not NULL. */
typedef void (*span_fn)(int64_t len, float *c, float s, const float *d,
                        const float *e, float lo, float hi);

#define DEFINE_SPAN(suffix, attributes)                                        \
  attributes static void span_##suffix(int64_t len, float *restrict c,         \
                                       float s, const float *d,                \
                                       const float *e, float lo, float hi) {   \
    if (d && e)                                                                \
      for (int64_t j = 0; j < len; ++j)                                        \
        c[j] = clamp_value(c[j] + s + d[j] + e[j], lo, hi);                    \
    else if (d)                                                                \
      for (int64_t j = 0; j < len; ++j)                                        \
        c[j] = clamp_value(c[j] + s + d[j], lo, hi);                           \
    else if (e)                                                                \
      for (int64_t j = 0; j < len; ++j)                                        \
        c[j] = clamp_value(c[j] + s + e[j], lo, hi);                           \
    else                                                                       \
      for (int64_t j = 0; j < len; ++j)                                        \
        c[j] = clamp_value(c[j] + s, lo, hi);                                  \
  }

DEFINE_SPAN(avx512, __attribute__((target("avx512f"), min_vector_width(512))))
DEFINE_SPAN(avx2, __attribute__((target("avx2,fma"))))
DEFINE_SPAN(generic, )

static const span_fn span_kernels[] = {
    [KILN_ISA_AVX512] = span_avx512,
    [KILN_ISA_AVX2] = span_avx2,
    [KILN_ISA_GENERIC] = span_generic,
};

/* Where one batch of the product writes and reads its epilogue. */
typedef struct out_tile {
  float *c;
  const float *d, *e;
} out_tile;

static out_tile batch_tile(const problem *p, int64_t bi) {
  int64_t b0 = bi / p->batch1, b1 = bi % p->batch1;
  out_tile t = {p->c + b0 * p->c_batch[0] + b1 * p->c_batch[1], NULL, NULL};
  if (p->d)
    t.d = p->d + b0 * p->d_batch[0] + b1 * p->d_batch[1];
  if (p->e)
    t.e = p->e + b0 * p->e_batch[0] + b1 * p->e_batch[1];
  return t;
}

/* Whether the epilogue can go with a register tile: addends constant along
 * rows, or contiguous ones for a `full` tile (the kernel reads its whole
 * width). */
static int tile_epilogue_fits(const problem *p, int full) {
  return p->epilogue && p->d_cols < 2 && p->e_cols < 2 &&
         (full || (p->d_cols == 0 && p->e_cols == 0));
}

/* What the register tiles of one macro block (rows [mb, me), at most 248)
 * read for their epilogue, by row - mb: the sum of the addends constant
 * along the row, and the rows of contiguous addends (NULL where absent).
 * Entries up to 8 past the last row are zero or NULL: a kernel may compute
 * rows beyond it. */
typedef struct block_rows {
  float sums[256];
  const float *d[256], *e[256];
} block_rows;

static void block_rows_for(const problem *p, const out_tile *t, int64_t mb,
                           int64_t me, block_rows *rows) {
  for (int64_t i = mb; i < me + 8; ++i) {
    float v = 0.0f;
    const float *d = NULL, *e = NULL;
    if (i < me && p->d && !p->d_cols)
      v += t->d[p->dm[i] + p->dn[0]];
    if (i < me && p->e && !p->e_cols)
      v += t->e[p->em[i] + p->en[0]];
    if (i < me && p->d && p->d_cols == 1)
      d = t->d + p->dm[i];
    if (i < me && p->e && p->e_cols == 1)
      e = t->e + p->em[i];
    rows->sums[i - mb] = v;
    rows->d[i - mb] = d;
    rows->e[i - mb] = e;
  }
}

/* Fills `ep` for the register tile at row i0 (block row i0 - mb), column
 * j0. */
static void tile_epilogue_for(const problem *p, const block_rows *rows,
                              int64_t row, int64_t j0, tile_epilogue *ep) {
  ep->s = rows->sums + row;
  ep->cols = NULL;
  ep->lo = p->lo;
  ep->hi = p->hi;
  ep->rows = p->d_cols == 1 || p->e_cols == 1;
  ep->d = rows->d + row;
  ep->e = rows->e + row;
  ep->dcol = p->d && p->d_cols == 1 ? p->dn[j0] : 0;
  ep->ecol = p->e && p->e_cols == 1 ? p->en[j0] : 0;
}

/* Applies the epilogue to rows [i0, i0 + mv) x columns [j0, j0 + nv). */
static void apply_epilogue(kiln_isa isa, const problem *p, const out_tile *t,
                           int64_t i0, int64_t mv, int64_t j0, int64_t nv) {
  if (!p->epilogue)
    return;
  int vector = p->c_cols_unit && p->d_cols < 2 && p->e_cols < 2;
  for (int64_t i = i0; i < i0 + mv; ++i) {
    float *c = t->c + p->cm[i];
    const float *d = p->d ? t->d + p->dm[i] : NULL;
    const float *e = p->e ? t->e + p->em[i] : NULL;
    if (vector) {
      /* Addends constant along the row join the scalar s. */
      float s = 0.0f;
      if (d && !p->d_cols)
        s += d[p->dn[0]], d = NULL;
      if (e && !p->e_cols)
        s += e[p->en[0]], e = NULL;
      span_kernels[isa](nv, c + p->cn[0] + j0, s, d ? d + p->dn[j0] : NULL,
                        e ? e + p->en[j0] : NULL, p->lo, p->hi);
      continue;
    }
    for (int64_t j = j0; j < j0 + nv; ++j) {
      float x = c[p->cn[j]];
      if (d)
        x += d[p->dn[j]];
      if (e)
        x += e[p->en[j]];
      c[p->cn[j]] = clamp_value(x, p->lo, p->hi);
    }
  }
}

/* Packs 8 rows of k-contiguous data (row w at rows[w]) into dst[k][8] for
 * k < kc: 8 x 8 blocks transposed in registers, the tail element by element.
 */
__attribute__((target("avx"))) static void
pack_rows8_avx(float *restrict dst, const float *const rows[8], int64_t kc) {
  int64_t k = 0;
  for (; k + 8 <= kc; k += 8) {
    __m256 r[8];
    for (int w = 0; w < 8; ++w)
      r[w] = _mm256_loadu_ps(rows[w] + k);
    transpose8_avx(r);
    for (int w = 0; w < 8; ++w)
      _mm256_storeu_ps(dst + k * 8 + 8 * w, r[w]);
  }
  for (; k < kc; ++k)
    for (int w = 0; w < 8; ++w)
      dst[k * 8 + w] = rows[w][k];
}

/* dst[k][w] = src[outer[w] + koff[k]] for w < valid, 0 for valid <= w < width.
 */
/* pack_panel's runs with AVX-512 masked moves: for each k row, each run of
 * columns `stride` (1 or 2) elements apart in the source (at most 32 of
 * them) as one or two masked loads and stores, then zeros up to the panel's
 * width. Stride 1 is an im2col panel crossing output rows; stride 2 a
 * strided convolution's. */
__attribute__((target("avx512f"))) static void
pack_runs_avx512(float *restrict dst, int64_t width, int64_t valid, int64_t kc,
                 const float *src, const int64_t *outer, const int64_t *koff,
                 const int64_t *run_start, const int64_t *run_length,
                 int64_t runs, int64_t stride) {
  __mmask16 tail_lo = (__mmask16)(lanes(width) & ~lanes(valid));
  __mmask16 tail_hi = (__mmask16)(lanes(width - 16) & ~lanes(valid - 16));
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t k = 0; k < kc; ++k) {
    float *row = dst + k * width;
    const float *base = src + koff[k];
    for (int64_t r = 0; r < runs; ++r) {
      const float *from = base + outer[run_start[r]];
      float *to = row + run_start[r];
      for (int64_t j = 0; j < run_length[r]; j += 16) {
        int64_t n = run_length[r] - j;
        _mm512_mask_storeu_ps(
            to + j, lanes(n),
            load_strided_avx512(from + stride * j, n, stride));
      }
    }
    if (tail_lo)
      _mm512_mask_storeu_ps(row, tail_lo, zero);
    if (tail_hi)
      _mm512_mask_storeu_ps(row + 16, tail_hi, zero);
  }
}

/* Splits columns [0, valid) into maximal runs whose source offsets are
 * `step` apart; returns their number. */
static int64_t split_runs(const int64_t *outer, int64_t valid, int64_t step,
                          int64_t *start, int64_t *length) {
  int64_t runs = 0;
  for (int64_t w = 0; w < valid; ++w) {
    if (runs && outer[w] == outer[w - 1] + step) {
      ++length[runs - 1];
      continue;
    }
    start[runs] = w;
    length[runs++] = 1;
  }
  return runs;
}

static void pack_panel(float *restrict dst, int64_t width, int64_t valid,
                       int64_t kc, const float *src, const int64_t *outer,
                       const int64_t *koff) {
  /* The panel's columns as runs of consecutive elements (one run for a
   * row-major panel; a few for an im2col panel that crosses output rows;
   * single elements for strided or transposed reads). */
  int64_t run_start[32], run_length[32];
  int64_t runs = split_runs(outer, valid, 1, run_start, run_length);
  int avx512 = kiln_ukernel_resolve_isa(KILN_ISA_AVX512) == KILN_ISA_AVX512;
  if (runs == valid && valid > 1 && avx512 && width <= 32) {
    /* Runs two elements apart, at least two columns each (a strided
     * convolution's im2col panel, crossing output rows or not). */
    int64_t seg_start[32], seg_length[32];
    int64_t segments = split_runs(outer, valid, 2, seg_start, seg_length);
    int paired = segments <= 4;
    for (int64_t g = 0; g < segments && paired; ++g)
      paired = seg_length[g] >= 2;
    if (paired) {
      pack_runs_avx512(dst, width, valid, kc, src, outer, koff, seg_start,
                       seg_length, segments, 2);
      return;
    }
  }
  /* Columns a small constant stride apart (a strided convolution's im2col
   * row): k-row by k-row, each row a short strided read. */
  int64_t stride = valid > 1 ? outer[1] - outer[0] : 0;
  int strided = runs == valid && valid > 1 && stride >= 2 && stride <= 4;
  for (int64_t w = 2; w < valid && strided; ++w)
    strided = outer[w] == outer[0] + w * stride;
  if (strided) {
    for (int64_t k = 0; k < kc; ++k) {
      float *row = dst + k * width;
      const float *from = src + koff[k] + outer[0];
      for (int64_t w = 0; w < valid; ++w)
        row[w] = from[w * stride];
      for (int64_t w = valid; w < width; ++w)
        row[w] = 0.0f;
    }
    return;
  }
  /* A full 8-wide panel of rows contiguous along k (a row-major A): transpose
   * 8 x 8 blocks in registers where the processor has AVX. */
  if (runs == valid && width == 8 && valid == 8 &&
      kiln_ukernel_resolve_isa(KILN_ISA_AVX2) != KILN_ISA_GENERIC &&
      is_unit_run(koff, kc)) {
    const float *rows[8];
    for (int w = 0; w < 8; ++w)
      rows[w] = src + outer[w] + koff[0];
    pack_rows8_avx(dst, rows, kc);
    return;
  }
  if (runs == valid) {
    /* Single elements (a row-major A panel, a transposed B panel): one
     * column at a time, reading along k. */
    for (int64_t w = 0; w < valid; ++w) {
      const float *column = src + outer[w];
      for (int64_t k = 0; k < kc; ++k)
        dst[k * width + w] = column[koff[k]];
    }
    for (int64_t k = 0; k < kc; ++k)
      for (int64_t w = valid; w < width; ++w)
        dst[k * width + w] = 0.0f;
    return;
  }
  if (avx512 && width <= 32) {
    pack_runs_avx512(dst, width, valid, kc, src, outer, koff, run_start,
                     run_length, runs, 1);
    return;
  }
  for (int64_t k = 0; k < kc; ++k) {
    float *row = dst + k * width;
    const float *base = src + koff[k];
    for (int64_t r = 0; r < runs; ++r) {
      const float *from = base + outer[run_start[r]];
      float *to = row + run_start[r];
      for (int64_t j = 0; j < run_length[r]; ++j)
        to[j] = from[j];
    }
    for (int64_t w = valid; w < width; ++w)
      row[w] = 0.0f;
  }
}

/* How `threads` threads share one product: a gm x gn grid over (rows in MR
 * units, columns in NR panels), the factorization of `threads` with the least
 * per-thread multiply-add and A-packing work. */
static void plan_grid(const kernel *kr, int64_t units_m, int64_t panels,
                      int threads, int64_t *gm, int64_t *gn) {
  double best = -1;
  for (int64_t m = 1; m <= threads; ++m) {
    if (threads % m)
      continue;
    int64_t n = threads / m;
    double rows = (double)ceil_div(units_m, m) * kr->mr;
    double cols = (double)ceil_div(panels, n) * kr->nr;
    /* Multiply-adds, packing A, and reading the B panels that the other
     * threads of the grid column packed (from their cores' caches). */
    double cost = rows * cols / (2.0 * kr->lanes) + 0.5 * rows +
                  cols * (double)(m - 1) / (double)m;
    if (best < 0 || cost < best * 0.999) {
      best = cost;
      *gm = m;
      *gn = n;
    }
  }
}

/* The grid of a product's threads: plan_grid's, but shallow products
 * with B read in place that expand (K <= 32 and M >= 2K: pointwise
 * convolutions from 16 to 32 channels up) split their rows. They write far
 * more than they compute or read, and with rows split each thread writes
 * whole rows of C. On an AMD EPYC with two threads, MobileNetV2's 16 -> 96
 * channels at 112x112 ran 429 -> 330 us, 24 -> 144 at 56x56 177 -> 142 us,
 * 32 -> 192 at 28x28 72 -> 45 us. Each thread then reads all of B, so a
 * product with M < 2K (32 -> 16 channels at 112x112) ran slower that way
 * (151 -> 186 us in the model); at K = 64 the two splits ran even, and at
 * K = 256 and 512 splitting the columns was 3-4 % faster. */
static void choose_grid(const kernel *kr, const problem *p, int64_t units_m,
                        int64_t panels, int threads, int64_t *gm, int64_t *gn) {
  plan_grid(kr, units_m, panels, threads, gm, gn);
  if (p->b_in_place && p->k <= 32 && p->m >= 2 * p->k && units_m >= threads) {
    *gm = threads;
    *gn = 1;
  }
}

/* What the register tiles of one macro block share. */
typedef struct block_ctx {
  kiln_isa isa;
  const kernel *kr;
  const problem *p;
  const out_tile *t;
  const float *apack;
  int64_t a_panel_stride;
  int64_t kc, mb, jc;
  int accumulate, last, with_epilogue;
  const block_rows *rows;
} block_ctx;

/* Columns [j, j + nv) (nv <= kColumnTail) of the register tile at row i,
 * mv rows: the column kernel, straight into C. */
static void column_tile(const block_ctx *x, int64_t i, int64_t mv,
                        const float *ap, const float *bp, int64_t ldb,
                        int64_t j, int64_t nv) {
  const problem *p = x->p;
  tile_epilogue ep;
  int fused = x->with_epilogue;
  if (fused)
    tile_epilogue_for(p, x->rows, i - x->mb, j, &ep);
  columns_avx2(x->kc, ap, x->kr->mr, bp, ldb, nv, x->t->c + p->cm[i] + p->cn[j],
               p->c_rs, mv, x->accumulate, fused ? &ep : NULL);
  if (x->last && !fused)
    apply_epilogue(x->isa, p, x->t, i, mv, j, nv);
}

/* Stores one row of a register tile's buffer (columns [j, j + nv), at
 * `src`) into C's row `row` run by run, adding with `accumulate`: a tile
 * whose columns cross the rows of a padded image (a convolution writing the
 * interior of the next one's padded input) has a few runs per row. */
__attribute__((target("avx512f"))) static void
store_runs_avx512(float *row, const float *src, const problem *p, int64_t j,
                  int64_t nv, int accumulate) {
  for (int64_t jj = 0; jj < nv;) {
    int64_t run = min64(p->cn_run[j + jj], nv - jj);
    float *out = row + p->cn[j + jj];
    for (int64_t r = 0; r < run; r += 16) {
      __mmask16 mask = lanes(run - r);
      __m512 v = _mm512_maskz_loadu_ps(mask, src + jj + r);
      if (accumulate)
        v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, out + r));
      _mm512_mask_storeu_ps(out + r, mask, v);
    }
    jj += run;
  }
}

/* One register tile: rows [i, i + mr) of the block by the B panel at `bp`
 * (rows `ldb` apart) holding columns [j, j + nv). */
static void block_tile(const block_ctx *x, int64_t i, int64_t me,
                       const float *bp, int64_t ldb, int64_t j, int64_t nv) {
  const kernel *kr = x->kr;
  const problem *p = x->p;
  const int64_t mr = kr->mr, nr = kr->nr, kc = x->kc;
  float *c = x->t->c;
  float tmp[8 * 32] __attribute__((aligned(64)));
  const float *ap = x->apack + (i - x->mb) / mr * x->a_panel_stride;
  int64_t mv = min64(mr, me - i);
  if (kr->column_tail && p->c_rows_linear && p->cn_run[j] >= nv) {
    /* A few columns past the last whole (or half) panel: the column
     * kernel for them, not a panel's width of padding. */
    int64_t head = nv <= kColumnTail ? 0 : nv - nv % (nr / 2);
    if (nv - head <= kColumnTail &&
        (head == 0 || head == nv || (head == nr / 2 && kr->narrow[mv]))) {
      if (head > 0 && head < nv)
        block_tile(x, i, me, bp, ldb, j, head);
      if (head < nv)
        column_tile(x, i, mv, ap, bp + head, ldb, j + head, nv - head);
      if (head < nv)
        return;
    }
  }
  /* At most half a panel of columns left: the half-width kernel. */
  int narrow = 2 * nv <= nr && kr->narrow[mv];
  int64_t width = narrow ? nr / 2 : nr;
  microkernel_fn micro = narrow                       ? kr->narrow[mv]
                         : mv < mr && kr->partial[mv] ? kr->partial[mv]
                                                      : kr->micro;
  tile_epilogue ep;
  if (p->c_rows_linear && p->cn_run[j] >= width && nv == width &&
      (mv == mr || micro != kr->micro)) {
    int fused = x->with_epilogue;
    if (fused)
      tile_epilogue_for(p, x->rows, i - x->mb, j, &ep);
    micro(kc, ap, bp, ldb, c + p->cm[i] + p->cn[j], p->c_rs, x->accumulate,
          fused ? &ep : NULL);
    if (x->last && !fused)
      apply_epilogue(x->isa, p, x->t, i, mv, j, nv);
    return;
  }
  /* A full AVX-512 tile whose columns cross the rows of a padded image:
   * the kernel stores each run with masked stores, adding the old output
   * and applying the epilogue in registers as for contiguous columns. */
  if (x->isa == KILN_ISA_AVX512 && micro == kr->micro && mv == mr && nv == nr &&
      p->c_rows_linear &&
      (!x->with_epilogue || !(p->d_cols == 1 || p->e_cols == 1))) {
    tile_cols cols;
    cols.count = 0;
    for (int64_t jj = 0; jj < nv;) {
      int64_t run = min64(p->cn_run[j + jj], nv - jj);
      int g = cols.count++;
      cols.off[g] = p->cn[j + jj] - p->cn[j] - jj;
      for (int h = 0; h < 2; ++h)
        cols.mask[g][h] =
            (uint16_t)(lanes(jj + run - 16 * h) & ~lanes(jj - 16 * h));
      jj += run;
    }
    /* Without a fused epilogue, an identity one carries the segments
     * (adding -0.0 changes no value). */
    static const float minus_zero[8] = {-0.0f, -0.0f, -0.0f, -0.0f,
                                        -0.0f, -0.0f, -0.0f, -0.0f};
    if (x->with_epilogue)
      tile_epilogue_for(p, x->rows, i - x->mb, j, &ep);
    else
      ep = (tile_epilogue){
          minus_zero,       0,   NULL, NULL, 0, 0, -__builtin_inff(),
          __builtin_inff(), NULL};
    ep.cols = &cols;
    micro(kc, ap, bp, ldb, c + p->cm[i] + p->cn[j], p->c_rs, x->accumulate,
          &ep);
    if (x->last && !x->with_epilogue)
      apply_epilogue(x->isa, p, x->t, i, mv, j, nv);
    return;
  }
  /* Through a buffer: the epilogue goes with the product when nothing
   * is accumulated, and the tile is stored run by run. */
  int fused =
      x->with_epilogue && !x->accumulate && tile_epilogue_fits(p, nv == width);
  if (fused)
    tile_epilogue_for(p, x->rows, i - x->mb, j, &ep);
  micro(kc, ap, bp, ldb, tmp, nr, 0, fused ? &ep : NULL);
  for (int64_t ii = 0; ii < mv; ++ii) {
    float *row = c + p->cm[i + ii];
    const float *src = tmp + ii * nr;
    if (x->isa == KILN_ISA_AVX512) {
      store_runs_avx512(row, src, p, j, nv, x->accumulate);
      continue;
    }
    for (int64_t jj = 0; jj < nv;) {
      int64_t run = min64(p->cn_run[j + jj], nv - jj);
      float *out = row + p->cn[j + jj];
      if (x->accumulate)
        for (int64_t r = 0; r < run; ++r)
          out[r] += src[jj + r];
      else
        for (int64_t r = 0; r < run; ++r)
          out[r] = src[jj + r];
      jj += run;
    }
  }
  if (x->last && !fused)
    apply_epilogue(x->isa, p, x->t, i, mv, j, nv);
}

/* Starts loading what the register tile at rows [i, me) (at most mr),
 * columns [j, j + nv) touches after its product: its output rows and the
 * rows of contiguous addends its epilogue reads. Issued one tile ahead,
 * they arrive while the tile before computes (a ResNet-50 block's residual
 * and output are megabytes, written or read long before, in L3). */
static void prefetch_tile(const block_ctx *x, int64_t i, int64_t me, int64_t j,
                          int64_t nv) {
  const problem *p = x->p;
  int64_t rows = min64(x->kr->mr, me - i);
  int64_t bytes = nv * (int64_t)sizeof(float);
  for (int64_t r = 0; r < rows; ++r) {
    const char *c = (const char *)(x->t->c + p->cm[i + r] + p->cn[j]);
    for (int64_t at = 0; at < bytes; at += 64)
      _mm_prefetch(c + at, _MM_HINT_T1);
    if (!x->with_epilogue)
      continue;
    const float *d = x->rows->d[i - x->mb + r], *e = x->rows->e[i - x->mb + r];
    for (int64_t at = 0; d && at < bytes; at += 64)
      _mm_prefetch((const char *)(d + p->dn[j]) + at, _MM_HINT_T1);
    for (int64_t at = 0; e && at < bytes; at += 64)
      _mm_prefetch((const char *)(e + p->en[j]) + at, _MM_HINT_T1);
  }
}

/* Starts loading rows [first, last) of the in-place B panel at `panel` (nr
 * floats each, b_ld apart) into L1: one hardware prefetch stream per row
 * is more than the prefetchers track. */
static void prefetch_b_rows(const problem *p, const float *panel, int64_t nr,
                            int64_t first, int64_t last) {
  const char *base = (const char *)panel;
  for (int64_t row = first; row < last; ++row)
    for (int64_t at = 0; at < nr * (int64_t)sizeof(float); at += 64)
      _mm_prefetch(base + row * p->b_ld * (int64_t)sizeof(float) + at,
                   _MM_HINT_T0);
}

/* Copies the in-place B panel at `bp` (nv < nr columns, rows b_ld apart)
 * into `edge`, zero-padded to the panel width. */
static const float *copy_edge_panel(const problem *p, const float *bp,
                                    int64_t kc, int64_t nr, int64_t nv,
                                    float *edge) {
  for (int64_t k = 0; k < kc; ++k) {
    float *dst = edge + k * nr;
    const float *src = bp + k * p->b_ld;
    for (int64_t jj = 0; jj < nv; ++jj)
      dst[jj] = src[jj];
    for (int64_t jj = nv; jj < nr; ++jj)
      dst[jj] = 0.0f;
  }
  return edge;
}

/* A shallow product's row tile across whole panels (the sweeps below). */
typedef void (*sweep_fn)(int64_t kc, const float *a, const float *b,
                         int64_t panel_stride, int64_t ldb, int64_t panels,
                         float *c, int64_t rs, const tile_epilogue *ep);

/* Row i's contiguous addends for a sweep's first column (NULL where the
 * row has none): ep's d and e rows, offset to its first column. */
static void sweep_addend_rows(const tile_epilogue *ep, int rows,
                              const float *d[8], const float *e[8]) {
  for (int i = 0; i < rows; ++i) {
    d[i] = ep && ep->rows && ep->d[i] ? ep->d[i] + ep->dcol : NULL;
    e[i] = ep && ep->rows && ep->e[i] ? ep->e[i] + ep->ecol : NULL;
  }
}

/* A shallow product's row tile (8 rows, kc <= kShallowDepth) across
 * `panels` whole 32-column panels (panel q at b + q * panel_stride, its
 * rows ldb apart), into C's rows (rs apart) from c, columns contiguous,
 * with the epilogue `ep` (NULL for none: C = the product): row i's
 * constant s[i] and contiguous addends (a residual), then the clamp. Through
 * block_tile each tile's few multiply-adds paid for a call, its epilogue's
 * set-up and prefetches: MobileNetV2's expansions (K = 16 and 24) ran at
 * 77-98 GFLOP/s on one core, 123-148 swept this way (in the model, one
 * thread, 16 -> 96 channels at 112x112 527 -> 379 us). With a residual:
 * ResNet-50's 64 -> 256 channels at 56x56 plus the block's input, two
 * threads on an AMD EPYC, 442-482 -> 350-420 us. */
__attribute__((target("avx512f"))) static void
sweep_shallow_avx512(int64_t kc, const float *restrict a, const float *b,
                     int64_t panel_stride, int64_t ldb, int64_t panels,
                     float *c, int64_t rs, const tile_epilogue *ep) {
  __m512 start[8];
  for (int i = 0; i < 8; ++i)
    start[i] = _mm512_set1_ps(ep ? ep->s[i] : 0.0f);
  const float *d[8], *e[8];
  sweep_addend_rows(ep, 8, d, e);
  const __m512 vlo = _mm512_set1_ps(ep ? ep->lo : -__builtin_inff()),
               vhi = _mm512_set1_ps(ep ? ep->hi : __builtin_inff());
  for (int64_t q = 0; q < panels; ++q) {
    __m512 acc[8][2];
    for (int i = 0; i < 8; ++i)
      acc[i][0] = acc[i][1] = start[i];
    const float *ap = a, *bp = b + q * panel_stride;
    for (int64_t k = 0; k < kc; ++k) {
      __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
      for (int i = 0; i < 8; ++i) {
        __m512 x = _mm512_set1_ps(ap[i]);
        acc[i][0] = _mm512_fmadd_ps(x, b0, acc[i][0]);
        acc[i][1] = _mm512_fmadd_ps(x, b1, acc[i][1]);
      }
      ap += 8;
      bp += ldb;
    }
    /* max(lo, x) and min(hi, x) return x when it is a NaN. */
    float *row = c + q * 32;
    for (int i = 0; i < 8; ++i)
      for (int h = 0; h < 2; ++h) {
        __m512 x = acc[i][h];
        if (d[i])
          x = _mm512_add_ps(x, _mm512_loadu_ps(d[i] + q * 32 + 16 * h));
        if (e[i])
          x = _mm512_add_ps(x, _mm512_loadu_ps(e[i] + q * 32 + 16 * h));
        _mm512_storeu_ps(row + i * rs + 16 * h,
                         _mm512_min_ps(vhi, _mm512_max_ps(vlo, x)));
      }
  }
}

/* sweep_shallow_avx512 for AVX2's 6 x 16 tile (16-column panels). */
__attribute__((target("avx2,fma"))) static void
sweep_shallow_avx2(int64_t kc, const float *restrict a, const float *b,
                   int64_t panel_stride, int64_t ldb, int64_t panels, float *c,
                   int64_t rs, const tile_epilogue *ep) {
  __m256 start[6];
  for (int i = 0; i < 6; ++i)
    start[i] = _mm256_set1_ps(ep ? ep->s[i] : 0.0f);
  const float *d[8], *e[8];
  sweep_addend_rows(ep, 6, d, e);
  const __m256 vlo = _mm256_set1_ps(ep ? ep->lo : -__builtin_inff()),
               vhi = _mm256_set1_ps(ep ? ep->hi : __builtin_inff());
  for (int64_t q = 0; q < panels; ++q) {
    __m256 acc[6][2];
    for (int i = 0; i < 6; ++i)
      acc[i][0] = acc[i][1] = start[i];
    const float *ap = a, *bp = b + q * panel_stride;
    for (int64_t k = 0; k < kc; ++k) {
      __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
      for (int i = 0; i < 6; ++i) {
        __m256 x = _mm256_broadcast_ss(ap + i);
        acc[i][0] = _mm256_fmadd_ps(x, b0, acc[i][0]);
        acc[i][1] = _mm256_fmadd_ps(x, b1, acc[i][1]);
      }
      ap += 6;
      bp += ldb;
    }
    /* max(lo, x) and min(hi, x) return x when it is a NaN. */
    float *row = c + q * 16;
    for (int i = 0; i < 6; ++i)
      for (int h = 0; h < 2; ++h) {
        __m256 x = acc[i][h];
        if (d[i])
          x = _mm256_add_ps(x, _mm256_loadu_ps(d[i] + q * 16 + 8 * h));
        if (e[i])
          x = _mm256_add_ps(x, _mm256_loadu_ps(e[i] + q * 16 + 8 * h));
        _mm256_storeu_ps(row + i * rs + 8 * h,
                         _mm256_min_ps(vhi, _mm256_max_ps(vlo, x)));
      }
  }
}

/* Multiplies a packed A block (rows [mb, me)) by packed B panels
 * [p0, p1) of the column block starting at `jc`, into C. An in-place B's
 * partial last panel is read from its zero-padded copy `edge`. With
 * `deep` (a block of kDeepBlockBytes), each row tile sweeps the panels. */
static void macro_kernel(kiln_isa isa, const kernel *kr, const problem *p,
                         const out_tile *t, const float *apack,
                         int64_t a_panel_stride, const float *bpack,
                         int64_t panel_stride, const float *edge, int64_t kc,
                         int64_t mb, int64_t me, int64_t jc, int64_t ncur,
                         int64_t p0, int64_t p1, int accumulate, int last,
                         int deep) {
  const int64_t mr = kr->mr, nr = kr->nr;
  /* What the epilogue reads by row, once per block (mc <= 248 rows). */
  block_rows rows;
  int with_epilogue = last && tile_epilogue_fits(p, 1);
  if (with_epilogue)
    block_rows_for(p, t, mb, me, &rows);
  block_ctx x = {isa, kr, p,          t,    apack,         a_panel_stride, kc,
                 mb,  jc, accumulate, last, with_epilogue, &rows};
  /* A shallow product (small K) is bound by its stores: each row tile
   * sweeps all the panels, so C is written as a few long row streams
   * rather than a block of short ones (the whole B block is a few KiB).
   * A deep block's row tile reads its A panel from memory once and then
   * from L1; its B block stays in L2. */
  int shallow = kc <= kShallowDepth;
  /* Whole row tiles of a shallow AVX-512 or AVX2 product that overwrites
   * C, with at most row constants, contiguous addends (a residual) and a
   * clamp: swept a row tile at a time. */
  sweep_fn sweep = isa == KILN_ISA_AVX512 && kr->mr == 8 && kr->nr == 32
                       ? sweep_shallow_avx512
                   : isa == KILN_ISA_AVX2 && kr->mr == 6 && kr->nr == 16
                       ? sweep_shallow_avx2
                       : NULL;
  if (!shallow || accumulate || !p->c_rows_linear || !p->c_cols_unit ||
      (p->epilogue && !with_epilogue))
    sweep = NULL;
  if (shallow || deep) {
    for (int64_t i = mb; i < me; i += mr) {
      int64_t panel = p0;
      if (sweep && me - i >= mr) {
        /* The whole panels; a partial last one takes the tile path. */
        int64_t whole = min64(p1, ncur / nr) - p0;
        if (whole > 0) {
          const float *ap = apack + (i - mb) / mr * a_panel_stride;
          int64_t j = jc + p0 * nr;
          tile_epilogue ep;
          if (with_epilogue)
            tile_epilogue_for(p, &rows, i - mb, j, &ep);
          sweep(kc, ap, bpack + p0 * panel_stride, panel_stride,
                p->b_in_place ? p->b_ld : nr, whole, t->c + p->cm[i] + p->cn[j],
                p->c_rs, with_epilogue ? &ep : NULL);
          panel += whole;
        }
      }
      for (; panel < p1; ++panel) {
        const float *bp = bpack + panel * panel_stride;
        int64_t j = jc + panel * nr, nv = min64(nr, ncur - panel * nr);
        int64_t ldb = nr;
        if (p->b_in_place && nv == nr)
          ldb = p->b_ld;
        else if (p->b_in_place)
          bp = edge;
        /* The first row tile brings the next in-place B panel toward L1;
         * the others find the block in L2. */
        if (shallow && i == mb && p->b_in_place && panel + 1 < p1 &&
            (panel + 2) * nr <= ncur)
          prefetch_b_rows(p, bp + nr, nr, 0, kc);
        /* The next tile along these rows, or the first of the next. */
        if (p->c_rows_linear && panel + 1 < p1)
          prefetch_tile(&x, i, me, j + nr, min64(nr, ncur - (panel + 1) * nr));
        else if (p->c_rows_linear && i + mr < me)
          prefetch_tile(&x, i + mr, me, jc + p0 * nr,
                        min64(nr, ncur - p0 * nr));
        block_tile(&x, i, me, bp, ldb, j, nv);
      }
    }
    return;
  }
  for (int64_t panel = p0; panel < p1; ++panel) {
    const float *bp = bpack + panel * panel_stride;
    int64_t j = jc + panel * nr, nv = min64(nr, ncur - panel * nr);
    int64_t ldb = nr;
    if (p->b_in_place && nv == nr)
      ldb = p->b_ld;
    else if (p->b_in_place)
      bp = edge;
    /* The next B panel streams into L2 while this one is used: each row
     * tile prefetches its share of the panel's cache lines (a compiler-packed
     * B comes from memory, once per column block). Not for a single row
     * tile (a GEMV): all the lines in one go swamped the load ports, and the
     * hardware prefetchers follow the contiguous panels (1x4096x4096 1.50 ->
     * 1.30 ms). */
    const char *next_panel =
        panel + 1 < p1 && me - mb > mr
            ? (const char *)(bpack + (panel + 1) * panel_stride)
            : NULL;
    int64_t panel_lines = kc * nr * (int64_t)sizeof(float) / 64;
    int64_t tiles = ceil_div(me - mb, mr),
            lines_per_tile = ceil_div(panel_lines, tiles);
    /* An in-place B's next panel: each row tile prefetches its share of
     * the rows. */
    int64_t rows_per_tile = ceil_div(kc, tiles);
    int in_place_next =
        p->b_in_place && panel + 1 < p1 && (panel + 2) * nr <= ncur;
    for (int64_t i = mb; i < me; i += mr) {
      if (next_panel && !p->b_in_place) {
        int64_t first = (i - mb) / mr * lines_per_tile;
        int64_t last_line = min64(first + lines_per_tile, panel_lines);
        for (int64_t line = first; line < last_line; ++line)
          _mm_prefetch(next_panel + line * 64, _MM_HINT_T1);
      } else if (in_place_next) {
        int64_t first = (i - mb) / mr * rows_per_tile;
        prefetch_b_rows(p, bp + nr, nr, first,
                        min64(first + rows_per_tile, kc));
      }
      /* The next tile down this panel, or the top of the next panel. */
      if (p->c_rows_linear && i + mr < me)
        prefetch_tile(&x, i + mr, me, j, nv);
      else if (p->c_rows_linear && panel + 1 < p1)
        prefetch_tile(&x, mb, me, j + nr, min64(nr, ncur - (panel + 1) * nr));
      block_tile(&x, i, me, bp, ldb, j, nv);
    }
  }
}

/* The depth of the K blocks of a column block of `ncur` columns whose
 * panels gn grid columns share: the kernel's, or for a compiler-packed A
 * with few columns a thread (kDeepBlockBytes) as few blocks as fit, of
 * equal depth, with *deep set. The same for every thread of the grid
 * (their barriers count the blocks), and it does not shrink as gn grows. */
static int64_t block_depth(const kernel *kr, const problem *p, int64_t ncur,
                           int64_t gn, int *deep) {
  *deep = 0;
  if (!p->a_prepacked_mr)
    return kr->kc;
  int64_t cols = ceil_div(ceil_div(ncur, kr->nr), gn) * kr->nr;
  int64_t blocks =
      ceil_div(p->k * cols * (int64_t)sizeof(float), kDeepBlockBytes);
  int64_t depth = ceil_div(p->k, blocks);
  if (blocks > 1 && depth < kr->kc)
    return kr->kc;
  *deep = 1;
  return depth;
}

/* The deepest K block of `p` with at most gn grid columns, and the floats
 * of a B block of that depth where B is packed here (0 when it is read in
 * place or came packed by the compiler). */
static int64_t deepest_block(const kernel *kr, const problem *p, int64_t gn,
                             int64_t *b_floats) {
  int64_t depth = kr->kc;
  *b_floats = 0;
  for (int last = 0; last < 2; ++last) {
    int64_t ncur = last ? p->n % kr->nc : min64(p->n, kr->nc);
    if (ncur == 0)
      continue;
    int deep;
    int64_t d = block_depth(kr, p, ncur, gn, &deep);
    depth = max64(depth, d);
    if (!p->b_in_place && !p->b_prepacked_nr)
      *b_floats = max64(*b_floats, ceil_div(ncur, kr->nr) * kr->nr * d);
  }
  return depth;
}

/* One batch of the product on `threads` threads of the enclosing parallel
 * region (thread `id`), or alone with threads == 1. For each (column block,
 * K block) the threads pack the B block together into the shared `bpack`,
 * then each packs its own rows of A and runs its cell of the gm x gn grid. */
static void gemm_batch(kiln_isa isa, const kernel *kr, const problem *p,
                       int64_t bi, float *bpack, float *apack, float *edge,
                       int id, int threads, int64_t gm, int64_t gn) {
  int64_t b0 = bi / p->batch1, b1 = bi % p->batch1;
  const float *a = p->a + b0 * p->a_batch[0] + b1 * p->a_batch[1];
  const float *b = p->b + b0 * p->b_batch[0] + b1 * p->b_batch[1];
  out_tile t = batch_tile(p, bi);
  const int64_t mr = kr->mr, nr = kr->nr;
  int64_t units_m = ceil_div(p->m, mr);
  int64_t m_begin, m_end;
  split_range(units_m, gm, id / gn, &m_begin, &m_end);
  m_begin *= mr;
  m_end = min64(m_end * mr, p->m);
  for (int64_t jc = 0; jc < p->n; jc += kr->nc) {
    int64_t ncur = min64(kr->nc, p->n - jc), panels = ceil_div(ncur, nr);
    int64_t p0, p1;
    split_range(panels, gn, id % gn, &p0, &p1);
    int deep;
    int64_t depth = block_depth(kr, p, ncur, gn, &deep);
    for (int64_t pc = 0; pc < p->k; pc += depth) {
      int64_t kc = min64(depth, p->k - pc);
      int accumulate = pc > 0 || p->accumulate;
      int last = pc + kc >= p->k;
      /* A compiler-packed B is used in place: its panels span all of K. */
      const float *bblock = bpack;
      /* Panels sit a full K block apart whatever this block's depth: a
       * thread on the last (shorter) block never writes where another still
       * reads (threads run unsynchronized with one grid row). */
      int64_t panel_stride = nr * depth;
      if (p->b_prepacked_nr) {
        bblock = b + jc * p->k + pc * nr;
        panel_stride = nr * p->k;
      } else if (p->b_in_place) {
        bblock = b + p->bn[0] + pc * p->b_ld + jc;
        panel_stride = nr;
        /* A partial last panel is copied, zero-padded, once per K block. */
        if (ncur % nr && p0 < p1 && p1 == panels)
          copy_edge_panel(p, bblock + (panels - 1) * nr, kc, nr, ncur % nr,
                          edge);
      } else {
        /* The threads of a grid column pack its panels: no thread packs
         * what another core's cache would then have to hand over. */
        for (int64_t panel = p0 + id / gn; panel < p1; panel += gm)
          pack_panel(bpack + panel * panel_stride, nr,
                     min64(nr, ncur - panel * nr), kc, b,
                     p->bn + jc + panel * nr, p->bk + pc);
        /* With one grid row each thread packs only the panels it uses: no
         * thread waits for another (within a column block, whose split of
         * the panels stays the same). */
        if (threads > 1 && gm > 1) {
#pragma omp barrier
        }
      }
      for (int64_t mb = m_begin; mb < m_end; mb += kr->mc) {
        int64_t me = min64(mb + kr->mc, m_end);
        if (p0 >= p1)
          break;
        /* A compiler-packed A is used in place too. */
        const float *ablock = apack;
        int64_t a_panel_stride = mr * kc;
        if (p->a_prepacked_mr) {
          ablock = a + mb / mr * mr * p->k + pc * mr;
          a_panel_stride = mr * p->k;
        } else {
          for (int64_t i = mb; i < me; i += mr)
            pack_panel(apack + (i - mb) * kc, mr, min64(mr, me - i), kc, a,
                       p->am + i, p->ak + pc);
        }
        macro_kernel(isa, kr, p, &t, ablock, a_panel_stride, bblock,
                     panel_stride, edge, kc, mb, me, jc, ncur, p0, p1,
                     accumulate, last, deep);
      }
      /* The next column block splits its panels differently: a thread must
       * not pack into panels another still reads. */
      int new_split = last && jc + kr->nc < p->n;
      if (threads > 1 && (gm > 1 || new_split) && !p->b_prepacked_nr &&
          !p->b_in_place) {
#pragma omp barrier
      }
    }
  }
}

/* Products with few rows: c rows += a rows * B, B read in place. One work
 * item: batch and chunk of columns `w`. */
static void few_rows_item(rows_fn rows, kiln_isa isa, const problem *p,
                          int64_t chunk, int64_t chunks, int64_t w) {
  const int64_t step = kRowStep;
  int64_t bi = w / chunks, j0 = (w % chunks) * chunk;
  int64_t len = min64(chunk, p->n - j0);
  int64_t b0 = bi / p->batch1, b1 = bi % p->batch1;
  const float *a = p->a + b0 * p->a_batch[0] + b1 * p->a_batch[1];
  const float *b = p->b + b0 * p->b_batch[0] + b1 * p->b_batch[1] + p->bn[0];
  out_tile t = batch_tile(p, bi);
  float *c = t.c;
  for (int64_t i = 0; i < p->m; ++i) {
    float *row = c + p->cm[i] + j0;
    if (!p->accumulate)
      memset(row, 0, (size_t)len * sizeof(float));
    float coef[kRowStep];
    const float *src[kRowStep];
    for (int64_t k0 = 0; k0 < p->k; k0 += step) {
      int64_t count = min64(step, p->k - k0);
      for (int64_t q = 0; q < count; ++q) {
        coef[q] = a[p->am[i] + p->ak[k0 + q]];
        src[q] = b + p->bk[k0 + q] + j0;
      }
      for (int64_t q = k0 + kRowsAhead; q < min64(k0 + kRowsAhead + step, p->k);
           ++q)
        prefetch_row(b + p->bk[q] + j0, len);
      rows(len, row, coef, src, count);
    }
    apply_epilogue(isa, p, &t, i, 1, j0, len);
  }
}

/* The few-row drivers' threads: all of them outside a parallel region,
 * else the caller's thread alone, with no OpenMP construct at all (a
 * serialized parallel loop's setup costs about as much as a 1 x 256 x 64
 * product: an attention chunk's, called inside the chunks' parallel loop). */
static int few_row_threads(int64_t work) {
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  return threads > work ? (int)work : threads;
}

static void run_few_rows(kiln_isa isa, const problem *p) {
  rows_fn rows = row_kernels[isa];
  const int64_t chunk = 1024;
  int64_t chunks = ceil_div(p->n, chunk);
  int64_t work = p->batch0 * p->batch1 * chunks;
  int threads = few_row_threads(work);
  if (threads > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t w = 0; w < work; ++w)
      few_rows_item(rows, isa, p, chunk, chunks, w);
  } else {
    for (int64_t w = 0; w < work; ++w)
      few_rows_item(rows, isa, p, chunk, chunks, w);
  }
}

/* Products with few rows whose A rows and B columns are contiguous along
 * k: dot products, B read in place once. One work item: batch and chunk of
 * columns `w`. */
static void few_dots_item(dots_fn dots, kiln_isa isa, const problem *p,
                          int64_t chunk, int64_t chunks, int64_t w) {
  int64_t bi = w / chunks, j0 = (w % chunks) * chunk;
  int64_t len = min64(chunk, p->n - j0);
  int64_t b0 = bi / p->batch1, b1 = bi % p->batch1;
  const float *a = p->a + b0 * p->a_batch[0] + b1 * p->a_batch[1] + p->ak[0];
  const float *b = p->b + b0 * p->b_batch[0] + b1 * p->b_batch[1] + p->bk[0];
  out_tile t = batch_tile(p, bi);
  for (int64_t j = j0; j < j0 + len; j += kDotColumns) {
    int64_t count = min64(kDotColumns, j0 + len - j);
    const float *cols[kDotColumns];
    for (int64_t q = 0; q < count; ++q)
      cols[q] = b + p->bn[j + q];
    for (int64_t q = j + kDotsAhead;
         q < min64(j + kDotsAhead + kDotColumns, j0 + len); ++q)
      prefetch_row(b + p->bn[q], p->k);
    for (int64_t i = 0; i < p->m; ++i) {
      float sums[kDotColumns];
      dots(p->k, a + p->am[i], cols, count, sums);
      float *c = t.c + p->cm[i];
      for (int64_t q = 0; q < count; ++q)
        c[p->cn[j + q]] = p->accumulate ? c[p->cn[j + q]] + sums[q] : sums[q];
    }
  }
  apply_epilogue(isa, p, &t, 0, p->m, j0, len);
}

static void run_few_dots(kiln_isa isa, const problem *p) {
  dots_fn dots = dot_kernels[isa];
  const int64_t chunk = 256;
  int64_t chunks = ceil_div(p->n, chunk);
  int64_t work = p->batch0 * p->batch1 * chunks;
  int threads = few_row_threads(work);
  if (threads > 1) {
#pragma omp parallel for num_threads(threads) schedule(static)
    for (int64_t w = 0; w < work; ++w)
      few_dots_item(dots, isa, p, chunk, chunks, w);
  } else {
    for (int64_t w = 0; w < work; ++w)
      few_dots_item(dots, isa, p, chunk, chunks, w);
  }
}

/* Runs `p` on the widest kernel at most `requested`. */
static void run_problem(kiln_isa requested, problem *p) {
  if (p->m <= 0 || p->n <= 0 || p->batch0 <= 0 || p->batch1 <= 0)
    return;
  kiln_isa isa = kiln_ukernel_resolve_isa(requested);
  finish_problem(p);
  int64_t batches = p->batch0 * p->batch1;
  if (p->k <= 0) {
    for (int64_t bi = 0; bi < batches; ++bi) {
      out_tile t = batch_tile(p, bi);
      if (!p->accumulate)
        for (int64_t i = 0; i < p->m; ++i)
          for (int64_t j = 0; j < p->n; ++j)
            t.c[p->cm[i] + p->cn[j]] = 0.0f;
      apply_epilogue(isa, p, &t, 0, p->m, 0, p->n);
    }
    return;
  }
  const kernel *kr = &kernels[isa];
  if (p->b_prepacked_nr && p->b_prepacked_nr != kr->nr) {
    /* Packed for another kernel (this processor lacks the compile target's
     * ISA): read the panels as an ordinary matrix. */
    for (int64_t q = 0; q < p->k; ++q)
      p->bk[q] = q * p->b_prepacked_nr;
    for (int64_t j = 0; j < p->n; ++j)
      p->bn[j] = (j / p->b_prepacked_nr) * p->k * p->b_prepacked_nr +
                 j % p->b_prepacked_nr;
    p->b_prepacked_nr = 0;
    p->b_rows_contiguous = 0;
  }
  if (p->a_prepacked_mr && p->a_prepacked_mr != kr->mr) {
    /* Likewise for an A packed for another kernel. */
    for (int64_t q = 0; q < p->k; ++q)
      p->ak[q] = q * p->a_prepacked_mr;
    for (int64_t i = 0; i < p->m; ++i)
      p->am[i] = (i / p->a_prepacked_mr) * p->k * p->a_prepacked_mr +
                 i % p->a_prepacked_mr;
    p->a_prepacked_mr = 0;
  }
  if (p->m <= 4 && !p->a_prepacked_mr && p->b_rows_contiguous && p->c_direct) {
    run_few_rows(isa, p);
    return;
  }
  if (p->m <= 8 && !p->a_prepacked_mr && !p->b_prepacked_nr &&
      is_unit_run(p->ak, p->k) && is_unit_run(p->bk, p->k)) {
    run_few_dots(isa, p);
    return;
  }
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  double flops = 2.0 * (double)p->m * (double)p->n * (double)p->k;
  if (flops * (double)batches < 2e5)
    threads = 1;
  /* A row-major B is read in place when it is small (packing it would
   * cost about as much as the product) or when at most 128 rows of A use
   * it (a pointwise convolution with 16 output channels over a 112x112
   * image took 0.76 ms packed, 0.55 ms in place, one thread; ResNet-50's
   * 256 -> 64 channels at 56x56 0.58 -> 0.45 ms, two threads). */
  int64_t b_ld = p->k > 1 ? p->bk[1] : 0;
  p->b_in_place = !p->b_prepacked_nr && p->b_rows_contiguous &&
                  (p->k * p->n <= (1 << 18) || p->m <= kInPlaceRows);
  for (int64_t q = 0; q < p->k && p->b_in_place; ++q)
    p->b_in_place = p->bk[q] == q * b_ld;
  p->b_ld = b_ld;
  /* Many batches: each thread takes whole batches, no barriers. Else the
   * threads share each batch. */
  int per_batch =
      !p->b_prepacked_nr && (batches >= 2 * threads ||
                             (batches >= threads && batches % threads == 0));
  int64_t units_m = ceil_div(p->m, kr->mr);
  int64_t panels = ceil_div(min64(p->n, kr->nc), kr->nr);
  int64_t gm = 1, gn = 1;
  if (!per_batch)
    choose_grid(kr, p, units_m, panels, threads, &gm, &gn);
  /* Deep blocks only with a compiler-packed A (which is not packed here);
   * with at most `threads` grid columns, however the grid turns out. */
  int64_t b_floats;
  int64_t depth = deepest_block(kr, p, threads, &b_floats);
  size_t apack_bytes =
      (size_t)(min64(units_m * kr->mr, kr->mc) * kr->kc) * sizeof(float);
  size_t bpack_bytes = (size_t)b_floats * sizeof(float);
  float *shared_bpack = per_batch || p->b_prepacked_nr || p->b_in_place
                            ? NULL
                            : kiln_buffer_alloc(bpack_bytes);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    int id = omp_get_thread_num(), count = omp_get_num_threads();
    float *apack = kiln_buffer_alloc(apack_bytes);
    /* An in-place B's partial last panel, zero-padded (else unused). */
    float *edge = kiln_buffer_alloc(
        (size_t)((p->b_in_place ? depth : 1) * kr->nr) * sizeof(float));
    if (per_batch) {
      float *bpack = kiln_buffer_alloc(bpack_bytes);
      for (int64_t bi = id; bi < batches; bi += count)
        gemm_batch(isa, kr, p, bi, bpack, apack, edge, 0, 1, 1, 1);
      kiln_buffer_free(bpack);
    } else {
      int64_t grid_m = gm, grid_n = gn;
      if (count != threads) /* the runtime gave fewer threads than asked */
        choose_grid(kr, p, units_m, panels, count, &grid_m, &grid_n);
      for (int64_t bi = 0; bi < batches; ++bi)
        gemm_batch(isa, kr, p, bi, shared_bpack, apack, edge, id, count, grid_m,
                   grid_n);
    }
    kiln_buffer_free(apack);
    kiln_buffer_free(edge);
  }
  kiln_buffer_free(shared_bpack);
}

/* The offset tables live in one allocation. */
static int64_t *alloc_tables(problem *p) {
  int64_t *tables = kiln_buffer_alloc(
      sizeof(int64_t) * (size_t)(5 * p->m + 2 * p->k + 6 * p->n + 5));
  int64_t *next = tables;
  p->am = next, next += p->m + 1;
  p->cm = next, next += p->m + 1;
  p->dm = next, next += p->m + 1;
  p->em = next, next += p->m + 1;
  p->ak = next, next += p->k + 1;
  p->bk = next, next += p->k + 1;
  p->bn = next, next += p->n;
  p->cn = next, next += p->n;
  p->dn = next, next += p->n;
  p->en = next, next += p->n;
  p->cn_run = next;
  return tables;
}

/* The epilogue's arguments, as the entry points receive them. */
typedef struct epilogue_args {
  int64_t accumulate;
  const float *d, *e;
  /* Strides: gemm (batch0, batch1, m, n); conv (n, g, m, oh, ow). */
  int64_t d_strides[5], e_strides[5];
  int64_t addends;
  float lo, hi;
} epilogue_args;

#define GEMM_EPILOGUE                                                          \
  (epilogue_args) {                                                            \
    accumulate, d_aligned + d_offset, e_aligned + e_offset,                    \
        {d_batch0, d_batch1, d_m, d_n}, {e_batch0, e_batch1, e_m, e_n},        \
        addends, lo, hi                                                        \
  }
#define CONV_EPILOGUE                                                          \
  (epilogue_args) {                                                            \
    accumulate, d_aligned + d_offset, e_aligned + e_offset,                    \
        {d_n, d_g, d_m, d_oh, d_ow}, {e_n, e_g, e_m, e_oh, e_ow}, addends, lo, \
        hi                                                                     \
  }

/* Sets the epilogue's addends, their batch strides and the clamp. */
static void set_epilogue(problem *p, const epilogue_args *ep) {
  p->accumulate = ep->accumulate != 0;
  p->d = ep->addends & 1 ? ep->d : NULL;
  p->e = ep->addends & 2 ? ep->e : NULL;
  p->d_batch[0] = ep->d_strides[0], p->d_batch[1] = ep->d_strides[1];
  p->e_batch[0] = ep->e_strides[0], p->e_batch[1] = ep->e_strides[1];
  p->lo = ep->lo;
  p->hi = ep->hi;
}

/* Runs `p` with every operand a strided matrix (strides in elements). */
static void run_strided(kiln_isa isa, problem *p, const epilogue_args *ep,
                        int64_t a_m, int64_t a_k, int64_t b_k, int64_t b_n,
                        int64_t c_m, int64_t c_n) {
  int64_t *tables = alloc_tables(p);
  set_epilogue(p, ep);
  fill_linear(p->am, p->m, a_m);
  fill_linear(p->ak, p->k, a_k);
  fill_linear(p->bk, p->k, b_k);
  fill_linear(p->bn, p->n, b_n);
  fill_linear(p->cm, p->m, c_m);
  fill_linear(p->cn, p->n, c_n);
  if (p->d) {
    fill_linear(p->dm, p->m, ep->d_strides[2]);
    fill_linear(p->dn, p->n, ep->d_strides[3]);
  }
  if (p->e) {
    fill_linear(p->em, p->m, ep->e_strides[2]);
    fill_linear(p->en, p->n, ep->e_strides[3]);
  }
  /* What finish_problem would derive from the tables, from the strides
   * (for a small product, deriving it costs as much as the product). */
  for (int64_t j = 0; j < p->n; ++j)
    p->cn_run[j] = c_n == 1 ? p->n - j : 1;
  p->cn_runs_ready = 1;
  p->b_rows_contiguous = b_n == 1 || p->n == 1;
  p->b_rows_ready = 1;
  p->d_cols = p->d ? stride_kind(ep->d_strides[3], p->n) : 0;
  p->e_cols = p->e ? stride_kind(ep->e_strides[3], p->n) : 0;
  p->addend_cols_ready = 1;
  run_problem(isa, p);
  kiln_buffer_free(tables);
}

static void sgemm(kiln_isa isa, KILN_SGEMM_ARGS) {
  (void)a_allocated, (void)b_allocated, (void)c_allocated, (void)d_allocated,
      (void)e_allocated;
  (void)a_zero, (void)b_zero, (void)c_zero, (void)d_zero, (void)e_zero;
  problem p = {.batch0 = batch0,
               .batch1 = batch1,
               .m = m,
               .n = n,
               .k = k,
               .a = a_aligned + a_offset,
               .b = b_aligned + b_offset,
               .c = c_aligned + c_offset,
               .a_batch = {a_batch0, a_batch1},
               .b_batch = {b_batch0, b_batch1},
               .c_batch = {c_batch0, c_batch1}};
  epilogue_args ep = GEMM_EPILOGUE;
  run_strided(isa, &p, &ep, a_m, a_k, b_k, b_n, c_m, c_n);
}

/* B's tables are unused while its packing matches the kernel's (else
 * run_problem rewrites them). */
static void sgemm_packed(kiln_isa isa, KILN_SGEMM_PACKED_ARGS) {
  (void)a_allocated, (void)b_allocated, (void)c_allocated, (void)d_allocated,
      (void)e_allocated;
  (void)a_zero, (void)b_zero, (void)c_zero, (void)d_zero, (void)e_zero;
  problem p = {.batch0 = batch0,
               .batch1 = batch1,
               .m = m,
               .n = n,
               .k = k,
               .a = a_aligned + a_offset,
               .b = b_aligned + b_offset,
               .c = c_aligned + c_offset,
               .a_batch = {a_batch0, a_batch1},
               .c_batch = {c_batch0, c_batch1},
               .b_prepacked_nr = b_panel_width};
  epilogue_args ep = GEMM_EPILOGUE;
  run_strided(isa, &p, &ep, a_m, a_k, 0, 0, c_m, c_n);
}

/* Runs a convolution as out[n][g] (M x OH*OW) += w[g] (M x C*KH*KW) *
 * im2col(in[n][g]). With `w_panel_height` the weights are compiler-packed
 * ([g][m / h][c*kh*kw][h]) and w_g..w_w are unused. */
static void run_conv(kiln_isa isa, int64_t w_panel_height,
                     const epilogue_args *ep, KILN_SCONV2D_ARGS);

/* column_kind of the addend table oh * s3 + ow * s4 over out_h x out_w
 * pixels: 0 constant, 1 one unit run, 2 otherwise. */
static int conv_column_kind(int64_t s3, int64_t s4, int64_t out_h,
                            int64_t out_w) {
  int64_t row = out_h > 1 ? s3 : 0, col = out_w > 1 ? s4 : 0;
  if (row == 0 && col == 0)
    return 0;
  int unit_cols = out_w == 1 || s4 == 1;
  int unit_rows = out_h == 1 || s3 == (out_w == 1 ? 1 : out_w);
  return unit_cols && unit_rows ? 1 : 2;
}

static void sconv2d(kiln_isa isa, KILN_SCONV2D_ARGS) {
  epilogue_args ep = CONV_EPILOGUE;
  run_conv(isa, 0, &ep, batch, groups, out_channels, in_channels, out_h, out_w,
           kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w,
           in_allocated, in_aligned, in_zero, in_offset, in_n, in_g, in_c, in_h,
           in_w, w_allocated, w_aligned, w_zero, w_offset, w_g, w_m, w_c, w_h,
           w_w, out_allocated, out_aligned, out_zero, out_offset, out_n, out_g,
           out_m, out_oh, out_ow, CONV_EPILOGUE_NAMES);
}

static void sconv2d_packed(kiln_isa isa, KILN_SCONV2D_PACKED_ARGS) {
  epilogue_args ep = CONV_EPILOGUE;
  run_conv(isa, w_panel_height, &ep, batch, groups, out_channels, in_channels,
           out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h,
           dilation_w, in_allocated, in_aligned, in_zero, in_offset, in_n, in_g,
           in_c, in_h, in_w, w_allocated, w_aligned, w_zero, w_offset, 0, 0, 0,
           0, 0, out_allocated, out_aligned, out_zero, out_offset, out_n, out_g,
           out_m, out_oh, out_ow, CONV_EPILOGUE_NAMES);
}

static void run_conv(kiln_isa isa, int64_t w_panel_height,
                     const epilogue_args *ep, KILN_SCONV2D_ARGS) {
  (void)in_allocated, (void)w_allocated, (void)out_allocated, (void)d_allocated,
      (void)e_allocated;
  (void)in_zero, (void)w_zero, (void)out_zero, (void)d_zero, (void)e_zero;
  (void)accumulate, (void)d_aligned, (void)d_offset, (void)e_aligned,
      (void)e_offset, (void)addends, (void)lo, (void)hi;
  (void)d_n, (void)d_g, (void)d_m, (void)d_oh, (void)d_ow;
  (void)e_n, (void)e_g, (void)e_m, (void)e_oh, (void)e_ow;
  /* out[n][g] (M x OH*OW) += w[g] (M x C*KH*KW) * im2col(in[n][g]). */
  int64_t spatial = out_h * out_w, depth = in_channels * kernel_h * kernel_w;
  problem p = {.batch0 = batch,
               .batch1 = groups,
               .m = out_channels,
               .n = spatial,
               .k = depth,
               .a = w_aligned + w_offset,
               .b = in_aligned + in_offset,
               .c = out_aligned + out_offset,
               .a_batch = {0, w_panel_height
                                  ? ceil_div(out_channels, w_panel_height) *
                                        w_panel_height * in_channels *
                                        kernel_h * kernel_w
                                  : w_g},
               .a_prepacked_mr = w_panel_height,
               .b_batch = {in_n, in_g},
               .c_batch = {out_n, out_g}};
  int64_t *tables = alloc_tables(&p);
  set_epilogue(&p, ep);
  fill_linear(p.am, out_channels, w_m);
  fill_linear(p.cm, out_channels, out_m);
  fill_linear(p.dm, out_channels, ep->d_strides[2]);
  fill_linear(p.em, out_channels, ep->e_strides[2]);
  int64_t q = 0;
  for (int64_t ci = 0; ci < in_channels; ++ci)
    for (int64_t kh = 0; kh < kernel_h; ++kh)
      for (int64_t kw = 0; kw < kernel_w; ++kw, ++q) {
        p.ak[q] = ci * w_c + kh * w_h + kw * w_w;
        p.bk[q] = ci * in_c + kh * dilation_h * in_h + kw * dilation_w * in_w;
      }
  /* The spatial tables, and what finish_problem would derive from them:
   * one pass over up to 112 x 112 columns per call, which the threads
   * share on large planes (serial, it took 7 % of a 112x112 pointwise
   * convolution and left the other thread waiting). */
  int64_t b_col = stride_w * in_w, b_row = stride_h * in_h;
  int runs = out_ow == 1 || out_w == 1;
  /* Output rows are unit runs, joined when each row starts where the
   * last one ended. */
  int joined = out_h == 1 || out_oh == (out_w - 1) * out_ow + 1;
  int64_t d3 = ep->d_strides[3], d4 = ep->d_strides[4];
  int64_t e3 = ep->e_strides[3], e4 = ep->e_strides[4];
  int share = spatial >= 8192 && !omp_in_parallel();
  /* Table by table, so that each row's loop is a plain vectorized fill
   * (one loop writing all of them at once, with its branches, took 16 % of
   * a 112x112 32 -> 16 pointwise convolution on one thread). */
#pragma omp parallel for num_threads(omp_get_max_threads()) if (share)         \
    schedule(static)
  for (int64_t oh = 0; oh < out_h; ++oh) {
    int64_t q = oh * out_w;
    fill_row(p.bn + q, out_w, oh * b_row, b_col);
    fill_row(p.cn + q, out_w, oh * out_oh, out_ow);
    if (p.d)
      fill_row(p.dn + q, out_w, oh * d3, d4);
    if (p.e)
      fill_row(p.en + q, out_w, oh * e3, e4);
    if (runs && joined)
      fill_row(p.cn_run + q, out_w, spatial - q, -1);
    else if (runs)
      fill_row(p.cn_run + q, out_w, out_w, -1);
  }
  p.cn_runs_ready = runs;
  p.d_cols = p.d ? conv_column_kind(d3, d4, out_h, out_w) : 0;
  p.e_cols = p.e ? conv_column_kind(e3, e4, out_h, out_w) : 0;
  p.addend_cols_ready = 1;
  p.b_rows_contiguous =
      (out_w == 1 || b_col == 1) &&
      (out_h == 1 || b_row == out_w * (out_w == 1 ? 1 : b_col));
  p.b_rows_ready = 1;
  run_problem(isa, &p);
  kiln_buffer_free(tables);
}

/*===----------------------------------------------------------------------===*
 * Direct convolution: a register tile of RW output pixels along a row by two
 * vectors of output channels, summed over (c, kh, kw) straight from the
 * input, with no im2col panels and no cross-thread packing. The weights come
 * packed [g][m / V][c*kh*kw][V] (V the vector width), so each step loads two
 * weight vectors and broadcasts RW input pixels. The tile leaves transposed
 * (channels along the vector, pixels along the output row).
 *===----------------------------------------------------------------------===*/

/* What a tile reads: the input at its first pixel's window, the tap offsets
 * (kh * dilation_h * in_h + kw * dilation_w within a channel) and the
 * channel stride. */
typedef struct dconv {
  const int64_t *taps;
  int64_t ntaps, channels, in_c;
  /* The window's rows (offsets within a channel) and the cache lines each
   * spans, prefetched a few channels ahead: the channels of an NCHW input
   * lie a plane apart, where the hardware prefetchers do not look. */
  const int64_t *rows;
  int64_t nrows, row_lines;
} dconv;

/* Channels ahead whose window rows a tile prefetches. */
enum { kDconvAhead = 4 };

/* The window rows of the channel kDconvAhead after the one at `ic`. */
static inline void dconv_prefetch(const dconv *p, const float *ic) {
  for (int64_t r = 0; r < p->nrows; ++r)
    for (int64_t l = 0; l < p->row_lines; ++l)
      _mm_prefetch((const char *)(ic + kDconvAhead * p->in_c + p->rows[r]) +
                       64 * l,
                   _MM_HINT_T0);
}

/* One tile of RW pixels (horizontal stride SW) by two channel vectors,
 * written to tile[RW][2 * V]; w1 is the second vector's panel. */
#define DEFINE_DCONV_TILE(suffix, attrs, VEC, V, ZERO, LOAD, BCAST, FMA,       \
                          STORE, RW, SW)                                       \
  attrs static void dconv_##suffix##_##RW##_##SW(                              \
      const dconv *p, const float *in, const float *w0, const float *w1,       \
      float *tile) {                                                           \
    VEC acc[RW][2];                                                            \
    for (int q = 0; q < RW; ++q)                                               \
      acc[q][0] = acc[q][1] = ZERO;                                            \
    for (int64_t c = 0; c < p->channels; ++c) {                                \
      const float *ic = in + c * p->in_c;                                      \
      if (c + kDconvAhead < p->channels)                                       \
        dconv_prefetch(p, ic);                                                 \
      for (int64_t t = 0; t < p->ntaps; ++t) {                                 \
        const float *ip = ic + p->taps[t];                                     \
        VEC a = LOAD(w0), b = LOAD(w1);                                        \
        w0 += V;                                                               \
        w1 += V;                                                               \
        for (int q = 0; q < RW; ++q) {                                         \
          VEC x = BCAST(ip + q * SW);                                          \
          acc[q][0] = FMA(x, a, acc[q][0]);                                    \
          acc[q][1] = FMA(x, b, acc[q][1]);                                    \
        }                                                                      \
      }                                                                        \
    }                                                                          \
    for (int q = 0; q < RW; ++q) {                                             \
      STORE(tile + q * 2 * V, acc[q][0]);                                      \
      STORE(tile + q * 2 * V + V, acc[q][1]);                                  \
    }                                                                          \
  }

#define AVX512_ATTRS __attribute__((target("avx512f")))
#define DCONV_AVX512(RW, SW)                                                   \
  DEFINE_DCONV_TILE(avx512, AVX512_ATTRS, __m512, 16, _mm512_setzero_ps(),     \
                    _mm512_loadu_ps, broadcast_avx512, _mm512_fmadd_ps,        \
                    _mm512_storeu_ps, RW, SW)

AVX512_ATTRS static inline __m512 broadcast_avx512(const float *x) {
  return _mm512_set1_ps(*x);
}

// clang-format off
#define DCONV_ALL_RW(SW)                                                       \
  DCONV_AVX512(1, SW) DCONV_AVX512(2, SW) DCONV_AVX512(3, SW)                  \
  DCONV_AVX512(4, SW) DCONV_AVX512(5, SW) DCONV_AVX512(6, SW)                  \
  DCONV_AVX512(7, SW) DCONV_AVX512(8, SW) DCONV_AVX512(9, SW)                  \
  DCONV_AVX512(10, SW) DCONV_AVX512(11, SW) DCONV_AVX512(12, SW)               \
  DCONV_AVX512(13, SW) DCONV_AVX512(14, SW)
// clang-format on

DCONV_ALL_RW(1)
DCONV_ALL_RW(2)

/* The same tile with one channel vector (the last panel of an odd number,
 * e.g. 38 output channels after pruning): half the multiply-adds of the
 * two-vector tile, which would compute that panel twice. It writes the
 * first V floats of each tile row; w1 is unused. */
#define DEFINE_DCONV_TILE1(suffix, attrs, VEC, V, ZERO, LOAD, BCAST, FMA,      \
                           STORE, RW, SW)                                      \
  attrs static void dconv1_##suffix##_##RW##_##SW(                             \
      const dconv *p, const float *in, const float *w0, const float *w1,       \
      float *tile) {                                                           \
    (void)w1;                                                                  \
    VEC acc[RW];                                                               \
    for (int q = 0; q < RW; ++q)                                               \
      acc[q] = ZERO;                                                           \
    for (int64_t c = 0; c < p->channels; ++c) {                                \
      const float *ic = in + c * p->in_c;                                      \
      if (c + kDconvAhead < p->channels)                                       \
        dconv_prefetch(p, ic);                                                 \
      for (int64_t t = 0; t < p->ntaps; ++t) {                                 \
        const float *ip = ic + p->taps[t];                                     \
        VEC a = LOAD(w0);                                                      \
        w0 += V;                                                               \
        for (int q = 0; q < RW; ++q)                                           \
          acc[q] = FMA(BCAST(ip + q * SW), a, acc[q]);                         \
      }                                                                        \
    }                                                                          \
    for (int q = 0; q < RW; ++q)                                               \
      STORE(tile + q * 2 * V, acc[q]);                                         \
  }

#define DCONV1_AVX512(RW, SW)                                                  \
  DEFINE_DCONV_TILE1(avx512, AVX512_ATTRS, __m512, 16, _mm512_setzero_ps(),    \
                     _mm512_loadu_ps, broadcast_avx512, _mm512_fmadd_ps,       \
                     _mm512_storeu_ps, RW, SW)

// clang-format off
#define DCONV1_ALL_RW(SW)                                                      \
  DCONV1_AVX512(1, SW) DCONV1_AVX512(2, SW) DCONV1_AVX512(3, SW)               \
  DCONV1_AVX512(4, SW) DCONV1_AVX512(5, SW) DCONV1_AVX512(6, SW)               \
  DCONV1_AVX512(7, SW) DCONV1_AVX512(8, SW) DCONV1_AVX512(9, SW)               \
  DCONV1_AVX512(10, SW) DCONV1_AVX512(11, SW) DCONV1_AVX512(12, SW)            \
  DCONV1_AVX512(13, SW) DCONV1_AVX512(14, SW)
// clang-format on

DCONV1_ALL_RW(1)
DCONV1_ALL_RW(2)

typedef void (*dconv_fn)(const dconv *, const float *, const float *,
                         const float *, float *);
/* [stride - 1][pixels - 1]: 14 x 2 accumulators and three more registers.
 * (An AVX2 tile of 6 x 2 was slower than the matrix product on ResNet-50's
 * 3 x 3 layers, 1.65-1.96 against 1.64-1.83 ms: AVX2 keeps that.) */
static const dconv_fn dconv_avx512[2][14] = {
    {dconv_avx512_1_1, dconv_avx512_2_1, dconv_avx512_3_1, dconv_avx512_4_1,
     dconv_avx512_5_1, dconv_avx512_6_1, dconv_avx512_7_1, dconv_avx512_8_1,
     dconv_avx512_9_1, dconv_avx512_10_1, dconv_avx512_11_1, dconv_avx512_12_1,
     dconv_avx512_13_1, dconv_avx512_14_1},
    {dconv_avx512_1_2, dconv_avx512_2_2, dconv_avx512_3_2, dconv_avx512_4_2,
     dconv_avx512_5_2, dconv_avx512_6_2, dconv_avx512_7_2, dconv_avx512_8_2,
     dconv_avx512_9_2, dconv_avx512_10_2, dconv_avx512_11_2, dconv_avx512_12_2,
     dconv_avx512_13_2, dconv_avx512_14_2}};

static const dconv_fn dconv1_avx512[2][14] = {
    {dconv1_avx512_1_1, dconv1_avx512_2_1, dconv1_avx512_3_1, dconv1_avx512_4_1,
     dconv1_avx512_5_1, dconv1_avx512_6_1, dconv1_avx512_7_1, dconv1_avx512_8_1,
     dconv1_avx512_9_1, dconv1_avx512_10_1, dconv1_avx512_11_1,
     dconv1_avx512_12_1, dconv1_avx512_13_1, dconv1_avx512_14_1},
    {dconv1_avx512_1_2, dconv1_avx512_2_2, dconv1_avx512_3_2, dconv1_avx512_4_2,
     dconv1_avx512_5_2, dconv1_avx512_6_2, dconv1_avx512_7_2, dconv1_avx512_8_2,
     dconv1_avx512_9_2, dconv1_avx512_10_2, dconv1_avx512_11_2,
     dconv1_avx512_12_2, dconv1_avx512_13_2, dconv1_avx512_14_2}};

/* The direct kernel's channel vector (its weights' panel height) and its
 * widest pixel tile. */
enum { kDconvVector = 16, kDconvMaxPixels = 14 };

/* The row path, for an odd panel count whose last panel holds few channels
 * (38 = 2 x 16 + 6 after pruning 64 by 40 %) at stride 1 along the row:
 * that panel is vectorized along the output pixels instead, its R channels'
 * weights broadcast, so each input vector feeds R multiply-adds where the
 * one-vector tile gives each broadcast input pixel one (6 channels at
 * 56x56 from 64, one AMD EPYC thread: 106 us, 204 GFLOP/s, against 255 for
 * the pairs). A tile is P vectors of 16 output pixels (see
 * dconv_row_plane); vector q starts at input offset off[q] (from the
 * plane's first element, outside the input when the padding is implicit)
 * and reads, at tap t, the lanes of masks[t * P + q]: those of output
 * pixels whose window pixel lies inside the input (masked lanes read zeros
 * and never fault, so no window is copied). Each vector's window rows are
 * prefetched kDconvAhead channels ahead, as in the pair tile (in a model
 * the input comes from L3 or the other core's cache: the pruned CNN ran
 * 2.73-2.79 -> 2.61-2.68 ms on two threads). The tile leaves as
 * tile[R][P][16]. */
#define DEFINE_DCONV_ROWS(R, P)                                                \
  AVX512_ATTRS static void dconv_rows_##R(                                     \
      const dconv *p, const float *in, const int64_t *off,                     \
      const __mmask16 *masks, const float *w, float *tile) {                   \
    __m512 acc[R][P];                                                          \
    for (int r = 0; r < R; ++r)                                                \
      for (int q = 0; q < P; ++q)                                              \
        acc[r][q] = _mm512_setzero_ps();                                       \
    for (int64_t c = 0; c < p->channels; ++c) {                                \
      const float *ic = in + c * p->in_c;                                      \
      if (c + kDconvAhead < p->channels)                                       \
        for (int q = 0; q < P; ++q)                                            \
          dconv_prefetch(p, ic + off[q]);                                      \
      const __mmask16 *mask = masks;                                           \
      for (int64_t t = 0; t < p->ntaps; ++t, mask += P) {                      \
        const float *ip = ic + p->taps[t];                                     \
        __m512 x[P];                                                           \
        for (int q = 0; q < P; ++q)                                            \
          x[q] = _mm512_maskz_loadu_ps(mask[q], ip + off[q]);                  \
        for (int r = 0; r < R; ++r) {                                          \
          __m512 b = _mm512_set1_ps(w[r]);                                     \
          for (int q = 0; q < P; ++q)                                          \
            acc[r][q] = _mm512_fmadd_ps(x[q], b, acc[r][q]);                   \
        }                                                                      \
        w += kDconvVector;                                                     \
      }                                                                        \
    }                                                                          \
    for (int r = 0; r < R; ++r)                                                \
      for (int q = 0; q < P; ++q)                                              \
        _mm512_storeu_ps(tile + (r * P + q) * 16, acc[r][q]);                  \
  }

/* The most channels the row path takes: R x P accumulators, P input
 * vectors and a broadcast weight fit 32 registers up to R = 14 with
 * P = 2. */
enum { kDconvRowChannels = 14 };
/* Vectors per row tile for R channels: the most that fit, at most 8. */
static const int kDconvRowVectors[kDconvRowChannels + 1] = {
    0, 8, 8, 7, 6, 5, 4, 3, 3, 3, 2, 2, 2, 2, 2};

// clang-format off
DEFINE_DCONV_ROWS(1, 8) DEFINE_DCONV_ROWS(2, 8) DEFINE_DCONV_ROWS(3, 7)
DEFINE_DCONV_ROWS(4, 6) DEFINE_DCONV_ROWS(5, 5) DEFINE_DCONV_ROWS(6, 4)
DEFINE_DCONV_ROWS(7, 3) DEFINE_DCONV_ROWS(8, 3) DEFINE_DCONV_ROWS(9, 3)
DEFINE_DCONV_ROWS(10, 2) DEFINE_DCONV_ROWS(11, 2) DEFINE_DCONV_ROWS(12, 2)
DEFINE_DCONV_ROWS(13, 2) DEFINE_DCONV_ROWS(14, 2)

typedef void (*dconv_rows_fn)(const dconv *, const float *, const int64_t *,
                              const __mmask16 *, const float *, float *);
static const dconv_rows_fn dconv_rows[kDconvRowChannels + 1] = {
    NULL,          dconv_rows_1,  dconv_rows_2,  dconv_rows_3,  dconv_rows_4,
    dconv_rows_5,  dconv_rows_6,  dconv_rows_7,  dconv_rows_8,  dconv_rows_9,
    dconv_rows_10, dconv_rows_11, dconv_rows_12, dconv_rows_13, dconv_rows_14};
// clang-format on

/* rw addends along an output row, contiguous (step 1) or one value for
 * all (step 0). */
AVX512_ATTRS static inline __m512 dconv_addend(const float *a, int64_t step,
                                               __mmask16 mask) {
  return step ? _mm512_maskz_loadu_ps(mask, a) : _mm512_set1_ps(*a);
}

/* The epilogue of finish_store_avx512 one output at a time, for `count`
 * values `v` whose outputs (or addends) are not contiguous: outputs
 * out_ow apart, addends d_ow and e_ow apart (0: one value for all). */
static void finish_store_scalar(float *o, int64_t out_ow, const float *v,
                                int64_t count, int accumulate, const float *d,
                                int64_t d_ow, const float *e, int64_t e_ow,
                                int clamp, float lo, float hi) {
  for (int64_t q = 0; q < count; ++q) {
    float x = v[q];
    if (accumulate)
      x += o[q * out_ow];
    if (d)
      x += d[q * d_ow];
    if (e)
      x += e[q * e_ow];
    o[q * out_ow] = clamp ? clamp_value(x, lo, hi) : x;
  }
}

/* The rest of the epilogue for the 16 contiguous outputs at `o` (lanes
 * `mask`) and its store: the old output with `accumulate`, the addends d
 * and e (step 1 contiguous, step 0 one value; NULL when absent), then the
 * clamp to [lo, hi] with `clamp`. */
AVX512_ATTRS static inline void
finish_store_avx512(float *o, __mmask16 mask, __m512 v, int accumulate,
                    const float *d, int64_t d_step, const float *e,
                    int64_t e_step, int clamp, __m512 lo, __m512 hi) {
  if (accumulate)
    v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(mask, o));
  if (d)
    v = _mm512_add_ps(v, dconv_addend(d, d_step, mask));
  if (e)
    v = _mm512_add_ps(v, dconv_addend(e, e_step, mask));
  /* max(lo, x) and min(hi, x) return x when it is a NaN. */
  if (clamp)
    v = _mm512_min_ps(hi, _mm512_max_ps(lo, v));
  _mm512_mask_storeu_ps(o, mask, v);
}

/* Stores one channel vector of a tile (`tile` rows of 2 * 16 floats, one
 * per pixel, rw of them) as `channels` output rows of rw pixels, adding the
 * old output (`accumulate`) and the addends d and e (NULL when absent;
 * rows *_m apart, pixels *_ow apart), then clamping. */
AVX512_ATTRS static void
dconv_store_avx512(const float *tile, int64_t rw, int64_t channels, float *out,
                   int64_t out_m, int64_t out_ow, int64_t accumulate,
                   const float *d, int64_t d_m, int64_t d_ow, const float *e,
                   int64_t e_m, int64_t e_ow, int clamp, float lo, float hi) {
  __m512 r[16];
  for (int q = 0; q < 16; ++q)
    r[q] = q < rw ? _mm512_loadu_ps(tile + q * 32) : _mm512_setzero_ps();
  transpose16_avx512(r);
  __mmask16 mask = lanes(rw);
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  for (int k = 0; k < 16; ++k) {
    int64_t m = kTransposeColumn[k];
    if (m >= channels)
      continue;
    float *o = out + m * out_m;
    __m512 v = r[k];
    if (out_ow != 1 || (d && d_ow > 1) || (e && e_ow > 1)) {
      /* Output or addend pixels not contiguous: one at a time. */
      float lane[16];
      _mm512_storeu_ps(lane, v);
      finish_store_scalar(o, out_ow, lane, rw, (int)accumulate,
                          d ? d + m * d_m : NULL, d_ow, e ? e + m * e_m : NULL,
                          e_ow, clamp, lo, hi);
      continue;
    }
    finish_store_avx512(o, mask, v, (int)accumulate, d ? d + m * d_m : NULL,
                        d_ow, e ? e + m * e_m : NULL, e_ow, clamp, vlo, vhi);
  }
}

/* The row path's output plane, seen as rows of `width` pixels (width >=
 * out_w; the columns past out_w are not computed): 16-pixel vectors start
 * at multiples of 16 along this plane, row after row. With width a multiple
 * of 16, vectors start at the rows' first pixels; with width the input's
 * row stride times stride_h (an input padded in memory, or not at all) a
 * vector crossing a row reads on contiguously in the input, and only
 * width - out_w pixels a row go unused. */
typedef struct dconv_row_plane {
  int64_t out_h, out_w, width, stride_h;
  int64_t kernel_h, kernel_w, dilation_h, dilation_w;
  /* The input's row stride, the window origin of output (0, 0), and the
   * input rows and columns that exist (unbounded when the input holds its
   * padding). */
  int64_t in_h, top, left, height, in_width;
} dconv_row_plane;

/* The vectors of a plane. */
static int64_t dconv_row_count(const dconv_row_plane *g) {
  return ceil_div((g->out_h - 1) * g->width + g->out_w, 16);
}

/* Fills the offsets and tap masks of row tile `index` (vectors
 * index * vectors + q of the plane) and each vector's first pixel along the
 * plane (-1 past the plane's last vector, all lanes off). */
AVX512_ATTRS static void dconv_row_tile(const dconv_row_plane *g, int64_t index,
                                        int vectors, int64_t *off,
                                        __mmask16 *masks, int64_t *first) {
  int64_t ntaps = g->kernel_h * g->kernel_w;
  for (int q = 0; q < vectors; ++q) {
    int64_t v = index * vectors + q;
    if (v >= dconv_row_count(g)) {
      first[q] = -1;
      off[q] = 0;
      for (int64_t t = 0; t < ntaps; ++t)
        masks[t * vectors + q] = 0;
      continue;
    }
    int64_t p0 = first[q] = 16 * v;
    off[q] = (p0 / g->width * g->stride_h - g->top) * g->in_h + p0 % g->width -
             g->left;
    /* Per lane, whether window row kh and column kw lie in the input. */
    uint32_t rows[64] = {0}, cols[64] = {0};
    /* Lane l is output row y, column x. */
    int64_t y = p0 / g->width, x = p0 % g->width;
    for (int64_t l = 0; l < 16; ++l) {
      if (y < g->out_h && x < g->out_w) {
        for (int64_t kh = 0; kh < g->kernel_h; ++kh) {
          int64_t r = y * g->stride_h - g->top + kh * g->dilation_h;
          rows[kh] |= (uint32_t)(r >= 0 && r < g->height) << l;
        }
        for (int64_t kw = 0; kw < g->kernel_w; ++kw) {
          int64_t c = x - g->left + kw * g->dilation_w;
          cols[kw] |= (uint32_t)(c >= 0 && c < g->in_width) << l;
        }
      }
      if (++x == g->width) {
        x = 0;
        ++y;
      }
    }
    for (int64_t kh = 0; kh < g->kernel_h; ++kh)
      for (int64_t kw = 0; kw < g->kernel_w; ++kw)
        masks[(kh * g->kernel_w + kw) * vectors + q] =
            (__mmask16)(rows[kh] & cols[kw]);
  }
}

/* Stores a row tile (tile[R][vectors][16], see dconv_rows_*): each
 * vector's runs of output pixels along one row go out with the epilogue of
 * dconv_store_avx512. `out`, `d` and `e` point at the panel's first
 * channel. */
AVX512_ATTRS static void dconv_row_store_avx512(
    const float *tile, int64_t channels, int vectors, const int64_t *first,
    const dconv_row_plane *g, float *out, int64_t out_m, int64_t out_oh,
    int64_t out_ow, int64_t accumulate, const float *d, int64_t d_m,
    int64_t d_oh, int64_t d_ow, const float *e, int64_t e_m, int64_t e_oh,
    int64_t e_ow, int clamp, float lo, float hi) {
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  int contiguous = out_ow == 1 && (!d || d_ow <= 1) && (!e || e_ow <= 1);
  for (int q = 0; q < vectors; ++q) {
    if (first[q] < 0)
      continue;
    /* Lane l is output row y, column x. */
    int64_t y = first[q] / g->width, x = first[q] % g->width;
    for (int64_t l = 0; l < 16 && y < g->out_h;) {
      if (x >= g->out_w) {
        l += g->width - x;
        ++y;
        x = 0;
        continue;
      }
      int64_t run = min64(16 - l, g->out_w - x);
      for (int64_t r = 0; r < channels; ++r) {
        const float *v = tile + (r * vectors + q) * 16 + l;
        float *o = out + r * out_m + y * out_oh + x * out_ow;
        const float *dr = d ? d + r * d_m + y * d_oh + x * d_ow : NULL;
        const float *er = e ? e + r * e_m + y * e_oh + x * e_ow : NULL;
        if (contiguous) {
          __mmask16 mask = lanes(run);
          finish_store_avx512(o, mask, _mm512_maskz_loadu_ps(mask, v),
                              (int)accumulate, dr, d_ow, er, e_ow, clamp, vlo,
                              vhi);
        } else {
          finish_store_scalar(o, out_ow, v, run, (int)accumulate, dr, d_ow, er,
                              e_ow, clamp, lo, hi);
        }
      }
      l += run;
      x += run;
    }
  }
}

/* Copies window rows [0, rows) (input rows y0 + r, or zeros outside
 * [0, height)) of `channels` planes, columns [x0, x0 + len) (zeros outside
 * [0, width)), into dst[c][r][stride]. The input's planes are in_c apart,
 * rows in_h, elements in_w. */
static void copy_window(float *restrict dst, int64_t stride, int64_t rows,
                        const float *src, int64_t channels, int64_t in_c,
                        int64_t in_h, int64_t in_w, int64_t y0, int64_t x0,
                        int64_t len, int64_t height, int64_t width) {
  int64_t lo = max64(0, -x0), hi = min64(len, width - x0);
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t r = 0; r < rows; ++r) {
      float *row = dst + (c * rows + r) * stride;
      int64_t y = y0 + r;
      if (y < 0 || y >= height || hi <= lo) {
        memset(row, 0, (size_t)len * sizeof(float));
        continue;
      }
      const float *from = src + c * in_c + y * in_h;
      for (int64_t x = 0; x < lo; ++x)
        row[x] = 0.0f;
      if (in_w == 1)
        memcpy(row + lo, from + x0 + lo, (size_t)(hi - lo) * sizeof(float));
      else
        for (int64_t x = lo; x < hi; ++x)
          row[x] = from[(x0 + x) * in_w];
      for (int64_t x = hi; x < len; ++x)
        row[x] = 0.0f;
    }
}

/* The direct kernel's items [0, items) run (n, g, then per (n, g) `paired`
 * items of a pair of panels and `per_ng - paired` of the last, single panel
 * of an odd panel count). A pair's item costs pair_cost, a single panel's
 * single_cost: the one-vector tile broadcasts the same input pixels for
 * half the multiply-adds (64 -> 38 output channels, one AMD EPYC thread:
 * 1144 us as two pairs, 950 us as a pair and a single), and the row path
 * runs at about 0.83 of a pair's rate (6 channels at 56x56 from 64: a tile
 * of 4 x 6 vectors took 2.08 us, an item of a pair 2.02 us). Thread `r` of
 * `parts` takes the items of its equal share of the cost (with 38 output
 * channels, splitting the items evenly gave one thread the full pair and
 * the other the single panel). */
static void dconv_split(int64_t items, int64_t per_ng, int64_t paired,
                        int64_t pair_cost, int64_t single_cost, int64_t parts,
                        int64_t r, int64_t *begin, int64_t *end) {
  int64_t ng_cost = paired * pair_cost + (per_ng - paired) * single_cost;
  /* The cost of items [0, i). */
  int64_t total = items / per_ng * ng_cost;
#define DCONV_PREFIX(i)                                                        \
  ((i) / per_ng * ng_cost + pair_cost * min64((i) % per_ng, paired) +          \
   single_cost * ((i) % per_ng > paired ? (i) % per_ng - paired : 0))
  int64_t bounds[2];
  for (int k = 0; k < 2; ++k) {
    int64_t target = total * (r + k) / parts;
    int64_t lo = 0, hi = items;
    while (lo < hi) {
      int64_t mid = lo + (hi - lo) / 2;
      if (DCONV_PREFIX(mid) < target)
        lo = mid + 1;
      else
        hi = mid;
    }
    bounds[k] = lo;
  }
#undef DCONV_PREFIX
  *begin = bounds[0];
  *end = r + 1 == parts ? items : bounds[1];
}

static void sconv2d_direct(kiln_isa requested, KILN_SCONV2D_DIRECT_ARGS) {
  kiln_isa isa = kiln_ukernel_resolve_isa(requested);
  const int64_t V = kDconvVector;
  /* The padded extent the windows cover; implicit padding when it reaches
   * outside the input. */
  int64_t extent_h = (out_h - 1) * stride_h + (kernel_h - 1) * dilation_h + 1;
  int64_t extent_w = (out_w - 1) * stride_w + (kernel_w - 1) * dilation_w + 1;
  int implicit =
      out_h > 0 && out_w > 0 &&
      (pad_top > 0 || pad_left > 0 || extent_h > pad_top + in_height ||
       extent_w > pad_left + in_width);
  /* No AVX-512 on this processor, weights packed for another panel height,
   * columns not contiguous or a stride above 2: the matrix-product path
   * reads the panels as a matrix, from a padded copy of the input when the
   * padding is implicit. */
  if (isa != KILN_ISA_AVX512 || w_panel_height != V || in_w != 1 ||
      stride_w > 2 || kernel_h * kernel_w > 64) {
    float *padded = NULL;
    if (implicit) {
      int64_t planes = batch * groups * in_channels;
      padded = kiln_buffer_alloc((size_t)(planes * extent_h * extent_w) *
                                 sizeof(float));
      for (int64_t q = 0; q < planes; ++q) {
        int64_t n = q / (groups * in_channels), gc = q % (groups * in_channels);
        copy_window(padded + q * extent_h * extent_w, extent_w, extent_h,
                    in_aligned + in_offset + n * in_n +
                        (gc / in_channels) * in_g + (gc % in_channels) * in_c,
                    1, 0, in_h, in_w, -pad_top, -pad_left, extent_w, in_height,
                    in_width);
      }
      in_aligned = padded;
      in_offset = 0;
      in_c = extent_h * extent_w;
      in_g = in_channels * in_c;
      in_n = groups * in_g;
      in_h = extent_w;
      in_w = 1;
    }
    sconv2d_packed(isa, batch, groups, out_channels, in_channels, out_h, out_w,
                   kernel_h, kernel_w, stride_h, stride_w, dilation_h,
                   dilation_w, in_allocated, in_aligned, in_zero, in_offset,
                   in_n, in_g, in_c, in_h, in_w, w_allocated, w_aligned, w_zero,
                   w_offset, w_panel_height, out_allocated, out_aligned,
                   out_zero, out_offset, out_n, out_g, out_m, out_oh, out_ow,
                   CONV_EPILOGUE_NAMES);
    kiln_buffer_free(padded);
    return;
  }
  (void)in_allocated, (void)in_zero, (void)w_allocated, (void)w_zero;
  (void)out_allocated, (void)out_zero, (void)d_allocated, (void)d_zero;
  (void)e_allocated, (void)e_zero;
  if (batch <= 0 || groups <= 0 || out_channels <= 0 || out_h <= 0 ||
      out_w <= 0)
    return;
  int64_t taps[64];
  for (int64_t kh = 0; kh < kernel_h; ++kh)
    for (int64_t kw = 0; kw < kernel_w; ++kw)
      taps[kh * kernel_w + kw] = kh * dilation_h * in_h + kw * dilation_w;
  int64_t ntaps = kernel_h * kernel_w, depth = in_channels * ntaps;
  int64_t rows[64];
  for (int64_t kh = 0; kh < kernel_h; ++kh)
    rows[kh] = kh * dilation_h * in_h;
  /* A row of the window spans (pixels - 1) * stride + (kw - 1) * dilation
   * + 1 floats from an arbitrary start: one line more than it fills. */
  int64_t span =
      (kDconvMaxPixels - 1) * stride_w + (kernel_w - 1) * dilation_w + 1;
  /* Only an input that fits in L1 and L2 twice over goes without: in a
   * model the input was written by the layer before, partly on the other
   * core (ResNet-50 with 128 KiB instead of 1 MiB: 38.5 against 39.5 ms). */
  int64_t prefetched =
      in_channels * in_c * (int64_t)sizeof(float) > (1 << 17) ? kernel_h : 0;
  dconv p = {taps, ntaps,      in_channels,           in_c,
             rows, prefetched, ceil_div(span, 16) + 1};
  /* With implicit padding, a window that reaches outside the input is
   * read from a zero-padded copy of its rows in a buffer of the thread:
   * channels x window rows x `window_stride` floats. */
  int64_t window_rows = (kernel_h - 1) * dilation_h + 1;
  int64_t window_stride = ceil_div(span, 16) * 16;
  int64_t window_taps[64], window_row_offsets[64];
  for (int64_t kh = 0; kh < kernel_h; ++kh) {
    window_row_offsets[kh] = kh * dilation_h * window_stride;
    for (int64_t kw = 0; kw < kernel_w; ++kw)
      window_taps[kh * kernel_w + kw] =
          kh * dilation_h * window_stride + kw * dilation_w;
  }
  dconv windowed = {window_taps,
                    ntaps,
                    in_channels,
                    window_rows * window_stride,
                    window_row_offsets,
                    0,
                    0};
  const float *input = in_aligned + in_offset;
  const float *weights = w_aligned + w_offset;
  float *output = out_aligned + out_offset;
  const float *d = addends & 1 ? d_aligned + d_offset : NULL;
  const float *e = addends & 2 ? e_aligned + e_offset : NULL;
  int clamp = lo > -__builtin_inff() || hi < __builtin_inff();
  int64_t panels = ceil_div(out_channels, V), full = panels / 2;
  int64_t group_w = panels * V * depth;
  /* Pixel tiles of nearly equal width along each row. */
  int64_t blocks = ceil_div(out_w, kDconvMaxPixels);
  int64_t per_pair = out_h * blocks, rw_max = ceil_div(out_w, blocks);
  /* The channels of a last, single panel, and whether the row path takes
   * it: at stride 1 along the row, when its vectors' share of used lanes
   * beats three quarters of the one-vector tile's share (single / 16). */
  int64_t single = panels % 2 ? out_channels - (panels - 1) * V : 0;
  /* The row path's plane: rows as far apart as in the input when that
   * leaves fewer lanes unused than rows of whole vectors. */
  int64_t whole = ceil_div(out_w, V) * V, across = stride_h * in_h;
  int64_t row_width = across >= out_w && across <= whole ? across : whole;
  int row_path = single > 0 && single <= kDconvRowChannels && stride_w == 1 &&
                 4 * out_w >= 3 * single * row_width / V;
  int vectors = row_path ? kDconvRowVectors[single] : 0;
  dconv_row_plane row_plane = {
      out_h,
      out_w,
      row_width,
      stride_h,
      kernel_h,
      kernel_w,
      dilation_h,
      dilation_w,
      in_h,
      implicit ? pad_top : 0,
      implicit ? pad_left : 0,
      implicit ? in_height : INT64_MAX / 4,
      implicit ? in_width : INT64_MAX / 4,
  };
  int64_t single_items = single == 0 ? 0
                         : row_path
                             ? ceil_div(dconv_row_count(&row_plane), vectors)
                             : per_pair;
  int64_t paired = full * per_pair, per_ng = paired + single_items;
  int64_t items = batch * groups * per_ng;
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (items < 2 * threads || 2.0 * (double)(batch * groups * out_channels) *
                                     (double)(out_h * out_w) * (double)depth <
                                 2e5)
    threads = 1;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    float tile[14 * 32] __attribute__((aligned(64)));
    int64_t begin, end;
    dconv_split(items, per_ng, paired, 30 * rw_max,
                row_path ? 18 * single * vectors : 20 * rw_max,
                omp_get_num_threads(), omp_get_thread_num(), &begin, &end);
    float *window = implicit && begin < end
                        ? kiln_buffer_alloc((size_t)(in_channels * window_rows *
                                                     window_stride) *
                                            sizeof(float))
                        : NULL;
    for (int64_t item = begin; item < end; ++item) {
      /* Items run (n, g, channel pair, row, pixel block), the last fastest:
       * a pair's weights stay in cache across its rows. A single panel on
       * the row path runs (n, g, row tile) instead. */
      int64_t k = item % per_ng, ng = item / per_ng;
      int64_t g = ng % groups, n = ng / groups;
      const float *plane = input + n * in_n + g * in_g;
      if (row_path && k >= paired) {
        int64_t off[8], first[8];
        __mmask16 masks[64 * 8];
        dconv_row_tile(&row_plane, k - paired, vectors, off, masks, first);
        int64_t m0 = (panels - 1) * V;
        dconv_rows[single](&p, plane, off, masks,
                           weights + g * group_w + m0 * depth, tile);
        dconv_row_store_avx512(
            tile, single, vectors, first, &row_plane,
            output + n * out_n + g * out_g + m0 * out_m, out_m, out_oh, out_ow,
            accumulate, d ? d + n * d_n + g * d_g + m0 * d_m : NULL, d_m, d_oh,
            d_ow, e ? e + n * e_n + g * e_g + m0 * e_m : NULL, e_m, e_oh, e_ow,
            clamp, lo, hi);
        continue;
      }
      int64_t pair = k / per_pair, blk = k % blocks, oh = k % per_pair / blocks;
      int64_t ow0 = blk * out_w / blocks, ow1 = (blk + 1) * out_w / blocks;
      int64_t rw = ow1 - ow0;
      const float *w0 = weights + g * group_w + 2 * pair * V * depth;
      int64_t nob = min64(2, panels - 2 * pair);
      const float *w1 = nob == 2 ? w0 + V * depth : w0;
      const dconv_fn(*tile_fn)[14] = nob == 2 ? dconv_avx512 : dconv1_avx512;
      /* The window's first input row and column. */
      int64_t y0 = oh * stride_h - (implicit ? pad_top : 0);
      int64_t x0 = ow0 * stride_w - (implicit ? pad_left : 0);
      int64_t len = (rw - 1) * stride_w + (kernel_w - 1) * dilation_w + 1;
      if (implicit && (y0 < 0 || y0 + window_rows > in_height || x0 < 0 ||
                       x0 + len > in_width)) {
        copy_window(window, window_stride, window_rows, plane, in_channels,
                    in_c, in_h, 1, y0, x0, len, in_height, in_width);
        tile_fn[stride_w - 1][rw - 1](&windowed, window, w0, w1, tile);
      } else {
        tile_fn[stride_w - 1][rw - 1](&p, plane + y0 * in_h + x0, w0, w1, tile);
      }
      /* The epilogue, and the transposed store. */
      for (int64_t ob = 0; ob < nob; ++ob) {
        int64_t m0 = (2 * pair + ob) * V;
        dconv_store_avx512(
            tile + ob * V, rw, min64(V, out_channels - m0),
            output + n * out_n + g * out_g + m0 * out_m + oh * out_oh +
                ow0 * out_ow,
            out_m, out_ow, accumulate,
            d ? d + n * d_n + g * d_g + m0 * d_m + oh * d_oh + ow0 * d_ow
              : NULL,
            d_m, d_ow,
            e ? e + n * e_n + g * e_g + m0 * e_m + oh * e_oh + ow0 * e_ow
              : NULL,
            e_m, e_ow, clamp, lo, hi);
      }
    }
    kiln_buffer_free(window);
  }
}

/*===----------------------------------------------------------------------===*
 * Depthwise convolution (one input channel per group): each output plane
 * is a sum of shifted, scaled input planes, vectorized along the output row.
 *===----------------------------------------------------------------------===*/

/* The strides and sizes of one depthwise problem. */
typedef struct dw_problem {
  int64_t out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h,
      dilation_w;
  int64_t in_h, in_w, w_h, w_w, out_oh, out_ow;
} dw_problem;

/* What a depthwise row does besides the taps. With `init` the row starts as
 * s + d[x] + e[x] (d, e contiguous or NULL), plus its old value with
 * `from_out`; else it starts as its old value. With `finish` it is clamped to
 * [lo, hi] before the store. */
typedef struct dw_epilogue {
  int init, from_out, finish;
  float s;
  const float *d, *e;
  float lo, hi;
} dw_epilogue;

static inline float dw_start(const dw_epilogue *ep, const float *out, int64_t x,
                             int64_t out_ow) {
  if (!ep || !ep->init)
    return out[x * out_ow];
  float v = (ep->from_out ? out[x * out_ow] : 0.0f) + ep->s;
  if (ep->d)
    v += ep->d[x];
  if (ep->e)
    v += ep->e[x];
  return v;
}

/* out[oh][*] += sum over kh, kw of w[kh][kw] * in[oh*sh + kh*dh][* sw + kw*dw]
 * for one output row, in chunks that stay in registers and L1. */
#define DEFINE_DW_ROW(suffix, attributes)                                      \
  attributes static void dw_row_##suffix(const dw_problem *p, const float *in, \
                                         const float *w, float *out,           \
                                         int64_t oh, const dw_epilogue *ep) {  \
    enum { CHUNK = 256 };                                                      \
    float acc[CHUNK];                                                          \
    for (int64_t x0 = 0; x0 < p->out_w; x0 += CHUNK) {                         \
      int64_t len = min64(CHUNK, p->out_w - x0);                               \
      for (int64_t x = 0; x < len; ++x)                                        \
        acc[x] = dw_start(ep, out, x0 + x, p->out_ow);                         \
      for (int64_t kh = 0; kh < p->kernel_h; ++kh) {                           \
        const float *row =                                                     \
            in + (oh * p->stride_h + kh * p->dilation_h) * p->in_h;            \
        for (int64_t kw = 0; kw < p->kernel_w; ++kw) {                         \
          float weight = w[kh * p->w_h + kw * p->w_w];                         \
          const float *src =                                                   \
              row + (x0 * p->stride_w + kw * p->dilation_w) * p->in_w;         \
          if (p->in_w == 1 && p->stride_w == 1)                                \
            for (int64_t x = 0; x < len; ++x)                                  \
              acc[x] += weight * src[x];                                       \
          else if (p->in_w == 1 && p->stride_w == 2)                           \
            for (int64_t x = 0; x < len; ++x)                                  \
              acc[x] += weight * src[2 * x];                                   \
          else                                                                 \
            for (int64_t x = 0; x < len; ++x)                                  \
              acc[x] += weight * src[x * p->stride_w * p->in_w];               \
        }                                                                      \
      }                                                                        \
      for (int64_t x = 0; x < len; ++x)                                        \
        out[(x0 + x) * p->out_ow] =                                            \
            ep && ep->finish ? clamp_value(acc[x], ep->lo, ep->hi) : acc[x];   \
    }                                                                          \
  }

DEFINE_DW_ROW(avx512_loops,
              __attribute__((target("avx512f"), min_vector_width(512))))

/* The AVX-512 row for unit-stride rows and horizontal stride 1 or 2 (what
 * depthwise layers use): 64 outputs stay in four registers across all the
 * taps; stride 2 loads 32 inputs per register and keeps the even ones. */
__attribute__((target("avx512f"))) static void
dw_row_avx512(const dw_problem *p, const float *in, const float *w, float *out,
              int64_t oh, const dw_epilogue *ep) {
  int64_t s = p->stride_w;
  if (p->in_w != 1 || p->out_ow != 1 || (s != 1 && s != 2)) {
    dw_row_avx512_loops(p, in, w, out, oh, ep);
    return;
  }
  int init = ep && ep->init, finish = ep && ep->finish;
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12,
                                        10, 8, 6, 4, 2, 0);
  for (int64_t x0 = 0; x0 < p->out_w; x0 += 64) {
    int64_t len = min64(64, p->out_w - x0);
    __m512 acc[4];
    __mmask16 mask[4];
    for (int v = 0; v < 4; ++v) {
      int64_t n = len - 16 * v;
      mask[v] = n >= 16 ? (__mmask16)0xffff
                : n > 0 ? (__mmask16)((1u << n) - 1)
                        : (__mmask16)0;
      int64_t x = x0 + 16 * v;
      acc[v] = init && !ep->from_out ? _mm512_setzero_ps()
                                     : _mm512_maskz_loadu_ps(mask[v], out + x);
      if (init) {
        acc[v] = _mm512_add_ps(acc[v], _mm512_set1_ps(ep->s));
        if (ep->d)
          acc[v] =
              _mm512_add_ps(acc[v], _mm512_maskz_loadu_ps(mask[v], ep->d + x));
        if (ep->e)
          acc[v] =
              _mm512_add_ps(acc[v], _mm512_maskz_loadu_ps(mask[v], ep->e + x));
      }
    }
    for (int64_t kh = 0; kh < p->kernel_h; ++kh) {
      const float *row = in + (oh * p->stride_h + kh * p->dilation_h) * p->in_h;
      for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
        __m512 weight = _mm512_set1_ps(w[kh * p->w_h + kw * p->w_w]);
        const float *base = row + x0 * s + kw * p->dilation_w;
        for (int v = 0; v < 4; ++v) {
          if (!mask[v])
            break;
          __m512 x;
          if (s == 1) {
            x = _mm512_maskz_loadu_ps(mask[v], base + 16 * v);
          } else {
            /* Outputs j < n read inputs 2j: the first 2n - 1 of the 32. */
            int64_t n = min64(16, len - 16 * v), need = 2 * n - 1;
            __mmask16 lo =
                need >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << need) - 1);
            __mmask16 hi =
                need > 16 ? (__mmask16)((1u << (need - 16)) - 1) : (__mmask16)0;
            __m512 a = _mm512_maskz_loadu_ps(lo, base + 32 * v);
            __m512 b = _mm512_maskz_loadu_ps(hi, base + 32 * v + 16);
            x = _mm512_permutex2var_ps(a, even, b);
          }
          acc[v] = _mm512_fmadd_ps(weight, x, acc[v]);
        }
      }
    }
    for (int v = 0; v < 4; ++v) {
      /* max(lo, x) and min(hi, x) return x when it is a NaN. */
      if (finish)
        acc[v] = _mm512_min_ps(_mm512_set1_ps(ep->hi),
                               _mm512_max_ps(_mm512_set1_ps(ep->lo), acc[v]));
      _mm512_mask_storeu_ps(out + x0 + 16 * v, mask[v], acc[v]);
    }
  }
}
DEFINE_DW_ROW(avx2, __attribute__((target("avx2,fma"))))
DEFINE_DW_ROW(generic, )

typedef void (*dw_row_fn)(const dw_problem *, const float *, const float *,
                          float *, int64_t, const dw_epilogue *);
static const dw_row_fn dw_rows[] = {
    [KILN_ISA_AVX512] = dw_row_avx512,
    [KILN_ISA_AVX2] = dw_row_avx2,
    [KILN_ISA_GENERIC] = dw_row_generic,
};

/* Rows [oh0, oh1) of one plane of a 3 x 3 depthwise convolution (dilation 1,
 * horizontal stride 1 or 2, contiguous rows) on AVX-512, with the epilogue:
 * 64 outputs at a time, each the sum of three partial sums (one per kernel
 * row) so that twelve independent multiply-add chains hide the latency. */
typedef struct dw_plane {
  const float *in, *w;
  float *out;
  /* Row 0 of the addends (NULL when absent), rows *_oh apart, along the row
   * contiguous (step 1) or constant (step 0). */
  const float *d, *e;
  int64_t d_oh, e_oh, d_ow, e_ow;
  int from_out, clamp;
  float lo, hi;
  /* Implicit zero padding (AVX-512 only): `in` is height x width, and the
   * window of output (0, 0) starts at (-top, -left). Without, `in` is
   * already padded. */
  int padded;
  int64_t height, width, top, left;
} dw_plane;

/* The lanes of the two 16-float loads from row[c0] that hold columns of
 * an unpadded row of `width` floats, for a vector of n (<= 16) outputs with
 * horizontal stride s (1 or 2): stride 1 loads n columns, stride 2 loads
 * 2n - 1 and keeps the even ones. Masked lanes are never read, so the
 * window may start left of the row or run past its end. */
typedef struct dw_window {
  __mmask16 low, high;
} dw_window;

__attribute__((target("avx512f"))) static inline dw_window
dw_window_for(int64_t c0, int64_t n, int64_t s, int64_t width) {
  int64_t need = s == 1 ? min64(n, 16) : n >= 16 ? 31 : n > 0 ? 2 * n - 1 : 0;
  int64_t end = min64(need, width - c0);
  dw_window m = {(__mmask16)(lanes(end) & ~lanes(-c0)),
                 (__mmask16)(lanes(end - 16) & ~lanes(-c0 - 16))};
  return m;
}

__attribute__((target("avx512f"))) static inline __m512
load_window_avx512(const float *row, int64_t c0, int64_t s, dw_window m) {
  if (s == 1)
    return _mm512_maskz_loadu_ps(m.low, row + c0);
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12,
                                        10, 8, 6, 4, 2, 0);
  return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(m.low, row + c0), even,
                                _mm512_maskz_loadu_ps(m.high, row + c0 + 16));
}

/* The 16 outputs of a row from xv on: the three partial sums, the
 * epilogue, the masked store. */
__attribute__((target("avx512f"), always_inline)) static inline void
dw3x3_store_avx512(const dw_problem *p, const dw_plane *q, const __m512 acc[3],
                   float *out, const float *d, const float *e, float constant,
                   int64_t xv) {
  __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]),
                             _mm512_add_ps(acc[2], _mm512_set1_ps(constant)));
  finish_store_avx512(out + xv, lanes(p->out_w - xv), sum, q->from_out,
                      d && q->d_ow ? d + xv : NULL, 1,
                      e && q->e_ow ? e + xv : NULL, 1, q->clamp,
                      _mm512_set1_ps(q->lo), _mm512_set1_ps(q->hi));
}

/* The NV * 16 outputs of one row from x on (NV <= 4): three partial sums
 * per vector (one per kernel row), then the epilogue. Only the vectors the
 * row needs are computed: a 7-wide plane uses one of four. With `windows`
 * (the masks of each 16-output vector's three taps; where it is inlined,
 * known to be NULL or not) a NULL row reads as zeros and the columns are
 * windows of the unpadded row. */
__attribute__((target("avx512f"), always_inline)) static inline void
dw3x3_chunk_avx512(const dw_problem *p, const dw_plane *q, const __m512 w[9],
                   const float *const rows[3], float *out, const float *d,
                   const float *e, float constant, int64_t x, int nv,
                   const dw_window *windows) {
  const int padded = windows != NULL;
  const int64_t s = p->stride_w;
  __m512 acc[4][3];
  for (int v = 0; v < nv; ++v) {
    int64_t n = p->out_w - (x + 16 * v);
    for (int r = 0; r < 3; ++r) {
      if (padded) {
        if (!rows[r]) {
          acc[v][r] = _mm512_setzero_ps();
          continue;
        }
        int64_t c0 = (x + 16 * v) * s - q->left;
        const dw_window *m = windows + ((x >> 4) + v) * 3;
        acc[v][r] =
            _mm512_mul_ps(w[3 * r], load_window_avx512(rows[r], c0, s, m[0]));
        acc[v][r] = _mm512_fmadd_ps(
            w[3 * r + 1], load_window_avx512(rows[r], c0 + 1, s, m[1]),
            acc[v][r]);
        acc[v][r] = _mm512_fmadd_ps(
            w[3 * r + 2], load_window_avx512(rows[r], c0 + 2, s, m[2]),
            acc[v][r]);
        continue;
      }
      const float *base = rows[r] + (x + 16 * v) * s;
      acc[v][r] = _mm512_mul_ps(w[3 * r], load_strided_avx512(base, n, s));
      acc[v][r] = _mm512_fmadd_ps(
          w[3 * r + 1], load_strided_avx512(base + 1, n, s), acc[v][r]);
      acc[v][r] = _mm512_fmadd_ps(
          w[3 * r + 2], load_strided_avx512(base + 2, n, s), acc[v][r]);
    }
  }
  for (int v = 0; v < nv; ++v)
    dw3x3_store_avx512(p, q, acc[v], out, d, e, constant, x + 16 * v);
}

/* One output row's chunks, with the windows of implicit padding or none. */
__attribute__((target("avx512f"), always_inline)) static inline void
dw3x3_row_avx512(const dw_problem *p, const dw_plane *q, const __m512 w[9],
                 const float *const rows[3], float *out, const float *d,
                 const float *e, float constant, const dw_window *windows) {
  for (int64_t x = 0; x < p->out_w; x += 64) {
    switch (ceil_div(min64(64, p->out_w - x), 16)) {
    case 1:
      dw3x3_chunk_avx512(p, q, w, rows, out, d, e, constant, x, 1, windows);
      break;
    case 2:
      dw3x3_chunk_avx512(p, q, w, rows, out, d, e, constant, x, 2, windows);
      break;
    case 3:
      dw3x3_chunk_avx512(p, q, w, rows, out, d, e, constant, x, 3, windows);
      break;
    default:
      dw3x3_chunk_avx512(p, q, w, rows, out, d, e, constant, x, 4, windows);
      break;
    }
  }
}

/* Two output rows of a plane at most NV * 16 (NV <= 2) outputs wide: each
 * of the stride_h + 3 input rows they read is loaded once per tap and
 * feeds both rows' partial sums (twelve independent chains for two
 * vectors). `rows[j]` is input row oh * stride_h + j (NULL: zeros). */
__attribute__((target("avx512f"), always_inline)) static inline void
dw3x3_two_rows_avx512(const dw_problem *p, const dw_plane *q, const __m512 w[9],
                      const float *const rows[5], float *const out[2],
                      const float *const d[2], const float *const e[2],
                      const float constant[2], const dw_window *windows, int nv,
                      int sh) {
  const int64_t s = p->stride_w;
  __m512 acc[2][2][3];
  for (int k = 0; k < 2; ++k)
    for (int v = 0; v < nv; ++v)
      for (int r = 0; r < 3; ++r)
        acc[k][v][r] = _mm512_setzero_ps();
#pragma clang loop unroll(full)
  for (int j = 0; j < sh + 3; ++j) {
    if (!rows[j])
      continue;
    for (int v = 0; v < nv; ++v) {
      int64_t n = p->out_w - 16 * v;
      __m512 tap[3];
      for (int t = 0; t < 3; ++t)
        tap[t] = windows ? load_window_avx512(rows[j], 16 * v * s - q->left + t,
                                              s, windows[v * 3 + t])
                         : load_strided_avx512(rows[j] + 16 * v * s + t, n, s);
      for (int k = 0; k < 2; ++k) {
        int r = j - k * sh;
        if (r < 0 || r > 2)
          continue;
        for (int t = 0; t < 3; ++t)
          acc[k][v][r] = _mm512_fmadd_ps(w[3 * r + t], tap[t], acc[k][v][r]);
      }
    }
  }
  for (int k = 0; k < 2; ++k)
    for (int v = 0; v < nv; ++v)
      dw3x3_store_avx512(p, q, acc[k][v], out[k], d[k], e[k], constant[k],
                         16 * v);
}

/* The widest row the ring kernel below takes (floats per ring row), and
 * its rows: a stride-2 window spans stride_h + 3 input rows of two output
 * rows' worth, and one more is on its way in. The input rows of the output
 * row kDwRingAhead rows on are prefetched. */
enum { kDwRingPitch = 2 * 1024 + 64, kDwRingRows = 4, kDwRingAhead = 4 };

/* NV (<= 4, constant where inlined) vectors of 16 outputs of one row from
 * x on, each one multiply-add chain over the taps of `rows` (NULL: a row of
 * zeros), read from ring rows with unmasked loads (their zero padding is in
 * the row), then the epilogue and a masked store. */
__attribute__((target("avx512f"), always_inline)) static inline void
dw3x3_ring_chunk_avx512(const dw_problem *p, const dw_plane *q,
                        const __m512 w[9], const float *const rows[3],
                        float *out, const float *d, const float *e,
                        float constant, int64_t x, int nv, int stride) {
  const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12,
                                        10, 8, 6, 4, 2, 0);
  __m512 acc[4];
  for (int v = 0; v < nv; ++v)
    acc[v] = _mm512_set1_ps(constant);
  for (int r = 0; r < 3; ++r) {
    if (!rows[r])
      continue;
    for (int t = 0; t < 3; ++t)
      for (int v = 0; v < nv; ++v) {
        const float *base = rows[r] + (x + 16 * v) * stride + t;
        __m512 tap = stride == 1
                         ? _mm512_loadu_ps(base)
                         : _mm512_permutex2var_ps(_mm512_loadu_ps(base), even,
                                                  _mm512_loadu_ps(base + 16));
        acc[v] = _mm512_fmadd_ps(w[3 * r + t], tap, acc[v]);
      }
  }
  for (int v = 0; v < nv; ++v) {
    int64_t xv = x + 16 * v;
    finish_store_avx512(out + xv, lanes(p->out_w - xv), acc[v], q->from_out,
                        d && q->d_ow ? d + xv : NULL, 1,
                        e && q->e_ow ? e + xv : NULL, 1, q->clamp,
                        _mm512_set1_ps(q->lo), _mm512_set1_ps(q->hi));
  }
}

/* One output row's chunks at horizontal stride `stride` (constant where
 * inlined): chunks of four vectors (the last maybe partial), then the one to
 * three vectors left, each with a constant vector count so the sums stay in
 * registers. */
__attribute__((target("avx512f"), always_inline)) static inline void
dw3x3_ring_row_avx512(const dw_problem *p, const dw_plane *q, const __m512 w[9],
                      const float *const rows[3], float *out, const float *d,
                      const float *e, float constant, int stride) {
  int64_t x = 0;
  for (; p->out_w - x > 48; x += 64)
    dw3x3_ring_chunk_avx512(p, q, w, rows, out, d, e, constant, x, 4, stride);
  switch (ceil_div(p->out_w - x, 16)) {
  case 3:
    dw3x3_ring_chunk_avx512(p, q, w, rows, out, d, e, constant, x, 3, stride);
    break;
  case 2:
    dw3x3_ring_chunk_avx512(p, q, w, rows, out, d, e, constant, x, 2, stride);
    break;
  case 1:
    dw3x3_ring_chunk_avx512(p, q, w, rows, out, d, e, constant, x, 1, stride);
    break;
  }
}

/* The ring columns a row of the ring kernel reads: output x reads columns
 * x * stride_w + t (t < 3), and the loads reach the last vector's 16
 * (stride 2: 32) lanes. */
static inline int64_t dw_ring_span(const dw_problem *p) {
  return (ceil_div(p->out_w, 16) * 16 - 1) * p->stride_w + 2 + 16 + 1;
}

/* Rows [oh0, oh1) of a wide plane (more than 32 outputs a row) with
 * implicit padding: each input row the windows read is copied once into a
 * ring row of zeros around it, so every tap is a plain load of 16 outputs.
 * Reading the unpadded row through per-load masks instead (the plane
 * kernel below) ran MobileNetV2's 112x112 and 56x56 layers 1.6-2x slower:
 * its masks and row pointers did not fit in registers. */
__attribute__((target("avx512f"))) static void
dw3x3_plane_ring_avx512(const dw_problem *p, const dw_plane *q, int64_t oh0,
                        int64_t oh1) {
  float ring[kDwRingRows][kDwRingPitch] __attribute__((aligned(64)));
  int64_t held[kDwRingRows] = {-1, -1, -1, -1};
  /* The input's column j sits at ring column j + left. All of the span
   * starts as zeros, and only [left, left + width) is ever written after. */
  const int64_t span = dw_ring_span(p);
  for (int r = 0; r < kDwRingRows; ++r)
    for (int64_t j = 0; j < span && j < kDwRingPitch; ++j)
      ring[r][j] = 0.0f;
  __m512 w[9];
  for (int t = 0; t < 9; ++t)
    w[t] = _mm512_set1_ps(q->w[(t / 3) * p->w_h + (t % 3) * p->w_w]);
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    const float *rows[3];
    for (int r = 0; r < 3; ++r) {
      int64_t y = oh * p->stride_h + r - q->top;
      if (y < 0 || y >= q->height) {
        rows[r] = NULL;
        continue;
      }
      int slot = (int)(y % kDwRingRows);
      float *row = ring[slot];
      if (held[slot] != y) {
        /* The input row at `left`, 16 floats a store; the zeros around it
         * stay from the start. */
        const float *src = q->in + y * p->in_h;
        for (int64_t c = 0; c < q->width; c += 16)
          _mm512_mask_storeu_ps(
              row + q->left + c, lanes(q->width - c),
              _mm512_maskz_loadu_ps(lanes(q->width - c), src + c));
        held[slot] = y;
      }
      rows[r] = row;
    }
    /* The input rows that output row oh + kDwRingAhead brings into the
     * ring, toward L1 while this row computes: a wide plane comes from L3
     * or memory (the layer before wrote it), and the 112x112 stride-2
     * layer of MobileNetV2 waited on it (one thread: 750-830 against
     * 540-590 us with the prefetch). */
    for (int64_t y =
             (oh + kDwRingAhead) * p->stride_h + 3 - p->stride_h - q->top;
         y < (oh + kDwRingAhead) * p->stride_h + 3 - q->top; ++y)
      if (y >= 0 && y < q->height)
        for (int64_t c = 0; c < q->width; c += 16)
          _mm_prefetch((const char *)(q->in + y * p->in_h + c), _MM_HINT_T0);
    float *out = q->out + oh * p->out_oh;
    const float *d = q->d ? q->d + oh * q->d_oh : NULL;
    const float *e = q->e ? q->e + oh * q->e_oh : NULL;
    float constant = (d && !q->d_ow ? *d : 0.0f) + (e && !q->e_ow ? *e : 0.0f);
    if (p->stride_w == 1)
      dw3x3_ring_row_avx512(p, q, w, rows, out, d, e, constant, 1);
    else
      dw3x3_ring_row_avx512(p, q, w, rows, out, d, e, constant, 2);
  }
}

__attribute__((target("avx512f"))) static void
dw3x3_plane_avx512(const dw_problem *p, const dw_plane *q, int64_t oh0,
                   int64_t oh1) {
  /* Wide planes with implicit padding: through a ring of padded rows. */
  if (q->padded && p->out_w > 32 && dw_ring_span(p) + q->left <= kDwRingPitch &&
      q->left + q->width <= kDwRingPitch) {
    dw3x3_plane_ring_avx512(p, q, oh0, oh1);
    return;
  }
  __m512 w[9];
  for (int t = 0; t < 9; ++t)
    w[t] = _mm512_set1_ps(q->w[(t / 3) * p->w_h + (t % 3) * p->w_w]);
  /* With implicit padding, the windows of every vector's taps, the same
   * for all rows (planes up to 1024 outputs wide; wider ones take the
   * padded copy, see sdwconv2d). */
  dw_window windows[64 * 3];
  if (q->padded)
    for (int64_t v = 0; v < ceil_div(p->out_w, 16); ++v)
      for (int t = 0; t < 3; ++t)
        windows[v * 3 + t] =
            dw_window_for(16 * v * p->stride_w - q->left + t, p->out_w - 16 * v,
                          p->stride_w, q->width);
  /* Planes at most 32 wide: two rows at a time, sharing their input rows
   * (a 14-wide row alone is three short multiply-add chains). */
  int64_t oh = oh0;
  if (p->out_w <= 32 && p->stride_h <= 2)
    for (; oh + 2 <= oh1; oh += 2) {
      const float *rows[5] = {NULL, NULL, NULL, NULL, NULL};
      for (int64_t j = 0; j < p->stride_h + 3; ++j) {
        int64_t y = oh * p->stride_h + j - (q->padded ? q->top : 0);
        if (!q->padded || (y >= 0 && y < q->height))
          rows[j] = q->in + y * p->in_h;
      }
      float *out[2];
      const float *d[2], *e[2];
      float constant[2];
      for (int k = 0; k < 2; ++k) {
        out[k] = q->out + (oh + k) * p->out_oh;
        d[k] = q->d ? q->d + (oh + k) * q->d_oh : NULL;
        e[k] = q->e ? q->e + (oh + k) * q->e_oh : NULL;
        constant[k] = (d[k] && !q->d_ow ? *d[k] : 0.0f) +
                      (e[k] && !q->e_ow ? *e[k] : 0.0f);
      }
      const dw_window *win = q->padded ? windows : NULL;
      /* Constant widths and strides, so the sums stay in registers. */
      int wide = p->out_w > 16, strided = p->stride_h == 2;
      if (!wide && !strided)
        dw3x3_two_rows_avx512(p, q, w, rows, out, d, e, constant, win, 1, 1);
      else if (!wide)
        dw3x3_two_rows_avx512(p, q, w, rows, out, d, e, constant, win, 1, 2);
      else if (!strided)
        dw3x3_two_rows_avx512(p, q, w, rows, out, d, e, constant, win, 2, 1);
      else
        dw3x3_two_rows_avx512(p, q, w, rows, out, d, e, constant, win, 2, 2);
    }
  for (; oh < oh1; ++oh) {
    float *out = q->out + oh * p->out_oh;
    const float *d = q->d ? q->d + oh * q->d_oh : NULL;
    const float *e = q->e ? q->e + oh * q->e_oh : NULL;
    float constant = (d && !q->d_ow ? *d : 0.0f) + (e && !q->e_ow ? *e : 0.0f);
    if (q->padded) {
      /* Rows above or below the input read as zeros. */
      const float *rows[3];
      for (int r = 0; r < 3; ++r) {
        int64_t y = oh * p->stride_h + r - q->top;
        rows[r] = y >= 0 && y < q->height ? q->in + y * p->in_h : NULL;
      }
      dw3x3_row_avx512(p, q, w, rows, out, d, e, constant, windows);
      continue;
    }
    const float *r0 = q->in + oh * p->stride_h * p->in_h;
    const float *rows[3] = {r0, r0 + p->in_h, r0 + 2 * p->in_h};
    dw3x3_row_avx512(p, q, w, rows, out, d, e, constant, NULL);
  }
}

/* The same plane kernel in C for the other instruction sets: one expression
 * per output, which the compiler vectorizes along the row (stride 2 as an
 * interleaved load). */
#define DEFINE_DW3X3(suffix, attributes)                                       \
  attributes static void dw3x3_plane_##suffix(                                 \
      const dw_problem *p, const dw_plane *q, int64_t oh0, int64_t oh1) {      \
    float w[9];                                                                \
    for (int t = 0; t < 9; ++t)                                                \
      w[t] = q->w[(t / 3) * p->w_h + (t % 3) * p->w_w];                        \
    const int64_t s = p->stride_w;                                             \
    for (int64_t oh = oh0; oh < oh1; ++oh) {                                   \
      const float *r0 = q->in + oh * p->stride_h * p->in_h;                    \
      const float *r1 = r0 + p->in_h, *r2 = r1 + p->in_h;                      \
      float *restrict out = q->out + oh * p->out_oh;                           \
      const float *d = q->d ? q->d + oh * q->d_oh : NULL;                      \
      const float *e = q->e ? q->e + oh * q->e_oh : NULL;                      \
      float constant =                                                         \
          (d && !q->d_ow ? *d : 0.0f) + (e && !q->e_ow ? *e : 0.0f);           \
      const float *dv = d && q->d_ow ? d : NULL;                               \
      const float *ev = e && q->e_ow ? e : NULL;                               \
      if (s == 1)                                                              \
        for (int64_t x = 0; x < p->out_w; ++x)                                 \
          out[x] = (q->from_out ? out[x] : 0.0f) + constant +                  \
                   (w[0] * r0[x] + w[1] * r0[x + 1] + w[2] * r0[x + 2]) +      \
                   (w[3] * r1[x] + w[4] * r1[x + 1] + w[5] * r1[x + 2]) +      \
                   (w[6] * r2[x] + w[7] * r2[x + 1] + w[8] * r2[x + 2]);       \
      else                                                                     \
        for (int64_t x = 0; x < p->out_w; ++x)                                 \
          out[x] = (q->from_out ? out[x] : 0.0f) + constant +                  \
                   (w[0] * r0[2 * x] + w[1] * r0[2 * x + 1] +                  \
                    w[2] * r0[2 * x + 2]) +                                    \
                   (w[3] * r1[2 * x] + w[4] * r1[2 * x + 1] +                  \
                    w[5] * r1[2 * x + 2]) +                                    \
                   (w[6] * r2[2 * x] + w[7] * r2[2 * x + 1] +                  \
                    w[8] * r2[2 * x + 2]);                                     \
      for (int64_t x = 0; (dv || ev || q->clamp) && x < p->out_w; ++x) {       \
        float v = out[x] + (dv ? dv[x] : 0.0f) + (ev ? ev[x] : 0.0f);          \
        out[x] = q->clamp ? clamp_value(v, q->lo, q->hi) : v;                  \
      }                                                                        \
    }                                                                          \
  }

DEFINE_DW3X3(avx2_loops, __attribute__((target("avx2,fma"))))
DEFINE_DW3X3(generic, )

#define AVX2_ATTRS __attribute__((target("avx2,fma")))

/* Lanes j < n (n <= 8) of base[s * j] for s = 1 or 2, the others 0; stride
 * 2 loads 2n - 1 inputs and keeps the even ones. */
AVX2_ATTRS static inline __m256 load_strided_avx2(const float *base, int64_t n,
                                                  int64_t s) {
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  if (s == 1) {
    if (n >= 8)
      return _mm256_loadu_ps(base);
    return _mm256_maskload_ps(
        base, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)n), index));
  }
  int64_t need = n >= 8 ? 15 : n > 0 ? 2 * n - 1 : 0;
  __m256 lo = _mm256_maskload_ps(
      base, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)need), index));
  __m256 hi = _mm256_maskload_ps(
      base + 8, _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(need - 8)), index));
  /* Evens of lo then of hi, then the 64-bit lanes back in order. */
  __m256 even = _mm256_shuffle_ps(lo, hi, 0x88);
  return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(even), 0xd8));
}

/* The AVX2 plane kernel: 16 outputs of a row at a time, three partial sums
 * per vector (one per kernel row) as on AVX-512; the nine weights and six
 * sums fill fifteen of the sixteen registers. Planes with implicit padding
 * come as padded copies (see sdwconv2d). */
AVX2_ATTRS static void dw3x3_plane_avx2(const dw_problem *p, const dw_plane *q,
                                        int64_t oh0, int64_t oh1) {
  if (q->padded) {
    dw3x3_plane_avx2_loops(p, q, oh0, oh1);
    return;
  }
  __m256 w[9];
  for (int t = 0; t < 9; ++t)
    w[t] = _mm256_set1_ps(q->w[(t / 3) * p->w_h + (t % 3) * p->w_w]);
  const int64_t s = p->stride_w;
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256 lo = _mm256_set1_ps(q->lo), hi = _mm256_set1_ps(q->hi);
  for (int64_t oh = oh0; oh < oh1; ++oh) {
    const float *r0 = q->in + oh * p->stride_h * p->in_h;
    const float *rows[3] = {r0, r0 + p->in_h, r0 + 2 * p->in_h};
    float *out = q->out + oh * p->out_oh;
    const float *d = q->d ? q->d + oh * q->d_oh : NULL;
    const float *e = q->e ? q->e + oh * q->e_oh : NULL;
    float constant = (d && !q->d_ow ? *d : 0.0f) + (e && !q->e_ow ? *e : 0.0f);
    for (int64_t x = 0; x < p->out_w; x += 16) {
      int nv = p->out_w - x > 8 ? 2 : 1;
      __m256 acc[2][3];
      for (int v = 0; v < nv; ++v) {
        int64_t n = p->out_w - (x + 8 * v);
        for (int r = 0; r < 3; ++r) {
          const float *base = rows[r] + (x + 8 * v) * s;
          acc[v][r] = _mm256_mul_ps(w[3 * r], load_strided_avx2(base, n, s));
          acc[v][r] = _mm256_fmadd_ps(
              w[3 * r + 1], load_strided_avx2(base + 1, n, s), acc[v][r]);
          acc[v][r] = _mm256_fmadd_ps(
              w[3 * r + 2], load_strided_avx2(base + 2, n, s), acc[v][r]);
        }
      }
      for (int v = 0; v < nv; ++v) {
        int64_t xv = x + 8 * v, n = p->out_w - xv;
        __m256i mask =
            _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 8 ? n : 8)), index);
        __m256 sum =
            _mm256_add_ps(_mm256_add_ps(acc[v][0], acc[v][1]),
                          _mm256_add_ps(acc[v][2], _mm256_set1_ps(constant)));
        if (q->from_out)
          sum = _mm256_add_ps(sum, _mm256_maskload_ps(out + xv, mask));
        if (d && q->d_ow)
          sum = _mm256_add_ps(sum, _mm256_maskload_ps(d + xv, mask));
        if (e && q->e_ow)
          sum = _mm256_add_ps(sum, _mm256_maskload_ps(e + xv, mask));
        /* max(lo, x) and min(hi, x) return x when it is a NaN. */
        if (q->clamp)
          sum = _mm256_min_ps(hi, _mm256_max_ps(lo, sum));
        _mm256_maskstore_ps(out + xv, mask, sum);
      }
    }
  }
}

typedef void (*dw3x3_fn)(const dw_problem *, const dw_plane *, int64_t,
                         int64_t);
static const dw3x3_fn dw3x3_planes[] = {
    [KILN_ISA_AVX512] = dw3x3_plane_avx512,
    [KILN_ISA_AVX2] = dw3x3_plane_avx2,
    [KILN_ISA_GENERIC] = dw3x3_plane_generic,
};

/* One output row (n, g, m, oh) of a depthwise convolution, summed over the
 * input channels of its group, with the epilogue. */
static void dw_item(const dw_problem *p, dw_row_fn row, const float *input,
                    const float *weights, float *output, int64_t n, int64_t g,
                    int64_t m, int64_t oh, int64_t in_channels, int64_t in_n,
                    int64_t in_g, int64_t in_c, int64_t w_g, int64_t w_m,
                    int64_t w_c, int64_t out_n, int64_t out_g, int64_t out_m,
                    int64_t out_oh, int64_t out_ow, const float *d,
                    const float *e, int64_t d_n, int64_t d_g, int64_t d_m,
                    int64_t d_oh, int64_t d_ow, int64_t e_n, int64_t e_g,
                    int64_t e_m, int64_t e_oh, int64_t e_ow, int64_t accumulate,
                    int rows_fuse, int clamp, float lo, float hi) {
  float *out = output + n * out_n + g * out_g + m * out_m + oh * out_oh;
  const float *dr = d ? d + n * d_n + g * d_g + m * d_m + oh * d_oh : NULL;
  const float *er = e ? e + n * e_n + g * e_g + m * e_m + oh * e_oh : NULL;
  if (rows_fuse) {
    /* The rows start and finish the epilogue themselves. */
    dw_epilogue ep = {1, accumulate != 0, 0, 0.0f, NULL, NULL, lo, hi};
    if (dr && d_ow == 0)
      ep.s += *dr;
    else
      ep.d = dr;
    if (er && e_ow == 0)
      ep.s += *er;
    else
      ep.e = er;
    for (int64_t c = 0; c < in_channels; ++c) {
      ep.init = c == 0;
      ep.finish = c == in_channels - 1 && clamp;
      row(p, input + n * in_n + g * in_g + c * in_c,
          weights + g * w_g + m * w_m + c * w_c, out, oh, &ep);
    }
    return;
  }
  /* Otherwise the row starts as the addends (plus its old value with
   * `accumulate`), and the clamp runs once it is complete. */
  int64_t out_w = p->out_w;
  if (!accumulate || d || e) {
    for (int64_t x = 0; x < out_w; ++x) {
      float v = accumulate ? out[x * out_ow] : 0.0f;
      if (dr)
        v += dr[x * d_ow];
      if (er)
        v += er[x * e_ow];
      out[x * out_ow] = v;
    }
  }
  for (int64_t c = 0; c < in_channels; ++c)
    row(p, input + n * in_n + g * in_g + c * in_c,
        weights + g * w_g + m * w_m + c * w_c, out, oh, NULL);
  if (clamp)
    for (int64_t x = 0; x < out_w; ++x)
      out[x * out_ow] = clamp_value(out[x * out_ow], lo, hi);
}

/* Depthwise convolutions of narrow planes (MobileNetV2's 7x7) on AVX-512
 * with 16 channels a vector: a 7x7 plane along a row would fill 7 of 16
 * lanes, and each plane pays for its own setup. A block of 16
 * channels is transposed into a zero-padded [y][x][16] buffer, every output
 * pixel is 16 channels' taps (one multiply-add each), and the [pixel][16]
 * result is transposed back into the 16 output planes, where the epilogue
 * runs. */
enum { kDwBlockMaxPixels = 4096, kDwBlockMaxTaps = 25 };

/* What the channel-vector kernel needs besides the dw_problem: the input's
 * size and the width of the padded extent. */
typedef struct dw_block {
  int64_t in_height, in_width, ext_w;
  /* Where each input pixel goes in the padded copy (pixel index, y *
   * ext_w + x), or -1 outside it: found once per call, not with two
   * divisions per pixel and block. */
  const int32_t *where;
} dw_block;

/* Whether dw_block_rows_avx512 computes a channel block's rows: a 3 x 3
 * window, dilation 1, stride 1 or 2 both ways. */
static inline int dw_block_rows_apply(const dw_problem *p) {
  return p->kernel_h == 3 && p->kernel_w == 3 && p->dilation_h == 1 &&
         p->dilation_w == 1 && p->stride_h == p->stride_w &&
         (p->stride_w == 1 || p->stride_w == 2);
}

/* One output row of NQ (<= 16) pixels of a 3 x 3 window (dilation 1) at
 * stride S over channel-blocked rows `pitch` floats apart: NQ independent
 * chains of nine multiply-adds, all in registers. NQ and S are constants
 * where it is inlined (dw_block_rows_avx512), so the loops unroll. */
__attribute__((target("avx512f"), always_inline)) static inline void
dw_block_row3x3_avx512(const float *row, int64_t pitch, const __m512 wv[9],
                       __m512 start, float *dst, int nq, int s) {
  __m512 acc[16];
  for (int q = 0; q < nq; ++q)
    acc[q] = start;
  for (int kh = 0; kh < 3; ++kh)
    for (int kw = 0; kw < 3; ++kw)
      for (int q = 0; q < nq; ++q)
        acc[q] = _mm512_fmadd_ps(
            wv[3 * kh + kw],
            _mm512_load_ps(row + kh * pitch + (q * s + kw) * 16), acc[q]);
  for (int q = 0; q < nq; ++q)
    _mm512_store_ps(dst + q * 16, acc[q]);
}

/* The rows of a channel block for a 3 x 3 window at stride 1 or 2, in
 * pieces of at most 16 outputs. The general loop (runtime taps and pixel
 * counts) ran at a fifth of the multiply-add rate: MobileNetV2's 7x7 layers
 * spent 36 of their 60 us there. */
__attribute__((target("avx512f"))) static void
dw_block_rows_avx512(const float *padded, int64_t pitch, int64_t out_h,
                     int64_t out_w, int64_t stride, const __m512 wv[9],
                     __m512 start, float *pixels) {
  /* Rows over 16 outputs go in chunks of nearly equal width. */
  int64_t chunks = ceil_div(out_w, 16);
  for (int64_t i = 0; i < out_h * chunks; ++i) {
    int64_t oy = i / chunks, k = i % chunks;
    int64_t x0 = k * out_w / chunks, nq = (k + 1) * out_w / chunks - x0;
    const float *row = padded + (oy * stride * pitch + x0 * stride * 16);
    float *dst = pixels + (oy * out_w + x0) * 16;
#define DW_BLOCK_ROW(NQ)                                                       \
  case NQ:                                                                     \
    if (stride == 1)                                                           \
      dw_block_row3x3_avx512(row, pitch, wv, start, dst, NQ, 1);               \
    else                                                                       \
      dw_block_row3x3_avx512(row, pitch, wv, start, dst, NQ, 2);               \
    break;
    switch (nq) {
      DW_BLOCK_ROW(1)
      DW_BLOCK_ROW(2)
      DW_BLOCK_ROW(3)
      DW_BLOCK_ROW(4)
      DW_BLOCK_ROW(5)
      DW_BLOCK_ROW(6)
      DW_BLOCK_ROW(7)
      DW_BLOCK_ROW(8)
      DW_BLOCK_ROW(9)
      DW_BLOCK_ROW(10)
      DW_BLOCK_ROW(11)
      DW_BLOCK_ROW(12)
      DW_BLOCK_ROW(13)
      DW_BLOCK_ROW(14)
      DW_BLOCK_ROW(15)
      DW_BLOCK_ROW(16)
    }
#undef DW_BLOCK_ROW
  }
}

/* The rows of a channel block for any window: four pixels of a row at a
 * time over the taps. */
__attribute__((target("avx512f"))) static void
dw_block_taps_avx512(const dw_problem *p, const dw_block *b,
                     const float *padded, int64_t taps, const __m512 wv[],
                     __m512 start, float *pixels) {
  int64_t tap_offset[kDwBlockMaxTaps];
  for (int64_t t = 0; t < taps; ++t)
    tap_offset[t] = ((t / p->kernel_w) * p->dilation_h * b->ext_w +
                     (t % p->kernel_w) * p->dilation_w) *
                    16;
  for (int64_t oy = 0; oy < p->out_h; ++oy) {
    const float *row = padded + oy * p->stride_h * b->ext_w * 16;
    float *dst = pixels + oy * p->out_w * 16;
    for (int64_t ox = 0; ox < p->out_w; ox += 4) {
      int nq = (int)min64(4, p->out_w - ox);
      __m512 acc[4];
      for (int q = 0; q < 4; ++q)
        acc[q] = start;
      for (int64_t t = 0; t < taps; ++t)
        for (int q = 0; q < 4; ++q)
          if (q < nq)
            acc[q] = _mm512_fmadd_ps(
                wv[t],
                _mm512_load_ps(row + (ox + q) * p->stride_w * 16 +
                               tap_offset[t]),
                acc[q]);
      for (int q = 0; q < nq; ++q)
        _mm512_store_ps(dst + (ox + q) * 16, acc[q]);
    }
  }
}

/* One block of `count` (<= 16) channels: planes in_g, w_g, out_g apart
 * (d and e: constant per channel with step 0, else contiguous planes
 * d_g, e_g apart, or NULL). `padded` (ext_h x ext_w x 16, zero outside the
 * input's rectangle, which this block overwrites) and `pixels` (out_h x
 * out_w x 16) are the thread's buffers. */
AVX512_ATTRS static void
dw_block_avx512(const dw_problem *p, const dw_block *b, int64_t count,
                const float *in, int64_t in_g, const float *w, int64_t w_g,
                float *out, int64_t out_g, const float *d, int64_t d_g,
                int64_t d_step, const float *e, int64_t e_g, int64_t e_step,
                int accumulate, int clamp, float lo, float hi, float *padded,
                float *pixels) {
  const __mmask16 live = lanes(count);
  const __m512i channel =
      _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  /* In: 16 channels x 16 pixels at a time, transposed. */
  int64_t plane = b->in_height * b->in_width;
  for (int64_t f = 0; f < plane; f += 16) {
    __mmask16 m = lanes(plane - f);
    __m512 r[16];
    for (int c = 0; c < 16; ++c)
      r[c] = c < count ? _mm512_maskz_loadu_ps(m, in + c * in_g + f)
                       : _mm512_setzero_ps();
    transpose16_avx512(r);
    for (int k = 0; k < 16; ++k) {
      int64_t px = f + kTransposeColumn[k];
      if (px < plane && b->where[px] >= 0)
        _mm512_store_ps(padded + (int64_t)b->where[px] * 16, r[k]);
    }
  }
  /* The taps' weights and the addends constant per channel, as vectors. */
  int64_t taps = p->kernel_h * p->kernel_w;
  __m512 wv[kDwBlockMaxTaps];
  for (int64_t t = 0; t < taps; ++t) {
    int64_t at = (t / p->kernel_w) * p->w_h + (t % p->kernel_w) * p->w_w;
    __m512i index = _mm512_add_epi32(
        _mm512_mullo_epi32(channel, _mm512_set1_epi32((int)w_g)),
        _mm512_set1_epi32((int)at));
    wv[t] = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), live, index, w, 4);
  }
  __m512 start = _mm512_setzero_ps();
  if (d && !d_step)
    start = _mm512_add_ps(
        start,
        _mm512_mask_i32gather_ps(
            _mm512_setzero_ps(), live,
            _mm512_mullo_epi32(channel, _mm512_set1_epi32((int)d_g)), d, 4));
  if (e && !e_step)
    start = _mm512_add_ps(
        start,
        _mm512_mask_i32gather_ps(
            _mm512_setzero_ps(), live,
            _mm512_mullo_epi32(channel, _mm512_set1_epi32((int)e_g)), e, 4));
  if (dw_block_rows_apply(p)) {
    dw_block_rows_avx512(padded, b->ext_w * 16, p->out_h, p->out_w, p->stride_w,
                         wv, start, pixels);
  } else {
    dw_block_taps_avx512(p, b, padded, taps, wv, start, pixels);
  }
  /* Out: 16 pixels x 16 channels at a time, transposed, with the rest of
   * the epilogue. */
  const __m512 vlo = _mm512_set1_ps(lo), vhi = _mm512_set1_ps(hi);
  int64_t outputs = p->out_h * p->out_w;
  for (int64_t f = 0; f < outputs; f += 16) {
    __mmask16 m = lanes(outputs - f);
    __m512 r[16];
    for (int k = 0; k < 16; ++k)
      r[k] = f + k < outputs ? _mm512_load_ps(pixels + (f + k) * 16)
                             : _mm512_setzero_ps();
    transpose16_avx512(r);
    for (int k = 0; k < 16; ++k) {
      int64_t c = kTransposeColumn[k];
      if (c >= count)
        continue;
      finish_store_avx512(out + c * out_g + f, m, r[k], accumulate,
                          d && d_step ? d + c * d_g + f : NULL, 1,
                          e && e_step ? e + c * e_g + f : NULL, 1, clamp, vlo,
                          vhi);
    }
  }
}

static void sdwconv2d(kiln_isa requested, KILN_SDWCONV2D_ARGS) {
  (void)in_allocated, (void)w_allocated, (void)out_allocated, (void)d_allocated,
      (void)e_allocated;
  (void)in_zero, (void)w_zero, (void)out_zero, (void)d_zero, (void)e_zero;
  const float *d = addends & 1 ? d_aligned + d_offset : NULL;
  const float *e = addends & 2 ? e_aligned + e_offset : NULL;
  int clamp = lo > -__builtin_inff() || hi < __builtin_inff();
  /* Rows take the epilogue along when they are contiguous and so are the
   * addends (or constant along them). */
  int rows_fuse = out_ow == 1 && in_channels > 0 &&
                  (!d || d_ow == 0 || d_ow == 1) &&
                  (!e || e_ow == 0 || e_ow == 1);
  kiln_isa isa = kiln_ukernel_resolve_isa(requested);
  dw_row_fn row = dw_rows[isa];
  /* The extent of the padded input the windows cover. With implicit
   * padding the AVX-512 3 x 3 plane kernel reads the unpadded rows through
   * masked windows; the other kernels read each run of rows as a
   * zero-padded copy of its input rows (`stride` floats per row, a vector
   * of slack) in a buffer of their thread, which stays in cache. Either
   * way no padded tensor goes through memory. */
  int64_t extent_h = (out_h - 1) * stride_h + (kernel_h - 1) * dilation_h + 1;
  int64_t extent_w = (out_w - 1) * stride_w + (kernel_w - 1) * dilation_w + 1;
  int implicit =
      out_h > 0 && out_w > 0 &&
      (pad_top > 0 || pad_left > 0 || extent_h > pad_top + in_height ||
       extent_w > pad_left + in_width);
  int64_t stride = (extent_w + 16 + 15) / 16 * 16;
  /* The common depthwise layer (3 x 3, one channel per group, stride 1 or
   * 2) runs whole planes on the plane kernel. */
  int plane3x3 = rows_fuse && in_channels == 1 && kernel_h == 3 &&
                 kernel_w == 3 && dilation_h == 1 && dilation_w == 1 &&
                 (in_w == 1 || implicit) && (stride_w == 1 || stride_w == 2);
  /* The AVX-512 plane kernel reads contiguous unpadded rows itself. */
  int direct = implicit && plane3x3 && isa == KILN_ISA_AVX512 && in_w == 1 &&
               out_w <= 64 * 16;
  dw_problem p = {out_h,    out_w,      kernel_h,   kernel_w, stride_h,
                  stride_w, dilation_h, dilation_w, in_h,     in_w,
                  w_h,      w_w,        out_oh,     out_ow};
  /* The problem on a thread's padded copy: rows `stride` apart. */
  dw_problem copied = p;
  copied.in_h = stride;
  copied.in_w = 1;
  const float *input = in_aligned + in_offset, *weights = w_aligned + w_offset;
  float *output = out_aligned + out_offset;
  /* Planes of one channel each, contiguous, of at most kDwBlockMaxPixels
   * (with the padding): 16 channels a vector, through a transposed copy.
   * Any window takes it for rows of at most 8 outputs (which would fill
   * half a vector or less); 3 x 3 windows at stride 1 or 2 take it at any
   * width up to that size. One thread, in cache, against the plane
   * kernels: MobileNetV2's 7x7 layers 41 -> 21 us, 14x14 93 -> 37 us,
   * 28x28 97 -> 41 us, 56x56 (144 channels) 251 -> 131 us. */
  int64_t padded_pixels = extent_h * extent_w;
  int blocked =
      isa == KILN_ISA_AVX512 && in_channels == 1 && out_channels == 1 &&
      groups >= 16 && (out_w <= 8 || dw_block_rows_apply(&p)) &&
      padded_pixels <= kDwBlockMaxPixels &&
      in_height * in_width <= kDwBlockMaxPixels &&
      kernel_h * kernel_w <= kDwBlockMaxTaps && in_w == 1 && in_h == in_width &&
      out_ow == 1 && out_oh == out_w &&
      (!d || (d_ow == 0 && d_oh == 0) || (d_ow == 1 && d_oh == out_w)) &&
      (!e || (e_ow == 0 && e_oh == 0) || (e_ow == 1 && e_oh == out_w)) &&
      groups * in_g < (1LL << 31) && groups * w_g < (1LL << 31);
  if (blocked) {
    int32_t where[kDwBlockMaxPixels];
    for (int64_t y = 0; y < in_height; ++y)
      for (int64_t x = 0; x < in_width; ++x) {
        int64_t py = y + pad_top, px = x + pad_left;
        where[y * in_width + x] =
            py < extent_h && px < extent_w ? (int32_t)(py * extent_w + px) : -1;
      }
    dw_block b = {in_height, in_width, extent_w, where};
    int64_t blocks = ceil_div(groups, 16), work_blocks = batch * blocks;
    int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    if (work_blocks < 2 * threads ||
        work_blocks * 16 * out_h * out_w * kernel_h * kernel_w < 32768)
      threads = 1;
#pragma omp parallel num_threads(threads) if (threads > 1)
    {
      float *padded =
          kiln_buffer_alloc((size_t)(padded_pixels * 16) * sizeof(float));
      float *pixels =
          kiln_buffer_alloc((size_t)(out_h * out_w * 16) * sizeof(float));
      memset(padded, 0, (size_t)(padded_pixels * 16) * sizeof(float));
      int64_t begin, end;
      split_range(work_blocks, omp_get_num_threads(), omp_get_thread_num(),
                  &begin, &end);
      for (int64_t item = begin; item < end; ++item) {
        int64_t n = item / blocks, g0 = (item % blocks) * 16;
        int64_t count = min64(16, groups - g0);
        dw_block_avx512(&p, &b, count, input + n * in_n + g0 * in_g, in_g,
                        weights + g0 * w_g, w_g,
                        output + n * out_n + g0 * out_g, out_g,
                        d ? d + n * d_n + g0 * d_g : NULL, d_g, d ? d_ow : 0,
                        e ? e + n * e_n + g0 * e_g : NULL, e_g, e ? e_ow : 0,
                        accumulate, clamp, lo, hi, padded, pixels);
      }
      kiln_buffer_free(padded);
      kiln_buffer_free(pixels);
    }
    return;
  }
  /* Work items: (n, g, m, c, output row); c is summed, so it stays inside. */
  int64_t planes = batch * groups * out_channels, work = planes * out_h;
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  /* Below ~32k multiply-adds a second thread costs more than it saves. */
  if (work < 2 * threads ||
      work * out_w * kernel_h * kernel_w * in_channels < 32768)
    threads = 1;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    /* Each thread takes a contiguous range of items and steps through it
     * with counters: a division per row would cost as much as a short row. */
    int64_t begin, end;
    split_range(work, omp_get_num_threads(), omp_get_thread_num(), &begin,
                &end);
    float *scratch = NULL;
    if (implicit && !direct && begin < end)
      scratch = kiln_buffer_alloc((size_t)(in_channels * extent_h * stride) *
                                  sizeof(float));
    int64_t plane = begin / out_h, oh = begin % out_h;
    int64_t m = plane % out_channels, g = (plane / out_channels) % groups,
            n = plane / (out_channels * groups);
    for (int64_t item = begin; item < end;) {
      /* The rows of this plane in the range. */
      int64_t rows = min64(end - item, out_h - oh);
      /* Where these rows read, and the first row they write: the padded
       * copy of their input rows counts from output row `first`. */
      const dw_problem *q_problem = &p;
      const float *in_base = input + n * in_n + g * in_g;
      int64_t plane_n = in_n, plane_g = in_g, plane_c = in_c, first = 0;
      if (implicit && !direct) {
        int64_t r0 = oh * stride_h;
        int64_t r1 =
            (oh + rows - 1) * stride_h + (kernel_h - 1) * dilation_h + 1;
        copy_window(scratch, stride, r1 - r0, in_base, in_channels, in_c, in_h,
                    in_w, r0 - pad_top, -pad_left, stride, in_height, in_width);
        q_problem = &copied;
        in_base = scratch;
        plane_n = plane_g = 0;
        plane_c = (r1 - r0) * stride;
        first = oh;
      }
      if (plane3x3) {
        dw_plane q = {in_base,
                      weights + g * w_g + m * w_m,
                      output + n * out_n + g * out_g + m * out_m +
                          first * out_oh,
                      d ? d + n * d_n + g * d_g + m * d_m + first * d_oh : NULL,
                      e ? e + n * e_n + g * e_g + m * e_m + first * e_oh : NULL,
                      d_oh,
                      e_oh,
                      d_ow,
                      e_ow,
                      accumulate != 0,
                      clamp,
                      lo,
                      hi,
                      direct,
                      in_height,
                      in_width,
                      pad_top,
                      pad_left};
        dw3x3_planes[isa](q_problem, &q, oh - first, oh - first + rows);
      } else {
        const float *in_item = implicit ? scratch : input;
        for (int64_t r = 0; r < rows; ++r)
          dw_item(q_problem, row, in_item, weights, output + first * out_oh, n,
                  g, m, oh - first + r, in_channels, plane_n, plane_g, plane_c,
                  w_g, w_m, w_c, out_n, out_g, out_m, out_oh, out_ow,
                  d ? d + first * d_oh : NULL, e ? e + first * e_oh : NULL, d_n,
                  d_g, d_m, d_oh, d_ow, e_n, e_g, e_m, e_oh, e_ow, accumulate,
                  rows_fuse, clamp, lo, hi);
      }
      item += rows;
      oh += rows;
      if (oh == out_h) {
        oh = 0;
        if (++m == out_channels) {
          m = 0;
          if (++g == groups)
            g = 0, ++n;
        }
      }
    }
    kiln_buffer_free(scratch);
  }
}

#define DEFINE_ENTRY_POINTS(suffix, isa)                                       \
  KILN_EXPORT void kiln_ukernel_sgemm_##suffix(KILN_SGEMM_ARGS) {              \
    sgemm(isa, batch0, batch1, m, n, k, a_allocated, a_aligned, a_zero,        \
          a_offset, a_batch0, a_batch1, a_m, a_k, b_allocated, b_aligned,      \
          b_zero, b_offset, b_batch0, b_batch1, b_k, b_n, c_allocated,         \
          c_aligned, c_zero, c_offset, c_batch0, c_batch1, c_m, c_n,           \
          GEMM_EPILOGUE_NAMES);                                                \
  }                                                                            \
  KILN_EXPORT void kiln_ukernel_sgemm_packed_##suffix(                         \
      KILN_SGEMM_PACKED_ARGS) {                                                \
    sgemm_packed(isa, batch0, batch1, m, n, k, a_allocated, a_aligned, a_zero, \
                 a_offset, a_batch0, a_batch1, a_m, a_k, b_allocated,          \
                 b_aligned, b_zero, b_offset, b_panel_width, c_allocated,      \
                 c_aligned, c_zero, c_offset, c_batch0, c_batch1, c_m, c_n,    \
                 GEMM_EPILOGUE_NAMES);                                         \
  }                                                                            \
  KILN_EXPORT void kiln_ukernel_sconv2d_##suffix(KILN_SCONV2D_ARGS) {          \
    sconv2d(isa, batch, groups, out_channels, in_channels, out_h, out_w,       \
            kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w,    \
            in_allocated, in_aligned, in_zero, in_offset, in_n, in_g, in_c,    \
            in_h, in_w, w_allocated, w_aligned, w_zero, w_offset, w_g, w_m,    \
            w_c, w_h, w_w, out_allocated, out_aligned, out_zero, out_offset,   \
            out_n, out_g, out_m, out_oh, out_ow, CONV_EPILOGUE_NAMES);         \
  }                                                                            \
  KILN_EXPORT void kiln_ukernel_sconv2d_packed_##suffix(                       \
      KILN_SCONV2D_PACKED_ARGS) {                                              \
    sconv2d_packed(isa, batch, groups, out_channels, in_channels, out_h,       \
                   out_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h,  \
                   dilation_w, in_allocated, in_aligned, in_zero, in_offset,   \
                   in_n, in_g, in_c, in_h, in_w, w_allocated, w_aligned,       \
                   w_zero, w_offset, w_panel_height, out_allocated,            \
                   out_aligned, out_zero, out_offset, out_n, out_g, out_m,     \
                   out_oh, out_ow, CONV_EPILOGUE_NAMES);                       \
  }                                                                            \
  KILN_EXPORT void kiln_ukernel_sconv2d_direct_##suffix(                       \
      KILN_SCONV2D_DIRECT_ARGS) {                                              \
    sconv2d_direct(isa, batch, groups, out_channels, in_channels, out_h,       \
                   out_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h,  \
                   dilation_w, in_allocated, in_aligned, in_zero, in_offset,   \
                   in_n, in_g, in_c, in_h, in_w, w_allocated, w_aligned,       \
                   w_zero, w_offset, w_panel_height, out_allocated,            \
                   out_aligned, out_zero, out_offset, out_n, out_g, out_m,     \
                   out_oh, out_ow, CONV_EPILOGUE_NAMES, in_height, in_width,   \
                   pad_top, pad_left);                                         \
  }                                                                            \
  KILN_EXPORT void kiln_ukernel_sdwconv2d_##suffix(KILN_SDWCONV2D_ARGS) {      \
    sdwconv2d(isa, batch, groups, out_channels, in_channels, out_h, out_w,     \
              kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w,  \
              in_allocated, in_aligned, in_zero, in_offset, in_n, in_g, in_c,  \
              in_h, in_w, w_allocated, w_aligned, w_zero, w_offset, w_g, w_m,  \
              w_c, w_h, w_w, out_allocated, out_aligned, out_zero, out_offset, \
              out_n, out_g, out_m, out_oh, out_ow, CONV_EPILOGUE_NAMES,        \
              in_height, in_width, pad_top, pad_left);                         \
  }

DEFINE_ENTRY_POINTS(avx512, KILN_ISA_AVX512)
DEFINE_ENTRY_POINTS(avx2, KILN_ISA_AVX2)
DEFINE_ENTRY_POINTS(generic, KILN_ISA_GENERIC)
