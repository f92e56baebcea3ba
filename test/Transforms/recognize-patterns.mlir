// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-recognize-patterns))' -split-input-file | FileCheck %s

// GELU, erf form as torch exports it: x * (erf(x / 1.4142) + 1) * 0.5.
// CHECK-LABEL: func.func @gelu_erf(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x8xf32>
// CHECK-NEXT: %[[G:.+]] = kiln.gelu %[[X]] : (tensor<2x8xf32>) -> tensor<2x8xf32>
// CHECK-NEXT: return %[[G]]
func.func @gelu_erf(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt2 = kiln.constant dense<1.41421354> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %half = kiln.constant dense<0.5> : tensor<f32>
  %d = kiln.div %x, %sqrt2 : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %e = kiln.erf %d : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %a = kiln.add %e, %one : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %m = kiln.mul %x, %a : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %y = kiln.mul %m, %half : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// GELU, tanh form as GPT-2 writes it.
// CHECK-LABEL: func.func @gelu_tanh(
// CHECK-NEXT: %[[G:.+]] = kiln.gelu %{{.+}} {approximate = "tanh"}
// CHECK-NEXT: return %[[G]]
func.func @gelu_tanh(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %half = kiln.constant dense<0.5> : tensor<f32>
  %three = kiln.constant dense<3.0> : tensor<f32>
  %c1 = kiln.constant dense<0.044715> : tensor<f32>
  %c2 = kiln.constant dense<0.797884583> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %h = kiln.mul %x, %half : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %p = kiln.pow %x, %three : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %q = kiln.mul %p, %c1 : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %s = kiln.add %x, %q : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %r = kiln.mul %s, %c2 : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %t = kiln.tanh %r : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %u = kiln.add %t, %one : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %y = kiln.mul %h, %u : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// A wrong constant (0.4 instead of 0.5) is not GELU.
// CHECK-LABEL: func.func @not_gelu(
// CHECK-NOT: kiln.gelu
func.func @not_gelu(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %sqrt2 = kiln.constant dense<1.41421354> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %c = kiln.constant dense<0.4> : tensor<f32>
  %d = kiln.div %x, %sqrt2 : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %e = kiln.erf %d : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %a = kiln.add %e, %one : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  %m = kiln.mul %x, %a : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  %y = kiln.mul %m, %c : (tensor<2x8xf32>, tensor<f32>) -> tensor<2x8xf32>
  return %y : tensor<2x8xf32>
}

// -----

// LayerNorm as opset-13 exporters write it, with its affine tail.
// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x4x16xf32>, %[[G:[a-z0-9]+]]: tensor<16xf32>, %[[B:[a-z0-9]+]]: tensor<16xf32>
// CHECK: %[[Y:.+]] = kiln.layer_norm %[[X]], %[[G]], %[[B]] {axis = 2 : i64, epsilon = 9.99999996E-13 : f32}
// CHECK-NEXT: return %[[Y]]
func.func @layer_norm(%x: tensor<1x4x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<1x4x16xf32> {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %eps = kiln.constant dense<1.0e-12> : tensor<f32>
  %mean = kiln.reduce_mean %x {axes = array<i64: -1>, keepdims = true} : (tensor<1x4x16xf32>) -> tensor<1x4x1xf32>
  %d = kiln.sub %x, %mean : (tensor<1x4x16xf32>, tensor<1x4x1xf32>) -> tensor<1x4x16xf32>
  %sq = kiln.pow %d, %two : (tensor<1x4x16xf32>, tensor<f32>) -> tensor<1x4x16xf32>
  %var = kiln.reduce_mean %sq {axes = array<i64: -1>, keepdims = true} : (tensor<1x4x16xf32>) -> tensor<1x4x1xf32>
  %ve = kiln.add %var, %eps : (tensor<1x4x1xf32>, tensor<f32>) -> tensor<1x4x1xf32>
  %std = kiln.sqrt %ve : (tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %n = kiln.div %d, %std : (tensor<1x4x16xf32>, tensor<1x4x1xf32>) -> tensor<1x4x16xf32>
  %s = kiln.mul %n, %g : (tensor<1x4x16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
  %y = kiln.add %s, %b : (tensor<1x4x16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
  return %y : tensor<1x4x16xf32>
}

// -----

// RMSNorm (T5/LLaMA): x * reciprocal(sqrt(mean(x*x) + eps)) * g.
// CHECK-LABEL: func.func @rms_norm(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<1x4x16xf32>, %[[G:[a-z0-9]+]]: tensor<16xf32>
// CHECK: %[[Y:.+]] = kiln.rms_norm %[[X]], %[[G]] {axis = 2 : i64, epsilon = 9.99999997E-7 : f32}
// CHECK-NEXT: return %[[Y]]
func.func @rms_norm(%x: tensor<1x4x16xf32>, %g: tensor<16xf32>) -> tensor<1x4x16xf32> {
  %eps = kiln.constant dense<1.0e-6> : tensor<f32>
  %sq = kiln.mul %x, %x : (tensor<1x4x16xf32>, tensor<1x4x16xf32>) -> tensor<1x4x16xf32>
  %ms = kiln.reduce_mean %sq {axes = array<i64: 2>, keepdims = true} : (tensor<1x4x16xf32>) -> tensor<1x4x1xf32>
  %ve = kiln.add %ms, %eps : (tensor<1x4x1xf32>, tensor<f32>) -> tensor<1x4x1xf32>
  %std = kiln.sqrt %ve : (tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %inv = kiln.reciprocal %std : (tensor<1x4x1xf32>) -> tensor<1x4x1xf32>
  %n = kiln.mul %x, %inv : (tensor<1x4x16xf32>, tensor<1x4x1xf32>) -> tensor<1x4x16xf32>
  %y = kiln.mul %n, %g : (tensor<1x4x16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
  return %y : tensor<1x4x16xf32>
}

// -----

// A mean over a non-trailing axis is not a LayerNorm.
// CHECK-LABEL: func.func @not_layer_norm(
// CHECK-NOT: kiln.layer_norm
// CHECK-NOT: kiln.rms_norm
func.func @not_layer_norm(%x: tensor<1x4x16xf32>) -> tensor<1x4x16xf32> {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %eps = kiln.constant dense<1.0e-5> : tensor<f32>
  %mean = kiln.reduce_mean %x {axes = array<i64: 1>, keepdims = true} : (tensor<1x4x16xf32>) -> tensor<1x1x16xf32>
  %d = kiln.sub %x, %mean : (tensor<1x4x16xf32>, tensor<1x1x16xf32>) -> tensor<1x4x16xf32>
  %sq = kiln.pow %d, %two : (tensor<1x4x16xf32>, tensor<f32>) -> tensor<1x4x16xf32>
  %var = kiln.reduce_mean %sq {axes = array<i64: 1>, keepdims = true} : (tensor<1x4x16xf32>) -> tensor<1x1x16xf32>
  %ve = kiln.add %var, %eps : (tensor<1x1x16xf32>, tensor<f32>) -> tensor<1x1x16xf32>
  %std = kiln.sqrt %ve : (tensor<1x1x16xf32>) -> tensor<1x1x16xf32>
  %n = kiln.div %d, %std : (tensor<1x4x16xf32>, tensor<1x1x16xf32>) -> tensor<1x4x16xf32>
  return %n : tensor<1x4x16xf32>
}
