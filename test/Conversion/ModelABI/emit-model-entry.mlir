// RUN: kiln-opt %s --kiln-emit-model-entry --split-input-file --verify-diagnostics | FileCheck %s

// kiln-emit-model-entry (ModelABI.cpp), on a module already in the LLVM
// dialect: kiln_model_signature describes the tensors to the runtime, one
// line each, "input|output DTYPE RANK DIM... NAMELENGTH NAME" (ONNX dtype
// codes, -1 for a dynamic dim); kiln_model_entry(void **args) loads args[0]
// (the results) and args[1..] (the inputs) and calls the C interface, which
// becomes internal together with the model function.

// CHECK-LABEL: module attributes {kiln.signature
// CHECK: llvm.func internal @main_graph(%{{[^:]+}}: !llvm.ptr) {
// CHECK: llvm.func internal @_mlir_ciface_main_graph(%{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr, %{{[^:]+}}: !llvm.ptr) attributes {llvm.emit_c_interface} {
// CHECK: llvm.mlir.global external constant @kiln_model_signature("kiln-signature 2\0Ainput 0 1 4 1 2 -1 4 1 X\0Ainput 0 2 1 3 2 #1\0Aoutput 0 7 1 -1 1 Y\0A\00") {addr_space = 0 : i32}
// CHECK: llvm.func @kiln_model_entry(%[[ARGS:[^:]+]]: !llvm.ptr) {
// CHECK-NEXT: %[[P0:.+]] = llvm.getelementptr %[[ARGS]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[RESULTS:.+]] = llvm.load %[[P0]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: %[[P1:.+]] = llvm.getelementptr %[[ARGS]][1] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[X:.+]] = llvm.load %[[P1]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: %[[P2:.+]] = llvm.getelementptr %[[ARGS]][2] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[U:.+]] = llvm.load %[[P2]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: llvm.call @_mlir_ciface_main_graph(%[[RESULTS]], %[[X]], %[[U]]) : (!llvm.ptr, !llvm.ptr, !llvm.ptr) -> ()
// CHECK-NEXT: llvm.return
module attributes {kiln.signature = {function = "main_graph",
    inputs = [{name = "X", type = tensor<1x2x?x4xf32>}, {name = "#1", type = tensor<3xui8>}],
    outputs = [{name = "Y", type = tensor<?xi64>}]}} {
  // The argument attributes (here a leftover kiln.name) are dropped.
  llvm.func @main_graph(%arg0: !llvm.ptr {kiln.name = "X"}) {
    llvm.return
  }
  llvm.func @_mlir_ciface_main_graph(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr) attributes {llvm.emit_c_interface} {
    llvm.return
  }
}

// -----

// Another function name, a name with a space (names are length-prefixed),
// several outputs (still one results pointer), bool, f16, bf16 and a 0-d
// tensor; the model function itself need not be there.
// CHECK-LABEL: module attributes {kiln.signature
// CHECK: llvm.func internal @_mlir_ciface_encoder(
// CHECK: llvm.mlir.global external constant @kiln_model_signature("kiln-signature 2\0Ainput 0 7 2 1 -1 9 input ids\0Aoutput 0 9 2 1 -1 4 mask\0Aoutput 0 10 0 1 h\0Aoutput 0 16 1 2 2 #2\0A\00")
// CHECK: llvm.func @kiln_model_entry(%[[ARGS:[^:]+]]: !llvm.ptr) {
// CHECK-COUNT-2: llvm.load
// CHECK-NEXT: llvm.call @_mlir_ciface_encoder(%{{.+}}, %{{.+}}) : (!llvm.ptr, !llvm.ptr) -> ()
module attributes {kiln.signature = {function = "encoder",
    inputs = [{name = "input ids", type = tensor<1x?xi64>}],
    outputs = [{name = "mask", type = tensor<1x?xi1>}, {name = "h", type = tensor<f16>}, {name = "#2", type = tensor<2xbf16>}]}} {
  llvm.func @_mlir_ciface_encoder(%arg0: !llvm.ptr, %arg1: !llvm.ptr) {
    llvm.return
  }
}

// -----

// expected-error @+1 {{no kiln.signature: run kiln-record-signature first}}
module {
  llvm.func @main_graph() {
    llvm.return
  }
}

// -----

// expected-error @+1 {{no _mlir_ciface_main_graph: the model function was not lowered with its C interface}}
module attributes {kiln.signature = {function = "main_graph", inputs = [], outputs = [{name = "Y", type = tensor<2xf32>}]}} {
  llvm.func @main_graph() {
    llvm.return
  }
}

// -----

// expected-error @+1 {{_mlir_ciface_main_graph takes 1 arguments; expected the results pointer and 1 inputs}}
module attributes {kiln.signature = {function = "main_graph", inputs = [{name = "X", type = tensor<2xf32>}], outputs = [{name = "Y", type = tensor<2xf32>}]}} {
  llvm.func @_mlir_ciface_main_graph(%arg0: !llvm.ptr) {
    llvm.return
  }
}

// -----

// A module kiln-profile-kernels instrumented: its kernel names, one per
// line, become kiln_model_profile_kernels, and the attribute goes.
// CHECK-LABEL: module attributes {kiln.signature
// CHECK-NOT: kiln.profile_kernels
// CHECK: llvm.mlir.global external constant @kiln_model_profile_kernels("conv1 +1 [Conv+Relu]\0Apool [MaxPool]\0A\00")
module attributes {kiln.profile_kernels = ["conv1 +1 [Conv+Relu]", "pool [MaxPool]"],
    kiln.signature = {function = "main_graph", inputs = [], outputs = []}} {
  llvm.func @_mlir_ciface_main_graph(%arg0: !llvm.ptr) {
    llvm.return
  }
}

// -----

// Parts of sequences and optionals: "input|output PART ...", PART being
// kiln_part's number (1 and 2: a sequence's values and shapes, 3: an
// optional's flag).
// CHECK-LABEL: module attributes {kiln.signature
// CHECK: llvm.mlir.global external constant @kiln_model_signature("kiln-signature 2\0Ainput 1 1 1 -1 1 s\0Ainput 2 7 2 -1 2 1 s\0Aoutput 3 9 0 1 o\0Aoutput 0 1 1 -1 1 o\0A\00")
module attributes {kiln.signature = {function = "main_graph",
    inputs = [{name = "s", part = "sequence_elements", type = tensor<?xf32>}, {name = "s", part = "sequence_shapes", type = tensor<?x2xi64>}],
    outputs = [{name = "o", part = "optional_present", type = tensor<i1>}, {name = "o", part = "tensor", type = tensor<?xf32>}]}} {
  llvm.func @_mlir_ciface_main_graph(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr) {
    llvm.return
  }
}
