//===- FuseRequantization.cpp - one requantizing op after 8-bit products --===//
//
// A quantized network's layers run: 8-bit product, dequantize (times the
// input and weight scales), bias, ReLU, then the next layer's quantization
// (divide by its scale, round, add its zero point, clamp to 8 bits). After
// kiln-fuse-elementwise that is two float passes over the product: the
// dequantization, which the igemm kernel's store takes over, and one op for
// everything else, reading the f32 tensor back. Here the float chain is
// evaluated symbolically, as clamp(x * a + b) rounded with a and b
// constants along the product's rows or columns, and the two ops become
// one the kernel can store as bytes.
//
//===----------------------------------------------------------------------===//

#include "Contraction.h"

#include "kiln/Target/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Matchers.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <variant>

namespace kiln {
#define GEN_PASS_DEF_KILNCPUFUSEREQUANTIZATION
#include "kiln/Target/CPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln::cpu;

namespace {
/// Values that are constant per element of at most one of the product's
/// last two loops: `along` is -1 (one value) or that loop.
struct Factor {
  int along = -1;
  SmallVector<double> values = {0.0};

  static Factor of(double v) { return Factor{-1, {v}}; }
  double at(size_t i) const { return along < 0 ? values[0] : values[i]; }
  bool isScalar() const { return along < 0; }
};

/// A tensor input of the chain read element by element (a residual), taken
/// through max(r, 0) when `relu`, plus a factor.
struct Residual {
  unsigned input;
  bool relu = false;
  Factor offset = Factor::of(0.0);
};

/// A value of the chain: clamp(x * a + b [+ residual], lo, hi), rounded to
/// an integer when `rounded`, where x is the dequantized product.
struct Affine {
  Factor a = Factor::of(1.0), b = Factor::of(0.0);
  std::optional<Residual> residual;
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool rounded = false;

  bool clamped() const { return !std::isinf(lo) || !std::isinf(hi); }
};

/// One of those, or nothing known (std::monostate).
using Term = std::variant<std::monostate, Factor, Residual, Affine>;
} // namespace

/// f(x, y) elementwise over two factors; nullopt when they vary along
/// different loops.
static std::optional<Factor>
combine(const Factor &x, const Factor &y,
        llvm::function_ref<double(double, double)> f) {
  if (!x.isScalar() && !y.isScalar() && x.along != y.along)
    return std::nullopt;
  Factor result;
  result.along = x.isScalar() ? y.along : x.along;
  size_t size = std::max(x.values.size(), y.values.size());
  result.values.resize(size);
  for (size_t i = 0; i < size; ++i)
    result.values[i] = f(x.at(i), y.at(i));
  return result;
}

/// The f32 values of a constant (inline or a resource blob) or of a
/// reshape of one, in row-major order (one value for a splat).
static std::optional<SmallVector<float>> constantFloats(Value value) {
  while (isa_and_nonnull<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(
      value.getDefiningOp()))
    value = value.getDefiningOp()->getOperand(0);
  ElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) || !attr.getElementType().isF32())
    return std::nullopt;
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    if (dense.isSplat())
      return SmallVector<float>{dense.getSplatValue<float>()};
    return SmallVector<float>(dense.getValues<float>());
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  AsmResourceBlob *blob =
      resource ? resource.getRawHandle().getBlob() : nullptr;
  if (!blob || blob->getData().size() !=
                   static_cast<size_t>(attr.getNumElements()) * sizeof(float))
    return std::nullopt;
  ArrayRef<char> data = blob->getData();
  SmallVector<float> values(attr.getNumElements());
  std::memcpy(values.data(), data.data(), data.size());
  return values;
}

/// The factor a constant input of elementwise op `op` holds, in terms of
/// the loops of the product it reads: `toProduct` maps each loop of `op` to
/// the product loop it covers alone (-1: part of a merged group, or a
/// batch loop). Nullopt for non-constant inputs or other broadcasts.
static std::optional<Factor> constantFactor(linalg::LinalgOp op,
                                            OpOperand *operand,
                                            ArrayRef<int> toProduct,
                                            ArrayRef<int64_t> productShape) {
  auto type = dyn_cast<RankedTensorType>(operand->get().getType());
  std::optional<SmallVector<float>> all = constantFloats(operand->get());
  if (!type || !type.hasStaticShape() || !all)
    return std::nullopt;
  AffineMap map = op.getMatchingIndexingMap(operand);
  unsigned productLoops = productShape.size();
  Factor factor;
  int position = -1;
  for (auto [i, e] : llvm::enumerate(map.getResults())) {
    if (auto c = dyn_cast<AffineConstantExpr>(e); c && c.getValue() == 0)
      continue;
    auto dim = dyn_cast<AffineDimExpr>(e);
    if (!dim || factor.along >= 0)
      return std::nullopt;
    int loop = toProduct[dim.getPosition()];
    if (loop < 0 || static_cast<unsigned>(loop) + 2 < productLoops)
      return std::nullopt;
    factor.along = loop;
    position = static_cast<int>(i);
  }
  if (factor.along < 0) {
    factor.values = {(*all)[0]};
    return factor;
  }
  // The stride of the varying position in the constant's row-major layout.
  int64_t stride = 1;
  for (int64_t d = type.getRank() - 1; d > position; --d)
    stride *= type.getDimSize(d);
  int64_t size = productShape[factor.along];
  if (type.getDimSize(position) != size)
    return std::nullopt;
  factor.values.resize(size);
  for (int64_t i = 0; i < size; ++i)
    factor.values[i] = all->size() == 1 ? (*all)[0] : (*all)[i * stride];
  return factor;
}

namespace {
/// A chain folded: roundeven(clamp(x * scale + offset, lo, hi)) in 8 bits
/// (`bytes`), or x * scale + offset + residual in f32.
struct Folded {
  Factor scale, offset;
  std::optional<Residual> residual;
  bool bytes;
  int64_t lo, hi;
  bool isUnsigned;
};
} // namespace

/// The chain of `op`'s body applied to its inputs' terms `inputs` (the
/// dequantized product an Affine, constants factors, other tensors
/// residuals): the final requantization or sum, or nullopt where an op is
/// not affine, a clamp, one rounding or the addition of one residual.
static std::optional<Folded> foldChain(linalg::LinalgOp op,
                                       ArrayRef<Term> inputs) {
  Block *body = op.getBlock();
  DenseMap<Value, Term> terms;
  for (unsigned i = 0; i < op.getNumDpsInputs(); ++i)
    terms[body->getArgument(i)] = inputs[i];
  auto residualOf = [&](Value v) -> Residual * {
    auto it = terms.find(v);
    return it == terms.end() ? nullptr : std::get_if<Residual>(&it->second);
  };
  auto factorOf = [&](Value v) -> std::optional<Factor> {
    FloatAttr constant;
    if (matchPattern(v, m_Constant(&constant)))
      return Factor::of(constant.getValueAsDouble());
    auto it = terms.find(v);
    if (it != terms.end())
      if (auto *f = std::get_if<Factor>(&it->second))
        return *f;
    return std::nullopt;
  };
  auto affineOf = [&](Value v) -> Affine * {
    auto it = terms.find(v);
    return it == terms.end() ? nullptr : std::get_if<Affine>(&it->second);
  };
  for (Operation &inner : body->without_terminator()) {
    Term result;
    bool subtract = isa<arith::SubFOp>(inner);
    Residual *r =
        isa<arith::AddFOp>(inner) ? residualOf(inner.getOperand(0)) : nullptr;
    Value other = inner.getNumOperands() == 2 ? inner.getOperand(1) : Value();
    if (isa<arith::AddFOp>(inner) && !r) {
      r = residualOf(inner.getOperand(1));
      other = inner.getOperand(0);
    }
    if (r) {
      // r + c: the residual's offset moves. y + r: the residual joins an
      // unclamped, unrounded y that has none (added after the scaling).
      Residual next = *r;
      if (std::optional<Factor> c = factorOf(other)) {
        std::optional<Factor> offset =
            combine(next.offset, *c, [](double p, double q) { return p + q; });
        if (!offset)
          return std::nullopt;
        next.offset = *offset;
        result = next;
      } else if (Affine *y = affineOf(other)) {
        if (y->residual || y->clamped() || y->rounded)
          return std::nullopt;
        Affine sum = *y;
        std::optional<Factor> b = combine(
            sum.b, next.offset, [](double p, double q) { return p + q; });
        if (!b)
          return std::nullopt;
        sum.b = *b;
        next.offset = Factor::of(0.0);
        sum.residual = next;
        result = sum;
      } else {
        return std::nullopt;
      }
    } else if (isa<arith::AddFOp, arith::SubFOp>(inner)) {
      // y + c, c + y, y - c: the offset moves; scalar c shifts the clamps;
      // after rounding only integers keep round(y) + c = round(y + c).
      Affine *y = affineOf(inner.getOperand(0));
      std::optional<Factor> c = factorOf(inner.getOperand(1));
      if (!y && !subtract) {
        y = affineOf(inner.getOperand(1));
        c = factorOf(inner.getOperand(0));
      }
      if (!y || !c || (y->clamped() && !c->isScalar()) ||
          (y->rounded &&
           (!c->isScalar() || c->values[0] != std::floor(c->values[0]))))
        return std::nullopt;
      auto plus = [&](double p, double q) { return subtract ? p - q : p + q; };
      Affine next = *y;
      std::optional<Factor> b = combine(y->b, *c, plus);
      if (!b)
        return std::nullopt;
      next.b = *b;
      if (c->isScalar()) {
        next.lo = plus(next.lo, c->values[0]);
        next.hi = plus(next.hi, c->values[0]);
      }
      result = next;
    } else if (isa<arith::MulFOp, arith::DivFOp>(inner)) {
      // y * c, c * y, y / c for c > 0 (a clamp keeps its sides): scale and
      // offset scale; not after rounding.
      bool divide = isa<arith::DivFOp>(inner);
      Affine *y = affineOf(inner.getOperand(0));
      std::optional<Factor> c = factorOf(inner.getOperand(1));
      if (!y && !divide) {
        y = affineOf(inner.getOperand(1));
        c = factorOf(inner.getOperand(0));
      }
      if (!y || !c || y->rounded || y->residual ||
          (y->clamped() && !c->isScalar()) ||
          llvm::any_of(c->values, [](double v) { return !(v > 0); }))
        return std::nullopt;
      auto times = [&](double p, double q) { return divide ? p / q : p * q; };
      Affine next = *y;
      std::optional<Factor> a = combine(y->a, *c, times);
      std::optional<Factor> b = combine(y->b, *c, times);
      if (!a || !b)
        return std::nullopt;
      next.a = *a;
      next.b = *b;
      if (c->isScalar()) {
        next.lo = times(next.lo, c->values[0]);
        next.hi = times(next.hi, c->values[0]);
      }
      result = next;
    } else if (isa<arith::MaximumFOp, arith::MaxNumFOp, arith::MinimumFOp,
                   arith::MinNumFOp>(inner)) {
      // A clamp by a scalar: max(clamp(y, lo, hi), c) = clamp(y, max(lo, c),
      // max(hi, c)), and min likewise.
      bool isMax = isa<arith::MaximumFOp, arith::MaxNumFOp>(inner);
      // max(r, 0) of a residual as it is: its ReLU.
      Residual *res = residualOf(inner.getOperand(0));
      std::optional<Factor> zero = factorOf(inner.getOperand(1));
      if (!res) {
        res = residualOf(inner.getOperand(1));
        zero = factorOf(inner.getOperand(0));
      }
      if (res) {
        if (!isMax || res->relu || !zero || !zero->isScalar() ||
            zero->values[0] != 0.0 || !res->offset.isScalar() ||
            res->offset.values[0] != 0.0)
          return std::nullopt;
        Residual next = *res;
        next.relu = true;
        terms[inner.getResult(0)] = next;
        continue;
      }
      Affine *y = affineOf(inner.getOperand(0));
      std::optional<Factor> c = factorOf(inner.getOperand(1));
      if (!y) {
        y = affineOf(inner.getOperand(1));
        c = factorOf(inner.getOperand(0));
      }
      if (!y || !c || !c->isScalar())
        return std::nullopt;
      double v = c->values[0];
      Affine next = *y;
      next.lo = isMax ? std::max(next.lo, v) : std::min(next.lo, v);
      next.hi = isMax ? std::max(next.hi, v) : std::min(next.hi, v);
      result = next;
    } else if (auto round = dyn_cast<math::RoundEvenOp>(inner)) {
      // round(clamp(y, lo, hi)) = clamp(round(y), round(lo), round(hi)):
      // rounding is monotonic.
      Affine *y = affineOf(round.getOperand());
      if (!y || y->rounded)
        return std::nullopt;
      Affine next = *y;
      next.rounded = true;
      next.lo = std::nearbyint(next.lo);
      next.hi = std::nearbyint(next.hi);
      result = next;
    } else if (isa<arith::FPToUIOp, arith::FPToSIOp>(inner)) {
      // The end: rounded, within the 8-bit type, and yielded.
      Affine *y = affineOf(inner.getOperand(0));
      bool isUnsigned = isa<arith::FPToUIOp>(inner);
      double min = isUnsigned ? 0 : -128, max = isUnsigned ? 255 : 127;
      auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
      if (!y || !y->rounded || y->residual || y->lo < min || y->hi > max ||
          y->lo > y->hi || !inner.getResult(0).getType().isInteger(8) ||
          inner.getNextNode() != yield.getOperation() ||
          yield.getOperand(0) != inner.getResult(0))
        return std::nullopt;
      return Folded{y->a,
                    y->b,
                    std::nullopt,
                    true,
                    static_cast<int64_t>(y->lo),
                    static_cast<int64_t>(y->hi),
                    isUnsigned};
    } else {
      return std::nullopt;
    }
    terms[inner.getResult(0)] = result;
  }
  // An f32 result: the scaled product plus an offset and a residual, with
  // nothing clamped or rounded.
  auto yield = dyn_cast<linalg::YieldOp>(body->getTerminator());
  Affine *y = yield && yield.getNumOperands() == 1
                  ? affineOf(yield.getOperand(0))
                  : nullptr;
  if (!y || !y->residual || y->clamped() || y->rounded ||
      !yield.getOperand(0).getType().isF32())
    return std::nullopt;
  return Folded{y->a, y->b, y->residual, false, 0, 0, false};
}

/// A factor as a constant tensor and the map that reads it in an op over
/// `loops` loops: rank 0 for one value, else along its loop.
static std::pair<Value, AffineMap>
materialize(OpBuilder &b, Location loc, const Factor &factor, unsigned loops) {
  SmallVector<float> values;
  for (double v : factor.values)
    values.push_back(static_cast<float>(v));
  SmallVector<int64_t> shape;
  SmallVector<AffineExpr> results;
  if (!factor.isScalar()) {
    shape.push_back(static_cast<int64_t>(values.size()));
    results.push_back(b.getAffineDimExpr(factor.along));
  }
  auto type = RankedTensorType::get(shape, b.getF32Type());
  Value tensor = arith::ConstantOp::create(
      b, loc, type, DenseElementsAttr::get(type, ArrayRef<float>(values)));
  return {tensor, AffineMap::get(loops, 0, results, b.getContext())};
}

/// The requantizing op over product `acc`: roundeven(clamp(sitofp(acc) *
/// scale + offset, lo, hi)) as 8-bit integers.
static Value requantizing(OpBuilder &b, Location loc, Value acc,
                          Value scaleTensor, AffineMap scaleMap,
                          Value offsetTensor, AffineMap offsetMap,
                          const Folded &folded) {
  auto accType = cast<RankedTensorType>(acc.getType());
  unsigned loops = accType.getRank();
  Type byte = b.getIntegerType(8);
  Value empty =
      tensor::EmptyOp::create(b, loc, accType.getShape(), byte).getResult();
  AffineMap identityMap = b.getMultiDimIdentityMap(loops);
  SmallVector<utils::IteratorType> iterators(loops,
                                             utils::IteratorType::parallel);
  Value lo = arith::ConstantOp::create(
      b, loc, b.getF32FloatAttr(static_cast<float>(folded.lo)));
  Value hi = arith::ConstantOp::create(
      b, loc, b.getF32FloatAttr(static_cast<float>(folded.hi)));
  bool isUnsigned = folded.isUnsigned;
  return linalg::GenericOp::create(
             b, loc, TypeRange{empty.getType()},
             ValueRange{acc, scaleTensor, offsetTensor}, ValueRange{empty},
             ArrayRef<AffineMap>{identityMap, scaleMap, offsetMap, identityMap},
             iterators,
             [&](OpBuilder &nb, Location l, ValueRange args) {
               Type f32 = nb.getF32Type();
               Value x = arith::SIToFPOp::create(nb, l, f32, args[0]);
               x = arith::MulFOp::create(nb, l, x, args[1]);
               x = arith::AddFOp::create(nb, l, x, args[2]);
               x = arith::MaximumFOp::create(nb, l, x, lo);
               x = arith::MinimumFOp::create(nb, l, x, hi);
               x = math::RoundEvenOp::create(nb, l, x);
               Value narrow =
                   isUnsigned
                       ? arith::FPToUIOp::create(nb, l, byte, x).getResult()
                       : arith::FPToSIOp::create(nb, l, byte, x).getResult();
               linalg::YieldOp::create(nb, l, narrow);
             })
      ->getResult(0);
}

/// Folds the requantizing chain after dequantization `dequant` of an 8-bit
/// product, when there is one: its only reader (through one expand_shape)
/// is an elementwise op writing 8-bit integers from it and constants.
static void fuse(linalg::GenericOp dequant) {
  std::optional<Dequantization> dq = matchDequantization(dequant);
  Value dequantized = dequant->getResult(0);
  if (!dq || !dequant.hasPureTensorSemantics() || !dequantized.hasOneUse())
    return;
  auto accType = dyn_cast<RankedTensorType>(
      dequant.getDpsInputOperand(0)->get().getType());
  if (!accType || !accType.hasStaticShape() || accType.getRank() < 2)
    return;
  unsigned loops = accType.getRank();
  Operation *user = *dequantized.getUsers().begin();
  auto expand = dyn_cast<tensor::ExpandShapeOp>(user);
  if (expand) {
    if (!expand.getResult().hasOneUse())
      return;
    user = *expand.getResult().getUsers().begin();
  }
  auto requant = dyn_cast<linalg::GenericOp>(user);
  Value read = expand ? expand.getResult() : dequantized;
  if (!requant || !requant.hasPureTensorSemantics() ||
      requant.getNumDpsInits() != 1 || requant->getNumResults() != 1 ||
      requant.getNumReductionLoops() != 0 ||
      !(getElementTypeOrSelf(requant->getResult(0).getType()).isInteger(8) ||
        getElementTypeOrSelf(requant->getResult(0).getType()).isF32()) ||
      requant.payloadUsesValueFromOperand(requant.getDpsInitOperand(0)) ||
      !requant.getMatchingIndexingMap(requant.getDpsInitOperand(0))
           .isIdentity())
    return;
  // Which product loop each of the op's loops covers alone.
  SmallVector<int> toProduct;
  if (expand) {
    for (auto [loop, group] : llvm::enumerate(expand.getReassociationIndices()))
      for (size_t i = 0; i < group.size(); ++i)
        toProduct.push_back(group.size() == 1 ? static_cast<int>(loop) : -1);
  } else {
    for (unsigned loop = 0; loop < loops; ++loop)
      toProduct.push_back(static_cast<int>(loop));
  }
  if (toProduct.size() != requant.getNumLoops())
    return;
  // The terms of its inputs: the product, constants, and residuals (f32
  // tensors of its shape read element by element).
  bool sawProduct = false;
  std::vector<Term> inputs;
  auto resultType = cast<RankedTensorType>(requant->getResult(0).getType());
  for (OpOperand *operand : requant.getDpsInputOperands()) {
    bool identity = requant.getMatchingIndexingMap(operand).isIdentity();
    if (operand->get() == read && !sawProduct && identity) {
      sawProduct = true;
      inputs.push_back(Affine());
      continue;
    }
    if (std::optional<Factor> factor =
            constantFactor(requant, operand, toProduct, accType.getShape())) {
      inputs.push_back(*factor);
      continue;
    }
    auto type = dyn_cast<RankedTensorType>(operand->get().getType());
    if (!identity || !type || type.getShape() != resultType.getShape() ||
        !type.getElementType().isF32())
      return;
    inputs.push_back(Residual{operand->getOperandNumber()});
  }
  if (!sawProduct)
    return;
  std::optional<Folded> folded = foldChain(requant, inputs);
  if (!folded)
    return;
  // The dequantization's scale joins the chain's.
  SmallVector<int> identity;
  for (unsigned loop = 0; loop < loops; ++loop)
    identity.push_back(static_cast<int>(loop));
  std::optional<Factor> scale = constantFactor(
      dequant, dequant.getDpsInputOperand(1), identity, accType.getShape());
  std::optional<Factor> total =
      scale ? combine(*scale, folded->scale,
                      [](double p, double q) { return p * q; })
            : std::nullopt;
  if (!total)
    return;

  OpBuilder b(requant);
  Location loc = requant.getLoc();
  auto [scaleTensor, scaleMap] = materialize(b, loc, *total, loops);
  auto [offsetTensor, offsetMap] = materialize(b, loc, folded->offset, loops);
  AffineMap identityMap = b.getMultiDimIdentityMap(loops);
  SmallVector<utils::IteratorType> iterators(loops,
                                             utils::IteratorType::parallel);
  Value acc = dequant.getDpsInputOperand(0)->get();
  Value result;
  if (!folded->bytes) {
    // x * scale + offset + residual (through max(r, 0)), the residual
    // viewed in the product's shape.
    Value residual = requant.getDpsInputOperand(folded->residual->input)->get();
    if (expand)
      residual = tensor::CollapseShapeOp::create(
          b, loc, residual, expand.getReassociationIndices());
    Value empty =
        tensor::EmptyOp::create(b, loc, accType.getShape(), b.getF32Type())
            .getResult();
    bool relu = folded->residual->relu;
    Value zero = relu ? arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0))
                            .getResult()
                      : Value();
    result = linalg::GenericOp::create(
                 b, loc, TypeRange{empty.getType()},
                 ValueRange{acc, scaleTensor, offsetTensor, residual},
                 ValueRange{empty},
                 ArrayRef<AffineMap>{identityMap, scaleMap, offsetMap,
                                     identityMap, identityMap},
                 iterators,
                 [&](OpBuilder &nb, Location l, ValueRange args) {
                   Value x =
                       arith::SIToFPOp::create(nb, l, nb.getF32Type(), args[0]);
                   x = arith::MulFOp::create(nb, l, x, args[1]);
                   x = arith::AddFOp::create(nb, l, x, args[2]);
                   Value r = args[3];
                   if (relu)
                     r = arith::MaximumFOp::create(nb, l, r, zero);
                   x = arith::AddFOp::create(nb, l, x, r);
                   linalg::YieldOp::create(nb, l, x);
                 })
                 ->getResult(0);
  } else {
    result = requantizing(b, loc, acc, scaleTensor, scaleMap, offsetTensor,
                          offsetMap, *folded);
  }
  if (expand)
    result =
        tensor::ExpandShapeOp::create(b, loc, requant->getResult(0).getType(),
                                      result, expand.getReassociationIndices());
  requant->getResult(0).replaceAllUsesWith(result);
  requant->erase();
  if (expand)
    expand->erase();
  dequant->erase();
}

namespace {
struct KilnCPUFuseRequantizationPass
    : public kiln::impl::KilnCPUFuseRequantizationBase<
          KilnCPUFuseRequantizationPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> dequantizations;
    getOperation().walk([&](linalg::GenericOp op) {
      if (matchDequantization(op))
        dequantizations.push_back(op);
    });
    for (linalg::GenericOp op : dequantizations)
      fuse(op);
  }
};
} // namespace
