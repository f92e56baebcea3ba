//===- Prune.cpp - dead values, no-op ops, duplicate subexpressions -------===//

#include "GraphUtils.h"

#include "kiln/Dialect/Kiln/Transforms/Passes.h"

#include "mlir/IR/Dominance.h"
#include "mlir/Transforms/CSE.h"

namespace kiln {
#define GEN_PASS_DEF_KILNPRUNE
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

/// The input `op` forwards unchanged, or null: casts to the same type,
/// reshaping ops and expands whose result type is their static input type,
/// identity transposes.
static Value noOpInput(Operation *op) {
  if (op->getNumResults() != 1 || op->getNumOperands() < 1)
    return Value();
  Value input = op->getOperand(0);
  Type type = op->getResult(0).getType();
  if (isa<CastOp, ReshapeOp, SqueezeOp, UnsqueezeOp, FlattenOp, ExpandOp,
          TransposeOp>(op) &&
      input.getType() != type)
    return Value();
  if (isa<CastOp>(op))
    return input;
  if (isa<ReshapeOp, SqueezeOp, UnsqueezeOp, FlattenOp, ExpandOp>(op))
    return cast<RankedTensorType>(type).hasStaticShape() ? input : Value();
  if (auto transpose = dyn_cast<TransposeOp>(op))
    return llvm::equal(transpose.getPerm(),
                       llvm::seq<int64_t>(0, transpose.getPerm().size()))
               ? input
               : Value();
  return Value();
}

namespace {
struct KilnPrunePass : public kiln::impl::KilnPruneBase<KilnPrunePass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    IRRewriter rewriter(&getContext());

    // No-op ops forward their input; pairs of transposes and of reshapes
    // compose into one.
    func.walk([&](Operation *op) {
      if (!isa<KilnDialect>(op->getDialect()))
        return;
      if (Value input = noOpInput(op)) {
        rewriter.replaceAllUsesWith(op->getResult(0), input);
        ++numNoOps;
        return;
      }
      if (auto outer = dyn_cast<TransposeOp>(op)) {
        auto inner = outer.getInput().getDefiningOp<TransposeOp>();
        if (!inner)
          return;
        SmallVector<int64_t> perm;
        for (int64_t p : outer.getPerm())
          perm.push_back(inner.getPerm()[p]);
        rewriter.setInsertionPoint(outer);
        Value composed = TransposeOp::create(
            rewriter, graph::fusedLoc({inner, outer}), inner.getInput(),
            rewriter.getDenseI64ArrayAttr(perm));
        rewriter.replaceOp(outer, composed);
        ++numComposed;
        return;
      }
      if (auto outer = dyn_cast<ReshapeOp>(op)) {
        auto inner = outer.getInput().getDefiningOp<ReshapeOp>();
        if (!inner || !outer.getType().hasStaticShape())
          return;
        rewriter.modifyOpInPlace(outer, [&] {
          outer.getInputMutable().assign(inner.getInput());
          outer->setLoc(graph::fusedLoc({inner, outer}));
        });
        ++numComposed;
      }
    });

    // Dead ops, last to first so chains go at once.
    SmallVector<Operation *> ops;
    func.walk([&](Operation *op) { ops.push_back(op); });
    for (Operation *op : llvm::reverse(ops))
      if (isOpTriviallyDead(op)) {
        rewriter.eraseOp(op);
        ++numDead;
      }

    // Duplicate subexpressions (the constants too).
    DominanceInfo dominance(func);
    eliminateCommonSubExpressions(rewriter, dominance, func);

    for (BlockArgument arg : func.getArguments())
      if (arg.use_empty())
        ++numUnusedInputs;
  }
};
} // namespace
