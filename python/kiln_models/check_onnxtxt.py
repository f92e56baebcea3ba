#!/usr/bin/env python3
"""Checks a compiled ONNX text model against ONNX Runtime on random inputs.

Usage: check_onnxtxt.py MODEL.onnxtxt LIBRARY.so WORKDIR --kiln-run PATH
                        [--value NAME=JSON ...] [--shape NAME=DxD ...]
                        [--not-ort NAME ...]
                        [--seed N] [--rtol R] [--atol A]

For the importer tests written in the ONNX text format: parses MODEL.onnxtxt
with onnx.parser (comment lines dropped), writes WORKDIR/model.onnx, draws
inputs for its graph inputs (their declared shapes must be static: floats
normal, integers in [0, 10), bools; --value gives an input's values, e.g.
axes or sizes that must be valid), runs ONNX Runtime (bench/ort_run.js) and
kiln-run on LIBRARY.so with them, and compares every output. Prints
"OUTPUT matches" or "OUTPUT MISMATCH ..." per output; exits 1 on a mismatch.
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np
import onnx
import onnx.parser

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def random_input(info, rng, shape=None):
    tensor = info.type.tensor_type
    if shape is None:
        shape = [d.dim_value for d in tensor.shape.dim]
        if any(d.dim_param or d.dim_value <= 0 for d in tensor.shape.dim):
            sys.exit(f"check_onnxtxt: input '{info.name}' needs a static "
                     "shape (or --shape)")
    dtype = onnx.mapping.TENSOR_TYPE_TO_NP_TYPE[tensor.elem_type]
    if dtype == np.bool_:
        return rng.integers(0, 2, size=shape).astype(np.bool_)
    if np.issubdtype(dtype, np.integer):
        return rng.integers(0, 10, size=shape).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("library")
    ap.add_argument("workdir")
    ap.add_argument("--kiln-run", required=True)
    ap.add_argument("--value", action="append", default=[], metavar="NAME=JSON",
                    help="an input's values (nested lists), instead of random ones")
    ap.add_argument("--shape", action="append", default=[], metavar="NAME=DxD",
                    help="the shape of a random input with dynamic dims")
    ap.add_argument("--not-ort", action="append", default=[], metavar="NAME",
                    help="an output ONNX Runtime gets wrong: not compared "
                         "(check Kiln's, in WORKDIR/kiln/NAME.npy, otherwise)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-5)
    args = ap.parse_args(argv)

    text = "\n".join(l for l in open(args.model).read().splitlines()
                     if not l.lstrip().startswith("#"))
    model = onnx.parser.parse_model(text)
    os.makedirs(args.workdir, exist_ok=True)
    onnx_path = os.path.join(args.workdir, "model.onnx")
    onnx.save(model, onnx_path)
    inputs_dir = os.path.join(args.workdir, "inputs")
    os.makedirs(inputs_dir, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    initializers = {i.name for i in model.graph.initializer}
    values = {}
    for spec in args.value:
        name, _, data = spec.partition("=")
        values[name] = json.loads(data)
    shapes = {}
    for spec in args.shape:
        name, _, dims = spec.partition("=")
        shapes[name] = [int(d) for d in dims.split("x")]
    kiln_args = []
    for info in model.graph.input:
        if info.name in initializers:
            continue
        path = os.path.join(inputs_dir, info.name + ".npy")
        tensor = random_input(info, rng, shapes.get(info.name))
        if info.name in values:
            tensor = np.array(values.pop(info.name), dtype=tensor.dtype).reshape(tensor.shape)
        np.save(path, tensor)
        kiln_args += ["--input", f"{info.name}={path}"]
    if values:
        sys.exit(f"check_onnxtxt: no graph inputs named {', '.join(values)}")
    ort_dir = os.path.join(args.workdir, "ort")
    subprocess.run(["node", os.path.join(REPO, "bench/ort_run.js"), onnx_path,
                    "--inputs", inputs_dir, "--output-dir", ort_dir, "--quiet"],
                   check=True)
    kiln_dir = os.path.join(args.workdir, "kiln")
    subprocess.run([args.kiln_run, args.library, *kiln_args, "--output-dir", kiln_dir],
                   check=True, stdout=subprocess.DEVNULL)
    failed = False
    for output in model.graph.output:
        if output.name in args.not_ort:
            print(f"{output.name} not compared with ONNX Runtime")
            continue
        expected = np.load(os.path.join(ort_dir, output.name + ".npy"))
        got = np.load(os.path.join(kiln_dir, output.name + ".npy"))
        if expected.shape != got.shape or expected.dtype != got.dtype:
            print(f"{output.name} MISMATCH: {got.dtype}{list(got.shape)} instead of "
                  f"{expected.dtype}{list(expected.shape)}")
            failed = True
            continue
        a, b = expected.astype(np.float64), got.astype(np.float64)
        close = np.isclose(b, a, rtol=args.rtol, atol=args.atol, equal_nan=True)
        if close.all():
            print(f"{output.name} matches")
        else:
            worst = np.unravel_index(np.argmax(np.abs(a - b) * ~close), a.shape)
            print(f"{output.name} MISMATCH: {int((~close).sum())} elements differ; "
                  f"at {list(worst)} got {b[worst]}, expected {a[worst]}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
