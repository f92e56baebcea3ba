//===- ReductionOps.cpp - import of ONNX Reduce* operators ----------------===//

#include "NodeImporter.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

/// A reduction over axes known at run time only. The result keeps the
/// rank (or loses one dim per axis without keepdims). Each dim d is reduced
/// where the axes name it: `where(named[d], reduce(y, d), y)` keeps the
/// shape (the reduced values broadcast back), and a final slice to extent 1
/// along the named dims leaves the result. Reductions that compose
/// (sum of sums, max of maxes, ...) compose this way; the sum of squares and
/// the log of the sum square first and take the log last.
template <typename OpTy>
static LogicalResult importRuntimeAxes(NodeImporter &n) {
  RankedTensorType axesType = n.operandType(1);
  if (axesType.getRank() != 1 || axesType.isDynamicDim(0))
    return n.emitError() << "axes must be a constant or a 1-D tensor of static "
                            "size (the result's rank depends on it), got "
                         << axesType;
  int64_t count = axesType.getDimSize(0);
  Decomposer b(n);
  Value x = n.operand(0);
  int64_t rank = b.rank(x);
  Type i64 = n.getBuilder().getI64Type();
  Value named = b.axisMask(n.operand(1), rank);
  auto reduceNamed = [&](auto tag, Value y) {
    using ReduceTy = decltype(tag);
    for (int64_t d = 0; d < rank; ++d) {
      Value reduced = b.reduce<ReduceTy>(y, {d}, true);
      Value flag = b.reshape(b.element(named, d), b.ints({}));
      y = b.op<WhereOp>({flag, reduced, y});
    }
    return y;
  };
  Value y;
  if constexpr (std::is_same_v<OpTy, ReduceSumSquareOp>)
    y = reduceNamed(ReduceSumOp(), b.op<MulOp>({x, x}));
  else if constexpr (std::is_same_v<OpTy, ReduceLogSumOp>)
    y = b.op<LogOp>(reduceNamed(ReduceSumOp(), x));
  else
    y = reduceNamed(OpTy(), x);
  SmallVector<int64_t> all, zeros(rank, 0), ones(rank, 1);
  for (int64_t d = 0; d < rank; ++d)
    all.push_back(d);
  Value ends = b.op<WhereOp>({named, b.scalar(i64, 1), b.shape(x)});
  y = b.op<SliceOp>({y, b.ints(zeros), ends, b.ints(all), b.ints(ones)});
  if (n.intAttr("keepdims", 1) == 0)
    y = b.dropDims(y, named, rank - count);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

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
    std::optional<SmallVector<int64_t>> values = getConstantInts(n.operand(1));
    RankedTensorType axesType = n.operandType(1);
    bool empty = axesType.hasStaticShape() && axesType.getNumElements() == 0;
    if (!values && !empty)
      return importRuntimeAxes<OpTy>(n);
    if (values)
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
