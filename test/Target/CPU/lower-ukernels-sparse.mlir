// RUN: kiln-opt %s --kiln-cpu-lower-ukernels | FileCheck %s

// The strategy chose the block-sparse kernel for a constant rhs [k=3][n=20]
// (panels of 16 columns: 0-15 and 16-19) with one nonzero block per panel:
// (k=1, panel 0) holding 1.0 in column 0, (k=2, panel 1) holding 2.0 in
// column 17. Two new globals replace the weights: the int32 index (panel
// offsets 0, 1, 2, then the blocks' k: 1, 2) and the blocks' values
// [2][16], zero-padded past n; the call passes the index, then the values,
// where a dense product passes B and its strides.
// CHECK-NOT: memref.global "private" constant @weights :
// CHECK-DAG: memref.global "private" constant @weights_sparse_index : memref<5xi32> = dense_resource<weights_sparse_index> {alignment = 64 : i64}
// CHECK-DAG: memref.global "private" constant @weights_packed : memref<2x16xf32> = dense_resource<weights_packed> {alignment = 64 : i64}
// CHECK-LABEL: func.func @sparse_rhs
// CHECK: %[[INDEX:.+]] = memref.get_global @weights_sparse_index
// CHECK: %[[IBASE:.+]], %[[IOFF:.+]], %{{.+}}, %{{.+}} = memref.extract_strided_metadata %[[INDEX]]
// CHECK: %[[VALUES:.+]] = memref.get_global @weights_packed
// CHECK: %[[VBASE:.+]], %[[VOFF:.+]], %{{.+}}:2, %{{.+}}:2 = memref.extract_strided_metadata %[[VALUES]]
// CHECK: call @kiln_ukernel_sgemm_sparse_generic({{.*}}, %[[IBASE]], %[[IOFF]], %[[VBASE]], %[[VOFF]], {{.*}})
// CHECK: weights_sparse_index: "0x040000000000000001000000020000000100000002000000"
// CHECK: weights_packed: "0x040000000000803F
// CHECK-SAME: 00000000000000400000
memref.global "private" constant @weights : memref<3x20xf32> = dense<[[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0]]>
func.func @sparse_rhs(%a: memref<5x3xf32>, %c: memref<5x20xf32>) {
  %b = memref.get_global @weights : memref<3x20xf32>
  linalg.matmul {kiln.ukernel = {isa = "generic", kernel = "sgemm_sparse", pack_rhs = "compile-time", register_tile = array<i64: 4, 16>}}
      ins(%a, %b : memref<5x3xf32>, memref<3x20xf32>) outs(%c : memref<5x20xf32>)
  return
}
