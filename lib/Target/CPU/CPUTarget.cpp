//===- CPUTarget.cpp - object code, shared libraries and headers ----------===//

#include "kiln/Target/CPU/CPUTarget.h"

#include "kiln/Pipelines/Pipelines.h"
#include "kiln/Support/PendingFile.h"
#include "kiln/Target/Target.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/Linker/Linker.h"
#include "llvm/MC/MCSubtargetInfo.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <cstdlib>
#include <dlfcn.h>

using namespace mlir;

/// The target machine for `options` (host CPU and features by default).
static std::unique_ptr<llvm::TargetMachine>
createTargetMachine(const kiln::CPUTargetOptions &options, std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  const llvm::Target *target =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!target)
    return nullptr;
  std::string cpu = options.cpu;
  std::string features;
  if (cpu.empty() || cpu == "native") {
    cpu = llvm::sys::getHostCPUName().str();
    for (const auto &feature : llvm::sys::getHostCPUFeatures())
      features += (feature.second ? "+" : "-") + feature.first().str() + ",";
  }
  llvm::CodeGenOptLevel level =
      options.optLevel == 0   ? llvm::CodeGenOptLevel::None
      : options.optLevel == 1 ? llvm::CodeGenOptLevel::Less
      : options.optLevel == 2 ? llvm::CodeGenOptLevel::Default
                              : llvm::CodeGenOptLevel::Aggressive;
  // Constructors (the CUDA target's kernel loading) go to .init_array: the
  // library is linked without the C runtime's start files that would run
  // a .ctors section.
  llvm::TargetOptions targetOptions;
  targetOptions.UseInitArray = true;
  std::unique_ptr<llvm::TargetMachine> machine(
      target->createTargetMachine(triple, cpu, features, targetOptions,
                                  llvm::Reloc::PIC_, std::nullopt, level));
  if (!machine)
    error = "cannot create a target machine for CPU '" + cpu + "'";
  return machine;
}

/// Moves the initializers of large constant globals of `code` into a new
/// module: `code` keeps hidden external declarations, the data module hidden
/// definitions, and the linker joins them.
static std::unique_ptr<llvm::Module> splitData(llvm::Module &code,
                                               uint64_t threshold) {
  auto data = std::make_unique<llvm::Module>(code.getName().str() + ".data",
                                             code.getContext());
  data->setDataLayout(code.getDataLayout());
  data->setTargetTriple(code.getTargetTriple());
  const llvm::DataLayout &layout = code.getDataLayout();
  unsigned counter = 0;
  for (llvm::GlobalVariable &global : code.globals()) {
    if (!global.isConstant() || !global.hasInitializer() ||
        layout.getTypeAllocSize(global.getValueType()) < threshold)
      continue;
    if (global.hasLocalLinkage() || global.getName().empty())
      global.setName("__kiln_weight_" + std::to_string(counter++) + "_" +
                     global.getName());
    auto *definition = new llvm::GlobalVariable(
        *data, global.getValueType(), /*isConstant=*/true,
        llvm::GlobalValue::ExternalLinkage, global.getInitializer(),
        global.getName());
    definition->setAlignment(global.getAlign());
    definition->setVisibility(llvm::GlobalValue::HiddenVisibility);
    global.setInitializer(nullptr);
    global.setLinkage(llvm::GlobalValue::ExternalLinkage);
    global.setVisibility(llvm::GlobalValue::HiddenVisibility);
  }
  return data;
}

FailureOr<kiln::LLVMModel>
kiln::translateAndOptimize(ModuleOp module, llvm::LLVMContext &llvmContext,
                           const CPUTargetOptions &options,
                           uint64_t dataThreshold) {
  DialectRegistry registry;
  registerAllToLLVMIRTranslations(registry);
  module->getContext()->appendDialectRegistry(registry);
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext);
  if (!llvmModule)
    return module.emitError("cannot translate the module to LLVM IR");
  std::string error;
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(options, error);
  if (!machine)
    return module.emitError(error);
  llvmModule->setDataLayout(machine->createDataLayout());
  llvmModule->setTargetTriple(machine->getTargetTriple());
  // LLVM vectorizes for 256-bit registers on AVX-512 machines by default
  // (to spare clock frequency on older parts); the model's loops (softmax,
  // normalization, activations) run at twice the width with 512.
  if (machine->getMCSubtargetInfo()->checkFeatures("+avx512f"))
    for (llvm::Function &function : *llvmModule)
      if (!function.isDeclaration())
        function.addFnAttr("prefer-vector-width", "512");
  LLVMModel result;
  result.data = splitData(*llvmModule, dataThreshold);
  auto optimize = makeOptimizingTransformer(options.optLevel, /*sizeLevel=*/0,
                                            machine.get());
  if (llvm::Error err = optimize(llvmModule.get()))
    return module.emitError("LLVM optimization failed: ")
           << llvm::toString(std::move(err));
  result.code = std::move(llvmModule);
  return result;
}

FailureOr<std::string> kiln::microkernelISA(const CPUTargetOptions &options,
                                            std::string &error) {
  if (options.cpu.empty() || options.cpu == "native")
    return std::string("host");
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(options, error);
  if (!machine)
    return failure();
  const llvm::MCSubtargetInfo *info = machine->getMCSubtargetInfo();
  if (!info->isCPUStringValid(options.cpu)) {
    error = "unknown CPU '" + options.cpu +
            "' (see llc-22 -mcpu=help for the names)";
    return failure();
  }
  if (info->checkFeatures("+avx512f"))
    return std::string("avx512");
  if (info->checkFeatures("+avx2,+fma"))
    return std::string("avx2");
  return std::string("generic");
}

LogicalResult kiln::emitObject(llvm::Module &module,
                               const CPUTargetOptions &options,
                               llvm::raw_pwrite_stream &os,
                               std::string &error) {
  std::unique_ptr<llvm::TargetMachine> machine =
      createTargetMachine(options, error);
  if (!machine)
    return failure();
  llvm::legacy::PassManager passes;
  if (machine->addPassesToEmitFile(passes, os, nullptr,
                                   llvm::CodeGenFileType::ObjectFile)) {
    error = "the target cannot emit object files";
    return failure();
  }
  passes.run(module);
  return success();
}

LogicalResult kiln::linkSharedLibrary(ArrayRef<std::string> objectPaths,
                                      StringRef outputPath,
                                      StringRef runtimeLibrary,
                                      std::string &error) {
  std::string lld;
  for (const char *candidate : {"/usr/lib/llvm-22/bin/ld.lld"})
    if (llvm::sys::fs::can_execute(candidate))
      lld = candidate;
  if (lld.empty()) {
    auto found = llvm::sys::findProgramByName("ld.lld-22");
    if (!found) {
      error = "cannot find ld.lld (install lld-22: scripts/setup.sh)";
      return failure();
    }
    lld = *found;
  }
  SmallVector<std::string> args = {lld, "-shared", "--gc-sections", "-o",
                                   outputPath.str()};
  args.append(objectPaths.begin(), objectPaths.end());
  args.append({"--whole-archive", runtimeLibrary.str(), "--no-whole-archive",
               "-L/usr/lib/llvm-22/lib", "-rpath", "/usr/lib/llvm-22/lib",
               "--as-needed", "-lomp", "-L/usr/lib/x86_64-linux-gnu",
               "-L/lib/x86_64-linux-gnu", "-lm", "-lc"});
  SmallVector<StringRef> argRefs(args.begin(), args.end());
  std::string message;
  int status =
      llvm::sys::ExecuteAndWait(lld, argRefs, std::nullopt, {}, 0, 0, &message);
  if (status != 0) {
    error = "linking with " + lld + " failed" +
            (message.empty() ? "" : ": " + message);
    return failure();
  }
  return success();
}

/// The text of kiln_runtime.h, embedded at build time.
static const char kRuntimeHeader[] =
#include "kiln/Runtime/kiln_runtime.h.inc"
    ;

std::string kiln::generateModelHeader(ModuleOp module, StringRef modelName) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "/* Generated by kiln-compile from " << modelName
     << ". The model exports the C ABI below.\n *\n";
  if (auto signature =
          module->getAttrOfType<DictionaryAttr>("kiln.signature")) {
    for (StringRef kind : {"inputs", "outputs"}) {
      os << " * " << kind << ":\n";
      for (Attribute entry : signature.getAs<ArrayAttr>(kind)) {
        auto dict = cast<DictionaryAttr>(entry);
        os << " *   " << dict.getAs<StringAttr>("name").getValue() << ": "
           << cast<TypeAttr>(dict.get("type")).getValue() << "\n";
      }
    }
  }
  os << " */\n\n" << kRuntimeHeader;
  return text;
}

//===----------------------------------------------------------------------===//
// The CPU target
//===----------------------------------------------------------------------===//

/// A runtime library of the compiler: $KILN_RUNTIME_DIR/NAME, else the
/// first that exists of <dir>/../lib/NAME, <dir>/../../lib/NAME and
/// <dir>/lib/NAME for the directory of the binary holding this code (a tool
/// in <build>/bin, or the Python module in <build>/python/kiln or an
/// installed package's kiln directory), else <bin>/../lib/NAME of the
/// executable.
static std::string findRuntimeLibrary(StringRef name) {
  if (const char *dir = std::getenv("KILN_RUNTIME_DIR"); dir && *dir) {
    SmallString<256> path(dir);
    llvm::sys::path::append(path, name);
    return std::string(path);
  }
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&findRuntimeLibrary), &info) &&
      info.dli_fname) {
    SmallString<256> dir(info.dli_fname);
    llvm::sys::fs::make_absolute(dir);
    llvm::sys::path::remove_filename(dir);
    for (StringRef relative : {"../lib", "../../lib", "lib"}) {
      SmallString<256> path(dir);
      llvm::sys::path::append(path, relative, name);
      if (llvm::sys::fs::exists(path))
        return std::string(path);
    }
  }
  std::string exe = llvm::sys::fs::getMainExecutable(nullptr, nullptr);
  SmallString<256> path(exe);
  llvm::sys::path::remove_filename(path);
  llvm::sys::path::append(path, "..", "lib", name);
  return std::string(path);
}

namespace {
class CPUTarget : public kiln::Target {
public:
  StringRef getName() const override { return "cpu"; }
  StringRef getDescription() const override {
    return "x86-64 CPUs through LLVM (AVX-512, AVX2+FMA or generic "
           "microkernels), a shared library with the Kiln C ABI";
  }

  LogicalResult buildCodegenPipeline(OpPassManager &pm,
                                     const kiln::TargetOptions &options,
                                     std::string &error) const override {
    FailureOr<std::string> isa =
        kiln::microkernelISA(cpuOptions(options), error);
    if (failed(isa))
      return failure();
    kiln::CPUPipelineOptions pipeline;
    pipeline.optLevel = options.optLevel;
    pipeline.isa = *isa;
    pipeline.disabledPasses = options.disabledPasses;
    pipeline.profile = options.profile;
    pipeline.sparseKernels = options.sparseKernels;
    kiln::buildLinalgToLLVMPipeline(pm, pipeline);
    return success();
  }

  int64_t int8WeightRange(const kiln::TargetOptions &options) const override {
    std::string error;
    FailureOr<std::string> isa =
        kiln::microkernelISA(cpuOptions(options), error);
    if (failed(isa))
      return 127;
    if (*isa == "host") {
      llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
      if (features.lookup("avx512vnni") || !features.lookup("avx2"))
        return 127;
      return 64;
    }
    return *isa == "avx2" ? 64 : 127;
  }

  /// Only the AVX-512 VNNI kernel: on AVX2 the convolutions' weights are
  /// the left operand, which the int16 kernel multiplies (the 7-bit
  /// VPMADDUBSW kernel takes a compile-time packed right operand), and
  /// ResNet-50 measured 69.6 ms in int8 against 67.8 in fp32.
  bool int8Convolutions(const kiln::TargetOptions &options) const override {
    std::string error;
    FailureOr<std::string> isa =
        kiln::microkernelISA(cpuOptions(options), error);
    if (failed(isa))
      return false;
    // The AVX-512 VNNI and AVX2 kernels (ResNet-50 static int8 against
    // fp32: 2.5x and 1.12x); the generic one does not pay.
    if (*isa == "host") {
      llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
      return features.lookup("avx512vnni") || features.lookup("avx2");
    }
    return *isa == "avx512" || *isa == "avx2";
  }

  /// The fused attention kernel (runtime/cpu/attention.c) has AVX-512 and
  /// AVX2 bodies; without them the tile loops' products run on the generic
  /// matrix kernel. The MHA block (8 heads, 1024 tokens) on two threads:
  /// attention 11.9 -> 8.7 ms with AVX-512 (see docs/performance.md). It
  /// needs the microkernel passes (-O1 and up).
  bool attentionKernel(const kiln::TargetOptions &options) const override {
    if (options.optLevel == 0 ||
        llvm::is_contained(options.disabledPasses, "kiln-cpu-lower-ukernels") ||
        llvm::is_contained(options.disabledPasses, "kiln-cpu-select-kernels"))
      return false;
    std::string error;
    FailureOr<std::string> isa =
        kiln::microkernelISA(cpuOptions(options), error);
    if (failed(isa))
      return false;
    if (*isa == "host") {
      llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
      return features.lookup("avx512f") ||
             (features.lookup("avx2") && features.lookup("fma"));
    }
    return *isa == "avx512" || *isa == "avx2";
  }

  LogicalResult emit(ModuleOp module, const kiln::TargetOptions &options,
                     const kiln::ArtifactOptions &artifact) const override;

private:
  static kiln::CPUTargetOptions cpuOptions(const kiln::TargetOptions &options) {
    kiln::CPUTargetOptions cpu;
    cpu.cpu = options.cpu;
    cpu.optLevel = options.optLevel;
    return cpu;
  }
};
} // namespace

LogicalResult CPUTarget::emit(ModuleOp module,
                              const kiln::TargetOptions &options,
                              const kiln::ArtifactOptions &artifact) const {
  return kiln::emitHostArtifact(module, cpuOptions(options), artifact,
                                "libkiln_runtime.a");
}

LogicalResult kiln::emitHostArtifact(ModuleOp module,
                                     const CPUTargetOptions &target,
                                     const ArtifactOptions &artifact,
                                     StringRef runtimeName) {
  Location loc = module.getLoc();
  auto progress = [&](StringRef stage) {
    if (artifact.progress)
      artifact.progress(stage);
  };
  llvm::LLVMContext llvmContext;
  FailureOr<kiln::LLVMModel> llvmModel =
      kiln::translateAndOptimize(module, llvmContext, target);
  if (failed(llvmModel))
    return failure();
  progress("LLVM IR optimized");
  if (artifact.kind == kiln::ArtifactKind::LLVMIR) {
    std::string error;
    if (failed(kiln::writeTextFile(
            artifact.outputPath,
            [&](raw_ostream &os) { llvmModel->code->print(os, nullptr); },
            error)))
      return emitError(loc) << error;
    return success();
  }

  if (artifact.outputPath == "-")
    return emitError(loc) << "object code and shared libraries need an "
                             "output file (-o)";
  bool objectOnly = artifact.kind == kiln::ArtifactKind::Object;
  if (objectOnly) {
    // One object: the weights go back into the code module.
    if (llvm::Linker::linkModules(*llvmModel->code, std::move(llvmModel->data)))
      return emitError(loc) << "cannot merge the weights into the code";
  }
  std::string error;
  auto writeObject = [&](kiln::PendingFile &file,
                         llvm::Module &llvmModule) -> LogicalResult {
    std::error_code ec;
    llvm::raw_fd_ostream os(file.tempPath(), ec);
    if (ec)
      return emitError(loc)
             << "cannot write '" << file.tempPath() << "': " << ec.message();
    if (failed(kiln::emitObject(llvmModule, target, os, error)))
      return emitError(loc) << error;
    return success();
  };
  kiln::PendingFile object(objectOnly ? artifact.outputPath
                                      : artifact.outputPath + ".o");
  if (failed(writeObject(object, *llvmModel->code)))
    return failure();
  if (objectOnly) {
    progress("object code emitted");
    if (failed(object.commit(error)))
      return emitError(loc) << error;
    return success();
  }
  kiln::PendingFile weights(artifact.outputPath + ".weights.o");
  if (failed(writeObject(weights, *llvmModel->data)))
    return failure();
  progress("object code emitted");

  std::string runtime = findRuntimeLibrary(runtimeName);
  if (!llvm::sys::fs::exists(runtime))
    return emitError(loc) << "cannot find the Kiln runtime library at '"
                          << runtime << "'";
  kiln::PendingFile library(artifact.outputPath);
  if (failed(kiln::linkSharedLibrary(
          {object.tempPath().str(), weights.tempPath().str()},
          library.tempPath(), runtime, error)))
    return emitError(loc) << error;
  SmallString<256> headerPath(artifact.outputPath);
  llvm::sys::path::replace_extension(headerPath, "h");
  kiln::PendingFile header(headerPath);
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(header.tempPath(), ec);
    if (ec)
      return emitError(loc)
             << "cannot write '" << header.tempPath() << "': " << ec.message();
    os << kiln::generateModelHeader(module, artifact.modelName);
  }
  if (failed(library.commit(error)) || failed(header.commit(error)))
    return emitError(loc) << error;
  progress("linked " + artifact.outputPath);
  return success();
}

void kiln::registerCPUTarget() {
  registerTarget(std::make_unique<CPUTarget>());
}
