#!/usr/bin/env python3
"""A character-level GPT trained here, for measuring quantization on a real
language model.

Usage: char_model.py OUTDIR [--steps N] [--layers L] [--hidden H]
                     [--heads A] [--context C] [--batch B] [--seed S]

Trains decoder_models.GPT2Decoder over bytes (vocab 256) on the license
texts Debian ships in /usr/share/common-licenses (the last 10 % of the
bytes held out), on the CPU in a few minutes, then exports it with its
key/value cache interface (the inputs and outputs of gpt2_decoder), so
the same tools run it. Writes into OUTDIR:

  char_gpt.onnx              the trained decoder
  char_gpt.eval/             held-out input set: input_ids [8, C] from the
                             held-out text, attention_mask, empty past_*
  char_gpt.targets.npy       the next byte of every position [8, C]
  char_gpt.prompt.txt        a held-out prompt of 32 bytes, as comma-separated
                             ids (bench/generate.c --prompt)
  char_gpt.json              training summary: held-out loss and perplexity
                             of the torch model

Run it with /usr/bin/python3 (torch).
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import decoder_models  # noqa: E402

LICENSES = "/usr/share/common-licenses"


def corpus():
    """The license texts, each file once (symlinks resolved), in name order."""
    seen, parts = set(), []
    for name in sorted(os.listdir(LICENSES)):
        path = os.path.realpath(os.path.join(LICENSES, name))
        if path in seen or not os.path.isfile(path):
            continue
        seen.add(path)
        with open(path, "rb") as f:
            parts.append(f.read())
    return np.frombuffer(b"\n".join(parts), dtype=np.uint8).astype(np.int64)


def batches(data, context, batch, rng):
    starts = rng.integers(0, len(data) - context - 1, size=batch)
    x = np.stack([data[s:s + context] for s in starts])
    y = np.stack([data[s + 1:s + context + 1] for s in starts])
    return torch.from_numpy(x), torch.from_numpy(y)


def forward(model, cfg, ids):
    """Logits of `ids` [batch, seq] with an empty cache."""
    b, s = ids.shape
    head_dim = cfg["hidden"] // cfg["heads"]
    past = [torch.zeros(b, cfg["heads"], 0, head_dim) for _ in range(2 * cfg["layers"])]
    mask = torch.ones(b, s, dtype=torch.int64)
    return model(ids, mask, *past)[0]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir")
    # Small enough to train in minutes here: Debian's torch multiplies
    # matrices slowly (0.2 s for one 4096 x 128 x 512 product).
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--context", type=int, default=256)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    os.makedirs(args.outdir, exist_ok=True)
    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    rng = np.random.default_rng(args.seed)

    data = corpus()
    split = int(len(data) * 0.9)
    train, held_out = data[:split], data[split:]
    cfg = {"layers": args.layers, "hidden": args.hidden, "heads": args.heads,
           "kv_heads": args.heads, "mlp": 4 * args.hidden, "vocab": 256}
    model = decoder_models.GPT2Decoder(args.layers, args.hidden, args.heads, 256,
                                       max_positions=2048)
    decoder_models.randomize(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-3,
                                                   total_steps=args.steps)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    for step in range(args.steps):
        x, y = batches(train, args.context, args.batch, rng)
        logits = forward(model, cfg, x)
        loss = loss_fn(logits.reshape(-1, 256), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        if step % 250 == 0 or step == args.steps - 1:
            print(f"step {step}: train loss {loss.item():.3f}", flush=True)

    # Held-out evaluation: 8 sequences of `context` bytes, spread over the
    # held-out text.
    model.eval()
    count = 8
    starts = np.linspace(0, len(held_out) - args.context - 2, count).astype(np.int64)
    x = np.stack([held_out[s:s + args.context] for s in starts])
    y = np.stack([held_out[s + 1:s + args.context + 1] for s in starts])
    with torch.no_grad():
        logits = forward(model, cfg, torch.from_numpy(x))
        loss = loss_fn(logits.reshape(-1, 256), torch.from_numpy(y).reshape(-1)).item()
    print(f"held-out loss {loss:.3f}, perplexity {math.exp(loss):.3f}")

    decoder_models.export(args.outdir, "char_gpt", cfg, args.context, [1], model=model)
    eval_dir = os.path.join(args.outdir, "char_gpt.eval")
    os.makedirs(eval_dir, exist_ok=True)
    feeds = decoder_models.feeds(cfg, rng, args.context, 0, batch=count)
    feeds["input_ids"] = x.astype(np.int64)
    for key, value in feeds.items():
        np.save(os.path.join(eval_dir, key + ".npy"), value)
    np.save(os.path.join(args.outdir, "char_gpt.targets.npy"), y.astype(np.int64))
    prompt = held_out[len(held_out) // 2:len(held_out) // 2 + 32]
    with open(os.path.join(args.outdir, "char_gpt.prompt.txt"), "w") as f:
        f.write(",".join(str(int(t)) for t in prompt) + "\n")
    with open(os.path.join(args.outdir, "char_gpt.json"), "w") as f:
        json.dump({"steps": args.steps, "held_out_loss": loss,
                   "held_out_perplexity": math.exp(loss), "config": cfg,
                   "train_bytes": int(len(train)), "held_out_bytes": int(len(held_out))},
                  f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
