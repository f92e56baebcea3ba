// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-fuse-horizontal))' -split-input-file | FileCheck %s

// Q, K and V projections of one input become one matmul and a split; the
// weights are concatenated column-wise, and so are the biases (a missing one
// contributes zeros).
// CHECK-LABEL: func.func @qkv(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x4x2xf32>
// CHECK-DAG: %[[W:.+]] = kiln.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00], [1.000000e+00, 2.000000e+00, 3.000000e+00]]> : tensor<2x3xf32>
// CHECK-DAG: %[[B:.+]] = kiln.constant dense<[5.000000e-01, 0.000000e+00, 2.500000e-01]> : tensor<3xf32>
// CHECK: %[[M:.+]] = kiln.matmul %[[X]], %[[W]] bias %[[B]] :
// CHECK: %[[S:.+]]:3 = kiln.split %[[M]] {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 1, 1, 1>}
// CHECK: return %[[S]]#0, %[[S]]#1, %[[S]]#2
func.func @qkv(%x: tensor<1x4x2xf32>) -> (tensor<1x4x1xf32>, tensor<1x4x1xf32>, tensor<1x4x1xf32>) {
  %wq = kiln.constant dense<1.0> : tensor<2x1xf32>
  %wk = kiln.constant dense<2.0> : tensor<2x1xf32>
  %wv = kiln.constant dense<3.0> : tensor<2x1xf32>
  %bq = kiln.constant dense<0.5> : tensor<1xf32>
  %bv = kiln.constant dense<0.25> : tensor<1xf32>
  %q = kiln.matmul %x, %wq bias %bq : (tensor<1x4x2xf32>, tensor<2x1xf32>, tensor<1xf32>) -> tensor<1x4x1xf32>
  %k = kiln.matmul %x, %wk : (tensor<1x4x2xf32>, tensor<2x1xf32>) -> tensor<1x4x1xf32>
  %v = kiln.matmul %x, %wv bias %bv : (tensor<1x4x2xf32>, tensor<2x1xf32>, tensor<1xf32>) -> tensor<1x4x1xf32>
  return %q, %k, %v : tensor<1x4x1xf32>, tensor<1x4x1xf32>, tensor<1x4x1xf32>
}

// -----

// Different inputs, or a weight that is not a constant, stay apart.
// CHECK-LABEL: func.func @no_siblings(
// CHECK-COUNT-2: kiln.matmul
// CHECK-NOT: kiln.split
func.func @no_siblings(%x: tensor<4x2xf32>, %y: tensor<4x2xf32>, %w: tensor<2x3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %c = kiln.constant dense<1.0> : tensor<2x3xf32>
  %a = kiln.matmul %x, %c : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  %b = kiln.matmul %x, %w : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %a, %b : tensor<4x3xf32>, tensor<4x3xf32>
}
