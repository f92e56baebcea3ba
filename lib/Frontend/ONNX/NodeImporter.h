//===- NodeImporter.h - per-node import API for op handlers -----*- C++ -*-===//
//
// The handler of an ONNX operator sees one node through `NodeImporter`: a
// binder that reads operands and attributes with defaults, turns constant
// operands into values, builds kiln ops with inferred result types, and reports
// errors that name the node. Handlers are registered by (domain, op type,
// since-version) in one file per op family.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_LIB_FRONTEND_ONNX_NODEIMPORTER_H
#define KILN_LIB_FRONTEND_ONNX_NODEIMPORTER_H

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "llvm/ADT/StringMap.h"

#include "onnx/onnx_pb.h"

#include <functional>

namespace kiln::onnx_import {

class NodeImporter;

/// Imports one node; returns failure after reporting an error.
using OpHandler = std::function<llvm::LogicalResult(NodeImporter &)>;

/// The table of op handlers: (domain, op type) to handlers by since-version.
class OpRegistry {
public:
  /// Registers `handler` for `opType` of `domain` from opset `sinceVersion`
  /// on (until the next registration's since-version).
  void add(llvm::StringRef domain, llvm::StringRef opType, int sinceVersion,
           OpHandler handler);
  /// Shorthand for the default ONNX domain.
  void add(llvm::StringRef opType, int sinceVersion, OpHandler handler) {
    add("", opType, sinceVersion, std::move(handler));
  }
  /// Registers `handler` for every version in `sinceVersions`.
  void add(llvm::StringRef opType, std::initializer_list<int> sinceVersions,
           const OpHandler &handler);

  /// The handler for `opType` at `opset`, or null when Kiln has none. Sets
  /// `oldestVersion` to the oldest registered version when the op is known.
  const OpHandler *lookup(llvm::StringRef domain, llvm::StringRef opType,
                          int64_t opset, int *oldestVersion = nullptr) const;

  /// The registry of every op family.
  static const OpRegistry &get();

private:
  llvm::StringMap<std::vector<std::pair<int, OpHandler>>> handlers;
};

//===----------------------------------------------------------------------===//
// Sequences and optionals
//===----------------------------------------------------------------------===//
//
// Kiln's ops take dense tensors. An ONNX value that is a sequence or an
// optional is carried by dense parts:
// - a sequence of tensors: its elements' values flattened and concatenated
//   in order (tensor<?xT>), and their shapes as a [count, rank] i64 matrix
//   (the rank dim is static when the elements' rank is known);
// - an optional: a bool scalar (it holds a value) and its value's parts,
//   empty when it holds none.
// While importing, such a value is one MLIR value of tuple type: an
// unrealized_conversion_cast of its parts, tagged with its kind. Handlers
// that understand sequences (SequenceOps.cpp, Identity, If, Loop) take the
// parts; the graph's inputs and outputs are its parts (kiln.part names
// which); the casts are erased once the graph is imported.

/// What an ONNX value is.
enum class ValueKind { Tensor, Sequence, OptionalTensor, OptionalSequence };

/// The kind of `v` (Tensor for a tensor-typed value).
ValueKind valueKind(mlir::Value v);
/// How many dense parts a value of `kind` has.
unsigned partCount(ValueKind kind);
/// The dense parts of `v`: itself for a tensor.
llvm::SmallVector<mlir::Value> valueParts(mlir::Value v);
/// A value of `kind` made of `parts` (returns the part of a Tensor).
mlir::Value packValue(mlir::OpBuilder &b, mlir::Location loc, ValueKind kind,
                      mlir::ValueRange parts);
/// The kiln.part names of a value of `kind`'s parts, in order (empty for a
/// tensor's single part).
llvm::SmallVector<llvm::StringRef> partNames(ValueKind kind);
/// Describes `kind` for messages ("a sequence", ...).
llvm::StringRef describeKind(ValueKind kind);

/// The parts' types of an ONNX value of type `type` at a graph boundary,
/// and its kind; an error message in `error` when Kiln cannot carry it.
llvm::FailureOr<std::pair<ValueKind, llvm::SmallVector<mlir::Type>>>
convertValueType(mlir::MLIRContext *context, const onnx::TypeProto &type,
                 std::string &error);

/// Registration functions of the op families, one per source file.
void registerElementwiseOps(OpRegistry &registry);
void registerNeuralOps(OpRegistry &registry);
void registerReductionOps(OpRegistry &registry);
void registerShapeOps(OpRegistry &registry);
void registerLossOps(OpRegistry &registry);
void registerQuantizationOps(OpRegistry &registry);
void registerIndexingOps(OpRegistry &registry);
void registerRecurrentOps(OpRegistry &registry);
void registerSignalOps(OpRegistry &registry);
void registerVisionOps(OpRegistry &registry);
void registerControlFlowOps(OpRegistry &registry);
void registerSequenceOps(OpRegistry &registry);

/// The Loop handler (ControlFlowOps.cpp), which SequenceMap reuses.
llvm::LogicalResult importLoopNode(NodeImporter &n);

/// The MLIR element type of an ONNX TensorProto data type, or null.
mlir::Type convertElementType(mlir::MLIRContext *context, int32_t dataType);

/// Reads the values of an ONNX tensor into an elements attribute (dense for
/// small tensors, a dense_resource blob named `resourceName` otherwise). The
/// data comes from `externalData` when given (and is adopted without a copy),
/// else from the tensor's raw or typed fields. Reports a data size that does
/// not match the shape.
llvm::FailureOr<mlir::ElementsAttr>
convertTensor(mlir::MLIRContext *context, const onnx::TensorProto &tensor,
              llvm::StringRef resourceName,
              llvm::function_ref<mlir::InFlightDiagnostic()> emitError,
              std::unique_ptr<std::string> externalData = nullptr);

/// Imports a graph-valued attribute (the body of If, Loop, Scan) at the
/// builder's insertion point with its inputs bound to the given values;
/// values of the enclosing graphs stay visible. Returns the graph's outputs.
using SubgraphImporter =
    std::function<llvm::FailureOr<llvm::SmallVector<mlir::Value>>(
        const onnx::GraphProto &, mlir::ValueRange)>;

/// The importer's view of one node during its import.
class NodeImporter {
public:
  NodeImporter(const onnx::NodeProto &node, mlir::OpBuilder &builder,
               mlir::Location loc, int64_t opset,
               llvm::SmallVector<mlir::Value> operands,
               SubgraphImporter subgraphs = nullptr)
      : node(node), builder(builder), loc(loc), opset(opset),
        operands(std::move(operands)), subgraphs(std::move(subgraphs)) {}

  const onnx::NodeProto &getNode() const { return node; }
  mlir::OpBuilder &getBuilder() { return builder; }
  mlir::MLIRContext *getContext() { return builder.getContext(); }
  mlir::Location getLoc() const { return loc; }
  /// The opset version of the node's domain in this model.
  int64_t getOpset() const { return opset; }

  //===--------------------------------------------------------------------===//
  // Operands
  //===--------------------------------------------------------------------===//

  /// The number of operands including trailing absent ones.
  size_t getNumOperands() const { return operands.size(); }
  /// Whether operand `i` is given (present and not the empty name).
  bool hasOperand(size_t i) const { return i < operands.size() && operands[i]; }
  /// Operand `i`, or null when absent.
  mlir::Value operand(size_t i) const {
    return hasOperand(i) ? operands[i] : mlir::Value();
  }
  /// Every operand; for variadic ops (absent ones are an error).
  llvm::FailureOr<llvm::SmallVector<mlir::Value>> allOperands();
  /// Checks that operands [0, count) are present.
  llvm::LogicalResult requireOperands(size_t count);
  /// The ranked type of operand `i` (which must be present).
  mlir::RankedTensorType operandType(size_t i) const {
    return llvm::cast<mlir::RankedTensorType>(operands[i].getType());
  }
  /// The integer values of constant operand `i`; an error (naming `what`)
  /// when the operand is not a constant.
  llvm::FailureOr<llvm::SmallVector<int64_t>>
  constantInts(size_t i, llvm::StringRef what);

  //===--------------------------------------------------------------------===//
  // Attributes
  //===--------------------------------------------------------------------===//

  bool hasAttr(llvm::StringRef name) const;
  int64_t intAttr(llvm::StringRef name, int64_t defaultValue) const;
  float floatAttr(llvm::StringRef name, float defaultValue) const;
  std::string stringAttr(llvm::StringRef name,
                         llvm::StringRef defaultValue) const;
  llvm::SmallVector<int64_t>
  intsAttr(llvm::StringRef name,
           llvm::ArrayRef<int64_t> defaultValue = {}) const;
  llvm::SmallVector<float> floatsAttr(llvm::StringRef name) const;
  const onnx::AttributeProto *findAttr(llvm::StringRef name) const;

  //===--------------------------------------------------------------------===//
  // Building
  //===--------------------------------------------------------------------===//

  /// A 1-D i64 constant (shape vectors, pads, axes).
  mlir::Value constI64(llvm::ArrayRef<int64_t> values);
  /// A rank-0 constant of `elementType` holding `value`.
  mlir::Value constScalar(mlir::Type elementType, double value);

  /// Builds an `OpTy` from `operands` and `attrs`, inferring its result
  /// types, and folds it when it can (so that shape computations on static
  /// dims become constants as the graph is imported). Returns the results;
  /// reports an error naming the node when inference or verification fails
  /// instead of aborting.
  template <typename OpTy>
  llvm::FailureOr<llvm::SmallVector<mlir::Value>>
  build(mlir::ValueRange operands,
        llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    return buildOp(OpTy::getOperationName(), operands, attrs);
  }
  /// As `build`, and returns the single result.
  template <typename OpTy>
  llvm::FailureOr<mlir::Value>
  create(mlir::ValueRange operands,
         llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    llvm::FailureOr<llvm::SmallVector<mlir::Value>> results =
        build<OpTy>(operands, attrs);
    if (failed(results))
      return llvm::failure();
    return results->front();
  }
  /// An attribute named `name` for `build`.
  mlir::NamedAttribute named(llvm::StringRef name, mlir::Attribute value) {
    return builder.getNamedAttr(name, value);
  }
  mlir::NamedAttribute namedI64(llvm::StringRef name, int64_t value) {
    return named(name, builder.getI64IntegerAttr(value));
  }
  mlir::NamedAttribute namedF32(llvm::StringRef name, float value) {
    return named(name, builder.getF32FloatAttr(value));
  }
  mlir::NamedAttribute namedBool(llvm::StringRef name, bool value) {
    return named(name, builder.getBoolAttr(value));
  }
  mlir::NamedAttribute namedStr(llvm::StringRef name, llvm::StringRef value) {
    return named(name, builder.getStringAttr(value));
  }
  mlir::NamedAttribute namedI64s(llvm::StringRef name,
                                 llvm::ArrayRef<int64_t> values) {
    return named(name, builder.getDenseI64ArrayAttr(values));
  }
  /// The `operandSegmentSizes` of an op with several optional operands.
  mlir::NamedAttribute segments(llvm::ArrayRef<int32_t> sizes) {
    return named("operandSegmentSizes", builder.getDenseI32ArrayAttr(sizes));
  }

  //===--------------------------------------------------------------------===//
  // Results and errors
  //===--------------------------------------------------------------------===//

  /// The graph attribute `name`, or null when the node has none.
  const onnx::GraphProto *graphAttr(llvm::StringRef name) const;
  /// Imports graph attribute `name` (see SubgraphImporter) with its inputs
  /// bound to `inputs`; an error when the attribute is missing or the input
  /// count differs.
  llvm::FailureOr<llvm::SmallVector<mlir::Value>>
  importSubgraph(llvm::StringRef name, mlir::ValueRange inputs);

  /// Binds the node's outputs to `values`, in order. Outputs past
  /// `values.size()` must be absent or unused (`unsupportedOutputs` names
  /// them in errors).
  llvm::LogicalResult setResults(mlir::ValueRange values);
  /// Shorthand for a single result produced by a FailureOr.
  llvm::LogicalResult setResult(llvm::FailureOr<mlir::Value> value) {
    if (failed(value))
      return llvm::failure();
    return setResults(*value);
  }
  /// The values bound by `setResults`.
  llvm::ArrayRef<mlir::Value> getResults() const { return results; }

  /// An importer for `other` (a node built by a handler, such as the Loop
  /// that SequenceMap expands to) at this node's place, with `operands`;
  /// `other` must outlive it.
  NodeImporter derive(const onnx::NodeProto &other,
                      llvm::SmallVector<mlir::Value> operands) const {
    return NodeImporter(other, builder, loc, opset, std::move(operands),
                        subgraphs);
  }

  /// An error at the node; the message is prefixed with its name and type.
  mlir::InFlightDiagnostic emitError();
  /// A warning at the node, prefixed like errors.
  mlir::InFlightDiagnostic emitWarning();
  /// "node 'name' (OpType)".
  std::string describe() const;

private:
  llvm::FailureOr<llvm::SmallVector<mlir::Value>>
  buildOp(llvm::StringRef name, mlir::ValueRange operands,
          llvm::ArrayRef<mlir::NamedAttribute> attrs);

  const onnx::NodeProto &node;
  mlir::OpBuilder &builder;
  mlir::Location loc;
  int64_t opset;
  llvm::SmallVector<mlir::Value> operands;
  llvm::SmallVector<mlir::Value> results;
  SubgraphImporter subgraphs;
};

/// A kiln.conv of `input` and `weight` (and `bias`, which may be null) with
/// the window attributes of Conv node `n`.
llvm::FailureOr<mlir::Value> buildConv(NodeImporter &n, mlir::Value input,
                                       mlir::Value weight, mlir::Value bias);

/// Builds a node as a composition of kiln ops. Every step can fail (and
/// reports on the node); the first failure sticks and makes every later step
/// return a null value, so a decomposition is written as straight-line code
/// and checks `failed()` once at the end.
class Decomposer {
public:
  explicit Decomposer(NodeImporter &n) : n(n) {}

  bool failed() const { return hasFailed; }
  /// The value of `v`, or null (and the failure recorded).
  mlir::Value check(llvm::FailureOr<mlir::Value> v) {
    if (mlir::failed(v)) {
      hasFailed = true;
      return mlir::Value();
    }
    return *v;
  }
  /// Builds `OpTy` (see NodeImporter::create) unless a step failed already.
  template <typename OpTy>
  mlir::Value op(mlir::ValueRange operands,
                 llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    if (hasFailed || llvm::any_of(operands, [](mlir::Value v) { return !v; }))
      return fail();
    return check(n.create<OpTy>(operands, attrs));
  }
  /// As `op`, for ops with several results.
  template <typename OpTy>
  llvm::SmallVector<mlir::Value>
  ops(mlir::ValueRange operands,
      llvm::ArrayRef<mlir::NamedAttribute> attrs = {}) {
    if (hasFailed || llvm::any_of(operands, [](mlir::Value v) { return !v; })) {
      fail();
      return {};
    }
    llvm::FailureOr<llvm::SmallVector<mlir::Value>> results =
        n.build<OpTy>(operands, attrs);
    if (mlir::failed(results)) {
      hasFailed = true;
      return {};
    }
    return *results;
  }
  /// A rank-0 constant of `element` holding `value`.
  mlir::Value scalar(mlir::Type element, double value);
  /// A 1-D i64 constant.
  mlir::Value ints(llvm::ArrayRef<int64_t> values);
  /// `v` converted to `element` (no op when it has that type already).
  mlir::Value convert(mlir::Value v, mlir::Type element);
  /// The element type of `v`.
  static mlir::Type elementType(mlir::Value v) {
    return llvm::cast<mlir::RankedTensorType>(v.getType()).getElementType();
  }
  /// The rank of `v`.
  static int64_t rank(mlir::Value v) {
    return llvm::cast<mlir::RankedTensorType>(v.getType()).getRank();
  }
  /// Reductions over `axes` (all dims when empty).
  template <typename OpTy>
  mlir::Value reduce(mlir::Value v, llvm::ArrayRef<int64_t> axes,
                     bool keepdims) {
    return op<OpTy>(
        v, {n.namedI64s("axes", axes), n.namedBool("keepdims", keepdims)});
  }
  mlir::Value reshape(mlir::Value v, mlir::Value shape) {
    return op<ReshapeOp>({v, shape});
  }
  mlir::Value unsqueeze(mlir::Value v, llvm::ArrayRef<int64_t> axes) {
    return op<UnsqueezeOp>(v, {n.namedI64s("axes", axes)});
  }
  mlir::Value squeeze(mlir::Value v, llvm::ArrayRef<int64_t> axes) {
    return op<SqueezeOp>(v, {n.namedI64s("axes", axes)});
  }
  mlir::Value transpose(mlir::Value v, llvm::ArrayRef<int64_t> perm) {
    return op<TransposeOp>(v, {n.namedI64s("perm", perm)});
  }
  /// The concatenation of `parts` along `axis`.
  mlir::Value concat(mlir::ValueRange parts, int64_t axis = 0) {
    return op<ConcatOp>(parts, {n.namedI64("axis", axis)});
  }
  /// Element `i` of 1-D `v`, as a one-element 1-D tensor.
  mlir::Value element(mlir::Value v, int64_t i) {
    return op<GatherOp>({v, ints({i})}, {n.namedI64("axis", 0)});
  }
  /// The shape of `v` as a 1-D i64 tensor (a constant when static).
  mlir::Value shape(mlir::Value v) {
    return op<ShapeOp>(v, {n.namedI64("start", 0)});
  }
  /// Dim `d` of `v` as a 1-element i64 tensor.
  mlir::Value dim(mlir::Value v, int64_t d) {
    return op<ShapeOp>(v, {n.namedI64("start", d), n.namedI64("end", d + 1)});
  }

  /// 0, 1, ..., extent - 1 (i64) for a rank-0 or one-element `extent`.
  mlir::Value iota(mlir::Value extent);

  // Axes given as runtime tensors (the values of a graph input): the rank of
  // the result is known from the number of axes, the dims are computed.

  /// A bool [rank] mask of the dims that runtime `axes` (1-D, negative
  /// values counting from the end) name.
  mlir::Value axisMask(mlir::Value axes, int64_t rank);
  /// `x` without the dims where `mask` (bool [rank of x]) holds; the result
  /// has rank `resultRank`.
  mlir::Value dropDims(mlir::Value x, mlir::Value mask, int64_t resultRank);

protected:
  mlir::Value fail() {
    hasFailed = true;
    return mlir::Value();
  }
  NodeImporter &n;

private:
  bool hasFailed = false;
};

} // namespace kiln::onnx_import

#endif // KILN_LIB_FRONTEND_ONNX_NODEIMPORTER_H
