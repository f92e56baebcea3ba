//===- Importer.h - ONNX model to kiln dialect ------------------*- C++ -*-===//
//
// Reads an ONNX model (binary protobuf `.onnx` or ONNX text format `.onnxtxt`)
// and builds a module with one `func.func` of kiln-dialect ops.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_FRONTEND_ONNX_IMPORTER_H
#define KILN_FRONTEND_ONNX_IMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringMap.h"

#include <string>

namespace kiln {

/// Options of the ONNX importer.
struct ONNXImportOptions {
  /// Name of the function the graph becomes.
  std::string functionName = "main_graph";
  /// Shapes that replace those of graph inputs, by input name (fixes dynamic
  /// dims; ShapedType::kDynamic keeps a dim dynamic).
  llvm::StringMap<llvm::SmallVector<int64_t>> inputShapes;
};

/// Imports the ONNX model in `path`. The text format is chosen by the
/// `.onnxtxt` extension or, failing that, by content. Errors are reported
/// through the context's diagnostic engine and give a null result.
mlir::OwningOpRef<mlir::ModuleOp>
importONNXFile(mlir::MLIRContext &context, llvm::StringRef path,
               const ONNXImportOptions &options = {});

/// Parses an `--input-shape` value, "NAME:DIMxDIMx..." (a dim of `?` stays
/// dynamic, "NAME:" is a scalar), into `options`; on failure returns a message.
llvm::LogicalResult parseInputShape(llvm::StringRef spec,
                                    ONNXImportOptions &options,
                                    std::string &message);

/// Registers the dialects the importer produces with `context`.
void loadONNXImportDialects(mlir::MLIRContext &context);

} // namespace kiln

#endif // KILN_FRONTEND_ONNX_IMPORTER_H
