// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-fold-constants))' -split-input-file | FileCheck %s
// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-fold-constants{max-elements=4}))' -split-input-file | FileCheck %s --check-prefix=CAP

// A weight stored transposed (as TF exporters write it) folds, and so does
// the arithmetic on it.
// CHECK-LABEL: func.func @transpose_and_scale(
// CHECK-NEXT: %[[C:.+]] = kiln.constant dense<{{\[\[}}2.000000e+00, 6.000000e+00, 1.000000e+01], [4.000000e+00, 8.000000e+00, 1.200000e+01]]> : tensor<2x3xf32>
// CHECK-NEXT: return %[[C]]
// CAP-LABEL: func.func @transpose_and_scale(
// CAP: kiln.transpose
func.func @transpose_and_scale() -> tensor<2x3xf32> {
  %w = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %t = kiln.transpose %w {perm = array<i64: 1, 0>} : (tensor<3x2xf32>) -> tensor<2x3xf32>
  %two = kiln.constant dense<2.0> : tensor<f32>
  %y = kiln.mul %t, %two : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// Shape -> Gather -> Concat -> Reshape collapses when the dims are static.
// CHECK-LABEL: func.func @shape_chain(
// CHECK-NOT: kiln.shape
// CHECK-NOT: kiln.gather
// CHECK-NOT: kiln.concat
// CHECK: %[[S:.+]] = kiln.constant dense<[2, -1]> : tensor<2xi64>
// CHECK: kiln.reshape %arg0, %[[S]]
func.func @shape_chain(%x: tensor<2x3x4xf32>) -> tensor<?x?xf32> {
  %s = kiln.shape %x : (tensor<2x3x4xf32>) -> tensor<3xi64>
  %i = kiln.constant dense<0> : tensor<1xi64>
  %d0 = kiln.gather %s, %i {axis = 0 : i64} : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi64>
  %m = kiln.constant dense<-1> : tensor<1xi64>
  %shape = kiln.concat %d0, %m {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %y = kiln.reshape %x, %shape : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// -----

// An op on a non-constant stays.
// CHECK-LABEL: func.func @not_constant(
// CHECK: kiln.mul
func.func @not_constant(%x: tensor<2xf32>) -> tensor<2xf32> {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %y = kiln.mul %x, %two : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
  return %y : tensor<2xf32>
}
