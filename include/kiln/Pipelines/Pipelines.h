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
  Option<std::string> isa{
      *this, "isa",
      llvm::cl::desc("Instruction set of the CPU microkernels (avx512, avx2, "
                     "generic, or host); -O0 uses none"),
      llvm::cl::init("host")};
  Option<std::string> quantize{
      *this, "quantize",
      llvm::cl::desc("Quantization: none, int8 (activation ranges from "
                     "kiln.calibration attributes), int8-dynamic (int8 "
                     "weights, activations quantized at run time), "
                     "int8-weight or int4-weight (weights only, in groups "
                     "of quantize-group k)"),
      llvm::cl::init("none")};
  Option<int64_t> quantizeGroup{
      *this, "quantize-group",
      llvm::cl::desc("int8-weight/int4-weight: consecutive k per scale"),
      llvm::cl::init(128)};
  Option<int64_t> int8WeightRange{
      *this, "int8-weight-range",
      llvm::cl::desc("Largest int8 weight magnitude quantization produces "
                     "(127, or 64 for AVX2 kernels)"),
      llvm::cl::init(127)};
  Option<bool> attentionKernel{
      *this, "attention-kernel",
      llvm::cl::desc("Keep attention with many query rows whole for the "
                     "target's fused attention kernel "
                     "(convert-kiln-to-linalg's attention-kernel)"),
      llvm::cl::init(false)};
  Option<bool> int8Convolutions{
      *this, "int8-convolutions",
      llvm::cl::desc("Quantize ungrouped 2-D convolutions too"),
      llvm::cl::init(true)};
  Option<double> pruneChannels{
      *this, "prune-channels",
      llvm::cl::desc("Fraction of each conv's output channels to remove by "
                     "weight magnitude (kiln-prune-magnitude)"),
      llvm::cl::init(0.0)};
  Option<double> pruneFFN{
      *this, "prune-ffn",
      llvm::cl::desc("Fraction of each feed-forward matmul's neurons to "
                     "remove by weight magnitude"),
      llvm::cl::init(0.0)};
  Option<double> pruneHeads{
      *this, "prune-heads",
      llvm::cl::desc("Attention heads to remove by magnitude: a count per "
                     "attention when >= 1, else a fraction"),
      llvm::cl::init(0.0)};
  Option<std::string> sparsity{
      *this, "sparsity",
      llvm::cl::desc("N:M: keep the N largest-magnitude weights of every M "
                     "consecutive ones along the reduction of each product "
                     "with constant weights (kiln-sparsify)"),
      llvm::cl::init("")};
  Option<bool> sparseKernels{
      *this, "sparse-kernels",
      llvm::cl::desc("Run products with mostly-zero constant weights on the "
                     "block-sparse kernel where the cost model says it is "
                     "faster"),
      llvm::cl::init(true)};
  Option<bool> profile{
      *this, "profile",
      llvm::cl::desc("Time each kernel when the caller turns profiling on "
                     "(kiln-profile-kernels; kiln-run --profile)"),
      llvm::cl::init(false)};
  Option<bool> bindKVCache{
      *this, "bind-kv-cache",
      llvm::cl::desc("Key/value cache outputs (present = Concat(past, new)) "
                     "write into the caller's cache buffers "
                     "(kiln-bind-kv-cache)"),
      llvm::cl::init(false)};
  ListOption<std::string> disabledPasses{
      *this, "disable-passes",
      llvm::cl::desc("Graph optimization passes to leave out of -O2, by "
                     "argument (e.g. kiln-fuse-attention)")};
};

/// kiln dialect -> kiln dialect: shape refinement; from -O1 on folding,
/// canonicalization and CSE; from -O2 on the graph optimizations (constant
/// folding, pruning, pattern recognition, BatchNorm folding, attention,
/// epilogue and horizontal fusion). -O1 is "fusion off". With
/// quantize=int8-dynamic the float products with constant weights then
/// become int8 ones (kiln-quantize-int8).
void buildKilnGraphPipeline(mlir::OpPassManager &pm,
                            const CPUPipelineOptions &options);

/// The graph pipeline without the quantization that follows it.
void buildKilnGraphOptimizations(mlir::OpPassManager &pm,
                                 const CPUPipelineOptions &options);

/// The quantization after the graph optimizations: kiln-quantize-int8
/// (products with a `kiln.calibration` range, and with int8-dynamic all
/// others at run time), then the decomposition of what is left.
void buildKilnQuantization(mlir::OpPassManager &pm,
                           const CPUPipelineOptions &options);

/// kiln dialect -> linalg on tensors, signature recorded for the runtime.
void buildKilnToLinalgPipeline(mlir::OpPassManager &pm,
                               const CPUPipelineOptions &options);

/// Bufferizes linalg on tensors for every target: one-shot bufferization
/// with identity layouts at the function boundary, tile loops as
/// scf.parallel, ownership-based deallocation with results owned by the
/// caller, and clones as alloc + copy.
void buildBufferizationPipeline(mlir::OpPassManager &pm);

/// Lowers a host module's memrefs (through the runtime's allocator), loops
/// and math to the LLVM dialect, for every target's host code; arith, func
/// and the rest follow in each target's pipeline.
void buildHostLoweringPipeline(mlir::OpPassManager &pm);

/// linalg on tensors -> LLVM dialect with the model entry point. From -O1 on,
/// the CPU strategy picks microkernels for contractions
/// (kiln-cpu-select-kernels) and calls replace them after bufferization
/// (kiln-cpu-lower-ukernels).
void buildLinalgToLLVMPipeline(mlir::OpPassManager &pm,
                               const CPUPipelineOptions &options);

/// The whole CPU pipeline: graph, kiln-to-linalg and linalg-to-LLVM.
void buildKilnToLLVMPipeline(mlir::OpPassManager &pm,
                             const CPUPipelineOptions &options);

/// Registers the pipelines above with the global registry.
void registerPipelines();

} // namespace kiln

#endif // KILN_PIPELINES_PIPELINES_H
