//===- Sparsify.cpp - N:M semi-structured weight pruning ------------------===//
//
// kiln-sparsify: along the reduction of each product with constant weights,
// every run of m consecutive weights keeps the n of largest magnitude.
//
//===----------------------------------------------------------------------===//

#include "GraphUtils.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Dialect/Kiln/Transforms/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cmath>
#include <numeric>

namespace kiln {
#define GEN_PASS_DEF_KILNSPARSIFY
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::graph;

namespace {

/// How the reduction runs through a weight of static shape: `count` runs
/// (one per output element: conv output channel, matmul column), each
/// `length` weights, weight i of run r at r * runStride + i * step.
struct Reduction {
  int64_t count, length, runStride, step;
};

/// The reduction of product `op`'s weight, or nothing (batched matmul
/// weights, dynamic shapes).
std::optional<Reduction> reductionOf(Operation *op, RankedTensorType type) {
  if (!type.hasStaticShape() || type.getRank() < 2)
    return std::nullopt;
  ArrayRef<int64_t> shape = type.getShape();
  if (isa<ConvOp>(op)) {
    // [m][c/g][kh][kw]: each output channel's row is contiguous.
    int64_t per = type.getNumElements() / shape[0];
    return Reduction{shape[0], per, per, 1};
  }
  if (type.getRank() != 2)
    return std::nullopt;
  bool transposed = false;
  if (auto gemm = dyn_cast<GemmOp>(op))
    transposed = gemm.getTransB();
  // [k][n], or [n][k] for gemm's trans_b.
  if (transposed)
    return Reduction{shape[0], shape[1], shape[1], 1};
  return Reduction{shape[1], shape[0], 1, shape[1]};
}

struct KilnSparsifyPass
    : public kiln::impl::KilnSparsifyBase<KilnSparsifyPass> {
  using Base::Base;
  void runOnOperation() override {
    if (n <= 0 || m <= n) {
      getOperation().emitError("kiln-sparsify: needs 0 < n < m, got ")
          << n.getValue() << ":" << m.getValue();
      return signalPassFailure();
    }
    SmallVector<Operation *> products;
    getOperation().walk([&](Operation *op) {
      if (isa<ConvOp, MatMulOp, GemmOp>(op))
        products.push_back(op);
    });
    for (Operation *op : products) {
      Value weight = op->getOperand(1);
      auto type = dyn_cast<RankedTensorType>(weight.getType());
      std::optional<Reduction> reduction =
          type ? reductionOf(op, type) : std::nullopt;
      std::optional<SmallVector<double>> values =
          reduction ? getConstantFloats(weight) : std::nullopt;
      if (!values)
        continue;
      int64_t zeroed = 0;
      SmallVector<int64_t> order;
      for (int64_t r = 0; r < reduction->count; ++r)
        for (int64_t start = 0; start < reduction->length; start += m) {
          int64_t length = std::min<int64_t>(m, reduction->length - start);
          auto at = [&](int64_t i) -> double & {
            return (*values)[r * reduction->runStride +
                             (start + i) * reduction->step];
          };
          order.resize(length);
          std::iota(order.begin(), order.end(), 0);
          // Largest magnitude first; ties keep the earlier weight.
          llvm::sort(order, [&](int64_t a, int64_t b) {
            double x = std::fabs(at(a)), y = std::fabs(at(b));
            return x != y ? x > y : a < b;
          });
          for (int64_t i = n; i < length; ++i) {
            double &w = at(order[i]);
            zeroed += w != 0.0;
            w = 0.0;
          }
        }
      OpBuilder b(op);
      op->setOperand(1, createFloatConstant(b, op->getLoc(), type, *values,
                                            constantName(weight) + "_sparse"));
      op->setAttr("kiln.sparsified",
                  b.getDenseI64ArrayAttr({zeroed, type.getNumElements()}));
      numZeroed += zeroed;
    }
  }
};

} // namespace
