// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-quantize-int8{min-weight-elements=1}))' -split-input-file | FileCheck %s
// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-quantize-int8))' -split-input-file | FileCheck %s --check-prefix=SMALL
// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-quantize-int8{min-weight-elements=1 weight-range=64}))' -split-input-file | FileCheck %s --check-prefix=NARROW
// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-quantize-int8{min-weight-elements=1 dynamic=false convolutions=true}))' -split-input-file | FileCheck %s --check-prefix=STATIC
// RUN: kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-quantize-int8{min-weight-elements=1 dynamic=false convolutions=false}))' -split-input-file | FileCheck %s --check-prefix=NOCONV
// RUN: not kiln-opt %s -pass-pipeline='builtin.module(func.func(kiln-quantize-int8{weight-range=200}))' -split-input-file 2>&1 | FileCheck %s --check-prefix=BADLIMIT
// BADLIMIT: kiln-quantize-int8: weight-range must be in [1, 127], got 200

// The weight is quantized now, symmetric int8 per column (scale = max|w| /
// 127: 2.54 / 127 = 0.02 and 0.5 / 127; -63.5 rounds to even, -64); the
// activation at run time to uint8 over [min(x, 0), max(x, 0)]; the i32
// product is dequantized by the scales' product, then the fused bias,
// residual and activation follow as ops of their own.
// CHECK-LABEL: func.func @matmul(
// CHECK-SAME: %[[X:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[R:[a-z0-9]+]]: tensor<2x3x2xf32>
// CHECK-DAG: %[[TINY:.+]] = kiln.constant dense<1.000000e-30> : tensor<f32>
// CHECK-DAG: %[[C255:.+]] = kiln.constant dense<2.550000e+02> : tensor<f32>
// CHECK-DAG: %[[BIAS:.+]] = kiln.constant dense<[5.000000e-01, -5.000000e-01]> : tensor<2xf32>
// CHECK-DAG: %[[WQ:.+]] = kiln.constant dense<{{\[\[}}50, -127], [127, 64], [-64, 0], [0, 32]]> : tensor<4x2xi8>
// CHECK-DAG: %[[WS:.+]] = kiln.constant dense<[2.000000e-02, 0.00393700786]> : tensor<2xf32>
// CHECK-DAG: %[[ZERO:.+]] = kiln.constant dense<0.000000e+00> : tensor<f32>
// The range: per row of the last dim (in parallel), then over the rest.
// CHECK: %[[ROWMIN:.+]] = kiln.reduce_min %[[X]] {axes = array<i64: 2>, keepdims = false} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>
// CHECK: %[[MIN:.+]] = kiln.reduce_min %[[ROWMIN]] {axes = array<i64>, keepdims = false} : (tensor<2x3xf32>) -> tensor<f32>
// CHECK: %[[LO:.+]] = kiln.min %[[MIN]], %[[ZERO]]
// CHECK: %[[ROWMAX:.+]] = kiln.reduce_max %[[X]] {axes = array<i64: 2>, keepdims = false}
// CHECK: %[[MAX:.+]] = kiln.reduce_max %[[ROWMAX]] {axes = array<i64>, keepdims = false}
// CHECK: %[[HI:.+]] = kiln.max %[[MAX]], %[[ZERO]]
// CHECK: %[[RANGE:.+]] = kiln.sub %[[HI]], %[[LO]]
// CHECK: %[[S0:.+]] = kiln.div %[[RANGE]], %[[C255]]
// CHECK: %[[S:.+]] = kiln.max %[[S0]], %[[TINY]]
// CHECK: %[[NEG:.+]] = kiln.neg %[[LO]]
// CHECK: %[[Z0:.+]] = kiln.div %[[NEG]], %[[S]]
// CHECK: %[[Z1:.+]] = kiln.round %[[Z0]]
// CHECK: %[[Z2:.+]] = kiln.max %[[Z1]], %[[ZERO]]
// CHECK: %[[Z3:.+]] = kiln.min %[[Z2]], %[[C255]]
// CHECK: %[[Z:.+]] = kiln.cast %[[Z3]] {to = ui8} : (tensor<f32>) -> tensor<ui8>
// CHECK: %[[XQ:.+]] = kiln.quantize_linear %[[X]], %[[S]], %[[Z]] {to = ui8} : (tensor<2x3x4xf32>, tensor<f32>, tensor<ui8>) -> tensor<2x3x4xui8>
// CHECK: %[[ACC:.+]] = kiln.matmul_integer %[[XQ]], %[[WQ]] lhs_zero_point %[[Z]] : (tensor<2x3x4xui8>, tensor<4x2xi8>, tensor<ui8>) -> tensor<2x3x2xi32>
// CHECK: %[[SCALE:.+]] = kiln.mul %[[S]], %[[WS]] : (tensor<f32>, tensor<2xf32>) -> tensor<2xf32>
// CHECK: %[[Y:.+]] = kiln.dequantize_linear %[[ACC]], %[[SCALE]] {axis = 2 : i64}
// CHECK: %[[Y1:.+]] = kiln.add %[[Y]], %[[BIAS]]
// CHECK: %[[Y2:.+]] = kiln.add %[[Y1]], %[[R]]
// CHECK: %[[Y3:.+]] = kiln.gelu %[[Y2]]
// CHECK: return %[[Y3]]
// With weight-range=64 (targets whose kernels want 7-bit weights) the
// values lie in [-64, 64]: scales 2.54 / 64 and 0.5 / 64.
// NARROW-LABEL: func.func @matmul(
// NARROW-DAG: kiln.constant dense<{{\[\[}}25, -64], [64, 32], [-32, 0], [0, 16]]> : tensor<4x2xi8>
// NARROW-DAG: kiln.constant dense<[3.968750e-02, 7.812500e-03]> : tensor<2xf32>
// Below min-weight-elements (4096 by default) the product stays in float.
// SMALL-LABEL: func.func @matmul(
// SMALL-NOT: matmul_integer
// SMALL: kiln.matmul %{{.+}}, %{{.+}} bias %{{.+}} residual %{{.+}} {activation = "gelu"}
func.func @matmul(%x: tensor<2x3x4xf32>, %r: tensor<2x3x2xf32>) -> tensor<2x3x2xf32> {
  %w = kiln.constant dense<[[1.0, -0.5], [2.54, 0.25], [-1.27, 0.0], [0.0, 0.125]]> : tensor<4x2xf32>
  %b = kiln.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %y = kiln.matmul %x, %w bias %b residual %r {activation = "gelu"} : (tensor<2x3x4xf32>, tensor<4x2xf32>, tensor<2xf32>, tensor<2x3x2xf32>) -> tensor<2x3x2xf32>
  return %y : tensor<2x3x2xf32>
}

// -----

// Gemm with transposed B: the weight rows are its output columns (an
// all-zero one gets scale 1); alpha joins the scale, beta * C and a clip
// follow.
// CHECK-LABEL: func.func @gemm(
// CHECK-DAG: %[[WQ:.+]] = kiln.constant dense<{{\[\[}}127, 0], [-127, 0], [64, 0]]> : tensor<3x2xi8>
// CHECK-DAG: %[[WS:.+]] = kiln.constant dense<[0.0157480314, 1.000000e+00]> : tensor<2xf32>
// CHECK: %[[ACC:.+]] = kiln.matmul_integer %{{.+}}, %[[WQ]] lhs_zero_point %{{.+}} : (tensor<5x3xui8>, tensor<3x2xi8>, tensor<ui8>) -> tensor<5x2xi32>
// CHECK: %[[S:.+]] = kiln.mul %{{.+}}, %[[WS]]
// CHECK: %[[SA:.+]] = kiln.mul %[[S]], %{{.+}} : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
// CHECK: %[[Y:.+]] = kiln.dequantize_linear %[[ACC]], %[[SA]] :
// CHECK: %[[C:.+]] = kiln.mul %{{.+}}, %{{.+}} : (tensor<2xf32>, tensor<f32>) -> tensor<2xf32>
// CHECK: %[[Y1:.+]] = kiln.add %[[Y]], %[[C]]
// CHECK: kiln.clip %[[Y1]] min %{{.+}} max %{{.+}}
// A transposed A stays a float gemm.
// CHECK: kiln.gemm %{{.+}}, %{{.+}} {trans_a = true}
func.func @gemm(%x: tensor<5x3xf32>, %c: tensor<2xf32>, %xt: tensor<3x5xf32>) -> (tensor<5x2xf32>, tensor<5x2xf32>) {
  %w = kiln.constant dense<[[2.0, -2.0, 1.0], [0.0, 0.0, 0.0]]> : tensor<2x3xf32>
  %y = kiln.gemm %x, %w, %c {alpha = 0.5 : f32, beta = 2.0 : f32, trans_b = true, activation = "clip", activation_params = array<f32: 0.0, 6.0>} : (tensor<5x3xf32>, tensor<2x3xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  %w2 = kiln.constant dense<1.0> : tensor<3x2xf32>
  %z = kiln.gemm %xt, %w2 {trans_a = true} : (tensor<3x5xf32>, tensor<3x2xf32>) -> tensor<5x2xf32>
  return %y, %z : tensor<5x2xf32>, tensor<5x2xf32>
}

// -----

// Static quantization (dynamic=false, what --quantize=int8 runs): a product
// whose activation range kiln-compile calibrated gets constants, range
// [-1, 3]: scale 4 / 255, zero point round(1 / scale) = 64; no reduction
// runs. A product without a range stays in float.
// STATIC-LABEL: func.func @calibrated(
// STATIC-DAG: %[[S:.+]] = kiln.constant dense<0.0156862754> : tensor<f32>
// STATIC-DAG: %[[Z:.+]] = kiln.constant dense<64> : tensor<ui8>
// STATIC-NOT: kiln.reduce_min
// STATIC: %[[XQ:.+]] = kiln.quantize_linear %arg0, %[[S]], %[[Z]] {to = ui8}
// STATIC: kiln.matmul_integer %[[XQ]], %{{.+}} lhs_zero_point %[[Z]]
// STATIC: kiln.matmul %arg0, %{{.+}} : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
func.func @calibrated(%x: tensor<2x4xf32>) -> (tensor<2x2xf32>, tensor<2x2xf32>) {
  %w = kiln.constant dense<[[1.0, -0.5], [2.54, 0.25], [-1.27, 0.0], [0.0, 0.125]]> : tensor<4x2xf32>
  %y = kiln.matmul %x, %w {kiln.calibration = array<f32: -1.0, 3.0>} : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  %z = kiln.matmul %x, %w : (tensor<2x4xf32>, tensor<4x2xf32>) -> tensor<2x2xf32>
  return %y, %z : tensor<2x2xf32>, tensor<2x2xf32>
}

// -----

// With `convolutions` (the default), an ungrouped 2-D convolution: the
// quantized input is padded with its zero point and its 3 x 3 windows
// (stride 2) become the columns of a [N, C*kh*kw, OH*OW] matrix
// (kiln.im2col); the [M, C*kh*kw] weight multiplies it from the left, the
// [N, M, OH*OW] result is dequantized per row (axis 1, the output channel)
// and reshaped to NCHW, then bias, residual and ReLU.
// With `convolutions=false` both stay in float.
// NOCONV-LABEL: func.func @conv(
// NOCONV-NOT: kiln.matmul_integer
// NOCONV-COUNT-2: kiln.conv
// STATIC-LABEL: func.func @conv(
// STATIC-DAG: %[[Z:.+]] = kiln.constant dense<64> : tensor<ui8>
// STATIC-DAG: %[[W:.+]] = kiln.constant dense<127> : tensor<3x18xi8>
// STATIC: %[[XQ:.+]] = kiln.quantize_linear %arg0, %{{.+}}, %[[Z]] {to = ui8}
// STATIC: %[[P:.+]] = kiln.pad %[[XQ]], %{{.+}}, %[[Z]] : (tensor<1x2x5x5xui8>, tensor<8xi64>, tensor<ui8>) -> tensor<1x2x7x7xui8>
// STATIC: %[[COLS:.+]] = kiln.im2col %[[P]] {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, strides = array<i64: 2, 2>} : (tensor<1x2x7x7xui8>) -> tensor<1x18x9xui8>
// STATIC: %[[ACC:.+]] = kiln.matmul_integer %[[W]], %[[COLS]] rhs_zero_point %[[Z]] : (tensor<3x18xi8>, tensor<1x18x9xui8>, tensor<ui8>) -> tensor<1x3x9xi32>
// STATIC: %[[DQ:.+]] = kiln.dequantize_linear %[[ACC]], %{{.+}} : (tensor<1x3x9xi32>, tensor<3xf32>) -> tensor<1x3x9xf32>
// STATIC: kiln.reshape %[[DQ]], {{.+}} -> tensor<1x3x3x3xf32>
// STATIC: kiln.add
// STATIC: kiln.add %{{.+}}, %arg1
// STATIC: kiln.relu
// A grouped convolution stays in float.
// STATIC: kiln.conv %arg0, %{{.+}} {dilations = array<i64: 1, 1>, group = 2 : i64
func.func @conv(%x: tensor<1x2x5x5xf32>, %r: tensor<1x3x3x3xf32>) -> (tensor<1x3x3x3xf32>, tensor<1x2x5x5xf32>) {
  %w = kiln.constant dense<0.5> : tensor<3x2x3x3xf32>
  %b = kiln.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %y = kiln.conv %x, %w, %b residual %r {activation = "relu", pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>, dilations = array<i64: 1, 1>, kiln.calibration = array<f32: -1.0, 3.0>} : (tensor<1x2x5x5xf32>, tensor<3x2x3x3xf32>, tensor<3xf32>, tensor<1x3x3x3xf32>) -> tensor<1x3x3x3xf32>
  %dw = kiln.constant dense<0.25> : tensor<2x1x3x3xf32>
  %z = kiln.conv %x, %dw {group = 2 : i64, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, kiln.calibration = array<f32: -1.0, 3.0>} : (tensor<1x2x5x5xf32>, tensor<2x1x3x3xf32>) -> tensor<1x2x5x5xf32>
  return %y, %z : tensor<1x3x3x3xf32>, tensor<1x2x5x5xf32>
}

// -----

// A 1 x 1 window with stride 1 reads the quantized input as it is: no pad
// or im2col, only a view.
// STATIC-LABEL: func.func @pointwise(
// STATIC: %[[XQ:.+]] = kiln.quantize_linear %arg0
// STATIC-NOT: kiln.im2col
// STATIC: %[[COLS:.+]] = kiln.reshape %[[XQ]], {{.+}} : (tensor<2x4x3x5xui8>, tensor<3xi64>) -> tensor<2x4x15xui8>
// STATIC: kiln.matmul_integer %{{.+}}, %[[COLS]] rhs_zero_point %{{.+}} : (tensor<6x4xi8>, tensor<2x4x15xui8>, tensor<ui8>) -> tensor<2x6x15xi32>
func.func @pointwise(%x: tensor<2x4x3x5xf32>) -> tensor<2x6x3x5xf32> {
  %w = kiln.constant dense<0.5> : tensor<6x4x1x1xf32>
  %y = kiln.conv %x, %w {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, kiln.calibration = array<f32: 0.0, 3.0>} : (tensor<2x4x3x5xf32>, tensor<6x4x1x1xf32>) -> tensor<2x6x3x5xf32>
  return %y : tensor<2x6x3x5xf32>
}

// -----

// With dynamic ranges, a convolution with few output channels times window
// positions (here 4 x 1) stays in float: measuring its input's range at run
// time costs more than int8 saves. One with 16 x 9 is quantized.
// CHECK-LABEL: func.func @dynamic_conv_intensity(
// CHECK: kiln.conv %arg0
// CHECK: kiln.matmul_integer
// CHECK-NOT: kiln.conv
func.func @dynamic_conv_intensity(%x: tensor<1x8x6x6xf32>) -> (tensor<1x4x6x6xf32>, tensor<1x16x6x6xf32>) {
  %w1 = kiln.constant dense<0.5> : tensor<4x8x1x1xf32>
  %y1 = kiln.conv %x, %w1 {pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x8x6x6xf32>, tensor<4x8x1x1xf32>) -> tensor<1x4x6x6xf32>
  %w2 = kiln.constant dense<0.25> : tensor<16x8x3x3xf32>
  %y2 = kiln.conv %x, %w2 {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>} : (tensor<1x8x6x6xf32>, tensor<16x8x3x3xf32>) -> tensor<1x16x6x6xf32>
  return %y1, %y2 : tensor<1x4x6x6xf32>, tensor<1x16x6x6xf32>
}

// -----

// A calibrated convolution after a max pool: the pool runs on the quantized
// bytes (quantize(max_pool(x)) = max_pool(quantize(x)) for a positive
// scale), and the float pool is gone. A pool that something else reads in
// float stays.
// STATIC-LABEL: func.func @pool_then_conv(
// STATIC: %[[XQ:.+]] = kiln.quantize_linear %arg0, %{{.+}}, %{{.+}} {to = ui8} : (tensor<1x2x8x8xf32>, tensor<f32>, tensor<ui8>) -> tensor<1x2x8x8xui8>
// STATIC: %[[P:.+]] = kiln.max_pool %[[XQ]] {{.+}} : (tensor<1x2x8x8xui8>) -> tensor<1x2x4x4xui8>
// STATIC: kiln.im2col
// STATIC-NOT: kiln.max_pool
// STATIC-LABEL: func.func @pool_read_in_float(
// STATIC: %[[F:.+]] = kiln.max_pool %arg0 {{.+}} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
// STATIC: kiln.quantize_linear %[[F]]
func.func @pool_then_conv(%x: tensor<1x2x8x8xf32>) -> tensor<1x3x4x4xf32> {
  %w = kiln.constant dense<0.5> : tensor<3x2x3x3xf32>
  %p = kiln.max_pool %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  %y = kiln.conv %p, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, kiln.calibration = array<f32: -1.0, 3.0>} : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x4x4xf32>
  return %y : tensor<1x3x4x4xf32>
}

func.func @pool_read_in_float(%x: tensor<1x2x8x8xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x2x4x4xf32>) {
  %w = kiln.constant dense<0.5> : tensor<3x2x3x3xf32>
  %p = kiln.max_pool %x {dilations = array<i64: 1, 1>, kernel_shape = array<i64: 3, 3>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x2x8x8xf32>) -> tensor<1x2x4x4xf32>
  %y = kiln.conv %p, %w {pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 1, 1>, dilations = array<i64: 1, 1>, kiln.calibration = array<f32: -1.0, 3.0>} : (tensor<1x2x4x4xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x4x4xf32>
  return %y, %p : tensor<1x3x4x4xf32>, tensor<1x2x4x4xf32>
}
