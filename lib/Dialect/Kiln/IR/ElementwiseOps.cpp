//===- ElementwiseOps.cpp - constants, casts and elementwise kiln ops -----===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"

using namespace mlir;
using namespace kiln;

/// An i64-like integer elements attribute of `type` holding `values`.
static DenseElementsAttr makeIntElements(RankedTensorType type,
                                         ArrayRef<int64_t> values) {
  auto intType = cast<IntegerType>(type.getElementType());
  SmallVector<APInt> bits;
  for (int64_t v : values)
    bits.push_back(APInt(intType.getWidth(), v, /*isSigned=*/true,
                         /*implicitTrunc=*/true));
  return DenseElementsAttr::get(type, bits);
}

//===----------------------------------------------------------------------===//
// ConstantOp
//===----------------------------------------------------------------------===//

LogicalResult ConstantOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location> location,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  ElementsAttr value = adaptor.getValue();
  if (!value)
    return emitOptionalError(location, "requires a 'value' attribute");
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type)
    return emitOptionalError(location, "value must be a ranked tensor");
  types.push_back(type);
  return success();
}

OpFoldResult ConstantOp::fold(FoldAdaptor) { return getValue(); }

//===----------------------------------------------------------------------===//
// ShapeOp
//===----------------------------------------------------------------------===//

std::pair<int64_t, int64_t> kiln::shapeRange(int64_t rank, int64_t start,
                                             std::optional<int64_t> end) {
  auto clampDim = [&](int64_t d) {
    if (d < 0)
      d += rank;
    return std::clamp<int64_t>(d, 0, rank);
  };
  int64_t s = clampDim(start);
  int64_t e = end ? clampDim(*end) : rank;
  return {s, std::max(s, e)};
}

LogicalResult ShapeOp::inferReturnTypes(MLIRContext *context,
                                        std::optional<Location>,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto type = cast<RankedTensorType>(adaptor.getInput().getType());
  auto [start, end] =
      shapeRange(type.getRank(), adaptor.getStart(), adaptor.getEnd());
  types.push_back(
      RankedTensorType::get({end - start}, IntegerType::get(context, 64)));
  return success();
}

OpFoldResult ShapeOp::fold(FoldAdaptor) {
  auto type = getInput().getType();
  auto [start, end] = shapeRange(type.getRank(), getStart(), getEnd());
  ArrayRef<int64_t> dims = type.getShape().slice(start, end - start);
  if (ShapedType::isDynamicShape(dims) || !getType().hasStaticShape())
    return {};
  return makeIntElements(getType(), dims);
}

//===----------------------------------------------------------------------===//
// CastOp
//===----------------------------------------------------------------------===//

LogicalResult CastOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto type = cast<RankedTensorType>(adaptor.getInput().getType());
  types.push_back(type.clone(adaptor.getTo()));
  return success();
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType())
    return getInput();
  // Integer-to-integer casts of small constants (shape arithmetic).
  if (!getType().getElementType().isInteger() ||
      getType().getNumElements() > kMaxFoldElements ||
      !getType().hasStaticShape())
    return {};
  std::optional<SmallVector<int64_t>> values = getIntValues(adaptor.getInput());
  if (!values)
    return {};
  if (getType().getElementType().isInteger(1))
    for (int64_t &v : *values)
      v = v != 0;
  return makeIntElements(getType(), *values);
}

//===----------------------------------------------------------------------===//
// ClipOp
//===----------------------------------------------------------------------===//

LogicalResult ClipOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                       Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult ClipOp::verify() {
  for (Value bound : {getMin(), getMax()}) {
    if (!bound)
      continue;
    auto type = cast<RankedTensorType>(bound.getType());
    if (type.getElementType() != getInput().getType().getElementType())
      return emitOpError("bound type ")
             << type << " does not match the input's element type";
    if (type.getRank() > 1 ||
        (type.hasStaticShape() && type.getNumElements() != 1))
      return emitOpError("bounds must be scalars, got ") << type;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// WhereOp
//===----------------------------------------------------------------------===//

LogicalResult WhereOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> location,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  return inferBroadcastResult(
      location, {adaptor.getCondition(), adaptor.getLhs(), adaptor.getRhs()},
      getElementTypeOrSelf(adaptor.getLhs().getType()), types);
}

//===----------------------------------------------------------------------===//
// Arithmetic folders
//===----------------------------------------------------------------------===//

/// Folds a broadcasting integer binary op over small constants with `fn`;
/// `fn` returns std::nullopt where the result is undefined (division by 0).
template <typename Fn>
static OpFoldResult foldIntBinary(RankedTensorType resultType, Attribute lhs,
                                  Attribute rhs, Fn fn) {
  if (!resultType.getElementType().isSignlessInteger() ||
      !resultType.hasStaticShape() ||
      resultType.getNumElements() > kMaxFoldElements)
    return {};
  auto lhsAttr = dyn_cast_if_present<ElementsAttr>(lhs);
  auto rhsAttr = dyn_cast_if_present<ElementsAttr>(rhs);
  std::optional<SmallVector<int64_t>> a = getIntValues(lhs);
  std::optional<SmallVector<int64_t>> b = getIntValues(rhs);
  if (!a || !b)
    return {};
  auto lhsType = cast<ShapedType>(lhsAttr.getType());
  auto rhsType = cast<ShapedType>(rhsAttr.getType());
  ArrayRef<int64_t> shape = resultType.getShape();
  int64_t rank = shape.size();
  // Index into an operand broadcast to `shape`.
  auto element = [&](ShapedType type, ArrayRef<int64_t> values,
                     ArrayRef<int64_t> index) {
    int64_t offset = 0;
    int64_t lead = rank - type.getRank();
    for (int64_t d = 0; d < type.getRank(); ++d) {
      int64_t extent = type.getDimSize(d);
      offset = offset * extent + (extent == 1 ? 0 : index[lead + d]);
    }
    return values[offset];
  };
  SmallVector<int64_t> result;
  SmallVector<int64_t> index(rank, 0);
  for (int64_t i = 0, e = resultType.getNumElements(); i < e; ++i) {
    std::optional<int64_t> v =
        fn(element(lhsType, *a, index), element(rhsType, *b, index));
    if (!v)
      return {};
    result.push_back(*v);
    for (int64_t d = rank - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
  return makeIntElements(resultType, result);
}

OpFoldResult AddOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(
      getType(), adaptor.getLhs(), adaptor.getRhs(),
      [](int64_t a, int64_t b) -> std::optional<int64_t> { return a + b; });
}

OpFoldResult SubOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(
      getType(), adaptor.getLhs(), adaptor.getRhs(),
      [](int64_t a, int64_t b) -> std::optional<int64_t> { return a - b; });
}

OpFoldResult MulOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(
      getType(), adaptor.getLhs(), adaptor.getRhs(),
      [](int64_t a, int64_t b) -> std::optional<int64_t> { return a * b; });
}

OpFoldResult DivOp::fold(FoldAdaptor adaptor) {
  // ONNX integer Div truncates toward zero, like C++.
  return foldIntBinary(getType(), adaptor.getLhs(), adaptor.getRhs(),
                       [](int64_t a, int64_t b) -> std::optional<int64_t> {
                         if (b == 0)
                           return std::nullopt;
                         return a / b;
                       });
}

OpFoldResult MaxOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(getType(), adaptor.getLhs(), adaptor.getRhs(),
                       [](int64_t a, int64_t b) -> std::optional<int64_t> {
                         return std::max(a, b);
                       });
}

OpFoldResult MinOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(getType(), adaptor.getLhs(), adaptor.getRhs(),
                       [](int64_t a, int64_t b) -> std::optional<int64_t> {
                         return std::min(a, b);
                       });
}

//===----------------------------------------------------------------------===//
// Compare and logical folders
//===----------------------------------------------------------------------===//
//
// Conditions computed from static shapes (an If on `Shape(x)[1] == 512`)
// fold, so that If imports only the branch taken.

OpFoldResult EqualOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(
      getType(), adaptor.getLhs(), adaptor.getRhs(),
      [](int64_t a, int64_t b) -> std::optional<int64_t> { return a == b; });
}

OpFoldResult LessOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(
      getType(), adaptor.getLhs(), adaptor.getRhs(),
      [](int64_t a, int64_t b) -> std::optional<int64_t> { return a < b; });
}

OpFoldResult LessOrEqualOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(
      getType(), adaptor.getLhs(), adaptor.getRhs(),
      [](int64_t a, int64_t b) -> std::optional<int64_t> { return a <= b; });
}

OpFoldResult GreaterOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(
      getType(), adaptor.getLhs(), adaptor.getRhs(),
      [](int64_t a, int64_t b) -> std::optional<int64_t> { return a > b; });
}

OpFoldResult GreaterOrEqualOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(
      getType(), adaptor.getLhs(), adaptor.getRhs(),
      [](int64_t a, int64_t b) -> std::optional<int64_t> { return a >= b; });
}

OpFoldResult AndOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(getType(), adaptor.getLhs(), adaptor.getRhs(),
                       [](int64_t a, int64_t b) -> std::optional<int64_t> {
                         return a != 0 && b != 0;
                       });
}

OpFoldResult OrOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(getType(), adaptor.getLhs(), adaptor.getRhs(),
                       [](int64_t a, int64_t b) -> std::optional<int64_t> {
                         return a != 0 || b != 0;
                       });
}

OpFoldResult XorOp::fold(FoldAdaptor adaptor) {
  return foldIntBinary(getType(), adaptor.getLhs(), adaptor.getRhs(),
                       [](int64_t a, int64_t b) -> std::optional<int64_t> {
                         return (a != 0) != (b != 0);
                       });
}

OpFoldResult NotOp::fold(FoldAdaptor adaptor) {
  if (!getType().hasStaticShape() ||
      getType().getNumElements() > kMaxFoldElements)
    return {};
  std::optional<SmallVector<int64_t>> values =
      getIntValues(adaptor.getInput());
  if (!values)
    return {};
  for (int64_t &v : *values)
    v = v == 0;
  return makeIntElements(getType(), *values);
}

//===----------------------------------------------------------------------===//
// SizeOp
//===----------------------------------------------------------------------===//

LogicalResult SizeOp::inferReturnTypes(MLIRContext *context,
                                       std::optional<Location>, Adaptor,
                                       SmallVectorImpl<Type> &types) {
  types.push_back(RankedTensorType::get({}, IntegerType::get(context, 64)));
  return success();
}

OpFoldResult SizeOp::fold(FoldAdaptor) {
  RankedTensorType type = getInput().getType();
  if (!type.hasStaticShape())
    return {};
  return makeIntElements(getType(), {type.getNumElements()});
}

OpFoldResult NegOp::fold(FoldAdaptor adaptor) {
  // Small signed integer constants (shape arithmetic).
  if (!getType().getElementType().isSignlessInteger() ||
      !getType().hasStaticShape() ||
      getType().getNumElements() > kMaxFoldElements)
    return {};
  std::optional<SmallVector<int64_t>> values = getIntValues(adaptor.getInput());
  if (!values)
    return {};
  for (int64_t &v : *values)
    v = -v;
  return makeIntElements(getType(), *values);
}
