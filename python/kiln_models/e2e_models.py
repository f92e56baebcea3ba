#!/usr/bin/env python3
"""Small torch models with reference outputs, for Kiln's end-to-end tests.

Usage: e2e_models.py OUTDIR [NAME ...]

For each model NAME this writes OUTDIR/NAME.onnx (torch.onnx.export, opset 17),
OUTDIR/NAME.inputs/<input>.npy and OUTDIR/NAME.expected/<output>.npy, the
outputs torch itself computes. The models cover the op families Kiln lowers:
a CNN (conv with groups/stride/padding, batch norm, max/avg pooling, residual
add, clip), a transformer block (layer norm, GELU, multi-head attention with an
additive mask, softmax) and a grab bag of data movement (split, slice with
steps, gather, concat, transpose, expand, where, reductions).
"""

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.depthwise = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.pointwise = nn.Conv2d(8, 16, 1)
        self.dilated = nn.Conv2d(16, 16, 3, padding=2, dilation=2, bias=False)
        self.up = nn.ConvTranspose2d(16, 4, 3, stride=2, padding=1, output_padding=1)
        self.fc = nn.Linear(4, 5)

    def forward(self, x):
        x = F.relu(self.bn(self.stem(x)))
        x = F.relu6(self.depthwise(x))
        x = self.pointwise(x)
        x = x + self.dilated(x)
        x = F.max_pool2d(x, 3, stride=2, padding=1)
        x = F.avg_pool2d(x, 2, ceil_mode=True, count_include_pad=False)
        x = torch.sigmoid(self.up(x))
        x = F.adaptive_avg_pool2d(x, 1).flatten(1)
        return F.softmax(self.fc(x), dim=-1)


class TransformerBlock(nn.Module):
    def __init__(self, hidden=32, heads=4):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.proj = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden)
        self.ln2 = nn.LayerNorm(hidden)
        self.ff1 = nn.Linear(hidden, 4 * hidden)
        self.ff2 = nn.Linear(4 * hidden, hidden)

    def forward(self, x, mask):
        b, s, h = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(h, dim=-1)
        def heads(t):
            return t.view(b, s, self.heads, h // self.heads).transpose(1, 2)
        q, k, v = heads(q), heads(k), heads(v)
        scores = q @ k.transpose(-1, -2) / (h // self.heads) ** 0.5 + mask
        attn = (F.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, s, h)
        x = x + self.proj(attn)
        return x + self.ff2(F.gelu(self.ff1(self.ln2(x))))


class DataMovement(nn.Module):
    def forward(self, x, idx):
        a, b = x.split([2, 4], dim=1)
        c = torch.cat([b[:, ::2], a.flip(1)], dim=1)
        g = torch.index_select(c, 0, idx)
        t = g.transpose(0, 1).expand(2, -1, -1)
        w = torch.where(t > 0, t, t * 0.1)
        m = w.mean(dim=-1, keepdim=True) + w.amax(dim=(0, 2)).sum()
        return torch.tanh(m).reshape(-1), c.sum(0)


MODELS = {
    "cnn": (SmallCNN, lambda r: {"x": r.standard_normal((2, 3, 16, 16))}),
    "transformer": (TransformerBlock, lambda r: {
        "x": r.standard_normal((2, 8, 32)),
        "mask": np.where(np.arange(8) < 6, 0.0, -1e4)[None, None, None, :]
                .repeat(2, 0)}),
    "data_movement": (DataMovement, lambda r: {
        "x": r.standard_normal((5, 6)),
        "idx": np.array([4, 0, 2], dtype=np.int64)}),
}


def export(name, outdir):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    module_class, make_inputs = MODELS[name]
    model = module_class().eval()
    # Non-trivial batch norm statistics.
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 1.5)
    inputs = {k: (v.astype(np.float32) if v.dtype == np.float64 else v)
              for k, v in make_inputs(rng).items()}
    args = tuple(torch.from_numpy(v) for v in inputs.values())
    with torch.no_grad():
        outputs = model(*args)
    if isinstance(outputs, torch.Tensor):
        outputs = (outputs,)
    output_names = [f"out{i}" for i in range(len(outputs))]
    path = os.path.join(outdir, name + ".onnx")
    torch.onnx.export(model, args, path, opset_version=17,
                      input_names=list(inputs), output_names=output_names)
    for kind, tensors in (("inputs", inputs),
                          ("expected", dict(zip(output_names,
                                                (o.numpy() for o in outputs))))):
        directory = os.path.join(outdir, f"{name}.{kind}")
        os.makedirs(directory, exist_ok=True)
        for key, value in tensors.items():
            np.save(os.path.join(directory, key + ".npy"), value)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir")
    parser.add_argument("names", nargs="*", default=list(MODELS))
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    for name in args.names:
        if name not in MODELS:
            sys.exit(f"unknown model {name}; known: {', '.join(MODELS)}")
        export(name, args.outdir)


if __name__ == "__main__":
    main()
