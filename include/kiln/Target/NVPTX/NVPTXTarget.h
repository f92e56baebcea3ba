//===- NVPTXTarget.h - the CUDA target: NVPTX kernels in a host .so -*- C++
//-*-===//
//
// The CUDA target (--target=cuda): linalg runs as GPU kernels compiled
// through NVVM to PTX and a cubin for --gpu-arch (a fatbin holding both, so
// newer GPUs can JIT the PTX), embedded in an x86-64 shared library whose
// host code launches them through the Kiln CUDA runtime (the driver API,
// loaded with dlopen). The C ABI is the CPU target's.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TARGET_NVPTX_NVPTXTARGET_H
#define KILN_TARGET_NVPTX_NVPTXTARGET_H

#include "mlir/Pass/PassManager.h"
#include "mlir/Support/LLVM.h"

#include <string>

namespace kiln {

struct NVPTXPipelineOptions {
  /// The GPU architecture, sm_XX.
  std::string gpuArch = "sm_90";
  /// What gpu-module-to-binary makes: "fatbin" (cubin + PTX), "bin" (a
  /// cubin) or "isa" (PTX text).
  std::string binaryFormat = "fatbin";
  /// -O level of the device code.
  unsigned optLevel = 2;
  /// The CUDA toolkit (ptxas, fatbinary, libdevice); empty lets MLIR look
  /// on PATH.
  std::string toolkitPath;
};

/// The CUDA toolkit to compile kernels with: $CUDA_PATH, else $CUDA_HOME,
/// else /usr/local/cuda. Fails with `error` set when it lacks ptxas or
/// libdevice.
mlir::FailureOr<std::string> findCUDAToolkit(std::string &error);

/// Adds the passes from linalg on tensors to the LLVM dialect with the
/// kernels embedded as a gpu.binary.
void buildLinalgToNVPTXPipeline(mlir::OpPassManager &pm,
                                const NVPTXPipelineOptions &options);

/// The architectures --gpu-arch accepts.
bool isSupportedGPUArch(llvm::StringRef arch);

/// Registers the CUDA target ("cuda").
void registerNVPTXTarget();

/// Registers the kiln-linalg-to-nvptx pipeline (for kiln-opt).
void registerNVPTXPipeline();

} // namespace kiln

#endif // KILN_TARGET_NVPTX_NVPTXTARGET_H
