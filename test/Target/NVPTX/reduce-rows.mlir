// RUN: kiln-opt %s --kiln-gpu-reduce-rows --split-input-file | FileCheck %s

// A row sum of exp(x): one warp per row (8 rows per 256-thread block);
// lane l folds elements l, l + 32, ... from the neutral element, XOR
// shuffles combine the lanes, and lane 0 adds the output's initial value.
// CHECK-LABEL: func.func @row_sum
// CHECK-SAME: %[[X:.*]]: memref<?x1000xf32>, %[[Y:.*]]: memref<?xf32>
// CHECK: %[[C1000:.*]] = arith.constant 1000 : index
// CHECK: gpu.launch
// CHECK: %[[C32:.*]] = arith.constant 32 : index
// CHECK: %[[LANE:.*]] = arith.remui %{{.*}}, %[[C32]]
// CHECK: scf.if
// CHECK: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[PARTIAL:.*]] = scf.for %[[J:.*]] = %[[LANE]] to %[[C1000]] step %[[C32]] iter_args(%[[ACC:.*]] = %[[ZERO]])
// CHECK: %[[V:.*]] = memref.load %[[X]][%{{.*}}, %[[J]]]
// CHECK: %[[E:.*]] = math.exp %[[V]]
// CHECK: %[[S:.*]] = arith.addf %[[E]], %[[ACC]]
// CHECK: scf.yield %[[S]]
// CHECK: gpu.shuffle  xor %[[PARTIAL]], %c16_i32, %c32_i32 : f32
// CHECK: gpu.shuffle  xor %{{.*}}, %c8_i32
// CHECK: gpu.shuffle  xor %{{.*}}, %c4_i32
// CHECK: gpu.shuffle  xor %{{.*}}, %c2_i32
// CHECK: %[[LAST:.*]], %{{.*}} = gpu.shuffle  xor %{{.*}}, %c1_i32
// CHECK: %[[TOTAL:.*]] = arith.addf %{{.*}}, %[[LAST]]
// CHECK: scf.if
// CHECK: %[[INIT:.*]] = memref.load %[[Y]]
// CHECK: %[[OUT:.*]] = arith.addf %[[INIT]], %[[TOTAL]]
// CHECK: memref.store %[[OUT]], %[[Y]]
// CHECK-NOT: linalg.generic
func.func @row_sum(%x: memref<?x1000xf32>, %y: memref<?xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : memref<?x1000xf32>) outs(%y : memref<?xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    %s = arith.addf %e, %out : f32
    linalg.yield %s : f32
  }
  return
}

// -----

// A row max starts each lane at -inf.
// CHECK-LABEL: func.func @row_max
// CHECK: arith.constant 0xFF800000 : f32
// CHECK: scf.for
// CHECK: arith.maximumf
// CHECK: gpu.shuffle  xor
func.func @row_max(%x: memref<4x64xf32>, %y: memref<4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : memref<4x64xf32>) outs(%y : memref<4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.maximumf %in, %out : f32
    linalg.yield %m : f32
  }
  return
}

// -----

// Short rows, reductions over an outer loop, and bodies that are not a
// single combine of the output stay linalg.
// CHECK-LABEL: func.func @left_alone
// CHECK-NOT: gpu.launch
// CHECK-COUNT-3: linalg.generic
func.func @left_alone(%x: memref<8x16xf32>, %y: memref<8xf32>, %z: memref<16xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : memref<8x16xf32>) outs(%y : memref<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : memref<8x16xf32>) outs(%z : memref<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %out : f32
    linalg.yield %s : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]} ins(%x : memref<8x16xf32>) outs(%z : memref<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.subf %in, %out : f32
    linalg.yield %s : f32
  }
  return
}
