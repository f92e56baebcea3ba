// RUN: kiln-opt %s --kiln-cpu-reassociate-reductions | FileCheck %s

// A row sum's add may be reassociated (LLVM then sums in vector lanes); an
// elementwise op and a contraction marked for a microkernel keep theirs.
// CHECK-LABEL: func.func @reductions
// CHECK: linalg.generic
// CHECK: arith.addf %{{.+}}, %{{.+}} fastmath<reassoc> : f32
// CHECK: linalg.generic
// CHECK: arith.addf %{{.+}}, %{{.+}} : f32
// CHECK: linalg.matmul {kiln.ukernel
func.func @reductions(%x: tensor<8x16xf32>, %acc: tensor<8xf32>, %a: tensor<8x8xf32>, %c: tensor<8x8xf32>)
    -> (tensor<8xf32>, tensor<8x16xf32>, tensor<8x8xf32>) {
  %0 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<8x16xf32>) outs(%acc : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %out, %in : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  %1 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<8x16xf32>) outs(%x : tensor<8x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %in, %in : f32
    linalg.yield %s : f32
  } -> tensor<8x16xf32>
  %2 = linalg.matmul {kiln.ukernel = {isa = "generic", kernel = "sgemm", register_tile = array<i64: 4, 16>}}
      ins(%a, %a : tensor<8x8xf32>, tensor<8x8xf32>) outs(%c : tensor<8x8xf32>) -> tensor<8x8xf32>
  return %0, %1, %2 : tensor<8xf32>, tensor<8x16xf32>, tensor<8x8xf32>
}
