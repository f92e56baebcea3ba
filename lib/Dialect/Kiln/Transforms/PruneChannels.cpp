//===- PruneChannels.cpp - remove channels whose weights are zero ---------===//
//
// Lossless structural pruning (see Passes.td, kiln-prune-channels): a
// producer's output channels whose weights are zero are constants; where
// the only consumer contracts over them, they leave the producer, the ops
// in between and the consumer's weight.
//
//===----------------------------------------------------------------------===//

#include "GraphUtils.h"

#include "kiln/Dialect/Kiln/Transforms/Passes.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "llvm/ADT/SetVector.h"

#include <algorithm>
#include <cmath>
#include <deque>

namespace kiln {
#define GEN_PASS_DEF_KILNPRUNECHANNELS
#define GEN_PASS_DEF_KILNPRUNEMAGNITUDE
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::graph;

namespace {

/// Where a tensor's channels lie: dim 1 of a convolution's NCHW result, the
/// last dim of a matmul's.
int64_t channelDim(Operation *producer, RankedTensorType type) {
  return isa<ConvOp>(producer) ? 1 : type.getRank() - 1;
}

RankedTensorType withChannels(RankedTensorType type, int64_t dim,
                              int64_t channels) {
  SmallVector<int64_t> shape(type.getShape());
  shape[dim] = channels;
  return RankedTensorType::get(shape, type.getElementType());
}

/// act(x) for the epilogue activations whose value Kiln folds exactly
/// (none, relu, clip); for the others only act(0) = 0 is known.
std::optional<double> activate(StringRef activation, ArrayRef<float> params,
                               double x) {
  if (activation == "none")
    return x;
  if (activation == "relu")
    return x > 0 ? x : 0.0;
  if (activation == "clip" && params.size() == 2)
    return std::min<double>(std::max<double>(x, params[0]), params[1]);
  if (x == 0.0 && llvm::is_contained({"tanh", "gelu", "gelu_tanh", "hard_swish",
                                      "silu", "leaky_relu"},
                                     activation))
    return 0.0;
  return std::nullopt;
}

/// The epilogue activation of a conv or matmul and its parameters ("none"
/// for other ops).
std::pair<StringRef, ArrayRef<float>> productActivation(Operation *op) {
  if (auto c = dyn_cast<ConvOp>(op))
    return {c.getActivation(), c.getActivationParams()};
  if (auto m = dyn_cast<MatMulOp>(op))
    return {m.getActivation(), m.getActivationParams()};
  return {"none", {}};
}

/// An op between producer and consumer that keeps channels apart and maps
/// a channel of constant `x` to the constant it returns (nullopt: unknown,
/// the channel cannot be removed through it).
std::optional<double> passThrough(Operation *op, double x) {
  if (isa<ReluOp>(op))
    return x > 0 ? x : 0.0;
  if (auto clip = dyn_cast<ClipOp>(op)) {
    std::optional<double> lo = clip.getMin() ? getScalarConstant(clip.getMin())
                                             : std::optional<double>(-INFINITY);
    std::optional<double> hi = clip.getMax() ? getScalarConstant(clip.getMax())
                                             : std::optional<double>(INFINITY);
    if (!lo || !hi)
      return std::nullopt;
    return std::min(std::max(x, *lo), *hi);
  }
  // Max pooling pads with -inf: a constant channel stays that constant.
  // Flatten, Concat and Split only move it; a mean over other dims keeps it.
  if (isa<MaxPoolOp, FlattenOp, ConcatOp, SplitOp, ReduceMeanOp>(op))
    return x;
  if (x == 0.0 && isa<GeluOp, TanhOp, LeakyReluOp, HardSwishOp, AveragePoolOp,
                      GlobalAveragePoolOp>(op))
    return 0.0;
  return std::nullopt;
}

/// Activations and pooling: ops that keep channels apart, their data
/// operand first.
bool isChannelWise(Operation *op) {
  return isa<ReluOp, ClipOp, GeluOp, TanhOp, LeakyReluOp, HardSwishOp,
             MaxPoolOp, AveragePoolOp, GlobalAveragePoolOp>(op);
}

/// The channel-wise ops from a producer's result to its one consumer, and
/// the consumer, when the chain is single-use all along.
struct Chain {
  SmallVector<Operation *> between;
  Operation *consumer = nullptr;
  /// Consumer inputs per producer channel: 1, or the spatial size a
  /// Flatten of NCHW data multiplies each channel into (channel c becomes
  /// features [c * spread, (c + 1) * spread)).
  int64_t spread = 1;
  /// A Concat along the channels on the way: the chain's operand of it
  /// (the producer's channel c is the Concat's channel offset + c), and
  /// the channels of its result.
  ConcatOp concat;
  unsigned concatOperand = 0;
  int64_t offset = 0, channels = 0;
};

/// The chain from `v`, a producer's result with `channels` channels along
/// `dim`.
std::optional<Chain> followChain(Value v, int64_t dim, int64_t channels) {
  Chain chain;
  chain.channels = channels;
  while (true) {
    Operation *user = singleUser(v);
    if (!user || user->getNumResults() != 1)
      return std::nullopt;
    // One Concat along the channels (before any Flatten), the value once
    // among its static-sized inputs.
    if (auto concat = dyn_cast<ConcatOp>(user)) {
      auto type = cast<RankedTensorType>(v.getType());
      int64_t axis = concat.getAxis() < 0 ? concat.getAxis() + type.getRank()
                                          : concat.getAxis();
      if (chain.concat || chain.spread > 1 || axis != dim ||
          llvm::count(concat.getInputs(), v) != 1)
        return std::nullopt;
      int64_t offset = 0, total = 0;
      for (auto [i, input] : llvm::enumerate(concat.getInputs())) {
        int64_t size = cast<RankedTensorType>(input.getType()).getDimSize(axis);
        if (ShapedType::isDynamic(size))
          return std::nullopt;
        if (input == v) {
          chain.concatOperand = i;
          offset = total;
        }
        total += size;
      }
      chain.concat = concat;
      chain.offset = offset;
      chain.channels = total;
      chain.between.push_back(user);
      v = user->getResult(0);
      continue;
    }
    if (isa<ConvOp, MatMulOp>(user)) {
      if (user->getOperand(0) != v)
        return std::nullopt;
      // After a Flatten the consumer must be a matmul.
      if (chain.spread > 1 && !isa<MatMulOp>(user))
        return std::nullopt;
      chain.consumer = user;
      return chain;
    }
    // Flatten at axis 1 of static [N][C][H][W] data, into a matmul next.
    if (auto flatten = dyn_cast<FlattenOp>(user)) {
      auto type = cast<RankedTensorType>(v.getType());
      if (chain.spread > 1 || flatten.getAxis() != 1 || type.getRank() != 4 ||
          ShapedType::isDynamicShape(type.getShape().drop_front(2)))
        return std::nullopt;
      chain.spread = type.getDimSize(2) * type.getDimSize(3);
      chain.between.push_back(user);
      v = user->getResult(0);
      continue;
    }
    // Channel-wise ops: the value is their data operand, their result has
    // its shape but for pooling's spatial dims. (After a Flatten, only the
    // consumer.)
    if (chain.spread > 1 || !isChannelWise(user) || user->getOperand(0) != v)
      return std::nullopt;
    chain.between.push_back(user);
    v = user->getResult(0);
  }
}

/// A producer that can lose channels: its constant weight (row-major
/// values), bias (per channel, zeros when absent), the channel count and
/// the values per channel of the weight.
struct Producer {
  Operation *op;
  SmallVector<double> weight, bias;
  int64_t channels;
};

/// `withResidual`: the product may add a residual (a residual stream's
/// member, see Stream).
std::optional<Producer> matchProducer(Operation *op,
                                      bool withResidual = false) {
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  if (!type || !isa<FloatType>(type.getElementType()))
    return std::nullopt;
  Value weight, bias;
  if (auto conv = dyn_cast<ConvOp>(op)) {
    if (conv.getGroup() != 1 || (conv.getResidual() && !withResidual))
      return std::nullopt;
    weight = conv.getWeight();
    bias = conv.getBias();
  } else if (auto matmul = dyn_cast<MatMulOp>(op)) {
    if ((matmul.getResidual() && !withResidual) ||
        cast<RankedTensorType>(matmul.getRhs().getType()).getRank() != 2 ||
        type.getRank() < 2)
      return std::nullopt;
    weight = matmul.getRhs();
    bias = matmul.getBias();
  } else {
    return std::nullopt;
  }
  int64_t dim = channelDim(op, type);
  int64_t channels = type.getDimSize(dim);
  if (ShapedType::isDynamic(channels))
    return std::nullopt;
  std::optional<SmallVector<double>> w = getConstantFloats(weight);
  if (!w)
    return std::nullopt;
  SmallVector<double> b(channels, 0.0);
  if (bias) {
    // A bias of one value per channel (any number of leading 1 dims).
    auto biasType = cast<RankedTensorType>(bias.getType());
    if (!biasType.hasStaticShape() || biasType.getNumElements() != channels ||
        biasType.getRank() == 0 || biasType.getShape().back() != channels)
      return std::nullopt;
    std::optional<SmallVector<double>> values = getConstantFloats(bias);
    if (!values)
      return std::nullopt;
    b = *values;
  }
  return Producer{op, *w, b, channels};
}

/// Whether weight slice `c` of the producer (an output channel: a conv
/// weight row, a matmul weight column) is all zero.
bool zeroSlice(const Producer &p, int64_t c) {
  int64_t total = static_cast<int64_t>(p.weight.size());
  if (isa<ConvOp>(p.op)) {
    int64_t per = total / p.channels;
    for (int64_t i = c * per; i < (c + 1) * per; ++i)
      if (p.weight[i] != 0.0)
        return false;
    return true;
  }
  for (int64_t i = c; i < total; i += p.channels)
    if (p.weight[i] != 0.0)
      return false;
  return true;
}

/// Keeps the entries of a row-major tensor of `shape` whose index along
/// `dim` is in `keep`.
SmallVector<double> select(ArrayRef<double> values, ArrayRef<int64_t> shape,
                           int64_t dim, ArrayRef<int64_t> keep) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d)
    outer *= shape[d];
  for (int64_t d = dim + 1; d < static_cast<int64_t>(shape.size()); ++d)
    inner *= shape[d];
  SmallVector<double> out;
  out.reserve(outer * keep.size() * inner);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k : keep)
      for (int64_t i = 0; i < inner; ++i)
        out.push_back(values[(o * shape[dim] + k) * inner + i]);
  return out;
}

/// One projection of an attention's heads: MatMul(x, W [E, H*D], bias)
/// -> Reshape to [..., S, H, D] -> Transpose(0, 2, 1, 3), each used once.
struct HeadProjection {
  MatMulOp matmul;
  ReshapeOp reshape;
  TransposeOp transpose;
  SmallVector<double> weight, bias; // bias empty when absent
  SmallVector<int64_t> shape;       // the reshape's target
};

bool isHeadSwap(TransposeOp t) {
  return t && llvm::equal(t.getPerm(), ArrayRef<int64_t>{0, 2, 1, 3});
}

std::optional<HeadProjection> matchProjection(Value operand) {
  auto transpose = operand.getDefiningOp<TransposeOp>();
  if (!isHeadSwap(transpose) || !transpose->hasOneUse())
    return std::nullopt;
  auto reshape = transpose.getInput().getDefiningOp<ReshapeOp>();
  if (!reshape || !reshape->hasOneUse() || reshape.getAllowzero())
    return std::nullopt;
  auto matmul = reshape.getInput().getDefiningOp<MatMulOp>();
  if (!matmul || !matmul->hasOneUse() || matmul.getResidual() ||
      matmul.getActivation() != "none" ||
      cast<RankedTensorType>(matmul.getRhs().getType()).getRank() != 2)
    return std::nullopt;
  std::optional<SmallVector<double>> w = getConstantFloats(matmul.getRhs());
  std::optional<SmallVector<int64_t>> shape =
      getConstantInts(reshape.getShape());
  if (!w || !shape || shape->size() != 4)
    return std::nullopt;
  SmallVector<double> b;
  if (matmul.getBias()) {
    std::optional<SmallVector<double>> values =
        getConstantFloats(matmul.getBias());
    if (!values)
      return std::nullopt;
    b = *values;
  }
  return HeadProjection{matmul, reshape, transpose, *w, b, *shape};
}

/// Whether columns [from, to) of a row-major [rows, cols] weight (and the
/// bias entries, when present) are all zero.
bool zeroColumns(ArrayRef<double> w, ArrayRef<double> bias, int64_t cols,
                 int64_t from, int64_t to) {
  for (int64_t i = 0; i < static_cast<int64_t>(w.size()); ++i)
    if (i % cols >= from && i % cols < to && w[i] != 0.0)
      return false;
  for (int64_t c = from; c < to && !bias.empty(); ++c)
    if (bias[c] != 0.0)
      return false;
  return true;
}

/// An attention whose heads can go: Q, K and V are head projections of
/// `heads` heads, and the output goes Transpose(0, 2, 1, 3) -> Reshape to
/// [..., S, H*D] -> MatMul with a constant [H*D, E] weight `wo`, each used
/// once.
struct AttentionHeads {
  HeadProjection q, k, v;
  TransposeOp back;
  ReshapeOp merge;
  MatMulOp out;
  SmallVector<int64_t> mergeShape;
  SmallVector<double> wo;
  int64_t heads, depth, embed;
};

std::optional<AttentionHeads> matchAttentionHeads(AttentionOp attention) {
  auto type = cast<RankedTensorType>(attention.getType());
  if (type.getRank() != 4 || !type.hasStaticShape() || !attention->hasOneUse())
    return std::nullopt;
  if (Value mask = attention.getMask()) {
    auto maskType = cast<RankedTensorType>(mask.getType());
    if (maskType.getRank() == 4 && maskType.getDimSize(1) != 1)
      return std::nullopt;
  }
  std::optional<HeadProjection> q = matchProjection(attention.getQuery()),
                                k = matchProjection(attention.getKey()),
                                v = matchProjection(attention.getValue());
  if (!q || !k || !v)
    return std::nullopt;
  int64_t heads = type.getDimSize(1), depth = type.getDimSize(3);
  for (HeadProjection *p : {&*q, &*k, &*v}) {
    auto reshaped = cast<RankedTensorType>(p->reshape.getType());
    if (!reshaped.hasStaticShape() || reshaped.getDimSize(2) != heads)
      return std::nullopt;
    auto w = cast<RankedTensorType>(p->matmul.getRhs().getType());
    if (w.getDimSize(1) != heads * reshaped.getDimSize(3) ||
        (p->shape[2] != heads && p->shape[2] != -1))
      return std::nullopt;
  }
  auto back = dyn_cast<TransposeOp>(*attention->user_begin());
  if (!isHeadSwap(back) || !back->hasOneUse())
    return std::nullopt;
  auto merge = dyn_cast<ReshapeOp>(*back->user_begin());
  if (!merge || !merge->hasOneUse() || merge.getAllowzero())
    return std::nullopt;
  auto out = dyn_cast<MatMulOp>(*merge->user_begin());
  std::optional<SmallVector<int64_t>> mergeShape =
      getConstantInts(merge.getShape());
  if (!out || out.getLhs() != merge.getResult() || !mergeShape ||
      mergeShape->empty() ||
      (mergeShape->back() != heads * depth && mergeShape->back() != -1))
    return std::nullopt;
  auto outType = cast<RankedTensorType>(out.getRhs().getType());
  std::optional<SmallVector<double>> wo = getConstantFloats(out.getRhs());
  if (!wo || outType.getRank() != 2 || outType.getDimSize(0) != heads * depth)
    return std::nullopt;
  return AttentionHeads{*q,
                        *k,
                        *v,
                        back,
                        merge,
                        out,
                        *mergeShape,
                        *wo,
                        heads,
                        depth,
                        outType.getDimSize(1)};
}

MatMulOp gemmAsMatMul(GemmOp gemm);
bool gemmIsMatMul(GemmOp gemm);

/// Gives `product`, rebuilt from `old`, old's discardable attributes (its
/// count of pruned channels among them); with `gone` > 0 channels of `of`
/// removed now, adds them to that count.
void carryAttributes(Operation *old, Operation *product, int64_t gone = 0,
                     int64_t of = 0) {
  product->setDiscardableAttrs(old->getDiscardableAttrDictionary());
  if (gone == 0)
    return;
  if (auto before =
          old->getAttrOfType<DenseI64ArrayAttr>("kiln.pruned_channels");
      before && before.size() == 2) {
    gone += before[0];
    of = before[1];
  }
  product->setAttr("kiln.pruned_channels",
                   DenseI64ArrayAttr::get(old->getContext(), {gone, of}));
}

/// Where a value of a Stream holds its channels: along `dim`, the stream's
/// channels [lo, hi) (all of them, or a Split's piece), channel c at
/// c - lo.
struct StreamValue {
  int64_t dim = 0, lo = 0, hi = 0;
};

/// A residual stream: products whose results carry the same channels, each
/// after the first adding the stream in as its residual (a ResNet stage:
/// its first conv, then every block's last), the channel-wise ops on the
/// stream's values (a Split along the channels among them, whose pieces
/// carry ranges of the channels), and the products that read one of them
/// as their input. A channel leaves all of them at once when it is zero
/// everywhere along the stream: every member's weights for it are zero,
/// and its bias through the member's activation is 0.
struct Stream {
  /// The members and the channel-wise ops, in program order.
  SmallVector<Operation *> ops;
  /// The products reading a stream value as their input, in program order
  /// (a member may be one too); Gemms among them are matmuls.
  SmallVector<Operation *> consumers;
  /// Where each stream value holds its channels.
  DenseMap<Value, StreamValue> values;
};

/// Whether `op` takes stream value `v` (channels along `dim`) to a value
/// with the same channels, along *resultDim: a channel-wise op, a mean over
/// dims after the channels, a Flatten of [N, C, 1, ...] at axis 1.
bool streamStep(Operation *op, Value v, int64_t dim, int64_t *resultDim) {
  if (op->getNumResults() != 1 || op->getNumOperands() == 0 ||
      op->getOperand(0) != v ||
      llvm::is_contained(op->getOperands().drop_front(), v))
    return false;
  auto type = cast<RankedTensorType>(v.getType());
  int64_t rank = type.getRank();
  *resultDim = dim;
  // Pooling works on NCHW data, channels along dim 1.
  if (isChannelWise(op))
    return dim == 1 || !isa<MaxPoolOp, AveragePoolOp, GlobalAveragePoolOp>(op);
  if (auto mean = dyn_cast<ReduceMeanOp>(op))
    return !mean.getAxes().empty() &&
           llvm::all_of(mean.getAxes(), [&](int64_t axis) {
             return (axis < 0 ? axis + rank : axis) > dim;
           });
  if (auto flatten = dyn_cast<FlattenOp>(op))
    return dim == 1 && flatten.getAxis() == 1 && type.hasStaticShape() &&
           llvm::all_of(type.getShape().drop_front(2),
                        [](int64_t d) { return d == 1; });
  return false;
}

/// The residual stream that starts at `seed` (a product without a
/// residual), when every use of its values is understood.
/// Only the graph's structure is looked at (the weights' values are not
/// read: most streams have no zero channel, see pruneStream).
std::optional<Stream> collectStream(Operation *seed) {
  if (!isa<ConvOp, MatMulOp>(seed) || contractionOperands(seed)[3])
    return std::nullopt;
  auto seedType = cast<RankedTensorType>(seed->getResult(0).getType());
  int64_t channels = seedType.getDimSize(channelDim(seed, seedType));
  if (ShapedType::isDynamic(channels))
    return std::nullopt;
  Stream stream;
  llvm::SetVector<Operation *> ops, consumers;
  SmallVector<Value> queue;
  auto add = [&](Operation *op, Value result, StreamValue where) {
    ops.insert(op);
    if (stream.values.try_emplace(result, where).second)
      queue.push_back(result);
  };
  add(seed, seed->getResult(0), {channelDim(seed, seedType), 0, channels});
  while (!queue.empty()) {
    Value v = queue.pop_back_val();
    StreamValue where = stream.values.lookup(v);
    int64_t dim = where.dim;
    auto type = cast<RankedTensorType>(v.getType());
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (user->getBlock() != seed->getBlock())
        return std::nullopt;
      if (isa<ConvOp, MatMulOp, GemmOp>(user)) {
        SmallVector<Value, 4> operands = contractionOperands(user);
        auto weightType = dyn_cast<RankedTensorType>(operands[1].getType());
        if (use.getOperandNumber() == 0) {
          // It contracts over the channels: a conv over dim 1, a matmul
          // over the last dim, its weight over rows.
          auto conv = dyn_cast<ConvOp>(user);
          auto gemm = dyn_cast<GemmOp>(user);
          bool contracts =
              conv ? dim == 1 && type.getRank() == 4 && conv.getGroup() == 1
                   : dim == type.getRank() - 1 && (!gemm || gemmIsMatMul(gemm));
          // The weight's dim of the channels: [M, C, kh, kw], [C, N], or
          // a transposed Gemm's [N, C].
          int64_t contracted = conv || (gemm && gemm.getTransB()) ? 1 : 0;
          if (!contracts || !weightType || !weightType.hasStaticShape() ||
              weightType.getRank() != (conv ? 4 : 2) ||
              weightType.getDimSize(contracted) != where.hi - where.lo ||
              !matchPattern(operands[1], m_Constant()))
            return std::nullopt;
          consumers.insert(user);
          continue;
        }
        // A member: it adds the whole stream as its residual, with the
        // channels where its result has them.
        auto resultType = cast<RankedTensorType>(user->getResult(0).getType());
        if (isa<GemmOp>(user) || operands[3] != v || where.lo != 0 ||
            where.hi != channels || isa<ConvOp>(user) != isa<ConvOp>(seed) ||
            resultType.getShape() != type.getShape() ||
            channelDim(user, resultType) != dim ||
            !matchPattern(operands[1], m_Constant()))
          return std::nullopt;
        add(user, user->getResult(0), where);
        continue;
      }
      // A Split along the channels, of static pieces: piece j carries the
      // range's channels from the pieces before it on.
      if (auto split = dyn_cast<SplitOp>(user)) {
        int64_t axis = split.getAxis() < 0 ? split.getAxis() + type.getRank()
                                           : split.getAxis();
        if (axis != dim)
          return std::nullopt;
        int64_t lo = where.lo;
        for (Value piece : split.getResults()) {
          int64_t size =
              cast<RankedTensorType>(piece.getType()).getDimSize(axis);
          if (ShapedType::isDynamic(size))
            return std::nullopt;
          add(user, piece, {dim, lo, lo + size});
          lo += size;
        }
        continue;
      }
      int64_t resultDim;
      if (!streamStep(user, v, dim, &resultDim))
        return std::nullopt;
      add(user, user->getResult(0), {resultDim, where.lo, where.hi});
    }
  }
  auto inOrder = [](Operation *a, Operation *b) {
    return a->isBeforeInBlock(b);
  };
  stream.ops.assign(ops.begin(), ops.end());
  stream.consumers.assign(consumers.begin(), consumers.end());
  llvm::sort(stream.ops, inOrder);
  llvm::sort(stream.consumers, inOrder);
  return stream;
}

struct KilnPruneChannelsPass
    : public kiln::impl::KilnPruneChannelsBase<KilnPruneChannelsPass> {
  void runOnOperation() override {
    SmallVector<AttentionOp> attentions;
    getOperation().walk([&](AttentionOp op) { attentions.push_back(op); });
    for (AttentionOp op : attentions)
      pruneHeads(op);
    // In program order; a rewritten consumer goes back on the list as a
    // producer of its own (conv -> conv -> conv chains).
    getOperation().walk([&](Operation *op) {
      if (isa<ConvOp, MatMulOp>(op))
        work.push_back(op);
    });
    while (!work.empty()) {
      Operation *op = work.front();
      work.pop_front();
      if (Operation *replacement = prune(op)) {
        work.push_front(replacement);
        continue;
      }
      SmallVector<Operation *> rebuilt = pruneStream(op);
      for (Operation *product : llvm::reverse(rebuilt))
        work.push_front(product);
    }
  }

  /// Products still to visit. An op the pass erases leaves the list at
  /// once: a new op may reuse its address.
  std::deque<Operation *> work;
  void forget(Operation *op) {
    work.erase(std::remove(work.begin(), work.end(), op), work.end());
  }

  /// Removes the heads of `attention` whose values are zero (V's weight
  /// columns and bias) or whose output projection rows are zero: such a
  /// head adds nothing to the output projection. Q, K, V and the output
  /// projection lose the head's slices, the reshapes and the attention one
  /// head each.
  void pruneHeads(AttentionOp attention) {
    std::optional<AttentionHeads> match = matchAttentionHeads(attention);
    if (!match)
      return;
    auto type = cast<RankedTensorType>(attention.getType());
    HeadProjection *q = &match->q, *k = &match->k, *v = &match->v;
    TransposeOp back = match->back;
    ReshapeOp merge = match->merge;
    MatMulOp out = match->out;
    std::optional<SmallVector<int64_t>> mergeShape = match->mergeShape;
    std::optional<SmallVector<double>> wo = match->wo;
    auto outType = cast<RankedTensorType>(out.getRhs().getType());
    int64_t heads = match->heads, depth = match->depth, embed = match->embed;

    SmallVector<int64_t> keep, gone;
    for (int64_t h = 0; h < heads; ++h) {
      int64_t vDepth =
          cast<RankedTensorType>(v->reshape.getType()).getDimSize(3);
      bool zeroValue = zeroColumns(v->weight, v->bias, heads * vDepth,
                                   h * vDepth, (h + 1) * vDepth);
      bool zeroOut = true;
      for (int64_t r = h * depth; r < (h + 1) * depth && zeroOut; ++r)
        for (int64_t c = 0; c < embed && zeroOut; ++c)
          zeroOut = (*wo)[r * embed + c] == 0.0;
      (zeroValue || zeroOut ? gone : keep).push_back(h);
    }
    if (gone.empty() || keep.empty())
      return;
    int64_t kept = static_cast<int64_t>(keep.size());

    IRRewriter rewriter(attention->getContext());
    // The columns of the kept heads, for a projection of `d` per head.
    auto keptColumns = [&](int64_t d) {
      SmallVector<int64_t> columns;
      for (int64_t h : keep)
        for (int64_t i = 0; i < d; ++i)
          columns.push_back(h * d + i);
      return columns;
    };
    auto newShape = [&](Value shape, ArrayRef<int64_t> values) {
      auto shapeType = cast<RankedTensorType>(shape.getType());
      return ConstantOp::create(rewriter, shape.getLoc(), shapeType,
                                DenseElementsAttr::get(shapeType, values));
    };
    SmallVector<Value, 3> projected;
    for (HeadProjection *p : {q, k, v}) {
      auto reshaped = cast<RankedTensorType>(p->reshape.getType());
      int64_t d = reshaped.getDimSize(3);
      SmallVector<int64_t> columns = keptColumns(d);
      rewriter.setInsertionPoint(p->matmul);
      auto wType = cast<RankedTensorType>(p->matmul.getRhs().getType());
      SmallVector<Value, 4> operands = contractionOperands(p->matmul);
      operands[1] = createFloatConstant(
          rewriter, p->matmul.getLoc(), withChannels(wType, 1, kept * d),
          select(p->weight, wType.getShape(), 1, columns),
          constantName(p->matmul.getRhs()) + "_heads");
      if (operands[2]) {
        auto biasType = cast<RankedTensorType>(operands[2].getType());
        operands[2] = createFloatConstant(
            rewriter, p->matmul.getLoc(),
            withChannels(biasType, biasType.getRank() - 1, kept * d),
            select(p->bias, {heads * d}, 0, columns),
            constantName(p->matmul.getRhs()) + "_heads_bias");
      }
      MatMulOp matmul =
          rebuildContraction(rewriter, p->matmul, p->matmul.getLoc(), operands);
      auto matmulType = cast<RankedTensorType>(p->matmul.getType());
      matmul.getResult().setType(
          withChannels(matmulType, matmulType.getRank() - 1, kept * d));
      SmallVector<int64_t> shape = p->shape;
      if (shape[2] == heads)
        shape[2] = kept;
      rewriter.setInsertionPoint(p->reshape);
      Value reshape = ReshapeOp::create(
          rewriter, p->reshape.getLoc(), withChannels(reshaped, 2, kept),
          matmul.getResult(), newShape(p->reshape.getShape(), shape),
          p->reshape.getAllowzero());
      rewriter.setInsertionPoint(p->transpose);
      projected.push_back(TransposeOp::create(
          rewriter, p->transpose.getLoc(),
          withChannels(cast<RankedTensorType>(p->transpose.getType()), 1, kept),
          reshape, p->transpose.getPermAttr()));
    }
    rewriter.setInsertionPoint(attention);
    auto newAttention = cast<AttentionOp>(rewriter.clone(*attention));
    newAttention->setOperand(0, projected[0]);
    newAttention->setOperand(1, projected[1]);
    newAttention->setOperand(2, projected[2]);
    newAttention.getResult().setType(withChannels(type, 1, kept));
    newAttention->setAttr("kiln.pruned_heads",
                          rewriter.getDenseI64ArrayAttr(
                              {static_cast<int64_t>(gone.size()), heads}));
    rewriter.setInsertionPoint(back);
    Value swapped = TransposeOp::create(
        rewriter, back.getLoc(),
        withChannels(cast<RankedTensorType>(back.getType()), 2, kept),
        newAttention.getResult(), back.getPermAttr());
    SmallVector<int64_t> merged = *mergeShape;
    if (merged.back() == heads * depth)
      merged.back() = kept * depth;
    rewriter.setInsertionPoint(merge);
    auto mergeType = cast<RankedTensorType>(merge.getType());
    Value reshaped = ReshapeOp::create(
        rewriter, merge.getLoc(),
        withChannels(mergeType, mergeType.getRank() - 1, kept * depth), swapped,
        newShape(merge.getShape(), merged), merge.getAllowzero());
    rewriter.setInsertionPoint(out);
    SmallVector<Value, 4> operands = contractionOperands(out);
    operands[0] = reshaped;
    operands[1] = createFloatConstant(
        rewriter, out.getLoc(), withChannels(outType, 0, kept * depth),
        select(*wo, outType.getShape(), 0, keptColumns(depth)),
        constantName(out.getRhs()) + "_heads");
    MatMulOp newOut = rebuildContraction(rewriter, out, out.getLoc(), operands);
    forget(out);
    rewriter.replaceOp(out, newOut.getResult());
    for (Operation *dead :
         {(Operation *)merge, (Operation *)back, (Operation *)attention})
      rewriter.eraseOp(dead);
    for (HeadProjection *p : {q, k, v}) {
      rewriter.eraseOp(p->transpose);
      rewriter.eraseOp(p->reshape);
      forget(p->matmul);
      rewriter.eraseOp(p->matmul);
    }
    numHeads += gone.size();
  }

  /// Removes the channels that are zero all along the residual stream
  /// starting at `op` (see Stream) from its members, its channel-wise ops
  /// and its consumers' inputs. Returns the rebuilt products.
  SmallVector<Operation *> pruneStream(Operation *op) {
    std::optional<Stream> stream = collectStream(op);
    // A single product into a single consumer is prune()'s.
    if (!stream || (stream->consumers.size() < 2 &&
                    llvm::count_if(stream->ops, [](Operation *step) {
                      return isa<ConvOp, MatMulOp, SplitOp>(step);
                    }) < 2))
      return {};
    // A channel goes when every member's weights for it are zero and each
    // value along the stream is then exactly 0: bias (plus a residual of
    // 0) through the member's activation, and 0 through the other ops.
    // The first member's candidates first: most streams have none, and the
    // other members' weights are then not read.
    auto zeroOut = [](Operation *member, const Producer &p, int64_t c) {
      auto [activation, params] = productActivation(member);
      std::optional<double> value =
          zeroSlice(p, c) ? activate(activation, params, p.bias[c])
                          : std::nullopt;
      return value && *value == 0.0;
    };
    std::optional<Producer> first = matchProducer(op);
    if (!first)
      return {};
    int64_t channels = first->channels;
    SmallVector<int64_t> gone;
    for (int64_t c = 0; c < channels; ++c)
      if (zeroOut(op, *first, c))
        gone.push_back(c);
    if (gone.empty())
      return {};
    DenseMap<Operation *, Producer> members;
    members.try_emplace(op, std::move(*first));
    for (Operation *step : stream->ops) {
      if (step == op || !isa<ConvOp, MatMulOp>(step))
        continue;
      std::optional<Producer> member = matchProducer(step, true);
      if (!member)
        return {};
      gone.erase(
          llvm::remove_if(
              gone, [&](int64_t c) { return !zeroOut(step, *member, c); }),
          gone.end());
      if (gone.empty())
        return {};
      members.try_emplace(step, std::move(*member));
    }
    // 0 through the ops between.
    for (Operation *step : stream->ops)
      if (!members.count(step)) {
        std::optional<double> value = passThrough(step, 0.0);
        if (!value || *value != 0.0)
          return {};
      }
    SmallVector<int64_t> keep;
    for (int64_t c = 0; c < channels; ++c)
      if (!llvm::is_contained(gone, c))
        keep.push_back(c);
    // A Split's piece keeps a channel at least (none would leave an empty
    // tensor for its consumers).
    for (const auto &entry : stream->values) {
      int64_t lo = entry.second.lo, hi = entry.second.hi;
      auto inside = [&](int64_t c) { return c >= lo && c < hi; };
      if (hi > lo && llvm::all_of(llvm::seq(lo, hi), [&](int64_t c) {
            return llvm::is_contained(gone, c);
          })) {
        gone.erase(llvm::remove_if(gone, inside), gone.end());
        for (int64_t c = lo; c < hi; ++c)
          keep.push_back(c);
      }
    }
    llvm::sort(keep);
    if (gone.empty() || keep.empty())
      return {};

    // Gemm consumers become the matmuls they are.
    for (Operation *&consumer : stream->consumers)
      if (auto gemm = dyn_cast<GemmOp>(consumer))
        consumer = gemmAsMatMul(gemm);
    llvm::SetVector<Operation *> all(stream->ops.begin(), stream->ops.end());
    all.insert(stream->consumers.begin(), stream->consumers.end());
    SmallVector<Operation *> order(all.begin(), all.end());
    llvm::sort(order, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });

    int64_t kept = static_cast<int64_t>(keep.size());
    // The kept channels of a value, as its own channel indices.
    auto keptOf = [&](Value v) {
      StreamValue where = stream->values.lookup(v);
      SmallVector<int64_t> local;
      for (int64_t c : keep)
        if (c >= where.lo && c < where.hi)
          local.push_back(c - where.lo);
      return local;
    };
    IRRewriter rewriter(&getContext());
    IRMapping mapped;
    SmallVector<Operation *> rebuilt;
    for (Operation *old : order) {
      rewriter.setInsertionPoint(old);
      auto resultType = cast<RankedTensorType>(old->getResult(0).getType());
      if (!isa<ConvOp, MatMulOp>(old)) {
        // A channel-wise op (or a Split), on fewer channels.
        Operation *clone = rewriter.clone(*old);
        clone->setOperand(0, mapped.lookup(old->getOperand(0)));
        SmallVector<int64_t> sizes;
        for (auto [from, to] :
             llvm::zip(old->getResults(), clone->getResults())) {
          int64_t count = static_cast<int64_t>(keptOf(from).size());
          sizes.push_back(count);
          to.setType(withChannels(cast<RankedTensorType>(from.getType()),
                                  stream->values.lookup(from).dim, count));
          mapped.map(from, to);
        }
        if (auto split = dyn_cast<SplitOp>(clone))
          split.setSizesAttr(rewriter.getDenseI64ArrayAttr(sizes));
        continue;
      }
      bool conv = isa<ConvOp>(old);
      bool consumer = llvm::is_contained(stream->consumers, old);
      auto member = members.find(old);
      SmallVector<Value, 4> operands = contractionOperands(old);
      auto weightType = cast<RankedTensorType>(operands[1].getType());
      SmallVector<int64_t> shape(weightType.getShape());
      SmallVector<double> weight = *getConstantFloats(operands[1]);
      std::string name = constantName(operands[1]) + "_pruned";
      if (consumer) {
        // Its inputs of the kept channels.
        int64_t dim = conv ? 1 : 0;
        SmallVector<int64_t> inputs = keptOf(operands[0]);
        weight = select(weight, shape, dim, inputs);
        shape[dim] = static_cast<int64_t>(inputs.size());
        operands[0] = mapped.lookup(operands[0]);
      }
      if (member != members.end()) {
        // Its outputs of the kept channels, and the kept residual.
        int64_t dim = conv ? 0 : 1;
        weight = select(weight, shape, dim, keep);
        shape[dim] = kept;
        if (operands[2]) {
          auto biasType = cast<RankedTensorType>(operands[2].getType());
          operands[2] = createFloatConstant(
              rewriter, old->getLoc(),
              withChannels(biasType, biasType.getRank() - 1, kept),
              select(member->second.bias, {channels}, 0, keep), name + "_bias");
        }
        if (operands[3])
          operands[3] = mapped.lookup(operands[3]);
      }
      operands[1] = createFloatConstant(
          rewriter, old->getLoc(),
          RankedTensorType::get(shape, weightType.getElementType()), weight,
          name);
      Operation *product =
          conv ? rebuildContraction(rewriter, cast<ConvOp>(old), old->getLoc(),
                                    operands)
                     .getOperation()
               : rebuildContraction(rewriter, cast<MatMulOp>(old),
                                    old->getLoc(), operands)
                     .getOperation();
      if (member != members.end()) {
        product->getResult(0).setType(
            withChannels(resultType, channelDim(old, resultType), kept));
        carryAttributes(old, product, static_cast<int64_t>(gone.size()),
                        channels);
        mapped.map(old->getResult(0), product->getResult(0));
        numChannels += gone.size();
        ++numLayers;
      } else {
        carryAttributes(old, product);
        rewriter.replaceAllUsesWith(old->getResult(0), product->getResult(0));
      }
      rebuilt.push_back(product);
    }
    // The old ops, each after its users.
    for (Operation *old : llvm::reverse(order)) {
      forget(old);
      rewriter.eraseOp(old);
    }
    return rebuilt;
  }

  /// Prunes `op`'s channels; returns the rewritten consumer, or null when
  /// nothing changed.
  Operation *prune(Operation *op) {
    std::optional<Producer> producer = matchProducer(op);
    if (!producer)
      return nullptr;
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    int64_t dim = channelDim(op, resultType);
    std::optional<Chain> chain =
        followChain(op->getResult(0), dim, producer->channels);
    if (!chain)
      return nullptr;
    Operation *consumer = chain->consumer;
    std::optional<SmallVector<double>> consumerWeight =
        getConstantFloats(consumer->getOperand(1));
    auto consumerWeightType =
        cast<RankedTensorType>(consumer->getOperand(1).getType());
    if (!consumerWeight || !consumerWeightType.hasStaticShape())
      return nullptr;
    auto conv = dyn_cast<ConvOp>(consumer);
    if (conv && conv.getGroup() != 1)
      return nullptr;
    if (!conv && consumerWeightType.getRank() != 2)
      return nullptr;
    // The consumer contracts over dim 1 of its conv weight, dim 0 of its
    // matmul weight; both must hold the producer's channels.
    int64_t inputDim = conv ? 1 : 0;
    int64_t spread = chain->spread, offset = chain->offset;
    if (consumerWeightType.getDimSize(inputDim) != chain->channels * spread)
      return nullptr;
    // A constant channel adds the same to every consumer output only for a
    // matmul or an unpadded 1x1 convolution.
    bool foldable =
        !conv ||
        (llvm::all_of(conv.getPads(), [](int64_t p) { return p == 0; }) &&
         llvm::all_of(consumerWeightType.getShape().drop_front(2),
                      [](int64_t k) { return k == 1; }));

    // The channels that go, and their constants at the consumer.
    auto [activation, params] = productActivation(op);
    SmallVector<int64_t> keep, gone;
    SmallVector<double> constants;
    for (int64_t c = 0; c < producer->channels; ++c) {
      std::optional<double> value;
      if (zeroSlice(*producer, c))
        value = activate(activation, params, producer->bias[c]);
      for (Operation *between : chain->between)
        if (value)
          value = passThrough(between, *value);
      if (value && (*value == 0.0 || foldable)) {
        gone.push_back(c);
        constants.push_back(*value);
      } else {
        keep.push_back(c);
      }
    }
    if (gone.empty() || keep.empty())
      return nullptr;

    // The consumer's bias gains the removed constants: out[m] += sum over
    // removed c of k_c * W[m][c] (conv: [m][c][1][1]; matmul: W[c][m]).
    auto consumerType =
        cast<RankedTensorType>(consumer->getResult(0).getType());
    SmallVector<Value, 4> consumerOperands = contractionOperands(consumer);
    std::optional<SmallVector<double>> newBias;
    RankedTensorType biasType;
    if (llvm::any_of(constants, [](double x) { return x != 0; })) {
      int64_t outputs = consumerWeightType.getDimSize(conv ? 0 : 1);
      Value oldBias = consumerOperands[2];
      biasType = oldBias ? cast<RankedTensorType>(oldBias.getType())
                         : RankedTensorType::get({outputs},
                                                 consumerType.getElementType());
      newBias = oldBias ? getConstantFloats(oldBias)
                        : std::optional<SmallVector<double>>(
                              SmallVector<double>(outputs, 0.0));
      if (!newBias || static_cast<int64_t>(newBias->size()) != outputs)
        return nullptr;
      for (auto [c, k] : llvm::zip(gone, constants))
        for (int64_t m = 0; m < outputs; ++m)
          for (int64_t j = 0; j < spread; ++j)
            (*newBias)[m] +=
                k *
                (conv
                     ? (*consumerWeight)[m * chain->channels + offset + c]
                     : (*consumerWeight)[((offset + c) * spread + j) * outputs +
                                         m]);
    }

    OpBuilder b(op);
    int64_t kept = static_cast<int64_t>(keep.size());
    // The channels after the Concat, when there is one.
    int64_t keptAfter = chain->channels - static_cast<int64_t>(gone.size());
    std::string name = constantName(op->getOperand(1)) + "_pruned";

    // The producer without the channels.
    auto weightType = cast<RankedTensorType>(op->getOperand(1).getType());
    int64_t weightDim = isa<ConvOp>(op) ? 0 : 1;
    Value weight = createFloatConstant(
        b, op->getLoc(), withChannels(weightType, weightDim, kept),
        select(producer->weight, weightType.getShape(), weightDim, keep), name);
    SmallVector<Value, 4> operands = contractionOperands(op);
    operands[1] = weight;
    if (operands[2]) {
      auto biasType = cast<RankedTensorType>(operands[2].getType());
      operands[2] = createFloatConstant(
          b, op->getLoc(), withChannels(biasType, biasType.getRank() - 1, kept),
          select(producer->bias, {producer->channels}, 0, keep),
          name + "_bias");
    }
    IRRewriter rewriter(b);
    rewriter.setInsertionPoint(op);
    Operation *pruned;
    if (auto c = dyn_cast<ConvOp>(op))
      pruned = rebuildContraction(rewriter, c, op->getLoc(), operands);
    else
      pruned = rebuildContraction(rewriter, cast<MatMulOp>(op), op->getLoc(),
                                  operands);
    pruned->getResult(0).setType(withChannels(resultType, dim, kept));
    carryAttributes(op, pruned, static_cast<int64_t>(gone.size()),
                    producer->channels);

    // The ops between, on fewer channels.
    Value v = pruned->getResult(0);
    int64_t channels = kept;
    for (Operation *between : chain->between) {
      rewriter.setInsertionPoint(between);
      Operation *clone = rewriter.clone(*between);
      if (between == chain->concat.getOperation()) {
        clone->setOperand(chain->concatOperand, v);
        channels = keptAfter;
      } else {
        clone->setOperand(0, v);
      }
      auto type = cast<RankedTensorType>(between->getResult(0).getType());
      clone->getResult(0).setType(isa<FlattenOp>(between)
                                      ? withChannels(type, 1, channels * spread)
                                      : withChannels(type, dim, channels));
      v = clone->getResult(0);
    }
    // The consumer's inputs but those of the removed channels (after a
    // Flatten, each channel's `spread` features).
    llvm::SmallDenseSet<int64_t> goneInputs;
    for (int64_t c : gone)
      goneInputs.insert(offset + c);
    SmallVector<int64_t> keptInputs;
    for (int64_t c = 0; c < chain->channels; ++c)
      if (!goneInputs.contains(c))
        for (int64_t j = 0; j < spread; ++j)
          keptInputs.push_back(c * spread + j);

    // The consumer without their weights, their constants in its bias.
    rewriter.setInsertionPoint(consumer);
    Value consumerW = createFloatConstant(
        rewriter, consumer->getLoc(),
        withChannels(consumerWeightType, inputDim, keptAfter * spread),
        select(*consumerWeight, consumerWeightType.getShape(), inputDim,
               keptInputs),
        constantName(consumer->getOperand(1)) + "_pruned");
    consumerOperands[0] = v;
    consumerOperands[1] = consumerW;
    if (newBias)
      consumerOperands[2] = createFloatConstant(
          rewriter, consumer->getLoc(), biasType, *newBias,
          constantName(consumer->getOperand(1)) + "_pruned_bias");
    Operation *newConsumer;
    if (conv)
      newConsumer = rebuildContraction(rewriter, conv, consumer->getLoc(),
                                       consumerOperands);
    else
      newConsumer = rebuildContraction(rewriter, cast<MatMulOp>(consumer),
                                       consumer->getLoc(), consumerOperands);
    carryAttributes(consumer, newConsumer);
    forget(consumer);
    rewriter.replaceOp(consumer, newConsumer->getResults());
    for (Operation *between : llvm::reverse(chain->between))
      rewriter.eraseOp(between);
    forget(op);
    rewriter.eraseOp(op);
    numChannels += gone.size();
    ++numLayers;
    return newConsumer;
  }
};

/// Whether kiln-prune-channels could remove a zeroed channel of `op`: it
/// matches as a producer, its activation maps 0 to 0, and its result reaches
/// one conv/matmul consumer through channel-wise ops. Returns the consumer.
Operation *shrinkableConsumer(Operation *op) {
  std::optional<Producer> producer = matchProducer(op);
  if (!producer)
    return nullptr;
  auto [activation, params] = productActivation(op);
  std::optional<double> zero = activate(activation, params, 0.0);
  if (!zero || *zero != 0.0)
    return nullptr;
  auto type = cast<RankedTensorType>(op->getResult(0).getType());
  std::optional<Chain> chain =
      followChain(op->getResult(0), channelDim(op, type), producer->channels);
  if (!chain)
    return nullptr;
  for (Operation *between : chain->between) {
    std::optional<double> v = passThrough(between, 0.0);
    if (!v || *v != 0.0)
      return nullptr;
  }
  auto conv = dyn_cast<ConvOp>(chain->consumer);
  if (conv && conv.getGroup() != 1)
    return nullptr;
  if (!getConstantFloats(chain->consumer->getOperand(1)))
    return nullptr;
  return chain->consumer;
}

/// Whether `gemm` is a kiln.matmul: a constant B, alpha and beta 1, no
/// trans_a, C absent or one value per column. Torch exports a Linear on a
/// 2-D input (a CNN's classifier) as Gemm; as a matmul its neurons can be
/// pruned.
bool gemmIsMatMul(GemmOp gemm) {
  auto bType = cast<RankedTensorType>(gemm.getB().getType());
  if (gemm.getTransA() || gemm.getAlpha().convertToFloat() != 1.0f ||
      (gemm.getC() && gemm.getBeta().convertToFloat() != 1.0f) ||
      bType.getRank() != 2 || !bType.hasStaticShape())
    return false;
  if (Value c = gemm.getC()) {
    auto cType = cast<RankedTensorType>(c.getType());
    int64_t n = bType.getDimSize(gemm.getTransB() ? 0 : 1);
    if (cType.getRank() != 1 || cType.getDimSize(0) != n)
      return false;
  }
  return getConstantFloats(gemm.getB()).has_value();
}

/// `gemm` as the kiln.matmul it is (B transposed now for trans_b), when
/// gemmIsMatMul; null otherwise.
MatMulOp gemmAsMatMul(GemmOp gemm) {
  if (!gemmIsMatMul(gemm))
    return nullptr;
  auto bType = cast<RankedTensorType>(gemm.getB().getType());
  std::optional<SmallVector<double>> b = getConstantFloats(gemm.getB());
  int64_t rows = bType.getDimSize(0), cols = bType.getDimSize(1);
  SmallVector<double> kn = *b;
  RankedTensorType knType = bType;
  if (gemm.getTransB()) {
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c)
        kn[c * rows + r] = (*b)[r * cols + c];
    knType = RankedTensorType::get({cols, rows}, bType.getElementType());
  }
  OpBuilder builder(gemm);
  Value rhs = createFloatConstant(builder, gemm.getLoc(), knType, kn,
                                  constantName(gemm.getB()) + "_kn");
  MatMulOp::Properties props;
  props.activation = gemm.getActivationAttr();
  props.activation_params = gemm.getActivationParamsAttr();
  props.operandSegmentSizes = {1, 1, gemm.getC() ? 1 : 0,
                               gemm.getResidual() ? 1 : 0};
  SmallVector<Value> operands = {gemm.getA(), rhs};
  if (gemm.getC())
    operands.push_back(gemm.getC());
  if (gemm.getResidual())
    operands.push_back(gemm.getResidual());
  auto matmul = MatMulOp::create(builder, gemm.getLoc(), gemm->getResultTypes(),
                                 operands, props);
  gemm.getResult().replaceAllUsesWith(matmul.getResult());
  gemm->erase();
  return matmul;
}

struct KilnPruneMagnitudePass
    : public kiln::impl::KilnPruneMagnitudeBase<KilnPruneMagnitudePass> {
  using Base::Base;
  void runOnOperation() override {
    if (heads > 0.0)
      getOperation().walk([&](AttentionOp op) { zeroHeads(op); });
    // Gemms that are matmuls become matmuls, whose neurons can go (and
    // which can lose the inputs of a pruned conv's channels).
    if (ffn > 0.0 || channels > 0.0) {
      SmallVector<GemmOp> gemms;
      getOperation().walk([&](GemmOp op) { gemms.push_back(op); });
      for (GemmOp gemm : gemms)
        gemmAsMatMul(gemm);
    }
    SmallVector<Operation *> products;
    getOperation().walk([&](Operation *op) {
      if (isa<ConvOp, MatMulOp>(op))
        products.push_back(op);
    });
    for (Operation *op : products) {
      Operation *consumer = shrinkableConsumer(op);
      if (!consumer)
        continue;
      double ratio = isa<ConvOp>(op)           ? channels.getValue()
                     : isa<MatMulOp>(consumer) ? ffn.getValue()
                                               : 0.0;
      if (ratio <= 0.0)
        continue;
      Producer p = *matchProducer(op);
      int64_t count = std::min<int64_t>(
          static_cast<int64_t>(std::floor(ratio * p.channels)), p.channels - 1);
      if (count <= 0)
        continue;
      // L1 norm of each output channel's weights.
      SmallVector<double> norms(p.channels, 0.0);
      int64_t total = static_cast<int64_t>(p.weight.size());
      int64_t per = total / p.channels;
      for (int64_t i = 0; i < total; ++i)
        norms[isa<ConvOp>(op) ? i / per : i % p.channels] +=
            std::fabs(p.weight[i]);
      SmallVector<int64_t> order(p.channels);
      for (int64_t c = 0; c < p.channels; ++c)
        order[c] = c;
      llvm::sort(order, [&](int64_t a, int64_t b) {
        return norms[a] != norms[b] ? norms[a] < norms[b] : a < b;
      });
      llvm::SmallDenseSet<int64_t> gone(order.begin(), order.begin() + count);
      for (int64_t i = 0; i < total; ++i)
        if (gone.contains(isa<ConvOp>(op) ? i / per : i % p.channels))
          p.weight[i] = 0.0;
      for (int64_t c : gone)
        p.bias[c] = 0.0;
      OpBuilder b(op);
      Value weight = op->getOperand(1);
      op->setOperand(1, createFloatConstant(
                            b, op->getLoc(),
                            cast<RankedTensorType>(weight.getType()), p.weight,
                            constantName(weight) + "_magnitude"));
      SmallVector<Value, 4> operands = contractionOperands(op);
      if (Value bias = operands[2])
        op->setOperand(
            2, createFloatConstant(b, op->getLoc(),
                                   cast<RankedTensorType>(bias.getType()),
                                   p.bias, constantName(bias) + "_magnitude"));
      numZeroed += count;
    }
  }

  /// Zeroes the output projection rows of the heads of least magnitude.
  void zeroHeads(AttentionOp attention) {
    std::optional<AttentionHeads> match = matchAttentionHeads(attention);
    if (!match)
      return;
    int64_t h = match->heads, depth = match->depth, embed = match->embed;
    int64_t count = heads >= 1.0 ? static_cast<int64_t>(heads)
                                 : static_cast<int64_t>(std::floor(heads * h));
    count = std::min(count, h - 1);
    if (count <= 0)
      return;
    HeadProjection &v = match->v;
    int64_t vDepth = cast<RankedTensorType>(v.reshape.getType()).getDimSize(3);
    int64_t vCols = h * vDepth;
    SmallVector<double> magnitude(h);
    for (int64_t head = 0; head < h; ++head) {
      double value = 0.0, out = 0.0;
      for (int64_t i = 0; i < static_cast<int64_t>(v.weight.size()); ++i)
        if (i % vCols / vDepth == head)
          value += v.weight[i] * v.weight[i];
      for (int64_t c = head * vDepth;
           c < (head + 1) * vDepth && !v.bias.empty(); ++c)
        value += v.bias[c] * v.bias[c];
      for (int64_t r = head * depth; r < (head + 1) * depth; ++r)
        for (int64_t c = 0; c < embed; ++c)
          out += match->wo[r * embed + c] * match->wo[r * embed + c];
      magnitude[head] = std::sqrt(value) * std::sqrt(out);
    }
    SmallVector<int64_t> order(h);
    for (int64_t head = 0; head < h; ++head)
      order[head] = head;
    llvm::sort(order, [&](int64_t a, int64_t b) {
      return magnitude[a] != magnitude[b] ? magnitude[a] < magnitude[b] : a < b;
    });
    SmallVector<double> wo = match->wo;
    for (int64_t i = 0; i < count; ++i)
      for (int64_t r = order[i] * depth; r < (order[i] + 1) * depth; ++r)
        for (int64_t c = 0; c < embed; ++c)
          wo[r * embed + c] = 0.0;
    MatMulOp out = match->out;
    OpBuilder b(out);
    Value weight = out.getRhs();
    out->setOperand(
        1, createFloatConstant(b, out.getLoc(),
                               cast<RankedTensorType>(weight.getType()), wo,
                               constantName(weight) + "_heads_magnitude"));
    numZeroed += count;
  }
};

} // namespace
