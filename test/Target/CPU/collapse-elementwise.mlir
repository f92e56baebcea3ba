// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-collapse-elementwise))' | FileCheck %s

// A per-channel bias add and quantization over 14 x 14 planes: the rows and
// columns become one loop of 196, the bias [C, 1, 1] a vector [C].
// CHECK-LABEL: func.func @quantize_planes
// CHECK-DAG: %[[X:.+]] = tensor.collapse_shape %arg0 {{\[\[}}0], [1], [2, 3]] : tensor<1x8x14x14xf32> into tensor<1x8x196xf32>
// CHECK-DAG: %[[B:.+]] = tensor.collapse_shape %arg1 {{\[\[}}0, 1, 2]] : tensor<8x1x1xf32> into tensor<8xf32>
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[ID:.+]], #[[CH:.+]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[B]] : tensor<1x8x196xf32>, tensor<8xf32>) outs(%{{.+}} : tensor<1x8x196xi8>)
// CHECK: arith.fptoui
// CHECK: tensor.expand_shape %[[R]] {{\[\[}}0], [1], [2, 3]] output_shape [1, 8, 14, 14] : tensor<1x8x196xi8> into tensor<1x8x14x14xi8>
#id = affine_map<(n, c, h, w) -> (n, c, h, w)>
#ch = affine_map<(n, c, h, w) -> (c, 0, 0)>
func.func @quantize_planes(%x: tensor<1x8x14x14xf32>, %b: tensor<8x1x1xf32>) -> tensor<1x8x14x14xi8> {
  %e = tensor.empty() : tensor<1x8x14x14xi8>
  %s = arith.constant 0.05 : f32
  %r = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %b : tensor<1x8x14x14xf32>, tensor<8x1x1xf32>) outs(%e : tensor<1x8x14x14xi8>) {
  ^bb0(%v: f32, %w: f32, %o: i8):
    %0 = arith.addf %v, %w : f32
    %1 = arith.divf %0, %s : f32
    %2 = arith.fptoui %1 : f32 to i8
    linalg.yield %2 : i8
  } -> tensor<1x8x14x14xi8>
  return %r : tensor<1x8x14x14xi8>
}

// -----

// A transposed operand reads h and w apart: nothing merges with w. Rows of
// 64 or more are left alone, and so is an op that reads a slice.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: tensor.collapse_shape
// CHECK-NOT: tensor.expand_shape
// CHECK: return
#id = affine_map<(n, c, h, w) -> (n, c, h, w)>
#tr = affine_map<(n, c, h, w) -> (n, c, w, h)>
#id3 = affine_map<(c, h, w) -> (c, h, w)>
func.func @left_alone(%x: tensor<1x8x14x14xf32>, %y: tensor<1x8x14x14xf32>, %z: tensor<8x4x64xf32>, %big: tensor<8x20x20xf32>) -> (tensor<1x8x14x14xf32>, tensor<8x4x64xf32>, tensor<8x4x4xf32>) {
  %e = tensor.empty() : tensor<1x8x14x14xf32>
  %t = linalg.generic {indexing_maps = [#id, #tr, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %y : tensor<1x8x14x14xf32>, tensor<1x8x14x14xf32>) outs(%e : tensor<1x8x14x14xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %0 = arith.addf %a, %b : f32
    linalg.yield %0 : f32
  } -> tensor<1x8x14x14xf32>
  %f = tensor.empty() : tensor<8x4x64xf32>
  %l = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%z : tensor<8x4x64xf32>) outs(%f : tensor<8x4x64xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = arith.negf %a : f32
    linalg.yield %0 : f32
  } -> tensor<8x4x64xf32>
  %slice = tensor.extract_slice %big[0, 0, 0] [8, 4, 4] [1, 1, 1] : tensor<8x20x20xf32> to tensor<8x4x4xf32>
  %g = tensor.empty() : tensor<8x4x4xf32>
  %s = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%slice : tensor<8x4x4xf32>) outs(%g : tensor<8x4x4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %0 = arith.negf %a : f32
    linalg.yield %0 : f32
  } -> tensor<8x4x4xf32>
  return %t, %l, %s : tensor<1x8x14x14xf32>, tensor<8x4x64xf32>, tensor<8x4x4xf32>
}

// -----

// Around a product marked for a microkernel: the addends that initialize
// its accumulator and the clamp of its result keep their shapes (the
// kernel's epilogue takes them over), while an op that only reads the
// clamped result as an input is collapsed.
// CHECK-LABEL: func.func @around_kernel
// CHECK: %[[INIT:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]
// CHECK: %[[P:.+]] = linalg.generic {{.+}} outs(%[[INIT]] : tensor<1x8x7x7xf32>) attrs =  {kiln.ukernel
// CHECK: %[[C:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[P]]
// CHECK: tensor.collapse_shape %[[C]] {{\[\[}}0, 1, 2, 3]] : tensor<1x8x7x7xf32> into tensor<392xf32>
// CHECK: linalg.generic {{.+}} iterator_types = ["parallel"]
#id = affine_map<(n, c, h, w) -> (n, c, h, w)>
#ch = affine_map<(n, c, h, w) -> (c, 0, 0)>
#pin = affine_map<(n, m, h, w, k) -> (n, k, h, w)>
#pw = affine_map<(n, m, h, w, k) -> (m, k)>
#pout = affine_map<(n, m, h, w, k) -> (n, m, h, w)>
func.func @around_kernel(%x: tensor<1x4x7x7xf32>, %w: tensor<8x4xf32>, %b: tensor<8x1x1xf32>) -> tensor<1x8x7x7xf32> {
  %e = tensor.empty() : tensor<1x8x7x7xf32>
  %init = linalg.generic {indexing_maps = [#ch, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%b : tensor<8x1x1xf32>) outs(%e : tensor<1x8x7x7xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  } -> tensor<1x8x7x7xf32>
  %p = linalg.generic {indexing_maps = [#pin, #pw, #pout], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%x, %w : tensor<1x4x7x7xf32>, tensor<8x4xf32>) outs(%init : tensor<1x8x7x7xf32>)
      attrs = {kiln.ukernel = {isa = "avx512", kernel = "sgemm", register_tile = array<i64: 8, 32>}} {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %0 = arith.mulf %a, %c : f32
    %1 = arith.addf %o, %0 : f32
    linalg.yield %1 : f32
  } -> tensor<1x8x7x7xf32>
  %zero = arith.constant 0.0 : f32
  %clamped = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%p : tensor<1x8x7x7xf32>) outs(%e : tensor<1x8x7x7xf32>) {
  ^bb0(%v: f32, %o: f32):
    %0 = arith.maximumf %v, %zero : f32
    linalg.yield %0 : f32
  } -> tensor<1x8x7x7xf32>
  %neg = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%clamped : tensor<1x8x7x7xf32>) outs(%e : tensor<1x8x7x7xf32>) {
  ^bb0(%v: f32, %o: f32):
    %0 = arith.negf %v : f32
    linalg.yield %0 : f32
  } -> tensor<1x8x7x7xf32>
  return %neg : tensor<1x8x7x7xf32>
}

// -----

// A diagonal (one loop read twice by an operand) is left alone.
// CHECK-LABEL: func.func @diagonal
// CHECK-NOT: tensor.collapse_shape
// CHECK: return
#diag = affine_map<(b, i) -> (b, i, i)>
#out = affine_map<(b, i) -> (b, i)>
func.func @diagonal(%x: tensor<5x3x3xf32>) -> tensor<5x3xf32> {
  %e = tensor.empty() : tensor<5x3xf32>
  %d = linalg.generic {indexing_maps = [#diag, #out], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<5x3x3xf32>) outs(%e : tensor<5x3xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  } -> tensor<5x3xf32>
  return %d : tensor<5x3xf32>
}
