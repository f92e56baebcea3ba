// RUN: kiln-opt %s | kiln-opt | FileCheck %s
// RUN: kiln-opt %s -kiln-infer-shapes | FileCheck %s --check-prefix=INFER
// RUN: kiln-opt %s -convert-kiln-to-linalg | FileCheck %s --check-prefix=LINALG

// Round trip, inference and lowering of gather_elements and trilu.
// CHECK-LABEL: func.func @gather_elements_trilu(
// CHECK: kiln.gather_elements %arg0, %arg1 {axis = 1 : i64} : (tensor<3x10xf32>, tensor<3x4xi64>) -> tensor<?x?xf32>
// CHECK: kiln.trilu %arg2 k %arg3 {upper = false} : (tensor<2x4x5xf32>, tensor<i64>) -> tensor<2x4x5xf32>
// CHECK: kiln.trilu %arg2 : (tensor<2x4x5xf32>) -> tensor<2x4x5xf32>
// INFER: kiln.gather_elements {{.+}} -> tensor<3x4xf32>

// The gather reads the input at (row, index): the row is the output's own
// (loop 0), the column the index, wrapped by the axis' extent when
// negative. Each step is checked, so a transposed read, a dropped wrap or
// a wrong extent fails here.
// First the indices are checked against [-10, 10) (the run fails through
// the runtime's trap otherwise).
// LINALG: %[[C1:.+]] = arith.constant 1 : index
// LINALG: %[[EXTENT:.+]] = tensor.dim %arg0, %[[C1]] : tensor<3x10xf32>
// LINALG: linalg.generic {{.*}} ins(%arg1 : tensor<3x4xi64>) outs(%{{.+}} : tensor<i1>)
// LINALG: func.call @kiln_model_trap
// LINALG: linalg.generic {{.*}} ins(%arg1 : tensor<3x4xi64>) outs(%{{.+}} : tensor<?x?xf32>)
// LINALG-NEXT: ^bb0(%[[IN:.+]]: i64, %{{.+}}: f32):
// LINALG-NEXT: %[[I:.+]] = arith.index_cast %[[IN]] : i64 to index
// LINALG-NEXT: %[[ZERO:.+]] = arith.constant 0 : index
// LINALG-NEXT: %[[NEG:.+]] = arith.cmpi slt, %[[I]], %[[ZERO]] : index
// LINALG-NEXT: %[[SHIFTED:.+]] = arith.addi %[[I]], %[[EXTENT]] : index
// LINALG-NEXT: %[[COL:.+]] = arith.select %[[NEG]], %[[SHIFTED]], %[[I]] : index
// LINALG-NEXT: %[[ROW:.+]] = linalg.index 0 : index
// LINALG-NEXT: %[[X:.+]] = tensor.extract %arg0[%[[ROW]], %[[COL]]] : tensor<3x10xf32>
// LINALG-NEXT: linalg.yield %[[X]] : f32

// The lower triangle keeps x where col - row <= k (k read once, before the
// loops), else 0; the upper keeps it where col - row >= 0. Row and column
// are the last two loops; the difference is col minus row, and the kept
// value is the input, so a swapped subtraction, an inverted mask or a wrong
// comparison fails here.
// LINALG: %[[K:.+]] = tensor.extract %arg3[] : tensor<i64>
// LINALG: linalg.generic {{.*}} ins(%arg2 : tensor<2x4x5xf32>)
// LINALG-NEXT: ^bb0(%[[V:.+]]: f32, %{{.+}}: f32):
// LINALG-NEXT: %[[R:.+]] = linalg.index 1 : index
// LINALG-NEXT: %[[R64:.+]] = arith.index_cast %[[R]] : index to i64
// LINALG-NEXT: %[[C:.+]] = linalg.index 2 : index
// LINALG-NEXT: %[[C64:.+]] = arith.index_cast %[[C]] : index to i64
// LINALG-NEXT: %[[D:.+]] = arith.subi %[[C64]], %[[R64]] : i64
// LINALG-NEXT: %[[KEEP:.+]] = arith.cmpi sle, %[[D]], %[[K]] : i64
// LINALG-NEXT: %[[Z:.+]] = arith.constant 0.000000e+00 : f32
// LINALG-NEXT: arith.select %[[KEEP]], %[[V]], %[[Z]] : f32
// LINALG: %[[ZERO64:.+]] = arith.constant 0 : i64
// LINALG: linalg.generic {{.*}} ins(%arg2 : tensor<2x4x5xf32>)
// LINALG-NEXT: ^bb0(%[[V2:.+]]: f32, %{{.+}}: f32):
// LINALG-NEXT: %[[R2:.+]] = linalg.index 1 : index
// LINALG-NEXT: %[[R2_64:.+]] = arith.index_cast %[[R2]] : index to i64
// LINALG-NEXT: %[[C2:.+]] = linalg.index 2 : index
// LINALG-NEXT: %[[C2_64:.+]] = arith.index_cast %[[C2]] : index to i64
// LINALG-NEXT: %[[D2:.+]] = arith.subi %[[C2_64]], %[[R2_64]] : i64
// LINALG-NEXT: %[[KEEP2:.+]] = arith.cmpi sge, %[[D2]], %[[ZERO64]] : i64
// LINALG-NEXT: %[[Z2:.+]] = arith.constant 0.000000e+00 : f32
// LINALG-NEXT: arith.select %[[KEEP2]], %[[V2]], %[[Z2]] : f32
func.func @gather_elements_trilu(%x: tensor<3x10xf32>, %i: tensor<3x4xi64>, %m: tensor<2x4x5xf32>, %k: tensor<i64>) -> (tensor<?x?xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32>) {
  %0 = kiln.gather_elements %x, %i {axis = 1 : i64} : (tensor<3x10xf32>, tensor<3x4xi64>) -> tensor<?x?xf32>
  %1 = kiln.trilu %m k %k {upper = false} : (tensor<2x4x5xf32>, tensor<i64>) -> tensor<2x4x5xf32>
  %2 = kiln.trilu %m : (tensor<2x4x5xf32>) -> tensor<2x4x5xf32>
  return %0, %1, %2 : tensor<?x?xf32>, tensor<2x4x5xf32>, tensor<2x4x5xf32>
}
