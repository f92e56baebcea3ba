// RUN: kiln-opt %s --kiln-gpu-async-launches | FileCheck %s

// Launches follow each other on one stream while the host allocates and
// computes indices; the host waits before it reads memory and before it
// returns.
// CHECK-LABEL: func.func @chain
// CHECK: %[[T0:.*]] = gpu.wait async
// CHECK: %[[T1:.*]] = gpu.launch_func async [%[[T0]]] @kernels::@a
// CHECK: memref.alloc
// CHECK: arith.addi
// CHECK: %[[T2:.*]] = gpu.launch_func async [%[[T1]]] @kernels::@b
// CHECK-NEXT: gpu.wait [%[[T2]]]
// CHECK-NEXT: memref.load
// CHECK: %[[T3:.*]] = gpu.wait async
// CHECK: %[[T4:.*]] = gpu.launch_func async [%[[T3]]] @kernels::@a
// CHECK: memref.dealloc
// CHECK-NEXT: gpu.wait [%[[T4]]]
// CHECK-NEXT: return

// A launch inside a branch waits at the end of the branch; the host waits
// for earlier launches before entering it.
// CHECK-LABEL: func.func @branch
// CHECK: %[[L:.*]] = gpu.launch_func async
// CHECK-NEXT: gpu.wait [%[[L]]]
// CHECK-NEXT: scf.if
// CHECK: %[[I:.*]] = gpu.launch_func async
// CHECK-NEXT: gpu.wait [%[[I]]]
// CHECK-NEXT: }
module attributes {gpu.container_module} {
  gpu.module @kernels {
    gpu.func @a(%x: memref<4xf32>) kernel {
      gpu.return
    }
    gpu.func @b(%x: memref<4xf32>) kernel {
      gpu.return
    }
  }
  func.func @chain(%x: memref<4xf32>, %i: index) -> f32 {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@a blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    %t = memref.alloc() : memref<4xf32>
    %j = arith.addi %i, %c1 : index
    gpu.launch_func @kernels::@b blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%t : memref<4xf32>)
    %v = memref.load %t[%j] : memref<4xf32>
    gpu.launch_func @kernels::@a blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%t : memref<4xf32>)
    memref.dealloc %t : memref<4xf32>
    return %v : f32
  }
  func.func @branch(%x: memref<4xf32>, %c: i1) {
    %c1 = arith.constant 1 : index
    gpu.launch_func @kernels::@a blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    scf.if %c {
      gpu.launch_func @kernels::@b blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%x : memref<4xf32>)
    }
    return
  }
}
