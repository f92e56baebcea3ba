/*===- wgemm.c - f32 products with weight-only 8- and 4-bit weights --------===*
 *
 * C (+)= A * dequantize(B) for `--quantize=int8-weight|int4-weight`: A holds
 * f32 activations, B the compiler-packed integer weights with one f32 scale
 * per group of `group` k and per column; or, for asymmetric groups, a
 * bfloat16 scale and a bfloat16 offset (B's value is q * scale + offset: the
 * zero point folded in) in the same 4 bytes. A decoder's step is a product of a
 * few rows bound by reading B, so fewer weight bytes are fewer cycles: B is
 * converted to f32 in registers, right before its multiply-adds, and never
 * written back.
 *
 * B's packing (kiln-cpu-lower-ukernels): panels of 16 columns, [n / 16]
 * panels of k rows of 16 bytes for 8 bits ([k][16] signed bytes), or of k/2
 * rows of 16 bytes for 4 bits (byte j of row r: column j at k = 2r in its
 * low nibble and at k = 2r + 1 in its high nibble, both signed); the scales
 * likewise, [n / 16][k / group][16] f32 (or 32-bit pairs: the scale's
 * bfloat16 bits low, the offset's high); all zero-padded past n.
 *
 * A register tile is up to MR rows by NP panels (AVX-512: 8 x 2 panels, 16
 * zmm accumulators; AVX2: 4 x 1 panel as ymm pairs; generic: 2 x 1): per k,
 * the tile's weight vectors are converted and scaled once, then multiplied
 * into every row. Threads split the panels; each walks its panels' weights
 * once per row tile (a decoder step has one).
 *
 * A product of many rows (a prompt's prefill) would convert every weight
 * once per row tile, and on AVX-512 the 4-bit conversions cost more than
 * the multiply-adds they feed. From dequantize_rows() rows on, each thread
 * instead converts a run of its columns once into f32 panels, as the
 * compiler packs f32 weights, in a buffer of its own, and the packed f32
 * kernel (kiln_ukernel_sgemm_packed_*) multiplies all rows with them.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln_ukernels.h"
#include "ukernel_common.h"

#include <immintrin.h>
#include <omp.h>

#define KILN_EXPORT __attribute__((visibility("default")))

typedef float v16f __attribute__((vector_size(64), aligned(4)));
typedef int8_t v16b __attribute__((vector_size(16), aligned(1)));
typedef int32_t v16i __attribute__((vector_size(64), aligned(4)));

/* Columns per packed panel. */
enum { kPanel = 16 };

typedef struct wq_problem {
  int64_t m, n, k, group, bits;
  const float *a;
  int64_t a_m, a_k;
  const int8_t *b;
  const float *s;
  float *c;
  int64_t c_m, c_n;
  int accumulate, asymmetric;
} wq_problem;

/* Bytes of one packed panel of B. */
static inline int64_t panel_bytes(const wq_problem *p) {
  return p->bits == 4 ? p->k / 2 * kPanel : p->k * kPanel;
}

/* The AVX-512 one-row 4-bit group: sums[t] = sum over the group's k of
 * x[k] * q[k] for panel t (NP of them), q looked up from each nibble in a
 * 16-float table (vpermps reads an index's low 4 bits), and, unless x_sum is
 * NULL (symmetric groups), *x_sum = the group's sum of x. */
__attribute__((target("avx512f,avx512bw"), min_vector_width(512))) static void
wq_group4_avx512(const int8_t *const *panel, int NP, int64_t k0, int64_t group,
                 const float *x, int64_t a_k, v16f *sums, float *x_sum) {
  const __m512 table =
      _mm512_setr_ps(0.0f, 1.0f, 2.0f, 3.0f, 4.0f, 5.0f, 6.0f, 7.0f, -8.0f,
                     -7.0f, -6.0f, -5.0f, -4.0f, -3.0f, -2.0f, -1.0f);
  __m512 even[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  __m512 odd[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  float s0 = 0.0f, s1 = 0.0f;
  for (int64_t kk = k0; kk < k0 + group; kk += 2) {
    float x0 = x[kk * a_k], x1 = x[(kk + 1) * a_k];
    if (x_sum) {
      s0 += x0;
      s1 += x1;
    }
    __m512 b0 = _mm512_set1_ps(x0), b1 = _mm512_set1_ps(x1);
    for (int t = 0; t < NP; ++t) {
      __m512i bytes = _mm512_cvtepu8_epi32(
          _mm_loadu_si128((const __m128i *)(panel[t] + kk / 2 * kPanel)));
      even[t] =
          _mm512_fmadd_ps(b0, _mm512_permutexvar_ps(bytes, table), even[t]);
      odd[t] = _mm512_fmadd_ps(
          b1, _mm512_permutexvar_ps(_mm512_srli_epi32(bytes, 4), table),
          odd[t]);
    }
  }
  for (int t = 0; t < NP; ++t)
    _mm512_storeu_ps((float *)&sums[t], _mm512_add_ps(even[t], odd[t]));
  if (x_sum)
    *x_sum = s0 + s1;
}

/* One MR x NP tile: rows [i, i + MR) (mr of them real), panels [q, q + NP)
 * (np real), with group offsets if OFF. MR, NP and OFF are constants where
 * this is inlined. */
__attribute__((always_inline)) static inline void
wq_tile(const wq_problem *p, int64_t i, int MR, int mr, int64_t q, int NP,
        int np, int OFF, int LUT) {
  v16f acc[8][2];
  for (int r = 0; r < MR; ++r)
    for (int t = 0; t < NP; ++t)
      acc[r][t] = (v16f){0};
  const float *arow[8];
  for (int r = 0; r < MR; ++r)
    arow[r] = p->a + (i + (r < mr ? r : 0)) * p->a_m;
  int64_t groups = p->k / p->group;
  const int8_t *panel[2];
  const float *scale[2];
  for (int t = 0; t < NP; ++t) {
    int64_t qq = q + (t < np ? t : 0);
    panel[t] = p->b + qq * panel_bytes(p);
    scale[t] = p->s + qq * groups * kPanel;
  }
  for (int64_t g = 0; g < groups; ++g) {
    v16f sv[2], ov[2];
    for (int t = 0; t < NP; ++t) {
      if (OFF) {
        /* A bfloat16 is the high half of the float it rounds. */
        v16i pair;
        __builtin_memcpy(&pair, scale[t] + g * kPanel, sizeof(pair));
        sv[t] = (v16f)(pair << 16);
        ov[t] = (v16f)(pair & (int32_t)0xffff0000u);
      } else {
        __builtin_memcpy(&sv[t], scale[t] + g * kPanel, sizeof(v16f));
        ov[t] = (v16f){0};
      }
    }
    int64_t k0 = g * p->group;
    if (MR == 1) {
      /* The next tile's bytes of this group, one tile ahead: with k = 768
       * a panel is 6 KiB, too short a stream for the hardware prefetchers
       * to get ahead of (1 x 3072 x 768 ran at two thirds of 1 x 768 x
       * 3072's multiply-adds per second). */
      int64_t group_bytes =
          p->bits == 4 ? p->group / 2 * kPanel : p->group * kPanel;
      for (int t = 0; t < NP; ++t) {
        const char *next =
            (const char *)panel[t] + NP * panel_bytes(p) + g * group_bytes;
        for (int64_t at = 0; at < group_bytes; at += 64)
          __builtin_prefetch(next + at, 0, 3);
        __builtin_prefetch(scale[t] + (NP * groups + g) * kPanel, 0, 3);
      }
      /* One row (a decode step): the integers are multiplied unscaled,
       * the group's sum scaled once, and the offsets enter as offset
       * times the group's sum of x; fewer operations per weight, which
       * bound a 4-bit GEMV rather than its bytes. Even and odd k sum
       * apart, two chains per panel. */
      v16f even[2], odd[2];
      float xsum = 0.0f;
      for (int t = 0; t < NP; ++t)
        even[t] = odd[t] = (v16f){0};
      const float *x = arow[0];
      if (p->bits == 8) {
        for (int64_t kk = k0; kk < k0 + p->group; kk += 2) {
          float x0 = x[kk * p->a_k], x1 = x[(kk + 1) * p->a_k];
          if (OFF)
            xsum += x0 + x1;
          for (int t = 0; t < NP; ++t) {
            v16b r0, r1;
            __builtin_memcpy(&r0, panel[t] + kk * kPanel, sizeof(r0));
            __builtin_memcpy(&r1, panel[t] + (kk + 1) * kPanel, sizeof(r1));
            even[t] += x0 * __builtin_convertvector(r0, v16f);
            odd[t] += x1 * __builtin_convertvector(r1, v16f);
          }
        }
      } else if (LUT) {
        wq_group4_avx512(panel, NP, k0, p->group, x, p->a_k, even,
                         OFF ? &xsum : NULL);
      } else {
        for (int64_t kk = k0; kk < k0 + p->group; kk += 2) {
          float x0 = x[kk * p->a_k], x1 = x[(kk + 1) * p->a_k];
          if (OFF)
            xsum += x0 + x1;
          for (int t = 0; t < NP; ++t) {
            v16b raw;
            __builtin_memcpy(&raw, panel[t] + kk / 2 * kPanel, sizeof(raw));
            v16i wide = __builtin_convertvector(raw, v16i);
            even[t] += x0 * __builtin_convertvector((wide << 28) >> 28, v16f);
            odd[t] += x1 * __builtin_convertvector(wide >> 4, v16f);
          }
        }
      }
      for (int t = 0; t < NP; ++t) {
        acc[0][t] += (even[t] + odd[t]) * sv[t];
        if (OFF)
          acc[0][t] += xsum * ov[t];
      }
    } else if (p->bits == 8) {
      for (int64_t kk = k0; kk < k0 + p->group; ++kk) {
        v16f w[2];
        for (int t = 0; t < NP; ++t) {
          v16b raw;
          __builtin_memcpy(&raw, panel[t] + kk * kPanel, sizeof(raw));
          w[t] = __builtin_convertvector(raw, v16f) * sv[t];
          if (OFF)
            w[t] += ov[t];
        }
        for (int r = 0; r < MR; ++r) {
          float x = arow[r][kk * p->a_k];
          for (int t = 0; t < NP; ++t)
            acc[r][t] += x * w[t];
        }
      }
    } else {
      for (int64_t kk = k0; kk < k0 + p->group; kk += 2) {
        v16f even[2], odd[2];
        for (int t = 0; t < NP; ++t) {
          v16b raw;
          __builtin_memcpy(&raw, panel[t] + kk / 2 * kPanel, sizeof(raw));
          /* Widened to 32 bits first (x86 has no byte shifts), arithmetic
           * shifts sign-extend each nibble. */
          v16i wide = __builtin_convertvector(raw, v16i);
          even[t] = __builtin_convertvector((wide << 28) >> 28, v16f) * sv[t];
          odd[t] = __builtin_convertvector(wide >> 4, v16f) * sv[t];
          if (OFF) {
            even[t] += ov[t];
            odd[t] += ov[t];
          }
        }
        for (int r = 0; r < MR; ++r) {
          float x0 = arow[r][kk * p->a_k], x1 = arow[r][(kk + 1) * p->a_k];
          for (int t = 0; t < NP; ++t)
            acc[r][t] += x0 * even[t] + x1 * odd[t];
        }
      }
    }
  }
  /* Store the real rows and columns. */
  for (int r = 0; r < mr; ++r)
    for (int t = 0; t < np; ++t) {
      int64_t j0 = (q + t) * kPanel;
      int64_t cols = min64(kPanel, p->n - j0);
      float *crow = p->c + (i + r) * p->c_m + j0 * p->c_n;
      float values[kPanel];
      __builtin_memcpy(values, &acc[r][t], sizeof(values));
      for (int64_t j = 0; j < cols; ++j) {
        float v = values[j];
        if (p->accumulate)
          v += crow[j * p->c_n];
        crow[j * p->c_n] = v;
      }
    }
}

/* The product on `isa`'s tile, MR rows by NP panels at most, for the
 * panels [q0, q1) of the calling thread; OFF says whether groups have
 * offsets. */
#define DEFINE_WQ_RANGE(isa, attrs, MR, NP, OFF, LUT)                          \
  attrs static void wq_range_##isa(const wq_problem *p, int64_t q0,            \
                                   int64_t q1) {                               \
    for (int64_t i = 0; i < p->m; i += MR) {                                   \
      int mr = (int)min64(MR, p->m - i);                                       \
      for (int64_t q = q0; q < q1; q += NP) {                                  \
        int np = (int)min64(NP, q1 - q);                                       \
        /* Constant tile shapes, so the accumulators stay in registers. */     \
        if (mr == MR && np == NP)                                              \
          wq_tile(p, i, MR, MR, q, NP, NP, OFF, LUT);                          \
        else if (mr == 1 && np == NP)                                          \
          wq_tile(p, i, 1, 1, q, NP, NP, OFF, LUT);                            \
        else                                                                   \
          wq_tile(p, i, MR, mr, q, NP, np, OFF, LUT);                          \
      }                                                                        \
    }                                                                          \
  }

#define AVX512_WQ_ATTRS                                                        \
  __attribute__((target("avx512f,avx512bw"), min_vector_width(512)))
#define AVX2_WQ_ATTRS __attribute__((target("avx2,fma")))
DEFINE_WQ_RANGE(avx512, AVX512_WQ_ATTRS, 8, 2, 0, 1)
DEFINE_WQ_RANGE(avx512_offsets, AVX512_WQ_ATTRS, 8, 2, 1, 1)
DEFINE_WQ_RANGE(avx2, AVX2_WQ_ATTRS, 4, 1, 0, 0)
DEFINE_WQ_RANGE(avx2_offsets, AVX2_WQ_ATTRS, 4, 1, 1, 0)
DEFINE_WQ_RANGE(generic, , 2, 1, 0, 0)
DEFINE_WQ_RANGE(generic_offsets, , 2, 1, 1, 0)

typedef void (*wq_range_fn)(const wq_problem *, int64_t, int64_t);

/* Rows from which a product converts its weights to f32 once instead of
 * in every row tile: where the two took as long in bench/probe/wq_gemv.c
 * (AVX-512, weights from memory, 3072 x 768 and 768 x 3072): 4-bit at 24-32
 * rows, 8-bit (cheaper to convert) at about 100. */
static int64_t dequantize_rows(int64_t bits) { return bits == 4 ? 32 : 128; }

/* Writes B's columns [j0, j0 + cols) as f32 panels of `width` columns
 * spanning all of k ([cols / width][k][width]; j0 and cols multiples of
 * `width`, itself a multiple of 16), zeros past B's panels. */
#define DEFINE_DEQUANTIZE(isa, attrs)                                          \
  attrs static void dequantize_##isa(const wq_problem *p, int64_t j0,          \
                                     int64_t cols, int64_t width,              \
                                     float *out) {                             \
    int64_t groups = p->k / p->group, panels = ceil_div(p->n, kPanel);         \
    for (int64_t at = 0; at < cols; at += kPanel) {                            \
      int64_t q = (j0 + at) / kPanel;                                          \
      float *dst = out + at / width * p->k * width + at % width;               \
      if (q >= panels) {                                                       \
        for (int64_t kk = 0; kk < p->k; ++kk)                                  \
          __builtin_memset(dst + kk * width, 0, sizeof(v16f));                 \
        continue;                                                              \
      }                                                                        \
      const int8_t *panel = p->b + q * panel_bytes(p);                         \
      const float *scale = p->s + q * groups * kPanel;                         \
      for (int64_t g = 0; g < groups; ++g) {                                   \
        v16f sv, ov = (v16f){0};                                               \
        if (p->asymmetric) {                                                   \
          v16i pair;                                                           \
          __builtin_memcpy(&pair, scale + g * kPanel, sizeof(pair));           \
          sv = (v16f)(pair << 16);                                             \
          ov = (v16f)(pair & (int32_t)0xffff0000u);                            \
        } else {                                                               \
          __builtin_memcpy(&sv, scale + g * kPanel, sizeof(sv));               \
        }                                                                      \
        int64_t k0 = g * p->group, k1 = k0 + p->group;                         \
        if (p->bits == 8) {                                                    \
          for (int64_t kk = k0; kk < k1; ++kk) {                               \
            v16b raw;                                                          \
            __builtin_memcpy(&raw, panel + kk * kPanel, sizeof(raw));          \
            v16f w = __builtin_convertvector(raw, v16f) * sv + ov;             \
            __builtin_memcpy(dst + kk * width, &w, sizeof(w));                 \
          }                                                                    \
        } else {                                                               \
          /* Both k of a byte row at once: the low nibbles, the high. */       \
          for (int64_t kk = k0; kk < k1; kk += 2) {                            \
            v16b raw;                                                          \
            __builtin_memcpy(&raw, panel + kk / 2 * kPanel, sizeof(raw));      \
            v16i wide = __builtin_convertvector(raw, v16i);                    \
            v16f even = __builtin_convertvector((wide << 28) >> 28, v16f);     \
            v16f odd = __builtin_convertvector(wide >> 4, v16f);               \
            even = even * sv + ov;                                             \
            odd = odd * sv + ov;                                               \
            __builtin_memcpy(dst + kk * width, &even, sizeof(even));           \
            __builtin_memcpy(dst + (kk + 1) * width, &odd, sizeof(odd));       \
          }                                                                    \
        }                                                                      \
      }                                                                        \
    }                                                                          \
  }
DEFINE_DEQUANTIZE(avx512, AVX512_WQ_ATTRS)
DEFINE_DEQUANTIZE(avx2, AVX2_WQ_ATTRS)
DEFINE_DEQUANTIZE(generic, )

typedef void (*dequantize_fn)(const wq_problem *, int64_t, int64_t, int64_t,
                              float *);
typedef void (*packed_fn)(KILN_SGEMM_PACKED_ARGS);

/* The product through f32 panels: threads split B's columns in runs of
 * whole panels; each converts at most about 4 MiB of its columns at a
 * time (at least 256 columns: every run packs A again) and multiplies
 * every batch's rows with them on the packed f32 kernel. A thread that
 * gets no buffer runs its columns on the row tiles (`range`) instead. */
static void run_wq_dequantized(kiln_isa isa, wq_range_fn range, int64_t batch0,
                               int64_t batch1, const wq_problem *p,
                               int64_t a_batch0, int64_t a_batch1,
                               int64_t c_batch0, int64_t c_batch1) {
  dequantize_fn dequantize = isa == KILN_ISA_AVX512 ? dequantize_avx512
                             : isa == KILN_ISA_AVX2 ? dequantize_avx2
                                                    : dequantize_generic;
  packed_fn product = isa == KILN_ISA_AVX512 ? kiln_ukernel_sgemm_packed_avx512
                      : isa == KILN_ISA_AVX2
                          ? kiln_ukernel_sgemm_packed_avx2
                          : kiln_ukernel_sgemm_packed_generic;
  /* The packed f32 kernel's register tile width. */
  int64_t width = isa == KILN_ISA_AVX512 ? 32 : 16;
  int64_t panels = ceil_div(p->n, width);
  int64_t run = max64(256, ((4 << 20) / (4 * p->k)) / width * width) / width;
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  threads = (int)max64(1, min64(threads, panels / 4));
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    int64_t begin, end;
    split_range(panels, omp_get_num_threads(), omp_get_thread_num(), &begin,
                &end);
    int64_t most = min64(run, end - begin);
    float *f32 =
        most > 0 ? kiln_buffer_alloc((size_t)(most * width * p->k) * 4) : NULL;
    for (int64_t q = begin; f32 && q < end; q += run) {
      int64_t count = min64(run, end - q), j0 = q * width;
      dequantize(p, j0, count * width, width, f32);
      int64_t cols = min64(count * width, p->n - j0);
      for (int64_t b0 = 0; b0 < batch0; ++b0)
        for (int64_t b1 = 0; b1 < batch1; ++b1) {
          /* The entry takes A as a memref's buffer; it only reads it. */
          float *a = (float *)(uintptr_t)(p->a + b0 * a_batch0 + b1 * a_batch1);
          float *c = p->c + b0 * c_batch0 + b1 * c_batch1 + j0 * p->c_n;
          product(1, 1, p->m, cols, p->k, a, a, 0, 0, 0, 0, p->a_m, p->a_k, f32,
                  f32, 0, 0, width, c, c, 0, 0, 0, 0, p->c_m, p->c_n,
                  p->accumulate, NULL, NULL, 0, 0, 0, 0, 0, 0, NULL, NULL, 0, 0,
                  0, 0, 0, 0, 0, -__builtin_inff(), __builtin_inff());
        }
    }
    for (int64_t b0 = 0; !f32 && most > 0 && b0 < batch0; ++b0)
      for (int64_t b1 = 0; b1 < batch1; ++b1) {
        wq_problem mine = *p;
        mine.a += b0 * a_batch0 + b1 * a_batch1;
        mine.c += b0 * c_batch0 + b1 * c_batch1;
        range(&mine, begin * width / kPanel,
              min64(end * width / kPanel, ceil_div(p->n, kPanel)));
      }
    kiln_buffer_free(f32);
  }
}

static void run_wq(kiln_isa requested, int64_t batch0, int64_t batch1,
                   wq_problem base, int64_t a_batch0, int64_t a_batch1,
                   int64_t c_batch0, int64_t c_batch1) {
  kiln_isa isa = kiln_ukernel_resolve_isa(requested);
  int off = base.asymmetric;
  wq_range_fn range = isa == KILN_ISA_AVX512
                          ? (off ? wq_range_avx512_offsets : wq_range_avx512)
                      : isa == KILN_ISA_AVX2
                          ? (off ? wq_range_avx2_offsets : wq_range_avx2)
                          : (off ? wq_range_generic_offsets : wq_range_generic);
  if (base.m >= dequantize_rows(base.bits)) {
    run_wq_dequantized(isa, range, batch0, batch1, &base, a_batch0, a_batch1,
                       c_batch0, c_batch1);
    return;
  }
  int64_t panels = ceil_div(base.n, kPanel);
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  /* A few panels per thread at least: below that the fork costs more. */
  threads = (int)max64(1, min64(threads, panels / 4));
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    int64_t begin, end;
    split_range(panels, omp_get_num_threads(), omp_get_thread_num(), &begin,
                &end);
    for (int64_t b0 = 0; b0 < batch0; ++b0)
      for (int64_t b1 = 0; b1 < batch1; ++b1) {
        wq_problem p = base;
        p.a += b0 * a_batch0 + b1 * a_batch1;
        p.c += b0 * c_batch0 + b1 * c_batch1;
        if (begin < end)
          range(&p, begin, end);
      }
  }
}

#define DEFINE_WQ_ENTRY(isa, ISA)                                              \
  KILN_EXPORT void kiln_ukernel_sgemm_wq_##isa(KILN_SGEMM_WQ_ARGS) {           \
    (void)a_allocated;                                                         \
    (void)a_zero;                                                              \
    (void)b_allocated;                                                         \
    (void)b_zero;                                                              \
    (void)s_allocated;                                                         \
    (void)s_zero;                                                              \
    (void)c_allocated;                                                         \
    (void)c_zero;                                                              \
    if (m <= 0 || n <= 0 || batch0 <= 0 || batch1 <= 0)                        \
      return;                                                                  \
    wq_problem p = {m,                                                         \
                    n,                                                         \
                    k,                                                         \
                    group,                                                     \
                    bits,                                                      \
                    a_aligned + a_offset,                                      \
                    a_m,                                                       \
                    a_k,                                                       \
                    b_aligned + b_offset,                                      \
                    s_aligned + s_offset,                                      \
                    c_aligned + c_offset,                                      \
                    c_m,                                                       \
                    c_n,                                                       \
                    (int)accumulate,                                           \
                    asymmetric != 0};                                          \
    run_wq(ISA, batch0, batch1, p, a_batch0, a_batch1, c_batch0, c_batch1);    \
  }

DEFINE_WQ_ENTRY(avx512, KILN_ISA_AVX512)
DEFINE_WQ_ENTRY(avx2, KILN_ISA_AVX2)
DEFINE_WQ_ENTRY(generic, KILN_ISA_GENERIC)
