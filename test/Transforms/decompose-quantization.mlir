// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-decompose-quantization))' -split-input-file | FileCheck %s
// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-decompose-quantization,kiln-fold-constants))' -split-input-file | FileCheck %s --check-prefix=FOLD

// Quantizing: divide, round half to even, add the zero point, clamp to the
// range of the target type, cast. A per-axis scale is reshaped to broadcast
// along its axis (dim 1 of a rank-3 input: one trailing unit dim).
// CHECK-LABEL: func.func @quantize_per_axis(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[S:[a-z0-9]+]]: tensor<3xf32>, %[[Z:[a-z0-9]+]]: tensor<3xi8>
// CHECK-DAG: %[[LO:.+]] = kiln.constant dense<-1.280000e+02> : tensor<f32>
// CHECK-DAG: %[[HI:.+]] = kiln.constant dense<1.270000e+02> : tensor<f32>
// CHECK: %[[SU:.+]] = kiln.unsqueeze %[[S]] {axes = array<i64: 1>} : (tensor<3xf32>) -> tensor<3x1xf32>
// CHECK: %[[ZU:.+]] = kiln.unsqueeze %[[Z]] {axes = array<i64: 1>} : (tensor<3xi8>) -> tensor<3x1xi8>
// CHECK: %[[D:.+]] = kiln.div %[[X]], %[[SU]]
// CHECK: %[[R:.+]] = kiln.round %[[D]]
// CHECK: %[[ZF:.+]] = kiln.cast %[[ZU]] {to = f32}
// CHECK: %[[A:.+]] = kiln.add %[[R]], %[[ZF]]
// CHECK: %[[MX:.+]] = kiln.max %[[A]], %[[LO]]
// CHECK: %[[MN:.+]] = kiln.min %[[MX]], %[[HI]]
// CHECK: %[[Q:.+]] = kiln.cast %[[MN]] {to = i8} : (tensor<2x3x4xf32>) -> tensor<2x3x4xi8>
// CHECK: return %[[Q]]
func.func @quantize_per_axis(%x: tensor<2x3x4xf32>, %s: tensor<3xf32>, %z: tensor<3xi8>) -> tensor<2x3x4xi8> {
  %q = kiln.quantize_linear %x, %s, %z {axis = 1 : i64, to = i8} : (tensor<2x3x4xf32>, tensor<3xf32>, tensor<3xi8>) -> tensor<2x3x4xi8>
  return %q : tensor<2x3x4xi8>
}

// -----

// Unsigned targets clamp to [0, 255].
// CHECK-LABEL: func.func @quantize_uint8(
// CHECK-DAG: %[[LO:.+]] = kiln.constant dense<0.000000e+00> : tensor<f32>
// CHECK-DAG: %[[HI:.+]] = kiln.constant dense<2.550000e+02> : tensor<f32>
// CHECK: kiln.max %{{.+}}, %[[LO]]
// CHECK: kiln.min %{{.+}}, %[[HI]]
// CHECK: kiln.cast %{{.+}} {to = ui8} : (tensor<5xf32>) -> tensor<5xui8>
func.func @quantize_uint8(%x: tensor<5xf32>, %s: tensor<f32>) -> tensor<5xui8> {
  %q = kiln.quantize_linear %x, %s {to = ui8} : (tensor<5xf32>, tensor<f32>) -> tensor<5xui8>
  return %q : tensor<5xui8>
}

// -----

// Dequantizing: the zero point is subtracted exactly in i32, then the
// difference is scaled in f32. Constant weights fold to f32 constants.
// CHECK-LABEL: func.func @dequantize(
// CHECK: %[[W:.+]] = kiln.cast %{{.+}} {to = i32} : (tensor<2x2xui8>) -> tensor<2x2xi32>
// CHECK: %[[Z:.+]] = kiln.cast %{{.+}} {to = i32} : (tensor<ui8>) -> tensor<i32>
// CHECK: %[[D:.+]] = kiln.sub %[[W]], %[[Z]]
// CHECK: %[[F:.+]] = kiln.cast %[[D]] {to = f32}
// CHECK: kiln.mul %[[F]], %{{.+}} : (tensor<2x2xf32>, tensor<f32>) -> tensor<2x2xf32>
// FOLD-LABEL: func.func @dequantize(
// FOLD: %[[C:.+]] = kiln.constant dense<{{\[\[}}-1.000000e+00, 0.000000e+00], [1.000000e+00, 6.350000e+01]]> : tensor<2x2xf32>
// FOLD: return %[[C]]
func.func @dequantize() -> tensor<2x2xf32> {
  %w = kiln.constant dense<[[126, 128], [130, 255]]> : tensor<2x2xui8>
  %z = kiln.constant dense<128> : tensor<ui8>
  %s = kiln.constant dense<0.5> : tensor<f32>
  %x = kiln.dequantize_linear %w, %s, %z : (tensor<2x2xui8>, tensor<f32>, tensor<ui8>) -> tensor<2x2xf32>
  return %x : tensor<2x2xf32>
}
