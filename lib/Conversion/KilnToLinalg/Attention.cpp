//===- Attention.cpp - kiln.attention and kiln.rotary to linalg ----------===//
//
// kiln.attention lowers to one of two online-softmax loops; both keep every
// temporary tile-sized, so memory does not grow with Sq * Sk. For a key tile
// of scores s they update the running row maximum m, the running softmax
// denominator l and the unnormalized output acc:
//
//   s     = scale * q_tile k_tile^T, masked        [tq, tk]
//   m'    = max(m, rowmax(s))
//   p     = exp(s - m')
//   c     = exp(m - m')
//   l'    = c * l + rowsum(p)
//   acc'  = c * acc + p v_tile                     [tq, dv]
//
// and write acc / l.
//
// - Many query rows (prefill, encoders): an scf.forall over (batch dims...,
//   query tile), each iteration walking the key/value tiles with an scf.for
//   that carries (m, l, acc).
// - Few query rows (a decoder's token step): flash-decoding. An scf.forall
//   over (batch dims..., key/value head, key chunk) computes each chunk's
//   (m, l, acc) for all query heads sharing that key/value head at once,
//   reading each key and value row once and in place; a merge rescales the
//   chunks to the global maximum. The work is spread over the cache's
//   length, not only over the heads.
//
// A query length known only at run time (one library for prefill and
// decoding) picks between the two with an scf.if.
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
/// Up to this many query rows take the flash-decoding path.
static constexpr int64_t kDecodeRows = 16;
/// Keys per chunk of the flash-decoding path: a GPT-2-small layer after 512
/// tokens has 12 heads x 3 chunks to spread over the threads.
static constexpr int64_t kDecodeChunk = 256;
/// Keys per tile of the tiled path when its query has few rows (an
/// attention without heads, which flash-decoding does not take).
static constexpr int64_t kDecodeLongKeyTile = 2048;

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

using utils::IteratorType;
constexpr IteratorType kPar = IteratorType::parallel,
                       kRed = IteratorType::reduction;

/// exp(x - maxValue), exactly 1 where x equals it (both -inf included).
Value shiftedExp(OpBuilder &b, Location l, Type element, Value x,
                 Value maxValue) {
  Value same =
      arith::CmpFOp::create(b, l, arith::CmpFPredicate::OEQ, x, maxValue);
  Value e = math::ExpOp::create(b, l, arith::SubFOp::create(b, l, x, maxValue));
  return arith::SelectOp::create(b, l, same, scalarConstant(b, l, element, 1),
                                 e);
}

/// exp(x - maxValue), 0 where maxValue is -inf (every score masked to -inf).
Value probability(OpBuilder &b, Location l, Type element, Value x,
                  Value maxValue) {
  Value isInf = arith::CmpFOp::create(
      b, l, arith::CmpFPredicate::OEQ, maxValue,
      extremeConstant(b, l, element, /*lowest=*/true, /*isUnsigned=*/false));
  return arith::SelectOp::create(b, l, isInf, scalarConstant(b, l, element, 0),
                                 shiftedExp(b, l, element, x, maxValue));
}

/// The running max's combiner. The max only keeps exp from overflowing, so
/// it is a max without NaN semantics (maxnumf, nnan): a plain vmaxps that
/// LLVM vectorizes as a reduction, where maximumf's NaN checks keep it a
/// scalar chain. Scores with NaNs give unspecified rows, as in other
/// runtimes' softmax kernels.
Value runningMax(OpBuilder &b, Location l, Value x, Value m) {
  return arith::MaxNumFOp::create(b, l, x, m, arith::FastMathFlags::nnan);
}

Value mulAdd(OpBuilder &b, Location l, ValueRange a) {
  return arith::AddFOp::create(b, l, a[2],
                               arith::MulFOp::create(b, l, a[0], a[1]));
}

/// The operands of one kiln.attention, converted.
struct AttentionParts {
  Value q, k, v, mask;
  SmallVector<OpFoldResult> qDims, kDims, vDims, outDims;
  RankedTensorType resultType;
  Type element;
  /// The leading dims (batch..., heads): rank - 2.
  int64_t batch;
  double scale;
  /// The value a bool mask writes where it hides a score.
  std::optional<double> fill;
};

/// scale * score, masked by `a[1]` when the generic has a mask operand.
Value scaledScore(OpBuilder &b, Location l, const AttentionParts &p,
                  ValueRange a) {
  Value x = arith::MulFOp::create(b, l, a[0],
                                  scalarConstant(b, l, p.element, p.scale));
  if (a.size() <= 2)
    return x;
  if (p.fill)
    return arith::SelectOp::create(b, l, a[1],
                                   scalarConstant(b, l, p.element, *p.fill), x);
  return arith::AddFOp::create(b, l, x, a[1]);
}

/// Grouped-query attention: query heads per key/value head (query head h
/// reads key/value head h / group); a constant when both head counts are.
/// Needs a heads dim (batch >= 1).
OpFoldResult queryHeadsPerKVHead(OpBuilder &b, Location loc,
                                 const AttentionParts &p) {
  OpFoldResult qHeads = p.qDims[p.batch - 1], kvHeads = p.kDims[p.batch - 1];
  std::optional<int64_t> q = getConstantIntValue(qHeads),
                         kv = getConstantIntValue(kvHeads);
  if (q && kv)
    return b.getIndexAttr(*q / *kv);
  return arith::DivUIOp::create(
             b, loc, getValueOrCreateConstantIndexOp(b, loc, qHeads),
             getValueOrCreateConstantIndexOp(b, loc, kvHeads))
      .getResult();
}

/// Where a window of the scores lies along score dim `sd`: its offset and
/// size, and the window loop that runs along it (null: the window is one
/// wide there, and the mask slice drops the dim).
struct DimWindow {
  OpFoldResult offset, size;
  AffineExpr loop;
};

/// The slice of the mask that broadcasts onto a window of the scores, and
/// its map over the window's `loops` loops. The slice keeps the mask's
/// element type; a stretched dim (extent 1) stays at offset 0.
std::pair<Value, AffineMap>
maskWindow(TileBuilder &t, const AttentionParts &p, unsigned loops,
           function_ref<DimWindow(int64_t)> window) {
  auto maskType = cast<RankedTensorType>(p.mask.getType());
  int64_t offset = p.batch + 2 - maskType.getRank();
  OpFoldResult zero = t.b.getIndexAttr(0), one = t.b.getIndexAttr(1);
  SmallVector<OpFoldResult> offsets, sizes;
  SmallVector<int64_t> kept;
  SmallVector<AffineExpr> exprs;
  for (int64_t md = 0; md < maskType.getRank(); ++md) {
    DimWindow w = window(md + offset);
    bool stretched = maskType.getDimSize(md) == 1;
    offsets.push_back(stretched ? zero : w.offset);
    sizes.push_back(stretched ? one : w.size);
    if (w.loop) {
      kept.push_back(md);
      exprs.push_back(stretched ? getAffineConstantExpr(0, t.b.getContext())
                                : w.loop);
    }
  }
  return {t.slice(p.mask, offsets, sizes, kept),
          AffineMap::get(loops, 0, exprs, t.b.getContext())};
}

/// Many query rows: a parallel loop over (batch dims..., query tile) around
/// a sequential loop over key tiles that carries (m, l, acc). `fewRows`:
/// the query may have as few as kDecodeRows rows at run time, which then
/// take long key tiles (each key tile step costs a dozen small ops and
/// their buffers).
Value buildTiledAttention(OpBuilder &rewriter, Location loc,
                          const AttentionParts &p, bool fewRows) {
  MLIRContext *context = rewriter.getContext();
  Value q = p.q, k = p.k, v = p.v, mask = p.mask;
  Type element = p.element;
  int64_t batch = p.batch, rank = batch + 2;
  OpFoldResult sq = p.qDims[batch], sk = p.kDims[batch], d = p.qDims[batch + 1],
               dv = p.vDims[batch + 1];
  // Grouped-query attention: query head h reads key/value head h / group
  // (no division where the group is a constant 1).
  Value group;
  if (batch >= 1) {
    OpFoldResult perKV = queryHeadsPerKVHead(rewriter, loc, p);
    if (!isConstantIntValue(perKV, 1))
      group = getValueOrCreateConstantIndexOp(rewriter, loc, perKV);
  }
  Value out = emptyTensor(rewriter, loc, p.resultType, p.outDims);

  // K transposed to [batch..., d, sk] once: each key tile of the score
  // product is then a row-major matrix that the kernel reads in place,
  // instead of a strided one packed again for every query tile.
  SmallVector<int64_t> perm = llvm::to_vector(llvm::seq<int64_t>(0, rank));
  std::swap(perm[batch], perm[batch + 1]);
  SmallVector<OpFoldResult> kTDims(p.kDims);
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
  SmallVector<OpFoldResult> ubs(p.qDims.begin(), p.qDims.begin() + batch);
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
  OpFoldResult zero = rewriter.getIndexAttr(0), one = rewriter.getIndexAttr(1);

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
    keyTile = kDecodeLongKeyTile;
  Value c0 = t.index(0), kStep = t.index(keyTile);
  if (!staticRows && fewRows) {
    Value few = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::ule,
                                      t.value(sq), t.index(kDecodeRows));
    kStep = arith::SelectOp::create(rewriter, loc, few,
                                    t.index(kDecodeLongKeyTile), kStep);
  }

  // One key tile's step of the online softmax: the new (m, l, acc).
  auto step = [&](OpBuilder &b, Location l, OpFoldResult tk, Value qTile,
                  Value kTile, Value vTile, Value maskTile, AffineMap maskMap,
                  Value m, Value sum, Value acc) -> SmallVector<Value> {
    TileBuilder s{b, l, element};
    Value zeroTile = s.filled({tq, tk}, scalarConstant(b, l, element, 0));
    // s = q k^T over (i, j, c); the key tile is k^T's [c][j].
    Value scores =
        s.generic(zeroTile, {qTile, kTile},
                  {map(3, {dim(0), dim(2)}), map(3, {dim(2), dim(1)}),
                   map(3, {dim(0), dim(1)})},
                  {kPar, kPar, kRed}, mulAdd);

    // Scale and mask.
    SmallVector<Value> inputs = {scores};
    SmallVector<AffineMap> maps = {map(2, {dim(0), dim(1)})};
    if (maskTile) {
      inputs.push_back(maskTile);
      maps.push_back(maskMap);
    }
    maps.push_back(map(2, {dim(0), dim(1)}));
    Value masked = s.generic(zeroTile, inputs, maps, {kPar, kPar},
                             [&](OpBuilder &nb, Location nl, ValueRange a) {
                               return scaledScore(nb, nl, p, a);
                             });

    // m' = max(m, rowmax(s)).
    Value mNew =
        s.generic(m, {masked}, {map(2, {dim(0), dim(1)}), map(2, {dim(0)})},
                  {kPar, kRed}, [](OpBuilder &nb, Location nl, ValueRange a) {
                    return runningMax(nb, nl, a[0], a[1]);
                  });
    Value prob = s.generic(
        zeroTile, {masked, mNew},
        {map(2, {dim(0), dim(1)}), map(2, {dim(0)}), map(2, {dim(0), dim(1)})},
        {kPar, kPar}, [&](OpBuilder &nb, Location nl, ValueRange a) {
          return probability(nb, nl, element, a[0], a[1]);
        });
    // c = exp(m - m') (1 while both are -inf).
    Value correction =
        s.generic(s.filled({tq}, scalarConstant(b, l, element, 0)), {m, mNew},
                  {map(1, {dim(0)}), map(1, {dim(0)}), map(1, {dim(0)})},
                  {kPar}, [&](OpBuilder &nb, Location nl, ValueRange a) {
                    return shiftedExp(nb, nl, element, a[0], a[1]);
                  });
    // l' = c * l + rowsum(p).
    Value scaledSum =
        s.generic(sum, {correction}, {map(1, {dim(0)}), map(1, {dim(0)})},
                  {kPar}, [](OpBuilder &nb, Location nl, ValueRange a) {
                    return (Value)arith::MulFOp::create(nb, nl, a[0], a[1]);
                  });
    Value sumNew = s.generic(
        scaledSum, {prob}, {map(2, {dim(0), dim(1)}), map(2, {dim(0)})},
        {kPar, kRed}, [](OpBuilder &nb, Location nl, ValueRange a) {
          return (Value)arith::AddFOp::create(nb, nl, a[1], a[0]);
        });
    // acc' = c * acc + p v.
    Value scaledAcc = s.generic(
        acc, {correction}, {map(2, {dim(0)}), map(2, {dim(0), dim(1)})},
        {kPar, kPar}, [](OpBuilder &nb, Location nl, ValueRange a) {
          return (Value)arith::MulFOp::create(nb, nl, a[0], a[1]);
        });
    Value accNew =
        s.generic(scaledAcc, {prob, vTile},
                  {map(3, {dim(0), dim(2)}), map(3, {dim(2), dim(1)}),
                   map(3, {dim(0), dim(1)})},
                  {kPar, kPar, kRed}, mulAdd);
    return {mNew, sumNew, accNew};
  };

  // Whether to skip a key tile: every mask entry of the tile hides its
  // score and, for a finite fill, every row's running max m is at least
  // 104 above it. Null when the mask cannot hide a whole tile exactly.
  auto skipCondition = [&](OpBuilder &b, Location l, Value maskTile,
                           Value m) -> Value {
    if (!maskTile)
      return Value();
    std::optional<double> fill = p.fill;
    Type maskElement = getElementTypeOrSelf(maskTile.getType());
    // Every entry of the tile (its stretched dims have extent 1).
    unsigned tileRank = cast<RankedTensorType>(maskTile.getType()).getRank();
    bool isBool = maskElement.isInteger(1);
    if (isBool != fill.has_value() || (!isBool && !isa<FloatType>(maskElement)))
      return Value();
    // visible = any entry that does not hide its score (a NaN counts as
    // visible), reduced over the whole tile into a 0-d tensor.
    Type i1 = b.getI1Type();
    TileBuilder bits{b, l, i1};
    Value anyVisible = bits.generic(
        bits.filled({}, arith::ConstantIntOp::create(b, l, i1, 0)), {maskTile},
        {b.getMultiDimIdentityMap(tileRank), map(tileRank, {})},
        SmallVector<IteratorType>(tileRank, kRed),
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
                  {m}, {map(1, {dim(0)}), map(1, {})}, {kRed},
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
            staticRows || !fewRows
                ? s.tileSize(j0, sk, keyTile)
                : OpFoldResult(arith::MinSIOp::create(
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
        if (mask)
          std::tie(maskTile, maskMap) =
              maskWindow(s, p, 2, [&](int64_t sd) -> DimWindow {
                if (sd < batch)
                  return {ivs[sd], one, AffineExpr()};
                if (sd == batch)
                  return {i0, tq, dim(0)};
                return {j0, tk, dim(1)};
              });

        // A key tile that the mask hides from every query row of this tile
        // (a causal mask's tiles above the diagonal) is skipped. That is
        // exact where its probabilities are exactly 0: masked scores of
        // -inf, or a finite fill at least 104 below the running max of
        // every row (exp underflows in f32; the row max then stays).
        Value skip = skipCondition(b, l, maskTile, m);
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
      {kPar, kPar}, [](OpBuilder &nb, Location nl, ValueRange a) {
        return (Value)arith::DivFOp::create(nb, nl, a[0], a[1]);
      });
  auto [outOffsets, outSizes] = window(i0, tq, dv);
  SmallVector<OpFoldResult> strides(rank, one);
  rewriter.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(rewriter, loc, tile,
                                        forall.getRegionIterArgs()[0],
                                        outOffsets, outSizes, strides);
  return forall.getResult(0);
}

/// Few query rows (batch >= 1, so there is a heads dim): flash-decoding.
/// The keys split into chunks of kDecodeChunk. One parallel iteration per
/// (batch dims..., key/value head, chunk) computes the chunk's m, l and acc
/// for the `group` query heads that read that key/value head, as
/// [group, Sq, ...] tiles, so each key and value row is read once per group
/// and in place (no K^T). The merge then rescales the chunks to the global
/// max M = max_c m_c: out = sum_c w_c acc_c / sum_c w_c l_c with
/// w_c = exp(m_c - M).
Value buildDecodeAttention(OpBuilder &b, Location loc,
                           const AttentionParts &p) {
  MLIRContext *context = b.getContext();
  int64_t batch = p.batch, headDim = batch - 1;
  TileBuilder t{b, loc, p.element};
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  OpFoldResult sq = p.qDims[batch], sk = p.kDims[batch], d = p.qDims[batch + 1],
               dv = p.vDims[batch + 1];
  OpFoldResult group = queryHeadsPerKVHead(b, loc, p);
  OpFoldResult chunks;
  if (std::optional<int64_t> keys = getConstantIntValue(sk))
    chunks = b.getIndexAttr(llvm::divideCeil(*keys, kDecodeChunk));
  else
    chunks =
        arith::CeilDivUIOp::create(b, loc, t.value(sk), t.index(kDecodeChunk))
            .getResult();

  // The chunks' m and l [batch..., query heads, chunks, Sq] and acc
  // [..., Dv].
  SmallVector<OpFoldResult> partDims(p.qDims.begin(), p.qDims.begin() + batch);
  partDims.push_back(chunks);
  partDims.push_back(sq);
  SmallVector<OpFoldResult> accDims(partDims);
  accDims.push_back(dv);
  RankedTensorType partType = t.tensorType(partDims);
  Value mParts = emptyTensor(b, loc, partType, partDims);
  Value lParts = emptyTensor(b, loc, partType, partDims);
  Value accParts = emptyTensor(b, loc, t.tensorType(accDims), accDims);

  auto dim = [&](unsigned i) { return getAffineDimExpr(i, context); };
  auto map = [&](unsigned loops, ArrayRef<AffineExpr> exprs) {
    return AffineMap::get(loops, 0, exprs, context);
  };
  Value fzero = scalarConstant(b, loc, p.element, 0);
  Value negInf = extremeConstant(b, loc, p.element, /*lowest=*/true,
                                 /*isUnsigned=*/false);

  SmallVector<OpFoldResult> lbs(batch + 1, zero), steps(batch + 1, one);
  SmallVector<OpFoldResult> ubs(p.qDims.begin(), p.qDims.begin() + headDim);
  ubs.push_back(p.kDims[headDim]);
  ubs.push_back(chunks);
  auto forall =
      scf::ForallOp::create(b, loc, lbs, ubs, steps,
                            ValueRange{mParts, lParts, accParts}, std::nullopt);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(forall.getBody()->getTerminator());
    SmallVector<Value> ivs(forall.getInductionVars());
    Value kvHead = ivs[headDim], chunk = ivs[batch];
    Value h0 = arith::MulIOp::create(b, loc, kvHead, t.value(group));
    Value j0 = arith::MulIOp::create(b, loc, chunk, t.index(kDecodeChunk));
    OpFoldResult tk = t.tileSize(j0, sk, kDecodeChunk);
    auto offsets = [&](Value head, OpFoldResult row) {
      SmallVector<OpFoldResult> o(ivs.begin(), ivs.begin() + headDim);
      o.append({head, row, zero});
      return o;
    };
    auto sizes = [&](OpFoldResult heads, OpFoldResult rows, OpFoldResult cols) {
      SmallVector<OpFoldResult> s(headDim, one);
      s.append({heads, rows, cols});
      return s;
    };
    // [group, Sq, D] queries, [tk, D] keys and [tk, Dv] values.
    Value qGroup = t.slice(p.q, offsets(h0, zero), sizes(group, sq, d),
                           {headDim, batch, batch + 1});
    Value kTile = t.slice(p.k, offsets(kvHead, j0), sizes(one, tk, d),
                          {batch, batch + 1});
    Value vTile = t.slice(p.v, offsets(kvHead, j0), sizes(one, tk, dv),
                          {batch, batch + 1});

    // Over (r, i, j): query head r of the group, query row i, key j.
    Value zeroTile = t.filled({group, sq, tk}, fzero);
    AffineMap rij = map(3, {dim(0), dim(1), dim(2)}),
              ri = map(3, {dim(0), dim(1)});
    Value scores =
        t.generic(zeroTile, {qGroup, kTile},
                  {map(4, {dim(0), dim(1), dim(3)}), map(4, {dim(2), dim(3)}),
                   map(4, {dim(0), dim(1), dim(2)})},
                  {kPar, kPar, kPar, kRed}, mulAdd);
    SmallVector<Value> inputs = {scores};
    SmallVector<AffineMap> maps = {rij};
    if (p.mask) {
      auto [maskTile, maskMap] =
          maskWindow(t, p, 3, [&](int64_t sd) -> DimWindow {
            if (sd < headDim)
              return {ivs[sd], one, AffineExpr()};
            if (sd == headDim)
              return {h0, group, dim(0)};
            if (sd == batch)
              return {zero, sq, dim(1)};
            return {j0, tk, dim(2)};
          });
      inputs.push_back(maskTile);
      maps.push_back(maskMap);
    }
    maps.push_back(rij);
    Value masked = t.generic(zeroTile, inputs, maps, {kPar, kPar, kPar},
                             [&](OpBuilder &nb, Location nl, ValueRange a) {
                               return scaledScore(nb, nl, p, a);
                             });
    Value m = t.generic(t.filled({group, sq}, negInf), {masked}, {rij, ri},
                        {kPar, kPar, kRed},
                        [](OpBuilder &nb, Location nl, ValueRange a) {
                          return runningMax(nb, nl, a[0], a[1]);
                        });
    Value prob =
        t.generic(zeroTile, {masked, m}, {rij, ri, rij}, {kPar, kPar, kPar},
                  [&](OpBuilder &nb, Location nl, ValueRange a) {
                    return probability(nb, nl, p.element, a[0], a[1]);
                  });
    Value sum = t.generic(
        t.filled({group, sq}, fzero), {prob}, {rij, ri}, {kPar, kPar, kRed},
        [](OpBuilder &nb, Location nl, ValueRange a) {
          return (Value)arith::AddFOp::create(nb, nl, a[1], a[0]);
        });
    // acc over (r, i, e, j): e along Dv.
    Value acc =
        t.generic(t.filled({group, sq, dv}, fzero), {prob, vTile},
                  {map(4, {dim(0), dim(1), dim(3)}), map(4, {dim(3), dim(2)}),
                   map(4, {dim(0), dim(1), dim(2)})},
                  {kPar, kPar, kPar, kRed}, mulAdd);

    b.setInsertionPointToStart(forall.getTerminator().getBody());
    SmallVector<OpFoldResult> partOffsets(ivs.begin(), ivs.begin() + headDim);
    partOffsets.append({h0, chunk, zero});
    SmallVector<OpFoldResult> partSizes(headDim, one);
    partSizes.append({group, one, sq});
    SmallVector<OpFoldResult> strides(batch + 3, one);
    ValueRange shared = forall.getRegionIterArgs();
    tensor::ParallelInsertSliceOp::create(b, loc, m, shared[0], partOffsets,
                                          partSizes,
                                          ArrayRef(strides).drop_back());
    tensor::ParallelInsertSliceOp::create(b, loc, sum, shared[1], partOffsets,
                                          partSizes,
                                          ArrayRef(strides).drop_back());
    partOffsets.push_back(zero);
    partSizes.push_back(dv);
    tensor::ParallelInsertSliceOp::create(b, loc, acc, shared[2], partOffsets,
                                          partSizes, strides);
  }
  mParts = forall.getResult(0);
  lParts = forall.getResult(1);
  accParts = forall.getResult(2);

  // The merge, over (batch dims..., query head, i[, e], c).
  auto loopsMap = [&](unsigned loops, ArrayRef<unsigned> tail) {
    SmallVector<AffineExpr> exprs;
    for (unsigned i = 0; i < batch; ++i)
      exprs.push_back(dim(i));
    for (unsigned i : tail)
      exprs.push_back(dim(i));
    return map(loops, exprs);
  };
  auto iterators = [&](unsigned parallel, bool reduce) {
    SmallVector<IteratorType> its(parallel, kPar);
    if (reduce)
      its.push_back(kRed);
    return its;
  };
  unsigned i = batch, c = batch + 1;
  SmallVector<OpFoldResult> rowDims(p.qDims.begin(), p.qDims.begin() + batch);
  rowDims.push_back(sq);
  RankedTensorType rowType = t.tensorType(rowDims);
  // M over (..., i, c).
  Value mMax = t.generic(
      filledTensor(b, loc, rowType, rowDims, negInf), {mParts},
      {loopsMap(batch + 2, {c, i}), loopsMap(batch + 2, {i})},
      iterators(batch + 1, true), [](OpBuilder &nb, Location nl, ValueRange a) {
        return runningMax(nb, nl, a[0], a[1]);
      });
  // w over (..., c, i).
  unsigned wc = batch, wi = batch + 1;
  Value weights =
      t.generic(emptyTensor(b, loc, partType, partDims), {mParts, mMax},
                {loopsMap(batch + 2, {wc, wi}), loopsMap(batch + 2, {wi}),
                 loopsMap(batch + 2, {wc, wi})},
                iterators(batch + 2, false),
                [&](OpBuilder &nb, Location nl, ValueRange a) {
                  return probability(nb, nl, p.element, a[0], a[1]);
                });
  // sum_c w l over (..., i, c).
  Value denominator = t.generic(
      filledTensor(b, loc, rowType, rowDims, fzero), {weights, lParts},
      {loopsMap(batch + 2, {c, i}), loopsMap(batch + 2, {c, i}),
       loopsMap(batch + 2, {i})},
      iterators(batch + 1, true), mulAdd);
  // sum_c w acc over (..., i, e, c), divided by the denominator.
  unsigned e = batch + 1, ce = batch + 2;
  Value numerator = t.generic(
      filledTensor(b, loc, p.resultType, p.outDims, fzero), {weights, accParts},
      {loopsMap(batch + 3, {ce, i}), loopsMap(batch + 3, {ce, i, e}),
       loopsMap(batch + 3, {i, e})},
      iterators(batch + 2, true), mulAdd);
  return t.generic(emptyTensor(b, loc, p.resultType, p.outDims),
                   {numerator, denominator},
                   {loopsMap(batch + 2, {i, i + 1}), loopsMap(batch + 2, {i}),
                    loopsMap(batch + 2, {i, i + 1})},
                   iterators(batch + 2, false),
                   [](OpBuilder &nb, Location nl, ValueRange a) {
                     return (Value)arith::DivFOp::create(nb, nl, a[0], a[1]);
                   });
}

/// Whether the CPU attention kernel takes `op`: f32, at most two leading
/// dims, more than kDecodeRows query rows (a static count), static heads
/// where key/value heads are grouped, an f32 or bool mask.
bool takesAttentionKernel(AttentionOp op) {
  RankedTensorType q = op.getQuery().getType(), k = op.getKey().getType();
  int64_t rank = q.getRank();
  if (!q.getElementType().isF32() || rank > 4)
    return false;
  int64_t rows = q.getDimSize(rank - 2);
  if (ShapedType::isDynamic(rows) || rows <= kDecodeRows)
    return false;
  if (rank >= 3) {
    int64_t heads = q.getDimSize(rank - 3), kvHeads = k.getDimSize(rank - 3);
    if (heads != kvHeads &&
        (ShapedType::isDynamic(heads) || ShapedType::isDynamic(kvHeads) ||
         kvHeads <= 0 || heads % kvHeads != 0))
      return false;
  }
  if (Value mask = op.getMask()) {
    Type element = cast<RankedTensorType>(mask.getType()).getElementType();
    if (!element.isF32() && !element.isInteger(1))
      return false;
  }
  return true;
}

struct AttentionLowering : OpConversionPattern<AttentionOp> {
  AttentionLowering(const TypeConverter &converter, MLIRContext *context,
                    bool attentionKernel)
      : OpConversionPattern(converter, context),
        attentionKernel(attentionKernel) {}
  bool attentionKernel;

  LogicalResult
  matchAndRewrite(AttentionOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    AttentionParts p;
    p.q = adaptor.getQuery();
    p.k = adaptor.getKey();
    p.v = adaptor.getValue();
    p.mask = adaptor.getMask();
    p.resultType = convertTensorType(op.getType());
    p.element = p.resultType.getElementType();
    p.batch = p.resultType.getRank() - 2;
    p.qDims = getDims(rewriter, loc, p.q);
    p.kDims = getDims(rewriter, loc, p.k);
    p.vDims = getDims(rewriter, loc, p.v);
    p.outDims = p.qDims;
    p.outDims.back() = p.vDims.back();
    p.scale = op.getScale().convertToDouble();
    if (op.getMaskFill())
      p.fill = op.getMaskFill()->convertToDouble();

    if (attentionKernel && takesAttentionKernel(op)) {
      Value init = tensor::EmptyOp::create(rewriter, loc, p.outDims, p.element);
      auto fused = FlashAttentionOp::create(
          rewriter, loc, TypeRange{p.resultType}, p.q, p.k, p.v, init, p.mask,
          op.getScaleAttr(), op.getMaskFillAttr());
      rewriter.replaceOp(op, fused.getResult().front());
      return success();
    }

    // Flash-decoding needs a heads dim to spread the work over.
    OpFoldResult sq = p.qDims[p.batch];
    std::optional<int64_t> rows = getConstantIntValue(sq);
    Value result;
    if (p.batch < 1 || (rows && *rows > kDecodeRows))
      result = buildTiledAttention(rewriter, loc, p, /*fewRows=*/!rows);
    else if (rows)
      result = buildDecodeAttention(rewriter, loc, p);
    else {
      Value few = arith::CmpIOp::create(
          rewriter, loc, arith::CmpIPredicate::ule,
          getValueOrCreateConstantIndexOp(rewriter, loc, sq),
          arith::ConstantIndexOp::create(rewriter, loc, kDecodeRows));
      auto branch = scf::IfOp::create(rewriter, loc, TypeRange{p.resultType},
                                      few, /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(rewriter);
      rewriter.setInsertionPointToStart(branch.thenBlock());
      scf::YieldOp::create(rewriter, loc,
                           buildDecodeAttention(rewriter, loc, p));
      rewriter.setInsertionPointToStart(branch.elseBlock());
      scf::YieldOp::create(rewriter, loc,
                           buildTiledAttention(rewriter, loc, p,
                                               /*fewRows=*/false));
      result = branch.getResult(0);
    }
    rewriter.replaceOp(op, result);
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
                                          RewritePatternSet &patterns,
                                          bool attentionKernel) {
  patterns.add<AttentionLowering>(converter, patterns.getContext(),
                                  attentionKernel);
  patterns.add<RotaryLowering>(converter, patterns.getContext());
}
