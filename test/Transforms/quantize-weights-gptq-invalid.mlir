// RUN: not kiln-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(kiln-quantize-weights{bits=8 group=4 min-weight-elements=0}))' 2>&1 | FileCheck %s

// A second moment that is not [K, K] is an error.
// CHECK: error: 'kiln.matmul' op 'kiln.hessian' must be a float tensor of the [K, K] of the lhs's last dim K
func.func @bad(%x: tensor<3x4xf32>) -> tensor<3x1xf32> {
  %w = kiln.constant dense<[[0.4], [10.3], [127.0], [0.0]]> : tensor<4x1xf32>
  %y = kiln.matmul %x, %w {kiln.hessian = dense<1.0> : tensor<3x3xf32>} : (tensor<3x4xf32>, tensor<4x1xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}

// -----

// One whose values cannot be read (a resource without data) is an error
// too, reported where the weight is quantized.
// CHECK: error: 'kiln.matmul' op 'kiln.hessian' must be a float tensor of the [K, K] of the lhs's last dim K
func.func @unreadable(%x: tensor<3x4xf32>) -> tensor<3x1xf32> {
  %w = kiln.constant dense<[[0.4], [10.3], [127.0], [0.0]]> : tensor<4x1xf32>
  %y = kiln.matmul %x, %w {kiln.hessian = dense_resource<missing_hessian> : tensor<4x4xf32>} : (tensor<3x4xf32>, tensor<4x1xf32>) -> tensor<3x1xf32>
  return %y : tensor<3x1xf32>
}
