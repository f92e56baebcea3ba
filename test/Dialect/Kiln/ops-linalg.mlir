// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// Round trip of matmul and gemm.

// CHECK-LABEL: func.func @matmul(
// CHECK-SAME: %[[A:[^:]+]]: tensor<8x128x64xf32>, %[[B:[^:]+]]: tensor<64x32xf32>, %[[D:[^:]+]]: tensor<?x?x64xf32>)
func.func @matmul(%a: tensor<8x128x64xf32>, %b: tensor<64x32xf32>, %d: tensor<?x?x64xf32>)
    -> (tensor<8x128x32xf32>, tensor<?x?x32xf32>) {
  // CHECK: %[[M0:.+]] = kiln.matmul %[[A]], %[[B]] : (tensor<8x128x64xf32>, tensor<64x32xf32>) -> tensor<8x128x32xf32>
  %0 = kiln.matmul %a, %b : (tensor<8x128x64xf32>, tensor<64x32xf32>) -> tensor<8x128x32xf32>
  // CHECK: %[[M1:.+]] = kiln.matmul %[[D]], %[[B]] : (tensor<?x?x64xf32>, tensor<64x32xf32>) -> tensor<?x?x32xf32>
  %1 = kiln.matmul %d, %b : (tensor<?x?x64xf32>, tensor<64x32xf32>) -> tensor<?x?x32xf32>
  // CHECK: return %[[M0]], %[[M1]]
  return %0, %1 : tensor<8x128x32xf32>, tensor<?x?x32xf32>
}

// A 1-D operand is promoted to a matrix and the added dim is dropped.
// CHECK-LABEL: func.func @matmul_vectors(
// CHECK-SAME: %[[V:[^:]+]]: tensor<64xf32>, %[[M:[^:]+]]: tensor<64x32xf32>, %[[N:[^:]+]]: tensor<5x7x64xf32>, %[[W:[^:]+]]: tensor<32xf32>)
func.func @matmul_vectors(%v: tensor<64xf32>, %m: tensor<64x32xf32>, %n: tensor<5x7x64xf32>, %w: tensor<32xf32>)
    -> (tensor<32xf32>, tensor<5x7xf32>, tensor<f32>, tensor<64xf32>) {
  // CHECK: %[[VM:.+]] = kiln.matmul %[[V]], %[[M]] : (tensor<64xf32>, tensor<64x32xf32>) -> tensor<32xf32>
  %0 = kiln.matmul %v, %m : (tensor<64xf32>, tensor<64x32xf32>) -> tensor<32xf32>
  // CHECK: %[[NV:.+]] = kiln.matmul %[[N]], %[[V]] : (tensor<5x7x64xf32>, tensor<64xf32>) -> tensor<5x7xf32>
  %1 = kiln.matmul %n, %v : (tensor<5x7x64xf32>, tensor<64xf32>) -> tensor<5x7xf32>
  // CHECK: %[[VV:.+]] = kiln.matmul %[[V]], %[[V]] : (tensor<64xf32>, tensor<64xf32>) -> tensor<f32>
  %2 = kiln.matmul %v, %v : (tensor<64xf32>, tensor<64xf32>) -> tensor<f32>
  // CHECK: %[[MW:.+]] = kiln.matmul %[[M]], %[[W]] : (tensor<64x32xf32>, tensor<32xf32>) -> tensor<64xf32>
  %3 = kiln.matmul %m, %w : (tensor<64x32xf32>, tensor<32xf32>) -> tensor<64xf32>
  // CHECK: return %[[VM]], %[[NV]], %[[VV]], %[[MW]]
  return %0, %1, %2, %3 : tensor<32xf32>, tensor<5x7xf32>, tensor<f32>, tensor<64xf32>
}

// Batch dims broadcast numpy-style.
// CHECK-LABEL: func.func @matmul_batch_broadcast(
// CHECK-SAME: %[[A:[^:]+]]: tensor<2x1x4x8xf32>, %[[B:[^:]+]]: tensor<3x8x5xf32>, %[[C:[^:]+]]: tensor<?x1x4x8xi32>, %[[D:[^:]+]]: tensor<6x8x?xi32>)
func.func @matmul_batch_broadcast(%a: tensor<2x1x4x8xf32>, %b: tensor<3x8x5xf32>, %c: tensor<?x1x4x8xi32>, %d: tensor<6x8x?xi32>)
    -> (tensor<2x3x4x5xf32>, tensor<?x6x4x?xi32>) {
  // CHECK: %[[R0:.+]] = kiln.matmul %[[A]], %[[B]] : (tensor<2x1x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x3x4x5xf32>
  %0 = kiln.matmul %a, %b : (tensor<2x1x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x3x4x5xf32>
  // CHECK: %[[R1:.+]] = kiln.matmul %[[C]], %[[D]] : (tensor<?x1x4x8xi32>, tensor<6x8x?xi32>) -> tensor<?x6x4x?xi32>
  %1 = kiln.matmul %c, %d : (tensor<?x1x4x8xi32>, tensor<6x8x?xi32>) -> tensor<?x6x4x?xi32>
  // CHECK: return %[[R0]], %[[R1]]
  return %0, %1 : tensor<2x3x4x5xf32>, tensor<?x6x4x?xi32>
}

// CHECK-LABEL: func.func @gemm(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x2048xf32>, %[[W:[^:]+]]: tensor<1000x2048xf32>, %[[B:[^:]+]]: tensor<1000xf32>, %[[WT:[^:]+]]: tensor<2048x1000xf32>, %[[XT:[^:]+]]: tensor<2048x?xf32>, %[[C:[^:]+]]: tensor<1x1000xf32>, %[[S:[^:]+]]: tensor<f32>)
func.func @gemm(%x: tensor<1x2048xf32>, %w: tensor<1000x2048xf32>, %b: tensor<1000xf32>, %wt: tensor<2048x1000xf32>,
                %xt: tensor<2048x?xf32>, %c: tensor<1x1000xf32>, %s: tensor<f32>)
    -> (tensor<1x1000xf32>, tensor<1x1000xf32>, tensor<?x1000xf32>, tensor<?x1000xf32>, tensor<1x1000xf32>) {
  // CHECK: %[[G0:.+]] = kiln.gemm %[[X]], %[[W]], %[[B]] {trans_b = true} : (tensor<1x2048xf32>, tensor<1000x2048xf32>, tensor<1000xf32>) -> tensor<1x1000xf32>
  %0 = kiln.gemm %x, %w, %b {trans_b = true} : (tensor<1x2048xf32>, tensor<1000x2048xf32>, tensor<1000xf32>) -> tensor<1x1000xf32>
  // Without C.
  // CHECK: %[[G1:.+]] = kiln.gemm %[[X]], %[[WT]] : (tensor<1x2048xf32>, tensor<2048x1000xf32>) -> tensor<1x1000xf32>
  %1 = kiln.gemm %x, %wt : (tensor<1x2048xf32>, tensor<2048x1000xf32>) -> tensor<1x1000xf32>
  // CHECK: %[[G2:.+]] = kiln.gemm %[[XT]], %[[WT]], %[[C]] {alpha = 5.000000e-01 : f32, beta = 2.000000e+00 : f32, trans_a = true} : (tensor<2048x?xf32>, tensor<2048x1000xf32>, tensor<1x1000xf32>) -> tensor<?x1000xf32>
  %2 = kiln.gemm %xt, %wt, %c {alpha = 0.5 : f32, beta = 2.0 : f32, trans_a = true} : (tensor<2048x?xf32>, tensor<2048x1000xf32>, tensor<1x1000xf32>) -> tensor<?x1000xf32>
  // CHECK: %[[G3:.+]] = kiln.gemm %[[XT]], %[[W]], %[[S]] {trans_a = true, trans_b = true} : (tensor<2048x?xf32>, tensor<1000x2048xf32>, tensor<f32>) -> tensor<?x1000xf32>
  %3 = kiln.gemm %xt, %w, %s {trans_a = true, trans_b = true} : (tensor<2048x?xf32>, tensor<1000x2048xf32>, tensor<f32>) -> tensor<?x1000xf32>
  // Explicit defaults are not printed.
  // CHECK: %[[G4:.+]] = kiln.gemm %[[X]], %[[WT]] : (tensor<1x2048xf32>, tensor<2048x1000xf32>) -> tensor<1x1000xf32>
  %4 = kiln.gemm %x, %wt {alpha = 1.0 : f32, beta = 1.0 : f32, trans_a = false, trans_b = false} : (tensor<1x2048xf32>, tensor<2048x1000xf32>) -> tensor<1x1000xf32>
  // CHECK: return %[[G0]], %[[G1]], %[[G2]], %[[G3]], %[[G4]]
  return %0, %1, %2, %3, %4 : tensor<1x1000xf32>, tensor<1x1000xf32>, tensor<?x1000xf32>, tensor<?x1000xf32>, tensor<1x1000xf32>
}
