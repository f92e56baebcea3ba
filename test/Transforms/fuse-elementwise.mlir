// RUN: kiln-opt %s -pass-pipeline='builtin.module(convert-kiln-to-linalg, func.func(kiln-fuse-elementwise))' -split-input-file | FileCheck %s

// A diamond: %e feeds two ops whose results meet again. Upstream's
// single-use rule leaves %e alone; here the whole DAG is one generic.
// CHECK-LABEL: func.func @diamond(
// CHECK-COUNT-1: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK-DAG: math.exp
// CHECK-DAG: arith.negf
// CHECK-DAG: math.absf
// CHECK: arith.addf
// CHECK: return
func.func @diamond(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = kiln.exp %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %n = kiln.neg %e : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %a = kiln.abs %e : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = kiln.add %n, %a : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// -----

// The normalization arithmetic stays out of the matmul that reads it: the
// matmul reads each input element once per output column, so fusing would
// recompute the rsqrt that many times.
// CHECK-LABEL: func.func @norm_then_matmul(
// CHECK: math.rsqrt
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]
// CHECK-NOT: math.rsqrt
// CHECK: return
func.func @norm_then_matmul(%x: tensor<1x4x16xf32>, %g: tensor<16xf32>, %w: tensor<16x8xf32>) -> tensor<1x4x8xf32> {
  %n = kiln.layer_norm %x, %g : (tensor<1x4x16xf32>, tensor<16xf32>) -> tensor<1x4x16xf32>
  %m = kiln.matmul %n, %w : (tensor<1x4x16xf32>, tensor<16x8xf32>) -> tensor<1x4x8xf32>
  return %m : tensor<1x4x8xf32>
}

// -----

// A ReLU that a matmul reads is written once anyway: the add that reads it
// too does not get a copy of it (the ReLU can then go into the epilogue of
// the product before it, as between residual blocks).
// CHECK-LABEL: func.func @relu_read_by_matmul(
// CHECK: %[[RELU:.+]] = linalg.generic
// CHECK: arith.maximumf
// CHECK: linalg.matmul ins(%[[RELU]]
// CHECK: linalg.generic {{.*}} ins(%{{.+}}, %[[RELU]]
// CHECK-NOT: arith.maximumf
// CHECK: return
func.func @relu_read_by_matmul(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %r = kiln.relu %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %m = kiln.matmul %r, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %s = kiln.add %m, %r : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// -----

// A sum of two tensors that two ops read is written once: a copy in each
// would read both tensors again (residual sums copied down a chain of
// blocks made one op read seven tensors). A unary op on one tensor is
// still copied into each reader.
// CHECK-LABEL: func.func @two_input_producer(
// CHECK: %[[SUM:.+]] = linalg.generic
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}} ins(%[[SUM]]
// CHECK: linalg.generic {{.*}} ins(%[[SUM]]
// CHECK-LABEL: func.func @one_input_producer(
// CHECK-COUNT-2: math.exp
// CHECK: return
func.func @two_input_producer(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %s = kiln.add %x, %y : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %a = kiln.relu %s : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %b = kiln.neg %s : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %a, %b : tensor<4x8xf32>, tensor<4x8xf32>
}
func.func @one_input_producer(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %e = kiln.exp %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %a = kiln.relu %e : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %b = kiln.neg %e : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %a, %b : tensor<4x8xf32>, tensor<4x8xf32>
}
