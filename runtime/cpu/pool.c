/*===- pool.c - 2-D max pooling
 * ---------------------------------------------===*
 *
 * out[n][c][oh][ow] = max(out[n][c][oh][ow], max over the window of
 * in[n][c][oh * sh + kh * dh - pad_top][ow * sw + kw * dw - pad_left]),
 * elements outside the input being -inf (the ONNX node's padding, added here
 * rather than copied into a padded buffer): what kiln-cpu-lower-ukernels
 * calls for the window reduction convert-kiln-to-linalg builds for MaxPool.
 * Lowered to loops, that reduction ran one scalar window at a time (2.3 ms
 * for ResNet-50's 3x3 stride-2 pooling on one core); here the AVX-512 path
 * computes 16 outputs of a row per vector (stride 2 as two loads and a
 * permutation), other instruction sets a loop along the row the compiler
 * vectorizes. A NaN in a window gives NaN, as arith.maximumf does.
 *
 *===----------------------------------------------------------------------===*/

#include "kiln_ukernels.h"
#include "ukernel_avx512.h"
#include "ukernel_common.h"

#include <omp.h>

#define KILN_EXPORT __attribute__((visibility("default")))

typedef struct pool_problem {
  int64_t out_h, out_w, kernel_h, kernel_w, stride_h, stride_w, dilation_h,
      dilation_w;
  int64_t in_h, in_w, out_oh, out_ow;
  /* The input's extent and where window (0, 0) starts in it; `inside`
   * when every window lies within it (an input padded in memory). */
  int64_t in_height, in_width, pad_top, pad_left;
  int inside;
} pool_problem;

/* The outputs [*lo, *hi) of a row whose column x * s + off lies in
 * [0, width), of n. */
static inline void inside_columns(int64_t off, int64_t s, int64_t width,
                                  int64_t n, int64_t *lo, int64_t *hi) {
  int64_t first = off >= 0 ? 0 : (-off + s - 1) / s;
  int64_t last = width - 1 - off < 0 ? -1 : (width - 1 - off) / s;
  *lo = first < n ? first : n;
  *hi = last + 1 < n ? last + 1 : n;
  if (*hi < *lo)
    *hi = *lo;
}

/* maximumf: NaN when either is NaN. */
static inline float max_nan(float a, float b) {
  return a != a ? a : b != b ? b : a > b ? a : b;
}

/* One output row (`out`, of plane `in`) in C: per window row and column,
 * the outputs whose element lies inside the input. */
#define DEFINE_POOL_ROW(suffix, attributes)                                    \
  attributes static void pool_row_##suffix(                                    \
      const pool_problem *p, const float *in, float *out, int64_t oh) {        \
    for (int64_t kh = 0; kh < p->kernel_h; ++kh) {                             \
      int64_t y = oh * p->stride_h + kh * p->dilation_h - p->pad_top;          \
      if (y < 0 || y >= p->in_height)                                          \
        continue;                                                              \
      const float *row = in + y * p->in_h;                                     \
      for (int64_t kw = 0; kw < p->kernel_w; ++kw) {                           \
        int64_t off = kw * p->dilation_w - p->pad_left, lo, hi;                \
        inside_columns(off, p->stride_w, p->in_width, p->out_w, &lo, &hi);     \
        if (lo >= hi)                                                          \
          continue;                                                            \
        const float *src = row + (lo * p->stride_w + off) * p->in_w;           \
        float *dst = out + lo * p->out_ow;                                     \
        int64_t step = p->stride_w * p->in_w, count = hi - lo;                 \
        if (p->out_ow == 1 && step == 1)                                       \
          for (int64_t x = 0; x < count; ++x)                                  \
            dst[x] = max_nan(dst[x], src[x]);                                  \
        else if (p->out_ow == 1 && step == 2)                                  \
          for (int64_t x = 0; x < count; ++x)                                  \
            dst[x] = max_nan(dst[x], src[2 * x]);                              \
        else                                                                   \
          for (int64_t x = 0; x < count; ++x)                                  \
            dst[x * p->out_ow] = max_nan(dst[x * p->out_ow], src[x * step]);   \
      }                                                                        \
    }                                                                          \
  }

DEFINE_POOL_ROW(avx2, __attribute__((target("avx2,fma"))))
DEFINE_POOL_ROW(generic, )

/* max(acc, x) as maximumf: NaN when either is. max_ps(x, acc) is acc when
 * either is NaN; then take x's NaN. */
__attribute__((target("avx512f"))) static inline __m512
max_nan_avx512(__m512 acc, __m512 x) {
  __mmask16 nan = _mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q);
  return _mm512_mask_mov_ps(_mm512_max_ps(x, acc), nan, x);
}

/* Columns of the window's horizontal reach that the two-pass row keeps in
 * its buffer beyond a chunk's 64 outputs (wider windows take the one-pass
 * row). */
enum { kPoolReach = 256 };

/* The AVX-512 row for contiguous rows and horizontal stride 1 or 2, in
 * chunks of 64 outputs (four vectors in registers). With several window
 * rows, the rows' max comes first, contiguous, into a buffer, and the
 * window's columns are then taken from it: a 3x3 stride-2 window reads
 * three strided columns, not nine (ResNet-50's pooling alone, its 3.3 MB
 * input read from L3: 261-263 -> 245-246 us on one Intel Xeon core; the
 * rest is the reading). */
__attribute__((target("avx512f"))) static void
pool_row_avx512(const pool_problem *p, const float *in, float *out,
                int64_t oh) {
  int64_t s = p->stride_w;
  if (p->in_w != 1 || p->out_ow != 1 || (s != 1 && s != 2)) {
    pool_row_generic(p, in, out, oh);
    return;
  }
  int64_t reach = (p->kernel_w - 1) * p->dilation_w;
  if ((p->kernel_h > 1 || !p->inside) && reach <= kPoolReach) {
    /* The window rows inside the input; columns outside it read -inf. */
    float rows[64 * 2 + kPoolReach + 16] __attribute__((aligned(64)));
    int64_t y0 = oh * p->stride_h - p->pad_top, kh0 = 0, kh1 = p->kernel_h;
    while (kh0 < kh1 && y0 + kh0 * p->dilation_h < 0)
      ++kh0;
    while (kh1 > kh0 && y0 + (kh1 - 1) * p->dilation_h >= p->in_height)
      --kh1;
    const __m512 minus_inf = _mm512_set1_ps(-__builtin_inff());
    for (int64_t x0 = 0; x0 < p->out_w; x0 += 64) {
      int64_t count = p->out_w - x0 < 64 ? p->out_w - x0 : 64;
      int64_t span = (count - 1) * s + reach + 1;
      int64_t start = x0 * s - p->pad_left;
      for (int64_t v = 0; v * 16 < span; ++v) {
        /* Lanes [lo, hi) of this vector lie inside the row. */
        int64_t c = start + 16 * v;
        int64_t lo = c < 0 ? -c : 0, hi = p->in_width - c;
        __mmask16 m =
            lo < 16 && hi > lo
                ? (__mmask16)(lanes(span - 16 * v) & lanes(hi) & ~lanes(lo))
                : (__mmask16)0;
        __m512 acc = minus_inf;
        for (int64_t kh = kh0; kh < kh1; ++kh)
          acc = max_nan_avx512(
              acc,
              _mm512_mask_loadu_ps(
                  minus_inf, m, in + (y0 + kh * p->dilation_h) * p->in_h + c));
        _mm512_store_ps(rows + 16 * v, acc);
      }
      for (int64_t v = 0; v * 16 < count; ++v) {
        __mmask16 m = lanes(count - 16 * v);
        __m512 acc = _mm512_maskz_loadu_ps(m, out + x0 + 16 * v);
        for (int64_t kw = 0; kw < p->kernel_w; ++kw)
          acc = max_nan_avx512(
              acc, load_strided_avx512(rows + 16 * v * s + kw * p->dilation_w,
                                       count - 16 * v, s));
        _mm512_mask_storeu_ps(out + x0 + 16 * v, m, acc);
      }
    }
    return;
  }
  if (!p->inside) {
    pool_row_generic(p, in, out, oh);
    return;
  }
  for (int64_t x0 = 0; x0 < p->out_w; x0 += 64) {
    __m512 acc[4];
    __mmask16 mask[4];
    for (int v = 0; v < 4; ++v) {
      mask[v] = lanes(p->out_w - (x0 + 16 * v));
      acc[v] = _mm512_maskz_loadu_ps(mask[v], out + x0 + 16 * v);
    }
    for (int64_t kh = 0; kh < p->kernel_h; ++kh) {
      const float *row = in + (oh * p->stride_h + kh * p->dilation_h) * p->in_h;
      for (int64_t kw = 0; kw < p->kernel_w; ++kw) {
        const float *base = row + x0 * s + kw * p->dilation_w;
        for (int v = 0; v < 4; ++v) {
          if (!mask[v])
            break;
          __m512 x = load_strided_avx512(base + 16 * v * s,
                                         p->out_w - (x0 + 16 * v), s);
          acc[v] = max_nan_avx512(acc[v], x);
        }
      }
    }
    for (int v = 0; v < 4; ++v)
      _mm512_mask_storeu_ps(out + x0 + 16 * v, mask[v], acc[v]);
  }
}

typedef void (*pool_row_fn)(const pool_problem *, const float *, float *,
                            int64_t);

static void smaxpool2d(kiln_isa requested, KILN_SMAXPOOL2D_ARGS) {
  (void)in_allocated, (void)in_zero, (void)out_allocated, (void)out_zero;
  if (batch <= 0 || channels <= 0 || out_h <= 0 || out_w <= 0)
    return;
  kiln_isa isa = kiln_ukernel_resolve_isa(requested);
  pool_row_fn row = isa == KILN_ISA_AVX512 ? pool_row_avx512
                    : isa == KILN_ISA_AVX2 ? pool_row_avx2
                                           : pool_row_generic;
  pool_problem p = {out_h,    out_w,      kernel_h,   kernel_w, stride_h,
                    stride_w, dilation_h, dilation_w, in_h,     in_w,
                    out_oh,   out_ow,     in_height,  in_width, pad_top,
                    pad_left, 0};
  p.inside = pad_top <= 0 && pad_left <= 0 &&
             (out_h - 1) * stride_h + (kernel_h - 1) * dilation_h - pad_top <
                 in_height &&
             (out_w - 1) * stride_w + (kernel_w - 1) * dilation_w - pad_left <
                 in_width;
  const float *input = in_aligned + in_offset;
  float *output = out_aligned + out_offset;
  int64_t planes = batch * channels, work = planes * out_h;
  int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  /* Below ~32k window elements a second thread costs more than it saves. */
  if (work < 2 * threads || work * out_w * kernel_h * kernel_w < 32768)
    threads = 1;
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    int64_t begin, end;
    split_range(work, omp_get_num_threads(), omp_get_thread_num(), &begin,
                &end);
    for (int64_t item = begin; item < end; ++item) {
      int64_t plane = item / out_h, oh = item % out_h;
      int64_t n = plane / channels, c = plane % channels;
      row(&p, input + n * in_n + c * in_c,
          output + n * out_n + c * out_c + oh * out_oh, oh);
    }
  }
}

#define DEFINE_POOL_ENTRY(suffix, ISA)                                         \
  KILN_EXPORT void kiln_ukernel_smaxpool2d_##suffix(KILN_SMAXPOOL2D_ARGS) {    \
    smaxpool2d(ISA, batch, channels, out_h, out_w, kernel_h, kernel_w,         \
               stride_h, stride_w, dilation_h, dilation_w, in_allocated,       \
               in_aligned, in_zero, in_offset, in_n, in_c, in_h, in_w,         \
               out_allocated, out_aligned, out_zero, out_offset, out_n, out_c, \
               out_oh, out_ow, in_height, in_width, pad_top, pad_left);        \
  }

DEFINE_POOL_ENTRY(avx512, KILN_ISA_AVX512)
DEFINE_POOL_ENTRY(avx2, KILN_ISA_AVX2)
DEFINE_POOL_ENTRY(generic, KILN_ISA_GENERIC)
