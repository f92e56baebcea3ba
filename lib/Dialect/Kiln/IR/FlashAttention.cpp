//===- FlashAttention.cpp - kiln.flash_attention
//---------------------------===//
//
// The destination-style form of kiln.attention that the CPU target's runtime
// kernel takes: its verifier, memory effects on buffers, and bufferization
// (each operand's buffer, the result written into the init's).
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace kiln;

LogicalResult FlashAttentionOp::verify() {
  auto q = cast<ShapedType>(getQuery().getType());
  auto k = cast<ShapedType>(getKey().getType());
  auto v = cast<ShapedType>(getValue().getType());
  auto init = cast<ShapedType>(getInit().getType());
  int64_t rank = q.getRank();
  if (rank < 2 || k.getRank() != rank || v.getRank() != rank ||
      init.getRank() != rank)
    return emitOpError("query, key, value and init must have one rank >= 2");
  bool tensors = isa<RankedTensorType>(q);
  for (Type t : getOperandTypes())
    if (isa<RankedTensorType>(t) != tensors)
      return emitOpError("operands must be all tensors or all buffers");
  if (tensors != (getNumResults() == 1))
    return emitOpError("has one result on tensors and none on buffers");
  if (tensors && getResult().front().getType() != init)
    return emitOpError("result type must be the init's");
  if (getMask()) {
    auto mask = cast<ShapedType>(getMask().getType());
    if (mask.getRank() > rank)
      return emitOpError("mask has a higher rank than the scores");
    if (mask.getElementType().isInteger(1) != getMaskFill().has_value())
      return emitOpError("mask_fill is set exactly when the mask is bool");
  }
  return success();
}

void FlashAttentionOp::getEffects(
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>
        &effects) {
  for (OpOperand &operand : getOperation()->getOpOperands()) {
    if (!isa<MemRefType>(operand.get().getType()))
      continue;
    if (&operand == &getInitMutable())
      effects.emplace_back(MemoryEffects::Write::get(), &operand,
                           SideEffects::DefaultResource::get());
    else
      effects.emplace_back(MemoryEffects::Read::get(), &operand,
                           SideEffects::DefaultResource::get());
  }
}

namespace {
/// Reads its inputs, overwrites its init (never reads it), whose buffer the
/// result is.
struct FlashAttentionBufferization
    : bufferization::DstBufferizableOpInterfaceExternalModel<
          FlashAttentionBufferization, FlashAttentionOp> {
  bool bufferizesToMemoryRead(Operation *op, OpOperand &operand,
                              const bufferization::AnalysisState &) const {
    return !cast<DestinationStyleOpInterface>(op).isDpsInit(&operand);
  }

  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const bufferization::BufferizationOptions &options,
                          bufferization::BufferizationState &state) const {
    auto attention = cast<FlashAttentionOp>(op);
    SmallVector<Value> buffers;
    for (Value operand : op->getOperands()) {
      FailureOr<Value> buffer =
          bufferization::getBuffer(rewriter, operand, options, state);
      if (failed(buffer))
        return failure();
      buffers.push_back(*buffer);
    }
    rewriter.setInsertionPoint(op);
    Value mask = attention.getMask() ? buffers[4] : Value();
    auto bufferized = FlashAttentionOp::create(
        rewriter, op->getLoc(), TypeRange{}, buffers[0], buffers[1], buffers[2],
        buffers[3], mask, attention.getScaleAttr(),
        attention.getMaskFillAttr());
    // Decisions of the codegen passes (kiln.ukernel) stay with it.
    bufferized->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    bufferization::replaceOpWithBufferizedValues(rewriter, op, buffers[3]);
    return success();
  }
};
} // namespace

void kiln::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *context, KilnDialect *) {
    FlashAttentionOp::attachInterface<FlashAttentionBufferization>(*context);
  });
}
