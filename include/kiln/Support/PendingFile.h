//===- PendingFile.h - output files that appear only when complete -*- C++ -*-//

#ifndef KILN_SUPPORT_PENDINGFILE_H
#define KILN_SUPPORT_PENDINGFILE_H

#include "mlir/Support/LLVM.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace kiln {

/// A file written under a temporary name next to `path` and renamed into
/// place by commit(); removed when destroyed uncommitted, so a failed compile
/// leaves no half-written output.
class PendingFile {
public:
  explicit PendingFile(llvm::StringRef path)
      : path(path.str()),
        temp((path + ".kiln-tmp-" +
              std::to_string(llvm::sys::Process::getProcessId()))
                 .str()) {}
  PendingFile(const PendingFile &) = delete;
  PendingFile &operator=(const PendingFile &) = delete;
  ~PendingFile() {
    if (!committed)
      llvm::sys::fs::remove(temp);
  }
  llvm::StringRef tempPath() const { return temp; }
  mlir::LogicalResult commit(std::string &error) {
    if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
      error = "cannot write '" + path + "': " + ec.message();
      return mlir::failure();
    }
    committed = true;
    return mlir::success();
  }

private:
  std::string path, temp;
  bool committed = false;
};

/// Writes a text file through `write` ("-" is stdout); a file that cannot
/// be written completely is removed. Fails with `error` set.
mlir::LogicalResult
writeTextFile(llvm::StringRef path,
              llvm::function_ref<void(llvm::raw_ostream &)> write,
              std::string &error);

} // namespace kiln

#endif // KILN_SUPPORT_PENDINGFILE_H
