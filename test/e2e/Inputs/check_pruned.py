"""Compares the channels kiln-prune-channels removed (the compile report's
"pruned" entries) with those a model script zeroed (NAME.pruned.json: the
first node of each layer -> count). Prints one line per layer and whether
they agree exactly."""
import json
import sys

report = json.load(open(sys.argv[1]))
zeroed = json.load(open(sys.argv[2]))
removed = {}
for entry in report["passes"]:
    for layer in entry.get("pruned", []):
        removed[layer["nodes"][0]] = (layer["removed"], layer["of"])
for name in sorted(set(removed) | set(zeroed)):
    count, of = removed.get(name, (0, 0))
    print(f"layer {name}: removed {count} of {of}, zeroed {zeroed.get(name, 0)}")
print("exact", all(removed.get(n, (0, 0))[0] == c for n, c in zeroed.items())
      and set(removed) == set(zeroed))
