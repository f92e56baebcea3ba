#!/usr/bin/env python3
"""Small models trained here on scikit-learn's digits, for accuracy tests of quantization.

Usage: train_digits.py OUTDIR [--epochs N]

Random weights say nothing about accuracy, so these models are trained (on the
CPU, in seconds) on the 8x8 handwritten digits that python3-sklearn ships. The
1797 images are shuffled with a fixed seed: 1297 train, 500 are held out.
It writes:

  OUTDIR/digits_cnn.onnx          conv 3x3 (16) - conv 3x3 (32) - max pool -
                                  linear 512x64 - linear 64x10; input [N, 1, 8, 8]
  OUTDIR/digits_transformer.onnx  the 8 image rows as 8 tokens: embedding to 64,
                                  two encoder layers (4 heads, LayerNorm, GELU
                                  FFN of 256), mean pool, linear 64x10;
                                  input [N, 8, 8]
  OUTDIR/digits_test/{cnn,transformer}/input.npy  the held-out images
  OUTDIR/digits_test/labels.npy                   their labels
  OUTDIR/digits_calibration/{cnn,transformer}/input.npy  100 training images

and prints each model's held-out top-1 accuracy (torch, fp32). Both models
take a dynamic batch. Training is deterministic (fixed seeds, one thread).
"""

import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 4 * 4, 64)
        self.fc2 = nn.Linear(64, 10)

    def forward(self, x):
        x = F.relu(self.conv1(x))
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.flatten(1)))
        return self.fc2(x)


class EncoderLayer(nn.Module):
    def __init__(self, hidden, heads, inner):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.proj = nn.Linear(hidden, hidden)
        self.ln1 = nn.LayerNorm(hidden)
        self.ln2 = nn.LayerNorm(hidden)
        self.ff1 = nn.Linear(hidden, inner)
        self.ff2 = nn.Linear(inner, hidden)

    def forward(self, x):
        b, s, h = x.shape
        d = h // self.heads
        q, k, v = self.qkv(x).split(h, dim=-1)
        q = q.reshape(b, s, self.heads, d).transpose(1, 2)
        k = k.reshape(b, s, self.heads, d).transpose(1, 2)
        v = v.reshape(b, s, self.heads, d).transpose(1, 2)
        attn = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d), dim=-1)
        y = (attn @ v).transpose(1, 2).reshape(b, s, h)
        x = self.ln1(x + self.proj(y))
        return self.ln2(x + self.ff2(F.gelu(self.ff1(x))))


class DigitsTransformer(nn.Module):
    def __init__(self, hidden=64, heads=4, inner=256, layers=2):
        super().__init__()
        self.embed = nn.Linear(8, hidden)
        self.position = nn.Parameter(torch.randn(8, hidden) * 0.02)
        self.layers = nn.ModuleList(
            [EncoderLayer(hidden, heads, inner) for _ in range(layers)])
        self.head = nn.Linear(hidden, 10)

    def forward(self, x):
        x = self.embed(x) + self.position
        for layer in self.layers:
            x = layer(x)
        return self.head(x.mean(dim=1))


def train(model, x, y, epochs, lr):
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    generator = torch.Generator().manual_seed(1)
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for start in range(0, len(x), 64):
            batch = order[start:start + 64]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[batch]), y[batch])
            loss.backward()
            optimizer.step()
    model.eval()
    return model


def accuracy(model, x, y):
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean()) * 100


def export(model, example, path):
    torch.onnx.export(model, example, path, opset_version=17,
                      input_names=["input"], output_names=["logits"],
                      dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--epochs", type=int, default=15)
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    digits = load_digits()
    images = (digits.data / 16.0).astype(np.float32).reshape(-1, 8, 8)
    labels = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(images))
    train_idx, test_idx = order[:1297], order[1297:]
    x_train, y_train = torch.from_numpy(images[train_idx]), torch.from_numpy(labels[train_idx])
    x_test, y_test = torch.from_numpy(images[test_idx]), torch.from_numpy(labels[test_idx])

    os.makedirs(args.outdir, exist_ok=True)
    np.save(os.path.join(_dir(args.outdir, "digits_test"), "labels.npy"), labels[test_idx])
    models = {
        "cnn": (DigitsCNN(), lambda x: x.unsqueeze(1), 3e-3),
        "transformer": (DigitsTransformer(), lambda x: x, 1e-3),
    }
    for name, (model, shape, lr) in models.items():
        train(model, shape(x_train), y_train, args.epochs, lr)
        acc = accuracy(model, shape(x_test), y_test)
        export(model, shape(x_test[:2]), os.path.join(args.outdir, f"digits_{name}.onnx"))
        np.save(os.path.join(_dir(args.outdir, "digits_test", name), "input.npy"),
                shape(x_test).numpy())
        np.save(os.path.join(_dir(args.outdir, "digits_calibration", name), "input.npy"),
                shape(x_train[:100]).numpy())
        print(f"digits_{name}: held-out top-1 {acc:.1f}% (torch fp32)")
    return 0


def _dir(*parts):
    path = os.path.join(*parts)
    os.makedirs(path, exist_ok=True)
    return path


if __name__ == "__main__":
    sys.exit(main())
