//===- Compiler.cpp - the kiln-compile driver as a library ----------------===//

#include "kiln/Driver/Compiler.h"

#include "kiln/Driver/GraphReport.h"

#include "kiln/Pipelines/Pipelines.h"
#include "kiln/Target/CPU/CPUTarget.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/IR/Module.h"
#include "llvm/Linker/Linker.h"
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

/// A file written under a temporary name and renamed into place only when
/// the compile succeeds.
class PendingFile {
public:
  explicit PendingFile(StringRef path) : path(path.str()) {
    temp = (path + ".kiln-tmp-" +
            std::to_string(llvm::sys::Process::getProcessId()))
               .str();
  }
  ~PendingFile() {
    if (!committed)
      llvm::sys::fs::remove(temp);
  }
  StringRef tempPath() const { return temp; }
  LogicalResult commit(std::string &error) {
    if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
      error = "cannot write '" + path + "': " + ec.message();
      return failure();
    }
    committed = true;
    return success();
  }

private:
  std::string path, temp;
  bool committed = false;
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

/// The runtime library next to the compiler: <bin>/../lib/libkiln_runtime.a.
static std::string findRuntimeLibrary() {
  std::string exe = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  SmallString<256> path(exe);
  llvm::sys::path::remove_filename(path);
  llvm::sys::path::append(path, "..", "lib", "libkiln_runtime.a");
  return std::string(path);
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

  CPUTargetOptions target;
  target.cpu = options.cpu;
  target.optLevel = options.optLevel;
  std::string error;
  FailureOr<std::string> isa = microkernelISA(target, error);
  if (failed(isa))
    return emitError(fileLoc) << error;

  CPUPipelineOptions pipeline;
  pipeline.optLevel = options.optLevel;
  pipeline.isa = *isa;
  pipeline.disabledPasses = options.disabledPasses;
  std::unique_ptr<GraphReport> report;
  if (!options.reportPath.empty()) {
    report = std::make_unique<GraphReport>();
    report->set("model", options.inputPath);
    report->set("opt_level", static_cast<int64_t>(options.optLevel));
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
        buildLinalgToLLVMPipeline(pm, pipeline);
      })))
    return failure();
  progress.done("lowered to the LLVM dialect");

  llvm::LLVMContext llvmContext;
  FailureOr<LLVMModel> llvmModel =
      translateAndOptimize(*module, llvmContext, target);
  if (failed(llvmModel))
    return failure();
  progress.done("LLVM IR optimized");
  if (options.emit == EmitKind::LLVM)
    return writeText(
        options.outputPath,
        [&](raw_ostream &os) { llvmModel->code->print(os, nullptr); }, fileLoc);

  if (options.outputPath == "-")
    return emitError(fileLoc) << "object code and shared libraries need an "
                                 "output file (-o)";
  if (options.emit == EmitKind::Object) {
    // One object: the weights go back into the code module.
    if (llvm::Linker::linkModules(*llvmModel->code, std::move(llvmModel->data)))
      return emitError(fileLoc) << "cannot merge the weights into the code";
  }
  auto writeObject = [&](PendingFile &file,
                         llvm::Module &llvmModule) -> LogicalResult {
    std::error_code ec;
    llvm::raw_fd_ostream os(file.tempPath(), ec);
    if (ec)
      return emitError(fileLoc)
             << "cannot write '" << file.tempPath() << "': " << ec.message();
    if (failed(emitObject(llvmModule, target, os, error)))
      return emitError(fileLoc) << error;
    return success();
  };
  PendingFile object(options.emit == EmitKind::Object
                         ? options.outputPath
                         : options.outputPath + ".o");
  if (failed(writeObject(object, *llvmModel->code)))
    return failure();
  if (options.emit == EmitKind::Object) {
    progress.done("object code emitted");
    if (failed(object.commit(error)))
      return emitError(fileLoc) << error;
    return success();
  }
  PendingFile weights(options.outputPath + ".weights.o");
  if (failed(writeObject(weights, *llvmModel->data)))
    return failure();
  progress.done("object code emitted");

  std::string runtime = findRuntimeLibrary();
  if (!llvm::sys::fs::exists(runtime))
    return emitError(fileLoc)
           << "cannot find the Kiln runtime library at '" << runtime << "'";
  PendingFile library(options.outputPath);
  if (failed(
          linkSharedLibrary({object.tempPath().str(), weights.tempPath().str()},
                            library.tempPath(), runtime, error)))
    return emitError(fileLoc) << error;
  SmallString<256> headerPath(options.outputPath);
  llvm::sys::path::replace_extension(headerPath, "h");
  PendingFile header(headerPath);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(header.tempPath(), ec);
    if (ec)
      return emitError(fileLoc)
             << "cannot write '" << header.tempPath() << "': " << ec.message();
    os << generateModelHeader(*module,
                              llvm::sys::path::filename(options.inputPath));
  }
  if (failed(library.commit(error)) || failed(header.commit(error)))
    return emitError(fileLoc) << error;
  progress.done("linked " + options.outputPath);
  return success();
}
