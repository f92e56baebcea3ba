// RUN: kiln-opt %s --gpu-kernel-outlining --kiln-gpu-gather-kernels | FileCheck %s

// Outlining gives each launch its own module with a kernel of the same
// name; both kernels move into @kiln_kernels under their modules' names,
// and the launches follow. The constant is renamed for the host.
// CHECK: memref.global "private" constant @__kiln_const_scale
// CHECK-LABEL: func.func @f
// CHECK: memref.get_global @__kiln_const_scale
// CHECK: gpu.launch_func  @kiln_kernels::@f_kernel blocks
// CHECK: gpu.launch_func  @kiln_kernels::@f_kernel_0 blocks
// CHECK-NOT: gpu.module @f_kernel
// CHECK: gpu.module @kiln_kernels {
// CHECK: gpu.func @f_kernel(
// CHECK: gpu.func @f_kernel_0(
// CHECK-NOT: gpu.module
memref.global "private" constant @scale : memref<4xf32> = dense<2.0>
func.func @f(%a: memref<4xf32>) {
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %s = memref.get_global @scale : memref<4xf32>
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %x = memref.load %a[%tx] : memref<4xf32>
    %w = memref.load %s[%tx] : memref<4xf32>
    %y = arith.mulf %x, %w : f32
    memref.store %y, %a[%tx] : memref<4xf32>
    gpu.terminator
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c4, %sy = %c1, %sz = %c1) {
    %x = memref.load %a[%tx] : memref<4xf32>
    %y = arith.addf %x, %x : f32
    memref.store %y, %a[%tx] : memref<4xf32>
    gpu.terminator
  }
  return
}
