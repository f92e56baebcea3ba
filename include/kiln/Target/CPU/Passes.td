//===- Passes.td - the CPU target's code generation passes --*- tablegen -*-===//

#ifndef KILN_TARGET_CPU_PASSES_TD
#define KILN_TARGET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Elementwise code
//===----------------------------------------------------------------------===//

def KilnCPUApproximateMath : Pass<"kiln-cpu-approximate-math", "mlir::func::FuncOp"> {
  let summary = "Replace f32 erf, exp and tanh by vectorizable polynomials";
  let description = [{
    LLVM turns `math.erf` into a call of libm's `erff` (and `math.exp` into
    `expf` when it cannot vectorize), which keeps GELU, softmax and the
    attention kernel's loops scalar. This pass rewrites f32 `math.erf`,
    `math.exp` and `math.tanh` (in linalg bodies and elsewhere) into MLIR's
    polynomial approximations: plain arithmetic that LLVM vectorizes. Their
    error is a few ulp, within the tolerances of ONNX's conformance tests.

    ```mlir
    %y = math.erf %x : f32   // becomes a clamp, a few fma and a select
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

def KilnCPUExpandArith : Pass<"kiln-cpu-expand-arith"> {
  let summary = "Expand the arith ops LLVM cannot lower, and only those";
  let description = [{
    `arith-expand-ops` also rewrites float min/max into compares and
    selects, which hides them from LLVM's reduction vectorizer (a softmax
    row max stays a scalar chain). This pass expands what the LLVM
    conversion needs expanded, ceil/floor division and bfloat16 arithmetic
    and casts (x86 has no bfloat16 helpers to link against), and leaves
    `arith.maximumf`/`maxnumf` to become `llvm.maximum`/`llvm.maxnum`.
  }];
}

def KilnCPULowerReductions : Pass<"kiln-cpu-lower-reductions", "mlir::func::FuncOp"> {
  let summary = "Lower reductions to loops that carry the accumulator";
  let description = [{
    Runs after bufferization. Upstream's linalg-to-loops lowering loads and
    stores a reduction's accumulator in memory on every iteration; LLVM
    cannot keep it in a register when it cannot prove the buffers apart
    (inside OpenMP regions it never can), so a row max or row sum runs as a
    serial chain through memory. This pass lowers each linalg op on buffers
    whose reduction loops come last and whose single output is indexed by
    its parallel loops alone (row max, row sum, LayerNorm's statistics,
    ReduceSum) to: the parallel loops (`scf.parallel`, or `scf.for` inside a
    parallel region), a load of the accumulator, `scf.for` reduction loops
    that carry it as an iteration argument, and one store. Ops marked for a
    microkernel and other shapes are left to the ordinary lowering.

    ```mlir
    scf.parallel (%i) = ... {
      %init = memref.load %out[%i]
      %r = scf.for %j = ... iter_args(%acc = %init) -> (f32) { ... }
      memref.store %r, %out[%i]
    }
    ```
  }];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::affine::AffineDialect"];
}

def KilnCPUReassociateReductions : Pass<"kiln-cpu-reassociate-reductions", "mlir::func::FuncOp"> {
  let summary = "Let LLVM vectorize floating-point sums of reductions";
  let description = [{
    A sum over a reduction loop (softmax's denominator, LayerNorm's mean and
    variance, ReduceSum, the attention kernel's row sums) lowers to a chain
    of `fadd`s that LLVM must keep in order, one add per element at the
    add's latency. This pass marks the float adds and multiplies in the
    bodies of linalg ops with reduction loops `reassoc`, so LLVM sums in
    vector lanes; the results differ from a sequential sum by rounding only,
    as those of every vectorized runtime do. Contractions that a microkernel
    computes (marked `kiln.ukernel`) are left alone.

    ```mlir
    %s = arith.addf %acc, %x : f32
    // becomes
    %s = arith.addf %acc, %x fastmath<reassoc> : f32
    ```
  }];
}

def KilnCPUParallelCopies : Pass<"kiln-cpu-parallel-copies", "mlir::func::FuncOp"> {
  let summary = "Copy buffers with linalg.copy instead of the runtime's memrefCopy";
  let description = [{
    Bufferization copies with `memref.copy` (a padded input into its padded
    buffer, a concatenation's parts, results that must not alias), which
    lowers to a call of the runtime's `memrefCopy`: one thread, row by row.
    This pass rewrites each copy between ranked memrefs into `linalg.copy`,
    which becomes a parallel loop nest whose innermost loop LLVM vectorizes.

    ```mlir
    memref.copy %a, %b : memref<1x32x112x112xf32> to memref<1x32x112x112xf32, strided<...>>
    // becomes
    linalg.copy ins(%a : ...) outs(%b : ...)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def KilnCPUParallelizeOuterLoops : Pass<"kiln-cpu-parallelize-outer-loops", "mlir::func::FuncOp"> {
  let summary = "Keep only the outer dims of parallel loops parallel";
  let description = [{
    `convert-scf-to-openmp` collapses every dim of an `scf.parallel` into one
    OpenMP loop, which recovers each index with a division and a remainder
    per element and leaves nothing for LLVM to vectorize: an elementwise op
    over `1x96x112x112` cost about a hundred cycles an element. This pass
    keeps the shortest prefix of dims with at least `min-iterations`
    iterations (static trip counts; a dynamic dim counts as enough) in the
    `scf.parallel` and moves the rest into nested `scf.for` loops, so the
    innermost loop is a plain, contiguous loop that LLVM vectorizes. Loops
    with reductions are left alone, and so are loops whose iterations hold
    loops, branches or calls (an attention tile's work, kernel calls): a
    division per iteration costs nothing there, and a leading dynamic batch
    of 1 kept alone would run every iteration on one thread.

    ```mlir
    scf.parallel (%n, %c, %h, %w) = ... { body }
    // becomes (1 x 96 >= 32 iterations)
    scf.parallel (%n, %c) = ... { scf.for %h ... { scf.for %w ... { body } } }
    ```
  }];
  let options = [
    Option<"minIterations", "min-iterations", "int64_t", "32",
           "Iterations the parallel dims must have together">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def KilnCPUSerializeSmallParallel
    : Pass<"kiln-cpu-serialize-small-parallel", "mlir::func::FuncOp"> {
  let summary = "Run parallel loops with little work on the calling thread";
  let description = [{
    After `convert-scf-to-openmp`, every `omp.parallel` region forks the
    thread team and joins it, a few microseconds each, also for a LayerNorm
    over one token's 768 values. This pass gives each region an OpenMP `if`
    clause: the product of its loop nest's trip counts and those of the
    `scf.for` loops nested directly inside (the elements its body runs
    for, computed where the region starts, so dynamic shapes are decided at
    run time) must reach `min-work`, else the calling thread runs the loop
    alone. Regions whose bounds are computed inside, or that have an `if`
    clause already, are left alone.

    ```mlir
    omp.parallel { omp.wsloop { omp.loop_nest (%i) : index = (%c0) to (%n) step (%c1) {
      scf.for %j = %c0 to %m step %c1 { ... } } } }
    // becomes
    %work = arith.muli %n, %m : index
    %big = arith.cmpi sge, %work, %min_work : index
    omp.parallel if(%big) { ... }
    ```
  }];
  let options = [
    Option<"minWork", "min-work", "int64_t", "16384",
           "Innermost iterations a region needs to run in parallel">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::omp::OpenMPDialect"];
}

//===----------------------------------------------------------------------===//
// Kernel selection and microkernels
//===----------------------------------------------------------------------===//

def KilnCPUFuseRequantization
    : Pass<"kiln-cpu-fuse-requantization", "mlir::func::FuncOp"> {
  let summary = "Fold the float ops between an 8-bit product and the next "
                "quantization into one requantizing op";
  let description = [{
    An 8-bit product's int32 result that is dequantized (`sitofp(acc) *
    scale`, the op the igemm kernel's store takes over), then carried
    through elementwise float ops into an 8-bit tensor (a bias, ReLU or a
    clip, then the next layer's quantization: divide by its scale, round
    half to even, add its zero point, clamp) becomes one op:

    ```mlir
    // out = roundeven(clamp(sitofp(acc) * scale + offset, lo, hi))
    linalg.generic ins(%acc, %scale, %offset : tensor<1x64x3136xi32>,
                       tensor<64xf32>, tensor<64xf32>)
                   outs(%empty : tensor<1x64x3136xi8>)
    ```

    The chain is evaluated symbolically: every float op must be affine in
    the product (add, subtract or multiply by a constant, divide by one), a
    clamp by scalar constants, or the one rounding; the constants may vary
    along the product's rows or columns only. Scale and offset are folded at
    compile time into constants along one of those dims, the clamps into
    integer bounds within the 8-bit type. `kiln-cpu-select-kernels` then
    gives the op to the kernel's store (`epilogue = ["requantize"]`), which
    writes bytes instead of an f32 tensor that another pass reads back.

    A chain that ends in f32 and adds one residual tensor of the result's
    shape (a residual block's end: bias, then the block input or its ReLU)
    becomes `sitofp(acc) * scale + offset + r`, with `r` the residual viewed
    in the product's shape (through `max(r, 0)` when the chain took its
    ReLU), for the `"sum"` epilogue. Nothing may be clamped, rounded or
    scaled after the residual joins.
    Folding reassociates: `(x * s + b) / q` becomes `x * (s / q) + b / q`,
    which may move a value that lay within an ulp of a rounding boundary to
    the neighbouring 8-bit step.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect"];
}

def KilnCPUFusePadding : Pass<"kiln-cpu-fuse-padding", "mlir::func::FuncOp"> {
  let summary = "Write elementwise results straight into padded buffers";
  let description = [{
    A `tensor.pad` of an elementwise linalg op's result (the activation
    before a padded convolution or pooling) becomes a fill of the padded
    tensor and the elementwise op writing into its interior
    (`extract_slice` / `insert_slice`), so after bufferization there is no
    separate copy of the unpadded result. Runs after
    `kiln-cpu-select-kernels`: a pad whose every reader is a kernel that
    adds the zeros itself (`padding = "implicit"`, the depthwise kernel)
    stays a `tensor.pad`, which `kiln-cpu-lower-ukernels` then removes.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def KilnCPUCollapseElementwise
    : Pass<"kiln-cpu-collapse-elementwise", "mlir::func::FuncOp"> {
  let summary = "Merge the short inner dims of elementwise ops into long ones";
  let description = [{
    An elementwise linalg.generic whose innermost loop is short (fewer than
    `min-inner-iterations`: the 14 or 7 columns of a late CNN stage) runs
    over fewer, longer loops: adjacent loops that every operand reads
    together (absent from its map, or adjacent in it; unit dims read at 0
    join a neighbour) become one, through `tensor.collapse_shape` of the
    operands and `tensor.expand_shape` of the result. LLVM then vectorizes
    the innermost loop, which it left scalar at 14 iterations. Ops that a
    microkernel's epilogue takes over, ops with dynamic shapes or reading
    slices (views a collapse would copy), and ops using `linalg.index` are
    left alone. Runs after `kiln-cpu-fuse-padding`.

    ```mlir
    // [1, 1024, 14, 14] with a per-channel bias [1024, 1, 1]
    linalg.generic {maps = [(n, c, h, w) -> (n, c, h, w), (n, c, h, w) -> (c, 0, 0), ...]}
    // becomes, over (n, c, hw)
    linalg.generic {maps = [(n, c, hw) -> (n, c, hw), (n, c, hw) -> (c), ...]}
    ```
  }];
  let options = [
    Option<"minInnerIterations", "min-inner-iterations", "int64_t", "64",
           "Innermost loop length from which an op is left as it is">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def KilnCPULowerUKernels : Pass<"kiln-cpu-lower-ukernels", "mlir::ModuleOp"> {
  let summary = "Replace the contractions marked for microkernels by calls";
  let description = [{
    Runs after bufferization. Every linalg op that `kiln-cpu-select-kernels`
    marked with `kiln.ukernel` becomes a `func.call` of the runtime's
    microkernel for the chosen instruction set (`kiln_ukernel_sgemm_avx512`,
    `kiln_ukernel_sconv2d_avx2`, ...). Each operand is passed as its base
    buffer, element offset and one stride per loop dim, from
    `memref.extract_strided_metadata`, so transposed, broadcast and sliced
    views are read in place. A contraction with more than two batch dims
    gets `scf.for` loops around the call for the outer ones. A zero fill of
    the output right before the contraction is dropped: the call then
    overwrites instead of accumulating. With `pack_rhs` or `pack_weights`,
    the constant (a global, possibly reshaped) is packed now into the
    kernel's panel layout as a new global, the call goes to the `_packed_`
    entry point, and the original global is deleted once nothing reads it.

    With an `epilogue`, the op that initialized the output (the addends'
    sum) and the clamp are found on buffers and erased: the call reads the
    addends as strided views indexed like the output, writes the clamp's
    output buffer (the call moves to where the clamp was), and the
    accumulator buffer goes away. Where the ops are not where the strategy
    saw them (another op reads the accumulator, or writes what the kernel
    reads, in between), the product runs unfused.

    ```mlir
    func.call @kiln_ukernel_sgemm_avx512(%c1, %c1, %m, %n, %k, %a_base,
        %a_off, %c0, %c0, %a_s0, %a_s1, ..., %accumulate) : (...) -> ()
    ```
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def KilnCPUSelectKernels : Pass<"kiln-cpu-select-kernels", "mlir::func::FuncOp"> {
  let summary = "Choose the kernel of every contraction (the CPU strategy)";
  let description = [{
    Runs on linalg on tensors. Marks each f32 contraction that a runtime
    microkernel computes with `kiln.ukernel`, a dictionary naming the kernel
    (`sgemm` or `sconv2d`), the instruction set and its register tile
    (rows x columns of the accumulator block):

    ```mlir
    linalg.matmul {kiln.ukernel = {isa = "avx512", kernel = "sgemm",
                                   register_tile = array<i64: 8, 32>}} ...
    ```

    A contraction qualifies when its body is `out + lhs * rhs` on f32, every
    operand map is a projection of the loops (broadcast dims read at 0 are
    allowed), and there is one reduction loop; or when it is the grouped 2-D
    convolution that `convert-kiln-to-linalg` builds (loops n, g, m, oh, ow,
    c, kh, kw): `sconv2d` (a matrix product over an implicit im2col), or
    `sdwconv2d` (a direct kernel vectorized along output rows) for depthwise
    convolutions, one input and one output channel per group. MaxPool's 2-D
    window max (loops n, c, oh, ow, kh, kw, body `maximumf(out, x)`) gets
    `smaxpool2d`; a product whose constant rhs is mostly zero 1x16 blocks
    gets `sgemm_sparse` where the cost model says so (below). Everything
    else is left unmarked and lowers to loops.

    A constant operand of static shape (directly or through reshapes) that
    the kernel would pack on every call is packed at compile time instead:
    `pack_rhs = "compile-time"` for a product's rhs read through its k and n
    loops, `pack_weights = "compile-time"` for a convolution's weights.

    `epilogue` lists the ops around the contraction whose work the kernel's
    epilogue takes over, so the result is written once: `"addends"` when the
    output starts as a sum of one or two addends (the bias broadcast, or
    bias plus residual, that `convert-kiln-to-linalg` builds) that nothing
    else reads, and `"clamp"` when the result only goes (through reshapes)
    into an elementwise clamp (ReLU, Clip, a chain of maximumf/minimumf or
    compare-and-select with constant bounds), given an output that starts as
    addends or zero.

    `padding = "implicit"` marks a depthwise convolution (or a direct one
    with at most 8 input channels per group) whose input is a `tensor.pad`
    with +0.0 of the rows and columns only: the kernel reads the pad's
    source and adds the zeros itself, so `kiln-cpu-fuse-padding`
    leaves that pad alone and `kiln-cpu-lower-ukernels` drops the padded
    copy that bufferization made of it.
  }];
  let options = [
    Option<"isa", "isa", "std::string", "\"host\"",
           "Instruction set of the kernels: avx512, avx2, generic, or host "
           "(what this machine has)">,
    Option<"sparse", "sparse", "bool", "true",
           "Run products whose constant rhs is mostly zero blocks on the "
           "block-sparse kernel when the cost model says it is faster">
  ];
}

#endif // KILN_TARGET_CPU_PASSES_TD
