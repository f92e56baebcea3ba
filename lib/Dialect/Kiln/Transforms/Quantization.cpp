//===- Quantization.cpp - integer products and the (de)quantize ops -------===//
//
// kiln-quantize-contractions finds products of dequantized 8-bit tensors and
// computes them on the integers; kiln-quantize-int8 quantizes float
// products with constant weights (weights now, activations at run time);
// kiln-decompose-quantization then spells out the quantize/dequantize ops
// that are left with arithmetic.
//
//===----------------------------------------------------------------------===//

#include "GraphUtils.h"

#include "kiln/Dialect/Kiln/Transforms/Passes.h"
#include "kiln/Support/DotProduct.h"

#include "mlir/IR/DialectResourceBlobManager.h"
#include "mlir/IR/Threading.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace kiln {
#define GEN_PASS_DEF_KILNQUANTIZECONTRACTIONS
#define GEN_PASS_DEF_KILNQUANTIZEINT8
#define GEN_PASS_DEF_KILNQUANTIZEWEIGHTS
#define GEN_PASS_DEF_KILNDECOMPOSEQUANTIZATION
#include "kiln/Dialect/Kiln/Transforms/Passes.h.inc"
} // namespace kiln

using namespace mlir;
using namespace kiln;
using namespace kiln::graph;

static int64_t rankOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getRank();
}

static Type elementOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getElementType();
}

/// A rank-0 kiln.constant of `element` holding `value`.
static Value scalarConstant(OpBuilder &b, Location loc, Type element,
                            double value) {
  auto type = RankedTensorType::get({}, element);
  Attribute attr =
      isa<FloatType>(element)
          ? DenseElementsAttr::get(type, b.getFloatAttr(element, value))
          : DenseElementsAttr::get(
                type, APInt(element.getIntOrFloatBitWidth(),
                            static_cast<uint64_t>(static_cast<int64_t>(value)),
                            /*isSigned=*/true, /*implicitTrunc=*/true));
  return ConstantOp::create(b, loc, cast<ElementsAttr>(attr));
}

/// Whether a scale or zero point holds one value (rank 0, or one element).
static bool isPerTensor(Value param) {
  if (!param)
    return true;
  auto type = cast<RankedTensorType>(param.getType());
  return type.getRank() == 0 ||
         (type.getRank() == 1 && type.getDimSize(0) == 1);
}

//===----------------------------------------------------------------------===//
// kiln-quantize-contractions
//===----------------------------------------------------------------------===//

/// The dequantization of 8-bit data that `v` is, or null.
static DequantizeLinearOp dequantizedInt8(Value v) {
  auto dq = v.getDefiningOp<DequantizeLinearOp>();
  if (!dq || elementOf(dq.getInput()).getIntOrFloatBitWidth() != 8 ||
      !elementOf(dq.getScale()).isF32())
    return nullptr;
  return dq;
}

/// Whether the rhs dequantization `dq` is per tensor, or per column of the
/// product: along dim `columnAxis` of its input.
static bool isPerColumn(DequantizeLinearOp dq, int64_t columnAxis) {
  if (isPerTensor(dq.getScale()) && isPerTensor(dq.getZeroPoint()))
    return true;
  return dq.getAxis() == columnAxis && rankOf(dq.getScale()) == 1 &&
         (!dq.getZeroPoint() || rankOf(dq.getZeroPoint()) == 1);
}

/// `param` (a scale or zero point of one value) as a scalar.
static Value asScalar(PatternRewriter &rewriter, Location loc, Value param) {
  if (!param || rankOf(param) == 0)
    return param;
  return ReshapeOp::create(
      rewriter, loc, param,
      ConstantOp::create(rewriter, loc,
                         cast<ElementsAttr>(DenseElementsAttr::get(
                             RankedTensorType::get({0}, rewriter.getI64Type()),
                             ArrayRef<int64_t>{}))));
}

/// The 8-bit constant `v` transposed ([N, K] to [K, N]), or null when `v`
/// is not a constant whose bytes are at hand.
static Value transposedConstant(PatternRewriter &rewriter, Location loc,
                                Value v) {
  auto constant = v.getDefiningOp<ConstantOp>();
  auto type = cast<RankedTensorType>(v.getType());
  if (!constant || type.getRank() != 2 || !type.hasStaticShape())
    return nullptr;
  int64_t rows = type.getDimSize(0), cols = type.getDimSize(1);
  ArrayRef<char> bytes;
  Attribute value = constant.getValue();
  if (auto dense = dyn_cast<DenseElementsAttr>(value)) {
    if (dense.isSplat()) {
      auto transposed =
          RankedTensorType::get({cols, rows}, type.getElementType());
      return ConstantOp::create(rewriter, loc,
                                cast<ElementsAttr>(dense.reshape(transposed)));
    }
    bytes = dense.getRawData();
  } else if (auto resource = dyn_cast<DenseResourceElementsAttr>(value)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob)
      return nullptr;
    bytes = blob->getData();
  }
  if (static_cast<int64_t>(bytes.size()) != rows * cols)
    return nullptr;
  SmallVector<int8_t> data(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      data[c * rows + r] = static_cast<int8_t>(bytes[r * cols + c]);
  auto transposed = RankedTensorType::get({cols, rows}, type.getElementType());
  if (rows * cols <= kMaxFoldElements)
    return ConstantOp::create(
        rewriter, loc,
        cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(
            transposed,
            ArrayRef<char>(reinterpret_cast<const char *>(data.data()),
                           data.size()))));
  auto attr = DenseResourceElementsAttr::get(
      transposed, constantName(v) + "_transposed",
      HeapAsmResourceBlob::allocateAndCopyInferAlign(ArrayRef<int8_t>(data)));
  return ConstantOp::create(rewriter, loc, cast<ElementsAttr>(attr));
}

/// The integer product of two dequantized operands (`b` already [.., K, N]),
/// dequantized by `alpha` times the product of their scales.
static Value integerProduct(PatternRewriter &rewriter, Location loc,
                            DequantizeLinearOp a, Value qb, Value bScale,
                            Value bZeroPoint, double alpha) {
  Value aZeroPoint = asScalar(rewriter, loc, a.getZeroPoint());
  // A per-column zero point is the [N] vector matmul_integer takes; one of
  // a single value is a scalar.
  if (bZeroPoint && isPerTensor(bZeroPoint))
    bZeroPoint = asScalar(rewriter, loc, bZeroPoint);
  auto product = MatMulIntegerOp::create(rewriter, loc, a.getInput(), qb,
                                         aZeroPoint, bZeroPoint);
  Value scale = MulOp::create(rewriter, loc,
                              asScalar(rewriter, loc, a.getScale()), bScale);
  if (alpha != 1)
    scale = MulOp::create(
        rewriter, loc, scale,
        scalarConstant(rewriter, loc, rewriter.getF32Type(), alpha));
  int64_t rank = rankOf(product);
  return DequantizeLinearOp::create(rewriter, loc, product, scale, Value(),
                                    rank - 1);
}

/// The exact product of 2-D convolution `op` (no groups) over 8-bit data, as
/// a matrix product over im2col patches laid out so that nothing is
/// transposed: the quantized input `xq` ([N, C, H, W]), padded with its
/// zero point `xZeroPoint` (a scalar, or null for 0), gives its windows'
/// columns [N, C*kh*kw, OH*OW] (kiln.im2col; a 1 x 1, stride 1 window is
/// `xq` itself, viewed so); the
/// [M, C*kh*kw] weight `wq` (zero point `wZeroPoint`: null, a scalar or
/// [M]) multiplies it from the left. Returns the [N, M, OH*OW] i32
/// accumulator, which is NCHW in memory; null when a spatial size is not
/// static.
static Value im2colProduct(PatternRewriter &rewriter, ConvOp op, Value xq,
                           Value xZeroPoint, Value wq, Value wZeroPoint) {
  Location loc = op.getLoc();
  auto inputType = cast<RankedTensorType>(xq.getType());
  auto weightType = cast<RankedTensorType>(op.getWeight().getType());
  auto resultType = cast<RankedTensorType>(op.getType());
  int64_t c = inputType.getDimSize(1);
  int64_t kh = weightType.getDimSize(2), kw = weightType.getDimSize(3);
  int64_t oh = resultType.getDimSize(2), ow = resultType.getDimSize(3);
  if (ShapedType::isDynamic(c) || ShapedType::isDynamic(kh) ||
      ShapedType::isDynamic(kw) || ShapedType::isDynamic(oh) ||
      ShapedType::isDynamic(ow))
    return Value();
  auto ints = [&](ArrayRef<int64_t> values) -> Value {
    return ConstantOp::create(
        rewriter, loc,
        cast<ElementsAttr>(DenseElementsAttr::get(
            RankedTensorType::get({static_cast<int64_t>(values.size())},
                                  rewriter.getI64Type()),
            values)));
  };
  ArrayRef<int64_t> pads = op.getPads(), strides = op.getStrides(),
                    dilations = op.getDilations();
  Value padded = xq;
  if (llvm::any_of(pads, [](int64_t p) { return p != 0; }))
    padded = PadOp::create(
        rewriter, loc, xq,
        ints({0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]}),
        xZeroPoint ? xZeroPoint
                   : scalarConstant(rewriter, loc, elementOf(xq), 0),
        rewriter.getStringAttr("constant"));
  // A 1 x 1, stride 1 window reads the input as it is.
  Value cols;
  if (kh == 1 && kw == 1 && strides[0] == 1 && strides[1] == 1)
    cols = ReshapeOp::create(rewriter, loc, padded, ints({0, c, oh * ow}));
  else
    cols = Im2ColOp::create(rewriter, loc, padded,
                            rewriter.getDenseI64ArrayAttr({kh, kw}),
                            rewriter.getDenseI64ArrayAttr(strides),
                            rewriter.getDenseI64ArrayAttr(dilations));
  return MatMulIntegerOp::create(rewriter, loc, wq, cols, wZeroPoint,
                                 xZeroPoint);
}

/// `y` ([N, M, OH*OW]) as conv `op`'s NCHW result, plus its bias.
static Value convResult(PatternRewriter &rewriter, ConvOp op, Value y) {
  Location loc = op.getLoc();
  auto resultType = cast<RankedTensorType>(op.getType());
  int64_t m = resultType.getDimSize(1), oh = resultType.getDimSize(2),
          ow = resultType.getDimSize(3);
  Value shape =
      ConstantOp::create(rewriter, loc,
                         cast<ElementsAttr>(DenseElementsAttr::get(
                             RankedTensorType::get({4}, rewriter.getI64Type()),
                             ArrayRef<int64_t>{0, m, oh, ow})));
  y = ReshapeOp::create(rewriter, loc, y, shape);
  if (Value bias = op.getBias())
    y = AddOp::create(
        rewriter, loc, y,
        UnsqueezeOp::create(rewriter, loc, bias,
                            rewriter.getDenseI64ArrayAttr({1, 2})));
  return y;
}

namespace {
struct QuantizeMatMul : OpRewritePattern<MatMulOp> {
  QuantizeMatMul(MLIRContext *context, int64_t &count)
      : OpRewritePattern(context), count(count) {}
  LogicalResult matchAndRewrite(MatMulOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getBias() || op.getResidual() || op.getActivation() != "none")
      return failure();
    DequantizeLinearOp a = dequantizedInt8(op.getLhs());
    DequantizeLinearOp b = dequantizedInt8(op.getRhs());
    if (!a || !b || !isPerTensor(a.getScale()) ||
        !isPerTensor(a.getZeroPoint()) || rankOf(b.getInput()) < 2 ||
        rankOf(a.getInput()) < 2 || !isPerColumn(b, rankOf(b.getInput()) - 1))
      return failure();
    Value bScale = b.getScale();
    if (isPerTensor(bScale))
      bScale = asScalar(rewriter, op.getLoc(), bScale);
    rewriter.replaceOp(op,
                       integerProduct(rewriter, op.getLoc(), a, b.getInput(),
                                      bScale, b.getZeroPoint(), 1.0));
    ++count;
    return success();
  }
  int64_t &count;
};

struct QuantizeGemm : OpRewritePattern<GemmOp> {
  QuantizeGemm(MLIRContext *context, int64_t &count)
      : OpRewritePattern(context), count(count) {}
  LogicalResult matchAndRewrite(GemmOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getTransA() || op.getResidual() || op.getActivation() != "none")
      return failure();
    DequantizeLinearOp a = dequantizedInt8(op.getA());
    DequantizeLinearOp b = dequantizedInt8(op.getB());
    bool transB = op.getTransB();
    if (!a || !b || !isPerTensor(a.getScale()) ||
        !isPerTensor(a.getZeroPoint()) || !isPerColumn(b, transB ? 0 : 1))
      return failure();
    Location loc = op.getLoc();
    Value qb = b.getInput();
    if (transB) {
      qb = transposedConstant(rewriter, loc, qb);
      if (!qb)
        qb = TransposeOp::create(rewriter, loc, b.getInput(),
                                 rewriter.getDenseI64ArrayAttr({1, 0}));
    }
    Value bScale = b.getScale();
    if (isPerTensor(bScale))
      bScale = asScalar(rewriter, loc, bScale);
    Value y = integerProduct(rewriter, loc, a, qb, bScale, b.getZeroPoint(),
                             op.getAlphaAttr().getValueAsDouble());
    double beta = op.getBetaAttr().getValueAsDouble();
    if (Value c = op.getC(); c && beta != 0) {
      if (beta != 1)
        c = MulOp::create(rewriter, loc, c,
                          scalarConstant(rewriter, loc, elementOf(c), beta));
      y = AddOp::create(rewriter, loc, y, c);
    }
    rewriter.replaceOp(op, y);
    ++count;
    return success();
  }
  int64_t &count;
};

/// conv(DQ(x), DQ(w)) with 8-bit x (per tensor) and a constant 8-bit
/// weight (per tensor or per output channel): the im2col product of the
/// integers, dequantized per output channel by the product of the scales,
/// then the bias. Ungrouped 2-D convolutions with static sizes only.
struct QuantizeConv : OpRewritePattern<ConvOp> {
  QuantizeConv(MLIRContext *context, int64_t &count)
      : OpRewritePattern(context), count(count) {}
  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getResidual() || op.getActivation() != "none" || op.getGroup() != 1)
      return failure();
    DequantizeLinearOp x = dequantizedInt8(op.getInput());
    DequantizeLinearOp w = dequantizedInt8(op.getWeight());
    if (!x || !w || rankOf(x.getInput()) != 4 || rankOf(w.getInput()) != 4 ||
        !isPerTensor(x.getScale()) || !isPerTensor(x.getZeroPoint()) ||
        !w.getInput().getDefiningOp<ConstantOp>() || !isPerColumn(w, 0))
      return failure();
    auto weightType = cast<RankedTensorType>(w.getInput().getType());
    if (!weightType.hasStaticShape())
      return failure();
    Location loc = op.getLoc();
    int64_t m = weightType.getDimSize(0);
    Value wq = ReshapeOp::create(
        rewriter, loc, w.getInput(),
        ConstantOp::create(
            rewriter, loc,
            cast<ElementsAttr>(DenseElementsAttr::get(
                RankedTensorType::get({2}, rewriter.getI64Type()),
                ArrayRef<int64_t>{m, -1}))));
    Value wZeroPoint = w.getZeroPoint();
    if (wZeroPoint && isPerTensor(wZeroPoint))
      wZeroPoint = asScalar(rewriter, loc, wZeroPoint);
    Value acc = im2colProduct(rewriter, op, x.getInput(),
                              asScalar(rewriter, loc, x.getZeroPoint()), wq,
                              wZeroPoint);
    if (!acc)
      return failure();
    Value wScale = w.getScale();
    if (isPerTensor(wScale))
      wScale = asScalar(rewriter, loc, wScale);
    Value scale = MulOp::create(rewriter, loc,
                                asScalar(rewriter, loc, x.getScale()), wScale);
    Value y = DequantizeLinearOp::create(rewriter, loc, acc, scale, Value(), 1);
    rewriter.replaceOp(op, convResult(rewriter, op, y));
    ++count;
    return success();
  }
  int64_t &count;
};

/// Data movement of a per-tensor dequantized value moves the integers
/// instead: reshape(dequantize(q)) = dequantize(reshape(q)), so that the
/// products after it see the dequantization and the data moves in 8 bits.
struct DequantizeAfterDataMovement : RewritePattern {
  DequantizeAfterDataMovement(MLIRContext *context)
      : RewritePattern(MatchAnyOpTypeTag(), /*benefit=*/1, context) {}
  LogicalResult matchAndRewrite(Operation *op,
                                PatternRewriter &rewriter) const override {
    if (!isa<ReshapeOp, FlattenOp, SqueezeOp, UnsqueezeOp, TransposeOp>(op))
      return failure();
    auto dq = op->getOperand(0).getDefiningOp<DequantizeLinearOp>();
    if (!dq || !dq->hasOneUse() || !isPerTensor(dq.getScale()) ||
        !isPerTensor(dq.getZeroPoint()))
      return failure();
    Location loc = op->getLoc();
    auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
    OperationState state(loc, op->getName());
    state.addOperands(dq.getInput());
    state.addOperands(op->getOperands().drop_front());
    state.addAttributes(op->getAttrs());
    state.addTypes(resultType.clone(elementOf(dq.getInput())));
    Operation *moved = rewriter.create(state);
    rewriter.replaceOpWithNewOp<DequantizeLinearOp>(
        op, moved->getResult(0), asScalar(rewriter, loc, dq.getScale()),
        asScalar(rewriter, loc, dq.getZeroPoint()), /*axis=*/0);
    return success();
  }
};

struct KilnQuantizeContractionsPass
    : public kiln::impl::KilnQuantizeContractionsBase<
          KilnQuantizeContractionsPass> {
  void runOnOperation() override {
    int64_t count = 0;
    RewritePatternSet patterns(&getContext());
    patterns.add<QuantizeMatMul, QuantizeGemm, QuantizeConv>(&getContext(),
                                                             count);
    patterns.add<DequantizeAfterDataMovement>(&getContext());
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    numQuantized += count;
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// kiln-quantize-int8
//===----------------------------------------------------------------------===//

/// Whether `weight` is what kiln-quantize-int8 quantizes: a constant 2-D
/// (or a 2-D convolution's 4-D) f32 tensor of at least `minElements`
/// elements.
static bool isQuantizableWeight(Value weight, int64_t minElements) {
  auto type = cast<RankedTensorType>(weight.getType());
  return (type.getRank() == 2 || type.getRank() == 4) &&
         type.hasStaticShape() && type.getElementType().isF32() &&
         type.getNumElements() >= minElements &&
         weight.getDefiningOp<ConstantOp>();
}

/// Whether kiln-quantize-int8 computes conv `op` as an int8 product: a 2-D,
/// ungrouped convolution of an f32 input with static channels and spatial
/// dims, and a quantizable constant weight.
static bool isQuantizableConv(ConvOp op, int64_t minElements) {
  auto input = cast<RankedTensorType>(op.getInput().getType());
  return input.getRank() == 4 && input.getElementType().isF32() &&
         op.getGroup() == 1 && !input.isDynamicDim(1) &&
         !input.isDynamicDim(2) && !input.isDynamicDim(3) &&
         isQuantizableWeight(op.getWeight(), minElements);
}

SmallVector<std::pair<Operation *, Value>>
kiln::int8QuantizableProducts(func::FuncOp func, int64_t minWeightElements,
                              bool convolutions) {
  SmallVector<std::pair<Operation *, Value>> products;
  func.walk([&](Operation *op) {
    if (auto matmul = dyn_cast<MatMulOp>(op)) {
      if (elementOf(matmul.getLhs()).isF32() && rankOf(matmul.getRhs()) == 2 &&
          isQuantizableWeight(matmul.getRhs(), minWeightElements))
        products.push_back({op, matmul.getLhs()});
    } else if (auto conv = dyn_cast<ConvOp>(op)) {
      if (convolutions && isQuantizableConv(conv, minWeightElements))
        products.push_back({op, conv.getInput()});
    } else if (auto gemm = dyn_cast<GemmOp>(op)) {
      if (!gemm.getTransA() && elementOf(gemm.getA()).isF32() &&
          rankOf(gemm.getB()) == 2 &&
          isQuantizableWeight(gemm.getB(), minWeightElements))
        products.push_back({op, gemm.getA()});
    }
  });
  return products;
}

bool kiln::isWeightOnlyProduct(MatMulOp op, int64_t minWeightElements,
                               int64_t group) {
  Value weight = op.getRhs();
  if (!elementOf(op.getLhs()).isF32() || rankOf(weight) != 2 ||
      !isQuantizableWeight(weight, minWeightElements))
    return false;
  int64_t k = cast<RankedTensorType>(weight.getType()).getDimSize(0);
  return group > 0 && k % group == 0;
}

/// A constant weight quantized symmetric int8 per output column, into
/// [-range, range]: the [K, N] int8 values (transposed from [N, K] when
/// `transposed`; laid out [N, K] instead with `outputsFirst`) and the N
/// scales.
struct QuantizedWeight {
  Value values, scales;
};

static std::optional<QuantizedWeight>
quantizeWeight(PatternRewriter &rewriter, Location loc, Value weight,
               bool transposed, int64_t minElements, int64_t range,
               bool outputsFirst = false) {
  auto type = cast<RankedTensorType>(weight.getType());
  // A convolution's [M, C, kh, kw] weight is the transposed [M, C*kh*kw].
  bool conv = type.getRank() == 4 && transposed;
  if ((type.getRank() != 2 && !conv) || !type.hasStaticShape() ||
      !type.getElementType().isF32() || type.getNumElements() < minElements)
    return std::nullopt;
  std::optional<SmallVector<double>> data = getConstantFloats(weight);
  if (!data)
    return std::nullopt;
  int64_t rows = type.getDimSize(0), cols = type.getNumElements() / rows;
  int64_t k = transposed ? cols : rows;
  int64_t n = transposed ? rows : cols;
  auto at = [&](int64_t kk, int64_t nn) {
    return (*data)[transposed ? nn * k + kk : kk * n + nn];
  };
  SmallVector<double> scales(n);
  SmallVector<int8_t> values(k * n);
  for (int64_t nn = 0; nn < n; ++nn) {
    double largest = 0;
    for (int64_t kk = 0; kk < k; ++kk)
      largest = std::max(largest, std::fabs(at(kk, nn)));
    // An all-zero column quantizes to zeros with any scale.
    double limit = static_cast<double>(range);
    double scale = largest > 0 ? largest / limit : 1.0;
    scales[nn] = scale;
    for (int64_t kk = 0; kk < k; ++kk)
      values[outputsFirst ? nn * k + kk : kk * n + nn] = static_cast<int8_t>(
          std::clamp(std::nearbyint(at(kk, nn) / scale), -limit, limit));
  }
  std::string name = constantName(weight) + "_int8";
  auto valuesType = RankedTensorType::get(
      outputsFirst ? ArrayRef<int64_t>{n, k} : ArrayRef<int64_t>{k, n},
      IntegerType::get(rewriter.getContext(), 8));
  ElementsAttr valuesAttr =
      k * n <= kMaxFoldElements
          ? cast<ElementsAttr>(DenseElementsAttr::getFromRawBuffer(
                valuesType,
                ArrayRef<char>(reinterpret_cast<const char *>(values.data()),
                               values.size())))
          : cast<ElementsAttr>(DenseResourceElementsAttr::get(
                valuesType, name,
                HeapAsmResourceBlob::allocateAndCopyInferAlign(
                    ArrayRef<int8_t>(values))));
  Value q = ConstantOp::create(rewriter, loc, valuesAttr);
  Value s = createFloatConstant(
      rewriter, loc, RankedTensorType::get({n}, rewriter.getF32Type()), scales,
      name + "_scales");
  return QuantizedWeight{q, s};
}

/// `x` quantized to uint8 at run time: its range [min(x, 0), max(x, 0)]
/// mapped onto [0, 255]. Returns (quantized, scale, zero point).
static std::tuple<Value, Value, Value>
quantizeActivation(PatternRewriter &rewriter, Location loc, Value x) {
  Type f32 = rewriter.getF32Type();
  Type u8 = IntegerType::get(rewriter.getContext(), 8, IntegerType::Unsigned);
  // Over the last dim first, then over what is left: the first reduction
  // runs in parallel over the rows (one over every element is one loop).
  int64_t rank = rankOf(x);
  auto all = [&](auto opTag) {
    using OpTy = decltype(opTag);
    Value v = x;
    if (rank >= 2)
      v = OpTy::create(rewriter, loc, v,
                       rewriter.getDenseI64ArrayAttr({rank - 1}),
                       /*keepdims=*/false);
    return OpTy::create(rewriter, loc, v, rewriter.getDenseI64ArrayAttr({}),
                        /*keepdims=*/false)
        .getResult();
  };
  Value zero = scalarConstant(rewriter, loc, f32, 0);
  Value lo = MinOp::create(rewriter, loc, all(ReduceMinOp()), zero);
  Value hi = MaxOp::create(rewriter, loc, all(ReduceMaxOp()), zero);
  // A tensor of zeros gets a tiny scale instead of 0 (no division by 0).
  Value scale = MaxOp::create(
      rewriter, loc,
      DivOp::create(rewriter, loc, SubOp::create(rewriter, loc, hi, lo),
                    scalarConstant(rewriter, loc, f32, 255)),
      scalarConstant(rewriter, loc, f32, 1e-30));
  Value zeroPoint = RoundOp::create(
      rewriter, loc,
      DivOp::create(rewriter, loc, NegOp::create(rewriter, loc, lo), scale));
  zeroPoint = MinOp::create(rewriter, loc,
                            MaxOp::create(rewriter, loc, zeroPoint, zero),
                            scalarConstant(rewriter, loc, f32, 255));
  zeroPoint = CastOp::create(rewriter, loc, zeroPoint, TypeAttr::get(u8));
  Value q = QuantizeLinearOp::create(rewriter, loc, x, scale, zeroPoint,
                                     /*axis=*/0, TypeAttr::get(u8));
  return {q, scale, zeroPoint};
}

/// `x` quantized to uint8 with the constant scale and zero point that map
/// the calibrated range [lo, hi] (widened to include 0) onto [0, 255].
static std::tuple<Value, Value, Value>
quantizeCalibrated(PatternRewriter &rewriter, Location loc, Value x, double lo,
                   double hi) {
  Type f32 = rewriter.getF32Type();
  Type u8 = IntegerType::get(rewriter.getContext(), 8, IntegerType::Unsigned);
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  double scale = std::max((hi - lo) / 255.0, 1e-30);
  double zeroPoint = std::clamp(std::nearbyint(-lo / scale), 0.0, 255.0);
  Value s = scalarConstant(rewriter, loc, f32, static_cast<float>(scale));
  Value z = scalarConstant(rewriter, loc, u8, zeroPoint);
  Value q = QuantizeLinearOp::create(rewriter, loc, x, s, z, /*axis=*/0,
                                     TypeAttr::get(u8));
  return {q, s, z};
}

/// The activation of a contraction's epilogue applied to `x` as its own op.
static Value applyActivation(PatternRewriter &rewriter, Location loc, Value x,
                             StringRef activation, ArrayRef<float> params) {
  Type f32 = elementOf(x);
  if (activation == "none")
    return x;
  if (activation == "relu")
    return ReluOp::create(rewriter, loc, x);
  if (activation == "sigmoid")
    return SigmoidOp::create(rewriter, loc, x);
  if (activation == "tanh")
    return TanhOp::create(rewriter, loc, x);
  if (activation == "hard_swish")
    return HardSwishOp::create(rewriter, loc, x);
  if (activation == "gelu" || activation == "gelu_tanh")
    return GeluOp::create(
        rewriter, loc, x,
        rewriter.getStringAttr(activation == "gelu" ? "none" : "tanh"));
  if (activation == "silu")
    return MulOp::create(rewriter, loc, x, SigmoidOp::create(rewriter, loc, x));
  if (activation == "leaky_relu")
    return LeakyReluOp::create(rewriter, loc, x,
                               rewriter.getF32FloatAttr(params[0]));
  assert(activation == "clip" && "an epilogue activation");
  return ClipOp::create(rewriter, loc, x,
                        scalarConstant(rewriter, loc, f32, params[0]),
                        scalarConstant(rewriter, loc, f32, params[1]));
}

namespace {
/// What kiln-quantize-int8 does to a product, shared by matmul and gemm.
struct Int8Quantizer {
  int64_t minElements, range;
  bool dynamic;
  int64_t &count;

  /// Whether `op`'s activation gets a range: calibrated, or at run time.
  bool hasRange(Operation *op) const {
    return op->hasAttr(kCalibrationAttr) || dynamic;
  }

  /// `x` quantized with `op`'s calibrated range, else at run time.
  static std::tuple<Value, Value, Value> activation(PatternRewriter &rewriter,
                                                    Operation *op, Value x) {
    auto calibration = op->getAttrOfType<DenseF32ArrayAttr>(kCalibrationAttr);
    return calibration ? quantizeCalibrated(rewriter, op->getLoc(), x,
                                            calibration[0], calibration[1])
                       : quantizeActivation(rewriter, op->getLoc(), x);
  }

  /// The int8 product of activation `x` (the op's calibrated range, else
  /// its run-time range when dynamic) and constant `weight` ([K, N], or
  /// [N, K] when `transposed`), dequantized by `alpha` times the scales:
  /// null when the op does not qualify.
  Value product(PatternRewriter &rewriter, Operation *op, Value x, Value weight,
                bool transposed, double alpha) const {
    if (!hasRange(op) || !elementOf(x).isF32() || rankOf(x) < 1 ||
        rankOf(weight) != 2 || !isQuantizableWeight(weight, minElements))
      return Value();
    Location loc = op->getLoc();
    std::optional<QuantizedWeight> w =
        quantizeWeight(rewriter, loc, weight, transposed, minElements, range);
    if (!w)
      return Value();
    auto [xq, scale, zeroPoint] = activation(rewriter, op, x);
    Value acc = MatMulIntegerOp::create(rewriter, loc, xq, w->values, zeroPoint,
                                        Value());
    Value s = MulOp::create(rewriter, loc, scale, w->scales);
    if (alpha != 1)
      s = MulOp::create(
          rewriter, loc, s,
          scalarConstant(rewriter, loc, rewriter.getF32Type(), alpha));
    ++count;
    return DequantizeLinearOp::create(rewriter, loc, acc, s, Value(),
                                      rankOf(acc) - 1);
  }

  /// `y` plus the epilogue of contraction `op`: residual, then activation.
  static Value finish(PatternRewriter &rewriter, Location loc, Value y,
                      Value residual, StringRef activation,
                      ArrayRef<float> params) {
    if (residual)
      y = AddOp::create(rewriter, loc, y, residual);
    return applyActivation(rewriter, loc, y, activation, params);
  }
};

struct QuantizeMatMulInt8 : OpRewritePattern<MatMulOp> {
  QuantizeMatMulInt8(MLIRContext *context, const Int8Quantizer &quantizer)
      : OpRewritePattern(context), quantizer(quantizer) {}
  LogicalResult matchAndRewrite(MatMulOp op,
                                PatternRewriter &rewriter) const override {
    Value y = quantizer.product(rewriter, op, op.getLhs(), op.getRhs(),
                                /*transposed=*/false, 1.0);
    if (!y)
      return failure();
    if (op.getBias())
      y = AddOp::create(rewriter, op.getLoc(), y, op.getBias());
    rewriter.replaceOp(op, Int8Quantizer::finish(
                               rewriter, op.getLoc(), y, op.getResidual(),
                               op.getActivation(), op.getActivationParams()));
    return success();
  }
  const Int8Quantizer &quantizer;
};

/// The fewest output channels times window positions for which a
/// convolution is quantized with a run-time (dynamic) range.
static constexpr int64_t kMinDynamicConvIntensity = 128;

/// An ungrouped 2-D convolution as an int8 im2col product (with the
/// `convolutions` option; see im2colProduct), dequantized per output
/// channel, then the bias, residual and activation.
struct QuantizeConvInt8 : OpRewritePattern<ConvOp> {
  QuantizeConvInt8(MLIRContext *context, const Int8Quantizer &quantizer)
      : OpRewritePattern(context), quantizer(quantizer) {}
  LogicalResult matchAndRewrite(ConvOp op,
                                PatternRewriter &rewriter) const override {
    if (!isQuantizableConv(op, quantizer.minElements) ||
        !quantizer.hasRange(op))
      return failure();
    // With the range measured at run time, a convolution needs enough
    // multiply-adds per input element (output channels times window area)
    // to pay for the two reductions over its input: MobileNetV2's
    // projections (16-96 channels, 1 x 1) made int8-dynamic 10 % slower
    // than fp32; with them in float it is faster (5.5 -> 4.8 ms), and
    // ResNet-50, whose smallest have 64, loses 3 %.
    auto weightType = cast<RankedTensorType>(op.getWeight().getType());
    if (!op->hasAttr(kCalibrationAttr) && weightType.getDimSize(0) *
                                                  weightType.getDimSize(2) *
                                                  weightType.getDimSize(3) <
                                              kMinDynamicConvIntensity)
      return failure();
    auto resultType = cast<RankedTensorType>(op.getType());
    if (ShapedType::isDynamic(resultType.getDimSize(2)) ||
        ShapedType::isDynamic(resultType.getDimSize(3)))
      return failure();
    Location loc = op.getLoc();
    std::optional<QuantizedWeight> w = quantizeWeight(
        rewriter, loc, op.getWeight(), /*transposed=*/true,
        quantizer.minElements, quantizer.range, /*outputsFirst=*/true);
    if (!w)
      return failure();
    auto [xq, scale, zeroPoint] =
        Int8Quantizer::activation(rewriter, op, op.getInput());
    Value acc = im2colProduct(rewriter, op, xq, zeroPoint, w->values, Value());
    Value y = DequantizeLinearOp::create(
        rewriter, loc, acc, MulOp::create(rewriter, loc, scale, w->scales),
        Value(), 1);
    ++quantizer.count;
    rewriter.replaceOp(
        op, Int8Quantizer::finish(rewriter, loc, convResult(rewriter, op, y),
                                  op.getResidual(), op.getActivation(),
                                  op.getActivationParams()));
    return success();
  }
  const Int8Quantizer &quantizer;
};

struct QuantizeGemmInt8 : OpRewritePattern<GemmOp> {
  QuantizeGemmInt8(MLIRContext *context, const Int8Quantizer &quantizer)
      : OpRewritePattern(context), quantizer(quantizer) {}
  LogicalResult matchAndRewrite(GemmOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getTransA())
      return failure();
    Location loc = op.getLoc();
    Value y =
        quantizer.product(rewriter, op, op.getA(), op.getB(), op.getTransB(),
                          op.getAlphaAttr().getValueAsDouble());
    if (!y)
      return failure();
    double beta = op.getBetaAttr().getValueAsDouble();
    if (Value c = op.getC(); c && beta != 0) {
      if (beta != 1)
        c = MulOp::create(rewriter, loc, c,
                          scalarConstant(rewriter, loc, elementOf(c), beta));
      y = AddOp::create(rewriter, loc, y, c);
    }
    rewriter.replaceOp(op, Int8Quantizer::finish(
                               rewriter, loc, y, op.getResidual(),
                               op.getActivation(), op.getActivationParams()));
    return success();
  }
  const Int8Quantizer &quantizer;
};

/// Max pooling stays in 8 bits: quantize(max_pool(x)) = max_pool(quantize(x))
/// for a quantization by a constant positive scale and zero point (a
/// monotonic map; the pool's padding, lowest in either domain, never wins
/// over a window's element). Only where every reader of the pool quantizes
/// it, so that the float pool goes away.
struct QuantizeBeforeMaxPool : OpRewritePattern<QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeLinearOp op,
                                PatternRewriter &rewriter) const override {
    auto pool = op.getInput().getDefiningOp<MaxPoolOp>();
    if (!pool || !llvm::all_of(pool->getUsers(), [](Operation *user) {
          return isa<QuantizeLinearOp>(user);
        }))
      return failure();
    std::optional<SmallVector<double>> scale = getConstantFloats(op.getScale());
    if (!scale || scale->size() != 1 || !((*scale)[0] > 0) ||
        (op.getZeroPoint() &&
         (!getConstantInts(op.getZeroPoint()) ||
          getConstantInts(op.getZeroPoint())->size() != 1)))
      return failure();
    Location loc = op.getLoc();
    auto inputType = cast<RankedTensorType>(pool.getInput().getType());
    Type element = op.getType().getElementType();
    Value quantized = QuantizeLinearOp::create(
        rewriter, loc, inputType.clone(element), pool.getInput(), op.getScale(),
        op.getZeroPoint(), op.getAxisAttr(), op.getToAttr());
    rewriter.replaceOpWithNewOp<MaxPoolOp>(
        op, op.getType(), quantized, pool.getKernelShapeAttr(),
        pool.getPadsAttr(), pool.getStridesAttr(), pool.getDilationsAttr(),
        pool.getCeilModeAttr());
    return success();
  }
};

struct KilnQuantizeInt8Pass
    : public kiln::impl::KilnQuantizeInt8Base<KilnQuantizeInt8Pass> {
  using Base::Base;
  void runOnOperation() override {
    int64_t count = 0;
    RewritePatternSet patterns(&getContext());
    if (weightRange < 1 || weightRange > 127) {
      getOperation().emitError("kiln-quantize-int8: weight-range must be "
                               "in [1, 127], got ")
          << static_cast<int64_t>(weightRange);
      return signalPassFailure();
    }
    Int8Quantizer quantizer{minWeightElements, weightRange, dynamic, count};
    patterns.add<QuantizeMatMulInt8, QuantizeGemmInt8>(&getContext(),
                                                       quantizer);
    if (convolutions)
      patterns.add<QuantizeConvInt8>(&getContext(), quantizer);
    patterns.add<QuantizeBeforeMaxPool>(&getContext());
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    numQuantized += count;
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// kiln-quantize-weights
//===----------------------------------------------------------------------===//

namespace {
/// The grid of one group of weights: x ~ (q - zero) * scale, q an integer
/// in the bits' range.
struct GroupGrid {
  double scale = 1.0, zero = 0.0;
};

/// A weight [K, N] quantized in groups of `group` consecutive k per column:
/// its integers [K, N], and the scales and zero points [K / group, N].
struct QuantizedGroups {
  SmallVector<int8_t> values;
  SmallVector<double> scales;
  SmallVector<int8_t> zeros;
};
} // namespace

/// The integers of `bits`-bit weights: [-127, 127] or [-8, 7].
static std::pair<double, double> integerRange(int64_t bits) {
  return bits == 8 ? std::pair(-127.0, 127.0) : std::pair(-8.0, 7.0);
}

/// `x`'s integer on `grid`, within [lo, hi].
static double onGrid(double x, const GroupGrid &grid, double lo, double hi) {
  return std::clamp(std::nearbyint(x / grid.scale) + grid.zero, lo, hi);
}

/// The symmetric grid (zero point 0) of a group of `count` values `stride`
/// apart. 8 bits: the largest magnitude maps to 127. 4 bits: the whole
/// [-8, 7] range and a clipping search. With 16 levels, rounding error
/// dominates: the scale among largest / 7 times 1.0, 0.98, ... 0.70, and
/// largest / 8, whose integers reproduce the group with the least squared
/// error wins (clipping the few largest weights shrinks the step of all the
/// others).
static GroupGrid symmetricGrid(const double *data, int64_t count,
                               int64_t stride, int64_t bits) {
  double largest = 0;
  for (int64_t i = 0; i < count; ++i)
    largest = std::max(largest, std::fabs(data[i * stride]));
  // An all-zero group quantizes to zeros with any scale.
  if (largest == 0)
    return {};
  auto [low, high] = integerRange(bits);
  double lo = low, hi = high;
  auto error = [&](double scale) {
    double sum = 0;
    for (int64_t i = 0; i < count; ++i) {
      double x = data[i * stride];
      double d = x - onGrid(x, {scale, 0.0}, lo, hi) * scale;
      sum += d * d;
    }
    return sum;
  };
  double best = largest / hi;
  if (bits == 4) {
    double bestError = error(best);
    auto consider = [&](double scale) {
      double e = error(scale);
      if (e < bestError) {
        bestError = e;
        best = scale;
      }
    };
    consider(largest / 8.0);
    for (int step = 1; step <= 15; ++step)
      consider(largest / hi * (1.0 - 0.02 * step));
  }
  return {best, 0.0};
}

/// The asymmetric 4-bit grid of a group: a scale s and an integer zero
/// point z (in the i8 range) with every weight x ~ (q - z) * s, q in
/// [-8, 7]. The 16 levels span [min, max] narrowed at both ends by 0, 1,
/// ... 15 % of its width (the narrowing with the least squared error wins,
/// as the symmetric search's clipping does), then s is refitted twice by
/// least squares to the chosen integers. A weight group rarely sits
/// symmetric about zero, and spending all 16 levels on its own range cuts
/// the squared error by a fifth to a third against the symmetric [-8, 7]
/// grid (on Gaussian to heavy-tailed groups of 32).
static GroupGrid asymmetricGrid(const double *data, int64_t count,
                                int64_t stride) {
  double least = data[0], most = data[0];
  for (int64_t i = 1; i < count; ++i) {
    least = std::min(least, data[i * stride]);
    most = std::max(most, data[i * stride]);
  }
  // A constant group (zeros included) is exact on the symmetric grid.
  if (least == most)
    return symmetricGrid(data, count, stride, 4);
  auto error = [&](const GroupGrid &grid) {
    double sum = 0;
    for (int64_t i = 0; i < count; ++i) {
      double x = data[i * stride];
      double d = x - (onGrid(x, grid, -8.0, 7.0) - grid.zero) * grid.scale;
      sum += d * d;
    }
    return sum;
  };
  auto zeroFor = [](double low, double scale) {
    return std::clamp(std::nearbyint(-8.0 - low / scale), -128.0, 127.0);
  };
  double width = most - least;
  GroupGrid best{width / 15.0, 0.0};
  best.zero = zeroFor(least, best.scale);
  double bestError = error(best);
  for (int step = 1; step <= 15; ++step) {
    double low = least + width * 0.01 * step;
    double scale = width * (1.0 - 0.02 * step) / 15.0;
    GroupGrid grid{scale, zeroFor(low, scale)};
    double e = error(grid);
    if (e < bestError) {
      bestError = e;
      best = grid;
    }
  }
  // Least squares for s with the integers fixed: s = sum x d / sum d^2,
  // d = q - z.
  for (int round = 0; round < 2; ++round) {
    double xd = 0, dd = 0;
    for (int64_t i = 0; i < count; ++i) {
      double x = data[i * stride];
      double d = onGrid(x, best, -8.0, 7.0) - best.zero;
      xd += x * d;
      dd += d * d;
    }
    if (dd == 0 || xd <= 0)
      break;
    GroupGrid refitted{xd / dd, best.zero};
    double e = error(refitted);
    if (!(e < bestError))
      break;
    bestError = e;
    best = refitted;
  }
  return best;
}

/// The grid of a group of `bits`-bit weights: 8 bits symmetric, 4 bits
/// asymmetric.
static GroupGrid groupGrid(const double *data, int64_t count, int64_t stride,
                           int64_t bits) {
  return bits == 8 ? symmetricGrid(data, count, stride, 8)
                   : asymmetricGrid(data, count, stride);
}

/// Stores `grid` as group `g`'s of column `j` of `out` (N = `n` columns).
static void storeGrid(QuantizedGroups &out, int64_t g, int64_t j, int64_t n,
                      const GroupGrid &grid) {
  out.scales[g * n + j] = grid.scale;
  if (!out.zeros.empty())
    out.zeros[g * n + j] = static_cast<int8_t>(grid.zero);
}

/// W [K, N] (row-major) with every weight rounded to the nearest integer of
/// its group's grid.
static void quantizeNearest(ArrayRef<double> w, int64_t k, int64_t n,
                            int64_t bits, int64_t group, QuantizedGroups &out) {
  auto [lo, hi] = integerRange(bits);
  for (int64_t g = 0; g < k / group; ++g)
    for (int64_t j = 0; j < n; ++j) {
      const double *data = w.data() + g * group * n + j;
      GroupGrid grid = groupGrid(data, group, n, bits);
      storeGrid(out, g, j, n, grid);
      for (int64_t i = 0; i < group; ++i)
        out.values[(g * group + i) * n + j] =
            static_cast<int8_t>(onGrid(data[i * n], grid, lo, hi));
    }
}

/// The upper triangular U with U^T U = H^-1 for a symmetric positive
/// definite H [K, K] (row-major), or failure when H is not (a pivot is not
/// positive). With J the matrix that reverses the order of k, the Cholesky
/// factor L of J H J (J H J = L L^T) gives H = (J L J)(J L J)^T, J L J
/// upper triangular, so U = (J L J)^-1 = J L^-1 J: one factorization and
/// one triangular inverse, whose columns are independent (run in
/// parallel).
static LogicalResult inverseCholeskyUpper(MLIRContext *context,
                                          ArrayRef<double> h, int64_t k,
                                          std::vector<double> &u) {
  std::vector<double> l(k * k, 0.0);
  for (int64_t i = 0; i < k; ++i) {
    double *li = l.data() + i * k;
    for (int64_t j = 0; j <= i; ++j) {
      double s = h[(k - 1 - i) * k + (k - 1 - j)] -
                 dotProduct(li, l.data() + j * k, j);
      if (j == i) {
        if (!(s > 0))
          return failure();
        li[i] = std::sqrt(s);
      } else {
        li[j] = s / l[j * k + j];
      }
    }
  }
  // Column c of L^-1 by forward substitution, stored as row c of `inverse`
  // (entries c..K-1).
  std::vector<double> inverse(k * k, 0.0);
  parallelFor(context, 0, k, [&](size_t c) {
    double *m = inverse.data() + c * k;
    int64_t col = static_cast<int64_t>(c);
    m[col] = 1.0 / l[col * k + col];
    for (int64_t i = col + 1; i < k; ++i)
      m[i] =
          -dotProduct(l.data() + i * k + col, m + col, i - col) / l[i * k + i];
  });
  // U[i][j] = L^-1[K-1-i][K-1-j] = inverse[K-1-j][K-1-i].
  u.assign(k * k, 0.0);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = i; j < k; ++j)
      u[i * k + j] = inverse[(k - 1 - j) * k + (k - 1 - i)];
  return success();
}

/// W [K, N] quantized with the second moment H [K, K] of its activation
/// rows x (H = mean x^T x over the calibration data): the error of each
/// rounded row k, weighted by H, is compensated on the rows not yet
/// rounded, so the product x W, not each weight, stays close (the GPTQ
/// method of Frantar et al., 2022). H gains 1 % of its mean diagonal
/// (more, tenfold each time, when it is still not positive definite).
///
/// Rows are rounded in order of decreasing H[k][k] (the energy of input
/// k): the weights that move the product most are rounded first, while
/// the most rows remain to absorb their error. Every group's grid is
/// therefore chosen up front from the original weights. On the trained
/// character model of bench/llm_accuracy.py this order took 4-bit group 32
/// from +7.0 % to +1.9 % perplexity against rounding k in order with each
/// grid chosen from its updated rows (group 64: +6.3 % to +4.3 %).
///
/// With P the order and U the upper Cholesky factor of (P H P^T)^-1,
/// rounding the i-th row with error e (per column) subtracts e / U[i][i] *
/// U[i][j] from each later row j. Columns are independent: tiles of 16 run
/// in parallel. Without a factorization (H numerically singular even with
/// damping), the weight is rounded to nearest.
static void quantizeWithHessian(MLIRContext *context, ArrayRef<double> w,
                                ArrayRef<double> hessian, int64_t k, int64_t n,
                                int64_t bits, int64_t group,
                                QuantizedGroups &out) {
  double mean = 0;
  for (int64_t i = 0; i < k; ++i)
    mean += hessian[i * k + i];
  mean /= static_cast<double>(k);
  SmallVector<int64_t> order(k);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    return hessian[a * k + a] > hessian[b * k + b];
  });
  double damping = mean > 0 ? 0.01 * mean : 1.0;
  std::vector<double> u;
  std::vector<double> h(k * k);
  bool factored = false;
  for (int attempt = 0; attempt < 5 && !factored; ++attempt) {
    for (int64_t i = 0; i < k; ++i)
      for (int64_t j = 0; j < k; ++j)
        h[i * k + j] =
            hessian[order[i] * k + order[j]] + (i == j ? damping : 0);
    factored = succeeded(inverseCholeskyUpper(context, h, k, u));
    damping *= 10;
  }
  if (!factored)
    return quantizeNearest(w, k, n, bits, group, out);
  constexpr int64_t kTile = 16;
  auto [low, high] = integerRange(bits);
  double lo = low, hi = high;
  int64_t groups = k / group;
  parallelFor(context, 0, (n + kTile - 1) / kTile, [&](size_t t) {
    int64_t first = static_cast<int64_t>(t) * kTile;
    int64_t width = std::min(kTile, n - first);
    // The groups' grids of the tile's columns, [K / group, kTile].
    std::vector<GroupGrid> grids(groups * kTile);
    for (int64_t g = 0; g < groups; ++g)
      for (int64_t c = 0; c < width; ++c) {
        grids[g * kTile + c] =
            groupGrid(w.data() + g * group * n + first + c, group, n, bits);
        storeGrid(out, g, first + c, n, grids[g * kTile + c]);
      }
    // The tile's columns in the rounding order, [K, kTile], padded with
    // zero columns (which round without error).
    std::vector<double> tile(k * kTile, 0.0);
    for (int64_t i = 0; i < k; ++i)
      for (int64_t c = 0; c < width; ++c)
        tile[i * kTile + c] = w[order[i] * n + first + c];
    double error[kTile];
    for (int64_t i = 0; i < k; ++i) {
      double *row = tile.data() + i * kTile;
      const GroupGrid *rowGrids = grids.data() + order[i] / group * kTile;
      double pivot = u[i * k + i];
      for (int64_t c = 0; c < kTile; ++c) {
        error[c] = 0;
        if (c >= width)
          continue;
        const GroupGrid &grid = rowGrids[c];
        double q = onGrid(row[c], grid, lo, hi);
        out.values[order[i] * n + first + c] = static_cast<int8_t>(q);
        error[c] = (row[c] - (q - grid.zero) * grid.scale) / pivot;
      }
      for (int64_t j = i + 1; j < k; ++j) {
        double factor = u[i * k + j];
        double *rest = tile.data() + j * kTile;
        for (int64_t c = 0; c < kTile; ++c)
          rest[c] -= error[c] * factor;
      }
    }
  });
}

/// The error of a `kiln.hessian` that is not a float [K, K] (K the lhs's
/// last dim) or whose values cannot be read.
static void emitHessianError(MatMulOp op) {
  op.emitOpError() << "'" << kHessianAttr
                   << "' must be a float tensor of the [K, K] of the lhs's "
                      "last dim K";
}

namespace {
/// matmul(x, W) with a constant f32 W [K, N] -> matmul(x,
/// dequantize_blocks(Q, S[, Z])): Q the integers of `bits` bits, S one
/// scale per group of `group` k and column; 8 bits symmetric, 4 bits with
/// a zero point Z per group too. With a `kiln.hessian` on the matmul (the
/// second moment of x, from calibration), GPTQ chooses the integers
/// (quantizeWithHessian); without, each weight rounds to nearest.
struct QuantizeWeightOnly : OpRewritePattern<MatMulOp> {
  QuantizeWeightOnly(MLIRContext *context, int64_t bits, int64_t group,
                     int64_t minElements, int64_t &count,
                     int64_t &calibratedCount, bool &malformed)
      : OpRewritePattern(context), bits(bits), group(group),
        minElements(minElements), count(count),
        calibratedCount(calibratedCount), malformed(malformed) {}
  LogicalResult matchAndRewrite(MatMulOp op,
                                PatternRewriter &rewriter) const override {
    if (!isWeightOnlyProduct(op, minElements, group))
      return failure();
    Value weight = op.getRhs();
    auto type = cast<RankedTensorType>(weight.getType());
    int64_t k = type.getDimSize(0), n = type.getDimSize(1);
    std::optional<SmallVector<double>> data = getConstantFloats(weight);
    if (!data)
      return failure();
    int64_t groups = k / group;
    QuantizedGroups quantized;
    quantized.values.resize(k * n);
    quantized.scales.resize(groups * n);
    quantized.zeros.resize(bits == 4 ? groups * n : 0);
    Attribute hessianAttr = op->getAttr(kHessianAttr);
    std::optional<SmallVector<double>> hessian = getFloatValues(hessianAttr);
    if (hessianAttr && !hessian) {
      emitHessianError(op);
      malformed = true;
      return failure();
    }
    if (hessian) {
      quantizeWithHessian(getContext(), *data, *hessian, k, n, bits, group,
                          quantized);
      ++calibratedCount;
    } else {
      quantizeNearest(*data, k, n, bits, group, quantized);
    }
    Location loc = op.getLoc();
    std::string name = constantName(weight) + (bits == 8 ? "_int8w" : "_int4w");
    auto valuesType =
        RankedTensorType::get({k, n}, IntegerType::get(getContext(), 8));
    Value q =
        ConstantOp::create(rewriter, loc,
                           cast<ElementsAttr>(DenseResourceElementsAttr::get(
                               valuesType, name,
                               HeapAsmResourceBlob::allocateAndCopyInferAlign(
                                   ArrayRef<int8_t>(quantized.values)))));
    Value s = createFloatConstant(
        rewriter, loc,
        RankedTensorType::get({groups, n}, rewriter.getF32Type()),
        quantized.scales, name + "_scales");
    Value z;
    if (bits == 4) {
      auto zerosType =
          RankedTensorType::get({groups, n}, IntegerType::get(getContext(), 8));
      z = ConstantOp::create(rewriter, loc,
                             cast<ElementsAttr>(DenseResourceElementsAttr::get(
                                 zerosType, name + "_zero_points",
                                 HeapAsmResourceBlob::allocateAndCopyInferAlign(
                                     ArrayRef<int8_t>(quantized.zeros)))));
    }
    Value dequantized = DequantizeBlocksOp::create(
        rewriter, loc, type, q, s, z, rewriter.getI64IntegerAttr(0),
        rewriter.getI64IntegerAttr(group));
    rewriter.modifyOpInPlace(op, [&] {
      op.getRhsMutable().assign(dequantized);
      op->removeAttr(kHessianAttr);
    });
    ++count;
    return success();
  }
  int64_t bits, group, minElements;
  int64_t &count, &calibratedCount;
  bool &malformed;
};

struct KilnQuantizeWeightsPass
    : public kiln::impl::KilnQuantizeWeightsBase<KilnQuantizeWeightsPass> {
  using Base::Base;
  void runOnOperation() override {
    if (bits != 8 && bits != 4) {
      getOperation().emitError("kiln-quantize-weights: bits must be 8 or 4, "
                               "got ")
          << static_cast<int64_t>(bits);
      return signalPassFailure();
    }
    if (group < 2 || (group & (group - 1)) != 0) {
      getOperation().emitError("kiln-quantize-weights: group must be a power "
                               "of two of at least 2, got ")
          << static_cast<int64_t>(group);
      return signalPassFailure();
    }
    // A second moment must be the [K, K] of the matmul's K (its values
    // are read, and checked, once, where the pattern quantizes).
    WalkResult checked = getOperation().walk([&](MatMulOp op) {
      Attribute attr = op->getAttr(kHessianAttr);
      if (!attr)
        return WalkResult::advance();
      auto lhs = cast<RankedTensorType>(op.getLhs().getType());
      int64_t k = lhs.getRank() ? lhs.getShape().back() : 0;
      auto elements = dyn_cast<ElementsAttr>(attr);
      auto type =
          elements ? dyn_cast<RankedTensorType>(elements.getType()) : nullptr;
      if (!type || ShapedType::isDynamic(k) ||
          type.getShape() != ArrayRef<int64_t>{k, k}) {
        emitHessianError(op);
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (checked.wasInterrupted())
      return signalPassFailure();
    int64_t count = 0, calibratedCount = 0;
    bool malformed = false;
    RewritePatternSet patterns(&getContext());
    patterns.add<QuantizeWeightOnly>(&getContext(), bits, group,
                                     minWeightElements, count, calibratedCount,
                                     malformed);
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                     config)) ||
        malformed)
      return signalPassFailure();
    // A second moment on a product left in f32 has no use.
    getOperation().walk([](MatMulOp op) { op->removeAttr(kHessianAttr); });
    numQuantized += count;
    numCalibrated += calibratedCount;
  }
};
} // namespace

//===----------------------------------------------------------------------===//
// kiln-decompose-quantization
//===----------------------------------------------------------------------===//

/// `param` (a scalar, or 1-D along `axis` of a rank-`rank` tensor) shaped to
/// broadcast against that tensor.
static Value alongAxis(PatternRewriter &rewriter, Location loc, Value param,
                       int64_t axis, int64_t rank) {
  if (!param || rankOf(param) != 1 || rank == 0)
    return param;
  SmallVector<int64_t> trailing;
  for (int64_t d = 1; d < rank - axis; ++d)
    trailing.push_back(d);
  if (trailing.empty())
    return param;
  return UnsqueezeOp::create(rewriter, loc, param,
                             rewriter.getDenseI64ArrayAttr(trailing));
}

/// `v` converted to `element` (no op when it has that type already).
static Value convert(PatternRewriter &rewriter, Location loc, Value v,
                     Type element) {
  if (elementOf(v) == element)
    return v;
  return CastOp::create(rewriter, loc, v, TypeAttr::get(element));
}

namespace {
struct DecomposeQuantize : OpRewritePattern<QuantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantizeLinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t rank = rankOf(op.getInput());
    Value scale = alongAxis(rewriter, loc, op.getScale(), op.getAxis(), rank);
    Value zeroPoint =
        alongAxis(rewriter, loc, op.getZeroPoint(), op.getAxis(), rank);
    Type real = elementOf(scale);
    Value q = RoundOp::create(
        rewriter, loc,
        DivOp::create(rewriter, loc,
                      convert(rewriter, loc, op.getInput(), real), scale));
    if (zeroPoint)
      q = AddOp::create(rewriter, loc, q,
                        convert(rewriter, loc, zeroPoint, real));
    auto target = cast<IntegerType>(op.getTo());
    unsigned width = target.getWidth();
    double lo = target.isUnsigned() ? 0.0 : -std::ldexp(1.0, width - 1);
    double hi = target.isUnsigned() ? std::ldexp(1.0, width) - 1
                                    : std::ldexp(1.0, width - 1) - 1;
    q = MaxOp::create(rewriter, loc, q,
                      scalarConstant(rewriter, loc, real, lo));
    q = MinOp::create(rewriter, loc, q,
                      scalarConstant(rewriter, loc, real, hi));
    rewriter.replaceOp(op, convert(rewriter, loc, q, target));
    return success();
  }
};

struct DecomposeDequantize : OpRewritePattern<DequantizeLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DequantizeLinearOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    int64_t rank = rankOf(op.getInput());
    Value scale = alongAxis(rewriter, loc, op.getScale(), op.getAxis(), rank);
    Value zeroPoint =
        alongAxis(rewriter, loc, op.getZeroPoint(), op.getAxis(), rank);
    Type i32 = rewriter.getI32Type();
    Value x = convert(rewriter, loc, op.getInput(), i32);
    if (zeroPoint)
      x = SubOp::create(rewriter, loc, x,
                        convert(rewriter, loc, zeroPoint, i32));
    rewriter.replaceOpWithNewOp<MulOp>(
        op, convert(rewriter, loc, x, elementOf(scale)), scale);
    return success();
  }
};

struct KilnDecomposeQuantizationPass
    : public kiln::impl::KilnDecomposeQuantizationBase<
          KilnDecomposeQuantizationPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<DecomposeQuantize, DecomposeDequantize>(&getContext());
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
  }
};
} // namespace
