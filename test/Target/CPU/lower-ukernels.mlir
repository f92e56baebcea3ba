// RUN: kiln-opt %s --split-input-file --kiln-cpu-lower-ukernels --verify-diagnostics | FileCheck %s

// A zero fill right before the product is dropped: the call overwrites
// (accumulate = 0). A is [m][k] with strides (768, 1), B [k][n] (3072, 1).
// The callee is declared once, with every operand as memref<f32> + indices.
// CHECK: func.func private @kiln_ukernel_sgemm_avx512(index, index, index, index, index, memref<f32>, index, index, index, index, index, memref<f32>,
// CHECK-LABEL: func.func @matmul_after_zero_fill
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[A:.+]], %[[AOFF:.+]], %[[AS:.+]]:2, %[[AST:.+]]:2 = memref.extract_strided_metadata %arg0
// CHECK-DAG: %[[B:.+]], %[[BOFF:.+]], %[[BS:.+]]:2, %[[BST:.+]]:2 = memref.extract_strided_metadata %arg1
// CHECK-DAG: %[[C:.+]], %[[COFF:.+]], %[[CS:.+]]:2, %[[CST:.+]]:2 = memref.extract_strided_metadata %arg2
// CHECK-DAG: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[INF:.+]] = arith.constant 0x7F800000 : f32
// CHECK-NOT: linalg.fill
// No epilogue: the addend views are C with zero strides, none is read
// (mask 0), and the clamp is (-inf, +inf).
// CHECK: call @kiln_ukernel_sgemm_avx512(%[[C1]], %[[C1]], %[[CS]]#0, %[[CS]]#1, %[[AS]]#1, %[[A]], %[[AOFF]], %[[C0]], %[[C0]], %[[AST]]#0, %[[AST]]#1, %[[B]], %[[BOFF]], %[[C0]], %[[C0]], %[[BST]]#0, %[[BST]]#1, %[[C]], %[[COFF]], %[[C0]], %[[C0]], %[[CST]]#0, %[[CST]]#1, %[[C0]], %[[C]], %[[COFF]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C]], %[[COFF]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %[[NEGINF]], %[[INF]])
// CHECK-NOT: linalg.matmul
func.func @matmul_after_zero_fill(%a: memref<128x768xf32>, %b: memref<768x3072xf32>, %c: memref<128x3072xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<128x3072xf32>)
  linalg.matmul {kiln.ukernel = {isa = "avx512", kernel = "sgemm", register_tile = array<i64: 8, 32>}}
      ins(%a, %b : memref<128x768xf32>, memref<768x3072xf32>) outs(%c : memref<128x3072xf32>)
  return
}

// -----

// Three batch dims: the outer one becomes an scf.for that moves each
// operand's offset by its stride (0 for the rhs, which lacks that dim); the
// product accumulates into the bias already in C.
// CHECK-LABEL: func.func @three_batch_dims
// CHECK: scf.for %[[I:.+]] =
// CHECK: arith.muli %[[I]]
// CHECK: call @kiln_ukernel_sgemm_avx2(
// CHECK-SAME: %c1{{.*}}) : (index
#lhs = affine_map<(b0, b1, b2, m, n, k) -> (b0, b1, b2, m, k)>
#rhs = affine_map<(b0, b1, b2, m, n, k) -> (b1, b2, k, n)>
#out = affine_map<(b0, b1, b2, m, n, k) -> (b0, b1, b2, m, n)>
func.func @three_batch_dims(%a: memref<2x3x4x5x6xf32>, %b: memref<3x4x6x7xf32>, %c: memref<2x3x4x5x7xf32>) {
  linalg.generic {indexing_maps = [#lhs, #rhs, #out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<2x3x4x5x6xf32>, memref<3x4x6x7xf32>) outs(%c : memref<2x3x4x5x7xf32>)
      attrs = {kiln.ukernel = {isa = "avx2", kernel = "sgemm", register_tile = array<i64: 6, 16>}} {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The convolution passes sizes (the 3x3 window as constants), stride 2 /
// dilation 3 in width, and every stride of the three 5-D buffers.
// CHECK-LABEL: func.func @conv
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG: %[[C3:.+]] = arith.constant 3 : index
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK: call @kiln_ukernel_sconv2d_generic(%{{.+}}#0, %{{.+}}#1, %{{.+}}#2, %{{.+}}#2, %{{.+}}#3, %{{.+}}#4, %[[C3]], %[[C3]], %[[C1]], %[[C2]], %[[C1]], %[[C3]],
#in = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow * 2 + kw * 3)>
#w = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>
#o = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>
func.func @conv(%x: memref<1x2x3x9x15xf32>, %w: memref<2x5x3x3x3xf32>, %out: memref<1x2x5x7x5xf32>) {
  linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : memref<1x2x3x9x15xf32>, memref<2x5x3x3x3xf32>) outs(%out : memref<1x2x5x7x5xf32>)
      attrs = {kiln.ukernel = {isa = "generic", kernel = "sconv2d", register_tile = array<i64: 4, 16>}} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A constant rhs that the strategy asked to pack (through a reshape, which
// keeps the data's order) becomes a new global of 16-column panels for the
// generic kernel: [1 panel][3 rows of k][16], zero-padded; the original
// global, now unread, is gone.
// CHECK-NOT: memref.global "private" constant @weights :
// CHECK: memref.global "private" constant @weights_packed : memref<1x3x16xf32> = dense_resource<weights_packed> {alignment = 64 : i64}
// CHECK-NOT: memref.global "private" constant @weights :
// CHECK-LABEL: func.func @packed_rhs
// CHECK: %[[PACKED:.+]] = memref.get_global @weights_packed
// CHECK: %[[BASE:.+]], %[[OFF:.+]], %{{.+}}:3, %{{.+}}:3 = memref.extract_strided_metadata %[[PACKED]]
// CHECK: call @kiln_ukernel_sgemm_packed_generic({{.*}}, %[[BASE]], %[[OFF]], %c16, {{.*}})
// CHECK: weights_packed: "0x04000000
// CHECK-SAME: 0000803F000000400000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000040400000804000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000A0400000C040
memref.global "private" constant @weights : memref<6xf32> = dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]>
func.func @packed_rhs(%a: memref<5x3xf32>, %c: memref<5x2xf32>) {
  %w = memref.get_global @weights : memref<6xf32>
  %b = memref.expand_shape %w [[0, 1]] output_shape [3, 2] : memref<6xf32> into memref<3x2xf32>
  linalg.matmul {kiln.ukernel = {isa = "generic", kernel = "sgemm", pack_rhs = "compile-time", register_tile = array<i64: 4, 16>}}
      ins(%a, %b : memref<5x3xf32>, memref<3x2xf32>) outs(%c : memref<5x2xf32>)
  return
}

// -----

// Two products packing the same constant each get their own global, the
// second renamed (the packings could differ with the register tile).
// CHECK-DAG: memref.global "private" constant @shared_packed : memref<1x3x16xf32>
// CHECK-DAG: memref.global "private" constant @shared_packed_0 : memref<1x3x16xf32>
// CHECK-LABEL: func.func @two_products_one_constant
// CHECK: memref.get_global @shared_packed
// CHECK: memref.get_global @shared_packed
memref.global "private" constant @shared : memref<3x2xf32> = dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]>
func.func @two_products_one_constant(%a: memref<5x3xf32>, %c: memref<5x2xf32>, %d: memref<5x2xf32>) {
  %w = memref.get_global @shared : memref<3x2xf32>
  linalg.matmul {kiln.ukernel = {isa = "generic", kernel = "sgemm", pack_rhs = "compile-time", register_tile = array<i64: 4, 16>}}
      ins(%a, %w : memref<5x3xf32>, memref<3x2xf32>) outs(%c : memref<5x2xf32>)
  linalg.matmul {kiln.ukernel = {isa = "generic", kernel = "sgemm", pack_rhs = "compile-time", register_tile = array<i64: 4, 16>}}
      ins(%a, %w : memref<5x3xf32>, memref<3x2xf32>) outs(%d : memref<5x2xf32>)
  return
}

// -----

// Constant convolution weights [g=1][m=5][c=1][kh=1][kw=2] are packed for the
// generic kernel's tile height 4: [1 group][2 panels][2 = c*kh*kw][4]:
// channels 0-3 at tap 0 (1 3 5 7), at tap 1 (2 4 6 8), then channel 4 and
// zeros (9 0 0 0, 10 0 0 0).
// CHECK: memref.global "private" constant @filters_packed : memref<1x2x2x4xf32>
// CHECK-LABEL: func.func @packed_weights
// CHECK: call @kiln_ukernel_sconv2d_packed_generic({{.*}}, %c4, {{.*}})
// CHECK: filters_packed: "0x04000000
// CHECK-SAME: 0000803F000040400000A0400000E04000000040000080400000C040000000410000104100000000000000000000000000002041000000000000000000000000"
memref.global "private" constant @filters : memref<10xf32> = dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]>
#in = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#w = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>
#o = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>
func.func @packed_weights(%x: memref<1x1x1x4x4xf32>, %out: memref<1x1x5x4x3xf32>) {
  %flat = memref.get_global @filters : memref<10xf32>
  %w = memref.expand_shape %flat [[0, 1, 2, 3, 4]] output_shape [1, 5, 1, 1, 2] : memref<10xf32> into memref<1x5x1x1x2xf32>
  linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : memref<1x1x1x4x4xf32>, memref<1x5x1x1x2xf32>) outs(%out : memref<1x1x5x4x3xf32>)
      attrs = {kiln.ukernel = {isa = "generic", kernel = "sconv2d", pack_weights = "compile-time", register_tile = array<i64: 4, 16>}} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The direct kernel's weights are packed for its vector of 16 output
// channels: [1 group][1 panel][2 = c*kh*kw][16], channels 5-15 zero.
// CHECK: memref.global "private" constant @direct_filters_packed : memref<1x1x2x16xf32>
// CHECK-LABEL: func.func @direct_weights
// CHECK: call @kiln_ukernel_sconv2d_direct_avx512({{.*}}, %c16, {{.*}})
// CHECK: direct_filters_packed: "0x04000000
// CHECK-SAME: 0000803F000040400000A0400000E04000001041000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000040000080400000C04000000041000020410000000000000000000000000000000000000000000000000000000000000000000000000000000000000000"
memref.global "private" constant @direct_filters : memref<10xf32> = dense<[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0]>
#in = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#w = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>
#o = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>
func.func @direct_weights(%x: memref<1x1x1x4x4xf32>, %out: memref<1x1x5x4x3xf32>) {
  %flat = memref.get_global @direct_filters : memref<10xf32>
  %w = memref.expand_shape %flat [[0, 1, 2, 3, 4]] output_shape [1, 5, 1, 1, 2] : memref<10xf32> into memref<1x5x1x1x2xf32>
  linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : memref<1x1x1x4x4xf32>, memref<1x5x1x1x2xf32>) outs(%out : memref<1x1x5x4x3xf32>)
      attrs = {kiln.ukernel = {isa = "avx512", kernel = "sconv2d_direct", pack_weights = "compile-time", register_tile = array<i64: 16, 14>}} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A direct kernel with weights that are not a constant is an error.
func.func @direct_needs_constant(%x: memref<1x1x1x4x4xf32>, %w: memref<1x5x1x1x2xf32>, %out: memref<1x1x5x4x3xf32>) {
  // expected-error @+1 {{is marked for the sconv2d_direct microkernel but its weights are not a constant}}
  linalg.generic {indexing_maps = [affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>, affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>, affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : memref<1x1x1x4x4xf32>, memref<1x5x1x1x2xf32>) outs(%out : memref<1x1x5x4x3xf32>)
      attrs = {kiln.ukernel = {isa = "avx512", kernel = "sconv2d_direct", pack_weights = "compile-time", register_tile = array<i64: 16, 14>}} {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %p = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// The strategy fused the bias fill and the ReLU: the kernel writes the
// ReLU's output directly (accumulate 0), reading the bias as addend d along
// n (strides 0, 0, 0 and the bias's own), clamped to [0, +inf). The fill,
// the ReLU and the accumulator buffer are gone.
// CHECK-LABEL: func.func @bias_relu
// CHECK-NOT: memref.alloc
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[INF:.+]] = arith.constant 0x7F800000 : f32
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[BIAS:.+]], %[[BOFF:.+]], %{{.+}}, %[[BST:.+]] = memref.extract_strided_metadata %arg2
// CHECK-NOT: linalg.generic
// CHECK: call @kiln_ukernel_sgemm_generic({{.*}}, %[[OUT:base_buffer_[0-9]+]], %[[OOFF:offset_[0-9]+]], %[[C0]], %[[C0]], %{{.+}}#0, %{{.+}}#1, %[[C0]], %[[BIAS]], %[[BOFF]], %[[C0]], %[[C0]], %[[C0]], %[[BST]], %[[OUT]], %[[OOFF]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %c1, %[[ZERO]], %[[INF]])
// CHECK-NOT: linalg.generic
// CHECK-NOT: memref.dealloc
#row = affine_map<(m, n) -> (n)>
#id = affine_map<(m, n) -> (m, n)>
func.func @bias_relu(%a: memref<8x16xf32>, %b: memref<16x32xf32>, %bias: memref<32xf32>, %out: memref<8x32xf32>) {
  %acc = memref.alloc() : memref<8x32xf32>
  linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<32xf32>) outs(%acc : memref<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  linalg.matmul {kiln.ukernel = {epilogue = ["addends", "clamp"], isa = "generic", kernel = "sgemm", register_tile = array<i64: 4, 16>}}
      ins(%a, %b : memref<8x16xf32>, memref<16x32xf32>) outs(%acc : memref<8x32xf32>)
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc : memref<8x32xf32>) outs(%out : memref<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  }
  memref.dealloc %acc : memref<8x32xf32>
  return
}

// -----

// A convolution whose accumulator is viewed grouped (expand_shape), starts
// as bias + residual and goes through a Clip into the interior of a padded
// buffer, zero-filled in between: the call moves after that fill, writes
// the padded buffer's interior, reads both addends (mask 3) and clamps to
// [0, 6].
// CHECK-LABEL: func.func @conv_bias_residual_clip
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-DAG: %[[SIX:.+]] = arith.constant 6.000000e+00 : f32
// CHECK: linalg.fill
// CHECK: %[[SUB:.+]] = memref.subview %arg4
// CHECK: %[[PAD:.+]], %[[POFF:.+]], %{{.+}}:4, %{{.+}}:4 = memref.extract_strided_metadata %[[SUB]]
// CHECK: call @kiln_ukernel_sconv2d_generic({{.*}}, %[[PAD]], %[[POFF]], {{.*}}, %c3, %[[ZERO]], %[[SIX]])
// CHECK-NOT: linalg.generic
#in = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#w = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>
#o = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>
#channel = affine_map<(n, c, h, w) -> (c, 0, 0)>
#id4 = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @conv_bias_residual_clip(%x: memref<1x1x3x6x6xf32>, %w: memref<1x4x3x3x3xf32>, %bias: memref<4x1x1xf32>, %res: memref<1x4x4x4xf32>, %padded: memref<1x4x6x6xf32>) {
  %acc = memref.alloc() : memref<1x4x4x4xf32>
  linalg.generic {indexing_maps = [#channel, #id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%bias, %res : memref<4x1x1xf32>, memref<1x4x4x4xf32>) outs(%acc : memref<1x4x4x4xf32>) {
  ^bb0(%b: f32, %r: f32, %o: f32):
    %s = arith.addf %b, %r : f32
    linalg.yield %s : f32
  }
  %view = memref.expand_shape %acc [[0], [1, 2], [3], [4]] output_shape [1, 1, 4, 4, 4] : memref<1x4x4x4xf32> into memref<1x1x4x4x4xf32>
  linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%x, %w : memref<1x1x3x6x6xf32>, memref<1x4x3x3x3xf32>) outs(%view : memref<1x1x4x4x4xf32>)
      attrs = {kiln.ukernel = {epilogue = ["addends", "clamp"], isa = "generic", kernel = "sconv2d", register_tile = array<i64: 4, 16>}} {
  ^bb0(%a: f32, %b: f32, %s: f32):
    %p = arith.mulf %a, %b : f32
    %t = arith.addf %s, %p : f32
    linalg.yield %t : f32
  }
  %zero = arith.constant 0.0 : f32
  %six = arith.constant 6.0 : f32
  linalg.fill ins(%zero : f32) outs(%padded : memref<1x4x6x6xf32>)
  %sub = memref.subview %padded[0, 0, 1, 1] [1, 4, 4, 4] [1, 1, 1, 1] : memref<1x4x6x6xf32> to memref<1x4x4x4xf32, strided<[144, 36, 6, 1], offset: 7>>
  linalg.generic {indexing_maps = [#id4, #id4], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%acc : memref<1x4x4x4xf32>) outs(%sub : memref<1x4x4x4xf32, strided<[144, 36, 6, 1], offset: 7>>) {
  ^bb0(%v: f32, %o: f32):
    %lt = arith.cmpf olt, %v, %zero : f32
    %y = arith.select %lt, %zero, %v : f32
    %gt = arith.cmpf ogt, %y, %six : f32
    %z = arith.select %gt, %six, %y : f32
    linalg.yield %z : f32
  }
  memref.dealloc %acc : memref<1x4x4x4xf32>
  return
}

// -----

// The accumulator is also copied out after the ReLU: the bias still goes to
// the epilogue, the ReLU stays a separate op reading the product.
// CHECK-LABEL: func.func @accumulator_read_again
// CHECK: %[[ACC:.+]] = memref.alloc
// CHECK: %[[BASE:.+]], %{{.+}}, %{{.+}}:2, %{{.+}}:2 = memref.extract_strided_metadata %[[ACC]]
// CHECK: call @kiln_ukernel_sgemm_generic({{.*}}, %[[BASE]], {{.*}}, %c1, %{{.+}}, %{{.+}})
// CHECK: linalg.generic
// CHECK: memref.copy %[[ACC]]
#row = affine_map<(m, n) -> (n)>
#id = affine_map<(m, n) -> (m, n)>
func.func @accumulator_read_again(%a: memref<8x16xf32>, %b: memref<16x32xf32>, %bias: memref<32xf32>, %out: memref<8x32xf32>, %copy: memref<8x32xf32>) {
  %acc = memref.alloc() : memref<8x32xf32>
  linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<32xf32>) outs(%acc : memref<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  linalg.matmul {kiln.ukernel = {epilogue = ["addends", "clamp"], isa = "generic", kernel = "sgemm", register_tile = array<i64: 4, 16>}}
      ins(%a, %b : memref<8x16xf32>, memref<16x32xf32>) outs(%acc : memref<8x32xf32>)
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc : memref<8x32xf32>) outs(%out : memref<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  }
  memref.copy %acc, %copy : memref<8x32xf32> to memref<8x32xf32>
  memref.dealloc %acc : memref<8x32xf32>
  return
}

// -----

func.func @not_a_product(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) {
  // expected-error @+1 {{is marked for the sgemm microkernel but is not a matrix product}}
  linalg.elementwise kind=#linalg.elementwise_kind<add> {kiln.ukernel = {isa = "avx512", kernel = "sgemm"}}
      ins(%a, %b : memref<4x4xf32>, memref<4x4xf32>) outs(%c : memref<4x4xf32>)
  return
}

// -----

func.func @unknown_kernel(%a: memref<4x4xf32>, %b: memref<4x4xf32>, %c: memref<4x4xf32>) {
  // expected-error @+1 {{has a malformed 'kiln.ukernel' attribute}}
  linalg.matmul {kiln.ukernel = {isa = "sse9", kernel = "sgemm"}}
      ins(%a, %b : memref<4x4xf32>, memref<4x4xf32>) outs(%c : memref<4x4xf32>)
  return
}

// -----

func.func @on_tensors(%a: tensor<4x4xf32>, %b: tensor<4x4xf32>, %c: tensor<4x4xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{must be bufferized before kiln-cpu-lower-ukernels}}
  %0 = linalg.matmul {kiln.ukernel = {isa = "avx512", kernel = "sgemm"}}
      ins(%a, %b : tensor<4x4xf32>, tensor<4x4xf32>) outs(%c : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

// The igemm kernel: the zero fill is dropped (accumulate = 0, last); A is
// a matrix (its packing 0, 0, 0 after its strides); after C come the zero
// point views (za per row: its stride along m; zb is no
// input: A's base, stride 0), the constant zero points (zb = -7, folded
// into the body), the signedness of A (unsigned) and B (signed) and the
// mask of views read (za only).
// CHECK: func.func private @kiln_ukernel_igemm_avx512(index, index, index, index, index, memref<i8>, index, index, index, index, index, index, index, index, memref<i8>, index, index, index, index, index, memref<i32>, index, index, index, index, index, memref<i8>, index, index, memref<i8>, index, index, index, index, index, index, index, index)
// CHECK-LABEL: func.func @igemm_zero_points
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[M7:.+]] = arith.constant -7 : index
// CHECK-DAG: %[[A:.+]], %[[AOFF:.+]], %[[AS:.+]]:2, %[[AST:.+]]:2 = memref.extract_strided_metadata %arg0
// CHECK-DAG: %[[B:.+]], %[[BOFF:.+]], %[[BS:.+]]:2, %[[BST:.+]]:2 = memref.extract_strided_metadata %arg1
// CHECK-DAG: %[[C:.+]], %[[COFF:.+]], %[[CS:.+]]:2, %[[CST:.+]]:2 = memref.extract_strided_metadata %arg3
// CHECK-DAG: %[[Z:.+]], %[[ZOFF:.+]], %[[ZS:.+]], %[[ZST:.+]] = memref.extract_strided_metadata %arg2
// CHECK-NOT: linalg.fill
// CHECK: call @kiln_ukernel_igemm_avx512(%[[C1]], %[[C1]], %[[CS]]#0, %[[CS]]#1, %[[AS]]#1, %[[A]], %[[AOFF]], %[[C0]], %[[C0]], %[[AST]]#0, %[[AST]]#1, %[[C0]], %[[C0]], %[[C0]], %[[B]], %[[BOFF]], %[[C0]], %[[C0]], %[[BST]]#0, %[[BST]]#1, %[[C]], %[[COFF]], %[[C0]], %[[C0]], %[[CST]]#0, %[[CST]]#1, %[[Z]], %[[ZOFF]], %[[ZST]], %[[A]], %[[AOFF]], %[[C0]], %[[C0]], %[[M7]], %[[C1]], %[[C0]], %[[C1]], %[[C0]])
// CHECK-NOT: linalg.generic
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#row = affine_map<(m, n, k) -> (m)>
#c = affine_map<(m, n, k) -> (m, n)>
func.func @igemm_zero_points(%a: memref<4x8xi8>, %b: memref<8x3xi8>, %za: memref<4xi8>, %c: memref<4x3xi32>) {
  %zero = arith.constant 0 : i32
  %c7 = arith.constant -7 : i32
  linalg.fill ins(%zero : i32) outs(%c : memref<4x3xi32>)
  linalg.generic {indexing_maps = [#a, #b, #row, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b, %za : memref<4x8xi8>, memref<8x3xi8>, memref<4xi8>) outs(%c : memref<4x3xi32>)
      attrs = {kiln.ukernel = {isa = "avx512", kernel = "igemm", register_tile = array<i64: 8, 32>}} {
  ^bb0(%x: i8, %y: i8, %zx: i8, %acc: i32):
    %1 = arith.extui %x : i8 to i32
    %2 = arith.extsi %y : i8 to i32
    %3 = arith.extui %zx : i8 to i32
    %4 = arith.subi %1, %3 : i32
    %5 = arith.subi %2, %c7 : i32
    %6 = arith.muli %4, %5 : i32
    %7 = arith.addi %acc, %6 : i32
    linalg.yield %7 : i32
  }
  return
}

// -----

// The dequantizing op after an 8-bit product: the kernel stores its f32
// output (the scaled entry point, at the op's place, with the scale view
// and its strides along m and n after the flags: 0 and the view's stride
// for a scale per column); the op, the zero fill and the i32 accumulator
// are gone.
// CHECK-LABEL: func.func @igemm_dequantized
// CHECK-DAG: %[[O:.+]], %[[OOFF:.+]], %[[OS:.+]]:2, %[[OST:.+]]:2 = memref.extract_strided_metadata %arg3
// CHECK-DAG: %[[S:.+]], %[[SOFF:.+]], %[[SS:.+]], %[[SST:.+]] = memref.extract_strided_metadata %arg2
// CHECK-NOT: memref.alloc
// CHECK-NOT: linalg.fill
// CHECK: call @kiln_ukernel_igemm_scaled_avx512({{.+}}, %[[O]], %[[OOFF]], %{{.+}}, %{{.+}}, %[[OST]]#0, %[[OST]]#1, {{.+}}, %[[S]], %[[SOFF]], %c0, %[[SST]])
// CHECK-NOT: linalg.generic
// CHECK-NOT: memref.dealloc
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#col = affine_map<(m, n) -> (n)>
func.func @igemm_dequantized(%a: memref<4x8xi8>, %b: memref<8x3xi8>, %s: memref<3xf32>, %out: memref<4x3xf32>) {
  %zero = arith.constant 0 : i32
  %acc = memref.alloc() : memref<4x3xi32>
  linalg.fill ins(%zero : i32) outs(%acc : memref<4x3xi32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xi8>, memref<8x3xi8>) outs(%acc : memref<4x3xi32>)
      attrs = {kiln.ukernel = {epilogue = ["dequantize"], isa = "avx512", kernel = "igemm", register_tile = array<i64: 8, 32>}} {
  ^bb0(%x: i8, %y: i8, %o: i32):
    %1 = arith.extui %x : i8 to i32
    %2 = arith.extsi %y : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %o, %3 : i32
    linalg.yield %4 : i32
  }
  linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %s : memref<4x3xi32>, memref<3xf32>) outs(%out : memref<4x3xf32>) {
  ^bb0(%i: i32, %t: f32, %o: f32):
    %1 = arith.sitofp %i : i32 to f32
    %2 = arith.mulf %1, %t : f32
    linalg.yield %2 : f32
  }
  memref.dealloc %acc : memref<4x3xi32>
  return
}

// -----

// The requantizing op after an 8-bit product: the kernel stores its bytes
// (the requantized entry point: after the scale view and its strides, the
// offset view and its strides, here one value (rank 0) and one per row,
// then the integer bounds); the op, the fill and the accumulator are gone.
// CHECK-LABEL: func.func @igemm_requantized
// CHECK-DAG: %[[O:.+]], %[[OOFF:.+]], %[[OS:.+]]:2, %[[OST:.+]]:2 = memref.extract_strided_metadata %arg4
// CHECK-DAG: %[[S:.+]], %[[SOFF:.+]] = memref.extract_strided_metadata %arg2
// CHECK-DAG: %[[F:.+]], %[[FOFF:.+]], %[[FS:.+]], %[[FST:.+]] = memref.extract_strided_metadata %arg3
// CHECK-DAG: %[[LO:.+]] = arith.constant 3 : index
// CHECK-DAG: %[[HI:.+]] = arith.constant 255 : index
// CHECK-NOT: memref.alloc
// CHECK-NOT: linalg.fill
// CHECK: call @kiln_ukernel_igemm_requantized_avx512({{.+}}, %[[O]], %[[OOFF]], %{{.+}}, %{{.+}}, %[[OST]]#0, %[[OST]]#1, {{.+}}, %[[S]], %[[SOFF]], %c0, %c0, %[[F]], %[[FOFF]], %[[FST]], %c0, %[[LO]], %[[HI]])
// CHECK-NOT: linalg.generic
// CHECK-NOT: memref.dealloc
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#one = affine_map<(m, n) -> ()>
#row = affine_map<(m, n) -> (m)>
func.func @igemm_requantized(%a: memref<4x8xi8>, %b: memref<8x3xi8>, %s: memref<f32>, %o: memref<4xf32>, %out: memref<4x3xi8>) {
  %zero = arith.constant 0 : i32
  %lo = arith.constant 3.0 : f32
  %hi = arith.constant 255.0 : f32
  %acc = memref.alloc() : memref<4x3xi32>
  linalg.fill ins(%zero : i32) outs(%acc : memref<4x3xi32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xi8>, memref<8x3xi8>) outs(%acc : memref<4x3xi32>)
      attrs = {kiln.ukernel = {epilogue = ["requantize"], isa = "avx512", kernel = "igemm", register_tile = array<i64: 8, 32>}} {
  ^bb0(%x: i8, %y: i8, %r: i32):
    %1 = arith.extsi %x : i8 to i32
    %2 = arith.extui %y : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %r, %3 : i32
    linalg.yield %4 : i32
  }
  linalg.generic {indexing_maps = [#id, #one, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %s, %o : memref<4x3xi32>, memref<f32>, memref<4xf32>) outs(%out : memref<4x3xi8>) {
  ^bb0(%i: i32, %t: f32, %u: f32, %r: i8):
    %1 = arith.sitofp %i : i32 to f32
    %2 = arith.mulf %1, %t : f32
    %3 = arith.addf %2, %u : f32
    %4 = arith.maximumf %3, %lo : f32
    %5 = arith.minimumf %4, %hi : f32
    %6 = math.roundeven %5 : f32
    %7 = arith.fptoui %6 : f32 to i8
    linalg.yield %7 : i8
  }
  memref.dealloc %acc : memref<4x3xi32>
  return
}

// -----

// The dequantized sum: after the scale view and its strides, the offset
// view and its strides, then the residual view with its strides along the
// two batch dims, m and n (rows 5 apart here), and 1 for its ReLU.
// CHECK-LABEL: func.func @igemm_dequantized_sum
// CHECK-DAG: %[[R:.+]], %[[ROFF:.+]], %[[RS:.+]]:2, %[[RST:.+]]:2 = memref.extract_strided_metadata %arg5
// CHECK: call @kiln_ukernel_igemm_scaled_sum_avx512({{.+}}, %[[R]], %[[ROFF]], %c0, %c0, %[[RST]]#0, %[[RST]]#1, %c1)
// CHECK-NOT: linalg.generic
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#row = affine_map<(m, n) -> (m)>
func.func @igemm_dequantized_sum(%a: memref<4x8xi8>, %b: memref<8x3xi8>, %s: memref<4xf32>, %o: memref<4xf32>, %out: memref<4x3xf32>, %res: memref<4x3xf32, strided<[5, 1]>>) {
  %zero = arith.constant 0 : i32
  %fzero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<4x3xi32>
  linalg.fill ins(%zero : i32) outs(%acc : memref<4x3xi32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xi8>, memref<8x3xi8>) outs(%acc : memref<4x3xi32>)
      attrs = {kiln.ukernel = {epilogue = ["sum"], isa = "avx512", kernel = "igemm", register_tile = array<i64: 8, 32>}} {
  ^bb0(%x: i8, %y: i8, %r: i32):
    %1 = arith.extsi %x : i8 to i32
    %2 = arith.extui %y : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %r, %3 : i32
    linalg.yield %4 : i32
  }
  linalg.generic {indexing_maps = [#id, #row, #row, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %s, %o, %res : memref<4x3xi32>, memref<4xf32>, memref<4xf32>, memref<4x3xf32, strided<[5, 1]>>) outs(%out : memref<4x3xf32>) {
  ^bb0(%i: i32, %t: f32, %u: f32, %v: f32, %r: f32):
    %1 = arith.sitofp %i : i32 to f32
    %2 = arith.mulf %1, %t : f32
    %3 = arith.addf %2, %u : f32
    %4 = arith.maximumf %v, %fzero : f32
    %5 = arith.addf %3, %4 : f32
    linalg.yield %5 : f32
  }
  memref.dealloc %acc : memref<4x3xi32>
  return
}

// -----

// A scale per row (an output channel's, broadcast along n): its stride
// along m, then 0 along n.
// CHECK-LABEL: func.func @igemm_dequantized_rows
// CHECK-DAG: %[[S:.+]], %[[SOFF:.+]], %[[SS:.+]]:2, %[[SST:.+]]:2 = memref.extract_strided_metadata %arg2
// CHECK: call @kiln_ukernel_igemm_scaled_avx512({{.+}}, %[[S]], %[[SOFF]], %[[SST]]#0, %c0)
// CHECK-NOT: linalg.generic
#a = affine_map<(m, n, k) -> (m, k)>
#b = affine_map<(m, n, k) -> (k, n)>
#c = affine_map<(m, n, k) -> (m, n)>
#id = affine_map<(m, n) -> (m, n)>
#row = affine_map<(m, n) -> (m, 0)>
func.func @igemm_dequantized_rows(%a: memref<4x8xi8>, %b: memref<8x3xi8>, %s: memref<4x1xf32>, %out: memref<4x3xf32>) {
  %zero = arith.constant 0 : i32
  %acc = memref.alloc() : memref<4x3xi32>
  linalg.fill ins(%zero : i32) outs(%acc : memref<4x3xi32>)
  linalg.generic {indexing_maps = [#a, #b, #c], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xi8>, memref<8x3xi8>) outs(%acc : memref<4x3xi32>)
      attrs = {kiln.ukernel = {epilogue = ["dequantize"], isa = "avx512", kernel = "igemm", register_tile = array<i64: 8, 32>}} {
  ^bb0(%x: i8, %y: i8, %o: i32):
    %1 = arith.extsi %x : i8 to i32
    %2 = arith.extui %y : i8 to i32
    %3 = arith.muli %1, %2 : i32
    %4 = arith.addi %o, %3 : i32
    linalg.yield %4 : i32
  }
  linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc, %s : memref<4x3xi32>, memref<4x1xf32>) outs(%out : memref<4x3xf32>) {
  ^bb0(%i: i32, %t: f32, %o: f32):
    %1 = arith.sitofp %i : i32 to f32
    %2 = arith.mulf %1, %t : f32
    linalg.yield %2 : f32
  }
  memref.dealloc %acc : memref<4x3xi32>
  return
}

// -----

// A ReLU that writes the accumulator in place (what kiln-cpu-select-kernels
// makes a fused clamp do): the kernel stores the clamped values into the
// accumulator, which a later op still reads.
// CHECK-LABEL: func.func @clamp_in_place
// CHECK: %[[ACC:.+]] = memref.alloc
// CHECK: memref.extract_strided_metadata %[[ACC]]
// CHECK: %[[BASE:.+]], %{{.+}}, %{{.+}}:2, %{{.+}}:2 = memref.extract_strided_metadata %[[ACC]]
// CHECK: call @kiln_ukernel_sgemm_generic({{.*}}, %[[BASE]], {{.*}}, %c1, %{{.+}}, %{{.+}})
// CHECK-NOT: linalg.generic
// CHECK: memref.copy %[[ACC]]
#row = affine_map<(m, n) -> (n)>
#id = affine_map<(m, n) -> (m, n)>
func.func @clamp_in_place(%a: memref<8x16xf32>, %b: memref<16x32xf32>, %bias: memref<32xf32>, %copy: memref<8x32xf32>) {
  %acc = memref.alloc() : memref<8x32xf32>
  linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<32xf32>) outs(%acc : memref<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  linalg.matmul {kiln.ukernel = {epilogue = ["addends", "clamp"], isa = "generic", kernel = "sgemm", register_tile = array<i64: 4, 16>}}
      ins(%a, %b : memref<8x16xf32>, memref<16x32xf32>) outs(%acc : memref<8x32xf32>)
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc : memref<8x32xf32>) outs(%acc : memref<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  }
  memref.copy %acc, %copy : memref<8x32xf32> to memref<8x32xf32>
  memref.dealloc %acc : memref<8x32xf32>
  return
}

// -----

// Bufferization handed the accumulator to a later product too: the fused
// kernel never writes it, and the next op to touch it overwrites it all
// (the later bias fill), so the ReLU still goes into the epilogue. Had the
// later op read it first, the ReLU would have stayed (see
// @accumulator_read_again).
// CHECK-LABEL: func.func @accumulator_reused_later
// CHECK: call @kiln_ukernel_sgemm_generic
// CHECK-NOT: arith.maximumf
// CHECK: linalg.generic
// CHECK: linalg.matmul
#row = affine_map<(m, n) -> (n)>
#id = affine_map<(m, n) -> (m, n)>
func.func @accumulator_reused_later(%a: memref<8x16xf32>, %b: memref<16x32xf32>, %b2: memref<32x32xf32>, %bias: memref<32xf32>, %out: memref<8x32xf32>, %out2: memref<8x32xf32>) {
  %acc = memref.alloc() : memref<8x32xf32>
  linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<32xf32>) outs(%acc : memref<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  linalg.matmul {kiln.ukernel = {epilogue = ["addends", "clamp"], isa = "generic", kernel = "sgemm", register_tile = array<i64: 4, 16>}}
      ins(%a, %b : memref<8x16xf32>, memref<16x32xf32>) outs(%acc : memref<8x32xf32>)
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%acc : memref<8x32xf32>) outs(%out : memref<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %y = arith.maximumf %x, %zero : f32
    linalg.yield %y : f32
  }
  linalg.generic {indexing_maps = [#row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%bias : memref<32xf32>) outs(%acc : memref<8x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  linalg.matmul ins(%out, %b2 : memref<8x32xf32>, memref<32x32xf32>) outs(%acc : memref<8x32xf32>)
  memref.copy %acc, %out2 : memref<8x32xf32> to memref<8x32xf32>
  memref.dealloc %acc : memref<8x32xf32>
  return
}

// -----

// A depthwise convolution that pads implicitly reads the padded copy that
// bufferization made of tensor.pad: the kernel reads the 4x4 source instead
// (its grouped view: channel stride 16 per group), gets its size and the
// window start (row 1, column 1), and the zeros and the copy are gone.
// CHECK-LABEL: func.func @depthwise_implicit_padding
// CHECK-NOT: linalg.map
// CHECK-NOT: memref.copy
// CHECK: %[[SRC:.+]], %[[SOFF:.+]], %[[SIZE:.+]]:4, %{{.+}}:4 = memref.extract_strided_metadata %arg0
// CHECK: call @kiln_ukernel_sdwconv2d_generic(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %c3, %c3, %c1, %c1, %c1, %c1, %[[SRC]], %[[SOFF]], {{.*}}, %[[SIZE]]#2, %[[SIZE]]#3, %c1, %c1)
// CHECK-NOT: memref.copy
#in = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#w = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>
#o = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>
func.func @depthwise_implicit_padding(%x: memref<1x2x4x4xf32>, %w: memref<2x1x1x3x3xf32>, %out: memref<1x2x1x4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %padded = memref.alloc() : memref<1x2x6x6xf32>
  linalg.map outs(%padded : memref<1x2x6x6xf32>)
    (%init: f32) {
      linalg.yield %zero : f32
    }
  %interior = memref.subview %padded[0, 0, 1, 1] [1, 2, 4, 4] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>
  memref.copy %x, %interior : memref<1x2x4x4xf32> to memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>
  %grouped = memref.expand_shape %padded [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 6, 6] : memref<1x2x6x6xf32> into memref<1x2x1x6x6xf32>
  linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%grouped, %w : memref<1x2x1x6x6xf32>, memref<2x1x1x3x3xf32>) outs(%out : memref<1x2x1x4x4xf32>)
      attrs = {kiln.ukernel = {isa = "generic", kernel = "sdwconv2d", padding = "implicit", register_tile = array<i64: 4, 16>}} {
  ^bb0(%a: f32, %b: f32, %s: f32):
    %p = arith.mulf %a, %b : f32
    %t = arith.addf %s, %p : f32
    linalg.yield %t : f32
  }
  memref.dealloc %padded : memref<1x2x6x6xf32>
  return
}

// -----

// The source is overwritten after the padded copy was taken: the kernel
// reads the copy (its 6x6 size, no implicit padding).
// CHECK-LABEL: func.func @depthwise_source_overwritten
// CHECK: linalg.map
// CHECK: memref.copy %arg0
// CHECK: linalg.fill
// CHECK: %[[PAD:.+]], %{{.+}}, %[[SIZE:.+]]:5, %{{.+}}:5 = memref.extract_strided_metadata %expand_shape
// CHECK: call @kiln_ukernel_sdwconv2d_generic({{.*}}, %c1, %c1, %[[PAD]], {{.*}}, %[[SIZE]]#3, %[[SIZE]]#4, %c0, %c0)
#in = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#w = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>
#o = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>
func.func @depthwise_source_overwritten(%x: memref<1x2x4x4xf32>, %w: memref<2x1x1x3x3xf32>, %out: memref<1x2x1x4x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %padded = memref.alloc() : memref<1x2x6x6xf32>
  linalg.map outs(%padded : memref<1x2x6x6xf32>)
    (%init: f32) {
      linalg.yield %zero : f32
    }
  %interior = memref.subview %padded[0, 0, 1, 1] [1, 2, 4, 4] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>
  memref.copy %x, %interior : memref<1x2x4x4xf32> to memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>
  linalg.fill ins(%zero : f32) outs(%x : memref<1x2x4x4xf32>)
  %grouped = memref.expand_shape %padded [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 6, 6] : memref<1x2x6x6xf32> into memref<1x2x1x6x6xf32>
  linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%grouped, %w : memref<1x2x1x6x6xf32>, memref<2x1x1x3x3xf32>) outs(%out : memref<1x2x1x4x4xf32>)
      attrs = {kiln.ukernel = {isa = "generic", kernel = "sdwconv2d", padding = "implicit", register_tile = array<i64: 4, 16>}} {
  ^bb0(%a: f32, %b: f32, %s: f32):
    %p = arith.mulf %a, %b : f32
    %t = arith.addf %s, %p : f32
    linalg.yield %t : f32
  }
  memref.dealloc %padded : memref<1x2x6x6xf32>
  return
}

// -----

// Dynamic rows and columns: the copy gives the interior the source's shape,
// so the kernel reads the source, its size taken at run time.
// CHECK-LABEL: func.func @depthwise_implicit_padding_dynamic
// CHECK-NOT: memref.copy
// CHECK: %[[SRC:.+]], %[[SOFF:.+]], %[[SIZE:.+]]:4, %{{.+}}:4 = memref.extract_strided_metadata %arg0
// CHECK: call @kiln_ukernel_sdwconv2d_generic({{.*}}, %[[SRC]], %[[SOFF]], {{.*}}, %[[SIZE]]#2, %[[SIZE]]#3, %c1, %c1)
#in = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#w = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>
#o = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>
func.func @depthwise_implicit_padding_dynamic(%x: memref<1x2x?x?xf32>, %w: memref<2x1x1x3x3xf32>, %out: memref<1x2x1x?x?xf32>) {
  %zero = arith.constant 0.0 : f32
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %h = memref.dim %x, %c2 : memref<1x2x?x?xf32>
  %wd = memref.dim %x, %c3 : memref<1x2x?x?xf32>
  %hp = arith.addi %h, %c2 : index
  %wp = arith.addi %wd, %c2 : index
  %padded = memref.alloc(%hp, %wp) : memref<1x2x?x?xf32>
  linalg.map outs(%padded : memref<1x2x?x?xf32>)
    (%init: f32) {
      linalg.yield %zero : f32
    }
  %interior = memref.subview %padded[0, 0, 1, 1] [1, 2, %h, %wd] [1, 1, 1, 1] : memref<1x2x?x?xf32> to memref<1x2x?x?xf32, strided<[?, ?, ?, 1], offset: ?>>
  memref.copy %x, %interior : memref<1x2x?x?xf32> to memref<1x2x?x?xf32, strided<[?, ?, ?, 1], offset: ?>>
  %grouped = memref.expand_shape %padded [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, %hp, %wp] : memref<1x2x?x?xf32> into memref<1x2x1x?x?xf32>
  linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%grouped, %w : memref<1x2x1x?x?xf32>, memref<2x1x1x3x3xf32>) outs(%out : memref<1x2x1x?x?xf32>)
      attrs = {kiln.ukernel = {isa = "generic", kernel = "sdwconv2d", padding = "implicit", register_tile = array<i64: 4, 16>}} {
  ^bb0(%a: f32, %b: f32, %s: f32):
    %p = arith.mulf %a, %b : f32
    %t = arith.addf %s, %p : f32
    linalg.yield %t : f32
  }
  memref.dealloc %padded : memref<1x2x?x?xf32>
  return
}

// -----

// The convolution accumulates onto its own source (a residual `x + conv(x)`
// lowers that way): it must read the padded copy, taken before it writes.
// CHECK-LABEL: func.func @implicit_padding_onto_source
// CHECK: linalg.map
// CHECK: memref.copy %arg0
// CHECK: %[[PAD:.+]], %{{.+}}, %[[SIZE:.+]]:5, %{{.+}}:5 = memref.extract_strided_metadata %expand_shape
// CHECK: call @kiln_ukernel_sdwconv2d_generic({{.*}}, %c1, %c1, %[[PAD]], {{.*}}, %[[SIZE]]#3, %[[SIZE]]#4, %c0, %c0)
#in = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, c, oh + kh, ow + kw)>
#w = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (g, m, c, kh, kw)>
#o = affine_map<(n, g, m, oh, ow, c, kh, kw) -> (n, g, m, oh, ow)>
func.func @implicit_padding_onto_source(%x: memref<1x2x4x4xf32>, %w: memref<2x1x1x3x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %padded = memref.alloc() : memref<1x2x6x6xf32>
  linalg.map outs(%padded : memref<1x2x6x6xf32>)
    (%init: f32) {
      linalg.yield %zero : f32
    }
  %interior = memref.subview %padded[0, 0, 1, 1] [1, 2, 4, 4] [1, 1, 1, 1] : memref<1x2x6x6xf32> to memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>
  memref.copy %x, %interior : memref<1x2x4x4xf32> to memref<1x2x4x4xf32, strided<[72, 36, 6, 1], offset: 7>>
  %grouped = memref.expand_shape %padded [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 6, 6] : memref<1x2x6x6xf32> into memref<1x2x1x6x6xf32>
  %out = memref.expand_shape %x [[0], [1, 2], [3], [4]] output_shape [1, 2, 1, 4, 4] : memref<1x2x4x4xf32> into memref<1x2x1x4x4xf32>
  linalg.generic {indexing_maps = [#in, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "reduction", "reduction", "reduction"]}
      ins(%grouped, %w : memref<1x2x1x6x6xf32>, memref<2x1x1x3x3xf32>) outs(%out : memref<1x2x1x4x4xf32>)
      attrs = {kiln.ukernel = {isa = "generic", kernel = "sdwconv2d", padding = "implicit", register_tile = array<i64: 4, 16>}} {
  ^bb0(%a: f32, %b: f32, %s: f32):
    %p = arith.mulf %a, %b : f32
    %t = arith.addf %s, %p : f32
    linalg.yield %t : f32
  }
  memref.dealloc %padded : memref<1x2x6x6xf32>
  return
}

// -----

// A product marked `rhs = "windows"` reads the window copy's source in
// place: the windows entry point gets the source's base, offset, batch
// stride (its images), channel, row and column strides, the window (3 x 3),
// strides, dilations and the output width (4); the copy is erased. The
// zero fill of the accumulator, with the copy (on other buffers) between,
// is dropped: the product overwrites (accumulate 0) and dequantizes.
// CHECK-LABEL: func.func @igemm_windows
// CHECK-DAG: %[[X:.+]], %[[XOFF:.+]], %[[XS:.+]]:4, %[[XST:.+]]:4 = memref.extract_strided_metadata %arg0
// CHECK-NOT: linalg.fill
// CHECK-NOT: linalg.generic
// CHECK: call @kiln_ukernel_igemm_windows_scaled_avx512({{.+}}, %[[X]], %[[XOFF]], %c0, %[[XST]]#0, %[[XST]]#1, %[[XST]]#2, %[[XST]]#3, %c3, %c3, %c1, %c1, %c1, %c1, %c4, {{.+}}, %c0)
// CHECK-NOT: linalg.generic
#in1 = affine_map<(n, c, i, j, y, x) -> (n, c, y + i, x + j)>
#id6 = affine_map<(n, c, i, j, y, x) -> (n, c, i, j, y, x)>
#wa = affine_map<(b, m, p, k) -> (m, k)>
#wb = affine_map<(b, m, p, k) -> (b, k, p)>
#wc = affine_map<(b, m, p, k) -> (b, m, p)>
#id3 = affine_map<(b, m, p) -> (b, m, p)>
#row = affine_map<(b, m, p) -> (m, 0)>
func.func @igemm_windows(%x: memref<1x2x6x6xi8>, %w: memref<4x18xi8>, %s: memref<4x1xf32>, %out: memref<1x4x16xf32>) {
  %zero = arith.constant 0 : i32
  %acc = memref.alloc() : memref<1x4x16xi32>
  linalg.fill ins(%zero : i32) outs(%acc : memref<1x4x16xi32>)
  %copy = memref.alloc() : memref<1x2x3x3x4x4xi8>
  linalg.generic {indexing_maps = [#in1, #id6], iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x2x6x6xi8>) outs(%copy : memref<1x2x3x3x4x4xi8>) {
  ^bb0(%v: i8, %o: i8):
    linalg.yield %v : i8
  }
  %cols = memref.collapse_shape %copy [[0], [1, 2, 3], [4, 5]] : memref<1x2x3x3x4x4xi8> into memref<1x18x16xi8>
  linalg.generic {indexing_maps = [#wa, #wb, #wc], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%w, %cols : memref<4x18xi8>, memref<1x18x16xi8>) outs(%acc : memref<1x4x16xi32>)
      attrs = {kiln.ukernel = {epilogue = ["dequantize"], isa = "avx512", kernel = "igemm", register_tile = array<i64: 8, 32>, rhs = "windows"}} {
  ^bb0(%a: i8, %b: i8, %o: i32):
    %0 = arith.extsi %a : i8 to i32
    %1 = arith.extui %b : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %o, %2 : i32
    linalg.yield %3 : i32
  }
  linalg.generic {indexing_maps = [#id3, #row, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%acc, %s : memref<1x4x16xi32>, memref<4x1xf32>) outs(%out : memref<1x4x16xf32>) {
  ^bb0(%i: i32, %t: f32, %o: f32):
    %0 = arith.sitofp %i : i32 to f32
    %1 = arith.mulf %0, %t : f32
    linalg.yield %1 : f32
  }
  memref.dealloc %copy : memref<1x2x3x3x4x4xi8>
  memref.dealloc %acc : memref<1x4x16xi32>
  return
}

// -----

// A constant lhs that the strategy asked to pack (pack_lhs) becomes a byte
// global in the generic kernel's lhs packing: 4-row panels of 4-byte units
// (signed A stored unsigned: each byte XOR 0x80), rows 2-3 and k 6-7 zero,
// then each row's sum of stored values per 256-deep K block (0x315 = 789,
// 0x339 = 825). The call passes it with no strides and its packing (4 rows,
// bytes, K block 256); the absent zero points point at it too, so the
// unpacked global is gone.
// CHECK-NOT: memref.global "private" constant @lhs_weights :
// CHECK: memref.global "private" constant @lhs_weights_lhs_packed : memref<48xi8>
// CHECK-NOT: memref.global "private" constant @lhs_weights :
// CHECK-LABEL: func.func @packed_lhs
// CHECK: %[[PACKED:.+]] = memref.get_global @lhs_weights_lhs_packed
// CHECK: %[[BASE:.+]], %[[OFF:.+]], %{{.+}}, %{{.+}} = memref.extract_strided_metadata %[[PACKED]]
// CHECK: call @kiln_ukernel_igemm_generic(%c1, %c1, %{{.+}}, %{{.+}}, %c6, %[[BASE]], %[[OFF]], %c0, %c0, %c0, %c0, %c4, %c4, %c256, {{.+}}, %[[BASE]], %[[OFF]], %c0, %[[BASE]], %[[OFF]], %c0,
// CHECK: lhs_weights_lhs_packed: "0x04000000818283848788898A0000000000000000858600008B8C0000000000000000000015030000390300000000000000000000"
memref.global "private" constant @lhs_weights : memref<12xi8> = dense<[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]>
#la = affine_map<(m, n, k) -> (m, k)>
#lb = affine_map<(m, n, k) -> (k, n)>
#lc = affine_map<(m, n, k) -> (m, n)>
func.func @packed_lhs(%b: memref<6x5xi8>, %c: memref<2x5xi32>) {
  %zero = arith.constant 0 : i32
  %w = memref.get_global @lhs_weights : memref<12xi8>
  %a = memref.expand_shape %w [[0, 1]] output_shape [2, 6] : memref<12xi8> into memref<2x6xi8>
  linalg.fill ins(%zero : i32) outs(%c : memref<2x5xi32>)
  linalg.generic {indexing_maps = [#la, #lb, #lc], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<2x6xi8>, memref<6x5xi8>) outs(%c : memref<2x5xi32>)
      attrs = {kiln.ukernel = {isa = "generic", kernel = "igemm", pack_lhs = "compile-time", register_tile = array<i64: 4, 16>}} {
  ^bb0(%x: i8, %y: i8, %o: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extui %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %o, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// For AVX2 a 7-bit signed lhs times an unsigned rhs gets the narrow lhs
// packing (format 6): 6-row panels of 4-byte units stored signed, as they
// are (VPMADDUBSW then takes the rhs's bytes as the unsigned operand), and
// the row sums per 512-deep K block (21 and 57).
// CHECK: memref.global "private" constant @narrow_weights_lhs_packed : memref<72xi8>
// CHECK-LABEL: func.func @packed_lhs_narrow
// CHECK: call @kiln_ukernel_igemm_avx2({{.+}}, %c6, %c6, %c512,
// CHECK: narrow_weights_lhs_packed: "0x04000000010203040708090A00000000000000000000000000000000050600000B0C000000000000000000000000000000000000150000003900000000000000000000000000000000000000"
memref.global "private" constant @narrow_weights : memref<12xi8> = dense<[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]>
#na = affine_map<(m, n, k) -> (m, k)>
#nb = affine_map<(m, n, k) -> (k, n)>
#nc = affine_map<(m, n, k) -> (m, n)>
func.func @packed_lhs_narrow(%b: memref<6x5xi8>, %c: memref<2x5xi32>) {
  %zero = arith.constant 0 : i32
  %w = memref.get_global @narrow_weights : memref<12xi8>
  %a = memref.expand_shape %w [[0, 1]] output_shape [2, 6] : memref<12xi8> into memref<2x6xi8>
  linalg.fill ins(%zero : i32) outs(%c : memref<2x5xi32>)
  linalg.generic {indexing_maps = [#na, #nb, #nc], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<2x6xi8>, memref<6x5xi8>) outs(%c : memref<2x5xi32>)
      attrs = {kiln.ukernel = {isa = "avx2", kernel = "igemm", pack_lhs = "compile-time", register_tile = array<i64: 6, 16>}} {
  ^bb0(%x: i8, %y: i8, %o: i32):
    %0 = arith.extsi %x : i8 to i32
    %1 = arith.extui %y : i8 to i32
    %2 = arith.muli %0, %1 : i32
    %3 = arith.addi %o, %2 : i32
    linalg.yield %3 : i32
  }
  return
}

// -----

// A transpose of the last two dims: batch dims padded to two (extent 1,
// stride 0), src's last two extents, then src and dst with their strides
// per source index (dst's for i is that of its last dim).
// CHECK-LABEL: func.func @key_transpose
// CHECK-DAG: %[[S:.+]], %[[SOFF:.+]], %[[SS:.+]]:3, %[[SST:.+]]:3 = memref.extract_strided_metadata %arg0
// CHECK-DAG: %[[D:.+]], %[[DOFF:.+]], %[[DS:.+]]:3, %[[DST:.+]]:3 = memref.extract_strided_metadata %arg1
// CHECK: call @kiln_ukernel_transpose_avx2(%c1, %[[SS]]#0, %[[SS]]#1, %[[SS]]#2, %[[S]], %[[SOFF]], %c0, %[[SST]]#0, %[[SST]]#1, %[[SST]]#2, %[[D]], %[[DOFF]], %c0, %[[DST]]#0, %[[DST]]#2, %[[DST]]#1)
// CHECK-NOT: linalg.transpose
func.func @key_transpose(%k: memref<12x?x64xf32>, %kt: memref<12x64x?xf32>) {
  linalg.transpose {kiln.ukernel = {isa = "avx2", kernel = "transpose", register_tile = array<i64: 6, 16>}}
      ins(%k : memref<12x?x64xf32>) outs(%kt : memref<12x64x?xf32>) permutation = [0, 2, 1]
  return
}

// -----

// A 3x3 stride-2 max pooling window (dilation 1) -> the pooling kernel:
// the output's extents, the window, strides and dilations, the input and
// the output with their strides, then the input's rows and columns and
// where the windows start in it (an input padded in memory: at 0, 0).
// CHECK-LABEL: func.func @max_pool
// CHECK: %[[IN:.+]], %[[IOFF:.+]], %[[ISIZE:.+]]:4, %[[IS:.+]]:4 = memref.extract_strided_metadata %arg0
// CHECK: %[[OUT:.+]], %[[OOFF:.+]], %[[OSIZE:.+]]:4, %[[OS:.+]]:4 = memref.extract_strided_metadata %arg1
// CHECK: call @kiln_ukernel_smaxpool2d_avx512(%[[OSIZE]]#0, %[[OSIZE]]#1, %[[OSIZE]]#2, %[[OSIZE]]#3, %c3, %c3, %c2, %c2, %c1, %c1, %[[IN]], %[[IOFF]], %[[IS]]#0, %[[IS]]#1, %[[IS]]#2, %[[IS]]#3, %[[OUT]], %[[OOFF]], %[[OS]]#0, %[[OS]]#1, %[[OS]]#2, %[[OS]]#3, %[[ISIZE]]#2, %[[ISIZE]]#3, %c0, %c0)
// CHECK-NOT: linalg.generic
#pool_in = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
#pool_window = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
#pool_out = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
func.func @max_pool(%x: memref<1x4x9x9xf32>, %y: memref<1x4x4x4xf32>, %w: memref<3x3xf32>) {
  linalg.generic {indexing_maps = [#pool_in, #pool_window, #pool_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"], kiln.ukernel = {isa = "avx512", kernel = "smaxpool2d"}} ins(%x, %w : memref<1x4x9x9xf32>, memref<3x3xf32>) outs(%y : memref<1x4x4x4xf32>) {
  ^bb0(%in: f32, %unused: f32, %out: f32):
    %m = arith.maximumf %out, %in : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// Max pooling marked `padding = "implicit"` reading a -inf-filled padded
// copy of %x: the kernel reads %x itself (8 x 8, windows from row and
// column -1), and the fill and the copy are gone.
// CHECK-LABEL: func.func @max_pool_implicit_padding
// CHECK-NOT: linalg.fill
// CHECK-NOT: memref.copy
// CHECK: %[[IN:.+]], %[[IOFF:.+]], %[[ISIZE:.+]]:4, %[[IS:.+]]:4 = memref.extract_strided_metadata %arg0
// CHECK: call @kiln_ukernel_smaxpool2d_avx512({{.*}}, %c3, %c3, %c2, %c2, %c1, %c1, %[[IN]], %[[IOFF]], %[[IS]]#0, %[[IS]]#1, %[[IS]]#2, %[[IS]]#3, {{.*}}, %[[ISIZE]]#2, %[[ISIZE]]#3, %c1{{.*}}, %c1{{.*}})
// CHECK-NOT: linalg.fill
// CHECK-NOT: memref.copy
#ipool_in = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 * 2 + d4, d3 * 2 + d5)>
#ipool_window = affine_map<(d0, d1, d2, d3, d4, d5) -> (d4, d5)>
#ipool_out = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3)>
func.func @max_pool_implicit_padding(%x: memref<1x4x8x8xf32>, %y: memref<1x4x4x4xf32>, %w: memref<3x3xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %padded = memref.alloc() {alignment = 64 : i64} : memref<1x4x10x10xf32>
  linalg.fill ins(%ninf : f32) outs(%padded : memref<1x4x10x10xf32>)
  %interior = memref.subview %padded[0, 0, 1, 1] [1, 4, 8, 8] [1, 1, 1, 1] : memref<1x4x10x10xf32> to memref<1x4x8x8xf32, strided<[400, 100, 10, 1], offset: 11>>
  memref.copy %x, %interior : memref<1x4x8x8xf32> to memref<1x4x8x8xf32, strided<[400, 100, 10, 1], offset: 11>>
  linalg.generic {indexing_maps = [#ipool_in, #ipool_window, #ipool_out], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"], kiln.ukernel = {isa = "avx512", kernel = "smaxpool2d", padding = "implicit"}} ins(%padded, %w : memref<1x4x10x10xf32>, memref<3x3xf32>) outs(%y : memref<1x4x4x4xf32>) {
  ^bb0(%in: f32, %unused: f32, %out: f32):
    %m = arith.maximumf %out, %in : f32
    linalg.yield %m : f32
  }
  memref.dealloc %padded : memref<1x4x10x10xf32>
  return
}
