//===- IndexingOps.cpp - import of range, scans, scatters, selections -----===//
//
// Range, CumSum, GatherND, ScatterElements/Scatter, ScatterND, NonZero,
// TopK, Unique, Einsum and Det map to kiln ops of their own. EyeLike, OneHot,
// ReverseSequence and Compress are compositions of those with elementwise
// ops; TfIdfVectorizer compares shifted slices of the tokens with the pool's
// n-grams and scatters the counts.
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

/// TfIdfVectorizer over integer tokens ([C] or [B, C]): for each n-gram
/// length n of the pool and skip distance d (1 to max_skip_count + 1; one
/// pass for unigrams, which skips do not change), token k of every n-gram
/// starting at position i is X[i + k d]; each pool n-gram's count is the sum
/// over i of the product of the n matches. The counts (weighted for IDF and
/// TFIDF) are scattered (added) into the output columns ngram_indexes names.
static LogicalResult importTfIdfVectorizer(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  RankedTensorType type = n.operandType(0);
  if (!isa<IntegerType>(type.getElementType()))
    return n.emitError() << "needs integer tokens, got " << type
                         << " (string tokens are not supported)";
  if (type.getRank() != 1 && type.getRank() != 2)
    return n.emitError() << "expects [C] or [B, C] tokens, got " << type;
  std::string mode = n.stringAttr("mode", "");
  if (mode != "TF" && mode != "IDF" && mode != "TFIDF")
    return n.emitError() << "mode must be TF, IDF or TFIDF, got '" << mode
                         << "'";
  int64_t minLength = n.intAttr("min_gram_length", 0);
  int64_t maxLength = n.intAttr("max_gram_length", 0);
  int64_t maxSkip = n.intAttr("max_skip_count", 0);
  SmallVector<int64_t> starts = n.intsAttr("ngram_counts");
  SmallVector<int64_t> columns = n.intsAttr("ngram_indexes");
  SmallVector<int64_t> pool = n.intsAttr("pool_int64s");
  SmallVector<float> weights = n.floatsAttr("weights");
  if (n.hasAttr("pool_strings"))
    return n.emitError() << "pool_strings is not supported (integer tokens "
                            "only)";
  if (minLength < 1 || maxLength < minLength || maxSkip < 0)
    return n.emitError() << "needs 1 <= min_gram_length <= max_gram_length "
                            "and max_skip_count >= 0";
  // The pool's n-grams by length: length n holds those from starts[n - 1]
  // to the next start.
  SmallVector<SmallVector<int64_t>> grams; // per length, its pool offset
  int64_t gramCount = 0;
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t length = static_cast<int64_t>(i) + 1;
    int64_t begin = starts[i];
    int64_t end = i + 1 < starts.size() ? starts[i + 1]
                                        : static_cast<int64_t>(pool.size());
    if (begin < 0 || end < begin || end > static_cast<int64_t>(pool.size()) ||
        (end - begin) % length != 0)
      return n.emitError() << "ngram_counts does not split pool_int64s into "
                              "whole n-grams";
    gramCount += (end - begin) / length;
  }
  if (static_cast<int64_t>(columns.size()) != gramCount)
    return n.emitError() << "ngram_indexes has " << columns.size()
                         << " entries for " << gramCount << " pool n-grams";
  if (!weights.empty() && static_cast<int64_t>(weights.size()) != gramCount)
    return n.emitError() << "weights has " << weights.size() << " entries for "
                         << gramCount << " pool n-grams";
  if (llvm::any_of(columns, [](int64_t c) { return c < 0; }))
    return n.emitError() << "ngram_indexes must not be negative";
  int64_t width = columns.empty() ? 0 : *llvm::max_element(columns) + 1;

  OpBuilder &builder = n.getBuilder();
  Decomposer b(n);
  Type i64 = builder.getI64Type(), f32 = builder.getF32Type();
  Value x = b.convert(n.operand(0), i64);
  if (type.getRank() == 1)
    x = b.unsqueeze(x, {0});
  int64_t tokens = type.getDimSize(type.getRank() - 1);
  Value rowCount = b.dim(x, 0);
  // [B, n-grams] counts per length, in pool order.
  SmallVector<Value> counts;
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t length = static_cast<int64_t>(i) + 1;
    int64_t end = i + 1 < starts.size() ? starts[i + 1]
                                        : static_cast<int64_t>(pool.size());
    int64_t number = (end - starts[i]) / length;
    if (number == 0)
      continue;
    Value count;
    if (length >= minLength && length <= maxLength) {
      for (int64_t d = 1; d <= (length == 1 ? 1 : maxSkip + 1); ++d) {
        // Start positions: those whose n-gram fits the row.
        int64_t span = (length - 1) * d;
        if (!ShapedType::isDynamic(tokens) && span >= tokens)
          continue;
        Value size = b.op<SubOp>({b.dim(x, 1), b.ints({span})});
        Value matches;
        for (int64_t k = 0; k < length; ++k) {
          Value from = b.ints({k * d});
          Value at =
              b.unsqueeze(b.op<SliceOp>({x, from, b.op<AddOp>({from, size}),
                                         b.ints({1}), b.ints({1})}),
                          {2});
          SmallVector<int64_t> component;
          for (int64_t g = 0; g < number; ++g)
            component.push_back(pool[starts[i] + g * length + k]);
          Value token = b.unsqueeze(b.ints(component), {0, 1});
          Value match = b.op<EqualOp>({at, token});
          matches = matches ? b.op<AndOp>({matches, match}) : match;
        }
        Value found = b.reduce<ReduceSumOp>(b.convert(matches, f32), {1},
                                            /*keepdims=*/false);
        count = count ? b.op<AddOp>({count, found}) : found;
      }
    }
    if (!count) // Not counted (outside the lengths, or longer than a row).
      count = b.op<ExpandOp>(
          {b.scalar(f32, 0), b.concat({rowCount, b.ints({number})})});
    counts.push_back(count);
  }
  Value zeros =
      b.op<ExpandOp>({b.scalar(f32, 0), b.concat({rowCount, b.ints({width})})});
  Value y = zeros;
  if (!counts.empty()) {
    Value all = counts.size() == 1 ? counts.front() : b.concat(counts, 1);
    if (mode != "TF") {
      SmallVector<float> w(weights);
      if (w.empty())
        w.assign(gramCount, 1.0f);
      auto wType = RankedTensorType::get({gramCount}, f32);
      Value weight = b.op<ConstantOp>(
          {}, {n.named("value", DenseElementsAttr::get(wType, ArrayRef(w)))});
      all = mode == "IDF"
                ? b.op<WhereOp>({b.op<GreaterOp>({all, b.scalar(f32, 0)}),
                                 weight, b.scalar(f32, 0)})
                : b.op<MulOp>({all, weight});
    }
    Value where = b.op<ExpandOp>({b.unsqueeze(b.ints(columns), {0}),
                                  b.concat({rowCount, b.ints({gramCount})})});
    y = b.op<ScatterElementsOp>(
        {zeros, where, all},
        {n.namedI64("axis", 1), n.namedStr("reduction", "add")});
  }
  if (type.getRank() == 1)
    y = b.squeeze(y, {0});
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// Unique: the rows are the slices along `axis` (moved first, the rest
/// flattened), or the single elements without an axis; kiln.unique finds
/// the distinct ones, which are reshaped and moved back.
static LogicalResult importUnique(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  Value x = n.operand(0);
  RankedTensorType type = n.operandType(0);
  int64_t rank = type.getRank();
  Decomposer b(n);
  bool hasAxis = n.hasAttr("axis");
  int64_t axis = 0;
  SmallVector<int64_t> perm;
  Value rows;
  if (hasAxis) {
    FailureOr<int64_t> normalized = normalizeAxis(n.intAttr("axis", 0), rank);
    if (failed(normalized) || rank == 0)
      return n.emitError() << "axis " << n.intAttr("axis", 0)
                           << " is out of range for " << type;
    axis = *normalized;
    perm.push_back(axis);
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        perm.push_back(d);
    Value moved = b.transpose(x, perm);
    rows = b.reshape(moved, b.concat({b.dim(x, axis), b.ints({-1})}));
  } else {
    rows = b.reshape(x, b.ints({-1, 1}));
  }
  SmallVector<Value> results = b.ops<UniqueOp>(
      rows, {n.namedBool("sorted", n.intAttr("sorted", 1) != 0)});
  if (b.failed())
    return failure();
  Value y = results[0];
  if (hasAxis) {
    // [u, s] -> [u, the other dims] -> the axis back in place.
    SmallVector<Value> shape = {b.ints({-1})};
    for (int64_t d = 0; d < rank; ++d)
      if (d != axis)
        shape.push_back(b.dim(x, d));
    y = b.reshape(y, b.concat(shape));
    SmallVector<int64_t> back(rank);
    for (int64_t d = 0; d < rank; ++d)
      back[perm[d]] = d;
    y = b.transpose(y, back);
  } else {
    y = b.reshape(y, b.ints({-1}));
  }
  if (b.failed())
    return failure();
  return n.setResults({y, results[1], results[2], results[3]});
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
  r.add("Unique", 11, importUnique);
  r.add("Einsum", 12, importEinsum);
  r.add("Det", 11, importDet);
  r.add("EyeLike", 9, importEyeLike);
  r.add("OneHot", {9, 11}, importOneHot);
  r.add("ReverseSequence", 10, importReverseSequence);
  r.add("Compress", {9, 11}, importCompress);
  r.add("TfIdfVectorizer", 9, importTfIdfVectorizer);
}
