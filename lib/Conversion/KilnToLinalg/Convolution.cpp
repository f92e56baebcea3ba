//===- Convolution.cpp - kiln conv, conv_transpose and pools to linalg ----===//
//
// N-D convolutions and pools become linalg.generic ops over a padded input.
// Groups are made explicit dims (input N x G x C/G x ..., weight G x M/G x
// C/G x ...) so every indexing map stays a projected permutation plus the
// sliding-window expressions.
//
//===----------------------------------------------------------------------===//

#include "Utils.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::to_linalg;

/// Pads the spatial dims (2..) of `input` with `low`/`high` elements of
/// `value`; negative amounts crop instead.
static Value padSpatial(OpBuilder &b, Location loc, Value input,
                        ArrayRef<int64_t> low, ArrayRef<int64_t> high,
                        Value value) {
  auto type = cast<RankedTensorType>(input.getType());
  int64_t rank = type.getRank();
  // Crop first where a pad is negative.
  if (llvm::any_of(low, [](int64_t p) { return p < 0; }) ||
      llvm::any_of(high, [](int64_t p) { return p < 0; })) {
    SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
    SmallVector<OpFoldResult> sizes = getDims(b, loc, input);
    SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
    SmallVector<int64_t> shape(type.getShape());
    for (size_t i = 0; i < low.size(); ++i) {
      int64_t cropLow = std::max<int64_t>(0, -low[i]);
      int64_t cropHigh = std::max<int64_t>(0, -high[i]);
      offsets[i + 2] = b.getIndexAttr(cropLow);
      AffineExpr s0;
      bindSymbols(b.getContext(), s0);
      sizes[i + 2] = affine::makeComposedFoldedAffineApply(
          b, loc, s0 - cropLow - cropHigh, {sizes[i + 2]});
      if (!ShapedType::isDynamic(shape[i + 2]))
        shape[i + 2] -= cropLow + cropHigh;
    }
    input = tensor::ExtractSliceOp::create(
        b, loc, RankedTensorType::get(shape, type.getElementType()), input,
        offsets, sizes, strides);
    type = cast<RankedTensorType>(input.getType());
  }
  if (llvm::all_of(low, [](int64_t p) { return p <= 0; }) &&
      llvm::all_of(high, [](int64_t p) { return p <= 0; }))
    return input;
  SmallVector<int64_t> lowAll(rank, 0), highAll(rank, 0);
  SmallVector<int64_t> shape(type.getShape());
  for (size_t i = 0; i < low.size(); ++i) {
    lowAll[i + 2] = std::max<int64_t>(0, low[i]);
    highAll[i + 2] = std::max<int64_t>(0, high[i]);
    if (!ShapedType::isDynamic(shape[i + 2]))
      shape[i + 2] += lowAll[i + 2] + highAll[i + 2];
  }
  auto padType = RankedTensorType::get(shape, type.getElementType());
  return tensor::PadOp::create(
      b, loc, padType, input, getAsIndexOpFoldResult(b.getContext(), lowAll),
      getAsIndexOpFoldResult(b.getContext(), highAll), value);
}

/// The dims of the result of a window op over `input` with output type
/// `type`: batch and channel from `channelsFrom`, spatial from `type` or,
/// when dynamic, from the input's extent.
static SmallVector<OpFoldResult>
windowResultDims(OpBuilder &b, Location loc, RankedTensorType type, Value input,
                 OpFoldResult channels, ArrayRef<int64_t> kernel,
                 ArrayRef<int64_t> strides, ArrayRef<int64_t> dilations) {
  SmallVector<OpFoldResult> dims = {tensor::getMixedSize(b, loc, input, 0),
                                    channels};
  for (int64_t i = 0; i < type.getRank() - 2; ++i) {
    if (!type.isDynamicDim(i + 2)) {
      dims.push_back(b.getIndexAttr(type.getDimSize(i + 2)));
      continue;
    }
    // (padded - extent) / stride + 1 on the already padded input.
    AffineExpr s0;
    bindSymbols(b.getContext(), s0);
    int64_t extent = (kernel[i] - 1) * dilations[i] + 1;
    dims.push_back(affine::makeComposedFoldedAffineApply(
        b, loc, (s0 - extent).floorDiv(strides[i]) + 1,
        {tensor::getMixedSize(b, loc, input, i + 2)}));
  }
  return dims;
}

namespace {

/// conv: a generic over (n, g, m, o..., c, k...) on the zero-padded input,
/// accumulating into the broadcast bias (or zeros).
struct ConvLowering : OpConversionPattern<ConvOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConvOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    RankedTensorType type = convertTensorType(op.getType());
    Type element = type.getElementType();
    auto weightType = cast<RankedTensorType>(adaptor.getWeight().getType());
    int64_t spatial = type.getRank() - 2;
    int64_t groups = op.getGroup();
    int64_t m = weightType.getDimSize(0);
    int64_t cg = weightType.getDimSize(1);
    SmallVector<int64_t> kernel(weightType.getShape().drop_front(2));
    if (ShapedType::isDynamic(m) || ShapedType::isDynamic(cg) ||
        ShapedType::isDynamicShape(kernel))
      return rewriter.notifyMatchFailure(op, "weight needs a static shape");
    ArrayRef<int64_t> pads = op.getPads();
    Value zero = scalarConstant(rewriter, loc, element, 0);
    Value input =
        padSpatial(rewriter, loc, adaptor.getInput(), pads.take_front(spatial),
                   pads.drop_front(spatial), zero);
    SmallVector<OpFoldResult> dims =
        windowResultDims(rewriter, loc, type, input, rewriter.getIndexAttr(m),
                         kernel, op.getStrides(), op.getDilations());

    // Grouped views: input N x G x Cg x D..., weight G x Mg x Cg x K...,
    // result N x G x Mg x O....
    int64_t mg = m / groups;
    auto grouped = [&](Value v, RankedTensorType t, int64_t splitDim,
                       int64_t outer, int64_t inner) {
      // A channel dim that shape inference left dynamic (a Reshape to a
      // shape computed at run time) has the count the weight implies.
      if (t.isDynamicDim(splitDim)) {
        SmallVector<int64_t> refined(t.getShape());
        refined[splitDim] = outer * inner;
        t = RankedTensorType::get(refined, t.getElementType());
        v = tensor::CastOp::create(rewriter, loc, t, v);
      }
      SmallVector<int64_t> shape(t.getShape());
      shape[splitDim] = inner;
      shape.insert(shape.begin() + splitDim, outer);
      SmallVector<ReassociationIndices> groupsOf;
      for (int64_t d = 0; d < t.getRank(); ++d) {
        if (d < splitDim)
          groupsOf.push_back({d});
        else if (d == splitDim)
          groupsOf.push_back({d, d + 1});
        else
          groupsOf.push_back({d + 1});
      }
      SmallVector<OpFoldResult> sizes = getDims(rewriter, loc, v);
      sizes[splitDim] = rewriter.getIndexAttr(inner);
      sizes.insert(sizes.begin() + splitDim, rewriter.getIndexAttr(outer));
      return tensor::ExpandShapeOp::create(
                 rewriter, loc,
                 RankedTensorType::get(shape, t.getElementType()), v, groupsOf,
                 sizes)
          .getResult();
    };
    auto inputType = cast<RankedTensorType>(input.getType());
    Value groupedInput = grouped(input, inputType, 1, groups, cg);
    Value groupedWeight =
        grouped(adaptor.getWeight(), weightType, 0, groups, mg);

    // The accumulator starts as the bias (or zero), in the grouped shape.
    SmallVector<int64_t> outShape(type.getShape());
    outShape[1] = mg;
    outShape.insert(outShape.begin() + 1, groups);
    auto outType = RankedTensorType::get(outShape, element);
    SmallVector<OpFoldResult> outDims(dims);
    outDims[1] = rewriter.getIndexAttr(mg);
    outDims.insert(outDims.begin() + 1, rewriter.getIndexAttr(groups));
    // The accumulator starts as bias + residual (or zero), computed in the
    // result's shape and viewed in the grouped one.
    Value bias;
    if (adaptor.getBias()) {
      SmallVector<int64_t> biasShape(spatial + 1, 1);
      biasShape[0] = m;
      SmallVector<OpFoldResult> biasDims(spatial + 1, rewriter.getIndexAttr(1));
      biasDims[0] = rewriter.getIndexAttr(m);
      bias = reshapeTo(rewriter, loc, adaptor.getBias(),
                       RankedTensorType::get(biasShape, element), biasDims);
    }
    Value init = reshapeTo(
        rewriter, loc,
        epilogueInit(rewriter, loc, type, dims, bias, adaptor.getResidual()),
        outType, outDims);

    // Loops: n, g, mg, o_1..o_s, cg, k_1..k_s.
    int64_t loops = 4 + 2 * spatial;
    auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
    int64_t oBase = 3, cDim = 3 + spatial, kBase = 4 + spatial;
    SmallVector<AffineExpr> inExprs = {d(0), d(1), d(cDim)};
    SmallVector<AffineExpr> wExprs = {d(1), d(2), d(cDim)};
    SmallVector<AffineExpr> outExprs = {d(0), d(1), d(2)};
    for (int64_t i = 0; i < spatial; ++i) {
      inExprs.push_back(d(oBase + i) * op.getStrides()[i] +
                        d(kBase + i) * op.getDilations()[i]);
      wExprs.push_back(d(kBase + i));
      outExprs.push_back(d(oBase + i));
    }
    SmallVector<AffineMap> maps = {AffineMap::get(loops, 0, inExprs, context),
                                   AffineMap::get(loops, 0, wExprs, context),
                                   AffineMap::get(loops, 0, outExprs, context)};
    SmallVector<utils::IteratorType> iterators(loops,
                                               utils::IteratorType::parallel);
    for (int64_t i = cDim; i < loops; ++i)
      iterators[i] = utils::IteratorType::reduction;
    bool isFloat = isa<FloatType>(element);
    Value result =
        linalg::GenericOp::create(
            rewriter, loc, TypeRange{outType},
            ValueRange{groupedInput, groupedWeight}, ValueRange{init}, maps,
            iterators,
            [&](OpBuilder &b, Location l, ValueRange a) {
              Value product =
                  isFloat ? (Value)arith::MulFOp::create(b, l, a[0], a[1])
                          : (Value)arith::MulIOp::create(b, l, a[0], a[1]);
              Value sum =
                  isFloat ? (Value)arith::AddFOp::create(b, l, a[2], product)
                          : (Value)arith::AddIOp::create(b, l, a[2], product);
              linalg::YieldOp::create(b, l, sum);
            })
            .getResult(0);
    result = reshapeTo(rewriter, loc, result, type, dims);
    rewriter.replaceOp(op, applyActivation(rewriter, loc, result,
                                           op.getType().getElementType(),
                                           op.getActivation(),
                                           op.getActivationParams()));
    return success();
  }
};

/// conv_transpose as a conv: the input is spread out by the stride
/// (zeros between elements), padded by dilation * (k - 1) - pad, and
/// convolved with the spatially flipped kernel whose channel roles swap.
struct ConvTransposeLowering : OpConversionPattern<ConvTransposeOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(ConvTransposeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    RankedTensorType type = convertTensorType(op.getType());
    Type element = type.getElementType();
    auto weightType = cast<RankedTensorType>(adaptor.getWeight().getType());
    if (!weightType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "weight needs a static shape");
    int64_t spatial = type.getRank() - 2;
    int64_t groups = op.getGroup();
    int64_t c = weightType.getDimSize(0), mg = weightType.getDimSize(1);
    int64_t cg = c / groups;
    ArrayRef<int64_t> kernel = weightType.getShape().drop_front(2);
    ArrayRef<int64_t> strides = op.getStrides(), dilations = op.getDilations();
    ArrayRef<int64_t> pads = op.getPads(), outPad = op.getOutputPadding();
    Value zero = scalarConstant(rewriter, loc, element, 0);

    // Spread the input: (D - 1) * s + 1 per spatial dim.
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    SmallVector<int64_t> spreadShape(inputType.getShape());
    SmallVector<OpFoldResult> spreadDims = getDims(rewriter, loc, input);
    SmallVector<OpFoldResult> inputDims = getDims(rewriter, loc, input);
    AffineExpr s0;
    bindSymbols(context, s0);
    for (int64_t i = 0; i < spatial; ++i) {
      if (!ShapedType::isDynamic(spreadShape[i + 2]))
        spreadShape[i + 2] = (spreadShape[i + 2] - 1) * strides[i] + 1;
      spreadDims[i + 2] = affine::makeComposedFoldedAffineApply(
          rewriter, loc, (s0 - 1) * strides[i] + 1, {spreadDims[i + 2]});
    }
    auto spreadType = RankedTensorType::get(spreadShape, element);
    Value spread = filledTensor(rewriter, loc, spreadType, spreadDims, zero);
    SmallVector<OpFoldResult> offsets(spatial + 2, rewriter.getIndexAttr(0));
    SmallVector<OpFoldResult> sliceStrides(spatial + 2,
                                           rewriter.getIndexAttr(1));
    for (int64_t i = 0; i < spatial; ++i)
      sliceStrides[i + 2] = rewriter.getIndexAttr(strides[i]);
    spread = tensor::InsertSliceOp::create(rewriter, loc, input, spread,
                                           offsets, inputDims, sliceStrides);

    // Flip the kernel and swap channel roles: W[g*Cg + c, m, k] becomes
    // W'[g*Mg + m, c, K - 1 - k].
    SmallVector<int64_t> flippedShape = {groups, mg, cg};
    flippedShape.append(kernel.begin(), kernel.end());
    auto flippedType = RankedTensorType::get(flippedShape, element);
    SmallVector<int64_t> groupedShape = {groups, cg, mg};
    groupedShape.append(kernel.begin(), kernel.end());
    SmallVector<ReassociationIndices> split = {{0, 1}};
    for (int64_t d = 1; d < weightType.getRank(); ++d)
      split.push_back({d + 1});
    Value groupedWeight = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get(groupedShape, element),
        adaptor.getWeight(), split);
    int64_t loops = 3 + spatial;
    SmallVector<AffineExpr> readExprs = {getAffineDimExpr(0, context),
                                         getAffineDimExpr(2, context),
                                         getAffineDimExpr(1, context)};
    for (int64_t i = 0; i < spatial; ++i)
      readExprs.push_back(kernel[i] - 1 - getAffineDimExpr(3 + i, context));
    Value flippedInit = emptyTensor(rewriter, loc, flippedType, {});
    Value flipped = linalg::GenericOp::create(
                        rewriter, loc, TypeRange{flippedType},
                        ValueRange{groupedWeight}, ValueRange{flippedInit},
                        {AffineMap::get(loops, 0, readExprs, context),
                         AffineMap::getMultiDimIdentityMap(loops, context)},
                        SmallVector<utils::IteratorType>(
                            loops, utils::IteratorType::parallel),
                        [](OpBuilder &b, Location l, ValueRange a) {
                          linalg::YieldOp::create(b, l, a[0]);
                        })
                        .getResult(0);
    SmallVector<int64_t> convWeightShape = {groups * mg, cg};
    convWeightShape.append(kernel.begin(), kernel.end());
    SmallVector<ReassociationIndices> merge = {{0, 1}};
    for (int64_t d = 2; d < loops; ++d)
      merge.push_back({d});
    Value convWeight = tensor::CollapseShapeOp::create(
        rewriter, loc, RankedTensorType::get(convWeightShape, element), flipped,
        merge);

    // The conv over the spread input, with pads that give the requested
    // output (negative pads crop).
    SmallVector<int64_t> low, high;
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t full = dilations[i] * (kernel[i] - 1);
      low.push_back(full - pads[i]);
      high.push_back(full - pads[i + spatial] + outPad[i]);
    }
    Value padded = padSpatial(rewriter, loc, spread, low, high, zero);
    SmallVector<int64_t> noPads(2 * spatial, 0), ones(spatial, 1);
    auto convOp = ConvOp::create(rewriter, loc, type, padded, convWeight,
                                 adaptor.getBias(), /*residual=*/Value(),
                                 rewriter.getDenseI64ArrayAttr(noPads),
                                 rewriter.getDenseI64ArrayAttr(ones),
                                 rewriter.getDenseI64ArrayAttr(dilations),
                                 rewriter.getI64IntegerAttr(groups));
    rewriter.replaceOp(op, convOp.getResult());
    return success();
  }
};

/// max or sum over the windows of `input` (already padded).
template <typename OpTy>
static Value poolReduce(OpTy op, OpBuilder &b, Location loc, Value input,
                        RankedTensorType type, ArrayRef<OpFoldResult> dims,
                        Value initValue, bool isMax, bool isUnsigned) {
  MLIRContext *context = b.getContext();
  int64_t spatial = type.getRank() - 2;
  ArrayRef<int64_t> kernel = op.getKernelShape();
  Type element = type.getElementType();
  Value init = filledTensor(b, loc, type, dims, initValue);
  Value window = tensor::EmptyOp::create(b, loc, kernel, element);
  int64_t loops = 2 + 2 * spatial;
  auto d = [&](int64_t i) { return getAffineDimExpr(i, context); };
  SmallVector<AffineExpr> inExprs = {d(0), d(1)}, outExprs = {d(0), d(1)},
                          windowExprs;
  for (int64_t i = 0; i < spatial; ++i) {
    inExprs.push_back(d(2 + i) * op.getStrides()[i] +
                      d(2 + spatial + i) * op.getDilations()[i]);
    outExprs.push_back(d(2 + i));
    windowExprs.push_back(d(2 + spatial + i));
  }
  auto inputType = cast<RankedTensorType>(input.getType());
  // A broadcast operand (the count mask) has N = C = 1.
  if (inputType.getDimSize(0) == 1 && type.getDimSize(0) != 1)
    inExprs[0] = getAffineConstantExpr(0, context);
  SmallVector<utils::IteratorType> iterators(loops,
                                             utils::IteratorType::parallel);
  for (int64_t i = 2 + spatial; i < loops; ++i)
    iterators[i] = utils::IteratorType::reduction;
  bool isFloat = isa<FloatType>(element);
  return linalg::GenericOp::create(
             b, loc, TypeRange{type}, ValueRange{input, window},
             ValueRange{init},
             {AffineMap::get(loops, 0, inExprs, context),
              AffineMap::get(loops, 0, windowExprs, context),
              AffineMap::get(loops, 0, outExprs, context)},
             iterators,
             [&](OpBuilder &nb, Location l, ValueRange a) {
               Value v;
               if (!isMax)
                 v = isFloat ? (Value)arith::AddFOp::create(nb, l, a[2], a[0])
                             : (Value)arith::AddIOp::create(nb, l, a[2], a[0]);
               else if (isFloat)
                 v = arith::MaximumFOp::create(nb, l, a[2], a[0]);
               else if (isUnsigned)
                 v = arith::MaxUIOp::create(nb, l, a[2], a[0]);
               else
                 v = arith::MaxSIOp::create(nb, l, a[2], a[0]);
               linalg::YieldOp::create(nb, l, v);
             })
      .getResult(0);
}

/// max_pool and average_pool: a window generic whose kernel extents come
/// from an empty "window" operand.
template <typename OpTy> struct PoolLowering : OpConversionPattern<OpTy> {
  using OpConversionPattern<OpTy>::OpConversionPattern;
  static constexpr bool isMax = std::is_same_v<OpTy, MaxPoolOp>;

  LogicalResult
  matchAndRewrite(OpTy op, typename OpTy::Adaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    RankedTensorType type = convertTensorType(op.getType());
    Type element = type.getElementType();
    Type kilnElement = op.getInput().getType().getElementType();
    RankedTensorType inputType = op.getInput().getType();
    int64_t spatial = type.getRank() - 2;
    ArrayRef<int64_t> kernel = op.getKernelShape(), strides = op.getStrides(),
                      dilations = op.getDilations(), pads = op.getPads();
    // With ceil_mode the last window may reach past the end pad; pad more.
    SmallVector<int64_t> low(pads.take_front(spatial)),
        high(pads.drop_front(spatial)), extra(spatial, 0);
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t in = inputType.getDimSize(i + 2), out = type.getDimSize(i + 2);
      if (ShapedType::isDynamic(in) || ShapedType::isDynamic(out)) {
        if (op.getCeilMode())
          return rewriter.notifyMatchFailure(op, "ceil_mode needs static dims");
        continue;
      }
      int64_t needed = (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] +
                       1 - (in + low[i] + high[i]);
      extra[i] = std::max<int64_t>(0, needed);
      high[i] += extra[i];
    }
    Value padValue = isMax ? extremeConstant(rewriter, loc, element, true,
                                             isUnsignedLike(kilnElement))
                           : scalarConstant(rewriter, loc, element, 0);
    Value input =
        padSpatial(rewriter, loc, adaptor.getInput(), low, high, padValue);
    SmallVector<OpFoldResult> dims =
        windowResultDims(rewriter, loc, type, input,
                         tensor::getMixedSize(rewriter, loc, input, 1), kernel,
                         strides, dilations);
    bool isUnsigned = isUnsignedLike(kilnElement);
    Value result = poolReduce(op, rewriter, loc, input, type, dims, padValue,
                              isMax, isUnsigned);
    if constexpr (!isMax) {
      // Divide by the number of elements each window counts: a sum-pool of
      // a mask that is 1 on the input (and, with count_include_pad, on the
      // explicit pads) and 0 elsewhere.
      SmallVector<int64_t> maskShape(spatial + 2, 1);
      for (int64_t i = 0; i < spatial; ++i)
        maskShape[i + 2] = inputType.getDimSize(i + 2);
      auto maskType = RankedTensorType::get(maskShape, element);
      SmallVector<OpFoldResult> maskDims(spatial + 2, rewriter.getIndexAttr(1));
      for (int64_t i = 0; i < spatial; ++i)
        maskDims[i + 2] =
            tensor::getMixedSize(rewriter, loc, adaptor.getInput(), i + 2);
      Value one = scalarConstant(rewriter, loc, element, 1);
      Value mask = filledTensor(rewriter, loc, maskType, maskDims, one);
      if (op.getCountIncludePad()) {
        mask = padSpatial(rewriter, loc, mask, pads.take_front(spatial),
                          pads.drop_front(spatial), one);
        SmallVector<int64_t> none(spatial, 0);
        mask = padSpatial(rewriter, loc, mask, none, extra,
                          scalarConstant(rewriter, loc, element, 0));
      } else {
        mask = padSpatial(rewriter, loc, mask, low, high,
                          scalarConstant(rewriter, loc, element, 0));
      }
      SmallVector<int64_t> countShape(type.getShape());
      countShape[0] = countShape[1] = 1;
      SmallVector<OpFoldResult> countDims(dims);
      countDims[0] = countDims[1] = rewriter.getIndexAttr(1);
      Value counts = poolReduce(
          op, rewriter, loc, mask, RankedTensorType::get(countShape, element),
          countDims, scalarConstant(rewriter, loc, element, 0),
          /*isMax=*/false, /*isUnsigned=*/false);
      result = buildBroadcastGeneric(
          rewriter, loc, type, {result, counts},
          [](OpBuilder &b, Location l, ValueRange a) {
            return (Value)arith::DivFOp::create(b, l, a[0], a[1]);
          });
    }
    rewriter.replaceOp(op, result);
    return success();
  }
};

} // namespace

namespace {
/// im2col: a copy generic over (n, c, i, j, oh, ow) reading
/// input[n, c, oh*sh + i*dh, ow*sw + j*dw], its [N, C, kh, kw, OH, OW]
/// result viewed as [N, C*kh*kw, OH*OW].
struct Im2ColLowering : OpConversionPattern<Im2ColOp> {
  using OpConversionPattern::OpConversionPattern;
  LogicalResult
  matchAndRewrite(Im2ColOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    MLIRContext *context = rewriter.getContext();
    Value input = adaptor.getInput();
    auto inputType = cast<RankedTensorType>(input.getType());
    RankedTensorType type = convertTensorType(op.getType());
    ArrayRef<int64_t> kernel = op.getKernelShape(), strides = op.getStrides(),
                      dilations = op.getDilations();
    if (inputType.isDynamicDim(1))
      return rewriter.notifyMatchFailure(op, "needs a static channel count");
    SmallVector<OpFoldResult> dims = windowResultDims(
        rewriter, loc,
        RankedTensorType::get({inputType.getDimSize(0), inputType.getDimSize(1),
                               ShapedType::kDynamic, ShapedType::kDynamic},
                              inputType.getElementType()),
        input, tensor::getMixedSize(rewriter, loc, input, 1), kernel, strides,
        dilations);
    // [N, C, kh, kw, OH, OW]
    SmallVector<OpFoldResult> fullDims = {dims[0],
                                          dims[1],
                                          rewriter.getIndexAttr(kernel[0]),
                                          rewriter.getIndexAttr(kernel[1]),
                                          dims[2],
                                          dims[3]};
    SmallVector<int64_t> shape;
    for (OpFoldResult d : fullDims) {
      std::optional<int64_t> v = getConstantIntValue(d);
      shape.push_back(v ? *v : ShapedType::kDynamic);
    }
    auto fullType = RankedTensorType::get(shape, type.getElementType());
    Value init =
        tensor::EmptyOp::create(rewriter, loc, fullDims, type.getElementType());
    auto d = [&](unsigned i) { return getAffineDimExpr(i, context); };
    AffineMap in =
        AffineMap::get(6, 0,
                       {d(0), d(1), d(4) * strides[0] + d(2) * dilations[0],
                        d(5) * strides[1] + d(3) * dilations[1]},
                       context);
    auto copy = linalg::GenericOp::create(
        rewriter, loc, TypeRange{fullType}, ValueRange{input}, ValueRange{init},
        {in, AffineMap::getMultiDimIdentityMap(6, context)},
        SmallVector<utils::IteratorType>(6, utils::IteratorType::parallel),
        [](OpBuilder &b, Location l, ValueRange args) {
          linalg::YieldOp::create(b, l, args[0]);
        });
    rewriter.replaceOpWithNewOp<tensor::CollapseShapeOp>(
        op, type, copy.getResult(0),
        SmallVector<ReassociationIndices>{{0}, {1, 2, 3}, {4, 5}});
    return success();
  }
};
} // namespace

void to_linalg::populateConvolutionPatterns(KilnTypeConverter &converter,
                                            RewritePatternSet &patterns) {
  patterns.add<ConvLowering, ConvTransposeLowering, PoolLowering<MaxPoolOp>,
               PoolLowering<AveragePoolOp>, Im2ColLowering>(
      converter, patterns.getContext());
}
