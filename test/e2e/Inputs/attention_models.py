#!/usr/bin/env python3
"""Write small attention graphs (onnx.helper) and their numpy references.

Usage: attention_models.py OUTDIR [SEQ]

For each case OUTDIR/NAME.onnx, OUTDIR/NAME.inputs/*.npy and
OUTDIR/NAME.expected/out.npy are written. The graphs are the op-by-op form
exporters write (MatMul, Transpose, Div/Mul, Add/Where, Softmax, MatMul), so
Kiln's -O2 pipeline fuses them into kiln.attention; the reference is plain
numpy. Sequence lengths are not multiples of Kiln's 64-row tiles, so the
tile tails are exercised. With SEQ, only OUTDIR/longSEQ.onnx is written: 8 heads
of [SEQ, 64], for measuring memory.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def save(outdir, name, model, inputs, expected):
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(outdir, name + ".onnx"))
    for sub, arrays in (("inputs", inputs), ("expected", {"out": expected})):
        d = os.path.join(outdir, f"{name}.{sub}")
        os.makedirs(d, exist_ok=True)
        for key, value in arrays.items():
            np.save(os.path.join(d, key + ".npy"), value)


def additive(outdir, rng):
    """[B,H,S,D] inputs, K transposed by the graph, additive padding mask."""
    b, h, sq, sk, d = 2, 3, 100, 130, 16
    q = rng.standard_normal((b, h, sq, d), dtype=np.float32)
    k = rng.standard_normal((b, h, sk, d), dtype=np.float32)
    v = rng.standard_normal((b, h, sk, d), dtype=np.float32)
    mask = np.zeros((b, 1, 1, sk), dtype=np.float32)
    mask[0, ..., 120:] = -10000.0
    mask[1, ..., 70:] = -10000.0
    scale = np.float32(np.sqrt(d))
    nodes = [
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["s"]),
        helper.make_node("Div", ["s", "scale"], ["sd"]),
        helper.make_node("Add", ["sd", "mask"], ["sm"]),
        helper.make_node("Softmax", ["sm"], ["p"], axis=-1),
        helper.make_node("MatMul", ["p", "v"], ["out"]),
    ]
    f = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "additive",
        [helper.make_tensor_value_info("q", f, q.shape),
         helper.make_tensor_value_info("k", f, k.shape),
         helper.make_tensor_value_info("v", f, v.shape),
         helper.make_tensor_value_info("mask", f, mask.shape)],
        [helper.make_tensor_value_info("out", f, (b, h, sq, d))],
        [numpy_helper.from_array(np.array(scale), "scale")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    expected = softmax(q @ k.transpose(0, 1, 3, 2) / scale + mask) @ v
    save(outdir, "additive", model, {"q": q, "k": k, "v": v, "mask": mask},
         expected.astype(np.float32))


def causal(outdir, rng, name="causal", s=77, hidden_rows=0):
    """Rank-3 [H,S,D], bool causal mask through Where(cond, fill, scores).
    The last `hidden_rows` queries see no key at all (padding): every score
    of theirs is the fill, so softmax averages all values, and no key tile
    may be skipped for them."""
    h, d = 4, 8
    q = rng.standard_normal((h, s, d), dtype=np.float32)
    k = rng.standard_normal((h, s, d), dtype=np.float32)
    v = rng.standard_normal((h, s, d), dtype=np.float32)
    future = np.triu(np.ones((s, s), dtype=bool), k=1)
    future[s - hidden_rows:, :] = True
    nodes = [
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
        helper.make_node("MatMul", ["q", "kt"], ["s"]),
        helper.make_node("Mul", ["s", "scale"], ["ss"]),
        helper.make_node("Where", ["future", "fill", "ss"], ["sm"]),
        helper.make_node("Softmax", ["sm"], ["p"], axis=2),
        helper.make_node("MatMul", ["p", "v"], ["out"]),
    ]
    f = TensorProto.FLOAT
    scale = np.float32(1 / np.sqrt(d))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("q", f, q.shape),
         helper.make_tensor_value_info("k", f, k.shape),
         helper.make_tensor_value_info("v", f, v.shape)],
        [helper.make_tensor_value_info("out", f, (h, s, d))],
        [numpy_helper.from_array(np.array(scale), "scale"),
         numpy_helper.from_array(np.array(np.float32(-1e4)), "fill"),
         numpy_helper.from_array(future, "future")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    scores = np.where(future, np.float32(-1e4), (q @ k.transpose(0, 2, 1)) * scale)
    expected = softmax(scores) @ v
    save(outdir, name, model, {"q": q, "k": k, "v": v},
         expected.astype(np.float32))


def long_sequence(outdir, seq):
    """8 heads of [seq, 64] without mask: the op-by-op graph materializes an
    8 x seq x seq score tensor; the fused kernel does not."""
    shape = (1, 8, seq, 64)
    nodes = [
        helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 1, 3, 2]),
        helper.make_node("MatMul", ["q", "kt"], ["s"]),
        helper.make_node("Mul", ["s", "scale"], ["ss"]),
        helper.make_node("Softmax", ["ss"], ["p"], axis=-1),
        helper.make_node("MatMul", ["p", "v"], ["out"]),
    ]
    f = TensorProto.FLOAT
    graph = helper.make_graph(
        nodes, "long",
        [helper.make_tensor_value_info(n, f, shape) for n in ("q", "k", "v")],
        [helper.make_tensor_value_info("out", f, shape)],
        [numpy_helper.from_array(np.array(np.float32(0.125)), "scale")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(outdir, f"long{seq}.onnx"))


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    if len(sys.argv) > 2:  # attention_models.py OUTDIR SEQ: long{SEQ}.onnx only
        long_sequence(outdir, int(sys.argv[2]))
        return
    rng = np.random.default_rng(7)
    additive(outdir, rng)
    causal(outdir, rng)
    # Several 128-row tiles: key tiles hidden from a whole query tile are
    # skipped, unless a query row sees nothing at all.
    causal(outdir, rng, "causal300", 300)
    causal(outdir, rng, "padded300", 300, hidden_rows=60)


if __name__ == "__main__":
    main()
