//===- Attention.cpp - kiln.attention and kiln.rotary to linalg ----------===//
//
// kiln.attention becomes a flash-attention style loop: for every (batch
// dims..., query tile) an scf.forall iteration walks the key/value tiles with
// an scf.for that carries the running row maximum m, the running softmax
// denominator l and the unnormalized output tile acc:
//
//   s     = scale * q_tile k_tile^T, masked        [tq, tk]
//   m'    = max(m, rowmax(s))
//   p     = exp(s - m')
//   c     = exp(m - m')
//   l'    = c * l + rowsum(p)
//   acc'  = c * acc + p v_tile                     [tq, dv]
//
// and writes acc / l. Every temporary is tile-sized, so memory does not grow
// with Sq * Sk.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::to_linalg;

/// Rows of query and key/value per tile. (128 x 128 measured faster than
/// 64 x 64 and 64 x 256 on the MHA and GPT-2 blocks once the tile products
/// ran on microkernels; 128 x 256 became faster without a mask once K was
/// read in place.)
static constexpr int64_t kQueryTile = 128;
/// Without a mask, 256 keys per tile: each score product then packs its
/// query tile for twice the keys (MHA block 23.2 -> 22.1 ms). A mask keeps
/// 128, so that a causal mask hides whole tiles that are skipped (the GPT-2
/// block at 256 tokens was 2 % slower with 256).
static constexpr int64_t kKeyTile = 128;
static constexpr int64_t kUnmaskedKeyTile = 256;
/// A few query rows (a decoder's token step) take keys 2048 at a time:
/// each key tile step costs a dozen small ops and their buffers, which
/// dominated decoding with a long cache (GPT-style decoder, 512 past keys:
/// per layer and head four 128-key steps of about 16 us each).
static constexpr int64_t kDecodeRows = 16;
static constexpr int64_t kDecodeKeyTile = 2048;

namespace {

/// Builds one tile step's linalg ops.
struct TileBuilder {
  OpBuilder &b;
  Location loc;
  Type element;

  Value index(int64_t v) const {
    return arith::ConstantIndexOp::create(b, loc, v);
  }
  Value value(OpFoldResult ofr) const {
    if (auto v = dyn_cast<Value>(ofr))
      return v;
    return index(cast<IntegerAttr>(cast<Attribute>(ofr)).getInt());
  }
  /// The extent of the tile starting at `start` of a dim of extent `extent`:
  /// `tile` when every tile is full, else min(tile, extent - start).
  OpFoldResult tileSize(Value start, OpFoldResult extent, int64_t tile) const {
    std::optional<int64_t> size = getConstantIntValue(extent);
    if (size && *size % tile == 0)
      return b.getIndexAttr(tile);
    Value rest = arith::SubIOp::create(b, loc, value(extent), start);
    return arith::MinSIOp::create(b, loc, index(tile), rest).getResult();
  }
  RankedTensorType tensorType(ArrayRef<OpFoldResult> sizes) const {
    SmallVector<int64_t> shape;
    for (OpFoldResult s : sizes)
      shape.push_back(getConstantIntValue(s).value_or(ShapedType::kDynamic));
    return RankedTensorType::get(shape, element);
  }
  Value filled(ArrayRef<OpFoldResult> sizes, Value v) const {
    return filledTensor(b, loc, tensorType(sizes), sizes, v);
  }
  /// A rank-reduced slice of `source`: `offsets`/`sizes` for every dim, the
  /// result keeps the dims listed in `kept`.
  Value slice(Value source, ArrayRef<OpFoldResult> offsets,
              ArrayRef<OpFoldResult> sizes, ArrayRef<int64_t> kept) const {
    auto sourceType = cast<RankedTensorType>(source.getType());
    SmallVector<OpFoldResult> keptSizes;
    for (int64_t d : kept)
      keptSizes.push_back(sizes[d]);
    RankedTensorType type = tensorType(keptSizes);
    type = RankedTensorType::get(type.getShape(), sourceType.getElementType());
    SmallVector<OpFoldResult> strides(offsets.size(), b.getIndexAttr(1));
    return tensor::ExtractSliceOp::create(b, loc, type, source, offsets, sizes,
                                          strides);
  }
  /// A generic over `loops` loops; `maps` for inputs then the init.
  Value generic(Value init, ValueRange inputs, ArrayRef<AffineMap> maps,
                ArrayRef<utils::IteratorType> iterators,
                function_ref<Value(OpBuilder &, Location, ValueRange)> body) {
    return linalg::GenericOp::create(
               b, loc, TypeRange{init.getType()}, inputs, ValueRange{init},
               maps, iterators,
               [&](OpBuilder &nested, Location l, ValueRange args) {
                 linalg::YieldOp::create(nested, l, body(nested, l, args));
               })
        .getResult(0);
  }
};

struct AttentionLowering : OpConversionPattern<AttentionOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value q = adaptor.getQuery(), k = adaptor.getKey(), v = adaptor.getValue(),
          mask = adaptor.getMask();
    RankedTensorType resultType = convertTensorType(op.getType());
    Type element = resultType.getElementType();
    int64_t rank = resultType.getRank(), batch = rank - 2;
    SmallVector<OpFoldResult> qDims = getDims(rewriter, loc, q);
    SmallVector<OpFoldResult> kDims = getDims(rewriter, loc, k);
    SmallVector<OpFoldResult> vDims = getDims(rewriter, loc, v);
    OpFoldResult sq = qDims[batch], sk = kDims[batch], d = qDims[batch + 1],
                 dv = vDims[batch + 1];
    SmallVector<OpFoldResult> outDims(qDims);
    outDims.back() = dv;
    // Grouped-query attention: query head h reads key/value head h / group,
    // group = query heads / key heads (unless both are static and equal).
    Value group;
    if (batch >= 1) {
      std::optional<int64_t> qHeads = getConstantIntValue(qDims[batch - 1]),
                             kvHeads = getConstantIntValue(kDims[batch - 1]);
      if (!qHeads || !kvHeads || *qHeads != *kvHeads)
        group = arith::DivUIOp::create(
            rewriter, loc,
            getValueOrCreateConstantIndexOp(rewriter, loc, qDims[batch - 1]),
            getValueOrCreateConstantIndexOp(rewriter, loc, kDims[batch - 1]));
    }
    Value out = emptyTensor(rewriter, loc, resultType, outDims);

    // K transposed to [batch..., d, sk] once: each key tile of the score
    // product is then a row-major matrix that the kernel reads in place,
    // instead of a strided one packed again for every query tile.
    SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
    std::swap(perm[batch], perm[batch + 1]);
    SmallVector<OpFoldResult> kTDims(kDims);
    std::swap(kTDims[batch], kTDims[batch + 1]);
    auto kType = cast<RankedTensorType>(k.getType());
    SmallVector<int64_t> kTShape(kType.getShape());
    std::swap(kTShape[batch], kTShape[batch + 1]);
    Value kT =
        linalg::TransposeOp::create(
            rewriter, loc, k,
            emptyTensor(rewriter, loc,
                        RankedTensorType::get(kTShape, kType.getElementType()),
                        kTDims),
            perm)
            .getResult()[0];

    // One parallel iteration per (batch dims..., query tile).
    SmallVector<OpFoldResult> lbs(batch + 1, rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> ubs(qDims.begin(), qDims.begin() + batch);
    ubs.push_back(sq);
    SmallVector<OpFoldResult> steps(batch + 1, rewriter.getIndexAttr(1));
    steps.back() = rewriter.getIndexAttr(kQueryTile);
    auto forall = scf::ForallOp::create(rewriter, loc, lbs, ubs, steps,
                                        ValueRange{out}, std::nullopt);
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPoint(forall.getBody()->getTerminator());
    TileBuilder t{rewriter, loc, element};
    SmallVector<Value> ivs(forall.getInductionVars());
    Value i0 = ivs.back();
    OpFoldResult tq = t.tileSize(i0, sq, kQueryTile);
    OpFoldResult zero = rewriter.getIndexAttr(0),
                 one = rewriter.getIndexAttr(1);

    // Offsets and sizes of a [batch..., rows, cols] slice at this iteration.
    auto window = [&](OpFoldResult rowStart, OpFoldResult rows,
                      OpFoldResult cols) {
      SmallVector<OpFoldResult> offsets(ivs.begin(), ivs.end() - 1),
          sizes(batch, one);
      offsets.push_back(rowStart);
      offsets.push_back(zero);
      sizes.push_back(rows);
      sizes.push_back(cols);
      return std::pair{offsets, sizes};
    };
    // The same for key and value, whose head may be shared by a group.
    Value kvHead =
        group ? arith::DivUIOp::create(rewriter, loc, ivs[batch - 1], group)
                    .getResult()
              : Value();
    auto kvWindow = [&](OpFoldResult rowStart, OpFoldResult rows,
                        OpFoldResult cols) {
      auto offsetsAndSizes = window(rowStart, rows, cols);
      if (kvHead)
        offsetsAndSizes.first[batch - 1] = kvHead;
      return offsetsAndSizes;
    };
    SmallVector<int64_t> lastTwo = {batch, batch + 1};
    auto [qOffsets, qSizes] = window(i0, tq, d);
    Value qTile = t.slice(q, qOffsets, qSizes, lastTwo);

    // Maps over (i, j) and (i, j, c) loops.
    auto dim = [&](unsigned i) { return getAffineDimExpr(i, context); };
    auto map = [&](unsigned loops, ArrayRef<AffineExpr> exprs) {
      return AffineMap::get(loops, 0, exprs, context);
    };
    using utils::IteratorType;
    IteratorType par = IteratorType::parallel, red = IteratorType::reduction;

    Value negInf = extremeConstant(rewriter, loc, element, /*lowest=*/true,
                                   /*isUnsigned=*/false);
    Value fzero = scalarConstant(rewriter, loc, element, 0);
    Value m0 = t.filled({tq}, negInf);
    Value l0 = t.filled({tq}, fzero);
    Value acc0 = t.filled({tq, dv}, fzero);
    // The key tile: fixed when the query length is static, else chosen at
    // run time (one library serves prefill and decoding).
    int64_t keyTile = mask ? kKeyTile : kUnmaskedKeyTile;
    std::optional<int64_t> staticRows = getConstantIntValue(sq);
    if (staticRows && *staticRows <= kDecodeRows)
      keyTile = kDecodeKeyTile;
    Value c0 = t.index(0), kStep = t.index(keyTile);
    if (!staticRows) {
      Value few =
          arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ule,
                                t.value(sq), t.index(kDecodeRows));
      kStep = arith::SelectOp::create(rewriter, loc, few,
                                      t.index(kDecodeKeyTile), kStep);
    }
    double scale = op.getScale().convertToDouble();
    std::optional<double> fill;
    if (op.getMaskFill())
      fill = op.getMaskFill()->convertToDouble();

    // One key tile's step of the online softmax: the new (m, l, acc).
    auto step = [&](OpBuilder &b, Location l, OpFoldResult tk, Value qTile,
                    Value kTile, Value vTile, Value maskTile, AffineMap maskMap,
                    Value m, Value sum, Value acc) -> SmallVector<Value> {
      TileBuilder s{b, l, element};
      // s = q k^T over (i, j, c); the key tile is k^T's [c][j].
      Value scores = s.generic(
          s.filled({tq, tk}, scalarConstant(b, l, element, 0)), {qTile, kTile},
          {map(3, {dim(0), dim(2)}), map(3, {dim(2), dim(1)}),
           map(3, {dim(0), dim(1)})},
          {par, par, red}, [](OpBuilder &nb, Location nl, ValueRange a) {
            return (Value)arith::AddFOp::create(
                nb, nl, a[2], arith::MulFOp::create(nb, nl, a[0], a[1]));
          });

      // Scale and mask.
      SmallVector<Value> inputs = {scores};
      SmallVector<AffineMap> maps = {map(2, {dim(0), dim(1)})};
      if (maskTile) {
        inputs.push_back(maskTile);
        maps.push_back(maskMap);
      }
      maps.push_back(map(2, {dim(0), dim(1)}));
      Value masked = s.generic(
          s.filled({tq, tk}, scalarConstant(b, l, element, 0)), inputs, maps,
          {par, par}, [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value x = arith::MulFOp::create(
                nb, nl, a[0], scalarConstant(nb, nl, element, scale));
            if (a.size() > 2) {
              if (fill)
                x = arith::SelectOp::create(
                    nb, nl, a[1], scalarConstant(nb, nl, element, *fill), x);
              else
                x = arith::AddFOp::create(nb, nl, x, a[1]);
            }
            return x;
          });

      // m' = max(m, rowmax(s)). The running max only keeps exp from
      // overflowing, so it is a max without NaN semantics (maxnumf,
      // nnan): a plain vmaxps that LLVM vectorizes as a reduction, where
      // maximumf's NaN checks keep it a scalar chain. Scores with NaNs
      // give unspecified rows, as in other runtimes' softmax kernels.
      Value mNew =
          s.generic(m, {masked}, {map(2, {dim(0), dim(1)}), map(2, {dim(0)})},
                    {par, red}, [](OpBuilder &nb, Location nl, ValueRange a) {
                      return (Value)arith::MaxNumFOp::create(
                          nb, nl, a[0], a[1], arith::FastMathFlags::nnan);
                    });
      // exp(x - m'), 0 where m' is -inf (every score masked to -inf).
      auto shiftedExp = [&](OpBuilder &nb, Location nl, Value x,
                            Value maxValue) -> Value {
        Value same = arith::CmpFOp::create(nb, nl, arith::CmpFPredicate::OEQ, x,
                                           maxValue);
        Value e = math::ExpOp::create(
            nb, nl, arith::SubFOp::create(nb, nl, x, maxValue));
        return arith::SelectOp::create(nb, nl, same,
                                       scalarConstant(nb, nl, element, 1), e);
      };
      Value p = s.generic(
          s.filled({tq, tk}, scalarConstant(b, l, element, 0)), {masked, mNew},
          {map(2, {dim(0), dim(1)}), map(2, {dim(0)}),
           map(2, {dim(0), dim(1)})},
          {par, par}, [&](OpBuilder &nb, Location nl, ValueRange a) {
            Value isInf = arith::CmpFOp::create(
                nb, nl, arith::CmpFPredicate::OEQ, a[1],
                extremeConstant(nb, nl, element, true, false));
            return (Value)arith::SelectOp::create(
                nb, nl, isInf, scalarConstant(nb, nl, element, 0),
                shiftedExp(nb, nl, a[0], a[1]));
          });
      // c = exp(m - m') (1 while both are -inf).
      Value correction =
          s.generic(s.filled({tq}, scalarConstant(b, l, element, 0)), {m, mNew},
                    {map(1, {dim(0)}), map(1, {dim(0)}), map(1, {dim(0)})},
                    {par}, [&](OpBuilder &nb, Location nl, ValueRange a) {
                      return shiftedExp(nb, nl, a[0], a[1]);
                    });
      // l' = c * l + rowsum(p).
      Value scaledSum =
          s.generic(sum, {correction}, {map(1, {dim(0)}), map(1, {dim(0)})},
                    {par}, [](OpBuilder &nb, Location nl, ValueRange a) {
                      return (Value)arith::MulFOp::create(nb, nl, a[0], a[1]);
                    });
      Value sumNew = s.generic(
          scaledSum, {p}, {map(2, {dim(0), dim(1)}), map(2, {dim(0)})},
          {par, red}, [](OpBuilder &nb, Location nl, ValueRange a) {
            return (Value)arith::AddFOp::create(nb, nl, a[1], a[0]);
          });
      // acc' = c * acc + p v.
      Value scaledAcc = s.generic(
          acc, {correction}, {map(2, {dim(0)}), map(2, {dim(0), dim(1)})},
          {par, par}, [](OpBuilder &nb, Location nl, ValueRange a) {
            return (Value)arith::MulFOp::create(nb, nl, a[0], a[1]);
          });
      Value accNew = s.generic(
          scaledAcc, {p, vTile},
          {map(3, {dim(0), dim(2)}), map(3, {dim(2), dim(1)}),
           map(3, {dim(0), dim(1)})},
          {par, par, red}, [](OpBuilder &nb, Location nl, ValueRange a) {
            return (Value)arith::AddFOp::create(
                nb, nl, a[2], arith::MulFOp::create(nb, nl, a[0], a[1]));
          });
      return {mNew, sumNew, accNew};
    };

    // Whether to skip a key tile: every mask entry of the tile hides its
    // score and, for a finite fill, every row's running max m is at least
    // 104 above it. Null when the mask cannot hide a whole tile exactly.
    auto skipCondition = [&](OpBuilder &b, Location l, Value maskTile, Value m,
                             std::optional<double> fill) -> Value {
      if (!maskTile)
        return Value();
      Type maskElement = getElementTypeOrSelf(maskTile.getType());
      // Every entry of the tile (its stretched dims have extent 1).
      unsigned tileRank = cast<RankedTensorType>(maskTile.getType()).getRank();
      bool isBool = maskElement.isInteger(1);
      if (isBool != fill.has_value() ||
          (!isBool && !isa<FloatType>(maskElement)))
        return Value();
      // visible = any entry that does not hide its score (a NaN counts as
      // visible), reduced over the whole tile into a 0-d tensor.
      Type i1 = b.getI1Type();
      TileBuilder bits{b, l, i1};
      Value anyVisible = bits.generic(
          bits.filled({}, arith::ConstantIntOp::create(b, l, i1, 0)),
          {maskTile}, {b.getMultiDimIdentityMap(tileRank), map(tileRank, {})},
          SmallVector<IteratorType>(tileRank, red),
          [&](OpBuilder &nb, Location nl, ValueRange a) -> Value {
            Value visible =
                isBool ? (Value)arith::XOrIOp::create(
                             nb, nl, a[0],
                             arith::ConstantIntOp::create(nb, nl, i1, 1))
                       : (Value)arith::CmpFOp::create(
                             nb, nl, arith::CmpFPredicate::UNE, a[0],
                             extremeConstant(nb, nl, maskElement, true, false));
            return arith::OrIOp::create(nb, nl, a[1], visible);
          });
      Value skip = arith::XOrIOp::create(
          b, l, tensor::ExtractOp::create(b, l, anyVisible, ValueRange{}),
          arith::ConstantIntOp::create(b, l, i1, 1));
      if (!fill || std::isinf(*fill))
        return skip;
      // min over rows of m, against fill + 104.
      TileBuilder s{b, l, element};
      Value mMin =
          s.generic(s.filled({}, extremeConstant(b, l, element, false, false)),
                    {m}, {map(1, {dim(0)}), map(1, {})}, {red},
                    [](OpBuilder &nb, Location nl, ValueRange a) -> Value {
                      return arith::MinimumFOp::create(nb, nl, a[0], a[1]);
                    });
      Value safe = arith::CmpFOp::create(
          b, l, arith::CmpFPredicate::OGE,
          tensor::ExtractOp::create(b, l, mMin, ValueRange{}),
          scalarConstant(b, l, element, *fill + 104.0));
      return arith::AndIOp::create(b, l, skip, safe);
    };

    auto loop = scf::ForOp::create(
        rewriter, loc, c0, t.value(sk), kStep, ValueRange{m0, l0, acc0},
        [&](OpBuilder &b, Location l, Value j0, ValueRange carried) {
          TileBuilder s{b, l, element};
          Value m = carried[0], sum = carried[1], acc = carried[2];
          OpFoldResult tk =
              staticRows ? s.tileSize(j0, sk, keyTile)
                         : OpFoldResult(
                               arith::MinSIOp::create(
                                   b, l, kStep,
                                   arith::SubIOp::create(b, l, s.value(sk), j0))
                                   .getResult());
          auto [kOffsets, kSizes] = kvWindow(zero, d, tk);
          kOffsets.back() = j0;
          Value kTile = s.slice(kT, kOffsets, kSizes, lastTwo);
          auto [vOffsets, vSizes] = kvWindow(j0, tk, dv);
          Value vTile = s.slice(v, vOffsets, vSizes, lastTwo);

          // The slice of the mask that broadcasts onto this (batch..., rows,
          // cols) window, and its map over (i, j).
          Value maskTile;
          AffineMap maskMap;
          if (mask) {
            auto maskType = cast<RankedTensorType>(mask.getType());
            int64_t offset = rank - maskType.getRank();
            SmallVector<OpFoldResult> offsets, sizes;
            SmallVector<int64_t> kept;
            SmallVector<AffineExpr> exprs;
            for (int64_t md = 0; md < maskType.getRank(); ++md) {
              int64_t sd = md + offset;
              bool stretched = maskType.getDimSize(md) == 1;
              if (stretched) {
                offsets.push_back(zero);
                sizes.push_back(one);
              } else if (sd < batch) {
                offsets.push_back(ivs[sd]);
                sizes.push_back(one);
              } else {
                offsets.push_back(sd == batch ? OpFoldResult(i0)
                                              : OpFoldResult(j0));
                sizes.push_back(sd == batch ? tq : tk);
              }
              if (sd >= batch) {
                kept.push_back(md);
                exprs.push_back(stretched ? getAffineConstantExpr(0, context)
                                          : dim(sd - batch));
              }
            }
            // The slice keeps the mask's element type.
            maskTile = s.slice(mask, offsets, sizes, kept);
            maskMap = map(2, exprs);
          }

          // A key tile that the mask hides from every query row of this tile
          // (a causal mask's tiles above the diagonal) is skipped. That is
          // exact where its probabilities are exactly 0: masked scores of
          // -inf, or a finite fill at least 104 below the running max of
          // every row (exp underflows in f32; the row max then stays).
          Value skip = skipCondition(b, l, maskTile, m, fill);
          if (!skip) {
            scf::YieldOp::create(b, l,
                                 step(b, l, tk, qTile, kTile, vTile, maskTile,
                                      maskMap, m, sum, acc));
            return;
          }
          auto branch = scf::IfOp::create(b, l, TypeRange(carried), skip,
                                          /*withElseRegion=*/true);
          {
            OpBuilder::InsertionGuard inner(b);
            b.setInsertionPointToStart(branch.thenBlock());
            scf::YieldOp::create(b, l, carried);
            b.setInsertionPointToStart(branch.elseBlock());
            scf::YieldOp::create(b, l,
                                 step(b, l, tk, qTile, kTile, vTile, maskTile,
                                      maskMap, m, sum, acc));
          }
          scf::YieldOp::create(b, l, branch.getResults());
        });

    // out = acc / l, written into this iteration's window of the result.
    Value tile = t.generic(
        emptyTensor(rewriter, loc, t.tensorType({tq, dv}), {tq, dv}),
        {loop.getResult(2), loop.getResult(1)},
        {map(2, {dim(0), dim(1)}), map(2, {dim(0)}), map(2, {dim(0), dim(1)})},
        {par, par}, [](OpBuilder &nb, Location nl, ValueRange a) {
          return (Value)arith::DivFOp::create(nb, nl, a[0], a[1]);
        });
    auto [outOffsets, outSizes] = window(i0, tq, dv);
    SmallVector<OpFoldResult> strides(rank, one);
    rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
    tensor::ParallelInsertSliceOp::create(rewriter, loc, tile,
                                          forall.getRegionIterArgs()[0],
                                          outOffsets, outSizes, strides);
    rewriter.replaceOp(op, forall.getResult(0));
    return success();
  }
};

/// rotary: the two halves of the last dim written by one elementwise op
/// each, x1 * cos1 - x2 * sin1 and x2 * cos2 + x1 * sin2, into the halves of
/// the result (no rotated copy of the input).
struct RotaryLowering : OpConversionPattern<RotaryOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(RotaryOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = convertTensorType(op.getType());
    Value x = adaptor.getInput();
    int64_t rank = type.getRank();
    SmallVector<OpFoldResult> dims = getDims(rewriter, loc, x);
    OpFoldResult half;
    if (std::optional<int64_t> extent = getConstantIntValue(dims.back()))
      half = rewriter.getIndexAttr(*extent / 2);
    else
      half = arith::DivUIOp::create(
                 rewriter, loc, cast<Value>(dims.back()),
                 arith::ConstantIndexOp::create(rewriter, loc, 2))
                 .getResult();
    // The [start, start + half) part of the last dim of `v` (all of it when
    // that dim is a broadcast 1).
    auto halfOf = [&](Value v, OpFoldResult start) -> Value {
      auto vType = cast<RankedTensorType>(v.getType());
      if (vType.getShape().back() == 1)
        return v;
      SmallVector<OpFoldResult> offsets(vType.getRank(),
                                        rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes = getDims(rewriter, loc, v);
      SmallVector<OpFoldResult> strides(vType.getRank(),
                                        rewriter.getIndexAttr(1));
      offsets.back() = start;
      sizes.back() = half;
      SmallVector<int64_t> shape(vType.getShape());
      shape.back() = getConstantIntValue(half).value_or(ShapedType::kDynamic);
      return tensor::ExtractSliceOp::create(
                 rewriter, loc,
                 RankedTensorType::get(shape, vType.getElementType()), v,
                 offsets, sizes, strides)
          .getResult();
    };
    OpFoldResult zero = rewriter.getIndexAttr(0);
    Value x1 = halfOf(x, zero), x2 = halfOf(x, half);
    Value cos = adaptor.getCos(), sin = adaptor.getSin();
    SmallVector<int64_t> halfShape(type.getShape());
    halfShape.back() = getConstantIntValue(half).value_or(ShapedType::kDynamic);
    auto halfType = RankedTensorType::get(halfShape, type.getElementType());
    SmallVector<OpFoldResult> halfDims(dims);
    halfDims.back() = half;
    Value first = buildBroadcastGeneric(
        rewriter, loc, halfType, {x1, x2, halfOf(cos, zero), halfOf(sin, zero)},
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return arith::SubFOp::create(b, l,
                                       arith::MulFOp::create(b, l, a[0], a[2]),
                                       arith::MulFOp::create(b, l, a[1], a[3]));
        },
        halfDims);
    Value second = buildBroadcastGeneric(
        rewriter, loc, halfType, {x2, x1, halfOf(cos, half), halfOf(sin, half)},
        [](OpBuilder &b, Location l, ValueRange a) -> Value {
          return arith::AddFOp::create(b, l,
                                       arith::MulFOp::create(b, l, a[0], a[2]),
                                       arith::MulFOp::create(b, l, a[1], a[3]));
        },
        halfDims);
    SmallVector<OpFoldResult> offsets(rank, zero),
        strides(rank, rewriter.getIndexAttr(1));
    Value result = emptyTensor(rewriter, loc, type, dims);
    result = tensor::InsertSliceOp::create(rewriter, loc, first, result,
                                           offsets, halfDims, strides);
    offsets.back() = half;
    result = tensor::InsertSliceOp::create(rewriter, loc, second, result,
                                           offsets, halfDims, strides);
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

void to_linalg::populateAttentionPatterns(KilnTypeConverter &converter,
                                          RewritePatternSet &patterns) {
  patterns.add<AttentionLowering, RotaryLowering>(converter,
                                                  patterns.getContext());
}
