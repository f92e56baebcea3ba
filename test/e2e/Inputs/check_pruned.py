"""Compares what kiln-prune-channels removed (the compile report's "pruned"
entries) with what a model script zeroed (NAME.pruned.json: the first node
of each layer -> count, or "heads SCOPE" -> heads of the attention under
SCOPE). Prints one line per layer and whether they agree exactly."""
import json
import sys

report = json.load(open(sys.argv[1]))
zeroed = json.load(open(sys.argv[2]))
removed = {}
for entry in report["passes"]:
    for layer in entry.get("pruned", []):
        first = layer["nodes"][0]
        if layer["kind"] == "heads":
            scope = "heads " + "/".join(first.split("/")[:-1])
            removed[scope] = (layer["removed"], layer["of"], layer["kind"])
        else:
            removed[first] = (layer["removed"], layer["of"], layer["kind"])
for name in sorted(set(removed) | set(zeroed)):
    count, of, kind = removed.get(name, (0, 0, "?"))
    print(f"layer {name}: removed {count} of {of} {kind}, zeroed {zeroed.get(name, 0)}")
print("exact", all(removed.get(n, (0, 0, ""))[0] == c for n, c in zeroed.items())
      and set(removed) == set(zeroed))
