//===- NodeImporter.cpp - the op registry and the per-node binder ---------===//

#include "NodeImporter.h"

#include "mlir/IR/Verifier.h"
#include "llvm/ADT/ScopeExit.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

//===----------------------------------------------------------------------===//
// OpRegistry
//===----------------------------------------------------------------------===//

/// ONNX names the default domain "" or "ai.onnx".
static std::string registryKey(StringRef domain, StringRef opType) {
  if (domain == "ai.onnx")
    domain = "";
  return (domain + "::" + opType).str();
}

void OpRegistry::add(StringRef domain, StringRef opType, int sinceVersion,
                     OpHandler handler) {
  auto &versions = handlers[registryKey(domain, opType)];
  versions.emplace_back(sinceVersion, std::move(handler));
  llvm::sort(versions,
             [](const auto &a, const auto &b) { return a.first < b.first; });
}

void OpRegistry::add(StringRef opType, std::initializer_list<int> sinceVersions,
                     const OpHandler &handler) {
  for (int version : sinceVersions)
    add("", opType, version, handler);
}

const OpHandler *OpRegistry::lookup(StringRef domain, StringRef opType,
                                    int64_t opset, int *oldestVersion) const {
  auto it = handlers.find(registryKey(domain, opType));
  if (it == handlers.end())
    return nullptr;
  if (oldestVersion)
    *oldestVersion = it->second.front().first;
  const OpHandler *found = nullptr;
  for (const auto &[since, handler] : it->second)
    if (since <= opset)
      found = &handler;
  return found;
}

const OpRegistry &OpRegistry::get() {
  static const OpRegistry registry = [] {
    OpRegistry r;
    registerElementwiseOps(r);
    registerNeuralOps(r);
    registerReductionOps(r);
    registerShapeOps(r);
    registerLossOps(r);
    registerQuantizationOps(r);
    registerIndexingOps(r);
    registerRecurrentOps(r);
    registerSignalOps(r);
    registerVisionOps(r);
    registerControlFlowOps(r);
    registerSequenceOps(r);
    return r;
  }();
  return registry;
}

//===----------------------------------------------------------------------===//
// NodeImporter: operands and attributes
//===----------------------------------------------------------------------===//

FailureOr<SmallVector<Value>> NodeImporter::allOperands() {
  for (size_t i = 0; i < operands.size(); ++i)
    if (!operands[i])
      return emitError() << "input " << i << " must not be empty";
  return operands;
}

LogicalResult NodeImporter::requireOperands(size_t count) {
  for (size_t i = 0; i < count; ++i)
    if (!hasOperand(i))
      return emitError() << "expects at least " << count << " inputs; input "
                         << i << " is missing";
  return success();
}

FailureOr<SmallVector<int64_t>> NodeImporter::constantInts(size_t i,
                                                           StringRef what) {
  if (!hasOperand(i))
    return emitError() << "input " << i << " (" << what << ") is missing";
  std::optional<SmallVector<int64_t>> values = getConstantInts(operands[i]);
  if (!values)
    return emitError() << "input " << i << " (" << what
                       << ") must be a constant (an initializer or computable "
                          "from static shapes); fix the input shapes with "
                          "--input-shape if it depends on a dynamic dim";
  return *values;
}

const onnx::AttributeProto *NodeImporter::findAttr(StringRef name) const {
  for (const onnx::AttributeProto &attr : node.attribute())
    if (attr.name() == name)
      return &attr;
  return nullptr;
}

bool NodeImporter::hasAttr(StringRef name) const {
  return findAttr(name) != nullptr;
}

int64_t NodeImporter::intAttr(StringRef name, int64_t defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  return attr ? attr->i() : defaultValue;
}

float NodeImporter::floatAttr(StringRef name, float defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  return attr ? attr->f() : defaultValue;
}

std::string NodeImporter::stringAttr(StringRef name,
                                     StringRef defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  return attr ? attr->s() : defaultValue.str();
}

SmallVector<int64_t>
NodeImporter::intsAttr(StringRef name, ArrayRef<int64_t> defaultValue) const {
  const onnx::AttributeProto *attr = findAttr(name);
  if (!attr)
    return SmallVector<int64_t>(defaultValue);
  return SmallVector<int64_t>(attr->ints().begin(), attr->ints().end());
}

SmallVector<float> NodeImporter::floatsAttr(StringRef name) const {
  const onnx::AttributeProto *attr = findAttr(name);
  if (!attr)
    return {};
  return SmallVector<float>(attr->floats().begin(), attr->floats().end());
}

//===----------------------------------------------------------------------===//
// NodeImporter: building
//===----------------------------------------------------------------------===//

Value NodeImporter::constI64(ArrayRef<int64_t> values) {
  auto type = RankedTensorType::get({static_cast<int64_t>(values.size())},
                                    builder.getI64Type());
  return ConstantOp::create(builder, loc, DenseElementsAttr::get(type, values));
}

Value NodeImporter::constScalar(Type elementType, double value) {
  auto type = RankedTensorType::get({}, elementType);
  Attribute element;
  if (auto floatType = dyn_cast<FloatType>(elementType))
    element = builder.getFloatAttr(floatType, value);
  else
    element = builder.getIntegerAttr(elementType, static_cast<int64_t>(value));
  return ConstantOp::create(builder, loc,
                            DenseElementsAttr::get(type, element));
}

FailureOr<SmallVector<Value>>
NodeImporter::buildOp(StringRef name, ValueRange operands,
                      ArrayRef<NamedAttribute> attrs) {
  MLIRContext *context = getContext();
  OperationState state(loc, name);
  state.addOperands(operands);
  state.addAttributes(attrs);
  std::optional<RegisteredOperationName> info = state.name.getRegisteredInfo();
  assert(info && "building an unregistered op");

  // Infer the result types first, so that bad input is an error, not an
  // abort in the op's builder. Inference reads attributes from properties.
  DictionaryAttr dict = state.attributes.getDictionary(context);
  size_t propertiesSize = info->getOpPropertyByteSize();
  std::unique_ptr<char[]> storage;
  OpaqueProperties properties(nullptr);
  if (propertiesSize > 0) {
    size_t space = propertiesSize + alignof(std::max_align_t);
    storage = std::make_unique<char[]>(space);
    void *aligned = storage.get();
    aligned =
        std::align(alignof(std::max_align_t), propertiesSize, aligned, space);
    properties = OpaqueProperties(aligned);
    info->initOpProperties(properties, nullptr);
  }
  llvm::scope_exit destroyProperties([&] {
    if (propertiesSize > 0)
      info->destroyOpProperties(properties);
  });
  if (propertiesSize > 0 &&
      failed(info->setOpPropertiesFromAttribute(state.name, properties, dict,
                                                [&] { return emitError(); })))
    return failure();
  auto inferInterface = info->getInterface<InferTypeOpInterface>();
  assert(inferInterface && "kiln ops infer their result types");
  SmallVector<Type> types;
  if (failed(inferInterface->inferReturnTypes(context, loc, state.operands,
                                              dict, properties, state.regions,
                                              types)))
    return failure();
  state.addTypes(types);

  Operation *op = builder.create(state);
  if (failed(verify(op))) {
    op->erase();
    return failure();
  }

  SmallVector<Value> results(op->getResults());
  SmallVector<OpFoldResult> folded;
  if (op->hasTrait<OpTrait::ConstantLike>() || failed(op->fold(folded)) ||
      folded.empty())
    return results;
  for (auto [result, fold] : llvm::zip_equal(results, folded)) {
    if (auto value = dyn_cast<Value>(fold)) {
      if (value.getType() != result.getType())
        return results; // A fold may only replace a value of the same type.
      result = value;
      continue;
    }
    Operation *constant = op->getDialect()->materializeConstant(
        builder, cast<Attribute>(fold), result.getType(), loc);
    if (!constant)
      return SmallVector<Value>(op->getResults());
    result = constant->getResult(0);
  }
  if (op->use_empty())
    op->erase();
  return results;
}

//===----------------------------------------------------------------------===//
// NodeImporter: results and errors
//===----------------------------------------------------------------------===//

const onnx::GraphProto *NodeImporter::graphAttr(StringRef name) const {
  const onnx::AttributeProto *attr = findAttr(name);
  return attr && attr->has_g() ? &attr->g() : nullptr;
}

FailureOr<SmallVector<Value>> NodeImporter::importSubgraph(StringRef name,
                                                           ValueRange inputs) {
  const onnx::GraphProto *graph = graphAttr(name);
  if (!graph)
    return emitError() << "attribute '" << name << "' (a graph) is required";
  if (static_cast<size_t>(graph->input_size()) != inputs.size())
    return emitError() << "graph '" << name << "' has " << graph->input_size()
                       << " inputs; " << inputs.size() << " are bound here";
  assert(subgraphs && "the model importer binds subgraph import");
  return subgraphs(*graph, inputs);
}

LogicalResult NodeImporter::setResults(ValueRange values) {
  results.assign(values.begin(), values.end());
  return success();
}

std::string NodeImporter::describe() const {
  return "node '" + node.name() + "' (" + node.op_type() + ")";
}

InFlightDiagnostic NodeImporter::emitError() { return mlir::emitError(loc); }

InFlightDiagnostic NodeImporter::emitWarning() {
  return mlir::emitWarning(loc);
}

//===----------------------------------------------------------------------===//
// Decomposer
//===----------------------------------------------------------------------===//

Value Decomposer::scalar(Type element, double value) {
  if (hasFailed)
    return Value();
  return n.constScalar(element, value);
}

Value Decomposer::ints(ArrayRef<int64_t> values) {
  if (hasFailed)
    return Value();
  return n.constI64(values);
}

Value Decomposer::convert(Value v, Type element) {
  if (!v || elementType(v) == element)
    return v;
  return op<CastOp>(v, {n.named("to", TypeAttr::get(element))});
}

Value Decomposer::axisMask(Value axes, int64_t rank) {
  Type i64 = n.getBuilder().getI64Type();
  axes = convert(axes, i64);
  Value negative = op<LessOp>({axes, scalar(i64, 0)});
  axes = op<WhereOp>({negative, op<AddOp>({axes, scalar(i64, rank)}), axes});
  SmallVector<int64_t> positions;
  for (int64_t d = 0; d < rank; ++d)
    positions.push_back(d);
  // [rank, k] matches, any over k.
  Value matches =
      op<EqualOp>({unsqueeze(ints(positions), {1}), unsqueeze(axes, {0})});
  Value named = reduce<ReduceMaxOp>(convert(matches, i64), {1}, false);
  return op<GreaterOp>({named, scalar(i64, 0)});
}

Value Decomposer::dropDims(Value x, Value mask, int64_t resultRank) {
  if (resultRank == 0)
    return reshape(x, ints({}));
  Type i64 = n.getBuilder().getI64Type();
  int64_t r = rank(x);
  SmallVector<int64_t> positions, slots;
  for (int64_t d = 0; d < r; ++d)
    positions.push_back(d);
  for (int64_t j = 0; j < resultRank; ++j)
    slots.push_back(j);
  Value keep = op<NotOp>(mask);
  Value kept = convert(keep, i64);
  // The result slot of each kept dim: how many kept dims come before it.
  Value slot =
      op<CumSumOp>({kept, scalar(i64, 0)}, {n.namedBool("exclusive", true)});
  // [resultRank, r]: dim d fills slot j.
  Value fills = op<AndOp>(
      {op<EqualOp>({unsqueeze(ints(slots), {1}), unsqueeze(slot, {0})}),
       unsqueeze(keep, {0})});
  Value source = reduce<ReduceSumOp>(
      op<MulOp>({convert(fills, i64), unsqueeze(ints(positions), {0})}), {1},
      false);
  Value dims = op<GatherOp>({shape(x), source}, {n.namedI64("axis", 0)});
  return reshape(x, dims);
}

Value Decomposer::iota(Value extent) {
  Type i64 = n.getBuilder().getI64Type();
  Value end = convert(extent, i64);
  if (end && rank(end) == 1)
    end = reshape(end, ints({}));
  return op<RangeOp>({scalar(i64, 0), end, scalar(i64, 1)});
}

//===----------------------------------------------------------------------===//
// Sequences and optionals
//===----------------------------------------------------------------------===//

static constexpr StringLiteral kValueKindAttr = "kiln.value";

static StringRef kindName(ValueKind kind) {
  switch (kind) {
  case ValueKind::Tensor:
    return "tensor";
  case ValueKind::Sequence:
    return "sequence";
  case ValueKind::OptionalTensor:
    return "optional_tensor";
  case ValueKind::OptionalSequence:
    return "optional_sequence";
  }
  llvm_unreachable("unknown value kind");
}

ValueKind onnx_import::valueKind(Value v) {
  if (!isa<TupleType>(v.getType()))
    return ValueKind::Tensor;
  auto cast = v.getDefiningOp<UnrealizedConversionCastOp>();
  auto name = cast ? cast->getAttrOfType<StringAttr>(kValueKindAttr) : nullptr;
  assert(name && "a tuple-typed value comes from packValue");
  if (name.getValue() == "sequence")
    return ValueKind::Sequence;
  if (name.getValue() == "optional_tensor")
    return ValueKind::OptionalTensor;
  return ValueKind::OptionalSequence;
}

unsigned onnx_import::partCount(ValueKind kind) {
  switch (kind) {
  case ValueKind::Tensor:
    return 1;
  case ValueKind::Sequence:
  case ValueKind::OptionalTensor:
    return 2;
  case ValueKind::OptionalSequence:
    return 3;
  }
  llvm_unreachable("unknown value kind");
}

SmallVector<Value> onnx_import::valueParts(Value v) {
  if (valueKind(v) == ValueKind::Tensor)
    return {v};
  return llvm::to_vector(
      v.getDefiningOp<UnrealizedConversionCastOp>().getInputs());
}

Value onnx_import::packValue(OpBuilder &b, Location loc, ValueKind kind,
                             ValueRange parts) {
  assert(parts.size() == partCount(kind) && "one value per part");
  if (kind == ValueKind::Tensor)
    return parts.front();
  auto cast = UnrealizedConversionCastOp::create(
      b, loc, TypeRange{TupleType::get(b.getContext(), parts.getTypes())},
      parts);
  cast->setAttr(kValueKindAttr, b.getStringAttr(kindName(kind)));
  return cast.getResult(0);
}

SmallVector<StringRef> onnx_import::partNames(ValueKind kind) {
  switch (kind) {
  case ValueKind::Tensor:
    return {};
  case ValueKind::Sequence:
    return {"sequence_elements", "sequence_shapes"};
  case ValueKind::OptionalTensor:
    return {"optional_present", "tensor"};
  case ValueKind::OptionalSequence:
    return {"optional_present", "sequence_elements", "sequence_shapes"};
  }
  llvm_unreachable("unknown value kind");
}

StringRef onnx_import::describeKind(ValueKind kind) {
  switch (kind) {
  case ValueKind::Tensor:
    return "a tensor";
  case ValueKind::Sequence:
    return "a sequence";
  case ValueKind::OptionalTensor:
    return "an optional tensor";
  case ValueKind::OptionalSequence:
    return "an optional sequence";
  }
  llvm_unreachable("unknown value kind");
}

/// The type of a tensor of ONNX type `tensor` (dims without a value
/// dynamic); an error when it has no shape.
static FailureOr<RankedTensorType>
tensorTypeOf(MLIRContext *context, const onnx::TypeProto::Tensor &tensor,
             std::string &error) {
  Type element = convertElementType(context, tensor.elem_type());
  if (!element) {
    error = "its element type is not supported";
    return failure();
  }
  if (!tensor.has_shape()) {
    error = "it has no shape (unknown rank)";
    return failure();
  }
  SmallVector<int64_t> shape;
  for (const onnx::TensorShapeProto::Dimension &dim : tensor.shape().dim())
    shape.push_back(dim.has_dim_value() && dim.dim_value() >= 0
                        ? dim.dim_value()
                        : ShapedType::kDynamic);
  return RankedTensorType::get(shape, element);
}

/// The parts of a sequence of `elementType` tensors: the elements' values
/// and their shapes ([count, rank], the rank dynamic when the elements have
/// no shape).
static FailureOr<SmallVector<Type>>
sequenceParts(MLIRContext *context, const onnx::TypeProto &elementType,
              std::string &error) {
  if (!elementType.has_tensor_type()) {
    error = "its elements are not tensors";
    return failure();
  }
  const onnx::TypeProto::Tensor &tensor = elementType.tensor_type();
  Type element = convertElementType(context, tensor.elem_type());
  if (!element) {
    error = "its element type is not supported";
    return failure();
  }
  int64_t rank =
      tensor.has_shape() ? tensor.shape().dim_size() : ShapedType::kDynamic;
  int64_t dynamic = ShapedType::kDynamic;
  return SmallVector<Type>{
      RankedTensorType::get({dynamic}, element),
      RankedTensorType::get({dynamic, rank}, IntegerType::get(context, 64))};
}

FailureOr<std::pair<ValueKind, SmallVector<Type>>>
onnx_import::convertValueType(MLIRContext *context, const onnx::TypeProto &type,
                              std::string &error) {
  if (type.has_sequence_type()) {
    FailureOr<SmallVector<Type>> parts =
        sequenceParts(context, type.sequence_type().elem_type(), error);
    if (failed(parts))
      return failure();
    return std::make_pair(ValueKind::Sequence, *parts);
  }
  if (!type.has_optional_type()) {
    error = "it is not a tensor, a sequence of tensors or an optional";
    return failure();
  }
  const onnx::TypeProto &inner = type.optional_type().elem_type();
  SmallVector<Type> parts = {
      RankedTensorType::get({}, IntegerType::get(context, 1))};
  if (inner.has_sequence_type()) {
    FailureOr<SmallVector<Type>> sequence =
        sequenceParts(context, inner.sequence_type().elem_type(), error);
    if (failed(sequence))
      return failure();
    parts.append(*sequence);
    return std::make_pair(ValueKind::OptionalSequence, parts);
  }
  if (!inner.has_tensor_type()) {
    error = "it is an optional of neither a tensor nor a sequence";
    return failure();
  }
  FailureOr<RankedTensorType> tensor =
      tensorTypeOf(context, inner.tensor_type(), error);
  if (failed(tensor))
    return failure();
  parts.push_back(*tensor);
  return std::make_pair(ValueKind::OptionalTensor, parts);
}
