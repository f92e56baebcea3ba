#!/usr/bin/env python3
"""Accuracy against the pruning ratio on trained models: the digits CNN and
transformer (python/kiln_models/train_digits.py, trained here on
scikit-learn's digits) compiled with --prune at 10, 30 and 50 %, evaluated
on the 500 held-out images.

    /usr/bin/python3 bench/prune_accuracy.py [--ratios 0.1 0.3 0.5]
                                             [--workdir DIR] [--reuse]

The CNN gets --prune=channels:R,ffn:R (its first conv's channels, which the
second conv loses too, and its hidden linear layer's neurons); the
transformer --prune=ffn:R,heads:R (its FFN neurons and floor(R * 4) of each
layer's four heads). For each ratio: what the compile report says went, the
top-1 accuracy, and the logits' relative L2 change against the unpruned
compile. Prints a Markdown section for docs/performance.md.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLANS = {
    "cnn": "channels:{r},ffn:{r}",
    "transformer": "ffn:{r},heads:{r}",
}


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


def removed(report_path):
    """kind -> (removed, of) summed over the report's pruned entries."""
    totals = {}
    for entry in json.load(open(report_path))["passes"]:
        for layer in entry.get("pruned", []):
            got = totals.get(layer["kind"], (0, 0))
            totals[layer["kind"]] = (got[0] + layer["removed"],
                                     got[1] + layer["of"])
    return totals


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratios", type=float, nargs="+", default=[0.1, 0.3, 0.5])
    parser.add_argument("--kiln-bin", default=os.path.join(REPO, "build", "bin"))
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--reuse", action="store_true",
                        help="keep trained models already in --workdir")
    args = parser.parse_args()
    work = args.workdir or tempfile.mkdtemp(prefix="kiln-prune-accuracy-")
    if not (args.reuse and os.path.exists(os.path.join(work, "digits_cnn.onnx"))):
        print(run([sys.executable,
                   os.path.join(REPO, "python/kiln_models/train_digits.py"),
                   work]).stdout, file=sys.stderr)
    labels = np.load(os.path.join(work, "digits_test", "labels.npy"))
    compile_bin = os.path.join(args.kiln_bin, "kiln-compile")
    run_bin = os.path.join(args.kiln_bin, "kiln-run")
    rows = []
    for name, plan in PLANS.items():
        onnx_path = os.path.join(work, f"digits_{name}.onnx")
        test_input = os.path.join(work, "digits_test", name, "input.npy")
        reference = None
        for ratio in [0.0, *args.ratios]:
            tag = f"{name}-{ratio}"
            library = os.path.join(work, f"{tag}.so")
            report = os.path.join(work, f"{tag}.json")
            flags = [f"--prune={plan.format(r=ratio)}"] if ratio > 0 else []
            run([compile_bin, onnx_path, "-o", library, f"--report={report}",
                 *flags])
            out_dir = os.path.join(work, f"{tag}.out")
            run([run_bin, library, "--input", f"input={test_input}",
                 "--output-dir", out_dir])
            logits = np.load(os.path.join(out_dir, "logits.npy"))
            if reference is None:
                reference = logits
            accuracy = float(np.mean(np.argmax(logits, axis=1) == labels)) * 100
            change = float(np.linalg.norm(logits - reference) /
                           np.linalg.norm(reference))
            rows.append((name, ratio, flags[0][8:] if flags else "-",
                         removed(report), accuracy, change))

    print("## Criterion pruning: accuracy against the ratio (digits models)")
    print()
    print("Command: `/usr/bin/python3 bench/prune_accuracy.py --ratios "
          f"{' '.join(str(r) for r in args.ratios)}`. The models are trained "
          "here (python/kiln_models/train_digits.py, deterministic); top-1 on "
          "the 500 held-out images; logits change: relative L2 against the "
          "unpruned compile.")
    print()
    print("| model | ratio | --prune | removed (report) | top-1 | logits change |")
    print("| --- | ---: | --- | --- | ---: | ---: |")
    for name, ratio, spec, gone, accuracy, change in rows:
        what = ", ".join(f"{n} of {of} {kind}"
                         for kind, (n, of) in sorted(gone.items())) or "-"
        print(f"| digits_{name} | {ratio:.0%} | {spec} | {what} | "
              f"{accuracy:.1f}% | {change:.3f} |")


if __name__ == "__main__":
    main()
