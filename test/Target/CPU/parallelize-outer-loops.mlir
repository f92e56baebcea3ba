// RUN: kiln-opt %s --split-input-file --kiln-cpu-parallelize-outer-loops | FileCheck %s
// RUN: kiln-opt %s --split-input-file --kiln-cpu-parallelize-outer-loops=min-iterations=4096 | FileCheck %s --check-prefix=MORE

// 1 x 96 >= 32 iterations: (n, c) stay parallel, (h, w) become loops whose
// body is the old one on the new induction variables.
// CHECK-LABEL: func.func @elementwise
// CHECK: scf.parallel (%[[N:.+]], %[[C:.+]]) = (%c0, %c0) to (%c1, %c96) step (%c1, %c1) {
// CHECK-NEXT: scf.for %[[H:.+]] = %c0 to %c112 step %c1 {
// CHECK-NEXT: scf.for %[[W:.+]] = %c0 to %c112 step %c1 {
// CHECK-NEXT: %[[X:.+]] = memref.load %arg0[%[[N]], %[[C]], %[[H]], %[[W]]]
// CHECK-NEXT: %[[Y:.+]] = arith.maximumf %[[X]]
// CHECK-NEXT: memref.store %[[Y]], %arg1[%[[N]], %[[C]], %[[H]], %[[W]]]
// With 4096 iterations wanted, (n, c, h) = 10752 stay parallel.
// MORE-LABEL: func.func @elementwise
// MORE: scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}) = (%c0, %c0, %c0) to (%c1, %c96, %c112)
// MORE-NEXT: scf.for
func.func @elementwise(%x: memref<1x96x112x112xf32>, %y: memref<1x96x112x112xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c96 = arith.constant 96 : index
  %c112 = arith.constant 112 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%n, %c, %h, %w) = (%c0, %c0, %c0, %c0) to (%c1, %c96, %c112, %c112) step (%c1, %c1, %c1, %c1) {
    %v = memref.load %x[%n, %c, %h, %w] : memref<1x96x112x112xf32>
    %r = arith.maximumf %v, %zero : f32
    memref.store %r, %y[%n, %c, %h, %w] : memref<1x96x112x112xf32>
    scf.reduce
  }
  return
}

// -----

// Too few iterations in every prefix: all dims stay parallel. A dynamic dim
// counts as enough.
// CHECK-LABEL: func.func @small_and_dynamic
// CHECK: scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}) = (%c0, %c0, %c0) to (%c2, %c3, %c4)
// CHECK-NOT: scf.for
// CHECK: scf.parallel (%{{.+}}) = (%c0) to (%[[D:.+]]) step (%c1) {
// CHECK-NEXT: scf.for %{{.+}} = %c0 to %c4 step %c1
func.func @small_and_dynamic(%x: memref<2x3x4xf32>, %d: index, %z: memref<?x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %one = arith.constant 1.0 : f32
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c2, %c3, %c4) step (%c1, %c1, %c1) {
    memref.store %one, %x[%i, %j, %k] : memref<2x3x4xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%d, %c4) step (%c1, %c1) {
    memref.store %one, %z[%i, %j] : memref<?x4xf32>
    scf.reduce
  }
  return
}

// -----

// Parallel loops with reductions are left alone.
// CHECK-LABEL: func.func @reduction
// CHECK: scf.parallel (%{{.+}}, %{{.+}}) = {{.*}} init
func.func @reduction(%x: memref<64x64xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.parallel (%i, %j) = (%c0, %c0) to (%c64, %c64) step (%c1, %c1) init (%zero) -> f32 {
    %v = memref.load %x[%i, %j] : memref<64x64xf32>
    scf.reduce(%v : f32) {
    ^bb0(%a: f32, %b: f32):
      %s = arith.addf %a, %b : f32
      scf.reduce.return %s : f32
    }
  }
  return %sum : f32
}

// -----

// Iterations that hold loops or calls (an attention's tiles over (batch,
// head, chunk), each calling kernels) keep every dim parallel: with the
// leading dynamic batch alone parallel, a batch of 1 ran all 12 x 4
// iterations on one thread.
// CHECK-LABEL: func.func @heavy_iterations
// CHECK: scf.parallel (%{{.+}}, %{{.+}}, %{{.+}}) = (%c0, %c0, %c0) to (%{{.+}}, %c12, %c4)
// CHECK-NOT: scf.for
// CHECK: func.call @kernel
// CHECK: scf.parallel (%{{.+}}, %{{.+}}) = (%c0, %c0) to (%{{.+}}, %c12)
// CHECK-NEXT: scf.for
// CHECK: scf.reduce
func.func private @kernel(index, index, index)
func.func @heavy_iterations(%b: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c12 = arith.constant 12 : index
  scf.parallel (%n, %h, %c) = (%c0, %c0, %c0) to (%b, %c12, %c4) step (%c1, %c1, %c1) {
    func.call @kernel(%n, %h, %c) : (index, index, index) -> ()
    scf.reduce
  }
  scf.parallel (%n, %h) = (%c0, %c0) to (%b, %c12) step (%c1, %c1) {
    scf.for %k = %c0 to %c4 step %c1 {
      func.call @kernel(%n, %h, %k) : (index, index, index) -> ()
    }
    scf.reduce
  }
  return
}
