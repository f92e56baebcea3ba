// RUN: kiln-opt %s -convert-kiln-to-linalg -canonicalize | FileCheck %s
// RUN: kiln-opt %s -kiln-to-llvm | FileCheck %s --check-prefix=LLVM

// kiln.attention becomes a parallel loop over (batch, head, 128-row query
// tile) around a sequential loop over 128-row key tiles that carries the
// running max, the running sum and the output tile. Nothing of the full
// score shape 512x512 is ever built.
// CHECK-LABEL: func.func @main_graph(
// K is transposed once, before the tiles.
// CHECK: %[[KT:.+]] = linalg.transpose ins(%arg1 : tensor<2x4x512x32xf32>) outs(%{{.+}} : tensor<2x4x32x512xf32>) permutation = [0, 1, 3, 2]
// CHECK: scf.forall (%{{.+}}, %{{.+}}, %[[I:.+]]) = (0, 0, 0) to (2, 4, 512) step (1, 1, 128) shared_outs(%[[OUT:.+]] = %{{.+}}) -> (tensor<2x4x512x32xf32>)
// CHECK: tensor.extract_slice %arg0[{{.+}}, %[[I]], 0] [1, 1, 128, 32] [1, 1, 1, 1] : tensor<2x4x512x32xf32> to tensor<128x32xf32>
// CHECK: scf.for %[[J:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}, %{{.+}} = %{{.+}}) -> (tensor<128xf32>, tensor<128xf32>, tensor<128x32xf32>)
// CHECK: tensor.extract_slice %[[KT]][{{.+}}, 0, %[[J]]] [1, 1, 32, 128] [1, 1, 1, 1] : tensor<2x4x32x512xf32> to tensor<32x128xf32>
// CHECK: tensor.extract_slice %arg3[{{.+}}, 0, 0, %[[J]]] [1, 1, 1, 128] [1, 1, 1, 1] : tensor<2x1x1x512xf32> to tensor<1x128xf32>
// A key tile whose additive mask is -inf everywhere is skipped: the step
// runs in the else branch of an scf.if on "no entry is visible".
// CHECK: arith.cmpf une
// CHECK: %[[ANY:.+]] = tensor.extract %{{.+}}[] : tensor<i1>
// CHECK: scf.if %[[ANY]]
// CHECK: math.exp
// CHECK: scf.yield
// CHECK: tensor.parallel_insert_slice %{{.+}} into %[[OUT]][{{.+}}, %[[I]], 0] [1, 1, 128, 32]
// CHECK-NOT: 512x512
func.func @main_graph(%q: tensor<2x4x512x32xf32>, %k: tensor<2x4x512x32xf32>, %v: tensor<2x4x512x32xf32>, %mask: tensor<2x1x1x512xf32>) -> tensor<2x4x512x32xf32> {
  %o = kiln.attention %q, %k, %v mask %mask {scale = 0.176776692 : f32} : (tensor<2x4x512x32xf32>, tensor<2x4x512x32xf32>, tensor<2x4x512x32xf32>, tensor<2x1x1x512xf32>) -> tensor<2x4x512x32xf32>
  return %o : tensor<2x4x512x32xf32>
}

// A bool mask with a finite fill (-1e4, as GPT-2 exports): a hidden tile is
// skipped only once every row's running max is at least 104 above the fill,
// so its probabilities are exactly 0 in f32.
// CHECK-LABEL: func.func @bool_mask_fill(
// CHECK: %[[LIMIT:.+]] = arith.constant -9.896000e+03 : f32
// CHECK: scf.for
// CHECK: %[[ANY:.+]] = tensor.extract %{{.+}}[] : tensor<i1>
// CHECK: %[[HIDDEN:.+]] = arith.xori %[[ANY]], %true
// CHECK: arith.minimumf
// CHECK: %[[SAFE:.+]] = arith.cmpf oge, %{{.+}}, %[[LIMIT]] : f32
// CHECK: %[[SKIP:.+]] = arith.andi %[[HIDDEN]], %[[SAFE]]
// CHECK: scf.if %[[SKIP]]
func.func @bool_mask_fill(%q: tensor<4x256x8xf32>, %k: tensor<4x256x8xf32>, %v: tensor<4x256x8xf32>, %mask: tensor<256x256xi1>) -> tensor<4x256x8xf32> {
  %o = kiln.attention %q, %k, %v mask %mask {mask_fill = -1.000000e+04 : f32, scale = 0.35 : f32} : (tensor<4x256x8xf32>, tensor<4x256x8xf32>, tensor<4x256x8xf32>, tensor<256x256xi1>) -> tensor<4x256x8xf32>
  return %o : tensor<4x256x8xf32>
}

// Without a mask the key loop takes 256 keys a step (no tile can be
// skipped, and each score product packs its query tile once for more keys).
// CHECK-LABEL: func.func @unmasked(
// CHECK-DAG: %[[C256:.+]] = arith.constant 256 : index
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %[[C256]]
// CHECK-NOT: scf.if
func.func @unmasked(%q: tensor<2x512x16xf32>, %k: tensor<2x512x16xf32>, %v: tensor<2x512x16xf32>) -> tensor<2x512x16xf32> {
  %o = kiln.attention %q, %k, %v {scale = 0.25 : f32} : (tensor<2x512x16xf32>, tensor<2x512x16xf32>, tensor<2x512x16xf32>) -> tensor<2x512x16xf32>
  return %o : tensor<2x512x16xf32>
}

// The whole pipeline transposes K in one parallel loop, then runs the
// tiles on OpenMP threads with the tile loops inside each one sequential.
// LLVM-LABEL: llvm.func internal @main_graph(
// LLVM: omp.parallel
// LLVM: omp.wsloop
// LLVM: omp.parallel
// LLVM: omp.wsloop
// LLVM-NOT: omp.parallel
// LLVM: llvm.return

// Grouped-query attention with few query rows: 4 query heads share 2
// key/value heads. Each parallel iteration takes one key/value head and the
// 2 query heads that read it, as a [2, rows, d] slice, so each key and value
// row is read once per group and in place (no K^T).
// CHECK-LABEL: func.func @grouped_heads(
// CHECK-NOT: linalg.transpose
// CHECK: scf.forall (%[[B:.+]], %[[G:.+]]) in (2, 2)
// CHECK: %[[H:.+]] = arith.muli %[[G]], %c2 : index
// CHECK-DAG: tensor.extract_slice %arg0[%[[B]], %[[H]], 0, 0] [1, 2, 2, 16] [1, 1, 1, 1] : tensor<2x4x2x16xf32> to tensor<2x2x16xf32>
// CHECK-DAG: tensor.extract_slice %arg1[%[[B]], %[[G]], 0, 0] [1, 1, 8, 16] [1, 1, 1, 1] : tensor<2x2x8x16xf32> to tensor<8x16xf32>
// CHECK-DAG: tensor.extract_slice %arg2[%[[B]], %[[G]], 0, 0] [1, 1, 8, 16] [1, 1, 1, 1] : tensor<2x2x8x16xf32> to tensor<8x16xf32>
// CHECK: tensor.parallel_insert_slice %{{.+}} into %{{.+}}[%[[B]], %[[H]], 0, 0, 0] [1, 2, 1, 2, 16]
func.func @grouped_heads(%q: tensor<2x4x2x16xf32>, %k: tensor<2x2x8x16xf32>, %v: tensor<2x2x8x16xf32>) -> tensor<2x4x2x16xf32> {
  %o = kiln.attention %q, %k, %v {scale = 2.500000e-01 : f32} : (tensor<2x4x2x16xf32>, tensor<2x2x8x16xf32>, tensor<2x2x8x16xf32>) -> tensor<2x4x2x16xf32>
  return %o : tensor<2x4x2x16xf32>
}

// Flash-decoding: one query row against 600 keys. The parallel loop runs
// over (head, 256-key chunk), 4 x 3 iterations; each writes its chunk's
// row max m, sum l and output acc. The merge takes the max M over the
// chunks, weighs each chunk by exp(m - M) and divides sum(w acc) by
// sum(w l).
// CHECK-LABEL: func.func @decode_chunks(
// CHECK-DAG: %[[C256:.+]] = arith.constant 256 : index
// CHECK: %[[PARTS:.+]]:3 = scf.forall (%[[H:.+]], %[[C:.+]]) in (4, 3) shared_outs({{.+}}) -> (tensor<1x4x3x1xf32>, tensor<1x4x3x1xf32>, tensor<1x4x3x1x16xf32>)
// CHECK: %[[J0:.+]] = arith.muli %[[C]], %[[C256]] : index
// CHECK: %[[TK:.+]] = arith.minsi %{{.+}}, %[[C256]] : index
// CHECK: tensor.extract_slice %arg1[0, %[[H]], %[[J0]], 0] [1, 1, %[[TK]], 16] [1, 1, 1, 1] : tensor<1x4x600x16xf32> to tensor<?x16xf32>
// The mask's chunk.
// CHECK: tensor.extract_slice %arg3[0, 0, 0, %[[J0]]] [1, 1, 1, %[[TK]]]
// CHECK: math.exp
// CHECK: tensor.parallel_insert_slice %{{.+}} into %{{.+}}[0, %[[H]], %[[C]], 0] [1, 1, 1, 1]
// CHECK: tensor.parallel_insert_slice %{{.+}} into %{{.+}}[0, %[[H]], %[[C]], 0] [1, 1, 1, 1]
// CHECK: tensor.parallel_insert_slice %{{.+}} into %{{.+}}[0, %[[H]], %[[C]], 0, 0] [1, 1, 1, 1, 16]
// M = max over the chunks.
// CHECK: %[[MAX:.+]] = linalg.generic {{.+}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[PARTS]]#0 : tensor<1x4x3x1xf32>)
// CHECK: arith.maxnumf
// w = exp(m - M), 0 for a chunk whose scores are all -inf.
// CHECK: %[[W:.+]] = linalg.generic {{.+}} ins(%[[PARTS]]#0, %[[MAX]] : tensor<1x4x3x1xf32>, tensor<1x4x1xf32>)
// CHECK: math.exp
// CHECK: %[[DEN:.+]] = linalg.generic {{.+}} ins(%[[W]], %[[PARTS]]#1 : tensor<1x4x3x1xf32>, tensor<1x4x3x1xf32>) outs(%{{.+}} : tensor<1x4x1xf32>)
// CHECK: %[[NUM:.+]] = linalg.generic {{.+}} ins(%[[W]], %[[PARTS]]#2 : tensor<1x4x3x1xf32>, tensor<1x4x3x1x16xf32>) outs(%{{.+}} : tensor<1x4x1x16xf32>)
// CHECK: %[[OUT:.+]] = linalg.generic {{.+}} ins(%[[NUM]], %[[DEN]] : tensor<1x4x1x16xf32>, tensor<1x4x1xf32>)
// CHECK: arith.divf
// CHECK: return %[[OUT]]
func.func @decode_chunks(%q: tensor<1x4x1x16xf32>, %k: tensor<1x4x600x16xf32>, %v: tensor<1x4x600x16xf32>, %m: tensor<1x1x1x600xf32>) -> tensor<1x4x1x16xf32> {
  %o = kiln.attention %q, %k, %v mask %m {scale = 2.500000e-01 : f32} : (tensor<1x4x1x16xf32>, tensor<1x4x600x16xf32>, tensor<1x4x600x16xf32>, tensor<1x1x1x600xf32>) -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// kiln.rotary: one elementwise op per half of the last dim, each writing its
// half of the result: x1 * cos1 - x2 * sin1, then x2 * cos2 + x1 * sin2.
// CHECK-LABEL: func.func @rotary(
// CHECK-DAG: %[[X1:.+]] = tensor.extract_slice %arg0[0, 0, 0, 0] [%{{.+}}, 4, %{{.+}}, 8]
// CHECK-DAG: %[[X2:.+]] = tensor.extract_slice %arg0[0, 0, 0, 8] [%{{.+}}, 4, %{{.+}}, 8]
// CHECK-DAG: %[[C1:.+]] = tensor.extract_slice %arg1[0, 0] [%{{.+}}, 8]
// CHECK-DAG: %[[S1:.+]] = tensor.extract_slice %arg2[0, 0] [%{{.+}}, 8]
// CHECK: %[[FIRST:.+]] = linalg.generic {{.+}} ins(%[[X1]], %[[X2]], %[[C1]], %[[S1]] :
// CHECK: arith.mulf
// CHECK: arith.mulf
// CHECK: arith.subf
// CHECK-DAG: %[[C2:.+]] = tensor.extract_slice %arg1[0, 8] [%{{.+}}, 8]
// CHECK-DAG: %[[S2:.+]] = tensor.extract_slice %arg2[0, 8] [%{{.+}}, 8]
// CHECK: %[[SECOND:.+]] = linalg.generic {{.+}} ins(%[[X2]], %[[X1]], %[[C2]], %[[S2]] :
// CHECK: arith.addf
// CHECK: %[[R1:.+]] = tensor.insert_slice %[[FIRST]] into %{{.+}}[0, 0, 0, 0]
// CHECK: %[[R2:.+]] = tensor.insert_slice %[[SECOND]] into %[[R1]][0, 0, 0, 8]
// CHECK: return %[[R2]]
func.func @rotary(%x: tensor<?x4x?x16xf32>, %cos: tensor<?x16xf32>, %sin: tensor<?x16xf32>) -> tensor<?x4x?x16xf32> {
  %r = kiln.rotary %x, %cos, %sin : (tensor<?x4x?x16xf32>, tensor<?x16xf32>, tensor<?x16xf32>) -> tensor<?x4x?x16xf32>
  return %r : tensor<?x4x?x16xf32>
}

// A query length known only at run time (one library for prefill and
// decoding): up to 16 query rows take flash-decoding, more rows the query
// tiles over K^T, 128 keys at a time (with a mask).
// CHECK-LABEL: func.func @dynamic_query_rows(
// CHECK: %[[SQ:.+]] = tensor.dim %arg0, %c2
// CHECK: %[[FEW:.+]] = arith.cmpi ule, %[[SQ]], %c16 : index
// CHECK: scf.if %[[FEW]] -> (tensor<1x2x?x16xf32>) {
// CHECK-NOT: linalg.transpose
// CHECK: scf.forall (%{{.+}}, %{{.+}}) in (2, %{{.+}}) shared_outs(
// CHECK: } else {
// CHECK: linalg.transpose
// CHECK: scf.forall (%{{.+}}, %{{.+}}) = (0, 0) to (2, %{{.+}}) step (1, 128)
// CHECK: scf.for %{{.+}} = %c0 to %{{.+}} step %c128
func.func @dynamic_query_rows(%q: tensor<1x2x?x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x16xf32>, %m: tensor<1x1x?x?xf32>) -> tensor<1x2x?x16xf32> {
  %o = kiln.attention %q, %k, %v mask %m {scale = 2.500000e-01 : f32} : (tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x1x?x?xf32>) -> tensor<1x2x?x16xf32>
  return %o : tensor<1x2x?x16xf32>
}
