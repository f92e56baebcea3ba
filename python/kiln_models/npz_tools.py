#!/usr/bin/env python3
"""Small helpers for the .npz/.npy files Kiln's test models and reference tools use.

Commands:

  unpack INPUTS.npz DIR
      Write every array of INPUTS.npz (as written by export_models.py: keys are
      graph input names) to DIR/NAME.npy, one file per array.  DIR is created.

  compare A_DIR B_DIR [--rtol R] [--atol A]
      Compare the same-named .npy files of A_DIR and B_DIR (B is the
      reference).  For each file prints the max absolute error, the max
      relative error and the index of the worst element (the one with the
      largest |a - b| / (atol + rtol * |b|)).
      Element-wise rule:  |a - b| <= atol + rtol * |b|, and NaN matches only
      NaN (an infinity must match the same infinity).  Exits 1 if any file
      mismatches, differs in shape or dtype kind, or exists on one side only.

Run with /usr/bin/python3 (it has numpy).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Tuple

import numpy as np


def unpack(npz_path: Path, out_dir: Path) -> List[Path]:
    """Unpack npz_path into out_dir/NAME.npy; returns the written paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with np.load(npz_path, allow_pickle=False) as npz:
        for name in npz.files:
            if "/" in name or name in ("", ".", ".."):
                raise ValueError(f"{npz_path}: array name {name!r} is not a valid file name")
            arr = npz[name]
            if not arr.flags.c_contiguous:
                arr = arr.copy(order="C")  # (np.ascontiguousarray would make 0-d arrays 1-d)
            path = out_dir / f"{name}.npy"
            np.save(path, arr, allow_pickle=False)
            written.append(path)
    return written


def _as_float(x: np.ndarray) -> np.ndarray:
    # bool/int/float16/float32 -> float64 (integers are exact below 2**53).
    return x.astype(np.float64)


def compare_arrays(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> Tuple[bool, dict]:
    """Compare a against reference b.  Returns (ok, stats)."""
    stats = {"shape": tuple(b.shape), "dtype_a": str(a.dtype), "dtype_b": str(b.dtype)}
    if a.shape != b.shape:
        stats["error"] = f"shape mismatch {a.shape} vs {b.shape}"
        return False, stats
    if a.size == 0:
        stats.update(max_abs=0.0, max_rel=0.0, worst=None, bad=0)
        return True, stats
    af, bf = _as_float(a), _as_float(b)
    nan_a, nan_b = np.isnan(af), np.isnan(bf)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(af - bf)
        # Equal values (incl. equal infinities) have zero error.
        diff = np.where(af == bf, 0.0, diff)
        diff = np.where(nan_a & nan_b, 0.0, diff)
        diff = np.where(nan_a ^ nan_b, np.inf, diff)
        # Unequal infinities: inf - inf is nan, count it as an infinite error.
        diff = np.where(np.isnan(diff), np.inf, diff)
        # An infinite reference gets no tolerance: only the same infinity matches.
        tol = atol + rtol * np.abs(np.where(np.isfinite(bf), bf, 0.0))
        bad = diff > tol
        absb = np.abs(bf)
        rel = np.where(diff == 0, 0.0, diff / np.where(absb > 0, absb, np.nan))
        rel = np.where(np.isnan(rel), np.inf, rel)  # nonzero error against 0
        # How close each element is to the tolerance (> 1 fails); the worst
        # element is the one with the largest ratio.
        ratio = np.where(diff == 0, 0.0, diff / np.where(tol > 0, tol, np.nan))
        ratio = np.where(np.isnan(ratio), np.inf, ratio)
    n_bad = int(bad.sum())
    flat = int(np.argmax(ratio))
    worst = tuple(int(i) for i in np.unravel_index(flat, b.shape)) if b.ndim else ()
    stats.update(
        max_abs=float(diff.max()),
        max_rel=float(rel.max()),
        worst=worst,
        worst_a=af.reshape(-1)[flat].item(),
        worst_b=bf.reshape(-1)[flat].item(),
        bad=n_bad,
        size=int(b.size),
    )
    return n_bad == 0, stats


def compare_dirs(a_dir: Path, b_dir: Path, rtol: float, atol: float) -> bool:
    a_names = {p.stem for p in a_dir.glob("*.npy")}
    b_names = {p.stem for p in b_dir.glob("*.npy")}
    ok = True
    if not a_names and not b_names:
        print(f"compare: no .npy files in {a_dir} or {b_dir}")
        return False
    for name in sorted(a_names | b_names):
        if name not in a_names or name not in b_names:
            where = a_dir if name not in a_names else b_dir
            print(f"{name}: MISSING in {where}")
            ok = False
            continue
        a = np.load(a_dir / f"{name}.npy", allow_pickle=False)
        b = np.load(b_dir / f"{name}.npy", allow_pickle=False)
        good, s = compare_arrays(a, b, rtol, atol)
        if "error" in s:
            print(f"{name}: FAIL {s['error']}")
            ok = False
            continue
        kind_ok = (a.dtype.kind == b.dtype.kind) or (a.dtype.kind in "fc" and b.dtype.kind in "fc")
        dtype_note = "" if a.dtype == b.dtype else f" (dtype {a.dtype} vs {b.dtype})"
        if not kind_ok:
            good = False
            dtype_note += " dtype kind mismatch"
        status = "ok" if good else "FAIL"
        line = (f"{name}: {status} shape={list(s['shape'])} max_abs={s['max_abs']:.3e} "
                f"max_rel={s['max_rel']:.3e}")
        if s.get("worst") is not None:
            line += f" worst={list(s['worst'])} (a={s['worst_a']!r} b={s['worst_b']!r})"
        if s.get("bad"):
            line += f" mismatched={s['bad']}/{s['size']}"
        print(line + dtype_note)
        ok = ok and good
    return ok


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    u = sub.add_parser("unpack", help="write each array of an .npz to DIR/NAME.npy")
    u.add_argument("npz", type=Path)
    u.add_argument("out_dir", type=Path)
    u.add_argument("-q", "--quiet", action="store_true")
    c = sub.add_parser("compare", help="compare same-named .npy files of two directories (B is the reference)")
    c.add_argument("a_dir", type=Path)
    c.add_argument("b_dir", type=Path)
    c.add_argument("--rtol", type=float, default=1e-4)
    c.add_argument("--atol", type=float, default=1e-5)
    args = ap.parse_args(argv)

    if args.cmd == "unpack":
        for p in unpack(args.npz, args.out_dir):
            if not args.quiet:
                print(p)
        return 0
    for d in (args.a_dir, args.b_dir):
        if not d.is_dir():
            print(f"compare: {d} is not a directory", file=sys.stderr)
            return 2
    ok = compare_dirs(args.a_dir, args.b_dir, args.rtol, args.atol)
    print("compare: PASS" if ok else "compare: FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
