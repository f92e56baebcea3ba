//===- Passes.td - kiln dialect passes ----------------------*- tablegen -*-===//

#ifndef KILN_DIALECT_KILN_TRANSFORMS_PASSES_TD
#define KILN_DIALECT_KILN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Shapes
//===----------------------------------------------------------------------===//

def KilnInferShapes : Pass<"kiln-infer-shapes", "mlir::func::FuncOp"> {
  let summary = "Refine result types from operand types and constants";
  let description = [{
    Re-runs every kiln op's result-type inference in program order and keeps
    the more precise of the inferred and the declared type, so that a dim fixed
    at the inputs (`kiln-compile --input-shape`) or a shape operand that became
    constant after folding reaches every value downstream. The function's
    result types are updated to match its return.
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
}

//===----------------------------------------------------------------------===//
// The model's interface
//===----------------------------------------------------------------------===//

def KilnBindKVCache : Pass<"kiln-bind-kv-cache", "mlir::ModuleOp"> {
  let summary = "Let the caller's key/value cache buffers take the new rows";
  let description = [{
    For `kiln-compile --bind-kv-cache`. A decoder exported with a key/value
    cache returns each `present` as `Concat(past, new rows)`, so every step
    copies the whole cache. This pass rewrites every output that is a
    two-input `kiln.concat` of a graph input and new rows:
    - the past input becomes the caller's cache buffer, with room along the
      concat axis (that dim becomes dynamic), and keeps its name;
    - a new input `kiln_past_length` (`tensor<1xi64>`) says how many rows of
      the buffers hold the past; the graph sees `past` as that slice;
    - the new rows go into the buffer at that row (`kiln.cache_update`,
      in place), and the graph's uses of `present` read the buffer's first
      past + new rows;
    - the present output is removed: it is the buffer's first past + new
      rows when the run returns.
    The cache arguments are marked `kiln.kv_cache`, which tells
    `kiln-record-signature` that the run writes them. It is an error when no
    output has that form.
  }];
  let options = [
    Option<"functionName", "function", "std::string", "\"main_graph\"",
           "The model function">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

//===----------------------------------------------------------------------===//
// Quantization (before the graph optimizations)
//===----------------------------------------------------------------------===//

def KilnQuantizeContractions
    : Pass<"kiln-quantize-contractions", "mlir::func::FuncOp"> {
  let summary = "Turn dequantized MatMul, Gemm and Conv into integer products";
  let description = [{
    A `matmul` (or a `gemm` without transposed A) whose operands are both
    `dequantize_linear` of 8-bit tensors becomes a `matmul_integer` of the
    quantized tensors, with their zero points, followed by one
    `dequantize_linear` of the i32 accumulator by the product of the scales:
    `(qa - za) sa * (qb - zb) sb = sa sb (qa - za)(qb - zb)`. The lhs must be
    quantized per tensor; the rhs per tensor or per output column (axis = its
    last dim, or the first for a gemm's transposed B). Gemm's `alpha` joins
    the scale and `beta * C` is added after. The result equals the float
    product up to float rounding, and the product runs on integer kernels.
    An ungrouped 2-D `conv` of a per-tensor dequantized input and a
    constant weight dequantized per tensor or per output channel (axis 0)
    becomes the same integer product over im2col patches as
    kiln-quantize-int8 builds (the input padded with its zero point, the
    [M, C*kh*kw] weight on the left), dequantized per output channel; the
    bias follows.
    Reshapes and transposes of a per-tensor dequantized value move the
    integers and dequantize after, so the data moves in 8 bits and a
    product behind them is found too.
  }];
  let statistics = [
    Statistic<"numQuantized", "quantized", "Products turned into integer ones">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnQuantizeInt8 : Pass<"kiln-quantize-int8", "mlir::func::FuncOp"> {
  let summary = "Int8 products: weights quantized offline, activations by calibrated ranges or at run time";
  let description = [{
    `kiln-compile --quantize=int8` (static, calibrated) and
    `--quantize=int8-dynamic` (the recipe for transformers). Each `matmul`
    (and `gemm` without transposed A) with a constant f32 weight of at
    least `min-weight-elements` elements becomes an integer product:
    - the weight is quantized now, symmetric int8 per output column
      (scale = max |w| / `weight-range` over the column: 127, or 64 for
      targets whose kernels want 7-bit weights);
    - the activation is quantized per tensor to uint8 with the scale and
      zero point that map a range (widened to include 0) onto [0, 255]: the
      range the op's `kiln.calibration = array<f32: lo, hi>` attribute gives
      (set by kiln-compile from calibration runs: constants, nothing
      computed at run time), or, with `dynamic`, the activation's own range
      at run time, as ONNX DynamicQuantizeLinear does; without either the
      product stays in float;
    - `matmul_integer` multiplies them exactly; the i32 result is
      dequantized by the product of the scales, then the contraction's
      bias, residual and activation (or gemm's alpha and beta * C) follow
      as elementwise ops.
    With `convolutions` (the default), an ungrouped 2-D `conv` with a
    constant weight is the same product over im2col patches, laid out so
    that the result is already NCHW: the quantized input, padded with its
    zero point, is cut into the window's strided slices, stacked along a
    new dim and viewed as [N, C*kh*kw, OH*OW] (a 1 x 1, stride 1 window is
    the input itself); the [M, C*kh*kw] weight multiplies it from the left
    and the [N, M, OH*OW] result is dequantized per output channel, which
    the igemm kernel's store does. With a run-time range, a convolution
    with fewer than 128 output channels times window positions stays in
    float (its range reduction would cost more than int8 saves). Grouped
    (depthwise)
    convolutions and attention's batched products (inside `kiln.attention`)
    stay in float.
  }];
  let options = [
    Option<"minWeightElements", "min-weight-elements", "int64_t", "4096",
           "Smallest weight (in elements) worth quantizing">,
    Option<"weightRange", "weight-range", "int64_t", "127",
           "Largest magnitude of a quantized weight (64 makes 7-bit "
           "weights, which AVX2's VPMADDUBSW multiplies without saturating)">,
    Option<"dynamic", "dynamic", "bool", "true",
           "Quantize activations without a calibrated range at run time">,
    Option<"convolutions", "convolutions", "bool", "true",
           "Quantize ungrouped 2-D convolutions too (as im2col products)">
  ];
  let statistics = [
    Statistic<"numQuantized", "quantized", "Products turned into int8 ones">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnQuantizeWeights : Pass<"kiln-quantize-weights", "mlir::func::FuncOp"> {
  let summary = "Weight-only quantization: int8 or int4 weights in groups of k, f32 activations";
  let description = [{
    `kiln-compile --quantize=int8-weight|int4-weight`, the recipe for
    decoding with large language models, whose token steps are bound by
    reading the weights. Each `matmul` whose rhs is a constant 2-D f32
    weight [K, N] of at least `min-weight-elements` elements, K a multiple
    of `group`, gets that weight as `kiln.dequantize_blocks` of constants:
    integers with one scale per column and per group of `group` consecutive
    k. 8 bits: symmetric, [-127, 127], scale max |w| / 127. 4 bits:
    asymmetric, [-8, 7] with a zero point z per group too (w ~ (q - z) *
    scale): the 16 levels span the group's [min, max] narrowed at both ends
    by 0 to 15 % of its width, whichever reproduces the group with the
    least squared error (clipping a few large weights shrinks the step of
    all the others), and the scale is then refitted by least squares.
    Activations, biases and everything else stay f32. The CPU target's
    weight-only kernel reads the integers packed (two 4-bit values a byte)
    and dequantizes them in registers.

    A matmul that carries `kiln.hessian`, the second moment H = mean x^T x
    [K, K] of its activation rows on calibration data (`kiln-compile
    --calibration-data` measures it), has its integers chosen by GPTQ
    instead of rounding to nearest: the k rows are rounded in order of
    decreasing H[k][k] (input k's energy), and each row's rounding error,
    weighted by H, is compensated on the rows not yet rounded, so that x W
    rather than each weight stays close. H is damped by 1 % of its mean
    diagonal; every group's grid is chosen from the original weights
    before any row is rounded.
  }];
  let options = [
    Option<"bits", "bits", "int64_t", "8", "Bits per weight: 8 or 4">,
    Option<"group", "group", "int64_t", "128",
           "Consecutive k that share a scale (a power of two, at least 2)">,
    Option<"minWeightElements", "min-weight-elements", "int64_t", "4096",
           "Smallest weight (in elements) worth quantizing">
  ];
  let statistics = [
    Statistic<"numQuantized", "quantized", "Weights quantized">,
    Statistic<"numCalibrated", "calibrated",
              "Weights quantized by GPTQ with a calibrated second moment">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnDecomposeQuantization
    : Pass<"kiln-decompose-quantization", "mlir::func::FuncOp"> {
  let summary = "Express the remaining (de)quantizations with arithmetic ops";
  let description = [{
    Runs after the quantization passes, at every optimization level:
    `quantize_linear` becomes a divide, round half to even, zero-point add,
    clamp and cast; `dequantize_linear` an i32 subtract of the zero point,
    a cast and a multiply. Per-axis scales and zero points are reshaped to
    broadcast along their axis. The ops then fold (constant weights) and
    fuse like any other arithmetic.
  }];
  let dependentDialects = ["::kiln::KilnDialect"];
}

//===----------------------------------------------------------------------===//
// Graph optimizations (the -O2 pipeline, in this order)
//===----------------------------------------------------------------------===//

def KilnFoldConstants : Pass<"kiln-fold-constants", "mlir::func::FuncOp"> {
  let summary = "Fold ops whose operands are all constants";
  let description = [{
    Evaluates ops whose operands are all constants and whose result has at
    most `max-elements` elements: elementwise arithmetic and unary math, casts,
    transposes and every reshaping op (reshape, squeeze, unsqueeze, flatten),
    plus the shape arithmetic the op folders handle (so Shape -> Gather ->
    Concat -> Reshape chains collapse when the dims are static). Larger
    results stay computed at run time so weights are never duplicated.
  }];
  let options = [
    Option<"maxElements", "max-elements", "int64_t", "1 << 20",
           "Largest result (in elements) to fold">
  ];
  let statistics = [
    Statistic<"numFolded", "folded", "Ops replaced by constants">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnPrune : Pass<"kiln-prune", "mlir::func::FuncOp"> {
  let summary = "Remove dead values, no-op ops and duplicate subexpressions";
  let description = [{
    Erases ops whose results are unused (dead nodes and initializers),
    forwards no-op casts, reshapes, transposes and expands to their input,
    composes transpose-of-transpose and reshape-of-reshape, and merges
    identical subexpressions across the graph (CSE). Model inputs that feed
    nothing stay in the signature (it is the model's ABI) and are counted.
  }];
  let statistics = [
    Statistic<"numDead", "dead-ops", "Unused ops erased">,
    Statistic<"numNoOps", "no-op-ops", "No-op ops forwarded to their input">,
    Statistic<"numComposed", "composed-ops",
              "Transpose/reshape pairs composed into one">,
    Statistic<"numUnusedInputs", "unused-inputs", "Model inputs that feed nothing">
  ];
}

def KilnPruneMagnitude : Pass<"kiln-prune-magnitude", "mlir::func::FuncOp"> {
  let summary = "Zero the output channels and FFN neurons of least weight magnitude (--prune)";
  let description = [{
    Criterion pruning, chosen by the user (`kiln-compile --prune=channels:R`
    or `ffn:R`). Among the products `kiln-prune-channels` can shrink (a conv
    or matmul whose result reaches one conv or matmul consumer through
    channel-wise ops, with an activation that maps 0 to 0), the fraction R of
    output channels with the smallest L1 norm of weights (conv rows, matmul
    columns) get zero weights and bias; `kiln-prune-channels`, which runs
    next, removes them. `channels` applies to convs, `ffn` to matmuls whose
    consumer is a matmul (transformer feed-forward neurons). With `ffn` or
    `channels`, a gemm that is a matmul (constant B, alpha and beta 1, no
    trans_a, C one value per column: torch's Linear on a 2-D input, a
    CNN's classifier) becomes one first. At least one channel stays.

    `heads` (`--prune=heads:N|R`) removes attention heads of the form
    `kiln-prune-channels` can shrink (Q, K, V head projections, an output
    projection with a constant weight): N heads of each attention when
    `heads` >= 1, else the fraction R (at least one head stays). A head's
    magnitude is the L2 norm of its value projection (weight columns and
    bias) times that of its output projection rows, a bound on what it adds
    to the output; the heads of least magnitude get zero output rows, and
    `kiln-prune-channels` removes them. This changes the outputs: the
    report counts what went.
  }];
  let options = [
    Option<"channels", "channels", "double", "0.0",
           "Fraction of each conv's output channels to remove"> ,
    Option<"ffn", "ffn", "double", "0.0",
           "Fraction of each feed-forward matmul's neurons to remove">,
    Option<"heads", "heads", "double", "0.0",
           "Attention heads to remove: a count when >= 1, else a fraction">
  ];
  let statistics = [
    Statistic<"numZeroed", "zeroed", "Channels, neurons and heads zeroed">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnSparsify : Pass<"kiln-sparsify", "mlir::func::FuncOp"> {
  let summary = "Keep N of every M consecutive weights of each product (--sparsity=N:M)";
  let description = [{
    Semi-structured pruning, chosen by the user (`kiln-compile
    --sparsity=2:4`). Along the reduction of every conv, matmul and gemm with
    constant weights (a conv's input channels and window, a matmul's k),
    each run of `m` consecutive weights keeps its `n` of largest magnitude
    (ties to the earlier) and the rest become zero; a shorter last run keeps
    at most `n`. The op records `kiln.sparsified = [zeroed, of]`, which the
    compile report lists. This changes the outputs. Whether the zeros make
    a product faster is the CPU target's choice (`kiln-cpu-select-kernels`
    picks the block-sparse kernel only where its cost model says so).
  }];
  let options = [
    Option<"n", "n", "int64_t", "2", "Weights kept of every run of m">,
    Option<"m", "m", "int64_t", "4", "Length of a run">
  ];
  let statistics = [
    Statistic<"numZeroed", "zeroed", "Weights set to zero">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnPruneChannels : Pass<"kiln-prune-channels", "mlir::func::FuncOp"> {
  let summary = "Remove output channels, neurons and attention heads whose weights are zero";
  let description = [{
    Lossless structural pruning. An output channel of a convolution (group 1)
    or a column of a matmul with a constant weight whose weights are all zero
    produces a constant: its bias, through the product's activation. When
    the product's result reaches, through ops that keep channels apart
    (activations that map 0 to 0, pooling, a Concat along the channels,
    and a Flatten at axis 1 into a matmul, where each channel is H x W of
    its inputs), exactly one consumer that
    contracts over those channels (a convolution with group 1 or a matmul,
    with a constant weight), the channel is removed from the producer, from
    the ops between and from the consumer's weight. A channel whose constant
    is 0 is dropped; a nonzero one is folded into the consumer's bias when
    the consumer is a matmul or a 1x1 convolution without padding (where it
    adds the same amount to every output), and kept otherwise. Outputs are
    unchanged up to float reassociation. The producer gets
    `kiln.pruned_channels` (how many of how many), which `--report` lists.

    Residual streams: where a product's result has several users, the
    products that add it (or a value it reaches through the ops above, a
    mean over the spatial dims, or a Flatten of [N, C, 1, 1]) as their
    residual join it, and so on (a ResNet stage: its first conv, then every
    block's last). A Split along the channels passes each piece its range
    of them. When every use of the stream's values is one of those ops, a
    member, or a conv/matmul/Gemm that contracts over the channels, a
    channel whose weights are zero in every member and whose value is 0
    along the whole stream (each member's bias through its activation)
    leaves every member, every op on the stream and every consumer's
    weight (a Split's piece keeps one channel at least); Gemm consumers
    become matmuls. Each member gets `kiln.pruned_channels`.

    Attention heads: where `kiln.attention`'s query, key and value are
    MatMul -> Reshape [.., S, H, D] -> Transpose(0, 2, 1, 3) of constant
    weights and its result goes back the same way into a MatMul with a
    constant weight, a head whose value slice (weight columns and bias) or
    whose rows of the output projection are all zero adds nothing: its
    slices leave the four products, and the reshapes and the attention have
    one head less. The attention gets `kiln.pruned_heads`.
  }];
  let statistics = [
    Statistic<"numHeads", "heads", "Attention heads removed">,
    Statistic<"numChannels", "channels", "Output channels and neurons removed">,
    Statistic<"numLayers", "layers", "Products that lost channels">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnRecognizePatterns : Pass<"kiln-recognize-patterns", "mlir::func::FuncOp"> {
  let summary = "Recognize LayerNorm, RMSNorm, GELU and rotary embeddings in their decomposed forms";
  let description = [{
    Rewrites the op sequences older exporters write into one kiln op:
    `ReduceMean -> Sub -> Pow(2)/Mul -> ReduceMean -> Add(eps) -> Sqrt -> Div
    -> Mul(scale) -> Add(bias)` into `kiln.layer_norm`; the variance-free form
    `x / sqrt(mean(x^2) + eps) * scale` (Div or Mul by Reciprocal/Rsqrt) into
    `kiln.rms_norm`; `0.5 * x * (1 + erf(x / sqrt(2)))` and
    `0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))` (any operand
    order, Div or Mul by the reciprocal constant, Pow(3) or x*x*x) into
    `kiln.gelu`; `x * cos + Concat(Neg(x[..., h:]), x[..., :h]) * sin`
    over the last dim of extent 2h (any operand order) into `kiln.rotary`.
    Constants are compared with a relative tolerance of 1e-4.
  }];
  let statistics = [
    Statistic<"numLayerNorm", "layer-norm", "LayerNorms recognized">,
    Statistic<"numRMSNorm", "rms-norm", "RMSNorms recognized">,
    Statistic<"numGelu", "gelu", "GELUs recognized (erf and tanh forms)">,
    Statistic<"numRotary", "rotary", "Rotary embeddings recognized">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnFoldScaleBias : Pass<"kiln-fold-scale-bias", "mlir::func::FuncOp"> {
  let summary = "Fold BatchNorm and per-channel Mul/Add into conv and matmul weights";
  let description = [{
    `batch_norm(conv(x, W, b))` with constant statistics becomes
    `conv(x, W * s, (b - mean) * s + beta)` with
    `s = gamma / sqrt(var + eps)` per output channel. A per-channel constant
    Mul after a conv (or a per-column one after a matmul/gemm with a constant
    weight) scales the weight; a per-channel constant Add becomes (or adds to)
    the bias. The producer must have no other user.
  }];
  let statistics = [
    Statistic<"numBatchNorm", "batch-norm", "BatchNorms folded into convs">,
    Statistic<"numScale", "scale", "Per-channel Muls folded into weights">,
    Statistic<"numBias", "bias", "Per-channel Adds folded into biases">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnFuseAttention : Pass<"kiln-fuse-attention", "mlir::func::FuncOp"> {
  let summary = "Fuse MatMul-scale-mask-Softmax-MatMul into kiln.attention";
  let description = [{
    Matches `Softmax(mask(MatMul(Q, K^T) * scale), axis=-1) x V`: the scale a
    Mul or Div by a scalar constant (or absent), the mask an Add of a float
    tensor or a `Where(cond, fill, scores)` with a scalar fill, K^T a
    transpose swapping the last two dims (looked through any transpose, e.g.
    the head split `perm = [0, 2, 3, 1]`). The result is one `kiln.attention`
    whose lowering never materializes the score matrix; the head split and
    merge transposes around it stay as data movement.

    Grouped-query attention: where key and value are
    `Reshape(Expand(Unsqueeze(x, heads + 1)))` repeating each of G heads R
    times for the query's G * R heads (the shapes' run-time computations
    are followed element by element, `getShapeElements`), the op takes the
    G-headed key and value directly, and the repeated copies are never made.
  }];
  let statistics = [
    Statistic<"numAttention", "attention", "Attention subgraphs fused">,
    Statistic<"numGrouped", "grouped",
              "Attentions that read grouped key/value heads in place">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnFuseEpilogues : Pass<"kiln-fuse-epilogues", "mlir::func::FuncOp"> {
  let summary = "Fuse bias, residual add and activation into matmul/gemm/conv";
  let description = [{
    Folds the elementwise ops that follow a contraction into its epilogue,
    `activation(contraction + bias + residual)`: an Add of a constant that
    broadcasts along the output channels/columns becomes the bias, an Add of
    another tensor of the result's shape the residual, and a following Relu,
    Clip (constant bounds), Sigmoid, Tanh, Gelu, HardSwish, LeakyRelu or
    SiLU (`x * sigmoid(x)`) the activation. The contraction's result must
    have no other user, so the value is written once.
  }];
  let statistics = [
    Statistic<"numBias", "bias", "Bias adds fused">,
    Statistic<"numResidual", "residual", "Residual adds fused">,
    Statistic<"numActivation", "activation", "Activations fused">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnFuseHorizontal : Pass<"kiln-fuse-horizontal", "mlir::func::FuncOp"> {
  let summary = "Merge sibling matmuls that share their input";
  let description = [{
    MatMuls (with their fused bias, no residual or activation) that read the
    same input with constant 2-D weights of the same row count, such as the
    Q, K and V projections of attention, become one matmul over the
    concatenated weights and biases, followed by a Split of the result.
  }];
  let options = [
    Option<"maxWeightElements", "max-weight-elements", "int64_t", "1 << 26",
           "Largest concatenated weight (in elements) to build">
  ];
  let statistics = [
    Statistic<"numGroups", "groups", "Sibling groups merged">,
    Statistic<"numMerged", "merged", "MatMuls merged into a group">
  ];
  let dependentDialects = ["::kiln::KilnDialect"];
}

def KilnFuseElementwise : Pass<"kiln-fuse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Fuse connected elementwise DAGs into one linalg.generic";
  let description = [{
    Runs after `convert-kiln-to-linalg`, on the linalg.generic ops the kiln
    elementwise, broadcast and normalization ops became. A producer generic
    fuses into its consumer when every use of it is in that consumer (so a
    diamond `a -> (b, c) -> d` ends as one kernel, unlike upstream's
    single-use rule), when it is a broadcast/fill without computation, or
    when it is elementwise and cheap enough to recompute in every consumer
    (at most `max-recompute-ops` scalar ops, into consumers of at most 32,
    reading at most one tensor element by element: a sum of two tensors
    costs more to recompute than to read back). Reductions take their
    elementwise prologues (the exp of a softmax, the square of a variance).
    A consumer that reads the fused operand through a map that skips some
    of its loops (a matmul reads its lhs once per output column) only takes
    pure copies and broadcasts, never computation that would be repeated.
  }];
  let options = [
    Option<"maxRecomputeOps", "max-recompute-ops", "unsigned", "2",
           "Largest body (scalar ops) duplicated into several consumers">
  ];
  let statistics = [
    Statistic<"numFused", "fused", "Producer generics fused into consumers">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

#endif // KILN_DIALECT_KILN_TRANSFORMS_PASSES_TD
