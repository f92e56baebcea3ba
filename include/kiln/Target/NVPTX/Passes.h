//===- Passes.h - the NVPTX target's code generation passes -----*- C++ -*-===//

#ifndef KILN_TARGET_NVPTX_PASSES_H
#define KILN_TARGET_NVPTX_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace kiln {

#define GEN_PASS_DECL
#include "kiln/Target/NVPTX/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "kiln/Target/NVPTX/Passes.h.inc"

} // namespace kiln

#endif // KILN_TARGET_NVPTX_PASSES_H
