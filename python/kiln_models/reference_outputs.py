#!/usr/bin/env python3
"""Compute ONNX Runtime reference outputs for the exported test models.

For every NAME.onnx in MODEL_DIR that has NAME.inputs.npz beside it (as written
by export_models.py) this:

  1. unpacks the inputs to MODEL_DIR/NAME.inputs/NAME_OF_INPUT.npy, and
  2. runs bench/ort_run.js (ONNX Runtime, CPU execution provider, via node and
     the npm package onnxruntime-node) to write MODEL_DIR/NAME.ort/OUTPUT.npy.

Both directories are recreated from scratch on each run.  A short summary of
every output (dtype, shape, finiteness, range) is printed.  Compare Kiln's
outputs against them with:

  /usr/bin/python3 python/kiln_models/npz_tools.py compare KILN_OUT_DIR MODEL_DIR/NAME.ort \\
      --rtol 1e-3 --atol 1e-4

Usage:

  /usr/bin/python3 reference_outputs.py MODEL_DIR [--only NAME ...] [--skip NAME ...]
                                        [--threads T] [--node NODE]

A single model on inputs of your choice (e.g. other shapes of a model with
dynamic dims) -- a directory of INPUT_NAME.npy files or an .npz keyed by input
name -- writes OUT_DIR/OUTPUT.npy (OUT_DIR is recreated):

  /usr/bin/python3 reference_outputs.py MODEL.onnx --inputs DIR|NPZ --output-dir OUT_DIR
                                        [--threads T] [--node NODE]

Needs numpy, node, and bench/node_modules (scripts/setup.sh installs it).
Exits non-zero if any model failed or produced a non-finite output.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import npz_tools  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[2]
ORT_RUN = REPO_ROOT / "bench" / "ort_run.js"


def summarize(path: Path) -> tuple[str, bool]:
    a = np.load(path, allow_pickle=False)
    finite = True
    line = f"    {path.stem}: {a.dtype} {list(a.shape)}"
    if a.size and a.dtype.kind in "fc":
        n_bad = int(a.size - np.isfinite(a).sum())
        finite = n_bad == 0
        af = a[np.isfinite(a)]
        if af.size:
            line += f" min={af.min():.4g} max={af.max():.4g} mean={af.mean():.4g} std={af.std():.4g}"
        if n_bad:
            line += f" NON-FINITE={n_bad}"
    elif a.size and a.dtype.kind in "iub":
        line += f" min={a.min()} max={a.max()}"
    return line, finite


def run_model(model: Path, node: str, threads: int) -> bool:
    """NAME.inputs.npz -> NAME.inputs/ and ONNX Runtime's outputs in NAME.ort/."""
    name = model.name[: -len(".onnx")]
    npz = model.with_name(f"{name}.inputs.npz")
    in_dir = model.with_name(f"{name}.inputs")
    if in_dir.exists():
        shutil.rmtree(in_dir)
    npz_tools.unpack(npz, in_dir)
    return run_ort(model, in_dir, model.with_name(f"{name}.ort"), node, threads)


def run_ort(model: Path, inputs: Path, out_dir: Path, node: str, threads: int) -> bool:
    """Run ONNX Runtime on inputs (a directory of .npy files or an .npz) into out_dir."""
    name = model.name[: -len(".onnx")]
    if out_dir.exists():
        shutil.rmtree(out_dir)
    cmd = [node, str(ORT_RUN), str(model), "--inputs", str(inputs), "--output-dir", str(out_dir), "--quiet"]
    if threads:
        cmd += ["--threads", str(threads)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        print(f"{name}: FAILED (ort_run.js exit {proc.returncode})")
        return False
    outs = sorted(out_dir.glob("*.npy"))
    print(f"{name}: {len(outs)} output(s) in {out_dir} ({dt:.1f} s)")
    ok = bool(outs)
    for p in outs:
        line, finite = summarize(p)
        print(line)
        ok = ok and finite
    if not ok:
        print(f"{name}: FAILED (no outputs or non-finite values)")
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model_dir", type=Path, help="directory of NAME.onnx + NAME.inputs.npz, or one MODEL.onnx")
    ap.add_argument("--inputs", type=Path, help="with MODEL.onnx: a directory of INPUT.npy files or an .npz")
    ap.add_argument("--output-dir", type=Path, help="with MODEL.onnx: where to write OUTPUT.npy")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="only these models")
    ap.add_argument("--skip", nargs="+", metavar="NAME", default=[], help="skip these models")
    ap.add_argument("--threads", type=int, default=0, help="ONNX Runtime intra-op threads (default: all cores)")
    ap.add_argument("--node", default=os.environ.get("NODE", "node"), help="node executable (default: $NODE or node)")
    args = ap.parse_args(argv)

    if not ORT_RUN.is_file():
        print(f"reference_outputs: {ORT_RUN} not found", file=sys.stderr)
        return 2
    if not (REPO_ROOT / "bench" / "node_modules" / "onnxruntime-node").is_dir():
        print("reference_outputs: bench/node_modules/onnxruntime-node is missing; run scripts/setup.sh "
              "(or: cd bench && ONNXRUNTIME_NODE_INSTALL=skip npm ci)", file=sys.stderr)
        return 2
    if shutil.which(args.node) is None:
        print(f"reference_outputs: node executable {args.node!r} not found", file=sys.stderr)
        return 2

    if args.model_dir.suffix == ".onnx":
        if args.inputs is None or args.output_dir is None:
            ap.error("a single MODEL.onnx needs --inputs and --output-dir")
        if args.only or args.skip:
            ap.error("--only/--skip apply to a model directory, not to a single MODEL.onnx")
        for p in (args.model_dir, args.inputs):
            if not p.exists():
                print(f"reference_outputs: {p} not found", file=sys.stderr)
                return 2
        return 0 if run_ort(args.model_dir, args.inputs, args.output_dir, args.node, args.threads) else 1
    if args.inputs is not None or args.output_dir is not None:
        ap.error("--inputs/--output-dir need a single MODEL.onnx, not a model directory")

    models = sorted(p for p in args.model_dir.glob("*.onnx")
                    if p.with_name(p.name[: -len(".onnx")] + ".inputs.npz").is_file())
    names = {p.name[: -len(".onnx")] for p in models}
    if args.only:
        unknown = set(args.only) - names
        if unknown:
            print(f"reference_outputs: no NAME.onnx + NAME.inputs.npz for: {', '.join(sorted(unknown))}",
                  file=sys.stderr)
            return 2
        models = [p for p in models if p.name[: -len(".onnx")] in args.only]
    models = [p for p in models if p.name[: -len(".onnx")] not in args.skip]
    if not models:
        print(f"reference_outputs: no NAME.onnx with NAME.inputs.npz in {args.model_dir}", file=sys.stderr)
        return 2

    failed = [m.name for m in models if not run_model(m, args.node, args.threads)]
    if failed:
        print(f"reference_outputs: {len(failed)} of {len(models)} failed: {', '.join(failed)}")
        return 1
    print(f"reference_outputs: {len(models)} model(s) ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
