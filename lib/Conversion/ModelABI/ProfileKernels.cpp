//===- ProfileKernels.cpp - time each kernel of a compiled model ----------===//
//
// kiln-compile --profile: the model function's work, split into kernels by
// the ONNX nodes it came from, each bracketed by calls the runtime times
// (runtime/kiln_runtime.c, kiln_model_profile_* in kiln_runtime.h).
//
//===----------------------------------------------------------------------===//

#include "kiln/Conversion/Passes.h"
#include "kiln/Support/Diagnostics.h"

#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "llvm/ADT/SetVector.h"

namespace kiln {
#define GEN_PASS_DEF_KILNPROFILEKERNELS
#include "kiln/Conversion/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;

namespace {

/// "conv1 [Conv]", "conv1 +2 [Conv+Relu+Add]": the first ONNX node, how many
/// more, and their op types (the first five); for work that no ONNX node
/// owns (copies of the model's results), the operation's name.
std::string kernelName(Operation *op) {
  std::vector<OnnxNode> nodes = onnxNodes(op->getLoc());
  if (nodes.empty())
    return "(" + op->getName().getStringRef().str() + ")";
  llvm::SetVector<StringRef> types;
  for (const OnnxNode &node : nodes)
    types.insert(node.type);
  std::string name = nodes.front().name;
  if (nodes.size() > 1)
    name += " +" + std::to_string(nodes.size() - 1);
  name += " [";
  for (auto [i, type] : llvm::enumerate(types)) {
    if (i == 5) {
      name += "+...";
      break;
    }
    name += (i ? "+" : "") + type.str();
  }
  name += "]";
  // One name per line in the exported list.
  llvm::replace(name, '\n', ' ');
  return name;
}

/// Whether `op` does work worth timing: a loop or other region, a call (a
/// microkernel), or a write to memory (a copy, a linalg op). Allocations,
/// views and scalar arithmetic are not kernels.
bool isKernel(Operation *op) {
  if (op->hasTrait<OpTrait::IsTerminator>())
    return false;
  if (op->getNumRegions() > 0 || isa<CallOpInterface>(op))
    return true;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  return effects && effects.hasEffect<MemoryEffects::Write>();
}

struct KilnProfileKernelsPass
    : public kiln::impl::KilnProfileKernelsBase<KilnProfileKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto signature = module->getAttrOfType<DictionaryAttr>("kiln.signature");
    auto functionName =
        signature ? signature.getAs<StringAttr>("function") : StringAttr();
    auto function = functionName
                        ? module.lookupSymbol<func::FuncOp>(functionName)
                        : func::FuncOp();
    if (!function || function.isExternal()) {
      module.emitError("kiln-profile-kernels: no model function (run "
                       "kiln-record-signature first)");
      return signalPassFailure();
    }

    MLIRContext *context = &getContext();
    OpBuilder b(context);
    auto i32 = b.getI32Type();
    auto hookType = b.getFunctionType({i32}, {});
    b.setInsertionPointToStart(module.getBody());
    for (StringRef hook : {"kiln_profile_begin", "kiln_profile_end"}) {
      if (module.lookupSymbol(hook))
        continue;
      auto decl = func::FuncOp::create(b, module.getLoc(), hook, hookType);
      decl.setPrivate();
    }

    // Kernels: runs of consecutive kernel ops with the same name (ops that
    // are not kernels in between join the run).
    std::vector<std::string> names;
    std::vector<Attribute> nodeLists;
    llvm::StringMap<int32_t> ids;
    auto bracket = [&](Operation *first, Operation *last, StringRef name) {
      auto [it, inserted] =
          ids.try_emplace(name, static_cast<int32_t>(names.size()));
      if (inserted) {
        names.push_back(name.str());
        SmallVector<Attribute> nodes;
        for (const OnnxNode &node : onnxNodes(first->getLoc()))
          nodes.push_back(b.getStringAttr(node.name));
        nodeLists.push_back(b.getArrayAttr(nodes));
      }
      Location loc = first->getLoc();
      b.setInsertionPoint(first);
      Value id = arith::ConstantIntOp::create(b, loc, it->second, 32);
      func::CallOp::create(b, loc, "kiln_profile_begin", TypeRange{}, id);
      b.setInsertionPointAfter(last);
      func::CallOp::create(b, last->getLoc(), "kiln_profile_end", TypeRange{},
                           id);
    };
    for (Block &block : function.getBody()) {
      Operation *first = nullptr, *last = nullptr;
      std::string current;
      for (Operation &op : llvm::make_early_inc_range(block)) {
        if (!isKernel(&op))
          continue;
        std::string name = kernelName(&op);
        if (first && name == current) {
          last = &op;
          continue;
        }
        if (first)
          bracket(first, last, current);
        first = last = &op;
        current = std::move(name);
      }
      if (first)
        bracket(first, last, current);
    }
    SmallVector<Attribute> list;
    for (const std::string &name : names)
      list.push_back(b.getStringAttr(name));
    module->setAttr("kiln.profile_kernels", b.getArrayAttr(list));
    module->setAttr("kiln.profile_kernel_nodes", b.getArrayAttr(nodeLists));
  }
};

} // namespace
