//===- Diagnostics.h - one-line diagnostics for Kiln's tools ----*- C++ -*-===//

#ifndef KILN_SUPPORT_DIAGNOSTICS_H
#define KILN_SUPPORT_DIAGNOSTICS_H

#include "mlir/IR/Diagnostics.h"

#include <string>
#include <vector>

namespace kiln {

/// Describes `loc` for a user: "node 'conv1' (Conv)" for an imported ONNX
/// node, "'name'" for a named value, "file:line:col" for a file position, or
/// "" when the location says nothing useful.
std::string describeLocation(mlir::Location loc);

/// An imported ONNX node: its name and op type ("Conv").
struct OnnxNode {
  std::string name, type;
  bool operator==(const OnnxNode &other) const {
    return name == other.name && type == other.type;
  }
};

/// The ONNX nodes of `loc`, every one of a fused location, in the order
/// the fusions combined them (the first is the op's own node, for an op
/// that took others in), without duplicates.
std::vector<OnnxNode> onnxNodes(mlir::Location loc);

/// Prints every diagnostic of a context as one line on stderr,
/// "PROGRAM: error: WHERE: MESSAGE", followed by its notes.
class DiagnosticPrinter : public mlir::ScopedDiagnosticHandler {
public:
  DiagnosticPrinter(mlir::MLIRContext *context, llvm::StringRef program);
  /// The same lines into `os` (the Python package collects them for its
  /// exceptions).
  DiagnosticPrinter(mlir::MLIRContext *context, llvm::StringRef program,
                    llvm::raw_ostream &os);

  /// Whether an error was printed.
  bool hadError() const { return sawError; }

private:
  std::string program;
  bool sawError = false;
};

} // namespace kiln

#endif // KILN_SUPPORT_DIAGNOSTICS_H
