#!/usr/bin/env python3
"""Kiln vs ONNX Runtime on the reference models, measured in the same run.

Usage: bench/run_bench.py [--models-dir DIR] [--models NAME ...] [--runs N]
                          [--threads T] [--report docs/performance.md]

For each model (exported by python/kiln_models/export_models.py into the
models directory when missing) it measures:
  - kiln-compile wall time (-O2, host CPU),
  - median and min latency of kiln-run --bench N --threads T,
  - ONNX Runtime (npm onnxruntime-node, CPU EP, graph optimizations 'all')
    session creation time and median/min latency at the same thread count,
  - the largest difference between the two outputs (a sanity check).
and writes a markdown table with the command line, date and machine to the
report. Benchmarks are not tests: nothing here asserts a time.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_MODELS = ["resnet50", "mobilenet_v2", "bert_encoder", "gpt2_block",
                  "mha_block"]


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, capture_output=True, text=True,
                          **kwargs)


def cpu_name():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def ensure_model(models_dir, name):
    onnx_path = os.path.join(models_dir, name + ".onnx")
    inputs = os.path.join(models_dir, name + ".inputs")
    if not os.path.exists(onnx_path):
        run([sys.executable, os.path.join(REPO, "python/kiln_models/export_models.py"),
             models_dir, "--only", name])
    if not os.path.isdir(inputs):
        run([sys.executable, os.path.join(REPO, "python/kiln_models/npz_tools.py"),
             "unpack", os.path.join(models_dir, name + ".inputs.npz"), inputs])
    return onnx_path, inputs


def bench_kiln(kiln_bin, onnx_path, inputs, workdir, runs, threads):
    library = os.path.join(workdir, "model.so")
    start = time.perf_counter()
    run([os.path.join(kiln_bin, "kiln-compile"), onnx_path, "-o", library])
    compile_s = time.perf_counter() - start
    args = [os.path.join(kiln_bin, "kiln-run"), library]
    for f in sorted(os.listdir(inputs)):
        args += ["--input", f"{f[:-4]}={os.path.join(inputs, f)}"]
    out_dir = os.path.join(workdir, "kiln-out")
    result = run(args + ["--output-dir", out_dir, "--bench", str(runs),
                         "--threads", str(threads)])
    m = re.search(r"median ([\d.]+) ms, min ([\d.]+) ms", result.stdout)
    return compile_s, float(m.group(1)), float(m.group(2)), out_dir


def bench_ort(onnx_path, inputs, workdir, runs, threads):
    out_dir = os.path.join(workdir, "ort-out")
    result = run(["node", os.path.join(REPO, "bench/ort_run.js"), onnx_path,
                  "--inputs", inputs, "--output-dir", out_dir, "--bench",
                  str(runs), "--threads", str(threads), "--quiet"])
    line = [l for l in result.stdout.splitlines() if l.startswith("{")][-1]
    info = json.loads(line)
    return (info["session_create_ms"] / 1000.0, info["median_ms"],
            info["min_ms"], info.get("ort_version", "?"), out_dir)


def max_difference(a_dir, b_dir):
    worst = 0.0
    for f in os.listdir(b_dir):
        a, b = np.load(os.path.join(a_dir, f)), np.load(os.path.join(b_dir, f))
        worst = max(worst, float(np.max(np.abs(a.astype(np.float64) - b))))
    return worst


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models-dir", default=os.path.join(tempfile.gettempdir(),
                                                             "kiln-bench-models"))
    parser.add_argument("--models", nargs="*", default=DEFAULT_MODELS)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--kiln-bin", default=os.path.join(REPO, "build/bin"))
    parser.add_argument("--report", default=os.path.join(REPO, "docs/performance.md"))
    args = parser.parse_args()
    os.makedirs(args.models_dir, exist_ok=True)

    rows, ort_version = [], "?"
    for name in args.models:
        onnx_path, inputs = ensure_model(args.models_dir, name)
        with tempfile.TemporaryDirectory() as work:
            k_compile, k_median, k_min, k_out = bench_kiln(
                args.kiln_bin, onnx_path, inputs, work, args.runs, args.threads)
            o_create, o_median, o_min, ort_version, o_out = bench_ort(
                onnx_path, inputs, work, args.runs, args.threads)
            diff = max_difference(k_out, o_out)
        rows.append((name, k_compile, k_median, k_min, o_create, o_median, o_min,
                     diff))
        print(f"{name}: kiln compile {k_compile:.1f} s, median {k_median:.2f} ms "
              f"(min {k_min:.2f}); ORT median {o_median:.2f} ms (min {o_min:.2f}); "
              f"max |diff| {diff:.2e}", flush=True)

    command = "/usr/bin/python3 bench/run_bench.py " + " ".join(
        f"--{k.replace('_', '-')} {v}" for k, v in
        (("runs", args.runs), ("threads", args.threads)))
    table = ["| model | Kiln compile (s) | Kiln median (ms) | Kiln min (ms) | "
             "ORT session (s) | ORT median (ms) | ORT min (ms) | Kiln / ORT | "
             "max abs diff |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name, kc, km, kn, oc, om, on, diff in rows:
        table.append(f"| {name} | {kc:.1f} | {km:.2f} | {kn:.2f} | {oc:.2f} | "
                     f"{om:.2f} | {on:.2f} | {km / om:.1f}x | {diff:.1e} |")
    section = "\n".join([
        f"## {datetime.date.today()}: {cpu_name()}, {os.cpu_count()} cores, "
        f"{args.threads} threads",
        "",
        f"Command: `{command}` (ONNX Runtime {ort_version}, "
        f"{args.runs} timed runs after 3 warm-ups, random inputs from "
        "python/kiln_models/export_models.py).",
        "",
        *table,
        ""])
    if args.report:
        header = "# Performance\n\nGenerated by bench/run_bench.py; newest first.\n\n"
        old = ""
        if os.path.exists(args.report):
            old = open(args.report).read()
            old = old[len(header):] if old.startswith(header) else old
        with open(args.report, "w") as f:
            f.write(header + section + "\n" + old)
    print(section)


if __name__ == "__main__":
    main()
