//===- FusePadding.cpp - elementwise producers write into padded buffers --===//
//
// tensor.pad(P(x)), with P an elementwise linalg op, becomes P writing into
// the interior of a tensor filled with the padding value: the padded tensor
// is written once instead of P's result being copied into it. Pads that a
// kernel adds itself (kiln-cpu-select-kernels decided `padding = "implicit"`
// for every reader) stay: their padded tensor is never materialized.
//
//===----------------------------------------------------------------------===//

#include "Contraction.h"

#include "kiln/Target/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCPUFUSEPADDING
#include "kiln/Target/CPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln::cpu;

/// Whether every reader of `pad` (through expand_shape views) is a kernel
/// that pads its input itself.
static bool readByImplicitPadding(tensor::PadOp pad) {
  SmallVector<Value> values = {pad.getResult()};
  bool anyReader = false;
  while (!values.empty()) {
    Value value = values.pop_back_val();
    for (Operation *user : value.getUsers()) {
      if (auto expand = dyn_cast<tensor::ExpandShapeOp>(user)) {
        values.push_back(expand.getResult());
        continue;
      }
      if (!padsImplicitly(user))
        return false;
      anyReader = true;
    }
  }
  return anyReader;
}

namespace {
struct FusePadIntoProducer : OpRewritePattern<tensor::PadOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::PadOp pad,
                                PatternRewriter &rewriter) const override {
    Value padValue = pad.getConstantPaddingValue();
    auto producer = pad.getSource().getDefiningOp<linalg::LinalgOp>();
    if (!padValue || !producer || !producer.hasPureTensorSemantics() ||
        producer->getNumResults() != 1 || producer.getNumDpsInits() != 1 ||
        producer.getNumParallelLoops() != producer.getNumLoops())
      return rewriter.notifyMatchFailure(pad, "not a pad of elementwise work");
    // The producer's output only gets written: it may become a slice.
    OpOperand *init = producer.getDpsInitOperand(0);
    if (producer.payloadUsesValueFromOperand(init) ||
        !producer.getMatchingIndexingMap(init).isIdentity())
      return rewriter.notifyMatchFailure(pad, "the producer reads its output");
    if (readByImplicitPadding(pad))
      return rewriter.notifyMatchFailure(pad, "its readers pad implicitly");
    Location loc = pad.getLoc();
    ReifiedRankedShapedTypeDims padded;
    if (failed(reifyResultShapes(rewriter, pad, padded)))
      return rewriter.notifyMatchFailure(pad, "no padded shape");
    auto type = pad.getResultType();
    Value empty = tensor::EmptyOp::create(rewriter, loc, padded.front(),
                                          type.getElementType());
    Value filled =
        linalg::FillOp::create(rewriter, loc, padValue, empty).getResult(0);
    SmallVector<OpFoldResult> sizes =
        tensor::getMixedSizes(rewriter, loc, pad.getSource());
    SmallVector<OpFoldResult> strides(type.getRank(), rewriter.getIndexAttr(1));
    SmallVector<OpFoldResult> offsets = pad.getMixedLowPad();
    Value interior = tensor::ExtractSliceOp::create(rewriter, loc, filled,
                                                    offsets, sizes, strides);
    Operation *written = rewriter.clone(*producer);
    written->setOperand(init->getOperandNumber(), interior);
    written->getResult(0).setType(interior.getType());
    rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
        pad, written->getResult(0), filled, offsets, sizes, strides);
    return success();
  }
};

struct KilnCPUFusePaddingPass
    : public kiln::impl::KilnCPUFusePaddingBase<KilnCPUFusePaddingPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FusePadIntoProducer>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
