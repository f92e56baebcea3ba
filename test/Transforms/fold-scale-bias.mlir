// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-fold-scale-bias))' -split-input-file | FileCheck %s

// BatchNorm into the conv: scale s = gamma / sqrt(var + eps) = [2, 0.5]
// (gamma [2, 1], var [1 - eps, 4 - eps]); W' = W * s; b' = (b - mean) * s + beta
// = ([1, 1] - [0, 2]) * s + [0, 1] = [2, 0.5].
// CHECK-LABEL: func.func @conv_batch_norm(
// CHECK-DAG: %[[W:.+]] = kiln.constant dense<{{\[\[\[\[}}2.000000e+00]]], {{\[\[\[}}5.000000e-01]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[B:.+]] = kiln.constant dense<[2.000000e+00, 5.000000e-01]> : tensor<2xf32>
// CHECK: %[[Y:.+]] = kiln.conv %arg0, %[[W]], %[[B]]
// CHECK-NOT: kiln.batch_norm
// CHECK: return %[[Y]]
func.func @conv_batch_norm(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = kiln.constant dense<1.0> : tensor<2x1x1x1xf32>
  %b = kiln.constant dense<1.0> : tensor<2xf32>
  %c = kiln.conv %x, %w, %b {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  %gamma = kiln.constant dense<[2.0, 1.0]> : tensor<2xf32>
  %beta = kiln.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %mean = kiln.constant dense<[0.0, 2.0]> : tensor<2xf32>
  %var = kiln.constant dense<[0.99999, 3.99999]> : tensor<2xf32>
  %y = kiln.batch_norm %c, %gamma, %beta, %mean, %var {epsilon = 1.0e-5 : f32} : (tensor<1x2x4x4xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// A per-channel Mul and Add after a bias-free conv.
// CHECK-LABEL: func.func @conv_mul_add(
// CHECK-DAG: kiln.constant dense<{{\[\[\[\[}}3.000000e+00]]], {{\[\[\[}}4.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: kiln.constant dense<[5.000000e+00, 6.000000e+00]> : tensor<2xf32>
// CHECK-NOT: kiln.mul
// CHECK-NOT: kiln.add
func.func @conv_mul_add(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = kiln.constant dense<1.0> : tensor<2x1x1x1xf32>
  %c = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %s = kiln.constant dense<[[[3.0]], [[4.0]]]> : tensor<2x1x1xf32>
  %m = kiln.mul %c, %s : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  %t = kiln.constant dense<[[[5.0]], [[6.0]]]> : tensor<2x1x1xf32>
  %y = kiln.add %m, %t : (tensor<1x2x4x4xf32>, tensor<2x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %y : tensor<1x2x4x4xf32>
}

// -----

// A scale that varies along a spatial dim cannot fold.
// CHECK-LABEL: func.func @spatial_scale(
// CHECK: kiln.mul
func.func @spatial_scale(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w = kiln.constant dense<1.0> : tensor<2x1x1x1xf32>
  %c = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x4x4xf32>
  %s = kiln.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
  %m = kiln.mul %c, %s : (tensor<1x2x4x4xf32>, tensor<4xf32>) -> tensor<1x2x4x4xf32>
  return %m : tensor<1x2x4x4xf32>
}

// -----

// A per-column Mul after a matmul scales the weight's columns and the bias.
// CHECK-LABEL: func.func @matmul_scale(
// CHECK-DAG: kiln.constant dense<{{\[\[}}2.000000e+00, 3.000000e+00]]> : tensor<1x2xf32>
// CHECK-DAG: kiln.constant dense<[2.000000e+00, 6.000000e+00]> : tensor<2xf32>
// CHECK-NOT: kiln.mul
func.func @matmul_scale(%x: tensor<4x1xf32>) -> tensor<4x2xf32> {
  %w = kiln.constant dense<1.0> : tensor<1x2xf32>
  %b = kiln.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %m = kiln.matmul %x, %w bias %b : (tensor<4x1xf32>, tensor<1x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  %s = kiln.constant dense<[2.0, 3.0]> : tensor<2xf32>
  %y = kiln.mul %m, %s : (tensor<4x2xf32>, tensor<2xf32>) -> tensor<4x2xf32>
  return %y : tensor<4x2xf32>
}
