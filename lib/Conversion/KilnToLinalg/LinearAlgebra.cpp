//===- LinearAlgebra.cpp - kiln matmul and gemm to linalg -----------------===//

#include "Utils.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::to_linalg;

/// The multiply-accumulate body of a contraction over `type` elements.
static Value multiplyAdd(OpBuilder &b, Location loc, Type type, Value x,
                         Value y, Value acc) {
  if (isa<FloatType>(type))
    return arith::AddFOp::create(b, loc, acc,
                                 arith::MulFOp::create(b, loc, x, y));
  return arith::AddIOp::create(b, loc, acc,
                               arith::MulIOp::create(b, loc, x, y));
}

/// A zero-filled accumulator of `type`.
static Value zeros(OpBuilder &b, Location loc, RankedTensorType type,
                   ArrayRef<OpFoldResult> dims) {
  return filledTensor(b, loc, type, dims,
                      scalarConstant(b, loc, type.getElementType(), 0));
}

namespace {

/// An input of a contraction besides its two matrices, read per row (m),
/// per column (n) or once.
struct SideInput {
  enum Along { Once, Row, Column, KBlocks } along;
  Value value;
  /// KBlocks: the value is [K / block, N], one element per `block`
  /// consecutive k and per column.
  int64_t block = 0;
};

/// The scalar body of a contraction: args are (lhs, rhs, side inputs...,
/// accumulator).
using ContractionBody = function_ref<Value(OpBuilder &, Location, ValueRange)>;

/// Lowers a numpy-style matrix product of `lhs` and `rhs` into `resultType`
/// (elements `element`): 1-D operands are promoted to matrices (and the
/// added dim is dropped from the result); the batch dims broadcast. 2-D
/// products without side inputs become linalg.matmul when `named`, others a
/// generic.
static Value lowerMatMul(ConversionPatternRewriter &rewriter, Location loc,
                         Value lhs, Value rhs, RankedTensorType resultType,
                         Value bias, Value residual,
                         ArrayRef<SideInput> sideInputs, bool named,
                         ContractionBody body) {
  MLIRContext *context = rewriter.getContext();
  Type element = resultType.getElementType();
  auto lhsType = cast<RankedTensorType>(lhs.getType());
  auto rhsType = cast<RankedTensorType>(rhs.getType());
  bool lhsVector = lhsType.getRank() == 1, rhsVector = rhsType.getRank() == 1;
  if (lhsVector) {
    auto type = RankedTensorType::get({1, lhsType.getDimSize(0)},
                                      lhsType.getElementType());
    lhs = tensor::ExpandShapeOp::create(
        rewriter, loc, type, lhs, ArrayRef<ReassociationIndices>{{0, 1}},
        {rewriter.getIndexAttr(1),
         tensor::getMixedSize(rewriter, loc, lhs, 0)});
    lhsType = type;
  }
  if (rhsVector) {
    auto type = RankedTensorType::get({rhsType.getDimSize(0), 1},
                                      rhsType.getElementType());
    rhs = tensor::ExpandShapeOp::create(
        rewriter, loc, type, rhs, ArrayRef<ReassociationIndices>{{0, 1}},
        {tensor::getMixedSize(rewriter, loc, rhs, 0),
         rewriter.getIndexAttr(1)});
    rhsType = type;
  }
  int64_t batch = std::max(lhsType.getRank(), rhsType.getRank()) - 2;
  // The promoted result: batch dims, then M and N.
  SmallVector<int64_t> shape;
  ArrayRef<int64_t> resultShape = resultType.getShape();
  shape.append(resultShape.begin(), resultShape.begin() + batch);
  shape.push_back(lhsType.getDimSize(lhsType.getRank() - 2));
  shape.push_back(rhsType.getDimSize(rhsType.getRank() - 1));
  auto promotedType = RankedTensorType::get(shape, element);

  // Dims of the result: batch dims broadcast from both operands.
  SmallVector<OpFoldResult> dims;
  for (int64_t d = 0; d < batch; ++d) {
    OpFoldResult dim = rewriter.getIndexAttr(1);
    for (auto [v, t] : {std::pair{lhs, lhsType}, std::pair{rhs, rhsType}}) {
      int64_t offset = batch - (t.getRank() - 2);
      if (d >= offset && t.getDimSize(d - offset) != 1) {
        dim = tensor::getMixedSize(rewriter, loc, v, d - offset);
        break;
      }
    }
    dims.push_back(dim);
  }
  dims.push_back(
      tensor::getMixedSize(rewriter, loc, lhs, lhsType.getRank() - 2));
  dims.push_back(
      tensor::getMixedSize(rewriter, loc, rhs, rhsType.getRank() - 1));
  bool vector = lhsVector || rhsVector;
  Value init =
      vector ? zeros(rewriter, loc, promotedType, dims)
             : epilogueInit(rewriter, loc, promotedType, dims, bias, residual);

  Value result;
  if (batch == 0 && named && sideInputs.empty()) {
    result = linalg::MatmulOp::create(rewriter, loc, TypeRange{promotedType},
                                      ValueRange{lhs, rhs}, ValueRange{init})
                 .getResult(0);
  } else {
    // Loops: batch..., m, n, k.
    int64_t loops = batch + 3;
    auto dim = [&](int64_t i) { return getAffineDimExpr(i, context); };
    auto operandMap = [&](RankedTensorType t, AffineExpr row, AffineExpr col) {
      SmallVector<AffineExpr> exprs;
      int64_t offset = batch - (t.getRank() - 2);
      for (int64_t d = 0; d < t.getRank() - 2; ++d)
        exprs.push_back(t.getDimSize(d) == 1 && shape[d + offset] != 1
                            ? getAffineConstantExpr(0, context)
                            : dim(d + offset));
      exprs.push_back(row);
      exprs.push_back(col);
      return AffineMap::get(loops, 0, exprs, context);
    };
    SmallVector<AffineExpr> outExprs;
    for (int64_t d = 0; d < batch + 2; ++d)
      outExprs.push_back(dim(d));
    SmallVector<Value> inputs = {lhs, rhs};
    SmallVector<AffineMap> maps = {
        operandMap(lhsType, dim(batch), dim(batch + 2)),
        operandMap(rhsType, dim(batch + 2), dim(batch + 1))};
    for (const SideInput &side : sideInputs) {
      inputs.push_back(side.value);
      SmallVector<AffineExpr> exprs;
      if (side.along == SideInput::Row) {
        exprs.push_back(dim(batch));
      } else if (side.along == SideInput::Column) {
        exprs.push_back(dim(batch + 1));
      } else if (side.along == SideInput::KBlocks) {
        exprs.push_back(dim(batch + 2).floorDiv(side.block));
        exprs.push_back(dim(batch + 1));
      }
      maps.push_back(AffineMap::get(loops, 0, exprs, context));
    }
    maps.push_back(AffineMap::get(loops, 0, outExprs, context));
    SmallVector<utils::IteratorType> iterators(loops,
                                               utils::IteratorType::parallel);
    iterators.back() = utils::IteratorType::reduction;
    result = linalg::GenericOp::create(
                 rewriter, loc, TypeRange{promotedType}, inputs,
                 ValueRange{init}, maps, iterators,
                 [&](OpBuilder &b, Location l, ValueRange args) {
                   linalg::YieldOp::create(b, l, body(b, l, args));
                 })
                 .getResult(0);
  }
  if (vector) {
    SmallVector<OpFoldResult> resultDims(dims);
    if (rhsVector)
      resultDims.erase(resultDims.end() - 1);
    if (lhsVector)
      resultDims.erase(resultDims.end() - (rhsVector ? 1 : 2));
    result = reshapeTo(rewriter, loc, result, resultType, resultDims);
    SmallVector<Value> terms = {result};
    for (Value v : {bias, residual})
      if (v)
        terms.push_back(v);
    if (terms.size() > 1)
      result = buildBroadcastGeneric(
          rewriter, loc, resultType, terms,
          [&](OpBuilder &b, Location l, ValueRange args) {
            Value sum = args[0];
            for (Value v : args.drop_front())
              sum = multiplyAdd(b, l, element, v,
                                scalarConstant(b, l, element, 1), sum);
            return sum;
          },
          resultDims);
  }
  return result;
}

/// matmul: 2-D operands become linalg.matmul; batched ones a generic whose
/// batch dims broadcast.
struct MatMulLowering : OpConversionPattern<MatMulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = convertTensorType(op.getType());
    Type element = resultType.getElementType();
    Value result;
    if (auto blocks = op.getRhs().getDefiningOp<DequantizeBlocksOp>();
        blocks && isa<FloatType>(element) && blocks.getType().getRank() == 2 &&
        blocks.getAxis() == 0 &&
        !isUnsignedLike(blocks.getInput().getType().getElementType())) {
      // A weight-only quantized rhs: the product reads the integers, the
      // scale of their block of k and its zero point if any,
      // `acc + x * (sitofp(q) * s)` or `acc + x * ((sitofp(q) - sitofp(z))
      // * s)`, which kiln-cpu-select-kernels gives the weight-only kernel.
      Value q = rewriter.getRemappedValue(blocks.getInput());
      Value scale = rewriter.getRemappedValue(blocks.getScale());
      SmallVector<SideInput> sides = {
          SideInput{SideInput::KBlocks, scale, blocks.getBlockSize()}};
      Value zero = blocks.getZeroPoint();
      if (zero)
        sides.push_back(SideInput{SideInput::KBlocks,
                                  rewriter.getRemappedValue(zero),
                                  blocks.getBlockSize()});
      result = lowerMatMul(
          rewriter, loc, adaptor.getLhs(), q, resultType, adaptor.getBias(),
          adaptor.getResidual(), sides,
          /*named=*/false, [&](OpBuilder &b, Location l, ValueRange args) {
            Value integer = arith::SIToFPOp::create(b, l, element, args[1]);
            if (zero)
              integer = arith::SubFOp::create(
                  b, l, integer,
                  arith::SIToFPOp::create(b, l, element, args[3]));
            Value w = arith::MulFOp::create(b, l, integer, args[2]);
            return multiplyAdd(b, l, element, args[0], w, args.back());
          });
    } else {
      result = lowerMatMul(
          rewriter, loc, adaptor.getLhs(), adaptor.getRhs(), resultType,
          adaptor.getBias(), adaptor.getResidual(), {}, /*named=*/true,
          [&](OpBuilder &b, Location l, ValueRange args) {
            return multiplyAdd(b, l, element, args[0], args[1], args[2]);
          });
    }
    result =
        applyActivation(rewriter, loc, result, op.getType().getElementType(),
                        op.getActivation(), op.getActivationParams());
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// matmul_integer: a generic whose body widens both 8-bit operands to i32
/// (zero- or sign-extended as their kiln type says) and subtracts the zero
/// points, which it reads as side inputs: `acc + (a - za) * (b - zb)`.
/// kiln-cpu-select-kernels recognizes this form.
struct MatMulIntegerLowering : OpConversionPattern<MatMulIntegerOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MatMulIntegerOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType resultType = convertTensorType(op.getType());
    bool lhsUnsigned = isUnsignedLike(op.getLhs().getType().getElementType());
    bool rhsUnsigned = isUnsignedLike(op.getRhs().getType().getElementType());
    SmallVector<SideInput> sides;
    // A zero point of one value is read once; a 1-D one of static size 1
    // becomes a scalar first (it may stand for several rows).
    auto side = [&](Value zeroPoint, SideInput::Along perElement) {
      auto type = cast<RankedTensorType>(zeroPoint.getType());
      if (type.getRank() == 0)
        return SideInput{SideInput::Once, zeroPoint};
      if (type.getDimSize(0) != 1)
        return SideInput{perElement, zeroPoint};
      return SideInput{SideInput::Once, tensor::CollapseShapeOp::create(
                                            rewriter, loc, zeroPoint,
                                            ArrayRef<ReassociationIndices>{})};
    };
    Value lhsZero = adaptor.getLhsZeroPoint(),
          rhsZero = adaptor.getRhsZeroPoint();
    if (lhsZero)
      sides.push_back(side(lhsZero, SideInput::Row));
    if (rhsZero)
      sides.push_back(side(rhsZero, SideInput::Column));
    Value result = lowerMatMul(
        rewriter, loc, adaptor.getLhs(), adaptor.getRhs(), resultType, Value(),
        Value(), sides, /*named=*/false,
        [&](OpBuilder &b, Location l, ValueRange args) {
          Type i32 = b.getI32Type();
          auto widen = [&](Value v, bool isUnsigned) -> Value {
            return isUnsigned ? (Value)arith::ExtUIOp::create(b, l, i32, v)
                              : (Value)arith::ExtSIOp::create(b, l, i32, v);
          };
          Value x = widen(args[0], lhsUnsigned);
          Value y = widen(args[1], rhsUnsigned);
          unsigned next = 2;
          if (lhsZero)
            x = arith::SubIOp::create(b, l, x,
                                      widen(args[next++], lhsUnsigned));
          if (rhsZero)
            y = arith::SubIOp::create(b, l, y,
                                      widen(args[next++], rhsUnsigned));
          return arith::AddIOp::create(b, l, args.back(),
                                       arith::MulIOp::create(b, l, x, y));
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// dequantize_blocks (where no product reads it directly): each element,
/// less the zero point of its block along the axis if any, times the
/// block's scale.
struct DequantizeBlocksLowering : OpConversionPattern<DequantizeBlocksOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DequantizeBlocksOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    RankedTensorType type = convertTensorType(op.getType());
    int64_t rank = type.getRank();
    int64_t axis = op.getAxis() < 0 ? op.getAxis() + rank : op.getAxis();
    bool isUnsigned = isUnsignedLike(op.getInput().getType().getElementType());
    SmallVector<AffineExpr> scaleExprs;
    for (int64_t d = 0; d < rank; ++d) {
      AffineExpr e = getAffineDimExpr(d, context);
      scaleExprs.push_back(d == axis ? e.floorDiv(op.getBlockSize()) : e);
    }
    AffineMap identity = rewriter.getMultiDimIdentityMap(rank);
    AffineMap blockMap = AffineMap::get(rank, 0, scaleExprs, context);
    SmallVector<Value> inputs = {adaptor.getInput(), adaptor.getScale()};
    SmallVector<AffineMap> maps = {identity, blockMap};
    if (adaptor.getZeroPoint()) {
      inputs.push_back(adaptor.getZeroPoint());
      maps.push_back(blockMap);
    }
    maps.push_back(identity);
    Value init = emptyTensor(rewriter, loc, type,
                             getDims(rewriter, loc, adaptor.getInput()));
    Value result =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{type}, inputs, ValueRange{init}, maps,
            SmallVector<utils::IteratorType>(rank,
                                             utils::IteratorType::parallel),
            [&](OpBuilder &b, Location l, ValueRange args) {
              Type element = type.getElementType();
              auto toFloat = [&](Value v) -> Value {
                if (isUnsigned)
                  return arith::UIToFPOp::create(b, l, element, v);
                return arith::SIToFPOp::create(b, l, element, v);
              };
              Value x = toFloat(args[0]);
              if (args.size() == 4)
                x = arith::SubFOp::create(b, l, x, toFloat(args[2]));
              linalg::YieldOp::create(
                  b, l, arith::MulFOp::create(b, l, x, args[1]).getResult());
            })
            .getResult(0);
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// gemm: alpha * op(A) op(B) + beta * C as a contraction generic followed by
/// a broadcasting epilogue.
struct GemmLowering : OpConversionPattern<GemmOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GemmOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value a = adaptor.getA(), b = adaptor.getB();
    RankedTensorType resultType = convertTensorType(op.getType());
    Type element = resultType.getElementType();
    bool transA = op.getTransA(), transB = op.getTransB();
    SmallVector<OpFoldResult> dims = {
        tensor::getMixedSize(rewriter, loc, a, transA ? 1 : 0),
        tensor::getMixedSize(rewriter, loc, b, transB ? 0 : 1)};
    Value init = zeros(rewriter, loc, resultType, dims);
    AffineExpr m = getAffineDimExpr(0, context),
               n = getAffineDimExpr(1, context),
               k = getAffineDimExpr(2, context);
    SmallVector<AffineMap> maps = {
        AffineMap::get(3, 0, transA ? ArrayRef{k, m} : ArrayRef{m, k}, context),
        AffineMap::get(3, 0, transB ? ArrayRef{n, k} : ArrayRef{k, n}, context),
        AffineMap::get(3, 0, {m, n}, context)};
    Value product =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{resultType}, ValueRange{a, b},
            ValueRange{init}, maps,
            {utils::IteratorType::parallel, utils::IteratorType::parallel,
             utils::IteratorType::reduction},
            [&](OpBuilder &bb, Location l, ValueRange args) {
              linalg::YieldOp::create(
                  bb, l,
                  multiplyAdd(bb, l, element, args[0], args[1], args[2]));
            })
            .getResult(0);
    double alpha = op.getAlphaAttr().getValueAsDouble();
    double beta = op.getBetaAttr().getValueAsDouble();
    SmallVector<Value> inputs = {product};
    bool hasC = adaptor.getC() && beta != 0;
    if (hasC)
      inputs.push_back(adaptor.getC());
    if (adaptor.getResidual())
      inputs.push_back(adaptor.getResidual());
    auto activate = [&](Value v) {
      return applyActivation(rewriter, loc, v, op.getType().getElementType(),
                             op.getActivation(), op.getActivationParams());
    };
    if (alpha == 1 && inputs.size() == 1) {
      rewriter.replaceOp(op, activate(product));
      return success();
    }
    bool isFloat = isa<FloatType>(element);
    Value result = buildBroadcastGeneric(
        rewriter, loc, resultType, inputs,
        [&](OpBuilder &bb, Location l, ValueRange args) {
          auto mul = [&](Value x, double s) -> Value {
            if (s == 1)
              return x;
            Value c = scalarConstant(bb, l, element, s);
            return isFloat ? (Value)arith::MulFOp::create(bb, l, x, c)
                           : (Value)arith::MulIOp::create(bb, l, x, c);
          };
          auto add = [&](Value x, Value y) {
            return isFloat ? (Value)arith::AddFOp::create(bb, l, x, y)
                           : (Value)arith::AddIOp::create(bb, l, x, y);
          };
          Value v = mul(args[0], alpha);
          if (hasC)
            v = add(v, mul(args[1], beta));
          if (adaptor.getResidual())
            v = add(v, args.back());
          return v;
        },
        dims);
    rewriter.replaceOp(op, activate(result));
    return success();
  }
};

} // namespace

void to_linalg::populateLinearAlgebraPatterns(KilnTypeConverter &converter,
                                              RewritePatternSet &patterns) {
  patterns.add<MatMulLowering, MatMulIntegerLowering, GemmLowering,
               DequantizeBlocksLowering>(converter, patterns.getContext());
}
