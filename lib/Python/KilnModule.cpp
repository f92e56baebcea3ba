//===- KilnModule.cpp - the kiln Python package's native part -------------===//
//
// `kiln._kiln`: compiling (lib/Driver, as kiln-compile), importing and
// lowering (the kiln-opt pipelines), and running compiled models through
// their C ABI (lib/Runner, as kiln-run). python/kiln/__init__.py wraps it.
//
//===----------------------------------------------------------------------===//

#include "kiln/Driver/Compiler.h"
#include "kiln/Frontend/ONNX/Importer.h"
#include "kiln/InitAllKiln.h"
#include "kiln/Runner/Runner.h"
#include "kiln/Support/Diagnostics.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Support/raw_ostream.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <mutex>
#include <optional>

namespace py = pybind11;

namespace {

/// Errors of compiling, importing or lowering; of loading or running.
struct CompileError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct RunError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Registers Kiln's dialects, passes and targets once per process.
mlir::DialectRegistry &registry() {
  static std::once_flag once;
  static mlir::DialectRegistry instance;
  std::call_once(once, [] {
    kiln::registerAllPasses();
    kiln::registerAllTargets();
    kiln::registerAllDialects(instance);
  });
  return instance;
}

/// The diagnostics printed while `body` ran, as kiln-compile prints them,
/// without the trailing newline.
template <typename Body>
std::string collect(mlir::MLIRContext &context, const char *program, Body body,
                    bool &ok) {
  std::string text;
  llvm::raw_string_ostream os(text);
  {
    kiln::DiagnosticPrinter printer(&context, program, os);
    ok = body();
  }
  os.flush();
  while (!text.empty() && text.back() == '\n')
    text.pop_back();
  return text;
}

kiln::ONNXImportOptions importOptions(const std::vector<std::string> &shapes) {
  kiln::ONNXImportOptions options;
  for (const std::string &spec : shapes) {
    std::string message;
    if (failed(kiln::parseInputShape(spec, options, message)))
      throw CompileError(message);
  }
  return options;
}

void compile(const std::string &model, const std::string &output,
             const std::string &target, unsigned optLevel,
             const std::vector<std::string> &inputShapes,
             const std::string &quantize, const std::string &calibrationData,
             const std::string &report, const std::string &cpu,
             const std::string &gpuArch, bool profile, const std::string &prune,
             const std::string &sparsity, double pruneBudget) {
  if (optLevel > 3)
    throw CompileError("opt_level must be 0-3, got " +
                       std::to_string(optLevel));
  kiln::CompileOptions options;
  options.inputPath = model;
  options.outputPath = output;
  options.target = target;
  options.optLevel = optLevel;
  options.import = importOptions(inputShapes);
  options.quantize = quantize;
  options.calibrationData = calibrationData;
  options.reportPath = report;
  options.cpu = cpu;
  options.gpuArch = gpuArch;
  options.profile = profile;
  options.prune = prune;
  options.sparsity = sparsity;
  if (pruneBudget > 0)
    options.pruneBudgetDb = pruneBudget;
  mlir::MLIRContext context(registry());
  bool ok;
  std::string messages = collect(
      context, "kiln.compile",
      [&] { return succeeded(kiln::compileModel(context, options)); }, ok);
  if (!ok)
    throw CompileError(messages.empty() ? "compilation failed" : messages);
}

std::string importONNX(const std::string &path,
                       const std::vector<std::string> &inputShapes) {
  kiln::ONNXImportOptions options = importOptions(inputShapes);
  mlir::MLIRContext context(registry());
  mlir::OwningOpRef<mlir::ModuleOp> module;
  bool ok;
  std::string messages = collect(
      context, "kiln.import_onnx",
      [&] {
        module = kiln::importONNXFile(context, path, options);
        return static_cast<bool>(module);
      },
      ok);
  if (!ok)
    throw CompileError(messages.empty() ? "import failed" : messages);
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  return text;
}

/// Runs `pipeline` (a textual pass pipeline, e.g. "kiln-to-linalg") on the
/// module in `text`.
std::string lower(const std::string &text, const std::string &pipeline) {
  mlir::MLIRContext context(registry());
  mlir::OwningOpRef<mlir::ModuleOp> module;
  bool ok;
  std::string messages = collect(
      context, "kiln.lower",
      [&] {
        module = mlir::parseSourceString<mlir::ModuleOp>(text, &context);
        if (!module)
          return false;
        mlir::PassManager pm(&context);
        std::string error;
        llvm::raw_string_ostream errors(error);
        if (failed(mlir::parsePassPipeline(pipeline, pm, errors))) {
          mlir::emitError(mlir::UnknownLoc::get(&context))
              << "unknown stage or pipeline '" << pipeline << "': " << error;
          return false;
        }
        return succeeded(pm.run(*module));
      },
      ok);
  if (!ok)
    throw CompileError(messages.empty() ? "lowering failed" : messages);
  std::string result;
  llvm::raw_string_ostream os(result);
  module->print(os);
  return result;
}

/// The numpy name of `dtype`: kiln-run's name, bfloat16 as its bits.
const char *numpyName(kiln_dtype dtype) {
  return dtype == KILN_BFLOAT16 ? "uint16" : kiln::dtypeName(dtype);
}

/// A loaded model; arrays handed out keep it loaded.
class Model {
public:
  explicit Model(std::shared_ptr<kiln::LoadedModel> model)
      : model(std::move(model)) {}

  static py::list describe(const std::vector<const kiln_tensor_info *> &all) {
    py::list result;
    for (const kiln_tensor_info *info : all) {
      py::list shape;
      for (int32_t d = 0; d < info->rank; ++d)
        if (info->shape[d] < 0)
          shape.append(py::none());
        else
          shape.append(info->shape[d]);
      result.append(py::make_tuple(std::string(info->name),
                                   static_cast<int>(info->dtype), shape,
                                   static_cast<int>(info->part)));
    }
    return result;
  }
  py::list inputs() const { return describe(model->inputs()); }
  py::list outputs() const { return describe(model->outputs()); }

  /// `arrays`: C-contiguous arrays of the inputs' element types, in input
  /// order (kiln/__init__.py converts). Returns the outputs' arrays, which
  /// own the model's buffers (no copy).
  py::list run(const std::vector<py::array> &arrays) const {
    std::vector<const kiln_tensor_info *> infos = model->outputs();
    std::vector<const kiln_tensor_info *> inputInfos = model->inputs();
    std::vector<kiln_tensor> in(arrays.size());
    std::vector<std::vector<int64_t>> inShapes(arrays.size());
    for (size_t i = 0; i < arrays.size(); ++i) {
      const py::array &array = arrays[i];
      inShapes[i].assign(array.shape(), array.shape() + array.ndim());
      in[i].data = const_cast<void *>(array.data());
      in[i].dtype = i < inputInfos.size() ? inputInfos[i]->dtype : KILN_FLOAT32;
      in[i].rank = static_cast<int32_t>(array.ndim());
      in[i].shape = inShapes[i].data();
      in[i].size_bytes = static_cast<size_t>(array.nbytes());
    }
    std::vector<kiln_tensor> out(infos.size());
    std::vector<std::vector<int64_t>> outShapes(infos.size());
    for (size_t i = 0; i < infos.size(); ++i) {
      outShapes[i].resize(infos[i]->rank);
      out[i] = {nullptr, infos[i]->dtype, infos[i]->rank, outShapes[i].data(),
                0};
    }
    llvm::Error error = llvm::Error::success();
    {
      py::gil_scoped_release release;
      error = model->runTensors(in.data(), static_cast<int32_t>(in.size()),
                                out.data(), static_cast<int32_t>(out.size()));
    }
    if (error)
      throw RunError(llvm::toString(std::move(error)));
    py::list results;
    for (size_t i = 0; i < out.size(); ++i) {
      py::dtype dtype(numpyName(out[i].dtype));
      if (!out[i].data) {
        results.append(py::array(dtype, outShapes[i]));
        continue;
      }
      // The capsule gives the buffer back to the model when the array dies.
      using Owner = std::pair<std::shared_ptr<kiln::LoadedModel>, void *>;
      py::capsule owner(new Owner(model, out[i].data), [](void *p) {
        auto *o = static_cast<Owner *>(p);
        o->first->freeOutput(o->second);
        delete o;
      });
      results.append(py::array(dtype, outShapes[i], out[i].data, owner));
    }
    return results;
  }

  /// Times the model on `arrays` (kiln-run --bench): the median and the
  /// fastest of `runs` runs after `warmup`, in milliseconds.
  std::pair<double, double> bench(const std::vector<py::array> &arrays,
                                  unsigned runs, unsigned warmup) const {
    std::vector<kiln::HostTensor> inputs = hostTensors(arrays);
    std::optional<llvm::Expected<kiln::BenchResult>> result;
    {
      py::gil_scoped_release release;
      result.emplace(kiln::benchmark(*model, inputs, runs, warmup));
    }
    if (!*result)
      throw RunError(llvm::toString(result->takeError()));
    return {(*result)->medianMs, (*result)->minMs};
  }

  /// Profiles a model compiled with profile=True (kiln-run --profile): a
  /// dict with the runs' mean and median latency, the kernels' total, each
  /// kernel's time and calls per run (most first), and the Chrome trace.
  py::dict profile(const std::vector<py::array> &arrays, unsigned runs,
                   unsigned warmup) const {
    std::vector<kiln::HostTensor> inputs = hostTensors(arrays);
    std::optional<llvm::Expected<kiln::ProfileResult>> result;
    {
      py::gil_scoped_release release;
      result.emplace(kiln::profile(*model, inputs, runs, warmup));
    }
    if (!*result)
      throw RunError(llvm::toString(result->takeError()));
    const kiln::ProfileResult &r = **result;
    py::list kernels;
    for (const kiln::KernelTime &k : r.kernels) {
      py::dict entry;
      entry["name"] = k.name;
      entry["ms"] = k.msPerRun;
      entry["calls"] = k.callsPerRun;
      kernels.append(entry);
    }
    py::dict d;
    d["runs"] = r.runs;
    d["mean_ms"] = r.meanMs;
    d["median_ms"] = r.medianMs;
    d["kernels_ms"] = r.kernelsMs;
    d["kernels"] = kernels;
    d["trace"] = r.traceJson;
    return d;
  }

  void setNumThreads(int threads) const { model->setNumThreads(threads); }

private:
  /// Copies of `arrays` as the runner's tensors (bench and profile run the
  /// same inputs many times, without the GIL).
  std::vector<kiln::HostTensor>
  hostTensors(const std::vector<py::array> &arrays) const {
    std::vector<const kiln_tensor_info *> infos = model->inputs();
    std::vector<kiln::HostTensor> inputs(arrays.size());
    for (size_t i = 0; i < arrays.size(); ++i) {
      inputs[i].dtype = i < infos.size() ? infos[i]->dtype : KILN_FLOAT32;
      inputs[i].shape.assign(arrays[i].shape(),
                             arrays[i].shape() + arrays[i].ndim());
      const char *bytes = static_cast<const char *>(arrays[i].data());
      inputs[i].data.assign(bytes, bytes + arrays[i].nbytes());
    }
    return inputs;
  }

  std::shared_ptr<kiln::LoadedModel> model;
};

Model load(const std::string &path) {
  llvm::Expected<kiln::LoadedModel> loaded = kiln::LoadedModel::load(path);
  if (!loaded)
    throw RunError(llvm::toString(loaded.takeError()));
  return Model(std::make_shared<kiln::LoadedModel>(std::move(*loaded)));
}

} // namespace

PYBIND11_MODULE(_kiln, m) {
  m.doc() = "Kiln's native part; use the kiln package.";
  py::register_exception<CompileError>(m, "CompileError");
  py::register_exception<RunError>(m, "RunError");
  m.def("compile", &compile, py::call_guard<py::gil_scoped_release>());
  m.def("import_onnx", &importONNX, py::call_guard<py::gil_scoped_release>());
  m.def("lower", &lower, py::call_guard<py::gil_scoped_release>());
  m.def("load", &load);
  py::class_<Model>(m, "Model")
      .def("inputs", &Model::inputs)
      .def("outputs", &Model::outputs)
      .def("run", &Model::run)
      .def("bench", &Model::bench)
      .def("profile", &Model::profile)
      .def("set_num_threads", &Model::setNumThreads);
}
