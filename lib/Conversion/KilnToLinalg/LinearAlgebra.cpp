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

/// matmul: 2-D operands become linalg.matmul; batched ones a generic whose
/// batch dims broadcast. 1-D operands are promoted to matrices and the
/// added dim is dropped from the result.
struct MatMulLowering : OpConversionPattern<MatMulOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(MatMulOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value lhs = adaptor.getLhs(), rhs = adaptor.getRhs();
    auto lhsType = cast<RankedTensorType>(lhs.getType());
    auto rhsType = cast<RankedTensorType>(rhs.getType());
    Type element = lhsType.getElementType();
    bool lhsVector = lhsType.getRank() == 1, rhsVector = rhsType.getRank() == 1;
    if (lhsVector) {
      auto type = RankedTensorType::get({1, lhsType.getDimSize(0)}, element);
      lhs = tensor::ExpandShapeOp::create(
          rewriter, loc, type, lhs, ArrayRef<ReassociationIndices>{{0, 1}},
          {rewriter.getIndexAttr(1),
           tensor::getMixedSize(rewriter, loc, lhs, 0)});
      lhsType = type;
    }
    if (rhsVector) {
      auto type = RankedTensorType::get({rhsType.getDimSize(0), 1}, element);
      rhs = tensor::ExpandShapeOp::create(
          rewriter, loc, type, rhs, ArrayRef<ReassociationIndices>{{0, 1}},
          {tensor::getMixedSize(rewriter, loc, rhs, 0),
           rewriter.getIndexAttr(1)});
      rhsType = type;
    }
    int64_t batch = std::max(lhsType.getRank(), rhsType.getRank()) - 2;
    // The promoted result: batch dims, then M and N.
    SmallVector<int64_t> shape;
    RankedTensorType resultType = convertTensorType(op.getType());
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
    Value init = vector
                     ? zeros(rewriter, loc, promotedType, dims)
                     : epilogueInit(rewriter, loc, promotedType, dims,
                                    adaptor.getBias(), adaptor.getResidual());

    Value result;
    if (batch == 0) {
      result = linalg::MatmulOp::create(rewriter, loc, TypeRange{promotedType},
                                        ValueRange{lhs, rhs}, ValueRange{init})
                   .getResult(0);
    } else {
      // Loops: batch..., m, n, k.
      int64_t loops = batch + 3;
      auto dim = [&](int64_t i) { return getAffineDimExpr(i, context); };
      auto operandMap = [&](RankedTensorType t, AffineExpr row,
                            AffineExpr col) {
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
      SmallVector<AffineMap> maps = {
          operandMap(lhsType, dim(batch), dim(batch + 2)),
          operandMap(rhsType, dim(batch + 2), dim(batch + 1)),
          AffineMap::get(loops, 0, outExprs, context)};
      SmallVector<utils::IteratorType> iterators(loops,
                                                 utils::IteratorType::parallel);
      iterators.back() = utils::IteratorType::reduction;
      result = linalg::GenericOp::create(
                   rewriter, loc, TypeRange{promotedType}, ValueRange{lhs, rhs},
                   ValueRange{init}, maps, iterators,
                   [&](OpBuilder &b, Location l, ValueRange args) {
                     linalg::YieldOp::create(
                         b, l,
                         multiplyAdd(b, l, element, args[0], args[1], args[2]));
                   })
                   .getResult(0);
    }
    if (lhsVector || rhsVector) {
      SmallVector<OpFoldResult> resultDims(dims);
      if (rhsVector)
        resultDims.erase(resultDims.end() - 1);
      if (lhsVector)
        resultDims.erase(resultDims.end() - (rhsVector ? 1 : 2));
      result = reshapeTo(rewriter, loc, result, resultType, resultDims);
      SmallVector<Value> terms = {result};
      for (Value v : {adaptor.getBias(), adaptor.getResidual()})
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
    result =
        applyActivation(rewriter, loc, result, op.getType().getElementType(),
                        op.getActivation(), op.getActivationParams());
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
  patterns.add<MatMulLowering, GemmLowering>(converter, patterns.getContext());
}
