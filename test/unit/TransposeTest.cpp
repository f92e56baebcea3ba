//===- TransposeTest.cpp - runtime/cpu/transpose.c against naive loops ----===//
//
// Swaps the last two dims of f32 tensors for every instruction set this
// machine has: sizes with and without full 16 x 16 blocks, batches, the
// contiguous case (register transposes) and strided views on either side.
//
//===----------------------------------------------------------------------===//

#include "../../runtime/cpu/kiln_ukernels.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

using TransposeFn = void (*)(KILN_TRANSPOSE_ARGS);

struct Variant {
  kiln_isa isa;
  const char *name;
  TransposeFn fn;
};

const Variant kVariants[] = {
    {KILN_ISA_AVX512, "avx512", kiln_ukernel_transpose_avx512},
    {KILN_ISA_AVX2, "avx2", kiln_ukernel_transpose_avx2},
    {KILN_ISA_GENERIC, "generic", kiln_ukernel_transpose_generic},
};

class TransposeTest : public ::testing::TestWithParam<Variant> {
protected:
  void SetUp() override {
    if (kiln_ukernel_resolve_isa(GetParam().isa) != GetParam().isa)
      GTEST_SKIP() << "this processor lacks " << GetParam().name;
  }
};

/// src [b0][b1][rows][cols] with rows padded to `srcLd`; dst [b0][b1][cols]
/// [rows] padded to `dstLd`, or with `stridedDst` a [cols][rows] view whose
/// rows are two apart (d_i = 2).
void check(const Variant &v, int64_t b0, int64_t b1, int64_t rows, int64_t cols,
           int64_t srcLd, int64_t dstLd, bool stridedDst) {
  int64_t srcMatrix = rows * srcLd, dstMatrix = cols * dstLd;
  std::vector<float> src(b0 * b1 * srcMatrix);
  for (size_t e = 0; e < src.size(); ++e)
    src[e] = static_cast<float>(e % 100003) * 0.5f;
  std::vector<float> dst(b0 * b1 * dstMatrix, -1.0f);
  int64_t di = stridedDst ? 2 : 1;
  v.fn(b0, b1, rows, cols, src.data(), src.data(), 0, 0, b1 * srcMatrix,
       srcMatrix, srcLd, 1, dst.data(), dst.data(), 0, 0, b1 * dstMatrix,
       dstMatrix, di, dstLd);
  int64_t wrong = 0;
  for (int64_t x = 0; x < b0; ++x)
    for (int64_t y = 0; y < b1; ++y)
      for (int64_t i = 0; i < rows; ++i)
        for (int64_t j = 0; j < cols; ++j) {
          float expected = src[(x * b1 + y) * srcMatrix + i * srcLd + j];
          float got = dst[(x * b1 + y) * dstMatrix + j * dstLd + i * di];
          wrong += got != expected;
        }
  EXPECT_EQ(wrong, 0) << v.name << " " << b0 << "x" << b1 << "x" << rows << "x"
                      << cols << " srcLd=" << srcLd << " dstLd=" << dstLd
                      << " strided=" << stridedDst;
}

TEST_P(TransposeTest, ShapesBatchesAndStrides) {
  // A decoder's key cache: [1][12][513][64] -> [1][12][64][513].
  check(GetParam(), 1, 12, 513, 64, 64, 513, false);
  for (int64_t rows : {1, 7, 16, 33, 128})
    for (int64_t cols : {1, 15, 16, 64, 70})
      check(GetParam(), 2, 3, rows, cols, cols + 3, rows + 1, false);
  check(GetParam(), 1, 1, 48, 32, 32, 96, true);
}

INSTANTIATE_TEST_SUITE_P(AllISAs, TransposeTest, ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<Variant> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
