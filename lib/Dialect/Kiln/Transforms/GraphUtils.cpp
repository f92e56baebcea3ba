//===- GraphUtils.cpp - helpers shared by the kiln graph passes -----------===//

#include "GraphUtils.h"

#include "mlir/IR/DialectResourceBlobManager.h"

using namespace mlir;
using namespace kiln;

std::optional<double> graph::getScalarConstant(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || !type.hasStaticShape())
    return std::nullopt;
  Operation *def = v.getDefiningOp();
  if (!def || !def->hasTrait<OpTrait::ConstantLike>())
    return std::nullopt;
  if (auto constant = dyn_cast<ConstantOp>(def))
    if (auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
        dense && dense.isSplat() && isa<FloatType>(dense.getElementType()))
      return dense.getSplatValue<APFloat>().convertToDouble();
  if (type.getNumElements() > kMaxFoldElements)
    return std::nullopt;
  std::optional<SmallVector<double>> values = getConstantFloats(v);
  if (!values || values->empty())
    return std::nullopt;
  for (double x : *values)
    if (x != values->front())
      return std::nullopt;
  return values->front();
}

bool graph::isScalarNear(Value v, double expected, double rtol) {
  std::optional<double> x = getScalarConstant(v);
  return x && std::abs(*x - expected) <= rtol * std::abs(expected);
}

Location graph::fusedLoc(ArrayRef<Operation *> ops) {
  SmallVector<Location> locs;
  for (Operation *op : ops)
    locs.push_back(op->getLoc());
  return FusedLoc::get(ops.front()->getContext(), locs);
}

ElementsAttr graph::makeFloatElements(RankedTensorType type,
                                      ArrayRef<double> values, StringRef name) {
  Type element = type.getElementType();
  if (element.isF32()) {
    SmallVector<float> data(values.begin(), values.end());
    if (static_cast<int64_t>(data.size()) <= kMaxFoldElements)
      return DenseElementsAttr::get(type, ArrayRef<float>(data));
    return DenseResourceElementsAttr::get(
        type, name,
        HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<float>(data)));
  }
  assert(element.isF64() && "f32 or f64 elements");
  if (static_cast<int64_t>(values.size()) <= kMaxFoldElements)
    return DenseElementsAttr::get(type, values);
  return DenseResourceElementsAttr::get(
      type, name, HeapAsmResourceBlob::allocateAndCopyInferAlign(values));
}

Value graph::createFloatConstant(OpBuilder &b, Location loc,
                                 RankedTensorType type, ArrayRef<double> values,
                                 StringRef name) {
  return ConstantOp::create(b, loc, type,
                            makeFloatElements(type, values, name));
}

std::string graph::constantName(Value v) {
  if (auto constant = v.getDefiningOp<ConstantOp>())
    if (auto resource =
            dyn_cast<DenseResourceElementsAttr>(constant.getValue()))
      return resource.getRawHandle().getKey().str();
  return "folded";
}

Value graph::otherOperand(Operation *op, Value v) {
  if (op->getNumOperands() != 2)
    return Value();
  if (op->getOperand(0) == v)
    return op->getOperand(1);
  if (op->getOperand(1) == v)
    return op->getOperand(0);
  return Value();
}

Operation *graph::singleUser(Value v) {
  if (!v.hasOneUse())
    return nullptr;
  return *v.getUsers().begin();
}

SmallVector<Value, 4> graph::contractionOperands(Operation *op) {
  if (auto conv = dyn_cast<ConvOp>(op))
    return {conv.getInput(), conv.getWeight(), conv.getBias(),
            conv.getResidual()};
  if (auto matmul = dyn_cast<MatMulOp>(op))
    return {matmul.getLhs(), matmul.getRhs(), matmul.getBias(),
            matmul.getResidual()};
  auto gemm = cast<GemmOp>(op);
  return {gemm.getA(), gemm.getB(), gemm.getC(), gemm.getResidual()};
}
