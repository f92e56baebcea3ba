//===- Pipelines.cpp - Kiln's pass pipelines ------------------------------===//

#include "kiln/Pipelines/Pipelines.h"

#include "kiln/Conversion/Passes.h"
#include "kiln/Dialect/Kiln/Transforms/Passes.h"
#include "kiln/Target/CPU/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

/// Adds function pass `pass` to `pm` unless --disable-pass names it.
static void addFuncPass(OpPassManager &pm,
                        const kiln::CPUPipelineOptions &options,
                        std::unique_ptr<Pass> pass) {
  if (!llvm::is_contained(options.disabledPasses, pass->getArgument()))
    pm.addNestedPass<func::FuncOp>(std::move(pass));
}

void kiln::buildKilnGraphPipeline(OpPassManager &pm,
                                  const CPUPipelineOptions &options) {
  buildKilnGraphOptimizations(pm, options);
  buildKilnQuantization(pm, options);
}

void kiln::buildKilnQuantization(OpPassManager &pm,
                                 const CPUPipelineOptions &options) {
  if (options.quantize == "int8-weight" || options.quantize == "int4-weight") {
    KilnQuantizeWeightsOptions weights;
    weights.bits = options.quantize == "int8-weight" ? 8 : 4;
    weights.group = options.quantizeGroup;
    pm.addNestedPass<func::FuncOp>(createKilnQuantizeWeights(weights));
    return;
  }
  if (options.quantize != "int8" && options.quantize != "int8-dynamic")
    return;
  KilnQuantizeInt8Options quantize;
  quantize.weightRange = options.int8WeightRange;
  quantize.dynamic = options.quantize == "int8-dynamic";
  quantize.convolutions = options.int8Convolutions;
  pm.addNestedPass<func::FuncOp>(createKilnQuantizeInt8(quantize));
  pm.addNestedPass<func::FuncOp>(createKilnDecomposeQuantization());
  pm.addNestedPass<func::FuncOp>(createKilnInferShapes());
  // The dequantization scales (activation scale times weight scales) and
  // requantization constants become constants, which
  // kiln-cpu-fuse-requantization folds into the kernels' stores; equal
  // quantizations of one tensor merge.
  if (options.optLevel < 2)
    return;
  addFuncPass(pm, options, createKilnFoldConstants());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void kiln::buildKilnGraphOptimizations(OpPassManager &pm,
                                       const CPUPipelineOptions &options) {
  // An interface choice, not an optimization: every level binds the caches.
  if (options.bindKVCache)
    pm.addPass(createKilnBindKVCache());
  pm.addNestedPass<func::FuncOp>(createKilnInferShapes());
  // Products of dequantized tensors become integer ones before the
  // remaining (de)quantizations turn into arithmetic, which every level
  // needs (the ops have no lowering of their own).
  if (options.optLevel >= 2)
    addFuncPass(pm, options, createKilnQuantizeContractions());
  pm.addNestedPass<func::FuncOp>(createKilnDecomposeQuantization());
  if (options.optLevel == 0)
    return;
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addNestedPass<func::FuncOp>(createKilnInferShapes());
  if (options.optLevel < 2)
    return;
  OpPassManager &func = pm.nest<func::FuncOp>();
  auto add = [&](std::unique_ptr<Pass> pass) {
    if (!llvm::is_contained(options.disabledPasses, pass->getArgument()))
      func.addPass(std::move(pass));
  };
  add(createKilnFoldConstants());
  add(createKilnPrune());
  add(createKilnRecognizePatterns());
  add(createKilnFoldScaleBias());
  add(createKilnFuseAttention());
  add(createKilnFuseEpilogues());
  // After the epilogues: a channel's constant is its bias through the
  // product's own activation.
  if (options.pruneChannels > 0 || options.pruneFFN > 0 ||
      options.pruneHeads > 0) {
    KilnPruneMagnitudeOptions magnitude;
    magnitude.channels = options.pruneChannels;
    magnitude.ffn = options.pruneFFN;
    magnitude.heads = options.pruneHeads;
    func.addPass(createKilnPruneMagnitude(magnitude));
  }
  // N:M masks go on the weights as they will be multiplied (after the
  // epilogues fold scales into them, before horizontal fusion concatenates
  // products).
  if (!options.sparsity.empty()) {
    auto [keep, of] = StringRef(options.sparsity.getValue()).split(':');
    KilnSparsifyOptions sparsify;
    if (!keep.getAsInteger(10, sparsify.n) && !of.getAsInteger(10, sparsify.m))
      func.addPass(createKilnSparsify(sparsify));
  }
  add(createKilnPruneChannels());
  add(createKilnFuseHorizontal());
  add(createKilnPrune());
  func.addPass(createKilnInferShapes());
}

void kiln::buildKilnToLinalgPipeline(OpPassManager &pm,
                                     const CPUPipelineOptions &options) {
  pm.addPass(createKilnRecordSignature());
  ConvertKilnToLinalgOptions toLinalg;
  toLinalg.attentionKernel = options.attentionKernel;
  pm.addPass(createConvertKilnToLinalg(toLinalg));
  pm.addPass(createCanonicalizerPass());
  if (options.optLevel > 1 &&
      !llvm::is_contained(options.disabledPasses, "kiln-fuse-elementwise")) {
    pm.addNestedPass<func::FuncOp>(createKilnFuseElementwise());
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
  }
}

void kiln::buildBufferizationPipeline(OpPassManager &pm) {
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  // The attention kernel's key loop carries tile-sized tensors that are
  // recomputed, not updated in place, each iteration.
  bufferize.allowReturnAllocsFromLoops = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  // Tile loops (kiln.attention's) run their tiles in parallel and the linalg
  // ops inside each tile sequentially. They become scf.parallel before the
  // deallocation pipeline, which leaves buffers allocated in an scf.forall
  // body unfreed (the attention kernel's tile temporaries leaked 4 MiB per
  // run of an 8-head, 1024-token block).
  pm.addPass(createForallToParallelLoopPass());
  // Results leave the model function owned by the caller (the runtime frees
  // them); everything else is freed inside.
  bufferization::BufferDeallocationPipelineOptions deallocation;
  bufferization::buildBufferDeallocationPipeline(pm, deallocation);
  // The clones that give the caller its own copy of a returned constant or
  // argument become alloc + copy.
  pm.addPass(createConvertBufferizationToMemRefPass());
}

void kiln::buildHostLoweringPipeline(OpPassManager &pm) {
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  // Memrefs go to LLVM before the loops become a CFG: the alloca scopes that
  // wrap OpenMP loop bodies must still be single blocks when lowered.
  // Buffers come from the runtime's allocator (runtime/buffers.c),
  // which keeps large freed blocks for the next inference.
  FinalizeMemRefToLLVMConversionPassOptions memrefToLLVM;
  memrefToLLVM.useGenericFunctions = true;
  pm.addPass(createFinalizeMemRefToLLVMConversionPass(memrefToLLVM));
  pm.addPass(createSCFToControlFlowPass());
  // LLVM intrinsics where LLVM has them (exp, sqrt, rsqrt...), libm calls
  // for the rest (erf).
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
}

void kiln::buildLinalgToLLVMPipeline(OpPassManager &pm,
                                     const CPUPipelineOptions &options) {
  bool microkernels = options.optLevel > 0;
  if (microkernels) {
    // Kernels are chosen first: a pad that the depthwise kernel adds itself
    // is not fused into its producer.
    addFuncPass(pm, options, createKilnCPUFuseRequantization());
    addFuncPass(pm, options,
                createKilnCPUSelectKernels({options.isa.getValue(),
                                            options.sparseKernels.getValue()}));
    pm.addNestedPass<func::FuncOp>(createKilnCPUFusePadding());
    pm.addNestedPass<func::FuncOp>(createKilnCPUCollapseElementwise());
    pm.addNestedPass<func::FuncOp>(createKilnCPUApproximateMath());
    pm.addNestedPass<func::FuncOp>(createKilnCPUReassociateReductions());
  }
  buildBufferizationPipeline(pm);
  if (microkernels) {
    pm.addPass(createKilnCPULowerUKernels());
    pm.addNestedPass<func::FuncOp>(createKilnCPUParallelCopies());
  }
  // Reductions keep their accumulator in a register.
  if (microkernels)
    pm.addNestedPass<func::FuncOp>(createKilnCPULowerReductions());
  pm.addNestedPass<func::FuncOp>(createKilnLowerNestedLinalg());
  // Kernels are timed as code generation chose them, before linalg becomes
  // loops.
  if (options.profile)
    pm.addPass(createKilnProfileKernels());
  if (options.parallel) {
    pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
    // OpenMP would collapse every parallel dim into one loop with a division
    // per element; the inner dims become plain loops that LLVM vectorizes.
    if (microkernels)
      pm.addNestedPass<func::FuncOp>(createKilnCPUParallelizeOuterLoops());
  } else
    pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  // Integer powers become calls of generated square-and-multiply functions.
  pm.addPass(createConvertMathToFuncs());
  pm.addPass(createLowerAffinePass());
  if (options.parallel) {
    pm.addPass(createConvertSCFToOpenMPPass());
    // Loops with little work skip the thread team's fork and join.
    if (microkernels)
      addFuncPass(pm, options, createKilnCPUSerializeSmallParallel());
  }
  buildHostLoweringPipeline(pm);
  // bfloat16 arithmetic and casts as f32 bit manipulation: x86 has no
  // bfloat16 conversion helpers in libgcc to link against. From -O1 on,
  // float min/max stay LLVM intrinsics (vectorizable reductions).
  if (microkernels) {
    pm.addPass(createKilnCPUExpandArith());
  } else {
    arith::ArithExpandOpsPassOptions expand;
    expand.includeBf16 = true;
    pm.addPass(arith::createArithExpandOpsPass(expand));
  }
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createKilnEmitModelEntry());
  pm.addPass(createCanonicalizerPass());
}

void kiln::buildKilnToLLVMPipeline(OpPassManager &pm,
                                   const CPUPipelineOptions &options) {
  buildKilnGraphPipeline(pm, options);
  buildKilnToLinalgPipeline(pm, options);
  buildLinalgToLLVMPipeline(pm, options);
}

void kiln::registerPipelines() {
  PassPipelineRegistration<CPUPipelineOptions>(
      "kiln-graph-pipeline", "Shape refinement and graph optimizations",
      buildKilnGraphPipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "kiln-to-linalg", "Lower the kiln dialect to linalg on tensors",
      buildKilnToLinalgPipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "kiln-linalg-to-llvm",
      "Bufferize and lower linalg to the LLVM dialect with the model entry",
      buildLinalgToLLVMPipeline);
  PassPipelineRegistration<CPUPipelineOptions>(
      "kiln-to-llvm", "The whole CPU pipeline, kiln dialect to LLVM dialect",
      buildKilnToLLVMPipeline);
}
