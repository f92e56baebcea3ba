//===- Passes.td - the NVPTX target's code generation passes -*- tablegen -*-===//

#ifndef KILN_TARGET_NVPTX_PASSES_TD
#define KILN_TARGET_NVPTX_PASSES_TD

include "mlir/Pass/PassBase.td"

def KilnGPUMapParallelLoops
    : Pass<"kiln-gpu-map-parallel-loops", "mlir::func::FuncOp"> {
  let summary = "Run each outermost parallel loop as a GPU kernel launch";
  let description = [{
    Every outermost `scf.parallel` (the parallel dims of a linalg op, or a
    tile loop) becomes a `gpu.launch` whose threads each take one point of
    the loop's iteration space: the space is linearized, 256 threads per
    block, as many blocks as needed, and each thread delinearizes its id
    (innermost dim fastest, so neighbouring threads touch neighbouring
    elements; in 32-bit arithmetic when the extents are static and their
    product fits, as GPUs divide 64-bit integers in software) and runs the
    loop body once. Reductions and nested loops run
    sequentially inside the thread. Trip counts may be dynamic: the grid is
    computed on the host before the launch.

    `memref.copy` becomes such a loop too, so copies run on the device.

    A loop stays on the host (where the runtime's managed memory keeps it
    correct, if slow) when its body allocates memory, calls a function the
    module does not define, or already holds a launch.

    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%m, %n) step (%c1, %c1) { ... }
    // becomes
    gpu.launch blocks(...) in (%gx = ceildiv(m*n, 256), ...) threads(...)
        in (%tx = 256, ...) {
      %id = bx * 256 + tx   // guarded by id < m*n; i = id / n, j = id % n
      ...
    }
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::scf::SCFDialect"];
}

def KilnGPUTileContractions
    : Pass<"kiln-gpu-tile-contractions", "mlir::func::FuncOp"> {
  let summary = "Run f32 matrix products as shared-memory tiled kernels";
  let description = [{
    On buffers, each f32 matrix product at the top of a function (the ops
    `kiln-cpu-select-kernels` would call a GEMM: `out + a * b` over maps
    that project the loops; batch loops, transposed and broadcast operands
    included) becomes one `gpu.launch`: a block of 256 threads computes a
    128 x 128 tile of C, staging 128 x 16 slices of A (transposed, padded
    against bank conflicts) and 16 x 128 slices of B in workgroup memory per
    step of 16 along k; each thread keeps an 8 x 8 block of sums in
    registers (rows ty * 4 and 64 + ty * 4, four each, columns likewise
    with tx; 16-byte shared memory loads) and adds it to C's
    initial value (a bias, or zero) at the end. Blocks run over (batch,
    column tile) in x and row tiles in y; edges load zeros and skip their
    stores. Products whose static M or N is below 16 (GEMV) are left to
    `kiln-gpu-map-parallel-loops`.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def KilnGPUReduceRows : Pass<"kiln-gpu-reduce-rows", "mlir::func::FuncOp"> {
  let summary = "Reduce each row of a reduction with a warp";
  let description = [{
    On buffers, a `linalg.generic` at the top of a function that reduces
    only its innermost loop (a softmax's max and sum, a normalization's
    mean and variance, ReduceSum/Mean/Max over the last axis) with a body
    `out = combine(f(inputs), out)`, `combine` an associative and
    commutative arith op with a neutral element on 32-bit values, becomes a
    launch with one warp per output element: lane l folds elements
    l, l + 32, ... of the row (neighbouring lanes read neighbouring
    elements), the warp combines its 32 partial results with XOR shuffles,
    and lane 0 combines them with the output's initial value. One thread
    per row, as `kiln-gpu-map-parallel-loops` would run it, reads a row's
    elements one by one with the threads of a warp 4 row lengths apart.
    Rows with a static length below 32 keep that mapping.
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def KilnGPUGatherKernels : Pass<"kiln-gpu-gather-kernels", "mlir::ModuleOp"> {
  let summary = "Put all outlined kernels into one gpu.module; mark constants";
  let description = [{
    `gpu-kernel-outlining` gives each kernel its own `gpu.module`, which
    would make one device binary (and one module load) per kernel. This
    pass moves every kernel and the functions they call into a single
    module, `@kiln_kernels`, and points the launches at it. Kernels' workgroup
    buffers get 16-byte alignment (`llvm.align`) for vector loads.

    It also renames each constant `memref.global` to `__kiln_const_NAME`:
    the host code reads those through the device's copy of the weights
    (`kiln-gpu-device-constants`).
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def KilnGPUAsyncLaunches
    : Pass<"kiln-gpu-async-launches", "mlir::func::FuncOp"> {
  let summary = "Launch kernels back to back; wait only where the host reads";
  let description = [{
    A `gpu.launch_func` without a token waits for its kernel. This pass
    makes the launches of a host function async, each depending on the one
    before (one in-order stream), and inserts a `gpu.wait` only before the
    first op that may read or write memory on the host (a load, a store, a
    call, an op with regions) and before each block's terminator. Index
    arithmetic, views, allocation and deallocation run while the kernels
    do: a freed buffer is reused in stream order, and device memory that is
    returned to the driver waits for the device first.

    ```mlir
    gpu.launch_func @k::@a ...
    %t = memref.alloc() ...
    gpu.launch_func @k::@b ...
    %x = memref.load %t[...]
    // becomes
    %0 = gpu.wait async
    %1 = gpu.launch_func async [%0] @k::@a ...
    %t = memref.alloc() ...
    %2 = gpu.launch_func async [%1] @k::@b ...
    gpu.wait [%2]
    %x = memref.load %t[...]
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def KilnGPUDeviceConstants
    : Pass<"kiln-gpu-device-constants", "mlir::ModuleOp"> {
  let summary = "Host code addresses the device copy of each constant";
  let description = [{
    Kernels cannot read the host's read-only data. In the LLVM dialect, this
    pass replaces each address of a global named `__kiln_const_*` in host
    code with a call `kiln_cuda_constant(host_address, bytes)`: the runtime
    copies the constant into device memory on first use and returns that
    copy from then on, so weights cross to the device once.
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect"];
}

#endif // KILN_TARGET_NVPTX_PASSES_TD
