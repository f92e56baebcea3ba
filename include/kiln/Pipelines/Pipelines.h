//===- Pipelines.h - Kiln's pass pipelines ----------------------*- C++ -*-===//
//
// The pipelines kiln-compile runs, registered for kiln-opt as well, so any
// stage can be replayed: kiln-opt --kiln-to-linalg, --kiln-to-llvm.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_PIPELINES_PIPELINES_H
#define KILN_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

namespace kiln {

/// Options shared by the CPU pipelines.
struct CPUPipelineOptions
    : public mlir::PassPipelineOptions<CPUPipelineOptions> {
  Option<unsigned> optLevel{*this, "opt-level",
                            llvm::cl::desc("Optimization level (0-3)"),
                            llvm::cl::init(2)};
  Option<bool> parallel{
      *this, "parallel",
      llvm::cl::desc("Run parallel loops on OpenMP threads (needs libomp at "
                     "run time)"),
      llvm::cl::init(true)};
};

/// kiln dialect -> kiln dialect: shape refinement and folding (and, from
/// -O1 on, the graph optimizations).
void buildKilnGraphPipeline(mlir::OpPassManager &pm,
                            const CPUPipelineOptions &options);

/// kiln dialect -> linalg on tensors, signature recorded for the runtime.
void buildKilnToLinalgPipeline(mlir::OpPassManager &pm,
                               const CPUPipelineOptions &options);

/// linalg on tensors -> LLVM dialect with the model entry point.
void buildLinalgToLLVMPipeline(mlir::OpPassManager &pm,
                               const CPUPipelineOptions &options);

/// The whole CPU pipeline: graph, kiln-to-linalg and linalg-to-LLVM.
void buildKilnToLLVMPipeline(mlir::OpPassManager &pm,
                             const CPUPipelineOptions &options);

/// Registers the pipelines above with the global registry.
void registerPipelines();

} // namespace kiln

#endif // KILN_PIPELINES_PIPELINES_H
