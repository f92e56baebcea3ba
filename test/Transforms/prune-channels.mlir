// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-prune-channels))' -split-input-file | FileCheck %s

// Conv -> relu (fused) -> max_pool -> 3x3 conv: output channel 1 of the
// first conv has zero weights and bias 0, so relu(0) = 0 through the pool:
// it leaves the first conv's weight and bias, the pool's type and the
// second conv's input channels. Channel 2 has zero weights but bias 1:
// relu(1) = 1 feeds a padded 3x3 conv, where a constant channel is not the
// same at the borders, so it stays.
// CHECK-LABEL: func.func @conv_chain(
// CHECK-DAG: %[[W1:.+]] = kiln.constant dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}0.000000e+00]]], {{\[\[\[}}2.000000e+00]]]]> : tensor<3x1x1x1xf32>
// CHECK-DAG: %[[B1:.+]] = kiln.constant dense<[0.000000e+00, 1.000000e+00, 0.000000e+00]> : tensor<3xf32>
// CHECK: %[[C1:.+]] = kiln.conv %arg0, %[[W1]], %[[B1]] {activation = "relu", {{.*}}kiln.pruned_channels = array<i64: 1, 4>{{.*}}} : (tensor<1x1x4x4xf32>, tensor<3x1x1x1xf32>, tensor<3xf32>) -> tensor<1x3x4x4xf32>
// CHECK: %[[P:.+]] = kiln.max_pool %[[C1]] {{.*}} -> tensor<1x3x2x2xf32>
// CHECK: %[[W2:.+]] = kiln.constant {{.*}} : tensor<2x3x3x3xf32>
// CHECK: %[[C2:.+]] = kiln.conv %[[P]], %[[W2]] {{.*}} : (tensor<1x3x2x2xf32>, tensor<2x3x3x3xf32>) -> tensor<1x2x2x2xf32>
// CHECK: return %[[C2]]
func.func @conv_chain(%x: tensor<1x1x4x4xf32>) -> tensor<1x2x2x2xf32> {
  %w1 = kiln.constant dense<[[[[1.0]]], [[[0.0]]], [[[0.0]]], [[[2.0]]]]> : tensor<4x1x1x1xf32>
  %b1 = kiln.constant dense<[0.0, 0.0, 1.0, 0.0]> : tensor<4xf32>
  %c1 = kiln.conv %x, %w1, %b1 {activation = "relu", pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<4x1x1x1xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  %p = kiln.max_pool %c1 {kernel_shape = array<i64: 2, 2>, strides = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, dilations = array<i64: 1, 1>} : (tensor<1x4x4x4xf32>) -> tensor<1x4x2x2xf32>
  %w2 = kiln.constant dense<1.0> : tensor<2x4x3x3xf32>
  %c2 = kiln.conv %p, %w2 {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x4x2x2xf32>, tensor<2x4x3x3xf32>) -> tensor<1x2x2x2xf32>
  return %c2 : tensor<1x2x2x2xf32>
}

// -----

// An FFN: matmul (+bias, gelu) -> matmul. Neuron 0 is zero (weights 0,
// bias 0: gelu(0) = 0) and goes. Neuron 2 has zero weights and bias 3 but
// a gelu, whose value Kiln does not fold, so it stays... unless the
// activation is relu: see the next case.
// CHECK-LABEL: func.func @ffn(
// CHECK-DAG: %[[W1:.+]] = kiln.constant dense<{{\[\[}}1.000000e+00, 0.000000e+00], [2.000000e+00, 0.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: %[[B1:.+]] = kiln.constant dense<[1.000000e+00, 3.000000e+00]> : tensor<2xf32>
// CHECK: %[[H:.+]] = kiln.matmul %arg0, %[[W1]] bias %[[B1]] {activation = "gelu", kiln.pruned_channels = array<i64: 1, 3>} : (tensor<5x2xf32>, tensor<2x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
// CHECK-DAG: %[[W2:.+]] = kiln.constant dense<{{\[\[}}2.000000e+00, 2.000000e+00], [3.000000e+00, 3.000000e+00]]> : tensor<2x2xf32>
// CHECK: kiln.matmul %[[H]], %[[W2]] : (tensor<5x2xf32>, tensor<2x2xf32>) -> tensor<5x2xf32>
func.func @ffn(%x: tensor<5x2xf32>) -> tensor<5x2xf32> {
  %w1 = kiln.constant dense<[[0.0, 1.0, 0.0], [0.0, 2.0, 0.0]]> : tensor<2x3xf32>
  %b1 = kiln.constant dense<[0.0, 1.0, 3.0]> : tensor<3xf32>
  %h = kiln.matmul %x, %w1 bias %b1 {activation = "gelu"} : (tensor<5x2xf32>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<5x3xf32>
  %w2 = kiln.constant dense<[[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]> : tensor<3x2xf32>
  %y = kiln.matmul %h, %w2 : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}

// -----

// With relu, neuron 2's constant relu(3) = 3 folds into the consumer's
// bias: b2 + 3 * W2[2] = [0.5, 0.5] + [9, 9].
// CHECK-LABEL: func.func @ffn_constant(
// CHECK-DAG: %[[W1:.+]] = kiln.constant dense<{{\[\[}}1.000000e+00], [2.000000e+00]]> : tensor<2x1xf32>
// CHECK: %[[H:.+]] = kiln.matmul %arg0, %[[W1]] bias %{{.+}} {activation = "relu", kiln.pruned_channels = array<i64: 2, 3>} : (tensor<5x2xf32>, tensor<2x1xf32>, tensor<1xf32>) -> tensor<5x1xf32>
// CHECK: %[[B2:.+]] = kiln.constant dense<9.500000e+00> : tensor<2xf32>
// CHECK: kiln.matmul %[[H]], %{{.+}} bias %[[B2]] : (tensor<5x1xf32>, tensor<1x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
func.func @ffn_constant(%x: tensor<5x2xf32>) -> tensor<5x2xf32> {
  %w1 = kiln.constant dense<[[0.0, 1.0, 0.0], [0.0, 2.0, 0.0]]> : tensor<2x3xf32>
  %b1 = kiln.constant dense<[0.0, 1.0, 3.0]> : tensor<3xf32>
  %h = kiln.matmul %x, %w1 bias %b1 {activation = "relu"} : (tensor<5x2xf32>, tensor<2x3xf32>, tensor<3xf32>) -> tensor<5x3xf32>
  %w2 = kiln.constant dense<[[1.0, 1.0], [2.0, 2.0], [3.0, 3.0]]> : tensor<3x2xf32>
  %b2 = kiln.constant dense<0.5> : tensor<2xf32>
  %y = kiln.matmul %h, %w2 bias %b2 : (tensor<5x3xf32>, tensor<3x2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}

// -----

// Left alone: a producer with a second user, and a sigmoid between (its
// value at 0 is 0.5, not folded).
// CHECK-LABEL: func.func @kept(
// CHECK-NOT: kiln.pruned_channels
// CHECK: return
func.func @kept(%x: tensor<5x2xf32>) -> (tensor<5x2xf32>, tensor<5x3xf32>, tensor<5x2xf32>) {
  %w1 = kiln.constant dense<[[0.0, 1.0, 0.0], [0.0, 2.0, 0.0]]> : tensor<2x3xf32>
  %h = kiln.matmul %x, %w1 : (tensor<5x2xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
  %w2 = kiln.constant dense<1.0> : tensor<3x2xf32>
  %y = kiln.matmul %h, %w2 : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  %g = kiln.matmul %x, %w1 : (tensor<5x2xf32>, tensor<2x3xf32>) -> tensor<5x3xf32>
  %s = kiln.sigmoid %g : (tensor<5x3xf32>) -> tensor<5x3xf32>
  %z = kiln.matmul %s, %w2 : (tensor<5x3xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  return %y, %h, %z : tensor<5x2xf32>, tensor<5x3xf32>, tensor<5x2xf32>
}

// -----

// Attention heads: head 1's value projection (columns 2-3 of Wv) is zero,
// so the head adds nothing to the output projection. Q, K and V keep the
// columns of head 0, the reshapes and the attention one head, and the
// output projection the rows of head 0. The query and key of head 1 (not
// zero) go too.
// CHECK-LABEL: func.func @heads(
// CHECK: %[[WQ:.+]] = kiln.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], {{.*}}]> : tensor<4x2xf32>
// CHECK: %[[Q:.+]] = kiln.matmul %arg0, %[[WQ]] : (tensor<1x3x4xf32>, tensor<4x2xf32>) -> tensor<1x3x2xf32>
// CHECK: %[[SHAPE:.+]] = kiln.constant dense<[1, 3, 1, 2]> : tensor<4xi64>
// CHECK: kiln.reshape %[[Q]], %[[SHAPE]] : (tensor<1x3x2xf32>, tensor<4xi64>) -> tensor<1x3x1x2xf32>
// CHECK: %[[A:.+]] = kiln.attention {{.*}}kiln.pruned_heads = array<i64: 1, 2>{{.*}} -> tensor<1x1x3x2xf32>
// CHECK: %[[T:.+]] = kiln.transpose %[[A]] {{.*}} -> tensor<1x3x1x2xf32>
// CHECK: %[[M:.+]] = kiln.reshape %[[T]], %{{.+}} : (tensor<1x3x1x2xf32>, tensor<3xi64>) -> tensor<1x3x2xf32>
// CHECK: %[[WO:.+]] = kiln.constant dense<{{\[\[}}1.000000e+00, 0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 1.000000e+00, 0.000000e+00, 0.000000e+00]]> : tensor<2x4xf32>
// CHECK: kiln.matmul %[[M]], %[[WO]] : (tensor<1x3x2xf32>, tensor<2x4xf32>) -> tensor<1x3x4xf32>
func.func @heads(%x: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
  %wq = kiln.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0]]> : tensor<4x4xf32>
  %wk = kiln.constant dense<0.5> : tensor<4x4xf32>
  %wv = kiln.constant dense<[[1.0, 1.0, 0.0, 0.0], [2.0, 2.0, 0.0, 0.0], [3.0, 3.0, 0.0, 0.0], [4.0, 4.0, 0.0, 0.0]]> : tensor<4x4xf32>
  %wo = kiln.constant dense<[[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
  %split = kiln.constant dense<[1, 3, 2, 2]> : tensor<4xi64>
  %merge = kiln.constant dense<[1, 3, 4]> : tensor<3xi64>
  %q = kiln.matmul %x, %wq : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %k = kiln.matmul %x, %wk : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %v = kiln.matmul %x, %wv : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  %q4 = kiln.reshape %q, %split : (tensor<1x3x4xf32>, tensor<4xi64>) -> tensor<1x3x2x2xf32>
  %k4 = kiln.reshape %k, %split : (tensor<1x3x4xf32>, tensor<4xi64>) -> tensor<1x3x2x2xf32>
  %v4 = kiln.reshape %v, %split : (tensor<1x3x4xf32>, tensor<4xi64>) -> tensor<1x3x2x2xf32>
  %qt = kiln.transpose %q4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x3x2x2xf32>) -> tensor<1x2x3x2xf32>
  %kt = kiln.transpose %k4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x3x2x2xf32>) -> tensor<1x2x3x2xf32>
  %vt = kiln.transpose %v4 {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x3x2x2xf32>) -> tensor<1x2x3x2xf32>
  %a = kiln.attention %qt, %kt, %vt {scale = 0.5 : f32} : (tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x3x2xf32>
  %at = kiln.transpose %a {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x2x3x2xf32>) -> tensor<1x3x2x2xf32>
  %m = kiln.reshape %at, %merge : (tensor<1x3x2x2xf32>, tensor<3xi64>) -> tensor<1x3x4xf32>
  %y = kiln.matmul %m, %wo : (tensor<1x3x4xf32>, tensor<4x4xf32>) -> tensor<1x3x4xf32>
  return %y : tensor<1x3x4xf32>
}

// -----

// Through a Flatten into a matmul: channel 1 of the conv is zero (weights
// and bias), and after Flatten it is features 4-7 (H x W = 4 each), so the
// conv keeps channel 0, the Flatten yields 4 features and the matmul keeps
// rows 0-3 of its weight.
// CHECK-LABEL: func.func @flatten(
// CHECK: %[[C:.+]] = kiln.conv %arg0, %{{.+}} {{.*}}kiln.pruned_channels = array<i64: 1, 2>{{.*}} -> tensor<1x1x2x2xf32>
// CHECK: %[[F:.+]] = kiln.flatten %[[C]] {{.*}}: (tensor<1x1x2x2xf32>) -> tensor<1x4xf32>
// CHECK: %[[W:.+]] = kiln.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00], [7.000000e+00, 8.000000e+00]]> : tensor<4x2xf32>
// CHECK: kiln.matmul %[[F]], %[[W]] : (tensor<1x4xf32>, tensor<4x2xf32>) -> tensor<1x2xf32>
func.func @flatten(%x: tensor<1x1x2x2xf32>) -> tensor<1x2xf32> {
  %w1 = kiln.constant dense<[[[[1.5]]], [[[0.0]]]]> : tensor<2x1x1x1xf32>
  %b1 = kiln.constant dense<[0.5, 0.0]> : tensor<2xf32>
  %c = kiln.conv %x, %w1, %b1 {activation = "relu", pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>, tensor<2xf32>) -> tensor<1x2x2x2xf32>
  %f = kiln.flatten %c {axis = 1 : i64} : (tensor<1x2x2x2xf32>) -> tensor<1x8xf32>
  %w2 = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0], [7.0, 8.0], [9.0, 10.0], [11.0, 12.0], [13.0, 14.0], [15.0, 16.0]]> : tensor<8x2xf32>
  %y = kiln.matmul %f, %w2 : (tensor<1x8xf32>, tensor<8x2xf32>) -> tensor<1x2xf32>
  return %y : tensor<1x2xf32>
}

// -----

// A residual stream (a ResNet stage): the stem conv, then a block whose
// last conv adds the stream in as its residual; global pooling, Flatten
// and a Gemm read the stream at the end. Channel 1 is zero all along it
// (the stem's weights and bias 0; the last conv's weights, and bias -1
// through its relu), so it leaves both convs, the pool, the Flatten, the
// block's first conv's inputs and the Gemm's rows (the Gemm becomes a
// matmul). Channel 2 is zero in the stem but not in the last conv: it
// stays.
// CHECK-LABEL: func.func @residual_stream(
// CHECK-DAG: %[[WS:.+]] = kiln.constant dense<{{\[\[\[\[}}1.000000e+00]]], {{\[\[\[}}0.000000e+00]]]]> : tensor<2x1x1x1xf32>
// CHECK-DAG: %[[BS:.+]] = kiln.constant dense<[5.000000e-01, 0.000000e+00]> : tensor<2xf32>
// CHECK: %[[S:.+]] = kiln.conv %arg0, %[[WS]], %[[BS]] {activation = "relu", {{.*}}kiln.pruned_channels = array<i64: 1, 3>{{.*}}} : ({{.*}}) -> tensor<1x2x4x4xf32>
// CHECK: %[[W1:.+]] = kiln.constant dense<{{\[\[\[\[}}1.000000e+00]], {{\[\[}}3.000000e+00]]], {{\[\[\[}}4.000000e+00]], {{\[\[}}6.000000e+00]]]]> : tensor<2x2x1x1xf32>
// CHECK: %[[H:.+]] = kiln.conv %[[S]], %[[W1]] {{.*}} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) -> tensor<1x2x4x4xf32>
// CHECK: %[[Y:.+]] = kiln.conv %[[H]], %{{.+}}, %{{.+}} residual %[[S]] {activation = "relu", {{.*}}kiln.pruned_channels = array<i64: 1, 3>{{.*}}} : (tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>, tensor<2xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
// CHECK: %[[P:.+]] = kiln.global_average_pool %[[Y]] : (tensor<1x2x4x4xf32>) -> tensor<1x2x1x1xf32>
// CHECK: %[[F:.+]] = kiln.flatten %[[P]] {{.*}}: (tensor<1x2x1x1xf32>) -> tensor<1x2xf32>
// CHECK: %[[WG:.+]] = kiln.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00], [5.000000e+00, 6.000000e+00]]> : tensor<2x2xf32>
// CHECK: %[[G:.+]] = kiln.matmul %[[F]], %[[WG]] : (tensor<1x2xf32>, tensor<2x2xf32>) -> tensor<1x2xf32>
// CHECK: return %[[G]]
func.func @residual_stream(%x: tensor<1x1x4x4xf32>) -> tensor<1x2xf32> {
  %ws = kiln.constant dense<[[[[1.0]]], [[[0.0]]], [[[0.0]]]]> : tensor<3x1x1x1xf32>
  %bs = kiln.constant dense<[0.5, 0.0, 0.0]> : tensor<3xf32>
  %s = kiln.conv %x, %ws, %bs {activation = "relu", pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<3x1x1x1xf32>, tensor<3xf32>) -> tensor<1x3x4x4xf32>
  %w1 = kiln.constant dense<[[[[1.0]], [[2.0]], [[3.0]]], [[[4.0]], [[5.0]], [[6.0]]]]> : tensor<2x3x1x1xf32>
  %h = kiln.conv %s, %w1 {activation = "relu", pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x3x4x4xf32>, tensor<2x3x1x1xf32>) -> tensor<1x2x4x4xf32>
  %w2 = kiln.constant dense<[[[[1.0]], [[1.0]]], [[[0.0]], [[0.0]]], [[[2.0]], [[2.0]]]]> : tensor<3x2x1x1xf32>
  %b2 = kiln.constant dense<[0.0, -1.0, 0.0]> : tensor<3xf32>
  %y = kiln.conv %h, %w2, %b2 residual %s {activation = "relu", pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x2x4x4xf32>, tensor<3x2x1x1xf32>, tensor<3xf32>, tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %p = kiln.global_average_pool %y : (tensor<1x3x4x4xf32>) -> tensor<1x3x1x1xf32>
  %f = kiln.flatten %p {axis = 1 : i64} : (tensor<1x3x1x1xf32>) -> tensor<1x3xf32>
  %wg = kiln.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %g = kiln.gemm %f, %wg : (tensor<1x3xf32>, tensor<3x2xf32>) -> tensor<1x2xf32>
  return %g : tensor<1x2xf32>
}

// -----

// The same stream, returned as well as read: the caller sees every
// channel, so none goes.
// CHECK-LABEL: func.func @residual_stream_returned(
// CHECK-NOT: kiln.pruned_channels
// CHECK: return
func.func @residual_stream_returned(%x: tensor<1x1x4x4xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>) {
  %ws = kiln.constant dense<[[[[1.0]]], [[[0.0]]], [[[2.0]]]]> : tensor<3x1x1x1xf32>
  %s = kiln.conv %x, %ws {activation = "relu", pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x1x4x4xf32>, tensor<3x1x1x1xf32>) -> tensor<1x3x4x4xf32>
  %w2 = kiln.constant dense<[[[[1.0]], [[1.0]], [[1.0]]], [[[0.0]], [[0.0]], [[0.0]]], [[[2.0]], [[2.0]], [[2.0]]]]> : tensor<3x3x1x1xf32>
  %y = kiln.conv %s, %w2 residual %s {activation = "relu", pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x3x4x4xf32>, tensor<3x3x1x1xf32>, tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %s, %y : tensor<1x3x4x4xf32>, tensor<1x3x4x4xf32>
}

// -----

// Two convs concatenated along the channels into a 1x1 conv: the second
// conv's channel 0 (the Concat's channel 2) has zero weights and bias 2,
// so relu(2) = 2 goes into the consumer's bias (2 * 3); its channel 1 (the
// Concat's channel 3) is 0 and goes. The Concat and the consumer's weight
// lose both.
// CHECK-LABEL: func.func @concat(
// CHECK: %[[A:.+]] = kiln.conv %arg0, {{.*}} -> tensor<1x2x2x2xf32>
// CHECK: %[[WB:.+]] = kiln.constant dense<3.000000e+00> : tensor<1x1x1x1xf32>
// CHECK: %[[B:.+]] = kiln.conv %arg0, %[[WB]], %{{.+}} {activation = "relu", {{.*}}kiln.pruned_channels = array<i64: 2, 3>{{.*}}} : ({{.*}}) -> tensor<1x1x2x2xf32>
// CHECK: %[[C:.+]] = kiln.concat %[[A]], %[[B]] {axis = 1 : i64} : (tensor<1x2x2x2xf32>, tensor<1x1x2x2xf32>) -> tensor<1x3x2x2xf32>
// CHECK-DAG: %[[W:.+]] = kiln.constant dense<{{\[\[\[\[}}1.000000e+00]], {{\[\[}}2.000000e+00]], {{\[\[}}5.000000e+00]]]]> : tensor<1x3x1x1xf32>
// CHECK-DAG: %[[BIAS:.+]] = kiln.constant dense<6.000000e+00> : tensor<1xf32>
// CHECK: kiln.conv %[[C]], %[[W]], %[[BIAS]] {{.*}} : (tensor<1x3x2x2xf32>, tensor<1x3x1x1xf32>, tensor<1xf32>) -> tensor<1x1x2x2xf32>
func.func @concat(%x: tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32> {
  %wa = kiln.constant dense<[[[[1.0]]], [[[2.0]]]]> : tensor<2x1x1x1xf32>
  %a = kiln.conv %x, %wa {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x1x2x2xf32>, tensor<2x1x1x1xf32>) -> tensor<1x2x2x2xf32>
  %wb = kiln.constant dense<[[[[0.0]]], [[[0.0]]], [[[3.0]]]]> : tensor<3x1x1x1xf32>
  %bb = kiln.constant dense<[2.0, 0.0, 0.0]> : tensor<3xf32>
  %b = kiln.conv %x, %wb, %bb {activation = "relu", pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x1x2x2xf32>, tensor<3x1x1x1xf32>, tensor<3xf32>) -> tensor<1x3x2x2xf32>
  %c = kiln.concat %a, %b {axis = 1 : i64} : (tensor<1x2x2x2xf32>, tensor<1x3x2x2xf32>) -> tensor<1x5x2x2xf32>
  %wc = kiln.constant dense<[[[[1.0]], [[2.0]], [[3.0]], [[4.0]], [[5.0]]]]> : tensor<1x5x1x1xf32>
  %y = kiln.conv %c, %wc {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x5x2x2xf32>, tensor<1x5x1x1xf32>) -> tensor<1x1x2x2xf32>
  return %y : tensor<1x1x2x2xf32>
}

// -----

// A conv split along its channels into three pieces, each read by its own
// conv (one through a relu). Channel 1 (piece 0) is zero and goes: the
// conv, the Split's first piece and its reader lose it. Channels 4 and 5
// are zero too, but they are all of piece 2, which keeps them rather than
// become empty.
// CHECK-LABEL: func.func @split(
// CHECK: %[[S:.+]] = kiln.conv %arg0, {{.*}}kiln.pruned_channels = array<i64: 1, 6>{{.*}} -> tensor<1x5x2x2xf32>
// CHECK: %[[P:.+]]:3 = kiln.split %[[S]] {axis = 1 : i64, num_outputs = 3 : i64, sizes = array<i64: 1, 2, 2>} : (tensor<1x5x2x2xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>)
// CHECK: %[[WA:.+]] = kiln.constant dense<1.000000e+00> : tensor<1x1x1x1xf32>
// CHECK: kiln.conv %[[P]]#0, %[[WA]] {{.*}} : (tensor<1x1x2x2xf32>, tensor<1x1x1x1xf32>) -> tensor<1x1x2x2xf32>
// CHECK: %[[R:.+]] = kiln.relu %[[P]]#1 : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
// CHECK: kiln.conv %[[R]], {{.*}} : (tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x2x2xf32>
// CHECK: kiln.conv %[[P]]#2, {{.*}} : (tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x2x2xf32>
func.func @split(%x: tensor<1x1x2x2xf32>) -> (tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>) {
  %w = kiln.constant dense<[[[[1.0]]], [[[0.0]]], [[[2.0]]], [[[3.0]]], [[[0.0]]], [[[0.0]]]]> : tensor<6x1x1x1xf32>
  %s = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x1x2x2xf32>, tensor<6x1x1x1xf32>) -> tensor<1x6x2x2xf32>
  %a, %b, %c = kiln.split %s {axis = 1 : i64, num_outputs = 3 : i64} : (tensor<1x6x2x2xf32>) -> (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>)
  %wa = kiln.constant dense<1.0> : tensor<1x2x1x1xf32>
  %ya = kiln.conv %a, %wa {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x2x2xf32>
  %r = kiln.relu %b : (tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %wb = kiln.constant dense<2.0> : tensor<1x2x1x1xf32>
  %yb = kiln.conv %r, %wb {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x2x2xf32>
  %wc = kiln.constant dense<3.0> : tensor<1x2x1x1xf32>
  %yc = kiln.conv %c, %wc {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x2x2x2xf32>, tensor<1x2x1x1xf32>) -> tensor<1x1x2x2xf32>
  return %ya, %yb, %yc : tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>, tensor<1x1x2x2xf32>
}
