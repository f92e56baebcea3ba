// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-fuse-epilogues))' -split-input-file | FileCheck %s

// Transformer FFN: bias add then GELU into the matmul.
// CHECK-LABEL: func.func @matmul_bias_gelu(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x8x16xf32>, %[[W:[a-z0-9]+]]: tensor<16x32xf32>
// CHECK: %[[B:.+]] = kiln.constant
// CHECK: %[[Y:.+]] = kiln.matmul %[[X]], %[[W]] bias %[[B]] {activation = "gelu"}
// CHECK-NEXT: return %[[Y]]
func.func @matmul_bias_gelu(%x: tensor<1x8x16xf32>, %w: tensor<16x32xf32>) -> tensor<1x8x32xf32> {
  %b = kiln.constant dense<0.5> : tensor<32xf32>
  %m = kiln.matmul %x, %w : (tensor<1x8x16xf32>, tensor<16x32xf32>) -> tensor<1x8x32xf32>
  %a = kiln.add %m, %b : (tensor<1x8x32xf32>, tensor<32xf32>) -> tensor<1x8x32xf32>
  %g = kiln.gelu %a : (tensor<1x8x32xf32>) -> tensor<1x8x32xf32>
  return %g : tensor<1x8x32xf32>
}

// -----

// Transformer output projection: bias, then the residual add.
// CHECK-LABEL: func.func @matmul_bias_residual(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x8x16xf32>, %[[W:[a-z0-9]+]]: tensor<16x16xf32>, %[[R:[a-z0-9]+]]: tensor<1x8x16xf32>
// CHECK: kiln.matmul %[[X]], %[[W]] bias %{{.+}} residual %[[R]] :
// CHECK-NOT: kiln.add
func.func @matmul_bias_residual(%x: tensor<1x8x16xf32>, %w: tensor<16x16xf32>, %r: tensor<1x8x16xf32>) -> tensor<1x8x16xf32> {
  %b = kiln.constant dense<0.5> : tensor<16xf32>
  %m = kiln.matmul %x, %w : (tensor<1x8x16xf32>, tensor<16x16xf32>) -> tensor<1x8x16xf32>
  %a = kiln.add %m, %b : (tensor<1x8x16xf32>, tensor<16xf32>) -> tensor<1x8x16xf32>
  %s = kiln.add %r, %a : (tensor<1x8x16xf32>, tensor<1x8x16xf32>) -> tensor<1x8x16xf32>
  return %s : tensor<1x8x16xf32>
}

// -----

// ResNet block tail: conv + residual, then Relu.
// CHECK-LABEL: func.func @conv_residual_relu(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x4x8x8xf32>, %[[W:[a-z0-9]+]]: tensor<4x4x3x3xf32>, %[[B:[a-z0-9]+]]: tensor<4xf32>, %[[R:[a-z0-9]+]]: tensor<1x4x8x8xf32>
// CHECK: %[[Y:.+]] = kiln.conv %[[X]], %[[W]], %[[B]] residual %[[R]] {activation = "relu"
// CHECK-NEXT: return %[[Y]]
func.func @conv_residual_relu(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>, %b: tensor<4xf32>, %r: tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32> {
  %c = kiln.conv %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  %a = kiln.add %c, %r : (tensor<1x4x8x8xf32>, tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  %y = kiln.relu %a : (tensor<1x4x8x8xf32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

// MobileNet's ReLU6 is a Clip with constant bounds.
// CHECK-LABEL: func.func @conv_clip(
// CHECK: kiln.conv {{.+}} {activation = "clip", activation_params = array<f32: 0.000000e+00, 6.000000e+00>
func.func @conv_clip(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32> {
  %c = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x4x1x1xf32>) -> tensor<1x4x8x8xf32>
  %lo = kiln.constant dense<0.0> : tensor<f32>
  %hi = kiln.constant dense<6.0> : tensor<f32>
  %y = kiln.clip %c min %lo max %hi : (tensor<1x4x8x8xf32>, tensor<f32>, tensor<f32>) -> tensor<1x4x8x8xf32>
  return %y : tensor<1x4x8x8xf32>
}

// -----

// SiLU: x * sigmoid(x).
// CHECK-LABEL: func.func @gemm_silu(
// CHECK: kiln.gemm {{.+}} {activation = "silu"
// CHECK-NOT: kiln.sigmoid
func.func @gemm_silu(%a: tensor<2x8xf32>, %b: tensor<8x4xf32>) -> tensor<2x4xf32> {
  %g = kiln.gemm %a, %b : (tensor<2x8xf32>, tensor<8x4xf32>) -> tensor<2x4xf32>
  %s = kiln.sigmoid %g : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %y = kiln.mul %g, %s : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return %y : tensor<2x4xf32>
}

// -----

// A result with another user keeps its epilogue separate (it would be
// written twice otherwise).
// CHECK-LABEL: func.func @two_users(
// CHECK: %[[M:.+]] = kiln.matmul %{{.+}}, %{{.+}} :
// CHECK: kiln.relu %[[M]]
func.func @two_users(%x: tensor<4x4xf32>, %w: tensor<4x4xf32>) -> (tensor<4x4xf32>, tensor<4x4xf32>) {
  %m = kiln.matmul %x, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  %r = kiln.relu %m : (tensor<4x4xf32>) -> tensor<4x4xf32>
  return %r, %m : tensor<4x4xf32>, tensor<4x4xf32>
}
