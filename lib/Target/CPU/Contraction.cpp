//===- Contraction.cpp - contractions a microkernel computes --------------===//

#include "Contraction.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::cpu;

/// Whether every operand of `op` has f32 elements and the body is
/// `out + in0 * in1` (in either order).
static bool isF32MulAdd(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op->getNumRegions() != 1)
    return false;
  for (Value v : op->getOperands())
    if (!getElementTypeOrSelf(v.getType()).isF32())
      return false;
  Block *body = op.getBlock();
  if (!body || body->getNumArguments() != 3 ||
      body->getOperations().size() != 3)
    return false;
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield && yield.getNumOperands() == 1
                 ? yield.getOperand(0).getDefiningOp<arith::AddFOp>()
                 : nullptr;
  if (!add)
    return false;
  Value in0 = body->getArgument(0), in1 = body->getArgument(1),
        out = body->getArgument(2);
  auto isProduct = [&](Value v) {
    auto mul = v.getDefiningOp<arith::MulFOp>();
    return mul && ((mul.getLhs() == in0 && mul.getRhs() == in1) ||
                   (mul.getLhs() == in1 && mul.getRhs() == in0));
  };
  return (add.getLhs() == out && isProduct(add.getRhs())) ||
         (add.getRhs() == out && isProduct(add.getLhs()));
}

/// The loop dims a map reads, or nothing when a result is neither a loop dim
/// nor the constant 0, or a dim repeats.
static std::optional<llvm::SmallBitVector> projectedDims(AffineMap map) {
  llvm::SmallBitVector dims(map.getNumDims());
  for (AffineExpr e : map.getResults()) {
    if (auto dim = dyn_cast<AffineDimExpr>(e)) {
      if (dims.test(dim.getPosition()))
        return std::nullopt;
      dims.set(dim.getPosition());
      continue;
    }
    auto c = dyn_cast<AffineConstantExpr>(e);
    if (!c || c.getValue() != 0)
      return std::nullopt;
  }
  return dims;
}

/// The loops of `op` as a matrix product whose lhs, rhs and output are
/// read through `maps` (in that order).
static std::optional<GemmLoops> gemmLoops(linalg::LinalgOp op,
                                          ArrayRef<AffineMap> maps) {
  auto a = projectedDims(maps[0]), b = projectedDims(maps[1]),
       c = projectedDims(maps[2]);
  if (!a || !b || !c)
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  GemmLoops loops;
  std::optional<unsigned> k;
  SmallVector<unsigned> mCandidates, nCandidates;
  for (unsigned d = 0, e = iterators.size(); d < e; ++d) {
    if (iterators[d] == utils::IteratorType::reduction) {
      if (k || !a->test(d) || !b->test(d) || c->test(d))
        return std::nullopt;
      k = d;
      continue;
    }
    if (!c->test(d))
      return std::nullopt;
    if (a->test(d) && !b->test(d))
      mCandidates.push_back(d);
    else if (b->test(d) && !a->test(d))
      nCandidates.push_back(d);
  }
  if (!k || mCandidates.empty() || nCandidates.empty())
    return std::nullopt;
  // M and N are the candidates the output varies fastest along.
  auto innermost = [&](ArrayRef<unsigned> candidates) {
    unsigned best = candidates.front();
    int64_t bestPosition = -1;
    for (auto [position, e] : llvm::enumerate(maps[2].getResults()))
      if (auto dim = dyn_cast<AffineDimExpr>(e))
        if (llvm::is_contained(candidates, dim.getPosition()) &&
            static_cast<int64_t>(position) > bestPosition) {
          best = dim.getPosition();
          bestPosition = position;
        }
    return best;
  };
  loops.m = innermost(mCandidates);
  loops.n = innermost(nCandidates);
  loops.k = *k;
  for (unsigned d = 0, e = iterators.size(); d < e; ++d)
    if (d != loops.m && d != loops.n && d != loops.k)
      loops.batch.push_back(d);
  return loops;
}

std::optional<GemmLoops> cpu::matchGemm(linalg::LinalgOp op) {
  if (!isF32MulAdd(op))
    return std::nullopt;
  return gemmLoops(op, op.getIndexingMapsArray());
}

std::optional<WeightOnlyGemm> cpu::matchWeightOnlyGemm(linalg::LinalgOp op) {
  unsigned inputs = op.getNumDpsInputs();
  if ((inputs != 3 && inputs != 4) || op.getNumDpsInits() != 1 ||
      op->getNumRegions() != 1 || !op.getBlock())
    return std::nullopt;
  bool zeroPoints = inputs == 4;
  auto elementOf = [&](unsigned i) {
    return getElementTypeOrSelf(op->getOperand(i).getType());
  };
  if (!elementOf(0).isF32() || !elementOf(1).isInteger(8) ||
      !elementOf(2).isF32() || (zeroPoints && !elementOf(3).isInteger(8)) ||
      !elementOf(inputs).isF32())
    return std::nullopt;
  // out + a * (sitofp(q) * s), or with zero points
  // out + a * ((sitofp(q) - sitofp(z)) * s), each commutative operation
  // either way round.
  Block *body = op.getBlock();
  Value a = body->getArgument(0), q = body->getArgument(1),
        s = body->getArgument(2), out = body->getArgument(inputs);
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield && yield.getNumOperands() == 1
                 ? yield.getOperand(0).getDefiningOp<arith::AddFOp>()
                 : nullptr;
  if (!add || body->getOperations().size() != (zeroPoints ? 7u : 5u))
    return std::nullopt;
  auto other = [](Operation *binary, Value v) -> Value {
    if (binary->getOperand(0) == v)
      return binary->getOperand(1);
    if (binary->getOperand(1) == v)
      return binary->getOperand(0);
    return Value();
  };
  auto convertsArgument = [](Value v, Value argument) {
    auto sitofp = v ? v.getDefiningOp<arith::SIToFPOp>() : nullptr;
    return sitofp && sitofp.getIn() == argument;
  };
  Value term = other(add, out);
  auto product = term ? term.getDefiningOp<arith::MulFOp>() : nullptr;
  Value weight = product ? other(product, a) : Value();
  auto scaled = weight ? weight.getDefiningOp<arith::MulFOp>() : nullptr;
  Value integer = scaled ? other(scaled, s) : Value();
  if (zeroPoints) {
    auto shifted = integer ? integer.getDefiningOp<arith::SubFOp>() : nullptr;
    if (!shifted || !convertsArgument(shifted.getLhs(), q) ||
        !convertsArgument(shifted.getRhs(), body->getArgument(3)))
      return std::nullopt;
  } else if (!convertsArgument(integer, q)) {
    return std::nullopt;
  }
  // q at (k, n), s (and z) at (k floordiv group, n).
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  std::optional<GemmLoops> loops =
      gemmLoops(op, {maps[0], maps[1], maps[inputs]});
  if (!loops || maps[1].getNumResults() != 2 || maps[2].getNumResults() != 2 ||
      (zeroPoints && maps[3] != maps[2]))
    return std::nullopt;
  MLIRContext *context = op.getContext();
  AffineExpr k = getAffineDimExpr(loops->k, context),
             n = getAffineDimExpr(loops->n, context);
  if (maps[1].getResult(0) != k || maps[1].getResult(1) != n ||
      maps[2].getResult(1) != n)
    return std::nullopt;
  auto div = dyn_cast<AffineBinaryOpExpr>(maps[2].getResult(0));
  auto group = div && div.getKind() == AffineExprKind::FloorDiv
                   ? dyn_cast<AffineConstantExpr>(div.getRHS())
                   : nullptr;
  if (!group || div.getLHS() != k || group.getValue() < 2)
    return std::nullopt;
  return WeightOnlyGemm{*loops, group.getValue(), zeroPoints};
}

/// `v` widened from i8 to i32: the block argument it extends, and whether
/// the extension is unsigned.
static std::optional<std::pair<BlockArgument, bool>> widenedByte(Value v) {
  Operation *ext = v.getDefiningOp();
  if (!isa_and_nonnull<arith::ExtUIOp, arith::ExtSIOp>(ext) ||
      !ext->getResult(0).getType().isInteger(32))
    return std::nullopt;
  auto arg = dyn_cast<BlockArgument>(ext->getOperand(0));
  if (!arg || !arg.getType().isInteger(8))
    return std::nullopt;
  return std::pair{arg, isa<arith::ExtUIOp>(ext)};
}

std::optional<IGemm> cpu::matchIGemm(linalg::LinalgOp op) {
  unsigned inputs = op.getNumDpsInputs();
  if (inputs < 2 || inputs > 4 || op.getNumDpsInits() != 1 ||
      op->getNumRegions() != 1 || !op.getBlock() ||
      !getElementTypeOrSelf(op.getDpsInitOperand(0)->get().getType())
           .isInteger(32))
    return std::nullopt;
  Block *body = op.getBlock();
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield && yield.getNumOperands() == 1
                 ? yield.getOperand(0).getDefiningOp<arith::AddIOp>()
                 : nullptr;
  if (!add)
    return std::nullopt;
  Value out = body->getArgument(inputs);
  Value term = add.getLhs() == out   ? add.getRhs()
               : add.getRhs() == out ? add.getLhs()
                                     : Value();
  auto mul = term ? term.getDefiningOp<arith::MulIOp>() : nullptr;
  if (!mul)
    return std::nullopt;
  // Each factor: a widened operand, minus a widened zero point or an i32
  // constant (a constant zero point that fusion moved into the body).
  struct Factor {
    BlockArgument value, zeroPoint;
    std::optional<int64_t> zeroValue;
    bool isUnsigned;
  };
  auto factor = [&](Value v) -> std::optional<Factor> {
    if (auto widened = widenedByte(v))
      return Factor{widened->first, nullptr, std::nullopt, widened->second};
    auto sub = v.getDefiningOp<arith::SubIOp>();
    if (!sub)
      return std::nullopt;
    auto x = widenedByte(sub.getLhs());
    if (!x)
      return std::nullopt;
    APInt constant;
    if (matchPattern(sub.getRhs(), m_ConstantInt(&constant)))
      return Factor{x->first, nullptr, constant.getSExtValue(), x->second};
    auto z = widenedByte(sub.getRhs());
    if (!z || x->second != z->second)
      return std::nullopt;
    return Factor{x->first, z->first, std::nullopt, x->second};
  };
  std::optional<Factor> f0 = factor(mul.getLhs()), f1 = factor(mul.getRhs());
  if (!f0 || !f1)
    return std::nullopt;
  if (f0->value.getArgNumber() == 1)
    std::swap(f0, f1);
  if (f0->value.getArgNumber() != 0 || f1->value.getArgNumber() != 1)
    return std::nullopt;
  // Every input is used: lhs, rhs and the zero points there are.
  unsigned used = 2 + (f0->zeroPoint ? 1 : 0) + (f1->zeroPoint ? 1 : 0);
  unsigned subtractions = (f0->zeroPoint || f0->zeroValue ? 1 : 0) +
                          (f1->zeroPoint || f1->zeroValue ? 1 : 0);
  // The widenings (two, and one per zero point input), the subtractions,
  // the product, the sum and the yield: nothing else.
  if (used != inputs || body->getOperations().size() != used + subtractions + 3)
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  std::optional<GemmLoops> loops =
      gemmLoops(op, {maps[0], maps[1], maps.back()});
  if (!loops)
    return std::nullopt;
  IGemm gemm{*loops, f0->isUnsigned, f1->isUnsigned, -1,
             -1,     f0->zeroValue,  f1->zeroValue};
  // A zero point is read once, or along the rows (columns) only.
  auto along = [&](BlockArgument zeroPoint, unsigned dim) -> int {
    AffineMap map = maps[zeroPoint.getArgNumber()];
    if (map.getNumResults() == 0)
      return zeroPoint.getArgNumber();
    auto d = map.getNumResults() == 1
                 ? dyn_cast<AffineDimExpr>(map.getResult(0))
                 : AffineDimExpr(nullptr);
    return d && d.getPosition() == dim ? (int)zeroPoint.getArgNumber() : -2;
  };
  if (f0->zeroPoint && (gemm.lhsZeroPoint = along(f0->zeroPoint, loops->m)) < 0)
    return std::nullopt;
  if (f1->zeroPoint && (gemm.rhsZeroPoint = along(f1->zeroPoint, loops->n)) < 0)
    return std::nullopt;
  return gemm;
}

/// The coefficients of the loop dims in a linear expression without
/// constant term, or nothing for any other expression.
static std::optional<SmallVector<int64_t>> linearCoefficients(AffineExpr e,
                                                              unsigned dims) {
  if (auto dim = dyn_cast<AffineDimExpr>(e)) {
    SmallVector<int64_t> result(dims, 0);
    result[dim.getPosition()] = 1;
    return result;
  }
  auto binary = dyn_cast<AffineBinaryOpExpr>(e);
  if (!binary)
    return std::nullopt;
  if (binary.getKind() == AffineExprKind::Add) {
    auto lhs = linearCoefficients(binary.getLHS(), dims);
    auto rhs = linearCoefficients(binary.getRHS(), dims);
    if (!lhs || !rhs)
      return std::nullopt;
    for (unsigned d = 0; d < dims; ++d)
      (*lhs)[d] += (*rhs)[d];
    return lhs;
  }
  if (binary.getKind() == AffineExprKind::Mul) {
    auto scale = dyn_cast<AffineConstantExpr>(binary.getRHS());
    auto term = linearCoefficients(binary.getLHS(), dims);
    if (!scale || !term)
      return std::nullopt;
    for (int64_t &v : *term)
      v *= scale.getValue();
    return term;
  }
  return std::nullopt;
}

/// Whether `e` (over `loops` loops) reads one spatial axis of a sliding
/// window, out * stride + window * dilation with both positive and no
/// other loop; sets `stride` and `dilation`.
static bool windowAxis(AffineExpr e, unsigned loops, unsigned out,
                       unsigned window, int64_t &stride, int64_t &dilation) {
  auto coefficients = linearCoefficients(e, loops);
  if (!coefficients)
    return false;
  for (unsigned d = 0; d < loops; ++d)
    if (d != out && d != window && (*coefficients)[d] != 0)
      return false;
  stride = (*coefficients)[out];
  dilation = (*coefficients)[window];
  return stride > 0 && dilation > 0;
}

/// The map of `loops` loops whose results are the loop dims `dims`.
static AffineMap dimsMap(unsigned loops, ArrayRef<unsigned> dims,
                         MLIRContext *context) {
  SmallVector<AffineExpr> exprs;
  for (unsigned d : dims)
    exprs.push_back(getAffineDimExpr(d, context));
  return AffineMap::get(loops, 0, exprs, context);
}

std::optional<Conv2DLoops> cpu::matchConv2D(linalg::LinalgOp op) {
  if (!isF32MulAdd(op) || op.getNumLoops() != 8)
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned d = 0; d < 8; ++d)
    if ((iterators[d] == utils::IteratorType::reduction) != (d >= 5))
      return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  MLIRContext *context = op->getContext();
  if (maps[1] != dimsMap(8, {1, 2, 5, 6, 7}, context) ||
      maps[2] != dimsMap(8, {0, 1, 2, 3, 4}, context) ||
      maps[0].getNumResults() != 5)
    return std::nullopt;
  ArrayRef<AffineExpr> in = maps[0].getResults();
  if (in[0] != getAffineDimExpr(0, context) ||
      in[1] != getAffineDimExpr(1, context) ||
      in[2] != getAffineDimExpr(5, context))
    return std::nullopt;
  Conv2DLoops conv;
  for (unsigned i = 0; i < 2; ++i)
    if (!windowAxis(in[3 + i], 8, 3 + i, 6 + i, conv.strides[i],
                    conv.dilations[i]))
      return std::nullopt;
  return conv;
}

std::optional<Pool2DLoops> cpu::matchMaxPool2D(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != 6 || op->getNumRegions() != 1 || !op.getBlock())
    return std::nullopt;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned d = 0; d < 6; ++d)
    if ((iterators[d] == utils::IteratorType::reduction) != (d >= 4))
      return std::nullopt;
  Block *body = op.getBlock();
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  if (body->getOperations().size() != 2 || !yield ||
      yield.getNumOperands() != 1)
    return std::nullopt;
  auto max = yield.getOperand(0).getDefiningOp<arith::MaximumFOp>();
  Value in = body->getArgument(0), out = body->getArgument(2);
  if (!max || !max.getType().isF32() ||
      !((max.getLhs() == out && max.getRhs() == in) ||
        (max.getLhs() == in && max.getRhs() == out)))
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  MLIRContext *context = op->getContext();
  if (maps[1] != dimsMap(6, {4, 5}, context) ||
      maps[2] != dimsMap(6, {0, 1, 2, 3}, context) ||
      maps[0].getNumResults() != 4)
    return std::nullopt;
  ArrayRef<AffineExpr> x = maps[0].getResults();
  if (x[0] != getAffineDimExpr(0, context) ||
      x[1] != getAffineDimExpr(1, context))
    return std::nullopt;
  Pool2DLoops pool;
  for (unsigned i = 0; i < 2; ++i)
    if (!windowAxis(x[2 + i], 6, 2 + i, 4 + i, pool.strides[i],
                    pool.dilations[i]))
      return std::nullopt;
  return pool;
}

std::optional<WindowCopy> cpu::matchWindowCopy(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 1 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != 6 || op.getNumReductionLoops() != 0 ||
      op->getNumRegions() != 1 || !op.getBlock())
    return std::nullopt;
  Block *body = op.getBlock();
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  if (body->getOperations().size() != 1 || !yield ||
      yield.getNumOperands() != 1 ||
      yield.getOperand(0) != body->getArgument(0))
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  MLIRContext *context = op->getContext();
  if (!maps[1].isIdentity() || maps[0].getNumResults() != 4)
    return std::nullopt;
  ArrayRef<AffineExpr> in = maps[0].getResults();
  if (in[0] != getAffineDimExpr(0, context) ||
      in[1] != getAffineDimExpr(1, context))
    return std::nullopt;
  WindowCopy copy;
  // Row (column): output loop 4 (5), window loop 2 (3).
  for (unsigned i = 0; i < 2; ++i)
    if (!windowAxis(in[2 + i], 6, 4 + i, 2 + i, copy.strides[i],
                    copy.dilations[i]))
      return std::nullopt;
  return copy;
}

/// Whether every loop of `op` is parallel, every operand has f32 elements and
/// the output is written through the identity map.
static bool isF32Elementwise(linalg::LinalgOp op) {
  if (op.getNumDpsInits() != 1 || op->getNumRegions() != 1 ||
      op.getNumReductionLoops() != 0 || !op.getBlock())
    return false;
  for (Value v : op->getOperands())
    if (!getElementTypeOrSelf(v.getType()).isF32())
      return false;
  return op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity();
}

bool cpu::isZeroFill(Operation *op) {
  auto fill = dyn_cast_or_null<linalg::FillOp>(op);
  if (!fill)
    return false;
  FloatAttr zero;
  if (matchPattern(fill.getInputs().front(), m_Constant(&zero)))
    return zero.getValue().isPosZero();
  return matchPattern(fill.getInputs().front(), m_Zero());
}

bool cpu::isAddendSum(linalg::LinalgOp op) {
  unsigned inputs = op.getNumDpsInputs();
  if (!isF32Elementwise(op) || inputs < 1 || inputs > 2)
    return false;
  for (OpOperand *input : op.getDpsInputOperands())
    if (!projectedDims(op.getMatchingIndexingMap(input)))
      return false;
  Block *body = op.getBlock();
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  if (!yield || yield.getNumOperands() != 1 ||
      !body->getArgument(inputs).use_empty())
    return false;
  Value result = yield.getOperand(0);
  if (inputs == 1)
    return result == body->getArgument(0);
  auto add = result.getDefiningOp<arith::AddFOp>();
  Value in0 = body->getArgument(0), in1 = body->getArgument(1);
  return add && ((add.getLhs() == in0 && add.getRhs() == in1) ||
                 (add.getLhs() == in1 && add.getRhs() == in0));
}

std::optional<std::pair<float, float>> cpu::matchClamp(linalg::LinalgOp op) {
  if (!isF32Elementwise(op) || op.getNumDpsInputs() != 1 ||
      !op.getMatchingIndexingMap(op.getDpsInputOperand(0)).isIdentity())
    return std::nullopt;
  Block *body = op.getBlock();
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  if (!yield || yield.getNumOperands() != 1 ||
      !body->getArgument(1).use_empty())
    return std::nullopt;
  auto constant = [](Value v) -> std::optional<float> {
    FloatAttr attr;
    if (!matchPattern(v, m_Constant(&attr)))
      return std::nullopt;
    return static_cast<float>(attr.getValueAsDouble());
  };
  // Walk from the result back to the input: each step is max(x, c) or
  // min(x, c). Composed, they clamp to [lo, hi] with lo <= hi throughout.
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
  SmallVector<std::pair<bool, float>> steps; // (is max, c), outermost first
  Value v = yield.getOperand(0);
  while (v != body->getArgument(0)) {
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != body)
      return std::nullopt;
    if (isa<arith::MaximumFOp, arith::MinimumFOp>(def)) {
      bool isMax = isa<arith::MaximumFOp>(def);
      Value x = def->getOperand(0), y = def->getOperand(1);
      std::optional<float> c = constant(y);
      if (!c) {
        std::swap(x, y);
        c = constant(y);
      }
      if (!c)
        return std::nullopt;
      steps.push_back({isMax, *c});
      v = x;
      continue;
    }
    // x < c ? c : x (a max) and x > c ? c : x (a min): a NaN x is kept.
    auto select = dyn_cast<arith::SelectOp>(def);
    auto cmp =
        select ? select.getCondition().getDefiningOp<arith::CmpFOp>() : nullptr;
    if (!cmp || cmp.getLhs() != select.getFalseValue() ||
        cmp.getRhs() != select.getTrueValue() ||
        (cmp.getPredicate() != arith::CmpFPredicate::OLT &&
         cmp.getPredicate() != arith::CmpFPredicate::OGT))
      return std::nullopt;
    std::optional<float> c = constant(cmp.getRhs());
    if (!c)
      return std::nullopt;
    steps.push_back({cmp.getPredicate() == arith::CmpFPredicate::OLT, *c});
    v = cmp.getLhs();
  }
  if (steps.empty())
    return std::nullopt;
  for (auto [isMax, c] : llvm::reverse(steps)) {
    lo = isMax ? std::max(lo, c) : std::min(lo, c);
    hi = isMax ? std::max(hi, c) : std::min(hi, c);
  }
  return std::make_pair(lo, hi);
}

std::optional<ISA> cpu::parseISA(StringRef name) {
  return llvm::StringSwitch<std::optional<ISA>>(name)
      .Case("avx512", ISA::AVX512)
      .Case("avx2", ISA::AVX2)
      .Case("generic", ISA::Generic)
      .Default(std::nullopt);
}

StringRef cpu::stringifyISA(ISA isa) {
  switch (isa) {
  case ISA::AVX512:
    return "avx512";
  case ISA::AVX2:
    return "avx2";
  case ISA::Generic:
    return "generic";
  }
  llvm_unreachable("unknown ISA");
}

WeightSparsity cpu::measureWeightSparsity(ArrayRef<float> data, int64_t k,
                                          int64_t n, int64_t kStride,
                                          int64_t nStride) {
  WeightSparsity s;
  for (int64_t j0 = 0; j0 < n; j0 += kSparseBlockWidth)
    for (int64_t kk = 0; kk < k; ++kk) {
      bool zero = true;
      for (int64_t j = j0; j < std::min(n, j0 + kSparseBlockWidth); ++j) {
        bool elementZero = data[kk * kStride + j * nStride] == 0.0f;
        s.zeroElements += elementZero;
        zero &= elementZero;
      }
      ++s.blocks;
      s.zeroBlocks += zero;
    }
  s.elements = k * n;
  return s;
}

double cpu::sparseTimeRatio(ISA isa, const WeightSparsity &sparsity) {
  // Per kept block, relative to the dense kernel's time per block: the
  // upper end of what was measured (packing A and reading the block index
  // are the extra work).
  double perBlock = isa == ISA::Generic ? 1.1 : 1.05;
  return perBlock * (1.0 - sparsity.zeroBlockShare());
}

std::pair<int64_t, int64_t> cpu::sparseRegisterTile(ISA isa) {
  switch (isa) {
  case ISA::AVX512:
    return {16, kSparseBlockWidth};
  case ISA::AVX2:
    return {6, kSparseBlockWidth};
  case ISA::Generic:
    return {4, kSparseBlockWidth};
  }
  llvm_unreachable("unknown ISA");
}

std::pair<int64_t, int64_t> cpu::registerTile(ISA isa) {
  switch (isa) {
  case ISA::AVX512:
    return {8, 32};
  case ISA::AVX2:
    return {6, 16};
  case ISA::Generic:
    return {4, 16};
  }
  llvm_unreachable("unknown ISA");
}

std::pair<int64_t, int64_t> cpu::integerRegisterTile(ISA isa) {
  switch (isa) {
  case ISA::AVX512:
    return {8, 32};
  case ISA::AVX2:
    return {6, 16};
  case ISA::Generic:
    return {4, 16};
  }
  llvm_unreachable("unknown ISA");
}

std::optional<std::pair<int64_t, int64_t>> cpu::directConvTile(ISA isa) {
  switch (isa) {
  case ISA::AVX512:
    return std::pair<int64_t, int64_t>{16, 14};
  case ISA::AVX2: // a 6 x 2 tile of 8 lanes lost to the matrix product
  case ISA::Generic:
    return std::nullopt;
  }
  llvm_unreachable("unknown ISA");
}

IntegerPacking cpu::integerPacking(ISA isa, bool narrow) {
  switch (isa) {
  case ISA::AVX512:
    return {32, 4, 1024};
  case ISA::AVX2:
    return narrow ? IntegerPacking{16, 5, 512} : IntegerPacking{16, 2, 512};
  case ISA::Generic:
    return {16, 4, 256};
  }
  llvm_unreachable("unknown ISA");
}

IntegerPacking cpu::integerLhsPacking(ISA isa, bool narrow) {
  switch (isa) {
  case ISA::AVX512:
    return {8, 4, 1024};
  case ISA::AVX2:
    return narrow ? IntegerPacking{6, 6, 512} : IntegerPacking{6, 2, 512};
  case ISA::Generic:
    return {4, 4, 256};
  }
  llvm_unreachable("unknown ISA");
}

std::optional<Dequantization> cpu::matchDequantization(linalg::LinalgOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op->getNumRegions() != 1 || op.getNumReductionLoops() != 0 ||
      !op.getBlock())
    return std::nullopt;
  OpOperand *acc = op.getDpsInputOperand(0), *scale = op.getDpsInputOperand(1);
  OpOperand *out = op.getDpsInitOperand(0);
  if (!getElementTypeOrSelf(acc->get().getType()).isInteger(32) ||
      !getElementTypeOrSelf(scale->get().getType()).isF32() ||
      !getElementTypeOrSelf(out->get().getType()).isF32() ||
      !op.getMatchingIndexingMap(acc).isIdentity() ||
      !op.getMatchingIndexingMap(out).isIdentity())
    return std::nullopt;
  // The scale: one value, or one per element of the innermost dim (a
  // column) or of the one before (a row); its other dims are broadcast
  // (constant 0).
  std::optional<int> along = rowOrColumnOperand(op, scale);
  if (!along)
    return std::nullopt;
  unsigned loops = op.getNumLoops();
  Dequantization result{
      *along >= 0 && static_cast<unsigned>(*along) + 1 == loops,
      *along >= 0 && static_cast<unsigned>(*along) + 2 == loops};
  Block *body = op.getBlock();
  if (body->getOperations().size() != 3)
    return std::nullopt;
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  auto mul = yield && yield.getNumOperands() == 1
                 ? yield.getOperand(0).getDefiningOp<arith::MulFOp>()
                 : nullptr;
  if (!mul)
    return std::nullopt;
  Value widened = mul.getLhs(), factor = mul.getRhs();
  if (factor.getDefiningOp<arith::SIToFPOp>())
    std::swap(widened, factor);
  auto convert = widened.getDefiningOp<arith::SIToFPOp>();
  if (!convert || convert.getIn() != body->getArgument(0) ||
      factor != body->getArgument(1))
    return std::nullopt;
  return result;
}

std::optional<int> kiln::cpu::rowOrColumnOperand(linalg::LinalgOp op,
                                                 OpOperand *operand) {
  unsigned loops = op.getNumLoops();
  int along = -1;
  for (AffineExpr e : op.getMatchingIndexingMap(operand).getResults()) {
    if (auto c = dyn_cast<AffineConstantExpr>(e); c && c.getValue() == 0)
      continue;
    auto dim = dyn_cast<AffineDimExpr>(e);
    if (!dim || along >= 0 || dim.getPosition() + 2 < loops)
      return std::nullopt;
    along = static_cast<int>(dim.getPosition());
  }
  return along;
}

/// Whether `op` is elementwise with `inputs` inputs, the first an i32
/// tensor read through the identity (an 8-bit product's accumulator), the
/// next two f32 factors along rows or columns, and one output through the
/// identity of 8-bit integers (`bytes`) or f32.
static bool convertsAccumulator(linalg::LinalgOp op, unsigned inputs,
                                bool bytes) {
  if (op.getNumDpsInputs() != inputs || op.getNumDpsInits() != 1 ||
      op->getNumRegions() != 1 || op.getNumReductionLoops() != 0 ||
      !op.getBlock())
    return false;
  OpOperand *acc = op.getDpsInputOperand(0);
  OpOperand *out = op.getDpsInitOperand(0);
  Type outType = getElementTypeOrSelf(out->get().getType());
  if (!getElementTypeOrSelf(acc->get().getType()).isInteger(32) ||
      !(bytes ? outType.isInteger(8) : outType.isF32()) ||
      !op.getMatchingIndexingMap(acc).isIdentity() ||
      !op.getMatchingIndexingMap(out).isIdentity())
    return false;
  for (unsigned i = 1; i < 3; ++i)
    if (!getElementTypeOrSelf(op.getDpsInputOperand(i)->get().getType())
             .isF32() ||
        !rowOrColumnOperand(op, op.getDpsInputOperand(i)))
      return false;
  return true;
}

std::optional<Requantization>
kiln::cpu::matchRequantization(linalg::LinalgOp op) {
  if (!convertsAccumulator(op, 3, /*bytes=*/true))
    return std::nullopt;
  // sitofp, mulf scale, addf offset, maximumf lo, minimumf hi, roundeven,
  // fptoui (fptosi), yield.
  Block *body = op.getBlock();
  if (body->getOperations().size() != 8)
    return std::nullopt;
  auto it = body->begin();
  auto widen = dyn_cast<arith::SIToFPOp>(*it++);
  auto mul = dyn_cast<arith::MulFOp>(*it++);
  auto add = dyn_cast<arith::AddFOp>(*it++);
  auto lower = dyn_cast<arith::MaximumFOp>(*it++);
  auto upper = dyn_cast<arith::MinimumFOp>(*it++);
  auto round = dyn_cast<math::RoundEvenOp>(*it++);
  Operation *narrow = &*it++;
  auto yield = dyn_cast<linalg::YieldOp>(*it);
  FloatAttr lo, hi;
  if (!widen || !mul || !add || !lower || !upper || !round || !yield ||
      widen.getIn() != body->getArgument(0) ||
      mul.getLhs() != widen.getResult() ||
      mul.getRhs() != body->getArgument(1) || add.getLhs() != mul.getResult() ||
      add.getRhs() != body->getArgument(2) ||
      lower.getLhs() != add.getResult() ||
      !matchPattern(lower.getRhs(), m_Constant(&lo)) ||
      upper.getLhs() != lower.getResult() ||
      !matchPattern(upper.getRhs(), m_Constant(&hi)) ||
      round.getOperand() != upper.getResult() ||
      narrow->getNumOperands() != 1 ||
      narrow->getOperand(0) != round.getResult() ||
      yield.getNumOperands() != 1 ||
      yield.getOperand(0) != narrow->getResult(0))
    return std::nullopt;
  double low = lo.getValueAsDouble(), high = hi.getValueAsDouble();
  bool isUnsigned = isa<arith::FPToUIOp>(narrow);
  if (!isUnsigned && !isa<arith::FPToSIOp>(narrow))
    return std::nullopt;
  double min = isUnsigned ? 0 : -128, max = isUnsigned ? 255 : 127;
  if (low != std::floor(low) || high != std::floor(high) || low < min ||
      high > max || low > high)
    return std::nullopt;
  return Requantization{static_cast<int64_t>(low), static_cast<int64_t>(high)};
}

std::optional<DequantizedSum>
kiln::cpu::matchDequantizedSum(linalg::LinalgOp op) {
  if (!convertsAccumulator(op, 4, /*bytes=*/false))
    return std::nullopt;
  OpOperand *residual = op.getDpsInputOperand(3);
  if (!getElementTypeOrSelf(residual->get().getType()).isF32() ||
      !op.getMatchingIndexingMap(residual).isIdentity())
    return std::nullopt;
  // sitofp, mulf scale, addf offset, [maximumf residual 0], addf, yield.
  Block *body = op.getBlock();
  size_t size = body->getOperations().size();
  if (size != 5 && size != 6)
    return std::nullopt;
  auto it = body->begin();
  auto widen = dyn_cast<arith::SIToFPOp>(*it++);
  auto mul = dyn_cast<arith::MulFOp>(*it++);
  auto add = dyn_cast<arith::AddFOp>(*it++);
  Value r = body->getArgument(3);
  bool relu = size == 6;
  if (relu) {
    auto max = dyn_cast<arith::MaximumFOp>(*it++);
    FloatAttr zero;
    if (!max || max.getLhs() != r ||
        !matchPattern(max.getRhs(), m_Constant(&zero)) ||
        !zero.getValue().isZero())
      return std::nullopt;
    r = max.getResult();
  }
  auto sum = dyn_cast<arith::AddFOp>(*it++);
  auto yield = dyn_cast<linalg::YieldOp>(*it);
  if (!widen || !mul || !add || !sum || !yield ||
      widen.getIn() != body->getArgument(0) ||
      mul.getLhs() != widen.getResult() ||
      mul.getRhs() != body->getArgument(1) || add.getLhs() != mul.getResult() ||
      add.getRhs() != body->getArgument(2) || sum.getLhs() != add.getResult() ||
      sum.getRhs() != r || yield.getNumOperands() != 1 ||
      yield.getOperand(0) != sum.getResult())
    return std::nullopt;
  return DequantizedSum{relu};
}

/// `pad` when it pads the rows and columns of a rank-4 tensor only, by
/// constant amounts, with a constant that `wanted` accepts; else null.
static tensor::PadOp spatialPadding(tensor::PadOp pad,
                                    llvm::function_ref<bool(APFloat)> wanted) {
  if (!pad || pad.getSourceType().getRank() != 4 || pad.getNofold())
    return nullptr;
  Value value = pad.getConstantPaddingValue();
  FloatAttr constant;
  if (!value || !matchPattern(value, m_Constant(&constant)) ||
      !wanted(constant.getValue()))
    return nullptr;
  // Rows and columns only, by constant amounts.
  for (auto [dim, low, high] :
       llvm::enumerate(pad.getStaticLow(), pad.getStaticHigh()))
    if (ShapedType::isDynamic(low) || ShapedType::isDynamic(high) ||
        (dim < 2 && (low != 0 || high != 0)))
      return nullptr;
  return pad;
}

tensor::PadOp kiln::cpu::spatialZeroPadding(Value input) {
  auto expand = input.getDefiningOp<tensor::ExpandShapeOp>();
  if (!expand || expand.getReassociationIndices() !=
                     SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}})
    return nullptr;
  return spatialPadding(expand.getSrc().getDefiningOp<tensor::PadOp>(),
                        [](APFloat v) { return v.isPosZero(); });
}

tensor::PadOp kiln::cpu::spatialNegInfPadding(Value input) {
  return spatialPadding(input.getDefiningOp<tensor::PadOp>(), [](APFloat v) {
    return v.isInfinity() && v.isNegative();
  });
}

bool kiln::cpu::padsImplicitly(Operation *op) {
  auto decision = op->getAttrOfType<DictionaryAttr>(kUKernelAttr);
  auto padding = decision ? decision.getAs<StringAttr>("padding") : nullptr;
  return padding && padding.getValue() == "implicit";
}
