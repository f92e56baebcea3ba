// RUN: kiln-opt %s --split-input-file --pass-pipeline='builtin.module(convert-scf-to-openmp, func.func(kiln-cpu-serialize-small-parallel{min-work=1000}))' | FileCheck %s

// An elementwise loop nest: its parallel dim (dynamic, %n) times the inner
// loop's 64 iterations must reach 1000, else the calling thread runs it.
// CHECK-LABEL: func.func @elementwise
// CHECK: %[[T0:.+]] = arith.maxsi
// CHECK: %[[T1:.+]] = arith.maxsi
// CHECK: %[[WORK:.+]] = arith.muli %[[T0]], %[[T1]] : index
// CHECK: %[[ENOUGH:.+]] = arith.cmpi sge, %[[WORK]], %c1000{{.*}} : index
// CHECK: omp.parallel if(%[[ENOUGH]])
func.func @elementwise(%x: memref<?x64xf32>, %y: memref<?x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %n = memref.dim %x, %c0 : memref<?x64xf32>
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    scf.for %j = %c0 to %c64 step %c1 {
      %v = memref.load %x[%i, %j] : memref<?x64xf32>
      %w = arith.addf %v, %v : f32
      memref.store %w, %y[%i, %j] : memref<?x64xf32>
    }
    scf.reduce
  }
  return
}

// -----

// A body with more than one loop (a tile's worth of work) is not measured
// by trip counts: it stays parallel, with no if clause.
// CHECK-LABEL: func.func @tile_work
// CHECK-NOT: arith.cmpi
// CHECK: omp.parallel {
func.func @tile_work(%x: memref<4x64xf32>, %y: memref<4x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.for %j = %c0 to %c64 step %c1 {
      %v = memref.load %x[%i, %j] : memref<4x64xf32>
      memref.store %v, %y[%i, %j] : memref<4x64xf32>
    }
    scf.for %j = %c0 to %c64 step %c1 {
      %v = memref.load %y[%i, %j] : memref<4x64xf32>
      %w = arith.mulf %v, %v : f32
      memref.store %w, %y[%i, %j] : memref<4x64xf32>
    }
    scf.reduce
  }
  return
}
