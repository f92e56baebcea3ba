//===- Compiler.h - the kiln-compile driver as a library --------*- C++ -*-===//

#ifndef KILN_DRIVER_COMPILER_H
#define KILN_DRIVER_COMPILER_H

#include "kiln/Frontend/ONNX/Importer.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace kiln {

/// What kiln-compile writes.
enum class EmitKind { Kiln, Linalg, LLVM, Object, SharedLibrary, PTX };

struct CompileOptions {
  std::string inputPath;
  /// The output file; "-" is stdout (text outputs only).
  std::string outputPath;
  EmitKind emit = EmitKind::SharedLibrary;
  unsigned optLevel = 2;
  /// The code generation target, by registered name (kiln::lookupTarget).
  std::string target = "cpu";
  /// Target CPU for code generation; empty means the host.
  std::string cpu;
  /// --gpu-arch: sm_XX for GPU targets (empty: the target's default).
  std::string gpuArch;
  /// Print each stage and its time on stderr (also when a compile runs long).
  bool verbose = false;
  ONNXImportOptions import;
  /// When set, write what each graph pass changed as JSON to this file
  /// (see GraphReport.h).
  std::string reportPath;
  /// "none", "int8" (static, calibrated), "int8-dynamic", or weight-only
  /// "int8-weight" / "int4-weight".
  std::string quantize = "none";
  /// int8-weight / int4-weight: consecutive k per scale (32, 64 or 128);
  /// unset: 128 for int8-weight, 32 for int4-weight.
  std::optional<int64_t> quantizeGroup;
  /// int8: the calibration input sets (see Calibration.h) and how ranges
  /// come from them: "minmax", "percentile" or "entropy".
  std::string calibrationData;
  std::string calibrationMethod = "minmax";
  /// int8: the least output SQNR (dB) against the float model on the
  /// calibration data; the layers whose quantization errs most stay in
  /// float until it is met.
  std::optional<double> quantizeBudgetDb;
  /// Key/value cache outputs write into the caller's cache buffers
  /// (kiln-bind-kv-cache).
  bool bindKVCache = false;
  /// --prune: "channels:R", "ffn:R", "heads:N|R", comma-separated (criterion
  /// pruning by weight magnitude); empty for none.
  std::string prune;
  /// --prune-budget: the least output SQNR (dB) against the unpruned model
  /// on the calibration data; the --prune ratios are scaled down to meet it.
  std::optional<double> pruneBudgetDb;
  /// --sparsity: "auto" (default), "off", or an N:M mask such as "2:4".
  std::string sparsity = "auto";
  /// Time each kernel when profiling is turned on at run time
  /// (kiln_model_profile_enable; kiln-run --profile).
  bool profile = false;
  /// Graph passes to leave out (by argument, e.g. "kiln-fuse-attention").
  std::vector<std::string> disabledPasses;
  /// Called on every pass manager before it runs (IR printing, timing).
  std::function<mlir::LogicalResult(mlir::PassManager &)> configurePassManager;
};

/// Compiles `options.inputPath`. Errors go to the context's diagnostic engine;
/// on failure no output file is left behind.
mlir::LogicalResult compileModel(mlir::MLIRContext &context,
                                 const CompileOptions &options);

} // namespace kiln

#endif // KILN_DRIVER_COMPILER_H
