//===- PendingFile.cpp - output files that appear only when complete ------===//

#include "kiln/Support/PendingFile.h"

#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/ToolOutputFile.h"

mlir::LogicalResult
kiln::writeTextFile(llvm::StringRef path,
                    llvm::function_ref<void(llvm::raw_ostream &)> write,
                    std::string &error) {
  std::unique_ptr<llvm::ToolOutputFile> out =
      mlir::openOutputFile(path, &error);
  if (!out)
    return mlir::failure();
  write(out->os());
  out->os().flush();
  if (out->os().has_error()) {
    out->os().clear_error();
    error = "cannot write '" + path.str() + "'";
    return mlir::failure();
  }
  out->keep();
  return mlir::success();
}
