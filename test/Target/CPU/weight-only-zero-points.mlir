// RUN: kiln-opt %s --convert-kiln-to-linalg -canonicalize | FileCheck %s --check-prefix=LINALG
// RUN: kiln-opt %s --pass-pipeline='builtin.module(convert-kiln-to-linalg, canonicalize, func.func(kiln-cpu-select-kernels{isa=avx512}))' | FileCheck %s --check-prefix=SELECT
// RUN: kiln-opt %s --kiln-to-llvm='isa=avx512' --mlir-print-ir-after=kiln-cpu-lower-ukernels -o /dev/null 2>&1 | FileCheck %s --check-prefix=CALL

// An asymmetric weight-only weight (kiln-quantize-weights with 4 bits):
// 4 x 2 integers in groups of 2 k, with a scale and a zero point per group
// and column. The product reads both:
// acc + x * ((sitofp(q) - sitofp(z)) * s), z indexed as s.
// LINALG-DAG: #[[S:.+]] = affine_map<(d0, d1, d2, d3) -> (d3 floordiv 2, d2)>
// LINALG: linalg.generic {indexing_maps = [#{{.+}}, #{{.+}}, #[[S]], #[[S]], #{{.+}}], {{.+}} ins(%arg0, %{{.+}}, %{{.+}}, %{{.+}} : tensor<?x?x4xf32>, tensor<4x2xi8>, tensor<2x2xf32>, tensor<2x2xi8>)
// LINALG: %[[Q:.+]] = arith.sitofp %{{.+}} : i8 to f32
// LINALG: %[[Z:.+]] = arith.sitofp %{{.+}} : i8 to f32
// LINALG: %[[D:.+]] = arith.subf %[[Q]], %[[Z]] : f32
// LINALG: %[[W:.+]] = arith.mulf %[[D]], %{{.+}} : f32
// LINALG: %[[P:.+]] = arith.mulf %{{.+}}, %[[W]] : f32
// LINALG: arith.addf %{{.+}}, %[[P]] : f32

// SELECT: kiln.ukernel = {isa = "avx512", kernel = "sgemm_wq", pack_rhs = "compile-time"

// The kernel gets asymmetric = 1 (after the scales) and, in each scale's
// slot of the panel [1][2][16], the bfloat16 scale (low half) and offset
// -z * scale (high half), little-endian: group 0 column 0 scale 0.5
// (3F00) and offset -1.0 (BF80), column 1 0.25 (3E80) and -0.0 (8000);
// group 1 column 0 2.0 (4000) and 2.0 (4000), column 1 1.0 (3F80) and
// -3.0 (C040).
// CALL-DAG: memref.global "private" constant @[[SP:.+_packed]] : memref<1x2x16xf32>
// CALL: memref.get_global @[[SP]] : memref<1x2x16xf32>
// CALL: call @kiln_ukernel_sgemm_wq_avx512({{.+}}, %c4, %c2, %{{.+}}, %{{.+}}, %c1, %{{.+}}, %{{.+}}, %c0, %{{.+}}, %{{.+}}, %{{.+}}, %c0) :
// CALL: [[SP]]: "0x04000000003F80BF803E0080{{(0000000000000000)+}}00400040803F40C0{{(00)+}}"
func.func @main_graph(%x: tensor<?x?x4xf32>) -> tensor<?x?x2xf32> {
  %q = kiln.constant dense<[[1, 2], [3, 4], [-5, 6], [7, -8]]> : tensor<4x2xi8>
  %s = kiln.constant dense<[[0.5, 0.25], [2.0, 1.0]]> : tensor<2x2xf32>
  %z = kiln.constant dense<[[2, 0], [-1, 3]]> : tensor<2x2xi8>
  %w = kiln.dequantize_blocks %q, %s zero_point %z {axis = 0 : i64, block_size = 2 : i64} : (tensor<4x2xi8>, tensor<2x2xf32>, tensor<2x2xi8>) -> tensor<4x2xf32>
  %y = kiln.matmul %x, %w : (tensor<?x?x4xf32>, tensor<4x2xf32>) -> tensor<?x?x2xf32>
  return %y : tensor<?x?x2xf32>
}

// Where no product reads it, dequantize_blocks is its own elementwise op:
// (sitofp(q) - sitofp(z)) * s.
// LINALG-LABEL: func.func @dequantize(
// LINALG: linalg.generic {{.+}} ins(%{{.+}}, %{{.+}}, %{{.+}} : tensor<4x2xi8>, tensor<2x2xf32>, tensor<2x2xi8>)
// LINALG: %[[Q:.+]] = arith.sitofp %{{.+}} : i8 to f32
// LINALG: %[[Z:.+]] = arith.sitofp %{{.+}} : i8 to f32
// LINALG: %[[D:.+]] = arith.subf %[[Q]], %[[Z]] : f32
// LINALG: arith.mulf %[[D]], %{{.+}} : f32
func.func @dequantize(%q: tensor<4x2xi8>, %s: tensor<2x2xf32>, %z: tensor<2x2xi8>) -> tensor<4x2xf32> {
  %w = kiln.dequantize_blocks %q, %s zero_point %z {axis = 0 : i64, block_size = 2 : i64} : (tensor<4x2xi8>, tensor<2x2xf32>, tensor<2x2xi8>) -> tensor<4x2xf32>
  return %w : tensor<4x2xf32>
}
