//===- MapParallelLoops.cpp - outermost parallel loops as kernel launches -===//

#include "kiln/Target/NVPTX/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/SymbolTable.h"

namespace kiln {
#define GEN_PASS_DEF_KILNGPUMAPPARALLELLOOPS
#include "kiln/Target/NVPTX/Passes.h.inc"
} // namespace kiln

using namespace mlir;

/// Threads per block of every launch.
static constexpr int64_t kBlockSize = 256;

/// Rewrites `copy` into a parallel loop of loads and stores (a rank-0 copy
/// into one load and store).
static void copyAsLoop(memref::CopyOp copy) {
  OpBuilder b(copy);
  Location loc = copy.getLoc();
  Value source = copy.getSource(), target = copy.getTarget();
  auto type = cast<MemRefType>(source.getType());
  if (type.getRank() == 0) {
    Value value = memref::LoadOp::create(b, loc, source);
    memref::StoreOp::create(b, loc, value, target);
    copy.erase();
    return;
  }
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  SmallVector<Value> lower, upper, steps;
  for (int64_t d = 0; d < type.getRank(); ++d) {
    lower.push_back(zero);
    steps.push_back(one);
    upper.push_back(memref::DimOp::create(b, loc, source, d));
  }
  scf::ParallelOp::create(
      b, loc, lower, upper, steps,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange ivs) {
        Value value = memref::LoadOp::create(nested, nestedLoc, source, ivs);
        memref::StoreOp::create(nested, nestedLoc, value, target, ivs);
      });
  copy.erase();
}

/// Whether the body of `loop` can run in a kernel: no allocation (kernels
/// get no heap), no call of a function without a body here (the runtime's
/// functions live on the host), no launch already.
static bool runsOnDevice(scf::ParallelOp loop, SymbolTableCollection &symbols) {
  WalkResult result = loop.getBody()->walk([&](Operation *op) {
    if (isa<memref::AllocOp, memref::DeallocOp, memref::ReallocOp,
            gpu::LaunchOp>(op))
      return WalkResult::interrupt();
    if (auto call = dyn_cast<CallOpInterface>(op)) {
      auto callee =
          llvm::dyn_cast_if_present<SymbolRefAttr>(call.getCallableForCallee());
      if (!callee)
        return WalkResult::interrupt();
      auto function = dyn_cast_if_present<FunctionOpInterface>(
          symbols.lookupNearestSymbolFrom(loop, callee));
      if (!function || function.isExternal())
        return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return !result.wasInterrupted();
}

/// Whether `value` is a memref dim or a non-negative constant.
static bool isNonNegative(Value value) {
  if (value.getDefiningOp<memref::DimOp>())
    return true;
  std::optional<int64_t> constant = getConstantIntValue(value);
  return constant && *constant >= 0;
}

/// `loop` as a launch of ceil(N / 256) blocks of 256 threads, N being its
/// trip count; thread t of block b runs the iteration b * 256 + t.
static void mapToLaunch(scf::ParallelOp loop) {
  // Globals are addressed on the host: their memrefs become kernel
  // arguments.
  loop.getBody()->walk(
      [&](memref::GetGlobalOp global) { global->moveBefore(loop); });
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  Value one = b.createOrFold<arith::ConstantIndexOp>(loc, 1);
  SmallVector<Value> counts;
  Value total = one;
  for (auto [lower, upper, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    Value extent = b.createOrFold<arith::SubIOp>(loc, upper, lower);
    Value count = b.createOrFold<arith::CeilDivSIOp>(loc, extent, step);
    // An empty range (upper below lower) runs nothing; a size from a
    // memref's dims never is one.
    if (!isNonNegative(count)) {
      Value zero = b.createOrFold<arith::ConstantIndexOp>(loc, 0);
      count = b.createOrFold<arith::MaxSIOp>(loc, count, zero);
    }
    counts.push_back(count);
    total = b.createOrFold<arith::MulIOp>(loc, total, count);
  }
  Value blockSize = b.createOrFold<arith::ConstantIndexOp>(loc, kBlockSize);
  Value blocks = b.createOrFold<arith::CeilDivUIOp>(loc, total, blockSize);
  // A grid needs at least one block; the guard below idles its threads.
  blocks = b.createOrFold<arith::MaxUIOp>(loc, blocks, one);
  auto launch =
      gpu::LaunchOp::create(b, loc, blocks, one, one, blockSize, one, one);
  Block &body = launch.getBody().front();
  b.setInsertionPointToStart(&body);
  Value id = b.createOrFold<arith::AddIOp>(
      loc,
      b.createOrFold<arith::MulIOp>(loc, launch.getBlockIds().x, blockSize),
      launch.getThreadIds().x);
  Value inRange =
      b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, id, total);
  auto guard = scf::IfOp::create(b, loc, inRange, /*withElseRegion=*/false);
  gpu::TerminatorOp::create(b, loc);

  b.setInsertionPointToStart(guard.thenBlock());
  IRMapping mapping;
  // With static extents whose product fits 31 bits, the id splits in 32-bit
  // arithmetic: the GPU divides 64-bit integers in software.
  std::optional<int64_t> staticTotal = getConstantIntValue(total);
  bool narrow = staticTotal && *staticTotal < (int64_t(1) << 31);
  Type i32 = b.getI32Type();
  auto split = [&](Value value, Value count, bool remainder) -> Value {
    if (!narrow)
      return remainder ? b.createOrFold<arith::RemUIOp>(loc, value, count)
                       : b.createOrFold<arith::DivUIOp>(loc, value, count);
    Value count32 =
        arith::ConstantIntOp::create(b, loc, i32, *getConstantIntValue(count));
    return remainder ? b.createOrFold<arith::RemUIOp>(loc, value, count32)
                     : b.createOrFold<arith::DivUIOp>(loc, value, count32);
  };
  auto toIndex = [&](Value value) -> Value {
    return narrow ? b.createOrFold<arith::IndexCastUIOp>(loc, b.getIndexType(),
                                                         value)
                  : value;
  };
  Value rest = narrow ? b.createOrFold<arith::IndexCastUIOp>(loc, i32, id) : id;
  int64_t rank = counts.size();
  for (int64_t d = rank - 1; d >= 0; --d) {
    Value index = rest;
    if (d > 0) {
      index = split(rest, counts[d], /*remainder=*/true);
      rest = split(rest, counts[d], /*remainder=*/false);
    }
    index = toIndex(index);
    Value iv = b.createOrFold<arith::AddIOp>(
        loc, loop.getLowerBound()[d],
        b.createOrFold<arith::MulIOp>(loc, index, loop.getStep()[d]));
    mapping.map(loop.getInductionVars()[d], iv);
  }
  for (Operation &op : loop.getBody()->without_terminator())
    b.clone(op, mapping);
  loop.erase();
}

namespace {
struct MapParallelLoops
    : kiln::impl::KilnGPUMapParallelLoopsBase<MapParallelLoops> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    SmallVector<memref::CopyOp> copies;
    func.walk([&](memref::CopyOp copy) { copies.push_back(copy); });
    for (memref::CopyOp copy : copies)
      copyAsLoop(copy);

    SmallVector<scf::ParallelOp> loops;
    func.walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (isa<gpu::LaunchOp>(op))
        return WalkResult::skip();
      if (auto loop = dyn_cast<scf::ParallelOp>(op)) {
        loops.push_back(loop);
        return WalkResult::skip();
      }
      return WalkResult::advance();
    });
    SymbolTableCollection symbols;
    for (scf::ParallelOp loop : loops)
      if (loop.getNumResults() == 0 && runsOnDevice(loop, symbols))
        mapToLaunch(loop);
  }
};
} // namespace
