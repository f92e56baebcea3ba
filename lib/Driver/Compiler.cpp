//===- Compiler.cpp - the kiln-compile driver as a library ----------------===//

#include "kiln/Driver/Compiler.h"

#include "kiln/Driver/GraphReport.h"
#include "kiln/Driver/HtmlReport.h"
#include "kiln/Runner/Runner.h"

#include "Calibration.h"

#include "kiln/Pipelines/Pipelines.h"
#include "kiln/Support/PendingFile.h"
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
#include <cmath>

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

/// `loc` as text (the ONNX node names of a fused location), for reports.
static std::string locationText(Location loc) {
  std::string text;
  llvm::raw_string_ostream os(text);
  loc.print(os);
  return text;
}

/// Runs the library at `path` (compiled with --profile) ten times on random
/// inputs (dynamic dims 1) and fills `profile`; `kernelNodes` lists each
/// kernel's ONNX nodes by id (kiln.profile_kernel_nodes).
static LogicalResult profileIntoReport(StringRef path, ArrayAttr kernelNodes,
                                       std::optional<ReportProfile> &profile,
                                       Location loc) {
  llvm::Expected<LoadedModel> model = LoadedModel::load(path);
  if (!model)
    return emitError(loc) << "--profile: " << llvm::toString(model.takeError());
  InputSpec spec;
  spec.randomInputs = true;
  llvm::Expected<std::vector<HostTensor>> inputs = bindInputs(*model, spec);
  if (!inputs)
    return emitError(loc) << "--profile: "
                          << llvm::toString(inputs.takeError());
  llvm::Expected<ProfileResult> result =
      kiln::profile(*model, *inputs, /*runs=*/10, /*warmup=*/3);
  if (!result)
    return emitError(loc) << "--profile: "
                          << llvm::toString(result.takeError());
  std::vector<std::string> names = model->profileKernels();
  ReportProfile measured;
  measured.runs = result->runs;
  measured.meanMs = result->meanMs;
  measured.inputs = "random inputs, dynamic dims 1, all threads";
  for (const KernelTime &k : result->kernels) {
    ReportKernel kernel{k.name, {}, k.msPerRun};
    auto id = llvm::find(names, k.name) - names.begin();
    if (kernelNodes && id < static_cast<ptrdiff_t>(kernelNodes.size()))
      if (auto nodes = dyn_cast<ArrayAttr>(kernelNodes[id]))
        for (Attribute node : nodes)
          kernel.nodes.push_back(cast<StringAttr>(node).str());
    measured.kernels.push_back(std::move(kernel));
  }
  profile = std::move(measured);
  return success();
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
  if (failed(writeTextFile(path, write, error)))
    return emitError(loc) << error;
  return success();
}

/// Prints `module` as text. With resource strings elided (the demo's
/// --mlir-elide-resource-strings-if-larger), MLIR still prints the
/// resource section's empty braces; they are left out.
static void printModule(ModuleOp module, raw_ostream &os) {
  std::string text;
  llvm::raw_string_ostream buffer(text);
  module->print(buffer);
  StringRef printed(text);
  StringRef body = printed.rtrim();
  if (body.consume_back("#-}")) {
    StringRef inside = body.rtrim();
    if (inside.consume_back("{-#")) {
      os << inside.rtrim() << "\n";
      return;
    }
  }
  os << printed;
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
  targetOptions.gpuArch = options.gpuArch;
  targetOptions.deviceAssembly = options.emit == EmitKind::PTX;
  targetOptions.profile = options.profile;
  // --sparsity: auto (the cost model picks dense or block-sparse kernels),
  // off (dense only), or an N:M mask applied to the weights first.
  std::string sparsityMask;
  if (options.sparsity == "off") {
    targetOptions.sparseKernels = false;
  } else if (options.sparsity != "auto" && !options.sparsity.empty()) {
    auto [keep, of] = StringRef(options.sparsity).split(':');
    unsigned n = 0, m = 0;
    if (keep.getAsInteger(10, n) || of.getAsInteger(10, m) || n == 0 ||
        n >= m || m > 64)
      return emitError(fileLoc)
             << "--sparsity: unknown value '" << options.sparsity
             << "' (auto, off, or N:M with 0 < N < M <= 64, e.g. 2:4)";
    if (options.optLevel < 2)
      return emitError(fileLoc) << "--sparsity=" << options.sparsity
                                << " needs -O2 or -O3 (it is a graph "
                                   "optimization)";
    sparsityMask = options.sparsity;
  }
  if (!options.gpuArch.empty() && options.target == "cpu")
    return emitError(fileLoc) << "--gpu-arch is for --target=cuda";
  if (options.emit == EmitKind::PTX && options.target == "cpu")
    return emitError(fileLoc) << "--emit=ptx is for --target=cuda";
  targetOptions.optLevel = options.optLevel;
  targetOptions.disabledPasses.assign(options.disabledPasses.begin(),
                                      options.disabledPasses.end());
  // The target checks its options (an unknown --cpu) before any work.
  std::string error;
  {
    PassManager check(&context);
    if (failed(target->buildCodegenPipeline(check, targetOptions, error)))
      return emitError(fileLoc) << error;
  }

  bool weightOnly =
      options.quantize == "int8-weight" || options.quantize == "int4-weight";
  if (options.quantize != "none" && options.quantize != "int8" &&
      options.quantize != "int8-dynamic" && !weightOnly)
    return emitError(fileLoc)
           << "unknown --quantize='" << options.quantize
           << "' (none, int8, int8-dynamic, int8-weight or int4-weight)";
  if (options.quantizeGroup && !weightOnly)
    return emitError(fileLoc)
           << "--quantize-group is for --quantize=int8-weight|int4-weight";
  if (options.quantizeGroup && *options.quantizeGroup != 32 &&
      *options.quantizeGroup != 64 && *options.quantizeGroup != 128)
    return emitError(fileLoc) << "--quantize-group must be 32, 64 or 128, got "
                              << *options.quantizeGroup;
  if (options.quantize == "int8" && options.calibrationData.empty())
    return emitError(fileLoc)
           << "--quantize=int8 needs --calibration-data=DIR (input sets to "
              "measure activation ranges on); --quantize=int8-dynamic "
              "needs none";
  if (options.quantizeBudgetDb && options.quantize != "int8")
    return emitError(fileLoc)
           << "--quantize-budget needs --quantize=int8 (static, calibrated)";
  if (options.pruneBudgetDb && options.prune.empty())
    return emitError(fileLoc) << "--prune-budget needs --prune (the ratios it "
                                 "scales down)";
  if (options.quantize != "int8" && !weightOnly &&
      !options.calibrationData.empty() && options.prune.empty() &&
      sparsityMask.empty())
    return emitError(fileLoc)
           << "--calibration-data is for --quantize=int8|int8-weight|"
              "int4-weight, --prune or --sparsity=N:M";
  if (options.pruneBudgetDb && options.calibrationData.empty())
    return emitError(fileLoc)
           << "--prune-budget needs --calibration-data=DIR (input sets to "
              "measure the output error on)";
  if (options.calibrationMethod != "minmax" &&
      options.calibrationMethod != "percentile" &&
      options.calibrationMethod != "entropy")
    return emitError(fileLoc)
           << "unknown --calibration-method='" << options.calibrationMethod
           << "' (minmax, percentile or entropy)";
  if (options.bindKVCache && options.quantize == "int8")
    return emitError(fileLoc)
           << "--bind-kv-cache does not combine with --quantize=int8, whose "
              "calibration runs the graph's own inputs; use int8-dynamic, "
              "int8-weight or int4-weight";
  if (options.bindKVCache && options.target != "cpu")
    return emitError(fileLoc)
           << "--bind-kv-cache is not available for --target=" << options.target
           << " yet; its caches stay the graph's inputs "
           << "and outputs";
  if (options.profile && options.target != "cpu")
    return emitError(fileLoc)
           << "--profile is not available for --target=" << options.target
           << " yet (its kernels run asynchronously on the device)";
  if (options.quantize != "none" && options.target != "cpu")
    return emitError(fileLoc)
           << "--quantize is not available for --target=" << options.target
           << " yet (its kernels are fp32)";
  CPUPipelineOptions pipeline;
  for (StringRef spec : llvm::split(StringRef(options.prune), ',')) {
    if (spec.empty())
      continue;
    auto [structure, value] = spec.split(':');
    double ratio;
    if (structure != "channels" && structure != "ffn" && structure != "heads")
      return emitError(fileLoc)
             << "--prune: unknown structure '" << structure
             << "' (channels:RATIO, ffn:RATIO or heads:N|RATIO)";
    // heads:N, a whole number of heads per attention.
    unsigned count;
    if (structure == "heads" && !value.getAsInteger(10, count) && count >= 1) {
      pipeline.pruneHeads = count;
      continue;
    }
    if (value.getAsDouble(ratio) || !(ratio >= 0.0 && ratio < 1.0))
      return emitError(fileLoc)
             << "--prune: '" << spec << "' needs a ratio in [0, 1)"
             << (structure == "heads" ? " or a number of heads" : "")
             << ", e.g. " << structure << ":0.3";
    (structure == "channels" ? pipeline.pruneChannels
     : structure == "ffn"    ? pipeline.pruneFFN
                             : pipeline.pruneHeads) = ratio;
  }
  if (!options.prune.empty() && options.optLevel < 2)
    return emitError(fileLoc) << "--prune needs -O2 or -O3 (it is a graph "
                                 "optimization)";
  pipeline.optLevel = options.optLevel;
  pipeline.sparsity = sparsityMask;
  pipeline.bindKVCache = options.bindKVCache;
  pipeline.profile = options.profile;
  pipeline.quantize = options.quantize;
  pipeline.quantizeGroup = options.quantizeGroup.value_or(
      options.quantize == "int4-weight" ? 32 : 128);
  pipeline.int8WeightRange = target->int8WeightRange(targetOptions);
  pipeline.int8Convolutions = target->int8Convolutions(targetOptions);
  pipeline.attentionKernel = target->attentionKernel(targetOptions);
  pipeline.disabledPasses = options.disabledPasses;
  if (!target->fuseAttention(targetOptions))
    pipeline.disabledPasses.push_back("kiln-fuse-attention");
  std::unique_ptr<GraphReport> report;
  if (!options.reportPath.empty()) {
    report = std::make_unique<GraphReport>();
    // docs/report-schema.md; the version changes when a field changes
    // meaning or goes away (new fields keep it).
    report->set("schema_version", static_cast<int64_t>(1));
    report->set("model", options.inputPath);
    report->set("target", options.target);
    report->set("opt_level", static_cast<int64_t>(options.optLevel));
    report->set("quantize", options.quantize);
    report->set("kiln_ops_imported", countOps(*module));
    report->setStage("graph");
  }
  // --report=FILE.html: the page also draws the graph before and after the
  // graph passes (HtmlReport.h).
  bool htmlReport =
      StringRef(options.reportPath).ends_with_insensitive(".html") ||
      StringRef(options.reportPath).ends_with_insensitive(".htm");
  ReportGraph graphBefore, graphAfter;
  std::optional<ReportProfile> measured;
  if (report && htmlReport)
    graphBefore = captureReportGraph(*module, options.import.functionName);
  bool warnedReport = false;
  auto writeReport = [&]() -> LogicalResult {
    if (!report)
      return success();
    if (measured)
      report->set("profile", profileToJSON(*measured));
    if (!htmlReport)
      return writeText(
          options.reportPath,
          [&](raw_ostream &os) {
            os << llvm::formatv("{0:2}", report->toJSON()) << "\n";
          },
          fileLoc);
    std::string warning;
    std::string page =
        renderHtmlReport(report->toJSON(), graphBefore, graphAfter,
                         measured ? &*measured : nullptr, warning);
    if (!warning.empty() && !warnedReport) {
      emitWarning(fileLoc) << warning;
      warnedReport = true;
    }
    return writeText(
        options.reportPath, [&](raw_ostream &os) { os << page; }, fileLoc);
  };
  // Models measured on the calibration data run here, so they are built
  // for this machine.
  TargetOptions hostOptions = targetOptions;
  hostOptions.cpu.clear();
  auto compileForHost = [&](ModuleOp copy, StringRef path) {
    CPUPipelineOptions plain;
    plain.optLevel = options.optLevel;
    std::string error;
    if (failed(runPipeline(copy, options,
                           [&](OpPassManager &pm) {
                             buildKilnToLinalgPipeline(pm, plain);
                           })) ||
        failed(runPipeline(copy, options, [&](OpPassManager &pm) {
          (void)target->buildCodegenPipeline(pm, hostOptions, error);
        })))
      return failure();
    ArtifactOptions artifact;
    artifact.kind = ArtifactKind::SharedLibrary;
    artifact.outputPath = path.str();
    artifact.modelName = "calibration";
    return target->emit(copy, hostOptions, artifact);
  };
  // --prune or an N:M mask with calibration data: the output error against
  // the unpruned model, and with --prune-budget the share of the --prune
  // ratios that meets it, found on copies before the real run.
  bool pruning = !options.prune.empty() || !sparsityMask.empty();
  if (pruning && !options.calibrationData.empty()) {
    CalibrationOptions measure;
    measure.dataDir = options.calibrationData;
    measure.functionName = options.import.functionName;
    measure.compile = compileForHost;
    // The graph optimizations on a copy of the imported model, with the
    // --prune ratios times `scale` (and the N:M mask, or none).
    double channels = pipeline.pruneChannels, ffn = pipeline.pruneFFN,
           heads = pipeline.pruneHeads;
    // A number of heads scales to a smaller number, a ratio to a smaller one.
    auto scaleRatios = [&](CPUPipelineOptions &scaled, double scale) {
      scaled.pruneChannels = channels * scale;
      scaled.pruneFFN = ffn * scale;
      scaled.pruneHeads =
          heads >= 1.0 ? std::floor(heads * scale) : heads * scale;
    };
    auto optimizedCopy = [&](double scale,
                             bool mask) -> FailureOr<OwningOpRef<ModuleOp>> {
      OwningOpRef<ModuleOp> copy = module->clone();
      CPUPipelineOptions scaled;
      scaled.copyOptionValuesFrom(pipeline);
      scaleRatios(scaled, scale);
      if (!mask)
        scaled.sparsity = "";
      if (failed(runPipeline(*copy, options, [&](OpPassManager &pm) {
            buildKilnGraphOptimizations(pm, scaled);
          })))
        return failure();
      return copy;
    };
    FailureOr<OwningOpRef<ModuleOp>> unpruned = optimizedCopy(0.0, false);
    if (failed(unpruned))
      return failure();
    FailureOr<OutputComparison> comparison =
        OutputComparison::create(**unpruned, measure, fileLoc);
    if (failed(comparison))
      return failure();
    auto measureAt = [&](double scale) -> FailureOr<double> {
      FailureOr<OwningOpRef<ModuleOp>> copy = optimizedCopy(scale, true);
      if (failed(copy))
        return failure();
      return comparison->sqnr(**copy);
    };
    double scale = 1.0;
    FailureOr<double> sqnr = measureAt(1.0);
    if (failed(sqnr))
      return failure();
    if (options.pruneBudgetDb && *sqnr < *options.pruneBudgetDb) {
      // Bisection on the scale: `good` meets the budget (0: no criterion
      // pruning), `bad` does not.
      double good = 0.0, bad = 1.0;
      // Without an N:M mask, scale 0 is the unpruned model itself.
      FailureOr<double> goodSqnr =
          sparsityMask.empty() ? FailureOr<double>(200.0) : measureAt(0.0);
      if (failed(goodSqnr))
        return failure();
      for (int step = 0; step < 6; ++step) {
        double mid = (good + bad) / 2;
        FailureOr<double> at = measureAt(mid);
        if (failed(at))
          return failure();
        if (*at >= *options.pruneBudgetDb) {
          good = mid;
          goodSqnr = at;
        } else {
          bad = mid;
        }
      }
      scale = good;
      sqnr = goodSqnr;
      if (*sqnr < *options.pruneBudgetDb)
        emitWarning(fileLoc) << llvm::formatv(
            "--prune-budget={0:f1} is not met even without the --prune "
            "ratios: the output SQNR is {1:f1} dB (--sparsity={2})",
            *options.pruneBudgetDb, *sqnr, options.sparsity);
      scaleRatios(pipeline, scale);
    }
    std::string summary =
        llvm::formatv("pruning: output SQNR {0:f1} dB against the unpruned "
                      "model",
                      *sqnr)
            .str();
    if (options.pruneBudgetDb)
      summary += llvm::formatv(" ({0:P0} of the --prune ratios for the "
                               "{1:f1} dB budget)",
                               scale, *options.pruneBudgetDb)
                     .str();
    progress.done(summary);
    if (report) {
      report->set("prune_output_sqnr_db", *sqnr);
      if (options.pruneBudgetDb) {
        report->set("prune_budget_db", *options.pruneBudgetDb);
        report->set("prune_scale", scale);
      }
    }
  }
  // Weight-only quantization with calibration data measures the products'
  // activations on the optimized graph; calibration runs the graph's own
  // inputs, so with --bind-kv-cache it measures a copy optimized without
  // binding and hands the results over.
  bool weightCalibration = weightOnly && !options.calibrationData.empty();
  OwningOpRef<ModuleOp> unbound;
  if (weightCalibration && pipeline.bindKVCache) {
    unbound = module->clone();
    CPUPipelineOptions plain;
    plain.copyOptionValuesFrom(pipeline);
    plain.bindKVCache = false;
    if (failed(runPipeline(*unbound, options, [&](OpPassManager &pm) {
          buildKilnGraphOptimizations(pm, plain);
        })))
      return failure();
  }
  if (failed(runPipeline(
          *module, options,
          [&](OpPassManager &pm) { buildKilnGraphOptimizations(pm, pipeline); },
          report.get())))
    return failure();
  progress.done("graph optimizations");
  if (weightCalibration) {
    CalibrationOptions calibration;
    calibration.dataDir = options.calibrationData;
    calibration.functionName = options.import.functionName;
    calibration.compile = compileForHost;
    WeightCalibrationResult calibrated;
    ModuleOp measured = unbound ? *unbound : *module;
    if (failed(calibrateWeights(measured, calibration, pipeline.quantizeGroup,
                                fileLoc, calibrated)) ||
        (unbound && failed(transferHessians(measured, *module, calibration,
                                            pipeline.quantizeGroup, fileLoc))))
      return failure();
    progress.done(llvm::formatv("measured {0} activations of {1} weights "
                                "({2} rows, {3} input sets) for GPTQ",
                                calibrated.activations, calibrated.products,
                                calibrated.rows, calibrated.inputSets)
                      .str());
    if (report)
      report->set(
          "weight_calibration",
          llvm::json::Object{
              {"method", "gptq"},
              {"weights", static_cast<int64_t>(calibrated.products)},
              {"activations", static_cast<int64_t>(calibrated.activations)},
              {"rows", calibrated.rows},
              {"input_sets", static_cast<int64_t>(calibrated.inputSets)}});
  }
  if (options.quantize == "int8") {
    CalibrationOptions calibration;
    calibration.dataDir = options.calibrationData;
    calibration.method = options.calibrationMethod;
    calibration.functionName = options.import.functionName;
    calibration.compile = compileForHost;
    calibration.weightRange = pipeline.int8WeightRange;
    calibration.convolutions = pipeline.int8Convolutions;
    calibration.budgetDb = options.quantizeBudgetDb;
    calibration.compileQuantized = [&](ModuleOp copy, StringRef path) {
      if (failed(runPipeline(copy, options, [&](OpPassManager &pm) {
            buildKilnQuantization(pm, pipeline);
          })))
        return failure();
      return calibration.compile(copy, path);
    };
    CalibrationResult calibrated;
    if (failed(calibrate(*module, calibration, fileLoc, calibrated)))
      return failure();
    int64_t kept =
        llvm::count_if(calibrated.layers, [](auto &l) { return l.keptFloat; });
    std::string summary = "calibrated " +
                          std::to_string(calibrated.layers.size()) +
                          " activations (" + options.calibrationMethod + ")";
    if (calibrated.outputSqnr)
      summary += llvm::formatv("; {0} kept in fp32 for the budget, output "
                               "SQNR {1:f1} dB",
                               kept, *calibrated.outputSqnr)
                     .str();
    progress.done(summary);
    if (report) {
      llvm::json::Array layers;
      for (const CalibratedRange &range : calibrated.layers) {
        llvm::json::Object layer{
            {"op", range.op->getName().getStringRef()},
            {"location", locationText(range.op->getLoc())},
            {"lo", range.lo},
            {"hi", range.hi},
            {"precision", range.keptFloat ? "fp32" : "int8"},
            {"reason", range.reason}};
        if (options.quantizeBudgetDb) {
          layer["activation_sqnr_db"] = range.activationSqnr;
          layer["weight_sqnr_db"] = range.weightSqnr;
        }
        layers.push_back(std::move(layer));
      }
      report->set("calibration", std::move(layers));
      if (calibrated.outputSqnr) {
        report->set("quantize_budget_db", *options.quantizeBudgetDb);
        report->set("output_sqnr_db", *calibrated.outputSqnr);
      }
    }
  }
  if (failed(runPipeline(
          *module, options,
          [&](OpPassManager &pm) { buildKilnQuantization(pm, pipeline); },
          report.get())))
    return failure();
  if (report)
    report->set("kiln_ops_optimized", countOps(*module));
  if (report && htmlReport)
    graphAfter = captureReportGraph(*module, options.import.functionName);
  if (options.emit == EmitKind::Kiln)
    return failure(
        failed(writeReport()) ||
        failed(writeText(
            options.outputPath,
            [&](raw_ostream &os) { printModule(*module, os); }, fileLoc)));

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
        options.outputPath, [&](raw_ostream &os) { printModule(*module, os); },
        fileLoc);

  if (report)
    report->setStage("codegen");
  if (failed(runPipeline(
          *module, options,
          [&](OpPassManager &pm) {
            // Built before, so it cannot fail now.
            (void)target->buildCodegenPipeline(pm, targetOptions, error);
          },
          report.get())))
    return failure();
  progress.done(("code generation (" + target->getName() + ")").str());
  // With the kernel choices (sparsity) of code generation.
  if (failed(writeReport()))
    return failure();

  ArtifactOptions artifact;
  artifact.kind = options.emit == EmitKind::LLVM     ? ArtifactKind::LLVMIR
                  : options.emit == EmitKind::Object ? ArtifactKind::Object
                  : options.emit == EmitKind::PTX ? ArtifactKind::DeviceAssembly
                                                  : ArtifactKind::SharedLibrary;
  artifact.outputPath = options.outputPath;
  artifact.modelName = llvm::sys::path::filename(options.inputPath).str();
  artifact.progress = [&](StringRef stage) { progress.done(stage); };
  // The kernels' ONNX nodes, for a profile in the report.
  auto kernelNodes =
      (*module)->getAttrOfType<ArrayAttr>("kiln.profile_kernel_nodes");
  if (failed(target->emit(*module, targetOptions, artifact)))
    return failure();
  if (!report || !options.profile ||
      artifact.kind != ArtifactKind::SharedLibrary)
    return success();
  // --profile with a report: run the library here on random inputs and put
  // each kernel's time in the report.
  if (!targetOptions.cpu.empty())
    return emitWarning(fileLoc)
               << "the report has no measured times: the library was built "
                  "for --cpu="
               << targetOptions.cpu << ", not necessarily this processor",
           success();
  if (failed(profileIntoReport(options.outputPath, kernelNodes, measured,
                               fileLoc)))
    return failure();
  progress.done(
      llvm::formatv("profiled: {0:f3} ms a run", measured->meanMs).str());
  return writeReport();
}
