//===- UKernelTest.cpp - the CPU microkernels against naive loops ---------===//
//
// Runs runtime/cpu/gemm.c's entry points for every instruction set this
// machine has on shapes with tails in every dim, transposed, strided and
// broadcast operands, accumulating or not, and grouped, strided, dilated
// convolutions, against double-precision loops.
//
//===----------------------------------------------------------------------===//

#include "../../runtime/cpu/kiln_ukernels.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

using SgemmFn = void (*)(KILN_SGEMM_ARGS);
using SgemmPackedFn = void (*)(KILN_SGEMM_PACKED_ARGS);
using Sconv2dFn = void (*)(KILN_SCONV2D_ARGS);
using Sdwconv2dFn = void (*)(KILN_SDWCONV2D_ARGS);
using Sconv2dPackedFn = void (*)(KILN_SCONV2D_PACKED_ARGS);
using Sconv2dDirectFn = void (*)(KILN_SCONV2D_DIRECT_ARGS);

struct Variant {
  kiln_isa isa;
  const char *name;
  SgemmFn sgemm;
  Sconv2dFn sconv2d;
  Sdwconv2dFn sdwconv2d;
  SgemmPackedFn sgemmPacked;
  Sconv2dPackedFn sconv2dPacked;
  Sconv2dDirectFn sconv2dDirect;
};

const Variant kVariants[] = {
    {KILN_ISA_AVX512, "avx512", kiln_ukernel_sgemm_avx512,
     kiln_ukernel_sconv2d_avx512, kiln_ukernel_sdwconv2d_avx512,
     kiln_ukernel_sgemm_packed_avx512, kiln_ukernel_sconv2d_packed_avx512,
     kiln_ukernel_sconv2d_direct_avx512},
    {KILN_ISA_AVX2, "avx2", kiln_ukernel_sgemm_avx2, kiln_ukernel_sconv2d_avx2,
     kiln_ukernel_sdwconv2d_avx2, kiln_ukernel_sgemm_packed_avx2,
     kiln_ukernel_sconv2d_packed_avx2, kiln_ukernel_sconv2d_direct_avx2},
    {KILN_ISA_GENERIC, "generic", kiln_ukernel_sgemm_generic,
     kiln_ukernel_sconv2d_generic, kiln_ukernel_sdwconv2d_generic,
     kiln_ukernel_sgemm_packed_generic, kiln_ukernel_sconv2d_packed_generic,
     kiln_ukernel_sconv2d_direct_generic},
};

std::vector<float> randomValues(size_t count, std::mt19937 &rng) {
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> values(count);
  for (float &v : values)
    v = dist(rng);
  return values;
}

/// One product's layout: A [m][k] or transposed, B [k][n] or transposed, C
/// rows padded by `cPad`, and a batch of 2 whose B is broadcast (stride 0).
/// With `epilogue` the product gets a bias per column (d, broadcast along
/// the batch and the rows), a residual (e, a full matrix) and a clamp.
struct GemmCase {
  int64_t m, n, k;
  bool transA, transB, accumulate, batched;
  int64_t cPad;
  bool epilogue = false;
};

double clampReference(double x, float lo, float hi) {
  return std::min<double>(std::max<double>(x, lo), hi);
}

void checkGemm(const Variant &variant, const GemmCase &c, std::mt19937 &rng) {
  int64_t batch = c.batched ? 2 : 1;
  int64_t aRows = c.transA ? c.k : c.m, aCols = c.transA ? c.m : c.k;
  int64_t bRows = c.transB ? c.n : c.k, bCols = c.transB ? c.k : c.n;
  int64_t ldc = c.n + c.cPad;
  std::vector<float> a = randomValues(batch * aRows * aCols, rng);
  std::vector<float> b = randomValues(bRows * bCols, rng);
  std::vector<float> out = randomValues(batch * c.m * ldc, rng);
  std::vector<float> initial = out;
  int64_t aM = c.transA ? 1 : aCols, aK = c.transA ? aCols : 1;
  int64_t bK = c.transB ? 1 : bCols, bN = c.transB ? bCols : 1;
  std::vector<float> bias = randomValues(c.n, rng);
  std::vector<float> residual = randomValues(batch * c.m * c.n, rng);
  float lo = c.epilogue ? -0.75f : -INFINITY, hi = c.epilogue ? 1.5f : INFINITY;
  variant.sgemm(1, batch, c.m, c.n, c.k, a.data(), a.data(), 0, 0, 0,
                aRows * aCols, aM, aK, b.data(), b.data(), 0, 0, 0, 0, bK, bN,
                out.data(), out.data(), 0, 0, 0, c.m * ldc, ldc, 1,
                c.accumulate ? 1 : 0, bias.data(), bias.data(), 0, 0, 0, 0, 0,
                1, residual.data(), residual.data(), 0, 0, 0, c.m * c.n, c.n, 1,
                c.epilogue ? 3 : 0, lo, hi);
  double worst = 0;
  for (int64_t bi = 0; bi < batch; ++bi)
    for (int64_t i = 0; i < c.m; ++i) {
      std::vector<double> row(c.n, 0.0);
      for (int64_t kk = 0; kk < c.k; ++kk) {
        double x = a[bi * aRows * aCols + i * aM + kk * aK];
        for (int64_t j = 0; j < c.n; ++j)
          row[j] += x * b[kk * bK + j * bN];
      }
      for (int64_t j = 0; j < ldc; ++j) {
        int64_t at = bi * c.m * ldc + i * ldc + j;
        double expected = j >= c.n       ? initial[at]
                          : c.accumulate ? initial[at] + row[j]
                                         : row[j];
        if (j < c.n && c.epilogue)
          expected = clampReference(
              expected + bias[j] + residual[(bi * c.m + i) * c.n + j], lo, hi);
        worst = std::max(worst, std::fabs(expected - out[at]));
      }
    }
  // f32 accumulation of k products of magnitude <= 1.
  EXPECT_LE(worst, 1e-6 * (c.k + 8))
      << variant.name << " m=" << c.m << " n=" << c.n << " k=" << c.k
      << " transA=" << c.transA << " transB=" << c.transB
      << " accumulate=" << c.accumulate << " batched=" << c.batched
      << " epilogue=" << c.epilogue;
}

class UKernelTest : public ::testing::TestWithParam<Variant> {
protected:
  void SetUp() override {
    if (kiln_ukernel_resolve_isa(GetParam().isa) != GetParam().isa)
      GTEST_SKIP() << "this processor lacks " << GetParam().name;
  }
};

TEST_P(UKernelTest, SgemmShapesWithTails) {
  const int64_t sizes[] = {1, 3, 17, 127, 1000};
  std::mt19937 rng(7);
  int variantIndex = 0;
  for (int64_t m : sizes)
    for (int64_t n : sizes)
      for (int64_t k : sizes) {
        if (m * n * k > 200000000)
          continue;
        // Every layout option turns up across the shapes.
        int v = variantIndex++;
        GemmCase c{m,
                   n,
                   k,
                   (v & 1) != 0,
                   (v & 2) != 0,
                   (v & 4) != 0,
                   (v % 5) == 0 && m * n * k < 5000000,
                   (v % 3) * 5,
                   (v % 7) < 3};
        checkGemm(GetParam(), c, rng);
      }
  // Shallow products (k <= 64) that overwrite C with a bias per column and
  // a residual: whole row tiles sweep the whole panels, the epilogue in
  // registers, plain A and B or transposed ones (then packed here).
  for (bool trans : {false, true})
    for (const auto &shape : {std::array<int64_t, 3>{64, 100, 24},
                              std::array<int64_t, 3>{41, 70, 64}})
      checkGemm(
          GetParam(),
          {shape[0], shape[1], shape[2], trans, trans, false, false, 0, true},
          rng);
}

TEST_P(UKernelTest, SgemmFewRowsTransposedB) {
  // Up to 8 rows against a B whose columns are contiguous along k (a
  // decoder step's q k^T): the dot-product path, every tail of the
  // four-column groups and of the vector along k.
  const int64_t rows[] = {1, 3, 8}, cols[] = {1, 3, 17, 127, 1000},
                depths[] = {1, 3, 17, 64, 127};
  std::mt19937 rng(11);
  int variantIndex = 0;
  for (int64_t m : rows)
    for (int64_t n : cols)
      for (int64_t k : depths) {
        int v = variantIndex++;
        GemmCase c{m,
                   n,
                   k,
                   /*transA=*/false,
                   /*transB=*/true,
                   (v & 1) != 0,
                   (v & 2) != 0,
                   (v % 3) * 5,
                   (v % 4) == 3};
        checkGemm(GetParam(), c, rng);
      }
}

TEST_P(UKernelTest, SgemmRepeatedOverColumnBlocks) {
  // Few rows and many columns: the threads split the B panels, each packing
  // its own, and a later column block splits them differently. Repeated,
  // since a missing synchronization there shows only now and then.
  std::mt19937 rng(17);
  // 48 panels of 32 columns in the first block, 40 in the second: the
  // second thread's new panels are the first one's last old ones.
  const int64_t m = 64, n = 1536 + 40 * 32, k = 300;
  std::vector<float> a = randomValues(m * k, rng);
  std::vector<float> b = randomValues(k * n, rng);
  std::vector<double> expected(m * n, 0.0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t kk = 0; kk < k; ++kk)
      for (int64_t j = 0; j < n; ++j)
        expected[i * n + j] += (double)a[i * k + kk] * b[kk * n + j];
  float none = 0;
  for (int repeat = 0; repeat < 50; ++repeat) {
    std::vector<float> out(m * n, 0.0f);
    GetParam().sgemm(1, 1, m, n, k, a.data(), a.data(), 0, 0, 0, 0, k, 1,
                     b.data(), b.data(), 0, 0, 0, 0, n, 1, out.data(),
                     out.data(), 0, 0, 0, 0, n, 1, 0, &none, &none, 0, 0, 0, 0,
                     0, 0, &none, &none, 0, 0, 0, 0, 0, 0, 0, -INFINITY,
                     INFINITY);
    double worst = 0;
    for (int64_t i = 0; i < m * n; ++i)
      worst = std::max(worst, std::fabs(expected[i] - out[i]));
    ASSERT_LE(worst, 1e-6 * (k + 8)) << GetParam().name << " repeat " << repeat;
  }
}

TEST_P(UKernelTest, SgemmCompilerPackedB) {
  // B packed as the compiler packs constant weights, for the panel width of
  // each kernel: a kernel of another width reads the panels as a matrix.
  std::mt19937 rng(5);
  // One row with an odd k and a k that spans cache blocks: the one-row
  // tile runs the halves of k side by side.
  // Shallow products (k <= 64) of whole row tiles: AVX-512 sweeps them a
  // row tile at a time across the whole panels.
  const int64_t shapes[][3] = {{1, 4096, 300}, {1, 77, 129},    {1, 40, 1001},
                               {3, 100, 17},   {17, 33, 1000},  {128, 768, 200},
                               {127, 1000, 3}, {1000, 17, 127}, {40, 70, 24},
                               {64, 96, 64}};
  for (int64_t width : {16, 32})
    for (const auto &shape : shapes) {
      int64_t m = shape[0], n = shape[1], k = shape[2];
      int64_t panels = (n + width - 1) / width;
      std::vector<float> a = randomValues(2 * m * k, rng);
      std::vector<float> b = randomValues(k * n, rng);
      std::vector<float> packed(panels * k * width, 0.0f);
      for (int64_t kk = 0; kk < k; ++kk)
        for (int64_t j = 0; j < n; ++j)
          packed[(j / width) * k * width + kk * width + j % width] =
              b[kk * n + j];
      std::vector<float> out = randomValues(2 * m * n, rng);
      std::vector<float> initial = out;
      // Two batches of A and C share B; the second call accumulates and
      // adds a bias per row with a ReLU.
      bool accumulate = (m + width) % 2 == 1;
      std::vector<float> bias = randomValues(m, rng);
      float lo = accumulate ? 0.0f : -INFINITY;
      GetParam().sgemmPacked(1, 2, m, n, k, a.data(), a.data(), 0, 0, 0, m * k,
                             k, 1, packed.data(), packed.data(), 0, 0, width,
                             out.data(), out.data(), 0, 0, 0, m * n, n, 1,
                             accumulate ? 1 : 0, bias.data(), bias.data(), 0, 0,
                             0, 0, 1, 0, out.data(), out.data(), 0, 0, 0, 0, 0,
                             0, accumulate ? 1 : 0, lo, INFINITY);
      double worst = 0;
      for (int64_t bi = 0; bi < 2; ++bi)
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            double sum = accumulate ? initial[bi * m * n + i * n + j] : 0.0;
            for (int64_t kk = 0; kk < k; ++kk)
              sum += (double)a[bi * m * k + i * k + kk] * b[kk * n + j];
            if (accumulate)
              sum = clampReference(sum + bias[i], lo, INFINITY);
            worst =
                std::max(worst, std::fabs(sum - out[bi * m * n + i * n + j]));
          }
      EXPECT_LE(worst, 1e-6 * (k + 8))
          << GetParam().name << " width " << width << " m=" << m << " n=" << n
          << " k=" << k;
    }
}

TEST_P(UKernelTest, SgemmEmptyReduction) {
  // k = 0: the product is zero; without accumulation C is overwritten.
  std::vector<float> c(6, 5.0f);
  float none = 0;
  GetParam().sgemm(1, 1, 2, 3, 0, &none, &none, 0, 0, 0, 0, 0, 1, &none, &none,
                   0, 0, 0, 0, 3, 1, c.data(), c.data(), 0, 0, 0, 0, 3, 1, 0,
                   &none, &none, 0, 0, 0, 0, 0, 0, &none, &none, 0, 0, 0, 0, 0,
                   0, 0, -INFINITY, INFINITY);
  for (float v : c)
    EXPECT_EQ(v, 0.0f);
  // ... and with an epilogue, C is the clamped addends.
  const float bias[2] = {-3.0f, 0.25f};
  GetParam().sgemm(1, 1, 2, 3, 0, &none, &none, 0, 0, 0, 0, 0, 1, &none, &none,
                   0, 0, 0, 0, 3, 1, c.data(), c.data(), 0, 0, 0, 0, 3, 1, 0,
                   const_cast<float *>(bias), const_cast<float *>(bias), 0, 0,
                   0, 0, 1, 0, &none, &none, 0, 0, 0, 0, 0, 0, 1, 0.0f,
                   INFINITY);
  for (int i = 0; i < 6; ++i)
    EXPECT_EQ(c[i], i < 3 ? 0.0f : 0.25f);
}

/// A grouped convolution on an input already padded to `h` x `w`.
struct ConvCase {
  int64_t n, groups, outChannels, inChannels, h, w, kh, kw, sh, sw, dh, dw;
};

/// A convolution's epilogue: without `fused` the kernel accumulates into the
/// output; with it the output is overwritten by the bias per channel (d)
/// plus a residual (e) plus the convolution, clamped to [0, 6]. With
/// `padded` the output is the interior of a buffer one element wider on
/// every side (the next layer's padded input), whose border stays as it was.
/// Without `residual` the fused epilogue is the bias and the clamp alone (a
/// pointwise convolution feeding a padded 3x3 one in a bottleneck block).
struct ConvEpilogue {
  bool fused;
  bool padded = false;
  bool residual = true;
};

/// Zero padding the depthwise kernel adds itself: the input it gets is the
/// case's h x w less these rows and columns.
struct InputPadding {
  int64_t top = 0, left = 0, bottom = 0, right = 0;
};

/// Which entry point runs a convolution: the matrix-product kernel, the
/// depthwise one, or on weights packed as the compiler packs them
/// (`panelHeight` high), the packed product or the direct kernel.
enum class ConvKernel { Matrix, Depthwise, Packed, Direct };

/// Runs one kernel and compares with double loops.
void checkConv(const Variant &variant, ConvKernel kernel, const ConvCase &c,
               std::mt19937 &rng, int64_t panelHeight = 0,
               ConvEpilogue epilogue = {false}, InputPadding padding = {}) {
  int64_t oh = (c.h - c.dh * (c.kh - 1) - 1) / c.sh + 1;
  int64_t ow = (c.w - c.dw * (c.kw - 1) - 1) / c.sw + 1;
  int64_t cin = c.groups * c.inChannels, cout = c.groups * c.outChannels;
  // The input in memory: h x w, or less its implicit padding.
  int64_t inH = c.h - padding.top - padding.bottom,
          inW = c.w - padding.left - padding.right;
  std::vector<float> in = randomValues(c.n * cin * inH * inW, rng);
  auto input = [&](int64_t b, int64_t channel, int64_t y, int64_t x) {
    y -= padding.top;
    x -= padding.left;
    if (y < 0 || x < 0 || y >= inH || x >= inW)
      return 0.0;
    return (double)in[((b * cin + channel) * inH + y) * inW + x];
  };
  std::vector<float> w = randomValues(cout * c.inChannels * c.kh * c.kw, rng);
  int64_t pad = epilogue.padded ? 1 : 0;
  int64_t outH = oh + 2 * pad, outW = ow + 2 * pad;
  int64_t outOffset = pad * outW + pad;
  std::vector<float> out = randomValues(c.n * cout * outH * outW, rng);
  std::vector<float> initial = out;
  std::vector<float> bias = randomValues(cout, rng);
  std::vector<float> residual = randomValues(c.n * cout * oh * ow, rng);
  int64_t accumulate = epilogue.fused ? 0 : 1,
          addends = epilogue.fused ? (epilogue.residual ? 3 : 1) : 0;
  float lo = epilogue.fused ? 0.0f : -INFINITY,
        hi = epilogue.fused ? 6.0f : INFINITY;
  // Strides of the grouped views [n][g][c][h][w], [g][m][c][kh][kw],
  // [n][g][m][oh][ow] of contiguous NCHW / MCHW buffers.
  if (kernel == ConvKernel::Packed || kernel == ConvKernel::Direct) {
    // [g][m / h][c*kh*kw][h], zero-padded.
    int64_t depth = c.inChannels * c.kh * c.kw;
    int64_t panels = (c.outChannels + panelHeight - 1) / panelHeight;
    std::vector<float> packed(c.groups * panels * depth * panelHeight, 0.0f);
    for (int64_t g = 0; g < c.groups; ++g)
      for (int64_t m = 0; m < c.outChannels; ++m)
        for (int64_t q = 0; q < depth; ++q)
          packed[((g * panels + m / panelHeight) * depth + q) * panelHeight +
                 m % panelHeight] = w[(g * c.outChannels + m) * depth + q];
    if (kernel == ConvKernel::Direct)
      variant.sconv2dDirect(
          c.n, c.groups, c.outChannels, c.inChannels, oh, ow, c.kh, c.kw, c.sh,
          c.sw, c.dh, c.dw, in.data(), in.data(), 0, 0, cin * inH * inW,
          c.inChannels * inH * inW, inH * inW, inW, 1, packed.data(),
          packed.data(), 0, 0, panelHeight, out.data(), out.data(), 0,
          outOffset, cout * outH * outW, c.outChannels * outH * outW,
          outH * outW, outW, 1, accumulate, bias.data(), bias.data(), 0, 0, 0,
          c.outChannels, 1, 0, 0, residual.data(), residual.data(), 0, 0,
          cout * oh * ow, c.outChannels * oh * ow, oh * ow, ow, 1, addends, lo,
          hi, inH, inW, padding.top, padding.left);
    else {
      ASSERT_EQ(inH * inW, c.h * c.w) << "the packed kernel does not pad";
      variant.sconv2dPacked(
          c.n, c.groups, c.outChannels, c.inChannels, oh, ow, c.kh, c.kw, c.sh,
          c.sw, c.dh, c.dw, in.data(), in.data(), 0, 0, cin * c.h * c.w,
          c.inChannels * c.h * c.w, c.h * c.w, c.w, 1, packed.data(),
          packed.data(), 0, 0, panelHeight, out.data(), out.data(), 0,
          outOffset, cout * outH * outW, c.outChannels * outH * outW,
          outH * outW, outW, 1, accumulate, bias.data(), bias.data(), 0, 0, 0,
          c.outChannels, 1, 0, 0, residual.data(), residual.data(), 0, 0,
          cout * oh * ow, c.outChannels * oh * ow, oh * ow, ow, 1, addends, lo,
          hi);
    }
  } else if (kernel == ConvKernel::Matrix) {
    ASSERT_EQ(inH * inW, c.h * c.w) << "only the depthwise kernel pads";
    variant.sconv2d(
        c.n, c.groups, c.outChannels, c.inChannels, oh, ow, c.kh, c.kw, c.sh,
        c.sw, c.dh, c.dw, in.data(), in.data(), 0, 0, cin * c.h * c.w,
        c.inChannels * c.h * c.w, c.h * c.w, c.w, 1, w.data(), w.data(), 0, 0,
        c.outChannels * c.inChannels * c.kh * c.kw, c.inChannels * c.kh * c.kw,
        c.kh * c.kw, c.kw, 1, out.data(), out.data(), 0, outOffset,
        cout * outH * outW, c.outChannels * outH * outW, outH * outW, outW, 1,
        accumulate, bias.data(), bias.data(), 0, 0, 0, c.outChannels, 1, 0, 0,
        residual.data(), residual.data(), 0, 0, cout * oh * ow,
        c.outChannels * oh * ow, oh * ow, ow, 1, addends, lo, hi);
  } else {
    variant.sdwconv2d(
        c.n, c.groups, c.outChannels, c.inChannels, oh, ow, c.kh, c.kw, c.sh,
        c.sw, c.dh, c.dw, in.data(), in.data(), 0, 0, cin * inH * inW,
        c.inChannels * inH * inW, inH * inW, inW, 1, w.data(), w.data(), 0, 0,
        c.outChannels * c.inChannels * c.kh * c.kw, c.inChannels * c.kh * c.kw,
        c.kh * c.kw, c.kw, 1, out.data(), out.data(), 0, outOffset,
        cout * outH * outW, c.outChannels * outH * outW, outH * outW, outW, 1,
        accumulate, bias.data(), bias.data(), 0, 0, 0, c.outChannels, 1, 0, 0,
        residual.data(), residual.data(), 0, 0, cout * oh * ow,
        c.outChannels * oh * ow, oh * ow, ow, 1, addends, lo, hi, inH, inW,
        padding.top, padding.left);
  }
  double worst = 0;
  for (int64_t b = 0; b < c.n; ++b)
    for (int64_t g = 0; g < c.groups; ++g)
      for (int64_t m = 0; m < c.outChannels; ++m)
        for (int64_t y = 0; y < oh; ++y)
          for (int64_t x = 0; x < ow; ++x) {
            int64_t oc = g * c.outChannels + m;
            int64_t at = ((b * cout + oc) * outH + y + pad) * outW + x + pad;
            int64_t rat = ((b * cout + oc) * oh + y) * ow + x;
            double sum =
                epilogue.fused
                    ? bias[oc] + (epilogue.residual ? residual[rat] : 0.0)
                    : initial[at];
            for (int64_t ci = 0; ci < c.inChannels; ++ci)
              for (int64_t i = 0; i < c.kh; ++i)
                for (int64_t j = 0; j < c.kw; ++j)
                  sum += input(b, g * c.inChannels + ci, y * c.sh + i * c.dh,
                               x * c.sw + j * c.dw) *
                         w[((oc * c.inChannels + ci) * c.kh + i) * c.kw + j];
            if (epilogue.fused)
              sum = clampReference(sum, lo, hi);
            worst = std::max(worst, std::fabs(sum - out[at]));
          }
  // The border of a padded output is not written.
  for (int64_t i = 0; i < (int64_t)out.size() && pad; ++i) {
    int64_t x = i % outW, y = (i / outW) % outH;
    if (x == 0 || y == 0 || x == outW - 1 || y == outH - 1)
      worst = std::max(worst, (double)std::fabs(out[i] - initial[i]));
  }
  EXPECT_LE(worst, 1e-6 * (c.inChannels * c.kh * c.kw + 8))
      << variant.name << " groups=" << c.groups << " m=" << c.outChannels
      << " c=" << c.inChannels << " " << c.h << "x" << c.w << " kernel " << c.kh
      << "x" << c.kw << " strides " << c.sh << "," << c.sw << " dilations "
      << c.dh << "," << c.dw << " fused epilogue " << epilogue.fused
      << " padded output " << epilogue.padded << " residual "
      << epilogue.residual << " implicit padding " << padding.top << ","
      << padding.left << "," << padding.bottom << "," << padding.right;
}

TEST_P(UKernelTest, Conv2DStridesDilationsGroups) {
  std::mt19937 rng(11);
  const ConvCase cases[] = {
      // n, groups, m, c, h, w, kh, kw, sh, sw, dh, dw
      {1, 1, 64, 3, 31, 29, 7, 7, 2, 2, 1, 1},  // stem: 3 channels, stride 2
      {2, 1, 17, 5, 11, 13, 3, 3, 1, 1, 1, 1},  // odd channels, batch 2
      {1, 1, 33, 19, 9, 9, 1, 1, 1, 1, 1, 1},   // pointwise
      {1, 1, 9, 7, 10, 12, 1, 1, 2, 2, 1, 1},   // strided pointwise
      {1, 3, 5, 4, 14, 11, 3, 2, 1, 2, 2, 3},   // groups, dilations
      {1, 2, 40, 24, 17, 17, 5, 3, 3, 1, 1, 2}, // non-square kernel
      {1, 1, 130, 129, 6, 6, 3, 3, 1, 1, 1, 1}, // more than one K block
      // 7x7 and 14x14 planes: 49 = 32 + 16 + 1 and 196 = 6 * 32 + 4
      // columns, the last ones on the column kernel.
      {1, 1, 40, 100, 7, 7, 1, 1, 1, 1, 1, 1},
      // A 96x96 plane: its offset tables are filled by both threads.
      {1, 1, 16, 8, 96, 96, 1, 1, 1, 1, 1, 1},
      {1, 1, 24, 50, 14, 14, 3, 3, 1, 1, 1, 1},
      // Few columns and a deep reduction: compiler-packed weights go in
      // three deep K blocks, each row tile sweeping the panels.
      {1, 1, 20, 2100, 7, 7, 1, 1, 1, 1, 1, 1},
      // The same with B packed here (more than 128 rows, a 3 x 3 window):
      // the threads share deep B blocks.
      {1, 1, 136, 700, 9, 9, 3, 3, 1, 1, 1, 1},
      // Shallow (K <= 64) products over many columns with a partial last
      // panel: every row tile sweeps the panels.
      {1, 1, 50, 12, 19, 19, 1, 1, 1, 1, 1, 1},
      {1, 1, 200, 24, 23, 20, 1, 1, 1, 1, 1, 1},
      // One output column: rows of one element, joined only when the
      // output is not padded.
      {1, 1, 9, 5, 6, 1, 3, 1, 1, 1, 1, 1},
      // A last panel of 6 and of 4 channels on the direct kernel's row
      // path, over an input padded in memory: its vectors run across rows
      // of 30 and 9 (28 and 7 outputs and two unused columns).
      {1, 1, 38, 16, 30, 30, 3, 3, 1, 1, 1, 1},
      {2, 1, 36, 20, 9, 9, 3, 3, 1, 1, 1, 1},
  };
  for (const ConvCase &c : cases) {
    checkConv(GetParam(), ConvKernel::Matrix, c, rng);
    // The direct kernel computes any grouping too (the strategy gives it
    // depthwise ones only).
    checkConv(GetParam(), ConvKernel::Depthwise, c, rng);
    // Weights packed for each kernel's tile height: a kernel of another
    // height reads them as a matrix.
    for (int64_t height : {4, 6, 8})
      checkConv(GetParam(), ConvKernel::Packed, c, rng, height);
    // Bias, residual and clamp fused, on every kernel (a shallow product's
    // whole row tiles and panels are swept a row tile at a time, the
    // residual added in registers).
    checkConv(GetParam(), ConvKernel::Matrix, c, rng, 0, {true});
    checkConv(GetParam(), ConvKernel::Depthwise, c, rng, 0, {true});
    checkConv(GetParam(), ConvKernel::Packed, c, rng, 8, {true});
    // ... writing the interior of a padded buffer, with and without.
    checkConv(GetParam(), ConvKernel::Matrix, c, rng, 0, {true, true});
    checkConv(GetParam(), ConvKernel::Packed, c, rng, 8, {false, true});
    checkConv(GetParam(), ConvKernel::Depthwise, c, rng, 0, {true, true});
    // Bias and clamp alone into a padded buffer: the AVX-512 tiles store
    // their runs with masked stores, the epilogue in registers.
    checkConv(GetParam(), ConvKernel::Packed, c, rng, 8, {true, true, false});
    // ... and into a plain one: a shallow product's whole row tiles and
    // whole panels are then swept a row tile at a time on AVX-512.
    checkConv(GetParam(), ConvKernel::Packed, c, rng, 8, {true, false, false});
    checkConv(GetParam(), ConvKernel::Matrix, c, rng, 0, {true, true, false});
    // The direct kernel, with its own packing (16 channels a vector on
    // AVX-512, 8 on AVX2) and with another (the matrix-product fallback).
    for (int64_t height : {8, 16}) {
      checkConv(GetParam(), ConvKernel::Direct, c, rng, height, {false});
      checkConv(GetParam(), ConvKernel::Direct, c, rng, height, {true});
      checkConv(GetParam(), ConvKernel::Direct, c, rng, height, {true, true});
    }
  }
}

TEST_P(UKernelTest, DepthwiseConv2D) {
  std::mt19937 rng(13);
  const ConvCase cases[] = {
      // n, groups, m, c, h, w, kh, kw, sh, sw, dh, dw
      {1, 32, 1, 1, 114, 114, 3, 3, 1, 1, 1, 1}, // MobileNet, stride 1
      {1, 17, 1, 1, 115, 113, 3, 3, 2, 2, 1, 1}, // stride 2, odd sizes
      {2, 5, 2, 1, 301, 9, 5, 3, 3, 1, 2, 2},    // multiplier 2, wide rows
      {1, 3, 1, 1, 12, 600, 3, 5, 1, 3, 1, 1},   // stride 3, rows > chunk
      {1, 4, 1, 1, 9, 300, 3, 3, 2, 2, 1, 1},    // stride 2, rows > 64
      {1, 2, 1, 1, 5, 133, 1, 5, 1, 1, 1, 3},    // stride 1, dilated, > 64
      // Narrow planes: rows of 7, 14, 28 and 40 outputs use one, one, two
      // and three of the 3 x 3 kernel's four vectors.
      {1, 6, 1, 1, 9, 9, 3, 3, 1, 1, 1, 1},
      {1, 5, 1, 1, 16, 16, 3, 3, 2, 2, 1, 1},
      {1, 3, 1, 1, 30, 30, 3, 3, 1, 1, 1, 1},
      {1, 3, 1, 1, 12, 81, 3, 3, 2, 2, 1, 1},
      // 16 channels a vector on AVX-512 (rows of at most 8 outputs, 16 or
      // more channels): a partial last block, stride 2, a 5 x 5 window.
      {1, 33, 1, 1, 16, 16, 3, 3, 2, 2, 1, 1},
      {2, 20, 1, 1, 9, 9, 3, 3, 1, 1, 1, 1},
      {1, 16, 1, 1, 11, 11, 5, 5, 1, 1, 1, 1},
  };
  for (const ConvCase &c : cases) {
    checkConv(GetParam(), ConvKernel::Depthwise, c, rng);
    checkConv(GetParam(), ConvKernel::Matrix, c, rng);
    checkConv(GetParam(), ConvKernel::Depthwise, c, rng, 0, {true});
  }
}

TEST_P(UKernelTest, DirectConvImplicitPadding) {
  std::mt19937 rng(19);
  // h and w are the padded extents; the kernel gets the input without the
  // padding. On AVX-512 the direct kernel reads windows inside the input in
  // place and copies those reaching outside, zero-padded; elsewhere the
  // matrix product runs on a padded copy.
  const std::pair<ConvCase, InputPadding> cases[] = {
      // n, groups, m, c, h, w, kh, kw, sh, sw, dh, dw; top, left, bottom,
      // right
      {{1, 1, 64, 16, 30, 30, 3, 3, 1, 1, 1, 1}, {1, 1, 1, 1}}, // 28x28
      {{1, 1, 40, 3, 35, 35, 7, 7, 2, 2, 1, 1}, {3, 3, 3, 3}},  // stem
      {{2, 1, 17, 5, 11, 13, 3, 3, 1, 1, 1, 1}, {1, 2, 0, 1}},  // uneven
      {{1, 2, 24, 8, 9, 9, 3, 3, 2, 2, 1, 1}, {0, 0, 1, 1}},    // groups
      {{1, 1, 32, 6, 20, 40, 3, 3, 1, 1, 2, 2}, {2, 2, 2, 2}},  // dilated
      // Three channel panels (38 channels, as after pruning 40 % of 64):
      // the last runs alone on the one-vector tile, and the threads split
      // the work by panels, not by items.
      {{1, 1, 38, 24, 30, 30, 3, 3, 1, 1, 1, 1}, {1, 1, 1, 1}},
      {{1, 1, 70, 8, 21, 21, 3, 3, 2, 2, 1, 1}, {1, 1, 1, 1}},
      // At stride 1 along the row such a last panel of at most 14 channels
      // runs vectorized along the output rows, a tile of several vectors
      // reading the padding through masks: 6 channels on rows of 56 (four
      // vectors a row), 3 channels (seven vectors a tile, across rows) at
      // a vertical stride of 2, 13 dilated channels on rows of 36, a lone
      // panel of 9 padded on one side, and one channel on a 7x7 plane
      // (tiles of eight vectors, the last one empty).
      {{1, 1, 38, 16, 58, 58, 3, 3, 1, 1, 1, 1}, {1, 1, 1, 1}},
      {{2, 2, 35, 6, 19, 23, 5, 3, 2, 1, 1, 1}, {2, 1, 2, 1}},
      {{1, 1, 45, 7, 24, 40, 3, 3, 1, 1, 2, 2}, {2, 2, 2, 2}},
      {{1, 1, 9, 5, 12, 12, 3, 3, 1, 1, 1, 1}, {0, 0, 1, 1}},
      {{1, 1, 33, 4, 9, 9, 3, 3, 1, 1, 1, 1}, {1, 1, 1, 1}},
  };
  for (const auto &[c, padding] : cases)
    for (int64_t height : {8, 16}) {
      checkConv(GetParam(), ConvKernel::Direct, c, rng, height, {false},
                padding);
      checkConv(GetParam(), ConvKernel::Direct, c, rng, height, {true},
                padding);
      checkConv(GetParam(), ConvKernel::Direct, c, rng, height, {true, true},
                padding);
    }
}

TEST_P(UKernelTest, DepthwiseImplicitPadding) {
  std::mt19937 rng(17);
  // h and w are the padded extents; the kernel gets the input without the
  // padding and adds the zeros itself.
  const std::pair<ConvCase, InputPadding> cases[] = {
      // n, groups, m, c, h, w, kh, kw, sh, sw, dh, dw; top, left, bottom,
      // right
      {{1, 32, 1, 1, 114, 114, 3, 3, 1, 1, 1, 1}, {1, 1, 1, 1}}, // MobileNet
      {{1, 24, 1, 1, 58, 58, 3, 3, 2, 2, 1, 1}, {1, 1, 1, 1}},   // stride 2
      {{1, 16, 1, 1, 57, 57, 3, 3, 2, 2, 1, 1}, {0, 0, 1, 1}},   // SAME_UPPER
      {{1, 9, 1, 1, 9, 9, 3, 3, 1, 1, 1, 1}, {1, 1, 1, 1}},      // 7x7 plane
      {{2, 5, 2, 1, 31, 13, 5, 3, 3, 1, 2, 2}, {2, 1, 3, 0}},    // uneven
      {{1, 3, 1, 1, 12, 140, 5, 5, 1, 2, 1, 1}, {2, 2, 2, 2}},   // 5x5
      {{1, 2, 1, 1, 8, 70, 3, 3, 1, 1, 1, 1}, {3, 0, 0, 3}},     // one-sided
      // A dilated 5 x 5 window keeping the size; many 7 x 7 planes.
      {{1, 3, 1, 1, 12, 14, 5, 5, 1, 1, 2, 2}, {4, 4, 4, 4}},
      {{2, 40, 1, 1, 9, 9, 3, 3, 1, 1, 1, 1}, {1, 1, 1, 1}},
      {{1, 20, 1, 1, 15, 15, 3, 3, 2, 2, 1, 1}, {1, 1, 0, 0}},
      {{1, 48, 1, 1, 10, 10, 3, 3, 1, 1, 1, 1}, {1, 1, 1, 1}},
      // Planes over 32 outputs wide (the AVX-512 ring of padded rows):
      // stride 2, a row of 45 (a partial last vector), SAME_UPPER.
      {{1, 6, 1, 1, 114, 114, 3, 3, 2, 2, 1, 1}, {1, 1, 1, 1}},
      {{1, 5, 1, 1, 40, 47, 3, 3, 1, 1, 1, 1}, {1, 1, 1, 1}},
      {{1, 4, 1, 1, 21, 97, 3, 3, 2, 2, 1, 1}, {0, 0, 1, 1}},
      // 16 channels a vector on AVX-512 up to 4096 input pixels: rows of
      // 28 and 56 outputs in pieces of at most 16, a partial last block of
      // channels, a non-square plane.
      {{1, 17, 1, 1, 30, 30, 3, 3, 1, 1, 1, 1}, {1, 1, 1, 1}},
      {{1, 18, 1, 1, 58, 58, 3, 3, 1, 1, 1, 1}, {1, 1, 1, 1}},
      {{2, 33, 1, 1, 23, 41, 3, 3, 2, 2, 1, 1}, {1, 1, 1, 1}},
      // The input's last row and column are past every window.
      {{1, 16, 1, 1, 16, 16, 3, 3, 2, 2, 1, 1}, {1, 1, 0, 0}},
  };
  for (const auto &[c, padding] : cases) {
    checkConv(GetParam(), ConvKernel::Depthwise, c, rng, 0, {false}, padding);
    checkConv(GetParam(), ConvKernel::Depthwise, c, rng, 0, {true}, padding);
    checkConv(GetParam(), ConvKernel::Depthwise, c, rng, 0, {true, true},
              padding);
  }
  // Grouped convolutions with several channels per group pad too.
  ConvCase grouped = {1, 3, 5, 4, 14, 11, 3, 2, 1, 2, 2, 3};
  checkConv(GetParam(), ConvKernel::Depthwise, grouped, rng, 0, {true},
            {2, 1, 2, 1});
}

INSTANTIATE_TEST_SUITE_P(AllISAs, UKernelTest, ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<Variant> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
