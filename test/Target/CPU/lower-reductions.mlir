// RUN: kiln-opt %s --split-input-file --kiln-cpu-lower-reductions | FileCheck %s

// A row max: the rows are parallel, the accumulator is loaded once, carried
// through the reduction loop and stored once.
// CHECK-LABEL: func.func @row_max
// CHECK: scf.parallel (%[[I:.+]]) = (%c0) to (%c128) step (%c1) {
// CHECK-NEXT: %[[INIT:.+]] = memref.load %arg1[%[[I]]]
// CHECK-NEXT: %[[R:.+]] = scf.for %[[J:.+]] = %c0 to %c64 step %c1 iter_args(%[[ACC:.+]] = %[[INIT]]) -> (f32) {
// CHECK-NEXT: %[[X:.+]] = memref.load %arg0[%[[I]], %[[J]]]
// CHECK-NEXT: %[[M:.+]] = arith.maxnumf %[[X]], %[[ACC]] : f32
// CHECK-NEXT: scf.yield %[[M]] : f32
// CHECK: memref.store %[[R]], %arg1[%[[I]]]
// CHECK-NOT: linalg.generic
func.func @row_max(%s: memref<128x64xf32>, %m: memref<128xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]}
      ins(%s : memref<128x64xf32>) outs(%m : memref<128xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %r = arith.maxnumf %x, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Inside a parallel region the rows are plain loops; a windowed input is
// indexed through affine.apply; a full reduction (no parallel loop) has no
// loop around it.
// CHECK-LABEL: func.func @nested_and_full
// CHECK: scf.parallel
// CHECK: scf.for %[[I:.+]] = {{.*}} {
// CHECK: scf.for %[[J:.+]] = {{.*}} iter_args
// CHECK: affine.apply #{{.+}}(%[[I]], %[[J]])
// CHECK: memref.load %{{.+}}[] : memref<f32>
// CHECK-NEXT: scf.for {{.*}} iter_args
func.func @nested_and_full(%x: memref<10xf32>, %w: memref<8x3xf32>, %y: memref<8xf32>, %total: memref<f32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  scf.parallel (%t) = (%c0) to (%c2) step (%c1) {
    linalg.generic {indexing_maps = [affine_map<(i, j) -> (i + j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]}
        ins(%x, %w : memref<10xf32>, memref<8x3xf32>) outs(%y : memref<8xf32>) {
    ^bb0(%a: f32, %b: f32, %acc: f32):
      %p = arith.mulf %a, %b : f32
      %r = arith.addf %p, %acc : f32
      linalg.yield %r : f32
    }
    scf.reduce
  }
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>], iterator_types = ["reduction"]}
      ins(%y : memref<8xf32>) outs(%total : memref<f32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %a, %acc : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Left to the ordinary lowering: a reduction loop before a parallel one, and
// a contraction marked for a microkernel.
// CHECK-LABEL: func.func @not_lowered
// CHECK: linalg.generic
// CHECK: linalg.matmul
func.func @not_lowered(%s: memref<4x8xf32>, %m: memref<8xf32>, %a: memref<4x4xf32>, %c: memref<4x4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(j, i) -> (j, i)>, affine_map<(j, i) -> (i)>], iterator_types = ["reduction", "parallel"]}
      ins(%s : memref<4x8xf32>) outs(%m : memref<8xf32>) {
  ^bb0(%x: f32, %acc: f32):
    %r = arith.addf %x, %acc : f32
    linalg.yield %r : f32
  }
  linalg.matmul {kiln.ukernel = {isa = "generic", kernel = "sgemm", register_tile = array<i64: 4, 16>}}
      ins(%a, %a : memref<4x4xf32>, memref<4x4xf32>) outs(%c : memref<4x4xf32>)
  return
}
