//===- LowerUKernels.cpp - marked contractions to microkernel calls -------===//
//
// After bufferization, each linalg op that kiln-cpu-select-kernels marked
// becomes a call of the runtime's microkernel (runtime/cpu/gemm.c), which
// takes every operand as base buffer + element offset + strides.
//
//===----------------------------------------------------------------------===//

#include "Contraction.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"
#include "kiln/Target/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <limits>

namespace kiln {
#define GEN_PASS_DEF_KILNCPULOWERUKERNELS
#include "kiln/Target/CPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::cpu;

namespace {

/// A buffer taken apart: base, element offset, sizes and strides.
struct Buffer {
  Value base, offset;
  SmallVector<Value> sizes, strides;

  static Buffer of(ImplicitLocOpBuilder &b, Value memref) {
    auto metadata = memref::ExtractStridedMetadataOp::create(b, memref);
    return {metadata.getBaseBuffer(), metadata.getOffset(),
            SmallVector<Value>(metadata.getSizes()),
            SmallVector<Value>(metadata.getStrides())};
  }
};

/// Builds one microkernel call: collects the arguments, declares the callee.
class CallBuilder {
public:
  /// Constants go at the start of `block`, where they dominate the loops
  /// built around the call.
  CallBuilder(ImplicitLocOpBuilder &b, Block *block)
      : b(b), constants(b.getLoc(), b.getContext()), block(block) {}

  void add(Value v) { args.push_back(v); }
  void add(int64_t v) { args.push_back(index(v)); }
  void addF32(float v) {
    constants.setInsertionPointToStart(block);
    args.push_back(arith::ConstantOp::create(constants, constants.getF32Type(),
                                             constants.getF32FloatAttr(v)));
  }
  Value index(int64_t v) {
    Value &constant = indices[v];
    if (!constant) {
      constants.setInsertionPointToStart(block);
      constant = arith::ConstantIndexOp::create(constants, v);
    }
    return constant;
  }

  /// Emits `func.call @name(args)`, declaring `name` in `module` once.
  void emit(ModuleOp module, StringRef name) {
    auto type = b.getFunctionType(ValueRange(args).getTypes(), {});
    if (!module.lookupSymbol<func::FuncOp>(name)) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(module.getBody());
      auto callee = func::FuncOp::create(b, name, type);
      callee.setPrivate();
    }
    func::CallOp::create(b, name, TypeRange{}, args);
  }

private:
  ImplicitLocOpBuilder &b;
  ImplicitLocOpBuilder constants;
  Block *block;
  llvm::SmallDenseMap<int64_t, Value> indices;
  SmallVector<Value> args;
};

} // namespace

/// The stride of loop `dim` in an operand read through `map`: the buffer's
/// stride for the result that is `dim`, 0 when no result is.
static Value loopStride(CallBuilder &call, AffineMap map, const Buffer &buffer,
                        unsigned dim) {
  for (auto [position, e] : llvm::enumerate(map.getResults()))
    if (auto d = dyn_cast<AffineDimExpr>(e); d && d.getPosition() == dim)
      return buffer.strides[position];
  return call.index(0);
}

/// The extent of loop `dim`: the size of an operand dim it indexes, looked
/// up in the output, then the inputs in order, so that a product's extents
/// come from its lhs and output and never need a (packed) rhs.
static Value loopExtent(linalg::LinalgOp op, ArrayRef<Buffer> buffers,
                        unsigned dim) {
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  SmallVector<unsigned> order = {static_cast<unsigned>(maps.size() - 1)};
  for (unsigned i = 0; i + 1 < maps.size(); ++i)
    order.push_back(i);
  for (unsigned i : order)
    for (auto [position, e] : llvm::enumerate(maps[i].getResults()))
      if (auto d = dyn_cast<AffineDimExpr>(e); d && d.getPosition() == dim)
        return buffers[i].sizes[position];
  llvm_unreachable("every loop of a matched contraction indexes an operand");
}

/// The buffer a view reads, through view-like ops.
static Value rootOf(Value value) {
  while (auto view = value.getDefiningOp<ViewLikeOpInterface>())
    value = view.getViewSource();
  return value;
}

namespace {
/// The ops around a product whose work its kernel's epilogue takes over,
/// found on buffers where kiln-cpu-select-kernels saw them on tensors. The
/// product writes the accumulator R, directly or through `view`, an
/// expand_shape of R (the grouped view of a convolution's output).
struct Epilogue {
  Value accumulator;
  memref::ExpandShapeOp view;
  /// The op that fills R with the sum of `addends` (each a buffer and its
  /// map over R's dims), or the zero fill of R.
  Operation *init = nullptr;
  SmallVector<std::pair<Value, AffineMap>> addends;
  /// The clamp that reads R and writes `result`, and its bounds.
  Operation *clamp = nullptr;
  Value result;
  float lo = -std::numeric_limits<float>::infinity();
  float hi = std::numeric_limits<float>::infinity();
};
} // namespace

/// Whether `user` of the accumulator (or of a view of it) is one of the ops
/// the fused epilogue replaces or frees it, through views.
static bool onlyEpilogueUses(Value value, ArrayRef<Operation *> allowed) {
  for (Operation *user : value.getUsers()) {
    if (llvm::is_contained(allowed, user) || isa<memref::DeallocOp>(user))
      continue;
    auto view = dyn_cast<ViewLikeOpInterface>(user);
    if (!view || view.getViewSource() != value ||
        !onlyEpilogueUses(view->getResult(0), allowed))
      return false;
  }
  return true;
}

/// The ops that use `value`'s memory: its users, through views.
static void collectAccesses(Value value, SmallVectorImpl<Operation *> &out) {
  for (Operation *user : value.getUsers()) {
    auto view = dyn_cast<ViewLikeOpInterface>(user);
    if (view && view.getViewSource() == value) {
      for (Value result : user->getResults())
        collectAccesses(result, out);
      continue;
    }
    out.push_back(user);
  }
}

/// Whether `op` overwrites every element of `buffer` without reading any:
/// a linalg op whose only init is `buffer` (or a reshape of all of it) and
/// whose body never reads that output, or an attention writing `buffer`
/// (bufferization hands one buffer to each layer's attention in turn).
static bool overwrites(Operation *op, Value buffer) {
  if (auto attention = dyn_cast<FlashAttentionOp>(op))
    return attention.getInit() == buffer &&
           llvm::none_of(attention.getDpsInputs(),
                         [&](Value input) { return rootOf(input) == buffer; });
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || !linalgOp.hasPureBufferSemantics() ||
      linalgOp.getNumDpsInits() != 1)
    return false;
  OpOperand *init = linalgOp.getDpsInitOperand(0);
  Value written = init->get();
  while (auto reshape = written.getDefiningOp()) {
    if (!isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(reshape))
      break;
    written = reshape->getOperand(0);
  }
  if (written != buffer || linalgOp.payloadUsesValueFromOperand(init) ||
      !linalgOp.getMatchingIndexingMap(init).isPermutation())
    return false;
  for (OpOperand *input : linalgOp.getDpsInputOperands())
    if (rootOf(input->get()) == buffer)
      return false;
  return true;
}

/// Whether the accumulator R of a fused epilogue (init, product, clamp) holds
/// nothing anyone else reads: its other accesses all come before `init`, or
/// after `clamp` once an op has overwritten it (bufferization hands one
/// buffer to several products in turn; the fused kernel never writes R), or
/// after `clamp` at all when the clamp writes R in place.
static bool onlyEpilogueUsesBetween(Value accumulator, Operation *init,
                                    Operation *op, Operation *clamp,
                                    bool clampInPlace) {
  SmallVector<Operation *> accesses;
  collectAccesses(accumulator, accesses);
  Block *block = op->getBlock();
  if (init->getBlock() != block || clamp->getBlock() != block)
    return false;
  Operation *firstAfter = nullptr;
  for (Operation *user : accesses) {
    if (user == init || user == op || user == clamp ||
        isa<memref::DeallocOp>(user))
      continue;
    Operation *ancestor = block->findAncestorOpInBlock(*user);
    if (!ancestor)
      return false;
    if (ancestor->isBeforeInBlock(init))
      continue;
    if (!clamp->isBeforeInBlock(ancestor))
      return false;
    // A clamp in place leaves its result in R for the ops after it.
    if (clampInPlace)
      continue;
    if (!firstAfter || ancestor->isBeforeInBlock(firstAfter))
      firstAfter = ancestor;
  }
  return !firstAfter || overwrites(firstAfter, accumulator);
}

/// Finds what `decision` says the epilogue of `op` takes over ("addends",
/// "clamp"). Returns an epilogue without init when the ops are not where
/// the decision expected them on buffers; the product then runs unfused.
static Epilogue matchEpilogue(linalg::LinalgOp op, DictionaryAttr decision,
                              Value extraInput = Value()) {
  Epilogue epilogue;
  auto fused = decision.getAs<ArrayAttr>("epilogue");
  if (!fused)
    return epilogue;
  auto wants = [&](StringRef what) {
    return llvm::any_of(fused, [&](Attribute a) {
      return cast<StringAttr>(a).getValue() == what;
    });
  };
  Value output = op.getDpsInitOperand(0)->get();
  epilogue.view = output.getDefiningOp<memref::ExpandShapeOp>();
  Value accumulator = epilogue.view ? epilogue.view.getSrc() : output;
  // The op that initializes R: the last one with memory effects before.
  Operation *prev = op->getPrevNode();
  while (prev && isMemoryEffectFree(prev))
    prev = prev->getPrevNode();
  auto init = dyn_cast_or_null<linalg::LinalgOp>(prev);
  if (!init || !init.hasPureBufferSemantics() || init.getNumDpsInits() != 1 ||
      init.getDpsInitOperand(0)->get() != accumulator)
    return epilogue;
  if (wants("addends")) {
    if (!isAddendSum(init))
      return epilogue;
    for (OpOperand *input : init.getDpsInputOperands())
      epilogue.addends.push_back(
          {input->get(), init.getMatchingIndexingMap(input)});
  } else if (!isZeroFill(init)) {
    return epilogue;
  }
  SmallVector<Value> protectedRoots = {rootOf(accumulator)};
  for (OpOperand *input : op.getDpsInputOperands())
    protectedRoots.push_back(rootOf(input->get()));
  if (extraInput)
    protectedRoots.push_back(rootOf(extraInput));
  for (auto &addend : epilogue.addends)
    protectedRoots.push_back(rootOf(addend.first));
  // An addend that shares the output's buffer would be overwritten while
  // the kernel still reads it.
  for (auto &addend : epilogue.addends)
    if (rootOf(addend.first) == protectedRoots.front())
      return epilogue;
  epilogue.init = init;
  epilogue.accumulator = accumulator;
  if (!wants("clamp") || !accumulator.getDefiningOp<memref::AllocOp>())
    return epilogue;
  // The clamp: the first op after the product that reads R. Ops between may
  // allocate, or touch buffers other than R and the product's inputs (the
  // zero fill of a padded buffer the clamp writes into): the kernel then
  // runs where the clamp was.
  Operation *next = op->getNextNode();
  for (; next; next = next->getNextNode()) {
    if (isMemoryEffectFree(next) || isa<memref::AllocOp>(next))
      continue;
    auto linalgOp = dyn_cast<linalg::LinalgOp>(next);
    if (linalgOp && linalgOp.hasPureBufferSemantics() &&
        linalgOp.getNumDpsInputs() == 1 &&
        rootOf(linalgOp.getDpsInputOperand(0)->get()) == protectedRoots.front())
      break;
    if (!isa<linalg::LinalgOp, memref::CopyOp>(next))
      return epilogue;
    for (Value operand : next->getOperands())
      if (isa<MemRefType>(operand.getType()) &&
          llvm::is_contained(protectedRoots, rootOf(operand)))
        return epilogue;
  }
  auto clamp = dyn_cast_or_null<linalg::LinalgOp>(next);
  if (!clamp)
    return epilogue;
  Value input = clamp.getDpsInputOperand(0)->get();
  std::optional<std::pair<float, float>> bounds = matchClamp(clamp);
  Value result = clamp.getDpsInitOperand(0)->get();
  // The clamp reads R itself or reshapes of it that give back its shape;
  // it may write R in place the same way (kiln-cpu-select-kernels makes it
  // do so), and then the kernel stores the clamped values into R.
  auto reshapesOfAccumulator = [&](Value v) {
    while (v != accumulator) {
      auto reshape = v.getDefiningOp();
      if (!isa_and_nonnull<memref::ExpandShapeOp, memref::CollapseShapeOp>(
              reshape))
        return false;
      v = reshape->getOperand(0);
    }
    return true;
  };
  bool inPlace = rootOf(result) == protectedRoots.front() &&
                 result.getType() == accumulator.getType() &&
                 reshapesOfAccumulator(result);
  if (!bounds || input.getType() != accumulator.getType() ||
      !reshapesOfAccumulator(input) ||
      (!inPlace && llvm::is_contained(protectedRoots, rootOf(result))) ||
      (inPlace && llvm::is_contained(ArrayRef(protectedRoots).drop_front(),
                                     protectedRoots.front())) ||
      !onlyEpilogueUsesBetween(accumulator, init, op, clamp, inPlace))
    return epilogue;
  epilogue.clamp = clamp;
  epilogue.result = result;
  epilogue.lo = bounds->first;
  epilogue.hi = bounds->second;
  return epilogue;
}

/// `value`, an operand read through `map` over the accumulator's dims, as a
/// view with the dims of the product's output (the accumulator's, or its
/// expanded `view`'s): the element stride per output dim.
static Buffer alongOutput(ImplicitLocOpBuilder &b, CallBuilder &call,
                          Value value, AffineMap map,
                          memref::ExpandShapeOp view,
                          ArrayRef<Value> outputSizes) {
  Buffer buffer = Buffer::of(b, value);
  SmallVector<Value> strides(map.getNumDims(), call.index(0));
  for (auto [position, e] : llvm::enumerate(map.getResults()))
    if (auto dim = dyn_cast<AffineDimExpr>(e))
      strides[dim.getPosition()] = buffer.strides[position];
  Buffer result{buffer.base, buffer.offset, SmallVector<Value>(outputSizes),
                strides};
  if (!view)
    return result;
  // A dim expanded into a group: its stride times the sizes inside.
  result.strides.assign(outputSizes.size(), Value());
  for (auto [dim, group] : llvm::enumerate(view.getReassociationIndices())) {
    Value stride = strides[dim];
    for (int64_t i = group.size() - 1; i >= 0; --i) {
      result.strides[group[i]] = stride;
      if (i > 0)
        stride = arith::MulIOp::create(b, stride, outputSizes[group[i]]);
    }
  }
  return result;
}

/// The sizes of the product's output `output` (the accumulator or `view` of
/// it), taken where they do not keep the accumulator alive.
static SmallVector<Value> outputSizes(ImplicitLocOpBuilder &b,
                                      CallBuilder &call, const Epilogue &ep,
                                      Value output) {
  if (!ep.view)
    return Buffer::of(b, ep.clamp ? ep.result : output).sizes;
  SmallVector<Value> sizes;
  memref::ExpandShapeOp view = ep.view;
  for (OpFoldResult size : view.getMixedOutputShape())
    sizes.push_back(
        isa<Value>(size)
            ? cast<Value>(size)
            : call.index(cast<IntegerAttr>(cast<Attribute>(size)).getInt()));
  return sizes;
}

/// Erases a zero fill of `output` that comes before `op` with nothing
/// between that touches `output`'s buffer (ops on other buffers, such as
/// the copies that prepare the product's inputs, may be), so the product
/// can overwrite instead of accumulating. Returns whether it did.
static bool dropZeroFill(Operation *op, Value output) {
  Value root = rootOf(output);
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    if (auto fill = dyn_cast<linalg::FillOp>(prev)) {
      if (fill.getOutputs().front() == output && isZeroFill(fill)) {
        fill.erase();
        return true;
      }
    }
    if (isMemoryEffectFree(prev))
      continue;
    if (prev->getNumRegions() != 0 && !isa<linalg::LinalgOp>(prev))
      return false;
    for (Value operand : prev->getOperands()) {
      // A kernel call takes base buffers of the views it reads or writes.
      if (auto metadata =
              operand.getDefiningOp<memref::ExtractStridedMetadataOp>())
        operand = metadata.getSource();
      if (isa<MemRefType>(operand.getType()) && rootOf(operand) == root)
        return false;
    }
  }
  return false;
}

/// The f32 values of a constant global's initializer, or nothing.
static std::optional<ArrayRef<float>> constantData(memref::GlobalOp global,
                                                   SmallVector<float> &splat) {
  if (!global || !global.getConstant() || !global.getInitialValue())
    return std::nullopt;
  Attribute init = *global.getInitialValue();
  int64_t count = global.getType().getNumElements();
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(init)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != count * sizeof(float))
      return std::nullopt;
    return ArrayRef<float>(
        reinterpret_cast<const float *>(blob->getData().data()), count);
  }
  auto dense = dyn_cast<DenseFPElementsAttr>(init);
  if (!dense || !dense.getElementType().isF32())
    return std::nullopt;
  if (dense.isSplat()) {
    splat.assign(count, dense.getSplatValue<float>());
    return ArrayRef<float>(splat);
  }
  return ArrayRef<float>(
      reinterpret_cast<const float *>(dense.getRawData().data()), count);
}

namespace {
/// A constant operand: its global and data, read as the operand's static,
/// row-major shape.
struct ConstantOperand {
  memref::GlobalOp global;
  ArrayRef<float> data;
  SmallVector<int64_t> shape, strides;
  SmallVector<float> splat;
};
} // namespace

/// The global that `operand` (of static shape and identity layout) reads,
/// directly or through reshapes (which keep its row-major order), or null.
static memref::GlobalOp constantGlobalOf(ModuleOp module, Value operand) {
  auto type = dyn_cast<MemRefType>(operand.getType());
  Value source = operand;
  while (Operation *reshape = source.getDefiningOp()) {
    if (!isa<memref::ExpandShapeOp, memref::CollapseShapeOp>(reshape))
      break;
    source = reshape->getOperand(0);
  }
  auto getGlobal = source.getDefiningOp<memref::GetGlobalOp>();
  if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity() ||
      !getGlobal)
    return nullptr;
  return module.lookupSymbol<memref::GlobalOp>(getGlobal.getNameAttr());
}

/// The constant global behind `operand` with its f32 data, or nothing.
static std::optional<ConstantOperand> resolveConstant(ModuleOp module,
                                                      Value operand) {
  auto type = dyn_cast<MemRefType>(operand.getType());
  ConstantOperand constant;
  constant.global = constantGlobalOf(module, operand);
  if (!constant.global)
    return std::nullopt;
  std::optional<ArrayRef<float>> data =
      constantData(constant.global, constant.splat);
  if (!data || !constant.global.getType().getLayout().isIdentity() ||
      type.getNumElements() != static_cast<int64_t>(data->size()))
    return std::nullopt;
  constant.data = *data;
  constant.shape.assign(type.getShape().begin(), type.getShape().end());
  constant.strides.assign(type.getRank(), 1);
  for (int64_t d = type.getRank() - 2; d >= 0; --d)
    constant.strides[d] = constant.strides[d + 1] * constant.shape[d + 1];
  return constant;
}

/// Puts `global` (created outside any block) at the start of `module`,
/// renamed when another product packed the same constant first (the name
/// says which constant it comes from, not how it is packed).
static void insertUniquely(ModuleOp module, memref::GlobalOp global) {
  SymbolTable(module).insert(global, module.getBody()->begin());
}

/// A new private constant global `<original>_packed` of f32 `shape`, 64-byte
/// aligned, whose elements `fill` writes.
static memref::GlobalOp
createPackedGlobal(ModuleOp module, memref::GlobalOp original,
                   ArrayRef<int64_t> shape,
                   function_ref<void(MutableArrayRef<float>)> fill) {
  auto type = MemRefType::get(shape, Float32Type::get(module.getContext()));
  int64_t count = type.getNumElements();
  AsmResourceBlob blob =
      HeapAsmResourceBlob::allocate(count * sizeof(float), alignof(float),
                                    /*dataIsMutable=*/true);
  fill(MutableArrayRef<float>(
      reinterpret_cast<float *>(blob.getMutableData().data()), count));
  std::string name = (original.getSymName() + "_packed").str();
  auto value = DenseResourceElementsAttr::get(
      RankedTensorType::get(shape, type.getElementType()), name,
      std::move(blob));
  OpBuilder b(module.getContext());
  auto packed = memref::GlobalOp::create(
      b, original.getLoc(), name, b.getStringAttr("private"), type, value,
      /*constant=*/true, b.getI64IntegerAttr(64));
  insertUniquely(module, packed);
  return packed;
}

/// A product's constant rhs as a K x N matrix: element (kk, j) is
/// data[kk * kStride + j * nStride].
struct ConstantMatrix {
  ConstantOperand constant;
  int64_t k = 1, n = 1, kStride = 0, nStride = 0;
  float at(int64_t kk, int64_t j) const {
    return constant.data[kk * kStride + j * nStride];
  }
};

/// The constant rhs of `op`, when it is a constant global read through the
/// k and n loops only.
static std::optional<ConstantMatrix> constantRhsMatrix(ModuleOp module,
                                                       linalg::LinalgOp op,
                                                       const GemmLoops &loops) {
  std::optional<ConstantOperand> rhs =
      resolveConstant(module, op.getDpsInputOperand(1)->get());
  if (!rhs)
    return std::nullopt;
  ConstantMatrix matrix;
  // Element (k, n) of the rhs: its map's results are k, n or 0.
  for (auto [position, e] :
       llvm::enumerate(op.getIndexingMapsArray()[1].getResults())) {
    auto dim = dyn_cast<AffineDimExpr>(e);
    if (!dim)
      continue;
    if (dim.getPosition() == loops.k) {
      matrix.kStride = rhs->strides[position];
      matrix.k = rhs->shape[position];
    } else if (dim.getPosition() == loops.n) {
      matrix.nStride = rhs->strides[position];
      matrix.n = rhs->shape[position];
    } else {
      return std::nullopt;
    }
  }
  matrix.constant = std::move(*rhs);
  return matrix;
}

/// Packs the constant rhs of `op` into `width`-column panels ([n / width][k]
/// [width], zero-padded: the layout the microkernel reads) as a new global.
/// Returns nothing when the rhs is not a constant global read through the k
/// and n loops only.
static memref::GlobalOp packConstantRhs(ModuleOp module, linalg::LinalgOp op,
                                        const GemmLoops &loops, int64_t width) {
  std::optional<ConstantMatrix> rhs = constantRhsMatrix(module, op, loops);
  if (!rhs)
    return nullptr;
  int64_t k = rhs->k, n = rhs->n;
  int64_t panels = llvm::divideCeil(n, width);
  return createPackedGlobal(module, rhs->constant.global, {panels, k, width},
                            [&](MutableArrayRef<float> packed) {
                              for (int64_t panel = 0; panel < panels; ++panel)
                                for (int64_t kk = 0; kk < k; ++kk)
                                  for (int64_t j = 0; j < width; ++j) {
                                    int64_t column = panel * width + j;
                                    packed[(panel * k + kk) * width + j] =
                                        column < n ? rhs->at(kk, column) : 0.0f;
                                  }
                            });
}

/// The constant rhs of `op` packed for the block-sparse kernel
/// (KILN_SGEMM_SPARSE_ARGS): an int32 global with the panel offsets and each
/// kept block's k, and an f32 global with the blocks' values. Blocks are
/// one k row of a 16-column panel; the all-zero ones are left out.
static std::optional<std::pair<memref::GlobalOp, memref::GlobalOp>>
packSparseRhs(ModuleOp module, linalg::LinalgOp op, const GemmLoops &loops) {
  std::optional<ConstantMatrix> rhs = constantRhsMatrix(module, op, loops);
  if (!rhs)
    return std::nullopt;
  const int64_t width = kSparseBlockWidth;
  int64_t panels = llvm::divideCeil(rhs->n, width);
  SmallVector<int32_t> offsets = {0}, rows;
  for (int64_t panel = 0; panel < panels; ++panel) {
    for (int64_t kk = 0; kk < rhs->k; ++kk)
      for (int64_t j = panel * width; j < std::min(rhs->n, (panel + 1) * width);
           ++j)
        if (rhs->at(kk, j) != 0.0f) {
          rows.push_back(static_cast<int32_t>(kk));
          break;
        }
    offsets.push_back(static_cast<int32_t>(rows.size()));
  }
  SmallVector<int32_t> index(offsets);
  index.append(rows.begin(), rows.end());
  // The values, one row of 16 per block (a global has at least one).
  int64_t blocks = std::max<int64_t>(1, rows.size());
  memref::GlobalOp values =
      createPackedGlobal(module, rhs->constant.global, {blocks, width},
                         [&](MutableArrayRef<float> packed) {
                           llvm::fill(packed, 0.0f);
                           for (int64_t panel = 0; panel < panels; ++panel)
                             for (int32_t block = offsets[panel];
                                  block < offsets[panel + 1]; ++block)
                               for (int64_t j = 0; j < width; ++j) {
                                 int64_t column = panel * width + j;
                                 if (column < rhs->n)
                                   packed[block * width + j] =
                                       rhs->at(rows[block], column);
                               }
                         });
  auto type = MemRefType::get({static_cast<int64_t>(index.size())},
                              IntegerType::get(module.getContext(), 32));
  auto value = DenseResourceElementsAttr::get(
      RankedTensorType::get(type.getShape(), type.getElementType()),
      (rhs->constant.global.getSymName() + "_sparse_index").str(),
      HeapAsmResourceBlob::allocateAndCopyWithAlign(
          ArrayRef<char>(reinterpret_cast<const char *>(index.data()),
                         index.size() * sizeof(int32_t)),
          alignof(int32_t)));
  OpBuilder b(module.getContext());
  auto indexGlobal = memref::GlobalOp::create(
      b, op.getLoc(),
      (rhs->constant.global.getSymName() + "_sparse_index").str(),
      b.getStringAttr("private"), type, value,
      /*constant=*/true, b.getI64IntegerAttr(64));
  insertUniquely(module, indexGlobal);
  return std::make_pair(indexGlobal, values);
}

/// The bytes of an 8-bit constant global's initializer (`splat` holds a
/// splat's), or nothing.
static std::optional<ArrayRef<int8_t>>
constantBytes(memref::GlobalOp global, SmallVector<int8_t> &splat) {
  if (!global || !global.getConstant() || !global.getInitialValue() ||
      !global.getType().getElementType().isInteger(8))
    return std::nullopt;
  Attribute init = *global.getInitialValue();
  int64_t count = global.getType().getNumElements();
  ArrayRef<char> raw;
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(init)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    raw = blob->getData();
  } else if (auto dense = dyn_cast<DenseIntElementsAttr>(init)) {
    if (dense.isSplat()) {
      splat.assign(count, static_cast<int8_t>(
                              dense.getSplatValue<APInt>().getZExtValue()));
      return ArrayRef<int8_t>(splat);
    }
    raw = dense.getRawData();
  } else {
    return std::nullopt;
  }
  if (static_cast<int64_t>(raw.size()) != count)
    return std::nullopt;
  return ArrayRef<int8_t>(reinterpret_cast<const int8_t *>(raw.data()), count);
}

/// A new private constant global `name` of 8-bit elements holding `bytes`
/// (their blob aligned to `alignment`), 64-byte aligned.
static memref::GlobalOp createByteGlobal(ModuleOp module, Location loc,
                                         StringRef name, ArrayRef<char> bytes,
                                         size_t alignment = 1) {
  int64_t count = static_cast<int64_t>(bytes.size());
  auto type =
      MemRefType::get({count}, IntegerType::get(module.getContext(), 8));
  auto value = DenseResourceElementsAttr::get(
      RankedTensorType::get({count}, type.getElementType()), name,
      HeapAsmResourceBlob::allocateAndCopyWithAlign(bytes, alignment));
  OpBuilder b(module.getContext());
  auto global = memref::GlobalOp::create(
      b, loc, name, b.getStringAttr("private"), type, value,
      /*constant=*/true, b.getI64IntegerAttr(64));
  insertUniquely(module, global);
  return global;
}

/// Packs a constant 8-bit operand of an integer product, read through the
/// `outer` loop (n for the rhs, m for the lhs) and k, as the runtime reads a
/// compiler-packed operand: ceil(outer / width) panels of ceil(k / depth)
/// units by `width` (bytes, or int16 pairs when depth is 2), then, as int32
/// for every K block of `block` and every row or column of the padded
/// width, the sum of the stored values over that block. Bytes are stored
/// signed for the rhs and unsigned for the lhs (flipping the top bit where
/// the operand's signedness differs); pairs hold the true values. Returns
/// nothing when the operand is not a constant global read through those
/// loops only.
static memref::GlobalOp
packIntConstant(ModuleOp module, linalg::LinalgOp op, unsigned operandNumber,
                unsigned outer, unsigned kLoop, bool isUnsigned, int64_t width,
                int64_t depth, int64_t block, bool lhsStoredSigned = false) {
  Value operand = op.getDpsInputOperand(operandNumber)->get();
  auto type = cast<MemRefType>(operand.getType());
  memref::GlobalOp global = constantGlobalOf(module, operand);
  SmallVector<int8_t> splat;
  std::optional<ArrayRef<int8_t>> data = constantBytes(global, splat);
  if (!data || !global.getType().getLayout().isIdentity() ||
      type.getNumElements() != static_cast<int64_t>(data->size()))
    return nullptr;
  // Element (outer, k): the map's results are those loops or 0 (row-major
  // strides).
  SmallVector<int64_t> strides(type.getRank(), 1);
  for (int64_t d = type.getRank() - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * type.getDimSize(d + 1);
  int64_t kStride = 0, outerStride = 0, k = 1, extent = 1;
  for (auto [position, e] :
       llvm::enumerate(op.getIndexingMapsArray()[operandNumber].getResults())) {
    auto dim = dyn_cast<AffineDimExpr>(e);
    if (!dim)
      continue;
    if (dim.getPosition() == kLoop) {
      kStride = strides[position];
      k = type.getDimSize(position);
    } else if (dim.getPosition() == outer) {
      outerStride = strides[position];
      extent = type.getDimSize(position);
    } else {
      return nullptr;
    }
  }
  bool lhs = operandNumber == 0;
  // Bytes stored unsigned (lhs) flip a signed operand; stored signed (rhs,
  // or a narrow lhs) an unsigned one.
  bool storedUnsigned = lhs && !lhsStoredSigned;
  bool flip = storedUnsigned ? !isUnsigned : isUnsigned;
  int64_t panels = llvm::divideCeil(extent, width);
  int64_t groups = llvm::divideCeil(k, depth);
  int64_t blocks = llvm::divideCeil(k, block), padded = panels * width;
  SmallVector<int32_t> units(panels * groups * width + blocks * padded, 0);
  for (int64_t q = 0; q < k; ++q)
    for (int64_t j = 0; j < extent; ++j) {
      int8_t byte = (*data)[q * kStride + j * outerStride];
      int32_t &unit =
          units[(j / width * groups + q / depth) * width + j % width];
      int32_t stored;
      if (depth == 4) {
        auto bits = static_cast<uint8_t>(static_cast<uint8_t>(byte) ^
                                         (flip ? 0x80 : 0));
        reinterpret_cast<uint8_t *>(&unit)[q % 4] = bits;
        stored = storedUnsigned
                     ? static_cast<int32_t>(bits)
                     : static_cast<int32_t>(static_cast<int8_t>(bits));
      } else {
        stored = isUnsigned ? static_cast<int32_t>(static_cast<uint8_t>(byte))
                            : static_cast<int32_t>(byte);
        reinterpret_cast<int16_t *>(&unit)[q % 2] =
            static_cast<int16_t>(stored);
      }
      units[panels * groups * width + q / block * padded + j] += stored;
    }
  std::string name =
      (global.getSymName() + (lhs ? "_lhs_packed" : "_packed")).str();
  return createByteGlobal(
      module, global.getLoc(), name,
      ArrayRef<char>(reinterpret_cast<const char *>(units.data()),
                     units.size() * sizeof(int32_t)),
      alignof(int32_t));
}

/// Packs a constant 8-bit operand of an integer product as the runtime
/// reads it for `target` (see kiln_ukernels.h): the rhs
/// (kiln_ukernel_igemm_packed_*) or, with `lhs`, the lhs (a convolution's
/// weights, KILN_IGEMM_A_PACKING_ARGS). `packing` says how: 7-bit stored
/// values (an rhs), or 7-bit signed values times an unsigned rhs (an lhs),
/// get the narrow packing where the kernel has one.
static memref::GlobalOp
packConstantIntOperand(ModuleOp module, linalg::LinalgOp op, const IGemm &gemm,
                       ISA target, bool lhs, IntegerPacking &packing) {
  memref::GlobalOp global =
      constantGlobalOf(module, op.getDpsInputOperand(lhs ? 0 : 1)->get());
  SmallVector<int8_t> splat;
  std::optional<ArrayRef<int8_t>> data = constantBytes(global, splat);
  if (!data)
    return nullptr;
  // The values as stored (a B as signed bytes, flipped when unsigned; a
  // narrow A signed, as it is) all in [-64, 64].
  uint8_t flip = !lhs && gemm.rhsUnsigned ? 0x80 : 0;
  bool narrow = (!lhs || (!gemm.lhsUnsigned && gemm.rhsUnsigned)) &&
                llvm::all_of(*data, [&](int8_t byte) {
                  int32_t v =
                      static_cast<int8_t>(static_cast<uint8_t>(byte) ^ flip);
                  return v >= -64 && v <= 64;
                });
  packing =
      lhs ? integerLhsPacking(target, narrow) : integerPacking(target, narrow);
  return packIntConstant(
      module, op, lhs ? 0 : 1, lhs ? gemm.loops.m : gemm.loops.n, gemm.loops.k,
      lhs ? gemm.lhsUnsigned : gemm.rhsUnsigned, packing.width, packing.depth(),
      packing.block, lhs && packing.format == 6);
}

/// Packs a convolution's constant weights ([g][m][c][kh][kw]) into panels of
/// `height` output channels per group ([g][m / height][c*kh*kw][height],
/// zero-padded) as a new global, or returns nothing.
static memref::GlobalOp
packConstantWeights(ModuleOp module, linalg::LinalgOp op, int64_t height) {
  std::optional<ConstantOperand> weights =
      resolveConstant(module, op.getDpsInputOperand(1)->get());
  if (!weights || weights->shape.size() != 5)
    return nullptr;
  int64_t groups = weights->shape[0], m = weights->shape[1];
  int64_t depth = weights->shape[2] * weights->shape[3] * weights->shape[4];
  int64_t panels = llvm::divideCeil(m, height);
  return createPackedGlobal(
      module, weights->global, {groups, panels, depth, height},
      [&](MutableArrayRef<float> packed) {
        // (c, kh, kw) are contiguous in the row-major weights.
        for (int64_t g = 0; g < groups; ++g)
          for (int64_t panel = 0; panel < panels; ++panel)
            for (int64_t q = 0; q < depth; ++q)
              for (int64_t i = 0; i < height; ++i) {
                int64_t row = panel * height + i;
                packed[((g * panels + panel) * depth + q) * height + i] =
                    row < m ? weights->data[g * weights->strides[0] +
                                            row * weights->strides[1] + q]
                            : 0.0f;
              }
      });
}

/// The buffer the call writes, with the product's output dims: the clamp's
/// output when the clamp is fused, else `output`; and the addends, indexed
/// like it, into `addends`.
static Buffer epilogueBuffers(ImplicitLocOpBuilder &b, CallBuilder &call,
                              const Epilogue &ep, Value output,
                              SmallVectorImpl<Buffer> &addends) {
  if (!ep.init)
    return Buffer::of(b, output);
  SmallVector<Value> sizes = outputSizes(b, call, ep, output);
  auto rank = cast<MemRefType>(ep.accumulator.getType()).getRank();
  Buffer written =
      ep.clamp ? alongOutput(b, call, ep.result, b.getMultiDimIdentityMap(rank),
                             ep.view, sizes)
               : Buffer::of(b, output);
  for (auto &[value, map] : ep.addends)
    addends.push_back(alongOutput(b, call, value, map, ep.view, sizes));
  return written;
}

/// Adds the epilogue's arguments after the output's: accumulate, the two
/// addend views (each base, offset and one stride per entry of `dims`; the
/// output's base and zero strides when absent), the addend mask and the
/// clamp.
static void addEpilogue(CallBuilder &call, const Epilogue &ep,
                        ArrayRef<Buffer> addends, const Buffer &output,
                        bool accumulate,
                        function_ref<Value(const Buffer &, unsigned)> stride,
                        unsigned dims) {
  call.add(accumulate ? 1 : 0);
  for (unsigned i = 0; i < 2; ++i) {
    const Buffer &buffer = i < addends.size() ? addends[i] : output;
    call.add(buffer.base);
    call.add(buffer.offset);
    for (unsigned d = 0; d < dims; ++d)
      call.add(i < addends.size() ? stride(buffer, d) : call.index(0));
  }
  call.add(static_cast<int64_t>((1 << addends.size()) - 1));
  call.addF32(ep.lo);
  call.addF32(ep.hi);
}

/// Erases the ops the epilogue took over.
static void eraseFused(const Epilogue &ep) {
  if (ep.clamp)
    ep.clamp->erase();
  if (ep.init)
    ep.init->erase();
}

/// The op that converts 8-bit product `op`'s i32 accumulator as `convert`
/// says ("dequantize", "requantize" or "sum"; found on buffers where
/// kiln-cpu-select-kernels saw it on tensors), when the kernel can store its
/// result instead: the first op after the product that reads the accumulator,
/// with only side-effect-free ops, allocations and ops or kernel calls
/// touching neither the product's operands nor the accumulator between;
/// nothing else reads the accumulator. Else null.
static linalg::LinalgOp findConversion(linalg::LinalgOp op, StringRef convert) {
  unsigned inputs = convert == "sum" ? 4 : convert == "requantize" ? 3 : 2;
  Value accumulator = op.getDpsInitOperand(0)->get();
  SmallVector<Value> protectedRoots = {rootOf(accumulator)};
  for (OpOperand *input : op.getDpsInputOperands())
    protectedRoots.push_back(rootOf(input->get()));
  linalg::LinalgOp consumer;
  for (Operation *next = op->getNextNode(); next; next = next->getNextNode()) {
    if (isMemoryEffectFree(next) || isa<memref::AllocOp>(next))
      continue;
    auto linalgOp = dyn_cast<linalg::LinalgOp>(next);
    if (linalgOp && linalgOp.hasPureBufferSemantics() &&
        linalgOp.getNumDpsInputs() == inputs &&
        linalgOp.getDpsInputOperand(0)->get() == accumulator) {
      consumer = linalgOp;
      break;
    }
    // Ops on other buffers, kernel calls placed already included (not
    // other calls: the deallocation helper takes its buffers as pointers).
    auto call = dyn_cast<func::CallOp>(next);
    bool kernelCall = call && call.getCallee().starts_with("kiln_ukernel_");
    if (!isa<linalg::LinalgOp, memref::CopyOp>(next) && !kernelCall)
      return nullptr;
    for (Value operand : next->getOperands())
      if (isa<MemRefType>(operand.getType()) &&
          llvm::is_contained(protectedRoots, rootOf(operand)))
        return nullptr;
  }
  bool matches =
      consumer &&
      (convert == "sum"          ? matchDequantizedSum(consumer).has_value()
       : convert == "requantize" ? matchRequantization(consumer).has_value()
                                 : matchDequantization(consumer).has_value());
  if (!matches ||
      llvm::is_contained(protectedRoots,
                         rootOf(consumer.getDpsInitOperand(0)->get())) ||
      !onlyEpilogueUses(protectedRoots.front(), {op, consumer}))
    return nullptr;
  return consumer;
}

/// The window copy (kiln.im2col) that wrote 8-bit product `op`'s rhs
/// buffer, found on buffers where kiln-cpu-select-kernels saw it on
/// tensors: the op before `op` in its block whose output is the rhs's root.
/// Null when there is none or another op in between touches that buffer.
static linalg::LinalgOp findWindowCopy(linalg::LinalgOp op) {
  Value root = rootOf(op.getDpsInputOperand(1)->get());
  for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
    auto linalgOp = dyn_cast<linalg::LinalgOp>(prev);
    if (linalgOp && linalgOp.hasPureBufferSemantics() &&
        linalgOp.getNumDpsInits() == 1 &&
        rootOf(linalgOp.getDpsInitOperand(0)->get()) == root)
      return matchWindowCopy(linalgOp) ? linalgOp : nullptr;
    if (isMemoryEffectFree(prev) || isa<memref::AllocOp>(prev))
      continue;
    for (Value operand : prev->getOperands())
      if (isa<MemRefType>(operand.getType()) && rootOf(operand) == root)
        return nullptr;
  }
  return nullptr;
}

/// Lowers a matrix product to the sgemm kernel (sgemm_packed with its
/// constant rhs packed now), or, with `integer`, to the igemm kernel, which
/// takes the zero points after the output and the signedness flags (with
/// `convert` "dequantize", the scaled entry point storing the dequantizing
/// op's f32 result where that op was; "requantize", the requantized one
/// storing the requantizing op's bytes).
static LogicalResult lowerGemm(ModuleOp module, linalg::LinalgOp op, ISA isa,
                               bool packRhs, const Epilogue &ep,
                               const IGemm *integer = nullptr,
                               StringRef convert = {}, bool windows = false,
                               bool packLhs = false, bool sparse = false) {
  std::optional<GemmLoops> loops =
      integer ? std::optional<GemmLoops>(integer->loops) : matchGemm(op);
  if (!loops)
    return op->emitOpError("is marked for the sgemm microkernel but is not a "
                           "matrix product");
  IntegerPacking intPacking = integerPacking(isa, false);
  // The block-sparse kernel's rhs: its index and values.
  std::optional<std::pair<memref::GlobalOp, memref::GlobalOp>> sparsePacked;
  if (sparse && !(sparsePacked = packSparseRhs(module, op, *loops)))
    return op->emitOpError("is marked for the sparse kernel but its rhs is "
                           "not a constant read through k and n");
  memref::GlobalOp packed =
      !packRhs || sparse ? nullptr
      : integer
          ? packConstantIntOperand(module, op, *integer, isa, false, intPacking)
          : packConstantRhs(module, op, *loops, registerTile(isa).second);
  // A constant lhs of an 8-bit product packed now (its entry points take
  // the packing after A's strides; the compiler-packed-rhs ones have none).
  IntegerPacking lhsPacking = integerLhsPacking(isa, false);
  memref::GlobalOp lhsPacked =
      integer && packLhs && !packed
          ? packConstantIntOperand(module, op, *integer, isa, true, lhsPacking)
          : nullptr;
  // With the clamp fused, the kernel runs where the clamp was.
  ImplicitLocOpBuilder b(op.getLoc(), ep.clamp ? ep.clamp : op.getOperation());
  Value output = op.getDpsInitOperand(0)->get();
  bool accumulate = ep.init ? false : !dropZeroFill(op, output);
  // The converting store needs a product that starts from zero.
  linalg::LinalgOp dequant = integer && !convert.empty() && !accumulate
                                 ? findConversion(op, convert)
                                 : nullptr;
  if (dequant)
    b.setInsertionPoint(dequant);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  CallBuilder call(b, op->getBlock());
  SmallVector<Buffer> buffers = {
      Buffer::of(b, op.getDpsInputOperand(0)->get()),
      Buffer::of(b, op.getDpsInputOperand(1)->get())};
  SmallVector<Buffer> addends;
  buffers.push_back(epilogueBuffers(b, call, ep, output, addends));
  if (dequant)
    buffers.back() = Buffer::of(b, dequant.getDpsInitOperand(0)->get());
  // The zero points of an integer product, after the output.
  SmallVector<int> zeroPoints;
  if (integer)
    for (int input : {integer->lhsZeroPoint, integer->rhsZeroPoint})
      if (input >= 0) {
        zeroPoints.push_back(input);
        addends.push_back(Buffer::of(b, op.getDpsInputOperand(input)->get()));
      }
  // The output and the addends are indexed through the output's map.
  auto mapOf = [&](unsigned i) {
    if (i >= 3 && i - 3 < zeroPoints.size())
      return maps[zeroPoints[i - 3]];
    return i < 2 ? maps[i] : maps.back();
  };
  // The buffers in the op's operand order, where loop extents are read.
  SmallVector<Buffer> operandBuffers = {buffers[0], buffers[1]};
  for (unsigned i = 0; i < zeroPoints.size(); ++i)
    operandBuffers.push_back(addends[i]);
  operandBuffers.push_back(buffers[2]);
  auto bufferOf = [&](unsigned i) -> Buffer & {
    return i < 3 ? buffers[i] : addends[i - 3];
  };
  unsigned operands = 3 + addends.size();

  // Batch loops past the two the kernel takes become scf.for loops that
  // move the operands' offsets.
  SmallVector<unsigned> batch(loops->batch);
  while (batch.size() > 2) {
    unsigned dim = batch.front();
    batch.erase(batch.begin());
    auto loop = scf::ForOp::create(
        b, call.index(0), loopExtent(op, operandBuffers, dim), call.index(1));
    b.setInsertionPointToStart(loop.getBody());
    for (unsigned i = 0; i < operands; ++i)
      bufferOf(i).offset = arith::AddIOp::create(
          b, bufferOf(i).offset,
          arith::MulIOp::create(b, loop.getInductionVar(),
                                loopStride(call, mapOf(i), bufferOf(i), dim)));
  }
  while (batch.size() < 2)
    batch.insert(batch.begin(), ~0u);
  auto extent = [&](unsigned dim) {
    // K from the packed lhs's (static) type: its buffer is not read.
    if (lhsPacked && dim == loops->k)
      for (auto [position, e] : llvm::enumerate(maps[0].getResults()))
        if (auto d = dyn_cast<AffineDimExpr>(e); d && d.getPosition() == dim)
          return call.index(
              cast<MemRefType>(op.getDpsInputOperand(0)->get().getType())
                  .getDimSize(position));
    return dim == ~0u ? call.index(1) : loopExtent(op, operandBuffers, dim);
  };
  for (unsigned dim : batch)
    call.add(extent(dim));
  for (unsigned dim : {loops->m, loops->n, loops->k})
    call.add(extent(dim));
  // A is read along (m, k), B along (k, n), C and the addends along (m, n).
  auto matrixDims = [&](unsigned i) -> std::pair<unsigned, unsigned> {
    if (i == 0)
      return {loops->m, loops->k};
    if (i == 1)
      return {loops->k, loops->n};
    return {loops->m, loops->n};
  };
  // The strides of operand i: the two batch dims, then its matrix dims.
  auto stride = [&](unsigned i, const Buffer &buffer, unsigned d) -> Value {
    unsigned dim = d < 2    ? batch[d]
                   : d == 2 ? matrixDims(i).first
                            : matrixDims(i).second;
    return dim == ~0u ? call.index(0) : loopStride(call, mapOf(i), buffer, dim);
  };
  // The buffer passed as A (what an absent zero point's view points at:
  // the unpacked lhs would otherwise stay alive for it).
  std::pair<Value, Value> aArgument = {buffers[0].base, buffers[0].offset};
  // A window-read rhs: the copy's source and the window's geometry.
  linalg::LinalgOp windowCopy =
      integer && windows && !packed && loops->batch.size() <= 2
          ? findWindowCopy(op)
          : nullptr;
  for (unsigned i = 0; i < 3; ++i) {
    if (i == 1 && windowCopy) {
      // B is [N][C*kh*kw][OH*OW]: a batch loop that indexes it reads the
      // source's images (dim 0); the copy's output is [N][C][kh][kw][OH][OW].
      Buffer source = Buffer::of(b, windowCopy.getDpsInputOperand(0)->get());
      // The window and output width from the copy's type (static but for
      // a dynamic width, read from its buffer, which then stays allocated).
      Value copiedValue = windowCopy.getDpsInitOperand(0)->get();
      auto copiedType = cast<MemRefType>(copiedValue.getType());
      std::optional<Buffer> copied;
      auto copiedSize = [&](unsigned d) -> Value {
        if (!copiedType.isDynamicDim(d))
          return call.index(copiedType.getDimSize(d));
        if (!copied)
          copied = Buffer::of(b, copiedValue);
        return copied->sizes[d];
      };
      std::optional<WindowCopy> window = matchWindowCopy(windowCopy);
      call.add(source.base);
      call.add(source.offset);
      for (unsigned d = 0; d < 2; ++d) {
        unsigned dim = batch[d];
        bool indexes = dim != ~0u && maps[1].getNumResults() == 3 &&
                       maps[1].getResult(0) == b.getAffineDimExpr(dim);
        call.add(indexes ? source.strides[0] : call.index(0));
      }
      for (unsigned d = 1; d < 4; ++d)
        call.add(source.strides[d]);
      call.add(copiedSize(2));
      call.add(copiedSize(3));
      for (int64_t v : {window->strides[0], window->strides[1],
                        window->dilations[0], window->dilations[1]})
        call.add(v);
      call.add(copiedSize(5));
      continue;
    }
    if (i == 1 && sparsePacked) {
      // The block-sparse rhs: its index, then its values.
      for (memref::GlobalOp global :
           {sparsePacked->first, sparsePacked->second}) {
        Buffer part =
            Buffer::of(b, memref::GetGlobalOp::create(b, global.getType(),
                                                      global.getSymName()));
        call.add(part.base);
        call.add(part.offset);
      }
      continue;
    }
    if (i == 1 && packed) {
      // The packed rhs: its buffer and packing (it has no batch dims).
      Buffer rhs = Buffer::of(b, memref::GetGlobalOp::create(
                                     b, packed.getType(), packed.getSymName()));
      call.add(rhs.base);
      call.add(rhs.offset);
      if (integer) {
        call.add(intPacking.width);
        call.add(intPacking.format);
        call.add(intPacking.block);
      } else {
        call.add(registerTile(isa).second);
      }
      continue;
    }
    if (i == 0 && lhsPacked) {
      // The packed lhs: its buffer, no batch dims or strides, its packing.
      Buffer lhs =
          Buffer::of(b, memref::GetGlobalOp::create(b, lhsPacked.getType(),
                                                    lhsPacked.getSymName()));
      aArgument = {lhs.base, lhs.offset};
      call.add(lhs.base);
      call.add(lhs.offset);
      for (unsigned d = 0; d < 4; ++d)
        call.add(call.index(0));
      call.add(lhsPacking.width);
      call.add(lhsPacking.format);
      call.add(lhsPacking.block);
      continue;
    }
    call.add(buffers[i].base);
    call.add(buffers[i].offset);
    for (unsigned d = 0; d < 4; ++d)
      call.add(stride(i, buffers[i], d));
    // An lhs given as a matrix (packing 0), for the entry points that take
    // an lhs packing.
    if (i == 0 && integer && !packed)
      for (int d = 0; d < 3; ++d)
        call.add(call.index(0));
  }
  if (integer) {
    // Each zero point: its view and its stride along m (n); A's base and
    // stride 0 when it is no input. Then the constant zero points.
    int present = 0;
    for (auto [input, dim] : {std::pair{integer->lhsZeroPoint, loops->m},
                              std::pair{integer->rhsZeroPoint, loops->n}}) {
      if (input < 0) {
        call.add(aArgument.first);
        call.add(aArgument.second);
        call.add(call.index(0));
        continue;
      }
      const Buffer &zeroPoint = addends[present];
      call.add(zeroPoint.base);
      call.add(zeroPoint.offset);
      call.add(loopStride(call, maps[input], zeroPoint, dim));
      ++present;
    }
    call.add(integer->lhsZeroValue.value_or(0));
    call.add(integer->rhsZeroValue.value_or(0));
    call.add(integer->lhsUnsigned ? 1 : 0);
    call.add(integer->rhsUnsigned ? 1 : 0);
    call.add((integer->lhsZeroPoint >= 0 ? 1 : 0) |
             (integer->rhsZeroPoint >= 0 ? 2 : 0));
    call.add(accumulate ? 1 : 0);
    std::string name = packed       ? "kiln_ukernel_igemm_packed_"
                       : windowCopy ? "kiln_ukernel_igemm_windows_"
                                    : "kiln_ukernel_igemm_";
    if (dequant) {
      // The scale: its view and strides along m and n (0: the same value
      // along that dim). The dequantization's last two loops are the
      // product's m and n (its output is the accumulator, read through the
      // identity).
      OpOperand *scaleOperand = dequant.getDpsInputOperand(1);
      Buffer scale = Buffer::of(b, scaleOperand->get());
      AffineMap scaleMap = dequant.getMatchingIndexingMap(scaleOperand);
      unsigned dequantLoops = dequant.getNumLoops();
      call.add(scale.base);
      call.add(scale.offset);
      for (unsigned dim : {dequantLoops - 2, dequantLoops - 1})
        call.add(dequantLoops >= 2 ? loopStride(call, scaleMap, scale, dim)
                                   : call.index(0));
      name += "scaled_";
      if (dequant.getNumDpsInputs() > 2) {
        // Then the offset likewise.
        OpOperand *offsetOperand = dequant.getDpsInputOperand(2);
        Buffer offset = Buffer::of(b, offsetOperand->get());
        AffineMap offsetMap = dequant.getMatchingIndexingMap(offsetOperand);
        call.add(offset.base);
        call.add(offset.offset);
        for (unsigned dim : {dequantLoops - 2, dequantLoops - 1})
          call.add(loopStride(call, offsetMap, offset, dim));
      }
      if (std::optional<DequantizedSum> sum = matchDequantizedSum(dequant)) {
        // The residual: its view and strides as the output's (it has the
        // accumulator's shape), whether through max(r, 0).
        Buffer residual = Buffer::of(b, dequant.getDpsInputOperand(3)->get());
        call.add(residual.base);
        call.add(residual.offset);
        for (unsigned d = 0; d < 4; ++d)
          call.add(stride(2, residual, d));
        call.add(static_cast<int64_t>(sum->relu ? 1 : 0));
        name += "sum_";
      } else if (std::optional<Requantization> bounds =
                     matchRequantization(dequant)) {
        call.add(bounds->lo);
        call.add(bounds->hi);
        name.replace(name.size() - 7, 7, "requantized_");
      }
    }
    call.emit(module, name + stringifyISA(isa).str());
    if (dequant)
      dequant->erase();
    if (windowCopy)
      windowCopy->erase();
    return success();
  }
  addEpilogue(
      call, ep, addends, buffers[2], accumulate,
      [&](const Buffer &buffer, unsigned d) { return stride(3, buffer, d); },
      4);
  call.emit(module, ((sparsePacked ? "kiln_ukernel_sgemm_sparse_"
                      : packed     ? "kiln_ukernel_sgemm_packed_"
                                   : "kiln_ukernel_sgemm_") +
                     stringifyISA(isa))
                        .str());
  eraseFused(ep);
  return success();
}

/// A linalg.transpose swapping the last two dims -> a call of
/// kiln_ukernel_transpose_<isa>: batch dims (at most two, missing ones of
/// extent 1), src's last two extents, then each side's buffer and its
/// strides per source index.
static LogicalResult lowerTranspose(ModuleOp module, linalg::LinalgOp op,
                                    ISA isa) {
  auto transpose = dyn_cast<linalg::TransposeOp>(op.getOperation());
  int64_t rank = transpose ? transpose.getPermutation().size() : 0;
  if (!transpose || rank < 2 || rank > 4)
    return op->emitOpError("is marked for the transpose kernel but does not "
                           "swap the last two of at most four dims");
  ImplicitLocOpBuilder b(op.getLoc(), op.getOperation());
  CallBuilder call(b, op->getBlock());
  Buffer src = Buffer::of(b, transpose.getInput());
  Buffer dst = Buffer::of(b, transpose.getInit());
  int64_t batch = rank - 2;
  for (int64_t d = 0; d < 2 - batch; ++d)
    call.add(call.index(1));
  for (int64_t d = 0; d < batch; ++d)
    call.add(src.sizes[d]);
  call.add(src.sizes[rank - 2]);
  call.add(src.sizes[rank - 1]);
  // Per source index (b0, b1, i, j): dst's stride for i is that of its
  // last dim, for j that of the one before.
  auto strides = [&](const Buffer &buffer, bool swapped) {
    call.add(buffer.base);
    call.add(buffer.offset);
    for (int64_t d = 0; d < 2 - batch; ++d)
      call.add(call.index(0));
    for (int64_t d = 0; d < batch; ++d)
      call.add(buffer.strides[d]);
    call.add(buffer.strides[swapped ? rank - 1 : rank - 2]);
    call.add(buffer.strides[swapped ? rank - 2 : rank - 1]);
  };
  strides(src, false);
  strides(dst, true);
  call.emit(module, ("kiln_ukernel_transpose_" + stringifyISA(isa)).str());
  return success();
}

namespace {
/// A convolution's or max pooling's input that a padded copy of `source`
/// holds: bufferized `tensor.pad`, an op (`generate`) writing the padding
/// value (zeros, or -inf for pooling) to the whole padded buffer, then `copy`
/// of `source` into its interior, which starts at row `top`, column `left`.
struct ImplicitPadding {
  Value source;
  Operation *generate, *copy;
  memref::SubViewOp interior;
  int64_t top, left;
};
} // namespace

/// MaxPool's window max -> a call of kiln_ukernel_smaxpool2d_<isa>: the
/// output's extents, the window (the shape operand's static type), strides
/// and dilations, the input and the output with their strides, then the
/// input's rows and columns and where the windows start in it. The kernel
/// takes the max with the output's old values (the -inf fill). With
/// implicit padding it reads the unpadded source, and the -inf-filled
/// padded copy is dropped.
static LogicalResult lowerMaxPool2D(ModuleOp module, linalg::LinalgOp op,
                                    ISA isa,
                                    const std::optional<ImplicitPadding> &pad) {
  std::optional<Pool2DLoops> pool = matchMaxPool2D(op);
  auto window = cast<ShapedType>(op.getDpsInputOperand(1)->get().getType());
  if (!pool || !window.hasStaticShape())
    return op->emitOpError("is marked for the max pooling kernel but is not "
                           "a 2-D window max with a static window");
  ImplicitLocOpBuilder b(op.getLoc(), op.getOperation());
  CallBuilder call(b, op->getBlock());
  Buffer in =
      Buffer::of(b, pad ? pad->source : op.getDpsInputOperand(0)->get());
  Buffer out = Buffer::of(b, op.getDpsInitOperand(0)->get());
  for (unsigned d = 0; d < 4; ++d)
    call.add(out.sizes[d]);
  call.add(window.getDimSize(0));
  call.add(window.getDimSize(1));
  for (int64_t v : {pool->strides[0], pool->strides[1], pool->dilations[0],
                    pool->dilations[1]})
    call.add(v);
  for (const Buffer *buffer : {&in, &out}) {
    call.add(buffer->base);
    call.add(buffer->offset);
    for (unsigned d = 0; d < 4; ++d)
      call.add(buffer->strides[d]);
  }
  call.add(in.sizes[2]);
  call.add(in.sizes[3]);
  call.add(pad ? pad->top : int64_t(0));
  call.add(pad ? pad->left : int64_t(0));
  call.emit(module, ("kiln_ukernel_smaxpool2d_" + stringifyISA(isa)).str());
  if (pad) {
    pad->copy->erase();
    pad->interior->erase();
    pad->generate->erase();
  }
  return success();
}

/// Columns per panel of the weight-only kernel (runtime/cpu/wgemm.c).
static constexpr int64_t kWeightOnlyPanel = 16;

/// The bits of the bfloat16 nearest `value` (ties to even; `value` finite).
static uint32_t bfloat16Bits(float value) {
  uint32_t bits = llvm::bit_cast<uint32_t>(value);
  return (bits + 0x7fff + ((bits >> 16) & 1)) >> 16;
}

/// A product with weight-only quantized weights -> a call of
/// kiln_ukernel_sgemm_wq_<isa>. The integer weights [k][n] are packed into
/// panels of 16 columns, as 4-bit pairs when every value fits in 4 bits
/// (exact: the values are the same), else as bytes; the scales
/// [k / group][n] into the matching panels; with zero points z, each
/// scale's slot holds the bfloat16 scale (low half) and offset -z * scale
/// (high half) instead, so asymmetric groups read as many bytes as
/// symmetric ones (the rounding, 2^-9 of the scale, is small against 4-bit
/// steps).
static LogicalResult lowerWeightOnlyGemm(ModuleOp module, linalg::LinalgOp op,
                                         ISA isa) {
  std::optional<WeightOnlyGemm> wq = matchWeightOnlyGemm(op);
  if (!wq || wq->loops.batch.size() > 2)
    return op->emitOpError("is marked for the weight-only kernel but is not "
                           "a product with quantized weights");
  Value q = op.getDpsInputOperand(1)->get();
  memref::GlobalOp qGlobal = constantGlobalOf(module, q);
  SmallVector<int8_t> splat;
  std::optional<ArrayRef<int8_t>> values = constantBytes(qGlobal, splat);
  std::optional<ConstantOperand> scales =
      resolveConstant(module, op.getDpsInputOperand(2)->get());
  auto qType = cast<MemRefType>(q.getType());
  if (!values || !scales || qType.getRank() != 2 || scales->shape.size() != 2)
    return op->emitOpError("weight-only kernel needs constant weights and "
                           "scales");
  int64_t k = qType.getDimSize(0), n = qType.getDimSize(1);
  int64_t group = wq->group, groups = k / group;
  if (k % group != 0 || scales->shape[0] != groups || scales->shape[1] != n)
    return op->emitOpError("weight-only kernel needs k (")
           << k << ") a multiple of the group (" << group << ")";
  SmallVector<int8_t> zeroSplat;
  std::optional<ArrayRef<int8_t>> zeros;
  if (wq->zeroPoints) {
    memref::GlobalOp zGlobal =
        constantGlobalOf(module, op.getDpsInputOperand(3)->get());
    zeros = zGlobal ? constantBytes(zGlobal, zeroSplat) : std::nullopt;
    if (!zeros || static_cast<int64_t>(zeros->size()) != groups * n)
      return op->emitOpError("weight-only kernel needs constant zero points "
                             "of the scales' shape");
  }
  bool fourBits =
      llvm::all_of(*values, [](int8_t v) { return v >= -8 && v <= 7; });
  int64_t panels = llvm::divideCeil(n, kWeightOnlyPanel);
  int64_t rows = fourBits ? k / 2 : k;
  SmallVector<int8_t> packed(panels * rows * kWeightOnlyPanel, 0);
  SmallVector<float> packedScales(panels * groups * kWeightOnlyPanel, 0.0f);
  for (int64_t j = 0; j < n; ++j) {
    int64_t panel = j / kWeightOnlyPanel, lane = j % kWeightOnlyPanel;
    for (int64_t kk = 0; kk < k; ++kk) {
      int8_t v = (*values)[kk * n + j];
      if (!fourBits) {
        packed[(panel * rows + kk) * kWeightOnlyPanel + lane] = v;
        continue;
      }
      auto &byte = reinterpret_cast<uint8_t &>(
          packed[(panel * rows + kk / 2) * kWeightOnlyPanel + lane]);
      byte |= static_cast<uint8_t>((v & 0xf) << (kk % 2 ? 4 : 0));
    }
    for (int64_t g = 0; g < groups; ++g) {
      int64_t at = (panel * groups + g) * kWeightOnlyPanel + lane;
      float scale = scales->data[g * n + j];
      if (!zeros) {
        packedScales[at] = scale;
        continue;
      }
      // The offset from the scale as the kernel reads it.
      uint32_t scaleBits = bfloat16Bits(scale);
      float offset =
          -static_cast<float>((*zeros)[g * n + j]) *
          llvm::bit_cast<float>(static_cast<uint32_t>(scaleBits << 16));
      packedScales[at] = llvm::bit_cast<float>(
          static_cast<uint32_t>(scaleBits | bfloat16Bits(offset) << 16));
    }
  }
  std::string name = (qGlobal.getSymName() + "_packed").str();
  memref::GlobalOp qPacked = createByteGlobal(
      module, qGlobal.getLoc(), name,
      ArrayRef<char>(reinterpret_cast<const char *>(packed.data()),
                     packed.size()));
  memref::GlobalOp sPacked = createPackedGlobal(
      module, scales->global, {panels, groups, kWeightOnlyPanel},
      [&](MutableArrayRef<float> out) {
        llvm::copy(packedScales, out.begin());
      });

  ImplicitLocOpBuilder b(op.getLoc(), op.getOperation());
  Value output = op.getDpsInitOperand(0)->get();
  bool accumulate = !dropZeroFill(op, output);
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  CallBuilder call(b, op->getBlock());
  Buffer a = Buffer::of(b, op.getDpsInputOperand(0)->get());
  Buffer c = Buffer::of(b, output);
  // Loop extents from C and A: the weights' buffers are not read.
  SmallVector<Buffer> operandBuffers = {a, Buffer(), Buffer()};
  if (wq->zeroPoints)
    operandBuffers.push_back(Buffer());
  operandBuffers.push_back(c);
  unsigned cIndex = operandBuffers.size() - 1;
  auto extent = [&](unsigned dim) {
    return dim == ~0u ? call.index(1) : loopExtent(op, operandBuffers, dim);
  };
  SmallVector<unsigned> batch(wq->loops.batch);
  while (batch.size() < 2)
    batch.insert(batch.begin(), ~0u);
  for (unsigned dim : batch)
    call.add(extent(dim));
  call.add(extent(wq->loops.m));
  call.add(call.index(n));
  call.add(call.index(k));
  auto strideOf = [&](unsigned i, const Buffer &buffer, unsigned dim) {
    return dim == ~0u ? call.index(0) : loopStride(call, maps[i], buffer, dim);
  };
  call.add(a.base);
  call.add(a.offset);
  for (unsigned dim : {batch[0], batch[1], wq->loops.m, wq->loops.k})
    call.add(strideOf(0, a, dim));
  Buffer weights =
      Buffer::of(b, memref::GetGlobalOp::create(b, qPacked.getType(),
                                                qPacked.getSymName()));
  call.add(weights.base);
  call.add(weights.offset);
  call.add(fourBits ? 4 : 8);
  call.add(group);
  Buffer scaleBuffer =
      Buffer::of(b, memref::GetGlobalOp::create(b, sPacked.getType(),
                                                sPacked.getSymName()));
  call.add(scaleBuffer.base);
  call.add(scaleBuffer.offset);
  call.add(zeros ? 1 : 0);
  call.add(c.base);
  call.add(c.offset);
  for (unsigned dim : {batch[0], batch[1], wq->loops.m, wq->loops.n})
    call.add(strideOf(cIndex, c, dim));
  call.add(accumulate ? 1 : 0);
  call.emit(module, ("kiln_ukernel_sgemm_wq_" + stringifyISA(isa)).str());
  return success();
}

/// Whether `op` writes one constant that `wanted` accepts to every element
/// of `buffer` and reads nothing: a fill, or the linalg.map a bufferized
/// tensor.pad fills with.
static bool writesConstant(Operation *op, Value buffer,
                           llvm::function_ref<bool(APFloat)> wanted) {
  auto linalgOp = dyn_cast<linalg::LinalgOp>(op);
  if (!linalgOp || linalgOp.getNumDpsInits() != 1 ||
      linalgOp.getDpsInitOperand(0)->get() != buffer)
    return false;
  FloatAttr value;
  if (auto fill = dyn_cast<linalg::FillOp>(op))
    return matchPattern(fill.getInputs().front(), m_Constant(&value)) &&
           wanted(value.getValue());
  if (linalgOp.getNumDpsInputs() != 0 ||
      linalgOp.payloadUsesValueFromOperand(linalgOp.getDpsInitOperand(0)))
    return false;
  Operation *yield = linalgOp.getBlock()->getTerminator();
  return yield->getNumOperands() == 1 &&
         matchPattern(yield->getOperand(0), m_Constant(&value)) &&
         wanted(value.getValue());
}

/// The padded copy that convolution `op` (depthwise or direct, marked
/// `padding = "implicit"`, reading the grouped view [n][g][c][h][w] of a
/// zero-padded [n][g*c][h][w]) or max pooling `op` (reading a -inf-padded
/// [n][c][h][w] directly, `pooling`) reads, when its kernel can read the
/// unpadded source instead: nothing else reads the padded buffer, and
/// nothing writes or frees the source between the copy and `op`.
static std::optional<ImplicitPadding>
matchImplicitPadding(linalg::LinalgOp op, bool pooling = false) {
  if (!padsImplicitly(op))
    return std::nullopt;
  Value padded = op.getDpsInputOperand(0)->get();
  Operation *view = nullptr;
  if (!pooling) {
    auto expand = padded.getDefiningOp<memref::ExpandShapeOp>();
    if (!expand || !expand->hasOneUse() ||
        expand.getReassociationIndices() !=
            SmallVector<ReassociationIndices>{{0}, {1, 2}, {3}, {4}})
      return std::nullopt;
    padded = expand.getSrc();
    view = expand;
  }
  if (!padded.getDefiningOp<memref::AllocOp>())
    return std::nullopt;
  auto padValue = [&](APFloat v) {
    return pooling ? v.isInfinity() && v.isNegative() : v.isPosZero();
  };
  ImplicitPadding result{};
  for (Operation *user : padded.getUsers()) {
    if (user == view || user == op.getOperation() ||
        isa<memref::DeallocOp>(user))
      continue;
    if (auto subview = dyn_cast<memref::SubViewOp>(user);
        subview && !result.interior) {
      result.interior = subview;
      continue;
    }
    if (!result.generate && writesConstant(user, padded, padValue)) {
      result.generate = user;
      continue;
    }
    return std::nullopt;
  }
  if (!result.interior || !result.generate || !result.interior->hasOneUse())
    return std::nullopt;
  result.copy = *result.interior->getUsers().begin();
  if (auto copy = dyn_cast<memref::CopyOp>(result.copy);
      copy && copy.getTarget() == result.interior)
    result.source = copy.getSource();
  else if (auto copy = dyn_cast<linalg::CopyOp>(result.copy);
           copy && copy.getOutputs().front() == result.interior)
    result.source = copy.getInputs().front();
  else
    return std::nullopt;
  // The interior (the copy makes it the source's shape, dynamic dims
  // included): all of the batch and channels, unit strides, at a static row
  // and column.
  ArrayRef<int64_t> offsets = result.interior.getStaticOffsets();
  if (llvm::any_of(result.interior.getStaticStrides(),
                   [](int64_t stride) { return stride != 1; }) ||
      offsets[0] != 0 || offsets[1] != 0 || ShapedType::isDynamic(offsets[2]) ||
      ShapedType::isDynamic(offsets[3]))
    return std::nullopt;
  result.top = offsets[2];
  result.left = offsets[3];
  // Zeros, then the copy, then the convolution, in one block; between the
  // copy and the convolution nothing touches the source but reads.
  Block *block = op->getBlock();
  if (result.generate->getBlock() != block ||
      result.copy->getBlock() != block ||
      !result.generate->isBeforeInBlock(result.copy) ||
      !result.copy->isBeforeInBlock(op))
    return std::nullopt;
  Value source = rootOf(result.source);
  // The convolution must not write the source it reads (a residual added by
  // accumulating onto the block's input, as `x + conv(x)` lowers).
  if (rootOf(op.getDpsInitOperand(0)->get()) == source)
    return std::nullopt;
  for (Operation *between = result.copy->getNextNode(); between != op;
       between = between->getNextNode()) {
    if (isMemoryEffectFree(between))
      continue;
    bool touches = false;
    between->walk([&](Operation *nested) {
      for (Value operand : nested->getOperands())
        if (isa<MemRefType>(operand.getType()) && rootOf(operand) == source)
          touches = true;
    });
    if (!touches)
      continue;
    auto linalgOp = dyn_cast<linalg::LinalgOp>(between);
    if (!linalgOp || !linalgOp.hasPureBufferSemantics() ||
        llvm::any_of(linalgOp.getDpsInits(),
                     [&](Value init) { return rootOf(init) == source; }))
      return std::nullopt;
  }
  return result;
}

/// Lowers a convolution to `kernel` (sconv2d or sdwconv2d, same arguments),
/// to sconv2d_packed with its constant weights packed now, or to
/// sconv2d_direct (always packed, for its own register tile).
static LogicalResult lowerConv2D(ModuleOp module, linalg::LinalgOp op,
                                 StringRef kernel, ISA isa, bool packWeights,
                                 const Epilogue &ep,
                                 const std::optional<ImplicitPadding> &pad) {
  std::optional<Conv2DLoops> conv = matchConv2D(op);
  if (!conv)
    return op->emitOpError("is marked for the ")
           << kernel << " microkernel but is not a grouped 2-D convolution";
  bool direct = kernel == "sconv2d_direct";
  std::optional<std::pair<int64_t, int64_t>> directTile = directConvTile(isa);
  if (direct && (!packWeights || !directTile))
    return op->emitOpError("is marked for the sconv2d_direct microkernel, "
                           "which needs compile-time packed weights and "
                           "AVX-512");
  int64_t height = direct ? directTile->first : registerTile(isa).first;
  memref::GlobalOp packed = packWeights && kernel != "sdwconv2d"
                                ? packConstantWeights(module, op, height)
                                : nullptr;
  if (direct && !packed)
    return op->emitOpError("is marked for the sconv2d_direct microkernel but "
                           "its weights are not a constant");
  ImplicitLocOpBuilder b(op.getLoc(), ep.clamp ? ep.clamp : op.getOperation());
  Value outputValue = op.getDpsInitOperand(0)->get();
  bool accumulate = ep.init ? false : !dropZeroFill(op, outputValue);
  CallBuilder call(b, op->getBlock());
  Buffer input = Buffer::of(b, op.getDpsInputOperand(0)->get());
  // The input's rows and columns, and where the windows start in it.
  Value inHeight = input.sizes[3], inWidth = input.sizes[4];
  int64_t top = 0, left = 0;
  if (pad) {
    // The unpadded source [n][g*c][h][w] as the grouped view [n][g][c][h][w]
    // (c = input.sizes[2], static).
    Buffer source = Buffer::of(b, pad->source);
    Value channels = input.sizes[2];
    input = {source.base,
             source.offset,
             {source.sizes[0], input.sizes[1], channels, source.sizes[2],
              source.sizes[3]},
             {source.strides[0],
              arith::MulIOp::create(b, source.strides[1], channels),
              source.strides[1], source.strides[2], source.strides[3]}};
    inHeight = source.sizes[2];
    inWidth = source.sizes[3];
    top = pad->top;
    left = pad->left;
  }
  SmallVector<Buffer> addends;
  Buffer output = epilogueBuffers(b, call, ep, outputValue, addends);
  // batch, groups, out channels, in channels, out h/w, kernel h/w (the
  // weights' shape is static).
  auto weightType = cast<MemRefType>(op.getDpsInputOperand(1)->get().getType());
  for (Value v : {output.sizes[0], output.sizes[1], output.sizes[2],
                  input.sizes[2], output.sizes[3], output.sizes[4]})
    call.add(v);
  for (int64_t v :
       {weightType.getDimSize(3), weightType.getDimSize(4), conv->strides[0],
        conv->strides[1], conv->dilations[0], conv->dilations[1]})
    call.add(v);
  auto addBuffer = [&](const Buffer &buffer) {
    call.add(buffer.base);
    call.add(buffer.offset);
    for (Value stride : buffer.strides)
      call.add(stride);
  };
  addBuffer(input);
  if (packed) {
    Buffer weights =
        Buffer::of(b, memref::GetGlobalOp::create(b, packed.getType(),
                                                  packed.getSymName()));
    call.add(weights.base);
    call.add(weights.offset);
    call.add(height);
  } else {
    addBuffer(Buffer::of(b, op.getDpsInputOperand(1)->get()));
  }
  addBuffer(output);
  addEpilogue(
      call, ep, addends, output, accumulate,
      [&](const Buffer &buffer, unsigned d) { return buffer.strides[d]; }, 5);
  if (kernel == "sdwconv2d" || direct) {
    call.add(inHeight);
    call.add(inWidth);
    call.add(top);
    call.add(left);
  }
  call.emit(module, ("kiln_ukernel_" + kernel +
                     (packed && !direct ? "_packed_" : "_") + stringifyISA(isa))
                        .str());
  eraseFused(ep);
  // The padded copy is no longer read.
  if (pad) {
    pad->copy->erase();
    pad->interior->erase();
    pad->generate->erase();
  }
  return success();
}

/// The ops of `block` strictly between `from` and `to` (from before to)
/// that access `buffer`'s memory, through views.
static SmallVector<Operation *> accessesBetween(Value buffer, Operation *from,
                                                Operation *to) {
  SmallVector<Operation *> accesses, between;
  collectAccesses(buffer, accesses);
  Block *block = from->getBlock();
  for (Operation *user : accesses) {
    Operation *ancestor = block->findAncestorOpInBlock(*user);
    if (!ancestor ||
        (from->isBeforeInBlock(ancestor) && ancestor->isBeforeInBlock(to)))
      between.push_back(user);
  }
  return between;
}

/// The transpose copy on buffers next to `op` in its block that writes
/// `buffer` (`into`: the last such copy before `op`) or reads it (the first
/// after `op`), or null.
static linalg::TransposeOp adjacentTranspose(Value buffer, Operation *op,
                                             bool into) {
  linalg::TransposeOp found;
  for (Operation *user : buffer.getUsers()) {
    auto copy = dyn_cast<linalg::TransposeOp>(user);
    if (!copy || copy->getBlock() != op->getBlock() ||
        !copy.hasPureBufferSemantics() ||
        (into ? copy.getInit() : copy.getInput()) != buffer)
      continue;
    if (into ? copy->isBeforeInBlock(op) &&
                   (!found || found->isBeforeInBlock(copy))
             : op->isBeforeInBlock(copy) &&
                   (!found || copy->isBeforeInBlock(found)))
      found = copy;
  }
  return found;
}

/// An attention operand that a transpose copy wrote for it alone: the
/// kernel reads the copy's source in place instead (its strides permuted),
/// and the copy goes. Frees of the source between the copy and `op` move
/// after `op`.
static std::optional<linalg::TransposeOp> foldInputTranspose(Value operand,
                                                             Operation *op) {
  linalg::TransposeOp copy = adjacentTranspose(operand, op, /*into=*/true);
  // The copy's destination holds nothing anyone else reads (the fused
  // epilogue's test: no access between copy and op, and the next one after
  // op overwrites it).
  if (!copy || !onlyEpilogueUsesBetween(operand, copy, op, op, false))
    return std::nullopt;
  // Nothing may write the source before the kernel reads it.
  Value source = rootOf(copy.getInput());
  SmallVector<Operation *> frees;
  for (Operation *user : accessesBetween(source, copy, op)) {
    auto reader = dyn_cast<linalg::LinalgOp>(user);
    if (isa<memref::DeallocOp>(user) && user->getBlock() == op->getBlock())
      frees.push_back(user);
    else if (!reader || !reader.hasPureBufferSemantics() ||
             llvm::any_of(reader.getDpsInits(),
                          [&](Value init) { return rootOf(init) == source; }))
      return std::nullopt;
  }
  for (Operation *free : frees)
    free->moveAfter(op);
  return copy;
}

/// The attention's output when only a transpose copy reads it: the kernel
/// writes the copy's destination (its strides permuted), and the copy
/// goes. The destination's allocation moves before `op` if it came after.
static std::optional<linalg::TransposeOp> foldOutputTranspose(Value init,
                                                              Operation *op) {
  linalg::TransposeOp copy = adjacentTranspose(init, op, /*into=*/false);
  if (!copy || !onlyEpilogueUsesBetween(init, op, copy, copy, false))
    return std::nullopt;
  Value destination = copy.getInit();
  Value root = rootOf(destination);
  if (!accessesBetween(root, op, copy).empty())
    return std::nullopt;
  // The destination (and the views leading to it) must exist before `op`.
  SmallVector<Operation *> definitions;
  for (Value v = destination;;) {
    Operation *def = v.getDefiningOp();
    if (!def || def->getBlock() != op->getBlock() || def->isBeforeInBlock(op))
      break;
    auto alloc = dyn_cast<memref::AllocOp>(def);
    if (alloc && alloc->getNumOperands() == 0) {
      definitions.push_back(def);
      break;
    }
    auto view = dyn_cast<ViewLikeOpInterface>(def);
    if (!view || def->getNumOperands() != 1)
      return std::nullopt;
    definitions.push_back(def);
    v = view.getViewSource();
  }
  for (Operation *def : llvm::reverse(definitions))
    def->moveBefore(op);
  return copy;
}

/// `buffer` viewed through the transpose `copy` from the other side: for
/// a copy into the operand (`input`), the source's dims and strides taken
/// in the copy's order; for a copy out of the output, the destination's
/// taken in the inverse order.
static Buffer permuted(Buffer buffer, ArrayRef<int64_t> permutation,
                       bool input) {
  Buffer result = buffer;
  for (auto [i, p] : llvm::enumerate(permutation)) {
    size_t to = input ? i : p, from = input ? p : i;
    result.sizes[to] = buffer.sizes[from];
    result.strides[to] = buffer.strides[from];
  }
  return result;
}

/// kiln.flash_attention on buffers -> a call of kiln_ukernel_sattention_<isa>
/// (kiln_ukernel_sattention_bool_<isa> with a bool mask): the two batch
/// dims (1 for those the operands lack), query rows, keys, the head dims,
/// the query heads per key/value head, then query, key, value and output
/// with their strides per (batch0, batch1, row, element), the scale, the
/// mask's kind (0 none, 1 f32, 2 bool), buffer and strides per (batch0,
/// batch1, query, key) (0 where it broadcasts; without a mask, the query's
/// buffer and zeros) and the bool mask's fill.
static LogicalResult lowerAttention(ModuleOp module, FlashAttentionOp op,
                                    ISA isa) {
  ImplicitLocOpBuilder b(op.getLoc(), op.getOperation());
  CallBuilder call(b, op->getBlock());
  // Heads split off a model's [batch, tokens, heads * dims] tensors come
  // through transpose copies: the kernel reads and writes them in place.
  llvm::SetVector<Operation *> copies;
  auto operand = [&](Value value) {
    std::optional<linalg::TransposeOp> copy = foldInputTranspose(value, op);
    if (!copy)
      return Buffer::of(b, value);
    copies.insert(*copy);
    return permuted(Buffer::of(b, copy->getInput()), copy->getPermutation(),
                    /*input=*/true);
  };
  Buffer q = operand(op.getQuery()), k = operand(op.getKey()),
         v = operand(op.getValue());
  Buffer out;
  if (std::optional<linalg::TransposeOp> copy =
          foldOutputTranspose(op.getInit(), op)) {
    copies.insert(*copy);
    out = permuted(Buffer::of(b, copy->getInit()), copy->getPermutation(),
                   /*input=*/false);
  } else {
    out = Buffer::of(b, op.getInit());
  }
  int64_t rank = cast<MemRefType>(op.getQuery().getType()).getRank();
  int64_t batch = rank - 2;
  for (int64_t d = 0; d < 2 - batch; ++d)
    call.add(call.index(1));
  for (int64_t d = 0; d < batch; ++d)
    call.add(q.sizes[d]);
  call.add(q.sizes[rank - 2]);
  call.add(k.sizes[rank - 2]);
  call.add(q.sizes[rank - 1]);
  call.add(v.sizes[rank - 1]);
  call.add(batch >= 1
               ? arith::DivUIOp::create(b, q.sizes[rank - 3], k.sizes[rank - 3])
                     .getResult()
               : call.index(1));
  for (const Buffer *buffer : {&q, &k, &v, &out}) {
    call.add(buffer->base);
    call.add(buffer->offset);
    for (int64_t d = 0; d < 2 - batch; ++d)
      call.add(call.index(0));
    for (int64_t d = 0; d < rank; ++d)
      call.add(buffer->strides[d]);
  }
  call.addF32(op.getScale().convertToFloat());
  bool isBool = false;
  if (Value mask = op.getMask()) {
    auto type = cast<MemRefType>(mask.getType());
    isBool = type.getElementType().isInteger(1);
    Buffer m = Buffer::of(b, mask);
    call.add(isBool ? int64_t(2) : int64_t(1));
    call.add(m.base);
    call.add(m.offset);
    // The mask's dims align with the scores' last ones; a missing or
    // stretched (extent 1) dim reads one value.
    for (int64_t d = 0; d < 4; ++d) {
      int64_t md = d - (4 - type.getRank());
      int64_t scoreDim = d - (4 - rank);
      if (md < 0 || scoreDim < 0 || type.getDimSize(md) == 1)
        call.add(call.index(0));
      else
        call.add(m.strides[md]);
    }
  } else {
    call.add(int64_t(0));
    call.add(q.base);
    call.add(q.offset);
    for (int64_t d = 0; d < 4; ++d)
      call.add(call.index(0));
  }
  call.addF32(op.getMaskFill() ? op.getMaskFill()->convertToFloat() : 0.0f);
  call.emit(module, ((isBool ? "kiln_ukernel_sattention_bool_"
                             : "kiln_ukernel_sattention_") +
                     stringifyISA(isa))
                        .str());
  for (Operation *copy : copies)
    copy->erase();
  return success();
}

namespace {
struct KilnCPULowerUKernelsPass
    : public kiln::impl::KilnCPULowerUKernelsBase<KilnCPULowerUKernelsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<linalg::LinalgOp> marked;
    module.walk([&](linalg::LinalgOp op) {
      if (op->hasAttr(kUKernelAttr))
        marked.push_back(op);
    });
    for (linalg::LinalgOp op : marked) {
      if (!op.hasPureBufferSemantics()) {
        op->emitOpError("must be bufferized before kiln-cpu-lower-ukernels");
        return signalPassFailure();
      }
      auto decision = op->getAttrOfType<DictionaryAttr>(kUKernelAttr);
      auto kernel = decision ? decision.getAs<StringAttr>("kernel") : nullptr;
      auto isaName = decision ? decision.getAs<StringAttr>("isa") : nullptr;
      std::optional<ISA> isa =
          isaName ? parseISA(isaName.getValue()) : std::nullopt;
      if (!kernel || !isa) {
        op->emitOpError("has a malformed '")
            << kUKernelAttr << "' attribute: " << op->getAttr(kUKernelAttr);
        return signalPassFailure();
      }
      auto wantsEpilogue = [&](StringRef what) {
        auto fused = decision.getAs<ArrayAttr>("epilogue");
        return fused && llvm::any_of(fused, [&](Attribute a) {
                 return cast<StringAttr>(a).getValue() == what;
               });
      };
      auto isCompileTime = [&](StringRef key) {
        auto value = decision.getAs<StringAttr>(key);
        return value && value.getValue() == "compile-time";
      };
      std::optional<ImplicitPadding> padding =
          kernel.getValue() == "sdwconv2d" ||
                  kernel.getValue() == "sconv2d_direct"
              ? matchImplicitPadding(op)
          : kernel.getValue() == "smaxpool2d"
              ? matchImplicitPadding(op, /*pooling=*/true)
              : std::nullopt;
      Epilogue epilogue =
          matchEpilogue(op, decision, padding ? padding->source : Value());
      std::optional<IGemm> integer;
      if (kernel.getValue() == "igemm" && !(integer = matchIGemm(op))) {
        op->emitOpError("is marked for the igemm microkernel but is not an "
                        "8-bit matrix product");
        return signalPassFailure();
      }
      LogicalResult lowered =
          kernel.getValue() == "transpose" ? lowerTranspose(module, op, *isa)
          : kernel.getValue() == "smaxpool2d"
              ? lowerMaxPool2D(module, op, *isa, padding)
          : kernel.getValue() == "sgemm_wq"
              ? lowerWeightOnlyGemm(module, op, *isa)
          : kernel.getValue() == "sgemm"
              ? lowerGemm(module, op, *isa, isCompileTime("pack_rhs"), epilogue)
          : kernel.getValue() == "sgemm_sparse"
              ? lowerGemm(module, op, *isa, true, epilogue, nullptr, {}, false,
                          false, /*sparse=*/true)
          : integer
              ? lowerGemm(module, op, *isa, isCompileTime("pack_rhs"),
                          Epilogue(), &*integer,
                          wantsEpilogue("requantize")   ? "requantize"
                          : wantsEpilogue("sum")        ? "sum"
                          : wantsEpilogue("dequantize") ? "dequantize"
                                                        : "",
                          decision.getAs<StringAttr>("rhs") &&
                              decision.getAs<StringAttr>("rhs").getValue() ==
                                  "windows",
                          isCompileTime("pack_lhs"))
          : kernel.getValue() == "sconv2d" ||
                  kernel.getValue() == "sconv2d_direct" ||
                  kernel.getValue() == "sdwconv2d"
              ? lowerConv2D(module, op, kernel.getValue(), *isa,
                            isCompileTime("pack_weights"), epilogue, padding)
              : op->emitOpError("unknown kernel ") << kernel;
      if (failed(lowered))
        return signalPassFailure();
      op->erase();
    }
    SmallVector<FlashAttentionOp> attentions;
    module.walk([&](FlashAttentionOp op) { attentions.push_back(op); });
    for (FlashAttentionOp op : attentions) {
      auto decision = op->getAttrOfType<DictionaryAttr>(kUKernelAttr);
      auto isaName = decision ? decision.getAs<StringAttr>("isa") : nullptr;
      std::optional<ISA> isa =
          isaName ? parseISA(isaName.getValue()) : std::nullopt;
      if (op.getNumResults() || !isa) {
        op->emitOpError("must be bufferized and marked by "
                        "kiln-cpu-select-kernels before "
                        "kiln-cpu-lower-ukernels");
        return signalPassFailure();
      }
      if (failed(lowerAttention(module, op, *isa)))
        return signalPassFailure();
      op->erase();
    }
    // Constants that only the packed products read are gone from the code:
    // drop their reads (and reshapes), then the globals, so the weights are
    // not stored twice.
    bool erased = true;
    while (erased) {
      erased = false;
      module.walk([&](Operation *op) {
        if (isa<memref::GetGlobalOp, memref::ExpandShapeOp,
                memref::ExtractStridedMetadataOp, memref::CollapseShapeOp>(
                op) &&
            op->use_empty()) {
          op->erase();
          erased = true;
        }
      });
    }
    // Accumulators whose epilogue a kernel took over are only freed now.
    module.walk([&](memref::AllocOp alloc) {
      if (llvm::all_of(alloc->getUsers(), [](Operation *user) {
            return isa<memref::DeallocOp>(user);
          })) {
        for (Operation *user : llvm::make_early_inc_range(alloc->getUsers()))
          user->erase();
        alloc.erase();
      }
    });
    for (auto global :
         llvm::make_early_inc_range(module.getOps<memref::GlobalOp>()))
      if (global.isPrivate() &&
          SymbolTable::symbolKnownUseEmpty(global, module))
        global.erase();
  }
};
} // namespace
