//===- LowerNestedLinalg.cpp - sequential loops inside parallel ones ------===//

#include "kiln/Conversion/Passes.h"

#include "mlir/Dialect/Linalg/Transforms/Transforms.h"

namespace kiln {
#define GEN_PASS_DEF_KILNLOWERNESTEDLINALG
#include "kiln/Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {
struct KilnLowerNestedLinalgPass
    : public kiln::impl::KilnLowerNestedLinalgBase<KilnLowerNestedLinalgPass> {
  void runOnOperation() override {
    SmallVector<linalg::LinalgOp> nested;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (op->getParentOfType<scf::ParallelOp>() && op.hasPureBufferSemantics())
        nested.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::LinalgOp op : nested) {
      rewriter.setInsertionPoint(op);
      if (failed(linalg::linalgOpToLoops(rewriter, op))) {
        op->emitError("cannot lower to loops");
        return signalPassFailure();
      }
      rewriter.eraseOp(op);
    }
  }
};
} // namespace
