//===- RecurrentOps.cpp - import of RNN, GRU and LSTM ---------------------===//
//
// The recurrent ops are unrolled over the sequence at import: the input
// projection of every step is one matmul up front, then each step is a
// matmul with the recurrent weights and the cell's elementwise gates. The
// sequence length must therefore be static; batch and feature dims may be
// dynamic. `sequence_lens` (forward direction) freezes a batch entry's state
// past its length and zeroes its outputs there, as ONNX specifies.
//
//===----------------------------------------------------------------------===//

#include "NodeImporter.h"

using namespace mlir;
using namespace kiln;
using namespace kiln::onnx_import;

namespace {
enum class Cell { RNN, GRU, LSTM };

struct RecurrentBuilder : Decomposer {
  RecurrentBuilder(NodeImporter &n, Cell cell) : Decomposer(n), cell(cell) {}

  Cell cell;
  int64_t hidden = 0;
  float clip = 0;
  bool hasClip = false;
  bool linearBeforeReset = false;
  SmallVector<std::string> activations;

  /// f (and g, h): the activations each direction takes.
  int64_t activationsPerDirection() const {
    return cell == Cell::RNN ? 1 : cell == Cell::GRU ? 2 : 3;
  }
  int64_t gates() const {
    return cell == Cell::RNN ? 1 : cell == Cell::GRU ? 3 : 4;
  }
  Type elementType() { return Decomposer::elementType(n.operand(0)); }

  /// Rows [from, from + count) of a 1-D or 2-D tensor along `axis`.
  Value rows(Value v, int64_t from, int64_t count, int64_t axis) {
    return op<SliceOp>(
        {v, ints({from}), ints({from + count}), ints({axis}), ints({1})});
  }
  /// Entry `d` of dim 0, without that dim.
  Value direction(Value v, int64_t d) { return squeeze(rows(v, d, 1, 0), {0}); }

  Value activation(StringRef name, Value x) {
    if (name == "Sigmoid")
      return op<SigmoidOp>(x);
    if (name == "Tanh")
      return op<TanhOp>(x);
    if (name == "Relu")
      return op<ReluOp>(x);
    n.emitError() << "activation " << name
                  << " is not supported (Sigmoid, Tanh and Relu are)";
    return fail();
  }
  Value clipped(Value x) {
    if (!hasClip)
      return x;
    Type t = elementType();
    return op<MinOp>({op<MaxOp>({x, scalar(t, -clip)}),
                      scalar(t, static_cast<double>(clip))});
  }
  Value matmul(Value a, Value b) {
    return op<MatMulOp>({a, b}, {n.segments({1, 1, 0, 0})});
  }

  /// One direction over the whole sequence. `x` is [T, B, I]; returns the
  /// per-step outputs [T, 1, B, H], the last hidden state [1, B, H] and,
  /// for LSTM, the last cell state [1, B, H].
  SmallVector<Value> run(Value x, int64_t steps, int64_t d, bool reverse,
                         Value lengths) {
    Type t = elementType();
    int64_t g = gates();
    ArrayRef<std::string> acts(activations);
    acts = acts.drop_front(d * activationsPerDirection());
    Value w = transpose(direction(n.operand(1), d), {1, 0}); // [I, gH]
    Value r = transpose(direction(n.operand(2), d), {1, 0}); // [H, gH]
    Value wb, rb;
    if (n.hasOperand(3)) {
      Value bias = direction(n.operand(3), d); // [2 gH]
      wb = rows(bias, 0, g * hidden, 0);
      rb = rows(bias, g * hidden, g * hidden, 0);
    }
    // The input projection of every step at once: [T, B, gH].
    Value projected = matmul(x, w);
    if (wb)
      projected = op<AddOp>({projected, wb});
    Value batch = dim(x, 1);
    Value stateShape = concat({batch, ints({hidden})});
    auto initial = [&](size_t operand) -> Value {
      if (n.hasOperand(operand))
        return direction(n.operand(operand), d);
      return op<ExpandOp>({scalar(t, 0), stateShape});
    };
    Value h = initial(5);
    Value c = cell == Cell::LSTM ? initial(6) : Value();
    Value peepI, peepO, peepF;
    if (cell == Cell::LSTM && n.hasOperand(7)) {
      Value p = direction(n.operand(7), d);
      peepI = rows(p, 0, hidden, 0);
      peepO = rows(p, hidden, hidden, 0);
      peepF = rows(p, 2 * hidden, hidden, 0);
    }
    SmallVector<Value> outputs(steps);
    for (int64_t s = 0; s < steps; ++s) {
      int64_t step = reverse ? steps - 1 - s : s;
      Value xt = squeeze(rows(projected, step, 1, 0), {0}); // [B, gH]
      Value hNew, cNew;
      if (cell == Cell::RNN) {
        Value pre = op<AddOp>({xt, matmul(h, r)});
        if (rb)
          pre = op<AddOp>({pre, rb});
        hNew = activation(acts[0], clipped(pre));
      } else if (cell == Cell::GRU) {
        // Gate order z, r, h.
        auto gate = [&](Value v, int64_t k) {
          return rows(v, k * hidden, hidden, v == rb ? 0 : 1);
        };
        Value hr = matmul(h, r); // [B, 3H]
        Value xz = gate(xt, 0), xr = gate(xt, 1), xh = gate(xt, 2);
        Value hz = gate(hr, 0), hrr = gate(hr, 1);
        Value z = op<AddOp>({xz, hz}), rg = op<AddOp>({xr, hrr});
        if (rb) {
          z = op<AddOp>({z, gate(rb, 0)});
          rg = op<AddOp>({rg, gate(rb, 1)});
        }
        z = activation(acts[0], clipped(z));
        rg = activation(acts[0], clipped(rg));
        Value rh = rows(r, 2 * hidden, hidden, 1); // [H, H]
        Value candidate;
        if (linearBeforeReset) {
          Value lin = matmul(h, rh);
          if (rb)
            lin = op<AddOp>({lin, gate(rb, 2)});
          candidate = op<AddOp>({xh, op<MulOp>({rg, lin})});
        } else {
          candidate = op<AddOp>({xh, matmul(op<MulOp>({rg, h}), rh)});
          if (rb)
            candidate = op<AddOp>({candidate, gate(rb, 2)});
        }
        Value hh = activation(acts[1], clipped(candidate));
        // h = (1 - z) * hh + z * h
        hNew = op<AddOp>(
            {op<MulOp>({op<SubOp>({scalar(t, 1), z}), hh}), op<MulOp>({z, h})});
      } else {
        // Gate order i, o, f, c.
        Value pre = op<AddOp>({xt, matmul(h, r)});
        if (rb)
          pre = op<AddOp>({pre, rb});
        auto gate = [&](int64_t k) { return rows(pre, k * hidden, hidden, 1); };
        Value i = gate(0), o = gate(1), f = gate(2), cc = gate(3);
        if (peepI) {
          i = op<AddOp>({i, op<MulOp>({peepI, c})});
          f = op<AddOp>({f, op<MulOp>({peepF, c})});
        }
        i = activation(acts[0], clipped(i));
        f = activation(acts[0], clipped(f));
        cc = activation(acts[1], clipped(cc));
        cNew = op<AddOp>({op<MulOp>({f, c}), op<MulOp>({i, cc})});
        if (peepO)
          o = op<AddOp>({o, op<MulOp>({peepO, cNew})});
        o = activation(acts[0], clipped(o));
        hNew = op<MulOp>({o, activation(acts[2], cNew)});
      }
      Value y = hNew;
      if (lengths) {
        // [B, 1]: whether this step is inside the entry's sequence.
        Value live = unsqueeze(
            op<LessOp>(
                {scalar(Decomposer::elementType(lengths), step), lengths}),
            {1});
        y = op<WhereOp>({live, hNew, scalar(t, 0)});
        hNew = op<WhereOp>({live, hNew, h});
        if (cNew)
          cNew = op<WhereOp>({live, cNew, c});
      }
      h = hNew;
      c = cNew ? cNew : c;
      outputs[step] = unsqueeze(y, {0, 1}); // [1, 1, B, H]
    }
    Value all = concat(outputs);
    SmallVector<Value> results = {all, unsqueeze(h, {0})};
    if (cell == Cell::LSTM)
      results.push_back(unsqueeze(c, {0}));
    return results;
  }
};
} // namespace

static LogicalResult importRecurrent(NodeImporter &n, Cell cell) {
  if (failed(n.requireOperands(3)))
    return failure();
  RecurrentBuilder b(n, cell);
  b.hidden = n.intAttr("hidden_size", 0);
  if (b.hidden <= 0) {
    RankedTensorType r = n.operandType(2);
    if (r.getRank() != 3 || r.isDynamicDim(2))
      return n.emitError() << "hidden_size is required";
    b.hidden = r.getDimSize(2);
  }
  b.hasClip = n.hasAttr("clip");
  b.clip = n.floatAttr("clip", 0);
  b.linearBeforeReset = n.intAttr("linear_before_reset", 0) != 0;
  std::string direction = n.stringAttr("direction", "forward");
  if (direction != "forward" && direction != "reverse" &&
      direction != "bidirectional")
    return n.emitError() << "unknown direction \"" << direction << "\"";
  int64_t directions = direction == "bidirectional" ? 2 : 1;
  const onnx::AttributeProto *acts = n.findAttr("activations");
  SmallVector<std::string> defaults =
      cell == Cell::RNN   ? SmallVector<std::string>{"Tanh"}
      : cell == Cell::GRU ? SmallVector<std::string>{"Sigmoid", "Tanh"}
                          : SmallVector<std::string>{"Sigmoid", "Tanh", "Tanh"};
  if (acts) {
    for (const std::string &a : acts->strings())
      b.activations.push_back(a);
  } else {
    for (int64_t d = 0; d < directions; ++d)
      b.activations.append(defaults.begin(), defaults.end());
  }
  int64_t expected = b.activationsPerDirection() * directions;
  if (static_cast<int64_t>(b.activations.size()) != expected)
    return n.emitError() << "expects " << expected << " activations";
  if (n.hasAttr("activation_alpha") || n.hasAttr("activation_beta"))
    return n.emitError() << "activation_alpha/beta are not supported";
  if (cell == Cell::LSTM && n.intAttr("input_forget", 0) != 0)
    return n.emitError() << "input_forget = 1 is not supported";
  bool batchMajor = n.intAttr("layout", 0) != 0;
  Value x = n.operand(0);
  if (b.rank(x) != 3)
    return n.emitError() << "expects a 3-D input, got " << n.operandType(0);
  if (batchMajor)
    x = b.transpose(x, {1, 0, 2});
  int64_t steps = cast<RankedTensorType>(x.getType()).getDimSize(0);
  if (ShapedType::isDynamic(steps))
    return n.emitError() << "needs a static sequence length (Kiln unrolls "
                            "the recurrence); fix it with --input-shape";
  // Initial states and peepholes: layout 1 gives them batch-major too.
  Value lengths = n.operand(4);
  if (lengths && direction != "forward") {
    std::optional<SmallVector<int64_t>> values = getConstantInts(lengths);
    if (!values || llvm::any_of(*values, [&](int64_t v) { return v != steps; }))
      return n.emitError() << "sequence_lens is supported for the forward "
                              "direction only";
    lengths = Value();
  }
  if (batchMajor && (n.hasOperand(5) || n.hasOperand(6)))
    return n.emitError() << "layout = 1 with initial states is not supported";
  SmallVector<Value> ys, hs, cs;
  for (int64_t d = 0; d < directions; ++d) {
    bool reverse = direction == "reverse" || d == 1;
    SmallVector<Value> r = b.run(x, steps, d, reverse, lengths);
    if (b.failed())
      return failure();
    ys.push_back(r[0]);
    hs.push_back(r[1]);
    if (cell == Cell::LSTM)
      cs.push_back(r[2]);
  }
  auto join = [&](ArrayRef<Value> parts, int64_t axis) {
    return parts.size() == 1 ? parts.front() : b.concat(parts, axis);
  };
  Value y = join(ys, 1), yh = join(hs, 0);
  Value yc = cell == Cell::LSTM ? join(cs, 0) : Value();
  if (batchMajor) {
    y = b.transpose(y, {2, 0, 1, 3});
    yh = b.transpose(yh, {1, 0, 2});
    if (yc)
      yc = b.transpose(yc, {1, 0, 2});
  }
  if (b.failed())
    return failure();
  if (cell == Cell::LSTM)
    return n.setResults({y, yh, yc});
  return n.setResults({y, yh});
}

void onnx_import::registerRecurrentOps(OpRegistry &r) {
  r.add("RNN", {7, 14},
        [](NodeImporter &n) { return importRecurrent(n, Cell::RNN); });
  r.add("GRU", {7, 14},
        [](NodeImporter &n) { return importRecurrent(n, Cell::GRU); });
  r.add("LSTM", {7, 14},
        [](NodeImporter &n) { return importRecurrent(n, Cell::LSTM); });
}
