"""Models whose channels meet or part along the channel dim, built with
onnx.helper (random weights), for kiln-prune-channels:

  concat_cnn  two convolution branches concatenated, as Inception and
              DenseNet blocks are: Conv(3->4, 3x3) + Relu and Conv(3->6,
              3x3) + Relu, Concat, Conv(10->5, 3x3). Channels 1 and 4 of the
              second branch are zero (weights and bias).
  split_cnn   a conv split in two, as CSP and ShuffleNet blocks are:
              Conv(3->8, 3x3) + Relu, Split [3, 5], Conv(3->4, 3x3) on the
              first piece and Conv(5->4, 1x1) on the second, whose outputs
              add. Channels 1 and 6 of the first conv are zero.

Writes NAME.onnx and NAME.inputs/input.npy into the directory given."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(0)


def values(*shape):
    return (rng.standard_normal(shape) / np.sqrt(np.prod(shape[1:]))).astype(np.float32)


wb, bb = values(6, 3, 3, 3), values(6)
wb[[1, 4]] = 0.0
bb[[1, 4]] = 0.0
arrays = {"wa": values(4, 3, 3, 3), "ba": values(4), "wb": wb, "bb": bb,
          "wc": values(5, 10, 3, 3), "bc": values(5)}
nodes = [
    helper.make_node("Conv", ["input", "wa", "ba"], ["ca"], pads=[1, 1, 1, 1], name="branch_a"),
    helper.make_node("Relu", ["ca"], ["ra"], name="relu_a"),
    helper.make_node("Conv", ["input", "wb", "bb"], ["cb"], pads=[1, 1, 1, 1], name="branch_b"),
    helper.make_node("Relu", ["cb"], ["rb"], name="relu_b"),
    helper.make_node("Concat", ["ra", "rb"], ["cat"], axis=1, name="concat"),
    helper.make_node("Conv", ["cat", "wc", "bc"], ["output"], pads=[1, 1, 1, 1], name="merge"),
]
graph = helper.make_graph(
    nodes, "concat_cnn",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, [2, 3, 9, 9])],
    [helper.make_tensor_value_info("output", TensorProto.FLOAT, [2, 5, 9, 9])],
    [numpy_helper.from_array(v, k) for k, v in arrays.items()])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def save(model, name):
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, f"{name}.onnx"))
    os.makedirs(os.path.join(out, f"{name}.inputs"), exist_ok=True)
    np.save(os.path.join(out, f"{name}.inputs", "input.npy"),
            rng.standard_normal((2, 3, 9, 9)).astype(np.float32))


save(model, "concat_cnn")

w, b = values(8, 3, 3, 3), values(8)
w[[1, 6]] = 0.0
b[[1, 6]] = 0.0
arrays = {"w": w, "b": b, "wa": values(4, 3, 3, 3), "wb": values(4, 5, 1, 1)}
nodes = [
    helper.make_node("Conv", ["input", "w", "b"], ["c"], pads=[1, 1, 1, 1], name="stem"),
    helper.make_node("Relu", ["c"], ["r"], name="relu"),
    helper.make_node("Split", ["r", "sizes"], ["a", "b_"], axis=1, name="split"),
    helper.make_node("Conv", ["a", "wa"], ["ya"], pads=[1, 1, 1, 1], name="left"),
    helper.make_node("Conv", ["b_", "wb"], ["yb"], name="right"),
    helper.make_node("Add", ["ya", "yb"], ["output"], name="sum"),
]
graph = helper.make_graph(
    nodes, "split_cnn",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, [2, 3, 9, 9])],
    [helper.make_tensor_value_info("output", TensorProto.FLOAT, [2, 4, 9, 9])],
    [numpy_helper.from_array(v, k) for k, v in arrays.items()] +
    [numpy_helper.from_array(np.array([3, 5], dtype=np.int64), "sizes")])
save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
     "split_cnn")
