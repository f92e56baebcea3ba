//===- GraphReport.cpp - what each graph pass changed, by ONNX node -------===//

#include "kiln/Driver/GraphReport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Support/Diagnostics.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "llvm/Support/FormatVariadic.h"

#include <set>

using namespace mlir;
using namespace kiln;
namespace json = llvm::json;

std::vector<std::string> kiln::onnxNodeNames(Location loc) {
  std::set<std::string> names;
  for (const OnnxNode &node : onnxNodes(loc))
    names.insert(node.name);
  return {names.begin(), names.end()};
}

std::string kiln::reportLabel(Operation *op) {
  std::string label = op->getName().getStringRef().str();
  auto add = [&](bool present, StringRef part) {
    if (present)
      label += "+" + part.str();
  };
  auto activation = [&](StringRef a) { add(a != "none", a); };
  if (auto conv = dyn_cast<ConvOp>(op)) {
    add(conv.getBias() != nullptr, "bias");
    add(conv.getResidual() != nullptr, "residual");
    activation(conv.getActivation());
  } else if (auto matmul = dyn_cast<MatMulOp>(op)) {
    add(matmul.getBias() != nullptr, "bias");
    add(matmul.getResidual() != nullptr, "residual");
    activation(matmul.getActivation());
  } else if (auto gemm = dyn_cast<GemmOp>(op)) {
    add(gemm.getC() != nullptr, "bias");
    add(gemm.getResidual() != nullptr, "residual");
    activation(gemm.getActivation());
  }
  return label;
}

GraphReport::Snapshot GraphReport::take(Operation *root) {
  Snapshot s;
  root->walk([&](Operation *op) {
    if (op == root || isa<ModuleOp, func::FuncOp, func::ReturnOp>(op))
      return;
    std::string label = reportLabel(op);
    ++s.labels[label];
    ++s.ops[{label, onnxNodeNames(op->getLoc())}];
    ++s.total;
  });
  return s;
}

/// The ONNX nodes of `loc` in fusion order (an op's own first), for JSON.
static json::Array nodeNameArray(Location loc) {
  json::Array nodes;
  for (const OnnxNode &node : onnxNodes(loc))
    nodes.push_back(node.name);
  return nodes;
}

/// Pass-manager adaptors (which run nested pipelines) have no argument; the
/// passes inside them are reported on their own.
static bool isReported(Pass *pass) { return !pass->getArgument().empty(); }

void GraphReport::runBeforePass(Pass *pass, Operation *op) {
  if (!isReported(pass) || stage == "codegen")
    return;
  Snapshot s = take(op);
  std::lock_guard<std::mutex> lock(mutex);
  pending[{pass, op}] = std::move(s);
}

void GraphReport::runAfterPass(Pass *pass, Operation *op) {
  if (stage == "codegen") {
    if (pass->getArgument() == "kiln-cpu-select-kernels")
      recordSparsity(op);
    return;
  }
  if (!isReported(pass))
    return;
  Snapshot after = take(op);
  std::lock_guard<std::mutex> lock(mutex);
  auto it = pending.find({pass, op});
  if (it == pending.end())
    return;
  Snapshot before = std::move(it->second);
  pending.erase(it);

  json::Object created, removed;
  std::set<std::string> labels;
  for (auto &[label, n] : before.labels)
    labels.insert(label);
  for (auto &[label, n] : after.labels)
    labels.insert(label);
  for (const std::string &label : labels) {
    int64_t b = before.labels.count(label) ? before.labels.at(label) : 0;
    int64_t a = after.labels.count(label) ? after.labels.at(label) : 0;
    if (a > b)
      created[label] = a - b;
    else if (b > a)
      removed[label] = b - a;
  }
  // Ops that are new after the pass and carry several ONNX nodes.
  json::Array fused;
  for (auto &[key, n] : after.ops) {
    auto old = before.ops.find(key);
    int64_t fresh = n - (old == before.ops.end() ? 0 : old->second);
    // New constants (folded weights) carry their sources' nodes too; they
    // are not fused ops.
    if (fresh <= 0 || key.second.size() < 2 || key.first == "kiln.constant")
      continue;
    json::Array nodes;
    for (const std::string &name : key.second)
      nodes.push_back(name);
    for (int64_t i = 0; i < fresh; ++i)
      fused.push_back(
          json::Object{{"into", key.first}, {"nodes", json::Array(nodes)}});
  }
  // Nodes none of whose ops is left.
  std::set<std::string> beforeNodes, afterNodes;
  for (auto &[key, n] : before.ops)
    beforeNodes.insert(key.second.begin(), key.second.end());
  for (auto &[key, n] : after.ops)
    afterNodes.insert(key.second.begin(), key.second.end());
  json::Array gone;
  for (const std::string &name : beforeNodes)
    if (!afterNodes.count(name))
      gone.push_back(name);

  std::string function;
  if (auto func = dyn_cast<func::FuncOp>(op))
    function = func.getSymName().str();
  json::Object entry{
      {"pass", pass->getArgument().str()}, {"stage", stage},
      {"ops_before", before.total},        {"ops_after", after.total},
      {"created", std::move(created)},     {"removed", std::move(removed)},
      {"fused", std::move(fused)},         {"removed_nodes", std::move(gone)}};
  if (!function.empty())
    entry["function"] = function;
  // kiln-prune-channels: the products that lost channels, by their nodes.
  if (pass->getArgument() == "kiln-prune-channels") {
    json::Array pruned;
    op->walk([&](Operation *inner) {
      // Channels of a conv, neurons (columns) of a matmul, heads of an
      // attention.
      StringRef kind = isa<ConvOp>(inner) ? "channels" : "neurons";
      auto counts =
          inner->getAttrOfType<DenseI64ArrayAttr>("kiln.pruned_channels");
      if (!counts) {
        counts = inner->getAttrOfType<DenseI64ArrayAttr>("kiln.pruned_heads");
        kind = "heads";
      }
      if (!counts || counts.size() != 2)
        return;
      // In fusion order: the product's own node first.
      json::Array nodes = nodeNameArray(inner->getLoc());
      pruned.push_back(json::Object{{"op", reportLabel(inner)},
                                    {"kind", kind},
                                    {"nodes", std::move(nodes)},
                                    {"removed", counts[0]},
                                    {"of", counts[1]}});
    });
    entry["pruned"] = std::move(pruned);
  }
  // kiln-sparsify: the products whose weights got an N:M mask.
  if (pass->getArgument() == "kiln-sparsify") {
    json::Array sparsified;
    op->walk([&](Operation *inner) {
      auto counts = inner->getAttrOfType<DenseI64ArrayAttr>("kiln.sparsified");
      if (!counts || counts.size() != 2)
        return;
      json::Array nodes = nodeNameArray(inner->getLoc());
      sparsified.push_back(json::Object{{"op", reportLabel(inner)},
                                        {"nodes", std::move(nodes)},
                                        {"zeroed", counts[0]},
                                        {"of", counts[1]}});
    });
    entry["sparsified"] = std::move(sparsified);
  }
  entries.push_back(std::move(entry));
}

void GraphReport::recordSparsity(Operation *root) {
  std::vector<json::Object> found;
  root->walk([&](Operation *op) {
    auto choice = op->getAttrOfType<DictionaryAttr>("kiln.ukernel");
    auto zeroWeights =
        choice ? choice.getAs<FloatAttr>("zero_weights") : nullptr;
    auto zeroBlocks = choice ? choice.getAs<FloatAttr>("zero_blocks") : nullptr;
    auto ratio =
        choice ? choice.getAs<FloatAttr>("sparse_time_ratio") : nullptr;
    auto kernel = choice ? choice.getAs<StringAttr>("kernel") : nullptr;
    if (!zeroWeights || !zeroBlocks || !ratio || !kernel)
      return;
    json::Array nodes = nodeNameArray(op->getLoc());
    bool sparse = kernel.getValue() == "sgemm_sparse";
    bool off = choice.getAs<StringAttr>("sparse_kernel") != nullptr;
    double r = ratio.getValueAsDouble();
    std::string reason =
        off ? llvm::formatv("dense: the block-sparse kernel is off "
                            "(--sparsity=off); {0:P0} of its 1x16 blocks are "
                            "zero",
                            zeroBlocks.getValueAsDouble())
                  .str()
        : sparse ? llvm::formatv("block-sparse: {0:P0} of its 1x16 blocks are "
                                 "zero; estimated {1:F1}x faster than dense",
                                 zeroBlocks.getValueAsDouble(), 1.0 / r)
                       .str()
                 : llvm::formatv("dense: {0:P0} of its weights but {1:P0} of "
                                 "its 1x16 blocks are zero; the sparse kernel "
                                 "would take an estimated {2:F2}x the dense "
                                 "kernel's time",
                                 zeroWeights.getValueAsDouble(),
                                 zeroBlocks.getValueAsDouble(), r)
                       .str();
    found.push_back(
        json::Object{{"nodes", std::move(nodes)},
                     {"kernel", kernel.getValue().str()},
                     {"zero_weights", zeroWeights.getValueAsDouble()},
                     {"zero_blocks", zeroBlocks.getValueAsDouble()},
                     {"sparse_time_ratio", r},
                     {"reason", reason}});
  });
  std::lock_guard<std::mutex> lock(mutex);
  for (json::Object &entry : found)
    sparsity.push_back(std::move(entry));
}

json::Value GraphReport::toJSON() const {
  json::Object report = header;
  if (!sparsity.empty()) {
    json::Array choices;
    for (const json::Object &entry : sparsity)
      choices.push_back(json::Object(entry));
    report["sparsity"] = std::move(choices);
  }
  json::Array passes;
  for (const json::Object &entry : entries)
    passes.push_back(json::Object(entry));
  report["passes"] = std::move(passes);
  return report;
}
