//===- Diagnostics.cpp - one-line diagnostics for Kiln's tools ------------===//

#include "kiln/Support/Diagnostics.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

std::string kiln::describeLocation(Location loc) {
  if (auto fused = dyn_cast<FusedLoc>(loc)) {
    auto opType = dyn_cast_if_present<StringAttr>(fused.getMetadata());
    if (opType && opType.getValue().starts_with("onnx.") &&
        !fused.getLocations().empty())
      if (auto name = dyn_cast<NameLoc>(fused.getLocations().front()))
        return "node '" + name.getName().str() + "' (" +
               opType.getValue().drop_front(5).str() + ")";
    for (Location inner : fused.getLocations())
      if (std::string d = describeLocation(inner); !d.empty())
        return d;
    return "";
  }
  if (auto name = dyn_cast<NameLoc>(loc))
    return "'" + name.getName().str() + "'";
  if (auto file = dyn_cast<FileLineColLoc>(loc)) {
    if (file.getLine() == 0)
      return "";
    return (file.getFilename().getValue() + ":" + Twine(file.getLine()) + ":" +
            Twine(file.getColumn()))
        .str();
  }
  if (auto callSite = dyn_cast<CallSiteLoc>(loc))
    return describeLocation(callSite.getCallee());
  return "";
}

static void collectOnnxNodes(Location loc, std::vector<kiln::OnnxNode> &nodes) {
  auto fused = dyn_cast<FusedLoc>(loc);
  if (!fused)
    return;
  auto metadata = dyn_cast_if_present<StringAttr>(fused.getMetadata());
  if (metadata && metadata.getValue().starts_with("onnx.")) {
    for (Location inner : fused.getLocations())
      if (auto name = dyn_cast<NameLoc>(inner)) {
        kiln::OnnxNode node{name.getName().str(),
                            metadata.getValue().drop_front(5).str()};
        if (llvm::find(nodes, node) == nodes.end())
          nodes.push_back(std::move(node));
      }
    return;
  }
  for (Location inner : fused.getLocations())
    collectOnnxNodes(inner, nodes);
}

std::vector<kiln::OnnxNode> kiln::onnxNodes(Location loc) {
  std::vector<OnnxNode> nodes;
  collectOnnxNodes(loc, nodes);
  return nodes;
}

static StringRef severityName(DiagnosticSeverity severity) {
  switch (severity) {
  case DiagnosticSeverity::Error:
    return "error";
  case DiagnosticSeverity::Warning:
    return "warning";
  case DiagnosticSeverity::Note:
    return "note";
  case DiagnosticSeverity::Remark:
    return "remark";
  }
  llvm_unreachable("unknown severity");
}

kiln::DiagnosticPrinter::DiagnosticPrinter(MLIRContext *context,
                                           StringRef program)
    : DiagnosticPrinter(context, program, llvm::errs()) {}

kiln::DiagnosticPrinter::DiagnosticPrinter(MLIRContext *context,
                                           StringRef program,
                                           llvm::raw_ostream &os)
    : ScopedDiagnosticHandler(context), program(program.str()) {
  setHandler([this, &os](Diagnostic &diag) {
    if (diag.getSeverity() == DiagnosticSeverity::Error)
      sawError = true;
    auto print = [&](Diagnostic &d) {
      os << this->program << ": " << severityName(d.getSeverity()) << ": ";
      std::string where = describeLocation(d.getLocation());
      std::string message = d.str();
      // Messages that already name their node need no prefix.
      if (!where.empty() && !StringRef(message).starts_with(where))
        os << where << ": ";
      os << message << "\n";
    };
    print(diag);
    for (Diagnostic &note : diag.getNotes()) {
      // The verifier's dump of the op in generic form is noise for users of
      // the tools (kiln-opt keeps MLIR's own printer).
      if (StringRef(note.str()).starts_with("see current operation"))
        continue;
      print(note);
    }
    return success();
  });
}
