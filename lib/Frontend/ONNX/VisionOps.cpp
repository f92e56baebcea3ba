//===- VisionOps.cpp - import of sampling and detection ops ---------------===//
//
// GridSample is a composition: the sampling coordinates are computed
// elementwise, each tap gathers from the image flattened over its spatial
// dims, and the taps are summed with their weights. NonMaxSuppression brings
// its boxes into one canonical corner form and maps to
// kiln.non_max_suppression. RoiAlign computes its bilinear sample taps per
// roi and axis and gathers C-vectors from the image as [N * H * W, C] rows.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

namespace {

/// Builds the sampling of a GridSample node: `x` is [N, C, H, W], `grid`
/// [N, Ho, Wo, 2] with (x, y) in [-1, 1]. Coordinates are in the grid's
/// float type; sampled values are in the image's.
class GridSampler : public Decomposer {
public:
  GridSampler(NodeImporter &n, Value x, Value grid, bool alignCorners,
              StringRef padding)
      : Decomposer(n), x(x), grid(grid), alignCorners(alignCorners),
        padding(padding), f(elementType(grid)) {
    height = convert(dim(x, 2), f);
    width = convert(dim(x, 3), f);
    lastY = op<SubOp>({height, scalar(f, 1)});
    lastX = op<SubOp>({width, scalar(f, 1)});
    batch = dim(x, 0);
    channels = dim(x, 1);
    image = reshape(x, concat({batch, channels, ints({-1})}));
    outputShape = concat({batch, channels, dim(grid, 1), dim(grid, 2)});
  }

  /// The pixel coordinate that normalized coordinate `c` (0: x, 1: y) of
  /// the grid maps to, before padding.
  Value unnormalized(int64_t axis) {
    Value c = op<GatherOp>({grid, scalar(n.getBuilder().getI64Type(), axis)},
                           {n.namedI64("axis", 3)});
    Value shifted = op<AddOp>({c, scalar(f, 1)});
    if (alignCorners)
      return op<MulOp>(
          {op<DivOp>({shifted, scalar(f, 2)}), axis == 0 ? lastX : lastY});
    Value size = axis == 0 ? width : height;
    return op<DivOp>(
        {op<SubOp>({op<MulOp>({shifted, size}), scalar(f, 1)}), scalar(f, 2)});
  }

  /// `c` brought inside [0, size - 1] by the padding mode (unchanged for
  /// zeros padding, where out-of-range taps read 0).
  Value pad(Value c, int64_t axis) {
    if (padding == "zeros")
      return c;
    Value size = axis == 0 ? width : height;
    Value last = axis == 0 ? lastX : lastY;
    if (padding == "reflection") {
      // Reflect about the borders (pixel centers with align_corners, pixel
      // edges without), then clip.
      Value low = scalar(f, alignCorners ? 0 : -0.5);
      Value span = alignCorners ? last : size;
      Value distance = op<AbsOp>({op<SubOp>({c, low})});
      Value extra = op<ModOp>({distance, span}, {n.namedBool("fmod", true)});
      Value flips = op<FloorOp>({op<DivOp>({distance, span})});
      Value even = op<EqualOp>(
          {op<ModOp>({flips, scalar(f, 2)}, {n.namedBool("fmod", true)}),
           scalar(f, 0)});
      Value reflected =
          op<WhereOp>({even, op<AddOp>({extra, low}),
                       op<AddOp>({op<SubOp>({span, extra}), low})});
      // A single pixel with align_corners has nothing to reflect about.
      c = op<WhereOp>(
          {op<EqualOp>({span, scalar(f, 0)}), scalar(f, 0), reflected});
    }
    return op<MaxOp>({op<MinOp>({c, last}), scalar(f, 0)});
  }

  /// The image at integer-valued pixel coordinates (ix, iy) ([N, Ho, Wo]),
  /// times `weight`; taps outside the image read 0.
  Value tap(Value ix, Value iy, Value weight) {
    Value zero = scalar(f, 0);
    Value inside = op<AndOp>({op<AndOp>({op<GreaterOrEqualOp>({ix, zero}),
                                         op<LessOrEqualOp>({ix, lastX})}),
                              op<AndOp>({op<GreaterOrEqualOp>({iy, zero}),
                                         op<LessOrEqualOp>({iy, lastY})})});
    Value cx = op<MaxOp>({op<MinOp>({ix, lastX}), zero});
    Value cy = op<MaxOp>({op<MinOp>({iy, lastY}), zero});
    Type i64 = n.getBuilder().getI64Type();
    Value flat = convert(op<AddOp>({op<MulOp>({cy, width}), cx}), i64);
    // [N, Ho, Wo] -> [N, C, Ho * Wo] to gather from the image's [N, C, H * W].
    flat = reshape(flat, concat({batch, ints({1, -1})}));
    flat = op<ExpandOp>({flat, concat({batch, channels, dim(flat, 2)})});
    Value values = op<GatherElementsOp>({image, flat}, {n.namedI64("axis", 2)});
    values = reshape(values, outputShape);
    Value w = convert(op<WhereOp>({inside, weight, zero}), elementType(x));
    return op<MulOp>({values, unsqueeze(w, {1})});
  }

private:
  Value x, grid;
  bool alignCorners;
  StringRef padding;
  Type f;
  /// The image's extents (as floats) and last pixel coordinates.
  Value width, height, lastX, lastY;
  /// Dims N and C, the image as [N, C, H * W], and [N, C, Ho, Wo].
  Value batch, channels, image, outputShape;
};

} // namespace

/// The cubic convolution weights (A = -0.75) of the four taps around a
/// sample at fraction `t` past the second tap.
static SmallVector<Value, 4> cubicWeights(Decomposer &b, Value t) {
  Type f = Decomposer::elementType(t);
  const double a = -0.75;
  auto c = [&](double v) { return b.scalar(f, v); };
  // Taps at distance d = t + 1 and 2 - t (outer), t and 1 - t (inner).
  auto outer = [&](Value d) {
    Value r = b.op<SubOp>({b.op<MulOp>({c(a), d}), c(5 * a)});
    r = b.op<AddOp>({b.op<MulOp>({r, d}), c(8 * a)});
    return b.op<SubOp>({b.op<MulOp>({r, d}), c(4 * a)});
  };
  auto inner = [&](Value d) {
    Value r = b.op<SubOp>({b.op<MulOp>({c(a + 2), d}), c(a + 3)});
    return b.op<AddOp>({b.op<MulOp>({b.op<MulOp>({r, d}), d}), c(1)});
  };
  Value rest = b.op<SubOp>({c(1), t});
  return {outer(b.op<AddOp>({t, c(1)})), inner(t), inner(rest),
          outer(b.op<AddOp>({rest, c(1)}))};
}

static LogicalResult importGridSample(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  RankedTensorType xType = n.operandType(0), gridType = n.operandType(1);
  if (xType.getRank() != 4 || gridType.getRank() != 4 ||
      gridType.getDimSize(3) != 2)
    return n.emitError() << "expects a [N, C, H, W] input and a [N, Ho, Wo, 2] "
                            "grid, got "
                         << xType << " and " << gridType;
  if (!isa<FloatType>(xType.getElementType()) ||
      !isa<FloatType>(gridType.getElementType()))
    return n.emitError() << "expects float input and grid, got " << xType
                         << " and " << gridType;
  std::string mode = n.stringAttr("mode", "bilinear");
  std::string padding = n.stringAttr("padding_mode", "zeros");
  if (mode != "bilinear" && mode != "nearest" && mode != "bicubic")
    return n.emitError() << "mode '" << mode
                         << "' is not one of bilinear, nearest, bicubic";
  if (padding != "zeros" && padding != "border" && padding != "reflection")
    return n.emitError() << "padding_mode '" << padding
                         << "' is not one of zeros, border, reflection";
  GridSampler s(n, n.operand(0), n.operand(1), n.intAttr("align_corners", 0),
                padding);
  Type f = gridType.getElementType();
  Value ix = s.unnormalized(0), iy = s.unnormalized(1);
  Value result;
  auto accumulate = [&](Value v) {
    result = result ? s.op<AddOp>({result, v}) : v;
  };
  if (mode == "nearest") {
    accumulate(s.tap(s.op<RoundOp>(s.pad(ix, 0)), s.op<RoundOp>(s.pad(iy, 1)),
                     s.scalar(f, 1)));
  } else if (mode == "bilinear") {
    ix = s.pad(ix, 0);
    iy = s.pad(iy, 1);
    Value x0 = s.op<FloorOp>(ix), y0 = s.op<FloorOp>(iy);
    Value one = s.scalar(f, 1);
    Value x1 = s.op<AddOp>({x0, one}), y1 = s.op<AddOp>({y0, one});
    Value wx1 = s.op<SubOp>({ix, x0}), wy1 = s.op<SubOp>({iy, y0});
    Value wx0 = s.op<SubOp>({one, wx1}), wy0 = s.op<SubOp>({one, wy1});
    accumulate(s.tap(x0, y0, s.op<MulOp>({wx0, wy0})));
    accumulate(s.tap(x1, y0, s.op<MulOp>({wx1, wy0})));
    accumulate(s.tap(x0, y1, s.op<MulOp>({wx0, wy1})));
    accumulate(s.tap(x1, y1, s.op<MulOp>({wx1, wy1})));
  } else {
    // Bicubic: 4 x 4 taps around the unpadded coordinate; the padding mode
    // applies to each tap's coordinate.
    Value x0 = s.op<FloorOp>(ix), y0 = s.op<FloorOp>(iy);
    SmallVector<Value, 4> wx = cubicWeights(s, s.op<SubOp>({ix, x0}));
    SmallVector<Value, 4> wy = cubicWeights(s, s.op<SubOp>({iy, y0}));
    for (int64_t j = 0; j < 4; ++j) {
      Value ty = s.pad(s.op<AddOp>({y0, s.scalar(f, j - 1)}), 1);
      for (int64_t i = 0; i < 4; ++i) {
        Value tx = s.pad(s.op<AddOp>({x0, s.scalar(f, i - 1)}), 0);
        accumulate(s.tap(tx, ty, s.op<MulOp>({wx[i], wy[j]})));
      }
    }
  }
  if (s.failed())
    return failure();
  return n.setResult(result);
}

/// NonMaxSuppression: boxes become (lo0, lo1, hi0, hi1) whatever corners
/// they name (or from center and size with center_point_box); absent limits
/// take the ONNX defaults (no boxes, IoU 0, no score threshold).
static LogicalResult importNonMaxSuppression(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  RankedTensorType boxesType = n.operandType(0);
  if (boxesType.getRank() != 3 || !isa<FloatType>(boxesType.getElementType()))
    return n.emitError() << "expects float boxes of shape [batch, n, 4], got "
                         << boxesType;
  Decomposer b(n);
  Type f = boxesType.getElementType();
  Type i64 = n.getBuilder().getI64Type();
  Value boxes = n.operand(0);
  auto pair = [&](int64_t first) {
    return b.op<GatherOp>({boxes, b.ints({first, first + 1})},
                          {n.namedI64("axis", 2)});
  };
  Value a = pair(0), c = pair(2);
  if (n.intAttr("center_point_box", 0) != 0) {
    // (x_center, y_center, width, height).
    Value half = b.op<DivOp>({c, b.scalar(f, 2)});
    c = b.op<AddOp>({a, half});
    a = b.op<SubOp>({a, half});
  }
  boxes = b.concat({b.op<MinOp>({a, c}), b.op<MaxOp>({a, c})}, 2);
  auto limit = [&](size_t i, Type type, double absent) {
    if (!n.hasOperand(i))
      return b.scalar(type, absent);
    return b.reshape(b.convert(n.operand(i), type), b.ints({}));
  };
  Value maxOutput = limit(2, i64, 0);
  Value iou = limit(3, f, 0);
  Value minScore = limit(4, f, -std::numeric_limits<double>::infinity());
  Value scores = b.convert(n.operand(1), f);
  if (b.failed())
    return failure();
  return n.setResult(
      n.create<NonMaxSuppressionOp>({boxes, scores, maxOutput, iou, minScore}));
}

/// The sample positions of RoiAlign along one spatial axis, for every roi:
/// the bilinear taps' indices and weights, [R, J] each, J = bins * grid.
struct RoiAxisSamples {
  Value low, high;             // i64 tap indices
  Value lowWeight, highWeight; // zero where the sample is outside the image
  Value inGrid;                // bool; null when every roi has the full grid
  Value grid;                  // samples per bin: [R, 1], or a scalar
  Value gridExtent;            // the largest grid, an i64 scalar
};

/// Sample j of a roi lies in bin j / grid at (j % grid + 0.5) / grid of the
/// bin: start + bin * (j / grid + (j % grid + 0.5) / grid). With a fixed
/// `samplingRatio` the grid is constant; otherwise (adaptive) each roi has
/// ceil(extent / bins) samples per bin and the positions are laid out for
/// the largest, `inGrid` marking those a roi has.
static RoiAxisSamples roiAxisSamples(NodeImporter &n, Decomposer &b,
                                     Value start, Value extent, int64_t bins,
                                     int64_t samplingRatio, Value size) {
  OpBuilder &builder = n.getBuilder();
  Type element = Decomposer::elementType(start);
  Type i64 = builder.getI64Type();
  RoiAxisSamples s;
  Value bin = b.op<DivOp>({extent, b.scalar(element, bins)});
  Value position;
  if (samplingRatio > 0) {
    SmallVector<float> offsets;
    for (int64_t j = 0; j < bins * samplingRatio; ++j)
      offsets.push_back(static_cast<float>(
          static_cast<double>(j / samplingRatio) +
          (static_cast<double>(j % samplingRatio) + 0.5) / samplingRatio));
    auto type =
        RankedTensorType::get({bins * samplingRatio}, builder.getF32Type());
    Value offset = b.convert(
        b.op<ConstantOp>({}, {n.named("value", DenseElementsAttr::get(
                                                   type, ArrayRef(offsets)))}),
        element);
    position =
        b.op<AddOp>({start, b.op<MulOp>({bin, b.unsqueeze(offset, {0})})});
    s.grid = b.scalar(element, samplingRatio);
    s.gridExtent = b.scalar(i64, samplingRatio);
  } else {
    s.grid = b.op<CeilOp>(b.op<DivOp>({extent, b.scalar(element, bins)}));
    s.grid = b.op<MaxOp>({s.grid, b.scalar(element, 1)});
    s.gridExtent =
        b.convert(b.reduce<ReduceMaxOp>(s.grid, {}, /*keepdims=*/false), i64);
    s.gridExtent = b.op<MaxOp>({s.gridExtent, b.scalar(i64, 1)});
    Value j = b.iota(b.op<MulOp>({s.gridExtent, b.scalar(i64, bins)}));
    Value binIndex =
        b.unsqueeze(b.convert(b.op<DivOp>({j, s.gridExtent}), element), {0});
    Value sample =
        b.unsqueeze(b.convert(b.op<ModOp>({j, s.gridExtent}), element), {0});
    s.inGrid = b.op<LessOp>({sample, s.grid});
    Value within =
        b.op<DivOp>({b.op<AddOp>({sample, b.scalar(element, 0.5)}), s.grid});
    position = b.op<AddOp>(
        {start, b.op<MulOp>({bin, b.op<AddOp>({binIndex, within})})});
  }
  // Outside [-1, size]: no contribution. Else clamped at 0, and past the
  // last pixel both taps are the last pixel.
  Value valid =
      b.op<AndOp>({b.op<GreaterOrEqualOp>({position, b.scalar(element, -1)}),
                   b.op<LessOrEqualOp>({position, size})});
  position = b.op<MaxOp>({position, b.scalar(element, 0)});
  Value last = b.op<SubOp>({size, b.scalar(element, 1)});
  Value low = b.op<FloorOp>(position);
  Value atEdge = b.op<GreaterOrEqualOp>({low, last});
  low = b.op<WhereOp>({atEdge, last, low});
  Value high =
      b.op<WhereOp>({atEdge, last, b.op<AddOp>({low, b.scalar(element, 1)})});
  position = b.op<WhereOp>({atEdge, last, position});
  Value fraction = b.op<SubOp>({position, low});
  Value zero = b.scalar(element, 0);
  s.highWeight = b.op<WhereOp>({valid, fraction, zero});
  s.lowWeight = b.op<WhereOp>(
      {valid, b.op<SubOp>({b.scalar(element, 1), fraction}), zero});
  s.low = b.convert(low, i64);
  s.high = b.convert(high, i64);
  return s;
}

/// RoiAlign: each output bin of each roi averages (or takes the maximum
/// of) grid x grid bilinear samples. The samples' taps gather C-vectors from
/// the image as [N * H * W, C] rows, so the work is proportional to the
/// output times the samples, never to the image per roi. In max mode a
/// sample contributes the largest of its four weighted taps, as ONNX
/// Runtime computes it.
static LogicalResult importRoiAlign(NodeImporter &n) {
  if (failed(n.requireOperands(3)))
    return failure();
  RankedTensorType type = n.operandType(0);
  if (type.getRank() != 4 || !isa<FloatType>(type.getElementType()))
    return n.emitError() << "expects a floating-point [N, C, H, W] input, got "
                         << type;
  RankedTensorType roisType = n.operandType(1);
  if (roisType.getRank() != 2 || roisType.getDimSize(1) != 4)
    return n.emitError() << "expects [R, 4] rois, got " << roisType;
  std::string mode = n.stringAttr("mode", "avg");
  if (mode != "avg" && mode != "max")
    return n.emitError() << "mode must be avg or max, got '" << mode << "'";
  std::string transform =
      n.getOpset() >= 16
          ? n.stringAttr("coordinate_transformation_mode", "half_pixel")
          : "output_half_pixel";
  if (transform != "half_pixel" && transform != "output_half_pixel")
    return n.emitError() << "coordinate_transformation_mode must be "
                            "half_pixel or output_half_pixel, got '"
                         << transform << "'";
  bool halfPixel = transform == "half_pixel";
  int64_t outH = n.intAttr("output_height", 1);
  int64_t outW = n.intAttr("output_width", 1);
  int64_t samplingRatio = n.intAttr("sampling_ratio", 0);
  float scale = n.floatAttr("spatial_scale", 1.0f);
  if (outH < 1 || outW < 1 || samplingRatio < 0)
    return n.emitError() << "output_height and output_width must be positive "
                            "and sampling_ratio not negative";
  OpBuilder &builder = n.getBuilder();
  Decomposer b(n);
  Type element = type.getElementType();
  Type i64 = builder.getI64Type();
  Value x = n.operand(0);
  Value rois = b.convert(n.operand(1), element);
  auto corner = [&](int64_t k) {
    Value v = b.op<SliceOp>(
        {rois, b.ints({k}), b.ints({k + 1}), b.ints({1}), b.ints({1})});
    v = b.op<MulOp>({v, b.scalar(element, scale)});
    return halfPixel ? b.op<SubOp>({v, b.scalar(element, 0.5)}) : v;
  };
  Value x0 = corner(0), y0 = corner(1), x1 = corner(2), y1 = corner(3);
  Value width = b.op<SubOp>({x1, x0}), height = b.op<SubOp>({y1, y0});
  if (!halfPixel) {
    width = b.op<MaxOp>({width, b.scalar(element, 1)});
    height = b.op<MaxOp>({height, b.scalar(element, 1)});
  }
  auto extentOf = [&](int64_t d) { return b.reshape(b.dim(x, d), b.ints({})); };
  Value rowsH = extentOf(2), rowsW = extentOf(3);
  RoiAxisSamples ys = roiAxisSamples(n, b, y0, height, outH, samplingRatio,
                                     b.convert(rowsH, element));
  RoiAxisSamples xs = roiAxisSamples(n, b, x0, width, outW, samplingRatio,
                                     b.convert(rowsW, element));
  // Tap (y, x) of roi r reads row (batch * H + y) * W + x of the image as
  // [N * H * W, C].
  Value table = b.reshape(b.transpose(x, {0, 2, 3, 1}),
                          b.concat({b.ints({-1}), b.dim(x, 1)}));
  Value batch = b.unsqueeze(b.convert(n.operand(2), i64), {1, 2});
  auto tap = [&](Value yIndex, Value yWeight, Value xIndex, Value xWeight) {
    Value row =
        b.op<AddOp>({b.op<MulOp>({b.op<AddOp>({b.op<MulOp>({batch, rowsH}),
                                               b.unsqueeze(yIndex, {2})}),
                                  rowsW}),
                     b.unsqueeze(xIndex, {1})});
    Value weight = b.unsqueeze(
        b.op<MulOp>({b.unsqueeze(yWeight, {2}), b.unsqueeze(xWeight, {1})}),
        {3});
    return b.op<MulOp>(
        {weight, b.op<GatherOp>({table, row}, {n.namedI64("axis", 0)})});
  };
  Value taps[] = {tap(ys.low, ys.lowWeight, xs.low, xs.lowWeight),
                  tap(ys.low, ys.lowWeight, xs.high, xs.highWeight),
                  tap(ys.high, ys.highWeight, xs.low, xs.lowWeight),
                  tap(ys.high, ys.highWeight, xs.high, xs.highWeight)};
  bool avg = mode == "avg";
  Value samples = avg ? b.op<AddOp>({b.op<AddOp>({taps[0], taps[1]}),
                                     b.op<AddOp>({taps[2], taps[3]})})
                      : b.op<MaxOp>({b.op<MaxOp>({taps[0], taps[1]}),
                                     b.op<MaxOp>({taps[2], taps[3]})});
  // Samples beyond a roi's own grid (adaptive sampling) do not count.
  if (ys.inGrid) {
    Value in = b.unsqueeze(
        b.op<AndOp>({b.unsqueeze(ys.inGrid, {2}), b.unsqueeze(xs.inGrid, {1})}),
        {3});
    double none = avg ? 0.0 : -std::numeric_limits<double>::infinity();
    samples = b.op<WhereOp>({in, samples, b.scalar(element, none)});
  }
  // [R, outH * gridH, outW * gridW, C] -> [R, outH, gridH, outW, gridW, C].
  samples = b.reshape(
      samples, b.concat({b.dim(samples, 0), b.ints({outH}),
                         b.reshape(ys.gridExtent, b.ints({1})), b.ints({outW}),
                         b.reshape(xs.gridExtent, b.ints({1})), b.dim(x, 1)}));
  Value y = avg ? b.reduce<ReduceSumOp>(samples, {2, 4}, /*keepdims=*/false)
                : b.reduce<ReduceMaxOp>(samples, {2, 4}, /*keepdims=*/false);
  if (avg) {
    Value count = b.op<MulOp>({ys.grid, xs.grid}); // [R, 1] or a scalar
    if (count && Decomposer::rank(count) == 2)
      count = b.unsqueeze(count, {2, 3});
    y = b.op<DivOp>({y, count});
  }
  y = b.transpose(y, {0, 3, 1, 2});
  if (b.failed())
    return failure();
  return n.setResults(y);
}

void kiln::onnx_import::registerVisionOps(OpRegistry &r) {
  r.add("GridSample", 16, importGridSample);
  r.add("NonMaxSuppression", {10, 11}, importNonMaxSuppression);
  r.add("RoiAlign", {10, 16}, importRoiAlign);
}
