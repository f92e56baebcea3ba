#!/usr/bin/env python3
"""Models with the graph patterns other exporters emit, built with onnx.helper.

Usage: real_world_patterns.py OUTDIR [NAME ...]

Each model reproduces a pattern seen in models exported by tools other than
torch (Paddle2ONNX, tf2onnx, old exporters, hand-edited graphs), with random
weights, and writes OUTDIR/NAME.onnx and OUTDIR/NAME.inputs/<input>.npy (fixed
seed). A model with dynamic dims also gets input sets at other sizes,
OUTDIR/NAME.inputs2/, NAME.inputs3/ (the sizes below, in that order).

  ocr_neck  Paddle2ONNX text recognition: a LayerNorm decomposed into
            ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add over [N, W, 120], a Reshape
            to a shape computed at run time (Shape -> Slice/Gather ->
            Concat) into [N, 1, W, 120], a Transpose to [N, 120, 1, W] and a
            1x1 Conv; batch and width are dynamic (N=2, W=37 in the inputs).

  runtime_targets
            Targets computed at run time from Shape -> Gather (scalar index
            + Unsqueeze, and 1-D index) / Slice -> Mul/Div -> Concat: x
            [N, 8, H, W] reshaped to [2N, 4, H, W] for a Conv, back to
            [N, -1, H, W] (output feat), flattened to [N, 12, H*W],
            transposed and projected by a MatMul; a class token Expanded to
            [N, 1, 16] and concatenated, a bias row Tiled to [N, L, 16] and
            added, a final Transpose to [N, 16, L] (output y, L = H*W + 1).
            (N, H, W) = (2, 5, 7), (1, 8, 3), (3, 4, 4).

  p2o_hardswish
            Paddle2ONNX (opset 14) MobileNetV3 block, with its names (nodes
            p2o.Conv.0, values conv2d_0.tmp_0, parameters conv2d_0.w_0,
            batch_norm_0.w_1, constants p2o.helper.constant.N, dims
            p2o.DynamicDimension.N): Conv -> BatchNormalization -> Clip(0, 6
            as inputs) -> HardSwish -> depthwise Conv -> BatchNormalization
            -> squeeze-excite (GlobalAveragePool -> Conv + Add of the
            Reshaped bias -> Relu -> Conv + Add -> HardSigmoid(0.2, 0.5) ->
            Mul) -> 1x1 Conv -> BatchNormalization -> HardSwish written out
            as x * Clip(x + 3, 0, 6) / 6. (N, H, W) = (1, 32, 48),
            (2, 17, 29), (3, 9, 10).

  keras_nhwc
            tf2onnx (opset 13) Keras ResNet-like model on an NHWC input
            [N, H, W, 3]: every Conv, BatchNormalization and MaxPool wrapped
            as Transpose(0, 3, 1, 2) -> op -> Transpose(0, 2, 3, 1), Convs
            with auto_pad SAME_UPPER (strides 1 and 2) and MaxPool with
            auto_pad VALID, Relu and the residual Add in NHWC, ReduceMean
            over H, W and a MatMul + Add classifier. (N, H, W) = (2, 17, 23),
            (1, 32, 32), (3, 9, 14).

  opset9_upsample
            Opset 9 (IR 4, weights listed among the graph inputs too):
            Slice with starts/ends/axes attributes (ends INT64_MAX, negative
            ends, no axes), Upsample nearest with scales from a Constant
            (2x2 and 1x3), a Conv. (N, H, W) = (2, 6, 5), (1, 9, 12),
            (3, 4, 7).

  opset10_resize_slice
            Opset 10: Resize with scales (linear 2x, nearest 1.5x2), Slice
            with inputs (a reverse step -1 to INT64_MIN + 1, like a flip),
            Pad with pads as an attribute (reflect, and constant with a
            value). (N, H, W) = (2, 6, 5), (1, 9, 12), (3, 4, 7).

  opset10_scatter
            Opset 10: Scatter (axis attribute) of TopK values into
            ConstantOfShape(Shape(x)) zeros along axis 1, then along axis
            -1. x: (N, L) = (2, 11), (1, 16), (3, 5) for [N, 6, L].

  opset11_scatter
            Opset 11: ScatterElements with negative indices (an int64 input
            pos) of negated GatherElements values, Pad with pads as an input:
            reflect with constant pads, then edge with pads computed at run
            time (Shape -> Gather -> Mod/Sub -> Concat) to round the last
            axis up to a multiple of 8. x: (N, L) = (2, 11), (1, 16), (3, 5)
            for [N, 4, L].
  vad_state
            A voice-activity model (Silero-like): an If on the sample rate
            (a graph input, so decided at run time) whose 16 kHz branch holds
            an If on the window length (a shape): short windows give a
            rank-2 result, full ones the [N, 8, 64] frames the rest needs,
            so the inner condition must fold (fix the length with
            --input-shape x:1x1024); the 8 kHz branch frames half the
            samples and projects them. Then an LSTM whose state (h, c) is an
            input and an output, carried between calls. Input sets: 16 kHz
            and 8 kHz, each [1, 1024] with random states.
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


def _const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def _i64(*values):
    return np.array(values, np.int64)


def _weights(rng, shape, scale=0.1):
    return (rng.standard_normal(shape) * scale).astype(np.float32)


def _float_input(name, dims):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, dims)


def _finish(graph, opset, ir_version, producer=None):
    """The model at `opset`, checked like a loader would check it."""
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir_version
    if producer:
        model.producer_name = producer
    onnx.checker.check_model(model, full_check=True)
    return model


def _input_sets(rng, shapes):
    """One float input set per entry of `shapes` (input name -> shape)."""
    return [{name: rng.standard_normal(shape).astype(np.float32)
             for name, shape in entry.items()} for entry in shapes]


def ocr_neck(rng):
    channels = 120
    inits = [
        _const("axes_last", np.array([-1], np.int64)),
        _const("two", np.float32(2.0)),
        _const("eps", np.float32(1e-5)),
        _const("gamma", (rng.random(channels) + 0.5).astype(np.float32)),
        _const("beta", (rng.standard_normal(channels) * 0.1).astype(np.float32)),
        _const("zero", np.array([0], np.int64)),
        _const("one", np.array([1], np.int64)),
        _const("two_i", np.array([2], np.int64)),
        _const("one_dim", np.array([1], np.int64)),
        _const("channels", np.array([channels], np.int64)),
        _const("w", (rng.standard_normal((64, channels, 1, 1)) * 0.1).astype(np.float32)),
        _const("b", (rng.standard_normal(64) * 0.1).astype(np.float32)),
    ]
    nodes = [
        # LayerNorm over the last axis, decomposed.
        helper.make_node("ReduceMean", ["x"], ["mean"], axes=[-1], keepdims=1),
        helper.make_node("Sub", ["x", "mean"], ["centered"]),
        helper.make_node("Pow", ["centered", "two"], ["squared"]),
        helper.make_node("ReduceMean", ["squared"], ["var"], axes=[-1], keepdims=1),
        helper.make_node("Add", ["var", "eps"], ["var_eps"]),
        helper.make_node("Sqrt", ["var_eps"], ["std"]),
        helper.make_node("Div", ["centered", "std"], ["normed"]),
        helper.make_node("Mul", ["normed", "gamma"], ["scaled"]),
        helper.make_node("Add", ["scaled", "beta"], ["ln"]),
        # The target shape [N, 1, W, 120] computed from Shape(ln) at run time.
        helper.make_node("Shape", ["ln"], ["shape"]),
        helper.make_node("Slice", ["shape", "zero", "one"], ["batch"]),
        helper.make_node("Gather", ["shape", "one"], ["width"], axis=0),
        helper.make_node("Concat", ["batch", "one_dim", "width", "channels"], ["target"], axis=0),
        helper.make_node("Reshape", ["ln", "target"], ["rows"]),
        helper.make_node("Transpose", ["rows"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node("Conv", ["nchw", "w", "b"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes, "ocr_neck",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", "W", channels])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 64, 1, "W"])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, [{"x": rng.standard_normal((2, 37, channels)).astype(np.float32)}]


def runtime_targets(rng):
    inits = [
        _const("idx0", np.int64(0)), _const("axes0", _i64(0)), _const("idx1", _i64(1)),
        _const("idx2", _i64(2)), _const("idx3", _i64(3)), _const("two", _i64(2)),
        _const("one", _i64(1)),
        _const("minus_one", _i64(-1)), _const("width16", _i64(16)),
        _const("start2", _i64(2)), _const("end4", _i64(4)),
        _const("start0", _i64(0)), _const("end1", _i64(1)), _const("end_max", _i64(2**31 - 1)),
        _const("conv.weight", _weights(rng, (6, 4, 3, 3))),
        _const("conv.bias", _weights(rng, 6)),
        _const("proj.weight", _weights(rng, (12, 16))),
        _const("cls_token", _weights(rng, (1, 1, 16), 1.0)),
        _const("bias_row", _weights(rng, (1, 1, 16), 1.0)),
    ]
    node = helper.make_node
    nodes = [
        # [N, 8, H, W] -> [2N, 4, H, W]: batch from a scalar Gather +
        # Unsqueeze, channels from a 1-D Gather, H, W from a Slice.
        node("Shape", ["x"], ["x_shape"]),
        node("Gather", ["x_shape", "idx0"], ["n_scalar"], axis=0),
        node("Unsqueeze", ["n_scalar", "axes0"], ["n"]),
        node("Gather", ["x_shape", "idx1"], ["c"], axis=0),
        node("Slice", ["x_shape", "start2", "end4"], ["hw"]),
        node("Mul", ["n", "two"], ["n_groups"]),
        node("Div", ["c", "two"], ["c_group"]),
        node("Concat", ["n_groups", "c_group", "hw"], ["grouped_shape"], axis=0),
        node("Reshape", ["x", "grouped_shape"], ["grouped"]),
        node("Conv", ["grouped", "conv.weight", "conv.bias"], ["conv"], pads=[1, 1, 1, 1]),
        # Back to [N, -1, H, W] from Shape(conv), batch halved by a Div.
        node("Shape", ["conv"], ["conv_shape"]),
        node("Slice", ["conv_shape", "start0", "end1"], ["conv_batch"]),
        node("Div", ["conv_batch", "two"], ["batch"]),
        node("Slice", ["conv_shape", "start2", "end_max"], ["conv_hw"]),
        node("Concat", ["batch", "minus_one", "conv_hw"], ["feat_shape"], axis=0),
        node("Reshape", ["conv", "feat_shape"], ["feat"]),
        # [N, 12, H*W] -> [N, H*W, 12] -> MatMul -> [N, H*W, 16].
        node("Shape", ["feat"], ["feat_dims"]),
        node("Gather", ["feat_dims", "idx1"], ["feat_c"], axis=0),
        node("Gather", ["feat_dims", "idx2"], ["feat_h"], axis=0),
        node("Gather", ["feat_dims", "idx3"], ["feat_w"], axis=0),
        node("Mul", ["feat_h", "feat_w"], ["pixels"]),
        node("Concat", ["batch", "feat_c", "pixels"], ["flat_shape"], axis=0),
        node("Reshape", ["feat", "flat_shape"], ["flat"]),
        node("Transpose", ["flat"], ["tokens"], perm=[0, 2, 1]),
        node("MatMul", ["tokens", "proj.weight"], ["projected"]),
        # A class token Expanded to [N, 1, 16] and prepended.
        node("Concat", ["n", "one", "width16"], ["cls_shape"], axis=0),
        node("Expand", ["cls_token", "cls_shape"], ["cls"]),
        node("Concat", ["cls", "projected"], ["sequence"], axis=1),
        # A bias row Tiled to [N, L, 16] with repeats from Shape(sequence).
        node("Shape", ["sequence"], ["seq_shape"]),
        node("Gather", ["seq_shape", "idx1"], ["length"], axis=0),
        node("Concat", ["n", "length", "one"], ["repeats"], axis=0),
        node("Tile", ["bias_row", "repeats"], ["bias"]),
        node("Add", ["sequence", "bias"], ["biased"]),
        node("Transpose", ["biased"], ["y"], perm=[0, 2, 1]),
    ]
    graph = helper.make_graph(
        nodes, "runtime_targets", [_float_input("x", ["N", 8, "H", "W"])],
        [_float_input("feat", ["N", 12, "H", "W"]), _float_input("y", ["N", 16, "L"])],
        inits)
    sizes = [(2, 5, 7), (1, 8, 3), (3, 4, 4)]
    return _finish(graph, 13, 7), _input_sets(rng, [{"x": (n, 8, h, w)} for n, h, w in sizes])


class _Paddle:
    """Nodes named as Paddle2ONNX names them: p2o.<Op>.<k>, k counting all
    nodes; scalar constants as p2o.helper.constant.<k> Constant nodes."""

    def __init__(self):
        self.nodes, self.inits, self.count, self.constants = [], [], 0, 0

    def node(self, op, inputs, output, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [output],
                                           name=f"p2o.{op}.{self.count}", **attrs))
        self.count += 1
        return output

    def scalar(self, value):
        name = f"p2o.helper.constant.{self.constants}"
        self.constants += 1
        self.nodes.append(helper.make_node(
            "Constant", [], [name], name=f"p2o.Constant.{self.count}",
            value=numpy_helper.from_array(np.array(value, np.float32), name)))
        self.count += 1
        return name

    def param(self, name, array):
        self.inits.append(_const(name, array))
        return name

    def conv(self, rng, index, x, cin, cout, kernel, stride=1, group=1, bias=False):
        """Paddle's conv2d (+ elementwise_add of the bias, Reshaped)."""
        fan_in = cin // group * kernel * kernel
        w = self.param(f"conv2d_{index}.w_0", _weights(rng, (cout, cin // group, kernel, kernel),
                                                        np.sqrt(2 / fan_in)))
        y = self.node("Conv", [x, w], f"conv2d_{index}.tmp_0", kernel_shape=[kernel, kernel],
                      strides=[stride, stride], pads=[kernel // 2] * 4, group=group,
                      dilations=[1, 1])
        if not bias:
            return y
        b = self.param(f"conv2d_{index}.b_0", _weights(rng, cout))
        shape = self.param(f"p2o.helper.shape.{index}", np.array([1, -1, 1, 1], np.int64))
        b4 = self.node("Reshape", [b, shape], f"conv2d_{index}.b_0.reshaped")
        return self.node("Add", [y, b4], f"conv2d_{index}.tmp_1")

    def batch_norm(self, rng, index, x, channels):
        params = [self.param(f"batch_norm_{index}.w_0", (rng.random(channels) + 0.5).astype(np.float32)),
                  self.param(f"batch_norm_{index}.b_0", _weights(rng, channels)),
                  self.param(f"batch_norm_{index}.w_1", _weights(rng, channels)),
                  self.param(f"batch_norm_{index}.w_2", (rng.random(channels) + 0.5).astype(np.float32))]
        return self.node("BatchNormalization", [x] + params, f"batch_norm_{index}.tmp_2",
                         epsilon=1e-5, momentum=0.9)


def p2o_hardswish(rng):
    p = _Paddle()
    x = p.conv(rng, 0, "x", 3, 16, 3, stride=2)
    x = p.batch_norm(rng, 0, x, 16)
    x = p.node("Clip", [x, p.scalar(0.0), p.scalar(6.0)], "relu6_0.tmp_0")
    x = p.node("HardSwish", [x], "hardswish_0.tmp_0")
    x = p.conv(rng, 1, x, 16, 16, 3, stride=2, group=16)
    x = p.batch_norm(rng, 1, x, 16)
    # Squeeze-excite with Paddle's hardsigmoid (slope 0.2, offset 0.5).
    s = p.node("GlobalAveragePool", [x], "pool2d_0.tmp_0")
    s = p.conv(rng, 2, s, 16, 4, 1, bias=True)
    s = p.node("Relu", [s], "relu_0.tmp_0")
    s = p.conv(rng, 3, s, 4, 16, 1, bias=True)
    s = p.node("HardSigmoid", [s], "hardsigmoid_0.tmp_0", alpha=0.2, beta=0.5)
    x = p.node("Mul", [x, s], "elementwise_mul_0")
    x = p.conv(rng, 4, x, 16, 24, 1)
    x = p.batch_norm(rng, 2, x, 24)
    # hardswish as Paddle2ONNX writes it out below opset 14.
    t = p.node("Add", [x, p.scalar(3.0)], "hardswish_1.tmp_0.add")
    t = p.node("Clip", [t, p.scalar(0.0), p.scalar(6.0)], "hardswish_1.tmp_0.clip")
    t = p.node("Mul", [x, t], "hardswish_1.tmp_0.mul")
    p.node("Div", [t, p.scalar(6.0)], "hardswish_1.tmp_0")
    dims = [f"p2o.DynamicDimension.{i}" for i in range(3)]
    graph = helper.make_graph(
        p.nodes, "Model from PaddlePaddle.",
        [_float_input("x", [dims[0], 3, dims[1], dims[2]])],
        [_float_input("hardswish_1.tmp_0", [dims[0], 24, "p2o.DynamicDimension.3",
                                            "p2o.DynamicDimension.4"])],
        p.inits)
    sizes = [(1, 32, 48), (2, 17, 29), (3, 9, 10)]
    return (_finish(graph, 14, 7, "PaddlePaddle"),
            _input_sets(rng, [{"x": (n, 3, h, w)} for n, h, w in sizes]))


class _TF:
    """Nodes named as tf2onnx names them; NCHW ops between Transposes."""

    def __init__(self):
        self.nodes, self.inits, self.count = [], [], 0

    def node(self, op, inputs, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [name + ":0"], name=name, **attrs))
        return name + ":0"

    def nchw(self, op, x, name, params, **attrs):
        """Transpose(0, 3, 1, 2) -> op -> Transpose(0, 2, 3, 1), as tf2onnx
        wraps an NHWC TensorFlow op it maps to an NCHW ONNX op."""
        self.count += 2
        t = self.node("Transpose", [x], f"{name}__{self.count}", perm=[0, 3, 1, 2])
        y = self.node(op, [t] + params, name, **attrs)
        return self.node("Transpose", [y], f"{name}__{self.count + 1}", perm=[0, 2, 3, 1])

    def param(self, name, array):
        self.inits.append(_const(name, array))
        return name

    def conv(self, rng, x, layer, cin, cout, kernel, stride=1, bias=True):
        params = [self.param(f"model/{layer}/Conv2D/ReadVariableOp:0",
                             _weights(rng, (cout, cin, kernel, kernel)))]
        if bias:
            params.append(self.param(f"model/{layer}/BiasAdd/ReadVariableOp:0", _weights(rng, cout)))
        return self.nchw("Conv", x, f"model/{layer}/{'BiasAdd' if bias else 'Conv2D'}", params,
                         auto_pad="SAME_UPPER", kernel_shape=[kernel, kernel],
                         strides=[stride, stride], dilations=[1, 1])

    def batch_norm(self, rng, x, layer, channels):
        prefix = f"model/{layer}/FusedBatchNormV3/ReadVariableOp"
        params = [self.param(f"{prefix}:0", (rng.random(channels) + 0.5).astype(np.float32)),
                  self.param(f"{prefix}_1:0", _weights(rng, channels)),
                  self.param(f"{prefix}_2:0", _weights(rng, channels)),
                  self.param(f"{prefix}_3:0", (rng.random(channels) + 0.5).astype(np.float32))]
        return self.nchw("BatchNormalization", x, f"model/{layer}/FusedBatchNormV3", params,
                         epsilon=1e-3)


def keras_nhwc(rng):
    tf = _TF()
    x = tf.conv(rng, "input_1", "conv2d", 3, 16, 3, stride=2, bias=False)
    x = tf.batch_norm(rng, x, "batch_normalization", 16)
    x = tf.node("Relu", [x], "model/re_lu/Relu")
    x = tf.nchw("MaxPool", x, "model/max_pooling2d/MaxPool", [], auto_pad="VALID",
                kernel_shape=[2, 2], strides=[2, 2])
    # Residual block; the Add and Relus stay NHWC.
    y = tf.conv(rng, x, "conv2d_1", 16, 16, 3)
    y = tf.node("Relu", [y], "model/re_lu_1/Relu")
    y = tf.conv(rng, y, "conv2d_2", 16, 16, 3, bias=False)
    y = tf.batch_norm(rng, y, "batch_normalization_1", 16)
    x = tf.node("Add", [x, y], "model/add/add")
    x = tf.node("Relu", [x], "model/re_lu_2/Relu")
    x = tf.conv(rng, x, "conv2d_3", 16, 32, 3, stride=2)
    x = tf.node("Relu", [x], "model/re_lu_3/Relu")
    x = tf.node("ReduceMean", [x], "model/global_average_pooling2d/Mean", axes=[1, 2],
                keepdims=0)
    w = tf.param("model/dense/MatMul/ReadVariableOp:0", _weights(rng, (32, 10)))
    b = tf.param("model/dense/BiasAdd/ReadVariableOp:0", _weights(rng, 10))
    x = tf.node("MatMul", [x, w], "model/dense/MatMul")
    tf.nodes.append(helper.make_node("Add", [x, b], ["dense"], name="model/dense/BiasAdd"))
    graph = helper.make_graph(
        tf.nodes, "tf2onnx", [_float_input("input_1", ["unk__0", "unk__1", "unk__2", 3])],
        [_float_input("dense", ["unk__3", 10])], tf.inits)
    sizes = [(2, 17, 23), (1, 32, 32), (3, 9, 14)]
    return (_finish(graph, 13, 7, "tf2onnx"),
            _input_sets(rng, [{"input_1": (n, h, w, 3)} for n, h, w in sizes]))


def opset9_upsample(rng):
    node = helper.make_node
    inits = [_const("conv.weight", _weights(rng, (4, 2, 3, 3))),
             _const("conv.bias", _weights(rng, 4))]

    def scales(name, values):
        return node("Constant", [], [name], value=numpy_helper.from_array(
            np.array(values, np.float32), name))

    nodes = [
        node("Slice", ["x"], ["half"], axes=[1], starts=[0], ends=[2]),
        scales("scales_2x", [1, 1, 2, 2]),
        node("Upsample", ["half", "scales_2x"], ["up"], mode="nearest"),
        node("Conv", ["up", "conv.weight", "conv.bias"], ["conv"], pads=[1, 1, 1, 1],
             kernel_shape=[3, 3]),
        node("Slice", ["conv"], ["y"], axes=[2, 3], starts=[1, 0], ends=[INT64_MAX, -1]),
        # No axes: every dim, INT64_MAX ends.
        node("Slice", ["x"], ["tail"], starts=[0, 2, 0, 0],
             ends=[INT64_MAX, INT64_MAX, -1, INT64_MAX]),
        scales("scales_1x3", [1, 1, 1, 3]),
        node("Upsample", ["tail", "scales_1x3"], ["z"], mode="nearest"),
    ]
    # Exporters of the opset 9 days listed the weights among the inputs.
    graph = helper.make_graph(
        nodes, "torch-jit-export",
        [_float_input("x", ["batch", 4, "height", "width"]),
         _float_input("conv.weight", [4, 2, 3, 3]), _float_input("conv.bias", [4])],
        [_float_input("y", ["batch", 4, "y_height", "y_width"]),
         _float_input("z", ["batch", 2, "z_height", "z_width"])],
        inits)
    sizes = [(2, 6, 5), (1, 9, 12), (3, 4, 7)]
    return (_finish(graph, 9, 4, "pytorch"),
            _input_sets(rng, [{"x": (n, 4, h, w)} for n, h, w in sizes]))


def opset10_resize_slice(rng):
    node = helper.make_node
    inits = [
        _const("scales_linear", np.array([1, 1, 2, 2], np.float32)),
        _const("scales_nearest", np.array([1, 1, 1.5, 2], np.float32)),
        _const("starts", np.array([1, -1], np.int64)),
        _const("ends", np.array([-1, INT64_MIN + 1], np.int64)),
        _const("axes", np.array([2, 3], np.int64)),
        _const("steps", np.array([1, -1], np.int64)),
    ]
    nodes = [
        node("Resize", ["x", "scales_linear"], ["up"], mode="linear"),
        # Rows 1..-1, columns reversed.
        node("Slice", ["up", "starts", "ends", "axes", "steps"], ["flipped"]),
        node("Pad", ["flipped"], ["y"], mode="reflect", pads=[0, 0, 1, 2, 0, 0, 1, 2]),
        node("Resize", ["x", "scales_nearest"], ["near"], mode="nearest"),
        node("Pad", ["near"], ["z"], mode="constant", value=0.25,
             pads=[0, 0, 0, 1, 0, 0, 2, 0]),
    ]
    graph = helper.make_graph(
        nodes, "opset10", [_float_input("x", ["N", 3, "H", "W"])],
        [_float_input("y", ["N", 3, "Y_H", "Y_W"]), _float_input("z", ["N", 3, "Z_H", "Z_W"])],
        inits)
    sizes = [(2, 6, 5), (1, 9, 12), (3, 4, 7)]
    return (_finish(graph, 10, 5, "pytorch"),
            _input_sets(rng, [{"x": (n, 3, h, w)} for n, h, w in sizes]))


def opset10_scatter(rng):
    node = helper.make_node
    inits = [_const("k3", np.array([3], np.int64)), _const("k2", np.array([2], np.int64))]
    nodes = [
        # Keep the 3 largest of each column, zero elsewhere.
        node("TopK", ["x", "k3"], ["top_values", "top_indices"], axis=1),
        node("Shape", ["x"], ["x_shape"]),
        node("ConstantOfShape", ["x_shape"], ["zeros"],
             value=numpy_helper.from_array(np.zeros(1, np.float32))),
        node("Scatter", ["zeros", "top_indices", "top_values"], ["kept"], axis=1),
        # Then the 2 largest of each row of x, negated, over it.
        node("TopK", ["x", "k2"], ["row_values", "row_indices"], axis=-1),
        node("Neg", ["row_values"], ["negated"]),
        node("Scatter", ["kept", "row_indices", "negated"], ["y"], axis=-1),
    ]
    graph = helper.make_graph(nodes, "opset10_scatter", [_float_input("x", ["N", 6, "L"])],
                              [_float_input("y", ["N", 6, "L"])], inits)
    sizes = [(2, 11), (1, 16), (3, 5)]
    return (_finish(graph, 10, 5, "pytorch"),
            _input_sets(rng, [{"x": (n, 6, length)} for n, length in sizes]))


def _distinct_positions(rng, n, rows, length, count):
    """`count` distinct positions per row of [n, rows, length], half of them
    written as negative indices."""
    pos = np.stack([rng.permutation(length)[:count] for _ in range(n * rows)])
    pos = pos.reshape(n, rows, count).astype(np.int64)
    negative = rng.random(pos.shape) < 0.5
    return np.where(negative, pos - length, pos)


def opset11_scatter(rng):
    node = helper.make_node
    inits = [_const("reflect_pads", _i64(0, 0, 2, 0, 0, 3)), _const("idx2", _i64(2)),
             _const("eight", _i64(8)), _const("zeros5", _i64(0, 0, 0, 0, 0))]
    nodes = [
        node("GatherElements", ["x", "pos"], ["picked"], axis=-1),
        node("Neg", ["picked"], ["negated"]),
        node("ScatterElements", ["x", "pos", "negated"], ["scattered"], axis=-1),
        node("Pad", ["scattered", "reflect_pads"], ["reflected"], mode="reflect"),
        # Round the last axis up to a multiple of 8: pad (8 - L % 8) % 8.
        node("Shape", ["reflected"], ["shape"]),
        node("Gather", ["shape", "idx2"], ["length"], axis=0),
        node("Mod", ["length", "eight"], ["rem"]),
        node("Sub", ["eight", "rem"], ["missing"]),
        node("Mod", ["missing", "eight"], ["pad_end"]),
        node("Concat", ["zeros5", "pad_end"], ["edge_pads"], axis=0),
        node("Pad", ["reflected", "edge_pads"], ["y"], mode="edge"),
    ]
    graph = helper.make_graph(
        nodes, "opset11_scatter",
        [_float_input("x", ["N", 4, "L"]),
         helper.make_tensor_value_info("pos", TensorProto.INT64, ["N", 4, 2])],
        [_float_input("y", ["N", 4, "L_padded"])], inits)
    sets = []
    for n, length in [(2, 11), (1, 16), (3, 5)]:
        sets.append({"x": rng.standard_normal((n, 4, length)).astype(np.float32),
                     "pos": _distinct_positions(rng, n, 4, length, 2)})
    return _finish(graph, 11, 6, "pytorch"), sets


def vad_state(rng):
    hidden = 32
    inits = [
        _const("sr16k", np.array(16000, np.int64)),
        _const("one_i", np.array(1, np.int64)),
        _const("window", np.array(512, np.int64)),
        _const("frames16k", _i64(0, 8, 64)),
        _const("head_start", _i64(0)),
        _const("head_end16k", _i64(512)),
        _const("head_end8k", _i64(256)),
        _const("last_axis", _i64(1)),
        _const("frames8k", _i64(0, 8, 32)),
        _const("proj8k", _weights(rng, (32, 64), 0.3)),
        _const("lstm_w", _weights(rng, (1, 4 * hidden, 64), 0.2)),
        _const("lstm_r", _weights(rng, (1, 4 * hidden, hidden), 0.2)),
        _const("lstm_b", _weights(rng, (1, 8 * hidden), 0.1)),
        _const("zero_axis", _i64(0)),
        _const("head_w", _weights(rng, (hidden, 1), 0.5)),
        _const("head_b", _weights(rng, (1,), 0.1)),
    ]
    # 16 kHz: an inner If on the window length (a shape): short windows are
    # averaged (rank 2), full ones framed (rank 3). Only one of them fits the
    # rest of the graph: the condition must fold, which the window's static
    # length (--input-shape) allows.
    short = helper.make_graph(
        [helper.make_node("ReduceMean", ["x"], ["short_out"], axes=[1], keepdims=1,
                          name="vad/short/ReduceMean")],
        "short_window", [], [_float_input("short_out", ["N", 1])])
    full = helper.make_graph(
        [helper.make_node("Slice", ["x", "head_start", "head_end16k", "last_axis"],
                          ["head16k"], name="vad/full/Slice"),
         helper.make_node("Reshape", ["head16k", "frames16k"], ["full_out"],
                          name="vad/full/Reshape")],
        "full_window", [], [_float_input("full_out", ["N", 8, 64])])
    rate16k = helper.make_graph(
        [helper.make_node("Shape", ["x"], ["x_shape"], name="vad/16k/Shape"),
         helper.make_node("Gather", ["x_shape", "one_i"], ["width"], axis=0,
                          name="vad/16k/Gather"),
         helper.make_node("Less", ["width", "window"], ["is_short"], name="vad/16k/Less"),
         helper.make_node("If", ["is_short"], ["frames_a"], then_branch=short,
                          else_branch=full, name="vad/16k/If")],
        "rate_16k", [], [_float_input("frames_a", None)])
    # 8 kHz: half the samples, framed by 32 and projected to 64 features.
    rate8k = helper.make_graph(
        [helper.make_node("Slice", ["x", "head_start", "head_end8k", "last_axis"],
                          ["head8k"], name="vad/8k/Slice"),
         helper.make_node("Reshape", ["head8k", "frames8k"], ["framed8k"],
                          name="vad/8k/Reshape"),
         helper.make_node("MatMul", ["framed8k", "proj8k"], ["frames_b"],
                          name="vad/8k/MatMul")],
        "rate_8k", [], [_float_input("frames_b", ["N", 8, 64])])
    nodes = [
        helper.make_node("Equal", ["sr", "sr16k"], ["is16k"], name="vad/Equal"),
        helper.make_node("If", ["is16k"], ["frames"], then_branch=rate16k,
                         else_branch=rate8k, name="vad/If"),
        helper.make_node("Transpose", ["frames"], ["steps"], perm=[1, 0, 2],
                         name="vad/Transpose"),
        helper.make_node("LSTM", ["steps", "lstm_w", "lstm_r", "lstm_b", "", "h", "c"],
                         ["seq", "hn", "cn"], hidden_size=hidden, name="vad/LSTM"),
        helper.make_node("Squeeze", ["hn", "zero_axis"], ["last"], name="vad/Squeeze"),
        helper.make_node("MatMul", ["last", "head_w"], ["logit_raw"], name="vad/head/MatMul"),
        helper.make_node("Add", ["logit_raw", "head_b"], ["logit"], name="vad/head/Add"),
        helper.make_node("Sigmoid", ["logit"], ["speech"], name="vad/Sigmoid"),
    ]
    graph = helper.make_graph(
        nodes, "vad_state",
        [_float_input("x", ["batch", "samples"]),
         helper.make_tensor_value_info("sr", TensorProto.INT64, []),
         _float_input("h", [1, "batch", hidden]), _float_input("c", [1, "batch", hidden])],
        [_float_input("speech", ["batch", 1]), _float_input("hn", [1, "batch", hidden]),
         _float_input("cn", [1, "batch", hidden])], inits)
    sets = []
    for rate in (16000, 8000):
        sets.append({"x": rng.standard_normal((1, 1024)).astype(np.float32),
                     "sr": np.array(rate, np.int64),
                     "h": _weights(rng, (1, 1, hidden), 0.5),
                     "c": _weights(rng, (1, 1, hidden), 0.5)})
    return _finish(graph, 16, 8), sets


MODELS = {f.__name__: f for f in [ocr_neck, runtime_targets, p2o_hardswish, keras_nhwc,
                                   opset9_upsample, opset10_resize_slice, opset10_scatter,
                                   opset11_scatter, vad_state]}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("names", nargs="*", help=f"models (default: all of {', '.join(MODELS)})")
    args = ap.parse_args(argv)
    names = args.names or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown model(s): {', '.join(unknown)}")
    os.makedirs(args.outdir, exist_ok=True)
    for name in names:
        model, input_sets = MODELS[name](np.random.default_rng(sum(map(ord, name))))
        onnx.save(model, os.path.join(args.outdir, name + ".onnx"))
        for index, feeds in enumerate(input_sets):
            suffix = str(index + 1) if index else ""
            inputs = os.path.join(args.outdir, f"{name}.inputs{suffix}")
            os.makedirs(inputs, exist_ok=True)
            for key, value in feeds.items():
                np.save(os.path.join(inputs, key + ".npy"), value)
        print(f"wrote {name}.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
