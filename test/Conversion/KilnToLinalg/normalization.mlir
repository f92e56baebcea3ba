// RUN: kiln-opt %s --convert-kiln-to-linalg --split-input-file | FileCheck %s

// Reductions, softmax, layer_norm, batch_norm and global_average_pool
// (Normalization.cpp): a reduction is a generic into a filled init over the
// kept dims, reshaped afterwards when keepdims holds.

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

// keepdims = true: the reduced dim comes back as 1 through expand_shape.
// keepdims = false with a negative axis: the same generic, no reshape.
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$KEPT:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-LABEL: func.func @reduce_sum(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3x4xf32>)
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<2x4xf32>
// CHECK: %[[INIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[EMPTY]] : tensor<2x4xf32>)
// CHECK: %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$KEPT]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[X]] : tensor<2x3x4xf32>) outs(%[[INIT]] : tensor<2x4xf32>)
// CHECK-NEXT: ^bb0(%[[IN:[^:]+]]: f32, %[[ACC:[^:]+]]: f32):
// CHECK-NEXT: %[[ADD:.+]] = arith.addf %[[IN]], %[[ACC]] : f32
// CHECK-NEXT: linalg.yield %[[ADD]] : f32
// CHECK: %[[KEEP:.+]] = tensor.expand_shape %[[SUM]] {{\[}}[0], [1, 2]] output_shape [2, 1, 4] : tensor<2x4xf32> into tensor<2x1x4xf32>
// CHECK: %[[SUM2:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$KEPT]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[X]] : tensor<2x3x4xf32>)
// CHECK-NOT: tensor.expand_shape
// CHECK: return %[[KEEP]], %[[SUM2]] : tensor<2x1x4xf32>, tensor<2x4xf32>
func.func @reduce_sum(%x: tensor<2x3x4xf32>) -> (tensor<2x1x4xf32>, tensor<2x4xf32>) {
  %0 = kiln.reduce_sum %x {axes = array<i64: 1>, keepdims = true} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  %1 = kiln.reduce_sum %x {axes = array<i64: -2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<2x4xf32>
  return %0, %1 : tensor<2x1x4xf32>, tensor<2x4xf32>
}

// -----

// Empty axes reduce every dim; the mean divides by the element count computed
// from the (partly dynamic) dims.
// CHECK-DAG: #[[$ALL:.+]] = affine_map<(d0, d1, d2) -> ()>
// CHECK-DAG: #[[$SCALAR:.+]] = affine_map<() -> ()>
// CHECK-LABEL: func.func @reduce_mean_all(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x?x4xf32>)
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<f32>
// CHECK: %[[INIT:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[EMPTY]] : tensor<f32>)
// CHECK: %[[SUM:.+]] = linalg.generic {indexing_maps = [#{{.+}}, #[[$ALL]]], iterator_types = ["reduction", "reduction", "reduction"]} ins(%[[X]] : tensor<2x?x4xf32>) outs(%[[INIT]] : tensor<f32>)
// CHECK: arith.addf
// CHECK: %[[D0:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<2x?x4xf32>
// CHECK: %[[P0:.+]] = arith.muli %{{.+}}, %[[D0]] : index
// CHECK: %[[D1:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<2x?x4xf32>
// CHECK: %[[P1:.+]] = arith.muli %[[P0]], %[[D1]] : index
// CHECK: %[[D2:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<2x?x4xf32>
// CHECK: %[[P2:.+]] = arith.muli %[[P1]], %[[D2]] : index
// CHECK: %[[I64:.+]] = arith.index_cast %[[P2]] : index to i64
// CHECK: %[[COUNT:.+]] = arith.uitofp %[[I64]] : i64 to f32
// CHECK: %[[MEAN:.+]] = linalg.generic {indexing_maps = [#[[$SCALAR]], #[[$SCALAR]]], iterator_types = []} ins(%[[SUM]] : tensor<f32>)
// CHECK-NEXT: ^bb0(%[[S:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[DIV:.+]] = arith.divf %[[S]], %[[COUNT]] : f32
// CHECK-NEXT: linalg.yield %[[DIV]] : f32
// CHECK: return %[[MEAN]] : tensor<f32>
func.func @reduce_mean_all(%x: tensor<2x?x4xf32>) -> tensor<f32> {
  %0 = kiln.reduce_mean %x {axes = array<i64>, keepdims = false} : (tensor<2x?x4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// An integer mean divides by the count truncated to the element type.
// CHECK-LABEL: func.func @reduce_mean_i32(
// CHECK: %[[SUM:.+]] = linalg.generic
// CHECK: arith.addi
// CHECK: %[[I64:.+]] = arith.index_cast %{{.+}} : index to i64
// CHECK: %[[COUNT:.+]] = arith.trunci %[[I64]] : i64 to i32
// CHECK: linalg.generic {{.*}} ins(%[[SUM]] : tensor<2xi32>)
// CHECK-NEXT: ^bb0(%[[S:[^:]+]]: i32, %{{[^:]+}}: i32):
// CHECK-NEXT: arith.divsi %[[S]], %[[COUNT]] : i32
func.func @reduce_mean_i32(%x: tensor<2x4xi32>) -> tensor<2xi32> {
  %0 = kiln.reduce_mean %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x4xi32>) -> tensor<2xi32>
  return %0 : tensor<2xi32>
}

// -----

// reduce_max starts from the lowest value: INT32_MIN with maxsi; 0 with maxui
// for unsigned. Empty axes with keepdims give an all-ones shape.
// CHECK-LABEL: func.func @reduce_max_integer(
// CHECK-SAME: %[[I:[^:]+]]: tensor<2x3x4xi32>, %[[U:[^:]+]]: tensor<4xi8>) -> (tensor<1x1x1xi32>, tensor<i8>)
// CHECK: %[[SMIN:.+]] = arith.constant -2147483648 : i32
// CHECK: %[[SINIT:.+]] = linalg.fill ins(%[[SMIN]] : i32) outs(%{{.+}} : tensor<i32>)
// CHECK: %[[SMAX:.+]] = linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "reduction"]} ins(%[[I]] : tensor<2x3x4xi32>) outs(%[[SINIT]] : tensor<i32>)
// CHECK-NEXT: ^bb0(%[[A:[^:]+]]: i32, %[[B:[^:]+]]: i32):
// CHECK-NEXT: arith.maxsi %[[A]], %[[B]] : i32
// CHECK: %[[KEEP:.+]] = tensor.expand_shape %[[SMAX]] [] output_shape [1, 1, 1] : tensor<i32> into tensor<1x1x1xi32>
// CHECK: %[[UMIN:.+]] = arith.constant 0 : i8
// CHECK: %[[UINIT:.+]] = linalg.fill ins(%[[UMIN]] : i8) outs(%{{.+}} : tensor<i8>)
// CHECK: %[[UMAX:.+]] = linalg.generic {{.*}} ins(%[[U]] : tensor<4xi8>) outs(%[[UINIT]] : tensor<i8>)
// CHECK-NEXT: ^bb0(%[[C:[^:]+]]: i8, %[[D:[^:]+]]: i8):
// CHECK-NEXT: arith.maxui %[[C]], %[[D]] : i8
// CHECK: return %[[KEEP]], %[[UMAX]]
func.func @reduce_max_integer(%i: tensor<2x3x4xi32>, %u: tensor<4xui8>) -> (tensor<1x1x1xi32>, tensor<ui8>) {
  %0 = kiln.reduce_max %i {axes = array<i64>} : (tensor<2x3x4xi32>) -> tensor<1x1x1xi32>
  %1 = kiln.reduce_max %u {axes = array<i64: 0>, keepdims = false} : (tensor<4xui8>) -> tensor<ui8>
  return %0, %1 : tensor<1x1x1xi32>, tensor<ui8>
}

// -----

// CHECK-LABEL: func.func @reduce_max_float(
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: linalg.fill ins(%[[NEGINF]] : f32)
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[A:[^:]+]]: f32, %[[B:[^:]+]]: f32):
// CHECK-NEXT: arith.maximumf %[[A]], %[[B]] : f32
func.func @reduce_max_float(%x: tensor<2x3xf32>) -> tensor<2x1xf32> {
  %0 = kiln.reduce_max %x {axes = array<i64: 1>} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Softmax
//===----------------------------------------------------------------------===//

// max-reduce (from -inf), exp(x - max), sum-reduce, divide; the reductions
// keep the axis so they broadcast back with a (d0, 0) map.
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$ROW:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[$BCAST:.+]] = affine_map<(d0, d1) -> (d0, 0)>
// CHECK-LABEL: func.func @softmax(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x5xf32>)
// CHECK: %[[NEGINF:.+]] = arith.constant 0xFF800000 : f32
// CHECK: %[[MINIT:.+]] = linalg.fill ins(%[[NEGINF]] : f32) outs(%{{.+}} : tensor<2xf32>)
// CHECK: %[[MAX:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[X]] : tensor<2x5xf32>) outs(%[[MINIT]] : tensor<2xf32>)
// CHECK: arith.maximumf
// CHECK: %[[MAXK:.+]] = tensor.expand_shape %[[MAX]] {{\[}}[0, 1]] output_shape [2, 1] : tensor<2xf32> into tensor<2x1xf32>
// CHECK: %[[EXP:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$BCAST]], #[[$ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[MAXK]] : tensor<2x5xf32>, tensor<2x1xf32>)
// CHECK-NEXT: ^bb0(%[[A:[^:]+]]: f32, %[[M:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[SUB:.+]] = arith.subf %[[A]], %[[M]] : f32
// CHECK-NEXT: %[[E:.+]] = math.exp %[[SUB]] : f32
// CHECK-NEXT: linalg.yield %[[E]] : f32
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[SINIT:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%{{.+}} : tensor<2xf32>)
// CHECK: %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROW]]], iterator_types = ["parallel", "reduction"]} ins(%[[EXP]] : tensor<2x5xf32>) outs(%[[SINIT]] : tensor<2xf32>)
// CHECK: arith.addf
// CHECK: %[[SUMK:.+]] = tensor.expand_shape %[[SUM]] {{\[}}[0, 1]] output_shape [2, 1] : tensor<2xf32> into tensor<2x1xf32>
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$BCAST]], #[[$ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[EXP]], %[[SUMK]] : tensor<2x5xf32>, tensor<2x1xf32>)
// CHECK-NEXT: ^bb0(%[[N:[^:]+]]: f32, %[[D:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[DIV:.+]] = arith.divf %[[N]], %[[D]] : f32
// CHECK-NEXT: linalg.yield %[[DIV]] : f32
// CHECK: return %[[R]]
func.func @softmax(%x: tensor<2x5xf32>) -> tensor<2x5xf32> {
  %0 = kiln.softmax %x {axis = -1 : i64} : (tensor<2x5xf32>) -> tensor<2x5xf32>
  return %0 : tensor<2x5xf32>
}

// -----

// A middle axis of dynamic extent: the reductions run over d1 and the
// results' dynamic dim comes from the input.
// CHECK-DAG: #[[$KEPT:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$BCAST:.+]] = affine_map<(d0, d1, d2) -> (d0, 0, d2)>
// CHECK-LABEL: func.func @softmax_middle_axis(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x?x3xf32>)
// CHECK: %[[MAX:.+]] = linalg.generic {indexing_maps = [#{{.+}}, #[[$KEPT]]], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[X]] : tensor<2x?x3xf32>)
// CHECK: %[[MAXK:.+]] = tensor.expand_shape %[[MAX]] {{\[}}[0], [1, 2]] output_shape [2, 1, 3]
// CHECK: %[[D:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<2x?x3xf32>
// CHECK: %[[EMPTY:.+]] = tensor.empty(%[[D]]) : tensor<2x?x3xf32>
// CHECK: linalg.generic {indexing_maps = [#{{.+}}, #[[$BCAST]], #{{.+}}], {{.*}} ins(%[[X]], %[[MAXK]] : tensor<2x?x3xf32>, tensor<2x1x3xf32>) outs(%[[EMPTY]] : tensor<2x?x3xf32>)
// CHECK: math.exp
func.func @softmax_middle_axis(%x: tensor<2x?x3xf32>) -> tensor<2x?x3xf32> {
  %0 = kiln.softmax %x {axis = 1 : i64} : (tensor<2x?x3xf32>) -> tensor<2x?x3xf32>
  return %0 : tensor<2x?x3xf32>
}

// -----

//===----------------------------------------------------------------------===//
// LayerNorm
//===----------------------------------------------------------------------===//

// mean, x - mean, mean of squares, then (x - mean) * rsqrt(var + eps) * scale
// + bias, with scale and bias broadcast over the normalized dims.
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[$ROWS:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-DAG: #[[$STAT:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, 0)>
// CHECK-DAG: #[[$LAST:.+]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @layer_norm(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3x8xf32>, %[[G:[^:]+]]: tensor<8xf32>, %[[B:[^:]+]]: tensor<8xf32>)
// CHECK: %[[D:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<2x3x8xf32>
// CHECK: %[[P:.+]] = arith.muli %{{.+}}, %[[D]] : index
// CHECK: %[[I64:.+]] = arith.index_cast %[[P]] : index to i64
// CHECK: %[[COUNT:.+]] = arith.uitofp %[[I64]] : i64 to f32
// CHECK: %[[SUM:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROWS]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]] : tensor<2x3x8xf32>)
// CHECK: %[[SUMK:.+]] = tensor.expand_shape %[[SUM]] {{\[}}[0], [1, 2]] output_shape [2, 3, 1]
// CHECK: %[[MEAN:.+]] = linalg.generic {{.*}} ins(%[[SUMK]] : tensor<2x3x1xf32>)
// CHECK: arith.divf %{{.+}}, %[[COUNT]] : f32
// CHECK: %[[CENTERED:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$STAT]], #[[$ID]]], {{.*}} ins(%[[X]], %[[MEAN]] : tensor<2x3x8xf32>, tensor<2x3x1xf32>)
// CHECK-NEXT: ^bb0(%[[XI:[^:]+]]: f32, %[[MI:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: arith.subf %[[XI]], %[[MI]] : f32
// CHECK: %[[SQUARES:.+]] = linalg.generic {{.*}} ins(%[[CENTERED]] : tensor<2x3x8xf32>)
// CHECK-NEXT: ^bb0(%[[C:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: arith.mulf %[[C]], %[[C]] : f32
// CHECK: %[[SQSUM:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ROWS]]], {{.*}} ins(%[[SQUARES]] : tensor<2x3x8xf32>)
// CHECK: %[[SQSUMK:.+]] = tensor.expand_shape %[[SQSUM]]
// CHECK: %[[VAR:.+]] = linalg.generic {{.*}} ins(%[[SQSUMK]] : tensor<2x3x1xf32>)
// CHECK: arith.divf %{{.+}}, %[[COUNT]] : f32
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$STAT]], #[[$LAST]], #[[$LAST]], #[[$ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[CENTERED]], %[[VAR]], %[[G]], %[[B]] : tensor<2x3x8xf32>, tensor<2x3x1xf32>, tensor<8xf32>, tensor<8xf32>)
// CHECK-NEXT: ^bb0(%[[CI:[^:]+]]: f32, %[[VI:[^:]+]]: f32, %[[GI:[^:]+]]: f32, %[[BI:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[EPS:.+]] = arith.constant 9.99999974E-6 : f32
// CHECK-NEXT: %[[VE:.+]] = arith.addf %[[VI]], %[[EPS]] : f32
// CHECK-NEXT: %[[INV:.+]] = math.rsqrt %[[VE]] : f32
// CHECK-NEXT: %[[NORM:.+]] = arith.mulf %[[CI]], %[[INV]] : f32
// CHECK-NEXT: %[[SCALED:.+]] = arith.mulf %[[NORM]], %[[GI]] : f32
// CHECK-NEXT: %[[OUT:.+]] = arith.addf %[[SCALED]], %[[BI]] : f32
// CHECK-NEXT: linalg.yield %[[OUT]] : f32
// CHECK: return %[[R]]
func.func @layer_norm(%x: tensor<2x3x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<2x3x8xf32> {
  %0 = kiln.layer_norm %x, %g, %b {axis = -1 : i64, epsilon = 1.0e-5 : f32} : (tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x3x8xf32>
  return %0 : tensor<2x3x8xf32>
}

// -----

// axis = 1 normalizes over the last two dims; without bias the result is the
// scaled value.
// CHECK-DAG: #[[$STAT:.+]] = affine_map<(d0, d1, d2) -> (d0, 0, 0)>
// CHECK-DAG: #[[$TAIL:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @layer_norm_axis1_no_bias(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3x8xf32>, %[[G:[^:]+]]: tensor<3x8xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "reduction"]} ins(%[[X]] : tensor<2x3x8xf32>)
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#{{.+}}, #[[$STAT]], #[[$TAIL]], #{{.+}}], {{.*}} ins(%{{.+}}, %{{.+}}, %[[G]] : tensor<2x3x8xf32>, tensor<2x1x1xf32>, tensor<3x8xf32>)
// CHECK-NEXT: ^bb0(%[[CI:[^:]+]]: f32, %[[VI:[^:]+]]: f32, %[[GI:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK: %[[INV:.+]] = math.rsqrt
// CHECK-NEXT: %[[NORM:.+]] = arith.mulf %[[CI]], %[[INV]] : f32
// CHECK-NEXT: %[[SCALED:.+]] = arith.mulf %[[NORM]], %[[GI]] : f32
// CHECK-NEXT: linalg.yield %[[SCALED]] : f32
func.func @layer_norm_axis1_no_bias(%x: tensor<2x3x8xf32>, %g: tensor<3x8xf32>) -> tensor<2x3x8xf32> {
  %0 = kiln.layer_norm %x, %g {axis = 1 : i64} : (tensor<2x3x8xf32>, tensor<3x8xf32>) -> tensor<2x3x8xf32>
  return %0 : tensor<2x3x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// BatchNorm
//===----------------------------------------------------------------------===//

// The per-channel statistics are reshaped to C x 1 x 1 so that they broadcast
// along dim 1: scale * (x - mean) * rsqrt(var + eps) + bias.
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$CHANNEL:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>
// CHECK-LABEL: func.func @batch_norm(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x4x5x5xf32>, %[[S:[^:]+]]: tensor<4xf32>, %[[B:[^:]+]]: tensor<4xf32>, %[[M:[^:]+]]: tensor<4xf32>, %[[V:[^:]+]]: tensor<4xf32>)
// CHECK: %[[S3:.+]] = tensor.expand_shape %[[S]] {{\[}}[0, 1, 2]] output_shape [4, 1, 1] : tensor<4xf32> into tensor<4x1x1xf32>
// CHECK: %[[B3:.+]] = tensor.expand_shape %[[B]] {{\[}}[0, 1, 2]] output_shape [4, 1, 1] : tensor<4xf32> into tensor<4x1x1xf32>
// CHECK: %[[M3:.+]] = tensor.expand_shape %[[M]] {{\[}}[0, 1, 2]] output_shape [4, 1, 1] : tensor<4xf32> into tensor<4x1x1xf32>
// CHECK: %[[V3:.+]] = tensor.expand_shape %[[V]] {{\[}}[0, 1, 2]] output_shape [4, 1, 1] : tensor<4xf32> into tensor<4x1x1xf32>
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$CHANNEL]], #[[$CHANNEL]], #[[$CHANNEL]], #[[$CHANNEL]], #[[$ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[X]], %[[S3]], %[[B3]], %[[M3]], %[[V3]] : tensor<1x4x5x5xf32>, tensor<4x1x1xf32>, tensor<4x1x1xf32>, tensor<4x1x1xf32>, tensor<4x1x1xf32>)
// CHECK-NEXT: ^bb0(%[[XI:[^:]+]]: f32, %[[SI:[^:]+]]: f32, %[[BI:[^:]+]]: f32, %[[MI:[^:]+]]: f32, %[[VI:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[EPS:.+]] = arith.constant 1.000000e-03 : f32
// CHECK-NEXT: %[[VE:.+]] = arith.addf %[[VI]], %[[EPS]] : f32
// CHECK-NEXT: %[[INV:.+]] = math.rsqrt %[[VE]] : f32
// CHECK-NEXT: %[[CENTERED:.+]] = arith.subf %[[XI]], %[[MI]] : f32
// CHECK-NEXT: %[[FACTOR:.+]] = arith.mulf %[[SI]], %[[INV]] : f32
// CHECK-NEXT: %[[SCALED:.+]] = arith.mulf %[[CENTERED]], %[[FACTOR]] : f32
// CHECK-NEXT: %[[OUT:.+]] = arith.addf %[[SCALED]], %[[BI]] : f32
// CHECK-NEXT: linalg.yield %[[OUT]] : f32
// CHECK: return %[[R]]
func.func @batch_norm(%x: tensor<1x4x5x5xf32>, %s: tensor<4xf32>, %b: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>) -> tensor<1x4x5x5xf32> {
  %0 = kiln.batch_norm %x, %s, %b, %m, %v {epsilon = 1.0e-3 : f32}
      : (tensor<1x4x5x5xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<1x4x5x5xf32>
  return %0 : tensor<1x4x5x5xf32>
}

// -----

//===----------------------------------------------------------------------===//
// GlobalAveragePool
//===----------------------------------------------------------------------===//

// Sum over the spatial dims (kept as 1 x 1), divided by H * W.
// CHECK-DAG: #[[$NC:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
// CHECK-LABEL: func.func @global_average_pool(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x4x5x5xf32>)
// CHECK: %[[SUM:.+]] = linalg.generic {indexing_maps = [#{{.+}}, #[[$NC]]], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%[[X]] : tensor<1x4x5x5xf32>) outs(%{{.+}} : tensor<1x4xf32>)
// CHECK: arith.addf
// CHECK: %[[KEEP:.+]] = tensor.expand_shape %[[SUM]] {{\[}}[0], [1, 2, 3]] output_shape [1, 4, 1, 1] : tensor<1x4xf32> into tensor<1x4x1x1xf32>
// CHECK: %[[H:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<1x4x5x5xf32>
// CHECK: %[[P0:.+]] = arith.muli %{{.+}}, %[[H]] : index
// CHECK: %[[W:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<1x4x5x5xf32>
// CHECK: %[[P1:.+]] = arith.muli %[[P0]], %[[W]] : index
// CHECK: %[[I64:.+]] = arith.index_cast %[[P1]] : index to i64
// CHECK: %[[COUNT:.+]] = arith.uitofp %[[I64]] : i64 to f32
// CHECK: %[[R:.+]] = linalg.generic {{.*}} ins(%[[KEEP]] : tensor<1x4x1x1xf32>)
// CHECK-NEXT: ^bb0(%[[S:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[DIV:.+]] = arith.divf %[[S]], %[[COUNT]] : f32
// CHECK: return %[[R]]
func.func @global_average_pool(%x: tensor<1x4x5x5xf32>) -> tensor<1x4x1x1xf32> {
  %0 = kiln.global_average_pool %x : (tensor<1x4x5x5xf32>) -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

// -----

// An i64 mean divides by the i64 element count directly.
// CHECK-LABEL: func.func @reduce_mean_i64
func.func @reduce_mean_i64(%x: tensor<2x4xi64>) -> tensor<2x1xi64> {
  // CHECK: %[[COUNT:.+]] = arith.index_cast %{{.*}} : index to i64
  // CHECK: arith.divsi %{{.*}}, %[[COUNT]] : i64
  %0 = kiln.reduce_mean %x {axes = array<i64: 1>} : (tensor<2x4xi64>) -> tensor<2x1xi64>
  return %0 : tensor<2x1xi64>
}
