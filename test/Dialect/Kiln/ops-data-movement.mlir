// RUN: kiln-opt %s | kiln-opt | FileCheck %s

// Round trip of constants, shapes, casts and the data movement ops.

// CHECK-LABEL: func.func @constant(
func.func @constant() -> (tensor<2xi64>, tensor<2x3xf32>, tensor<i1>, tensor<2x2xf32>, tensor<2xi64>) {
  // CHECK: %[[I:.+]] = kiln.constant dense<[1, -1]> : tensor<2xi64>
  %0 = kiln.constant dense<[1, -1]> : tensor<2xi64>
  // CHECK: %[[F:.+]] = kiln.constant dense<5.000000e-01> : tensor<2x3xf32>
  %1 = kiln.constant dense<0.5> : tensor<2x3xf32>
  // CHECK: %[[B:.+]] = kiln.constant dense<true> : tensor<i1>
  %2 = kiln.constant dense<true> : tensor<i1>
  // CHECK: %[[W:.+]] = kiln.constant dense_resource<conv1.weight> : tensor<2x2xf32>
  %3 = kiln.constant dense_resource<conv1.weight> : tensor<2x2xf32>
  // CHECK: %[[S:.+]] = kiln.constant dense_resource<shape0> : tensor<2xi64>
  %4 = kiln.constant dense_resource<shape0> : tensor<2xi64>
  // CHECK: return %[[I]], %[[F]], %[[B]], %[[W]], %[[S]]
  return %0, %1, %2, %3, %4 : tensor<2xi64>, tensor<2x3xf32>, tensor<i1>, tensor<2x2xf32>, tensor<2xi64>
}

// CHECK-LABEL: func.func @shape(
// CHECK-SAME: %[[X:[^:]+]]: tensor<?x3x4xf32>)
func.func @shape(%x: tensor<?x3x4xf32>)
    -> (tensor<3xi64>, tensor<2xi64>, tensor<1xi64>, tensor<3xi64>, tensor<0xi64>) {
  // CHECK: %[[S0:.+]] = kiln.shape %[[X]] : (tensor<?x3x4xf32>) -> tensor<3xi64>
  %0 = kiln.shape %x : (tensor<?x3x4xf32>) -> tensor<3xi64>
  // CHECK: %[[S1:.+]] = kiln.shape %[[X]] {start = 1 : i64} : (tensor<?x3x4xf32>) -> tensor<2xi64>
  %1 = kiln.shape %x {start = 1 : i64} : (tensor<?x3x4xf32>) -> tensor<2xi64>
  // Negative start and end count from the end.
  // CHECK: %[[S2:.+]] = kiln.shape %[[X]] {end = -1 : i64, start = -2 : i64} : (tensor<?x3x4xf32>) -> tensor<1xi64>
  %2 = kiln.shape %x {start = -2 : i64, end = -1 : i64} : (tensor<?x3x4xf32>) -> tensor<1xi64>
  // Both are clamped to the rank.
  // CHECK: %[[S3:.+]] = kiln.shape %[[X]] {end = 10 : i64, start = -10 : i64} : (tensor<?x3x4xf32>) -> tensor<3xi64>
  %3 = kiln.shape %x {start = -10 : i64, end = 10 : i64} : (tensor<?x3x4xf32>) -> tensor<3xi64>
  // CHECK: %[[S4:.+]] = kiln.shape %[[X]] {end = 1 : i64, start = 2 : i64} : (tensor<?x3x4xf32>) -> tensor<0xi64>
  %4 = kiln.shape %x {start = 2 : i64, end = 1 : i64} : (tensor<?x3x4xf32>) -> tensor<0xi64>
  // CHECK: return %[[S0]], %[[S1]], %[[S2]], %[[S3]], %[[S4]]
  return %0, %1, %2, %3, %4 : tensor<3xi64>, tensor<2xi64>, tensor<1xi64>, tensor<3xi64>, tensor<0xi64>
}

// CHECK-LABEL: func.func @cast(
// CHECK-SAME: %[[X:[^:]+]]: tensor<4x?xf32>, %[[U:[^:]+]]: tensor<3xui8>)
func.func @cast(%x: tensor<4x?xf32>, %u: tensor<3xui8>) -> (tensor<4x?xi64>, tensor<4x?xi1>, tensor<4x?xf16>, tensor<3xi32>) {
  // CHECK: %[[C0:.+]] = kiln.cast %[[X]] {to = i64} : (tensor<4x?xf32>) -> tensor<4x?xi64>
  %0 = kiln.cast %x {to = i64} : (tensor<4x?xf32>) -> tensor<4x?xi64>
  // CHECK: %[[C1:.+]] = kiln.cast %[[C0]] {to = i1} : (tensor<4x?xi64>) -> tensor<4x?xi1>
  %1 = kiln.cast %0 {to = i1} : (tensor<4x?xi64>) -> tensor<4x?xi1>
  // CHECK: %[[C2:.+]] = kiln.cast %[[C1]] {to = f16} : (tensor<4x?xi1>) -> tensor<4x?xf16>
  %2 = kiln.cast %1 {to = f16} : (tensor<4x?xi1>) -> tensor<4x?xf16>
  // CHECK: %[[C3:.+]] = kiln.cast %[[U]] {to = i32} : (tensor<3xui8>) -> tensor<3xi32>
  %3 = kiln.cast %u {to = i32} : (tensor<3xui8>) -> tensor<3xi32>
  // CHECK: return %[[C0]], %[[C1]], %[[C2]], %[[C3]]
  return %0, %1, %2, %3 : tensor<4x?xi64>, tensor<4x?xi1>, tensor<4x?xf16>, tensor<3xi32>
}

// CHECK-LABEL: func.func @reshape(
// CHECK-SAME: %[[X:[^:]+]]: tensor<2x3x4xf32>, %[[D:[^:]+]]: tensor<?x3x4xf32>, %[[S:[^:]+]]: tensor<3xi64>, %[[Z:[^:]+]]: tensor<5x0xf32>, %[[S2:[^:]+]]: tensor<2xi64>)
func.func @reshape(%x: tensor<2x3x4xf32>, %d: tensor<?x3x4xf32>, %s: tensor<3xi64>, %z: tensor<5x0xf32>, %s2: tensor<2xi64>)
    -> (tensor<2x12xf32>, tensor<?x12xf32>, tensor<?x4xf32>, tensor<?x?x?xf32>, tensor<0x5xf32>, tensor<4x6xf32>) {
  // CHECK: %[[ZERO_NEG:.+]] = kiln.constant dense<[0, -1]> : tensor<2xi64>
  %c0 = kiln.constant dense<[0, -1]> : tensor<2xi64>
  // CHECK: %[[ZERO_12:.+]] = kiln.constant dense<[0, 12]> : tensor<2xi32>
  %c1 = kiln.constant dense<[0, 12]> : tensor<2xi32>
  // CHECK: %[[NEG_4:.+]] = kiln.constant dense<[-1, 4]> : tensor<2xi64>
  %c2 = kiln.constant dense<[-1, 4]> : tensor<2xi64>
  // CHECK: %[[ZERO_5:.+]] = kiln.constant dense<[0, 5]> : tensor<2xi64>
  %c3 = kiln.constant dense<[0, 5]> : tensor<2xi64>
  // CHECK: %[[R0:.+]] = kiln.reshape %[[X]], %[[ZERO_NEG]] : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
  %0 = kiln.reshape %x, %c0 : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<2x12xf32>
  // CHECK: %[[R1:.+]] = kiln.reshape %[[D]], %[[ZERO_12]] : (tensor<?x3x4xf32>, tensor<2xi32>) -> tensor<?x12xf32>
  %1 = kiln.reshape %d, %c1 : (tensor<?x3x4xf32>, tensor<2xi32>) -> tensor<?x12xf32>
  // CHECK: %[[R2:.+]] = kiln.reshape %[[D]], %[[NEG_4]] : (tensor<?x3x4xf32>, tensor<2xi64>) -> tensor<?x4xf32>
  %2 = kiln.reshape %d, %c2 : (tensor<?x3x4xf32>, tensor<2xi64>) -> tensor<?x4xf32>
  // CHECK: %[[R3:.+]] = kiln.reshape %[[X]], %[[S]] : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  %3 = kiln.reshape %x, %s : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<?x?x?xf32>
  // With allowzero a 0 is a 0, not a copy.
  // CHECK: %[[R4:.+]] = kiln.reshape %[[Z]], %[[ZERO_5]] {allowzero = true} : (tensor<5x0xf32>, tensor<2xi64>) -> tensor<0x5xf32>
  %4 = kiln.reshape %z, %c3 {allowzero = true} : (tensor<5x0xf32>, tensor<2xi64>) -> tensor<0x5xf32>
  // A declared result may be more precise than the inferred one (?x?).
  // CHECK: %[[R5:.+]] = kiln.reshape %[[X]], %[[S2]] : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  %5 = kiln.reshape %x, %s2 : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  // CHECK: return %[[R0]], %[[R1]], %[[R2]], %[[R3]], %[[R4]], %[[R5]]
  return %0, %1, %2, %3, %4, %5 : tensor<2x12xf32>, tensor<?x12xf32>, tensor<?x4xf32>, tensor<?x?x?xf32>, tensor<0x5xf32>, tensor<4x6xf32>
}

// CHECK-LABEL: func.func @transpose(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x?x12x64xf32>, %[[M:[^:]+]]: tensor<3x5xi64>)
func.func @transpose(%x: tensor<1x?x12x64xf32>, %m: tensor<3x5xi64>) -> (tensor<1x12x?x64xf32>, tensor<5x3xi64>) {
  // CHECK: %[[T0:.+]] = kiln.transpose %[[X]] {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x?x12x64xf32>) -> tensor<1x12x?x64xf32>
  %0 = kiln.transpose %x {perm = array<i64: 0, 2, 1, 3>} : (tensor<1x?x12x64xf32>) -> tensor<1x12x?x64xf32>
  // CHECK: %[[T1:.+]] = kiln.transpose %[[M]] {perm = array<i64: 1, 0>} : (tensor<3x5xi64>) -> tensor<5x3xi64>
  %1 = kiln.transpose %m {perm = array<i64: 1, 0>} : (tensor<3x5xi64>) -> tensor<5x3xi64>
  // CHECK: return %[[T0]], %[[T1]]
  return %0, %1 : tensor<1x12x?x64xf32>, tensor<5x3xi64>
}

// CHECK-LABEL: func.func @concat(
// CHECK-SAME: %[[A:[^:]+]]: tensor<1x64x8x8xf32>, %[[B:[^:]+]]: tensor<1x32x?x8xf32>, %[[C:[^:]+]]: tensor<1x?x8x8xf32>, %[[S:[^:]+]]: tensor<1xi64>, %[[T:[^:]+]]: tensor<2xi64>)
func.func @concat(%a: tensor<1x64x8x8xf32>, %b: tensor<1x32x?x8xf32>, %c: tensor<1x?x8x8xf32>, %s: tensor<1xi64>, %t: tensor<2xi64>)
    -> (tensor<1x96x8x8xf32>, tensor<1x?x8x8xf32>, tensor<4xi64>) {
  // CHECK: %[[C0:.+]] = kiln.concat %[[A]], %[[B]] {axis = 1 : i64} : (tensor<1x64x8x8xf32>, tensor<1x32x?x8xf32>) -> tensor<1x96x8x8xf32>
  %0 = kiln.concat %a, %b {axis = 1 : i64} : (tensor<1x64x8x8xf32>, tensor<1x32x?x8xf32>) -> tensor<1x96x8x8xf32>
  // CHECK: %[[C1:.+]] = kiln.concat %[[A]], %[[C]], %[[A]] {axis = -3 : i64} : (tensor<1x64x8x8xf32>, tensor<1x?x8x8xf32>, tensor<1x64x8x8xf32>) -> tensor<1x?x8x8xf32>
  %1 = kiln.concat %a, %c, %a {axis = -3 : i64} : (tensor<1x64x8x8xf32>, tensor<1x?x8x8xf32>, tensor<1x64x8x8xf32>) -> tensor<1x?x8x8xf32>
  // CHECK: %[[C2:.+]] = kiln.concat %[[S]], %[[S]], %[[T]] {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<2xi64>) -> tensor<4xi64>
  %2 = kiln.concat %s, %s, %t {axis = 0 : i64} : (tensor<1xi64>, tensor<1xi64>, tensor<2xi64>) -> tensor<4xi64>
  // CHECK: return %[[C0]], %[[C1]], %[[C2]]
  return %0, %1, %2 : tensor<1x96x8x8xf32>, tensor<1x?x8x8xf32>, tensor<4xi64>
}

// CHECK-LABEL: func.func @split(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x128x2304xf32>, %[[Y:[^:]+]]: tensor<10x4xi64>, %[[D:[^:]+]]: tensor<?x4xf32>)
func.func @split(%x: tensor<1x128x2304xf32>, %y: tensor<10x4xi64>, %d: tensor<?x4xf32>)
    -> (tensor<1x128x768xf32>, tensor<1x128x768xf32>, tensor<1x128x768xf32>, tensor<1x128x2000xf32>,
        tensor<3x4xi64>, tensor<1x4xi64>, tensor<?x4xf32>, tensor<1x4xf32>) {
  // CHECK: %[[Q:.+]]:3 = kiln.split %[[X]] {axis = 2 : i64, num_outputs = 3 : i64, sizes = array<i64: 768, 768, 768>} : (tensor<1x128x2304xf32>) -> (tensor<1x128x768xf32>, tensor<1x128x768xf32>, tensor<1x128x768xf32>)
  %q, %k, %v = kiln.split %x {axis = 2 : i64, sizes = array<i64: 768, 768, 768>, num_outputs = 3 : i64}
      : (tensor<1x128x2304xf32>) -> (tensor<1x128x768xf32>, tensor<1x128x768xf32>, tensor<1x128x768xf32>)
  // CHECK: %[[U:.+]]:2 = kiln.split %[[X]] {axis = -1 : i64, num_outputs = 2 : i64, sizes = array<i64: 2000, 304>} : (tensor<1x128x2304xf32>) -> (tensor<1x128x2000xf32>, tensor<1x128x304xf32>)
  %u:2 = kiln.split %x {axis = -1 : i64, sizes = array<i64: 2000, 304>, num_outputs = 2 : i64}
      : (tensor<1x128x2304xf32>) -> (tensor<1x128x2000xf32>, tensor<1x128x304xf32>)
  // Without sizes: equal pieces, the last one smaller.
  // CHECK: %[[E:.+]]:4 = kiln.split %[[Y]] {axis = 0 : i64, num_outputs = 4 : i64} : (tensor<10x4xi64>) -> (tensor<3x4xi64>, tensor<3x4xi64>, tensor<3x4xi64>, tensor<1x4xi64>)
  %e:4 = kiln.split %y {axis = 0 : i64, num_outputs = 4 : i64}
      : (tensor<10x4xi64>) -> (tensor<3x4xi64>, tensor<3x4xi64>, tensor<3x4xi64>, tensor<1x4xi64>)
  // CHECK: %[[F:.+]]:2 = kiln.split %[[D]] {axis = 0 : i64, num_outputs = 2 : i64} : (tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>)
  %f:2 = kiln.split %d {axis = 0 : i64, num_outputs = 2 : i64} : (tensor<?x4xf32>) -> (tensor<?x4xf32>, tensor<?x4xf32>)
  // CHECK: %[[G:.+]]:2 = kiln.split %[[D]] {axis = 0 : i64, num_outputs = 2 : i64, sizes = array<i64: 3, 1>} : (tensor<?x4xf32>) -> (tensor<3x4xf32>, tensor<1x4xf32>)
  %g:2 = kiln.split %d {axis = 0 : i64, sizes = array<i64: 3, 1>, num_outputs = 2 : i64} : (tensor<?x4xf32>) -> (tensor<3x4xf32>, tensor<1x4xf32>)
  // CHECK: return %[[Q]]#0, %[[Q]]#1, %[[Q]]#2, %[[U]]#0, %[[E]]#2, %[[E]]#3, %[[F]]#1, %[[G]]#1
  return %q, %k, %v, %u#0, %e#2, %e#3, %f#1, %g#1
      : tensor<1x128x768xf32>, tensor<1x128x768xf32>, tensor<1x128x768xf32>, tensor<1x128x2000xf32>,
        tensor<3x4xi64>, tensor<1x4xi64>, tensor<?x4xf32>, tensor<1x4xf32>
}

// CHECK-LABEL: func.func @slice(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x128x768xf32>, %[[D:[^:]+]]: tensor<?x10xi64>, %[[S:[^:]+]]: tensor<1xi64>)
func.func @slice(%x: tensor<1x128x768xf32>, %d: tensor<?x10xi64>, %s: tensor<1xi64>)
    -> (tensor<1x1x768xf32>, tensor<1x127x384xf32>, tensor<?x3xi64>, tensor<1x?x768xf32>, tensor<?x?x?xf32>) {
  // CHECK-DAG: %[[ZERO:.+]] = kiln.constant dense<0> : tensor<1xi64>
  // CHECK-DAG: %[[ONE:.+]] = kiln.constant dense<1> : tensor<1xi32>
  // CHECK-DAG: %[[AX:.+]] = kiln.constant dense<[1, -1]> : tensor<2xi64>
  // CHECK-DAG: %[[ST:.+]] = kiln.constant dense<[1, -1]> : tensor<2xi64>
  // CHECK-DAG: %[[EN:.+]] = kiln.constant dense<[128, -9223372036854775808]> : tensor<2xi64>
  // CHECK-DAG: %[[STEP:.+]] = kiln.constant dense<[1, -2]> : tensor<2xi64>
  // CHECK-DAG: %[[B:.+]] = kiln.constant dense<[2, 9223372036854775807]> : tensor<2xi64>
  // CHECK-DAG: %[[A01:.+]] = kiln.constant dense<[0, 1]> : tensor<2xi64>
  // CHECK-DAG: %[[STEP3:.+]] = kiln.constant dense<[1, 3]> : tensor<2xi64>
  %zero = kiln.constant dense<0> : tensor<1xi64>
  %one = kiln.constant dense<1> : tensor<1xi32>
  %ax = kiln.constant dense<[1, -1]> : tensor<2xi64>
  %st = kiln.constant dense<[1, -1]> : tensor<2xi64>
  %en = kiln.constant dense<[128, -9223372036854775808]> : tensor<2xi64>
  %step = kiln.constant dense<[1, -2]> : tensor<2xi64>
  %b = kiln.constant dense<[2, 9223372036854775807]> : tensor<2xi64>
  %a01 = kiln.constant dense<[0, 1]> : tensor<2xi64>
  %step3 = kiln.constant dense<[1, 3]> : tensor<2xi64>
  // Index operands may mix i32 and i64.
  // CHECK: %[[S0:.+]] = kiln.slice %[[X]], %[[ZERO]], %[[ONE]], %[[ONE]], %[[ONE]] : (tensor<1x128x768xf32>, tensor<1xi64>, tensor<1xi32>, tensor<1xi32>, tensor<1xi32>) -> tensor<1x1x768xf32>
  %0 = kiln.slice %x, %zero, %one, %one, %one : (tensor<1x128x768xf32>, tensor<1xi64>, tensor<1xi32>, tensor<1xi32>, tensor<1xi32>) -> tensor<1x1x768xf32>
  // Negative steps walk backwards from a clamped start.
  // CHECK: %[[S1:.+]] = kiln.slice %[[X]], %[[ST]], %[[EN]], %[[AX]], %[[STEP]] : (tensor<1x128x768xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<1x127x384xf32>
  %1 = kiln.slice %x, %st, %en, %ax, %step : (tensor<1x128x768xf32>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<1x127x384xf32>
  // CHECK: %[[S2:.+]] = kiln.slice %[[D]], %[[A01]], %[[B]], %[[A01]], %[[STEP3]] : (tensor<?x10xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x3xi64>
  %2 = kiln.slice %d, %a01, %b, %a01, %step3 : (tensor<?x10xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>, tensor<2xi64>) -> tensor<?x3xi64>
  // Unknown starts: only the sliced axis becomes dynamic.
  // CHECK: %[[S3:.+]] = kiln.slice %[[X]], %[[S]], %[[S]], %[[ONE]], %[[ONE]] : (tensor<1x128x768xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi32>, tensor<1xi32>) -> tensor<1x?x768xf32>
  %3 = kiln.slice %x, %s, %s, %one, %one : (tensor<1x128x768xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi32>, tensor<1xi32>) -> tensor<1x?x768xf32>
  // Unknown axes: every dim may be sliced.
  // CHECK: %[[S4:.+]] = kiln.slice %[[X]], %[[ZERO]], %[[ONE]], %[[S]], %[[ONE]] : (tensor<1x128x768xf32>, tensor<1xi64>, tensor<1xi32>, tensor<1xi64>, tensor<1xi32>) -> tensor<?x?x?xf32>
  %4 = kiln.slice %x, %zero, %one, %s, %one : (tensor<1x128x768xf32>, tensor<1xi64>, tensor<1xi32>, tensor<1xi64>, tensor<1xi32>) -> tensor<?x?x?xf32>
  // CHECK: return %[[S0]], %[[S1]], %[[S2]], %[[S3]], %[[S4]]
  return %0, %1, %2, %3, %4 : tensor<1x1x768xf32>, tensor<1x127x384xf32>, tensor<?x3xi64>, tensor<1x?x768xf32>, tensor<?x?x?xf32>
}

// CHECK-LABEL: func.func @gather(
// CHECK-SAME: %[[T:[^:]+]]: tensor<30522x768xf32>, %[[IDS:[^:]+]]: tensor<1x?xi64>, %[[X:[^:]+]]: tensor<4x5x6xi64>, %[[I:[^:]+]]: tensor<i32>, %[[J:[^:]+]]: tensor<2xi64>)
func.func @gather(%t: tensor<30522x768xf32>, %ids: tensor<1x?xi64>, %x: tensor<4x5x6xi64>, %i: tensor<i32>, %j: tensor<2xi64>)
    -> (tensor<1x?x768xf32>, tensor<4x6xi64>, tensor<4x5x2xi64>) {
  // CHECK: %[[G0:.+]] = kiln.gather %[[T]], %[[IDS]] : (tensor<30522x768xf32>, tensor<1x?xi64>) -> tensor<1x?x768xf32>
  %0 = kiln.gather %t, %ids {axis = 0 : i64} : (tensor<30522x768xf32>, tensor<1x?xi64>) -> tensor<1x?x768xf32>
  // CHECK: %[[G1:.+]] = kiln.gather %[[X]], %[[I]] {axis = 1 : i64} : (tensor<4x5x6xi64>, tensor<i32>) -> tensor<4x6xi64>
  %1 = kiln.gather %x, %i {axis = 1 : i64} : (tensor<4x5x6xi64>, tensor<i32>) -> tensor<4x6xi64>
  // CHECK: %[[G2:.+]] = kiln.gather %[[X]], %[[J]] {axis = -1 : i64} : (tensor<4x5x6xi64>, tensor<2xi64>) -> tensor<4x5x2xi64>
  %2 = kiln.gather %x, %j {axis = -1 : i64} : (tensor<4x5x6xi64>, tensor<2xi64>) -> tensor<4x5x2xi64>
  // CHECK: return %[[G0]], %[[G1]], %[[G2]]
  return %0, %1, %2 : tensor<1x?x768xf32>, tensor<4x6xi64>, tensor<4x5x2xi64>
}

// CHECK-LABEL: func.func @squeeze_unsqueeze(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x768xf32>, %[[D:[^:]+]]: tensor<1x?x1x3xf32>, %[[V:[^:]+]]: tensor<128xi64>, %[[S:[^:]+]]: tensor<i64>)
func.func @squeeze_unsqueeze(%x: tensor<1x768xf32>, %d: tensor<1x?x1x3xf32>, %v: tensor<128xi64>, %s: tensor<i64>)
    -> (tensor<768xf32>, tensor<?x3xf32>, tensor<?x1x3xf32>, tensor<1x128x1xi64>, tensor<128x1xi64>, tensor<1xi64>) {
  // CHECK: %[[Q0:.+]] = kiln.squeeze %[[X]] {axes = array<i64: 0>} : (tensor<1x768xf32>) -> tensor<768xf32>
  %0 = kiln.squeeze %x {axes = array<i64: 0>} : (tensor<1x768xf32>) -> tensor<768xf32>
  // Empty axes remove every static 1.
  // CHECK: %[[Q1:.+]] = kiln.squeeze %[[D]] {axes = array<i64>} : (tensor<1x?x1x3xf32>) -> tensor<?x3xf32>
  %1 = kiln.squeeze %d {axes = array<i64>} : (tensor<1x?x1x3xf32>) -> tensor<?x3xf32>
  // CHECK: %[[Q2:.+]] = kiln.squeeze %[[D]] {axes = array<i64: -4>} : (tensor<1x?x1x3xf32>) -> tensor<?x1x3xf32>
  %2 = kiln.squeeze %d {axes = array<i64: -4>} : (tensor<1x?x1x3xf32>) -> tensor<?x1x3xf32>
  // Unsqueeze axes index the result.
  // CHECK: %[[U0:.+]] = kiln.unsqueeze %[[V]] {axes = array<i64: 0, 2>} : (tensor<128xi64>) -> tensor<1x128x1xi64>
  %3 = kiln.unsqueeze %v {axes = array<i64: 0, 2>} : (tensor<128xi64>) -> tensor<1x128x1xi64>
  // CHECK: %[[U1:.+]] = kiln.unsqueeze %[[V]] {axes = array<i64: -1>} : (tensor<128xi64>) -> tensor<128x1xi64>
  %4 = kiln.unsqueeze %v {axes = array<i64: -1>} : (tensor<128xi64>) -> tensor<128x1xi64>
  // CHECK: %[[U2:.+]] = kiln.unsqueeze %[[S]] {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  %5 = kiln.unsqueeze %s {axes = array<i64: 0>} : (tensor<i64>) -> tensor<1xi64>
  // CHECK: return %[[Q0]], %[[Q1]], %[[Q2]], %[[U0]], %[[U1]], %[[U2]]
  return %0, %1, %2, %3, %4, %5 : tensor<768xf32>, tensor<?x3xf32>, tensor<?x1x3xf32>, tensor<1x128x1xi64>, tensor<128x1xi64>, tensor<1xi64>
}

// CHECK-LABEL: func.func @flatten(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x2048x1x1xf32>, %[[D:[^:]+]]: tensor<?x3x4xf32>)
func.func @flatten(%x: tensor<1x2048x1x1xf32>, %d: tensor<?x3x4xf32>)
    -> (tensor<1x2048xf32>, tensor<1x2048xf32>, tensor<?x4xf32>, tensor<1x?xf32>, tensor<?x1xf32>) {
  // CHECK: %[[F0:.+]] = kiln.flatten %[[X]] : (tensor<1x2048x1x1xf32>) -> tensor<1x2048xf32>
  %0 = kiln.flatten %x {axis = 1 : i64} : (tensor<1x2048x1x1xf32>) -> tensor<1x2048xf32>
  // CHECK: %[[F1:.+]] = kiln.flatten %[[X]] {axis = 0 : i64} : (tensor<1x2048x1x1xf32>) -> tensor<1x2048xf32>
  %1 = kiln.flatten %x {axis = 0 : i64} : (tensor<1x2048x1x1xf32>) -> tensor<1x2048xf32>
  // CHECK: %[[F2:.+]] = kiln.flatten %[[D]] {axis = -1 : i64} : (tensor<?x3x4xf32>) -> tensor<?x4xf32>
  %2 = kiln.flatten %d {axis = -1 : i64} : (tensor<?x3x4xf32>) -> tensor<?x4xf32>
  // CHECK: %[[F3:.+]] = kiln.flatten %[[D]] {axis = 0 : i64} : (tensor<?x3x4xf32>) -> tensor<1x?xf32>
  %3 = kiln.flatten %d {axis = 0 : i64} : (tensor<?x3x4xf32>) -> tensor<1x?xf32>
  // CHECK: %[[F4:.+]] = kiln.flatten %[[D]] {axis = 3 : i64} : (tensor<?x3x4xf32>) -> tensor<?x1xf32>
  %4 = kiln.flatten %d {axis = 3 : i64} : (tensor<?x3x4xf32>) -> tensor<?x1xf32>
  // CHECK: return %[[F0]], %[[F1]], %[[F2]], %[[F3]], %[[F4]]
  return %0, %1, %2, %3, %4 : tensor<1x2048xf32>, tensor<1x2048xf32>, tensor<?x4xf32>, tensor<1x?xf32>, tensor<?x1xf32>
}

// CHECK-LABEL: func.func @expand(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x1x4xf32>, %[[Y:[^:]+]]: tensor<3x1xi64>, %[[S:[^:]+]]: tensor<3xi64>)
func.func @expand(%x: tensor<1x1x4xf32>, %y: tensor<3x1xi64>, %s: tensor<3xi64>)
    -> (tensor<2x3x4xf32>, tensor<2x3x5xi64>, tensor<?x3x?xi64>) {
  // CHECK: %[[C:.+]] = kiln.constant dense<[2, 3, 1]> : tensor<3xi64>
  %c = kiln.constant dense<[2, 3, 1]> : tensor<3xi64>
  // CHECK: %[[D:.+]] = kiln.constant dense<[2, 1, 5]> : tensor<3xi32>
  %d = kiln.constant dense<[2, 1, 5]> : tensor<3xi32>
  // CHECK: %[[E0:.+]] = kiln.expand %[[X]], %[[C]] : (tensor<1x1x4xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  %0 = kiln.expand %x, %c : (tensor<1x1x4xf32>, tensor<3xi64>) -> tensor<2x3x4xf32>
  // The target may have a higher rank than the input.
  // CHECK: %[[E1:.+]] = kiln.expand %[[Y]], %[[D]] : (tensor<3x1xi64>, tensor<3xi32>) -> tensor<2x3x5xi64>
  %1 = kiln.expand %y, %d : (tensor<3x1xi64>, tensor<3xi32>) -> tensor<2x3x5xi64>
  // An unknown target keeps the dims the input already stretches.
  // CHECK: %[[E2:.+]] = kiln.expand %[[Y]], %[[S]] : (tensor<3x1xi64>, tensor<3xi64>) -> tensor<?x3x?xi64>
  %2 = kiln.expand %y, %s : (tensor<3x1xi64>, tensor<3xi64>) -> tensor<?x3x?xi64>
  // CHECK: return %[[E0]], %[[E1]], %[[E2]]
  return %0, %1, %2 : tensor<2x3x4xf32>, tensor<2x3x5xi64>, tensor<?x3x?xi64>
}

// CHECK-LABEL: func.func @pad(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x3x8x8xf32>, %[[V:[^:]+]]: tensor<f32>, %[[D:[^:]+]]: tensor<?x5xi64>, %[[P:[^:]+]]: tensor<4xi64>)
func.func @pad(%x: tensor<1x3x8x8xf32>, %v: tensor<f32>, %d: tensor<?x5xi64>, %p: tensor<4xi64>)
    -> (tensor<1x3x10x10xf32>, tensor<1x3x10x10xf32>, tensor<1x3x9x7xf32>, tensor<?x7xi64>, tensor<?x?xi64>) {
  // CHECK-DAG: %[[PADS:.+]] = kiln.constant dense<[0, 0, 1, 1, 0, 0, 1, 1]> : tensor<8xi64>
  // CHECK-DAG: %[[CROP:.+]] = kiln.constant dense<[0, 0, 0, -1, 0, 0, 1, 0]> : tensor<8xi32>
  // CHECK-DAG: %[[P2:.+]] = kiln.constant dense<[0, 2, 0, 0]> : tensor<4xi64>
  %pads = kiln.constant dense<[0, 0, 1, 1, 0, 0, 1, 1]> : tensor<8xi64>
  %crop = kiln.constant dense<[0, 0, 0, -1, 0, 0, 1, 0]> : tensor<8xi32>
  %p2 = kiln.constant dense<[0, 2, 0, 0]> : tensor<4xi64>
  // CHECK: %[[P0:.+]] = kiln.pad %[[X]], %[[PADS]], %[[V]] : (tensor<1x3x8x8xf32>, tensor<8xi64>, tensor<f32>) -> tensor<1x3x10x10xf32>
  %0 = kiln.pad %x, %pads, %v : (tensor<1x3x8x8xf32>, tensor<8xi64>, tensor<f32>) -> tensor<1x3x10x10xf32>
  // CHECK: %[[P1:.+]] = kiln.pad %[[X]], %[[PADS]] {mode = "reflect"} : (tensor<1x3x8x8xf32>, tensor<8xi64>) -> tensor<1x3x10x10xf32>
  %1 = kiln.pad %x, %pads {mode = "reflect"} : (tensor<1x3x8x8xf32>, tensor<8xi64>) -> tensor<1x3x10x10xf32>
  // Negative pads crop.
  // CHECK: %[[PC:.+]] = kiln.pad %[[X]], %[[CROP]] {mode = "edge"} : (tensor<1x3x8x8xf32>, tensor<8xi32>) -> tensor<1x3x9x7xf32>
  %2 = kiln.pad %x, %crop {mode = "edge"} : (tensor<1x3x8x8xf32>, tensor<8xi32>) -> tensor<1x3x9x7xf32>
  // CHECK: %[[PW:.+]] = kiln.pad %[[D]], %[[P2]] {mode = "wrap"} : (tensor<?x5xi64>, tensor<4xi64>) -> tensor<?x7xi64>
  %3 = kiln.pad %d, %p2 {mode = "wrap"} : (tensor<?x5xi64>, tensor<4xi64>) -> tensor<?x7xi64>
  // The default mode is not printed; unknown pads leave every dim unknown.
  // CHECK: %[[PU:.+]] = kiln.pad %[[D]], %[[P]] : (tensor<?x5xi64>, tensor<4xi64>) -> tensor<?x?xi64>
  %4 = kiln.pad %d, %p {mode = "constant"} : (tensor<?x5xi64>, tensor<4xi64>) -> tensor<?x?xi64>
  // CHECK: return %[[P0]], %[[P1]], %[[PC]], %[[PW]], %[[PU]]
  return %0, %1, %2, %3, %4 : tensor<1x3x10x10xf32>, tensor<1x3x10x10xf32>, tensor<1x3x9x7xf32>, tensor<?x7xi64>, tensor<?x?xi64>
}

// CHECK-LABEL: func.func @resize(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x3x8x?xf32>, %[[R:[^:]+]]: tensor<8xf32>, %[[S:[^:]+]]: tensor<4xi64>)
func.func @resize(%x: tensor<1x3x8x?xf32>, %roi: tensor<8xf32>, %s: tensor<4xi64>)
    -> (tensor<1x3x16x?xf32>, tensor<1x3x12x20xf32>, tensor<1x3x4x?xf32>, tensor<?x?x?x?xf32>) {
  // CHECK-DAG: %[[SCALES:.+]] = kiln.constant dense<[1.000000e+00, 1.000000e+00, 2.000000e+00, 2.000000e+00]> : tensor<4xf32>
  // CHECK-DAG: %[[SIZES:.+]] = kiln.constant dense<[1, 3, 12, 20]> : tensor<4xi64>
  // CHECK-DAG: %[[DOWN:.+]] = kiln.constant dense<[1.000000e+00, 1.000000e+00, 5.500000e-01, 5.000000e-01]> : tensor<4xf32>
  %scales = kiln.constant dense<[1.0, 1.0, 2.0, 2.0]> : tensor<4xf32>
  %sizes = kiln.constant dense<[1, 3, 12, 20]> : tensor<4xi64>
  %down = kiln.constant dense<[1.0, 1.0, 0.55, 0.5]> : tensor<4xf32>
  // CHECK: %[[R0:.+]] = kiln.resize %[[X]] scales %[[SCALES]] : (tensor<1x3x8x?xf32>, tensor<4xf32>) -> tensor<1x3x16x?xf32>
  %0 = kiln.resize %x scales %scales {mode = "nearest"} : (tensor<1x3x8x?xf32>, tensor<4xf32>) -> tensor<1x3x16x?xf32>
  // CHECK: %[[R1:.+]] = kiln.resize %[[X]] sizes %[[SIZES]] {coordinate_transformation_mode = "align_corners", mode = "linear"} : (tensor<1x3x8x?xf32>, tensor<4xi64>) -> tensor<1x3x12x20xf32>
  %1 = kiln.resize %x sizes %sizes {mode = "linear", coordinate_transformation_mode = "align_corners"} : (tensor<1x3x8x?xf32>, tensor<4xi64>) -> tensor<1x3x12x20xf32>
  // Scaled extents are rounded down: floor(8 * 0.55) = 4.
  // CHECK: %[[R2:.+]] = kiln.resize %[[X]] roi %[[R]] scales %[[DOWN]] {coordinate_transformation_mode = "tf_crop_and_resize", cubic_coeff_a = -5.000000e-01 : f32, exclude_outside = true, extrapolation_value = 1.000000e+00 : f32, mode = "cubic", nearest_mode = "floor"} : (tensor<1x3x8x?xf32>, tensor<8xf32>, tensor<4xf32>) -> tensor<1x3x4x?xf32>
  %2 = kiln.resize %x roi %roi scales %down {mode = "cubic", coordinate_transformation_mode = "tf_crop_and_resize", nearest_mode = "floor",
                                             cubic_coeff_a = -0.5 : f32, exclude_outside = true, extrapolation_value = 1.0 : f32}
      : (tensor<1x3x8x?xf32>, tensor<8xf32>, tensor<4xf32>) -> tensor<1x3x4x?xf32>
  // CHECK: %[[R3:.+]] = kiln.resize %[[X]] sizes %[[S]] {nearest_mode = "ceil"} : (tensor<1x3x8x?xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  %3 = kiln.resize %x sizes %s {nearest_mode = "ceil"} : (tensor<1x3x8x?xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  // CHECK: return %[[R0]], %[[R1]], %[[R2]], %[[R3]]
  return %0, %1, %2, %3 : tensor<1x3x16x?xf32>, tensor<1x3x12x20xf32>, tensor<1x3x4x?xf32>, tensor<?x?x?x?xf32>
}

// kiln.im2col round-trips; its result is [N, C*kh*kw, OH*OW].
// CHECK-LABEL: func.func @im2col(
// CHECK: kiln.im2col %arg0 {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<2x4x9x9xui8>) -> tensor<2x36x16xui8>
func.func @im2col(%x: tensor<2x4x9x9xui8>) -> tensor<2x36x16xui8> {
  %y = kiln.im2col %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>} : (tensor<2x4x9x9xui8>) -> tensor<2x36x16xui8>
  return %y : tensor<2x36x16xui8>
}

// CHECK-LABEL: func.func @cache_update(
func.func @cache_update(%c: tensor<1x4x?x16xf32>, %x: tensor<1x4x1x16xf32>, %n: tensor<1xi64>) -> tensor<1x4x?x16xf32> {
  // CHECK: kiln.cache_update %{{.+}}, %{{.+}}, %{{.+}} {axis = 2 : i64} : (tensor<1x4x?x16xf32>, tensor<1x4x1x16xf32>, tensor<1xi64>) -> tensor<1x4x?x16xf32>
  %r = kiln.cache_update %c, %x, %n {axis = 2 : i64} : (tensor<1x4x?x16xf32>, tensor<1x4x1x16xf32>, tensor<1xi64>) -> tensor<1x4x?x16xf32>
  return %r : tensor<1x4x?x16xf32>
}

// The blobs survive the round trip.
// CHECK: dialect_resources
// CHECK-DAG: conv1.weight: "0x040000000000803F000000400000404000008040"
// CHECK-DAG: shape0: "0x0800000002000000000000000300000000000000"

{-#
  dialect_resources: {
    builtin: {
      conv1.weight: "0x040000000000803F000000400000404000008040",
      shape0: "0x0800000002000000000000000300000000000000"
    }
  }
#-}


