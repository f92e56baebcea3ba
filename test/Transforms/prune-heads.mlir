// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-prune-magnitude{heads=0.5},kiln-prune-channels))' | FileCheck %s
// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-prune-magnitude{heads=1},kiln-prune-channels))' | FileCheck %s
// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-prune-magnitude{heads=0.4},kiln-prune-channels))' | FileCheck %s --check-prefix=NONE

// --prune=heads:0.5 (or heads:1) on two heads: a head's magnitude is the
// L2 norm of its value projection times that of its output projection
// rows. Head 0 has the larger values (sqrt(8)) but output rows of 0.05
// (norm 0.07): 0.2; head 1 values of 0.1 (0.28) and output rows of 1
// (1.41): 0.4. Head 0 gets zero output rows, and kiln-prune-channels
// removes it: Q, K and V keep head 1's columns, the output projection its
// rows. heads:0.4 removes floor(0.8) = no head.
// CHECK: %[[WQ:.+]] = kiln.constant dense<{{\[\[}}3.000000e+00, 4.000000e+00], [7.000000e+00, 8.000000e+00], [1.000000e+00, 1.000000e+00], [2.000000e+00, 2.000000e+00]]> : tensor<4x2xf32>
// CHECK: kiln.matmul %arg0, %[[WQ]] : (tensor<1x3x4xf32>, tensor<4x2xf32>) -> tensor<1x3x2xf32>
// CHECK: kiln.attention {{.*}}kiln.pruned_heads = array<i64: 1, 2>{{.*}} -> tensor<1x1x3x2xf32>
// CHECK: %[[WO:.+]] = kiln.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00, 1.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00, 1.000000e+00]]> : tensor<2x4xf32>
// CHECK: kiln.matmul %{{.+}}, %[[WO]] : (tensor<1x3x2xf32>, tensor<2x4xf32>) -> tensor<1x3x4xf32>
// NONE-NOT: kiln.pruned_heads
// NONE: kiln.attention {{.*}} -> tensor<1x2x3x2xf32>
func.func @heads(%x: tensor<1x3x4xf32>) -> tensor<1x3x4xf32> {
  %wq = kiln.constant dense<[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [1.0, 1.0, 1.0, 1.0], [2.0, 2.0, 2.0, 2.0]]> : tensor<4x4xf32>
  %wk = kiln.constant dense<0.5> : tensor<4x4xf32>
  %wv = kiln.constant dense<[[1.0, 1.0, 0.1, 0.1], [1.0, 1.0, 0.1, 0.1], [1.0, 1.0, 0.1, 0.1], [1.0, 1.0, 0.1, 0.1]]> : tensor<4x4xf32>
  %wo = kiln.constant dense<[[0.05, 0.0, 0.0, 0.0], [0.0, 0.05, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>
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
