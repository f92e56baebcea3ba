//===- HtmlReport.cpp - the compile report as a page for people -----------===//

#include "kiln/Driver/HtmlReport.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Driver/GraphReport.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace mlir;
using namespace kiln;
namespace json = llvm::json;

//===----------------------------------------------------------------------===//
// The graph
//===----------------------------------------------------------------------===//

/// The elements of a tensor, dynamic dims counted as 1 (the report says
/// so); nullopt for a non-tensor.
static std::optional<int64_t> numElements(Type type) {
  auto shaped = dyn_cast<ShapedType>(type);
  if (!shaped || !shaped.hasRank())
    return std::nullopt;
  int64_t n = 1;
  for (int64_t dim : shaped.getShape())
    n *= ShapedType::isDynamic(dim) ? 1 : dim;
  return n;
}

static bool hasDynamicDims(Operation *op) {
  for (Type type :
       llvm::concat<const Type>(op->getOperandTypes(), op->getResultTypes()))
    if (auto shaped = dyn_cast<ShapedType>(type);
        shaped && (!shaped.hasRank() || !shaped.hasStaticShape()))
      return true;
  return false;
}

/// "int8" or "int4" when an operand or result holds such integers (a
/// quantized product, a quantize/dequantize), else the float result's type.
static std::string precisionOf(Operation *op) {
  unsigned narrow = 0;
  for (Type type :
       llvm::concat<const Type>(op->getOperandTypes(), op->getResultTypes()))
    if (auto integer = dyn_cast<IntegerType>(getElementTypeOrSelf(type)))
      if (integer.getWidth() <= 8 && integer.getWidth() > 1)
        narrow =
            narrow ? std::min(narrow, integer.getWidth()) : integer.getWidth();
  if (narrow)
    return "int" + std::to_string(narrow);
  for (Type type : op->getResultTypes()) {
    Type element = getElementTypeOrSelf(type);
    if (element.isF32())
      return "fp32";
    if (element.isF16())
      return "fp16";
    if (element.isBF16())
      return "bf16";
  }
  return "";
}

/// Multiply-adds count two; an op that is not a contraction one per element
/// of its largest tensor.
static std::optional<double> flopsOf(Operation *op) {
  auto dims = [](Value v) { return cast<ShapedType>(v.getType()).getShape(); };
  std::optional<int64_t> out = op->getNumResults()
                                   ? numElements(op->getResult(0).getType())
                                   : std::nullopt;
  if (auto conv = dyn_cast<ConvOp>(op)) {
    std::optional<int64_t> weights = numElements(conv.getWeight().getType());
    int64_t m = dims(conv.getWeight()).front();
    if (!out || !weights || m <= 0)
      return std::nullopt;
    return 2.0 * double(*out) * double(*weights / m);
  }
  if (isa<MatMulOp, MatMulIntegerOp, GemmOp>(op)) {
    auto lhs = cast<ShapedType>(op->getOperand(0).getType());
    if (!out || !lhs.hasRank() || lhs.getRank() < 1)
      return std::nullopt;
    int64_t k = lhs.getShape().back();
    if (auto gemm = dyn_cast<GemmOp>(op); gemm && gemm.getTransA())
      k = lhs.getShape().front();
    return 2.0 * double(*out) * double(ShapedType::isDynamic(k) ? 1 : k);
  }
  if (auto attention = dyn_cast<AttentionOp>(op)) {
    std::optional<int64_t> q = numElements(attention.getQuery().getType());
    auto key = cast<ShapedType>(attention.getKey().getType());
    if (!q || !key.hasRank() || key.getRank() < 2)
      return std::nullopt;
    // Scores and the product with V: 2 * Sq * Sk * D each, per head.
    int64_t keys = key.getShape()[key.getRank() - 2];
    return 4.0 * double(*q) * double(ShapedType::isDynamic(keys) ? 1 : keys);
  }
  std::optional<int64_t> largest = out;
  for (Type type : op->getOperandTypes()) {
    std::optional<int64_t> n = numElements(type);
    if (!n)
      return std::nullopt;
    largest = largest ? std::max(*largest, *n) : *n;
  }
  return largest ? std::optional<double>(double(*largest)) : std::nullopt;
}

/// The bytes an op reads and writes: its tensors' sizes.
static std::optional<double> bytesOf(Operation *op) {
  double bytes = 0;
  for (Type type :
       llvm::concat<const Type>(op->getOperandTypes(), op->getResultTypes())) {
    std::optional<int64_t> n = numElements(type);
    if (!n)
      return std::nullopt;
    Type element = getElementTypeOrSelf(type);
    unsigned bits =
        element.isIntOrFloat() ? element.getIntOrFloatBitWidth() : 8;
    bytes += double(*n) * double(std::max(bits, 8u)) / 8.0;
  }
  return bytes;
}

ReportGraph kiln::captureReportGraph(ModuleOp module, StringRef function) {
  ReportGraph graph;
  auto func = module.lookupSymbol<func::FuncOp>(function);
  if (!func || func.isExternal())
    return graph;
  for (unsigned i = 0; i < func.getNumArguments(); ++i) {
    auto name = func.getArgAttrOfType<StringAttr>(i, "kiln.name");
    graph.inputs.push_back(name ? name.str() : "input " + std::to_string(i));
  }
  for (unsigned i = 0; i < func.getNumResults(); ++i) {
    auto name = func.getResultAttrOfType<StringAttr>(i, "kiln.name");
    graph.outputs.push_back(name ? name.str() : "output " + std::to_string(i));
  }
  llvm::DenseMap<Value, int> producer;
  Block &body = func.getBody().front();
  for (Operation &op : body) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [i, value] : llvm::enumerate(ret.getOperands()))
        if (auto it = producer.find(value); it != producer.end())
          graph.ops[it->second].outputs.push_back(i);
      continue;
    }
    if (op.hasTrait<OpTrait::ConstantLike>() || isa<ConstantOp>(op))
      continue;
    ReportOp r;
    r.label = reportLabel(&op);
    r.nodes = onnxNodes(op.getLoc());
    r.precision = precisionOf(&op);
    r.flops = flopsOf(&op);
    r.bytes = bytesOf(&op);
    r.dynamic = hasDynamicDims(&op);
    r.prunedKind = isa<ConvOp>(op) ? "channels" : "neurons";
    auto counts = op.getAttrOfType<DenseI64ArrayAttr>("kiln.pruned_channels");
    if (!counts) {
      counts = op.getAttrOfType<DenseI64ArrayAttr>("kiln.pruned_heads");
      r.prunedKind = "heads";
    }
    if (counts && counts.size() == 2) {
      r.prunedChannels = counts[0];
      r.channelsBefore = counts[1];
    }
    for (Value operand : op.getOperands()) {
      int from;
      if (auto arg = dyn_cast<BlockArgument>(operand);
          arg && arg.getOwner() == &body)
        from = -1 - static_cast<int>(arg.getArgNumber());
      else if (auto it = producer.find(operand); it != producer.end())
        from = it->second;
      else
        continue;
      if (llvm::find(r.operands, from) == r.operands.end())
        r.operands.push_back(from);
    }
    int index = static_cast<int>(graph.ops.size());
    for (Value result : op.getResults())
      producer[result] = index;
    graph.ops.push_back(std::move(r));
  }
  return graph;
}

//===----------------------------------------------------------------------===//
// The page
//===----------------------------------------------------------------------===//

static std::string escapeHtml(StringRef text) {
  std::string out;
  for (char c : text) {
    switch (c) {
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    case '"':
      out += "&quot;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

/// A string for a DOT label or attribute ("..." with escapes).
static std::string dotString(StringRef text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\')
      out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

static std::string humanCount(std::optional<double> value, StringRef unit) {
  if (!value)
    return "?";
  double v = *value;
  const char *prefix = "";
  for (const char *p : {"K", "M", "G", "T"}) {
    if (v < 1000)
      break;
    v /= 1000;
    prefix = p;
  }
  return llvm::formatv("{0:f1} {1}{2}", v, prefix, unit).str();
}

/// The first node's name and how many more, for a graph label.
static std::string nodeSummary(const std::vector<OnnxNode> &nodes) {
  if (nodes.empty())
    return "";
  std::string text = nodes.front().name;
  if (nodes.size() > 1)
    text += " +" + std::to_string(nodes.size() - 1);
  return text;
}

/// Marks of an op in the drawings: fused (several ONNX nodes), quantized.
static const char *fillOf(const ReportOp &op) {
  if (op.prunedChannels)
    return "#d8f0c8";
  if (op.precision == "int8" || op.precision == "int4")
    return "#cfe3ff";
  if (op.nodes.size() > 1)
    return "#ffe1b8";
  return "#f4f4f4";
}

/// The DOT text of `graph`; `groups` (optional) outlines sets of ops, each
/// with a label (the fused groups of the imported graph).
static std::string
toDot(const ReportGraph &graph, StringRef name,
      const std::vector<std::pair<std::string, std::vector<int>>> &groups) {
  std::string dot;
  llvm::raw_string_ostream os(dot);
  os << "digraph " << dotString(name) << " {\n"
     << "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=10, "
        "nodesep=0.2, ranksep=0.25];\n"
     << "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", "
        "fontsize=9, height=0.3];\n"
     << "  edge [arrowsize=0.5, color=\"#777777\"];\n";
  for (auto [i, input] : llvm::enumerate(graph.inputs))
    os << "  in" << i
       << " [shape=ellipse, fillcolor=\"#e3f5e1\", label=" << dotString(input)
       << "];\n";
  for (auto [i, output] : llvm::enumerate(graph.outputs))
    os << "  out" << i
       << " [shape=ellipse, fillcolor=\"#e3f5e1\", label=" << dotString(output)
       << "];\n";
  std::vector<int> group(graph.ops.size(), -1);
  for (auto [g, entry] : llvm::enumerate(groups))
    for (int op : entry.second)
      if (group[op] < 0)
        group[op] = static_cast<int>(g);
  auto emitOp = [&](size_t i, StringRef indent) {
    const ReportOp &op = graph.ops[i];
    std::string label = op.label;
    if (!op.nodes.empty())
      label += "\n" + nodeSummary(op.nodes);
    if (op.precision == "int8" || op.precision == "int4")
      label += "\n" + op.precision;
    if (op.prunedChannels)
      label += llvm::formatv("\npruned {0} of {1}", op.prunedChannels,
                             op.channelsBefore)
                   .str();
    std::string tooltip;
    for (const OnnxNode &node : op.nodes)
      tooltip += node.name + " (" + node.type + ")\n";
    os << indent << "op" << i << " [label=" << dotString(label)
       << ", fillcolor=\"" << fillOf(op)
       << "\", tooltip=" << dotString(tooltip.empty() ? op.label : tooltip)
       << "];\n";
  };
  for (auto [g, entry] : llvm::enumerate(groups)) {
    os << "  subgraph cluster_" << g << " {\n"
       << "    style=\"dashed,rounded\"; color=\"#d9822b\"; "
          "fontcolor=\"#b0601a\";"
       << " label=" << dotString(entry.first) << ";\n";
    for (size_t i = 0; i < graph.ops.size(); ++i)
      if (group[i] == static_cast<int>(g))
        emitOp(i, "    ");
    os << "  }\n";
  }
  for (size_t i = 0; i < graph.ops.size(); ++i)
    if (group[i] < 0)
      emitOp(i, "  ");
  for (auto [i, op] : llvm::enumerate(graph.ops)) {
    for (int from : op.operands)
      os << "  "
         << (from < 0 ? "in" + std::to_string(-1 - from)
                      : "op" + std::to_string(from))
         << " -> op" << i << ";\n";
    for (int out : op.outputs)
      os << "  op" << i << " -> out" << out << ";\n";
  }
  os << "}\n";
  return dot;
}

/// Runs Graphviz's dot on `dot`; the SVG, or "" with `error` set.
static std::string renderSvg(StringRef dot, std::string &error) {
  llvm::ErrorOr<std::string> program = llvm::sys::findProgramByName("dot");
  if (!program) {
    error = "Graphviz's dot is not installed (apt-get install graphviz), so "
            "the report has no drawings";
    return "";
  }
  SmallString<128> in, out;
  if (llvm::sys::fs::createTemporaryFile("kiln-report", "dot", in) ||
      llvm::sys::fs::createTemporaryFile("kiln-report", "svg", out)) {
    error = "cannot create a temporary file for Graphviz";
    return "";
  }
  std::string svg;
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(in, ec);
    os << dot;
  }
  std::string message;
  std::optional<StringRef> redirects[] = {StringRef(in), StringRef(out),
                                          StringRef("")};
  int status = llvm::sys::ExecuteAndWait(*program, {*program, "-Tsvg"},
                                         std::nullopt, redirects,
                                         /*SecondsToWait=*/300, 0, &message);
  if (status == 0) {
    if (auto buffer = llvm::MemoryBuffer::getFile(out))
      svg = (*buffer)->getBuffer().str();
  } else {
    error = "Graphviz's dot failed" + (message.empty() ? "" : ": " + message);
  }
  llvm::sys::fs::remove(in);
  llvm::sys::fs::remove(out);
  // The page embeds the <svg> element itself.
  if (size_t start = svg.find("<svg"); start != std::string::npos)
    svg = svg.substr(start);
  return svg;
}

json::Value kiln::profileToJSON(const ReportProfile &profile) {
  json::Array kernels;
  for (const ReportKernel &k : profile.kernels)
    kernels.push_back(json::Object{
        {"name", k.name},
        {"nodes",
         json::Array(llvm::map_range(
             k.nodes, [](const std::string &n) -> json::Value { return n; }))},
        {"ms", k.ms}});
  return json::Object{{"runs", static_cast<int64_t>(profile.runs)},
                      {"mean_ms", profile.meanMs},
                      {"inputs", profile.inputs},
                      {"kernels", std::move(kernels)}};
}

static const char kStyle[] = R"(
body { font-family: Helvetica, Arial, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 2px 6px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
th { background: #eee; position: sticky; top: 0; }
.graph { overflow: auto; max-height: 90vh; border: 1px solid #ddd;
         margin-bottom: 1em; }
.graph h3 { margin: 0.3em; }
.graph svg { display: block; margin: auto; max-width: 100%; height: auto; }
.key span { display: inline-block; padding: 0 6px; margin-right: 6px;
            border: 1px solid #bbb; border-radius: 3px; }
.note { color: #8a4b00; }
)";

std::string kiln::renderHtmlReport(const json::Value &report,
                                   const ReportGraph &before,
                                   const ReportGraph &after,
                                   const ReportProfile *profile,
                                   std::string &warning) {
  const json::Object *top = report.getAsObject();
  auto field = [&](StringRef key) -> std::string {
    if (!top)
      return "";
    if (auto s = top->getString(key))
      return s->str();
    if (auto i = top->getInteger(key))
      return std::to_string(*i);
    return "";
  };

  // Each optimized op that holds several ONNX nodes is a fused group: its
  // nodes are outlined in the imported graph.
  // A node may be carried by several ops (an attention's key transpose
  // keeps the attention's location): it became the one with the most nodes,
  // then the most work.
  llvm::StringMap<int> opOfNode; // ONNX node -> op of `after`
  std::vector<std::pair<std::string, std::vector<int>>> groups;
  auto weight = [&](int i) {
    const ReportOp &op = after.ops[i];
    return std::pair(op.nodes.size(), op.flops.value_or(0));
  };
  for (auto [i, op] : llvm::enumerate(after.ops))
    for (const OnnxNode &node : op.nodes) {
      auto [it, inserted] = opOfNode.try_emplace(node.name, int(i));
      if (!inserted && weight(int(i)) > weight(it->second))
        it->second = int(i);
    }
  // The outlines: the imported ops whose nodes became one optimized op.
  std::map<int, std::vector<int>> members;
  for (auto [i, op] : llvm::enumerate(before.ops))
    for (const OnnxNode &node : op.nodes)
      if (auto it = opOfNode.find(node.name); it != opOfNode.end()) {
        std::vector<int> &list = members[it->second];
        if (llvm::find(list, int(i)) == list.end())
          list.push_back(int(i));
      }
  for (auto &[into, list] : members)
    if (list.size() > 1)
      groups.push_back({after.ops[into].label, list});

  // Kernel times by ONNX node.
  llvm::StringMap<const ReportKernel *> kernelOfNode;
  if (profile)
    for (const ReportKernel &k : profile->kernels)
      for (const std::string &node : k.nodes)
        kernelOfNode.try_emplace(node, &k);

  std::string beforeError, afterError;
  std::string beforeSvg =
      renderSvg(toDot(before, "imported", groups), beforeError);
  std::string afterSvg = renderSvg(toDot(after, "optimized", {}), afterError);
  warning = !beforeError.empty() ? beforeError : afterError;

  std::string html;
  llvm::raw_string_ostream os(html);
  std::string model = field("model");
  os << "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta "
        "charset=\"utf-8\">\n"
     << "<title>Kiln report: " << escapeHtml(model) << "</title>\n<style>"
     << kStyle << "</style>\n</head>\n<body>\n";
  os << "<h1>Kiln compile report: " << escapeHtml(model) << "</h1>\n";
  os << "<p>target <b>" << escapeHtml(field("target")) << "</b>, -O"
     << escapeHtml(field("opt_level")) << ", quantize <b>"
     << escapeHtml(field("quantize")) << "</b>; " << before.ops.size()
     << " ops imported, " << after.ops.size()
     << " after the graph optimizations";
  if (profile)
    os << llvm::formatv("; measured {0:f3} ms a run (mean of {1}, {2})",
                        profile->meanMs, profile->runs,
                        escapeHtml(profile->inputs));
  os << ".</p>\n";

  os << "<h2>Graph</h2>\n<p class=\"key\"><span style=\"background:#ffe1b8\">"
        "fused (several ONNX nodes)</span><span style=\"background:#cfe3ff\">"
        "int8 / int4</span><span style=\"background:#d8f0c8\">pruned "
        "channels</span><span style=\"border:1px dashed #d9822b\">nodes "
        "fused into one op</span><span style=\"background:#e3f5e1\">inputs "
        "and outputs</span> Hover an op for its ONNX nodes.</p>\n";
  if (!warning.empty())
    os << "<p class=\"note\">" << escapeHtml(warning) << ".</p>\n";
  os << "<div class=\"graphs\">\n<div class=\"graph\"><h3>Imported ("
     << before.ops.size() << " ops)</h3>\n"
     << beforeSvg << "</div>\n<div class=\"graph\"><h3>Optimized ("
     << after.ops.size() << " ops)</h3>\n"
     << afterSvg << "</div>\n</div>\n";

  // One row per ONNX node, in the imported order.
  os << "<h2>ONNX nodes</h2>\n<table id=\"nodes\">\n<tr><th>node</th><th>op"
        "</th><th>became</th><th>fused with</th><th>precision</th>"
        "<th>FLOPs</th><th>bytes</th>";
  if (profile)
    os << "<th>kernel time (ms)</th><th>share of the run</th>";
  os << "</tr>\n";
  for (const ReportOp &op : before.ops)
    for (const OnnxNode &node : op.nodes) {
      auto it = opOfNode.find(node.name);
      const ReportOp *became =
          it == opOfNode.end() ? nullptr : &after.ops[it->second];
      os << "<tr><td>" << escapeHtml(node.name) << "</td><td>"
         << escapeHtml(node.type) << "</td><td>"
         << (became ? escapeHtml(became->label)
                    : std::string("<i>folded or removed</i>"))
         << (became && became->prunedChannels
                 ? llvm::formatv(" (pruned {0} of {1} {2})",
                                 became->prunedChannels, became->channelsBefore,
                                 became->prunedKind)
                       .str()
                 : std::string())
         << "</td><td class=\"n\">"
         << (became && became->nodes.size() > 1
                 ? std::to_string(became->nodes.size() - 1)
                 : std::string(""))
         << "</td><td>" << (became ? escapeHtml(became->precision) : "")
         << "</td><td class=\"n\">" << humanCount(op.flops, "")
         << (op.dynamic ? "*" : "") << "</td><td class=\"n\">"
         << humanCount(op.bytes, "B") << (op.dynamic ? "*" : "") << "</td>";
      if (profile) {
        auto k = kernelOfNode.find(node.name);
        if (k == kernelOfNode.end())
          os << "<td></td><td></td>";
        else
          os << llvm::formatv(
              "<td class=\"n\">{0:f3}</td><td class=\"n\">"
              "{1:f1} %{2}</td>",
              k->second->ms,
              profile->meanMs > 0 ? 100.0 * k->second->ms / profile->meanMs
                                  : 0.0,
              k->second->nodes.size() > 1 ? " (its kernel's, shared)" : "");
      }
      os << "</tr>\n";
    }
  os << "</table>\n<p>* counted with the dynamic dims as 1.</p>\n";

  if (profile) {
    os << "<h2>Kernels by time</h2>\n<table id=\"kernels\">\n<tr><th>kernel"
          "</th><th>ms a run</th><th>share</th></tr>\n";
    std::vector<const ReportKernel *> sorted;
    for (const ReportKernel &k : profile->kernels)
      sorted.push_back(&k);
    llvm::sort(sorted, [](const ReportKernel *a, const ReportKernel *b) {
      return a->ms != b->ms ? a->ms > b->ms : a->name < b->name;
    });
    for (const ReportKernel *k : sorted)
      os << llvm::formatv("<tr><td>{0}</td><td class=\"n\">{1:f3}</td>"
                          "<td class=\"n\">{2:f1} %</td></tr>\n",
                          escapeHtml(k->name), k->ms,
                          profile->meanMs > 0 ? 100.0 * k->ms / profile->meanMs
                                              : 0.0);
    os << "</table>\n";
  }

  // The passes, as the JSON report has them.
  os << "<h2>Passes</h2>\n<table id=\"passes\">\n<tr><th>pass</th><th>stage"
        "</th><th>ops before</th><th>ops after</th><th>fused</th><th>removed "
        "nodes</th></tr>\n";
  if (const json::Array *passes = top ? top->getArray("passes") : nullptr)
    for (const json::Value &entry : *passes) {
      const json::Object *pass = entry.getAsObject();
      if (!pass)
        continue;
      int64_t fused = 0, removed = 0;
      if (const json::Array *f = pass->getArray("fused"))
        fused = f->size();
      if (const json::Array *r = pass->getArray("removed_nodes"))
        removed = r->size();
      os << "<tr><td>" << escapeHtml(pass->getString("pass").value_or(""))
         << "</td><td>" << escapeHtml(pass->getString("stage").value_or(""))
         << "</td><td class=\"n\">"
         << pass->getInteger("ops_before").value_or(0)
         << "</td><td class=\"n\">" << pass->getInteger("ops_after").value_or(0)
         << "</td><td class=\"n\">" << fused << "</td><td class=\"n\">"
         << removed << "</td></tr>\n";
    }
  os << "</table>\n<p>The same report as JSON: <code>--report=FILE.json"
        "</code> (docs/report-schema.md).</p>\n</body>\n</html>\n";
  return html;
}
