// RUN: kiln-opt %s -canonicalize -split-input-file | FileCheck %s
// RUN: kiln-opt %s -canonicalize -kiln-infer-shapes -split-input-file | FileCheck %s --check-prefix=INFER

// Folders and canonicalization patterns of the kiln dialect.

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

// Constants fold to their value, so equal ones are merged and dead ones go.
// CHECK-LABEL: func.func @constant_dedup(
// CHECK-NEXT: %[[C:.+]] = kiln.constant dense<[1, 2]> : tensor<2xi64>
// CHECK-NEXT: return %[[C]], %[[C]]
func.func @constant_dedup() -> (tensor<2xi64>, tensor<2xi64>) {
  %0 = kiln.constant dense<[1, 2]> : tensor<2xi64>
  %1 = kiln.constant dense<[1, 2]> : tensor<2xi64>
  %2 = kiln.constant dense<7.0> : tensor<4xf32>
  return %0, %1 : tensor<2xi64>, tensor<2xi64>
}

// -----

//===----------------------------------------------------------------------===//
// Shape
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @shape_static(
// CHECK-NOT: kiln.shape
// CHECK: %[[C:.+]] = kiln.constant dense<[2, 3, 4]> : tensor<3xi64>
// CHECK: return %[[C]]
func.func @shape_static(%x: tensor<2x3x4xf32>) -> tensor<3xi64> {
  %0 = kiln.shape %x : (tensor<2x3x4xf32>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// Only the selected dims need to be static.
// CHECK-LABEL: func.func @shape_static_range(
// CHECK-DAG: %[[TAIL:.+]] = kiln.constant dense<[3, 4]> : tensor<2xi64>
// CHECK-DAG: %[[MID:.+]] = kiln.constant dense<3> : tensor<1xi64>
// CHECK-NOT: kiln.shape
// CHECK: return %[[TAIL]], %[[MID]]
func.func @shape_static_range(%x: tensor<?x3x4xf32>) -> (tensor<2xi64>, tensor<1xi64>) {
  %0 = kiln.shape %x {start = 1 : i64} : (tensor<?x3x4xf32>) -> tensor<2xi64>
  %1 = kiln.shape %x {start = -2 : i64, end = -1 : i64} : (tensor<?x3x4xf32>) -> tensor<1xi64>
  return %0, %1 : tensor<2xi64>, tensor<1xi64>
}

// -----

// CHECK-LABEL: func.func @shape_dynamic(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x3x4xf32>)
// CHECK: %[[S0:.+]] = kiln.shape %[[X]] : (tensor<?x3x4xf32>) -> tensor<3xi64>
// CHECK: %[[S1:.+]] = kiln.shape %[[X]] {end = 2 : i64} : (tensor<?x3x4xf32>) -> tensor<2xi64>
// CHECK: return %[[S0]], %[[S1]]
func.func @shape_dynamic(%x: tensor<?x3x4xf32>) -> (tensor<3xi64>, tensor<2xi64>) {
  %0 = kiln.shape %x : (tensor<?x3x4xf32>) -> tensor<3xi64>
  %1 = kiln.shape %x {end = 2 : i64} : (tensor<?x3x4xf32>) -> tensor<2xi64>
  return %0, %1 : tensor<3xi64>, tensor<2xi64>
}

// -----

//===----------------------------------------------------------------------===//
// Cast
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @cast_identity(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4x?xf32>)
// CHECK-NOT: kiln.cast
// CHECK: return %[[X]]
func.func @cast_identity(%x: tensor<4x?xf32>) -> tensor<4x?xf32> {
  %0 = kiln.cast %x {to = f32} : (tensor<4x?xf32>) -> tensor<4x?xf32>
  return %0 : tensor<4x?xf32>
}

// -----

// CHECK-LABEL: func.func @cast_int_constant(
// CHECK-DAG: %[[I32:.+]] = kiln.constant dense<[1, -2, 0, 300]> : tensor<4xi32>
// CHECK-DAG: %[[I1:.+]] = kiln.constant dense<[true, true, false, true]> : tensor<4xi1>
// CHECK-DAG: %[[I8:.+]] = kiln.constant dense<[1, -2, 0, 44]> : tensor<4xi8>
// CHECK-DAG: %[[U:.+]] = kiln.constant dense<[255, 1]> : tensor<2xi64>
// CHECK-NOT: kiln.cast
// CHECK: return %[[I32]], %[[I1]], %[[I8]], %[[U]]
func.func @cast_int_constant() -> (tensor<4xi32>, tensor<4xi1>, tensor<4xi8>, tensor<2xi64>) {
  %c = kiln.constant dense<[1, -2, 0, 300]> : tensor<4xi64>
  %0 = kiln.cast %c {to = i32} : (tensor<4xi64>) -> tensor<4xi32>
  // Anything to bool is x != 0.
  %1 = kiln.cast %c {to = i1} : (tensor<4xi64>) -> tensor<4xi1>
  // Narrowing keeps the low bits: 300 mod 256 = 44.
  %2 = kiln.cast %c {to = i8} : (tensor<4xi64>) -> tensor<4xi8>
  // Unsigned values are zero-extended.
  %u = kiln.constant dense<[255, 1]> : tensor<2xui8>
  %3 = kiln.cast %u {to = i64} : (tensor<2xui8>) -> tensor<2xi64>
  return %0, %1, %2, %3 : tensor<4xi32>, tensor<4xi1>, tensor<4xi8>, tensor<2xi64>
}

// -----

// Only integer results fold.
// CHECK-LABEL: func.func @cast_to_float_not_folded(
// CHECK: %[[C:.+]] = kiln.constant dense<[1, 2]> : tensor<2xi64>
// CHECK: %[[F:.+]] = kiln.cast %[[C]] {to = f32} : (tensor<2xi64>) -> tensor<2xf32>
// CHECK: return %[[F]]
func.func @cast_to_float_not_folded() -> tensor<2xf32> {
  %c = kiln.constant dense<[1, 2]> : tensor<2xi64>
  %0 = kiln.cast %c {to = f32} : (tensor<2xi64>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Integer arithmetic
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @int_arith(
// CHECK-DAG: %[[ADD:.+]] = kiln.constant dense<[11, 22, 34]> : tensor<3xi64>
// CHECK-DAG: %[[SUB:.+]] = kiln.constant dense<[-9, -18, -26]> : tensor<3xi64>
// CHECK-DAG: %[[MUL:.+]] = kiln.constant dense<[10, 40, 120]> : tensor<3xi64>
// CHECK-DAG: %[[DIV:.+]] = kiln.constant dense<[10, 10, 7]> : tensor<3xi64>
// CHECK-DAG: %[[MAX:.+]] = kiln.constant dense<[10, 20, 30]> : tensor<3xi64>
// CHECK-DAG: %[[MIN:.+]] = kiln.constant dense<[1, 2, 4]> : tensor<3xi64>
// CHECK-NOT: kiln.add
// CHECK-NOT: kiln.sub
// CHECK-NOT: kiln.mul
// CHECK-NOT: kiln.div
// CHECK-NOT: kiln.max
// CHECK-NOT: kiln.min
// CHECK: return %[[ADD]], %[[SUB]], %[[MUL]], %[[DIV]], %[[MAX]], %[[MIN]]
func.func @int_arith() -> (tensor<3xi64>, tensor<3xi64>, tensor<3xi64>, tensor<3xi64>, tensor<3xi64>, tensor<3xi64>) {
  %a = kiln.constant dense<[1, 2, 4]> : tensor<3xi64>
  %b = kiln.constant dense<[10, 20, 30]> : tensor<3xi64>
  %0 = kiln.add %a, %b : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %1 = kiln.sub %a, %b : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %2 = kiln.mul %a, %b : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %3 = kiln.div %b, %a : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %4 = kiln.max %a, %b : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %5 = kiln.min %b, %a : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  return %0, %1, %2, %3, %4, %5 : tensor<3xi64>, tensor<3xi64>, tensor<3xi64>, tensor<3xi64>, tensor<3xi64>, tensor<3xi64>
}

// -----

// CHECK-LABEL: func.func @int_arith_broadcast(
// CHECK-DAG: %[[ADD:.+]] = kiln.constant dense<{{\[}}[11, 12, 13], [21, 22, 23]]> : tensor<2x3xi32>
// CHECK-DAG: %[[MUL:.+]] = kiln.constant dense<[2, 4, 6]> : tensor<3xi32>
// CHECK-DAG: %[[SUB:.+]] = kiln.constant dense<{{\[}}[9, 8, 7], [19, 18, 17]]> : tensor<2x3xi32>
// CHECK-NOT: kiln.add
// CHECK-NOT: kiln.mul
// CHECK-NOT: kiln.sub
// CHECK: return %[[ADD]], %[[MUL]], %[[SUB]]
func.func @int_arith_broadcast() -> (tensor<2x3xi32>, tensor<3xi32>, tensor<2x3xi32>) {
  %row = kiln.constant dense<[1, 2, 3]> : tensor<3xi32>
  %col = kiln.constant dense<[[10], [20]]> : tensor<2x1xi32>
  %two = kiln.constant dense<2> : tensor<i32>
  %0 = kiln.add %col, %row : (tensor<2x1xi32>, tensor<3xi32>) -> tensor<2x3xi32>
  %1 = kiln.mul %row, %two : (tensor<3xi32>, tensor<i32>) -> tensor<3xi32>
  %2 = kiln.sub %col, %row : (tensor<2x1xi32>, tensor<3xi32>) -> tensor<2x3xi32>
  return %0, %1, %2 : tensor<2x3xi32>, tensor<3xi32>, tensor<2x3xi32>
}

// -----

// Integer division truncates toward zero.
// CHECK-LABEL: func.func @int_div_truncates(
// CHECK: %[[C:.+]] = kiln.constant dense<[-3, 3, -3, 3]> : tensor<4xi64>
// CHECK-NOT: kiln.div
// CHECK: return %[[C]]
func.func @int_div_truncates() -> tensor<4xi64> {
  %a = kiln.constant dense<[-7, 7, 7, -7]> : tensor<4xi64>
  %b = kiln.constant dense<[2, 2, -2, -2]> : tensor<4xi64>
  %0 = kiln.div %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// CHECK-LABEL: func.func @int_div_by_zero_not_folded(
// CHECK-DAG: %[[A:.+]] = kiln.constant dense<[4, 6]> : tensor<2xi64>
// CHECK-DAG: %[[B:.+]] = kiln.constant dense<[2, 0]> : tensor<2xi64>
// CHECK: %[[D:.+]] = kiln.div %[[A]], %[[B]] : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
// CHECK: return %[[D]]
func.func @int_div_by_zero_not_folded() -> tensor<2xi64> {
  %a = kiln.constant dense<[4, 6]> : tensor<2xi64>
  %b = kiln.constant dense<[2, 0]> : tensor<2xi64>
  %0 = kiln.div %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// Float arithmetic and non-constant operands do not fold.
// CHECK-LABEL: func.func @arith_not_folded(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2xi64>)
// CHECK-DAG: %[[F:.+]] = kiln.constant dense<1.000000e+00> : tensor<2xf32>
// CHECK-DAG: %[[I:.+]] = kiln.constant dense<1> : tensor<2xi64>
// CHECK: %[[FA:.+]] = kiln.add %[[F]], %[[F]] : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
// CHECK: %[[XA:.+]] = kiln.add %[[X]], %[[I]] : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
// CHECK: return %[[FA]], %[[XA]]
func.func @arith_not_folded(%x: tensor<2xi64>) -> (tensor<2xf32>, tensor<2xi64>) {
  %f = kiln.constant dense<1.0> : tensor<2xf32>
  %i = kiln.constant dense<1> : tensor<2xi64>
  %0 = kiln.add %f, %f : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %1 = kiln.add %x, %i : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %0, %1 : tensor<2xf32>, tensor<2xi64>
}

// -----

// Folds are limited to small tensors (shape computations); a splat is cheap to
// reshape whatever its size.
// CHECK-LABEL: func.func @large_constants(
// CHECK-DAG: %[[ONES:.+]] = kiln.constant dense<1> : tensor<100xi64>
// CHECK-DAG: %[[SPLAT:.+]] = kiln.constant dense<1> : tensor<10x10xi64>
// CHECK: %[[ADD:.+]] = kiln.add %[[ONES]], %[[ONES]] : (tensor<100xi64>, tensor<100xi64>) -> tensor<100xi64>
// CHECK: return %[[ADD]], %[[SPLAT]]
func.func @large_constants() -> (tensor<100xi64>, tensor<10x10xi64>) {
  %c = kiln.constant dense<1> : tensor<100xi64>
  %0 = kiln.add %c, %c : (tensor<100xi64>, tensor<100xi64>) -> tensor<100xi64>
  %s = kiln.constant dense<[10, 10]> : tensor<2xi64>
  %1 = kiln.reshape %c, %s : (tensor<100xi64>, tensor<2xi64>) -> tensor<10x10xi64>
  return %0, %1 : tensor<100xi64>, tensor<10x10xi64>
}

// -----

//===----------------------------------------------------------------------===//
// Reshape
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @reshape_identity(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x12xf32>)
// CHECK-NOT: kiln.reshape
// CHECK: return %[[X]]
func.func @reshape_identity(%x: tensor<2x12xf32>) -> tensor<2x12xf32> {
  %s = kiln.constant dense<[0, -1]> : tensor<2xi64>
  %0 = kiln.reshape %x, %s : (tensor<2x12xf32>, tensor<2xi64>) -> tensor<2x12xf32>
  return %0 : tensor<2x12xf32>
}

// -----

// A dynamic result is not an identity even when the types match.
// CHECK-LABEL: func.func @reshape_dynamic_not_identity(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x12xf32>)
// CHECK: %[[R:.+]] = kiln.reshape %[[X]], %{{.+}} : (tensor<?x12xf32>, tensor<2xi64>) -> tensor<?x12xf32>
// CHECK: return %[[R]]
func.func @reshape_dynamic_not_identity(%x: tensor<?x12xf32>) -> tensor<?x12xf32> {
  %s = kiln.constant dense<[-1, 12]> : tensor<2xi64>
  %0 = kiln.reshape %x, %s : (tensor<?x12xf32>, tensor<2xi64>) -> tensor<?x12xf32>
  return %0 : tensor<?x12xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_constant(
// CHECK: %[[C:.+]] = kiln.constant dense<{{\[}}[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
// CHECK-NOT: kiln.reshape
// CHECK: return %[[C]]
func.func @reshape_constant() -> tensor<2x3xi64> {
  %c = kiln.constant dense<[1, 2, 3, 4, 5, 6]> : tensor<6xi64>
  %s = kiln.constant dense<[2, -1]> : tensor<2xi64>
  %0 = kiln.reshape %c, %s : (tensor<6xi64>, tensor<2xi64>) -> tensor<2x3xi64>
  return %0 : tensor<2x3xi64>
}

// -----

// CHECK-LABEL: func.func @reshape_of_reshape(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3x4xf32>)
// CHECK: %[[S:.+]] = kiln.constant dense<[4, 6]> : tensor<2xi64>
// CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[X]], %[[S]] : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_of_reshape(%x: tensor<2x3x4xf32>) -> tensor<4x6xf32> {
  %s1 = kiln.constant dense<[6, 4]> : tensor<2xi64>
  %s2 = kiln.constant dense<[4, 6]> : tensor<2xi64>
  %0 = kiln.reshape %x, %s1 : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %1 = kiln.reshape %0, %s2 : (tensor<6x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  return %1 : tensor<4x6xf32>
}

// -----

// With allowzero a 0 in the outer shape copies nothing, so the chain still
// collapses; so does one whose outer shape is not a constant.
// CHECK-LABEL: func.func @reshape_of_reshape_allowzero(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x4xf32>, %[[S:[^:]+]]: tensor<3xi64>)
// CHECK: %[[R:.+]] = kiln.reshape %[[X]], %[[S]] {allowzero = true} : (tensor<?x4xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
// CHECK-NEXT: return %[[R]]
func.func @reshape_of_reshape_allowzero(%x: tensor<?x4xf32>, %s: tensor<3xi64>) -> tensor<?x?x?xf32> {
  %s1 = kiln.constant dense<[-1]> : tensor<1xi64>
  %0 = kiln.reshape %x, %s1 : (tensor<?x4xf32>, tensor<1xi64>) -> tensor<?xf32>
  %1 = kiln.reshape %0, %s {allowzero = true} : (tensor<?xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  return %1 : tensor<?x?x?xf32>
}

// -----

// A 0 in the outer shape copies a dim of the intermediate (3 here), which is
// not the dim of the input (12): no collapse.
// CHECK-LABEL: func.func @reshape_of_reshape_copying_dim(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x12xf32>)
// CHECK: %[[INNER:.+]] = kiln.reshape %[[X]], %{{.+}} : (tensor<?x12xf32>, tensor<3xi64>) -> tensor<?x3x4xf32>
// CHECK: %[[OUTER:.+]] = kiln.reshape %[[INNER]], %{{.+}} : (tensor<?x3x4xf32>, tensor<4xi64>) -> tensor<?x3x2x2xf32>
// CHECK: return %[[OUTER]]
func.func @reshape_of_reshape_copying_dim(%x: tensor<?x12xf32>) -> tensor<?x3x2x2xf32> {
  %s1 = kiln.constant dense<[0, 3, 4]> : tensor<3xi64>
  %s2 = kiln.constant dense<[0, 0, 2, 2]> : tensor<4xi64>
  %0 = kiln.reshape %x, %s1 : (tensor<?x12xf32>, tensor<3xi64>) -> tensor<?x3x4xf32>
  %1 = kiln.reshape %0, %s2 : (tensor<?x3x4xf32>, tensor<4xi64>) -> tensor<?x3x2x2xf32>
  return %1 : tensor<?x3x2x2xf32>
}

// -----

// A non-constant outer shape may hold 0s: no collapse without allowzero.
// CHECK-LABEL: func.func @reshape_of_reshape_unknown_shape(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3x4xf32>, %[[S:[^:]+]]: tensor<2xi64>)
// CHECK: %[[INNER:.+]] = kiln.reshape %[[X]], %{{.+}} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
// CHECK: %[[OUTER:.+]] = kiln.reshape %[[INNER]], %[[S]] : (tensor<6x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
// CHECK: return %[[OUTER]]
func.func @reshape_of_reshape_unknown_shape(%x: tensor<2x3x4xf32>, %s: tensor<2xi64>) -> tensor<?x?xf32> {
  %s1 = kiln.constant dense<[6, 4]> : tensor<2xi64>
  %0 = kiln.reshape %x, %s1 : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<6x4xf32>
  %1 = kiln.reshape %0, %s : (tensor<6x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %1 : tensor<?x?xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Transpose
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @transpose_identity(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x?x4xf32>)
// CHECK-NOT: kiln.transpose
// CHECK: return %[[X]]
func.func @transpose_identity(%x: tensor<2x?x4xf32>) -> tensor<2x?x4xf32> {
  %0 = kiln.transpose %x {perm = array<i64: 0, 1, 2>} : (tensor<2x?x4xf32>) -> tensor<2x?x4xf32>
  return %0 : tensor<2x?x4xf32>
}

// -----

// Result dim i is x's dim p1[p2[i]].
// CHECK-LABEL: func.func @transpose_of_transpose(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3x4x5xf32>)
// CHECK-NEXT: %[[T:.+]] = kiln.transpose %[[X]] {perm = array<i64: 2, 0, 3, 1>} : (tensor<2x3x4x5xf32>) -> tensor<4x2x5x3xf32>
// CHECK-NEXT: return %[[T]]
func.func @transpose_of_transpose(%x: tensor<2x3x4x5xf32>) -> tensor<4x2x5x3xf32> {
  %0 = kiln.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<2x3x4x5xf32>) -> tensor<2x4x3x5xf32>
  %1 = kiln.transpose %0 {perm = array<i64: 1, 0, 3, 2>} : (tensor<2x4x3x5xf32>) -> tensor<4x2x5x3xf32>
  return %1 : tensor<4x2x5x3xf32>
}

// -----

// Transposes that undo each other vanish.
// CHECK-LABEL: func.func @transpose_inverse(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3x4xf32>)
// CHECK-NOT: kiln.transpose
// CHECK: return %[[X]]
func.func @transpose_inverse(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %0 = kiln.transpose %x {perm = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %1 = kiln.transpose %0 {perm = array<i64: 2, 0, 1>} : (tensor<3x4x2xf32>) -> tensor<2x3x4xf32>
  return %1 : tensor<2x3x4xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Concat
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @concat_single_input(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x?xf32>)
// CHECK-NOT: kiln.concat
// CHECK: return %[[X]]
func.func @concat_single_input(%x: tensor<2x?xf32>) -> tensor<2x?xf32> {
  %0 = kiln.concat %x {axis = 1 : i64} : (tensor<2x?xf32>) -> tensor<2x?xf32>
  return %0 : tensor<2x?xf32>
}

// -----

// CHECK-LABEL: func.func @concat_int_constants(
// CHECK: %[[C:.+]] = kiln.constant dense<[1, -1, 7, 8, 1, -1]> : tensor<6xi64>
// CHECK-NOT: kiln.concat
// CHECK: return %[[C]]
func.func @concat_int_constants() -> tensor<6xi64> {
  %a = kiln.constant dense<[1, -1]> : tensor<2xi64>
  %b = kiln.constant dense<[7, 8]> : tensor<2xi64>
  %0 = kiln.concat %a, %b, %a {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<6xi64>
  return %0 : tensor<6xi64>
}

// -----

// A non-constant input keeps the concat.
// CHECK-LABEL: func.func @concat_not_folded(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1xi64>)
// CHECK: %[[A:.+]] = kiln.constant dense<3> : tensor<1xi64>
// CHECK: %[[C:.+]] = kiln.concat %[[A]], %[[X]] {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
// CHECK: return %[[C]]
func.func @concat_not_folded(%x: tensor<1xi64>) -> tensor<2xi64> {
  %a = kiln.constant dense<3> : tensor<1xi64>
  %0 = kiln.concat %a, %x {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

//===----------------------------------------------------------------------===//
// Slice
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @slice_constant_shape(
// CHECK-DAG: %[[MID:.+]] = kiln.constant dense<[3, 4]> : tensor<2xi64>
// CHECK-DAG: %[[REV:.+]] = kiln.constant dense<[5, 3]> : tensor<2xi64>
// CHECK-DAG: %[[TAIL:.+]] = kiln.constant dense<5> : tensor<1xi64>
// CHECK-NOT: kiln.slice
// CHECK: return %[[MID]], %[[REV]], %[[TAIL]]
func.func @slice_constant_shape() -> (tensor<2xi64>, tensor<2xi64>, tensor<1xi64>) {
  %shape = kiln.constant dense<[2, 3, 4, 5]> : tensor<4xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %three = kiln.constant dense<3> : tensor<1xi64>
  %m1 = kiln.constant dense<-1> : tensor<1xi64>
  %m2 = kiln.constant dense<-2> : tensor<1xi64>
  %big = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  // [1:3]
  %0 = kiln.slice %shape, %one, %three, %zero, %one : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  // [-1:0:-2]
  %1 = kiln.slice %shape, %m1, %zero, %zero, %m2 : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  // [-1:]
  %2 = kiln.slice %shape, %m1, %big, %zero, %one : (tensor<4xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  return %0, %1, %2 : tensor<2xi64>, tensor<2xi64>, tensor<1xi64>
}

// -----

// CHECK-LABEL: func.func @slice_identity(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4x8xf32>)
// CHECK-NOT: kiln.slice
// CHECK: return %[[X]]
func.func @slice_identity(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %big = kiln.constant dense<9223372036854775807> : tensor<1xi64>
  %0 = kiln.slice %x, %zero, %big, %one, %one : (tensor<4x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

// A reversal keeps the type but is not the identity.
// CHECK-LABEL: func.func @slice_reverse_not_identity(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4x8xf32>)
// CHECK: %[[S:.+]] = kiln.slice %[[X]], %{{.+}} : (tensor<4x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x8xf32>
// CHECK: return %[[S]]
func.func @slice_reverse_not_identity(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %m1 = kiln.constant dense<-1> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi64>
  %min = kiln.constant dense<-9223372036854775808> : tensor<1xi64>
  %0 = kiln.slice %x, %m1, %min, %one, %m1 : (tensor<4x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Gather
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @gather_constant_shape(
// CHECK-DAG: %[[LAST:.+]] = kiln.constant dense<5> : tensor<i64>
// CHECK-DAG: %[[PICK:.+]] = kiln.constant dense<[4, 2, 5]> : tensor<3xi64>
// CHECK-DAG: %[[FIRST:.+]] = kiln.constant dense<2> : tensor<1xi64>
// CHECK-NOT: kiln.gather
// CHECK: return %[[LAST]], %[[PICK]], %[[FIRST]]
func.func @gather_constant_shape() -> (tensor<i64>, tensor<3xi64>, tensor<1xi64>) {
  %shape = kiln.constant dense<[2, 3, 4, 5]> : tensor<4xi64>
  %m1 = kiln.constant dense<-1> : tensor<i64>
  %idx = kiln.constant dense<[2, -4, 3]> : tensor<3xi32>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %0 = kiln.gather %shape, %m1 : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  %1 = kiln.gather %shape, %idx : (tensor<4xi64>, tensor<3xi32>) -> tensor<3xi64>
  %2 = kiln.gather %shape, %zero {axis = -1 : i64} : (tensor<4xi64>, tensor<1xi64>) -> tensor<1xi64>
  return %0, %1, %2 : tensor<i64>, tensor<3xi64>, tensor<1xi64>
}

// -----

// Non-constant indices keep the gather.
// CHECK-LABEL: func.func @gather_not_folded(
// CHECK-SAME: %[[I:[^:]+]]: tensor<i64>)
// CHECK: %[[G:.+]] = kiln.gather %{{.+}}, %[[I]] : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
// CHECK: return %[[G]]
func.func @gather_not_folded(%i: tensor<i64>) -> tensor<i64> {
  %shape = kiln.constant dense<[2, 3, 4, 5]> : tensor<4xi64>
  %0 = kiln.gather %shape, %i : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  return %0 : tensor<i64>
}

// -----

//===----------------------------------------------------------------------===//
// Squeeze, unsqueeze, flatten
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @squeeze_unsqueeze_flatten_constants(
// CHECK-DAG: %[[SQ:.+]] = kiln.constant dense<[7, 8]> : tensor<2xi64>
// CHECK-DAG: %[[UNSQ:.+]] = kiln.constant dense<7> : tensor<1xi64>
// CHECK-DAG: %[[FLAT:.+]] = kiln.constant dense<{{\[}}[1, 2, 3, 4]]> : tensor<1x4xi32>
// CHECK-DAG: %[[SPLAT:.+]] = kiln.constant dense<1.000000e+00> : tensor<1x3x1xf32>
// CHECK-NOT: kiln.squeeze
// CHECK-NOT: kiln.unsqueeze
// CHECK-NOT: kiln.flatten
// CHECK: return %[[SQ]], %[[UNSQ]], %[[FLAT]], %[[SPLAT]]
func.func @squeeze_unsqueeze_flatten_constants() -> (tensor<2xi64>, tensor<1xi64>, tensor<1x4xi32>, tensor<1x3x1xf32>) {
  %a = kiln.constant dense<[[7, 8]]> : tensor<1x2xi64>
  %0 = kiln.squeeze %a {axes = array<i64: 0>} : (tensor<1x2xi64>) -> tensor<2xi64>
  %s = kiln.constant dense<7> : tensor<i64>
  %1 = kiln.unsqueeze %s {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %m = kiln.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi32>
  %2 = kiln.flatten %m {axis = 0 : i64} : (tensor<2x2xi32>) -> tensor<1x4xi32>
  %f = kiln.constant dense<1.0> : tensor<3xf32>
  %3 = kiln.unsqueeze %f {axes = array<i64: 0, -1>} : (tensor<3xf32>) -> tensor<1x3x1xf32>
  return %0, %1, %2, %3 : tensor<2xi64>, tensor<1xi64>, tensor<1x4xi32>, tensor<1x3x1xf32>
}

// -----

// CHECK-LABEL: func.func @squeeze_flatten_identity(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3xf32>)
// CHECK-NOT: kiln.squeeze
// CHECK-NOT: kiln.flatten
// CHECK: return %[[X]], %[[X]]
func.func @squeeze_flatten_identity(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>) {
  // No dim of extent 1 to remove.
  %0 = kiln.squeeze %x {axes = array<i64>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = kiln.flatten %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0, %1 : tensor<2x3xf32>, tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @squeeze_unsqueeze_not_folded(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x3xf32>, %[[D:[^:]+]]: tensor<?x3xf32>)
// CHECK: %[[SQ:.+]] = kiln.squeeze %[[X]] {axes = array<i64: 0>} : (tensor<1x3xf32>) -> tensor<3xf32>
// CHECK: %[[UNSQ:.+]] = kiln.unsqueeze %[[SQ]] {axes = array<i64: 1>} : (tensor<3xf32>) -> tensor<3x1xf32>
// CHECK: %[[FLAT:.+]] = kiln.flatten %[[D]] : (tensor<?x3xf32>) -> tensor<?x3xf32>
// CHECK: return %[[UNSQ]], %[[FLAT]]
func.func @squeeze_unsqueeze_not_folded(%x: tensor<1x3xf32>, %d: tensor<?x3xf32>) -> (tensor<3x1xf32>, tensor<?x3xf32>) {
  %0 = kiln.squeeze %x {axes = array<i64: 0>} : (tensor<1x3xf32>) -> tensor<3xf32>
  %1 = kiln.unsqueeze %0 {axes = array<i64: 1>} : (tensor<3xf32>) -> tensor<3x1xf32>
  // Dynamic types are not known to be identities.
  %2 = kiln.flatten %d {axis = 1 : i64} : (tensor<?x3xf32>) -> tensor<?x3xf32>
  return %1, %2 : tensor<3x1xf32>, tensor<?x3xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Expand
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @expand_identity(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3xf32>)
// CHECK-NOT: kiln.expand
// CHECK: return %[[X]]
func.func @expand_identity(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %s = kiln.constant dense<[1, 3]> : tensor<2xi64>
  %0 = kiln.expand %x, %s : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @expand_splat(
// CHECK-DAG: %[[F:.+]] = kiln.constant dense<5.000000e-01> : tensor<2x3x4xf32>
// CHECK-DAG: %[[I:.+]] = kiln.constant dense<-1> : tensor<3x2xi64>
// CHECK-NOT: kiln.expand
// CHECK: return %[[F]], %[[I]]
func.func @expand_splat() -> (tensor<2x3x4xf32>, tensor<3x2xi64>) {
  %f = kiln.constant dense<0.5> : tensor<1x4xf32>
  %s = kiln.constant dense<[2, 3, 1]> : tensor<3xi64>
  %0 = kiln.expand %f, %s : (tensor<1x4xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  %i = kiln.constant dense<-1> : tensor<i64>
  %t = kiln.constant dense<[3, 2]> : tensor<2xi64>
  %1 = kiln.expand %i, %t : (tensor<i64>, tensor<2xi64>) -> tensor<3x2xi64>
  return %0, %1 : tensor<2x3x4xf32>, tensor<3x2xi64>
}

// -----

// Only splats are expanded.
// CHECK-LABEL: func.func @expand_non_splat_not_folded(
// CHECK: %[[E:.+]] = kiln.expand %{{.+}}, %{{.+}} : (tensor<2xi64>, tensor<2xi64>) -> tensor<3x2xi64>
// CHECK: return %[[E]]
func.func @expand_non_splat_not_folded() -> tensor<3x2xi64> {
  %c = kiln.constant dense<[1, 2]> : tensor<2xi64>
  %s = kiln.constant dense<[3, 1]> : tensor<2xi64>
  %0 = kiln.expand %c, %s : (tensor<2xi64>, tensor<2xi64>) -> tensor<3x2xi64>
  return %0 : tensor<3x2xi64>
}

// -----

//===----------------------------------------------------------------------===//
// An exporter's shape computation
//===----------------------------------------------------------------------===//

// x.reshape(x.shape[0], -1) as exported: Shape -> Gather -> Unsqueeze ->
// Concat -> Reshape. On a static input the shape folds to a constant and
// shape inference makes the result static.
// CHECK-LABEL: func.func @exporter_flatten_chain(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3x4xf32>)
// CHECK-NEXT: %[[S:.+]] = kiln.constant dense<[2, -1]> : tensor<2xi64>
// CHECK-NEXT: %[[R:.+]] = kiln.reshape %[[X]], %[[S]] : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
// CHECK-NEXT: return %[[R]]
// INFER-LABEL: func.func @exporter_flatten_chain(
// INFER-SAME: -> tensor<2x12xf32>
// INFER: %[[R:.+]] = kiln.reshape %{{.+}}, %{{.+}} : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
// INFER: return %[[R]] : tensor<2x12xf32>
func.func @exporter_flatten_chain(%x: tensor<2x3x4xf32>) -> tensor<?x?xf32> {
  %shape = kiln.shape %x : (tensor<2x3x4xf32>) -> tensor<3xi64>
  %zero = kiln.constant dense<0> : tensor<i64>
  %dim0 = kiln.gather %shape, %zero {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %dim0v = kiln.unsqueeze %dim0 {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %minus1 = kiln.constant dense<-1> : tensor<1xi64>
  %target = kiln.concat %dim0v, %minus1 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %0 = kiln.reshape %x, %target : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// The same chain on a dynamic batch dim: the shape does not fold.
// CHECK-LABEL: func.func @exporter_chain_dynamic(
// CHECK: kiln.shape
// CHECK: kiln.gather
// CHECK: kiln.unsqueeze
// CHECK: kiln.concat
// CHECK: kiln.reshape {{.+}} -> tensor<?x?xf32>
// INFER-LABEL: func.func @exporter_chain_dynamic(
// INFER: kiln.reshape {{.+}} -> tensor<?x?xf32>
func.func @exporter_chain_dynamic(%x: tensor<?x3x4xf32>) -> tensor<?x?xf32> {
  %shape = kiln.shape %x : (tensor<?x3x4xf32>) -> tensor<3xi64>
  %zero = kiln.constant dense<0> : tensor<i64>
  %dim0 = kiln.gather %shape, %zero {axis = 0 : i64} : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %dim0v = kiln.unsqueeze %dim0 {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %minus1 = kiln.constant dense<-1> : tensor<1xi64>
  %target = kiln.concat %dim0v, %minus1 {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>) -> tensor<2xi64>
  %0 = kiln.reshape %x, %target : (tensor<?x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return %0 : tensor<?x?xf32>
}

// -----

// A bool true casts to 1, not -1.
// CHECK-LABEL: func.func @cast_bool_constant
func.func @cast_bool_constant() -> tensor<2xi64> {
  // CHECK: %[[C:.+]] = kiln.constant dense<[1, 0]> : tensor<2xi64>
  // CHECK: return %[[C]]
  %c = kiln.constant dense<[true, false]> : tensor<2xi1>
  %0 = kiln.cast %c {to = i64} : (tensor<2xi1>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// A shape whose declared result is dynamic is not folded to a constant of
// that (invalid) type.
// CHECK-LABEL: func.func @shape_dynamic_result
func.func @shape_dynamic_result(%x: tensor<4x6xf32>) -> tensor<?xi64> {
  // CHECK: kiln.shape
  %0 = kiln.shape %x : (tensor<4x6xf32>) -> tensor<?xi64>
  return %0 : tensor<?xi64>
}

// -----

// An identity transpose that refines the type is kept; a composition keeps
// the declared result type.
// CHECK-LABEL: func.func @transpose_refining
func.func @transpose_refining(%x: tensor<?x6xf32>, %y: tensor<3x5x?xf32>) -> (tensor<4x6xf32>, tensor<3x5x4xf32>) {
  // CHECK: kiln.transpose %{{.*}} {perm = array<i64: 0, 1>} : (tensor<?x6xf32>) -> tensor<4x6xf32>
  %0 = kiln.transpose %x {perm = array<i64: 0, 1>} : (tensor<?x6xf32>) -> tensor<4x6xf32>
  // CHECK: kiln.transpose %{{.*}} {perm = array<i64: 0, 1, 2>} : (tensor<3x5x?xf32>) -> tensor<3x5x4xf32>
  %1 = kiln.transpose %y {perm = array<i64: 2, 0, 1>} : (tensor<3x5x?xf32>) -> tensor<?x3x5xf32>
  %2 = kiln.transpose %1 {perm = array<i64: 1, 2, 0>} : (tensor<?x3x5xf32>) -> tensor<3x5x4xf32>
  return %0, %2 : tensor<4x6xf32>, tensor<3x5x4xf32>
}

// -----

// matmul_integer: a constant zero point that is zero everywhere is dropped;
// one whose values are all equal becomes a scalar; others stay.
// CHECK-LABEL: func.func @integer_zero_points
// CHECK-DAG: %[[Z3:.+]] = kiln.constant dense<3> : tensor<ui8>
// CHECK-DAG: %[[ZV:.+]] = kiln.constant dense<[1, 2]> : tensor<2xi8>
// CHECK: kiln.matmul_integer %arg0, %arg1 lhs_zero_point %[[Z3]] : (tensor<4x8xui8>, tensor<8x2xi8>, tensor<ui8>) -> tensor<4x2xi32>
// CHECK: kiln.matmul_integer %arg0, %arg1 rhs_zero_point %[[ZV]] : (tensor<4x8xui8>, tensor<8x2xi8>, tensor<2xi8>) -> tensor<4x2xi32>
func.func @integer_zero_points(%a: tensor<4x8xui8>, %b: tensor<8x2xi8>) -> (tensor<4x2xi32>, tensor<4x2xi32>) {
  %za = kiln.constant dense<3> : tensor<4xui8>
  %zb = kiln.constant dense<0> : tensor<2xi8>
  %zv = kiln.constant dense<[1, 2]> : tensor<2xi8>
  %0 = kiln.matmul_integer %a, %b lhs_zero_point %za rhs_zero_point %zb : (tensor<4x8xui8>, tensor<8x2xi8>, tensor<4xui8>, tensor<2xi8>) -> tensor<4x2xi32>
  %1 = kiln.matmul_integer %a, %b rhs_zero_point %zv : (tensor<4x8xui8>, tensor<8x2xi8>, tensor<2xi8>) -> tensor<4x2xi32>
  return %0, %1 : tensor<4x2xi32>, tensor<4x2xi32>
}

// -----

// A GPT-style head split on dynamic batch and sequence: [b, s, 64] ->
// [b, s, 4, 16], the target built from the input's shape at run time. The
// static dims of the target are known, so inference keeps them; a static
// dim gathered from a partly dynamic shape folds to a constant.
// CHECK-LABEL: func.func @head_split_dynamic(
// CHECK-DAG: %[[SIXTY_FOUR:.+]] = kiln.constant dense<64> : tensor<i64>
// CHECK: return %{{.+}}, %[[SIXTY_FOUR]]
// INFER-LABEL: func.func @head_split_dynamic(
// INFER: kiln.reshape {{.+}} -> tensor<?x?x4x16xf32>
func.func @head_split_dynamic(%x: tensor<?x?x64xf32>) -> (tensor<?x?x?x?xf32>, tensor<i64>) {
  %shape = kiln.shape %x : (tensor<?x?x64xf32>) -> tensor<3xi64>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i1 = kiln.constant dense<1> : tensor<i64>
  %i2 = kiln.constant dense<2> : tensor<i64>
  %b = kiln.gather %shape, %i0 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %s = kiln.gather %shape, %i1 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %hidden = kiln.gather %shape, %i2 : (tensor<3xi64>, tensor<i64>) -> tensor<i64>
  %b1 = kiln.unsqueeze %b {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %s1 = kiln.unsqueeze %s {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %heads = kiln.constant dense<4> : tensor<1xi64>
  %dim = kiln.constant dense<16> : tensor<1xi64>
  %target = kiln.concat %b1, %s1, %heads, %dim {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xi64>
  %0 = kiln.reshape %x, %target : (tensor<?x?x64xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  return %0, %hidden : tensor<?x?x?x?xf32>, tensor<i64>
}

// -----

// torch's Expand guards its target with Where(Equal(s, -1), 1, s). Dims
// taken from a shape are never -1, so the guard passes them through and
// the repeat count 3 stays known: [b, 2, 1, t, 8] -> [b, 2, 3, t, 8].
// INFER-LABEL: func.func @expand_guarded_target(
// INFER: kiln.expand {{.+}} -> tensor<?x2x3x?x8xf32>
func.func @expand_guarded_target(%x: tensor<?x2x1x?x8xf32>) -> tensor<?x?x?x?x?xf32> {
  %shape = kiln.shape %x : (tensor<?x2x1x?x8xf32>) -> tensor<5xi64>
  %i0 = kiln.constant dense<0> : tensor<i64>
  %i3 = kiln.constant dense<3> : tensor<i64>
  %b = kiln.gather %shape, %i0 : (tensor<5xi64>, tensor<i64>) -> tensor<i64>
  %t = kiln.gather %shape, %i3 : (tensor<5xi64>, tensor<i64>) -> tensor<i64>
  %b1 = kiln.unsqueeze %b {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %t1 = kiln.unsqueeze %t {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %g = kiln.constant dense<2> : tensor<1xi64>
  %r = kiln.constant dense<3> : tensor<1xi64>
  %d = kiln.constant dense<8> : tensor<1xi64>
  %target = kiln.concat %b1, %g, %r, %t1, %d {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<5xi64>
  %minus1 = kiln.constant dense<-1> : tensor<5xi64>
  %ones = kiln.constant dense<1> : tensor<5xi64>
  %eq = kiln.equal %target, %minus1 : (tensor<5xi64>, tensor<5xi64>) -> tensor<5xi1>
  %guard = kiln.where %eq, %ones, %target : (tensor<5xi1>, tensor<5xi64>, tensor<5xi64>) -> tensor<5xi64>
  %0 = kiln.expand %x, %guard : (tensor<?x2x1x?x8xf32>, tensor<5xi64>) -> tensor<?x?x?x?x?xf32>
  return %0 : tensor<?x?x?x?x?xf32>
}

// -----

// Comparisons and logic on small integer constants fold (conditions computed
// from static shapes); 1 in a bool is true. Float operands do not fold.
// CHECK-LABEL: func.func @fold_conditions
// CHECK-DAG: %[[EQ:.+]] = kiln.constant dense<[true, false, false]> : tensor<3xi1>
// CHECK-DAG: %[[LT:.+]] = kiln.constant dense<[false, true, false]> : tensor<3xi1>
// CHECK-DAG: %[[GE:.+]] = kiln.constant dense<[true, false, true]> : tensor<3xi1>
// CHECK-DAG: %[[AND:.+]] = kiln.constant dense<false> : tensor<3xi1>
// CHECK-DAG: %[[OR:.+]] = kiln.constant dense<[true, true, false]> : tensor<3xi1>
// CHECK-DAG: %[[NOT:.+]] = kiln.constant dense<[false, true, true]> : tensor<3xi1>
// CHECK-DAG: %[[LE:.+]] = kiln.constant dense<true> : tensor<i1>
// CHECK: %[[F:.+]] = kiln.less %{{.+}}, %{{.+}} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xi1>
// Equal constants merge: xor gives or's values here, greater (than 5)
// greater_or_equal's.
// CHECK: return %[[EQ]], %[[LT]], %[[GE]], %[[AND]], %[[OR]], %[[OR]], %[[NOT]], %[[LE]], %[[GE]], %[[F]]
func.func @fold_conditions() -> (tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<i1>, tensor<3xi1>, tensor<2xi1>) {
  %a = kiln.constant dense<[512, 3, 7]> : tensor<3xi64>
  %b = kiln.constant dense<[512, 4, 5]> : tensor<3xi64>
  %five = kiln.constant dense<5> : tensor<i64>
  %eq = kiln.equal %a, %b : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi1>
  %lt = kiln.less %a, %b : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi1>
  %ge = kiln.greater_or_equal %a, %b : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi1>
  %and = kiln.and %eq, %lt : (tensor<3xi1>, tensor<3xi1>) -> tensor<3xi1>
  %or = kiln.or %eq, %lt : (tensor<3xi1>, tensor<3xi1>) -> tensor<3xi1>
  %xor = kiln.xor %eq, %lt : (tensor<3xi1>, tensor<3xi1>) -> tensor<3xi1>
  %not = kiln.not %eq : (tensor<3xi1>) -> tensor<3xi1>
  %le = kiln.less_or_equal %five, %five : (tensor<i64>, tensor<i64>) -> tensor<i1>
  %gt = kiln.greater %a, %five : (tensor<3xi64>, tensor<i64>) -> tensor<3xi1>
  %x = kiln.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %y = kiln.constant dense<[2.0, 1.0]> : tensor<2xf32>
  %f = kiln.less %x, %y : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xi1>
  return %eq, %lt, %ge, %and, %or, %xor, %not, %le, %gt, %f : tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<i1>, tensor<3xi1>, tensor<2xi1>
}
