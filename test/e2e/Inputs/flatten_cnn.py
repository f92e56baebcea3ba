"""A small CNN as torch exports classifiers, built with onnx.helper (random
weights): Conv(1->8, 3x3) + Relu, Conv(8->16, 3x3) + Relu, MaxPool 2x2,
Flatten, Gemm(256->32, trans_b) + Relu, Gemm(32->10, trans_b). Writes
flatten_cnn.onnx and flatten_cnn.inputs/input.npy into the directory given."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(0)


def tensor(name, *shape):
    return numpy_helper.from_array(
        (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32), name)


nodes = [
    helper.make_node("Conv", ["input", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], name="conv1"),
    helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
    helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
    helper.make_node("Relu", ["c2"], ["r2"], name="relu2"),
    helper.make_node("MaxPool", ["r2"], ["p"], kernel_shape=[2, 2], strides=[2, 2], name="pool"),
    helper.make_node("Flatten", ["p"], ["f"], axis=1, name="flatten"),
    helper.make_node("Gemm", ["f", "w3", "b3"], ["g1"], transB=1, name="fc1"),
    helper.make_node("Relu", ["g1"], ["r3"], name="relu3"),
    helper.make_node("Gemm", ["r3", "w4", "b4"], ["logits"], transB=1, name="fc2"),
]
weights = [tensor("w1", 8, 1, 3, 3), tensor("b1", 8), tensor("w2", 16, 8, 3, 3),
           tensor("b2", 16), tensor("w3", 32, 256), tensor("b3", 32),
           tensor("w4", 10, 32), tensor("b4", 10)]
graph = helper.make_graph(
    nodes, "flatten_cnn",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, [4, 1, 8, 8])],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [4, 10])], weights)
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
onnx.checker.check_model(model)
onnx.save(model, os.path.join(out, "flatten_cnn.onnx"))
os.makedirs(os.path.join(out, "flatten_cnn.inputs"), exist_ok=True)
np.save(os.path.join(out, "flatten_cnn.inputs", "input.npy"),
        rng.standard_normal((4, 1, 8, 8)).astype(np.float32))
