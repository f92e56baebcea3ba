// RUN: kiln-opt %s --kiln-record-signature --split-input-file --verify-diagnostics | FileCheck %s

// kiln-record-signature (ModelABI.cpp): the model function's inputs and
// outputs, with their ONNX names and kiln types (unsigned ones included), go
// into the module attribute kiln.signature; the function asks for its C
// interface.

// Names come from kiln.name; a tensor without one is named "#<index>" (inputs
// and outputs counted separately). Dynamic dims, ui8 and bool stay as they
// are. Other functions and the body are left alone.
// CHECK-LABEL: module attributes {kiln.signature = {function = "main_graph", inputs = [{name = "X", type = tensor<1x2x?x4xf32>}, {name = "#1", type = tensor<3xui8>}], outputs = [{name = "Y", type = tensor<1x2x?x4xf32>}, {name = "#1", type = tensor<3xi1>}]}}
// The inputs belong to the caller: bufferization must not write them.
// CHECK: func.func @main_graph(%{{[^:]+}}: tensor<1x2x?x4xf32> {bufferization.writable = false, kiln.name = "X"}, %{{[^:]+}}: tensor<3xui8> {bufferization.writable = false}) -> (tensor<1x2x?x4xf32> {kiln.name = "Y"}, tensor<3xi1>) attributes {llvm.emit_c_interface}
// CHECK: kiln.relu
// CHECK: kiln.cast
// CHECK: func.func @helper(%{{[^:]+}}: tensor<f32>) -> tensor<f32> {
func.func @main_graph(%x: tensor<1x2x?x4xf32> {kiln.name = "X"}, %y: tensor<3xui8>)
    -> (tensor<1x2x?x4xf32> {kiln.name = "Y"}, tensor<3xi1>) {
  %0 = kiln.relu %x : (tensor<1x2x?x4xf32>) -> tensor<1x2x?x4xf32>
  %1 = kiln.cast %y {to = i1} : (tensor<3xui8>) -> tensor<3xi1>
  return %0, %1 : tensor<1x2x?x4xf32>, tensor<3xi1>
}
func.func @helper(%x: tensor<f32>) -> tensor<f32> {
  return %x : tensor<f32>
}

// -----

// Every element type the runtime knows, all unnamed.
// CHECK-LABEL: module attributes {kiln.signature = {function = "main_graph", inputs = [{name = "#0", type = tensor<f64>}, {name = "#1", type = tensor<2xf16>}, {name = "#2", type = tensor<2xbf16>}, {name = "#3", type = tensor<2xi8>}, {name = "#4", type = tensor<2xui16>}, {name = "#5", type = tensor<2xi16>}, {name = "#6", type = tensor<2xi32>}, {name = "#7", type = tensor<2xui32>}, {name = "#8", type = tensor<2xui64>}, {name = "#9", type = tensor<?xi64>}], outputs = [{name = "#0", type = tensor<?xi64>}]}}
// CHECK: func.func @main_graph({{.*}}) -> tensor<?xi64> attributes {llvm.emit_c_interface}
func.func @main_graph(%a: tensor<f64>, %b: tensor<2xf16>, %c: tensor<2xbf16>, %d: tensor<2xi8>, %e: tensor<2xui16>,
                      %f: tensor<2xi16>, %g: tensor<2xi32>, %h: tensor<2xui32>, %i: tensor<2xui64>, %j: tensor<?xi64>)
    -> tensor<?xi64> {
  return %j : tensor<?xi64>
}

// -----

// expected-error @+1 {{no function 'main_graph' to compile}}
module {
  func.func @forward(%x: tensor<2xf32>) -> tensor<2xf32> {
    return %x : tensor<2xf32>
  }
}

// -----

// expected-error @+1 {{cannot pass 'tensor<*xf32>' across the model's C ABI}}
func.func @main_graph(%x: tensor<*xf32>) -> tensor<*xf32> {
  return %x : tensor<*xf32>
}

// -----

// expected-error @+1 {{cannot pass 'tensor<3xcomplex<f32>>' across the model's C ABI}}
func.func @main_graph(%x: tensor<3xf32>, %y: tensor<3xcomplex<f32>>) -> tensor<3xf32> {
  return %x : tensor<3xf32>
}

// -----

// expected-error @+1 {{cannot pass 'i64' across the model's C ABI}}
func.func @main_graph(%x: tensor<3xf32>, %n: i64) -> tensor<3xf32> {
  return %x : tensor<3xf32>
}

// -----

// Results are checked too.
// expected-error @+1 {{cannot pass 'tensor<3xi4>' across the model's C ABI}}
func.func @main_graph(%x: tensor<3xf32>) -> tensor<3xi4> {
  %0 = tensor.empty() : tensor<3xi4>
  return %0 : tensor<3xi4>
}


// -----

// A sequence and an optional cross the ABI as their parts: kiln.part goes
// into the signature with the name.
// CHECK-LABEL: module attributes {kiln.signature = {function = "main_graph", inputs = [{name = "s", part = "sequence_elements", type = tensor<?xf32>}, {name = "s", part = "sequence_shapes", type = tensor<?x2xi64>}], outputs = [{name = "o", part = "optional_present", type = tensor<i1>}, {name = "o", part = "tensor", type = tensor<?xf32>}]}}
func.func @main_graph(%values: tensor<?xf32> {kiln.name = "s", kiln.part = "sequence_elements"}, %shapes: tensor<?x2xi64> {kiln.name = "s", kiln.part = "sequence_shapes"})
    -> (tensor<i1> {kiln.name = "o", kiln.part = "optional_present"}, tensor<?xf32> {kiln.name = "o", kiln.part = "tensor"}) {
  %present = arith.constant dense<true> : tensor<i1>
  return %present, %values : tensor<i1>, tensor<?xf32>
}
