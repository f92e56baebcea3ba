// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-prune-magnitude{channels=0.5 ffn=0.34},kiln-prune-channels))' -split-input-file | FileCheck %s

// --prune=channels:0.5: the conv's output channels have weight L1 norms
// 1, 0.1, 3 and 0.2; the two smallest (1 and 3) get zero weights and bias,
// and kiln-prune-channels removes them here and from the next conv.
// CHECK-LABEL: func.func @channels(
// CHECK: %[[W1:.+]] = kiln.constant dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}-3.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK: kiln.conv %arg0, %[[W1]], %{{.+}} {activation = "relu", {{.*}}kiln.pruned_channels = array<i64: 2, 4>{{.*}} -> tensor<1x2x4x4xf32>
// CHECK: kiln.conv {{.*}} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
func.func @channels(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %w1 = kiln.constant dense<[[[[1.0]]], [[[0.1]]], [[[-3.0]]], [[[0.2]]]]> : tensor<4x1x1x1xf32>
  %b1 = kiln.constant dense<[0.5, 0.5, 0.5, 0.5]> : tensor<4xf32>
  %c1 = kiln.conv %x, %w1, %b1 {activation = "relu", pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<4x1x1x1xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %w2 = kiln.constant dense<1.0> : tensor<2x4x1x1xf32>
  %c2 = kiln.conv %c1, %w2 {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>, tensor<2x4x1x1xf32>) -> tensor<1x2x4x4xf32>
  return %c2 : tensor<1x2x4x4xf32>
}

// -----

// --prune=ffn:0.34 on three neurons: floor(0.34 * 3) = 1, the column of
// smallest norm (the middle one). A product without a matmul consumer, or
// whose activation does not map 0 to 0 (sigmoid), is left alone.
// CHECK-LABEL: func.func @ffn(
// CHECK: kiln.matmul %arg0, %{{.+}} {activation = "gelu", kiln.pruned_channels = array<i64: 1, 3>} : (tensor<5x2xf32>, tensor<2x2xf32>) -> tensor<5x2xf32>
// CHECK: kiln.matmul %{{.+}}, %{{.+}} : (tensor<5x2xf32>, tensor<2x2xf32>) -> tensor<5x2xf32>
// CHECK: kiln.matmul %arg0, %{{.+}} {activation = "sigmoid"} : (tensor<5x2xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
func.func @ffn(%x: tensor<5x2xf32>) -> (tensor<5x2xf32>, tensor<5x2xf32>) {
  %w1 = kiln.constant dense<[[2.0, 0.1, -2.0], [2.0, 0.1, 2.0]]> : tensor<2x3xf32>
  %h = kiln.matmul %x, %w1 {activation = "gelu"} : (tensor<5x2xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
  %w2 = kiln.constant dense<1.0> : tensor<3x2xf32>
  %y = kiln.matmul %h, %w2 : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  %s = kiln.matmul %x, %w1 {activation = "sigmoid"} : (tensor<5x2xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
  %z = kiln.matmul %s, %w2 : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  return %y, %z : tensor<5x2xf32>, tensor<5x2xf32>
}

// -----

// A Linear on a 2-D input as torch exports it, Gemm with trans_b: the
// gemms become matmuls (their B transposed to [k][n]), and the neuron of
// least L1 norm (row 1 of W1, 0.2) goes from both, with its bias.
// CHECK-LABEL: func.func @gemm(
// CHECK: %[[W1:.+]] = kiln.constant dense<{{\[\[}}2.000000e+00, -2.000000e+00], [2.000000e+00, 2.000000e+00]]> : tensor<2x2xf32>
// CHECK: %[[H:.+]] = kiln.matmul %arg0, %[[W1]] bias %{{.+}} {activation = "relu", kiln.pruned_channels = array<i64: 1, 3>} : (tensor<5x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
// CHECK: %[[W2:.+]] = kiln.constant dense<{{\[\[}}1.000000e+00, 4.000000e+00], [3.000000e+00, 6.000000e+00]]> : tensor<2x2xf32>
// CHECK: kiln.matmul %[[H]], %[[W2]] : (tensor<5x2xf32>, tensor<2x2xf32>) -> tensor<5x2xf32>
// CHECK-NOT: kiln.gemm
func.func @gemm(%x: tensor<5x2xf32>) -> tensor<5x2xf32> {
  %w1 = kiln.constant dense<[[2.0, 2.0], [0.1, 0.1], [-2.0, 2.0]]> : tensor<3x2xf32>
  %b1 = kiln.constant dense<[0.5, 0.5, 0.5]> : tensor<3xf32>
  %h = kiln.gemm %x, %w1, %b1 {activation = "relu", trans_b = true} : (tensor<5x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<5x3xf32>
  %w2 = kiln.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %y = kiln.gemm %h, %w2 {trans_b = true} : (tensor<5x3xf32>, tensor<2x3xf32>) -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}
