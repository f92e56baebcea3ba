// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-quantize-weights{bits=8 group=4 min-weight-elements=0}))' -split-input-file | FileCheck %s --check-prefix=INT8
// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-quantize-weights{bits=4 group=4 min-weight-elements=0}))' -split-input-file | FileCheck %s --check-prefix=INT4

// GPTQ: with the second moment H of x (kiln.hessian), each row's rounding
// error is compensated on the rows after it. H couples k = 0 and 1 (0.909)
// and is damped by 1 % of its mean diagonal (1.01 on the diagonal), so
// rounding row 0 with error e adds e * 0.909 / 1.01 = 0.9 e to row 1.
// 8 bits, one group of 4: scale 127 / 127 = 1. Row 0, 0.4, rounds to 0
// (error 0.4), which moves row 1 from 10.3 to 10.66: 11, where rounding to
// nearest (@nearest) gives 10. Rows 2 and 3 are not coupled.
// INT8-LABEL: func.func @gptq(
// INT8-NOT: kiln.hessian
// INT8: %[[Q:.+]] = kiln.constant dense_resource<[[BLOB:.+]]> : tensor<4x1xi8>
// INT8: %[[S:.+]] = kiln.constant dense<1.000000e+00> : tensor<1x1xf32>
// INT8: kiln.dequantize_blocks %[[Q]], %[[S]] {axis = 0 : i64, block_size = 4 : i64}
// INT8-NOT: kiln.hessian
// INT8-LABEL: func.func @nearest(
// INT8: kiln.constant dense_resource<[[NEAREST:.+]]> : tensor<4x1xi8>
// INT8: [[BLOB]]: "0x01000000000B7F00"
// INT8: [[NEAREST]]: "0x01000000000A7F00"
func.func @gptq(%x: tensor<3x4xf32>) -> tensor<3x1xf32> {
  %w = kiln.constant dense<[[0.4], [10.3], [127.0], [0.0]]> : tensor<4x1xf32>
  %y = kiln.matmul %x, %w {kiln.hessian = dense<[[1.0, 0.909, 0.0, 0.0], [0.909, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>} : (tensor<3x4xf32>, tensor<4x1xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}
func.func @nearest(%x: tensor<3x4xf32>) -> tensor<3x1xf32> {
  %w = kiln.constant dense<[[0.4], [10.3], [127.0], [0.0]]> : tensor<4x1xf32>
  %y = kiln.matmul %x, %w : (tensor<3x4xf32>, tensor<4x1xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}

// -----

// Rows are rounded in order of decreasing H[k][k]: k = 1 (energy 4) before
// k = 0 (energy 1). Damped by 1 % of the mean diagonal 1.75, H's first two
// rows are [1.0175, 0.9] and [0.9, 4.0175]. Row 1, 10.4, rounds to 10
// (error 0.4) first and moves row 0 by 0.4 * 0.9 / 1.0175 = 0.354, from
// 0.3 to 0.654: 1. In k order, row 0 would round to 0 first and move row 1
// by only 0.3 * 0.9 / 4.0175 = 0.067 (to 10), leaving the H-weighted error
// e^T H e at 0.946 instead of 0.626.
// INT8-LABEL: func.func @energy_order(
// INT8: kiln.constant dense_resource<[[ORDERED:.+]]> : tensor<4x1xi8>
// INT8: [[ORDERED]]: "0x01000000010A7F00"
func.func @energy_order(%x: tensor<3x4xf32>) -> tensor<3x1xf32> {
  %w = kiln.constant dense<[[0.3], [10.4], [127.0], [0.0]]> : tensor<4x1xf32>
  %y = kiln.matmul %x, %w {kiln.hessian = dense<[[1.0, 0.9, 0.0, 0.0], [0.9, 4.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>} : (tensor<3x4xf32>, tensor<4x1xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}

// -----

// 4 bits: the group [-1, 2] gets scale 0.2 and zero point -3 (its grid
// from the rows before any update). Row 0, 0.09, rounds to 0.45 -> 0, q =
// -3 (error 0.09), which moves row 1 from 0.04 to 0.121: 0.6 -> 1, q = -2,
// where rounding to nearest gives 0.2 -> 0, q = -3.
// INT4-LABEL: func.func @gptq4(
// INT4: %[[Q:.+]] = kiln.constant dense_resource<[[BLOB:.+]]> : tensor<4x1xi8>
// INT4: %[[S:.+]] = kiln.constant dense<2.000000e-01> : tensor<1x1xf32>
// INT4: %[[Z:.+]] = kiln.constant dense_resource<[[ZBLOB:.+]]> : tensor<1x1xi8>
// INT4-NOT: kiln.hessian
// INT4: [[BLOB]]: "0x01000000FDFEF807"
// INT4: [[ZBLOB]]: "0x01000000FD"
func.func @gptq4(%x: tensor<3x4xf32>) -> tensor<3x1xf32> {
  %w = kiln.constant dense<[[0.09], [0.04], [-1.0], [2.0]]> : tensor<4x1xf32>
  %y = kiln.matmul %x, %w {kiln.hessian = dense<[[1.0, 0.9, 0.0, 0.0], [0.9, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]]> : tensor<4x4xf32>} : (tensor<3x4xf32>, tensor<4x1xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}
