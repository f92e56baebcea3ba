// RUN: kiln-opt %s -split-input-file -verify-diagnostics

// Every verifier error and every result-type inference error of the kiln
// dialect that can be triggered. An inference error is reported at the op and
// followed by "failed to infer returned types". Left out until fixed: inputs
// that crash the verifier (an out-of-range axis of split, gather or squeeze;
// conv with group = 0) and errors that print a negative I64Attr as unsigned.

//===----------------------------------------------------------------------===//
// Constants
//===----------------------------------------------------------------------===//

func.func @constant_not_tensor() {
  // expected-error @+1 {{value must be a ranked tensor}}
  %0 = kiln.constant dense<[1, 2]> : vector<2xi64>
  return
}

// -----

func.func @constant_without_value() {
  // expected-error @+1 {{'kiln.constant' op requires attribute 'value'}}
  %0 = "kiln.constant"() : () -> tensor<2xi64>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Result types
//===----------------------------------------------------------------------===//

func.func @incompatible_result_dim(%x: tensor<4x6xf32>) {
  // expected-error @+2 {{'kiln.relu' op inferred type(s) 'tensor<4x6xf32>' are incompatible with return type(s) of operation 'tensor<4x7xf32>'}}
  // expected-error @+1 {{'kiln.relu' op failed to infer returned types}}
  %0 = kiln.relu %x : (tensor<4x6xf32>) -> tensor<4x7xf32>
  return
}

// -----

func.func @incompatible_result_rank(%x: tensor<?x6xf32>, %y: tensor<6xf32>) {
  // expected-error @+2 {{'kiln.add' op inferred type(s) 'tensor<?x6xf32>' are incompatible with return type(s) of operation 'tensor<6xf32>'}}
  // expected-error @+1 {{'kiln.add' op failed to infer returned types}}
  %0 = kiln.add %x, %y : (tensor<?x6xf32>, tensor<6xf32>) -> tensor<6xf32>
  return
}

// -----

func.func @incompatible_result_element_type(%x: tensor<4xf32>) {
  // expected-error @+2 {{'kiln.cast' op inferred type(s) 'tensor<4xi64>' are incompatible with return type(s) of operation 'tensor<4xi32>'}}
  // expected-error @+1 {{'kiln.cast' op failed to infer returned types}}
  %0 = kiln.cast %x {to = i64} : (tensor<4xf32>) -> tensor<4xi32>
  return
}

// -----

func.func @incompatible_shape_result(%x: tensor<2x3x4xf32>) {
  // expected-error @+2 {{'kiln.shape' op inferred type(s) 'tensor<2xi64>' are incompatible with return type(s) of operation 'tensor<3xi64>'}}
  // expected-error @+1 {{'kiln.shape' op failed to infer returned types}}
  %0 = kiln.shape %x {start = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<3xi64>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

func.func @unary_integer_operand(%x: tensor<4xi32>) {
  // expected-error @+1 {{'kiln.relu' op operand #0 must be ranked tensor of}}
  %0 = kiln.relu %x : (tensor<4xi32>) -> tensor<4xi32>
  return
}

// -----

func.func @gelu_bad_mode(%x: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.gelu' op attribute 'approximate' failed to satisfy constraint: string attribute one of none, tanh}}
  %0 = kiln.gelu %x {approximate = "foo"} : (tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @clip_non_scalar_bound(%x: tensor<8xf32>, %lo: tensor<2xf32>) {
  // expected-error @+1 {{'kiln.clip' op bounds must be scalars, got 'tensor<2xf32>'}}
  %0 = kiln.clip %x min %lo : (tensor<8xf32>, tensor<2xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @clip_rank_2_bound(%x: tensor<8xf32>, %hi: tensor<1x1xf32>) {
  // expected-error @+1 {{'kiln.clip' op bounds must be scalars, got 'tensor<1x1xf32>'}}
  %0 = kiln.clip %x max %hi : (tensor<8xf32>, tensor<1x1xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @clip_bound_type(%x: tensor<8xf32>, %lo: tensor<f16>) {
  // expected-error @+1 {{'kiln.clip' op bound type 'tensor<f16>' does not match the input's element type}}
  %0 = kiln.clip %x min %lo : (tensor<8xf32>, tensor<f16>) -> tensor<8xf32>
  return
}

// -----

func.func @binary_not_broadcastable(%x: tensor<4x6xf32>, %y: tensor<5xf32>) {
  // expected-error @+2 {{operand shapes do not broadcast: tensor<4x6xf32>, tensor<5xf32>}}
  // expected-error @+1 {{'kiln.add' op failed to infer returned types}}
  %0 = kiln.add %x, %y : (tensor<4x6xf32>, tensor<5xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @binary_dynamic_not_broadcastable(%x: tensor<?x2xi64>, %y: tensor<3x3xi64>) {
  // expected-error @+2 {{operand shapes do not broadcast: tensor<?x2xi64>, tensor<3x3xi64>}}
  // expected-error @+1 {{'kiln.mul' op failed to infer returned types}}
  %0 = kiln.mul %x, %y : (tensor<?x2xi64>, tensor<3x3xi64>) -> tensor<3x?xi64>
  return
}

// -----

func.func @binary_element_types(%x: tensor<4xf32>, %y: tensor<4xf16>) {
  // expected-error @+1 {{'kiln.sub' op failed to verify that all of {lhs, rhs, output} have same element type}}
  %0 = kiln.sub %x, %y : (tensor<4xf32>, tensor<4xf16>) -> tensor<4xf32>
  return
}

// -----

func.func @compare_not_broadcastable(%x: tensor<3xf32>, %y: tensor<4xf32>) {
  // expected-error @+2 {{operand shapes do not broadcast: tensor<3xf32>, tensor<4xf32>}}
  // expected-error @+1 {{'kiln.less' op failed to infer returned types}}
  %0 = kiln.less %x, %y : (tensor<3xf32>, tensor<4xf32>) -> tensor<3xi1>
  return
}

// -----

func.func @compare_result_not_bool(%x: tensor<3xf32>, %y: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.equal' op result #0 must be ranked tensor of 1-bit signless integer values}}
  %0 = kiln.equal %x, %y : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @where_not_broadcastable(%c: tensor<2xi1>, %x: tensor<3xf32>, %y: tensor<3xf32>) {
  // expected-error @+2 {{operand shapes do not broadcast: tensor<2xi1>, tensor<3xf32>, tensor<3xf32>}}
  // expected-error @+1 {{'kiln.where' op failed to infer returned types}}
  %0 = kiln.where %c, %x, %y : (tensor<2xi1>, tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// MatMul and Gemm
//===----------------------------------------------------------------------===//

func.func @matmul_scalar(%x: tensor<f32>, %y: tensor<4xf32>) {
  // expected-error @+2 {{operands must have rank >= 1}}
  // expected-error @+1 {{'kiln.matmul' op failed to infer returned types}}
  %0 = kiln.matmul %x, %y : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @matmul_contraction(%x: tensor<2x3xf32>, %y: tensor<4x5xf32>) {
  // expected-error @+2 {{contraction dims differ: 3 vs 4}}
  // expected-error @+1 {{'kiln.matmul' op failed to infer returned types}}
  %0 = kiln.matmul %x, %y : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @matmul_vector_contraction(%x: tensor<8xf32>, %y: tensor<4x5xf32>) {
  // expected-error @+2 {{contraction dims differ: 8 vs 4}}
  // expected-error @+1 {{'kiln.matmul' op failed to infer returned types}}
  %0 = kiln.matmul %x, %y : (tensor<8xf32>, tensor<4x5xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @matmul_batch(%x: tensor<2x4x3xf32>, %y: tensor<5x3x6xf32>) {
  // expected-error @+2 {{batch dims do not broadcast}}
  // expected-error @+1 {{'kiln.matmul' op failed to infer returned types}}
  %0 = kiln.matmul %x, %y : (tensor<2x4x3xf32>, tensor<5x3x6xf32>) -> tensor<2x4x6xf32>
  return
}

// -----

func.func @gemm_not_matrices(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+2 {{A and B must be matrices}}
  // expected-error @+1 {{'kiln.gemm' op failed to infer returned types}}
  %0 = kiln.gemm %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<3x5xf32>
  return
}

// -----

func.func @gemm_contraction(%a: tensor<3x4xf32>, %b: tensor<5x4xf32>) {
  // expected-error @+2 {{contraction dims differ: 4 vs 5}}
  // expected-error @+1 {{'kiln.gemm' op failed to infer returned types}}
  %0 = kiln.gemm %a, %b : (tensor<3x4xf32>, tensor<5x4xf32>) -> tensor<3x4xf32>
  return
}

// -----

func.func @gemm_transposed_contraction(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>) {
  // expected-error @+2 {{contraction dims differ: 3 vs 4}}
  // expected-error @+1 {{'kiln.gemm' op failed to infer returned types}}
  %0 = kiln.gemm %a, %b {trans_a = true} : (tensor<3x4xf32>, tensor<4x5xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @gemm_c_rank(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>, %c: tensor<1x3x5xf32>) {
  // expected-error @+1 {{'kiln.gemm' op C must have rank <= 2, got 'tensor<1x3x5xf32>'}}
  %0 = kiln.gemm %a, %b, %c : (tensor<3x4xf32>, tensor<4x5xf32>, tensor<1x3x5xf32>) -> tensor<3x5xf32>
  return
}

// -----

func.func @gemm_c_columns(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>, %c: tensor<6xf32>) {
  // expected-error @+1 {{'kiln.gemm' op C of type 'tensor<6xf32>' does not broadcast to the result 'tensor<3x5xf32>'}}
  %0 = kiln.gemm %a, %b, %c : (tensor<3x4xf32>, tensor<4x5xf32>, tensor<6xf32>) -> tensor<3x5xf32>
  return
}

// -----

func.func @gemm_c_rows(%a: tensor<3x4xf32>, %b: tensor<4x5xf32>, %c: tensor<2x5xf32>) {
  // expected-error @+1 {{'kiln.gemm' op C of type 'tensor<2x5xf32>' does not broadcast to the result 'tensor<3x5xf32>'}}
  %0 = kiln.gemm %a, %b, %c : (tensor<3x4xf32>, tensor<4x5xf32>, tensor<2x5xf32>) -> tensor<3x5xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Convolution and pooling
//===----------------------------------------------------------------------===//

func.func @conv_pads_count(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv' op expects 4 pads (begin and end per spatial dim), got 2}}
  %0 = kiln.conv %x, %w {pads = array<i64: 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @conv_strides_count(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv' op expects 2 strides and dilations, got 1 and 2}}
  %0 = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_zero_stride(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv' op strides and dilations must be positive}}
  %0 = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 0, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x?x6xf32>
  return
}

// -----

func.func @conv_negative_dilation(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv' op strides and dilations must be positive}}
  %0 = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, -1>}
      : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x?xf32>
  return
}

// -----

func.func @conv_negative_pads(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv' op pads must be non-negative}}
  %0 = kiln.conv %x, %w {pads = array<i64: 0, -1, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x5xf32>
  return
}

// -----

func.func @conv_group_not_dividing_outputs(%x: tensor<1x4x8x8xf32>, %w: tensor<6x1x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv' op output channels 6 are not divisible by group 4}}
  %0 = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 4 : i64}
      : (tensor<1x4x8x8xf32>, tensor<6x1x3x3xf32>) -> tensor<1x6x6x6xf32>
  return
}

// -----

func.func @conv_group_channel_mismatch(%x: tensor<1x8x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv' op channel count 8 is not weight's 2 times group 2}}
  %0 = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 2 : i64}
      : (tensor<1x8x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_channel_mismatch(%x: tensor<1x3x8x8xf32>, %w: tensor<4x5x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv' op channel count 3 is not weight's 5 times group 1}}
  %0 = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x5x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_bias_size(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.conv' op bias must be 1-D with 4 elements, got 'tensor<3xf32>'}}
  %0 = kiln.conv %x, %w, %b {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_bias_rank(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<1x4xf32>) {
  // expected-error @+1 {{'kiln.conv' op bias must be 1-D with 4 elements, got 'tensor<1x4xf32>'}}
  %0 = kiln.conv %x, %w, %b {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<1x4xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_weight_rank(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3xf32>) {
  // expected-error @+2 {{input and weight must have the same rank >= 3}}
  // expected-error @+1 {{'kiln.conv' op failed to infer returned types}}
  %0 = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_result_shape(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error @+2 {{'kiln.conv' op inferred type(s) 'tensor<1x4x4x4xf32>' are incompatible with return type(s) of operation 'tensor<1x4x3x3xf32>'}}
  // expected-error @+1 {{'kiln.conv' op failed to infer returned types}}
  %0 = kiln.conv %x, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x3x3xf32>
  return
}

// -----

func.func @conv_transpose_pads_count(%x: tensor<1x16x8x8xf32>, %w: tensor<16x8x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv_transpose' op expects 4 pads (begin and end per spatial dim), got 3}}
  %0 = kiln.conv_transpose %x, %w {pads = array<i64: 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>}
      : (tensor<1x16x8x8xf32>, tensor<16x8x3x3xf32>) -> tensor<1x8x10x10xf32>
  return
}

// -----

func.func @conv_transpose_zero_stride(%x: tensor<1x16x8x8xf32>, %w: tensor<16x8x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv_transpose' op strides and dilations must be positive}}
  %0 = kiln.conv_transpose %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 0>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>}
      : (tensor<1x16x8x8xf32>, tensor<16x8x3x3xf32>) -> tensor<1x8x10x3xf32>
  return
}

// -----

func.func @conv_transpose_output_padding(%x: tensor<1x16x8x8xf32>, %w: tensor<16x8x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv_transpose' op expects 2 output_padding entries}}
  %0 = kiln.conv_transpose %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0>}
      : (tensor<1x16x8x8xf32>, tensor<16x8x3x3xf32>) -> tensor<1x8x10x10xf32>
  return
}

// -----

func.func @conv_transpose_channels(%x: tensor<1x16x8x8xf32>, %w: tensor<12x8x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv_transpose' op channel count 16 is not weight's 12 times group 1}}
  %0 = kiln.conv_transpose %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>}
      : (tensor<1x16x8x8xf32>, tensor<12x8x3x3xf32>) -> tensor<1x8x10x10xf32>
  return
}

// -----

func.func @conv_transpose_bias(%x: tensor<1x16x8x8xf32>, %w: tensor<16x4x3x3xf32>, %b: tensor<4xf32>) {
  // Two groups make 8 output channels.
  // expected-error @+1 {{'kiln.conv_transpose' op bias must be 1-D with 8 elements, got 'tensor<4xf32>'}}
  %0 = kiln.conv_transpose %x, %w, %b {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>, group = 2 : i64}
      : (tensor<1x16x8x8xf32>, tensor<16x4x3x3xf32>, tensor<4xf32>) -> tensor<1x8x10x10xf32>
  return
}

// -----

func.func @max_pool_zero_kernel(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.max_pool' op kernel_shape must be positive}}
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 2, 0>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>) -> tensor<1x3x7x?xf32>
  return
}

// -----

func.func @max_pool_pads_count(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.max_pool' op expects 4 pads (begin and end per spatial dim), got 2}}
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>) -> tensor<1x3x7x7xf32>
  return
}

// -----

func.func @max_pool_zero_stride(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.max_pool' op strides and dilations must be positive}}
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 0, 0>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>) -> tensor<1x3x?x?xf32>
  return
}

// -----

func.func @max_pool_kernel_rank(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+2 {{window attributes do not match the 2 spatial dims of the input}}
  // expected-error @+1 {{'kiln.max_pool' op failed to infer returned types}}
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 2>, pads = array<i64: 0, 0>, strides = array<i64: 1>, dilations = array<i64: 1>}
      : (tensor<1x3x8x8xf32>) -> tensor<1x3x7x7xf32>
  return
}

// -----

func.func @max_pool_ceil_mode_result(%x: tensor<1x3x5x5xf32>) {
  // expected-error @+2 {{'kiln.max_pool' op inferred type(s) 'tensor<1x3x3x3xf32>' are incompatible with return type(s) of operation 'tensor<1x3x2x2xf32>'}}
  // expected-error @+1 {{'kiln.max_pool' op failed to infer returned types}}
  %0 = kiln.max_pool %x {kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, ceil_mode = true}
      : (tensor<1x3x5x5xf32>) -> tensor<1x3x2x2xf32>
  return
}

// -----

func.func @average_pool_negative_kernel(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.average_pool' op kernel_shape must be positive}}
  %0 = kiln.average_pool %x {kernel_shape = array<i64: -2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>) -> tensor<1x3x?x7xf32>
  return
}

// -----

func.func @average_pool_negative_pads(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.average_pool' op pads must be non-negative}}
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, -1, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>}
      : (tensor<1x3x8x8xf32>) -> tensor<1x3x6x7xf32>
  return
}

// -----

func.func @average_pool_dilations_count(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.average_pool' op expects 2 strides and dilations, got 2 and 3}}
  %0 = kiln.average_pool %x {kernel_shape = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1, 1>}
      : (tensor<1x3x8x8xf32>) -> tensor<1x3x7x7xf32>
  return
}

// -----

func.func @global_average_pool_rank(%x: tensor<4x8xf32>) {
  // expected-error @+2 {{input must have rank >= 3}}
  // expected-error @+1 {{'kiln.global_average_pool' op failed to infer returned types}}
  %0 = kiln.global_average_pool %x : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Normalization, softmax and reductions
//===----------------------------------------------------------------------===//

func.func @batch_norm_rank(%x: tensor<8xf32>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'kiln.batch_norm' op input must have rank >= 2}}
  %0 = kiln.batch_norm %x, %s, %s, %s, %s : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @batch_norm_stat_size(%x: tensor<1x64x8x8xf32>, %s: tensor<32xf32>) {
  // expected-error @+1 {{'kiln.batch_norm' op scale, bias, mean and variance must be 1-D with 64 elements, got 'tensor<32xf32>'}}
  %0 = kiln.batch_norm %x, %s, %s, %s, %s
      : (tensor<1x64x8x8xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<1x64x8x8xf32>
  return
}

// -----

func.func @batch_norm_stat_rank(%x: tensor<1x64x8x8xf32>, %s: tensor<1x64xf32>) {
  // expected-error @+1 {{'kiln.batch_norm' op scale, bias, mean and variance must be 1-D with 64 elements, got 'tensor<1x64xf32>'}}
  %0 = kiln.batch_norm %x, %s, %s, %s, %s
      : (tensor<1x64x8x8xf32>, tensor<1x64xf32>, tensor<1x64xf32>, tensor<1x64xf32>, tensor<1x64xf32>) -> tensor<1x64x8x8xf32>
  return
}

// -----

func.func @batch_norm_stat_types(%x: tensor<1x64x8x8xf32>, %s: tensor<64xf32>, %m: tensor<?xf32>) {
  // expected-error @+1 {{'kiln.batch_norm' op failed to verify that all of {scale, bias, mean, variance} have same type}}
  %0 = kiln.batch_norm %x, %s, %s, %m, %s
      : (tensor<1x64x8x8xf32>, tensor<64xf32>, tensor<64xf32>, tensor<?xf32>, tensor<64xf32>) -> tensor<1x64x8x8xf32>
  return
}

// -----

func.func @layer_norm_axis(%x: tensor<2x8xf32>, %s: tensor<8xf32>) {
  // expected-error @+1 {{'kiln.layer_norm' op axis 2 is out of range for rank 2}}
  %0 = kiln.layer_norm %x, %s {axis = 2 : i64} : (tensor<2x8xf32>, tensor<8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @layer_norm_scale(%x: tensor<2x8xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.layer_norm' op scale and bias must broadcast to the normalized dims, got 'tensor<4xf32>'}}
  %0 = kiln.layer_norm %x, %s : (tensor<2x8xf32>, tensor<4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @layer_norm_bias_rank(%x: tensor<2x8xf32>, %s: tensor<8xf32>, %b: tensor<2x8xf32>) {
  // The bias has more dims than the one normalized dim.
  // expected-error @+1 {{'kiln.layer_norm' op scale and bias must broadcast to the normalized dims, got 'tensor<2x8xf32>'}}
  %0 = kiln.layer_norm %x, %s, %b : (tensor<2x8xf32>, tensor<8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @softmax_axis(%x: tensor<2x8xf32>) {
  // expected-error @+1 {{'kiln.softmax' op axis 2 is out of range for rank 2}}
  %0 = kiln.softmax %x {axis = 2 : i64} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @reduce_axis_out_of_range(%x: tensor<2x3x4xf32>) {
  // expected-error @+2 {{axis 3 is out of range for rank 3}}
  // expected-error @+1 {{'kiln.reduce_mean' op failed to infer returned types}}
  %0 = kiln.reduce_mean %x {axes = array<i64: 3>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return
}

// -----

func.func @reduce_repeated_axis(%x: tensor<2x3x4xf32>) {
  // -1 and 2 are the same axis.
  // expected-error @+2 {{axis 2 is repeated}}
  // expected-error @+1 {{'kiln.reduce_sum' op failed to infer returned types}}
  %0 = kiln.reduce_sum %x {axes = array<i64: -1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x3x1xf32>
  return
}

// -----

func.func @reduce_keepdims_result(%x: tensor<2x3x4xf32>) {
  // expected-error @+2 {{'kiln.reduce_max' op inferred type(s) 'tensor<2x4xf32>' are incompatible with return type(s) of operation 'tensor<2x1x4xf32>'}}
  // expected-error @+1 {{'kiln.reduce_max' op failed to infer returned types}}
  %0 = kiln.reduce_max %x {axes = array<i64: 1>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Reshape
//===----------------------------------------------------------------------===//

func.func @reshape_dynamic_shape_operand(%x: tensor<2x3xf32>, %s: tensor<?xi64>) {
  // expected-error @+2 {{shape must be a 1-D tensor of static size}}
  // expected-error @+1 {{'kiln.reshape' op failed to infer returned types}}
  %0 = kiln.reshape %x, %s : (tensor<2x3xf32>, tensor<?xi64>) -> tensor<6xf32>
  return
}

// -----

func.func @reshape_two_minus_one(%x: tensor<2x3x4xf32>) {
  %s = kiln.constant dense<[-1, 2, -1]> : tensor<3xi64>
  // expected-error @+2 {{shape has more than one -1}}
  // expected-error @+1 {{'kiln.reshape' op failed to infer returned types}}
  %0 = kiln.reshape %x, %s : (tensor<2x3x4xf32>, tensor<3xi64>) -> tensor<?x2x?xf32>
  return
}

// -----

func.func @reshape_element_count(%x: tensor<2x3x4xf32>) {
  %s = kiln.constant dense<[5, 5]> : tensor<2xi64>
  // expected-error @+1 {{'kiln.reshape' op cannot reshape 'tensor<2x3x4xf32>' (24 elements) to 'tensor<5x5xf32>'}}
  %0 = kiln.reshape %x, %s : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<5x5xf32>
  return
}

// -----

func.func @reshape_minus_one_not_dividing(%x: tensor<2x3x4xf32>) {
  %s = kiln.constant dense<[5, -1]> : tensor<2xi64>
  // expected-error @+2 {{cannot reshape 'tensor<2x3x4xf32>' to shape with 5 elements per -1}}
  // expected-error @+1 {{'kiln.reshape' op failed to infer returned types}}
  %0 = kiln.reshape %x, %s : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<5x?xf32>
  return
}

// -----

func.func @reshape_invalid_dim(%x: tensor<2x3x4xf32>) {
  %s = kiln.constant dense<[-2, 12]> : tensor<2xi64>
  // expected-error @+2 {{invalid dim -2 in shape}}
  // expected-error @+1 {{'kiln.reshape' op failed to infer returned types}}
  %0 = kiln.reshape %x, %s : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x12xf32>
  return
}

// -----

func.func @reshape_copies_missing_dim(%x: tensor<24xf32>) {
  %s = kiln.constant dense<[4, 0]> : tensor<2xi64>
  // expected-error @+2 {{shape copies dim 1 that the input does not have}}
  // expected-error @+1 {{'kiln.reshape' op failed to infer returned types}}
  %0 = kiln.reshape %x, %s : (tensor<24xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  return
}

// -----

func.func @reshape_resource_shape() {
  %x = kiln.constant dense<1.0> : tensor<6xf32>
  // The shape is read from the blob: [2, 3].
  %s = kiln.constant dense_resource<shape0> : tensor<2xi64>
  // expected-error @+2 {{'kiln.reshape' op inferred type(s) 'tensor<2x3xf32>' are incompatible with return type(s) of operation 'tensor<3x2xf32>'}}
  // expected-error @+1 {{'kiln.reshape' op failed to infer returned types}}
  %0 = kiln.reshape %x, %s : (tensor<6xf32>, tensor<2xi64>) -> tensor<3x2xf32>
  return
}

{-#
  dialect_resources: {
    builtin: {
      shape0: "0x0800000002000000000000000300000000000000"
    }
  }
#-}

// -----

//===----------------------------------------------------------------------===//
// Transpose and concat
//===----------------------------------------------------------------------===//

func.func @transpose_not_permutation(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.transpose' op perm must be a permutation of [0, rank)}}
  %0 = kiln.transpose %x {perm = array<i64: 0, 0>} : (tensor<2x3xf32>) -> tensor<2x2xf32>
  return
}

// -----

func.func @transpose_perm_out_of_range(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.transpose' op perm must be a permutation of [0, rank)}}
  %0 = kiln.transpose %x {perm = array<i64: 1, 2>} : (tensor<2x3xf32>) -> tensor<3x3xf32>
  return
}

// -----

func.func @transpose_perm_size(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{perm has 3 entries for rank 2}}
  // expected-error @+1 {{'kiln.transpose' op failed to infer returned types}}
  %0 = kiln.transpose %x {perm = array<i64: 2, 0, 1>} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return
}

// -----

func.func @concat_no_inputs() {
  // expected-error @+2 {{needs at least one input}}
  // expected-error @+1 {{'kiln.concat' op failed to infer returned types}}
  %0 = kiln.concat {axis = 0 : i64} : () -> tensor<0xi64>
  return
}

// -----

func.func @concat_rank_mismatch(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error @+2 {{inputs have different ranks}}
  // expected-error @+1 {{'kiln.concat' op failed to infer returned types}}
  %0 = kiln.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x3xf32>
  return
}

// -----

func.func @concat_dim_mismatch(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error @+2 {{inputs differ in dim 1: 3 vs 4}}
  // expected-error @+1 {{'kiln.concat' op failed to infer returned types}}
  %0 = kiln.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>) {
  // expected-error @+2 {{axis 2 is out of range for rank 2}}
  // expected-error @+1 {{'kiln.concat' op failed to infer returned types}}
  %0 = kiln.concat %a, %a {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @concat_element_types(%a: tensor<2xi64>, %b: tensor<2xi32>) {
  // expected-error @+1 {{'kiln.concat' op inputs must all have element type 'i64'}}
  %0 = kiln.concat %a, %b {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi32>) -> tensor<4xi64>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Split, slice, gather
//===----------------------------------------------------------------------===//

func.func @split_sizes_sum(%x: tensor<10x4xf32>) {
  // expected-error @+1 {{'kiln.split' op sizes add up to 9 but the split dim is 10}}
  %0:2 = kiln.split %x {axis = 0 : i64, sizes = array<i64: 4, 5>, num_outputs = 2 : i64}
      : (tensor<10x4xf32>) -> (tensor<4x4xf32>, tensor<5x4xf32>)
  return
}

// -----

func.func @split_sizes_count(%x: tensor<10x4xf32>) {
  // expected-error @+1 {{'kiln.split' op has 2 sizes for 3 outputs}}
  %0:2 = kiln.split %x {axis = 0 : i64, sizes = array<i64: 5, 5>, num_outputs = 3 : i64}
      : (tensor<10x4xf32>) -> (tensor<5x4xf32>, tensor<5x4xf32>)
  return
}

// -----

func.func @split_negative_size(%x: tensor<10x4xf32>) {
  // expected-error @+1 {{'kiln.split' op sizes must be non-negative}}
  %0:2 = kiln.split %x {axis = 0 : i64, sizes = array<i64: 11, -1>, num_outputs = 2 : i64}
      : (tensor<10x4xf32>) -> (tensor<11x4xf32>, tensor<?x4xf32>)
  return
}

// -----

func.func @split_zero_outputs(%x: tensor<10x4xf32>) {
  // expected-error @+1 {{num_outputs must be positive, got 0}}
  kiln.split %x {axis = 0 : i64, num_outputs = 0 : i64} : (tensor<10x4xf32>) -> ()
  return
}

// -----

func.func @split_result_count(%x: tensor<10x4xf32>) {
  // expected-error @+2 {{'kiln.split' op inferred type(s) 'tensor<5x4xf32>', 'tensor<5x4xf32>' are incompatible with return type(s) of operation 'tensor<10x4xf32>'}}
  // expected-error @+1 {{'kiln.split' op failed to infer returned types}}
  %0 = kiln.split %x {axis = 0 : i64, num_outputs = 2 : i64} : (tensor<10x4xf32>) -> tensor<10x4xf32>
  return
}

// -----

func.func @slice_step_zero(%x: tensor<8xf32>) {
  %z = kiln.constant dense<0> : tensor<1xi64>
  %e = kiln.constant dense<4> : tensor<1xi64>
  // expected-error @+2 {{slice steps must not be 0}}
  // expected-error @+1 {{'kiln.slice' op failed to infer returned types}}
  %0 = kiln.slice %x, %z, %e, %z, %z : (tensor<8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4xf32>
  return
}

// -----

func.func @slice_lengths(%x: tensor<8x8xf32>) {
  %z = kiln.constant dense<0> : tensor<1xi64>
  %e = kiln.constant dense<4> : tensor<2xi64>
  // expected-error @+2 {{starts, ends, axes and steps must have the same length}}
  // expected-error @+1 {{'kiln.slice' op failed to infer returned types}}
  %0 = kiln.slice %x, %z, %e, %z, %z : (tensor<8x8xf32>, tensor<1xi64>, tensor<2xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<4x8xf32>
  return
}

// -----

func.func @slice_axis(%x: tensor<8x8xf32>) {
  %z = kiln.constant dense<0> : tensor<1xi64>
  %a = kiln.constant dense<-3> : tensor<1xi64>
  %o = kiln.constant dense<1> : tensor<1xi64>
  // expected-error @+2 {{slice axis -3 is out of range}}
  // expected-error @+1 {{'kiln.slice' op failed to infer returned types}}
  %0 = kiln.slice %x, %z, %o, %a, %o : (tensor<8x8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<8x8xf32>
  return
}

// -----

func.func @slice_result(%x: tensor<8xf32>) {
  %s = kiln.constant dense<1> : tensor<1xi64>
  %e = kiln.constant dense<8> : tensor<1xi64>
  %a = kiln.constant dense<0> : tensor<1xi64>
  %st = kiln.constant dense<2> : tensor<1xi64>
  // Elements 1, 3, 5, 7.
  // expected-error @+2 {{'kiln.slice' op inferred type(s) 'tensor<4xf32>' are incompatible with return type(s) of operation 'tensor<3xf32>'}}
  // expected-error @+1 {{'kiln.slice' op failed to infer returned types}}
  %0 = kiln.slice %x, %s, %e, %a, %st : (tensor<8xf32>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>, tensor<1xi64>) -> tensor<3xf32>
  return
}

// -----

func.func @gather_index_out_of_range(%x: tensor<4x6xf32>) {
  %i = kiln.constant dense<[0, 6]> : tensor<2xi64>
  // expected-error @+1 {{'kiln.gather' op index 6 is out of range for dim 1 of extent 6}}
  %0 = kiln.gather %x, %i {axis = 1 : i64} : (tensor<4x6xf32>, tensor<2xi64>) -> tensor<4x2xf32>
  return
}

// -----

func.func @gather_negative_index_out_of_range(%x: tensor<4x6xf32>) {
  %i = kiln.constant dense<-5> : tensor<i32>
  // expected-error @+1 {{'kiln.gather' op index -5 is out of range for dim 0 of extent 4}}
  %0 = kiln.gather %x, %i : (tensor<4x6xf32>, tensor<i32>) -> tensor<6xf32>
  return
}

// -----

func.func @gather_float_indices(%x: tensor<4x6xf32>, %i: tensor<2xf32>) {
  // expected-error @+1 {{'kiln.gather' op operand #1 must be ranked tensor of 32-bit signless integer or 64-bit signless integer values}}
  %0 = kiln.gather %x, %i : (tensor<4x6xf32>, tensor<2xf32>) -> tensor<2x6xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Squeeze, unsqueeze, flatten, expand
//===----------------------------------------------------------------------===//

func.func @squeeze_non_unit_dim(%x: tensor<1x3xf32>) {
  // expected-error @+1 {{'kiln.squeeze' op cannot squeeze dim 1 of extent 3}}
  %0 = kiln.squeeze %x {axes = array<i64: 1>} : (tensor<1x3xf32>) -> tensor<1xf32>
  return
}

// -----

func.func @squeeze_negative_non_unit_dim(%x: tensor<1x3xf32>) {
  // expected-error @+1 {{'kiln.squeeze' op cannot squeeze dim -1 of extent 3}}
  %0 = kiln.squeeze %x {axes = array<i64: -1>} : (tensor<1x3xf32>) -> tensor<1xf32>
  return
}

// -----

func.func @unsqueeze_empty_axes(%x: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.unsqueeze' op needs at least one axis}}
  %0 = kiln.unsqueeze %x {axes = array<i64>} : (tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @unsqueeze_axis_out_of_range(%x: tensor<3xf32>) {
  // expected-error @+2 {{axis 2 is out of range or repeated for rank 2}}
  // expected-error @+1 {{'kiln.unsqueeze' op failed to infer returned types}}
  %0 = kiln.unsqueeze %x {axes = array<i64: 2>} : (tensor<3xf32>) -> tensor<3x1xf32>
  return
}

// -----

func.func @unsqueeze_repeated_axis(%x: tensor<3xf32>) {
  // expected-error @+2 {{axis -3 is out of range or repeated for rank 3}}
  // expected-error @+1 {{'kiln.unsqueeze' op failed to infer returned types}}
  %0 = kiln.unsqueeze %x {axes = array<i64: 0, -3>} : (tensor<3xf32>) -> tensor<1x1x3xf32>
  return
}

// -----

func.func @flatten_axis(%x: tensor<2x3xf32>) {
  // expected-error @+2 {{axis 3 is out of range for rank 2}}
  // expected-error @+1 {{'kiln.flatten' op failed to infer returned types}}
  %0 = kiln.flatten %x {axis = 3 : i64} : (tensor<2x3xf32>) -> tensor<6x1xf32>
  return
}

// -----

func.func @expand_not_broadcastable(%x: tensor<3x4xf32>) {
  %s = kiln.constant dense<[2, 5]> : tensor<2xi64>
  // expected-error @+2 {{cannot expand 'tensor<3x4xf32>' to the given shape}}
  // expected-error @+1 {{'kiln.expand' op failed to infer returned types}}
  %0 = kiln.expand %x, %s : (tensor<3x4xf32>, tensor<2xi64>) -> tensor<3x4xf32>
  return
}

// -----

func.func @expand_dynamic_shape_operand(%x: tensor<3x4xf32>, %s: tensor<?xi64>) {
  // expected-error @+2 {{shape must be a 1-D tensor of static size}}
  // expected-error @+1 {{'kiln.expand' op failed to infer returned types}}
  %0 = kiln.expand %x, %s : (tensor<3x4xf32>, tensor<?xi64>) -> tensor<3x4xf32>
  return
}

// -----

//===----------------------------------------------------------------------===//
// Pad and resize
//===----------------------------------------------------------------------===//

func.func @pad_constant_value_type(%x: tensor<2x3xf32>, %p: tensor<4xi64>, %v: tensor<f16>) {
  // expected-error @+1 {{'kiln.pad' op constant_value must be a scalar of the input's element type, got 'tensor<f16>'}}
  %0 = kiln.pad %x, %p, %v : (tensor<2x3xf32>, tensor<4xi64>, tensor<f16>) -> tensor<?x?xf32>
  return
}

// -----

func.func @pad_constant_value_rank(%x: tensor<2x3xf32>, %p: tensor<4xi64>, %v: tensor<1x1xf32>) {
  // expected-error @+1 {{'kiln.pad' op constant_value must be a scalar of the input's element type, got 'tensor<1x1xf32>'}}
  %0 = kiln.pad %x, %p, %v : (tensor<2x3xf32>, tensor<4xi64>, tensor<1x1xf32>) -> tensor<?x?xf32>
  return
}

// -----

func.func @pad_pads_rank(%x: tensor<2x3xf32>, %p: tensor<2x2xi64>) {
  // expected-error @+1 {{'kiln.pad' op pads must be 1-D}}
  %0 = kiln.pad %x, %p : (tensor<2x3xf32>, tensor<2x2xi64>) -> tensor<?x?xf32>
  return
}

// -----

func.func @pad_pads_count(%x: tensor<2x3xf32>) {
  %p = kiln.constant dense<[1, 1]> : tensor<2xi64>
  // expected-error @+2 {{expects 4 pads, got 2}}
  // expected-error @+1 {{'kiln.pad' op failed to infer returned types}}
  %0 = kiln.pad %x, %p : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return
}

// -----

func.func @pad_crop_below_zero(%x: tensor<2x3xf32>) {
  %p = kiln.constant dense<[0, -2, 0, -2]> : tensor<4xi64>
  // expected-error @+2 {{pads crop dim 1 below zero}}
  // expected-error @+1 {{'kiln.pad' op failed to infer returned types}}
  %0 = kiln.pad %x, %p : (tensor<2x3xf32>, tensor<4xi64>) -> tensor<2x?xf32>
  return
}

// -----

func.func @pad_bad_mode(%x: tensor<2x3xf32>, %p: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.pad' op attribute 'mode' failed to satisfy constraint: string attribute one of constant, reflect, edge, wrap}}
  %0 = kiln.pad %x, %p {mode = "symmetric"} : (tensor<2x3xf32>, tensor<4xi64>) -> tensor<?x?xf32>
  return
}

// -----

func.func @resize_neither_scales_nor_sizes(%x: tensor<1x3x8x8xf32>) {
  // expected-error @+1 {{'kiln.resize' op expects exactly one of scales and sizes}}
  %0 = kiln.resize %x : (tensor<1x3x8x8xf32>) -> tensor<?x?x?x?xf32>
  return
}

// -----

func.func @resize_scales_and_sizes(%x: tensor<1x3x8x8xf32>, %scales: tensor<4xf32>, %sizes: tensor<4xi64>) {
  // expected-error @+1 {{'kiln.resize' op expects exactly one of scales and sizes}}
  %0 = kiln.resize %x scales %scales sizes %sizes : (tensor<1x3x8x8xf32>, tensor<4xf32>, tensor<4xi64>) -> tensor<?x?x?x?xf32>
  return
}

// -----

func.func @resize_sizes_count(%x: tensor<1x3x8x8xf32>) {
  %sizes = kiln.constant dense<[16, 16]> : tensor<2xi64>
  // expected-error @+2 {{expects 4 sizes}}
  // expected-error @+1 {{'kiln.resize' op failed to infer returned types}}
  %0 = kiln.resize %x sizes %sizes : (tensor<1x3x8x8xf32>, tensor<2xi64>) -> tensor<?x?x?x?xf32>
  return
}

// -----

func.func @resize_scales_count(%x: tensor<1x3x8x8xf32>) {
  %scales = kiln.constant dense<[2.0, 2.0]> : tensor<2xf32>
  // expected-error @+2 {{expects 4 scales}}
  // expected-error @+1 {{'kiln.resize' op failed to infer returned types}}
  %0 = kiln.resize %x scales %scales : (tensor<1x3x8x8xf32>, tensor<2xf32>) -> tensor<?x?x?x?xf32>
  return
}

// -----

func.func @resize_bad_mode(%x: tensor<1x3x8x8xf32>, %scales: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.resize' op attribute 'mode' failed to satisfy constraint: string attribute one of nearest, linear, cubic}}
  %0 = kiln.resize %x scales %scales {mode = "bilinear"} : (tensor<1x3x8x8xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
  return
}

// -----

func.func @resize_bad_coordinate_mode(%x: tensor<1x3x8x8xf32>, %scales: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.resize' op attribute 'coordinate_transformation_mode' failed to satisfy constraint: string attribute one of half_pixel, half_pixel_symmetric, pytorch_half_pixel, align_corners, asymmetric, tf_crop_and_resize}}
  %0 = kiln.resize %x scales %scales {coordinate_transformation_mode = "center"} : (tensor<1x3x8x8xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
  return
}

// -----

func.func @resize_bad_nearest_mode(%x: tensor<1x3x8x8xf32>, %scales: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.resize' op attribute 'nearest_mode' failed to satisfy constraint: string attribute one of round_prefer_floor, round_prefer_ceil, floor, ceil}}
  %0 = kiln.resize %x scales %scales {nearest_mode = "round"} : (tensor<1x3x8x8xf32>, tensor<4xf32>) -> tensor<?x?x?x?xf32>
  return
}

// -----

func.func @reshape_inferred_count(%x: tensor<2x3x4xf32>) {
  %s = kiln.constant dense<[5, 5]> : tensor<2xi64>
  // expected-error @+2 {{cannot reshape 'tensor<2x3x4xf32>' to a shape of 25 elements}}
  // expected-error @+1 {{'kiln.reshape' op failed to infer returned types}}
  %0 = kiln.reshape %x, %s : (tensor<2x3x4xf32>, tensor<2xi64>) -> tensor<?x?xf32>
  return
}

// -----

func.func @split_axis_out_of_range(%x: tensor<4x6xf32>) {
  // expected-error @+1 {{'kiln.split' op axis -100 is out of range for rank 2}}
  %0:2 = kiln.split %x {axis = -100 : i64, num_outputs = 2 : i64} : (tensor<4x6xf32>) -> (tensor<4x3xf32>, tensor<4x3xf32>)
  return
}

// -----

func.func @gather_axis_out_of_range(%x: tensor<4x6xf32>, %i: tensor<2xi64>) {
  // expected-error @+1 {{'kiln.gather' op axis -100 is out of range for rank 2}}
  %0 = kiln.gather %x, %i {axis = -100 : i64} : (tensor<4x6xf32>, tensor<2xi64>) -> tensor<4x6xf32>
  return
}

// -----

func.func @squeeze_axis_out_of_range(%x: tensor<4x6xf32>) {
  // expected-error @+1 {{'kiln.squeeze' op axis 5 is out of range for rank 2}}
  %0 = kiln.squeeze %x {axes = array<i64: 5>} : (tensor<4x6xf32>) -> tensor<4x6xf32>
  return
}

// -----

func.func @conv_group_zero(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv' op group must be positive, got 0}}
  %0 = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, group = 0 : i64}
      : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_transpose_group_zero(%x: tensor<1x16x8x8xf32>, %w: tensor<16x8x3x3xf32>) {
  // expected-error @+1 {{'kiln.conv_transpose' op group must be positive, got 0}}
  %0 = kiln.conv_transpose %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, output_padding = array<i64: 0, 0>, group = 0 : i64}
      : (tensor<1x16x8x8xf32>, tensor<16x8x3x3xf32>) -> tensor<1x0x10x10xf32>
  return
}

// -----

func.func @softmax_negative_axis(%x: tensor<2x3xf32>) {
  // expected-error @+1 {{'kiln.softmax' op axis -3 is out of range for rank 2}}
  %0 = kiln.softmax %x {axis = -3 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @gemm_c_does_not_broadcast_to_result(%a: tensor<3x4xf32>, %b: tensor<4x1xf32>, %c: tensor<5xf32>) {
  // expected-error @+1 {{'kiln.gemm' op C of type 'tensor<5xf32>' does not broadcast to the result 'tensor<3x1xf32>'}}
  %0 = kiln.gemm %a, %b, %c : (tensor<3x4xf32>, tensor<4x1xf32>, tensor<5xf32>) -> tensor<3x1xf32>
  return
}

// -----

func.func @layer_norm_scale_wider_than_input(%x: tensor<2x1xf32>, %s: tensor<4xf32>) {
  // expected-error @+1 {{'kiln.layer_norm' op scale and bias must broadcast to the normalized dims, got 'tensor<4xf32>'}}
  %0 = kiln.layer_norm %x, %s : (tensor<2x1xf32>, tensor<4xf32>) -> tensor<2x1xf32>
  return
}

// -----

func.func @pad_vector_constant_value(%x: tensor<4xf32>, %p: tensor<2xi64>, %v: tensor<3xf32>) {
  // expected-error @+1 {{'kiln.pad' op constant_value must be a scalar of the input's element type, got 'tensor<3xf32>'}}
  %0 = kiln.pad %x, %p, %v : (tensor<4xf32>, tensor<2xi64>, tensor<3xf32>) -> tensor<?xf32>
  return
}

// -----

func.func @quantize_wide(%x: tensor<4xf32>, %s: tensor<f32>) {
  // expected-error @+1 {{quantizes to 8- or 16-bit integers, not 'i32'}}
  %0 = kiln.quantize_linear %x, %s {to = i32} : (tensor<4xf32>, tensor<f32>) -> tensor<4xi32>
  return
}

// -----

func.func @quantize_scale_extent(%x: tensor<2x4xf32>, %s: tensor<3xf32>) {
  // expected-error @+1 {{scale has 3 elements but dim 1 of the input has 4}}
  %0 = kiln.quantize_linear %x, %s {to = i8} : (tensor<2x4xf32>, tensor<3xf32>) -> tensor<2x4xi8>
  return
}

// -----

func.func @dequantize_zero_point_type(%x: tensor<4xi8>, %s: tensor<f32>, %z: tensor<ui8>) {
  // expected-error @+1 {{zero point must have element type 'i8', got 'tensor<ui8>'}}
  %0 = kiln.dequantize_linear %x, %s, %z : (tensor<4xi8>, tensor<f32>, tensor<ui8>) -> tensor<4xf32>
  return
}

// -----

func.func @dequantize_axis(%x: tensor<4xi8>, %s: tensor<4xf32>) {
  // expected-error @+1 {{axis 1 is out of range for 'tensor<4xi8>'}}
  %0 = kiln.dequantize_linear %x, %s : (tensor<4xi8>, tensor<4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @matmul_integer_wide(%a: tensor<2x3xi16>, %b: tensor<3x2xi8>) {
  // expected-error @+1 {{lhs must hold 8-bit integers, got 'tensor<2x3xi16>'}}
  %0 = kiln.matmul_integer %a, %b : (tensor<2x3xi16>, tensor<3x2xi8>) -> tensor<2x2xi32>
  return
}

// -----

func.func @matmul_integer_zero_point_rows(%a: tensor<2x3xui8>, %b: tensor<3x2xi8>, %z: tensor<3xui8>) {
  // expected-error @+1 {{lhs_zero_point must be a scalar or hold one value per row of lhs, got 'tensor<3xui8>'}}
  %0 = kiln.matmul_integer %a, %b lhs_zero_point %z : (tensor<2x3xui8>, tensor<3x2xi8>, tensor<3xui8>) -> tensor<2x2xi32>
  return
}

// -----

func.func @im2col_window_too_large(%x: tensor<1x2x3x3xui8>) {
  // expected-error @+2 {{im2col window larger than the input or stride below 1}}
  // expected-error @+1 {{'kiln.im2col' op failed to infer returned types}}
  %0 = kiln.im2col %x {kernel_shape = array<i64: 5, 5>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x2x3x3xui8>) -> tensor<1x50x1xui8>
  return
}

// -----

func.func @im2col_zero_stride(%x: tensor<1x2x8x8xui8>) {
  // expected-error @+1 {{kernel_shape, strides and dilations must be positive}}
  %0 = kiln.im2col %x {kernel_shape = array<i64: 3, 3>, strides = array<i64: 0, 1>, dilations = array<i64: 1, 1>} : (tensor<1x2x8x8xui8>) -> tensor<1x18x?xui8>
  return
}

// -----

func.func @attention_heads_not_grouped(%q: tensor<1x4x8x16xf32>, %k: tensor<1x3x8x16xf32>, %v: tensor<1x3x8x16xf32>) -> tensor<1x4x8x16xf32> {
  // expected-error @+1 {{leading dims of query, key and value differ}}
  %o = kiln.attention %q, %k, %v {scale = 2.500000e-01 : f32} : (tensor<1x4x8x16xf32>, tensor<1x3x8x16xf32>, tensor<1x3x8x16xf32>) -> tensor<1x4x8x16xf32>
  return %o : tensor<1x4x8x16xf32>
}

// -----

func.func @rotary_odd_dim(%x: tensor<2x15xf32>, %c: tensor<2x15xf32>) -> tensor<2x15xf32> {
  // expected-error @+1 {{last dim 15 is not even}}
  %r = kiln.rotary %x, %c, %c : (tensor<2x15xf32>, tensor<2x15xf32>, tensor<2x15xf32>) -> tensor<2x15xf32>
  return %r : tensor<2x15xf32>
}

// -----

func.func @cache_update_dims(%c: tensor<1x4x?x16xf32>, %x: tensor<1x2x1x16xf32>, %n: tensor<1xi64>) -> tensor<1x4x?x16xf32> {
  // expected-error @+1 {{update dim 1 is 2, the cache's 4}}
  %r = kiln.cache_update %c, %x, %n {axis = 2 : i64} : (tensor<1x4x?x16xf32>, tensor<1x2x1x16xf32>, tensor<1xi64>) -> tensor<1x4x?x16xf32>
  return %r : tensor<1x4x?x16xf32>
}

// -----

func.func @cache_update_offset(%c: tensor<1x4x?x16xf32>, %x: tensor<1x4x1x16xf32>, %n: tensor<2xi64>) -> tensor<1x4x?x16xf32> {
  // expected-error @+1 {{offset must hold one integer}}
  %r = kiln.cache_update %c, %x, %n {axis = 2 : i64} : (tensor<1x4x?x16xf32>, tensor<1x4x1x16xf32>, tensor<2xi64>) -> tensor<1x4x?x16xf32>
  return %r : tensor<1x4x?x16xf32>
}
