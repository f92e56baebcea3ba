//===- kiln-translate.cpp - ONNX to kiln dialect --------------------------===//
//
// kiln-translate --import-onnx MODEL [-o OUT.mlir] [--input-shape=NAME:DIMS]
// prints the kiln-dialect module of an ONNX model (binary or .onnxtxt).
//
//===----------------------------------------------------------------------===//

#include "kiln/Frontend/ONNX/Importer.h"
#include "kiln/InitAllKiln.h"
#include "kiln/Support/CommandLine.h"
#include "kiln/Support/Diagnostics.h"

#include "mlir/Bytecode/BytecodeWriter.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
namespace cl = llvm::cl;

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  // Kiln's options and MLIR's IR printing ones in --help, not LLVM's.
  cl::OptionCategory category("kiln-translate options");
  cl::opt<std::string> input(cl::Positional, cl::desc("<model.onnx|.onnxtxt>"),
                             cl::Required, cl::cat(category));
  cl::opt<std::string> output("o", cl::desc("Output file (default: stdout)"),
                              cl::value_desc("file"), cl::init("-"),
                              cl::cat(category));
  cl::opt<bool> importONNX("import-onnx",
                           cl::desc("Import an ONNX model into the kiln "
                                    "dialect"),
                           cl::Required, cl::cat(category));
  cl::list<std::string> inputShapes(
      "input-shape",
      cl::desc("Fix the shape of a graph input: NAME:DIMxDIM... (? keeps a "
               "dim dynamic)"),
      cl::value_desc("name:dims"), cl::cat(category));
  cl::opt<bool> emitBytecode(
      "emit-bytecode",
      cl::desc("Write MLIR bytecode instead of text (weights are written as "
               "raw bytes, not hex: the fast, compact form for large models)"),
      cl::cat(category));
  registerAsmPrinterCLOptions();
  registerMLIRContextCLOptions();
  kiln::hideForeignOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "Kiln translation driver\n");

  kiln::ONNXImportOptions options;
  for (const std::string &spec : inputShapes) {
    std::string message;
    if (failed(kiln::parseInputShape(spec, options, message))) {
      llvm::errs() << "kiln-translate: error: " << message << "\n";
      return 1;
    }
  }

  DialectRegistry registry;
  kiln::registerAllDialects(registry);
  MLIRContext context(registry);
  kiln::DiagnosticPrinter diagnostics(&context, "kiln-translate");
  OwningOpRef<ModuleOp> module = kiln::importONNXFile(context, input, options);
  if (!module)
    return 1;

  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> out = openOutputFile(output, &error);
  if (!out) {
    llvm::errs() << "kiln-translate: error: " << error << "\n";
    return 1;
  }
  if (emitBytecode) {
    if (failed(writeBytecodeToFile(*module, out->os()))) {
      llvm::errs() << "kiln-translate: error: cannot write bytecode\n";
      return 1;
    }
  } else {
    module->print(out->os(), OpPrintingFlags());
    out->os() << "\n";
  }
  out->os().flush();
  if (out->os().has_error()) {
    llvm::errs() << "kiln-translate: error: cannot write '" << output << "'\n";
    out->os().clear_error();
    return 1;
  }
  out->keep();
  return 0;
}
