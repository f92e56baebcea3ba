#!/usr/bin/env python3
"""Kiln's per-kernel times against ONNX Runtime's per-node times, by scope.

    kiln-compile MODEL.onnx --profile -o model.so
    kiln-run model.so --input ... --threads T --bench N --profile=kiln.json
    node bench/ort_run.js MODEL.onnx --inputs ... --threads T --bench N \
        --profile ort            # writes ort_<date>.json
    python3 bench/compare_profiles.py kiln.json ort_<date>.json --depth 4

The two runtimes fuse and rename nodes differently (ONNX Runtime names a
node it rewrote after its output, "..._output_0_nchwc"), so the times are
compared per scope: the first DEPTH components of the "/"-separated node
path that torch exporters write ("/features/features.2" at depth 2, one
MobileNetV2 block; deeper scopes may split a fused group that the two name
differently). A Kiln kernel counts under its first ONNX node's scope. Times are
means per run, in microseconds. ONNX Runtime's profiler adds its own cost
per node; with one thread it stays small (MobileNetV2: 8.3 against 7.8 ms).
"""

import argparse
import collections
import json


def scope(name, depth):
    """The first `depth` components of a node's path; a shorter path less
    its last component (the op); a name without a path as it is."""
    parts = [p for p in name.split("/") if p]
    if len(parts) <= 1:
        return name
    return "/" + "/".join(parts[:depth] if len(parts) > depth else parts[:-1])


def kiln_times(path, depth):
    events = json.load(open(path))["traceEvents"]
    runs = sum(1 for e in events if e["cat"] == "run")
    times = collections.defaultdict(float)
    for e in events:
        if e["cat"] == "kernel":
            # "NODE +N [Types]": the first node's name.
            times[scope(e["name"].split(" ")[0], depth)] += e["dur"]
    return {k: v / max(runs, 1) for k, v in times.items()}, runs


def ort_times(path, depth):
    events = json.load(open(path))
    runs = sum(1 for e in events
               if e.get("cat") == "Session" and e.get("name") == "model_run")
    times = collections.defaultdict(float)
    suffix = "_kernel_time"
    for e in events:
        name = e.get("name", "")
        if e.get("cat") == "Node" and name.endswith(suffix):
            times[scope(name[:-len(suffix)], depth)] += e["dur"]
    return {k: v / max(runs, 1) for k, v in times.items()}, runs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kiln_trace")
    parser.add_argument("ort_profile")
    parser.add_argument("--depth", type=int, default=3,
                        help="path components that name a scope (3)")
    args = parser.parse_args()
    kiln, kiln_runs = kiln_times(args.kiln_trace, args.depth)
    ort, ort_runs = ort_times(args.ort_profile, args.depth)
    print(f"Kiln: {kiln_runs} runs, ONNX Runtime: {ort_runs} runs; "
          "microseconds per run")
    print(f"| scope | Kiln (us) | ONNX Runtime (us) | Kiln / ORT |")
    print("| --- | ---: | ---: | ---: |")
    for name in sorted(set(kiln) | set(ort),
                       key=lambda n: -max(kiln.get(n, 0), ort.get(n, 0))):
        k, o = kiln.get(name, 0.0), ort.get(name, 0.0)
        ratio = f"{k / o:.2f}" if k and o else ""
        print(f"| {name} | {k:.1f} | {o:.1f} | {ratio} |")
    k, o = sum(kiln.values()), sum(ort.values())
    print(f"| total | {k:.1f} | {o:.1f} | {k / o if o else 0:.2f} |")


if __name__ == "__main__":
    main()
