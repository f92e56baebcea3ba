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

// -----

// Grouped-query attention as torch exports repeat_kv: each of 2 key/value
// heads is repeated twice for 4 query heads (Unsqueeze after the heads,
// Expand, Reshape), the targets computed at run time from the cache's shape,
// with the -1 guard of torch's Expand. The attention reads the 2-headed key
// and value in place.
// CHECK-LABEL: func.func @grouped_query_attention(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: tensor<?x4x?x16xf32>, %[[K:[a-z0-9]+]]: tensor<?x2x?x16xf32>, %[[V:[a-z0-9]+]]: tensor<?x2x?x16xf32>
// CHECK-NOT: kiln.expand
// CHECK: %[[O:.+]] = kiln.attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f32} : (tensor<?x4x?x16xf32>, tensor<?x2x?x16xf32>, tensor<?x2x?x16xf32>) -> tensor<?x4x?x16xf32>
// CHECK: return %[[O]]
func.func @grouped_query_attention(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i2 = kiln.constant dense<2> : tensor<i64>
  %i3 = kiln.constant dense<3> : tensor<i64>
  %minus1 = kiln.constant dense<-1> : tensor<5xi64>
  %ones = kiln.constant dense<1> : tensor<5xi64>
  %sk = kiln.shape %k : (tensor<?x2x?x16xf32>) -> tensor<4xi64>
  %bk = kiln.gather %sk, %i0 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %tk = kiln.gather %sk, %i2 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %dk = kiln.gather %sk, %i3 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %b1k = kiln.unsqueeze %bk {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %t1k = kiln.unsqueeze %tk {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %d1k = kiln.unsqueeze %dk {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %gk = kiln.constant dense<2> : tensor<1xi64>
  %rk = kiln.constant dense<2> : tensor<1xi64>
  %s5k = kiln.concat %b1k, %gk, %rk, %t1k, %d1k {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5xi64>
  %eqk = kiln.equal %s5k, %minus1 : (tensor<5xi64>, tensor<5xi64>) -> tensor<5xi1>
  %guardk = kiln.where %eqk, %ones, %s5k : (tensor<5xi1>, tensor<5xi64>, tensor<5xi64>) -> tensor<5xi64>
  %uk = kiln.unsqueeze %k {axes = array<i64: 2>} : (tensor<?x2x?x16xf32>) -> tensor<?x2x1x?x16xf32>
  %ek = kiln.expand %uk, %guardk : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x2x?x16xf32>
  %hk = kiln.constant dense<4> : tensor<1xi64>
  %s4k = kiln.concat %b1k, %hk, %t1k, %d1k {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %kr = kiln.reshape %ek, %s4k : (tensor<?x2x2x?x16xf32>, tensor<4xi64>) -> tensor<?x4x?x16xf32>
  %sv = kiln.shape %v : (tensor<?x2x?x16xf32>) -> tensor<4xi64>
  %bv = kiln.gather %sv, %i0 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %tv = kiln.gather %sv, %i2 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %dv = kiln.gather %sv, %i3 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %b1v = kiln.unsqueeze %bv {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %t1v = kiln.unsqueeze %tv {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %d1v = kiln.unsqueeze %dv {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %gv = kiln.constant dense<2> : tensor<1xi64>
  %rv = kiln.constant dense<2> : tensor<1xi64>
  %s5v = kiln.concat %b1v, %gv, %rv, %t1v, %d1v {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5xi64>
  %eqv = kiln.equal %s5v, %minus1 : (tensor<5xi64>, tensor<5xi64>) -> tensor<5xi1>
  %guardv = kiln.where %eqv, %ones, %s5v : (tensor<5xi1>, tensor<5xi64>, tensor<5xi64>) -> tensor<5xi64>
  %uv = kiln.unsqueeze %v {axes = array<i64: 2>} : (tensor<?x2x?x16xf32>) -> tensor<?x2x1x?x16xf32>
  %ev = kiln.expand %uv, %guardv : (tensor<?x2x1x?x16xf32>, tensor<5xi64>) -> tensor<?x2x2x?x16xf32>
  %hv = kiln.constant dense<4> : tensor<1xi64>
  %s4v = kiln.concat %b1v, %hv, %t1v, %d1v {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %vr = kiln.reshape %ev, %s4v : (tensor<?x2x2x?x16xf32>, tensor<4xi64>) -> tensor<?x4x?x16xf32>
  %kt = kiln.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %s = kiln.matmul %q, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = kiln.constant dense<4.0> : tensor<f32>
  %d = kiln.div %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p = kiln.softmax %d {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = kiln.matmul %p, %vr : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}

// -----

// Unsqueezed before the heads, the Expand tiles the groups (query head h
// reads key head h % 2, not h / 2): the attention keeps the repeated key and
// value.
// CHECK-LABEL: func.func @tiled_heads_stay(
// CHECK: kiln.expand
// CHECK: kiln.expand
// CHECK: kiln.attention %{{.+}}, %{{.+}}, %{{.+}} {scale = 2.500000e-01 : f32} : (tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
func.func @tiled_heads_stay(%q: tensor<?x4x?x16xf32>, %k: tensor<?x2x?x16xf32>, %v: tensor<?x2x?x16xf32>) -> tensor<?x4x?x16xf32> {
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i2 = kiln.constant dense<2> : tensor<i64>
  %i3 = kiln.constant dense<3> : tensor<i64>
  %minus1 = kiln.constant dense<-1> : tensor<5xi64>
  %ones = kiln.constant dense<1> : tensor<5xi64>
  %sk = kiln.shape %k : (tensor<?x2x?x16xf32>) -> tensor<4xi64>
  %bk = kiln.gather %sk, %i0 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %tk = kiln.gather %sk, %i2 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %dk = kiln.gather %sk, %i3 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %b1k = kiln.unsqueeze %bk {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %t1k = kiln.unsqueeze %tk {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %d1k = kiln.unsqueeze %dk {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %gk = kiln.constant dense<2> : tensor<1xi64>
  %rk = kiln.constant dense<2> : tensor<1xi64>
  %s5k = kiln.concat %b1k, %rk, %gk, %t1k, %d1k {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5xi64>
  %eqk = kiln.equal %s5k, %minus1 : (tensor<5xi64>, tensor<5xi64>) -> tensor<5xi1>
  %guardk = kiln.where %eqk, %ones, %s5k : (tensor<5xi1>, tensor<5xi64>, tensor<5xi64>) -> tensor<5xi64>
  %uk = kiln.unsqueeze %k {axes = array<i64: 1>} : (tensor<?x2x?x16xf32>) -> tensor<?x1x2x?x16xf32>
  %ek = kiln.expand %uk, %guardk : (tensor<?x1x2x?x16xf32>, tensor<5xi64>) -> tensor<?x2x2x?x16xf32>
  %hk = kiln.constant dense<4> : tensor<1xi64>
  %s4k = kiln.concat %b1k, %hk, %t1k, %d1k {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %kr = kiln.reshape %ek, %s4k : (tensor<?x2x2x?x16xf32>, tensor<4xi64>) -> tensor<?x4x?x16xf32>
  %sv = kiln.shape %v : (tensor<?x2x?x16xf32>) -> tensor<4xi64>
  %bv = kiln.gather %sv, %i0 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %tv = kiln.gather %sv, %i2 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %dv = kiln.gather %sv, %i3 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %b1v = kiln.unsqueeze %bv {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %t1v = kiln.unsqueeze %tv {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %d1v = kiln.unsqueeze %dv {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %gv = kiln.constant dense<2> : tensor<1xi64>
  %rv = kiln.constant dense<2> : tensor<1xi64>
  %s5v = kiln.concat %b1v, %rv, %gv, %t1v, %d1v {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5xi64>
  %eqv = kiln.equal %s5v, %minus1 : (tensor<5xi64>, tensor<5xi64>) -> tensor<5xi1>
  %guardv = kiln.where %eqv, %ones, %s5v : (tensor<5xi1>, tensor<5xi64>, tensor<5xi64>) -> tensor<5xi64>
  %uv = kiln.unsqueeze %v {axes = array<i64: 1>} : (tensor<?x2x?x16xf32>) -> tensor<?x1x2x?x16xf32>
  %ev = kiln.expand %uv, %guardv : (tensor<?x1x2x?x16xf32>, tensor<5xi64>) -> tensor<?x2x2x?x16xf32>
  %hv = kiln.constant dense<4> : tensor<1xi64>
  %s4v = kiln.concat %b1v, %hv, %t1v, %d1v {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %vr = kiln.reshape %ev, %s4v : (tensor<?x2x2x?x16xf32>, tensor<4xi64>) -> tensor<?x4x?x16xf32>
  %kt = kiln.transpose %kr {perm = array<i64: 0, 1, 3, 2>} : (tensor<?x4x?x16xf32>) -> tensor<?x4x16x?xf32>
  %s = kiln.matmul %q, %kt : (tensor<?x4x?x16xf32>, tensor<?x4x16x?xf32>) -> tensor<?x4x?x?xf32>
  %c = kiln.constant dense<4.0> : tensor<f32>
  %d = kiln.div %s, %c : (tensor<?x4x?x?xf32>, tensor<f32>) -> tensor<?x4x?x?xf32>
  %p = kiln.softmax %d {axis = -1 : i64} : (tensor<?x4x?x?xf32>) -> tensor<?x4x?x?xf32>
  %o = kiln.matmul %p, %vr : (tensor<?x4x?x?xf32>, tensor<?x4x?x16xf32>) -> tensor<?x4x?x16xf32>
  return %o : tensor<?x4x?x16xf32>
}
