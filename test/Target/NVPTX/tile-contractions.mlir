// RUN: kiln-opt %s --kiln-gpu-tile-contractions --split-input-file | FileCheck %s

// A product becomes one launch of 256 threads per 128 x 128 tile of C:
// blocks run over column tiles in x and row tiles in y (at least one each),
// A's 128 x 16 slices go transposed into a padded workgroup buffer, B's 16 x
// 128 slices as they are; each thread carries 64 sums through the k loop,
// reads its fragments 16 bytes at a time, and adds its sums to C's initial
// value where the tile is inside C.
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: %[[A:.*]]: memref<?x64xf32>, %[[B:.*]]: memref<64x256xf32>, %[[C:.*]]: memref<?x256xf32>
// CHECK: %[[ROWTILES:.*]] = arith.ceildivui %{{.*}}, %c128
// CHECK: %[[GRIDY:.*]] = arith.maxui %[[ROWTILES]]
// CHECK: gpu.launch blocks({{.*}}) in (%{{.*}} = %c2{{.*}}, %{{.*}} = %[[GRIDY]], %{{.*}} = %c1) threads({{.*}}) in (%{{.*}} = %c256{{.*}}, {{.*}}) workgroup(%[[AT:.*]] : memref<16x132xf32, #gpu.address_space<workgroup>>, %[[BT:.*]] : memref<16x128xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.if
// CHECK: %[[SUMS:.*]]:64 = scf.for %[[K0:.*]] = %{{.*}} to %c64 step %c16{{.*}} iter_args(
// CHECK: memref.load %[[A]]
// CHECK: arith.select
// CHECK: memref.store %{{.*}}, %[[AT]]
// CHECK: memref.load %[[B]]
// CHECK: memref.store %{{.*}}, %[[BT]]
// CHECK: gpu.barrier
// CHECK: vector.load %[[AT]][%{{.*}}] {alignment = 16 : i64} : memref<16x132xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// CHECK: vector.load %[[BT]]
// CHECK-COUNT-64: math.fma
// CHECK: gpu.barrier
// CHECK: scf.yield
// CHECK: scf.if
// CHECK: %[[OLD:.*]] = memref.load %[[C]]
// CHECK: %[[NEW:.*]] = arith.addf %[[OLD]], %[[SUMS]]#0
// CHECK: memref.store %[[NEW]], %[[C]]
// CHECK-NOT: linalg.matmul
func.func @matmul(%a: memref<?x64xf32>, %b: memref<64x256xf32>, %c: memref<?x256xf32>) {
  linalg.matmul ins(%a, %b : memref<?x64xf32>, memref<64x256xf32>) outs(%c : memref<?x256xf32>)
  return
}

// -----

// Batched, with a transposed B (the attention scores): the batch index
// comes from block x, B is read through its map.
// CHECK-LABEL: func.func @scores
// CHECK: gpu.launch
// CHECK: memref.load %arg1[%{{.*}}, %{{.*}}, %{{.*}}] : memref<8x1024x64xf32>
// CHECK-NOT: linalg.generic
func.func @scores(%q: memref<8x1024x64xf32>, %k: memref<8x1024x64xf32>, %s: memref<8x1024x1024xf32>) {
  linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%q, %k : memref<8x1024x64xf32>, memref<8x1024x64xf32>) outs(%s : memref<8x1024x1024xf32>) {
  ^bb0(%a: f32, %b: f32, %c: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.addf %c, %p : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A GEMV (one row) keeps one thread per output.
// CHECK-LABEL: func.func @gemv
// CHECK-NOT: gpu.launch
// CHECK: linalg.matmul
func.func @gemv(%a: memref<1x64xf32>, %b: memref<64x256xf32>, %c: memref<1x256xf32>) {
  linalg.matmul ins(%a, %b : memref<1x64xf32>, memref<64x256xf32>) outs(%c : memref<1x256xf32>)
  return
}
