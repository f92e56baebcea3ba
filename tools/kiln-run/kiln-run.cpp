//===- kiln-run.cpp - run a model compiled by kiln-compile ----------------===//
//
// kiln-run MODEL.so [INPUT.npy|.pb ...] [--input NAME=FILE]...
// [--random-inputs]
//          [--output-dir DIR] [--expected DIR --rtol R --atol A]
//          [--bench N] [--threads T] [--profile[=TRACE.json]]
//
// Exit status: 0 on success, 3 when outputs differ from --expected, 1 on any
// other error.
//
//===----------------------------------------------------------------------===//

#include "kiln/Runner/Runner.h"
#include "kiln/Support/PendingFile.h"
#include "kiln/Support/ProgressBar.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <sys/resource.h>

using namespace kiln;

static int fail(const llvm::Twine &message) {
  llvm::errs() << "kiln-run: error: " << message << "\n";
  return 1;
}

static const char kUsage[] =
    "usage: kiln-run MODEL.so [INPUT.npy|INPUT.pb ...] [options]\n"
    "  --input NAME=FILE      an input by name (.npy or TensorProto .pb; a\n"
    "                         sequence: SequenceProto .pb or a directory of\n"
    "                         0.npy, 1.npy...; an optional: OptionalProto)\n"
    "  --random-inputs        random data for inputs not given\n"
    "  --shape NAME:DxD...    dims of a dynamic input for --random-inputs\n"
    "  --seed N               seed of --random-inputs (0)\n"
    "  --output-dir DIR       write each output as DIR/NAME.npy (a sequence\n"
    "                         as DIR/NAME/0.npy, 1.npy...)\n"
    "  --expected DIR         compare with DIR/output_<i>.pb or DIR/NAME.npy\n"
    "                         (or DIR/NAME/ for a sequence; an expected\n"
    "                         output the model lacks: mismatch)\n"
    "  --rtol R --atol A      tolerances of --expected (1e-3, 1e-7)\n"
    "  --bench N              time N runs, print median and min latency\n"
    "  --warmup N             untimed runs before --bench (3)\n"
    "  --threads T            threads (default: all cores)\n"
    "  --profile[=TRACE]      per-kernel times of a model compiled with\n"
    "                         --profile over the --bench runs (10 without),\n"
    "                         and a Chrome trace (kiln-profile.json)\n"
    "  --peak-memory          print the process's peak resident memory\n"
    "exit status: 0 ok, 3 outputs differ from --expected, 1 other errors\n";

/// kiln-run --profile: the kernels by time, then the trace file.
static int printProfile(const LoadedModel &model,
                        const std::vector<HostTensor> &inputs, unsigned runs,
                        unsigned warmup, const std::string &tracePath) {
  ProgressBar bar("profile", warmup + runs);
  llvm::Expected<ProfileResult> result =
      profile(model, inputs, runs, warmup,
              [&](unsigned done, unsigned) { bar.update(done); });
  bar.finish();
  if (!result)
    return fail(llvm::toString(result.takeError()));
  constexpr size_t kShown = 25;
  llvm::outs() << llvm::format(
      "profile: %u runs, mean %.3f ms (median %.3f ms); kernels %.3f ms, "
      "%.1f %% of the mean\n",
      result->runs, result->meanMs, result->medianMs, result->kernelsMs,
      result->meanMs > 0 ? 100.0 * result->kernelsMs / result->meanMs : 0.0);
  llvm::outs() << "      ms   share  calls  kernel\n";
  double rest = 0;
  size_t restCount = 0;
  for (size_t i = 0; i < result->kernels.size(); ++i) {
    const KernelTime &k = result->kernels[i];
    if (i >= kShown) {
      rest += k.msPerRun;
      ++restCount;
      continue;
    }
    llvm::outs() << llvm::format("%8.3f  %5.1f%%  %5.4g  ", k.msPerRun,
                                 result->meanMs > 0
                                     ? 100.0 * k.msPerRun / result->meanMs
                                     : 0.0,
                                 k.callsPerRun)
                 << k.name << "\n";
  }
  if (restCount)
    llvm::outs() << llvm::format(
        "%8.3f  %5.1f%%         (%zu more kernels)\n", rest,
        result->meanMs > 0 ? 100.0 * rest / result->meanMs : 0.0, restCount);
  PendingFile trace(tracePath);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(trace.tempPath(), ec);
    if (ec)
      return fail("cannot write '" + tracePath + "': " + ec.message());
    os << result->traceJson << "\n";
    os.close();
    if (os.has_error())
      return fail("cannot write '" + tracePath + "': " + os.error().message());
  }
  std::string error;
  if (mlir::failed(trace.commit(error)))
    return fail(error);
  llvm::outs() << "trace: " << tracePath
               << " (open it in chrome://tracing or Perfetto)\n";
  return 0;
}

int main(int argc, char **argv) {
  // LLVM's command-line registry already owns names like --threads, so
  // kiln-run parses its few flags itself.
  std::string modelPath, outputDir, expectedDir;
  std::vector<std::string> positional, named, shapes;
  bool randomInputs = false, peakMemory = false, profiling = false;
  std::string tracePath = "kiln-profile.json";
  unsigned seed = 0, bench = 0, warmup = 3;
  double rtol = 1e-3, atol = 1e-7;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    llvm::StringRef arg = argv[i];
    std::string value;
    auto takeValue = [&](llvm::StringRef flag) -> bool {
      if (arg.consume_front(flag)) {
        if (arg.consume_front("=")) {
          value = arg.str();
          return true;
        }
        if (arg.empty() && i + 1 < argc) {
          value = argv[++i];
          return true;
        }
        arg = argv[i];
      }
      return false;
    };
    // Numeric flags: the name, then the value as --flag=V or --flag V.
    llvm::StringRef numericFlag;
    auto numeric = [&](llvm::StringRef flag, auto &out) -> std::optional<bool> {
      if (!takeValue(flag))
        return std::nullopt;
      numericFlag = flag;
      double v;
      if (llvm::StringRef(value).getAsDouble(v))
        return false;
      out = static_cast<std::remove_reference_t<decltype(out)>>(v);
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      llvm::outs() << kUsage;
      return 0;
    }
    if (arg == "--random-inputs") {
      randomInputs = true;
    } else if (arg == "--peak-memory") {
      peakMemory = true;
    } else if (arg == "--profile" || arg.starts_with("--profile=")) {
      profiling = true;
      if (arg.consume_front("--profile="))
        tracePath = arg.str();
      if (tracePath.empty())
        return fail("--profile= needs a trace file name");
    } else if (takeValue("--input")) {
      named.push_back(value);
    } else if (takeValue("--shape")) {
      shapes.push_back(value);
    } else if (takeValue("--output-dir")) {
      outputDir = value;
    } else if (takeValue("--expected")) {
      expectedDir = value;
    } else if (std::optional<bool> ok = [&]() {
                 // Tried in turn: the first flag that matches consumes it.
                 std::optional<bool> r;
                 (r = numeric("--seed", seed)) ||
                     (r = numeric("--bench", bench)) ||
                     (r = numeric("--warmup", warmup)) ||
                     (r = numeric("--threads", threads)) ||
                     (r = numeric("--rtol", rtol)) ||
                     (r = numeric("--atol", atol));
                 return r;
               }()) {
      if (!*ok)
        return fail("bad value '" + value + "' for " + numericFlag);
    } else if (arg.starts_with("-")) {
      return fail("unknown option '" + arg + "'\n" + kUsage);
    } else if (modelPath.empty()) {
      modelPath = arg.str();
    } else {
      positional.push_back(arg.str());
    }
  }
  if (modelPath.empty())
    return fail(llvm::Twine("no model given\n") + kUsage);

  llvm::Expected<LoadedModel> loaded = LoadedModel::load(modelPath);
  if (!loaded)
    return fail(llvm::toString(loaded.takeError()));
  const LoadedModel &model = *loaded;
  model.setNumThreads(threads);
  if (profiling)
    if (llvm::Error error = requireProfiling(model))
      return fail(llvm::toString(std::move(error)));

  InputSpec spec;
  spec.files = positional;
  spec.namedFiles = named;
  spec.randomInputs = randomInputs;
  spec.shapes = shapes;
  spec.seed = seed;
  llvm::Expected<std::vector<HostTensor>> inputs = bindInputs(model, spec);
  if (!inputs)
    return fail(llvm::toString(inputs.takeError()));
  llvm::Expected<std::vector<HostTensor>> outputs = model.run(*inputs);
  if (!outputs)
    return fail(llvm::toString(outputs.takeError()));
  if (!outputDir.empty())
    if (llvm::Error e = writeOutputs(outputDir, model, *outputs))
      return fail(llvm::toString(std::move(e)));

  std::vector<OutputCheck> checks;
  if (!expectedDir.empty()) {
    llvm::Expected<std::vector<OutputCheck>> checked =
        checkOutputs(expectedDir, model, *outputs, rtol, atol);
    if (!checked)
      return fail(llvm::toString(checked.takeError()));
    checks = std::move(*checked);
  }
  // One line per graph output: a sequence or an optional is one output
  // over several of the model's ABI entries.
  llvm::Expected<std::vector<ValueSlot>> slots = modelValues(model.outputs());
  if (!slots)
    return fail(llvm::toString(slots.takeError()));
  int status = 0;
  for (size_t i = 0; i < slots->size(); ++i) {
    llvm::Expected<std::string> description =
        describeValue((*slots)[i], *outputs);
    if (!description)
      return fail(llvm::toString(description.takeError()));
    llvm::outs() << "output '" << (*slots)[i].name << "': " << *description;
    if (i < checks.size()) {
      const Comparison &c = checks[i].comparison;
      if (c.matches) {
        llvm::outs() << " matches (max abs error " << c.maxAbsError << ")";
      } else {
        llvm::outs() << " MISMATCH: " << c.message;
        status = 3;
      }
    }
    llvm::outs() << "\n";
  }
  for (size_t i = slots->size(); i < checks.size(); ++i) {
    llvm::outs() << "expected output '" << checks[i].name
                 << "' MISMATCH: " << checks[i].comparison.message << "\n";
    status = 3;
  }

  if (bench > 0) {
    ProgressBar bar("bench", warmup + bench);
    llvm::Expected<BenchResult> timing =
        benchmark(model, *inputs, bench, warmup,
                  [&](unsigned done, unsigned) { bar.update(done); });
    bar.finish();
    if (!timing)
      return fail(llvm::toString(timing.takeError()));
    llvm::outs() << llvm::format("bench: %u runs, median %.3f ms, min %.3f ms",
                                 timing->runs, timing->medianMs, timing->minMs)
                 << "\n";
  }
  if (profiling)
    if (int failed =
            printProfile(model, *inputs, bench ? bench : 10, warmup, tracePath))
      return failed;
  if (peakMemory) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    // ru_maxrss is in KiB on Linux.
    llvm::outs() << llvm::format("peak memory: %.1f MiB",
                                 usage.ru_maxrss / 1024.0)
                 << "\n";
  }
  return status;
}
