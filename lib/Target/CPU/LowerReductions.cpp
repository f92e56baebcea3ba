//===- LowerReductions.cpp - reductions with register accumulators --------===//

#include "Contraction.h"

#include "kiln/Target/CPU/Passes.h"

#include "mlir/IR/IRMapping.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCPULOWERREDUCTIONS
#include "kiln/Target/CPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;

/// Whether `op` is a reduction this pass lowers: on buffers, not marked for
/// a microkernel, one output read by the body, reduction loops last, and
/// the output indexed by exactly the parallel loops.
static bool isLowerable(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.getNumDpsInits() != 1 ||
      op.getNumReductionLoops() == 0 || op->hasAttr(kiln::cpu::kUKernelAttr))
    return false;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  unsigned parallel = op.getNumParallelLoops();
  for (unsigned d = 0; d < iterators.size(); ++d)
    if ((iterators[d] == utils::IteratorType::parallel) != (d < parallel))
      return false;
  AffineMap out = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (out.getNumResults() != parallel || !out.isProjectedPermutation())
    return false;
  for (AffineExpr e : out.getResults())
    if (cast<AffineDimExpr>(e).getPosition() >= parallel)
      return false;
  return llvm::all_of(op->getOperandTypes(),
                      [](Type t) { return isa<MemRefType>(t); });
}

/// The indices `map` gives for the loop induction variables `ivs`.
static SmallVector<Value> applyMap(OpBuilder &b, Location loc, AffineMap map,
                                   ValueRange ivs) {
  SmallVector<Value> indices;
  for (unsigned r = 0; r < map.getNumResults(); ++r) {
    AffineMap single = map.getSubMap({r});
    if (auto dim = dyn_cast<AffineDimExpr>(single.getResult(0)))
      indices.push_back(ivs[dim.getPosition()]);
    else
      indices.push_back(affine::AffineApplyOp::create(b, loc, single, ivs));
  }
  return indices;
}

/// Builds the reduction loops from loop `d` on, carrying `acc`; returns the
/// final accumulator.
static Value buildReduction(OpBuilder &b, Location loc, linalg::GenericOp op,
                            ArrayRef<Value> ranges, Value zero, Value one,
                            SmallVector<Value> &ivs, unsigned d, Value acc) {
  if (d == ranges.size()) {
    IRMapping mapping;
    Block *body = op.getBlock();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    for (OpOperand *input : op.getDpsInputOperands()) {
      Value v = input->get();
      AffineMap map = maps[input->getOperandNumber()];
      Value element =
          memref::LoadOp::create(b, loc, v, applyMap(b, loc, map, ivs));
      mapping.map(body->getArgument(input->getOperandNumber()), element);
    }
    mapping.map(body->getArguments().back(), acc);
    for (Operation &inner : body->without_terminator())
      b.clone(inner, mapping);
    return mapping.lookup(body->getTerminator()->getOperand(0));
  }
  auto loop = scf::ForOp::create(
      b, loc, zero, ranges[d], one, ValueRange{acc},
      [&](OpBuilder &nb, Location nl, Value iv, ValueRange carried) {
        ivs.push_back(iv);
        Value next = buildReduction(nb, nl, op, ranges, zero, one, ivs, d + 1,
                                    carried.front());
        ivs.pop_back();
        scf::YieldOp::create(nb, nl, next);
      });
  return loop.getResult(0);
}

/// Lowers `op`: parallel loops, then the carried reduction, then one store.
static void lowerReduction(linalg::GenericOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  SmallVector<Value> ranges;
  for (Range range :
       cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(b, loc))
    ranges.push_back(getValueOrCreateConstantIndexOp(b, loc, range.size));
  unsigned parallel = op.getNumParallelLoops();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value output = op.getDpsInitOperand(0)->get();
  AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  auto bodyAt = [&](OpBuilder &nb, Location nl, ValueRange parallelIvs) {
    SmallVector<Value> ivs(parallelIvs);
    SmallVector<Value> outIndices = applyMap(nb, nl, outMap, ivs);
    Value init = memref::LoadOp::create(nb, nl, output, outIndices);
    Value result =
        buildReduction(nb, nl, op, ranges, zero, one, ivs, parallel, init);
    memref::StoreOp::create(nb, nl, result, output, outIndices);
  };
  if (parallel == 0) {
    bodyAt(b, loc, {});
  } else {
    SmallVector<Value> lbs(parallel, zero), steps(parallel, one);
    ArrayRef<Value> ubs = ArrayRef<Value>(ranges).take_front(parallel);
    if (op->getParentOfType<scf::ParallelOp>()) {
      // Already inside a parallel region: sequential loops.
      scf::buildLoopNest(b, loc, lbs, ubs, steps,
                         [&](OpBuilder &nb, Location nl, ValueRange ivs) {
                           bodyAt(nb, nl, ivs);
                         });
    } else {
      scf::ParallelOp::create(b, loc, lbs, ubs, steps,
                              [&](OpBuilder &nb, Location nl, ValueRange ivs) {
                                bodyAt(nb, nl, ivs);
                              });
    }
  }
  op.erase();
}

namespace {
struct KilnCPULowerReductionsPass
    : public kiln::impl::KilnCPULowerReductionsBase<
          KilnCPULowerReductionsPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> reductions;
    getOperation().walk([&](linalg::GenericOp op) {
      if (isLowerable(op))
        reductions.push_back(op);
    });
    for (linalg::GenericOp op : reductions)
      lowerReduction(op);
  }
};
} // namespace
