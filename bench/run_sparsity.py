#!/usr/bin/env python3
"""Block-sparse products: one BERT-base FFN MatMul (128 x 768 x 3072, plus
its bias) whose weight is zero in a share of its 1x16 blocks, compiled by
Kiln with the cost model's choice (--sparsity=auto), with dense kernels only
(--sparsity=off) and with a 2:4 mask (--sparsity=2:4), and run by ONNX
Runtime, in the same run.

    /usr/bin/python3 bench/run_sparsity.py [--zeros 0.5 0.7 0.8 0.9]
                                           [--rounds 5] [--runs 50] [--threads 2]

The models come from python/kiln_models/sparse_models.py --single. Each
library is compiled once; the rounds alternate the runtimes and the table
gives the range of their medians; the speedup is of the rounds' medians.
The kernel column is what the compile report's `sparsity` entry says. It
also checks each library's outputs against float64 numpy (the masked
weights' for 2:4). Prints a Markdown section for docs/performance.md.
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


def kernel_choice(report):
    choices = json.load(open(report)).get("sparsity", [])
    return choices[0]["kernel"] if choices else "sgemm"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zeros", type=float, nargs="+",
                        default=[0.5, 0.7, 0.8, 0.9])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--kiln-bin", default=os.path.join(REPO, "build", "bin"))
    parser.add_argument("--workdir", default=None)
    args = parser.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="kiln-sparsity-")
    compile_bin = os.path.join(args.kiln_bin, "kiln-compile")
    rows = []
    ort_version = "?"
    for zeros in args.zeros:
        d = os.path.join(work, f"zeros{zeros}")
        run([sys.executable, os.path.join(REPO, "python/kiln_models/sparse_models.py"),
             d, "--single", "--zeros", str(zeros)])
        onnx_path = os.path.join(d, "sparse_ffn.onnx")
        inputs = os.path.join(d, "sparse_ffn.inputs")
        built = json.load(open(os.path.join(d, "sparse_ffn.json")))
        libraries, kernels, correct = {}, {}, {}
        for mode, expected in (("auto", "expected"), ("off", "expected"),
                               ("2:4", "expected24")):
            library = os.path.join(d, f"{mode.replace(':', '_')}.so")
            report = os.path.join(d, f"{mode.replace(':', '_')}.json")
            run([compile_bin, onnx_path, "-o", library, f"--sparsity={mode}",
                 f"--report={report}"])
            libraries[mode] = library
            kernels[mode] = kernel_choice(report)
            check = subprocess.run(
                kiln_run_args(args.kiln_bin, library, inputs, args.threads) +
                ["--expected", os.path.join(d, f"sparse_ffn.{expected}"),
                 "--rtol", "1e-4", "--atol", "1e-4"],
                capture_output=True, text=True)
            correct[mode] = check.returncode == 0
        times = {mode: [] for mode in (*libraries, "ort")}
        for _ in range(args.rounds):
            for mode, library in libraries.items():
                times[mode].append(kiln_median(args.kiln_bin, library, inputs,
                                               args.runs, args.threads))
            _, ort_median, _, ort_version, _ = bench_ort(
                onnx_path, inputs, d, args.runs, args.threads)
            times["ort"].append(ort_median)
        rows.append((zeros, built, kernels, correct, times))

    fmt = lambda v: f"{min(v):.3f}-{max(v):.3f}"
    median = lambda v: sorted(v)[len(v) // 2]
    print(f"## Block-sparse products ({cpu_name()}{host_isa()}, "
          f"{args.threads} threads)")
    print()
    print("Command: `/usr/bin/python3 bench/run_sparsity.py --zeros "
          f"{' '.join(str(z) for z in args.zeros)} --rounds {args.rounds} "
          f"--runs {args.runs} --threads {args.threads}` (ONNX Runtime "
          f"{ort_version} on the same models). One MatMul 128 x 768 x 3072 "
          "plus bias; its weight is zero in the given share of 1x16 blocks. "
          "Ranges are the medians of the alternated rounds; speedups are of "
          "the rounds' medians. Kernel: the compile report's choice.")
    print()
    print("| zero blocks | auto: kernel | auto (ms) | off: dense (ms) | "
          "auto speedup over dense | 2:4: kernel | 2:4 (ms) | ONNX Runtime (ms) "
          "| outputs match numpy |")
    print("| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | --- |")
    for zeros, built, kernels, correct, times in rows:
        speedup = median(times["off"]) / median(times["auto"])
        print(f"| {built['zero_blocks']:.0%} | {kernels['auto']} | "
              f"{fmt(times['auto'])} | {fmt(times['off'])} | {speedup:.2f}x | "
              f"{kernels['2:4']} | {fmt(times['2:4'])} | {fmt(times['ort'])} | "
              f"{'yes' if all(correct.values()) else 'NO'} |")


if __name__ == "__main__":
    main()
