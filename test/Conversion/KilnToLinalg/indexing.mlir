// RUN: kiln-opt %s --convert-kiln-to-linalg --split-input-file | FileCheck %s

// range: the length max(ceil((limit - start) / delta), 0) sizes the result;
// element i is start + i * delta.
// CHECK-LABEL: func.func @range(
// CHECK-SAME: %[[S:[^:]+]]: tensor<i64>, %[[L:[^:]+]]: tensor<i64>, %[[D:[^:]+]]: tensor<i64>)
// CHECK: %[[START:.+]] = tensor.extract %[[S]][] : tensor<i64>
// CHECK: %[[LIMIT:.+]] = tensor.extract %[[L]][] : tensor<i64>
// CHECK: %[[DELTA:.+]] = tensor.extract %[[D]][] : tensor<i64>
// CHECK: %[[SPAN:.+]] = arith.subi %[[LIMIT]], %[[START]] : i64
// CHECK: %[[STEPS:.+]] = arith.ceildivsi %[[SPAN]], %[[DELTA]] : i64
// CHECK: %[[COUNT:.+]] = arith.index_cast %[[STEPS]] : i64 to index
// CHECK: %[[N:.+]] = arith.maxsi %[[COUNT]], %{{.+}} : index
// CHECK: %[[EMPTY:.+]] = tensor.empty(%[[N]]) : tensor<?xi64>
// CHECK: linalg.generic {{.+}} outs(%[[EMPTY]] : tensor<?xi64>)
// CHECK: %[[I:.+]] = linalg.index 0 : index
// CHECK: %[[II:.+]] = arith.index_cast %[[I]] : index to i64
// CHECK: %[[M:.+]] = arith.muli %[[II]], %[[DELTA]] : i64
// CHECK: %[[V:.+]] = arith.addi %[[START]], %[[M]] : i64
// CHECK: linalg.yield %[[V]] : i64
func.func @range(%s: tensor<i64>, %l: tensor<i64>, %d: tensor<i64>) -> tensor<?xi64> {
  %0 = kiln.range %s, %l, %d : (tensor<i64>, tensor<i64>, tensor<i64>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

// cumsum with a run-time axis: the body sums input[..., k, ...] for k up to
// the element's position along the selected axis (exclusive: before it).
// CHECK-LABEL: func.func @cumsum(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3xf32>, %[[A:[^:]+]]: tensor<i64>)
// CHECK: tensor.extract %[[A]][] : tensor<i64>
// CHECK: linalg.generic {{.+}} outs(%{{.+}} : tensor<2x3xf32>)
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[SUM:.+]] = scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[ZERO]]) -> (f32)
// CHECK: %[[V:.+]] = tensor.extract %[[X]]
// CHECK: arith.addf %[[ACC]], %[[V]] : f32
// CHECK: linalg.yield %[[SUM]] : f32
func.func @cumsum(%x: tensor<2x3xf32>, %axis: tensor<i64>) -> tensor<2x3xf32> {
  %0 = kiln.cumsum %x, %axis {exclusive = true} : (tensor<2x3xf32>, tensor<i64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// scatter_elements: a loop nest over the updates, in order, carrying the
// result; each update is combined with the element it addresses.
// CHECK-LABEL: func.func @scatter_elements(
// CHECK-SAME: %[[X:[^:]+]]: tensor<3x3xf32>, %[[I:[^:]+]]: tensor<2x3xi64>, %[[U:[^:]+]]: tensor<2x3xf32>)
// CHECK: scf.for %{{.+}} iter_args(%[[OUTER:.+]] = %[[X]]) -> (tensor<3x3xf32>)
// CHECK: scf.for %{{.+}} iter_args(%[[R:.+]] = %[[OUTER]]) -> (tensor<3x3xf32>)
// CHECK: tensor.extract %[[I]]
// CHECK: %[[UPD:.+]] = tensor.extract %[[U]]
// CHECK: %[[CUR:.+]] = tensor.extract %[[R]]
// CHECK: %[[NEW:.+]] = arith.addf %[[CUR]], %[[UPD]] : f32
// CHECK: tensor.insert %[[NEW]] into %[[R]]
func.func @scatter_elements(%x: tensor<3x3xf32>, %i: tensor<2x3xi64>, %u: tensor<2x3xf32>) -> tensor<3x3xf32> {
  %0 = kiln.scatter_elements %x, %i, %u {axis = 1 : i64, reduction = "add"} : (tensor<3x3xf32>, tensor<2x3xi64>, tensor<2x3xf32>) -> tensor<3x3xf32>
  return %0 : tensor<3x3xf32>
}

// -----

// non_zero: a counting pass sizes the [rank, count] result, a second pass
// writes the coordinates.
// CHECK-LABEL: func.func @non_zero(
// CHECK: %[[COUNT:.+]] = scf.for {{.+}} -> (index)
// CHECK: %[[EMPTY:.+]] = tensor.empty(%[[COUNT]]) : tensor<2x?xi64>
// CHECK: scf.for {{.+}} iter_args(%{{.+}} = %{{.+}}, %{{.+}} = %[[EMPTY]]) -> (index, tensor<2x?xi64>)
// CHECK: scf.if
func.func @non_zero(%x: tensor<2x3xi1>) -> tensor<2x?xi64> {
  %0 = kiln.non_zero %x : (tensor<2x3xi1>) -> tensor<2x?xi64>
  return %0 : tensor<2x?xi64>
}

// -----

// einsum: the labels become loops, output labels parallel; a label repeated
// in one operand reads its diagonal.
// CHECK-DAG: #[[$DIAG:.+]] = affine_map<(d0, d1) -> (d0, d1, d1)>
// CHECK-DAG: #[[$OUT:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @einsum_batch_diagonal_sum(
// CHECK: linalg.generic {indexing_maps = [#[[$DIAG]], #[[$OUT]]], iterator_types = ["parallel", "reduction"]}
// CHECK: arith.addf
func.func @einsum_batch_diagonal_sum(%x: tensor<3x5x5xf32>) -> tensor<3xf32> {
  %0 = kiln.einsum %x {equation = "bii->b"} : (tensor<3x5x5xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// CHECK-DAG: #[[$A:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG: #[[$B:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-DAG: #[[$C:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>
// CHECK-LABEL: func.func @einsum_batch_matmul(
// CHECK: linalg.generic {indexing_maps = [#[[$A]], #[[$B]], #[[$C]]], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
// CHECK: %[[P:.+]] = arith.mulf
// CHECK: arith.addf %{{.+}}, %[[P]]
func.func @einsum_batch_matmul(%a: tensor<2x3x4xf32>, %b: tensor<2x4x5xf32>) -> tensor<2x3x5xf32> {
  %0 = kiln.einsum %a, %b {equation = "bij, bjk -> bik"} : (tensor<2x3x4xf32>, tensor<2x4x5xf32>) -> tensor<2x3x5xf32>
  return %0 : tensor<2x3x5xf32>
}

// -----

// non_max_suppression: a buffer of batch * classes * min(max_output, n)
// rows; per batch and class, an in-play mask, then rounds that scan for the
// best box in play, append it and prune the mask; the result is the first
// `count` rows.
// CHECK-LABEL: func.func @non_max_suppression(
// CHECK: %[[BUF:.+]] = tensor.empty(%{{.+}}) : tensor<?x3xi64>
// CHECK: %[[NEST:.+]]:2 = scf.for {{.+}} iter_args(%{{.+}} = %[[BUF]], %{{.+}} = %{{.+}}) -> (tensor<?x3xi64>, index)
// CHECK: scf.for {{.+}} -> (tensor<?x3xi64>, index)
// CHECK: scf.for {{.+}} -> (tensor<6xi1>)
// CHECK: arith.cmpf ogt
// CHECK: scf.for {{.+}} -> (tensor<?x3xi64>, index, tensor<6xi1>)
// CHECK: scf.for {{.+}} -> (f32, index)
// CHECK: scf.if {{.+}} -> (tensor<?x3xi64>, index, tensor<6xi1>)
// CHECK: arith.divf
// CHECK: tensor.extract_slice %[[NEST]]#0[0, 0] [%[[NEST]]#1, 3] [1, 1] : tensor<?x3xi64> to tensor<?x3xi64>
func.func @non_max_suppression(%b: tensor<1x6x4xf32>, %s: tensor<1x2x6xf32>, %m: tensor<i64>, %t: tensor<f32>) -> tensor<?x3xi64> {
  %0 = kiln.non_max_suppression %b, %s, %m, %t, %t : (tensor<1x6x4xf32>, tensor<1x2x6xf32>, tensor<i64>, tensor<f32>, tensor<f32>) -> tensor<?x3xi64>
  return %0 : tensor<?x3xi64>
}

// -----

// det: per matrix, a copy is eliminated column by column: a pivot search
// (largest magnitude), a row swap, then the rows below are updated; the
// product of the pivots, negated per swap, is the determinant.
// CHECK-LABEL: func.func @det(
// CHECK: scf.for %[[B:[^ ]+]] = {{.+}} -> (tensor<3xf32>)
// CHECK: %[[M:.+]] = tensor.extract_slice %{{.+}}[%[[B]], 0, 0] [1, 2, 2] [1, 1, 1] : tensor<3x2x2xf32> to tensor<2x2xf32>
// CHECK: %[[E:.+]]:2 = scf.for {{.+}} iter_args(%{{.+}} = %[[M]], %{{.+}} = %{{.+}}) -> (tensor<2x2xf32>, f32)
// CHECK: math.absf
// CHECK: arith.negf
// CHECK: arith.divf
// CHECK: tensor.insert %[[E]]#1 into %{{.+}}[%[[B]]] : tensor<3xf32>
func.func @det(%x: tensor<3x2x2xf32>) -> tensor<3xf32> {
  %0 = kiln.det %x : (tensor<3x2x2xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// gather_nd and scatter_nd check each index tuple's components against the
// dims they address (here 4 and 5: the extent is picked by the position
// along the tuple), scatter_elements against its axis; out of range calls
// the runtime's trap.
// CHECK-LABEL: func.func @index_checks(
// CHECK: %[[HI0:.+]] = arith.index_cast %c4{{.*}} : index to i64
// CHECK: %[[HI1:.+]] = arith.index_cast %c5{{.*}} : index to i64
// CHECK: linalg.generic {{.+}} ins(%arg1 : tensor<3x2xi64>) outs(%{{.+}} : tensor<i1>)
// CHECK: %[[COMPONENT:.+]] = linalg.index 1 : index
// CHECK: %[[IS1:.+]] = arith.cmpi eq, %[[COMPONENT]], %c1{{.*}} : index
// CHECK: %[[HI:.+]] = arith.select %[[IS1]], %[[HI1]], %[[HI0]] : i64
// CHECK: arith.cmpi sge, %{{.+}}, %[[HI]] : i64
// CHECK: func.call @kiln_model_trap
// CHECK: linalg.generic {{.+}} ins(%arg1 : tensor<3x2xi64>) outs(%{{.+}} : tensor<i1>)
// CHECK: func.call @kiln_model_trap
// CHECK: linalg.generic {{.+}} ins(%arg3 : tensor<4x2xi64>) outs(%{{.+}} : tensor<i1>)
// CHECK: func.call @kiln_model_trap
func.func @index_checks(%x: tensor<4x5x6xf32>, %i: tensor<3x2xi64>, %u: tensor<3x6xf32>, %e: tensor<4x2xi64>, %v: tensor<4x2xf32>, %m: tensor<4x7xf32>) -> (tensor<3x6xf32>, tensor<4x5x6xf32>, tensor<4x7xf32>) {
  %0 = kiln.gather_nd %x, %i : (tensor<4x5x6xf32>, tensor<3x2xi64>) -> tensor<3x6xf32>
  %1 = kiln.scatter_nd %x, %i, %u : (tensor<4x5x6xf32>, tensor<3x2xi64>, tensor<3x6xf32>) -> tensor<4x5x6xf32>
  %2 = kiln.scatter_elements %m, %e, %v {axis = 1 : i64} : (tensor<4x7xf32>, tensor<4x2xi64>, tensor<4x2xf32>) -> tensor<4x7xf32>
  return %0, %1, %2 : tensor<3x6xf32>, tensor<4x5x6xf32>, tensor<4x7xf32>
}

// -----

// unique: a pass over the rows collects the distinct ones (their first
// rows, counts and each row's slot), searching those found so far; sorted,
// a second pass ranks them (unsigned elements compare unsigned); the
// results are written at the ranks.
// CHECK-LABEL: func.func @unique(
// CHECK: %[[GATHER:.+]]:4 = scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args({{.+}}) -> (index, tensor<?xindex>, tensor<?xindex>, tensor<?xindex>)
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %c-1) -> (index)
// CHECK: arith.cmpi eq, %{{.+}}, %{{.+}} : i8
// CHECK: scf.if %{{.+}} -> (index, tensor<?xindex>, tensor<?xindex>, tensor<?xindex>)
// CHECK: %[[RANKS:.+]] = scf.for %{{.+}} = %{{.+}} to %[[GATHER]]#0
// CHECK: arith.cmpi ult, %{{.+}}, %{{.+}} : i8
// CHECK: %[[ROWS:.+]] = tensor.empty(%[[GATHER]]#0) : tensor<?x2xi8>
// CHECK: %[[OUT:.+]]:3 = scf.for %{{.+}} = %{{.+}} to %[[GATHER]]#0 {{.+}} -> (tensor<?x2xi8>, tensor<?xi64>, tensor<?xi64>)
// CHECK: tensor.extract %[[RANKS]]
// CHECK: %[[INVERSE:.+]] = scf.for {{.+}} -> (tensor<6xi64>)
// CHECK: return %[[OUT]]#0, %[[OUT]]#1, %[[INVERSE]], %[[OUT]]#2
func.func @unique(%x: tensor<6x2xui8>) -> (tensor<?x2xui8>, tensor<?xi64>, tensor<6xi64>, tensor<?xi64>) {
  %y, %first, %inverse, %counts = kiln.unique %x {sorted = true} : (tensor<6x2xui8>) -> (tensor<?x2xui8>, tensor<?xi64>, tensor<6xi64>, tensor<?xi64>)
  return %y, %first, %inverse, %counts : tensor<?x2xui8>, tensor<?xi64>, tensor<6xi64>, tensor<?xi64>
}

// -----

// Unsorted, the distinct rows stay in the order they first occur: no
// ranking pass.
// CHECK-LABEL: func.func @unique_unsorted(
// CHECK: %[[GATHER:.+]]:4 = scf.for
// CHECK-NOT: arith.cmpf olt
// CHECK: tensor.empty(%[[GATHER]]#0) : tensor<?x1xf32>
func.func @unique_unsorted(%x: tensor<?x1xf32>) -> (tensor<?x1xf32>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>) {
  %y, %first, %inverse, %counts = kiln.unique %x {sorted = false} : (tensor<?x1xf32>) -> (tensor<?x1xf32>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>)
  return %y, %first, %inverse, %counts : tensor<?x1xf32>, tensor<?xi64>, tensor<?xi64>, tensor<?xi64>
}
