//===- AsyncLaunches.cpp - launches that do not wait for their kernels ----===//

#include "kiln/Target/NVPTX/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace kiln {
#define GEN_PASS_DEF_KILNGPUASYNCLAUNCHES
#include "kiln/Target/NVPTX/Passes.h.inc"
} // namespace kiln

using namespace mlir;

/// Whether the host can run `op` while kernels launched before it still
/// run: it touches no memory (index arithmetic, views, dims) or only
/// allocates or frees it (a freed block is reused in stream order, and
/// freeing device memory waits for the device).
static bool independentOfKernels(Operation *op) {
  if (isMemoryEffectFree(op))
    return true;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects || op->getNumRegions() != 0)
    return false;
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  return llvm::all_of(instances, [](const MemoryEffects::EffectInstance &e) {
    return isa<MemoryEffects::Allocate, MemoryEffects::Free>(e.getEffect());
  });
}

/// Makes the launches of `block` (and of the blocks nested in it) async,
/// each on the stream of the one before, and waits for them before the
/// first op that needs their results (or before the block ends).
static void chainLaunches(Block &block) {
  MLIRContext *context = block.getParentOp()->getContext();
  Type token = gpu::AsyncTokenType::get(context);
  Value last;
  auto wait = [&](Operation *before) {
    if (!last)
      return;
    OpBuilder b(before);
    gpu::WaitOp::create(b, before->getLoc(), Type(), ValueRange{last});
    last = Value();
  };
  for (Operation &op : llvm::make_early_inc_range(block)) {
    auto launch = dyn_cast<gpu::LaunchFuncOp>(op);
    if (launch && !launch.getAsyncToken()) {
      OpBuilder b(launch);
      Location loc = launch.getLoc();
      if (!last)
        last = gpu::WaitOp::create(b, loc, token, ValueRange{}).getAsyncToken();
      std::optional<gpu::KernelDim3> cluster;
      if (launch.hasClusterSize())
        cluster = launch.getClusterSizeOperandValues();
      auto async = gpu::LaunchFuncOp::create(
          b, loc, launch.getKernelAttr(), launch.getGridSizeOperandValues(),
          launch.getBlockSizeOperandValues(),
          launch.getDynamicSharedMemorySize(), launch.getKernelOperands(),
          token, ValueRange{last}, cluster);
      last = async.getAsyncToken();
      launch.erase();
      continue;
    }
    if (op.getNumRegions() != 0) {
      wait(&op);
      for (Region &region : op.getRegions())
        for (Block &nested : region)
          chainLaunches(nested);
      continue;
    }
    if (op.hasTrait<OpTrait::IsTerminator>() || !independentOfKernels(&op))
      wait(&op);
  }
}

namespace {
struct AsyncLaunches : kiln::impl::KilnGPUAsyncLaunchesBase<AsyncLaunches> {
  void runOnOperation() override {
    for (Block &block : getOperation().getBody())
      chainLaunches(block);
  }
};
} // namespace
