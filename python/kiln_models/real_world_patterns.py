#!/usr/bin/env python3
"""Models with the graph patterns other exporters emit, built with onnx.helper.

Usage: real_world_patterns.py OUTDIR [NAME ...]

Each model reproduces a pattern seen in models exported by tools other than
torch (Paddle2ONNX, hand-edited graphs), with random weights, and writes
OUTDIR/NAME.onnx and OUTDIR/NAME.inputs/<input>.npy (fixed seed).

  ocr_neck  Paddle2ONNX text recognition: a LayerNorm decomposed into
            ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add over [N, W, 120], a Reshape
            to a shape computed at run time (Shape -> Slice/Gather ->
            Concat) into [N, 1, W, 120], a Transpose to [N, 120, 1, W] and a
            1x1 Conv; batch and width are dynamic (N=2, W=37 in the inputs).
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


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
    return model, {"x": rng.standard_normal((2, 37, channels)).astype(np.float32)}


MODELS = {"ocr_neck": ocr_neck}


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
        model, feeds = MODELS[name](np.random.default_rng(sum(map(ord, name))))
        onnx.save(model, os.path.join(args.outdir, name + ".onnx"))
        inputs = os.path.join(args.outdir, name + ".inputs")
        os.makedirs(inputs, exist_ok=True)
        for key, value in feeds.items():
            np.save(os.path.join(inputs, key + ".npy"), value)
        print(f"wrote {name}.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
