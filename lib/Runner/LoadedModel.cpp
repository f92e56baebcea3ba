//===- LoadedModel.cpp - run a compiled model through its C ABI -----------===//

#include "kiln/Runner/Runner.h"

#include <dlfcn.h>

using namespace kiln;

static llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

llvm::Expected<LoadedModel> LoadedModel::load(llvm::StringRef path) {
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
  if (missing)
    return makeError("'" + path +
                     "' is not a model compiled by kiln-compile (it lacks "
                     "the kiln_model_* functions)");
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

llvm::Expected<std::vector<HostTensor>>
LoadedModel::run(const std::vector<HostTensor> &inputs) const {
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
  std::vector<HostTensor> results(out.size());
  for (size_t i = 0; i < out.size(); ++i) {
    if (!out[i].data)
      continue;
    results[i].dtype = out[i].dtype;
    results[i].shape = outShapes[i];
    const char *bytes = static_cast<const char *>(out[i].data);
    results[i].data.assign(bytes, bytes + out[i].size_bytes);
    freeFn(out[i].data);
  }
  if (status != KILN_OK)
    return makeError(lastError());
  return results;
}
