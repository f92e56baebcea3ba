/*===- kiln_ukernels.h - CPU microkernels that compiled models call --------===*
 *
 * `kiln-cpu-lower-ukernels` rewrites the contractions that the strategy pass
 * (`kiln-cpu-select-kernels`) picked into calls of these functions. Every
 * operand arrives as an MLIR rank-0 memref descriptor (allocated pointer,
 * aligned pointer, offset) followed by the element offset and strides that
 * `memref.extract_strided_metadata` gives, so any strided view (transposed,
 * broadcast with stride 0, sliced) is read in place.
 *
 * Each entry point names the instruction set the compiler chose; at run time
 * it falls back to a narrower one when the processor lacks it, so a model
 * compiled for AVX-512 still computes correctly (if slower) elsewhere.
 *
 *===----------------------------------------------------------------------===*/

#ifndef KILN_RUNTIME_CPU_KILN_UKERNELS_H
#define KILN_RUNTIME_CPU_KILN_UKERNELS_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An MLIR rank-0 memref descriptor as the default calling convention passes
 * it, followed by the view's element offset. */
#define KILN_UKERNEL_BUFFER(name)                                              \
  float *name##_allocated, float *name##_aligned, int64_t name##_zero,         \
      int64_t name##_offset

/* The epilogue every kernel applies to each finished output element x:
 * out = min(hi, max(lo, x + d + e)), x being the product (plus the output's
 * old value with `accumulate`) and d, e the elements of two more strided
 * views indexed like the output, read when bit 0 (d) or bit 1 (e) of
 * `addends` is set: a bias and a residual. lo = -inf and hi = +inf leave x
 * unclamped; a NaN stays NaN. The compiler fuses the ops that initialize and
 * activate a product's output this way, so its result is written once. */
#define KILN_GEMM_EPILOGUE_ARGS                                                \
  int64_t accumulate, KILN_UKERNEL_BUFFER(d), int64_t d_batch0,                \
      int64_t d_batch1, int64_t d_m, int64_t d_n, KILN_UKERNEL_BUFFER(e),      \
      int64_t e_batch0, int64_t e_batch1, int64_t e_m, int64_t e_n,            \
      int64_t addends, float lo, float hi
#define KILN_CONV_EPILOGUE_ARGS                                                \
  int64_t accumulate, KILN_UKERNEL_BUFFER(d), int64_t d_n, int64_t d_g,        \
      int64_t d_m, int64_t d_oh, int64_t d_ow, KILN_UKERNEL_BUFFER(e),         \
      int64_t e_n, int64_t e_g, int64_t e_m, int64_t e_oh, int64_t e_ow,       \
      int64_t addends, float lo, float hi

/* A memref descriptor of `type` elements (rank 0) plus the view's offset. */
#define KILN_UKERNEL_BUFFER_OF(type, name)                                     \
  type *name##_allocated, type *name##_aligned, int64_t name##_zero,           \
      int64_t name##_offset

/* The instruction sets a kernel can be built for, widest first. */
typedef enum kiln_isa {
  KILN_ISA_AVX512 = 0,
  KILN_ISA_AVX2 = 1,
  KILN_ISA_GENERIC = 2,
} kiln_isa;

/* Memory from the runtime's buffer cache (runtime/buffers.c), 64-byte
 * aligned; large blocks are kept for reuse when freed. */
void *kiln_buffer_alloc(size_t bytes);
void kiln_buffer_free(void *ptr);

/* The memory of one model run on the calling thread: between begin and end,
 * the blocks the compiled code allocates on this thread are recorded, and
 * an allocation that fails there (outside a parallel region) jumps to
 * `failure` with `failed_bytes` set instead of returning NULL. end(1) gives
 * back what the run still holds (after a failure), end(0) only stops. */
typedef struct kiln_run_memory {
  jmp_buf failure;
  size_t failed_bytes;
  /* The reason kiln_model_trap was called with (0: none). */
  int32_t trap;
  void **live;
  size_t count, capacity;
} kiln_run_memory;
void kiln_run_memory_begin(kiln_run_memory *memory);
void kiln_run_memory_end(int release);

/* Checks in the compiled code that fail call this: the run ends (a jump to
 * `failure` with value 2 and `trap` set) and kiln_model_run returns an
 * error. Outside a run, or inside a parallel region, the process aborts. */
enum {
  KILN_TRAP_CACHE_OVERFLOW = 1, /* kiln.cache_update past the buffer's end */
  KILN_TRAP_INDEX_OUT_OF_RANGE = 2, /* a gather/scatter index outside */
  KILN_TRAP_DEVICE = 3, /* the GPU failed (kiln_target_error says how) */
};
void kiln_model_trap(int32_t reason);

/* The widest instruction set at most `requested` that this processor runs. */
kiln_isa kiln_ukernel_resolve_isa(kiln_isa requested);

/* C[b0][b1] (+)= A[b0][b1] * B[b0][b1]: C is M x N, A M x K, B K x N, each
 * element at its operand's offset plus the index times the stride. With
 * `accumulate` 0 the product overwrites C, else it is added to C; then the
 * epilogue. */
#define KILN_SGEMM_ARGS                                                        \
  int64_t batch0, int64_t batch1, int64_t m, int64_t n, int64_t k,             \
      KILN_UKERNEL_BUFFER(a), int64_t a_batch0, int64_t a_batch1, int64_t a_m, \
      int64_t a_k, KILN_UKERNEL_BUFFER(b), int64_t b_batch0, int64_t b_batch1, \
      int64_t b_k, int64_t b_n, KILN_UKERNEL_BUFFER(c), int64_t c_batch0,      \
      int64_t c_batch1, int64_t c_m, int64_t c_n, KILN_GEMM_EPILOGUE_ARGS
void kiln_ukernel_sgemm_avx512(KILN_SGEMM_ARGS);
void kiln_ukernel_sgemm_avx2(KILN_SGEMM_ARGS);
void kiln_ukernel_sgemm_generic(KILN_SGEMM_ARGS);

/* The same product with a constant B that the compiler packed: B holds
 * ceil(n / w) panels of k rows by w = b_panel_width columns ([n / w][k][w],
 * zero-padded), w being the register tile width of the kernel it was packed
 * for (32 for AVX-512, 16 otherwise). B has no batch dims. */
#define KILN_SGEMM_PACKED_ARGS                                                 \
  int64_t batch0, int64_t batch1, int64_t m, int64_t n, int64_t k,             \
      KILN_UKERNEL_BUFFER(a), int64_t a_batch0, int64_t a_batch1, int64_t a_m, \
      int64_t a_k, KILN_UKERNEL_BUFFER(b), int64_t b_panel_width,              \
      KILN_UKERNEL_BUFFER(c), int64_t c_batch0, int64_t c_batch1, int64_t c_m, \
      int64_t c_n, KILN_GEMM_EPILOGUE_ARGS
void kiln_ukernel_sgemm_packed_avx512(KILN_SGEMM_PACKED_ARGS);
void kiln_ukernel_sgemm_packed_avx2(KILN_SGEMM_PACKED_ARGS);
void kiln_ukernel_sgemm_packed_generic(KILN_SGEMM_PACKED_ARGS);

/* C[b0][b1] (+)= A[b0][b1] * dequantize(B): A is M x K f32 (strided as
 * for sgemm), B a constant K x N weight of `bits` (8 or 4) signed bits per
 * value that the compiler packed (runtime/cpu/wgemm.c: panels of 16
 * columns), s its f32 scales, one per `group` consecutive k (k a multiple
 * of group) and column, packed [n / 16][k / group][16]. Element (k, j) of B
 * is its integer value times the scale of its group and column. With
 * `asymmetric` 1, s holds instead 32-bit pairs, packed alike: the bfloat16
 * bits of the scale low, of an offset o high, and the element is its value
 * times the scale plus o (an asymmetric group's zero point z as o = -z *
 * scale). With `accumulate` 0 the product overwrites C, else it is added to
 * C. */
#define KILN_SGEMM_WQ_ARGS                                                     \
  int64_t batch0, int64_t batch1, int64_t m, int64_t n, int64_t k,             \
      KILN_UKERNEL_BUFFER(a), int64_t a_batch0, int64_t a_batch1, int64_t a_m, \
      int64_t a_k, KILN_UKERNEL_BUFFER_OF(int8_t, b), int64_t bits,            \
      int64_t group, KILN_UKERNEL_BUFFER(s), int64_t asymmetric,               \
      KILN_UKERNEL_BUFFER(c), int64_t c_batch0, int64_t c_batch1, int64_t c_m, \
      int64_t c_n, int64_t accumulate
void kiln_ukernel_sgemm_wq_avx512(KILN_SGEMM_WQ_ARGS);
void kiln_ukernel_sgemm_wq_avx2(KILN_SGEMM_WQ_ARGS);
void kiln_ukernel_sgemm_wq_generic(KILN_SGEMM_WQ_ARGS);

/* C[b0][b1] (+)= A[b0][b1] * B, then the epilogue, as for sgemm, with a
 * constant B (K x N, no batch dims) that the compiler packed block-sparse
 * (runtime/cpu/sgemm_sparse.c): of each panel of 16 columns only the k rows
 * with a nonzero value are kept, as blocks of 16 floats. b_index holds
 * int32 offsets [n / 16 + 1] (panel q's blocks are [offsets[q],
 * offsets[q + 1])), then each block's k; b the blocks' values
 * ([blocks][16], zero-padded past n). */
#define KILN_SGEMM_SPARSE_ARGS                                                 \
  int64_t batch0, int64_t batch1, int64_t m, int64_t n, int64_t k,             \
      KILN_UKERNEL_BUFFER(a), int64_t a_batch0, int64_t a_batch1, int64_t a_m, \
      int64_t a_k, KILN_UKERNEL_BUFFER_OF(int32_t, b_index),                   \
      KILN_UKERNEL_BUFFER(b), KILN_UKERNEL_BUFFER(c), int64_t c_batch0,        \
      int64_t c_batch1, int64_t c_m, int64_t c_n, KILN_GEMM_EPILOGUE_ARGS
void kiln_ukernel_sgemm_sparse_avx512(KILN_SGEMM_SPARSE_ARGS);
void kiln_ukernel_sgemm_sparse_avx2(KILN_SGEMM_SPARSE_ARGS);
void kiln_ukernel_sgemm_sparse_generic(KILN_SGEMM_SPARSE_ARGS);

/* 2-D max pooling (runtime/cpu/pool.c): out[n][c][oh][ow] =
 * max(out[n][c][oh][ow], max over kh < kernel_h, kw < kernel_w of
 * in[n][c][oh*sh + kh*dh - pad_top][ow*sw + kw*dw - pad_left]), NaN when
 * any is NaN; each element at its buffer's offset plus the indices times
 * the strides. The input is in_height x in_width: window elements outside
 * it are -inf (the ONNX node's padding, which the kernel adds itself). An
 * input padded in memory passes its own size and zero pads. */
#define KILN_SMAXPOOL2D_ARGS                                                   \
  int64_t batch, int64_t channels, int64_t out_h, int64_t out_w,               \
      int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,  \
      int64_t dilation_h, int64_t dilation_w, KILN_UKERNEL_BUFFER(in),         \
      int64_t in_n, int64_t in_c, int64_t in_h, int64_t in_w,                  \
      KILN_UKERNEL_BUFFER(out), int64_t out_n, int64_t out_c, int64_t out_oh,  \
      int64_t out_ow, int64_t in_height, int64_t in_width, int64_t pad_top,    \
      int64_t pad_left
void kiln_ukernel_smaxpool2d_avx512(KILN_SMAXPOOL2D_ARGS);
void kiln_ukernel_smaxpool2d_avx2(KILN_SMAXPOOL2D_ARGS);
void kiln_ukernel_smaxpool2d_generic(KILN_SMAXPOOL2D_ARGS);

/* dst = src with its last two dims swapped, f32: element (b0, b1, i, j)
 * of src, at its offset plus s_b0 * b0 + s_b1 * b1 + s_i * i + s_j * j, is
 * written to dst's offset plus d_b0 * b0 + d_b1 * b1 + d_i * i + d_j * j
 * (strides in elements, given per source index for both). rows and cols
 * are src's last two extents. */
#define KILN_TRANSPOSE_ARGS                                                    \
  int64_t batch0, int64_t batch1, int64_t rows, int64_t cols,                  \
      KILN_UKERNEL_BUFFER(src), int64_t s_b0, int64_t s_b1, int64_t s_i,       \
      int64_t s_j, KILN_UKERNEL_BUFFER(dst), int64_t d_b0, int64_t d_b1,       \
      int64_t d_i, int64_t d_j
void kiln_ukernel_transpose_avx512(KILN_TRANSPOSE_ARGS);
void kiln_ukernel_transpose_avx2(KILN_TRANSPOSE_ARGS);
void kiln_ukernel_transpose_generic(KILN_TRANSPOSE_ARGS);

/* How an 8-bit product's A is given: a matrix (a_panel_height 0), or
 * constant and packed by the compiler for one kernel (see
 * kiln_ukernel_igemm_lhs_packing): ceil(m / h) panels (h = a_panel_height)
 * of ceil(k / d) units by h rows (d = 2 for KILN_IGEMM_PAIRS, else 4:
 * a_format; bytes stored unsigned, the top bit flipped when A is signed;
 * KILN_IGEMM_NARROW_SIGNED_BYTES: bytes stored signed, each in [-64, 64],
 * the top bit flipped when A is unsigned; pairs as int16 true values),
 * zero-padded; then, as int32 for every K block
 * of a_block_depth k and every row of the padded height, the sum of the
 * stored values over that block. A packed A has no batch dims and its
 * strides are ignored; a processor whose kernel wants another packing
 * unpacks it first (slower, still exact). */
#define KILN_IGEMM_A_PACKING_ARGS                                              \
  int64_t a_panel_height, int64_t a_format, int64_t a_block_depth

/* Exact 8-bit products with zero points: C[b0][b1] (+)= (A[b0][b1] - za) *
 * (B[b0][b1] - zb) in int32. A is M x K, B K x N, C M x N int32; each
 * element at its operand's offset plus index times stride (strides in
 * elements, may be 0 = broadcast, may be any value incl. transposed views).
 * A's elements are unsigned 8-bit when a_unsigned != 0, else signed; likewise
 * B with b_unsigned. The zero points have their operand's type: za[i] at
 * za's offset + i * za_m (za_m = 0: one value), zb[j] likewise along n; bit 0
 * (za) and bit 1 (zb) of `zero_points` say which views are read. Without
 * its view a zero point is the constant za_value (zb_value), in the
 * operand's value range. accumulate != 0 adds the product to C's
 * old values, else overwrites C. Sums wrap modulo 2^32 like int32
 * arithmetic; they are exact whenever the result fits. The AVX-512 kernel
 * needs VNNI; without it the AVX2 kernel runs. */
#define KILN_IGEMM_ARGS                                                        \
  int64_t batch0, int64_t batch1, int64_t m, int64_t n, int64_t k,             \
      KILN_UKERNEL_BUFFER_OF(int8_t, a), int64_t a_batch0, int64_t a_batch1,   \
      int64_t a_m, int64_t a_k, KILN_IGEMM_A_PACKING_ARGS,                     \
      KILN_UKERNEL_BUFFER_OF(int8_t, b), int64_t b_batch0, int64_t b_batch1,   \
      int64_t b_k, int64_t b_n, KILN_UKERNEL_BUFFER_OF(int32_t, c),            \
      int64_t c_batch0, int64_t c_batch1, int64_t c_m, int64_t c_n,            \
      KILN_UKERNEL_BUFFER_OF(int8_t, za), int64_t za_m,                        \
      KILN_UKERNEL_BUFFER_OF(int8_t, zb), int64_t zb_n, int64_t za_value,      \
      int64_t zb_value, int64_t a_unsigned, int64_t b_unsigned,                \
      int64_t zero_points, int64_t accumulate
void kiln_ukernel_igemm_avx512(KILN_IGEMM_ARGS);
void kiln_ukernel_igemm_avx2(KILN_IGEMM_ARGS);
void kiln_ukernel_igemm_generic(KILN_IGEMM_ARGS);

/* How a constant B is packed for an 8-bit kernel: units of 4 k as bytes
 * stored signed (XOR 0x80 when B is unsigned); the same with every stored
 * value in [-64, 64] (7-bit weights, which the AVX2 kernel multiplies with
 * VPMADDUBSW without saturating); units of 2 k as int16 true values; for
 * an A, also bytes stored signed in [-64, 64] (see
 * KILN_IGEMM_A_PACKING_ARGS). */
typedef enum kiln_igemm_format {
  KILN_IGEMM_PAIRS = 2,
  KILN_IGEMM_BYTES = 4,
  KILN_IGEMM_NARROW_BYTES = 5,
  KILN_IGEMM_NARROW_SIGNED_BYTES = 6,
} kiln_igemm_format;

/* The same product with a constant B that the compiler packed for one
 * kernel: ceil(n / w) panels (w = b_panel_width) of ceil(k / d) units by w
 * columns (d = 2 for KILN_IGEMM_PAIRS, else 4: b_format), zero-padded;
 * then, as int32 for every K block of b_block_depth k and every column of
 * the padded width, the sum of the stored values over that block. B has no
 * batch dims. A processor whose kernel wants another packing unpacks B
 * first (slower, still exact). */
#define KILN_IGEMM_PACKED_ARGS                                                 \
  int64_t batch0, int64_t batch1, int64_t m, int64_t n, int64_t k,             \
      KILN_UKERNEL_BUFFER_OF(int8_t, a), int64_t a_batch0, int64_t a_batch1,   \
      int64_t a_m, int64_t a_k, KILN_UKERNEL_BUFFER_OF(int8_t, b),             \
      int64_t b_panel_width, int64_t b_format, int64_t b_block_depth,          \
      KILN_UKERNEL_BUFFER_OF(int32_t, c), int64_t c_batch0, int64_t c_batch1,  \
      int64_t c_m, int64_t c_n, KILN_UKERNEL_BUFFER_OF(int8_t, za),            \
      int64_t za_m, KILN_UKERNEL_BUFFER_OF(int8_t, zb), int64_t zb_n,          \
      int64_t za_value, int64_t zb_value, int64_t a_unsigned,                  \
      int64_t b_unsigned, int64_t zero_points, int64_t accumulate
void kiln_ukernel_igemm_packed_avx512(KILN_IGEMM_PACKED_ARGS);
void kiln_ukernel_igemm_packed_avx2(KILN_IGEMM_PACKED_ARGS);
void kiln_ukernel_igemm_packed_generic(KILN_IGEMM_PACKED_ARGS);

/* The same products dequantized in the tile store: C holds f32 (its
 * descriptor is typed int32_t above), element (i, j) being the exact int32
 * product converted to f32 times s[i * s_m + j * s_n] (at most one of the
 * strides nonzero: a scale per row, per column, or one). With accumulate
 * the old f32 values are added. */
#define KILN_IGEMM_SCALE_ARGS                                                  \
  KILN_UKERNEL_BUFFER_OF(float, s), int64_t s_m, int64_t s_n
void kiln_ukernel_igemm_scaled_avx512(KILN_IGEMM_ARGS, KILN_IGEMM_SCALE_ARGS);
void kiln_ukernel_igemm_scaled_avx2(KILN_IGEMM_ARGS, KILN_IGEMM_SCALE_ARGS);
void kiln_ukernel_igemm_scaled_generic(KILN_IGEMM_ARGS, KILN_IGEMM_SCALE_ARGS);
void kiln_ukernel_igemm_packed_scaled_avx512(KILN_IGEMM_PACKED_ARGS,
                                             KILN_IGEMM_SCALE_ARGS);
void kiln_ukernel_igemm_packed_scaled_avx2(KILN_IGEMM_PACKED_ARGS,
                                           KILN_IGEMM_SCALE_ARGS);
void kiln_ukernel_igemm_packed_scaled_generic(KILN_IGEMM_PACKED_ARGS,
                                              KILN_IGEMM_SCALE_ARGS);

/* The same products dequantized plus a bias and a residual (a network's
 * residual sum) in the tile store: C holds f32, element (i, j) being the
 * dequantized product (as KILN_IGEMM_SCALE_ARGS) plus o[i * o_m + j * o_n]
 * (at most one stride nonzero) plus the residual's element (batch b0, b1)
 * at r's offset + b0 * r_batch0 + b1 * r_batch1 + i * r_m + j * r_n,
 * through max(r, 0) when r_relu != 0. C starts from zero (accumulate is
 * 0). */
#define KILN_IGEMM_SUM_ARGS                                                    \
  KILN_UKERNEL_BUFFER_OF(float, o), int64_t o_m, int64_t o_n,                  \
      KILN_UKERNEL_BUFFER_OF(float, r), int64_t r_batch0, int64_t r_batch1,    \
      int64_t r_m, int64_t r_n, int64_t r_relu
void kiln_ukernel_igemm_scaled_sum_avx512(KILN_IGEMM_ARGS,
                                          KILN_IGEMM_SCALE_ARGS,
                                          KILN_IGEMM_SUM_ARGS);
void kiln_ukernel_igemm_scaled_sum_avx2(KILN_IGEMM_ARGS, KILN_IGEMM_SCALE_ARGS,
                                        KILN_IGEMM_SUM_ARGS);
void kiln_ukernel_igemm_scaled_sum_generic(KILN_IGEMM_ARGS,
                                           KILN_IGEMM_SCALE_ARGS,
                                           KILN_IGEMM_SUM_ARGS);
void kiln_ukernel_igemm_packed_scaled_sum_avx512(KILN_IGEMM_PACKED_ARGS,
                                                 KILN_IGEMM_SCALE_ARGS,
                                                 KILN_IGEMM_SUM_ARGS);
void kiln_ukernel_igemm_packed_scaled_sum_avx2(KILN_IGEMM_PACKED_ARGS,
                                               KILN_IGEMM_SCALE_ARGS,
                                               KILN_IGEMM_SUM_ARGS);
void kiln_ukernel_igemm_packed_scaled_sum_generic(KILN_IGEMM_PACKED_ARGS,
                                                  KILN_IGEMM_SCALE_ARGS,
                                                  KILN_IGEMM_SUM_ARGS);

/* The same products requantized in the tile store: C holds bytes (its
 * descriptor is typed int32_t above, its offset and strides count bytes),
 * element (i, j) being the dequantized product (as KILN_IGEMM_SCALE_ARGS)
 * plus o[i * o_m + j * o_n] (at most one stride nonzero), clamped to
 * [q_lo, q_hi] and rounded to the nearest integer, ties to even: u8 or s8
 * by the range. C starts from zero (accumulate is 0). */
#define KILN_IGEMM_REQUANT_ARGS                                                \
  KILN_UKERNEL_BUFFER_OF(float, o), int64_t o_m, int64_t o_n, int64_t q_lo,    \
      int64_t q_hi
void kiln_ukernel_igemm_requantized_avx512(KILN_IGEMM_ARGS,
                                           KILN_IGEMM_SCALE_ARGS,
                                           KILN_IGEMM_REQUANT_ARGS);
void kiln_ukernel_igemm_requantized_avx2(KILN_IGEMM_ARGS, KILN_IGEMM_SCALE_ARGS,
                                         KILN_IGEMM_REQUANT_ARGS);
void kiln_ukernel_igemm_requantized_generic(KILN_IGEMM_ARGS,
                                            KILN_IGEMM_SCALE_ARGS,
                                            KILN_IGEMM_REQUANT_ARGS);
void kiln_ukernel_igemm_packed_requantized_avx512(KILN_IGEMM_PACKED_ARGS,
                                                  KILN_IGEMM_SCALE_ARGS,
                                                  KILN_IGEMM_REQUANT_ARGS);
void kiln_ukernel_igemm_packed_requantized_avx2(KILN_IGEMM_PACKED_ARGS,
                                                KILN_IGEMM_SCALE_ARGS,
                                                KILN_IGEMM_REQUANT_ARGS);
void kiln_ukernel_igemm_packed_requantized_generic(KILN_IGEMM_PACKED_ARGS,
                                                   KILN_IGEMM_SCALE_ARGS,
                                                   KILN_IGEMM_REQUANT_ARGS);

/* The same products (plain, dequantized, summed and requantized) with B a
 * convolution's window matrix read where the windows lie (the compiler's
 * kiln.im2col fused into the product): B is k x n with k = c * kernel_h *
 * kernel_w + i * kernel_w
 * + j and n = oh * out_w + ow, element (k, n) at b's offset plus
 * c * b_c + (oh * stride_h + i * dilation_h) * b_h + (ow * stride_w + j *
 * dilation_w) * b_w (on an input already padded). */
#define KILN_IGEMM_WINDOWS_ARGS                                                \
  int64_t batch0, int64_t batch1, int64_t m, int64_t n, int64_t k,             \
      KILN_UKERNEL_BUFFER_OF(int8_t, a), int64_t a_batch0, int64_t a_batch1,   \
      int64_t a_m, int64_t a_k, KILN_IGEMM_A_PACKING_ARGS,                     \
      KILN_UKERNEL_BUFFER_OF(int8_t, b), int64_t b_batch0, int64_t b_batch1,   \
      int64_t b_c, int64_t b_h, int64_t b_w, int64_t kernel_h,                 \
      int64_t kernel_w, int64_t stride_h, int64_t stride_w,                    \
      int64_t dilation_h, int64_t dilation_w, int64_t out_w,                   \
      KILN_UKERNEL_BUFFER_OF(int32_t, c), int64_t c_batch0, int64_t c_batch1,  \
      int64_t c_m, int64_t c_n, KILN_UKERNEL_BUFFER_OF(int8_t, za),            \
      int64_t za_m, KILN_UKERNEL_BUFFER_OF(int8_t, zb), int64_t zb_n,          \
      int64_t za_value, int64_t zb_value, int64_t a_unsigned,                  \
      int64_t b_unsigned, int64_t zero_points, int64_t accumulate
void kiln_ukernel_igemm_windows_avx512(KILN_IGEMM_WINDOWS_ARGS);
void kiln_ukernel_igemm_windows_avx2(KILN_IGEMM_WINDOWS_ARGS);
void kiln_ukernel_igemm_windows_generic(KILN_IGEMM_WINDOWS_ARGS);
void kiln_ukernel_igemm_windows_scaled_avx512(KILN_IGEMM_WINDOWS_ARGS,
                                              KILN_IGEMM_SCALE_ARGS);
void kiln_ukernel_igemm_windows_scaled_avx2(KILN_IGEMM_WINDOWS_ARGS,
                                            KILN_IGEMM_SCALE_ARGS);
void kiln_ukernel_igemm_windows_scaled_generic(KILN_IGEMM_WINDOWS_ARGS,
                                               KILN_IGEMM_SCALE_ARGS);
void kiln_ukernel_igemm_windows_scaled_sum_avx512(KILN_IGEMM_WINDOWS_ARGS,
                                                  KILN_IGEMM_SCALE_ARGS,
                                                  KILN_IGEMM_SUM_ARGS);
void kiln_ukernel_igemm_windows_scaled_sum_avx2(KILN_IGEMM_WINDOWS_ARGS,
                                                KILN_IGEMM_SCALE_ARGS,
                                                KILN_IGEMM_SUM_ARGS);
void kiln_ukernel_igemm_windows_scaled_sum_generic(KILN_IGEMM_WINDOWS_ARGS,
                                                   KILN_IGEMM_SCALE_ARGS,
                                                   KILN_IGEMM_SUM_ARGS);
void kiln_ukernel_igemm_windows_requantized_avx512(KILN_IGEMM_WINDOWS_ARGS,
                                                   KILN_IGEMM_SCALE_ARGS,
                                                   KILN_IGEMM_REQUANT_ARGS);
void kiln_ukernel_igemm_windows_requantized_avx2(KILN_IGEMM_WINDOWS_ARGS,
                                                 KILN_IGEMM_SCALE_ARGS,
                                                 KILN_IGEMM_REQUANT_ARGS);
void kiln_ukernel_igemm_windows_requantized_generic(KILN_IGEMM_WINDOWS_ARGS,
                                                    KILN_IGEMM_SCALE_ARGS,
                                                    KILN_IGEMM_REQUANT_ARGS);

/* The packing that kiln_ukernel_igemm_packed_<isa> wants for `isa` (for a
 * B of 7-bit values when `narrow`): panel width, format and K block, what
 * the compiler packs constants for. */
void kiln_ukernel_igemm_packing(kiln_isa isa, int narrow, int64_t *panel_width,
                                int64_t *format, int64_t *block_depth);

/* The packing of a constant A that the kernel for `isa` reads in place
 * (KILN_IGEMM_A_PACKING_ARGS): panel height, format and K block; with
 * `narrow`, for an A of 7-bit signed values times an unsigned B (the AVX2
 * kernel then multiplies with VPMADDUBSW, B's bytes the unsigned operand). */
void kiln_ukernel_igemm_lhs_packing(kiln_isa isa, int narrow,
                                    int64_t *panel_height, int64_t *format,
                                    int64_t *block_depth);

/* Grouped 2-D convolution on an already padded NCHW input:
 * out[n][g][m][oh][ow] (+)= sum over c, kh, kw of
 * in[n][g][c][oh*sh + kh*dh][ow*sw + kw*dw] * w[g][m][c][kh][kw], then the
 * epilogue (its views indexed [n][g][m][oh][ow]). */
#define KILN_SCONV2D_ARGS                                                      \
  int64_t batch, int64_t groups, int64_t out_channels, int64_t in_channels,    \
      int64_t out_h, int64_t out_w, int64_t kernel_h, int64_t kernel_w,        \
      int64_t stride_h, int64_t stride_w, int64_t dilation_h,                  \
      int64_t dilation_w, KILN_UKERNEL_BUFFER(in), int64_t in_n, int64_t in_g, \
      int64_t in_c, int64_t in_h, int64_t in_w, KILN_UKERNEL_BUFFER(w),        \
      int64_t w_g, int64_t w_m, int64_t w_c, int64_t w_h, int64_t w_w,         \
      KILN_UKERNEL_BUFFER(out), int64_t out_n, int64_t out_g, int64_t out_m,   \
      int64_t out_oh, int64_t out_ow, KILN_CONV_EPILOGUE_ARGS
void kiln_ukernel_sconv2d_avx512(KILN_SCONV2D_ARGS);
void kiln_ukernel_sconv2d_avx2(KILN_SCONV2D_ARGS);
void kiln_ukernel_sconv2d_generic(KILN_SCONV2D_ARGS);

/* The same convolution with constant weights that the compiler packed:
 * per group ceil(m / h) panels of c*kh*kw rows by h = w_panel_height output
 * channels ([g][m / h][c*kh*kw][h], zero-padded), h being the register
 * tile height of the kernel they were packed for (8 for AVX-512, 6 for AVX2,
 * 4 generic). */
#define KILN_SCONV2D_PACKED_ARGS                                               \
  int64_t batch, int64_t groups, int64_t out_channels, int64_t in_channels,    \
      int64_t out_h, int64_t out_w, int64_t kernel_h, int64_t kernel_w,        \
      int64_t stride_h, int64_t stride_w, int64_t dilation_h,                  \
      int64_t dilation_w, KILN_UKERNEL_BUFFER(in), int64_t in_n, int64_t in_g, \
      int64_t in_c, int64_t in_h, int64_t in_w, KILN_UKERNEL_BUFFER(w),        \
      int64_t w_panel_height, KILN_UKERNEL_BUFFER(out), int64_t out_n,         \
      int64_t out_g, int64_t out_m, int64_t out_oh, int64_t out_ow,            \
      KILN_CONV_EPILOGUE_ARGS
void kiln_ukernel_sconv2d_packed_avx512(KILN_SCONV2D_PACKED_ARGS);
void kiln_ukernel_sconv2d_packed_avx2(KILN_SCONV2D_PACKED_ARGS);
void kiln_ukernel_sconv2d_packed_generic(KILN_SCONV2D_PACKED_ARGS);

/* The same convolution computed directly, without im2col panels: a tile of
 * up to 14 output pixels by two vectors of 16 output channels (AVX-512).
 * The weights are packed as for sconv2d_packed with h = 16. Other
 * instruction sets, other packings, input rows that are not contiguous and
 * strides above 2 take the matrix-product path. Like sdwconv2d, it may leave
 * the input's zero padding implicit (in_height x in_width, windows starting
 * at (-pad_top, -pad_left)). */
#define KILN_SCONV2D_DIRECT_ARGS                                               \
  KILN_SCONV2D_PACKED_ARGS, int64_t in_height, int64_t in_width,               \
      int64_t pad_top, int64_t pad_left
void kiln_ukernel_sconv2d_direct_avx512(KILN_SCONV2D_DIRECT_ARGS);
void kiln_ukernel_sconv2d_direct_avx2(KILN_SCONV2D_DIRECT_ARGS);
void kiln_ukernel_sconv2d_direct_generic(KILN_SCONV2D_DIRECT_ARGS);

/* The same convolution for few channels per group (depthwise): a direct
 * loop nest vectorized along output rows instead of a matrix product. The
 * input may leave its zero padding implicit: it is in_height x in_width, and
 * output (0, 0) reads the window that starts at (-pad_top, -pad_left);
 * whatever the windows reach outside the input reads as zero. An input
 * padded in memory passes its own size and zero pads. */
#define KILN_SDWCONV2D_ARGS                                                    \
  KILN_SCONV2D_ARGS, int64_t in_height, int64_t in_width, int64_t pad_top,     \
      int64_t pad_left
void kiln_ukernel_sdwconv2d_avx512(KILN_SDWCONV2D_ARGS);
void kiln_ukernel_sdwconv2d_avx2(KILN_SDWCONV2D_ARGS);
void kiln_ukernel_sdwconv2d_generic(KILN_SDWCONV2D_ARGS);

/* Scaled dot-product attention without the score matrix (attention.c):
 * out[b0][b1] = softmax(mask(scale * q k^T)) v, q [lq][d], k [lk][d],
 * v [lk][dv], out [lq][dv], each strided (batch strides, then row and
 * element strides). Query head b1 reads key/value head b1 / kv_group.
 * mask_kind 0: no mask; 1: f32 values added to the scaled scores; 2: bytes,
 * nonzero where the score becomes `fill`. The mask's strides are in
 * elements, 0 along the dims it broadcasts over. */
#define KILN_SATTENTION_ARGS                                                   \
  int64_t batch0, int64_t batch1, int64_t lq, int64_t lk, int64_t d,           \
      int64_t dv, int64_t kv_group, KILN_UKERNEL_BUFFER(q), int64_t q_b0,      \
      int64_t q_b1, int64_t q_q, int64_t q_d, KILN_UKERNEL_BUFFER(k),          \
      int64_t k_b0, int64_t k_b1, int64_t k_k, int64_t k_d,                    \
      KILN_UKERNEL_BUFFER(v), int64_t v_b0, int64_t v_b1, int64_t v_k,         \
      int64_t v_d, KILN_UKERNEL_BUFFER(o), int64_t o_b0, int64_t o_b1,         \
      int64_t o_q, int64_t o_d, float scale, int64_t mask_kind,                \
      KILN_UKERNEL_BUFFER_OF(char, m), int64_t m_b0, int64_t m_b1,             \
      int64_t m_q, int64_t m_k, float fill
void kiln_ukernel_sattention_avx512(KILN_SATTENTION_ARGS);
void kiln_ukernel_sattention_avx2(KILN_SATTENTION_ARGS);
void kiln_ukernel_sattention_generic(KILN_SATTENTION_ARGS);
/* The same, declared by the compiler for bool (i1) masks. */
void kiln_ukernel_sattention_bool_avx512(KILN_SATTENTION_ARGS);
void kiln_ukernel_sattention_bool_avx2(KILN_SATTENTION_ARGS);
void kiln_ukernel_sattention_bool_generic(KILN_SATTENTION_ARGS);

#ifdef __cplusplus
}
#endif

#endif /* KILN_RUNTIME_CPU_KILN_UKERNELS_H */
