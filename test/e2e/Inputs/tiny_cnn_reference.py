#!/usr/bin/env python3
"""Numpy reference for examples/tiny_cnn.onnxtxt: writes random images of batch
N to OUTDIR/image.npy and the probabilities to OUTDIR/expected/probs.npy.

Usage: tiny_cnn_reference.py MODEL.onnxtxt OUTDIR N
"""
import os
import sys

import numpy as np
import onnx.numpy_helper
import onnx.parser

model = onnx.parser.parse_model(open(sys.argv[1]).read())
outdir, batch = sys.argv[2], int(sys.argv[3])
w = {t.name: onnx.numpy_helper.to_array(t) for t in model.graph.initializer}
rng = np.random.default_rng(batch)
image = rng.standard_normal((batch, 1, 8, 8)).astype(np.float32)

padded = np.pad(image, ((0, 0), (0, 0), (1, 1), (1, 1)))
conv = np.zeros((batch, 4, 8, 8), np.float32)
for i in range(8):
    for j in range(8):
        window = padded[:, :, i:i + 3, j:j + 3]  # N, 1, 3, 3
        conv[:, :, i, j] = np.einsum("nckl,mckl->nm", window, w["conv_weight"])
conv += w["conv_bias"][None, :, None, None]
act = np.maximum(conv, 0)
pool = act.reshape(batch, 4, 4, 2, 4, 2).max(axis=(3, 5))
logits = pool.reshape(batch, 64) @ w["fc_weight"].T + w["fc_bias"]
e = np.exp(logits - logits.max(axis=1, keepdims=True))
probs = e / e.sum(axis=1, keepdims=True)

os.makedirs(os.path.join(outdir, "expected"), exist_ok=True)
np.save(os.path.join(outdir, "image.npy"), image)
np.save(os.path.join(outdir, "expected", "probs.npy"), probs.astype(np.float32))
