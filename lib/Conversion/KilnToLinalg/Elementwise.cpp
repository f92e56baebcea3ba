//===- Elementwise.cpp - kiln elementwise ops to linalg.generic -----------===//
//
// Every elementwise kiln op becomes one broadcasting linalg.generic whose
// body is the scalar computation below; constants, casts and shapes too.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::to_linalg;

namespace {

/// Scalar building blocks.
struct Scalar {
  OpBuilder &b;
  Location loc;
  Type type; // The kiln element type of the computation.

  bool isFloat() const { return isa<FloatType>(type); }
  Value c(double v) const {
    return scalarConstant(b, loc, toSignless(type), v);
  }
  Value add(Value x, Value y) const {
    return isFloat() ? (Value)arith::AddFOp::create(b, loc, x, y)
                     : (Value)arith::AddIOp::create(b, loc, x, y);
  }
  Value sub(Value x, Value y) const {
    return isFloat() ? (Value)arith::SubFOp::create(b, loc, x, y)
                     : (Value)arith::SubIOp::create(b, loc, x, y);
  }
  Value mul(Value x, Value y) const {
    return isFloat() ? (Value)arith::MulFOp::create(b, loc, x, y)
                     : (Value)arith::MulIOp::create(b, loc, x, y);
  }
  Value div(Value x, Value y) const {
    if (isFloat())
      return arith::DivFOp::create(b, loc, x, y);
    if (isUnsignedLike(type))
      return arith::DivUIOp::create(b, loc, x, y);
    return arith::DivSIOp::create(b, loc, x, y);
  }
  Value max(Value x, Value y) const {
    if (isFloat())
      return arith::MaximumFOp::create(b, loc, x, y);
    if (isUnsignedLike(type))
      return arith::MaxUIOp::create(b, loc, x, y);
    return arith::MaxSIOp::create(b, loc, x, y);
  }
  Value min(Value x, Value y) const {
    if (isFloat())
      return arith::MinimumFOp::create(b, loc, x, y);
    if (isUnsignedLike(type))
      return arith::MinUIOp::create(b, loc, x, y);
    return arith::MinSIOp::create(b, loc, x, y);
  }
  /// Comparison with the float predicate `f` or the integer predicates.
  Value cmp(arith::CmpFPredicate f, arith::CmpIPredicate s,
            arith::CmpIPredicate u, Value x, Value y) const {
    if (isFloat())
      return arith::CmpFOp::create(b, loc, f, x, y);
    return arith::CmpIOp::create(b, loc, isUnsignedLike(type) ? u : s, x, y);
  }
  Value select(Value c, Value x, Value y) const {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
};

/// The scalar computation of each elementwise op; `args` are its operands'
/// elements in operand order.
Value compute(ReluOp, Scalar s, ValueRange a) { return s.max(a[0], s.c(0)); }
Value compute(SigmoidOp, Scalar s, ValueRange a) {
  Value e =
      math::ExpOp::create(s.b, s.loc, arith::NegFOp::create(s.b, s.loc, a[0]));
  return arith::DivFOp::create(s.b, s.loc, s.c(1), s.add(s.c(1), e));
}
Value compute(TanhOp, Scalar s, ValueRange a) {
  return math::TanhOp::create(s.b, s.loc, a[0]);
}
Value compute(ExpOp, Scalar s, ValueRange a) {
  return math::ExpOp::create(s.b, s.loc, a[0]);
}
Value compute(LogOp, Scalar s, ValueRange a) {
  return math::LogOp::create(s.b, s.loc, a[0]);
}
Value compute(SqrtOp, Scalar s, ValueRange a) {
  return math::SqrtOp::create(s.b, s.loc, a[0]);
}
Value compute(ReciprocalOp, Scalar s, ValueRange a) {
  return s.div(s.c(1), a[0]);
}
Value compute(ErfOp, Scalar s, ValueRange a) {
  return math::ErfOp::create(s.b, s.loc, a[0]);
}
Value compute(NegOp, Scalar s, ValueRange a) {
  if (s.isFloat())
    return arith::NegFOp::create(s.b, s.loc, a[0]);
  return s.sub(s.c(0), a[0]);
}
Value compute(AbsOp, Scalar s, ValueRange a) {
  if (s.isFloat())
    return math::AbsFOp::create(s.b, s.loc, a[0]);
  if (isUnsignedLike(s.type))
    return a[0];
  return math::AbsIOp::create(s.b, s.loc, a[0]);
}
Value compute(HardSwishOp, Scalar s, ValueRange a) {
  Value t = s.add(s.mul(a[0], s.c(1.0 / 6.0)), s.c(0.5));
  return s.mul(a[0], s.max(s.c(0), s.min(s.c(1), t)));
}
Value compute(LeakyReluOp op, Scalar s, ValueRange a) {
  Value positive = s.cmp(arith::CmpFPredicate::OGE, {}, {}, a[0], s.c(0));
  return s.select(positive, a[0],
                  s.mul(a[0], s.c(op.getAlphaAttr().getValueAsDouble())));
}
Value compute(HardSigmoidOp op, Scalar s, ValueRange a) {
  Value t = s.add(s.mul(a[0], s.c(op.getAlphaAttr().getValueAsDouble())),
                  s.c(op.getBetaAttr().getValueAsDouble()));
  return s.max(s.c(0), s.min(s.c(1), t));
}
Value gelu(Scalar s, Value x, bool tanhForm) {
  Value inner;
  if (tanhForm) {
    Value cube = s.mul(x, s.mul(x, x));
    Value t =
        s.mul(s.c(std::sqrt(2.0 / M_PI)), s.add(x, s.mul(s.c(0.044715), cube)));
    inner = math::TanhOp::create(s.b, s.loc, t);
  } else {
    inner = math::ErfOp::create(s.b, s.loc, s.mul(x, s.c(M_SQRT1_2)));
  }
  return s.mul(s.mul(s.c(0.5), x), s.add(s.c(1), inner));
}
Value compute(GeluOp op, Scalar s, ValueRange a) {
  return gelu(s, a[0], op.getApproximate() == "tanh");
}
Value compute(ClipOp op, Scalar s, ValueRange a) {
  Value x = a[0];
  unsigned next = 1;
  // NaN stays NaN: compare-and-select keeps x when the bound does not apply.
  if (op.getMin()) {
    Value below = s.cmp(arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
                        arith::CmpIPredicate::ult, x, a[next]);
    x = s.select(below, a[next++], x);
  }
  if (op.getMax()) {
    Value above = s.cmp(arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
                        arith::CmpIPredicate::ugt, x, a[next]);
    x = s.select(above, a[next], x);
  }
  return x;
}
Value compute(AcosOp, Scalar s, ValueRange a) {
  return math::AcosOp::create(s.b, s.loc, a[0]);
}
Value compute(AcoshOp, Scalar s, ValueRange a) {
  return math::AcoshOp::create(s.b, s.loc, a[0]);
}
Value compute(AsinOp, Scalar s, ValueRange a) {
  return math::AsinOp::create(s.b, s.loc, a[0]);
}
Value compute(AsinhOp, Scalar s, ValueRange a) {
  return math::AsinhOp::create(s.b, s.loc, a[0]);
}
Value compute(AtanOp, Scalar s, ValueRange a) {
  return math::AtanOp::create(s.b, s.loc, a[0]);
}
Value compute(AtanhOp, Scalar s, ValueRange a) {
  return math::AtanhOp::create(s.b, s.loc, a[0]);
}
Value compute(CosOp, Scalar s, ValueRange a) {
  return math::CosOp::create(s.b, s.loc, a[0]);
}
Value compute(CoshOp, Scalar s, ValueRange a) {
  return math::CoshOp::create(s.b, s.loc, a[0]);
}
Value compute(SinOp, Scalar s, ValueRange a) {
  return math::SinOp::create(s.b, s.loc, a[0]);
}
Value compute(SinhOp, Scalar s, ValueRange a) {
  return math::SinhOp::create(s.b, s.loc, a[0]);
}
Value compute(TanOp, Scalar s, ValueRange a) {
  return math::TanOp::create(s.b, s.loc, a[0]);
}
Value compute(CeilOp, Scalar s, ValueRange a) {
  return math::CeilOp::create(s.b, s.loc, a[0]);
}
Value compute(FloorOp, Scalar s, ValueRange a) {
  return math::FloorOp::create(s.b, s.loc, a[0]);
}
Value compute(RoundOp, Scalar s, ValueRange a) {
  return math::RoundEvenOp::create(s.b, s.loc, a[0]);
}
/// log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|)) so that large
/// inputs do not overflow.
Value softplus(Scalar s, Value x) {
  Value negAbs =
      arith::NegFOp::create(s.b, s.loc, math::AbsFOp::create(s.b, s.loc, x));
  Value tail = math::Log1pOp::create(s.b, s.loc,
                                     math::ExpOp::create(s.b, s.loc, negAbs));
  return s.add(s.max(x, s.c(0)), tail);
}
Value compute(SoftplusOp, Scalar s, ValueRange a) { return softplus(s, a[0]); }
Value compute(SoftsignOp, Scalar s, ValueRange a) {
  return s.div(a[0], s.add(s.c(1), math::AbsFOp::create(s.b, s.loc, a[0])));
}
Value compute(MishOp, Scalar s, ValueRange a) {
  return s.mul(a[0], math::TanhOp::create(s.b, s.loc, softplus(s, a[0])));
}
Value compute(SignOp, Scalar s, ValueRange a) {
  Value positive = s.cmp(arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
                         arith::CmpIPredicate::ugt, a[0], s.c(0));
  Value negative = s.cmp(arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
                         arith::CmpIPredicate::ult, a[0], s.c(0));
  return s.select(positive, s.c(1), s.select(negative, s.c(-1), s.c(0)));
}
Value compute(NotOp, Scalar s, ValueRange a) {
  return arith::XOrIOp::create(s.b, s.loc, a[0], s.c(1));
}
Value compute(BitwiseNotOp, Scalar s, ValueRange a) {
  return arith::XOrIOp::create(s.b, s.loc, a[0], s.c(-1));
}
Value compute(IsNaNOp, Scalar s, ValueRange a) {
  return arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::UNO, a[0],
                               a[0]);
}
Value compute(IsInfOp op, Scalar s, ValueRange a) {
  Value result = scalarConstant(s.b, s.loc, s.b.getI1Type(), 0);
  auto inf = [&](bool negative) {
    auto type = cast<FloatType>(s.type);
    return arith::ConstantOp::create(
        s.b, s.loc,
        s.b.getFloatAttr(type,
                         APFloat::getInf(type.getFloatSemantics(), negative)));
  };
  if (op.getDetectPositive())
    result = arith::OrIOp::create(
        s.b, s.loc, result,
        arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::OEQ, a[0],
                              inf(false)));
  if (op.getDetectNegative())
    result = arith::OrIOp::create(
        s.b, s.loc, result,
        arith::CmpFOp::create(s.b, s.loc, arith::CmpFPredicate::OEQ, a[0],
                              inf(true)));
  return result;
}
Value compute(EluOp op, Scalar s, ValueRange a) {
  double alpha = op.getAlphaAttr().getValueAsDouble();
  Value negative =
      s.mul(s.c(alpha), s.sub(math::ExpOp::create(s.b, s.loc, a[0]), s.c(1)));
  return s.select(s.cmp(arith::CmpFPredicate::OGE, {}, {}, a[0], s.c(0)), a[0],
                  negative);
}
Value compute(SeluOp op, Scalar s, ValueRange a) {
  double alpha = op.getAlphaAttr().getValueAsDouble();
  double gamma = op.getGammaAttr().getValueAsDouble();
  Value negative =
      s.mul(s.c(alpha), s.sub(math::ExpOp::create(s.b, s.loc, a[0]), s.c(1)));
  Value v = s.select(s.cmp(arith::CmpFPredicate::OGT, {}, {}, a[0], s.c(0)),
                     a[0], negative);
  return s.mul(s.c(gamma), v);
}
Value compute(CeluOp op, Scalar s, ValueRange a) {
  double alpha = op.getAlphaAttr().getValueAsDouble();
  Value e = math::ExpOp::create(s.b, s.loc, s.div(a[0], s.c(alpha)));
  Value negative = s.min(s.c(0), s.mul(s.c(alpha), s.sub(e, s.c(1))));
  return s.add(s.max(s.c(0), a[0]), negative);
}
Value compute(ThresholdedReluOp op, Scalar s, ValueRange a) {
  double alpha = op.getAlphaAttr().getValueAsDouble();
  return s.select(s.cmp(arith::CmpFPredicate::OGT, {}, {}, a[0], s.c(alpha)),
                  a[0], s.c(0));
}
Value compute(ShrinkOp op, Scalar s, ValueRange a) {
  double bias = op.getBiasAttr().getValueAsDouble();
  double lambd = op.getLambdAttr().getValueAsDouble();
  Value below = s.cmp(arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
                      arith::CmpIPredicate::ult, a[0], s.c(-lambd));
  Value above = s.cmp(arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
                      arith::CmpIPredicate::ugt, a[0], s.c(lambd));
  return s.select(below, s.add(a[0], s.c(bias)),
                  s.select(above, s.sub(a[0], s.c(bias)), s.c(0)));
}
Value compute(AndOp, Scalar s, ValueRange a) {
  return arith::AndIOp::create(s.b, s.loc, a[0], a[1]);
}
Value compute(OrOp, Scalar s, ValueRange a) {
  return arith::OrIOp::create(s.b, s.loc, a[0], a[1]);
}
Value compute(XorOp, Scalar s, ValueRange a) {
  return arith::XOrIOp::create(s.b, s.loc, a[0], a[1]);
}
Value compute(BitwiseAndOp, Scalar s, ValueRange a) {
  return arith::AndIOp::create(s.b, s.loc, a[0], a[1]);
}
Value compute(BitwiseOrOp, Scalar s, ValueRange a) {
  return arith::OrIOp::create(s.b, s.loc, a[0], a[1]);
}
Value compute(BitwiseXorOp, Scalar s, ValueRange a) {
  return arith::XOrIOp::create(s.b, s.loc, a[0], a[1]);
}
Value compute(PReluOp, Scalar s, ValueRange a) {
  Value negative = s.cmp(arith::CmpFPredicate::OLT, {}, {}, a[0], s.c(0));
  return s.select(negative, s.mul(a[0], a[1]), a[0]);
}
Value compute(ModOp op, Scalar s, ValueRange a) {
  if (s.isFloat())
    return arith::RemFOp::create(s.b, s.loc, a[0], a[1]);
  if (isUnsignedLike(s.type))
    return arith::RemUIOp::create(s.b, s.loc, a[0], a[1]);
  Value r = arith::RemSIOp::create(s.b, s.loc, a[0], a[1]);
  if (op.getFmod())
    return r;
  // Python's %: a non-zero remainder takes the divisor's sign.
  Value zero = s.c(0);
  Value rNegative =
      arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::slt, r, zero);
  Value bNegative =
      arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::slt, a[1], zero);
  Value nonZero =
      arith::CmpIOp::create(s.b, s.loc, arith::CmpIPredicate::ne, r, zero);
  Value differ = arith::XOrIOp::create(s.b, s.loc, rNegative, bNegative);
  Value adjust = arith::AndIOp::create(s.b, s.loc, nonZero, differ);
  return s.select(adjust, s.add(r, a[1]), r);
}
Value compute(BitShiftOp op, Scalar s, ValueRange a) {
  if (op.getDirection() == "left")
    return arith::ShLIOp::create(s.b, s.loc, a[0], a[1]);
  return arith::ShRUIOp::create(s.b, s.loc, a[0], a[1]);
}
Value compute(AddOp, Scalar s, ValueRange a) { return s.add(a[0], a[1]); }
Value compute(SubOp, Scalar s, ValueRange a) { return s.sub(a[0], a[1]); }
Value compute(MulOp, Scalar s, ValueRange a) { return s.mul(a[0], a[1]); }
Value compute(DivOp, Scalar s, ValueRange a) { return s.div(a[0], a[1]); }
Value compute(MaxOp, Scalar s, ValueRange a) { return s.max(a[0], a[1]); }
Value compute(MinOp, Scalar s, ValueRange a) { return s.min(a[0], a[1]); }
Value compute(PowOp op, Scalar s, ValueRange a) {
  Type baseType = op.getLhs().getType().getElementType();
  Type expType = op.getRhs().getType().getElementType();
  if (s.isFloat()) {
    Value exponent = castScalar(s.b, s.loc, a[1], expType, baseType);
    return math::PowFOp::create(s.b, s.loc, a[0], exponent);
  }
  if (isa<FloatType>(expType)) {
    // An integer base with a float exponent: compute in the float type.
    Value base = castScalar(s.b, s.loc, a[0], baseType, expType);
    Value r = math::PowFOp::create(s.b, s.loc, base, a[1]);
    return castScalar(s.b, s.loc, r, expType, baseType);
  }
  Value exponent = castScalar(s.b, s.loc, a[1], expType, baseType);
  return math::IPowIOp::create(s.b, s.loc, a[0], exponent);
}
Value compute(EqualOp, Scalar s, ValueRange a) {
  return s.cmp(arith::CmpFPredicate::OEQ, arith::CmpIPredicate::eq,
               arith::CmpIPredicate::eq, a[0], a[1]);
}
Value compute(LessOp, Scalar s, ValueRange a) {
  return s.cmp(arith::CmpFPredicate::OLT, arith::CmpIPredicate::slt,
               arith::CmpIPredicate::ult, a[0], a[1]);
}
Value compute(LessOrEqualOp, Scalar s, ValueRange a) {
  return s.cmp(arith::CmpFPredicate::OLE, arith::CmpIPredicate::sle,
               arith::CmpIPredicate::ule, a[0], a[1]);
}
Value compute(GreaterOp, Scalar s, ValueRange a) {
  return s.cmp(arith::CmpFPredicate::OGT, arith::CmpIPredicate::sgt,
               arith::CmpIPredicate::ugt, a[0], a[1]);
}
Value compute(GreaterOrEqualOp, Scalar s, ValueRange a) {
  return s.cmp(arith::CmpFPredicate::OGE, arith::CmpIPredicate::sge,
               arith::CmpIPredicate::uge, a[0], a[1]);
}
Value compute(WhereOp, Scalar s, ValueRange a) {
  return s.select(a[0], a[1], a[2]);
}
Value compute(CastOp op, Scalar s, ValueRange a) {
  return castScalar(s.b, s.loc, a[0], op.getInput().getType().getElementType(),
                    op.getTo());
}

/// The element type an op computes in: its first data operand's.
template <typename OpTy> Type computeType(OpTy op) {
  if constexpr (std::is_same_v<OpTy, WhereOp>)
    return op.getLhs().getType().getElementType();
  else
    return cast<RankedTensorType>(op->getOperand(0).getType()).getElementType();
}

/// Lowers an elementwise op to one broadcasting linalg.generic.
template <typename OpTy>
struct ElementwiseLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    auto resultType =
        convertTensorType(cast<RankedTensorType>(op->getResult(0).getType()));
    Type type = computeType(op);
    Value result = buildBroadcastGeneric(
        rewriter, op.getLoc(), resultType, adaptor.getOperands(),
        [&](OpBuilder &b, Location loc, ValueRange args) {
          return compute(op, Scalar{b, loc, type}, args);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// kiln.constant -> arith.constant (dense_resource stays a resource).
struct ConstantLowering : OpConversionPattern<ConstantOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConstantOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    RankedTensorType type = convertTensorType(op.getType());
    Attribute value = op.getValue();
    // LLVM cannot initialize globals from i1 resource blobs; bool tensors
    // (masks) are small enough to inline.
    if (auto resource = dyn_cast<DenseResourceElementsAttr>(value);
        resource && type.getElementType().isInteger(1)) {
      AsmResourceBlob *blob = resource.getRawHandle().getBlob();
      if (!blob)
        return rewriter.notifyMatchFailure(op, "resource without data");
      SmallVector<bool> bits;
      for (char c : blob->getData())
        bits.push_back(c != 0);
      value = DenseElementsAttr::get(type, bits);
    }
    if (type != op.getType()) {
      // Unsigned data: the same bits under a signless type.
      if (auto dense = dyn_cast<DenseElementsAttr>(value))
        value = dense.bitcast(type.getElementType());
      else if (auto resource = dyn_cast<DenseResourceElementsAttr>(value))
        value = DenseResourceElementsAttr::get(type, resource.getRawHandle());
      else
        return rewriter.notifyMatchFailure(op, "unsupported constant");
    }
    // A splat is a fill, not a global full of copies of one value.
    if (auto dense = dyn_cast<DenseElementsAttr>(value);
        dense && dense.isSplat() && type.getNumElements() > 16) {
      Value scalar = arith::ConstantOp::create(
          rewriter, op.getLoc(), dense.getSplatValue<TypedAttr>());
      rewriter.replaceOp(op,
                         filledTensor(rewriter, op.getLoc(), type, {}, scalar));
      return success();
    }
    // Weights become 1-D globals viewed in their shape: LLVM then gets one
    // flat array straight from the blob instead of nested arrays built
    // element row by row (minutes and gigabytes for a CNN's weights).
    auto resource = dyn_cast<DenseResourceElementsAttr>(value);
    if (resource && type.getRank() > 1 && type.hasStaticShape()) {
      auto flatType =
          RankedTensorType::get({type.getNumElements()}, type.getElementType());
      auto flat = arith::ConstantOp::create(
          rewriter, op.getLoc(), flatType,
          DenseResourceElementsAttr::get(flatType, resource.getRawHandle()));
      ReassociationIndices all;
      for (int64_t d = 0; d < type.getRank(); ++d)
        all.push_back(d);
      rewriter.replaceOpWithNewOp<tensor::ExpandShapeOp>(
          op, type, flat, ArrayRef<ReassociationIndices>{all});
      return success();
    }
    rewriter.replaceOpWithNewOp<arith::ConstantOp>(op, type,
                                                   cast<TypedAttr>(value));
    return success();
  }
};

/// kiln.shape -> tensor.from_elements of the (i64) dims.
struct ShapeLowering : OpConversionPattern<ShapeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ShapeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t rank = op.getInput().getType().getRank();
    int64_t start = op.getStart(), end = op.getEnd().value_or(rank);
    if (start < 0)
      start += rank;
    if (end < 0)
      end += rank;
    start = std::clamp<int64_t>(start, 0, rank);
    end = std::clamp<int64_t>(end, start, rank);
    SmallVector<Value> dims;
    for (int64_t d = start; d < end; ++d) {
      Value dim = tensor::DimOp::create(rewriter, loc, adaptor.getInput(), d);
      dims.push_back(arith::IndexCastOp::create(rewriter, loc,
                                                rewriter.getI64Type(), dim));
    }
    if (dims.empty()) {
      rewriter.replaceOpWithNewOp<tensor::EmptyOp>(op, ArrayRef<int64_t>{0},
                                                   rewriter.getI64Type());
      return success();
    }
    rewriter.replaceOpWithNewOp<tensor::FromElementsOp>(op, op.getType(), dims);
    return success();
  }
};

} // namespace

Value to_linalg::activationScalar(OpBuilder &b, Location loc, Type type,
                                  StringRef activation, ArrayRef<float> params,
                                  Value x) {
  Scalar s{b, loc, type};
  if (activation == "relu")
    return compute(ReluOp(), s, x);
  if (activation == "sigmoid")
    return compute(SigmoidOp(), s, x);
  if (activation == "tanh")
    return compute(TanhOp(), s, x);
  if (activation == "hard_swish")
    return compute(HardSwishOp(), s, x);
  if (activation == "gelu" || activation == "gelu_tanh")
    return gelu(s, x, activation == "gelu_tanh");
  if (activation == "silu")
    return s.mul(x, compute(SigmoidOp(), s, x));
  if (activation == "leaky_relu") {
    Value positive = s.cmp(arith::CmpFPredicate::OGE, {}, {}, x, s.c(0));
    return s.select(positive, x, s.mul(x, s.c(params[0])));
  }
  if (activation == "clip") {
    Value below = s.cmp(arith::CmpFPredicate::OLT, {}, {}, x, s.c(params[0]));
    x = s.select(below, s.c(params[0]), x);
    Value above = s.cmp(arith::CmpFPredicate::OGT, {}, {}, x, s.c(params[1]));
    return s.select(above, s.c(params[1]), x);
  }
  return x;
}

void to_linalg::populateElementwisePatterns(KilnTypeConverter &converter,
                                            RewritePatternSet &patterns) {
  MLIRContext *context = patterns.getContext();
  patterns
      .add<ElementwiseLowering<ReluOp>, ElementwiseLowering<SigmoidOp>,
           ElementwiseLowering<TanhOp>, ElementwiseLowering<ExpOp>,
           ElementwiseLowering<LogOp>, ElementwiseLowering<SqrtOp>,
           ElementwiseLowering<ReciprocalOp>, ElementwiseLowering<ErfOp>,
           ElementwiseLowering<NegOp>, ElementwiseLowering<AbsOp>,
           ElementwiseLowering<HardSwishOp>, ElementwiseLowering<LeakyReluOp>,
           ElementwiseLowering<HardSigmoidOp>, ElementwiseLowering<GeluOp>,
           ElementwiseLowering<ClipOp>, ElementwiseLowering<AddOp>,
           ElementwiseLowering<SubOp>, ElementwiseLowering<MulOp>,
           ElementwiseLowering<DivOp>, ElementwiseLowering<MaxOp>,
           ElementwiseLowering<MinOp>, ElementwiseLowering<PowOp>,
           ElementwiseLowering<EqualOp>, ElementwiseLowering<LessOp>,
           ElementwiseLowering<LessOrEqualOp>, ElementwiseLowering<GreaterOp>,
           ElementwiseLowering<GreaterOrEqualOp>, ElementwiseLowering<WhereOp>,
           ElementwiseLowering<CastOp>, ElementwiseLowering<AcosOp>,
           ElementwiseLowering<AcoshOp>, ElementwiseLowering<AsinOp>,
           ElementwiseLowering<AsinhOp>, ElementwiseLowering<AtanOp>,
           ElementwiseLowering<AtanhOp>, ElementwiseLowering<CosOp>,
           ElementwiseLowering<CoshOp>, ElementwiseLowering<SinOp>,
           ElementwiseLowering<SinhOp>, ElementwiseLowering<TanOp>,
           ElementwiseLowering<CeilOp>, ElementwiseLowering<FloorOp>,
           ElementwiseLowering<RoundOp>, ElementwiseLowering<SoftplusOp>,
           ElementwiseLowering<SoftsignOp>, ElementwiseLowering<MishOp>,
           ElementwiseLowering<SignOp>, ElementwiseLowering<NotOp>,
           ElementwiseLowering<BitwiseNotOp>, ElementwiseLowering<IsNaNOp>,
           ElementwiseLowering<IsInfOp>, ElementwiseLowering<EluOp>,
           ElementwiseLowering<SeluOp>, ElementwiseLowering<CeluOp>,
           ElementwiseLowering<ThresholdedReluOp>,
           ElementwiseLowering<ShrinkOp>, ElementwiseLowering<AndOp>,
           ElementwiseLowering<OrOp>, ElementwiseLowering<XorOp>,
           ElementwiseLowering<BitwiseAndOp>, ElementwiseLowering<BitwiseOrOp>,
           ElementwiseLowering<BitwiseXorOp>, ElementwiseLowering<PReluOp>,
           ElementwiseLowering<ModOp>, ElementwiseLowering<BitShiftOp>,
           ConstantLowering, ShapeLowering>(converter, context);
}
