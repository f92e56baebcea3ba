// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// Round trip of normalization, softmax and reduction ops.

// CHECK-LABEL: func.func @batch_norm(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x64x56x56xf32>, %[[S:[^:]+]]: tensor<64xf32>, %[[B:[^:]+]]: tensor<64xf32>, %[[M:[^:]+]]: tensor<64xf32>, %[[V:[^:]+]]: tensor<64xf32>, %[[D:[^:]+]]: tensor<?x?xf16>, %[[T:[^:]+]]: tensor<?xf16>)
func.func @batch_norm(%x: tensor<1x64x56x56xf32>, %s: tensor<64xf32>, %b: tensor<64xf32>, %m: tensor<64xf32>, %v: tensor<64xf32>,
                      %d: tensor<?x?xf16>, %t: tensor<?xf16>)
    -> (tensor<1x64x56x56xf32>, tensor<?x?xf16>) {
  // CHECK: %[[BN0:.+]] = kiln.batch_norm %[[X]], %[[S]], %[[B]], %[[M]], %[[V]] {epsilon = 1.000000e-03 : f32} : (tensor<1x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x64x56x56xf32>
  %0 = kiln.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-3 : f32}
      : (tensor<1x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<1x64x56x56xf32>
  // CHECK: %[[BN1:.+]] = kiln.batch_norm %[[D]], %[[T]], %[[T]], %[[T]], %[[T]] : (tensor<?x?xf16>, tensor<?xf16>, tensor<?xf16>, tensor<?xf16>, tensor<?xf16>) -> tensor<?x?xf16>
  %1 = kiln.batch_norm %d, %t, %t, %t, %t : (tensor<?x?xf16>, tensor<?xf16>, tensor<?xf16>, tensor<?xf16>, tensor<?xf16>) -> tensor<?x?xf16>
  // CHECK: return %[[BN0]], %[[BN1]]
  return %0, %1 : tensor<1x64x56x56xf32>, tensor<?x?xf16>
}

// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x?x768xf32>, %[[G:[^:]+]]: tensor<768xf32>, %[[B:[^:]+]]: tensor<768xf32>, %[[G2:[^:]+]]: tensor<?x768xf32>)
func.func @layer_norm(%x: tensor<1x?x768xf32>, %g: tensor<768xf32>, %b: tensor<768xf32>, %g2: tensor<?x768xf32>)
    -> (tensor<1x?x768xf32>, tensor<1x?x768xf32>, tensor<1x?x768xf32>) {
  // CHECK: %[[LN0:.+]] = kiln.layer_norm %[[X]], %[[G]], %[[B]] {epsilon = 9.99999996E-13 : f32} : (tensor<1x?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<1x?x768xf32>
  %0 = kiln.layer_norm %x, %g, %b {axis = -1 : i64, epsilon = 1.0e-12 : f32}
      : (tensor<1x?x768xf32>, tensor<768xf32>, tensor<768xf32>) -> tensor<1x?x768xf32>
  // Without bias.
  // CHECK: %[[LN1:.+]] = kiln.layer_norm %[[X]], %[[G]] : (tensor<1x?x768xf32>, tensor<768xf32>) -> tensor<1x?x768xf32>
  %1 = kiln.layer_norm %x, %g : (tensor<1x?x768xf32>, tensor<768xf32>) -> tensor<1x?x768xf32>
  // Normalizing over the last two dims.
  // CHECK: %[[LN2:.+]] = kiln.layer_norm %[[X]], %[[G2]], %[[B]] {axis = 1 : i64} : (tensor<1x?x768xf32>, tensor<?x768xf32>, tensor<768xf32>) -> tensor<1x?x768xf32>
  %2 = kiln.layer_norm %x, %g2, %b {axis = 1 : i64} : (tensor<1x?x768xf32>, tensor<?x768xf32>, tensor<768xf32>) -> tensor<1x?x768xf32>
  // CHECK: return %[[LN0]], %[[LN1]], %[[LN2]]
  return %0, %1, %2 : tensor<1x?x768xf32>, tensor<1x?x768xf32>, tensor<1x?x768xf32>
}

// CHECK-LABEL: func.func @softmax(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x8x?x128xf32>)
func.func @softmax(%x: tensor<1x8x?x128xf32>) -> (tensor<1x8x?x128xf32>, tensor<1x8x?x128xf32>) {
  // CHECK: %[[S0:.+]] = kiln.softmax %[[X]] : (tensor<1x8x?x128xf32>) -> tensor<1x8x?x128xf32>
  %0 = kiln.softmax %x {axis = -1 : i64} : (tensor<1x8x?x128xf32>) -> tensor<1x8x?x128xf32>
  // CHECK: %[[S1:.+]] = kiln.softmax %[[S0]] {axis = 1 : i64} : (tensor<1x8x?x128xf32>) -> tensor<1x8x?x128xf32>
  %1 = kiln.softmax %0 {axis = 1 : i64} : (tensor<1x8x?x128xf32>) -> tensor<1x8x?x128xf32>
  // CHECK: return %[[S0]], %[[S1]]
  return %0, %1 : tensor<1x8x?x128xf32>, tensor<1x8x?x128xf32>
}

// CHECK-LABEL: func.func @reductions(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x?x4xf32>, %[[I:[^:]+]]: tensor<3x5xi64>)
func.func @reductions(%x: tensor<2x?x4xf32>, %i: tensor<3x5xi64>)
    -> (tensor<2x?x1xf32>, tensor<?xf32>, tensor<1x1x1xf32>, tensor<f32>, tensor<3xi64>, tensor<1x5xi64>) {
  // CHECK: %[[MEAN:.+]] = kiln.reduce_mean %[[X]] {axes = array<i64: -1>} : (tensor<2x?x4xf32>) -> tensor<2x?x1xf32>
  %0 = kiln.reduce_mean %x {axes = array<i64: -1>, keepdims = true} : (tensor<2x?x4xf32>) -> tensor<2x?x1xf32>
  // CHECK: %[[SUM:.+]] = kiln.reduce_sum %[[X]] {axes = array<i64: 0, 2>, keepdims = false} : (tensor<2x?x4xf32>) -> tensor<?xf32>
  %1 = kiln.reduce_sum %x {axes = array<i64: 0, 2>, keepdims = false} : (tensor<2x?x4xf32>) -> tensor<?xf32>
  // Empty axes reduce every dim.
  // CHECK: %[[ALL:.+]] = kiln.reduce_max %[[X]] {axes = array<i64>} : (tensor<2x?x4xf32>) -> tensor<1x1x1xf32>
  %2 = kiln.reduce_max %x {axes = array<i64>} : (tensor<2x?x4xf32>) -> tensor<1x1x1xf32>
  // CHECK: %[[SCALAR:.+]] = kiln.reduce_mean %[[X]] {axes = array<i64>, keepdims = false} : (tensor<2x?x4xf32>) -> tensor<f32>
  %3 = kiln.reduce_mean %x {axes = array<i64>, keepdims = false} : (tensor<2x?x4xf32>) -> tensor<f32>
  // CHECK: %[[IMAX:.+]] = kiln.reduce_max %[[I]] {axes = array<i64: 1>, keepdims = false} : (tensor<3x5xi64>) -> tensor<3xi64>
  %4 = kiln.reduce_max %i {axes = array<i64: 1>, keepdims = false} : (tensor<3x5xi64>) -> tensor<3xi64>
  // CHECK: %[[ISUM:.+]] = kiln.reduce_sum %[[I]] {axes = array<i64: -2>} : (tensor<3x5xi64>) -> tensor<1x5xi64>
  %5 = kiln.reduce_sum %i {axes = array<i64: -2>} : (tensor<3x5xi64>) -> tensor<1x5xi64>
  // CHECK: return %[[MEAN]], %[[SUM]], %[[ALL]], %[[SCALAR]], %[[IMAX]], %[[ISUM]]
  return %0, %1, %2, %3, %4, %5 : tensor<2x?x1xf32>, tensor<?xf32>, tensor<1x1x1xf32>, tensor<f32>, tensor<3xi64>, tensor<1x5xi64>
}
