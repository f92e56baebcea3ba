//===- CollapseElementwise.cpp - short inner loops merged into long ones --===//
//
// An elementwise linalg.generic over [N, C, H, W] runs its innermost loop
// over W. At 14 or 7 columns LLVM leaves that loop scalar, so such ops are
// rewritten over fewer, longer dims (here [N, C, H*W]) wherever every
// operand reads the merged dims together, through tensor.collapse_shape of
// the operands and a tensor.expand_shape of the result.
//
//===----------------------------------------------------------------------===//

#include "Contraction.h"

#include "kiln/Target/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/SmallBitVector.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCPUCOLLAPSEELEMENTWISE
#include "kiln/Target/CPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln::cpu;

/// The value `value` is a view of through reshapes.
static Value throughReshapes(Value value) {
  while (Operation *op = value.getDefiningOp()) {
    if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(op))
      break;
    value = op->getOperand(0);
  }
  return value;
}

/// Whether `op` belongs to a microkernel call: marked itself, reading a
/// marked op's result (a fused clamp or dequantization), or writing what a
/// marked op accumulates onto (fused addends). kiln-cpu-lower-ukernels finds
/// those ops again on buffers in their original shapes.
static bool touchesKernel(linalg::GenericOp op) {
  if (op->hasAttr(kUKernelAttr))
    return true;
  for (Value input : op.getDpsInputs())
    if (Operation *producer = throughReshapes(input).getDefiningOp();
        producer && producer->hasAttr(kUKernelAttr))
      return true;
  SmallVector<Value> results(op->getResults());
  while (!results.empty()) {
    Value result = results.pop_back_val();
    for (OpOperand &use : result.getUses()) {
      Operation *user = use.getOwner();
      if (isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(user)) {
        results.push_back(user->getResult(0));
        continue;
      }
      auto linalgUser = dyn_cast<linalg::LinalgOp>(user);
      if (linalgUser && user->hasAttr(kUKernelAttr) &&
          linalgUser.isDpsInit(&use))
        return true;
    }
  }
  return false;
}

/// The position of loop `dim` among `map`'s results, or -1.
static int positionOf(AffineMap map, unsigned dim) {
  for (auto [i, e] : llvm::enumerate(map.getResults()))
    if (auto d = dyn_cast<AffineDimExpr>(e); d && d.getPosition() == dim)
      return static_cast<int>(i);
  return -1;
}

/// Groups of adjacent loops of `op` that every operand reads together:
/// both absent from its map, or adjacent in it (other results may only be
/// the constant 0 of a unit dim).
static SmallVector<ReassociationIndices> loopGroups(linalg::GenericOp op) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<ReassociationIndices> groups;
  for (unsigned d = 0, e = op.getNumLoops(); d < e; ++d) {
    bool joins = d > 0 && llvm::all_of(maps, [&](AffineMap map) {
                   int previous = positionOf(map, d - 1),
                       current = positionOf(map, d);
                   return (previous < 0 && current < 0) ||
                          (previous >= 0 && current == previous + 1);
                 });
    if (joins)
      groups.back().push_back(d);
    else
      groups.push_back({static_cast<int64_t>(d)});
  }
  return groups;
}

/// Whether `map`'s results are distinct loop dims and constant zeros only
/// (not a diagonal, which reads one loop twice).
static bool dimsAndZeros(AffineMap map) {
  llvm::SmallBitVector seen(map.getNumDims());
  return llvm::all_of(map.getResults(), [&](AffineExpr e) {
    if (auto d = dyn_cast<AffineDimExpr>(e)) {
      if (seen.test(d.getPosition()))
        return false;
      seen.set(d.getPosition());
      return true;
    }
    auto c = dyn_cast<AffineConstantExpr>(e);
    return c && c.getValue() == 0;
  });
}

/// Rewrites `op` over the loop `groups`. Each operand's dims are merged the
/// same way, a unit dim read at 0 joining the dim before it (or after, when
/// first); an operand of unit dims only becomes a rank-0 tensor.
static void collapse(RewriterBase &rewriter, linalg::GenericOp op,
                     ArrayRef<ReassociationIndices> groups) {
  MLIRContext *context = op.getContext();
  Location loc = op.getLoc();
  SmallVector<unsigned> groupOf(op.getNumLoops());
  for (auto [g, group] : llvm::enumerate(groups))
    for (int64_t d : group)
      groupOf[d] = g;
  rewriter.setInsertionPoint(op);
  SmallVector<Value> operands;
  SmallVector<AffineMap> maps;
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    SmallVector<ReassociationIndices> reassociation;
    SmallVector<AffineExpr> results;
    // Unit dims seen before the first loop dim, joining its group.
    ReassociationIndices leading;
    int lastGroup = -1;
    for (auto [i, e] : llvm::enumerate(map.getResults())) {
      auto dim = dyn_cast<AffineDimExpr>(e);
      if (!dim) {
        if (reassociation.empty())
          leading.push_back(i);
        else
          reassociation.back().push_back(i);
        continue;
      }
      int g = groupOf[dim.getPosition()];
      if (g == lastGroup) {
        reassociation.back().push_back(i);
        continue;
      }
      ReassociationIndices indices = leading;
      leading.clear();
      indices.push_back(i);
      reassociation.push_back(indices);
      results.push_back(getAffineDimExpr(g, context));
      lastGroup = g;
    }
    Value value = operand.get();
    auto type = cast<RankedTensorType>(value.getType());
    if (static_cast<int64_t>(reassociation.size()) != type.getRank())
      value =
          tensor::CollapseShapeOp::create(rewriter, loc, value, reassociation);
    operands.push_back(value);
    maps.push_back(AffineMap::get(groups.size(), 0, results, context));
  }
  unsigned inputs = op.getNumDpsInputs();
  auto collapsed = linalg::GenericOp::create(
      rewriter, loc, ValueRange(operands).drop_front(inputs).getTypes(),
      ValueRange(operands).take_front(inputs),
      ValueRange(operands).drop_front(inputs), maps,
      SmallVector<utils::IteratorType>(groups.size(),
                                       utils::IteratorType::parallel));
  rewriter.inlineRegionBefore(op.getRegion(), collapsed.getRegion(),
                              collapsed.getRegion().begin());
  SmallVector<Value> results;
  for (auto [old, result] : llvm::zip(op->getResults(), collapsed.getResults()))
    results.push_back(result.getType() == old.getType()
                          ? Value(result)
                          : Value(tensor::ExpandShapeOp::create(
                                rewriter, loc, old.getType(), result, groups)));
  rewriter.replaceOp(op, results);
}

namespace {
struct KilnCPUCollapseElementwisePass
    : public kiln::impl::KilnCPUCollapseElementwiseBase<
          KilnCPUCollapseElementwisePass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<std::pair<linalg::GenericOp, SmallVector<ReassociationIndices>>>
        work;
    getOperation().walk([&](linalg::GenericOp op) {
      if (!op.hasPureTensorSemantics() || op.getNumReductionLoops() != 0 ||
          op.getNumLoops() < 2 || op.hasIndexSemantics() || touchesKernel(op))
        return;
      // Static shapes, operands that are whole tensors (a slice's view
      // could not be collapsed without a copy), outputs through the
      // identity, inputs through dims and unit-dim zeros.
      for (OpOperand &operand : op->getOpOperands()) {
        auto type = dyn_cast<RankedTensorType>(operand.get().getType());
        if (!type || !type.hasStaticShape() ||
            throughReshapes(operand.get())
                .getDefiningOp<tensor::ExtractSliceOp>() ||
            !dimsAndZeros(op.getMatchingIndexingMap(&operand)))
          return;
      }
      for (OpOperand &init : op.getDpsInitsMutable())
        if (!op.getMatchingIndexingMap(&init).isIdentity())
          return;
      // Only where the innermost loop is short: longer ones vectorize.
      SmallVector<int64_t> ranges = op.getStaticLoopRanges();
      if (ranges.back() >= minInnerIterations)
        return;
      SmallVector<ReassociationIndices> groups = loopGroups(op);
      if (groups.back().size() > 1)
        work.push_back({op, groups});
    });
    IRRewriter rewriter(&getContext());
    for (auto &[op, groups] : work)
      collapse(rewriter, op, groups);
  }
};
} // namespace
