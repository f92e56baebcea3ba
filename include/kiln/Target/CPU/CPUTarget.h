//===- CPUTarget.h - the CPU target: LLVM, objects, shared libraries -*- C++
//-*-===//
//
// The CPU target (--target=cpu): its codegen pipeline is
// buildLinalgToLLVMPipeline (kernel strategy, microkernels, bufferization,
// loops on OpenMP, LLVM dialect); its artifact is LLVM IR, optimized object
// code for a host (or named) x86-64 CPU, or that code linked with the Kiln
// runtime into a shared library, plus the C header describing the model.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TARGET_CPU_CPUTARGET_H
#define KILN_TARGET_CPU_CPUTARGET_H

#include "kiln/Target/Target.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"

#include <memory>
#include <string>

namespace kiln {

struct CPUTargetOptions {
  /// The CPU to tune and select instructions for; empty means the host.
  std::string cpu;
  /// LLVM optimization level, 0-3.
  unsigned optLevel = 2;
};

/// The LLVM IR of a model: its code, optimized for the target, and its
/// constant data (weights), kept apart so that the optimizer never walks
/// hundreds of megabytes of initializers.
struct LLVMModel {
  std::unique_ptr<llvm::Module> code;
  std::unique_ptr<llvm::Module> data;
};

/// Translates an LLVM-dialect module to LLVM IR, moves constants larger than
/// `dataThreshold` bytes into the data module, and optimizes the code for the
/// target. Errors go to the context's diagnostic engine.
mlir::FailureOr<LLVMModel> translateAndOptimize(mlir::ModuleOp module,
                                                llvm::LLVMContext &llvmContext,
                                                const CPUTargetOptions &options,
                                                uint64_t dataThreshold = 4096);

/// The microkernel instruction set (kiln-cpu-select-kernels' `isa`) for the
/// CPU of `options`: "host" for the host, else avx512, avx2 or generic by
/// the named CPU's features. Unknown CPU names give an error.
mlir::FailureOr<std::string> microkernelISA(const CPUTargetOptions &options,
                                            std::string &error);

/// Emits `module` as a relocatable, position-independent object file.
mlir::LogicalResult emitObject(llvm::Module &module,
                               const CPUTargetOptions &options,
                               llvm::raw_pwrite_stream &os, std::string &error);

/// Links the object files with the Kiln runtime (and libomp, libm) into the
/// shared library `outputPath` with ld.lld.
mlir::LogicalResult linkSharedLibrary(llvm::ArrayRef<std::string> objectPaths,
                                      llvm::StringRef outputPath,
                                      llvm::StringRef runtimeLibrary,
                                      std::string &error);

/// Writes the artifact of an LLVM-dialect module for an x86-64 host:
/// LLVM IR, an object, or a shared library linked with the runtime library
/// `runtimeName` (found in the lib directory next to the compiler) plus its
/// C header. No partial file is left on failure.
mlir::LogicalResult emitHostArtifact(mlir::ModuleOp module,
                                     const CPUTargetOptions &options,
                                     const ArtifactOptions &artifact,
                                     llvm::StringRef runtimeName);

/// Registers the CPU target ("cpu") with the target registry.
void registerCPUTarget();

/// The C header of a compiled model: the Kiln runtime ABI and a description
/// of this model's inputs and outputs (from the kiln.signature attribute).
std::string generateModelHeader(mlir::ModuleOp module,
                                llvm::StringRef modelName);

} // namespace kiln

#endif // KILN_TARGET_CPU_CPUTARGET_H
