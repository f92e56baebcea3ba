//===- SignalOps.cpp - import of DFT and the window functions -------------===//
//
// Compositions of kiln ops: the window functions are sums of cosines over an
// iota; DFT is two matmuls of the real and imaginary parts with constant
// cosine and sine matrices (for a static transform length).
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

/// The window functions: sums of cosines of 2 pi k n / N over n = 0 ..
/// size - 1, with N = size (periodic) or size - 1 (symmetric).
static LogicalResult importWindow(NodeImporter &n,
                                  ArrayRef<double> coefficients) {
  if (failed(n.requireOperands(1)))
    return failure();
  Type element =
      convertElementType(n.getContext(), n.intAttr("output_datatype", 1));
  if (!element)
    return n.emitError() << "unsupported output_datatype "
                         << n.intAttr("output_datatype", 1);
  Decomposer b(n);
  Type f32 = n.getBuilder().getF32Type();
  Value size = b.convert(n.operand(0), f32);
  if (size && b.rank(size) == 1)
    size = b.reshape(size, b.ints({}));
  Value positions = b.convert(b.iota(n.operand(0)), f32);
  Value period = n.intAttr("periodic", 1) != 0
                     ? size
                     : b.op<SubOp>({size, b.scalar(f32, 1)});
  Value angle =
      b.op<DivOp>({b.op<MulOp>({positions, b.scalar(f32, 2 * M_PI)}), period});
  Value y = b.op<AddOp>(
      {b.op<MulOp>({b.op<CosOp>(angle), b.scalar(f32, coefficients[1])}),
       b.scalar(f32, coefficients[0])});
  for (size_t k = 2; k < coefficients.size(); ++k) {
    Value harmonic = b.op<CosOp>(b.op<MulOp>({angle, b.scalar(f32, k)}));
    y = b.op<AddOp>(
        {y, b.op<MulOp>({harmonic, b.scalar(f32, coefficients[k])})});
  }
  y = b.convert(y, element);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// DFT along `axis` of [..., n, ..., 1 or 2] (real or complex in the last
/// dim): out[k] = sum_j x[j] * exp(-+2 pi i j k / L) (divided by L for the
/// inverse), with L = dft_length (zero-padded or truncated) and K = L / 2 +
/// 1 outputs when onesided.
static LogicalResult importDFT(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  RankedTensorType type = n.operandType(0);
  int64_t rank = type.getRank();
  int64_t components = type.getDimSize(rank - 1);
  if (rank < 2 || (components != 1 && components != 2))
    return n.emitError() << "expects [..., signal, 1 or 2] (real or complex), "
                            "got "
                         << type;
  FailureOr<int64_t> axis = normalizeAxis(n.intAttr("axis", 1), rank);
  if (failed(axis) || *axis == rank - 1)
    return n.emitError() << "axis " << n.intAttr("axis", 1)
                         << " is out of range for " << type;
  int64_t length = type.getDimSize(*axis);
  if (n.hasOperand(1)) {
    std::optional<SmallVector<int64_t>> given = getConstantInts(n.operand(1));
    if (!given || given->size() != 1)
      return n.emitError() << "dft_length must be a constant";
    length = given->front();
  }
  if (ShapedType::isDynamic(length) || length < 1)
    return n.emitError() << "needs a static transform length; fix the signal "
                            "dim with --input-shape or give dft_length";
  bool inverse = n.intAttr("inverse", 0) != 0;
  bool onesided = n.intAttr("onesided", 0) != 0;
  int64_t outputs = onesided ? length / 2 + 1 : length;
  Decomposer b(n);
  Type element = type.getElementType();
  Value x = n.operand(0);
  // Real and imaginary parts without the last dim, the signal dim moved
  // last.
  SmallVector<int64_t> perm;
  for (int64_t d = 0; d < rank - 1; ++d)
    if (d != *axis)
      perm.push_back(d);
  perm.push_back(*axis);
  auto part = [&](int64_t c) {
    Value v = b.op<SliceOp>(
        {x, b.ints({c}), b.ints({c + 1}), b.ints({rank - 1}), b.ints({1})});
    return b.transpose(b.squeeze(v, {rank - 1}), perm);
  };
  Value re = part(0), im = components == 2 ? part(1) : Value();
  int64_t signal = type.getDimSize(*axis);
  auto fit = [&](Value v) -> Value {
    if (!v || signal == length)
      return v;
    if (ShapedType::isDynamic(signal) || signal > length)
      return b.op<SliceOp>(
          {v, b.ints({0}), b.ints({length}), b.ints({rank - 2}), b.ints({1})});
    SmallVector<int64_t> pads(2 * (rank - 1), 0);
    pads[2 * (rank - 1) - 1] = length - signal;
    return b.op<PadOp>({v, b.ints(pads)}, {n.namedStr("mode", "constant")});
  };
  re = fit(re);
  im = fit(im);
  // C[j, k] = cos(2 pi j k / L), S[j, k] = sin(2 pi j k / L).
  SmallVector<float> cosines, sines;
  for (int64_t j = 0; j < length; ++j)
    for (int64_t k = 0; k < outputs; ++k) {
      double angle = 2 * M_PI * static_cast<double>((j * k) % length) /
                     static_cast<double>(length);
      cosines.push_back(static_cast<float>(std::cos(angle)));
      sines.push_back(static_cast<float>(std::sin(angle)));
    }
  auto matrix = [&](ArrayRef<float> values) {
    auto t =
        RankedTensorType::get({length, outputs}, n.getBuilder().getF32Type());
    return b.convert(
        b.op<ConstantOp>({},
                         {n.named("value", DenseElementsAttr::get(t, values))}),
        element);
  };
  Value cosMatrix = matrix(cosines), sinMatrix = matrix(sines);
  auto matmul = [&](Value a, Value m) {
    return b.op<MatMulOp>({a, m}, {n.segments({1, 1, 0, 0})});
  };
  // exp(s i theta) = cos + s i sin, s = -1 forward, +1 inverse.
  double sign = inverse ? 1.0 : -1.0;
  Value outRe = matmul(re, cosMatrix);
  Value outIm = b.op<MulOp>({matmul(re, sinMatrix), b.scalar(element, sign)});
  if (im) {
    outRe = b.op<SubOp>(
        {outRe, b.op<MulOp>({matmul(im, sinMatrix), b.scalar(element, sign)})});
    outIm = b.op<AddOp>({outIm, matmul(im, cosMatrix)});
  }
  if (inverse) {
    Value scale = b.scalar(element, 1.0 / static_cast<double>(length));
    outRe = b.op<MulOp>({outRe, scale});
    outIm = b.op<MulOp>({outIm, scale});
  }
  Value y =
      b.concat({b.unsqueeze(outRe, {rank - 1}), b.unsqueeze(outIm, {rank - 1})},
               rank - 1);
  // Back to the input's dim order (the complex dim stays last).
  SmallVector<int64_t> back(rank);
  for (int64_t d = 0; d < rank - 1; ++d)
    back[perm[d]] = d;
  back[rank - 1] = rank - 1;
  y = b.transpose(y, back);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

void onnx_import::registerSignalOps(OpRegistry &r) {
  r.add("DFT", 17, importDFT);
  // Coefficients of cos(k * angle), k = 0, 1, 2.
  r.add("HannWindow", 17,
        [](NodeImporter &n) { return importWindow(n, {0.5, -0.5}); });
  r.add("HammingWindow", 17, [](NodeImporter &n) {
    return importWindow(n, {25.0 / 46.0, -21.0 / 46.0});
  });
  r.add("BlackmanWindow", 17,
        [](NodeImporter &n) { return importWindow(n, {0.42, -0.5, 0.08}); });
}
