/*===- sgemm_sparse.c - f32 products with a block-sparse constant B --------===*
 *
 * C (+)= A * B where B is a constant weight that is mostly zero in blocks of
 * 1 x 16 (one k row of a 16-column panel): a pruned layer's weights, or
 * weights trained sparse. The compiler keeps only the nonzero blocks
 * (kiln-cpu-lower-ukernels), so the multiply-adds and the weight bytes
 * both shrink with the share of zero blocks; the dense kernel would
 * multiply the zeros too.
 *
 * B's packing (see KILN_SGEMM_SPARSE_ARGS): for the panels of 16 columns,
 * int32 offsets [n / 16 + 1] into the block list, then the k of each block
 * (int32), and the f32 values of each block ([blocks][16], zero-padded past
 * n).
 *
 * A register tile is MR rows by one panel (AVX-512: 16 zmm accumulators;
 * AVX2: 6 rows as ymm pairs; generic: 4): per nonzero block, its vector of
 * weights is loaded once and multiplied into every row with a broadcast of
 * A. A is first copied into row tiles of [k][MR] (zero rows past m), so
 * those broadcasts read one cache line per k. Threads split the panels.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln_ukernels.h"
#include "ukernel_common.h"

#include <omp.h>

#define KILN_EXPORT __attribute__((visibility("default")))

typedef float v16f __attribute__((vector_size(64), aligned(4)));

/* Columns per panel, the block width. */
enum { kPanel = 16 };
/* The widest row tile (AVX-512's). */
enum { kMaxRows = 16 };

typedef struct sparse_problem {
  int64_t m, n, k;
  const float *a;
  int64_t a_m, a_k;
  const int32_t *offsets, *rows;
  const float *values;
  float *c;
  int64_t c_m, c_n;
  /* The epilogue: the old output, addends d and e, the clamp. */
  int accumulate, clamp;
  const float *d, *e;
  int64_t d_m, d_n, e_m, e_n;
  float lo, hi;
} sparse_problem;

/* Rows [i0, i0 + rows) of A as [k][width] (width >= rows, zeros past
 * them) into `dst`. */
static void pack_rows(const sparse_problem *p, int64_t i0, int64_t rows,
                      int64_t width, float *restrict dst) {
  for (int64_t kk = 0; kk < p->k; ++kk) {
    const float *src = p->a + i0 * p->a_m + kk * p->a_k;
    float *to = dst + kk * width;
    for (int64_t r = 0; r < rows; ++r)
      to[r] = src[r * p->a_m];
    for (int64_t r = rows; r < width; ++r)
      to[r] = 0.0f;
  }
}

/* The rows of the last row tile rounded up to a tile the kernels have
 * (1, 2, 4, 8 or the full `MR`), so a decoder's single row is not
 * multiplied as sixteen. */
static inline int64_t tail_width(int64_t rows, int64_t MR) {
  for (int64_t w = 1; w < MR; w *= 2)
    if (rows <= w)
      return w;
  return MR;
}

/* The epilogue and store of row i's 16 (cols real) values from column j0. */
__attribute__((always_inline)) static inline void
store_row(const sparse_problem *p, int64_t i, int64_t j0, int64_t cols,
          v16f v) {
  float values[kPanel];
  float *crow = p->c + i * p->c_m + j0 * p->c_n;
  const float *drow = p->d ? p->d + i * p->d_m + j0 * p->d_n : NULL;
  const float *erow = p->e ? p->e + i * p->e_m + j0 * p->e_n : NULL;
  if (cols == kPanel && p->c_n == 1 && (!drow || p->d_n <= 1) &&
      (!erow || p->e_n <= 1)) {
    /* A whole contiguous row of the panel: vectors. */
    v16f t;
    if (p->accumulate) {
      __builtin_memcpy(&t, crow, sizeof(t));
      v += t;
    }
    if (drow && p->d_n) {
      __builtin_memcpy(&t, drow, sizeof(t));
      v += t;
    } else if (drow) {
      v += *drow;
    }
    if (erow && p->e_n) {
      __builtin_memcpy(&t, erow, sizeof(t));
      v += t;
    } else if (erow) {
      v += *erow;
    }
    __builtin_memcpy(values, &v, sizeof(values));
    if (p->clamp)
      for (int j = 0; j < kPanel; ++j) {
        float x = values[j];
        x = x < p->lo ? p->lo : x;
        values[j] = x > p->hi ? p->hi : x;
      }
    __builtin_memcpy(crow, values, sizeof(values));
    return;
  }
  __builtin_memcpy(values, &v, sizeof(values));
  for (int64_t j = 0; j < cols; ++j) {
    float x = values[j];
    if (p->accumulate)
      x += crow[j * p->c_n];
    if (drow)
      x += drow[j * p->d_n];
    if (erow)
      x += erow[j * p->e_n];
    /* max(lo, x) and min(hi, x) keep a NaN. */
    if (p->clamp) {
      x = x < p->lo ? p->lo : x;
      x = x > p->hi ? p->hi : x;
    }
    crow[j * p->c_n] = x;
  }
}

/* One MR x 16 tile: rows [i0, i0 + MR) (those below m real) of A packed
 * as [k][MR] at `pa`, panel q. MR is a constant where this is inlined. */
__attribute__((always_inline)) static inline void
sparse_tile(const sparse_problem *p, const float *pa, int MR, int64_t i0,
            int64_t q) {
  v16f acc[kMaxRows];
  for (int r = 0; r < MR; ++r)
    acc[r] = (v16f){0};
  for (int32_t b = p->offsets[q]; b < p->offsets[q + 1]; ++b) {
    v16f w;
    __builtin_memcpy(&w, p->values + (int64_t)b * kPanel, sizeof(w));
    const float *x = pa + (int64_t)p->rows[b] * MR;
    for (int r = 0; r < MR; ++r)
      acc[r] += x[r] * w;
  }
  int64_t j0 = q * kPanel;
  int64_t rows = min64(MR, p->m - i0), cols = min64(kPanel, p->n - j0);
  for (int64_t r = 0; r < rows; ++r)
    store_row(p, i0 + r, j0, cols, acc[r]);
}

/* Panels [q0, q1) of the product on `isa`'s tiles of MR rows: whole tiles,
 * then the last rows as a tile of tail_width. A is packed tile by tile,
 * each tile MR * k floats after the previous one. */
#define DEFINE_SPARSE_RANGE(isa, attrs, MR)                                    \
  attrs static void sparse_range_##isa(                                        \
      const sparse_problem *p, const float *pa, int64_t q0, int64_t q1) {      \
    int64_t full = p->m / MR, rest = p->m - full * MR;                         \
    int64_t width = tail_width(rest, MR);                                      \
    const float *last = pa + full * MR * p->k;                                 \
    for (int64_t q = q0; q < q1; ++q) {                                        \
      for (int64_t t = 0; t < full; ++t)                                       \
        sparse_tile(p, pa + t * MR * p->k, MR, t * MR, q);                     \
      /* Constant tile widths, so the sums stay in registers. */               \
      if (rest == 0)                                                           \
        continue;                                                              \
      if (width == 1)                                                          \
        sparse_tile(p, last, 1, full * MR, q);                                 \
      else if (width == 2)                                                     \
        sparse_tile(p, last, 2, full * MR, q);                                 \
      else if (width == 4)                                                     \
        sparse_tile(p, last, 4, full * MR, q);                                 \
      else if (width == 8)                                                     \
        sparse_tile(p, last, 8, full * MR, q);                                 \
      else                                                                     \
        sparse_tile(p, last, MR, full * MR, q);                                \
    }                                                                          \
  }

DEFINE_SPARSE_RANGE(avx512,
                    __attribute__((target("avx512f"), min_vector_width(512))),
                    16)
DEFINE_SPARSE_RANGE(avx2, __attribute__((target("avx2,fma"))), 6)
DEFINE_SPARSE_RANGE(generic, , 4)

typedef void (*sparse_range_fn)(const sparse_problem *, const float *, int64_t,
                                int64_t);

static void run_sparse(kiln_isa requested, int64_t batch0, int64_t batch1,
                       sparse_problem base, int64_t a_batch0, int64_t a_batch1,
                       int64_t c_batch0, int64_t c_batch1, int64_t d_batch0,
                       int64_t d_batch1, int64_t e_batch0, int64_t e_batch1) {
  kiln_isa isa = kiln_ukernel_resolve_isa(requested);
  sparse_range_fn range = isa == KILN_ISA_AVX512 ? sparse_range_avx512
                          : isa == KILN_ISA_AVX2 ? sparse_range_avx2
                                                 : sparse_range_generic;
  int MR = isa == KILN_ISA_AVX512 ? 16 : isa == KILN_ISA_AVX2 ? 6 : 4;
  int64_t panels = ceil_div(base.n, kPanel), tiles = ceil_div(base.m, MR);
  int64_t blocks = base.offsets[panels];
  float *pa = kiln_buffer_alloc((size_t)(tiles * base.k * MR) * sizeof(float));
  if (!pa)
    return;
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  /* Some thousands of multiply-add vectors per thread at least: below
   * that the fork costs more than it saves. */
  if (blocks * tiles < 1024 * threads || panels < 2 * threads)
    threads = 1;
  for (int64_t b0 = 0; b0 < batch0; ++b0)
    for (int64_t b1 = 0; b1 < batch1; ++b1) {
      sparse_problem p = base;
      p.a += b0 * a_batch0 + b1 * a_batch1;
      p.c += b0 * c_batch0 + b1 * c_batch1;
      if (p.d)
        p.d += b0 * d_batch0 + b1 * d_batch1;
      if (p.e)
        p.e += b0 * e_batch0 + b1 * e_batch1;
#pragma omp parallel num_threads(threads) if (threads > 1)
      {
        int id = omp_get_thread_num(), count = omp_get_num_threads();
        int64_t begin, end;
        split_range(tiles, count, id, &begin, &end);
        for (int64_t t = begin; t < end; ++t) {
          int64_t rows = min64(MR, p.m - t * MR);
          pack_rows(&p, t * MR, rows, rows == MR ? MR : tail_width(rows, MR),
                    pa + t * p.k * MR);
        }
#pragma omp barrier
        split_range(panels, count, id, &begin, &end);
        if (begin < end)
          range(&p, pa, begin, end);
      }
    }
  kiln_buffer_free(pa);
}

#define DEFINE_SPARSE_ENTRY(isa, ISA)                                          \
  KILN_EXPORT void kiln_ukernel_sgemm_sparse_##isa(KILN_SGEMM_SPARSE_ARGS) {   \
    (void)a_allocated, (void)a_zero, (void)b_index_allocated,                  \
        (void)b_index_zero, (void)b_allocated, (void)b_zero,                   \
        (void)c_allocated, (void)c_zero, (void)d_allocated, (void)d_zero,      \
        (void)e_allocated, (void)e_zero;                                       \
    if (m <= 0 || n <= 0 || batch0 <= 0 || batch1 <= 0)                        \
      return;                                                                  \
    const int32_t *index = b_index_aligned + b_index_offset;                   \
    sparse_problem p = {m,                                                     \
                        n,                                                     \
                        k,                                                     \
                        a_aligned + a_offset,                                  \
                        a_m,                                                   \
                        a_k,                                                   \
                        index,                                                 \
                        index + ceil_div(n, kPanel) + 1,                       \
                        b_aligned + b_offset,                                  \
                        c_aligned + c_offset,                                  \
                        c_m,                                                   \
                        c_n,                                                   \
                        (int)accumulate,                                       \
                        lo > -__builtin_inff() || hi < __builtin_inff(),       \
                        addends & 1 ? d_aligned + d_offset : NULL,             \
                        addends & 2 ? e_aligned + e_offset : NULL,             \
                        d_m,                                                   \
                        d_n,                                                   \
                        e_m,                                                   \
                        e_n,                                                   \
                        lo,                                                    \
                        hi};                                                   \
    run_sparse(ISA, batch0, batch1, p, a_batch0, a_batch1, c_batch0, c_batch1, \
               d_batch0, d_batch1, e_batch0, e_batch1);                        \
  }

DEFINE_SPARSE_ENTRY(avx512, KILN_ISA_AVX512)
DEFINE_SPARSE_ENTRY(avx2, KILN_ISA_AVX2)
DEFINE_SPARSE_ENTRY(generic, KILN_ISA_GENERIC)
