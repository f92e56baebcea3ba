#!/usr/bin/env python3
"""Lossless pruning: models with zeroed structure, Kiln with and without
kiln-prune-channels, and ONNX Runtime, in the same run.

    /usr/bin/python3 bench/run_pruning.py [--rounds 3] [--runs 20] [--threads 2]

The models come from python/kiln_models/pruning_models.py --size full:
pruned_cnn (ResNet-style, 64 channels at 56x56, 4 blocks, 40 % of each
block's first-conv channels zeroed), pruned_resnet (the same, and a quarter
of the residual stream's channels zeroed in the stem and every block's
second conv) and pruned_ffn (BERT-style encoder, 4
layers of hidden 768, 4 of 12 heads and 30 % of the FFN neurons zeroed per
layer). Each library is compiled once; the rounds alternate the three
runtimes, and the table gives the range of their medians. It also checks
that the pruned library's outputs equal the unpruned one's (rtol 1e-4) and
that the report counts every zeroed structure. Prints a Markdown section for
docs/performance.md.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "bench"))
from run_bench import (bench_ort, cpu_name, host_isa, kiln_median,  # noqa: E402
                       kiln_run_args, run)

MODELS = ["pruned_cnn", "pruned_resnet", "pruned_ffn"]


def pruned_counts(report_path):
    """The report's pruned entries: (kind, removed) summed."""
    totals = {}
    for entry in json.load(open(report_path))["passes"]:
        for layer in entry.get("pruned", []):
            totals[layer["kind"]] = totals.get(layer["kind"], 0) + layer["removed"]
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--kiln-bin", default=os.path.join(REPO, "build", "bin"))
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="kiln-pruning-")
    os.makedirs(work, exist_ok=True)
    run([sys.executable, os.path.join(REPO, "python/kiln_models/pruning_models.py"),
         work, *MODELS, "--size", "full"])
    compile_bin = os.path.join(args.kiln_bin, "kiln-compile")
    rows = []
    for name in MODELS:
        onnx_path = os.path.join(work, f"{name}.onnx")
        inputs = os.path.join(work, f"{name}.inputs")
        pruned = os.path.join(work, f"{name}.so")
        dense = os.path.join(work, f"{name}.dense.so")
        report = os.path.join(work, f"{name}.report.json")
        run([compile_bin, onnx_path, "-o", pruned, f"--report={report}"])
        run([compile_bin, onnx_path, "-o", dense,
             "--disable-pass=kiln-prune-channels"])
        expected = os.path.join(work, f"{name}.dense-out")
        run(kiln_run_args(args.kiln_bin, dense, inputs, args.threads) +
            ["--output-dir", expected])
        check = subprocess.run(
            kiln_run_args(args.kiln_bin, pruned, inputs, args.threads) +
            ["--expected", expected, "--rtol", "1e-4", "--atol", "1e-5"],
            capture_output=True, text=True)
        zeroed = json.load(open(os.path.join(work, f"{name}.pruned.json")))
        counts = pruned_counts(report)
        times = {"dense": [], "pruned": [], "ort": []}
        for _ in range(args.rounds):
            times["dense"].append(kiln_median(args.kiln_bin, dense, inputs,
                                              args.runs, args.threads))
            times["pruned"].append(kiln_median(args.kiln_bin, pruned, inputs,
                                               args.runs, args.threads))
            _, ort_median, _, ort_version, _ = bench_ort(
                onnx_path, inputs, work, args.runs, args.threads)
            times["ort"].append(ort_median)
        ratios = [p / d for p, d in zip(times["pruned"], times["dense"])]
        rows.append((name, counts, sum(zeroed.values()), check.returncode == 0,
                     times, ratios, ort_version))

    fmt = lambda v: f"{min(v):.2f}-{max(v):.2f}" if len(v) > 1 else f"{v[0]:.2f}"
    median = lambda v: sorted(v)[len(v) // 2]
    print(f"## Lossless pruning ({cpu_name()}{host_isa()}, {args.threads} threads)")
    print()
    print("Command: `/usr/bin/python3 bench/run_pruning.py "
          f"--rounds {args.rounds} --runs {args.runs} --threads {args.threads}` "
          f"(ONNX Runtime {rows[0][6]} on the same zeroed models, dense). "
          "Ranges are the medians of the alternated rounds; the ratio is of the "
          "rounds' medians, with each round's ratio in parentheses.")
    print()
    print("| model | removed (report) | zeroed | outputs equal | Kiln unpruned (ms) "
          "| Kiln pruned (ms) | pruned / unpruned: median (rounds) | ONNX Runtime (ms) |")
    print("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: |")
    for name, counts, zeroed, equal, times, ratios, _ in rows:
        removed = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        print(f"| {name} | {removed} | {zeroed} | {'yes' if equal else 'NO'} | "
              f"{fmt(times['dense'])} | {fmt(times['pruned'])} | "
              f"{median(times['pruned']) / median(times['dense']):.2f} ({fmt(ratios)}) | "
              f"{fmt(times['ort'])} |")


if __name__ == "__main__":
    main()
