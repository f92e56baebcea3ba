//===- Importer.cpp - ONNX model to kiln dialect --------------------------===//
//
// Loads the model (binary or text), checks it (every op supported, every value
// defined, no cycles), and builds one func.func of kiln ops in topological
// order. Op-specific work lives in the op-family files behind OpRegistry.
//
//===----------------------------------------------------------------------===//

#include "kiln/Frontend/ONNX/Importer.h"

#include "NodeImporter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include <map>

#include "onnx/defs/parser.h"
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>

#include <fcntl.h>
#include <stdexcept>
#include <unistd.h>

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

/// The range of default-domain opsets Kiln implements.
static constexpr int64_t kOldestOpset = 7;
static constexpr int64_t kNewestOpset = 21;

void kiln::loadONNXImportDialects(MLIRContext &context) {
  context.loadDialect<KilnDialect, func::FuncDialect, arith::ArithDialect,
                      scf::SCFDialect, tensor::TensorDialect>();
}

namespace {

/// Imports one model file.
class ModelImporter {
public:
  ModelImporter(MLIRContext &context, StringRef path,
                const ONNXImportOptions &options)
      : context(context), path(path.str()), options(options),
        builder(&context) {}

  OwningOpRef<ModuleOp> run();

private:
  LogicalResult load();
  LogicalResult readOpsets();
  LogicalResult checkOpsSupported();
  FailureOr<std::vector<int>> sortNodes(const onnx::GraphProto &graph);
  FailureOr<RankedTensorType>
  convertInputType(const onnx::ValueInfoProto &info);
  FailureOr<std::unique_ptr<std::string>>
  readExternalData(const onnx::TensorProto &tensor);
  LogicalResult importInitializers(onnx::GraphProto &graph, bool adopt);
  LogicalResult importNode(const onnx::NodeProto &node);
  FailureOr<SmallVector<Value>> importSubgraph(const onnx::GraphProto &graph,
                                               ValueRange inputs);
  FailureOr<Value> lookup(const onnx::NodeProto &node, const std::string &name);

  /// The opset of `domain` in this model (0 when not imported).
  int64_t opsetOf(StringRef domain) const {
    auto it = opsets.find(domain == "ai.onnx" ? "" : domain);
    return it == opsets.end() ? 0 : it->second;
  }
  Location fileLoc() {
    return FileLineColLoc::get(&context, path, /*line=*/0, /*column=*/0);
  }
  Location nodeLoc(const onnx::NodeProto &node) {
    return FusedLoc::get({NameLoc::get(StringAttr::get(&context, node.name()))},
                         StringAttr::get(&context, "onnx." + node.op_type()),
                         &context);
  }
  static std::string describe(const onnx::NodeProto &node) {
    return "node '" + node.name() + "' (" + node.op_type() + ")";
  }

  MLIRContext &context;
  std::string path;
  const ONNXImportOptions &options;
  OpBuilder builder;
  onnx::ModelProto model;
  llvm::StringMap<int64_t> opsets;
  /// The value of every ONNX name defined so far.
  llvm::StringMap<Value> values;
  /// Outputs Kiln does not produce (e.g. MaxPool's Indices), with the node
  /// that declares them; an error only if something uses them.
  llvm::StringMap<std::string> unsupportedOutputs;
};

} // namespace

/// Calls `fn` on every node of `graph` and of the graphs in its nodes'
/// attributes (the bodies of If, Loop, Scan), outer nodes first.
static void forEachNode(const onnx::GraphProto &graph,
                        llvm::function_ref<void(const onnx::NodeProto &)> fn) {
  for (const onnx::NodeProto &node : graph.node()) {
    fn(node);
    for (const onnx::AttributeProto &attr : node.attribute()) {
      if (attr.has_g())
        forEachNode(attr.g(), fn);
      for (const onnx::GraphProto &g : attr.graphs())
        forEachNode(g, fn);
    }
  }
}

/// Names unnamed nodes after their op type and position, prefixed in
/// subgraphs with the name of the node that holds them.
static void nameNodes(onnx::GraphProto &graph, const std::string &prefix) {
  for (auto [i, node] : llvm::enumerate(*graph.mutable_node())) {
    if (node.name().empty())
      node.set_name(prefix + node.op_type() + "_" + std::to_string(i));
    for (onnx::AttributeProto &attr : *node.mutable_attribute())
      if (attr.has_g())
        nameNodes(*attr.mutable_g(), node.name() + "/");
  }
}

/// The names the graphs in `node`'s attributes use from enclosing scopes:
/// used there and not defined there.
static void collectOuterUses(const onnx::GraphProto &graph,
                             llvm::StringSet<> &uses) {
  llvm::StringSet<> defined;
  for (const onnx::ValueInfoProto &input : graph.input())
    defined.insert(input.name());
  for (const onnx::TensorProto &init : graph.initializer())
    defined.insert(init.name());
  for (const onnx::NodeProto &node : graph.node())
    for (const std::string &output : node.output())
      defined.insert(output);
  llvm::StringSet<> inner;
  for (const onnx::NodeProto &node : graph.node()) {
    for (const std::string &input : node.input())
      inner.insert(input);
    for (const onnx::AttributeProto &attr : node.attribute())
      if (attr.has_g())
        collectOuterUses(attr.g(), inner);
  }
  for (const auto &name : inner)
    if (!name.getKey().empty() && !defined.contains(name.getKey()))
      uses.insert(name.getKey());
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

LogicalResult ModelImporter::load() {
  if (llvm::sys::fs::is_directory(path))
    return emitError(fileLoc()) << "'" << path
                                << "' is a directory, not an "
                                   "ONNX model file";
  bool text = llvm::sys::path::extension(path) == ".onnxtxt";
  if (text) {
    auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
    if (!buffer)
      return emitError(fileLoc())
             << "cannot read '" << path << "': " << buffer.getError().message();
    std::string source = (*buffer)->getBuffer().str();
    onnx::OnnxParser parser(source.c_str());
    onnx::Common::Status status;
    // ONNX's text parser converts literals with std::stof and friends, which
    // throw on a malformed or out-of-range number instead of reporting it.
    try {
      status = parser.Parse(model);
    } catch (const std::invalid_argument &) {
      return emitError(fileLoc()) << "'" << path
                                  << "' is not valid ONNX text format: a "
                                     "numeric literal is malformed";
    } catch (const std::out_of_range &) {
      return emitError(fileLoc())
             << "'" << path
             << "' is not valid ONNX text format: a numeric literal is out of "
                "range for its type";
    } catch (const std::exception &e) {
      return emitError(fileLoc())
             << "'" << path << "' is not valid ONNX text format: " << e.what();
    }
    if (!status.IsOK())
      return emitError(fileLoc())
             << "'" << path << "' is not valid ONNX text format: "
             << StringRef(status.ErrorMessage()).trim();
    return success();
  }

  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return emitError(fileLoc())
           << "cannot open '" << path << "': " << std::strerror(errno);
  bool parsed;
  {
    google::protobuf::io::FileInputStream file(fd);
    file.SetCloseOnDelete(true);
    google::protobuf::io::CodedInputStream coded(&file);
    coded.SetTotalBytesLimit(INT_MAX);
    parsed = model.ParseFromCodedStream(&coded) &&
             coded.ConsumedEntireMessage() && file.GetErrno() == 0;
  }
  if (!parsed || !model.has_graph())
    return emitError(fileLoc())
           << "'" << path
           << "' is not an ONNX model (not a ModelProto, or truncated); "
              "ONNX text format files need the .onnxtxt extension";
  return success();
}

LogicalResult ModelImporter::readOpsets() {
  for (const onnx::OperatorSetIdProto &opset : model.opset_import())
    opsets[opset.domain() == "ai.onnx" ? "" : opset.domain()] = opset.version();
  // IR version 2 models may omit opset_import; ONNX then means opset 1.
  int64_t opset = opsetOf("");
  if (opset == 0)
    return emitError(fileLoc()) << "'" << path
                                << "' imports no opset of the default ONNX "
                                   "domain";
  if (opset < kOldestOpset)
    return emitError(fileLoc())
           << "'" << path << "' uses opset " << opset
           << "; Kiln supports opsets " << kOldestOpset << " to "
           << kNewestOpset
           << " (convert the model with onnx.version_converter)";
  if (opset > kNewestOpset)
    emitWarning(fileLoc()) << "'" << path << "' uses opset " << opset
                           << ", newer than Kiln knows (" << kNewestOpset
                           << "); ops are imported with their opset "
                           << kNewestOpset << " semantics";
  return success();
}

LogicalResult ModelImporter::checkOpsSupported() {
  const OpRegistry &registry = OpRegistry::get();
  std::map<std::string, int> unsupported;
  forEachNode(model.graph(), [&](const onnx::NodeProto &node) {
    int oldest = 0;
    int64_t opset = opsetOf(node.domain());
    std::string domain = node.domain().empty() || node.domain() == "ai.onnx"
                             ? ""
                             : node.domain() + ".";
    if (!registry.lookup(node.domain(), node.op_type(), opset, &oldest)) {
      std::string key = domain + node.op_type();
      if (oldest > opset)
        key += " (opset " + std::to_string(opset) +
               "; Kiln has it from opset " + std::to_string(oldest) + ")";
      ++unsupported[key];
    }
  });
  if (unsupported.empty())
    return success();
  InFlightDiagnostic diag = emitError(fileLoc());
  diag << "'" << path << "' uses " << unsupported.size()
       << " ONNX operator type" << (unsupported.size() == 1 ? "" : "s")
       << " that Kiln does not support: ";
  llvm::interleaveComma(unsupported, diag, [&](const auto &entry) {
    diag << entry.first << " (" << entry.second << " node"
         << (entry.second == 1 ? "" : "s") << ")";
  });
  return diag;
}

/// Orders the nodes so that every value is defined before its use (ONNX
/// requires it, but not every producer honors it) and reports undefined
/// values and cycles.
FailureOr<std::vector<int>>
ModelImporter::sortNodes(const onnx::GraphProto &graph) {
  // Values of enclosing graphs (for a subgraph) are defined already.
  llvm::StringSet<> defined;
  for (const auto &entry : values)
    defined.insert(entry.getKey());
  for (const onnx::ValueInfoProto &input : graph.input())
    defined.insert(input.name());
  for (const onnx::TensorProto &init : graph.initializer())
    defined.insert(init.name());
  llvm::StringMap<int> producer;
  for (auto [i, node] : llvm::enumerate(graph.node())) {
    for (const std::string &output : node.output()) {
      if (output.empty())
        continue;
      if (defined.contains(output))
        return emitError(nodeLoc(node))
               << describe(node) << " defines '" << output
               << "', which is already a graph input or initializer";
      auto [it, inserted] = producer.try_emplace(output, i);
      if (!inserted)
        return emitError(nodeLoc(node))
               << describe(node) << " defines '" << output << "', which "
               << describe(graph.node(it->second))
               << " already defines (ONNX values have one definition)";
    }
  }

  int count = graph.node_size();
  std::vector<int> pending(count, 0);
  std::vector<std::vector<int>> users(count);
  for (auto [i, node] : llvm::enumerate(graph.node())) {
    // A node's own inputs, then what the graphs in its attributes use from
    // this graph.
    llvm::StringSet<> outerUses;
    for (const onnx::AttributeProto &attr : node.attribute())
      if (attr.has_g())
        collectOuterUses(attr.g(), outerUses);
    SmallVector<std::string> inputs(node.input().begin(), node.input().end());
    for (const auto &name : outerUses)
      if (!llvm::is_contained(inputs, name.getKey().str()))
        inputs.push_back(name.getKey().str());
    for (const std::string &input : inputs) {
      if (input.empty() || defined.contains(input))
        continue;
      auto it = producer.find(input);
      if (it == producer.end())
        return emitError(nodeLoc(node))
               << describe(node) << " uses '" << input
               << "', which no node, graph input or initializer defines";
      ++pending[i];
      users[it->second].push_back(i);
    }
  }
  std::vector<int> order, ready;
  for (int i = count - 1; i >= 0; --i)
    if (pending[i] == 0)
      ready.push_back(i);
  while (!ready.empty()) {
    int i = ready.back();
    ready.pop_back();
    order.push_back(i);
    for (int user : llvm::reverse(users[i]))
      if (--pending[user] == 0)
        ready.push_back(user);
  }
  if (static_cast<int>(order.size()) == count)
    return order;
  InFlightDiagnostic diag = emitError(fileLoc());
  diag << "'" << path
       << "' has a cycle; these nodes are on it or wait for it: ";
  int listed = 0;
  for (int i = 0; i < count && listed < 8; ++i)
    if (pending[i] > 0) {
      diag << (listed++ ? ", " : "") << describe(graph.node(i));
    }
  return diag;
}

//===----------------------------------------------------------------------===//
// Values: inputs and initializers
//===----------------------------------------------------------------------===//

FailureOr<RankedTensorType>
ModelImporter::convertInputType(const onnx::ValueInfoProto &info) {
  const onnx::TypeProto &type = info.type();
  if (!type.has_tensor_type())
    return emitError(fileLoc())
           << "graph input '" << info.name()
           << "' is not a tensor (sequence, map and optional inputs are not "
              "supported)";
  Type element = convertElementType(&context, type.tensor_type().elem_type());
  if (!element)
    return emitError(fileLoc())
           << "graph input '" << info.name()
           << "' has an element type Kiln does not support ("
           << onnx::TensorProto::DataType_Name(
                  static_cast<onnx::TensorProto::DataType>(
                      type.tensor_type().elem_type()))
           << ")";
  auto it = options.inputShapes.find(info.name());
  if (it != options.inputShapes.end()) {
    if (type.tensor_type().has_shape() &&
        type.tensor_type().shape().dim_size() !=
            static_cast<int>(it->second.size()))
      return emitError(fileLoc())
             << "--input-shape gives input '" << info.name() << "' rank "
             << it->second.size() << " but the model says rank "
             << type.tensor_type().shape().dim_size();
    for (auto [i, dim] : llvm::enumerate(it->second)) {
      if (ShapedType::isDynamic(dim) || !type.tensor_type().has_shape())
        continue;
      const onnx::TensorShapeProto::Dimension &declared =
          type.tensor_type().shape().dim(i);
      if (declared.has_dim_value() && declared.dim_value() != dim)
        return emitError(fileLoc())
               << "--input-shape gives input '" << info.name() << "' dim " << i
               << " = " << dim << " but the model fixes it to "
               << declared.dim_value();
    }
    return RankedTensorType::get(it->second, element);
  }
  if (!type.tensor_type().has_shape())
    return emitError(fileLoc())
           << "graph input '" << info.name()
           << "' has no shape (unknown rank); give one with --input-shape="
           << info.name() << ":DIMxDIM...";
  SmallVector<int64_t> shape;
  for (const onnx::TensorShapeProto::Dimension &dim :
       type.tensor_type().shape().dim())
    shape.push_back(dim.has_dim_value() && dim.dim_value() >= 0
                        ? dim.dim_value()
                        : ShapedType::kDynamic);
  return RankedTensorType::get(shape, element);
}

FailureOr<std::unique_ptr<std::string>>
ModelImporter::readExternalData(const onnx::TensorProto &tensor) {
  std::string location;
  int64_t offset = 0, length = -1;
  for (const onnx::StringStringEntryProto &entry : tensor.external_data()) {
    if (entry.key() == "location")
      location = entry.value();
    else if (entry.key() == "offset")
      offset = std::strtoll(entry.value().c_str(), nullptr, 10);
    else if (entry.key() == "length")
      length = std::strtoll(entry.value().c_str(), nullptr, 10);
  }
  auto fail = [&]() {
    return emitError(fileLoc())
           << "initializer '" << tensor.name() << "' has external data '"
           << location << "' that ";
  };
  if (location.empty())
    return fail() << "names no location";
  // The data must stay inside the model's directory: no absolute paths, no
  // '..', and no symbolic link that leads out.
  if (llvm::sys::path::is_absolute(location))
    return fail() << "is an absolute path; external data must lie in the "
                     "model's directory";
  for (StringRef part : llvm::make_range(llvm::sys::path::begin(location),
                                         llvm::sys::path::end(location)))
    if (part == "..")
      return fail() << "leaves the model's directory ('..')";
  SmallString<256> dir(path);
  llvm::sys::path::remove_filename(dir);
  if (dir.empty())
    dir = ".";
  SmallString<256> file(dir);
  llvm::sys::path::append(file, location);
  SmallString<256> realDir, realFile;
  if (llvm::sys::fs::real_path(dir, realDir) ||
      llvm::sys::fs::real_path(file, realFile))
    return fail() << "cannot be found next to the model";
  if (!StringRef(realFile).starts_with((realDir + "/").str()))
    return fail() << "resolves outside the model's directory";
  if (offset < 0)
    return fail() << "has a negative offset";

  auto buffer = llvm::MemoryBuffer::getFileSlice(
      realFile, length < 0 ? -1 : length, offset, /*IsVolatile=*/false);
  uint64_t size = 0;
  llvm::sys::fs::file_size(realFile, size);
  if (length < 0) {
    if (static_cast<uint64_t>(offset) > size)
      return fail() << "starts past the end of the file";
    buffer = llvm::MemoryBuffer::getFileSlice(realFile, size - offset, offset,
                                              /*IsVolatile=*/false);
  } else if (static_cast<uint64_t>(offset + length) > size) {
    return fail() << "is shorter than offset + length (" << offset << " + "
                  << length << " > " << size << " bytes)";
  }
  if (!buffer)
    return fail() << "cannot be read: " << buffer.getError().message();
  return std::make_unique<std::string>((*buffer)->getBuffer().str());
}

LogicalResult ModelImporter::importInitializers(onnx::GraphProto &graph,
                                                bool adopt) {
  for (onnx::TensorProto &init : *graph.mutable_initializer()) {
    std::unique_ptr<std::string> data;
    if (init.data_location() == onnx::TensorProto::EXTERNAL) {
      FailureOr<std::unique_ptr<std::string>> external = readExternalData(init);
      if (failed(external))
        return failure();
      data = std::move(*external);
    } else if (adopt && init.has_raw_data()) {
      // Take the bytes from the protobuf instead of copying them.
      data.reset(init.release_raw_data());
    }
    Location loc = NameLoc::get(StringAttr::get(&context, init.name()));
    FailureOr<ElementsAttr> value = convertTensor(
        &context, init, init.name(),
        [&] { return emitError(fileLoc()) << "initializer: "; },
        std::move(data));
    if (failed(value))
      return failure();
    values[init.name()] = ConstantOp::create(builder, loc, *value);
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Nodes
//===----------------------------------------------------------------------===//

FailureOr<Value> ModelImporter::lookup(const onnx::NodeProto &node,
                                       const std::string &name) {
  auto it = values.find(name);
  if (it != values.end())
    return it->second;
  auto bad = unsupportedOutputs.find(name);
  if (bad != unsupportedOutputs.end())
    return emitError(nodeLoc(node))
           << describe(node) << " uses '" << name << "', " << bad->second
           << ", which Kiln does not produce";
  return emitError(nodeLoc(node))
         << describe(node) << " uses undefined '" << name << "'";
}

/// Whether `node`'s handler takes sequences and optionals (their packed
/// values) as well as tensors.
static bool takesNonTensors(const onnx::NodeProto &node) {
  if (!node.domain().empty() && node.domain() != "ai.onnx")
    return false;
  StringRef type = node.op_type();
  return type.starts_with("Sequence") || type.starts_with("Optional") ||
         type == "SplitToSequence" || type == "ConcatFromSequence" ||
         type == "Identity" || type == "If" || type == "Loop";
}

/// Erases the casts that packed sequences and optionals while importing:
/// once the graph is imported, every consumer has taken their parts.
static LogicalResult erasePackedValues(ModuleOp module) {
  SmallVector<UnrealizedConversionCastOp> casts;
  module.walk([&](UnrealizedConversionCastOp cast) {
    if (cast->hasAttr("kiln.value"))
      casts.push_back(cast);
  });
  // A packed value may pack another's parts: erase users first.
  bool erased = true;
  while (erased) {
    erased = false;
    for (UnrealizedConversionCastOp &cast : casts)
      if (cast && cast->use_empty()) {
        cast.erase();
        cast = nullptr;
        erased = true;
      }
  }
  for (UnrealizedConversionCastOp cast : casts)
    if (cast)
      return cast.emitError("internal error: a sequence or optional value is "
                            "still used as a whole after import");
  return success();
}

LogicalResult ModelImporter::importNode(const onnx::NodeProto &node) {
  SmallVector<Value> operands;
  for (const std::string &name : node.input()) {
    if (name.empty()) {
      operands.push_back(Value());
      continue;
    }
    FailureOr<Value> value = lookup(node, name);
    if (failed(value))
      return failure();
    operands.push_back(*value);
  }
  const OpHandler *handler = OpRegistry::get().lookup(
      node.domain(), node.op_type(), opsetOf(node.domain()));
  assert(handler && "checkOpsSupported admits only known ops");
  if (!takesNonTensors(node))
    for (auto [i, value] : llvm::enumerate(operands))
      if (value && valueKind(value) != ValueKind::Tensor)
        return emitError(nodeLoc(node))
               << describe(node) << ": input " << i << " ('" << node.input(i)
               << "') is " << describeKind(valueKind(value))
               << "; Kiln takes sequences and optionals in the Sequence*, "
                  "Optional*, SplitToSequence, ConcatFromSequence, Identity, "
                  "If and Loop ops only";

  // Handlers report errors at the node's location; the note says which node
  // that is for printers that do not show locations.
  NodeImporter importer(
      node, builder, nodeLoc(node), opsetOf(node.domain()), std::move(operands),
      [this](const onnx::GraphProto &graph, ValueRange inputs) {
        return importSubgraph(graph, inputs);
      });
  if (failed((*handler)(importer)))
    return failure();
  ArrayRef<Value> results = importer.getResults();
  for (auto [i, name] : llvm::enumerate(node.output())) {
    if (name.empty())
      continue;
    if (i < results.size())
      values[name] = results[i];
    else
      unsupportedOutputs[name] =
          "output " + std::to_string(i) + " of " + describe(node);
  }
  return success();
}

FailureOr<SmallVector<Value>>
ModelImporter::importSubgraph(const onnx::GraphProto &graph,
                              ValueRange inputs) {
  // The subgraph's names shadow the enclosing ones until it is done. A body
  // may be imported more than once (an unrolled Scan), so its initializers
  // are copied, not adopted.
  llvm::StringMap<Value> enclosing = values;
  llvm::scope_exit restore([&] { values = std::move(enclosing); });
  for (auto [input, value] : llvm::zip_equal(graph.input(), inputs))
    values[input.name()] = value;
  if (failed(importInitializers(const_cast<onnx::GraphProto &>(graph),
                                /*adopt=*/false)))
    return failure();
  FailureOr<std::vector<int>> order = sortNodes(graph);
  if (failed(order))
    return failure();
  for (int index : *order)
    if (failed(importNode(graph.node(index))))
      return failure();
  SmallVector<Value> outputs;
  for (const onnx::ValueInfoProto &output : graph.output()) {
    auto it = values.find(output.name());
    if (it == values.end())
      return emitError(fileLoc())
             << "output '" << output.name() << "' of graph '" << graph.name()
             << "' is not defined by any node, input or initializer";
    outputs.push_back(it->second);
  }
  return outputs;
}

OwningOpRef<ModuleOp> ModelImporter::run() {
  loadONNXImportDialects(context);
  if (failed(load()) || failed(readOpsets()) || failed(checkOpsSupported()))
    return nullptr;
  onnx::GraphProto &graph = *model.mutable_graph();

  // Unnamed nodes get a name from their op type and position.
  nameNodes(graph, "");
  FailureOr<std::vector<int>> order = sortNodes(graph);
  if (failed(order))
    return nullptr;

  OwningOpRef<ModuleOp> module = ModuleOp::create(fileLoc());
  (*module)->setAttr("kiln.opset", builder.getI64IntegerAttr(opsetOf("")));
  if (!model.producer_name().empty())
    (*module)->setAttr(
        "kiln.producer",
        builder.getStringAttr(model.producer_name() +
                              (model.producer_version().empty()
                                   ? ""
                                   : " " + model.producer_version())));

  // Graph inputs; older models list initializers among the inputs too.
  llvm::StringSet<> initializers;
  for (const onnx::TensorProto &init : graph.initializer())
    initializers.insert(init.name());
  SmallVector<const onnx::ValueInfoProto *> inputs;
  SmallVector<ValueKind> inputKinds;
  SmallVector<Type> inputTypes; // every input's parts, in order
  for (const onnx::ValueInfoProto &input : graph.input()) {
    if (initializers.contains(input.name()))
      continue;
    if (input.type().has_sequence_type() || input.type().has_optional_type()) {
      std::string error;
      auto converted = convertValueType(&context, input.type(), error);
      if (failed(converted)) {
        emitError(fileLoc()) << "graph input '" << input.name()
                             << "' cannot be imported: " << error;
        return nullptr;
      }
      if (options.inputShapes.count(input.name())) {
        emitError(fileLoc()) << "--input-shape names '" << input.name()
                             << "', which is " << describeKind(converted->first)
                             << "; it fixes the shapes of tensor inputs only";
        return nullptr;
      }
      inputs.push_back(&input);
      inputKinds.push_back(converted->first);
      llvm::append_range(inputTypes, converted->second);
      continue;
    }
    FailureOr<RankedTensorType> type = convertInputType(input);
    if (failed(type))
      return nullptr;
    inputs.push_back(&input);
    inputKinds.push_back(ValueKind::Tensor);
    inputTypes.push_back(*type);
  }
  for (const auto &entry : options.inputShapes)
    if (!llvm::any_of(inputs, [&](const onnx::ValueInfoProto *input) {
          return input->name() == entry.getKey();
        })) {
      emitError(fileLoc()) << "--input-shape names '" << entry.getKey()
                           << "', which is not an input of the model";
      return nullptr;
    }

  builder.setInsertionPointToEnd(module->getBody());
  auto func = func::FuncOp::create(
      builder, NameLoc::get(builder.getStringAttr(graph.name())),
      options.functionName, builder.getFunctionType(inputTypes, {}));
  Block *entry = func.addEntryBlock();
  builder.setInsertionPointToStart(entry);
  unsigned argument = 0;
  for (auto [input, kind] : llvm::zip_equal(inputs, inputKinds)) {
    unsigned count = partCount(kind);
    SmallVector<StringRef> parts = partNames(kind);
    for (unsigned p = 0; p < count; ++p) {
      func.setArgAttr(argument + p, "kiln.name",
                      builder.getStringAttr(input->name()));
      if (!parts.empty())
        func.setArgAttr(argument + p, "kiln.part",
                        builder.getStringAttr(parts[p]));
    }
    values[input->name()] = packValue(
        builder, fileLoc(), kind, entry->getArguments().slice(argument, count));
    argument += count;
  }

  if (failed(importInitializers(graph, /*adopt=*/true)))
    return nullptr;
  for (int index : *order)
    if (failed(importNode(*graph.mutable_node(index))))
      return nullptr;

  SmallVector<Value> results;
  SmallVector<std::pair<std::string, StringRef>> resultNames; // name, part
  for (const onnx::ValueInfoProto &output : graph.output()) {
    auto it = values.find(output.name());
    if (it == values.end()) {
      auto bad = unsupportedOutputs.find(output.name());
      if (bad != unsupportedOutputs.end())
        emitError(fileLoc()) << "graph output '" << output.name() << "' is "
                             << bad->second << ", which Kiln does not produce";
      else
        emitError(fileLoc()) << "graph output '" << output.name()
                             << "' is not defined by any node, input or "
                                "initializer";
      return nullptr;
    }
    ValueKind kind = valueKind(it->second);
    SmallVector<StringRef> parts = partNames(kind);
    for (auto [p, part] : llvm::enumerate(valueParts(it->second))) {
      results.push_back(part);
      resultNames.emplace_back(output.name(),
                               parts.empty() ? StringRef() : parts[p]);
    }
  }
  func::ReturnOp::create(builder, fileLoc(), results);
  func.setType(
      builder.getFunctionType(inputTypes, ValueRange(results).getTypes()));
  for (auto [i, name] : llvm::enumerate(resultNames)) {
    func.setResultAttr(i, "kiln.name", builder.getStringAttr(name.first));
    if (!name.second.empty())
      func.setResultAttr(i, "kiln.part", builder.getStringAttr(name.second));
  }
  if (failed(erasePackedValues(*module)))
    return nullptr;

  if (failed(verify(*module)))
    return nullptr;
  return module;
}

OwningOpRef<ModuleOp> kiln::importONNXFile(MLIRContext &context, StringRef path,
                                           const ONNXImportOptions &options) {
  return ModelImporter(context, path, options).run();
}

LogicalResult kiln::parseInputShape(StringRef spec, ONNXImportOptions &options,
                                    std::string &message) {
  auto [name, dims] = spec.rsplit(':');
  if (name.empty() || !spec.contains(':')) {
    message = "--input-shape expects NAME:DIMxDIM..., got '" + spec.str() + "'";
    return failure();
  }
  SmallVector<int64_t> shape;
  if (!dims.empty()) {
    SmallVector<StringRef> parts;
    dims.split(parts, 'x');
    for (StringRef part : parts) {
      int64_t dim;
      if (part == "?") {
        shape.push_back(ShapedType::kDynamic);
      } else if (part.getAsInteger(10, dim) || dim < 0) {
        message = "--input-shape: bad dim '" + part.str() + "' in '" +
                  spec.str() + "' (use a non-negative integer or ?)";
        return failure();
      } else {
        shape.push_back(dim);
      }
    }
  }
  options.inputShapes[name] = shape;
  return success();
}
