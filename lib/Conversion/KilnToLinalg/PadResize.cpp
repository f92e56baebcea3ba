//===- PadResize.cpp - kiln pad and resize to linalg ----------------------===//
//
// Both read the input at computed coordinates: a linalg.generic over the
// result whose body works out source indices (and, for resize, weights) and
// reads them with tensor.extract.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

#include "mlir/Dialect/Arith/Utils/Utils.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::to_linalg;

/// Element `i` of a 1-D tensor as an index / f64.
static Value extractAt(OpBuilder &b, Location loc, Value vector, int64_t i) {
  return tensor::ExtractOp::create(
      b, loc, vector, ValueRange{arith::ConstantIndexOp::create(b, loc, i)});
}

static Value toF64(OpBuilder &b, Location loc, Value v) {
  Type type = v.getType();
  if (type.isF64())
    return v;
  if (isa<FloatType>(type))
    return arith::ExtFOp::create(b, loc, b.getF64Type(), v);
  if (type.isIndex())
    v = arith::IndexCastOp::create(b, loc, b.getI64Type(), v);
  return arith::SIToFPOp::create(b, loc, b.getF64Type(), v);
}

/// A generic over `type` whose body computes each element from its indices.
static Value generateTensor(
    OpBuilder &b, Location loc, RankedTensorType type,
    ArrayRef<OpFoldResult> dims,
    function_ref<Value(OpBuilder &, Location, ArrayRef<Value>)> body) {
  int64_t rank = type.getRank();
  Value init = emptyTensor(b, loc, type, dims);
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{type}, ValueRange{}, ValueRange{init},
      {AffineMap::getMultiDimIdentityMap(rank, b.getContext())},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange) {
        SmallVector<Value> indices;
        for (int64_t d = 0; d < rank; ++d)
          indices.push_back(linalg::IndexOp::create(nb, l, d));
        linalg::YieldOp::create(nb, l, body(nb, l, indices));
      });
  return generic.getResult(0);
}

namespace {

/// pad: each result element reads the input at (index - begin pad), mapped
/// back into range by the mode: constant (else the value), edge (clamp),
/// reflect (mirror without the edge), wrap (modulo).
struct PadLowering : OpConversionPattern<PadOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(PadOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    RankedTensorType type = convertTensorType(op.getType());
    Type element = type.getElementType();
    int64_t rank = type.getRank();
    // The padding value (its first element for a one-element tensor), or
    // zero.
    Value padValue =
        adaptor.getConstantValue()
            ? tensor::ExtractOp::create(
                  rewriter, loc, adaptor.getConstantValue(),
                  SmallVector<Value>(
                      cast<RankedTensorType>(
                          adaptor.getConstantValue().getType())
                          .getRank(),
                      arith::ConstantIndexOp::create(rewriter, loc, 0)))
                  .getResult()
            : scalarConstant(rewriter, loc, element, 0);
    // Constant pads that only grow the tensor, with a constant value: a
    // tensor.pad, which bufferizes to a fill and a copy (or, after
    // kiln-cpu-fuse-padding, the producer writing the interior).
    std::optional<SmallVector<int64_t>> constantPads =
        getConstantInts(op.getPads());
    if (op.getMode() == "constant" && constantPads &&
        llvm::all_of(*constantPads, [](int64_t p) { return p >= 0; })) {
      SmallVector<OpFoldResult> low, high;
      for (int64_t d = 0; d < rank; ++d) {
        low.push_back(rewriter.getIndexAttr((*constantPads)[d]));
        high.push_back(rewriter.getIndexAttr((*constantPads)[d + rank]));
      }
      Value padded = tensor::PadOp::create(rewriter, loc, RankedTensorType(),
                                           input, low, high, padValue);
      if (padded.getType() != type)
        padded = tensor::CastOp::create(rewriter, loc, type, padded);
      rewriter.replaceOp(op, padded);
      return success();
    }
    SmallVector<OpFoldResult> inputDims = getDims(rewriter, loc, input);
    SmallVector<Value> begins, extents;
    SmallVector<OpFoldResult> dims;
    for (int64_t d = 0; d < rank; ++d) {
      Value begin = toIndex(rewriter, loc,
                            extractAt(rewriter, loc, adaptor.getPads(), d));
      Value end = toIndex(
          rewriter, loc, extractAt(rewriter, loc, adaptor.getPads(), d + rank));
      Value extent =
          getValueOrCreateConstantIndexOp(rewriter, loc, inputDims[d]);
      begins.push_back(begin);
      extents.push_back(extent);
      dims.push_back(
          type.isDynamicDim(d)
              ? OpFoldResult(arith::AddIOp::create(
                    rewriter, loc, extent,
                    arith::AddIOp::create(rewriter, loc, begin, end)))
              : rewriter.getIndexAttr(type.getDimSize(d)));
    }
    StringRef mode = op.getMode();
    Value result = generateTensor(
        rewriter, loc, type, dims,
        [&](OpBuilder &b, Location l, ArrayRef<Value> indices) -> Value {
          Value zero = arith::ConstantIndexOp::create(b, l, 0);
          Value one = arith::ConstantIndexOp::create(b, l, 1);
          Value inside = scalarConstant(b, l, b.getI1Type(), 1);
          SmallVector<Value> source;
          for (int64_t d = 0; d < rank; ++d) {
            Value i = arith::SubIOp::create(b, l, indices[d], begins[d]);
            Value n = extents[d];
            Value last = arith::SubIOp::create(b, l, n, one);
            if (mode == "constant") {
              Value ge = arith::CmpIOp::create(b, l, arith::CmpIPredicate::sge,
                                               i, zero);
              Value lt =
                  arith::CmpIOp::create(b, l, arith::CmpIPredicate::slt, i, n);
              inside = arith::AndIOp::create(
                  b, l, inside, arith::AndIOp::create(b, l, ge, lt));
              i = arith::MinSIOp::create(
                  b, l, arith::MaxSIOp::create(b, l, i, zero), last);
            } else if (mode == "edge") {
              i = arith::MinSIOp::create(
                  b, l, arith::MaxSIOp::create(b, l, i, zero), last);
            } else if (mode == "wrap") {
              Value r = arith::RemSIOp::create(b, l, i, n);
              Value negative = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::slt, r, zero);
              i = arith::SelectOp::create(b, l, negative,
                                          arith::AddIOp::create(b, l, r, n), r);
            } else { // reflect: period 2 * (n - 1)
              Value period = arith::MulIOp::create(
                  b, l, last, arith::ConstantIndexOp::create(b, l, 2));
              Value safe = arith::MaxSIOp::create(b, l, period, one);
              Value r = arith::RemSIOp::create(b, l, i, safe);
              Value negative = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::slt, r, zero);
              r = arith::SelectOp::create(
                  b, l, negative, arith::AddIOp::create(b, l, r, safe), r);
              Value mirrored = arith::SubIOp::create(b, l, period, r);
              Value upper = arith::CmpIOp::create(
                  b, l, arith::CmpIPredicate::sgt, r, last);
              i = arith::SelectOp::create(b, l, upper, mirrored, r);
              i = arith::MinSIOp::create(b, l, i, last);
            }
            source.push_back(i);
          }
          Value v = tensor::ExtractOp::create(b, l, input, source);
          if (mode != "constant")
            return v;
          return arith::SelectOp::create(b, l, inside, v, padValue);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

/// resize: per resized dim, the output coordinate maps back to a source
/// coordinate (coordinate_transformation_mode); nearest picks one source
/// element, linear and cubic blend 2 or 4 neighbours per dim (edges clamp).
struct ResizeLowering : OpConversionPattern<ResizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(ResizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value input = adaptor.getInput();
    RankedTensorType type = convertTensorType(op.getType());
    Type element = type.getElementType();
    int64_t rank = type.getRank();
    StringRef mode = op.getMode(),
              transform = op.getCoordinateTransformationMode(),
              nearest = op.getNearestMode();
    if (!isa<FloatType>(element) && mode != "nearest")
      return rewriter.notifyMatchFailure(op, "linear/cubic need floats");
    SmallVector<OpFoldResult> inputDims = getDims(rewriter, loc, input);

    // Per dim: input extent, output extent and scale (all f64 / index).
    SmallVector<Value> inSizes, scales;
    SmallVector<OpFoldResult> dims;
    for (int64_t d = 0; d < rank; ++d) {
      Value in = getValueOrCreateConstantIndexOp(rewriter, loc, inputDims[d]);
      Value inF = toF64(rewriter, loc, in);
      Value out, scale;
      if (adaptor.getSizes()) {
        out = toIndex(rewriter, loc,
                      extractAt(rewriter, loc, adaptor.getSizes(), d));
        scale = arith::DivFOp::create(rewriter, loc, toF64(rewriter, loc, out),
                                      inF);
      } else {
        scale = toF64(rewriter, loc,
                      extractAt(rewriter, loc, adaptor.getScales(), d));
        Value scaled = math::FloorOp::create(
            rewriter, loc, arith::MulFOp::create(rewriter, loc, inF, scale));
        out = arith::IndexCastOp::create(
            rewriter, loc, rewriter.getIndexType(),
            arith::FPToSIOp::create(rewriter, loc, rewriter.getI64Type(),
                                    scaled));
      }
      inSizes.push_back(in);
      scales.push_back(scale);
      dims.push_back(type.isDynamicDim(d)
                         ? OpFoldResult(out)
                         : rewriter.getIndexAttr(type.getDimSize(d)));
    }
    SmallVector<Value> roi;
    if (adaptor.getRoi() && transform == "tf_crop_and_resize")
      for (int64_t i = 0; i < 2 * rank; ++i)
        roi.push_back(toF64(rewriter, loc,
                            extractAt(rewriter, loc, adaptor.getRoi(), i)));
    double cubicA = op.getCubicCoeffAAttr().getValueAsDouble();
    bool excludeOutside = op.getExcludeOutside();
    double extrapolation = op.getExtrapolationValueAttr().getValueAsDouble();
    SmallVector<int64_t> outShape(type.getShape());

    Value result = generateTensor(
        rewriter, loc, type, dims,
        [&](OpBuilder &b, Location l, ArrayRef<Value> indices) -> Value {
          auto f = [&](double v) {
            return scalarConstant(b, l, b.getF64Type(), v);
          };
          Value zeroI = arith::ConstantIndexOp::create(b, l, 0);
          Value outside = scalarConstant(b, l, b.getI1Type(), 0);
          // Per dim: the neighbours read and their weights.
          SmallVector<SmallVector<std::pair<Value, Value>>> taps(rank);
          for (int64_t d = 0; d < rank; ++d) {
            Value o = toF64(b, l, indices[d]);
            Value inF = toF64(b, l, inSizes[d]);
            Value s = scales[d];
            // The transforms use the unrounded resized length in * scale.
            Value outF = arith::MulFOp::create(b, l, inF, s);
            Value x;
            if (transform == "asymmetric") {
              x = arith::DivFOp::create(b, l, o, s);
            } else if (transform == "tf_half_pixel_for_nn") {
              x = arith::DivFOp::create(
                  b, l, arith::AddFOp::create(b, l, o, f(0.5)), s);
            } else if (transform == "align_corners") {
              Value ratio = arith::DivFOp::create(
                  b, l, arith::SubFOp::create(b, l, inF, f(1)),
                  arith::MaximumFOp::create(
                      b, l, arith::SubFOp::create(b, l, outF, f(1)), f(1)));
              Value single = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OLE, outF, f(1));
              x = arith::SelectOp::create(
                  b, l, single, f(0), arith::MulFOp::create(b, l, o, ratio));
            } else if (transform == "tf_crop_and_resize" && !roi.empty()) {
              Value start = roi[d], end = roi[d + rank];
              Value span = arith::MulFOp::create(
                  b, l, arith::SubFOp::create(b, l, end, start),
                  arith::SubFOp::create(b, l, inF, f(1)));
              Value step = arith::DivFOp::create(
                  b, l, span,
                  arith::MaximumFOp::create(
                      b, l, arith::SubFOp::create(b, l, outF, f(1)), f(1)));
              Value first = arith::MulFOp::create(
                  b, l, start, arith::SubFOp::create(b, l, inF, f(1)));
              Value single = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OLE, outF, f(1));
              Value middle = arith::MulFOp::create(
                  b, l, f(0.5),
                  arith::MulFOp::create(
                      b, l, arith::AddFOp::create(b, l, start, end),
                      arith::SubFOp::create(b, l, inF, f(1))));
              x = arith::SelectOp::create(
                  b, l, single, middle,
                  arith::AddFOp::create(b, l, first,
                                        arith::MulFOp::create(b, l, o, step)));
              Value below = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OLT, x, f(0));
              Value above =
                  arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGT, x,
                                        arith::SubFOp::create(b, l, inF, f(1)));
              outside = arith::OrIOp::create(
                  b, l, outside, arith::OrIOp::create(b, l, below, above));
            } else {
              // half_pixel and its variants.
              Value centre = arith::SubFOp::create(
                  b, l,
                  arith::DivFOp::create(
                      b, l, arith::AddFOp::create(b, l, o, f(0.5)), s),
                  f(0.5));
              if (transform == "pytorch_half_pixel") {
                Value single = arith::CmpFOp::create(
                    b, l, arith::CmpFPredicate::OLE, outF, f(1));
                x = arith::SelectOp::create(b, l, single, f(0), centre);
              } else if (transform == "half_pixel_symmetric") {
                Value adjustment = arith::DivFOp::create(
                    b, l, outF, arith::MulFOp::create(b, l, s, inF));
                Value offset = arith::MulFOp::create(
                    b, l, arith::MulFOp::create(b, l, inF, f(0.5)),
                    arith::SubFOp::create(b, l, f(1), adjustment));
                x = arith::AddFOp::create(b, l, offset, centre);
              } else {
                x = centre;
              }
            }
            Value last = arith::SubIOp::create(
                b, l, inSizes[d], arith::ConstantIndexOp::create(b, l, 1));
            auto clampIndex = [&](Value v) -> Value {
              Value i = arith::IndexCastOp::create(
                  b, l, b.getIndexType(),
                  arith::FPToSIOp::create(b, l, b.getI64Type(), v));
              return arith::MinSIOp::create(
                  b, l, arith::MaxSIOp::create(b, l, i, zeroI), last);
            };
            if (mode == "nearest") {
              Value r;
              if (nearest == "floor")
                r = math::FloorOp::create(b, l, x);
              else if (nearest == "ceil")
                r = math::CeilOp::create(b, l, x);
              else if (nearest == "round_prefer_ceil")
                r = math::FloorOp::create(
                    b, l, arith::AddFOp::create(b, l, x, f(0.5)));
              else // round_prefer_floor
                r = math::CeilOp::create(
                    b, l, arith::SubFOp::create(b, l, x, f(0.5)));
              taps[d].push_back({clampIndex(r), f(1)});
              continue;
            }
            Value base = math::FloorOp::create(b, l, x);
            Value t = arith::SubFOp::create(b, l, x, base);
            if (mode == "linear") {
              taps[d].push_back(
                  {clampIndex(base), arith::SubFOp::create(b, l, f(1), t)});
              taps[d].push_back(
                  {clampIndex(arith::AddFOp::create(b, l, base, f(1))), t});
              continue;
            }
            // cubic: Keys kernel with coefficient A on the 4 neighbours.
            auto kernel = [&](Value dist) -> Value {
              Value a = f(cubicA);
              Value d1 = math::AbsFOp::create(b, l, dist);
              Value d2 = arith::MulFOp::create(b, l, d1, d1);
              Value d3 = arith::MulFOp::create(b, l, d2, d1);
              // |d| <= 1: (A+2)|d|^3 - (A+3)|d|^2 + 1
              Value near = arith::AddFOp::create(
                  b, l,
                  arith::SubFOp::create(
                      b, l, arith::MulFOp::create(b, l, f(cubicA + 2), d3),
                      arith::MulFOp::create(b, l, f(cubicA + 3), d2)),
                  f(1));
              // 1 < |d| < 2: A|d|^3 - 5A|d|^2 + 8A|d| - 4A
              Value far = arith::SubFOp::create(
                  b, l,
                  arith::AddFOp::create(
                      b, l,
                      arith::SubFOp::create(
                          b, l, arith::MulFOp::create(b, l, a, d3),
                          arith::MulFOp::create(b, l, f(5 * cubicA), d2)),
                      arith::MulFOp::create(b, l, f(8 * cubicA), d1)),
                  f(4 * cubicA));
              Value isNear = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OLE, d1, f(1));
              Value isFar = arith::CmpFOp::create(
                  b, l, arith::CmpFPredicate::OLT, d1, f(2));
              return arith::SelectOp::create(
                  b, l, isNear, near,
                  arith::SelectOp::create(b, l, isFar, far, f(0)));
            };
            SmallVector<Value> weights, positions;
            Value total = f(0);
            for (int k = -1; k <= 2; ++k) {
              Value p = arith::AddFOp::create(b, l, base, f(k));
              Value w = kernel(arith::SubFOp::create(b, l, x, p));
              if (excludeOutside) {
                Value in = arith::AndIOp::create(
                    b, l,
                    arith::CmpFOp::create(b, l, arith::CmpFPredicate::OGE, p,
                                          f(0)),
                    arith::CmpFOp::create(
                        b, l, arith::CmpFPredicate::OLE, p,
                        arith::SubFOp::create(b, l, inF, f(1))));
                w = arith::SelectOp::create(b, l, in, w, f(0));
              }
              total = arith::AddFOp::create(b, l, total, w);
              weights.push_back(w);
              positions.push_back(clampIndex(p));
            }
            for (int k = 0; k < 4; ++k) {
              Value w =
                  excludeOutside
                      ? (Value)arith::DivFOp::create(b, l, weights[k], total)
                      : weights[k];
              taps[d].push_back({positions[k], w});
            }
          }
          // Sum over every combination of taps.
          Value sum = f(0);
          SmallVector<size_t> choice(rank, 0);
          while (true) {
            SmallVector<Value> at;
            Value weight = f(1);
            for (int64_t d = 0; d < rank; ++d) {
              at.push_back(taps[d][choice[d]].first);
              weight = arith::MulFOp::create(b, l, weight,
                                             taps[d][choice[d]].second);
            }
            Value v = tensor::ExtractOp::create(b, l, input, at);
            if (mode == "nearest") {
              // One tap per dim: no blending, keep the element's type.
              if (!roi.empty())
                v = arith::SelectOp::create(
                    b, l, outside, scalarConstant(b, l, element, extrapolation),
                    v);
              return v;
            }
            sum = arith::AddFOp::create(
                b, l, sum, arith::MulFOp::create(b, l, weight, toF64(b, l, v)));
            int64_t d = rank - 1;
            while (d >= 0 && ++choice[d] == taps[d].size())
              choice[d--] = 0;
            if (d < 0)
              break;
          }
          if (!roi.empty())
            sum = arith::SelectOp::create(b, l, outside, f(extrapolation), sum);
          return element.isF64()
                     ? sum
                     : (Value)arith::TruncFOp::create(b, l, element, sum);
        });
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void to_linalg::populatePadResizePatterns(KilnTypeConverter &converter,
                                          RewritePatternSet &patterns) {
  patterns.add<PadLowering, ResizeLowering>(converter, patterns.getContext());
}
