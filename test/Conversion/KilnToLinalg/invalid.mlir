// RUN: not kiln-opt %s --convert-kiln-to-linalg --split-input-file 2>&1 | FileCheck %s

// Ops whose lowering pattern refuses them: the pass fails at the op, and the
// location names the ONNX node where the importer recorded one.

// The conv lowering needs a static weight shape.
// CHECK: error: loc(fused<"onnx.Conv">["/conv1/Conv"]): failed to legalize operation 'kiln.conv' that was explicitly marked illegal
func.func @conv_dynamic_weight(%x: tensor<1x3x8x8xf32>, %w: tensor<?x3x3x3xf32>) -> tensor<1x?x6x6xf32> {
  %0 = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<?x3x3x3xf32>) -> tensor<1x?x6x6xf32> loc(fused<"onnx.Conv">["/conv1/Conv"])
  return %0 : tensor<1x?x6x6xf32>
}

// -----

// So does conv_transpose (its kernel is flipped at compile time).
// CHECK: invalid.mlir:[[@LINE+2]]:{{[0-9]+}}: error: failed to legalize operation 'kiln.conv_transpose'
func.func @conv_transpose_dynamic_weight(%x: tensor<1x4x3x3xf32>, %w: tensor<4x?x3x3xf32>) -> tensor<1x?x6x6xf32> {
  %0 = kiln.conv_transpose %x, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, output_padding = array<i64: 1, 1>}
      : (tensor<1x4x3x3xf32>, tensor<4x?x3x3xf32>) -> tensor<1x?x6x6xf32>
  return %0 : tensor<1x?x6x6xf32>
}

// -----

// ceil_mode pads by an amount known only for static spatial dims.
// CHECK: invalid.mlir:[[@LINE+2]]:{{[0-9]+}}: error: failed to legalize operation 'kiln.max_pool'
func.func @max_pool_ceil_mode_dynamic(%x: tensor<1x2x?x6xf32>) -> tensor<1x2x?x3xf32> {
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, ceil_mode = true}
      : (tensor<1x2x?x6xf32>) -> tensor<1x2x?x3xf32>
  return %0 : tensor<1x2x?x3xf32>
}

// -----

// CHECK: invalid.mlir:[[@LINE+2]]:{{[0-9]+}}: error: failed to legalize operation 'kiln.average_pool'
func.func @average_pool_ceil_mode_dynamic(%x: tensor<1x2x6x?xf32>) -> tensor<1x2x3x?xf32> {
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, ceil_mode = true}
      : (tensor<1x2x6x?xf32>) -> tensor<1x2x3x?xf32>
  return %0 : tensor<1x2x3x?xf32>
}
