//===- Passes.td - conversions out of the kiln dialect ------*- tablegen -*-===//

#ifndef KILN_CONVERSION_PASSES_TD
#define KILN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// KilnToLinalg
//===----------------------------------------------------------------------===//

def ConvertKilnToLinalg : Pass<"convert-kiln-to-linalg", "mlir::ModuleOp"> {
  let summary = "Lower kiln ops to linalg, tensor, arith and math";
  let description = [{
    Rewrites every kiln op into upstream tensor-level IR: elementwise and
    broadcasting ops into `linalg.generic`, contractions into `linalg.matmul`
    or generics, reshapes into `tensor.collapse_shape`/`expand_shape`, and so
    on, one file per op family. Unsigned element types become signless (the
    ops that care use unsigned arithmetic), so function signatures change
    accordingly. Fails, naming the ONNX node, on an op it cannot lower.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect",
    "::mlir::scf::SCFDialect", "::mlir::func::FuncDialect"
  ];
  let options = [
    Option<"attentionKernel", "attention-kernel", "bool", /*default=*/"false",
           "Keep kiln.attention with many query rows whole, as "
           "kiln.flash_attention (for a target's fused attention kernel), "
           "instead of tile loops">
  ];
}

def KilnLowerNestedLinalg : Pass<"kiln-lower-nested-linalg", "mlir::func::FuncOp"> {
  let summary = "Lower linalg ops inside parallel loops to sequential loops";
  let description = [{
    Runs after bufferization and `scf-forall-to-parallel`. A linalg op nested
    in an `scf.parallel` (the tile loops of kiln.attention) already runs on
    one thread per tile: it becomes plain `scf.for` loops, so that only the
    outer loop turns into an OpenMP parallel region.
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect"];
}

//===----------------------------------------------------------------------===//
// Model ABI
//===----------------------------------------------------------------------===//

def KilnEmitModelEntry : Pass<"kiln-emit-model-entry", "mlir::ModuleOp"> {
  let summary = "Add the entry point and signature the Kiln runtime calls";
  let description = [{
    Runs on the LLVM dialect, after `kiln-record-signature` marked the model
    function for C-interface emission. Adds `kiln_model_signature`, a
    constant string describing the inputs and outputs (names, element types,
    shapes with -1 for dynamic dims), and `kiln_model_entry(void **args)`,
    which calls the model's C interface with `args[0]` pointing to the result
    descriptors and `args[1..]` to the input descriptors. A module that
    `kiln-profile-kernels` instrumented also gets `kiln_model_profile_kernels`,
    its kernel names, one per line.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

def KilnRecordSignature : Pass<"kiln-record-signature", "mlir::ModuleOp"> {
  let summary = "Record the model's signature for the runtime";
  let description = [{
    Runs on the kiln dialect, before lowering changes the function's types.
    Stores the inputs and outputs of the model function (ONNX names from
    `kiln.name`, kiln element types, shapes) as the module attribute
    `kiln.signature`, and asks for the function's C interface
    (`llvm.emit_c_interface`). The inputs belong to the caller: every
    argument is marked `bufferization.writable = false`, so bufferization
    never updates an input's buffer in place (ScatterND into its data input
    copies it first), except the key/value caches that `kiln-bind-kv-cache`
    marked `kiln.kv_cache`, which the run updates.
  }];
  let options = [
    Option<"functionName", "function", "std::string", "\"main_graph\"",
           "The model function">
  ];
}

def KilnProfileKernels : Pass<"kiln-profile-kernels", "mlir::ModuleOp"> {
  let summary = "Time each kernel of the model function (kiln-compile --profile)";
  let description = [{
    Runs on buffers, after code generation chose the kernels and before
    linalg becomes loops. Every top-level operation of the model function
    (the `kiln.signature` function) that does work (a linalg op, a kernel
    call, a loop, a copy) belongs to a kernel; consecutive ones from the same
    ONNX nodes (their locations) form one kernel. Each kernel is bracketed by
    `kiln_profile_begin(id)` and `kiln_profile_end(id)`, which the runtime
    implements (they record times only while profiling is on), and the
    module attribute `kiln.profile_kernels` lists the kernels' names by id:
    "NODE [Type+Type]" with the first ONNX node's name, the number of further
    nodes, and their op types; `kiln.profile_kernel_nodes` lists each
    kernel's ONNX node names (for the compile report).
    `kiln-emit-model-entry` exports the names as `kiln_model_profile_kernels`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect"];
}

#endif // KILN_CONVERSION_PASSES_TD
