// RUN: kiln-opt %s --convert-kiln-to-linalg --split-input-file | FileCheck %s

// kiln.matmul and kiln.gemm (LinearAlgebra.cpp): contractions accumulate into
// a zero-filled init.

//===----------------------------------------------------------------------===//
// MatMul
//===----------------------------------------------------------------------===//

// 2-D operands: linalg.matmul; the dynamic N of the init comes from rhs.
// CHECK-LABEL: func.func @matmul_2d(
// CHECK-SAME: %[[A:[^:]+]]: tensor<4x8xf32>, %[[B:[^:]+]]: tensor<8x?xf32>)
// CHECK: %[[C1:.+]] = arith.constant 1 : index
// CHECK: %[[N:.+]] = tensor.dim %[[B]], %[[C1]] : tensor<8x?xf32>
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[EMPTY:.+]] = tensor.empty(%[[N]]) : tensor<4x?xf32>
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<4x?xf32>) -> tensor<4x?xf32>
// CHECK: %[[R:.+]] = linalg.matmul ins(%[[A]], %[[B]] : tensor<4x8xf32>, tensor<8x?xf32>) outs(%[[INIT]] : tensor<4x?xf32>) -> tensor<4x?xf32>
// CHECK: return %[[R]]
func.func @matmul_2d(%a: tensor<4x8xf32>, %b: tensor<8x?xf32>) -> tensor<4x?xf32> {
  %0 = kiln.matmul %a, %b : (tensor<4x8xf32>, tensor<8x?xf32>) -> tensor<4x?xf32>
  return %0 : tensor<4x?xf32>
}

// -----

// Integer matmul: the same named op with an integer zero.
// CHECK-LABEL: func.func @matmul_i32(
// CHECK: %[[ZERO:.+]] = arith.constant 0 : i32
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : i32)
// CHECK: linalg.matmul ins(%{{.+}}, %{{.+}} : tensor<2x3xi32>, tensor<3x5xi32>) outs(%[[INIT]] : tensor<2x5xi32>)
func.func @matmul_i32(%a: tensor<2x3xi32>, %b: tensor<3x5xi32>) -> tensor<2x5xi32> {
  %0 = kiln.matmul %a, %b : (tensor<2x3xi32>, tensor<3x5xi32>) -> tensor<2x5xi32>
  return %0 : tensor<2x5xi32>
}

// -----

// Batched with broadcast batch dims: loops (b0, b1, m, n, k). lhs's batch
// dim of 1 is read at 0, rhs's missing leading batch dim is dropped; the last
// loop is the reduction.
// CHECK-DAG: #[[$LHS:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, 0, d2, d4)>
// CHECK-DAG: #[[$RHS:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d4, d3)>
// CHECK-DAG: #[[$OUT:.+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @matmul_batched(
// CHECK-SAME: %[[A:[^:]+]]: tensor<2x1x4x8xf32>, %[[B:[^:]+]]: tensor<3x8x5xf32>)
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<2x3x4x5xf32>
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<2x3x4x5xf32>)
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$LHS]], #[[$RHS]], #[[$OUT]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[A]], %[[B]] : tensor<2x1x4x8xf32>, tensor<3x8x5xf32>) outs(%[[INIT]] : tensor<2x3x4x5xf32>)
// CHECK-NEXT: ^bb0(%[[X:[^:]+]]: f32, %[[Y:[^:]+]]: f32, %[[ACC:[^:]+]]: f32):
// CHECK-NEXT: %[[MUL:.+]] = arith.mulf %[[X]], %[[Y]] : f32
// CHECK-NEXT: %[[ADD:.+]] = arith.addf %[[ACC]], %[[MUL]] : f32
// CHECK-NEXT: linalg.yield %[[ADD]] : f32
// CHECK: return %[[R]]
func.func @matmul_batched(%a: tensor<2x1x4x8xf32>, %b: tensor<3x8x5xf32>) -> tensor<2x3x4x5xf32> {
  %0 = kiln.matmul %a, %b : (tensor<2x1x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x3x4x5xf32>
  return %0 : tensor<2x3x4x5xf32>
}

// -----

// A dynamic batch dim is read from the operand that has it.
// CHECK-DAG: #[[$LHS:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[$RHS:.+]] = affine_map<(d0, d1, d2, d3) -> (0, d3, d2)>
// CHECK-LABEL: func.func @matmul_batched_dynamic(
// CHECK-SAME: %[[A:[^:]+]]: tensor<?x4x8xf32>, %[[B:[^:]+]]: tensor<1x8x5xf32>)
// CHECK: %[[C0:.+]] = arith.constant 0 : index
// CHECK: %[[BATCH:.+]] = tensor.dim %[[A]], %[[C0]] : tensor<?x4x8xf32>
// CHECK: %[[EMPTY:.+]] = tensor.empty(%[[BATCH]]) : tensor<?x4x5xf32>
// CHECK: %[[INIT:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[EMPTY]] : tensor<?x4x5xf32>)
// CHECK: linalg.generic {indexing_maps = [#[[$LHS]], #[[$RHS]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[A]], %[[B]] : tensor<?x4x8xf32>, tensor<1x8x5xf32>) outs(%[[INIT]] : tensor<?x4x5xf32>)
func.func @matmul_batched_dynamic(%a: tensor<?x4x8xf32>, %b: tensor<1x8x5xf32>) -> tensor<?x4x5xf32> {
  %0 = kiln.matmul %a, %b : (tensor<?x4x8xf32>, tensor<1x8x5xf32>) -> tensor<?x4x5xf32>
  return %0 : tensor<?x4x5xf32>
}

// -----

// A 1-D lhs is promoted to 1 x K, a 1-D rhs to K x 1; the added dims are
// collapsed away from the result.
// CHECK-LABEL: func.func @matmul_vector(
// CHECK-SAME: %[[V:[^:]+]]: tensor<8xf32>, %[[B:[^:]+]]: tensor<2x8x5xf32>, %[[M:[^:]+]]: tensor<4x8xf32>)
// CHECK: %[[ROW:.+]] = tensor.expand_shape %[[V]] {{\[}}[0, 1]] output_shape [1, 8] : tensor<8xf32> into tensor<1x8xf32>
// CHECK: %[[INIT0:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x1x5xf32>)
// CHECK: %[[VM:.+]] = linalg.generic {{.*}} ins(%[[ROW]], %[[B]] : tensor<1x8xf32>, tensor<2x8x5xf32>) outs(%[[INIT0]] : tensor<2x1x5xf32>)
// CHECK: %[[R0:.+]] = tensor.collapse_shape %[[VM]] {{\[}}[0], [1, 2]] : tensor<2x1x5xf32> into tensor<2x5xf32>
// CHECK: %[[COL:.+]] = tensor.expand_shape %[[V]] {{\[}}[0, 1]] output_shape [8, 1] : tensor<8xf32> into tensor<8x1xf32>
// CHECK: %[[INIT1:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<4x1xf32>)
// CHECK: %[[MV:.+]] = linalg.matmul ins(%[[M]], %[[COL]] : tensor<4x8xf32>, tensor<8x1xf32>) outs(%[[INIT1]] : tensor<4x1xf32>)
// CHECK: %[[R1:.+]] = tensor.collapse_shape %[[MV]] {{\[}}[0, 1]] : tensor<4x1xf32> into tensor<4xf32>
// CHECK: %[[ROW2:.+]] = tensor.expand_shape %[[V]] {{\[}}[0, 1]] output_shape [1, 8] : tensor<8xf32> into tensor<1x8xf32>
// CHECK: %[[COL2:.+]] = tensor.expand_shape %[[V]] {{\[}}[0, 1]] output_shape [8, 1] : tensor<8xf32> into tensor<8x1xf32>
// CHECK: %[[VV:.+]] = linalg.matmul ins(%[[ROW2]], %[[COL2]] : tensor<1x8xf32>, tensor<8x1xf32>) outs(%{{.+}} : tensor<1x1xf32>)
// CHECK: %[[R2:.+]] = tensor.collapse_shape %[[VV]] [] : tensor<1x1xf32> into tensor<f32>
// CHECK: return %[[R0]], %[[R1]], %[[R2]] : tensor<2x5xf32>, tensor<4xf32>, tensor<f32>
func.func @matmul_vector(%v: tensor<8xf32>, %b: tensor<2x8x5xf32>, %m: tensor<4x8xf32>) -> (tensor<2x5xf32>, tensor<4xf32>, tensor<f32>) {
  %0 = kiln.matmul %v, %b : (tensor<8xf32>, tensor<2x8x5xf32>) -> tensor<2x5xf32>
  %1 = kiln.matmul %m, %v : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<4xf32>
  %2 = kiln.matmul %v, %v : (tensor<8xf32>, tensor<8xf32>) -> tensor<f32>
  return %0, %1, %2 : tensor<2x5xf32>, tensor<4xf32>, tensor<f32>
}

// -----

//===----------------------------------------------------------------------===//
// Gemm
//===----------------------------------------------------------------------===//

// trans_b reads B as (n, k); alpha and beta scale in a broadcasting epilogue
// that adds C.
// CHECK-DAG: #[[$A:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$BT:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$MN:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROW:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @gemm_trans_b_alpha_beta(
// CHECK-SAME: %[[A:[^:]+]]: tensor<2x8xf32>, %[[B:[^:]+]]: tensor<5x8xf32>, %[[C:[^:]+]]: tensor<5xf32>)
// CHECK: %[[INIT:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x5xf32>)
// CHECK: %[[PROD:.+]] = linalg.generic {indexing_maps = [#[[$A]], #[[$BT]], #[[$MN]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[A]], %[[B]] : tensor<2x8xf32>, tensor<5x8xf32>) outs(%[[INIT]] : tensor<2x5xf32>)
// CHECK-NEXT: ^bb0(%[[X:[^:]+]]: f32, %[[Y:[^:]+]]: f32, %[[ACC:[^:]+]]: f32):
// CHECK-NEXT: %[[MUL:.+]] = arith.mulf %[[X]], %[[Y]] : f32
// CHECK-NEXT: %[[ADD:.+]] = arith.addf %[[ACC]], %[[MUL]] : f32
// CHECK-NEXT: linalg.yield %[[ADD]] : f32
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]], #[[$ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[PROD]], %[[C]] : tensor<2x5xf32>, tensor<5xf32>)
// CHECK-NEXT: ^bb0(%[[P:[^:]+]]: f32, %[[CI:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[ALPHA:.+]] = arith.constant 2.000000e+00 : f32
// CHECK-NEXT: %[[PA:.+]] = arith.mulf %[[P]], %[[ALPHA]] : f32
// CHECK-NEXT: %[[BETA:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[CB:.+]] = arith.mulf %[[CI]], %[[BETA]] : f32
// CHECK-NEXT: %[[SUM:.+]] = arith.addf %[[PA]], %[[CB]] : f32
// CHECK-NEXT: linalg.yield %[[SUM]] : f32
// CHECK: return %[[R]]
func.func @gemm_trans_b_alpha_beta(%a: tensor<2x8xf32>, %b: tensor<5x8xf32>, %c: tensor<5xf32>) -> tensor<2x5xf32> {
  %0 = kiln.gemm %a, %b, %c {trans_b = true, alpha = 2.0 : f32, beta = 0.5 : f32} : (tensor<2x8xf32>, tensor<5x8xf32>, tensor<5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// Without C and with alpha = 1 the contraction is the result.
// CHECK-LABEL: func.func @gemm_no_c(
// CHECK: %[[PROD:.+]] = linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return %[[PROD]]
func.func @gemm_no_c(%a: tensor<2x8xf32>, %b: tensor<8x5xf32>) -> tensor<2x5xf32> {
  %0 = kiln.gemm %a, %b : (tensor<2x8xf32>, tensor<8x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// trans_a reads A as (k, m); with alpha = beta = 1 the epilogue only adds the
// (scalar) C.
// CHECK-DAG: #[[$AT:.+]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[$B:.+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[$SCALAR:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @gemm_trans_a(
// CHECK-SAME: %[[A:[^:]+]]: tensor<8x2xf32>, %[[B:[^:]+]]: tensor<8x5xf32>, %[[C:[^:]+]]: tensor<f32>)
// CHECK: %[[PROD:.+]] = linalg.generic {indexing_maps = [#[[$AT]], #[[$B]], #{{.+}}], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[A]], %[[B]] : tensor<8x2xf32>, tensor<8x5xf32>)
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[$SCALAR]], #{{.+}}], iterator_types = ["parallel", "parallel"]} ins(%[[PROD]], %[[C]] : tensor<2x5xf32>, tensor<f32>)
// CHECK-NEXT: ^bb0(%[[P:[^:]+]]: f32, %[[CI:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[SUM:.+]] = arith.addf %[[P]], %[[CI]] : f32
// CHECK-NEXT: linalg.yield %[[SUM]] : f32
func.func @gemm_trans_a(%a: tensor<8x2xf32>, %b: tensor<8x5xf32>, %c: tensor<f32>) -> tensor<2x5xf32> {
  %0 = kiln.gemm %a, %b, %c {trans_a = true} : (tensor<8x2xf32>, tensor<8x5xf32>, tensor<f32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// beta = 0 drops C.
// CHECK-LABEL: func.func @gemm_beta_zero(
// CHECK-SAME: %{{[^:]+}}: tensor<2x8xf32>, %{{[^:]+}}: tensor<8x5xf32>, %[[C:[^:]+]]: tensor<2x5xf32>)
// CHECK: %[[PROD:.+]] = linalg.generic
// CHECK: linalg.generic {{.*}} ins(%[[PROD]] : tensor<2x5xf32>)
// CHECK-NEXT: ^bb0(%[[P:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[ALPHA:.+]] = arith.constant 3.000000e+00 : f32
// CHECK-NEXT: %[[R:.+]] = arith.mulf %[[P]], %[[ALPHA]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
func.func @gemm_beta_zero(%a: tensor<2x8xf32>, %b: tensor<8x5xf32>, %c: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = kiln.gemm %a, %b, %c {alpha = 3.0 : f32, beta = 0.0 : f32} : (tensor<2x8xf32>, tensor<8x5xf32>, tensor<2x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// matmul_integer: one generic that widens each 8-bit operand to i32 as its
// signedness says (ui8 zero-extends, i8 sign-extends) and subtracts the zero
// points, read per tensor (map to ()) or per column (map to n).
// CHECK-DAG: #[[A:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[B:.+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[ONCE:.+]] = affine_map<(d0, d1, d2) -> ()>
// CHECK-DAG: #[[COL:.+]] = affine_map<(d0, d1, d2) -> (d1)>
// CHECK-LABEL: func.func @matmul_integer(
// CHECK: %[[ZERO:.+]] = linalg.fill ins(%{{.+}} : i32)
// CHECK: linalg.generic {indexing_maps = [#[[A]], #[[B]], #[[ONCE]], #[[COL]], #{{.+}}], iterator_types = ["parallel", "parallel", "reduction"]}
// CHECK-SAME: outs(%[[ZERO]] : tensor<4x3xi32>)
// CHECK: ^bb0(%[[IA:.+]]: i8, %[[IB:.+]]: i8, %[[IZA:.+]]: i8, %[[IZB:.+]]: i8, %[[OUT:.+]]: i32):
// CHECK: %[[WA:.+]] = arith.extui %[[IA]] : i8 to i32
// CHECK: %[[WB:.+]] = arith.extsi %[[IB]] : i8 to i32
// CHECK: %[[WZA:.+]] = arith.extui %[[IZA]] : i8 to i32
// CHECK: %[[DA:.+]] = arith.subi %[[WA]], %[[WZA]] : i32
// CHECK: %[[WZB:.+]] = arith.extsi %[[IZB]] : i8 to i32
// CHECK: %[[DB:.+]] = arith.subi %[[WB]], %[[WZB]] : i32
// CHECK: %[[P:.+]] = arith.muli %[[DA]], %[[DB]] : i32
// CHECK: %[[S:.+]] = arith.addi %[[OUT]], %[[P]] : i32
// CHECK: linalg.yield %[[S]] : i32
func.func @matmul_integer(%a: tensor<4x8xui8>, %b: tensor<8x3xi8>, %za: tensor<ui8>, %zb: tensor<3xi8>) -> tensor<4x3xi32> {
  %y = kiln.matmul_integer %a, %b lhs_zero_point %za rhs_zero_point %zb : (tensor<4x8xui8>, tensor<8x3xi8>, tensor<ui8>, tensor<3xi8>) -> tensor<4x3xi32>
  return %y : tensor<4x3xi32>
}

// -----

// A 1-D zero point of one element stands for every row: it becomes a scalar.
// CHECK-LABEL: func.func @matmul_integer_single_zero_point(
// CHECK: %[[Z:.+]] = tensor.collapse_shape %{{.+}} [] : tensor<1xi8> into tensor<i8>
// CHECK: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}}, %[[Z]] : tensor<2x5xi8>, tensor<5x1xi8>, tensor<i8>)
func.func @matmul_integer_single_zero_point(%a: tensor<2x5xi8>, %b: tensor<5xi8>, %za: tensor<1xi8>) -> tensor<2xi32> {
  %y = kiln.matmul_integer %a, %b lhs_zero_point %za : (tensor<2x5xi8>, tensor<5xi8>, tensor<1xi8>) -> tensor<2xi32>
  return %y : tensor<2xi32>
}
