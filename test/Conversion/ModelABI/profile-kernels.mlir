// RUN: kiln-opt %s --kiln-profile-kernels --split-input-file --verify-diagnostics | FileCheck %s

// kiln-profile-kernels (ProfileKernels.cpp): the model function's work is
// split into kernels by the ONNX nodes it came from (locations
// fused<"onnx.TYPE">["NAME"]). Consecutive work of the same nodes is one
// kernel, even across an allocation; allocations and views alone are not
// timed; work without an ONNX node is named after its operation. A kernel
// whose nodes come back later reuses its id.

// CHECK-LABEL: module attributes
// CHECK-SAME: kiln.profile_kernel_nodes = {{\[}}["conv1", "relu1"], ["pool"], []]
// CHECK-SAME: kiln.profile_kernels = ["conv1 +1 [Conv+Relu]", "pool [MaxPool]", "(memref.copy)"]
// CHECK: func.func private @kiln_profile_begin(i32)
// CHECK: func.func private @kiln_profile_end(i32)
// CHECK: func.func @main_graph
// CHECK-NEXT: %[[A:.+]] = memref.alloc
// CHECK-NEXT: %[[C0:.+]] = arith.constant 0 : i32
// CHECK-NEXT: call @kiln_profile_begin(%[[C0]])
// CHECK-NEXT: call @kiln_ukernel_conv
// CHECK-NEXT: memref.alloc
// CHECK-NEXT: linalg.generic
// CHECK: linalg.yield
// CHECK-NEXT: }
// CHECK-NEXT: call @kiln_profile_end(%[[C0]])
// CHECK: %[[C1:.+]] = arith.constant 1 : i32
// CHECK-NEXT: call @kiln_profile_begin(%[[C1]])
// CHECK-NEXT: scf.for
// CHECK: memref.store
// CHECK-NEXT: }
// CHECK-NEXT: call @kiln_profile_end(%[[C1]])
// CHECK: %[[C0B:.+]] = arith.constant 0 : i32
// CHECK-NEXT: call @kiln_profile_begin(%[[C0B]])
// CHECK-NEXT: linalg.fill
// CHECK-NEXT: call @kiln_profile_end(%[[C0B]])
// CHECK-NEXT: %[[C2:.+]] = arith.constant 2 : i32
// CHECK-NEXT: call @kiln_profile_begin(%[[C2]])
// CHECK-NEXT: memref.copy
// CHECK-NEXT: call @kiln_profile_end(%[[C2]])
// CHECK-NEXT: return
// Other functions are not instrumented.
// CHECK: func.func @helper
// CHECK-NOT: kiln_profile
// CHECK: return
#conv = loc(fused<"onnx.Conv">["conv1"])
#relu = loc(fused<"onnx.Relu">["relu1"])
#pool = loc(fused<"onnx.MaxPool">["pool"])
module attributes {kiln.signature = {function = "main_graph", inputs = [], outputs = []}} {
  func.func private @kiln_ukernel_conv(memref<4xf32>)
  func.func @main_graph(%arg0: memref<4xf32>, %out: memref<4xf32>) {
    %a = memref.alloc() : memref<4xf32> loc(#conv)
    call @kiln_ukernel_conv(%a) : (memref<4xf32>) -> () loc(fused[#conv, #relu])
    %b = memref.alloc() : memref<4xf32> loc(fused[#conv, #relu])
    linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
        ins(%a : memref<4xf32>) outs(%b : memref<4xf32>) {
    ^bb0(%x: f32, %y: f32):
      %c = arith.constant 0.0 : f32
      %r = arith.maximumf %x, %c : f32
      linalg.yield %r : f32
    } loc(fused[#conv, #relu])
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c1 = arith.constant 1 : index
    scf.for %i = %c0 to %c4 step %c1 {
      %v = memref.load %b[%i] : memref<4xf32>
      memref.store %v, %out[%i] : memref<4xf32>
    } loc(#pool)
    %zero = arith.constant 0.0 : f32
    linalg.fill ins(%zero : f32) outs(%a : memref<4xf32>) loc(fused[#conv, #relu])
    memref.copy %b, %out : memref<4xf32> to memref<4xf32>
    return
  }
  func.func @helper(%arg0: memref<4xf32>) {
    %zero = arith.constant 0.0 : f32
    linalg.fill ins(%zero : f32) outs(%arg0 : memref<4xf32>) loc(#conv)
    return
  }
}

// -----

// expected-error @+1 {{kiln-profile-kernels: no model function (run kiln-record-signature first)}}
module {
  func.func @main_graph() {
    return
  }
}
