#!/usr/bin/env python3
"""Summarize a kiln-compile --report JSON file, one line per change.

Usage: report_summary.py REPORT.json

Prints "PASS created LABEL N" and "PASS removed LABEL N" for every pass that
changed the graph (passes that run more than once are summed), then
"PASS fused N" with the number of fused groups, sorted for FileCheck.
"""

import collections
import json
import sys


def main():
    report = json.load(open(sys.argv[1]))
    counts = collections.Counter()
    for entry in report["passes"]:
        name = entry["pass"]
        for kind in ("created", "removed"):
            for label, n in entry[kind].items():
                counts[(name, kind, label)] += n
        if entry["fused"]:
            counts[(name, "fused", "")] += len(entry["fused"])
    for (name, kind, label), n in sorted(counts.items()):
        print(f"{name} {kind} {label} {n}".replace("  ", " "))
    print(f"kiln ops: {report['kiln_ops_imported']} -> {report['kiln_ops_optimized']}")


if __name__ == "__main__":
    main()
