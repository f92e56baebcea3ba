// RUN: kiln-opt %s --convert-kiln-to-linalg --split-input-file | FileCheck %s

// Reshapes, transpose, concat, split, slice, gather and expand
// (DataMovement.cpp).

//===----------------------------------------------------------------------===//
// Reshape, flatten, squeeze, unsqueeze
//===----------------------------------------------------------------------===//

// A static result needs no shape computation: dims that regroup become
// expand_shape or collapse_shape; otherwise the input is flattened, then
// split into the result dims.
// CHECK-LABEL: func.func @reshape_static(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x12xf32>, %{{[^:]+}}: tensor<3xi64>, %{{[^:]+}}: tensor<1xi64>, %{{[^:]+}}: tensor<2xi64>)
// CHECK-NOT: tensor.extract
// CHECK: %[[SPLIT:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2]] output_shape [2, 3, 4] : tensor<2x12xf32> into tensor<2x3x4xf32>
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1]] : tensor<2x12xf32> into tensor<24xf32>
// CHECK: %[[FLAT2:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1]] : tensor<2x12xf32> into tensor<24xf32>
// CHECK: %[[REGROUPED:.+]] = tensor.expand_shape %[[FLAT2]] {{\[}}[0, 1]] output_shape [4, 6] : tensor<24xf32> into tensor<4x6xf32>
// CHECK: return %[[SPLIT]], %[[FLAT]], %[[REGROUPED]]
func.func @reshape_static(%x: tensor<2x12xf32>, %s: tensor<3xi64>, %t: tensor<1xi64>, %r: tensor<2xi64>)
    -> (tensor<2x3x4xf32>, tensor<24xf32>, tensor<4x6xf32>) {
  %0 = kiln.reshape %x, %s : (tensor<2x12xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  %1 = kiln.reshape %x, %t : (tensor<2x12xf32>, tensor<1xi64>) -> tensor<24xf32>
  %2 = kiln.reshape %x, %r : (tensor<2x12xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  return %0, %1, %2 : tensor<2x3x4xf32>, tensor<24xf32>, tensor<4x6xf32>
}

// -----

// A dynamic result dim reads the shape operand: 0 copies the input's dim, -1
// is the element count over the product of the other entries.
// CHECK-LABEL: func.func @reshape_dynamic(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x12xf32>, %[[S:[^:]+]]: tensor<3xi64>)
// CHECK: %[[N:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<?x12xf32>
// CHECK: %[[C12:.+]] = arith.constant 12 : index
// CHECK: %[[TOTAL:.+]] = arith.muli %[[N]], %[[C12]] : index
// CHECK: %[[ZERO:.+]] = arith.constant 0 : index
// CHECK: %[[MINUS1:.+]] = arith.constant -1 : index
// CHECK: %[[ONE:.+]] = arith.constant 1 : index
// CHECK: %[[I0:.+]] = arith.constant 0 : index
// CHECK: %[[E0:.+]] = tensor.extract %[[S]][%[[I0]]] : tensor<3xi64>
// CHECK: %[[V0:.+]] = arith.index_cast %[[E0]] : i64 to index
// CHECK: %[[IS0:.+]] = arith.cmpi eq, %[[V0]], %[[ZERO]] : index
// CHECK: %[[G0:.+]] = arith.select %[[IS0]], %[[N]], %[[V0]] : index
// CHECK: %[[E1:.+]] = tensor.extract %[[S]][%{{.+}}] : tensor<3xi64>
// CHECK: %[[V1:.+]] = arith.index_cast %[[E1]] : i64 to index
// CHECK: %[[IS0B:.+]] = arith.cmpi eq, %[[V1]], %[[ZERO]] : index
// CHECK: %[[G1:.+]] = arith.select %[[IS0B]], %{{.+}}, %[[V1]] : index
// CHECK: %[[E2:.+]] = tensor.extract %[[S]][%{{.+}}] : tensor<3xi64>
// CHECK: %[[G2:.+]] = arith.index_cast %[[E2]] : i64 to index
// CHECK: %[[INF0:.+]] = arith.cmpi eq, %[[G0]], %[[MINUS1]] : index
// CHECK: %[[K0:.+]] = arith.select %[[INF0]], %[[ONE]], %[[G0]] : index
// CHECK: %[[P0:.+]] = arith.muli %[[ONE]], %[[K0]] : index
// CHECK: %[[INF1:.+]] = arith.cmpi eq, %[[G1]], %[[MINUS1]] : index
// CHECK: %[[K1:.+]] = arith.select %[[INF1]], %[[ONE]], %[[G1]] : index
// CHECK: %[[P1:.+]] = arith.muli %[[P0]], %[[K1]] : index
// CHECK: %[[INF2:.+]] = arith.cmpi eq, %[[G2]], %[[MINUS1]] : index
// CHECK: %[[K2:.+]] = arith.select %[[INF2]], %[[ONE]], %[[G2]] : index
// CHECK: %[[P2:.+]] = arith.muli %[[P1]], %[[K2]] : index
// CHECK: %[[REST:.+]] = arith.divui %[[TOTAL]], %[[P2]] : index
// CHECK: %[[ISINF:.+]] = arith.cmpi eq, %[[G0]], %[[MINUS1]] : index
// CHECK: %[[D0:.+]] = arith.select %[[ISINF]], %[[REST]], %[[G0]] : index
// CHECK: %[[R:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2]] output_shape [%[[D0]], 3, 4] : tensor<?x12xf32> into tensor<?x3x4xf32>
// CHECK: return %[[R]]
func.func @reshape_dynamic(%x: tensor<?x12xf32>, %s: tensor<3xi64>) -> tensor<?x3x4xf32> {
  %0 = kiln.reshape %x, %s : (tensor<?x12xf32>, tensor<3xi64>) -> tensor<?x3x4xf32>
  return %0 : tensor<?x3x4xf32>
}

// -----

// With allowzero a 0 in the shape is kept as 0 (no select of the input's
// dim). A result that does not regroup the input's dims is reached through the
// flattened input.
// CHECK-LABEL: func.func @reshape_allowzero(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x4xf32>, %[[S:[^:]+]]: tensor<2xi64>)
// CHECK: %[[MINUS1:.+]] = arith.constant -1 : index
// CHECK: %[[E0:.+]] = tensor.extract %[[S]][%{{.+}}] : tensor<2xi64>
// CHECK-NEXT: %{{.+}} = arith.index_cast %[[E0]] : i64 to index
// CHECK-NEXT: %{{.+}} = arith.constant 1 : index
// CHECK-NEXT: %[[E1:.+]] = tensor.extract %[[S]][%{{.+}}] : tensor<2xi64>
// CHECK-NEXT: %[[V1:.+]] = arith.index_cast %[[E1]] : i64 to index
// CHECK-NEXT: arith.cmpi eq, %{{.+}}, %[[MINUS1]] : index
// CHECK: %[[REST:.+]] = arith.divui
// CHECK: %[[INF:.+]] = arith.cmpi eq, %[[V1]], %[[MINUS1]] : index
// CHECK: %[[D1:.+]] = arith.select %[[INF]], %[[REST]], %[[V1]] : index
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1]] : tensor<?x4xf32> into tensor<?xf32>
// CHECK: %[[R:.+]] = tensor.expand_shape %[[FLAT]] {{\[}}[0, 1]] output_shape [4, %[[D1]]] : tensor<?xf32> into tensor<4x?xf32>
// CHECK: return %[[R]]
func.func @reshape_allowzero(%x: tensor<?x4xf32>, %s: tensor<2xi64>) -> tensor<4x?xf32> {
  %0 = kiln.reshape %x, %s {allowzero = true} : (tensor<?x4xf32>, tensor<2xi64>) -> tensor<4x?xf32>
  return %0 : tensor<4x?xf32>
}

// -----

// flatten collapses the dims before and after the axis; axis = 0 gives a
// leading 1.
// CHECK-LABEL: func.func @flatten(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x3x4x5xf32>, %[[Y:[^:]+]]: tensor<2x3x4xf32>)
// CHECK: %[[A:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0], [1, 2, 3]] : tensor<?x3x4x5xf32> into tensor<?x60xf32>
// CHECK: %[[B:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1, 2], [3]] : tensor<?x3x4x5xf32> into tensor<?x5xf32>
// CHECK: %[[FLAT:.+]] = tensor.collapse_shape %[[Y]] {{\[}}[0, 1, 2]] : tensor<2x3x4xf32> into tensor<24xf32>
// CHECK: %[[C:.+]] = tensor.expand_shape %[[FLAT]] {{\[}}[0, 1]] output_shape [1, 24] : tensor<24xf32> into tensor<1x24xf32>
// CHECK: return %[[A]], %[[B]], %[[C]]
func.func @flatten(%x: tensor<?x3x4x5xf32>, %y: tensor<2x3x4xf32>) -> (tensor<?x60xf32>, tensor<?x5xf32>, tensor<1x24xf32>) {
  %0 = kiln.flatten %x {axis = 1 : i64} : (tensor<?x3x4x5xf32>) -> tensor<?x60xf32>
  %1 = kiln.flatten %x {axis = -1 : i64} : (tensor<?x3x4x5xf32>) -> tensor<?x5xf32>
  %2 = kiln.flatten %y {axis = 0 : i64} : (tensor<2x3x4xf32>) -> tensor<1x24xf32>
  return %0, %1, %2 : tensor<?x60xf32>, tensor<?x5xf32>, tensor<1x24xf32>
}

// -----

// CHECK-LABEL: func.func @squeeze(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x768x1xf32>, %[[Y:[^:]+]]: tensor<1x?x1xf32>)
// CHECK: %[[A:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1, 2]] : tensor<1x768x1xf32> into tensor<768xf32>
// CHECK: %[[B:.+]] = tensor.collapse_shape %[[X]] {{\[}}[0, 1], [2]] : tensor<1x768x1xf32> into tensor<768x1xf32>
// CHECK: %[[C:.+]] = tensor.collapse_shape %[[Y]] {{\[}}[0, 1, 2]] : tensor<1x?x1xf32> into tensor<?xf32>
// CHECK: return %[[A]], %[[B]], %[[C]]
func.func @squeeze(%x: tensor<1x768x1xf32>, %y: tensor<1x?x1xf32>) -> (tensor<768xf32>, tensor<768x1xf32>, tensor<?xf32>) {
  %0 = kiln.squeeze %x {axes = array<i64: 0, -1>} : (tensor<1x768x1xf32>) -> tensor<768xf32>
  %1 = kiln.squeeze %x {axes = array<i64: 0>} : (tensor<1x768x1xf32>) -> tensor<768x1xf32>
  %2 = kiln.squeeze %y {axes = array<i64>} : (tensor<1x?x1xf32>) -> tensor<?xf32>
  return %0, %1, %2 : tensor<768xf32>, tensor<768x1xf32>, tensor<?xf32>
}

// -----

// unsqueeze: expand_shape whose dynamic output dim comes from the input.
// CHECK-LABEL: func.func @unsqueeze(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x128xf32>, %[[S:[^:]+]]: tensor<f32>)
// CHECK: %[[N:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<?x128xf32>
// CHECK: %[[A:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2, 3]] output_shape [%[[N]], 1, 1, 128] : tensor<?x128xf32> into tensor<?x1x1x128xf32>
// CHECK: %[[B:.+]] = tensor.expand_shape %[[X]] {{\[}}[0], [1, 2]] output_shape [%{{.+}}, 128, 1] : tensor<?x128xf32> into tensor<?x128x1xf32>
// CHECK: %[[C:.+]] = tensor.expand_shape %[[S]] [] output_shape [1] : tensor<f32> into tensor<1xf32>
// CHECK: return %[[A]], %[[B]], %[[C]]
func.func @unsqueeze(%x: tensor<?x128xf32>, %s: tensor<f32>) -> (tensor<?x1x1x128xf32>, tensor<?x128x1xf32>, tensor<1xf32>) {
  %0 = kiln.unsqueeze %x {axes = array<i64: 1, 2>} : (tensor<?x128xf32>) -> tensor<?x1x1x128xf32>
  %1 = kiln.unsqueeze %x {axes = array<i64: -1>} : (tensor<?x128xf32>) -> tensor<?x128x1xf32>
  %2 = kiln.unsqueeze %s {axes = array<i64: 0>} : (tensor<f32>) -> tensor<1xf32>
  return %0, %1, %2 : tensor<?x1x1x128xf32>, tensor<?x128x1xf32>, tensor<1xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Transpose
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @transpose(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x?x4xf32>)
// CHECK: %[[C1:.+]] = arith.constant 1 : index
// CHECK: %[[D:.+]] = tensor.dim %[[X]], %[[C1]] : tensor<2x?x4xf32>
// CHECK: %[[INIT:.+]] = tensor.empty(%[[D]]) : tensor<4x2x?xf32>
// CHECK: %[[R:.+]] = linalg.transpose ins(%[[X]] : tensor<2x?x4xf32>) outs(%[[INIT]] : tensor<4x2x?xf32>) permutation = [2, 0, 1]
// CHECK: return %[[R]]
func.func @transpose(%x: tensor<2x?x4xf32>) -> tensor<4x2x?xf32> {
  %0 = kiln.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x?x4xf32>) -> tensor<4x2x?xf32>
  return %0 : tensor<4x2x?xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Concat and split
//===----------------------------------------------------------------------===//

// Each input is inserted at the running offset along the axis; a dynamic
// total extent is the sum of the extents.
// CHECK-DAG: #[[$TOTAL:.+]] = affine_map<()[s0] -> (s0 + 5)>
// CHECK-LABEL: func.func @concat(
// CHECK-SAME: %[[A:[^:]+]]: tensor<1x2x8xf32>, %[[B:[^:]+]]: tensor<1x3x8xf32>, %[[C:[^:]+]]: tensor<1x?x8xf32>)
// CHECK: %[[CD:.+]] = tensor.dim %[[C]], %{{.+}} : tensor<1x?x8xf32>
// CHECK: %[[SUM:.+]] = affine.apply #[[$TOTAL]]()[%[[CD]]]
// CHECK: %[[EMPTY:.+]] = tensor.empty(%[[SUM]]) : tensor<1x?x8xf32>
// CHECK: %[[R0:.+]] = tensor.insert_slice %[[A]] into %[[EMPTY]][0, 0, 0] [1, 2, 8] [1, 1, 1] : tensor<1x2x8xf32> into tensor<1x?x8xf32>
// CHECK: %[[R1:.+]] = tensor.insert_slice %[[B]] into %[[R0]][0, 2, 0] [1, 3, 8] [1, 1, 1] : tensor<1x3x8xf32> into tensor<1x?x8xf32>
// CHECK: %[[CD2:.+]] = tensor.dim %[[C]], %{{.+}} : tensor<1x?x8xf32>
// CHECK: %[[R2:.+]] = tensor.insert_slice %[[C]] into %[[R1]][0, 5, 0] [1, %[[CD2]], 8] [1, 1, 1] : tensor<1x?x8xf32> into tensor<1x?x8xf32>
// CHECK: return %[[R2]]
func.func @concat(%a: tensor<1x2x8xf32>, %b: tensor<1x3x8xf32>, %c: tensor<1x?x8xf32>) -> tensor<1x?x8xf32> {
  %0 = kiln.concat %a, %b, %c {axis = 1 : i64} : (tensor<1x2x8xf32>, tensor<1x3x8xf32>, tensor<1x?x8xf32>) -> tensor<1x?x8xf32>
  return %0 : tensor<1x?x8xf32>
}

// -----

// Empty inputs are skipped.
// CHECK-LABEL: func.func @concat_empty_input(
// CHECK-SAME: %[[A:[^:]+]]: tensor<2x0xi64>, %[[B:[^:]+]]: tensor<2x3xi64>)
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<2x3xi64>
// CHECK-NOT: tensor.insert_slice %[[A]]
// CHECK: %[[R:.+]] = tensor.insert_slice %[[B]] into %[[EMPTY]][0, 0] [2, 3] [1, 1] : tensor<2x3xi64> into tensor<2x3xi64>
// CHECK: return %[[R]]
func.func @concat_empty_input(%a: tensor<2x0xi64>, %b: tensor<2x3xi64>) -> tensor<2x3xi64> {
  %0 = kiln.concat %a, %b {axis = -1 : i64} : (tensor<2x0xi64>, tensor<2x3xi64>) -> tensor<2x3xi64>
  return %0 : tensor<2x3xi64>
}

// -----

// Explicit sizes: static slices at static offsets.
// CHECK-LABEL: func.func @split_sizes(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x10xf32>)
// CHECK: %[[A:.+]] = tensor.extract_slice %[[X]][0, 0] [2, 4] [1, 1] : tensor<2x10xf32> to tensor<2x4xf32>
// CHECK: %[[B:.+]] = tensor.extract_slice %[[X]][0, 4] [2, 6] [1, 1] : tensor<2x10xf32> to tensor<2x6xf32>
// CHECK: return %[[A]], %[[B]]
func.func @split_sizes(%x: tensor<2x10xf32>) -> (tensor<2x4xf32>, tensor<2x6xf32>) {
  %0:2 = kiln.split %x {axis = 1 : i64, sizes = array<i64: 4, 6>, num_outputs = 2 : i64} : (tensor<2x10xf32>) -> (tensor<2x4xf32>, tensor<2x6xf32>)
  return %0#0, %0#1 : tensor<2x4xf32>, tensor<2x6xf32>
}

// -----

// Equal pieces of a dynamic extent: ceil(extent / n) each, the last one
// clipped to what is left.
// CHECK-LABEL: func.func @split_equal_dynamic(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x?xf32>)
// CHECK: %[[D:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<2x?xf32>
// CHECK: %[[N:.+]] = arith.constant 2 : index
// CHECK: %[[PIECE:.+]] = arith.ceildivui %[[D]], %[[N]] : index
// CHECK: %[[ZERO:.+]] = arith.constant 0 : index
// CHECK: %[[LEFT0:.+]] = arith.subi %[[D]], %[[ZERO]] : index
// CHECK: %[[S0:.+]] = arith.minui %[[PIECE]], %[[LEFT0]] : index
// CHECK: %[[A:.+]] = tensor.extract_slice %[[X]][0, 0] [2, %[[S0]]] [1, 1] : tensor<2x?xf32> to tensor<2x?xf32>
// CHECK: %[[LEFT1:.+]] = arith.subi %[[D]], %[[S0]] : index
// CHECK: %[[S1:.+]] = arith.minui %[[PIECE]], %[[LEFT1]] : index
// CHECK: %[[B:.+]] = tensor.extract_slice %[[X]][0, %[[S0]]] [2, %[[S1]]] [1, 1] : tensor<2x?xf32> to tensor<2x?xf32>
// CHECK: return %[[A]], %[[B]]
func.func @split_equal_dynamic(%x: tensor<2x?xf32>) -> (tensor<2x?xf32>, tensor<2x?xf32>) {
  %0:2 = kiln.split %x {axis = -1 : i64, num_outputs = 2 : i64} : (tensor<2x?xf32>) -> (tensor<2x?xf32>, tensor<2x?xf32>)
  return %0#0, %0#1 : tensor<2x?xf32>, tensor<2x?xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Slice
//===----------------------------------------------------------------------===//

// Positive steps: extract_slice with the step as stride and the start clamped
// to [0, extent] at run time (negative values count from the end).
// CHECK-LABEL: func.func @slice_positive_step(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4x10xf32>)
// CHECK: %[[STARTS:.+]] = arith.constant dense<1> : tensor<1xi64>
// CHECK: %[[EXTENT:.+]] = arith.constant 10 : index
// CHECK: %[[E:.+]] = tensor.extract %[[STARTS]][%{{.+}}] : tensor<1xi64>
// CHECK: %[[START:.+]] = arith.index_cast %[[E]] : i64 to index
// CHECK: %[[NEG:.+]] = arith.cmpi slt, %[[START]], %[[ZERO:.+]] : index
// CHECK: %[[WRAPPED:.+]] = arith.addi %[[START]], %[[EXTENT]] : index
// CHECK: %[[SEL:.+]] = arith.select %[[NEG]], %[[WRAPPED]], %[[START]] : index
// CHECK: %[[LO:.+]] = arith.maxsi %[[SEL]], %[[ZERO]] : index
// CHECK: %[[OFFSET:.+]] = arith.minsi %[[LO]], %[[EXTENT]] : index
// CHECK: %[[R:.+]] = tensor.extract_slice %[[X]][%{{.+}}, %[[OFFSET]]] [4, 4] [1, 2] : tensor<4x10xf32> to tensor<4x4xf32>
// CHECK: return %[[R]]
func.func @slice_positive_step(%x: tensor<4x10xf32>) -> tensor<4x4xf32> {
  %starts = kiln.constant dense<[1]> : tensor<1xi64>
  %ends = kiln.constant dense<[9]> : tensor<1xi64>
  %axes = kiln.constant dense<[1]> : tensor<1xi64>
  %steps = kiln.constant dense<[2]> : tensor<1xi64>
  %0 = kiln.slice %x, %starts, %ends, %axes, %steps
      : (tensor<4x10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

// Run-time starts and ends: the size is ceil(max(end - start, 0) / step) of
// the clamped values.
// CHECK-LABEL: func.func @slice_dynamic_bounds(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4x10xf32>, %[[S:[^:]+]]: tensor<1xi64>, %[[E:[^:]+]]: tensor<1xi64>)
// CHECK: tensor.extract %[[S]]
// CHECK: tensor.extract %[[E]]
// CHECK: %[[START:.+]] = arith.minsi %{{.+}}, %{{.+}} : index
// CHECK: %[[END:.+]] = arith.minsi %{{.+}}, %{{.+}} : index
// CHECK: %[[SPAN:.+]] = arith.subi %[[END]], %[[START]] : index
// CHECK: %[[STEP:.+]] = arith.constant 1 : index
// CHECK: %[[POS:.+]] = arith.maxsi %[[SPAN]], %{{.+}} : index
// CHECK: %[[SIZE:.+]] = arith.ceildivsi %[[POS]], %[[STEP]] : index
// CHECK: %[[R:.+]] = tensor.extract_slice %[[X]][%{{.+}}, %[[START]]] [4, %[[SIZE]]] [1, 1] : tensor<4x10xf32> to tensor<4x?xf32>
// CHECK: return %[[R]]
func.func @slice_dynamic_bounds(%x: tensor<4x10xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>) -> tensor<4x?xf32> {
  %axes = kiln.constant dense<[-1]> : tensor<1xi64>
  %steps = kiln.constant dense<[1]> : tensor<1xi64>
  %0 = kiln.slice %x, %s, %e, %axes, %steps
      : (tensor<4x10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x?xf32>
  return %0 : tensor<4x?xf32>
}

// -----

// A negative step reads backwards in a generic: input[i, start + j * step],
// the start clamped to [0, extent - 1].
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @slice_negative_step(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4x10xf32>)
// CHECK: %[[EXTENT:.+]] = arith.constant 10 : index
// CHECK: %[[LAST:.+]] = arith.subi %[[EXTENT]], %{{.+}} : index
// CHECK: %[[START:.+]] = arith.minsi %{{.+}}, %[[LAST]] : index
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<4x10xf32>
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$ID]]], iterator_types = ["parallel", "parallel"]} outs(%[[EMPTY]] : tensor<4x10xf32>)
// CHECK: %[[J:.+]] = linalg.index 1 : index
// CHECK-NEXT: %[[JM:.+]] = arith.muli %[[J]], %[[JS:.+]] : index
// CHECK-NEXT: %[[COL:.+]] = arith.addi %[[START]], %[[JM]] : index
// CHECK-NEXT: %[[V:.+]] = tensor.extract %[[X]][%{{.+}}, %[[COL]]] : tensor<4x10xf32>
// CHECK-NEXT: linalg.yield %[[V]] : f32
// CHECK: return %[[R]]
func.func @slice_negative_step(%x: tensor<4x10xf32>) -> tensor<4x10xf32> {
  %starts = kiln.constant dense<[-1]> : tensor<1xi64>
  %ends = kiln.constant dense<[-9223372036854775807]> : tensor<1xi64>
  %axes = kiln.constant dense<[1]> : tensor<1xi64>
  %steps = kiln.constant dense<[-1]> : tensor<1xi64>
  %0 = kiln.slice %x, %starts, %ends, %axes, %steps
      : (tensor<4x10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x10xf32>
  return %0 : tensor<4x10xf32>
}

// -----

// Run-time axes and steps: each dim selects its start, size and stride from
// the entries whose (wrapped) axis names it; the step's sign picks the
// forward or backward clamping at run time.
// CHECK-LABEL: func.func @slice_runtime_axes(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4x10xf32>, %{{[^:]+}}: tensor<1xi64>, %{{[^:]+}}: tensor<1xi64>, %[[A:[^:]+]]: tensor<1xi64>, %[[ST:[^:]+]]: tensor<1xi64>)
// CHECK: tensor.extract %[[ST]]
// CHECK-NEXT: %[[STEP:.+]] = arith.index_cast %{{.+}} : i64 to index
// CHECK: tensor.extract %[[A]]
// CHECK: %[[FWD:.+]] = arith.cmpi sgt, %[[STEP]], %{{.+}} : index
// CHECK: %[[IS0:.+]] = arith.cmpi eq, %{{.+}}, %{{.+}} : index
// CHECK: arith.select %[[IS0]], %{{.+}}, %{{.+}} : index
// CHECK: %[[EMPTY:.+]] = tensor.empty(%{{.+}}, %{{.+}}) : tensor<?x?xf32>
// CHECK: %[[R:.+]] = linalg.generic {{.+}} outs(%[[EMPTY]] : tensor<?x?xf32>)
// CHECK: tensor.extract %[[X]]
// CHECK: return %[[R]]
func.func @slice_runtime_axes(%x: tensor<4x10xf32>, %s: tensor<1xi64>, %e: tensor<1xi64>, %a: tensor<1xi64>, %st: tensor<1xi64>) -> tensor<?x?xf32> {
  %0 = kiln.slice %x, %s, %e, %a, %st : (tensor<4x10xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Gather
//===----------------------------------------------------------------------===//

// A generic over the result reads the indices at the gathered dims and
// extracts from the data tensor; negative indices wrap by the axis extent.
// First, any index outside [-3, 3) calls the runtime's kiln_model_trap
// (reason 2): the run fails instead of reading outside the data.
// CHECK-DAG: #[[$IDX:.+]] = affine_map<(d0, d1, d2, d3) -> (d1, d2)>
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK: func.func private @kiln_model_trap(i32)
// CHECK-LABEL: func.func @gather(
// CHECK-SAME: %[[T:[^:]+]]: tensor<5x3x4xf32>, %[[I:[^:]+]]: tensor<2x2xi64>)
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<5x2x2x4xf32>
// CHECK: %[[EXTENT:.+]] = arith.constant 3 : index
// CHECK: %[[HI:.+]] = arith.index_cast %{{.+}} : index to i64
// CHECK: %[[ANY:.+]] = linalg.generic {{.+}} iterator_types = ["reduction", "reduction"]} ins(%[[I]] : tensor<2x2xi64>) outs(%{{.+}} : tensor<i1>)
// CHECK: %[[LO:.+]] = arith.subi %{{.+}}, %[[HI]] : i64
// CHECK: arith.cmpi slt, %{{.+}}, %[[LO]] : i64
// CHECK: arith.cmpi sge, %{{.+}}, %[[HI]] : i64
// CHECK: %[[BAD:.+]] = tensor.extract %[[ANY]][] : tensor<i1>
// CHECK: scf.if %[[BAD]] {
// CHECK-NEXT: %[[REASON:.+]] = arith.constant 2 : i32
// CHECK-NEXT: func.call @kiln_model_trap(%[[REASON]]) : (i32) -> ()
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$IDX]], #[[$ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[I]] : tensor<2x2xi64>) outs(%[[EMPTY]] : tensor<5x2x2x4xf32>)
// CHECK-NEXT: ^bb0(%[[IN:[^:]+]]: i64, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[INDEX:.+]] = arith.index_cast %[[IN]] : i64 to index
// CHECK-NEXT: %[[ZERO:.+]] = arith.constant 0 : index
// CHECK-NEXT: %[[NEG:.+]] = arith.cmpi slt, %[[INDEX]], %[[ZERO]] : index
// CHECK-NEXT: %[[WRAPPED:.+]] = arith.addi %[[INDEX]], %[[EXTENT]] : index
// CHECK-NEXT: %[[POS:.+]] = arith.select %[[NEG]], %[[WRAPPED]], %[[INDEX]] : index
// CHECK-NEXT: %[[D0:.+]] = linalg.index 0 : index
// CHECK-NEXT: %[[D3:.+]] = linalg.index 3 : index
// CHECK-NEXT: %[[V:.+]] = tensor.extract %[[T]][%[[D0]], %[[POS]], %[[D3]]] : tensor<5x3x4xf32>
// CHECK-NEXT: linalg.yield %[[V]] : f32
// CHECK: return %[[R]]
func.func @gather(%t: tensor<5x3x4xf32>, %i: tensor<2x2xi64>) -> tensor<5x2x2x4xf32> {
  %0 = kiln.gather %t, %i {axis = 1 : i64} : (tensor<5x3x4xf32>, tensor<2x2xi64>) -> tensor<5x2x2x4xf32>
  return %0 : tensor<5x2x2x4xf32>
}

// -----

// Constant indices known to be in range need no check.
// CHECK-LABEL: func.func @gather_constant_indices(
// CHECK-NOT: kiln_model_trap
// CHECK: return
func.func @gather_constant_indices(%t: tensor<5x3x4xf32>) -> tensor<5x2x4xf32> {
  %i = kiln.constant dense<[2, -3]> : tensor<2xi64>
  %0 = kiln.gather %t, %i {axis = 1 : i64} : (tensor<5x3x4xf32>, tensor<2xi64>) -> tensor<5x2x4xf32>
  return %0 : tensor<5x2x4xf32>
}

// -----

// A scalar index on a dynamic axis removes the dim; the extent is read at
// run time.
// CHECK-DAG: #[[$NONE:.+]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @gather_scalar_index(
// CHECK-SAME: %[[T:[^:]+]]: tensor<?x768xf32>, %[[I:[^:]+]]: tensor<i32>)
// CHECK: %[[EXTENT:.+]] = tensor.dim %[[T]], %{{.+}} : tensor<?x768xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$NONE]], #{{.+}}], iterator_types = ["parallel"]} ins(%[[I]] : tensor<i32>) outs(%{{.+}} : tensor<768xf32>)
// CHECK-NEXT: ^bb0(%[[IN:[^:]+]]: i32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[INDEX:.+]] = arith.index_cast %[[IN]] : i32 to index
// CHECK: %[[WRAPPED:.+]] = arith.addi %[[INDEX]], %[[EXTENT]] : index
// CHECK: %[[POS:.+]] = arith.select %{{.+}}, %[[WRAPPED]], %[[INDEX]] : index
// CHECK-NEXT: %[[D0:.+]] = linalg.index 0 : index
// CHECK-NEXT: tensor.extract %[[T]][%[[POS]], %[[D0]]] : tensor<?x768xf32>
func.func @gather_scalar_index(%t: tensor<?x768xf32>, %i: tensor<i32>) -> tensor<768xf32> {
  %0 = kiln.gather %t, %i {axis = 0 : i64} : (tensor<?x768xf32>, tensor<i32>) -> tensor<768xf32>
  return %0 : tensor<768xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Expand
//===----------------------------------------------------------------------===//

// A static result is a broadcast of the input; the shape operand is unused.
// CHECK-DAG: #[[$IN:.+]] = affine_map<(d0, d1, d2) -> (0, d2)>
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @expand_static(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x4xf32>, %[[S:[^:]+]]: tensor<3xi64>)
// CHECK-NOT: tensor.extract
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<2x3x4xf32>
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]] : tensor<1x4xf32>) outs(%[[EMPTY]] : tensor<2x3x4xf32>)
// CHECK-NEXT: ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]] : f32
// CHECK: return %[[R]]
func.func @expand_static(%x: tensor<1x4xf32>, %s: tensor<3xi64>) -> tensor<2x3x4xf32> {
  %0 = kiln.expand %x, %s : (tensor<1x4xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// Dynamic result dims are read from the shape operand (a 1 there keeps the
// input's dim) into an empty tensor that only carries the dims.
// CHECK-DAG: #[[$IN:.+]] = affine_map<(d0, d1, d2) -> (0, d2)>
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @expand_dynamic(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x4xf32>, %[[S:[^:]+]]: tensor<3xi64>)
// CHECK: %[[E0:.+]] = tensor.extract %[[S]][%{{.+}}] : tensor<3xi64>
// CHECK: %[[D0:.+]] = arith.index_cast %[[E0]] : i64 to index
// CHECK: %[[ONE:.+]] = arith.constant 1 : index
// CHECK: %[[E1:.+]] = tensor.extract %[[S]][%{{.+}}] : tensor<3xi64>
// CHECK: %[[T1:.+]] = arith.index_cast %[[E1]] : i64 to index
// CHECK: %[[IN1:.+]] = arith.constant 1 : index
// CHECK: %[[IS1:.+]] = arith.cmpi eq, %[[T1]], %[[ONE]] : index
// CHECK: %[[D1:.+]] = arith.select %[[IS1]], %[[IN1]], %[[T1]] : index
// CHECK: %[[SHAPED:.+]] = tensor.empty(%[[D0]], %[[D1]]) : tensor<?x?x4xf32>
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$IN]], #[[$ID]], #[[$ID]]], iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %[[SHAPED]] : tensor<1x4xf32>, tensor<?x?x4xf32>)
// CHECK-NEXT: ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]] : f32
// CHECK: return %[[R]]
func.func @expand_dynamic(%x: tensor<1x4xf32>, %s: tensor<3xi64>) -> tensor<?x?x4xf32> {
  %0 = kiln.expand %x, %s : (tensor<1x4xf32>, tensor<3xi64>) -> tensor<?x?x4xf32>
  return %0 : tensor<?x?x4xf32>
}

// -----

// Sizes give each piece's extent even where the result dim is dynamic.
// CHECK-LABEL: func.func @split_sizes_dynamic_result
func.func @split_sizes_dynamic_result(%y: tensor<2x?xf32>) -> (tensor<2x?xf32>, tensor<2x?xf32>) {
  // CHECK: %[[A:.+]] = tensor.extract_slice %{{.*}}[0, 0] [2, 3] [1, 1] : tensor<2x?xf32> to tensor<2x3xf32>
  // CHECK: tensor.cast %[[A]] : tensor<2x3xf32> to tensor<2x?xf32>
  // CHECK: %[[B:.+]] = tensor.extract_slice %{{.*}}[0, 3] [2, 4] [1, 1] : tensor<2x?xf32> to tensor<2x4xf32>
  // CHECK: tensor.cast %[[B]] : tensor<2x4xf32> to tensor<2x?xf32>
  %0:2 = kiln.split %y {axis = 1 : i64, sizes = array<i64: 3, 4>, num_outputs = 2 : i64} : (tensor<2x?xf32>) -> (tensor<2x?xf32>, tensor<2x?xf32>)
  return %0#0, %0#1 : tensor<2x?xf32>, tensor<2x?xf32>
}

// -----

// A dynamic input reshaped to a static type: flatten, cast to the static
// count, expand.
// CHECK-LABEL: func.func @reshape_dynamic_to_static
func.func @reshape_dynamic_to_static(%x: tensor<?x4xf32>) -> tensor<2x2xf32> {
  // CHECK: %[[FLAT:.+]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1]] : tensor<?x4xf32> into tensor<?xf32>
  // CHECK: %[[CAST:.+]] = tensor.cast %[[FLAT]] : tensor<?xf32> to tensor<4xf32>
  // CHECK: tensor.expand_shape %[[CAST]] {{\[\[}}0, 1]] output_shape [2, 2] : tensor<4xf32> into tensor<2x2xf32>
  %c = kiln.constant dense<[2, 2]> : tensor<2xi64>
  %0 = kiln.reshape %x, %c : (tensor<?x4xf32>, tensor<2xi64>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

// kiln.pad in constant mode with constant, non-negative pads becomes a
// tensor.pad of its value (which kiln-cpu-fuse-padding can turn into the
// producer writing the interior); other modes, and crops, compute every
// element from its source index.
// CHECK-LABEL: func.func @pad_lowering(
// CHECK: %[[V:.+]] = tensor.extract %arg1[] : tensor<i8>
// CHECK: tensor.pad %arg0 low[0, 0, 1, 2] high[0, 0, 1, 0] {
// CHECK: tensor.yield %[[V]] : i8
// CHECK: } : tensor<1x2x4x4xi8> to tensor<1x2x6x6xi8>
// CHECK: linalg.generic
// CHECK: linalg.index
// CHECK: return
func.func @pad_lowering(%x: tensor<1x2x4x4xui8>, %v: tensor<ui8>, %f: tensor<1x2x4x4xf32>) -> (tensor<1x2x6x6xui8>, tensor<1x2x6x6xf32>) {
  %pads = kiln.constant dense<[0, 0, 1, 2, 0, 0, 1, 0]> : tensor<8xi64>
  %p = kiln.pad %x, %pads, %v : (tensor<1x2x4x4xui8>, tensor<8xi64>, tensor<ui8>) -> tensor<1x2x6x6xui8>
  %r = kiln.pad %f, %pads {mode = "reflect"} : (tensor<1x2x4x4xf32>, tensor<8xi64>) -> tensor<1x2x6x6xf32>
  return %p, %r : tensor<1x2x6x6xui8>, tensor<1x2x6x6xf32>
}

// -----

// cache_update: a check that the rows fit (else the runtime's trap: the run
// fails), then the update inserted into the cache at the offset, which
// bufferization writes in place.
// CHECK: func.func private @kiln_model_trap(i32)
// CHECK-LABEL: func.func @cache_update(
// CHECK-SAME: %[[CACHE:[^:]+]]: tensor<1x4x?x16xf32>, %[[X:[^:]+]]: tensor<1x4x?x16xf32>, %[[N:[^:]+]]: tensor<1xi64>
// CHECK: %[[RAW:.+]] = tensor.extract %[[N]][%{{.+}}] : tensor<1xi64>
// CHECK: %[[OFFSET:.+]] = arith.index_cast %[[RAW]] : i64 to index
// CHECK: %[[ROWS:.+]] = tensor.dim %[[X]], %c2
// CHECK: %[[EXTENT:.+]] = tensor.dim %[[CACHE]], %c2
// CHECK: %[[END:.+]] = arith.addi %[[OFFSET]], %[[ROWS]] : index
// CHECK: %[[NEGATIVE:.+]] = arith.cmpi slt, %[[OFFSET]], %{{.+}} : index
// CHECK: %[[PAST:.+]] = arith.cmpi sgt, %[[END]], %[[EXTENT]] : index
// CHECK: %[[BAD:.+]] = arith.ori %[[NEGATIVE]], %[[PAST]] : i1
// CHECK: scf.if %[[BAD]] {
// CHECK: func.call @kiln_model_trap(%c1_i32) : (i32) -> ()
// CHECK: tensor.insert_slice %[[X]] into %[[CACHE]][0, 0, %[[OFFSET]], 0] [1, 4, %{{.+}}, 16] [1, 1, 1, 1] : tensor<1x4x?x16xf32> into tensor<1x4x?x16xf32>
func.func @cache_update(%c: tensor<1x4x?x16xf32>, %x: tensor<1x4x?x16xf32>, %n: tensor<1xi64>) -> tensor<1x4x?x16xf32> {
  %r = kiln.cache_update %c, %x, %n {axis = 2 : i64} : (tensor<1x4x?x16xf32>, tensor<1x4x?x16xf32>, tensor<1xi64>) -> tensor<1x4x?x16xf32>
  return %r : tensor<1x4x?x16xf32>
}
