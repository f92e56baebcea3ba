// RUN: kiln-opt %s --convert-kiln-to-linalg -canonicalize | FileCheck %s --check-prefix=LINALG
// RUN: kiln-opt %s --pass-pipeline='builtin.module(convert-kiln-to-linalg, canonicalize, func.func(kiln-cpu-select-kernels{isa=avx512}))' | FileCheck %s --check-prefix=SELECT
// RUN: kiln-opt %s --kiln-to-llvm='isa=avx512' --mlir-print-ir-after=kiln-cpu-lower-ukernels -o /dev/null 2>&1 | FileCheck %s --check-prefix=CALL

// A matmul of a weight-only quantized weight (kiln-quantize-weights):
// 4 x 3 integers in groups of 2 k. The product reads the integers and the
// scale of their group: acc + x * (sitofp(q) * s[k floordiv 2][n]).
// LINALG-DAG: #[[Q:.+]] = affine_map<(d0, d1, d2, d3) -> (d3, d2)>
// LINALG-DAG: #[[S:.+]] = affine_map<(d0, d1, d2, d3) -> (d3 floordiv 2, d2)>
// LINALG: linalg.generic {indexing_maps = [#{{.+}}, #[[Q]], #[[S]], #{{.+}}], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%arg0, %{{.+}}, %{{.+}} : tensor<?x?x4xf32>, tensor<4x3xi8>, tensor<2x3xf32>)
// LINALG: %[[F:.+]] = arith.sitofp %{{.+}} : i8 to f32
// LINALG: %[[W:.+]] = arith.mulf %[[F]], %{{.+}} : f32
// LINALG: %[[P:.+]] = arith.mulf %{{.+}}, %[[W]] : f32
// LINALG: arith.addf %{{.+}}, %[[P]] : f32

// The strategy gives it the weight-only kernel, weights packed now.
// SELECT: kiln.ukernel = {isa = "avx512", kernel = "sgemm_wq", pack_rhs = "compile-time"

// Every value fits in 4 bits, so they are packed two a byte: one panel of
// 16 columns, k / 2 = 2 rows of 16 bytes (32), k = 2r in the low nibble;
// the scales in the panel's layout [1][2][16]. The call passes the batch
// (1, d0), m, n = 3, k = 4, A's strides, the weights with bits = 4 and
// group = 2, the scales, asymmetric = 0, C and its strides, and
// accumulate = 0 (the zero fill is dropped).
// CALL-DAG: memref.global "private" constant @[[QP:.+_packed]] : memref<32xi8> = dense_resource<[[QP]]> {alignment = 64 : i64}
// CALL-DAG: memref.global "private" constant @[[SP:.+_packed]] : memref<1x2x16xf32>
// CALL: memref.get_global @[[QP]] : memref<32xi8>
// CALL: memref.get_global @[[SP]] : memref<1x2x16xf32>
// CALL: call @kiln_ukernel_sgemm_wq_avx512(%c1, %{{.+}}, %{{.+}}, %c3, %c4, {{.+}}, %c4, %c2, {{.+}}, %c0) :
// CALL-NOT: linalg.generic
// Row 0 (k = 0, 1): 1 | 4 << 4, 2 | 5 << 4, 3 | 6 << 4; row 1 (k = 2, 3):
// -7 | 0, -8 | 1 << 4, 7 | -1 << 4, each row padded to 16 bytes.
// CALL: [[QP]]: "0x01000000415263000000000000000000000000000918F700000000000000000000000000"
func.func @main_graph(%x: tensor<?x?x4xf32>) -> tensor<?x?x3xf32> {
  %q = kiln.constant dense<[[1, 2, 3], [4, 5, 6], [-7, -8, 7], [0, 1, -1]]> : tensor<4x3xi8>
  %s = kiln.constant dense<[[0.5, 0.25, 1.0], [2.0, 0.125, 0.5]]> : tensor<2x3xf32>
  %w = kiln.dequantize_blocks %q, %s {axis = 0 : i64, block_size = 2 : i64} : (tensor<4x3xi8>, tensor<2x3xf32>) -> tensor<4x3xf32>
  %y = kiln.matmul %x, %w : (tensor<?x?x4xf32>, tensor<4x3xf32>) -> tensor<?x?x3xf32>
  return %y : tensor<?x?x3xf32>
}
