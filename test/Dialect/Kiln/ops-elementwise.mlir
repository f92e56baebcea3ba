// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// Round trip of the elementwise ops: unary, clip, binary with broadcasting,
// comparisons and where.

// CHECK-LABEL: func.func @simple_unary(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x?xf32>, %[[I:[^:]+]]: tensor<3xi32>)
func.func @simple_unary(%x: tensor<2x?xf32>, %i: tensor<3xi32>) -> (tensor<2x?xf32>, tensor<3xi32>) {
  // CHECK: %[[RELU:.+]] = kiln.relu %[[X]] : (tensor<2x?xf32>) -> tensor<2x?xf32>
  %0 = kiln.relu %x : (tensor<2x?xf32>) -> tensor<2x?xf32>
  // CHECK: %[[SIG:.+]] = kiln.sigmoid %[[RELU]] : (tensor<2x?xf32>) -> tensor<2x?xf32>
  %1 = kiln.sigmoid %0 : (tensor<2x?xf32>) -> tensor<2x?xf32>
  // CHECK: %[[TANH:.+]] = kiln.tanh %[[SIG]] : (tensor<2x?xf32>) -> tensor<2x?xf32>
  %2 = kiln.tanh %1 : (tensor<2x?xf32>) -> tensor<2x?xf32>
  // CHECK: %[[EXP:.+]] = kiln.exp %[[TANH]] : (tensor<2x?xf32>) -> tensor<2x?xf32>
  %3 = kiln.exp %2 : (tensor<2x?xf32>) -> tensor<2x?xf32>
  // CHECK: %[[LOG:.+]] = kiln.log %[[EXP]] : (tensor<2x?xf32>) -> tensor<2x?xf32>
  %4 = kiln.log %3 : (tensor<2x?xf32>) -> tensor<2x?xf32>
  // CHECK: %[[SQRT:.+]] = kiln.sqrt %[[LOG]] : (tensor<2x?xf32>) -> tensor<2x?xf32>
  %5 = kiln.sqrt %4 : (tensor<2x?xf32>) -> tensor<2x?xf32>
  // CHECK: %[[RCP:.+]] = kiln.reciprocal %[[SQRT]] : (tensor<2x?xf32>) -> tensor<2x?xf32>
  %6 = kiln.reciprocal %5 : (tensor<2x?xf32>) -> tensor<2x?xf32>
  // CHECK: %[[ERF:.+]] = kiln.erf %[[RCP]] : (tensor<2x?xf32>) -> tensor<2x?xf32>
  %7 = kiln.erf %6 : (tensor<2x?xf32>) -> tensor<2x?xf32>
  // CHECK: %[[HSW:.+]] = kiln.hard_swish %[[ERF]] : (tensor<2x?xf32>) -> tensor<2x?xf32>
  %8 = kiln.hard_swish %7 : (tensor<2x?xf32>) -> tensor<2x?xf32>
  // CHECK: %[[NEG:.+]] = kiln.neg %[[HSW]] : (tensor<2x?xf32>) -> tensor<2x?xf32>
  %9 = kiln.neg %8 : (tensor<2x?xf32>) -> tensor<2x?xf32>
  // neg and abs also take integers.
  // CHECK: %[[INEG:.+]] = kiln.neg %[[I]] : (tensor<3xi32>) -> tensor<3xi32>
  %10 = kiln.neg %i : (tensor<3xi32>) -> tensor<3xi32>
  // CHECK: %[[IABS:.+]] = kiln.abs %[[INEG]] : (tensor<3xi32>) -> tensor<3xi32>
  %11 = kiln.abs %10 : (tensor<3xi32>) -> tensor<3xi32>
  // CHECK: return %[[NEG]], %[[IABS]]
  return %9, %11 : tensor<2x?xf32>, tensor<3xi32>
}

// CHECK-LABEL: func.func @unary_with_attributes(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x?x768xf16>)
func.func @unary_with_attributes(%x: tensor<1x?x768xf16>) -> tensor<1x?x768xf16> {
  // Defaults are not printed.
  // CHECK: %[[L0:.+]] = kiln.leaky_relu %[[X]] : (tensor<1x?x768xf16>) -> tensor<1x?x768xf16>
  %0 = kiln.leaky_relu %x : (tensor<1x?x768xf16>) -> tensor<1x?x768xf16>
  // CHECK: %[[L1:.+]] = kiln.leaky_relu %[[L0]] {alpha = 2.000000e-01 : f32} : (tensor<1x?x768xf16>) -> tensor<1x?x768xf16>
  %1 = kiln.leaky_relu %0 {alpha = 0.2 : f32} : (tensor<1x?x768xf16>) -> tensor<1x?x768xf16>
  // CHECK: %[[H0:.+]] = kiln.hard_sigmoid %[[L1]] : (tensor<1x?x768xf16>) -> tensor<1x?x768xf16>
  %2 = kiln.hard_sigmoid %1 : (tensor<1x?x768xf16>) -> tensor<1x?x768xf16>
  // CHECK: %[[H1:.+]] = kiln.hard_sigmoid %[[H0]] {alpha = 1.250000e-01 : f32, beta = 2.500000e-01 : f32} : (tensor<1x?x768xf16>) -> tensor<1x?x768xf16>
  %3 = kiln.hard_sigmoid %2 {alpha = 0.125 : f32, beta = 0.25 : f32} : (tensor<1x?x768xf16>) -> tensor<1x?x768xf16>
  // CHECK: %[[G0:.+]] = kiln.gelu %[[H1]] : (tensor<1x?x768xf16>) -> tensor<1x?x768xf16>
  %4 = kiln.gelu %3 : (tensor<1x?x768xf16>) -> tensor<1x?x768xf16>
  // An explicit default mode prints like the implicit one.
  // CHECK: %[[G1:.+]] = kiln.gelu %[[G0]] : (tensor<1x?x768xf16>) -> tensor<1x?x768xf16>
  %5 = kiln.gelu %4 {approximate = "none"} : (tensor<1x?x768xf16>) -> tensor<1x?x768xf16>
  // CHECK: %[[G2:.+]] = kiln.gelu %[[G1]] {approximate = "tanh"} : (tensor<1x?x768xf16>) -> tensor<1x?x768xf16>
  %6 = kiln.gelu %5 {approximate = "tanh"} : (tensor<1x?x768xf16>) -> tensor<1x?x768xf16>
  // CHECK: return %[[G2]]
  return %6 : tensor<1x?x768xf16>
}

// CHECK-LABEL: func.func @clip(
// CHECK-SAME: %[[X:[^:]+]]: tensor<8x?xf32>, %[[LO:[^:]+]]: tensor<f32>, %[[HI:[^:]+]]: tensor<1xf32>, %[[N:[^:]+]]: tensor<4xi64>, %[[NLO:[^:]+]]: tensor<i64>)
func.func @clip(%x: tensor<8x?xf32>, %lo: tensor<f32>, %hi: tensor<1xf32>, %n: tensor<4xi64>, %nlo: tensor<i64>)
    -> (tensor<8x?xf32>, tensor<8x?xf32>, tensor<8x?xf32>, tensor<8x?xf32>, tensor<4xi64>) {
  // CHECK: %[[C0:.+]] = kiln.clip %[[X]] : (tensor<8x?xf32>) -> tensor<8x?xf32>
  %0 = kiln.clip %x : (tensor<8x?xf32>) -> tensor<8x?xf32>
  // CHECK: %[[C1:.+]] = kiln.clip %[[X]] min %[[LO]] : (tensor<8x?xf32>, tensor<f32>) -> tensor<8x?xf32>
  %1 = kiln.clip %x min %lo : (tensor<8x?xf32>, tensor<f32>) -> tensor<8x?xf32>
  // CHECK: %[[C2:.+]] = kiln.clip %[[X]] max %[[HI]] : (tensor<8x?xf32>, tensor<1xf32>) -> tensor<8x?xf32>
  %2 = kiln.clip %x max %hi : (tensor<8x?xf32>, tensor<1xf32>) -> tensor<8x?xf32>
  // CHECK: %[[C3:.+]] = kiln.clip %[[X]] min %[[LO]] max %[[HI]] : (tensor<8x?xf32>, tensor<f32>, tensor<1xf32>) -> tensor<8x?xf32>
  %3 = kiln.clip %x min %lo max %hi : (tensor<8x?xf32>, tensor<f32>, tensor<1xf32>) -> tensor<8x?xf32>
  // CHECK: %[[C4:.+]] = kiln.clip %[[N]] min %[[NLO]] : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
  %4 = kiln.clip %n min %nlo : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
  // CHECK: return %[[C0]], %[[C1]], %[[C2]], %[[C3]], %[[C4]]
  return %0, %1, %2, %3, %4 : tensor<8x?xf32>, tensor<8x?xf32>, tensor<8x?xf32>, tensor<8x?xf32>, tensor<4xi64>
}

// CHECK-LABEL: func.func @arithmetic(
// CHECK-SAME: %[[A:[^:]+]]: tensor<2x3xf32>, %[[B:[^:]+]]: tensor<3xf32>, %[[D:[^:]+]]: tensor<?x1x3xf32>, %[[I:[^:]+]]: tensor<4xi64>, %[[J:[^:]+]]: tensor<i64>)
func.func @arithmetic(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %d: tensor<?x1x3xf32>, %i: tensor<4xi64>, %j: tensor<i64>)
    -> (tensor<2x3xf32>, tensor<?x2x3xf32>, tensor<4xi64>) {
  // CHECK: %[[ADD:.+]] = kiln.add %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %0 = kiln.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[SUB:.+]] = kiln.sub %[[B]], %[[ADD]] : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = kiln.sub %b, %0 : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[MUL:.+]] = kiln.mul %[[SUB]], %[[A]] : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = kiln.mul %1, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[DIV:.+]] = kiln.div %[[MUL]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %3 = kiln.div %2, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[MAX:.+]] = kiln.max %[[DIV]], %[[A]] : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = kiln.max %3, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: %[[MIN:.+]] = kiln.min %[[MAX]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %5 = kiln.min %4, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // Broadcasting against a dynamic dim.
  // CHECK: %[[DYN:.+]] = kiln.add %[[D]], %[[A]] : (tensor<?x1x3xf32>, tensor<2x3xf32>) -> tensor<?x2x3xf32>
  %6 = kiln.add %d, %a : (tensor<?x1x3xf32>, tensor<2x3xf32>) -> tensor<?x2x3xf32>
  // CHECK: %[[IMUL:.+]] = kiln.mul %[[I]], %[[J]] : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
  %7 = kiln.mul %i, %j : (tensor<4xi64>, tensor<i64>) -> tensor<4xi64>
  // CHECK: return %[[MIN]], %[[DYN]], %[[IMUL]]
  return %5, %6, %7 : tensor<2x3xf32>, tensor<?x2x3xf32>, tensor<4xi64>
}

// CHECK-LABEL: func.func @pow(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4x?xf32>, %[[E:[^:]+]]: tensor<i64>, %[[F:[^:]+]]: tensor<4x1xf32>)
func.func @pow(%x: tensor<4x?xf32>, %e: tensor<i64>, %f: tensor<4x1xf32>) -> (tensor<4x?xf32>, tensor<4x?xf32>) {
  // The exponent may have another element type; the result has the base's.
  // CHECK: %[[P0:.+]] = kiln.pow %[[X]], %[[E]] : (tensor<4x?xf32>, tensor<i64>) -> tensor<4x?xf32>
  %0 = kiln.pow %x, %e : (tensor<4x?xf32>, tensor<i64>) -> tensor<4x?xf32>
  // CHECK: %[[P1:.+]] = kiln.pow %[[P0]], %[[F]] : (tensor<4x?xf32>, tensor<4x1xf32>) -> tensor<4x?xf32>
  %1 = kiln.pow %0, %f : (tensor<4x?xf32>, tensor<4x1xf32>) -> tensor<4x?xf32>
  // CHECK: return %[[P0]], %[[P1]]
  return %0, %1 : tensor<4x?xf32>, tensor<4x?xf32>
}

// CHECK-LABEL: func.func @comparisons(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4x?xf32>, %[[Y:[^:]+]]: tensor<f32>, %[[I:[^:]+]]: tensor<2x1xi64>, %[[J:[^:]+]]: tensor<3xi64>)
func.func @comparisons(%x: tensor<4x?xf32>, %y: tensor<f32>, %i: tensor<2x1xi64>, %j: tensor<3xi64>)
    -> (tensor<4x?xi1>, tensor<4x?xi1>, tensor<4x?xi1>, tensor<4x?xi1>, tensor<2x3xi1>) {
  // CHECK: %[[EQ:.+]] = kiln.equal %[[X]], %[[Y]] : (tensor<4x?xf32>, tensor<f32>) -> tensor<4x?xi1>
  %0 = kiln.equal %x, %y : (tensor<4x?xf32>, tensor<f32>) -> tensor<4x?xi1>
  // CHECK: %[[LT:.+]] = kiln.less %[[X]], %[[Y]] : (tensor<4x?xf32>, tensor<f32>) -> tensor<4x?xi1>
  %1 = kiln.less %x, %y : (tensor<4x?xf32>, tensor<f32>) -> tensor<4x?xi1>
  // CHECK: %[[LE:.+]] = kiln.less_or_equal %[[Y]], %[[X]] : (tensor<f32>, tensor<4x?xf32>) -> tensor<4x?xi1>
  %2 = kiln.less_or_equal %y, %x : (tensor<f32>, tensor<4x?xf32>) -> tensor<4x?xi1>
  // CHECK: %[[GT:.+]] = kiln.greater %[[X]], %[[X]] : (tensor<4x?xf32>, tensor<4x?xf32>) -> tensor<4x?xi1>
  %3 = kiln.greater %x, %x : (tensor<4x?xf32>, tensor<4x?xf32>) -> tensor<4x?xi1>
  // CHECK: %[[GE:.+]] = kiln.greater_or_equal %[[I]], %[[J]] : (tensor<2x1xi64>, tensor<3xi64>) -> tensor<2x3xi1>
  %4 = kiln.greater_or_equal %i, %j : (tensor<2x1xi64>, tensor<3xi64>) -> tensor<2x3xi1>
  // CHECK: return %[[EQ]], %[[LT]], %[[LE]], %[[GT]], %[[GE]]
  return %0, %1, %2, %3, %4 : tensor<4x?xi1>, tensor<4x?xi1>, tensor<4x?xi1>, tensor<4x?xi1>, tensor<2x3xi1>
}

// CHECK-LABEL: func.func @where(
// CHECK-SAME: %[[C:[^:]+]]: tensor<1x1x4x4xi1>, %[[X:[^:]+]]: tensor<2x8x4x4xf32>, %[[Y:[^:]+]]: tensor<f32>, %[[D:[^:]+]]: tensor<?x1xi1>, %[[I:[^:]+]]: tensor<5xi64>)
func.func @where(%c: tensor<1x1x4x4xi1>, %x: tensor<2x8x4x4xf32>, %y: tensor<f32>, %d: tensor<?x1xi1>, %i: tensor<5xi64>)
    -> (tensor<2x8x4x4xf32>, tensor<?x5xi64>) {
  // CHECK: %[[W0:.+]] = kiln.where %[[C]], %[[X]], %[[Y]] : (tensor<1x1x4x4xi1>, tensor<2x8x4x4xf32>, tensor<f32>) -> tensor<2x8x4x4xf32>
  %0 = kiln.where %c, %x, %y : (tensor<1x1x4x4xi1>, tensor<2x8x4x4xf32>, tensor<f32>) -> tensor<2x8x4x4xf32>
  // CHECK: %[[W1:.+]] = kiln.where %[[D]], %[[I]], %[[I]] : (tensor<?x1xi1>, tensor<5xi64>, tensor<5xi64>) -> tensor<?x5xi64>
  %1 = kiln.where %d, %i, %i : (tensor<?x1xi1>, tensor<5xi64>, tensor<5xi64>) -> tensor<?x5xi64>
  // CHECK: return %[[W0]], %[[W1]]
  return %0, %1 : tensor<2x8x4x4xf32>, tensor<?x5xi64>
}
