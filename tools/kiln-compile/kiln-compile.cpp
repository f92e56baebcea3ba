//===- kiln-compile.cpp - compile an ONNX model ahead of time -------------===//
//
// kiln-compile MODEL -o OUT.so [--emit=kiln|linalg|llvm|obj|so] [-O0..-O3]
//              [--target=cpu] [--cpu=NAME] [--input-shape=NAME:DIMS]...
//              [--quantize=none|int8|int8-dynamic|int8-weight|int4-weight]
//              [--quantize-group=32|64|128] [--calibration-data=DIR]
//              [--bind-kv-cache] [--profile] [--prune=channels:R,ffn:R,heads:N]
//              [--sparsity=auto|off|N:M]
//
//===----------------------------------------------------------------------===//

#include "kiln/Driver/Compiler.h"
#include "kiln/InitAllKiln.h"
#include "kiln/Support/CommandLine.h"
#include "kiln/Support/Diagnostics.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"

using namespace mlir;
namespace cl = llvm::cl;

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Kiln's options, listed by --help; LLVM's code generation options stay
  // usable but hidden (--help-hidden lists them), MLIR's IR printing ones
  // are listed too.
  cl::OptionCategory category("kiln-compile options");
  cl::opt<std::string> input(cl::Positional, cl::desc("<model.onnx|.onnxtxt>"),
                             cl::Required, cl::cat(category));
  cl::opt<std::string> output("o", cl::desc("Output file"),
                              cl::value_desc("file"), cl::cat(category));
  cl::opt<kiln::EmitKind> emit(
      "emit", cl::desc("What to write"),
      cl::init(kiln::EmitKind::SharedLibrary),
      cl::values(
          clEnumValN(kiln::EmitKind::Kiln, "kiln",
                     "the kiln dialect after graph optimizations"),
          clEnumValN(kiln::EmitKind::Linalg, "linalg", "linalg on tensors"),
          clEnumValN(kiln::EmitKind::LLVM, "llvm", "optimized LLVM IR"),
          clEnumValN(kiln::EmitKind::Object, "obj", "an object file"),
          clEnumValN(kiln::EmitKind::SharedLibrary, "so",
                     "a shared library and its C header (default)"),
          clEnumValN(kiln::EmitKind::PTX, "ptx",
                     "the kernels' PTX (--target=cuda)")),
      cl::cat(category));
  cl::opt<unsigned> optLevel("O", cl::desc("Optimization level (0-3)"),
                             cl::Prefix, cl::init(2), cl::cat(category));
  cl::opt<std::string> target(
      "target",
      cl::desc("Target: cpu (the default) or cuda (NVIDIA GPUs; the host "
               "code is built for x86-64-v2 unless --cpu names a CPU)"),
      cl::init("cpu"), cl::cat(category));
  cl::opt<std::string> gpuArch(
      "gpu-arch",
      cl::desc("--target=cuda: the GPU architecture, sm_80, sm_86, sm_89 or "
               "sm_90 (the default)"),
      cl::value_desc("sm_XX"), cl::cat(category));
  cl::opt<std::string> cpu(
      "cpu",
      cl::desc("CPU to generate code for (default: this host), e.g. "
               "x86-64-v3 or sapphirerapids"),
      cl::cat(category));
  cl::list<std::string> inputShapes(
      "input-shape",
      cl::desc("Fix the shape of a graph input: NAME:DIMxDIM... (? keeps a "
               "dim dynamic)"),
      cl::value_desc("name:dims"), cl::cat(category));
  cl::opt<bool> verbose("v", cl::desc("Print each stage and its time"),
                        cl::cat(category));
  cl::opt<std::string> report(
      "report",
      cl::desc("Write what each graph pass changed (ops created, removed and "
               "fused, by ONNX node) to this JSON file"),
      cl::value_desc("file.json"), cl::cat(category));
  cl::opt<std::string> quantize(
      "quantize",
      cl::desc("none (default); int8: int8 weights (per output channel) and "
               "activations quantized with ranges measured on "
               "--calibration-data, for the products with constant weights; "
               "int8-dynamic: the same with activations quantized at run "
               "time; int8-weight, int4-weight: weights only (the matmuls' "
               "constant weights, one scale per --quantize-group k and "
               "column), activations stay f32, for LLM decoding"),
      cl::value_desc("mode"), cl::init("none"), cl::cat(category));
  cl::opt<int64_t> quantizeGroup(
      "quantize-group",
      cl::desc("--quantize=int8-weight|int4-weight: consecutive k that share "
               "a scale, 32, 64 or 128 (default 128 for int8-weight, 32 for "
               "int4-weight)"),
      cl::value_desc("k"), cl::init(0), cl::cat(category));
  cl::opt<std::string> calibrationData(
      "calibration-data",
      cl::desc("--quantize=int8, int8-weight, int4-weight, --prune, "
               "--sparsity=N:M: a directory of input sets (NAME.npy or "
               "input_I.pb files, in it or in each of its subdirectories); "
               "weight-only quantization then chooses the integers by GPTQ "
               "on the measured activations; with --prune or N:M the output "
               "SQNR against the unpruned model is measured and reported"),
      cl::value_desc("dir"), cl::cat(category));
  cl::opt<std::string> quantizeBudget(
      "quantize-budget",
      cl::desc("--quantize=int8: the least output SQNR in dB against the "
               "float model on the calibration data; the layers whose "
               "quantization errs most stay in fp32 until it is met"),
      cl::value_desc("dB"), cl::cat(category));
  cl::opt<std::string> pruneBudget(
      "prune-budget",
      cl::desc("--prune with --calibration-data: the least output SQNR in "
               "dB against the unpruned model; the --prune ratios are "
               "scaled down until it is met"),
      cl::value_desc("dB"), cl::cat(category));
  cl::opt<std::string> calibrationMethod(
      "calibration-method",
      cl::desc("How activation ranges come from the calibration runs: "
               "minmax (default), percentile (99.99 % of |x|) or entropy "
               "(the KL-divergence threshold)"),
      cl::value_desc("method"), cl::init("minmax"), cl::cat(category));
  cl::opt<bool> bindKVCache(
      "bind-kv-cache",
      cl::desc("Decoders: each present output that concatenates a past "
               "input and new rows is written into the caller's buffer "
               "passed as that past input (with room for the new rows); a "
               "new input kiln_past_length gives the rows already there, "
               "and the present outputs are dropped"),
      cl::cat(category));
  cl::opt<std::string> prune(
      "prune",
      cl::desc("Remove the fraction R of least-magnitude structure: "
               "channels:R (conv output channels), ffn:R (feed-forward "
               "neurons), heads:N|R (N or the fraction R of each "
               "attention's heads), comma-separated; changes the outputs "
               "(zero structure is always removed at -O2)"),
      cl::value_desc("spec"), cl::cat(category));
  cl::opt<std::string> sparsity(
      "sparsity",
      cl::desc("auto: products whose constant weights are mostly zero 1x16 "
               "blocks run on the block-sparse kernel where the cost model "
               "says it is faster (the report lists the choice); off: dense "
               "kernels only; N:M (e.g. 2:4): keep the N largest-magnitude "
               "of every M weights along each product's reduction first "
               "(changes the outputs)"),
      cl::value_desc("auto|off|N:M"), cl::init("auto"), cl::cat(category));
  cl::opt<bool> profile(
      "profile",
      cl::desc("Build the model with a timer around each kernel, for "
               "kiln-run --profile (per-kernel times and a Chrome trace); "
               "the timers cost nothing while profiling is off"),
      cl::cat(category));
  cl::list<std::string> disablePasses(
      "disable-pass",
      cl::desc("Leave a graph or code generation pass out (repeatable or comma "
               "separated), e.g. --disable-pass=kiln-fuse-attention"),
      cl::CommaSeparated, cl::value_desc("pass"), cl::cat(category));
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  // --mlir-print-ir-after=PASS and its siblings name passes by their
  // registered arguments.
  kiln::registerAllPasses();
  registerPassManagerCLOptions();
  registerDefaultTimingManagerCLOptions();
  kiln::hideForeignOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "Kiln ahead-of-time compiler\n");

  auto fail = [](const Twine &message) {
    llvm::errs() << "kiln-compile: error: " << message << "\n";
    return 1;
  };
  if (optLevel > 3)
    return fail("-O" + Twine(optLevel) + " is not an optimization level (0-3)");

  kiln::CompileOptions options;
  options.inputPath = input;
  options.emit = emit;
  options.optLevel = optLevel;
  options.target = target;
  options.cpu = cpu;
  options.gpuArch = gpuArch;
  options.verbose = verbose;
  options.reportPath = report;
  options.quantize = quantize;
  if (quantizeGroup.getNumOccurrences())
    options.quantizeGroup = quantizeGroup;
  options.calibrationData = calibrationData;
  options.calibrationMethod = calibrationMethod;
  if (!pruneBudget.empty()) {
    double db;
    if (StringRef(pruneBudget).getAsDouble(db) || !(db > 0))
      return fail("--prune-budget='" + pruneBudget +
                  "' is not a positive number of dB");
    options.pruneBudgetDb = db;
  }
  if (!quantizeBudget.empty()) {
    double db;
    if (StringRef(quantizeBudget).getAsDouble(db) || !(db > 0))
      return fail("--quantize-budget='" + quantizeBudget +
                  "' is not a positive number of dB");
    options.quantizeBudgetDb = db;
  }
  options.bindKVCache = bindKVCache;
  options.profile = profile;
  options.prune = prune;
  options.sparsity = sparsity;
  options.disabledPasses.assign(disablePasses.begin(), disablePasses.end());
  if (output.empty()) {
    if (emit == kiln::EmitKind::SharedLibrary || emit == kiln::EmitKind::Object)
      return fail("an output file is required (-o OUT.so)");
    output = "-";
  }
  options.outputPath = output;
  for (const std::string &spec : inputShapes) {
    std::string message;
    if (failed(kiln::parseInputShape(spec, options.import, message)))
      return fail(message);
  }
  options.configurePassManager = [](PassManager &pm) {
    return applyPassManagerCLOptions(pm);
  };

  kiln::registerAllTargets();
  DialectRegistry registry;
  kiln::registerAllDialects(registry);
  MLIRContext context(registry);
  kiln::DiagnosticPrinter diagnostics(&context, "kiln-compile");
  return failed(kiln::compileModel(context, options)) ? 1 : 0;
}
