//===- IGemmTest.cpp - the int8 GEMM microkernels against naive loops -----===//
//
// Runs runtime/cpu/igemm.c's entry points for every instruction set this
// machine has, for every signedness of A and B, on shapes with tails in
// every dim, transposed, strided and broadcast operands, batches,
// accumulating or not, zero points of one value or one per row (column),
// and operands at the extremes of their range, and requires every element
// to equal an int64 loop's.
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

using IgemmFn = void (*)(KILN_IGEMM_ARGS);
using IgemmPackedFn = void (*)(KILN_IGEMM_PACKED_ARGS);
using ScaledFn = void (*)(KILN_IGEMM_ARGS, KILN_IGEMM_SCALE_ARGS);
using PackedScaledFn = void (*)(KILN_IGEMM_PACKED_ARGS, KILN_IGEMM_SCALE_ARGS);
using WindowsFn = void (*)(KILN_IGEMM_WINDOWS_ARGS);
using WindowsScaledFn = void (*)(KILN_IGEMM_WINDOWS_ARGS,
                                 KILN_IGEMM_SCALE_ARGS);
using RequantizedFn = void (*)(KILN_IGEMM_ARGS, KILN_IGEMM_SCALE_ARGS,
                               KILN_IGEMM_REQUANT_ARGS);
using PackedRequantizedFn = void (*)(KILN_IGEMM_PACKED_ARGS,
                                     KILN_IGEMM_SCALE_ARGS,
                                     KILN_IGEMM_REQUANT_ARGS);
using WindowsRequantizedFn = void (*)(KILN_IGEMM_WINDOWS_ARGS,
                                      KILN_IGEMM_SCALE_ARGS,
                                      KILN_IGEMM_REQUANT_ARGS);
using SumFn = void (*)(KILN_IGEMM_ARGS, KILN_IGEMM_SCALE_ARGS,
                       KILN_IGEMM_SUM_ARGS);
using PackedSumFn = void (*)(KILN_IGEMM_PACKED_ARGS, KILN_IGEMM_SCALE_ARGS,
                             KILN_IGEMM_SUM_ARGS);

/// The entry points of one instruction set.
struct Variant {
  kiln_isa isa;
  const char *name;
  IgemmFn igemm;
  IgemmPackedFn packed;
  ScaledFn scaled;
  PackedScaledFn packedScaled;
  WindowsFn windows;
  WindowsScaledFn windowsScaled;
  RequantizedFn requantized;
  PackedRequantizedFn packedRequantized;
  WindowsRequantizedFn windowsRequantized;
  SumFn sum;
  PackedSumFn packedSum;
};

#define KILN_VARIANT(isa, suffix)                                              \
  {isa,                                                                        \
   #suffix,                                                                    \
   kiln_ukernel_igemm_##suffix,                                                \
   kiln_ukernel_igemm_packed_##suffix,                                         \
   kiln_ukernel_igemm_scaled_##suffix,                                         \
   kiln_ukernel_igemm_packed_scaled_##suffix,                                  \
   kiln_ukernel_igemm_windows_##suffix,                                        \
   kiln_ukernel_igemm_windows_scaled_##suffix,                                 \
   kiln_ukernel_igemm_requantized_##suffix,                                    \
   kiln_ukernel_igemm_packed_requantized_##suffix,                             \
   kiln_ukernel_igemm_windows_requantized_##suffix,                            \
   kiln_ukernel_igemm_scaled_sum_##suffix,                                     \
   kiln_ukernel_igemm_packed_scaled_sum_##suffix}

const Variant kVariants[] = {KILN_VARIANT(KILN_ISA_AVX512, avx512),
                             KILN_VARIANT(KILN_ISA_AVX2, avx2),
                             KILN_VARIANT(KILN_ISA_GENERIC, generic)};

/// The signedness of A and B.
struct Signs {
  bool aUnsigned, bUnsigned;
};

const Signs kAllSigns[] = {
    {true, false}, {false, false}, {true, true}, {false, true}};

std::string signsName(Signs s) {
  return std::string(s.aUnsigned ? "u8" : "s8") + "x" +
         (s.bUnsigned ? "u8" : "s8");
}

std::vector<int8_t> randomBytes(size_t count, std::mt19937 &rng) {
  std::uniform_int_distribution<int> dist(-128, 127);
  std::vector<int8_t> values(count);
  for (int8_t &v : values)
    v = (int8_t)dist(rng);
  return values;
}

std::vector<int32_t> randomInts(size_t count, std::mt19937 &rng) {
  std::uniform_int_distribution<int32_t> dist(-1000000, 1000000);
  std::vector<int32_t> values(count);
  for (int32_t &v : values)
    v = dist(rng);
  return values;
}

int64_t valueOf(int8_t byte, bool isUnsigned) {
  return isUnsigned ? (int64_t)(uint8_t)byte : (int64_t)byte;
}

/// One strided matrix operand: element (i, j) of batch (b0, b1) at
/// offset + b0 * batch0 + b1 * batch1 + i * rows + j * cols.
struct View {
  int64_t batch0, batch1, rows, cols;
  int64_t offset = 0;
  int64_t at(int64_t b0, int64_t b1, int64_t i, int64_t j) const {
    return offset + b0 * batch0 + b1 * batch1 + i * rows + j * cols;
  }
};

/// One product: sizes, the three views (strides in elements into buffers
/// large enough for them), signedness and accumulation.
struct Product {
  int64_t batch0, batch1, m, n, k;
  View a, b, c;
  Signs signs;
  bool accumulate;
  /// The zero points: none (empty), one value, or one per row of A (za) or
  /// column of B (zb).
  std::vector<int8_t> za = {}, zb = {};
  /// Constant zero points, used where the vectors are empty.
  int64_t zaValue = 0, zbValue = 0;
};

/// The elements one view of `rows` x `cols` per batch spans.
size_t extent(const View &v, int64_t batch0, int64_t batch1, int64_t rows,
              int64_t cols) {
  if (batch0 == 0 || batch1 == 0 || rows == 0 || cols == 0)
    return 1;
  return (size_t)v.at(batch0 - 1, batch1 - 1, rows - 1, cols - 1) + 1;
}

/// Row-major views of a batch of m x n, k contiguous along the last dim,
/// or transposed ones.
Product plainProduct(int64_t m, int64_t n, int64_t k, Signs signs,
                     bool accumulate, bool transA = false, bool transB = false,
                     bool transC = false) {
  View a = transA ? View{0, 0, 1, m} : View{0, 0, k, 1};
  View b = transB ? View{0, 0, 1, k} : View{0, 0, n, 1};
  View c = transC ? View{0, 0, 1, m} : View{0, 0, n, 1};
  return {1, 1, m, n, k, a, b, c, signs, accumulate};
}

/// Runs `p` on buffers `a`, `b` and `c` and requires every element of C
/// (and nothing else of it) to be the int64 loops' result.
void checkProduct(const Variant &variant, Product &p, std::vector<int8_t> &a,
                  std::vector<int8_t> &b, std::vector<int32_t> &c,
                  const std::string &label) {
  std::vector<int32_t> expected = c;
  for (int64_t b0 = 0; b0 < p.batch0; ++b0)
    for (int64_t b1 = 0; b1 < p.batch1; ++b1)
      for (int64_t i = 0; i < p.m; ++i)
        for (int64_t j = 0; j < p.n; ++j) {
          int64_t sum = 0;
          int64_t zai = p.za.empty() ? p.zaValue
                                     : valueOf(p.za[p.za.size() > 1 ? i : 0],
                                               p.signs.aUnsigned);
          int64_t zbj = p.zb.empty() ? p.zbValue
                                     : valueOf(p.zb[p.zb.size() > 1 ? j : 0],
                                               p.signs.bUnsigned);
          for (int64_t q = 0; q < p.k; ++q)
            sum += (valueOf(a[p.a.at(b0, b1, i, q)], p.signs.aUnsigned) - zai) *
                   (valueOf(b[p.b.at(b0, b1, q, j)], p.signs.bUnsigned) - zbj);
          int64_t at = p.c.at(b0, b1, i, j);
          expected[at] = (int32_t)((p.accumulate ? expected[at] : 0) + sum);
        }
  variant.igemm(
      p.batch0, p.batch1, p.m, p.n, p.k, a.data(), a.data(), 0, p.a.offset,
      p.a.batch0, p.a.batch1, p.a.rows, p.a.cols, 0, 0, 0, b.data(), b.data(),
      0, p.b.offset, p.b.batch0, p.b.batch1, p.b.rows, p.b.cols, c.data(),
      c.data(), 0, p.c.offset, p.c.batch0, p.c.batch1, p.c.rows, p.c.cols,
      p.za.empty() ? a.data() : p.za.data(),
      p.za.empty() ? a.data() : p.za.data(), 0, 0, p.za.size() > 1 ? 1 : 0,
      p.zb.empty() ? b.data() : p.zb.data(),
      p.zb.empty() ? b.data() : p.zb.data(), 0, 0, p.zb.size() > 1 ? 1 : 0,
      p.zaValue, p.zbValue, p.signs.aUnsigned, p.signs.bUnsigned,
      (p.za.empty() ? 0 : 1) | (p.zb.empty() ? 0 : 2), p.accumulate);
  int64_t wrong = 0, first = -1;
  for (size_t i = 0; i < c.size(); ++i)
    if (c[i] != expected[i] && wrong++ == 0)
      first = (int64_t)i;
  EXPECT_EQ(wrong, 0) << variant.name << " " << label << " "
                      << signsName(p.signs) << " batches " << p.batch0 << "x"
                      << p.batch1 << " m=" << p.m << " n=" << p.n
                      << " k=" << p.k << " accumulate=" << p.accumulate
                      << " zero points " << p.za.size() << "/" << p.zb.size()
                      << "; first at " << first << ": "
                      << (first >= 0 ? c[first] : 0) << " instead of "
                      << (first >= 0 ? expected[first] : 0);
}

/// Runs `p` on random operands (C random too, so that elements outside
/// the view must stay as they were).
void checkRandom(const Variant &variant, Product p, std::mt19937 &rng,
                 const std::string &label) {
  std::vector<int8_t> a =
      randomBytes(extent(p.a, p.batch0, p.batch1, p.m, p.k), rng);
  std::vector<int8_t> b =
      randomBytes(extent(p.b, p.batch0, p.batch1, p.k, p.n), rng);
  std::vector<int32_t> c =
      randomInts(extent(p.c, p.batch0, p.batch1, p.m, p.n), rng);
  checkProduct(variant, p, a, b, c, label);
}

class IGemmTest : public ::testing::TestWithParam<Variant> {
protected:
  void SetUp() override {
    if (kiln_ukernel_resolve_isa(GetParam().isa) != GetParam().isa)
      GTEST_SKIP() << "this processor lacks " << GetParam().name;
  }
};

TEST_P(IGemmTest, EverySignednessOnShapesWithTails) {
  // Tails in every dim; m <= 4 with row-major B takes the row kernel,
  // larger ones the packed kernels (k past one K block of every kernel).
  const int64_t shapes[][3] = {
      {1, 1, 1},  {7, 33, 5}, {17, 65, 131},  {64, 64, 1000}, {300, 700, 64},
      {8, 32, 4}, {9, 31, 3}, {3, 100, 17},   {1, 4096, 300}, {4, 77, 9},
      {2, 1, 1},  {5, 16, 1}, {13, 48, 1030}, {130, 17, 2049}};
  std::mt19937 rng(7);
  int index = 0;
  for (const auto &shape : shapes)
    for (Signs signs : kAllSigns) {
      bool accumulate = index++ % 2 == 1;
      checkRandom(GetParam(),
                  plainProduct(shape[0], shape[1], shape[2], signs, accumulate),
                  rng, "row-major");
    }
}

TEST_P(IGemmTest, TransposedAndStridedViews) {
  std::mt19937 rng(11);
  const int64_t shapes[][3] = {
      {1, 40, 70}, {4, 33, 9}, {7, 33, 5}, {17, 65, 131}, {40, 100, 257}};
  int index = 0;
  for (const auto &shape : shapes)
    for (Signs signs : kAllSigns)
      for (int layout = 1; layout < 8; ++layout) {
        // Every combination of column-major A (a_k != 1), transposed B
        // (b_n != 1) and transposed C.
        bool accumulate = index++ % 3 == 0;
        checkRandom(GetParam(),
                    plainProduct(shape[0], shape[1], shape[2], signs,
                                 accumulate, layout & 1, layout & 2,
                                 layout & 4),
                    rng, "layout " + std::to_string(layout));
      }
  // Rows padded apart in every operand, and a view that starts inside its
  // buffer: only the view's elements of C change.
  for (Signs signs : kAllSigns) {
    Product p{1,
              1,
              19,
              45,
              67,
              {0, 0, 80, 1, 3},
              {0, 0, 50, 1, 5},
              {0, 0, 51, 1, 7},
              signs,
              true};
    checkRandom(GetParam(), p, rng, "padded rows");
    // B's columns 3 elements apart, A's k 2 apart, C's columns 2 apart
    // (C's other elements stay).
    Product q{1,
              1,
              10,
              37,
              29,
              {0, 0, 61, 2},
              {0, 0, 111, 3},
              {0, 0, 75, 2, 1},
              signs,
              false};
    checkRandom(GetParam(), q, rng, "strided");
    // Every column of B the same (stride 0), few rows and many.
    for (int64_t m : {2, 12}) {
      Product r{
          1,     1,    m, 50, 33, {0, 0, 33, 1}, {0, 0, 1, 0}, {0, 0, 50, 1},
          signs, false};
      checkRandom(GetParam(), r, rng, "B columns broadcast");
    }
  }
}

TEST_P(IGemmTest, BatchesWithBroadcastOperands) {
  std::mt19937 rng(13);
  const int64_t shapes[][3] = {{3, 70, 20}, {33, 40, 50}, {70, 100, 300}};
  for (const auto &shape : shapes)
    for (Signs signs : kAllSigns) {
      int64_t m = shape[0], n = shape[1], k = shape[2];
      // 2 x 3 batches: A broadcast along batch0, B along batch1, C packed.
      Product p{2,
                3,
                m,
                n,
                k,
                {0, m * k, k, 1},
                {n * k, 0, n, 1},
                {3 * m * n, m * n, n, 1},
                signs,
                false};
      checkRandom(GetParam(), p, rng, "2x3 batches");
      // One batch dim of 2 with B shared (a transposed B): the threads
      // share each batch.
      Product q{
          1,     2,   m, n, k, {0, m * k, k, 1}, {0, 0, 1, k}, {0, m * n, n, 1},
          signs, true};
      checkRandom(GetParam(), q, rng, "2 batches, B shared");
    }
}

TEST_P(IGemmTest, ZeroPoints) {
  // Each zero point absent, one value, or one per row (column), on products
  // the row kernel takes (m <= 4) and the packed kernels take, over every
  // signedness; the values span their type's range.
  const int64_t shapes[][3] = {
      {1, 70, 33}, {3, 45, 130}, {9, 33, 5}, {37, 70, 1030}, {64, 300, 64}};
  std::mt19937 rng(23);
  int index = 0;
  for (const auto &shape : shapes)
    for (Signs signs : kAllSigns)
      for (int kinds = 1; kinds < 9; ++kinds) {
        int aKind = kinds % 3, bKind = kinds / 3;
        bool accumulate = index % 2 == 0, transC = index % 3 == 0;
        ++index;
        Product p = plainProduct(shape[0], shape[1], shape[2], signs,
                                 accumulate, false, false, transC);
        if (aKind)
          p.za = randomBytes(aKind == 1 ? 1 : p.m, rng);
        if (bKind)
          p.zb = randomBytes(bKind == 1 ? 1 : p.n, rng);
        checkRandom(GetParam(), p, rng, "zero points " + std::to_string(kinds));
      }
  // Constant zero points (no views), alone and beside a view.
  for (const auto &shape : shapes)
    for (Signs signs : kAllSigns) {
      Product p = plainProduct(shape[0], shape[1], shape[2], signs, false);
      p.zaValue = signs.aUnsigned ? 131 : -7;
      p.zbValue = signs.bUnsigned ? 200 : 3;
      checkRandom(GetParam(), p, rng, "constant zero points");
      p.zb = randomBytes(p.n, rng);
      checkRandom(GetParam(), p, rng, "constant za, zb per column");
    }
  // With batches, each batch's rows and columns corrected.
  for (Signs signs : kAllSigns) {
    Product p{2,
              1,
              5,
              40,
              21,
              {5 * 21, 0, 21, 1},
              {0, 0, 40, 1},
              {5 * 40, 0, 40, 1},
              signs,
              false};
    p.za = randomBytes(5, rng);
    p.zb = randomBytes(1, rng);
    checkRandom(GetParam(), p, rng, "zero points, 2 batches");
  }
}

TEST_P(IGemmTest, ExtremeValuesDoNotSaturate) {
  // Every product at the edge of its range, 4096 deep (and a tail): any
  // 16-bit intermediate would saturate.
  struct Extremes {
    Signs signs;
    int8_t a, b;
  };
  const Extremes cases[] = {
      {{false, false}, -128, -128}, {{false, false}, 127, -128},
      {{false, false}, 127, 127},   {{true, false}, -1, -128},
      {{true, false}, -1, 127},     {{true, true}, -1, -1},
      {{false, true}, -128, -1},    {{false, true}, 127, -1},
  };
  const int64_t shapes[][3] = {{16, 64, 4096}, {1, 70, 4096}, {9, 33, 4099}};
  std::mt19937 rng(17);
  for (const Extremes &e : cases)
    for (const auto &shape : shapes)
      for (bool accumulate : {false, true}) {
        Product p =
            plainProduct(shape[0], shape[1], shape[2], e.signs, accumulate);
        std::vector<int8_t> a(p.m * p.k, e.a), b(p.k * p.n, e.b);
        std::vector<int32_t> c = randomInts(p.m * p.n, rng);
        checkProduct(GetParam(), p, a, b, c,
                     "extremes " + std::to_string(e.a) + " * " +
                         std::to_string(e.b));
      }
}

TEST_P(IGemmTest, RepeatedOverBlocks) {
  // Several column blocks (the threads split their panels differently in
  // each) and K blocks, with a tall product whose threads share each B
  // block: a missing synchronization shows only now and then.
  std::mt19937 rng(19);
  const int64_t shapes[][3] = {{64, 2816, 1100}, {512, 64, 2100}};
  for (const auto &shape : shapes) {
    Product p =
        plainProduct(shape[0], shape[1], shape[2], {true, false}, false);
    std::vector<int8_t> a = randomBytes(p.m * p.k, rng);
    std::vector<int8_t> b = randomBytes(p.k * p.n, rng);
    std::vector<int32_t> expected(p.m * p.n, 0);
    for (int64_t i = 0; i < p.m; ++i)
      for (int64_t q = 0; q < p.k; ++q) {
        int32_t x = (uint8_t)a[i * p.k + q];
        for (int64_t j = 0; j < p.n; ++j)
          expected[i * p.n + j] += x * b[q * p.n + j];
      }
    for (int repeat = 0; repeat < 10; ++repeat) {
      std::vector<int32_t> c(p.m * p.n, -1);
      GetParam().igemm(1, 1, p.m, p.n, p.k, a.data(), a.data(), 0, 0, 0, 0, p.k,
                       1, 0, 0, 0, b.data(), b.data(), 0, 0, 0, 0, p.n, 1,
                       c.data(), c.data(), 0, 0, 0, 0, p.n, 1, a.data(),
                       a.data(), 0, 0, 0, b.data(), b.data(), 0, 0, 0, 0, 0, 1,
                       0, 0, 0);
      ASSERT_EQ(c, expected) << GetParam().name << " m=" << p.m << " n=" << p.n
                             << " k=" << p.k << " repeat " << repeat;
    }
  }
}

TEST_P(IGemmTest, EmptyProducts) {
  // k = 0: the product is zero; without accumulation C is overwritten,
  // with it C stays.
  for (bool accumulate : {false, true}) {
    std::vector<int32_t> c(6, 5);
    int8_t none = 0;
    GetParam().igemm(1, 1, 2, 3, 0, &none, &none, 0, 0, 0, 0, 0, 1, 0, 0, 0,
                     &none, &none, 0, 0, 0, 0, 3, 1, c.data(), c.data(), 0, 0,
                     0, 0, 3, 1, &none, &none, 0, 0, 0, &none, &none, 0, 0, 0,
                     0, 0, 0, 1, 3, accumulate);
    for (int32_t v : c)
      EXPECT_EQ(v, accumulate ? 5 : 0) << GetParam().name;
  }
  // m = 0, n = 0 or no batches: nothing is read or written.
  const int64_t sizes[][4] = {{0, 3, 4, 1}, {2, 0, 4, 1}, {2, 3, 4, 0}};
  for (const auto &size : sizes) {
    std::vector<int32_t> c(6, 5);
    std::vector<int8_t> a(8, 1), b(12, 1);
    GetParam().igemm(1, size[3], size[0], size[1], size[2], a.data(), a.data(),
                     0, 0, 0, 0, 4, 1, 0, 0, 0, b.data(), b.data(), 0, 0, 0, 0,
                     3, 1, c.data(), c.data(), 0, 0, 0, 0, 3, 1, a.data(),
                     a.data(), 0, 0, 0, b.data(), b.data(), 0, 0, 0, 0, 0, 1, 0,
                     3, 0);
    for (int32_t v : c)
      EXPECT_EQ(v, 5) << GetParam().name;
  }
}

/// B (k x n, row-major) packed as KILN_IGEMM_PACKED_ARGS documents, for
/// panels of `width`, `format` (units of 4 k as bytes or 2 as int16) and K
/// blocks of `block`.
std::vector<int8_t> packB(const std::vector<int8_t> &b, int64_t k, int64_t n,
                          bool bUnsigned, int64_t width, int64_t format,
                          int64_t block) {
  int64_t depth = format == KILN_IGEMM_PAIRS ? 2 : 4;
  int64_t panels = (n + width - 1) / width, groups = (k + depth - 1) / depth;
  int64_t padded = panels * width, blocks = (k + block - 1) / block;
  std::vector<int32_t> units(panels * groups * width + blocks * padded, 0);
  for (int64_t q = 0; q < k; ++q)
    for (int64_t j = 0; j < n; ++j) {
      int32_t &unit =
          units[(j / width * groups + q / depth) * width + j % width];
      int32_t stored;
      if (depth == 4) {
        uint8_t byte = (uint8_t)b[q * n + j] ^ (bUnsigned ? 0x80 : 0);
        reinterpret_cast<uint8_t *>(&unit)[q % 4] = byte;
        stored = (int8_t)byte;
      } else {
        stored = (int32_t)valueOf(b[q * n + j], bUnsigned);
        reinterpret_cast<int16_t *>(&unit)[q % 2] = (int16_t)stored;
      }
      units[panels * groups * width + q / block * padded + j] += stored;
    }
  std::vector<int8_t> bytes(units.size() * 4);
  std::memcpy(bytes.data(), units.data(), bytes.size());
  return bytes;
}

/// A ([m][k]) packed as the compiler packs a constant lhs
/// (KILN_IGEMM_A_PACKING_ARGS): bytes stored unsigned (flipped when A is
/// signed) or int16 pairs, then the row sums of the stored values per K
/// block.
std::vector<int8_t> packA(const std::vector<int8_t> &a, int64_t m, int64_t k,
                          bool aUnsigned, int64_t height, int64_t format,
                          int64_t block) {
  int64_t depth = format == KILN_IGEMM_PAIRS ? 2 : 4;
  int64_t panels = (m + height - 1) / height, groups = (k + depth - 1) / depth;
  int64_t padded = panels * height, blocks = (k + block - 1) / block;
  std::vector<int32_t> units(panels * groups * height + blocks * padded, 0);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t q = 0; q < k; ++q) {
      int32_t &unit =
          units[(i / height * groups + q / depth) * height + i % height];
      int32_t stored;
      if (depth == 4) {
        // Bytes stored unsigned, or signed for the narrow format.
        bool storedSigned = format == KILN_IGEMM_NARROW_SIGNED_BYTES;
        uint8_t byte =
            (uint8_t)a[i * k + q] ^ (aUnsigned == storedSigned ? 0x80 : 0);
        reinterpret_cast<uint8_t *>(&unit)[q % 4] = byte;
        stored = storedSigned ? (int32_t)(int8_t)byte : (int32_t)byte;
      } else {
        stored = (int32_t)valueOf(a[i * k + q], aUnsigned);
        reinterpret_cast<int16_t *>(&unit)[q % 2] = (int16_t)stored;
      }
      units[panels * groups * height + q / block * padded + i] += stored;
    }
  std::vector<int8_t> bytes(units.size() * 4);
  std::memcpy(bytes.data(), units.data(), bytes.size());
  return bytes;
}

TEST_P(IGemmTest, CompilerPackedA) {
  // A constant A packed as the compiler packs it, for this kernel and for
  // another one (unpacked first), in every signedness, with a zero point of
  // one value for B (the packed terms) and per row for A (the correction
  // pass, on A unpacked), over one and several K blocks and several
  // batches of B.
  std::mt19937 rng(41);
  const int64_t shapes[][3] = {{3, 70, 33}, {37, 45, 130}, {64, 100, 2100}};
  for (const auto &shape : shapes)
    for (Signs signs : kAllSigns)
      for (int variant = 0; variant < 4; ++variant) {
        int64_t m = shape[0], n = shape[1], k = shape[2], batches = 2;
        kiln_isa packedFor =
            variant == 1 ? (GetParam().isa == KILN_ISA_AVX2 ? KILN_ISA_GENERIC
                                                            : KILN_ISA_AVX2)
                         : GetParam().isa;
        // Variant 3: 7-bit values packed narrow (the AVX2 kernel for a
        // signed A times an unsigned B; the others unpack it).
        bool narrow = variant == 3;
        int64_t height, format, block;
        kiln_ukernel_igemm_lhs_packing(packedFor, narrow, &height, &format,
                                       &block);
        std::vector<int8_t> a = randomBytes(m * k, rng);
        if (narrow) // stored values (A ^ 0x80 when unsigned) in [-64, 64]
          for (int8_t &v : a)
            v = (int8_t)((uint8_t)(v % 65) ^ (signs.aUnsigned ? 0x80 : 0));
        std::vector<int8_t> b = randomBytes(batches * k * n, rng);
        std::vector<int8_t> packed =
            packA(a, m, k, signs.aUnsigned, height, format, block);
        bool rowZeroPoints = variant == 2;
        std::vector<int8_t> za = randomBytes(m, rng);
        int8_t zb = 23;
        std::vector<int32_t> c(batches * m * n, 0), expected(c.size());
        for (int64_t bi = 0; bi < batches; ++bi)
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
              int64_t sum = 0;
              int64_t zai = rowZeroPoints ? valueOf(za[i], signs.aUnsigned) : 0;
              for (int64_t q = 0; q < k; ++q)
                sum += (valueOf(a[i * k + q], signs.aUnsigned) - zai) *
                       (valueOf(b[(bi * k + q) * n + j], signs.bUnsigned) -
                        valueOf(zb, signs.bUnsigned));
              expected[(bi * m + i) * n + j] = (int32_t)sum;
            }
        GetParam().igemm(1, batches, m, n, k, packed.data(), packed.data(), 0,
                         0, 0, 0, 0, 0, height, format, block, b.data(),
                         b.data(), 0, 0, 0, k * n, n, 1, c.data(), c.data(), 0,
                         0, 0, m * n, n, 1, za.data(), za.data(), 0, 0, 1, &zb,
                         &zb, 0, 0, 0, 0, 0, signs.aUnsigned, signs.bUnsigned,
                         (rowZeroPoints ? 1 : 0) | 2, 0);
        EXPECT_EQ(c, expected)
            << GetParam().name << " A packed for " << height << "/" << format
            << "/" << block << " " << signsName(signs) << " m=" << m
            << " n=" << n << " k=" << k << " variant " << variant;
      }
}

TEST_P(IGemmTest, CompilerPackedB) {
  // B packed for this kernel (as the compiler packs constants), for
  // another one (the kernel unpacks it first), and narrow (7-bit values,
  // which AVX2 multiplies with VPMADDUBSW); zero points of one value and
  // per row; batches of A sharing B.
  std::mt19937 rng(29);
  const int64_t shapes[][3] = {
      {1, 70, 33}, {5, 45, 130}, {37, 70, 1030}, {128, 300, 2100}};
  for (const auto &shape : shapes)
    for (Signs signs : kAllSigns)
      for (int variant = 0; variant < 4; ++variant) {
        int64_t m = shape[0], n = shape[1], k = shape[2], batches = 2;
        int64_t width, format, block;
        bool narrow = variant == 3;
        kiln_ukernel_igemm_packing(
            variant == 2 ? (GetParam().isa == KILN_ISA_AVX2 ? KILN_ISA_GENERIC
                                                            : KILN_ISA_AVX2)
                         : GetParam().isa,
            narrow, &width, &format, &block);
        std::vector<int8_t> a = randomBytes(batches * m * k, rng);
        std::vector<int8_t> b = randomBytes(k * n, rng);
        if (narrow) // stored values (B ^ 0x80 when unsigned) in [-64, 64]
          for (int8_t &v : b)
            v = (int8_t)((uint8_t)(v % 65) ^ (signs.bUnsigned ? 0x80 : 0));
        std::vector<int8_t> packed =
            packB(b, k, n, signs.bUnsigned, width, format, block);
        std::vector<int8_t> za = randomBytes(variant == 1 ? m : 1, rng);
        int8_t zb = (int8_t)(variant * 37 - 20);
        bool accumulate = variant == 1;
        std::vector<int32_t> c = randomInts(batches * m * n, rng);
        std::vector<int32_t> expected = c;
        for (int64_t bi = 0; bi < batches; ++bi)
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < n; ++j) {
              int64_t sum = 0;
              int64_t zai = valueOf(za[za.size() > 1 ? i : 0], signs.aUnsigned);
              for (int64_t q = 0; q < k; ++q)
                sum +=
                    (valueOf(a[(bi * m + i) * k + q], signs.aUnsigned) - zai) *
                    (valueOf(b[q * n + j], signs.bUnsigned) -
                     valueOf(zb, signs.bUnsigned));
              int32_t &out = expected[(bi * m + i) * n + j];
              out = (int32_t)((accumulate ? out : 0) + sum);
            }
        GetParam().packed(1, batches, m, n, k, a.data(), a.data(), 0, 0, 0,
                          m * k, k, 1, packed.data(), packed.data(), 0, 0,
                          width, format, block, c.data(), c.data(), 0, 0, 0,
                          m * n, n, 1, za.data(), za.data(), 0, 0,
                          za.size() > 1 ? 1 : 0, &zb, &zb, 0, 0, 0, 0, 0,
                          signs.aUnsigned, signs.bUnsigned, 3, accumulate);
        EXPECT_EQ(c, expected)
            << GetParam().name << " packed for " << width << "/" << format
            << "/" << block << " " << signsName(signs) << " m=" << m
            << " n=" << n << " k=" << k;
      }
}

/// Element (i, j) of (A - za) B for row-major u8 A [m][k] and s8 B [k][n],
/// za one value or one per row.
int64_t unsignedBySigned(const std::vector<int8_t> &a,
                         const std::vector<int8_t> &b,
                         const std::vector<int8_t> &za, int64_t i, int64_t j,
                         int64_t k, int64_t n) {
  int64_t sum = 0;
  for (int64_t q = 0; q < k; ++q)
    sum +=
        ((int64_t)(uint8_t)a[i * k + q] - (uint8_t)za[za.size() > 1 ? i : 0]) *
        b[q * n + j];
  return sum;
}

TEST_P(IGemmTest, DequantizedOutput) {
  // C in f32: the exact product times a single, per-column or per-row
  // scale, on the few-row path, the packed kernels over one and several K
  // blocks, a compiler-packed B, with zero points of one value and per row.
  ScaledFn scaled = GetParam().scaled;
  PackedScaledFn packedScaled = GetParam().packedScaled;
  std::mt19937 rng(31);
  std::uniform_real_distribution<float> scales(0.001f, 0.02f);
  const int64_t shapes[][3] = {{2, 50, 33}, {37, 70, 130}, {64, 100, 2100}};
  for (const auto &shape : shapes)
    for (int variant = 0; variant < 10; ++variant) {
      int64_t m = shape[0], n = shape[1], k = shape[2];
      // Scales: 0 one, 1 per column, 2 per row.
      const int kinds[] = {0, 1, 2, 0, 2};
      int kind = kinds[variant / 2];
      bool packedB = variant % 2 == 1, perColumn = kind == 1,
           perRow = kind == 2;
      bool rowZeroPoints = variant >= 6;
      std::vector<int8_t> a = randomBytes(m * k, rng);
      std::vector<int8_t> b = randomBytes(k * n, rng);
      std::vector<int8_t> za = randomBytes(rowZeroPoints ? m : 1, rng);
      std::vector<float> scale(perColumn ? n : perRow ? m : 1);
      for (float &v : scale)
        v = scales(rng);
      std::vector<float> expected(m * n), c(m * n, -1.0f);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          int64_t sum = unsignedBySigned(a, b, za, i, j, k, n);
          expected[i * n + j] = (float)sum * scale[perColumn ? j
                                                   : perRow  ? i
                                                             : 0];
        }
      int32_t *cAsInt = reinterpret_cast<int32_t *>(c.data());
      if (packedB) {
        int64_t width, format, block;
        kiln_ukernel_igemm_packing(GetParam().isa, 0, &width, &format, &block);
        std::vector<int8_t> packed =
            packB(b, k, n, false, width, format, block);
        packedScaled(1, 1, m, n, k, a.data(), a.data(), 0, 0, 0, 0, k, 1,
                     packed.data(), packed.data(), 0, 0, width, format, block,
                     cAsInt, cAsInt, 0, 0, 0, 0, n, 1, za.data(), za.data(), 0,
                     0, za.size() > 1 ? 1 : 0, b.data(), b.data(), 0, 0, 0, 0,
                     0, 1, 0, 1, 0, scale.data(), scale.data(), 0, 0,
                     perRow ? 1 : 0, perColumn ? 1 : 0);
      } else {
        scaled(1, 1, m, n, k, a.data(), a.data(), 0, 0, 0, 0, k, 1, 0, 0, 0,
               b.data(), b.data(), 0, 0, 0, 0, n, 1, cAsInt, cAsInt, 0, 0, 0, 0,
               n, 1, za.data(), za.data(), 0, 0, za.size() > 1 ? 1 : 0,
               b.data(), b.data(), 0, 0, 0, 0, 0, 1, 0, 1, 0, scale.data(),
               scale.data(), 0, 0, perRow ? 1 : 0, perColumn ? 1 : 0);
      }
      // The exact product converted once: the same float.
      for (int64_t e = 0; e < m * n; ++e)
        ASSERT_EQ(c[e], expected[e])
            << GetParam().name << " m=" << m << " n=" << n << " k=" << k
            << " variant " << variant << " element " << e;
    }
}

TEST_P(IGemmTest, WindowProducts) {
  // B read through a convolution's windows (kiln.im2col fused): int8
  // weights [M, C*kh*kw] times the windows of a padded uint8 input [N, C,
  // H, W] held inside a larger buffer (strided rows), against loops. Window
  // shapes with strides and dilations, output rows shorter and longer than
  // a panel; a scalar zero point (the packed terms), per-row weight zero
  // points (the window matrix copied out first), accumulation, and the
  // dequantized store per row.
  WindowsFn plain = GetParam().windows;
  WindowsScaledFn scaled = GetParam().windowsScaled;
  std::mt19937 rng(57);
  struct Shape {
    int64_t n, c, h, w, m, kh, kw, sh, sw, dh, dw;
  };
  const Shape shapes[] = {{2, 3, 9, 10, 37, 3, 2, 2, 1, 1, 2},
                          {1, 8, 12, 40, 20, 3, 3, 1, 1, 1, 1},
                          {1, 16, 7, 7, 9, 1, 1, 2, 2, 1, 1},
                          {1, 70, 6, 6, 17, 3, 3, 1, 1, 1, 1}};
  for (const Shape &sh : shapes)
    for (int variant = 0; variant < 4; ++variant) {
      int64_t oh = (sh.h - (sh.kh - 1) * sh.dh - 1) / sh.sh + 1;
      int64_t ow = (sh.w - (sh.kw - 1) * sh.dw - 1) / sh.sw + 1;
      int64_t k = sh.c * sh.kh * sh.kw, n = oh * ow;
      // The input inside a buffer 3 columns wider (a padded buffer's view).
      int64_t rowStride = sh.w + 3, planeStride = sh.h * rowStride;
      std::vector<int8_t> in = randomBytes(sh.n * sh.c * planeStride, rng);
      std::vector<int8_t> a = randomBytes(sh.m * k, rng);
      bool rowZeroPoints = variant == 2, accumulate = variant == 3;
      bool dequantize = variant == 1;
      std::vector<int8_t> za = randomBytes(rowZeroPoints ? sh.m : 1, rng);
      int8_t zb = 17;
      std::vector<float> scale(sh.m);
      for (float &v : scale)
        v = 0.001f * (float)(1 + rng() % 20);
      std::vector<int32_t> c = randomInts(sh.n * sh.m * n, rng);
      std::vector<int32_t> expected = c;
      std::vector<float> expectedF(sh.n * sh.m * n);
      for (int64_t b = 0; b < sh.n; ++b)
        for (int64_t i = 0; i < sh.m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            int64_t y = j / ow, x = j % ow, sum = 0;
            int64_t zai = rowZeroPoints ? valueOf(za[i], false) : 0;
            for (int64_t q = 0; q < k; ++q) {
              int64_t ch = q / (sh.kh * sh.kw);
              int64_t wi = q % (sh.kh * sh.kw) / sh.kw, wj = q % sh.kw;
              int8_t v = in[(b * sh.c + ch) * planeStride +
                            (y * sh.sh + wi * sh.dh) * rowStride + x * sh.sw +
                            wj * sh.dw];
              sum += (valueOf(a[i * k + q], false) - zai) *
                     (valueOf(v, true) - valueOf(zb, true));
            }
            size_t e = (b * sh.m + i) * n + j;
            expected[e] = (int32_t)((accumulate ? expected[e] : 0) + sum);
            expectedF[e] = (float)sum * scale[i];
          }
      int32_t *cBase = c.data();
      std::vector<float> cf(c.size(), -1.0f);
      int32_t *cfBase = reinterpret_cast<int32_t *>(cf.data());
      int8_t *inBase = in.data();
      int64_t zeroPoints = 2 | (rowZeroPoints ? 1 : 0);
      if (dequantize)
        scaled(1, sh.n, sh.m, n, k, a.data(), a.data(), 0, 0, 0, 0, k, 1, 0, 0,
               0, inBase, inBase, 0, 0, 0, sh.c * planeStride, planeStride,
               rowStride, 1, sh.kh, sh.kw, sh.sh, sh.sw, sh.dh, sh.dw, ow,
               cfBase, cfBase, 0, 0, 0, sh.m * n, n, 1, za.data(), za.data(), 0,
               0, rowZeroPoints ? 1 : 0, &zb, &zb, 0, 0, 0, 0, 0, 0, 1,
               zeroPoints, 0, scale.data(), scale.data(), 0, 0, 1, 0);
      else
        plain(1, sh.n, sh.m, n, k, a.data(), a.data(), 0, 0, 0, 0, k, 1, 0, 0,
              0, inBase, inBase, 0, 0, 0, sh.c * planeStride, planeStride,
              rowStride, 1, sh.kh, sh.kw, sh.sh, sh.sw, sh.dh, sh.dw, ow, cBase,
              cBase, 0, 0, 0, sh.m * n, n, 1, za.data(), za.data(), 0, 0,
              rowZeroPoints ? 1 : 0, &zb, &zb, 0, 0, 0, 0, 0, 0, 1, zeroPoints,
              accumulate);
      if (dequantize) {
        for (size_t e = 0; e < cf.size(); ++e)
          ASSERT_EQ(cf[e], expectedF[e]) << GetParam().name << " window shape "
                                         << (&sh - shapes) << " element " << e;
      } else {
        EXPECT_EQ(c, expected) << GetParam().name << " window shape "
                               << (&sh - shapes) << " variant " << variant;
      }
    }
}

/// What the requantizing store makes of exact sum `sum`: times `scale`,
/// plus `offset`, clamped and rounded half to even (in the default
/// rounding mode), as a byte.
int8_t requantized(int64_t sum, float scale, float offset, int64_t lo,
                   int64_t hi) {
  float y = (float)sum * scale;
  y = y + offset;
  y = std::fmin(std::fmax(y, (float)lo), (float)hi);
  return (int8_t)(int32_t)std::nearbyint(y);
}

TEST_P(IGemmTest, RequantizedOutput) {
  // C in bytes: the exact product times a scale, plus an offset (one
  // value, per column or per row), clamped to a u8 or s8 range (or a
  // ReLU's) and rounded. Products on the few-row path, over one and
  // several K blocks (the earlier blocks summed apart), with a
  // compiler-packed A or B, per-row zero points (corrected after the
  // product), and C rows apart in a larger buffer or columns apart.
  std::mt19937 rng(67);
  std::uniform_real_distribution<float> scales(0.0005f, 0.004f);
  std::uniform_real_distribution<float> offsets(-20.0f, 140.0f);
  const int64_t shapes[][3] = {{2, 50, 33}, {37, 70, 130}, {64, 100, 2100}};
  for (const auto &shape : shapes)
    for (int variant = 0; variant < 8; ++variant) {
      int64_t m = shape[0], n = shape[1], k = shape[2];
      // Factors: 0 one, 1 per column, 2 per row.
      int kind = variant % 3;
      bool perColumn = kind == 1, perRow = kind == 2;
      bool packedB = variant == 3, packedA = variant == 4;
      bool rowZeroPoints = variant == 5, columnsApart = variant == 6;
      int64_t lo = variant == 7 ? -128 : variant == 1 ? 37 : 0;
      int64_t hi = variant == 7 ? 127 : 255;
      std::vector<int8_t> a = randomBytes(m * k, rng);
      std::vector<int8_t> b = randomBytes(k * n, rng);
      std::vector<int8_t> za = randomBytes(rowZeroPoints ? m : 1, rng);
      std::vector<float> scale(perColumn ? n
                               : perRow  ? m
                                         : 1),
          offset(scale.size());
      for (float &v : scale)
        v = scales(rng);
      for (float &v : offset)
        v = offsets(rng) + (lo < 0 ? -60.0f : 0.0f);
      // C: rows 5 bytes longer than n (a padded buffer's interior), or
      // transposed; bytes outside the view stay.
      int64_t cm = columnsApart ? 1 : n + 5, cn = columnsApart ? m + 3 : 1;
      std::vector<int8_t> c((size_t)(columnsApart ? n * cn : m * cm), 99);
      std::vector<int8_t> expected = c;
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          int64_t sum = unsignedBySigned(a, b, za, i, j, k, n);
          size_t f = perColumn ? j : perRow ? i : 0;
          expected[i * cm + j * cn] =
              requantized(sum, scale[f], offset[f], lo, hi);
        }
      int32_t *cBase = reinterpret_cast<int32_t *>(c.data());
      int64_t sm = perRow ? 1 : 0, sn = perColumn ? 1 : 0;
      int64_t zam = za.size() > 1 ? 1 : 0;
      if (packedB) {
        int64_t width, format, block;
        kiln_ukernel_igemm_packing(GetParam().isa, 0, &width, &format, &block);
        std::vector<int8_t> packed =
            packB(b, k, n, false, width, format, block);
        GetParam().packedRequantized(
            1, 1, m, n, k, a.data(), a.data(), 0, 0, 0, 0, k, 1, packed.data(),
            packed.data(), 0, 0, width, format, block, cBase, cBase, 0, 0, 0, 0,
            cm, cn, za.data(), za.data(), 0, 0, zam, b.data(), b.data(), 0, 0,
            0, 0, 0, 1, 0, 1, 0, scale.data(), scale.data(), 0, 0, sm, sn,
            offset.data(), offset.data(), 0, 0, sm, sn, lo, hi);
      } else {
        int64_t height = 0, format = 0, block = 0;
        std::vector<int8_t> lhs = a;
        if (packedA) {
          kiln_ukernel_igemm_lhs_packing(GetParam().isa, 0, &height, &format,
                                         &block);
          lhs = packA(a, m, k, true, height, format, block);
        }
        GetParam().requantized(
            1, 1, m, n, k, lhs.data(), lhs.data(), 0, 0, 0, 0, k, 1, height,
            format, block, b.data(), b.data(), 0, 0, 0, 0, n, 1, cBase, cBase,
            0, 0, 0, 0, cm, cn, za.data(), za.data(), 0, 0, zam, b.data(),
            b.data(), 0, 0, 0, 0, 0, 1, 0, 1, 0, scale.data(), scale.data(), 0,
            0, sm, sn, offset.data(), offset.data(), 0, 0, sm, sn, lo, hi);
      }
      for (size_t e = 0; e < c.size(); ++e)
        ASSERT_EQ(c[e], expected[e])
            << GetParam().name << " m=" << m << " n=" << n << " k=" << k
            << " variant " << variant << " element " << e;
    }
  // A window-read product over two K blocks, per-row factors, a ReLU's
  // range.
  int64_t channels = 130, h = 6, w = 9, mOut = 19, oh = 4, ow = 7;
  int64_t kk = channels * 9, nn = oh * ow;
  std::vector<int8_t> in = randomBytes(channels * h * w, rng);
  std::vector<int8_t> weights = randomBytes(mOut * kk, rng);
  std::vector<float> scale(mOut), offset(mOut);
  for (int64_t i = 0; i < mOut; ++i) {
    scale[i] = scales(rng) / 4;
    offset[i] = offsets(rng);
  }
  int8_t zb = 3;
  std::vector<int8_t> c(mOut * nn, 99), expected(c.size());
  for (int64_t i = 0; i < mOut; ++i)
    for (int64_t j = 0; j < nn; ++j) {
      int64_t sum = 0;
      for (int64_t q = 0; q < kk; ++q) {
        int64_t ch = q / 9, wi = q % 9 / 3, wj = q % 3;
        sum += (int64_t)weights[i * kk + q] *
               ((int64_t)(uint8_t)in[(ch * h + j / ow + wi) * w + j % ow + wj] -
                zb);
      }
      expected[i * nn + j] = requantized(sum, scale[i], offset[i], 10, 255);
    }
  int32_t *cBase = reinterpret_cast<int32_t *>(c.data());
  GetParam().windowsRequantized(
      1, 1, mOut, nn, kk, weights.data(), weights.data(), 0, 0, 0, 0, kk, 1, 0,
      0, 0, in.data(), in.data(), 0, 0, 0, 0, h * w, w, 1, 3, 3, 1, 1, 1, 1, ow,
      cBase, cBase, 0, 0, 0, 0, nn, 1, weights.data(), weights.data(), 0, 0, 0,
      &zb, &zb, 0, 0, 0, 0, 0, 0, 1, 2, 0, scale.data(), scale.data(), 0, 0, 1,
      0, offset.data(), offset.data(), 0, 0, 1, 0, 10, 255);
  EXPECT_EQ(c, expected) << GetParam().name << " window-read product";
}

TEST_P(IGemmTest, SummedOutput) {
  // C in f32: the dequantized product plus a bias (one value, per row or
  // per column) and a residual tensor (rows apart in a larger buffer, taken
  // as is or through max(r, 0)), as a residual block's end computes it.
  // The few-row path, several K blocks, a compiler-packed B, per-row zero
  // points and two batches.
  std::mt19937 rng(71);
  std::uniform_real_distribution<float> scales(0.0005f, 0.004f);
  std::uniform_real_distribution<float> values(-3.0f, 3.0f);
  const int64_t shapes[][3] = {{2, 50, 33}, {37, 70, 130}, {64, 100, 2100}};
  for (const auto &shape : shapes)
    for (int variant = 0; variant < 6; ++variant) {
      int64_t m = shape[0], n = shape[1], k = shape[2], batches = 2;
      int kind = variant % 3;
      bool perColumn = kind == 1, perRow = kind == 2;
      bool relu = variant % 2 == 0, packedB = variant == 3;
      bool rowZeroPoints = variant == 4;
      std::vector<int8_t> a = randomBytes(m * k, rng);
      std::vector<int8_t> b = randomBytes(k * n, rng);
      std::vector<int8_t> za = randomBytes(rowZeroPoints ? m : 1, rng);
      std::vector<float> scale(perColumn ? n
                               : perRow  ? m
                                         : 1),
          offset(scale.size());
      for (float &v : scale)
        v = scales(rng);
      for (float &v : offset)
        v = values(rng);
      int64_t rm = n + 3, rbatch = m * rm;
      std::vector<float> residual(batches * rbatch);
      for (float &v : residual)
        v = values(rng);
      std::vector<float> expected(batches * m * n), c(expected.size(), -1.0f);
      for (int64_t bi = 0; bi < batches; ++bi)
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < n; ++j) {
            size_t f = perColumn ? j : perRow ? i : 0;
            float y = (float)unsignedBySigned(a, b, za, i, j, k, n) * scale[f];
            y = y + offset[f];
            float r = residual[bi * rbatch + i * rm + j];
            y = y + (relu ? std::fmax(r, 0.0f) : r);
            expected[(bi * m + i) * n + j] = y;
          }
      int32_t *cBase = reinterpret_cast<int32_t *>(c.data());
      int64_t sm = perRow ? 1 : 0, sn = perColumn ? 1 : 0;
      int64_t zam = za.size() > 1 ? 1 : 0;
      if (packedB) {
        int64_t width, format, block;
        kiln_ukernel_igemm_packing(GetParam().isa, 0, &width, &format, &block);
        std::vector<int8_t> packed =
            packB(b, k, n, false, width, format, block);
        GetParam().packedSum(
            1, batches, m, n, k, a.data(), a.data(), 0, 0, 0, 0, k, 1,
            packed.data(), packed.data(), 0, 0, width, format, block, cBase,
            cBase, 0, 0, 0, m * n, n, 1, za.data(), za.data(), 0, 0, zam,
            b.data(), b.data(), 0, 0, 0, 0, 0, 1, 0, 1, 0, scale.data(),
            scale.data(), 0, 0, sm, sn, offset.data(), offset.data(), 0, 0, sm,
            sn, residual.data(), residual.data(), 0, 0, 0, rbatch, rm, 1, relu);
      } else {
        GetParam().sum(1, batches, m, n, k, a.data(), a.data(), 0, 0, 0, 0, k,
                       1, 0, 0, 0, b.data(), b.data(), 0, 0, 0, 0, n, 1, cBase,
                       cBase, 0, 0, 0, m * n, n, 1, za.data(), za.data(), 0, 0,
                       zam, b.data(), b.data(), 0, 0, 0, 0, 0, 1, 0, 1, 0,
                       scale.data(), scale.data(), 0, 0, sm, sn, offset.data(),
                       offset.data(), 0, 0, sm, sn, residual.data(),
                       residual.data(), 0, 0, 0, rbatch, rm, 1, relu);
      }
      for (size_t e = 0; e < c.size(); ++e)
        ASSERT_EQ(c[e], expected[e])
            << GetParam().name << " m=" << m << " n=" << n << " k=" << k
            << " variant " << variant << " element " << e;
    }
}

TEST_P(IGemmTest, SummedOutputInPlace) {
  // The residual is C itself (bufferization writes the sum where a dead
  // residual lay): over several K blocks the earlier blocks' sums must not
  // land in C before the last block reads the residual.
  std::mt19937 rng(73);
  std::uniform_real_distribution<float> values(-3.0f, 3.0f);
  for (int64_t k : {130, 2100})
    for (bool packedB : {false, true}) {
      int64_t m = 37, n = 70;
      std::vector<int8_t> a = randomBytes(m * k, rng);
      std::vector<int8_t> b = randomBytes(k * n, rng);
      std::vector<int8_t> za = {5};
      std::vector<float> scale(n), offset(n), c(m * n);
      for (float &v : scale)
        v = 0.001f;
      for (float &v : offset)
        v = values(rng);
      for (float &v : c)
        v = values(rng);
      std::vector<float> expected(c.size());
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          float y = (float)unsignedBySigned(a, b, za, i, j, k, n) * scale[j];
          y = y + offset[j];
          expected[i * n + j] = y + std::fmax(c[i * n + j], 0.0f);
        }
      int32_t *cBase = reinterpret_cast<int32_t *>(c.data());
      if (packedB) {
        int64_t width, format, block;
        kiln_ukernel_igemm_packing(GetParam().isa, 0, &width, &format, &block);
        std::vector<int8_t> packed =
            packB(b, k, n, false, width, format, block);
        GetParam().packedSum(
            1, 1, m, n, k, a.data(), a.data(), 0, 0, 0, 0, k, 1, packed.data(),
            packed.data(), 0, 0, width, format, block, cBase, cBase, 0, 0, 0, 0,
            n, 1, za.data(), za.data(), 0, 0, 0, b.data(), b.data(), 0, 0, 0, 0,
            0, 1, 0, 1, 0, scale.data(), scale.data(), 0, 0, 0, 1,
            offset.data(), offset.data(), 0, 0, 0, 1, c.data(), c.data(), 0, 0,
            0, 0, n, 1, 1);
      } else {
        GetParam().sum(
            1, 1, m, n, k, a.data(), a.data(), 0, 0, 0, 0, k, 1, 0, 0, 0,
            b.data(), b.data(), 0, 0, 0, 0, n, 1, cBase, cBase, 0, 0, 0, 0, n,
            1, za.data(), za.data(), 0, 0, 0, b.data(), b.data(), 0, 0, 0, 0, 0,
            1, 0, 1, 0, scale.data(), scale.data(), 0, 0, 0, 1, offset.data(),
            offset.data(), 0, 0, 0, 1, c.data(), c.data(), 0, 0, 0, 0, n, 1, 1);
      }
      for (size_t e = 0; e < c.size(); ++e)
        ASSERT_EQ(c[e], expected[e])
            << GetParam().name << " k=" << k << " packed " << packedB
            << " element " << e;
    }
}

INSTANTIATE_TEST_SUITE_P(AllISAs, IGemmTest, ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<Variant> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
