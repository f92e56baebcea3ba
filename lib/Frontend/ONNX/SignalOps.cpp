//===- SignalOps.cpp - import of DFT and the window functions -------------===//
//
// Compositions of kiln ops: the window functions are sums of cosines over an
// iota; DFT is two matmuls of the real and imaginary parts with constant
// cosine and sine matrices (for a static transform length); STFT gathers
// the frames and transforms them the same way; MelWeightMatrix compares
// bins on an iota grid.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

#include <cmath>

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

/// The element type the `output_datatype` attribute names (float by
/// default).
static FailureOr<Type> outputDataType(NodeImporter &n) {
  Type element =
      convertElementType(n.getContext(), n.intAttr("output_datatype", 1));
  if (!element)
    return n.emitError() << "unsupported output_datatype "
                         << n.intAttr("output_datatype", 1);
  return element;
}

/// The window functions: sums of cosines of 2 pi k n / N over n = 0 ..
/// size - 1, with N = size (periodic) or size - 1 (symmetric).
static LogicalResult importWindow(NodeImporter &n,
                                  ArrayRef<double> coefficients) {
  if (failed(n.requireOperands(1)))
    return failure();
  FailureOr<Type> element = outputDataType(n);
  if (failed(element))
    return failure();
  Decomposer b(n);
  Type f32 = n.getBuilder().getF32Type();
  Value size = b.convert(n.operand(0), f32);
  if (size && b.rank(size) == 1)
    size = b.reshape(size, b.ints({}));
  Value positions = b.convert(b.iota(n.operand(0)), f32);
  Value period = n.intAttr("periodic", 1) != 0
                     ? size
                     : b.op<SubOp>({size, b.scalar(f32, 1)});
  Value angle =
      b.op<DivOp>({b.op<MulOp>({positions, b.scalar(f32, 2 * M_PI)}), period});
  Value y = b.op<AddOp>(
      {b.op<MulOp>({b.op<CosOp>(angle), b.scalar(f32, coefficients[1])}),
       b.scalar(f32, coefficients[0])});
  for (size_t k = 2; k < coefficients.size(); ++k) {
    Value harmonic = b.op<CosOp>(b.op<MulOp>({angle, b.scalar(f32, k)}));
    y = b.op<AddOp>(
        {y, b.op<MulOp>({harmonic, b.scalar(f32, coefficients[k])})});
  }
  y = b.convert(y, *element);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// The DFT's cosine and sine matrices for a static transform length L:
/// C[j, k] = cos(2 pi j k / L), S[j, k] = sin(2 pi j k / L), j < L,
/// k < `outputs`, as constants of `element`.
static std::pair<Value, Value> dftMatrices(NodeImporter &n, Decomposer &b,
                                           int64_t length, int64_t outputs,
                                           Type element) {
  SmallVector<float> cosines, sines;
  for (int64_t j = 0; j < length; ++j)
    for (int64_t k = 0; k < outputs; ++k) {
      double angle = 2 * M_PI * static_cast<double>((j * k) % length) /
                     static_cast<double>(length);
      cosines.push_back(static_cast<float>(std::cos(angle)));
      sines.push_back(static_cast<float>(std::sin(angle)));
    }
  auto matrix = [&](ArrayRef<float> values) {
    auto t =
        RankedTensorType::get({length, outputs}, n.getBuilder().getF32Type());
    return b.convert(
        b.op<ConstantOp>({},
                         {n.named("value", DenseElementsAttr::get(t, values))}),
        element);
  };
  return {matrix(cosines), matrix(sines)};
}

/// The same matrices for a transform length known at run time (`length`, a
/// rank-0 i64 tensor), computed by the model, with `outputs` columns (also
/// rank-0 i64).
static std::pair<Value, Value> runtimeDftMatrices(Decomposer &b, Value length,
                                                  Value outputs, Type element) {
  Value rows = b.unsqueeze(b.iota(length), {1});
  Value columns = b.unsqueeze(b.iota(outputs), {0});
  // (j * k) mod L keeps the angle small, and f64 keeps sin(pi) and
  // cos(pi / 2) at 1e-16, as for the constant matrices: in f32 they are
  // 1e-7, which a bin of a sum of large values carries where it is 0.
  Type f64 = Float64Type::get(element.getContext());
  Value turns = b.op<ModOp>({b.op<MulOp>({rows, columns}), length});
  Value angle = b.op<DivOp>(
      {b.op<MulOp>({b.convert(turns, f64), b.scalar(f64, 2 * M_PI)}),
       b.convert(length, f64)});
  return {b.convert(b.op<CosOp>(angle), element),
          b.convert(b.op<SinOp>(angle), element)};
}

/// DFT along `axis` of [..., n, ..., 1 or 2] (real or complex in the last
/// dim): out[k] = sum_j x[j] * exp(-+2 pi i j k / L) (divided by L for the
/// inverse), with L = dft_length (zero-padded or truncated) and K = L / 2 +
/// 1 outputs when onesided.
static LogicalResult importDFT(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  RankedTensorType type = n.operandType(0);
  int64_t rank = type.getRank();
  int64_t components = type.getDimSize(rank - 1);
  if (rank < 2 || (components != 1 && components != 2))
    return n.emitError() << "expects [..., signal, 1 or 2] (real or complex), "
                            "got "
                         << type;
  FailureOr<int64_t> axis = normalizeAxis(n.intAttr("axis", 1), rank);
  if (failed(axis) || *axis == rank - 1)
    return n.emitError() << "axis " << n.intAttr("axis", 1)
                         << " is out of range for " << type;
  int64_t length = type.getDimSize(*axis);
  if (n.hasOperand(1)) {
    std::optional<SmallVector<int64_t>> given = getConstantInts(n.operand(1));
    if (!given || given->size() != 1)
      return n.emitError() << "dft_length must be a constant";
    length = given->front();
  }
  if (ShapedType::isDynamic(length) || length < 1)
    return n.emitError() << "needs a static transform length; fix the signal "
                            "dim with --input-shape or give dft_length";
  bool inverse = n.intAttr("inverse", 0) != 0;
  bool onesided = n.intAttr("onesided", 0) != 0;
  int64_t outputs = onesided ? length / 2 + 1 : length;
  Decomposer b(n);
  Type element = type.getElementType();
  Value x = n.operand(0);
  // Real and imaginary parts without the last dim, the signal dim moved
  // last.
  SmallVector<int64_t> perm;
  for (int64_t d = 0; d < rank - 1; ++d)
    if (d != *axis)
      perm.push_back(d);
  perm.push_back(*axis);
  auto part = [&](int64_t c) {
    Value v = b.op<SliceOp>(
        {x, b.ints({c}), b.ints({c + 1}), b.ints({rank - 1}), b.ints({1})});
    return b.transpose(b.squeeze(v, {rank - 1}), perm);
  };
  Value re = part(0), im = components == 2 ? part(1) : Value();
  int64_t signal = type.getDimSize(*axis);
  auto fit = [&](Value v) -> Value {
    if (!v || signal == length)
      return v;
    if (ShapedType::isDynamic(signal) || signal > length)
      return b.op<SliceOp>(
          {v, b.ints({0}), b.ints({length}), b.ints({rank - 2}), b.ints({1})});
    SmallVector<int64_t> pads(2 * (rank - 1), 0);
    pads[2 * (rank - 1) - 1] = length - signal;
    return b.op<PadOp>({v, b.ints(pads)}, {n.namedStr("mode", "constant")});
  };
  re = fit(re);
  im = fit(im);
  auto [cosMatrix, sinMatrix] = dftMatrices(n, b, length, outputs, element);
  auto matmul = [&](Value a, Value m) {
    return b.op<MatMulOp>({a, m}, {n.segments({1, 1, 0, 0})});
  };
  // exp(s i theta) = cos + s i sin, s = -1 forward, +1 inverse.
  double sign = inverse ? 1.0 : -1.0;
  Value outRe = matmul(re, cosMatrix);
  Value outIm = b.op<MulOp>({matmul(re, sinMatrix), b.scalar(element, sign)});
  if (im) {
    outRe = b.op<SubOp>(
        {outRe, b.op<MulOp>({matmul(im, sinMatrix), b.scalar(element, sign)})});
    outIm = b.op<AddOp>({outIm, matmul(im, cosMatrix)});
  }
  if (inverse) {
    Value scale = b.scalar(element, 1.0 / static_cast<double>(length));
    outRe = b.op<MulOp>({outRe, scale});
    outIm = b.op<MulOp>({outIm, scale});
  }
  Value y =
      b.concat({b.unsqueeze(outRe, {rank - 1}), b.unsqueeze(outIm, {rank - 1})},
               rank - 1);
  // Back to the input's dim order (the complex dim stays last).
  SmallVector<int64_t> back(rank);
  for (int64_t d = 0; d < rank - 1; ++d)
    back[perm[d]] = d;
  back[rank - 1] = rank - 1;
  y = b.transpose(y, back);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// A rank-0 i64 value of a scalar or one-element operand.
static Value scalarI64(Decomposer &b, Value v, OpBuilder &builder) {
  v = b.convert(v, builder.getI64Type());
  if (v && Decomposer::rank(v) != 0)
    v = b.reshape(v, b.ints({}));
  return v;
}

/// STFT of [batch, signal, 1 or 2] (real or complex): frame f is the
/// signal from f * frame_step, frame_length long (or the window's length),
/// times the window; each frame's DFT (frame_length / 2 + 1 bins when
/// onesided) gives [batch, frames, bins, 2]. Frames are gathered by an index
/// matrix; the transform is two matmuls with cosine and sine matrices,
/// constants when the frame length is, else computed by the model.
static LogicalResult importSTFT(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  RankedTensorType type = n.operandType(0);
  if (type.getRank() != 3 ||
      (type.getDimSize(2) != 1 && type.getDimSize(2) != 2))
    return n.emitError() << "expects a [batch, signal, 1 or 2] signal (real or "
                            "complex), got "
                         << type;
  Value window = n.operand(2);
  if (!window && !n.hasOperand(3))
    return n.emitError() << "needs a window or a frame_length";
  if (window && Decomposer::rank(window) != 1)
    return n.emitError() << "the window must be 1-D, got " << window.getType();
  OpBuilder &builder = n.getBuilder();
  Decomposer b(n);
  Type element = type.getElementType();
  bool onesided = n.intAttr("onesided", 1) != 0;
  // The frame length: a constant when frame_length or the window's size is.
  int64_t staticLength = ShapedType::kDynamic;
  Value length;
  if (n.hasOperand(3)) {
    if (std::optional<SmallVector<int64_t>> given =
            getConstantInts(n.operand(3));
        given && given->size() == 1)
      staticLength = given->front();
    length = scalarI64(b, n.operand(3), builder);
  } else {
    staticLength = cast<RankedTensorType>(window.getType()).getDimSize(0);
    length = scalarI64(b, b.op<SizeOp>(window), builder);
  }
  if (!ShapedType::isDynamic(staticLength) && staticLength < 1)
    return n.emitError() << "frame_length must be positive, got "
                         << staticLength;
  if (!ShapedType::isDynamic(staticLength))
    length = b.scalar(builder.getI64Type(), staticLength);
  Value step = scalarI64(b, n.operand(1), builder);
  // frames = (signal - length) / step + 1; frame f reads f * step + [0, L).
  Value signalLength = scalarI64(b, b.dim(n.operand(0), 1), builder);
  Value one = b.scalar(builder.getI64Type(), 1);
  Value frames = b.op<AddOp>(
      {b.op<DivOp>({b.op<SubOp>({signalLength, length}), step}), one});
  Value starts = b.unsqueeze(b.op<MulOp>({b.iota(frames), step}), {1});
  Value offsets =
      ShapedType::isDynamic(staticLength)
          ? b.iota(length)
          : b.ints(llvm::to_vector(llvm::seq<int64_t>(0, staticLength)));
  Value positions = b.op<AddOp>({starts, b.unsqueeze(offsets, {0})});
  Value framed =
      b.op<GatherOp>({n.operand(0), positions}, {n.namedI64("axis", 1)});
  // [batch, frames, L, c] -> the parts [batch, frames, L], windowed.
  auto part = [&](int64_t c) {
    Value v = b.op<SliceOp>(
        {framed, b.ints({c}), b.ints({c + 1}), b.ints({3}), b.ints({1})});
    v = b.squeeze(v, {3});
    return window ? b.op<MulOp>({v, b.convert(window, element)}) : v;
  };
  Value re = part(0), im = type.getDimSize(2) == 2 ? part(1) : Value();
  Value cosMatrix, sinMatrix;
  if (!ShapedType::isDynamic(staticLength)) {
    int64_t bins = onesided ? staticLength / 2 + 1 : staticLength;
    std::tie(cosMatrix, sinMatrix) =
        dftMatrices(n, b, staticLength, bins, element);
  } else {
    Value bins =
        onesided
            ? b.op<AddOp>(
                  {b.op<DivOp>({length, b.scalar(builder.getI64Type(), 2)}),
                   one})
            : length;
    std::tie(cosMatrix, sinMatrix) =
        runtimeDftMatrices(b, length, bins, element);
  }
  auto matmul = [&](Value a, Value m) {
    return b.op<MatMulOp>({a, m}, {n.segments({1, 1, 0, 0})});
  };
  // (re + i im)(cos - i sin).
  Value outRe = matmul(re, cosMatrix);
  Value outIm = b.op<NegOp>(matmul(re, sinMatrix));
  if (im) {
    outRe = b.op<AddOp>({outRe, matmul(im, sinMatrix)});
    outIm = b.op<AddOp>({outIm, matmul(im, cosMatrix)});
  }
  Value y = b.concat({b.unsqueeze(outRe, {3}), b.unsqueeze(outIm, {3})}, 3);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// MelWeightMatrix: [dft_length / 2 + 1, num_mel_bins] triangular filters.
/// num_mel_bins + 2 points equally spaced on the mel scale between the edge
/// frequencies (the step is the span over num_mel_bins + 2, as ONNX's
/// reference computes it) map to spectrogram bins F; filter i rises from
/// F[i] to F[i + 1] and falls to F[i + 2]. Computed by the model from its
/// (possibly run-time) inputs over an iota grid.
static LogicalResult importMelWeightMatrix(NodeImporter &n) {
  if (failed(n.requireOperands(5)))
    return failure();
  FailureOr<Type> element = outputDataType(n);
  if (failed(element))
    return failure();
  OpBuilder &builder = n.getBuilder();
  Decomposer b(n);
  Type i64 = builder.getI64Type(), f64 = builder.getF64Type();
  Value mels = scalarI64(b, n.operand(0), builder);
  Value dftLength = scalarI64(b, n.operand(1), builder);
  Value sampleRate = scalarI64(b, n.operand(2), builder);
  auto scalarF64 = [&](Value v) {
    v = b.convert(v, f64);
    return v && Decomposer::rank(v) != 0 ? b.reshape(v, b.ints({})) : v;
  };
  // mel(f) = 2595 log10(1 + f / 700).
  auto toMel = [&](Value hertz) {
    Value ratio = b.op<AddOp>(
        {b.op<DivOp>({hertz, b.scalar(f64, 700)}), b.scalar(f64, 1)});
    return b.op<MulOp>({b.op<LogOp>(ratio), b.scalar(f64, 2595 / M_LN10)});
  };
  Value low = toMel(scalarF64(n.operand(3)));
  Value high = toMel(scalarF64(n.operand(4)));
  Value points = b.op<AddOp>({mels, b.scalar(i64, 2)});
  Value step = b.op<DivOp>({b.op<SubOp>({high, low}), b.convert(points, f64)});
  Value mel =
      b.op<AddOp>({b.op<MulOp>({b.convert(b.iota(points), f64), step}), low});
  // Back to hertz: 700 (10^(mel / 2595) - 1), then to a bin:
  // floor((dft_length + 1) f / sample_rate).
  Value hertz = b.op<MulOp>(
      {b.op<SubOp>(
           {b.op<ExpOp>(b.op<MulOp>({mel, b.scalar(f64, M_LN10 / 2595)})),
            b.scalar(f64, 1)}),
       b.scalar(f64, 700)});
  Value bins = b.convert(
      b.op<FloorOp>(b.op<DivOp>(
          {b.op<MulOp>(
               {b.convert(b.op<AddOp>({dftLength, b.scalar(i64, 1)}), f64),
                hertz}),
           b.convert(sampleRate, f64)})),
      i64);
  // Filter i's left, center and right bins as [1, mels] rows; the
  // spectrogram bins j as a [spectrogram bins, 1] column.
  Value filters = b.iota(mels);
  auto edge = [&](int64_t offset) {
    Value at = b.op<AddOp>({filters, b.scalar(i64, offset)});
    return b.unsqueeze(
        b.convert(b.op<GatherOp>({bins, at}, {n.namedI64("axis", 0)}), f64),
        {0});
  };
  Value left = edge(0), center = edge(1), right = edge(2);
  Value spectrogramBins = b.op<AddOp>(
      {b.op<DivOp>({dftLength, b.scalar(i64, 2)}), b.scalar(i64, 1)});
  Value j = b.unsqueeze(b.convert(b.iota(spectrogramBins), f64), {1});
  Value zero = b.scalar(f64, 0), oneF = b.scalar(f64, 1);
  // Rising edge: (j - left) / (center - left) on [left, center]; a filter
  // whose left and center coincide is 1 at its center.
  Value rising = b.op<WhereOp>(
      {b.op<AndOp>(
           {b.op<LessOrEqualOp>({left, j}), b.op<LessOrEqualOp>({j, center})}),
       b.op<DivOp>({b.op<SubOp>({j, left}), b.op<SubOp>({center, left})}),
       zero});
  Value spike = b.op<WhereOp>({b.op<EqualOp>({j, center}), oneF, zero});
  rising = b.op<WhereOp>({b.op<EqualOp>({left, center}), spike, rising});
  // Falling edge, which wins where both apply: (right - j) / (right -
  // center) on [center, right).
  Value falls = b.op<AndOp>({b.op<LessOp>({center, right}),
                             b.op<AndOp>({b.op<LessOrEqualOp>({center, j}),
                                          b.op<LessOp>({j, right})})});
  Value falling =
      b.op<DivOp>({b.op<SubOp>({right, j}), b.op<SubOp>({right, center})});
  Value y = b.convert(b.op<WhereOp>({falls, falling, rising}), *element);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

void onnx_import::registerSignalOps(OpRegistry &r) {
  r.add("DFT", 17, importDFT);
  r.add("STFT", 17, importSTFT);
  r.add("MelWeightMatrix", 17, importMelWeightMatrix);
  // Coefficients of cos(k * angle), k = 0, 1, 2.
  r.add("HannWindow", 17,
        [](NodeImporter &n) { return importWindow(n, {0.5, -0.5}); });
  r.add("HammingWindow", 17, [](NodeImporter &n) {
    return importWindow(n, {25.0 / 46.0, -21.0 / 46.0});
  });
  r.add("BlackmanWindow", 17,
        [](NodeImporter &n) { return importWindow(n, {0.42, -0.5, 0.08}); });
}
