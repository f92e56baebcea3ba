// RUN: kiln-opt %s --kiln-cpu-expand-arith | FileCheck %s

// Floor division and bf16 casts are expanded (the casts into integer bit
// manipulation); float max/min are kept for LLVM's intrinsics.
// CHECK-LABEL: func.func @expand
// CHECK-NOT: arith.floordivsi
// CHECK: arith.maximumf
// CHECK: arith.maxnumf
// CHECK-NOT: arith.extf
// CHECK-NOT: arith.truncf
func.func @expand(%a: i32, %b: i32, %x: f32, %y: f32, %p: bf16) -> (i32, f32, f32, f32, bf16) {
  %0 = arith.floordivsi %a, %b : i32
  %1 = arith.maximumf %x, %y : f32
  %2 = arith.maxnumf %x, %y : f32
  %3 = arith.extf %p : bf16 to f32
  %4 = arith.truncf %x : f32 to bf16
  return %0, %1, %2, %3, %4 : i32, f32, f32, f32, bf16
}
