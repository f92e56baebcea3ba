// RUN: kiln-opt %s --kiln-cpu-parallel-copies | FileCheck %s

// Ranked copies (a padded input's interior, here a strided view) become
// linalg.copy; a rank-0 copy keeps memref.copy.
// CHECK-LABEL: func.func @copies
// CHECK: %[[VIEW:.+]] = memref.subview
// CHECK-NEXT: linalg.copy ins(%arg0 : memref<1x3x4x4xf32>) outs(%[[VIEW]] : memref<1x3x4x4xf32, strided<[108, 36, 6, 1], offset: 7>>)
// CHECK-NEXT: memref.copy %arg2, %arg3 : memref<f32> to memref<f32>
// CHECK-NOT: memref.copy %arg0
func.func @copies(%x: memref<1x3x4x4xf32>, %padded: memref<1x3x6x6xf32>, %s: memref<f32>, %t: memref<f32>) {
  %view = memref.subview %padded[0, 0, 1, 1] [1, 3, 4, 4] [1, 1, 1, 1] : memref<1x3x6x6xf32> to memref<1x3x4x4xf32, strided<[108, 36, 6, 1], offset: 7>>
  memref.copy %x, %view : memref<1x3x4x4xf32> to memref<1x3x4x4xf32, strided<[108, 36, 6, 1], offset: 7>>
  memref.copy %s, %t : memref<f32> to memref<f32>
  return
}
