//===- LoadedModel.cpp - run a compiled model through its C ABI -----------===//

#include "kiln/Runner/Runner.h"

#include "llvm/Support/MemoryBuffer.h"

#include <cstring>
#include <dlfcn.h>
#include <elf.h>

using namespace kiln;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Checks that `path` is a complete 64-bit ELF shared object before dlopen
/// maps it: a truncated file would map pages past its end and fault (SIGBUS)
/// when the loader touches them.
static llvm::Error checkSharedObject(llvm::StringRef path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return makeError("cannot read '" + path +
                     "': " + buffer.getError().message());
  llvm::StringRef data = (*buffer)->getBuffer();
  Elf64_Ehdr header;
  if (data.size() < sizeof header ||
      !data.starts_with(llvm::StringRef(ELFMAG, SELFMAG)))
    return makeError("'" + path + "' is not a shared library (no ELF header)");
  std::memcpy(&header, data.data(), sizeof header);
  if (header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_type != ET_DYN ||
      header.e_machine != EM_X86_64)
    return makeError("'" + path +
                     "' is not an x86-64 shared library (another ELF kind)");
  auto beyond = [&](uint64_t offset, uint64_t size) {
    return offset > data.size() || size > data.size() - offset;
  };
  uint64_t headers = uint64_t(header.e_phnum) * header.e_phentsize;
  uint64_t sections = uint64_t(header.e_shnum) * header.e_shentsize;
  if (header.e_phentsize != sizeof(Elf64_Phdr) ||
      beyond(header.e_phoff, headers) || beyond(header.e_shoff, sections))
    return makeError("'" + path + "' is truncated or corrupt (its ELF " +
                     "headers point past its " + llvm::Twine(data.size()) +
                     " bytes)");
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr segment;
    std::memcpy(&segment, data.data() + header.e_phoff + i * sizeof segment,
                sizeof segment);
    if (segment.p_type == PT_LOAD && beyond(segment.p_offset, segment.p_filesz))
      return makeError("'" + path + "' is truncated (a segment ends at byte " +
                       llvm::Twine(segment.p_offset + segment.p_filesz) +
                       " of " + llvm::Twine(data.size()) + ")");
  }
  return llvm::Error::success();
}

llvm::Expected<LoadedModel> LoadedModel::load(llvm::StringRef path) {
  if (llvm::Error e = checkSharedObject(path))
    return std::move(e);
  std::string file = path.str();
  if (file.find('/') == std::string::npos)
    file = "./" + file; // dlopen searches the library path otherwise
  void *handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return makeError("cannot load '" + path + "': " + dlerror());
  LoadedModel model;
  model.handle = handle;
  bool missing = false;
  auto bind = [&](auto &fn, const char *name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
        dlsym(handle, name));
    missing |= fn == nullptr;
  };
  bind(model.numInputs, "kiln_model_num_inputs");
  bind(model.numOutputs, "kiln_model_num_outputs");
  bind(model.input, "kiln_model_input");
  bind(model.output, "kiln_model_output");
  bind(model.runFn, "kiln_model_run");
  bind(model.lastError, "kiln_model_last_error");
  bind(model.setThreads, "kiln_model_set_num_threads");
  bind(model.freeFn, "kiln_free");
  // Optional: models from before profiling existed lack these.
  auto optional = [&](auto &fn, const char *name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
        dlsym(handle, name));
  };
  optional(model.profileNumKernels, "kiln_model_profile_num_kernels");
  optional(model.profileKernel, "kiln_model_profile_kernel");
  optional(model.profileEnable, "kiln_model_profile_enable");
  optional(model.profileEventsFn, "kiln_model_profile_events");
  if (missing)
    return makeError("'" + path +
                     "' is not a model compiled by kiln-compile (it lacks "
                     "the kiln_model_* functions)");
  auto version = reinterpret_cast<int32_t (*)(void)>(
      dlsym(handle, "kiln_model_abi_version"));
  if (!version)
    return makeError("'" + path +
                     "' was compiled by an older Kiln (it has no model ABI "
                     "version); compile it again with this kiln-compile");
  if (version() != KILN_MODEL_ABI_VERSION)
    return makeError("'" + path + "' was built for Kiln's model ABI version " +
                     llvm::Twine(version()) + "; this runner reads version " +
                     llvm::Twine(KILN_MODEL_ABI_VERSION) +
                     ": compile it again with this kiln-compile");
  return model;
}

LoadedModel::LoadedModel(LoadedModel &&other) { *this = std::move(other); }

LoadedModel &LoadedModel::operator=(LoadedModel &&other) {
  std::swap(handle, other.handle);
  numInputs = other.numInputs;
  numOutputs = other.numOutputs;
  input = other.input;
  output = other.output;
  runFn = other.runFn;
  lastError = other.lastError;
  setThreads = other.setThreads;
  freeFn = other.freeFn;
  profileNumKernels = other.profileNumKernels;
  profileKernel = other.profileKernel;
  profileEnable = other.profileEnable;
  profileEventsFn = other.profileEventsFn;
  return *this;
}

LoadedModel::~LoadedModel() {
  if (handle)
    dlclose(handle);
}

std::vector<const kiln_tensor_info *> LoadedModel::inputs() const {
  std::vector<const kiln_tensor_info *> result;
  for (int32_t i = 0, e = numInputs(); i < e; ++i)
    result.push_back(input(i));
  return result;
}

std::vector<const kiln_tensor_info *> LoadedModel::outputs() const {
  std::vector<const kiln_tensor_info *> result;
  for (int32_t i = 0, e = numOutputs(); i < e; ++i)
    result.push_back(output(i));
  return result;
}

void LoadedModel::setNumThreads(int threads) const { setThreads(threads); }

std::vector<std::string> LoadedModel::profileKernels() const {
  std::vector<std::string> names;
  if (!profileNumKernels || !profileKernel)
    return names;
  for (int32_t i = 0, e = profileNumKernels(); i < e; ++i) {
    const char *name = profileKernel(i);
    names.push_back(name ? name : "");
  }
  return names;
}

void LoadedModel::setProfiling(bool on) const {
  if (profileEnable)
    profileEnable(on ? 1 : 0);
}

std::vector<kiln_profile_event> LoadedModel::profileEvents() const {
  if (!profileEventsFn)
    return {};
  const kiln_profile_event *events = nullptr;
  int32_t count = profileEventsFn(&events);
  if (!events || count <= 0)
    return {};
  return {events, events + count};
}

kiln_status
LoadedModel::runWith(const std::vector<HostTensor> &inputs,
                     llvm::function_ref<void(size_t, const kiln_tensor &,
                                             const std::vector<int64_t> &)>
                         take) const {
  std::vector<kiln_tensor> in(inputs.size());
  std::vector<std::vector<int64_t>> inShapes(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    inShapes[i] = inputs[i].shape;
    in[i].data = const_cast<char *>(inputs[i].data.data());
    in[i].dtype = inputs[i].dtype;
    in[i].rank = static_cast<int32_t>(inputs[i].shape.size());
    in[i].shape = inShapes[i].data();
    in[i].size_bytes = inputs[i].data.size();
  }
  std::vector<const kiln_tensor_info *> infos = outputs();
  std::vector<kiln_tensor> out(infos.size());
  std::vector<std::vector<int64_t>> outShapes(infos.size());
  for (size_t i = 0; i < infos.size(); ++i) {
    outShapes[i].resize(infos[i]->rank);
    out[i] = {nullptr, infos[i]->dtype, infos[i]->rank, outShapes[i].data(), 0};
  }
  kiln_status status = runFn(in.data(), static_cast<int32_t>(in.size()),
                             out.data(), static_cast<int32_t>(out.size()));
  for (size_t i = 0; i < out.size(); ++i) {
    if (!out[i].data)
      continue;
    take(i, out[i], outShapes[i]);
    freeFn(out[i].data);
  }
  return status;
}

llvm::Expected<std::vector<HostTensor>>
LoadedModel::run(const std::vector<HostTensor> &inputs) const {
  std::vector<HostTensor> results(outputs().size());
  kiln_status status = runWith(inputs, [&](size_t i, const kiln_tensor &tensor,
                                           const std::vector<int64_t> &shape) {
    results[i].dtype = tensor.dtype;
    results[i].shape = shape;
    const char *bytes = static_cast<const char *>(tensor.data);
    results[i].data.assign(bytes, bytes + tensor.size_bytes);
  });
  if (status != KILN_OK)
    return makeError(lastError());
  return results;
}

llvm::Error
LoadedModel::runDiscardingOutputs(const std::vector<HostTensor> &inputs) const {
  if (runWith(inputs, [](size_t, const kiln_tensor &,
                         const std::vector<int64_t> &) {}) != KILN_OK)
    return makeError(lastError());
  return llvm::Error::success();
}

llvm::Error LoadedModel::runTensors(const kiln_tensor *inputs,
                                    int32_t numInputs, kiln_tensor *outputs,
                                    int32_t numOutputs) const {
  if (runFn(inputs, numInputs, outputs, numOutputs) != KILN_OK)
    return makeError(lastError());
  return llvm::Error::success();
}
