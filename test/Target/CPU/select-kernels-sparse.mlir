// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-select-kernels{isa=avx512}))' | FileCheck %s
// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-select-kernels{isa=avx2}))' | FileCheck %s --check-prefix=AVX2
// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-select-kernels{isa=avx512 sparse=false}))' | FileCheck %s --check-prefix=OFF

// A constant rhs [k=4][n=32] with 3 nonzero 1x16 blocks of 8 (k=1 and k=3 in
// the first 16 columns, k=2 in the others) and 18 nonzero weights of 128:
// 62.5 % zero blocks, 85.9 % zero weights. The cost model estimates the
// sparse kernel at 1.05 x 0.375 = 0.39 of the dense kernel's time (<= 0.75),
// so the product runs on sgemm_sparse with its tile (16 rows on AVX-512, 6
// on AVX2); the numbers stay on the decision for the compile report. With
// sparse=false it stays dense, the numbers recorded all the same and
// `sparse_kernel = "off"` saying the choice was overruled.
// CHECK-LABEL: func.func @sparse_rhs
// CHECK: linalg.matmul {kiln.ukernel = {isa = "avx512", kernel = "sgemm_sparse", pack_rhs = "compile-time", register_tile = array<i64: 16, 16>, sparse_time_ratio = 0.3937{{[0-9]*}} : f64, zero_blocks = 6.250000e-01 : f64, zero_weights = 8.593750e-01 : f64}}
// AVX2-LABEL: func.func @sparse_rhs
// AVX2: kernel = "sgemm_sparse", pack_rhs = "compile-time", register_tile = array<i64: 6, 16>
// OFF-LABEL: func.func @sparse_rhs
// OFF: linalg.matmul {kiln.ukernel = {isa = "avx512", kernel = "sgemm", pack_rhs = "compile-time", register_tile = array<i64: 8, 32>, sparse_kernel = "off", sparse_time_ratio = 0.3937{{[0-9]*}} : f64, zero_blocks = 6.250000e-01 : f64, zero_weights = 8.593750e-01 : f64}}
func.func @sparse_rhs(%a: tensor<5x4xf32>, %c: tensor<5x32xf32>) -> tensor<5x32xf32> {
  %b = arith.constant dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 16.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 2.5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]> : tensor<4x32xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<5x4xf32>, tensor<4x32xf32>) outs(%c : tensor<5x32xf32>) -> tensor<5x32xf32>
  return %0 : tensor<5x32xf32>
}

// -----

// A 2:4 pattern (two of every four k of each column are zero) zeroes half
// the weights but no 1x16 block: the sparse kernel would multiply every
// block (estimated 1.05x the dense time), so the product stays dense and
// the decision says why.
// CHECK-LABEL: func.func @two_of_four
// CHECK: linalg.matmul {kiln.ukernel = {isa = "avx512", kernel = "sgemm", pack_rhs = "compile-time", register_tile = array<i64: 8, 32>, sparse_time_ratio = 1.050000e+00 : f64, zero_blocks = 0.000000e+00 : f64, zero_weights = 5.000000e-01 : f64}}
func.func @two_of_four(%a: tensor<5x4xf32>, %c: tensor<5x16xf32>) -> tensor<5x16xf32> {
  %b = arith.constant dense<[[1.0, 0.0, 3.0, 0.0, 5.0, 0.0, 7.0, 0.0, 9.0, 0.0, 11.0, 0.0, 13.0, 0.0, 15.0, 0.0], [0.0, 2.0, 0.0, 4.0, 0.0, 6.0, 0.0, 8.0, 0.0, 10.0, 0.0, 12.0, 0.0, 14.0, 0.0, 16.0], [-1.0, 0.0, -3.0, 0.0, -5.0, 0.0, -7.0, 0.0, -9.0, 0.0, -11.0, 0.0, -13.0, 0.0, -15.0, 0.0], [0.0, -2.0, 0.0, -4.0, 0.0, -6.0, 0.0, -8.0, 0.0, -10.0, 0.0, -12.0, 0.0, -14.0, 0.0, -16.0]]> : tensor<4x16xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<5x4xf32>, tensor<4x16xf32>) outs(%c : tensor<5x16xf32>) -> tensor<5x16xf32>
  return %0 : tensor<5x16xf32>
}

// -----

// Weights with few zeros record nothing, and a product whose rhs is not a
// constant is never sparse.
// CHECK-LABEL: func.func @dense_and_variable
// CHECK: linalg.matmul {kiln.ukernel = {isa = "avx512", kernel = "sgemm", pack_rhs = "compile-time", register_tile = array<i64: 8, 32>}}
// CHECK: linalg.matmul {kiln.ukernel = {isa = "avx512", kernel = "sgemm", register_tile = array<i64: 8, 32>}}
func.func @dense_and_variable(%a: tensor<5x4xf32>, %b: tensor<4x16xf32>, %c: tensor<5x16xf32>) -> (tensor<5x16xf32>, tensor<5x16xf32>) {
  %w = arith.constant dense<0.5> : tensor<4x16xf32>
  %0 = linalg.matmul ins(%a, %w : tensor<5x4xf32>, tensor<4x16xf32>) outs(%c : tensor<5x16xf32>) -> tensor<5x16xf32>
  %1 = linalg.matmul ins(%a, %b : tensor<5x4xf32>, tensor<4x16xf32>) outs(%c : tensor<5x16xf32>) -> tensor<5x16xf32>
  return %0, %1 : tensor<5x16xf32>, tensor<5x16xf32>
}
