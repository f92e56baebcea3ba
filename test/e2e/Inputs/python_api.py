"""The kiln Python package, end to end (test/e2e/python-package.test)."""
import json
import sys
import threading

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

import kiln

workdir = sys.argv[1]
rng = np.random.default_rng(0)

# A small model built here: y = softmax(x @ w + b), dynamic batch.
w = rng.standard_normal((16, 8)).astype(np.float32)
b = rng.standard_normal(8).astype(np.float32)
graph = helper.make_graph(
    [helper.make_node("MatMul", ["x", "w"], ["m"]),
     helper.make_node("Add", ["m", "b"], ["a"]),
     helper.make_node("Softmax", ["a"], ["y"], axis=-1)],
    "dense",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 16])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 8])],
    [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")])
proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
path = f"{workdir}/dense.onnx"
onnx.save(proto, path)


def reference(x):
    a = x.astype(np.float64) @ w + b
    e = np.exp(a - a.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# From a ModelProto, into a temporary library.
model = kiln.compile(proto)
print("inputs", model.inputs)
print("outputs", model.outputs)
x = rng.standard_normal((5, 16)).astype(np.float32)
y = model.run({"x": x})["y"]
print("run", y.shape, y.dtype, bool(np.allclose(y, reference(x), atol=1e-5)))
# A list in input order; float64 and non-contiguous inputs are converted.
y2 = model.run([x.astype(np.float64)[:, :]])["y"]
print("list", bool(np.array_equal(y, y2)))
strided = np.asfortranarray(x)
print("strided", bool(np.array_equal(model.run([strided])["y"], y)))

# Into a file, then loaded; fixed shapes.
lib = f"{workdir}/dense.so"
fixed = kiln.compile(path, lib, input_shapes={"x": [2, 16]})
print("fixed", fixed.inputs[0].shape, kiln.load(lib).inputs[0].shape)

# Several threads at once.
results = [None] * 8
def work(i):
    xi = rng.standard_normal((i + 1, 16)).astype(np.float32)
    results[i] = bool(np.allclose(model.run({"x": xi})["y"], reference(xi), atol=1e-5))
threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("threads", all(results))

median, fastest = model.bench({"x": x}, runs=5, warmup=1)
print("bench", 0 < fastest <= median)

# Per-kernel times (profile=True, as --profile); a model built without
# the timers says so.
p = kiln.compile(proto, profile=True).profile({"x": x}, runs=3, warmup=1)
print("profile", p["runs"], sorted(k["name"] for k in p["kernels"]),
      all(k["calls"] == 1 and k["ms"] >= 0 for k in p["kernels"]),
      0 < p["kernels_ms"], len(json.loads(p["trace"])["traceEvents"]))
try:
    model.profile({"x": x})
except kiln.RunError as e:
    print("RunError:", e)

# int8 with calibration sets given as dicts of arrays.
sets = [{"x": rng.standard_normal((4, 16)).astype(np.float32)} for _ in range(4)]
q = kiln.compile(proto, quantize="int8", calibration_data=sets)
print("int8", bool(np.allclose(q.run({"x": x})["y"], reference(x), atol=0.05)))

# The stages.
text = kiln.import_onnx(path)
print("import", "kiln.matmul" in text or "kiln.gemm" in text)
linalg = kiln.lower(kiln.lower(text, "kiln"), "linalg")
print("linalg", "linalg." in linalg)

# Errors carry the tools' messages.
for call in (lambda: model.run({"z": x}),
             lambda: model.run({"x": np.zeros((2, 3), np.float32)}),
             lambda: kiln.load(f"{workdir}/missing.so")):
    try:
        call()
    except kiln.RunError as error:
        print("RunError:", error)
for call in (lambda: kiln.compile(f"{workdir}/missing.onnx"),
             lambda: kiln.compile(proto, quantize="int3"),
             lambda: kiln.lower(text, "no-such-stage")):
    try:
        call()
    except kiln.CompileError as error:
        print("CompileError:", str(error).splitlines()[0])
