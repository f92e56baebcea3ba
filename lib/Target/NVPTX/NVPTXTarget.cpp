//===- NVPTXTarget.cpp - the CUDA target ----------------------------------===//

#include "kiln/Target/NVPTX/NVPTXTarget.h"

#include "kiln/Conversion/Passes.h"
#include "kiln/Pipelines/Pipelines.h"
#include "kiln/Support/PendingFile.h"
#include "kiln/Target/CPU/CPUTarget.h"
#include "kiln/Target/NVPTX/Passes.h"
#include "kiln/Target/Target.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/ToolOutputFile.h"

#include <cstdlib>

using namespace mlir;

bool kiln::isSupportedGPUArch(StringRef arch) {
  return llvm::is_contained({"sm_80", "sm_86", "sm_89", "sm_90"}, arch);
}

FailureOr<std::string> kiln::findCUDAToolkit(std::string &error) {
  std::string root = "/usr/local/cuda";
  for (const char *variable : {"CUDA_HOME", "CUDA_PATH"})
    if (const char *value = std::getenv(variable); value && *value)
      root = value;
  SmallString<256> ptxas(root), libdevice(root);
  llvm::sys::path::append(ptxas, "bin", "ptxas");
  llvm::sys::path::append(libdevice, "nvvm", "libdevice", "libdevice.10.bc");
  if (!llvm::sys::fs::can_execute(ptxas) || !llvm::sys::fs::exists(libdevice)) {
    error = "--target=cuda needs the CUDA toolkit (ptxas and libdevice), "
            "not found in '" +
            root + "': set CUDA_PATH to its directory";
    return failure();
  }
  return root;
}

void kiln::buildLinalgToNVPTXPipeline(OpPassManager &pm,
                                      const NVPTXPipelineOptions &options) {
  // Buffers are the runtime's allocations, which the GPU and the host
  // both address; results go to the caller.
  buildBufferizationPipeline(pm);
  if (options.optLevel > 0)
    pm.addNestedPass<func::FuncOp>(createKilnGPUTileContractions());
  if (options.optLevel > 0)
    pm.addNestedPass<func::FuncOp>(createKilnGPUReduceRows());
  pm.addNestedPass<func::FuncOp>(createKilnLowerNestedLinalg());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToParallelLoopsPass());
  // Integer powers become functions the kernels call (and carry along).
  pm.addPass(createConvertMathToFuncs());

  // Kernels: each outermost parallel loop is a launch, outlined into one
  // gpu.module and compiled through NVVM to a device binary.
  pm.addNestedPass<func::FuncOp>(createKilnGPUMapParallelLoops());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createKilnGPUGatherKernels());
  pm.addNestedPass<func::FuncOp>(createKilnGPUAsyncLaunches());
  GpuNVVMAttachTargetOptions nvvm;
  nvvm.chip = options.gpuArch;
  // PTX 8.0 (CUDA 12.0) covers sm_80 to sm_90; LLVM's default, 6.0, has
  // no sm_90.
  nvvm.features = "+ptx80";
  nvvm.optLevel = options.optLevel > 0 ? 3 : 0;
  pm.addPass(createGpuNVVMAttachTarget(nvvm));
  OpPassManager &device = pm.nest<gpu::GPUModuleOp>();
  device.addPass(createSCFToControlFlowPass());
  device.addPass(createConvertGpuOpsToNVVMOps());
  device.addPass(createCanonicalizerPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.binaryFormat;
  binary.toolkitPath = options.toolkitPath;
  pm.addPass(createGpuModuleToBinaryPass(binary));

  // The host: the model function, its buffers and the launches.
  buildHostLoweringPipeline(pm);
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createKilnGPUDeviceConstants());
  pm.addPass(createKilnEmitModelEntry());
  pm.addPass(createCanonicalizerPass());
}

namespace {
struct NVPTXPipelineCLOptions
    : public PassPipelineOptions<NVPTXPipelineCLOptions> {
  Option<std::string> gpuArch{*this, "gpu-arch",
                              llvm::cl::desc("GPU architecture, sm_XX"),
                              llvm::cl::init("sm_90")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Device binary: fatbin (cubin and PTX), bin (cubin; "
                     "needs ptxas) or isa (PTX)"),
      llvm::cl::init("fatbin")};
  Option<unsigned> optLevel{*this, "opt-level",
                            llvm::cl::desc("Optimization level (0-3)"),
                            llvm::cl::init(2)};
};

class NVPTXTarget : public kiln::Target {
public:
  StringRef getName() const override { return "cuda"; }
  StringRef getDescription() const override {
    return "NVIDIA GPUs through NVVM (PTX and a cubin for --gpu-arch), "
           "launched from an x86-64 shared library with the Kiln C ABI";
  }

  LogicalResult buildCodegenPipeline(OpPassManager &pm,
                                     const kiln::TargetOptions &options,
                                     std::string &error) const override {
    kiln::NVPTXPipelineOptions pipeline;
    if (!options.gpuArch.empty())
      pipeline.gpuArch = options.gpuArch;
    if (!kiln::isSupportedGPUArch(pipeline.gpuArch)) {
      error = "unknown --gpu-arch='" + pipeline.gpuArch +
              "' (sm_80, sm_86, sm_89 or sm_90)";
      return failure();
    }
    pipeline.binaryFormat = options.deviceAssembly ? "isa" : "fatbin";
    FailureOr<std::string> toolkit = kiln::findCUDAToolkit(error);
    if (failed(toolkit))
      return failure();
    pipeline.toolkitPath = *toolkit;
    pipeline.optLevel = options.optLevel;
    kiln::buildLinalgToNVPTXPipeline(pm, pipeline);
    return success();
  }

  bool int8Convolutions(const kiln::TargetOptions &) const override {
    return false;
  }

  bool fuseAttention(const kiln::TargetOptions &) const override {
    return false;
  }

  LogicalResult emit(ModuleOp module, const kiln::TargetOptions &options,
                     const kiln::ArtifactOptions &artifact) const override {
    if (artifact.kind == kiln::ArtifactKind::DeviceAssembly)
      return emitAssembly(module, artifact);
    // The host code only launches kernels and checks shapes: it is built
    // for any x86-64 machine (a GPU server's CPU need not be this one's).
    kiln::CPUTargetOptions host;
    host.cpu = options.cpu.empty() ? "x86-64-v2" : options.cpu;
    host.optLevel = options.optLevel;
    return kiln::emitHostArtifact(module, host, artifact,
                                  "libkiln_runtime_cuda.a");
  }

private:
  /// Writes the PTX of every kernel module.
  static LogicalResult emitAssembly(ModuleOp module,
                                    const kiln::ArtifactOptions &artifact) {
    std::string text;
    for (auto binary : module.getOps<gpu::BinaryOp>())
      for (Attribute attr : binary.getObjects()) {
        auto object = cast<gpu::ObjectAttr>(attr);
        if (object.getFormat() != gpu::CompilationTarget::Assembly)
          return binary.emitError("the kernels were not kept as PTX");
        text += object.getObject().getValue();
      }
    std::string error;
    if (failed(kiln::writeTextFile(
            artifact.outputPath, [&](raw_ostream &os) { os << text; }, error)))
      return emitError(module.getLoc()) << error;
    return success();
  }
};
} // namespace

void kiln::registerNVPTXTarget() {
  registerTarget(std::make_unique<NVPTXTarget>());
}

void kiln::registerNVPTXPipeline() {
  PassPipelineRegistration<NVPTXPipelineCLOptions>(
      "kiln-linalg-to-nvptx",
      "Bufferize linalg, run its parallel loops as NVPTX kernels and lower "
      "the host code to the LLVM dialect with the model entry",
      [](OpPassManager &pm, const NVPTXPipelineCLOptions &cl) {
        kiln::NVPTXPipelineOptions options;
        options.gpuArch = cl.gpuArch;
        options.binaryFormat = cl.format;
        options.optLevel = cl.optLevel;
        std::string error;
        if (FailureOr<std::string> toolkit = findCUDAToolkit(error);
            succeeded(toolkit))
          options.toolkitPath = *toolkit;
        buildLinalgToNVPTXPipeline(pm, options);
      });
}
