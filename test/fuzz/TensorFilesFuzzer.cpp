//===- TensorFilesFuzzer.cpp - libFuzzer target: .npy and .pb readers -----===//
//
// Feeds arbitrary bytes to the tensor readers kiln-run uses for its inputs
// and expected outputs (.npy, TensorProto, SequenceProto, OptionalProto).
// Every reader must return tensors whose data matches their shapes, or an
// error; never crash, hang or trip a sanitizer.
// Built with -DKILN_BUILD_FUZZERS=ON; scripts/fuzz.sh runs it.
//
//===----------------------------------------------------------------------===//

#include "kiln/Runner/Runner.h"

#include <cstdint>
#include <cstdlib>

static void check(llvm::Expected<kiln::HostTensor> tensor) {
  if (!tensor) {
    llvm::consumeError(tensor.takeError());
    return;
  }
  size_t width = kiln::dtypeSize(tensor->dtype);
  if (width == 0 ||
      tensor->data.size() != static_cast<size_t>(tensor->numElements()) * width)
    std::abort();
  (void)tensor->describe();
  if (tensor->numElements() > 0)
    (void)tensor->elementAsDouble(tensor->numElements() - 1);
}

/// The same for every tensor of a sequence or optional.
static void check(llvm::Expected<kiln::HostValue> value) {
  if (!value) {
    llvm::consumeError(value.takeError());
    return;
  }
  if (value->kind == kiln::ValueKind::Optional && !value->present)
    return;
  if (value->holdsSequence()) {
    for (kiln::HostTensor &element : value->elements)
      check(llvm::Expected<kiln::HostTensor>(std::move(element)));
  } else {
    check(llvm::Expected<kiln::HostTensor>(std::move(value->tensor)));
  }
  (void)value->describe();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef bytes(reinterpret_cast<const char *>(data), size);
  check(kiln::parseNpy(bytes, "input.npy"));
  check(kiln::parseTensorProto(bytes, "input.pb"));
  check(kiln::parseSequenceProto(bytes, "input.pb"));
  check(kiln::parseOptionalProto(bytes, "input.pb"));
  return 0;
}
