"""A small dense model with constant weights, y = relu(x @ w1) @ w2, and
calibration inputs for it: DIR/dense.onnx, DIR/calibration/set_I/x.npy."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
rng = np.random.default_rng(0)
w1 = rng.standard_normal((64, 64)).astype(np.float32) * 0.2
w2 = rng.standard_normal((64, 16)).astype(np.float32) * 0.2
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "w1"], ["h"], name="fc1"),
     helper.make_node("Relu", ["h"], ["r"], name="relu"),
     helper.make_node("MatMul", ["r", "w2"], ["y"], name="fc2")],
    "dense",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [8, 64])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [8, 16])],
    [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
          os.path.join(out, "dense.onnx"))
for i in range(4):
    os.makedirs(os.path.join(out, "calibration", f"set_{i}"), exist_ok=True)
    np.save(os.path.join(out, "calibration", f"set_{i}", "x.npy"),
            rng.standard_normal((8, 64)).astype(np.float32))
