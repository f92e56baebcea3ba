// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-fuse-attention))' -split-input-file | FileCheck %s

// BERT-style: K^T from the head-split transpose, Div by sqrt(d), additive
// mask. The transpose [0,2,3,1] composed with the last-two swap is the plain
// head split [0,2,1,3].
// CHECK-LABEL: func.func @bert_attention(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<1x4x128x64xf32>, %[[KX:[a-z0-9]+]]: tensor<1x128x4x64xf32>, %[[V:[a-z0-9]+]]: tensor<1x4x128x64xf32>, %[[M:[a-z0-9]+]]: tensor<1x1x1x128xf32>
// CHECK: %[[K:.+]] = kiln.transpose %[[KX]] {perm = array<i64: 0, 2, 1, 3>}
// CHECK: %[[O:.+]] = kiln.attention %[[Q]], %[[K]], %[[V]] mask %[[M]] {scale = 1.250000e-01 : f32}
// CHECK-NOT: kiln.softmax
// CHECK: return %[[O]]
func.func @bert_attention(%q: tensor<1x4x128x64xf32>, %kx: tensor<1x128x4x64xf32>, %v: tensor<1x4x128x64xf32>, %mask: tensor<1x1x1x128xf32>) -> tensor<1x4x128x64xf32> {
  %kt = kiln.transpose %kx {perm = array<i64: 0, 2, 3, 1>} : (tensor<1x128x4x64xf32>) -> tensor<1x4x64x128xf32>
  %s = kiln.matmul %q, %kt : (tensor<1x4x128x64xf32>, tensor<1x4x64x128xf32>) -> tensor<1x4x128x128xf32>
  %c = kiln.constant dense<8.0> : tensor<f32>
  %d = kiln.div %s, %c : (tensor<1x4x128x128xf32>, tensor<f32>) -> tensor<1x4x128x128xf32>
  %a = kiln.add %d, %mask : (tensor<1x4x128x128xf32>, tensor<1x1x1x128xf32>) -> tensor<1x4x128x128xf32>
  %p = kiln.softmax %a {axis = -1 : i64} : (tensor<1x4x128x128xf32>) -> tensor<1x4x128x128xf32>
  %o = kiln.matmul %p, %v : (tensor<1x4x128x128xf32>, tensor<1x4x128x64xf32>) -> tensor<1x4x128x64xf32>
  return %o : tensor<1x4x128x64xf32>
}

// -----

// GPT-2 style: a bool causal mask through Where(cond, fill, scores).
// CHECK-LABEL: func.func @causal_attention(
// CHECK: kiln.attention %{{.+}}, %{{.+}}, %{{.+}} mask %{{.+}} {mask_fill = -1.000000e+04 : f32, scale = 1.250000e-01 : f32}
func.func @causal_attention(%q: tensor<1x4x16x64xf32>, %k: tensor<1x4x16x64xf32>, %v: tensor<1x4x16x64xf32>, %cond: tensor<1x1x16x16xi1>) -> tensor<1x4x16x64xf32> {
  %kt = kiln.transpose %k {perm = array<i64: 0, 1, 3, 2>} : (tensor<1x4x16x64xf32>) -> tensor<1x4x64x16xf32>
  %s = kiln.matmul %q, %kt : (tensor<1x4x16x64xf32>, tensor<1x4x64x16xf32>) -> tensor<1x4x16x16xf32>
  %c = kiln.constant dense<0.125> : tensor<f32>
  %d = kiln.mul %s, %c : (tensor<1x4x16x16xf32>, tensor<f32>) -> tensor<1x4x16x16xf32>
  %fill = kiln.constant dense<-1.0e+04> : tensor<f32>
  %w = kiln.where %cond, %fill, %d : (tensor<1x1x16x16xi1>, tensor<f32>, tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  %p = kiln.softmax %w {axis = 3 : i64} : (tensor<1x4x16x16xf32>) -> tensor<1x4x16x16xf32>
  %o = kiln.matmul %p, %v : (tensor<1x4x16x16xf32>, tensor<1x4x16x64xf32>) -> tensor<1x4x16x64xf32>
  return %o : tensor<1x4x16x64xf32>
}

// -----

// Softmax over another axis is not attention.
// CHECK-LABEL: func.func @wrong_axis(
// CHECK-NOT: kiln.attention
// CHECK: kiln.softmax
func.func @wrong_axis(%q: tensor<2x8x8xf32>, %kt: tensor<2x8x8xf32>, %v: tensor<2x8x8xf32>) -> tensor<2x8x8xf32> {
  %s = kiln.matmul %q, %kt : (tensor<2x8x8xf32>, tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %p = kiln.softmax %s {axis = 1 : i64} : (tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x8x8xf32>, tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  return %o : tensor<2x8x8xf32>
}

// -----

// Scores that are also returned are not fused (they would be computed twice).
// CHECK-LABEL: func.func @scores_used_twice(
// CHECK-NOT: kiln.attention
func.func @scores_used_twice(%q: tensor<2x8x8xf32>, %kt: tensor<2x8x8xf32>, %v: tensor<2x8x8xf32>) -> (tensor<2x8x8xf32>, tensor<2x8x8xf32>) {
  %s = kiln.matmul %q, %kt : (tensor<2x8x8xf32>, tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %p = kiln.softmax %s {axis = -1 : i64} : (tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %o = kiln.matmul %p, %v : (tensor<2x8x8xf32>, tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  return %o, %s : tensor<2x8x8xf32>, tensor<2x8x8xf32>
}
