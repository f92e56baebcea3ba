//===- DeviceConstants.cpp - host code addresses device copies of constants
//===//

#include "kiln/Target/NVPTX/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"

namespace kiln {
#define GEN_PASS_DEF_KILNGPUDEVICECONSTANTS
#include "kiln/Target/NVPTX/Passes.h.inc"
} // namespace kiln

using namespace mlir;

/// The runtime function that returns the device copy of a constant.
static constexpr llvm::StringLiteral kConstantFunction = "kiln_cuda_constant";

namespace {
struct DeviceConstants
    : kiln::impl::KilnGPUDeviceConstantsBase<DeviceConstants> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    MLIRContext *context = &getContext();
    auto pointer = LLVM::LLVMPointerType::get(context);
    auto i64 = IntegerType::get(context, 64);
    SymbolTable table(module);
    SmallVector<LLVM::AddressOfOp> uses;
    module.walk([&](LLVM::AddressOfOp address) {
      if (address.getGlobalName().starts_with("__kiln_const_") &&
          address->getParentOfType<LLVM::LLVMFuncOp>())
        uses.push_back(address);
    });
    if (uses.empty())
      return;
    auto callee = table.lookup<LLVM::LLVMFuncOp>(kConstantFunction);
    if (!callee) {
      OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
      callee = LLVM::LLVMFuncOp::create(
          b, module.getLoc(), kConstantFunction,
          LLVM::LLVMFunctionType::get(pointer, {pointer, i64}));
    }
    DataLayout layout(module);
    for (LLVM::AddressOfOp address : uses) {
      auto global = table.lookup<LLVM::GlobalOp>(address.getGlobalName());
      if (!global) {
        address.emitError("no global '") << address.getGlobalName() << "'";
        return signalPassFailure();
      }
      OpBuilder b(address->getContext());
      b.setInsertionPointAfter(address);
      Location loc = address.getLoc();
      Value bytes = LLVM::ConstantOp::create(
          b, loc, i64,
          static_cast<int64_t>(layout.getTypeSize(global.getGlobalType())));
      auto call = LLVM::CallOp::create(b, loc, callee,
                                       ValueRange{address.getResult(), bytes});
      address.getResult().replaceAllUsesExcept(call.getResult(), call);
    }
  }
};
} // namespace
