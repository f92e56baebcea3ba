// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(convert-kiln-to-linalg{attention-kernel=true})' | FileCheck %s --check-prefix=LINALG
// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(convert-kiln-to-linalg)' | FileCheck %s --check-prefix=LOOPS
// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(convert-kiln-to-linalg{attention-kernel=true},func.func(kiln-cpu-select-kernels{isa=avx512}))' | FileCheck %s --check-prefix=SELECT
// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(convert-kiln-to-linalg{attention-kernel=true},func.func(kiln-cpu-select-kernels{isa=avx512}),one-shot-bufferize{allow-return-allocs-from-loops bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},kiln-cpu-lower-ukernels)' | FileCheck %s
// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(convert-kiln-to-linalg{attention-kernel=true},func.func(kiln-cpu-select-kernels{isa=avx2}),one-shot-bufferize{allow-return-allocs-from-loops bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},kiln-cpu-lower-ukernels)' | FileCheck %s --check-prefix=AVX2
// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(convert-kiln-to-linalg{attention-kernel=true},func.func(kiln-cpu-select-kernels{isa=generic}),one-shot-bufferize{allow-return-allocs-from-loops bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map},kiln-cpu-lower-ukernels)' | FileCheck %s --check-prefix=GENERIC

// Attention with many query rows stays one op for the fused kernel
// (runtime/cpu/attention.c) when the target asks for it; the strategy pass
// picks its instruction set, and after bufferization it becomes a call with
// the two batch dims, the rows, keys and head dims, the query heads per
// key/value head, each operand's strides per (batch0, batch1, row,
// element), the scale, the mask's kind (1: f32), its strides per (batch0,
// batch1, query, key) with 0 where it broadcasts, and the fill.
// LINALG-LABEL: func.func @additive_mask(
// LINALG: %[[INIT:.+]] = tensor.empty() : tensor<2x4x512x32xf32>
// LINALG: kiln.flash_attention ins(%arg0, %arg1, %arg2 : tensor<2x4x512x32xf32>, tensor<2x4x512x32xf32>, tensor<2x4x512x32xf32>) mask(%arg3 : tensor<2x1x1x512xf32>) outs(%[[INIT]] : tensor<2x4x512x32xf32>) {scale = 0.176776692 : f32} -> tensor<2x4x512x32xf32>
// LINALG-NOT: scf.forall
// LOOPS-LABEL: func.func @additive_mask(
// LOOPS-NOT: kiln.flash_attention
// LOOPS: scf.forall
// SELECT-LABEL: func.func @additive_mask(
// SELECT: kiln.flash_attention {{.+}} {kiln.ukernel = {isa = "avx512", kernel = "sattention"}, scale = 0.176776692 : f32}
// CHECK-LABEL: func.func @additive_mask(
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[SCALE:.+]] = arith.constant 0.176776692 : f32
// CHECK-DAG: %[[OUT:.+]] = memref.alloc() {{.+}} : memref<2x4x512x32xf32>
// CHECK-DAG: %[[Q:.+]], %[[QO:.+]], %[[QS:.+]]:4, %[[QST:.+]]:4 = memref.extract_strided_metadata %arg0
// CHECK-DAG: %[[K:.+]], %[[KO:.+]], %[[KS:.+]]:4, %[[KST:.+]]:4 = memref.extract_strided_metadata %arg1
// CHECK-DAG: %[[V:.+]], %[[VO:.+]], %[[VS:.+]]:4, %[[VST:.+]]:4 = memref.extract_strided_metadata %arg2
// CHECK-DAG: %[[O:.+]], %[[OO:.+]], %[[OS:.+]]:4, %[[OST:.+]]:4 = memref.extract_strided_metadata %[[OUT]]
// CHECK-DAG: %[[M:.+]], %[[MO:.+]], %[[MS:.+]]:4, %[[MST:.+]]:4 = memref.extract_strided_metadata %arg3
// CHECK-DAG: %[[GROUP:.+]] = arith.divui %[[QS]]#1, %[[KS]]#1 : index
// CHECK: call @kiln_ukernel_sattention_avx512(%[[QS]]#0, %[[QS]]#1, %[[QS]]#2, %[[KS]]#2, %[[QS]]#3, %[[VS]]#3, %[[GROUP]], %[[Q]], %[[QO]], %[[QST]]#0, %[[QST]]#1, %[[QST]]#2, %[[QST]]#3, %[[K]], %[[KO]], %[[KST]]#0, %[[KST]]#1, %[[KST]]#2, %[[KST]]#3, %[[V]], %[[VO]], %[[VST]]#0, %[[VST]]#1, %[[VST]]#2, %[[VST]]#3, %[[O]], %[[OO]], %[[OST]]#0, %[[OST]]#1, %[[OST]]#2, %[[OST]]#3, %[[SCALE]], %[[C1]], %[[M]], %[[MO]], %[[MST]]#0, %[[C0]], %[[C0]], %[[MST]]#3, %{{.+}})
// CHECK: return %[[OUT]]
// AVX2-LABEL: func.func @additive_mask(
// AVX2: call @kiln_ukernel_sattention_avx2(
// GENERIC-LABEL: func.func @additive_mask(
// GENERIC: call @kiln_ukernel_sattention_generic(
func.func @additive_mask(%q: tensor<2x4x512x32xf32>, %k: tensor<2x4x512x32xf32>, %v: tensor<2x4x512x32xf32>, %mask: tensor<2x1x1x512xf32>) -> tensor<2x4x512x32xf32> {
  %o = kiln.attention %q, %k, %v mask %mask {scale = 0.176776692 : f32} : (tensor<2x4x512x32xf32>, tensor<2x4x512x32xf32>, tensor<2x4x512x32xf32>, tensor<2x1x1x512xf32>) -> tensor<2x4x512x32xf32>
  return %o : tensor<2x4x512x32xf32>
}

// -----

// A bool mask (kind 2, its own callee for the i1 buffer) of rank 2, with
// grouped-query heads (8 query heads on 2 key/value heads).
// LINALG-LABEL: func.func @bool_mask_grouped(
// LINALG: kiln.flash_attention {{.+}} mask(%arg3 : tensor<256x256xi1>) {{.+}} {mask_fill = -1.000000e+04 : f32, scale = 1.250000e-01 : f32}
// CHECK-LABEL: func.func @bool_mask_grouped(
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C2:.+]] = arith.constant 2 : index
// CHECK-DAG: %[[FILL:.+]] = arith.constant -1.000000e+04 : f32
// CHECK-DAG: %[[M:.+]], %[[MO:.+]], %[[MS:.+]]:2, %[[MST:.+]]:2 = memref.extract_strided_metadata %arg3 : memref<256x256xi1> -> memref<i1>
// CHECK: call @kiln_ukernel_sattention_bool_avx512({{.+}}, %[[C2]], %[[M]], %[[MO]], %[[C0]], %[[C0]], %[[MST]]#0, %[[MST]]#1, %[[FILL]])
// AVX2-LABEL: func.func @bool_mask_grouped(
// AVX2: call @kiln_ukernel_sattention_bool_avx2(
func.func @bool_mask_grouped(%q: tensor<1x8x256x64xf32>, %k: tensor<1x2x256x64xf32>, %v: tensor<1x2x256x64xf32>, %mask: tensor<256x256xi1>) -> tensor<1x8x256x64xf32> {
  %o = kiln.attention %q, %k, %v mask %mask {mask_fill = -1.000000e+04 : f32, scale = 1.250000e-01 : f32} : (tensor<1x8x256x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>, tensor<256x256xi1>) -> tensor<1x8x256x64xf32>
  return %o : tensor<1x8x256x64xf32>
}

// -----

// One leading dim, no mask: batch0 is 1 and its strides 0; the mask is the
// query's buffer, never read (kind 0).
// CHECK-LABEL: func.func @no_mask_rank3(
// CHECK-DAG: %[[C0:.+]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.+]] = arith.constant 1 : index
// CHECK-DAG: %[[Q:.+]], %[[QO:.+]], %[[QS:.+]]:3, %[[QST:.+]]:3 = memref.extract_strided_metadata %arg0
// CHECK: call @kiln_ukernel_sattention_avx512(%[[C1]], %[[QS]]#0, %[[QS]]#1, {{.+}}, %[[Q]], %[[QO]], %[[C0]], %[[QST]]#0, %[[QST]]#1, %[[QST]]#2, {{.+}}, %[[C0]], %[[Q]], %[[QO]], %[[C0]], %[[C0]], %[[C0]], %[[C0]], %{{.+}})
func.func @no_mask_rank3(%q: tensor<4x40x32xf32>, %k: tensor<4x50x32xf32>, %v: tensor<4x50x16xf32>) -> tensor<4x40x16xf32> {
  %o = kiln.attention %q, %k, %v {scale = 0.176776692 : f32} : (tensor<4x40x32xf32>, tensor<4x50x32xf32>, tensor<4x50x16xf32>) -> tensor<4x40x16xf32>
  return %o : tensor<4x40x16xf32>
}

// -----

// A decoder's step (at most 16 query rows) keeps flash-decoding's loops,
// and so does f16 attention.
// LINALG-LABEL: func.func @decode_rows(
// LINALG-NOT: kiln.flash_attention
// LINALG: scf.forall
func.func @decode_rows(%q: tensor<1x4x16x32xf32>, %k: tensor<1x4x100x32xf32>, %v: tensor<1x4x100x32xf32>) -> tensor<1x4x16x32xf32> {
  %o = kiln.attention %q, %k, %v {scale = 0.176776692 : f32} : (tensor<1x4x16x32xf32>, tensor<1x4x100x32xf32>, tensor<1x4x100x32xf32>) -> tensor<1x4x16x32xf32>
  return %o : tensor<1x4x16x32xf32>
}

// -----

// LINALG-LABEL: func.func @half_precision(
// LINALG-NOT: kiln.flash_attention
// LINALG: scf.forall
func.func @half_precision(%q: tensor<1x4x64x32xf16>, %k: tensor<1x4x64x32xf16>, %v: tensor<1x4x64x32xf16>) -> tensor<1x4x64x32xf16> {
  %o = kiln.attention %q, %k, %v {scale = 0.176776692 : f32} : (tensor<1x4x64x32xf16>, tensor<1x4x64x32xf16>, tensor<1x4x64x32xf16>) -> tensor<1x4x64x32xf16>
  return %o : tensor<1x4x64x32xf16>
}

// -----

// Heads split off [batch, tokens, heads * dims] by transpose copies, and
// merged back by one: the kernel reads the copies' source and writes the
// last copy's destination in place, strides taken in the copies' order,
// and the copies go (the destination's allocation moves before the call).
// CHECK-LABEL: func.func @heads_in_place(
// CHECK-NOT: linalg.transpose
// CHECK: %[[QV:.+]] = memref.expand_shape %arg0
// CHECK: %[[Q:.+]], %[[QO:.+]], %[[QS:.+]]:4, %[[QST:.+]]:4 = memref.extract_strided_metadata %[[QV]]
// CHECK: %[[K:.+]], %[[KO:.+]], %[[KS:.+]]:4, %[[KST:.+]]:4 = memref.extract_strided_metadata %[[QV]]
// CHECK: %[[V:.+]], %[[VO:.+]], %[[VS:.+]]:4, %[[VST:.+]]:4 = memref.extract_strided_metadata %[[QV]]
// CHECK: %[[T:.+]] = memref.alloc() : memref<1x128x4x64xf32>
// CHECK: %[[O:.+]], %[[OO:.+]], %[[OS:.+]]:4, %[[OST:.+]]:4 = memref.extract_strided_metadata %[[T]]
// CHECK: call @kiln_ukernel_sattention_avx512(%[[QS]]#0, %[[QS]]#2, %[[QS]]#1, %[[KS]]#1, %[[QS]]#3, %[[VS]]#3, %{{.+}}, %[[Q]], %[[QO]], %[[QST]]#0, %[[QST]]#2, %[[QST]]#1, %[[QST]]#3, %[[K]], %[[KO]], %[[KST]]#0, %[[KST]]#2, %[[KST]]#1, %[[KST]]#3, %[[V]], %[[VO]], %[[VST]]#0, %[[VST]]#2, %[[VST]]#1, %[[VST]]#3, %[[O]], %[[OO]], %[[OST]]#0, %[[OST]]#2, %[[OST]]#1, %[[OST]]#3,
// CHECK-NOT: linalg.transpose
// CHECK: memref.collapse_shape %[[T]]
func.func @heads_in_place(%x: memref<1x128x256xf32>, %y: memref<1x128x256xf32>) {
  %qv = memref.expand_shape %x [[0], [1], [2, 3]] output_shape [1, 128, 4, 64] : memref<1x128x256xf32> into memref<1x128x4x64xf32>
  %q = memref.alloc() : memref<1x4x128x64xf32>
  linalg.transpose ins(%qv : memref<1x128x4x64xf32>) outs(%q : memref<1x4x128x64xf32>) permutation = [0, 2, 1, 3]
  %o = memref.alloc() : memref<1x4x128x64xf32>
  kiln.flash_attention ins(%q, %q, %q : memref<1x4x128x64xf32>, memref<1x4x128x64xf32>, memref<1x4x128x64xf32>) outs(%o : memref<1x4x128x64xf32>) {kiln.ukernel = {isa = "avx512", kernel = "sattention"}, scale = 1.250000e-01 : f32}
  %t = memref.alloc() : memref<1x128x4x64xf32>
  linalg.transpose ins(%o : memref<1x4x128x64xf32>) outs(%t : memref<1x128x4x64xf32>) permutation = [0, 2, 1, 3]
  %c = memref.collapse_shape %t [[0], [1], [2, 3]] : memref<1x128x4x64xf32> into memref<1x128x256xf32>
  memref.copy %c, %y : memref<1x128x256xf32> to memref<1x128x256xf32>
  memref.dealloc %q : memref<1x4x128x64xf32>
  memref.dealloc %o : memref<1x4x128x64xf32>
  memref.dealloc %t : memref<1x128x4x64xf32>
  return
}

// -----

// A copy someone else reads too stays, and so does a source written between
// the copy and the kernel: the kernel reads the copies.
// CHECK-LABEL: func.func @copies_kept(
// CHECK: linalg.transpose ins(%{{.+}} : memref<1x128x4x64xf32>) outs(%[[QC:.+]] : memref<1x4x128x64xf32>)
// CHECK: linalg.transpose ins(%{{.+}} : memref<1x128x4x64xf32>) outs(%[[KC:.+]] : memref<1x4x128x64xf32>)
// CHECK: linalg.fill
// CHECK-DAG: memref.extract_strided_metadata %[[QC]]
// CHECK-DAG: memref.extract_strided_metadata %[[KC]]
// CHECK: call @kiln_ukernel_sattention_avx512(
// CHECK: memref.copy %[[QC]]
func.func @copies_kept(%x: memref<1x128x4x64xf32>, %z: memref<1x128x4x64xf32>, %o: memref<1x4x128x64xf32>, %y: memref<1x4x128x64xf32>) {
  %q = memref.alloc() : memref<1x4x128x64xf32>
  linalg.transpose ins(%x : memref<1x128x4x64xf32>) outs(%q : memref<1x4x128x64xf32>) permutation = [0, 2, 1, 3]
  %k = memref.alloc() : memref<1x4x128x64xf32>
  linalg.transpose ins(%z : memref<1x128x4x64xf32>) outs(%k : memref<1x4x128x64xf32>) permutation = [0, 2, 1, 3]
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%z : memref<1x128x4x64xf32>)
  kiln.flash_attention ins(%q, %k, %k : memref<1x4x128x64xf32>, memref<1x4x128x64xf32>, memref<1x4x128x64xf32>) outs(%o : memref<1x4x128x64xf32>) {kiln.ukernel = {isa = "avx512", kernel = "sattention"}, scale = 1.250000e-01 : f32}
  memref.copy %q, %y : memref<1x4x128x64xf32> to memref<1x4x128x64xf32>
  memref.dealloc %q : memref<1x4x128x64xf32>
  memref.dealloc %k : memref<1x4x128x64xf32>
  return
}
