//===- GraphUtils.h - helpers shared by the kiln graph passes ---*- C++ -*-===//

#ifndef KILN_LIB_DIALECT_KILN_TRANSFORMS_GRAPHUTILS_H
#define KILN_LIB_DIALECT_KILN_TRANSFORMS_GRAPHUTILS_H

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "mlir/IR/PatternMatch.h"

namespace kiln::graph {

/// The value of `v` when it is a constant whose elements are all equal (a
/// scalar, a splat or a one-element tensor), else std::nullopt.
std::optional<double> getScalarConstant(mlir::Value v);

/// Whether `v` is a scalar constant within relative tolerance `rtol` of
/// `expected`.
bool isScalarNear(mlir::Value v, double expected, double rtol = 1e-4);

/// The location of an op fused from `ops`: the fusion of their locations, so
/// the ONNX nodes of every part stay visible (diagnostics, --report).
mlir::Location fusedLoc(mlir::ArrayRef<mlir::Operation *> ops);

/// A float elements attribute of `type` (f32 or f64) holding `values`: dense
/// when small, else a dense_resource blob named `name`.
mlir::ElementsAttr makeFloatElements(mlir::RankedTensorType type,
                                     llvm::ArrayRef<double> values,
                                     llvm::StringRef name);

/// A kiln.constant of `type` holding `values`, at `loc`.
mlir::Value createFloatConstant(mlir::OpBuilder &b, mlir::Location loc,
                                mlir::RankedTensorType type,
                                llvm::ArrayRef<double> values,
                                llvm::StringRef name);

/// The name of a constant's dense_resource blob, or "folded".
std::string constantName(mlir::Value v);

/// The operand of binary op `op` that is not `v` (either side), or null.
mlir::Value otherOperand(mlir::Operation *op, mlir::Value v);

/// The single user of `v`, or null when it has none or several.
mlir::Operation *singleUser(mlir::Value v);

/// Rebuilds contraction `op` (ConvOp, MatMulOp or GemmOp) at `loc` with
/// `operands`, one per ODS operand group (null for an absent optional one),
/// after `edit` changed its properties (activation, ...).
template <typename OpTy>
OpTy rebuildContraction(
    mlir::RewriterBase &rewriter, OpTy op, mlir::Location loc,
    llvm::ArrayRef<mlir::Value> operands,
    llvm::function_ref<void(typename OpTy::Properties &)> edit = nullptr) {
  typename OpTy::Properties props = op.getProperties();
  llvm::SmallVector<mlir::Value> present;
  for (auto [i, v] : llvm::enumerate(operands)) {
    props.operandSegmentSizes[i] = v ? 1 : 0;
    if (v)
      present.push_back(v);
  }
  if (edit)
    edit(props);
  return OpTy::create(rewriter, loc, op->getResultTypes(), present, props);
}

/// The operand groups of a contraction in ODS order: (input, weight, bias,
/// residual) for conv, (lhs, rhs, bias, residual) for matmul, (a, b, c,
/// residual) for gemm.
llvm::SmallVector<mlir::Value, 4> contractionOperands(mlir::Operation *op);

} // namespace kiln::graph

#endif // KILN_LIB_DIALECT_KILN_TRANSFORMS_GRAPHUTILS_H
