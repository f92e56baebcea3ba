//===- ParallelCopies.cpp - memref.copy as parallel linalg.copy -----------===//

#include "kiln/Target/CPU/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCPUPARALLELCOPIES
#include "kiln/Target/CPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {
struct KilnCPUParallelCopiesPass
    : public kiln::impl::KilnCPUParallelCopiesBase<KilnCPUParallelCopiesPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> copies;
    getOperation().walk([&](memref::CopyOp copy) {
      auto source = dyn_cast<MemRefType>(copy.getSource().getType());
      auto target = dyn_cast<MemRefType>(copy.getTarget().getType());
      if (source && target && source.getRank() > 0)
        copies.push_back(copy);
    });
    for (memref::CopyOp copy : copies) {
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(),
                             copy.getTarget());
      copy.erase();
    }
  }
};
} // namespace
