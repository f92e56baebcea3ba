//===- FuseElementwise.cpp - elementwise DAGs into one linalg.generic -----===//

#include "kiln/Dialect/Kiln/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_KILNFUSEELEMENTWISE
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

/// Whether every use of `producer`'s results is in `consumer`.
static bool onlyUsedBy(Operation *producer, Operation *consumer) {
  return llvm::all_of(producer->getUsers(),
                      [&](Operation *user) { return user == consumer; });
}

/// Whether a linalg op with reduction loops other than `except` reads
/// `values`, directly or through reshapes.
static bool readByContraction(ValueRange values, Operation *except) {
  for (Value value : values)
    for (Operation *user : value.getUsers()) {
      if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(user)) {
        if (readByContraction(user->getResults(), except))
          return true;
        continue;
      }
      auto linalgOp = dyn_cast<linalg::LinalgOp>(user);
      if (linalgOp && user != except && linalgOp.getNumReductionLoops() > 0)
        return true;
    }
  return false;
}

/// The number of scalar ops in a linalg body (the yield excluded).
static unsigned bodySize(Block *body) {
  return body->getOperations().size() - 1;
}
static unsigned bodySize(linalg::GenericOp op) {
  return bodySize(op.getBody());
}

/// The largest consumer body that still takes a copy of a producer used
/// elsewhere too.
static constexpr unsigned kMaxRecomputedBody = 32;

/// The number of `op`'s inputs that it reads element by element (through a
/// permutation of all its loops), not broadcast.
static unsigned fullInputs(linalg::GenericOp op) {
  unsigned count = 0;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (map.isPermutation() && map.getNumDims() == op.getNumLoops())
      ++count;
  }
  return count;
}

namespace {
struct KilnFuseElementwisePass
    : public kiln::impl::KilnFuseElementwiseBase<KilnFuseElementwisePass> {
  using Base::Base;
  void runOnOperation() override {
    auto countGenerics = [&] {
      int64_t n = 0;
      getOperation().walk([&](linalg::GenericOp) { ++n; });
      return n;
    };
    int64_t before = countGenerics();
    unsigned limit = maxRecomputeOps;
    linalg::ControlFusionFn control = [limit](OpOperand *fused) {
      auto producer = fused->get().getDefiningOp<linalg::GenericOp>();
      if (!producer)
        return false;
      // A payload that reads its init would be re-run on the partial result
      // when fused into a reduction (upstream keeps the init as an output).
      for (OpOperand &init : producer.getDpsInitsMutable())
        if (producer.payloadUsesValueFromOperand(&init))
          return false;
      auto consumer = cast<linalg::LinalgOp>(fused->getOwner());
      // A consumer that reads the fused operand through a map that skips
      // some of its loops (a matmul reading its lhs once per output column)
      // would recompute the producer that many times: only pure copies and
      // broadcasts go in there.
      AffineMap map = consumer.getMatchingIndexingMap(fused);
      bool readOnce =
          map.isPermutation() && map.getNumDims() == consumer.getNumLoops();
      if (!readOnce)
        return bodySize(producer) == 0;
      if (onlyUsedBy(producer, consumer))
        return true;
      // A result that a contraction reads too is written once anyway: the
      // others read it rather than recompute it (a ReLU between residual
      // blocks then goes into the epilogue of the convolution before it).
      if (readByContraction(producer->getResults(), consumer))
        return false;
      // Recomputing a broadcast or a cheap elementwise body in each consumer
      // beats writing and re-reading it, up to a consumer body of
      // kMaxRecomputedBody ops: chains where each step feeds two others (a
      // running argmax) would otherwise double their bodies at every step.
      // A producer that reads two or more tensors element by element costs
      // more to recompute than its result costs to read: ResNet's residual
      // sums, copied into each next block's quantization, made one op read
      // seven tensors.
      return producer.getNumReductionLoops() == 0 &&
             fullInputs(producer) <= 1 && bodySize(producer) <= limit &&
             bodySize(consumer.getBlock()) + bodySize(producer) <=
                 kMaxRecomputedBody;
    };
    RewritePatternSet patterns(&getContext());
    linalg::populateElementwiseOpsFusionPatterns(patterns, control);
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    numFused += before - countGenerics();
  }
};
} // namespace
