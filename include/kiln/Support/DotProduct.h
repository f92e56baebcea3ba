//===- DotProduct.h - a dot product of doubles ------------------*- C++ -*-===//
//
// The inner loop of the compiler's own numerics on weights (GPTQ's Cholesky
// factor in kiln-quantize-weights, the activations' second moments that
// calibration accumulates). Header-only.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_SUPPORT_DOTPRODUCT_H
#define KILN_SUPPORT_DOTPRODUCT_H

#include <cstdint>

namespace kiln {

/// a . b over `count` doubles, in four partial sums (independent chains
/// the compiler vectorizes).
inline double dotProduct(const double *a, const double *b, int64_t count) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int64_t i = 0;
  for (; i + 4 <= count; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < count; ++i)
    s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

} // namespace kiln

#endif // KILN_SUPPORT_DOTPRODUCT_H
