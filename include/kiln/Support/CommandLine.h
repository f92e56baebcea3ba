//===- CommandLine.h - what the tools' --help lists -------------*- C++ -*-===//

#ifndef KILN_SUPPORT_COMMANDLINE_H
#define KILN_SUPPORT_COMMANDLINE_H

#include "llvm/Support/CommandLine.h"

namespace kiln {

/// Hides from --help every registered option outside `category` but MLIR's
/// (`--mlir-*`) and --help/--version: the LLVM code generation options
/// linked into a tool stay accepted and --help-hidden lists them. Call it
/// after registering the options, before parsing.
void hideForeignOptions(llvm::cl::OptionCategory &category);

} // namespace kiln

#endif // KILN_SUPPORT_COMMANDLINE_H
