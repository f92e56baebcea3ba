//===- SerializeSmallParallel.cpp - no thread team for little work --------===//
//
// Each omp.parallel region forks the thread team and joins it. For the
// many small elementwise ops of a decoder step (one token's 768 values)
// that costs more than the work, so each region gets an OpenMP `if` clause:
// the elements its body runs for, computed where the region starts, must
// reach a minimum, else the calling thread runs the loop alone.
//
//===----------------------------------------------------------------------===//

#include "kiln/Target/CPU/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/OpenMP/OpenMPDialect.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCPUSERIALIZESMALLPARALLEL
#include "kiln/Target/CPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;

/// Whether `value` is available before `region` (defined outside it).
static bool definedOutside(Value value, Operation *region) {
  return !region->isAncestor(value.getParentBlock()->getParentOp());
}

/// The trip count of a loop with these bounds, built before `b`'s point.
static Value tripCount(OpBuilder &b, Location loc, Value lb, Value ub,
                       Value step) {
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value span = arith::SubIOp::create(b, loc, ub, lb);
  Value rounded = arith::AddIOp::create(
      b, loc, span, arith::SubIOp::create(b, loc, step, one));
  Value count = arith::DivSIOp::create(b, loc, rounded, step);
  return arith::MaxSIOp::create(b, loc, count, zero);
}

/// The number of innermost iterations of `parallel`'s loop nest and of the
/// scf.for loops nested directly in it, as an index built before
/// `parallel`; null when a bound is computed inside the region or the
/// region holds no single loop nest.
static Value workOf(omp::ParallelOp parallel) {
  omp::LoopNestOp nest;
  int nests = 0;
  parallel.walk([&](omp::LoopNestOp op) {
    nest = op;
    ++nests;
  });
  if (nests != 1)
    return nullptr;
  Operation *region = parallel.getOperation();
  SmallVector<std::array<Value, 3>> loops;
  for (auto [lb, ub, step] :
       llvm::zip(nest.getLoopLowerBounds(), nest.getLoopUpperBounds(),
                 nest.getLoopSteps()))
    loops.push_back({lb, ub, step});
  // scf.for loops nested one in the other, each alone in its parent's
  // body; the innermost body must be straight-line code: a region whose
  // body holds several loops, calls or other regions (an attention tile's
  // work) is not measured by its trip counts and stays parallel.
  Block *body = &nest.getRegion().front();
  while (true) {
    scf::ForOp inner;
    int regions = 0;
    for (Operation &op : *body) {
      if (isa<func::CallOp, LLVM::CallOp>(op))
        return nullptr;
      if (op.getNumRegions() == 0)
        continue;
      ++regions;
      inner = dyn_cast<scf::ForOp>(op);
    }
    if (regions == 0)
      break;
    if (regions > 1)
      return nullptr;
    // The alloca scope convert-scf-to-openmp wraps a loop body in.
    if (!inner) {
      auto scope = dyn_cast<memref::AllocaScopeOp>(*llvm::find_if(
          *body, [](Operation &op) { return op.getNumRegions() != 0; }));
      if (!scope)
        return nullptr;
      body = &scope.getBodyRegion().front();
      continue;
    }
    loops.push_back(
        {inner.getLowerBound(), inner.getUpperBound(), inner.getStep()});
    body = inner.getBody();
  }
  // Only bounds known before the region: a loop whose bounds are computed
  // inside (per outer iteration) counts as one.
  OpBuilder b(parallel);
  Location loc = parallel.getLoc();
  Value work;
  for (auto [lb, ub, step] : loops) {
    if (!definedOutside(lb, region) || !definedOutside(ub, region) ||
        !definedOutside(step, region) || !lb.getType().isIndex())
      continue;
    Value count = tripCount(b, loc, lb, ub, step);
    work =
        work ? arith::MulIOp::create(b, loc, work, count).getResult() : count;
  }
  return work;
}

namespace {
struct KilnCPUSerializeSmallParallelPass
    : public kiln::impl::KilnCPUSerializeSmallParallelBase<
          KilnCPUSerializeSmallParallelPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<omp::ParallelOp> regions;
    getOperation().walk([&](omp::ParallelOp op) {
      if (!op.getIfExpr())
        regions.push_back(op);
    });
    for (omp::ParallelOp op : regions) {
      Value work = workOf(op);
      if (!work)
        continue;
      OpBuilder b(op);
      Location loc = op.getLoc();
      Value enough = arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::sge, work,
          arith::ConstantIndexOp::create(b, loc, minWork));
      op.getIfExprMutable().assign(enough);
    }
  }
};
} // namespace
