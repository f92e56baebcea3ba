// RUN: kiln-opt %s --convert-kiln-to-linalg --split-input-file | FileCheck %s

// kiln.conv, kiln.conv_transpose and the pools (Convolution.cpp): window
// generics over a padded input. Groups are explicit dims: input
// N x G x C/G x ..., weight G x M/G x C/G x ..., result N x G x M/G x ....

//===----------------------------------------------------------------------===//
// Conv
//===----------------------------------------------------------------------===//

// Pads become a zero tensor.pad; the strides scale the output loops in the
// input map; the bias, viewed as M x 1 x 1, is broadcast into the init in the
// result's shape, which is then viewed grouped.
// Loops: n, g, m, oh, ow, c, kh, kw.
// CHECK-DAG: #[[$BIAS:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>
// CHECK-DAG: #[[$ID4:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 * 2 + d6, d4 * 2 + d7)>
// CHECK-DAG: #[[$W:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d1, d2, d5, d6, d7)>
// CHECK-DAG: #[[$OUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d2, d3, d4)>
// CHECK-LABEL: func.func @conv_pads_strides_bias(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x3x8x8xf32>, %[[W:[^:]+]]: tensor<4x3x3x3xf32>, %[[B:[^:]+]]: tensor<4xf32>)
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[PADDED:.+]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[ZERO]] : f32
// CHECK-NEXT: } : tensor<1x3x8x8xf32> to tensor<1x3x10x10xf32>
// CHECK: %[[GX:.+]] = tensor.expand_shape %[[PADDED]] {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 1, 3, 10, 10] : tensor<1x3x10x10xf32> into tensor<1x1x3x10x10xf32>
// CHECK: %[[GW:.+]] = tensor.expand_shape %[[W]] {{\[}}[0, 1], [2], [3], [4]] output_shape [1, 4, 3, 3, 3] : tensor<4x3x3x3xf32> into tensor<1x4x3x3x3xf32>
// CHECK: %[[GB:.+]] = tensor.expand_shape %[[B]] {{\[}}[0, 1, 2]] output_shape [4, 1, 1] : tensor<4xf32> into tensor<4x1x1xf32>
// CHECK: %[[SHAPE:.+]] = tensor.empty() : tensor<1x4x4x4xf32>
// CHECK: %[[BIAS:.+]] = linalg.generic {indexing_maps = [#[[$BIAS]], #[[$ID4]]], {{.*}} ins(%[[GB]] : tensor<4x1x1xf32>) outs(%[[SHAPE]] : tensor<1x4x4x4xf32>)
// CHECK-NEXT: ^bb0(%[[BI:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: linalg.yield %[[BI]] : f32
// CHECK: %[[INIT:.+]] = tensor.expand_shape %[[BIAS]] {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 1, 4, 4, 4]
// CHECK: %[[CONV:.+]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$W]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]} ins(%[[GX]], %[[GW]] : tensor<1x1x3x10x10xf32>, tensor<1x4x3x3x3xf32>) outs(%[[INIT]] : tensor<1x1x4x4x4xf32>)
// CHECK-NEXT: ^bb0(%[[I:[^:]+]]: f32, %[[K:[^:]+]]: f32, %[[ACC:[^:]+]]: f32):
// CHECK-NEXT: %[[MUL:.+]] = arith.mulf %[[I]], %[[K]] : f32
// CHECK-NEXT: %[[ADD:.+]] = arith.addf %[[ACC]], %[[MUL]] : f32
// CHECK-NEXT: linalg.yield %[[ADD]] : f32
// CHECK: %[[R:.+]] = tensor.collapse_shape %[[CONV]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x1x4x4x4xf32> into tensor<1x4x4x4xf32>
// CHECK: return %[[R]]
func.func @conv_pads_strides_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<4xf32>) -> tensor<1x4x4x4xf32> {
  %0 = kiln.conv %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<4xf32>) -> tensor<1x4x4x4xf32>
  return %0 : tensor<1x4x4x4xf32>
}

// -----

// group = 2: C = 4 splits into 2 x 2, M = 6 into 2 x 3. Dilations scale the
// kernel loops; no pads, no bias (zero init); the batch dim stays dynamic.
// CHECK-DAG: #[[$IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 + d6 * 2, d4 + d7 * 2)>
// CHECK-LABEL: func.func @conv_grouped_dilated(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x4x10x10xf32>, %[[W:[^:]+]]: tensor<6x2x3x3xf32>)
// CHECK-NOT: tensor.pad
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[N:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<?x4x10x10xf32>
// CHECK: %[[N2:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<?x4x10x10xf32>
// CHECK: %[[GX:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2], [3], [4]] output_shape [%[[N2]], 2, 2, 10, 10] : tensor<?x4x10x10xf32> into tensor<?x2x2x10x10xf32>
// CHECK: %[[GW:.+]] = tensor.expand_shape %[[W]] {{\[}}[0, 1], [2], [3], [4]] output_shape [2, 3, 2, 3, 3] : tensor<6x2x3x3xf32> into tensor<2x3x2x3x3xf32>
// CHECK: %[[EMPTY:.+]] = tensor.empty(%[[N]]) : tensor<?x6x6x6xf32>
// CHECK: %[[FILL:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[EMPTY]] : tensor<?x6x6x6xf32>)
// CHECK: %[[INIT:.+]] = tensor.expand_shape %[[FILL]] {{\[}}[0], [1, 2], [3], [4]] output_shape [%[[N]], 2, 3, 6, 6] : tensor<?x6x6x6xf32> into tensor<?x2x3x6x6xf32>
// CHECK: %[[CONV:.+]] = linalg.generic {indexing_maps = [#[[$IN]], {{.*}} ins(%[[GX]], %[[GW]] : tensor<?x2x2x10x10xf32>, tensor<2x3x2x3x3xf32>) outs(%[[INIT]] : tensor<?x2x3x6x6xf32>)
// CHECK: %[[R:.+]] = tensor.collapse_shape %[[CONV]] {{\[}}[0], [1, 2], [3], [4]] : tensor<?x2x3x6x6xf32> into tensor<?x6x6x6xf32>
// CHECK: return %[[R]]
func.func @conv_grouped_dilated(%x: tensor<?x4x10x10xf32>, %w: tensor<6x2x3x3xf32>) -> tensor<?x6x6x6xf32> {
  %0 = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 2, 2>, group = 2 : i64}
      : (tensor<?x4x10x10xf32>, tensor<6x2x3x3xf32>) -> tensor<?x6x6x6xf32>
  return %0 : tensor<?x6x6x6xf32>
}

// -----

// 1-D integer conv: the same structure with integer arithmetic.
// CHECK-DAG: #[[$IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4, d3 + d5)>
// CHECK-LABEL: func.func @conv_1d_integer(
// CHECK: linalg.fill ins(%{{.+}} : i32) outs(%{{.+}} : tensor<1x3x3xi32>)
// CHECK: linalg.generic {indexing_maps = [#[[$IN]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-NEXT: ^bb0(%[[I:[^:]+]]: i32, %[[K:[^:]+]]: i32, %[[ACC:[^:]+]]: i32):
// CHECK-NEXT: %[[MUL:.+]] = arith.muli %[[I]], %[[K]] : i32
// CHECK-NEXT: %[[ADD:.+]] = arith.addi %[[ACC]], %[[MUL]] : i32
func.func @conv_1d_integer(%x: tensor<1x2x5xi32>, %w: tensor<3x2x3xi32>) -> tensor<1x3x3xi32> {
  %0 = kiln.conv %x, %w {pads = array<i64: 0, 0>, strides = array<i64: 1>, dilations = array<i64: 1>}
      : (tensor<1x2x5xi32>, tensor<3x2x3xi32>) -> tensor<1x3x3xi32>
  return %0 : tensor<1x3x3xi32>
}

// -----

//===----------------------------------------------------------------------===//
// ConvTranspose
//===----------------------------------------------------------------------===//

// The input is spread by the stride (insert_slice with strides into zeros),
// the kernel flipped (K - 1 - k) with its channel roles swapped, and the
// spread input padded by dilation * (K - 1) - pad (+ output_padding at the
// end) before the conv lowering runs on it.
// CHECK-DAG: #[[$FLIP:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d2, d1, -d3 + 2, -d4 + 2)>
// CHECK-DAG: #[[$ID5:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[$IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5, d6, d7) -> (d0, d1, d5, d3 + d6, d4 + d7)>
// CHECK-LABEL: func.func @conv_transpose(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x4x3x3xf32>, %[[W:[^:]+]]: tensor<4x2x3x3xf32>)
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<1x4x5x5xf32>
// CHECK: %[[ZEROS:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<1x4x5x5xf32>)
// CHECK: %[[SPREAD:.+]] = tensor.insert_slice %[[X]] into %[[ZEROS]][0, 0, 0, 0] [1, 4, 3, 3] [1, 1, 2, 2] : tensor<1x4x3x3xf32> into tensor<1x4x5x5xf32>
// CHECK: %[[GW:.+]] = tensor.expand_shape %[[W]] {{\[}}[0, 1], [2], [3], [4]] output_shape [1, 4, 2, 3, 3] : tensor<4x2x3x3xf32> into tensor<1x4x2x3x3xf32>
// CHECK: %[[FEMPTY:.+]] = tensor.empty() : tensor<1x2x4x3x3xf32>
// CHECK: %[[FLIPPED:.+]] = linalg.generic {indexing_maps = [#[[$FLIP]], #[[$ID5]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%[[GW]] : tensor<1x4x2x3x3xf32>) outs(%[[FEMPTY]] : tensor<1x2x4x3x3xf32>)
// CHECK: %[[CW:.+]] = tensor.collapse_shape %[[FLIPPED]] {{\[}}[0, 1], [2], [3], [4]] : tensor<1x2x4x3x3xf32> into tensor<2x4x3x3xf32>
// CHECK: %[[PADDED:.+]] = tensor.pad %[[SPREAD]] low[0, 0, 1, 1] high[0, 0, 2, 2]
// CHECK: } : tensor<1x4x5x5xf32> to tensor<1x4x8x8xf32>
// CHECK: %[[GX:.+]] = tensor.expand_shape %[[PADDED]] {{\[}}[0], [1, 2], [3], [4]] output_shape [1, 1, 4, 8, 8]
// CHECK: %[[GCW:.+]] = tensor.expand_shape %[[CW]] {{\[}}[0, 1], [2], [3], [4]] output_shape [1, 2, 4, 3, 3]
// CHECK: %[[CONV:.+]] = linalg.generic {indexing_maps = [#[[$IN]], {{.*}} ins(%[[GX]], %[[GCW]] : tensor<1x1x4x8x8xf32>, tensor<1x2x4x3x3xf32>) outs(%{{.+}} : tensor<1x1x2x6x6xf32>)
// CHECK: %[[R:.+]] = tensor.collapse_shape %[[CONV]] {{\[}}[0], [1, 2], [3], [4]] : tensor<1x1x2x6x6xf32> into tensor<1x2x6x6xf32>
// CHECK: return %[[R]]
// CHECK-NOT: kiln.conv
func.func @conv_transpose(%x: tensor<1x4x3x3xf32>, %w: tensor<4x2x3x3xf32>) -> tensor<1x2x6x6xf32> {
  %0 = kiln.conv_transpose %x, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, output_padding = array<i64: 1, 1>}
      : (tensor<1x4x3x3xf32>, tensor<4x2x3x3xf32>) -> tensor<1x2x6x6xf32>
  return %0 : tensor<1x2x6x6xf32>
}

// -----

// Pads larger than dilation * (K - 1) crop the spread input (extract_slice)
// instead of padding it; the bias reaches the conv's init.
// CHECK-LABEL: func.func @conv_transpose_crop_bias(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x2x4x4xf32>, %[[W:[^:]+]]: tensor<2x3x1x1xf32>, %[[B:[^:]+]]: tensor<3xf32>)
// CHECK: %[[SPREAD:.+]] = tensor.insert_slice %[[X]] into %{{.+}}[0, 0, 0, 0] [1, 2, 4, 4] [1, 1, 2, 2] : tensor<1x2x4x4xf32> into tensor<1x2x7x7xf32>
// CHECK-NOT: tensor.pad
// CHECK: %[[CROPPED:.+]] = tensor.extract_slice %[[SPREAD]][0, 0, 1, 1] [1, 2, 5, 5] [1, 1, 1, 1] : tensor<1x2x7x7xf32> to tensor<1x2x5x5xf32>
// CHECK-NOT: tensor.pad
// CHECK: %[[GX:.+]] = tensor.expand_shape %[[CROPPED]]
// CHECK: %[[GB:.+]] = tensor.expand_shape %[[B]] {{\[}}[0, 1, 2]] output_shape [3, 1, 1]
// CHECK: %[[BIAS:.+]] = linalg.generic {{.*}} ins(%[[GB]] : tensor<3x1x1xf32>) outs(%{{.+}} : tensor<1x3x5x5xf32>)
// CHECK: %[[INIT:.+]] = tensor.expand_shape %[[BIAS]]
// CHECK: linalg.generic {{.*}} ins(%[[GX]], %{{.+}} : tensor<1x1x2x5x5xf32>, tensor<1x3x2x1x1xf32>) outs(%[[INIT]] : tensor<1x1x3x5x5xf32>)
func.func @conv_transpose_crop_bias(%x: tensor<1x2x4x4xf32>, %w: tensor<2x3x1x1xf32>, %b: tensor<3xf32>) -> tensor<1x3x5x5xf32> {
  %0 = kiln.conv_transpose %x, %w, %b {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>}
      : (tensor<1x2x4x4xf32>, tensor<2x3x1x1xf32>, tensor<3xf32>) -> tensor<1x3x5x5xf32>
  return %0 : tensor<1x3x5x5xf32>
}

// -----

//===----------------------------------------------------------------------===//
// MaxPool
//===----------------------------------------------------------------------===//

// Pads hold -inf, which also starts the max; the window extents come from an
// empty kernel-shaped operand.
// CHECK-DAG: #[[$IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
// CHECK-DAG: #[[$WIN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
// CHECK-DAG: #[[$OUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @max_pool(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x2x5x5xf32>)
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[PADDED:.+]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[NEGINF]] : f32
// CHECK-NEXT: } : tensor<1x2x5x5xf32> to tensor<1x2x7x7xf32>
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<1x2x3x3xf32>
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%[[EMPTY]] : tensor<1x2x3x3xf32>)
// CHECK: %[[WINDOW:.+]] = tensor.empty() : tensor<3x3xf32>
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$WIN]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%[[PADDED]], %[[WINDOW]] : tensor<1x2x7x7xf32>, tensor<3x3xf32>) outs(%[[INIT]] : tensor<1x2x3x3xf32>)
// CHECK-NEXT: ^bb0(%[[I:[^:]+]]: f32, %{{[^:]+}}: f32, %[[ACC:[^:]+]]: f32):
// CHECK-NEXT: %[[MAX:.+]] = arith.maximumf %[[ACC]], %[[I]] : f32
// CHECK-NEXT: linalg.yield %[[MAX]] : f32
// CHECK: return %[[R]]
func.func @max_pool(%x: tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32> {
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>}
      : (tensor<1x2x5x5xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// ceil_mode: the last window reaches one past the input, so the end is padded
// by one more (-inf) element.
// CHECK-LABEL: func.func @max_pool_ceil_mode(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x2x6x6xf32>)
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[PADDED:.+]] = tensor.pad %[[X]] low[0, 0, 0, 0] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[NEGINF]] : f32
// CHECK-NEXT: } : tensor<1x2x6x6xf32> to tensor<1x2x7x7xf32>
// CHECK: linalg.generic {{.*}} ins(%[[PADDED]], %{{.+}} : tensor<1x2x7x7xf32>, tensor<3x3xf32>) outs(%{{.+}} : tensor<1x2x3x3xf32>)
func.func @max_pool_ceil_mode(%x: tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32> {
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, ceil_mode = true}
      : (tensor<1x2x6x6xf32>) -> tensor<1x2x3x3xf32>
  return %0 : tensor<1x2x3x3xf32>
}

// -----

// Integers pad with their minimum: -128 and maxsi for i8, 0 and maxui for ui8.
// CHECK-LABEL: func.func @max_pool_integer(
// CHECK-SAME: %[[I:[^:]+]]: tensor<1x2x4x4xi8>, %[[U:[^:]+]]: tensor<1x2x4x4xi8>)
// CHECK: %[[SMIN:.+]] = arith.constant -128 : i8
// CHECK: tensor.pad %[[I]]
// CHECK: tensor.yield %[[SMIN]] : i8
// CHECK: linalg.fill ins(%[[SMIN]] : i8)
// CHECK: linalg.generic
// CHECK: arith.maxsi
// CHECK: %[[UMIN:.+]] = arith.constant 0 : i8
// CHECK: tensor.pad %[[U]]
// CHECK: tensor.yield %[[UMIN]] : i8
// CHECK: linalg.fill ins(%[[UMIN]] : i8)
// CHECK: linalg.generic
// CHECK: arith.maxui
func.func @max_pool_integer(%i: tensor<1x2x4x4xi8>, %u: tensor<1x2x4x4xui8>) -> (tensor<1x2x2x2xi8>, tensor<1x2x2x2xui8>) {
  %0 = kiln.max_pool %i {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>}
      : (tensor<1x2x4x4xi8>) -> tensor<1x2x2x2xi8>
  %1 = kiln.max_pool %u {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>}
      : (tensor<1x2x4x4xui8>) -> tensor<1x2x2x2xui8>
  return %0, %1 : tensor<1x2x2x2xi8>, tensor<1x2x2x2xui8>
}

// -----

//===----------------------------------------------------------------------===//
// AveragePool
//===----------------------------------------------------------------------===//

// count_include_pad = false: the window sums are divided by a sum-pool of a
// 1 x 1 x H x W mask of ones padded with zeros, broadcast over N and C.
// CHECK-DAG: #[[$IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 + d4, d3 + d5)>
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$COUNTS:.+]] = affine_map<(d0, d1, d2, d3) -> (0, 0, d2, d3)>
// CHECK-LABEL: func.func @average_pool_exclude_pad(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3x4x4xf32>)
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[PADDED:.+]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[ZERO]] : f32
// CHECK: %[[SUMS:.+]] = linalg.generic {indexing_maps = [#[[$IN]], {{.*}} ins(%[[PADDED]], %{{.+}} : tensor<2x3x6x6xf32>, tensor<3x3xf32>) outs(%{{.+}} : tensor<2x3x4x4xf32>)
// CHECK: arith.addf
// CHECK: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[MEMPTY:.+]] = tensor.empty() : tensor<1x1x4x4xf32>
// CHECK: %[[ONES:.+]] = linalg.fill ins(%[[ONE]] : f32) outs(%[[MEMPTY]] : tensor<1x1x4x4xf32>)
// CHECK: %[[MZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[MASK:.+]] = tensor.pad %[[ONES]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[MZERO]] : f32
// CHECK-NEXT: } : tensor<1x1x4x4xf32> to tensor<1x1x6x6xf32>
// CHECK: %[[COUNT:.+]] = linalg.generic {indexing_maps = [#[[$IN]], {{.*}} ins(%[[MASK]], %{{.+}} : tensor<1x1x6x6xf32>, tensor<3x3xf32>) outs(%{{.+}} : tensor<1x1x4x4xf32>)
// CHECK: arith.addf
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$COUNTS]], #[[$ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[SUMS]], %[[COUNT]] : tensor<2x3x4x4xf32>, tensor<1x1x4x4xf32>)
// CHECK-NEXT: ^bb0(%[[S:[^:]+]]: f32, %[[C:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[DIV:.+]] = arith.divf %[[S]], %[[C]] : f32
// CHECK-NEXT: linalg.yield %[[DIV]] : f32
// CHECK: return %[[R]]
func.func @average_pool_exclude_pad(%x: tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32> {
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

// count_include_pad = true: the mask is padded with ones, so the explicit
// pads count.
// CHECK-LABEL: func.func @average_pool_include_pad(
// CHECK: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: %[[ONES:.+]] = linalg.fill ins(%[[ONE]] : f32) outs(%{{.+}} : tensor<1x1x4x4xf32>)
// CHECK: %[[MASK:.+]] = tensor.pad %[[ONES]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK: tensor.yield %[[ONE]] : f32
// CHECK-NEXT: } : tensor<1x1x4x4xf32> to tensor<1x1x6x6xf32>
// CHECK: %[[COUNT:.+]] = linalg.generic {{.*}} ins(%[[MASK]], %{{.+}} : tensor<1x1x6x6xf32>, tensor<3x3xf32>)
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %[[COUNT]] : tensor<2x3x4x4xf32>, tensor<1x1x4x4xf32>)
// CHECK: arith.divf
func.func @average_pool_include_pad(%x: tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32> {
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, count_include_pad = true}
      : (tensor<2x3x4x4xf32>) -> tensor<2x3x4x4xf32>
  return %0 : tensor<2x3x4x4xf32>
}

// -----

// Dynamic batch and width: the output width is (padded - 3) / 1 + 1, read
// from the padded input; the mask's width is the input's.
// CHECK-DAG: #[[$WIDTH:.+]] = affine_map<()[s0] -> (s0 - 2)>
// CHECK-LABEL: func.func @average_pool_dynamic(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x3x?xf32>)
// CHECK: %[[PADDED:.+]] = tensor.pad %[[X]] low[0, 0, 1] high[0, 0, 1]
// CHECK: %[[N:.+]] = tensor.dim %[[PADDED]], %{{.+}} : tensor<?x3x?xf32>
// CHECK: %[[PW:.+]] = tensor.dim %[[PADDED]], %{{.+}} : tensor<?x3x?xf32>
// CHECK: %[[OW:.+]] = affine.apply #[[$WIDTH]]()[%[[PW]]]
// CHECK: %[[EMPTY:.+]] = tensor.empty(%[[N]], %[[OW]]) : tensor<?x3x?xf32>
// CHECK: %[[W:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<?x3x?xf32>
// CHECK: tensor.empty(%[[W]]) : tensor<1x1x?xf32>
func.func @average_pool_dynamic(%x: tensor<?x3x?xf32>) -> tensor<?x3x?xf32> {
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 3>, pads = array<i64: 1, 1>, strides = array<i64: 1>, dilations = array<i64: 1>}
      : (tensor<?x3x?xf32>) -> tensor<?x3x?xf32>
  return %0 : tensor<?x3x?xf32>
}

// -----

// An input whose channel dim is dynamic (a Reshape to a shape computed at
// run time) is cast to the count the weight implies before the grouped view.
// CHECK-LABEL: func.func @dynamic_channels(
// CHECK: %[[C:.+]] = tensor.cast %{{.+}} : tensor<?x?x1x?xf32> to tensor<?x120x1x?xf32>
// CHECK: tensor.expand_shape %[[C]] {{\[\[}}0], [1, 2], [3], [4]] output_shape [%{{.+}}, 1, 120, 1, %{{.+}}] : tensor<?x120x1x?xf32> into tensor<?x1x120x1x?xf32>
func.func @dynamic_channels(%x: tensor<?x?x1x?xf32>, %w: tensor<64x120x1x1xf32>) -> tensor<?x64x1x?xf32> {
  %y = kiln.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<?x?x1x?xf32>, tensor<64x120x1x1xf32>) -> tensor<?x64x1x?xf32>
  return %y : tensor<?x64x1x?xf32>
}

// -----

// kiln.im2col: one copy generic over (n, c, i, j, oh, ow) reading the
// window element input[n, c, oh*2 + i, ow*2 + j*2], its [N, C, kh, kw, OH,
// OW] result viewed as [N, C*kh*kw, OH*OW]. A dynamic batch stays dynamic.
// CHECK-DAG: #[[IN:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d4 * 2 + d2, d5 * 2 + d3 * 2)>
// CHECK-DAG: #[[OUT:.+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>
// CHECK-LABEL: func.func @im2col(
// CHECK: %[[E:.+]] = tensor.empty(%{{.+}}) : tensor<?x3x2x3x4x3xi8>
// CHECK: %[[G:.+]] = linalg.generic {indexing_maps = [#[[IN]], #[[OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]} ins(%arg0 : tensor<?x3x9x10xi8>) outs(%[[E]] : tensor<?x3x2x3x4x3xi8>)
// CHECK-NEXT: ^bb0(%[[V:.+]]: i8, %{{.+}}: i8):
// CHECK-NEXT: linalg.yield %[[V]] : i8
// CHECK: tensor.collapse_shape %[[G]] {{\[\[}}0], [1, 2, 3], [4, 5]] : tensor<?x3x2x3x4x3xi8> into tensor<?x18x12xi8>
func.func @im2col(%x: tensor<?x3x9x10xui8>) -> tensor<?x18x12xui8> {
  %y = kiln.im2col %x {kernel_shape = array<i64: 2, 3>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 2>} : (tensor<?x3x9x10xui8>) -> tensor<?x18x12xui8>
  return %y : tensor<?x18x12xui8>
}
