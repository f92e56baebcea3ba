//===- InferShapes.cpp - refine kiln result types -------------------------===//

#include "kiln/Dialect/Kiln/Transforms/Passes.h"

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"

namespace kiln {
#define GEN_PASS_DEF_KILNINFERSHAPES
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

/// The more precise of two compatible types (a static dim wins).
static Type meet(Type declared, Type inferred) {
  auto d = dyn_cast<RankedTensorType>(declared);
  auto i = dyn_cast<RankedTensorType>(inferred);
  if (!d || !i || d.getRank() != i.getRank())
    return declared;
  SmallVector<int64_t> shape(d.getShape());
  for (auto [out, dim] : llvm::zip_equal(shape, i.getShape()))
    if (ShapedType::isDynamic(out))
      out = dim;
  return d.clone(shape);
}

namespace {
struct KilnInferShapesPass
    : public kiln::impl::KilnInferShapesBase<KilnInferShapesPass> {
  void runOnOperation() override {
    func::FuncOp func = getOperation();
    WalkResult result = func.walk([&](InferTypeOpInterface op) {
      if (!isa<KilnDialect>(op->getDialect()))
        return WalkResult::advance();
      SmallVector<Type> inferred;
      if (failed(op.inferReturnTypes(op->getContext(), op->getLoc(),
                                     op->getOperands(), op->getAttrDictionary(),
                                     op->getPropertiesStorage(),
                                     op->getRegions(), inferred)))
        return WalkResult::interrupt();
      for (auto [value, type] : llvm::zip_equal(op->getResults(), inferred)) {
        // Ops of other dialects (the scf.yield of a loop body, say) may
        // need the type as it is; the function's return follows below.
        bool refinable = llvm::all_of(value.getUsers(), [](Operation *user) {
          return isa<KilnDialect>(user->getDialect()) ||
                 isa<func::ReturnOp>(user);
        });
        if (refinable)
          value.setType(meet(value.getType(), type));
      }
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    // Keep the signature in step with what the function returns.
    Operation *terminator = func.getBody().back().getTerminator();
    func.setType(FunctionType::get(func.getContext(), func.getArgumentTypes(),
                                   terminator->getOperandTypes()));
  }
};
} // namespace
