//===- IndexingOps.cpp - import of range, scans, scatters, selections -----===//
//
// Range, CumSum, GatherND, ScatterElements/Scatter, ScatterND, NonZero,
// TopK, Einsum and Det map to kiln ops of their own. EyeLike, OneHot,
// ReverseSequence and Compress are compositions of those with elementwise
// ops.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

static LogicalResult importRange(NodeImporter &n) {
  if (failed(n.requireOperands(3)))
    return failure();
  return n.setResult(
      n.create<RangeOp>({n.operand(0), n.operand(1), n.operand(2)}));
}

static LogicalResult importCumSum(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  return n.setResult(n.create<CumSumOp>(
      {n.operand(0), n.operand(1)},
      {n.namedBool("exclusive", n.intAttr("exclusive", 0) != 0),
       n.namedBool("reverse", n.intAttr("reverse", 0) != 0)}));
}

static LogicalResult importGatherND(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  return n.setResult(n.create<GatherNDOp>(
      {n.operand(0), n.operand(1)},
      {n.namedI64("batch_dims", n.intAttr("batch_dims", 0))}));
}

/// ScatterElements, and Scatter (its deprecated name, without reduction).
static LogicalResult importScatterElements(NodeImporter &n) {
  if (failed(n.requireOperands(3)))
    return failure();
  return n.setResult(n.create<ScatterElementsOp>(
      {n.operand(0), n.operand(1), n.operand(2)},
      {n.namedI64("axis", n.intAttr("axis", 0)),
       n.namedStr("reduction", n.stringAttr("reduction", "none"))}));
}

static LogicalResult importScatterND(NodeImporter &n) {
  if (failed(n.requireOperands(3)))
    return failure();
  return n.setResult(n.create<ScatterNDOp>(
      {n.operand(0), n.operand(1), n.operand(2)},
      {n.namedStr("reduction", n.stringAttr("reduction", "none"))}));
}

static LogicalResult importNonZero(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  if (n.operandType(0).getRank() == 0)
    return n.emitError() << "a rank-0 input is not supported";
  return n.setResult(n.create<NonZeroOp>(n.operand(0)));
}

/// TopK: `k` is an attribute before opset 10, an input from then on.
static LogicalResult importTopK(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  Value k = n.getOpset() < 10 ? n.constI64({n.intAttr("k", 0)}) : n.operand(1);
  if (!k)
    return n.emitError() << "input 1 (K) is required";
  if (n.getOpset() >= 11 && n.intAttr("sorted", 1) == 0)
    n.emitWarning() << "sorted = 0 leaves the order unspecified; Kiln returns "
                       "the elements sorted";
  FailureOr<SmallVector<Value>> results =
      n.build<TopKOp>({n.operand(0), k},
                      {n.namedI64("axis", n.intAttr("axis", -1)),
                       n.namedBool("largest", n.intAttr("largest", 1) != 0)});
  if (failed(results))
    return failure();
  return n.setResults(*results);
}

static LogicalResult importEinsum(NodeImporter &n) {
  FailureOr<SmallVector<Value>> inputs = n.allOperands();
  if (failed(inputs))
    return failure();
  if (!n.hasAttr("equation"))
    return n.emitError() << "attribute 'equation' is required";
  SmallVector<int64_t> ranks;
  for (Value v : *inputs)
    ranks.push_back(cast<RankedTensorType>(v.getType()).getRank());
  std::string equation = n.stringAttr("equation", ""), error;
  if (failed(parseEinsum(equation, ranks, error)))
    return n.emitError() << "equation '" << equation << "' " << error;
  return n.setResult(
      n.create<EinsumOp>(*inputs, {n.namedStr("equation", equation)}));
}

//===----------------------------------------------------------------------===//
// Compositions
//===----------------------------------------------------------------------===//

/// EyeLike: ones where column - row == k, as compares of two iotas.
static LogicalResult importDet(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  return n.setResult(n.create<DetOp>(n.operand(0)));
}

static LogicalResult importEyeLike(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  if (n.operandType(0).getRank() != 2)
    return n.emitError() << "expects a 2-D input, got " << n.operandType(0);
  Type element = n.operandType(0).getElementType();
  if (n.hasAttr("dtype")) {
    element = convertElementType(n.getContext(), n.intAttr("dtype", 1));
    if (!element)
      return n.emitError() << "unsupported dtype " << n.intAttr("dtype", 1);
  }
  Decomposer b(n);
  Value x = n.operand(0);
  Value rows = b.unsqueeze(b.iota(b.dim(x, 0)), {1});
  Value columns = b.unsqueeze(b.iota(b.dim(x, 1)), {0});
  Type i64 = n.getBuilder().getI64Type();
  Value shifted = b.op<AddOp>({rows, b.scalar(i64, n.intAttr("k", 0))});
  Value y = b.convert(b.op<EqualOp>({shifted, columns}), element);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// OneHot(indices, depth, values): where(iota(depth) == wrapped index,
/// on, off), the new dim at `axis`.
static LogicalResult importOneHot(NodeImporter &n) {
  if (failed(n.requireOperands(3)))
    return failure();
  Decomposer b(n);
  Type i64 = n.getBuilder().getI64Type();
  Value indices = n.operand(0), depth = n.operand(1), values = n.operand(2);
  int64_t rank = n.operandType(0).getRank();
  int64_t axis = n.intAttr("axis", -1);
  FailureOr<int64_t> normalized = normalizeAxis(axis, rank + 1);
  if (failed(normalized))
    return n.emitError() << "axis " << axis << " is out of range";
  // Float depths and indices are truncated, as the ONNX reference does.
  Value depth64 = b.convert(depth, i64);
  if (depth64 && b.rank(depth64) == 1)
    depth64 = b.reshape(depth64, b.ints({}));
  Value index = b.convert(indices, i64);
  Value negative = b.op<LessOp>({index, b.scalar(i64, 0)});
  index = b.op<WhereOp>({negative, b.op<AddOp>({index, depth64}), index});
  index = b.unsqueeze(index, {*normalized});
  // The class iota along `axis` of a rank + 1 result.
  Value classes = b.iota(depth64);
  SmallVector<int64_t> others;
  for (int64_t d = 0; d <= rank; ++d)
    if (d != *normalized)
      others.push_back(d);
  if (!others.empty())
    classes = b.unsqueeze(classes, others);
  Value hot = b.op<EqualOp>({index, classes});
  Value off = b.element(values, 0), on = b.element(values, 1);
  Value scalarShape = b.ints({});
  Value y = b.op<WhereOp>(
      {hot, b.reshape(on, scalarShape), b.reshape(off, scalarShape)});
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// ReverseSequence: a gather_elements along the time axis whose index is
/// len - 1 - t for t < len (the batch entry's length) and t after it.
static LogicalResult importReverseSequence(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  RankedTensorType type = n.operandType(0);
  int64_t rank = type.getRank();
  int64_t batchAxis = n.intAttr("batch_axis", 1);
  int64_t timeAxis = n.intAttr("time_axis", 0);
  if (rank < 2 || (batchAxis != 0 && batchAxis != 1) ||
      (timeAxis != 0 && timeAxis != 1) || batchAxis == timeAxis)
    return n.emitError() << "batch_axis and time_axis must be 0 and 1 in some "
                            "order, for an input of rank >= 2";
  Decomposer b(n);
  Type i64 = n.getBuilder().getI64Type();
  Value x = n.operand(0);
  auto alongAxis = [&](Value v, int64_t axis) {
    SmallVector<int64_t> others;
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        others.push_back(d);
    return b.unsqueeze(v, others);
  };
  Value time = alongAxis(b.iota(b.dim(x, timeAxis)), timeAxis);
  Value lengths = alongAxis(b.convert(n.operand(1), i64), batchAxis);
  Value reversed =
      b.op<SubOp>({b.op<SubOp>({lengths, b.scalar(i64, 1)}), time});
  Value index = b.op<WhereOp>({b.op<LessOp>({time, lengths}), reversed, time});
  index = b.op<ExpandOp>({index, b.shape(x)});
  Value y = b.op<GatherElementsOp>({x, index}, {n.namedI64("axis", timeAxis)});
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// Compress: a gather of the positions where the condition holds (the
/// condition may be shorter than the axis), of the flattened input when no
/// axis is given.
static LogicalResult importCompress(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  if (n.operandType(1).getRank() != 1)
    return n.emitError() << "condition must be 1-D, got " << n.operandType(1);
  Decomposer b(n);
  Value x = n.operand(0);
  int64_t axis = 0;
  if (n.hasAttr("axis")) {
    FailureOr<int64_t> a =
        normalizeAxis(n.intAttr("axis", 0), n.operandType(0).getRank());
    if (failed(a))
      return n.emitError() << "axis " << n.intAttr("axis", 0)
                           << " is out of range";
    axis = *a;
  } else {
    x = b.reshape(x, b.ints({-1}));
  }
  Value positions = b.reshape(b.op<NonZeroOp>(n.operand(1)), b.ints({-1}));
  Value y = b.op<GatherOp>({x, positions}, {n.namedI64("axis", axis)});
  if (b.failed())
    return failure();
  return n.setResults(y);
}

void onnx_import::registerIndexingOps(OpRegistry &r) {
  r.add("Range", 11, importRange);
  r.add("CumSum", {11, 14}, importCumSum);
  r.add("GatherND", {11, 12, 13}, importGatherND);
  r.add("ScatterElements", {11, 13, 16, 18}, importScatterElements);
  r.add("Scatter", {9, 11}, importScatterElements);
  r.add("ScatterND", {11, 13, 16, 18}, importScatterND);
  r.add("NonZero", {9, 13}, importNonZero);
  r.add("TopK", {1, 10, 11}, importTopK);
  r.add("Einsum", 12, importEinsum);
  r.add("Det", 11, importDet);
  r.add("EyeLike", 9, importEyeLike);
  r.add("OneHot", {9, 11}, importOneHot);
  r.add("ReverseSequence", 10, importReverseSequence);
  r.add("Compress", {9, 11}, importCompress);
}
