//===- SelectKernels.cpp - the CPU strategy: a kernel per contraction -----===//
//
// Decides, on linalg on tensors, which contractions the runtime's
// microkernels compute, for which instruction set, and records the decision
// on the op (`kiln.ukernel`) where tests and `--mlir-print-ir-after` see it.
//
//===----------------------------------------------------------------------===//

#include "Contraction.h"

#include "kiln/Target/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "llvm/TargetParser/Host.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCPUSELECTKERNELS
#include "kiln/Target/CPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::cpu;

/// The widest microkernel instruction set of this machine.
static ISA hostISA() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  if (features.lookup("avx512f"))
    return ISA::AVX512;
  if (features.lookup("avx2") && features.lookup("fma"))
    return ISA::AVX2;
  return ISA::Generic;
}

/// Whether a convolution has one input and one output channel per group
/// (depthwise): as a matrix product it would have one row, so it gets the
/// direct kernel instead.
static bool isDepthwise(linalg::LinalgOp op) {
  auto weight = cast<ShapedType>(op.getDpsInputOperand(1)->get().getType());
  return weight.getDimSize(1) == 1 && weight.getDimSize(2) == 1;
}

namespace {
struct KilnCPUSelectKernelsPass
    : public kiln::impl::KilnCPUSelectKernelsBase<KilnCPUSelectKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    std::optional<ISA> target = isa == "host" ? hostISA() : parseISA(isa);
    if (!target) {
      getOperation().emitError("kiln-cpu-select-kernels: unknown isa '")
          << isa << "' (avx512, avx2, generic or host)";
      return signalPassFailure();
    }
    std::pair<int64_t, int64_t> tile = registerTile(*target);
    Builder b(&getContext());
    auto decision = [&](StringRef kernel) {
      return b.getDictionaryAttr(
          {b.getNamedAttr("kernel", b.getStringAttr(kernel)),
           b.getNamedAttr("isa", b.getStringAttr(stringifyISA(*target))),
           b.getNamedAttr("register_tile",
                          b.getDenseI64ArrayAttr({tile.first, tile.second}))});
    };
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op.hasPureTensorSemantics())
        return;
      if (matchGemm(op))
        op->setAttr(kUKernelAttr, decision("sgemm"));
      else if (matchConv2D(op))
        op->setAttr(kUKernelAttr,
                    decision(isDepthwise(op) ? "sdwconv2d" : "sconv2d"));
    });
  }
};
} // namespace
