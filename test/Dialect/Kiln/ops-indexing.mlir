// RUN: kiln-opt %s --split-input-file --verify-diagnostics | FileCheck %s

// Result types are inferred: top_k's k, when constant, sizes the axis;
// einsum's implicit output is the labels that occur once, alphabetically
// (so "ji" transposes).
// CHECK-LABEL: func.func @inferred
func.func @inferred(%x: tensor<3x4xf32>, %i: tensor<2x1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>, tensor<2x4xf32>, tensor<4x3xf32>) {
  %k = kiln.constant dense<2> : tensor<1xi64>
  // CHECK: kiln.top_k %{{.+}}, %{{.+}} {axis = 1 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  %v, %idx = kiln.top_k %x, %k {axis = 1 : i64} : (tensor<3x4xf32>, tensor<1xi64>) -> (tensor<3x2xf32>, tensor<3x2xi64>)
  // CHECK: kiln.gather_nd
  %g = kiln.gather_nd %x, %i : (tensor<3x4xf32>, tensor<2x1xi64>) -> tensor<2x4xf32>
  // CHECK: kiln.einsum %{{.+}} {equation = "ji"} : (tensor<3x4xf32>) -> tensor<4x3xf32>
  %t = kiln.einsum %x {equation = "ji"} : (tensor<3x4xf32>) -> tensor<4x3xf32>
  return %v, %idx, %g, %t : tensor<3x2xf32>, tensor<3x2xi64>, tensor<2x4xf32>, tensor<4x3xf32>
}

// -----

func.func @einsum_bad_term(%x: tensor<3x4xf32>) -> tensor<3xf32> {
  // expected-error @+1 {{'kiln.einsum' op equation 'ijk->i' term 'ijk' does not match an operand of rank 2}}
  %0 = kiln.einsum %x {equation = "ijk->i"} : (tensor<3x4xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

func.func @gather_nd_long_tuple(%x: tensor<3x4xf32>, %i: tensor<2x3xi64>) -> tensor<2xf32> {
  // expected-error @+1 {{'kiln.gather_nd' op index tuples are longer than the input's rank}}
  %0 = kiln.gather_nd %x, %i : (tensor<3x4xf32>, tensor<2x3xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @scatter_nd_bad_updates(%x: tensor<8xf32>, %i: tensor<4x1xi64>, %u: tensor<4x2xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'kiln.scatter_nd' op updates must have rank 1}}
  %0 = kiln.scatter_nd %x, %i, %u : (tensor<8xf32>, tensor<4x1xi64>, tensor<4x2xf32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// non_max_suppression lists (batch, class, box) of its picks: the count is
// known at run time only. det drops the two matrix dims.
// CHECK-LABEL: func.func @nms_det
// CHECK: kiln.non_max_suppression {{.+}} -> tensor<?x3xi64>
// CHECK: kiln.det %{{.+}} : (tensor<3x2x2xf32>) -> tensor<3xf32>
func.func @nms_det(%b: tensor<1x6x4xf32>, %s: tensor<1x2x6xf32>, %m: tensor<i64>, %t: tensor<f32>, %x: tensor<3x2x2xf32>) -> (tensor<?x3xi64>, tensor<3xf32>) {
  %0 = kiln.non_max_suppression %b, %s, %m, %t, %t : (tensor<1x6x4xf32>, tensor<1x2x6xf32>, tensor<i64>, tensor<f32>, tensor<f32>) -> tensor<?x3xi64>
  %1 = kiln.det %x : (tensor<3x2x2xf32>) -> tensor<3xf32>
  return %0, %1 : tensor<?x3xi64>, tensor<3xf32>
}

// -----

func.func @nms_box_count(%b: tensor<1x6x4xf32>, %s: tensor<1x2x5xf32>, %m: tensor<i64>, %t: tensor<f32>) -> tensor<?x3xi64> {
  // expected-error @+1 {{'kiln.non_max_suppression' op boxes 'tensor<1x6x4xf32>' and scores 'tensor<1x2x5xf32>' disagree on the batch or the number of boxes}}
  %0 = kiln.non_max_suppression %b, %s, %m, %t, %t : (tensor<1x6x4xf32>, tensor<1x2x5xf32>, tensor<i64>, tensor<f32>, tensor<f32>) -> tensor<?x3xi64>
  return %0 : tensor<?x3xi64>
}

// -----

func.func @nms_limit_rank(%b: tensor<1x6x4xf32>, %s: tensor<1x2x6xf32>, %m: tensor<1xi64>, %t: tensor<f32>) -> tensor<?x3xi64> {
  // expected-error @+1 {{'kiln.non_max_suppression' op limits must be rank-0 tensors, got 'tensor<1xi64>'}}
  %0 = kiln.non_max_suppression %b, %s, %m, %t, %t : (tensor<1x6x4xf32>, tensor<1x2x6xf32>, tensor<1xi64>, tensor<f32>, tensor<f32>) -> tensor<?x3xi64>
  return %0 : tensor<?x3xi64>
}

// -----

func.func @det_not_square(%x: tensor<2x3xf32>) -> tensor<f32> {
  // expected-error @+1 {{'kiln.det' op expects square matrices in the innermost two dims, got 'tensor<2x3xf32>'}}
  %0 = kiln.det %x : (tensor<2x3xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
