//===- NeuralOps.cpp - import of matmul, conv, pooling, normalization -----===//

#include "NodeImporter.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

static LogicalResult importMatMul(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  return n.setResult(n.create<MatMulOp>({n.operand(0), n.operand(1)},
                                        {n.segments({1, 1, 0, 0})}));
}

/// Gemm; C is required before opset 11.
static LogicalResult importGemm(NodeImporter &n) {
  if (failed(n.requireOperands(n.getOpset() < 11 ? 3 : 2)))
    return failure();
  SmallVector<Value> operands = {n.operand(0), n.operand(1)};
  if (n.hasOperand(2))
    operands.push_back(n.operand(2));
  return n.setResult(n.create<GemmOp>(
      operands, {n.segments({1, 1, n.hasOperand(2) ? 1 : 0, 0}),
                 n.namedF32("alpha", n.floatAttr("alpha", 1.0f)),
                 n.namedF32("beta", n.floatAttr("beta", 1.0f)),
                 n.namedBool("trans_a", n.intAttr("transA", 0) != 0),
                 n.namedBool("trans_b", n.intAttr("transB", 0) != 0)}));
}

//===----------------------------------------------------------------------===//
// Windows: kernel, strides, dilations and padding
//===----------------------------------------------------------------------===//

namespace {
/// The window of a conv or pool with every default filled in.
struct Window {
  SmallVector<int64_t> kernel, strides, dilations, pads;
  /// Spatial dims whose SAME padding depends on their dynamic extent
  /// (a stride above 1): their pads are 0 here, and `padAtRunTime` pads the
  /// input instead.
  SmallVector<bool> runtimePads;
  bool upper = true; // SAME_UPPER (the odd pad at the end) or SAME_LOWER
  bool needsRuntimePads() const {
    return llvm::is_contained(runtimePads, true);
  }
};
} // namespace

/// Reads the window attributes of node `n` for `input` with a kernel of
/// `kernel` (from the weight or kernel_shape) and resolves auto_pad into
/// explicit pads. SAME padding of a dynamic spatial dim is static with
/// stride 1 (the kernel's extent - 1); with a larger stride it depends on
/// the extent, and the dim is marked in `runtimePads`.
static FailureOr<Window> readWindow(NodeImporter &n, RankedTensorType input,
                                    ArrayRef<int64_t> kernel) {
  int64_t spatial = input.getRank() - 2;
  if (spatial < 1)
    return n.emitError() << "expects an input of rank >= 3 (N, C, spatial "
                            "dims), got "
                         << input;
  Window w;
  w.kernel.assign(kernel.begin(), kernel.end());
  w.strides = n.intsAttr("strides", SmallVector<int64_t>(spatial, 1));
  w.dilations = n.intsAttr("dilations", SmallVector<int64_t>(spatial, 1));
  if (static_cast<int64_t>(w.kernel.size()) != spatial ||
      static_cast<int64_t>(w.strides.size()) != spatial ||
      static_cast<int64_t>(w.dilations.size()) != spatial)
    return n.emitError() << "kernel_shape, strides and dilations must have "
                         << spatial << " entries for input " << input;
  auto positive = [](ArrayRef<int64_t> values) {
    return llvm::all_of(values, [](int64_t v) { return v > 0; });
  };
  if (!positive(w.strides) || !positive(w.dilations))
    return n.emitError() << "strides and dilations must be positive";
  std::string autoPad = n.stringAttr("auto_pad", "NOTSET");
  if (autoPad == "NOTSET") {
    w.pads = n.intsAttr("pads", SmallVector<int64_t>(2 * spatial, 0));
    if (static_cast<int64_t>(w.pads.size()) != 2 * spatial)
      return n.emitError() << "pads must have " << 2 * spatial << " entries";
    return w;
  }
  w.pads.assign(2 * spatial, 0);
  w.runtimePads.assign(spatial, false);
  if (autoPad == "VALID")
    return w;
  if (autoPad != "SAME_UPPER" && autoPad != "SAME_LOWER")
    return n.emitError() << "unknown auto_pad \"" << autoPad << "\"";
  w.upper = autoPad == "SAME_UPPER";
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t in = input.getDimSize(i + 2);
    if (ShapedType::isDynamic(w.kernel[i]))
      return n.emitError() << "auto_pad " << autoPad
                           << " needs a kernel of static size";
    int64_t extent = (w.kernel[i] - 1) * w.dilations[i] + 1;
    int64_t total;
    if (!ShapedType::isDynamic(in)) {
      int64_t out = (in + w.strides[i] - 1) / w.strides[i];
      total = std::max<int64_t>(0, (out - 1) * w.strides[i] + extent - in);
    } else if (w.strides[i] == 1) {
      total = extent - 1; // the output has the input's extent
    } else {
      w.runtimePads[i] = true;
      continue;
    }
    int64_t small = total / 2;
    w.pads[i] = w.upper ? small : total - small;
    w.pads[i + spatial] = total - w.pads[i];
  }
  return w;
}

/// `x` padded by `value` where `w` pads at run time: SAME padding of a
/// dynamic dim with stride s is max((ceil(in / s) - 1) s + extent - in, 0),
/// split as auto_pad says.
static Value padAtRunTime(NodeImporter &n, Value x, const Window &w,
                          double value) {
  Decomposer b(n);
  int64_t spatial = w.kernel.size();
  SmallVector<Value> begins = {b.ints({0, 0})}, ends = {b.ints({0, 0})};
  for (int64_t i = 0; i < spatial; ++i) {
    if (!w.runtimePads[i]) {
      begins.push_back(b.ints({0}));
      ends.push_back(b.ints({0}));
      continue;
    }
    Value in = b.dim(x, i + 2);
    Value stride = b.ints({w.strides[i]});
    Value out =
        b.op<DivOp>({b.op<AddOp>({in, b.ints({w.strides[i] - 1})}), stride});
    int64_t extent = (w.kernel[i] - 1) * w.dilations[i] + 1;
    Value total = b.op<MaxOp>(
        {b.op<SubOp>({b.op<AddOp>({b.op<MulOp>({b.op<SubOp>({out, b.ints({1})}),
                                                stride}),
                                   b.ints({extent})}),
                      in}),
         b.ints({0})});
    Value half = b.op<DivOp>({total, b.ints({2})});
    Value begin = w.upper ? half : b.op<SubOp>({total, half});
    begins.push_back(begin);
    ends.push_back(b.op<SubOp>({total, begin}));
  }
  SmallVector<Value> pads(begins);
  pads.append(ends);
  Type element = Decomposer::elementType(x);
  Value padded = b.op<PadOp>({x, b.concat(pads), b.scalar(element, value)},
                             {n.namedStr("mode", "constant")});
  return b.failed() ? Value() : padded;
}

static SmallVector<NamedAttribute> windowAttrs(NodeImporter &n,
                                               const Window &w) {
  return {n.namedI64s("pads", w.pads), n.namedI64s("strides", w.strides),
          n.namedI64s("dilations", w.dilations)};
}

/// Checks that input and weight of a conv have the same rank >= 3.
static LogicalResult checkConvRanks(NodeImporter &n) {
  RankedTensorType input = n.operandType(0), weight = n.operandType(1);
  if (input.getRank() < 3 || weight.getRank() != input.getRank())
    return n.emitError() << "expects input and weight of the same rank >= 3 "
                            "(N, C, spatial dims), got "
                         << input << " and " << weight;
  return success();
}

FailureOr<Value> onnx_import::buildConv(NodeImporter &n, Value input,
                                        Value weight, Value bias) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto weightType = cast<RankedTensorType>(weight.getType());
  if (inputType.getRank() < 3 || weightType.getRank() != inputType.getRank())
    return n.emitError() << "expects input and weight of the same rank >= 3 "
                            "(N, C, spatial dims), got "
                         << inputType << " and " << weightType;
  SmallVector<int64_t> kernel =
      n.intsAttr("kernel_shape", weightType.getShape().drop_front(2));
  FailureOr<Window> w = readWindow(n, inputType, kernel);
  if (failed(w))
    return failure();
  if (w->needsRuntimePads()) {
    input = padAtRunTime(n, input, *w, 0.0);
    if (!input)
      return failure();
  }
  SmallVector<Value> operands = {input, weight};
  if (bias)
    operands.push_back(bias);
  SmallVector<NamedAttribute> attrs = windowAttrs(n, *w);
  attrs.push_back(n.namedI64("group", n.intAttr("group", 1)));
  attrs.push_back(n.segments({1, 1, bias ? 1 : 0, 0}));
  return n.create<ConvOp>(operands, attrs);
}

static LogicalResult importConv(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  return n.setResult(buildConv(n, n.operand(0), n.operand(1), n.operand(2)));
}

static LogicalResult importConvTranspose(NodeImporter &n) {
  if (failed(n.requireOperands(2)) || failed(checkConvRanks(n)))
    return failure();
  RankedTensorType input = n.operandType(0), weight = n.operandType(1);
  int64_t spatial = input.getRank() - 2;
  SmallVector<int64_t> kernel =
      n.intsAttr("kernel_shape", weight.getShape().drop_front(2));
  SmallVector<int64_t> outputPadding =
      n.intsAttr("output_padding", SmallVector<int64_t>(spatial, 0));
  SmallVector<int64_t> outputShape = n.intsAttr("output_shape");
  std::string autoPad = n.stringAttr("auto_pad", "NOTSET");
  FailureOr<Window> w = [&]() -> FailureOr<Window> {
    if (outputShape.empty() && autoPad != "SAME_UPPER" &&
        autoPad != "SAME_LOWER")
      return readWindow(n, input, kernel);
    // Pads follow from the requested output shape (for SAME: input * stride).
    Window w;
    w.kernel = kernel;
    w.strides = n.intsAttr("strides", SmallVector<int64_t>(spatial, 1));
    w.dilations = n.intsAttr("dilations", SmallVector<int64_t>(spatial, 1));
    w.pads.assign(2 * spatial, 0);
    if (static_cast<int64_t>(outputShape.size()) > spatial)
      outputShape.erase(outputShape.begin(),
                        outputShape.end() - spatial); // N, C given too
    if (static_cast<int64_t>(kernel.size()) != spatial ||
        static_cast<int64_t>(w.strides.size()) != spatial ||
        static_cast<int64_t>(w.dilations.size()) != spatial ||
        static_cast<int64_t>(outputPadding.size()) != spatial ||
        (!outputShape.empty() &&
         static_cast<int64_t>(outputShape.size()) != spatial))
      return n.emitError() << "kernel_shape, strides, dilations, "
                              "output_padding and output_shape must have "
                           << spatial << " entries";
    for (int64_t i = 0; i < spatial; ++i) {
      int64_t in = input.getDimSize(i + 2);
      if (ShapedType::isDynamic(in) || ShapedType::isDynamic(kernel[i]))
        return n.emitError() << "output_shape/auto_pad need static spatial "
                                "dims and kernel; fix them with --input-shape";
      int64_t out = outputShape.empty() ? in * w.strides[i] : outputShape[i];
      int64_t total = w.strides[i] * (in - 1) + outputPadding[i] +
                      (kernel[i] - 1) * w.dilations[i] + 1 - out;
      if (total < 0) {
        // A larger output than the strides reach: the extra positions at
        // the end get no contributions (bias only), like output_padding.
        outputPadding[i] -= total;
        continue;
      }
      // As the ONNX spec says: the odd pad goes to the end only for
      // SAME_UPPER.
      bool upper = autoPad == "SAME_UPPER";
      w.pads[i] = upper ? total / 2 : total - total / 2;
      w.pads[i + spatial] = total - w.pads[i];
    }
    return w;
  }();
  if (failed(w))
    return failure();
  SmallVector<Value> operands = {n.operand(0), n.operand(1)};
  if (n.hasOperand(2))
    operands.push_back(n.operand(2));
  SmallVector<NamedAttribute> attrs = windowAttrs(n, *w);
  attrs.push_back(n.namedI64s("output_padding", outputPadding));
  attrs.push_back(n.namedI64("group", n.intAttr("group", 1)));
  return n.setResult(n.create<ConvTransposeOp>(operands, attrs));
}

/// MaxPool's Indices output for `x` pooled into `y` (static spatial dims):
/// the input, padded with -inf, is sliced once per kernel offset; a running
/// strict maximum over the offsets in row-major order keeps the first
/// maximum's flat index, which is a constant per offset and output position
/// (row-major over the spatial dims, or column-major with storage_order 1),
/// plus the offset of the (n, c) plane.
static FailureOr<Value> buildMaxPoolIndices(NodeImporter &n, Value x, Value y,
                                            const Window &w, bool columnMajor) {
  auto xType = cast<RankedTensorType>(x.getType());
  auto yType = cast<RankedTensorType>(y.getType());
  int64_t spatial = xType.getRank() - 2;
  ArrayRef<int64_t> in = xType.getShape().drop_front(2);
  ArrayRef<int64_t> out = yType.getShape().drop_front(2);
  if (llvm::any_of(in, ShapedType::isDynamic) ||
      llvm::any_of(out, ShapedType::isDynamic))
    return n.emitError() << "the Indices output needs static spatial dims, got "
                         << xType << " pooled to " << yType;
  Decomposer b(n);
  Type i64 = n.getBuilder().getI64Type();
  Type element = xType.getElementType();
  // Pad so that every window position (ceil_mode may reach past the end
  // padding) lies inside.
  SmallVector<int64_t> pads(2 * (spatial + 2), 0);
  for (int64_t i = 0; i < spatial; ++i) {
    int64_t reach =
        (out[i] - 1) * w.strides[i] + (w.kernel[i] - 1) * w.dilations[i] + 1;
    pads[i + 2] = w.pads[i];
    pads[spatial + 4 + i] =
        std::max(w.pads[i + spatial], reach - w.pads[i] - in[i]);
  }
  Value padded =
      b.op<PadOp>({x, b.ints(pads),
                   b.scalar(element, -std::numeric_limits<double>::infinity())},
                  {n.namedStr("mode", "constant")});
  SmallVector<int64_t> axes, steps;
  for (int64_t i = 0; i < spatial; ++i) {
    axes.push_back(i + 2);
    steps.push_back(w.strides[i]);
  }
  int64_t positions = 1;
  for (int64_t extent : out)
    positions *= extent;
  SmallVector<int64_t> indexShape = {1, 1};
  llvm::append_range(indexShape, out);
  auto indexType = RankedTensorType::get(indexShape, i64);

  Value best, bestIndex;
  SmallVector<int64_t> offset(spatial, 0);
  while (true) {
    SmallVector<int64_t> starts, ends;
    for (int64_t i = 0; i < spatial; ++i) {
      starts.push_back(offset[i] * w.dilations[i]);
      ends.push_back(starts.back() + (out[i] - 1) * w.strides[i] + 1);
    }
    Value candidate = b.op<SliceOp>(
        {padded, b.ints(starts), b.ints(ends), b.ints(axes), b.ints(steps)});
    // The flat index each output position reads at this offset (-1 in the
    // padding, where the value is -inf and never wins).
    SmallVector<int64_t> flat(positions);
    SmallVector<int64_t> position(spatial, 0);
    for (int64_t p = 0; p < positions; ++p) {
      int64_t rest = p, index = 0, stride = 1;
      bool inside = true;
      for (int64_t i = spatial - 1; i >= 0; --i) {
        position[i] = rest % out[i];
        rest /= out[i];
      }
      for (int64_t j = 0; j < spatial; ++j) {
        // Row-major: the last dim varies fastest; column-major: the first.
        int64_t i = columnMajor ? j : spatial - 1 - j;
        int64_t at =
            position[i] * w.strides[i] - w.pads[i] + offset[i] * w.dilations[i];
        inside &= at >= 0 && at < in[i];
        index += at * stride;
        stride *= in[i];
      }
      flat[p] = inside ? index : -1;
    }
    Value indices =
        ConstantOp::create(n.getBuilder(), n.getLoc(),
                           DenseElementsAttr::get(indexType, ArrayRef(flat)));
    if (!best) {
      best = candidate;
      bestIndex = indices;
    } else {
      Value wins = b.op<GreaterOp>({candidate, best});
      best = b.op<WhereOp>({wins, candidate, best});
      bestIndex = b.op<WhereOp>({wins, indices, bestIndex});
    }
    int64_t i = spatial - 1;
    while (i >= 0 && ++offset[i] == w.kernel[i])
      offset[i--] = 0;
    if (i < 0)
      break;
  }
  // Plane (n, c) starts at (n * C + c) * the plane's size.
  int64_t plane = 1;
  for (int64_t extent : in)
    plane *= extent;
  Value planes = b.op<MulOp>({b.dim(x, 0), b.dim(x, 1)});
  SmallVector<Value> baseShape = {b.dim(x, 0), b.dim(x, 1),
                                  b.ints(SmallVector<int64_t>(spatial, 1))};
  Value base = b.op<MulOp>(
      {b.reshape(b.iota(planes), b.concat(baseShape)), b.scalar(i64, plane)});
  Value result = b.op<AddOp>({bestIndex, base});
  if (b.failed())
    return failure();
  return result;
}

/// MaxPool and AveragePool share their window attributes.
template <typename OpTy> static LogicalResult importPool(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  SmallVector<int64_t> kernel = n.intsAttr("kernel_shape");
  if (kernel.empty())
    return n.emitError() << "kernel_shape is required";
  FailureOr<Window> w = readWindow(n, n.operandType(0), kernel);
  if (failed(w))
    return failure();
  Value input = n.operand(0);
  if (w->needsRuntimePads()) {
    // The padding is explicit: a max pool pads with the lowest value, an
    // average pool only where padding counts anyway.
    bool wantsIndices =
        n.getNode().output_size() > 1 && !n.getNode().output(1).empty();
    bool excludesPad = std::is_same_v<OpTy, AveragePoolOp> &&
                       n.intAttr("count_include_pad", 0) == 0;
    if (wantsIndices || excludesPad || n.intAttr("ceil_mode", 0) != 0)
      return n.emitError()
             << "auto_pad " << n.stringAttr("auto_pad", "")
             << " with a stride above 1 on dynamic spatial dims is supported "
                "for Conv, MaxPool and AveragePool with count_include_pad, "
                "without Indices or ceil_mode; fix the dims with "
                "--input-shape";
    Type element = Decomposer::elementType(input);
    double lowest = isa<FloatType>(element)
                        ? -std::numeric_limits<double>::infinity()
                    : element.isUnsignedInteger()
                        ? 0.0
                        : -std::ldexp(1.0, element.getIntOrFloatBitWidth() - 1);
    input = padAtRunTime(n, input, *w,
                         std::is_same_v<OpTy, MaxPoolOp> ? lowest : 0.0);
    if (!input)
      return failure();
  }
  SmallVector<NamedAttribute> attrs = windowAttrs(n, *w);
  attrs.push_back(n.namedI64s("kernel_shape", kernel));
  attrs.push_back(n.namedBool("ceil_mode", n.intAttr("ceil_mode", 0) != 0));
  if constexpr (std::is_same_v<OpTy, AveragePoolOp>)
    attrs.push_back(n.namedBool("count_include_pad",
                                n.intAttr("count_include_pad", 0) != 0));
  FailureOr<Value> pooled = n.create<OpTy>(input, attrs);
  if (failed(pooled))
    return failure();
  if constexpr (std::is_same_v<OpTy, MaxPoolOp>) {
    if (n.getNode().output_size() > 1 && !n.getNode().output(1).empty()) {
      FailureOr<Value> indices = buildMaxPoolIndices(
          n, n.operand(0), *pooled, *w, n.intAttr("storage_order", 0) != 0);
      if (failed(indices))
        return failure();
      return n.setResults({*pooled, *indices});
    }
  }
  return n.setResult(*pooled);
}

static LogicalResult importGlobalAveragePool(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  return n.setResult(n.create<GlobalAveragePoolOp>(n.operand(0)));
}

//===----------------------------------------------------------------------===//
// Normalization and softmax
//===----------------------------------------------------------------------===//

static LogicalResult importBatchNormTraining(NodeImporter &n);

static LogicalResult importBatchNorm(NodeImporter &n) {
  if (failed(n.requireOperands(5)))
    return failure();
  if (n.intAttr("training_mode", 0) != 0)
    return importBatchNormTraining(n);
  if (n.getOpset() < 9 && n.intAttr("spatial", 1) != 1)
    return n.emitError() << "spatial = 0 is not supported";
  FailureOr<SmallVector<Value>> operands = n.allOperands();
  if (failed(operands))
    return failure();
  return n.setResult(n.create<BatchNormOp>(
      *operands, {n.namedF32("epsilon", n.floatAttr("epsilon", 1e-5f))}));
}

/// LayerNormalization; its optional Mean and InvStdDev outputs (computed in
/// f32 with the default stash_type) are built from reductions when a node
/// asks for them.
static LogicalResult importLayerNorm(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  SmallVector<Value> operands = {n.operand(0), n.operand(1)};
  if (n.hasOperand(2))
    operands.push_back(n.operand(2));
  int64_t axis = n.intAttr("axis", -1);
  float epsilon = n.floatAttr("epsilon", 1e-5f);
  FailureOr<Value> y = n.create<LayerNormOp>(
      operands, {n.namedI64("axis", axis), n.namedF32("epsilon", epsilon)});
  if (failed(y))
    return failure();
  const onnx::NodeProto &node = n.getNode();
  bool wantsStats = (node.output_size() > 1 && !node.output(1).empty()) ||
                    (node.output_size() > 2 && !node.output(2).empty());
  if (!wantsStats)
    return n.setResults(*y);
  RankedTensorType type = n.operandType(0);
  int64_t rank = type.getRank();
  FailureOr<int64_t> first = normalizeAxis(axis, rank);
  if (failed(first))
    return n.emitError() << "axis " << axis << " is out of range";
  SmallVector<int64_t> axes;
  for (int64_t d = *first; d < rank; ++d)
    axes.push_back(d);
  Type f32 = n.getBuilder().getF32Type();
  Value x = n.operand(0);
  if (type.getElementType() != f32) {
    FailureOr<Value> cast =
        n.create<CastOp>(x, {n.named("to", TypeAttr::get(f32))});
    if (failed(cast))
      return failure();
    x = *cast;
  }
  SmallVector<NamedAttribute> reduceAttrs = {n.namedI64s("axes", axes),
                                             n.namedBool("keepdims", true)};
  FailureOr<Value> mean = n.create<ReduceMeanOp>(x, reduceAttrs);
  if (failed(mean))
    return failure();
  FailureOr<Value> centered = n.create<SubOp>({x, *mean});
  if (failed(centered))
    return failure();
  FailureOr<Value> squared = n.create<MulOp>({*centered, *centered});
  if (failed(squared))
    return failure();
  FailureOr<Value> variance = n.create<ReduceMeanOp>(*squared, reduceAttrs);
  if (failed(variance))
    return failure();
  FailureOr<Value> shifted =
      n.create<AddOp>({*variance, n.constScalar(f32, epsilon)});
  if (failed(shifted))
    return failure();
  FailureOr<Value> deviation = n.create<SqrtOp>(*shifted);
  if (failed(deviation))
    return failure();
  FailureOr<Value> inverse = n.create<ReciprocalOp>(*deviation);
  if (failed(inverse))
    return failure();
  return n.setResults({*y, *mean, *inverse});
}

/// The axes [from, rank) of `v`.
static SmallVector<int64_t> axesFrom(int64_t from, int64_t rank) {
  SmallVector<int64_t> axes;
  for (int64_t d = from; d < rank; ++d)
    axes.push_back(d);
  return axes;
}

static LogicalResult importGlobalMaxPool(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  Decomposer b(n);
  Value y = b.reduce<ReduceMaxOp>(
      n.operand(0), axesFrom(2, n.operandType(0).getRank()), true);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// BatchNormalization with training_mode = 1: normalizes with the batch's
/// own statistics and returns the updated running mean and variance.
static LogicalResult importBatchNormTraining(NodeImporter &n) {
  Decomposer b(n);
  Value x = n.operand(0);
  Type element = b.elementType(x);
  SmallVector<int64_t> axes = {0};
  for (int64_t d : axesFrom(2, b.rank(x)))
    axes.push_back(d);
  Value mean = b.reduce<ReduceMeanOp>(x, axes, false);
  Value centered = b.op<SubOp>({x, b.reduce<ReduceMeanOp>(x, axes, true)});
  Value variance =
      b.reduce<ReduceMeanOp>(b.op<MulOp>({centered, centered}), axes, false);
  Value y =
      b.op<BatchNormOp>({x, n.operand(1), n.operand(2), mean, variance},
                        {n.namedF32("epsilon", n.floatAttr("epsilon", 1e-5f))});
  float momentum = n.floatAttr("momentum", 0.9f);
  auto running = [&](Value old, Value current) {
    return b.op<AddOp>(
        {b.op<MulOp>({old, b.scalar(element, momentum)}),
         b.op<MulOp>({current, b.scalar(element, 1 - momentum)})});
  };
  Value runningMean = running(n.operand(3), mean);
  Value runningVariance = running(n.operand(4), variance);
  if (b.failed())
    return failure();
  return n.setResults({y, runningMean, runningVariance});
}

/// InstanceNormalization: normalizes each (sample, channel) over the
/// spatial dims, then scales and shifts per channel.
static LogicalResult importInstanceNorm(NodeImporter &n) {
  if (failed(n.requireOperands(3)))
    return failure();
  Decomposer b(n);
  Value x = n.operand(0);
  int64_t rank = b.rank(x);
  if (rank < 3)
    return n.emitError() << "expects an input of rank >= 3 (N, C, spatial "
                            "dims), got "
                         << n.operandType(0);
  Type element = b.elementType(x);
  SmallVector<int64_t> axes = axesFrom(2, rank);
  Value centered = b.op<SubOp>({x, b.reduce<ReduceMeanOp>(x, axes, true)});
  Value variance =
      b.reduce<ReduceMeanOp>(b.op<MulOp>({centered, centered}), axes, true);
  Value deviation = b.op<SqrtOp>(b.op<AddOp>(
      {variance, b.scalar(element, n.floatAttr("epsilon", 1e-5f))}));
  SmallVector<int64_t> trailing = axesFrom(1, rank - 1);
  Value scale = b.unsqueeze(n.operand(1), trailing);
  Value bias = b.unsqueeze(n.operand(2), trailing);
  Value y = b.op<AddOp>(
      {b.op<MulOp>({b.op<DivOp>({centered, deviation}), scale}), bias});
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// MeanVarianceNormalization, step for step as its ONNX function body:
/// (x - E[x]) / (sqrt(E[x^2] - E[x]^2) + 1e-9).
static LogicalResult importMeanVarianceNorm(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  Decomposer b(n);
  Value x = n.operand(0);
  Type element = b.elementType(x);
  SmallVector<int64_t> axes = n.intsAttr("axes", {0, 2, 3});
  Value mean = b.reduce<ReduceMeanOp>(x, axes, true);
  Value meanOfSquares = b.reduce<ReduceMeanOp>(b.op<MulOp>({x, x}), axes, true);
  Value variance = b.op<SubOp>({meanOfSquares, b.op<MulOp>({mean, mean})});
  Value deviation =
      b.op<AddOp>({b.op<SqrtOp>(variance), b.scalar(element, 1e-9)});
  Value y = b.op<DivOp>({b.op<SubOp>({x, mean}), deviation});
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// LRN: x / (bias + alpha / size * sum of x^2 over `size` neighbouring
/// channels)^beta. The channel-window sum is an average pool (counting the
/// padding, times `size`) over x^2 viewed as [N, 1, C, spatial].
static LogicalResult importLRN(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  int64_t size = n.intAttr("size", 0);
  if (size < 1)
    return n.emitError() << "size must be positive";
  Decomposer b(n);
  Value x = n.operand(0);
  int64_t rank = b.rank(x);
  if (rank < 3)
    return n.emitError() << "expects an input of rank >= 3 (N, C, spatial "
                            "dims), got "
                         << n.operandType(0);
  Type element = b.elementType(x);
  Value view = b.concat({b.dim(x, 0), b.ints({1}), b.dim(x, 1), b.ints({-1})});
  Value squares = b.reshape(b.op<MulOp>({x, x}), view);
  int64_t before = (size - 1) / 2, after = size - 1 - before;
  Value average =
      b.op<AveragePoolOp>(squares, {n.namedI64s("kernel_shape", {size, 1}),
                                    n.namedI64s("pads", {before, 0, after, 0}),
                                    n.namedI64s("strides", {1, 1}),
                                    n.namedI64s("dilations", {1, 1}),
                                    n.namedBool("count_include_pad", true)});
  Value windowSum = b.reshape(average, b.shape(x));
  Value base = b.op<AddOp>(
      {b.scalar(element, n.floatAttr("bias", 1.0f)),
       b.op<MulOp>(
           {windowSum, b.scalar(element, n.floatAttr("alpha", 1e-4f))})});
  Value y = b.op<DivOp>(
      {x, b.op<PowOp>({base, b.scalar(element, n.floatAttr("beta", 0.75f))})});
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// MaxUnpool: zeros of the unpooled shape with each input value scattered
/// to the flat position its index (as MaxPool's Indices output gives it)
/// names, padded at the end to `output_shape` when given.
static LogicalResult importMaxUnpool(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  RankedTensorType type = n.operandType(0);
  int64_t rank = type.getRank();
  int64_t spatial = rank - 2;
  if (spatial < 1)
    return n.emitError() << "expects an input of rank >= 3, got " << type;
  SmallVector<int64_t> kernel = n.intsAttr("kernel_shape");
  SmallVector<int64_t> strides =
      n.intsAttr("strides", SmallVector<int64_t>(spatial, 1));
  SmallVector<int64_t> pads =
      n.intsAttr("pads", SmallVector<int64_t>(2 * spatial, 0));
  if (static_cast<int64_t>(kernel.size()) != spatial ||
      static_cast<int64_t>(strides.size()) != spatial ||
      static_cast<int64_t>(pads.size()) != 2 * spatial)
    return n.emitError() << "kernel_shape, strides and pads must cover the "
                         << spatial << " spatial dims";
  Decomposer b(n);
  Type i64 = n.getBuilder().getI64Type();
  Value x = n.operand(0);
  // (in - 1) * stride - pad_begin - pad_end + kernel per spatial dim.
  SmallVector<Value> dims = {b.dim(x, 0), b.dim(x, 1)};
  for (int64_t i = 0; i < spatial; ++i) {
    Value in = b.op<SubOp>({b.dim(x, i + 2), b.ints({1})});
    dims.push_back(
        b.op<AddOp>({b.op<MulOp>({in, b.ints({strides[i]})}),
                     b.ints({kernel[i] - pads[i] - pads[i + spatial]})}));
  }
  Value shape = b.concat(dims);
  Value total = b.reduce<ReduceProdOp>(shape, {}, true);
  Value zeros = b.op<ExpandOp>({b.scalar(type.getElementType(), 0), total});
  Value flat = b.ints({-1});
  Value scattered = b.op<ScatterElementsOp>(
      {zeros, b.reshape(n.operand(1), flat), b.reshape(x, flat)},
      {n.namedI64("axis", 0)});
  Value y = b.reshape(scattered, shape);
  // A given output_shape pads the unpooled tensor at the end of each dim
  // (the indices address the unpooled tensor).
  if (n.hasOperand(2)) {
    Value extra = b.op<SubOp>({b.convert(n.operand(2), i64), shape});
    Value pads = b.concat({b.ints(SmallVector<int64_t>(rank, 0)), extra});
    y = b.op<PadOp>({y, pads}, {n.namedStr("mode", "constant")});
  }
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// Softmax, LogSoftmax and Hardmax from opset 13 normalize along one axis;
/// before, the input is viewed as a matrix split at `axis` and normalized
/// along its rows.
template <typename OpTy> static LogicalResult importSoftmax(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  Value input = n.operand(0);
  RankedTensorType type = n.operandType(0);
  int64_t rank = type.getRank();
  int64_t axis = n.intAttr("axis", n.getOpset() < 13 ? 1 : -1);
  FailureOr<int64_t> normalized =
      normalizeAxis(axis, std::max<int64_t>(rank, 1));
  if (failed(normalized))
    return n.emitError() << "axis " << axis << " is out of range for " << type;
  if (n.getOpset() >= 13 || *normalized == rank - 1)
    return n.setResult(
        n.create<OpTy>(input, {n.namedI64("axis", *normalized)}));
  FailureOr<Value> matrix =
      n.create<FlattenOp>(input, {n.namedI64("axis", *normalized)});
  if (failed(matrix))
    return failure();
  FailureOr<Value> softmax = n.create<OpTy>(*matrix, {n.namedI64("axis", 1)});
  if (failed(softmax))
    return failure();
  FailureOr<Value> shape = n.create<ShapeOp>(input);
  if (failed(shape))
    return failure();
  return n.setResult(n.create<ReshapeOp>({*softmax, *shape}));
}

void onnx_import::registerNeuralOps(OpRegistry &r) {
  r.add("MatMul", {1, 9, 13}, importMatMul);
  r.add("Gemm", {7, 9, 11, 13}, importGemm);
  r.add("Conv", {1, 11}, importConv);
  r.add("ConvTranspose", {1, 11}, importConvTranspose);
  r.add("MaxPool", {1, 8, 10, 11, 12}, importPool<MaxPoolOp>);
  r.add("AveragePool", {7, 10, 11, 19}, importPool<AveragePoolOp>);
  r.add("GlobalAveragePool", 1, importGlobalAveragePool);
  r.add("GlobalMaxPool", 1, importGlobalMaxPool);
  r.add("MaxUnpool", {9, 11}, importMaxUnpool);
  r.add("InstanceNormalization", 6, importInstanceNorm);
  r.add("MeanVarianceNormalization", {9, 13}, importMeanVarianceNorm);
  r.add("LRN", {1, 13}, importLRN);
  r.add("BatchNormalization", {7, 9, 14, 15}, importBatchNorm);
  r.add("LayerNormalization", 17, importLayerNorm);
  r.add("Softmax", {1, 11, 13}, importSoftmax<SoftmaxOp>);
  r.add("LogSoftmax", {1, 11, 13}, importSoftmax<LogSoftmaxOp>);
  r.add("Hardmax", {1, 11, 13}, importSoftmax<HardmaxOp>);
}
