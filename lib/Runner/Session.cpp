//===- Session.cpp - what kiln-run does, for every front end --------------===//
//
// Binding a model's inputs (files, by position or name, and random data),
// writing and checking its outputs, and timing it: kiln-run's work, here so
// that kiln-run's main only parses flags and prints, and other front ends
// (the Python package) share it.
//
//===----------------------------------------------------------------------===//

#include "kiln/Runner/Runner.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>

#include <unistd.h>

using namespace kiln;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The shape of a random input: the model's dims, `fixed` for dynamic ones
/// (1 past its end).
static std::vector<int64_t> randomShape(const kiln_tensor_info &info,
                                        const std::vector<int64_t> &fixed) {
  std::vector<int64_t> shape;
  for (int32_t d = 0; d < info.rank; ++d)
    shape.push_back(info.shape[d] >= 0                       ? info.shape[d]
                    : d < static_cast<int32_t>(fixed.size()) ? fixed[d]
                                                             : 1);
  return shape;
}

/// Refuses a random input that this machine's memory cannot hold, rather
/// than dying in the allocation.
static llvm::Error checkRandomInputSize(const kiln_tensor_info &info,
                                        const std::vector<int64_t> &shape) {
  uint64_t bytes = dtypeSize(info.dtype);
  bool overflow = false;
  for (int64_t d : shape)
    overflow |= d != 0 && bytes > UINT64_MAX / static_cast<uint64_t>(d),
        bytes *= static_cast<uint64_t>(d);
  uint64_t memory = static_cast<uint64_t>(sysconf(_SC_PHYS_PAGES)) *
                    static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  if (!overflow && bytes <= memory)
    return llvm::Error::success();
  std::string dims;
  for (int64_t d : shape)
    dims += (dims.empty() ? "" : "x") + std::to_string(d);
  bool dynamic = false;
  for (int32_t d = 0; d < info.rank; ++d)
    dynamic |= info.shape[d] < 0;
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "random input '%s' of shape %s needs %s bytes, more than this "
      "machine's memory (%llu bytes)%s",
      info.name, dims.c_str(),
      overflow ? "over 2^64" : std::to_string(bytes).c_str(),
      static_cast<unsigned long long>(memory),
      dynamic ? "; choose smaller dynamic dims with --shape" : "");
}

/// A tensor of `dtype` and `shape` with random values: floats in [-1, 1),
/// integers in [0, 10), bools 0/1.
static HostTensor randomTensor(kiln_dtype dtype, std::vector<int64_t> shape,
                               std::mt19937_64 &rng) {
  HostTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  size_t width = dtypeSize(dtype);
  int64_t n = t.numElements();
  t.data.resize(n * width);
  std::uniform_real_distribution<float> real(-1.0f, 1.0f);
  std::uniform_int_distribution<int> integer(0, 9);
  for (int64_t i = 0; i < n; ++i) {
    char *p = t.data.data() + i * width;
    switch (dtype) {
    case KILN_FLOAT32: {
      float v = real(rng);
      std::memcpy(p, &v, 4);
      break;
    }
    case KILN_FLOAT64: {
      double v = real(rng);
      std::memcpy(p, &v, 8);
      break;
    }
    case KILN_BOOL:
      *p = integer(rng) % 2;
      break;
    default: {
      // Small non-negative integers fit every integer type; the low bytes
      // come first (little-endian). Half floats get 0 (x86 lacks a cheap
      // conversion here).
      int64_t v =
          dtype == KILN_FLOAT16 || dtype == KILN_BFLOAT16 ? 0 : integer(rng);
      std::memcpy(p, &v, width);
      break;
    }
    }
  }
  return t;
}

/// numpy has no bfloat16, so .npy files and ONNX 1.12's test data store
/// bfloat16 values as their uint16 bits: read those as bfloat16 where the
/// model has a bfloat16 tensor.
void kiln::retagBFloat16(HostTensor &tensor, kiln_dtype wanted) {
  if (wanted == KILN_BFLOAT16 && tensor.dtype == KILN_UINT16)
    tensor.dtype = KILN_BFLOAT16;
}

/// retagBFloat16 for every tensor of `value` (a sequence's elements).
static void retagBFloat16(HostValue &value, kiln_dtype wanted) {
  retagBFloat16(value.tensor, wanted);
  for (HostTensor &element : value.elements)
    retagBFloat16(element, wanted);
}

std::string kiln::outputFileName(llvm::StringRef name) {
  std::string s;
  for (char c : name)
    s.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                        c == '-' || c == '.'
                    ? c
                    : '_');
  return s.empty() ? "output" : s;
}

/// A random tensor for the entry `info` (a tensor input, or an optional's
/// tensor): the model's dims, those of `spec`'s --shape NAME:DxD... for the
/// dynamic ones (1 otherwise).
static llvm::Expected<HostTensor> randomInput(const kiln_tensor_info &info,
                                              const InputSpec &spec,
                                              std::mt19937_64 &rng) {
  std::vector<int64_t> fixed;
  for (const std::string &shapeSpec : spec.shapes) {
    auto [name, dims] = llvm::StringRef(shapeSpec).rsplit(':');
    if (name != info.name)
      continue;
    llvm::SmallVector<llvm::StringRef> parts;
    dims.split(parts, 'x');
    for (llvm::StringRef p : parts) {
      int64_t v;
      if (p.getAsInteger(10, v) || v < 0)
        return makeError("--shape " + shapeSpec + ": bad dim '" + p + "'");
      fixed.push_back(v);
    }
  }
  std::vector<int64_t> shape = randomShape(info, fixed);
  if (llvm::Error e = checkRandomInputSize(info, shape))
    return std::move(e);
  return randomTensor(info.dtype, std::move(shape), rng);
}

/// Random data for the input `slot`: a tensor as randomInput makes it; a
/// sequence of two elements whose dims are all 1 (of the model's element
/// rank, 1 when the model leaves it open); an optional holding either.
static llvm::Expected<HostValue>
randomValue(const ValueSlot &slot,
            const std::vector<const kiln_tensor_info *> &infos,
            const InputSpec &spec, std::mt19937_64 &rng) {
  const kiln_tensor_info &info = *infos[slot.valueEntry()];
  HostValue value;
  if (!slot.holdsSequence()) {
    llvm::Expected<HostTensor> tensor = randomInput(info, spec, rng);
    if (!tensor)
      return tensor.takeError();
    value = HostValue::ofTensor(std::move(*tensor));
  } else {
    const kiln_tensor_info &shapes = *infos[slot.valueEntry() + 1];
    int64_t rank =
        shapes.rank == 2 && shapes.shape[1] >= 0 ? shapes.shape[1] : 1;
    std::vector<HostTensor> elements;
    for (int i = 0; i < 2; ++i)
      elements.push_back(
          randomTensor(info.dtype, std::vector<int64_t>(rank, 1), rng));
    value = HostValue::ofSequence(std::move(elements));
  }
  if (slot.kind == ValueKind::Optional)
    return HostValue::presentOptional(std::move(value));
  return value;
}

llvm::Expected<std::vector<HostTensor>>
kiln::bindInputs(const LoadedModel &model, const InputSpec &spec) {
  // Files and random data bind graph inputs (values); the model takes their
  // ABI entries, a sequence's or optional's several (packValue).
  std::vector<const kiln_tensor_info *> infos = model.inputs();
  llvm::Expected<std::vector<ValueSlot>> slotsOr = modelValues(infos);
  if (!slotsOr)
    return slotsOr.takeError();
  const std::vector<ValueSlot> &slots = *slotsOr;
  // Positional files, then NAME=FILE, then random data for the rest.
  std::vector<HostTensor> inputs(infos.size());
  std::vector<bool> given(slots.size(), false);
  if (spec.files.size() > slots.size())
    return makeError(llvm::Twine(spec.files.size()) +
                     " input files for a model with " +
                     llvm::Twine(slots.size()) + " inputs");
  auto place = [&](size_t s, HostValue value) -> llvm::Error {
    const ValueSlot &slot = slots[s];
    llvm::Expected<std::vector<HostTensor>> entries =
        packValue(slot, infos, std::move(value));
    if (!entries)
      return entries.takeError();
    for (size_t k = 0; k < entries->size(); ++k)
      inputs[slot.firstEntry + k] = std::move((*entries)[k]);
    given[s] = true;
    return llvm::Error::success();
  };
  auto load = [&](size_t s, llvm::StringRef file) -> llvm::Error {
    llvm::Expected<HostValue> value = readValueFile(file, slots[s]);
    if (!value)
      return value.takeError();
    retagBFloat16(*value, infos[slots[s].valueEntry()]->dtype);
    return place(s, std::move(*value));
  };
  for (size_t i = 0; i < spec.files.size(); ++i)
    if (llvm::Error e = load(i, spec.files[i]))
      return std::move(e);
  for (const std::string &named : spec.namedFiles) {
    llvm::StringRef name, file;
    std::tie(name, file) = llvm::StringRef(named).split('=');
    auto it =
        std::find_if(slots.begin(), slots.end(),
                     [&](const ValueSlot &slot) { return name == slot.name; });
    if (file.empty() || it == slots.end())
      return makeError("--input " + named +
                       " names no input of the model (NAME=FILE)");
    if (llvm::Error e = load(it - slots.begin(), file))
      return std::move(e);
  }
  std::mt19937_64 rng(spec.seed);
  for (size_t s = 0; s < slots.size(); ++s) {
    if (given[s])
      continue;
    if (!spec.randomInputs)
      return makeError("no data for input '" + slots[s].name +
                       "'; give a file or --random-inputs");
    llvm::Expected<HostValue> value = randomValue(slots[s], infos, spec, rng);
    if (!value)
      return value.takeError();
    if (llvm::Error e = place(s, std::move(*value)))
      return std::move(e);
  }
  return inputs;
}

/// DIR/NAME.npy for a tensor, DIR/NAME for a sequence's directory.
static std::string outputPath(llvm::StringRef dir, llvm::StringRef name,
                              bool sequence) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path,
                          outputFileName(name) + (sequence ? "" : ".npy"));
  return path.str().str();
}

/// Writes a sequence as DIR/0.npy, DIR/1.npy, ...
static llvm::Error writeSequence(llvm::StringRef dir,
                                 const std::vector<HostTensor> &elements) {
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return makeError("cannot create '" + dir + "': " + ec.message());
  for (size_t i = 0; i < elements.size(); ++i) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, std::to_string(i) + ".npy");
    if (llvm::Error e = writeNpy(path, elements[i]))
      return e;
  }
  return llvm::Error::success();
}

llvm::Error kiln::writeOutputs(llvm::StringRef dir, const LoadedModel &model,
                               const std::vector<HostTensor> &outputs) {
  llvm::Expected<std::vector<ValueSlot>> slots = modelValues(model.outputs());
  if (!slots)
    return slots.takeError();
  llvm::sys::fs::create_directories(dir);
  for (const ValueSlot &slot : *slots) {
    // A tensor is written where it is: an output may be large.
    if (slot.kind == ValueKind::Tensor) {
      if (llvm::Error e = writeNpy(outputPath(dir, slot.name, false),
                                   outputs[slot.firstEntry]))
        return e;
      continue;
    }
    llvm::Expected<HostValue> value = unpackValue(slot, outputs);
    if (!value)
      return value.takeError();
    if (value->kind == ValueKind::Optional && !value->present)
      continue; // an empty optional has no file
    std::string path = outputPath(dir, slot.name, value->holdsSequence());
    if (llvm::Error e = value->holdsSequence()
                            ? writeSequence(path, value->elements)
                            : writeNpy(path, value->tensor))
      return e;
  }
  return llvm::Error::success();
}

/// The expected value of output `slot` (graph output `index`): DIR/NAME/
/// for one that holds a sequence, DIR/NAME.npy for one that holds a tensor,
/// else DIR/output_INDEX.pb. An optional with none of these files is
/// expected empty, as writeOutputs leaves it.
static llvm::Expected<HostValue>
readExpected(llvm::StringRef dir, const ValueSlot &slot, size_t index) {
  llvm::SmallString<256> pb(dir);
  llvm::sys::path::append(pb, "output_" + std::to_string(index) + ".pb");
  std::string own = outputPath(dir, slot.name, slot.holdsSequence());
  bool found = slot.holdsSequence() ? llvm::sys::fs::is_directory(own)
                                    : llvm::sys::fs::exists(own);
  if (!found && slot.kind == ValueKind::Optional && !llvm::sys::fs::exists(pb))
    return HostValue::emptyOptional(slot.inner);
  return readValueFile(found ? llvm::StringRef(own) : pb.str(), slot);
}

/// The expected files of `expectedDir` that belong to no output of the
/// model: output_I.pb past the last output, NAME.npy and NAME/ (a
/// directory holding 0.npy) of no output's name, or of an output of the
/// other kind. Other files and directories are not outputs and are left
/// alone.
static std::vector<OutputCheck>
extraExpected(llvm::StringRef expectedDir,
              const std::vector<ValueSlot> &slots) {
  std::vector<OutputCheck> extra;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(expectedDir, ec), end;
       it != end && !ec; it.increment(ec)) {
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    std::string message = "the model has no such output (" +
                          std::to_string(slots.size()) + " outputs)";
    bool produced = false;
    if (name.starts_with("output_") && name.ends_with(".pb")) {
      unsigned index;
      produced = !name.drop_front(7).drop_back(3).getAsInteger(10, index) &&
                 index < slots.size();
    } else {
      // NAME.npy holds a tensor; NAME/ with 0.npy a sequence.
      bool sequence;
      llvm::StringRef stem = name;
      if (stem.consume_back(".npy"))
        sequence = false;
      else if (llvm::sys::fs::is_directory(it->path()) &&
               llvm::sys::fs::exists(it->path() + "/0.npy"))
        sequence = true;
      else
        continue;
      for (const ValueSlot &slot : slots) {
        if (outputFileName(slot.name) != stem)
          continue;
        produced = slot.holdsSequence() == sequence;
        if (!produced)
          message = "output '" + slot.name + "' " +
                    (sequence ? "holds no sequence" : "holds a sequence") +
                    " (expected as " + outputFileName(slot.name) +
                    (sequence ? ".npy" : "/") + " or output_I.pb)";
        break;
      }
    }
    if (produced)
      continue;
    OutputCheck check;
    check.name = name.str();
    check.missing = true;
    check.comparison.matches = false;
    check.comparison.message = message;
    extra.push_back(std::move(check));
  }
  std::sort(extra.begin(), extra.end(),
            [](const OutputCheck &a, const OutputCheck &b) {
              return a.name < b.name;
            });
  return extra;
}

llvm::Expected<std::vector<OutputCheck>>
kiln::checkOutputs(llvm::StringRef expectedDir, const LoadedModel &model,
                   const std::vector<HostTensor> &outputs, double rtol,
                   double atol) {
  std::vector<const kiln_tensor_info *> infos = model.outputs();
  llvm::Expected<std::vector<ValueSlot>> slots = modelValues(infos);
  if (!slots)
    return slots.takeError();
  std::vector<OutputCheck> checks;
  for (auto [index, slot] : llvm::enumerate(*slots)) {
    llvm::Expected<HostValue> expected = readExpected(expectedDir, slot, index);
    if (!expected)
      return expected.takeError();
    OutputCheck check;
    check.name = slot.name;
    if (slot.kind == ValueKind::Tensor) {
      // Compared where it is: an output may be large.
      const HostTensor &actual = outputs[slot.firstEntry];
      retagBFloat16(expected->tensor, actual.dtype);
      check.comparison = compareTensors(actual, expected->tensor, rtol, atol);
    } else {
      llvm::Expected<HostValue> actual = unpackValue(slot, outputs);
      if (!actual)
        return actual.takeError();
      retagBFloat16(*expected, infos[slot.valueEntry()]->dtype);
      check.comparison = compareValues(*actual, *expected, rtol, atol);
    }
    checks.push_back(std::move(check));
  }
  // An expected output the model does not produce is a mismatch too: the
  // counts must agree.
  for (OutputCheck &check : extraExpected(expectedDir, *slots))
    checks.push_back(std::move(check));
  return checks;
}

llvm::Error kiln::warmUp(const LoadedModel &model,
                         const std::vector<HostTensor> &inputs, unsigned warmup,
                         unsigned runs, RunProgress progress) {
  for (unsigned i = 0; i < warmup; ++i) {
    if (llvm::Error error = model.runDiscardingOutputs(inputs))
      return makeError("a warm-up run failed: " +
                       llvm::toString(std::move(error)));
    if (progress)
      progress(i + 1, warmup + runs);
  }
  return llvm::Error::success();
}

llvm::Expected<BenchResult>
kiln::benchmark(const LoadedModel &model, const std::vector<HostTensor> &inputs,
                unsigned runs, unsigned warmup, RunProgress progress) {
  // The timed runs leave the outputs where the model wrote them, as an
  // application would read them; copying each into a fresh vector is the
  // runner's cost, not the model's.
  if (llvm::Error error = warmUp(model, inputs, warmup, runs, progress))
    return std::move(error);
  std::vector<double> times;
  for (unsigned i = 0; i < runs; ++i) {
    auto start = std::chrono::steady_clock::now();
    llvm::Error error = model.runDiscardingOutputs(inputs);
    auto end = std::chrono::steady_clock::now();
    if (error)
      return std::move(error);
    if (progress)
      progress(warmup + i + 1, warmup + runs);
    times.push_back(
        std::chrono::duration<double, std::milli>(end - start).count());
  }
  std::sort(times.begin(), times.end());
  BenchResult result;
  result.runs = runs;
  if (!times.empty()) {
    result.medianMs = times[times.size() / 2];
    result.minMs = times.front();
  }
  return result;
}
