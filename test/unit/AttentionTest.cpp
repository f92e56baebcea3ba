//===- AttentionTest.cpp - runtime/cpu/attention.c against a reference ----===//
//
// Fused attention for each body this machine has (AVX-512, plain C) against
// a double-precision softmax(mask(scale q k^T)) v: query and key counts
// around the kernel's 32-query groups and 128-key tiles, head dims that
// are no multiple of its 8-wide tiles, grouped-query heads, strided
// (transposed) views, and each mask kind: f32 per key, f32 causal with
// -inf (tiles skipped), bool with a fill, rows hidden completely.
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

using AttentionFn = void (*)(KILN_SATTENTION_ARGS);

struct Variant {
  kiln_isa isa;
  const char *name;
  AttentionFn fn, boolFn;
};

const Variant kVariants[] = {
    {KILN_ISA_AVX512, "avx512", kiln_ukernel_sattention_avx512,
     kiln_ukernel_sattention_bool_avx512},
    {KILN_ISA_AVX2, "avx2", kiln_ukernel_sattention_avx2,
     kiln_ukernel_sattention_bool_avx2},
    {KILN_ISA_GENERIC, "generic", kiln_ukernel_sattention_generic,
     kiln_ukernel_sattention_bool_generic},
};

class AttentionTest : public ::testing::TestWithParam<Variant> {
protected:
  void SetUp() override {
    if (kiln_ukernel_resolve_isa(GetParam().isa) != GetParam().isa)
      GTEST_SKIP() << "this processor lacks " << GetParam().name;
  }
};

enum class Mask { None, PerKey, Causal, Bool, BoolAllRows };

struct Shape {
  int64_t batch, heads, kvHeads, lq, lk, d, dv;
};

/// Runs one attention and compares every output with the reference.
/// `transposed`: q, k and v are [b][s][h][d] buffers viewed as [b][h][s][d]
/// (what a model's reshape into heads leaves), else contiguous [b][h][s][d].
void check(const Variant &v, const Shape &s, Mask maskKind, bool transposed) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> dist(-2.0f, 2.0f);
  auto fill = [&](std::vector<float> &x) {
    for (float &e : x)
      e = dist(rng);
  };
  std::vector<float> q(s.batch * s.heads * s.lq * s.d),
      k(s.batch * s.kvHeads * s.lk * s.d),
      val(s.batch * s.kvHeads * s.lk * s.dv),
      out(s.batch * s.heads * s.lq * s.dv, -7.0f);
  fill(q);
  fill(k);
  fill(val);
  // Strides per (b, h, s, e) of a [b][h][s][e] or [b][s][h][e] buffer.
  struct Strides {
    int64_t b, h, s, e;
  };
  auto strides = [&](int64_t heads, int64_t len, int64_t e) {
    return transposed ? Strides{len * heads * e, e, heads * e, 1}
                      : Strides{heads * len * e, len * e, e, 1};
  };
  Strides sq = strides(s.heads, s.lq, s.d), sk = strides(s.kvHeads, s.lk, s.d),
          sv = strides(s.kvHeads, s.lk, s.dv),
          so = {s.heads * s.lq * s.dv, s.lq * s.dv, s.dv, 1};
  // The mask: [lk] per key, or [lq][lk].
  std::vector<float> maskF;
  std::vector<char> maskB;
  int64_t mq = 0, mk = 1, kind = 0;
  const float fillValue = -10000.0f;
  if (maskKind == Mask::PerKey) {
    kind = 1;
    for (int64_t j = 0; j < s.lk; ++j)
      maskF.push_back(j % 5 == 2 ? -10000.0f : 0.25f * (j % 3));
  } else if (maskKind == Mask::Causal) {
    kind = 1;
    mq = s.lk;
    for (int64_t i = 0; i < s.lq; ++i)
      for (int64_t j = 0; j < s.lk; ++j)
        maskF.push_back(j > i + (s.lk - s.lq) ? -INFINITY : 0.0f);
  } else if (maskKind == Mask::Bool || maskKind == Mask::BoolAllRows) {
    kind = 2;
    mq = s.lk;
    for (int64_t i = 0; i < s.lq; ++i)
      for (int64_t j = 0; j < s.lk; ++j)
        maskB.push_back(maskKind == Mask::BoolAllRows && (i < 40 || i % 3 == 0)
                            ? 1
                            : j > i + (s.lk - s.lq));
  }
  float scale = 1.0f / std::sqrt(static_cast<float>(s.d));
  char *mask = kind == 1   ? reinterpret_cast<char *>(maskF.data())
               : kind == 2 ? maskB.data()
                           : reinterpret_cast<char *>(q.data());
  AttentionFn fn = kind == 2 ? v.boolFn : v.fn;
  fn(s.batch, s.heads, s.lq, s.lk, s.d, s.dv, s.heads / s.kvHeads, q.data(),
     q.data(), 0, 0, sq.b, sq.h, sq.s, sq.e, k.data(), k.data(), 0, 0, sk.b,
     sk.h, sk.s, sk.e, val.data(), val.data(), 0, 0, sv.b, sv.h, sv.s, sv.e,
     out.data(), out.data(), 0, 0, so.b, so.h, so.s, so.e, scale, kind, mask,
     mask, 0, 0, 0, 0, mq, mk, fillValue);
  int64_t wrong = 0;
  double worst = 0;
  std::vector<double> p(s.lk);
  for (int64_t b = 0; b < s.batch; ++b)
    for (int64_t h = 0; h < s.heads; ++h) {
      int64_t kh = h / (s.heads / s.kvHeads);
      for (int64_t i = 0; i < s.lq; ++i) {
        double m = -INFINITY;
        for (int64_t j = 0; j < s.lk; ++j) {
          double dot = 0;
          for (int64_t e = 0; e < s.d; ++e)
            dot += static_cast<double>(
                       q[b * sq.b + h * sq.h + i * sq.s + e * sq.e]) *
                   k[b * sk.b + kh * sk.h + j * sk.s + e * sk.e];
          dot *= scale;
          if (kind == 1)
            dot += maskF[i * mq + j * mk];
          if (kind == 2 && maskB[i * mq + j * mk])
            dot = fillValue;
          p[j] = dot;
          m = std::max(m, dot);
        }
        double l = 0;
        for (int64_t j = 0; j < s.lk; ++j) {
          p[j] = std::exp(p[j] - m);
          l += p[j];
        }
        for (int64_t e = 0; e < s.dv; ++e) {
          double expected = 0;
          for (int64_t j = 0; j < s.lk; ++j)
            expected += p[j] * val[b * sv.b + kh * sv.h + j * sv.s + e * sv.e];
          expected /= l;
          double got = out[b * so.b + h * so.h + i * so.s + e * so.e];
          double error = std::fabs(got - expected);
          worst = std::max(worst, error);
          wrong += !(error <= 2e-5 * (1 + std::fabs(expected)));
        }
      }
    }
  EXPECT_EQ(wrong, 0) << v.name << " " << s.batch << "x" << s.heads << "/"
                      << s.kvHeads << " lq=" << s.lq << " lk=" << s.lk
                      << " d=" << s.d << " dv=" << s.dv
                      << " mask=" << static_cast<int>(maskKind)
                      << " transposed=" << transposed << " worst " << worst;
}

TEST_P(AttentionTest, ShapesWithTails) {
  for (int64_t lq : {1, 17, 32, 33, 100})
    for (int64_t lk : {1, 3, 127, 129, 300})
      check(GetParam(), {1, 2, 2, lq, lk, 17, 13}, Mask::None, false);
  check(GetParam(), {2, 3, 3, 65, 130, 64, 64}, Mask::None, true);
  check(GetParam(), {1, 1, 1, 40, 40, 80, 40}, Mask::None, false);
}

TEST_P(AttentionTest, GroupedQueryHeads) {
  check(GetParam(), {1, 8, 2, 48, 70, 32, 32}, Mask::None, false);
  check(GetParam(), {2, 6, 3, 33, 129, 16, 24}, Mask::Causal, true);
}

TEST_P(AttentionTest, Masks) {
  for (Mask mask : {Mask::PerKey, Mask::Causal, Mask::Bool})
    for (int64_t len : {20, 160, 300})
      check(GetParam(), {1, 3, 3, len, len, 64, 64}, mask, false);
  // Fewer queries than keys (a causal mask's diagonal starts late).
  check(GetParam(), {1, 2, 2, 40, 290, 64, 64}, Mask::Causal, false);
  check(GetParam(), {1, 2, 2, 40, 290, 64, 64}, Mask::Bool, false);
}

/// Rows the bool mask hides completely get the fill everywhere: their
/// softmax is uniform over all the keys. Where it hides a whole query group
/// (rows 0-39), no key tile may be skipped: the fill is each row's max.
TEST_P(AttentionTest, BoolMaskHidingWholeRows) {
  check(GetParam(), {1, 2, 2, 70, 300, 16, 16}, Mask::BoolAllRows, false);
}

INSTANTIATE_TEST_SUITE_P(AllISAs, AttentionTest, ::testing::ValuesIn(kVariants),
                         [](const ::testing::TestParamInfo<Variant> &info) {
                           return std::string(info.param.name);
                         });

} // namespace
