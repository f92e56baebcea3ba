#!/usr/bin/env python3
"""Top-1 accuracy of classifier outputs, and whether one stays within a budget of another.

Usage: top1.py LABELS.npy REFERENCE.npy [CANDIDATE.npy --max-drop POINTS]

Prints the top-1 accuracy (in %) of the logits in REFERENCE.npy (and
CANDIDATE.npy) against the integer labels. With a candidate, exits with status
1 when its accuracy is more than --max-drop percentage points below the
reference's (e.g. an int8 model against its fp32 original).
"""

import argparse
import sys

import numpy as np


def top1(labels, logits_path):
    logits = np.load(logits_path)
    if logits.ndim != 2 or logits.shape[0] != labels.shape[0]:
        sys.exit(f"top1: {logits_path}: logits of shape {logits.shape} for "
                 f"{labels.shape[0]} labels")
    return float(np.mean(np.argmax(logits, axis=1) == labels)) * 100.0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("labels")
    ap.add_argument("reference")
    ap.add_argument("candidate", nargs="?")
    ap.add_argument("--max-drop", type=float, default=1.0)
    args = ap.parse_args(argv)
    labels = np.load(args.labels)
    reference = top1(labels, args.reference)
    print(f"reference top-1 {reference:.1f}%")
    if args.candidate is None:
        return 0
    candidate = top1(labels, args.candidate)
    drop = reference - candidate
    within = drop <= args.max_drop
    print(f"candidate top-1 {candidate:.1f}% ({-drop:+.1f} points): "
          f"{'within' if within else 'OUTSIDE'} {args.max_drop:g} points")
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
