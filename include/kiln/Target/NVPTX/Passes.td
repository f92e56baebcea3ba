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
    elements) and runs the loop body once. Reductions and nested loops run
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

def KilnGPUGatherKernels : Pass<"kiln-gpu-gather-kernels", "mlir::ModuleOp"> {
  let summary = "Put all outlined kernels into one gpu.module; mark constants";
  let description = [{
    `gpu-kernel-outlining` gives each kernel its own `gpu.module`, which
    would make one device binary (and one module load) per kernel. This
    pass moves every kernel and the functions they call into a single
    module, `@kiln_kernels`, and points the launches at it.

    It also renames each constant `memref.global` to `__kiln_const_NAME`:
    the host code reads those through the device's copy of the weights
    (`kiln-gpu-device-constants`).
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
