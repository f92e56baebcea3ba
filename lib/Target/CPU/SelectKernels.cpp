//===- SelectKernels.cpp - the CPU strategy: a kernel per contraction -----===//
//
// Decides, on linalg on tensors, which contractions the runtime's
// microkernels compute, for which instruction set, and records the decision
// on the op (`kiln.ukernel`) where tests and `--mlir-print-ir-after` see it.
//
//===----------------------------------------------------------------------===//

#include "Contraction.h"

#include "kiln/Dialect/Kiln/IR/KilnOps.h"

#include "kiln/Target/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinDialect.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/TargetParser/Host.h"

namespace kiln {
#define GEN_PASS_DEF_KILNCPUSELECTKERNELS
#include "kiln/Target/CPU/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::cpu;

/// The widest microkernel instruction set of this machine.
static ISA hostISA() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  if (features.lookup("avx512f"))
    return ISA::AVX512;
  if (features.lookup("avx2") && features.lookup("fma"))
    return ISA::AVX2;
  return ISA::Generic;
}

/// Whether a convolution has one input and one output channel per group
/// (depthwise): as a matrix product it would have one row, so it gets the
/// direct kernel instead.
static bool isDepthwise(linalg::LinalgOp op) {
  auto weight = cast<ShapedType>(op.getDpsInputOperand(1)->get().getType());
  return weight.getDimSize(1) == 1 && weight.getDimSize(2) == 1;
}

/// Whether a convolution has at most 8 input channels per group.
static bool fewInputChannels(linalg::LinalgOp op) {
  auto weight = cast<ShapedType>(op.getDpsInputOperand(1)->get().getType());
  return weight.getDimSize(2) <= 8;
}

/// Whether `value` is a constant of static shape, directly or through
/// reshapes (which keep its row-major order): what the compiler can pack.
static bool isPackableConstant(Value value) {
  if (!cast<ShapedType>(value.getType()).hasStaticShape())
    return false;
  while (Operation *reshape = value.getDefiningOp()) {
    if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(reshape))
      break;
    value = reshape->getOperand(0);
  }
  return value.getDefiningOp<arith::ConstantOp>() != nullptr;
}

/// Whether operand `number` of a matrix product is a packable constant read
/// through the k loop and `outer` (n for the rhs, m for the lhs) only (no
/// batch dims).
static bool hasConstantOperand(linalg::LinalgOp op, unsigned number,
                               unsigned outer, unsigned k) {
  if (!isPackableConstant(op.getDpsInputOperand(number)->get()))
    return false;
  for (AffineExpr e : op.getIndexingMapsArray()[number].getResults())
    if (auto dim = dyn_cast<AffineDimExpr>(e);
        dim && dim.getPosition() != k && dim.getPosition() != outer)
      return false;
  return true;
}
static bool hasConstantRhs(linalg::LinalgOp op, const GemmLoops &loops) {
  return hasConstantOperand(op, 1, loops.n, loops.k);
}

/// The f32 values of the constant of static shape that `value` reads,
/// directly or through reshapes (in row-major order, which they keep);
/// `splat` holds a splat's.
static std::optional<ArrayRef<float>>
constantFloats(Value value, SmallVector<float> &splat) {
  while (Operation *reshape = value.getDefiningOp()) {
    if (!isa<tensor::ExpandShapeOp, tensor::CollapseShapeOp>(reshape))
      break;
    value = reshape->getOperand(0);
  }
  auto constant = value.getDefiningOp<arith::ConstantOp>();
  auto type =
      constant ? dyn_cast<RankedTensorType>(constant.getType()) : nullptr;
  if (!type || !type.hasStaticShape() || !type.getElementType().isF32())
    return std::nullopt;
  size_t count = type.getNumElements();
  ArrayRef<char> raw;
  if (auto resource =
          dyn_cast<DenseResourceElementsAttr>(constant.getValue())) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return std::nullopt;
    raw = blob->getData();
  } else if (auto dense = dyn_cast<DenseFPElementsAttr>(constant.getValue())) {
    if (dense.isSplat()) {
      splat.assign(count, dense.getSplatValue<float>());
      return ArrayRef<float>(splat);
    }
    raw = dense.getRawData();
  } else {
    return std::nullopt;
  }
  if (raw.size() != count * sizeof(float))
    return std::nullopt;
  return ArrayRef<float>(reinterpret_cast<const float *>(raw.data()), count);
}

/// The zeros of product `op`'s constant rhs (read through its k and n
/// loops only), or nothing when it is no such constant.
static std::optional<WeightSparsity> rhsSparsity(linalg::LinalgOp op,
                                                 const GemmLoops &loops) {
  Value rhs = op.getDpsInputOperand(1)->get();
  SmallVector<float> splat;
  std::optional<ArrayRef<float>> data = constantFloats(rhs, splat);
  if (!data)
    return std::nullopt;
  ArrayRef<int64_t> shape = cast<ShapedType>(rhs.getType()).getShape();
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  int64_t k = 1, n = 1, kStride = 0, nStride = 0;
  for (auto [position, e] :
       llvm::enumerate(op.getIndexingMapsArray()[1].getResults())) {
    auto dim = dyn_cast<AffineDimExpr>(e);
    if (dim && dim.getPosition() == loops.k) {
      k = shape[position];
      kStride = strides[position];
    } else if (dim && dim.getPosition() == loops.n) {
      n = shape[position];
      nStride = strides[position];
    }
  }
  return measureWeightSparsity(*data, k, n, kStride, nStride);
}

/// The clamp that consumes product `op`'s result (through collapse_shape),
/// when fusibleEpilogue would fuse it; else null.
static linalg::LinalgOp consumingClamp(linalg::LinalgOp op) {
  Value result = op->getResult(0);
  while (result.hasOneUse()) {
    Operation *user = *result.getUsers().begin();
    if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(user)) {
      result = collapse.getResult();
      continue;
    }
    auto consumer = dyn_cast<linalg::LinalgOp>(user);
    if (consumer && consumer.hasPureTensorSemantics() &&
        consumer.getNumDpsInputs() == 1 &&
        consumer.getDpsInputOperand(0)->get() == result && matchClamp(consumer))
      return consumer;
    break;
  }
  return nullptr;
}

/// What the kernel's epilogue can take over from the ops around product
/// `op`: "addends" when its output starts as a sum of addends (a bias, bias
/// plus residual) that nothing else reads, "clamp" when its result only goes
/// (through reshapes) into an elementwise clamp, which needs an output that
/// starts as addends or zero.
static SmallVector<StringRef> fusibleEpilogue(linalg::LinalgOp op) {
  SmallVector<StringRef> fused;
  Value init = op.getDpsInitOperand(0)->get();
  while (auto expand = init.getDefiningOp<tensor::ExpandShapeOp>()) {
    if (!init.hasOneUse())
      return fused;
    init = expand.getSrc();
  }
  auto producer = init.getDefiningOp<linalg::LinalgOp>();
  if (!producer || !init.hasOneUse())
    return fused;
  bool zero = isZeroFill(producer);
  if (!zero && !isAddendSum(producer))
    return fused;
  if (!zero)
    fused.push_back("addends");
  if (consumingClamp(op))
    fused.push_back("clamp");
  return fused;
}

/// Makes a fused clamp write its input in place: it never reads its output,
/// so the result is the same, and bufferization then gives the clamped
/// values the product's own buffer, which the kernel writes once. (Into
/// some other free buffer of that shape the clamp could land on what the
/// next kernel reads, and stay unfused.)
static void clampInPlace(linalg::LinalgOp clamp) {
  OpOperand *init = clamp.getDpsInitOperand(0);
  OpOperand *input = clamp.getDpsInputOperand(0);
  if (clamp.payloadUsesValueFromOperand(init) ||
      init->get().getType() != input->get().getType() ||
      clamp.getMatchingIndexingMap(init) != clamp.getMatchingIndexingMap(input))
    return;
  init->set(input->get());
}

/// Gives the output of a convolution that pads implicitly a tensor.empty of
/// its own. Sharing one (CSE merges equal ones) lets bufferization put the
/// output where the unpadded input lay once the padded copy was taken, and
/// the kernel, which reads that input instead of the copy, would read its
/// own output.
static void privatizeOutput(linalg::LinalgOp op) {
  Value init = op.getDpsInitOperand(0)->get();
  while (auto expand = init.getDefiningOp<tensor::ExpandShapeOp>())
    init = expand.getSrc();
  auto producer = init.getDefiningOp<linalg::LinalgOp>();
  OpOperand *producerInit = producer && producer.getNumDpsInits() == 1
                                ? producer.getDpsInitOperand(0)
                                : nullptr;
  auto empty = producerInit
                   ? producerInit->get().getDefiningOp<tensor::EmptyOp>()
                   : init.getDefiningOp<tensor::EmptyOp>();
  if (!empty || empty->hasOneUse())
    return;
  OpBuilder b(producer ? producer.getOperation() : op.getOperation());
  Operation *own = b.clone(*empty);
  if (producerInit)
    producerInit->set(own->getResult(0));
  else
    op.getDpsInitOperand(0)->set(own->getResult(0));
}

/// Gives 8-bit product `op` a zero fill of its own when it shares one (CSE
/// merges equal fills): bufferization would otherwise fill one buffer and
/// copy it into every product's accumulator, and the kernel would add to
/// that copy instead of overwriting, so no epilogue could take its store.
static void privatizeZeroFill(linalg::LinalgOp op) {
  OpOperand *init = op.getDpsInitOperand(0);
  auto fill = init->get().getDefiningOp<linalg::FillOp>();
  if (!fill || fill->hasOneUse() || !isZeroFill(fill))
    return;
  auto empty = fill.getOutputs().front().getDefiningOp<tensor::EmptyOp>();
  if (!empty)
    return;
  OpBuilder b(op.getOperation());
  Operation *ownEmpty = b.clone(*empty);
  auto ownFill = linalg::FillOp::create(b, fill.getLoc(), fill.getInputs(),
                                        ownEmpty->getResults());
  init->set(ownFill.getResult(0));
}

/// What the igemm kernel's store takes over from the only user of 8-bit
/// product `op`, when the product starts from zero: "dequantize" (an f32
/// result), or after kiln-cpu-fuse-requantization "requantize" (bytes) or
/// "sum" (f32 plus a bias and a residual); else nothing.
static StringRef convertingStore(linalg::LinalgOp op) {
  Value result = op->getResult(0);
  Value init = op.getDpsInitOperand(0)->get();
  auto fill = init.getDefiningOp<linalg::FillOp>();
  if (!result.hasOneUse() || !fill || !isZeroFill(fill))
    return {};
  auto consumer = dyn_cast<linalg::LinalgOp>(*result.getUsers().begin());
  if (!consumer || !consumer.hasPureTensorSemantics() ||
      consumer.getNumDpsInputs() == 0 ||
      consumer.getDpsInputOperand(0)->get() != result)
    return {};
  if (consumer.getNumDpsInputs() == 2 && matchDequantization(consumer))
    return "dequantize";
  if (matchRequantization(consumer))
    return "requantize";
  if (matchDequantizedSum(consumer))
    return "sum";
  return {};
}

/// Whether 8-bit product `op`'s rhs is the window matrix of a convolution
/// (a kiln.im2col copy viewed as [N][C*kh*kw][OH*OW]) that nothing else
/// reads, with horizontal stride 1: the AVX-512 kernel then gathers each
/// panel's rows from where the windows lie (a few contiguous runs per row)
/// and the copy is never made. With other strides, or the other kernels'
/// narrower panels, the copy stays.
static bool readsWindowsOnce(linalg::LinalgOp op, ISA isa) {
  Value rhs = op.getDpsInputOperand(1)->get();
  auto collapse = rhs.getDefiningOp<tensor::CollapseShapeOp>();
  auto copy =
      collapse ? collapse.getSrc().getDefiningOp<linalg::LinalgOp>() : nullptr;
  std::optional<WindowCopy> window = copy && copy.hasPureTensorSemantics()
                                         ? matchWindowCopy(copy)
                                         : std::nullopt;
  return isa == ISA::AVX512 && window && window->strides[1] == 1 &&
         rhs.hasOneUse() && collapse.getSrc().hasOneUse();
}

/// Whether convolution `op` runs on the direct kernel (output channels
/// along the vector, no im2col panels) rather than as a matrix product:
/// k x k windows with some depth (c * kh * kw >= 16; MobileNetV2's stem,
/// 27 deep, took 0.16 ms direct and 0.26 ms as a product) and horizontal
/// strides of 1 or 2, for constant weights the compiler packs. 1 x 1
/// windows stay products: their input channels lie a plane apart, and
/// at 56x56 the direct kernel took twice as long.
static bool prefersDirectConv(linalg::LinalgOp op, const Conv2DLoops &conv) {
  auto weight = cast<ShapedType>(op.getDpsInputOperand(1)->get().getType());
  // [g][m][c][kh][kw]
  int64_t channels = weight.getDimSize(2), kh = weight.getDimSize(3),
          kw = weight.getDimSize(4);
  return kh * kw > 1 && channels * kh * kw >= 16 && conv.strides[1] <= 2;
}

/// Whether `op` is a linalg.transpose of f32 swapping the last two of at
/// most four dims (K^T in the attention kernel), which LLVM vectorizes as
/// gathers of one element each; the runtime transposes blocks in registers.
static bool swapsLastTwoDims(linalg::LinalgOp op) {
  auto transpose = dyn_cast<linalg::TransposeOp>(op.getOperation());
  if (!transpose ||
      !getElementTypeOrSelf(transpose.getInput().getType()).isF32())
    return false;
  ArrayRef<int64_t> perm = transpose.getPermutation();
  int64_t rank = perm.size();
  if (rank < 2 || rank > 4)
    return false;
  for (int64_t d = 0; d < rank - 2; ++d)
    if (perm[d] != d)
      return false;
  return perm[rank - 2] == rank - 1 && perm[rank - 1] == rank - 2;
}

namespace {
struct KilnCPUSelectKernelsPass
    : public kiln::impl::KilnCPUSelectKernelsBase<KilnCPUSelectKernelsPass> {
  using Base::Base;
  void runOnOperation() override {
    std::optional<ISA> target = isa == "host" ? hostISA() : parseISA(isa);
    if (!target) {
      getOperation().emitError("kiln-cpu-select-kernels: unknown isa '")
          << isa << "' (avx512, avx2, generic or host)";
      return signalPassFailure();
    }
    std::pair<int64_t, int64_t> tile = registerTile(*target);
    Builder b(&getContext());
    // `packed` names the constant operand packed at compile time.
    // The 8-bit kernel has its own register tile and no fused epilogue.
    std::pair<int64_t, int64_t> integerTile = integerRegisterTile(*target);
    std::optional<std::pair<int64_t, int64_t>> directTile =
        directConvTile(*target);
    auto decision = [&](linalg::LinalgOp op, StringRef kernel,
                        StringRef packed = {}) {
      bool integer = kernel == "igemm";
      std::pair<int64_t, int64_t> t = integer ? integerTile : tile;
      if (kernel == "sconv2d_direct")
        t = *directTile;
      if (kernel == "sgemm_sparse")
        t = sparseRegisterTile(*target);
      SmallVector<NamedAttribute> entries = {
          b.getNamedAttr("kernel", b.getStringAttr(kernel)),
          b.getNamedAttr("isa", b.getStringAttr(stringifyISA(*target)))};
      // Pooling has no register tile of accumulators.
      if (kernel != "smaxpool2d")
        entries.push_back(b.getNamedAttr(
            "register_tile", b.getDenseI64ArrayAttr({t.first, t.second})));
      if (!packed.empty())
        entries.push_back(
            b.getNamedAttr(packed, b.getStringAttr("compile-time")));
      // The depthwise and direct kernels read a zero-padded input's source
      // and add the zeros themselves: the padded tensor is never written.
      // The direct kernel copies each window that reaches outside the input
      // once per channel pair, so it pads implicitly only for a few input
      // channels (a network's stem, reading the model input): with 64-512
      // channels the copies made ResNet-50 12 % slower (42.9 against 38.3
      // ms) than the producers writing padded buffers.
      // The pooling kernel likewise skips the window elements outside its
      // input, which the ONNX node pads with -inf.
      if (((kernel == "sdwconv2d" ||
            (kernel == "sconv2d_direct" && fewInputChannels(op))) &&
           spatialZeroPadding(op.getDpsInputOperand(0)->get())) ||
          (kernel == "smaxpool2d" &&
           spatialNegInfPadding(op.getDpsInputOperand(0)->get())))
        entries.push_back(
            b.getNamedAttr("padding", b.getStringAttr("implicit")));
      SmallVector<StringRef> epilogue;
      // The weight-only kernel takes no epilogue: it adds to an output
      // that starts as the bias or residual; max pooling takes the max
      // with its output's start (the -inf fill).
      if (!integer && kernel != "sgemm_wq" && kernel != "smaxpool2d")
        epilogue = fusibleEpilogue(op);
      else if (StringRef store = convertingStore(op); !store.empty())
        epilogue.push_back(store);
      if (!epilogue.empty())
        entries.push_back(
            b.getNamedAttr("epilogue", b.getStrArrayAttr(epilogue)));
      return b.getDictionaryAttr(entries);
    };
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!op.hasPureTensorSemantics())
        return;
      if (swapsLastTwoDims(op)) {
        op->setAttr(kUKernelAttr, decision(op, "transpose"));
        return;
      }
      // MaxPool's window max.
      if (matchMaxPool2D(op)) {
        op->setAttr(kUKernelAttr, decision(op, "smaxpool2d"));
        return;
      }
      if (std::optional<IGemm> integer = matchIGemm(op)) {
        privatizeZeroFill(op);
        // A constant rhs is packed at compile time; else a constant lhs
        // (a convolution's weights, multiplying its windows from the left).
        StringRef packed =
            hasConstantRhs(op, integer->loops) ? "pack_rhs"
            : hasConstantOperand(op, 0, integer->loops.m, integer->loops.k)
                ? "pack_lhs"
                : "";
        DictionaryAttr chosen = decision(op, "igemm", packed);
        if (readsWindowsOnce(op, *target)) {
          NamedAttrList entries(chosen);
          entries.set("rhs", b.getStringAttr("windows"));
          chosen = entries.getDictionary(&getContext());
        }
        op->setAttr(kUKernelAttr, chosen);
      } else if (std::optional<WeightOnlyGemm> weightOnly =
                     matchWeightOnlyGemm(op);
                 weightOnly && weightOnly->loops.batch.size() <= 2 &&
                 hasConstantOperand(op, 1, weightOnly->loops.k,
                                    weightOnly->loops.n) &&
                 isPackableConstant(op.getDpsInputOperand(2)->get()) &&
                 (!weightOnly->zeroPoints ||
                  isPackableConstant(op.getDpsInputOperand(3)->get()))) {
        // The integer weights, their scales and zero points are packed at
        // compile time (panels of 16 columns); the kernel dequantizes in
        // registers.
        privatizeZeroFill(op);
        op->setAttr(kUKernelAttr, decision(op, "sgemm_wq", "pack_rhs"));
      } else if (std::optional<GemmLoops> loops = matchGemm(op)) {
        // A constant rhs with enough zero blocks runs on the block-sparse
        // kernel when the cost model says it saves time.
        bool constant = hasConstantRhs(op, *loops);
        std::optional<WeightSparsity> zeros =
            constant ? rhsSparsity(op, *loops) : std::nullopt;
        double ratio = zeros ? sparseTimeRatio(*target, *zeros) : 1.0;
        bool useSparse = sparse && zeros && ratio <= kSparseTimeRatioLimit;
        DictionaryAttr chosen =
            decision(op, useSparse ? "sgemm_sparse" : "sgemm",
                     constant ? "pack_rhs" : "");
        // The numbers behind the choice, for weights with notable zeros
        // (the compile report lists them).
        if (zeros && (zeros->zeroElementShare() >= 0.25 ||
                      zeros->zeroBlockShare() >= 0.1)) {
          NamedAttrList entries(chosen);
          entries.set("zero_weights",
                      b.getF64FloatAttr(zeros->zeroElementShare()));
          entries.set("zero_blocks",
                      b.getF64FloatAttr(zeros->zeroBlockShare()));
          entries.set("sparse_time_ratio", b.getF64FloatAttr(ratio));
          // The cost model's choice, overruled by sparse=false.
          if (!sparse && ratio <= kSparseTimeRatioLimit)
            entries.set("sparse_kernel", b.getStringAttr("off"));
          chosen = entries.getDictionary(&getContext());
        }
        op->setAttr(kUKernelAttr, chosen);
      } else if (std::optional<Conv2DLoops> conv = matchConv2D(op)) {
        bool depthwise = isDepthwise(op);
        bool constant = isPackableConstant(op.getDpsInputOperand(1)->get());
        op->setAttr(
            kUKernelAttr,
            depthwise ? decision(op, "sdwconv2d")
            : constant && directTile && prefersDirectConv(op, *conv)
                ? decision(op, "sconv2d_direct", "pack_weights")
                : decision(op, "sconv2d", constant ? "pack_weights" : ""));
      }
    });
    // Attention that convert-kiln-to-linalg kept whole for the fused kernel
    // (runtime/cpu/attention.c): only its instruction set is chosen here.
    // It has AVX-512, AVX2 and plain C bodies.
    getOperation().walk([&](FlashAttentionOp op) {
      op->setAttr(
          kUKernelAttr,
          b.getDictionaryAttr(
              {b.getNamedAttr("kernel", b.getStringAttr("sattention")),
               b.getNamedAttr("isa", b.getStringAttr(stringifyISA(*target)))}));
    });
    // Fused clamps run in place (after the walk: it changes their operands).
    getOperation().walk([&](linalg::LinalgOp op) {
      auto decision = op->getAttrOfType<DictionaryAttr>(kUKernelAttr);
      auto epilogue =
          decision ? decision.getAs<ArrayAttr>("epilogue") : nullptr;
      if (epilogue &&
          llvm::is_contained(epilogue.getValue(),
                             StringAttr::get(&getContext(), "clamp")))
        if (linalg::LinalgOp clamp = consumingClamp(op))
          clampInPlace(clamp);
      if (padsImplicitly(op))
        privatizeOutput(op);
    });
  }
};
} // namespace
