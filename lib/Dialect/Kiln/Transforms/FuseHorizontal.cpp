//===- FuseHorizontal.cpp - merge sibling matmuls sharing their input -----===//

#include "GraphUtils.h"

#include "kiln/Dialect/Kiln/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"

namespace kiln {
#define GEN_PASS_DEF_KILNFUSEHORIZONTAL
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::graph;

namespace {

/// A matmul that can join a horizontal group: constant static 2-D f32/f64
/// weight, a constant bias over the columns (or none), no other epilogue.
struct Member {
  mutable MatMulOp op;
  SmallVector<double> weight, bias; // bias empty when absent
  int64_t columns;
};

std::optional<Member> asMember(MatMulOp op) {
  RankedTensorType w = op.getRhs().getType();
  Type element = w.getElementType();
  if (op.getResidual() || op.getActivation() != "none" || w.getRank() != 2 ||
      !w.hasStaticShape() || !(element.isF32() || element.isF64()) ||
      op.getLhs().getType().getRank() < 2)
    return std::nullopt;
  std::optional<SmallVector<double>> weight = getConstantFloats(op.getRhs());
  if (!weight)
    return std::nullopt;
  Member m{op, *weight, {}, w.getDimSize(1)};
  if (op.getBias()) {
    std::optional<SmallVector<double>> bias = getConstantFloats(op.getBias());
    if (!bias || static_cast<int64_t>(bias->size()) != m.columns)
      return std::nullopt;
    m.bias = *bias;
  }
  return m;
}

struct KilnFuseHorizontalPass
    : public kiln::impl::KilnFuseHorizontalBase<KilnFuseHorizontalPass> {
  using Base::Base;
  void runOnOperation() override {
    // Group candidate matmuls by their input, in program order.
    llvm::MapVector<Value, SmallVector<Member>> groups;
    getOperation().walk([&](MatMulOp op) {
      if (std::optional<Member> m = asMember(op))
        groups[op.getLhs()].push_back(std::move(*m));
    });
    IRRewriter rewriter(&getContext());
    for (auto &group : groups) {
      Value input = group.first;
      SmallVector<Member> &members = group.second;
      // Members must agree on the weight's row count and element type.
      llvm::erase_if(members, [&](const Member &m) {
        return m.op.getRhs().getType().getDimSize(0) !=
                   members.front().op.getRhs().getType().getDimSize(0) ||
               m.op.getType().getElementType() !=
                   members.front().op.getType().getElementType();
      });
      if (members.size() < 2)
        continue;
      int64_t rows = members.front().op.getRhs().getType().getDimSize(0);
      int64_t total = 0;
      bool anyBias = false;
      for (const Member &m : members) {
        total += m.columns;
        anyBias |= !m.bias.empty();
      }
      if (rows * total > maxWeightElements)
        continue;
      // Concatenated weight [rows, total] and bias [total].
      SmallVector<double> weight(rows * total), bias;
      int64_t column = 0;
      SmallVector<int64_t> sizes;
      SmallVector<Operation *> ops;
      for (const Member &m : members) {
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < m.columns; ++c)
            weight[r * total + column + c] = m.weight[r * m.columns + c];
        if (anyBias) {
          if (m.bias.empty())
            bias.append(m.columns, 0.0);
          else
            bias.append(m.bias.begin(), m.bias.end());
        }
        column += m.columns;
        sizes.push_back(m.columns);
        ops.push_back(m.op);
      }
      // The merged matmul goes before the first member.
      Operation *first = ops.front();
      for (Operation *op : ops)
        if (op->isBeforeInBlock(first))
          first = op;
      rewriter.setInsertionPoint(first);
      Location loc = fusedLoc(ops);
      Type element = members.front().op.getType().getElementType();
      std::string name = constantName(members.front().op.getRhs()) + ".merged";
      Value w = createFloatConstant(
          rewriter, loc, RankedTensorType::get({rows, total}, element), weight,
          name);
      Value b;
      if (anyBias)
        b = createFloatConstant(rewriter, loc,
                                RankedTensorType::get({total}, element), bias,
                                name + ".bias");
      auto merged = MatMulOp::create(rewriter, loc, input, w, b, Value());
      int64_t axis = merged.getType().getRank() - 1;
      SmallVector<Type> pieces;
      for (const Member &m : members)
        pieces.push_back(m.op.getType());
      auto split = SplitOp::create(
          rewriter, loc, pieces, merged.getResult(),
          rewriter.getI64IntegerAttr(axis),
          rewriter.getDenseI64ArrayAttr(sizes),
          rewriter.getI64IntegerAttr(static_cast<int64_t>(members.size())));
      for (auto [m, piece] : llvm::zip_equal(members, split.getResults()))
        rewriter.replaceOp(m.op, piece);
      ++numGroups;
      numMerged += members.size();
    }
  }
};

} // namespace
