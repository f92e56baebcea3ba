"""Inputs and numpy reference outputs of Inputs/control-flow.onnxtxt.

  control_flow_data.py DIR COND N

writes DIR/c.npy, X.npy, n.npy, S.npy and DIR/expected/{Y,Z,P,T,U}.npy for
the If condition COND (0 or 1) and the Loop trip count N.
"""

import sys
from pathlib import Path

import numpy as np

out = Path(sys.argv[1])
cond, trips = bool(int(sys.argv[2])), int(sys.argv[3])
(out / "expected").mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(7)
x = rng.standard_normal((2, 3)).astype(np.float32)
s = rng.standard_normal((4, 2)).astype(np.float32)
np.save(out / "c.npy", np.array(cond))
np.save(out / "X.npy", x)
np.save(out / "n.npy", np.array(trips, dtype=np.int64))
np.save(out / "S.npy", s)

expected = out / "expected"
np.save(expected / "Y.npy", np.maximum(x, 0) if cond else np.concatenate([x, x]))
np.save(expected / "Z.npy", -x)
# Loop: x doubles every iteration; each iteration's value is a scan slice.
slices, value = [], x
for _ in range(trips):
    value = value + value
    slices.append(value)
np.save(expected / "P.npy", np.stack(slices) if slices else np.zeros((0, 2, 3), np.float32))
np.save(expected / "T.npy", s.sum(axis=0))
np.save(expected / "U.npy", np.cumsum(s, axis=0))
