//===- Utils.cpp - shared helpers of the kiln-to-linalg patterns ----------===//

#include "Utils.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::to_linalg;

Type to_linalg::toSignless(Type type) {
  if (auto intType = dyn_cast<IntegerType>(type))
    if (!intType.isSignless())
      return IntegerType::get(type.getContext(), intType.getWidth());
  return type;
}

RankedTensorType to_linalg::convertTensorType(RankedTensorType type) {
  return type.clone(toSignless(type.getElementType()));
}

KilnTypeConverter::KilnTypeConverter() {
  addConversion([](Type type) { return type; });
  addConversion(
      [](RankedTensorType type) -> Type { return convertTensorType(type); });
  // Signedness changes are bit-preserving: a cast is all it takes.
  auto materialize = [](OpBuilder &b, Type type, ValueRange inputs,
                        Location loc) -> Value {
    return UnrealizedConversionCastOp::create(b, loc, type, inputs)
        .getResult(0);
  };
  addSourceMaterialization(materialize);
  addTargetMaterialization(materialize);
}

SmallVector<OpFoldResult> to_linalg::getDims(OpBuilder &b, Location loc,
                                             Value value) {
  return tensor::getMixedSizes(b, loc, value);
}

SmallVector<Value> to_linalg::getDimValues(OpBuilder &b, Location loc,
                                           Value value) {
  return getValueOrCreateConstantIndexOp(b, loc, getDims(b, loc, value));
}

Value to_linalg::emptyTensor(OpBuilder &b, Location loc, RankedTensorType type,
                             ArrayRef<OpFoldResult> dims) {
  SmallVector<Value> dynamic;
  for (int64_t i = 0; i < type.getRank(); ++i)
    if (type.isDynamicDim(i))
      dynamic.push_back(getValueOrCreateConstantIndexOp(b, loc, dims[i]));
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamic);
}

Value to_linalg::scalarConstant(OpBuilder &b, Location loc, Type type,
                                double value) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(floatType, value));
  if (type.isIndex())
    return arith::ConstantIndexOp::create(b, loc, static_cast<int64_t>(value));
  return arith::ConstantOp::create(
      b, loc, b.getIntegerAttr(type, static_cast<int64_t>(value)));
}

Value to_linalg::extremeConstant(OpBuilder &b, Location loc, Type type,
                                 bool lowest, bool isUnsigned) {
  if (auto floatType = dyn_cast<FloatType>(type))
    return arith::ConstantOp::create(
        b, loc,
        b.getFloatAttr(floatType, APFloat::getInf(floatType.getFloatSemantics(),
                                                  /*Negative=*/lowest)));
  unsigned width = type.getIntOrFloatBitWidth();
  APInt value = isUnsigned ? (lowest ? APInt::getMinValue(width)
                                     : APInt::getMaxValue(width))
                           : (lowest ? APInt::getSignedMinValue(width)
                                     : APInt::getSignedMaxValue(width));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, value));
}

Value to_linalg::filledTensor(OpBuilder &b, Location loc, RankedTensorType type,
                              ArrayRef<OpFoldResult> dims, Value value) {
  Value empty = emptyTensor(b, loc, type, dims);
  return linalg::FillOp::create(b, loc, value, empty).getResult(0);
}

SmallVector<OpFoldResult> to_linalg::broadcastDims(OpBuilder &b, Location loc,
                                                   RankedTensorType type,
                                                   ValueRange inputs) {
  int64_t rank = type.getRank();
  SmallVector<OpFoldResult> dims;
  for (int64_t d = 0; d < rank; ++d) {
    if (!type.isDynamicDim(d)) {
      dims.push_back(b.getIndexAttr(type.getDimSize(d)));
      continue;
    }
    OpFoldResult dim = b.getIndexAttr(1);
    for (Value input : inputs) {
      auto inputType = cast<RankedTensorType>(input.getType());
      int64_t offset = rank - inputType.getRank();
      if (d < offset || inputType.getDimSize(d - offset) == 1)
        continue;
      dim = tensor::getMixedSize(b, loc, input, d - offset);
      break;
    }
    dims.push_back(dim);
  }
  return dims;
}

Value to_linalg::buildBroadcastGeneric(
    OpBuilder &b, Location loc, RankedTensorType type, ValueRange inputs,
    function_ref<Value(OpBuilder &, Location, ValueRange)> body,
    ArrayRef<OpFoldResult> dims) {
  int64_t rank = type.getRank();
  MLIRContext *context = b.getContext();
  SmallVector<AffineMap> maps;
  for (Value input : inputs) {
    auto inputType = cast<RankedTensorType>(input.getType());
    int64_t offset = rank - inputType.getRank();
    SmallVector<AffineExpr> exprs;
    for (int64_t d = 0; d < inputType.getRank(); ++d) {
      bool stretched =
          inputType.getDimSize(d) == 1 && type.getDimSize(d + offset) != 1;
      exprs.push_back(stretched ? getAffineConstantExpr(0, context)
                                : getAffineDimExpr(d + offset, context));
    }
    maps.push_back(AffineMap::get(rank, 0, exprs, context));
  }
  maps.push_back(AffineMap::getMultiDimIdentityMap(rank, context));
  Value init = emptyTensor(
      b, loc, type, dims.empty() ? broadcastDims(b, loc, type, inputs) : dims);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        Value result = body(nested, nestedLoc, args.drop_back());
        linalg::YieldOp::create(nested, nestedLoc, result);
      });
  return generic.getResult(0);
}

Value to_linalg::reshapeTo(OpBuilder &b, Location loc, Value value,
                           RankedTensorType type, ArrayRef<OpFoldResult> dims) {
  auto source = cast<RankedTensorType>(value.getType());
  if (source == type)
    return value;
  if (source.getRank() == 0 || type.getRank() == 0) {
    // A scalar and an all-ones shape differ by unit dims only.
    if (source.getRank() == 0)
      return tensor::ExpandShapeOp::create(
          b, loc, type, value, ArrayRef<ReassociationIndices>{}, dims);
    return tensor::CollapseShapeOp::create(b, loc, type, value,
                                           ArrayRef<ReassociationIndices>{});
  }
  // A dynamic source reshaped to a static type goes through the flat path,
  // which casts to the static element count.
  bool staticFromDynamic = type.hasStaticShape() && !source.hasStaticShape();
  if (std::optional<SmallVector<ReassociationIndices>> groups =
          staticFromDynamic ? std::nullopt
                            : getReassociationIndicesForReshape(source, type)) {
    if (source.getRank() > type.getRank())
      return tensor::CollapseShapeOp::create(b, loc, type, value, *groups);
    // An expand_shape of one group into several dynamic dims does not lower
    // (memref's expand-strided-metadata crashes on it): those go through
    // tensor.reshape below.
    bool lowerable = llvm::all_of(*groups, [&](const ReassociationIndices &g) {
      return llvm::count_if(
                 g, [&](int64_t d) { return type.isDynamicDim(d); }) <= 1;
    });
    if (source.getRank() < type.getRank() && lowerable)
      return tensor::ExpandShapeOp::create(b, loc, type, value, *groups, dims);
  }
  // Several dynamic dims: tensor.reshape with the dims as a shape tensor
  // (expand_shape of one group into several dynamic dims does not lower).
  if (llvm::count(type.getShape(), ShapedType::kDynamic) > 1) {
    SmallVector<Value> extents;
    for (OpFoldResult dim : dims)
      extents.push_back(getValueOrCreateConstantIndexOp(b, loc, dim));
    Value shape = tensor::FromElementsOp::create(b, loc, extents);
    return tensor::ReshapeOp::create(b, loc, type, value, shape);
  }
  // General case: flatten, then split into the target dims.
  ReassociationIndices all;
  for (int64_t i = 0; i < source.getRank(); ++i)
    all.push_back(i);
  int64_t count =
      source.hasStaticShape() ? source.getNumElements() : ShapedType::kDynamic;
  auto flatType = RankedTensorType::get({count}, source.getElementType());
  Value flat =
      tensor::CollapseShapeOp::create(b, loc, flatType, value, ArrayRef{all});
  if (type.getRank() == 1)
    return tensor::CastOp::create(b, loc, type, flat);
  if (type.hasStaticShape() && !flatType.hasStaticShape())
    flat = tensor::CastOp::create(
        b, loc,
        RankedTensorType::get({type.getNumElements()}, source.getElementType()),
        flat);
  else if (!type.hasStaticShape() && flatType.hasStaticShape())
    flat = tensor::CastOp::create(
        b, loc,
        RankedTensorType::get({ShapedType::kDynamic}, source.getElementType()),
        flat);
  ReassociationIndices target;
  for (int64_t i = 0; i < type.getRank(); ++i)
    target.push_back(i);
  return tensor::ExpandShapeOp::create(b, loc, type, flat, ArrayRef{target},
                                       dims);
}

Value to_linalg::toIndex(OpBuilder &b, Location loc, Value value) {
  if (value.getType().isIndex())
    return value;
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), value);
}

Value to_linalg::wrapIndex(OpBuilder &b, Location loc, Value raw,
                           Value extent) {
  Value index = toIndex(b, loc, raw);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value isNegative =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, index, zero);
  return arith::SelectOp::create(
      b, loc, isNegative, arith::AddIOp::create(b, loc, index, extent), index);
}

Value to_linalg::castScalar(OpBuilder &b, Location loc, Value value, Type from,
                            Type to) {
  Type target = toSignless(to);
  if (from == to)
    return value;
  bool fromFloat = isa<FloatType>(from), toFloat = isa<FloatType>(to);
  if (to.isInteger(1)) {
    // Anything to bool is x != 0 (NaN is true).
    if (fromFloat)
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, value,
                                   scalarConstant(b, loc, from, 0));
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne, value,
                                 scalarConstant(b, loc, toSignless(from), 0));
  }
  if (fromFloat && toFloat) {
    unsigned fromWidth = from.getIntOrFloatBitWidth();
    unsigned toWidth = to.getIntOrFloatBitWidth();
    if (fromWidth < toWidth)
      return arith::ExtFOp::create(b, loc, target, value);
    if (fromWidth > toWidth)
      return arith::TruncFOp::create(b, loc, target, value);
    // f16 <-> bf16: through f32.
    Value wide = arith::ExtFOp::create(b, loc, b.getF32Type(), value);
    return arith::TruncFOp::create(b, loc, target, wide);
  }
  if (fromFloat) {
    if (isUnsignedLike(to))
      return arith::FPToUIOp::create(b, loc, target, value);
    return arith::FPToSIOp::create(b, loc, target, value);
  }
  if (toFloat) {
    if (isUnsignedLike(from))
      return arith::UIToFPOp::create(b, loc, target, value);
    return arith::SIToFPOp::create(b, loc, target, value);
  }
  unsigned fromWidth = from.getIntOrFloatBitWidth();
  unsigned toWidth = to.getIntOrFloatBitWidth();
  if (fromWidth == toWidth)
    return value;
  if (fromWidth > toWidth)
    return arith::TruncIOp::create(b, loc, target, value);
  if (isUnsignedLike(from))
    return arith::ExtUIOp::create(b, loc, target, value);
  return arith::ExtSIOp::create(b, loc, target, value);
}

Value to_linalg::epilogueInit(OpBuilder &b, Location loc, RankedTensorType type,
                              ArrayRef<OpFoldResult> dims, Value bias,
                              Value residual) {
  SmallVector<Value> inputs;
  for (Value v : {bias, residual})
    if (v)
      inputs.push_back(v);
  Type element = type.getElementType();
  if (inputs.empty())
    return filledTensor(b, loc, type, dims, scalarConstant(b, loc, element, 0));
  return buildBroadcastGeneric(
      b, loc, type, inputs,
      [&](OpBuilder &nested, Location l, ValueRange args) {
        Value sum = args[0];
        for (Value v : args.drop_front())
          sum = isa<FloatType>(element)
                    ? (Value)arith::AddFOp::create(nested, l, sum, v)
                    : (Value)arith::AddIOp::create(nested, l, sum, v);
        return sum;
      },
      dims);
}

Value to_linalg::applyActivation(OpBuilder &b, Location loc, Value value,
                                 Type kilnElementType, StringRef activation,
                                 ArrayRef<float> params) {
  if (activation == "none")
    return value;
  auto type = cast<RankedTensorType>(value.getType());
  int64_t rank = type.getRank();
  AffineMap identity = b.getMultiDimIdentityMap(rank);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  // An ordinary elementwise generic (the payload does not read its init), so
  // that elementwise fusion folds it into whatever reads the result.
  Value init = emptyTensor(b, loc, type, getDims(b, loc, value));
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{value}, ValueRange{init},
             ArrayRef{identity, identity}, iterators,
             [&](OpBuilder &nested, Location l, ValueRange args) {
               linalg::YieldOp::create(
                   nested, l,
                   activationScalar(nested, l, kilnElementType, activation,
                                    params, args[0]));
             })
      .getResult(0);
}

void to_linalg::trapIf(OpBuilder &b, Operation *op, Value condition,
                       int32_t reason) {
  Location loc = op->getLoc();
  auto module = op->getParentOfType<ModuleOp>();
  constexpr StringLiteral kTrap = "kiln_model_trap";
  Type i32 = b.getI32Type();
  if (!module.lookupSymbol<func::FuncOp>(kTrap)) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    auto trap =
        func::FuncOp::create(b, loc, kTrap, b.getFunctionType({i32}, {}));
    trap.setPrivate();
  }
  scf::IfOp::create(b, loc, condition, [&](OpBuilder &nb, Location l) {
    func::CallOp::create(
        nb, l, kTrap, TypeRange{},
        ValueRange{arith::ConstantIntOp::create(nb, l, i32, reason)});
    scf::YieldOp::create(nb, l);
  });
}

void to_linalg::checkIndices(OpBuilder &b, Operation *op, Value indices,
                             ArrayRef<OpFoldResult> extents) {
  Location loc = op->getLoc();
  auto type = cast<RankedTensorType>(indices.getType());
  auto element = cast<IntegerType>(type.getElementType());
  int64_t rank = type.getRank();
  bool tuples = extents.size() > 1;
  // Constant indices: checked now.
  DenseIntElementsAttr values;
  SmallVector<std::optional<int64_t>> known;
  for (OpFoldResult extent : extents)
    known.push_back(getConstantIntValue(extent));
  if (llvm::all_of(known, [](auto k) { return k.has_value(); }) &&
      matchPattern(indices, m_Constant(&values))) {
    int64_t position = 0;
    bool inRange = true;
    for (const APInt &v : values.getValues<APInt>()) {
      int64_t n = *known[tuples ? position++ % extents.size() : 0];
      int64_t i = v.getSExtValue();
      inRange &= i >= -n && i < n;
    }
    if (inRange)
      return;
  }
  SmallVector<Value> his;
  for (OpFoldResult extent : extents)
    his.push_back(arith::IndexCastOp::create(
        b, loc, element, getValueOrCreateConstantIndexOp(b, loc, extent)));
  Type i1 = b.getI1Type();
  Value none = filledTensor(b, loc, RankedTensorType::get({}, i1), {},
                            arith::ConstantIntOp::create(b, loc, i1, 0));
  MLIRContext *context = b.getContext();
  auto any = linalg::GenericOp::create(
      b, loc, TypeRange{none.getType()}, ValueRange{indices}, ValueRange{none},
      {AffineMap::getMultiDimIdentityMap(rank, context),
       AffineMap::get(rank, 0, {}, context)},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::reduction),
      [&](OpBuilder &nb, Location l, ValueRange args) {
        // The extent of this element's tuple component (the last dim).
        Value hi = his.front();
        if (tuples) {
          Value component = linalg::IndexOp::create(nb, l, rank - 1);
          for (size_t t = 1; t < his.size(); ++t)
            hi = arith::SelectOp::create(
                nb, l,
                arith::CmpIOp::create(
                    nb, l, arith::CmpIPredicate::eq, component,
                    arith::ConstantIndexOp::create(nb, l, (int64_t)t)),
                his[t], hi);
        }
        Value lo = arith::SubIOp::create(
            nb, l, arith::ConstantIntOp::create(nb, l, element, 0), hi);
        Value below = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::slt,
                                            args[0], lo);
        Value above = arith::CmpIOp::create(nb, l, arith::CmpIPredicate::sge,
                                            args[0], hi);
        linalg::YieldOp::create(
            nb, l,
            arith::OrIOp::create(nb, l, args[1],
                                 arith::OrIOp::create(nb, l, below, above))
                .getResult());
      });
  Value bad = tensor::ExtractOp::create(b, loc, any.getResult(0), ValueRange{});
  trapIf(b, op, bad, kTrapIndexOutOfRange);
}
