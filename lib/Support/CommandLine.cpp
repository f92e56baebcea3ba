//===- CommandLine.cpp - what the tools' --help lists ---------------------===//

#include "kiln/Support/CommandLine.h"

#include "llvm/ADT/STLExtras.h"

using namespace llvm;

void kiln::hideForeignOptions(cl::OptionCategory &category) {
  for (auto &[name, option] : cl::getRegisteredOptions())
    if (!is_contained(option->Categories, &category) &&
        !name.starts_with("mlir-") && name != "help" && name != "version")
      option->setHiddenFlag(cl::Hidden);
}
