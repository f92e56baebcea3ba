//===- Runner.h - load and run compiled models; tensor files ----*- C++ -*-===//
//
// What kiln-run does, as a library: read tensors from .npy or ONNX
// TensorProto (.pb) files, load a compiled model with dlopen, run it through
// its C ABI, write outputs as .npy, and compare them with expected values.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNNER_RUNNER_H
#define KILN_RUNNER_RUNNER_H

#include "kiln/Runtime/kiln_runtime.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace kiln {

/// A dense, row-major tensor owned by the runner.
struct HostTensor {
  kiln_dtype dtype = KILN_FLOAT32;
  std::vector<int64_t> shape;
  std::vector<char> data;

  int64_t numElements() const;
  /// Element `i` converted to double (for comparisons and reports).
  double elementAsDouble(int64_t i) const;
  /// "float32[1, 3, 224, 224]".
  std::string describe() const;
};

/// Bytes per element of `dtype` (0 when unknown).
size_t dtypeSize(kiln_dtype dtype);

/// The name of `dtype` ("float32").
const char *dtypeName(kiln_dtype dtype);

/// Reads a .npy file (format 1.0-3.0, little-endian, C order).
llvm::Expected<HostTensor> readNpy(llvm::StringRef path);
/// Writes `tensor` as a .npy file (format 1.0).
llvm::Error writeNpy(llvm::StringRef path, const HostTensor &tensor);
/// Reads a serialized ONNX TensorProto (raw or typed data).
llvm::Expected<HostTensor> readTensorProto(llvm::StringRef path);
/// The same from the bytes of a file (`path` only names it in errors).
llvm::Expected<HostTensor> parseNpy(llvm::StringRef bytes,
                                    llvm::StringRef path);
llvm::Expected<HostTensor> parseTensorProto(llvm::StringRef bytes,
                                            llvm::StringRef path);
/// Reads .npy or .pb by extension.
llvm::Expected<HostTensor> readTensorFile(llvm::StringRef path);

/// A model loaded from a shared library built by kiln-compile.
class LoadedModel {
public:
  static llvm::Expected<LoadedModel> load(llvm::StringRef path);
  LoadedModel(LoadedModel &&other);
  LoadedModel &operator=(LoadedModel &&other);
  LoadedModel(const LoadedModel &) = delete;
  LoadedModel &operator=(const LoadedModel &) = delete;
  ~LoadedModel();

  std::vector<const kiln_tensor_info *> inputs() const;
  std::vector<const kiln_tensor_info *> outputs() const;
  void setNumThreads(int threads) const;
  /// The kernels a model compiled with --profile times (empty otherwise).
  std::vector<std::string> profileKernels() const;
  /// Turns the model's kernel timers on or off (every thread).
  void setProfiling(bool on) const;
  /// The kernel intervals of this thread's last run while profiling was on.
  std::vector<kiln_profile_event> profileEvents() const;
  /// Runs the model; outputs are allocated to fit.
  llvm::Expected<std::vector<HostTensor>>
  run(const std::vector<HostTensor> &inputs) const;
  /// Runs the model and releases its outputs where they are, without
  /// copying them into HostTensors: what `kiln-run --bench` times (an
  /// application reads the outputs in place; a fresh copy of a large output
  /// would add its page faults to every run).
  llvm::Error runDiscardingOutputs(const std::vector<HostTensor> &inputs) const;

  /// Runs the model on tensors the caller describes (kiln_model_run):
  /// outputs whose `data` is null receive buffers the model allocates, to
  /// be given back with freeOutput. Fails with the model's message.
  llvm::Error runTensors(const kiln_tensor *inputs, int32_t numInputs,
                         kiln_tensor *outputs, int32_t numOutputs) const;
  /// Gives back an output buffer runTensors allocated.
  void freeOutput(void *data) const { freeFn(data); }

private:
  LoadedModel() = default;
  /// Runs the model, then hands each output (data and shape; data null
  /// when the run left it unset) to `take` before releasing it.
  kiln_status runWith(const std::vector<HostTensor> &inputs,
                      llvm::function_ref<void(size_t, const kiln_tensor &,
                                              const std::vector<int64_t> &)>
                          take) const;
  void *handle = nullptr;
  int32_t (*numInputs)(void) = nullptr;
  int32_t (*numOutputs)(void) = nullptr;
  const kiln_tensor_info *(*input)(int32_t) = nullptr;
  const kiln_tensor_info *(*output)(int32_t) = nullptr;
  kiln_status (*runFn)(const kiln_tensor *, int32_t, kiln_tensor *,
                       int32_t) = nullptr;
  const char *(*lastError)(void) = nullptr;
  void (*setThreads)(int32_t) = nullptr;
  void (*freeFn)(void *) = nullptr;
  int32_t (*profileNumKernels)(void) = nullptr;
  const char *(*profileKernel)(int32_t) = nullptr;
  void (*profileEnable)(int32_t) = nullptr;
  int32_t (*profileEventsFn)(const kiln_profile_event **) = nullptr;
};

/// The result of comparing an output with its expected value.
struct Comparison {
  bool matches = true;
  std::string message; ///< Shape/type problems, or the worst element.
  int64_t mismatches = 0;
  double maxAbsError = 0;
};

/// Compares with |actual - expected| <= atol + rtol * |expected|; NaN
/// matches NaN and an infinity only the same infinity.
Comparison compareTensors(const HostTensor &actual, const HostTensor &expected,
                          double rtol, double atol);

/// numpy has no bfloat16, so .npy files and ONNX 1.12's test data store
/// bfloat16 values as their uint16 bits: a uint16 `tensor` becomes bfloat16
/// where the model wants that.
void retagBFloat16(HostTensor &tensor, kiln_dtype wanted);

/// The file name (without extension) of output `name`: "/" and other odd
/// characters replaced.
std::string outputFileName(llvm::StringRef name);

/// Where a model's inputs come from (kiln-run's arguments).
struct InputSpec {
  /// Files (.npy or TensorProto .pb) for the first inputs, in order.
  std::vector<std::string> files;
  /// NAME=FILE.
  std::vector<std::string> namedFiles;
  /// Random data for the inputs not given, with NAME:DxD... dims for their
  /// dynamic dims (1 otherwise).
  bool randomInputs = false;
  std::vector<std::string> shapes;
  unsigned seed = 0;
};

/// The input tensors `spec` describes, checked against the model (messages
/// as kiln-run prints them).
llvm::Expected<std::vector<HostTensor>> bindInputs(const LoadedModel &model,
                                                   const InputSpec &spec);

/// Writes each output as DIR/NAME.npy.
llvm::Error writeOutputs(llvm::StringRef dir, const LoadedModel &model,
                         const std::vector<HostTensor> &outputs);

/// An output compared with its expected value, or an expected file the
/// model has no output for (`missing`).
struct OutputCheck {
  std::string name;
  bool missing = false;
  Comparison comparison;
};

/// Compares the outputs with DIR/NAME.npy (else DIR/output_I.pb); every
/// expected file must belong to an output.
llvm::Expected<std::vector<OutputCheck>>
checkOutputs(llvm::StringRef expectedDir, const LoadedModel &model,
             const std::vector<HostTensor> &outputs, double rtol, double atol);

/// Median and fastest of `runs` timed runs after `warmup` untimed ones.
struct BenchResult {
  unsigned runs = 0;
  double medianMs = 0, minMs = 0;
};
/// `progress(done, total)` after each run, warm-up runs included.
using RunProgress = llvm::function_ref<void(unsigned, unsigned)>;

/// `warmup` untimed runs before `runs` timed ones (benchmark, profile),
/// reported to `progress` as the first of warmup + runs.
llvm::Error warmUp(const LoadedModel &model,
                   const std::vector<HostTensor> &inputs, unsigned warmup,
                   unsigned runs, RunProgress progress);
llvm::Expected<BenchResult> benchmark(const LoadedModel &model,
                                      const std::vector<HostTensor> &inputs,
                                      unsigned runs, unsigned warmup,
                                      RunProgress progress = {});

/// One kernel's share of a profiled model's runs.
struct KernelTime {
  std::string name;
  double msPerRun = 0;    ///< Mean time per run.
  double callsPerRun = 0; ///< Mean intervals per run.
};

/// What `profile` measured.
struct ProfileResult {
  unsigned runs = 0;
  /// The runs' mean and median latency (as kiln_model_run returned).
  double meanMs = 0, medianMs = 0;
  /// The kernels' mean total time per run.
  double kernelsMs = 0;
  /// Kernels by time per run, most first (those that never ran left out).
  std::vector<KernelTime> kernels;
  /// The profiled runs as a Chrome trace (chrome://tracing, Perfetto): one
  /// "run" interval per run, the kernels nested in it.
  std::string traceJson;
};

/// Fails, saying what to do, when the model was compiled without --profile.
llvm::Error requireProfiling(const LoadedModel &model);

/// Profiles a model compiled with --profile: `runs` runs after `warmup`
/// untimed ones, each kernel's time recorded by the model's timers. Fails
/// when the model has none.
llvm::Expected<ProfileResult> profile(const LoadedModel &model,
                                      const std::vector<HostTensor> &inputs,
                                      unsigned runs, unsigned warmup,
                                      RunProgress progress = {});

} // namespace kiln

#endif // KILN_RUNNER_RUNNER_H
