//===- WeightOnlyGemmTest.cpp - runtime/cpu/wgemm.c against naive loops ---===//
//
// Packs random 8- and 4-bit weights, group scales and (for asymmetric
// groups) zero points as kiln-cpu-lower-ukernels does (panels of 16
// columns; with zero points, bfloat16 pairs of the scale and the offset
// -z * scale), runs every
// instruction set this machine has on shapes with tails in M, N and K
// (decode-like single rows, prefill-like blocks, strided and batched A,
// padded C rows, accumulating or not) and compares with double-precision
// loops over the dequantized weights.
//
//===----------------------------------------------------------------------===//

#include "../../runtime/cpu/kiln_ukernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using WqFn = void (*)(KILN_SGEMM_WQ_ARGS);

struct Variant {
  kiln_isa isa;
  const char *name;
  WqFn fn;
};

const Variant kVariants[] = {
    {KILN_ISA_AVX512, "avx512", kiln_ukernel_sgemm_wq_avx512},
    {KILN_ISA_AVX2, "avx2", kiln_ukernel_sgemm_wq_avx2},
    {KILN_ISA_GENERIC, "generic", kiln_ukernel_sgemm_wq_generic},
};

constexpr int64_t kPanel = 16;

/// Weights q [k][n] in the signed range of `bits`, scales [k/group][n] and,
/// if `zeroPoints`, zero points [k/group][n], with the packed forms the
/// kernel reads.
struct Weights {
  std::vector<int8_t> q, packed, zeros;
  std::vector<float> scales, packedScales;
  /// Element (k, j) as the kernel computes it.
  double value(int64_t kk, int64_t j, int64_t n, int64_t group) const {
    int64_t at = kk / group * n + j;
    return q[kk * n + j] * double(scales[at]) + offsets[at];
  }
  std::vector<float> offsets;
};

/// The bits of the bfloat16 nearest `v` (ties to even).
uint32_t bfloat16Bits(float v) {
  uint32_t bits;
  std::memcpy(&bits, &v, sizeof(bits));
  return (bits + 0x7fff + ((bits >> 16) & 1)) >> 16;
}

float fromBits(uint32_t bits) {
  float v;
  std::memcpy(&v, &bits, sizeof(v));
  return v;
}

Weights makeWeights(int64_t k, int64_t n, int64_t group, int bits,
                    bool zeroPoints, std::mt19937 &rng) {
  int limit = bits == 8 ? 127 : 7;
  std::uniform_int_distribution<int> value(-limit - 1, limit);
  std::uniform_real_distribution<float> scale(0.001f, 0.05f);
  Weights w;
  w.q.resize(k * n);
  for (int8_t &v : w.q)
    v = static_cast<int8_t>(value(rng));
  w.scales.resize(k / group * n);
  for (float &s : w.scales)
    s = scale(rng);
  // Zero points anywhere in the i8 range, as a group of only positive or
  // only negative weights has.
  std::uniform_int_distribution<int> zero(-40, 40);
  w.zeros.assign(k / group * n, 0);
  if (zeroPoints)
    for (int8_t &z : w.zeros)
      z = static_cast<int8_t>(zero(rng));
  int64_t panels = (n + kPanel - 1) / kPanel;
  int64_t rows = bits == 8 ? k : k / 2;
  w.packed.assign(panels * rows * kPanel, 0);
  w.packedScales.assign(panels * (k / group) * kPanel, 0.0f);
  w.offsets.assign(k / group * n, 0.0f);
  // With zero points the kernel reads bfloat16 scales and offsets.
  if (zeroPoints)
    for (size_t at = 0; at < w.scales.size(); ++at) {
      w.scales[at] = fromBits(bfloat16Bits(w.scales[at]) << 16);
      w.offsets[at] = fromBits(bfloat16Bits(-w.zeros[at] * w.scales[at]) << 16);
    }
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t j = 0; j < kPanel; ++j) {
      int64_t col = p * kPanel + j;
      if (col >= n)
        continue;
      for (int64_t kk = 0; kk < k; ++kk) {
        int8_t v = w.q[kk * n + col];
        if (bits == 8) {
          w.packed[(p * rows + kk) * kPanel + j] = v;
        } else {
          uint8_t &byte = reinterpret_cast<uint8_t &>(
              w.packed[(p * rows + kk / 2) * kPanel + j]);
          byte |= static_cast<uint8_t>((v & 0xf) << (kk % 2 ? 4 : 0));
        }
      }
      for (int64_t g = 0; g < k / group; ++g) {
        int64_t at = g * n + col;
        w.packedScales[(p * (k / group) + g) * kPanel + j] =
            zeroPoints ? fromBits(bfloat16Bits(w.scales[at]) |
                                  bfloat16Bits(w.offsets[at]) << 16)
                       : w.scales[at];
      }
    }
  return w;
}

struct Case {
  int64_t m, n, k, group;
  int bits;
  bool transA, accumulate, batched;
  int64_t cPad;
  bool zeroPoints = false;
};

void check(const Variant &variant, const Case &c, std::mt19937 &rng) {
  Weights w = makeWeights(c.k, c.n, c.group, c.bits, c.zeroPoints, rng);
  int64_t batch = c.batched ? 3 : 1;
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> a(batch * c.m * c.k);
  for (float &v : a)
    v = dist(rng);
  int64_t ldc = c.n + c.cPad;
  std::vector<float> out(batch * c.m * ldc);
  for (float &v : out)
    v = dist(rng);
  std::vector<float> initial = out;
  int64_t aM = c.transA ? 1 : c.k, aK = c.transA ? c.m : 1;
  variant.fn(1, batch, c.m, c.n, c.k, a.data(), a.data(), 0, 0, 0, c.m * c.k,
             aM, aK, w.packed.data(), w.packed.data(), 0, 0, c.bits, c.group,
             w.packedScales.data(), w.packedScales.data(), 0, 0,
             c.zeroPoints ? 1 : 0, out.data(), out.data(), 0, 0, 0, c.m * ldc,
             ldc, 1, c.accumulate ? 1 : 0);
  double worst = 0, magnitude = 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < ldc; ++j) {
        int64_t at = (b * c.m + i) * ldc + j;
        double expected = initial[at];
        if (j < c.n) {
          double sum = 0;
          for (int64_t kk = 0; kk < c.k; ++kk)
            sum += double(a[b * c.m * c.k + i * aM + kk * aK]) *
                   w.value(kk, j, c.n, c.group);
          expected = c.accumulate ? expected + sum : sum;
          magnitude = std::max(magnitude, std::fabs(sum));
        }
        worst = std::max(worst, std::fabs(expected - out[at]));
      }
  // f32 rounding of k products (each |a * w| <= 127 * 0.05, or
  // (7 + 40) * 0.05 with zero points).
  EXPECT_LE(worst, 2e-6 * (c.k + 8) * 6.4)
      << variant.name << " m=" << c.m << " n=" << c.n << " k=" << c.k
      << " group=" << c.group << " bits=" << c.bits << " transA=" << c.transA
      << " accumulate=" << c.accumulate << " batched=" << c.batched
      << " zeroPoints=" << c.zeroPoints;
  EXPECT_GT(magnitude, 0.0);
}

class WeightOnlyGemmTest : public ::testing::TestWithParam<Variant> {
protected:
  void SetUp() override {
    if (kiln_ukernel_resolve_isa(GetParam().isa) != GetParam().isa)
      GTEST_SKIP() << "this processor lacks " << GetParam().name;
  }
};

TEST_P(WeightOnlyGemmTest, ShapesWithTails) {
  std::mt19937 rng(7);
  for (int bits : {8, 4})
    for (int64_t group : {32, 64, 128})
      for (int64_t m : {1, 3, 8, 17})
        for (int64_t n : {1, 17, 48, 127})
          check(GetParam(), {m, n, 128, group, bits, false, false, false, 0},
                rng);
}

TEST_P(WeightOnlyGemmTest, DeepAndWide) {
  std::mt19937 rng(11);
  for (int bits : {8, 4}) {
    // A decoder step through a GPT-2 MLP and a prefill block.
    check(GetParam(), {1, 3072, 768, 32, bits, false, false, false, 0}, rng);
    check(GetParam(), {33, 768, 1024, 64, bits, false, false, false, 5}, rng);
  }
}

TEST_P(WeightOnlyGemmTest, StridedBatchedAccumulating) {
  std::mt19937 rng(13);
  for (int bits : {8, 4}) {
    check(GetParam(), {5, 40, 96, 32, bits, true, true, true, 3}, rng);
    check(GetParam(), {1, 33, 64, 32, bits, false, true, true, 0}, rng);
  }
}

TEST_P(WeightOnlyGemmTest, AsymmetricGroups) {
  std::mt19937 rng(17);
  for (int bits : {4, 8}) {
    for (int64_t m : {1, 3, 8, 17})
      for (int64_t n : {1, 17, 48})
        check(GetParam(), {m, n, 128, 32, bits, false, false, false, 0, true},
              rng);
    check(GetParam(), {1, 3072, 768, 32, bits, false, false, false, 0, true},
          rng);
    check(GetParam(), {5, 40, 96, 32, bits, true, true, true, 3, true}, rng);
  }
}

// From 32 rows (4-bit) or 128 (8-bit) the kernel converts B to f32 panels
// once and runs the packed f32 kernel: tails of the f32 panel width (48
// columns: a 32-wide panel half past B's last 16-column panel), strided
// and batched A, accumulation, zero points, and columns in more than one
// run per thread (k = 4096: 256 columns a run).
TEST_P(WeightOnlyGemmTest, ManyRowsThroughF32Panels) {
  std::mt19937 rng(19);
  for (int bits : {4, 8}) {
    int64_t many = bits == 4 ? 32 : 128;
    for (int64_t n : {17, 48, 300})
      check(GetParam(), {many, n, 128, 32, bits, false, false, false, 0}, rng);
    check(GetParam(), {many + 3, 48, 96, 32, bits, true, true, true, 3}, rng);
    check(GetParam(),
          {many + 1, 300, 128, 64, bits, false, true, false, 2, true}, rng);
    check(GetParam(), {many, 1100, 4096, 128, bits, false, false, false, 0},
          rng);
  }
}

INSTANTIATE_TEST_SUITE_P(AllISAs, WeightOnlyGemmTest,
                         ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<Variant> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
