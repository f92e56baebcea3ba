//===- SparseGemmTest.cpp - runtime/cpu/sgemm_sparse.c against naive loops ===//
//
// Packs random block-sparse weights as kiln-cpu-lower-ukernels does (panels
// of 16 columns, only the nonzero 1 x 16 blocks), runs every instruction
// set this machine has on shapes with tails in M, N and K, with and without
// the epilogue (bias, residual, clamp), strided and batched A, padded C
// rows, accumulating or not, and compares with double-precision loops.
//
//===----------------------------------------------------------------------===//

#include "../../runtime/cpu/kiln_ukernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace {

using SparseFn = void (*)(KILN_SGEMM_SPARSE_ARGS);

struct Variant {
  kiln_isa isa;
  const char *name;
  SparseFn fn;
};

const Variant kVariants[] = {
    {KILN_ISA_AVX512, "avx512", kiln_ukernel_sgemm_sparse_avx512},
    {KILN_ISA_AVX2, "avx2", kiln_ukernel_sgemm_sparse_avx2},
    {KILN_ISA_GENERIC, "generic", kiln_ukernel_sgemm_sparse_generic},
};

constexpr int64_t kPanel = 16;

/// A weight [k][n] whose 1 x 16 blocks are zero with probability `zeros`,
/// and its packing: the index (panel offsets, then each block's k) and
/// the blocks' values.
struct Weights {
  std::vector<float> dense, values;
  std::vector<int32_t> index;
};

Weights makeWeights(int64_t k, int64_t n, double zeros, std::mt19937 &rng) {
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  std::bernoulli_distribution zero(zeros);
  int64_t panels = (n + kPanel - 1) / kPanel;
  Weights w;
  w.dense.assign(k * n, 0.0f);
  for (int64_t p = 0; p < panels; ++p)
    for (int64_t kk = 0; kk < k; ++kk) {
      if (zero(rng))
        continue;
      for (int64_t j = p * kPanel; j < std::min(n, (p + 1) * kPanel); ++j)
        w.dense[kk * n + j] = value(rng);
    }
  std::vector<int32_t> rows;
  w.index.push_back(0);
  for (int64_t p = 0; p < panels; ++p) {
    for (int64_t kk = 0; kk < k; ++kk) {
      bool nonzero = false;
      for (int64_t j = p * kPanel; j < std::min(n, (p + 1) * kPanel); ++j)
        nonzero |= w.dense[kk * n + j] != 0.0f;
      if (!nonzero)
        continue;
      rows.push_back(static_cast<int32_t>(kk));
      for (int64_t j = 0; j < kPanel; ++j) {
        int64_t col = p * kPanel + j;
        w.values.push_back(col < n ? w.dense[kk * n + col] : 0.0f);
      }
    }
    w.index.push_back(static_cast<int32_t>(rows.size()));
  }
  w.index.insert(w.index.end(), rows.begin(), rows.end());
  // The kernel reads one block past an empty list never; keep the data
  // pointer valid when every block is zero.
  if (w.values.empty())
    w.values.push_back(0.0f);
  return w;
}

struct Case {
  int64_t m, n, k;
  double zeros;
  bool transA = false, accumulate = false, batched = false;
  int64_t cPad = 0;
  bool bias = false, residual = false, clamp = false;
};

void check(const Variant &variant, const Case &c, std::mt19937 &rng) {
  Weights w = makeWeights(c.k, c.n, c.zeros, rng);
  int64_t batch = c.batched ? 3 : 1;
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> a(batch * c.m * c.k);
  for (float &v : a)
    v = dist(rng);
  int64_t ldc = c.n + c.cPad;
  std::vector<float> out(batch * c.m * ldc), bias(c.n), residual(out.size());
  for (std::vector<float> *v : {&out, &bias, &residual})
    for (float &x : *v)
      x = dist(rng);
  std::vector<float> initial = out;
  int64_t aM = c.transA ? 1 : c.k, aK = c.transA ? c.m : 1;
  float lo = c.clamp ? 0.0f : -std::numeric_limits<float>::infinity();
  float hi = c.clamp ? 1.5f : std::numeric_limits<float>::infinity();
  int64_t addends = (c.bias ? 1 : 0) | (c.residual ? 2 : 0);
  variant.fn(1, batch, c.m, c.n, c.k, a.data(), a.data(), 0, 0, 0, c.m * c.k,
             aM, aK, w.index.data(), w.index.data(), 0, 0, w.values.data(),
             w.values.data(), 0, 0, out.data(), out.data(), 0, 0, 0, c.m * ldc,
             ldc, 1, c.accumulate ? 1 : 0, bias.data(), bias.data(), 0, 0, 0, 0,
             0, 1, residual.data(), residual.data(), 0, 0, 0, c.m * ldc, ldc, 1,
             addends, lo, hi);
  double worst = 0;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t i = 0; i < c.m; ++i)
      for (int64_t j = 0; j < ldc; ++j) {
        int64_t at = (b * c.m + i) * ldc + j;
        double expected = initial[at];
        if (j < c.n) {
          double sum = 0;
          for (int64_t kk = 0; kk < c.k; ++kk)
            sum += double(a[b * c.m * c.k + i * aM + kk * aK]) *
                   w.dense[kk * c.n + j];
          expected = c.accumulate ? expected + sum : sum;
          if (c.bias)
            expected += bias[j];
          if (c.residual)
            expected += residual[at];
          if (c.clamp)
            expected = std::min<double>(hi, std::max<double>(lo, expected));
        }
        worst = std::max(worst, std::fabs(expected - out[at]));
      }
  EXPECT_LE(worst, 2e-6 * (c.k + 8))
      << variant.name << " m=" << c.m << " n=" << c.n << " k=" << c.k
      << " zeros=" << c.zeros << " transA=" << c.transA
      << " accumulate=" << c.accumulate << " batched=" << c.batched;
}

class SparseGemmTest : public ::testing::TestWithParam<Variant> {
protected:
  void SetUp() override {
    if (kiln_ukernel_resolve_isa(GetParam().isa) != GetParam().isa)
      GTEST_SKIP() << "this processor lacks " << GetParam().name;
  }
};

TEST_P(SparseGemmTest, ShapesWithTails) {
  std::mt19937 rng(5);
  for (double zeros : {0.0, 0.8, 1.0})
    for (int64_t m : {1, 3, 17, 127})
      for (int64_t n : {1, 3, 17, 127})
        for (int64_t k : {1, 17, 127})
          check(GetParam(), {m, n, k, zeros}, rng);
}

TEST_P(SparseGemmTest, LargeSparse) {
  std::mt19937 rng(9);
  // A BERT-base FFN product at 80 % zero blocks, and a wide odd one.
  check(GetParam(), {128, 3072, 768, 0.8}, rng);
  check(GetParam(), {1000, 1000, 17, 0.7}, rng);
  check(GetParam(), {3, 1000, 1000, 0.9}, rng);
}

TEST_P(SparseGemmTest, EpilogueStridedBatchedAccumulating) {
  std::mt19937 rng(13);
  Case fused{33, 80, 96, 0.75};
  fused.bias = fused.residual = fused.clamp = true;
  check(GetParam(), fused, rng);
  Case odd{5, 40, 96, 0.5, true, true, true, 3};
  odd.bias = odd.clamp = true;
  check(GetParam(), odd, rng);
  check(GetParam(), {17, 33, 64, 0.8, false, true, true, 0}, rng);
}

INSTANTIATE_TEST_SUITE_P(AllISAs, SparseGemmTest,
                         ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<Variant> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
