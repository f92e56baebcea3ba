//===- ElementwiseOps.cpp - import of elementwise ONNX operators ----------===//

#include "NodeImporter.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

/// A handler mapping a one-input ONNX op with no attributes onto `OpTy`.
template <typename OpTy> static LogicalResult importUnary(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  return n.setResult(n.create<OpTy>(n.operand(0)));
}

/// A handler mapping a two-input broadcasting ONNX op onto `OpTy`.
template <typename OpTy> static LogicalResult importBinary(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  return n.setResult(n.create<OpTy>({n.operand(0), n.operand(1)}));
}

/// Variadic Max/Min/Sum: a left fold with the binary op.
template <typename OpTy> static LogicalResult importVariadic(NodeImporter &n) {
  FailureOr<SmallVector<Value>> inputs = n.allOperands();
  if (failed(inputs))
    return failure();
  if (inputs->empty())
    return n.emitError() << "expects at least one input";
  Value acc = inputs->front();
  for (Value next : ArrayRef(*inputs).drop_front()) {
    FailureOr<Value> v = n.create<OpTy>({acc, next});
    if (failed(v))
      return failure();
    acc = *v;
  }
  return n.setResults(acc);
}

/// PRelu broadcasts the slope numpy-style from opset 7. PRelu-6 exporters
/// (and models upgraded from them) give a per-channel slope [C] for an
/// input [N, C, ...], which does not broadcast that way: it is aligned with
/// dim 1 instead.
static LogicalResult importPRelu(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  Value x = n.operand(0), slope = n.operand(1);
  RankedTensorType xType = n.operandType(0), slopeType = n.operandType(1);
  if (xType.getRank() > 2 && slopeType.getRank() == 1 &&
      !slopeType.isDynamicDim(0) && slopeType.getDimSize(0) != 1 &&
      slopeType.getDimSize(0) == xType.getDimSize(1) &&
      slopeType.getDimSize(0) != xType.getDimSize(xType.getRank() - 1)) {
    Decomposer b(n);
    SmallVector<int64_t> trailing;
    for (int64_t d = 1; d < xType.getRank() - 1; ++d)
      trailing.push_back(d);
    slope = b.unsqueeze(slope, trailing);
    if (b.failed())
      return failure();
  }
  return n.setResult(n.create<PReluOp>({x, slope}));
}

static LogicalResult importLeakyRelu(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  return n.setResult(n.create<LeakyReluOp>(
      n.operand(0), {n.namedF32("alpha", n.floatAttr("alpha", 0.01f))}));
}

static LogicalResult importHardSigmoid(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  return n.setResult(n.create<HardSigmoidOp>(
      n.operand(0), {n.namedF32("alpha", n.floatAttr("alpha", 0.2f)),
                     n.namedF32("beta", n.floatAttr("beta", 0.5f))}));
}

static LogicalResult importGelu(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  std::string approximate = n.stringAttr("approximate", "none");
  if (approximate != "none" && approximate != "tanh")
    return n.emitError() << "approximate must be \"none\" or \"tanh\", got \""
                         << approximate << "\"";
  return n.setResult(
      n.create<GeluOp>(n.operand(0), {n.namedStr("approximate", approximate)}));
}

/// Clip before opset 11 has float `min`/`max` attributes; from 11 on they are
/// optional inputs.
static LogicalResult importClip(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  Value input = n.operand(0);
  Value min = n.operand(1), max = n.operand(2);
  if (n.getOpset() < 11) {
    Type element = n.operandType(0).getElementType();
    if (n.hasAttr("min"))
      min = n.constScalar(element, n.floatAttr("min", 0));
    if (n.hasAttr("max"))
      max = n.constScalar(element, n.floatAttr("max", 0));
  }
  SmallVector<Value> operands = {input};
  if (min)
    operands.push_back(min);
  if (max)
    operands.push_back(max);
  return n.setResult(
      n.create<ClipOp>(operands, {n.segments({1, min ? 1 : 0, max ? 1 : 0})}));
}

/// A one-input op whose float attributes keep their ONNX names and defaults.
template <typename OpTy>
static OpHandler
importActivation(std::vector<std::pair<const char *, float>> attrs) {
  return [attrs](NodeImporter &n) -> LogicalResult {
    if (failed(n.requireOperands(1)))
      return failure();
    SmallVector<NamedAttribute> named;
    for (auto [name, defaultValue] : attrs)
      named.push_back(n.namedF32(name, n.floatAttr(name, defaultValue)));
    return n.setResult(n.create<OpTy>(n.operand(0), named));
  };
}

static LogicalResult importIsInf(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  return n.setResult(n.create<IsInfOp>(
      n.operand(0),
      {n.namedBool("detect_negative", n.intAttr("detect_negative", 1) != 0),
       n.namedBool("detect_positive", n.intAttr("detect_positive", 1) != 0)}));
}

static LogicalResult importMod(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  bool fmod = n.intAttr("fmod", 0) != 0;
  if (!fmod && isa<FloatType>(n.operandType(0).getElementType()))
    return n.emitError() << "fmod must be 1 for floating-point inputs";
  return n.setResult(n.create<ModOp>({n.operand(0), n.operand(1)},
                                     {n.namedBool("fmod", fmod)}));
}

static LogicalResult importBitShift(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  std::string direction = StringRef(n.stringAttr("direction", "")).lower();
  if (direction != "left" && direction != "right")
    return n.emitError() << "direction must be LEFT or RIGHT";
  return n.setResult(n.create<BitShiftOp>(
      {n.operand(0), n.operand(1)}, {n.namedStr("direction", direction)}));
}

/// Mean of any number of inputs: their sum over the count.
static LogicalResult importMean(NodeImporter &n) {
  if (failed(importVariadic<AddOp>(n)))
    return failure();
  Value sum = n.getResults().front();
  Type element = getElementTypeOrSelf(sum.getType());
  Value count = n.constScalar(element, n.getNumOperands());
  return n.setResult(n.create<DivOp>({sum, count}));
}

static LogicalResult importCastLike(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  return n.setResult(n.create<CastOp>(
      n.operand(0),
      {n.named("to", TypeAttr::get(n.operandType(1).getElementType()))}));
}

static LogicalResult importWhere(NodeImporter &n) {
  if (failed(n.requireOperands(3)))
    return failure();
  return n.setResult(
      n.create<WhereOp>({n.operand(0), n.operand(1), n.operand(2)}));
}

void onnx_import::registerElementwiseOps(OpRegistry &r) {
  r.add("Relu", {6, 13, 14}, importUnary<ReluOp>);
  r.add("Sigmoid", {6, 13}, importUnary<SigmoidOp>);
  r.add("Tanh", {6, 13}, importUnary<TanhOp>);
  r.add("Exp", {6, 13}, importUnary<ExpOp>);
  r.add("Log", {6, 13}, importUnary<LogOp>);
  r.add("Sqrt", {6, 13}, importUnary<SqrtOp>);
  r.add("Reciprocal", {6, 13}, importUnary<ReciprocalOp>);
  r.add("Neg", {6, 13}, importUnary<NegOp>);
  r.add("Abs", {6, 13}, importUnary<AbsOp>);
  r.add("Erf", {9, 13}, importUnary<ErfOp>);
  r.add("HardSwish", 14, importUnary<HardSwishOp>);
  r.add("LeakyRelu", {6, 16}, importLeakyRelu);
  r.add("HardSigmoid", 6, importHardSigmoid);
  r.add("Gelu", 20, importGelu);
  r.add("Clip", {6, 11, 12, 13}, importClip);
  r.add("Acos", 7, importUnary<AcosOp>);
  r.add("Acosh", 9, importUnary<AcoshOp>);
  r.add("Asin", 7, importUnary<AsinOp>);
  r.add("Asinh", 9, importUnary<AsinhOp>);
  r.add("Atan", 7, importUnary<AtanOp>);
  r.add("Atanh", 9, importUnary<AtanhOp>);
  r.add("Cos", 7, importUnary<CosOp>);
  r.add("Cosh", 9, importUnary<CoshOp>);
  r.add("Sin", 7, importUnary<SinOp>);
  r.add("Sinh", 9, importUnary<SinhOp>);
  r.add("Tan", 7, importUnary<TanOp>);
  r.add("Ceil", {6, 13}, importUnary<CeilOp>);
  r.add("Floor", {6, 13}, importUnary<FloorOp>);
  r.add("Round", 11, importUnary<RoundOp>);
  r.add("Softplus", 1, importUnary<SoftplusOp>);
  r.add("Softsign", 1, importUnary<SoftsignOp>);
  r.add("Mish", 18, importUnary<MishOp>);
  r.add("Sign", {9, 13}, importUnary<SignOp>);
  r.add("Not", 1, importUnary<NotOp>);
  r.add("BitwiseNot", 18, importUnary<BitwiseNotOp>);
  r.add("IsNaN", {9, 13}, importUnary<IsNaNOp>);
  r.add("IsInf", 10, importIsInf);
  r.add("Elu", 6, importActivation<EluOp>({{"alpha", 1.0f}}));
  r.add("Selu", 6,
        importActivation<SeluOp>({{"alpha", 1.67326319217681884765625f},
                                  {"gamma", 1.05070102214813232421875f}}));
  r.add("Celu", 12, importActivation<CeluOp>({{"alpha", 1.0f}}));
  r.add("ThresholdedRelu", 10,
        importActivation<ThresholdedReluOp>({{"alpha", 1.0f}}));
  r.add("Shrink", 9,
        importActivation<ShrinkOp>({{"bias", 0.0f}, {"lambd", 0.5f}}));
  r.add("And", 7, importBinary<AndOp>);
  r.add("Or", 7, importBinary<OrOp>);
  r.add("Xor", 7, importBinary<XorOp>);
  r.add("BitwiseAnd", 18, importBinary<BitwiseAndOp>);
  r.add("BitwiseOr", 18, importBinary<BitwiseOrOp>);
  r.add("BitwiseXor", 18, importBinary<BitwiseXorOp>);
  r.add("PRelu", {7, 9, 16}, importPRelu);
  r.add("Mod", {10, 13}, importMod);
  r.add("BitShift", 11, importBitShift);
  r.add("Mean", {6, 8, 13}, importMean);
  r.add("CastLike", {15, 19, 21}, importCastLike);

  // Broadcasting binary ops (numpy-style broadcasting since opset 7).
  r.add("Add", {7, 13, 14}, importBinary<AddOp>);
  r.add("Sub", {7, 13, 14}, importBinary<SubOp>);
  r.add("Mul", {7, 13, 14}, importBinary<MulOp>);
  r.add("Div", {7, 13, 14}, importBinary<DivOp>);
  r.add("Pow", {7, 12, 13, 15}, importBinary<PowOp>);
  r.add("Max", {6, 8, 12, 13}, importVariadic<MaxOp>);
  r.add("Min", {6, 8, 12, 13}, importVariadic<MinOp>);
  r.add("Sum", {6, 8, 13}, importVariadic<AddOp>);
  r.add("Equal", {7, 11, 13, 19}, importBinary<EqualOp>);
  r.add("Less", {7, 9, 13}, importBinary<LessOp>);
  r.add("LessOrEqual", {12, 16}, importBinary<LessOrEqualOp>);
  r.add("Greater", {7, 9, 13}, importBinary<GreaterOp>);
  r.add("GreaterOrEqual", {12, 16}, importBinary<GreaterOrEqualOp>);
  r.add("Where", {9, 16}, importWhere);
}
