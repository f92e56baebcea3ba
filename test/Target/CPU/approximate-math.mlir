// RUN: kiln-opt %s --kiln-cpu-approximate-math | FileCheck %s

// f32 erf, exp and tanh become arithmetic (inside linalg bodies too); other
// math ops and other element types stay.
// CHECK-LABEL: func.func @gelu_softmax_bodies
// CHECK-NOT: math.erf {{.*}} : f32
// CHECK-NOT: math.exp {{.*}} : f32
// CHECK-NOT: math.tanh {{.*}} : f32
// CHECK: math.fma
// CHECK: math.sqrt
// CHECK: math.erf %{{.+}} : f64
func.func @gelu_softmax_bodies(%x: tensor<8xf32>, %d: f64) -> (tensor<8xf32>, f64) {
  %init = tensor.empty() : tensor<8xf32>
  %0 = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%x : tensor<8xf32>) outs(%init : tensor<8xf32>) {
  ^bb0(%a: f32, %out: f32):
    %e = math.erf %a : f32
    %p = math.exp %e : f32
    %t = math.tanh %p : f32
    %s = math.sqrt %t : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  %1 = math.erf %d : f64
  return %0, %1 : tensor<8xf32>, f64
}
