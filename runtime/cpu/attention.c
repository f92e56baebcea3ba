/*===- attention.c - fused scaled dot-product attention -------------------===*
 *
 * out = softmax(mask(scale * q k^T)) v for every (b0, b1) of two batch dims,
 * the score matrix never written whole: what kiln-cpu-lower-ukernels calls
 * for a `kiln.flash_attention` (a kiln.attention with many query rows that
 * convert-kiln-to-linalg kept whole for the CPU target's AVX-512 or AVX2
 * code).
 *
 * The queries go in groups of 32 along the vector lanes, and everything is
 * computed transposed: for a tile of keys, the scores s^T [key][query]
 * (a register tile of 8 keys by 32 queries, broadcasting 8 key elements and
 * loading 2 vectors of the group's packed q^T per step of d), then the
 * online softmax (running max m, running sum l, per query: vertical maxima,
 * sums and exponentials, no horizontal reductions), then acc^T += v^T p^T
 * (a register tile of 8 value columns by 32 queries over the tile's keys,
 * broadcasting value elements, which lie along the value rows). The
 * unnormalized output acc^T [dv][32] stays in L1 across the key tiles and
 * is transposed into the output rows at the end, divided by l.
 *
 *   s     = scale * q_tile k_tile^T, masked
 *   m'    = max(m, rowmax(s))
 *   p     = exp(s - m')              (0 where m' is -inf)
 *   c     = exp(m - m')              (1 where m = m')
 *   l'    = c * l + rowsum(p)
 *   acc'  = c * acc + p v_tile
 *
 * A float mask is added to the scaled scores; a bool mask (one byte a value)
 * replaces them by `fill` where it is true. A key tile that the mask hides
 * from the whole query group is skipped: exactly, for a float mask of -inf,
 * or a bool mask once each query's running max is at least 104 above
 * `fill` (exp then gives 0 for the tile's probabilities, see exp_avx512).
 * Grouped-query attention: query head b1 reads key/value head
 * b1 / kv_group.
 *
 * AVX2 runs the same steps on 8-lane vectors, its register tiles 6 rows by
 * half a group (16 queries). Processors without either run them in plain C
 * (the compiler picks this kernel only for AVX-512 and AVX2 targets; the
 * fallback keeps a model correct elsewhere).
 *
 *===----------------------------------------------------------------------===*/

#include "kiln_ukernels.h"
#include "ukernel_avx2.h"
#include "ukernel_avx512.h"
#include "ukernel_common.h"

#include <omp.h>
#include <string.h>

#define KILN_EXPORT __attribute__((visibility("default")))
#define AVX512_ATTRS __attribute__((target("avx512f,avx512bw,avx512vl")))
#define AVX2_ATTRS __attribute__((target("avx2,fma")))

/* Queries per group (two vectors), keys per tile, rows of the register
 * tiles. */
enum { kGroup = 32, kKeyTile = 128, kTileRows = 8 };

/* Below this argument exp gives exactly 0 (its denormal results end a
 * little lower); the tile skip relies on it. */
static const float kExpFloor = -104.0f;

/* exp's reduction x = n ln 2 + r (ln 2 in two parts, so that n * kLn2Hi
 * is exact) and its polynomial for exp(r), highest coefficient first (the
 * Cephes single-precision one), shared by every body. */
static const float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f,
                   kLn2Lo = -2.12194440e-4f;
static const float kExpPoly[6] = {1.9875691500e-4f, 1.3981999507e-3f,
                                  8.3334519073e-3f, 4.1665795894e-2f,
                                  1.6666665459e-1f, 5.0000001201e-1f};

typedef struct attention_problem {
  int64_t batch0, batch1, lq, lk, d, dv, kv_group;
  const float *q, *k, *v;
  float *o;
  int64_t q_b0, q_b1, q_q, q_d;
  int64_t k_b0, k_b1, k_k, k_d;
  int64_t v_b0, v_b1, v_k, v_d;
  int64_t o_b0, o_b1, o_q, o_d;
  float scale;
  /* 0 none, 1 float (added), 2 bool bytes (fill where true). */
  int64_t mask_kind;
  const char *mask;
  int64_t m_b0, m_b1, m_q, m_k;
  float fill;
} attention_problem;

/* One query group's view of the problem: its keys and values, strided as
 * given or packed (rows d and dv floats apart). */
typedef struct attention_group {
  const float *k, *v;
  int64_t k_k, k_d, v_k, v_d;
  const char *mask;
  int64_t nq; /* the group's query count (<= kGroup) */
} attention_group;

static inline float mask_float(const attention_problem *p, const char *mask,
                               int64_t q, int64_t key) {
  return *(const float *)(mask + 4 * (q * p->m_q + key * p->m_k));
}

static inline int mask_bool(const attention_problem *p, const char *mask,
                            int64_t q, int64_t key) {
  return mask[q * p->m_q + key * p->m_k] != 0;
}

/* Whether the mask hides keys [k0, k0 + nk) from every query of the group
 * whose running maxima are m (the skip is exact, see the file comment). */
static int tile_hidden(const attention_problem *p, const attention_group *g,
                       int64_t k0, int64_t nk, const float *m) {
  if (p->mask_kind == 2)
    for (int64_t i = 0; i < g->nq; ++i)
      if (!(m[i] - p->fill >= -kExpFloor))
        return 0;
  int64_t nq = p->m_q ? g->nq : 1, keys = p->m_k ? nk : 1;
  for (int64_t i = 0; i < nq; ++i)
    for (int64_t j = 0; j < keys; ++j) {
      if (p->mask_kind == 1 &&
          mask_float(p, g->mask, i, k0 + j) != -__builtin_inff())
        return 0;
      if (p->mask_kind == 2 && !mask_bool(p, g->mask, i, k0 + j))
        return 0;
    }
  return 1;
}

/* Applies the mask to the scores st[key][query] of keys [k0, k0 + nk). */
static void apply_mask(const attention_problem *p, const attention_group *g,
                       int64_t k0, int64_t nk, float *st) {
  for (int64_t j = 0; j < nk; ++j) {
    float *row = st + j * kGroup;
    if (p->m_q == 0) {
      /* One value for every query of this key. */
      if (p->mask_kind == 1) {
        float add = mask_float(p, g->mask, 0, k0 + j);
        for (int i = 0; i < kGroup; ++i)
          row[i] += add;
      } else if (mask_bool(p, g->mask, 0, k0 + j)) {
        for (int i = 0; i < kGroup; ++i)
          row[i] = p->fill;
      }
      continue;
    }
    if (p->mask_kind == 1)
      for (int64_t i = 0; i < g->nq; ++i)
        row[i] += mask_float(p, g->mask, i, k0 + j);
    else
      for (int64_t i = 0; i < g->nq; ++i)
        if (mask_bool(p, g->mask, i, k0 + j))
          row[i] = p->fill;
  }
}

/* q^T of the group, scaled: qt[e][i] = scale * q[q0 + i][e], zero for the
 * queries past the group's count. */
static void pack_queries(const attention_problem *p, const float *q, int64_t nq,
                         float *qt) {
  for (int64_t e = 0; e < p->d; ++e) {
    float *row = qt + e * kGroup;
    for (int64_t i = 0; i < kGroup; ++i)
      row[i] = i < nq ? p->scale * q[i * p->q_q + e * p->q_d] : 0.0f;
  }
}

/*===----------------------------------------------------------------------===*
 * AVX-512
 *===----------------------------------------------------------------------===*/

/* exp(x) for x <= 0 (scores minus their running max), 0 below kExpFloor:
 * x = n ln 2 + r with |r| <= ln 2 / 2, exp(r) by a degree-7 polynomial
 * (the Cephes single-precision one), times 2^n by VSCALEFPS. Within 2 ulp
 * of the correctly rounded value. */
AVX512_ATTRS static inline __m512 exp_avx512(__m512 x) {
  __mmask16 live = _mm512_cmp_ps_mask(x, _mm512_set1_ps(kExpFloor), _CMP_GE_OQ);
  x = _mm512_max_ps(x, _mm512_set1_ps(kExpFloor));
  __m512 n =
      _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(kLog2e)),
                           _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Hi), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(kLn2Lo), r);
  __m512 y = _mm512_set1_ps(kExpPoly[0]);
  for (int i = 1; i < 6; ++i)
    y = _mm512_fmadd_ps(y, r, _mm512_set1_ps(kExpPoly[i]));
  y = _mm512_fmadd_ps(y, _mm512_mul_ps(r, r),
                      _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  return _mm512_maskz_mov_ps(live, _mm512_scalef_ps(y, n));
}

/* The register tile of both products: acc[i][0..32) += sum_j base[i][j *
 * step] * vec[j][0..32) for j < n, vec's rows kGroup floats apart. The
 * scores broadcast 8 key rows' elements against q^T (step: the key's
 * element stride), the output 8 value columns' elements against p^T (step:
 * the value rows' stride). */
AVX512_ATTRS static inline void tile8_avx512(int64_t n,
                                             const float *const base[8],
                                             int64_t step, const float *vec,
                                             __m512 acc[kTileRows][2]) {
  const float *b0 = base[0], *b1 = base[1], *b2 = base[2], *b3 = base[3],
              *b4 = base[4], *b5 = base[5], *b6 = base[6], *b7 = base[7];
  for (int64_t j = 0; j < n; ++j) {
    __m512 v0 = _mm512_load_ps(vec + j * kGroup);
    __m512 v1 = _mm512_load_ps(vec + j * kGroup + 16);
    int64_t at = j * step;
#define KILN_TILE_ROW(i, b)                                                    \
  {                                                                            \
    __m512 x = _mm512_set1_ps(b[at]);                                          \
    acc[i][0] = _mm512_fmadd_ps(x, v0, acc[i][0]);                             \
    acc[i][1] = _mm512_fmadd_ps(x, v1, acc[i][1]);                             \
  }
    KILN_TILE_ROW(0, b0)
    KILN_TILE_ROW(1, b1)
    KILN_TILE_ROW(2, b2)
    KILN_TILE_ROW(3, b3)
    KILN_TILE_ROW(4, b4)
    KILN_TILE_ROW(5, b5)
    KILN_TILE_ROW(6, b6)
    KILN_TILE_ROW(7, b7)
#undef KILN_TILE_ROW
  }
}

/* apply_mask for a mask of rows along the keys (m_k = 1, m_q != 0, a
 * causal mask): 16 queries by 16 keys at a time, loaded along the keys and
 * transposed in registers, instead of one element at a time. */
AVX512_ATTRS static void apply_mask_rows_avx512(const attention_problem *p,
                                                const attention_group *g,
                                                int64_t k0, int64_t nk,
                                                float *st) {
  const __m512 fill = _mm512_set1_ps(p->fill);
  for (int h = 0; h < 2; ++h) {
    int64_t nq = min64(16, g->nq - 16 * h);
    for (int64_t j0 = 0; j0 < nk && nq > 0; j0 += 16) {
      __mmask16 keys = lanes(nk - j0);
      __m512 r[16];
      for (int64_t i = 0; i < 16; ++i) {
        int64_t at = (16 * h + i) * p->m_q + k0 + j0;
        if (i >= nq)
          r[i] = _mm512_setzero_ps();
        else if (p->mask_kind == 1)
          r[i] = _mm512_maskz_loadu_ps(keys, (const float *)g->mask + at);
        else
          r[i] = _mm512_cvtepi32_ps(
              _mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(keys, g->mask + at)));
      }
      transpose16_avx512(r);
      for (int k = 0; k < 16; ++k) {
        int64_t j = j0 + kTransposeColumn[k];
        if (j >= nk)
          continue;
        float *row = st + j * kGroup + 16 * h;
        __m512 s = _mm512_load_ps(row);
        if (p->mask_kind == 1)
          s = _mm512_add_ps(s, r[k]);
        else
          s = _mm512_mask_mov_ps(
              s, _mm512_cmp_ps_mask(r[k], _mm512_setzero_ps(), _CMP_NEQ_UQ),
              fill);
        _mm512_store_ps(row, s);
      }
    }
  }
}

/* One query group over all keys. Scratch: qt (d x 32), st (kKeyTile x 32),
 * ot (dv rounded up to 8, x 32), all 64-byte aligned. */
AVX512_ATTRS static void group_avx512(const attention_problem *p,
                                      const attention_group *g, const float *q,
                                      float *o, float *qt, float *st,
                                      float *ot) {
  const int64_t d = p->d, dv = p->dv;
  const int64_t dv8 = ceil_div(dv, kTileRows) * kTileRows;
  pack_queries(p, q, g->nq, qt);
  memset(ot, 0, (size_t)(dv8 * kGroup) * sizeof(float));
  const __m512 minus_inf = _mm512_set1_ps(-__builtin_inff());
  __m512 m[2] = {minus_inf, minus_inf};
  __m512 l[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  float m_lanes[kGroup] __attribute__((aligned(64)));
  for (int64_t k0 = 0; k0 < p->lk; k0 += kKeyTile) {
    int64_t nk = min64(kKeyTile, p->lk - k0);
    if (p->mask_kind) {
      _mm512_store_ps(m_lanes, m[0]);
      _mm512_store_ps(m_lanes + 16, m[1]);
      if (tile_hidden(p, g, k0, nk, m_lanes))
        continue;
    }
    /* Scores, 8 keys at a time; past the last key, rows repeat it. */
    for (int64_t j = 0; j < nk; j += kTileRows) {
      const float *rows[kTileRows];
      __m512 acc[kTileRows][2];
      for (int i = 0; i < kTileRows; ++i) {
        rows[i] = g->k + (k0 + min64(j + i, nk - 1)) * g->k_k;
        acc[i][0] = acc[i][1] = _mm512_setzero_ps();
      }
      tile8_avx512(d, rows, g->k_d, qt, acc);
      for (int i = 0; i < kTileRows; ++i) {
        _mm512_store_ps(st + (j + i) * kGroup, acc[i][0]);
        _mm512_store_ps(st + (j + i) * kGroup + 16, acc[i][1]);
      }
    }
    if (p->mask_kind && p->m_k == 1 && p->m_q != 0)
      apply_mask_rows_avx512(p, g, k0, nk, st);
    else if (p->mask_kind)
      apply_mask(p, g, k0, nk, st);
    /* Online softmax, along the lanes. */
    __m512 t0 = minus_inf, t1 = minus_inf;
    for (int64_t j = 0; j < nk; ++j) {
      t0 = _mm512_max_ps(t0, _mm512_load_ps(st + j * kGroup));
      t1 = _mm512_max_ps(t1, _mm512_load_ps(st + j * kGroup + 16));
    }
    __m512 mn[2] = {_mm512_max_ps(m[0], t0), _mm512_max_ps(m[1], t1)};
    __m512 c[2];
    for (int h = 0; h < 2; ++h) {
      /* c = 1 where the max did not move (-inf included). */
      __mmask16 same = _mm512_cmp_ps_mask(m[h], mn[h], _CMP_EQ_OQ);
      c[h] = _mm512_mask_mov_ps(exp_avx512(_mm512_sub_ps(m[h], mn[h])), same,
                                _mm512_set1_ps(1.0f));
    }
    __mmask16 live0 = _mm512_cmp_ps_mask(mn[0], minus_inf, _CMP_NEQ_OQ);
    __mmask16 live1 = _mm512_cmp_ps_mask(mn[1], minus_inf, _CMP_NEQ_OQ);
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    for (int64_t j = 0; j < nk; ++j) {
      float *row = st + j * kGroup;
      __m512 p0 = _mm512_maskz_mov_ps(
          live0, exp_avx512(_mm512_sub_ps(_mm512_load_ps(row), mn[0])));
      __m512 p1 = _mm512_maskz_mov_ps(
          live1, exp_avx512(_mm512_sub_ps(_mm512_load_ps(row + 16), mn[1])));
      _mm512_store_ps(row, p0);
      _mm512_store_ps(row + 16, p1);
      s0 = _mm512_add_ps(s0, p0);
      s1 = _mm512_add_ps(s1, p1);
    }
    l[0] = _mm512_fmadd_ps(l[0], c[0], s0);
    l[1] = _mm512_fmadd_ps(l[1], c[1], s1);
    m[0] = mn[0];
    m[1] = mn[1];
    /* acc = c acc + p v, 8 value columns at a time; past the last column,
     * the columns repeat it (their rows of ot are never stored). */
    const float *vtile = g->v + k0 * g->v_k;
    for (int64_t c0 = 0; c0 < dv8; c0 += kTileRows) {
      const float *cols[kTileRows];
      __m512 acc[kTileRows][2];
      float *rows = ot + c0 * kGroup;
      for (int i = 0; i < kTileRows; ++i) {
        cols[i] = vtile + min64(c0 + i, dv - 1) * g->v_d;
        acc[i][0] = _mm512_mul_ps(_mm512_load_ps(rows + i * kGroup), c[0]);
        acc[i][1] = _mm512_mul_ps(_mm512_load_ps(rows + i * kGroup + 16), c[1]);
      }
      tile8_avx512(nk, cols, g->v_k, st, acc);
      for (int i = 0; i < kTileRows; ++i) {
        _mm512_store_ps(rows + i * kGroup, acc[i][0]);
        _mm512_store_ps(rows + i * kGroup + 16, acc[i][1]);
      }
    }
  }
  /* out[i][e] = ot[e][i] / l[i]: 16 x 16 blocks, transposed. */
  __m512 inv[2] = {_mm512_div_ps(_mm512_set1_ps(1.0f), l[0]),
                   _mm512_div_ps(_mm512_set1_ps(1.0f), l[1])};
  float block[16 * 16] __attribute__((aligned(64)));
  for (int h = 0; h < 2 && 16 * h < g->nq; ++h)
    for (int64_t e0 = 0; e0 < dv; e0 += 16) {
      int64_t ne = min64(16, dv - e0), nq = min64(16, g->nq - 16 * h);
      for (int64_t e = 0; e < ne; ++e)
        _mm512_store_ps(
            block + e * 16,
            _mm512_mul_ps(_mm512_load_ps(ot + (e0 + e) * kGroup + 16 * h),
                          inv[h]));
      for (int64_t i = 0; i < nq; ++i) {
        float *out = o + (16 * h + i) * p->o_q + e0 * p->o_d;
        for (int64_t e = 0; e < ne; ++e)
          out[e * p->o_d] = block[e * 16 + i];
      }
    }
}

/*===----------------------------------------------------------------------===*
 * AVX2 + FMA
 *===----------------------------------------------------------------------===*/

/* Rows of the AVX2 register tiles: 6 rows by 16 queries (two halves per
 * group), 12 accumulators of the 16 registers. */
enum { kTileRowsAvx2 = 6 };

/* exp(x) for x <= 0, 0 from -88 down (2^n below the smallest normal float,
 * as exp_generic flushes it): the reduction and polynomial of exp_avx512,
 * 2^n from the exponent bits. NaN stays NaN. */
AVX2_ATTRS static inline __m256 exp_avx2(__m256 x) {
  x = _mm256_max_ps(_mm256_set1_ps(-88.0f), x);
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(kLog2e)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Hi), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(kLn2Lo), r);
  __m256 y = _mm256_set1_ps(kExpPoly[0]);
  for (int i = 1; i < 6; ++i)
    y = _mm256_fmadd_ps(y, r, _mm256_set1_ps(kExpPoly[i]));
  y = _mm256_fmadd_ps(y, _mm256_mul_ps(r, r),
                      _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  /* n >= -127 after the clamp; n = -127 gives the bits of 0. */
  __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
  return _mm256_mul_ps(y, _mm256_castsi256_ps(_mm256_slli_epi32(e, 23)));
}

/* tile8_avx512 for half a group: acc[i][0..16) += sum_j base[i][j * step] *
 * vec[j][0..16) for j < n, vec's rows kGroup floats apart. */
AVX2_ATTRS static inline void tile6_avx2(int64_t n,
                                         const float *const base[kTileRowsAvx2],
                                         int64_t step, const float *vec,
                                         __m256 acc[kTileRowsAvx2][2]) {
  const float *b0 = base[0], *b1 = base[1], *b2 = base[2], *b3 = base[3],
              *b4 = base[4], *b5 = base[5];
  for (int64_t j = 0; j < n; ++j) {
    __m256 v0 = _mm256_load_ps(vec + j * kGroup);
    __m256 v1 = _mm256_load_ps(vec + j * kGroup + 8);
    int64_t at = j * step;
#define KILN_TILE_ROW(i, b)                                                    \
  {                                                                            \
    __m256 x = _mm256_broadcast_ss(b + at);                                    \
    acc[i][0] = _mm256_fmadd_ps(x, v0, acc[i][0]);                             \
    acc[i][1] = _mm256_fmadd_ps(x, v1, acc[i][1]);                             \
  }
    KILN_TILE_ROW(0, b0)
    KILN_TILE_ROW(1, b1)
    KILN_TILE_ROW(2, b2)
    KILN_TILE_ROW(3, b3)
    KILN_TILE_ROW(4, b4)
    KILN_TILE_ROW(5, b5)
#undef KILN_TILE_ROW
  }
}

/* apply_mask_rows_avx512 with 8 x 8 blocks. */
AVX2_ATTRS static void apply_mask_rows_avx2(const attention_problem *p,
                                            const attention_group *g,
                                            int64_t k0, int64_t nk, float *st) {
  const __m256 fill = _mm256_set1_ps(p->fill);
  for (int h = 0; h < kGroup / 8; ++h) {
    int64_t nq = min64(8, g->nq - 8 * h);
    for (int64_t j0 = 0; j0 < nk && nq > 0; j0 += 8) {
      int64_t keys = min64(8, nk - j0);
      __m256 r[8];
      for (int64_t i = 0; i < 8; ++i) {
        int64_t at = (8 * h + i) * p->m_q + k0 + j0;
        if (i >= nq) {
          r[i] = _mm256_setzero_ps();
        } else if (keys == 8 && p->mask_kind == 1) {
          r[i] = _mm256_loadu_ps((const float *)g->mask + at);
        } else if (keys == 8) {
          int64_t bytes;
          memcpy(&bytes, g->mask + at, sizeof bytes);
          r[i] = _mm256_cvtepi32_ps(
              _mm256_cvtepi8_epi32(_mm_cvtsi64_si128(bytes)));
        } else {
          float row[8] = {0};
          for (int64_t j = 0; j < keys; ++j)
            row[j] = p->mask_kind == 1 ? ((const float *)g->mask)[at + j]
                                       : (float)(g->mask[at + j] != 0);
          r[i] = _mm256_loadu_ps(row);
        }
      }
      transpose8_avx(r);
      for (int64_t k = 0; k < keys; ++k) {
        float *row = st + (j0 + k) * kGroup + 8 * h;
        __m256 s = _mm256_load_ps(row);
        if (p->mask_kind == 1)
          s = _mm256_add_ps(s, r[k]);
        else
          s = _mm256_blendv_ps(
              s, fill, _mm256_cmp_ps(r[k], _mm256_setzero_ps(), _CMP_NEQ_UQ));
        _mm256_store_ps(row, s);
      }
    }
  }
}

/* group_avx512 with four vectors a group. */
AVX2_ATTRS static void group_avx2(const attention_problem *p,
                                  const attention_group *g, const float *q,
                                  float *o, float *qt, float *st, float *ot) {
  enum { kVectors = kGroup / 8 };
  const int64_t d = p->d, dv = p->dv;
  pack_queries(p, q, g->nq, qt);
  memset(ot, 0, (size_t)(dv * kGroup) * sizeof(float));
  const __m256 minus_inf = _mm256_set1_ps(-__builtin_inff());
  __m256 m[kVectors], l[kVectors];
  for (int h = 0; h < kVectors; ++h) {
    m[h] = minus_inf;
    l[h] = _mm256_setzero_ps();
  }
  float m_lanes[kGroup] __attribute__((aligned(32)));
  for (int64_t k0 = 0; k0 < p->lk; k0 += kKeyTile) {
    int64_t nk = min64(kKeyTile, p->lk - k0);
    if (p->mask_kind) {
      for (int h = 0; h < kVectors; ++h)
        _mm256_store_ps(m_lanes + 8 * h, m[h]);
      if (tile_hidden(p, g, k0, nk, m_lanes))
        continue;
    }
    /* Scores, 6 keys by half a group at a time; past the last key, rows
     * repeat it (and are not stored). */
    for (int64_t j = 0; j < nk; j += kTileRowsAvx2) {
      const float *rows[kTileRowsAvx2];
      int64_t stored = min64(kTileRowsAvx2, nk - j);
      for (int i = 0; i < kTileRowsAvx2; ++i)
        rows[i] = g->k + (k0 + min64(j + i, nk - 1)) * g->k_k;
      for (int h = 0; h < 2; ++h) {
        __m256 acc[kTileRowsAvx2][2];
        for (int i = 0; i < kTileRowsAvx2; ++i)
          acc[i][0] = acc[i][1] = _mm256_setzero_ps();
        tile6_avx2(d, rows, g->k_d, qt + 16 * h, acc);
        for (int64_t i = 0; i < stored; ++i) {
          _mm256_store_ps(st + (j + i) * kGroup + 16 * h, acc[i][0]);
          _mm256_store_ps(st + (j + i) * kGroup + 16 * h + 8, acc[i][1]);
        }
      }
    }
    if (p->mask_kind && p->m_k == 1 && p->m_q != 0)
      apply_mask_rows_avx2(p, g, k0, nk, st);
    else if (p->mask_kind)
      apply_mask(p, g, k0, nk, st);
    /* Online softmax, along the lanes. */
    __m256 mn[kVectors], c[kVectors], live[kVectors], sum[kVectors];
    for (int h = 0; h < kVectors; ++h)
      mn[h] = m[h];
    for (int64_t j = 0; j < nk; ++j)
      for (int h = 0; h < kVectors; ++h)
        mn[h] = _mm256_max_ps(mn[h], _mm256_load_ps(st + j * kGroup + 8 * h));
    for (int h = 0; h < kVectors; ++h) {
      /* c = 1 where the max did not move (-inf included). */
      c[h] = _mm256_blendv_ps(exp_avx2(_mm256_sub_ps(m[h], mn[h])),
                              _mm256_set1_ps(1.0f),
                              _mm256_cmp_ps(m[h], mn[h], _CMP_EQ_OQ));
      live[h] = _mm256_cmp_ps(mn[h], minus_inf, _CMP_NEQ_OQ);
      sum[h] = _mm256_setzero_ps();
    }
    for (int64_t j = 0; j < nk; ++j)
      for (int h = 0; h < kVectors; ++h) {
        float *row = st + j * kGroup + 8 * h;
        __m256 e = _mm256_and_ps(
            live[h], exp_avx2(_mm256_sub_ps(_mm256_load_ps(row), mn[h])));
        _mm256_store_ps(row, e);
        sum[h] = _mm256_add_ps(sum[h], e);
      }
    for (int h = 0; h < kVectors; ++h) {
      l[h] = _mm256_fmadd_ps(l[h], c[h], sum[h]);
      m[h] = mn[h];
    }
    /* acc = c acc + p v, 6 value columns by half a group at a time; past
     * the last column, the columns repeat it (and are not stored). */
    const float *vtile = g->v + k0 * g->v_k;
    for (int64_t c0 = 0; c0 < dv; c0 += kTileRowsAvx2) {
      const float *cols[kTileRowsAvx2];
      int64_t ncols = min64(kTileRowsAvx2, dv - c0);
      for (int i = 0; i < kTileRowsAvx2; ++i)
        cols[i] = vtile + min64(c0 + i, dv - 1) * g->v_d;
      for (int h = 0; h < 2; ++h) {
        __m256 acc[kTileRowsAvx2][2];
        for (int64_t i = 0; i < kTileRowsAvx2; ++i) {
          float *row = ot + (c0 + min64(i, ncols - 1)) * kGroup + 16 * h;
          acc[i][0] = _mm256_mul_ps(_mm256_load_ps(row), c[2 * h]);
          acc[i][1] = _mm256_mul_ps(_mm256_load_ps(row + 8), c[2 * h + 1]);
        }
        tile6_avx2(nk, cols, g->v_k, st + 16 * h, acc);
        for (int64_t i = 0; i < ncols; ++i) {
          float *row = ot + (c0 + i) * kGroup + 16 * h;
          _mm256_store_ps(row, acc[i][0]);
          _mm256_store_ps(row + 8, acc[i][1]);
        }
      }
    }
  }
  /* out[i][e] = ot[e][i] / l[i], through blocks of 8 columns. */
  __m256 inv[kVectors];
  for (int h = 0; h < kVectors; ++h)
    inv[h] = _mm256_div_ps(_mm256_set1_ps(1.0f), l[h]);
  float block[8 * kGroup] __attribute__((aligned(32)));
  for (int64_t e0 = 0; e0 < dv; e0 += 8) {
    int64_t ne = min64(8, dv - e0);
    for (int64_t e = 0; e < ne; ++e)
      for (int h = 0; h < kVectors; ++h)
        _mm256_store_ps(
            block + e * kGroup + 8 * h,
            _mm256_mul_ps(_mm256_load_ps(ot + (e0 + e) * kGroup + 8 * h),
                          inv[h]));
    for (int64_t i = 0; i < g->nq; ++i) {
      float *out = o + i * p->o_q + e0 * p->o_d;
      for (int64_t e = 0; e < ne; ++e)
        out[e * p->o_d] = block[e * kGroup + i];
    }
  }
}

/*===----------------------------------------------------------------------===*
 * Plain C, for processors without AVX2
 *===----------------------------------------------------------------------===*/

/* exp(x) for x <= 0, 0 below kExpFloor: the same reduction and polynomial
 * as exp_avx512, 2^n from the exponent bits (denormals flush to 0). */
static inline float exp_generic(float x) {
  if (!(x >= kExpFloor))
    return x != x ? x : 0.0f;
  float n = __builtin_roundf(x * kLog2e);
  float r = x - n * kLn2Hi;
  r = r - n * kLn2Lo;
  float y = kExpPoly[0];
  for (int i = 1; i < 6; ++i)
    y = y * r + kExpPoly[i];
  y = y * (r * r) + (r + 1.0f);
  int e = (int)n;
  if (e < -126)
    return 0.0f;
  union {
    uint32_t bits;
    float value;
  } scale = {(uint32_t)(e + 127) << 23};
  return y * scale.value;
}

static void group_generic(const attention_problem *p, const attention_group *g,
                          const float *q, float *o, float *qt, float *st,
                          float *ot) {
  const int64_t d = p->d, dv = p->dv, nq = g->nq;
  pack_queries(p, q, nq, qt);
  memset(ot, 0, (size_t)(dv * kGroup) * sizeof(float));
  float m[kGroup], l[kGroup], c[kGroup];
  for (int i = 0; i < kGroup; ++i) {
    m[i] = -__builtin_inff();
    l[i] = 0.0f;
  }
  for (int64_t k0 = 0; k0 < p->lk; k0 += kKeyTile) {
    int64_t nk = min64(kKeyTile, p->lk - k0);
    if (p->mask_kind && tile_hidden(p, g, k0, nk, m))
      continue;
    for (int64_t j = 0; j < nk; ++j) {
      const float *key = g->k + (k0 + j) * g->k_k;
      float *row = st + j * kGroup;
      for (int i = 0; i < kGroup; ++i)
        row[i] = 0.0f;
      for (int64_t e = 0; e < d; ++e) {
        float ke = key[e * g->k_d];
        for (int i = 0; i < kGroup; ++i)
          row[i] += ke * qt[e * kGroup + i];
      }
    }
    if (p->mask_kind)
      apply_mask(p, g, k0, nk, st);
    for (int i = 0; i < kGroup; ++i) {
      float t = -__builtin_inff();
      for (int64_t j = 0; j < nk; ++j)
        t = st[j * kGroup + i] > t ? st[j * kGroup + i] : t;
      float mn = t > m[i] ? t : m[i];
      c[i] = m[i] == mn ? 1.0f : exp_generic(m[i] - mn);
      float sum = 0.0f;
      for (int64_t j = 0; j < nk; ++j) {
        float *s = st + j * kGroup + i;
        *s = mn == -__builtin_inff() ? 0.0f : exp_generic(*s - mn);
        sum += *s;
      }
      l[i] = l[i] * c[i] + sum;
      m[i] = mn;
    }
    const float *vtile = g->v + k0 * g->v_k;
    for (int64_t e = 0; e < dv; ++e) {
      float *acc = ot + e * kGroup;
      for (int i = 0; i < kGroup; ++i)
        acc[i] *= c[i];
      for (int64_t j = 0; j < nk; ++j) {
        float ve = vtile[j * g->v_k + e * g->v_d];
        for (int i = 0; i < kGroup; ++i)
          acc[i] += ve * st[j * kGroup + i];
      }
    }
  }
  for (int64_t i = 0; i < nq; ++i)
    for (int64_t e = 0; e < dv; ++e)
      o[i * p->o_q + e * p->o_d] = ot[e * kGroup + i] / l[i];
}

/*===----------------------------------------------------------------------===*
 * Driver
 *===----------------------------------------------------------------------===*/

/* rows x cols floats at `src` (rows `rs`, elements `es` apart) into `dst`,
 * contiguous. */
static void pack_rows(const float *src, int64_t rows, int64_t cols, int64_t rs,
                      int64_t es, float *dst) {
  for (int64_t r = 0; r < rows; ++r) {
    const float *from = src + r * rs;
    float *to = dst + r * cols;
    if (es == 1)
      for (int64_t c = 0; c < cols; ++c)
        to[c] = from[c];
    else
      for (int64_t c = 0; c < cols; ++c)
        to[c] = from[c * es];
  }
}

static void run_attention(kiln_isa requested, const attention_problem *p) {
  if (p->batch0 <= 0 || p->batch1 <= 0 || p->lq <= 0 || p->dv <= 0)
    return;
  kiln_isa isa = kiln_ukernel_resolve_isa(requested);
  int64_t groups = ceil_div(p->lq, kGroup);
  int64_t items = p->batch0 * p->batch1 * groups;
  int64_t dv8 = ceil_div(p->dv, kTileRows) * kTileRows;
  size_t qt_bytes = (size_t)(max64(p->d, 1) * kGroup) * sizeof(float);
  size_t st_bytes = (size_t)(kKeyTile * kGroup) * sizeof(float);
  size_t ot_bytes = (size_t)(dv8 * kGroup) * sizeof(float);
  /* Keys and values whose rows are not contiguous (a head's slice of a
   * [batch, tokens, heads * dim] product, read in place) are copied, a
   * head at a time, into the thread's buffer: every query group of the
   * head sweeps them, and rows kilobytes apart each sit in their own page
   * (8 heads x 1024 tokens x 64 with rows 6 KiB apart: 14-15 ms against 9
   * contiguous, two threads). */
  int pack_k = p->lk > kKeyTile && !(p->k_k == p->d && p->k_d == 1);
  int pack_v = p->lk > kKeyTile && !(p->v_k == p->dv && p->v_d == 1);
  size_t k_bytes = (size_t)(p->lk * p->d) * sizeof(float);
  size_t v_bytes = (size_t)(p->lk * p->dv) * sizeof(float);
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  if (items < 2)
    threads = 1;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    float *qt = kiln_buffer_alloc(qt_bytes);
    float *st = kiln_buffer_alloc(st_bytes);
    float *ot = kiln_buffer_alloc(ot_bytes);
    float *kbuf = pack_k ? kiln_buffer_alloc(k_bytes) : NULL;
    float *vbuf = pack_v ? kiln_buffer_alloc(v_bytes) : NULL;
    int64_t packed = -1; /* the (b0, key/value head) kbuf and vbuf hold */
    /* Contiguous ranges of (batch, group): a thread's groups share their
     * keys and values, which stay in its cache. */
    int64_t begin, end;
    split_range(items, omp_get_num_threads(), omp_get_thread_num(), &begin,
                &end);
    for (int64_t item = begin; item < end; ++item) {
      int64_t bi = item / groups, group = item % groups;
      int64_t b0 = bi / p->batch1, b1 = bi % p->batch1;
      int64_t kv1 = b1 / p->kv_group;
      attention_group g;
      int64_t q0 = group * kGroup;
      g.nq = min64(kGroup, p->lq - q0);
      g.k = p->k + b0 * p->k_b0 + kv1 * p->k_b1;
      g.v = p->v + b0 * p->v_b0 + kv1 * p->v_b1;
      g.k_k = p->k_k, g.k_d = p->k_d, g.v_k = p->v_k, g.v_d = p->v_d;
      int64_t kv = b0 * (p->batch1 / p->kv_group) + kv1;
      if ((pack_k || pack_v) && packed != kv) {
        if (pack_k)
          pack_rows(g.k, p->lk, p->d, p->k_k, p->k_d, kbuf);
        if (pack_v)
          pack_rows(g.v, p->lk, p->dv, p->v_k, p->v_d, vbuf);
        packed = kv;
      }
      if (pack_k)
        g.k = kbuf, g.k_k = p->d, g.k_d = 1;
      if (pack_v)
        g.v = vbuf, g.v_k = p->dv, g.v_d = 1;
      g.mask = p->mask_kind
                   ? p->mask + (p->mask_kind == 1 ? 4 : 1) *
                                   (b0 * p->m_b0 + b1 * p->m_b1 + q0 * p->m_q)
                   : NULL;
      const float *q = p->q + b0 * p->q_b0 + b1 * p->q_b1 + q0 * p->q_q;
      float *o = p->o + b0 * p->o_b0 + b1 * p->o_b1 + q0 * p->o_q;
      if (p->lk <= 0) {
        /* No keys: 0 / 0, as the unfused softmax gives. */
        for (int64_t i = 0; i < g.nq; ++i)
          for (int64_t e = 0; e < p->dv; ++e)
            o[i * p->o_q + e * p->o_d] = __builtin_nanf("");
        continue;
      }
      if (isa == KILN_ISA_AVX512)
        group_avx512(p, &g, q, o, qt, st, ot);
      else if (isa == KILN_ISA_AVX2)
        group_avx2(p, &g, q, o, qt, st, ot);
      else
        group_generic(p, &g, q, o, qt, st, ot);
    }
    kiln_buffer_free(qt);
    kiln_buffer_free(st);
    kiln_buffer_free(ot);
    kiln_buffer_free(kbuf);
    kiln_buffer_free(vbuf);
  }
}

static void sattention(kiln_isa isa, KILN_SATTENTION_ARGS) {
  (void)q_allocated, (void)k_allocated, (void)v_allocated, (void)o_allocated,
      (void)m_allocated;
  (void)q_zero, (void)k_zero, (void)v_zero, (void)o_zero, (void)m_zero;
  attention_problem p = {
      batch0,
      batch1,
      lq,
      lk,
      d,
      dv,
      kv_group,
      q_aligned + q_offset,
      k_aligned + k_offset,
      v_aligned + v_offset,
      o_aligned + o_offset,
      q_b0,
      q_b1,
      q_q,
      q_d,
      k_b0,
      k_b1,
      k_k,
      k_d,
      v_b0,
      v_b1,
      v_k,
      v_d,
      o_b0,
      o_b1,
      o_q,
      o_d,
      scale,
      mask_kind,
      mask_kind ? m_aligned + (mask_kind == 1 ? 4 : 1) * m_offset : NULL,
      m_b0,
      m_b1,
      m_q,
      m_k,
      fill};
  run_attention(isa, &p);
}

#define DEFINE_ATTENTION_ENTRY(suffix, ISA)                                    \
  KILN_EXPORT void kiln_ukernel_sattention_##suffix(KILN_SATTENTION_ARGS) {    \
    sattention(ISA, batch0, batch1, lq, lk, d, dv, kv_group, q_allocated,      \
               q_aligned, q_zero, q_offset, q_b0, q_b1, q_q, q_d, k_allocated, \
               k_aligned, k_zero, k_offset, k_b0, k_b1, k_k, k_d, v_allocated, \
               v_aligned, v_zero, v_offset, v_b0, v_b1, v_k, v_d, o_allocated, \
               o_aligned, o_zero, o_offset, o_b0, o_b1, o_q, o_d, scale,       \
               mask_kind, m_allocated, m_aligned, m_zero, m_offset, m_b0,      \
               m_b1, m_q, m_k, fill);                                          \
  }

/* The compiler declares one callee per mask element type (f32, or i1 as
 * bytes); the arguments are the same. */
DEFINE_ATTENTION_ENTRY(avx512, KILN_ISA_AVX512)
DEFINE_ATTENTION_ENTRY(avx2, KILN_ISA_AVX2)
DEFINE_ATTENTION_ENTRY(generic, KILN_ISA_GENERIC)
DEFINE_ATTENTION_ENTRY(bool_avx512, KILN_ISA_AVX512)
DEFINE_ATTENTION_ENTRY(bool_avx2, KILN_ISA_AVX2)
DEFINE_ATTENTION_ENTRY(bool_generic, KILN_ISA_GENERIC)
