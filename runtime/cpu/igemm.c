/*===- igemm.c - exact int8 GEMM microkernels ------------------------------===*
 *
 * C (+)= A * B for 8-bit A and B (each signed or unsigned) with int32 C,
 * bit-exact: every product and every sum is an integer, none saturates.
 *
 * The hardware multiplies unsigned by signed bytes (VPDPBUSD sums four
 * u8 x s8 products into an int32 lane), so the AVX-512 VNNI and generic
 * kernels normalize the operands while packing them: A' = A ^ 0x80 when A is
 * signed (A = A' - 128), B' = B ^ 0x80 when B is unsigned (B = B' + 128).
 * With sa = "A signed" and ub = "B unsigned", per K block of depth kc
 *
 *   sum A B = sum A'B' + 128 ub rowsum(A') - 128 sa colsum(B')
 *             - 128 * 128 kc sa ub,
 *
 * Zero points za, zb that are one value each join the same terms: with
 * alpha = 128 sa + za and beta = zb - 128 ub (A - za = A' - alpha, B - zb =
 * B' - beta),
 *
 *   sum (A - za)(B - zb) = sum A'B' - beta rowsum(A') - alpha colsum(B')
 *                          + kc alpha beta,
 *
 * and the packers append those terms to the panels: each A panel ends with
 * one int32 per row (the rowsum and constant terms), each B panel with one
 * per column (the colsum term). The tile store adds both. Padding is zero in
 * the normalized domain, so padded k contribute nothing to A'B' nor to the
 * sums, and the constant term uses the block's true depth. The terms are
 * exact in int32 wrap-around arithmetic, since the true result fits. (The
 * AVX2 pairs kernel multiplies true values: sa = ub = 0 there; its
 * VPMADDUBSW kernels take 7-bit values, a B stored signed or, swapped, an A
 * stored signed times a B stored unsigned.) Zero points that
 * vary per row or column, and products on the few-row path, are corrected
 * after the product instead, from the row sums of A and column sums of B.
 *
 * Packed layouts, in 32-bit units (one unit = one row or column at 4 k):
 *   bytes (VNNI, generic): a panel of width W is [kc / 4][W][4] bytes, then
 *     W int32 terms. A VNNI B panel (W = 32) gives 16 columns x 4 k per
 *     64-byte load; an A panel row's 4 bytes are one int32 broadcast.
 *   pairs (AVX2): [kc / 2][W][2] int16 holding the true values sign- or
 *     zero-extended, then W zero terms. VPMADDWD sums two int16 products
 *     into an int32 lane exactly; VPMADDUBSW would saturate at 16 bits.
 * Register tiles: VNNI 8 x 32 (16 zmm accumulators), AVX2 6 x 16 (12 ymm),
 * generic 4 x 16. The VNNI and AVX2 kernels convert C in registers in the
 * last K block (dequantized f32, a bias and residual sum, or requantized
 * bytes: tile_out); the generic one through a tile buffer.
 *
 * The driver blocks like gemm.c's: for each column block and K block the
 * threads pack the B block together (shared), then each packs its own row
 * blocks of A and runs its cell of an M x N grid of threads; many batches
 * go one batch per thread instead. Products of at most 4 rows with
 * contiguous B and C rows skip packing: a row kernel reads B in place.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln_ukernels.h"
#include "ukernel_avx512.h"
#include "ukernel_common.h"

#include <cpuid.h>
#include <immintrin.h>
#include <omp.h>

#define KILN_EXPORT __attribute__((visibility("default")))

/* A packed 32-bit unit, read where it was written as bytes or int16. */
typedef int32_t unit_t __attribute__((may_alias));

/* How a microkernel that converts in registers stores a tile: the int32
 * sum times scale[j] (times row_scale[i] when not NULL), plus offset[j] and
 * row_offset[i] and the residual's element (its rows residual_rs apart,
 * through max(r, 0) with residual_relu) where not NULL, as f32; requantized,
 * that clamped to [lo, hi], rounded to the nearest integer (ties to even)
 * and stored as one byte. With accumulate the int32 sum of the earlier K
 * blocks is read from `partial` (rows partial_rs apart) when not NULL, else
 * from C. */
typedef struct tile_out {
  const float *scale, *row_scale, *offset, *row_offset, *residual;
  int64_t residual_rs;
  int residual_relu;
  const int32_t *partial;
  int64_t partial_rs;
  int requant;
  float lo, hi;
} tile_out;

/* A microkernel: C[r][j] (+)= the product of an A panel's first ROWS rows
 * (ROWS fixed per kernel) and a B panel's columns, plus the A panel's terms
 * (after its units) and the B terms `bt` (after the B panel's units, or
 * computed apart for a B the compiler packed),
 * over `groups` packed units of k; stores columns j < nv (the kernel's
 * width or fewer), rows `rs` elements apart: int32, or as `out` says (only
 * kernels with `scales` take one). */
typedef void (*micro_fn)(int64_t groups, const unit_t *a, const unit_t *at,
                         const unit_t *b, const unit_t *bt, void *c, int64_t rs,
                         int64_t nv, int accumulate, const tile_out *out);

/* How a packer stores one operand. Elements are u8 when `is_unsigned`; the
 * bytes format stores them as u8 when `stored_unsigned` (A) or as s8 (B),
 * flipping the top bit where those differ. The terms after the panel are
 * scale * (sum over k of the stored values) + bias * kc. */
typedef struct pack_mode {
  int is_unsigned, stored_unsigned;
  int32_t scale, bias;
} pack_mode;

/* Packs `valid` (<= width) rows or columns of an operand, element (w, k) at
 * src[w * s_w + k * s_k], into a panel of `width` for k < kc, zero-padded,
 * followed by its terms. */
typedef void (*pack_fn)(unit_t *dst, int64_t width, int64_t valid, int64_t kc,
                        const int8_t *src, int64_t s_w, int64_t s_k,
                        const pack_mode *mode);

/*===----------------------------------------------------------------------===*
 * Microkernels.
 *===----------------------------------------------------------------------===*/

/* The VNNI kernel for the first ROWS rows of an 8-row A panel (all 8, or
 * fewer for a product's last rows) over HALVES x 16 columns of a 32-wide B
 * panel (16 when at most 16 columns are left). Columns past nv are computed
 * but neither read nor written in C. */
#define DEFINE_MICRO_VNNI(name, ROWS, HALVES)                                  \
  __attribute__((target("avx512f,avx512bw,avx512vnni"))) static void name(     \
      int64_t groups, const unit_t *restrict a, const unit_t *restrict at,     \
      const unit_t *restrict b, const unit_t *restrict bt, void *restrict c,   \
      int64_t rs, int64_t nv, int accumulate, const tile_out *restrict out) {  \
    __m512i acc[ROWS][HALVES];                                                 \
    for (int i = 0; i < ROWS; ++i)                                             \
      for (int h = 0; h < HALVES; ++h)                                         \
        acc[i][h] = _mm512_setzero_si512();                                    \
    for (int64_t g = 0; g < groups; ++g) {                                     \
      __m512i bv[HALVES];                                                      \
      for (int h = 0; h < HALVES; ++h)                                         \
        bv[h] = _mm512_loadu_si512(b + 16 * h);                                \
      for (int i = 0; i < ROWS; ++i) {                                         \
        __m512i ai = _mm512_set1_epi32(a[i]);                                  \
        for (int h = 0; h < HALVES; ++h)                                       \
          acc[i][h] = _mm512_dpbusd_epi32(acc[i][h], ai, bv[h]);               \
      }                                                                        \
      a += 8;                                                                  \
      b += 32;                                                                 \
    }                                                                          \
    /* at: the A panel's row terms. */                                         \
    __m512i terms[HALVES];                                                     \
    __mmask16 mask[HALVES];                                                    \
    for (int h = 0; h < HALVES; ++h) {                                         \
      terms[h] = _mm512_loadu_si512(bt + 16 * h);                              \
      mask[h] = lanes(nv - 16 * h);                                            \
    }                                                                          \
    int requant = out && out->requant;                                         \
    for (int i = 0; i < ROWS; ++i) {                                           \
      int32_t *row = (int32_t *)c + i * rs;                                    \
      int8_t *bytes = (int8_t *)c + i * rs;                                    \
      const int32_t *earlier =                                                 \
          out && out->partial ? out->partial + i * out->partial_rs : row;      \
      __m512i ri = _mm512_set1_epi32(at[i]);                                   \
      for (int h = 0; h < HALVES; ++h) {                                       \
        __m512i x =                                                            \
            _mm512_add_epi32(acc[i][h], _mm512_add_epi32(terms[h], ri));       \
        if (accumulate)                                                        \
          x = _mm512_add_epi32(                                                \
              x, _mm512_maskz_loadu_epi32(mask[h], earlier + 16 * h));         \
        if (!out) {                                                            \
          _mm512_mask_storeu_epi32(row + 16 * h, mask[h], x);                  \
          continue;                                                            \
        }                                                                      \
        /* The exact sum in f32 times the column scales (and the row's). */    \
        __m512 y = _mm512_mul_ps(                                              \
            _mm512_cvtepi32_ps(x),                                             \
            _mm512_maskz_loadu_ps(mask[h], out->scale + 16 * h));              \
        if (out->row_scale)                                                    \
          y = _mm512_mul_ps(y, _mm512_set1_ps(out->row_scale[i]));             \
        if (out->offset)                                                       \
          y = _mm512_add_ps(                                                   \
              y, _mm512_maskz_loadu_ps(mask[h], out->offset + 16 * h));        \
        if (out->row_offset)                                                   \
          y = _mm512_add_ps(y, _mm512_set1_ps(out->row_offset[i]));            \
        if (out->residual) {                                                   \
          __m512 r = _mm512_maskz_loadu_ps(                                    \
              mask[h], out->residual + i * out->residual_rs + 16 * h);         \
          if (out->residual_relu)                                              \
            r = _mm512_max_ps(r, _mm512_setzero_ps());                         \
          y = _mm512_add_ps(y, r);                                             \
        }                                                                      \
        if (!requant) {                                                        \
          _mm512_mask_storeu_ps((float *)row + 16 * h, mask[h], y);            \
          continue;                                                            \
        }                                                                      \
        /* Requantized: clamped, rounded, one byte each. */                    \
        y = _mm512_min_ps(_mm512_max_ps(y, _mm512_set1_ps(out->lo)),           \
                          _mm512_set1_ps(out->hi));                            \
        _mm512_mask_cvtepi32_storeu_epi8(bytes + 16 * h, mask[h],              \
                                         _mm512_cvtps_epi32(y));               \
      }                                                                        \
    }                                                                          \
  }

DEFINE_MICRO_VNNI(micro_vnni_1, 1, 2)
DEFINE_MICRO_VNNI(micro_vnni_2, 2, 2)
DEFINE_MICRO_VNNI(micro_vnni_3, 3, 2)
DEFINE_MICRO_VNNI(micro_vnni_4, 4, 2)
DEFINE_MICRO_VNNI(micro_vnni_5, 5, 2)
DEFINE_MICRO_VNNI(micro_vnni_6, 6, 2)
DEFINE_MICRO_VNNI(micro_vnni_7, 7, 2)
DEFINE_MICRO_VNNI(micro_vnni_8, 8, 2)
DEFINE_MICRO_VNNI(micro_vnni_n1, 1, 1)
DEFINE_MICRO_VNNI(micro_vnni_n2, 2, 1)
DEFINE_MICRO_VNNI(micro_vnni_n3, 3, 1)
DEFINE_MICRO_VNNI(micro_vnni_n4, 4, 1)
DEFINE_MICRO_VNNI(micro_vnni_n5, 5, 1)
DEFINE_MICRO_VNNI(micro_vnni_n6, 6, 1)
DEFINE_MICRO_VNNI(micro_vnni_n7, 7, 1)
DEFINE_MICRO_VNNI(micro_vnni_n8, 8, 1)

/* The first n (<= 8, or none) lanes of an AVX2 vector, as a mask. */
__attribute__((target("avx2"))) static inline __m256i lanes8(int64_t n) {
  return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n < 0 ? 0 : n)),
                            _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* The store of both AVX2 kernels: rows of 16 int32 accumulators plus the
 * A panel's row terms (at `a`) and the B terms `bt`, the first nv columns
 * stored (added to C's, or `out`'s partial sums, with accumulate), rows
 * `rs` elements apart: int32, or converted as `out` says (see tile_out). */
__attribute__((target("avx2"), always_inline)) static inline void
store_avx2_tile(__m256i (*acc)[2], int rows, const unit_t *a, const unit_t *bt,
                void *c, int64_t rs, int64_t nv, int accumulate,
                const tile_out *out) {
  __m256i t[2] = {_mm256_loadu_si256((const __m256i *)bt),
                  _mm256_loadu_si256((const __m256i *)(bt + 8))};
  __m256i mask[2] = {lanes8(nv), lanes8(nv - 8)};
  for (int i = 0; i < rows; ++i) {
    int32_t *row = (int32_t *)c + i * rs;
    __m256i ri = _mm256_set1_epi32(a[i]);
    __m256i x[2];
    for (int h = 0; h < 2; ++h)
      x[h] = _mm256_add_epi32(acc[i][h], _mm256_add_epi32(t[h], ri));
    if (!out && nv == 16) {
      if (accumulate)
        for (int h = 0; h < 2; ++h)
          x[h] = _mm256_add_epi32(x[h],
                                  _mm256_loadu_si256((__m256i *)(row + 8 * h)));
      for (int h = 0; h < 2; ++h)
        _mm256_storeu_si256((__m256i *)(row + 8 * h), x[h]);
      continue;
    }
    const int32_t *earlier =
        out && out->partial ? out->partial + i * out->partial_rs : row;
    for (int h = 0; h < 2; ++h) {
      if (accumulate)
        x[h] = _mm256_add_epi32(
            x[h], _mm256_maskload_epi32(earlier + 8 * h, mask[h]));
      if (!out) {
        _mm256_maskstore_epi32(row + 8 * h, mask[h], x[h]);
        continue;
      }
      /* Converted as the VNNI kernel does (see tile_out). */
      __m256 y = _mm256_mul_ps(_mm256_cvtepi32_ps(x[h]),
                               _mm256_maskload_ps(out->scale + 8 * h, mask[h]));
      if (out->row_scale)
        y = _mm256_mul_ps(y, _mm256_set1_ps(out->row_scale[i]));
      if (out->offset)
        y = _mm256_add_ps(y, _mm256_maskload_ps(out->offset + 8 * h, mask[h]));
      if (out->row_offset)
        y = _mm256_add_ps(y, _mm256_set1_ps(out->row_offset[i]));
      if (out->residual) {
        __m256 r = _mm256_maskload_ps(
            out->residual + i * out->residual_rs + 8 * h, mask[h]);
        if (out->residual_relu)
          r = _mm256_max_ps(r, _mm256_setzero_ps());
        y = _mm256_add_ps(y, r);
      }
      if (!out->requant) {
        _mm256_maskstore_ps((float *)row + 8 * h, mask[h], y);
        continue;
      }
      y = _mm256_min_ps(_mm256_max_ps(y, _mm256_set1_ps(out->lo)),
                        _mm256_set1_ps(out->hi));
      int32_t q[8];
      _mm256_storeu_si256((__m256i *)q, _mm256_cvtps_epi32(y));
      int8_t *bytes = (int8_t *)c + i * rs + 8 * h;
      for (int64_t k = 0; k < 8 && k < nv - 8 * h; ++k)
        bytes[k] = (int8_t)q[k];
    }
  }
}

/* The AVX2 kernel for the first ROWS rows of a 6-row A panel over 16
 * columns, on int16 pairs: VPMADDWD then VPADDD per accumulator. Its terms
 * are zero, but added all the same: one contract for every kernel. */
#define DEFINE_MICRO_AVX2(name, ROWS)                                          \
  __attribute__((target("avx2,fma"))) static void name(                        \
      int64_t groups, const unit_t *restrict a, const unit_t *restrict at,     \
      const unit_t *restrict b, const unit_t *restrict bt, void *restrict c,   \
      int64_t rs, int64_t nv, int accumulate, const tile_out *out) {           \
    __m256i acc[ROWS][2];                                                      \
    for (int i = 0; i < ROWS; ++i)                                             \
      acc[i][0] = acc[i][1] = _mm256_setzero_si256();                          \
    for (int64_t g = 0; g < groups; ++g) {                                     \
      __m256i b0 = _mm256_loadu_si256((const __m256i *)b);                     \
      __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 8));               \
      for (int i = 0; i < ROWS; ++i) {                                         \
        __m256i ai = _mm256_set1_epi32(a[i]);                                  \
        acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(ai, b0));    \
        acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(ai, b1));    \
      }                                                                        \
      a += 6;                                                                  \
      b += 16;                                                                 \
    }                                                                          \
    store_avx2_tile(acc, ROWS, at, bt, c, rs, nv, accumulate, out);            \
  }

DEFINE_MICRO_AVX2(micro_avx2_1, 1)
DEFINE_MICRO_AVX2(micro_avx2_2, 2)
DEFINE_MICRO_AVX2(micro_avx2_3, 3)
DEFINE_MICRO_AVX2(micro_avx2_4, 4)
DEFINE_MICRO_AVX2(micro_avx2_5, 5)
DEFINE_MICRO_AVX2(micro_avx2_6, 6)

/* The AVX2 kernel on the bytes format for a B whose stored values lie in
 * [-64, 64] (the compiler packed it so: 7-bit weights), first ROWS rows of a
 * 6-row A panel over 16 columns: VPMADDUBSW multiplies u8 x s8 into int16
 * pairs, which cannot saturate at that range (2 x 255 x 64 < 2^15), then
 * VPMADDWD with ones sums the pairs into int32 lanes: 32 multiply-adds per
 * three instructions where the int16 route takes four. */
#define DEFINE_MICRO_AVX2_NARROW(name, ROWS, MADDUBS)                          \
  __attribute__((target("avx2,fma"))) static void name(                        \
      int64_t groups, const unit_t *restrict a, const unit_t *restrict at,     \
      const unit_t *restrict b, const unit_t *restrict bt, void *restrict c,   \
      int64_t rs, int64_t nv, int accumulate, const tile_out *out) {           \
    const __m256i ones = _mm256_set1_epi16(1);                                 \
    __m256i acc[ROWS][2];                                                      \
    for (int i = 0; i < ROWS; ++i)                                             \
      acc[i][0] = acc[i][1] = _mm256_setzero_si256();                          \
    for (int64_t g = 0; g < groups; ++g) {                                     \
      __m256i b0 = _mm256_loadu_si256((const __m256i *)b);                     \
      __m256i b1 = _mm256_loadu_si256((const __m256i *)(b + 8));               \
      for (int i = 0; i < ROWS; ++i) {                                         \
        __m256i ai = _mm256_set1_epi32(a[i]);                                  \
        acc[i][0] = _mm256_add_epi32(                                          \
            acc[i][0], _mm256_madd_epi16(MADDUBS(ai, b0), ones));              \
        acc[i][1] = _mm256_add_epi32(                                          \
            acc[i][1], _mm256_madd_epi16(MADDUBS(ai, b1), ones));              \
      }                                                                        \
      a += 6;                                                                  \
      b += 16;                                                                 \
    }                                                                          \
    store_avx2_tile(acc, ROWS, at, bt, c, rs, nv, accumulate, out);            \
  }

/* VPMADDUBSW with A's bytes the unsigned operand (B 7-bit), or B's
 * (A 7-bit: a convolution's weights times its u8 windows). */
#define A_UNSIGNED(a, b) _mm256_maddubs_epi16(a, b)
#define B_UNSIGNED(a, b) _mm256_maddubs_epi16(b, a)
DEFINE_MICRO_AVX2_NARROW(micro_avx2n_1, 1, A_UNSIGNED)
DEFINE_MICRO_AVX2_NARROW(micro_avx2n_2, 2, A_UNSIGNED)
DEFINE_MICRO_AVX2_NARROW(micro_avx2n_3, 3, A_UNSIGNED)
DEFINE_MICRO_AVX2_NARROW(micro_avx2n_4, 4, A_UNSIGNED)
DEFINE_MICRO_AVX2_NARROW(micro_avx2n_5, 5, A_UNSIGNED)
DEFINE_MICRO_AVX2_NARROW(micro_avx2n_6, 6, A_UNSIGNED)
DEFINE_MICRO_AVX2_NARROW(micro_avx2l_1, 1, B_UNSIGNED)
DEFINE_MICRO_AVX2_NARROW(micro_avx2l_2, 2, B_UNSIGNED)
DEFINE_MICRO_AVX2_NARROW(micro_avx2l_3, 3, B_UNSIGNED)
DEFINE_MICRO_AVX2_NARROW(micro_avx2l_4, 4, B_UNSIGNED)
DEFINE_MICRO_AVX2_NARROW(micro_avx2l_5, 5, B_UNSIGNED)
DEFINE_MICRO_AVX2_NARROW(micro_avx2l_6, 6, B_UNSIGNED)

/* The generic kernel for the first ROWS rows of a 4-row A panel over 16
 * columns, on the bytes format: the VNNI kernel's arithmetic in C. Sums
 * wrap as the vector kernels' do (unsigned arithmetic, no overflow). */
#define DEFINE_MICRO_GENERIC(name, ROWS)                                       \
  static void name(int64_t groups, const unit_t *restrict a,                   \
                   const unit_t *restrict at, const unit_t *restrict b,        \
                   const unit_t *restrict bt, void *restrict out_c,            \
                   int64_t rs, int64_t nv, int accumulate,                     \
                   const tile_out *out) {                                      \
    (void)out; /* converted through the tile buffer */                         \
    int32_t *c = out_c;                                                        \
    int32_t acc[ROWS][16] = {{0}};                                             \
    for (int64_t g = 0; g < groups; ++g) {                                     \
      const uint8_t *ab = (const uint8_t *)a;                                  \
      const int8_t *bb = (const int8_t *)b;                                    \
      for (int i = 0; i < ROWS; ++i)                                           \
        for (int j = 0; j < 16; ++j)                                           \
          acc[i][j] += ab[4 * i] * bb[4 * j] + ab[4 * i + 1] * bb[4 * j + 1] + \
                       ab[4 * i + 2] * bb[4 * j + 2] +                         \
                       ab[4 * i + 3] * bb[4 * j + 3];                          \
      a += 4;                                                                  \
      b += 16;                                                                 \
    }                                                                          \
    for (int i = 0; i < ROWS; ++i)                                             \
      for (int64_t j = 0; j < nv; ++j) {                                       \
        uint32_t x = (uint32_t)acc[i][j] + (uint32_t)at[i] + (uint32_t)bt[j];  \
        if (accumulate)                                                        \
          x += (uint32_t)c[i * rs + j];                                        \
        c[i * rs + j] = (int32_t)x;                                            \
      }                                                                        \
  }

DEFINE_MICRO_GENERIC(micro_generic_1, 1)
DEFINE_MICRO_GENERIC(micro_generic_2, 2)
DEFINE_MICRO_GENERIC(micro_generic_3, 3)
DEFINE_MICRO_GENERIC(micro_generic_4, 4)

/*===----------------------------------------------------------------------===*
 * Packing.
 *===----------------------------------------------------------------------===*/

/* Writes the terms after a panel of `width` from the sums of its stored
 * values (NULL: all sums zero). */
static void write_terms(unit_t *terms, int64_t width, int64_t kc,
                        const int32_t *sums, const pack_mode *mode) {
  for (int64_t w = 0; w < width; ++w)
    terms[w] =
        (int32_t)((uint32_t)mode->scale * (uint32_t)(sums ? sums[w] : 0) +
                  (uint32_t)mode->bias * (uint32_t)kc);
}

/* The bytes format in C, for any strides. */
static void pack_bytes_generic(unit_t *dst, int64_t width, int64_t valid,
                               int64_t kc, const int8_t *src, int64_t s_w,
                               int64_t s_k, const pack_mode *mode) {
  uint8_t *out = (uint8_t *)dst;
  int64_t groups = ceil_div(kc, 4);
  uint8_t flip = mode->is_unsigned != mode->stored_unsigned ? 0x80 : 0;
  int32_t sums[32];
  for (int64_t w = 0; w < width; ++w) {
    int32_t sum = 0;
    const int8_t *from = src + w * s_w;
    for (int64_t q = 0; q < 4 * groups; ++q) {
      uint8_t v = w < valid && q < kc ? (uint8_t)from[q * s_k] ^ flip : 0;
      out[((q / 4) * width + w) * 4 + q % 4] = v;
      sum += mode->stored_unsigned ? (int32_t)v : (int32_t)(int8_t)v;
    }
    sums[w] = sum;
  }
  write_terms(dst + groups * width, width, kc, sums, mode);
}

/* Per-lane sums of the four stored bytes of each 32-bit lane, added to
 * `acc`: u8 bytes times 1, or 1 times s8 bytes (pairs of at most 510 in
 * magnitude, no saturation). */
__attribute__((target("avx2"))) static inline __m256i
add_lane_sums(__m256i acc, __m256i v, int stored_unsigned) {
  const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
  __m256i pairs = stored_unsigned ? _mm256_maddubs_epi16(v, ones8)
                                  : _mm256_maddubs_epi16(ones8, v);
  return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones16));
}

/* A full panel of 32 columns contiguous in memory (a row-major B): each
 * quad of k rows interleaved into [32][4] bytes in registers. */
__attribute__((target("avx2"))) static void
pack_bytes_columns32(unit_t *dst, int64_t kc, const int8_t *src, int64_t s_k,
                     const pack_mode *mode) {
  int64_t groups = ceil_div(kc, 4);
  int flip = mode->is_unsigned != mode->stored_unsigned;
  int sums = mode->scale != 0;
  const __m256i flipv = _mm256_set1_epi8(flip ? (char)0x80 : 0);
  __m256i acc[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256(), _mm256_setzero_si256()};
  for (int64_t g = 0; g < groups; ++g) {
    __m256i r[4];
    for (int t = 0; t < 4; ++t) {
      int64_t q = 4 * g + t;
      r[t] = q < kc ? _mm256_xor_si256(
                          _mm256_loadu_si256((const __m256i *)(src + q * s_k)),
                          flipv)
                    : _mm256_setzero_si256();
    }
    /* Bytes of rows 0/1 and 2/3 interleaved, then 16-bit pairs of those:
     * u0 = columns 0-3 | 16-19, u1 = 4-7 | 20-23, u2 = 8-11 | 24-27,
     * u3 = 12-15 | 28-31, each column's 4 k adjacent. */
    __m256i t0 = _mm256_unpacklo_epi8(r[0], r[1]);
    __m256i t1 = _mm256_unpackhi_epi8(r[0], r[1]);
    __m256i t2 = _mm256_unpacklo_epi8(r[2], r[3]);
    __m256i t3 = _mm256_unpackhi_epi8(r[2], r[3]);
    __m256i u0 = _mm256_unpacklo_epi16(t0, t2);
    __m256i u1 = _mm256_unpackhi_epi16(t0, t2);
    __m256i u2 = _mm256_unpacklo_epi16(t1, t3);
    __m256i u3 = _mm256_unpackhi_epi16(t1, t3);
    __m256i out[4] = {_mm256_permute2x128_si256(u0, u1, 0x20),
                      _mm256_permute2x128_si256(u2, u3, 0x20),
                      _mm256_permute2x128_si256(u0, u1, 0x31),
                      _mm256_permute2x128_si256(u2, u3, 0x31)};
    for (int v = 0; v < 4; ++v) {
      _mm256_storeu_si256((__m256i *)(dst + g * 32 + 8 * v), out[v]);
      if (sums)
        acc[v] = add_lane_sums(acc[v], out[v], mode->stored_unsigned);
    }
  }
  int32_t lane_sums[32];
  for (int v = 0; v < 4; ++v)
    _mm256_storeu_si256((__m256i *)(lane_sums + 8 * v), acc[v]);
  write_terms(dst + groups * 32, 32, kc, lane_sums, mode);
}

/* 8 rows contiguous along k (a row-major A panel, 8 columns of a transposed
 * B), written at `dst` (units of the first row) in a panel of `width`:
 * 8 x 8 blocks of 32-bit units transposed in registers, the last k (fewer
 * than 32) one by one. Adds the rows' sums to `sums`. */
__attribute__((target("avx2"))) static void
pack_bytes_rows8(unit_t *dst, int64_t width, int64_t kc, const int8_t *src,
                 int64_t s_w, const pack_mode *mode, int32_t *sums) {
  int flip = mode->is_unsigned != mode->stored_unsigned;
  const __m256i flipv = _mm256_set1_epi8(flip ? (char)0x80 : 0);
  __m256i acc = _mm256_setzero_si256();
  int64_t q = 0;
  for (; q + 32 <= kc; q += 32) {
    __m256i r[8], t[8], u[8];
    for (int w = 0; w < 8; ++w)
      r[w] = _mm256_xor_si256(
          _mm256_loadu_si256((const __m256i *)(src + w * s_w + q)), flipv);
    for (int w = 0; w < 8; w += 2) {
      t[w] = _mm256_unpacklo_epi32(r[w], r[w + 1]);
      t[w + 1] = _mm256_unpackhi_epi32(r[w], r[w + 1]);
    }
    /* u[4h + v]: units v and v + 4 of rows 4h .. 4h + 3. */
    for (int h = 0; h < 2; ++h) {
      u[4 * h + 0] = _mm256_unpacklo_epi64(t[4 * h], t[4 * h + 2]);
      u[4 * h + 1] = _mm256_unpackhi_epi64(t[4 * h], t[4 * h + 2]);
      u[4 * h + 2] = _mm256_unpacklo_epi64(t[4 * h + 1], t[4 * h + 3]);
      u[4 * h + 3] = _mm256_unpackhi_epi64(t[4 * h + 1], t[4 * h + 3]);
    }
    for (int v = 0; v < 4; ++v) {
      __m256i lo = _mm256_permute2x128_si256(u[v], u[4 + v], 0x20);
      __m256i hi = _mm256_permute2x128_si256(u[v], u[4 + v], 0x31);
      _mm256_storeu_si256((__m256i *)(dst + (q / 4 + v) * width), lo);
      _mm256_storeu_si256((__m256i *)(dst + (q / 4 + v + 4) * width), hi);
      if (mode->scale) {
        acc = add_lane_sums(acc, lo, mode->stored_unsigned);
        acc = add_lane_sums(acc, hi, mode->stored_unsigned);
      }
    }
  }
  int32_t lane_sums[8];
  _mm256_storeu_si256((__m256i *)lane_sums, acc);
  uint8_t flip_byte = flip ? 0x80 : 0;
  for (int w = 0; w < 8; ++w) {
    uint8_t *out = (uint8_t *)dst + 4 * w;
    for (int64_t qq = q; qq < 4 * ceil_div(kc, 4); ++qq) {
      uint8_t v = qq < kc ? (uint8_t)src[w * s_w + qq] ^ flip_byte : 0;
      out[(qq / 4) * width * 4 + qq % 4] = v;
      lane_sums[w] += mode->stored_unsigned ? (int32_t)v : (int32_t)(int8_t)v;
    }
    sums[w] += lane_sums[w];
  }
}

/* Rows contiguous along k of any panel width (an A panel of the AVX2
 * kernel's 6 rows, the last rows of a product): each row's k move as 32-bit
 * units, eight at a time, strided into the panel, their sums taken in
 * vector lanes; rows from `valid` on are zero. */
__attribute__((target("avx2"))) static void
pack_bytes_rows(unit_t *dst, int64_t width, int64_t valid, int64_t kc,
                const int8_t *src, int64_t s_w, const pack_mode *mode) {
  int flip = mode->is_unsigned != mode->stored_unsigned;
  const __m256i flipv = _mm256_set1_epi8(flip ? (char)0x80 : 0);
  uint8_t flip_byte = flip ? 0x80 : 0;
  int64_t groups = ceil_div(kc, 4);
  int32_t sums[32];
  for (int64_t w = 0; w < width; ++w) {
    if (w >= valid) {
      for (int64_t g = 0; g < groups; ++g)
        dst[g * width + w] = 0;
      sums[w] = 0;
      continue;
    }
    const int8_t *row = src + w * s_w;
    __m256i acc = _mm256_setzero_si256();
    int64_t q = 0;
    for (; q + 32 <= kc; q += 32) {
      __m256i v = _mm256_xor_si256(
          _mm256_loadu_si256((const __m256i *)(row + q)), flipv);
      if (mode->scale)
        acc = add_lane_sums(acc, v, mode->stored_unsigned);
      int32_t units[8];
      _mm256_storeu_si256((__m256i *)units, v);
      for (int u = 0; u < 8; ++u)
        dst[(q / 4 + u) * width + w] = units[u];
    }
    int32_t lane_sums[8];
    _mm256_storeu_si256((__m256i *)lane_sums, acc);
    int32_t sum = 0;
    for (int u = 0; u < 8; ++u)
      sum += lane_sums[u];
    for (; q < 4 * groups; q += 4) {
      uint8_t bytes[4];
      for (int t = 0; t < 4; ++t) {
        bytes[t] = q + t < kc ? (uint8_t)row[q + t] ^ flip_byte : 0;
        sum += mode->stored_unsigned ? (int32_t)bytes[t]
                                     : (int32_t)(int8_t)bytes[t];
      }
      uint8_t *out = (uint8_t *)(dst + (q / 4) * width + w);
      for (int t = 0; t < 4; ++t)
        out[t] = bytes[t];
    }
    sums[w] = sum;
  }
  write_terms(dst + groups * width, width, kc, sums, mode);
}

/* A full panel of 16 contiguous columns (B of the AVX2 kernels, rows
 * `s_k` apart) in the bytes format: pack_bytes_columns32 on 128-bit rows. */
__attribute__((target("avx2"))) static void
pack_bytes_columns16(unit_t *dst, int64_t kc, const int8_t *src, int64_t s_k,
                     const pack_mode *mode) {
  int64_t groups = ceil_div(kc, 4);
  int flip = mode->is_unsigned != mode->stored_unsigned;
  int sums = mode->scale != 0;
  const __m128i flipv = _mm_set1_epi8(flip ? (char)0x80 : 0);
  __m256i acc[2] = {_mm256_setzero_si256(), _mm256_setzero_si256()};
  for (int64_t g = 0; g < groups; ++g) {
    __m128i r[4];
    for (int t = 0; t < 4; ++t) {
      int64_t q = 4 * g + t;
      r[t] = q < kc
                 ? _mm_xor_si128(
                       _mm_loadu_si128((const __m128i *)(src + q * s_k)), flipv)
                 : _mm_setzero_si128();
    }
    /* Columns 0-3, 4-7, 8-11, 12-15, each column's 4 k adjacent. */
    __m128i t0 = _mm_unpacklo_epi8(r[0], r[1]);
    __m128i t1 = _mm_unpackhi_epi8(r[0], r[1]);
    __m128i t2 = _mm_unpacklo_epi8(r[2], r[3]);
    __m128i t3 = _mm_unpackhi_epi8(r[2], r[3]);
    __m256i out[2] = {_mm256_set_m128i(_mm_unpackhi_epi16(t0, t2),
                                       _mm_unpacklo_epi16(t0, t2)),
                      _mm256_set_m128i(_mm_unpackhi_epi16(t1, t3),
                                       _mm_unpacklo_epi16(t1, t3))};
    for (int v = 0; v < 2; ++v) {
      _mm256_storeu_si256((__m256i *)(dst + g * 16 + 8 * v), out[v]);
      if (sums)
        acc[v] = add_lane_sums(acc[v], out[v], mode->stored_unsigned);
    }
  }
  int32_t lane_sums[16];
  for (int v = 0; v < 2; ++v)
    _mm256_storeu_si256((__m256i *)(lane_sums + 8 * v), acc[v]);
  write_terms(dst + groups * 16, 16, kc, lane_sums, mode);
}

/* The bytes format with AVX2 shuffles for full panels whose rows or columns
 * are contiguous, else in C. */
__attribute__((target("avx2"))) static void
pack_bytes_avx2(unit_t *dst, int64_t width, int64_t valid, int64_t kc,
                const int8_t *src, int64_t s_w, int64_t s_k,
                const pack_mode *mode) {
  if (valid == width && width == 32 && s_w == 1) {
    pack_bytes_columns32(dst, kc, src, s_k, mode);
    return;
  }
  if (valid == width && width == 16 && s_w == 1) {
    pack_bytes_columns16(dst, kc, src, s_k, mode);
    return;
  }
  if (valid == width && width % 8 == 0 && s_k == 1) {
    int32_t sums[32] = {0};
    for (int64_t w = 0; w < width; w += 8)
      pack_bytes_rows8(dst + w, width, kc, src + w * s_w, s_w, mode, sums + w);
    write_terms(dst + ceil_div(kc, 4) * width, width, kc, sums, mode);
    return;
  }
  if (s_k == 1 && width <= 32) {
    pack_bytes_rows(dst, width, valid, kc, src, s_w, mode);
    return;
  }
  pack_bytes_generic(dst, width, valid, kc, src, s_w, s_k, mode);
}

/* The pairs format in C, for any strides. */
static void pack_pairs_generic(unit_t *dst, int64_t width, int64_t valid,
                               int64_t kc, const int8_t *src, int64_t s_w,
                               int64_t s_k, const pack_mode *mode) {
  int16_t *out = (int16_t *)dst;
  int64_t groups = ceil_div(kc, 2);
  int32_t sums[32];
  for (int64_t w = 0; w < width; ++w) {
    const int8_t *from = src + w * s_w;
    int32_t sum = 0;
    for (int64_t q = 0; q < 2 * groups; ++q) {
      int16_t v = 0;
      if (w < valid && q < kc)
        v = mode->is_unsigned ? (int16_t)(uint8_t)from[q * s_k]
                              : (int16_t)from[q * s_k];
      out[((q / 2) * width + w) * 2 + q % 2] = v;
      sum += v;
    }
    sums[w] = sum;
  }
  write_terms(dst + groups * width, width, kc, sums, mode);
}

/* The pairs format with AVX2 for a full panel of 16 contiguous columns (a
 * row-major B): two k rows' bytes interleaved, then widened to int16. */
__attribute__((target("avx2"))) static void
pack_pairs_avx2(unit_t *dst, int64_t width, int64_t valid, int64_t kc,
                const int8_t *src, int64_t s_w, int64_t s_k,
                const pack_mode *mode) {
  if (!(valid == width && width == 16 && s_w == 1)) {
    pack_pairs_generic(dst, width, valid, kc, src, s_w, s_k, mode);
    return;
  }
  int64_t groups = ceil_div(kc, 2);
  /* Column sums (for zero-point terms): each pair of a column summed. */
  const __m256i ones16 = _mm256_set1_epi16(1);
  __m256i sum_lo = _mm256_setzero_si256(), sum_hi = _mm256_setzero_si256();
  for (int64_t g = 0; g < groups; ++g) {
    __m128i r0 = _mm_loadu_si128((const __m128i *)(src + 2 * g * s_k));
    __m128i r1 =
        2 * g + 1 < kc
            ? _mm_loadu_si128((const __m128i *)(src + (2 * g + 1) * s_k))
            : _mm_setzero_si128();
    __m128i lo = _mm_unpacklo_epi8(r0, r1), hi = _mm_unpackhi_epi8(r0, r1);
    __m256i wlo =
        mode->is_unsigned ? _mm256_cvtepu8_epi16(lo) : _mm256_cvtepi8_epi16(lo);
    __m256i whi =
        mode->is_unsigned ? _mm256_cvtepu8_epi16(hi) : _mm256_cvtepi8_epi16(hi);
    _mm256_storeu_si256((__m256i *)(dst + g * 16), wlo);
    _mm256_storeu_si256((__m256i *)(dst + g * 16 + 8), whi);
    if (mode->scale) {
      sum_lo = _mm256_add_epi32(sum_lo, _mm256_madd_epi16(wlo, ones16));
      sum_hi = _mm256_add_epi32(sum_hi, _mm256_madd_epi16(whi, ones16));
    }
  }
  int32_t sums[16];
  _mm256_storeu_si256((__m256i *)sums, sum_lo);
  _mm256_storeu_si256((__m256i *)(sums + 8), sum_hi);
  write_terms(dst + groups * 16, 16, kc, sums, mode);
}

/*===----------------------------------------------------------------------===*
 * Kernels and the instruction set.
 *===----------------------------------------------------------------------===*/

/* A microkernel family, its packing and the cache blocks that suit it. */
typedef struct kernel {
  int64_t mr, nr;
  /* k per packed unit: 4 (bytes) or 2 (pairs). */
  int64_t depth;
  /* The packing of B it reads (kiln_igemm_format), and of A. */
  int64_t format, a_format;
  /* Whether A's bytes are stored signed and B's unsigned (the other way
   * round from the bytes format's usual roles). */
  int swapped;
  /* kc is a multiple of 4. */
  int64_t kc, mc, nc;
  /* Multiply-adds per vector instruction: the cost model's width. */
  int64_t macs;
  /* Whether the operands are normalized to u8 x s8 (with terms). */
  int normalized;
  /* Whether its microkernels convert C themselves (tile_out). */
  int scales;
  pack_fn pack;
  /* micro[r]: the kernel for r rows (1 <= r <= mr); narrow[r] for r rows
   * over the first nr / 2 columns, or none. */
  micro_fn micro[9], narrow[9];
} kernel;

static const kernel kernels[] = {
    [KILN_ISA_AVX512] = {.mr = 8,
                         .nr = 32,
                         .depth = 4,
                         .format = KILN_IGEMM_BYTES,
                         .a_format = KILN_IGEMM_BYTES,
                         .kc = 1024,
                         .mc = 192,
                         .nc = 1536,
                         .macs = 64,
                         .normalized = 1,
                         .scales = 1,
                         .pack = pack_bytes_avx2,
                         .micro = {NULL, micro_vnni_1, micro_vnni_2,
                                   micro_vnni_3, micro_vnni_4, micro_vnni_5,
                                   micro_vnni_6, micro_vnni_7, micro_vnni_8},
                         .narrow = {NULL, micro_vnni_n1, micro_vnni_n2,
                                    micro_vnni_n3, micro_vnni_n4, micro_vnni_n5,
                                    micro_vnni_n6, micro_vnni_n7,
                                    micro_vnni_n8}},
    [KILN_ISA_AVX2] = {.mr = 6,
                       .nr = 16,
                       .depth = 2,
                       .format = KILN_IGEMM_PAIRS,
                       .a_format = KILN_IGEMM_PAIRS,
                       .kc = 512,
                       .mc = 192,
                       .nc = 1024,
                       .macs = 16,
                       .normalized = 0,
                       .scales = 1,
                       .pack = pack_pairs_avx2,
                       .micro = {NULL, micro_avx2_1, micro_avx2_2, micro_avx2_3,
                                 micro_avx2_4, micro_avx2_5, micro_avx2_6}},
    [KILN_ISA_GENERIC] = {.mr = 4,
                          .nr = 16,
                          .depth = 4,
                          .format = KILN_IGEMM_BYTES,
                          .a_format = KILN_IGEMM_BYTES,
                          .kc = 256,
                          .mc = 64,
                          .nc = 512,
                          .macs = 4,
                          .normalized = 1,
                          .pack = pack_bytes_generic,
                          .micro = {NULL, micro_generic_1, micro_generic_2,
                                    micro_generic_3, micro_generic_4}},
};

/* The AVX2 kernel for a compiler-packed B of 7-bit values. */
static const kernel avx2_narrow_kernel = {
    .mr = 6,
    .nr = 16,
    .depth = 4,
    .format = KILN_IGEMM_NARROW_BYTES,
    .a_format = KILN_IGEMM_BYTES,
    .kc = 512,
    .mc = 192,
    .nc = 1024,
    .macs = 32,
    .normalized = 1,
    .scales = 1,
    .pack = pack_bytes_avx2,
    .micro = {NULL, micro_avx2n_1, micro_avx2n_2, micro_avx2n_3, micro_avx2n_4,
              micro_avx2n_5, micro_avx2n_6}};

/* The AVX2 kernel for a compiler-packed A of 7-bit signed values (a
 * convolution's weights) times an unsigned B: VPMADDUBSW with B's bytes the
 * unsigned operand. */
static const kernel avx2_narrow_lhs_kernel = {
    .mr = 6,
    .nr = 16,
    .depth = 4,
    .format = KILN_IGEMM_BYTES,
    .a_format = KILN_IGEMM_NARROW_SIGNED_BYTES,
    .swapped = 1,
    .kc = 512,
    .mc = 192,
    .nc = 1024,
    .macs = 32,
    .normalized = 0,
    .scales = 1,
    .pack = pack_bytes_avx2,
    .micro = {NULL, micro_avx2l_1, micro_avx2l_2, micro_avx2l_3, micro_avx2l_4,
              micro_avx2l_5, micro_avx2l_6}};

/* The kernel for `isa` and a compiler-packed B of `format` (-1: none): the
 * AVX2 kernel of 7-bit B when B was packed narrow for it. */
static const kernel *kernel_for(kiln_isa isa, int64_t format) {
  if (isa == KILN_ISA_AVX2 && format == KILN_IGEMM_NARROW_BYTES)
    return &avx2_narrow_kernel;
  return &kernels[isa];
}

/* The kernel for a compiler-packed A of `a_format` when one wants it (the
 * AVX2 kernel of 7-bit signed A, for an unsigned B), else kernel_for's. */
static const kernel *kernel_for_a(kiln_isa isa, int64_t a_format,
                                  int a_unsigned, int b_unsigned,
                                  int64_t b_format) {
  if (isa == KILN_ISA_AVX2 && a_format == KILN_IGEMM_NARROW_SIGNED_BYTES &&
      !a_unsigned && b_unsigned && b_format < 0)
    return &avx2_narrow_lhs_kernel;
  return kernel_for(isa, b_format);
}

/* Whether this processor has AVX-512 VNNI (and BW): CPUID leaf 7, on top of
 * the AVX-512 support (and OS state) kiln_ukernel_resolve_isa checks. */
static int detect_vnni(void) {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
    return 0;
  return ((ebx >> 30) & 1) && ((ecx >> 11) & 1);
}

/* The widest int8 kernel at most `requested` that this processor runs: the
 * AVX-512 kernel needs VNNI, else AVX2 serves. */
static kiln_isa resolve_isa(kiln_isa requested) {
  static int vnni = -1;
  kiln_isa isa = kiln_ukernel_resolve_isa(requested);
  if (isa != KILN_ISA_AVX512)
    return isa;
  if (vnni < 0)
    vnni = detect_vnni();
  return vnni ? KILN_ISA_AVX512 : KILN_ISA_AVX2;
}

/*===----------------------------------------------------------------------===*
 * The problem.
 *===----------------------------------------------------------------------===*/

/* A B that is a convolution's window matrix, read where it lies: element
 * (k, j), with k = (c * kh + i) * kw + jw and j = oh * ow + x, is
 * src[c * s_c + (oh * sh + i * dh) * s_h + (x * sw + jw * dw) * s_w] (the
 * problem's b plus its batch offset being src). */
typedef struct windows {
  int64_t s_c, s_h, s_w;
  int64_t kh, kw, sh, sw, dh, dw, ow;
} windows;

typedef struct problem {
  int64_t batch0, batch1, m, n, k;
  const int8_t *a, *b;
  int32_t *c;
  int64_t a_batch[2], b_batch[2], c_batch[2];
  int64_t a_m, a_k, b_k, b_n, c_m, c_n;
  int a_unsigned, b_unsigned, accumulate;
  /* Zero points of one value each, which the packed terms take (0 when
   * absent or when the correction pass takes them). */
  int32_t za, zb;
  /* B packed by the compiler for the kernel with this panel width, format
   * and K block (b_prepacked_nr 0: an ordinary matrix): see
   * kiln_ukernel_igemm_packed_*. */
  int64_t b_prepacked_nr, b_prepacked_format, b_prepacked_kc;
  /* A packed by the compiler (a_prepacked_mr 0: an ordinary matrix): see
   * KILN_IGEMM_ARGS. */
  int64_t a_prepacked_mr, a_prepacked_format, a_prepacked_kc;
  /* Dequantizing output (scale not NULL): C holds f32, element (i, j) the
   * product times scale[i * scale_m + j * scale_n] (one of the strides 0:
   * a scale per row, per column or one). */
  const float *scale;
  int64_t scale_m, scale_n;
  /* Requantizing output (requant != 0, with a scale): C holds bytes, at
   * `bytes` (c unused), element (i, j) the scaled product (and the sum
   * below), clamped to [lo, hi] and rounded to the nearest integer, ties
   * to even. Requantized or summed products over more than one K block
   * keep the earlier blocks' int32 sums in `partial` ([batch][m][n]). */
  int requant;
  int8_t *bytes;
  const float *offset;
  int64_t offset_m, offset_n;
  float lo, hi;
  int32_t *partial;
  /* A sum (offset or residual not NULL): before any requantization, the
   * product dequantized plus offset[i * offset_m + j * offset_n] and the
   * residual's element (i, j) of the batch (through max(r, 0) with
   * residual_relu). */
  const float *residual;
  int64_t residual_batch[2], residual_m, residual_n;
  int residual_relu;
  /* B read through a convolution's windows (b_k, b_n unused), or NULL. */
  const windows *bw;
} problem;

/* Operand bi (a batch index over batch0 x batch1) of a batch-strided base. */
static int64_t batch_offset(const problem *p, const int64_t strides[2],
                            int64_t bi) {
  return bi / p->batch1 * strides[0] + bi % p->batch1 * strides[1];
}

/* The packers' modes for A and B under kernel `kr`. */
static void pack_modes(const kernel *kr, const problem *p, pack_mode *a_mode,
                       pack_mode *b_mode) {
  int sa = kr->normalized && !p->a_unsigned;
  int ub = kr->normalized && p->b_unsigned;
  uint32_t alpha = 128u * (uint32_t)sa + (uint32_t)p->za;
  uint32_t beta = (uint32_t)p->zb - 128u * (uint32_t)ub;
  /* The swapped kernel stores A signed and B unsigned: it runs only on a
   * signed A and an unsigned B, which it stores as they are. */
  *a_mode = (pack_mode){p->a_unsigned, !kr->swapped, (int32_t)(0u - beta),
                        (int32_t)(alpha * beta)};
  *b_mode = (pack_mode){p->b_unsigned, kr->swapped, (int32_t)(0u - alpha), 0};
}

/*===----------------------------------------------------------------------===*
 * The blocked product.
 *===----------------------------------------------------------------------===*/

/* Units of one packed panel of `width` for a K block of kc: the groups,
 * then the terms. */
static int64_t panel_units(const kernel *kr, int64_t kc, int64_t width) {
  return ceil_div(kc, kr->depth) * width + width;
}

/* How `threads` threads share one product: a gm x gn grid over (rows in MR
 * units, columns in NR panels), the factorization of `threads` with the least
 * per-thread multiply-add and packing work. */
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
    double cost = rows * cols / (2.0 * kr->macs) + 0.25 * rows +
                  0.25 * cols * (double)(m - 1) / (double)m;
    if (best < 0 || cost < best * 0.999) {
      best = cost;
      *gm = m;
      *gn = n;
    }
  }
}

/* One thread's scratch: its A block and a tile for C's that are not stored
 * in place. */
typedef struct scratch {
  unit_t *apack;
  int32_t *tile;
  /* The B terms of a column block of a compiler-packed B (nc units). */
  unit_t *bterms;
  /* The column scales of a column block (nc) of a dequantized product,
   * then (requantized) its column offsets. */
  float *scales, *offsets;
  /* A panel's window elements gathered row by row (kc x nr bytes). */
  int8_t *gather;
  /* The row terms of a compiler-packed A block (mc). */
  unit_t *aterms;
} scratch;

/* Runs `body` for each q < kc with `from` the source of window row
 * k0 + q (element (k0 + q, 0)), stepping (c, i, jw) without divisions. */
#define FOR_WINDOW_ROWS(w, src, k0, kc, q, from, body)                         \
  do {                                                                         \
    int64_t window_ = (w)->kh * (w)->kw;                                       \
    int64_t c_ = (k0) / window_, i_ = (k0) % window_ / (w)->kw,                \
            j_ = (k0) % (w)->kw;                                               \
    for (int64_t q = 0; q < (kc); ++q) {                                       \
      const int8_t *from = (src) + c_ * (w)->s_c + i_ * (w)->dh * (w)->s_h +   \
                           j_ * (w)->dw * (w)->s_w;                            \
      body;                                                                    \
      if (++j_ == (w)->kw) {                                                   \
        j_ = 0;                                                                \
        if (++i_ == (w)->kh) {                                                 \
          i_ = 0;                                                              \
          ++c_;                                                                \
        }                                                                      \
      }                                                                        \
    }                                                                          \
  } while (0)

/* Gathers window rows into tmp ([kc][width]) run by run, zeros from
 * `valid` on. */
static void gather_runs(int8_t *tmp, int64_t width, int64_t valid, int64_t kc,
                        const int8_t *src, int64_t k0, const windows *w,
                        const int64_t *start, const int64_t *length,
                        const int64_t *offset, int64_t runs) {
  int64_t step = w->sw * w->s_w;
  FOR_WINDOW_ROWS(w, src, k0, kc, q, from, {
    int8_t *row = tmp + q * width;
    for (int64_t r = 0; r < runs; ++r)
      for (int64_t t = 0; t < length[r]; ++t)
        row[start[r] + t] = from[offset[r] + t * step];
    for (int64_t jj = valid; jj < width; ++jj)
      row[jj] = 0;
  });
}

/* The same for 32 columns with AVX-512: each run one masked load (lanes
 * outside the run are not read), one 32-byte store per row. */
__attribute__((target("avx512f,avx512bw,avx512vl"))) static void
gather_runs_avx512(int8_t *tmp, int64_t kc, const int8_t *src, int64_t k0,
                   const windows *w, const int64_t *start,
                   const int64_t *length, const int64_t *offset, int64_t runs) {
  __mmask32 masks[32];
  for (int64_t r = 0; r < runs; ++r)
    masks[r] = (__mmask32)((((uint64_t)1 << length[r]) - 1) << start[r]);
  FOR_WINDOW_ROWS(w, src, k0, kc, q, from, {
    __m256i row = _mm256_setzero_si256();
    for (int64_t r = 0; r < runs; ++r)
      row = _mm256_mask_loadu_epi8(row, masks[r], from + offset[r] - start[r]);
    _mm256_storeu_si256((__m256i *)(tmp + q * 32), row);
  });
}

/* Packs the panel of columns [j0, j0 + width) of a window-read B (the
 * columns from `valid` on lie past the product and are not stored; they
 * are gathered as zeros), K rows [k0, k0 + kc): each row's elements are
 * copied into `tmp` ([kc][width]) by runs of columns adjacent in memory,
 * then packed as a row-major matrix. */
static void pack_windows(const kernel *kr, unit_t *dst, int64_t width,
                         int64_t valid, int64_t kc, const int8_t *src,
                         int64_t k0, int64_t j0, const windows *w,
                         const pack_mode *mode, int8_t *tmp) {
  /* Column offsets, then runs of columns one element apart. */
  int64_t start[32], length[32], offset[32], runs = 0;
  int64_t step = w->sw * w->s_w;
  for (int64_t jj = 0; jj < valid; ++jj) {
    int64_t j = j0 + jj, oh = j / w->ow, x = j % w->ow;
    int64_t at = oh * w->sh * w->s_h + x * step;
    if (runs && step == 1 && offset[runs - 1] + length[runs - 1] == at &&
        start[runs - 1] + length[runs - 1] == jj) {
      ++length[runs - 1];
      continue;
    }
    start[runs] = jj;
    length[runs] = 1;
    offset[runs] = at;
    ++runs;
  }
  if (width == 32 && kr == &kernels[KILN_ISA_AVX512])
    gather_runs_avx512(tmp, kc, src, k0, w, start, length, offset, runs);
  else
    gather_runs(tmp, width, valid, kc, src, k0, w, start, length, offset, runs);
  /* All `width` columns count as valid: the gathered zeros make the fast
   * packers apply, and the columns past the product are never stored. */
  kr->pack(dst, width, width, kc, tmp, 1, width, mode);
}

/* A requantized value: y clamped to [lo, hi] (within +-2^22) and rounded
 * to the nearest integer, ties to even (adding and taking away 1.5 * 2^23
 * rounds so in the default rounding mode), as the byte stored. */
static inline int8_t requantize(float y, float lo, float hi) {
  y = y < lo ? lo : y > hi ? hi : y;
  return (int8_t)(int32_t)((y + 12582912.0f) - 12582912.0f);
}

/* Element (i, j) of `p`'s converted output before any requantization, from
 * the exact sum x: scaled, plus the offset and the residual's element (the
 * batch's residual at `residual`). */
static inline float converted(const problem *p, const float *residual,
                              int32_t x, int64_t i, int64_t j) {
  float y = (float)x * p->scale[i * p->scale_m + j * p->scale_n];
  if (p->offset)
    y = y + p->offset[i * p->offset_m + j * p->offset_n];
  if (residual) {
    float r = residual[i * p->residual_m + j * p->residual_n];
    y = y + (p->residual_relu && !(r > 0.0f) ? 0.0f : r);
  }
  return y;
}

/* Multiplies a packed A block (rows [mb, me), panels `a_stride` units
 * apart) by the packed B panels [p0, p1) of the column block starting at
 * `jc` into C, K block depth kc (`last`: the product's last K block, where a
 * dequantizing C gets f32 and a requantizing one its bytes; before it, a
 * product with `partial` sums into it). The A terms follow each panel,
 * or (a compiler-packed A) lie in `aterms`, one per row; the B terms follow
 * each panel, or (a compiler-packed B) lie in `bterms`, nr per panel. */
static void macro_kernel(const kernel *kr, const problem *p, int32_t *c,
                         int8_t *bytes, int32_t *partial, const float *residual,
                         const unit_t *apack, int64_t a_stride,
                         const unit_t *aterms, const unit_t *bpack,
                         int64_t panel_stride, const unit_t *bterms,
                         const scratch *s, int64_t kc, int64_t mb, int64_t me,
                         int64_t jc, int64_t ncur, int64_t p0, int64_t p1,
                         int accumulate, int last) {
  const int64_t mr = kr->mr, nr = kr->nr;
  int64_t groups = ceil_div(kc, kr->depth);
  int convert = p->scale && last, requant = p->requant && last;
  /* Factors that vary along both rows and columns go through the tile. */
  int separable = !(p->scale_m && p->scale_n) &&
                  !(p->offset && p->offset_m && p->offset_n) &&
                  (!residual || p->residual_n == 1);
  /* The column scales (and offsets) of this column block for kernels that
   * convert in registers, read a whole panel at a time. */
  tile_out out = {.requant = requant,
                  .residual_relu = p->residual_relu,
                  .lo = p->lo,
                  .hi = p->hi};
  if (convert && kr->scales) {
    for (int64_t q = p0 * nr; q < p1 * nr; ++q) {
      s->scales[q] = jc + q >= p->n ? 0.0f
                     : p->scale_n   ? p->scale[(jc + q) * p->scale_n]
                     : p->scale_m   ? 1.0f
                                    : p->scale[0];
      if (p->offset)
        s->offsets[q] = jc + q >= p->n ? 0.0f
                        : p->offset_n  ? p->offset[(jc + q) * p->offset_n]
                        : p->offset_m  ? 0.0f
                                       : p->offset[0];
    }
  }
  /* Factors and offsets per row: those of a tile's rows. */
  float row_factors[16], row_offsets[16];
  for (int64_t panel = p0; panel < p1; ++panel) {
    const unit_t *bp = bpack + panel * panel_stride;
    const unit_t *bt = bterms ? bterms + panel * nr : bp + groups * nr;
    int64_t j = jc + panel * nr, nv = min64(nr, ncur - panel * nr);
    for (int64_t i = mb; i < me; i += mr) {
      const unit_t *ap = apack + (i - mb) / mr * a_stride;
      const unit_t *at = aterms ? aterms + (i - mb) : ap + groups * mr;
      int64_t mv = min64(mr, me - i);
      micro_fn micro =
          2 * nv <= nr && kr->narrow[mv] ? kr->narrow[mv] : kr->micro[mv];
      if (partial && !last) {
        micro(groups, ap, at, bp, bt, partial + i * p->n + j, p->n, nv,
              accumulate, NULL);
        continue;
      }
      if (p->c_n == 1 && (!convert || (kr->scales && separable))) {
        const tile_out *o = NULL;
        if (convert) {
          out.scale = s->scales + (j - jc);
          out.row_scale = out.offset = out.row_offset = out.residual = NULL;
          if (p->scale_m) {
            for (int64_t r = 0; r < mv; ++r)
              row_factors[r] = p->scale[(i + r) * p->scale_m];
            out.row_scale = row_factors;
          }
          if (p->offset) {
            out.offset = s->offsets + (j - jc);
            if (p->offset_m) {
              for (int64_t r = 0; r < mv; ++r)
                row_offsets[r] = p->offset[(i + r) * p->offset_m];
              out.row_offset = row_offsets;
            }
          }
          if (residual) {
            out.residual = residual + i * p->residual_m + j;
            out.residual_rs = p->residual_m;
          }
          out.partial = partial && accumulate ? partial + i * p->n + j : NULL;
          out.partial_rs = p->n;
          o = &out;
        }
        void *target = requant ? (void *)(bytes + i * p->c_m + j)
                               : (void *)(c + i * p->c_m + j);
        micro(groups, ap, at, bp, bt, target, p->c_m, nv, accumulate, o);
        continue;
      }
      /* Columns apart in C, or converted by a kernel that does not: through
       * the tile buffer. In the last K block C (partial, requantized) holds
       * the int32 sum of the earlier ones when accumulating, and gets the
       * exact total, converted. */
      micro(groups, ap, at, bp, bt, s->tile, nr, nv, 0, NULL);
      for (int64_t ii = 0; ii < mv; ++ii) {
        int64_t r = i + ii;
        int32_t *row = requant ? NULL : c + r * p->c_m + j * p->c_n;
        const int32_t *from = s->tile + ii * nr;
        for (int64_t jj = 0; jj < nv; ++jj) {
          uint32_t x = (uint32_t)from[jj];
          if (accumulate)
            x += (uint32_t)(partial ? partial[r * p->n + j + jj]
                                    : row[jj * p->c_n]);
          if (!convert) {
            row[jj * p->c_n] = (int32_t)x;
            continue;
          }
          float y = converted(p, residual, (int32_t)x, r, j + jj);
          if (requant)
            bytes[r * p->c_m + (j + jj) * p->c_n] = requantize(y, p->lo, p->hi);
          else
            __builtin_memcpy(row + jj * p->c_n, &y, sizeof y);
        }
      }
    }
  }
}

/* The A block of rows [mb, me) for the K block at pc of depth kc: packed
 * now into the thread's scratch, or (a compiler-packed A) read in place
 * with its row terms computed from the packed sums. Sets the panel stride
 * and the terms (NULL: after each panel). */
static const unit_t *a_block(const kernel *kr, const problem *p,
                             const int8_t *a, const pack_mode *a_mode,
                             const scratch *s, int64_t mb, int64_t me,
                             int64_t pc, int64_t kc, int64_t *stride,
                             const unit_t **terms) {
  const int64_t mr = kr->mr;
  if (p->a_prepacked_mr) {
    const unit_t *packed = (const unit_t *)a;
    int64_t groups = ceil_div(p->k, kr->depth);
    int64_t rows = ceil_div(p->m, mr) * mr;
    const int32_t *sums = packed + rows * groups + pc / kr->kc * rows;
    for (int64_t r = mb; r < me; ++r)
      s->aterms[r - mb] =
          (int32_t)((uint32_t)a_mode->scale * (uint32_t)sums[r] +
                    (uint32_t)a_mode->bias * (uint32_t)kc);
    *stride = groups * mr;
    *terms = s->aterms;
    return packed + mb * groups + pc / kr->depth * mr;
  }
  int64_t a_panel = panel_units(kr, kc, mr);
  for (int64_t i = mb; i < me; i += mr)
    kr->pack(s->apack + (i - mb) / mr * a_panel, mr, min64(mr, me - i), kc,
             a + i * p->a_m + pc * p->a_k, p->a_m, p->a_k, a_mode);
  *stride = a_panel;
  *terms = NULL;
  return s->apack;
}

/* One batch of the product on `threads` threads of the enclosing parallel
 * region (thread `id`), or alone with threads == 1. For each (column block,
 * K block) the threads pack the B block together into the shared `bpack`,
 * then each packs its own rows of A and runs its cell of the gm x gn grid. */
static void gemm_batch(const kernel *kr, const problem *p, int64_t bi,
                       unit_t *bpack, const scratch *s, int id, int threads,
                       int64_t gm, int64_t gn) {
  const int8_t *a = p->a + batch_offset(p, p->a_batch, bi);
  const int8_t *b = p->b + batch_offset(p, p->b_batch, bi);
  int32_t *c = p->requant ? NULL : p->c + batch_offset(p, p->c_batch, bi);
  int8_t *bytes =
      p->requant ? p->bytes + batch_offset(p, p->c_batch, bi) : NULL;
  int32_t *partial = p->partial ? p->partial + bi * p->m * p->n : NULL;
  const float *residual =
      p->residual ? p->residual + batch_offset(p, p->residual_batch, bi) : NULL;
  pack_mode a_mode, b_mode;
  pack_modes(kr, p, &a_mode, &b_mode);
  const int64_t mr = kr->mr, nr = kr->nr;
  int64_t m_begin, m_end;
  split_range(ceil_div(p->m, mr), gm, id / gn, &m_begin, &m_end);
  m_begin *= mr;
  m_end = min64(m_end * mr, p->m);
  /* Panels sit a full K block apart whatever this block's depth: a thread
   * on the last (shorter) block never writes where another still reads. */
  int64_t panel_stride = panel_units(kr, kr->kc, nr);
  /* A compiler-packed B: panels over all of K, then the column sums. */
  const unit_t *prepacked = (const unit_t *)b;
  int64_t full_groups = ceil_div(p->k, kr->depth);
  const int32_t *colsums = prepacked + ceil_div(p->n, nr) * full_groups * nr;
  for (int64_t jc = 0; jc < p->n; jc += kr->nc) {
    int64_t ncur = min64(kr->nc, p->n - jc), panels = ceil_div(ncur, nr);
    int64_t p0, p1;
    split_range(panels, gn, id % gn, &p0, &p1);
    for (int64_t pc = 0; pc < p->k; pc += kr->kc) {
      int64_t kc = min64(kr->kc, p->k - pc);
      int accumulate = pc > 0 || p->accumulate;
      int last = pc + kc >= p->k;
      if (p->b_prepacked_nr) {
        /* Read in place; the terms of this thread's panels from the sums. */
        const int32_t *sums =
            colsums + pc / kr->kc * ceil_div(p->n, nr) * nr + jc;
        for (int64_t q = p0 * nr; q < p1 * nr; ++q)
          s->bterms[q] = (int32_t)((uint32_t)b_mode.scale * (uint32_t)sums[q] +
                                   (uint32_t)b_mode.bias * (uint32_t)kc);
        for (int64_t mb = m_begin; mb < m_end && p0 < p1; mb += kr->mc) {
          int64_t me = min64(mb + kr->mc, m_end), a_stride;
          const unit_t *aterms;
          const unit_t *apack =
              a_block(kr, p, a, &a_mode, s, mb, me, pc, kc, &a_stride, &aterms);
          macro_kernel(
              kr, p, c, bytes, partial, residual, apack, a_stride, aterms,
              prepacked + jc / nr * full_groups * nr + pc / kr->depth * nr,
              full_groups * nr, s->bterms, s, kc, mb, me, jc, ncur, p0, p1,
              accumulate, last);
        }
        continue;
      }
      /* The threads of a grid column pack its panels. */
      for (int64_t panel = p0 + id / gn; panel < p1; panel += gm) {
        int64_t valid = min64(nr, ncur - panel * nr);
        if (p->bw)
          pack_windows(kr, bpack + panel * panel_stride, nr, valid, kc, b, pc,
                       jc + panel * nr, p->bw, &b_mode, s->gather);
        else
          kr->pack(bpack + panel * panel_stride, nr, valid, kc,
                   b + (jc + panel * nr) * p->b_n + pc * p->b_k, p->b_n, p->b_k,
                   &b_mode);
      }
      /* With one grid row each thread packs only the panels it uses. */
      if (threads > 1 && gm > 1) {
#pragma omp barrier
      }
      for (int64_t mb = m_begin; mb < m_end && p0 < p1; mb += kr->mc) {
        int64_t me = min64(mb + kr->mc, m_end), a_stride;
        const unit_t *aterms;
        const unit_t *apack =
            a_block(kr, p, a, &a_mode, s, mb, me, pc, kc, &a_stride, &aterms);
        macro_kernel(kr, p, c, bytes, partial, residual, apack, a_stride,
                     aterms, bpack, panel_stride, NULL, s, kc, mb, me, jc, ncur,
                     p0, p1, accumulate, last);
      }
      /* A thread must not pack panels another still reads: the next K
       * block's when the grid has rows, the next column block's (split
       * differently) in any case. */
      int new_split = last && jc + kr->nc < p->n;
      if (threads > 1 && (gm > 1 || new_split)) {
#pragma omp barrier
      }
    }
  }
}

/*===----------------------------------------------------------------------===*
 * Few rows: B read in place, no packing.
 *===----------------------------------------------------------------------===*/

enum { ROWS_MAX = 4, ROWS_CHUNK = 1024 };

/* One batch's few-row product over a chunk of columns. */
typedef struct rows_job {
  int64_t rows, k;
  /* A's rows, [rows][a_ld] bytes as they are, zero from k up to a_ld (a
   * multiple of 4). */
  const uint8_t *a;
  int64_t a_ld;
  /* The rows' sums (true values). */
  int32_t a_sum[ROWS_MAX];
  /* Row q of B at b + q * b_k, its columns contiguous. */
  const int8_t *b;
  int64_t b_k;
  int a_unsigned, b_unsigned;
} rows_job;

/* out[r][j] = sum over k of A[r][k] B[k][j0 + j] for r < rows, j < len
 * (<= ROWS_CHUNK), rows of out `ld` (>= len rounded up to 64) apart. */
typedef void (*rows_fn)(const rows_job *job, int64_t j0, int64_t len,
                        int32_t *out, int64_t ld);

/* The VNNI row kernel, R rows. VPDPBUSD takes one u8 and one s8 operand:
 * A is the u8 one when unsigned, else B. When both are alike, B is flipped
 * (B' = B ^ 0x80) and the sums corrected by 128 rowsum(A): added for
 * unsigned (B = B' + 128), subtracted for signed (B = B' - 128). Each quad
 * of B rows is interleaved in registers to 4 k per column; the column order
 * this leaves (u_q holds columns 16 L + 4 q .. + 3 of each 128-bit lane L)
 * is kept in `out` until the sums are complete, then undone. */
__attribute__((target("avx512f,avx512bw,avx512vnni"),
               always_inline)) static inline void
rows_vnni_r(const rows_job *job, int64_t j0, int64_t len, int32_t *out,
            int64_t ld, const int R) {
  const int a_u8 = job->a_unsigned, flip = job->a_unsigned == job->b_unsigned;
  const __m512i flipv = _mm512_set1_epi8(flip ? (char)0x80 : 0);
  const int64_t quads = ceil_div(job->k, 4);
  /* 16 k rows at a time, their partial sums in registers. */
  for (int64_t g0 = 0; g0 < quads; g0 += 4) {
    int64_t g1 = min64(g0 + 4, quads);
    const int8_t *brow[16];
    for (int t = 0; t < 16; ++t) {
      /* Past k any row serves: A is zero there. */
      int64_t q = 4 * g0 + t;
      brow[t] = job->b + (q < job->k ? q : 0) * job->b_k + j0;
    }
    for (int64_t jb = 0; jb < len; jb += 64) {
      __mmask64 mask =
          len - jb >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << (len - jb)) - 1;
      __m512i acc[ROWS_MAX][4];
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < 4; ++v)
          acc[r][v] = g0 ? _mm512_load_si512(out + r * ld + jb + 16 * v)
                         : _mm512_setzero_si512();
      for (int64_t g = g0; g < g1; ++g) {
        __m512i x[4];
        for (int t = 0; t < 4; ++t)
          x[t] = _mm512_xor_si512(
              _mm512_maskz_loadu_epi8(mask, brow[4 * (g - g0) + t] + jb),
              flipv);
        __m512i t0 = _mm512_unpacklo_epi8(x[0], x[1]);
        __m512i t1 = _mm512_unpackhi_epi8(x[0], x[1]);
        __m512i t2 = _mm512_unpacklo_epi8(x[2], x[3]);
        __m512i t3 = _mm512_unpackhi_epi8(x[2], x[3]);
        __m512i u[4] = {
            _mm512_unpacklo_epi16(t0, t2), _mm512_unpackhi_epi16(t0, t2),
            _mm512_unpacklo_epi16(t1, t3), _mm512_unpackhi_epi16(t1, t3)};
        for (int r = 0; r < R; ++r) {
          __m512i ar = _mm512_set1_epi32(
              *(const unit_t *)(job->a + r * job->a_ld + 4 * g));
          for (int v = 0; v < 4; ++v)
            acc[r][v] = a_u8 ? _mm512_dpbusd_epi32(acc[r][v], ar, u[v])
                             : _mm512_dpbusd_epi32(acc[r][v], u[v], ar);
        }
      }
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < 4; ++v)
          _mm512_store_si512(out + r * ld + jb + 16 * v, acc[r][v]);
    }
  }
  /* Back to column order: a 4 x 4 transpose of 128-bit blocks. */
  for (int r = 0; r < R; ++r) {
    int32_t term = flip ? (a_u8 ? 128 : -128) * job->a_sum[r] : 0;
    const __m512i termv = _mm512_set1_epi32(term);
    for (int64_t jb = 0; jb < len; jb += 64) {
      int32_t *at = out + r * ld + jb;
      __m512i u0 = _mm512_load_si512(at), u1 = _mm512_load_si512(at + 16);
      __m512i u2 = _mm512_load_si512(at + 32), u3 = _mm512_load_si512(at + 48);
      __m512i t0 = _mm512_shuffle_i32x4(u0, u1, 0x44);
      __m512i t1 = _mm512_shuffle_i32x4(u0, u1, 0xee);
      __m512i t2 = _mm512_shuffle_i32x4(u2, u3, 0x44);
      __m512i t3 = _mm512_shuffle_i32x4(u2, u3, 0xee);
      _mm512_store_si512(
          at, _mm512_add_epi32(_mm512_shuffle_i32x4(t0, t2, 0x88), termv));
      _mm512_store_si512(
          at + 16, _mm512_add_epi32(_mm512_shuffle_i32x4(t0, t2, 0xdd), termv));
      _mm512_store_si512(
          at + 32, _mm512_add_epi32(_mm512_shuffle_i32x4(t1, t3, 0x88), termv));
      _mm512_store_si512(
          at + 48, _mm512_add_epi32(_mm512_shuffle_i32x4(t1, t3, 0xdd), termv));
    }
  }
}

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static void
rows_vnni(const rows_job *job, int64_t j0, int64_t len, int32_t *out,
          int64_t ld) {
  switch (job->rows) {
  case 1:
    rows_vnni_r(job, j0, len, out, ld, 1);
    break;
  case 2:
    rows_vnni_r(job, j0, len, out, ld, 2);
    break;
  case 3:
    rows_vnni_r(job, j0, len, out, ld, 3);
    break;
  default:
    rows_vnni_r(job, j0, len, out, ld, 4);
    break;
  }
}

/* The AVX2 row kernel, R rows, on int16 pairs like the AVX2 microkernel:
 * each pair of B rows interleaved and widened in registers. */
__attribute__((target("avx2"), always_inline)) static inline void
rows_avx2_r(const rows_job *job, int64_t j0, int64_t len, int32_t *out,
            int64_t ld, const int R) {
  const int64_t pairs = ceil_div(job->k, 2);
  /* 8 k rows at a time, their partial sums in registers. */
  for (int64_t g0 = 0; g0 < pairs; g0 += 4) {
    int64_t g1 = min64(g0 + 4, pairs);
    const int8_t *brow[8];
    int32_t apair[ROWS_MAX][4];
    for (int t = 0; t < 8; ++t) {
      /* Past k any row serves: A is zero there. */
      int64_t q = 2 * g0 + t;
      brow[t] = job->b + (q < job->k ? q : 0) * job->b_k + j0;
    }
    for (int r = 0; r < R; ++r)
      for (int64_t g = g0; g < g1; ++g) {
        const uint8_t *at = job->a + r * job->a_ld + 2 * g;
        uint16_t lo = job->a_unsigned ? at[0] : (uint16_t)(int8_t)at[0];
        uint16_t hi = job->a_unsigned ? at[1] : (uint16_t)(int8_t)at[1];
        apair[r][g - g0] = (int32_t)(lo | (uint32_t)hi << 16);
      }
    for (int64_t jb = 0; jb < len; jb += 16) {
      __m256i acc[ROWS_MAX][2];
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < 2; ++v)
          acc[r][v] = g0 ? _mm256_loadu_si256(
                               (const __m256i *)(out + r * ld + jb + 8 * v))
                         : _mm256_setzero_si256();
      for (int64_t g = g0; g < g1; ++g) {
        __m128i x[2];
        for (int t = 0; t < 2; ++t) {
          const int8_t *from = brow[2 * (g - g0) + t] + jb;
          if (len - jb >= 16) {
            x[t] = _mm_loadu_si128((const __m128i *)from);
            continue;
          }
          /* The last columns: no reading past the row. */
          int8_t tail[16] = {0};
          for (int64_t j = 0; j < len - jb; ++j)
            tail[j] = from[j];
          x[t] = _mm_loadu_si128((const __m128i *)tail);
        }
        __m128i lo = _mm_unpacklo_epi8(x[0], x[1]);
        __m128i hi = _mm_unpackhi_epi8(x[0], x[1]);
        __m256i w[2] = {job->b_unsigned ? _mm256_cvtepu8_epi16(lo)
                                        : _mm256_cvtepi8_epi16(lo),
                        job->b_unsigned ? _mm256_cvtepu8_epi16(hi)
                                        : _mm256_cvtepi8_epi16(hi)};
        for (int r = 0; r < R; ++r) {
          __m256i ar = _mm256_set1_epi32(apair[r][g - g0]);
          for (int v = 0; v < 2; ++v)
            acc[r][v] =
                _mm256_add_epi32(acc[r][v], _mm256_madd_epi16(ar, w[v]));
        }
      }
      for (int r = 0; r < R; ++r)
        for (int v = 0; v < 2; ++v)
          _mm256_storeu_si256((__m256i *)(out + r * ld + jb + 8 * v),
                              acc[r][v]);
    }
  }
}

__attribute__((target("avx2"))) static void rows_avx2(const rows_job *job,
                                                      int64_t j0, int64_t len,
                                                      int32_t *out,
                                                      int64_t ld) {
  switch (job->rows) {
  case 1:
    rows_avx2_r(job, j0, len, out, ld, 1);
    break;
  case 2:
    rows_avx2_r(job, j0, len, out, ld, 2);
    break;
  case 3:
    rows_avx2_r(job, j0, len, out, ld, 3);
    break;
  default:
    rows_avx2_r(job, j0, len, out, ld, 4);
    break;
  }
}

/* The generic row kernel: one multiply-add per element, in C. */
static void rows_generic(const rows_job *job, int64_t j0, int64_t len,
                         int32_t *out, int64_t ld) {
  for (int64_t r = 0; r < job->rows; ++r)
    for (int64_t j = 0; j < len; ++j)
      out[r * ld + j] = 0;
  for (int64_t q = 0; q < job->k; ++q) {
    const int8_t *brow = job->b + q * job->b_k + j0;
    for (int64_t r = 0; r < job->rows; ++r) {
      uint8_t byte = job->a[r * job->a_ld + q];
      int32_t x = job->a_unsigned ? (int32_t)byte : (int32_t)(int8_t)byte;
      int32_t *o = out + r * ld;
      if (job->b_unsigned)
        for (int64_t j = 0; j < len; ++j)
          o[j] += x * (int32_t)(uint8_t)brow[j];
      else
        for (int64_t j = 0; j < len; ++j)
          o[j] += x * (int32_t)brow[j];
    }
  }
}

static const rows_fn row_kernels[] = {
    [KILN_ISA_AVX512] = rows_vnni,
    [KILN_ISA_AVX2] = rows_avx2,
    [KILN_ISA_GENERIC] = rows_generic,
};

/* Whether `p` takes the few-row path: at most ROWS_MAX rows, B (not
 * compiler-packed) and C with contiguous rows. */
static int takes_few_rows(const problem *p) {
  return p->m <= ROWS_MAX && p->b_n == 1 && p->c_n == 1 && !p->b_prepacked_nr &&
         !p->a_prepacked_mr;
}

/* Products of at most ROWS_MAX rows with contiguous B and C rows: threads
 * take (batch, column chunk) items; each copies its A rows (a few bytes)
 * and runs the row kernel. */
static void run_few_rows(kiln_isa isa, const problem *p) {
  rows_fn rows = row_kernels[isa];
  int64_t batches = p->batch0 * p->batch1;
  int64_t chunks = ceil_div(p->n, ROWS_CHUNK), work = batches * chunks;
  int64_t a_ld = 4 * ceil_div(p->k, 4);
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (threads > work)
    threads = (int)work;
  if (2.0 * (double)p->m * (double)p->n * (double)p->k * (double)batches < 4e5)
    threads = 1;
  size_t a_bytes = (size_t)(ROWS_MAX * a_ld + 64) / 64 * 64;
  size_t per_thread = a_bytes + ROWS_MAX * ROWS_CHUNK * sizeof(int32_t);
  char *scratch_all = kiln_buffer_alloc(per_thread * (size_t)threads);
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    char *mine = scratch_all + per_thread * (size_t)omp_get_thread_num();
    uint8_t *a_rows = (uint8_t *)mine;
    int32_t *out = (int32_t *)(mine + a_bytes);
    int64_t copied = -1;
    rows_job job = {.rows = p->m,
                    .k = p->k,
                    .a = a_rows,
                    .a_ld = a_ld,
                    .b_k = p->b_k,
                    .a_unsigned = p->a_unsigned,
                    .b_unsigned = p->b_unsigned};
#pragma omp for schedule(static)
    for (int64_t w = 0; w < work; ++w) {
      int64_t bi = w / chunks, j0 = (w % chunks) * ROWS_CHUNK;
      int64_t len = min64(ROWS_CHUNK, p->n - j0), ld = 64 * ceil_div(len, 64);
      const int8_t *a = p->a + batch_offset(p, p->a_batch, bi);
      if (copied != bi) {
        for (int64_t r = 0; r < p->m; ++r) {
          int32_t sum = 0;
          for (int64_t q = 0; q < a_ld; ++q) {
            uint8_t v = q < p->k ? (uint8_t)a[r * p->a_m + q * p->a_k] : 0;
            a_rows[r * a_ld + q] = v;
            sum += p->a_unsigned ? (int32_t)v : (int32_t)(int8_t)v;
          }
          job.a_sum[r] = sum;
        }
        copied = bi;
      }
      job.b = p->b + batch_offset(p, p->b_batch, bi);
      rows(&job, j0, len, out, ld);
      int32_t *c = p->c + batch_offset(p, p->c_batch, bi) + j0;
      for (int64_t r = 0; r < p->m; ++r) {
        int32_t *row = c + r * p->c_m;
        const int32_t *from = out + r * ld;
        if (p->accumulate)
          for (int64_t j = 0; j < len; ++j)
            row[j] = (int32_t)((uint32_t)row[j] + (uint32_t)from[j]);
        else
          for (int64_t j = 0; j < len; ++j)
            row[j] = from[j];
      }
    }
  }
  kiln_buffer_free(scratch_all);
}

/*===----------------------------------------------------------------------===*
 * Running a product.
 *===----------------------------------------------------------------------===*/

/* Runs `p` on the widest kernel at most `requested`. */
static void run_problem(kiln_isa requested, const problem *p) {
  int64_t batches = p->batch0 * p->batch1;
  if (p->m <= 0 || p->n <= 0 || p->batch0 <= 0 || p->batch1 <= 0)
    return;
  if (p->k <= 0) {
    for (int64_t bi = 0; bi < batches && !p->accumulate; ++bi) {
      int32_t *c = p->c + batch_offset(p, p->c_batch, bi);
      for (int64_t i = 0; i < p->m; ++i)
        for (int64_t j = 0; j < p->n; ++j)
          c[i * p->c_m + j * p->c_n] = 0;
    }
    return;
  }
  kiln_isa isa = resolve_isa(requested);
  const kernel *kr =
      p->a_prepacked_mr
          ? kernel_for_a(isa, p->a_prepacked_format, p->a_unsigned,
                         p->b_unsigned,
                         p->b_prepacked_nr ? p->b_prepacked_format : -1)
          : kernel_for(isa, p->b_prepacked_nr ? p->b_prepacked_format : -1);
  if (takes_few_rows(p)) {
    run_few_rows(isa, p);
    return;
  }
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  double ops = 2.0 * (double)p->m * (double)p->n * (double)p->k;
  if (ops * (double)batches < 4e5)
    threads = 1;
  /* Many batches: each thread takes whole batches, no barriers. Else the
   * threads share each batch. */
  int per_batch =
      batches >= 2 * threads || (batches >= threads && batches % threads == 0);
  int64_t units_m = ceil_div(p->m, kr->mr);
  int64_t panels = ceil_div(min64(p->n, kr->nc), kr->nr);
  int64_t gm = 1, gn = 1;
  if (!per_batch)
    plan_grid(kr, units_m, panels, threads, &gm, &gn);
  /* One allocation for all scratch, outside the parallel region (where a
   * failed allocation can still end the run cleanly): the shared B block
   * (or one per thread; none for a compiler-packed B, whose terms go in a
   * per-thread buffer instead), then per thread an A block and a tile. */
  size_t b_bytes =
      p->b_prepacked_nr
          ? (size_t)kr->nc * sizeof(unit_t)
          : (size_t)(panels * panel_units(kr, kr->kc, kr->nr)) * sizeof(unit_t);
  if (p->b_prepacked_nr)
    per_batch = 1;
  size_t a_bytes = (size_t)(ceil_div(min64(p->m, kr->mc), kr->mr) *
                            panel_units(kr, kr->kc, kr->mr)) *
                   sizeof(unit_t);
  a_bytes = (a_bytes + 63) / 64 * 64;
  size_t tile_bytes = (size_t)(kr->mr * kr->nr) * sizeof(int32_t);
  /* Then the column scales of a dequantized product. */
  size_t scales_at = a_bytes + tile_bytes + (per_batch ? b_bytes : 0);
  size_t scales_bytes = (size_t)(kr->nc + kr->nr) * sizeof(float);
  size_t gather_at =
      scales_at + (p->scale ? (p->offset ? 2 : 1) * scales_bytes : 0);
  size_t aterms_at =
      gather_at + (p->bw ? (size_t)(kr->kc * kr->nr + 63) / 64 * 64 : 0);
  size_t per_thread =
      aterms_at + (p->a_prepacked_mr ? (size_t)kr->mc * sizeof(unit_t) : 0);
  size_t shared = per_batch ? 0 : b_bytes;
  char *all = kiln_buffer_alloc(shared + per_thread * (size_t)threads);
  /* A requantized product over several K blocks sums into int32 first, and
   * so does a summed one (its residual may be C itself, which must still
   * hold the residual when the last block reads it). */
  problem with_partial;
  if (p->scale && (p->requant || p->residual) && p->k > kr->kc) {
    with_partial = *p;
    with_partial.partial =
        kiln_buffer_alloc(sizeof(int32_t) * (size_t)(batches * p->m * p->n));
    p = &with_partial;
  }
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    int id = omp_get_thread_num(), count = omp_get_num_threads();
    char *mine = all + shared + per_thread * (size_t)id;
    scratch s = {(unit_t *)mine,
                 (int32_t *)(mine + a_bytes),
                 NULL,
                 (float *)(mine + scales_at),
                 (float *)(mine + scales_at + scales_bytes),
                 (int8_t *)(mine + gather_at),
                 (unit_t *)(mine + aterms_at)};
    if (p->b_prepacked_nr) {
      /* The threads share each batch, reading B in place; or take whole
       * batches when there are many. */
      s.bterms = (unit_t *)(mine + a_bytes + tile_bytes);
      int many = batches >= 2 * count;
      int64_t grid_m = gm, grid_n = gn;
      if (!many)
        plan_grid(kr, units_m, panels, count, &grid_m, &grid_n);
      for (int64_t bi = many ? id : 0; bi < batches; bi += many ? count : 1)
        gemm_batch(kr, p, bi, NULL, &s, many ? 0 : id, many ? 1 : count,
                   many ? 1 : grid_m, many ? 1 : grid_n);
    } else if (per_batch) {
      unit_t *bpack = (unit_t *)(mine + a_bytes + tile_bytes);
      for (int64_t bi = id; bi < batches; bi += count)
        gemm_batch(kr, p, bi, bpack, &s, 0, 1, 1, 1);
    } else {
      int64_t grid_m = gm, grid_n = gn;
      if (count != threads) /* the runtime gave fewer threads than asked */
        plan_grid(kr, units_m, panels, count, &grid_m, &grid_n);
      for (int64_t bi = 0; bi < batches; ++bi)
        gemm_batch(kr, p, bi, (unit_t *)all, &s, id, count, grid_m, grid_n);
    }
  }
  kiln_buffer_free(all);
  if (p == &with_partial)
    kiln_buffer_free(with_partial.partial);
}

/* A zero point's value i (its operand's signedness). */
static int32_t zero_point(const int8_t *z, int64_t stride, int64_t i,
                          int is_unsigned) {
  int8_t v = z[i * stride];
  return is_unsigned ? (int32_t)(uint8_t)v : (int32_t)v;
}

/* Adds the zero points' share to the finished product of `p` (computed
 * without them): c[i][j] += -zb[j] rowsum(A)[i] - za[i] colsum(B)[j]
 * + k za[i] zb[j], the sums over the true values. za or zb NULL: the
 * constant za_value (zb_value) instead. */
static void correct_zero_points(const problem *p, const int8_t *za,
                                int64_t za_m, int32_t za_value,
                                const int8_t *zb, int64_t zb_n,
                                int32_t zb_value) {
  int64_t batches = p->batch0 * p->batch1;
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if ((double)p->m * (double)p->n * (double)batches < 1e5)
    threads = 1;
  int32_t *sums = kiln_buffer_alloc(sizeof(int32_t) * (size_t)(p->m + p->n) *
                                    (size_t)threads);
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
  for (int64_t bi = 0; bi < batches; ++bi) {
    int32_t *row_sum = sums + (p->m + p->n) * omp_get_thread_num();
    int32_t *col_sum = row_sum + p->m;
    const int8_t *a = p->a + batch_offset(p, p->a_batch, bi);
    const int8_t *b = p->b + batch_offset(p, p->b_batch, bi);
    int32_t *c = p->c + batch_offset(p, p->c_batch, bi);
    int need_rows = zb || zb_value, need_cols = za || za_value;
    for (int64_t i = 0; i < p->m && need_rows; ++i) {
      uint32_t sum = 0;
      for (int64_t q = 0; q < p->k; ++q) {
        int8_t v = a[i * p->a_m + q * p->a_k];
        sum += p->a_unsigned ? (uint32_t)(uint8_t)v : (uint32_t)(int32_t)v;
      }
      row_sum[i] = (int32_t)sum;
    }
    for (int64_t j = 0; j < p->n && need_cols; ++j)
      col_sum[j] = 0;
    for (int64_t q = 0; q < p->k && need_cols; ++q)
      for (int64_t j = 0; j < p->n; ++j) {
        int8_t v = b[q * p->b_k + j * p->b_n];
        col_sum[j] = (int32_t)((uint32_t)col_sum[j] +
                               (p->b_unsigned ? (uint32_t)(uint8_t)v
                                              : (uint32_t)(int32_t)v));
      }
    for (int64_t i = 0; i < p->m; ++i) {
      uint32_t zai = za ? (uint32_t)zero_point(za, za_m, i, p->a_unsigned)
                        : (uint32_t)za_value;
      for (int64_t j = 0; j < p->n; ++j) {
        uint32_t zbj = zb ? (uint32_t)zero_point(zb, zb_n, j, p->b_unsigned)
                          : (uint32_t)zb_value;
        uint32_t x = (uint32_t)c[i * p->c_m + j * p->c_n];
        if (need_rows)
          x -= zbj * (uint32_t)row_sum[i];
        if (need_cols)
          x -= zai * (uint32_t)col_sum[j];
        x += (uint32_t)p->k * zai * zbj;
        c[i * p->c_m + j * p->c_n] = (int32_t)x;
      }
    }
  }
  kiln_buffer_free(sums);
}

/* Runs `p` with its zero points (views za, zb when not NULL, else the
 * constants). */
static void run_igemm(kiln_isa isa, problem *p, const int8_t *za, int64_t za_m,
                      int64_t za_value, const int8_t *zb, int64_t zb_n,
                      int64_t zb_value) {
  if (p->m <= 0 || p->n <= 0 || p->batch0 <= 0 || p->batch1 <= 0)
    return;
  if (p->scale) {
    /* Dequantizing where the product is not stored tile by tile (few rows,
     * an empty or corrected product): into int32 first, then scaled. */
    int few = takes_few_rows(p);
    int corrected =
        (za && za_m != 0 && p->m > 1) || (zb && zb_n != 0 && p->n > 1);
    if (few || corrected || p->k <= 0 || p->accumulate) {
      int64_t batches = p->batch0 * p->batch1;
      int32_t *tmp =
          kiln_buffer_alloc(sizeof(int32_t) * (size_t)(batches * p->m * p->n));
      problem q = *p;
      q.c = tmp;
      q.c_batch[0] = p->batch1 * p->m * p->n;
      q.c_batch[1] = p->m * p->n;
      q.c_m = p->n;
      q.c_n = 1;
      q.scale = NULL;
      q.requant = 0;
      q.offset = NULL;
      q.residual = NULL;
      q.accumulate = 0;
      run_igemm(isa, &q, za, za_m, za_value, zb, zb_n, zb_value);
      for (int64_t bi = 0; bi < batches; ++bi) {
        int64_t at = batch_offset(p, p->c_batch, bi);
        const int32_t *from = tmp + bi * p->m * p->n;
        const float *residual =
            p->residual ? p->residual + batch_offset(p, p->residual_batch, bi)
                        : NULL;
        for (int64_t i = 0; i < p->m; ++i)
          for (int64_t j = 0; j < p->n; ++j) {
            float x = converted(p, residual, from[i * p->n + j], i, j);
            if (p->requant) {
              p->bytes[at + i * p->c_m + j * p->c_n] =
                  requantize(x, p->lo, p->hi);
              continue;
            }
            float *out = (float *)(p->c + at) + i * p->c_m + j * p->c_n;
            *out = p->accumulate ? *out + x : x;
          }
      }
      kiln_buffer_free(tmp);
      return;
    }
  }
  /* Zero points of one value go into the packed product's terms; the
   * few-row path and per-row or per-column ones are corrected after. */
  int few_rows = p->k > 0 && takes_few_rows(p);
  if (!few_rows && (!za || za_m == 0 || p->m == 1) &&
      (!zb || zb_n == 0 || p->n == 1)) {
    p->za = za ? zero_point(za, 0, 0, p->a_unsigned) : (int32_t)za_value;
    p->zb = zb ? zero_point(zb, 0, 0, p->b_unsigned) : (int32_t)zb_value;
    za = zb = NULL;
    za_value = zb_value = 0;
  }
  run_problem(isa, p);
  if (za || zb || za_value || zb_value)
    correct_zero_points(p, za, za_m, (int32_t)za_value, zb, zb_n,
                        (int32_t)zb_value);
}

/* How the scaled and requantized entry points convert C (see
 * KILN_IGEMM_SCALE_ARGS and KILN_IGEMM_REQUANT_ARGS); NULL: int32 C. */
typedef struct conversion {
  const float *scale;
  int64_t scale_m, scale_n;
  int requant;
  const float *offset;
  int64_t offset_m, offset_n;
  float lo, hi;
  const float *residual;
  int64_t residual_batch[2], residual_m, residual_n;
  int residual_relu;
} conversion;

/* What every entry point's problem takes from its arguments (named as in
 * KILN_IGEMM_ARGS, with the conversion `cv`), and the descriptor fields none
 * reads. */
#define PROBLEM_COMMON_FIELDS                                                  \
  .batch0 = batch0, .batch1 = batch1, .m = m, .n = n, .k = k,                  \
  .a = a_aligned + a_offset, .b = b_aligned + b_offset,                        \
  .c = c_aligned + c_offset, .a_batch = {a_batch0, a_batch1},                  \
  .c_batch = {c_batch0, c_batch1}, .a_m = a_m, .a_k = a_k, .c_m = c_m,         \
  .c_n = c_n, .a_unsigned = a_unsigned != 0, .b_unsigned = b_unsigned != 0,    \
  .accumulate = accumulate != 0, .scale = cv ? cv->scale : NULL,               \
  .scale_m = cv ? cv->scale_m : 0, .scale_n = cv ? cv->scale_n : 0,            \
  .requant = cv && cv->requant,                                                \
  .bytes = cv && cv->requant ? (int8_t *)c_aligned + c_offset : NULL,          \
  .offset = cv ? cv->offset : NULL, .offset_m = cv ? cv->offset_m : 0,         \
  .offset_n = cv ? cv->offset_n : 0, .lo = cv ? cv->lo : 0,                    \
  .hi = cv ? cv->hi : 0, .residual = cv ? cv->residual : NULL,                 \
  .residual_batch = {cv ? cv->residual_batch[0] : 0,                           \
                     cv ? cv->residual_batch[1] : 0},                          \
  .residual_m = cv ? cv->residual_m : 0,                                       \
  .residual_n = cv ? cv->residual_n : 0,                                       \
  .residual_relu = cv ? cv->residual_relu : 0
#define IGNORE_DESCRIPTOR_FIELDS                                               \
  (void)a_allocated, (void)b_allocated, (void)c_allocated, (void)za_allocated, \
      (void)zb_allocated, (void)a_zero, (void)b_zero, (void)c_zero,            \
      (void)za_zero, (void)zb_zero

/* An operand packed by the compiler (see KILN_IGEMM_A_PACKING_ARGS and
 * KILN_IGEMM_PACKED_ARGS: panels of `width` rows or columns of units of
 * `depth` k) as the bytes it was packed from: element (j, q), j along the
 * panels and q along k, goes to out[j * s_j + q * s_k]. Bytes were stored
 * with their top bit XOR `flip`; pairs hold the true values. */
static void unpack_operand(int8_t *out, const int8_t *packed, int64_t extent,
                           int64_t k, int64_t width, int64_t depth,
                           uint8_t flip, int64_t s_j, int64_t s_k) {
  int64_t groups = ceil_div(k, depth);
  const unit_t *units = (const unit_t *)packed;
  for (int64_t j = 0; j < extent; ++j)
    for (int64_t q = 0; q < k; ++q) {
      const unit_t *unit =
          units + (j / width * groups + q / depth) * width + j % width;
      out[j * s_j + q * s_k] =
          depth == 4 ? (int8_t)(((const uint8_t *)unit)[q % 4] ^ flip)
                     : (int8_t)((const int16_t *)unit)[q % 2];
    }
}

/* Takes A's compiler packing into `p`. When the kernel that runs wants
 * another packing (this processor lacks the compile target's ISA), or zero
 * points vary per row or column (their correction reads A's values), A is
 * unpacked into a matrix first: returned, for the caller to free. */
static int8_t *take_a_packing(kiln_isa isa, problem *p, int64_t height,
                              int64_t format, int64_t block,
                              int vector_zero_points) {
  p->a_prepacked_mr = height;
  p->a_prepacked_format = format;
  p->a_prepacked_kc = block;
  if (!height)
    return NULL;
  const kernel *kr =
      kernel_for_a(resolve_isa(isa), format, p->a_unsigned, p->b_unsigned, -1);
  if (kr->mr == height && kr->a_format == format && kr->kc == block &&
      !vector_zero_points)
    return NULL;
  int8_t *matrix = kiln_buffer_alloc((size_t)(p->m > 0 ? p->m : 1) *
                                     (size_t)(p->k > 0 ? p->k : 1));
  /* A's bytes are stored unsigned (a signed A was flipped), or signed
   * (narrow: an unsigned A was flipped). */
  uint8_t flip = format == KILN_IGEMM_NARROW_SIGNED_BYTES
                     ? (p->a_unsigned ? 0x80 : 0)
                     : (p->a_unsigned ? 0 : 0x80);
  unpack_operand(matrix, p->a, p->m, p->k, height,
                 format == KILN_IGEMM_PAIRS ? 2 : 4, flip, p->k, 1);
  p->a = matrix;
  p->a_m = p->k;
  p->a_k = 1;
  p->a_batch[0] = p->a_batch[1] = 0;
  p->a_prepacked_mr = 0;
  return matrix;
}

static void igemm_scaled(kiln_isa isa, const conversion *cv, KILN_IGEMM_ARGS) {
  IGNORE_DESCRIPTOR_FIELDS;
  problem p = {PROBLEM_COMMON_FIELDS, .b_batch = {b_batch0, b_batch1},
               .b_k = b_k, .b_n = b_n};
  const int8_t *za = zero_points & 1 ? za_aligned + za_offset : NULL;
  const int8_t *zb = zero_points & 2 ? zb_aligned + zb_offset : NULL;
  int8_t *a_matrix =
      take_a_packing(isa, &p, a_panel_height, a_format, a_block_depth,
                     (za && za_m != 0 && m > 1) || (zb && zb_n != 0 && n > 1));
  run_igemm(isa, &p, za, za_m, za_value, zb, zb_n, zb_value);
  kiln_buffer_free(a_matrix);
}

/* A window-read product (see KILN_IGEMM_WINDOWS_ARGS), converted as `cv`
 * says when not NULL. Zero points per row or column, which the correction
 * pass applies with B's column sums, and a dequantized product added to C
 * (computed into int32 first) run on the window matrix copied out first. */
static void igemm_windows(kiln_isa isa, const conversion *cv,
                          KILN_IGEMM_WINDOWS_ARGS) {
  IGNORE_DESCRIPTOR_FIELDS;
  windows w = {.s_c = b_c,
               .s_h = b_h,
               .s_w = b_w,
               .kh = kernel_h,
               .kw = kernel_w,
               .sh = stride_h,
               .sw = stride_w,
               .dh = dilation_h,
               .dw = dilation_w,
               .ow = out_w};
  problem p = {PROBLEM_COMMON_FIELDS, .b_batch = {b_batch0, b_batch1},
               .bw = &w};
  const int8_t *za = zero_points & 1 ? za_aligned + za_offset : NULL;
  const int8_t *zb = zero_points & 2 ? zb_aligned + zb_offset : NULL;
  int8_t *matrix = NULL;
  int vector_zero_points =
      (za && za_m != 0 && m > 1) || (zb && zb_n != 0 && n > 1);
  int8_t *a_matrix = take_a_packing(isa, &p, a_panel_height, a_format,
                                    a_block_depth, vector_zero_points);
  if ((vector_zero_points || (accumulate && cv)) && m > 0 && n > 0 && k > 0 &&
      batch0 > 0 && batch1 > 0) {
    int64_t batches = batch0 * batch1;
    matrix = kiln_buffer_alloc((size_t)(batches * k * n));
    for (int64_t bi = 0; bi < batches; ++bi) {
      const int8_t *src = p.b + batch_offset(&p, p.b_batch, bi);
      FOR_WINDOW_ROWS(&w, src, 0, k, q, from, {
        for (int64_t col = 0; col < n; ++col)
          matrix[(bi * k + q) * n + col] =
              from[col / out_w * stride_h * b_h + col % out_w * stride_w * b_w];
      });
    }
    p.b = matrix;
    p.b_batch[0] = batch1 * k * n;
    p.b_batch[1] = k * n;
    p.b_k = n;
    p.b_n = 1;
    p.bw = NULL;
  }
  run_igemm(isa, &p, za, za_m, za_value, zb, zb_n, zb_value);
  kiln_buffer_free(matrix);
  kiln_buffer_free(a_matrix);
}

KILN_EXPORT void kiln_ukernel_igemm_lhs_packing(kiln_isa isa, int narrow,
                                                int64_t *panel_height,
                                                int64_t *format,
                                                int64_t *block_depth) {
  const kernel *kr =
      narrow ? kernel_for_a(isa, KILN_IGEMM_NARROW_SIGNED_BYTES, 0, 1, -1)
             : kernel_for(isa, -1);
  *panel_height = kr->mr;
  *format = kr->a_format;
  *block_depth = kr->kc;
}

KILN_EXPORT void kiln_ukernel_igemm_packing(kiln_isa isa, int narrow,
                                            int64_t *panel_width,
                                            int64_t *format,
                                            int64_t *block_depth) {
  const kernel *kr =
      kernel_for(isa, narrow ? KILN_IGEMM_NARROW_BYTES : KILN_IGEMM_BYTES);
  *panel_width = kr->nr;
  *format = kr->format;
  *block_depth = kr->kc;
}

static void igemm_packed_scaled(kiln_isa requested, const conversion *cv,
                                KILN_IGEMM_PACKED_ARGS) {
  IGNORE_DESCRIPTOR_FIELDS;
  problem p = {PROBLEM_COMMON_FIELDS, .b_prepacked_nr = b_panel_width,
               .b_prepacked_format = b_format, .b_prepacked_kc = b_block_depth};
  const int8_t *za = zero_points & 1 ? za_aligned + za_offset : NULL;
  const int8_t *zb = zero_points & 2 ? zb_aligned + zb_offset : NULL;
  const kernel *kr = kernel_for(resolve_isa(requested), b_format);
  int64_t b_unit_depth = b_format == KILN_IGEMM_PAIRS ? 2 : 4;
  int vector_zero_points =
      (za && za_m != 0 && m > 1) || (zb && zb_n != 0 && n > 1);
  int8_t *unpacked = NULL;
  if (kr->nr != b_panel_width || kr->format != b_format ||
      kr->kc != b_block_depth || vector_zero_points) {
    /* Packed for another kernel (this processor lacks the compile target's
     * ISA), or zero points that the correction pass needs B's values for:
     * the product runs on B as a plain matrix. */
    unpacked = kiln_buffer_alloc((size_t)(k > 0 ? k : 1) * (size_t)n);
    /* B's bytes are stored signed: an unsigned B was flipped. */
    unpack_operand(unpacked, p.b, n, k, b_panel_width, b_unit_depth,
                   p.b_unsigned ? 0x80 : 0, 1, n);
    p.b = unpacked;
    p.b_k = n;
    p.b_n = 1;
    p.b_prepacked_nr = 0;
  }
  run_igemm(requested, &p, za, za_m, za_value, zb, zb_n, zb_value);
  kiln_buffer_free(unpacked);
}

/* The arguments of each family of entry points, by name, as the internal
 * functions take them after the conversion. */
#define IGEMM_ARG_NAMES                                                        \
  batch0, batch1, m, n, k, a_allocated, a_aligned, a_zero, a_offset, a_batch0, \
      a_batch1, a_m, a_k, a_panel_height, a_format, a_block_depth,             \
      b_allocated, b_aligned, b_zero, b_offset, b_batch0, b_batch1, b_k, b_n,  \
      c_allocated, c_aligned, c_zero, c_offset, c_batch0, c_batch1, c_m, c_n,  \
      za_allocated, za_aligned, za_zero, za_offset, za_m, zb_allocated,        \
      zb_aligned, zb_zero, zb_offset, zb_n, za_value, zb_value, a_unsigned,    \
      b_unsigned, zero_points, accumulate
#define IGEMM_PACKED_ARG_NAMES                                                 \
  batch0, batch1, m, n, k, a_allocated, a_aligned, a_zero, a_offset, a_batch0, \
      a_batch1, a_m, a_k, b_allocated, b_aligned, b_zero, b_offset,            \
      b_panel_width, b_format, b_block_depth, c_allocated, c_aligned, c_zero,  \
      c_offset, c_batch0, c_batch1, c_m, c_n, za_allocated, za_aligned,        \
      za_zero, za_offset, za_m, zb_allocated, zb_aligned, zb_zero, zb_offset,  \
      zb_n, za_value, zb_value, a_unsigned, b_unsigned, zero_points,           \
      accumulate
#define IGEMM_WINDOWS_ARG_NAMES                                                \
  batch0, batch1, m, n, k, a_allocated, a_aligned, a_zero, a_offset, a_batch0, \
      a_batch1, a_m, a_k, a_panel_height, a_format, a_block_depth,             \
      b_allocated, b_aligned, b_zero, b_offset, b_batch0, b_batch1, b_c, b_h,  \
      b_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h, dilation_w,     \
      out_w, c_allocated, c_aligned, c_zero, c_offset, c_batch0, c_batch1,     \
      c_m, c_n, za_allocated, za_aligned, za_zero, za_offset, za_m,            \
      zb_allocated, zb_aligned, zb_zero, zb_offset, zb_n, za_value, zb_value,  \
      a_unsigned, b_unsigned, zero_points, accumulate

/* The conversions of the scaled and requantized entry points. */
#define SCALED_CONVERSION                                                      \
  (void)s_allocated, (void)s_zero;                                             \
  conversion cv = {                                                            \
      .scale = s_aligned + s_offset, .scale_m = s_m, .scale_n = s_n}
#define REQUANT_CONVERSION                                                     \
  SCALED_CONVERSION;                                                           \
  (void)o_allocated, (void)o_zero;                                             \
  cv.requant = 1;                                                              \
  cv.offset = o_aligned + o_offset;                                            \
  cv.offset_m = o_m;                                                           \
  cv.offset_n = o_n;                                                           \
  cv.lo = (float)q_lo;                                                         \
  cv.hi = (float)q_hi

#define SUM_CONVERSION                                                         \
  SCALED_CONVERSION;                                                           \
  (void)o_allocated, (void)o_zero, (void)r_allocated, (void)r_zero;            \
  cv.offset = o_aligned + o_offset;                                            \
  cv.offset_m = o_m;                                                           \
  cv.offset_n = o_n;                                                           \
  cv.residual = r_aligned + r_offset;                                          \
  cv.residual_batch[0] = r_batch0;                                             \
  cv.residual_batch[1] = r_batch1;                                             \
  cv.residual_m = r_m;                                                         \
  cv.residual_n = r_n;                                                         \
  cv.residual_relu = r_relu != 0

/* One family (plain, packed or windows: `family` names its internal
 * function, `ARGS` its argument list) for one ISA: int32, dequantized
 * (scaled), dequantized plus a bias and a residual (scaled_sum) and
 * requantized C. */
#define DEFINE_ENTRY_POINTS(prefix, suffix, isa, family, ARGS, NAMES)          \
  KILN_EXPORT void kiln_ukernel_igemm_##prefix##suffix(ARGS) {                 \
    family(isa, NULL, NAMES);                                                  \
  }                                                                            \
  KILN_EXPORT void kiln_ukernel_igemm_##prefix##scaled_##suffix(               \
      ARGS, KILN_IGEMM_SCALE_ARGS) {                                           \
    SCALED_CONVERSION;                                                         \
    family(isa, &cv, NAMES);                                                   \
  }                                                                            \
  KILN_EXPORT void kiln_ukernel_igemm_##prefix##scaled_sum_##suffix(           \
      ARGS, KILN_IGEMM_SCALE_ARGS, KILN_IGEMM_SUM_ARGS) {                      \
    SUM_CONVERSION;                                                            \
    family(isa, &cv, NAMES);                                                   \
  }                                                                            \
  KILN_EXPORT void kiln_ukernel_igemm_##prefix##requantized_##suffix(          \
      ARGS, KILN_IGEMM_SCALE_ARGS, KILN_IGEMM_REQUANT_ARGS) {                  \
    REQUANT_CONVERSION;                                                        \
    family(isa, &cv, NAMES);                                                   \
  }

#define DEFINE_ALL_ENTRY_POINTS(suffix, isa)                                   \
  DEFINE_ENTRY_POINTS(, suffix, isa, igemm_scaled, KILN_IGEMM_ARGS,            \
                      IGEMM_ARG_NAMES)                                         \
  DEFINE_ENTRY_POINTS(packed_, suffix, isa, igemm_packed_scaled,               \
                      KILN_IGEMM_PACKED_ARGS, IGEMM_PACKED_ARG_NAMES)          \
  DEFINE_ENTRY_POINTS(windows_, suffix, isa, igemm_windows,                    \
                      KILN_IGEMM_WINDOWS_ARGS, IGEMM_WINDOWS_ARG_NAMES)

DEFINE_ALL_ENTRY_POINTS(avx512, KILN_ISA_AVX512)
DEFINE_ALL_ENTRY_POINTS(avx2, KILN_ISA_AVX2)
DEFINE_ALL_ENTRY_POINTS(generic, KILN_ISA_GENERIC)
