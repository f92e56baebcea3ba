#!/usr/bin/env python3
"""Weight-only quantization on a trained language model: perplexity and
greedy-decoding agreement, fp32 against int8-weight and int4-weight.

Usage: /usr/bin/python3 bench/llm_accuracy.py [--workdir DIR] [--steps N]
           [--kiln-bin build/bin] [--tokens 200] [--threads 2]
           [--int8-group 64] [--int4-groups 32 64] [--reuse]
           [--calibration-sequences 16] [--no-gptq]

Trains the character-level GPT of python/kiln_models/char_model.py (license
texts from /usr/share/common-licenses, --steps, a few minutes on 2 cores),
compiles it with kiln-compile in fp32, --quantize=int8-weight (group
--int8-group) and --quantize=int4-weight (each --int4-groups size), each
quantized variant twice: rounding each weight to nearest, and with
--calibration-data (GPTQ on activations measured on --calibration-sequences
sequences of the training text, never the held-out bytes). It measures:

  - perplexity on the held-out bytes (8 sequences, one forward pass each,
    through kiln-run), and its change against Kiln's fp32;
  - greedy decoding of --tokens bytes after a held-out prompt, through the
    C ABI (bench/generate.c): the share of positions where a quantized
    model's own greedy text has fp32's byte (after a first difference the
    texts drift apart, so this compounds), the length of the common
    prefix, and, along fp32's greedy text (teacher-forced, one forward
    pass), the share of steps where the quantized model's greedy choice is
    fp32's.

Prints a Markdown table and one JSON line. --reuse keeps a model already
trained in --workdir.
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kwargs)


def perplexity(logits, targets):
    logits = logits.astype(np.float64)
    logits -= logits.max(axis=-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)
    return math.exp(-picked.mean())


def write_input_set(eval_dir, out_dir, ids):
    """Writes the eval set's inputs into `out_dir` with `ids` [batch, seq]
    as input_ids, an all-ones attention mask and empty caches [batch,
    heads, 0, head dim]; returns kiln-run's --input flags for them."""
    os.makedirs(out_dir, exist_ok=True)
    flags = []
    for name in sorted(os.listdir(eval_dir)):
        value = np.load(os.path.join(eval_dir, name))
        if name == "input_ids.npy":
            value = ids
        elif name == "attention_mask.npy":
            value = np.ones_like(ids)
        else:
            value = np.zeros((ids.shape[0],) + value.shape[1:], dtype=value.dtype)
        np.save(os.path.join(out_dir, name), value)
        flags += ["--input", f"{name[:-4]}={os.path.join(out_dir, name)}"]
    return flags


def calibration_set(work, count):
    """An input set of `count` sequences of the model's context, evenly
    spaced over the training text (never the held-out bytes), with the
    eval set's empty caches: what --calibration-data measures on."""
    sys.path.insert(0, os.path.join(REPO, "python", "kiln_models"))
    import char_model  # noqa: E402 (imports torch)
    data = char_model.corpus()
    train = data[:int(len(data) * 0.9)]
    eval_dir = os.path.join(work, "char_gpt.eval")
    context = np.load(os.path.join(eval_dir, "input_ids.npy")).shape[1]
    starts = np.linspace(0, len(train) - context - 1, count).astype(np.int64)
    ids = np.stack([train[s:s + context] for s in starts]).astype(np.int64)
    calib = os.path.join(work, "char_gpt.calibration")
    write_input_set(eval_dir, calib, ids)
    return calib


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default="/tmp/kiln-llm-accuracy")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--kiln-bin", default=os.path.join(REPO, "build", "bin"))
    ap.add_argument("--tokens", type=int, default=200)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--int8-group", type=int, default=64,
                    help="group of int8-weight (the model's K is 64 or 256)")
    ap.add_argument("--int4-groups", type=int, nargs="+", default=[32, 64])
    ap.add_argument("--reuse", action="store_true")
    ap.add_argument("--calibration-sequences", type=int, default=16,
                    help="training-text sequences (of the model's context) that "
                         "GPTQ measures activations on")
    ap.add_argument("--no-gptq", action="store_true",
                    help="skip the calibrated (--calibration-data, GPTQ) variants")
    args = ap.parse_args(argv)
    os.makedirs(args.workdir, exist_ok=True)
    work = args.workdir
    model = os.path.join(work, "char_gpt.onnx")
    if not (args.reuse and os.path.exists(model)):
        print(f"training the character model ({args.steps} steps)...", file=sys.stderr)
        run([sys.executable, os.path.join(REPO, "python/kiln_models/char_model.py"), work,
             "--steps", str(args.steps)])
    summary = json.load(open(os.path.join(work, "char_gpt.json")))

    compiler = shutil.which("clang-22") or shutil.which("clang") or "cc"
    generate = os.path.join(work, "generate")
    run([compiler, "-O2", "-I", os.path.join(REPO, "include"),
         os.path.join(REPO, "bench/generate.c"), "-ldl", "-o", generate])

    calib_dir = calibration_set(work, args.calibration_sequences)
    # (label, file tag, kiln-compile flags)
    variants = [("fp32", "fp32", [])]
    quantized = [("int8-weight", args.int8_group)] + [("int4-weight", g)
                                                      for g in args.int4_groups]
    for mode, group in quantized:
        flags = [f"--quantize={mode}", f"--quantize-group={group}"]
        variants.append((f"{mode} (group {group})", f"{mode}_g{group}", flags))
        if not args.no_gptq:
            variants.append((f"{mode} (group {group}, GPTQ)", f"{mode}_g{group}_gptq",
                             flags + [f"--calibration-data={calib_dir}"]))
    eval_dir = os.path.join(work, "char_gpt.eval")
    targets = np.load(os.path.join(work, "char_gpt.targets.npy"))
    prompt = open(os.path.join(work, "char_gpt.prompt.txt")).read().strip()
    inputs = []
    for name in sorted(os.listdir(eval_dir)):
        inputs += ["--input", f"{name[:-4]}={os.path.join(eval_dir, name)}"]
    results = []
    for label, tag, flags in variants:
        lib = os.path.join(work, f"char_gpt_{tag}.so")
        run([os.path.join(args.kiln_bin, "kiln-compile"), model, "-o", lib] + flags)
        out = os.path.join(work, os.path.basename(lib) + ".out")
        run([os.path.join(args.kiln_bin, "kiln-run"), lib, "--output-dir", out,
             "--threads", str(args.threads)] + inputs)
        ppl = perplexity(np.load(os.path.join(out, "logits.npy")), targets)
        tokens = json.loads(run([generate, lib, "--prompt", prompt, "--generate",
                                 str(args.tokens), "--threads",
                                 str(args.threads)]).stdout)["tokens"]
        results.append({"variant": label, "perplexity": ppl, "tokens": tokens,
                        "lib": lib})
    base = results[0]
    # Teacher-forced: the prompt and fp32's greedy text in one pass; the
    # choices at the positions that predicted fp32's tokens.
    prompt_ids = [int(t) for t in prompt.split(",")]
    forced = np.array([prompt_ids + base["tokens"][:-1]], dtype=np.int64)
    forced_inputs = write_input_set(eval_dir, os.path.join(work, "forced"), forced)
    for r in results:
        out = r["lib"] + ".forced"
        run([os.path.join(args.kiln_bin, "kiln-run"), r["lib"], "--output-dir", out,
             "--threads", str(args.threads)] + forced_inputs)
        logits = np.load(os.path.join(out, "logits.npy"))[0, len(prompt_ids) - 1:]
        r["forced"] = logits.argmax(-1)
    print(f"Character-level GPT ({summary['config']['layers']} layers, hidden "
          f"{summary['config']['hidden']}, {summary['config']['heads']} heads, bytes), "
          f"trained {summary['steps']} steps on {summary['train_bytes']} bytes; "
          f"torch held-out perplexity {summary['held_out_perplexity']:.3f}.\n")
    print(f"| variant | held-out perplexity | change vs fp32 | greedy text: same byte "
          f"as fp32 ({args.tokens}) | common prefix | teacher-forced agreement |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        change = (r["perplexity"] / base["perplexity"] - 1) * 100
        same = np.array(r["tokens"]) == np.array(base["tokens"])
        agree = same.mean() * 100
        prefix = int(np.argmin(same)) if not same.all() else len(same)
        forced = np.mean(r["forced"] == np.array(base["tokens"])) * 100
        r.update(change_percent=change, agreement_percent=agree, common_prefix=prefix,
                 teacher_forced_percent=forced)
        print(f"| {r['variant']} | {r['perplexity']:.4f} | {change:+.2f} % | "
              f"{agree:.1f} % | {prefix} | {forced:.1f} % |")
    sample = bytes(base["tokens"]).decode("utf-8", "replace")
    print(f"\nfp32 greedy continuation: {sample[:120]!r}")
    print(json.dumps({"results": [{k: v for k, v in r.items()
                                   if k not in ("tokens", "lib", "forced")}
                                  for r in results]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
