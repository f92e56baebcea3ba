//===- ParallelizeOuterLoops.cpp - outer dims parallel, inner ones loops --===//

#include "kiln/Target/CPU/Passes.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Interfaces/CallInterfaces.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCPUPARALLELIZEOUTERLOOPS
#include "kiln/Target/CPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;

/// The number of leading dims of `op` that keep it parallel: the shortest
/// prefix with at least `minIterations` iterations, or all dims.
static unsigned parallelPrefix(scf::ParallelOp op, int64_t minIterations) {
  int64_t iterations = 1;
  for (unsigned d = 0, e = op.getNumLoops(); d < e; ++d) {
    std::optional<int64_t> lb = getConstantIntValue(op.getLowerBound()[d]);
    std::optional<int64_t> ub = getConstantIntValue(op.getUpperBound()[d]);
    std::optional<int64_t> step = getConstantIntValue(op.getStep()[d]);
    if (!lb || !ub || !step || *step <= 0)
      return d + 1;
    iterations *= std::max<int64_t>(0, llvm::divideCeil(*ub - *lb, *step));
    if (iterations >= minIterations)
      return d + 1;
  }
  return op.getNumLoops();
}

/// Rewrites `op` into an scf.parallel over its first `keep` dims around
/// nested scf.for loops over the others.
static void splitParallel(scf::ParallelOp op, unsigned keep) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  auto outer = scf::ParallelOp::create(
      b, loc, op.getLowerBound().take_front(keep),
      op.getUpperBound().take_front(keep), op.getStep().take_front(keep));
  b.setInsertionPointToStart(outer.getBody());
  SmallVector<Value> ivs(outer.getInductionVars());
  for (unsigned d = keep, e = op.getNumLoops(); d < e; ++d) {
    auto loop = scf::ForOp::create(b, loc, op.getLowerBound()[d],
                                   op.getUpperBound()[d], op.getStep()[d]);
    ivs.push_back(loop.getInductionVar());
    b.setInsertionPointToStart(loop.getBody());
  }
  Block *body = op.getBody();
  for (auto [old, replacement] : llvm::zip(body->getArguments(), ivs))
    old.replaceAllUsesWith(replacement);
  // The body's ops (not its scf.reduce terminator) go before the innermost
  // loop's terminator.
  Block *innermost = b.getInsertionBlock();
  innermost->getOperations().splice(b.getInsertionPoint(),
                                    body->getOperations(), body->begin(),
                                    std::prev(body->end()));
  op.erase();
}

/// Whether an iteration of `op` is more than straight-line code: it holds
/// loops, branches or calls (a kernel call, an attention tile's work). Then
/// an index division per iteration costs nothing next to the body, and
/// keeping only a leading dynamic dim (a batch of 1) parallel would run
/// every iteration on one thread.
static bool hasHeavyIterations(scf::ParallelOp op) {
  for (Operation &inner : op.getBody()->without_terminator()) {
    if (isa<CallOpInterface>(inner))
      return true;
    if (inner.getNumRegions() != 0)
      return true;
  }
  return false;
}

namespace {
struct KilnCPUParallelizeOuterLoopsPass
    : public kiln::impl::KilnCPUParallelizeOuterLoopsBase<
          KilnCPUParallelizeOuterLoopsPass> {
  using Base::Base;
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk([&](scf::ParallelOp op) {
      if (op.getNumResults() == 0 && op.getNumLoops() > 1)
        loops.push_back(op);
    });
    for (scf::ParallelOp op : loops) {
      if (hasHeavyIterations(op))
        continue;
      unsigned keep = parallelPrefix(op, minIterations);
      if (keep < op.getNumLoops())
        splitParallel(op, keep);
    }
  }
};
} // namespace
