//===- Passes.h - kiln dialect passes ---------------------------*- C++ -*-===//

#ifndef KILN_DIALECT_KILN_TRANSFORMS_PASSES_H
#define KILN_DIALECT_KILN_TRANSFORMS_PASSES_H

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Pass/Pass.h"

namespace kiln {

#define GEN_PASS_DECL
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"

/// The attribute with which kiln-compile gives kiln-quantize-int8 the
/// calibrated range [lo, hi] of a product's activation (DenseF32ArrayAttr).
inline constexpr llvm::StringLiteral kCalibrationAttr = "kiln.calibration";

/// The attribute with which kiln-compile gives kiln-quantize-weights the
/// second moment H = mean x^T x of a matmul's activation rows x over the
/// calibration data (a float tensor [K, K]), from which GPTQ chooses the
/// integers.
inline constexpr llvm::StringLiteral kHessianAttr = "kiln.hessian";

/// The products in `func` that kiln-quantize-int8 turns into int8 ones
/// (convolutions only with `convolutions`), each with the activation whose
/// range it quantizes.
llvm::SmallVector<std::pair<mlir::Operation *, mlir::Value>>
int8QuantizableProducts(mlir::func::FuncOp func, int64_t minWeightElements,
                        bool convolutions = true);

/// Whether kiln-quantize-weights quantizes matmul `op`'s weight: an f32
/// lhs and a constant 2-D f32 weight [K, N] of at least
/// `minWeightElements` elements, K a multiple of `group`.
bool isWeightOnlyProduct(MatMulOp op, int64_t minWeightElements, int64_t group);

} // namespace kiln

#endif // KILN_DIALECT_KILN_TRANSFORMS_PASSES_H
