//===- GatherKernels.cpp - one gpu.module for all kernels -----------------===//

#include "kiln/Target/NVPTX/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

namespace kiln {
#define GEN_PASS_DEF_KILNGPUGATHERKERNELS
#include "kiln/Target/NVPTX/Passes.h.inc"
} // namespace kiln

using namespace mlir;

/// The name of the module that holds every kernel.
static constexpr llvm::StringLiteral kKernelModule = "kiln_kernels";

/// The alignment of kernels' workgroup (shared memory) buffers, in bytes.
static constexpr int64_t kWorkgroupAlignment = 16;

namespace {
struct GatherKernels : kiln::impl::KilnGPUGatherKernelsBase<GatherKernels> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Constants first: their new names are what the host code will use.
    SymbolTable table(module);
    for (auto global :
         llvm::make_early_inc_range(module.getOps<memref::GlobalOp>())) {
      if (!global.getConstant())
        continue;
      std::string name = ("__kiln_const_" + global.getSymName()).str();
      if (failed(table.rename(global, StringAttr::get(&getContext(), name)))) {
        global.emitError("cannot rename the constant for the device");
        return signalPassFailure();
      }
    }

    SmallVector<gpu::GPUModuleOp> kernels(module.getOps<gpu::GPUModuleOp>());
    if (kernels.empty())
      return;
    OpBuilder b(kernels.front());
    auto target =
        gpu::GPUModuleOp::create(b, kernels.front().getLoc(), kKernelModule);
    if (auto targets = kernels.front().getTargetsAttr())
      target.setTargetsAttr(targets);
    SymbolTable inTarget(target);
    // Outlining names the modules uniquely but their kernels alike: each
    // kernel takes its module's name.
    for (gpu::GPUModuleOp source : kernels) {
      for (Operation &op :
           llvm::make_early_inc_range(source.getBody()->getOperations())) {
        auto symbol = dyn_cast<SymbolOpInterface>(op);
        auto kernel = dyn_cast<gpu::GPUFuncOp>(op);
        if (kernel && kernel.isKernel()) {
          kernel.setName(source.getName());
          // Workgroup buffers are read 16 bytes at a time.
          for (unsigned i = 0, e = kernel.getNumWorkgroupAttributions(); i < e;
               ++i)
            kernel.setWorkgroupAttributionAttr(
                i, LLVM::LLVMDialect::getAlignAttrName(),
                IntegerAttr::get(IntegerType::get(&getContext(), 64),
                                 kWorkgroupAlignment));
        }
        // A function several kernels call was cloned into each of their
        // modules; one copy stays.
        if (symbol && inTarget.lookup(symbol.getName())) {
          if (!kernel)
            continue;
          op.emitError("two kernels are named '") << symbol.getName() << "'";
          return signalPassFailure();
        }
        op.remove();
        inTarget.insert(&op);
      }
    }
    auto moduleName = StringAttr::get(&getContext(), kKernelModule);
    module.walk([&](gpu::LaunchFuncOp launch) {
      launch.setKernelAttr(SymbolRefAttr::get(
          moduleName, {FlatSymbolRefAttr::get(launch.getKernelModuleName())}));
    });
    for (gpu::GPUModuleOp source : kernels)
      source.erase();
  }
};
} // namespace
