"""A MobileNet-style block with dynamic height and width (pointwise conv,
Clip, a padded depthwise conv, Clip, a strided padded depthwise conv), its
inputs at several sizes, and the expected outputs from numpy loops.

Usage: depthwise_model.py OUT_DIR H,W [H,W ...]
Writes OUT_DIR/depthwise.onnx and, per size, OUT_DIR/HxW/{x.npy,
expected/y.npy}.
"""

import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

C = 24


def conv(x, w, b, pads, stride, group):
    n, c, h, wd = x.shape
    m, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    oh = (xp.shape[2] - kh) // stride + 1
    ow = (xp.shape[3] - kw) // stride + 1
    y = np.zeros((n, m, oh, ow), np.float64)
    per_group = m // group
    for o in range(m):
        g = o // per_group
        for ci in range(cg):
            for i in range(kh):
                for j in range(kw):
                    y[:, o] += w[o, ci, i, j] * xp[:, g * cg + ci,
                                                   i:i + stride * oh:stride,
                                                   j:j + stride * ow:stride]
        y[:, o] += b[o]
    return y


def main():
    out = sys.argv[1]
    rng = np.random.default_rng(7)
    w1 = (rng.standard_normal((C, C, 1, 1)) * 0.3).astype(np.float32)
    b1 = rng.standard_normal(C).astype(np.float32)
    w2 = (rng.standard_normal((C, 1, 3, 3)) * 0.3).astype(np.float32)
    b2 = rng.standard_normal(C).astype(np.float32)
    w3 = (rng.standard_normal((C, 1, 3, 3)) * 0.3).astype(np.float32)
    b3 = rng.standard_normal(C).astype(np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             [(w1, 'w1'), (b1, 'b1'), (w2, 'w2'), (b2, 'b2'), (w3, 'w3'),
              (b3, 'b3'), (np.array(0, np.float32), 'lo'),
              (np.array(6, np.float32), 'hi')]]
    nodes = [
        helper.make_node('Conv', ['x', 'w1', 'b1'], ['a']),
        helper.make_node('Clip', ['a', 'lo', 'hi'], ['b']),
        helper.make_node('Conv', ['b', 'w2', 'b2'], ['c'], group=C,
                         pads=[1, 1, 1, 1]),
        helper.make_node('Clip', ['c', 'lo', 'hi'], ['d']),
        helper.make_node('Conv', ['d', 'w3', 'b3'], ['y'], group=C,
                         pads=[1, 1, 1, 1], strides=[2, 2]),
    ]
    graph = helper.make_graph(
        nodes, 'depthwise',
        [helper.make_tensor_value_info('x', TensorProto.FLOAT,
                                       [1, C, 'h', 'w'])],
        [helper.make_tensor_value_info('y', TensorProto.FLOAT,
                                       [1, C, None, None])], inits)
    model = helper.make_model(graph,
                              opset_imports=[helper.make_opsetid('', 13)])
    model.ir_version = 8
    os.makedirs(out, exist_ok=True)
    onnx.save(model, os.path.join(out, 'depthwise.onnx'))
    for size in sys.argv[2:]:
        h, w = (int(v) for v in size.split(','))
        d = os.path.join(out, f'{h}x{w}')
        os.makedirs(os.path.join(d, 'expected'), exist_ok=True)
        x = rng.standard_normal((1, C, h, w)).astype(np.float32)
        a = np.clip(conv(x, w1, b1, [0, 0, 0, 0], 1, 1), 0, 6)
        c = np.clip(conv(a, w2, b2, [1, 1, 1, 1], 1, C), 0, 6)
        y = conv(c, w3, b3, [1, 1, 1, 1], 2, C)
        np.save(os.path.join(d, 'x.npy'), x)
        np.save(os.path.join(d, 'expected', 'y.npy'), y.astype(np.float32))


if __name__ == '__main__':
    main()
