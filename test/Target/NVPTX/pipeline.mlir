// RUN: kiln-opt %s --kiln-linalg-to-nvptx='format=isa gpu-arch=sm_80' | FileCheck %s
// REQUIRES: cuda-toolkit

// The whole codegen stage of --target=cuda on a small model: one kernel
// module compiled to PTX for the architecture (exp through libdevice), and
// host code that allocates through the runtime, reads the weights through
// their device copies, launches each kernel on the thread's stream (the
// launch becomes driver calls when translated to LLVM IR) and waits for
// them before it returns.
// CHECK-LABEL: llvm.func internal @main_graph(
// CHECK: llvm.call @kiln_cuda_constant
// CHECK: llvm.call @_mlir_memref_to_llvm_alloc
// CHECK: %[[STREAM:.*]] = llvm.call @mgpuStreamCreate()
// CHECK: gpu.launch_func <%[[STREAM]] : !llvm.ptr> @kiln_kernels::@main_graph_kernel blocks
// CHECK: llvm.call @mgpuStreamSynchronize(%[[STREAM]])
// CHECK-NEXT: llvm.call @mgpuStreamDestroy(%[[STREAM]])
// CHECK-NEXT: llvm.return
// CHECK: gpu.binary @kiln_kernels
// CHECK-SAME: #nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">
// CHECK-SAME: .target sm_80
// CHECK-SAME: .visible .entry main_graph_kernel(
// CHECK-SAME: ex2.approx
// CHECK: llvm.func @kiln_model_entry
#map = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d1)>
module attributes {kiln.signature = {function = "main_graph", inputs = [{name = "x", type = tensor<?x4xf32>}], outputs = [{name = "y", type = tensor<?x4xf32>}]}} {
  func.func @main_graph(%x: tensor<?x4xf32> {bufferization.writable = false, kiln.name = "x"}) -> (tensor<?x4xf32> {kiln.name = "y"}) attributes {llvm.emit_c_interface} {
    %c0 = arith.constant 0 : index
    %bias = arith.constant dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>
    %n = tensor.dim %x, %c0 : tensor<?x4xf32>
    %empty = tensor.empty(%n) : tensor<?x4xf32>
    %y = linalg.generic {indexing_maps = [#map, #row, #map], iterator_types = ["parallel", "parallel"]} ins(%x, %bias : tensor<?x4xf32>, tensor<4xf32>) outs(%empty : tensor<?x4xf32>) {
    ^bb0(%a: f32, %b: f32, %out: f32):
      %s = arith.addf %a, %b : f32
      %e = math.exp %s : f32
      linalg.yield %e : f32
    } -> tensor<?x4xf32>
    return %y : tensor<?x4xf32>
  }
}
