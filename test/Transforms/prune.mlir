// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-prune))' -split-input-file | FileCheck %s

// Dead nodes and initializers go; no-op ops forward their input; duplicates
// merge.
// CHECK-LABEL: func.func @prune(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3xf32>
// CHECK-NEXT: %[[R:.+]] = kiln.relu %[[X]]
// CHECK-NEXT: %[[A:.+]] = kiln.add %[[R]], %[[R]]
// CHECK-NEXT: return %[[A]]
func.func @prune(%x: tensor<2x3xf32>, %unused: tensor<4xf32>) -> tensor<2x3xf32> {
  %dead_w = kiln.constant dense<1.0> : tensor<3x3xf32>
  %dead = kiln.matmul %x, %dead_w : (tensor<2x3xf32>, tensor<3x3xf32>) -> tensor<2x3xf32>
  %c = kiln.cast %x {to = f32} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %t = kiln.transpose %c {perm = array<i64: 0, 1>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %r1 = kiln.relu %t : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %r2 = kiln.relu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %a = kiln.add %r1, %r2 : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return %a : tensor<2x3xf32>
}

// -----

// Transpose pairs compose into one.
// CHECK-LABEL: func.func @transposes(
// CHECK-NEXT: %[[T:.+]] = kiln.transpose %arg0 {perm = array<i64: 2, 0, 1>}
// CHECK-NEXT: return %[[T]]
func.func @transposes(%x: tensor<2x3x4xf32>) -> tensor<4x2x3xf32> {
  %a = kiln.transpose %x {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %b = kiln.transpose %a {perm = array<i64: 1, 2, 0>} : (tensor<3x4x2xf32>) -> tensor<4x2x3xf32>
  return %b : tensor<4x2x3xf32>
}
