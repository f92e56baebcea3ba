// RUN: kiln-opt %s --kiln-bind-kv-cache --split-input-file --verify-diagnostics | FileCheck %s

// A decoder layer's cache: present = Concat(past, new rows) along the
// sequence axis. The past input becomes the caller's buffer (sequence dim
// dynamic, the name kept, marked kiln.kv_cache), a kiln_past_length input is
// added, the graph reads past as the buffer's first kiln_past_length rows,
// the new rows go into the buffer there, present reads the first
// past + new rows, and the present output is gone.
// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME: %[[X:[^:]+]]: tensor<1x4x1x16xf32> {kiln.name = "x"}
// CHECK-SAME: %[[CACHE:[^:]+]]: tensor<1x4x?x16xf32> {kiln.kv_cache, kiln.name = "past_key_0"}
// CHECK-SAME: %[[LEN:[^:]+]]: tensor<1xi64> {kiln.name = "kiln_past_length"}
// CHECK-SAME: -> (tensor<1x4x1x16xf32> {kiln.name = "y"})
// CHECK-DAG: %[[ZERO:.+]] = kiln.constant dense<0> : tensor<1xi64>
// CHECK-DAG: %[[ONE:.+]] = kiln.constant dense<1> : tensor<1xi64>
// CHECK-DAG: %[[AXIS:.+]] = kiln.constant dense<2> : tensor<1xi64>
// CHECK: %[[PAST:.+]] = kiln.slice %[[CACHE]], %[[ZERO]], %[[LEN]], %[[AXIS]], %[[ONE]]
// CHECK: %[[ROWS:.+]] = kiln.shape %[[PAST]] {end = 3 : i64, start = 2 : i64}
// CHECK: %[[UPDATED:.+]] = kiln.cache_update %[[CACHE]], %[[X]], %[[LEN]] {axis = 2 : i64}
// CHECK: %[[NEW:.+]] = kiln.shape %[[X]] {end = 3 : i64, start = 2 : i64}
// CHECK: %[[TOTAL:.+]] = kiln.add %[[LEN]], %[[NEW]]
// CHECK: %[[PRESENT:.+]] = kiln.slice %[[UPDATED]], %[[ZERO]], %[[TOTAL]], %[[AXIS]], %[[ONE]] : {{.+}} -> tensor<1x4x?x16xf32>
// CHECK: kiln.attention %{{.+}}, %[[PRESENT]], %[[PRESENT]]
// CHECK: return %{{.+}} : tensor<1x4x1x16xf32>
func.func @main_graph(%x: tensor<1x4x1x16xf32> {kiln.name = "x"}, %past: tensor<1x4x?x16xf32> {kiln.name = "past_key_0"}) -> (tensor<1x4x1x16xf32> {kiln.name = "y"}, tensor<1x4x?x16xf32> {kiln.name = "present_key_0"}) {
  %rows = kiln.shape %past {start = 2 : i64, end = 3 : i64} : (tensor<1x4x?x16xf32>) -> tensor<1xi64>
  %present = kiln.concat %past, %x {axis = 2 : i64} : (tensor<1x4x?x16xf32>, tensor<1x4x1x16xf32>) -> tensor<1x4x?x16xf32>
  %y = kiln.attention %x, %present, %present {scale = 2.500000e-01 : f32} : (tensor<1x4x1x16xf32>, tensor<1x4x?x16xf32>, tensor<1x4x?x16xf32>) -> tensor<1x4x1x16xf32>
  return %y, %present : tensor<1x4x1x16xf32>, tensor<1x4x?x16xf32>
}

// -----

// Nothing to bind: an error, not a silently unchanged model.
// expected-error @+1 {{--bind-kv-cache: no output is a Concat of a graph input and new rows}}
func.func @main_graph(%x: tensor<2x3xf32> {kiln.name = "x"}) -> (tensor<2x3xf32> {kiln.name = "y"}) {
  %y = kiln.relu %x : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %y : tensor<2x3xf32>
}

// -----

// The added input's name is taken.
// expected-error @+1 {{--bind-kv-cache adds an input named 'kiln_past_length', which the model already has}}
func.func @main_graph(%x: tensor<1x4x1x16xf32> {kiln.name = "x"}, %past: tensor<1x4x?x16xf32> {kiln.name = "past"}, %n: tensor<1xi64> {kiln.name = "kiln_past_length"}) -> (tensor<1x4x?x16xf32> {kiln.name = "present"}) {
  %present = kiln.concat %past, %x {axis = 2 : i64} : (tensor<1x4x?x16xf32>, tensor<1x4x1x16xf32>) -> tensor<1x4x?x16xf32>
  return %present : tensor<1x4x?x16xf32>
}
