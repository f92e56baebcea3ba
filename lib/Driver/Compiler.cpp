//===- Compiler.cpp - the kiln-compile driver as a library ----------------===//

#include "kiln/Driver/Compiler.h"

#include "kiln/Driver/GraphReport.h"

#include "kiln/Pipelines/Pipelines.h"
#include "kiln/Target/Target.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Timer.h"
#include "llvm/Support/ToolOutputFile.h"

#include <chrono>

using namespace mlir;
using namespace kiln;

namespace {
/// Prints "kiln-compile: [  1.2s] stage" lines once a compile runs long (or
/// always when verbose), so users see where time goes.
class Progress {
public:
  explicit Progress(bool verbose)
      : verbose(verbose), start(std::chrono::steady_clock::now()) {}
  void done(StringRef stage) {
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    if (verbose || seconds > 2.0)
      llvm::errs() << llvm::format("kiln-compile: [%6.1fs] ", seconds) << stage
                   << "\n";
  }

private:
  bool verbose;
  std::chrono::steady_clock::time_point start;
};

} // namespace

namespace {
/// Forwards to a report that outlives the pass managers.
struct ReportForwarder : PassInstrumentation {
  explicit ReportForwarder(GraphReport &report) : report(report) {}
  void runBeforePass(Pass *pass, Operation *op) override {
    report.runBeforePass(pass, op);
  }
  void runAfterPass(Pass *pass, Operation *op) override {
    report.runAfterPass(pass, op);
  }
  GraphReport &report;
};
} // namespace

/// Runs `build`'s passes on `module`, recording into `report` when given.
static LogicalResult runPipeline(ModuleOp module, const CompileOptions &options,
                                 function_ref<void(OpPassManager &)> build,
                                 GraphReport *report = nullptr) {
  PassManager pm(module.getContext());
  build(pm);
  if (options.configurePassManager && failed(options.configurePassManager(pm)))
    return failure();
  if (report)
    pm.addInstrumentation(std::make_unique<ReportForwarder>(*report));
  return pm.run(module);
}

/// The number of ops in the model functions of `module`.
static int64_t countOps(ModuleOp module) {
  int64_t n = 0;
  module.walk([&](Operation *op) {
    if (!isa<ModuleOp, func::FuncOp, func::ReturnOp>(op))
      ++n;
  });
  return n;
}

/// Writes text to the output (stdout for "-") atomically.
static LogicalResult writeText(StringRef path,
                               function_ref<void(raw_ostream &)> write,
                               Location loc) {
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(path, &error);
  if (!out)
    return emitError(loc) << error;
  write(out->os());
  out->os().flush();
  if (out->os().has_error()) {
    out->os().clear_error();
    return emitError(loc) << "cannot write '" << path << "'";
  }
  out->keep();
  return success();
}

LogicalResult kiln::compileModel(MLIRContext &context,
                                 const CompileOptions &options) {
  Progress progress(options.verbose);
  Location fileLoc = FileLineColLoc::get(&context, options.inputPath, 0, 0);
  OwningOpRef<ModuleOp> module =
      importONNXFile(context, options.inputPath, options.import);
  if (!module)
    return failure();
  progress.done("imported " + options.inputPath);

  const Target *target = lookupTarget(options.target);
  if (!target)
    return emitError(fileLoc)
           << "unknown target '" << options.target
           << "' (registered: " << llvm::join(getRegisteredTargetNames(), ", ")
           << ")";
  TargetOptions targetOptions;
  targetOptions.cpu = options.cpu;
  targetOptions.optLevel = options.optLevel;
  // The target checks its options (an unknown --cpu) before any work.
  std::string error;
  {
    PassManager check(&context);
    if (failed(target->buildCodegenPipeline(check, targetOptions, error)))
      return emitError(fileLoc) << error;
  }

  if (options.quantize == "int8")
    return emitError(fileLoc)
           << "--quantize=int8 (static, calibrated) is not available yet; use "
              "--quantize=int8-dynamic, or a model in QDQ form (its "
              "quantized products run on integer kernels at -O2)";
  if (options.quantize != "none" && options.quantize != "int8-dynamic")
    return emitError(fileLoc) << "unknown --quantize='" << options.quantize
                              << "' (none or int8-dynamic)";
  CPUPipelineOptions pipeline;
  pipeline.optLevel = options.optLevel;
  pipeline.quantize = options.quantize;
  pipeline.int8WeightRange = target->int8WeightRange(targetOptions);
  pipeline.disabledPasses = options.disabledPasses;
  std::unique_ptr<GraphReport> report;
  if (!options.reportPath.empty()) {
    report = std::make_unique<GraphReport>();
    report->set("model", options.inputPath);
    report->set("opt_level", static_cast<int64_t>(options.optLevel));
    report->set("quantize", options.quantize);
    report->set("kiln_ops_imported", countOps(*module));
    report->setStage("graph");
  }
  auto writeReport = [&]() -> LogicalResult {
    if (!report)
      return success();
    return writeText(
        options.reportPath,
        [&](raw_ostream &os) {
          os << llvm::formatv("{0:2}", report->toJSON()) << "\n";
        },
        fileLoc);
  };
  if (failed(runPipeline(
          *module, options,
          [&](OpPassManager &pm) { buildKilnGraphPipeline(pm, pipeline); },
          report.get())))
    return failure();
  progress.done("graph optimizations");
  if (report)
    report->set("kiln_ops_optimized", countOps(*module));
  if (options.emit == EmitKind::Kiln)
    return failure(failed(writeReport()) ||
                   failed(writeText(
                       options.outputPath,
                       [&](raw_ostream &os) { module->print(os); }, fileLoc)));

  if (report)
    report->setStage("linalg");
  if (failed(runPipeline(
          *module, options,
          [&](OpPassManager &pm) { buildKilnToLinalgPipeline(pm, pipeline); },
          report.get())))
    return failure();
  progress.done("lowered to linalg");
  if (failed(writeReport()))
    return failure();
  if (options.emit == EmitKind::Linalg)
    return writeText(
        options.outputPath, [&](raw_ostream &os) { module->print(os); },
        fileLoc);

  if (failed(runPipeline(*module, options, [&](OpPassManager &pm) {
        // Built before, so it cannot fail now.
        (void)target->buildCodegenPipeline(pm, targetOptions, error);
      })))
    return failure();
  progress.done(("code generation (" + target->getName() + ")").str());

  ArtifactOptions artifact;
  artifact.kind = options.emit == EmitKind::LLVM ? ArtifactKind::LLVMIR
                  : options.emit == EmitKind::Object
                      ? ArtifactKind::Object
                      : ArtifactKind::SharedLibrary;
  artifact.outputPath = options.outputPath;
  artifact.modelName = llvm::sys::path::filename(options.inputPath).str();
  artifact.progress = [&](StringRef stage) { progress.done(stage); };
  return target->emit(*module, targetOptions, artifact);
}
