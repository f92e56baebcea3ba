// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-quantize-weights{bits=8 group=2 min-weight-elements=0}))' -split-input-file | FileCheck %s --check-prefix=INT8
// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-quantize-weights{bits=4 group=2 min-weight-elements=0}))' -split-input-file | FileCheck %s --check-prefix=INT4
// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-quantize-weights{bits=8 group=4}))' -split-input-file | FileCheck %s --check-prefix=SMALL
// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-quantize-weights{bits=8 group=8 min-weight-elements=0}))' -split-input-file | FileCheck %s --check-prefix=SMALL
// RUN: not kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-quantize-weights{bits=5}))' 2>&1 | FileCheck %s --check-prefix=BITS

// Weight-only quantization of a [4, 2] weight in groups of 2 k: per column
// and group, 8 bits: scale = max |w| / 127, values round(w / scale), ties to
// even. Group 0 of column 0 holds 1.0 and 0.5:
// scale 1/127, values 127 and 64 (63.5 rounds to even); of column 1, -2.0
// and 4.0: scale 4/127, values -64 and 127. Group 1: column 0 (-3.0, 1.5)
// gives -127, 64; column 1 (1.0, 0.0) gives 127, 0. The values are stored
// row-major: 7F C0 40 7F 81 7F 40 00.
// INT8-LABEL: func.func @weight(
// INT8: %[[Q:.+]] = kiln.constant dense_resource<[[BLOB:.+]]> : tensor<4x2xi8>
// INT8: %[[S:.+]] = kiln.constant dense<{{\[\[}}0.00787401571, 0.0314960629], [0.0236220472, 0.00787401571]]> : tensor<2x2xf32>
// INT8: %[[W:.+]] = kiln.dequantize_blocks %[[Q]], %[[S]] {axis = 0 : i64, block_size = 2 : i64} : (tensor<4x2xi8>, tensor<2x2xf32>) -> tensor<4x2xf32>
// INT8: kiln.matmul %arg0, %[[W]] : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
// INT8: [[BLOB]]: "0x010000007FC0407F817F4000"
// 4 bits: asymmetric groups, values q in [-8, 7] and a zero point z per
// group with w ~ (q - z) * scale; the 16 levels span the group's [min, max]
// (narrowed if that errs less), so two-value groups are exact. Group 0 of
// column 0 (1.0, 0.5): scale 0.5 / 15, z = -8 - 0.5 / scale = -23, values
// 7, -8; of column 1 (-2.0, 4.0): scale 6 / 15, z = -3, values -8, 7.
// Group 1 of column 0 (-3.0, 1.5): scale 0.3, z = 2, values -8, 7; of
// column 1 (1.0, 0.0): scale 1 / 15, z = -8, values 7, -8.
// INT4-LABEL: func.func @weight(
// INT4: %[[Q:.+]] = kiln.constant dense_resource<[[BLOB:.+]]> : tensor<4x2xi8>
// INT4: %[[S:.+]] = kiln.constant dense<{{\[\[}}0.0333333351, 4.000000e-01], [3.000000e-01, 0.0666666701]]> : tensor<2x2xf32>
// INT4: %[[Z:.+]] = kiln.constant dense_resource<[[ZBLOB:.+]]> : tensor<2x2xi8>
// INT4: kiln.dequantize_blocks %[[Q]], %[[S]] zero_point %[[Z]] {axis = 0 : i64, block_size = 2 : i64} : (tensor<4x2xi8>, tensor<2x2xf32>, tensor<2x2xi8>) -> tensor<4x2xf32>
// INT4: [[BLOB]]: "0x0100000007F8F807F80707F8"
// INT4: [[ZBLOB]]: "0x01000000E9FD02F8"
// Below min-weight-elements (4096 by default), or K not a multiple of the
// group: the weight stays f32.
// SMALL-LABEL: func.func @weight(
// SMALL-NOT: kiln.dequantize_blocks
// BITS: kiln-quantize-weights: bits must be 8 or 4, got 5
func.func @weight(%x: tensor<3x4xf32>) -> tensor<3x2xf32> {
  %w = kiln.constant dense<[[1.0, -2.0], [0.5, 4.0], [-3.0, 1.0], [1.5, 0.0]]> : tensor<4x2xf32>
  %y = kiln.matmul %x, %w : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}

// -----

// A weight that is not a constant stays as it is.
// INT8-LABEL: func.func @activation_rhs(
// INT8-NOT: kiln.dequantize_blocks
func.func @activation_rhs(%x: tensor<3x4xf32>, %w: tensor<4x2xf32>) -> tensor<3x2xf32> {
  %y = kiln.matmul %x, %w : (tensor<3x4xf32>, tensor<4x2xf32>) -> tensor<3x2xf32>
  return %y : tensor<3x2xf32>
}
