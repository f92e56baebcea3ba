//===- RecognizePatterns.cpp - LayerNorm, RMSNorm, GELU, rotary ---------===//

#include "GraphUtils.h"

#include "kiln/Dialect/Kiln/Transforms/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_KILNRECOGNIZEPATTERNS
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::graph;

namespace {

struct Counts {
  int64_t layerNorm = 0, rmsNorm = 0, gelu = 0, rotary = 0;
};

//===----------------------------------------------------------------------===//
// Products and sums of constants
//===----------------------------------------------------------------------===//

/// The factors of the product `v`, looking through Muls (and Divs by a
/// constant, recorded as its reciprocal) whose result feeds only the product.
void collectFactors(Value v, bool isRoot, SmallVectorImpl<Value> &factors,
                    SmallVectorImpl<double> &constants) {
  Operation *def = v.getDefiningOp();
  if (std::optional<double> c = getScalarConstant(v)) {
    constants.push_back(*c);
    return;
  }
  if (def && (isRoot || v.hasOneUse())) {
    if (auto mul = dyn_cast<MulOp>(def)) {
      collectFactors(mul.getLhs(), false, factors, constants);
      collectFactors(mul.getRhs(), false, factors, constants);
      return;
    }
    if (auto div = dyn_cast<DivOp>(def)) {
      if (std::optional<double> c = getScalarConstant(div.getRhs())) {
        collectFactors(div.getLhs(), false, factors, constants);
        constants.push_back(1.0 / *c);
        return;
      }
    }
  }
  factors.push_back(v);
}

/// The product of `constants` (1 when empty).
double product(ArrayRef<double> constants) {
  double p = 1;
  for (double c : constants)
    p *= c;
  return p;
}

bool near(double x, double expected, double rtol = 1e-4) {
  return std::abs(x - expected) <= rtol * std::abs(expected);
}

/// `v` = 1 + t (either order); returns t.
Value matchOnePlus(Value v) {
  auto add = v.getDefiningOp<AddOp>();
  if (!add)
    return Value();
  if (isScalarNear(add.getLhs(), 1.0))
    return add.getRhs();
  if (isScalarNear(add.getRhs(), 1.0))
    return add.getLhs();
  return Value();
}

/// `v` = x * c with the constant `c` near `expected` (any association);
/// returns x.
Value matchScaled(Value v, double expected) {
  SmallVector<Value> factors;
  SmallVector<double> constants;
  collectFactors(v, /*isRoot=*/true, factors, constants);
  if (factors.size() != 1 || !near(product(constants), expected))
    return Value();
  return factors.front();
}

/// Whether `v` is x^3: Pow(x, 3) or a product of three x.
bool isCube(Value v, Value x) {
  if (auto pow = v.getDefiningOp<PowOp>())
    return pow.getLhs() == x && isScalarNear(pow.getRhs(), 3.0);
  SmallVector<Value> factors;
  SmallVector<double> constants;
  collectFactors(v, true, factors, constants);
  return factors.size() == 3 && constants.empty() &&
         llvm::all_of(factors, [&](Value f) { return f == x; });
}

//===----------------------------------------------------------------------===//
// GELU
//===----------------------------------------------------------------------===//

/// 0.5 * x * (1 + erf(x / sqrt(2))) and
/// 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3))).
struct RecognizeGelu : OpRewritePattern<MulOp> {
  RecognizeGelu(MLIRContext *context, Counts &counts)
      : OpRewritePattern(context), counts(counts) {}
  LogicalResult matchAndRewrite(MulOp root,
                                PatternRewriter &rewriter) const override {
    if (!isa<FloatType>(root.getType().getElementType()))
      return failure();
    SmallVector<Value> factors;
    SmallVector<double> constants;
    collectFactors(root.getResult(), true, factors, constants);
    if (factors.size() != 2 || !near(product(constants), 0.5))
      return rewriter.notifyMatchFailure(root, "not 0.5 * x * (1 + f(x))");
    for (int i = 0; i < 2; ++i) {
      Value x = factors[i], t = matchOnePlus(factors[1 - i]);
      if (!t || x.getType() != root.getType())
        continue;
      StringRef approximate;
      if (auto erf = t.getDefiningOp<ErfOp>()) {
        if (matchScaled(erf.getInput(), M_SQRT1_2) != x)
          continue;
        approximate = "none";
      } else if (auto tanh = t.getDefiningOp<TanhOp>()) {
        Value inner = matchScaled(tanh.getInput(), std::sqrt(2.0 / M_PI));
        auto sum = inner ? inner.getDefiningOp<AddOp>() : AddOp();
        if (!sum)
          continue;
        Value other = otherOperand(sum, x);
        Value cube = other ? matchScaled(other, 0.044715) : Value();
        if (!cube || !isCube(cube, x))
          continue;
        approximate = "tanh";
      } else {
        continue;
      }
      auto gelu = GeluOp::create(rewriter, fusedLoc({t.getDefiningOp(), root}),
                                 root.getType(), x,
                                 rewriter.getStringAttr(approximate));
      rewriter.replaceOp(root, gelu.getResult());
      ++counts.gelu;
      return success();
    }
    return rewriter.notifyMatchFailure(root, "no erf or tanh GELU form");
  }
  Counts &counts;
};

//===----------------------------------------------------------------------===//
// LayerNorm and RMSNorm
//===----------------------------------------------------------------------===//

/// The first normalized dim when `axes` (keepdims) are the trailing dims
/// axis..rank-1 of a rank-`rank` tensor.
std::optional<int64_t> trailingAxis(ArrayRef<int64_t> axes, int64_t rank) {
  if (axes.empty())
    return std::nullopt;
  SmallVector<int64_t> sorted;
  for (int64_t a : axes) {
    FailureOr<int64_t> n = normalizeAxis(a, rank);
    if (failed(n))
      return std::nullopt;
    sorted.push_back(*n);
  }
  llvm::sort(sorted);
  for (size_t i = 0; i < sorted.size(); ++i)
    if (sorted[i] !=
        rank - static_cast<int64_t>(sorted.size()) + static_cast<int64_t>(i))
      return std::nullopt;
  return sorted.front();
}

/// mean(v) over trailing dims with keepdims: returns v and the axis.
std::optional<std::pair<Value, int64_t>> matchMean(Value mean) {
  auto reduce = mean.getDefiningOp<ReduceMeanOp>();
  if (!reduce || !reduce.getKeepdims())
    return std::nullopt;
  int64_t rank = reduce.getInput().getType().getRank();
  std::optional<int64_t> axis = trailingAxis(reduce.getAxes(), rank);
  if (!axis)
    return std::nullopt;
  return std::pair{reduce.getInput(), *axis};
}

/// sqrt(mean(v^2) + eps): v, the axis and eps.
struct RootMeanSquare {
  Value v;
  int64_t axis;
  double epsilon;
};
std::optional<RootMeanSquare> matchRootMeanSquare(Value root) {
  auto sqrt = root.getDefiningOp<SqrtOp>();
  if (!sqrt)
    return std::nullopt;
  auto add = sqrt.getInput().getDefiningOp<AddOp>();
  if (!add)
    return std::nullopt;
  for (Value side : {add.getLhs(), add.getRhs()}) {
    std::optional<double> eps = getScalarConstant(otherOperand(add, side));
    auto mean = matchMean(side);
    if (!eps || !mean)
      continue;
    Value sq = mean->first;
    Value v;
    if (auto pow = sq.getDefiningOp<PowOp>()) {
      if (isScalarNear(pow.getRhs(), 2.0))
        v = pow.getLhs();
    } else if (auto mul = sq.getDefiningOp<MulOp>()) {
      if (mul.getLhs() == mul.getRhs())
        v = mul.getLhs();
    }
    if (v)
      return RootMeanSquare{v, mean->second, *eps};
  }
  return std::nullopt;
}

/// n / d, n * reciprocal(d) or n * (1 / d) (torch's rsqrt): the numerator
/// and the denominator.
std::optional<std::pair<Value, Value>> matchQuotient(Operation *op) {
  if (auto div = dyn_cast<DivOp>(op))
    return std::pair{div.getLhs(), div.getRhs()};
  if (auto mul = dyn_cast<MulOp>(op))
    for (Value side : {mul.getLhs(), mul.getRhs()}) {
      if (auto reciprocal = side.getDefiningOp<ReciprocalOp>())
        return std::pair{otherOperand(mul, side), reciprocal.getInput()};
      if (auto inverse = side.getDefiningOp<DivOp>();
          inverse && isScalarNear(inverse.getLhs(), 1.0, 0.0))
        return std::pair{otherOperand(mul, side), inverse.getRhs()};
    }
  return std::nullopt;
}

/// The affine tail of a normalization: `norm * gamma (+ beta)`, where gamma
/// and beta broadcast over the normalized dims only. Returns the last op of
/// the tail (or `norm`'s producer), gamma and beta (null when absent).
struct AffineTail {
  Operation *last;
  Value gamma, beta;
};
AffineTail matchAffineTail(Operation *norm, int64_t axis, bool allowBias) {
  AffineTail tail{norm, Value(), Value()};
  auto type = cast<RankedTensorType>(norm->getResult(0).getType());
  ArrayRef<int64_t> normalized = type.getShape().drop_front(axis);
  auto fits = [&](Value v) {
    auto t = cast<RankedTensorType>(v.getType());
    return t.getElementType() == type.getElementType() &&
           broadcastsTo(t.getShape(), normalized);
  };
  auto mul = dyn_cast_if_present<MulOp>(singleUser(norm->getResult(0)));
  if (!mul || mul.getType() != type)
    return tail;
  Value gamma = otherOperand(mul, norm->getResult(0));
  if (!gamma || !fits(gamma))
    return tail;
  tail = {mul, gamma, Value()};
  if (!allowBias)
    return tail;
  auto add = dyn_cast_if_present<AddOp>(singleUser(mul.getResult()));
  if (!add || add.getType() != type)
    return tail;
  Value beta = otherOperand(add, mul.getResult());
  if (beta && fits(beta))
    tail = {add, gamma, beta};
  return tail;
}

/// A scale of ones over the normalized dims (when the pattern has none).
Value onesScale(PatternRewriter &rewriter, Location loc, RankedTensorType type,
                int64_t axis) {
  auto scaleType = RankedTensorType::get(type.getShape().drop_front(axis),
                                         type.getElementType());
  return ConstantOp::create(
      rewriter, loc, scaleType,
      DenseElementsAttr::get(scaleType,
                             rewriter.getFloatAttr(type.getElementType(), 1)));
}

/// Adds to `ops` the ops that compute `value` back to the `stops` (not
/// crossing them or constants): the ONNX nodes a recognized pattern
/// replaces, for its fused location. At most 16 ops.
void collectChain(Value value, ArrayRef<Value> stops,
                  SmallVectorImpl<Operation *> &ops) {
  SmallVector<Value> work = {value};
  while (!work.empty() && ops.size() < 16) {
    Value v = work.pop_back_val();
    Operation *op = v.getDefiningOp();
    if (!op || llvm::is_contained(stops, v) ||
        op->hasTrait<OpTrait::ConstantLike>() || isa<ConstantOp>(op) ||
        llvm::is_contained(ops, op))
      continue;
    ops.push_back(op);
    llvm::append_range(work, op->getOperands());
  }
}

/// The ops of an affine tail between the normalization and its last op
/// (the scale's Mul before the bias's Add).
void collectTail(Operation *norm, const AffineTail &tail,
                 SmallVectorImpl<Operation *> &ops) {
  for (Operation *op = tail.last; op && op != norm;) {
    if (!llvm::is_contained(ops, op))
      ops.push_back(op);
    Operation *next = nullptr;
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp();
          def && (def == norm || isa<MulOp>(def)) && operand != tail.gamma &&
          operand != tail.beta)
        next = def;
    op = next;
  }
}

/// (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) [* gamma [+ beta]].
struct RecognizeLayerNorm : RewritePattern {
  RecognizeLayerNorm(MLIRContext *context, Counts &counts)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/2, context),
        counts(counts) {}
  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    if (!isa<DivOp, MulOp>(root))
      return failure();
    auto quotient = matchQuotient(root);
    if (!quotient)
      return failure();
    auto [centered, denominator] = *quotient;
    std::optional<RootMeanSquare> rms = matchRootMeanSquare(denominator);
    auto sub = centered.getDefiningOp<SubOp>();
    if (!rms || rms->v != centered || !sub)
      return failure();
    auto mean = matchMean(sub.getRhs());
    Value x = sub.getLhs();
    auto type = cast<RankedTensorType>(root->getResult(0).getType());
    if (!mean || mean->first != x || mean->second != rms->axis ||
        x.getType() != type || !isa<FloatType>(type.getElementType()))
      return failure();
    AffineTail tail = matchAffineTail(root, rms->axis, /*allowBias=*/true);
    if (!tail.gamma && !type.hasStaticShape())
      return failure();
    // Every node the LayerNorm replaces: the mean, the subtraction, the
    // variance and its root, the division, the scale and the bias.
    SmallVector<Operation *> parts = {sub, root};
    collectChain(sub.getRhs(), {x}, parts);
    // The divisor: the root's other operand (sqrt, or 1/sqrt, reciprocal).
    for (Value operand : root->getOperands())
      if (operand != centered)
        collectChain(operand, {x, centered}, parts);
    collectTail(root, tail, parts);
    Location loc = fusedLoc(parts);
    Value scale =
        tail.gamma ? tail.gamma : onesScale(rewriter, loc, type, rms->axis);
    Value ln = LayerNormOp::create(
        rewriter, loc, type, x, scale, tail.beta,
        rewriter.getI64IntegerAttr(rms->axis),
        rewriter.getF32FloatAttr(static_cast<float>(rms->epsilon)));
    rewriter.replaceOp(tail.last, ln);
    ++counts.layerNorm;
    return success();
  }
  Counts &counts;
};

/// x / sqrt(mean(x^2) + eps) [* gamma].
struct RecognizeRMSNorm : RewritePattern {
  RecognizeRMSNorm(MLIRContext *context, Counts &counts)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context),
        counts(counts) {}
  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    if (!isa<DivOp, MulOp>(root))
      return failure();
    auto quotient = matchQuotient(root);
    if (!quotient)
      return failure();
    auto [x, denominator] = *quotient;
    std::optional<RootMeanSquare> rms = matchRootMeanSquare(denominator);
    auto type = cast<RankedTensorType>(root->getResult(0).getType());
    if (!rms || rms->v != x || x.getType() != type ||
        !isa<FloatType>(type.getElementType()))
      return failure();
    // (x - mean) / ... is a LayerNorm; leave it to that pattern.
    if (auto sub = x.getDefiningOp<SubOp>())
      if (auto mean = matchMean(sub.getRhs());
          mean && mean->first == sub.getLhs())
        return failure();
    AffineTail tail = matchAffineTail(root, rms->axis, /*allowBias=*/false);
    if (!tail.gamma && !type.hasStaticShape())
      return failure();
    SmallVector<Operation *> parts = {root};
    for (Value operand : root->getOperands())
      if (operand != x)
        collectChain(operand, {x}, parts);
    collectTail(root, tail, parts);
    Location loc = fusedLoc(parts);
    Value scale =
        tail.gamma ? tail.gamma : onesScale(rewriter, loc, type, rms->axis);
    Value norm = RMSNormOp::create(
        rewriter, loc, type, x, scale, rewriter.getI64IntegerAttr(rms->axis),
        rewriter.getF32FloatAttr(static_cast<float>(rms->epsilon)));
    rewriter.replaceOp(tail.last, norm);
    ++counts.rmsNorm;
    return success();
  }
  Counts &counts;
};

//===----------------------------------------------------------------------===//
// Rotary position embedding
//===----------------------------------------------------------------------===//

/// x[..., start:end] along the last dim (step 1; `end` may be clamped).
std::optional<std::pair<Value, std::pair<int64_t, int64_t>>>
matchLastDimSlice(Value v) {
  auto slice = v.getDefiningOp<SliceOp>();
  if (!slice)
    return std::nullopt;
  RankedTensorType type = slice.getInput().getType();
  int64_t rank = type.getRank(), extent = type.getShape().back();
  auto starts = getConstantInts(slice.getStarts());
  auto ends = getConstantInts(slice.getEnds());
  auto axes = getConstantInts(slice.getAxes());
  auto steps = getConstantInts(slice.getSteps());
  if (!starts || !ends || !axes || !steps || starts->size() != 1 ||
      ends->size() != 1 || axes->size() != 1 || steps->size() != 1 ||
      (*steps)[0] != 1 || ShapedType::isDynamic(extent))
    return std::nullopt;
  FailureOr<int64_t> axis = normalizeAxis((*axes)[0], rank);
  if (failed(axis) || *axis != rank - 1)
    return std::nullopt;
  auto clampIndex = [&](int64_t i) {
    return std::clamp<int64_t>(i < 0 ? i + extent : i, 0, extent);
  };
  return std::pair{slice.getInput(),
                   std::pair{clampIndex((*starts)[0]), clampIndex((*ends)[0])}};
}

/// x * cos + rotate_half(x) * sin, rotate_half(x) = Concat(-x[..., h:],
/// x[..., :h]) along the last dim (of extent 2h).
struct RecognizeRotary : OpRewritePattern<AddOp> {
  RecognizeRotary(MLIRContext *context, Counts &counts)
      : OpRewritePattern(context), counts(counts) {}
  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    auto type = cast<RankedTensorType>(add.getType());
    if (!isa<FloatType>(type.getElementType()) || type.getRank() < 1)
      return failure();
    for (Value rotatedSide : {add.getLhs(), add.getRhs()}) {
      auto rotatedMul = rotatedSide.getDefiningOp<MulOp>();
      auto plainMul = otherOperand(add, rotatedSide).getDefiningOp<MulOp>();
      if (!rotatedMul || !plainMul || rotatedMul == plainMul)
        continue;
      for (Value rotated : {rotatedMul.getLhs(), rotatedMul.getRhs()}) {
        auto concat = rotated.getDefiningOp<ConcatOp>();
        if (!concat || concat.getInputs().size() != 2)
          continue;
        int64_t rank = concat.getType().getRank();
        FailureOr<int64_t> axis = normalizeAxis(concat.getAxis(), rank);
        if (failed(axis) || *axis != rank - 1)
          continue;
        auto neg = concat.getInputs()[0].getDefiningOp<NegOp>();
        if (!neg)
          continue;
        auto upper = matchLastDimSlice(neg.getInput());
        auto lower = matchLastDimSlice(concat.getInputs()[1]);
        if (!upper || !lower || upper->first != lower->first)
          continue;
        Value x = upper->first;
        int64_t extent = cast<RankedTensorType>(x.getType()).getShape().back();
        int64_t half = extent / 2;
        if (extent % 2 != 0 || upper->second != std::pair{half, extent} ||
            lower->second != std::pair<int64_t, int64_t>{0, half} ||
            x.getType() != type)
          continue;
        Value sin = otherOperand(rotatedMul, rotated);
        Value cos = otherOperand(plainMul, x);
        if (!cos || !sin)
          continue;
        auto fits = [&](Value table) {
          auto t = cast<RankedTensorType>(table.getType());
          return t.getElementType() == type.getElementType() &&
                 broadcastsTo(t.getShape(), type.getShape());
        };
        if (!fits(cos) || !fits(sin) ||
            cast<RankedTensorType>(rotatedMul.getType()) != type ||
            cast<RankedTensorType>(plainMul.getType()) != type)
          continue;
        Location loc = fusedLoc({add, plainMul, rotatedMul, concat, neg,
                                 neg.getInput().getDefiningOp(),
                                 concat.getInputs()[1].getDefiningOp()});
        rewriter.replaceOp(
            add,
            RotaryOp::create(rewriter, loc, type, x, cos, sin).getResult());
        ++counts.rotary;
        return success();
      }
    }
    return failure();
  }
  Counts &counts;
};

struct KilnRecognizePatternsPass
    : public kiln::impl::KilnRecognizePatternsBase<KilnRecognizePatternsPass> {
  void runOnOperation() override {
    Counts counts;
    RewritePatternSet patterns(&getContext());
    patterns.add<RecognizeGelu, RecognizeLayerNorm, RecognizeRMSNorm,
                 RecognizeRotary>(&getContext(), counts);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    numLayerNorm += counts.layerNorm;
    numRMSNorm += counts.rmsNorm;
    numGelu += counts.gelu;
    numRotary += counts.rotary;
  }
};

} // namespace
