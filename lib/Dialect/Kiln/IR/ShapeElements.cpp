//===- ShapeElements.cpp - what a computed shape is known to hold ---------===//
//
// Exporters compute Reshape and Expand targets at run time from Shape,
// Gather, Concat and arithmetic even where most of the result is static
// (GPT-style attention: [batch, seq, heads, head_dim] from the input's shape
// and two constants). getShapeElements follows those ops element by element,
// so type inference keeps the static dims and graph passes can tell that a
// target dim is "dim 2 of %k".
//
//===----------------------------------------------------------------------===//

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

using namespace mlir;
using namespace kiln;

ShapeElement kiln::dimElement(Value value, int64_t dim) {
  auto type = cast<RankedTensorType>(value.getType());
  int64_t extent = type.getDimSize(dim);
  if (!ShapedType::isDynamic(extent))
    return {extent, Value(), -1};
  return {std::nullopt, value, dim};
}

/// Recursion limit: shape chains are short, and this bounds the work on
/// adversarial graphs.
static constexpr int kMaxDepth = 16;

static std::optional<SmallVector<ShapeElement>> elementsOf(Value shape,
                                                           int depth);

/// The number of elements of a small static integer tensor, else nullopt.
static std::optional<int64_t> smallIntCount(Value v) {
  auto type = dyn_cast<RankedTensorType>(v.getType());
  if (!type || !type.hasStaticShape() || type.getRank() > 1 ||
      !type.getElementType().isInteger() ||
      type.getElementType().isInteger(1) ||
      type.getNumElements() > kMaxFoldElements)
    return std::nullopt;
  return type.getNumElements();
}

/// Element `i` of `elems` broadcast to `n` elements (a single one repeats).
static const ShapeElement &at(ArrayRef<ShapeElement> elems, int64_t i) {
  return elems.size() == 1 ? elems[0] : elems[i];
}

/// Integer arithmetic on elements: constants fold; x * 1, x + 0, x - 0 and
/// x / 1 keep x; anything else is unknown.
template <typename Fn>
static std::optional<SmallVector<ShapeElement>>
arithmetic(Operation *op, int64_t n, int depth, Fn fn, bool identityOnRhsOnly,
           int64_t identity) {
  auto lhs = elementsOf(op->getOperand(0), depth + 1);
  auto rhs = elementsOf(op->getOperand(1), depth + 1);
  if (!lhs || !rhs)
    return std::nullopt;
  if ((lhs->size() != 1 && static_cast<int64_t>(lhs->size()) != n) ||
      (rhs->size() != 1 && static_cast<int64_t>(rhs->size()) != n))
    return std::nullopt;
  SmallVector<ShapeElement> result;
  for (int64_t i = 0; i < n; ++i) {
    const ShapeElement &a = at(*lhs, i), &b = at(*rhs, i);
    if (a.constant && b.constant) {
      std::optional<int64_t> v = fn(*a.constant, *b.constant);
      result.push_back(v ? ShapeElement{*v, Value(), -1} : ShapeElement{});
    } else if (b.constant == identity) {
      result.push_back(a);
    } else if (!identityOnRhsOnly && a.constant == identity) {
      result.push_back(b);
    } else {
      result.push_back({});
    }
  }
  return result;
}

static std::optional<SmallVector<ShapeElement>> elementsOf(Value shape,
                                                           int depth) {
  std::optional<int64_t> count = smallIntCount(shape);
  if (!count)
    return std::nullopt;
  int64_t n = *count;
  SmallVector<ShapeElement> unknown(n);
  if (depth > kMaxDepth)
    return unknown;
  if (std::optional<SmallVector<int64_t>> ints = getConstantInts(shape)) {
    SmallVector<ShapeElement> result;
    for (int64_t v : *ints)
      result.push_back({v, Value(), -1});
    return result;
  }
  Operation *op = shape.getDefiningOp();
  if (!op)
    return unknown;

  if (auto s = dyn_cast<ShapeOp>(op)) {
    int64_t start =
        shapeRange(s.getInput().getType().getRank(), s.getStart(), s.getEnd())
            .first;
    SmallVector<ShapeElement> result;
    for (int64_t i = 0; i < n; ++i)
      result.push_back(dimElement(s.getInput(), start + i));
    return result;
  }
  if (auto concat = dyn_cast<ConcatOp>(op)) {
    SmallVector<ShapeElement> result;
    for (Value input : concat.getInputs()) {
      auto part = elementsOf(input, depth + 1);
      if (!part)
        return unknown;
      result.append(*part);
    }
    if (static_cast<int64_t>(result.size()) != n)
      return unknown;
    return result;
  }
  if (isa<UnsqueezeOp, SqueezeOp, ReshapeOp>(op)) {
    auto inner = elementsOf(op->getOperand(0), depth + 1);
    if (!inner || static_cast<int64_t>(inner->size()) != n)
      return unknown;
    return inner;
  }
  if (auto cast = dyn_cast<CastOp>(op)) {
    auto inner = elementsOf(cast.getInput(), depth + 1);
    if (!inner || static_cast<int64_t>(inner->size()) != n)
      return unknown;
    // Narrowing casts could wrap; shapes are far below 2^31.
    return inner;
  }
  if (auto gather = dyn_cast<GatherOp>(op)) {
    auto input = elementsOf(gather.getInput(), depth + 1);
    std::optional<SmallVector<int64_t>> indices =
        getConstantInts(gather.getIndices());
    if (!input || !indices || gather.getInput().getType().getRank() != 1 ||
        static_cast<int64_t>(indices->size()) != n)
      return unknown;
    int64_t extent = input->size();
    SmallVector<ShapeElement> result;
    for (int64_t i : *indices) {
      if (i < -extent || i >= extent)
        return unknown;
      result.push_back((*input)[i < 0 ? i + extent : i]);
    }
    return result;
  }
  if (auto slice = dyn_cast<SliceOp>(op)) {
    auto input = elementsOf(slice.getInput(), depth + 1);
    auto starts = getConstantInts(slice.getStarts());
    auto ends = getConstantInts(slice.getEnds());
    auto steps = getConstantInts(slice.getSteps());
    if (!input || !starts || !ends || !steps || starts->size() != 1 ||
        ends->size() != 1 || steps->size() != 1 || (*steps)[0] != 1 ||
        slice.getInput().getType().getRank() != 1)
      return unknown;
    int64_t extent = input->size();
    auto clampIndex = [&](int64_t i) {
      return std::clamp<int64_t>(i < 0 ? i + extent : i, 0, extent);
    };
    int64_t begin = clampIndex((*starts)[0]), end = clampIndex((*ends)[0]);
    if (end - begin != n)
      return unknown;
    return SmallVector<ShapeElement>(input->begin() + begin,
                                     input->begin() + end);
  }
  if (auto where = dyn_cast<WhereOp>(op)) {
    // Where(Equal(s, c), a, b), as torch's Expand export guards -1: an
    // element of s that is a dim's extent (>= 0) never equals a negative
    // c, so it picks b.
    auto equal = where.getCondition().getDefiningOp<EqualOp>();
    if (!equal)
      return unknown;
    auto s = elementsOf(equal.getLhs(), depth + 1);
    auto c = elementsOf(equal.getRhs(), depth + 1);
    auto a = elementsOf(where.getLhs(), depth + 1);
    auto b = elementsOf(where.getRhs(), depth + 1);
    if (!s || !c || !a || !b)
      return unknown;
    for (auto *part : {&*s, &*c, &*a, &*b})
      if (part->size() != 1 && static_cast<int64_t>(part->size()) != n)
        return unknown;
    SmallVector<ShapeElement> result;
    for (int64_t i = 0; i < n; ++i) {
      const ShapeElement &x = at(*s, i), &y = at(*c, i);
      std::optional<bool> same;
      if (x.constant && y.constant)
        same = *x.constant == *y.constant;
      else if ((x.isNonNegative() && y.constant && *y.constant < 0) ||
               (y.isNonNegative() && x.constant && *x.constant < 0))
        same = false;
      else if (x.source && x == y)
        same = true;
      result.push_back(!same ? ShapeElement{} : *same ? at(*a, i) : at(*b, i));
    }
    return result;
  }
  if (isa<MulOp>(op))
    return arithmetic(
        op, n, depth,
        [](int64_t a, int64_t b) -> std::optional<int64_t> { return a * b; },
        /*identityOnRhsOnly=*/false, 1);
  if (isa<AddOp>(op))
    return arithmetic(
        op, n, depth,
        [](int64_t a, int64_t b) -> std::optional<int64_t> { return a + b; },
        /*identityOnRhsOnly=*/false, 0);
  if (isa<SubOp>(op))
    return arithmetic(
        op, n, depth,
        [](int64_t a, int64_t b) -> std::optional<int64_t> { return a - b; },
        /*identityOnRhsOnly=*/true, 0);
  if (isa<DivOp>(op))
    return arithmetic(
        op, n, depth,
        [](int64_t a, int64_t b) -> std::optional<int64_t> {
          if (b == 0)
            return std::nullopt;
          // ONNX integer Div truncates toward zero, as C++ does.
          return a / b;
        },
        /*identityOnRhsOnly=*/true, 1);
  return unknown;
}

std::optional<SmallVector<ShapeElement>> kiln::getShapeElements(Value shape) {
  return elementsOf(shape, 0);
}
