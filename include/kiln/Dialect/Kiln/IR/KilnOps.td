//===- KilnOps.td - kiln dialect operations -----------------*- tablegen -*-===//
//
// Operations of the kiln dialect, grouped by op family. Each op follows the
// ONNX operator of the same name; differences are stated in its description.
//
//===----------------------------------------------------------------------===//

#ifndef KILN_DIALECT_KILN_IR_KILNOPS_TD
#define KILN_DIALECT_KILN_IR_KILNOPS_TD

include "kiln/Dialect/Kiln/IR/KilnDialect.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"
include "mlir/Interfaces/DestinationStyleOpInterface.td"

//===----------------------------------------------------------------------===//
// Constants and shapes
//===----------------------------------------------------------------------===//

def Kiln_ConstantOp : Kiln_Op<"constant", [ConstantLike]> {
  let summary = "A constant tensor";
  let description = [{
    ONNX `Constant` and graph initializers. Large values are held in
    `dense_resource` blobs so that weights are never copied into the context's
    uniqued attribute storage.

    ```mlir
    %w = kiln.constant dense<[1.0, 2.0]> : tensor<2xf32>
    %big = kiln.constant dense_resource<conv1.weight> : tensor<64x3x7x7xf32>
    ```
  }];
  let arguments = (ins ElementsAttr:$value);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "attr-dict $value";
  let hasFolder = 1;
}

def Kiln_ShapeOp : Kiln_Op<"shape"> {
  let summary = "The shape of a tensor as a 1-D i64 tensor";
  let description = [{
    ONNX `Shape` (opset 15 `start`/`end` included; negative values count from
    the end and both are clamped to the rank). Folds to a constant when the
    selected dims are static.

    ```mlir
    %s = kiln.shape %x {start = 1 : i64} : (tensor<?x3x4xf32>) -> tensor<2xi64>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DefaultValuedAttr<Kiln_I64Attr, "0">:$start,
                       OptionalAttr<Kiln_I64Attr>:$end);
  let results = (outs RankedTensorOf<[I64]>:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_CastOp : Kiln_Op<"cast"> {
  let summary = "Element type conversion";
  let description = [{
    ONNX `Cast`: converts every element to the element type `to`. Float to
    integer truncates toward zero; anything to bool is `x != 0`.

    ```mlir
    %y = kiln.cast %x {to = i64} : (tensor<4xf32>) -> tensor<4xi64>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, TypeAttrOf<Kiln_ElementType>:$to);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise unary
//===----------------------------------------------------------------------===//

class Kiln_UnaryOp<string mnemonic, Type tensorType = Kiln_FloatTensor,
                   list<Trait> traits = []>
    : Kiln_Op<mnemonic, traits, [{
        inferredReturnTypes.push_back(adaptor.getInput().getType());
        return ::llvm::success();
      }]> {
  let results = (outs tensorType:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

class Kiln_SimpleUnaryOp<string mnemonic, string formula,
                         Type tensorType = Kiln_FloatTensor>
    : Kiln_UnaryOp<mnemonic, tensorType> {
  let summary = "Elementwise " # formula;
  let description = "Computes `" # formula # "` for every element; the result "
    # "has the type of the input.\n\n```mlir\n%y = kiln." # mnemonic
    # " %x : (tensor<2x?xf32>) -> tensor<2x?xf32>\n```";
  let arguments = (ins tensorType:$input);
}

def Kiln_ReluOp : Kiln_SimpleUnaryOp<"relu", "max(x, 0)">;
def Kiln_SigmoidOp : Kiln_SimpleUnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def Kiln_TanhOp : Kiln_SimpleUnaryOp<"tanh", "tanh(x)">;
def Kiln_ExpOp : Kiln_SimpleUnaryOp<"exp", "exp(x)">;
def Kiln_LogOp : Kiln_SimpleUnaryOp<"log", "log(x)">;
def Kiln_SqrtOp : Kiln_SimpleUnaryOp<"sqrt", "sqrt(x)">;
def Kiln_ReciprocalOp : Kiln_SimpleUnaryOp<"reciprocal", "1 / x">;
def Kiln_ErfOp : Kiln_SimpleUnaryOp<"erf", "erf(x)">;
def Kiln_HardSwishOp : Kiln_SimpleUnaryOp<"hard_swish",
                                          "x * max(0, min(1, x / 6 + 1 / 2))">;
def Kiln_NegOp : Kiln_SimpleUnaryOp<"neg", "-x", Kiln_Tensor> {
  let hasFolder = 1;
}
def Kiln_AbsOp : Kiln_SimpleUnaryOp<"abs", "|x|", Kiln_Tensor>;

def Kiln_AcosOp : Kiln_SimpleUnaryOp<"acos", "acos(x)">;
def Kiln_AcoshOp : Kiln_SimpleUnaryOp<"acosh", "acosh(x)">;
def Kiln_AsinOp : Kiln_SimpleUnaryOp<"asin", "asin(x)">;
def Kiln_AsinhOp : Kiln_SimpleUnaryOp<"asinh", "asinh(x)">;
def Kiln_AtanOp : Kiln_SimpleUnaryOp<"atan", "atan(x)">;
def Kiln_AtanhOp : Kiln_SimpleUnaryOp<"atanh", "atanh(x)">;
def Kiln_CosOp : Kiln_SimpleUnaryOp<"cos", "cos(x)">;
def Kiln_CoshOp : Kiln_SimpleUnaryOp<"cosh", "cosh(x)">;
def Kiln_SinOp : Kiln_SimpleUnaryOp<"sin", "sin(x)">;
def Kiln_SinhOp : Kiln_SimpleUnaryOp<"sinh", "sinh(x)">;
def Kiln_TanOp : Kiln_SimpleUnaryOp<"tan", "tan(x)">;
def Kiln_CeilOp : Kiln_SimpleUnaryOp<"ceil", "ceil(x)">;
def Kiln_FloorOp : Kiln_SimpleUnaryOp<"floor", "floor(x)">;
def Kiln_RoundOp : Kiln_SimpleUnaryOp<"round", "x rounded half to even">;
def Kiln_SoftplusOp : Kiln_SimpleUnaryOp<"softplus", "log(1 + exp(x))">;
def Kiln_SoftsignOp : Kiln_SimpleUnaryOp<"softsign", "x / (1 + |x|)">;
def Kiln_MishOp : Kiln_SimpleUnaryOp<"mish", "x * tanh(softplus(x))">;
def Kiln_SignOp : Kiln_SimpleUnaryOp<"sign", "sign(x) (-1, 0 or 1)", Kiln_Tensor>;
def Kiln_NotOp : Kiln_SimpleUnaryOp<"not", "logical not", Kiln_BoolTensor> {
  let hasFolder = 1;
}
def Kiln_BitwiseNotOp : Kiln_SimpleUnaryOp<"bitwise_not", "~x", Kiln_IntTensor>;

/// Unary ops with float attributes named as in ONNX.
class Kiln_ActivationOp<string mnemonic, string formula, dag attrs,
                        Type tensorType = Kiln_FloatTensor>
    : Kiln_UnaryOp<mnemonic, tensorType> {
  let summary = "Elementwise " # formula;
  let description = "ONNX's operator of this name: `" # formula # "`.\n\n"
    # "```mlir\n%y = kiln." # mnemonic
    # " %x : (tensor<4xf32>) -> tensor<4xf32>\n```";
  let arguments = !con((ins tensorType:$input), attrs);
}

def Kiln_EluOp : Kiln_ActivationOp<"elu", "x >= 0 ? x : alpha * (exp(x) - 1)",
    (ins DefaultValuedAttr<F32Attr, "1.0f">:$alpha)>;
def Kiln_SeluOp : Kiln_ActivationOp<"selu",
    "gamma * (x > 0 ? x : alpha * (exp(x) - 1))",
    (ins DefaultValuedAttr<F32Attr, "1.67326319217681884765625f">:$alpha,
         DefaultValuedAttr<F32Attr, "1.05070102214813232421875f">:$gamma)>;
def Kiln_CeluOp : Kiln_ActivationOp<"celu",
    "max(0, x) + min(0, alpha * (exp(x / alpha) - 1))",
    (ins DefaultValuedAttr<F32Attr, "1.0f">:$alpha)>;
def Kiln_ThresholdedReluOp : Kiln_ActivationOp<"thresholded_relu",
    "x > alpha ? x : 0", (ins DefaultValuedAttr<F32Attr, "1.0f">:$alpha)>;
def Kiln_ShrinkOp : Kiln_ActivationOp<"shrink",
    "x < -lambd ? x + bias : (x > lambd ? x - bias : 0)",
    (ins DefaultValuedAttr<F32Attr, "0.0f">:$bias,
         DefaultValuedAttr<F32Attr, "0.5f">:$lambd), Kiln_Tensor>;

/// Float classification: the result is bool.
class Kiln_ClassifyOp<string mnemonic, string what, dag attrs = (ins)>
    : Kiln_Op<mnemonic, [], [{
        inferredReturnTypes.push_back(
            ::llvm::cast<::mlir::RankedTensorType>(adaptor.getInput().getType())
                .clone(::mlir::IntegerType::get(context, 1)));
        return ::llvm::success();
      }]> {
  let summary = "Elementwise test: " # what;
  let description = "ONNX's operator of this name; the result is a bool (i1) "
    # "tensor.\n\n```mlir\n%y = kiln." # mnemonic
    # " %x : (tensor<4xf32>) -> tensor<4xi1>\n```";
  let arguments = !con((ins Kiln_FloatTensor:$input), attrs);
  let results = (outs Kiln_BoolTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_IsNaNOp : Kiln_ClassifyOp<"is_nan", "x is NaN">;
def Kiln_IsInfOp : Kiln_ClassifyOp<"is_inf", "x is an infinity",
    (ins DefaultValuedAttr<BoolAttr, "true">:$detect_negative,
         DefaultValuedAttr<BoolAttr, "true">:$detect_positive)>;

def Kiln_LeakyReluOp : Kiln_UnaryOp<"leaky_relu"> {
  let summary = "Elementwise x >= 0 ? x : alpha * x";
  let description = [{
    ONNX `LeakyRelu`.

    ```mlir
    %y = kiln.leaky_relu %x {alpha = 1.000000e-01 : f32} : (tensor<4xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<F32Attr, "0.01f">:$alpha);
}

def Kiln_HardSigmoidOp : Kiln_UnaryOp<"hard_sigmoid"> {
  let summary = "Elementwise max(0, min(1, alpha * x + beta))";
  let description = [{
    ONNX `HardSigmoid`.

    ```mlir
    %y = kiln.hard_sigmoid %x {alpha = 2.000000e-01 : f32, beta = 5.000000e-01 : f32} : (tensor<4xf32>) -> tensor<4xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<F32Attr, "0.2f">:$alpha,
                       DefaultValuedAttr<F32Attr, "0.5f">:$beta);
}

def Kiln_GeluOp : Kiln_UnaryOp<"gelu"> {
  let summary = "Gaussian error linear unit";
  let description = [{
    ONNX `Gelu` (opset 20): `0.5 * x * (1 + erf(x / sqrt(2)))`, or with
    `approximate = "tanh"` the form
    `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3)))`.

    ```mlir
    %y = kiln.gelu %x {approximate = "tanh"} : (tensor<1x128x3072xf32>) -> tensor<1x128x3072xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<Kiln_StrAttrOf<["none", "tanh"]>,
                                         "\"none\"">:$approximate);
}

def Kiln_ClipOp : Kiln_Op<"clip", [AttrSizedOperandSegments]> {
  let summary = "Elementwise clamp to [min, max]";
  let description = [{
    ONNX `Clip` (opset 11 form: `min` and `max` are optional scalar operands;
    the importer turns the attributes of older opsets into constants). A missing
    bound does not clamp.

    ```mlir
    %y = kiln.clip %x min %lo max %hi : (tensor<8xf32>, tensor<f32>, tensor<f32>) -> tensor<8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Optional<Kiln_Tensor>:$min,
                       Optional<Kiln_Tensor>:$max);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input (`min` $min^)? (`max` $max^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise binary and ternary (numpy-style broadcasting)
//===----------------------------------------------------------------------===//

class Kiln_BinaryOp<string mnemonic, string formula, Type tensorType = Kiln_Tensor,
                    list<Trait> traits = [AllElementTypesMatch<["lhs", "rhs", "output"]>],
                    code resultElementType = "nullptr">
    : Kiln_Op<mnemonic, traits, [{
        return ::kiln::inferBroadcastResult(location,
            {adaptor.getLhs(), adaptor.getRhs()}, }] # resultElementType # [{,
            inferredReturnTypes);
      }]> {
  let summary = "Elementwise " # formula # " with broadcasting";
  let description = "Computes `" # formula # "` elementwise after numpy-style "
    # "broadcasting of the operands (dims are aligned from the right; a dim "
    # "of 1 stretches).\n\n```mlir\n%z = kiln." # mnemonic
    # " %x, %y : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>\n```";
  let arguments = (ins tensorType:$lhs, tensorType:$rhs);
  let results = (outs tensorType:$output);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` functional-type(operands, results)";
}

/// Arithmetic ops fold when both operands are small integer constants, which
/// is what exporters' shape computations (Shape -> Gather -> Div -> Concat)
/// are made of.
class Kiln_ArithOp<string mnemonic, string formula, list<Trait> traits = []>
    : Kiln_BinaryOp<mnemonic, formula, Kiln_Tensor,
                    !listconcat(traits, [AllElementTypesMatch<["lhs", "rhs", "output"]>])> {
  let hasFolder = 1;
}

def Kiln_AddOp : Kiln_ArithOp<"add", "lhs + rhs", [Commutative]>;
def Kiln_SubOp : Kiln_ArithOp<"sub", "lhs - rhs">;
def Kiln_MulOp : Kiln_ArithOp<"mul", "lhs * rhs", [Commutative]>;
def Kiln_DivOp : Kiln_ArithOp<"div", "lhs / rhs">;
def Kiln_MaxOp : Kiln_ArithOp<"max", "max(lhs, rhs)", [Commutative]>;
def Kiln_MinOp : Kiln_ArithOp<"min", "min(lhs, rhs)", [Commutative]>;
/// ONNX Pow: the exponent may have another element type; the result has the
/// base's.
def Kiln_PowOp : Kiln_BinaryOp<"pow", "lhs ^ rhs", Kiln_Tensor,
    [AllElementTypesMatch<["lhs", "output"]>]>;

def Kiln_AndOp : Kiln_BinaryOp<"and", "lhs && rhs", Kiln_BoolTensor,
    [Commutative, AllElementTypesMatch<["lhs", "rhs", "output"]>]> {
  let hasFolder = 1;
}
def Kiln_OrOp : Kiln_BinaryOp<"or", "lhs || rhs", Kiln_BoolTensor,
    [Commutative, AllElementTypesMatch<["lhs", "rhs", "output"]>]> {
  let hasFolder = 1;
}
def Kiln_XorOp : Kiln_BinaryOp<"xor", "lhs != rhs", Kiln_BoolTensor,
    [Commutative, AllElementTypesMatch<["lhs", "rhs", "output"]>]> {
  let hasFolder = 1;
}
def Kiln_BitwiseAndOp : Kiln_BinaryOp<"bitwise_and", "lhs & rhs",
    Kiln_IntTensor, [Commutative, AllElementTypesMatch<["lhs", "rhs", "output"]>]>;
def Kiln_BitwiseOrOp : Kiln_BinaryOp<"bitwise_or", "lhs | rhs",
    Kiln_IntTensor, [Commutative, AllElementTypesMatch<["lhs", "rhs", "output"]>]>;
def Kiln_BitwiseXorOp : Kiln_BinaryOp<"bitwise_xor", "lhs ^ rhs",
    Kiln_IntTensor, [Commutative, AllElementTypesMatch<["lhs", "rhs", "output"]>]>;
def Kiln_PReluOp : Kiln_BinaryOp<"prelu", "lhs < 0 ? rhs * lhs : lhs",
    Kiln_FloatTensor>;

def Kiln_ModOp : Kiln_BinaryOp<"mod", "lhs mod rhs"> {
  let description = [{
    ONNX `Mod`. With `fmod` the result has the sign of the dividend (C's
    fmod); without it, of the divisor (Python's %), integers only.

    ```mlir
    %z = kiln.mod %x, %y : (tensor<4xi32>, tensor<4xi32>) -> tensor<4xi32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs,
                       DefaultValuedAttr<BoolAttr, "false">:$fmod);
}

def Kiln_BitShiftOp : Kiln_BinaryOp<"bit_shift", "lhs << rhs or lhs >> rhs",
                                    Kiln_IntTensor> {
  let description = [{
    ONNX `BitShift` (unsigned integers): shifts `lhs` by `rhs` bits in
    `direction`.

    ```mlir
    %z = kiln.bit_shift %x, %y {direction = "left"} : (tensor<3xui8>, tensor<3xui8>) -> tensor<3xui8>
    ```
  }];
  let arguments = (ins Kiln_IntTensor:$lhs, Kiln_IntTensor:$rhs,
                       Kiln_StrAttrOf<["left", "right"]>:$direction);
}

class Kiln_CompareOp<string mnemonic, string formula, list<Trait> traits = []>
    : Kiln_BinaryOp<mnemonic, formula, Kiln_Tensor,
                    !listconcat(traits, [AllElementTypesMatch<["lhs", "rhs"]>]),
                    "::mlir::IntegerType::get(context, 1)"> {
  let description = "Computes `" # formula # "` elementwise after numpy-style "
    # "broadcasting; the result is a bool (i1) tensor.\n\n```mlir\n%z = kiln."
    # mnemonic # " %x, %y : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>\n```";
  let results = (outs Kiln_BoolTensor:$output);
  // Small integer constants fold (conditions computed from static shapes).
  let hasFolder = 1;
}

def Kiln_EqualOp : Kiln_CompareOp<"equal", "lhs == rhs", [Commutative]>;
def Kiln_LessOp : Kiln_CompareOp<"less", "lhs < rhs">;
def Kiln_LessOrEqualOp : Kiln_CompareOp<"less_or_equal", "lhs <= rhs">;
def Kiln_GreaterOp : Kiln_CompareOp<"greater", "lhs > rhs">;
def Kiln_GreaterOrEqualOp : Kiln_CompareOp<"greater_or_equal", "lhs >= rhs">;

def Kiln_WhereOp : Kiln_Op<"where",
    [AllElementTypesMatch<["lhs", "rhs", "output"]>]> {
  let summary = "Elementwise select with broadcasting";
  let description = [{
    ONNX `Where`: `condition ? lhs : rhs`, with the three operands broadcast
    together.

    ```mlir
    %z = kiln.where %c, %x, %y : (tensor<1x1x4x4xi1>, tensor<2x8x4x4xf32>, tensor<f32>) -> tensor<2x8x4x4xf32>
    ```
  }];
  let arguments = (ins Kiln_BoolTensor:$condition, Kiln_Tensor:$lhs,
                       Kiln_Tensor:$rhs);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $condition `,` $lhs `,` $rhs attr-dict `:` functional-type(operands, results)
  }];
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

/// The activation of a contraction's epilogue (see `kiln-fuse-epilogues`):
/// `clip` takes [min, max] and `leaky_relu` [alpha] in `activation_params`.
def Kiln_ActivationAttr : DefaultValuedAttr<Kiln_StrAttrOf<["none", "relu",
    "clip", "sigmoid", "tanh", "gelu", "gelu_tanh", "hard_swish", "silu",
    "leaky_relu"]>, "\"none\"">;
def Kiln_ActivationParamsAttr : DefaultValuedAttr<DenseF32ArrayAttr, "{}">;

def Kiln_MatMulOp : Kiln_Op<"matmul",
    [AttrSizedOperandSegments, AllElementTypesMatch<["lhs", "rhs", "output"]>]> {
  let summary = "Batched matrix product with numpy semantics, with an epilogue";
  let description = [{
    ONNX `MatMul`: a 1-D operand is promoted to a matrix (and the added dim is
    removed from the result); the batch dims broadcast.

    The optional epilogue is what `kiln-fuse-epilogues` folds into the
    product: the result is `activation(lhs * rhs + bias + residual)`, where
    `bias` and `residual` broadcast to the result. The importer never sets it.

    ```mlir
    %y = kiln.matmul %a, %b : (tensor<8x128x64xf32>, tensor<64x32xf32>) -> tensor<8x128x32xf32>
    %z = kiln.matmul %x, %w bias %b residual %r {activation = "gelu"}
        : (tensor<1x128x256xf32>, tensor<256x256xf32>, tensor<256xf32>, tensor<1x128x256xf32>) -> tensor<1x128x256xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$lhs, Kiln_Tensor:$rhs,
                       Optional<Kiln_Tensor>:$bias,
                       Optional<Kiln_Tensor>:$residual,
                       Kiln_ActivationAttr:$activation,
                       Kiln_ActivationParamsAttr:$activation_params);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs (`bias` $bias^)? (`residual` $residual^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let builders = [
    OpBuilder<(ins "::mlir::Value":$lhs, "::mlir::Value":$rhs), [{
      build($_builder, $_state, lhs, rhs, ::mlir::Value(), ::mlir::Value());
    }]>
  ];
}

def Kiln_GemmOp : Kiln_Op<"gemm",
    [AttrSizedOperandSegments, AllElementTypesMatch<["a", "b", "output"]>]> {
  let summary = "General matrix multiply: alpha * op(A) * op(B) + beta * C";
  let description = [{
    ONNX `Gemm`. `op(X)` is `X` or its transpose (`trans_a`, `trans_b`); `C` is
    optional and broadcasts to the result. The optional epilogue (set by
    `kiln-fuse-epilogues`) makes the result
    `activation(alpha * op(A) * op(B) + beta * C + residual)`.

    ```mlir
    %y = kiln.gemm %x, %w, %b {trans_b = true} : (tensor<1x2048xf32>, tensor<1000x2048xf32>, tensor<1000xf32>) -> tensor<1x1000xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$a, Kiln_Tensor:$b, Optional<Kiln_Tensor>:$c,
                       Optional<Kiln_Tensor>:$residual,
                       DefaultValuedAttr<F32Attr, "1.0f">:$alpha,
                       DefaultValuedAttr<F32Attr, "1.0f">:$beta,
                       DefaultValuedAttr<BoolAttr, "false">:$trans_a,
                       DefaultValuedAttr<BoolAttr, "false">:$trans_b,
                       Kiln_ActivationAttr:$activation,
                       Kiln_ActivationParamsAttr:$activation_params);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $a `,` $b (`,` $c^)? (`residual` $residual^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

def Kiln_ConvOp : Kiln_Op<"conv",
    [AttrSizedOperandSegments, AllElementTypesMatch<["input", "weight", "output"]>]> {
  let summary = "N-D convolution (NCHW layout, grouped, dilated, strided)";
  let description = [{
    ONNX `Conv` with explicit padding: `pads` holds the begin pads of every
    spatial dim, then the end pads. The importer resolves `auto_pad` into
    `pads`. `strides` and `dilations` have one entry per spatial dim; the kernel
    shape is the weight's. The optional epilogue (set by `kiln-fuse-epilogues`)
    makes the result `activation(conv + bias + residual)`; `residual`
    broadcasts to the result.

    ```mlir
    %y = kiln.conv %x, %w, %b {pads = array<i64: 3, 3, 3, 3>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, group = 1 : i64}
        : (tensor<1x3x224x224xf32>, tensor<64x3x7x7xf32>, tensor<64xf32>) -> tensor<1x64x112x112xf32>
    %z = kiln.conv %x, %w, %b residual %r {activation = "relu", pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
        : (tensor<1x64x56x56xf32>, tensor<64x64x3x3xf32>, tensor<64xf32>, tensor<1x64x56x56xf32>) -> tensor<1x64x56x56xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$weight,
                       Optional<Kiln_Tensor>:$bias,
                       Optional<Kiln_Tensor>:$residual,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<Kiln_I64Attr, "1">:$group,
                       Kiln_ActivationAttr:$activation,
                       Kiln_ActivationParamsAttr:$activation_params);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? (`residual` $residual^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_ConvTransposeOp : Kiln_Op<"conv_transpose",
    [AllElementTypesMatch<["input", "weight", "output"]>]> {
  let summary = "N-D transposed convolution (NCHW layout)";
  let description = [{
    ONNX `ConvTranspose` with explicit `pads` and `output_padding`; the
    importer turns `auto_pad` and `output_shape` into them. The weight has
    layout `C x (M / group) x k1 x ... x kn`.

    ```mlir
    %y = kiln.conv_transpose %x, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, output_padding = array<i64: 1, 1>, group = 1 : i64}
        : (tensor<1x16x8x8xf32>, tensor<16x8x3x3xf32>) -> tensor<1x8x16x16xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_Tensor:$weight,
                       Optional<Kiln_Tensor>:$bias,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$dilations,
                       DenseI64ArrayAttr:$output_padding,
                       DefaultValuedAttr<Kiln_I64Attr, "1">:$group);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $weight (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_MaxPoolOp : Kiln_Op<"max_pool"> {
  let summary = "N-D max pooling";
  let description = [{
    ONNX `MaxPool` (the first result only) with explicit `pads`. Padding never
    wins the max.

    ```mlir
    %y = kiln.max_pool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>}
        : (tensor<1x64x112x112xf32>) -> tensor<1x64x56x56xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<BoolAttr, "false">:$ceil_mode);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_AveragePoolOp : Kiln_Op<"average_pool"> {
  let summary = "N-D average pooling";
  let description = [{
    ONNX `AveragePool` with explicit `pads`. With `count_include_pad` the
    divisor is the full window; otherwise only the elements inside the input.

    ```mlir
    %y = kiln.average_pool %x {kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>}
        : (tensor<1x8x4x4xf32>) -> tensor<1x8x2x2xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$pads, DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$dilations,
                       DefaultValuedAttr<BoolAttr, "false">:$ceil_mode,
                       DefaultValuedAttr<BoolAttr, "false">:$count_include_pad);
  let results = (outs Kiln_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_GlobalAveragePoolOp : Kiln_Op<"global_average_pool"> {
  let summary = "Mean over all spatial dims";
  let description = [{
    ONNX `GlobalAveragePool`: the result keeps the rank, spatial dims become 1.

    ```mlir
    %y = kiln.global_average_pool %x : (tensor<1x2048x7x7xf32>) -> tensor<1x2048x1x1xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input);
  let results = (outs Kiln_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

//===----------------------------------------------------------------------===//
// Normalization and softmax
//===----------------------------------------------------------------------===//

def Kiln_BatchNormOp : Kiln_Op<"batch_norm",
    [AllTypesMatch<["scale", "bias", "mean", "variance"]>]> {
  let summary = "Batch normalization in inference mode";
  let description = [{
    ONNX `BatchNormalization` with `training_mode = 0`:
    `scale * (x - mean) / sqrt(variance + epsilon) + bias`, per channel (dim 1).

    ```mlir
    %y = kiln.batch_norm %x, %s, %b, %m, %v {epsilon = 9.99999974E-6 : f32}
        : (tensor<1x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x64x56x56xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$scale,
                       Kiln_FloatTensor:$bias, Kiln_FloatTensor:$mean,
                       Kiln_FloatTensor:$variance,
                       DefaultValuedAttr<F32Attr, "1e-5f">:$epsilon);
  let results = (outs Kiln_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $scale `,` $bias `,` $mean `,` $variance attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_LayerNormOp : Kiln_Op<"layer_norm",
    [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Layer normalization over the trailing dims from `axis`";
  let description = [{
    ONNX `LayerNormalization` (the first result only): normalizes over dims
    `axis .. rank-1`, then applies `scale` and the optional `bias`, which
    broadcast to the normalized dims.

    ```mlir
    %y = kiln.layer_norm %x, %g, %b {axis = -1 : i64, epsilon = 9.99999996E-13 : f32}
        : (tensor<1x128x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<1x128x768xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$scale,
                       Optional<Kiln_FloatTensor>:$bias,
                       DefaultValuedAttr<Kiln_I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1e-5f">:$epsilon);
  let results = (outs Kiln_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $scale (`,` $bias^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_RMSNormOp : Kiln_Op<"rms_norm",
    [AllElementTypesMatch<["input", "scale", "output"]>]> {
  let summary = "Root-mean-square normalization over the trailing dims";
  let description = [{
    `x / sqrt(mean(x^2) + epsilon) * scale`, the mean taken over dims
    `axis .. rank-1` (ONNX `RMSNormalization` of opset 23). No ONNX opset Kiln
    imports has it: `kiln-recognize-patterns` forms it from the decomposed ops
    (Pow/Mul, ReduceMean, Add, Sqrt, Div/Reciprocal, Mul) exporters write.

    ```mlir
    %y = kiln.rms_norm %x, %g {axis = -1 : i64, epsilon = 9.99999997E-7 : f32}
        : (tensor<1x128x768xf32>, tensor<768xf32>) -> tensor<1x128x768xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$scale,
                       DefaultValuedAttr<Kiln_I64Attr, "-1">:$axis,
                       DefaultValuedAttr<F32Attr, "1e-5f">:$epsilon);
  let results = (outs Kiln_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $scale attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_RotaryOp : Kiln_Op<"rotary",
    [AllElementTypesMatch<["input", "cos", "sin", "output"]>]> {
  let summary = "Rotary position embedding, rotate-half form";
  let description = [{
    `input * cos + rotate_half(input) * sin` over the last dim, of even
    extent 2h, where `rotate_half(x) = concat(-x[..., h:], x[..., :h])`
    (LLaMA-style models); `cos` and `sin` broadcast to the input. No ONNX
    opset Kiln imports has it: `kiln-recognize-patterns` forms it from the
    Slice, Neg, Concat, Mul and Add ops exporters write.

    ```mlir
    %y = kiln.rotary %q, %cos, %sin
        : (tensor<1x12x128x64xf32>, tensor<128x64xf32>, tensor<128x64xf32>) -> tensor<1x12x128x64xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input, Kiln_FloatTensor:$cos,
                       Kiln_FloatTensor:$sin);
  let results = (outs Kiln_FloatTensor:$output);
  let assemblyFormat = [{
    $input `,` $cos `,` $sin attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_AttentionOp : Kiln_Op<"attention",
    [AllElementTypesMatch<["query", "key", "value", "output"]>]> {
  let summary = "Scaled dot-product attention, without the score matrix";
  let description = [{
    `softmax(mask(scale * query * key^T)) * value` over the last two dims; the
    leading (batch, head) dims of `query`, `key` and `value` are equal.
    `query` is `[..., Sq, D]`, `key` `[..., Sk, D]`, `value` `[..., Sk, Dv]`
    and the result `[..., Sq, Dv]`. With grouped-query attention `key` and
    `value` have fewer heads (dim rank - 3, a divisor G of the query's H):
    query head h attends with key/value head h / (H / G).

    The optional `mask` broadcasts to the scores `[..., Sq, Sk]`. A float mask
    is added to the scaled scores (BERT's additive padding mask); a bool mask
    replaces the scores where it is true by `mask_fill` (the `Where` of a
    GPT-2 causal mask).

    `kiln-fuse-attention` forms this op from MatMul, Mul/Div, Add/Where,
    Softmax and MatMul, and takes key and value before an Expand/Reshape
    that repeats their heads for the query's. It lowers to a tiled online-softmax (flash-attention
    style) loop nest whose temporaries are tile-sized: memory does not grow
    with `Sq * Sk`.

    ```mlir
    %o = kiln.attention %q, %k, %v mask %m {scale = 1.250000e-01 : f32}
        : (tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x1x1x128xf32>) -> tensor<1x8x128x64xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$query, Kiln_FloatTensor:$key,
                       Kiln_FloatTensor:$value, Optional<Kiln_Tensor>:$mask,
                       F32Attr:$scale, OptionalAttr<F32Attr>:$mask_fill);
  let results = (outs Kiln_FloatTensor:$output);
  let assemblyFormat = [{
    $query `,` $key `,` $value (`mask` $mask^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

/// Not a graph op: what convert-kiln-to-linalg makes of a kiln.attention
/// for a CPU runtime kernel. Destination-style, on tensors or (after
/// bufferization) on buffers, so it has its own base rather than Kiln_Op.
def Kiln_FlashAttentionOp : Op<Kiln_Dialect, "flash_attention",
    [DestinationStyleOpInterface,
     DeclareOpInterfaceMethods<MemoryEffectsOpInterface>]> {
  defvar TensorOrBuffer = AnyTypeOf<[AnyRankedTensor, AnyMemRef]>;
  let summary = "kiln.attention as one call of the CPU attention kernel";
  let description = [{
    The semantics of `kiln.attention` (`softmax(mask(scale * query *
    key^T)) * value`, a float mask added, a bool mask replacing the scores
    by `mask_fill` where true, grouped-query heads), written into `init`:
    destination-style on tensors, and on buffers once bufferized, when
    `kiln-cpu-lower-ukernels` turns it into a call of the runtime's fused
    attention kernel (runtime/cpu/attention.c). `convert-kiln-to-linalg`
    with `attention-kernel` forms it for attention with many query rows
    (more than 16, a static count), f32 operands, at most two leading
    (batch, head) dims and a mask of f32 or i1 elements; other attention
    lowers to linalg loops.

    ```mlir
    %o = kiln.flash_attention ins(%q, %k, %v : tensor<1x12x128x64xf32>, tensor<1x12x128x64xf32>, tensor<1x12x128x64xf32>)
        mask(%m : tensor<1x1x1x128xf32>) outs(%init : tensor<1x12x128x64xf32>)
        {scale = 1.250000e-01 : f32} -> tensor<1x12x128x64xf32>
    ```
  }];
  let arguments = (ins TensorOrBuffer:$query, TensorOrBuffer:$key,
                       TensorOrBuffer:$value, TensorOrBuffer:$init,
                       Optional<TensorOrBuffer>:$mask,
                       F32Attr:$scale, OptionalAttr<F32Attr>:$mask_fill);
  let results = (outs Variadic<AnyRankedTensor>:$result);
  let assemblyFormat = [{
    `ins` `(` $query `,` $key `,` $value `:` type($query) `,` type($key) `,`
    type($value) `)` (`mask` `(` $mask^ `:` type($mask) `)`)? `outs` `(`
    $init `:` type($init) `)` attr-dict (`->` type($result)^)?
  }];
  let extraClassDeclaration = [{
    ::mlir::MutableOperandRange getDpsInitsMutable() {
      return getInitMutable();
    }
  }];
  let hasVerifier = 1;
}

def Kiln_SoftmaxOp : Kiln_Op<"softmax"> {
  let summary = "Softmax along one axis";
  let description = [{
    ONNX `Softmax` (opset 13 semantics: one axis). The importer expresses the
    flatten-to-2-D semantics of older opsets with reshapes around this op.

    ```mlir
    %y = kiln.softmax %x {axis = -1 : i64} : (tensor<1x8x128x128xf32>) -> tensor<1x8x128x128xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<Kiln_I64Attr, "-1">:$axis);
  let results = (outs Kiln_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_LogSoftmaxOp : Kiln_Op<"log_softmax"> {
  let summary = "Log of the softmax along one axis";
  let description = [{
    ONNX `LogSoftmax` (opset 13 semantics; the importer reshapes for older
    opsets as for softmax): `x - max - log(sum(exp(x - max)))`.

    ```mlir
    %y = kiln.log_softmax %x {axis = -1 : i64} : (tensor<2x10xf32>) -> tensor<2x10xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<Kiln_I64Attr, "-1">:$axis);
  let results = (outs Kiln_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_HardmaxOp : Kiln_Op<"hardmax"> {
  let summary = "One-hot of the first maximum along one axis";
  let description = [{
    ONNX `Hardmax` (opset 13 semantics): 1 where the element is the first
    maximum along `axis`, 0 elsewhere.

    ```mlir
    %y = kiln.hardmax %x {axis = -1 : i64} : (tensor<2x10xf32>) -> tensor<2x10xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input,
                       DefaultValuedAttr<Kiln_I64Attr, "-1">:$axis);
  let results = (outs Kiln_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

class Kiln_ReduceOp<string mnemonic, string what> : Kiln_Op<mnemonic, [], [{
      return ::kiln::inferReductionResult(location, adaptor.getInput(),
          adaptor.getAxes(), adaptor.getKeepdims(), inferredReturnTypes);
    }]> {
  let summary = "The " # what # " over the given axes";
  let description = "ONNX `Reduce*`. `axes` are constant (the importer folds "
    # "the opset 13/18 axes operand into the attribute); an empty list reduces "
    # "every dim. With `keepdims` reduced dims stay as 1.\n\n```mlir\n%y = kiln."
    # mnemonic # " %x {axes = array<i64: -1>, keepdims = true} : "
    # "(tensor<2x3x4xf32>) -> tensor<2x3x1xf32>\n```";
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$axes,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_ReduceMeanOp : Kiln_ReduceOp<"reduce_mean", "mean">;
def Kiln_ReduceMinOp : Kiln_ReduceOp<"reduce_min", "minimum">;
def Kiln_ReduceProdOp : Kiln_ReduceOp<"reduce_prod", "product">;
def Kiln_ReduceL1Op : Kiln_ReduceOp<"reduce_l1", "sum of absolute values">;
def Kiln_ReduceL2Op : Kiln_ReduceOp<"reduce_l2", "Euclidean norm">;
def Kiln_ReduceLogSumOp : Kiln_ReduceOp<"reduce_log_sum", "log of the sum">;
def Kiln_ReduceLogSumExpOp : Kiln_ReduceOp<"reduce_log_sum_exp",
                                           "log of the sum of exponentials">;
def Kiln_ReduceSumSquareOp : Kiln_ReduceOp<"reduce_sum_square",
                                           "sum of squares">;

class Kiln_ArgOp<string mnemonic, string what> : Kiln_Op<mnemonic> {
  let summary = "Index of the " # what # " along an axis";
  let description = "ONNX `Arg" # what # "`: i64 indices; with "
    # "`select_last_index` ties resolve to the last occurrence.\n\n```mlir\n"
    # "%i = kiln." # mnemonic # " %x {axis = 1 : i64, keepdims = false} : "
    # "(tensor<2x5xf32>) -> tensor<2xi64>\n```";
  let arguments = (ins Kiln_Tensor:$input,
                       DefaultValuedAttr<Kiln_I64Attr, "0">:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$keepdims,
                       DefaultValuedAttr<BoolAttr, "false">:$select_last_index);
  let results = (outs RankedTensorOf<[I64]>:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_ArgMaxOp : Kiln_ArgOp<"argmax", "Max">;
def Kiln_ArgMinOp : Kiln_ArgOp<"argmin", "Min">;

def Kiln_SizeOp : Kiln_Op<"size"> {
  let summary = "The number of elements of a tensor, as an i64 scalar";
  let description = [{
    ONNX `Size`. Folds to a constant when the input's shape is static.

    ```mlir
    %n = kiln.size %x : (tensor<?x4xf32>) -> tensor<i64>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs 0DTensorOf<[I64]>:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}
def Kiln_ReduceSumOp : Kiln_ReduceOp<"reduce_sum", "sum">;
def Kiln_ReduceMaxOp : Kiln_ReduceOp<"reduce_max", "maximum">;

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

def Kiln_ReshapeOp : Kiln_Op<"reshape",
    [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Reshape to a shape given as a 1-D tensor";
  let description = [{
    ONNX `Reshape`. In `shape`, -1 stands for the dim that makes the element
    count match and (unless `allowzero`) 0 copies the input's dim. Dims of the
    result are static where `shape` is a constant and the input allows.

    ```mlir
    %y = kiln.reshape %x, %s : (tensor<1x128x768xf32>, tensor<4xi64>) -> tensor<1x128x12x64xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$shape,
                       DefaultValuedAttr<BoolAttr, "false">:$allowzero);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input `,` $shape attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_TransposeOp : Kiln_Op<"transpose",
    [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Permute dims";
  let description = [{
    ONNX `Transpose`: result dim `i` is input dim `perm[i]`. The importer fills
    in the default perm (reversed dims).

    ```mlir
    %y = kiln.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x128x12x64xf32>) -> tensor<1x12x128x64xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$perm);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
  let hasCanonicalizer = 1;
}

def Kiln_ConcatOp : Kiln_Op<"concat"> {
  let summary = "Concatenate tensors along an axis";
  let description = [{
    ONNX `Concat`.

    ```mlir
    %y = kiln.concat %a, %b {axis = 1 : i64} : (tensor<1x64x8x8xf32>, tensor<1x32x8x8xf32>) -> tensor<1x96x8x8xf32>
    ```
  }];
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs, Kiln_I64Attr:$axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_CacheUpdateOp : Kiln_Op<"cache_update",
    [AllElementTypesMatch<["cache", "update", "output"]>]> {
  let summary = "New rows written into a key/value cache buffer";
  let description = [{
    `cache` with `update` written at row `offset` (one integer) along
    `axis`; every other dim of `update` equals the cache's. No ONNX operator:
    `kiln-bind-kv-cache` forms it where a decoder concatenates a past input
    and new rows into a present output, and the caller's buffer has room for
    them. It lowers to a write into the cache's buffer, in place. A write
    that would not fit (offset < 0, or offset plus the update's rows above
    the cache's extent) stops the run with an error instead.

    ```mlir
    %c = kiln.cache_update %cache, %k, %past {axis = 2 : i64}
        : (tensor<1x12x?x64xf32>, tensor<1x12x1x64xf32>, tensor<1xi64>) -> tensor<1x12x?x64xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$cache, Kiln_Tensor:$update,
                       Kiln_IndexTensor:$offset, Kiln_I64Attr:$axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $cache `,` $update `,` $offset attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_SplitOp : Kiln_Op<"split"> {
  let summary = "Split a tensor into pieces along an axis";
  let description = [{
    ONNX `Split`. `sizes` gives each piece's extent; without it the dim is
    split into `num_outputs` equal pieces (the last one smaller if the dim does
    not divide, as in opset 18).

    ```mlir
    %q, %k, %v = kiln.split %x {axis = 2 : i64, sizes = array<i64: 768, 768, 768>, num_outputs = 3 : i64}
        : (tensor<1x128x2304xf32>) -> (tensor<1x128x768xf32>, tensor<1x128x768xf32>, tensor<1x128x768xf32>)
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_I64Attr:$axis,
                       OptionalAttr<DenseI64ArrayAttr>:$sizes, Kiln_I64Attr:$num_outputs);
  let results = (outs Variadic<Kiln_Tensor>:$outputs);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_SliceOp : Kiln_Op<"slice",
    [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Strided slice along the given axes";
  let description = [{
    ONNX `Slice` (opset 10 form: every parameter is an operand; the importer
    supplies default `axes` and `steps`). Starts and ends are clamped as ONNX
    specifies, negative values count from the end.

    ```mlir
    %y = kiln.slice %x, %starts, %ends, %axes, %steps
        : (tensor<1x128x768xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1x1x768xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$starts,
                       Kiln_IndexTensor:$ends, Kiln_IndexTensor:$axes,
                       Kiln_IndexTensor:$steps);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $starts `,` $ends `,` $axes `,` $steps attr-dict `:` functional-type(operands, results)
  }];
  let hasFolder = 1;
}

def Kiln_GatherOp : Kiln_Op<"gather",
    [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Gather slices along an axis by index";
  let description = [{
    ONNX `Gather`: the result shape is
    `input.shape[:axis] + indices.shape + input.shape[axis+1:]`; negative
    indices count from the end.

    ```mlir
    %e = kiln.gather %table, %ids {axis = 0 : i64} : (tensor<30522x768xf32>, tensor<1x128xi64>) -> tensor<1x128x768xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$indices,
                       DefaultValuedAttr<Kiln_I64Attr, "0">:$axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_GatherElementsOp : Kiln_Op<"gather_elements",
    [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Gather single elements along an axis by index";
  let description = [{
    ONNX `GatherElements`: `output[i][j][k] = input[index[i][j][k]][j][k]`
    for axis 0 (and likewise for other axes). The result has the shape of
    `indices`; negative indices count from the end.

    ```mlir
    %y = kiln.gather_elements %x, %i {axis = 1 : i64} : (tensor<4x10xf32>, tensor<4x1xi64>) -> tensor<4x1xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$indices,
                       DefaultValuedAttr<Kiln_I64Attr, "0">:$axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_TriluOp : Kiln_Op<"trilu", [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Upper or lower triangle of the last two dims";
  let description = [{
    ONNX `Trilu`: keeps the elements on and above (`upper`) or on and below
    the `k`-th diagonal of every matrix in the last two dims, zeroes the rest.
    `k` is an optional one-element integer tensor read at run time (0 when
    absent).

    ```mlir
    %y = kiln.trilu %x k %k {upper = false} : (tensor<2x4x5xf32>, tensor<i64>) -> tensor<2x4x5xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Optional<Kiln_IndexTensor>:$k,
                       DefaultValuedAttr<BoolAttr, "true">:$upper);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input (`k` $k^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_SqueezeOp : Kiln_Op<"squeeze",
    [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Remove dims of extent 1";
  let description = [{
    ONNX `Squeeze` with constant `axes` (the importer folds the opset 13 axes
    operand). An empty `axes` removes every static dim of extent 1.

    ```mlir
    %y = kiln.squeeze %x {axes = array<i64: 0>} : (tensor<1x768xf32>) -> tensor<768xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_UnsqueezeOp : Kiln_Op<"unsqueeze",
    [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Insert dims of extent 1";
  let description = [{
    ONNX `Unsqueeze` with constant `axes`, which index the result.

    ```mlir
    %y = kiln.unsqueeze %x {axes = array<i64: 1, 2>} : (tensor<1x128xf32>) -> tensor<1x1x1x128xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$axes);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Kiln_FlattenOp : Kiln_Op<"flatten",
    [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Flatten to a matrix at an axis";
  let description = [{
    ONNX `Flatten`: dims before `axis` multiply into the rows, the rest into
    the columns.

    ```mlir
    %y = kiln.flatten %x {axis = 1 : i64} : (tensor<1x2048x1x1xf32>) -> tensor<1x2048xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DefaultValuedAttr<Kiln_I64Attr, "1">:$axis);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_ExpandOp : Kiln_Op<"expand",
    [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Broadcast to a shape given as a 1-D tensor";
  let description = [{
    ONNX `Expand`: the result shape is the broadcast of the input's shape and
    `shape`.

    ```mlir
    %y = kiln.expand %x, %s : (tensor<1x1x4xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$shape);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input `,` $shape attr-dict `:` functional-type(operands, results)";
  let hasFolder = 1;
}

def Kiln_PadOp : Kiln_Op<"pad", [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Pad a tensor";
  let description = [{
    ONNX `Pad` (opset 11 form: `pads` and the optional `constant_value` are
    operands; opset 18 `axes` are folded into `pads` by the importer). `pads`
    holds every dim's begin pad, then every end pad; negative pads crop.

    ```mlir
    %y = kiln.pad %x, %pads {mode = "reflect"} : (tensor<1x3x8x8xf32>, tensor<8xi64>) -> tensor<1x3x10x10xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$pads,
                       Optional<Kiln_Tensor>:$constant_value,
                       DefaultValuedAttr<Kiln_StrAttrOf<["constant", "reflect", "edge", "wrap"]>,
                                         "\"constant\"">:$mode);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $pads (`,` $constant_value^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_Im2ColOp : Kiln_Op<"im2col", [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "The sliding windows of an NCHW tensor as matrix columns";
  let description = [{
    The patches a 2-D convolution with a `kernel_shape` window, `strides`
    and `dilations` reads from an already padded [N, C, H, W] input, laid
    out [N, C*kh*kw, OH*OW]: row c*kh*kw + i*kw + j, column oh*OW + ow holds
    `input[n, c, oh*sh + i*dh, ow*sw + j*dw]`. A weight viewed as
    [M, C*kh*kw] times this matrix is the convolution, already NCHW; the
    int8 convolutions are built so (kiln-quantize-int8,
    kiln-quantize-contractions). Not an ONNX op.

    ```mlir
    %cols = kiln.im2col %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
        : (tensor<1x64x58x58xui8>) -> tensor<1x576x3136xui8>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, DenseI64ArrayAttr:$kernel_shape,
                       DenseI64ArrayAttr:$strides,
                       DenseI64ArrayAttr:$dilations);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_ResizeOp : Kiln_Op<"resize",
    [AttrSizedOperandSegments, AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Resize (upsample or downsample) by scales or to sizes";
  let description = [{
    ONNX `Resize` (opset 11+). Exactly one of `scales` and `sizes` is given;
    `roi` matters only for `coordinate_transformation_mode =
    "tf_crop_and_resize"`. Opset 18 `axes` and `keep_aspect_ratio_policy` are
    resolved by the importer into full-rank `scales`/`sizes`.

    ```mlir
    %y = kiln.resize %x scales %s {mode = "nearest"} : (tensor<1x3x8x8xf32>, tensor<4xf32>) -> tensor<1x3x16x16xf32>
    ```
  }];
  let arguments = (ins
    Kiln_Tensor:$input,
    Optional<Kiln_FloatTensor>:$roi,
    Optional<RankedTensorOf<[F32]>>:$scales,
    Optional<RankedTensorOf<[I64]>>:$sizes,
    DefaultValuedAttr<Kiln_StrAttrOf<["nearest", "linear", "cubic"]>, "\"nearest\"">:$mode,
    DefaultValuedAttr<Kiln_StrAttrOf<["half_pixel", "half_pixel_symmetric",
        "pytorch_half_pixel", "align_corners", "asymmetric",
        "tf_crop_and_resize", "tf_half_pixel_for_nn"]>,
        "\"half_pixel\"">:$coordinate_transformation_mode,
    DefaultValuedAttr<Kiln_StrAttrOf<["round_prefer_floor", "round_prefer_ceil",
        "floor", "ceil"]>, "\"round_prefer_floor\"">:$nearest_mode,
    DefaultValuedAttr<F32Attr, "-0.75f">:$cubic_coeff_a,
    DefaultValuedAttr<BoolAttr, "false">:$exclude_outside,
    DefaultValuedAttr<F32Attr, "0.0f">:$extrapolation_value);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input (`roi` $roi^)? (`scales` $scales^)? (`sizes` $sizes^)? attr-dict
    `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Sequences, scans, scatters and selections
//===----------------------------------------------------------------------===//

def Kiln_RangeOp : Kiln_Op<"range", [AllTypesMatch<["start", "limit", "delta"]>]> {
  let summary = "The 1-D sequence start, start + delta, ... up to limit";
  let description = [{
    ONNX `Range`: `max(ceil((limit - start) / delta), 0)` elements,
    `start + i * delta`. The operands are rank-0 tensors read at run time, so
    the length is usually dynamic.

    ```mlir
    %r = kiln.range %start, %limit, %delta : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$start, Kiln_Tensor:$limit, Kiln_Tensor:$delta);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$start `,` $limit `,` $delta attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_CumSumOp : Kiln_Op<"cumsum", [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Cumulative sum along an axis given at run time";
  let description = [{
    ONNX `CumSum`. `axis` is a one-element integer tensor (negative values
    count from the end); `exclusive` leaves the current element out and
    `reverse` sums from the end.

    ```mlir
    %y = kiln.cumsum %x, %axis {exclusive = true} : (tensor<2x3xf32>, tensor<i64>) -> tensor<2x3xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$axis,
                       DefaultValuedAttr<BoolAttr, "false">:$exclusive,
                       DefaultValuedAttr<BoolAttr, "false">:$reverse);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input `,` $axis attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_GatherNDOp : Kiln_Op<"gather_nd",
    [AllElementTypesMatch<["input", "output"]>]> {
  let summary = "Gather slices by multi-dimensional index tuples";
  let description = [{
    ONNX `GatherND`: the last dim of `indices` holds index tuples into the
    dims of `input` after the first `batch_dims` (which `indices` shares);
    the result is `indices.shape[:-1] + input.shape[batch_dims + k:]` for
    tuples of length `k`. Negative indices count from the end.

    ```mlir
    %y = kiln.gather_nd %x, %i : (tensor<2x2xf32>, tensor<2x2xi64>) -> tensor<2xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$indices,
                       DefaultValuedAttr<Kiln_I64Attr, "0">:$batch_dims);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$input `,` $indices attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_ScatterReductionAttr : DefaultValuedAttr<Kiln_StrAttrOf<["none", "add",
    "mul", "max", "min"]>, "\"none\"">;

def Kiln_ScatterElementsOp : Kiln_Op<"scatter_elements",
    [AllElementTypesMatch<["input", "updates", "output"]>]> {
  let summary = "A copy of the input with single elements replaced by index";
  let description = [{
    ONNX `ScatterElements` (and the deprecated `Scatter`): for each position
    `p` of `updates`, `output[p with p[axis] = indices[p]] = updates[p]`, or
    combined with the current value by `reduction`. Updates apply in order,
    so duplicate indices are well defined. Negative indices count from the
    end.

    ```mlir
    %y = kiln.scatter_elements %x, %i, %u {axis = 1 : i64, reduction = "add"}
        : (tensor<3x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<3x3xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$indices,
                       Kiln_Tensor:$updates,
                       DefaultValuedAttr<Kiln_I64Attr, "0">:$axis,
                       Kiln_ScatterReductionAttr:$reduction);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_ScatterNDOp : Kiln_Op<"scatter_nd",
    [AllElementTypesMatch<["input", "updates", "output"]>]> {
  let summary = "A copy of the input with slices replaced by index tuples";
  let description = [{
    ONNX `ScatterND`: each index tuple in the last dim of `indices` names a
    slice of `input` that the matching slice of `updates` replaces (or is
    combined with by `reduction`), in order.

    ```mlir
    %y = kiln.scatter_nd %x, %i, %u : (tensor<8xf32>, tensor<4x1xi64>, tensor<4xf32>) -> tensor<8xf32>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$indices,
                       Kiln_Tensor:$updates, Kiln_ScatterReductionAttr:$reduction);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = [{
    $input `,` $indices `,` $updates attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Kiln_NonZeroOp : Kiln_Op<"non_zero"> {
  let summary = "The indices of the non-zero elements";
  let description = [{
    ONNX `NonZero`: a `[rank, count]` i64 tensor of the coordinates of the
    non-zero elements in row-major order; `count` is known at run time only.

    ```mlir
    %i = kiln.non_zero %x : (tensor<2x3xi1>) -> tensor<2x?xi64>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input);
  let results = (outs RankedTensorOf<[I64]>:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
}

def Kiln_TopKOp : Kiln_Op<"top_k"> {
  let summary = "The k largest or smallest elements along an axis";
  let description = [{
    ONNX `TopK`: values and their i64 indices along `axis`, `k` read at run
    time from a one-element tensor. Results are ordered (largest first, or
    smallest first without `largest`); equal values keep the lower index
    first.

    ```mlir
    %v, %i = kiln.top_k %x, %k {axis = 1 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x?xf32>, tensor<3x?xi64>)
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_IndexTensor:$k,
                       DefaultValuedAttr<Kiln_I64Attr, "-1">:$axis,
                       DefaultValuedAttr<BoolAttr, "true">:$largest);
  let results = (outs Kiln_Tensor:$values, RankedTensorOf<[I64]>:$indices);
  let assemblyFormat = "$input `,` $k attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_UniqueOp : Kiln_Op<"unique"> {
  let summary = "The distinct rows of a matrix";
  let description = [{
    ONNX `Unique` on `[n, s]` rows (the importer moves the axis first and
    flattens the rest): the distinct rows `[u, s]`, ascending in
    lexicographic order with `sorted`, else in the order they first occur;
    the index of each one's first occurrence `[u]`; for every input row, the
    position of its row in the result `[n]`; and how often each occurs
    `[u]`. `u` is known at run time only.

    ```mlir
    %y, %first, %inverse, %counts = kiln.unique %x {sorted = true} : (tensor<6x2xf32>) -> (tensor<?x2xf32>, tensor<?xi64>, tensor<6xi64>, tensor<?xi64>)
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input,
                       DefaultValuedAttr<BoolAttr, "true">:$sorted);
  let results = (outs Kiln_Tensor:$output, RankedTensorOf<[I64]>:$first,
                      RankedTensorOf<[I64]>:$inverse,
                      RankedTensorOf<[I64]>:$counts);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_EinsumOp : Kiln_Op<"einsum"> {
  let summary = "Einstein summation";
  let description = [{
    ONNX `Einsum` with an explicit or implicit output (`->` optional; the
    implicit output is the labels that occur once, in alphabetical order).
    A label repeated within one operand takes its diagonal; `...` stands for
    broadcast batch dims.

    ```mlir
    %y = kiln.einsum %a, %b {equation = "bij,bjk->bik"} : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
    ```
  }];
  let arguments = (ins Variadic<Kiln_Tensor>:$inputs, StrAttr:$equation);
  let results = (outs Kiln_Tensor:$output);
  let assemblyFormat = "$inputs attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_NonMaxSuppressionOp : Kiln_Op<"non_max_suppression"> {
  let summary = "Greedy box selection by score and overlap";
  let description = [{
    ONNX `NonMaxSuppression` on boxes in canonical form: `boxes` is
    `[batch, n, 4]` with each box as `(lo0, lo1, hi0, hi1)` (the importer
    converts center-point boxes and orders flipped corners), `scores` is
    `[batch, classes, n]`. For every batch and class, boxes whose score is
    above `score_threshold` are picked in order of falling score (equal scores:
    lower index first); a pick removes the remaining boxes whose IoU with it
    is above `iou_threshold`; at most `max_output` boxes are picked per class.
    The result lists `(batch, class, box)` of each pick, `count` known at run
    time only. The three limits are rank-0 tensors.

    ```mlir
    %s = kiln.non_max_suppression %boxes, %scores, %max, %iou, %min_score : (tensor<1x6x4xf32>, tensor<1x1x6xf32>, tensor<i64>, tensor<f32>, tensor<f32>) -> tensor<?x3xi64>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$boxes, Kiln_FloatTensor:$scores,
                       RankedTensorOf<[I64]>:$max_output,
                       Kiln_FloatTensor:$iou_threshold,
                       Kiln_FloatTensor:$score_threshold);
  let results = (outs RankedTensorOf<[I64]>:$selected);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_DetOp : Kiln_Op<"det"> {
  let summary = "Determinant of square matrices";
  let description = [{
    ONNX `Det`: the determinant of each `[m, m]` matrix in the innermost two
    dims, by Gaussian elimination with partial pivoting.

    ```mlir
    %d = kiln.det %x : (tensor<3x2x2xf32>) -> tensor<3xf32>
    ```
  }];
  let arguments = (ins Kiln_FloatTensor:$input);
  let results = (outs Kiln_FloatTensor:$output);
  let assemblyFormat = "$input attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Quantization
//===----------------------------------------------------------------------===//

def Kiln_QuantizeLinearOp : Kiln_Op<"quantize_linear"> {
  let summary = "Linear quantization: saturate(round(x / scale) + zero_point)";
  let description = [{
    ONNX `QuantizeLinear`. `scale` (float) and the optional `zero_point` (of
    the result's element type) are scalars, or 1-D along dim `axis` of the
    input (per-axis quantization). The input (float, or i32 as opset 10
    allows) is divided in the float type of `scale`; the quotient is rounded
    half to even and
    saturated to the range of `to`, an 8- or 16-bit integer type.

    The op stays in the IR through the quantization passes, which turn
    quantized contractions into integer ones; `kiln-decompose-quantization`
    then expresses what remains with arithmetic ops.

    ```mlir
    %q = kiln.quantize_linear %x, %s, %zp {axis = 1 : i64, to = ui8} : (tensor<1x64xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x64xui8>
    ```
  }];
  let arguments = (ins Kiln_Tensor:$input, Kiln_FloatTensor:$scale,
                       Optional<Kiln_IntTensor>:$zero_point,
                       DefaultValuedAttr<Kiln_I64Attr, "1">:$axis,
                       TypeAttrOf<AnyInteger>:$to);
  let results = (outs Kiln_IntTensor:$output);
  let assemblyFormat = "$input `,` $scale (`,` $zero_point^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_DequantizeLinearOp : Kiln_Op<"dequantize_linear"> {
  let summary = "Linear dequantization: (x - zero_point) * scale";
  let description = [{
    ONNX `DequantizeLinear`: the difference is taken exactly in i32, then
    converted to the float type of `scale` and multiplied. `scale` and the
    optional `zero_point` (of the input's element type) are scalars or 1-D
    along dim `axis` of the input.

    ```mlir
    %x = kiln.dequantize_linear %q, %s, %zp {axis = 0 : i64} : (tensor<64x3xi8>, tensor<64xf32>, tensor<64xi8>) -> tensor<64x3xf32>
    ```
  }];
  let arguments = (ins Kiln_IntTensor:$input, Kiln_FloatTensor:$scale,
                       Optional<Kiln_IntTensor>:$zero_point,
                       DefaultValuedAttr<Kiln_I64Attr, "1">:$axis);
  let results = (outs Kiln_FloatTensor:$output);
  let assemblyFormat = "$input `,` $scale (`,` $zero_point^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_DequantizeBlocksOp : Kiln_Op<"dequantize_blocks"> {
  let summary = "Block-wise dequantization: (input - zero point) * scale of its block";
  let description = [{
    Each element of the integer `input`, less the optional `zero_point` of
    its block, times the `scale` of its block: the scale (and the zero
    point, of the input's element type) has the input's shape except along
    `axis`, where one scale covers `block_size` consecutive elements (ONNX
    `DequantizeLinear` of opset 21 with `block_size`). `kiln-quantize-weights`
    writes it for weight-only quantization: the weight of a `matmul`, in
    groups of k, stays integer until the product's kernel reads it; 4-bit
    groups are asymmetric (a zero point per group), 8-bit ones symmetric.

    ```mlir
    %w = kiln.dequantize_blocks %q, %s {axis = 0 : i64, block_size = 32 : i64} : (tensor<768x3072xi8>, tensor<24x3072xf32>) -> tensor<768x3072xf32>
    %v = kiln.dequantize_blocks %q, %s zero_point %z {axis = 0 : i64, block_size = 32 : i64} : (tensor<768x3072xi8>, tensor<24x3072xf32>, tensor<24x3072xi8>) -> tensor<768x3072xf32>
    ```
  }];
  let arguments = (ins Kiln_IntTensor:$input, Kiln_FloatTensor:$scale,
                       Optional<Kiln_IntTensor>:$zero_point,
                       Kiln_I64Attr:$axis, Kiln_I64Attr:$block_size);
  let results = (outs Kiln_FloatTensor:$output);
  let assemblyFormat = "$input `,` $scale (`zero_point` $zero_point^)? attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Kiln_MatMulIntegerOp : Kiln_Op<"matmul_integer", [AttrSizedOperandSegments]> {
  let summary = "Exact 8-bit matrix product with zero points, into i32";
  let description = [{
    ONNX `MatMulInteger` with numpy matmul semantics (as `kiln.matmul`):
    `sum_k (lhs[m, k] - lhs_zero_point) * (rhs[k, n] - rhs_zero_point)`,
    exactly in i32. `lhs` and `rhs` hold signed or unsigned 8-bit integers
    (independently); each zero point has its operand's element type and is a
    scalar, or 1-D: per row of `lhs` ([M]) or per column of `rhs` ([N]).
    Canonicalization drops a constant zero point that is zero everywhere and
    makes one whose values are all equal a scalar.

    ```mlir
    %y = kiln.matmul_integer %a, %w lhs_zero_point %za : (tensor<1x128x768xui8>, tensor<768x768xi8>, tensor<ui8>) -> tensor<1x128x768xi32>
    ```
  }];
  let arguments = (ins Kiln_IntTensor:$lhs, Kiln_IntTensor:$rhs,
                       Optional<Kiln_IntTensor>:$lhs_zero_point,
                       Optional<Kiln_IntTensor>:$rhs_zero_point);
  let results = (outs RankedTensorOf<[I32]>:$output);
  let assemblyFormat = [{
    $lhs `,` $rhs (`lhs_zero_point` $lhs_zero_point^)? (`rhs_zero_point` $rhs_zero_point^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

#endif // KILN_DIALECT_KILN_IR_KILNOPS_TD
