//===- Indexing.cpp - range, scans, scatters, selections, einsum ----------===//
//
// Ops whose outputs depend on data or whose elements depend on each other:
// elementwise ones (range, cumsum, gather_nd, einsum) become generics; the
// rest (scatters, non_zero, top_k, non_max_suppression, det, unique) become
// scf loop nests that carry the result tensors and update them in order,
// which bufferization turns into in-place stores.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::to_linalg;

/// The single element of a rank-0 or one-element tensor.
static Value extractScalar(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> indices(type.getRank(),
                             arith::ConstantIndexOp::create(b, loc, 0));
  return tensor::ExtractOp::create(b, loc, tensor, indices);
}

/// Combines `current` with `update` by a scatter `reduction`.
static Value combine(OpBuilder &b, Location loc, StringRef reduction,
                     Type kilnType, Value current, Value update) {
  bool isFloat = isa<FloatType>(kilnType);
  bool isUnsigned = isUnsignedLike(kilnType);
  if (reduction == "add")
    return isFloat ? (Value)arith::AddFOp::create(b, loc, current, update)
                   : (Value)arith::AddIOp::create(b, loc, current, update);
  if (reduction == "mul")
    return isFloat ? (Value)arith::MulFOp::create(b, loc, current, update)
                   : (Value)arith::MulIOp::create(b, loc, current, update);
  if (reduction == "max")
    return isFloat ? (Value)arith::MaximumFOp::create(b, loc, current, update)
           : isUnsigned
               ? (Value)arith::MaxUIOp::create(b, loc, current, update)
               : (Value)arith::MaxSIOp::create(b, loc, current, update);
  if (reduction == "min")
    return isFloat ? (Value)arith::MinimumFOp::create(b, loc, current, update)
           : isUnsigned
               ? (Value)arith::MinUIOp::create(b, loc, current, update)
               : (Value)arith::MinSIOp::create(b, loc, current, update);
  return update;
}

/// A scan over [lb, ub) that keeps the best (value, index) so far, starting
/// from (initValue, initIndex): `candidate` gives the value at an index and
/// whether it replaces the best. Returns the final pair.
static std::pair<Value, Value> scanForBest(
    OpBuilder &b, Location loc, Value lb, Value ub, Value initValue,
    Value initIndex,
    function_ref<std::pair<Value, Value>(OpBuilder &, Location, Value index,
                                         Value bestValue, Value bestIndex)>
        candidate) {
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto scan = scf::ForOp::create(
      b, loc, lb, ub, one, ValueRange{initValue, initIndex},
      [&](OpBuilder &sb, Location sl, Value i, ValueRange best) {
        auto [value, take] = candidate(sb, sl, i, best[0], best[1]);
        scf::YieldOp::create(
            sb, sl,
            ValueRange{arith::SelectOp::create(sb, sl, take, value, best[0]),
                       arith::SelectOp::create(sb, sl, take, i, best[1])});
      });
  return {scan.getResult(0), scan.getResult(1)};
}

namespace {

/// range: max(ceil((limit - start) / delta), 0) elements start + i * delta.
struct RangeLowering : OpConversionPattern<RangeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RangeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = convertTensorType(op.getType());
    Type element = type.getElementType();
    Value start = extractScalar(rewriter, loc, adaptor.getStart());
    Value limit = extractScalar(rewriter, loc, adaptor.getLimit());
    Value delta = extractScalar(rewriter, loc, adaptor.getDelta());
    bool isFloat = isa<FloatType>(element);
    Value count;
    if (isFloat) {
      Value span = arith::SubFOp::create(rewriter, loc, limit, start);
      Value steps = math::CeilOp::create(
          rewriter, loc, arith::DivFOp::create(rewriter, loc, span, delta));
      count =
          arith::FPToSIOp::create(rewriter, loc, rewriter.getI64Type(), steps);
    } else {
      Value span = arith::SubIOp::create(rewriter, loc, limit, start);
      count = arith::CeilDivSIOp::create(rewriter, loc, span, delta);
    }
    count = toIndex(rewriter, loc, count);
    count = arith::MaxSIOp::create(
        rewriter, loc, count, arith::ConstantIndexOp::create(rewriter, loc, 0));
    Value init = tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                         element, ValueRange{count});
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(1)},
        SmallVector<utils::IteratorType>{utils::IteratorType::parallel},
        [&](OpBuilder &b, Location l, ValueRange) {
          Value i = linalg::IndexOp::create(b, l, 0);
          Value value;
          if (isFloat) {
            Value fi = arith::SIToFPOp::create(
                b, l, element,
                arith::IndexCastOp::create(b, l, b.getI64Type(), i));
            value = arith::AddFOp::create(
                b, l, start, arith::MulFOp::create(b, l, fi, delta));
          } else {
            Value ii = arith::IndexCastOp::create(b, l, element, i);
            value = arith::AddIOp::create(
                b, l, start, arith::MulIOp::create(b, l, ii, delta));
          }
          linalg::YieldOp::create(b, l, value);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// cumsum: a generic over the result whose body sums the input along the
/// axis (chosen at run time) up to, or from, the element's position.
struct CumSumLowering : OpConversionPattern<CumSumOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(CumSumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = convertTensorType(op.getType());
    int64_t rank = type.getRank();
    Type element = type.getElementType();
    Value input = adaptor.getInput();
    SmallVector<Value> dims = getDimValues(rewriter, loc, input);
    Value rankValue = arith::ConstantIndexOp::create(rewriter, loc, rank);
    Value axis =
        wrapIndex(rewriter, loc,
                  extractScalar(rewriter, loc, adaptor.getAxis()), rankValue);
    // The extent along the axis.
    Value extent = dims[0];
    for (int64_t d = 1; d < rank; ++d) {
      Value here = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::eq, axis,
          arith::ConstantIndexOp::create(rewriter, loc, d));
      extent = arith::SelectOp::create(rewriter, loc, here, dims[d], extent);
    }
    SmallVector<OpFoldResult> resultDims(dims.begin(), dims.end());
    Value init = emptyTensor(rewriter, loc, type, resultDims);
    bool exclusive = op.getExclusive(), reverse = op.getReverse();
    bool isFloat = isa<FloatType>(element);
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> position, isAxis;
          Value at = arith::ConstantIndexOp::create(b, l, 0);
          for (int64_t d = 0; d < rank; ++d) {
            position.push_back(linalg::IndexOp::create(b, l, d));
            isAxis.push_back(
                arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, axis,
                                      arith::ConstantIndexOp::create(b, l, d)));
            at = arith::SelectOp::create(b, l, isAxis[d], position[d], at);
          }
          Value one = arith::ConstantIndexOp::create(b, l, 1);
          // Forward: [0, at] (exclusive: [0, at)); reverse: [at, extent)
          // (exclusive: (at, extent)).
          Value lo =
              reverse ? (exclusive ? arith::AddIOp::create(b, l, at, one) : at)
                      : arith::ConstantIndexOp::create(b, l, 0);
          Value hi =
              reverse
                  ? extent
                  : (exclusive ? at
                               : (Value)arith::AddIOp::create(b, l, at, one));
          Value zero = scalarConstant(b, l, element, 0);
          auto loop = scf::ForOp::create(
              b, l, lo, hi, one, ValueRange{zero},
              [&](OpBuilder &nb, Location nl, Value k, ValueRange args) {
                SmallVector<Value> indices;
                for (int64_t d = 0; d < rank; ++d)
                  indices.push_back(arith::SelectOp::create(nb, nl, isAxis[d],
                                                            k, position[d]));
                Value v = tensor::ExtractOp::create(nb, nl, input, indices);
                Value sum =
                    isFloat ? (Value)arith::AddFOp::create(nb, nl, args[0], v)
                            : (Value)arith::AddIOp::create(nb, nl, args[0], v);
                scf::YieldOp::create(nb, nl, sum);
              });
          linalg::YieldOp::create(b, l, loop.getResult(0));
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// gather_nd: a generic over the result that reads the index tuple, then
/// the input element it names.
struct GatherNDLowering : OpConversionPattern<GatherNDOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(GatherNDOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = convertTensorType(op.getType());
    Value input = adaptor.getInput(), indices = adaptor.getIndices();
    RankedTensorType indicesType = op.getIndices().getType();
    int64_t batch = op.getBatchDims();
    int64_t tuple = indicesType.getDimSize(indicesType.getRank() - 1);
    int64_t indexDims = indicesType.getRank() - 1;
    int64_t rank = type.getRank();
    SmallVector<Value> inputDims = getDimValues(rewriter, loc, input);
    SmallVector<Value> indexExtents = getDimValues(rewriter, loc, indices);
    SmallVector<OpFoldResult> resultDims;
    for (int64_t d = 0; d < indexDims; ++d)
      resultDims.push_back(indexExtents[d]);
    for (int64_t d = batch + tuple; d < op.getInput().getType().getRank(); ++d)
      resultDims.push_back(inputDims[d]);
    Value init = emptyTensor(rewriter, loc, type, resultDims);
    checkIndices(rewriter, op, indices,
                 getAsOpFoldResult(ArrayRef(inputDims).slice(batch, tuple)));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, ValueRange{}, ValueRange{init},
        SmallVector<AffineMap>{rewriter.getMultiDimIdentityMap(rank)},
        SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
        [&](OpBuilder &b, Location l, ValueRange) {
          SmallVector<Value> position;
          for (int64_t d = 0; d < rank; ++d)
            position.push_back(linalg::IndexOp::create(b, l, d));
          SmallVector<Value> at(position.begin(), position.begin() + batch);
          for (int64_t t = 0; t < tuple; ++t) {
            SmallVector<Value> where(position.begin(),
                                     position.begin() + indexDims);
            where.push_back(arith::ConstantIndexOp::create(b, l, t));
            Value raw = tensor::ExtractOp::create(b, l, indices, where);
            at.push_back(wrapIndex(b, l, raw, inputDims[batch + t]));
          }
          at.append(position.begin() + indexDims, position.end());
          linalg::YieldOp::create(
              b, l, tensor::ExtractOp::create(b, l, input, at).getResult());
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// A loop nest over `updates`, in order, carrying a copy of `input`: each
/// update is combined (by `reduction`) with the element `target(ivs)`
/// addresses. The scatters differ only in how an update's position maps to
/// its target.
static Value
buildScatter(OpBuilder &b, Location loc, Value input, Value updates,
             StringRef reduction, Type kilnElement,
             function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>
                 target) {
  int64_t rank = cast<RankedTensorType>(updates.getType()).getRank();
  SmallVector<Value> lbs(rank, arith::ConstantIndexOp::create(b, loc, 0));
  SmallVector<Value> steps(rank, arith::ConstantIndexOp::create(b, loc, 1));
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, getDimValues(b, loc, updates), steps, ValueRange{input},
      [&](OpBuilder &nb, Location l, ValueRange ivs, ValueRange args) {
        SmallVector<Value> at = target(nb, l, ivs);
        Value update = tensor::ExtractOp::create(nb, l, updates, ivs);
        Value current = tensor::ExtractOp::create(nb, l, args[0], at);
        Value value = combine(nb, l, reduction, kilnElement, current, update);
        return scf::ValueVector{
            tensor::InsertOp::create(nb, l, value, args[0], at)};
      });
  return nest.results.front();
}

/// scatter_elements: an update at position p goes to p with p[axis]
/// replaced by its index.
struct ScatterElementsLowering : OpConversionPattern<ScatterElementsOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ScatterElementsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), indices = adaptor.getIndices();
    int64_t axis =
        *normalizeAxis(op.getAxis(), op.getInput().getType().getRank());
    SmallVector<Value> inputDims = getDimValues(rewriter, loc, input);
    checkIndices(rewriter, op, indices, {getAsOpFoldResult(inputDims[axis])});
    Value result = buildScatter(
        rewriter, loc, input, adaptor.getUpdates(), op.getReduction(),
        op.getInput().getType().getElementType(),
        [&](OpBuilder &b, Location l, ValueRange ivs) {
          SmallVector<Value> at(ivs.begin(), ivs.end());
          Value raw = tensor::ExtractOp::create(b, l, indices, ivs);
          at[axis] = wrapIndex(b, l, raw, inputDims[axis]);
          return at;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// scatter_nd: an update's leading coordinates pick an index tuple, which
/// addresses the input's leading dims; its trailing coordinates the rest.
struct ScatterNDLowering : OpConversionPattern<ScatterNDOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ScatterNDOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput(), indices = adaptor.getIndices();
    RankedTensorType indicesType = op.getIndices().getType();
    int64_t tuple = indicesType.getDimSize(indicesType.getRank() - 1);
    int64_t indexDims = indicesType.getRank() - 1;
    SmallVector<Value> inputDims = getDimValues(rewriter, loc, input);
    checkIndices(rewriter, op, indices,
                 getAsOpFoldResult(ArrayRef(inputDims).take_front(tuple)));
    Value result = buildScatter(
        rewriter, loc, input, adaptor.getUpdates(), op.getReduction(),
        op.getInput().getType().getElementType(),
        [&](OpBuilder &b, Location l, ValueRange ivs) {
          SmallVector<Value> at;
          for (int64_t t = 0; t < tuple; ++t) {
            SmallVector<Value> where(ivs.begin(), ivs.begin() + indexDims);
            where.push_back(arith::ConstantIndexOp::create(b, l, t));
            Value raw = tensor::ExtractOp::create(b, l, indices, where);
            at.push_back(wrapIndex(b, l, raw, inputDims[t]));
          }
          at.append(ivs.begin() + indexDims, ivs.end());
          return at;
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// non_zero: one pass counts the non-zero elements, a second writes their
/// coordinates in row-major order.
struct NonZeroLowering : OpConversionPattern<NonZeroOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(NonZeroOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    int64_t rank = op.getInput().getType().getRank();
    if (rank == 0)
      return rewriter.notifyMatchFailure(op, "rank-0 input");
    Type element = cast<RankedTensorType>(input.getType()).getElementType();
    Value zeroIndex = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value oneIndex = arith::ConstantIndexOp::create(rewriter, loc, 1);
    SmallVector<Value> lbs(rank, zeroIndex), steps(rank, oneIndex);
    SmallVector<Value> ubs = getDimValues(rewriter, loc, input);
    auto isNonZero = [&](OpBuilder &b, Location l, ValueRange ivs) -> Value {
      Value v = tensor::ExtractOp::create(b, l, input, ivs);
      Value zero = scalarConstant(b, l, element, 0);
      if (isa<FloatType>(element))
        return arith::CmpFOp::create(b, l, arith::CmpFPredicate::UNE, v, zero);
      return arith::CmpIOp::create(b, l, arith::CmpIPredicate::ne, v, zero);
    };
    scf::LoopNest counting = scf::buildLoopNest(
        rewriter, loc, lbs, ubs, steps, ValueRange{zeroIndex},
        [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange args) {
          Value next = arith::AddIOp::create(
              b, l, args[0], arith::ConstantIndexOp::create(b, l, 1));
          return scf::ValueVector{arith::SelectOp::create(
              b, l, isNonZero(b, l, ivs), next, args[0])};
        });
    Value count = counting.results.front();
    RankedTensorType type = convertTensorType(op.getType());
    Value init =
        tensor::EmptyOp::create(rewriter, loc, type.getShape(),
                                type.getElementType(), ValueRange{count});
    scf::LoopNest writing = scf::buildLoopNest(
        rewriter, loc, lbs, ubs, steps, ValueRange{zeroIndex, init},
        [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange args) {
          auto branch = scf::IfOp::create(
              b, l, isNonZero(b, l, ivs),
              [&](OpBuilder &tb, Location tl) {
                Value result = args[1];
                for (int64_t d = 0; d < rank; ++d) {
                  Value coordinate = arith::IndexCastOp::create(
                      tb, tl, tb.getI64Type(), ivs[d]);
                  result = tensor::InsertOp::create(
                      tb, tl, coordinate, result,
                      ValueRange{arith::ConstantIndexOp::create(tb, tl, d),
                                 args[0]});
                }
                Value next = arith::AddIOp::create(
                    tb, tl, args[0], arith::ConstantIndexOp::create(tb, tl, 1));
                scf::YieldOp::create(tb, tl, ValueRange{next, result});
              },
              [&](OpBuilder &eb, Location el) {
                scf::YieldOp::create(eb, el, ValueRange{args[0], args[1]});
              });
          return scf::ValueVector{branch.getResult(0), branch.getResult(1)};
        });
    rewriter.replaceOp(op, writing.results[1]);
    return success();
  }
};

/// top_k: for every position outside the axis, k selection scans; the j-th
/// scan picks the best element that ranks after the (j-1)-th pick in the
/// total order (value, then lower index first). O(k * n) per row.
struct TopKLowering : OpConversionPattern<TopKOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(TopKOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    int64_t rank = op.getInput().getType().getRank();
    int64_t axis = *normalizeAxis(op.getAxis(), rank);
    Type kilnElement = op.getInput().getType().getElementType();
    bool isFloat = isa<FloatType>(kilnElement);
    bool isUnsigned = isUnsignedLike(kilnElement);
    bool largest = op.getLargest();
    RankedTensorType valuesType = convertTensorType(op.getValues().getType());
    RankedTensorType indicesType = op.getIndices().getType();
    SmallVector<Value> dims = getDimValues(rewriter, loc, input);
    Value k =
        toIndex(rewriter, loc, extractScalar(rewriter, loc, adaptor.getK()));
    SmallVector<OpFoldResult> resultDims(dims.begin(), dims.end());
    resultDims[axis] = k;
    Value values = emptyTensor(rewriter, loc, valuesType, resultDims);
    Value indices = emptyTensor(rewriter, loc, indicesType, resultDims);
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value none = arith::ConstantIndexOp::create(rewriter, loc, -1);
    Value extent = dims[axis];
    // Whether (a, ia) comes before (b, ib) in the selection order.
    auto before = [&](OpBuilder &b, Location l, Value a, Value ia, Value v,
                      Value iv) -> Value {
      Value strictly, equal;
      if (isFloat) {
        strictly = arith::CmpFOp::create(b, l,
                                         largest ? arith::CmpFPredicate::OGT
                                                 : arith::CmpFPredicate::OLT,
                                         a, v);
        equal = arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, a, v);
      } else {
        arith::CmpIPredicate p = largest
                                     ? (isUnsigned ? arith::CmpIPredicate::ugt
                                                   : arith::CmpIPredicate::sgt)
                                     : (isUnsigned ? arith::CmpIPredicate::ult
                                                   : arith::CmpIPredicate::slt);
        strictly = arith::CmpIOp::create(b, l, p, a, v);
        equal = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq, a, v);
      }
      Value lower =
          arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, ia, iv);
      return arith::OrIOp::create(b, l, strictly,
                                  arith::AndIOp::create(b, l, equal, lower));
    };
    SmallVector<Value> outerUbs(dims);
    outerUbs[axis] = one;
    SmallVector<Value> lbs(rank, zero), steps(rank, one);
    Type element = valuesType.getElementType();
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, lbs, outerUbs, steps, ValueRange{values, indices},
        [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange args) {
          auto at = [&](Value i) {
            SmallVector<Value> position(ivs.begin(), ivs.end());
            position[axis] = i;
            return position;
          };
          Value initialValue = scalarConstant(b, l, element, 0);
          auto picks = scf::ForOp::create(
              b, l, zero, k, one,
              ValueRange{args[0], args[1], initialValue, none},
              [&](OpBuilder &jb, Location jl, Value j, ValueRange state) {
                Value previous = state[2], previousIndex = state[3];
                auto [pick, pickIndex] = scanForBest(
                    jb, jl, zero, extent, initialValue, none,
                    [&](OpBuilder &sb, Location sl, Value e, Value bestValue,
                        Value bestIndex) -> std::pair<Value, Value> {
                      Value v = tensor::ExtractOp::create(sb, sl, input, at(e));
                      Value first = arith::CmpIOp::create(
                          sb, sl, arith::CmpIPredicate::eq, previousIndex,
                          none);
                      Value after = arith::OrIOp::create(
                          sb, sl, first,
                          before(sb, sl, previous, previousIndex, v, e));
                      Value noBest = arith::CmpIOp::create(
                          sb, sl, arith::CmpIPredicate::eq, bestIndex, none);
                      Value better = arith::OrIOp::create(
                          sb, sl, noBest,
                          before(sb, sl, v, e, bestValue, bestIndex));
                      return {v, arith::AndIOp::create(sb, sl, after, better)};
                    });
                Value newValues =
                    tensor::InsertOp::create(jb, jl, pick, state[0], at(j));
                Value newIndices = tensor::InsertOp::create(
                    jb, jl,
                    arith::IndexCastOp::create(jb, jl, jb.getI64Type(),
                                               pickIndex),
                    state[1], at(j));
                scf::YieldOp::create(
                    jb, jl, ValueRange{newValues, newIndices, pick, pickIndex});
              });
          return scf::ValueVector{picks.getResult(0), picks.getResult(1)};
        });
    rewriter.replaceOp(op, nest.results);
    return success();
  }
};

/// einsum: one generic whose loops are the labels, output labels parallel
/// and the others reductions; operands index by their labels (a label
/// repeated in an operand reads its diagonal; a broadcast dim of extent 1
/// reads index 0).
struct EinsumLowering : OpConversionPattern<EinsumOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(EinsumOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    SmallVector<RankedTensorType> types;
    SmallVector<int64_t> ranks;
    for (Value v : op.getInputs()) {
      types.push_back(cast<RankedTensorType>(v.getType()));
      ranks.push_back(types.back().getRank());
    }
    std::string error;
    FailureOr<EinsumSpec> spec = parseEinsum(op.getEquation(), ranks, error);
    if (failed(spec))
      return rewriter.notifyMatchFailure(op, error);
    std::map<int64_t, int64_t> extents = einsumLabelExtents(*spec, types);
    // Loop order: output labels, then the summed ones.
    SmallVector<int64_t> loops(spec->output);
    for (const auto &labels : spec->inputs)
      for (int64_t label : labels)
        if (!llvm::is_contained(loops, label))
          loops.push_back(label);
    auto loopOf = [&](int64_t label) {
      return llvm::find(loops, label) - loops.begin();
    };
    SmallVector<AffineMap> maps;
    for (auto [labels, type] : llvm::zip(spec->inputs, types)) {
      SmallVector<AffineExpr> exprs;
      for (auto [d, label] : llvm::enumerate(labels)) {
        bool broadcast = type.getDimSize(d) == 1 && extents[label] != 1;
        exprs.push_back(broadcast ? getAffineConstantExpr(0, context)
                                  : getAffineDimExpr(loopOf(label), context));
      }
      maps.push_back(AffineMap::get(loops.size(), 0, exprs, context));
    }
    SmallVector<AffineExpr> outExprs;
    for (int64_t label : spec->output)
      outExprs.push_back(getAffineDimExpr(loopOf(label), context));
    maps.push_back(AffineMap::get(loops.size(), 0, outExprs, context));
    SmallVector<utils::IteratorType> iterators(loops.size(),
                                               utils::IteratorType::reduction);
    for (size_t i = 0; i < spec->output.size(); ++i)
      iterators[i] = utils::IteratorType::parallel;
    // Output dims: from the first operand dim with the label's extent.
    RankedTensorType type = convertTensorType(op.getType());
    SmallVector<OpFoldResult> resultDims;
    for (int64_t label : spec->output) {
      OpFoldResult dim = rewriter.getIndexAttr(1);
      for (auto [operand, labels, t] :
           llvm::zip(adaptor.getInputs(), spec->inputs, types)) {
        auto it = llvm::find(labels, label);
        if (it == labels.end())
          continue;
        int64_t d = it - labels.begin();
        if (t.getDimSize(d) == 1 && extents[label] != 1)
          continue;
        dim = getDims(rewriter, loc, operand)[d];
        break;
      }
      resultDims.push_back(dim);
    }
    Type element = type.getElementType();
    bool isFloat = isa<FloatType>(element);
    Value init = filledTensor(rewriter, loc, type, resultDims,
                              scalarConstant(rewriter, loc, element, 0));
    auto generic = linalg::GenericOp::create(
        rewriter, loc, TypeRange{type}, adaptor.getInputs(), ValueRange{init},
        maps, iterators, [&](OpBuilder &b, Location l, ValueRange args) {
          Value product = args[0];
          for (Value v : args.drop_front().drop_back())
            product = isFloat ? (Value)arith::MulFOp::create(b, l, product, v)
                              : (Value)arith::MulIOp::create(b, l, product, v);
          Value sum =
              isFloat
                  ? (Value)arith::AddFOp::create(b, l, args.back(), product)
                  : (Value)arith::AddIOp::create(b, l, args.back(), product);
          linalg::YieldOp::create(b, l, sum);
        });
    rewriter.replaceOp(op, generic.getResult(0));
    return success();
  }
};

/// non_max_suppression: for each batch and class, a mask of the boxes still
/// in play (score above the threshold); each of `limit` rounds picks the best
/// box in play (higher score, then lower index), appends (batch, class, box)
/// and takes out of play the pick and the boxes overlapping it above the IoU
/// threshold. Picks fill a buffer of batch * classes * limit rows; the result
/// is its first `count` rows.
struct NonMaxSuppressionLowering : OpConversionPattern<NonMaxSuppressionOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(NonMaxSuppressionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value boxes = adaptor.getBoxes(), scores = adaptor.getScores();
    Type element = cast<RankedTensorType>(boxes.getType()).getElementType();
    Type i64 = rewriter.getI64Type();
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value none = arith::ConstantIndexOp::create(rewriter, loc, -1);
    SmallVector<Value> scoreDims = getDimValues(rewriter, loc, scores);
    Value batches = scoreDims[0], classes = scoreDims[1], n = scoreDims[2];
    Value limit = toIndex(rewriter, loc,
                          extractScalar(rewriter, loc, adaptor.getMaxOutput()));
    limit = arith::MinSIOp::create(
        rewriter, loc, arith::MaxSIOp::create(rewriter, loc, limit, zero), n);
    Value iouThreshold =
        extractScalar(rewriter, loc, adaptor.getIouThreshold());
    Value scoreThreshold =
        extractScalar(rewriter, loc, adaptor.getScoreThreshold());
    Value capacity = arith::MulIOp::create(
        rewriter, loc, arith::MulIOp::create(rewriter, loc, batches, classes),
        limit);
    auto bufferType = RankedTensorType::get({ShapedType::kDynamic, 3}, i64);
    Value buffer = tensor::EmptyOp::create(rewriter, loc, bufferType.getShape(),
                                           i64, ValueRange{capacity});
    auto maskType = RankedTensorType::get(
        {cast<RankedTensorType>(scores.getType()).getDimSize(2)},
        rewriter.getI1Type());
    Value emptyMask = emptyTensor(rewriter, loc, maskType, {n});

    // Whether box `j` overlaps box `i` of batch `b` above the threshold;
    // boxes without area never do.
    auto overlaps = [&](OpBuilder &ob, Location l, Value b, Value i,
                        Value j) -> Value {
      auto coordinate = [&](Value box, int64_t k) -> Value {
        return tensor::ExtractOp::create(
            ob, l, boxes,
            ValueRange{b, box, arith::ConstantIndexOp::create(ob, l, k)});
      };
      Value fzero = scalarConstant(ob, l, element, 0);
      Value inter = nullptr, areaI = nullptr, areaJ = nullptr;
      for (int64_t axis = 0; axis < 2; ++axis) {
        Value loI = coordinate(i, axis), hiI = coordinate(i, axis + 2);
        Value loJ = coordinate(j, axis), hiJ = coordinate(j, axis + 2);
        Value side = arith::SubFOp::create(
            ob, l, arith::MinimumFOp::create(ob, l, hiI, hiJ),
            arith::MaximumFOp::create(ob, l, loI, loJ));
        side = arith::MaximumFOp::create(ob, l, side, fzero);
        Value sideI = arith::SubFOp::create(ob, l, hiI, loI);
        Value sideJ = arith::SubFOp::create(ob, l, hiJ, loJ);
        inter = inter ? arith::MulFOp::create(ob, l, inter, side) : side;
        areaI = areaI ? arith::MulFOp::create(ob, l, areaI, sideI) : sideI;
        areaJ = areaJ ? arith::MulFOp::create(ob, l, areaJ, sideJ) : sideJ;
      }
      Value unionArea = arith::SubFOp::create(
          ob, l, arith::AddFOp::create(ob, l, areaI, areaJ), inter);
      Value iou = arith::DivFOp::create(ob, l, inter, unionArea);
      auto positive = [&](Value v) -> Value {
        return arith::CmpFOp::create(ob, l, arith::CmpFPredicate::OGT, v,
                                     fzero);
      };
      Value valid = arith::AndIOp::create(
          ob, l, arith::AndIOp::create(ob, l, positive(areaI), positive(areaJ)),
          positive(inter));
      return arith::AndIOp::create(
          ob, l, valid,
          arith::CmpFOp::create(ob, l, arith::CmpFPredicate::OGT, iou,
                                iouThreshold));
    };

    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, ValueRange{zero, zero}, ValueRange{batches, classes},
        ValueRange{one, one}, ValueRange{buffer, zero},
        [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange args) {
          Value batch = ivs[0], cls = ivs[1];
          auto score = [&](OpBuilder &sb, Location sl, Value box) -> Value {
            return tensor::ExtractOp::create(sb, sl, scores,
                                             ValueRange{batch, cls, box});
          };
          auto initial = scf::ForOp::create(
              b, l, zero, n, one, ValueRange{emptyMask},
              [&](OpBuilder &ib, Location il, Value i, ValueRange mask) {
                Value above =
                    arith::CmpFOp::create(ib, il, arith::CmpFPredicate::OGT,
                                          score(ib, il, i), scoreThreshold);
                scf::YieldOp::create(
                    ib, il,
                    ValueRange{tensor::InsertOp::create(ib, il, above, mask[0],
                                                        ValueRange{i})});
              });
          auto rounds = scf::ForOp::create(
              b, l, zero, limit, one,
              ValueRange{args[0], args[1], initial.getResult(0)},
              [&](OpBuilder &rb, Location rl, Value, ValueRange state) {
                Value mask = state[2];
                Value pick =
                    scanForBest(
                        rb, rl, zero, n, scalarConstant(rb, rl, element, 0),
                        none,
                        [&](OpBuilder &sb, Location sl, Value i,
                            Value bestValue,
                            Value bestIndex) -> std::pair<Value, Value> {
                          Value s = score(sb, sl, i);
                          Value inPlay = tensor::ExtractOp::create(
                              sb, sl, mask, ValueRange{i});
                          Value first = arith::CmpIOp::create(
                              sb, sl, arith::CmpIPredicate::eq, bestIndex,
                              none);
                          Value higher = arith::CmpFOp::create(
                              sb, sl, arith::CmpFPredicate::OGT, s, bestValue);
                          return {s, arith::AndIOp::create(
                                         sb, sl, inPlay,
                                         arith::OrIOp::create(sb, sl, first,
                                                              higher))};
                        })
                        .second;
                Value found = arith::CmpIOp::create(
                    rb, rl, arith::CmpIPredicate::ne, pick, none);
                auto branch = scf::IfOp::create(
                    rb, rl, found,
                    [&](OpBuilder &tb, Location tl) {
                      Value row = state[1], result = state[0];
                      Value entries[] = {batch, cls, pick};
                      for (int64_t k = 0; k < 3; ++k)
                        result = tensor::InsertOp::create(
                            tb, tl,
                            arith::IndexCastOp::create(tb, tl, i64, entries[k]),
                            result,
                            ValueRange{row, arith::ConstantIndexOp::create(
                                                tb, tl, k)});
                      auto pruned = scf::ForOp::create(
                          tb, tl, zero, n, one, ValueRange{mask},
                          [&](OpBuilder &pb, Location pl, Value i,
                              ValueRange current) {
                            Value inPlay = tensor::ExtractOp::create(
                                pb, pl, current[0], ValueRange{i});
                            Value isPick = arith::CmpIOp::create(
                                pb, pl, arith::CmpIPredicate::eq, i, pick);
                            Value drop = arith::OrIOp::create(
                                pb, pl, isPick,
                                overlaps(pb, pl, batch, pick, i));
                            Value keep = arith::AndIOp::create(
                                pb, pl, inPlay,
                                arith::XOrIOp::create(
                                    pb, pl, drop,
                                    arith::ConstantIntOp::create(pb, pl, 1,
                                                                 1)));
                            scf::YieldOp::create(
                                pb, pl,
                                ValueRange{tensor::InsertOp::create(
                                    pb, pl, keep, current[0], ValueRange{i})});
                          });
                      Value next = arith::AddIOp::create(tb, tl, row, one);
                      scf::YieldOp::create(
                          tb, tl,
                          ValueRange{result, next, pruned.getResult(0)});
                    },
                    [&](OpBuilder &eb, Location el) {
                      scf::YieldOp::create(eb, el, state);
                    });
                scf::YieldOp::create(rb, rl, branch.getResults());
              });
          return scf::ValueVector{rounds.getResult(0), rounds.getResult(1)};
        });
    Value count = nest.results[1];
    SmallVector<OpFoldResult> offsets = {rewriter.getIndexAttr(0),
                                         rewriter.getIndexAttr(0)};
    SmallVector<OpFoldResult> sizes = {count, rewriter.getIndexAttr(3)};
    SmallVector<OpFoldResult> strides = {rewriter.getIndexAttr(1),
                                         rewriter.getIndexAttr(1)};
    rewriter.replaceOpWithNewOp<tensor::ExtractSliceOp>(
        op, bufferType, nest.results[0], offsets, sizes, strides);
    return success();
  }
};

/// det: per matrix, Gaussian elimination with partial pivoting on a copy;
/// the determinant is the product of the pivots, negated per row swap.
struct DetLowering : OpConversionPattern<DetOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(DetOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    int64_t rank = inputType.getRank();
    int64_t batchRank = rank - 2;
    Type element = inputType.getElementType();
    RankedTensorType type = convertTensorType(op.getType());
    SmallVector<Value> dims = getDimValues(rewriter, loc, input);
    Value m = dims[rank - 1];
    SmallVector<OpFoldResult> matrixDims =
        llvm::to_vector(ArrayRef(getDims(rewriter, loc, input)).take_back(2));
    SmallVector<OpFoldResult> batchDims(dims.begin(), dims.end() - 2);
    Value output = emptyTensor(rewriter, loc, type, batchDims);
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    auto matrixType =
        RankedTensorType::get(inputType.getShape().take_back(2), element);
    SmallVector<Value> lbs(batchRank, zero), steps(batchRank, one);
    SmallVector<Value> ubs(dims.begin(), dims.end() - 2);
    scf::LoopNest nest = scf::buildLoopNest(
        rewriter, loc, lbs, ubs, steps, ValueRange{output},
        [&](OpBuilder &b, Location l, ValueRange ivs, ValueRange args) {
          SmallVector<OpFoldResult> offsets(ivs.begin(), ivs.end());
          offsets.append(2, b.getIndexAttr(0));
          SmallVector<OpFoldResult> sizes(batchRank, b.getIndexAttr(1));
          sizes.append(matrixDims.begin(), matrixDims.end());
          SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
          Value matrix = tensor::ExtractSliceOp::create(
              b, l, matrixType, input, offsets, sizes, strides);
          Value fzero = scalarConstant(b, l, element, 0);
          auto at = [](OpBuilder &eb, Location el, Value t, Value r, Value c) {
            return tensor::ExtractOp::create(eb, el, t, ValueRange{r, c})
                .getResult();
          };
          auto columns = scf::ForOp::create(
              b, l, zero, m, one,
              ValueRange{matrix, scalarConstant(b, l, element, 1)},
              [&](OpBuilder &kb, Location kl, Value k, ValueRange state) {
                Value work = state[0];
                // The row at or below k with the largest |work[row, k]|.
                Value p =
                    scanForBest(
                        kb, kl, k, m, scalarConstant(kb, kl, element, -1), k,
                        [&](OpBuilder &sb, Location sl, Value r,
                            Value bestValue, Value) -> std::pair<Value, Value> {
                          Value v = math::AbsFOp::create(
                              sb, sl, at(sb, sl, work, r, k));
                          return {v, arith::CmpFOp::create(
                                         sb, sl, arith::CmpFPredicate::OGT, v,
                                         bestValue)};
                        })
                        .second;
                Value pivot = at(kb, kl, work, p, k);
                auto swapped = scf::ForOp::create(
                    kb, kl, zero, m, one, ValueRange{work},
                    [&](OpBuilder &wb, Location wl, Value c, ValueRange t) {
                      Value a = at(wb, wl, t[0], k, c);
                      Value bv = at(wb, wl, t[0], p, c);
                      Value u = tensor::InsertOp::create(wb, wl, bv, t[0],
                                                         ValueRange{k, c});
                      u = tensor::InsertOp::create(wb, wl, a, u,
                                                   ValueRange{p, c});
                      scf::YieldOp::create(wb, wl, u);
                    });
                Value moved = arith::CmpIOp::create(
                    kb, kl, arith::CmpIPredicate::ne, p, k);
                Value det = arith::MulFOp::create(kb, kl, state[1], pivot);
                det = arith::SelectOp::create(
                    kb, kl, moved, arith::NegFOp::create(kb, kl, det), det);
                Value singular = arith::CmpFOp::create(
                    kb, kl, arith::CmpFPredicate::OEQ, pivot, fzero);
                Value kNext = arith::AddIOp::create(kb, kl, k, one);
                auto rows = scf::ForOp::create(
                    kb, kl, kNext, m, one, ValueRange{swapped.getResult(0)},
                    [&](OpBuilder &rb, Location rl, Value r, ValueRange t) {
                      Value factor = arith::DivFOp::create(
                          rb, rl, at(rb, rl, t[0], r, k), pivot);
                      factor = arith::SelectOp::create(rb, rl, singular, fzero,
                                                       factor);
                      auto cols = scf::ForOp::create(
                          rb, rl, kNext, m, one, ValueRange{t[0]},
                          [&](OpBuilder &cb, Location cl, Value c,
                              ValueRange u) {
                            Value v = arith::SubFOp::create(
                                cb, cl, at(cb, cl, u[0], r, c),
                                arith::MulFOp::create(cb, cl, factor,
                                                      at(cb, cl, u[0], k, c)));
                            scf::YieldOp::create(
                                cb, cl,
                                ValueRange{tensor::InsertOp::create(
                                    cb, cl, v, u[0], ValueRange{r, c})});
                          });
                      scf::YieldOp::create(rb, rl, cols.getResults());
                    });
                scf::YieldOp::create(kb, kl,
                                     ValueRange{rows.getResult(0), det});
              });
          Value result = tensor::InsertOp::create(b, l, columns.getResult(1),
                                                  args[0], ivs);
          return scf::ValueVector{result};
        });
    rewriter.replaceOp(op, nest.results);
    return success();
  }
};

/// unique: one pass over the rows keeps the distinct ones met so far (the
/// index of each one's first occurrence and its count) and each row's slot;
/// with `sorted`, a second pass ranks the distinct rows (how many are less,
/// lexicographically, ties between incomparable rows, such as rows with a
/// NaN, broken by first occurrence); the results are written at the ranks.
/// O(n * u * s) comparisons for n rows of s elements with u distinct ones.
struct UniqueLowering : OpConversionPattern<UniqueOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(UniqueOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    Type kilnElement = op.getInput().getType().getElementType();
    bool isFloat = isa<FloatType>(kilnElement);
    bool isUnsigned = isUnsignedLike(kilnElement) || kilnElement.isInteger(1);
    Type i64 = rewriter.getI64Type();
    Type indexType = rewriter.getIndexType();
    Value zero = arith::ConstantIndexOp::create(rewriter, loc, 0);
    Value one = arith::ConstantIndexOp::create(rewriter, loc, 1);
    Value none = arith::ConstantIndexOp::create(rewriter, loc, -1);
    SmallVector<Value> dims = getDimValues(rewriter, loc, input);
    Value rows = dims[0], width = dims[1];
    auto slots = RankedTensorType::get({ShapedType::kDynamic}, indexType);
    Value firstSlots = emptyTensor(rewriter, loc, slots, {rows});
    Value countSlots = emptyTensor(rewriter, loc, slots, {rows});
    Value rowSlots = emptyTensor(rewriter, loc, slots, {rows});

    auto element = [&](OpBuilder &b, Location l, Value row, Value column) {
      return tensor::ExtractOp::create(b, l, input, ValueRange{row, column})
          .getResult();
    };
    // Whether rows `a` and `c` hold equal elements.
    auto rowsEqual = [&](OpBuilder &b, Location l, Value a, Value c) {
      Value yes = arith::ConstantIntOp::create(b, l, b.getI1Type(), 1);
      auto scan = scf::ForOp::create(
          b, l, zero, width, one, ValueRange{yes},
          [&](OpBuilder &sb, Location sl, Value j, ValueRange equal) {
            Value u = element(sb, sl, a, j), v = element(sb, sl, c, j);
            Value same = isFloat ? (Value)arith::CmpFOp::create(
                                       sb, sl, arith::CmpFPredicate::OEQ, u, v)
                                 : (Value)arith::CmpIOp::create(
                                       sb, sl, arith::CmpIPredicate::eq, u, v);
            scf::YieldOp::create(
                sb, sl,
                ValueRange{arith::AndIOp::create(sb, sl, equal[0], same)});
          });
      return scan.getResult(0);
    };
    // Whether row `a` is lexicographically less than row `c`: the first
    // element where they differ decides.
    auto rowLess = [&](OpBuilder &b, Location l, Value a, Value c) {
      Value no = arith::ConstantIntOp::create(b, l, b.getI1Type(), 0);
      auto scan = scf::ForOp::create(
          b, l, zero, width, one, ValueRange{no, no},
          [&](OpBuilder &sb, Location sl, Value j, ValueRange state) {
            Value u = element(sb, sl, a, j), v = element(sb, sl, c, j);
            Value less, greater;
            if (isFloat) {
              less = arith::CmpFOp::create(sb, sl, arith::CmpFPredicate::OLT, u,
                                           v);
              greater = arith::CmpFOp::create(sb, sl, arith::CmpFPredicate::OGT,
                                              u, v);
            } else {
              less =
                  arith::CmpIOp::create(sb, sl,
                                        isUnsigned ? arith::CmpIPredicate::ult
                                                   : arith::CmpIPredicate::slt,
                                        u, v);
              greater =
                  arith::CmpIOp::create(sb, sl,
                                        isUnsigned ? arith::CmpIPredicate::ugt
                                                   : arith::CmpIPredicate::sgt,
                                        u, v);
            }
            Value decided = state[0];
            Value differs = arith::OrIOp::create(sb, sl, less, greater);
            Value nowLess =
                arith::SelectOp::create(sb, sl, decided, state[1], less);
            scf::YieldOp::create(
                sb, sl,
                ValueRange{arith::OrIOp::create(sb, sl, decided, differs),
                           nowLess});
          });
      return scan.getResult(1);
    };
    auto slotAt = [&](OpBuilder &b, Location l, Value tensor, Value i) {
      return tensor::ExtractOp::create(b, l, tensor, ValueRange{i}).getResult();
    };

    // Pass 1: the distinct rows (by first occurrence), counts, row slots.
    auto gather = scf::ForOp::create(
        rewriter, loc, zero, rows, one,
        ValueRange{zero, firstSlots, countSlots, rowSlots},
        [&](OpBuilder &b, Location l, Value i, ValueRange state) {
          Value distinct = state[0];
          auto search = scf::ForOp::create(
              b, l, zero, distinct, one, ValueRange{none},
              [&](OpBuilder &sb, Location sl, Value k, ValueRange found) {
                Value notYet = arith::CmpIOp::create(
                    sb, sl, arith::CmpIPredicate::eq, found[0], none);
                Value equal = rowsEqual(sb, sl, slotAt(sb, sl, state[1], k), i);
                Value hit = arith::AndIOp::create(sb, sl, notYet, equal);
                scf::YieldOp::create(sb, sl,
                                     ValueRange{arith::SelectOp::create(
                                         sb, sl, hit, k, found[0])});
              });
          Value found = search.getResult(0);
          Value isNew = arith::CmpIOp::create(b, l, arith::CmpIPredicate::eq,
                                              found, none);
          auto branch = scf::IfOp::create(
              b, l, isNew,
              [&](OpBuilder &tb, Location tl) {
                Value first = tensor::InsertOp::create(tb, tl, i, state[1],
                                                       ValueRange{distinct});
                Value counts = tensor::InsertOp::create(tb, tl, one, state[2],
                                                        ValueRange{distinct});
                Value slots = tensor::InsertOp::create(tb, tl, distinct,
                                                       state[3], ValueRange{i});
                scf::YieldOp::create(
                    tb, tl,
                    ValueRange{arith::AddIOp::create(tb, tl, distinct, one),
                               first, counts, slots});
              },
              [&](OpBuilder &eb, Location el) {
                Value count = arith::AddIOp::create(
                    eb, el, slotAt(eb, el, state[2], found), one);
                Value counts = tensor::InsertOp::create(eb, el, count, state[2],
                                                        ValueRange{found});
                Value slots = tensor::InsertOp::create(eb, el, found, state[3],
                                                       ValueRange{i});
                scf::YieldOp::create(
                    eb, el, ValueRange{distinct, state[1], counts, slots});
              });
          scf::YieldOp::create(b, l, branch.getResults());
        });
    Value distinct = gather.getResult(0);
    Value first = gather.getResult(1), counts = gather.getResult(2),
          rowSlot = gather.getResult(3);

    // Pass 2 (sorted): the rank of each distinct row.
    Value ranks;
    if (op.getSorted()) {
      auto ranking = scf::ForOp::create(
          rewriter, loc, zero, distinct, one,
          ValueRange{emptyTensor(rewriter, loc, slots, {distinct})},
          [&](OpBuilder &b, Location l, Value k, ValueRange state) {
            Value row = slotAt(b, l, first, k);
            auto count = scf::ForOp::create(
                b, l, zero, distinct, one, ValueRange{zero},
                [&](OpBuilder &cb, Location cl, Value k2, ValueRange before) {
                  Value other = slotAt(cb, cl, first, k2);
                  Value less = rowLess(cb, cl, other, row);
                  Value greater = rowLess(cb, cl, row, other);
                  Value incomparable = arith::AndIOp::create(
                      cb, cl,
                      arith::XOrIOp::create(cb, cl, greater,
                                            arith::ConstantIntOp::create(
                                                cb, cl, cb.getI1Type(), 1)),
                      arith::CmpIOp::create(cb, cl, arith::CmpIPredicate::slt,
                                            k2, k));
                  Value counted =
                      arith::OrIOp::create(cb, cl, less, incomparable);
                  scf::YieldOp::create(
                      cb, cl,
                      ValueRange{arith::SelectOp::create(
                          cb, cl, counted,
                          arith::AddIOp::create(cb, cl, before[0], one),
                          before[0])});
                });
            scf::YieldOp::create(
                b, l,
                ValueRange{tensor::InsertOp::create(b, l, count.getResult(0),
                                                    state[0], ValueRange{k})});
          });
      ranks = ranking.getResult(0);
    }
    auto positionOf = [&](OpBuilder &b, Location l, Value k) {
      return ranks ? slotAt(b, l, ranks, k) : k;
    };
    auto toI64 = [&](OpBuilder &b, Location l, Value v) {
      return arith::IndexCastOp::create(b, l, i64, v).getResult();
    };

    // The results, each distinct row at its position.
    auto outputType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getOutput().getType()));
    auto vectorType = RankedTensorType::get({ShapedType::kDynamic}, i64);
    Value outRows = emptyTensor(rewriter, loc, outputType, {distinct, width});
    Value outFirst = emptyTensor(rewriter, loc, vectorType, {distinct});
    Value outCounts = emptyTensor(rewriter, loc, vectorType, {distinct});
    auto write = scf::ForOp::create(
        rewriter, loc, zero, distinct, one,
        ValueRange{outRows, outFirst, outCounts},
        [&](OpBuilder &b, Location l, Value k, ValueRange state) {
          Value at = positionOf(b, l, k);
          Value row = slotAt(b, l, first, k);
          auto copy = scf::ForOp::create(
              b, l, zero, width, one, ValueRange{state[0]},
              [&](OpBuilder &cb, Location cl, Value j, ValueRange out) {
                scf::YieldOp::create(cb, cl,
                                     ValueRange{tensor::InsertOp::create(
                                         cb, cl, element(cb, cl, row, j),
                                         out[0], ValueRange{at, j})});
              });
          Value firsts = tensor::InsertOp::create(b, l, toI64(b, l, row),
                                                  state[1], ValueRange{at});
          Value countsOut = tensor::InsertOp::create(
              b, l, toI64(b, l, slotAt(b, l, counts, k)), state[2],
              ValueRange{at});
          scf::YieldOp::create(
              b, l, ValueRange{copy.getResult(0), firsts, countsOut});
        });
    auto inverseType = cast<RankedTensorType>(
        getTypeConverter()->convertType(op.getInverse().getType()));
    auto inverse = scf::ForOp::create(
        rewriter, loc, zero, rows, one,
        ValueRange{emptyTensor(rewriter, loc, inverseType, {rows})},
        [&](OpBuilder &b, Location l, Value i, ValueRange state) {
          Value at = positionOf(b, l, slotAt(b, l, rowSlot, i));
          scf::YieldOp::create(
              b, l,
              ValueRange{tensor::InsertOp::create(b, l, toI64(b, l, at),
                                                  state[0], ValueRange{i})});
        });
    rewriter.replaceOp(op, {write.getResult(0), write.getResult(1),
                            inverse.getResult(0), write.getResult(2)});
    return success();
  }
};

} // namespace

void to_linalg::populateIndexingPatterns(KilnTypeConverter &converter,
                                         RewritePatternSet &patterns) {
  patterns.add<RangeLowering, CumSumLowering, GatherNDLowering,
               ScatterElementsLowering, ScatterNDLowering, NonZeroLowering,
               TopKLowering, EinsumLowering, NonMaxSuppressionLowering,
               DetLowering, UniqueLowering>(converter, patterns.getContext());
}
