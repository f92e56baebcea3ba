//===- QuantizationOps.cpp - import of the ONNX quantization operators ----===//
//
// QuantizeLinear, DequantizeLinear and MatMulInteger import as kiln ops of
// their own, which the quantization passes see (kiln-quantize-contractions
// turns dequantized products into integer ones; kiln-decompose-quantization
// expresses what is left with arithmetic). The other integer products
// (ConvInteger, the QLinear ops, and MatMulInteger with N-D zero points)
// subtract the zero points in i32 and accumulate exactly in i32, as the ONNX
// reference does, so results are bit-exact; the QLinear ops then rescale
// the i32 accumulator in f32 and requantize. ONNX Runtime's QOperator ops
// of the com.microsoft domain (QLinearAdd, QLinearMul, QLinearSigmoid,
// QLinearLeakyRelu, QLinearGlobalAveragePool, QLinearConcat) are their
// float op between DequantizeLinear and QuantizeLinear.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

namespace {
struct QuantBuilder : Decomposer {
  using Decomposer::Decomposer;

  /// `param` (a scale or zero point: a scalar, or 1-D along `axis` of a
  /// rank-`rank` tensor) shaped to broadcast against that tensor.
  Value alongAxis(Value param, int64_t axis, int64_t rank) {
    if (!param || this->rank(param) != 1 || rank == 0)
      return param;
    SmallVector<int64_t> trailing;
    for (int64_t d = 1; d < rank - axis; ++d)
      trailing.push_back(d);
    return trailing.empty() ? param : unsqueeze(param, trailing);
  }

  /// Clamps float `v` to the range of integer type `target` and casts.
  Value saturate(Value v, Type target) {
    Type f32 = elementType(v);
    auto [lo, hi] = range(target);
    v = op<MaxOp>({v, scalar(f32, lo)});
    v = op<MinOp>({v, scalar(f32, hi)});
    return convert(v, target);
  }

  static std::pair<double, double> range(Type integer) {
    auto type = cast<IntegerType>(integer);
    unsigned width = type.getWidth();
    if (type.isUnsigned())
      return {0.0, std::ldexp(1.0, width) - 1};
    return {-std::ldexp(1.0, width - 1), std::ldexp(1.0, width - 1) - 1};
  }

  /// (x - zeroPoint) in i32; `zeroPoint` may be null.
  Value centered(Value x, Value zeroPoint) {
    Type i32 = n.getBuilder().getI32Type();
    Value wide = convert(x, i32);
    return zeroPoint ? op<SubOp>({wide, convert(zeroPoint, i32)}) : wide;
  }

  /// The zero point of a matmul's lhs: per row when 1-D, so it broadcasts
  /// along the rows of [..., M, K].
  Value rowZeroPoint(Value zeroPoint) {
    if (!zeroPoint || rank(zeroPoint) != 1)
      return zeroPoint;
    return unsqueeze(zeroPoint, {1});
  }

  /// The zero point of a conv weight [M, C/g, k...]: per output channel when
  /// 1-D.
  Value channelZeroPoint(Value zeroPoint, int64_t weightRank) {
    return alongAxis(zeroPoint, 0, weightRank);
  }

  /// Requantizes an i32 accumulator: round(acc * scale) + zeroPoint,
  /// saturated to `target` (`scale` is the f32 product of the input scales
  /// over the output scale).
  Value requantize(Value acc, Value scale, Value zeroPoint, Type target) {
    Type f32 = elementType(scale);
    Value q = op<RoundOp>(op<MulOp>({convert(acc, f32), scale}));
    if (zeroPoint)
      q = op<AddOp>({q, convert(zeroPoint, f32)});
    return saturate(q, target);
  }
};
} // namespace

/// The normalized `axis` attribute of a per-axis (de)quantization (0 when
/// the scale is a scalar, which makes the axis irrelevant).
static FailureOr<int64_t> quantAxis(NodeImporter &n) {
  if (n.operandType(1).getRank() == 0)
    return 0;
  int64_t rank = n.operandType(0).getRank();
  int64_t axis = n.intAttr("axis", 1);
  FailureOr<int64_t> normalized =
      normalizeAxis(axis, std::max<int64_t>(rank, 1));
  if (failed(normalized))
    return n.emitError() << "axis " << axis << " is out of range for "
                         << n.operandType(0);
  return normalized;
}

/// Checks that a scale or zero point is a scalar or, per axis, 1-D.
static LogicalResult checkQuantParam(NodeImporter &n, size_t i,
                                     StringRef what) {
  if (!n.hasOperand(i))
    return success();
  RankedTensorType type = n.operandType(i);
  if (type.getRank() > 1 || (type.getRank() == 1 && n.getOpset() < 13))
    return n.emitError() << what << " must be a scalar"
                         << (n.getOpset() < 13 ? "" : " or 1-D (per axis)")
                         << ", got " << type;
  return success();
}

static LogicalResult importQuantizeLinear(NodeImporter &n) {
  if (failed(n.requireOperands(2)) ||
      failed(checkQuantParam(n, 1, "y_scale")) ||
      failed(checkQuantParam(n, 2, "y_zero_point")))
    return failure();
  FailureOr<int64_t> axis = quantAxis(n);
  if (failed(axis))
    return failure();
  if (n.intAttr("block_size", 0) != 0)
    return n.emitError() << "blocked quantization (block_size) is not "
                            "supported";
  Type target = n.hasOperand(2) ? n.operandType(2).getElementType()
                                : n.getBuilder().getIntegerType(8, false);
  if (!isa<IntegerType>(target) || cast<IntegerType>(target).getWidth() > 16)
    return n.emitError() << "quantizes to 8- or 16-bit integers, not "
                         << target;
  if (!isa<FloatType>(n.operandType(1).getElementType()))
    return n.emitError() << "y_scale must be a float tensor";
  SmallVector<Value> operands = {n.operand(0), n.operand(1)};
  if (n.hasOperand(2))
    operands.push_back(n.operand(2));
  FailureOr<Value> y = n.create<QuantizeLinearOp>(
      operands,
      {n.namedI64("axis", *axis), n.named("to", TypeAttr::get(target))});
  if (failed(y))
    return failure();
  return n.setResults(*y);
}

static LogicalResult importDequantizeLinear(NodeImporter &n) {
  if (failed(n.requireOperands(2)) ||
      failed(checkQuantParam(n, 1, "x_scale")) ||
      failed(checkQuantParam(n, 2, "x_zero_point")))
    return failure();
  FailureOr<int64_t> axis = quantAxis(n);
  if (failed(axis))
    return failure();
  if (!isa<IntegerType>(n.operandType(0).getElementType()))
    return n.emitError() << "dequantizes integer tensors, not "
                         << n.operandType(0);
  if (!isa<FloatType>(n.operandType(1).getElementType()))
    return n.emitError() << "x_scale must be a float tensor";
  SmallVector<Value> operands = {n.operand(0), n.operand(1)};
  if (n.hasOperand(2))
    operands.push_back(n.operand(2));
  FailureOr<Value> y =
      n.create<DequantizeLinearOp>(operands, {n.namedI64("axis", *axis)});
  if (failed(y))
    return failure();
  return n.setResults(*y);
}

/// DynamicQuantizeLinear: uint8 with a scale and zero point that map the
/// range of x (widened to include 0) onto [0, 255].
static LogicalResult importDynamicQuantizeLinear(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  QuantBuilder b(n);
  Value x = n.operand(0);
  Type f32 = b.elementType(x);
  Type u8 = n.getBuilder().getIntegerType(8, false);
  Value zero = b.scalar(f32, 0);
  Value lo = b.op<MinOp>({b.reduce<ReduceMinOp>(x, {}, false), zero});
  Value hi = b.op<MaxOp>({b.reduce<ReduceMaxOp>(x, {}, false), zero});
  Value scale = b.op<DivOp>({b.op<SubOp>({hi, lo}), b.scalar(f32, 255)});
  Value zeroPoint =
      b.saturate(b.op<RoundOp>(b.op<DivOp>({b.op<NegOp>(lo), scale})), u8);
  Value y = b.op<QuantizeLinearOp>(
      {x, scale, zeroPoint},
      {n.namedI64("axis", 0), n.named("to", TypeAttr::get(u8))});
  if (b.failed())
    return failure();
  return n.setResults({y, scale, zeroPoint});
}

/// Whether MatMulInteger's zero point `i` (2 for A, 3 for B) fits
/// kiln.matmul_integer: absent, a scalar, or 1-D.
static bool isVectorZeroPoint(NodeImporter &n, size_t i) {
  return !n.hasOperand(i) || n.operandType(i).getRank() <= 1;
}

/// The exact i32 product of 8-bit operands `a` and `b` of node `n` with
/// zero points `za` and `zb` (operand numbers; absent operands are skipped):
/// kiln.matmul_integer where the zero points are scalars or vectors, else
/// (N-D zero points, [..., M, 1] and [..., 1, N], which broadcast against
/// the operands) an i32 matmul of the centered operands.
static Value integerProduct(NodeImporter &n, QuantBuilder &b, size_t a,
                            size_t bIndex, size_t za, size_t zb) {
  if (isVectorZeroPoint(n, za) && isVectorZeroPoint(n, zb)) {
    SmallVector<Value> operands = {n.operand(a), n.operand(bIndex)};
    for (size_t i : {za, zb})
      if (n.hasOperand(i))
        operands.push_back(n.operand(i));
    return b.op<MatMulIntegerOp>(operands,
                                 {n.segments({1, 1, n.hasOperand(za) ? 1 : 0,
                                              n.hasOperand(zb) ? 1 : 0})});
  }
  Value lhs = b.centered(n.operand(a), b.rowZeroPoint(n.operand(za)));
  Value rhs = b.centered(n.operand(bIndex), n.operand(zb));
  return b.op<MatMulOp>({lhs, rhs}, {n.segments({1, 1, 0, 0})});
}

static LogicalResult importMatMulInteger(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  for (size_t i : {0, 1})
    if (n.operandType(i).getElementType().getIntOrFloatBitWidth() != 8)
      return n.emitError() << "multiplies 8-bit integers, not "
                           << n.operandType(i);
  QuantBuilder b(n);
  Value y = integerProduct(n, b, 0, 1, 2, 3);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

static LogicalResult importConvInteger(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  QuantBuilder b(n);
  Value input = b.centered(n.operand(0), n.operand(2));
  Value weight =
      b.centered(n.operand(1),
                 b.channelZeroPoint(n.operand(3), n.operandType(1).getRank()));
  if (b.failed())
    return failure();
  return n.setResult(buildConv(n, input, weight, Value()));
}

/// QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp).
static LogicalResult importQLinearMatMul(NodeImporter &n) {
  if (failed(n.requireOperands(8)))
    return failure();
  for (size_t i : {0, 3})
    if (n.operandType(i).getElementType().getIntOrFloatBitWidth() != 8)
      return n.emitError() << "multiplies 8-bit integers, not "
                           << n.operandType(i);
  QuantBuilder b(n);
  Value acc = integerProduct(n, b, 0, 3, 2, 5);
  Value scale =
      b.op<DivOp>({b.op<MulOp>({b.rowZeroPoint(n.operand(1)), n.operand(4)}),
                   n.operand(6)});
  Value y =
      b.requantize(acc, scale, n.operand(7), n.operandType(7).getElementType());
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// QLinearConv(x, x_scale, x_zp, w, w_scale, w_zp, y_scale, y_zp, B?): the
/// i32 bias is added to the accumulator before rescaling.
static LogicalResult importQLinearConv(NodeImporter &n) {
  if (failed(n.requireOperands(8)))
    return failure();
  QuantBuilder b(n);
  int64_t weightRank = n.operandType(3).getRank();
  Value input = b.centered(n.operand(0), n.operand(2));
  Value weight =
      b.centered(n.operand(3), b.channelZeroPoint(n.operand(5), weightRank));
  Value bias = n.hasOperand(8)
                   ? b.convert(n.operand(8), n.getBuilder().getI32Type())
                   : Value();
  if (b.failed())
    return failure();
  Value acc = b.check(buildConv(n, input, weight, bias));
  // The weight scale is per output channel: [M] against [N, M, spatial...].
  Value weightScale = n.operand(4);
  if (b.rank(weightScale) == 1)
    weightScale = b.alongAxis(weightScale, 1, weightRank);
  Value scale =
      b.op<DivOp>({b.op<MulOp>({n.operand(1), weightScale}), n.operand(6)});
  Value y =
      b.requantize(acc, scale, n.operand(7), n.operandType(7).getElementType());
  if (b.failed())
    return failure();
  return n.setResults(y);
}

//===----------------------------------------------------------------------===//
// ONNX Runtime's QOperator ops (domain com.microsoft)
//===----------------------------------------------------------------------===//

/// DequantizeLinear of operand `x` with the per-tensor scale and zero point
/// at operands `scale` and `zeroPoint` (which may be absent).
static Value dequantizeOperand(NodeImporter &n, QuantBuilder &b, size_t x,
                               size_t scale, size_t zeroPoint) {
  SmallVector<Value> operands = {n.operand(x), n.operand(scale)};
  if (n.hasOperand(zeroPoint))
    operands.push_back(n.operand(zeroPoint));
  return b.op<DequantizeLinearOp>(operands, {n.namedI64("axis", 0)});
}

/// QuantizeLinear of float `y` with operands `scale` and `zeroPoint`: to
/// the zero point's type, uint8 without one.
static Value quantizeResult(NodeImporter &n, QuantBuilder &b, Value y,
                            size_t scale, size_t zeroPoint) {
  if (!y)
    return Value();
  SmallVector<Value> operands = {y, n.operand(scale)};
  Type target = n.getBuilder().getIntegerType(8, false);
  if (n.hasOperand(zeroPoint)) {
    operands.push_back(n.operand(zeroPoint));
    target = n.operandType(zeroPoint).getElementType();
  }
  return b.op<QuantizeLinearOp>(
      operands, {n.namedI64("axis", 0), n.named("to", TypeAttr::get(target))});
}

/// Checks that operands `params` of a QOperator node are per-tensor
/// (scalars or one-element) scales and zero points.
static LogicalResult checkPerTensor(NodeImporter &n,
                                    std::initializer_list<size_t> params) {
  for (size_t i : params)
    if (n.hasOperand(i) && n.operandType(i).getNumElements() != 1)
      return n.emitError() << "takes per-tensor scales and zero points; "
                           << "operand " << i << " is " << n.operandType(i);
  return success();
}

/// QLinearAdd / QLinearMul(A, A_scale, A_zp, B, B_scale, B_zp, C_scale,
/// C_zp): the float op between dequantized operands, requantized. ONNX
/// Runtime's quantizer emits them; they fuse like any Q/DQ pair.
template <typename OpTy>
static LogicalResult importQLinearBinary(NodeImporter &n) {
  if (failed(n.requireOperands(7)) ||
      failed(checkPerTensor(n, {1, 2, 4, 5, 6, 7})))
    return failure();
  QuantBuilder b(n);
  Value y = b.op<OpTy>(
      {dequantizeOperand(n, b, 0, 1, 2), dequantizeOperand(n, b, 3, 4, 5)});
  y = quantizeResult(n, b, y, 6, 7);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// QLinearSigmoid / QLinearLeakyRelu(X, X_scale, X_zp, Y_scale, Y_zp).
static LogicalResult importQLinearUnary(NodeImporter &n, bool leaky) {
  if (failed(n.requireOperands(4)) || failed(checkPerTensor(n, {1, 2, 3, 4})))
    return failure();
  QuantBuilder b(n);
  Value x = dequantizeOperand(n, b, 0, 1, 2);
  Value y = leaky ? b.op<LeakyReluOp>(
                        x, {n.namedF32("alpha", n.floatAttr("alpha", 0.01f))})
                  : b.op<SigmoidOp>(x);
  y = quantizeResult(n, b, y, 3, 4);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// QLinearGlobalAveragePool(X, x_scale, x_zp, y_scale, y_zp): the mean over
/// the spatial dims (after the channels, or before them with
/// `channels_last`), kept as size-1 dims.
static LogicalResult importQLinearGlobalAveragePool(NodeImporter &n) {
  if (failed(n.requireOperands(4)) || failed(checkPerTensor(n, {1, 2, 3, 4})))
    return failure();
  int64_t rank = n.operandType(0).getRank();
  if (rank < 3)
    return n.emitError() << "pools an N x C x spatial tensor, got "
                         << n.operandType(0);
  bool channelsLast = n.intAttr("channels_last", 0) != 0;
  SmallVector<int64_t> axes;
  for (int64_t d = channelsLast ? 1 : 2; d < (channelsLast ? rank - 1 : rank);
       ++d)
    axes.push_back(d);
  QuantBuilder b(n);
  Value y =
      b.reduce<ReduceMeanOp>(dequantizeOperand(n, b, 0, 1, 2), axes, true);
  y = quantizeResult(n, b, y, 3, 4);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// QLinearConcat(Y_scale, Y_zp, X_0, X_0_scale, X_0_zp, X_1, ...): the
/// dequantized inputs concatenated along `axis`, requantized.
static LogicalResult importQLinearConcat(NodeImporter &n) {
  size_t count = n.getNumOperands();
  if (count < 5 || (count - 2) % 3 != 0)
    return n.emitError() << "takes Y_scale, Y_zero_point and (X, X_scale, "
                            "X_zero_point) triples, got "
                         << count << " inputs";
  QuantBuilder b(n);
  SmallVector<Value> parts;
  for (size_t i = 2; i < count; i += 3) {
    if (failed(checkPerTensor(n, {i + 1, i + 2})))
      return failure();
    parts.push_back(dequantizeOperand(n, b, i, i + 1, i + 2));
  }
  if (failed(checkPerTensor(n, {0, 1})))
    return failure();
  int64_t rank = n.operandType(2).getRank();
  FailureOr<int64_t> axis = normalizeAxis(n.intAttr("axis", 0), rank);
  if (failed(axis))
    return n.emitError() << "axis " << n.intAttr("axis", 0)
                         << " is out of range for rank " << rank;
  Value y = quantizeResult(n, b, b.concat(parts, *axis), 0, 1);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

void onnx_import::registerQuantizationOps(OpRegistry &r) {
  r.add("com.microsoft", "QLinearAdd", 1, importQLinearBinary<AddOp>);
  r.add("com.microsoft", "QLinearMul", 1, importQLinearBinary<MulOp>);
  r.add("com.microsoft", "QLinearSigmoid", 1,
        [](NodeImporter &n) { return importQLinearUnary(n, false); });
  r.add("com.microsoft", "QLinearLeakyRelu", 1,
        [](NodeImporter &n) { return importQLinearUnary(n, true); });
  r.add("com.microsoft", "QLinearGlobalAveragePool", 1,
        importQLinearGlobalAveragePool);
  r.add("com.microsoft", "QLinearConcat", 1, importQLinearConcat);
  r.add("QuantizeLinear", {10, 13, 19, 21}, importQuantizeLinear);
  r.add("DequantizeLinear", {10, 13, 19, 21}, importDequantizeLinear);
  r.add("DynamicQuantizeLinear", 11, importDynamicQuantizeLinear);
  r.add("MatMulInteger", 10, importMatMulInteger);
  r.add("ConvInteger", 10, importConvInteger);
  r.add("QLinearMatMul", {10, 21}, importQLinearMatMul);
  r.add("QLinearConv", 10, importQLinearConv);
}
