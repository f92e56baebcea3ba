"""Checks a Chrome trace written by kiln-run --profile: RUNS "run"
intervals, every kernel interval inside one of them, and the kernel names
those kiln-run printed (read from stdin). Prints a summary FileCheck reads."""
import json
import sys

trace_path, runs = sys.argv[1], int(sys.argv[2])
printed = [line.rstrip("\n").split(None, 3)[3] for line in sys.stdin
           if line[:1] == " " and "%" in line and "more kernels" not in line]
events = json.load(open(trace_path))["traceEvents"]
run_events = [e for e in events if e["cat"] == "run"]
kernels = [e for e in events if e["cat"] == "kernel"]
assert len(run_events) == runs, (len(run_events), runs)
for e in events:
    assert e["ph"] == "X" and e["dur"] >= 0 and e["ts"] >= 0, e
# Kernels nest in their runs (1 us of slack for rounding).
for k in kernels:
    assert any(r["ts"] - 1 <= k["ts"] and
               k["ts"] + k["dur"] <= r["ts"] + r["dur"] + 1
               for r in run_events), k
names = sorted({k["name"] for k in kernels})
assert sorted(printed) == names, (printed, names)
print(f"trace ok: {len(run_events)} runs, {len(kernels) // runs} kernels a run")
for name in names:
    print("kernel", name)
