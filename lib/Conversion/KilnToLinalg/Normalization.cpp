//===- Normalization.cpp - kiln reductions, softmax, norms to linalg ------===//

#include "Utils.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::to_linalg;

namespace {
/// How a reduction combines elements.
enum class Combine { Sum, Max };
} // namespace

/// Reduces `input` over `axes` (normalized, any order) with `combine`. The
/// result keeps reduced dims as 1 when `keepdims`. `kilnElement` is the
/// element type before conversion (for signedness).
static Value reduce(OpBuilder &b, Location loc, Value input,
                    ArrayRef<int64_t> axes, bool keepdims, Combine combine,
                    Type kilnElement) {
  MLIRContext *context = b.getContext();
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  Type element = type.getElementType();
  llvm::SmallBitVector reduced(rank);
  for (int64_t axis : axes)
    reduced.set(axis);
  SmallVector<OpFoldResult> inputDims = getDims(b, loc, input);
  SmallVector<int64_t> shape;
  SmallVector<OpFoldResult> dims;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iterators;
  for (int64_t d = 0; d < rank; ++d) {
    iterators.push_back(reduced[d] ? utils::IteratorType::reduction
                                   : utils::IteratorType::parallel);
    if (reduced[d])
      continue;
    shape.push_back(type.getDimSize(d));
    dims.push_back(inputDims[d]);
    outExprs.push_back(getAffineDimExpr(d, context));
  }
  auto resultType = RankedTensorType::get(shape, element);
  bool isFloat = isa<FloatType>(element);
  bool isUnsigned = isUnsignedLike(kilnElement);
  Value initValue = combine == Combine::Sum
                        ? scalarConstant(b, loc, element, 0)
                        : extremeConstant(b, loc, element, /*lowest=*/true,
                                          isUnsigned);
  Value init = filledTensor(b, loc, resultType, dims, initValue);
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(rank, context),
      AffineMap::get(rank, 0, outExprs, context)};
  Value result =
      linalg::GenericOp::create(
          b, loc, TypeRange{resultType}, ValueRange{input}, ValueRange{init},
          maps, iterators,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value v;
            if (combine == Combine::Sum)
              v = isFloat ? (Value)arith::AddFOp::create(nb, l, args[0], args[1])
                          : (Value)arith::AddIOp::create(nb, l, args[0], args[1]);
            else if (isFloat)
              v = arith::MaximumFOp::create(nb, l, args[0], args[1]);
            else if (isUnsigned)
              v = arith::MaxUIOp::create(nb, l, args[0], args[1]);
            else
              v = arith::MaxSIOp::create(nb, l, args[0], args[1]);
            linalg::YieldOp::create(nb, l, v);
          })
          .getResult(0);
  if (!keepdims)
    return result;
  SmallVector<int64_t> keptShape;
  SmallVector<OpFoldResult> keptDims;
  for (int64_t d = 0; d < rank; ++d) {
    keptShape.push_back(reduced[d] ? 1 : type.getDimSize(d));
    keptDims.push_back(reduced[d] ? b.getIndexAttr(1) : inputDims[d]);
  }
  return reshapeTo(b, loc, result, RankedTensorType::get(keptShape, element),
                   keptDims);
}

/// The number of elements over `axes` of `input`, as a scalar of `element`.
static Value countOver(OpBuilder &b, Location loc, Value input,
                       ArrayRef<int64_t> axes, Type element) {
  Value count = arith::ConstantIndexOp::create(b, loc, 1);
  for (int64_t axis : axes)
    count = arith::MulIOp::create(b, loc, count,
                                  tensor::DimOp::create(b, loc, input, axis));
  Value asInt = arith::IndexCastOp::create(b, loc, b.getI64Type(), count);
  if (isa<FloatType>(element))
    return arith::UIToFPOp::create(b, loc, element, asInt);
  return arith::TruncIOp::create(b, loc, element, asInt)->getResult(0);
}

/// A generic computing `body` over `inputs` broadcast to `type`.
static Value map(OpBuilder &b, Location loc, RankedTensorType type,
                 ValueRange inputs,
                 function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
  return buildBroadcastGeneric(b, loc, type, inputs, body);
}

/// Normalized, sorted reduction axes of an op (all dims when empty).
static SmallVector<int64_t> normalizedAxes(ArrayRef<int64_t> axes,
                                           int64_t rank) {
  SmallVector<int64_t> result;
  if (axes.empty())
    for (int64_t d = 0; d < rank; ++d)
      result.push_back(d);
  for (int64_t axis : axes)
    result.push_back(axis < 0 ? axis + rank : axis);
  llvm::sort(result);
  return result;
}

/// mean = sum / count, broadcasting the count scalar.
static Value divideByCount(OpBuilder &b, Location loc, Value sum, Value count,
                           Type kilnElement) {
  auto type = cast<RankedTensorType>(sum.getType());
  return map(b, loc, type, {sum}, [&](OpBuilder &nb, Location l, ValueRange a) {
    if (isa<FloatType>(type.getElementType()))
      return (Value)arith::DivFOp::create(nb, l, a[0], count);
    if (isUnsignedLike(kilnElement))
      return (Value)arith::DivUIOp::create(nb, l, a[0], count);
    return (Value)arith::DivSIOp::create(nb, l, a[0], count);
  });
}

namespace {

template <typename OpTy, Combine kind, bool mean>
struct ReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    Type kilnElement = op.getInput().getType().getElementType();
    SmallVector<int64_t> axes =
        normalizedAxes(op.getAxes(), op.getInput().getType().getRank());
    Value result = reduce(rewriter, loc, input, axes, op.getKeepdims(), kind,
                          kilnElement);
    if (mean)
      result = divideByCount(
          rewriter, loc, result,
          countOver(rewriter, loc, input, axes,
                    getElementTypeOrSelf(input.getType())),
          kilnElement);
    rewriter.replaceOp(op, result);
    return success();
  }
};

struct GlobalAveragePoolLowering : OpConversionPattern<GlobalAveragePoolOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GlobalAveragePoolOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    SmallVector<int64_t> axes;
    for (int64_t d = 2; d < op.getInput().getType().getRank(); ++d)
      axes.push_back(d);
    Type element = op.getType().getElementType();
    Value sum = reduce(rewriter, loc, input, axes, true, Combine::Sum, element);
    rewriter.replaceOp(
        op, divideByCount(rewriter, loc, sum,
                          countOver(rewriter, loc, input, axes, element),
                          element));
    return success();
  }
};

/// softmax: exp(x - max) / sum(exp(x - max)) along the axis.
struct SoftmaxLowering : OpConversionPattern<SoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    RankedTensorType type = op.getType();
    Type element = type.getElementType();
    int64_t axis = op.getAxis() < 0 ? op.getAxis() + type.getRank()
                                    : op.getAxis();
    Value max = reduce(rewriter, loc, x, {axis}, true, Combine::Max, element);
    Value e = map(rewriter, loc, type, {x, max},
                  [](OpBuilder &b, Location l, ValueRange a) -> Value {
                    return math::ExpOp::create(
                        b, l, arith::SubFOp::create(b, l, a[0], a[1]));
                  });
    Value sum = reduce(rewriter, loc, e, {axis}, true, Combine::Sum, element);
    rewriter.replaceOp(op, map(rewriter, loc, type, {e, sum},
                               [](OpBuilder &b, Location l, ValueRange a) {
                                 return (Value)arith::DivFOp::create(b, l, a[0],
                                                                     a[1]);
                               }));
    return success();
  }
};

/// layer_norm over dims axis..rank-1: (x - mean) / sqrt(var + eps) * scale
/// (+ bias).
struct LayerNormLowering : OpConversionPattern<LayerNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LayerNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    RankedTensorType type = op.getType();
    Type element = type.getElementType();
    int64_t rank = type.getRank();
    int64_t axis = op.getAxis() < 0 ? op.getAxis() + rank : op.getAxis();
    SmallVector<int64_t> axes;
    for (int64_t d = axis; d < rank; ++d)
      axes.push_back(d);
    Value count = countOver(rewriter, loc, x, axes, element);
    Value mean = divideByCount(
        rewriter, loc,
        reduce(rewriter, loc, x, axes, true, Combine::Sum, element), count,
        element);
    Value centered = map(rewriter, loc, type, {x, mean},
                         [](OpBuilder &b, Location l, ValueRange a) {
                           return (Value)arith::SubFOp::create(b, l, a[0], a[1]);
                         });
    Value squares = map(rewriter, loc, type, {centered},
                        [](OpBuilder &b, Location l, ValueRange a) {
                          return (Value)arith::MulFOp::create(b, l, a[0], a[0]);
                        });
    Value variance = divideByCount(
        rewriter, loc,
        reduce(rewriter, loc, squares, axes, true, Combine::Sum, element),
        count, element);
    double epsilon = op.getEpsilonAttr().getValueAsDouble();
    SmallVector<Value> inputs = {centered, variance, adaptor.getScale()};
    if (adaptor.getBias())
      inputs.push_back(adaptor.getBias());
    rewriter.replaceOp(
        op, map(rewriter, loc, type, inputs,
                [&](OpBuilder &b, Location l, ValueRange a) {
                  Value eps = scalarConstant(b, l, element, epsilon);
                  Value inv = math::RsqrtOp::create(
                      b, l, arith::AddFOp::create(b, l, a[1], eps));
                  Value v = arith::MulFOp::create(
                      b, l, arith::MulFOp::create(b, l, a[0], inv), a[2]);
                  if (a.size() > 3)
                    v = arith::AddFOp::create(b, l, v, a[3]);
                  return v;
                }));
    return success();
  }
};

/// batch_norm: per channel (dim 1) scale * (x - mean) / sqrt(var + eps) +
/// bias; the statistics are reshaped to [C, 1, ..., 1] to broadcast.
struct BatchNormLowering : OpConversionPattern<BatchNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(BatchNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    Type element = type.getElementType();
    int64_t rank = type.getRank();
    SmallVector<Value> inputs = {adaptor.getInput()};
    for (Value stat : {adaptor.getScale(), adaptor.getBias(), adaptor.getMean(),
                       adaptor.getVariance()}) {
      SmallVector<int64_t> shape(rank - 1, 1);
      shape[0] = cast<RankedTensorType>(stat.getType()).getDimSize(0);
      SmallVector<OpFoldResult> dims(rank - 1, rewriter.getIndexAttr(1));
      dims[0] = tensor::getMixedSize(rewriter, loc, stat, 0);
      inputs.push_back(reshapeTo(rewriter, loc, stat,
                                 RankedTensorType::get(shape, element), dims));
    }
    double epsilon = op.getEpsilonAttr().getValueAsDouble();
    rewriter.replaceOp(
        op, map(rewriter, loc, type, inputs,
                [&](OpBuilder &b, Location l, ValueRange a) {
                  Value eps = scalarConstant(b, l, element, epsilon);
                  Value inv = math::RsqrtOp::create(
                      b, l, arith::AddFOp::create(b, l, a[4], eps));
                  Value centered = arith::SubFOp::create(b, l, a[0], a[3]);
                  Value scaled = arith::MulFOp::create(
                      b, l, centered, arith::MulFOp::create(b, l, a[1], inv));
                  return (Value)arith::AddFOp::create(b, l, scaled, a[2]);
                }));
    return success();
  }
};

} // namespace

void to_linalg::populateNormalizationPatterns(KilnTypeConverter &converter,
                                              RewritePatternSet &patterns) {
  patterns.add<ReduceLowering<ReduceSumOp, Combine::Sum, false>,
               ReduceLowering<ReduceMeanOp, Combine::Sum, true>,
               ReduceLowering<ReduceMaxOp, Combine::Max, false>,
               GlobalAveragePoolLowering, SoftmaxLowering, LayerNormLowering,
               BatchNormLowering>(converter, patterns.getContext());
}
