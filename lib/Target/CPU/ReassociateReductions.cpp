//===- ReassociateReductions.cpp - vectorizable float sums ----------------===//

#include "Contraction.h"

#include "kiln/Target/CPU/Passes.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCPUREASSOCIATEREDUCTIONS
#include "kiln/Target/CPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;

namespace {
struct KilnCPUReassociateReductionsPass
    : public kiln::impl::KilnCPUReassociateReductionsBase<
          KilnCPUReassociateReductionsPass> {
  void runOnOperation() override {
    getOperation().walk([](linalg::LinalgOp op) {
      if (op.getNumReductionLoops() == 0 ||
          op->hasAttr(kiln::cpu::kUKernelAttr) || !op.getBlock())
        return;
      op.getBlock()->walk([](Operation *inner) {
        if (!isa<arith::AddFOp, arith::MulFOp>(inner))
          return;
        auto fastmath = cast<arith::ArithFastMathInterface>(inner);
        arith::FastMathFlags flags =
            fastmath.getFastMathFlagsAttr()
                ? fastmath.getFastMathFlagsAttr().getValue()
                : arith::FastMathFlags::none;
        inner->setAttr(
            fastmath.getFastMathAttrName(),
            arith::FastMathFlagsAttr::get(
                inner->getContext(), flags | arith::FastMathFlags::reassoc));
      });
    });
  }
};
} // namespace
