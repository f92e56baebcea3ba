//===- KilnDialect.cpp - kiln dialect registration and shared helpers -----===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace kiln;

#include "kiln/Dialect/Kiln/IR/KilnDialect.cpp.inc"

void KilnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "kiln/Dialect/Kiln/IR/KilnOps.cpp.inc"
      >();
}

Operation *KilnDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  auto elements = dyn_cast<ElementsAttr>(value);
  if (!elements || elements.getType() != type)
    return nullptr;
  return ConstantOp::create(builder, loc, elements);
}

//===----------------------------------------------------------------------===//
// Shared helpers
//===----------------------------------------------------------------------===//

bool kiln::areCompatibleResultTypes(TypeRange lhs, TypeRange rhs) {
  if (lhs.size() != rhs.size())
    return false;
  for (auto [l, r] : llvm::zip_equal(lhs, rhs)) {
    auto lt = dyn_cast<RankedTensorType>(l);
    auto rt = dyn_cast<RankedTensorType>(r);
    if (!lt || !rt) {
      if (l != r)
        return false;
      continue;
    }
    if (lt.getElementType() != rt.getElementType() ||
        lt.getRank() != rt.getRank())
      return false;
    for (auto [a, b] : llvm::zip_equal(lt.getShape(), rt.getShape()))
      if (a != b && !ShapedType::isDynamic(a) && !ShapedType::isDynamic(b))
        return false;
  }
  return true;
}

/// The elements attribute of the constant producing `value`, if any.
static ElementsAttr getConstantElements(Value value) {
  if (!value)
    return {};
  ElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return {};
  return attr;
}

std::optional<SmallVector<int64_t>> kiln::getConstantInts(Value value) {
  return getIntValues(getConstantElements(value));
}

std::optional<SmallVector<int64_t>> kiln::getIntValues(Attribute maybeAttr) {
  auto attr = dyn_cast_if_present<ElementsAttr>(maybeAttr);
  if (!attr || !attr.getElementType().isInteger())
    return std::nullopt;
  bool isUnsigned = attr.getElementType().isUnsignedInteger();
  SmallVector<int64_t> result;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    for (const APInt &v : dense.getValues<APInt>())
      result.push_back(isUnsigned || v.getBitWidth() == 1 ? v.getZExtValue()
                                                          : v.getSExtValue());
    return result;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource)
    return std::nullopt;
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  ArrayRef<char> data = blob->getData();
  unsigned width = attr.getElementType().getIntOrFloatBitWidth();
  unsigned bytes = std::max(1u, width / 8);
  int64_t count = attr.getNumElements();
  if (static_cast<int64_t>(data.size()) != count * bytes)
    return std::nullopt;
  for (int64_t i = 0; i < count; ++i) {
    uint64_t raw = 0;
    std::memcpy(&raw, data.data() + i * bytes, bytes);
    APInt v(width, raw);
    result.push_back(isUnsigned || width == 1 ? v.getZExtValue()
                                              : v.getSExtValue());
  }
  return result;
}

std::optional<SmallVector<double>> kiln::getConstantFloats(Value value) {
  return getFloatValues(getConstantElements(value));
}

std::optional<SmallVector<double>> kiln::getFloatValues(Attribute maybeAttr) {
  auto attr = dyn_cast_if_present<ElementsAttr>(maybeAttr);
  if (!attr)
    return std::nullopt;
  if (attr.getElementType().isInteger()) {
    auto ints = getIntValues(attr);
    if (!ints)
      return std::nullopt;
    return SmallVector<double>(ints->begin(), ints->end());
  }
  auto floatType = dyn_cast<FloatType>(attr.getElementType());
  if (!floatType)
    return std::nullopt;
  SmallVector<double> result;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    for (const APFloat &v : dense.getValues<APFloat>())
      result.push_back(v.convertToDouble());
    return result;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource)
    return std::nullopt;
  AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  ArrayRef<char> data = blob->getData();
  unsigned bytes = floatType.getWidth() / 8;
  int64_t count = attr.getNumElements();
  if (static_cast<int64_t>(data.size()) != count * bytes)
    return std::nullopt;
  for (int64_t i = 0; i < count; ++i) {
    uint64_t raw = 0;
    std::memcpy(&raw, data.data() + i * bytes, bytes);
    APFloat v(floatType.getFloatSemantics(), APInt(floatType.getWidth(), raw));
    bool lostInfo;
    v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lostInfo);
    result.push_back(v.convertToDouble());
  }
  return result;
}

FailureOr<SmallVector<int64_t>>
kiln::broadcastShapes(ArrayRef<ArrayRef<int64_t>> shapes) {
  size_t rank = 0;
  for (ArrayRef<int64_t> shape : shapes)
    rank = std::max(rank, shape.size());
  SmallVector<int64_t> result(rank, 1);
  for (ArrayRef<int64_t> shape : shapes) {
    size_t offset = rank - shape.size();
    for (auto [i, dim] : llvm::enumerate(shape)) {
      int64_t &out = result[offset + i];
      if (dim == 1)
        continue;
      if (out == 1) {
        out = dim;
        continue;
      }
      if (ShapedType::isDynamic(dim))
        continue; // A dynamic dim cannot refine a known extent > 1.
      if (ShapedType::isDynamic(out)) {
        out = dim;
        continue;
      }
      if (out != dim)
        return failure();
    }
  }
  return result;
}

bool kiln::broadcastsTo(ArrayRef<int64_t> from, ArrayRef<int64_t> to) {
  if (from.size() > to.size())
    return false;
  size_t offset = to.size() - from.size();
  for (auto [i, dim] : llvm::enumerate(from)) {
    int64_t target = to[offset + i];
    if (dim != 1 && dim != target && !ShapedType::isDynamic(dim) &&
        !ShapedType::isDynamic(target))
      return false;
  }
  return true;
}

FailureOr<int64_t> kiln::normalizeAxis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    return failure();
  return axis < 0 ? axis + rank : axis;
}

LogicalResult
kiln::inferBroadcastResult(std::optional<Location> location,
                           ValueRange operands, Type elementType,
                           SmallVectorImpl<Type> &inferredReturnTypes) {
  SmallVector<ArrayRef<int64_t>> shapes;
  for (Value operand : operands) {
    auto type = dyn_cast<RankedTensorType>(operand.getType());
    if (!type)
      return emitOptionalError(location, "expected ranked tensor operands");
    shapes.push_back(type.getShape());
  }
  FailureOr<SmallVector<int64_t>> shape = broadcastShapes(shapes);
  if (failed(shape)) {
    std::string message;
    llvm::raw_string_ostream os(message);
    llvm::interleaveComma(operands, os, [&](Value v) { os << v.getType(); });
    return emitOptionalError(location,
                             "operand shapes do not broadcast: ", message);
  }
  if (!elementType)
    elementType = getElementTypeOrSelf(operands.front().getType());
  inferredReturnTypes.push_back(RankedTensorType::get(*shape, elementType));
  return success();
}

LogicalResult
kiln::inferReductionResult(std::optional<Location> location, Value input,
                           ArrayRef<int64_t> axes, bool keepdims,
                           SmallVectorImpl<Type> &inferredReturnTypes) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  llvm::SmallBitVector reduced(rank, axes.empty());
  for (int64_t axis : axes) {
    FailureOr<int64_t> a = normalizeAxis(axis, rank);
    if (failed(a))
      return emitOptionalError(location, "axis ", axis,
                               " is out of range for rank ", rank);
    if (reduced[*a])
      return emitOptionalError(location, "axis ", axis, " is repeated");
    reduced.set(*a);
  }
  SmallVector<int64_t> shape;
  for (int64_t i = 0; i < rank; ++i) {
    if (!reduced[i])
      shape.push_back(type.getDimSize(i));
    else if (keepdims)
      shape.push_back(1);
  }
  inferredReturnTypes.push_back(
      RankedTensorType::get(shape, type.getElementType()));
  return success();
}

#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnOps.cpp.inc"
