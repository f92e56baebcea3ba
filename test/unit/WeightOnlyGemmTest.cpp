//===- WeightOnlyGemmTest.cpp - runtime/cpu/wgemm.c against naive loops ---===//
//
// Packs random 8- and 4-bit weights and group scales as
// kiln-cpu-lower-ukernels does (panels of 16 columns), runs every
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

/// Weights q [k][n] in the signed range of `bits` and scales [k/group][n],
/// with the packed forms the kernel reads.
struct Weights {
  std::vector<int8_t> q, packed;
  std::vector<float> scales, packedScales;
};

Weights makeWeights(int64_t k, int64_t n, int64_t group, int bits,
                    std::mt19937 &rng) {
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
  int64_t panels = (n + kPanel - 1) / kPanel;
  int64_t rows = bits == 8 ? k : k / 2;
  w.packed.assign(panels * rows * kPanel, 0);
  w.packedScales.assign(panels * (k / group) * kPanel, 0.0f);
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
      for (int64_t g = 0; g < k / group; ++g)
        w.packedScales[(p * (k / group) + g) * kPanel + j] =
            w.scales[g * n + col];
    }
  return w;
}

struct Case {
  int64_t m, n, k, group;
  int bits;
  bool transA, accumulate, batched;
  int64_t cPad;
};

void check(const Variant &variant, const Case &c, std::mt19937 &rng) {
  Weights w = makeWeights(c.k, c.n, c.group, c.bits, rng);
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
             w.packedScales.data(), w.packedScales.data(), 0, 0, out.data(),
             out.data(), 0, 0, 0, c.m * ldc, ldc, 1, c.accumulate ? 1 : 0);
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
                   w.q[kk * c.n + j] * w.scales[kk / c.group * c.n + j];
          expected = c.accumulate ? expected + sum : sum;
          magnitude = std::max(magnitude, std::fabs(sum));
        }
        worst = std::max(worst, std::fabs(expected - out[at]));
      }
  // f32 rounding of k products (each |a * w| <= 127 * 0.05).
  EXPECT_LE(worst, 2e-6 * (c.k + 8) * 6.4)
      << variant.name << " m=" << c.m << " n=" << c.n << " k=" << c.k
      << " group=" << c.group << " bits=" << c.bits << " transA=" << c.transA
      << " accumulate=" << c.accumulate << " batched=" << c.batched;
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

INSTANTIATE_TEST_SUITE_P(AllISAs, WeightOnlyGemmTest,
                         ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<Variant> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
