// RUN: kiln-opt %s --kiln-gpu-map-parallel-loops --split-input-file | FileCheck %s

// A 2-D loop with a dynamic extent: one thread per point, 256 per block,
// the grid computed on the host; the id splits innermost dim first.
// CHECK-LABEL: func.func @elementwise
// CHECK-SAME: %[[A:.*]]: memref<?x128xf32>, %[[B:.*]]: memref<?x128xf32>
// CHECK-DAG: %[[C128:.*]] = arith.constant 128 : index
// CHECK-DAG: %[[M:.*]] = memref.dim %[[A]]
// CHECK: %[[TOTAL:.*]] = arith.muli %[[M]], %[[C128]]
// CHECK: %[[C256:.*]] = arith.constant 256 : index
// CHECK: %[[BLOCKS:.*]] = arith.ceildivui %[[TOTAL]], %[[C256]]
// CHECK: %[[GRID:.*]] = arith.maxui %[[BLOCKS]]
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[GRID]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C256]]
// CHECK: %[[BASE:.*]] = arith.muli %[[BX]], %[[C256]]
// CHECK: %[[ID:.*]] = arith.addi %[[BASE]], %[[TX]]
// CHECK: %[[IN:.*]] = arith.cmpi ult, %[[ID]], %[[TOTAL]]
// CHECK: scf.if %[[IN]] {
// CHECK: %[[J:.*]] = arith.remui %[[ID]], %[[C128]]
// CHECK: %[[I:.*]] = arith.divui %[[ID]], %[[C128]]
// CHECK: %[[X:.*]] = memref.load %[[A]][%[[I]], %[[J]]]
// CHECK: %[[Y:.*]] = math.exp %[[X]]
// CHECK: memref.store %[[Y]], %[[B]][%[[I]], %[[J]]]
// CHECK: gpu.terminator
// CHECK-NOT: scf.parallel
func.func @elementwise(%a: memref<?x128xf32>, %b: memref<?x128xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c128 = arith.constant 128 : index
  %m = memref.dim %a, %c0 : memref<?x128xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%m, %c128) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<?x128xf32>
    %y = math.exp %x : f32
    memref.store %y, %b[%i, %j] : memref<?x128xf32>
  }
  return
}

// -----

// A reduction stays a loop inside the thread; a constant the body reads is
// addressed before the launch (kernels cannot take the global's address).
// A loop with an offset and a stride maps its points the same way.
// CHECK-LABEL: func.func @row_sums
// CHECK: %[[W:.*]] = memref.get_global @weights
// CHECK: gpu.launch
// CHECK: %[[SCALED:.*]] = arith.muli %{{.*}}, %c2 :
// CHECK: %[[ROW:.*]] = arith.addi %[[SCALED]], %c1 :
// CHECK: scf.for
// CHECK: memref.load %{{.*}}[%[[ROW]], %{{.*}}]
// CHECK: memref.load %[[W]]
memref.global "private" constant @weights : memref<64xf32> = dense<1.0>
func.func @row_sums(%a: memref<32x64xf32>, %out: memref<32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c32 = arith.constant 32 : index
  %c64 = arith.constant 64 : index
  scf.parallel (%i) = (%c1) to (%c32) step (%c2) {
    %w = memref.get_global @weights : memref<64xf32>
    %zero = arith.constant 0.0 : f32
    %sum = scf.for %k = %c0 to %c64 step %c1 iter_args(%acc = %zero) -> f32 {
      %x = memref.load %a[%i, %k] : memref<32x64xf32>
      %s = memref.load %w[%k] : memref<64xf32>
      %p = arith.mulf %x, %s : f32
      %n = arith.addf %acc, %p : f32
      scf.yield %n : f32
    }
    memref.store %sum, %out[%i] : memref<32xf32>
  }
  return
}

// -----

// Copies run on the device too.
// CHECK-LABEL: func.func @copy
// CHECK-NOT: memref.copy
// CHECK: gpu.launch
// CHECK: memref.load
// CHECK: memref.store
func.func @copy(%a: memref<4x?xf32>, %b: memref<4x?xf32>) {
  memref.copy %a, %b : memref<4x?xf32> to memref<4x?xf32>
  return
}

// -----

// A body that allocates, or calls a function defined elsewhere, stays on
// the host.
// CHECK-LABEL: func.func @host_only
// CHECK-NOT: gpu.launch
// CHECK: scf.parallel
// CHECK: memref.alloc
// CHECK: scf.parallel
// CHECK: call @external
func.func private @external(index)
func.func @host_only(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    %t = memref.alloc() : memref<16xf32>
    memref.dealloc %t : memref<16xf32>
  }
  scf.parallel (%i) = (%c0) to (%n) step (%c1) {
    func.call @external(%i) : (index) -> ()
  }
  return
}

// -----

// Static extents whose product fits 31 bits split the id in i32.
// CHECK-LABEL: func.func @static_split
// CHECK: gpu.launch
// CHECK: %[[ID:.*]] = arith.index_castui %{{.*}} : index to i32
// CHECK: %[[J:.*]] = arith.remui %[[ID]], %c100_i32 : i32
// CHECK: %[[I:.*]] = arith.divui %[[ID]], %c100_i32{{.*}} : i32
// CHECK: arith.index_castui %[[J]] : i32 to index
// CHECK: arith.index_castui %[[I]] : i32 to index
func.func @static_split(%a: memref<8x100xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %c100 = arith.constant 100 : index
  scf.parallel (%i, %j) = (%c0, %c0) to (%c8, %c100) step (%c1, %c1) {
    %x = memref.load %a[%i, %j] : memref<8x100xf32>
    %y = arith.addf %x, %x : f32
    memref.store %y, %a[%i, %j] : memref<8x100xf32>
  }
  return
}
