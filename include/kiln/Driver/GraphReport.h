//===- GraphReport.h - what each graph pass changed, by ONNX node -*- C++
//-*-===//
//
// `kiln-compile --report=FILE.json`: a pass instrumentation that snapshots
// the ops of the model function before and after every pass and records,
// per pass, the ops created and removed (by op, with a contraction's fused
// epilogue in its label, e.g. "kiln.conv+residual+relu"), the ONNX nodes
// that were fused into one op and the nodes whose ops all disappeared. The
// ONNX node of an op comes from its location (`fused<"onnx.Op">["name"]`,
// which the importer sets and every fusion combines), so passes need no
// bookkeeping of their own.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DRIVER_GRAPHREPORT_H
#define KILN_DRIVER_GRAPHREPORT_H

#include "mlir/IR/Location.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "llvm/Support/JSON.h"

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace kiln {

/// The ONNX node names in `loc` (every one of a fused location), sorted and
/// without duplicates.
std::vector<std::string> onnxNodeNames(mlir::Location loc);

/// The label an op is counted under in the report: its name, plus its
/// contraction epilogue ("+bias", "+residual", "+<activation>").
std::string reportLabel(mlir::Operation *op);

class GraphReport : public mlir::PassInstrumentation {
public:
  void runBeforePass(mlir::Pass *pass, mlir::Operation *op) override;
  void runAfterPass(mlir::Pass *pass, mlir::Operation *op) override;

  /// Marks the start of a pipeline stage ("graph", "linalg"); later entries
  /// carry it. In "codegen" only the kernel choices are recorded (the
  /// top-level `sparsity` field), not per-pass entries.
  void setStage(llvm::StringRef name) { stage = name.str(); }

  /// Adds a top-level field (model, opt level, totals...).
  void set(llvm::StringRef key, llvm::json::Value value) {
    header[key] = std::move(value);
  }

  /// The whole report.
  llvm::json::Value toJSON() const;

private:
  /// label -> count, and (label, node set) -> count.
  struct Snapshot {
    std::map<std::string, int64_t> labels;
    std::map<std::pair<std::string, std::vector<std::string>>, int64_t> ops;
    int64_t total = 0;
  };
  static Snapshot take(mlir::Operation *root);

  /// Codegen stage: the kernel choices of `kiln-cpu-select-kernels` for
  /// products whose constant weights have notable zeros.
  void recordSparsity(mlir::Operation *root);
  std::vector<llvm::json::Object> sparsity;

  std::mutex mutex;
  std::map<std::pair<mlir::Pass *, mlir::Operation *>, Snapshot> pending;
  std::vector<llvm::json::Object> entries;
  llvm::json::Object header;
  std::string stage;
};

} // namespace kiln

#endif // KILN_DRIVER_GRAPHREPORT_H
