//===- Calibration.h - activation ranges for static int8 quantization -*- C++
//-*-===//

#ifndef KILN_LIB_DRIVER_CALIBRATION_H
#define KILN_LIB_DRIVER_CALIBRATION_H

#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace kiln {

struct CalibrationOptions {
  /// The model's function (the importer's).
  std::string functionName = "main_graph";
  /// The input sets: NAME.npy / input_I.pb files in this directory, or in
  /// each of its subdirectories (one set each).
  std::string dataDir;
  /// "minmax", "percentile" (99.99 % of |x|) or "entropy" (KL threshold).
  std::string method = "minmax";
  /// The products considered (kiln-quantize-int8's option).
  int64_t minWeightElements = 4096;
  /// Whether convolutions are quantized too (kiln-quantize-int8's option).
  bool convolutions = true;
  /// The largest int8 weight magnitude (the target's), for weight errors.
  int64_t weightRange = 127;
  /// Compiles a module into a shared library at the given path.
  std::function<mlir::LogicalResult(mlir::ModuleOp, llvm::StringRef)> compile;
  /// With a budget (--quantize-budget, in dB): compiles a module whose
  /// products carry their ranges, quantized, into a library at the path.
  std::optional<double> budgetDb;
  std::function<mlir::LogicalResult(mlir::ModuleOp, llvm::StringRef)>
      compileQuantized;
};

/// One product's calibrated activation range, the quantization errors
/// measured for it, and whether it stays in float.
struct CalibratedRange {
  mlir::Operation *op;
  double lo, hi;
  /// Signal-to-quantization-noise ratios (dB) of its activation (on the
  /// calibration data, with this range) and of its weight (per channel).
  double activationSqnr = 0, weightSqnr = 0;
  bool keptFloat = false;
  /// Why it stays in float, or is int8.
  std::string reason;
};

/// What calibration decided.
struct CalibrationResult {
  llvm::SmallVector<CalibratedRange> layers;
  /// With a budget: the quantized model's output SQNR against the float
  /// model's on the calibration data, as finally compiled.
  std::optional<double> outputSqnr;
};

/// Measures the activation range of every product kiln-quantize-int8 would
/// quantize in `module` (after the graph optimizations) on the calibration
/// inputs, and sets it on the product as `kiln.calibration`. With a budget,
/// the products whose quantization errs most stay in float (no range) until
/// the quantized model's output SQNR meets it. Errors (no data, an input
/// missing, a run failing) go to `loc`.
mlir::LogicalResult calibrate(mlir::ModuleOp module,
                              const CalibrationOptions &options,
                              mlir::Location loc, CalibrationResult &result);

/// What weight calibration measured.
struct WeightCalibrationResult {
  /// Products given a second moment, distinct activations measured, the
  /// most rows any of them had, and the input sets run.
  unsigned products = 0, activations = 0;
  int64_t rows = 0;
  size_t inputSets = 0;
  /// Activations with fewer rows than their weights' depth K (their
  /// weights round to nearest).
  unsigned tooFewRows = 0;
};

/// For --quantize=int8-weight|int4-weight with calibration data: measures
/// the second moment H = mean x^T x of the activation rows of every product
/// kiln-quantize-weights quantizes in `module` (groups of `group` k), on
/// the calibration inputs, and sets it on the product as `kiln.hessian`,
/// from which the pass's GPTQ chooses the integers.
mlir::LogicalResult calibrateWeights(mlir::ModuleOp module,
                                     const CalibrationOptions &options,
                                     int64_t group, mlir::Location loc,
                                     WeightCalibrationResult &result);

/// Copies the `kiln.hessian` of each weight-only product of `from` onto the
/// same product of `to` (the same graph optimized with --bind-kv-cache,
/// whose bound caches calibration cannot run): the products pair up in
/// order and must have the same weights.
mlir::LogicalResult transferHessians(mlir::ModuleOp from, mlir::ModuleOp to,
                                     const CalibrationOptions &options,
                                     int64_t group, mlir::Location loc);

/// The SQNR (dB) of a candidate model's outputs against a reference model's
/// on the input sets of `options.dataDir`, each module compiled for this
/// machine with `options.compile` (neither module is changed). For
/// --prune with --calibration-data: what pruning costs in output error.
class OutputComparison {
public:
  /// Compiles and runs `reference` on every input set.
  static mlir::FailureOr<OutputComparison>
  create(mlir::ModuleOp reference, const CalibrationOptions &options,
         mlir::Location loc);
  /// Compiles and runs `candidate`; its outputs' SQNR (200 dB: equal).
  mlir::FailureOr<double> sqnr(mlir::ModuleOp candidate);

  OutputComparison(OutputComparison &&);
  ~OutputComparison();

private:
  OutputComparison();
  struct State;
  std::unique_ptr<State> state;
};

} // namespace kiln

#endif // KILN_LIB_DRIVER_CALIBRATION_H
