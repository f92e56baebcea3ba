//===- ReductionOps.cpp - import of ONNX Reduce* operators ----------------===//

#include "NodeImporter.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

/// Reduce* ops: `axes` is an attribute until `axesInputSince` (13 for
/// ReduceSum, 18 for the others) and an optional constant input from then on,
/// which also brings `noop_with_empty_axes`.
template <typename OpTy>
static LogicalResult importReduce(NodeImporter &n, int axesInputSince) {
  if (failed(n.requireOperands(1)))
    return failure();
  SmallVector<int64_t> axes;
  if (n.getOpset() < axesInputSince) {
    axes = n.intsAttr("axes");
  } else if (n.hasOperand(1)) {
    FailureOr<SmallVector<int64_t>> values = n.constantInts(1, "axes");
    if (failed(values))
      return failure();
    axes = *values;
  }
  if (axes.empty() && n.intAttr("noop_with_empty_axes", 0) != 0)
    return n.setResults(n.operand(0));
  return n.setResult(n.create<OpTy>(
      n.operand(0), {n.namedI64s("axes", axes),
                     n.namedBool("keepdims", n.intAttr("keepdims", 1) != 0)}));
}

void onnx_import::registerReductionOps(OpRegistry &r) {
  auto reduceMean = [](NodeImporter &n) {
    return importReduce<ReduceMeanOp>(n, 18);
  };
  auto reduceMax = [](NodeImporter &n) {
    return importReduce<ReduceMaxOp>(n, 18);
  };
  auto reduceSum = [](NodeImporter &n) {
    return importReduce<ReduceSumOp>(n, 13);
  };
  r.add("ReduceMean", {1, 11, 13, 18}, reduceMean);
  r.add("ReduceMax", {1, 11, 12, 13, 18, 20}, reduceMax);
  r.add("ReduceSum", {1, 11, 13}, reduceSum);
}
