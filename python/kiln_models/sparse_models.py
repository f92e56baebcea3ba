#!/usr/bin/env python3
"""A feed-forward block with block-sparse weights, for the sparse kernel's
tests and benchmark (kiln-compile --sparsity). Built with onnx.helper; no
torch needed.

    /usr/bin/python3 sparse_models.py OUTDIR [--m M] [--k K] [--n N]
                                             [--zeros Z] [--seed S] [--single]

sparse_ffn.onnx computes y = relu(x @ w1 + b1) @ w2 + b2 for x [M][K],
w1 [K][N] and w2 [N][K]; with --single, y = x @ w1 + b1 (one product, for
the benchmark). w1 is zero in the fraction Z of its 1 x 16 blocks
(one k row of a panel of 16 columns: what the block-sparse kernel skips),
chosen at random; w2 is dense. Written next to it:

  sparse_ffn.inputs/x.npy   a random input
  sparse_ffn.expected/y.npy the output, computed here in float64
  sparse_ffn.expected24/y.npy the output after --sparsity=2:4 (each run of
                            four weights along the reduction keeps its two
                            of largest magnitude, ties to the earlier)
  sparse_ffn.json           the zero shares of w1 (weights and blocks)
"""

import argparse
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BLOCK = 16


def block_sparse(rng, k, n, zeros):
    """A [k][n] weight whose 1 x 16 blocks are zero with probability zeros."""
    w = rng.standard_normal((k, n)).astype(np.float32) / np.sqrt(k)
    panels = (n + BLOCK - 1) // BLOCK
    dead = rng.random((k, panels)) < zeros
    w *= ~np.repeat(dead, BLOCK, axis=1)[:, :n]
    return w


def mask_n_m(w, n, m, axis):
    """w with each run of m consecutive weights along `axis` keeping its n
    of largest magnitude (ties to the earlier), as kiln-sparsify does."""
    w = np.moveaxis(w.copy(), axis, -1)
    flat = w.reshape(-1, w.shape[-1])
    for row in flat:
        for start in range(0, len(row), m):
            run = row[start:start + m]
            # Stable sort of -|w|: equal magnitudes keep their order.
            order = np.argsort(-np.abs(run), kind="stable")
            run[order[n:]] = 0.0
    return np.moveaxis(flat.reshape(w.shape), -1, axis)


def ffn(x, w1, b1, w2, b2):
    h = x.astype(np.float64) @ w1 + b1
    if w2 is None:
        return h.astype(np.float32)
    return (np.maximum(h, 0.0) @ w2 + b2).astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("outdir")
    parser.add_argument("--m", type=int, default=128)
    parser.add_argument("--k", type=int, default=768)
    parser.add_argument("--n", type=int, default=3072)
    parser.add_argument("--zeros", type=float, default=0.8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--single", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    m, k, n = args.m, args.k, args.n
    w1 = block_sparse(rng, k, n, args.zeros)
    b1 = (0.1 * rng.standard_normal(n)).astype(np.float32)
    w2 = (rng.standard_normal((n, k)) / np.sqrt(n)).astype(np.float32)
    b2 = (0.1 * rng.standard_normal(k)).astype(np.float32)
    x = rng.standard_normal((m, k)).astype(np.float32)

    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h0"], name="ffn_in"),
        helper.make_node("Add", ["h0", "b1"], ["h1" if not args.single else "y"],
                         name="ffn_in_bias"),
    ]
    weights = [("w1", w1), ("b1", b1)]
    if args.single:
        w2 = b2 = None
    else:
        nodes += [
            helper.make_node("Relu", ["h1"], ["h"], name="ffn_relu"),
            helper.make_node("MatMul", ["h", "w2"], ["y0"], name="ffn_out"),
            helper.make_node("Add", ["y0", "b2"], ["y"], name="ffn_out_bias"),
        ]
        weights += [("w2", w2), ("b2", b2)]
    graph = helper.make_graph(
        nodes, "sparse_ffn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [m, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT,
                                       [m, n if args.single else k])],
        [numpy_helper.from_array(v, name) for name, v in weights])
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)

    os.makedirs(args.outdir, exist_ok=True)
    base = os.path.join(args.outdir, "sparse_ffn")
    onnx.save(model, base + ".onnx")
    for sub, name, value in (
            (".inputs", "x", x), (".expected", "y", ffn(x, w1, b1, w2, b2)),
            (".expected24", "y",
             ffn(x, mask_n_m(w1, 2, 4, 0), b1,
                 None if w2 is None else mask_n_m(w2, 2, 4, 0), b2))):
        os.makedirs(base + sub, exist_ok=True)
        np.save(os.path.join(base + sub, name + ".npy"), value)
    panels = (n + BLOCK - 1) // BLOCK
    padded = np.zeros((k, panels * BLOCK), np.float32)
    padded[:, :n] = w1
    blocks = np.abs(padded).reshape(k, panels, BLOCK).max(axis=2)
    with open(base + ".json", "w") as f:
        json.dump({"zero_weights": float(np.mean(w1 == 0)),
                   "zero_blocks": float(np.mean(blocks == 0))}, f)
    shape = f"{m}x{k} @ {k}x{n}" + ("" if args.single else f" @ {n}x{k}")
    print(f"sparse_ffn: {shape}, "
          f"{np.mean(blocks == 0):.1%} of w1's 1x16 blocks zero")


if __name__ == "__main__":
    main()
