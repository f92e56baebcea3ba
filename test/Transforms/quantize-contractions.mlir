// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-quantize-contractions))' -split-input-file | FileCheck %s

// A matmul of a per-tensor dequantized activation and a per-column
// dequantized weight multiplies the integers, with both zero points, and
// dequantizes the i32 accumulator by the product of the scales.
// CHECK-LABEL: func.func @matmul_per_column(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x4x8xui8>
// CHECK-DAG: %[[SA:.+]] = kiln.constant dense<5.000000e-01> : tensor<f32>
// CHECK-DAG: %[[ZA:.+]] = kiln.constant dense<3> : tensor<ui8>
// CHECK-DAG: %[[W:.+]] = kiln.constant dense<2> : tensor<8x3xi8>
// CHECK-DAG: %[[SW:.+]] = kiln.constant dense<[1.000000e+00, 2.000000e+00, 4.000000e+00]> : tensor<3xf32>
// CHECK: %[[P:.+]] = kiln.matmul_integer %[[X]], %[[W]] lhs_zero_point %[[ZA]] : (tensor<2x4x8xui8>, tensor<8x3xi8>, tensor<ui8>) -> tensor<2x4x3xi32>
// CHECK: %[[S:.+]] = kiln.mul %[[SA]], %[[SW]] : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK: %[[Y:.+]] = kiln.dequantize_linear %[[P]], %[[S]] {axis = 2 : i64} : (tensor<2x4x3xi32>, tensor<3xf32>) -> tensor<2x4x3xf32>
// CHECK: return %[[Y]]
func.func @matmul_per_column(%x: tensor<2x4x8xui8>) -> tensor<2x4x3xf32> {
  %sa = kiln.constant dense<0.5> : tensor<f32>
  %za = kiln.constant dense<3> : tensor<ui8>
  %w = kiln.constant dense<2> : tensor<8x3xi8>
  %sw = kiln.constant dense<[1.0, 2.0, 4.0]> : tensor<3xf32>
  %a = kiln.dequantize_linear %x, %sa, %za : (tensor<2x4x8xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x4x8xf32>
  %b = kiln.dequantize_linear %w, %sw {axis = 1 : i64} : (tensor<8x3xi8>, tensor<3xf32>) -> tensor<8x3xf32>
  %y = kiln.matmul %a, %b : (tensor<2x4x8xf32>, tensor<8x3xf32>) -> tensor<2x4x3xf32>
  return %y : tensor<2x4x3xf32>
}

// -----

// Gemm with a transposed constant weight: the weight's bytes are transposed
// at compile time ([N, K] to [K, N]); alpha joins the scale and beta * C is
// added to the dequantized product.
// CHECK-LABEL: func.func @gemm_trans_b(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<4x2xi8>
// CHECK-DAG: %[[WT:.+]] = kiln.constant dense<{{\[\[}}1, 3, 5], [2, 4, 6]]> : tensor<2x3xi8>
// CHECK: %[[P:.+]] = kiln.matmul_integer %[[X]], %[[WT]] : (tensor<4x2xi8>, tensor<2x3xi8>) -> tensor<4x3xi32>
// CHECK: %[[S:.+]] = kiln.mul
// CHECK: %[[S2:.+]] = kiln.mul %[[S]], %{{.+}} : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK: %[[Y:.+]] = kiln.dequantize_linear %[[P]], %[[S2]] :
// CHECK: %[[C:.+]] = kiln.mul %{{.+}}, %{{.+}} : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
// CHECK: kiln.add %[[Y]], %[[C]] : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
func.func @gemm_trans_b(%x: tensor<4x2xi8>, %c: tensor<3xf32>) -> tensor<4x3xf32> {
  %sa = kiln.constant dense<0.25> : tensor<f32>
  %w = kiln.constant dense<[[1, 2], [3, 4], [5, 6]]> : tensor<3x2xi8>
  %sw = kiln.constant dense<0.125> : tensor<1xf32>
  %a = kiln.dequantize_linear %x, %sa : (tensor<4x2xi8>, tensor<f32>) -> tensor<4x2xf32>
  %b = kiln.dequantize_linear %w, %sw {axis = 0 : i64} : (tensor<3x2xi8>, tensor<1xf32>) -> tensor<3x2xf32>
  %y = kiln.gemm %a, %b, %c {alpha = 2.0 : f32, beta = 3.0 : f32, trans_b = true} : (tensor<4x2xf32>, tensor<3x2xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// A per-channel activation (its scale varies along K) or a weight quantized
// along K cannot leave the sum: the float product stays.
// CHECK-LABEL: func.func @not_per_column(
// CHECK-NOT: kiln.matmul_integer
// CHECK: kiln.matmul %{{.+}}, %{{.+}} : (tensor<4x2xf32>, tensor<2x3xf32>)
// CHECK-NOT: kiln.matmul_integer
// CHECK: kiln.matmul %{{.+}}, %{{.+}} : (tensor<4x2xf32>, tensor<2x3xf32>)
func.func @not_per_column(%x: tensor<4x2xi8>, %w: tensor<2x3xi8>) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %s = kiln.constant dense<0.25> : tensor<f32>
  %sk = kiln.constant dense<[0.5, 0.25]> : tensor<2xf32>
  %a = kiln.dequantize_linear %x, %s : (tensor<4x2xi8>, tensor<f32>) -> tensor<4x2xf32>
  %ak = kiln.dequantize_linear %x, %sk {axis = 1 : i64} : (tensor<4x2xi8>, tensor<2xf32>) -> tensor<4x2xf32>
  %b = kiln.dequantize_linear %w, %s : (tensor<2x3xi8>, tensor<f32>) -> tensor<2x3xf32>
  %bk = kiln.dequantize_linear %w, %sk {axis = 0 : i64} : (tensor<2x3xi8>, tensor<2xf32>) -> tensor<2x3xf32>
  %y = kiln.matmul %ak, %b : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  %z = kiln.matmul %a, %bk : (tensor<4x2xf32>, tensor<2x3xf32>) -> tensor<4x3xf32>
  return %y, %z : tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

// A convolution of a per-tensor dequantized input and a per-output-channel
// dequantized constant weight: the uint8 input is padded with its zero
// point, its 3 x 3 windows become the columns of [N, C*9, OH*OW]
// (kiln.im2col), the [M, C*9]
// weight multiplies them from the left (the weight's zero point per row,
// the input's per column), and the [N, M, OH*OW] accumulator is dequantized
// per output channel (axis 1), reshaped to NCHW and given the bias. A
// grouped convolution stays in float.
// CHECK-LABEL: func.func @conv(
// CHECK: %[[P:.+]] = kiln.pad %arg0, %{{.+}}, %[[ZX:.+]] : (tensor<1x2x5x5xui8>, tensor<8xi64>, tensor<ui8>) -> tensor<1x2x7x7xui8>
// CHECK: %[[COLS:.+]] = kiln.im2col %[[P]] {{.+}} : (tensor<1x2x7x7xui8>) -> tensor<1x18x25xui8>
// CHECK: %[[ACC:.+]] = kiln.matmul_integer %{{.+}}, %[[COLS]] lhs_zero_point %{{.+}} rhs_zero_point %[[ZX]] : (tensor<3x18xi8>, tensor<1x18x25xui8>, tensor<3xi8>, tensor<ui8>) -> tensor<1x3x25xi32>
// CHECK: %[[DQ:.+]] = kiln.dequantize_linear %[[ACC]], %{{.+}} : (tensor<1x3x25xi32>, tensor<3xf32>) -> tensor<1x3x25xf32>
// CHECK: %[[Y:.+]] = kiln.reshape %[[DQ]], {{.+}} -> tensor<1x3x5x5xf32>
// CHECK: kiln.add %[[Y]], %{{.+}} : (tensor<1x3x5x5xf32>, tensor<3x1x1xf32>) -> tensor<1x3x5x5xf32>
// CHECK: kiln.conv {{.+}} group = 2
func.func @conv(%x: tensor<1x2x5x5xui8>) -> (tensor<1x3x5x5xf32>, tensor<1x2x5x5xf32>) {
  %sx = kiln.constant dense<0.02> : tensor<f32>
  %zx = kiln.constant dense<7> : tensor<ui8>
  %xf = kiln.dequantize_linear %x, %sx, %zx : (tensor<1x2x5x5xui8>, tensor<f32>, tensor<ui8>) -> tensor<1x2x5x5xf32>
  %w = kiln.constant dense<3> : tensor<3x2x3x3xi8>
  %sw = kiln.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %zw = kiln.constant dense<[1, 0, -1]> : tensor<3xi8>
  %wf = kiln.dequantize_linear %w, %sw, %zw {axis = 0 : i64} : (tensor<3x2x3x3xi8>, tensor<3xf32>, tensor<3xi8>) -> tensor<3x2x3x3xf32>
  %b = kiln.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %y = kiln.conv %xf, %wf, %b {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>, tensor<3xf32>) -> tensor<1x3x5x5xf32>
  %dw = kiln.constant dense<1> : tensor<2x1x3x3xi8>
  %sdw = kiln.constant dense<0.5> : tensor<f32>
  %dwf = kiln.dequantize_linear %dw, %sdw : (tensor<2x1x3x3xi8>, tensor<f32>) -> tensor<2x1x3x3xf32>
  %z = kiln.conv %xf, %dwf {group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x2x5x5xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x5x5xf32>
  return %y, %z : tensor<1x3x5x5xf32>, tensor<1x2x5x5xf32>
}
