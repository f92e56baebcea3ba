// RUN: kiln-opt %s --kiln-record-signature --convert-kiln-to-linalg --one-shot-bufferize=bufferize-function-boundaries | FileCheck %s --check-prefix=BUFFERS

// An op whose destination is an input (ScatterND's data) gets a copy of it
// from bufferization; the caller's buffer is never written.
// BUFFERS-LABEL: func.func @main_graph(
// BUFFERS-SAME: %[[DATA:[^:]+]]: memref<4x3xf32{{.*}} {kiln.name = "data"}
// BUFFERS: %[[COPY:.+]] = memref.alloc()
// BUFFERS: memref.copy %[[DATA]], %[[COPY]]
// BUFFERS: memref.store
// BUFFERS-NOT: memref.store %{{.+}}, %[[DATA]]
func.func @main_graph(%data: tensor<4x3xf32> {kiln.name = "data"}, %upd: tensor<1x3xf32> {kiln.name = "upd"}) -> (tensor<4x3xf32> {kiln.name = "out"}) {
  %idx = kiln.constant dense<2> : tensor<1x1xi64>
  %0 = kiln.scatter_nd %data, %idx, %upd : (tensor<4x3xf32>, tensor<1x1xi64>, tensor<1x3xf32>) -> tensor<4x3xf32>
  return %0 : tensor<4x3xf32>
}
