#!/usr/bin/env python3
"""Write BERT encoder inputs at several (batch, seq) sizes, for dynamic-shape tests.

  bert_inputs.py OUTDIR BxS [BxS ...] [--seed N]

For each size BxS writes OUTDIR/bB_sS/input_ids.npy (int64 [B, S], random
token ids) and OUTDIR/bB_sS/attention_mask.npy (float32 [B, 1, 1, S],
additive: 0, then -10000 over a random padded tail per row), drawn the way
export_models.bert_inputs draws the exported models' inputs, for the small
encoder (BERT_SMALL: vocabulary 30522, at most 512 positions).  Each size has
its own seed (N, B, S), so the files do not depend on the other sizes listed.
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "python" / "kiln_models"))
from export_models import BERT_SMALL, bert_inputs  # noqa: E402


def size(text):
    try:
        batch, seq = (int(d) for d in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected BATCHxSEQ, got {text!r}")
    if batch < 1 or not 2 <= seq <= BERT_SMALL.max_positions:
        raise argparse.ArgumentTypeError(f"{text}: need batch >= 1 and 2 <= seq <= {BERT_SMALL.max_positions}")
    return batch, seq


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("outdir", type=Path)
    ap.add_argument("sizes", nargs="+", type=size, metavar="BxS")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    for batch, seq in args.sizes:
        d = args.outdir / f"b{batch}_s{seq}"
        d.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng([args.seed, batch, seq])
        for name, array in bert_inputs(BERT_SMALL, rng, batch=batch, seq_len=seq).items():
            np.save(d / f"{name}.npy", array, allow_pickle=False)
        print(d)


if __name__ == "__main__":
    main()
