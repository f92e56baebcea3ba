// RUN: kiln-opt %s --convert-kiln-to-linalg --split-input-file | FileCheck %s

// Elementwise kiln ops, constants and shapes (Elementwise.cpp): every
// elementwise op becomes one broadcasting linalg.generic whose body is the
// scalar computation.

//===----------------------------------------------------------------------===//
// Unary
//===----------------------------------------------------------------------===//

// The init of a dynamic result takes its extent from the input.
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @relu_dynamic(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x?xf32>
// CHECK: %[[C1:.+]] = arith.constant 1 : index
// CHECK: %[[DIM:.+]] = tensor.dim %[[X]], %[[C1]] : tensor<2x?xf32>
// CHECK: %[[INIT:.+]] = tensor.empty(%[[DIM]]) : tensor<2x?xf32>
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]] : tensor<2x?xf32>) outs(%[[INIT]] : tensor<2x?xf32>)
// CHECK-NEXT: ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[MAX:.+]] = arith.maximumf %[[IN]], %[[ZERO]] : f32
// CHECK-NEXT: linalg.yield %[[MAX]] : f32
// CHECK: return %[[R]]
func.func @relu_dynamic(%x: tensor<2x?xf32>) -> tensor<2x?xf32> {
  %0 = kiln.relu %x : (tensor<2x?xf32>) -> tensor<2x?xf32>
  return %0 : tensor<2x?xf32>
}

// -----

// CHECK-LABEL: func.func @sigmoid(
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[NEG:.+]] = arith.negf %[[IN]] : f32
// CHECK-NEXT: %[[EXP:.+]] = math.exp %[[NEG]] : f32
// CHECK-NEXT: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[ONE2:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[DEN:.+]] = arith.addf %[[ONE2]], %[[EXP]] : f32
// CHECK-NEXT: %[[R:.+]] = arith.divf %[[ONE]], %[[DEN]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
func.func @sigmoid(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.sigmoid %x : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @leaky_relu(
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[POS:.+]] = arith.cmpf oge, %[[IN]], %[[ZERO]] : f32
// CHECK-NEXT: %[[ALPHA:.+]] = arith.constant 1.000000e-01 : f32
// CHECK-NEXT: %[[SCALED:.+]] = arith.mulf %[[IN]], %[[ALPHA]] : f32
// CHECK-NEXT: %[[R:.+]] = arith.select %[[POS]], %[[IN]], %[[SCALED]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
func.func @leaky_relu(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.leaky_relu %x {alpha = 1.000000e-01 : f32} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// hard_sigmoid with the default alpha and beta: max(0, min(1, 0.2 x + 0.5)).
// CHECK-LABEL: func.func @hard_sigmoid(
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[ALPHA:.+]] = arith.constant 2.000000e-01 : f32
// CHECK-NEXT: %[[MUL:.+]] = arith.mulf %[[IN]], %[[ALPHA]] : f32
// CHECK-NEXT: %[[BETA:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[ADD:.+]] = arith.addf %[[MUL]], %[[BETA]] : f32
// CHECK-NEXT: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[MIN:.+]] = arith.minimumf %[[ONE]], %[[ADD]] : f32
// CHECK-NEXT: %[[MAX:.+]] = arith.maximumf %[[ZERO]], %[[MIN]] : f32
// CHECK-NEXT: linalg.yield %[[MAX]] : f32
func.func @hard_sigmoid(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.hard_sigmoid %x : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Integer neg is 0 - x; abs of an unsigned value is the value itself.
// CHECK-LABEL: func.func @neg_abs_integer(
// CHECK-SAME: %[[I:[^:]+]]: tensor<4xi32>, %[[U:[^:]+]]: tensor<4xi8>) -> (tensor<4xi32>, tensor<4xi8>)
// CHECK: linalg.generic {{.*}} ins(%[[I]] : tensor<4xi32>)
// CHECK-NEXT: ^bb0(%[[IN:[^:]+]]: i32, %{{[^:]+}}: i32):
// CHECK-NEXT: %[[ZERO:.+]] = arith.constant 0 : i32
// CHECK-NEXT: %[[NEG:.+]] = arith.subi %[[ZERO]], %[[IN]] : i32
// CHECK-NEXT: linalg.yield %[[NEG]] : i32
// CHECK: linalg.generic {{.*}} ins(%[[U]] : tensor<4xi8>)
// CHECK-NEXT: ^bb0(%[[UIN:[^:]+]]: i8, %{{[^:]+}}: i8):
// CHECK-NEXT: linalg.yield %[[UIN]] : i8
func.func @neg_abs_integer(%i: tensor<4xi32>, %u: tensor<4xui8>) -> (tensor<4xi32>, tensor<4xui8>) {
  %0 = kiln.neg %i : (tensor<4xi32>) -> tensor<4xi32>
  %1 = kiln.abs %u : (tensor<4xui8>) -> tensor<4xui8>
  return %0, %1 : tensor<4xi32>, tensor<4xui8>
}

// -----

// Exact gelu: 0.5 x (1 + erf(x / sqrt(2))).
// CHECK-LABEL: func.func @gelu_erf(
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[RSQRT2:.+]] = arith.constant 0.707106769 : f32
// CHECK-NEXT: %[[SCALED:.+]] = arith.mulf %[[IN]], %[[RSQRT2]] : f32
// CHECK-NEXT: %[[ERF:.+]] = math.erf %[[SCALED]] : f32
// CHECK-NEXT: %[[HALF:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[HALFX:.+]] = arith.mulf %[[HALF]], %[[IN]] : f32
// CHECK-NEXT: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[SUM:.+]] = arith.addf %[[ONE]], %[[ERF]] : f32
// CHECK-NEXT: %[[R:.+]] = arith.mulf %[[HALFX]], %[[SUM]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// CHECK-NOT: math.tanh
func.func @gelu_erf(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.gelu %x : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Tanh gelu: 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))).
// CHECK-LABEL: func.func @gelu_tanh(
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[IN:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[SQ:.+]] = arith.mulf %[[IN]], %[[IN]] : f32
// CHECK-NEXT: %[[CUBE:.+]] = arith.mulf %[[IN]], %[[SQ]] : f32
// CHECK-NEXT: %[[K:.+]] = arith.constant 0.797884583 : f32
// CHECK-NEXT: %[[C:.+]] = arith.constant 4.471500e-02 : f32
// CHECK-NEXT: %[[CC:.+]] = arith.mulf %[[C]], %[[CUBE]] : f32
// CHECK-NEXT: %[[INNER:.+]] = arith.addf %[[IN]], %[[CC]] : f32
// CHECK-NEXT: %[[ARG:.+]] = arith.mulf %[[K]], %[[INNER]] : f32
// CHECK-NEXT: %[[TANH:.+]] = math.tanh %[[ARG]] : f32
// CHECK-NEXT: %[[HALF:.+]] = arith.constant 5.000000e-01 : f32
// CHECK-NEXT: %[[HALFX:.+]] = arith.mulf %[[HALF]], %[[IN]] : f32
// CHECK-NEXT: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: %[[SUM:.+]] = arith.addf %[[ONE]], %[[TANH]] : f32
// CHECK-NEXT: %[[R:.+]] = arith.mulf %[[HALFX]], %[[SUM]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
// CHECK-NOT: math.erf
func.func @gelu_tanh(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = kiln.gelu %x {approximate = "tanh"} : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// The scalar bounds are broadcast operands; compare-and-select keeps NaN.
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[$SCALAR:.+]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @clip(
// CHECK-SAME: %[[X:[^:]+]]: tensor<8xf32>, %[[LO:[^:]+]]: tensor<f32>, %[[HI:[^:]+]]: tensor<f32>)
// CHECK: linalg.generic {indexing_maps = [#[[$ID]], #[[$SCALAR]], #[[$SCALAR]], #[[$ID]]], iterator_types = ["parallel"]} ins(%[[X]], %[[LO]], %[[HI]] : tensor<8xf32>, tensor<f32>, tensor<f32>)
// CHECK-NEXT: ^bb0(%[[IN:[^:]+]]: f32, %[[MIN:[^:]+]]: f32, %[[MAX:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[BELOW:.+]] = arith.cmpf olt, %[[IN]], %[[MIN]] : f32
// CHECK-NEXT: %[[LOWER:.+]] = arith.select %[[BELOW]], %[[MIN]], %[[IN]] : f32
// CHECK-NEXT: %[[ABOVE:.+]] = arith.cmpf ogt, %[[LOWER]], %[[MAX]] : f32
// CHECK-NEXT: %[[R:.+]] = arith.select %[[ABOVE]], %[[MAX]], %[[LOWER]] : f32
// CHECK-NEXT: linalg.yield %[[R]] : f32
func.func @clip(%x: tensor<8xf32>, %lo: tensor<f32>, %hi: tensor<f32>) -> tensor<8xf32> {
  %0 = kiln.clip %x min %lo max %hi : (tensor<8xf32>, tensor<f32>, tensor<f32>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

// Only an upper bound, on unsigned data: one unsigned compare.
// CHECK-LABEL: func.func @clip_max_unsigned(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4xi8>, %[[HI:[^:]+]]: tensor<i8>) -> tensor<4xi8>
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[HI]] : tensor<4xi8>, tensor<i8>)
// CHECK-NEXT: ^bb0(%[[IN:[^:]+]]: i8, %[[MAX:[^:]+]]: i8, %{{[^:]+}}: i8):
// CHECK-NEXT: %[[ABOVE:.+]] = arith.cmpi ugt, %[[IN]], %[[MAX]] : i8
// CHECK-NEXT: %[[R:.+]] = arith.select %[[ABOVE]], %[[MAX]], %[[IN]] : i8
// CHECK-NEXT: linalg.yield %[[R]] : i8
func.func @clip_max_unsigned(%x: tensor<4xui8>, %hi: tensor<ui8>) -> tensor<4xui8> {
  %0 = kiln.clip %x max %hi : (tensor<4xui8>, tensor<ui8>) -> tensor<4xui8>
  return %0 : tensor<4xui8>
}

// -----

//===----------------------------------------------------------------------===//
// Binary with broadcasting
//===----------------------------------------------------------------------===//

// A dim of 1 that stretches is read at 0; a missing leading dim is dropped
// from the map.
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$STRETCH:.+]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-DAG: #[[$TRAILING:.+]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @broadcast_static(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3xf32>, %[[Y:[^:]+]]: tensor<1x3xf32>, %[[Z:[^:]+]]: tensor<3xf32>)
// CHECK: %[[INIT:.+]] = tensor.empty() : tensor<2x3xf32>
// CHECK: %[[ADD:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$STRETCH]], #[[$ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[Y]] : tensor<2x3xf32>, tensor<1x3xf32>) outs(%[[INIT]] : tensor<2x3xf32>)
// CHECK-NEXT: ^bb0(%[[A:[^:]+]]: f32, %[[B:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[SUM:.+]] = arith.addf %[[A]], %[[B]] : f32
// CHECK-NEXT: linalg.yield %[[SUM]] : f32
// CHECK: %[[MUL:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$TRAILING]], #[[$ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[ADD]], %[[Z]] : tensor<2x3xf32>, tensor<3xf32>)
// CHECK: arith.mulf
// CHECK: return %[[MUL]]
func.func @broadcast_static(%x: tensor<2x3xf32>, %y: tensor<1x3xf32>, %z: tensor<3xf32>) -> tensor<2x3xf32> {
  %0 = kiln.add %x, %y : (tensor<2x3xf32>, tensor<1x3xf32>) -> tensor<2x3xf32>
  %1 = kiln.mul %0, %z : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return %1 : tensor<2x3xf32>
}

// -----

// A dynamic result dim is read from the operand that is not a static 1 there,
// whatever the operand order.
// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$STRETCH:.+]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-LABEL: func.func @broadcast_dynamic(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x3xf32>, %[[Y:[^:]+]]: tensor<1x3xf32>)
// CHECK: %[[DIM:.+]] = tensor.dim %[[X]], %{{.+}} : tensor<?x3xf32>
// CHECK: %[[INIT:.+]] = tensor.empty(%[[DIM]]) : tensor<?x3xf32>
// CHECK: linalg.generic {indexing_maps = [#[[$STRETCH]], #[[$ID]], #[[$ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[Y]], %[[X]] : tensor<1x3xf32>, tensor<?x3xf32>) outs(%[[INIT]] : tensor<?x3xf32>)
// CHECK-NEXT: ^bb0(%[[A:[^:]+]]: f32, %[[B:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: arith.subf %[[A]], %[[B]] : f32
func.func @broadcast_dynamic(%x: tensor<?x3xf32>, %y: tensor<1x3xf32>) -> tensor<?x3xf32> {
  %0 = kiln.sub %y, %x : (tensor<1x3xf32>, tensor<?x3xf32>) -> tensor<?x3xf32>
  return %0 : tensor<?x3xf32>
}

// -----

// pow with an integer exponent converts it to the base's type; an integer
// base with a float exponent is computed in float and converted back.
// CHECK-LABEL: func.func @pow(
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[B:[^:]+]]: f32, %[[E:[^:]+]]: i32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[EF:.+]] = arith.sitofp %[[E]] : i32 to f32
// CHECK-NEXT: %[[P:.+]] = math.powf %[[B]], %[[EF]] : f32
// CHECK-NEXT: linalg.yield %[[P]] : f32
// CHECK: linalg.generic
// CHECK-NEXT: ^bb0(%[[IB:[^:]+]]: i32, %[[FE:[^:]+]]: f32, %{{[^:]+}}: i32):
// CHECK-NEXT: %[[BF:.+]] = arith.sitofp %[[IB]] : i32 to f32
// CHECK-NEXT: %[[PF:.+]] = math.powf %[[BF]], %[[FE]] : f32
// CHECK-NEXT: %[[PI:.+]] = arith.fptosi %[[PF]] : f32 to i32
// CHECK-NEXT: linalg.yield %[[PI]] : i32
func.func @pow(%x: tensor<4xf32>, %i: tensor<4xi32>) -> (tensor<4xf32>, tensor<4xi32>) {
  %0 = kiln.pow %x, %i : (tensor<4xf32>, tensor<4xi32>) -> tensor<4xf32>
  %1 = kiln.pow %i, %x : (tensor<4xi32>, tensor<4xf32>) -> tensor<4xi32>
  return %0, %1 : tensor<4xf32>, tensor<4xi32>
}

// -----

//===----------------------------------------------------------------------===//
// Comparisons and where
//===----------------------------------------------------------------------===//

// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0) -> (d0)>
// CHECK-DAG: #[[$SCALAR:.+]] = affine_map<(d0) -> ()>
// CHECK-LABEL: func.func @compare(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4xf32>, %[[Y:[^:]+]]: tensor<f32>, %[[I:[^:]+]]: tensor<4xi64>)
// CHECK: %[[INIT:.+]] = tensor.empty() : tensor<4xi1>
// CHECK: %[[LT:.+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$SCALAR]], #[[$ID]]], iterator_types = ["parallel"]} ins(%[[X]], %[[Y]] : tensor<4xf32>, tensor<f32>) outs(%[[INIT]] : tensor<4xi1>)
// CHECK-NEXT: ^bb0(%[[A:[^:]+]]: f32, %[[B:[^:]+]]: f32, %{{[^:]+}}: i1):
// CHECK-NEXT: %[[C:.+]] = arith.cmpf olt, %[[A]], %[[B]] : f32
// CHECK-NEXT: linalg.yield %[[C]] : i1
// CHECK-NEXT: } -> tensor<4xi1>
// CHECK: %[[GE:.+]] = linalg.generic {{.*}} ins(%[[I]], %[[I]] : tensor<4xi64>, tensor<4xi64>)
// CHECK-NEXT: ^bb0(%[[IA:[^:]+]]: i64, %[[IB:[^:]+]]: i64, %{{[^:]+}}: i1):
// CHECK-NEXT: arith.cmpi sge, %[[IA]], %[[IB]] : i64
// CHECK: %[[EQ:.+]] = linalg.generic
// CHECK: arith.cmpf oeq
// CHECK: %[[LE:.+]] = linalg.generic
// CHECK: arith.cmpi sle
// CHECK: return %[[LT]], %[[GE]], %[[EQ]], %[[LE]] : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
func.func @compare(%x: tensor<4xf32>, %y: tensor<f32>, %i: tensor<4xi64>) -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  %0 = kiln.less %x, %y : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>
  %1 = kiln.greater_or_equal %i, %i : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  %2 = kiln.equal %x, %y : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>
  %3 = kiln.less_or_equal %i, %i : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  return %0, %1, %2, %3 : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

// -----

// CHECK-DAG: #[[$ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[$STRETCH:.+]] = affine_map<(d0, d1) -> (0, d1)>
// CHECK-DAG: #[[$SCALAR:.+]] = affine_map<(d0, d1) -> ()>
// CHECK-LABEL: func.func @where(
// CHECK-SAME: %[[C:[^:]+]]: tensor<1x4xi1>, %[[X:[^:]+]]: tensor<2x4xf32>, %[[Y:[^:]+]]: tensor<f32>)
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[$STRETCH]], #[[$ID]], #[[$SCALAR]], #[[$ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[C]], %[[X]], %[[Y]] : tensor<1x4xi1>, tensor<2x4xf32>, tensor<f32>)
// CHECK-NEXT: ^bb0(%[[CI:[^:]+]]: i1, %[[XI:[^:]+]]: f32, %[[YI:[^:]+]]: f32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[S:.+]] = arith.select %[[CI]], %[[XI]], %[[YI]] : f32
// CHECK-NEXT: linalg.yield %[[S]] : f32
// CHECK: return %[[R]]
func.func @where(%c: tensor<1x4xi1>, %x: tensor<2x4xf32>, %y: tensor<f32>) -> tensor<2x4xf32> {
  %0 = kiln.where %c, %x, %y : (tensor<1x4xi1>, tensor<2x4xf32>, tensor<f32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Cast
//===----------------------------------------------------------------------===//

// Float to int truncates (fptosi), int to float is sitofp, anything to bool is
// x != 0, and unsigned types use the unsigned conversions.
// CHECK-LABEL: func.func @cast(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4xf32>, %[[I:[^:]+]]: tensor<4xi32>, %[[U:[^:]+]]: tensor<4xi8>)
// CHECK-SAME: -> (tensor<4xi64>, tensor<4xf32>, tensor<4xi1>, tensor<4xi1>, tensor<4xi8>, tensor<4xi32>)
// CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<4xf32>) outs(%{{.+}} : tensor<4xi64>)
// CHECK-NEXT: ^bb0(%[[A:[^:]+]]: f32, %{{[^:]+}}: i64):
// CHECK-NEXT: %[[R0:.+]] = arith.fptosi %[[A]] : f32 to i64
// CHECK-NEXT: linalg.yield %[[R0]] : i64
// CHECK: linalg.generic {{.*}} ins(%[[I]] : tensor<4xi32>) outs(%{{.+}} : tensor<4xf32>)
// CHECK-NEXT: ^bb0(%[[B:[^:]+]]: i32, %{{[^:]+}}: f32):
// CHECK-NEXT: %[[R1:.+]] = arith.sitofp %[[B]] : i32 to f32
// CHECK-NEXT: linalg.yield %[[R1]] : f32
// CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<4xf32>) outs(%{{.+}} : tensor<4xi1>)
// CHECK-NEXT: ^bb0(%[[C:[^:]+]]: f32, %{{[^:]+}}: i1):
// CHECK-NEXT: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK-NEXT: %[[R2:.+]] = arith.cmpf une, %[[C]], %[[ZERO]] : f32
// CHECK-NEXT: linalg.yield %[[R2]] : i1
// CHECK: linalg.generic {{.*}} ins(%[[I]] : tensor<4xi32>) outs(%{{.+}} : tensor<4xi1>)
// CHECK-NEXT: ^bb0(%[[D:[^:]+]]: i32, %{{[^:]+}}: i1):
// CHECK-NEXT: %[[IZERO:.+]] = arith.constant 0 : i32
// CHECK-NEXT: %[[R3:.+]] = arith.cmpi ne, %[[D]], %[[IZERO]] : i32
// CHECK-NEXT: linalg.yield %[[R3]] : i1
// CHECK: linalg.generic {{.*}} ins(%[[X]] : tensor<4xf32>) outs(%{{.+}} : tensor<4xi8>)
// CHECK-NEXT: ^bb0(%[[E:[^:]+]]: f32, %{{[^:]+}}: i8):
// CHECK-NEXT: %[[R4:.+]] = arith.fptoui %[[E]] : f32 to i8
// CHECK-NEXT: linalg.yield %[[R4]] : i8
// CHECK: linalg.generic {{.*}} ins(%[[U]] : tensor<4xi8>) outs(%{{.+}} : tensor<4xi32>)
// CHECK-NEXT: ^bb0(%[[F:[^:]+]]: i8, %{{[^:]+}}: i32):
// CHECK-NEXT: %[[R5:.+]] = arith.extui %[[F]] : i8 to i32
// CHECK-NEXT: linalg.yield %[[R5]] : i32
func.func @cast(%x: tensor<4xf32>, %i: tensor<4xi32>, %u: tensor<4xui8>)
    -> (tensor<4xi64>, tensor<4xf32>, tensor<4xi1>, tensor<4xi1>, tensor<4xui8>, tensor<4xi32>) {
  %0 = kiln.cast %x {to = i64} : (tensor<4xf32>) -> tensor<4xi64>
  %1 = kiln.cast %i {to = f32} : (tensor<4xi32>) -> tensor<4xf32>
  %2 = kiln.cast %x {to = i1} : (tensor<4xf32>) -> tensor<4xi1>
  %3 = kiln.cast %i {to = i1} : (tensor<4xi32>) -> tensor<4xi1>
  %4 = kiln.cast %x {to = ui8} : (tensor<4xf32>) -> tensor<4xui8>
  %5 = kiln.cast %u {to = i32} : (tensor<4xui8>) -> tensor<4xi32>
  return %0, %1, %2, %3, %4, %5 : tensor<4xi64>, tensor<4xf32>, tensor<4xi1>, tensor<4xi1>, tensor<4xui8>, tensor<4xi32>
}

// -----

//===----------------------------------------------------------------------===//
// Unsigned types
//===----------------------------------------------------------------------===//

// ui8 becomes signless i8 in the signature; the ops that care about the sign
// use their unsigned forms.
// CHECK-LABEL: func.func @unsigned(
// CHECK-SAME: %[[A:[^:]+]]: tensor<4xi8>, %[[B:[^:]+]]: tensor<4xi8>) -> (tensor<4xi8>, tensor<4xi8>, tensor<4xi8>, tensor<4xi1>)
// CHECK: %[[ADD:.+]] = linalg.generic {{.*}} ins(%[[A]], %[[B]] : tensor<4xi8>, tensor<4xi8>)
// CHECK-NEXT: ^bb0(%[[X0:[^:]+]]: i8, %[[Y0:[^:]+]]: i8, %{{[^:]+}}: i8):
// CHECK-NEXT: arith.addi %[[X0]], %[[Y0]] : i8
// CHECK: %[[DIV:.+]] = linalg.generic
// CHECK-NEXT: ^bb0(%[[X1:[^:]+]]: i8, %[[Y1:[^:]+]]: i8, %{{[^:]+}}: i8):
// CHECK-NEXT: arith.divui %[[X1]], %[[Y1]] : i8
// CHECK: %[[MAX:.+]] = linalg.generic
// CHECK-NEXT: ^bb0(%[[X2:[^:]+]]: i8, %[[Y2:[^:]+]]: i8, %{{[^:]+}}: i8):
// CHECK-NEXT: arith.maxui %[[X2]], %[[Y2]] : i8
// CHECK: %[[LT:.+]] = linalg.generic
// CHECK-NEXT: ^bb0(%[[X3:[^:]+]]: i8, %[[Y3:[^:]+]]: i8, %{{[^:]+}}: i1):
// CHECK-NEXT: arith.cmpi ult, %[[X3]], %[[Y3]] : i8
// CHECK: return %[[ADD]], %[[DIV]], %[[MAX]], %[[LT]] : tensor<4xi8>, tensor<4xi8>, tensor<4xi8>, tensor<4xi1>
func.func @unsigned(%a: tensor<4xui8>, %b: tensor<4xui8>) -> (tensor<4xui8>, tensor<4xui8>, tensor<4xui8>, tensor<4xi1>) {
  %0 = kiln.add %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %1 = kiln.div %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %2 = kiln.max %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xui8>
  %3 = kiln.less %a, %b : (tensor<4xui8>, tensor<4xui8>) -> tensor<4xi1>
  return %0, %1, %2, %3 : tensor<4xui8>, tensor<4xui8>, tensor<4xui8>, tensor<4xi1>
}

// -----

// Calls and declarations get the signless types too.
// CHECK-LABEL: func.func @unsigned_call(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3xi8>) -> tensor<2x3xi8>
// CHECK: %[[R:.+]] = call @callee(%[[X]]) : (tensor<2x3xi8>) -> tensor<2x3xi8>
// CHECK: return %[[R]] : tensor<2x3xi8>
// CHECK: func.func private @callee(tensor<2x3xi8>) -> tensor<2x3xi8>
func.func @unsigned_call(%x: tensor<2x3xui8>) -> tensor<2x3xui8> {
  %0 = call @callee(%x) : (tensor<2x3xui8>) -> tensor<2x3xui8>
  return %0 : tensor<2x3xui8>
}
func.func private @callee(tensor<2x3xui8>) -> tensor<2x3xui8>

// -----

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

// Small dense values and small splats stay arith.constant; a splat of more
// than 16 elements becomes a fill.
// CHECK-LABEL: func.func @constant_dense(
// CHECK: %[[SMALL:.+]] = arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
// CHECK: %[[SCALAR:.+]] = arith.constant 1.500000e+00 : f32
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<4x8xf32>
// CHECK: %[[FILL:.+]] = linalg.fill ins(%[[SCALAR]] : f32) outs(%[[EMPTY]] : tensor<4x8xf32>) -> tensor<4x8xf32>
// CHECK: %[[SPLAT16:.+]] = arith.constant dense<2.500000e+00> : tensor<16xf32>
// CHECK: return %[[SMALL]], %[[FILL]], %[[SPLAT16]]
// CHECK-NOT: kiln.constant
func.func @constant_dense() -> (tensor<3xf32>, tensor<4x8xf32>, tensor<16xf32>) {
  %0 = kiln.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %1 = kiln.constant dense<1.5> : tensor<4x8xf32>
  %2 = kiln.constant dense<2.5> : tensor<16xf32>
  return %0, %1, %2 : tensor<3xf32>, tensor<4x8xf32>, tensor<16xf32>
}

// -----

// Unsigned values keep their bits under the signless type.
// CHECK-LABEL: func.func @constant_unsigned(
// CHECK-SAME: -> (tensor<2xi8>, tensor<20xi8>)
// CHECK: %[[DENSE:.+]] = arith.constant dense<[-56, 3]> : tensor<2xi8>
// CHECK: %[[MAX:.+]] = arith.constant -1 : i8
// CHECK: %[[EMPTY:.+]] = tensor.empty() : tensor<20xi8>
// CHECK: %[[FILL:.+]] = linalg.fill ins(%[[MAX]] : i8) outs(%[[EMPTY]] : tensor<20xi8>)
// CHECK: return %[[DENSE]], %[[FILL]]
func.func @constant_unsigned() -> (tensor<2xui8>, tensor<20xui8>) {
  %0 = kiln.constant dense<[200, 3]> : tensor<2xui8>
  %1 = kiln.constant dense<255> : tensor<20xui8>
  return %0, %1 : tensor<2xui8>, tensor<20xui8>
}

// -----

// A weight blob of rank > 1 becomes a 1-D constant of the same resource viewed
// in its shape; a 1-D one stays as it is.
// CHECK-LABEL: func.func @constant_resource(
// CHECK-DAG: %[[FLAT:.+]] = arith.constant dense_resource<weight> : tensor<6xf32>
// CHECK-DAG: %[[VEC:.+]] = arith.constant dense_resource<vector> : tensor<4xf32>
// CHECK-DAG: %[[U8:.+]] = arith.constant dense_resource<bytes> : tensor<6xi8>
// CHECK-DAG: %[[W:.+]] = tensor.expand_shape %[[FLAT]] {{\[}}[0, 1]] output_shape [2, 3] : tensor<6xf32> into tensor<2x3xf32>
// CHECK-DAG: %[[B:.+]] = tensor.expand_shape %[[U8]] {{\[}}[0, 1, 2]] output_shape [1, 2, 3] : tensor<6xi8> into tensor<1x2x3xi8>
// CHECK: return %[[W]], %[[VEC]], %[[B]]
func.func @constant_resource() -> (tensor<2x3xf32>, tensor<4xf32>, tensor<1x2x3xui8>) {
  %0 = kiln.constant dense_resource<weight> : tensor<2x3xf32>
  %1 = kiln.constant dense_resource<vector> : tensor<4xf32>
  %2 = kiln.constant dense_resource<bytes> : tensor<1x2x3xui8>
  return %0, %1, %2 : tensor<2x3xf32>, tensor<4xf32>, tensor<1x2x3xui8>
}

{-#
  dialect_resources: {
    builtin: {
      weight: "0x040000000000803F0000004000004040000080400000A0400000C040",
      vector: "0x040000000000803F000000400000404000008040",
      bytes: "0x01000000010203040506"
    }
  }
#-}

// -----

// A bool blob (a mask) is inlined as a dense constant.
// CHECK-LABEL: func.func @constant_bool_resource(
// CHECK: %[[MASK:.+]] = arith.constant dense<{{\[}}[true, false], [true, true]]> : tensor<2x2xi1>
// CHECK-NOT: dense_resource
// CHECK: return %[[MASK]]
func.func @constant_bool_resource() -> tensor<2x2xi1> {
  %0 = kiln.constant dense_resource<mask> : tensor<2x2xi1>
  return %0 : tensor<2x2xi1>
}

{-#
  dialect_resources: {
    builtin: {
      mask: "0x0100000001000101"
    }
  }
#-}

// -----

//===----------------------------------------------------------------------===//
// Shape
//===----------------------------------------------------------------------===//

// Every selected dim is read with tensor.dim and cast to i64 (a shape whose
// selected dims are all static folds to a constant before it gets here).
// CHECK-LABEL: func.func @shape(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x3x4xf32>)
// CHECK: %[[C0:.+]] = arith.constant 0 : index
// CHECK: %[[D0:.+]] = tensor.dim %[[X]], %[[C0]] : tensor<?x3x4xf32>
// CHECK: %[[I0:.+]] = arith.index_cast %[[D0]] : index to i64
// CHECK: %[[C1:.+]] = arith.constant 1 : index
// CHECK: %[[D1:.+]] = tensor.dim %[[X]], %[[C1]] : tensor<?x3x4xf32>
// CHECK: %[[I1:.+]] = arith.index_cast %[[D1]] : index to i64
// CHECK: %[[C2:.+]] = arith.constant 2 : index
// CHECK: %[[D2:.+]] = tensor.dim %[[X]], %[[C2]] : tensor<?x3x4xf32>
// CHECK: %[[I2:.+]] = arith.index_cast %[[D2]] : index to i64
// CHECK: %[[S:.+]] = tensor.from_elements %[[I0]], %[[I1]], %[[I2]] : tensor<3xi64>
// CHECK: return %[[S]]
func.func @shape(%x: tensor<?x3x4xf32>) -> tensor<3xi64> {
  %0 = kiln.shape %x : (tensor<?x3x4xf32>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// With end = -2 only the first dim (the dynamic one) is read.
// CHECK-LABEL: func.func @shape_end(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x3x4xf32>)
// CHECK: %[[C0:.+]] = arith.constant 0 : index
// CHECK: %[[D0:.+]] = tensor.dim %[[X]], %[[C0]] : tensor<?x3x4xf32>
// CHECK: %[[I0:.+]] = arith.index_cast %[[D0]] : index to i64
// CHECK-NOT: tensor.dim
// CHECK: %[[S:.+]] = tensor.from_elements %[[I0]] : tensor<1xi64>
// CHECK: return %[[S]]
func.func @shape_end(%x: tensor<?x3x4xf32>) -> tensor<1xi64> {
  %0 = kiln.shape %x {end = -2 : i64} : (tensor<?x3x4xf32>) -> tensor<1xi64>
  return %0 : tensor<1xi64>
}
