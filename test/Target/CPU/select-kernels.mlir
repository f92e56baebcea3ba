// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-select-kernels{isa=avx512}))' | FileCheck %s
// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-select-kernels{isa=avx2}))' | FileCheck %s --check-prefix=AVX2
// RUN: not kiln-opt %s --split-input-file --pass-pipeline='builtin.module(func.func(kiln-cpu-select-kernels{isa=sse9}))' 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: kiln-cpu-select-kernels: unknown isa 'sse9' (avx512, avx2, generic or host)

// A plain f32 matmul gets the sgemm kernel with the ISA's register tile.
// CHECK-LABEL: func.func @matmul
// CHECK: linalg.matmul {kiln.ukernel = {isa = "avx512", kernel = "sgemm", register_tile = array<i64: 8, 32>}}
// AVX2-LABEL: func.func @matmul
// AVX2: linalg.matmul {kiln.ukernel = {isa = "avx2", kernel = "sgemm", register_tile = array<i64: 6, 16>}}
func.func @matmul(%a: tensor<128x768xf32>, %b: tensor<768x3072xf32>, %c: tensor<128x3072xf32>) -> tensor<128x3072xf32> {
  %0 = linalg.matmul ins(%a, %b : tensor<128x768xf32>, tensor<768x3072xf32>) outs(%c : tensor<128x3072xf32>) -> tensor<128x3072xf32>
  return %0 : tensor<128x3072xf32>
}

// -----

// A constant rhs (reshaped or not) is packed at compile time.
// CHECK-LABEL: func.func @constant_rhs
// CHECK: linalg.matmul {kiln.ukernel = {isa = "avx512", kernel = "sgemm", pack_rhs = "compile-time", register_tile = array<i64: 8, 32>}}
func.func @constant_rhs(%a: tensor<4x6xf32>, %c: tensor<4x2xf32>) -> tensor<4x2xf32> {
  %w = arith.constant dense<1.5> : tensor<12xf32>
  %b = tensor.expand_shape %w [[0, 1]] output_shape [6, 2] : tensor<12xf32> into tensor<6x2xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<4x6xf32>, tensor<6x2xf32>) outs(%c : tensor<4x2xf32>) -> tensor<4x2xf32>
  return %0 : tensor<4x2xf32>
}

// -----

// A batched product whose rhs is broadcast over the batch and read
// transposed (k at its last dim) still is a matrix product.
// CHECK-LABEL: func.func @batched_broadcast_transposed
// CHECK: linalg.generic
// CHECK-SAME: kiln.ukernel = {isa = "avx512", kernel = "sgemm"
#lhs = affine_map<(b, m, n, k) -> (b, m, k)>
#rhs = affine_map<(b, m, n, k) -> (n, k)>
#out = affine_map<(b, m, n, k) -> (b, m, n)>
func.func @batched_broadcast_transposed(%a: tensor<4x17x33xf32>, %b: tensor<9x33xf32>, %c: tensor<4x17x9xf32>) -> tensor<4x17x9xf32> {
  %0 = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<4x17x33xf32>, tensor<9x33xf32>) outs(%c : tensor<4x17x9xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x17x9xf32>
  return %0 : tensor<4x17x9xf32>
}

// -----

// Not a product: the body scales it (the kernel computes out + a * b only).
// CHECK-LABEL: func.func @scaled_product
// CHECK-NOT: kiln.ukernel
#lhs = affine_map<(m, n, k) -> (m, k)>
#rhs = affine_map<(m, n, k) -> (k, n)>
#out = affine_map<(m, n, k) -> (m, n)>
func.func @scaled_product(%a: tensor<8x8xf32>, %b: tensor<8x8xf32>, %c: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %two = arith.constant 2.0 : f32
  %0 = linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<8x8xf32>, tensor<8x8xf32>) outs(%c : tensor<8x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %q = arith.mulf %p, %two : f32
    %s = arith.addf %acc, %q : f32
    linalg.yield %s : f32
  } -> tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}

// -----

// Integer products stay loop nests.
// CHECK-LABEL: func.func @integer_matmul
// CHECK-NOT: kiln.ukernel
func.func @integer_matmul(%a: tensor<4x4xi32>, %b: tensor<4x4xi32>, %c: tensor<4x4xi32>) -> tensor<4x4xi32> {
  %0 = linalg.matmul ins(%a, %b : tensor<4x4xi32>, tensor<4x4xi32>) outs(%c : tensor<4x4xi32>) -> tensor<4x4xi32>
  return %0 : tensor<4x4xi32>
}

// -----

// The grouped convolution of convert-kiln-to-linalg (stride 2, dilation 3 in
// width) gets the sconv2d kernel; a depthwise one (one channel per group)
// the direct sdwconv2d.
// CHECK-LABEL: func.func @convolutions
// CHECK: linalg.generic
// CHECK-SAME: kiln.ukernel = {isa = "avx512", kernel = "sconv2d"
// CHECK: linalg.generic
// CHECK-SAME: kiln.ukernel = {isa = "avx512", kernel = "sdwconv2d"
#in = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh * 2 + kh, ow * 2 + kw * 3)>
#w = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>
#o = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>
func.func @convolutions(%x: tensor<1x2x3x15x15xf32>, %w: tensor<2x5x3x3x3xf32>, %init: tensor<1x2x5x7x5xf32>,
                        %dx: tensor<1x8x1x15x15xf32>, %dw: tensor<8x1x1x3x3xf32>, %dinit: tensor<1x8x1x7x5xf32>)
    -> (tensor<1x2x5x7x5xf32>, tensor<1x8x1x7x5xf32>) {
  %0 = linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x2x3x15x15xf32>, tensor<2x5x3x3x3xf32>) outs(%init : tensor<1x2x5x7x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x2x5x7x5xf32>
  %1 = linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%dx, %dw : tensor<1x8x1x15x15xf32>, tensor<8x1x1x3x3xf32>) outs(%dinit : tensor<1x8x1x7x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x8x1x7x5xf32>
  return %0, %1 : tensor<1x2x5x7x5xf32>, tensor<1x8x1x7x5xf32>
}

// -----

// Constant convolution weights are packed at compile time (3 x 3 x 3 = 27
// deep: the direct kernel on AVX-512, the matrix product on AVX2).
// CHECK-LABEL: func.func @constant_weights
// CHECK: linalg.generic
// CHECK-SAME: kiln.ukernel = {isa = "avx512", kernel = "sconv2d_direct", pack_weights = "compile-time", register_tile = array<i64: 16, 14>}
// AVX2-LABEL: func.func @constant_weights
// AVX2: kiln.ukernel = {isa = "avx2", kernel = "sconv2d", pack_weights = "compile-time", register_tile = array<i64: 6, 16>}
#in = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#w = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>
#o = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>
func.func @constant_weights(%x: tensor<1x1x3x5x5xf32>, %init: tensor<1x1x4x3x3xf32>) -> tensor<1x1x4x3x3xf32> {
  %flat = arith.constant dense<0.5> : tensor<4x3x3x3xf32>
  %w = tensor.expand_shape %flat [[0, 1], [2], [3], [4]] output_shape [1, 4, 3, 3, 3] : tensor<4x3x3x3xf32> into tensor<1x4x3x3x3xf32>
  %0 = linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x1x3x5x5xf32>, tensor<1x4x3x3x3xf32>) outs(%init : tensor<1x1x4x3x3xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x4x3x3xf32>
  return %0 : tensor<1x1x4x3x3xf32>
}

// -----

// A 3 x 3 convolution with 8 input channels (c * kh * kw = 72 >= 16) and
// constant weights runs on the direct kernel on AVX-512: 16 output channels
// along the vector, up to 14 pixels a tile. Stride 3 in width keeps the
// matrix product, and so does a 1 x 1 window; AVX2 has no direct kernel.
// CHECK-LABEL: func.func @direct_convolutions
// CHECK: linalg.generic
// CHECK-SAME: kiln.ukernel = {isa = "avx512", kernel = "sconv2d_direct", pack_weights = "compile-time", register_tile = array<i64: 16, 14>}
// CHECK: linalg.generic
// CHECK-SAME: kiln.ukernel = {isa = "avx512", kernel = "sconv2d", pack_weights = "compile-time", register_tile = array<i64: 8, 32>}
// CHECK: linalg.generic
// CHECK-SAME: kiln.ukernel = {isa = "avx512", kernel = "sconv2d", pack_weights = "compile-time", register_tile = array<i64: 8, 32>}
// AVX2-LABEL: func.func @direct_convolutions
// AVX2-NOT: sconv2d_direct
// AVX2: kernel = "sconv2d", pack_weights = "compile-time", register_tile = array<i64: 6, 16>}
#in = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#in3 = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow * 3 + kw)>
#w = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>
#o = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>
func.func @direct_convolutions(%x: tensor<1x1x8x9x9xf32>, %init: tensor<1x1x4x7x7xf32>, %init3: tensor<1x1x4x7x3xf32>, %init1: tensor<1x1x4x9x9xf32>)
    -> (tensor<1x1x4x7x7xf32>, tensor<1x1x4x7x3xf32>, tensor<1x1x4x9x9xf32>) {
  %w = arith.constant dense<0.5> : tensor<1x4x8x3x3xf32>
  %w1 = arith.constant dense<0.5> : tensor<1x4x8x1x1xf32>
  %0 = linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x1x8x9x9xf32>, tensor<1x4x8x3x3xf32>) outs(%init : tensor<1x1x4x7x7xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x4x7x7xf32>
  %1 = linalg.generic {indexing_maps = [#in3, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : tensor<1x1x8x9x9xf32>, tensor<1x4x8x3x3xf32>) outs(%init3 : tensor<1x1x4x7x3xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x4x7x3xf32>
  %2 = linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w1 : tensor<1x1x8x9x9xf32>, tensor<1x4x8x1x1xf32>) outs(%init1 : tensor<1x1x4x9x9xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<1x1x4x9x9xf32>
  return %0, %1, %2 : tensor<1x1x4x7x7xf32>, tensor<1x1x4x7x3xf32>, tensor<1x1x4x9x9xf32>
}

// -----

// The output starts as a bias broadcast along the rows and the result only
// goes into a ReLU: the kernel's epilogue takes over both.
// CHECK-LABEL: func.func @bias_relu
// CHECK: linalg.matmul {kiln.ukernel = {epilogue = ["addends", "clamp"], isa = "avx512"
#row = affine_map<(m, n) -> (n)>
#id = affine_map<(m, n) -> (m, n)>
func.func @bias_relu(%a: tensor<8x16xf32>, %b: tensor<16x32xf32>, %bias: tensor<32xf32>) -> tensor<8x32xf32> {
  %e = tensor.empty() : tensor<8x32xf32>
  %init = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%bias : tensor<32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<8x32xf32>
  %p = linalg.matmul ins(%a, %b : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  %zero = arith.constant 0.0 : f32
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p : tensor<8x32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  } -> tensor<8x32xf32>
  return %r : tensor<8x32xf32>
}

// -----

// A result that is also returned keeps its clamp apart; a clamp with a
// non-constant bound is no clamp; maxnumf (which turns a NaN into the bound)
// is not fused either.
// CHECK-LABEL: func.func @not_fused
// CHECK: linalg.matmul {kiln.ukernel = {epilogue = ["addends"], isa = "avx512"
// CHECK: linalg.matmul {kiln.ukernel = {epilogue = ["addends"], isa = "avx512"
// CHECK: linalg.matmul {kiln.ukernel = {isa = "avx512"
#row = affine_map<(m, n) -> (n)>
#id = affine_map<(m, n) -> (m, n)>
func.func @not_fused(%a: tensor<8x16xf32>, %b: tensor<16x32xf32>, %bias: tensor<32xf32>, %bound: f32, %c: tensor<8x32xf32>) -> (tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>) {
  %e = tensor.empty() : tensor<8x32xf32>
  %init = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%bias : tensor<32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<8x32xf32>
  %p = linalg.matmul ins(%a, %b : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init : tensor<8x32xf32>) -> tensor<8x32xf32>
  %zero = arith.constant 0.0 : f32
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p : tensor<8x32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  } -> tensor<8x32xf32>
  %init2 = linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%bias : tensor<32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  } -> tensor<8x32xf32>
  %p2 = linalg.matmul ins(%a, %b : tensor<8x16xf32>, tensor<16x32xf32>) outs(%init2 : tensor<8x32xf32>) -> tensor<8x32xf32>
  %r2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p2 : tensor<8x32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %bound : f32
    linalg.yield %y : f32
  } -> tensor<8x32xf32>
  %filled = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %p3 = linalg.matmul ins(%a, %b : tensor<8x16xf32>, tensor<16x32xf32>) outs(%filled : tensor<8x32xf32>) -> tensor<8x32xf32>
  %r3 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p3 : tensor<8x32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maxnumf %x, %zero : f32
    linalg.yield %y : f32
  } -> tensor<8x32xf32>
  return %p, %r, %r2, %r3 : tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>
}

// -----

// A zero-filled output with a Clip (compare and select) after it: the clamp
// alone is fused.
// CHECK-LABEL: func.func @zero_init_clamp
// CHECK: linalg.matmul {kiln.ukernel = {epilogue = ["clamp"], isa = "avx512"
#id = affine_map<(m, n) -> (m, n)>
func.func @zero_init_clamp(%a: tensor<8x16xf32>, %b: tensor<16x32xf32>) -> tensor<8x32xf32> {
  %e = tensor.empty() : tensor<8x32xf32>
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  %filled = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %p = linalg.matmul ins(%a, %b : tensor<8x16xf32>, tensor<16x32xf32>) outs(%filled : tensor<8x32xf32>) -> tensor<8x32xf32>
  %r = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p : tensor<8x32xf32>) outs(%e : tensor<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %lt = arith.cmpf olt, %x, %zero : f32
    %y = arith.select %lt, %zero, %x : f32
    %gt = arith.cmpf ogt, %y, %six : f32
    %z = arith.select %gt, %six, %y : f32
    linalg.yield %z : f32
  } -> tensor<8x32xf32>
  return %r : tensor<8x32xf32>
}

// -----

// The 8-bit product of kiln.matmul_integer, its zero points read once, per
// row or folded into the body as a constant, gets the igemm kernel with its
// own register tile and no fused epilogue.
// CHECK-LABEL: func.func @integer_products
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}} : tensor<4x8xi8>, tensor<8x3xi8>, tensor<4xi8>, tensor<i8>)
// CHECK-SAME: kiln.ukernel = {isa = "avx512", kernel = "igemm", register_tile = array<i64: 8, 32>}
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}} : tensor<4x8xi8>, tensor<8x3xi8>)
// CHECK-SAME: kiln.ukernel = {isa = "avx512", kernel = "igemm", register_tile = array<i64: 8, 32>}
// AVX2-LABEL: func.func @integer_products
// AVX2: kiln.ukernel = {isa = "avx2", kernel = "igemm", register_tile = array<i64: 6, 16>}
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#row = affine_map<(m, n, k) -> (m)>
#once = affine_map<(m, n, k) -> ()>
#c = affine_map<(m, n, k) -> (m, n)>
func.func @integer_products(%a: tensor<4x8xi8>, %b: tensor<8x3xi8>, %za: tensor<4xi8>, %zb: tensor<i8>, %c: tensor<4x3xi32>) -> (tensor<4x3xi32>, tensor<4x3xi32>) {
  %0 = linalg.generic {indexing_maps = [#a, #b, #row, #once, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b, %za, %zb : tensor<4x8xi8>, tensor<8x3xi8>, tensor<4xi8>, tensor<i8>) outs(%c : tensor<4x3xi32>) {
  ^bb0(%x: i8, %y: i8, %zx: i8, %zy: i8, %acc: i32):
    %1 = arith.extui %x : i8 to i32
    %2 = arith.extsi %y : i8 to i32
    %3 = arith.extui %zx : i8 to i32
    %4 = arith.subi %1, %3 : i32
    %5 = arith.extsi %zy : i8 to i32
    %6 = arith.subi %2, %5 : i32
    %7 = arith.muli %4, %6 : i32
    %8 = arith.addi %acc, %7 : i32
    linalg.yield %8 : i32
  } -> tensor<4x3xi32>
  %c110 = arith.constant 110 : i32
  %9 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<4x8xi8>, tensor<8x3xi8>) outs(%c : tensor<4x3xi32>) {
  ^bb0(%x: i8, %y: i8, %acc: i32):
    %1 = arith.extui %x : i8 to i32
    %2 = arith.extsi %y : i8 to i32
    %3 = arith.subi %1, %c110 : i32
    %4 = arith.muli %3, %2 : i32
    %5 = arith.addi %acc, %4 : i32
    linalg.yield %5 : i32
  } -> tensor<4x3xi32>
  return %0, %9 : tensor<4x3xi32>, tensor<4x3xi32>
}

// -----

// Not an exact 8-bit product: a zero point read along k, or a product that
// widens a 16-bit operand, keeps its loops.
// CHECK-LABEL: func.func @not_integer_products
// CHECK-NOT: kiln.ukernel
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#along_k = affine_map<(m, n, k) -> (k)>
#c = affine_map<(m, n, k) -> (m, n)>
func.func @not_integer_products(%a: tensor<4x8xi8>, %b: tensor<8x3xi8>, %z: tensor<8xi8>, %w: tensor<8x3xi16>, %c: tensor<4x3xi32>) -> (tensor<4x3xi32>, tensor<4x3xi32>) {
  %0 = linalg.generic {indexing_maps = [#a, #b, #along_k, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b, %z : tensor<4x8xi8>, tensor<8x3xi8>, tensor<8xi8>) outs(%c : tensor<4x3xi32>) {
  ^bb0(%x: i8, %y: i8, %zx: i8, %acc: i32):
    %1 = arith.extui %x : i8 to i32
    %2 = arith.extsi %y : i8 to i32
    %3 = arith.extui %zx : i8 to i32
    %4 = arith.subi %1, %3 : i32
    %5 = arith.muli %4, %2 : i32
    %6 = arith.addi %acc, %5 : i32
    linalg.yield %6 : i32
  } -> tensor<4x3xi32>
  %7 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %w : tensor<4x8xi8>, tensor<8x3xi16>) outs(%c : tensor<4x3xi32>) {
  ^bb0(%x: i8, %y: i16, %acc: i32):
    %1 = arith.extui %x : i8 to i32
    %2 = arith.extsi %y : i16 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %acc, %3 : i32
    linalg.yield %4 : i32
  } -> tensor<4x3xi32>
  return %0, %7 : tensor<4x3xi32>, tensor<4x3xi32>
}

// -----

// An 8-bit product from zero whose only user requantizes it (the op
// kiln-cpu-fuse-requantization builds) gets the "requantize" epilogue.
// CHECK-LABEL: func.func @requantized
// CHECK: kiln.ukernel = {epilogue = ["requantize"], isa = "avx512", kernel = "igemm", register_tile = array<i64: 8, 32>}
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#row = affine_map<(m, n) -> (m)>
func.func @requantized(%a: tensor<4x8xi8>, %b: tensor<8x3xi8>, %s: tensor<4xf32>, %o: tensor<4xf32>) -> tensor<4x3xi8> {
  %zero = arith.constant 0 : i32
  %lo = arith.constant 0.0 : f32
  %hi = arith.constant 255.0 : f32
  %e = tensor.empty() : tensor<4x3xi32>
  %init = linalg.fill ins(%zero : i32) outs(%e : tensor<4x3xi32>) -> tensor<4x3xi32>
  %acc = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<4x8xi8>, tensor<8x3xi8>) outs(%init : tensor<4x3xi32>) {
  ^bb0(%x: i8, %y: i8, %out: i32):
    %1 = arith.extsi %x : i8 to i32
    %2 = arith.extui %y : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %out, %3 : i32
    linalg.yield %4 : i32
  } -> tensor<4x3xi32>
  %f = tensor.empty() : tensor<4x3xi8>
  %y = linalg.generic {indexing_maps = [#id, #row, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %s, %o : tensor<4x3xi32>, tensor<4xf32>, tensor<4xf32>) outs(%f : tensor<4x3xi8>) {
  ^bb0(%i: i32, %t: f32, %u: f32, %out: i8):
    %1 = arith.sitofp %i : i32 to f32
    %2 = arith.mulf %1, %t : f32
    %3 = arith.addf %2, %u : f32
    %4 = arith.maximumf %3, %lo : f32
    %5 = arith.minimumf %4, %hi : f32
    %6 = math.roundeven %5 : f32
    %7 = arith.fptoui %6 : f32 to i8
    linalg.yield %7 : i8
  } -> tensor<4x3xi8>
  return %y : tensor<4x3xi8>
}

// -----

// ... and one whose only user dequantizes it plus a bias and a residual
// gets the "sum" epilogue.
// CHECK-LABEL: func.func @dequantized_sum
// CHECK: kiln.ukernel = {epilogue = ["sum"], isa = "avx512", kernel = "igemm", register_tile = array<i64: 8, 32>}
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#row = affine_map<(m, n) -> (m)>
func.func @dequantized_sum(%a: tensor<4x8xi8>, %b: tensor<8x3xi8>, %s: tensor<4xf32>, %o: tensor<4xf32>, %r: tensor<4x3xf32>) -> tensor<4x3xf32> {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<4x3xi32>
  %init = linalg.fill ins(%zero : i32) outs(%e : tensor<4x3xi32>) -> tensor<4x3xi32>
  %acc = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<4x8xi8>, tensor<8x3xi8>) outs(%init : tensor<4x3xi32>) {
  ^bb0(%x: i8, %y: i8, %out: i32):
    %1 = arith.extsi %x : i8 to i32
    %2 = arith.extui %y : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %out, %3 : i32
    linalg.yield %4 : i32
  } -> tensor<4x3xi32>
  %f = tensor.empty() : tensor<4x3xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #row, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %s, %o, %r : tensor<4x3xi32>, tensor<4xf32>, tensor<4xf32>, tensor<4x3xf32>) outs(%f : tensor<4x3xf32>) {
  ^bb0(%i: i32, %t: f32, %u: f32, %v: f32, %out: f32):
    %1 = arith.sitofp %i : i32 to f32
    %2 = arith.mulf %1, %t : f32
    %3 = arith.addf %2, %u : f32
    %4 = arith.addf %3, %v : f32
    linalg.yield %4 : f32
  } -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// An 8-bit product from zero whose only user dequantizes it
// (sitofp(acc) * per-column scale) gets the "dequantize" epilogue.
// CHECK-LABEL: func.func @dequantized
// CHECK: kiln.ukernel = {epilogue = ["dequantize"], isa = "avx512", kernel = "igemm", register_tile = array<i64: 8, 32>}
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#col = affine_map<(m, n) -> (n)>
func.func @dequantized(%a: tensor<4x8xi8>, %b: tensor<8x3xi8>, %s: tensor<3xf32>) -> tensor<4x3xf32> {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<4x3xi32>
  %init = linalg.fill ins(%zero : i32) outs(%e : tensor<4x3xi32>) -> tensor<4x3xi32>
  %acc = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<4x8xi8>, tensor<8x3xi8>) outs(%init : tensor<4x3xi32>) {
  ^bb0(%x: i8, %y: i8, %o: i32):
    %1 = arith.extui %x : i8 to i32
    %2 = arith.extsi %y : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %o, %3 : i32
    linalg.yield %4 : i32
  } -> tensor<4x3xi32>
  %f = tensor.empty() : tensor<4x3xf32>
  %y = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %s : tensor<4x3xi32>, tensor<3xf32>) outs(%f : tensor<4x3xf32>) {
  ^bb0(%i: i32, %t: f32, %o: f32):
    %1 = arith.sitofp %i : i32 to f32
    %2 = arith.mulf %1, %t : f32
    linalg.yield %2 : f32
  } -> tensor<4x3xf32>
  return %y : tensor<4x3xf32>
}

// -----

// Two 8-bit products that share one zero fill (as CSE leaves them) get a
// fill each, so that bufferization need not copy the zeros into each
// accumulator; both then dequantize in the kernel: per row of the [M, N]
// product (a per-output-channel scale broadcast along n) and per column.
// CHECK-LABEL: func.func @shared_fill
// CHECK: %[[E1:.+]] = tensor.empty() : tensor<4x3xi32>
// CHECK: %[[F1:.+]] = linalg.fill ins(%{{.+}} : i32) outs(%[[E1]]
// CHECK: %[[E2:.+]] = tensor.empty() : tensor<4x3xi32>
// CHECK: %[[F2:.+]] = linalg.fill ins(%{{.+}} : i32) outs(%[[E2]]
// CHECK: linalg.generic {{.+}} outs(%[[F2]] : tensor<4x3xi32>) attrs =  {kiln.ukernel = {epilogue = ["dequantize"]
// CHECK: linalg.generic {{.+}} outs(%[[F1]] : tensor<4x3xi32>) attrs =  {kiln.ukernel = {epilogue = ["dequantize"]
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#row = affine_map<(m, n) -> (m, 0)>
#col = affine_map<(m, n) -> (n)>
func.func @shared_fill(%a: tensor<4x8xi8>, %b: tensor<8x3xi8>, %r: tensor<4x1xf32>, %s: tensor<3xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>) {
  %zero = arith.constant 0 : i32
  %e = tensor.empty() : tensor<4x3xi32>
  %init = linalg.fill ins(%zero : i32) outs(%e : tensor<4x3xi32>) -> tensor<4x3xi32>
  %acc = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<4x8xi8>, tensor<8x3xi8>) outs(%init : tensor<4x3xi32>) {
  ^bb0(%x: i8, %y: i8, %o: i32):
    %1 = arith.extsi %x : i8 to i32
    %2 = arith.extui %y : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %o, %3 : i32
    linalg.yield %4 : i32
  } -> tensor<4x3xi32>
  %acc2 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<4x8xi8>, tensor<8x3xi8>) outs(%init : tensor<4x3xi32>) {
  ^bb0(%x: i8, %y: i8, %o: i32):
    %1 = arith.extsi %x : i8 to i32
    %2 = arith.extsi %y : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %o, %3 : i32
    linalg.yield %4 : i32
  } -> tensor<4x3xi32>
  %f = tensor.empty() : tensor<4x3xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %r : tensor<4x3xi32>, tensor<4x1xf32>) outs(%f : tensor<4x3xf32>) {
  ^bb0(%i: i32, %t: f32, %o: f32):
    %1 = arith.sitofp %i : i32 to f32
    %2 = arith.mulf %1, %t : f32
    linalg.yield %2 : f32
  } -> tensor<4x3xf32>
  %y2 = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc2, %s : tensor<4x3xi32>, tensor<3xf32>) outs(%f : tensor<4x3xf32>) {
  ^bb0(%i: i32, %t: f32, %o: f32):
    %1 = arith.sitofp %i : i32 to f32
    %2 = arith.mulf %1, %t : f32
    linalg.yield %2 : f32
  } -> tensor<4x3xf32>
  return %y, %y2 : tensor<4x3xf32>, tensor<4x3xf32>
}

// -----

// A depthwise convolution of a zero-padded input pads implicitly, and its
// output gets an empty tensor of its own (the input's, merged by CSE, stays
// with the producer). A pad with another value stays explicit. The clamp
// after the product, fused, writes the product's result in place.
// CHECK-LABEL: func.func @depthwise_padding
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<1x4x8x8xf32>
// CHECK: linalg.generic {{.*}} outs(%[[EMPTY]]
// CHECK: tensor.pad
// CHECK: %[[OWN:.+]] = tensor.empty() : tensor<1x4x8x8xf32>
// CHECK: linalg.generic {{.*}} ins(%arg2 : tensor<4x1x1xf32>) outs(%[[OWN]]
// CHECK: kiln.ukernel = {epilogue = ["addends", "clamp"], isa = "avx512", kernel = "sdwconv2d", padding = "implicit"
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape
// CHECK: linalg.generic {{.*}} ins(%[[FLAT]] : tensor<1x4x8x8xf32>) outs(%[[FLAT]] : tensor<1x4x8x8xf32>)
// CHECK: arith.minimumf
// CHECK: kiln.ukernel = {isa = "avx512", kernel = "sdwconv2d", register_tile
#in = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#w = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>
#o = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>
#channel = affine_map<(n, c, h, w) -> (c, 0, 0)>
#id4 = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @depthwise_padding(%x: tensor<1x4x8x8xf32>, %w: tensor<4x1x1x3x3xf32>, %bias: tensor<4x1x1xf32>) -> (tensor<1x4x8x8xf32>, tensor<1x4x1x8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f32
  %six = arith.constant 6.0 : f32
  %e = tensor.empty() : tensor<1x4x8x8xf32>
  %copy = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x4x8x8xf32>) outs(%e : tensor<1x4x8x8xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  } -> tensor<1x4x8x8xf32>
  %p = tensor.pad %copy low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x8x8xf32> to tensor<1x4x10x10xf32>
  %pg = tensor.expand_shape %p [[0], [1, 2], [3], [4]] output_shape [1, 4, 1, 10, 10] : tensor<1x4x10x10xf32> into tensor<1x4x1x10x10xf32>
  %b = linalg.generic {indexing_maps = [#channel, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%bias : tensor<4x1x1xf32>) outs(%e : tensor<1x4x8x8xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  } -> tensor<1x4x8x8xf32>
  %bg = tensor.expand_shape %b [[0], [1], [2, 3], [4]] output_shape [1, 4, 1, 8, 8] : tensor<1x4x8x8xf32> into tensor<1x4x1x8x8xf32>
  %conv = linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%pg, %w : tensor<1x4x1x10x10xf32>, tensor<4x1x1x3x3xf32>) outs(%bg : tensor<1x4x1x8x8xf32>) {
  ^bb0(%a: f32, %c: f32, %s: f32):
    %m = arith.mulf %a, %c : f32
    %t = arith.addf %s, %m : f32
    linalg.yield %t : f32
  } -> tensor<1x4x1x8x8xf32>
  %flat = tensor.collapse_shape %conv [[0], [1], [2, 3], [4]] : tensor<1x4x1x8x8xf32> into tensor<1x4x8x8xf32>
  %clip = linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%flat : tensor<1x4x8x8xf32>) outs(%e : tensor<1x4x8x8xf32>) {
  ^bb0(%v: f32, %o: f32):
    %lo = arith.maximumf %v, %zero : f32
    %hi = arith.minimumf %lo, %six : f32
    linalg.yield %hi : f32
  } -> tensor<1x4x8x8xf32>
  %q = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %one : f32
  } : tensor<1x4x8x8xf32> to tensor<1x4x10x10xf32>
  %qg = tensor.expand_shape %q [[0], [1, 2], [3], [4]] output_shape [1, 4, 1, 10, 10] : tensor<1x4x10x10xf32> into tensor<1x4x1x10x10xf32>
  %init = tensor.empty() : tensor<1x4x1x8x8xf32>
  %conv2 = linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%qg, %w : tensor<1x4x1x10x10xf32>, tensor<4x1x1x3x3xf32>) outs(%init : tensor<1x4x1x8x8xf32>) {
  ^bb0(%a: f32, %c: f32, %s: f32):
    %m = arith.mulf %a, %c : f32
    %t = arith.addf %s, %m : f32
    linalg.yield %t : f32
  } -> tensor<1x4x1x8x8xf32>
  return %clip, %conv2 : tensor<1x4x8x8xf32>, tensor<1x4x1x8x8xf32>
}

// -----

// The direct kernel pads implicitly too.
// CHECK-LABEL: func.func @direct_padding
// CHECK: kiln.ukernel = {isa = "avx512", kernel = "sconv2d_direct", pack_weights = "compile-time", padding = "implicit"
// AVX2-LABEL: func.func @direct_padding
// AVX2-NOT: padding
#in = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#w = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>
#o = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>
func.func @direct_padding(%x: tensor<1x3x5x5xf32>, %init: tensor<1x1x4x5x5xf32>) -> tensor<1x1x4x5x5xf32> {
  %zero = arith.constant 0.0 : f32
  %flat = arith.constant dense<0.5> : tensor<4x3x3x3xf32>
  %w = tensor.expand_shape %flat [[0, 1], [2], [3], [4]] output_shape [1, 4, 3, 3, 3] : tensor<4x3x3x3xf32> into tensor<1x4x3x3x3xf32>
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x3x5x5xf32> to tensor<1x3x7x7xf32>
  %pg = tensor.expand_shape %p [[0], [1, 2], [3], [4]] output_shape [1, 1, 3, 7, 7] : tensor<1x3x7x7xf32> into tensor<1x1x3x7x7xf32>
  %0 = linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%pg, %w : tensor<1x1x3x7x7xf32>, tensor<1x4x3x3x3xf32>) outs(%init : tensor<1x1x4x5x5xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<1x1x4x5x5xf32>
  return %0 : tensor<1x1x4x5x5xf32>
}

// -----

// An 8-bit product whose rhs is a convolution's window matrix (kiln.im2col's
// copy, viewed as [N, C*kh*kw, OH*OW]) read by nothing else reads the
// windows in place on AVX-512 (`rhs = "windows"`) when its horizontal
// stride is 1; with stride 2, and on AVX2, the copy stays.
// CHECK-LABEL: func.func @windows
// CHECK: kiln.ukernel = {epilogue = ["dequantize"], isa = "avx512", kernel = "igemm", register_tile = array<i64: 8, 32>, rhs = "windows"}
// CHECK: kiln.ukernel = {epilogue = ["dequantize"], isa = "avx512", kernel = "igemm", register_tile = array<i64: 8, 32>}
// AVX2-LABEL: func.func @windows
// AVX2-NOT: rhs = "windows"
// AVX2: return
#in1 = affine_map<(n, c, i, j, y, x) -> (n, c, y + i, x + j)>
#in2 = affine_map<(n, c, i, j, y, x) -> (n, c, y * 2 + i, x * 2 + j)>
#id6 = affine_map<(n, c, i, j, y, x) -> (n, c, i, j, y, x)>
#wa = affine_map<(b, m, p, k) -> (m, k)>
#wb = affine_map<(b, m, p, k) -> (b, k, p)>
#wc = affine_map<(b, m, p, k) -> (b, m, p)>
#id3 = affine_map<(b, m, p) -> (b, m, p)>
#row = affine_map<(b, m, p) -> (m, 0)>
func.func @windows(%x: tensor<1x2x6x6xi8>, %w: tensor<4x18xi8>, %s: tensor<4x1xf32>) -> (tensor<1x4x16xf32>, tensor<1x4x4xf32>) {
  %zero = arith.constant 0 : i32
  %e1 = tensor.empty() : tensor<1x2x3x3x4x4xi8>
  %copy1 = linalg.generic {indexing_maps = [#in1, #id6], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x2x6x6xi8>) outs(%e1 : tensor<1x2x3x3x4x4xi8>) {
  ^bb0(%v: i8, %o: i8):
    linalg.yield %v : i8
  } -> tensor<1x2x3x3x4x4xi8>
  %cols1 = tensor.collapse_shape %copy1 [[0], [1, 2, 3], [4, 5]] : tensor<1x2x3x3x4x4xi8> into tensor<1x18x16xi8>
  %a1 = tensor.empty() : tensor<1x4x16xi32>
  %f1 = linalg.fill ins(%zero : i32) outs(%a1 : tensor<1x4x16xi32>) -> tensor<1x4x16xi32>
  %p1 = linalg.generic {indexing_maps = [#wa, #wb, #wc], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%w, %cols1 : tensor<4x18xi8>, tensor<1x18x16xi8>) outs(%f1 : tensor<1x4x16xi32>) {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %0 = arith.extsi %a : i8 to i32
    %1 = arith.extui %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %o, %2 : i32
    linalg.yield %3 : i32
  } -> tensor<1x4x16xi32>
  %o1 = tensor.empty() : tensor<1x4x16xf32>
  %y1 = linalg.generic {indexing_maps = [#id3, #row, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%p1, %s : tensor<1x4x16xi32>, tensor<4x1xf32>) outs(%o1 : tensor<1x4x16xf32>) {
  ^bb0(%i: i32, %t: f32, %o: f32):
    %0 = arith.sitofp %i : i32 to f32
    %1 = arith.mulf %0, %t : f32
    linalg.yield %1 : f32
  } -> tensor<1x4x16xf32>
  %e2 = tensor.empty() : tensor<1x2x3x3x2x2xi8>
  %copy2 = linalg.generic {indexing_maps = [#in2, #id6], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : tensor<1x2x6x6xi8>) outs(%e2 : tensor<1x2x3x3x2x2xi8>) {
  ^bb0(%v: i8, %o: i8):
    linalg.yield %v : i8
  } -> tensor<1x2x3x3x2x2xi8>
  %cols2 = tensor.collapse_shape %copy2 [[0], [1, 2, 3], [4, 5]] : tensor<1x2x3x3x2x2xi8> into tensor<1x18x4xi8>
  %a2 = tensor.empty() : tensor<1x4x4xi32>
  %f2 = linalg.fill ins(%zero : i32) outs(%a2 : tensor<1x4x4xi32>) -> tensor<1x4x4xi32>
  %p2 = linalg.generic {indexing_maps = [#wa, #wb, #wc], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%w, %cols2 : tensor<4x18xi8>, tensor<1x18x4xi8>) outs(%f2 : tensor<1x4x4xi32>) {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %0 = arith.extsi %a : i8 to i32
    %1 = arith.extui %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %o, %2 : i32
    linalg.yield %3 : i32
  } -> tensor<1x4x4xi32>
  %o2 = tensor.empty() : tensor<1x4x4xf32>
  %y2 = linalg.generic {indexing_maps = [#id3, #row, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%p2, %s : tensor<1x4x4xi32>, tensor<4x1xf32>) outs(%o2 : tensor<1x4x4xf32>) {
  ^bb0(%i: i32, %t: f32, %o: f32):
    %0 = arith.sitofp %i : i32 to f32
    %1 = arith.mulf %0, %t : f32
    linalg.yield %1 : f32
  } -> tensor<1x4x4xf32>
  return %y1, %y2 : tensor<1x4x16xf32>, tensor<1x4x4xf32>
}

// -----

// An 8-bit product with a constant lhs (a convolution's weights) and a
// variable rhs packs the lhs at compile time; with a constant rhs too, the
// rhs is the one packed.
// CHECK-LABEL: func.func @constant_lhs
// CHECK: kiln.ukernel = {isa = "avx512", kernel = "igemm", pack_lhs = "compile-time", register_tile = array<i64: 8, 32>}
// CHECK: kiln.ukernel = {isa = "avx512", kernel = "igemm", pack_rhs = "compile-time", register_tile = array<i64: 8, 32>}
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
func.func @constant_lhs(%x: tensor<8x3xi8>, %init: tensor<4x3xi32>) -> (tensor<4x3xi32>, tensor<4x3xi32>) {
  %w = arith.constant dense<2> : tensor<4x8xi8>
  %v = arith.constant dense<3> : tensor<8x3xi8>
  %0 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%w, %x : tensor<4x8xi8>, tensor<8x3xi8>) outs(%init : tensor<4x3xi32>) {
  ^bb0(%p: i8, %q: i8, %o: i32):
    %1 = arith.extsi %p : i8 to i32
    %2 = arith.extui %q : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %o, %3 : i32
    linalg.yield %4 : i32
  } -> tensor<4x3xi32>
  %5 = linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%w, %v : tensor<4x8xi8>, tensor<8x3xi8>) outs(%init : tensor<4x3xi32>) {
  ^bb0(%p: i8, %q: i8, %o: i32):
    %1 = arith.extsi %p : i8 to i32
    %2 = arith.extui %q : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %o, %3 : i32
    linalg.yield %4 : i32
  } -> tensor<4x3xi32>
  return %0, %5 : tensor<4x3xi32>, tensor<4x3xi32>
}

// -----

// K^T of the attention kernel (the last two dims swapped): the runtime's
// transpose kernel. Other permutations stay loops.
// CHECK-LABEL: func.func @key_transpose(
// CHECK: linalg.transpose {{.+}} permutation = [0, 1, 3, 2] {kiln.ukernel = {isa = "avx512", kernel = "transpose"
// CHECK: linalg.transpose
// CHECK-NOT: kiln.ukernel
// CHECK: return
func.func @key_transpose(%k: tensor<?x12x?x64xf32>, %init: tensor<?x12x64x?xf32>, %x: tensor<2x3x4xf32>, %y: tensor<3x2x4xf32>) -> (tensor<?x12x64x?xf32>, tensor<3x2x4xf32>) {
  %t = linalg.transpose ins(%k : tensor<?x12x?x64xf32>) outs(%init : tensor<?x12x64x?xf32>) permutation = [0, 1, 3, 2]
  %u = linalg.transpose ins(%x : tensor<2x3x4xf32>) outs(%y : tensor<3x2x4xf32>) permutation = [1, 0, 2]
  return %t, %u : tensor<?x12x64x?xf32>, tensor<3x2x4xf32>
}

// -----

// MaxPool's window max (loops n, c, oh, ow, kh, kw; a [kh][kw] tensor read
// for its shape) gets the pooling kernel: no register tile, no epilogue
// (it takes the max with the -inf fill). A window sum is no such pooling.
// CHECK-LABEL: func.func @max_pool
// CHECK: linalg.generic {{.*}} {kiln.ukernel = {isa = "avx512", kernel = "smaxpool2d"}}
// CHECK: linalg.generic
// CHECK-NOT: kiln.ukernel
#pool_in = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
#pool_window = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
#pool_out = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
func.func @max_pool(%x: tensor<1x4x9x9xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %init = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %w = tensor.empty() : tensor<3x3xf32>
  %max = linalg.generic {indexing_maps = [#pool_in, #pool_window, #pool_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%x, %w : tensor<1x4x9x9xf32>, tensor<3x3xf32>) outs(%init : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %unused: f32, %out: f32):
    %m = arith.maximumf %out, %in : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x4xf32>
  %sum = linalg.generic {indexing_maps = [#pool_in, #pool_window, #pool_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%x, %w : tensor<1x4x9x9xf32>, tensor<3x3xf32>) outs(%init : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %unused: f32, %out: f32):
    %s = arith.addf %out, %in : f32
    linalg.yield %s : f32
  } -> tensor<1x4x4x4xf32>
  return %max, %sum : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>
}

// -----

// Max pooling over the -inf padding of its input (the ONNX node's pads)
// skips the padding itself; over a zero padding (not MaxPool's) it reads
// the padded tensor.
// CHECK-LABEL: func.func @max_pool_padding
// CHECK: tensor.pad
// CHECK: linalg.generic {{.*}} {kiln.ukernel = {isa = "avx512", kernel = "smaxpool2d", padding = "implicit"}}
// CHECK: tensor.pad
// CHECK: linalg.generic {{.*}} {kiln.ukernel = {isa = "avx512", kernel = "smaxpool2d"}}
#ppool_in = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
#ppool_window = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
#ppool_out = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
func.func @max_pool_padding(%x: tensor<1x4x8x8xf32>) -> (tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %ninf : f32
  } : tensor<1x4x8x8xf32> to tensor<1x4x9x9xf32>
  %e = tensor.empty() : tensor<1x4x4x4xf32>
  %init = linalg.fill ins(%ninf : f32) outs(%e : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %w = tensor.empty() : tensor<3x3xf32>
  %max = linalg.generic {indexing_maps = [#ppool_in, #ppool_window, #ppool_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%p, %w : tensor<1x4x9x9xf32>, tensor<3x3xf32>) outs(%init : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %unused: f32, %out: f32):
    %m = arith.maximumf %out, %in : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x4xf32>
  %z = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 0, 0] {
  ^bb0(%i: index, %j: index, %k: index, %l: index):
    tensor.yield %zero : f32
  } : tensor<1x4x8x8xf32> to tensor<1x4x9x9xf32>
  %e2 = tensor.empty() : tensor<1x4x4x4xf32>
  %init2 = linalg.fill ins(%ninf : f32) outs(%e2 : tensor<1x4x4x4xf32>) -> tensor<1x4x4x4xf32>
  %max2 = linalg.generic {indexing_maps = [#ppool_in, #ppool_window, #ppool_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]} ins(%z, %w : tensor<1x4x9x9xf32>, tensor<3x3xf32>) outs(%init2 : tensor<1x4x4x4xf32>) {
  ^bb0(%in: f32, %unused: f32, %out: f32):
    %m = arith.maximumf %out, %in : f32
    linalg.yield %m : f32
  } -> tensor<1x4x4x4xf32>
  return %max, %max2 : tensor<1x4x4x4xf32>, tensor<1x4x4x4xf32>
}
