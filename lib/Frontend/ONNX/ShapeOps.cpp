//===- ShapeOps.cpp - import of constants, casts and data movement --------===//

#include "NodeImporter.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

//===----------------------------------------------------------------------===//
// Constants, shapes, casts, aliases
//===----------------------------------------------------------------------===//

static LogicalResult importConstant(NodeImporter &n) {
  OpBuilder &b = n.getBuilder();
  auto makeConstant = [&](ElementsAttr value) -> LogicalResult {
    return n.setResult(n.create<ConstantOp>({}, {n.named("value", value)}));
  };
  auto vector = [&](Type element, auto values) {
    auto type =
        RankedTensorType::get({static_cast<int64_t>(values.size())}, element);
    return cast<ElementsAttr>(DenseElementsAttr::get(type, ArrayRef(values)));
  };
  auto scalar = [&](Type element, auto value) {
    return cast<ElementsAttr>(
        DenseElementsAttr::get(RankedTensorType::get({}, element), value));
  };
  if (const onnx::AttributeProto *attr = n.findAttr("value")) {
    std::string name = n.getNode().output_size() ? n.getNode().output(0) : "";
    FailureOr<ElementsAttr> value = convertTensor(
        n.getContext(), attr->t(), name, [&] { return n.emitError(); });
    if (failed(value))
      return failure();
    return makeConstant(*value);
  }
  if (n.hasAttr("value_float"))
    return makeConstant(scalar(b.getF32Type(), n.floatAttr("value_float", 0)));
  if (n.hasAttr("value_int"))
    return makeConstant(scalar(b.getI64Type(), n.intAttr("value_int", 0)));
  if (n.hasAttr("value_floats"))
    return makeConstant(vector(b.getF32Type(), n.floatsAttr("value_floats")));
  if (n.hasAttr("value_ints"))
    return makeConstant(vector(b.getI64Type(), n.intsAttr("value_ints")));
  return n.emitError() << "has no value Kiln supports (value, value_float, "
                          "value_floats, value_int or value_ints); string and "
                          "sparse constants are not supported";
}

/// ConstantOfShape is an Expand of its (scalar) value to the given shape,
/// which folds to a splat constant when the shape is known.
static LogicalResult importConstantOfShape(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  ElementsAttr value;
  if (const onnx::AttributeProto *attr = n.findAttr("value")) {
    FailureOr<ElementsAttr> converted = convertTensor(
        n.getContext(), attr->t(), "", [&] { return n.emitError(); });
    if (failed(converted))
      return failure();
    if (converted->getNumElements() != 1)
      return n.emitError() << "value must hold one element";
    value = *converted;
  } else {
    auto type = RankedTensorType::get({}, n.getBuilder().getF32Type());
    value = cast<ElementsAttr>(
        DenseElementsAttr::get(type, n.getBuilder().getF32FloatAttr(0)));
  }
  auto dense = dyn_cast<DenseElementsAttr>(value);
  if (!dense)
    return n.emitError() << "value must be a small tensor";
  auto scalarType = RankedTensorType::get({}, dense.getElementType());
  Value scalar =
      ConstantOp::create(n.getBuilder(), n.getLoc(), dense.reshape(scalarType));
  RankedTensorType shapeType = n.operandType(0);
  if (shapeType.getRank() == 1 && shapeType.getDimSize(0) == 0)
    return n.setResults(scalar);
  return n.setResult(n.create<ExpandOp>({scalar, n.operand(0)}));
}

static LogicalResult importShape(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  SmallVector<NamedAttribute> attrs = {
      n.namedI64("start", n.intAttr("start", 0))};
  if (n.hasAttr("end"))
    attrs.push_back(n.namedI64("end", n.intAttr("end", 0)));
  return n.setResult(n.create<ShapeOp>(n.operand(0), attrs));
}

static LogicalResult importCast(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  int64_t to = n.intAttr("to", 0);
  Type element = convertElementType(n.getContext(), to);
  if (!element) {
    std::string name = onnx::TensorProto::DataType_IsValid(to)
                           ? onnx::TensorProto::DataType_Name(
                                 static_cast<onnx::TensorProto::DataType>(to))
                           : "data type " + std::to_string(to);
    return n.emitError() << "cannot cast to " << name
                         << ": Kiln does not support that element type";
  }
  return n.setResult(
      n.create<CastOp>(n.operand(0), {n.named("to", TypeAttr::get(element))}));
}

static LogicalResult importIdentity(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  return n.setResults(n.operand(0));
}

/// Dropout in inference is the identity and its mask is all true. Training
/// mode is accepted when the ratio is a constant zero, which drops nothing.
/// The keep mask of Dropout in training mode: element i is kept when a hash
/// of (i, seed) maps to [ratio, 1). The hash is a 32-bit integer mixer
/// (xorshift-multiply rounds), so the mask is a deterministic function of the
/// seed and the element's position: every run with the same seed drops the
/// same elements, and each element is dropped with probability `ratio`.
static Value dropoutKeepMask(NodeImporter &n, Decomposer &b, Value input,
                             Value ratio, int64_t seed) {
  OpBuilder &builder = n.getBuilder();
  Type u32 = builder.getIntegerType(32, /*isSigned=*/false);
  Type f32 = builder.getF32Type();
  Value positions =
      b.reshape(b.convert(b.iota(b.op<SizeOp>(input)), u32), b.shape(input));
  auto shiftRight = [&](Value v, int64_t bits) {
    return b.op<BitwiseXorOp>(
        {v, b.op<BitShiftOp>({v, b.scalar(u32, bits)},
                             {n.namedStr("direction", "right")})});
  };
  auto times = [&](Value v, uint32_t factor) {
    return b.op<MulOp>({v, b.scalar(u32, factor)});
  };
  uint32_t salt = static_cast<uint32_t>(seed) * 0x9E3779B9u + 0x632BE5ABu;
  Value h = b.op<BitwiseXorOp>({positions, b.scalar(u32, salt)});
  h = times(shiftRight(h, 16), 0x7FEB352Du);
  h = times(shiftRight(h, 15), 0x846CA68Bu);
  h = shiftRight(h, 16);
  // The top 24 bits as a uniform value in [0, 1).
  Value uniform = b.op<MulOp>(
      {b.convert(b.op<BitShiftOp>({h, b.scalar(u32, 8)},
                                  {n.namedStr("direction", "right")}),
                 f32),
       b.scalar(f32, 1.0 / 16777216.0)});
  return b.op<GreaterOrEqualOp>({uniform, b.convert(ratio, f32)});
}

/// Dropout: the identity in inference mode. In training mode (a true
/// training_mode, constant or given at run time) an element is zeroed with
/// probability `ratio` and the rest are scaled by 1 / (1 - ratio); the mask
/// comes from `dropoutKeepMask`, so it is reproducible, not drawn from a
/// random-number generator.
static LogicalResult importDropout(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  Value input = n.operand(0);
  bool wantsMask =
      n.getNode().output_size() > 1 && !n.getNode().output(1).empty();
  OpBuilder &builder = n.getBuilder();
  Decomposer b(n);
  auto allKept = [&]() {
    auto scalarType = RankedTensorType::get({}, builder.getI1Type());
    Value keep = b.check(n.create<ConstantOp>(
        {}, {n.named("value", DenseElementsAttr::get(scalarType, true))}));
    return b.op<ExpandOp>({keep, b.shape(input)});
  };
  std::optional<SmallVector<int64_t>> training =
      n.hasOperand(2)
          ? getConstantInts(n.operand(2))
          : std::optional<SmallVector<int64_t>>(SmallVector<int64_t>{0});
  std::optional<SmallVector<double>> ratioValue =
      n.hasOperand(1)
          ? getConstantFloats(n.operand(1))
          : std::optional<SmallVector<double>>(SmallVector<double>{0.5});
  bool inference = training && training->size() == 1 && training->front() == 0;
  bool dropsNothing =
      ratioValue && ratioValue->size() == 1 && ratioValue->front() == 0.0;
  if (inference || dropsNothing) {
    if (!wantsMask)
      return n.setResults(input);
    Value mask = allKept();
    if (b.failed())
      return failure();
    return n.setResults({input, mask});
  }
  Type element = Decomposer::elementType(input);
  if (!isa<FloatType>(element))
    return n.emitError() << "training mode needs a floating-point input, got "
                         << input.getType();
  Value ratio = n.hasOperand(1) ? n.operand(1) : b.scalar(element, 0.5);
  if (ratio && Decomposer::rank(ratio) != 0)
    ratio = b.reshape(ratio, b.ints({}));
  Value keep = dropoutKeepMask(n, b, input, ratio, n.intAttr("seed", 0));
  Value one = b.scalar(element, 1.0);
  Value scale =
      b.op<DivOp>({one, b.op<SubOp>({one, b.convert(ratio, element)})});
  Value dropped = b.op<WhereOp>(
      {keep, b.op<MulOp>({input, scale}), b.scalar(element, 0.0)});
  Value mask = keep;
  if (!training) {
    // Training mode known at run time only: select between the two modes.
    Value isTraining = n.operand(2);
    if (Decomposer::rank(isTraining) != 0)
      isTraining = b.reshape(isTraining, b.ints({}));
    isTraining = b.convert(isTraining, builder.getI1Type());
    dropped = b.op<WhereOp>({isTraining, dropped, input});
    if (wantsMask)
      mask = b.op<OrOp>({b.op<NotOp>(isTraining), keep});
  }
  if (b.failed())
    return failure();
  if (!wantsMask)
    return n.setResults(dropped);
  return n.setResults({dropped, mask});
}

//===----------------------------------------------------------------------===//
// Reshapes
//===----------------------------------------------------------------------===//

static LogicalResult importReshape(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  return n.setResult(n.create<ReshapeOp>(
      {n.operand(0), n.operand(1)},
      {n.namedBool("allowzero", n.intAttr("allowzero", 0) != 0)}));
}

static LogicalResult importTranspose(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  int64_t rank = n.operandType(0).getRank();
  SmallVector<int64_t> reversed;
  for (int64_t i = rank - 1; i >= 0; --i)
    reversed.push_back(i);
  return n.setResult(n.create<TransposeOp>(
      n.operand(0), {n.namedI64s("perm", n.intsAttr("perm", reversed))}));
}

/// Squeeze or Unsqueeze with axes known at run time only.
template <typename OpTy>
static LogicalResult importRuntimeAxes(NodeImporter &n) {
  RankedTensorType axesType = n.operandType(1);
  if (axesType.getRank() != 1 || axesType.isDynamicDim(0))
    return n.emitError() << "axes must be a constant or a 1-D tensor of static "
                            "size (the result's rank depends on it), got "
                         << axesType;
  int64_t count = axesType.getDimSize(0);
  int64_t rank = n.operandType(0).getRank();
  Decomposer b(n);
  Value x = n.operand(0), y;
  if constexpr (std::is_same_v<OpTy, SqueezeOp>) {
    y = b.dropDims(x, b.axisMask(n.operand(1), rank), rank - count);
  } else {
    // Result dim j is 1 where named, else the next input dim in order.
    int64_t resultRank = rank + count;
    Type i64 = n.getBuilder().getI64Type();
    Value named = b.axisMask(n.operand(1), resultRank);
    Value before = b.op<CumSumOp>({b.convert(named, i64), b.scalar(i64, 0)});
    SmallVector<int64_t> positions;
    for (int64_t j = 0; j < resultRank; ++j)
      positions.push_back(j);
    Value source = b.op<SubOp>({b.ints(positions), before});
    source = b.op<MinOp>({b.op<MaxOp>({source, b.scalar(i64, 0)}),
                          b.scalar(i64, std::max<int64_t>(rank - 1, 0))});
    Value dims = rank == 0 ? b.ints(SmallVector<int64_t>(resultRank, 1))
                           : b.op<GatherOp>({b.shape(x), source},
                                            {n.namedI64("axis", 0)});
    y = b.reshape(x, b.op<WhereOp>({named, b.scalar(i64, 1), dims}));
  }
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// Squeeze and Unsqueeze: `axes` is an attribute before opset 13 and an
/// input from then on, usually a constant (folded into the op's attribute).
/// Runtime axes are handled by composition: the result rank follows from
/// their number, the dims are computed.
template <typename OpTy>
static LogicalResult importSqueezeLike(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  SmallVector<int64_t> axes;
  if (n.getOpset() < 13) {
    axes = n.intsAttr("axes");
  } else if (n.hasOperand(1)) {
    std::optional<SmallVector<int64_t>> values = getConstantInts(n.operand(1));
    if (!values)
      return importRuntimeAxes<OpTy>(n);
    axes = *values;
  }
  return n.setResult(n.create<OpTy>(n.operand(0), {n.namedI64s("axes", axes)}));
}

static LogicalResult importFlatten(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  return n.setResult(n.create<FlattenOp>(
      n.operand(0), {n.namedI64("axis", n.intAttr("axis", 1))}));
}

static LogicalResult importExpand(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  return n.setResult(n.create<ExpandOp>({n.operand(0), n.operand(1)}));
}

//===----------------------------------------------------------------------===//
// Concat, Split, Slice, Gather
//===----------------------------------------------------------------------===//

static LogicalResult importConcat(NodeImporter &n) {
  FailureOr<SmallVector<Value>> inputs = n.allOperands();
  if (failed(inputs))
    return failure();
  if (!n.hasAttr("axis"))
    return n.emitError() << "attribute 'axis' is required";
  return n.setResult(
      n.create<ConcatOp>(*inputs, {n.namedI64("axis", n.intAttr("axis", 0))}));
}

/// Split with sizes known at run time only: a slice per output between the
/// running sums of the sizes.
static LogicalResult importRuntimeSplit(NodeImporter &n) {
  int64_t outputs = n.getNode().output_size();
  RankedTensorType sizesType = n.operandType(1);
  if (sizesType.getRank() != 1 ||
      (!sizesType.isDynamicDim(0) && sizesType.getDimSize(0) != outputs))
    return n.emitError() << "split must be 1-D with one size per output ("
                         << outputs << "), got " << sizesType;
  FailureOr<int64_t> axis =
      normalizeAxis(n.intAttr("axis", 0), n.operandType(0).getRank());
  if (failed(axis))
    return n.emitError() << "axis " << n.intAttr("axis", 0)
                         << " is out of range";
  Decomposer b(n);
  Type i64 = n.getBuilder().getI64Type();
  Value sizes = b.convert(n.operand(1), i64);
  Value starts = b.op<CumSumOp>({sizes, b.scalar(i64, 0)},
                                {n.namedBool("exclusive", true)});
  Value ends = b.op<AddOp>({starts, sizes});
  SmallVector<Value> pieces;
  for (int64_t i = 0; i < outputs; ++i) {
    auto at = [&](Value v) { return b.element(v, i); };
    pieces.push_back(b.op<SliceOp>(
        {n.operand(0), at(starts), at(ends), b.ints({*axis}), b.ints({1})}));
  }
  if (b.failed())
    return failure();
  return n.setResults(pieces);
}

/// Split: sizes come from the `split` attribute (before opset 13), the
/// optional `split` input (from 13), or an equal division into the node's
/// outputs (`num_outputs` from 18).
static LogicalResult importSplit(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  int64_t outputs = n.getNode().output_size();
  if (outputs == 0)
    return n.emitError() << "has no outputs; Split needs at least one";
  SmallVector<NamedAttribute> attrs = {n.namedI64("axis", n.intAttr("axis", 0)),
                                       n.namedI64("num_outputs", outputs)};
  SmallVector<int64_t> sizes;
  if (n.getOpset() < 13) {
    sizes = n.intsAttr("split");
  } else if (n.hasOperand(1)) {
    std::optional<SmallVector<int64_t>> values = getConstantInts(n.operand(1));
    if (!values)
      return importRuntimeSplit(n);
    sizes = *values;
  }
  if (!sizes.empty())
    attrs.push_back(n.namedI64s("sizes", sizes));
  if (n.hasAttr("num_outputs") && n.intAttr("num_outputs", 0) != outputs)
    return n.emitError() << "num_outputs is " << n.intAttr("num_outputs", 0)
                         << " but the node has " << outputs << " outputs";
  if (sizes.empty() && n.getOpset() < 18) {
    RankedTensorType type = n.operandType(0);
    FailureOr<int64_t> axis =
        normalizeAxis(n.intAttr("axis", 0), type.getRank());
    if (succeeded(axis) && !type.isDynamicDim(*axis) &&
        type.getDimSize(*axis) % outputs != 0)
      return n.emitError() << "cannot split dim " << *axis << " of extent "
                           << type.getDimSize(*axis) << " into " << outputs
                           << " equal parts (uneven splits need opset 18)";
  }
  FailureOr<SmallVector<Value>> results = n.build<SplitOp>(n.operand(0), attrs);
  if (failed(results))
    return failure();
  return n.setResults(*results);
}

/// Slice: attributes before opset 10, inputs (with optional axes and steps)
/// from then on.
static LogicalResult importSlice(NodeImporter &n) {
  if (n.getOpset() < 10) {
    if (failed(n.requireOperands(1)))
      return failure();
    SmallVector<int64_t> starts = n.intsAttr("starts"),
                         ends = n.intsAttr("ends");
    SmallVector<int64_t> axes = n.intsAttr("axes");
    if (axes.empty())
      for (size_t i = 0; i < starts.size(); ++i)
        axes.push_back(i);
    SmallVector<int64_t> steps(starts.size(), 1);
    return n.setResult(
        n.create<SliceOp>({n.operand(0), n.constI64(starts), n.constI64(ends),
                           n.constI64(axes), n.constI64(steps)}));
  }
  if (failed(n.requireOperands(3)))
    return failure();
  auto startsType = n.operandType(1);
  if (startsType.getRank() != 1 || startsType.isDynamicDim(0))
    return n.emitError() << "starts must be a 1-D tensor of static size";
  int64_t count = startsType.getDimSize(0);
  Value axes = n.operand(3), steps = n.operand(4);
  if (!axes) {
    SmallVector<int64_t> all;
    for (int64_t i = 0; i < count; ++i)
      all.push_back(i);
    axes = n.constI64(all);
  }
  if (!steps)
    steps = n.constI64(SmallVector<int64_t>(count, 1));
  return n.setResult(n.create<SliceOp>(
      {n.operand(0), n.operand(1), n.operand(2), axes, steps}));
}

static LogicalResult importGather(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  return n.setResult(
      n.create<GatherOp>({n.operand(0), n.operand(1)},
                         {n.namedI64("axis", n.intAttr("axis", 0))}));
}

static LogicalResult importGatherElements(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  return n.setResult(
      n.create<GatherElementsOp>({n.operand(0), n.operand(1)},
                                 {n.namedI64("axis", n.intAttr("axis", 0))}));
}

/// Trilu: the diagonal offset `k` is an optional scalar input.
static LogicalResult importTrilu(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  SmallVector<Value> operands = {n.operand(0)};
  if (n.hasOperand(1))
    operands.push_back(n.operand(1));
  return n.setResult(n.create<TriluOp>(
      operands, {n.namedBool("upper", n.intAttr("upper", 1) != 0)}));
}

/// DepthToSpace and SpaceToDepth move blocks between the channel dim and
/// the two spatial dims of an NCHW tensor: a reshape to 6-D, a transpose
/// and a reshape back. The shapes are computed from the input's dims, so
/// dynamic dims work and static ones fold to constants.
static LogicalResult importDepthToSpace(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  int64_t block = n.intAttr("blocksize", 0);
  std::string mode = n.stringAttr("mode", "DCR");
  if (block < 1)
    return n.emitError() << "blocksize must be positive";
  if (mode != "DCR" && mode != "CRD")
    return n.emitError() << "unknown mode \"" << mode << "\"";
  if (n.operandType(0).getRank() != 4)
    return n.emitError() << "expects an NCHW input, got " << n.operandType(0);
  Decomposer b(n);
  Value x = n.operand(0);
  Value batch = b.dim(x, 0), height = b.dim(x, 2), width = b.dim(x, 3);
  Value blocks = b.ints({block, block});
  Value channels = b.op<DivOp>({b.dim(x, 1), b.ints({block * block})});
  bool dcr = mode == "DCR";
  Value split = dcr ? b.concat({batch, blocks, channels, height, width})
                    : b.concat({batch, channels, blocks, height, width});
  SmallVector<int64_t> perm = dcr ? SmallVector<int64_t>{0, 3, 4, 1, 5, 2}
                                  : SmallVector<int64_t>{0, 1, 4, 2, 5, 3};
  Value moved = b.transpose(b.reshape(x, split), perm);
  Value y = b.reshape(
      moved, b.concat({batch, channels, b.op<MulOp>({height, b.ints({block})}),
                       b.op<MulOp>({width, b.ints({block})})}));
  if (b.failed())
    return failure();
  return n.setResults(y);
}

static LogicalResult importSpaceToDepth(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  int64_t block = n.intAttr("blocksize", 0);
  if (block < 1)
    return n.emitError() << "blocksize must be positive";
  if (n.operandType(0).getRank() != 4)
    return n.emitError() << "expects an NCHW input, got " << n.operandType(0);
  Decomposer b(n);
  Value x = n.operand(0);
  Value blockDim = b.ints({block});
  Value height = b.op<DivOp>({b.dim(x, 2), blockDim});
  Value width = b.op<DivOp>({b.dim(x, 3), blockDim});
  Value split =
      b.concat({b.dim(x, 0), b.dim(x, 1), height, blockDim, width, blockDim});
  Value moved = b.transpose(b.reshape(x, split), {0, 3, 5, 1, 2, 4});
  Value channels = b.op<MulOp>({b.dim(x, 1), b.ints({block * block})});
  Value y = b.reshape(moved, b.concat({b.dim(x, 0), channels, height, width}));
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// Tile: each dim d of extent e repeated r times is an expand of the input
/// viewed with a unit dim before d: [1, e] -> [r, e] -> [r * e].
static LogicalResult importTile(NodeImporter &n) {
  if (failed(n.requireOperands(2)))
    return failure();
  Value x = n.operand(0), repeats = n.operand(1);
  int64_t rank = n.operandType(0).getRank();
  RankedTensorType repeatsType = n.operandType(1);
  if (repeatsType.getRank() != 1 ||
      (!repeatsType.isDynamicDim(0) && repeatsType.getDimSize(0) != rank))
    return n.emitError() << "repeats must be 1-D with one entry per input dim ("
                         << rank << "), got " << repeatsType;
  Decomposer b(n);
  Type i64 = n.getBuilder().getI64Type();
  repeats = b.convert(repeats, i64);
  SmallVector<Value> spread, expanded, tiled;
  for (int64_t d = 0; d < rank; ++d) {
    Value extent = b.dim(x, d);
    Value count = b.element(repeats, d);
    spread.append({b.ints({1}), extent});
    expanded.append({count, extent});
    tiled.push_back(b.op<MulOp>({count, extent}));
  }
  Value y = x;
  if (rank > 0)
    y = b.reshape(
        b.op<ExpandOp>({b.reshape(x, b.concat(spread)), b.concat(expanded)}),
        b.concat(tiled));
  if (b.failed())
    return failure();
  return n.setResults(y);
}

//===----------------------------------------------------------------------===//
// Pad and Resize
//===----------------------------------------------------------------------===//

/// Pad: attributes before opset 11; from 11 `pads` and `constant_value` are
/// inputs, and opset 18 adds `axes`, which we fold into full-rank pads.
static LogicalResult importPad(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  std::string mode = n.stringAttr("mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge" &&
      (mode != "wrap" || n.getOpset() < 19))
    return n.emitError() << "unknown mode \"" << mode << "\" at opset "
                         << n.getOpset();
  Value input = n.operand(0);
  int64_t rank = n.operandType(0).getRank();
  Value pads, value;
  if (n.getOpset() < 11) {
    pads = n.constI64(n.intsAttr("pads"));
    if (n.hasAttr("value"))
      value = n.constScalar(n.operandType(0).getElementType(),
                            n.floatAttr("value", 0));
  } else {
    if (failed(n.requireOperands(2)))
      return failure();
    pads = n.operand(1);
    value = n.operand(2);
    if (n.hasOperand(3)) {
      FailureOr<SmallVector<int64_t>> axes = n.constantInts(3, "axes");
      FailureOr<SmallVector<int64_t>> given = n.constantInts(1, "pads");
      if (failed(axes) || failed(given))
        return failure();
      if (given->size() != 2 * axes->size())
        return n.emitError() << "pads must have two entries per axis";
      SmallVector<int64_t> full(2 * rank, 0);
      for (auto [i, axis] : llvm::enumerate(*axes)) {
        FailureOr<int64_t> a = normalizeAxis(axis, rank);
        if (failed(a))
          return n.emitError() << "axis " << axis << " is out of range";
        full[*a] = (*given)[i];
        full[*a + rank] = (*given)[i + axes->size()];
      }
      pads = n.constI64(full);
    }
  }
  SmallVector<Value> operands = {input, pads};
  if (value)
    operands.push_back(value);
  return n.setResult(n.create<PadOp>(operands, {n.namedStr("mode", mode)}));
}

/// Whether optional input `i` is absent or an empty tensor (opset 11-12
/// Resize passes an empty `scales` when `sizes` is used).
static bool isEmptyOperand(NodeImporter &n, size_t i) {
  if (!n.hasOperand(i))
    return true;
  RankedTensorType type = n.operandType(i);
  return type.hasStaticShape() && type.getNumElements() == 0;
}

static LogicalResult importResize(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  RankedTensorType inputType = n.operandType(0);
  int64_t rank = inputType.getRank();
  bool opset10 = n.getOpset() < 11;
  Value roi, scales, sizes;
  if (opset10) {
    if (failed(n.requireOperands(2)))
      return failure();
    scales = n.operand(1);
  } else {
    if (!isEmptyOperand(n, 1))
      roi = n.operand(1);
    if (!isEmptyOperand(n, 2))
      scales = n.operand(2);
    if (!isEmptyOperand(n, 3))
      sizes = n.operand(3);
  }
  if (!scales == !sizes)
    return n.emitError() << "expects exactly one of scales and sizes";

  // Opset 18: `axes` selects the dims that scales/sizes cover, and
  // keep_aspect_ratio_policy may change the requested sizes.
  SmallVector<int64_t> axes = n.intsAttr("axes");
  std::string policy = n.stringAttr("keep_aspect_ratio_policy", "stretch");
  if (!axes.empty() || (sizes && policy != "stretch")) {
    if (axes.empty())
      for (int64_t i = 0; i < rank; ++i)
        axes.push_back(i);
    for (int64_t &axis : axes) {
      FailureOr<int64_t> a = normalizeAxis(axis, rank);
      if (failed(a))
        return n.emitError() << "axis " << axis << " is out of range";
      axis = *a;
    }
    if (scales) {
      std::optional<SmallVector<double>> given = getConstantFloats(scales);
      if (!given || given->size() != axes.size())
        return n.emitError() << "with axes, scales must be a constant with one "
                                "entry per axis";
      SmallVector<float> full(rank, 1.0f);
      for (auto [i, axis] : llvm::enumerate(axes))
        full[axis] = (*given)[i];
      auto type = RankedTensorType::get({rank}, n.getBuilder().getF32Type());
      scales = ConstantOp::create(n.getBuilder(), n.getLoc(),
                                  DenseElementsAttr::get(type, ArrayRef(full)));
    } else {
      FailureOr<SmallVector<int64_t>> given = n.constantInts(3, "sizes");
      if (failed(given))
        return failure();
      if (given->size() != axes.size())
        return n.emitError() << "sizes must have one entry per axis";
      SmallVector<int64_t> full(inputType.getShape());
      if (policy != "stretch") {
        if (policy != "not_larger" && policy != "not_smaller")
          return n.emitError()
                 << "unknown keep_aspect_ratio_policy \"" << policy << "\"";
        double scale = policy == "not_larger" ? 1e300 : 0.0;
        for (auto [i, axis] : llvm::enumerate(axes)) {
          if (inputType.isDynamicDim(axis))
            return n.emitError() << "keep_aspect_ratio_policy needs static "
                                    "dims; fix them with --input-shape";
          double s = static_cast<double>((*given)[i]) /
                     static_cast<double>(inputType.getDimSize(axis));
          scale =
              policy == "not_larger" ? std::min(scale, s) : std::max(scale, s);
        }
        for (int64_t axis : axes)
          full[axis] = static_cast<int64_t>(std::round(
              scale * static_cast<double>(inputType.getDimSize(axis))));
      } else {
        for (auto [i, axis] : llvm::enumerate(axes))
          full[axis] = (*given)[i];
      }
      if (ShapedType::isDynamicShape(full))
        return n.emitError() << "sizes for a subset of axes need static dims "
                                "elsewhere; fix them with --input-shape";
      sizes = n.constI64(full);
    }
  }

  std::string mode = n.stringAttr("mode", "nearest");
  std::string coordinates = n.stringAttr("coordinate_transformation_mode",
                                         opset10 ? "asymmetric" : "half_pixel");
  std::string nearest =
      n.stringAttr("nearest_mode", opset10 ? "floor" : "round_prefer_floor");
  SmallVector<Value> operands = {n.operand(0)};
  for (Value v : {roi, scales, sizes})
    if (v)
      operands.push_back(v);
  return n.setResult(n.create<ResizeOp>(
      operands,
      {n.segments({1, roi ? 1 : 0, scales ? 1 : 0, sizes ? 1 : 0}),
       n.namedStr("mode", mode),
       n.namedStr("coordinate_transformation_mode", coordinates),
       n.namedStr("nearest_mode", nearest),
       n.namedF32("cubic_coeff_a", n.floatAttr("cubic_coeff_a", -0.75f)),
       n.namedBool("exclude_outside", n.intAttr("exclude_outside", 0) != 0),
       n.namedF32("extrapolation_value",
                  n.floatAttr("extrapolation_value", 0.0f))}));
}

/// Upsample (deprecated for Resize): scales from the attribute (opset 7) or
/// the second input (9), asymmetric coordinates, nearest rounds down.
static LogicalResult importUpsample(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  Value scales;
  if (n.getOpset() < 9) {
    SmallVector<float> values = n.floatsAttr("scales");
    auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                      n.getBuilder().getF32Type());
    scales = ConstantOp::create(n.getBuilder(), n.getLoc(),
                                DenseElementsAttr::get(type, ArrayRef(values)));
  } else {
    if (failed(n.requireOperands(2)))
      return failure();
    scales = n.operand(1);
  }
  std::string mode = n.stringAttr("mode", "nearest");
  if (mode == "bilinear")
    mode = "linear";
  return n.setResult(n.create<ResizeOp>(
      {n.operand(0), scales},
      {n.segments({1, 0, 1, 0}), n.namedStr("mode", mode),
       n.namedStr("coordinate_transformation_mode", "asymmetric"),
       n.namedStr("nearest_mode", "floor")}));
}

void onnx_import::registerShapeOps(OpRegistry &r) {
  r.add("Constant", {1, 9, 11, 12, 13, 19, 21}, importConstant);
  r.add("Shape", {1, 13, 15, 19, 21}, importShape);
  r.add("ConstantOfShape", {9, 20, 21}, importConstantOfShape);
  r.add("Size", {1, 13, 19, 21}, [](NodeImporter &n) -> LogicalResult {
    if (failed(n.requireOperands(1)))
      return failure();
    return n.setResult(n.create<SizeOp>(n.operand(0)));
  });
  r.add("Cast", {6, 9, 13, 19, 21}, importCast);
  r.add("Identity", {1, 13, 14, 16, 19, 21}, importIdentity);
  r.add("Dropout", {7, 10, 12, 13}, importDropout);
  r.add("Reshape", {5, 13, 14, 19, 21}, importReshape);
  r.add("Transpose", {1, 13, 21}, importTranspose);
  r.add("Squeeze", {1, 11, 13, 21}, importSqueezeLike<SqueezeOp>);
  r.add("Unsqueeze", {1, 11, 13, 21}, importSqueezeLike<UnsqueezeOp>);
  r.add("Flatten", {1, 9, 11, 13, 21}, importFlatten);
  r.add("Expand", {8, 13}, importExpand);
  r.add("Concat", {4, 11, 13}, importConcat);
  r.add("Split", {2, 11, 13, 18}, importSplit);
  r.add("Slice", {1, 10, 11, 13}, importSlice);
  r.add("Gather", {1, 11, 13}, importGather);
  r.add("GatherElements", {11, 13}, importGatherElements);
  r.add("Trilu", 14, importTrilu);
  r.add("DepthToSpace", {1, 11, 13}, importDepthToSpace);
  r.add("SpaceToDepth", {1, 13}, importSpaceToDepth);
  r.add("Tile", {6, 13}, importTile);
  r.add("Pad", {2, 11, 13, 18, 19, 21}, importPad);
  r.add("Resize", {10, 11, 13, 18, 19}, importResize);
  r.add("Upsample", {7, 9}, importUpsample);
}
