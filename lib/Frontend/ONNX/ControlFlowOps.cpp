//===- ControlFlowOps.cpp - import of If, Loop and Scan -------------------===//
//
// The bodies of If, Loop and Scan are ONNX graphs; they are imported with the
// same handlers as the main graph, into the regions of scf ops:
//
// - If with a constant condition imports the taken branch in place; otherwise
//   it becomes scf.if, each output typed by the join of the two branches'
//   types (dims that differ become dynamic).
// - Loop becomes scf.while carrying the iteration number, the condition, the
//   loop-carried values and one accumulator per scan output, which grows by
//   one slice per iteration (the first slice starts it when the slices have
//   dynamic dims). The loop-carried types are the join of the
//   initial values' types and what the body yields, found by importing the
//   body into a scratch block until they no longer change.
// - Scan is unrolled over its static sequence length: each step slices the
//   scan inputs and imports the body once; the scan outputs are stacked.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

/// The single element of a rank-0 or one-element tensor.
static Value scalarOf(OpBuilder &b, Location loc, Value tensor) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> indices(type.getRank(),
                             arith::ConstantIndexOp::create(b, loc, 0));
  return tensor::ExtractOp::create(b, loc, tensor, indices);
}

/// A rank-0 tensor holding `scalar`.
static Value tensorOf(OpBuilder &b, Location loc, Value scalar) {
  return tensor::FromElementsOp::create(
      b, loc, RankedTensorType::get({}, scalar.getType()), ValueRange{scalar});
}

/// The most precise type both `a` and `b` are instances of: dims that differ
/// become dynamic. Null when the element types or ranks differ.
/// An empty sequence's shape matrix has rows of unknown width, typed 0x0
/// (SequenceEmpty): joined with another matrix it takes that one's width.
static bool isUnknownWidthShapes(RankedTensorType t) {
  return t.getRank() == 2 && t.getElementType().isInteger(64) &&
         t.getDimSize(0) == 0 && t.getDimSize(1) == 0;
}

static RankedTensorType join(Type a, Type b) {
  auto ta = dyn_cast<RankedTensorType>(a), tb = dyn_cast<RankedTensorType>(b);
  if (!ta || !tb || ta.getElementType() != tb.getElementType() ||
      ta.getRank() != tb.getRank())
    return nullptr;
  SmallVector<int64_t> shape;
  for (auto [x, y] : llvm::zip_equal(ta.getShape(), tb.getShape()))
    shape.push_back(x == y ? x : ShapedType::kDynamic);
  if (isUnknownWidthShapes(ta) && !isUnknownWidthShapes(tb))
    shape[1] = tb.getDimSize(1);
  else if (isUnknownWidthShapes(tb) && !isUnknownWidthShapes(ta))
    shape[1] = ta.getDimSize(1);
  return ta.clone(shape);
}

/// `v` as `type` (a tensor.cast when the static dims differ). A value
/// without elements whose static dims `type` contradicts (an empty
/// sequence's shapes) becomes an empty tensor of `type`.
static Value castTo(OpBuilder &b, Location loc, Value v, Type type) {
  if (v.getType() == type)
    return v;
  if (!tensor::CastOp::areCastCompatible(v.getType(), type)) {
    auto to = cast<RankedTensorType>(type);
    assert(
        llvm::is_contained(cast<RankedTensorType>(v.getType()).getShape(), 0) &&
        "an empty value");
    SmallVector<int64_t> shape;
    for (int64_t d : to.getShape())
      shape.push_back(ShapedType::isDynamic(d) ? 0 : d);
    v = tensor::EmptyOp::create(b, loc, shape, to.getElementType());
    if (v.getType() == type)
      return v;
  }
  return tensor::CastOp::create(b, loc, type, v);
}

/// Erases a scratch block and what was built in it.
static void discard(Block *block) {
  block->dropAllDefinedValueUses();
  while (!block->empty())
    block->back().erase();
  delete block;
}

/// The values of `kinds` whose parts are `parts`, in order.
static SmallVector<Value> packValues(OpBuilder &b, Location loc,
                                     ArrayRef<ValueKind> kinds,
                                     ValueRange parts) {
  SmallVector<Value> values;
  for (ValueKind kind : kinds) {
    unsigned count = partCount(kind);
    values.push_back(packValue(b, loc, kind, parts.take_front(count)));
    parts = parts.drop_front(count);
  }
  return values;
}

static LogicalResult importIf(NodeImporter &n) {
  if (failed(n.requireOperands(1)))
    return failure();
  Value cond = n.operand(0);
  if (valueKind(cond) != ValueKind::Tensor)
    return n.emitError() << "the condition is " << describeKind(valueKind(cond))
                         << "; it must be a bool tensor";
  if (std::optional<SmallVector<int64_t>> known = getConstantInts(cond);
      known && known->size() == 1) {
    FailureOr<SmallVector<Value>> taken =
        n.importSubgraph(known->front() ? "then_branch" : "else_branch", {});
    if (failed(taken))
      return failure();
    return n.setResults(*taken);
  }
  OpBuilder &b = n.getBuilder();
  Location loc = n.getLoc();
  Value flag = scalarOf(b, loc, cond);
  // Import the branches into a result-less scf.if, then move them into one
  // whose results have the joined types.
  auto draft = scf::IfOp::create(b, loc, TypeRange{}, flag,
                                 /*withElseRegion=*/true);
  auto eraseDraft = [&] {
    draft->walk([](Operation *op) { op->dropAllUses(); });
    draft.erase();
    return failure();
  };
  SmallVector<Value> outputs[2];
  const char *names[2] = {"then_branch", "else_branch"};
  for (int i = 0; i < 2; ++i) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(
        (i == 0 ? draft.thenBlock() : draft.elseBlock())->getTerminator());
    FailureOr<SmallVector<Value>> branch = n.importSubgraph(names[i], {});
    if (failed(branch))
      return eraseDraft();
    outputs[i] = *branch;
  }
  if (outputs[0].size() != outputs[1].size()) {
    n.emitError() << "then_branch has " << outputs[0].size()
                  << " outputs and else_branch " << outputs[1].size()
                  << "; they must match";
    return eraseDraft();
  }
  // Sequences and optionals cross the scf.if as their parts.
  SmallVector<ValueKind> kinds;
  SmallVector<Value> parts[2];
  for (auto [i, pair] : llvm::enumerate(llvm::zip(outputs[0], outputs[1]))) {
    auto [t, e] = pair;
    if (valueKind(t) != valueKind(e)) {
      n.emitError() << "output " << i << " is " << describeKind(valueKind(t))
                    << " in then_branch but " << describeKind(valueKind(e))
                    << " in else_branch";
      return eraseDraft();
    }
    kinds.push_back(valueKind(t));
    parts[0].append(valueParts(t));
    parts[1].append(valueParts(e));
  }
  SmallVector<Type> types;
  for (auto [i, pair] : llvm::enumerate(llvm::zip(parts[0], parts[1]))) {
    auto [t, e] = pair;
    RankedTensorType type = join(t.getType(), e.getType());
    if (!type) {
      n.emitError() << "output " << i << " is " << t.getType()
                    << " in then_branch but " << e.getType()
                    << " in else_branch, and the condition is known at run "
                       "time only: Kiln needs one element type and rank for "
                       "a run-time choice. If the condition depends on "
                       "input shapes, fix them with --input-shape so that it "
                       "folds and only the taken branch is compiled";
      return eraseDraft();
    }
    types.push_back(type);
  }
  for (int i = 0; i < 2; ++i) {
    Block *block = i == 0 ? draft.thenBlock() : draft.elseBlock();
    Operation *terminator = block->getTerminator();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(terminator);
    SmallVector<Value> yielded;
    for (auto [v, type] : llvm::zip_equal(parts[i], types))
      yielded.push_back(castTo(b, loc, v, type));
    scf::YieldOp::create(b, loc, yielded);
    terminator->erase();
  }
  auto ifOp = scf::IfOp::create(b, loc, types, flag, /*addThenBlock=*/false,
                                /*addElseBlock=*/false);
  ifOp.getThenRegion().takeBody(draft.getThenRegion());
  ifOp.getElseRegion().takeBody(draft.getElseRegion());
  draft.erase();
  return n.setResults(packValues(b, loc, kinds, ifOp.getResults()));
}

static LogicalResult importLoop(NodeImporter &n) {
  const onnx::GraphProto *body = n.graphAttr("body");
  if (!body)
    return n.emitError() << "attribute 'body' (a graph) is required";
  size_t carriedCount = n.getNumOperands() > 2 ? n.getNumOperands() - 2 : 0;
  int64_t scanCount = static_cast<int64_t>(body->output_size()) - 1 -
                      static_cast<int64_t>(carriedCount);
  if (scanCount < 0)
    return n.emitError() << "body has " << body->output_size()
                         << " outputs; it needs the condition and the "
                         << carriedCount << " loop-carried values";
  for (size_t i = 0; i < 2; ++i)
    if (n.hasOperand(i) && valueKind(n.operand(i)) != ValueKind::Tensor)
      return n.emitError() << "input " << i << " (the "
                           << (i == 0 ? "trip count" : "condition") << ") is "
                           << describeKind(valueKind(n.operand(i)))
                           << "; it must be a tensor";
  OpBuilder &b = n.getBuilder();
  Location loc = n.getLoc();
  // Sequences and optionals are carried as their parts: `initial` and
  // everything below work on parts; the body sees whole values.
  SmallVector<Value> initial;
  SmallVector<ValueKind> carriedKinds;
  for (size_t i = 0; i < carriedCount; ++i) {
    if (!n.hasOperand(i + 2))
      return n.emitError() << "loop-carried input " << i + 2 << " is missing";
    carriedKinds.push_back(valueKind(n.operand(i + 2)));
    initial.append(valueParts(n.operand(i + 2)));
  }
  size_t carriedParts = initial.size();
  // The body's inputs (the counter, the condition, the carried values) from
  // its block's parts.
  auto bodyValues = [&](ValueRange arguments) {
    SmallVector<Value> values(arguments.take_front(2));
    llvm::append_range(
        values, packValues(b, loc, carriedKinds, arguments.drop_front(2)));
    return values;
  };
  // The body's outputs as parts (condition, carried parts, scan outputs);
  // an error when a carried value changes kind or a scan output is not a
  // tensor.
  auto bodyParts = [&](ValueRange outs) -> FailureOr<SmallVector<Value>> {
    SmallVector<Value> parts = {outs[0]};
    for (size_t i = 0; i < carriedCount; ++i) {
      Value v = outs[1 + i];
      if (valueKind(v) != carriedKinds[i])
        return n.emitError()
               << "loop-carried value " << i << " enters as "
               << describeKind(carriedKinds[i]) << " but the body yields "
               << describeKind(valueKind(v));
      parts.append(valueParts(v));
    }
    for (Value v : outs.drop_front(1 + carriedCount)) {
      if (valueKind(v) != ValueKind::Tensor)
        return n.emitError()
               << "a scan output is " << describeKind(valueKind(v))
               << "; scan outputs must be tensors";
      parts.push_back(v);
    }
    return parts;
  };
  Type i64 = b.getI64Type(), i1 = b.getI1Type();
  auto counterType = RankedTensorType::get({}, i64);
  auto flagType = RankedTensorType::get({}, i1);

  // Loop-carried types: widen the initial types until the body yields
  // values of the types it is given. Each round that changes them makes at
  // least one dim dynamic, so this ends.
  SmallVector<Type> carriedTypes(ValueRange(initial).getTypes());
  SmallVector<RankedTensorType> scanTypes;
  while (true) {
    auto *scratch = new Block();
    SmallVector<Type> argTypes = {counterType, flagType};
    argTypes.append(carriedTypes);
    for (Type type : argTypes)
      scratch->addArgument(type, loc);
    FailureOr<SmallVector<Value>> outs;
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(scratch);
      outs = n.importSubgraph("body", bodyValues(scratch->getArguments()));
      if (succeeded(outs))
        outs = bodyParts(*outs);
    }
    if (failed(outs)) {
      discard(scratch);
      return failure();
    }
    bool stable = true;
    SmallVector<Type> joined;
    for (size_t i = 0; i < carriedParts; ++i) {
      Type yielded = (*outs)[i + 1].getType();
      RankedTensorType type = join(carriedTypes[i], yielded);
      if (!type) {
        // The yielded value dies with the scratch block; its type does not.
        discard(scratch);
        return n.emitError()
               << "loop-carried value " << i << " enters as " << carriedTypes[i]
               << " but the body yields " << yielded
               << "; Kiln needs one element type and rank";
      }
      stable &= type == carriedTypes[i];
      joined.push_back(type);
    }
    scanTypes.clear();
    for (int64_t k = 0; k < scanCount; ++k)
      scanTypes.push_back(
          cast<RankedTensorType>((*outs)[1 + carriedParts + k].getType()));
    discard(scratch);
    if (stable)
      break;
    carriedTypes = joined;
  }

  Value limit = n.hasOperand(0)
                    ? scalarOf(b, loc, n.operand(0))
                    : arith::ConstantIntOp::create(
                          b, loc, i64, std::numeric_limits<int64_t>::max())
                          .getResult();
  Value go = n.hasOperand(1)
                 ? scalarOf(b, loc, n.operand(1))
                 : arith::ConstantIntOp::create(b, loc, 1, 1).getResult();
  SmallVector<Type> types = {i64, i1};
  types.append(carriedTypes);
  SmallVector<Value> inits = {arith::ConstantIntOp::create(b, loc, i64, 0), go};
  for (auto [v, type] : llvm::zip_equal(initial, carriedTypes))
    inits.push_back(castTo(b, loc, v, type));
  // Each scan output grows along a new leading dim, from zero slices (of
  // extent 0 in the dims only the first slice will tell).
  for (auto slice : scanTypes) {
    SmallVector<int64_t> empty = {0};
    for (int64_t extent : slice.getShape())
      empty.push_back(ShapedType::isDynamic(extent) ? 0 : extent);
    SmallVector<int64_t> grown = {ShapedType::kDynamic};
    llvm::append_range(grown, slice.getShape());
    Value none = tensor::EmptyOp::create(b, loc, empty, slice.getElementType());
    RankedTensorType type = slice.clone(grown);
    types.push_back(type);
    inits.push_back(castTo(b, loc, none, type));
  }

  auto loop = scf::WhileOp::create(b, loc, types, inits);
  SmallVector<Location> locs(types.size(), loc);
  OpBuilder::InsertionGuard guard(b);
  Block *before = b.createBlock(&loop.getBefore(), {}, types, locs);
  Value more = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt,
                                     before->getArgument(0), limit);
  scf::ConditionOp::create(
      b, loc, arith::AndIOp::create(b, loc, before->getArgument(1), more),
      before->getArguments());

  Block *after = b.createBlock(&loop.getAfter(), {}, types, locs);
  SmallVector<Value> bodyInputs = {tensorOf(b, loc, after->getArgument(0)),
                                   tensorOf(b, loc, after->getArgument(1))};
  for (size_t i = 0; i < carriedParts; ++i)
    bodyInputs.push_back(after->getArgument(2 + i));
  FailureOr<SmallVector<Value>> outs =
      n.importSubgraph("body", bodyValues(bodyInputs));
  if (succeeded(outs))
    outs = bodyParts(*outs);
  if (failed(outs))
    return failure();
  SmallVector<Value> next = {
      arith::AddIOp::create(b, loc, after->getArgument(0),
                            arith::ConstantIntOp::create(b, loc, i64, 1)),
      scalarOf(b, loc, (*outs)[0])};
  for (size_t i = 0; i < carriedParts; ++i)
    next.push_back(castTo(b, loc, (*outs)[1 + i], carriedTypes[i]));
  for (int64_t k = 0; k < scanCount; ++k) {
    FailureOr<Value> slice = n.create<UnsqueezeOp>(
        (*outs)[1 + carriedParts + k], {n.namedI64s("axes", {0})});
    if (failed(slice))
      return failure();
    Value accumulator = after->getArgument(2 + carriedParts + k);
    Type type = accumulator.getType();
    auto grow = [&]() -> FailureOr<Value> {
      FailureOr<Value> grown = n.create<ConcatOp>(
          ValueRange{accumulator, *slice}, {n.namedI64("axis", 0)});
      if (failed(grown))
        return failure();
      return castTo(b, loc, *grown, type);
    };
    if (scanTypes[k].hasStaticShape()) {
      FailureOr<Value> grown = grow();
      if (failed(grown))
        return failure();
      next.push_back(*grown);
      continue;
    }
    // The dynamic dims of the slices are known from the first one on: the
    // first iteration starts the accumulator with it.
    Value firstIteration = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq, after->getArgument(0),
        arith::ConstantIntOp::create(b, loc, i64, 0));
    auto choice = scf::IfOp::create(b, loc, TypeRange{type}, firstIteration,
                                    /*withElseRegion=*/true);
    OpBuilder::InsertionGuard branchGuard(b);
    b.setInsertionPointToStart(choice.thenBlock());
    scf::YieldOp::create(b, loc, castTo(b, loc, *slice, type));
    b.setInsertionPointToStart(choice.elseBlock());
    FailureOr<Value> grown = grow();
    if (failed(grown))
      return failure();
    scf::YieldOp::create(b, loc, *grown);
    b.setInsertionPointAfter(choice);
    next.push_back(choice.getResult(0));
  }
  scf::YieldOp::create(b, loc, next);
  b.setInsertionPointAfter(loop);
  SmallVector<Value> results = packValues(
      b, loc, carriedKinds, loop.getResults().slice(2, carriedParts));
  llvm::append_range(results, loop.getResults().drop_front(2 + carriedParts));
  return n.setResults(results);
}

LogicalResult kiln::onnx_import::importLoopNode(NodeImporter &n) {
  return importLoop(n);
}

/// Scan (opset 9 form) over `states` and `inputs`, unrolled: returns the
/// final states followed by the stacked scan outputs.
static FailureOr<SmallVector<Value>>
unrollScan(NodeImporter &n, SmallVector<Value> states, ArrayRef<Value> inputs,
           int64_t outputCount, bool opset8) {
  Decomposer d(n);
  Type i64 = n.getBuilder().getI64Type();
  size_t m = inputs.size();
  auto intsOr = [&](StringRef name, size_t count) {
    SmallVector<int64_t> values = n.intsAttr(name);
    if (values.empty())
      values.assign(count, 0);
    return values;
  };
  SmallVector<int64_t> inputAxes =
      opset8 ? SmallVector<int64_t>(m, 0) : intsOr("scan_input_axes", m);
  SmallVector<int64_t> inputDirections =
      intsOr(opset8 ? "directions" : "scan_input_directions", m);
  SmallVector<int64_t> outputAxes =
      opset8 ? SmallVector<int64_t>(outputCount, 0)
             : intsOr("scan_output_axes", outputCount);
  SmallVector<int64_t> outputDirections =
      opset8 ? SmallVector<int64_t>(outputCount, 0)
             : intsOr("scan_output_directions", outputCount);
  if (inputAxes.size() != m || inputDirections.size() != m ||
      static_cast<int64_t>(outputAxes.size()) != outputCount ||
      static_cast<int64_t>(outputDirections.size()) != outputCount) {
    n.emitError() << "the scan axes and directions must give one entry per "
                     "scan input and output";
    return failure();
  }
  int64_t length = ShapedType::kDynamic;
  for (auto [j, input] : llvm::enumerate(inputs)) {
    auto type = cast<RankedTensorType>(input.getType());
    int64_t axis =
        inputAxes[j] < 0 ? inputAxes[j] + type.getRank() : inputAxes[j];
    if (axis < 0 || axis >= type.getRank()) {
      n.emitError() << "scan input axis " << inputAxes[j]
                    << " is out of range for " << type;
      return failure();
    }
    inputAxes[j] = axis;
    int64_t extent = type.getDimSize(axis);
    if (ShapedType::isDynamic(extent)) {
      n.emitError() << "scan input " << j << " (" << type
                    << ") has a dynamic sequence length; Kiln unrolls Scan "
                       "and needs it static (fix it with --input-shape)";
      return failure();
    }
    if (!ShapedType::isDynamic(length) && extent != length) {
      n.emitError() << "scan inputs disagree on the sequence length (" << length
                    << " and " << extent << ")";
      return failure();
    }
    length = extent;
  }
  if (length == ShapedType::kDynamic || length == 0) {
    n.emitError() << "Kiln needs at least one scan input with a non-empty "
                     "sequence";
    return failure();
  }
  SmallVector<SmallVector<Value>> collected(outputCount);
  for (int64_t t = 0; t < length; ++t) {
    SmallVector<Value> bodyInputs(states);
    for (auto [j, input] : llvm::enumerate(inputs)) {
      int64_t step = inputDirections[j] ? length - 1 - t : t;
      bodyInputs.push_back(d.op<GatherOp>({input, d.scalar(i64, step)},
                                          {n.namedI64("axis", inputAxes[j])}));
    }
    if (d.failed())
      return failure();
    FailureOr<SmallVector<Value>> outs = n.importSubgraph("body", bodyInputs);
    if (failed(outs))
      return failure();
    if (static_cast<int64_t>(outs->size()) !=
        static_cast<int64_t>(states.size()) + outputCount) {
      n.emitError() << "body has " << outs->size() << " outputs; expected "
                    << states.size() + outputCount;
      return failure();
    }
    for (auto [k, v] : llvm::enumerate(*outs))
      if (valueKind(v) != ValueKind::Tensor) {
        n.emitError() << "body output " << k << " is "
                      << describeKind(valueKind(v))
                      << "; Scan's states and outputs must be tensors";
        return failure();
      }
    states.assign(outs->begin(), outs->begin() + states.size());
    for (int64_t k = 0; k < outputCount; ++k)
      collected[k].push_back((*outs)[states.size() + k]);
  }
  SmallVector<Value> results(states);
  for (int64_t k = 0; k < outputCount; ++k) {
    int64_t rank = Decomposer::rank(collected[k].front()) + 1;
    int64_t axis = outputAxes[k] < 0 ? outputAxes[k] + rank : outputAxes[k];
    if (outputDirections[k])
      std::reverse(collected[k].begin(), collected[k].end());
    SmallVector<Value> slices;
    for (Value v : collected[k])
      slices.push_back(d.unsqueeze(v, {axis}));
    results.push_back(d.concat(slices, axis));
  }
  if (d.failed())
    return failure();
  return results;
}

static LogicalResult importScan(NodeImporter &n) {
  const onnx::GraphProto *body = n.graphAttr("body");
  if (!body)
    return n.emitError() << "attribute 'body' (a graph) is required";
  int64_t m = n.intAttr("num_scan_inputs", 0);
  bool opset8 = n.getOpset() < 9;
  size_t first = opset8 ? 1 : 0;
  if (opset8 && n.hasOperand(0))
    return n.emitError() << "sequence_lens is not supported; Kiln scans "
                            "every batch entry over the whole sequence";
  size_t total = n.getNumOperands() - first;
  if (m < 1 || static_cast<size_t>(m) > total)
    return n.emitError() << "num_scan_inputs " << m << " must be in [1, "
                         << total << "]";
  size_t stateCount = total - m;
  int64_t outputCount = body->output_size() - static_cast<int64_t>(stateCount);
  if (outputCount < 0)
    return n.emitError() << "body has " << body->output_size()
                         << " outputs; it needs at least the " << stateCount
                         << " state values";
  SmallVector<Value> operands;
  for (size_t i = first; i < n.getNumOperands(); ++i) {
    if (!n.hasOperand(i))
      return n.emitError() << "input " << i << " is missing";
    operands.push_back(n.operand(i));
  }
  SmallVector<Value> states(operands.begin(), operands.begin() + stateCount);
  ArrayRef<Value> inputs = ArrayRef(operands).drop_front(stateCount);
  if (!opset8) {
    FailureOr<SmallVector<Value>> results =
        unrollScan(n, states, inputs, outputCount, false);
    if (failed(results))
      return failure();
    return n.setResults(*results);
  }
  // Opset 8: every tensor has a leading batch dim; each batch entry is
  // scanned on its own and the results are stacked again.
  int64_t batch =
      cast<RankedTensorType>(operands.front().getType()).getDimSize(0);
  if (ShapedType::isDynamic(batch))
    return n.emitError() << "Kiln unrolls Scan and needs a static batch dim";
  Decomposer d(n);
  Type i64 = n.getBuilder().getI64Type();
  SmallVector<SmallVector<Value>> perEntry;
  for (int64_t e = 0; e < batch; ++e) {
    auto entry = [&](Value v) {
      return d.op<GatherOp>({v, d.scalar(i64, e)}, {n.namedI64("axis", 0)});
    };
    SmallVector<Value> entryStates, entryInputs;
    for (Value v : states)
      entryStates.push_back(entry(v));
    for (Value v : inputs)
      entryInputs.push_back(entry(v));
    if (d.failed())
      return failure();
    FailureOr<SmallVector<Value>> results =
        unrollScan(n, entryStates, entryInputs, outputCount, true);
    if (failed(results))
      return failure();
    perEntry.push_back(*results);
  }
  SmallVector<Value> results;
  for (size_t r = 0; r < perEntry.front().size(); ++r) {
    SmallVector<Value> slices;
    for (auto &entryResults : perEntry)
      slices.push_back(d.unsqueeze(entryResults[r], {0}));
    results.push_back(d.concat(slices, 0));
  }
  if (d.failed())
    return failure();
  return n.setResults(results);
}

void kiln::onnx_import::registerControlFlowOps(OpRegistry &r) {
  r.add("If", {1, 11, 13, 16, 19, 21}, importIf);
  r.add("Loop", {1, 11, 13, 16, 19, 21}, importLoop);
  r.add("Scan", {8, 9, 11, 16, 19, 21}, importScan);
}
