//===- Normalization.cpp - kiln reductions, softmax, norms to linalg ------===//

#include "Utils.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::to_linalg;

namespace {
/// How a reduction combines elements.
enum class Combine { Sum, Max, Min, Prod };
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
  Value initValue = combine == Combine::Sum ? scalarConstant(b, loc, element, 0)
                    : combine == Combine::Prod
                        ? scalarConstant(b, loc, element, 1)
                        : extremeConstant(b, loc, element,
                                          combine == Combine::Max, isUnsigned);
  Value init = filledTensor(b, loc, resultType, dims, initValue);
  SmallVector<AffineMap> maps = {
      AffineMap::getMultiDimIdentityMap(rank, context),
      AffineMap::get(rank, 0, outExprs, context)};
  Value result =
      linalg::GenericOp::create(
          b, loc, TypeRange{resultType}, ValueRange{input}, ValueRange{init},
          maps, iterators,
          [&](OpBuilder &nb, Location l, ValueRange args) {
            Value x = args[0], acc = args[1], v;
            switch (combine) {
            case Combine::Sum:
              v = isFloat ? (Value)arith::AddFOp::create(nb, l, x, acc)
                          : (Value)arith::AddIOp::create(nb, l, x, acc);
              break;
            case Combine::Prod:
              v = isFloat ? (Value)arith::MulFOp::create(nb, l, x, acc)
                          : (Value)arith::MulIOp::create(nb, l, x, acc);
              break;
            case Combine::Max:
              v = isFloat      ? (Value)arith::MaximumFOp::create(nb, l, x, acc)
                  : isUnsigned ? (Value)arith::MaxUIOp::create(nb, l, x, acc)
                               : (Value)arith::MaxSIOp::create(nb, l, x, acc);
              break;
            case Combine::Min:
              v = isFloat      ? (Value)arith::MinimumFOp::create(nb, l, x, acc)
                  : isUnsigned ? (Value)arith::MinUIOp::create(nb, l, x, acc)
                               : (Value)arith::MinSIOp::create(nb, l, x, acc);
              break;
            }
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
  if (element.getIntOrFloatBitWidth() == 64)
    return asInt;
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

/// What a Reduce* op computes around its combining reduction.
enum class ReduceKind {
  Sum,
  Mean,
  Max,
  Min,
  Prod,
  L1,
  L2,
  LogSum,
  LogSumExp,
  SumSquare
};

template <typename OpTy, ReduceKind kind>
struct ReduceLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    Type element = inputType.getElementType();
    Type kilnElement = op.getInput().getType().getElementType();
    bool isFloat = isa<FloatType>(element);
    SmallVector<int64_t> axes =
        normalizedAxes(op.getAxes(), inputType.getRank());
    bool keep = op.getKeepdims();
    auto elementwise = [&](Value v, auto fn) {
      return map(rewriter, loc, cast<RankedTensorType>(v.getType()), {v},
                 [&](OpBuilder &b, Location l, ValueRange a) {
                   return (Value)fn(b, l, a[0]);
                 });
    };
    auto square = [&](OpBuilder &b, Location l, Value x) -> Value {
      return isFloat ? (Value)arith::MulFOp::create(b, l, x, x)
                     : (Value)arith::MulIOp::create(b, l, x, x);
    };
    Value result;
    switch (kind) {
    case ReduceKind::Sum:
    case ReduceKind::Mean:
      result =
          reduce(rewriter, loc, input, axes, keep, Combine::Sum, kilnElement);
      if (kind == ReduceKind::Mean)
        result = divideByCount(rewriter, loc, result,
                               countOver(rewriter, loc, input, axes, element),
                               kilnElement);
      break;
    case ReduceKind::Max:
      result =
          reduce(rewriter, loc, input, axes, keep, Combine::Max, kilnElement);
      break;
    case ReduceKind::Min:
      result =
          reduce(rewriter, loc, input, axes, keep, Combine::Min, kilnElement);
      break;
    case ReduceKind::Prod:
      result =
          reduce(rewriter, loc, input, axes, keep, Combine::Prod, kilnElement);
      break;
    case ReduceKind::L1:
      result =
          reduce(rewriter, loc,
                 elementwise(input,
                             [&](OpBuilder &b, Location l, Value x) -> Value {
                               if (isFloat)
                                 return math::AbsFOp::create(b, l, x);
                               if (isUnsignedLike(kilnElement))
                                 return x;
                               return math::AbsIOp::create(b, l, x);
                             }),
                 axes, keep, Combine::Sum, kilnElement);
      break;
    case ReduceKind::L2:
    case ReduceKind::SumSquare:
      result = reduce(rewriter, loc, elementwise(input, square), axes, keep,
                      Combine::Sum, kilnElement);
      if (kind == ReduceKind::L2)
        result = elementwise(result, [&](OpBuilder &b, Location l, Value x) {
          return math::SqrtOp::create(b, l, x);
        });
      break;
    case ReduceKind::LogSum:
      result = elementwise(
          reduce(rewriter, loc, input, axes, keep, Combine::Sum, kilnElement),
          [&](OpBuilder &b, Location l, Value x) {
            return math::LogOp::create(b, l, x);
          });
      break;
    case ReduceKind::LogSumExp: {
      // max + log(sum(exp(x - max))), with the max kept for broadcasting.
      Value max = reduce(rewriter, loc, input, axes, /*keepdims=*/true,
                         Combine::Max, kilnElement);
      // An all -inf slice has max -inf; subtract 0 there instead.
      Value safeMax = elementwise(max, [&](OpBuilder &b, Location l, Value m) {
        Value finite = math::IsFiniteOp::create(b, l, m);
        return arith::SelectOp::create(b, l, finite, m,
                                       scalarConstant(b, l, element, 0));
      });
      Value shifted = map(rewriter, loc, inputType, {input, safeMax},
                          [](OpBuilder &b, Location l, ValueRange a) {
                            return (Value)math::ExpOp::create(
                                b, l, arith::SubFOp::create(b, l, a[0], a[1]));
                          });
      Value sum = reduce(rewriter, loc, shifted, axes, /*keepdims=*/true,
                         Combine::Sum, kilnElement);
      Value kept =
          map(rewriter, loc, cast<RankedTensorType>(sum.getType()),
              {sum, safeMax}, [](OpBuilder &b, Location l, ValueRange a) {
                return (Value)arith::AddFOp::create(
                    b, l, math::LogOp::create(b, l, a[0]), a[1]);
              });
      RankedTensorType type = convertTensorType(op.getType());
      SmallVector<OpFoldResult> dims;
      SmallVector<OpFoldResult> keptDims = getDims(rewriter, loc, kept);
      llvm::SmallBitVector reduced(inputType.getRank());
      for (int64_t axis : axes)
        reduced.set(axis);
      for (int64_t d = 0; d < inputType.getRank(); ++d)
        if (keep || !reduced[d])
          dims.push_back(keptDims[d]);
      result = reshapeTo(rewriter, loc, kept, type, dims);
      break;
    }
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// argmax/argmin: one reduction generic carrying the best value and its
/// index.
template <typename OpTy, bool isMax>
struct ArgLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    Type element = inputType.getElementType();
    Type kilnElement = op.getInput().getType().getElementType();
    bool isFloat = isa<FloatType>(element);
    bool isUnsigned = isUnsignedLike(kilnElement);
    int64_t rank = inputType.getRank();
    int64_t axis = op.getAxis() < 0 ? op.getAxis() + rank : op.getAxis();
    SmallVector<OpFoldResult> inputDims = getDims(rewriter, loc, input);
    SmallVector<int64_t> shape;
    SmallVector<OpFoldResult> dims;
    SmallVector<AffineExpr> outExprs;
    SmallVector<utils::IteratorType> iterators;
    for (int64_t d = 0; d < rank; ++d) {
      iterators.push_back(d == axis ? utils::IteratorType::reduction
                                    : utils::IteratorType::parallel);
      if (d == axis)
        continue;
      shape.push_back(inputType.getDimSize(d));
      dims.push_back(inputDims[d]);
      outExprs.push_back(getAffineDimExpr(d, context));
    }
    auto valueType = RankedTensorType::get(shape, element);
    auto indexType = RankedTensorType::get(shape, rewriter.getI64Type());
    Value best = filledTensor(
        rewriter, loc, valueType, dims,
        extremeConstant(rewriter, loc, element, /*lowest=*/isMax, isUnsigned));
    Value index =
        filledTensor(rewriter, loc, indexType, dims,
                     scalarConstant(rewriter, loc, rewriter.getI64Type(), 0));
    AffineMap out = AffineMap::get(rank, 0, outExprs, context);
    bool last = op.getSelectLastIndex();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{valueType, indexType}, ValueRange{input},
        ValueRange{best, index},
        {AffineMap::getMultiDimIdentityMap(rank, context), out, out}, iterators,
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value x = a[0], current = a[1], currentIndex = a[2];
          Value position = arith::IndexCastOp::create(
              b, l, b.getI64Type(), linalg::IndexOp::create(b, l, axis));
          // Strictly better, or equal and we keep the last occurrence; the
          // first element always wins (the initial value is only a bound).
          Value better, equal;
          if (isFloat) {
            better = arith::CmpFOp::create(b, l,
                                           isMax ? arith::CmpFPredicate::OGT
                                                 : arith::CmpFPredicate::OLT,
                                           x, current);
            equal = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, x,
                                          current);
          } else {
            arith::CmpIPredicate strict =
                isMax ? (isUnsigned ? arith::CmpIPredicate::ugt
                                    : arith::CmpIPredicate::sgt)
                      : (isUnsigned ? arith::CmpIPredicate::ult
                                    : arith::CmpIPredicate::slt);
            better = arith::CmpIOp::create(b, l, strict, x, current);
            equal = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, x,
                                          current);
          }
          Value first =
              arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, position,
                                    scalarConstant(b, l, b.getI64Type(), 0));
          Value take = arith::OrIOp::create(b, l, better, first);
          if (last)
            take = arith::OrIOp::create(b, l, take, equal);
          linalg::YieldOp::create(
              b, l,
              ValueRange{
                  arith::SelectOp::create(b, l, take, x, current),
                  arith::SelectOp::create(b, l, take, position, currentIndex)});
        });
    Value result = generic.getResult(1);
    if (op.getKeepdims()) {
      SmallVector<OpFoldResult> keptDims(dims);
      keptDims.insert(keptDims.begin() + axis, rewriter.getIndexAttr(1));
      result = reshapeTo(rewriter, loc, result, op.getType(), keptDims);
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// log_softmax: x - max - log(sum(exp(x - max))).
struct LogSoftmaxLowering : OpConversionPattern<LogSoftmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(LogSoftmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    RankedTensorType type = op.getType();
    Type element = type.getElementType();
    int64_t axis =
        op.getAxis() < 0 ? op.getAxis() + type.getRank() : op.getAxis();
    Value max = reduce(rewriter, loc, x, {axis}, true, Combine::Max, element);
    Value shifted = map(rewriter, loc, type, {x, max},
                        [](OpBuilder &b, Location l, ValueRange a) {
                          return (Value)arith::SubFOp::create(b, l, a[0], a[1]);
                        });
    Value e = map(rewriter, loc, type, {shifted},
                  [](OpBuilder &b, Location l, ValueRange a) {
                    return (Value)math::ExpOp::create(b, l, a[0]);
                  });
    Value sum = reduce(rewriter, loc, e, {axis}, true, Combine::Sum, element);
    rewriter.replaceOp(op, map(rewriter, loc, type, {shifted, sum},
                               [](OpBuilder &b, Location l, ValueRange a) {
                                 return (Value)arith::SubFOp::create(
                                     b, l, a[0],
                                     math::LogOp::create(b, l, a[1]));
                               }));
    return success();
  }
};

/// hardmax: 1 at the first maximum along the axis.
struct HardmaxLowering : OpConversionPattern<HardmaxOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(HardmaxOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = op.getType();
    int64_t axis =
        op.getAxis() < 0 ? op.getAxis() + type.getRank() : op.getAxis();
    Value index =
        ArgMaxOp::create(rewriter, loc, op.getInput(), axis,
                         /*keepdims=*/true, /*select_last_index=*/false);
    // Compare each position along the axis with the winning index.
    Value init = emptyTensor(rewriter, loc, type,
                             getDims(rewriter, loc, adaptor.getInput()));
    MLIRContext *context = rewriter.getContext();
    SmallVector<AffineExpr> indexExprs;
    for (int64_t d = 0; d < type.getRank(); ++d)
      indexExprs.push_back(d == axis ? getAffineConstantExpr(0, context)
                                     : getAffineDimExpr(d, context));
    Type element = type.getElementType();
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{index}, ValueRange{init},
        {AffineMap::get(type.getRank(), 0, indexExprs, context),
         AffineMap::getMultiDimIdentityMap(type.getRank(), context)},
        SmallVector<utils::IteratorType>(type.getRank(),
                                         utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange a) {
          Value position = arith::IndexCastOp::create(
              b, l, b.getI64Type(), linalg::IndexOp::create(b, l, axis));
          Value hit = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                            position, a[0]);
          linalg::YieldOp::create(
              b, l,
              arith::SelectOp::create(b, l, hit,
                                      scalarConstant(b, l, element, 1),
                                      scalarConstant(b, l, element, 0))
                  .getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// size: the product of the dims.
struct SizeLowering : OpConversionPattern<SizeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(SizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value count = arith::ConstantIndexOp::create(rewriter, loc, 1);
    for (int64_t d = 0; d < op.getInput().getType().getRank(); ++d)
      count = arith::MulIOp::create(
          rewriter, loc, count,
          tensor::DimOp::create(rewriter, loc, adaptor.getInput(), d));
    Value asInt =
        arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), count);
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, op.getType(),
                                                        ValueRange{asInt});
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
        op,
        divideByCount(rewriter, loc, sum,
                      countOver(rewriter, loc, input, axes, element), element));
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
    int64_t axis =
        op.getAxis() < 0 ? op.getAxis() + type.getRank() : op.getAxis();
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

/// The dims `axis`..rank-1 a normalization reduces over.
static SmallVector<int64_t> trailingAxes(int64_t axis, int64_t rank) {
  if (axis < 0)
    axis += rank;
  return llvm::to_vector(llvm::seq<int64_t>(axis, rank));
}

/// The mean of `v * v` over `axes` (kept as unit dims), `count` elements.
static Value meanOfSquares(OpBuilder &b, Location loc, RankedTensorType type,
                           Value v, ArrayRef<int64_t> axes, Value count) {
  Type element = type.getElementType();
  Value squares =
      map(b, loc, type, {v}, [](OpBuilder &nb, Location l, ValueRange a) {
        return (Value)arith::MulFOp::create(nb, l, a[0], a[0]);
      });
  return divideByCount(
      b, loc, reduce(b, loc, squares, axes, true, Combine::Sum, element), count,
      element);
}

/// `v / sqrt(meanSquare + eps) * scale (+ bias)`, shared by layer_norm (v
/// centered, meanSquare the variance) and rms_norm.
static Value normalize(OpBuilder &b, Location loc, RankedTensorType type,
                       Value v, Value meanSquare, Value scale, Value bias,
                       double epsilon) {
  Type element = type.getElementType();
  SmallVector<Value> inputs = {v, meanSquare, scale};
  if (bias)
    inputs.push_back(bias);
  return map(b, loc, type, inputs,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               Value eps = scalarConstant(nb, l, element, epsilon);
               Value inv = math::RsqrtOp::create(
                   nb, l, arith::AddFOp::create(nb, l, a[1], eps));
               Value r = arith::MulFOp::create(
                   nb, l, arith::MulFOp::create(nb, l, a[0], inv), a[2]);
               if (a.size() > 3)
                 r = arith::AddFOp::create(nb, l, r, a[3]);
               return r;
             });
}

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
    SmallVector<int64_t> axes = trailingAxes(op.getAxis(), type.getRank());
    Value count = countOver(rewriter, loc, x, axes, element);
    Value mean = divideByCount(
        rewriter, loc,
        reduce(rewriter, loc, x, axes, true, Combine::Sum, element), count,
        element);
    Value centered =
        map(rewriter, loc, type, {x, mean},
            [](OpBuilder &b, Location l, ValueRange a) {
              return (Value)arith::SubFOp::create(b, l, a[0], a[1]);
            });
    Value variance = meanOfSquares(rewriter, loc, type, centered, axes, count);
    rewriter.replaceOp(op, normalize(rewriter, loc, type, centered, variance,
                                     adaptor.getScale(), adaptor.getBias(),
                                     op.getEpsilonAttr().getValueAsDouble()));
    return success();
  }
};

/// rms_norm over dims axis..rank-1: x / sqrt(mean(x^2) + eps) * scale.
struct RMSNormLowering : OpConversionPattern<RMSNormOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RMSNormOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getInput();
    RankedTensorType type = op.getType();
    SmallVector<int64_t> axes = trailingAxes(op.getAxis(), type.getRank());
    Value count = countOver(rewriter, loc, x, axes, type.getElementType());
    Value meanSquare = meanOfSquares(rewriter, loc, type, x, axes, count);
    rewriter.replaceOp(op, normalize(rewriter, loc, type, x, meanSquare,
                                     adaptor.getScale(), Value(),
                                     op.getEpsilonAttr().getValueAsDouble()));
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
  patterns.add<ReduceLowering<ReduceSumOp, ReduceKind::Sum>,
               ReduceLowering<ReduceMeanOp, ReduceKind::Mean>,
               ReduceLowering<ReduceMaxOp, ReduceKind::Max>,
               ReduceLowering<ReduceMinOp, ReduceKind::Min>,
               ReduceLowering<ReduceProdOp, ReduceKind::Prod>,
               ReduceLowering<ReduceL1Op, ReduceKind::L1>,
               ReduceLowering<ReduceL2Op, ReduceKind::L2>,
               ReduceLowering<ReduceLogSumOp, ReduceKind::LogSum>,
               ReduceLowering<ReduceLogSumExpOp, ReduceKind::LogSumExp>,
               ReduceLowering<ReduceSumSquareOp, ReduceKind::SumSquare>,
               ArgLowering<ArgMaxOp, true>, ArgLowering<ArgMinOp, false>,
               LogSoftmaxLowering, HardmaxLowering, SizeLowering,
               GlobalAveragePoolLowering, SoftmaxLowering, LayerNormLowering,
               RMSNormLowering, BatchNormLowering>(converter,
                                                   patterns.getContext());
}
