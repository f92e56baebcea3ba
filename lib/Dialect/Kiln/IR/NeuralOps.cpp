//===- NeuralOps.cpp - matmul, convolution, pooling, normalization --------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace kiln;

static bool isDyn(int64_t d) { return ShapedType::isDynamic(d); }

//===----------------------------------------------------------------------===//
// MatMulOp
//===----------------------------------------------------------------------===//

/// The result shape of a numpy-style matrix product of `lhsType` and
/// `rhsType` (ONNX MatMul and MatMulInteger).
static FailureOr<SmallVector<int64_t>>
inferMatMulShape(std::optional<Location> location, RankedTensorType lhsType,
                 RankedTensorType rhsType) {
  if (lhsType.getRank() == 0 || rhsType.getRank() == 0)
    return emitOptionalError(location, "operands must have rank >= 1");
  SmallVector<int64_t> lhs(lhsType.getShape()), rhs(rhsType.getShape());
  bool lhsVector = lhs.size() == 1, rhsVector = rhs.size() == 1;
  if (lhsVector)
    lhs.insert(lhs.begin(), 1);
  if (rhsVector)
    rhs.push_back(1);
  int64_t k1 = lhs.back(), k2 = rhs[rhs.size() - 2];
  if (!isDyn(k1) && !isDyn(k2) && k1 != k2)
    return emitOptionalError(location, "contraction dims differ: ", k1, " vs ",
                             k2);
  FailureOr<SmallVector<int64_t>> batch =
      broadcastShapes({ArrayRef(lhs).drop_back(2), ArrayRef(rhs).drop_back(2)});
  if (failed(batch))
    return emitOptionalError(location, "batch dims do not broadcast");
  SmallVector<int64_t> shape = *batch;
  if (!lhsVector)
    shape.push_back(lhs[lhs.size() - 2]);
  if (!rhsVector)
    shape.push_back(rhs.back());
  return shape;
}

LogicalResult MatMulOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto lhsType = cast<RankedTensorType>(adaptor.getLhs().getType());
  FailureOr<SmallVector<int64_t>> shape = inferMatMulShape(
      location, lhsType, cast<RankedTensorType>(adaptor.getRhs().getType()));
  if (failed(shape))
    return failure();
  types.push_back(RankedTensorType::get(*shape, lhsType.getElementType()));
  return success();
}

/// Checks a contraction's epilogue: `bias` and `residual` broadcast to the
/// result, activations only on floats, with their parameter counts.
static LogicalResult verifyEpilogue(Operation *op, Value bias, Value residual,
                                    StringRef activation,
                                    ArrayRef<float> params) {
  auto result = cast<RankedTensorType>(op->getResult(0).getType());
  for (auto [v, what] : {std::pair{bias, "bias"}, {residual, "residual"}}) {
    if (!v)
      continue;
    auto type = cast<RankedTensorType>(v.getType());
    if (type.getElementType() != result.getElementType() ||
        !broadcastsTo(type.getShape(), result.getShape()))
      return op->emitOpError("epilogue ")
             << what << " of type " << type
             << " does not broadcast to the result " << result;
  }
  if (activation != "none" && !isa<FloatType>(result.getElementType()))
    return op->emitOpError("activation '")
           << activation << "' needs a float result, got " << result;
  size_t expected = activation == "clip"         ? 2
                    : activation == "leaky_relu" ? 1
                                                 : 0;
  if (params.size() != expected)
    return op->emitOpError("activation '")
           << activation << "' takes " << expected << " parameters, got "
           << params.size();
  return success();
}

LogicalResult MatMulOp::verify() {
  return verifyEpilogue(*this, getBias(), getResidual(), getActivation(),
                        getActivationParams());
}

//===----------------------------------------------------------------------===//
// GemmOp
//===----------------------------------------------------------------------===//

LogicalResult GemmOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> location,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto a = cast<RankedTensorType>(adaptor.getA().getType());
  auto b = cast<RankedTensorType>(adaptor.getB().getType());
  if (a.getRank() != 2 || b.getRank() != 2)
    return emitOptionalError(location, "A and B must be matrices");
  int64_t m = a.getDimSize(adaptor.getTransA() ? 1 : 0);
  int64_t ka = a.getDimSize(adaptor.getTransA() ? 0 : 1);
  int64_t kb = b.getDimSize(adaptor.getTransB() ? 1 : 0);
  int64_t n = b.getDimSize(adaptor.getTransB() ? 0 : 1);
  if (!isDyn(ka) && !isDyn(kb) && ka != kb)
    return emitOptionalError(location, "contraction dims differ: ", ka, " vs ",
                             kb);
  types.push_back(RankedTensorType::get({m, n}, a.getElementType()));
  return success();
}

LogicalResult GemmOp::verify() {
  if (failed(verifyEpilogue(*this, Value(), getResidual(), getActivation(),
                            getActivationParams())))
    return failure();
  if (!getC())
    return success();
  auto c = cast<RankedTensorType>(getC().getType());
  if (c.getRank() > 2)
    return emitOpError("C must have rank <= 2, got ") << c;
  if (!broadcastsTo(c.getShape(), getType().getShape()))
    return emitOpError("C of type ")
           << c << " does not broadcast to the result " << getType();
  return success();
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

/// Checks the window attributes of a conv or pool with `spatial` spatial dims.
static LogicalResult verifyWindow(Operation *op, int64_t spatial,
                                  ArrayRef<int64_t> pads,
                                  ArrayRef<int64_t> strides,
                                  ArrayRef<int64_t> dilations) {
  if (static_cast<int64_t>(pads.size()) != 2 * spatial)
    return op->emitOpError("expects ")
           << 2 * spatial << " pads (begin and end per spatial dim), got "
           << pads.size();
  if (static_cast<int64_t>(strides.size()) != spatial ||
      static_cast<int64_t>(dilations.size()) != spatial)
    return op->emitOpError("expects ")
           << spatial << " strides and dilations, got " << strides.size()
           << " and " << dilations.size();
  if (llvm::any_of(strides, [](int64_t s) { return s < 1; }) ||
      llvm::any_of(dilations, [](int64_t d) { return d < 1; }))
    return op->emitOpError("strides and dilations must be positive");
  if (llvm::any_of(pads, [](int64_t p) { return p < 0; }))
    return op->emitOpError("pads must be non-negative");
  return success();
}

/// Whether every entry of each list is positive (inference divides by them;
/// the verifier reports the bad values).
static bool allPositive(std::initializer_list<ArrayRef<int64_t>> lists) {
  for (ArrayRef<int64_t> list : lists)
    if (llvm::any_of(list, [](int64_t v) { return v < 1; }))
      return false;
  return true;
}

/// The extent of one spatial output dim of a sliding window.
static int64_t windowOutput(int64_t in, int64_t kernel, int64_t padBegin,
                            int64_t padEnd, int64_t stride, int64_t dilation,
                            bool ceilMode) {
  if (isDyn(in) || isDyn(kernel))
    return ShapedType::kDynamic;
  int64_t span = in + padBegin + padEnd - ((kernel - 1) * dilation + 1);
  if (span < 0)
    return 0;
  int64_t out = (ceilMode ? (span + stride - 1) / stride : span / stride) + 1;
  // A window that would start inside the end padding is dropped.
  if (ceilMode && (out - 1) * stride >= in + padBegin)
    --out;
  return out;
}

LogicalResult ConvOp::inferReturnTypes(MLIRContext *,
                                       std::optional<Location> location,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto weight = cast<RankedTensorType>(adaptor.getWeight().getType());
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1 || weight.getRank() != input.getRank())
    return emitOptionalError(location, "input and weight must have the same "
                                       "rank >= 3");
  ArrayRef<int64_t> pads = adaptor.getPads(), strides = adaptor.getStrides(),
                    dilations = adaptor.getDilations();
  if (static_cast<int64_t>(pads.size()) != 2 * spatial ||
      static_cast<int64_t>(strides.size()) != spatial ||
      static_cast<int64_t>(dilations.size()) != spatial)
    return emitOptionalError(location, "window attributes do not match the ",
                             spatial, " spatial dims");
  if (!allPositive({strides, dilations}))
    return emitOptionalError(location,
                             "strides and dilations must be positive");
  SmallVector<int64_t> shape = {input.getDimSize(0), weight.getDimSize(0)};
  for (int64_t i = 0; i < spatial; ++i)
    shape.push_back(windowOutput(input.getDimSize(i + 2),
                                 weight.getDimSize(i + 2), pads[i],
                                 pads[i + spatial], strides[i], dilations[i],
                                 /*ceilMode=*/false));
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

/// Checks group and bias constraints shared by conv and conv_transpose.
static LogicalResult verifyGroupsAndBias(Operation *op, int64_t group,
                                         int64_t groupedDim, int64_t wholeDim,
                                         Value bias, int64_t channels) {
  if (group < 1)
    return op->emitOpError("group must be positive, got ") << group;
  if (!isDyn(groupedDim) && !isDyn(wholeDim) && groupedDim * group != wholeDim)
    return op->emitOpError("channel count ")
           << wholeDim << " is not weight's " << groupedDim << " times group "
           << group;
  if (!bias)
    return success();
  auto biasType = cast<RankedTensorType>(bias.getType());
  if (biasType.getRank() != 1 ||
      (!isDyn(channels) && !isDyn(biasType.getDimSize(0)) &&
       biasType.getDimSize(0) != channels))
    return op->emitOpError("bias must be 1-D with ")
           << channels << " elements, got " << biasType;
  return success();
}

LogicalResult ConvOp::verify() {
  int64_t spatial = getInput().getType().getRank() - 2;
  if (failed(verifyWindow(*this, spatial, getPads(), getStrides(),
                          getDilations())))
    return failure();
  if (getGroup() < 1)
    return emitOpError("group must be positive, got ") << getGroup();
  if (failed(verifyEpilogue(*this, Value(), getResidual(), getActivation(),
                            getActivationParams())))
    return failure();
  int64_t outChannels = getWeight().getType().getDimSize(0);
  if (!isDyn(outChannels) && outChannels % getGroup() != 0)
    return emitOpError("output channels ")
           << outChannels << " are not divisible by group " << getGroup();
  return verifyGroupsAndBias(
      *this, getGroup(), getWeight().getType().getDimSize(1),
      getInput().getType().getDimSize(1), getBias(), outChannels);
}

LogicalResult ConvTransposeOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto weight = cast<RankedTensorType>(adaptor.getWeight().getType());
  int64_t spatial = input.getRank() - 2;
  ArrayRef<int64_t> pads = adaptor.getPads(), strides = adaptor.getStrides(),
                    dilations = adaptor.getDilations(),
                    outPad = adaptor.getOutputPadding();
  if (spatial < 1 || weight.getRank() != input.getRank() ||
      static_cast<int64_t>(pads.size()) != 2 * spatial ||
      static_cast<int64_t>(strides.size()) != spatial ||
      static_cast<int64_t>(dilations.size()) != spatial ||
      static_cast<int64_t>(outPad.size()) != spatial)
    return emitOptionalError(location, "window attributes do not match the ",
                             "input and weight ranks");
  if (!allPositive({strides, dilations}))
    return emitOptionalError(location,
                             "strides and dilations must be positive");
  int64_t outChannels = isDyn(weight.getDimSize(1))
                            ? ShapedType::kDynamic
                            : weight.getDimSize(1) * adaptor.getGroup();
  SmallVector<int64_t> shape = {input.getDimSize(0), outChannels};
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t in = input.getDimSize(i + 2), k = weight.getDimSize(i + 2);
    shape.push_back(isDyn(in) || isDyn(k) ? ShapedType::kDynamic
                                          : strides[i] * (in - 1) + outPad[i] +
                                                (k - 1) * dilations[i] + 1 -
                                                pads[i] - pads[i + spatial]);
  }
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult ConvTransposeOp::verify() {
  int64_t spatial = getInput().getType().getRank() - 2;
  if (failed(verifyWindow(*this, spatial, getPads(), getStrides(),
                          getDilations())))
    return failure();
  if (getGroup() < 1)
    return emitOpError("group must be positive, got ") << getGroup();
  if (getOutputPadding().size() != static_cast<size_t>(spatial))
    return emitOpError("expects ") << spatial << " output_padding entries";
  return verifyGroupsAndBias(
      *this, /*group=*/1, getWeight().getType().getDimSize(0),
      getInput().getType().getDimSize(1), getBias(), getType().getDimSize(1));
}

/// Infers a pooling result: spatial dims slide `kernel`, N and C stay.
template <typename Adaptor>
static LogicalResult inferPool(std::optional<Location> location,
                               Adaptor adaptor, SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t spatial = input.getRank() - 2;
  ArrayRef<int64_t> kernel = adaptor.getKernelShape(), pads = adaptor.getPads(),
                    strides = adaptor.getStrides(),
                    dilations = adaptor.getDilations();
  if (spatial < 1 || static_cast<int64_t>(kernel.size()) != spatial ||
      static_cast<int64_t>(pads.size()) != 2 * spatial ||
      static_cast<int64_t>(strides.size()) != spatial ||
      static_cast<int64_t>(dilations.size()) != spatial)
    return emitOptionalError(location, "window attributes do not match the ",
                             spatial, " spatial dims of the input");
  if (!allPositive({kernel, strides, dilations}))
    return emitOptionalError(location, "kernel_shape, strides and dilations "
                                       "must be positive");
  SmallVector<int64_t> shape = {input.getDimSize(0), input.getDimSize(1)};
  for (int64_t i = 0; i < spatial; ++i)
    shape.push_back(windowOutput(input.getDimSize(i + 2), kernel[i], pads[i],
                                 pads[i + spatial], strides[i], dilations[i],
                                 adaptor.getCeilMode()));
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult MaxPoolOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> location,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  return inferPool(location, adaptor, types);
}

LogicalResult MaxPoolOp::verify() {
  if (llvm::any_of(getKernelShape(), [](int64_t k) { return k < 1; }))
    return emitOpError("kernel_shape must be positive");
  return verifyWindow(*this, getKernelShape().size(), getPads(), getStrides(),
                      getDilations());
}

LogicalResult AveragePoolOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location> location,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  return inferPool(location, adaptor, types);
}

LogicalResult AveragePoolOp::verify() {
  if (llvm::any_of(getKernelShape(), [](int64_t k) { return k < 1; }))
    return emitOpError("kernel_shape must be positive");
  return verifyWindow(*this, getKernelShape().size(), getPads(), getStrides(),
                      getDilations());
}

LogicalResult GlobalAveragePoolOp::inferReturnTypes(
    MLIRContext *, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  if (input.getRank() < 3)
    return emitOptionalError(location, "input must have rank >= 3");
  SmallVector<int64_t> shape(input.getRank(), 1);
  shape[0] = input.getDimSize(0);
  shape[1] = input.getDimSize(1);
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

//===----------------------------------------------------------------------===//
// Normalization and softmax
//===----------------------------------------------------------------------===//

LogicalResult BatchNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location>,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult BatchNormOp::verify() {
  RankedTensorType input = getInput().getType();
  if (input.getRank() < 2)
    return emitOpError("input must have rank >= 2");
  auto stat = cast<RankedTensorType>(getScale().getType());
  int64_t channels = input.getDimSize(1);
  if (stat.getRank() != 1 || (!isDyn(channels) && !isDyn(stat.getDimSize(0)) &&
                              stat.getDimSize(0) != channels))
    return emitOpError("scale, bias, mean and variance must be 1-D with ")
           << channels << " elements, got " << stat;
  return success();
}

LogicalResult LayerNormOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location>,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult LayerNormOp::verify() {
  int64_t rank = getInput().getType().getRank();
  FailureOr<int64_t> axis = normalizeAxis(getAxis(), rank);
  if (failed(axis))
    return emitOpError("axis ")
           << getAxis() << " is out of range for rank " << rank;
  ArrayRef<int64_t> normalized =
      getInput().getType().getShape().drop_front(*axis);
  for (Value v : {getScale(), getBias()}) {
    if (!v)
      continue;
    auto type = cast<RankedTensorType>(v.getType());
    if (!broadcastsTo(type.getShape(), normalized))
      return emitOpError(
                 "scale and bias must broadcast to the normalized dims, got ")
             << type;
  }
  return success();
}

LogicalResult RMSNormOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location>,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult RMSNormOp::verify() {
  int64_t rank = getInput().getType().getRank();
  FailureOr<int64_t> axis = normalizeAxis(getAxis(), rank);
  if (failed(axis))
    return emitOpError("axis ")
           << getAxis() << " is out of range for rank " << rank;
  if (!broadcastsTo(getScale().getType().getShape(),
                    getInput().getType().getShape().drop_front(*axis)))
    return emitOpError("scale must broadcast to the normalized dims, got ")
           << getScale().getType();
  return success();
}

LogicalResult AttentionOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto q = cast<RankedTensorType>(adaptor.getQuery().getType());
  auto v = cast<RankedTensorType>(adaptor.getValue().getType());
  if (q.getRank() < 2 || v.getRank() != q.getRank())
    return emitOptionalError(location, "query and value must have the same "
                                       "rank >= 2");
  SmallVector<int64_t> shape(q.getShape());
  shape.back() = v.getShape().back();
  types.push_back(RankedTensorType::get(shape, q.getElementType()));
  return success();
}

LogicalResult RotaryOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult RotaryOp::verify() {
  RankedTensorType type = getInput().getType();
  if (type.getRank() < 1)
    return emitOpError("input must have at least one dim");
  int64_t extent = type.getShape().back();
  if (!isDyn(extent) && extent % 2 != 0)
    return emitOpError("last dim ") << extent << " is not even";
  for (Value table : {getCos(), getSin()}) {
    auto tableType = cast<RankedTensorType>(table.getType());
    if (!broadcastsTo(tableType.getShape(), type.getShape()))
      return emitOpError("cos/sin of type ")
             << tableType << " does not broadcast to " << type;
  }
  return success();
}

LogicalResult AttentionOp::verify() {
  RankedTensorType q = getQuery().getType(), k = getKey().getType(),
                   v = getValue().getType();
  int64_t rank = q.getRank();
  if (k.getRank() != rank || v.getRank() != rank)
    return emitOpError("query, key and value must have the same rank");
  auto agree = [](int64_t a, int64_t b) {
    return isDyn(a) || isDyn(b) || a == b;
  };
  // Grouped-query attention: key and value may have fewer heads (dim
  // rank - 3), a divisor of the query's.
  auto grouped = [&](int64_t queryHeads, int64_t kvHeads) {
    return isDyn(queryHeads) || isDyn(kvHeads) ||
           (kvHeads > 0 && queryHeads % kvHeads == 0);
  };
  for (int64_t d = 0; d < rank - 2; ++d) {
    bool heads = d == rank - 3;
    if (!agree(k.getDimSize(d), v.getDimSize(d)) ||
        (heads ? !grouped(q.getDimSize(d), k.getDimSize(d))
               : !agree(q.getDimSize(d), k.getDimSize(d))))
      return emitOpError("leading dims of query, key and value differ: ")
             << q << ", " << k << ", " << v;
  }
  if (!agree(q.getShape().back(), k.getShape().back()))
    return emitOpError("query and key head dims differ: ") << q << ", " << k;
  if (!agree(k.getDimSize(rank - 2), v.getDimSize(rank - 2)))
    return emitOpError("key and value sequence lengths differ: ")
           << k << ", " << v;
  if (Value mask = getMask()) {
    auto type = cast<RankedTensorType>(mask.getType());
    SmallVector<int64_t> scores(q.getShape());
    scores.back() = k.getDimSize(rank - 2);
    if (!broadcastsTo(type.getShape(), scores))
      return emitOpError("mask of type ")
             << type << " does not broadcast to the scores";
    bool isBool = type.getElementType().isInteger(1);
    if (!isBool && type.getElementType() != q.getElementType())
      return emitOpError("mask must be bool or the query's element type, got ")
             << type;
    if (isBool != getMaskFill().has_value())
      return emitOpError("mask_fill is set exactly when the mask is bool");
  } else if (getMaskFill()) {
    return emitOpError("mask_fill without a mask");
  }
  return success();
}

LogicalResult SoftmaxOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location>,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult SoftmaxOp::verify() {
  int64_t rank = getInput().getType().getRank();
  if (failed(normalizeAxis(getAxis(), rank)))
    return emitOpError("axis ")
           << getAxis() << " is out of range for rank " << rank;
  return success();
}

/// Softmax-like ops keep the input's type and need an axis in range.
template <typename OpTy> static LogicalResult verifySoftmaxAxis(OpTy op) {
  int64_t rank = op.getInput().getType().getRank();
  if (failed(normalizeAxis(op.getAxis(), rank)))
    return op.emitOpError("axis ")
           << op.getAxis() << " is out of range for rank " << rank;
  return success();
}

LogicalResult LogSoftmaxOp::inferReturnTypes(MLIRContext *,
                                             std::optional<Location>,
                                             Adaptor adaptor,
                                             SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult LogSoftmaxOp::verify() { return verifySoftmaxAxis(*this); }

LogicalResult HardmaxOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location>,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult HardmaxOp::verify() { return verifySoftmaxAxis(*this); }

/// ArgMax/ArgMin reduce one axis to i64 indices.
template <typename Adaptor>
static LogicalResult
inferArgResult(MLIRContext *context, std::optional<Location> location,
               Adaptor adaptor, SmallVectorImpl<Type> &types) {
  SmallVector<Type> reduced;
  if (failed(inferReductionResult(location, adaptor.getInput(),
                                  {adaptor.getAxis()}, adaptor.getKeepdims(),
                                  reduced)))
    return failure();
  types.push_back(cast<RankedTensorType>(reduced.front())
                      .clone(IntegerType::get(context, 64)));
  return success();
}

LogicalResult ArgMaxOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return inferArgResult(context, location, adaptor, types);
}

LogicalResult ArgMinOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  return inferArgResult(context, location, adaptor, types);
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

/// Checks a (de)quantization's scale and zero point against `input`: each a
/// scalar or 1-D along `axis` (one value, or one per element of that dim),
/// the zero point of element type `integer`.
static LogicalResult verifyQuantParams(Operation *op, RankedTensorType input,
                                       Value scale, Value zeroPoint,
                                       int64_t axis, Type integer) {
  auto scaleType = cast<RankedTensorType>(scale.getType());
  if (scaleType.getRank() > 1)
    return op->emitOpError("scale must be a scalar or 1-D, got ") << scaleType;
  if (scaleType.getRank() == 1) {
    if (axis < 0 || axis >= input.getRank())
      return op->emitOpError("axis ")
             << axis << " is out of range for " << input;
    int64_t extent = scaleType.getDimSize(0), dim = input.getDimSize(axis);
    if (!isDyn(extent) && !isDyn(dim) && extent != dim && extent != 1)
      return op->emitOpError("scale has ")
             << extent << " elements but dim " << axis << " of the input has "
             << dim;
  }
  if (!zeroPoint)
    return success();
  auto zeroPointType = cast<RankedTensorType>(zeroPoint.getType());
  if (zeroPointType.getElementType() != integer)
    return op->emitOpError("zero point must have element type ")
           << integer << ", got " << zeroPointType;
  if (zeroPointType.getRank() != scaleType.getRank() ||
      !broadcastsTo(zeroPointType.getShape(), scaleType.getShape()))
    return op->emitOpError("zero point ")
           << zeroPointType << " does not match scale " << scaleType;
  return success();
}

LogicalResult QuantizeLinearOp::inferReturnTypes(MLIRContext *,
                                                 std::optional<Location>,
                                                 Adaptor adaptor,
                                                 SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  types.push_back(input.clone(adaptor.getTo()));
  return success();
}

LogicalResult QuantizeLinearOp::verify() {
  auto to = cast<IntegerType>(getTo());
  if (to.getWidth() != 8 && to.getWidth() != 16)
    return emitOpError("quantizes to 8- or 16-bit integers, not ") << to;
  return verifyQuantParams(*this, getInput().getType(), getScale(),
                           getZeroPoint(), getAxis(), to);
}

LogicalResult
DequantizeLinearOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                     Adaptor adaptor,
                                     SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto scale = cast<RankedTensorType>(adaptor.getScale().getType());
  types.push_back(input.clone(scale.getElementType()));
  return success();
}

LogicalResult
DequantizeBlocksOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                     Adaptor adaptor,
                                     SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto scale = cast<RankedTensorType>(adaptor.getScale().getType());
  types.push_back(input.clone(scale.getElementType()));
  return success();
}

LogicalResult DequantizeBlocksOp::verify() {
  RankedTensorType input = getInput().getType(), scale = getScale().getType();
  int64_t rank = input.getRank();
  FailureOr<int64_t> axis = normalizeAxis(getAxis(), rank);
  if (failed(axis))
    return emitOpError("axis ") << getAxis() << " is out of range";
  if (getBlockSize() < 1)
    return emitOpError("block_size must be positive");
  if (scale.getRank() != rank)
    return emitOpError("scale must have the input's rank");
  for (int64_t d = 0; d < rank; ++d) {
    int64_t extent = input.getDimSize(d), scales = scale.getDimSize(d);
    if (isDyn(extent) || isDyn(scales))
      continue;
    int64_t expected =
        d == *axis ? (extent + getBlockSize() - 1) / getBlockSize() : extent;
    if (scales != expected)
      return emitOpError("scale dim ")
             << d << " is " << scales << ", expected " << expected;
  }
  if (Value zero = getZeroPoint()) {
    auto zeroType = cast<RankedTensorType>(zero.getType());
    if (zeroType.getElementType() != input.getElementType())
      return emitOpError("zero_point must have the input's element type");
    if (failed(verifyCompatibleShape(zeroType.getShape(), scale.getShape())))
      return emitOpError("zero_point must have the scale's shape");
  }
  return success();
}

LogicalResult DequantizeLinearOp::verify() {
  return verifyQuantParams(*this, getInput().getType(), getScale(),
                           getZeroPoint(), getAxis(),
                           getInput().getType().getElementType());
}

LogicalResult MatMulIntegerOp::inferReturnTypes(
    MLIRContext *context, std::optional<Location> location, Adaptor adaptor,
    SmallVectorImpl<Type> &types) {
  FailureOr<SmallVector<int64_t>> shape = inferMatMulShape(
      location, cast<RankedTensorType>(adaptor.getLhs().getType()),
      cast<RankedTensorType>(adaptor.getRhs().getType()));
  if (failed(shape))
    return failure();
  types.push_back(RankedTensorType::get(*shape, IntegerType::get(context, 32)));
  return success();
}

LogicalResult MatMulIntegerOp::verify() {
  RankedTensorType lhs = getLhs().getType(), rhs = getRhs().getType();
  for (auto [type, name] : {std::pair{lhs, "lhs"}, {rhs, "rhs"}})
    if (type.getElementType().getIntOrFloatBitWidth() != 8)
      return emitOpError(name) << " must hold 8-bit integers, got " << type;
  // The zero points: scalars, or per row of lhs / per column of rhs.
  auto check = [&](Value zeroPoint, RankedTensorType operand, int64_t dim,
                   StringRef name) -> LogicalResult {
    if (!zeroPoint)
      return success();
    auto type = cast<RankedTensorType>(zeroPoint.getType());
    if (type.getElementType() != operand.getElementType())
      return emitOpError(name) << " must have element type "
                               << operand.getElementType() << ", got " << type;
    if (type.getRank() == 0)
      return success();
    int64_t extent = operand.getRank() >= 2 ? operand.getDimSize(dim) : 1;
    // One value, or one per row (column).
    if (type.getRank() != 1 ||
        (!isDyn(extent) && !isDyn(type.getDimSize(0)) &&
         type.getDimSize(0) != extent && type.getDimSize(0) != 1))
      return emitOpError(name)
             << " must be a scalar or hold one value per "
             << (name == "lhs_zero_point" ? "row of lhs" : "column of rhs")
             << ", got " << type;
    return success();
  };
  return failure(failed(check(getLhsZeroPoint(), lhs, lhs.getRank() - 2,
                              "lhs_zero_point")) ||
                 failed(check(getRhsZeroPoint(), rhs, rhs.getRank() - 1,
                              "rhs_zero_point")));
}

namespace {
/// Constant zero points of matmul_integer: one that is zero everywhere is
/// dropped, one whose values are all equal becomes a scalar (what the
/// kernels take without a per-row or per-column pass).
struct SimplifyIntegerZeroPoints : OpRewritePattern<MatMulIntegerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(MatMulIntegerOp op,
                                PatternRewriter &rewriter) const override {
    bool changed = false;
    auto simplify = [&](Value zeroPoint) -> Value {
      std::optional<SmallVector<int64_t>> values =
          zeroPoint ? getConstantInts(zeroPoint) : std::nullopt;
      if (!values || values->empty() || llvm::any_of(*values, [&](int64_t v) {
            return v != values->front();
          }))
        return zeroPoint;
      if (values->front() == 0) {
        changed = true;
        return Value();
      }
      auto type = cast<RankedTensorType>(zeroPoint.getType());
      if (type.getRank() == 0)
        return zeroPoint;
      changed = true;
      auto scalar = RankedTensorType::get({}, type.getElementType());
      return ConstantOp::create(
          rewriter, op.getLoc(),
          cast<ElementsAttr>(DenseElementsAttr::get(
              scalar, APInt(8, static_cast<uint64_t>(values->front()),
                            /*isSigned=*/true, /*implicitTrunc=*/true))));
    };
    Value lhsZero = simplify(op.getLhsZeroPoint());
    Value rhsZero = simplify(op.getRhsZeroPoint());
    if (!changed)
      return failure();
    rewriter.replaceOpWithNewOp<MatMulIntegerOp>(op, op.getLhs(), op.getRhs(),
                                                 lhsZero, rhsZero);
    return success();
  }
};
} // namespace

void MatMulIntegerOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                                  MLIRContext *context) {
  results.add<SimplifyIntegerZeroPoints>(context);
}
