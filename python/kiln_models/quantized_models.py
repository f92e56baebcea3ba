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


MODELS = {
    "integer_products": integer_products,
    "qdq_linear": qdq_linear,
    "qdq_gemm_1024": lambda rng: _square_gemm(rng, True),
    "fp32_gemm_1024": lambda rng: _square_gemm(rng, False),
    "qdq_gemm_96": lambda rng: _square_gemm(rng, True, 96),
    "float_mlp": float_mlp,
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
