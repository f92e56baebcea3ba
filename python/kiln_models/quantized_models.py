#!/usr/bin/env python3
"""Quantized ONNX models built with onnx.helper, for Kiln's int8 tests and benchmarks.

Usage: quantized_models.py OUTDIR [NAME ...]

For each model NAME this writes OUTDIR/NAME.onnx and OUTDIR/NAME.inputs/<input>.npy
(random data over the full range of each integer type, fixed seed). The models
need no reference of their own: tests compare Kiln's integer kernels with its
plain loop nests (-O0), which compute every product exactly, and with ONNX
Runtime where it runs the model.

  integer_products  MatMulInteger in every signedness combination, with scalar,
                    per-row and per-column zero points, batched and broadcast,
                    odd shapes (tails of every register tile); QLinearMatMul.
  qdq_linear        The QDQ form quantizers emit: DequantizeLinear of a uint8
                    activation and of per-channel int8 weights feeding MatMul and
                    Gemm (transB), then QuantizeLinear/DequantizeLinear of the
                    result, with a bias and ReLU in float between.
  qdq_gemm_1024     One 1024x1024x1024 QDQ MatMul (the int8 GEMM benchmark), and
  fp32_gemm_1024    the same product in float.
  qdq_gemm_96       The QDQ MatMul at 96x96x96 (for tests).
  float_mlp         A float MLP (Gemm transB, ReLU, MatMul, bias) for
                    kiln-compile --quantize=int8-dynamic.
  qdq_resnet        A ResNet-style CNN in QDQ form: a 3x3 stem, a residual
                    block of two 3x3 convolutions, a downsampling block (3x3
                    stride 2 beside a 1x1 stride 2 shortcut), global average
                    pooling and a Gemm; uint8 activations per tensor, int8
                    weights per output channel, float biases, every
                    activation scale taken from a float run of the same
                    weights (numpy) on the model's input.
  qoperator_cnn     The QOperator form (ONNX Runtime's quantizer with
                    QuantFormat.QOperator): QLinearConv, and the com.microsoft
                    QLinearLeakyRelu, QLinearAdd, QLinearMul, QLinearSigmoid,
                    QLinearConcat and QLinearGlobalAveragePool, uint8
                    activations with their own scales and zero points.
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13


def _rand_int(rng, dtype, shape):
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max + 1, size=shape, dtype=np.int64).astype(dtype)


def _const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def _model(nodes, inputs, outputs, initializers, name):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _info(name, dtype, shape):
    elem = onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[np.dtype(dtype)]
    return helper.make_tensor_value_info(name, elem, shape)


def integer_products(rng):
    """MatMulInteger / QLinearMatMul over the kernel's edge cases."""
    nodes, inputs, outputs, inits, feeds = [], [], [], [], {}

    def add_input(name, dtype, shape):
        inputs.append(_info(name, dtype, shape))
        feeds[name] = _rand_int(rng, dtype, shape)

    # u8 x s8, batched lhs, constant rhs, scalar lhs and per-column rhs zero points.
    add_input("a0", np.uint8, [3, 37, 70])
    inits += [_const("b0", _rand_int(rng, np.int8, [70, 45])),
              _const("za0", np.uint8(131)),
              _const("zb0", _rand_int(rng, np.int8, [45]))]
    nodes.append(helper.make_node("MatMulInteger", ["a0", "b0", "za0", "zb0"], ["y0"]))
    outputs.append(_info("y0", np.int32, [3, 37, 45]))

    # s8 x u8, both run-time inputs, per-row lhs zero point.
    add_input("a1", np.int8, [17, 131])
    add_input("b1", np.uint8, [131, 65])
    add_input("za1", np.int8, [17])
    nodes.append(helper.make_node("MatMulInteger", ["a1", "b1", "za1"], ["y1"]))
    outputs.append(_info("y1", np.int32, [17, 65]))

    # s8 x s8 and u8 x u8, no zero points, batch broadcast on the rhs, long K.
    add_input("a2", np.int8, [2, 9, 1000])
    add_input("b2", np.int8, [1, 1000, 33])
    nodes.append(helper.make_node("MatMulInteger", ["a2", "b2"], ["y2"]))
    outputs.append(_info("y2", np.int32, [2, 9, 33]))
    add_input("a3", np.uint8, [1, 300])
    add_input("b3", np.uint8, [300, 700])
    add_input("zb3", np.uint8, [])
    nodes.append(helper.make_node("MatMulInteger", ["a3", "b3", "", "zb3"], ["y3"]))
    outputs.append(_info("y3", np.int32, [1, 700]))

    # QLinearMatMul: the integer product, then requantization.
    add_input("a4", np.uint8, [20, 64])
    inits += [_const("sa4", np.float32(0.02)), _const("za4", np.uint8(120)),
              _const("b4", _rand_int(rng, np.int8, [64, 24])), _const("sb4", np.float32(0.005)),
              _const("zb4", np.int8(0)), _const("sy4", np.float32(0.5)), _const("zy4", np.uint8(128))]
    nodes.append(helper.make_node("QLinearMatMul", ["a4", "sa4", "za4", "b4", "sb4", "zb4", "sy4", "zy4"], ["y4"]))
    outputs.append(_info("y4", np.uint8, [20, 24]))
    return _model(nodes, inputs, outputs, inits, "integer_products"), feeds


def qdq_linear(rng):
    """DQ -> MatMul/Gemm <- DQ(weights), the quantizers' QDQ format."""
    hidden, out = 96, 40
    w0 = _rand_int(rng, np.int8, [hidden, out])
    w1 = _rand_int(rng, np.int8, [out, out])  # Gemm transB: [N, K]
    inits = [
        _const("sx", np.float32(0.03)), _const("zx", np.uint8(110)),
        _const("w0", w0), _const("sw0", (rng.random(out) * 0.01 + 0.001).astype(np.float32)),
        _const("zw0", np.zeros(out, np.int8)),
        _const("bias0", (rng.standard_normal(out) * 0.5).astype(np.float32)),
        _const("sh", np.float32(0.05)), _const("zh", np.uint8(0)),
        _const("w1", w1), _const("sw1", np.float32(0.004)), _const("zw1", np.int8(0)),
        _const("bias1", (rng.standard_normal(out) * 0.5).astype(np.float32)),
    ]
    nodes = [
        helper.make_node("DequantizeLinear", ["x", "sx", "zx"], ["xf"]),
        helper.make_node("DequantizeLinear", ["w0", "sw0", "zw0"], ["w0f"], axis=1),
        helper.make_node("MatMul", ["xf", "w0f"], ["h0"]),
        helper.make_node("Add", ["h0", "bias0"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("QuantizeLinear", ["h2", "sh", "zh"], ["hq"]),
        helper.make_node("DequantizeLinear", ["hq", "sh", "zh"], ["hf"]),
        helper.make_node("Reshape", ["hf", "flat"], ["hf2"]),
        helper.make_node("DequantizeLinear", ["w1", "sw1", "zw1"], ["w1f"]),
        helper.make_node("Gemm", ["hf2", "w1f", "bias1"], ["y"], transB=1),
    ]
    inits.append(_const("flat", np.array([-1, out], np.int64)))
    feeds = {"x": _rand_int(rng, np.uint8, [2, 16, hidden])}
    inputs = [_info("x", np.uint8, [2, 16, hidden])]
    outputs = [_info("y", np.float32, [32, out])]
    return _model(nodes, inputs, outputs, inits, "qdq_linear"), feeds


def _square_gemm(rng, quantized, n=1024):
    if quantized:
        inits = [_const("sx", np.float32(0.02)), _const("zx", np.uint8(128)),
                 _const("w", _rand_int(rng, np.int8, [n, n])),
                 _const("sw", np.full(n, 0.003, np.float32)), _const("zw", np.zeros(n, np.int8))]
        nodes = [helper.make_node("DequantizeLinear", ["x", "sx", "zx"], ["xf"]),
                 helper.make_node("DequantizeLinear", ["w", "sw", "zw"], ["wf"], axis=1),
                 helper.make_node("MatMul", ["xf", "wf"], ["y"])]
        feeds = {"x": _rand_int(rng, np.uint8, [n, n])}
        inputs = [_info("x", np.uint8, [n, n])]
    else:
        inits = [_const("w", rng.standard_normal((n, n)).astype(np.float32))]
        nodes = [helper.make_node("MatMul", ["x", "w"], ["y"])]
        feeds = {"x": rng.standard_normal((n, n)).astype(np.float32)}
        inputs = [_info("x", np.float32, [n, n])]
    name = ("qdq_gemm_" if quantized else "fp32_gemm_") + str(n)
    return _model(nodes, inputs, [_info("y", np.float32, [n, n])], inits, name), feeds


def float_mlp(rng):
    """A float two-layer MLP (Gemm with transB, then MatMul) for --quantize=int8-dynamic."""
    hidden, inner, out = 128, 256, 64
    inits = [
        _const("w0", (rng.standard_normal((inner, hidden)) / np.sqrt(hidden)).astype(np.float32)),
        _const("b0", (rng.standard_normal(inner) * 0.1).astype(np.float32)),
        _const("w1", (rng.standard_normal((inner, out)) / np.sqrt(inner)).astype(np.float32)),
        _const("b1", (rng.standard_normal(out) * 0.1).astype(np.float32)),
    ]
    nodes = [
        helper.make_node("Gemm", ["x", "w0", "b0"], ["h0"], transB=1),
        helper.make_node("Relu", ["h0"], ["h1"]),
        helper.make_node("MatMul", ["h1", "w1"], ["h2"]),
        helper.make_node("Add", ["h2", "b1"], ["y"]),
    ]
    feeds = {"x": rng.standard_normal((16, hidden)).astype(np.float32)}
    inputs = [_info("x", np.float32, [16, hidden])]
    outputs = [_info("y", np.float32, [16, out])]
    return _model(nodes, inputs, outputs, inits, "float_mlp"), feeds


def residual_ffn(rng):
    """A transformer-style feed-forward block with a residual sum, for
    --quantize=int8-dynamic: r = x Wr, y = relu(r W0 + b0) W1 + b1 + r. The
    second product is 1100 deep (more than one K block of the int8 kernel),
    and r is dead after the sum, which bufferization may write in place."""
    hidden, inner = 128, 1100
    inits = [
        _const("wr", (rng.standard_normal((hidden, hidden)) / np.sqrt(hidden)).astype(np.float32)),
        _const("w0", (rng.standard_normal((hidden, inner)) / np.sqrt(hidden)).astype(np.float32)),
        _const("b0", (rng.standard_normal(inner) * 0.1).astype(np.float32)),
        _const("w1", (rng.standard_normal((inner, hidden)) / np.sqrt(inner)).astype(np.float32)),
        _const("b1", (rng.standard_normal(hidden) * 0.1).astype(np.float32)),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "wr"], ["r"]),
        helper.make_node("MatMul", ["r", "w0"], ["h0"]),
        helper.make_node("Add", ["h0", "b0"], ["h1"]),
        helper.make_node("Relu", ["h1"], ["h2"]),
        helper.make_node("MatMul", ["h2", "w1"], ["h3"]),
        helper.make_node("Add", ["h3", "b1"], ["h4"]),
        helper.make_node("Add", ["h4", "r"], ["y"]),
    ]
    feeds = {"x": rng.standard_normal((1, 64, hidden)).astype(np.float32)}
    inputs = [_info("x", np.float32, [1, 64, hidden])]
    outputs = [_info("y", np.float32, [1, 64, hidden])]
    return _model(nodes, inputs, outputs, inits, "residual_ffn"), feeds


def _conv_nchw(x, w, b, stride, pad):
    """A float 2-D convolution (numpy, NCHW): what the QDQ model computes."""
    n, c, h, wd = x.shape
    m, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh = (h + 2 * pad - kh) // stride + 1
    ow = (wd + 2 * pad - kw) // stride + 1
    cols = np.empty((n, c, kh, kw, oh, ow), np.float32)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
    y = np.einsum("mckl,ncklhw->nmhw", w, cols)
    return y + b.reshape(1, m, 1, 1)


def _activation_qparams(inits, name, values):
    """The uint8 scale and zero point (initializers NAME_s, NAME_z) that map
    the range of `values`, widened to include 0, onto [0, 255]."""
    lo, hi = min(float(values.min()), 0.0), max(float(values.max()), 0.0)
    scale = max(hi - lo, 1e-6) / 255.0
    zero = int(np.clip(np.round(-lo / scale), 0, 255))
    inits.extend([_const(name + "_s", np.float32(scale)), _const(name + "_z", np.uint8(zero))])
    return [name + "_s", name + "_z"]


def _channel_weights(w):
    """`w` ([M, ...]) as symmetric int8 per output channel, and the scales."""
    scale = np.maximum(np.abs(w).reshape(w.shape[0], -1).max(axis=1), 1e-8) / 127.0
    shape = (-1,) + (1,) * (w.ndim - 1)
    wq = np.clip(np.round(w / scale.reshape(shape)), -127, 127).astype(np.int8)
    return wq, scale.astype(np.float32)


def qdq_resnet(rng):
    """A small ResNet-style CNN in the QDQ form quantizers emit."""
    def weight(m, c, k):
        return (rng.standard_normal((m, c, k, k)) * np.sqrt(2.0 / (c * k * k))).astype(np.float32)

    x = rng.standard_normal((2, 3, 32, 32)).astype(np.float32)
    layers = {  # name: (weight, bias, stride, pad)
        "stem": (weight(16, 3, 3), 0.1 * rng.standard_normal(16), 1, 1),
        "b1a": (weight(16, 16, 3), 0.1 * rng.standard_normal(16), 1, 1),
        "b1b": (weight(16, 16, 3), 0.1 * rng.standard_normal(16), 1, 1),
        "b2a": (weight(32, 16, 3), 0.1 * rng.standard_normal(32), 2, 1),
        "b2b": (weight(32, 32, 3), 0.1 * rng.standard_normal(32), 1, 1),
        "b2s": (weight(32, 16, 1), 0.1 * rng.standard_normal(32), 2, 0),
    }
    fc_w = (rng.standard_normal((10, 32)) / np.sqrt(32)).astype(np.float32)
    fc_b = (0.1 * rng.standard_normal(10)).astype(np.float32)

    def conv(name, v):
        w, b, stride, pad = layers[name]
        return _conv_nchw(v, w, b.astype(np.float32), stride, pad)

    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    # The float forward pass, for the activation ranges.
    acts = {"x": x}
    acts["h0"] = relu(conv("stem", x))
    acts["h1"] = relu(conv("b1a", acts["h0"]))
    acts["h2"] = relu(conv("b1b", acts["h1"]) + acts["h0"])
    acts["h3"] = relu(conv("b2a", acts["h2"]))
    acts["h4"] = relu(conv("b2b", acts["h3"]) + conv("b2s", acts["h2"]))
    acts["p"] = acts["h4"].mean(axis=(2, 3))
    acts["y"] = acts["p"] @ fc_w.T + fc_b

    inits, nodes = [], []

    def qparams(name):
        return _activation_qparams(inits, name, acts[name])

    def qdq(name, src):
        """Q then DQ of float `src` with the ranges of activation `name`."""
        qparams(name)
        nodes.append(helper.make_node("QuantizeLinear", [src, name + "_s", name + "_z"], [name + "_q"]))
        nodes.append(helper.make_node("DequantizeLinear", [name + "_q", name + "_s", name + "_z"], [name + "_dq"]))
        return name + "_dq"

    def qconv(name, src, out):
        w, b, stride, pad = layers[name]
        wq, scale = _channel_weights(w)
        inits.extend([_const(name + "_w", wq), _const(name + "_ws", scale),
                      _const(name + "_wz", np.zeros(w.shape[0], np.int8)),
                      _const(name + "_b", b.astype(np.float32))])
        nodes.append(helper.make_node("DequantizeLinear", [name + "_w", name + "_ws", name + "_wz"],
                                      [name + "_wf"], axis=0))
        nodes.append(helper.make_node("Conv", [src, name + "_wf", name + "_b"], [out],
                                      strides=[stride, stride], pads=[pad] * 4))

    xin = qdq("x", "x")
    qconv("stem", xin, "c0")
    nodes.append(helper.make_node("Relu", ["c0"], ["r0"]))
    h0 = qdq("h0", "r0")
    qconv("b1a", h0, "c1")
    nodes.append(helper.make_node("Relu", ["c1"], ["r1"]))
    h1 = qdq("h1", "r1")
    qconv("b1b", h1, "c2")
    nodes.append(helper.make_node("Add", ["c2", h0], ["s2"]))
    nodes.append(helper.make_node("Relu", ["s2"], ["r2"]))
    h2 = qdq("h2", "r2")
    qconv("b2a", h2, "c3")
    nodes.append(helper.make_node("Relu", ["c3"], ["r3"]))
    h3 = qdq("h3", "r3")
    qconv("b2b", h3, "c4")
    qconv("b2s", h2, "c5")
    nodes.append(helper.make_node("Add", ["c4", "c5"], ["s4"]))
    nodes.append(helper.make_node("Relu", ["s4"], ["r4"]))
    h4 = qdq("h4", "r4")
    nodes.append(helper.make_node("GlobalAveragePool", [h4], ["gp"]))
    nodes.append(helper.make_node("Flatten", ["gp"], ["p0"]))
    p = qdq("p", "p0")
    fc_q, fc_s = _channel_weights(fc_w)
    inits.extend([_const("fc_w", fc_q), _const("fc_ws", fc_s), _const("fc_wz", np.zeros(10, np.int8)),
                  _const("fc_b", fc_b)])
    nodes.append(helper.make_node("DequantizeLinear", ["fc_w", "fc_ws", "fc_wz"], ["fc_wf"], axis=0))
    nodes.append(helper.make_node("Gemm", [p, "fc_wf", "fc_b"], ["g"], transB=1))
    qdq("y", "g")
    nodes.append(helper.make_node("Identity", ["y_dq"], ["y"]))
    inputs = [_info("x", np.float32, list(x.shape))]
    outputs = [_info("y", np.float32, [2, 10])]
    return _model(nodes, inputs, outputs, inits, "qdq_resnet"), {"x": x}


def qoperator_cnn(rng):
    """A small CNN in ONNX Runtime's QOperator form (com.microsoft ops)."""
    x = rng.standard_normal((1, 8, 12, 12)).astype(np.float32)
    w1 = (rng.standard_normal((16, 8, 3, 3)) * 0.2).astype(np.float32)
    w2 = (rng.standard_normal((16, 16, 1, 1)) * 0.3).astype(np.float32)
    w3 = (rng.standard_normal((8, 16, 3, 3)) * 0.1).astype(np.float32)
    leaky = lambda v: np.where(v >= 0, v, 0.1 * v)  # noqa: E731
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    # The float forward pass, for the activation ranges.
    acts = {"x": x}
    acts["c1"] = _conv_nchw(x, w1, np.zeros(16, np.float32), 1, 1)
    acts["l1"] = leaky(acts["c1"])
    acts["c2"] = _conv_nchw(acts["l1"], w2, np.zeros(16, np.float32), 1, 0)
    acts["a2"] = acts["c2"] + acts["l1"]
    acts["m2"] = acts["a2"] * acts["l1"]
    acts["s2"] = sigmoid(acts["m2"])
    acts["c3"] = _conv_nchw(acts["s2"], w3, np.zeros(8, np.float32), 2, 1)
    acts["cat"] = np.concatenate([acts["c3"], acts["s2"][:, :8, ::2, ::2]], axis=1)
    acts["gp"] = acts["cat"].mean(axis=(2, 3), keepdims=True)
    inits, nodes = [], []

    def qparams(name):
        return _activation_qparams(inits, name, acts[name])

    def weight(name, w):
        wq, scale = _channel_weights(w)
        inits.extend([_const(name, wq), _const(name + "_s", scale),
                      _const(name + "_z", np.int8(0))])
        return [name, name + "_s", name + "_z"]

    ms = "com.microsoft"
    xq = ["x"] + qparams("x")
    nodes.append(helper.make_node("QuantizeLinear", ["xf", "x_s", "x_z"], ["x"]))
    c1 = ["c1"] + qparams("c1")
    nodes.append(helper.make_node("QLinearConv", xq + weight("w1", w1) + c1[1:], ["c1"], pads=[1] * 4))
    l1 = ["l1"] + qparams("l1")
    nodes.append(helper.make_node("QLinearLeakyRelu", c1 + l1[1:], ["l1"], domain=ms, alpha=0.1))
    c2 = ["c2"] + qparams("c2")
    nodes.append(helper.make_node("QLinearConv", l1 + weight("w2", w2) + c2[1:], ["c2"]))
    a2 = ["a2"] + qparams("a2")
    nodes.append(helper.make_node("QLinearAdd", c2 + l1 + a2[1:], ["a2"], domain=ms))
    m2 = ["m2"] + qparams("m2")
    nodes.append(helper.make_node("QLinearMul", a2 + l1 + m2[1:], ["m2"], domain=ms))
    s2 = ["s2"] + qparams("s2")
    nodes.append(helper.make_node("QLinearSigmoid", m2 + s2[1:], ["s2"], domain=ms))
    c3 = ["c3"] + qparams("c3")
    nodes.append(helper.make_node("QLinearConv", s2 + weight("w3", w3) + c3[1:], ["c3"],
                                  pads=[1] * 4, strides=[2, 2]))
    inits.extend([_const("sl_starts", np.array([0, 0, 0], np.int64)),
                  _const("sl_ends", np.array([8, 12, 12], np.int64)),
                  _const("sl_axes", np.array([1, 2, 3], np.int64)),
                  _const("sl_steps", np.array([1, 2, 2], np.int64))])
    nodes.append(helper.make_node("Slice", ["s2", "sl_starts", "sl_ends", "sl_axes", "sl_steps"], ["s2h"]))
    cat = ["cat"] + qparams("cat")
    nodes.append(helper.make_node("QLinearConcat", cat[1:] + c3 + ["s2h", "s2_s", "s2_z"], ["cat"],
                                  domain=ms, axis=1))
    gp = ["gp"] + qparams("gp")
    nodes.append(helper.make_node("QLinearGlobalAveragePool", cat + gp[1:], ["gp"], domain=ms))
    nodes.append(helper.make_node("DequantizeLinear", gp, ["y"]))
    nodes.append(helper.make_node("DequantizeLinear", cat, ["features"]))
    graph = helper.make_graph(nodes, "qoperator_cnn", [_info("xf", np.float32, list(x.shape))],
                              [_info("y", np.float32, [1, 16, 1, 1]),
                               _info("features", np.float32, [1, 16, 6, 6])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET),
                                                    helper.make_opsetid(ms, 1)])
    model.ir_version = 8
    return model, {"xf": x}


MODELS = {
    "integer_products": integer_products,
    "qdq_linear": qdq_linear,
    "qdq_gemm_1024": lambda rng: _square_gemm(rng, True),
    "fp32_gemm_1024": lambda rng: _square_gemm(rng, False),
    "qdq_gemm_96": lambda rng: _square_gemm(rng, True, 96),
    "float_mlp": float_mlp,
    "residual_ffn": residual_ffn,
    "qdq_resnet": qdq_resnet,
    "qoperator_cnn": qoperator_cnn,
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("names", nargs="*", help=f"models to write (default: all of {', '.join(MODELS)})")
    args = ap.parse_args(argv)
    names = args.names or list(MODELS)
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown model(s): {', '.join(unknown)}")
    os.makedirs(args.outdir, exist_ok=True)
    for name in names:
        rng = np.random.default_rng(sum(map(ord, name)))
        model, feeds = MODELS[name](rng)
        onnx.save(model, os.path.join(args.outdir, name + ".onnx"))
        input_dir = os.path.join(args.outdir, name + ".inputs")
        os.makedirs(input_dir, exist_ok=True)
        for key, value in feeds.items():
            np.save(os.path.join(input_dir, key + ".npy"), value)
        print(f"wrote {name}.onnx and {len(feeds)} input(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
