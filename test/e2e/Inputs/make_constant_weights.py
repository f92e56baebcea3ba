"""Writes a model whose MatMul, Gemm and Conv read constant weights (which
Kiln packs at compile time): MatMul(x[2,7,33], W[33,45]),
Gemm(z[5,33], V[45,33], c[45], transB=1) and a grouped, strided Conv with
bias and 13 output channels per group, seeded random values.

Usage: make_constant_weights.py OUT.onnx
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(4)
w = numpy_helper.from_array(rng.standard_normal((33, 45)).astype(np.float32), "W")
v = numpy_helper.from_array(rng.standard_normal((45, 33)).astype(np.float32), "V")
c = numpy_helper.from_array(rng.standard_normal((45,)).astype(np.float32), "c")
f = numpy_helper.from_array(rng.standard_normal((26, 3, 3, 2)).astype(np.float32), "F")
fb = numpy_helper.from_array(rng.standard_normal((26,)).astype(np.float32), "fb")
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "W"], ["y"]),
     helper.make_node("Gemm", ["z", "V", "c"], ["g"], transB=1),
     helper.make_node("Conv", ["image", "F", "fb"], ["conv"], group=2,
                      pads=[1, 0, 1, 1], strides=[2, 1])],
    "constant_weights",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 7, 33]),
     helper.make_tensor_value_info("z", TensorProto.FLOAT, [5, 33]),
     helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 6, 11, 9])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 7, 45]),
     helper.make_tensor_value_info("g", TensorProto.FLOAT, [5, 45]),
     helper.make_tensor_value_info("conv", TensorProto.FLOAT, [1, 26, 6, 9])],
    initializer=[w, v, c, f, fb])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, sys.argv[1])
