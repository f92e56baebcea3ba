//===- DataMovementOps.cpp - reshapes, slices, gathers and friends --------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace kiln;

static constexpr int64_t kDyn = ShapedType::kDynamic;
static bool isDyn(int64_t d) { return ShapedType::isDynamic(d); }

/// The product of `dims`, or kDynamic when one of them is dynamic.
static int64_t product(ArrayRef<int64_t> dims) {
  int64_t p = 1;
  for (int64_t d : dims) {
    if (isDyn(d))
      return kDyn;
    p *= d;
  }
  return p;
}

/// `attr` with the shape of `type`, when it is a small dense constant.
static Attribute reshapeConstant(Attribute attr, RankedTensorType type) {
  auto dense = dyn_cast_if_present<DenseElementsAttr>(attr);
  if (!dense || !type.hasStaticShape() ||
      dense.getNumElements() != type.getNumElements() ||
      (!dense.isSplat() && dense.getNumElements() > kMaxFoldElements))
    return {};
  return dense.reshape(type);
}

/// An element-type-preserving fold: the input itself when nothing changes,
/// else a reshaped small constant.
static OpFoldResult foldReshapeLike(Value input, RankedTensorType resultType,
                                    Attribute inputAttr) {
  if (input.getType() == resultType && resultType.hasStaticShape())
    return input;
  return reshapeConstant(inputAttr, resultType);
}

/// The constant that a small integer result turns out to be once the dims it
/// picks out of shapes are static, else null.
static Attribute foldKnownElements(TypedValue<RankedTensorType> result) {
  if (!result.getType().hasStaticShape() ||
      !result.getType().getElementType().isInteger())
    return {};
  std::optional<SmallVector<ShapeElement>> elements = getShapeElements(result);
  if (!elements || llvm::any_of(*elements, [](const ShapeElement &e) {
        return !e.constant;
      }))
    return {};
  SmallVector<APInt> values;
  unsigned width = result.getType().getElementTypeBitWidth();
  for (const ShapeElement &e : *elements)
    values.push_back(APInt(width, *e.constant, /*isSigned=*/true));
  return DenseElementsAttr::get(result.getType(), values);
}

//===----------------------------------------------------------------------===//
// ReshapeOp
//===----------------------------------------------------------------------===//

/// The ranks Kiln builds tensors of: far above any model's, far below what
/// would exhaust memory for a corrupt file's shape vector.
static constexpr int64_t kMaxRank = 64;

/// A target shape operand must be 1-D, of static size (the result's rank)
/// and at most kMaxRank entries.
static LogicalResult checkShapeVector(std::optional<Location> location,
                                      RankedTensorType shapeType) {
  if (shapeType.getRank() != 1 || isDyn(shapeType.getDimSize(0)))
    return emitOptionalError(location,
                             "shape must be a 1-D tensor of static size");
  if (shapeType.getDimSize(0) > kMaxRank)
    return emitOptionalError(location, "shape has ", shapeType.getDimSize(0),
                             " entries; Kiln supports ranks up to ", kMaxRank);
  return success();
}

LogicalResult ReshapeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> location,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto shapeType = cast<RankedTensorType>(adaptor.getShape().getType());
  if (failed(checkShapeVector(location, shapeType)))
    return failure();
  // The target's elements as far as known: constants, and kDyn for dims
  // computed at run time (a dim taken from the input's shape with Shape and
  // Gather, say), which stay dynamic.
  std::optional<SmallVector<ShapeElement>> elements =
      getShapeElements(adaptor.getShape());
  SmallVector<int64_t> dims(shapeType.getDimSize(0), kDyn);
  if (elements)
    for (auto [d, e] : llvm::zip_equal(dims, *elements))
      if (e.constant)
        d = *e.constant;
  SmallVector<int64_t> shape;
  int64_t inferred = -1;
  for (auto [i, d] : llvm::enumerate(dims)) {
    if (isDyn(d)) {
      shape.push_back(kDyn);
    } else if (d == 0 && !adaptor.getAllowzero()) {
      if (static_cast<int64_t>(i) >= input.getRank())
        return emitOptionalError(location, "shape copies dim ", i,
                                 " that the input does not have");
      shape.push_back(input.getDimSize(i));
    } else if (d == -1) {
      if (inferred >= 0)
        return emitOptionalError(location, "shape has more than one -1");
      inferred = i;
      shape.push_back(kDyn);
    } else if (d < 0) {
      return emitOptionalError(location, "invalid dim ", d, " in shape");
    } else {
      shape.push_back(d);
    }
  }
  int64_t total = product(input.getShape());
  if (inferred >= 0) {
    SmallVector<int64_t> known(shape);
    known.erase(known.begin() + inferred);
    int64_t rest = product(known);
    if (!isDyn(total) && !isDyn(rest)) {
      if (rest == 0 || total % rest != 0)
        return emitOptionalError(location, "cannot reshape ", input, " to ",
                                 "shape with ", rest, " elements per -1");
      shape[inferred] = total / rest;
    }
  } else if (!isDyn(total) && !isDyn(product(shape)) &&
             total != product(shape)) {
    return emitOptionalError(location, "cannot reshape ", input,
                             " to a shape of ", product(shape), " elements");
  }
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult ReshapeOp::verify() {
  RankedTensorType input = getInput().getType(), result = getType();
  if (input.hasStaticShape() && result.hasStaticShape() &&
      input.getNumElements() != result.getNumElements())
    return emitOpError("cannot reshape ")
           << input << " (" << input.getNumElements() << " elements) to "
           << result;
  return success();
}

OpFoldResult ReshapeOp::fold(FoldAdaptor adaptor) {
  return foldReshapeLike(getInput(), getType(), adaptor.getInput());
}

namespace {
/// reshape(reshape(x, s1), s2) -> reshape(x, s2) when s2 copies no dim of the
/// intermediate (no 0 entries, or allowzero).
struct FoldReshapeOfReshape : OpRewritePattern<ReshapeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ReshapeOp op,
                                PatternRewriter &rewriter) const override {
    auto producer = op.getInput().getDefiningOp<ReshapeOp>();
    if (!producer)
      return failure();
    std::optional<SmallVector<int64_t>> dims = getConstantInts(op.getShape());
    if (!op.getAllowzero() && (!dims || llvm::is_contained(*dims, 0)))
      return failure();
    rewriter.modifyOpInPlace(
        op, [&] { op.getInputMutable().assign(producer.getInput()); });
    return success();
  }
};
} // namespace

void ReshapeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                            MLIRContext *context) {
  results.add<FoldReshapeOfReshape>(context);
}

//===----------------------------------------------------------------------===//
// TransposeOp
//===----------------------------------------------------------------------===//

LogicalResult TransposeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> perm = adaptor.getPerm();
  if (static_cast<int64_t>(perm.size()) != input.getRank())
    return emitOptionalError(location, "perm has ", perm.size(),
                             " entries for rank ", input.getRank());
  SmallVector<int64_t> shape;
  for (int64_t p : perm) {
    if (p < 0 || p >= input.getRank())
      return emitOptionalError(location, "perm entry ", p, " is out of range");
    shape.push_back(input.getDimSize(p));
  }
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult TransposeOp::verify() {
  SmallVector<int64_t> sorted(getPerm());
  llvm::sort(sorted);
  for (auto [i, p] : llvm::enumerate(sorted))
    if (p != static_cast<int64_t>(i))
      return emitOpError("perm must be a permutation of [0, rank)");
  return success();
}

OpFoldResult TransposeOp::fold(FoldAdaptor) {
  if (getInput().getType() != getType())
    return {};
  for (auto [i, p] : llvm::enumerate(getPerm()))
    if (p != static_cast<int64_t>(i))
      return {};
  return getInput();
}

namespace {
/// transpose(transpose(x, p1), p2) -> transpose(x, p1 o p2).
struct ComposeTransposes : OpRewritePattern<TransposeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(TransposeOp op,
                                PatternRewriter &rewriter) const override {
    auto producer = op.getInput().getDefiningOp<TransposeOp>();
    if (!producer)
      return failure();
    SmallVector<int64_t> perm;
    for (int64_t p : op.getPerm())
      perm.push_back(producer.getPerm()[p]);
    rewriter.replaceOpWithNewOp<TransposeOp>(op, op.getType(),
                                             producer.getInput(), perm);
    return success();
  }
};
} // namespace

void TransposeOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<ComposeTransposes>(context);
}

//===----------------------------------------------------------------------===//
// ConcatOp
//===----------------------------------------------------------------------===//

LogicalResult ConcatOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  if (adaptor.getInputs().empty())
    return emitOptionalError(location, "needs at least one input");
  auto first = cast<RankedTensorType>(adaptor.getInputs().front().getType());
  FailureOr<int64_t> axis = normalizeAxis(adaptor.getAxis(), first.getRank());
  if (failed(axis))
    return emitOptionalError(location, "axis ", adaptor.getAxis(),
                             " is out of range for rank ", first.getRank());
  SmallVector<int64_t> shape(first.getShape());
  shape[*axis] = 0;
  for (Value input : adaptor.getInputs()) {
    auto type = cast<RankedTensorType>(input.getType());
    if (type.getRank() != first.getRank())
      return emitOptionalError(location, "inputs have different ranks");
    for (int64_t d = 0; d < type.getRank(); ++d) {
      int64_t extent = type.getDimSize(d);
      if (d == *axis) {
        shape[d] = isDyn(shape[d]) || isDyn(extent) ? kDyn : shape[d] + extent;
      } else if (isDyn(shape[d])) {
        shape[d] = extent;
      } else if (!isDyn(extent) && extent != shape[d]) {
        return emitOptionalError(location, "inputs differ in dim ", d, ": ",
                                 shape[d], " vs ", extent);
      }
    }
  }
  types.push_back(RankedTensorType::get(shape, first.getElementType()));
  return success();
}

LogicalResult ConcatOp::verify() {
  Type element = getType().getElementType();
  for (Value input : getInputs())
    if (getElementTypeOrSelf(input.getType()) != element)
      return emitOpError("inputs must all have element type ") << element;
  return success();
}

OpFoldResult ConcatOp::fold(FoldAdaptor adaptor) {
  if (getInputs().size() == 1 && getInputs().front().getType() == getType())
    return getInputs().front();
  // Concatenation of small 1-D integer constants (shape vectors).
  if (getType().getRank() != 1 || !getType().hasStaticShape() ||
      getType().getNumElements() > kMaxFoldElements ||
      !getType().getElementType().isSignlessInteger())
    return {};
  SmallVector<APInt> values;
  for (Attribute operand : adaptor.getInputs()) {
    auto dense = dyn_cast_if_present<DenseIntElementsAttr>(operand);
    if (!dense)
      return {};
    llvm::append_range(values, dense.getValues<APInt>());
  }
  return DenseElementsAttr::get(getType(), values);
}

//===----------------------------------------------------------------------===//
// CacheUpdateOp
//===----------------------------------------------------------------------===//

LogicalResult CacheUpdateOp::inferReturnTypes(MLIRContext *,
                                              std::optional<Location>,
                                              Adaptor adaptor,
                                              SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getCache().getType());
  return success();
}

LogicalResult CacheUpdateOp::verify() {
  RankedTensorType cache = getCache().getType(), update = getUpdate().getType();
  if (cache.getRank() != update.getRank())
    return emitOpError("update of rank ")
           << update.getRank() << " into a cache of rank " << cache.getRank();
  FailureOr<int64_t> axis = normalizeAxis(getAxis(), cache.getRank());
  if (failed(axis))
    return emitOpError("axis ") << getAxis() << " is out of range";
  for (int64_t d = 0; d < cache.getRank(); ++d) {
    int64_t a = cache.getDimSize(d), b = update.getDimSize(d);
    if (d != *axis && !isDyn(a) && !isDyn(b) && a != b)
      return emitOpError("update dim ")
             << d << " is " << b << ", the cache's " << a;
  }
  auto offset = cast<RankedTensorType>(getOffset().getType());
  if (!offset.hasStaticShape() || offset.getNumElements() != 1)
    return emitOpError("offset must hold one integer");
  return success();
}

//===----------------------------------------------------------------------===//
// SplitOp
//===----------------------------------------------------------------------===//

LogicalResult SplitOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> location,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  FailureOr<int64_t> axis = normalizeAxis(adaptor.getAxis(), input.getRank());
  if (failed(axis))
    return emitOptionalError(location, "axis is out of range");
  int64_t count = adaptor.getNumOutputs();
  int64_t extent = input.getDimSize(*axis);
  SmallVector<int64_t> sizes;
  if (std::optional<ArrayRef<int64_t>> given = adaptor.getSizes()) {
    sizes.assign(given->begin(), given->end());
  } else if (count < 1 ||
             (!isDyn(extent) && count > std::max<int64_t>(extent, 1))) {
    return emitOptionalError(location, "num_outputs ", count,
                             " must be in [1, ", std::max<int64_t>(extent, 1),
                             "] for a split dim of extent ", extent);
  } else if (isDyn(extent)) {
    sizes.assign(count, kDyn);
  } else {
    int64_t piece = (extent + count - 1) / count;
    for (int64_t i = 0; i < count; ++i)
      sizes.push_back(
          std::max<int64_t>(0, std::min(piece, extent - i * piece)));
  }
  for (int64_t size : sizes) {
    SmallVector<int64_t> shape(input.getShape());
    shape[*axis] = size;
    types.push_back(RankedTensorType::get(shape, input.getElementType()));
  }
  return success();
}

LogicalResult SplitOp::verify() {
  FailureOr<int64_t> axis =
      normalizeAxis(getAxis(), getInput().getType().getRank());
  if (failed(axis))
    return emitOpError("axis ") << getAxis() << " is out of range for rank "
                                << getInput().getType().getRank();
  if (getNumOutputs() < 1)
    return emitOpError("num_outputs must be positive, got ") << getNumOutputs();
  int64_t extent = getInput().getType().getDimSize(*axis);
  if (std::optional<ArrayRef<int64_t>> sizes = getSizes()) {
    if (static_cast<int64_t>(sizes->size()) != getNumOutputs())
      return emitOpError("has ")
             << sizes->size() << " sizes for " << getNumOutputs() << " outputs";
    if (llvm::any_of(*sizes, [](int64_t s) { return s < 0; }))
      return emitOpError("sizes must be non-negative");
    int64_t total = 0;
    for (int64_t s : *sizes)
      total += s;
    if (!isDyn(extent) && total != extent)
      return emitOpError("sizes add up to ")
             << total << " but the split dim is " << extent;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// SliceOp
//===----------------------------------------------------------------------===//

/// The number of elements ONNX Slice takes from a dim of `extent`.
static int64_t sliceExtent(int64_t extent, int64_t start, int64_t end,
                           int64_t step) {
  if (start < 0)
    start += extent;
  if (end < 0)
    end += extent;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, extent);
    end = std::clamp<int64_t>(end, 0, extent);
    return std::max<int64_t>(0, (end - start + step - 1) / step);
  }
  start = std::clamp<int64_t>(start, 0, extent - 1);
  end = std::clamp<int64_t>(end, -1, extent - 1);
  return std::max<int64_t>(0, (start - end + (-step) - 1) / (-step));
}

/// The normalized, validated parameters of a slice, if all are constant.
struct SliceParams {
  SmallVector<int64_t> starts, ends, axes, steps;
};

static FailureOr<std::optional<SliceParams>>
getSliceParams(std::optional<Location> location, int64_t rank, Value starts,
               Value ends, Value axes, Value steps) {
  SliceParams p;
  auto s = getConstantInts(starts), e = getConstantInts(ends),
       a = getConstantInts(axes), st = getConstantInts(steps);
  if (!s || !e || !a || !st)
    return std::optional<SliceParams>();
  if (s->size() != e->size() || s->size() != a->size() ||
      s->size() != st->size())
    return emitOptionalError(location, "starts, ends, axes and steps must ",
                             "have the same length");
  for (int64_t &axis : *a) {
    FailureOr<int64_t> n = normalizeAxis(axis, rank);
    if (failed(n))
      return emitOptionalError(location, "slice axis ", axis,
                               " is out of range");
    axis = *n;
  }
  if (llvm::is_contained(*st, 0))
    return emitOptionalError(location, "slice steps must not be 0");
  p.starts = *s;
  p.ends = *e;
  p.axes = *a;
  p.steps = *st;
  return std::optional<SliceParams>(p);
}

LogicalResult SliceOp::inferReturnTypes(MLIRContext *,
                                        std::optional<Location> location,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  FailureOr<std::optional<SliceParams>> params =
      getSliceParams(location, input.getRank(), adaptor.getStarts(),
                     adaptor.getEnds(), adaptor.getAxes(), adaptor.getSteps());
  if (failed(params))
    return failure();
  SmallVector<int64_t> shape(input.getShape());
  if (!*params) {
    // Unknown parameters: the sliced dims are unknown; without constant axes
    // every dim may be sliced.
    std::optional<SmallVector<int64_t>> axes =
        getConstantInts(adaptor.getAxes());
    for (int64_t d = 0; d < input.getRank(); ++d)
      if (!axes || llvm::is_contained(*axes, d) ||
          llvm::is_contained(*axes, d - input.getRank()))
        shape[d] = kDyn;
  } else {
    const SliceParams &p = **params;
    for (size_t i = 0; i < p.axes.size(); ++i) {
      int64_t extent = input.getDimSize(p.axes[i]);
      shape[p.axes[i]] = isDyn(extent) ? kDyn
                                       : sliceExtent(extent, p.starts[i],
                                                     p.ends[i], p.steps[i]);
    }
  }
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

OpFoldResult SliceOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() && getType().hasStaticShape()) {
    // A slice that keeps every element in order is the identity.
    auto steps = getConstantInts(getSteps());
    if (steps && llvm::all_of(*steps, [](int64_t s) { return s == 1; }))
      return getInput();
  }
  if (Attribute known = foldKnownElements(getOutput()))
    return known;
  // Slices of small 1-D integer constants (shape vectors).
  auto dense = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput());
  if (!dense || getType().getRank() != 1 || !getType().hasStaticShape())
    return {};
  FailureOr<std::optional<SliceParams>> params = getSliceParams(
      std::nullopt, 1, getStarts(), getEnds(), getAxes(), getSteps());
  if (failed(params) || !*params || (*params)->axes.size() != 1)
    return {};
  int64_t extent = dense.getNumElements();
  int64_t start = (*params)->starts[0], step = (*params)->steps[0];
  if (start < 0)
    start += extent;
  start = step > 0 ? std::clamp<int64_t>(start, 0, extent)
                   : std::clamp<int64_t>(start, 0, extent - 1);
  SmallVector<APInt> all(dense.getValues<APInt>());
  SmallVector<APInt> values;
  for (int64_t i = 0; i < getType().getDimSize(0); ++i)
    values.push_back(all[start + i * step]);
  return DenseElementsAttr::get(getType(), values);
}

//===----------------------------------------------------------------------===//
// GatherOp
//===----------------------------------------------------------------------===//

LogicalResult GatherOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto indices = cast<RankedTensorType>(adaptor.getIndices().getType());
  FailureOr<int64_t> axis = normalizeAxis(adaptor.getAxis(), input.getRank());
  if (failed(axis))
    return emitOptionalError(location, "axis ", adaptor.getAxis(),
                             " is out of range for rank ", input.getRank());
  SmallVector<int64_t> shape(input.getShape().take_front(*axis));
  llvm::append_range(shape, indices.getShape());
  llvm::append_range(shape, input.getShape().drop_front(*axis + 1));
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult GatherOp::verify() {
  FailureOr<int64_t> normalized =
      normalizeAxis(getAxis(), getInput().getType().getRank());
  if (failed(normalized))
    return emitOpError("axis ") << getAxis() << " is out of range for rank "
                                << getInput().getType().getRank();
  int64_t axis = *normalized;
  int64_t extent = getInput().getType().getDimSize(axis);
  if (std::optional<SmallVector<int64_t>> indices =
          getConstantInts(getIndices()))
    if (!isDyn(extent))
      for (int64_t i : *indices)
        if (i < -extent || i >= extent)
          return emitOpError("index ") << i << " is out of range for dim "
                                       << axis << " of extent " << extent;
  return success();
}

OpFoldResult GatherOp::fold(FoldAdaptor adaptor) {
  // Static dims picked out of a shape.
  if (Attribute known = foldKnownElements(getOutput()))
    return known;
  // Gathers from small 1-D integer constants (picking dims of a shape).
  auto dense = dyn_cast_if_present<DenseIntElementsAttr>(adaptor.getInput());
  std::optional<SmallVector<int64_t>> indices =
      getIntValues(adaptor.getIndices());
  if (!dense || !indices || dense.getType().getRank() != 1 ||
      !getType().hasStaticShape() ||
      getType().getNumElements() > kMaxFoldElements)
    return {};
  SmallVector<APInt> all(dense.getValues<APInt>());
  int64_t extent = all.size();
  SmallVector<APInt> values;
  for (int64_t i : *indices) {
    if (i < -extent || i >= extent)
      return {};
    values.push_back(all[i < 0 ? i + extent : i]);
  }
  return DenseElementsAttr::get(getType(), values);
}

//===----------------------------------------------------------------------===//
// SqueezeOp, UnsqueezeOp, FlattenOp
//===----------------------------------------------------------------------===//

LogicalResult SqueezeOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> location,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t rank = input.getRank();
  llvm::SmallBitVector drop(rank);
  if (adaptor.getAxes().empty()) {
    for (int64_t d = 0; d < rank; ++d)
      drop[d] = input.getDimSize(d) == 1;
  }
  for (int64_t axis : adaptor.getAxes()) {
    FailureOr<int64_t> a = normalizeAxis(axis, rank);
    if (failed(a))
      return emitOptionalError(location, "axis ", axis,
                               " is out of range for rank ", rank);
    drop.set(*a);
  }
  SmallVector<int64_t> shape;
  for (int64_t d = 0; d < rank; ++d)
    if (!drop[d])
      shape.push_back(input.getDimSize(d));
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult SqueezeOp::verify() {
  RankedTensorType input = getInput().getType();
  for (int64_t axis : getAxes()) {
    FailureOr<int64_t> normalized = normalizeAxis(axis, input.getRank());
    if (failed(normalized))
      return emitOpError("axis ")
             << axis << " is out of range for rank " << input.getRank();
    int64_t extent = input.getDimSize(*normalized);
    if (!isDyn(extent) && extent != 1)
      return emitOpError("cannot squeeze dim ")
             << axis << " of extent " << extent;
  }
  return success();
}

OpFoldResult SqueezeOp::fold(FoldAdaptor adaptor) {
  return foldReshapeLike(getInput(), getType(), adaptor.getInput());
}

LogicalResult UnsqueezeOp::inferReturnTypes(MLIRContext *,
                                            std::optional<Location> location,
                                            Adaptor adaptor,
                                            SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t rank = input.getRank() + adaptor.getAxes().size();
  llvm::SmallBitVector inserted(rank);
  for (int64_t axis : adaptor.getAxes()) {
    FailureOr<int64_t> a = normalizeAxis(axis, rank);
    if (failed(a) || inserted[*a])
      return emitOptionalError(location, "axis ", axis,
                               " is out of range or repeated for rank ", rank);
    inserted.set(*a);
  }
  SmallVector<int64_t> shape;
  ArrayRef<int64_t> dims = input.getShape();
  for (int64_t d = 0; d < rank; ++d) {
    if (inserted[d]) {
      shape.push_back(1);
    } else {
      shape.push_back(dims.front());
      dims = dims.drop_front();
    }
  }
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult UnsqueezeOp::verify() {
  if (getAxes().empty())
    return emitOpError("needs at least one axis");
  return success();
}

OpFoldResult UnsqueezeOp::fold(FoldAdaptor adaptor) {
  return reshapeConstant(adaptor.getInput(), getType());
}

LogicalResult FlattenOp::inferReturnTypes(MLIRContext *,
                                          std::optional<Location> location,
                                          Adaptor adaptor,
                                          SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t axis = adaptor.getAxis();
  if (axis < 0)
    axis += input.getRank();
  if (axis < 0 || axis > input.getRank())
    return emitOptionalError(location, "axis ", adaptor.getAxis(),
                             " is out of range for rank ", input.getRank());
  ArrayRef<int64_t> dims = input.getShape();
  types.push_back(RankedTensorType::get(
      {product(dims.take_front(axis)), product(dims.drop_front(axis))},
      input.getElementType()));
  return success();
}

OpFoldResult FlattenOp::fold(FoldAdaptor adaptor) {
  return foldReshapeLike(getInput(), getType(), adaptor.getInput());
}

//===----------------------------------------------------------------------===//
// ExpandOp
//===----------------------------------------------------------------------===//

LogicalResult ExpandOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto shapeType = cast<RankedTensorType>(adaptor.getShape().getType());
  if (failed(checkShapeVector(location, shapeType)))
    return failure();
  std::optional<SmallVector<ShapeElement>> elements =
      getShapeElements(adaptor.getShape());
  SmallVector<int64_t> target(shapeType.getDimSize(0), kDyn);
  bool allKnown = elements.has_value();
  if (elements)
    for (auto [t, e] : llvm::zip_equal(target, *elements)) {
      if (e.constant)
        t = *e.constant;
      else
        allKnown = false;
    }
  if (!allKnown) {
    // Target dims known only at run time: the result takes a known target
    // dim where the input's is 1 or absent, and the input's dim where it
    // is static and not 1 (a target dim can then only be 1 or equal).
    int64_t rank = std::max<int64_t>(target.size(), input.getRank());
    SmallVector<int64_t> shape(rank, kDyn);
    int64_t inputOffset = rank - input.getRank();
    int64_t targetOffset = rank - static_cast<int64_t>(target.size());
    for (int64_t d = 0; d < rank; ++d) {
      int64_t in = d >= inputOffset ? input.getDimSize(d - inputOffset) : 1;
      int64_t t = d >= targetOffset ? target[d - targetOffset] : 1;
      if (!isDyn(in) && in != 1)
        shape[d] = in;
      else if (!isDyn(t) && (in == 1 || t != 1))
        shape[d] = t;
    }
    types.push_back(RankedTensorType::get(shape, input.getElementType()));
    return success();
  }
  FailureOr<SmallVector<int64_t>> shape =
      broadcastShapes({input.getShape(), target});
  if (failed(shape))
    return emitOptionalError(location, "cannot expand ", input,
                             " to the given shape");
  types.push_back(RankedTensorType::get(*shape, input.getElementType()));
  return success();
}

OpFoldResult ExpandOp::fold(FoldAdaptor adaptor) {
  if (getInput().getType() == getType() && getType().hasStaticShape())
    return getInput();
  auto dense = dyn_cast_if_present<DenseElementsAttr>(adaptor.getInput());
  if (dense && dense.isSplat() && getType().hasStaticShape())
    return DenseElementsAttr::get(getType(), dense.getSplatValue<Attribute>());
  return {};
}

//===----------------------------------------------------------------------===//
// PadOp
//===----------------------------------------------------------------------===//

/// The values of 1-D `v` that are known: all of a constant's, or those of
/// the constant pieces of a concatenation (pads computed at run time for
/// some dims only); nullopt for the others. Nothing when the length is not
/// static.
static std::optional<SmallVector<std::optional<int64_t>>> knownInts(Value v) {
  if (std::optional<SmallVector<int64_t>> all = getConstantInts(v))
    return llvm::to_vector(llvm::map_range(
        *all, [](int64_t x) { return std::optional<int64_t>(x); }));
  auto concat = v.getDefiningOp<ConcatOp>();
  if (!concat || cast<RankedTensorType>(v.getType()).getRank() != 1)
    return std::nullopt;
  SmallVector<std::optional<int64_t>> known;
  for (Value piece : concat.getInputs()) {
    int64_t length = cast<RankedTensorType>(piece.getType()).getDimSize(0);
    if (isDyn(length))
      return std::nullopt;
    std::optional<SmallVector<int64_t>> values = getConstantInts(piece);
    for (int64_t i = 0; i < length; ++i)
      known.push_back(values ? std::optional<int64_t>((*values)[i])
                             : std::nullopt);
  }
  return known;
}

LogicalResult PadOp::inferReturnTypes(MLIRContext *,
                                      std::optional<Location> location,
                                      Adaptor adaptor,
                                      SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t rank = input.getRank();
  SmallVector<int64_t> shape(rank, kDyn);
  if (std::optional<SmallVector<std::optional<int64_t>>> pads =
          knownInts(adaptor.getPads())) {
    if (static_cast<int64_t>(pads->size()) != 2 * rank)
      return emitOptionalError(location, "expects ", 2 * rank, " pads, got ",
                               pads->size());
    for (int64_t d = 0; d < rank; ++d) {
      int64_t extent = input.getDimSize(d);
      std::optional<int64_t> begin = (*pads)[d], end = (*pads)[d + rank];
      shape[d] =
          isDyn(extent) || !begin || !end ? kDyn : extent + *begin + *end;
      if (!isDyn(shape[d]) && shape[d] < 0)
        return emitOptionalError(location, "pads crop dim ", d, " below zero");
    }
  }
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult PadOp::verify() {
  auto padsType = cast<RankedTensorType>(getPads().getType());
  if (padsType.getRank() != 1)
    return emitOpError("pads must be 1-D");
  if (Value value = getConstantValue()) {
    auto type = cast<RankedTensorType>(value.getType());
    if (type.getElementType() != getType().getElementType() ||
        type.getRank() > 1 || (type.getRank() == 1 && type.getDimSize(0) != 1))
      return emitOpError("constant_value must be a scalar of the input's "
                         "element type, got ")
             << type;
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Im2ColOp
//===----------------------------------------------------------------------===//

LogicalResult Im2ColOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  ArrayRef<int64_t> kernel = adaptor.getKernelShape(),
                    strides = adaptor.getStrides(),
                    dilations = adaptor.getDilations();
  if (input.getRank() != 4 || kernel.size() != 2 || strides.size() != 2 ||
      dilations.size() != 2)
    return emitOptionalError(location, "im2col takes a 4-D input and two "
                                       "kernel dims, strides and dilations");
  int64_t rows = kDyn, cols = 1;
  if (!isDyn(input.getDimSize(1)))
    rows = input.getDimSize(1) * kernel[0] * kernel[1];
  for (int d = 0; d < 2; ++d) {
    int64_t extent = input.getDimSize(d + 2);
    int64_t window = (kernel[d] - 1) * dilations[d] + 1;
    if (isDyn(extent) || isDyn(cols)) {
      cols = kDyn;
      continue;
    }
    if (extent < window || strides[d] < 1)
      return emitOptionalError(location, "im2col window larger than the "
                                         "input or stride below 1");
    cols *= (extent - window) / strides[d] + 1;
  }
  types.push_back(RankedTensorType::get({input.getDimSize(0), rows, cols},
                                        input.getElementType()));
  return success();
}

LogicalResult Im2ColOp::verify() {
  for (int64_t v : llvm::concat<const int64_t>(getKernelShape(), getStrides(),
                                               getDilations()))
    if (v < 1)
      return emitOpError("kernel_shape, strides and dilations must be "
                         "positive");
  return success();
}

//===----------------------------------------------------------------------===//
// ResizeOp
//===----------------------------------------------------------------------===//

LogicalResult ResizeOp::inferReturnTypes(MLIRContext *,
                                         std::optional<Location> location,
                                         Adaptor adaptor,
                                         SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  int64_t rank = input.getRank();
  SmallVector<int64_t> shape(rank, kDyn);
  if (std::optional<SmallVector<int64_t>> sizes =
          getConstantInts(adaptor.getSizes())) {
    if (static_cast<int64_t>(sizes->size()) != rank)
      return emitOptionalError(location, "expects ", rank, " sizes");
    shape.assign(sizes->begin(), sizes->end());
  } else if (std::optional<SmallVector<double>> scales =
                 getConstantFloats(adaptor.getScales())) {
    if (static_cast<int64_t>(scales->size()) != rank)
      return emitOptionalError(location, "expects ", rank, " scales");
    for (int64_t d = 0; d < rank; ++d) {
      if (!((*scales)[d] > 0))
        return emitOptionalError(location, "scales must be positive, got ",
                                 (*scales)[d]);
      int64_t extent = input.getDimSize(d);
      if (!isDyn(extent))
        shape[d] = static_cast<int64_t>(
            std::floor(static_cast<double>(extent) * (*scales)[d]));
    }
  }
  types.push_back(RankedTensorType::get(shape, input.getElementType()));
  return success();
}

LogicalResult ResizeOp::verify() {
  if (static_cast<bool>(getScales()) == static_cast<bool>(getSizes()))
    return emitOpError("expects exactly one of scales and sizes");
  return success();
}

//===----------------------------------------------------------------------===//
// GatherElementsOp and TriluOp
//===----------------------------------------------------------------------===//

LogicalResult GatherElementsOp::inferReturnTypes(MLIRContext *,
                                                 std::optional<Location>,
                                                 Adaptor adaptor,
                                                 SmallVectorImpl<Type> &types) {
  auto input = cast<RankedTensorType>(adaptor.getInput().getType());
  auto indices = cast<RankedTensorType>(adaptor.getIndices().getType());
  types.push_back(
      RankedTensorType::get(indices.getShape(), input.getElementType()));
  return success();
}

LogicalResult GatherElementsOp::verify() {
  int64_t rank = getInput().getType().getRank();
  if (getIndices().getType().getRank() != rank)
    return emitOpError("indices must have the input's rank ")
           << rank << ", got " << getIndices().getType();
  if (failed(normalizeAxis(getAxis(), rank)))
    return emitOpError("axis ")
           << getAxis() << " is out of range for rank " << rank;
  return success();
}

LogicalResult TriluOp::inferReturnTypes(MLIRContext *, std::optional<Location>,
                                        Adaptor adaptor,
                                        SmallVectorImpl<Type> &types) {
  types.push_back(adaptor.getInput().getType());
  return success();
}

LogicalResult TriluOp::verify() {
  if (getInput().getType().getRank() < 2)
    return emitOpError("input must have rank >= 2, got ")
           << getInput().getType();
  if (getK()) {
    RankedTensorType k = getK().getType();
    if (k.getRank() > 1 || (k.hasStaticShape() && k.getNumElements() != 1))
      return emitOpError("k must hold one element, got ") << k;
  }
  return success();
}
