//===- PoolTest.cpp - runtime/cpu/pool.c against naive loops --------------===//
//
// Runs the max pooling kernel of every instruction set this machine has on
// windows with tails (rows of 1 to 70 outputs), strides 1 to 3, dilations,
// strided (transposed) outputs and NaNs, and compares with plain loops.
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

using PoolFn = void (*)(KILN_SMAXPOOL2D_ARGS);

struct Variant {
  kiln_isa isa;
  const char *name;
  PoolFn fn;
};

const Variant kVariants[] = {
    {KILN_ISA_AVX512, "avx512", kiln_ukernel_smaxpool2d_avx512},
    {KILN_ISA_AVX2, "avx2", kiln_ukernel_smaxpool2d_avx2},
    {KILN_ISA_GENERIC, "generic", kiln_ukernel_smaxpool2d_generic},
};

struct Case {
  int64_t n, c, outH, outW, kh, kw, sh, sw, dh, dw;
  bool transposedOut = false, nans = false;
  /// Padding the kernel adds itself (-inf): the input it gets is the
  /// windows' extent less these rows and columns.
  int64_t top = 0, left = 0, bottom = 0, right = 0;
};

void check(const Variant &variant, const Case &t, std::mt19937 &rng) {
  int64_t h = (t.outH - 1) * t.sh + (t.kh - 1) * t.dh + 1 - t.top - t.bottom;
  int64_t w = (t.outW - 1) * t.sw + (t.kw - 1) * t.dw + 1 - t.left - t.right;
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  std::vector<float> in(t.n * t.c * h * w);
  for (float &v : in)
    v = dist(rng);
  if (t.nans)
    for (size_t i = 7; i < in.size(); i += 97)
      in[i] = std::numeric_limits<float>::quiet_NaN();
  // The output starts as -inf, or some values (the max takes them too).
  std::vector<float> out(t.n * t.c * t.outH * t.outW);
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = i % 3 ? -std::numeric_limits<float>::infinity() : dist(rng);
  std::vector<float> expected = out;
  // [n][c][oh][ow], or with oh and ow swapped in memory.
  int64_t outOh = t.transposedOut ? 1 : t.outW;
  int64_t outOw = t.transposedOut ? t.outH : 1;
  int64_t outC = t.outH * t.outW, outN = t.c * outC;
  for (int64_t n = 0; n < t.n; ++n)
    for (int64_t c = 0; c < t.c; ++c)
      for (int64_t oh = 0; oh < t.outH; ++oh)
        for (int64_t ow = 0; ow < t.outW; ++ow) {
          float &e = expected[n * outN + c * outC + oh * outOh + ow * outOw];
          for (int64_t i = 0; i < t.kh; ++i)
            for (int64_t j = 0; j < t.kw; ++j) {
              int64_t y = oh * t.sh + i * t.dh - t.top,
                      x0 = ow * t.sw + j * t.dw - t.left;
              if (y < 0 || x0 < 0 || y >= h || x0 >= w)
                continue;
              float x = in[((n * t.c + c) * h + y) * w + x0];
              e = std::isnan(e) || std::isnan(x) ? NAN : std::max(e, x);
            }
        }
  variant.fn(t.n, t.c, t.outH, t.outW, t.kh, t.kw, t.sh, t.sw, t.dh, t.dw,
             in.data(), in.data(), 0, 0, t.c * h * w, h * w, w, 1, out.data(),
             out.data(), 0, 0, outN, outC, outOh, outOw, h, w, t.top, t.left);
  for (size_t i = 0; i < out.size(); ++i) {
    if (std::isnan(expected[i])) {
      EXPECT_TRUE(std::isnan(out[i])) << variant.name << " element " << i;
      continue;
    }
    ASSERT_EQ(out[i], expected[i])
        << variant.name << " element " << i << " of " << t.outH << "x" << t.outW
        << " k" << t.kh << "x" << t.kw << " s" << t.sh << "x" << t.sw << " d"
        << t.dh << "x" << t.dw << " pads " << t.top << "," << t.left << ","
        << t.bottom << "," << t.right;
  }
}

class PoolTest : public ::testing::TestWithParam<Variant> {
protected:
  void SetUp() override {
    if (kiln_ukernel_resolve_isa(GetParam().isa) != GetParam().isa)
      GTEST_SKIP() << "this processor lacks " << GetParam().name;
  }
};

TEST_P(PoolTest, WindowsWithTails) {
  std::mt19937 rng(3);
  for (int64_t outW : {1, 3, 17, 56, 70})
    for (int64_t s : {1, 2, 3})
      check(GetParam(), {1, 3, 5, outW, 3, 3, s, s, 1, 1}, rng);
  // ResNet's stem pooling; a 2x2 window; a dilated 3x2 one.
  check(GetParam(), {1, 64, 56, 56, 3, 3, 2, 2, 1, 1}, rng);
  check(GetParam(), {2, 5, 7, 9, 2, 2, 2, 2, 1, 1}, rng);
  check(GetParam(), {1, 4, 6, 33, 3, 2, 1, 2, 2, 3}, rng);
  // One window row (the AVX-512 row without its buffer of row maxima), and
  // a window too wide for that buffer.
  check(GetParam(), {1, 3, 4, 20, 1, 3, 1, 2, 1, 1}, rng);
  check(GetParam(), {1, 2, 3, 5, 2, 3, 1, 1, 1, 200}, rng);
}

TEST_P(PoolTest, ImplicitPadding) {
  std::mt19937 rng(5);
  // ResNet's stem pooling (3x3, stride 2, one row and column of -inf on
  // each side), rows of every tail and over 64 outputs, asymmetric and
  // dilated windows, a window larger than its padding on one side, a
  // one-row window, and NaNs and a transposed output with padding.
  for (int64_t outW : {1, 5, 17, 56, 70})
    for (int64_t s : {1, 2}) {
      Case c{1, 3, 4, outW, 3, 3, s, s, 1, 1};
      c.top = c.left = c.bottom = c.right = 1;
      check(GetParam(), c, rng);
    }
  Case stem{1, 8, 28, 28, 3, 3, 2, 2, 1, 1};
  stem.top = stem.left = 1;
  stem.bottom = stem.right = 0;
  check(GetParam(), stem, rng);
  Case uneven{2, 3, 7, 9, 3, 2, 1, 2, 2, 3};
  uneven.top = 2, uneven.left = 3, uneven.bottom = 1, uneven.right = 2;
  check(GetParam(), uneven, rng);
  Case wide{1, 2, 5, 12, 5, 5, 1, 1, 1, 1};
  wide.top = wide.left = wide.bottom = wide.right = 2;
  check(GetParam(), wide, rng);
  Case row{1, 3, 3, 20, 1, 3, 1, 2, 1, 1};
  row.left = 1, row.right = 1;
  check(GetParam(), row, rng);
  Case nans{2, 3, 11, 40, 3, 3, 1, 2, 1, 1, false, true};
  nans.top = nans.left = nans.bottom = nans.right = 1;
  check(GetParam(), nans, rng);
  Case transposed{1, 3, 9, 21, 3, 3, 2, 2, 1, 1, true};
  transposed.top = transposed.left = 1;
  check(GetParam(), transposed, rng);
}

TEST_P(PoolTest, TransposedOutputAndNaN) {
  std::mt19937 rng(5);
  Case transposed{1, 3, 9, 21, 3, 3, 2, 2, 1, 1};
  transposed.transposedOut = true;
  check(GetParam(), transposed, rng);
  Case nans{2, 3, 11, 40, 3, 3, 1, 2, 1, 1};
  nans.nans = true;
  check(GetParam(), nans, rng);
}

INSTANTIATE_TEST_SUITE_P(AllISAs, PoolTest, ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<Variant> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
