//===- SequenceOps.cpp - import of sequence and optional ops --------------===//
//
// Sequences and optionals are carried by dense parts (NodeImporter.h): a
// sequence by its elements' values, flattened and concatenated, and their
// shapes as a [count, rank] matrix. Every sequence op is a composition of
// kiln ops on those parts: an element's offset is the running sum of the
// elements' sizes (the products of their shape rows); SequenceAt slices the
// values and reshapes them by the element's shape row; insertion and erasure
// concatenate slices of both parts. SplitToSequence and ConcatFromSequence
// along an inner axis reorder the values with one scatter or gather whose
// indices say where each value goes. SequenceMap is expanded to the Loop
// ONNX defines it by. An optional is a presence flag and its value's parts.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

namespace {

/// A sequence's parts.
struct Sequence {
  Value elements; // tensor<?xT>
  Value shapes;   // tensor<?xRxi64>
};

/// The sequence ops' building blocks on top of Decomposer.
class SequenceBuilder : public Decomposer {
public:
  explicit SequenceBuilder(NodeImporter &n) : Decomposer(n) {}

  Type i64() { return n.getBuilder().getI64Type(); }

  /// The parts of operand `i`, which must be a sequence.
  FailureOr<Sequence> sequenceOperand(size_t i) {
    if (!n.hasOperand(i))
      return n.emitError() << "input " << i << " is missing";
    Value v = n.operand(i);
    if (valueKind(v) != ValueKind::Sequence)
      return n.emitError() << "input " << i << " must be a sequence, got "
                           << describeKind(valueKind(v));
    SmallVector<Value> parts = valueParts(v);
    return Sequence{parts[0], parts[1]};
  }
  /// Operand `i`, which must be a tensor.
  FailureOr<Value> tensorOperand(size_t i) {
    if (!n.hasOperand(i))
      return n.emitError() << "input " << i << " is missing";
    Value v = n.operand(i);
    if (valueKind(v) != ValueKind::Tensor)
      return n.emitError() << "input " << i << " must be a tensor, got "
                           << describeKind(valueKind(v));
    return v;
  }
  /// The sequence of `s`'s parts, as the node's result value.
  Value pack(Sequence s) {
    if (failed() || !s.elements || !s.shapes)
      return fail();
    return packValue(n.getBuilder(), n.getLoc(), ValueKind::Sequence,
                     {s.elements, s.shapes});
  }

  /// An empty sequence of `element` tensors whose shape rows have `width`
  /// entries (0 when the rank is not known yet).
  Sequence empty(Type element, int64_t width) {
    auto none = [&](RankedTensorType type) {
      return op<ConstantOp>(
          {}, {n.named("value",
                       DenseElementsAttr::get(type, ArrayRef<Attribute>{}))});
    };
    return {none(RankedTensorType::get({0}, element)),
            none(RankedTensorType::get({0, width}, i64()))};
  }
  /// A bool scalar constant: an optional's presence flag.
  Value flag(bool present) {
    auto type = RankedTensorType::get({}, n.getBuilder().getI1Type());
    return op<ConstantOp>(
        {}, {n.named("value", DenseElementsAttr::get(type, present))});
  }

  /// The static element rank of `s`, or nullopt.
  static std::optional<int64_t> rankOf(Sequence s) {
    int64_t width = cast<RankedTensorType>(s.shapes.getType()).getDimSize(1);
    if (ShapedType::isDynamic(width))
      return std::nullopt;
    return width;
  }
  /// `v`'s values as a 1-D tensor.
  Value flat(Value v) { return reshape(v, ints({-1})); }
  /// `v`'s shape as a [1, rank] row.
  Value shapeRow(Value v) { return unsqueeze(shape(v), {0}); }
  /// A rank-0 i64 of a scalar or one-element operand.
  Value scalarI64(Value v) {
    v = convert(v, i64());
    return v && rank(v) != 0 ? reshape(v, ints({})) : v;
  }
  /// The number of elements of `s`, rank 0.
  Value count(Sequence s) { return reshape(dim(s.shapes, 0), ints({})); }
  /// Each element's number of values, [count].
  Value sizes(Sequence s) {
    return reduce<ReduceProdOp>(s.shapes, {1}, /*keepdims=*/false);
  }
  /// Where each element starts in the values, and the total after them:
  /// [count + 1].
  Value offsets(Sequence s) {
    Value ends =
        op<CumSumOp>({sizes(s), ints({0})}, {n.namedBool("exclusive", false),
                                             n.namedBool("reverse", false)});
    return concat({ints({0}), ends});
  }
  /// `position` (rank 0, negative counting from the end) as an index into
  /// `count` elements.
  Value wrap(Value position, Value count) {
    Value negative = op<LessOp>({position, scalar(i64(), 0)});
    return op<WhereOp>({negative, op<AddOp>({position, count}), position});
  }
  /// Element `i` (rank 0) of 1-D `v`, rank 0.
  Value at(Value v, Value i) {
    return op<GatherOp>({v, i}, {n.namedI64("axis", 0)});
  }
  /// `v` from `begin` to `end` (rank-0 values; null for the start or the
  /// end) along dim 0.
  Value range(Value v, Value begin, Value end) {
    Value from = begin ? reshape(begin, ints({1})) : ints({0});
    Value to = end ? reshape(end, ints({1}))
                   : ints({std::numeric_limits<int64_t>::max()});
    return op<SliceOp>({v, from, to, ints({0}), ints({1})});
  }
  /// `s.shapes` with rows of width `width` (a sequence whose width the
  /// importer does not know, or one still empty, takes the width of what is
  /// put into it; elements of one sequence share their rank).
  Value shapesOfWidth(Sequence s, int64_t width) {
    if (rankOf(s) == width)
      return s.shapes;
    return op<ReshapeOp>({s.shapes, concat({dim(s.shapes, 0), ints({width})})},
                         {n.namedBool("allowzero", true)});
  }
  /// Reshape with ONNX's allowzero: a 0 in `shape` is an extent of 0.
  Value reshapeExact(Value v, Value shape) {
    return op<ReshapeOp>({v, shape}, {n.namedBool("allowzero", true)});
  }
  /// The product of 1-D `v`'s values, rank 0 (1 when empty).
  Value product(Value v) {
    return reduce<ReduceProdOp>(v, {0}, /*keepdims=*/false);
  }

  /// Where the values of slices along an axis go when they are regrouped:
  /// for a tensor viewed as [outer, n, inner] whose positions along the
  /// axis form groups (position j in group e(j), which starts at o(j) and
  /// has len(j) positions), the flat index of value (o, j, k) when the
  /// groups are laid out one after the other, each in row-major order:
  /// outer * inner * o(j) + (o * len(j) + j - o(j)) * inner + k. `lengths`
  /// holds each group's length; returns the [outer * n * inner] indices.
  Value regroupIndices(Value outer, Value inner, Value lengths) {
    Value ends =
        op<CumSumOp>({lengths, ints({0})}, {n.namedBool("exclusive", false),
                                            n.namedBool("reverse", false)});
    Value starts = op<SubOp>({ends, lengths});
    Value total =
        reshape(op<ReduceSumOp>(lengths, {n.namedI64s("axes", {0}),
                                          n.namedBool("keepdims", false)}),
                ints({}));
    // The group of each position: how many groups end at or before it.
    Value j = iota(total);
    Value group = reduce<ReduceSumOp>(
        convert(op<GreaterOrEqualOp>({unsqueeze(j, {1}), unsqueeze(ends, {0})}),
                i64()),
        {1}, /*keepdims=*/false);
    Value groupStart = at(starts, group);
    Value groupLength = at(lengths, group);
    Value o = unsqueeze(iota(outer), {1, 2});    // [outer, 1, 1]
    Value k = unsqueeze(iota(inner), {0, 1});    // [1, 1, inner]
    Value start = unsqueeze(groupStart, {0, 2}); // [1, n, 1]
    Value length = unsqueeze(groupLength, {0, 2});
    Value position = unsqueeze(j, {0, 2});
    Value base = op<MulOp>({op<MulOp>({outer, inner}), start});
    Value within = op<MulOp>(
        {op<AddOp>({op<MulOp>({o, length}), op<SubOp>({position, start})}),
         inner});
    return flat(op<AddOp>({op<AddOp>({base, within}), k}));
  }
};

} // namespace

static LogicalResult importSequenceEmpty(NodeImporter &n) {
  Type element =
      convertElementType(n.getContext(), n.intAttr("dtype", 1 /*float*/));
  if (!element)
    return n.emitError() << "unsupported dtype " << n.intAttr("dtype", 1);
  SequenceBuilder b(n);
  // The element rank is unknown until something is inserted: rows of
  // width 0.
  Value sequence = b.pack(b.empty(element, 0));
  if (b.failed())
    return failure();
  return n.setResults(sequence);
}

static LogicalResult importSequenceConstruct(NodeImporter &n) {
  if (n.getNumOperands() == 0)
    return n.emitError() << "needs at least one tensor";
  SequenceBuilder b(n);
  SmallVector<Value> values, rows;
  for (size_t i = 0; i < n.getNumOperands(); ++i) {
    FailureOr<Value> t = b.tensorOperand(i);
    if (failed(t))
      return failure();
    if (Decomposer::elementType(*t) != Decomposer::elementType(n.operand(0)) ||
        Decomposer::rank(*t) != Decomposer::rank(n.operand(0)))
      return n.emitError() << "input " << i << " is " << t->getType()
                           << " but input 0 is " << n.operand(0).getType()
                           << "; a sequence's elements share their element "
                              "type and rank";
    values.push_back(b.flat(*t));
    rows.push_back(b.shapeRow(*t));
  }
  Value sequence = b.pack({b.concat(values), b.concat(rows)});
  if (b.failed())
    return failure();
  return n.setResults(sequence);
}

static LogicalResult importSequenceLength(NodeImporter &n) {
  SequenceBuilder b(n);
  FailureOr<Sequence> s = b.sequenceOperand(0);
  if (failed(s))
    return failure();
  Value length = b.count(*s);
  if (b.failed())
    return failure();
  return n.setResults(length);
}

static LogicalResult importSequenceAt(NodeImporter &n) {
  SequenceBuilder b(n);
  FailureOr<Sequence> s = b.sequenceOperand(0);
  FailureOr<Value> position = b.tensorOperand(1);
  if (failed(s) || failed(position))
    return failure();
  std::optional<int64_t> rank = SequenceBuilder::rankOf(*s);
  if (!rank)
    return n.emitError() << "the rank of the sequence's elements is not known "
                            "here; declare the element shape of the sequence "
                            "(its graph input or value_info)";
  Value index = b.wrap(b.scalarI64(*position), b.count(*s));
  Value offsets = b.offsets(*s);
  Value begin = b.at(offsets, index);
  Value end = b.at(offsets, b.op<AddOp>({index, b.scalar(b.i64(), 1)}));
  Value row = b.op<GatherOp>({s->shapes, index}, {n.namedI64("axis", 0)});
  Value element = b.reshapeExact(b.range(s->elements, begin, end), row);
  if (b.failed())
    return failure();
  return n.setResults(element);
}

static LogicalResult importSequenceInsert(NodeImporter &n) {
  SequenceBuilder b(n);
  FailureOr<Sequence> s = b.sequenceOperand(0);
  FailureOr<Value> tensor = b.tensorOperand(1);
  if (failed(s) || failed(tensor))
    return failure();
  if (Decomposer::elementType(*tensor) != Decomposer::elementType(s->elements))
    return n.emitError() << "inserts " << tensor->getType()
                         << " into a sequence of "
                         << Decomposer::elementType(s->elements);
  int64_t rank = Decomposer::rank(*tensor);
  if (std::optional<int64_t> known = SequenceBuilder::rankOf(*s);
      known && *known != rank && *known != 0)
    return n.emitError() << "inserts a rank-" << rank
                         << " tensor into a sequence of rank-" << *known
                         << " tensors; Kiln's sequences hold tensors of one "
                            "rank";
  Value shapes = b.shapesOfWidth(*s, rank);
  if (n.hasOperand(2) && failed(b.tensorOperand(2)))
    return failure();
  Value values = b.flat(*tensor), row = b.shapeRow(*tensor);
  Sequence result;
  if (!n.hasOperand(2)) {
    result = {b.concat({s->elements, values}), b.concat({shapes, row})};
  } else {
    Value index = b.wrap(b.scalarI64(n.operand(2)),
                         b.count(Sequence{s->elements, shapes}));
    Value split = b.at(b.offsets(Sequence{s->elements, shapes}), index);
    result = {b.concat({b.range(s->elements, nullptr, split), values,
                        b.range(s->elements, split, nullptr)}),
              b.concat({b.range(shapes, nullptr, index), row,
                        b.range(shapes, index, nullptr)})};
  }
  Value sequence = b.pack(result);
  if (b.failed())
    return failure();
  return n.setResults(sequence);
}

static LogicalResult importSequenceErase(NodeImporter &n) {
  SequenceBuilder b(n);
  FailureOr<Sequence> s = b.sequenceOperand(0);
  if (failed(s))
    return failure();
  if (n.hasOperand(1) && failed(b.tensorOperand(1)))
    return failure();
  Value position =
      n.hasOperand(1) ? b.scalarI64(n.operand(1)) : b.scalar(b.i64(), -1);
  Value index = b.wrap(position, b.count(*s));
  Value next = b.op<AddOp>({index, b.scalar(b.i64(), 1)});
  Value offsets = b.offsets(*s);
  Value begin = b.at(offsets, index), end = b.at(offsets, next);
  Sequence result = {b.concat({b.range(s->elements, nullptr, begin),
                               b.range(s->elements, end, nullptr)}),
                     b.concat({b.range(s->shapes, nullptr, index),
                               b.range(s->shapes, next, nullptr)})};
  Value sequence = b.pack(result);
  if (b.failed())
    return failure();
  return n.setResults(sequence);
}

/// SplitToSequence: slices of the input along `axis`, one position each
/// (without `split`; squeezed unless keepdims), `split` positions each
/// (a scalar: equal chunks, the last shorter), or the lengths `split` lists.
static LogicalResult importSplitToSequence(NodeImporter &n) {
  SequenceBuilder b(n);
  FailureOr<Value> input = b.tensorOperand(0);
  if (failed(input))
    return failure();
  Value x = *input;
  int64_t rank = Decomposer::rank(x);
  FailureOr<int64_t> axis = normalizeAxis(n.intAttr("axis", 0), rank);
  if (failed(axis) || rank == 0)
    return n.emitError() << "axis " << n.intAttr("axis", 0)
                         << " is out of range for " << x.getType();
  if (n.hasOperand(1) && failed(b.tensorOperand(1)))
    return failure();
  Value extent = b.reshape(b.dim(x, *axis), b.ints({}));
  Value lengths;
  bool keep = true;
  if (!n.hasOperand(1)) {
    keep = n.intAttr("keepdims", 1) != 0;
    lengths =
        b.op<ExpandOp>({b.scalar(b.i64(), 1), b.reshape(extent, b.ints({1}))});
  } else if (Decomposer::rank(n.operand(1)) == 0) {
    // Chunks of `split` positions: ceil(extent / split) of them.
    Value chunk = b.scalarI64(n.operand(1));
    Value one = b.scalar(b.i64(), 1);
    Value count =
        b.op<DivOp>({b.op<SubOp>({b.op<AddOp>({extent, chunk}), one}), chunk});
    Value left = b.op<SubOp>({extent, b.op<MulOp>({b.iota(count), chunk})});
    lengths = b.op<MinOp>({left, chunk});
  } else {
    lengths = b.convert(n.operand(1), b.i64());
    if (lengths && Decomposer::rank(lengths) != 1)
      return n.emitError() << "split must be a scalar or 1-D, got "
                           << n.operand(1).getType();
  }
  // Shape rows: the input's shape with the axis's extent replaced by each
  // length (or dropped).
  Value inputShape = b.shape(x);
  Value shapes;
  if (keep) {
    Value isAxis = b.unsqueeze(b.op<EqualOp>({b.iota(b.scalar(b.i64(), rank)),
                                              b.scalar(b.i64(), *axis)}),
                               {0});
    shapes = b.op<WhereOp>(
        {isAxis, b.unsqueeze(lengths, {1}), b.unsqueeze(inputShape, {0})});
  } else {
    SmallVector<int64_t> kept;
    for (int64_t d = 0; d < rank; ++d)
      if (d != *axis)
        kept.push_back(d);
    Value row =
        b.op<GatherOp>({inputShape, b.ints(kept)}, {n.namedI64("axis", 0)});
    shapes = b.op<ExpandOp>(
        {b.unsqueeze(row, {0}),
         b.concat({b.reshape(extent, b.ints({1})), b.ints({rank - 1})})});
  }
  // The values: in order along axis 0; along an inner axis, each value is
  // scattered to its place in its slice.
  Value values = b.flat(x);
  if (*axis != 0) {
    Value dims = b.shape(x);
    Value outer = b.product(b.range(dims, nullptr, b.scalar(b.i64(), *axis)));
    Value inner =
        b.product(b.range(dims, b.scalar(b.i64(), *axis + 1), nullptr));
    Value where = b.regroupIndices(outer, inner, lengths);
    values = b.op<ScatterElementsOp>(
        {values, where, values},
        {n.namedI64("axis", 0), n.namedStr("reduction", "none")});
  }
  Value sequence = b.pack({values, shapes});
  if (b.failed())
    return failure();
  return n.setResults(sequence);
}

/// ConcatFromSequence: the elements concatenated along `axis`, or stacked
/// along a new axis with new_axis. Along axis 0 the values are already in
/// order; along an inner axis one gather reorders them.
static LogicalResult importConcatFromSequence(NodeImporter &n) {
  SequenceBuilder b(n);
  FailureOr<Sequence> s = b.sequenceOperand(0);
  if (failed(s))
    return failure();
  std::optional<int64_t> rank = SequenceBuilder::rankOf(*s);
  if (!rank)
    return n.emitError() << "the rank of the sequence's elements is not known "
                            "here; declare the element shape of the sequence";
  bool stack = n.intAttr("new_axis", 0) != 0;
  int64_t outRank = *rank + (stack ? 1 : 0);
  FailureOr<int64_t> axis = normalizeAxis(n.intAttr("axis", 0), outRank);
  if (failed(axis) || outRank == 0)
    return n.emitError() << "axis " << n.intAttr("axis", 0)
                         << " is out of range for the elements' rank " << *rank;
  // The first element's shape gives the dims other than the axis.
  Value first = b.op<GatherOp>({s->shapes, b.scalar(b.i64(), 0)},
                               {n.namedI64("axis", 0)});
  Value axisAt = b.scalar(b.i64(), *axis);
  Value lengths, total;
  Value outer = b.product(b.range(first, nullptr, axisAt));
  Value inner, shape;
  if (stack) {
    Value count = b.count(*s);
    lengths =
        b.op<ExpandOp>({b.scalar(b.i64(), 1), b.reshape(count, b.ints({1}))});
    total = count;
    inner = b.product(b.range(first, axisAt, nullptr));
    shape = b.concat({b.range(first, nullptr, axisAt),
                      b.reshape(total, b.ints({1})),
                      b.range(first, axisAt, nullptr)});
  } else {
    Value next = b.scalar(b.i64(), *axis + 1);
    lengths =
        b.op<GatherOp>({s->shapes, b.ints({*axis})}, {n.namedI64("axis", 1)});
    lengths = b.reshape(lengths, b.ints({-1}));
    total = b.reduce<ReduceSumOp>(lengths, {0}, /*keepdims=*/false);
    inner = b.product(b.range(first, next, nullptr));
    shape = b.concat({b.range(first, nullptr, axisAt),
                      b.reshape(total, b.ints({1})),
                      b.range(first, next, nullptr)});
  }
  Value values = s->elements;
  if (*axis != 0)
    values = b.op<GatherOp>({values, b.regroupIndices(outer, inner, lengths)},
                            {n.namedI64("axis", 0)});
  Value y = b.reshapeExact(values, shape);
  if (b.failed())
    return failure();
  return n.setResults(y);
}

/// Renames the inputs of `node`, and of the nodes of its subgraphs, that
/// `renamed` maps; a subgraph's own inputs shadow the names they take.
static void renameInputs(onnx::NodeProto &node,
                         const llvm::StringMap<std::string> &renamed) {
  for (std::string &input : *node.mutable_input()) {
    auto it = renamed.find(input);
    if (it != renamed.end())
      input = it->second;
  }
  for (onnx::AttributeProto &attr : *node.mutable_attribute()) {
    SmallVector<onnx::GraphProto *> graphs;
    if (attr.has_g())
      graphs.push_back(attr.mutable_g());
    for (onnx::GraphProto &g : *attr.mutable_graphs())
      graphs.push_back(&g);
    for (onnx::GraphProto *g : graphs) {
      llvm::StringMap<std::string> inner = renamed;
      for (const onnx::ValueInfoProto &input : g->input())
        inner.erase(input.name());
      for (onnx::NodeProto &nested : *g->mutable_node())
        renameInputs(nested, inner);
      for (onnx::ValueInfoProto &output : *g->mutable_output()) {
        auto it = inner.find(output.name());
        if (it != inner.end())
          output.set_name(it->second);
      }
    }
  }
}

/// SequenceMap, expanded as ONNX defines it: a Loop over the first
/// sequence's positions whose body takes element i of every sequence input
/// (the other inputs as they are), runs the node's body, and inserts each
/// output into a sequence the loop carries.
static LogicalResult importSequenceMap(NodeImporter &n) {
  const onnx::GraphProto *body = n.graphAttr("body");
  if (!body)
    return n.emitError() << "attribute 'body' (a graph) is required";
  const onnx::NodeProto &node = n.getNode();
  if (!n.hasOperand(0) || valueKind(n.operand(0)) != ValueKind::Sequence)
    return n.emitError() << "input 0 must be a sequence";
  if (body->input_size() != node.input_size())
    return n.emitError() << "the body takes " << body->input_size()
                         << " inputs for the node's " << node.input_size();
  if (body->output_size() != node.output_size())
    return n.emitError() << "the body has " << body->output_size()
                         << " outputs for the node's " << node.output_size();
  for (int k = 0; k < node.input_size(); ++k)
    if (!n.hasOperand(k))
      return n.emitError() << "input " << k << " is missing";
  std::string prefix = node.name() + "/map_";
  onnx::NodeProto loop;
  loop.set_op_type("Loop");
  loop.set_name(node.name() + "/loop");
  onnx::GraphProto *graph = loop.add_attribute()->mutable_g();
  loop.mutable_attribute(0)->set_name("body");
  loop.mutable_attribute(0)->set_type(onnx::AttributeProto::GRAPH);
  graph->set_name(prefix + "body");
  auto scalarInput = [&](const std::string &name, int32_t type) {
    onnx::ValueInfoProto *info = graph->add_input();
    info->set_name(name);
    info->mutable_type()->mutable_tensor_type()->set_elem_type(type);
    info->mutable_type()->mutable_tensor_type()->mutable_shape();
  };
  scalarInput(prefix + "i", onnx::TensorProto::INT64);
  scalarInput(prefix + "cond", onnx::TensorProto::BOOL);
  // Element i of each sequence input; the tensors as they are. The body's
  // inputs get fresh names (a body input may have the name of an outer
  // value, which a node of the expanded body must not define).
  llvm::StringMap<std::string> renamed;
  for (int k = 0; k < body->input_size(); ++k) {
    onnx::NodeProto *take = graph->add_node();
    bool isSequence = valueKind(n.operand(k)) == ValueKind::Sequence;
    take->set_op_type(isSequence ? "SequenceAt" : "Identity");
    take->set_name(prefix + "in" + std::to_string(k));
    take->add_input(node.input(k));
    if (isSequence)
      take->add_input(prefix + "i");
    std::string fresh = prefix + "arg" + std::to_string(k);
    take->add_output(fresh);
    renamed[body->input(k).name()] = fresh;
  }
  for (const onnx::NodeProto &inner : body->node())
    renameInputs(*graph->add_node() = inner, renamed);
  for (const onnx::TensorProto &init : body->initializer())
    *graph->add_initializer() = init;
  onnx::NodeProto *cond = graph->add_node();
  cond->set_op_type("Identity");
  cond->set_name(prefix + "cond_out");
  cond->add_input(prefix + "cond");
  cond->add_output(prefix + "cond_next");
  graph->add_output()->set_name(prefix + "cond_next");
  SmallVector<Value> operands = {n.operand(0), Value()};
  // The trip count is the first sequence's length.
  SequenceBuilder b(n);
  operands[0] = b.count(
      Sequence{valueParts(n.operand(0))[0], valueParts(n.operand(0))[1]});
  loop.add_input(prefix + "count");
  loop.add_input("");
  for (int k = 0; k < body->output_size(); ++k) {
    const onnx::ValueInfoProto &out = body->output(k);
    if (!out.type().has_tensor_type())
      return n.emitError() << "body output '" << out.name()
                           << "' must be a tensor";
    Type element = convertElementType(n.getContext(),
                                      out.type().tensor_type().elem_type());
    if (!element)
      return n.emitError() << "body output '" << out.name()
                           << "' has an unsupported element type";
    // An empty sequence to start each output (of the rank the body
    // declares, if it does).
    int64_t width = out.type().tensor_type().has_shape()
                        ? out.type().tensor_type().shape().dim_size()
                        : 0;
    operands.push_back(b.pack(b.empty(element, width)));
    std::string carried = prefix + "acc" + std::to_string(k);
    onnx::ValueInfoProto *info = graph->add_input();
    info->set_name(carried);
    info->mutable_type()->mutable_sequence_type();
    onnx::NodeProto *insert = graph->add_node();
    insert->set_op_type("SequenceInsert");
    insert->set_name(prefix + "insert" + std::to_string(k));
    insert->add_input(carried);
    auto it = renamed.find(out.name());
    insert->add_input(it == renamed.end() ? out.name() : it->second);
    insert->add_output(carried + "_next");
    graph->add_output()->set_name(carried + "_next");
    loop.add_input(carried + "_init");
    loop.add_output(node.output(k));
  }
  if (b.failed())
    return failure();
  NodeImporter expanded = n.derive(loop, operands);
  if (failed(importLoopNode(expanded)))
    return failure();
  return n.setResults(expanded.getResults());
}

/// Optional: a value, or (without an input) an empty one of the `type`
/// attribute's type.
static LogicalResult importOptional(NodeImporter &n) {
  OpBuilder &builder = n.getBuilder();
  Location loc = n.getLoc();
  SequenceBuilder b(n);
  if (n.hasOperand(0)) {
    Value v = n.operand(0);
    ValueKind kind = valueKind(v);
    if (kind != ValueKind::Tensor && kind != ValueKind::Sequence)
      return n.emitError() << "cannot wrap " << describeKind(kind)
                           << " in an optional";
    SmallVector<Value> parts = {b.flag(true)};
    parts.append(valueParts(v));
    if (b.failed())
      return failure();
    return n.setResults(packValue(builder, loc,
                                  kind == ValueKind::Tensor
                                      ? ValueKind::OptionalTensor
                                      : ValueKind::OptionalSequence,
                                  parts));
  }
  const onnx::AttributeProto *attr = n.findAttr("type");
  if (!attr || !attr->has_tp())
    return n.emitError() << "an empty Optional needs the 'type' attribute";
  onnx::TypeProto optional;
  *optional.mutable_optional_type()->mutable_elem_type() = attr->tp();
  std::string error;
  auto converted = convertValueType(n.getContext(), optional, error);
  if (failed(converted))
    return n.emitError() << "cannot make an empty optional of its type: "
                         << error;
  // The value parts hold nothing: extent 0 in the dims the type leaves
  // open.
  SmallVector<Value> parts = {b.flag(false)};
  for (Type type : ArrayRef(converted->second).drop_front()) {
    auto tensor = cast<RankedTensorType>(type);
    SmallVector<int64_t> shape;
    for (int64_t d : tensor.getShape())
      shape.push_back(ShapedType::isDynamic(d) ? 0 : d);
    if (llvm::all_of(shape, [](int64_t d) { return d != 0; }) && !shape.empty())
      shape.front() = 0;
    auto emptyType = tensor.clone(shape);
    parts.push_back(b.op<ConstantOp>(
        {}, {n.named("value", DenseElementsAttr::get(emptyType,
                                                     ArrayRef<Attribute>{}))}));
  }
  if (b.failed())
    return failure();
  return n.setResults(packValue(builder, loc, converted->first, parts));
}

static LogicalResult importOptionalHasElement(NodeImporter &n) {
  SequenceBuilder b(n);
  Value present;
  if (!n.hasOperand(0))
    present = b.flag(false);
  else if (ValueKind kind = valueKind(n.operand(0));
           kind == ValueKind::OptionalTensor ||
           kind == ValueKind::OptionalSequence)
    present = valueParts(n.operand(0)).front();
  else
    present = b.flag(true);
  if (b.failed())
    return failure();
  return n.setResults(present);
}

/// OptionalGetElement: the value an optional holds (a tensor or a
/// sequence is its own value). Getting the value of an empty optional is
/// not checked: it yields the empty value its parts hold.
static LogicalResult importOptionalGetElement(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  Value v = n.operand(0);
  SmallVector<Value> parts = valueParts(v);
  switch (valueKind(v)) {
  case ValueKind::OptionalTensor:
    return n.setResults(parts[1]);
  case ValueKind::OptionalSequence:
    return n.setResults(packValue(n.getBuilder(), n.getLoc(),
                                  ValueKind::Sequence, {parts[1], parts[2]}));
  default:
    return n.setResults(v);
  }
}

void onnx_import::registerSequenceOps(OpRegistry &r) {
  r.add("SequenceEmpty", 11, importSequenceEmpty);
  r.add("SequenceConstruct", 11, importSequenceConstruct);
  r.add("SequenceLength", 11, importSequenceLength);
  r.add("SequenceAt", 11, importSequenceAt);
  r.add("SequenceInsert", 11, importSequenceInsert);
  r.add("SequenceErase", 11, importSequenceErase);
  r.add("SplitToSequence", 11, importSplitToSequence);
  r.add("ConcatFromSequence", 11, importConcatFromSequence);
  r.add("SequenceMap", 17, importSequenceMap);
  r.add("Optional", 15, importOptional);
  r.add("OptionalHasElement", {15, 18}, importOptionalHasElement);
  r.add("OptionalGetElement", {15, 18}, importOptionalGetElement);
}
