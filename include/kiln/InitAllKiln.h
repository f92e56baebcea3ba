//===- InitAllKiln.h - register Kiln's dialects and passes ------*- C++ -*-===//

#ifndef KILN_INITALLKILN_H
#define KILN_INITALLKILN_H

#include "mlir/IR/DialectRegistry.h"

namespace kiln {

/// Adds the kiln dialect and every upstream dialect Kiln lowers through.
void registerAllDialects(mlir::DialectRegistry &registry);

/// Registers every kiln pass and pipeline with the global pass registry, and
/// the upstream passes Kiln's pipelines use.
void registerAllPasses();

/// Registers every code generation target (kiln::lookupTarget): cpu.
void registerAllTargets();

} // namespace kiln

#endif // KILN_INITALLKILN_H
