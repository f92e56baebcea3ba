//===- ONNXImportFuzzer.cpp - libFuzzer target: the ONNX importer ---------===//
//
// Feeds arbitrary bytes to the ONNX importer as a binary model (.onnx) or,
// built with KILN_FUZZ_TEXT, as ONNX text format (.onnxtxt). The importer
// must return a verified kiln-dialect module or report an error; never
// crash, hang, throw, trip a sanitizer or run out of memory. Built with
// -DKILN_BUILD_FUZZERS=ON; scripts/fuzz.sh runs it.
//
//===----------------------------------------------------------------------===//

#include "kiln/Frontend/ONNX/Importer.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <cstdio>
#include <string>
#include <unistd.h>

#ifdef KILN_FUZZ_TEXT
static constexpr const char *kExtension = ".onnxtxt";
#else
static constexpr const char *kExtension = ".onnx";
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static mlir::MLIRContext *context = [] {
    auto *c = new mlir::MLIRContext(mlir::MLIRContext::Threading::DISABLED);
    kiln::loadONNXImportDialects(*c);
    return c;
  }();
  // The importer reads a file; one per process, in memory-backed /dev/shm
  // when there is one.
  static const std::string path = [] {
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    return std::string(dir) + "/kiln-fuzz-" + std::to_string(getpid()) +
           kExtension;
  }();
  FILE *file = std::fopen(path.c_str(), "wb");
  if (!file)
    return 0;
  std::fwrite(data, 1, size, file);
  std::fclose(file);
  // Errors are expected; they must only be reported.
  mlir::ScopedDiagnosticHandler quiet(
      context, [](mlir::Diagnostic &) { return mlir::success(); });
  mlir::OwningOpRef<mlir::ModuleOp> module =
      kiln::importONNXFile(*context, path);
  return 0;
}
