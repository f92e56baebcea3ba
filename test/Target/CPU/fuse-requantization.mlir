// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-fuse-requantization))' | FileCheck %s

// A convolution's product dequantized per row (output channel), viewed as
// [N, C, H, W], then bias, ReLU and the next layer's quantization (scale
// 0.5, zero point 3): one op over the product's shape. Scale = 0.5 / 0.5
// etc., offset = bias / 0.5 + 3; the ReLU becomes the lower bound 3 (the
// zero point).
// CHECK-LABEL: func.func @conv_relu_requantize
// CHECK: %[[SCALE:.+]] = arith.constant dense<[1.000000e+00, 5.000000e-01, 2.500000e-01, 2.000000e+00]> : tensor<4xf32>
// CHECK-NEXT: %[[OFFSET:.+]] = arith.constant dense<[5.000000e+00, -1.000000e+00, 4.000000e+00, 9.000000e+00]> : tensor<4xf32>
// CHECK: %[[LO:.+]] = arith.constant 3.000000e+00 : f32
// CHECK-NEXT: %[[HI:.+]] = arith.constant 2.550000e+02 : f32
// CHECK: %[[R:.+]] = linalg.generic
// CHECK-SAME: ins(%{{.+}}, %[[SCALE]], %[[OFFSET]] : tensor<1x4x6xi32>, tensor<4xf32>, tensor<4xf32>) outs(%{{.+}} : tensor<1x4x6xi8>)
// CHECK: arith.sitofp
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK-NEXT: arith.maximumf %{{.+}}, %[[LO]]
// CHECK-NEXT: arith.minimumf %{{.+}}, %[[HI]]
// CHECK-NEXT: math.roundeven
// CHECK-NEXT: arith.fptoui
// CHECK: %[[E:.+]] = tensor.expand_shape %[[R]] {{\[}}[0], [1], [2, 3]]
// CHECK-NOT: linalg.generic
// CHECK: return %[[E]]
func.func @conv_relu_requantize(%acc: tensor<1x4x6xi32>) -> tensor<1x4x2x3xi8> {
  %scale = arith.constant dense<[[0.5], [0.25], [0.125], [1.0]]> : tensor<4x1xf32>
  %bias = arith.constant dense<[[[1.0]], [[-2.0]], [[0.5]], [[3.0]]]> : tensor<4x1x1xf32>
  %q = arith.constant 0.5 : f32
  %zero = arith.constant 0.0 : f32
  %zp = arith.constant 3.0 : f32
  %max = arith.constant 255.0 : f32
  %e = tensor.empty() : tensor<1x4x6xf32>
  %d = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, 0)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%acc, %scale : tensor<1x4x6xi32>, tensor<4x1xf32>) outs(%e : tensor<1x4x6xf32>) {
  ^bb0(%in: i32, %s: f32, %out: f32):
    %0 = arith.sitofp %in : i32 to f32
    %1 = arith.mulf %0, %s : f32
    linalg.yield %1 : f32
  } -> tensor<1x4x6xf32>
  %x = tensor.expand_shape %d [[0], [1], [2, 3]] output_shape [1, 4, 2, 3] : tensor<1x4x6xf32> into tensor<1x4x2x3xf32>
  %e8 = tensor.empty() : tensor<1x4x2x3xi8>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %bias : tensor<1x4x2x3xf32>, tensor<4x1x1xf32>) outs(%e8 : tensor<1x4x2x3xi8>) {
  ^bb0(%in: f32, %b: f32, %out: i8):
    %0 = arith.addf %in, %b : f32
    %1 = arith.maximumf %0, %zero : f32
    %2 = arith.divf %1, %q : f32
    %3 = math.roundeven %2 : f32
    %4 = arith.addf %3, %zp : f32
    %5 = arith.maximumf %4, %zero : f32
    %6 = arith.minimumf %5, %max : f32
    %7 = arith.fptoui %6 : f32 to i8
    linalg.yield %7 : i8
  } -> tensor<1x4x2x3xi8>
  return %r : tensor<1x4x2x3xi8>
}

// -----

// A matrix product dequantized per column (one scale 0.25 here), a bias per
// column, a clip to [-1, 1], then signed quantization (scale 0.125, zero
// point -2): scale 2, offset 8 * bias - 2, bounds round(+-1 / 0.125) - 2.
// CHECK-LABEL: func.func @matmul_clip_requantize_signed
// CHECK: %[[SCALE:.+]] = arith.constant dense<2.000000e+00> : tensor<f32>
// CHECK-NEXT: %[[OFFSET:.+]] = arith.constant dense<[6.000000e+00, -1.000000e+01, -2.000000e+00]> : tensor<3xf32>
// CHECK: %[[LO:.+]] = arith.constant -1.000000e+01 : f32
// CHECK-NEXT: %[[HI:.+]] = arith.constant 6.000000e+00 : f32
// CHECK: linalg.generic
// CHECK-SAME: ins(%{{.+}}, %[[SCALE]], %[[OFFSET]] : tensor<5x3xi32>, tensor<f32>, tensor<3xf32>)
// CHECK: arith.maximumf %{{.+}}, %[[LO]]
// CHECK-NEXT: arith.minimumf %{{.+}}, %[[HI]]
// CHECK-NEXT: math.roundeven
// CHECK-NEXT: arith.fptosi
// CHECK-NOT: linalg.generic
func.func @matmul_clip_requantize_signed(%acc: tensor<5x3xi32>) -> tensor<5x3xi8> {
  %scale = arith.constant dense<0.25> : tensor<f32>
  %bias = arith.constant dense<[1.0, -1.0, 0.0]> : tensor<3xf32>
  %one = arith.constant 1.0 : f32
  %minus = arith.constant -1.0 : f32
  %q = arith.constant 8.0 : f32
  %zp = arith.constant -2.0 : f32
  %lo = arith.constant -128.0 : f32
  %hi = arith.constant 127.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %d = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%acc, %scale : tensor<5x3xi32>, tensor<f32>) outs(%e : tensor<5x3xf32>) {
  ^bb0(%in: i32, %s: f32, %out: f32):
    %0 = arith.sitofp %in : i32 to f32
    %1 = arith.mulf %0, %s : f32
    linalg.yield %1 : f32
  } -> tensor<5x3xf32>
  %e8 = tensor.empty() : tensor<5x3xi8>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%bias, %d : tensor<3xf32>, tensor<5x3xf32>) outs(%e8 : tensor<5x3xi8>) {
  ^bb0(%b: f32, %in: f32, %out: i8):
    %0 = arith.addf %b, %in : f32
    %1 = arith.maximumf %0, %minus : f32
    %2 = arith.minimumf %1, %one : f32
    %3 = arith.mulf %2, %q : f32
    %4 = math.roundeven %3 : f32
    %5 = arith.addf %4, %zp : f32
    %6 = arith.maximumf %5, %lo : f32
    %7 = arith.minimumf %6, %hi : f32
    %8 = arith.fptosi %7 : f32 to i8
    linalg.yield %8 : i8
  } -> tensor<5x3xi8>
  return %r : tensor<5x3xi8>
}

// -----

// Left alone: a sigmoid is not affine, and a non-integer offset after the
// rounding would not commute with it.
// CHECK-LABEL: func.func @not_affine
// CHECK: arith.sitofp
// CHECK-NOT: math.roundeven
// CHECK: math.exp
// CHECK-LABEL: func.func @fraction_after_rounding
// CHECK: linalg.generic
// CHECK: linalg.generic
// CHECK: arith.addf %{{.+}}, %{{.+}} : f32
// CHECK-NEXT: math.roundeven
func.func @not_affine(%acc: tensor<5x3xi32>) -> tensor<5x3xi8> {
  %scale = arith.constant dense<0.25> : tensor<f32>
  %hi = arith.constant 255.0 : f32
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %d = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%acc, %scale : tensor<5x3xi32>, tensor<f32>) outs(%e : tensor<5x3xf32>) {
  ^bb0(%in: i32, %s: f32, %out: f32):
    %0 = arith.sitofp %in : i32 to f32
    %1 = arith.mulf %0, %s : f32
    linalg.yield %1 : f32
  } -> tensor<5x3xf32>
  %e8 = tensor.empty() : tensor<5x3xi8>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%d : tensor<5x3xf32>) outs(%e8 : tensor<5x3xi8>) {
  ^bb0(%in: f32, %out: i8):
    %0 = math.exp %in : f32
    %1 = math.roundeven %0 : f32
    %2 = arith.maximumf %1, %zero : f32
    %3 = arith.minimumf %2, %hi : f32
    %4 = arith.fptoui %3 : f32 to i8
    linalg.yield %4 : i8
  } -> tensor<5x3xi8>
  return %r : tensor<5x3xi8>
}

func.func @fraction_after_rounding(%acc: tensor<5x3xi32>) -> tensor<5x3xi8> {
  %scale = arith.constant dense<0.25> : tensor<f32>
  %half = arith.constant 0.5 : f32
  %hi = arith.constant 255.0 : f32
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %d = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%acc, %scale : tensor<5x3xi32>, tensor<f32>) outs(%e : tensor<5x3xf32>) {
  ^bb0(%in: i32, %s: f32, %out: f32):
    %0 = arith.sitofp %in : i32 to f32
    %1 = arith.mulf %0, %s : f32
    linalg.yield %1 : f32
  } -> tensor<5x3xf32>
  %e8 = tensor.empty() : tensor<5x3xi8>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%d : tensor<5x3xf32>) outs(%e8 : tensor<5x3xi8>) {
  ^bb0(%in: f32, %out: i8):
    %0 = math.roundeven %in : f32
    %1 = arith.addf %0, %half : f32
    %2 = math.roundeven %1 : f32
    %3 = arith.maximumf %2, %zero : f32
    %4 = arith.minimumf %3, %hi : f32
    %5 = arith.fptoui %4 : f32 to i8
    linalg.yield %5 : i8
  } -> tensor<5x3xi8>
  return %r : tensor<5x3xi8>
}

// -----

// A residual block's end: the product dequantized, its bias and the ReLU of
// the block's input (a residual tensor) added, in f32. One op: x * scale +
// offset + max(r, 0), the residual collapsed into the product's shape.
// CHECK-LABEL: func.func @residual_sum
// CHECK: %[[SCALE:.+]] = arith.constant dense<[5.000000e-01, 2.500000e-01]> : tensor<2xf32>
// CHECK-NEXT: %[[OFFSET:.+]] = arith.constant dense<[1.000000e+00, -2.000000e+00]> : tensor<2xf32>
// CHECK: %[[R:.+]] = tensor.collapse_shape %arg1 {{\[}}[0], [1], [2, 3]] : tensor<1x2x2x3xf32> into tensor<1x2x6xf32>
// CHECK: %[[SUM:.+]] = linalg.generic
// CHECK-SAME: ins(%arg0, %[[SCALE]], %[[OFFSET]], %[[R]] : tensor<1x2x6xi32>, tensor<2xf32>, tensor<2xf32>, tensor<1x2x6xf32>) outs(%{{.+}} : tensor<1x2x6xf32>)
// CHECK: arith.sitofp
// CHECK-NEXT: arith.mulf
// CHECK-NEXT: arith.addf
// CHECK-NEXT: arith.maximumf
// CHECK-NEXT: arith.addf
// CHECK: tensor.expand_shape %[[SUM]]
// CHECK-NOT: linalg.generic
func.func @residual_sum(%acc: tensor<1x2x6xi32>, %res: tensor<1x2x2x3xf32>) -> tensor<1x2x2x3xf32> {
  %scale = arith.constant dense<[[0.5], [0.25]]> : tensor<2x1xf32>
  %bias = arith.constant dense<[[[1.0]], [[-2.0]]]> : tensor<2x1x1xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x2x6xf32>
  %d = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d1, 0)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%acc, %scale : tensor<1x2x6xi32>, tensor<2x1xf32>) outs(%e : tensor<1x2x6xf32>) {
  ^bb0(%in: i32, %s: f32, %out: f32):
    %0 = arith.sitofp %in : i32 to f32
    %1 = arith.mulf %0, %s : f32
    linalg.yield %1 : f32
  } -> tensor<1x2x6xf32>
  %x = tensor.expand_shape %d [[0], [1], [2, 3]] output_shape [1, 2, 2, 3] : tensor<1x2x6xf32> into tensor<1x2x2x3xf32>
  %e4 = tensor.empty() : tensor<1x2x2x3xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%x, %bias, %res : tensor<1x2x2x3xf32>, tensor<2x1x1xf32>, tensor<1x2x2x3xf32>) outs(%e4 : tensor<1x2x2x3xf32>) {
  ^bb0(%in: f32, %b: f32, %skip: f32, %out: f32):
    %0 = arith.maximumf %skip, %zero : f32
    %1 = arith.addf %in, %b : f32
    %2 = arith.addf %1, %0 : f32
    linalg.yield %2 : f32
  } -> tensor<1x2x2x3xf32>
  return %r : tensor<1x2x2x3xf32>
}

// -----

// Left alone: a ReLU after the residual sum (the store adds no clamp), and
// a residual scaled after it was added.
// CHECK-LABEL: func.func @clamped_sum
// CHECK-COUNT-2: linalg.generic
// CHECK-LABEL: func.func @scaled_after_sum
// CHECK-COUNT-2: linalg.generic
func.func @clamped_sum(%acc: tensor<4x6xi32>, %res: tensor<4x6xf32>) -> tensor<4x6xf32> {
  %scale = arith.constant dense<0.5> : tensor<f32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x6xf32>
  %d = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%acc, %scale : tensor<4x6xi32>, tensor<f32>) outs(%e : tensor<4x6xf32>) {
  ^bb0(%in: i32, %s: f32, %out: f32):
    %0 = arith.sitofp %in : i32 to f32
    %1 = arith.mulf %0, %s : f32
    linalg.yield %1 : f32
  } -> tensor<4x6xf32>
  %e2 = tensor.empty() : tensor<4x6xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%d, %res : tensor<4x6xf32>, tensor<4x6xf32>) outs(%e2 : tensor<4x6xf32>) {
  ^bb0(%in: f32, %skip: f32, %out: f32):
    %0 = arith.addf %in, %skip : f32
    %1 = arith.maximumf %0, %zero : f32
    linalg.yield %1 : f32
  } -> tensor<4x6xf32>
  return %r : tensor<4x6xf32>
}

func.func @scaled_after_sum(%acc: tensor<4x6xi32>, %res: tensor<4x6xf32>) -> tensor<4x6xf32> {
  %scale = arith.constant dense<0.5> : tensor<f32>
  %two = arith.constant 2.0 : f32
  %e = tensor.empty() : tensor<4x6xf32>
  %d = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%acc, %scale : tensor<4x6xi32>, tensor<f32>) outs(%e : tensor<4x6xf32>) {
  ^bb0(%in: i32, %s: f32, %out: f32):
    %0 = arith.sitofp %in : i32 to f32
    %1 = arith.mulf %0, %s : f32
    linalg.yield %1 : f32
  } -> tensor<4x6xf32>
  %e2 = tensor.empty() : tensor<4x6xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%d, %res : tensor<4x6xf32>, tensor<4x6xf32>) outs(%e2 : tensor<4x6xf32>) {
  ^bb0(%in: f32, %skip: f32, %out: f32):
    %0 = arith.addf %in, %skip : f32
    %1 = arith.mulf %0, %two : f32
    linalg.yield %1 : f32
  } -> tensor<4x6xf32>
  return %r : tensor<4x6xf32>
}
