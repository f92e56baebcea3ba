//===- kiln-run.cpp - run a model compiled by kiln-compile ----------------===//
//
// kiln-run MODEL.so [INPUT.npy|.pb ...] [--input NAME=FILE]...
// [--random-inputs]
//          [--output-dir DIR] [--expected DIR --rtol R --atol A]
//          [--bench N] [--threads T]
//
// Exit status: 0 on success, 3 when outputs differ from --expected, 1 on any
// other error.
//
//===----------------------------------------------------------------------===//

#include "kiln/Runner/Runner.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <random>

#include <unistd.h>

#include <sys/resource.h>

using namespace kiln;

static int fail(const llvm::Twine &message) {
  llvm::errs() << "kiln-run: error: " << message << "\n";
  return 1;
}

/// A tensor of `info`'s type with dynamic dims from `fixed` (else 1) and
/// random values: floats in [-1, 1), integers in [0, 10), bools 0/1.
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

/// A file name for output `name` ("/" and other odd characters replaced).
/// numpy has no bfloat16, so .npy files and ONNX 1.12's test data store
/// bfloat16 values as their uint16 bits: read those as bfloat16 where the
/// model has a bfloat16 tensor.
static void retagBFloat16(HostTensor &tensor, kiln_dtype wanted) {
  if (wanted == KILN_BFLOAT16 && tensor.dtype == KILN_UINT16)
    tensor.dtype = KILN_BFLOAT16;
}

static std::string safeName(llvm::StringRef name) {
  std::string s;
  for (char c : name)
    s.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' ||
                        c == '-' || c == '.'
                    ? c
                    : '_');
  return s.empty() ? "output" : s;
}

static const char kUsage[] =
    "usage: kiln-run MODEL.so [INPUT.npy|INPUT.pb ...] [options]\n"
    "  --input NAME=FILE      an input by name (.npy or TensorProto .pb)\n"
    "  --random-inputs        random data for inputs not given\n"
    "  --shape NAME:DxD...    dims of a dynamic input for --random-inputs\n"
    "  --seed N               seed of --random-inputs (0)\n"
    "  --output-dir DIR       write each output as DIR/NAME.npy\n"
    "  --expected DIR         compare with DIR/output_<i>.pb or DIR/NAME.npy\n"
    "                         (an expected output the model lacks: mismatch)\n"
    "  --rtol R --atol A      tolerances of --expected (1e-3, 1e-7)\n"
    "  --bench N              time N runs, print median and min latency\n"
    "  --warmup N             untimed runs before --bench (3)\n"
    "  --threads T            threads (default: all cores)\n"
    "  --peak-memory          print the process's peak resident memory\n"
    "exit status: 0 ok, 3 outputs differ from --expected, 1 other errors\n";

int main(int argc, char **argv) {
  // LLVM's command-line registry already owns names like --threads, so
  // kiln-run parses its few flags itself.
  std::string modelPath, outputDir, expectedDir;
  std::vector<std::string> positional, named, shapes;
  bool randomInputs = false, peakMemory = false;
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
  std::vector<const kiln_tensor_info *> inputInfos = model.inputs();
  std::vector<const kiln_tensor_info *> outputInfos = model.outputs();

  // Inputs: positional files, then NAME=FILE, then random for the rest.
  std::vector<HostTensor> inputs(inputInfos.size());
  std::vector<bool> given(inputInfos.size(), false);
  if (positional.size() > inputInfos.size())
    return fail(llvm::Twine(positional.size()) +
                " input files for a model "
                "with " +
                llvm::Twine(inputInfos.size()) + " inputs");
  auto load = [&](size_t i, llvm::StringRef file) -> bool {
    llvm::Expected<HostTensor> t = readTensorFile(file);
    if (!t) {
      fail(llvm::toString(t.takeError()));
      return false;
    }
    inputs[i] = std::move(*t);
    retagBFloat16(inputs[i], inputInfos[i]->dtype);
    given[i] = true;
    return true;
  };
  for (size_t i = 0; i < positional.size(); ++i)
    if (!load(i, positional[i]))
      return 1;
  for (const std::string &spec : named) {
    llvm::StringRef name, file;
    std::tie(name, file) = llvm::StringRef(spec).split('=');
    auto it = std::find_if(inputInfos.begin(), inputInfos.end(),
                           [&](auto *info) { return name == info->name; });
    if (file.empty() || it == inputInfos.end())
      return fail("--input " + spec +
                  " names no input of the model (NAME=FILE)");
    if (!load(it - inputInfos.begin(), file))
      return 1;
  }
  std::mt19937_64 rng(seed);
  for (size_t i = 0; i < inputInfos.size(); ++i) {
    if (given[i])
      continue;
    if (!randomInputs)
      return fail(llvm::Twine("no data for input '") + inputInfos[i]->name +
                  "'; give a file or --random-inputs");
    std::vector<int64_t> fixed;
    for (const std::string &spec : shapes) {
      auto [name, dims] = llvm::StringRef(spec).rsplit(':');
      if (name != inputInfos[i]->name)
        continue;
      llvm::SmallVector<llvm::StringRef> parts;
      dims.split(parts, 'x');
      for (llvm::StringRef p : parts) {
        int64_t v;
        if (p.getAsInteger(10, v) || v < 0)
          return fail("--shape " + spec + ": bad dim '" + p + "'");
        fixed.push_back(v);
      }
    }
    std::vector<int64_t> shape = randomShape(*inputInfos[i], fixed);
    if (llvm::Error e = checkRandomInputSize(*inputInfos[i], shape))
      return fail(llvm::toString(std::move(e)));
    inputs[i] = randomTensor(*inputInfos[i], std::move(shape), rng);
  }

  llvm::Expected<std::vector<HostTensor>> outputs = model.run(inputs);
  if (!outputs)
    return fail(llvm::toString(outputs.takeError()));

  if (!outputDir.empty()) {
    llvm::sys::fs::create_directories(outputDir);
    for (size_t i = 0; i < outputs->size(); ++i) {
      llvm::SmallString<256> path(outputDir);
      llvm::sys::path::append(path, safeName(outputInfos[i]->name) + ".npy");
      if (llvm::Error e = writeNpy(path, (*outputs)[i]))
        return fail(llvm::toString(std::move(e)));
    }
  }

  int status = 0;
  for (size_t i = 0; i < outputs->size(); ++i) {
    const HostTensor &out = (*outputs)[i];
    llvm::outs() << "output '" << outputInfos[i]->name
                 << "': " << out.describe();
    if (!expectedDir.empty()) {
      llvm::SmallString<256> pb(expectedDir), npy(expectedDir);
      llvm::sys::path::append(pb, "output_" + std::to_string(i) + ".pb");
      llvm::sys::path::append(npy, safeName(outputInfos[i]->name) + ".npy");
      llvm::StringRef file = llvm::sys::fs::exists(npy) ? npy.str() : pb.str();
      llvm::Expected<HostTensor> expected = readTensorFile(file);
      if (!expected) {
        llvm::outs() << "\n";
        return fail(llvm::toString(expected.takeError()));
      }
      retagBFloat16(*expected, out.dtype);
      Comparison c = compareTensors(out, *expected, rtol, atol);
      if (c.matches) {
        llvm::outs() << " matches (max abs error " << c.maxAbsError << ")";
      } else {
        llvm::outs() << " MISMATCH: " << c.message;
        status = 3;
      }
    }
    llvm::outs() << "\n";
  }
  // An expected output the model does not produce is a mismatch too: the
  // counts must agree.
  if (!expectedDir.empty()) {
    std::vector<std::string> extra;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(expectedDir, ec), end;
         it != end && !ec; it.increment(ec)) {
      llvm::StringRef name = llvm::sys::path::filename(it->path());
      bool produced = false;
      if (name.starts_with("output_") && name.ends_with(".pb")) {
        unsigned index;
        produced = !name.drop_front(7).drop_back(3).getAsInteger(10, index) &&
                   index < outputs->size();
      } else if (name.ends_with(".npy")) {
        for (const kiln_tensor_info *info : outputInfos)
          produced |= safeName(info->name) + ".npy" == name;
      } else {
        continue;
      }
      if (!produced)
        extra.push_back(name.str());
    }
    std::sort(extra.begin(), extra.end());
    for (const std::string &name : extra) {
      llvm::outs() << "expected output '" << name
                   << "' MISMATCH: the model has no such output ("
                   << outputs->size() << " outputs)\n";
      status = 3;
    }
  }

  if (bench > 0) {
    // The timed runs leave the outputs where the model wrote them, as an
    // application would read them; copying each into a fresh vector is the
    // runner's cost, not the model's.
    for (unsigned i = 0; i < warmup; ++i)
      if (llvm::Error error = model.runDiscardingOutputs(inputs))
        return fail("a warm-up run failed: " +
                    llvm::toString(std::move(error)));
    std::vector<double> times;
    for (unsigned i = 0; i < bench; ++i) {
      auto start = std::chrono::steady_clock::now();
      llvm::Error error = model.runDiscardingOutputs(inputs);
      auto end = std::chrono::steady_clock::now();
      if (error)
        return fail(llvm::toString(std::move(error)));
      times.push_back(
          std::chrono::duration<double, std::milli>(end - start).count());
    }
    std::sort(times.begin(), times.end());
    llvm::outs() << llvm::format("bench: %u runs, median %.3f ms, min %.3f ms",
                                 static_cast<unsigned>(bench),
                                 times[times.size() / 2], times.front())
                 << "\n";
  }
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
