//===- Calibration.h - activation ranges for static int8 quantization -*- C++
//-*-===//

#ifndef KILN_LIB_DRIVER_CALIBRATION_H
#define KILN_LIB_DRIVER_CALIBRATION_H

#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <string>

namespace kiln {

struct CalibrationOptions {
  /// The input sets: NAME.npy / input_I.pb files in this directory, or in
  /// each of its subdirectories (one set each).
  std::string dataDir;
  /// "minmax", "percentile" (99.99 % of |x|) or "entropy" (KL threshold).
  std::string method = "minmax";
  /// The products considered (kiln-quantize-int8's option).
  int64_t minWeightElements = 4096;
  /// Compiles a module into a shared library at the given path.
  std::function<mlir::LogicalResult(mlir::ModuleOp, llvm::StringRef)> compile;
};

/// One product's calibrated activation range.
struct CalibratedRange {
  mlir::Operation *op;
  double lo, hi;
};

/// Measures the activation range of every product kiln-quantize-int8 would
/// quantize in `module` (after the graph optimizations) on the calibration
/// inputs, and sets it on the product as `kiln.calibration`; `ranges` lists
/// them. Errors (no data, an input missing, a run failing) go to `loc`.
mlir::LogicalResult calibrate(mlir::ModuleOp module,
                              const CalibrationOptions &options,
                              mlir::Location loc,
                              llvm::SmallVectorImpl<CalibratedRange> &ranges);

} // namespace kiln

#endif // KILN_LIB_DRIVER_CALIBRATION_H
