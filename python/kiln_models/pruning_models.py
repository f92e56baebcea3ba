#!/usr/bin/env python3
"""Models with structure zeroed in known places, for lossless pruning
(kiln-prune-channels) tests and benchmarks. Random weights; torch 1.13,
opset 17.

    /usr/bin/python3 pruning_models.py OUTDIR [NAME ...] [--size small|full]

Models:
  pruned_cnn   ResNet-style: a stem, then basic blocks (3x3 conv, BatchNorm,
               ReLU, 3x3 conv, BatchNorm, skip). 40 % of the first conv's
               output channels of every block are zeroed (weights, and the
               BatchNorm's shift and mean, so the channel is exactly 0).
  pruned_resnet
               The same CNN with a quarter of its residual stream's channels
               zeroed as well: the same channels of the stem and of every
               block's second conv (weights, the stem's bias, the
               BatchNorm's shift and mean), so those channels are 0 all
               along the stream, through the skips, the mean and into the
               classifier; and 40 % of each block's first-conv channels.
  pruned_ffn   A BERT-style encoder (export_models.BertEncoder) whose FFN
               neurons are 30 % zeroed (the first Linear's weight rows and
               bias) and a third of whose attention heads are zeroed in
               every layer (the value projection's rows and bias for the
               head; the head's query and key stay random).

Each NAME writes NAME.onnx, NAME.inputs.npz (random inputs), a directory
NAME.inputs/ with one NAME.npy per input, and NAME.pruned.json: the number
of zeroed channels or neurons per layer (the node name of the first conv of
the block, or of the FFN's first MatMul; "heads SCOPE" for the attention of
a layer), which the compile report must count exactly.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_models import BertConfig, BertEncoder, bert_inputs  # noqa: E402


class BasicBlock(nn.Module):
    def __init__(self, channels):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(x + self.bn2(self.conv2(y)))


class PrunedCNN(nn.Module):
    def __init__(self, channels, blocks):
        super().__init__()
        self.stem = nn.Conv2d(3, channels, 3, padding=1)
        self.blocks = nn.ModuleList(BasicBlock(channels) for _ in range(blocks))
        self.head = nn.Linear(channels, 10)

    def forward(self, x):
        x = torch.relu(self.stem(x))
        for block in self.blocks:
            x = block(x)
        return self.head(x.mean(dim=(2, 3)))


def randomize_batch_norms(model, rng):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            n = m.num_features
            m.weight.data = torch.tensor(rng.uniform(0.5, 1.5, n), dtype=torch.float32)
            m.bias.data = torch.tensor(rng.normal(0, 0.1, n), dtype=torch.float32)
            m.running_mean = torch.tensor(rng.normal(0, 0.1, n), dtype=torch.float32)
            m.running_var = torch.tensor(rng.uniform(0.5, 1.5, n), dtype=torch.float32)


def build_cnn(size, rng):
    channels, blocks, hw = (64, 4, 56) if size == "full" else (16, 2, 16)
    model = PrunedCNN(channels, blocks).eval()
    randomize_batch_norms(model, rng)
    zeroed = {}
    with torch.no_grad():
        for i, block in enumerate(model.blocks):
            gone = rng.choice(channels, size=int(round(0.4 * channels)), replace=False)
            block.conv1.weight[gone] = 0.0
            block.bn1.bias[gone] = 0.0
            block.bn1.running_mean[gone] = 0.0
            zeroed[f"/blocks.{i}/conv1/Conv"] = len(gone)
    x = rng.standard_normal((1, 3, hw, hw)).astype(np.float32)
    return model, {"input": x}, ["input"], zeroed


def build_resnet(size, rng):
    model, inputs, names, zeroed = build_cnn(size, rng)
    channels = model.stem.out_channels
    stream = rng.choice(channels, size=channels // 4, replace=False)
    with torch.no_grad():
        model.stem.weight[stream] = 0.0
        model.stem.bias[stream] = 0.0
        zeroed["/stem/Conv"] = len(stream)
        for i, block in enumerate(model.blocks):
            block.conv2.weight[stream] = 0.0
            block.bn2.bias[stream] = 0.0
            block.bn2.running_mean[stream] = 0.0
            zeroed[f"/blocks.{i}/conv2/Conv"] = len(stream)
    return model, inputs, names, zeroed


def build_ffn(size, rng):
    cfg = (BertConfig(vocab_size=1000, hidden=768, layers=4, heads=12,
                      intermediate=3072, seq_len=128)
           if size == "full" else
           BertConfig(vocab_size=200, hidden=64, layers=2, heads=4,
                      intermediate=128, seq_len=16))
    torch.manual_seed(int(rng.integers(1 << 30)))
    model = BertEncoder(cfg).eval()
    zeroed = {}
    with torch.no_grad():
        for i, layer in enumerate(model.layers):
            gone = rng.choice(cfg.intermediate, size=int(round(0.3 * cfg.intermediate)),
                              replace=False)
            layer.ffn_in.weight[gone] = 0.0
            layer.ffn_in.bias[gone] = 0.0
            zeroed[f"/layers.{i}/ffn_in/MatMul"] = len(gone)
            heads = rng.choice(cfg.heads, size=cfg.heads // 3, replace=False)
            d = cfg.hidden // cfg.heads
            value = layer.attention.value
            for h in heads:
                value.weight[h * d:(h + 1) * d] = 0.0
                value.bias[h * d:(h + 1) * d] = 0.0
            zeroed[f"heads /layers.{i}/attention"] = len(heads)
    inputs = bert_inputs(cfg, rng)
    return model, inputs, ["input_ids", "attention_mask"], zeroed


MODELS = {"pruned_cnn": build_cnn, "pruned_resnet": build_resnet,
          "pruned_ffn": build_ffn}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir")
    parser.add_argument("names", nargs="*", default=list(MODELS))
    parser.add_argument("--size", choices=["small", "full"], default="small")
    args = parser.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    for name in args.names:
        rng = np.random.default_rng(7)
        model, inputs, input_names, zeroed = MODELS[name](args.size, rng)
        path = os.path.join(args.outdir, f"{name}.onnx")
        torch.onnx.export(model, tuple(torch.from_numpy(inputs[n]) for n in input_names),
                          path, input_names=input_names, output_names=["output"],
                          opset_version=17)
        np.savez(os.path.join(args.outdir, f"{name}.inputs.npz"), **inputs)
        input_dir = os.path.join(args.outdir, f"{name}.inputs")
        os.makedirs(input_dir, exist_ok=True)
        for n, v in inputs.items():
            np.save(os.path.join(input_dir, f"{n}.npy"), v)
        with open(os.path.join(args.outdir, f"{name}.pruned.json"), "w") as f:
            json.dump(zeroed, f, indent=1, sort_keys=True)
        print(f"{name}: {sum(zeroed.values())} zeroed in {len(zeroed)} layers")


if __name__ == "__main__":
    main()
