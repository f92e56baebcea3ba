// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// Round trip of convolution and pooling ops.

// CHECK-LABEL: func.func @conv(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x3x224x224xf32>, %[[W:[^:]+]]: tensor<64x3x7x7xf32>, %[[B:[^:]+]]: tensor<64xf32>)
func.func @conv(%x: tensor<1x3x224x224xf32>, %w: tensor<64x3x7x7xf32>, %b: tensor<64xf32>)
    -> (tensor<1x64x112x112xf32>, tensor<1x64x218x218xf32>) {
  // CHECK: %[[C0:.+]] = kiln.conv %[[X]], %[[W]], %[[B]] {dilations = array<i64: 1, 1>, pads = array<i64: 3, 3, 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x3x224x224xf32>, tensor<64x3x7x7xf32>, tensor<64xf32>) -> tensor<1x64x112x112xf32>
  %0 = kiln.conv %x, %w, %b {pads = array<i64: 3, 3, 3, 3>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<1x3x224x224xf32>, tensor<64x3x7x7xf32>, tensor<64xf32>) -> tensor<1x64x112x112xf32>
  // Without bias.
  // CHECK: %[[C1:.+]] = kiln.conv %[[X]], %[[W]] {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x224x224xf32>, tensor<64x3x7x7xf32>) -> tensor<1x64x218x218xf32>
  %1 = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x224x224xf32>, tensor<64x3x7x7xf32>) -> tensor<1x64x218x218xf32>
  // CHECK: return %[[C0]], %[[C1]]
  return %0, %1 : tensor<1x64x112x112xf32>, tensor<1x64x218x218xf32>
}

// CHECK-LABEL: func.func @conv_grouped_dilated(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x32x?x56xf32>, %[[DW:[^:]+]]: tensor<32x1x3x3xf32>, %[[Y:[^:]+]]: tensor<2x16x20x20xf16>, %[[W:[^:]+]]: tensor<8x4x3x3xf16>, %[[B:[^:]+]]: tensor<8xf16>)
func.func @conv_grouped_dilated(%x: tensor<1x32x?x56xf32>, %dw: tensor<32x1x3x3xf32>, %y: tensor<2x16x20x20xf16>,
                                %w: tensor<8x4x3x3xf16>, %b: tensor<8xf16>)
    -> (tensor<1x32x?x56xf32>, tensor<2x8x16x16xf16>) {
  // Depthwise: group = channels.
  // CHECK: %[[DEPTH:.+]] = kiln.conv %[[X]], %[[DW]] {dilations = array<i64: 1, 1>, group = 32 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x32x?x56xf32>, tensor<32x1x3x3xf32>) -> tensor<1x32x?x56xf32>
  %0 = kiln.conv %x, %dw {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 32 : i64}
      : (tensor<1x32x?x56xf32>, tensor<32x1x3x3xf32>) -> tensor<1x32x?x56xf32>
  // CHECK: %[[DIL:.+]] = kiln.conv %[[Y]], %[[W]], %[[B]] {dilations = array<i64: 2, 2>, group = 4 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<2x16x20x20xf16>, tensor<8x4x3x3xf16>, tensor<8xf16>) -> tensor<2x8x16x16xf16>
  %1 = kiln.conv %y, %w, %b {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 2, 2>, group = 4 : i64}
      : (tensor<2x16x20x20xf16>, tensor<8x4x3x3xf16>, tensor<8xf16>) -> tensor<2x8x16x16xf16>
  // CHECK: return %[[DEPTH]], %[[DIL]]
  return %0, %1 : tensor<1x32x?x56xf32>, tensor<2x8x16x16xf16>
}

// CHECK-LABEL: func.func @conv_1d_3d(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x4x10xf32>, %[[W:[^:]+]]: tensor<6x4x3xf32>, %[[V:[^:]+]]: tensor<1x2x8x8x8xf32>, %[[K:[^:]+]]: tensor<?x2x2x2x2xf32>)
func.func @conv_1d_3d(%x: tensor<?x4x10xf32>, %w: tensor<6x4x3xf32>, %v: tensor<1x2x8x8x8xf32>, %k: tensor<?x2x2x2x2xf32>)
    -> (tensor<?x6x5xf32>, tensor<1x?x4x7x4xf32>) {
  // CHECK: %[[C1D:.+]] = kiln.conv %[[X]], %[[W]] {dilations = array<i64: 1>, pads = array<i64: 1, 1>, strides = array<i64: 2>} : (tensor<?x4x10xf32>, tensor<6x4x3xf32>) -> tensor<?x6x5xf32>
  %0 = kiln.conv %x, %w {pads = array<i64: 1, 1>, strides = array<i64: 2>, dilations = array<i64: 1>}
      : (tensor<?x4x10xf32>, tensor<6x4x3xf32>) -> tensor<?x6x5xf32>
  // CHECK: %[[C3D:.+]] = kiln.conv %[[V]], %[[K]] {dilations = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 2, 1, 2>} : (tensor<1x2x8x8x8xf32>, tensor<?x2x2x2x2xf32>) -> tensor<1x?x4x7x4xf32>
  %1 = kiln.conv %v, %k {pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 2, 1, 2>, dilations = array<i64: 1, 1, 1>}
      : (tensor<1x2x8x8x8xf32>, tensor<?x2x2x2x2xf32>) -> tensor<1x?x4x7x4xf32>
  // CHECK: return %[[C1D]], %[[C3D]]
  return %0, %1 : tensor<?x6x5xf32>, tensor<1x?x4x7x4xf32>
}

// CHECK-LABEL: func.func @conv_transpose(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x16x8x8xf32>, %[[W:[^:]+]]: tensor<16x8x3x3xf32>, %[[G:[^:]+]]: tensor<16x4x3x3xf32>, %[[B:[^:]+]]: tensor<8xf32>, %[[D:[^:]+]]: tensor<?x16x?x5xf32>)
func.func @conv_transpose(%x: tensor<1x16x8x8xf32>, %w: tensor<16x8x3x3xf32>, %g: tensor<16x4x3x3xf32>, %b: tensor<8xf32>,
                          %d: tensor<?x16x?x5xf32>)
    -> (tensor<1x8x16x16xf32>, tensor<1x8x10x10xf32>, tensor<?x8x?x10xf32>) {
  // CHECK: %[[T0:.+]] = kiln.conv_transpose %[[X]], %[[W]] {dilations = array<i64: 1, 1>, output_padding = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x16x8x8xf32>, tensor<16x8x3x3xf32>) -> tensor<1x8x16x16xf32>
  %0 = kiln.conv_transpose %x, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, output_padding = array<i64: 1, 1>, group = 1 : i64}
      : (tensor<1x16x8x8xf32>, tensor<16x8x3x3xf32>) -> tensor<1x8x16x16xf32>
  // Grouped, with bias: output channels are the weight's dim 1 times group.
  // CHECK: %[[T1:.+]] = kiln.conv_transpose %[[X]], %[[G]], %[[B]] {dilations = array<i64: 1, 1>, group = 2 : i64, output_padding = array<i64: 0, 0>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x16x8x8xf32>, tensor<16x4x3x3xf32>, tensor<8xf32>) -> tensor<1x8x10x10xf32>
  %1 = kiln.conv_transpose %x, %g, %b {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>, group = 2 : i64}
      : (tensor<1x16x8x8xf32>, tensor<16x4x3x3xf32>, tensor<8xf32>) -> tensor<1x8x10x10xf32>
  // CHECK: %[[T2:.+]] = kiln.conv_transpose %[[D]], %[[W]] {dilations = array<i64: 2, 1>, output_padding = array<i64: 0, 0>, pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 1, 2>} : (tensor<?x16x?x5xf32>, tensor<16x8x3x3xf32>) -> tensor<?x8x?x10xf32>
  %2 = kiln.conv_transpose %d, %w {pads = array<i64: 0, 0, 1, 1>, strides = array<i64: 1, 2>, dilations = array<i64: 2, 1>, output_padding = array<i64: 0, 0>}
      : (tensor<?x16x?x5xf32>, tensor<16x8x3x3xf32>) -> tensor<?x8x?x10xf32>
  // CHECK: return %[[T0]], %[[T1]], %[[T2]]
  return %0, %1, %2 : tensor<1x8x16x16xf32>, tensor<1x8x10x10xf32>, tensor<?x8x?x10xf32>
}

// CHECK-LABEL: func.func @max_pool(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x64x112x112xf32>, %[[Y:[^:]+]]: tensor<?x8x5x?xi8>)
func.func @max_pool(%x: tensor<1x64x112x112xf32>, %y: tensor<?x8x5x?xi8>)
    -> (tensor<1x64x56x56xf32>, tensor<?x8x2x?xi8>, tensor<?x8x3x?xi8>, tensor<1x64x56x57xf32>) {
  // CHECK: %[[P0:.+]] = kiln.max_pool %[[X]] {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x64x112x112xf32>) -> tensor<1x64x56x56xf32>
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>}
      : (tensor<1x64x112x112xf32>) -> tensor<1x64x56x56xf32>
  // floor((5 - 2) / 2) + 1 = 2 without ceil_mode, 3 with it.
  // CHECK: %[[P1:.+]] = kiln.max_pool %[[Y]] {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<?x8x5x?xi8>) -> tensor<?x8x2x?xi8>
  %1 = kiln.max_pool %y {kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>}
      : (tensor<?x8x5x?xi8>) -> tensor<?x8x2x?xi8>
  // CHECK: %[[P2:.+]] = kiln.max_pool %[[Y]] {ceil_mode = true, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<?x8x5x?xi8>) -> tensor<?x8x3x?xi8>
  %2 = kiln.max_pool %y {kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, ceil_mode = true}
      : (tensor<?x8x5x?xi8>) -> tensor<?x8x3x?xi8>
  // CHECK: %[[P3:.+]] = kiln.max_pool %[[X]] {ceil_mode = true, dilations = array<i64: 2, 2>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 1, 0, 1>, strides = array<i64: 2, 2>} : (tensor<1x64x112x112xf32>) -> tensor<1x64x56x57xf32>
  %3 = kiln.max_pool %x {kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 1, 0, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 2, 2>, ceil_mode = true}
      : (tensor<1x64x112x112xf32>) -> tensor<1x64x56x57xf32>
  // CHECK: return %[[P0]], %[[P1]], %[[P2]], %[[P3]]
  return %0, %1, %2, %3 : tensor<1x64x56x56xf32>, tensor<?x8x2x?xi8>, tensor<?x8x3x?xi8>, tensor<1x64x56x57xf32>
}

// CHECK-LABEL: func.func @average_pool(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x8x4x4xf32>, %[[Y:[^:]+]]: tensor<?x?x7xbf16>)
func.func @average_pool(%x: tensor<1x8x4x4xf32>, %y: tensor<?x?x7xbf16>)
    -> (tensor<1x8x2x2xf32>, tensor<1x8x2x2xf32>, tensor<?x?x3xbf16>) {
  // CHECK: %[[A0:.+]] = kiln.average_pool %[[X]] {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x8x4x4xf32>) -> tensor<1x8x2x2xf32>
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>}
      : (tensor<1x8x4x4xf32>) -> tensor<1x8x2x2xf32>
  // CHECK: %[[A1:.+]] = kiln.average_pool %[[X]] {count_include_pad = true, dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x8x4x4xf32>) -> tensor<1x8x2x2xf32>
  %1 = kiln.average_pool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, count_include_pad = true, ceil_mode = false}
      : (tensor<1x8x4x4xf32>) -> tensor<1x8x2x2xf32>
  // 1-D, ceil_mode: ceil((7 - 3) / 3) + 1 = 3.
  // CHECK: %[[A2:.+]] = kiln.average_pool %[[Y]] {ceil_mode = true, dilations = array<i64: 1>, kernel_shape = array<i64: 3>, pads = array<i64: 0, 0>, strides = array<i64: 3>} : (tensor<?x?x7xbf16>) -> tensor<?x?x3xbf16>
  %2 = kiln.average_pool %y {kernel_shape = array<i64: 3>, pads = array<i64: 0, 0>, strides = array<i64: 3>, dilations = array<i64: 1>, ceil_mode = true}
      : (tensor<?x?x7xbf16>) -> tensor<?x?x3xbf16>
  // CHECK: return %[[A0]], %[[A1]], %[[A2]]
  return %0, %1, %2 : tensor<1x8x2x2xf32>, tensor<1x8x2x2xf32>, tensor<?x?x3xbf16>
}

// CHECK-LABEL: func.func @global_average_pool(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x2048x7x7xf32>, %[[Y:[^:]+]]: tensor<?x?x?x?x?xf16>)
func.func @global_average_pool(%x: tensor<1x2048x7x7xf32>, %y: tensor<?x?x?x?x?xf16>)
    -> (tensor<1x2048x1x1xf32>, tensor<?x?x1x1x1xf16>) {
  // CHECK: %[[G0:.+]] = kiln.global_average_pool %[[X]] : (tensor<1x2048x7x7xf32>) -> tensor<1x2048x1x1xf32>
  %0 = kiln.global_average_pool %x : (tensor<1x2048x7x7xf32>) -> tensor<1x2048x1x1xf32>
  // CHECK: %[[G1:.+]] = kiln.global_average_pool %[[Y]] : (tensor<?x?x?x?x?xf16>) -> tensor<?x?x1x1x1xf16>
  %1 = kiln.global_average_pool %y : (tensor<?x?x?x?x?xf16>) -> tensor<?x?x1x1x1xf16>
  // CHECK: return %[[G0]], %[[G1]]
  return %0, %1 : tensor<1x2048x1x1xf32>, tensor<?x?x1x1x1xf16>
}
