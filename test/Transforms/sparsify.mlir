// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-sparsify{n=2 m=4}))' -split-input-file | FileCheck %s
// RUN: not kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-sparsify{n=4 m=4}))' -split-input-file 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: kiln-sparsify: needs 0 < n < m, got 4:4

// --sparsity=2:4 on a matmul's weight [k=5][n=2], along k: column 0 is
// 1 -4 2 3 | 0.5: the run of four keeps -4 and 3, the short last run keeps
// its one weight. Column 1 is 1 1 1 1 | 2: ties keep the earlier two.
// Four of ten weights become zero.
// CHECK-LABEL: func.func @matmul(
// CHECK: %[[W:.+]] = kiln.constant dense<{{\[\[}}0.000000e+00, 1.000000e+00], [-4.000000e+00, 1.000000e+00], [0.000000e+00, 0.000000e+00], [3.000000e+00, 0.000000e+00], [5.000000e-01, 2.000000e+00]]> : tensor<5x2xf32>
// CHECK: kiln.matmul %arg0, %[[W]] {kiln.sparsified = array<i64: 4, 10>}
func.func @matmul(%x: tensor<3x5xf32>) -> tensor<3x2xf32> {
  %w = kiln.constant dense<[[1.0, 1.0], [-4.0, 1.0], [2.0, 1.0], [3.0, 1.0], [0.5, 2.0]]> : tensor<5x2xf32>
  %y = kiln.matmul %x, %w : (tensor<3x5xf32>, tensor<5x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A gemm with trans_b reads its weight [n][k]: the runs go along each row.
// CHECK-LABEL: func.func @gemm_trans_b(
// CHECK: %[[W:.+]] = kiln.constant dense<{{\[\[}}0.000000e+00, 0.000000e+00, 3.000000e-01, -4.000000e-01]]> : tensor<1x4xf32>
// CHECK: kiln.gemm %arg0, %[[W]] {kiln.sparsified = array<i64: 2, 4>, trans_b = true}
func.func @gemm_trans_b(%x: tensor<2x4xf32>) -> tensor<2x1xf32> {
  %w = kiln.constant dense<[[0.1, -0.2, 0.3, -0.4]]> : tensor<1x4xf32>
  %y = kiln.gemm %x, %w {trans_b = true} : (tensor<2x4xf32>, tensor<1x4xf32>) -> tensor<2x1xf32>
  return %y : tensor<2x1xf32>
}

// -----

// A conv's runs go through each output channel's input channels and window
// ([m][c][kh][kw] flattened per m): 1 2 3 4 keeps 3 and 4.
// CHECK-LABEL: func.func @conv(
// CHECK: %[[W:.+]] = kiln.constant dense<{{\[\[\[\[}}0.000000e+00, 0.000000e+00]], {{\[\[}}3.000000e+00, 4.000000e+00]]]]> : tensor<1x2x1x2xf32>
// CHECK: kiln.conv %arg0, %[[W]] {{{.*}}kiln.sparsified = array<i64: 2, 4>
func.func @conv(%x: tensor<1x2x3x3xf32>) -> tensor<1x1x3x2xf32> {
  %w = kiln.constant dense<[[[[1.0, 2.0]], [[3.0, 4.0]]]]> : tensor<1x2x1x2xf32>
  %y = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x2x3x3xf32>, tensor<1x2x1x2xf32>) -> tensor<1x1x3x2xf32>
  return %y : tensor<1x1x3x2xf32>
}
