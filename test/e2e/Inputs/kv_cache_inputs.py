"""Inputs of a decoder compiled with --bind-kv-cache, from a decode step's.

kv_cache_inputs.py SRC DST ROOM [--past-length N]

SRC holds a decode step's .npy inputs (input_ids, attention_mask,
past_key_I, past_value_I of [batch, heads, past, head_dim]). DST gets the
same inputs the way a caller of the bound model passes them: each cache as
one buffer with ROOM rows beyond the past, filled with 1e4 (a model that
read rows it should not would be far off), and kiln_past_length (the past
length, or N).
"""
import argparse
import os

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("room", type=int)
    ap.add_argument("--past-length", type=int)
    args = ap.parse_args()
    os.makedirs(args.dst, exist_ok=True)
    past = None
    for name in sorted(os.listdir(args.src)):
        value = np.load(os.path.join(args.src, name))
        if name.startswith("past_"):
            past = value.shape[2]
            room = np.full(value.shape[:2] + (args.room,) + value.shape[3:], 1e4,
                           value.dtype)
            value = np.concatenate([value, room], axis=2)
        np.save(os.path.join(args.dst, name), value)
    length = past if args.past_length is None else args.past_length
    np.save(os.path.join(args.dst, "kiln_past_length.npy"),
            np.array([length], np.int64))


if __name__ == "__main__":
    main()
