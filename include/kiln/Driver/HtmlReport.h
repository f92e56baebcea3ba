//===- HtmlReport.h - the compile report as a page for people ----*- C++
//-*-===//
//
// `kiln-compile --report=FILE.html`: one self-contained page with the model
// graph before and after the graph optimizations (drawn by Graphviz's `dot`
// as inline SVG, fused groups outlined, int8 ops marked), a table of every
// ONNX node (what it became, its precision, FLOPs and bytes, and with
// --profile its kernel's measured share of the run), and the JSON report's
// pass-by-pass changes.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DRIVER_HTMLREPORT_H
#define KILN_DRIVER_HTMLREPORT_H

#include "kiln/Support/Diagnostics.h"

#include "mlir/IR/BuiltinOps.h"
#include "llvm/Support/JSON.h"

#include <optional>
#include <string>
#include <vector>

namespace kiln {

/// One op of the model function as the report draws it.
struct ReportOp {
  std::string label;           ///< reportLabel: "kiln.conv+bias+relu"
  std::vector<OnnxNode> nodes; ///< its ONNX nodes, its own first
  std::string precision;       ///< "fp32", "int8", "int4", "f16"...
  /// kiln-prune-channels: channels, neurons or heads removed, of how many
  /// (0, 0: none), and which of them.
  int64_t prunedChannels = 0, channelsBefore = 0;
  std::string prunedKind;
  /// Estimates; dynamic dims count as 1 (`dynamic`).
  std::optional<double> flops, bytes;
  bool dynamic = false;
  /// Producers among the ops (index) or graph inputs (-1 - input index).
  std::vector<int> operands;
  /// Graph outputs (by index) it produces.
  std::vector<int> outputs;
};

/// The ops of the model function (constants left out) and its inputs and
/// outputs.
struct ReportGraph {
  std::vector<std::string> inputs, outputs;
  std::vector<ReportOp> ops;
};

/// Snapshots the function `function` of `module` (kiln dialect).
ReportGraph captureReportGraph(mlir::ModuleOp module, llvm::StringRef function);

/// A kernel as `kiln-run --profile` measured it.
struct ReportKernel {
  std::string name;
  std::vector<std::string> nodes;
  double ms = 0;
};

/// What --profile measured when the compiler ran the model.
struct ReportProfile {
  unsigned runs = 0;
  double meanMs = 0;
  std::string inputs; ///< how the inputs were made ("random, ...")
  std::vector<ReportKernel> kernels;
};

/// The page for `report` (the JSON report), the graphs before and after
/// the graph passes, and `profile` when measured. Graphviz's `dot` draws
/// the graphs; without it the page says so and keeps the tables, and
/// `warning` is set.
std::string renderHtmlReport(const llvm::json::Value &report,
                             const ReportGraph &before,
                             const ReportGraph &after,
                             const ReportProfile *profile,
                             std::string &warning);

/// The JSON form of a profile, for the report's "profile" field.
llvm::json::Value profileToJSON(const ReportProfile &profile);

} // namespace kiln

#endif // KILN_DRIVER_HTMLREPORT_H
