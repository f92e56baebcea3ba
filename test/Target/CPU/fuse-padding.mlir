// RUN: kiln-opt %s --pass-pipeline='builtin.module(func.func(kiln-cpu-fuse-padding))' | FileCheck %s

// The ReLU before a padded convolution writes the interior of the zero-filled
// padded tensor; no pad of its result is left.
// CHECK-LABEL: func.func @relu_then_pad
// CHECK: %[[FILL:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<1x4x10x10xf32>)
// CHECK: %[[SLICE:.+]] = tensor.extract_slice %[[FILL]][0, 0, 1, 1] [1, 4, 8, 8] [1, 1, 1, 1]
// CHECK: %[[RELU:.+]] = linalg.generic {{.*}} ins(%arg0 : tensor<1x4x8x8xf32>) outs(%[[SLICE]] : tensor<1x4x8x8xf32>)
// CHECK: arith.maximumf
// CHECK: tensor.insert_slice %[[RELU]] into %[[FILL]][0, 0, 1, 1] [1, 4, 8, 8] [1, 1, 1, 1]
// CHECK-NOT: tensor.pad
#id = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @relu_then_pad(%x: tensor<1x4x8x8xf32>) -> tensor<1x4x10x10xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x8x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x8x8xf32>) outs(%e : tensor<1x4x8x8xf32>) {
  ^bb0(%v: f32, %o: f32):
    %y = arith.maximumf %v, %zero : f32
    linalg.yield %y : f32
  } -> tensor<1x4x8x8xf32>
  %p = tensor.pad %r low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x8x8xf32> to tensor<1x4x10x10xf32>
  return %p : tensor<1x4x10x10xf32>
}

// A pad of a function argument (no producer to write into it) stays.
// CHECK-LABEL: func.func @pad_of_argument
// CHECK: tensor.pad
func.func @pad_of_argument(%x: tensor<2x3xf32>) -> tensor<4x5xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[1, 1] high[1, 1] {
  ^bb0(%i: index, %j: index):
    tensor.yield %zero : f32
  } : tensor<2x3xf32> to tensor<4x5xf32>
  return %p : tensor<4x5xf32>
}

// A pad that a kernel adds itself (every reader is marked padding =
// "implicit") stays: the padded tensor is never written.
// CHECK-LABEL: func.func @implicit_padding
// CHECK: tensor.pad
// CHECK-NOT: linalg.fill
#in = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#w = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>
#o = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>
func.func @implicit_padding(%x: tensor<1x4x8x8xf32>, %w: tensor<4x1x1x3x3xf32>, %init: tensor<1x4x1x8x8xf32>) -> tensor<1x4x1x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x4x8x8xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x8x8xf32>) outs(%e : tensor<1x4x8x8xf32>) {
  ^bb0(%v: f32, %o: f32):
    %y = arith.maximumf %v, %zero : f32
    linalg.yield %y : f32
  } -> tensor<1x4x8x8xf32>
  %p = tensor.pad %r low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x8x8xf32> to tensor<1x4x10x10xf32>
  %pg = tensor.expand_shape %p [[0], [1, 2], [3], [4]] output_shape [1, 4, 1, 10, 10] : tensor<1x4x10x10xf32> into tensor<1x4x1x10x10xf32>
  %conv = linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%pg, %w : tensor<1x4x1x10x10xf32>, tensor<4x1x1x3x3xf32>) outs(%init : tensor<1x4x1x8x8xf32>)
      attrs = {kiln.ukernel = {isa = "avx512", kernel = "sdwconv2d", padding = "implicit", register_tile = array<i64: 8, 32>}} {
  ^bb0(%a: f32, %c: f32, %s: f32):
    %m = arith.mulf %a, %c : f32
    %t = arith.addf %s, %m : f32
    linalg.yield %t : f32
  } -> tensor<1x4x1x8x8xf32>
  return %conv : tensor<1x4x1x8x8xf32>
}
