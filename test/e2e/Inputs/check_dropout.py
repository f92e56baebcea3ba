"""Runs the Dropout model of dropout-training.test through kiln-run with the
given ratio and training mode, and prints what the outputs show: the share of
dropped elements, whether the kept ones are scaled by 1 / (1 - ratio), and
whether the mask agrees with the output."""
import os
import subprocess
import sys

import numpy as np

kiln_run, so, work, ratio, training = sys.argv[1:6]
ratio, training = float(ratio), training == "true"
os.makedirs(work, exist_ok=True)
x = np.random.default_rng(0).uniform(1.0, 2.0, (64, 64)).astype(np.float32)
np.save(os.path.join(work, "X.npy"), x)
np.save(os.path.join(work, "R.npy"), np.array(ratio, np.float32))
np.save(os.path.join(work, "T.npy"), np.array(training))
out = os.path.join(work, "out")
subprocess.run([kiln_run, so, "--input", "X=" + os.path.join(work, "X.npy"),
                "--input", "R=" + os.path.join(work, "R.npy"),
                "--input", "T=" + os.path.join(work, "T.npy"),
                "--output-dir", out], check=True, stdout=subprocess.DEVNULL)
y, m, z = (np.load(os.path.join(out, n + ".npy")) for n in "YMZ")
kept = y != 0
scale = 1.0 / (1.0 - ratio) if training else 1.0
print(f"Y dropped {1 - kept.mean():.2f}")
print("Y kept scaled", bool(np.allclose(y[kept], x[kept] * scale, rtol=1e-6)))
print("M is the kept set", bool(np.array_equal(m, kept)))
zkept = z != 0
print(f"Z dropped {1 - zkept.mean():.2f}")
print("Z kept doubled", bool(np.allclose(z[zkept], x[zkept] * 2, rtol=1e-6)))
