//===- KilnOps.h - kiln dialect operations ----------------------*- C++ -*-===//

#ifndef KILN_DIALECT_KILN_IR_KILNOPS_H
#define KILN_DIALECT_KILN_IR_KILNOPS_H

#include "kiln/Dialect/Kiln/IR/KilnDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <map>

namespace kiln {

/// Folds create uniqued attributes, so they are limited to tensors of at most
/// this many elements: shape computations, never weights.
inline constexpr int64_t kMaxFoldElements = 64;

/// Whether inferred and declared result types agree: same element type and
/// rank, and every dim equal unless one of them is dynamic.
bool areCompatibleResultTypes(mlir::TypeRange lhs, mlir::TypeRange rhs);

/// The integer values of an integer elements attribute (dense or
/// dense_resource), else std::nullopt.
std::optional<llvm::SmallVector<int64_t>> getIntValues(mlir::Attribute attr);

/// The values of an elements attribute (dense or dense_resource) as
/// doubles: floats converted, integers exact; else std::nullopt.
std::optional<llvm::SmallVector<double>> getFloatValues(mlir::Attribute attr);

/// The integer values of `value` when it is produced by a constant (dense or
/// dense_resource), else std::nullopt.
std::optional<llvm::SmallVector<int64_t>> getConstantInts(mlir::Value value);

/// The [start, end) range of dims of a rank-`rank` tensor that kiln.shape's
/// `start` and `end` attributes select (negative ones count from the end,
/// both clamped to [0, rank]).
std::pair<int64_t, int64_t> shapeRange(int64_t rank, int64_t start,
                                       std::optional<int64_t> end);

/// What one element of a small integer tensor that computes a shape is known
/// to be: a constant, or the extent of dim `dim` of `source` (a dynamic dim:
/// static ones are constants), or nothing (both unset).
struct ShapeElement {
  std::optional<int64_t> constant;
  mlir::Value source;
  int64_t dim = -1;

  bool isKnown() const { return constant.has_value() || source; }
  /// Known to be a dim's extent, hence >= 0.
  bool isNonNegative() const { return source || (constant && *constant >= 0); }
  bool operator==(const ShapeElement &other) const {
    return isKnown() && constant == other.constant && source == other.source &&
           dim == other.dim;
  }
};

/// The elements of `shape` (a 0-D or 1-D integer tensor of at most
/// kMaxFoldElements elements, in row-major order) as far as the ops that
/// compute it tell: constants, Shape, Gather/Slice of a shape with constant
/// indices, Concat, Unsqueeze/Squeeze/Reshape, integer Cast and arithmetic,
/// and Where(Equal(s, c), a, s). std::nullopt when `shape` is not such a
/// tensor.
std::optional<llvm::SmallVector<ShapeElement>>
getShapeElements(mlir::Value shape);

/// Dim `dim` of `value` as a shape element: its extent when static, else a
/// reference to it.
ShapeElement dimElement(mlir::Value value, int64_t dim);

/// The float values of `value` when it is produced by a constant.
std::optional<llvm::SmallVector<double>> getConstantFloats(mlir::Value value);

/// The numpy-style broadcast of `shapes` (kDynamic where unknown), or failure
/// when two static dims disagree and neither is 1.
llvm::FailureOr<llvm::SmallVector<int64_t>>
broadcastShapes(llvm::ArrayRef<llvm::ArrayRef<int64_t>> shapes);

/// Whether a tensor of shape `from` broadcasts to shape `to` (without `to`
/// changing).
bool broadcastsTo(llvm::ArrayRef<int64_t> from, llvm::ArrayRef<int64_t> to);

/// Normalizes an axis in [-rank, rank) to [0, rank), or failure.
llvm::FailureOr<int64_t> normalizeAxis(int64_t axis, int64_t rank);

/// Infers the result of an elementwise op over `operands` broadcast together;
/// the element type is `elementType`, or the first operand's when null.
llvm::LogicalResult
inferBroadcastResult(std::optional<mlir::Location> location,
                     mlir::ValueRange operands, mlir::Type elementType,
                     llvm::SmallVectorImpl<mlir::Type> &inferredReturnTypes);

/// Infers the result of reducing `input` over `axes` (all dims when empty).
llvm::LogicalResult
inferReductionResult(std::optional<mlir::Location> location, mlir::Value input,
                     llvm::ArrayRef<int64_t> axes, bool keepdims,
                     llvm::SmallVectorImpl<mlir::Type> &inferredReturnTypes);

/// A parsed einsum equation. Labels are 0-25 for a-z, 26-51 for A-Z, and
/// kFirstEllipsisLabel + j for the j-th dim that "..." stands for (aligned
/// right across operands, as numpy broadcasts them).
struct EinsumSpec {
  static constexpr int64_t kFirstEllipsisLabel = 64;
  llvm::SmallVector<llvm::SmallVector<int64_t>> inputs;
  llvm::SmallVector<int64_t> output;
  int64_t numEllipsisDims = 0;
};

/// Parses `equation` for operands of `ranks`; on failure, `error` says why.
llvm::FailureOr<EinsumSpec> parseEinsum(llvm::StringRef equation,
                                        llvm::ArrayRef<int64_t> ranks,
                                        std::string &error);

/// The extent of each label of `spec` over operands of `types` (kDynamic
/// when unknown; a label that is 1 somewhere and larger elsewhere
/// broadcasts).
std::map<int64_t, int64_t>
einsumLabelExtents(const EinsumSpec &spec,
                   llvm::ArrayRef<mlir::RankedTensorType> types);

/// Registers kiln.flash_attention's bufferization (BufferizableOpInterface)
/// with `registry`.
void registerBufferizableOpInterfaceExternalModels(
    mlir::DialectRegistry &registry);

} // namespace kiln

#define GET_OP_CLASSES
#include "kiln/Dialect/Kiln/IR/KilnOps.h.inc"

#endif // KILN_DIALECT_KILN_IR_KILNOPS_H
