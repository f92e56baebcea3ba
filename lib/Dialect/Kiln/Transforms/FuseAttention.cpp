//===- FuseAttention.cpp - scaled dot-product attention into one op -------===//

#include "GraphUtils.h"

#include "kiln/Dialect/Kiln/Transforms/Passes.h"

#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace kiln {
#define GEN_PASS_DEF_KILNFUSEATTENTION
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::graph;

namespace {

/// A plain matmul (no epilogue) of two operands of the same rank >= 2.
bool isPlainBatchedMatMul(MatMulOp op) {
  return !op.getBias() && !op.getResidual() && op.getActivation() == "none" &&
         op.getLhs().getType().getRank() >= 2 &&
         op.getLhs().getType().getRank() == op.getRhs().getType().getRank();
}

/// Whether the leading (batch) dims of `a` and `b` agree (equal, or dynamic
/// in either).
bool sameBatchDims(RankedTensorType a, RankedTensorType b) {
  if (a.getRank() != b.getRank())
    return false;
  for (int64_t d = 0; d + 2 < a.getRank(); ++d) {
    int64_t x = a.getDimSize(d), y = b.getDimSize(d);
    if (!ShapedType::isDynamic(x) && !ShapedType::isDynamic(y) && x != y)
      return false;
  }
  return true;
}

/// K from K^T: the transpose producing K^T composed with a swap of the last
/// two dims (no transpose at all when that is the identity).
Value untranspose(PatternRewriter &rewriter, Location loc, Value keyT) {
  auto type = cast<RankedTensorType>(keyT.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  Value source = keyT;
  if (auto transpose = keyT.getDefiningOp<TransposeOp>()) {
    perm.assign(transpose.getPerm().begin(), transpose.getPerm().end());
    source = transpose.getInput();
  }
  std::swap(perm[rank - 1], perm[rank - 2]);
  if (llvm::equal(perm, llvm::seq<int64_t>(0, rank)))
    return source;
  return TransposeOp::create(rewriter, loc, source,
                             rewriter.getDenseI64ArrayAttr(perm));
}

/// matmul(softmax(mask(scale * matmul(q, k^T))), v) -> kiln.attention.
struct FuseAttention : OpRewritePattern<MatMulOp> {
  FuseAttention(MLIRContext *context, int64_t &count)
      : OpRewritePattern(context), count(count) {}
  LogicalResult matchAndRewrite(MatMulOp root,
                                PatternRewriter &rewriter) const override {
    if (!isPlainBatchedMatMul(root) ||
        !isa<FloatType>(root.getType().getElementType()))
      return rewriter.notifyMatchFailure(root, "not a batched float matmul");
    SmallVector<Operation *> parts = {root};
    auto softmax = root.getLhs().getDefiningOp<SoftmaxOp>();
    if (!softmax || !softmax->hasOneUse())
      return rewriter.notifyMatchFailure(root, "lhs is not a softmax");
    int64_t rank = softmax.getType().getRank();
    if (softmax.getAxis() != -1 && softmax.getAxis() != rank - 1)
      return rewriter.notifyMatchFailure(root, "softmax not on the last dim");
    parts.push_back(softmax);
    Value scores = softmax.getInput();

    // The mask: an additive float tensor, or Where(cond, fill, scores).
    Value mask;
    std::optional<double> fill;
    bool invertMask = false;
    if (auto add = scores.getDefiningOp<AddOp>();
        add && add->hasOneUse() && add.getType() == scores.getType()) {
      for (Value side : {add.getLhs(), add.getRhs()}) {
        if (auto m = side.getDefiningOp<MatMulOp>();
            !m && !side.getDefiningOp<MulOp>() && !side.getDefiningOp<DivOp>())
          continue;
        Value other = otherOperand(add, side);
        if (cast<RankedTensorType>(other.getType()).getRank() <= rank) {
          mask = other;
          scores = side;
          parts.push_back(add);
          break;
        }
      }
    } else if (auto where = scores.getDefiningOp<WhereOp>();
               where && where->hasOneUse() &&
               where.getType() == scores.getType()) {
      if (std::optional<double> c = getScalarConstant(where.getLhs())) {
        fill = c;
        scores = where.getRhs();
      } else if (std::optional<double> c = getScalarConstant(where.getRhs())) {
        fill = c;
        invertMask = true;
        scores = where.getLhs();
      }
      if (fill) {
        mask = where.getCondition();
        parts.push_back(where);
      }
    }

    // The scale: Mul or Div by a scalar constant.
    double scale = 1.0;
    if (auto mul = scores.getDefiningOp<MulOp>(); mul && mul->hasOneUse()) {
      for (Value side : {mul.getLhs(), mul.getRhs()})
        if (std::optional<double> c = getScalarConstant(side)) {
          scale = *c;
          scores = otherOperand(mul, side);
          parts.push_back(mul);
          break;
        }
    } else if (auto div = scores.getDefiningOp<DivOp>();
               div && div->hasOneUse()) {
      if (std::optional<double> c = getScalarConstant(div.getRhs());
          c && *c != 0) {
        scale = 1.0 / *c;
        scores = div.getLhs();
        parts.push_back(div);
      }
    }

    auto qk = scores.getDefiningOp<MatMulOp>();
    if (!qk || !qk->hasOneUse() || !isPlainBatchedMatMul(qk) ||
        qk.getType().getRank() != rank)
      return rewriter.notifyMatchFailure(root, "no q * k^T matmul");
    parts.push_back(qk);
    Value query = qk.getLhs(), keyT = qk.getRhs(), value = root.getRhs();
    RankedTensorType qType = qk.getLhs().getType(),
                     vType = root.getRhs().getType();
    if (!sameBatchDims(qType, qk.getRhs().getType()) ||
        !sameBatchDims(qType, vType) ||
        qk.getType().getRank() != qType.getRank())
      return rewriter.notifyMatchFailure(root, "batch dims broadcast");

    Location loc = fusedLoc(parts);
    Value key = untranspose(rewriter, loc, keyT);
    if (mask && invertMask)
      mask = NotOp::create(rewriter, loc, mask);
    FloatAttr fillAttr =
        fill ? rewriter.getF32FloatAttr(static_cast<float>(*fill))
             : FloatAttr();
    auto attention = AttentionOp::create(
        rewriter, loc, root.getType(), query, key, value, mask,
        rewriter.getF32FloatAttr(static_cast<float>(scale)), fillAttr);
    rewriter.replaceOp(root, attention.getResult());
    ++count;
    return success();
  }
  int64_t &count;
};

/// `x` as Reshape(Expand(Unsqueeze(source, h + 1))) that repeats each head
/// (dim h = rank - 3) of `source` `group` times in place: [..., G, S, D] ->
/// [..., G, 1, S, D] -> [..., G, R, S, D] -> [..., G * R, S, D], every other
/// dim unchanged. Returns source and R.
std::optional<std::pair<Value, int64_t>> matchRepeatedHeads(Value x) {
  auto reshape = x.getDefiningOp<ReshapeOp>();
  if (!reshape)
    return std::nullopt;
  auto expand = reshape.getInput().getDefiningOp<ExpandOp>();
  if (!expand)
    return std::nullopt;
  auto unsqueeze = expand.getInput().getDefiningOp<UnsqueezeOp>();
  if (!unsqueeze || unsqueeze.getAxes().size() != 1)
    return std::nullopt;
  Value source = unsqueeze.getInput();
  auto sourceType = cast<RankedTensorType>(source.getType());
  int64_t rank = sourceType.getRank(), h = rank - 3;
  int64_t axis = unsqueeze.getAxes()[0];
  if (axis < 0)
    axis += rank + 1;
  if (rank < 3 || axis != h + 1 || reshape.getType().getRank() != rank ||
      expand.getType().getRank() != rank + 1)
    return std::nullopt;
  int64_t groups = sourceType.getDimSize(h);
  int64_t repeat = expand.getType().getDimSize(h + 1);
  if (ShapedType::isDynamic(groups) || ShapedType::isDynamic(repeat) ||
      repeat < 1)
    return std::nullopt;
  // Whether target element `e` is dim `d` of `source` (a constant equal to
  // its static extent, or a reference to it).
  auto isSourceDim = [&](const ShapeElement &e, int64_t d) {
    return e == dimElement(source, d) ||
           e == dimElement(unsqueeze.getResult(), d < axis ? d : d + 1);
  };
  std::optional<SmallVector<ShapeElement>> expandTo =
      getShapeElements(expand.getShape());
  if (!expandTo || static_cast<int64_t>(expandTo->size()) != rank + 1)
    return std::nullopt;
  for (int64_t i = 0; i <= rank; ++i) {
    if (i == axis)
      continue;
    const ShapeElement &e = (*expandTo)[i];
    if (e.constant != 1 && !isSourceDim(e, i < axis ? i : i - 1))
      return std::nullopt;
  }
  std::optional<SmallVector<ShapeElement>> reshapeTo =
      getShapeElements(reshape.getShape());
  if (!reshapeTo || static_cast<int64_t>(reshapeTo->size()) != rank ||
      reshape.getType().getDimSize(h) != groups * repeat)
    return std::nullopt;
  for (int64_t i = 0; i < rank; ++i) {
    const ShapeElement &e = (*reshapeTo)[i];
    bool copies = e.constant == 0 && !reshape.getAllowzero() && i < h;
    if (i != h && !copies && !isSourceDim(e, i))
      return std::nullopt;
  }
  return std::pair{source, repeat};
}

/// kiln.attention over key and value whose heads were repeated for the
/// query's (grouped-query attention) -> kiln.attention over the grouped
/// heads, read in place.
struct GroupKeyValueHeads : OpRewritePattern<AttentionOp> {
  GroupKeyValueHeads(MLIRContext *context, int64_t &count)
      : OpRewritePattern(context), count(count) {}
  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto key = matchRepeatedHeads(op.getKey());
    auto value = matchRepeatedHeads(op.getValue());
    if (!key || !value || key->second != value->second || key->second == 1)
      return rewriter.notifyMatchFailure(op, "no repeated key/value heads");
    // The repeats' ops become part of the attention (the report shows them
    // fused into it).
    SmallVector<Operation *> parts = {op};
    for (Value repeated : {op.getKey(), op.getValue()}) {
      auto reshape = repeated.getDefiningOp<ReshapeOp>();
      parts.push_back(reshape);
      parts.push_back(reshape.getInput().getDefiningOp());
    }
    auto grouped = AttentionOp::create(
        rewriter, fusedLoc(parts), op.getType(), op.getQuery(), key->first,
        value->first, op.getMask(), op.getScaleAttr(), op.getMaskFillAttr());
    rewriter.replaceOp(op, grouped.getResult());
    ++count;
    return success();
  }
  int64_t &count;
};

struct KilnFuseAttentionPass
    : public kiln::impl::KilnFuseAttentionBase<KilnFuseAttentionPass> {
  void runOnOperation() override {
    int64_t count = 0, grouped = 0;
    RewritePatternSet patterns(&getContext());
    patterns.add<FuseAttention>(&getContext(), count);
    patterns.add<GroupKeyValueHeads>(&getContext(), grouped);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
    numAttention += count;
    numGrouped += grouped;
  }
};

} // namespace
