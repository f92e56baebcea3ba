#!/usr/bin/env python3
"""Kiln vs ONNX Runtime on the reference models, measured in the same run.

Usage: bench/run_bench.py [--models-dir DIR] [--models NAME ...]
                          [--gemms NAME ...] [--runs N] [--threads T]
                          [--opt-levels "1 2"] [--kiln-bin DIR]
                          [--cpu NAME] [--report docs/performance.md]

--cpu NAME compiles every Kiln library for that CPU (x86-64-v3: the AVX2
kernels, to measure them on an AVX-512 machine).

For each model (exported by python/kiln_models/export_models.py into the
models directory when missing) it measures:
  - at each Kiln optimization level of --opt-levels (default -O1, graph fusion
    off, and -O2, graph fusion on): kiln-compile wall time (host CPU) and the
    median and min latency of kiln-run --bench N --threads T,
  - the peak resident memory of one kiln-run invocation (one inference,
    library load included) at the highest level, with /usr/bin/time -f %M,
  - ONNX Runtime (npm onnxruntime-node, CPU EP, graph optimizations 'all')
    session creation time and median/min latency at the same thread count,
  - the largest difference between Kiln's outputs (any level) and ONNX
    Runtime's (a sanity check).
Then int8 (--int8-models, --int8-gemms): each model compiled with
kiln-compile --quantize=int8-dynamic (NAME or NAME:dynamic) or with
--quantize=int8 calibrated on its input set (NAME:static) against the same
model in fp32 (speedup and the int8 output's SQNR against fp32), and a QDQ
1024^3 MatMul
(python/kiln_models/quantized_models.py) on Kiln's int8 kernel and on ONNX
Runtime, in GOP/s and as a share of the int8 peak bench/probe/int8_peak.c
measures (VPDPBUSD with VNNI, else VPMADDWD).
Then the GEMM microbenchmarks (one MatMul with a constant weight, --gemms) at
the highest level against ONNX Runtime, in GFLOP/s and as a share of this
machine's peak, which bench/probe/peak.c measures in the same run (fp32 FMA
throughput of the widest vector unit on T threads; read bandwidth for the
GEMV, whose weight streams from memory once per call).
It writes markdown tables with the command line, date, machine and ISA to the
report (newest first; --report '' only prints it). Benchmarks are not tests:
nothing here asserts a time.
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
DEFAULT_MODELS = ["resnet50", "mobilenet_v2", "bert_base", "gpt2_block_768",
                  "mha_block"]
# name -> (m, n, k) of the product; the weight is k x n.
GEMMS = {"gemm_1024": (1024, 1024, 1024), "gemm_bert_ffn": (128, 3072, 768),
         "gemv_4096": (1, 4096, 4096), "gemv_768x3072": (1, 3072, 768),
         "gemv_3072x768": (1, 768, 3072)}
DEFAULT_OPT_LEVELS = [1, 2]
DEFAULT_INT8_MODELS = ["bert_base", "bert_base:static", "resnet50:static"]
# name -> (m, n, k, the fp32 GEMM model of the same product).
INT8_GEMMS = {"qdq_gemm_1024": (1024, 1024, 1024, "fp32_gemm_1024")}
# What each kiln-compile -O level does to the graph (docs/user-guide.md).
OPT_LEVEL_NOTES = {0: "no folding or fusion", 1: "fusion off", 2: "fusion on"}
TIME_BIN = "/usr/bin/time"  # GNU time: -f %M prints the peak RSS in KiB


def run(cmd, **kwargs):
    return subprocess.run(cmd, check=True, capture_output=True, text=True,
                          **kwargs)


# Flags every Kiln library is compiled with (--cpu).
COMPILE_FLAGS = []


def host_isa():
    """The widest vector ISA /proc/cpuinfo lists, for the report's header."""
    try:
        flags = next(line for line in open("/proc/cpuinfo")
                     if line.startswith("flags")).split()
    except (OSError, StopIteration):
        return ""
    if "avx512f" in flags:
        return ", AVX-512" + (" + VNNI" if "avx512_vnni" in flags else "")
    return ", AVX2" if "avx2" in flags else ""


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


def ensure_quantized_model(models_dir, name):
    onnx_path = os.path.join(models_dir, name + ".onnx")
    inputs = os.path.join(models_dir, name + ".inputs")
    if not os.path.exists(onnx_path) or not os.path.isdir(inputs):
        run([sys.executable, os.path.join(REPO, "python/kiln_models/quantized_models.py"),
             models_dir, name])
    return onnx_path, inputs


def parse_opt_levels(values):
    """["1 2"] or ["1", "2"] or ["1,2"] -> [1, 2] (sorted, unique, 0..3)."""
    levels = set()
    for value in values:
        for item in re.split(r"[\s,]+", value.strip()):
            if not item:
                continue
            level = int(item.lstrip("-O")) if item.lstrip("-O").isdigit() else -1
            if not 0 <= level <= 3:
                raise argparse.ArgumentTypeError(
                    f"--opt-levels: {item!r} is not a level 0..3")
            levels.add(level)
    if not levels:
        raise argparse.ArgumentTypeError("--opt-levels: no level given")
    return sorted(levels)


def level_name(level):
    note = OPT_LEVEL_NOTES.get(level)
    return f"Kiln -O{level}" + (f" ({note})" if note else "")


def kiln_run_args(kiln_bin, library, inputs, threads):
    args = [os.path.join(kiln_bin, "kiln-run"), library]
    for f in sorted(os.listdir(inputs)):
        args += ["--input", f"{f[:-4]}={os.path.join(inputs, f)}"]
    return args + ["--threads", str(threads)]


def kiln_median(kiln_bin, library, inputs, runs, threads):
    """The median latency (ms) kiln-run --bench reports for `library`."""
    out = run(kiln_run_args(kiln_bin, library, inputs, threads) +
              ["--bench", str(runs)]).stdout
    return float(re.search(r"median ([\d.]+) ms", out).group(1))


def bench_kiln(kiln_bin, onnx_path, inputs, workdir, runs, threads, level,
               flags=(), tag=""):
    library = os.path.join(workdir, f"model-O{level}{tag}.so")
    start = time.perf_counter()
    run([os.path.join(kiln_bin, "kiln-compile"), f"-O{level}", onnx_path,
         "-o", library, *COMPILE_FLAGS, *flags])
    compile_s = time.perf_counter() - start
    out_dir = os.path.join(workdir, f"kiln-out-O{level}{tag}")
    result = run(kiln_run_args(kiln_bin, library, inputs, threads) +
                 ["--output-dir", out_dir, "--bench", str(runs)])
    m = re.search(r"median ([\d.]+) ms, min ([\d.]+) ms", result.stdout)
    if not m:
        raise RuntimeError(f"no latency in kiln-run output:\n{result.stdout}")
    return library, compile_s, float(m.group(1)), float(m.group(2)), out_dir


def peak_rss_mib(kiln_bin, library, inputs, workdir, threads):
    """Peak resident set size of one kiln-run invocation, in MiB (None: no GNU time)."""
    if not os.access(TIME_BIN, os.X_OK):
        return None
    report = os.path.join(workdir, "time.txt")
    run([TIME_BIN, "-f", "%M", "-o", report] +
        kiln_run_args(kiln_bin, library, inputs, threads))
    kib = int(open(report).read().split()[-1])
    return kib / 1024.0


def bench_ort(onnx_path, inputs, workdir, runs, threads):
    out_dir = os.path.join(workdir, "ort-out")
    result = run(["node", os.path.join(REPO, "bench/ort_run.js"), onnx_path,
                  "--inputs", inputs, "--output-dir", out_dir, "--bench",
                  str(runs), "--threads", str(threads), "--quiet"])
    line = [l for l in result.stdout.splitlines() if l.startswith("{")][-1]
    info = json.loads(line)
    return (info["session_create_ms"] / 1000.0, info["median_ms"],
            info["min_ms"], info.get("ort_version", "?"), out_dir)


def machine_peak(workdir, threads):
    """bench/probe/peak.c's JSON: isa, fp32_gflops, read_gbps (None: no clang)."""
    compiler = shutil.which("clang-22") or shutil.which("clang")
    if not compiler:
        return None
    probe = os.path.join(workdir, "peak")
    run([compiler, "-O2", "-fopenmp", os.path.join(REPO, "bench/probe/peak.c"),
         "-o", probe, "-L/usr/lib/llvm-22/lib", "-Wl,-rpath,/usr/lib/llvm-22/lib"])
    return json.loads(run([probe, str(threads)]).stdout)


def int8_peak(workdir, threads):
    """bench/probe/int8_peak.c's JSON (None: no clang or no AVX2)."""
    compiler = shutil.which("clang-22") or shutil.which("clang")
    if not compiler:
        return None
    probe = os.path.join(workdir, "int8_peak")
    run([compiler, "-O2", "-fopenmp", os.path.join(REPO, "bench/probe/int8_peak.c"),
         "-o", probe, "-L/usr/lib/llvm-22/lib", "-Wl,-rpath,/usr/lib/llvm-22/lib"])
    try:
        return json.loads(run([probe, str(threads)]).stdout)
    except subprocess.CalledProcessError:
        return None


def sqnr_db(reference_dir, test_dir):
    """Signal to quantization-noise ratio of test's outputs against reference's."""
    signal = noise = 0.0
    for f in os.listdir(reference_dir):
        a = np.load(os.path.join(reference_dir, f)).astype(np.float64)
        b = np.load(os.path.join(test_dir, f)).astype(np.float64)
        signal += float(np.sum(a * a))
        noise += float(np.sum((a - b) ** 2))
    return float("inf") if noise == 0 else 10.0 * np.log10(signal / noise)


def int8_section(args, top):
    """The int8 tables (markdown lines; [] when none was asked for), the ONNX
    Runtime version and the int8 probe's ISA ("?" and None when unknown)."""
    if not args.int8_models and not args.int8_gemms:
        return [], "?", None
    lines, ort_version, probe_isa = [], "?", None
    if args.int8_models:
        lines += [f"int8 against the same model in fp32 (`kiln-compile -O{top}`): "
                  "int8 weights per output channel; activations quantized per "
                  "tensor at run time (`dynamic`: `--quantize=int8-dynamic`) or "
                  "with ranges calibrated beforehand (`static`: `--quantize=int8 "
                  "--calibration-data`, calibrated on the benchmark's own input "
                  "set: the timing does not depend on the data). SQNR: the int8 "
                  "outputs against Kiln's fp32 outputs. Compile time includes "
                  "calibration.",
                  "",
                  "| model | mode | Kiln fp32 median (ms) | Kiln int8 median "
                  "(ms) | int8 speedup | ORT fp32 median (ms) | Kiln int8 / ORT "
                  "fp32 | SQNR (dB) | int8 compile (s) |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for entry in args.int8_models:
            name, _, mode = entry.partition(":")
            mode = mode or "dynamic"
            if mode not in ("dynamic", "static"):
                raise SystemExit(f"--int8-models: unknown mode in '{entry}' "
                                 "(NAME, NAME:dynamic or NAME:static)")
            onnx_path, inputs = ensure_model(args.models_dir, name)
            flags = (["--quantize=int8-dynamic"] if mode == "dynamic" else
                     ["--quantize=int8", f"--calibration-data={inputs}"])
            with tempfile.TemporaryDirectory() as work:
                _, _, f_median, _, f_out = bench_kiln(
                    args.kiln_bin, onnx_path, inputs, work, args.runs,
                    args.threads, top)
                _, q_compile, q_median, _, q_out = bench_kiln(
                    args.kiln_bin, onnx_path, inputs, work, args.runs,
                    args.threads, top, flags, "-int8")
                _, o_median, _, ort_version, _ = bench_ort(
                    onnx_path, inputs, work, args.runs, args.threads)
                sqnr = sqnr_db(f_out, q_out)
            print(f"{name}: kiln fp32 {f_median:.2f} ms, int8 ({mode}) "
                  f"{q_median:.2f} ms, ORT fp32 {o_median:.2f} ms; SQNR "
                  f"{sqnr:.1f} dB", flush=True)
            lines.append(f"| {name} | {mode} | {f_median:.2f} | {q_median:.2f} | "
                         f"{f_median / q_median:.2f}x | {o_median:.2f} | "
                         f"{q_median / o_median:.2f}x | {sqnr:.1f} | "
                         f"{q_compile:.1f} |")
        lines.append("")
    if args.int8_gemms:
        with tempfile.TemporaryDirectory() as work:
            peak = int8_peak(work, args.threads)
        probe_isa = None if peak is None else peak["isa"]
        if peak is None:
            peak_text, peak_gops = "int8 peak unknown", None
        elif peak.get("vnni_gops"):
            peak_gops = peak["vnni_gops"]
            peak_text = (f"int8 peak {peak_gops:.0f} GOP/s (AVX-512 VNNI "
                         f"VPDPBUSD, {peak['threads']} threads)")
        else:
            peak_gops = peak["avx2_madd_gops"]
            peak_text = (f"int8 peak {peak_gops:.0f} GOP/s (AVX2 VPMADDWD, the "
                         f"exact route the kernel takes; {peak['threads']} "
                         "threads)")
        lines += [f"int8 GEMM: a QDQ MatMul (uint8 activation, int8 weight per "
                  f"column, float output), Kiln -O{top} and ONNX Runtime on the "
                  f"same model; {peak_text}. fp32: Kiln on the float product.",
                  "",
                  "| product (m x n x k) | Kiln int8 median (ms) | Kiln GOP/s | "
                  "share of int8 peak | Kiln fp32 median (ms) | int8 speedup | "
                  "ORT int8 median (ms) | ORT GOP/s | max abs diff |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name in args.int8_gemms:
            m, n, k, fp32_name = INT8_GEMMS[name]
            onnx_path, inputs = ensure_quantized_model(args.models_dir, name)
            f_path, f_inputs = ensure_quantized_model(args.models_dir, fp32_name)
            with tempfile.TemporaryDirectory() as work:
                _, _, median, _, out = bench_kiln(
                    args.kiln_bin, onnx_path, inputs, work, args.runs,
                    args.threads, top)
                _, _, f_median, _, _ = bench_kiln(
                    args.kiln_bin, f_path, f_inputs, work, args.runs,
                    args.threads, top, (), "-fp32")
                _, o_median, _, ort_version, o_out = bench_ort(
                    onnx_path, inputs, work, args.runs, args.threads)
                diff = max_difference(out, o_out)
            gops = 2.0 * m * n * k / median / 1e6
            share = "n/a" if peak_gops is None else f"{gops / peak_gops:.0%}"
            print(f"{name}: kiln int8 {median:.3f} ms ({gops:.0f} GOP/s, "
                  f"{share} of peak), fp32 {f_median:.3f} ms, ORT int8 "
                  f"{o_median:.3f} ms; max |diff| {diff:.2e}", flush=True)
            lines.append(
                f"| {name} ({m} x {n} x {k}) | {median:.3f} | {gops:.0f} | "
                f"{share} | {f_median:.3f} | {f_median / median:.2f}x | "
                f"{o_median:.3f} | {2.0 * m * n * k / o_median / 1e6:.0f} | "
                f"{diff:.1e} |")
        lines.append("")
    return lines, ort_version, probe_isa


def geomean(values):
    return float(np.exp(np.mean(np.log(values)))) if values else float("nan")


def max_difference(a_dir, b_dir):
    worst = 0.0
    for f in os.listdir(b_dir):
        a, b = np.load(os.path.join(a_dir, f)), np.load(os.path.join(b_dir, f))
        worst = max(worst, float(np.max(np.abs(a.astype(np.float64) - b))))
    return worst


def main():
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Run it with /usr/bin/python3 (it needs numpy, and torch to "
               "export missing models).")
    parser.add_argument("--models-dir", default=os.path.join(tempfile.gettempdir(),
                                                             "kiln-bench-models"))
    parser.add_argument("--models", nargs="*", default=DEFAULT_MODELS)
    parser.add_argument("--gemms", nargs="*", default=list(GEMMS),
                        choices=list(GEMMS))
    parser.add_argument("--int8-models", nargs="*", default=DEFAULT_INT8_MODELS,
                        help="models to time in int8 against fp32: NAME "
                             "(--quantize=int8-dynamic) or NAME:static "
                             "(--quantize=int8, calibrated on its inputs); "
                             "none: skip")
    parser.add_argument("--int8-gemms", nargs="*", default=list(INT8_GEMMS),
                        choices=list(INT8_GEMMS))
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--opt-levels", nargs="+", default=["1 2"],
                        metavar="LEVELS",
                        help="kiln-compile -O levels to time, e.g. \"1 2\" "
                             "(default) or 1 2 3; the highest is compared "
                             "with ONNX Runtime and gets the memory column")
    parser.add_argument("--cpu", default=None,
                        help="kiln-compile --cpu for every Kiln library, e.g. "
                             "x86-64-v3 for the AVX2 kernels on an AVX-512 "
                             "machine")
    parser.add_argument("--kiln-bin", default=os.path.join(REPO, "build/bin"))
    parser.add_argument("--report", default=os.path.join(REPO, "docs/performance.md"))
    args = parser.parse_args()
    if args.int8_models == ["none"]:
        args.int8_models = []
    try:
        levels = parse_opt_levels(args.opt_levels)
    except argparse.ArgumentTypeError as e:
        parser.error(str(e))
    top = levels[-1]
    if args.cpu:
        COMPILE_FLAGS.append(f"--cpu={args.cpu}")
    os.makedirs(args.models_dir, exist_ok=True)

    rows, ort_version = [], "?"
    for name in args.models:
        onnx_path, inputs = ensure_model(args.models_dir, name)
        with tempfile.TemporaryDirectory() as work:
            kiln, k_outs = {}, []
            for level in levels:
                library, compile_s, median, minimum, out = bench_kiln(
                    args.kiln_bin, onnx_path, inputs, work, args.runs,
                    args.threads, level)
                kiln[level] = (compile_s, median, minimum)
                k_outs.append(out)
                print(f"{name}: kiln -O{level} compile {compile_s:.1f} s, "
                      f"median {median:.2f} ms (min {minimum:.2f})", flush=True)
            rss = peak_rss_mib(args.kiln_bin, library, inputs, work, args.threads)
            o_create, o_median, o_min, ort_version, o_out = bench_ort(
                onnx_path, inputs, work, args.runs, args.threads)
            diff = max(max_difference(out, o_out) for out in k_outs)
        rows.append((name, kiln, rss, o_create, o_median, o_min, diff))
        rss_text = "n/a" if rss is None else f"{rss:.0f} MiB"
        print(f"{name}: kiln -O{top} peak RSS {rss_text}; ORT median "
              f"{o_median:.2f} ms (min {o_min:.2f}); max |diff| {diff:.2e}",
              flush=True)

    with tempfile.TemporaryDirectory() as work:
        peak = machine_peak(work, args.threads) if args.gemms else None
    gemm_rows = []
    for name in args.gemms:
        onnx_path, inputs = ensure_model(args.models_dir, name)
        with tempfile.TemporaryDirectory() as work:
            _, _, median, _, out = bench_kiln(args.kiln_bin, onnx_path, inputs,
                                              work, args.runs, args.threads, top)
            _, o_median, _, ort_version, o_out = bench_ort(
                onnx_path, inputs, work, args.runs, args.threads)
            diff = max_difference(out, o_out)
        gemm_rows.append((name, median, o_median, diff))
        print(f"{name}: kiln -O{top} median {median:.3f} ms; ORT median "
              f"{o_median:.3f} ms; max |diff| {diff:.2e}", flush=True)

    int8_lines, int8_ort, int8_isa = int8_section(args, top)
    if ort_version == "?":
        ort_version = int8_ort

    options = [("runs", args.runs), ("threads", args.threads),
               ("opt-levels", '"' + " ".join(map(str, levels)) + '"')]
    if args.models != DEFAULT_MODELS:
        options.insert(0, ("models", " ".join(args.models)))
    if args.gemms != list(GEMMS):
        options.insert(1, ("gemms", " ".join(args.gemms)))
    if args.int8_models != DEFAULT_INT8_MODELS:
        options.insert(2, ("int8-models", " ".join(args.int8_models)))
    if args.int8_gemms != list(INT8_GEMMS):
        options.insert(3, ("int8-gemms", " ".join(args.int8_gemms)))
    if args.cpu:
        options.append(("cpu", args.cpu))
    command = "/usr/bin/python3 bench/run_bench.py " + " ".join(
        f"--{k} {v}".rstrip() for k, v in options)
    header = ["model"]
    for level in levels:
        header += [f"{level_name(level)} compile (s)",
                   f"{level_name(level)} median (ms)"]
    header += [f"Kiln -O{top} min (ms)", f"Kiln -O{top} peak RSS (MiB)",
               "ORT session (s)", "ORT median (ms)", "ORT min (ms)",
               f"Kiln -O{top} / ORT", "max abs diff"]
    table = ["| " + " | ".join(header) + " |",
             "| --- |" + " ---: |" * (len(header) - 1)]
    for name, kiln, rss, oc, om, on, diff in rows:
        cells = [name]
        for level in levels:
            cells += [f"{kiln[level][0]:.1f}", f"{kiln[level][1]:.2f}"]
        cells += [f"{kiln[top][2]:.2f}", "n/a" if rss is None else f"{rss:.0f}",
                  f"{oc:.2f}", f"{om:.2f}", f"{on:.2f}",
                  f"{kiln[top][1] / om:.1f}x", f"{diff:.1e}"]
        table.append("| " + " | ".join(cells) + " |")
    ratios = [kiln[top][1] / om for _, kiln, _, _, om, _, _ in rows]
    summary = []
    if rows:
        summary = [f"Kiln -O{top} / ORT over these models: geometric mean "
                   f"{geomean(ratios):.2f}, worst {max(ratios):.2f}.", ""]
    gemm_table = []
    if gemm_rows:
        peak_text = ("peak unknown (no clang to build bench/probe/peak.c)"
                     if peak is None else
                     f"measured peak {peak['fp32_gflops']:.0f} GFLOP/s fp32 "
                     f"({peak['isa']}, {peak['threads']} threads); read "
                     f"bandwidth {peak['read_gbps']:.1f} GB/s from memory "
                     f"(512 MiB), {peak['read_gbps_64mib']:.1f} GB/s for "
                     "64 MiB (the GEMV weight's size, which a large L3 may "
                     "hold)")
        gemm_table = [f"GEMM microbenchmarks, one MatMul with a constant "
                      f"weight, Kiln -O{top}; {peak_text}. GEMV: its weight "
                      "(4 bytes an element) is read once per call.",
                      "",
                      "| product (m x n x k) | Kiln median (ms) | Kiln GFLOP/s "
                      "| Kiln share of peak | ORT median (ms) | ORT GFLOP/s "
                      "| max abs diff |",
                      "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for name, median, o_median, diff in gemm_rows:
            m, n, k = GEMMS[name]
            gflops = 2.0 * m * n * k / median / 1e6
            share = "n/a"
            if peak is not None and m == 1:
                gbps = 4.0 * n * k / median / 1e6
                share = (f"{gbps:.1f} GB/s: {gbps / peak['read_gbps_64mib']:.0%}"
                         f" of the 64 MiB read bandwidth")
            elif peak is not None:
                share = f"{gflops / peak['fp32_gflops']:.0%}"
            gemm_table.append(
                f"| {name} ({m} x {n} x {k}) | {median:.3f} | {gflops:.1f} | "
                f"{share} | {o_median:.3f} | "
                f"{2.0 * m * n * k / o_median / 1e6:.1f} | {diff:.1e} |")
        gemm_table.append("")
    isa = "" if peak is None else (
        f", {peak['isa'].upper().replace('AVX512', 'AVX-512')}"
        + (" + VNNI" if peak.get("vnni") else ""))
    if peak is None and int8_isa:
        isa = ", AVX-512 + VNNI" if int8_isa == "avx512vnni" else ", AVX2"
    if not isa:
        isa = host_isa()
    if args.cpu:
        isa += f" (Kiln built with --cpu={args.cpu})"
    about_models = [] if not rows else [
        f" Peak RSS: one kiln-run invocation at -O{top} (library load plus one "
        "inference), `/usr/bin/time -f %M`. Max abs diff: the worst Kiln "
        "level against ONNX Runtime."]
    section = "\n".join([
        f"## {datetime.date.today()}: {cpu_name()}{isa}, {os.cpu_count()} cores, "
        f"{args.threads} threads",
        "",
        f"Command: `{command}` (ONNX Runtime {ort_version}, "
        f"{args.runs} timed runs after 3 warm-ups, random inputs from "
        "python/kiln_models/export_models.py)." + "".join(about_models),
        "",
        *(table + [""] if rows else []),
        *summary,
        *gemm_table,
        *int8_lines])
    if args.report:
        title = "# Performance\n\n"
        generated = "Generated by bench/run_bench.py; newest first.\n\n"
        old = ""
        if os.path.exists(args.report):
            old = open(args.report).read()
            # The sections follow the title (and the line saying how they
            # were made), newest first, whether written by hand or here.
            old = old[len(title):] if old.startswith(title) else old
            old = old[len(generated):] if old.startswith(generated) else old
        header = title + generated
        with open(args.report, "w") as f:
            f.write(header + section + "\n" + old)
    print(section)


if __name__ == "__main__":
    main()
