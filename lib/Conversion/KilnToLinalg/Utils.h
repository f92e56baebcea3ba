//===- Utils.h - shared helpers of the kiln-to-linalg patterns --*- C++ -*-===//

#ifndef KILN_LIB_CONVERSION_KILNTOLINALG_UTILS_H
#define KILN_LIB_CONVERSION_KILNTOLINALG_UTILS_H

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

namespace kiln::to_linalg {

/// Whether `type` (an element type of the kiln op, before conversion) is
/// compared and converted as unsigned: unsigned integers and bool.
inline bool isUnsignedLike(mlir::Type type) {
  return type.isUnsignedInteger() || type.isInteger(1);
}

/// The signless element type that stands for `type` after conversion.
mlir::Type toSignless(mlir::Type type);

/// The tensor type `type` becomes after conversion (signless elements).
mlir::RankedTensorType convertTensorType(mlir::RankedTensorType type);

/// The type converter of the lowering: unsigned integers become signless.
class KilnTypeConverter : public mlir::TypeConverter {
public:
  KilnTypeConverter();
};

/// The extent of every dim of `value` (constants for static dims).
llvm::SmallVector<mlir::OpFoldResult>
getDims(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value);

/// The extent of every dim of `value` as index values.
llvm::SmallVector<mlir::Value>
getDimValues(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value);

/// A `tensor.empty` of `type` whose dynamic dims come from `dims` (one entry
/// per dim; static entries are ignored).
mlir::Value emptyTensor(mlir::OpBuilder &b, mlir::Location loc,
                        mlir::RankedTensorType type,
                        llvm::ArrayRef<mlir::OpFoldResult> dims);

/// An `arith.constant` scalar of `type` (float or integer) holding `value`.
mlir::Value scalarConstant(mlir::OpBuilder &b, mlir::Location loc,
                           mlir::Type type, double value);

/// The lowest (for a max) or highest value of `type`: -inf or the integer
/// minimum, +inf or the integer maximum.
mlir::Value extremeConstant(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Type type, bool lowest, bool isUnsigned);

/// A tensor of `type` (dynamic dims from `dims`) filled with `value`.
mlir::Value filledTensor(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::RankedTensorType type,
                         llvm::ArrayRef<mlir::OpFoldResult> dims,
                         mlir::Value value);

/// Result dims of a numpy-style broadcast of `inputs` to `type`: dynamic
/// dims are read from the first input whose aligned dim is not a static 1.
llvm::SmallVector<mlir::OpFoldResult> broadcastDims(mlir::OpBuilder &b,
                                                    mlir::Location loc,
                                                    mlir::RankedTensorType type,
                                                    mlir::ValueRange inputs);

/// Builds a `linalg.generic` computing `body` elementwise over `inputs`
/// broadcast to `type` (a dim of 1 stretches; other dims must agree at run
/// time). `body` receives the scalar operands and returns the result scalar.
/// `dims`, when given, are the result's dim extents (otherwise they come
/// from the inputs, see `broadcastDims`).
mlir::Value buildBroadcastGeneric(
    mlir::OpBuilder &b, mlir::Location loc, mlir::RankedTensorType type,
    mlir::ValueRange inputs,
    llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                   mlir::ValueRange)>
        body,
    llvm::ArrayRef<mlir::OpFoldResult> dims = {});

/// Reshapes `value` to `type` (same element count), with collapse/expand
/// shapes where the dims regroup and `tensor.reshape` otherwise. `dims` gives
/// the target's dim extents (needed when `type` has dynamic dims).
mlir::Value reshapeTo(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value,
                      mlir::RankedTensorType type,
                      llvm::ArrayRef<mlir::OpFoldResult> dims);

/// Converts scalar `value` of element type `from` (kiln's, so signedness is
/// known) to `to` (kiln's) with ONNX Cast semantics.
mlir::Value castScalar(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value value, mlir::Type from, mlir::Type to);

/// An index value from a scalar integer of any width.
mlir::Value toIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::Value value);

/// An ONNX index (integer of any width, or index) as an index value:
/// negative ones count from `extent`.
mlir::Value wrapIndex(mlir::OpBuilder &b, mlir::Location loc, mlir::Value raw,
                      mlir::Value extent);

/// The scalar activation `activation` (a contraction epilogue's, see
/// Kiln_ActivationAttr) of `x`, whose kiln element type is `type`.
mlir::Value activationScalar(mlir::OpBuilder &b, mlir::Location loc,
                             mlir::Type type, llvm::StringRef activation,
                             llvm::ArrayRef<float> params, mlir::Value x);

/// The accumulator a contraction with an epilogue starts from: `bias` and
/// `residual` (either may be null) broadcast and summed to `type` (dims
/// `dims`), or zeros when both are null.
mlir::Value epilogueInit(mlir::OpBuilder &b, mlir::Location loc,
                         mlir::RankedTensorType type,
                         llvm::ArrayRef<mlir::OpFoldResult> dims,
                         mlir::Value bias, mlir::Value residual);

/// Applies `activation` elementwise to `value` (in place after
/// bufferization); returns `value` for "none".
mlir::Value applyActivation(mlir::OpBuilder &b, mlir::Location loc,
                            mlir::Value value, mlir::Type kilnElementType,
                            llvm::StringRef activation,
                            llvm::ArrayRef<float> params);

/// Op-family pattern registration, one per source file.
/// Reasons of the runtime's kiln_model_trap (runtime/cpu/kiln_ukernels.h).
constexpr int32_t kTrapCacheOverflow = 1, kTrapIndexOutOfRange = 2;

/// Calls the runtime's kiln_model_trap(reason) where `condition` holds: the
/// run ends with an error (declares the function in `op`'s module once).
void trapIf(mlir::OpBuilder &b, mlir::Operation *op, mlir::Value condition,
            int32_t reason);

/// Traps (kTrapIndexOutOfRange) unless every element of `indices`, an
/// integer tensor, lies in [-n, n) for its extent n, as ONNX requires of
/// gather and scatter indices: one extent for all, or one per position
/// along the last dim (index tuples of GatherND and ScatterND). Nothing is
/// built for constant indices known to be in range.
void checkIndices(mlir::OpBuilder &b, mlir::Operation *op, mlir::Value indices,
                  llvm::ArrayRef<mlir::OpFoldResult> extents);

void populateElementwisePatterns(KilnTypeConverter &converter,
                                 mlir::RewritePatternSet &patterns);
void populateLinearAlgebraPatterns(KilnTypeConverter &converter,
                                   mlir::RewritePatternSet &patterns);
void populateConvolutionPatterns(KilnTypeConverter &converter,
                                 mlir::RewritePatternSet &patterns);
void populateNormalizationPatterns(KilnTypeConverter &converter,
                                   mlir::RewritePatternSet &patterns);
void populatePadResizePatterns(KilnTypeConverter &converter,
                               mlir::RewritePatternSet &patterns);
void populateDataMovementPatterns(KilnTypeConverter &converter,
                                  mlir::RewritePatternSet &patterns);
/// With `attentionKernel`, attention with many query rows that the CPU
/// kernel takes becomes kiln.flash_attention rather than tile loops.
void populateAttentionPatterns(KilnTypeConverter &converter,
                               mlir::RewritePatternSet &patterns,
                               bool attentionKernel);
void populateIndexingPatterns(KilnTypeConverter &converter,
                              mlir::RewritePatternSet &patterns);

} // namespace kiln::to_linalg

#endif // KILN_LIB_CONVERSION_KILNTOLINALG_UTILS_H
