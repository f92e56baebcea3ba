//===- Target.h - code generation targets and their registry ----*- C++ -*-===//
//
// A target owns everything after linalg on tensors: its code generation
// passes (kernel strategy, microkernels, bufferization, lowering to its
// backend's IR) and the artifact it writes (LLVM IR, object code, a shared
// library and header). kiln-compile looks targets up by --target; the graph
// pipeline before them never names one.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_TARGET_TARGET_H
#define KILN_TARGET_TARGET_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace kiln {

/// Code generation options from kiln-compile's flags.
struct TargetOptions {
  /// -O level, 0-3.
  unsigned optLevel = 2;
  /// --cpu: the processor to generate code for; empty means the host.
  std::string cpu;
  /// --disable-pass: passes of the codegen pipeline to leave out.
  std::vector<std::string> disabledPasses;
  /// --gpu-arch: the GPU architecture (sm_XX) of GPU targets; empty means
  /// the target's default.
  std::string gpuArch;
  /// --emit=ptx: GPU targets keep their kernels as assembly text.
  bool deviceAssembly = false;
  /// --profile: a timer around each kernel (kiln-profile-kernels).
  bool profile = false;
  /// --sparsity=off clears it: no block-sparse kernels.
  bool sparseKernels = true;
};

/// What a target writes for a compiled module.
/// DeviceAssembly is a GPU target's kernel assembly (PTX).
enum class ArtifactKind { LLVMIR, Object, SharedLibrary, DeviceAssembly };

struct ArtifactOptions {
  ArtifactKind kind = ArtifactKind::SharedLibrary;
  /// The output file; "-" (stdout) only for text.
  std::string outputPath;
  /// The model's file name, for the generated header.
  std::string modelName;
  /// Reports a finished stage ("object code emitted") for progress output.
  std::function<void(llvm::StringRef)> progress;
};

/// One code generation target, e.g. "cpu".
class Target {
public:
  virtual ~Target();
  /// The --target name.
  virtual llvm::StringRef getName() const = 0;
  virtual llvm::StringRef getDescription() const = 0;
  /// Adds the passes that take linalg on tensors to what `emit` consumes.
  /// Fails with `error` set when `options` do not suit this target (an
  /// unknown CPU name, say).
  virtual mlir::LogicalResult
  buildCodegenPipeline(mlir::OpPassManager &pm, const TargetOptions &options,
                       std::string &error) const = 0;
  /// The largest magnitude of an int8 weight that the target's integer
  /// kernels multiply at full speed: the graph pipeline quantizes weights
  /// into [-range, range]. 127 unless a kernel needs narrower values (the
  /// AVX2 kernel's VPMADDUBSW saturates beyond 64).
  virtual int64_t int8WeightRange(const TargetOptions &options) const {
    return 127;
  }
  /// Whether int8 convolutions beat float ones on the target's kernels, so
  /// that `--quantize` quantizes them too.
  virtual bool int8Convolutions(const TargetOptions &options) const {
    return true;
  }
  /// Whether attention is better left as its matmuls and softmax than
  /// fused into kiln.attention, whose lowering (tile loops with buffers of
  /// their own) suits CPU threads, not GPU kernels.
  virtual bool fuseAttention(const TargetOptions &options) const {
    return true;
  }
  /// Whether attention with many query rows stays whole through
  /// convert-kiln-to-linalg (kiln.flash_attention) for a fused kernel that
  /// the codegen pipeline calls, rather than becoming tile loops.
  virtual bool attentionKernel(const TargetOptions &options) const {
    return false;
  }
  /// Writes the artifact for a module that ran the codegen pipeline.
  /// Errors go to the context's diagnostics; no partial file is left.
  virtual mlir::LogicalResult emit(mlir::ModuleOp module,
                                   const TargetOptions &options,
                                   const ArtifactOptions &artifact) const = 0;
};

/// Adds a target to the registry (once per name).
void registerTarget(std::unique_ptr<Target> target);

/// The registered target called `name`, or null.
const Target *lookupTarget(llvm::StringRef name);

/// The names of all registered targets, sorted.
std::vector<std::string> getRegisteredTargetNames();

} // namespace kiln

#endif // KILN_TARGET_TARGET_H
