//===- FuseEpilogues.cpp - bias, residual, activation into contractions ---===//

#include "GraphUtils.h"

#include "kiln/Dialect/Kiln/Transforms/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_KILNFUSEEPILOGUES
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::graph;

namespace {

struct Counts {
  int64_t bias = 0, residual = 0, activation = 0;
};

/// A conv, matmul (both operands of rank >= 2) or gemm whose result has
/// exactly `uses` uses and whose epilogue has no activation yet.
Operation *fusibleContraction(Value v, unsigned uses = 1) {
  Operation *op = v.getDefiningOp();
  if (!op || !llvm::hasNItems(v.getUses(), uses))
    return nullptr;
  if (auto conv = dyn_cast<ConvOp>(op))
    return conv.getActivation() == "none" ? op : nullptr;
  if (auto gemm = dyn_cast<GemmOp>(op))
    return gemm.getActivation() == "none" ? op : nullptr;
  if (auto matmul = dyn_cast<MatMulOp>(op))
    return matmul.getActivation() == "none" &&
                   matmul.getLhs().getType().getRank() >= 2 &&
                   matmul.getRhs().getType().getRank() >= 2
               ? op
               : nullptr;
  return nullptr;
}

/// Rebuilds contraction `op` as the replacement of `root` with `operands`
/// and, when `activation` is set, that activation.
void replaceWithContraction(PatternRewriter &rewriter, Operation *op,
                            Operation *root, ArrayRef<Value> operands,
                            std::optional<StringRef> activation = {},
                            ArrayRef<float> params = {},
                            ArrayRef<Operation *> alsoFused = {}) {
  SmallVector<Operation *> parts = {op, root};
  parts.append(alsoFused.begin(), alsoFused.end());
  Location loc = fusedLoc(parts);
  auto edit = [&](auto &props) {
    if (!activation)
      return;
    props.activation = rewriter.getStringAttr(*activation);
    props.activation_params = rewriter.getDenseF32ArrayAttr(params);
  };
  Value result;
  if (auto conv = dyn_cast<ConvOp>(op))
    result = rebuildContraction(rewriter, conv, loc, operands, edit);
  else if (auto matmul = dyn_cast<MatMulOp>(op))
    result = rebuildContraction(rewriter, matmul, loc, operands, edit);
  else
    result =
        rebuildContraction(rewriter, cast<GemmOp>(op), loc, operands, edit);
  rewriter.replaceOp(root, result);
}

/// add(contraction, c): a constant `c` that varies only along the output
/// columns becomes a matmul's bias (or a gemm's C); a tensor of the result's
/// type becomes the residual.
struct FuseAdd : OpRewritePattern<AddOp> {
  FuseAdd(MLIRContext *context, Counts &counts)
      : OpRewritePattern(context), counts(counts) {}
  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    for (Value side : {add.getLhs(), add.getRhs()}) {
      Operation *op = fusibleContraction(side);
      if (!op || add.getType() != side.getType())
        continue;
      Value other = otherOperand(add, side);
      if (other == side) // add(c, c): c is not available before c.
        continue;
      SmallVector<Value, 4> operands = contractionOperands(op);
      auto otherType = cast<RankedTensorType>(other.getType());
      bool isBias = !isa<ConvOp>(op) && !operands[2] &&
                    other.getDefiningOp<ConstantOp>() &&
                    otherType.getRank() <= add.getType().getRank() &&
                    llvm::all_of(otherType.getShape().drop_back(),
                                 [](int64_t d) { return d == 1; });
      if (auto gemm = dyn_cast<GemmOp>(op))
        isBias = isBias && gemm.getBeta().convertToDouble() == 1.0;
      if (isBias) {
        operands[2] = other;
        replaceWithContraction(rewriter, op, add, operands);
        ++counts.bias;
        return success();
      }
      if (!operands[3] && otherType == add.getType()) {
        operands[3] = other;
        replaceWithContraction(rewriter, op, add, operands);
        ++counts.residual;
        return success();
      }
    }
    return rewriter.notifyMatchFailure(add, "no fusible contraction operand");
  }
  Counts &counts;
};

/// The epilogue activation equivalent to unary op `op`, with its parameters.
std::optional<std::pair<StringRef, SmallVector<float>>>
activationOf(Operation *op) {
  using Result = std::pair<StringRef, SmallVector<float>>;
  if (isa<ReluOp>(op))
    return Result{"relu", {}};
  if (isa<SigmoidOp>(op))
    return Result{"sigmoid", {}};
  if (isa<TanhOp>(op))
    return Result{"tanh", {}};
  if (isa<HardSwishOp>(op))
    return Result{"hard_swish", {}};
  if (auto gelu = dyn_cast<GeluOp>(op))
    return Result{gelu.getApproximate() == "tanh" ? "gelu_tanh" : "gelu", {}};
  if (auto leaky = dyn_cast<LeakyReluOp>(op))
    return Result{
        "leaky_relu",
        {static_cast<float>(leaky.getAlphaAttr().getValueAsDouble())}};
  if (auto clip = dyn_cast<ClipOp>(op)) {
    float lo = -std::numeric_limits<float>::infinity(), hi = -lo;
    if (clip.getMin()) {
      std::optional<double> v = getScalarConstant(clip.getMin());
      if (!v)
        return std::nullopt;
      lo = *v;
    }
    if (clip.getMax()) {
      std::optional<double> v = getScalarConstant(clip.getMax());
      if (!v)
        return std::nullopt;
      hi = *v;
    }
    return Result{"clip", {lo, hi}};
  }
  return std::nullopt;
}

/// activation(contraction) -> contraction with that activation.
struct FuseActivation : RewritePattern {
  FuseActivation(MLIRContext *context, Counts &counts)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context),
        counts(counts) {}
  LogicalResult matchAndRewrite(Operation *root,
                                PatternRewriter &rewriter) const override {
    if (!isa<KilnDialect>(root->getDialect()) || root->getNumOperands() < 1 ||
        root->getNumResults() != 1)
      return failure();
    auto activation = activationOf(root);
    if (!activation)
      return failure();
    Operation *op = fusibleContraction(root->getOperand(0));
    if (!op || root->getResult(0).getType() != op->getResult(0).getType() ||
        !isa<FloatType>(cast<RankedTensorType>(root->getResult(0).getType())
                            .getElementType()))
      return failure();
    replaceWithContraction(rewriter, op, root, contractionOperands(op),
                           activation->first, activation->second);
    ++counts.activation;
    return success();
  }
  Counts &counts;
};

/// mul(c, sigmoid(c)) with c a contraction -> contraction with SiLU.
struct FuseSiLU : OpRewritePattern<MulOp> {
  FuseSiLU(MLIRContext *context, Counts &counts)
      : OpRewritePattern(context), counts(counts) {}
  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    for (Value side : {mul.getLhs(), mul.getRhs()}) {
      auto sigmoid = otherOperand(mul, side).getDefiningOp<SigmoidOp>();
      if (!sigmoid || sigmoid.getInput() != side || !sigmoid->hasOneUse())
        continue;
      Operation *op = fusibleContraction(side, /*uses=*/2);
      if (!op || mul.getType() != side.getType())
        continue;
      replaceWithContraction(rewriter, op, mul, contractionOperands(op),
                             StringRef("silu"), {}, {sigmoid});
      rewriter.eraseOp(sigmoid);
      ++counts.activation;
      return success();
    }
    return rewriter.notifyMatchFailure(mul, "not x * sigmoid(x)");
  }
  Counts &counts;
};

struct KilnFuseEpiloguesPass
    : public kiln::impl::KilnFuseEpiloguesBase<KilnFuseEpiloguesPass> {
  void runOnOperation() override {
    Counts counts;
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAdd, FuseActivation, FuseSiLU>(&getContext(), counts);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    numBias += counts.bias;
    numResidual += counts.residual;
    numActivation += counts.activation;
  }
};

} // namespace
