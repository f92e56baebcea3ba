#!/usr/bin/env python3
"""Decoder language models with a key/value cache, exported to ONNX.

Usage: decoder_models.py OUTDIR [NAME ...] [--layers N] [--hidden H]
                         [--heads A] [--kv-heads G] [--mlp F] [--vocab V]
                         [--prefill S] [--past P ...]

gpt2_decoder: a GPT-2-shaped decoder (pre-LayerNorm blocks, tanh GELU,
learned positions (4096), tied output embedding) with inputs

  input_ids        int64 [batch, seq]
  attention_mask   int64 [batch, past + seq]   (1: attend, 0: padding)
  past_key_I       f32   [batch, heads, past, head_dim]  for each layer I
  past_value_I     f32   [batch, heads, past, head_dim]

and outputs logits [batch, seq, vocab] and present_key_I / present_value_I
[batch, heads, past + seq, head_dim] (the past with this step's keys and
values appended). Batch, sequence and past length are dynamic: one model
serves prefill (past 0) and decoding (seq 1). Weights are random (seeded);
the default shape is GPT-2 small (12 layers, hidden 768, 12 heads, vocab
50257).

Next to each model it writes input sets OUTDIR/NAME.prefill (seq
--prefill, default 128, past 0) and OUTDIR/NAME.decodeP (seq 1, past P) for
P in --past (default 1 127 1000), as .npy files named after the inputs.

llama_decoder: a LLaMA-shaped decoder with the same inputs and outputs:
RMSNorm, rotary position embedding (the rotate-half form: Slice, Neg,
Concat, Mul), a SwiGLU MLP, no biases, and grouped-query attention whose
cache holds --kv-heads heads (default 4) that groups of query heads share
(Expand and Reshape of the keys and values, as exporters write it). Its
past_* and present_* tensors are [batch, kv_heads, past, head_dim]. The
default shape: 12 layers, hidden 768, 12 query heads, 4 key/value heads,
MLP 2048, vocab 32000.

Run it with /usr/bin/python3 (torch).
"""

import argparse
import math
import os
import sys

import numpy as np
import torch
from torch import nn


class DecoderBlock(nn.Module):
    """A GPT-2 block over the current tokens, attending to past + current."""

    def __init__(self, hidden: int, heads: int):
        super().__init__()
        self.heads, self.head_dim = heads, hidden // heads
        self.ln_1 = nn.LayerNorm(hidden, eps=1e-5)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.proj = nn.Linear(hidden, hidden)
        self.ln_2 = nn.LayerNorm(hidden, eps=1e-5)
        self.mlp_in = nn.Linear(hidden, 4 * hidden)
        self.mlp_out = nn.Linear(4 * hidden, hidden)

    def split(self, t):
        b, s, _ = t.shape
        return t.view(b, s, self.heads, self.head_dim).transpose(1, 2)

    def forward(self, x, past_key, past_value, bias):
        q, k, v = self.qkv(self.ln_1(x)).chunk(3, dim=-1)
        q, k, v = self.split(q), self.split(k), self.split(v)
        key = torch.cat([past_key, k], dim=2)
        value = torch.cat([past_value, v], dim=2)
        scores = torch.matmul(q, key.transpose(-1, -2)) / math.sqrt(self.head_dim)
        probs = torch.softmax(scores + bias, dim=-1)
        context = torch.matmul(probs, value).transpose(1, 2)
        b, s, _, _ = context.shape
        x = x + self.proj(context.reshape(b, s, self.heads * self.head_dim))
        h = self.mlp_in(self.ln_2(x))
        h = 0.5 * h * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (h + 0.044715 * h ** 3)))
        return x + self.mlp_out(h), key, value


def causal_bias(attention_mask, past_len, total):
    """The additive attention bias [batch, 1, seq, total]: query i (at
    position past + i) sees the keys j <= past + i that the attention mask
    keeps, and -1e4 is added elsewhere."""
    query_pos = torch.arange(past_len, total, dtype=torch.int64).unsqueeze(1)
    key_pos = torch.arange(0, total, dtype=torch.int64).unsqueeze(0)
    causal = (key_pos <= query_pos).unsqueeze(0).unsqueeze(0)
    keep = causal & (attention_mask[:, None, None, :] > 0)
    return (1.0 - keep.to(torch.float32)) * -1e4


class GPT2Decoder(nn.Module):
    def __init__(self, layers, hidden, heads, vocab, max_positions=4096):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab, hidden)
        self.position_embedding = nn.Embedding(max_positions, hidden)
        self.blocks = nn.ModuleList(DecoderBlock(hidden, heads) for _ in range(layers))
        self.ln_f = nn.LayerNorm(hidden, eps=1e-5)

    def forward(self, input_ids, attention_mask, *past):
        seq = input_ids.shape[1]
        past_len = past[0].shape[2]
        total = past_len + seq
        positions = torch.arange(past_len, total, dtype=torch.int64).unsqueeze(0)
        x = self.token_embedding(input_ids) + self.position_embedding(positions)
        bias = causal_bias(attention_mask, past_len, total)
        presents = []
        for i, block in enumerate(self.blocks):
            x, key, value = block(x, past[2 * i], past[2 * i + 1], bias)
            presents += [key, value]
        logits = torch.matmul(self.ln_f(x), self.token_embedding.weight.t())
        return (logits, *presents)


class RMSNorm(nn.Module):
    def __init__(self, hidden: int, eps: float = 1e-6):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(hidden))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


class LlamaBlock(nn.Module):
    """A LLaMA block: grouped-query attention with rotary positions, SwiGLU."""

    def __init__(self, hidden: int, heads: int, kv_heads: int, mlp: int):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, hidden // heads
        self.attn_norm = RMSNorm(hidden)
        self.q = nn.Linear(hidden, hidden, bias=False)
        self.k = nn.Linear(hidden, kv_heads * self.head_dim, bias=False)
        self.v = nn.Linear(hidden, kv_heads * self.head_dim, bias=False)
        self.o = nn.Linear(hidden, hidden, bias=False)
        self.mlp_norm = RMSNorm(hidden)
        self.gate = nn.Linear(hidden, mlp, bias=False)
        self.up = nn.Linear(hidden, mlp, bias=False)
        self.down = nn.Linear(mlp, hidden, bias=False)

    def split(self, t, heads):
        b, s, _ = t.shape
        return t.view(b, s, heads, self.head_dim).transpose(1, 2)

    def repeat_kv(self, t):
        b, kvh, s, d = t.shape
        rep = self.heads // kvh
        return t[:, :, None, :, :].expand(b, kvh, rep, s, d).reshape(b, kvh * rep, s, d)

    def forward(self, x, past_key, past_value, cos, sin, bias):
        h = self.attn_norm(x)
        q = self.split(self.q(h), self.heads)
        k = self.split(self.k(h), self.kv_heads)
        v = self.split(self.v(h), self.kv_heads)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        key = torch.cat([past_key, k], dim=2)
        value = torch.cat([past_value, v], dim=2)
        scores = torch.matmul(q, self.repeat_kv(key).transpose(-1, -2)) / math.sqrt(self.head_dim)
        probs = torch.softmax(scores + bias, dim=-1)
        context = torch.matmul(probs, self.repeat_kv(value)).transpose(1, 2)
        b, s, _, _ = context.shape
        x = x + self.o(context.reshape(b, s, self.heads * self.head_dim))
        h = self.mlp_norm(x)
        g = self.gate(h)
        x = x + self.down(g * torch.sigmoid(g) * self.up(h))
        return x, key, value


class LlamaDecoder(nn.Module):
    def __init__(self, layers, hidden, heads, kv_heads, mlp, vocab):
        super().__init__()
        self.head_dim = hidden // heads
        self.token_embedding = nn.Embedding(vocab, hidden)
        self.blocks = nn.ModuleList(
            LlamaBlock(hidden, heads, kv_heads, mlp) for _ in range(layers))
        self.norm = RMSNorm(hidden)
        self.lm_head = nn.Linear(hidden, vocab, bias=False)

    def forward(self, input_ids, attention_mask, *past):
        seq = input_ids.shape[1]
        past_len = past[0].shape[2]
        total = past_len + seq
        positions = torch.arange(past_len, total, dtype=torch.int64).to(torch.float32)
        inv_freq = 1.0 / (10000.0 ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32)
                                      / self.head_dim))
        freqs = positions[:, None] * inv_freq[None, :]
        angles = torch.cat([freqs, freqs], dim=-1)
        cos, sin = torch.cos(angles), torch.sin(angles)
        x = self.token_embedding(input_ids)
        bias = causal_bias(attention_mask, past_len, total)
        presents = []
        for i, block in enumerate(self.blocks):
            x, key, value = block(x, past[2 * i], past[2 * i + 1], cos, sin, bias)
            presents += [key, value]
        return (self.lm_head(self.norm(x)), *presents)


def randomize(model):
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, nn.LayerNorm):
                module.weight.uniform_(0.5, 1.5)
                module.bias.normal_(0.0, 0.1)
            elif isinstance(module, RMSNorm):
                module.weight.uniform_(0.5, 1.5)
            elif isinstance(module, nn.Linear):
                module.weight.normal_(0.0, 0.02)
                if module.bias is not None:
                    module.bias.normal_(0.0, 0.02)
            elif isinstance(module, nn.Embedding):
                module.weight.normal_(0.0, 0.02)


def feeds(cfg, rng, seq, past, batch=1):
    layers, hidden, heads, kv_heads, vocab = cfg["layers"], cfg["hidden"], cfg["heads"], \
        cfg["kv_heads"], cfg["vocab"]
    head_dim = hidden // heads
    out = {"input_ids": rng.integers(0, vocab, size=(batch, seq), dtype=np.int64),
           "attention_mask": np.ones((batch, past + seq), dtype=np.int64)}
    for i in range(layers):
        for kind in ("key", "value"):
            out[f"past_{kind}_{i}"] = (rng.standard_normal(
                (batch, kv_heads, past, head_dim)) * 0.5).astype(np.float32)
    return out


def build(name, cfg):
    if name == "gpt2_decoder":
        return GPT2Decoder(cfg["layers"], cfg["hidden"], cfg["heads"], cfg["vocab"])
    return LlamaDecoder(cfg["layers"], cfg["hidden"], cfg["heads"], cfg["kv_heads"],
                        cfg["mlp"], cfg["vocab"])


def export(outdir, name, cfg, prefill, pasts, model=None):
    """Writes OUTDIR/NAME.onnx and its input sets; `model` (trained) or a
    new one of `name`'s architecture with random weights."""
    layers = cfg["layers"]
    torch.manual_seed(sum(map(ord, name)))
    if model is None:
        model = build(name, cfg)
        randomize(model)
    model.eval()
    rng = np.random.default_rng(sum(map(ord, name)))
    example = feeds(cfg, rng, 4, 3)
    args = tuple(torch.from_numpy(v) for v in example.values())
    names = list(example)
    outputs = ["logits"] + [f"present_{k}_{i}" for i in range(layers) for k in ("key", "value")]
    dynamic = {"input_ids": {0: "batch", 1: "seq"},
               "attention_mask": {0: "batch", 1: "total"},
               "logits": {0: "batch", 1: "seq"}}
    for i in range(layers):
        for kind in ("key", "value"):
            dynamic[f"past_{kind}_{i}"] = {0: "batch", 2: "past"}
            dynamic[f"present_{kind}_{i}"] = {0: "batch", 2: "total"}
    path = os.path.join(outdir, name + ".onnx")
    with torch.no_grad():
        torch.onnx.export(model, args, path, input_names=names, output_names=outputs,
                          dynamic_axes=dynamic, opset_version=17, do_constant_folding=True)
    sets = {"prefill": feeds(cfg, rng, prefill, 0)}
    for p in pasts:
        sets[f"decode{p}"] = feeds(cfg, rng, 1, p)
    for set_name, values in sets.items():
        d = os.path.join(outdir, f"{name}.{set_name}")
        os.makedirs(d, exist_ok=True)
        for key, value in values.items():
            np.save(os.path.join(d, key + ".npy"), value)
    print(f"wrote {name}.onnx and input sets {', '.join(sets)}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    ap.add_argument("names", nargs="*", default=["gpt2_decoder"])
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--kv-heads", type=int, default=None,
                    help="llama_decoder's key/value heads (default heads / 3)")
    ap.add_argument("--mlp", type=int, default=None,
                    help="llama_decoder's MLP width (default 8/3 hidden, a multiple of 256)")
    ap.add_argument("--vocab", type=int, default=None,
                    help="default 50257 (gpt2_decoder), 32000 (llama_decoder)")
    ap.add_argument("--prefill", type=int, default=128)
    ap.add_argument("--past", type=int, nargs="*", default=[1, 127, 1000])
    args = ap.parse_args(argv)
    os.makedirs(args.outdir, exist_ok=True)
    for name in args.names:
        if name not in ("gpt2_decoder", "llama_decoder"):
            ap.error(f"unknown model '{name}' (gpt2_decoder, llama_decoder)")
        llama = name == "llama_decoder"
        kv_heads = args.kv_heads if llama and args.kv_heads else (
            max(1, args.heads // 3) if llama else args.heads)
        if args.heads % kv_heads:
            ap.error(f"--heads {args.heads} is not a multiple of --kv-heads {kv_heads}")
        mlp = args.mlp or (-(-8 * args.hidden // 3 // 256) * 256)
        cfg = {"layers": args.layers, "hidden": args.hidden, "heads": args.heads,
               "kv_heads": kv_heads, "mlp": mlp,
               "vocab": args.vocab or (32000 if llama else 50257)}
        export(args.outdir, name, cfg, args.prefill, args.past)
    return 0


if __name__ == "__main__":
    sys.exit(main())
