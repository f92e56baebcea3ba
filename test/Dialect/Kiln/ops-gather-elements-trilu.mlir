// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt %s -kiln-infer-shapes | FileCheck %s --check-prefix=INFER
// RUN: kiln-opt %s -convert-kiln-to-linalg | FileCheck %s --check-prefix=LINALG

// Round trip, inference and lowering of gather_elements and trilu.
// CHECK-LABEL: func.func @gather_elements_trilu(
// CHECK: kiln.gather_elements %arg0, %arg1 {axis = 1 : i64} : (tensor<3x10xf32>, tensor<3x4xi64>) -> tensor<?x?xf32>
// CHECK: kiln.trilu %arg2 k %arg3 {upper = false} : (tensor<2x4x5xf32>, tensor<i64>) -> tensor<2x4x5xf32>
// CHECK: kiln.trilu %arg2 : (tensor<2x4x5xf32>) -> tensor<2x4x5xf32>
// INFER: kiln.gather_elements {{.+}} -> tensor<3x4xf32>

// The gather reads the input at (row, index) through tensor.extract; the
// triangle compares col - row with k, read once before the loops.
// LINALG-DAG: %[[K:.+]] = tensor.extract %arg3[] : tensor<i64>
// LINALG-DAG: tensor.extract %arg0[%{{.+}}, %{{.+}}] : tensor<3x10xf32>
// LINALG-DAG: arith.cmpi sle, %{{.+}}, %[[K]] : i64
// LINALG-DAG: arith.cmpi sge, %{{.+}}, %{{.+}} : i64
func.func @gather_elements_trilu(%x: tensor<3x10xf32>, %i: tensor<3x4xi64>, %m: tensor<2x4x5xf32>, %k: tensor<i64>) -> (tensor<?x?xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32>) {
  %0 = kiln.gather_elements %x, %i {axis = 1 : i64} : (tensor<3x10xf32>, tensor<3x4xi64>) -> tensor<?x?xf32>
  %1 = kiln.trilu %m k %k {upper = false} : (tensor<2x4x5xf32>, tensor<i64>) -> tensor<2x4x5xf32>
  %2 = kiln.trilu %m : (tensor<2x4x5xf32>) -> tensor<2x4x5xf32>
  return %0, %1, %2 : tensor<?x?xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32>
}
