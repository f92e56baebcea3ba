//===- IndexingOps.cpp - range, scans, scatters, selections, einsum -------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace kiln;

/// Whether `type` holds exactly one element (a scalar or a 1-element
/// vector), or might at run time.
static bool holdsOneElement(RankedTensorType type) {
  if (type.getRank() > 1)
    return false;
  return !type.hasStaticShape() || type.getNumElements() == 1;
}

/// Whether two dims can be equal at run time.
static bool compatibleDims(int64_t a, int64_t b) {
  return succeeded(verifyCompatibleDims({a, b}));
}

//===----------------------------------------------------------------------===//
// RangeOp
//===----------------------------------------------------------------------===//

LogicalResult RangeOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto start = cast<RankedTensorType>(adaptor.getStart().getType());
  types.push_back(
      RankedTensorType::get({ShapedType::kDynamic}, start.getElementType()));
  return success();
}

LogicalResult RangeOp::verify() {
  for (Value v : {getStart(), getLimit(), getDelta()})
    if (!holdsOneElement(cast<RankedTensorType>(v.getType())))
      return emitOpError("start, limit and delta must be scalars, got ")
             << v.getType();
  return success();
}

//===----------------------------------------------------------------------===//
// CumSumOp
//===----------------------------------------------------------------------===//

LogicalResult CumSumOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult CumSumOp::verify() {
  if (getInput().getType().getRank() < 1)
    return emitOpError("input must have rank >= 1");
  if (!holdsOneElement(getAxis().getType()))
    return emitOpError("axis must hold one element, got ")
           << getAxis().getType();
  return success();
}

//===----------------------------------------------------------------------===//
// GatherNDOp
//===----------------------------------------------------------------------===//

LogicalResult GatherNDOp::inferReturnTypes(MLIRContext *,
                                           std::optional<Location>,
                                           Adaptor adaptor,
                                           SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto indices = cast<RankedTensorType>(adaptor.getIndices().getType());
  int64_t batch = adaptor.getBatchDims();
  if (indices.getRank() < 1 || indices.isDynamicDim(indices.getRank() - 1))
    return failure();
  int64_t tuple = indices.getDimSize(indices.getRank() - 1);
  if (batch + tuple > input.getRank())
    return failure();
  SmallVector<int64_t> shape(indices.getShape().drop_back());
  for (int64_t d = batch + tuple; d < input.getRank(); ++d)
    shape.push_back(input.getDimSize(d));
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult GatherNDOp::verify() {
  RankedTensorType input = getInput().getType(),
                   indices = getIndices().getType();
  int64_t batch = getBatchDims();
  if (indices.getRank() < 1 || indices.isDynamicDim(indices.getRank() - 1))
    return emitOpError("indices must end in a dim of static size, got ")
           << indices;
  if (batch < 0 || batch >= std::min(input.getRank(), indices.getRank()))
    return emitOpError("batch_dims ") << batch << " is out of range";
  if (batch + indices.getDimSize(indices.getRank() - 1) > input.getRank())
    return emitOpError("index tuples are longer than the input's rank");
  return success();
}

//===----------------------------------------------------------------------===//
// ScatterElementsOp and ScatterNDOp
//===----------------------------------------------------------------------===//

LogicalResult
ScatterElementsOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                    Adaptor adaptor,
                                    SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult ScatterElementsOp::verify() {
  int64_t rank = getInput().getType().getRank();
  if (getIndices().getType().getRank() != rank ||
      getUpdates().getType().getRank() != rank)
    return emitOpError("indices and updates must have the input's rank ")
           << rank;
  if (failed(normalizeAxis(getAxis(), rank)))
    return emitOpError("axis ")
           << getAxis() << " is out of range for rank " << rank;
  return success();
}

LogicalResult ScatterNDOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location>,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult ScatterNDOp::verify() {
  RankedTensorType input = getInput().getType(),
                   indices = getIndices().getType();
  if (indices.getRank() < 1 || indices.isDynamicDim(indices.getRank() - 1))
    return emitOpError("indices must end in a dim of static size, got ")
           << indices;
  int64_t tuple = indices.getDimSize(indices.getRank() - 1);
  if (tuple > input.getRank())
    return emitOpError("index tuples are longer than the input's rank");
  int64_t updatesRank = indices.getRank() - 1 + input.getRank() - tuple;
  if (getUpdates().getType().getRank() != updatesRank)
    return emitOpError("updates must have rank ") << updatesRank;
  return success();
}

//===----------------------------------------------------------------------===//
// NonZeroOp and TopKOp
//===----------------------------------------------------------------------===//

LogicalResult NonZeroOp::inferReturnTypes(MLIRContext *context,
                                          std::optional<Location>,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  types.push_back(RankedTensorType::get(
      {std::max<int64_t>(input.getRank(), 1), ShapedType::kDynamic},
      IntegerType::get(context, 64)));
  return success();
}

LogicalResult TopKOp::inferReturnTypes(MLIRContext *context,
                                       std::optional<Location>, Adaptor adaptor,
                                       SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  FailureOr<int64_t> axis = normalizeAxis(adaptor.getAxis(), input.getRank());
  if (failed(axis))
    return failure();
  SmallVector<int64_t> shape(input.getShape());
  shape[*axis] = ShapedType::kDynamic;
  std::optional<SmallVector<int64_t>> k = getConstantInts(adaptor.getK());
  if (k && k->size() == 1)
    shape[*axis] = k->front();
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  types.push_back(RankedTensorType::get(shape, IntegerType::get(context, 64)));
  return success();
}

LogicalResult TopKOp::verify() {
  int64_t rank = getInput().getType().getRank();
  if (failed(normalizeAxis(getAxis(), rank)))
    return emitOpError("axis ")
           << getAxis() << " is out of range for rank " << rank;
  if (!holdsOneElement(getK().getType()))
    return emitOpError("k must hold one element, got ") << getK().getType();
  return success();
}

//===----------------------------------------------------------------------===//
// UniqueOp
//===----------------------------------------------------------------------===//

LogicalResult UniqueOp::inferReturnTypes(MLIRContext *context,
                                         std::optional<Location>,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  if (input.getRank() != 2)
    return failure();
  Type i64 = IntegerType::get(context, 64);
  int64_t dynamic = ShapedType::kDynamic;
  types.push_back(RankedTensorType::get({dynamic, input.getDimSize(1)},
                                        input.getElementType()));
  types.push_back(RankedTensorType::get({dynamic}, i64));
  types.push_back(RankedTensorType::get({input.getDimSize(0)}, i64));
  types.push_back(RankedTensorType::get({dynamic}, i64));
  return success();
}

LogicalResult UniqueOp::verify() {
  if (getInput().getType().getRank() != 2)
    return emitOpError("expects [n, s] rows, got ") << getInput().getType();
  return success();
}

//===----------------------------------------------------------------------===//
// EinsumOp
//===----------------------------------------------------------------------===//

FailureOr<EinsumSpec> kiln::parseEinsum(StringRef equation,
                                        ArrayRef<int64_t> ranks,
                                        std::string &error) {
  std::string compact;
  for (char c : equation)
    if (c != ' ')
      compact.push_back(c);
  StringRef text(compact);
  auto [lhs, rhs] = text.split("->");
  bool explicitOutput = text.contains("->");
  SmallVector<StringRef> terms;
  lhs.split(terms, ',');
  if (terms.size() != ranks.size()) {
    error = "has " + std::to_string(terms.size()) + " input terms for " +
            std::to_string(ranks.size()) + " operands";
    return failure();
  }
  auto labelOf = [](char c) -> int {
    if (c >= 'a' && c <= 'z')
      return c - 'a';
    if (c >= 'A' && c <= 'Z')
      return 26 + (c - 'A');
    return -1;
  };
  // The number of dims "..." stands for: the most any operand leaves over.
  EinsumSpec spec;
  SmallVector<int64_t> ellipsisDims;
  for (auto [term, rank] : llvm::zip(terms, ranks)) {
    int64_t letters = 0;
    bool ellipsis = term.contains("...");
    for (char c : term)
      if (c != '.')
        ++letters;
    int64_t extra = ellipsis ? rank - letters : 0;
    if (extra < 0 || (!ellipsis && letters != rank)) {
      error = "term '" + term.str() + "' does not match an operand of rank " +
              std::to_string(rank);
      return failure();
    }
    ellipsisDims.push_back(extra);
    spec.numEllipsisDims = std::max(spec.numEllipsisDims, extra);
  }
  auto parseTerm = [&](StringRef term, int64_t extra,
                       SmallVector<int64_t> &labels) -> LogicalResult {
    for (size_t i = 0; i < term.size(); ++i) {
      if (term.substr(i).starts_with("...")) {
        for (int64_t j = spec.numEllipsisDims - extra; j < spec.numEllipsisDims;
             ++j)
          labels.push_back(EinsumSpec::kFirstEllipsisLabel + j);
        i += 2;
        continue;
      }
      int label = labelOf(term[i]);
      if (label < 0) {
        error = std::string("has an invalid label '") + term[i] + "'";
        return failure();
      }
      labels.push_back(label);
    }
    return success();
  };
  for (auto [term, extra] : llvm::zip(terms, ellipsisDims)) {
    spec.inputs.emplace_back();
    if (failed(parseTerm(term, extra, spec.inputs.back())))
      return failure();
  }
  if (explicitOutput) {
    if (failed(parseTerm(rhs, spec.numEllipsisDims, spec.output)))
      return failure();
  } else {
    for (int64_t j = 0; j < spec.numEllipsisDims; ++j)
      spec.output.push_back(EinsumSpec::kFirstEllipsisLabel + j);
    std::map<int64_t, int> counts;
    for (const auto &labels : spec.inputs)
      for (int64_t label : labels)
        if (label < EinsumSpec::kFirstEllipsisLabel)
          ++counts[label];
    for (auto [label, count] : counts)
      if (count == 1)
        spec.output.push_back(label);
  }
  for (int64_t label : spec.output) {
    bool found = llvm::any_of(spec.inputs, [&](const auto &labels) {
      return llvm::is_contained(labels, label);
    });
    if (!found) {
      error = "has an output label that no input has";
      return failure();
    }
  }
  return spec;
}

/// The extent of each label: the first static extent other than 1 (1
/// broadcasts), else 1 when every occurrence is 1, else dynamic.
static std::map<int64_t, int64_t>
einsumExtents(const EinsumSpec &spec, ArrayRef<RankedTensorType> types) {
  std::map<int64_t, int64_t> extents;
  for (auto [labels, type] : llvm::zip(spec.inputs, types)) {
    for (auto [d, label] : llvm::enumerate(labels)) {
      int64_t size = type.getDimSize(d);
      auto it = extents.find(label);
      if (it == extents.end()) {
        extents[label] = size;
        continue;
      }
      if (it->second == 1 || ShapedType::isDynamic(it->second))
        if (size != 1 && !(ShapedType::isDynamic(size) && it->second != 1))
          it->second = size;
    }
  }
  return extents;
}

std::map<int64_t, int64_t>
kiln::einsumLabelExtents(const EinsumSpec &spec,
                         ArrayRef<RankedTensorType> types) {
  return einsumExtents(spec, types);
}

LogicalResult EinsumOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  SmallVector<RankedTensorType> inputTypes;
  SmallVector<int64_t> ranks;
  for (Value v : adaptor.getInputs()) {
    inputTypes.push_back(cast<RankedTensorType>(v.getType()));
    ranks.push_back(inputTypes.back().getRank());
  }
  if (inputTypes.empty())
    return failure();
  std::string error;
  FailureOr<EinsumSpec> spec = parseEinsum(adaptor.getEquation(), ranks, error);
  if (failed(spec))
    return failure();
  std::map<int64_t, int64_t> extents = einsumExtents(*spec, inputTypes);
  SmallVector<int64_t> shape;
  for (int64_t label : spec->output)
    shape.push_back(extents[label]);
  types.push_back(
      RankedTensorType::get(shape, inputTypes.front().getElementType()));
  return success();
}

LogicalResult EinsumOp::verify() {
  SmallVector<int64_t> ranks;
  for (Value v : getInputs())
    ranks.push_back(cast<RankedTensorType>(v.getType()).getRank());
  if (ranks.empty())
    return emitOpError("needs at least one input");
  Type element =
      cast<RankedTensorType>(getInputs()[0].getType()).getElementType();
  for (Value v : getInputs())
    if (cast<RankedTensorType>(v.getType()).getElementType() != element)
      return emitOpError("inputs must have one element type");
  std::string error;
  if (failed(parseEinsum(getEquation(), ranks, error)))
    return emitOpError("equation '") << getEquation() << "' " << error;
  return success();
}

//===----------------------------------------------------------------------===//
// NonMaxSuppressionOp and DetOp
//===----------------------------------------------------------------------===//

LogicalResult
NonMaxSuppressionOp::inferReturnTypes(MLIRContext *context,
                                      std::optional<Location>, Adaptor,
                                      SmallVectorImpl<Type> &types) {
  types.push_back(RankedTensorType::get({ShapedType::kDynamic, 3},
                                        IntegerType::get(context, 64)));
  return success();
}

LogicalResult NonMaxSuppressionOp::verify() {
  RankedTensorType boxes = getBoxes().getType();
  RankedTensorType scores = getScores().getType();
  if (boxes.getRank() != 3 || !compatibleDims(boxes.getDimSize(2), 4))
    return emitOpError("boxes must be [batch, n, 4], got ") << boxes;
  if (scores.getRank() != 3)
    return emitOpError("scores must be [batch, classes, n], got ") << scores;
  if (!compatibleDims(boxes.getDimSize(0), scores.getDimSize(0)) ||
      !compatibleDims(boxes.getDimSize(1), scores.getDimSize(2)))
    return emitOpError("boxes ")
           << boxes << " and scores " << scores
           << " disagree on the batch or the number of boxes";
  if (scores.getElementType() != boxes.getElementType() ||
      getIouThreshold().getType().getElementType() != boxes.getElementType() ||
      getScoreThreshold().getType().getElementType() != boxes.getElementType())
    return emitOpError("boxes, scores and thresholds must share one element "
                       "type");
  for (Value limit : {getMaxOutput(), getIouThreshold(), getScoreThreshold()})
    if (cast<RankedTensorType>(limit.getType()).getRank() != 0)
      return emitOpError("limits must be rank-0 tensors, got ")
             << limit.getType();
  return success();
}

LogicalResult DetOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  if (input.getRank() < 2)
    return failure();
  types.push_back(RankedTensorType::get(input.getShape().drop_back(2),
                                        input.getElementType()));
  return success();
}

LogicalResult DetOp::verify() {
  RankedTensorType input = getInput().getType();
  int64_t rank = input.getRank();
  if (rank < 2 ||
      !compatibleDims(input.getDimSize(rank - 1), input.getDimSize(rank - 2)))
    return emitOpError("expects square matrices in the innermost two dims, "
                       "got ")
           << input;
  return success();
}
