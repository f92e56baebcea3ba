#!/usr/bin/env python3
"""Token generation with Kiln and ONNX Runtime in the same run.

Usage: /usr/bin/python3 bench/run_generation.py [--workdir DIR]
           [--models gpt2_decoder llama_decoder] [--modes none none+bound
           int8-weight+bound int4-weight+bound] [--past 128 512 2048]
           [--steps 16] [--runs 5] [--rounds 3] [--threads 2]
           [--kiln-bin build/bin] [--reuse]

For each decoder of python/kiln_models/decoder_models.py (exported into
--workdir when missing: GPT-2 small and the LLaMA-style decoder, random
weights), compiles one library per --modes entry (`none`: fp32;
int8-weight and int4-weight: weight-only quantization; `+bound`: with
--bind-kv-cache, the loop owning the cache buffers) and runs the same
generation loop through Kiln's C ABI (bench/generate.c) and through ONNX
Runtime (bench/ort_generate.js, fp32): prefill latency for 128 tokens, then
decode tokens per second after each --past length (the cache grows by
--steps tokens while measured), and peak RSS. Prints a Markdown table; "x
Kiln fp32" compares with the fp32 library of the same cache handling.
--reuse keeps libraries already compiled in --workdir.

The loops run --rounds times, each runtime once per round, one after the
other (Kiln's libraries, then ONNX Runtime), so that a change in the
machine's speed during the run reaches every runtime alike; the table gives
each figure's median over the rounds (peak RSS: the largest), and the
range of the decode figures when there is more than one round.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kwargs)


def summarize(results):
    """One runtime's rounds: the median prefill and decode figures, the
    range of each decode figure, the largest peak RSS."""
    decode = []
    for i, first in enumerate(results[0]["decode"]):
        rates = [r["decode"][i]["tokens_per_s"] for r in results]
        decode.append({"past": first["past"], "tokens_per_s": statistics.median(rates),
                       "range": (min(rates), max(rates))})
    return {"prefill_ms": statistics.median(r["prefill_ms"] for r in results),
            "peak_rss_mib": max(r["peak_rss_mib"] for r in results),
            "decode": decode}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workdir", default="/tmp/kiln-generation")
    ap.add_argument("--models", nargs="+", default=["gpt2_decoder", "llama_decoder"])
    ap.add_argument("--modes", nargs="+",
                    default=["none", "none+bound", "int8-weight+bound",
                             "int4-weight+bound"])
    ap.add_argument("--past", type=int, nargs="+", default=[128, 512, 2048])
    ap.add_argument("--steps", type=int, default=16)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--kiln-bin", default=os.path.join(REPO, "build", "bin"))
    ap.add_argument("--reuse", action="store_true")
    args = ap.parse_args(argv)
    work = args.workdir
    os.makedirs(work, exist_ok=True)
    compiler = shutil.which("clang-22") or shutil.which("clang") or "cc"
    generate = os.path.join(work, "generate")
    run([compiler, "-O2", "-I", os.path.join(REPO, "include"),
         os.path.join(REPO, "bench/generate.c"), "-ldl", "-o", generate])
    loop = ["--runs", str(args.runs), "--steps", str(args.steps), "--threads",
            str(args.threads)]
    for p in args.past:
        loop += ["--past", str(p)]

    rows = []
    for name in args.models:
        onnx = os.path.join(work, name + ".onnx")
        if not os.path.exists(onnx):
            print(f"exporting {name}...", file=sys.stderr)
            run([sys.executable, os.path.join(REPO, "python/kiln_models/decoder_models.py"),
                 work, name, "--past", "1"])
        libs = {}
        for mode in args.modes:
            quantize, _, cache = mode.partition("+")
            lib = os.path.join(work, f"{name}_{quantize}{'_' + cache if cache else ''}.so")
            if not (args.reuse and os.path.exists(lib)):
                print(f"compiling {name} ({mode})...", file=sys.stderr)
                flags = [f"--quantize={quantize}"]
                if cache == "bound":
                    flags.append("--bind-kv-cache")
                run([os.path.join(args.kiln_bin, "kiln-compile"), onnx, "-o", lib]
                    + flags)
            libs[mode] = lib
        rounds = {mode: [] for mode in args.modes}
        ort_rounds = []
        for r in range(args.rounds):
            print(f"{name}: round {r + 1} of {args.rounds}...", file=sys.stderr)
            for mode, lib in libs.items():
                rounds[mode].append(json.loads(run([generate, lib] + loop).stdout))
            ort_rounds.append(json.loads(
                run(["node", os.path.join(REPO, "bench/ort_generate.js"), onnx]
                    + loop).stdout))
        results = {mode: summarize(rs) for mode, rs in rounds.items()}
        ort = summarize(ort_rounds)
        for mode, r in results.items():
            quantize, _, cache = mode.partition("+")
            base = results.get("none" + ("+" + cache if cache else ""))
            label = "Kiln " + ("fp32" if quantize == "none" else quantize)
            if cache:
                label += ", bound cache"
            row = {"model": name, "runtime": label,
                   "prefill_ms": r["prefill_ms"], "rss": r["peak_rss_mib"], "decode": {}}
            for d, o, b in zip(r["decode"], ort["decode"],
                               base["decode"] if base else r["decode"]):
                row["decode"][d["past"]] = (d["tokens_per_s"], d["range"],
                                            d["tokens_per_s"] / o["tokens_per_s"],
                                            d["tokens_per_s"] / b["tokens_per_s"])
            rows.append(row)
        rows.append({"model": name, "runtime": "ONNX Runtime fp32",
                     "prefill_ms": ort["prefill_ms"], "rss": ort["peak_rss_mib"],
                     "decode": {d["past"]: (d["tokens_per_s"], d["range"], 1.0, None)
                                for d in ort["decode"]}})

    head = "| model | runtime | prefill 128 (ms) |"
    for p in args.past:
        head += f" decode after {p} (tokens/s: median, x ORT, x Kiln fp32" + (" (range)" if args.rounds > 1 else "") + ") |"
    print(head + " peak RSS (MiB) |")
    print("| --- | --- | ---: |" + " ---: |" * len(args.past) + " ---: |")
    for row in rows:
        line = f"| {row['model']} | {row['runtime']} | {row['prefill_ms']:.1f} |"
        for p in args.past:
            tps, spread, vs_ort, vs_fp32 = row["decode"][p]
            extra = f", {vs_ort:.2f}x" + (f", {vs_fp32:.2f}x" if vs_fp32 else "")
            if row["runtime"] == "ONNX Runtime fp32":
                extra = ""
            if args.rounds > 1:
                extra += f" ({spread[0]:.1f}-{spread[1]:.1f})"
            line += f" {tps:.1f}{extra} |"
        print(line + f" {row['rss']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
