//===- Runner.h - load and run compiled models; tensor files ----*- C++ -*-===//
//
// What kiln-run does, as a library: read tensors from .npy or ONNX
// TensorProto (.pb) files (sequences and optionals from SequenceProto and
// OptionalProto), load a compiled model with dlopen, run it through its C
// ABI, write outputs as .npy, and compare them with expected values.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_RUNNER_RUNNER_H
#define KILN_RUNNER_RUNNER_H

#include "kiln/Runtime/kiln_runtime.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstddef>
#include <cstdint>
#include <new>
#include <string>
#include <vector>

namespace kiln {

/// Allocates on 64-byte (cache line) boundaries. A tensor handed to a model
/// is read in place, and its kernels' vector loads run a quarter slower
/// when a row starts inside a cache line (a pointwise convolution reading a
/// 16-byte-aligned input: 734 against 899 us).
template <typename T> struct CacheLineAllocator {
  using value_type = T;
  static constexpr std::align_val_t alignment{64};
  CacheLineAllocator() = default;
  template <typename U> CacheLineAllocator(const CacheLineAllocator<U> &) {}
  T *allocate(size_t n) {
    return static_cast<T *>(::operator new(n * sizeof(T), alignment));
  }
  void deallocate(T *p, size_t) { ::operator delete(p, alignment); }
  template <typename U> bool operator==(const CacheLineAllocator<U> &) const {
    return true;
  }
};

/// A tensor's bytes, 64-byte aligned.
using TensorBytes = std::vector<char, CacheLineAllocator<char>>;

/// A dense, row-major tensor owned by the runner.
struct HostTensor {
  kiln_dtype dtype = KILN_FLOAT32;
  std::vector<int64_t> shape;
  TensorBytes data;

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

//===----------------------------------------------------------------------===//
// Graph values: tensors, sequences and optionals over the ABI's entries
//===----------------------------------------------------------------------===//

/// The kinds of value a graph input or output holds.
enum class ValueKind { Tensor, Sequence, Optional };

/// "tensor", "sequence", "optional".
const char *valueKindName(ValueKind kind);

/// A graph input or output as its ONNX value: a tensor, a sequence of
/// tensors, or an optional that holds (or would hold) one of those. At the C
/// ABI such a value is one or more entries (packValue, unpackValue).
struct HostValue {
  ValueKind kind = ValueKind::Tensor;
  /// Optional: the kind of its value (Tensor or Sequence), also when empty.
  ValueKind inner = ValueKind::Tensor;
  /// Optional: whether it holds a value.
  bool present = false;
  /// Tensor, or an optional's tensor.
  HostTensor tensor;
  /// Sequence, or an optional's sequence: the elements in order.
  std::vector<HostTensor> elements;

  static HostValue ofTensor(HostTensor tensor);
  static HostValue ofSequence(std::vector<HostTensor> elements);
  /// An optional holding `value`, a tensor or a sequence.
  static HostValue presentOptional(HostValue value);
  /// An optional holding nothing, of a tensor or a sequence.
  static HostValue emptyOptional(ValueKind inner);

  /// Whether the value is a sequence, or an optional of one.
  bool holdsSequence() const;
  /// One line: "float32[2, 3]", "sequence of 2 float32 tensors [2, 3],
  /// [1, 3]" (shapes past the 8th abbreviated), "optional, empty",
  /// "optional holding float32[2]".
  std::string describe() const;
};

/// Where a graph input or output lies among a model's ABI entries
/// (kiln_model_input or kiln_model_output): `numEntries` consecutive
/// entries from `firstEntry`, all named `name`.
struct ValueSlot {
  std::string name;
  ValueKind kind = ValueKind::Tensor;
  /// Optional: the kind of its value (Tensor or Sequence).
  ValueKind inner = ValueKind::Tensor;
  size_t firstEntry = 0;
  size_t numEntries = 1;

  /// Whether the value is a sequence, or an optional of one.
  bool holdsSequence() const;
  /// The entry of the tensor, or of the sequence's elements: after an
  /// optional's present flag.
  size_t valueEntry() const {
    return firstEntry + (kind == ValueKind::Optional ? 1 : 0);
  }
};

/// Groups a model's ABI entries (LoadedModel::inputs or outputs) into its
/// graph values: a KILN_PART_TENSOR entry alone; SEQUENCE_ELEMENTS then
/// SEQUENCE_SHAPES; OPTIONAL_PRESENT then its value's entries. Fails on any
/// other order, on a group whose entries differ in name, and on parts of the
/// wrong rank or type (a model that breaks the ABI).
llvm::Expected<std::vector<ValueSlot>>
modelValues(const std::vector<const kiln_tensor_info *> &entries);

/// The ABI entries of `value` for `slot` (whose entries are those of
/// `entries` from slot.firstEntry): a sequence's elements concatenated into
/// a rank-1 tensor and their shapes into an int64 [count, rank] matrix; an
/// optional's present flag, then its value, or when empty an empty tensor
/// (0 in the dynamic dims) or sequence. Fails, naming the value, when the
/// value's kind is not the slot's, or a sequence's elements differ from the
/// model's element type or from each other in rank.
llvm::Expected<std::vector<HostTensor>>
packValue(const ValueSlot &slot,
          const std::vector<const kiln_tensor_info *> &entries,
          HostValue value);

/// The value of `slot` from a model's ABI entries (`entries`: every entry of
/// the inputs or outputs, as LoadedModel::run returns them): a sequence's
/// elements split by the rows of its shapes. Fails, naming the value, when
/// the shapes do not add up to the elements.
llvm::Expected<HostValue> unpackValue(const ValueSlot &slot,
                                      llvm::ArrayRef<HostTensor> entries);

/// unpackValue for every slot.
llvm::Expected<std::vector<HostValue>>
unpackValues(llvm::ArrayRef<ValueSlot> slots,
             llvm::ArrayRef<HostTensor> entries);

/// HostValue::describe of `slot`'s value in `entries`, without copying a
/// tensor.
llvm::Expected<std::string> describeValue(const ValueSlot &slot,
                                          llvm::ArrayRef<HostTensor> entries);

/// Parses a serialized ONNX SequenceProto of tensors into a Sequence value
/// (`path` only names it in errors). Sequences of anything else are refused.
llvm::Expected<HostValue> parseSequenceProto(llvm::StringRef bytes,
                                             llvm::StringRef path);
/// Parses a serialized ONNX OptionalProto holding a tensor or a sequence of
/// tensors into an Optional value; one without a value is an empty optional
/// (of a tensor when its element type is UNDEFINED, as numpy_helper's
/// from_optional(None) writes it).
llvm::Expected<HostValue> parseOptionalProto(llvm::StringRef bytes,
                                             llvm::StringRef path);

/// Reads the file for a value of `slot`'s kind. A tensor: .npy or
/// TensorProto. A sequence: SequenceProto, or a directory of 0.npy, 1.npy,
/// ... (writeOutputs's). An optional: OptionalProto (an empty one fits
/// either kind of optional); or, as a present optional, a .npy or
/// TensorProto for one of a tensor and a directory for one of a sequence.
llvm::Expected<HostValue> readValueFile(llvm::StringRef path,
                                        const ValueSlot &slot);

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

/// compareTensors for values: the kinds must agree (an empty optional
/// matches any empty one, and only those), sequences must have as many
/// elements, and every element must match. The result sums the elements'
/// mismatches, takes their largest error and names the first element that
/// differs ("element 1: ...").
Comparison compareValues(const HostValue &actual, const HostValue &expected,
                         double rtol, double atol);

/// numpy has no bfloat16, so .npy files and ONNX 1.12's test data store
/// bfloat16 values as their uint16 bits: a uint16 `tensor` becomes bfloat16
/// where the model wants that.
void retagBFloat16(HostTensor &tensor, kiln_dtype wanted);

/// The file name (without extension) of output `name`: "/" and other odd
/// characters replaced.
std::string outputFileName(llvm::StringRef name);

/// Where a model's inputs come from (kiln-run's arguments). Inputs are graph
/// inputs (values), not ABI entries: a sequence is one input.
struct InputSpec {
  /// Files for the first inputs, in order (readValueFile: .npy or
  /// TensorProto .pb for a tensor; SequenceProto, OptionalProto...).
  std::vector<std::string> files;
  /// NAME=FILE.
  std::vector<std::string> namedFiles;
  /// Random data for the inputs not given, with NAME:DxD... dims for their
  /// dynamic dims (1 otherwise). A sequence gets two elements of dims 1; an
  /// optional, a present value made the same way.
  bool randomInputs = false;
  std::vector<std::string> shapes;
  unsigned seed = 0;
};

/// The input tensors `spec` describes, one per ABI entry (packValue), checked
/// against the model (messages as kiln-run prints them).
llvm::Expected<std::vector<HostTensor>> bindInputs(const LoadedModel &model,
                                                   const InputSpec &spec);

/// Writes each output as DIR/NAME.npy; a sequence as DIR/NAME/0.npy, 1.npy,
/// ...; an optional as its value, or nothing when it is empty.
llvm::Error writeOutputs(llvm::StringRef dir, const LoadedModel &model,
                         const std::vector<HostTensor> &outputs);

/// An output compared with its expected value, or an expected file the
/// model has no output for (`missing`).
struct OutputCheck {
  std::string name;
  bool missing = false;
  Comparison comparison;
};

/// Compares each graph output (one OutputCheck per value, in order, then the
/// expected files the model has no output for) with DIR/NAME.npy, or
/// DIR/NAME/ for a sequence, else DIR/output_I.pb (I: the output's index
/// among the graph outputs; a SequenceProto or OptionalProto for those);
/// every expected file must belong to an output.
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
