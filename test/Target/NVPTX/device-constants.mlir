// RUN: kiln-opt %s --kiln-gpu-device-constants | FileCheck %s

// The host reads constants through their device copies: each address of a
// renamed constant in a function becomes a call with the constant's size.
// Other globals (the kernel names) keep their addresses.
// CHECK: llvm.mlir.global private constant @__kiln_const_w
// CHECK-LABEL: llvm.func @entry
// CHECK: %[[HOST:.*]] = llvm.mlir.addressof @__kiln_const_w : !llvm.ptr
// CHECK: %[[BYTES:.*]] = llvm.mlir.constant(64 : i64) : i64
// CHECK: %[[DEVICE:.*]] = llvm.call @kiln_cuda_constant(%[[HOST]], %[[BYTES]]) : (!llvm.ptr, i64) -> !llvm.ptr
// CHECK: llvm.call @use(%[[DEVICE]])
// CHECK: %[[NAME:.*]] = llvm.mlir.addressof @kernel_name
// CHECK: llvm.call @use(%[[NAME]])
// CHECK: llvm.func @kiln_cuda_constant(!llvm.ptr, i64) -> !llvm.ptr
module {
  llvm.mlir.global private constant @__kiln_const_w(dense<1.0> : tensor<4x4xf32>) {addr_space = 0 : i32} : !llvm.array<4 x array<4 x f32>>
  llvm.mlir.global private constant @kernel_name("k\00") {addr_space = 0 : i32}
  llvm.func @use(!llvm.ptr)
  llvm.func @entry() {
    %0 = llvm.mlir.addressof @__kiln_const_w : !llvm.ptr
    llvm.call @use(%0) : (!llvm.ptr) -> ()
    %1 = llvm.mlir.addressof @kernel_name : !llvm.ptr
    llvm.call @use(%1) : (!llvm.ptr) -> ()
    llvm.return
  }
}
