//===- ProgressBar.h - a progress bar on a terminal -------------*- C++ -*-===//
//
// Calibration runs and benchmarks draw one line on stderr,
// "LABEL [=========>          ] 12/40", redrawn in place, and clear it when
// done. Only when stderr is a terminal: logs and pipes stay clean.
// KILN_PROGRESS=always or never overrides the check (tests use always).
// Uses LLVM's Support library only (kiln-run links no MLIR).
//
//===----------------------------------------------------------------------===//

#ifndef KILN_SUPPORT_PROGRESSBAR_H
#define KILN_SUPPORT_PROGRESSBAR_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdlib>
#include <string>

namespace kiln {

class ProgressBar {
public:
  ProgressBar(llvm::StringRef label, unsigned total)
      : label(label.str()), total(total), enabled(shown()) {}
  ProgressBar(const ProgressBar &) = delete;
  ProgressBar &operator=(const ProgressBar &) = delete;
  ~ProgressBar() { finish(); }

  /// Whether bars are drawn: stderr is a terminal, or KILN_PROGRESS says.
  static bool shown() {
    if (const char *mode = std::getenv("KILN_PROGRESS")) {
      llvm::StringRef m(mode);
      if (m == "always")
        return true;
      if (m == "never")
        return false;
    }
    return llvm::sys::Process::StandardErrIsDisplayed();
  }

  /// `done` of the total are complete; redrawn at most every 100 ms, and
  /// always at the end.
  void update(unsigned done) {
    if (!enabled || total == 0)
      return;
    auto now = std::chrono::steady_clock::now();
    if (drawn && done < total && now - last < std::chrono::milliseconds(100))
      return;
    last = now;
    drawn = true;
    constexpr unsigned kWidth = 30;
    unsigned filled =
        static_cast<unsigned>(uint64_t(kWidth) * std::min(done, total) / total);
    std::string bar(filled, '=');
    if (filled < kWidth)
      bar += '>';
    bar.resize(kWidth, ' ');
    llvm::errs() << "\r" << label << " [" << bar << "] " << done << "/"
                 << total;
    llvm::errs().flush();
  }

  /// Clears the line (once).
  void finish() {
    if (enabled && drawn)
      llvm::errs() << "\r\x1b[K";
    drawn = false;
    enabled = false;
  }

private:
  std::string label;
  unsigned total;
  bool enabled;
  bool drawn = false;
  std::chrono::steady_clock::time_point last;
};

} // namespace kiln

#endif // KILN_SUPPORT_PROGRESSBAR_H
