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

template <typename OpTy> static LogicalResult importArg(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  return n.setResult(n.create<OpTy>(
      n.operand(0), {n.namedI64("axis", n.intAttr("axis", 0)),
                     n.namedBool("keepdims", n.intAttr("keepdims", 1) != 0),
                     n.namedBool("select_last_index",
                                 n.intAttr("select_last_index", 0) != 0)}));
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
  auto since18 = [](auto tag) {
    using OpTy = decltype(tag);
    return [](NodeImporter &n) { return importReduce<OpTy>(n, 18); };
  };
  r.add("ReduceMin", {1, 11, 12, 13, 18, 20}, since18(ReduceMinOp()));
  r.add("ReduceProd", {1, 11, 13, 18}, since18(ReduceProdOp()));
  r.add("ReduceL1", {1, 11, 13, 18}, since18(ReduceL1Op()));
  r.add("ReduceL2", {1, 11, 13, 18}, since18(ReduceL2Op()));
  r.add("ReduceLogSum", {1, 11, 13, 18}, since18(ReduceLogSumOp()));
  r.add("ReduceLogSumExp", {1, 11, 13, 18}, since18(ReduceLogSumExpOp()));
  r.add("ReduceSumSquare", {1, 11, 13, 18}, since18(ReduceSumSquareOp()));
  r.add("ArgMax", {1, 11, 12, 13}, importArg<ArgMaxOp>);
  r.add("ArgMin", {1, 11, 12, 13}, importArg<ArgMinOp>);
  r.add("ReduceMax", {1, 11, 12, 13, 18, 20}, reduceMax);
  r.add("ReduceSum", {1, 11, 13}, reduceSum);
}
