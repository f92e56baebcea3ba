// RUN: kiln-opt %s --split-input-file --verify-diagnostics | kiln-opt --split-input-file | FileCheck %s

// kiln.flash_attention on tensors (a result, written into the init) and on
// buffers (none); it prints and parses back.
// CHECK-LABEL: func.func @on_tensors(
// CHECK: %[[O:.+]] = kiln.flash_attention ins(%arg0, %arg1, %arg2 : tensor<1x2x40x8xf32>, tensor<1x2x50x8xf32>, tensor<1x2x50x4xf32>) mask(%arg3 : tensor<40x50xi1>) outs(%arg4 : tensor<1x2x40x4xf32>) {mask_fill = -1.000000e+04 : f32, scale = 5.000000e-01 : f32} -> tensor<1x2x40x4xf32>
// CHECK: return %[[O]]
func.func @on_tensors(%q: tensor<1x2x40x8xf32>, %k: tensor<1x2x50x8xf32>, %v: tensor<1x2x50x4xf32>, %m: tensor<40x50xi1>, %init: tensor<1x2x40x4xf32>) -> tensor<1x2x40x4xf32> {
  %o = kiln.flash_attention ins(%q, %k, %v : tensor<1x2x40x8xf32>, tensor<1x2x50x8xf32>, tensor<1x2x50x4xf32>) mask(%m : tensor<40x50xi1>) outs(%init : tensor<1x2x40x4xf32>) {mask_fill = -1.0e4 : f32, scale = 0.5 : f32} -> tensor<1x2x40x4xf32>
  return %o : tensor<1x2x40x4xf32>
}

// -----

// CHECK-LABEL: func.func @on_buffers(
// CHECK: kiln.flash_attention ins(%arg0, %arg1, %arg2 : memref<2x40x8xf32>, memref<2x50x8xf32>, memref<2x50x8xf32>) outs(%arg3 : memref<2x40x8xf32>) {scale = 5.000000e-01 : f32}
// CHECK-NEXT: return
func.func @on_buffers(%q: memref<2x40x8xf32>, %k: memref<2x50x8xf32>, %v: memref<2x50x8xf32>, %out: memref<2x40x8xf32>) {
  kiln.flash_attention ins(%q, %k, %v : memref<2x40x8xf32>, memref<2x50x8xf32>, memref<2x50x8xf32>) outs(%out : memref<2x40x8xf32>) {scale = 0.5 : f32}
  return
}

// -----

func.func @mixed(%q: tensor<2x40x8xf32>, %k: tensor<2x50x8xf32>, %v: tensor<2x50x8xf32>, %out: memref<2x40x8xf32>) {
  // expected-error @+1 {{operands must be all tensors or all buffers}}
  kiln.flash_attention ins(%q, %k, %v : tensor<2x40x8xf32>, tensor<2x50x8xf32>, tensor<2x50x8xf32>) outs(%out : memref<2x40x8xf32>) {scale = 0.5 : f32}
  return
}

// -----

func.func @fill_without_bool(%q: tensor<2x40x8xf32>, %k: tensor<2x50x8xf32>, %v: tensor<2x50x8xf32>, %m: tensor<40x50xf32>, %init: tensor<2x40x8xf32>) -> tensor<2x40x8xf32> {
  // expected-error @+1 {{mask_fill is set exactly when the mask is bool}}
  %o = kiln.flash_attention ins(%q, %k, %v : tensor<2x40x8xf32>, tensor<2x50x8xf32>, tensor<2x50x8xf32>) mask(%m : tensor<40x50xf32>) outs(%init : tensor<2x40x8xf32>) {mask_fill = 0.0 : f32, scale = 0.5 : f32} -> tensor<2x40x8xf32>
  return %o : tensor<2x40x8xf32>
}

// -----

func.func @ranks_differ(%q: tensor<2x40x8xf32>, %k: tensor<50x8xf32>, %v: tensor<2x50x8xf32>, %init: tensor<2x40x8xf32>) -> tensor<2x40x8xf32> {
  // expected-error @+1 {{query, key, value and init must have one rank >= 2}}
  %o = kiln.flash_attention ins(%q, %k, %v : tensor<2x40x8xf32>, tensor<50x8xf32>, tensor<2x50x8xf32>) outs(%init : tensor<2x40x8xf32>) {scale = 0.5 : f32} -> tensor<2x40x8xf32>
  return %o : tensor<2x40x8xf32>
}
