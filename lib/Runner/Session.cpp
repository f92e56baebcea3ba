//===- Session.cpp - what kiln-run does, for every front end --------------===//
//
// Binding a model's inputs (files, by position or name, and random data),
// writing and checking its outputs, and timing it: kiln-run's work, here so
// that kiln-run's main only parses flags and prints, and other front ends
// (the Python package) share it.
//
//===----------------------------------------------------------------------===//

#include "kiln/Runner/Runner.h"

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

/// A tensor of `info`'s type and `shape` with random values: floats in
/// [-1, 1), integers in [0, 10), bools 0/1.
static HostTensor randomTensor(const kiln_tensor_info &info,
                               std::vector<int64_t> shape,
                               std::mt19937_64 &rng) {
  HostTensor t;
  t.dtype = info.dtype;
  t.shape = std::move(shape);
  size_t width = dtypeSize(info.dtype);
  int64_t n = t.numElements();
  t.data.resize(n * width);
  std::uniform_real_distribution<float> real(-1.0f, 1.0f);
  std::uniform_int_distribution<int> integer(0, 9);
  for (int64_t i = 0; i < n; ++i) {
    char *p = t.data.data() + i * width;
    switch (info.dtype) {
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
      int64_t v = info.dtype == KILN_FLOAT16 || info.dtype == KILN_BFLOAT16
                      ? 0
                      : integer(rng);
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

std::string kiln::outputFileName(llvm::StringRef name) {
  std::string s;
  for (char c : name)
    s.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                        c == '-' || c == '.'
                    ? c
                    : '_');
  return s.empty() ? "output" : s;
}

llvm::Expected<std::vector<HostTensor>>
kiln::bindInputs(const LoadedModel &model, const InputSpec &spec) {
  std::vector<const kiln_tensor_info *> infos = model.inputs();
  // Positional files, then NAME=FILE, then random data for the rest.
  std::vector<HostTensor> inputs(infos.size());
  std::vector<bool> given(infos.size(), false);
  if (spec.files.size() > infos.size())
    return makeError(llvm::Twine(spec.files.size()) +
                     " input files for a model with " +
                     llvm::Twine(infos.size()) + " inputs");
  auto load = [&](size_t i, llvm::StringRef file) -> llvm::Error {
    llvm::Expected<HostTensor> t = readTensorFile(file);
    if (!t)
      return t.takeError();
    inputs[i] = std::move(*t);
    retagBFloat16(inputs[i], infos[i]->dtype);
    given[i] = true;
    return llvm::Error::success();
  };
  for (size_t i = 0; i < spec.files.size(); ++i)
    if (llvm::Error e = load(i, spec.files[i]))
      return std::move(e);
  for (const std::string &named : spec.namedFiles) {
    llvm::StringRef name, file;
    std::tie(name, file) = llvm::StringRef(named).split('=');
    auto it = std::find_if(infos.begin(), infos.end(),
                           [&](auto *info) { return name == info->name; });
    if (file.empty() || it == infos.end())
      return makeError("--input " + named +
                       " names no input of the model (NAME=FILE)");
    if (llvm::Error e = load(it - infos.begin(), file))
      return std::move(e);
  }
  std::mt19937_64 rng(spec.seed);
  for (size_t i = 0; i < infos.size(); ++i) {
    if (given[i])
      continue;
    if (!spec.randomInputs)
      return makeError(llvm::Twine("no data for input '") + infos[i]->name +
                       "'; give a file or --random-inputs");
    std::vector<int64_t> fixed;
    for (const std::string &shapeSpec : spec.shapes) {
      auto [name, dims] = llvm::StringRef(shapeSpec).rsplit(':');
      if (name != infos[i]->name)
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
    std::vector<int64_t> shape = randomShape(*infos[i], fixed);
    if (llvm::Error e = checkRandomInputSize(*infos[i], shape))
      return std::move(e);
    inputs[i] = randomTensor(*infos[i], std::move(shape), rng);
  }
  return inputs;
}

llvm::Error kiln::writeOutputs(llvm::StringRef dir, const LoadedModel &model,
                               const std::vector<HostTensor> &outputs) {
  std::vector<const kiln_tensor_info *> infos = model.outputs();
  llvm::sys::fs::create_directories(dir);
  for (size_t i = 0; i < outputs.size(); ++i) {
    llvm::SmallString<256> path(dir);
    llvm::sys::path::append(path, outputFileName(infos[i]->name) + ".npy");
    if (llvm::Error e = writeNpy(path, outputs[i]))
      return e;
  }
  return llvm::Error::success();
}

llvm::Expected<std::vector<OutputCheck>>
kiln::checkOutputs(llvm::StringRef expectedDir, const LoadedModel &model,
                   const std::vector<HostTensor> &outputs, double rtol,
                   double atol) {
  std::vector<const kiln_tensor_info *> infos = model.outputs();
  std::vector<OutputCheck> checks;
  for (size_t i = 0; i < outputs.size(); ++i) {
    llvm::SmallString<256> pb(expectedDir), npy(expectedDir);
    llvm::sys::path::append(pb, "output_" + std::to_string(i) + ".pb");
    llvm::sys::path::append(npy, outputFileName(infos[i]->name) + ".npy");
    llvm::StringRef file = llvm::sys::fs::exists(npy) ? npy.str() : pb.str();
    llvm::Expected<HostTensor> expected = readTensorFile(file);
    if (!expected)
      return expected.takeError();
    retagBFloat16(*expected, outputs[i].dtype);
    OutputCheck check;
    check.name = infos[i]->name;
    check.comparison = compareTensors(outputs[i], *expected, rtol, atol);
    checks.push_back(std::move(check));
  }
  // An expected output the model does not produce is a mismatch too: the
  // counts must agree.
  std::vector<std::string> extra;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(expectedDir, ec), end;
       it != end && !ec; it.increment(ec)) {
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    bool produced = false;
    if (name.starts_with("output_") && name.ends_with(".pb")) {
      unsigned index;
      produced = !name.drop_front(7).drop_back(3).getAsInteger(10, index) &&
                 index < outputs.size();
    } else if (name.ends_with(".npy")) {
      for (const kiln_tensor_info *info : infos)
        produced |= outputFileName(info->name) + ".npy" == name;
    } else {
      continue;
    }
    if (!produced)
      extra.push_back(name.str());
  }
  std::sort(extra.begin(), extra.end());
  for (const std::string &name : extra) {
    OutputCheck check;
    check.name = name;
    check.missing = true;
    check.comparison.matches = false;
    check.comparison.message = "the model has no such output (" +
                               std::to_string(outputs.size()) + " outputs)";
    checks.push_back(std::move(check));
  }
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
