//===- FoldConstants.cpp - evaluate ops whose operands are constants ------===//

#include "GraphUtils.h"

#include "kiln/Dialect/Kiln/Transforms/Passes.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <cmath>

namespace kiln {
#define GEN_PASS_DEF_KILNFOLDCONSTANTS
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::graph;

/// Whether folding can compute in doubles and store `type` exactly enough:
/// f32, f64, and integers of up to 32 bits or i64 shape values.
static bool isFoldableElement(Type type) {
  return type.isF32() || type.isF64() || type.isSignlessInteger(32) ||
         type.isSignlessInteger(64);
}

/// An elements attribute of `type` holding `values` (see isFoldableElement).
static ElementsAttr makeElements(RankedTensorType type, ArrayRef<double> values,
                                 StringRef name) {
  Type element = type.getElementType();
  if (isa<FloatType>(element))
    return makeFloatElements(type, values, name);
  SmallVector<APInt> ints;
  unsigned width = element.getIntOrFloatBitWidth();
  for (double v : values)
    ints.push_back(APInt(width, static_cast<int64_t>(v), /*isSigned=*/true));
  if (static_cast<int64_t>(ints.size()) <= kMaxFoldElements)
    return DenseElementsAttr::get(type, ints);
  if (width == 64) {
    SmallVector<int64_t> data(values.begin(), values.end());
    return DenseResourceElementsAttr::get(
        type, name,
        HeapAsmResourceBlob::allocateAndCopyInferAlign(
            ArrayRef<int64_t>(data)));
  }
  SmallVector<int32_t> data(values.begin(), values.end());
  return DenseResourceElementsAttr::get(
      type, name,
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<int32_t>(data)));
}

/// The scalar function of a foldable unary op, or null.
static std::function<double(double)> unaryFunction(Operation *op) {
  if (isa<ReluOp>(op))
    return [](double x) { return x > 0 ? x : 0.0; };
  if (isa<NegOp>(op))
    return [](double x) { return -x; };
  if (isa<AbsOp>(op))
    return [](double x) { return std::fabs(x); };
  if (isa<ExpOp>(op))
    return [](double x) { return std::exp(x); };
  if (isa<LogOp>(op))
    return [](double x) { return std::log(x); };
  if (isa<SqrtOp>(op))
    return [](double x) { return std::sqrt(x); };
  if (isa<ReciprocalOp>(op))
    return [](double x) { return 1.0 / x; };
  if (isa<TanhOp>(op))
    return [](double x) { return std::tanh(x); };
  if (isa<SigmoidOp>(op))
    return [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  if (isa<ErfOp>(op))
    return [](double x) { return std::erf(x); };
  return nullptr;
}

/// The scalar function of a foldable binary op over floats, or null.
static std::function<double(double, double)> binaryFunction(Operation *op) {
  if (isa<AddOp>(op))
    return [](double a, double b) { return a + b; };
  if (isa<SubOp>(op))
    return [](double a, double b) { return a - b; };
  if (isa<MulOp>(op))
    return [](double a, double b) { return a * b; };
  if (isa<DivOp>(op))
    return [](double a, double b) { return a / b; };
  if (isa<MaxOp>(op))
    return [](double a, double b) { return std::max(a, b); };
  if (isa<MinOp>(op))
    return [](double a, double b) { return std::min(a, b); };
  if (isa<PowOp>(op))
    return [](double a, double b) { return std::pow(a, b); };
  return nullptr;
}

/// Row-major strides of `shape`.
static SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/// The value of every result element of `op` (operands constant, result
/// static), or std::nullopt when Kiln does not evaluate this op.
static std::optional<SmallVector<double>> evaluate(Operation *op) {
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  int64_t count = resultType.getNumElements();
  SmallVector<SmallVector<double>> inputs;
  for (Value operand : op->getOperands()) {
    std::optional<SmallVector<double>> values = getConstantFloats(operand);
    if (!values)
      return std::nullopt;
    inputs.push_back(std::move(*values));
  }
  // Reshaping ops keep the element order.
  if (isa<ReshapeOp, SqueezeOp, UnsqueezeOp, FlattenOp>(op))
    return inputs[0];
  if (isa<CastOp>(op)) {
    SmallVector<double> out(inputs[0]);
    if (!isa<FloatType>(resultType.getElementType()))
      for (double &v : out)
        v = std::trunc(v);
    return out;
  }
  if (auto transpose = dyn_cast<TransposeOp>(op)) {
    auto inputType = cast<RankedTensorType>(op->getOperand(0).getType());
    SmallVector<int64_t> inStrides = stridesOf(inputType.getShape());
    SmallVector<int64_t> outStrides = stridesOf(resultType.getShape());
    ArrayRef<int64_t> perm = transpose.getPerm();
    SmallVector<double> out(count);
    for (int64_t i = 0; i < count; ++i) {
      int64_t source = 0, rest = i;
      for (size_t d = 0; d < perm.size(); ++d) {
        int64_t index = rest / outStrides[d];
        rest %= outStrides[d];
        source += index * inStrides[perm[d]];
      }
      out[i] = inputs[0][source];
    }
    return out;
  }
  if (!isa<FloatType>(resultType.getElementType()))
    return std::nullopt;
  if (auto f = unaryFunction(op)) {
    SmallVector<double> out(inputs[0]);
    for (double &v : out)
      v = f(v);
    return out;
  }
  if (auto f = binaryFunction(op)) {
    // Broadcast both operands onto the result.
    ArrayRef<int64_t> shape = resultType.getShape();
    SmallVector<int64_t> outStrides = stridesOf(shape);
    SmallVector<SmallVector<int64_t>> operandStrides;
    for (Value operand : op->getOperands()) {
      auto type = cast<RankedTensorType>(operand.getType());
      SmallVector<int64_t> own = stridesOf(type.getShape());
      SmallVector<int64_t> strides(shape.size(), 0);
      int64_t offset = shape.size() - type.getRank();
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (type.getDimSize(d) != 1)
          strides[d + offset] = own[d];
      operandStrides.push_back(strides);
    }
    SmallVector<double> out(count);
    for (int64_t i = 0; i < count; ++i) {
      int64_t a = 0, b = 0, rest = i;
      for (size_t d = 0; d < shape.size(); ++d) {
        int64_t index = rest / outStrides[d];
        rest %= outStrides[d];
        a += index * operandStrides[0][d];
        b += index * operandStrides[1][d];
      }
      out[i] = f(inputs[0][a], inputs[1][b]);
    }
    return out;
  }
  return std::nullopt;
}

namespace {
/// Replaces a kiln op whose operands are all constants by its value.
struct FoldConstantOp : RewritePattern {
  FoldConstantOp(MLIRContext *context, int64_t maxElements, int64_t &count)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context),
        maxElements(maxElements), count(count) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<KilnDialect>(op->getDialect()) || isa<ConstantOp>(op) ||
        op->getNumResults() != 1 || op->getNumOperands() == 0)
      return failure();
    auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
    if (!type || !type.hasStaticShape() ||
        type.getNumElements() > maxElements ||
        !isFoldableElement(type.getElementType()))
      return failure();
    for (Value operand : op->getOperands()) {
      auto constant = operand.getDefiningOp<ConstantOp>();
      if (!constant ||
          !isFoldableElement(
              cast<RankedTensorType>(operand.getType()).getElementType()))
        return failure();
      // A large constant with other users would be duplicated.
      if (cast<RankedTensorType>(operand.getType()).getNumElements() >
              kMaxFoldElements &&
          !llvm::all_of(operand.getUsers(),
                        [&](Operation *user) { return user == op; }))
        return failure();
    }
    std::optional<SmallVector<double>> values = evaluate(op);
    if (!values ||
        static_cast<int64_t>(values->size()) != type.getNumElements())
      return failure();
    std::string name = constantName(op->getOperand(0));
    rewriter.replaceOpWithNewOp<ConstantOp>(op, type,
                                            makeElements(type, *values, name));
    ++count;
    return success();
  }
  int64_t maxElements;
  int64_t &count;
};

struct KilnFoldConstantsPass
    : public kiln::impl::KilnFoldConstantsBase<KilnFoldConstantsPass> {
  using Base::Base;
  void runOnOperation() override {
    int64_t count = 0;
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldConstantOp>(&getContext(), maxElements, count);
    // The greedy driver also runs the ops' own folders (shape arithmetic).
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    numFolded += count;
  }
};
} // namespace
