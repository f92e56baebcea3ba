// RUN: kiln-opt %s --kiln-to-linalg | FileCheck %s --check-prefix=LINALG
// RUN: kiln-opt %s --kiln-to-linalg=opt-level=0 | FileCheck %s --check-prefix=O0
// RUN: kiln-opt %s --kiln-to-llvm | FileCheck %s --check-prefix=LLVM
// RUN: kiln-opt %s --kiln-to-linalg | kiln-opt --kiln-linalg-to-llvm | FileCheck %s --check-prefix=LLVM
// RUN: kiln-opt %s --kiln-to-llvm | FileCheck %s --check-prefix=CLEAN
// RUN: kiln-opt %s --kiln-to-llvm=parallel=false | FileCheck %s --check-prefixes=CLEAN,SERIAL
// RUN: kiln-opt %s --kiln-to-llvm=isa=avx2 | FileCheck %s --check-prefix=UKERNEL
// RUN: kiln-opt %s --kiln-to-llvm=opt-level=0 | FileCheck %s --check-prefix=NOUKERNEL

// The registered pipelines (Pipelines.cpp) on a small model: add, relu,
// matmul and an unsigned division.

// --kiln-to-linalg records the signature (unsigned types as they were),
// lowers to linalg on tensors (signless types) and, from -O1 on, fuses the
// elementwise generics.
// LINALG: module attributes {kiln.signature = {function = "main_graph", inputs = [{name = "X", type = tensor<2x4xf32>}, {name = "W", type = tensor<4x3xf32>}, {name = "U", type = tensor<3xui8>}], outputs = [{name = "Y", type = tensor<2x3xf32>}, {name = "V", type = tensor<3xui8>}]}}
// LINALG-LABEL: func.func @main_graph(
// LINALG-SAME: %[[X:[^:]+]]: tensor<2x4xf32> {bufferization.writable = false, kiln.name = "X"}, %[[W:[^:]+]]: tensor<4x3xf32> {bufferization.writable = false, kiln.name = "W"}, %[[U:[^:]+]]: tensor<3xi8> {bufferization.writable = false, kiln.name = "U"})
// LINALG-SAME: -> (tensor<2x3xf32> {kiln.name = "Y"}, tensor<3xi8> {kiln.name = "V"}) attributes {llvm.emit_c_interface}
// LINALG-NOT: kiln.
// LINALG: %[[ACT:.+]] = linalg.generic {{.*}} ins(%[[X]] : tensor<2x4xf32>)
// LINALG-NEXT: ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// LINALG-NEXT: %[[SUM:.+]] = arith.addf %[[IN]], %[[IN]] : f32
// LINALG-NEXT: %[[RELU:.+]] = arith.maximumf %[[SUM]], %{{.+}} : f32
// LINALG-NEXT: linalg.yield %[[RELU]] : f32
// LINALG: %[[Y:.+]] = linalg.matmul ins(%[[ACT]], %[[W]] : tensor<2x4xf32>, tensor<4x3xf32>)
// LINALG: %[[V:.+]] = linalg.generic {{.*}} ins(%[[U]] : tensor<3xi8>)
// LINALG-NEXT: ^bb0(%[[UI:[^:]+]]: i8, %{{[^:]+}}: i8):
// LINALG-NEXT: arith.divui %[[UI]], %[[UI]] : i8
// LINALG: return %[[Y]], %[[V]]
// LINALG-NOT: kiln.

// Without optimization the generics stay apart.
// O0-LABEL: func.func @main_graph(
// O0: %[[ADD:.+]] = linalg.generic
// O0-NEXT: ^bb0
// O0-NEXT: arith.addf
// O0: linalg.generic {{.*}} ins(%[[ADD]] : tensor<2x4xf32>)
// O0-NEXT: ^bb0
// O0-NEXT: arith.maximumf

// --kiln-to-llvm (and --kiln-linalg-to-llvm after --kiln-to-linalg) ends in
// the LLVM dialect with the entry point; loops run on OpenMP threads unless
// parallel=false.
// LLVM: module attributes {kiln.signature
// LLVM: llvm.func internal @main_graph(
// LLVM: omp.parallel
// LLVM: llvm.udiv
// LLVM: llvm.func internal @_mlir_ciface_main_graph(%{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr)
// LLVM: llvm.mlir.global external constant @kiln_model_signature("kiln-signature 2\0Ainput 0 1 2 2 4 1 X\0Ainput 0 1 2 4 3 1 W\0Ainput 0 2 1 3 1 U\0Aoutput 0 1 2 2 3 1 Y\0Aoutput 0 2 1 3 1 V\0A\00")
// LLVM: llvm.func @kiln_model_entry(%{{[^:]+}}: !llvm.ptr) {
// LLVM: llvm.call @_mlir_ciface_main_graph(

// From -O1 on the CPU strategy gives the matmul to a microkernel of the
// requested instruction set; -O0 keeps the loop nest.
// UKERNEL: llvm.func @kiln_ukernel_sgemm_avx2(i64, i64, i64, i64, i64, !llvm.ptr, !llvm.ptr, i64, i64,
// UKERNEL: llvm.call @kiln_ukernel_sgemm_avx2(
// NOUKERNEL-NOT: kiln_ukernel

// Nothing but the LLVM (and OpenMP) dialects is left; nothing of OpenMP
// either with parallel=false.
// SERIAL-NOT: omp.
// CLEAN-NOT: {{^ *(%[^ ]+ = )?"?(kiln|linalg|tensor|bufferization|memref|scf|affine|arith|math|func|cf)\.}}
// CLEAN-NOT: unrealized_conversion_cast
func.func @main_graph(%x: tensor<2x4xf32> {kiln.name = "X"}, %w: tensor<4x3xf32> {kiln.name = "W"}, %u: tensor<3xui8> {kiln.name = "U"})
    -> (tensor<2x3xf32> {kiln.name = "Y"}, tensor<3xui8> {kiln.name = "V"}) {
  %0 = kiln.add %x, %x : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  %1 = kiln.relu %0 : (tensor<2x4xf32>) -> tensor<2x4xf32>
  %2 = kiln.matmul %1, %w : (tensor<2x4xf32>, tensor<4x3xf32>) -> tensor<2x3xf32>
  %3 = kiln.div %u, %u : (tensor<3xui8>, tensor<3xui8>) -> tensor<3xui8>
  return %2, %3 : tensor<2x3xf32>, tensor<3xui8>
}
