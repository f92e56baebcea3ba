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

// -----

// torch's rsqrt: x * (1 / sqrt(mean(x^2) + eps)) * weight.
// CHECK-LABEL: func.func @rms_norm_rsqrt(
// CHECK: %[[N:.+]] = kiln.rms_norm %{{.+}}, %{{.+}} {axis = 2 : i64, epsilon = 9.99999997E-7 : f32}
// CHECK-NOT: kiln.sqrt
// CHECK: return %[[N]]
func.func @rms_norm_rsqrt(%x: tensor<?x?x64xf32>, %w: tensor<64xf32>) -> tensor<?x?x64xf32> {
  %two = kiln.constant dense<2.0> : tensor<f32>
  %eps = kiln.constant dense<1.0e-6> : tensor<f32>
  %one = kiln.constant dense<1.0> : tensor<f32>
  %sq = kiln.pow %x, %two : (tensor<?x?x64xf32>, tensor<f32>) -> tensor<?x?x64xf32>
  %m = kiln.reduce_mean %sq {axes = array<i64: -1>} : (tensor<?x?x64xf32>) -> tensor<?x?x1xf32>
  %a = kiln.add %m, %eps : (tensor<?x?x1xf32>, tensor<f32>) -> tensor<?x?x1xf32>
  %r = kiln.sqrt %a : (tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %inv = kiln.div %one, %r : (tensor<f32>, tensor<?x?x1xf32>) -> tensor<?x?x1xf32>
  %n = kiln.mul %x, %inv : (tensor<?x?x64xf32>, tensor<?x?x1xf32>) -> tensor<?x?x64xf32>
  %y = kiln.mul %n, %w : (tensor<?x?x64xf32>, tensor<64xf32>) -> tensor<?x?x64xf32>
  return %y : tensor<?x?x64xf32>
}

// -----

// Rotary embedding, rotate-half form: x * cos + cat(-x[..., 8:], x[..., :8])
// * sin, with the tables [seq, 16] broadcast over batch and heads.
// CHECK-LABEL: func.func @rotary(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<?x4x?x16xf32>, %[[C:[a-z0-9]+]]: tensor<?x16xf32>, %[[S:[a-z0-9]+]]: tensor<?x16xf32>
// CHECK: %[[R:.+]] = kiln.rotary %[[X]], %[[C]], %[[S]] : (tensor<?x4x?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x4x?x16xf32>
// CHECK-NOT: kiln.neg
// CHECK: return %[[R]]
func.func @rotary(%x: tensor<?x4x?x16xf32>, %cos: tensor<?x16xf32>, %sin: tensor<?x16xf32>) -> tensor<?x4x?x16xf32> {
  %c0 = kiln.constant dense<0> : tensor<1xi64>
  %c8 = kiln.constant dense<8> : tensor<1xi64>
  %big = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %axis = kiln.constant dense<-1> : tensor<1xi64>
  %step = kiln.constant dense<1> : tensor<1xi64>
  %plain = kiln.mul %x, %cos : (tensor<?x4x?x16xf32>, tensor<?x16xf32>) -> tensor<?x4x?x16xf32>
  %hi = kiln.slice %x, %c8, %big, %axis, %step : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %neg = kiln.neg %hi : (tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
  %lo = kiln.slice %x, %c0, %c8, %axis, %step : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %cat = kiln.concat %neg, %lo {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %rot = kiln.mul %cat, %sin : (tensor<?x4x?x16xf32>, tensor<?x16xf32>) -> tensor<?x4x?x16xf32>
  %y = kiln.add %plain, %rot : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %y : tensor<?x4x?x16xf32>
}

// -----

// The halves swapped the other way (cat(x[..., 8:], -x[..., :8]), a rotation
// by -90 degrees) is not the rotate-half form: nothing changes.
// CHECK-LABEL: func.func @rotary_other_sign(
// CHECK-NOT: kiln.rotary
// CHECK: kiln.neg
func.func @rotary_other_sign(%x: tensor<?x4x?x16xf32>, %cos: tensor<?x16xf32>, %sin: tensor<?x16xf32>) -> tensor<?x4x?x16xf32> {
  %c0 = kiln.constant dense<0> : tensor<1xi64>
  %c8 = kiln.constant dense<8> : tensor<1xi64>
  %c16 = kiln.constant dense<16> : tensor<1xi64>
  %axis = kiln.constant dense<3> : tensor<1xi64>
  %step = kiln.constant dense<1> : tensor<1xi64>
  %plain = kiln.mul %x, %cos : (tensor<?x4x?x16xf32>, tensor<?x16xf32>) -> tensor<?x4x?x16xf32>
  %hi = kiln.slice %x, %c8, %c16, %axis, %step : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %lo = kiln.slice %x, %c0, %c8, %axis, %step : (tensor<?x4x?x16xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x4x?x8xf32>
  %neg = kiln.neg %lo : (tensor<?x4x?x8xf32>) -> tensor<?x4x?x8xf32>
  %cat = kiln.concat %hi, %neg {axis = -1 : i64} : (tensor<?x4x?x8xf32>, tensor<?x4x?x8xf32>) -> tensor<?x4x?x16xf32>
  %rot = kiln.mul %cat, %sin : (tensor<?x4x?x16xf32>, tensor<?x16xf32>) -> tensor<?x4x?x16xf32>
  %y = kiln.add %plain, %rot : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %y : tensor<?x4x?x16xf32>
}
