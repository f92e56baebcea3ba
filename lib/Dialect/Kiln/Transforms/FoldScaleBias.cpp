//===- FoldScaleBias.cpp - fold BatchNorm, Mul, Add into weights ----------===//

#include "GraphUtils.h"

#include "kiln/Dialect/Kiln/Transforms/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_KILNFOLDSCALEBIAS
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::graph;

namespace {

/// Counters the patterns bump (the pass's statistics).
struct Counts {
  int64_t batchNorm = 0, scale = 0, bias = 0;
};

/// The per-channel values of constant `c` broadcast onto a result of rank
/// `rank` whose channel dim is `axis` with `channels` channels: every other
/// dim of `c` must be 1. Empty when `c` is not such a constant.
std::optional<SmallVector<double>> perChannel(Value c, int64_t rank,
                                              int64_t axis, int64_t channels) {
  auto type = dyn_cast<RankedTensorType>(c.getType());
  if (!type || !type.hasStaticShape() || type.getRank() > rank)
    return std::nullopt;
  int64_t offset = rank - type.getRank();
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (d + offset != axis && type.getDimSize(d) != 1)
      return std::nullopt;
  std::optional<SmallVector<double>> values = getConstantFloats(c);
  if (!values)
    return std::nullopt;
  if (values->size() == 1)
    return SmallVector<double>(channels, values->front());
  if (static_cast<int64_t>(values->size()) != channels)
    return std::nullopt;
  return values;
}

/// Whether `t` has f32 or f64 elements (the types folding computes in).
bool isFoldableFloat(Type t) {
  Type e = cast<RankedTensorType>(t).getElementType();
  return e.isF32() || e.isF64();
}

/// A conv whose weight (and bias, when present) are constants and that has
/// no epilogue yet and no other user: what a scale or bias can fold into.
struct FoldableConv {
  ConvOp conv;
  SmallVector<double> weight, bias;
  int64_t channels;

  static std::optional<FoldableConv> match(Value v) {
    auto conv = v.getDefiningOp<ConvOp>();
    if (!conv || !conv->hasOneUse() || conv.getResidual() ||
        conv.getActivation() != "none" || !isFoldableFloat(conv.getType()))
      return std::nullopt;
    std::optional<SmallVector<double>> w = getConstantFloats(conv.getWeight());
    int64_t channels = conv.getWeight().getType().getDimSize(0);
    if (!w || ShapedType::isDynamic(channels))
      return std::nullopt;
    SmallVector<double> b(channels, 0.0);
    if (conv.getBias()) {
      std::optional<SmallVector<double>> values =
          getConstantFloats(conv.getBias());
      if (!values || static_cast<int64_t>(values->size()) != channels)
        return std::nullopt;
      b = *values;
    }
    return FoldableConv{conv, *w, b, channels};
  }

  /// Replaces `root` by this conv with the weight scaled per output channel
  /// by `scale` and the bias replaced by `bias`.
  void rewrite(PatternRewriter &rewriter, Operation *root,
               ArrayRef<double> scale, ArrayRef<double> newBias) {
    int64_t perChannel = weight.size() / channels;
    SmallVector<double> scaled(weight);
    for (int64_t m = 0; m < channels; ++m)
      for (int64_t i = 0; i < perChannel; ++i)
        scaled[m * perChannel + i] *= scale[m];
    Location loc = fusedLoc({conv, root});
    Type element = conv.getType().getElementType();
    Value w = createFloatConstant(rewriter, loc, conv.getWeight().getType(),
                                  scaled, constantName(conv.getWeight()));
    Value b = createFloatConstant(
        rewriter, loc, RankedTensorType::get({channels}, element), newBias,
        conv.getBias() ? constantName(conv.getBias()) : "conv.bias");
    ConvOp folded = rebuildContraction(rewriter, conv, loc,
                                       {conv.getInput(), w, b, Value()});
    rewriter.replaceOp(root, folded.getResult());
  }
};

/// batch_norm(conv) -> conv with W * s and (b - mean) * s + beta.
struct FoldBatchNorm : OpRewritePattern<BatchNormOp> {
  FoldBatchNorm(MLIRContext *context, Counts &counts)
      : OpRewritePattern(context), counts(counts) {}
  LogicalResult matchAndRewrite(BatchNormOp bn,
                                PatternRewriter &rewriter) const override {
    std::optional<FoldableConv> conv = FoldableConv::match(bn.getInput());
    if (!conv)
      return rewriter.notifyMatchFailure(bn, "input is not a foldable conv");
    int64_t channels = conv->channels;
    SmallVector<SmallVector<double>> stats;
    for (Value v :
         {bn.getScale(), bn.getBias(), bn.getMean(), bn.getVariance()}) {
      std::optional<SmallVector<double>> values = getConstantFloats(v);
      if (!values || static_cast<int64_t>(values->size()) != channels)
        return rewriter.notifyMatchFailure(bn, "statistics are not constant");
      stats.push_back(*values);
    }
    double epsilon = bn.getEpsilonAttr().getValueAsDouble();
    SmallVector<double> scale(channels), bias(channels);
    for (int64_t m = 0; m < channels; ++m) {
      scale[m] = stats[0][m] / std::sqrt(stats[3][m] + epsilon);
      bias[m] = (conv->bias[m] - stats[2][m]) * scale[m] + stats[1][m];
    }
    conv->rewrite(rewriter, bn, scale, bias);
    ++counts.batchNorm;
    return success();
  }
  Counts &counts;
};

/// mul(conv, per-channel constant) -> conv with scaled weight and bias.
struct FoldConvScale : OpRewritePattern<MulOp> {
  FoldConvScale(MLIRContext *context, Counts &counts)
      : OpRewritePattern(context), counts(counts) {}
  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    for (Value side : {mul.getLhs(), mul.getRhs()}) {
      std::optional<FoldableConv> conv = FoldableConv::match(side);
      if (!conv || mul.getType() != conv->conv.getType())
        continue;
      std::optional<SmallVector<double>> scale = perChannel(
          otherOperand(mul, side), mul.getType().getRank(), 1, conv->channels);
      if (!scale)
        continue;
      SmallVector<double> bias(conv->bias);
      for (auto [b, s] : llvm::zip_equal(bias, *scale))
        b *= s;
      conv->rewrite(rewriter, mul, *scale, bias);
      ++counts.scale;
      return success();
    }
    return rewriter.notifyMatchFailure(mul, "no conv with a channel scale");
  }
  Counts &counts;
};

/// add(conv, per-channel constant) -> conv with the constant in its bias.
struct FoldConvBias : OpRewritePattern<AddOp> {
  FoldConvBias(MLIRContext *context, Counts &counts)
      : OpRewritePattern(context), counts(counts) {}
  LogicalResult matchAndRewrite(AddOp add,
                                PatternRewriter &rewriter) const override {
    for (Value side : {add.getLhs(), add.getRhs()}) {
      std::optional<FoldableConv> conv = FoldableConv::match(side);
      if (!conv || add.getType() != conv->conv.getType())
        continue;
      std::optional<SmallVector<double>> shift = perChannel(
          otherOperand(add, side), add.getType().getRank(), 1, conv->channels);
      if (!shift)
        continue;
      SmallVector<double> bias(conv->bias), ones(conv->channels, 1.0);
      for (auto [b, s] : llvm::zip_equal(bias, *shift))
        b += s;
      conv->rewrite(rewriter, add, ones, bias);
      ++counts.bias;
      return success();
    }
    return rewriter.notifyMatchFailure(add, "no conv with a channel shift");
  }
  Counts &counts;
};

/// mul(matmul(x, W[, bias]), per-column constant) -> matmul with W's columns
/// (and the bias) scaled.
struct FoldMatMulScale : OpRewritePattern<MulOp> {
  FoldMatMulScale(MLIRContext *context, Counts &counts)
      : OpRewritePattern(context), counts(counts) {}
  LogicalResult matchAndRewrite(MulOp mul,
                                PatternRewriter &rewriter) const override {
    for (Value side : {mul.getLhs(), mul.getRhs()}) {
      auto matmul = side.getDefiningOp<MatMulOp>();
      if (!matmul || !matmul->hasOneUse() || matmul.getResidual() ||
          matmul.getActivation() != "none" ||
          mul.getType() != matmul.getType() ||
          !isFoldableFloat(matmul.getType()))
        continue;
      RankedTensorType wType = matmul.getRhs().getType();
      if (wType.getRank() != 2 || !wType.hasStaticShape())
        continue;
      int64_t n = wType.getDimSize(1);
      std::optional<SmallVector<double>> w = getConstantFloats(matmul.getRhs());
      std::optional<SmallVector<double>> scale =
          perChannel(otherOperand(mul, side), mul.getType().getRank(),
                     mul.getType().getRank() - 1, n);
      if (!w || !scale)
        continue;
      std::optional<SmallVector<double>> bias;
      if (matmul.getBias()) {
        bias = perChannel(matmul.getBias(), mul.getType().getRank(),
                          mul.getType().getRank() - 1, n);
        if (!bias)
          continue;
      }
      for (int64_t i = 0, e = w->size(); i < e; ++i)
        (*w)[i] *= (*scale)[i % n];
      Location loc = fusedLoc({matmul, mul});
      Value newW = createFloatConstant(rewriter, loc, wType, *w,
                                       constantName(matmul.getRhs()));
      Value newBias;
      if (bias) {
        for (auto [b, s] : llvm::zip_equal(*bias, *scale))
          b *= s;
        newBias = createFloatConstant(
            rewriter, loc, RankedTensorType::get({n}, wType.getElementType()),
            *bias, constantName(matmul.getBias()));
      }
      MatMulOp folded = rebuildContraction(
          rewriter, matmul, loc, {matmul.getLhs(), newW, newBias, Value()});
      rewriter.replaceOp(mul, folded.getResult());
      ++counts.scale;
      return success();
    }
    return rewriter.notifyMatchFailure(mul, "no matmul with a column scale");
  }
  Counts &counts;
};

struct KilnFoldScaleBiasPass
    : public kiln::impl::KilnFoldScaleBiasBase<KilnFoldScaleBiasPass> {
  void runOnOperation() override {
    Counts counts;
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldBatchNorm, FoldConvScale, FoldConvBias, FoldMatMulScale>(
        &getContext(), counts);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    numBatchNorm += counts.batchNorm;
    numScale += counts.scale;
    numBias += counts.bias;
  }
};

} // namespace
